# bench_sopsenc_check.sh - `kubectl sopsenc check` over a large repository
# (the pre-commit case): 10 000 manifest files, a quarter of them Secrets.
source "$TOP/tests/bench/lib.sh"
n=10000; [[ ${BENCH_SMOKE:-} == 1 ]] && n=200
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
enc=$TOP/../shared/vectors/sops-real/sops__global__secret.yaml
for ((i = 0; i < n; i++)); do
    d=$dir/team$((i % 50)); [[ -d $d ]] || mkdir -p "$d"
    if ((i % 4 == 0)); then cp "$enc" "$d/s$i.yaml"
    else printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  a: "1"\n  b: two\n' "$i" >"$d/c$i.yaml"; fi
done
ms=$(median_ms "$RUNS" kubectl-sopsenc check "$dir") || exit 1
row "sopsenc check: $n files (target < 1000 ms)" "$ms" ms "median of $RUNS"
