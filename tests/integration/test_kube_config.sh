#!/usr/bin/env bash
# test_kube_config.sh - common/kube finds the same cluster, user and
# namespace as the real kubectl, for a matrix of kubeconfigs, and reaches
# the lab with each (certificate data and files, relative paths, token,
# tokenFile, several merged files, exec plugins v1 and v1beta1 with expiry,
# in-cluster).  kubectl is asked with `config view --minify --flatten` and
# by the URL and identity of a real request.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PROBE=$("$TOP/tests/tools/kubeprobe-build.sh") || fail "cannot build kubeprobe"
lab_start
LABCFG=$KUBECONFIG
export HOME=$TMP/home
mkdir -p "$HOME"
unset KUBECONFIG

M=$TMP/m
mkdir -p "$M/pki" "$M/dir/nested" "$M/bin"
kv() { kubectl --kubeconfig "$LABCFG" config view --raw -o jsonpath="$1"; }
SERVER=$(kv '{.clusters[0].cluster.server}')
kv '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$M/pki/ca.crt"
kv '{.users[?(@.name=="lab-admin")].user.client-certificate-data}' | base64 -d >"$M/pki/admin.crt"
kv '{.users[?(@.name=="lab-admin")].user.client-key-data}' | base64 -d >"$M/pki/admin.key"
RTOKEN=$(kv '{.users[?(@.name=="restricted")].user.token}')
b64() { base64 -w0 "$1"; }
SSR='{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}'
echo "$SSR" >"$M/ssr.json"

# A ServiceAccount token for tokenFile and in-cluster cases.
run "$PROBE" --kubeconfig "$LABCFG" token flux-system kustomize-controller "" 3600 --out "$M/pki/sa.token"
expect_rc 0
expect_out '"sub":	"system:serviceaccount:flux-system:kustomize-controller"'

# ---- what kubectl resolves ------------------------------------------------
sha() { sha256sum | cut -d' ' -f1; }
# kubectl_view FLAGS... -> "context|cluster|user|server|ca|cert|key|token"
kubectl_view() {
    local j
    j=$(kubectl config view --minify --flatten -o json "$@") || return 1
    local ctx cl us srv ca cert key tok
    ctx=$(jq -r '."current-context"' <<<"$j")
    cl=$(jq -r '.contexts[0].context.cluster' <<<"$j")
    us=$(jq -r '.contexts[0].context.user // ""' <<<"$j")
    srv=$(jq -r '.clusters[0].cluster.server' <<<"$j"); srv=${srv%/}
    ca=$(jq -r '.clusters[0].cluster."certificate-authority-data" // empty' <<<"$j" | base64 -d | sha)
    cert=$(jq -r '.users[0].user."client-certificate-data" // empty' <<<"$j" | base64 -d | sha)
    key=$(jq -r '.users[0].user."client-key-data" // empty' <<<"$j" | base64 -d | sha)
    tok=$(jq -r '.users[0].user.token // empty' <<<"$j" | tr -d '\n' | sha)
    echo "$ctx|$cl|$us|$srv|$ca|$cert|$key|$tok"
}
empty_sha=$(printf '' | sha)
probe_view() {
    local j
    j=$("$PROBE" "$@" config) || return 1
    local f=(context cluster user server certificate-authority-sha256
             client-certificate-sha256 client-key-sha256 token-sha256) out="" x v
    for x in "${f[@]}"; do
        v=$(jq -r --arg k "$x" '.[$k] // empty' <<<"$j")
        [[ -z $v && $x == *sha256 ]] && v=$empty_sha
        out+="$v|"
    done
    echo "${out%|}"
}
# The namespace and server of a real kubectl request, and who the lab
# thinks the user is.
kubectl_reach() {
    local log url ns user
    log=$(kubectl -v=6 get configmaps "$@" 2>&1 >/dev/null)
    url=$(grep -o 'GET https://[^ ]*/configmaps[^ ]*' <<<"$log" | tail -1)
    ns=$(sed -n 's#.*/namespaces/\([^/]*\)/configmaps.*#\1#p' <<<"$url")
    user=$(kubectl create --raw /apis/authentication.k8s.io/v1/selfsubjectreviews \
        -f "$M/ssr.json" "$@" | jq -r .status.userInfo.username)
    echo "${url#GET }" | sed 's#/api/v1/.*##' | tr -d '\n'
    echo "|$ns|$user"
}
probe_reach() {
    local j
    j=$("$PROBE" "$@" whoami) || return 1
    jq -r '"\(.server)|\(.namespace)|\(.username)"' <<<"$j"
}
same_as_kubectl() {
    local what=$1 k p
    shift
    k=$(kubectl_view "$@") || fail "$what: kubectl config view failed"
    p=$(probe_view "$@") || { run "$PROBE" "$@" config; fail "$what: kubeprobe config failed"; }
    expect_eq "$p" "$k" "$what: resolved config"
    printf "   %s: %s\n" "$what" "${p:0:120}"
    k=$(kubectl_reach "$@")
    p=$(probe_reach "$@") || { run "$PROBE" "$@" whoami; fail "$what: kubeprobe whoami failed"; }
    expect_eq "$p" "$k" "$what: server|namespace|user"
    [[ $p == *"|"*"|"?* ]] || fail "$what: no user reached ($p)"
    printf '   %s: %s\n' "$what" "$p"
}

