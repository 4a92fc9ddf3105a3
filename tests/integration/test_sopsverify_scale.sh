# test_sopsverify_scale.sh - 1000 Secrets in one namespace are verified with
# exactly one LIST request (the lab's counters), values compared for all of
# them, and the odd ones out found; pagination gives the same verdicts.
source "$TOP/tests/integration/lib.sh"
source "$TOP/tests/fixtures/sopsverify/lib.sh"

N=1000
lab_start
cd "$TMP" || fail "no TMP"
new_age_key "$TMP/age.key"
make_scale_secrets "$N" scale "$TMP/plain.yaml" "$TMP/scenario.yaml" \
    "s0007=changed-by-hand" "s0008=changed-by-hand" "s0500=" ||
    fail "could not write the manifests"
run kubectl-sopsenc --age "$(sed -n 's/^# public key: //p' "$TMP/age.key")" \
    "$TMP/plain.yaml" --output "$TMP/enc.yaml"
expect_rc 0
rm -f "$TMP/plain.yaml"
labctl scenario "$TMP/scenario.yaml" >/dev/null || fail "scenario"

step "$N Secrets (one missing, one different): exactly one LIST"
labctl counters --reset >/dev/null
run env SOPS_AGE_KEY_FILE="$TMP/age.key" kubectl-sopsverify "$TMP/enc.yaml" \
    --decrypt
expect_rc 1
cat >>"$TMP/all.log" <<<"$OUT$ERR"
expect_out "$N Secrets: 997 OK, 1 MISSING, 2 MISMATCH"
expect_out "scale/s0500: MISSING"
expect_out "scale/s0007: MISMATCH"
expect_out "scale/s0008: MISMATCH"
expect_out "value differs: value"
labctl counters >"$TMP/counters.json"
expect_eq "$(counter k8s.list.secrets "$TMP/counters.json")" 1 "LIST requests"
expect_eq "$(counter k8s.get.secrets "$TMP/counters.json")" 0 "GET requests"

step "without --decrypt: keys only, the same single LIST"
labctl counters --reset >/dev/null
run kubectl-sopsverify "$TMP/enc.yaml" -o json
expect_rc 1
cat >>"$TMP/all.log" <<<"$OUT$ERR"
expect_out '"OK": 999'
expect_out '"MISSING": 1'
labctl counters >"$TMP/counters.json"
expect_eq "$(counter k8s.list.secrets "$TMP/counters.json")" 1 "LIST requests"
# the one MISSING Secret costs one LIST of Kustomizations (its owner)
expect_eq "$(counter k8s.list.kustomizations "$TMP/counters.json")" 1 \
    "Kustomization LISTs"
expect_eq "$(counter k8s.requests "$TMP/counters.json")" 2 "requests in all"

step "small pages: continue tokens followed, same verdicts"
labctl counters --reset >/dev/null
run env SOPSVERIFY_PAGE_SIZE=300 kubectl-sopsverify "$TMP/enc.yaml"
expect_rc 1
cat >>"$TMP/all.log" <<<"$OUT$ERR"
expect_out "$N Secrets: 999 OK, 1 MISSING"
labctl counters >"$TMP/counters.json"
expect_eq "$(counter k8s.list.secrets "$TMP/counters.json")" 4 "LIST pages"

step "no planted value in any output"
grep -q "planted-scale-\|changed-by-hand" "$TMP/all.log" &&
    fail "a planted value appeared in an output"
true
