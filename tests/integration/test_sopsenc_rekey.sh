#!/usr/bin/env bash
# test_sopsenc_rekey.sh - kubectl sopsenc rotate and updatekeys against the
# lab: .sops.yaml creation rules with azure_keyvault (version resolved), age
# and key_groups/Shamir; updatekeys keeps the data key, values and MAC and
# reports the keys added and removed; rotate gives a new data key for the
# same recipients with comments and order kept; every result is read back
# by sops-age (files with age) and by the lab's own SOPS decryptor (Key
# Vault, key groups); Key Vault failures mid-batch, a full disk and an
# unwritable directory leave every -i input byte-identical.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/azure_lib.sh"
. "$(dirname "$0")/sopsenc_lib.sh"

lab_start
azure_clean_env
export AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID
export AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_RECIPIENTS SOPS_CONFIG SOPS_AZURE_KEYVAULT_URLS
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config
S=kubectl-sopsenc
KV_VERSION=${LAB_KEY_URL##*/}
W=$TMP/work
mkdir -p "$W/orig/groups" "$W/groups" "$W/upd/groups" "$HOME"
cd "$W" || fail "no work dir"

age-keygen -o k1.txt 2>/dev/null && age-keygen -o k2.txt 2>/dev/null &&
    age-keygen -o k3.txt 2>/dev/null || fail "age-keygen failed"
R1=$(age-keygen -y k1.txt) R2=$(age-keygen -y k2.txt) R3=$(age-keygen -y k3.txt)
cat k1.txt k2.txt >both.txt

# ENC text of one value, the MAC, lastmodified of a sops file
enc_of() { grep "^    $2: ENC" "$1"; }
untouched() { # the files are as in sums, and no temporary file is left
    sha256sum --quiet -c sums || fail "an input changed after a failed run"
    ! ls -a . groups | grep -q 'sopsenc-' || fail "a temporary file was left: $(ls -a)"
}

step "encrypt for age R1 from .sops.yaml"
cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: \.yaml\$
    age: $R1
YAML
for n in a b c d; do secret_yaml "$n" "pw-$n" >"orig/$n.yaml"; cp "orig/$n.yaml" "$n.yaml"; done
secret_yaml g "pw-g" >orig/groups/g.yaml && cp orig/groups/g.yaml groups/g.yaml
{ secret_yaml m1 one; echo ---; secret_yaml m2 two; } >orig/m.yaml && cp orig/m.yaml m.yaml
run "$S" encrypt -i a.yaml b.yaml c.yaml groups/g.yaml m.yaml
expect_rc 0
run "$S" encrypt -i --age "$R3" d.yaml
expect_rc 0
run verify_age k1.txt orig . a.yaml b.yaml c.yaml groups/g.yaml
expect_rc 0; expect_out "4 verified"

step "updatekeys: the rule adds the Key Vault key (no version) and R2"
cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: ^groups/
    shamir_threshold: 2
    key_groups:
      - azure_keyvault:
          - vaultUrl: $LAB_VAULT_URL
            key: $LAB_KEY_NAME
            version: $KV_VERSION
        age: [$R1]
      - age: [$R2]
  - path_regex: \.yaml\$
    azure_keyvault: $LAB_VAULT_URL/keys/$LAB_KEY_NAME
    age:
      - $R1
      - $R2
YAML
cp a.yaml a.before
labctl counters --reset >/dev/null
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys a.yaml
expect_rc 0
printf '%s\n' "$OUT" >upd/a.yaml
expect_err "a.yaml: keys updated"
expect_err "+ age $R2"
expect_err "+ azure_kv $LAB_VAULT_URL/keys/$LAB_KEY_NAME"
expect_no_err "- age"
cmp -s a.yaml a.before || fail "updatekeys without -i changed a.yaml"
IFS='|' read -r -a new < <(meta upd/a.yaml)
IFS='|' read -r -a old < <(meta a.before)
expect_eq "${new[0]}" "${old[0]}" "MAC after updatekeys"
expect_eq "${new[1]}" "${old[1]}" "lastmodified after updatekeys"
expect_eq "$(enc_of upd/a.yaml password)" "$(enc_of a.before password)" "encrypted value"
expect_eq "$(head -8 upd/a.yaml | cut -c1-14)" "$(head -8 a.before | cut -c1-14)" "comments and order"
expect_eq "${new[5]}" "$KV_VERSION" "resolved key version"
expect_out_keys=$(printf '%s\n' "$R1" "$R2" | sort | paste -sd' ')
[[ ${new[2]} == *"$(printf '%s\n' "$R1" "$R2" | sort | sed 's/.*/"&"/' | paste -sd,)"* ]] ||
    fail "age recipients after updatekeys: ${new[2]} (want $expect_out_keys)"
expect_eq "$(counter keyvault.requests)" 1 "Key Vault requests (one GET for the public key)"
run env SOPS_AGE_KEY_FILE=k2.txt "$S" decrypt upd/a.yaml
expect_rc 0; expect_eq "$OUT" "$(cat orig/a.yaml)" "decrypted with the added age key"
run verify_age k2.txt orig upd a.yaml
expect_rc 0; expect_out "1 verified"
run verify_lab orig upd a.yaml
expect_rc 0; expect_out "1 verified"

step "updatekeys again: already up to date, nothing changes"
run env SOPS_AGE_KEY_FILE=k2.txt "$S" updatekeys upd/a.yaml
expect_rc 0
expect_err "already up to date"
expect_eq "$OUT" "$(cat upd/a.yaml)" "an up-to-date file"

step "updatekeys several files (and a multi-document one) in one batch"
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys b.yaml c.yaml m.yaml
expect_rc 0
expect_err "updated 3 files, 0 already up to date"
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys --output upd/b.yaml b.yaml
expect_rc 0
grep -q "vault_url: $LAB_VAULT_URL" upd/b.yaml || fail "--output has no azure_kv entry"
cp upd/a.yaml a.yaml
sha256sum b.yaml c.yaml m.yaml >sums
step "updatekeys -i: the public key cannot be read (--key-wrap local): nothing written"
export XDG_CACHE_HOME=$TMP/cache-upd
labctl fault add 5xx 1000 op=get status=500 >/dev/null
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys -i --key-wrap local --request-timeout 3s b.yaml c.yaml m.yaml
labctl fault clear >/dev/null
((RC != 0)) || fail "updatekeys succeeded without the public key"
untouched
step "updatekeys -i: written in place"
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys -i b.yaml c.yaml m.yaml
expect_rc 0
expect_no_out "ENC["
expect_err "updated 3 files, 0 already up to date"
grep -q "vault_url: $LAB_VAULT_URL" m.yaml || fail "m.yaml has no azure_kv entry"
run verify_lab orig . a.yaml b.yaml c.yaml m.yaml
expect_rc 0; expect_out "4 verified"

step "updatekeys: key_groups with a Shamir threshold of 2"
run env SOPS_AGE_KEY_FILE=k1.txt "$S" updatekeys groups/g.yaml
expect_rc 0
printf '%s\n' "$OUT" >upd/groups/g.yaml
expect_err "group 1:"; expect_err "group 2:"; expect_err "+ age $R2"
expect_err "shamir_threshold: 2"
expect_eq "$(meta_field upd/groups/g.yaml 5)" "2/2" "groups/threshold"
expect_eq "$(meta_field upd/groups/g.yaml 1)" "$(meta_field groups/g.yaml 1)" "MAC after updatekeys"
run env SOPS_AGE_KEY_FILE=both.txt "$S" decrypt upd/groups/g.yaml
expect_rc 0; expect_eq "$OUT" "$(cat orig/groups/g.yaml)" "decrypted from two shares"
run env SOPS_AGE_KEY_FILE=k2.txt AZURE_CLIENT_SECRET=wrong "$S" decrypt upd/groups/g.yaml
expect_rc 128
VERIFY_AGE_KEY_FILE=k2.txt run verify_lab orig upd groups/g.yaml
expect_rc 0; expect_out "1 verified"
cp upd/groups/g.yaml groups/g.yaml

step "rotate: a new data key for the same recipients, unwrapped by Key Vault"
for f in a b c; do cp "$f.yaml" "$f.before"; done
export XDG_CACHE_HOME=$TMP/cache-rotate
labctl counters --reset >/dev/null
run "$S" rotate -i a.yaml b.yaml c.yaml
expect_rc 0
expect_eq "$(counter keyvault.decrypt)" 3 "Key Vault decrypts for three files"
expect_eq "$(counter keyvault.requests)" 4 "Key Vault requests (3 decrypt + 1 GET)"
expect_eq "$(counter entra.token)" 1 "tokens"
mapfile -t after < <(meta a.yaml b.yaml c.yaml)
mapfile -t before < <(meta a.before b.before c.before)
i=0
for f in a b c; do
    IFS='|' read -r -a n <<<"${after[i]}"
    IFS='|' read -r -a o <<<"${before[i]}"
    i=$((i + 1))
    [[ $(enc_of "$f.yaml" password) != "$(enc_of "$f.before" password)" ]] || fail "$f.yaml: value not re-encrypted"
    [[ ${n[0]} != "${o[0]}" ]] || fail "$f.yaml: MAC unchanged"
    [[ ${n[3]} != "${o[3]}" ]] || fail "$f.yaml: data key unchanged"
    expect_eq "${n[2]}" "${o[2]}" "$f.yaml recipients"
done
run env SOPS_AGE_KEY_FILE=k2.txt "$S" decrypt a.yaml
expect_rc 0; expect_eq "$OUT" "$(cat orig/a.yaml)" "rotated file decrypted (comments, order)"
run verify_age k1.txt orig . a.yaml b.yaml c.yaml
expect_rc 0; expect_out "3 verified"
run verify_lab orig . a.yaml b.yaml c.yaml
expect_rc 0; expect_out "3 verified"

step "rotate keeps key groups; --output"
run env SOPS_AGE_KEY_FILE=both.txt "$S" rotate --output upd/groups/g.yaml groups/g.yaml
expect_rc 0
IFS='|' read -r -a n < <(meta upd/groups/g.yaml)
expect_eq "${n[4]}" "2/2" "groups/threshold after rotate"
[[ ${n[0]} != "$(meta_field groups/g.yaml 1)" ]] || fail "g.yaml: MAC unchanged"
VERIFY_AGE_KEY_FILE=both.txt run verify_lab orig upd groups/g.yaml
expect_rc 0

step "rotate refuses a tampered file (exit 51) and leaves it"
sed 's/\(    user: ENC\[AES256_GCM,data:\)./\1A/' c.yaml >t.yaml
cmp -s c.yaml t.yaml && sed -i 's/\(    user: ENC\[AES256_GCM,data:\)./\1B/' t.yaml
cp t.yaml t.before
run env SOPS_AGE_KEY_FILE=k1.txt "$S" rotate -i t.yaml
((RC == 51)) || fail "rotate of a tampered file: exit $RC"
cmp -s t.yaml t.before || fail "t.yaml changed"
rm -f t.yaml t.before

sha256sum a.yaml b.yaml c.yaml d.yaml groups/g.yaml >sums

step "a Key Vault failure during the batch: nothing written"
labctl fault add 5xx 1000 op=decrypt status=503 >/dev/null
run "$S" rotate -i --request-timeout 3s a.yaml b.yaml c.yaml
labctl fault clear >/dev/null
((RC != 0)) || fail "rotate succeeded against a failing vault"
expect_err "503"
untouched

step "a file in the middle of the batch cannot be opened (exit 128): nothing written"
run env SOPS_AGE_KEY_FILE=k1.txt AZURE_CLIENT_SECRET=wrong "$S" rotate -i a.yaml d.yaml b.yaml
expect_rc 128
expect_err "d.yaml"
untouched

step "a full disk (RLIMIT_FSIZE): exit 3, nothing written"
run env SOPS_AGE_KEY_FILE=k1.txt bash -c "ulimit -f 1; exec $S rotate -i a.yaml b.yaml c.yaml"
expect_rc 3
expect_err "too large"
untouched

step "an unwritable directory: exit 3, nothing written"
mkdir -p ro && cp a.yaml b.yaml ro/ && cp k1.txt ro-key.txt && chmod 644 ro-key.txt
(cd ro && sha256sum a.yaml b.yaml) >ro.sums
if ((EUID == 0)); then
    chmod 755 "$TMP" "$W" "$W/ro"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
    chmod 555 ro
    as_user=()
fi
run "${as_user[@]}" env HOME=/nonexistent SOPS_AGE_KEY_FILE="$W/ro-key.txt" "$S" rotate -i ro/a.yaml ro/b.yaml
expect_rc 3
expect_err "ro/a.yaml"
(cd ro && sha256sum --quiet -c ../ro.sums) || fail "an input in the unwritable directory changed"
chmod 755 ro

step "errors name the file and the fix"
run "$S" rotate orig/a.yaml
expect_rc 1; expect_err "orig/a.yaml: sops metadata not found"
run "$S" rotate
expect_rc 2; expect_err "no FILE given"
run "$S" rotate -i -
expect_rc 2; expect_err "--in-place needs a file"
run "$S" rotate -i --output x.yaml a.yaml
expect_rc 2
mkdir -p "$TMP/noconf" && cp a.yaml "$TMP/noconf/"
run env -C "$TMP/noconf" "$S" updatekeys a.yaml
expect_rc 2; expect_err "no .sops.yaml found"
printf 'creation_rules:\n  - path_regex: ^nothing/\n    age: %s\n' "$R1" >other.sops.yaml
run "$S" updatekeys --config other.sops.yaml a.yaml
expect_rc 2; expect_err "no matching creation rules"
untouched
echo "all sopsenc rotate/updatekeys checks passed"
