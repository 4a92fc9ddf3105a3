# bench_sops.sh - kubectl sopsenc encrypt/decrypt of a generated 5 MB Secret
# manifest (20 000 keys, one age recipient), beside the sops-age npm
# package decrypting the same file in the same run.  Rows:
# NAME<TAB>VALUE<TAB>UNIT[<TAB>NOTE].  Targets: decrypt >= 20x faster than
# sops-age; peak memory <= 4x the file size.  BENCH_SMOKE=1: 500 keys.
source "$TOP/tests/bench/lib.sh"
VEC=${SOPS_VECTORS:-$TOP/../shared/vectors/sops-real}
[[ -d $VEC ]] || VEC=/work/shared/vectors/sops-real
AGE_R=age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29
export SOPS_AGE_KEY_FILE=$VEC/age.key
SOPS_AGE_JS=$TOP/tests/lab/node_modules/sops-age
keys=20000; [[ ${BENCH_SMOKE:-} == 1 ]] && keys=500
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-sops.XXXXXX"); trap 'rm -rf "$dir"' EXIT

# 20 000 keys of ~250 base64 characters: about 5 MB
node -e '
const n = +process.argv[1], crypto = require("crypto");
let s = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: bench\n    namespace: default\ntype: Opaque\ndata:\n";
for (let i = 0; i < n; i++) s += "    key" + i + ": " + crypto.randomBytes(186).toString("base64") + "\n";
process.stdout.write(s);' "$keys" > "$dir/secret.yaml" || exit 1
size=$(stat -c %s "$dir/secret.yaml")
row "sops: plaintext manifest" "$((size / 1024))" KiB "$keys keys"

ms=$(median_ms "$RUNS" kubectl-sopsenc encrypt --age "$AGE_R" --output "$dir/enc.yaml" "$dir/secret.yaml") || exit 1
row "sops: encrypt (age)" "$ms" ms "median of $RUNS"
kb=$(peak_kb kubectl-sopsenc encrypt --age "$AGE_R" --output "$dir/enc.yaml" "$dir/secret.yaml") || exit 1
row "sops: encrypt peak memory" "$kb" KiB "$(awk -v k="$kb" -v s="$size" 'BEGIN {printf "%.2fx the input (target <= 4x)", k * 1024 / s}')"
esize=$(stat -c %s "$dir/enc.yaml")
row "sops: encrypted manifest" "$((esize / 1024))" KiB

ours=$(median_ms "$RUNS" kubectl-sopsenc decrypt --output "$dir/dec.yaml" "$dir/enc.yaml") || exit 1
row "sops: decrypt (age, MAC checked)" "$ours" ms "median of $RUNS"
cmp -s "$dir/dec.yaml" "$dir/secret.yaml" || { echo "bench: decrypt gave another file" >&2; exit 1; }
kb=$(peak_kb kubectl-sopsenc decrypt --output "$dir/dec.yaml" "$dir/enc.yaml") || exit 1
row "sops: decrypt peak memory" "$kb" KiB "$(awk -v k="$kb" -v s="$esize" 'BEGIN {printf "%.2fx the file (target <= 4x)", k * 1024 / s}')"

[[ -d $SOPS_AGE_JS ]] || { echo "bench: sops-age missing (make deps)" >&2; exit 1; }
cat > "$dir/sops-age.cjs" <<'JS'
const { decryptSops } = require(process.argv[2]);
const fs = require("fs");
const key = fs.readFileSync(process.env.SOPS_AGE_KEY_FILE, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET"));
decryptSops(fs.readFileSync(process.argv[3], "utf8"), { fileType: "yaml", secretKey: key })
  .then((r) => { if (Object.keys(r.data).length < 1) process.exit(2); }, (e) => { console.error(e.message); process.exit(1); });
JS
theirs=$(median_ms "$RUNS" node "$dir/sops-age.cjs" "$SOPS_AGE_JS" "$dir/enc.yaml") || exit 1
row "sops: sops-age (npm) decrypt, same file" "$theirs" ms "median of $RUNS"
row "sops: decrypt speed-up over sops-age" "$(awk -v a="$theirs" -v b="$ours" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')" x "target >= 20"
