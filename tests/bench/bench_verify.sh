# bench_verify.sh - verifying N Secrets of one namespace against the lab:
# kubectl sopsverify (one LIST) beside the seed's method, the real kubectl
# run once per Secret (`kubectl get secret NAME -o jsonpath=...`), in the
# same run and against the same lab.  Wall time and API requests for both.
#
#   N                      1000 (BENCH_SMOKE=1: 5)
#   BENCH_VERIFY_SEED_N    how many Secrets the seed's method reads (default
#                          all N; each costs one kubectl process, ~0.4 s on
#                          2 idle cores, so the full run takes 7 minutes or
#                          more; a smaller sample keeps the per-Secret rows
#                          comparable)
source "$TOP/tests/bench/lib.sh"
source "$TOP/tests/fixtures/sopsverify/lib.sh"

N=1000
[[ ${BENCH_SMOKE:-} == 1 ]] && N=5
SEED_N=${BENCH_VERIFY_SEED_N:-$N}
((SEED_N > N)) && SEED_N=$N

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-verify.XXXXXX")
lab=$work/lab
cleanup() {
    "$TOP/tests/lab/stop" "$lab" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$lab"
"$TOP/tests/lab/start" "$lab" >"$work/lab-start.log" 2>&1 ||
    { cat "$work/lab-start.log" >&2; echo "bench: the lab did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$lab/env"
labctl() { "$TOP/tests/lab/labctl" "$lab" "$@"; }

echo "bench_verify: $N Secrets in namespace bench" >&2
new_age_key "$work/age.key" || exit 1
make_scale_secrets "$N" bench "$work/plain.yaml" "$work/scenario.yaml" || exit 1
kubectl-sopsenc --age "$(sed -n 's/^# public key: //p' "$work/age.key")" \
    "$work/plain.yaml" --output "$work/enc.yaml" || exit 1
rm -f "$work/plain.yaml"
labctl scenario "$work/scenario.yaml" >/dev/null || exit 1

requests() {   # API requests made by the command (lab counter k8s.requests)
    labctl counters --reset >/dev/null || return 1
    "$@" >/dev/null 2>&1 || return 1
    labctl counters >"$work/counters.json" || return 1
    counter k8s.requests "$work/counters.json"
}

seed_method() {
    local i
    for ((i = 0; i < SEED_N; i++)); do
        kubectl get secret "$(printf 's%04d' "$i")" -n bench \
            -o jsonpath='{.data.value}' | base64 -d >/dev/null || return 1
    done
}

# sopsverify: median of RUNS; its request count from one more run
ours_ms=$(median_ms "$RUNS" kubectl-sopsverify "$work/enc.yaml") || exit 1
ours_req=$(requests kubectl-sopsverify "$work/enc.yaml") || exit 1
dec_ms=$(median_ms "$RUNS" env SOPS_AGE_KEY_FILE="$work/age.key" \
         kubectl-sopsverify "$work/enc.yaml" --decrypt) || exit 1

# the seed's method: one kubectl process per Secret, once (it is slow)
echo "bench_verify: the seed's method, $SEED_N kubectl get runs" >&2
labctl counters --reset >/dev/null
t0=$(date +%s%N)
seed_method || { echo "bench: the seed's method failed" >&2; exit 1; }
t1=$(date +%s%N)
seed_ms=$(((t1 - t0) / 1000000))
labctl counters >"$work/counters.json"
seed_req=$(counter k8s.requests "$work/counters.json")

row "verify: sopsverify, $N Secrets" "$ours_ms" ms "keys; median of $RUNS"
row "verify: sopsverify --decrypt, $N Secrets" "$dec_ms" ms "age; median of $RUNS"
row "verify: sopsverify API requests" "$ours_req" requests "one LIST"
row "verify: seed method, $SEED_N Secrets" "$seed_ms" ms "kubectl get -o jsonpath per Secret"
row "verify: seed method API requests" "$seed_req" requests "one GET per Secret"
row "verify: per Secret, sopsverify" \
    "$(awk -v t="$ours_ms" -v n="$N" 'BEGIN {printf "%.3f", t / n}')" ms
row "verify: per Secret, seed method" \
    "$(awk -v t="$seed_ms" -v n="$SEED_N" 'BEGIN {printf "%.3f", t / n}')" ms
row "verify: speed-up over the seed method" \
    "$(awk -v a="$seed_ms" -v sn="$SEED_N" -v b="$ours_ms" -v n="$N" \
       'BEGIN {if (b < 1) b = 1; printf "%.0f", (a / sn) / (b / n)}')" x \
    "per Secret; target >= 100"
