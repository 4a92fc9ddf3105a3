# lib.sh - helpers for the integration tests (sourced, bash).
#
#   run CMD...            runs CMD, keeps $OUT (stdout), $ERR (stderr), $RC
#   expect_rc N           fails unless the last run exited N
#   expect_out TEXT       fails unless stdout contains TEXT (fixed string)
#   expect_err TEXT       same for stderr; expect_no_out/expect_no_err: absent
#   expect_eq A B [WHAT]  fails unless A = B
#   lab_start             starts a lab in a fresh directory, sources its env,
#                         stops it when the test exits (even on failure)
#   step TEXT             prints a heading into the test log
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fwi-test.XXXXXX")
_cleanups=()
_cleanup() {
    local c
    for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
    rm -rf "$TMP"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

on_exit() { _cleanups+=("$1"); }
step() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    printf -- '--- stdout:\n%s\n--- stderr:\n%s\n' "${OUT:-}" "${ERR:-}" >&2
    exit 1
}

run() {
    local o e
    o=$(mktemp "$TMP/out.XXXXXX"); e=$(mktemp "$TMP/err.XXXXXX")
    "$@" >"$o" 2>"$e"
    RC=$?
    OUT=$(cat "$o"); ERR=$(cat "$e")
    rm -f "$o" "$e"
    printf '$ %s  -> %d\n' "$*" "$RC"
}

expect_rc() { [[ $RC == "$1" ]] || fail "expected exit $1, got $RC"; }
expect_out() { [[ $OUT == *"$1"* ]] || fail "stdout lacks: $1"; }
expect_err() { [[ $ERR == *"$1"* ]] || fail "stderr lacks: $1"; }
expect_no_out() { [[ $OUT != *"$1"* ]] || fail "stdout has: $1"; }
expect_no_err() { [[ $ERR != *"$1"* ]] || fail "stderr has: $1"; }
expect_eq() { [[ $1 == "$2" ]] || fail "${3:-values differ}: '$1' != '$2'"; }

lab_start() {
    LAB_DIR="$TMP/lab"
    mkdir -p "$LAB_DIR"
    "$TOP/tests/lab/start" "$LAB_DIR" "$@" >"$TMP/lab-start.log" 2>&1 ||
        { cat "$TMP/lab-start.log" >&2; fail "the lab did not start"; }
    on_exit "'$TOP/tests/lab/stop' '$LAB_DIR'"
    # shellcheck disable=SC1091
    source "$LAB_DIR/env"
}

labctl() { "$TOP/tests/lab/labctl" "$LAB_DIR" "$@"; }
