# test_sops_cli.sh - kubectl sopsenc encrypt/decrypt end to end: real sops
# files, round trips checked by the sops-age npm package and the age CLI,
# tampering refused with exit 51 and no plaintext anywhere, atomic -i.
source "$TOP/tests/integration/lib.sh"
VEC=${SOPS_VECTORS:-$TOP/../shared/vectors/sops-real}
[[ -d $VEC ]] || VEC=/work/shared/vectors/sops-real
AGE_R=age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29
export SOPS_AGE_KEY_FILE=$VEC/age.key
unset SOPS_AGE_KEY SOPS_AGE_RECIPIENTS SOPS_CONFIG SOPS_AZURE_KEYVAULT_URLS
export XDG_CONFIG_HOME=$TMP/xdg HOME=$TMP
SOPS_AGE_JS=$TOP/tests/lab/node_modules/sops-age
[[ -d $SOPS_AGE_JS ]] || fail "sops-age is missing: run 'make deps' (npm ci in tests/lab)"
cd "$TMP" || exit 1

# sops_age FILE TYPE: the file decrypted by the sops-age package, as JSON.
sops_age() {
    node -e '
const { decryptSops } = require(process.argv[1]);
const fs = require("fs");
const key = fs.readFileSync(process.argv[4], "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET"));
decryptSops(fs.readFileSync(process.argv[2], "utf8"), { fileType: process.argv[3], secretKey: key })
  .then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(1); });
' "$SOPS_AGE_JS" "$1" "$2" "$VEC/age.key"
}
# canon JSON: key-sorted compact JSON, for comparisons
canon() { node -e 'const s=(v)=>Array.isArray(v)?v.map(s):v&&typeof v==="object"?Object.keys(v).sort().reduce((o,k)=>(o[k]=s(v[k]),o),{}):v;console.log(JSON.stringify(s(JSON.parse(require("fs").readFileSync(0,"utf8")))))'; }

step "real sops files decrypt"
run kubectl-sopsenc decrypt "$VEC/sops__algorithms__age.yaml"
expect_rc 0; expect_out "stringData:"$'\n'"  key: value"  # its own indentation kept
expect_no_out "sops:"
run kubectl-sopsenc decrypt "$VEC/sops__envs__env.env"
expect_rc 0; expect_eq "$OUT" "key=value"
run kubectl-sopsenc decrypt --input-type dotenv "$VEC/test-dotenv__bases__secrets__year2.txt"
expect_rc 0; expect_eq "$OUT" "year=year2"
run kubectl-sopsenc decrypt "$VEC/sops__files__file.txt"
expect_rc 0; expect_eq "$OUT" "value"
run env SOPS_AGE_KEY_FILE="$VEC/age-global.key" kubectl-sopsenc decrypt --output-type json "$VEC/sops__global__secret.yaml"
expect_rc 0; expect_out '"key": "global-value"'
run env SOPS_AGE_KEY_FILE="$VEC/age-global.key" kubectl-sopsenc decrypt "$VEC/sops__algorithms__age.yaml"
expect_rc 128; expect_no_out "value"; expect_err "$AGE_R"
run kubectl-sopsenc decrypt "$VEC/panic__secret.age.yaml"
expect_rc 51; expect_eq "$OUT" ""
run kubectl-sopsenc decrypt --ignore-mac --extract '["stringData"]["secret"]' "$VEC/panic__secret.age.yaml"
expect_rc 0; expect_eq "$OUT" "my-sops-age-secret"

step "a Secret: only data/stringData encrypted, comments and order kept"
cat > secret.yaml <<'YAML'
# a database Secret
apiVersion: v1
kind: Secret
metadata:
    name: db # the name stays readable
    namespace: apps
type: Opaque
stringData:
    # who connects
    username: admin
    password: s3cr3t-ÄÖü
    port: "5432"
data:
    token: c2VjcmV0
