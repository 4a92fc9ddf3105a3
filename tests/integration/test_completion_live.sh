# test_completion_live.sh - completion of live names from the cluster, and
# completion that never breaks when the cluster is away.
source "$TOP/tests/integration/lib.sh"
lab_start
mkdir -p "$TMP/path"
for p in fluxwi sopsenc sopsverify; do
    ln -s "$BIN_DIR/kubectl-$p" "$TMP/path/kubectl-$p"
    ln -s "kubectl-$p" "$TMP/path/kubectl_complete-$p"
done

step "namespaces, Secrets, Kustomizations, contexts"
run kubectl-fluxwi __complete check -n ""
expect_rc 0
expect_out "flux-system"; expect_out "kube-system"
expect_eq "${OUT##*$'\n'}" ":4" "directive"
run kubectl-fluxwi __complete check --flux-namespace fl
expect_eq "$OUT" $'flux-system\n:4' "prefix-filtered namespaces"
run kubectl-sopsverify __complete secret -n flux-system ""
expect_out "flux-system"
run kubectl-sopsverify __complete --kustomization ""
expect_out "flux-system"
run kubectl-sopsverify __complete --context ""
expect_out "lab"; expect_out "lab-restricted"

step "through kubectl, as a user's TAB would ask"
run env PATH="$TMP/path:$PATH" kubectl __complete sopsverify secret -n flux-system ""
expect_rc 0
expect_out "flux-system"

step "the typed --context is used: a restricted user cannot list Secrets, so none"
run kubectl-sopsverify __complete secret --context lab-restricted -n flux-system ""
expect_rc 0
expect_eq "$OUT" ":4" "no candidates when Forbidden"
expect_eq "$ERR" "" "no error output"

step "an unreachable cluster: no candidates, no error, quickly"
sed 's#server: .*#server: https://127.0.0.1:9#' "$KUBECONFIG" >"$TMP/away.kubeconfig"
start=$(date +%s)
run kubectl-fluxwi __complete check --kubeconfig "$TMP/away.kubeconfig" -n ""
expect_rc 0
expect_eq "$OUT" ":4" "candidates"
expect_eq "$ERR" "" "stderr"
(( $(date +%s) - start <= 6 )) || fail "completion took too long"
