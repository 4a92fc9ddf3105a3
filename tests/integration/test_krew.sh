# test_krew.sh - release archives and krew manifests: valid by krew's rules,
# installable the way `kubectl krew install --manifest --archive` installs.
source "$TOP/tests/integration/lib.sh"
check=$TOP/tests/tools/krew-check.js
dist=$TMP/dist
run "$TOP/krew/dist.sh" 0.1.0 "$dist"
expect_rc 0

step "manifests are valid"
run node "$check" validate "$dist"/plugins/*.yaml
expect_rc 0
expect_out "fluxwi.yaml: valid"; expect_out "sopsenc.yaml: valid"; expect_out "sopsverify.yaml: valid"

step "the validator refuses what krew refuses"
bad() { # NAME SED-EXPRESSION EXPECTED-MESSAGE
    mkdir -p "$TMP/bad/$1"; sed -e "$2" "$dist/plugins/fluxwi.yaml" >"$TMP/bad/$1/fluxwi.yaml"
    run node "$check" validate "$TMP/bad/$1/fluxwi.yaml"
    expect_rc 1; expect_err "$3"
}
bad upper-sha 's/sha256: \(.*\)/sha256: \U\1/' "sha256"
bad version 's/version: v0.1.0/version: v0.01.0/' "strict semver"
bad name 's/name: fluxwi/name: flux-wi/' "does not match file name"
bad kind 's/kind: Plugin/kind: Tool/' "not Plugin"
bad overlap '/^  platforms:/a\  - selector: {matchLabels: {os: linux}}\n    uri: https://x/a.tar.gz\n    sha256: abababababababababababababababababababababababababababababababab\n    bin: kubectl-fluxwi' "overlapping selectors"
bad shortdesc 's/shortDescription: .*/shortDescription: ""/' "shortDescription"

step "archives hold the executable (0755) and the licence, nothing else"
for p in fluxwi sopsenc sopsverify; do
    a=$dist/kubectl-${p}_v0.1.0_linux_amd64.tar.gz
    listing=$(tar -tvzf "$a")
    [[ $(wc -l <<<"$listing") == 2 ]] || fail "archive has other entries: $listing"
    grep -q "^-rwxr-xr-x .* kubectl-$p\$" <<<"$listing" || fail "executable mode: $listing"
    grep -q "^-rw-r--r-- .* LICENSE\$" <<<"$listing" || fail "licence: $listing"
done

step "archives are reproducible"
run "$TOP/krew/dist.sh" 0.1.0 "$TMP/dist2"
for p in fluxwi sopsenc sopsverify; do
    cmp -s "$dist/kubectl-${p}_v0.1.0_linux_amd64.tar.gz" \
        "$TMP/dist2/kubectl-${p}_v0.1.0_linux_amd64.tar.gz" || fail "$p archive differs"
done

step "installed like krew does, the plugins work through kubectl"
root=$TMP/krew
for p in fluxwi sopsenc sopsverify; do
    run node "$check" install "$dist/plugins/$p.yaml" "$dist/kubectl-${p}_v0.1.0_linux_amd64.tar.gz" "$root"
    expect_rc 0
done
run node "$check" install "$dist/plugins/fluxwi.yaml" "$dist/kubectl-sopsenc_v0.1.0_linux_amd64.tar.gz" "$root"
expect_rc 1; expect_err "checksum does not match"
run node "$check" install "$dist/plugins/fluxwi.yaml" "$dist/kubectl-fluxwi_v0.1.0_linux_amd64.tar.gz" "$root" darwin/arm64
expect_rc 1; expect_err "does not offer installation for this platform"
export PATH="$root/bin:/usr/bin:/bin"
run kubectl plugin list --name-only
expect_rc 0
expect_eq "$OUT" $'The following compatible plugins are available:\n\nkubectl-fluxwi\nkubectl-sopsenc\nkubectl-sopsverify' "plugin list"
run kubectl fluxwi --help
expect_rc 0; expect_out "kubectl fluxwi [command] [flags]"
[[ -f $root/store/LICENSE || -f $root/store/fluxwi/v0.1.0/LICENSE ]] || fail "licence not installed"

step "krew links one binary; completion kubectl adds the helper beside it"
run kubectl fluxwi completion kubectl
expect_rc 0
expect_eq "$(readlink "$root/bin/kubectl_complete-fluxwi")" "kubectl-fluxwi" "helper link"
run kubectl __complete fluxwi patch --na
expect_out "--namespace"
