# test_sopsverify.sh - kubectl sopsverify against the lab and its
# kustomize-controller: the seed's flow (encrypt, commit, reconcile, verify
# OK), then each way it breaks gives its verdict and exit 1.  No planted
# value may appear in any output.
source "$TOP/tests/integration/lib.sh"

AGE_KEY=$TMP/age.key
source "$TOP/tests/fixtures/sopsverify/lib.sh"
new_age_key "$AGE_KEY"
AGE_PUB=$(sed -n 's/^# public key: //p' "$AGE_KEY")
PLANTED=(correct-horse-battery-staple demo-user rotated-planted-value-2
         hand-edit-planted)
NS=sops-workload-identity
SECRET_FILE=gitops/aks/apps/secret.yaml
ALL=$TMP/all-output.log

# Runs a command and keeps everything it printed for the final search.
sv() {
    run "$@"
    printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}
reconcile() {
    labctl reconcile "flux-system/$1" >"$TMP/reconcile.json" ||
        fail "labctl reconcile $1"
    cat "$TMP/reconcile.json" >>"$ALL"
}
ready_of() { grep -o '"ready": [a-z]*' "$TMP/reconcile.json"; }

encrypt_with() {    # VALUE: the seed's Secret for the Key Vault key and age
    sed "s/correct-horse-battery-staple/$1/" "$TMP/plain-secret.yaml" \
        >"$SECRET_FILE"
    sv kubectl-sopsenc -i --age "$AGE_PUB" "$SECRET_FILE"
    expect_rc 0
    sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsenc updatekeys \
        --config "$TMP/sops.yaml" "$SECRET_FILE"
    expect_rc 0
    printf '%s\n' "$OUT" >"$SECRET_FILE"
}

set_decryption() {    # none | sops
    local f=gitops/aks/apps.yaml
    awk '/^  decryption:/ {exit} {print}' "$f" >"$TMP/apps.yaml"
    case $1 in
        sops) printf '  decryption:\n    provider: sops\n' >>"$TMP/apps.yaml" ;;
    esac
    cp "$TMP/apps.yaml" "$f"
    reconcile flux-system
    [[ $(ready_of) == '"ready": true' ]] || fail "flux-system did not apply"
}

# The workload identity patches in git, as `kubectl fluxwi generate` writes
# them: the ServiceAccount annotated, the controller's pods labelled.
wire_identity() {
    cat >>gitops/aks/flux-system/kustomization.yaml <<EOF
patches:
- target: {kind: ServiceAccount, name: kustomize-controller}
  patch: |
    apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: kustomize-controller
      annotations:
        azure.workload.identity/client-id: $LAB_CLIENT_ID
        azure.workload.identity/tenant-id: $LAB_TENANT_ID
- target: {kind: Deployment, name: kustomize-controller}
  patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: kustomize-controller
    spec:
      template:
        metadata:
          labels:
            azure.workload.identity/use: "true"
EOF
    reconcile flux-system
    [[ $(ready_of) == '"ready": true' ]] || fail "flux-system did not apply"
    kubectl -n flux-system rollout status deployment/kustomize-controller \
        --timeout=60s >/dev/null || fail "the controller did not roll out"
}

lab_start
cd "$LAB_REPO_DIR" || fail "no lab repository"
cp "$SECRET_FILE" "$TMP/plain-secret.yaml"
cat >"$TMP/sops.yaml" <<EOF
creation_rules:
  - encrypted_regex: ^(data|stringData)\$
    azure_keyvault: $LAB_KEY_URL
    age: $AGE_PUB
EOF

step "the seed's secret, encrypted for the Key Vault key (and age) and committed"
encrypt_with correct-horse-battery-staple
grep -q 'ENC\[AES256_GCM' "$SECRET_FILE" || fail "not encrypted"
grep -q 'azure_kv:' "$SECRET_FILE" || fail "no Key Vault key"
grep -q correct-horse "$SECRET_FILE" && fail "plaintext left in git"

