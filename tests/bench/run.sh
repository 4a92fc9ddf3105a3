#!/usr/bin/env bash
# run.sh - runs every benchmark script under tests/bench and prints one table.
#
# Each bench_*.sh prints rows "NAME<TAB>VALUE<TAB>UNIT[<TAB>NOTE]" on stdout
# (medians of several runs, peers measured in the same run); anything on
# stderr is progress.  BENCH_SMOKE=1 asks for a tiny run that only proves
# the scripts still work (make check uses it); its figures mean nothing.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PATH="$top/bin:$PATH" TOP="$top"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
status=0
for b in tests/bench/bench_*.sh; do
    [[ -f $b ]] || continue
    echo "bench: $(basename "$b" .sh)" >&2
    if ! bash "$b" >>"$rows"; then
        echo "bench: $(basename "$b") failed" >&2
        status=1
    fi
done
printf '%-48s %14s  %-8s %s\n' BENCHMARK VALUE UNIT NOTE
while IFS=$'\t' read -r name value unit note; do
    printf '%-48s %14s  %-8s %s\n' "$name" "$value" "$unit" "${note:-}"
done <"$rows"
exit $status
