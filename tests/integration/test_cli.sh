# test_cli.sh - the shared command-line layer, as users meet it.
source "$TOP/tests/integration/lib.sh"
PLUGINS=(fluxwi sopsenc sopsverify)

step "kubectl finds the three plugins, without warnings"
mkdir -p "$TMP/path"
for p in "${PLUGINS[@]}"; do ln -s "$BIN_DIR/kubectl-$p" "$TMP/path/kubectl-$p"; done
run env PATH="$TMP/path:/usr/bin:/bin" kubectl plugin list
expect_rc 0
for p in "${PLUGINS[@]}"; do expect_out "$TMP/path/kubectl-$p"; done
expect_no_err "warning"

step "help through kubectl"
run env PATH="$TMP/path:/usr/bin:/bin" kubectl sopsenc --help
expect_rc 0
expect_out "Usage:"
expect_out "kubectl sopsenc [command] [flags]"
expect_out "Available Commands:"
for p in "${PLUGINS[@]}"; do
    run kubectl-$p --help; expect_rc 0; expect_out "kubectl $p"
    run kubectl-$p help; expect_rc 0; expect_out "Available Commands:"
done
run kubectl-fluxwi patch --help
expect_rc 0
expect_out "kubectl fluxwi patch --client-id ID"
expect_out "--flux-namespace NS"
expect_out "(default flux-system)"
run kubectl-fluxwi help patch
expect_rc 0; expect_out "kubectl fluxwi patch --client-id ID"

step "unknown flags and commands are usage errors"
run kubectl-sopsenc --bogus
expect_rc 2
expect_err "unknown flag: --bogus"
expect_err "kubectl sopsenc --help"
run kubectl-fluxwi patch --client-id
expect_rc 2; expect_err "flag needs an argument: --client-id"
expect_err "kubectl fluxwi patch --help"
run kubectl-fluxwi frobnicate
expect_rc 2; expect_err 'unknown command "frobnicate"'
run kubectl-sopsverify -o yaml
expect_rc 2; expect_err 'unsupported output format "yaml"'
run kubectl-fluxwi check --request-timeout soon
expect_rc 2; expect_err 'invalid duration "soon"'

step "version, in the contract's format"
for p in "${PLUGINS[@]}"; do
    run kubectl-$p --version
    expect_rc 0
    [[ $OUT =~ ^kubectl-$p\ v[0-9]+\.[0-9]+\.[0-9]+\ \(commit\ [0-9a-f]{7}|unknown,\ built\ [0-9]{4}-[0-9]{2}-[0-9]{2}\)$ ]] ||
        fail "version line: $OUT"
    run kubectl-$p version
    expect_rc 0; expect_out "kubectl-$p v"
done
commit=$(git -C "$TOP" rev-parse --short=7 HEAD 2>/dev/null || true)
[[ -z $commit ]] || { run kubectl-fluxwi --version; expect_out "commit $commit"; }

step "__complete and the kubectl_complete helper agree"
for p in "${PLUGINS[@]}"; do ln -s "kubectl-$p" "$TMP/path/kubectl_complete-$p"; done
run kubectl-fluxwi __complete patch --client-id ""
expect_rc 0
direct=$OUT
run "$TMP/path/kubectl_complete-fluxwi" patch --client-id ""
expect_eq "$OUT" "$direct" "helper output"
expect_eq "${OUT##*$'\n'}" ":4" "directive after --client-id"
run kubectl-fluxwi __complete patch --na
expect_out $'--namespace\t'
expect_no_out "--client-id"
run kubectl-fluxwi __completeNoDesc patch --na
expect_eq "$OUT" $'--namespace\n:4'
run kubectl-fluxwi __complete patch -o ""
expect_eq "$OUT" $'yaml\njson\n:4'
run kubectl-fluxwi __complete patch --output=j
expect_eq "$OUT" $'--output=json\n:4'
run kubectl-fluxwi __complete ch
expect_out $'check\t'
expect_no_out "patch"
run kubectl-sopsenc __complete --input-type ""
expect_out "dotenv"
run kubectl-sopsenc __complete decrypt ""
expect_eq "$OUT" $'yaml\nyml\njson\n:8'
run kubectl-fluxwi __complete generate --dir ""
expect_eq "$OUT" ":16"