step "identity chain broken (no workload identity yet): MISSING, with the controller's error"
set_decryption sops
reconcile apps
expect_eq "$(ready_of)" '"ready": false' "apps Ready"
sv kubectl-sopsverify .
expect_rc 1
expect_out "sample-secret   MISSING"
expect_out "owner: Kustomization flux-system/apps (by path); Ready=False BuildFailed; decryption.provider: sops"
expect_out "Failed to get the data key required to decrypt the SOPS file"
expect_out "failed to decrypt sops data key with Azure Key Vault key"
expect_out "next: the controller cannot get the data key from Azure Key Vault: check its identity chain with 'kubectl fluxwi check'"
expect_out "1 Secret: 1 MISSING"

step "the seed's flow: identity wired in git, reconciled, verified OK"
wire_identity
reconcile apps
expect_eq "$(ready_of)" '"ready": true' "apps Ready"
sv kubectl-sopsverify .
expect_rc 0
expect_out "sample-secret   OK        2 keys present"
sv kubectl-sopsverify gitops/aks/apps/secret.yaml -o json
expect_rc 0
expect_out '"ok": true'
expect_out '"verdict": "OK"'
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify . --decrypt
expect_rc 0
expect_out "2 keys, values equal"
# the same through Key Vault (the developer's az login), no age identity
labctl counters --reset >/dev/null
sv env SOPS_AGE_KEY_FILE="$TMP/no-such-key" kubectl-sopsverify . --decrypt \
    --azure-auth azure-cli
expect_rc 0
expect_out "2 keys, values equal"
labctl counters >"$TMP/counters.json"
expect_eq "$(counter keyvault.decrypt "$TMP/counters.json")" 1 \
    "Key Vault decrypts"
# every log level, bodies included: still no value
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify . --decrypt -v 8
expect_rc 0
expect_err "GET https://"
sv kubectl-sopsverify secret sample-secret -n $NS -v 8
expect_rc 0
expect_out "password   28     "

step "--kustomization: Ready, revisions, inventory"
sv kubectl-sopsverify --kustomization apps
expect_rc 0
expect_out "Kustomization flux-system/apps: Ready=True ReconciliationSucceeded"
expect_out "applied revision:  main@sha1:"
expect_out "source revision:   main@sha1:"
expect_out "(GitRepository flux-system/flux-system)"
expect_no_out "not in the inventory"
sv kubectl-sopsverify --kustomization apps -o json
expect_out '"inInventory": true'
expect_out '"lastAppliedRevision": "main@sha1:'

step "--kustomization with targetNamespace; inventory and local files compared"
mkdir -p gitops/team
echo 'resources: [namespace.yaml, secret.yaml, plain.yaml]' \
    >gitops/team/kustomization.yaml
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team-ns}\n' \
    >gitops/team/namespace.yaml
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: plain-one}\nstringData: {a: not-secret}\n' \
    >gitops/team/plain.yaml
awk '!/namespace:/' "$SECRET_FILE" | sed 's/name: sample-secret/name: team-secret/' \
    >gitops/team/secret.yaml
cat >"$TMP/team-ks.yaml" <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: team, namespace: flux-system}
spec:
  interval: 10m0s
  path: ./gitops/team
  prune: true
  targetNamespace: team-ns
  sourceRef: {kind: GitRepository, name: flux-system}
  decryption:
    provider: sops
    secretRef: {name: sops-age}
EOF
cat >"$TMP/sops-age.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: sops-age
  namespace: flux-system
data:
  age.agekey: $(base64 -w0 "$AGE_KEY")
EOF
kubectl apply -f "$TMP/sops-age.yaml" >/dev/null || fail "sops-age Secret"
kubectl apply -f "$TMP/team-ks.yaml" >/dev/null || fail "team Kustomization"
reconcile team
expect_eq "$(ready_of)" '"ready": true' "team Ready"
# committed but not reconciled yet
sed 's/name: team-secret/name: team-later/' gitops/team/secret.yaml \
    >gitops/team/later.yaml
