# test_redaction.sh - at the highest verbosity (every request, header and
# body), no token, client secret, data key or secret value reaches the output.
source "$TOP/tests/integration/lib.sh"
lab_start
cp -r "$TOP/tests/lab/seed" "$TMP/repo"
cd "$TMP/repo"
secret=gitops/aks/apps/secret.yaml
values=(demo-user correct-horse-battery-staple "$LAB_SP_CLIENT_SECRET")

# Fails when the last run printed a JWT, an unredacted "value" member (Key
# Vault's data-key field), a client secret, or one of the planted values.
no_secrets() {
    local all="$OUT"$'\n'"$ERR" v
    [[ $all != *eyJ* ]] || fail "$1: a JWT in the output"
    ! grep -qE '"(value|access_token|client_secret|token)": ?"[^[]' <<<"$all" ||
        fail "$1: an unredacted secret member in the output"
    for v in "${values[@]}"; do
        [[ $all != *"$v"* ]] || fail "$1: a secret value in the output"
    done
}

step "sopsenc encrypt with Key Vault, client secret credential, -v 9"
run env AZURE_CLIENT_ID="$LAB_SP_CLIENT_ID" AZURE_TENANT_ID="$LAB_TENANT_ID" \
    AZURE_CLIENT_SECRET="$LAB_SP_CLIENT_SECRET" \
    kubectl-sopsenc -v 9 -i --azure-kv "$LAB_KEY_URL" --key-wrap remote "$secret"
expect_rc 0
expect_err "POST"          # the requests are logged...
expect_err "Authorization: [REDACTED]"
no_secrets "encrypt"       # ...their secrets are not

step "sopsenc decrypt (Key Vault decrypt returns the data key), az CLI credential, -v 9"
run kubectl-sopsenc decrypt -v 9 --output "$TMP/plain.yaml" "$secret"
expect_rc 0
no_secrets "decrypt"
grep -q correct-horse-battery-staple "$TMP/plain.yaml" || fail "decrypt wrote no plaintext"

step "commit, reconcile; sopsverify at -v 9 reads the live Secret without printing it"
cp -r "$TMP/repo/." "$LAB_REPO_DIR/"
labctl reconcile flux-system >/dev/null; labctl reconcile apps >/dev/null
kubectl fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" >/dev/null 2>&1
labctl reconcile apps >/dev/null
run kubectl-sopsverify -v 9 gitops/aks/apps --decrypt
no_secrets "sopsverify"
run kubectl-sopsverify -v 9 secret sample-secret -n sops-workload-identity
no_secrets "sopsverify secret"

step "fluxwi check --exchange --key at -v 9: TokenRequest and Entra tokens stay hidden"
run kubectl-fluxwi -v 9 check --exchange --key "$LAB_KEY_URL"
expect_err "GET"
no_secrets "fluxwi check"
