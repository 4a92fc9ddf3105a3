# test_docs.sh - every command in docs/walkthrough.md and README.md that can
# run against the lab does, in order, so the docs cannot drift from the code.
source "$TOP/tests/integration/lib.sh"
SECRET_VALUE=correct-horse-battery-staple

# The variables a step leaves for the next ones (not the shell's own).
save_state() {
    export -p | grep -vE '^declare -[a-zA-Z]*r|^declare -x (PWD|OLDPWD|SHLVL|_)='
}

# run_doc FILE: each step in its own `bash -e -a` (so a failing command fails
# the step and every variable it sets reaches the next steps).
run_doc() {
    local doc=$1 kind line n=0 code state=$TMP/state
    lab_start
    export RESOURCE_GROUP=$LAB_RESOURCE_GROUP IDENTITY_NAME=$LAB_IDENTITY_NAME \
        VAULT_NAME=$LAB_VAULT_NAME KEY_NAME=$LAB_KEY_NAME \
        CLIENT_ID=$LAB_CLIENT_ID TENANT_ID=$LAB_TENANT_ID \
        IDENTITY_ID=$LAB_IDENTITY_ID KEY_URL=$LAB_KEY_URL
    rm -rf "$TMP/repo"; cp -r "$TOP/tests/lab/seed" "$TMP/repo"
    save_state >"$state"
    while IFS= read -r kind; do
        code=""
        while IFS= read -r line && [[ $line != '\0END' ]]; do code+="$line"$'\n'; done
        n=$((n + 1))
        if [[ $kind == push ]]; then
            step "$doc step $n: commit and push (copy to the lab's repository), reconcile"
            cp -r "$TMP/repo/." "$LAB_REPO_DIR/" || fail "push"
            labctl reconcile flux-system >/dev/null && labctl reconcile apps >/dev/null ||
                fail "reconcile after push"
            continue
        fi
        step "$doc step $n ($kind)"
        printf '%s' "$code"
        run bash -e -a -c "source '$state'; cd '$TMP/repo'; $code
$(declare -f save_state); save_state >'$state.next'"
        printf '%s\n%s\n' "$OUT" "$ERR"
        if [[ $kind == run ]]; then
            expect_rc 0
            mv "$state.next" "$state"
        else
            [[ $RC != 0 ]] || fail "step $n should fail"
        fi
        if [[ $code != *--show-values* ]]; then
            expect_no_out "$SECRET_VALUE"; expect_no_err "$SECRET_VALUE"
        fi
    done < <("$TOP/tests/tools/doc-blocks.sh" "$TOP/$doc")
    ((n > 0)) || fail "$doc has no runnable steps"
    "$TOP/tests/lab/stop" "$LAB_DIR" >/dev/null
}

step "troubleshooting.md covers every link check reports and every verdict"
links=$(grep -ho 'wi_link_add(c, "[a-z-]*"' "$TOP"/plugins/fluxwi/*.c | cut -d'"' -f2 | sort -u)
[[ -n $links ]] || fail "no link names found in plugins/fluxwi"
for l in $links; do
    grep -q "^### $l\b" "$TOP/docs/troubleshooting.md" || fail "troubleshooting.md lacks the link $l"
done
for v in OK MISSING ENCRYPTED MISMATCH ERROR; do
    grep -q "^| \`$v\` |" "$TOP/docs/troubleshooting.md" || fail "troubleshooting.md lacks the verdict $v"
done
for code in 2 3 51 128 203; do
    grep -q "^| $code |" "$TOP/docs/troubleshooting.md" || fail "troubleshooting.md lacks exit $code"
done

run_doc docs/walkthrough.md
expect_out "$SECRET_VALUE"      # the last step shows the value, as the seed's did
run_doc README.md
echo "docs ran"
