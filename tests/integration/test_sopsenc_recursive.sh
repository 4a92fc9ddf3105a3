#!/usr/bin/env bash
# test_sopsenc_recursive.sh - kubectl sopsenc encrypt -r on a generated
# repository of 1000 files against the lab: every plaintext Secret is
# encrypted (.sops.yaml: Key Vault key + age) with ONE Key Vault request, all
# other files stay byte-identical, `check` reports exactly the plaintext
# files planted, sops-age and the lab's decryptor read the results, rotate
# then decrypt gives back every original value; Key Vault faults in the
# middle of a batch, a full disk and an unwritable directory leave every
# input byte-identical; an explicitly named encrypted file exits 203;
# progress only on a terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/azure_lib.sh"
. "$(dirname "$0")/sopsenc_lib.sh"

lab_start
azure_clean_env
export AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID
export AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_RECIPIENTS SOPS_CONFIG SOPS_AZURE_KEYVAULT_URLS
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config
mkdir -p "$HOME"
S=kubectl-sopsenc
ENCRYPTED=$TOP/../shared/vectors/sops-real/sops__secret.age.yaml
N=1000
W=$TMP/work
mkdir -p "$W"
cd "$W" || fail "no work dir"
age-keygen -o k1.txt 2>/dev/null || fail "age-keygen failed"
R1=$(age-keygen -y k1.txt)

