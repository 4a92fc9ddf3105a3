#!/usr/bin/env bash
# test_azure.sh - common/azure against the lab, through tests/tools/azprobe:
# every credential type, the chain and --azure-auth, the all-failed report,
# AADSTS explanations, the trusted-host rule, the Key Vault client (get,
# encrypt, decrypt, concurrent decrypts, public-key cache), retries on
# faults, Forbidden and other errors mapped to remedies, and an independent
# check of our RSA-OAEP-256 by the official @azure/keyvault-keys client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/azure_lib.sh"

build_azprobe
lab_start
azure_clean_env
P=$AZPROBE

step "client secret (env)"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID \
    AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET run "$P" -v 2 token
expect_rc 0
expect_out "credential=env oid=$LAB_SP_OBJECT_ID"
expect_err "using the env credential"
expect_no_err "$LAB_SP_CLIENT_SECRET"
expect_no_out "eyJ"

step "client certificate (signed assertion, PS256 + x5t)"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID \
    AZURE_CLIENT_CERTIFICATE_PATH=$LAB_SP_CERT_PATH run "$P" -v 2 token
expect_rc 0
expect_out "credential=certificate oid=$LAB_SP_OBJECT_ID"
expect_err "env credential unavailable"

step "workload identity (federated token file)"
wi_token kustomize-controller "$TMP/wi-token"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_CLIENT_ID \
    AZURE_FEDERATED_TOKEN_FILE=$TMP/wi-token run "$P" -v 2 token
expect_rc 0
expect_out "credential=workload-identity oid=$LAB_PRINCIPAL_ID"

step "workload identity: no matching federated credential is explained"
wi_token default "$TMP/wi-other"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_CLIENT_ID \
    AZURE_FEDERATED_TOKEN_FILE=$TMP/wi-other run "$P" token
expect_rc 1
expect_err "no federated identity credential has the subject"
expect_err "subject 'system:serviceaccount:flux-system:default'"
expect_err "issuer '$LAB_K8S_ISSUER'"
expect_err "AADSTS700213"
expect_err "az identity federated-credential create"
expect_no_err "azure-cli"

step "workload identity with a given assertion (az_auth_new_assertion)"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_CLIENT_ID \
    run "$P" --assertion "$TMP/wi-token" token
expect_rc 0
expect_out "credential=workload-identity oid=$LAB_PRINCIPAL_ID"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_CLIENT_ID \
    run "$P" --assertion "$TMP/wi-other" token
expect_rc 1
expect_err "subject 'system:serviceaccount:flux-system:default'"

step "managed identity: IMDS (base URL from AZURE_POD_IDENTITY_AUTHORITY_HOST)"
AZURE_POD_IDENTITY_AUTHORITY_HOST=${LAB_IMDS_ENDPOINT%/metadata/identity/oauth2/token} \
    run "$P" -v 2 token
expect_rc 0
expect_out "credential=managed-identity"

step "managed identity: App Service endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER)"
IDENTITY_ENDPOINT=$LAB_IDENTITY_ENDPOINT IDENTITY_HEADER=$LAB_IDENTITY_HEADER \
    run "$P" -v 2 token
expect_rc 0
expect_out "credential=managed-identity oid=$LAB_PRINCIPAL_ID"
expect_no_err "$LAB_IDENTITY_HEADER"

step "Azure CLI: the az stand-in from PATH, last in the chain"
run "$P" -v 2 token
expect_rc 0
expect_out "credential=azure-cli oid=$LAB_DEVELOPER_OID"
expect_err "managed-identity credential unavailable"

step "--azure-auth forces one credential"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID \
    AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET run "$P" --auth azure-cli token
expect_rc 0
expect_out "credential=azure-cli"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID \
    AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET run "$P" --auth certificate token
expect_rc 1
expect_err "AZURE_CLIENT_CERTIFICATE_PATH not set"
run "$P" --auth kerberos token
expect_rc 2
expect_err "unknown Azure credential"

step "a configured but rejected credential stops the chain"
AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID \
    AZURE_CLIENT_SECRET=wrong-secret run "$P" token
expect_rc 1
expect_err "the client secret is wrong"
expect_err "AADSTS7000215"
expect_err "trace ID"
expect_no_out "credential=azure-cli"
expect_no_err "wrong-secret"

step "nothing available: one block, each credential with its fix"
PATH=/usr/bin:/bin run "$P" token
expect_rc 1
for c in env certificate workload-identity managed-identity azure-cli; do
    expect_err "    $c "
done
expect_err "az is not on PATH"
expect_err "how to fix one of them"
expect_err "az login"

export AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID
export AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET

step "Key Vault: get key, latest version, public-key cache"
counters_reset
run "$P" get "$LAB_VAULT_URL/keys/$LAB_KEY_NAME"
expect_rc 0
expect_out "kid=$LAB_KEY_URL kty=RSA enabled=1 ops=15 bits=2048"
run "$P" --cached get "$LAB_KEY_URL"
expect_out "cached=0"
run "$P" --cached get "$LAB_KEY_URL"
expect_out "cached=1"
expect_err "requests=0"
expect_eq "$(counter keyvault.get)" 2 "GET key requests"

step "Key Vault: remote encrypt, local wrap, decrypt (one token, concurrent decrypts)"
dk=$(openssl rand -hex 32)
run "$P" encrypt "$LAB_KEY_URL" "$dk"
expect_rc 0
enc_remote=$(head -1 <<<"$OUT")
expect_eq "${#enc_remote}" 342 "base64url length of an RSA-2048 ciphertext"
[[ $enc_remote != *=* && $enc_remote != *+* && $enc_remote != */* ]] || fail "not unpadded base64url"
run "$P" --local encrypt "$LAB_KEY_URL" "$dk"
expect_rc 0
expect_err "requests=0"
enc_local=$(head -1 <<<"$OUT")
run "$P" decrypt "$LAB_KEY_URL" "$enc_remote"
expect_out "$dk"
counters_reset
run "$P" -v 6 decrypt-many "$LAB_KEY_URL" "$enc_local" "$enc_remote" "$enc_local" \
    "$enc_remote" "$enc_local" "$enc_remote" "$enc_local" "$enc_remote" "$enc_local" "$enc_local"
expect_rc 0
expect_eq "$(grep -c "^$dk\$" <<<"$OUT")" 10 "decrypted data keys"
expect_eq "$(counter keyvault.decrypt)" 10 "decrypt requests"
expect_eq "$(counter entra.token)" 1 "token requests for 10 decrypts"
expect_no_err "$AZURE_CLIENT_SECRET"

step "independent check: @azure/keyvault-keys unwraps our local RSA-OAEP-256"
expect_eq "$(node_unwrap "$LAB_KEY_URL" "$enc_local")" "$dk" "CryptographyClient.decrypt"

step "look-alike vault hosts get no token"
port=${LAB_VAULT_URL##*:}
counters_reset
run "$P" get "https://localhost:$port/keys/$LAB_KEY_NAME"
expect_rc 2
expect_err "refusing to send an Azure token"
expect_err "FLUXWI_TRUSTED_HOSTS"
run "$P" decrypt "https://$LAB_VAULT_NAME.vault.azure.net.127.0.0.1.nip.io/keys/$LAB_KEY_NAME/x" "$enc_remote"
expect_rc 2
expect_err "not under an Azure Key Vault domain"
expect_eq "$(counter keyvault.requests)" 0 "requests reaching the vault"
expect_eq "$(counter entra.token)" 0 "tokens requested"
FLUXWI_TRUSTED_HOSTS="localhost:$port" run "$P" get "https://localhost:$port/keys/$LAB_KEY_NAME"
expect_rc 0

step "faults: two 429s then success"
verb fault 429 2 op=decrypt retryAfter=1
counters_reset
run "$P" -v 6 decrypt "$LAB_KEY_URL" "$enc_remote"
expect_rc 0
expect_out "$dk"
expect_eq "$(counter keyvault.decrypt)" 3 "decrypt attempts"

step "faults: a connection cut mid-answer is retried"
verb fault drop 1 op=decrypt
run "$P" -v 6 decrypt "$LAB_KEY_URL" "$enc_remote"
expect_rc 0
expect_out "$dk"
verb fault reset 1 op=get
run "$P" get "$LAB_KEY_URL"
expect_rc 0

step "faults: an attempt that times out is retried within the budget"
verb fault slow 1 op=decrypt delayMs=3000
run "$P" -v 6 --timeout 5000 decrypt "$LAB_KEY_URL" "$enc_remote"
expect_rc 0
expect_out "$dk"
expect_err "timed out"

step "faults: persistent 503 fails clearly within the request timeout"
verb fault 5xx 1000 op=decrypt status=503
t0=$(date +%s%N)
run "$P" --timeout 4000 decrypt "$LAB_KEY_URL" "$enc_remote"
t1=$(date +%s%N)
verb fault clear
expect_rc 1
expect_err "still HTTP 503"
expect_err "--request-timeout"
(( (t1 - t0) / 1000000 <= 5000 )) || fail "took $(( (t1 - t0) / 1000000 )) ms for a 4000 ms budget"

step "an unreachable vault fails at once (no retries on a refused connection)"
t0=$(date +%s)
FLUXWI_TRUSTED_HOSTS="$FLUXWI_TRUSTED_HOSTS,127.0.0.1:9" \
    run "$P" --timeout 20000 get "https://127.0.0.1:9/keys/$LAB_KEY_NAME"
expect_rc 1
expect_err "127.0.0.1"
(( $(date +%s) - t0 < 8 )) || fail "a refused connection was retried for $(( $(date +%s) - t0 )) s"

step "Forbidden: an identity without encrypt, remote encrypt"
IDENTITY_ENDPOINT=$LAB_IDENTITY_ENDPOINT IDENTITY_HEADER=$LAB_IDENTITY_HEADER \
    run env -u AZURE_CLIENT_ID "$P" --auth managed-identity encrypt "$LAB_KEY_URL" "$dk"
expect_rc 1
expect_err "lacks the key permission 'encrypt'"
expect_err "object ID $LAB_PRINCIPAL_ID"
expect_err "az keyvault set-policy --name $LAB_VAULT_NAME --object-id $LAB_PRINCIPAL_ID --key-permissions encrypt"

step "Forbidden: an identity without decrypt"
verb policy set "$LAB_SP_OBJECT_ID" get,encrypt
run "$P" decrypt "$LAB_KEY_URL" "$enc_remote"
expect_rc 1
expect_err "lacks the key permission 'decrypt'"
expect_err "object ID $LAB_SP_OBJECT_ID"
expect_err "--key-permissions decrypt"
verb policy set "$LAB_SP_OBJECT_ID" get,encrypt,decrypt,wrapKey,unwrapKey

step "key disabled, key missing"
verb key disable "$LAB_KEY_NAME"
run "$P" decrypt "$LAB_KEY_URL" "$enc_remote"
verb key enable "$LAB_KEY_NAME"
expect_rc 1
expect_err "the key version is disabled"
expect_err "--enabled true"
run "$P" get "$LAB_VAULT_URL/keys/no-such-key"
expect_rc 1
expect_err "not found"
expect_err "az keyvault key list-versions"
step "azure_kv key type through the engine: 50 files, auto wrapping"
export XDG_CACHE_HOME=$TMP/cache-files
counters_reset
run "$P" files "$LAB_VAULT_URL/keys/$LAB_KEY_NAME" 50
expect_rc 0
expect_out "wrap_requests=1"
expect_out "version=${LAB_KEY_URL##*/}"
expect_out "recovered=50 of 50 unwrap_requests=50"
expect_eq "$(counter keyvault.get)" 1 "GET key for 50 files"
expect_eq "$(counter keyvault.encrypt)" 0 "encrypt requests with auto wrapping"
expect_eq "$(counter keyvault.decrypt)" 50 "decrypt requests"
expect_eq "$(counter entra.token)" 1 "tokens for the whole run"
enc=$(sed -n 's/^enc=//p' <<<"$OUT")
[[ $enc =~ ^[A-Za-z0-9_-]{342}$ ]] || fail "enc is not 342 chars of unpadded base64url: $enc"
[[ $(sed -n 's/^created_at=//p' <<<"$OUT") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    fail "created_at is not RFC 3339 UTC"

step "azure_kv: a second run uses the cached public key (no GET)"
counters_reset
run "$P" files "$LAB_KEY_URL" 5
expect_rc 0
expect_out "wrap_requests=0"
expect_eq "$(counter keyvault.get)" 0 "GET key with a warm cache"

step "azure_kv: --key-wrap remote uses Key Vault encrypt"
counters_reset
run "$P" --key-wrap remote files "$LAB_KEY_URL" 3
expect_rc 0
expect_out "wrap_requests=3"
expect_eq "$(counter keyvault.encrypt)" 3 "encrypt requests"

step "azure_kv: auto falls back to remote when the key cannot be read"
export XDG_CACHE_HOME=$TMP/cache-noget
verb policy set "$LAB_SP_OBJECT_ID" encrypt,decrypt
run "$P" -v 2 files "$LAB_KEY_URL" 2
expect_rc 0
expect_err "local wrapping not possible"
expect_out "recovered=2 of 2"
run "$P" --key-wrap local files "$LAB_KEY_URL" 1
expect_rc 1
expect_err "lacks the key permission 'get'"
verb policy set "$LAB_SP_OBJECT_ID" get,encrypt,decrypt,wrapKey,unwrapKey
run "$P" --key-wrap sideways files "$LAB_KEY_URL" 1
expect_rc 2
expect_err "invalid --key-wrap"
echo "all azure client checks passed"
