# lib.sh - helpers for benchmark scripts (sourced).
#
#   median_ms N CMD...     runs CMD N times, prints the median wall time (ms)
#   peak_kb CMD...         runs CMD once, prints its peak resident set (KiB)
#   row NAME VALUE UNIT [NOTE]
set -uo pipefail
RUNS=${BENCH_RUNS:-5}
[[ ${BENCH_SMOKE:-} == 1 ]] && RUNS=1

median_ms() {
    local n=$1 i t0 t1; shift
    local -a times=()
    for ((i = 0; i < n; i++)); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || { echo "bench: command failed: $*" >&2; return 1; }
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

peak_kb() {
    /usr/bin/time -f '%M' -o "${TMPDIR:-/tmp}/bench-peak.$$" "$@" >/dev/null 2>&1 ||
        { echo "bench: command failed: $*" >&2; return 1; }
    cat "${TMPDIR:-/tmp}/bench-peak.$$"; rm -f "${TMPDIR:-/tmp}/bench-peak.$$"
}

row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}"; }