# The repository (one node run), by i % 20: 0 and 10 a plaintext Secret,
# 5 a Secret and a ConfigMap in one file, 1, 2, 11, 12 an encrypted Secret,
# 8 and 18 a Secret without values, 9 and 19 a JSON Deployment, the rest a
# ConfigMap; plus .git/s.yaml (never walked), README.md and .sops.yaml.
# Lists the plaintext files in plain-1doc and plain-multi.
generate() { # DIR
    N=$N ENCRYPTED=$ENCRYPTED node -e '
        const fs = require("fs"), path = require("path");
        const [dir, vault, key, r1] = process.argv.slice(1);
        const enc = fs.readFileSync(process.env.ENCRYPTED, "utf8");
        const secret = (n, v) => "apiVersion: v1\nkind: Secret\nmetadata:\n    name: " + n +
          "\n    namespace: apps\n# the password\nstringData:\n    password: " + v +
          "\n    user: admin\ntype: Opaque\n";
        const one = [], multi = [];
        const put = (f, text) => { fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
                                    fs.writeFileSync(path.join(dir, f), text); };
        for (let i = 0; i < +process.env.N; i++) {
          const d = "apps/team" + (i % 25) + "/", r = i % 20;
          if (r === 0 || r === 10) { put(d + "s" + i + ".yaml", secret("s" + i, "pw-" + i)); one.push(d + "s" + i + ".yaml"); }
          else if (r === 5) {
            put(d + "m" + i + ".yaml", secret("m" + i, "pw-" + i) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: m" + i + "\ndata:\n    mode: fast\n");
            multi.push(d + "m" + i + ".yaml");
          } else if ([1, 2, 11, 12].includes(r)) put(d + "e" + i + ".yaml", enc);
          else if (r === 8 || r === 18) put(d + "t" + i + ".yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t" + i + "\ntype: kubernetes.io/tls\n");
          else if (r === 9 || r === 19) put(d + "d" + i + ".json", JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" + i } }) + "\n");
          else put(d + "c" + i + ".yml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c" + i + "\ndata:\n  a: \"1\"\n");
        }
        put(".git/s.yaml", secret("git", "in-git"));
        put("README.md", "# the repository\n");
        put(".sops.yaml", "creation_rules:\n  - path_regex: \\.ya?ml$\n    azure_keyvault: " + vault +
            "/keys/" + key + "\n    age: " + r1 + "\n");
        fs.writeFileSync("plain-1doc", one.join("\n") + "\n");
        fs.writeFileSync("plain-multi", multi.join("\n") + "\n");
    ' "$1" "$LAB_VAULT_URL" "$LAB_KEY_NAME" "$R1" || fail "cannot generate the repository"
}

step "a repository of $N files"
generate repo
cp -a repo orig
cat plain-1doc plain-multi | sort >planted
(cd orig && find . -type f ! -path './.sops.yaml' | sed 's|^\./||' | sort) >all-files
comm -23 all-files planted >others
expect_eq "$(wc -l <planted)" 150 "planted plaintext files"

step "check finds exactly the planted plaintext files"
run env -C repo "$S" check .
expect_rc 1
expect_eq "$(cut -d: -f1 <<<"$OUT" | sed 's|^\./||' | sort -u)" "$(cat planted)" "files check reports"

step "-r encrypts every plaintext Secret with one Key Vault request"
export XDG_CACHE_HOME=$TMP/cache-r
labctl counters --reset >/dev/null
t0=$(date +%s%N)
run env -C repo "$S" encrypt -r -i .
t1=$(date +%s%N)
expect_rc 0
expect_out "encrypted 150 files, skipped 850 (200 already encrypted, 650 without Secrets)"
expect_eq "$(counter keyvault.requests)" 1 "Key Vault requests for 150 files"
expect_eq "$(counter entra.token)" 1 "token requests"
expect_no_err "encrypting"      # no progress line when stderr is not a terminal
echo "-r over $N files: $(((t1 - t0) / 1000000)) ms"
(cd orig && sha256sum $(cat ../others)) >others.sums
(cd repo && sha256sum --quiet -c ../others.sums) || fail "a file -r should skip changed"
cmp -s orig/.git/s.yaml repo/.git/s.yaml || fail ".git was walked"
grep -q "vault_url: $LAB_VAULT_URL" "repo/$(head -1 planted)" || fail "no azure_kv entry"
run env -C repo "$S" check .
expect_rc 0

step "check reports exactly newly planted plaintext files; -r takes only them"
secret_yaml new1 x >repo/apps/team1/new1.yaml
mkdir -p repo/apps/new && secret_yaml new2 y >repo/apps/new/new2.yaml
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: new3\ndata:\n  k: dmFsdWU=\n' >repo/new3.yaml
run env -C repo "$S" check .
expect_rc 1
expect_eq "$(cut -d: -f1 <<<"$OUT" | sed 's|^\./||' | sort -u | paste -sd' ')" \
    "apps/new/new2.yaml apps/team1/new1.yaml new3.yaml" "newly planted files"
labctl counters --reset >/dev/null
run env -C repo "$S" -r -i .
expect_rc 0
expect_out "encrypted 3 files, skipped 1000 (350 already encrypted, 650 without Secrets)"
(($(counter keyvault.requests) <= 1)) || fail "more than one Key Vault request for 3 files"
rm -f repo/apps/team1/new1.yaml repo/apps/new/new2.yaml repo/new3.yaml

step "sops-age and the lab's decryptor read what -r wrote"
run verify_age k1.txt orig repo $(cat plain-1doc)
expect_rc 0; expect_out "sops-age: 100 verified, 0 without age"
VERIFY_AGE_KEY_FILE=k1.txt run verify_lab orig repo $(cat plain-multi)
expect_rc 0; expect_out "50 verified"

step "rotate all 150 (Key Vault unwraps), then decrypt gives every original"
labctl counters --reset >/dev/null
run env -C repo "$S" rotate -i $(cat planted)
expect_rc 0
expect_eq "$(counter keyvault.decrypt)" 150 "Key Vault decrypts"
expect_eq "$(counter entra.token)" 1 "token requests"
run env -C repo SOPS_AGE_KEY_FILE="$W/k1.txt" "$S" decrypt $(cat planted)
expect_rc 0
[[ $OUT == "$(cd orig && cat $(cat ../planted))" ]] || fail "decrypted files differ from the originals"
run verify_age k1.txt orig repo $(cat plain-1doc)
expect_rc 0; expect_out "sops-age: 100 verified"

# ---- failures ---------------------------------------------------------------
F=$W/faults
mkdir -p "$F/a" "$F/b"
cat >"$F/.sops.yaml" <<YAML
creation_rules:
  - path_regex: ^a/
    age: $R1
  - path_regex: ^b/
    azure_keyvault: $LAB_KEY_URL
YAML
for i in 1 2 3; do secret_yaml "a$i" "pa$i" >"$F/a/s$i.yaml"; secret_yaml "b$i" "pb$i" >"$F/b/s$i.yaml"; done
cp "$ENCRYPTED" "$F/enc.yaml"
(cd "$F" && find . -type f | sort | xargs sha256sum) >faults.sums
untouched() {
    (cd "$F" && sha256sum --quiet -c "$W/faults.sums") || fail "an input changed after a failed run"
    ! find "$F" -name '*sopsenc-*' | grep -q . || fail "a temporary file was left"
}

step "Key Vault encrypt fails after the age files of the batch: nothing written"
labctl fault add 5xx 1000 op=encrypt status=503 >/dev/null
run env -C "$F" "$S" -r -i --key-wrap remote --request-timeout 3s .
labctl fault clear >/dev/null
((RC != 0)) || fail "-r succeeded against a failing vault"
expect_err "b/s1.yaml"; expect_err "503"; expect_err "no file was changed"
untouched

step "the key cannot be read (op=get) with --key-wrap local: nothing written"
export XDG_CACHE_HOME=$TMP/cache-get
labctl fault add 5xx 1000 op=get status=500 >/dev/null
run env -C "$F" "$S" -r -i --key-wrap local --request-timeout 3s .
labctl fault clear >/dev/null
((RC != 0)) || fail "-r succeeded without the public key"
untouched

step "a full disk (RLIMIT_FSIZE): exit 3, nothing written"
run env -C "$F" bash -c "ulimit -f 1; exec $S -r -i ."
expect_rc 3; expect_err "too large"
untouched

step "an unwritable directory: exit 3, nothing written"
if ((EUID == 0)); then
    chmod 755 "$TMP" "$W"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
    chmod 555 "$F/a"
    as_user=()
fi
run "${as_user[@]}" env -C "$F" HOME=/nonexistent "$S" -r -i a
expect_rc 3; expect_err "a/s1.yaml"
chmod 755 "$F/a"
untouched

step "an encrypted file named explicitly: exit 203"
run env -C "$F" "$S" -r -i a/s1.yaml enc.yaml
expect_rc 203; expect_err "enc.yaml: File already encrypted"
untouched
run env -C "$F" "$S" -r a
expect_rc 2; expect_err "add -i"

step "without faults the same batch succeeds, with progress on a terminal"
run env -C "$F" script -qec "$(command -v "$S") -r -i ." /dev/null
expect_rc 0
expect_out "encrypting 6/6 ./b/s3.yaml"
expect_out "encrypted 6 files, skipped 1 (1 already encrypted, 0 without Secrets)"
run env -C "$F" "$S" check .
expect_rc 0
echo "all sopsenc -r checks passed"