echo 'resources: [namespace.yaml, secret.yaml, plain.yaml, later.yaml]' \
    >gitops/team/kustomization.yaml
sv kubectl-sopsverify --kustomization team gitops/team
expect_rc 1
expect_out "targetNamespace: team-ns"
expect_out "team-ns     team-secret   OK"
expect_out "team-ns     team-later    MISSING"
expect_out "In the inventory, but no local file encrypts it:"
expect_out "    team-ns/plain-one"
expect_out "Encrypted locally, but not in the inventory:"
expect_out "    team-ns/team-later (gitops/team/later.yaml)"
rm gitops/team/later.yaml
echo 'resources: [namespace.yaml, secret.yaml, plain.yaml]' \
    >gitops/team/kustomization.yaml
sv kubectl-sopsverify --kustomization team -o json
expect_rc 0
expect_out '"targetNamespace": "team-ns"'
expect_out '"name": "plain-one"'
sv kubectl-sopsverify gitops/team
expect_rc 1
expect_out "default     team-secret   MISSING"
expect_out "(namespace flux-system) puts what it applies in namespace team-ns (targetNamespace): verify with --kustomization team"
rm -r gitops/team

step "a value changed in git, not reconciled yet: MISMATCH with --decrypt"
encrypt_with rotated-planted-value-2
sv kubectl-sopsverify .
expect_rc 0
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify . --decrypt -v 2
expect_rc 1
expect_out "sample-secret   MISMATCH   value differs: password (git "
expect_out "owner: Kustomization flux-system/apps (by inventory)"
expect_out "next: Flux has not applied this revision yet: 'flux reconcile kustomization apps -n flux-system --with-source'"
expect_no_out "changed outside git"
labctl source flux-system/flux-system >>"$ALL" || fail "labctl source"
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify --kustomization apps \
    --decrypt
expect_rc 1
expect_out ", not applied yet"
expect_out "next: Kustomization apps has not applied its source's revision main@sha1:"
reconcile apps
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify . --decrypt
expect_rc 0

step "a live Secret edited by hand: MISMATCH"
kubectl -n $NS patch secret sample-secret \
    -p '{"stringData":{"username":"hand-edit-planted"}}' >/dev/null ||
    fail "kubectl patch"
sv env SOPS_AGE_KEY_FILE="$AGE_KEY" kubectl-sopsverify . --decrypt -o json
expect_rc 1
expect_out '"verdict": "MISMATCH"'
expect_out '"key": "username"'
expect_out '"changedBy": "kubectl-patch (Update, '
expect_out "the Secret was changed outside git (by kubectl-patch"
kubectl -n $NS patch secret sample-secret --type merge \
    -p '{"data":{"added":"eA=="}}' >/dev/null || fail "kubectl patch"
sv kubectl-sopsverify .
expect_rc 1
expect_out "MISMATCH   not in git: added"

step "--wait: polls until Flux has applied the Secret"
kubectl -n $NS delete secret sample-secret >/dev/null || fail "delete"
kubectl-sopsverify . --wait 30s >"$TMP/wait.out" 2>"$TMP/wait.err" &
waiter=$!
sleep 3
reconcile apps
wait $waiter
RC=$?
OUT=$(cat "$TMP/wait.out"); ERR=$(cat "$TMP/wait.err")
printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
expect_rc 0
expect_out "sample-secret   OK"
sv kubectl-sopsverify . --wait 1s --request-timeout 5s \
    --kustomization no-such-ks
expect_rc 1
expect_err 'Kustomization flux-system/no-such-ks'

step "decryption not configured: Flux refuses the Secret, ENCRYPTED"
set_decryption none
kubectl -n $NS delete secret sample-secret >/dev/null || fail "delete"
reconcile apps
expect_eq "$(ready_of)" '"ready": false' "apps Ready"
sv kubectl-sopsverify .
expect_rc 1
expect_out "sample-secret   ENCRYPTED   Flux refused to apply it"
expect_out "decryption.provider: not set"
expect_out "is SOPS encrypted, configuring decryption is required"
expect_out "next: add 'decryption: {provider: sops}' to the spec of Kustomization apps"