# ---- the matrix ------------------------------------------------------------
step "certificate and CA data, namespace from the context"
cat >"$M/certdata.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $SERVER/
    certificate-authority-data: $(b64 "$M/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$M/pki/admin.crt")
    client-key-data: $(b64 "$M/pki/admin.key")
contexts:
- name: c
  context: {cluster: lab, user: admin, namespace: team-a}
current-context: c
EOF
same_as_kubectl certdata --kubeconfig "$M/certdata.yaml"
same_as_kubectl "certdata -n" --kubeconfig "$M/certdata.yaml" -n flux-system

step "impersonation (as, as-groups) on top of the admin certificate"
sed -e 's/^    client-key-data: .*/&\n    as: impersonated-user\n    as-groups: [team-x, team-y]/' "$M/certdata.yaml" >"$M/as.yaml"
same_as_kubectl impersonation --kubeconfig "$M/as.yaml"
run "$PROBE" --kubeconfig "$M/as.yaml" whoami
expect_out '"username":	"impersonated-user"'

step "certificate files by relative paths (against the file's directory)"
cat >"$M/dir/files.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: ../pki/ca.crt}
users:
- name: admin
  user: {client-certificate: ./../pki/admin.crt, client-key: nested/../../pki/admin.key}
contexts:
- name: files
  context: {cluster: lab, user: admin}
current-context: files
EOF
(cd / && same_as_kubectl "relative files" --kubeconfig "$M/dir/files.yaml") || exit 1
run "$PROBE" --kubeconfig "$M/dir/files.yaml" config
expect_out "\"certificate-authority\":	\"$M/pki/ca.crt\""

step "token, and tokenFile (relative), in KUBECONFIG"
cat >"$M/dir/token.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: ../pki/ca.crt}
users:
- name: restricted
  user: {token: "$RTOKEN"}
- name: sa
  user: {tokenFile: ../pki/sa.token}
contexts:
- name: tok
  context: {cluster: lab, user: restricted, namespace: apps}
- name: tokfile
  context: {cluster: lab, user: sa}
current-context: tok
EOF
KUBECONFIG=$M/dir/token.yaml same_as_kubectl token
KUBECONFIG=$M/dir/token.yaml same_as_kubectl tokenFile --context tokfile
run env KUBECONFIG="$M/dir/token.yaml" "$PROBE" --context tokfile whoami
expect_out 'system:serviceaccount:flux-system:kustomize-controller'

step "several files merged, first wins per entry; --context picks a later one"
mkdir -p "$M/one" "$M/two" "$M/three"
cat >"$M/one/a.yaml" <<EOF
current-context: merged
contexts:
- name: merged
  context: {cluster: lab, user: red, namespace: ns-from-a}
users:
- name: red
  user: {token: "$RTOKEN"}
EOF
cat >"$M/two/b.yaml" <<EOF
current-context: from-b
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: ../pki/ca.crt}
users:
- name: red
  user: {token: wrong-token-must-not-win}
- name: blue
  user: {client-certificate: ../pki/admin.crt, client-key: ../pki/admin.key}
contexts:
- name: from-b
  context: {cluster: lab, user: blue}
EOF
cat >"$M/three/c.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: merged
  context: {cluster: nowhere, user: nobody}
