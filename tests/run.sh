#!/usr/bin/env bash
# run.sh - runs the test suites and ends with one line "N passed, N failed".
#
#   tests/run.sh [unit] [integration] [lab]     (default: all three)
#
# unit:        every build/tests/test_* cmocka program (counts its cases)
# integration: every tests/integration/test_*.sh, with bin/ first on PATH
# lab:         the lab's own node tests (tests/lab, node --test)
# Environment: UNIT_DIR, BIN_DIR (for the sanitizer build), VALGRIND=1.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
UNIT_DIR=${UNIT_DIR:-build/tests}
BIN_DIR=$(cd "${BIN_DIR:-bin}" 2>/dev/null && pwd || echo "$top/bin")
OUT=$top/tests/out
mkdir -p "$OUT"
passed=0 failed=0 failures=()

note() { printf '%s\n' "$*"; }
now_ms() { date +%s%3N; }
took() { printf '(%d.%ds)' $((($(now_ms) - $1) / 1000)) $(((($(now_ms) - $1) % 1000) / 100)); }

# Adds the cmocka counts printed in log $1 (or 1 pass/fail from rc $2).
count_cmocka() {
    local log=$1 rc=$2 p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    if [[ -z $p && -z $f ]]; then
        if ((rc == 0)); then p=1; else f=1; fi
    fi
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if ((rc != 0)) && [[ -z $f || $f == 0 ]]; then failed=$((failed + 1)); fi
}

run_unit() {
    local t name log rc
    for t in "$UNIT_DIR"/test_*; do
        [[ -x $t && ! $t == *.d ]] || continue
        name=$(basename "$t"); log=$OUT/unit-$name.log
        if [[ ${VALGRIND:-} == 1 ]]; then
            valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite "$t" >"$log" 2>&1
        else
            "$t" >"$log" 2>&1
        fi
        rc=$?
        count_cmocka "$log" "$rc"
        if ((rc != 0)); then
            failures+=("unit/$name"); note "FAIL unit/$name"; tail -30 "$log"
        else
            note "ok   unit/$name"
        fi
    done
}

run_integration() {
    local t name log rc t0
    for t in tests/integration/test_*.sh; do
        [[ -f $t ]] || continue
        name=$(basename "$t" .sh); log=$OUT/integration-$name.log
        t0=$(now_ms)
        PATH="$BIN_DIR:$PATH" TOP="$top" BIN_DIR="$BIN_DIR" \
            bash "$t" >"$log" 2>&1 </dev/null
        rc=$?
        if ((rc == 0)); then
            passed=$((passed + 1)); note "ok   integration/$name $(took "$t0")"
        else
            failed=$((failed + 1)); failures+=("integration/$name")
            note "FAIL integration/$name (exit $rc)"; tail -40 "$log"
        fi
    done
}

run_lab() {
    local log=$OUT/lab.log p f rc t0
    [[ -f tests/lab/package.json ]] || return 0
    t0=$(now_ms)
    (cd tests/lab && npm test) >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if ((rc != 0)); then
        [[ ${f:-0} == 0 ]] && failed=$((failed + 1))
        failures+=("lab"); note "FAIL lab (node --test)"
        grep -E '^not ok|# (pass|fail)' "$log" | head -40
    else
        note "ok   lab: ${p:-0} node tests $(took "$t0")"
    fi
}

sections=("$@")
((${#sections[@]})) || sections=(unit integration lab)
for s in "${sections[@]}"; do
    case $s in
        unit) run_unit ;;
        integration) run_integration ;;
        lab) run_lab ;;
        *) echo "run.sh: unknown section $s" >&2; exit 2 ;;
    esac
done

((${#failures[@]})) && note "failed: ${failures[*]}"
note "$passed passed, $failed failed"
((failed == 0))