YAML
cp secret.yaml orig.yaml
run kubectl-sopsenc encrypt --age "$AGE_R" secret.yaml
expect_rc 0
printf '%s\n' "$OUT" > enc.yaml
expect_out "    name: db # the name stays readable"
expect_out "encrypted_regex: ^(data|stringData)\$"
expect_no_out "s3cr3t"; expect_no_out "admin"; expect_no_out "c2VjcmV0"
expect_no_out "who connects"
[[ $(grep -c 'ENC\[AES256_GCM' enc.yaml) == 6 ]] || fail "expected 5 values and 1 comment encrypted (+mac)"
run kubectl-sopsenc decrypt enc.yaml
expect_rc 0
printf '%s\n' "$OUT" > dec.yaml
cmp -s dec.yaml orig.yaml || { diff orig.yaml dec.yaml; fail "round trip changed the file"; }

step "the sops-age package decrypts what we wrote"
run sops_age enc.yaml yaml
expect_rc 0
want=$(kubectl-sopsenc decrypt --output-type json enc.yaml | canon)
got=$(printf '%s' "$OUT" | canon)
expect_eq "$got" "$want" "sops-age result"
expect_out '"password":"s3cr3t-ÄÖü"'

step "the age CLI opens the armored data key"
awk '/BEGIN AGE ENCRYPTED FILE/{p=1} p{sub(/^ +/,""); print} /END AGE ENCRYPTED FILE/{p=0}' enc.yaml > key.age
run sh -c "age -d -i '$VEC/age.key' key.age | wc -c"
expect_rc 0; expect_eq "$(echo $OUT)" "32"

step "other documents: everything but _unencrypted keys; several formats"
cat > app.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
data:
    a: x
    list:
        - 1
        - 2.5
        - true
    keep_unencrypted: visible
---
second: document
YAML
run kubectl-sopsenc encrypt --age "$AGE_R" --output app.enc.yaml app.yaml
expect_rc 0; expect_eq "$OUT" ""
grep -q '^apiVersion: ENC\[' app.enc.yaml || fail "apiVersion not encrypted"
grep -q 'keep_unencrypted: visible' app.enc.yaml || fail "_unencrypted key encrypted"
grep -q '^---$' app.enc.yaml || fail "second document lost"
run kubectl-sopsenc decrypt app.enc.yaml
expect_rc 0; expect_eq "$OUT" "$(cat app.yaml)"
printf 'A=1\n# note\nB=two words\n' > app.env
run kubectl-sopsenc encrypt --age "$AGE_R" app.env
expect_rc 0; expect_out "sops_mac=ENC["; expect_no_out "two words"
printf '%s\n' "$OUT" > app.enc.env
run kubectl-sopsenc decrypt app.enc.env
expect_rc 0; expect_eq "$OUT" "$(cat app.env)"
run sops_age app.enc.env env
expect_rc 0; expect_out '"B":"two words"'
printf '{"z": 1, "a": {"b": [1.5, "x"]}}' > app.json
run kubectl-sopsenc encrypt --age "$AGE_R" app.json
expect_rc 0; printf '%s\n' "$OUT" > app.enc.json
run sops_age app.enc.json json
expect_rc 0; expect_eq "$(printf '%s' "$OUT" | canon)" '{"a":{"b":[1.5,"x"]},"z":1}'
head -c 3000 /dev/urandom > blob.bin
run kubectl-sopsenc encrypt --age "$AGE_R" --output blob.enc blob.bin
expect_rc 0
run kubectl-sopsenc decrypt --input-type binary --output blob.out blob.enc
expect_rc 0; cmp -s blob.bin blob.out || fail "binary round trip"
[[ $(stat -c %a blob.out) == 600 ]] || fail "decrypted file is not mode 0600"

step "tampering is refused with exit 51 and no plaintext anywhere"
cat > t.yaml <<'YAML'
name_unencrypted: plain
items:
    - first
    - second