step "kubectl completes the plugin through the helper"
run env PATH="$TMP/path:/usr/bin:/bin" kubectl __complete fluxwi patch --na
expect_rc 0
expect_out "--namespace"
run env PATH="$TMP/path:/usr/bin:/bin" kubectl __complete flux
expect_out "fluxwi"

step "completion kubectl creates the helper link"
mkdir -p "$TMP/krewbin"
ln -s "$BIN_DIR/kubectl-sopsverify" "$TMP/krewbin/kubectl-sopsverify"
run env PATH="$TMP/krewbin:/usr/bin:/bin" kubectl-sopsverify completion kubectl
expect_rc 0
expect_eq "$(readlink "$TMP/krewbin/kubectl_complete-sopsverify")" "kubectl-sopsverify"
run "$TMP/krewbin/kubectl_complete-sopsverify" secret --show
expect_out "--show-values"

step "bash completion script"
run kubectl-fluxwi completion bash
expect_rc 0
kubectl-fluxwi completion bash >"$TMP/fluxwi.bash"
bash -n "$TMP/fluxwi.bash" || fail "bash script does not parse"
run bash --norc --noprofile -c "
    source /usr/share/bash-completion/bash_completion
    source '$TMP/fluxwi.bash'
    COMP_LINE='kubectl-fluxwi patch --na'; COMP_POINT=\${#COMP_LINE}
    COMP_WORDS=(kubectl-fluxwi patch --na); COMP_CWORD=2
    __fluxwi_complete kubectl-fluxwi --na patch
    printf '%s\n' \"\${COMPREPLY[@]}\""
expect_rc 0
expect_eq "$OUT" "--namespace" "bash candidates"
run bash --norc --noprofile -c "
    source /usr/share/bash-completion/bash_completion
    source '$TMP/fluxwi.bash'
    COMP_LINE='kubectl-fluxwi '; COMP_POINT=\${#COMP_LINE}
    COMP_WORDS=(kubectl-fluxwi ''); COMP_CWORD=1
    __fluxwi_complete kubectl-fluxwi '' kubectl-fluxwi
    printf '%s\n' \"\${COMPREPLY[@]}\""
expect_out "generate"
expect_out "issuer"

step "zsh and fish scripts load"
if command -v zsh >/dev/null; then
    kubectl-fluxwi completion zsh >"$TMP/_kubectl-fluxwi"
    run zsh -fc "autoload -U compinit; compinit -u -d '$TMP/zcd'; source '$TMP/_kubectl-fluxwi'; whence -w __fluxwi_complete"
    expect_rc 0; expect_out "function"
fi
if command -v fish >/dev/null; then
    kubectl-fluxwi completion fish >"$TMP/fluxwi.fish"
    run env HOME="$TMP" fish --no-config -c "source '$TMP/fluxwi.fish'; complete -C 'kubectl-fluxwi patch --na'"
    expect_rc 0; expect_out "--namespace"
fi
run kubectl-fluxwi completion powershell
expect_rc 2

step "man pages from the same tables"
mkdir -p "$TMP/man"
run kubectl-fluxwi __man "$TMP/man"
expect_rc 0
for page in kubectl-fluxwi kubectl-fluxwi-check kubectl-fluxwi-patch \
            kubectl-fluxwi-unpatch kubectl-fluxwi-generate kubectl-fluxwi-issuer; do
    [[ -s $TMP/man/$page.1 ]] || fail "missing man page $page.1"
done
grep -q '^\.SH OPTIONS' "$TMP/man/kubectl-fluxwi-patch.1" || fail "no OPTIONS section"
grep -q 'client\\-id' "$TMP/man/kubectl-fluxwi-patch.1" || fail "no --client-id in the man page"
if command -v man >/dev/null; then
    run man -l "$TMP/man/kubectl-fluxwi-patch.1"
    expect_rc 0; expect_out "SYNOPSIS"
fi
echo "all CLI checks passed"
