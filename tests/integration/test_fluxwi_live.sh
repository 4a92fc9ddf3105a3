# test_fluxwi_live.sh - `kubectl fluxwi` issuer, patch, unpatch and check
# against the lab: a fresh cluster, the fix, every broken link on its own.
source "$TOP/tests/integration/lib.sh"
lab_start
NS=flux-system
CTL=kustomize-controller
WRONG_ID=0badc0de-0000-4000-8000-000000000000

# results: the links of the last `check -o json` with RESULT $1, comma-separated.
results() {
    printf '%s' "$OUT" | node -e '
        const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
        process.stdout.write(d.links.filter(l => l.result === process.argv[1]).map(l => l.name).join(","));
    ' "$1"
}
# remedy NAME: the remedy of link NAME in the last `check -o json`.
remedy() {
    printf '%s' "$OUT" | node -e '
        const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const l = d.links.find(l => l.name === process.argv[1]);
        process.stdout.write(l ? l.remedy + " | " + l.detail : "<no such link>");
    ' "$1"
}
# check_only LINK [check args...]: check fails on LINK and on no other link.
check_only() {
    local link=$1; shift
    run kubectl-fluxwi check "$@" -o json
    expect_rc 1
    expect_eq "$(results FAIL)" "$link" "failing links"
}
check_all_pass() {
    run kubectl-fluxwi check --exchange --key "$LAB_KEY_URL" -o json
    expect_rc 0
    expect_eq "$(results FAIL)" "" "failing links"
    expect_eq "$(results WARN)" "" "warning links"
}
# The object as it reads back, without what the server maintains.
normalized() {
    kubectl get "$1" "$CTL" -n "$NS" -o json | node -e '
        const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
        for (const k of ["resourceVersion", "generation", "managedFields"]) delete o.metadata[k];
        if (o.metadata.annotations) delete o.metadata.annotations["deployment.kubernetes.io/revision"];
        delete o.status;
        process.stdout.write(JSON.stringify(o, null, 1));
    '
}
# Re-creates the webhook configuration saved in $TMP/mwc.json.
restore_webhook() {
    node -e '
        const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        for (const k of ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"]) delete o.metadata[k];
        process.stdout.write(JSON.stringify(o));' "$TMP/mwc.json" | kubectl create -f - >/dev/null ||
        fail "webhook not restored"
}
rv() { kubectl get "$1" "$CTL" -n "$NS" -o jsonpath='{.metadata.resourceVersion}'; }
writes() { labctl counters | node -e '
    const c = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.stdout.write(Object.keys(c).filter(k => /^k8s\.(patch|create|update|delete)\./.test(k) && !/token$/.test(k)).sort().join(","));'; }

step "fresh lab: check fails on the ServiceAccount, the pod label and the pods"
# Flux's first reconciles: flux-system creates the apps Kustomization
labctl reconcile flux-system/flux-system >/dev/null || fail "reconcile flux-system"
labctl reconcile flux-system/apps >/dev/null || fail "reconcile apps"
run kubectl-fluxwi check
expect_rc 1
expect_out "serviceaccount   FAIL"
expect_out "Remedies:"
expect_out "kubectl fluxwi patch --client-id"
run kubectl-fluxwi check -o json
expect_rc 1
expect_eq "$(results FAIL)" "serviceaccount,pod-label,pods" "failing links (fresh)"
expect_eq "$(results PASS)" "api,flux,webhook,issuer,kustomizations" "passing links (fresh)"
[[ $(remedy pods) == *"kubectl fluxwi patch"* ]] || fail "pods remedy: $(remedy pods)"

step "issuer: exactly the lab's issuer, with the federated credential command"
run kubectl-fluxwi issuer
expect_rc 0
expect_out "Issuer:    $LAB_K8S_ISSUER"
expect_out "Subject:   system:serviceaccount:flux-system:kustomize-controller"
expect_out "--identity-name <IDENTITY_NAME> --resource-group <RESOURCE_GROUP>"
run kubectl-fluxwi issuer --identity "$LAB_IDENTITY_ID" -o json
expect_rc 0
expect_out "\"issuer\": \"$LAB_K8S_ISSUER\""
expect_out "\"source\": \"discovery\""
expect_out "--identity-name $LAB_IDENTITY_NAME --resource-group $LAB_RESOURCE_GROUP"
expect_out "--audiences api://AzureADTokenExchange"
run kubectl-fluxwi issuer --identity not/an/identity
expect_rc 2
# a user who may not read discovery: the iss of a TokenRequest, else a clear error
run kubectl-fluxwi issuer --context lab-restricted
expect_rc 1
expect_err "/.well-known/openid-configuration"
expect_err "hint: ask for get"
kubectl create -f "$TOP/tests/fixtures/fluxwi/token-role.yaml" >/dev/null || fail "role not created"
run kubectl-fluxwi issuer --context lab-restricted -o json
expect_rc 0
expect_out "\"issuer\": \"$LAB_K8S_ISSUER\""
expect_out "\"source\": \"token\""

step "patch --dry-run writes nothing"
sa0=$(normalized serviceaccount); dep0=$(normalized deployment)
sa_rv=$(rv serviceaccount); dep_rv=$(rv deployment)
labctl counters --reset >/dev/null
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" --dry-run
expect_rc 0
expect_out "azure.workload.identity/client-id: $LAB_CLIENT_ID"
expect_out "azure.workload.identity/use: \"true\""
expect_err "nothing was written"
expect_eq "$(rv serviceaccount)/$(rv deployment)" "$sa_rv/$dep_rv" "resourceVersions after --dry-run"
expect_eq "$(writes)" "" "writes after --dry-run"
labctl counters | grep -q '"k8s.dryrun.patch.deployments"' || fail "no server dry-run was sent"

step "patch with --identity (ARM lookup) wires the controller and confirms the injection"
run kubectl-fluxwi patch --identity "$LAB_IDENTITY_ID"
expect_rc 0
expect_out "serviceaccount/$CTL patched"
expect_out "deployment/$CTL patched"
expect_out "pods carry AZURE_FEDERATED_TOKEN_FILE and the projected token volume"
expect_out "keeps this live-only change"
expect_out "kubectl fluxwi generate --client-id $LAB_CLIENT_ID --tenant-id $LAB_TENANT_ID"
expect_eq "$(kubectl get sa $CTL -n $NS -o jsonpath='{.metadata.annotations.azure\.workload\.identity/client-id}')" "$LAB_CLIENT_ID" "client-id annotation"
kubectl get sa "$CTL" -n "$NS" -o json --show-managed-fields | grep -q '"manager": "fluxwi"' || fail "no field manager fluxwi"
kubectl get sa "$CTL" -n "$NS" -o json --show-managed-fields | grep -q '"manager": "kubectl' && fail "a kubectl* field manager wrote"

step "check then passes every link, with --exchange --key (and --identity)"
check_all_pass
run kubectl-fluxwi check --identity "$LAB_IDENTITY_ID" --exchange --key "$LAB_KEY_URL" -o json
expect_rc 0
expect_eq "$(results FAIL)$(results WARN)" "" "non-passing links with --identity"
[[ $(results PASS) == *federated-credential* ]] || fail "no federated-credential link"
run kubectl-fluxwi check --exchange --key "$LAB_KEY_URL"
expect_rc 0
expect_out "exchange         PASS"
expect_out "key              PASS"

step "a second patch writes nothing"
labctl counters --reset >/dev/null
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "serviceaccount/$CTL unchanged"
expect_out "deployment/$CTL unchanged"
expect_eq "$(writes)" "" "writes by the second patch"
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" -o json
expect_rc 0
printf '%s' "$OUT" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (d.serviceAccount !== null || d.deployment !== null || d.restart || d.flux.reverts) process.exit(1);' ||
    fail "patch -o json: not an unchanged result document"
expect_err "deployment/$CTL unchanged"

step "Flux's next reconcile of flux-system keeps the live change"
labctl reconcile flux-system/flux-system >/dev/null || fail "reconcile failed"
expect_eq "$(kubectl get sa $CTL -n $NS -o jsonpath='{.metadata.annotations.azure\.workload\.identity/client-id}')" "$LAB_CLIENT_ID" "annotation after reconcile"
expect_eq "$(kubectl get deploy $CTL -n $NS -o jsonpath='{.spec.template.metadata.labels.azure\.workload\.identity/use}')" "true" "label after reconcile"
check_all_pass

step "broken link: the webhook is gone"
kubectl get mutatingwebhookconfiguration azure-wi-webhook-mutating-webhook-configuration -o json >"$TMP/mwc.json"
kubectl delete mutatingwebhookconfiguration azure-wi-webhook-mutating-webhook-configuration >/dev/null
check_only webhook --exchange --key "$LAB_KEY_URL"
[[ $(remedy webhook) == *"--enable-workload-identity"* ]] || fail "webhook remedy: $(remedy webhook)"
restore_webhook
check_all_pass

step "broken link: a wrong client ID"
run kubectl-fluxwi patch --client-id "$WRONG_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
check_only exchange --exchange --key "$LAB_KEY_URL"
[[ $(remedy exchange) == *"700016"* ]] || fail "exchange detail: $(remedy exchange)"
run kubectl-fluxwi check --client-id "$LAB_CLIENT_ID" -o json
expect_eq "$(results FAIL)" "serviceaccount" "failing links with --client-id"
[[ $(remedy serviceaccount) == *"expected $LAB_CLIENT_ID"* ]] || fail "sa detail: $(remedy serviceaccount)"
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "restarted"
check_all_pass

step "broken link: the federated credential's subject"
labctl fic set "$LAB_IDENTITY_NAME" kustomize-controller issuer="$LAB_K8S_ISSUER" \
    subject=system:serviceaccount:flux-system:kustomize-controler >/dev/null
check_only exchange --exchange --key "$LAB_KEY_URL"
[[ $(remedy exchange) == *"700213"* ]] || fail "exchange detail: $(remedy exchange)"
[[ $(remedy exchange) == *"subject"* ]] || fail "exchange remedy: $(remedy exchange)"
check_only federated-credential --identity "$LAB_IDENTITY_ID"
[[ $(remedy federated-credential) == *"its subject is 'system:serviceaccount:flux-system:kustomize-controler'"* ]] ||
    fail "federated-credential: $(remedy federated-credential)"

step "broken link: the federated credential's issuer lacks the trailing slash"
labctl fic set "$LAB_IDENTITY_NAME" kustomize-controller issuer="${LAB_K8S_ISSUER%/}" \
    subject=system:serviceaccount:flux-system:kustomize-controller >/dev/null
check_only exchange --exchange --key "$LAB_KEY_URL"
[[ $(remedy exchange) == *"issuer"* ]] || fail "exchange remedy: $(remedy exchange)"
# with --identity, the credential itself is read (ARM) and compared byte for byte
check_only federated-credential --identity "$LAB_IDENTITY_ID"
[[ $(remedy federated-credential) == *"federated-credential update --name kustomize-controller"*"lacks the trailing '/'"* ]] ||
    fail "federated-credential: $(remedy federated-credential)"
labctl fic set "$LAB_IDENTITY_NAME" kustomize-controller issuer="$LAB_K8S_ISSUER" \
    subject=system:serviceaccount:flux-system:kustomize-controller >/dev/null
check_all_pass

step "broken link: no decrypt permission"
labctl policy set "$LAB_PRINCIPAL_ID" get >/dev/null
check_only key --exchange --key "$LAB_KEY_URL"
[[ $(remedy key) == *"set-policy"*"--object-id $LAB_PRINCIPAL_ID"* ]] || fail "key remedy: $(remedy key)"
labctl policy set "$LAB_PRINCIPAL_ID" get,decrypt >/dev/null
check_all_pass

step "broken link: pods not restarted after the identity changed"
kubectl annotate sa "$CTL" -n "$NS" --overwrite --field-manager=lab-test \
    azure.workload.identity/client-id="$WRONG_ID" >/dev/null
check_only pods --exchange --key "$LAB_KEY_URL"
[[ $(remedy pods) == *"rollout restart"* ]] || fail "pods remedy: $(remedy pods)"
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "restarted"
check_all_pass

step "broken link: a Kustomization with a decryption error"
cp "$LAB_REPO_DIR/gitops/aks/apps/secret.yaml" "$TMP/secret.yaml"
cp "${SOPS_VECTORS:-$TOP/../shared/vectors/sops-real}/sops__secret.age.yaml" "$LAB_REPO_DIR/gitops/aks/apps/secret.yaml"
labctl reconcile flux-system/apps >/dev/null
check_only kustomizations --exchange --key "$LAB_KEY_URL"
[[ $(remedy kustomizations) == *"age key"* ]] || fail "kustomizations remedy: $(remedy kustomizations)"
cp "$TMP/secret.yaml" "$LAB_REPO_DIR/gitops/aks/apps/secret.yaml"
labctl reconcile flux-system/apps >/dev/null
check_all_pass

step "unpatch restores the original objects exactly"
run kubectl-fluxwi unpatch --dry-run
expect_rc 0
expect_out "annotations: null"
run kubectl-fluxwi unpatch
expect_rc 0
expect_out "removed from the ServiceAccount"
expect_eq "$(normalized serviceaccount)" "$sa0" "ServiceAccount after unpatch"
expect_eq "$(normalized deployment)" "$dep0" "Deployment after unpatch"
run kubectl-fluxwi unpatch
expect_rc 0
expect_out "nothing to remove"

step "patch without the webhook: exit 1 and the reason"
kubectl delete mutatingwebhookconfiguration azure-wi-webhook-mutating-webhook-configuration >/dev/null
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" --timeout 60s
expect_rc 1
expect_err "webhook is not installed"
expect_err "hint:"
restore_webhook

step "patches in git (generate in the lab's repo): patch says Flux reverts another live value, and Flux does"
run kubectl-fluxwi generate --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" --dir "$LAB_REPO_DIR"
expect_rc 0
labctl reconcile flux-system/flux-system >/dev/null || fail "reconcile failed"
run kubectl-fluxwi patch --client-id "$WRONG_ID" --tenant-id "$LAB_TENANT_ID" --no-wait
expect_rc 0
expect_out "REVERTS the live change: git sets azure.workload.identity/client-id to '$LAB_CLIENT_ID'"
labctl reconcile flux-system/flux-system >/dev/null || fail "reconcile failed"
expect_eq "$(kubectl get sa $CTL -n $NS -o jsonpath='{.metadata.annotations.azure\.workload\.identity/client-id}')" "$LAB_CLIENT_ID" "annotation after Flux's reconcile"
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "restarted"
expect_out "keeps these values: git sets the same ones"
expect_no_out "To make it permanent"
check_all_pass

step "two restarts within one second still roll new pods (restartedAt differs)"
run kubectl-fluxwi patch --client-id "$WRONG_ID" --tenant-id "$LAB_TENANT_ID" --no-wait
expect_rc 0
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "restarted"
check_all_pass

step "the webhook's layout before v1.6 counts as injected too"
labctl scenario "$TOP/tests/fixtures/fluxwi/webhook-legacy.yaml" >/dev/null || fail "scenario not applied"
kubectl annotate sa "$CTL" -n "$NS" --overwrite --field-manager=lab-test \
    azure.workload.identity/client-id="$WRONG_ID" >/dev/null
run kubectl-fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
expect_rc 0
expect_out "projected token volume (legacy layout)"
check_all_pass

step "usage errors"
run kubectl-fluxwi patch
expect_rc 2; expect_err "--client-id or --identity"
run kubectl-fluxwi patch --client-id nope
expect_rc 2; expect_err "not a GUID"
echo "all live checks passed"
