# test_fuzz_smoke.sh - every libFuzzer target builds and survives a short run
# (the long runs are `make fuzz`; this keeps the targets alive).
source "$TOP/tests/integration/lib.sh"
command -v clang >/dev/null || fail "clang is missing (make deps installs it)"
run make -C "$TOP" --no-print-directory fuzz-smoke FUZZ_RUNS=${FUZZ_RUNS:-1000}
printf '%s\n%s\n' "$OUT" "$ERR"
expect_rc 0
n=$(ls "$TOP"/tests/fuzz/fuzz_*.c | wc -l)
got=$(grep -c '^ok   fuzz/' <<<"$OUT")
expect_eq "$got" "$n" "fuzz targets run"
