#!/bin/sh
# run.sh - runs every test of the project and prints one closing line
# "tests: N passed, N failed".
#   BUILD=build tests/run.sh          (make test / make check call it)
# Order: unit binaries, fuzz corpus replay, then integration (real binary over TLS,
# fake kube-apiserver, real radosgw started here and stopped on exit).
# LW_UNIT_ONLY=1 runs only the unit binaries and the corpus replay (coverage).
# LW_TEST_FILTER=regex runs only the binaries/scripts whose path matches.
set -u
BUILD=${BUILD:-build}
export BUILD
LW_BIN=$(cd "$(dirname "$BUILD/lockwarden")" && pwd)/lockwarden
export LW_BIN
TOP=$(cd "$(dirname "$0")/.." && pwd)
export LW_TOP="$TOP"
cd "$TOP" || exit 2
filter=${LW_TEST_FILTER:-.}
passed=0
failed=0
failed_names=""
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

# count_cmocka LOG: adds the binary's "[  PASSED  ] N" and "[  FAILED  ] N" lines.
count_cmocka() {
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
    echo "$p $f"
}

run_one() { # run_one NAME CMD...
    name=$1
    shift
    echo "$name" | grep -qE "$filter" || return 0
    log="$logdir/$(echo "$name" | tr '/' '_').log"
    timeout 900 "$@" >"$log" 2>&1
    rc=$?
    set -- $(count_cmocka "$log")
    p=$1
    f=$2
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        # Not cmocka: a script that prints "N passed, N failed" last, or one check.
        line=$(grep -E '^([A-Za-z0-9_ -]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
        if [ -n "$line" ]; then
            p=$(echo "$line" | sed -E 's/^([A-Za-z0-9_ -]+: )?([0-9]+) passed.*/\2/')
            f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
        elif [ $rc = 0 ]; then
            p=1
        fi
    fi
    if [ $rc != 0 ] && [ "$f" = 0 ]; then
        f=1 # crashed, timed out or exited non-zero without a failing test line
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" != 0 ]; then
        failed_names="$failed_names $name"
        echo "FAIL $name (exit $rc; $p passed, $f failed) -- log follows"
        tail -n 60 "$log" | sed 's/^/    /'
    else
        echo "ok   $name ($p passed)"
    fi
}

for t in $(find "$BUILD/tests" -type f -name 'test_*' ! -name '*.d' ! -name '*.o' -perm -u+x ! -path '*/integration/*' 2>/dev/null | sort); do
    run_one "${t#"$BUILD"/}" "$t"
done

for r in $(find "$BUILD/fuzz" -type f -name 'replay_*' ! -name '*.d' -perm -u+x 2>/dev/null | sort); do
    name=${r##*/replay_}
    run_one "fuzz-corpus/$name" "$r" "tests/fuzz/corpus/$name"
done

if [ "${LW_UNIT_ONLY:-0}" != 1 ]; then
    rgw_started=0
    if [ -x tests/support/rgw.sh ] && [ -z "${S3_ENDPOINT:-}" ]; then
        # A radosgw already answering on the default port belongs to another run: take
        # the next free slot (each instance uses RGW_PORT..RGW_PORT+19).
        if [ -z "${RGW_PORT:-}" ]; then
            export RGW_PORT=17480
            while tests/support/rgw.sh status >/dev/null 2>&1 && [ $RGW_PORT -lt 17680 ]; do
                RGW_PORT=$((RGW_PORT + 20))
            done
        fi
        export RGW_PORT
        if out=$(tests/support/rgw.sh start 2>"$logdir/rgw-start.log"); then
            eval "$out"
            rgw_started=1
            trap 'tests/support/rgw.sh stop >/dev/null 2>&1' EXIT INT TERM
        else
            echo "FAIL radosgw did not start -- log follows"
            tail -n 30 "$logdir/rgw-start.log" | sed 's/^/    /'
            failed=$((failed + 1))
            failed_names="$failed_names radosgw-start"
        fi
    fi
    for t in $(find "$BUILD/tests/integration" -type f -name 'test_*' ! -name '*.d' -perm -u+x 2>/dev/null | sort); do
        run_one "${t#"$BUILD"/}" "$t"
    done
    for s in $(find tests/integration -name 'test_*.sh' -o -name 'test_*.py' 2>/dev/null | sort); do
        run_one "$s" "$s"
    done
    if [ $rgw_started = 1 ]; then
        tests/support/rgw.sh stop >/dev/null 2>&1
        trap - EXIT INT TERM
    fi
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
