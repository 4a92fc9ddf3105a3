# test_demo.sh - `make demo`'s walkthrough passes end to end and leaves
# nothing running.
source "$TOP/tests/integration/lib.sh"
run "$TOP/tests/demo/demo.sh"
printf '%s\n' "$OUT" | tail -40
expect_rc 0
expect_out "demo: all 9 steps passed"
expect_no_out "not implemented yet"
expect_out "sops-workload-identity   sample-secret   OK"
expect_out "key              PASS"
pid=$(sed -n 's/^lab ready in .* (pid \([0-9]*\)).*/\1/p' <<<"$OUT")
[[ -n $pid ]] || fail "the demo did not say which lab it started"
state=$(ps -o stat= -p "$pid" 2>/dev/null)
[[ -z $state || $state == Z* ]] || fail "the demo's lab (pid $pid) is still running ($state)"
