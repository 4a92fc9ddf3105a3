#!/usr/bin/env bash
# test_azure_sopsenc.sh - kubectl sopsenc with Azure Key Vault against the lab:
# --azure-kv, SOPS_AZURE_KEYVAULT_URLS and .sops.yaml azure_keyvault (mixed
# with age); the lab's Key Vault opens `enc`; the lab's independent SOPS
# decryptor (with the official @azure/keyvault-keys client) reads our file;
# 50 files cost one Key Vault request; faults leave -i inputs untouched;
# Forbidden names the permission, object ID and fix; look-alike vault hosts
# get no token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/azure_lib.sh"

build_azprobe
lab_start
azure_clean_env
export AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID
export AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET
S=kubectl-sopsenc
W=$TMP/work
mkdir -p "$W"
cd "$W" || fail "no work dir"

secret() { # NAME VALUE
    printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: apps\nstringData:\n  password: %s\n' "$1" "$2"
}

# Field F of the first azure_kv entry of a sops file.
azkv_field() {
    NODE_PATH=$TOP/tests/lab/node_modules node -e '
        const YAML = require("yaml"); const fs = require("fs");
        const d = YAML.parse(fs.readFileSync(process.argv[1], "utf8"));
        const k = (d.sops.azure_kv || [])[0] || {};
        process.stdout.write(String(k[process.argv[2]] || ""));' "$1" "$2"
}

# The lab's own SOPS decryptor, unwrapping with the official SDK client.
independent_decrypt() {
    NODE_PATH=$TOP/tests/lab/node_modules NODE_EXTRA_CA_CERTS=$SSL_CERT_FILE node -e '
        const fs = require("fs");
        const sops = require(process.argv[2] + "/tests/lab/lib/sops");
        const { ClientSecretCredential } = require("@azure/identity");
        const { CryptographyClient } = require("@azure/keyvault-keys");
        const cred = new ClientSecretCredential(process.env.LAB_TENANT_ID,
          process.env.LAB_SP_CLIENT_ID, process.env.LAB_SP_CLIENT_SECRET,
          { authorityHost: process.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true });
        const azureDecrypt = async ({ vaultUrl, name, version, enc }) => {
          const c = new CryptographyClient(vaultUrl + "/keys/" + name + "/" + version, cred,
            { disableChallengeResourceVerification: true });
          const r = await c.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: Buffer.from(enc, "base64url") });
          return Buffer.from(r.result);
        };
        (async () => {
          const out = await sops.decrypt(fs.readFileSync(process.argv[1], "utf8"),
            { filename: process.argv[1], azureDecrypt });
          process.stdout.write(typeof out === "string" ? out : JSON.stringify(out));
        })().catch((e) => { console.error("independent decrypt failed:", e.message); process.exit(1); });
        ' "$1" "$TOP"
}

