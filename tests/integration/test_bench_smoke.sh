# test_bench_smoke.sh - the benchmarks still run (tiny sizes, figures unused).
source "$TOP/tests/integration/lib.sh"
run env BENCH_SMOKE=1 "$TOP/tests/bench/run.sh"
expect_rc 0
expect_out "BENCHMARK"
expect_out "cli: __complete round trip"