a: alpha
b: beta
YAML
kubectl-sopsenc encrypt --age "$AGE_R" t.yaml > t.enc.yaml || fail "encrypt t.yaml"
# tamper NAME: checks the refusal of tam-NAME.yaml (already edited)
tamper() {
    local name=$1
    cmp -s t.enc.yaml "tam-$name.yaml" && fail "tamper $name changed nothing"
    cp "tam-$name.yaml" "tam-$name.before"
    run kubectl-sopsenc decrypt "tam-$name.yaml"
    expect_rc 51; expect_eq "$OUT" "" "stdout for $name"
    expect_no_err "alpha"; expect_no_err "first"
    run kubectl-sopsenc decrypt --output "tam-$name.out" "tam-$name.yaml"
    expect_rc 51; [[ -e tam-$name.out ]] && fail "$name: output file written"
    run kubectl-sopsenc decrypt -i "tam-$name.yaml"
    expect_rc 51
    cmp -s "tam-$name.yaml" "tam-$name.before" || fail "$name: -i changed the file"
    ls | grep -q 'tmp-' && fail "$name: temporary file left behind"
    printf 'ok   tamper %s\n' "$name"
}
sed 's/^name_unencrypted: plain/name_unencrypted: other/' t.enc.yaml > tam-changed-clear-value.yaml
tamper changed-clear-value
awk 'NR==FNR { if ($0 ~ /^    - ENC/) v[++n] = $0; next }
     /^    - ENC/ { print v[n--]; next } { print }' t.enc.yaml t.enc.yaml > tam-swapped-values.yaml
tamper swapped-values
sed -e 's/^a: /TMPA: /' -e 's/^b: /a: /' -e 's/^TMPA: /b: /' t.enc.yaml > tam-swapped-keys.yaml
tamper swapped-keys
sed 's/^a: ENC\[AES256_GCM,data:\(.\)/a: ENC[AES256_GCM,data:A\1/' t.enc.yaml > tam-changed-ciphertext.yaml
tamper changed-ciphertext
sed '/^    mac: ENC/{s/data:A/data:B/;t;s/data:./data:A/}' t.enc.yaml > tam-edited-mac.yaml
tamper edited-mac
sed 's/^    lastmodified: "\(....\)/    lastmodified: "1999/' t.enc.yaml > tam-edited-lastmodified.yaml
tamper edited-lastmodified
sed '/^b: ENC/d' t.enc.yaml > tam-removed-key.yaml
tamper removed-key
run kubectl-sopsenc decrypt --ignore-mac tam-removed-key.yaml
expect_rc 0; expect_out "a: alpha"

step "-i is atomic and keeps the mode; failures leave the file alone"
cp orig.yaml inplace.yaml; chmod 640 inplace.yaml
run kubectl-sopsenc encrypt -i --age "$AGE_R" inplace.yaml
expect_rc 0; expect_eq "$OUT" ""
[[ $(stat -c %a inplace.yaml) == 640 ]] || fail "-i lost the mode"
grep -q 'mac: ENC' inplace.yaml || fail "-i did not encrypt"
cp inplace.yaml before.yaml
run kubectl-sopsenc encrypt -i --age "$AGE_R" inplace.yaml
expect_rc 203; expect_err "already encrypted"
cmp -s inplace.yaml before.yaml || fail "a refused -i changed the file"
run kubectl-sopsenc decrypt -i inplace.yaml
expect_rc 0; cmp -s inplace.yaml orig.yaml || fail "decrypt -i"
[[ $(stat -c %a inplace.yaml) == 600 ]] || fail "decrypt -i: not 0600"
ls | grep -q 'tmp-' && fail "temporary file left behind"

step "usage and input errors"
run kubectl-sopsenc encrypt -i --output x.yaml --age "$AGE_R" orig.yaml
expect_rc 2
run kubectl-sopsenc encrypt --age "$AGE_R" --encrypted-regex a --unencrypted-suffix _x orig.yaml
expect_rc 2
printf 'a: [\n' > bad.yaml
run kubectl-sopsenc encrypt --age "$AGE_R" bad.yaml
expect_rc 2; expect_err "bad.yaml"
run kubectl-sopsenc encrypt orig.yaml
expect_rc 2; expect_err "no master key"
run kubectl-sopsenc encrypt --age age1notakey orig.yaml
expect_rc 2; expect_err "malformed age recipient"
run kubectl-sopsenc decrypt missing.yaml
expect_rc 2
run kubectl-sopsenc decrypt orig.yaml
expect_rc 1; expect_err "sops metadata not found"

