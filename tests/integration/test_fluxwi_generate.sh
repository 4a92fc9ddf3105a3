# test_fluxwi_generate.sh - `kubectl fluxwi generate` on copies of the seed's
# GitOps layout, checked with the real `kubectl kustomize`.
source "$TOP/tests/integration/lib.sh"
FIX=$TOP/tests/fixtures/fluxwi
CID=11111111-2222-3333-4444-555555555555
TID=72f988bf-0000-0000-0000-000000000000
CID2=99999999-8888-7777-6666-555555555555

# build DIR: runs the real `kubectl kustomize DIR` once, and flattens its
# objects into $TMP/kz.flat lines "Kind|name|path|to|field=value";
# kz KIND NAME FIELD...: one field of that output ("<absent>" when none).
build() {
    : >"$TMP/kz.flat"
    kubectl kustomize "$1" >"$TMP/kz.yaml" 2>"$TMP/kz.err" || { : >"$TMP/kz.yaml"; return 0; }
    NODE_PATH="$TOP/tests/lab/node_modules" node -e '
        const YAML = require("yaml"), fs = require("fs");
        const out = [];
        const walk = (pre, v) => {
            if (v && typeof v === "object") for (const k of Object.keys(v)) walk(pre + "|" + k, v[k]);
            else out.push(pre + "=" + String(v));
        };
        for (const d of YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8")))
            { const o = d.toJS(); if (o) walk(o.kind + "|" + o.metadata.name, o); }
        fs.writeFileSync(process.argv[2], out.join("\n") + "\n");
    ' "$TMP/kz.yaml" "$TMP/kz.flat"
}
kz() {
    [[ -s $TMP/kz.yaml ]] || { printf "<kustomize failed>"; return 0; }
    local key line
    key=$(IFS='|'; printf '%s' "$*")
    line=$(grep -F -m1 -- "$key=" "$TMP/kz.flat" | grep -F -- "$key=" | head -1)
    [[ $line == "$key="* ]] && printf '%s' "${line#"$key="}" || printf '<absent>'
}
tree_sum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
tree_stat() { (cd "$1" && find . -printf '%p %s %T@ %m\n' | sort); }

new_repo() {
    rm -rf "$TMP/repo"
    cp -r "$TOP/tests/lab/seed" "$TMP/repo"
    BOOT=$TMP/repo/gitops/aks/flux-system
}

step "the seed's layout: before, the controller has no workload identity"
new_repo
build "$BOOT"
expect_eq "$(kz ServiceAccount kustomize-controller metadata annotations)" "<absent>" "SA annotations before"

step "--dry-run prints a unified diff and writes nothing"
before=$(tree_stat "$TMP/repo")
cd "$TMP/repo"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dry-run
cd "$TOP"
expect_rc 0
expect_out "--- /dev/null"
expect_out "+++ b/gitops/aks/flux-system/patches/kustomize-controller-service-account.yaml"
expect_out "+++ b/gitops/aks/flux-system/patches/kustomize-controller-deployment.yaml"
expect_out "--- a/gitops/aks/flux-system/kustomization.yaml"
expect_out "+- path: patches/kustomize-controller-deployment.yaml"
expect_out "+    azure.workload.identity/client-id: $CID"
expect_err "nothing was written"
expect_eq "$(tree_stat "$TMP/repo")" "$before" "tree after --dry-run"
# the diff applies to the tree and yields what a real run writes
(cd "$TMP/repo" && printf "%s\n" "$OUT" | git apply -p1) || fail "the --dry-run diff does not apply"
applied=$(tree_sum "$TMP/repo")

step "generate found from the current directory writes the two files and the entries"
new_repo
cd "$TMP/repo"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID"
cd "$TOP"
expect_rc 0
expect_out "created ./gitops/aks/flux-system/patches/kustomize-controller-service-account.yaml"
expect_out "updated ./gitops/aks/flux-system/kustomization.yaml"
expect_eq "$(tree_sum "$TMP/repo")" "$applied" "tree written vs the --dry-run diff applied"
build "$BOOT"
expect_eq "$(kz ServiceAccount kustomize-controller metadata annotations azure.workload.identity/client-id)" "$CID" "client-id annotation"
expect_eq "$(kz ServiceAccount kustomize-controller metadata annotations azure.workload.identity/tenant-id)" "$TID" "tenant-id annotation"
expect_eq "$(kz ServiceAccount kustomize-controller metadata labels azure.workload.identity/use)" "true" "SA label"
expect_eq "$(kz Deployment kustomize-controller spec template metadata labels azure.workload.identity/use)" "true" "pod template label"
expect_eq "$(kz Deployment kustomize-controller spec template metadata labels app)" "kustomize-controller" "other labels kept"
expect_eq "$(kz Deployment source-controller spec template metadata labels azure.workload.identity/use)" "<absent>" "other controllers untouched"
# the original kustomization.yaml is a prefix of the new one
orig=$TOP/tests/lab/seed/gitops/aks/flux-system/kustomization.yaml
cmp -s "$orig" <(head -c "$(stat -c %s "$orig")" "$BOOT/kustomization.yaml") || fail "kustomization.yaml: original bytes changed"

step "a second run changes no byte (and rewrites nothing)"
before=$(tree_stat "$TMP/repo")
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$TMP/repo"
expect_rc 0
expect_out "unchanged"
expect_eq "$(tree_stat "$TMP/repo")" "$before" "tree after the second run"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$BOOT" --dry-run
expect_rc 0
expect_no_out "+++"

step "another identity: only the ServiceAccount patch changes"
kust=$(sha256sum <"$BOOT/kustomization.yaml")
run kubectl-fluxwi generate --client-id "$CID2" --tenant-id "$TID" --dir "$BOOT"
expect_rc 0
expect_out "updated $BOOT/patches/kustomize-controller-service-account.yaml"
expect_no_out "deployment.yaml"
expect_eq "$(sha256sum <"$BOOT/kustomization.yaml")" "$kust" "kustomization.yaml after an identity change"
build "$BOOT"
expect_eq "$(kz ServiceAccount kustomize-controller metadata annotations azure.workload.identity/client-id)" "$CID2" "new client-id"

step "comments, order and other patches survive"
new_repo
cp "$FIX/kustomization-commented.yaml" "$BOOT/kustomization.yaml"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$TMP/repo"
expect_rc 0
diff "$FIX/kustomization-commented.yaml" "$BOOT/kustomization.yaml" >"$TMP/d" 
grep -q '^<' "$TMP/d" && fail "lines of the original were changed: $(cat "$TMP/d")"
grep -q '^> ' "$TMP/d" || fail "nothing was added"
grep -n '# images come last' "$BOOT/kustomization.yaml" >/dev/null || fail "comment lost"
# the new items follow the list's own indentation, inside patches:
awk '/^patches:/{p=1} /^images:/{p=0} p && /- path: patches\/kustomize-controller-deployment.yaml/{f=1} END{exit !f}' \
    "$BOOT/kustomization.yaml" || fail "entries not inside patches:"
build "$BOOT"
expect_eq "$(kz Deployment kustomize-controller spec template metadata labels azure.workload.identity/use)" "true" "label with other patches"
grep -q -- '--log-level=debug' "$TMP/kz.yaml" || fail "the user's own patch was lost"
grep -q 'kustomize-controller:v1.6.1' "$TMP/kz.yaml" || fail "images: lost"
before=$(tree_stat "$TMP/repo")
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$TMP/repo"
expect_rc 0; expect_out "unchanged"
expect_eq "$(tree_stat "$TMP/repo")" "$before" "commented layout, second run"

step "a legacy patchesStrategicMerge list keeps working beside the new patches:"
new_repo
cp "$FIX/kustomization-legacy.yaml" "$BOOT/kustomization.yaml"
cp "$FIX/source-controller-memory.yaml" "$BOOT/"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$BOOT"
expect_rc 0
build "$BOOT"
expect_eq "$(kz Deployment kustomize-controller spec template metadata labels azure.workload.identity/use)" "true" "label (legacy layout)"
expect_eq "$(kz Deployment source-controller spec template metadata annotations fluxwi.test/legacy-patch)" "applied" "legacy patch"
# entries already listed under patchesStrategicMerge are not added twice
new_repo
mkdir -p "$BOOT/patches"
printf '%s\n' "apiVersion: kustomize.config.k8s.io/v1beta1" "kind: Kustomization" \
    "resources:" "- gotk-components.yaml" "- gotk-sync.yaml" "patchesStrategicMerge:" \
    "- patches/kustomize-controller-service-account.yaml" \
    "- patches/kustomize-controller-deployment.yaml" >"$BOOT/kustomization.yaml"
cp "$BOOT/kustomization.yaml" "$TMP/legacy-before"
run kubectl-fluxwi generate --client-id "$CID" --tenant-id "$TID" --dir "$BOOT"
expect_rc 0
cmp -s "$TMP/legacy-before" "$BOOT/kustomization.yaml" || fail "legacy entries were added again"
build "$BOOT"
expect_eq "$(kz ServiceAccount kustomize-controller metadata annotations azure.workload.identity/client-id)" "$CID" "client-id (legacy list)"

step "usage errors and unusable directories"
run kubectl-fluxwi generate --dir "$TMP/repo"
expect_rc 2; expect_err "--client-id or --identity"
run kubectl-fluxwi generate --client-id not-a-guid --dir "$TMP/repo"
expect_rc 2; expect_err "not a GUID"
mkdir -p "$TMP/empty"
run kubectl-fluxwi generate --client-id "$CID" --dir "$TMP/empty"
expect_rc 2; expect_err "no Flux bootstrap directory"
expect_err "hint:"
mkdir -p "$TMP/repo/clusters/other/flux-system"
cp "$BOOT/gotk-components.yaml" "$TMP/repo/clusters/other/flux-system/"
run kubectl-fluxwi generate --client-id "$CID" --dir "$TMP/repo"
expect_rc 2; expect_err "2 Flux bootstrap directories"; expect_err "--dir"
chmod a-w "$BOOT/patches"
if [[ $(id -u) != 0 ]]; then
    run kubectl-fluxwi generate --client-id "$CID2" --dir "$BOOT"
    expect_rc 3
fi
chmod u+w "$BOOT/patches"
echo "all generate checks passed"