EOF
# ("missing" is skipped, duplicates dropped)
LIST="$M/one/a.yaml:$M/missing.yaml:$M/two/b.yaml::$M/three/c.yaml:$M/one/a.yaml"
(cd "$M/three" && KUBECONFIG=$LIST same_as_kubectl merged) || exit 1
(cd "$M/three" && KUBECONFIG=$LIST same_as_kubectl "merged --context" --context from-b) || exit 1

step "exec plugin v1 (relative command) and v1beta1 (PATH, env, args, cluster info)"
cat >"$M/bin/plug.sh" <<'EOF'
#!/bin/sh
# a credential plugin: counts its runs, keeps its input, prints a token
dir=$(dirname "$0")
n=$(cat "$dir/runs-$PLUG_ID" 2>/dev/null || echo 0); n=$((n + 1))
echo "$n" >"$dir/runs-$PLUG_ID"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$dir/info-$PLUG_ID.json"
echo "$*" >"$dir/args-$PLUG_ID"
tok=$(cat "$PLUG_TOKEN_FILE")
# PLUG_BAD_FIRST: the first run hands out a token the lab rejects
if [ -n "$PLUG_BAD_FIRST" ] && [ "$n" = 1 ]; then tok=not-a-valid-token; fi
exp=""
if [ -n "$PLUG_TTL" ]; then
  exp=$(date -u -d "+$PLUG_TTL seconds" +%Y-%m-%dT%H:%M:%SZ)
  exp=", \"expirationTimestamp\": \"$exp\""
fi
ver=$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed 's/.*"apiVersion":"\([^"]*\)".*/\1/')
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s"%s}}\n' "$ver" "$tok" "$exp"
EOF
chmod +x "$M/bin/plug.sh"
cp "$M/bin/plug.sh" "$M/bin/kubelogin"
printf '%s' "$RTOKEN" >"$M/pki/restricted.token"
cat >"$M/dir/exec.yaml" <<EOF
clusters:
- name: lab
  cluster:
    server: "$SERVER"
    certificate-authority-data: $(b64 "$M/pki/ca.crt")
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: lab-test}
users:
- name: v1
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ../bin/plug.sh
      interactiveMode: Never
      env:
      - {name: PLUG_ID, value: v1}
      - {name: PLUG_TOKEN_FILE, value: $M/pki/sa.token}
      - {name: PLUG_TTL, value: "600"}
- name: v1beta1
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, 00000000-0000-0000-0000-000000000001, --login, devicecode]
      provideClusterInfo: true
      env:
      - {name: PLUG_ID, value: wrong}
      - {name: PLUG_TOKEN_FILE, value: $M/pki/restricted.token}
      - {name: PLUG_ID, value: beta}
contexts:
- name: v1
  context: {cluster: lab, user: v1, namespace: flux-system}
- name: v1beta1
  context: {cluster: lab, user: v1beta1}
current-context: v1
EOF
export PATH=$M/bin:$PATH
same_as_kubectl "exec v1" --kubeconfig "$M/dir/exec.yaml"
same_as_kubectl "exec v1beta1" --kubeconfig "$M/dir/exec.yaml" --context v1beta1
run jq -c . "$M/bin/info-v1.json"
expect_eq "$OUT" '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}' "v1 exec info"
# kubectl ran the v1beta1 plugin last: compare what ours sends with its input
kubectl --kubeconfig "$M/dir/exec.yaml" --context v1beta1 get --raw /version >/dev/null
k_info=$(jq -S . "$M/bin/info-beta.json")
"$PROBE" --kubeconfig "$M/dir/exec.yaml" --context v1beta1 raw /version >/dev/null
p_info=$(jq -S . "$M/bin/info-beta.json")
expect_eq "$p_info" "$k_info" "v1beta1 KUBERNETES_EXEC_INFO (provideClusterInfo)"
expect_eq "$(jq -r .spec.cluster.config.audience <<<"$p_info")" lab-test "cluster extension"
expect_eq "$(cat "$M/bin/args-beta")" "get-token --environment AzurePublicCloud --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --client-id 80faf920-1908-4b52-b5ef-a8e7bedfc67a --tenant-id 00000000-0000-0000-0000-000000000001 --login devicecode" "plugin args"

step "exec plugin that returns a client certificate"
cat >"$M/bin/cert-plug.sh" <<EOF
#!/bin/sh
jq -n -c --rawfile c "$M/pki/admin.crt" --rawfile k "$M/pki/admin.key" \
  '{kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1",
    status: {clientCertificateData: \$c, clientKeyData: \$k}}'