step "a live Secret holding ENC[...] text (applied without decryption)"
# the manifest without its sops block, as an old Flux applied it
awk '/^sops:/{exit} {print}' "$SECRET_FILE" >"$TMP/applied-encrypted.yaml"
kubectl apply -f "$TMP/applied-encrypted.yaml" >/dev/null || fail "apply"
sv kubectl-sopsverify .
expect_rc 1
expect_out "ENCRYPTED   still SOPS-encrypted (ENC[AES256_GCM,...]): password, username"
sv kubectl-sopsverify secret sample-secret -n $NS
expect_rc 1
expect_out "KEY"
expect_out "SOPS-ENCRYPTED"
expect_out "********"
expect_err "still look SOPS-encrypted"

step "secret NAME: keys, sizes, masked values; --show-values reveals"
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: shown, namespace: %s}\nstringData: {visible: shown-value-ok}\n' \
        $NS | kubectl apply -f - >/dev/null || fail "create shown"
sv kubectl-sopsverify secret shown -n $NS
expect_rc 0
expect_out "visible   14     "
expect_out "********"
expect_no_out "shown-value-ok"
sv kubectl-sopsverify secret shown -n $NS --show-values -o json
expect_rc 0
expect_out '"value": "shown-value-ok"'
expect_out '"sopsEncrypted": false'
sv kubectl-sopsverify secret nothere -n $NS
expect_rc 1
expect_err 'secrets "nothere" not found'

step "usage and input errors"
sv kubectl-sopsverify "$TMP/does-not-exist"
expect_rc 2
expect_err "does-not-exist"
mkdir -p "$TMP/empty"
sv kubectl-sopsverify "$TMP/empty"
expect_rc 1
expect_out "No SOPS-encrypted Secret manifests found."
sv kubectl-sopsverify secret
expect_rc 2

step "the API refuses: ERROR names the reason"
sv kubectl-sopsverify --context lab-restricted .
expect_rc 1
expect_out "ERROR     listing Secrets in $NS: Forbidden"

step "Secrets readable, Kustomizations not: MISSING still explained honestly"
cat >"$TMP/rbac.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: rbac-only}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: rbac-only}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-lister, namespace: rbac-only}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secret-lister, namespace: rbac-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-lister}
subjects:
- {kind: ServiceAccount, name: reader, namespace: rbac-only}
EOF
kubectl apply -f "$TMP/rbac.yaml" >/dev/null || fail "rbac objects"
token=$(kubectl -n rbac-only create token reader) || fail "token"
cp "$KUBECONFIG" "$TMP/reader.kubeconfig"
KUBECONFIG=$TMP/reader.kubeconfig kubectl config set-credentials reader \
    --token="$token" >/dev/null || fail "set-credentials"
KUBECONFIG=$TMP/reader.kubeconfig kubectl config set-context reader \
    --cluster="$(kubectl config view -o jsonpath='{.contexts[0].context.cluster}')" \
    --user=reader >/dev/null || fail "set-context"
unset token
sed 's/namespace: sops-workload-identity/namespace: rbac-only/' \
    "$SECRET_FILE" >"$TMP/rbac-secret.yaml"
sv kubectl-sopsverify --kubeconfig "$TMP/reader.kubeconfig" --context reader \
    "$TMP/rbac-secret.yaml"
expect_rc 1
expect_out "rbac-only   sample-secret   MISSING"
expect_err "cannot list Flux Kustomizations to explain the verdicts"
expect_out "next: the Flux Kustomizations could not be read (see the warning); name the owner with --kustomization"

step "no planted value in any output"
for v in "${PLANTED[@]}"; do
    grep -qF -- "$v" "$ALL" && fail "planted value $v appeared in an output"
done
true
