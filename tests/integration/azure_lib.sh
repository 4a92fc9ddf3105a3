# azure_lib.sh - shared by tests/integration/test_azure*.sh (sourced after lib.sh).
#
#   build_azprobe        compiles tests/tools/azprobe.c against the library
#   azure_clean_env      no Azure credential variables, IMDS on a closed port
#   counter NAME         a lab counter (0 when absent)
#   wi_token SA FILE     a TokenRequest token (audience api://AzureADTokenExchange)
#   node_unwrap URL ENC  the official @azure/keyvault-keys CryptographyClient
#                        decrypts ENC (base64url) with RSA-OAEP-256; prints hex

build_azprobe() {
    local lib=${TOP}/build/libcommon.a pk="yaml-0.1 libcurl libcjson openssl libbsd"
    [[ -f $lib ]] || make -C "$TOP" -s build/libcommon.a || fail "cannot build libcommon.a"
    AZPROBE=$TMP/azprobe
    # shellcheck disable=SC2046
    cc -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TOP/common" \
        $(pkg-config --cflags $pk) -o "$AZPROBE" "$TOP/tests/tools/azprobe.c" \
        "$lib" $(pkg-config --libs $pk) -lpthread || fail "cannot build azprobe"
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

counter() {
    labctl counters | node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d));
        process.stdin.on("end", () => console.log(JSON.parse(s)[process.argv[1]] || 0));' "$1"
}

wi_token() {
    local req=$TMP/tokenrequest.json
    printf '%s' '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["api://AzureADTokenExchange"],"expirationSeconds":3600}}' >"$req"
    kubectl create --raw "/api/v1/namespaces/flux-system/serviceaccounts/$1/token" -f "$req" |
        node -e 'let s = ""; process.stdin.on("data", (d) => (s += d));
                 process.stdin.on("end", () => process.stdout.write(JSON.parse(s).status.token));' >"$2" ||
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
