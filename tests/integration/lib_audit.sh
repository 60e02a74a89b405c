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

# split_expected LINE: ns, kind, name and cls from a line of
# tests/fixtures/audit/expected-classes.txt ("ns kind name class"; the name may hold
# spaces).
# shellcheck disable=SC2034 # the callers read ns, kind, name and cls
split_expected() {
    ns=${1%% *}
    rest=${1#* }
    kind=${rest%% *}
    rest=${rest#* }
    cls=${rest##* }
    name=${rest% *}
}
