#!/usr/bin/env bash
# test_kube_rest.sh - the common/kube REST client against the lab: each
# PATCH type changes an object exactly as kubectl's equivalent patch
# changes its twin; dry runs change nothing; API errors become the mapped
# messages (Forbidden, NotFound, Unauthorized, Conflict); a LIST across
# three pages returns every item; TokenRequest, discovery, rollout status
# and Flux objects.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PROBE=$("$TOP/tests/tools/kubeprobe-build.sh") || fail "cannot build kubeprobe"
lab_start
export HOME=$TMP/home
mkdir -p "$HOME"
NS=kube-test
# (the lab serves no OpenAPI and reads no protobuf: create from JSON/YAML
# manifests without client-side validation)
kcreate() { kubectl create --validate=false -f - "$@" >/dev/null; }
echo "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$NS\"}}" | kcreate ||
    fail "cannot create namespace"
cm() {
    echo "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"$NS\"},\"data\":{\"k\":\"v\"}}" | kcreate
}
P() { "$PROBE" -n "$NS" "$@"; }

# The twin objects: the same manifest, created by kubectl.
twin() {
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: $NS
  labels: {app: twin, tier: web}
  annotations: {keep: "yes", drop: "me"}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata:
      labels: {app: $1}
    spec:
      containers:
      - name: main
        image: example.com/main:1
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
      - name: side
        image: example.com/side:1
EOF
}
TWINS_EXIST=
fresh_twins() {
    if [[ -n $TWINS_EXIST ]]; then
        { twin twin-k; echo ---; twin twin-p; } |
            kubectl replace --force --validate=false -f - >/dev/null || fail "cannot recreate the twins"
    else
        { twin twin-k; echo ---; twin twin-p; } | kcreate || fail "cannot create the twins"
        TWINS_EXIST=1
        BASE=$(shapes | jq -c '.[0]')
    fi
}
# What a patch can change, without identity, timestamps or status: the two
# twins as a JSON array [twin-k, twin-p], their names replaced by T.
shapes() {
    kubectl -n "$NS" get deployment twin-k twin-p -o json | jq -S -c '[.items[] |
        .metadata.name as $n
        | del(.status, .metadata.uid, .metadata.resourceVersion,
            .metadata.creationTimestamp, .metadata.generation,
            .metadata.name, .metadata.annotations["deployment.kubernetes.io/revision"])
        | .spec.selector.matchLabels.app |= sub($n; "T")
        | .spec.template.metadata.labels.app |= sub($n; "T")
        | .metadata.managedFields = ((.metadata.managedFields // []) | map(del(.time)))]'
}
same_change() {
    local what=$1 both a b
    both=$(shapes)
    a=$(jq -S '.[0]' <<<"$both"); b=$(jq -S '.[1]' <<<"$both")
    if [[ $a != "$b" ]]; then
        diff <(echo "$a") <(echo "$b") >&2
        fail "$what: kubectl's twin and ours differ"
    fi
    [[ -n $a && $(jq -c . <<<"$a") != "$BASE" ]] || fail "$what: nothing changed"
    echo "   $what: identical"
}

step "merge patch (JSON merge, null deletes, lists replaced)"
fresh_twins
PATCH='{"metadata":{"labels":{"tier":null,"merge":"yes"},"annotations":{"drop":null}},"spec":{"template":{"spec":{"containers":[{"name":"main","image":"example.com/main:2"}]}}}}'
kubectl -n "$NS" patch deployment twin-k --type merge -p "$PATCH" --field-manager fluxwi-test >/dev/null || fail "kubectl merge patch"
run P patch apps/v1 deployments twin-p merge "$PATCH" --field-manager fluxwi-test
expect_rc 0
same_change "merge"

step "strategic merge patch (containers and env merged by name)"
fresh_twins
PATCH='{"metadata":{"labels":{"azure.workload.identity/use":"true"}},"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-29T09:15:02Z"}},"spec":{"containers":[{"name":"main","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]}]}}}}'
kubectl -n "$NS" patch deployment twin-k --type strategic -p "$PATCH" --field-manager fluxwi-test >/dev/null || fail "kubectl strategic patch"
run P patch apps/v1 deployments twin-p strategic "$PATCH" --field-manager fluxwi-test
expect_rc 0
same_change "strategic"
expect_eq "$(kubectl -n "$NS" get deploy twin-p -o jsonpath='{.spec.template.spec.containers[*].name}')" "main side" "containers kept"

step "JSON patch (escaped paths, test op)"
fresh_twins
PATCH='[{"op":"test","path":"/metadata/labels/tier","value":"web"},{"op":"add","path":"/metadata/labels/azure.workload.identity~1use","value":"true"},{"op":"replace","path":"/spec/replicas","value":2},{"op":"remove","path":"/spec/template/spec/containers/1"}]'
kubectl -n "$NS" patch deployment twin-k --type json -p "$PATCH" --field-manager fluxwi-test >/dev/null || fail "kubectl json patch"
run P patch apps/v1 deployments twin-p json "$PATCH" --field-manager fluxwi-test
expect_rc 0
same_change "json"
run P patch apps/v1 deployments twin-p json '[{"op":"test","path":"/metadata/labels/tier","value":"db"}]'
expect_rc 1

step "server-side apply (fieldManager, conflicts, force)"
fresh_twins
apply_body() {
    cat <<EOF
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"$1","namespace":"$NS","labels":{"applied":"$2"}},
 "spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}
EOF
}
apply_body twin-k one | kubectl apply --validate=false --server-side --field-manager fluxwi -f - >/dev/null || fail "kubectl apply"
run P patch apps/v1 deployments twin-p apply "$(apply_body twin-p one)" --field-manager fluxwi
expect_rc 0
same_change "apply"
# another manager changing an owned field conflicts, unless forced
apply_body twin-k two | kubectl apply --validate=false --server-side --field-manager other -f - >/dev/null 2>&1 &&
    fail "kubectl's apply should conflict"
run P patch apps/v1 deployments twin-p apply "$(apply_body twin-p two)" --field-manager other
expect_rc 1
expect_err 'conflict'
expect_err 'Conflict'
expect_err 'another field manager owns these fields'
apply_body twin-k two | kubectl apply --validate=false --server-side --force-conflicts --field-manager other -f - >/dev/null || fail "kubectl forced apply"
run P patch apps/v1 deployments twin-p apply "$(apply_body twin-p two)" --field-manager other --force
expect_rc 0
same_change "apply --force"
run P patch apps/v1 deployments twin-p apply '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"twin-p"}}'
expect_rc 1
expect_err 'needs a field manager'

step "dryRun=All changes nothing"
before=$(kubectl -n "$NS" get deploy twin-p -o jsonpath='{.metadata.resourceVersion}')
run P patch apps/v1 deployments twin-p merge '{"metadata":{"labels":{"dry":"run"}}}' --dry-run
expect_rc 0
expect_out '"dry":	"run"'
expect_eq "$(kubectl -n "$NS" get deploy twin-p -o jsonpath='{.metadata.resourceVersion}/{.metadata.labels.dry}')" "$before/" "object after a dry run"

step "Forbidden names the user, the verb and the RBAC that would allow it"
run "$PROBE" --context lab-restricted -n flux-system patch apps/v1 deployments kustomize-controller merge '{"metadata":{"labels":{"x":"y"}}}'
expect_rc 1
expect_err 'User "developer" cannot patch resource "deployments" in API group "apps"'
expect_err 'hint: developer needs a Role rule {apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"]} in namespace flux-system'
expect_err 'kubectl create rolebinding'
run "$PROBE" --context lab-restricted raw /.well-known/openid-configuration
if [[ $RC != 0 ]]; then
    expect_err 'cannot get path "/.well-known/openid-configuration"'
    expect_err 'nonResourceURLs'
fi

step "SelfSubjectAccessReview agrees with the Forbidden answers"
run P -n flux-system can-i patch apps deployments kustomize-controller
expect_rc 0
expect_eq "$OUT" yes "admin may patch"
run "$PROBE" --context lab-restricted -n flux-system can-i patch apps deployments kustomize-controller
expect_rc 0
expect_eq "$OUT" no "restricted may patch"
run "$PROBE" --context lab-restricted -n flux-system can-i create "" serviceaccounts/token
expect_eq "$OUT" no "restricted may create tokens"
run P -n flux-system can-i create "" serviceaccounts/token kustomize-controller
expect_eq "$OUT" yes "admin may create tokens"

step "NotFound: a missing object, and an API the server does not serve"
run P get apps/v1 deployments nope
expect_rc 1
expect_err 'deployments.apps "nope" not found'
expect_err "check the name and the namespace (-n; now \"$NS\")"
run P get example.com/v1 widgets w
expect_rc 1
expect_err 'does not serve this resource type or API version'

step "Unauthorized names the user and what to do"
SERVER=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
cat >"$TMP/bad.yaml" <<EOF
clusters:
- name: lab
  cluster: {server: "$SERVER", certificate-authority: $LAB_DIR/ca.crt}
users:
- name: stale
  user: {token: expired-or-invalid}
contexts:
- name: c
  context: {cluster: lab, user: stale}
current-context: c
EOF
run "$PROBE" --kubeconfig "$TMP/bad.yaml" get v1 namespaces default
expect_rc 1
expect_err 'Unauthorized'
expect_err 'the token of user "stale" is invalid or expired'
expect_no_err 'expired-or-invalid'

step "Conflict: a stale write is refused, and retried with a fresh read on request"
cm conflicted
run env KUBEPROBE_NO_RETRY=1 "$PROBE" -n "$NS" bump v1 configmaps conflicted fluxwi.test/counter
expect_rc 1
expect_err 'the object has been modified'
expect_err ': Conflict)'
expect_err 'hint: the object changed while this command was updating it'
run P bump v1 configmaps conflicted fluxwi.test/counter
expect_rc 0
expect_out '"attempts": 2'
expect_eq "$(kubectl -n "$NS" get cm conflicted -o jsonpath='{.metadata.annotations.fluxwi\.test/counter}')" 2 "annotation written on the second attempt"

step "LIST across three pages returns every item (label and field selectors)"
for i in 1 2 3 4 5 6 7; do
    printf -- '---\n{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"page-%s","namespace":"%s","labels":{"paged":"yes"}}}\n' "$i" "$NS"
done | kcreate || fail "cannot create the paged ConfigMaps"
run P -v 6 list v1 configmaps -l 'paged=yes' --limit 3
expect_rc 0
expect_out '"count":	7'
expect_eq "$(grep -c 'configmaps?limit=3' <<<"$ERR")" 3 "requests (pages)"
expect_eq "$(grep -c 'continue=' <<<"$ERR")" 2 "requests with a continue token"
want=$(kubectl -n "$NS" get cm -l paged=yes -o json | jq -c '[.items[].metadata.name]')
expect_eq "$(jq -c .names <<<"$OUT")" "$want" "names"
run P list v1 configmaps -l 'paged in (yes),!absent' --field-selector 'metadata.name!=page-3' --limit 2
expect_rc 0
expect_out '"count":	6'
expect_no_out 'page-3'
run P list v1 configmaps --field-selector 'no.such.field=x'
expect_rc 1

step "TokenRequest, issuer discovery, raw GET"
run P token flux-system kustomize-controller api://AzureADTokenExchange 3600
expect_rc 0
expect_out '"sub":	"system:serviceaccount:flux-system:kustomize-controller"'
expect_out '"api://AzureADTokenExchange"'
expect_eq "$(jq -r .claims.iss <<<"$OUT")" "$LAB_K8S_ISSUER" "token issuer"
# the same answer kubectl gets (the document, or the same refusal)
if want=$(kubectl get --raw /.well-known/openid-configuration 2>/dev/null); then
    run P raw /.well-known/openid-configuration
    expect_rc 0
    expect_eq "$(jq -S . <<<"$OUT")" "$(jq -S . <<<"$want")" "issuer discovery"
else
    run P raw /.well-known/openid-configuration
    expect_rc 1
    expect_err "$(kubectl get --raw /.well-known/openid-configuration 2>&1 | sed 's/^Error from server ([A-Za-z]*): //')"
fi
run P raw /version
expect_rc 0
expect_out '"gitVersion"'

step "rollout status after a restart"
kubectl -n "$NS" patch deployment twin-p --type merge -p \
    '{"spec":{"template":{"metadata":{"annotations":{"fluxwi/restartedAt":"x"}}}}}' >/dev/null
run P rollout "$NS" twin-p 60000
expect_rc 0
expect_out done
run P rollout "$NS" missing 5000
expect_rc 1
expect_err 'not found'

step "Flux Kustomizations"
run "$PROBE" -n flux-system ks flux-system
expect_rc 0
expect_out '"version": "v1"'
expect_out '"kind":	"Kustomization"'

step "-v 6 shows each request, -v 8 bodies without secrets"
run "$PROBE" -v 8 -n flux-system token flux-system kustomize-controller "" 3600
expect_rc 0
expect_err 'POST https://'
expect_err '201 Created in '
expect_err 'not shown'
run "$PROBE" -v 8 --context lab-restricted get v1 namespaces default
expect_no_err "$(kubectl config view --raw -o jsonpath='{.users[?(@.name=="restricted")].user.token}')"
expect_err 'Authorization: [REDACTED]'
