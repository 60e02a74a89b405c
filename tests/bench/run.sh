#!/bin/sh
# run.sh - `make bench`: runs every benchmark and prints comparable figures
# (evaluations/s, requests/s, p50/p99 latency, MB/s, peak RSS). Benchmarks that need
# radosgw get one started here (and stopped on exit). Nothing here is a pass/fail test.
set -u
BUILD=${BUILD:-build}
export BUILD
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 2
LW_BIN=$TOP/$BUILD/lockwarden
export LW_BIN LW_TOP="$TOP"
filter=${LW_BENCH_FILTER:-.}
status=0

if [ -x tests/support/rgw.sh ] && [ -z "${S3_ENDPOINT:-}" ]; then
    export RGW_PORT=${RGW_PORT:-17480}
    if out=$(tests/support/rgw.sh start 2>"$BUILD/bench-rgw.log"); then
        eval "$out"
        trap 'tests/support/rgw.sh stop >/dev/null 2>&1' EXIT INT TERM
    else
        echo "bench: radosgw did not start; S3 benchmarks will report that" >&2
    fi
fi

for b in $(find "$BUILD/tests/bench" -type f -name 'bench_*' ! -name '*.d' -perm -u+x 2>/dev/null | sort); do
    echo "$b" | grep -qE "$filter" || continue
    echo "== ${b##*/}"
    "$b" || { echo "bench: ${b##*/} failed (exit $?)"; status=1; }
    echo
done
exit $status
