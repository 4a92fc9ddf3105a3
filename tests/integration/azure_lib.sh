# azure_lib.sh - shared by tests/integration/test_azure*.sh (sourced after lib.sh).
#
#   build_azprobe        compiles tests/tools/azprobe.c against the library
#   azure_clean_env      no Azure credential variables, IMDS on a closed port
#   admin ARGS           curl to the lab's admin API
#   counters_reset       zero the lab counters
#   counter NAME [JSON]  a lab counter (0 when absent)
#   verb NAME ARG...     a lab admin verb (fault, policy, key, ...)
#   wi_token SA FILE     a TokenRequest token (audience api://AzureADTokenExchange)
#   node_unwrap URL ENC  the official @azure/keyvault-keys CryptographyClient
#                        decrypts ENC (base64url) with RSA-OAEP-256; prints hex

# Other builds may be re-archiving build/libcommon.a right now (make removes
# and rewrites it): link against a copy, and try again a few times.
build_azprobe() {
    local lib=${TOP}/build/libcommon.a pk="yaml-0.1 libcurl libcjson openssl libbsd" i
    AZPROBE=$TMP/azprobe
    for i in 1 2 3 4 5; do
        [[ -f $lib ]] || make -C "$TOP" -s build/libcommon.a >/dev/null 2>&1
        # shellcheck disable=SC2046
        cp "$lib" "$TMP/libcommon.a" 2>/dev/null &&
            cc -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TOP/common" \
                $(pkg-config --cflags $pk) -o "$AZPROBE" "$TOP/tests/tools/azprobe.c" \
                "$TMP/libcommon.a" $(pkg-config --libs $pk) -lpthread 2>"$TMP/cc.log" &&
            return 0
        sleep 2
    done
    cat "$TMP/cc.log" >&2
    fail "cannot build azprobe"
}

azure_clean_env() {
    unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_USERNAME \
        AZURE_CLIENT_CERTIFICATE_PATH AZURE_CLIENT_CERTIFICATE_PASSWORD \
        AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT IDENTITY_HEADER \
        AZURE_TOKEN_CREDENTIALS MSI_ENDPOINT MSI_SECRET
    # a closed port: "no managed identity endpoint" without a 1 s wait
    export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9
    export XDG_CACHE_HOME=$TMP/cache
}

# The lab's admin API straight through curl (labctl starts node: slower);
# labctl when curl is not installed.
admin() {
    curl -s --fail --cacert "$LAB_DIR/ca.crt" \
        -H "Authorization: Bearer $(cat "$LAB_DIR/admin-token")" "$@"
}

have_curl() { command -v curl >/dev/null 2>&1; }

counters_reset() {
    if have_curl; then admin -X POST "$LAB_ADMIN_URL/counters/reset" >/dev/null
    else labctl counters --reset >/dev/null; fi || fail "counters reset"
}

counters_json() {
    if have_curl; then admin "$LAB_ADMIN_URL/counters"; else labctl counters; fi
}

# counter NAME [JSON]: from JSON when given (one fetch for several names)
counter() {
    local json=${2:-$(counters_json)} v
    v=$(grep -o "\"$1\": *[0-9]*" <<<"$json" | grep -o '[0-9]*$')
    echo "${v:-0}"
}

# verb NAME ARG...: an admin verb (fault, policy, key) like labctl's
verb() {
    local name=$1 args="" a
    shift
    if ! have_curl; then
        labctl "$name" "$@" >/dev/null || fail "lab verb $name $*"
        return
    fi
    for a in "$@"; do args+="${args:+,}\"$a\""; done
    admin -X POST -H 'Content-Type: application/json' -d "{\"args\":[$args]}" \
        "$LAB_ADMIN_URL/verb/$name" >/dev/null || fail "lab verb $name $*"
}

wi_token() {
    local req=$TMP/tokenrequest.json
    printf '%s' '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["api://AzureADTokenExchange"],"expirationSeconds":3600}}' >"$req"
    kubectl create --raw "/api/v1/namespaces/flux-system/serviceaccounts/$1/token" -f "$req" |
        tr -d '\n' | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' >"$2" ||
        fail "TokenRequest for $1 failed"
    [[ -s $2 ]] || fail "empty TokenRequest token for $1"
}

node_unwrap() {
    NODE_PATH=$TOP/tests/lab/node_modules NODE_EXTRA_CA_CERTS=$SSL_CERT_FILE node -e '
        const { ClientSecretCredential } = require("@azure/identity");
        const { CryptographyClient } = require("@azure/keyvault-keys");
        (async () => {
          const [keyUrl, enc] = process.argv.slice(1);
          const cred = new ClientSecretCredential(process.env.LAB_TENANT_ID,
            process.env.LAB_SP_CLIENT_ID, process.env.LAB_SP_CLIENT_SECRET,
            { authorityHost: process.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true });
          const c = new CryptographyClient(keyUrl, cred, { disableChallengeResourceVerification: true });
          const r = await c.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: Buffer.from(enc, "base64url") });
          process.stdout.write(Buffer.from(r.result).toString("hex") + "\n");
        })().catch((e) => { console.error("unwrap failed:", e.message); process.exit(1); });' "$1" "$2"
}
