# bench_cli.sh - start-up cost of a plugin: what every completion request pays.
source "$TOP/tests/bench/lib.sh"
n=$((RUNS * 20))
ms=$(median_ms 1 bash -c "for i in \$(seq $n); do kubectl-fluxwi __complete patch --na >/dev/null; done") || exit 1
row "cli: __complete round trip" "$(awk -v t="$ms" -v n="$n" 'BEGIN {printf "%.2f", t / n}')" ms "mean of $n runs"
kb=$(peak_kb kubectl-fluxwi --help) || exit 1
row "cli: --help peak memory" "$kb" KiB