step "encrypt a Secret with --azure-kv"
secret s1 hunter2 >s1.yaml
cp s1.yaml s1.orig
run "$S" encrypt --azure-kv "$LAB_KEY_URL" s1.yaml
expect_rc 0
printf '%s\n' "$OUT" >s1.enc.yaml
expect_out "azure_kv:"
expect_out "vault_url: $LAB_VAULT_URL"
expect_out "name: $LAB_KEY_NAME"
expect_out "version: ${LAB_KEY_URL##*/}"
expect_no_out "hunter2"
enc=$(azkv_field s1.enc.yaml enc)
[[ $enc =~ ^[A-Za-z0-9_-]{342}$ ]] || fail "enc is not unpadded base64url of 256 bytes: $enc"
[[ $(azkv_field s1.enc.yaml created_at) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    fail "created_at is not RFC 3339 UTC"

step "the lab's Key Vault decrypts enc to the 32-byte data key"
run "$AZPROBE" decrypt "$LAB_KEY_URL" "$enc"
expect_rc 0
[[ $OUT =~ ^[0-9a-f]{64}$ ]] || fail "decrypt did not give 32 bytes: $OUT"

step "an independent SOPS decryptor (lab, official Key Vault client) reads the file"
plain=$(independent_decrypt s1.enc.yaml) || fail "independent decrypt failed"
[[ $plain == *hunter2* ]] || fail "independent decrypt lacks the value: $plain"

step "decrypt returns the input"
run "$S" decrypt s1.enc.yaml
expect_rc 0
expect_eq "$OUT" "$(cat s1.orig)" "decrypted Secret"

step "SOPS_AZURE_KEYVAULT_URLS, and a version-less key URL"
SOPS_AZURE_KEYVAULT_URLS="$LAB_VAULT_URL/keys/$LAB_KEY_NAME" run "$S" encrypt s1.yaml
expect_rc 0
expect_out "version: ${LAB_KEY_URL##*/}"

step "50 files in one run: one Key Vault request with auto wrapping"
for i in $(seq 1 50); do secret "s$i" "value-$i" >"f$i.yaml"; done
files=(f{1..50}.yaml)
export XDG_CACHE_HOME=$TMP/cache-50
counters_reset
run "$S" encrypt -i --azure-kv "$LAB_KEY_URL" "${files[@]}"
expect_rc 0
expect_eq "$(counter keyvault.requests)" 1 "Key Vault requests for 50 files"
expect_eq "$(counter entra.token)" 1 "token requests for 50 files"
grep -q "enc: " f50.yaml || fail "f50.yaml not encrypted in place"

step "decrypting 50 files: concurrent Key Vault decrypts, one token"
counters_reset
# every decrypt answers after 400 ms: one after the other would take 20 s
verb fault slow 50 op=decrypt delayMs=400
t0=$(date +%s%3N)
run "$S" decrypt -i "${files[@]}"
t1=$(date +%s%3N)
verb fault clear
expect_rc 0
# concurrent: well under 20 s; bounded (~8 in flight): at least 7 rounds
((t1 - t0 < 10000)) || fail "50 slow decrypts took $((t1 - t0)) ms: not concurrent"
((t1 - t0 >= 2000)) || fail "50 slow decrypts took $((t1 - t0)) ms: more than ~8 in flight"
expect_eq "$(counter keyvault.decrypt)" 50 "decrypt requests"
expect_eq "$(counter entra.token)" 1 "token requests"
grep -q "password: value-50" f50.yaml || fail "f50.yaml not decrypted"

step ".sops.yaml azure_keyvault mixed with age"
age-keygen -o age.key 2>/dev/null
recipient=$(age-keygen -y age.key)
cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: mixed.*\.yaml\$
    encrypted_regex: ^(data|stringData)\$
    azure_keyvault: $LAB_KEY_URL
    age: $recipient
YAML
secret mixed hunter3 >mixed.yaml
cp mixed.yaml mixed.orig
run "$S" encrypt -i mixed.yaml
expect_rc 0
grep -q "recipient: $recipient" mixed.yaml || fail "no age entry"
grep -q "vault_url: $LAB_VAULT_URL" mixed.yaml || fail "no azure_kv entry"
run env -u AZURE_CLIENT_SECRET SOPS_AGE_KEY_FILE=age.key PATH=/usr/bin:/bin:$BIN_DIR \
    "$S" decrypt mixed.yaml
expect_rc 0
expect_eq "$OUT" "$(cat mixed.orig)" "decrypted with age only"
run "$S" decrypt mixed.yaml
expect_rc 0
expect_eq "$OUT" "$(cat mixed.orig)" "decrypted with Key Vault only"

step "a look-alike vault host in .sops.yaml or on the command line gets no token"
port=${LAB_VAULT_URL##*:}
mkdir -p evil && cat >evil/.sops.yaml <<YAML
creation_rules:
  - azure_keyvault: https://localhost:$port/keys/$LAB_KEY_NAME/${LAB_KEY_URL##*/}
YAML
secret e1 x >evil/e1.yaml
counters_reset
cd evil || fail "no evil dir"
run "$S" encrypt e1.yaml
cd .. || fail "cd .."
expect_rc 2
expect_err "refusing to send an Azure token"
run "$S" encrypt --azure-kv "https://$LAB_VAULT_NAME.vault.azure.net.example.test/keys/k" s1.yaml
expect_err "not under an Azure Key Vault domain"
expect_eq "$(counter keyvault.requests)" 0 "requests reaching the vault"
expect_eq "$(counter entra.token)" 0 "tokens requested"

step "faults: two 429s then success (remote wrapping)"
cp s1.orig t.yaml
verb fault 429 2 op=encrypt retryAfter=1
run "$S" encrypt -i --key-wrap remote --azure-kv "$LAB_KEY_URL" t.yaml
expect_rc 0
grep -q "enc: " t.yaml || fail "t.yaml not encrypted"

step "faults: persistent 5xx fails within --request-timeout, -i input untouched"
cp s1.orig t.yaml
verb fault 5xx 1000 op=encrypt status=503
t0=$(date +%s)
run "$S" encrypt -i --key-wrap remote --request-timeout 4s --azure-kv "$LAB_KEY_URL" t.yaml
t1=$(date +%s)
verb fault clear
((RC != 0)) || fail "encrypt succeeded against a failing vault"
expect_err "503"
((t1 - t0 <= 6)) || fail "took $((t1 - t0)) s for --request-timeout 4s"
cmp -s t.yaml s1.orig || fail "t.yaml changed after a failed encrypt"
cp s1.orig tt.yaml
"$S" encrypt --azure-kv "$LAB_KEY_URL" tt.yaml >t.enc.yaml || fail "encrypt for decrypt faults"
cp t.enc.yaml t.enc.orig
verb fault 5xx 1000 op=decrypt status=500
run "$S" decrypt -i --request-timeout 3s t.enc.yaml
verb fault clear
((RC != 0)) || fail "decrypt succeeded against a failing vault"
cmp -s t.enc.yaml t.enc.orig || fail "t.enc.yaml changed after a failed decrypt"

step "faults: a connection cut mid-answer is retried"
verb fault drop 1 op=decrypt
run "$S" decrypt t.enc.yaml
expect_rc 0
expect_eq "$OUT" "$(cat s1.orig)" "decrypt after a dropped connection"

step "Forbidden: identity without encrypt using --key-wrap remote"
cp s1.orig t.yaml
IDENTITY_ENDPOINT=$LAB_IDENTITY_ENDPOINT IDENTITY_HEADER=$LAB_IDENTITY_HEADER \
    run env -u AZURE_CLIENT_ID "$S" encrypt -i --azure-auth managed-identity \
    --key-wrap remote --azure-kv "$LAB_KEY_URL" t.yaml
((RC != 0)) || fail "encrypt without the encrypt permission succeeded"
expect_err "lacks the key permission 'encrypt'"
expect_err "$LAB_PRINCIPAL_ID"
expect_err "az keyvault set-policy"
cmp -s t.yaml s1.orig || fail "t.yaml changed after Forbidden"

step "Forbidden: identity without decrypt"
verb policy set "$LAB_SP_OBJECT_ID" get,encrypt
run "$S" decrypt t.enc.yaml
verb policy set "$LAB_SP_OBJECT_ID" get,encrypt,decrypt,wrapKey,unwrapKey
((RC != 0)) || fail "decrypt without the decrypt permission succeeded"
expect_err "lacks the key permission 'decrypt'"
expect_err "$LAB_SP_OBJECT_ID"
expect_err "--key-permissions decrypt"

step "--azure-auth forces the credential; -v 2 names it"
run "$S" decrypt -v 2 --azure-auth azure-cli t.enc.yaml
expect_rc 0
expect_err "using the azure-cli credential"
echo "all sopsenc Azure checks passed"
