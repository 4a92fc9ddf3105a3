# test_sopsenc_check.sh - `kubectl sopsenc check` finds exactly the plaintext.
source "$TOP/tests/integration/lib.sh"
V=$TOP/../shared/vectors/sops-real
repo=$TMP/repo
mkdir -p "$repo/apps" "$repo/.git/objects"

plain_secret() { # NAME: prints a Secret with two plaintext values
    cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: $1
  namespace: apps
stringData:
  password: planted-$1
  user: admin
YAML
}

step "a generated repository: 1000 files, plaintext planted in five"
mkdir -p "$repo"/apps/team{0..9}
encrypted=$(<"$V/sops__global__secret.yaml")
for ((i = 1; i <= 1000; i++)); do
    d=$repo/apps/team$((i % 10))
    case $((i % 4)) in
    0) printf '%s\n' "$encrypted" >"$d/secret-$i.yaml" ;;
    1) printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {k: v}\n' "$i" >"$d/cm-$i.yaml" ;;
    2) printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s%d"}}\n' "$i" >"$d/svc-$i.json" ;;
    3) printf 'kind: Deployment\nmetadata: {name: d%d}\n---\nkind: ConfigMap\nmetadata: {name: x}\n' "$i" >"$d/multi-$i.yml" ;;
    esac
done
planted=(apps/team1/p1.yaml apps/team2/p2.yaml apps/team3/p3.yml apps/p4.yaml)
for f in "${planted[@]}"; do plain_secret "$(basename "$f" | cut -d. -f1)" >"$repo/$f"; done
# multi-document: the Secret is the second document
{ printf 'kind: ConfigMap\nmetadata: {name: before}\n---\n'; plain_secret p5; } >"$repo/apps/team4/p5.yaml"
# encrypted, but a too-narrow regex left stringData in plaintext
{ sed -n '1,6p' "$V/sops__global__secret.yaml"; printf 'data:\n  enc: ENC[AES256_GCM,data:5d9W,iv:wuxE,tag:EyM2,type:str]\nstringData:\n  token: planted-narrow\n'; sed -n '/^sops:/,$p' "$V/sops__global__secret.yaml"; } >"$repo/apps/narrow.yaml"
# a Secret hidden in .git is not the repository's content
plain_secret hidden >"$repo/.git/objects/hidden.yaml"
# not YAML at all: warned and skipped
printf 'kind: [\n' >"$repo/apps/broken.yaml"
# a non-manifest file is not read in a walk
plain_secret ignored >"$repo/apps/notes.txt"

cd "$repo"
run kubectl-sopsenc check .
expect_rc 1
expected="./apps/narrow.yaml:10:stringData.token
./apps/p4.yaml:7:stringData.password
./apps/p4.yaml:8:stringData.user
./apps/team1/p1.yaml:7:stringData.password
./apps/team1/p1.yaml:8:stringData.user
./apps/team2/p2.yaml:7:stringData.password
./apps/team2/p2.yaml:8:stringData.user
./apps/team3/p3.yml:7:stringData.password
./apps/team3/p3.yml:8:stringData.user
./apps/team4/p5.yaml:10:stringData.password
./apps/team4/p5.yaml:11:stringData.user"
expect_eq "$(cut -d: -f1-3 <<<"$OUT")" "$expected" "reported values"
expect_out "left in plaintext by the selector"
expect_err "11 plaintext values in 6 files"
expect_err "broken.yaml:2: not valid YAML"
expect_no_out "hidden"
expect_no_out "ignored"
# values themselves never appear
expect_no_out "planted-"; expect_no_err "planted-"

step "clean paths pass; files named on the command line are read whatever their name"
run kubectl-sopsenc check apps/team0 apps/team5
expect_rc 0
expect_eq "$OUT" "" "output of a clean check"
run kubectl-sopsenc check apps/notes.txt
expect_rc 1
expect_out "apps/notes.txt:7:stringData.password"

step "every real sops file passes (they are encrypted)"
run kubectl-sopsenc check "$V"
expect_rc 0

step "a missing path is an input error"
run kubectl-sopsenc check does-not-exist
expect_rc 2
expect_err "does-not-exist"

step "the pre-commit hook definition runs the same command"
grep -q 'entry: kubectl-sopsenc check' "$TOP/.pre-commit-hooks.yaml" || fail "hook entry"