step ".sops.yaml creation rules, stdin"
mkdir -p repo/apps && cp "$VEC/sops__.sops.yaml" repo/.sops.yaml && cp orig.yaml repo/apps/s.yaml
(cd repo/apps && kubectl-sopsenc encrypt -i s.yaml) || fail "encrypt with .sops.yaml"
grep -qxF "  encrypted_regex: ^(data|stringData)$" repo/apps/s.yaml || fail "rule or indent from .sops.yaml not used"
grep -q "recipient: $AGE_R" repo/apps/s.yaml || fail "age key from .sops.yaml not used"
run sh -c "kubectl-sopsenc encrypt --age '$AGE_R' - < orig.yaml | kubectl-sopsenc decrypt -"
expect_rc 0; expect_eq "$OUT" "$(cat orig.yaml)"

step "-r -i: every Secret manifest not yet encrypted, nothing else"
mkdir -p tree/team/sub tree/.git
cp orig.yaml tree/team/s1.yaml; cp orig.yaml tree/team/sub/s2.yaml; cp orig.yaml tree/.git/s3.yaml
printf 'kind: ConfigMap\ndata:\n    a: b\n' > tree/team/cm.yaml
cp "$VEC/sops__algorithms__age.yaml" tree/team/done.yaml
run kubectl-sopsenc encrypt -r -i --age "$AGE_R" tree
expect_rc 0; expect_out "encrypted 2 files"
grep -q 'mac: ENC' tree/team/s1.yaml && grep -q 'mac: ENC' tree/team/sub/s2.yaml || fail "-r missed a Secret"
cmp -s tree/.git/s3.yaml orig.yaml || fail "-r entered .git"
grep -q 'a: b' tree/team/cm.yaml || fail "-r touched a ConfigMap"
cmp -s tree/team/done.yaml "$VEC/sops__algorithms__age.yaml" || fail "-r touched an encrypted file"

step "the lab's independent decryptor (MAC checked) reads comments in every position"
printf '# c1\napp:\n  # c2\n  x: 1\n  list:\n    # c3\n    - a\n    - b\n  # c5\n# c6\nz: 2\n---\n# doc2\nk: v\n' > cm.yaml
run kubectl-sopsenc encrypt --age "$AGE_R" --output cm.enc.yaml cm.yaml
expect_rc 0
[[ $(grep -c 'type:comment' cm.enc.yaml) == 6 ]] || fail "comments not all encrypted"
run node -e '
const sops = require(process.argv[1]);
const fs = require("fs");
sops.decrypt(fs.readFileSync(process.argv[2]), { format: "yaml", ageIdentities: fs.readFileSync(process.argv[3], "utf8") })
  .then((r) => console.log(JSON.stringify(r.plain)), (e) => { console.error(e.message); process.exit(1); });
' "$TOP/tests/lab/lib/sops" cm.enc.yaml "$VEC/age.key"
expect_rc 0; expect_eq "$OUT" '{"app":{"x":1,"list":["a","b"]},"z":2}'
run kubectl-sopsenc decrypt cm.enc.yaml
expect_rc 0; expect_eq "$OUT" "$(cat cm.yaml)"

step "several files in one run (one batch of key requests)"
run kubectl-sopsenc decrypt -v 2 enc.yaml app.enc.yaml
expect_rc 0; expect_err "decrypting 2 file(s)"
expect_eq "$OUT" "$(cat orig.yaml app.yaml)"
run kubectl-sopsenc decrypt enc.yaml tam-edited-mac.yaml
expect_rc 51; expect_err "tam-edited-mac.yaml"
run kubectl-sopsenc decrypt --output x.yaml enc.yaml app.enc.yaml
expect_rc 2