EOF
chmod +x "$M/bin/cert-plug.sh"
cat >"$M/certexec.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: pki/ca.crt}
users:
- name: plugcert
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: bin/cert-plug.sh, interactiveMode: Never}
contexts:
- name: pc
  context: {cluster: lab, user: plugcert}
current-context: pc
EOF
same_as_kubectl "exec client certificate" --kubeconfig "$M/certexec.yaml"
run "$PROBE" --kubeconfig "$M/certexec.yaml" whoami
expect_out '"username":	"lab-admin"'

step "exec credential cached until it expires, then run again"
rm -f "$M/bin/runs-v1"
run "$PROBE" --kubeconfig "$M/dir/exec.yaml" twice v1 configmaps kube-root-ca.crt
expect_eq "$(cat "$M/bin/runs-v1")" 1 "runs with a 600 s credential"
rm -f "$M/bin/runs-v1"
sed -i 's/value: "600"/value: "16"/' "$M/dir/exec.yaml"
run env KUBEPROBE_PAUSE_MS=2500 "$PROBE" --kubeconfig "$M/dir/exec.yaml" -v 2 twice v1 configmaps kube-root-ca.crt
expect_rc 0
expect_eq "$(cat "$M/bin/runs-v1")" 2 "runs when the credential expires between two requests"

step "a token the server rejects (401) makes the plugin run again, once"
rm -f "$M/bin/runs-v1"
sed -i 's/value: "16"/value: "600"/' "$M/dir/exec.yaml"
run env PLUG_BAD_FIRST=1 "$PROBE" --kubeconfig "$M/dir/exec.yaml" -v 2 whoami
expect_rc 0
expect_out 'system:serviceaccount:flux-system:kustomize-controller'
expect_err 'answered 401'
expect_eq "$(cat "$M/bin/runs-v1")" 2 "runs after a 401"

step "a missing exec command shows its installHint"
cat >"$M/missing.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: $M/pki/ca.crt}
users:
- name: aad
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin-not-installed-here
      args: [get-token, --login, devicecode]
      installHint: |
        kubelogin is not installed which is required to connect to AAD enabled cluster.
        To learn more, please go to https://aka.ms/aks/kubelogin
contexts:
- name: aks
  context: {cluster: lab, user: aad}
current-context: aks
EOF
run "$PROBE" --kubeconfig "$M/missing.yaml" whoami
expect_rc 1
expect_err 'exec: executable kubelogin-not-installed-here not found'
expect_err 'kubelogin is not installed which is required to connect to AAD enabled cluster.'
expect_err 'https://aka.ms/aks/kubelogin'

