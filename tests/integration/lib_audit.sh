# lib_audit.sh - sourced by the audit scripts (test_audit_*.sh; not a test itself):
# goes to the top of the tree, sets BIN (the binary: $LW_BIN, else build/lockwarden)
# and the pass/fail counters, and defines ok, bad and check. The caller prints
# "$pass passed, $fail failed" last.
#   . "$(dirname "$0")/lib_audit.sh"
TOP=${LW_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 2
# shellcheck disable=SC2034 # BIN is used by the scripts that source this one
BIN=${LW_BIN:-$TOP/build/lockwarden}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND...
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