step "in-cluster configuration (own mount namespace with the service account files)"
if unshare -m true 2>/dev/null; then
    host=${SERVER#https://}; host=${host%:*}; port=${SERVER##*:}
    cat >"$M/incluster.sh" <<EOF
set -e
mount -t tmpfs fluxwi-test /run
d=/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p \$d
cp "$M/pki/sa.token" \$d/token
cp "$M/pki/ca.crt" \$d/ca.crt
echo flux-system >\$d/namespace
export KUBERNETES_SERVICE_HOST=$host KUBERNETES_SERVICE_PORT=$port
export HOME=$M/emptyhome
unset KUBECONFIG
echo "kubectl: \$(kubectl -v=6 get configmaps 2>&1 >/dev/null | grep -o 'GET https://[^ ]*/configmaps' | tail -1)"
echo "probe: \$("$PROBE" -v 6 raw /version 2>&1 >/dev/null | grep -o 'GET https://[^ ]*' | head -1)"
"$PROBE" whoami
"$PROBE" config
POD_NAMESPACE=from-env "$PROBE" config
EOF
    mkdir -p "$M/emptyhome"
    run unshare -m bash "$M/incluster.sh"
    expect_rc 0
    expect_out "kubectl: GET $SERVER/api/v1/namespaces/flux-system/configmaps"
    expect_out "probe: GET $SERVER/version"
    expect_out '"username":	"system:serviceaccount:flux-system:kustomize-controller"'
    expect_out '"namespace":	"flux-system"'
    expect_out '"inCluster":	true'
    expect_out '"namespace":	"from-env"'
else
    echo "   (skipped: cannot create a mount namespace here)"
fi

step "tls-server-name, insecure-skip-tls-verify, proxy-url and HTTPS_PROXY"
port=${SERVER##*:}
tlscfg() {  # $1: extra cluster fields (flow map entries)
    cat <<EOF
clusters:
- name: lab
  cluster: {server: "https://127.0.0.1:$port"$1}
users:
- name: sa
  user: {tokenFile: "$M/pki/sa.token"}
contexts:
- name: t
  context: {cluster: lab, user: sa}
current-context: t
EOF
}
tlscfg ", certificate-authority: $M/pki/ca.crt, tls-server-name: localhost" >"$M/sni.yaml"
same_as_kubectl "tls-server-name" --kubeconfig "$M/sni.yaml"
tlscfg ", certificate-authority: $M/pki/ca.crt, tls-server-name: wrong.example" >"$M/badsni.yaml"
kubectl --kubeconfig "$M/badsni.yaml" get --raw /version >/dev/null 2>&1 && fail "kubectl accepted a wrong tls-server-name"
run "$PROBE" --kubeconfig "$M/badsni.yaml" raw /version
expect_rc 1
expect_err 'tls-server-name'
tlscfg ", insecure-skip-tls-verify: true" >"$M/insecure.yaml"
same_as_kubectl "insecure" --kubeconfig "$M/insecure.yaml"
run "$PROBE" --kubeconfig "$M/insecure.yaml" raw /version
expect_rc 0
expect_err 'insecure-skip-tls-verify is set for cluster "lab"'
tlscfg ", certificate-authority: $M/pki/sa.token" >"$M/badca.yaml"
run "$PROBE" --kubeconfig "$M/badca.yaml" raw /version
expect_rc 1
# a CONNECT proxy that logs what goes through it
node "$TOP/tests/tools/connect-proxy.js" "$M/proxy.log" >"$M/proxy.port" &
proxy_pid=$!
on_exit "kill $proxy_pid"
for _ in $(seq 50); do [[ -s $M/proxy.port ]] && break; sleep 0.1; done
pport=$(cat "$M/proxy.port")
[[ -n $pport ]] || fail "the test proxy did not start"
tlscfg ", certificate-authority: $M/pki/ca.crt, proxy-url: http://127.0.0.1:$pport" >"$M/proxy.yaml"
: >"$M/proxy.log"
kubectl --kubeconfig "$M/proxy.yaml" get --raw /version >/dev/null || fail "kubectl through proxy-url"
k_lines=$(grep -c "CONNECT 127.0.0.1:$port" "$M/proxy.log")
: >"$M/proxy.log"
run "$PROBE" --kubeconfig "$M/proxy.yaml" -A twice v1 namespaces default
expect_rc 0
p_lines=$(grep -c "CONNECT 127.0.0.1:$port" "$M/proxy.log")
((k_lines >= 1)) || fail "kubectl did not use proxy-url"
expect_eq "$p_lines" 1 "tunnels through proxy-url (one connection for two requests)"
tlscfg ", certificate-authority: $M/pki/ca.crt, proxy-url: http://127.0.0.1:1" >"$M/deadproxy.yaml"
run "$PROBE" --kubeconfig "$M/deadproxy.yaml" raw /version
expect_rc 1
# HTTPS_PROXY from the environment is not used for loopback servers (Go's
# rule), but is for other names
: >"$M/proxy.log"
run env HTTPS_PROXY="http://127.0.0.1:$pport" "$PROBE" --kubeconfig "$M/sni.yaml" raw /version
expect_rc 0
expect_eq "$(wc -l <"$M/proxy.log")" 0 "proxied loopback requests"
tlscfg ", certificate-authority: $M/pki/ca.crt" | sed "s#https://127.0.0.1:#https://lab.fluxwi.test:#" >"$M/named.yaml"
run env HTTPS_PROXY="http://127.0.0.1:$pport" "$PROBE" --kubeconfig "$M/named.yaml" raw /version
grep -q "CONNECT lab.fluxwi.test:$port" "$M/proxy.log" || fail "HTTPS_PROXY not used for a named host"

step "errors kubectl also reports"
run "$PROBE" --kubeconfig "$M/certdata.yaml" --context nope config
expect_rc 2
expect_err 'context "nope" does not exist'
run "$PROBE" --kubeconfig "$M/nonexistent.yaml" config
expect_rc 2
expect_err 'nonexistent.yaml does not exist'
run env HOME="$M/emptyhome" "$PROBE" config
expect_rc 2
expect_err 'no kubeconfig found (looked in'
echo "   all kubeconfig cases agree with kubectl"
