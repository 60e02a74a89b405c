#!/bin/sh
# test_webhook_rundev.sh - `make run`'s script as a user meets it: it makes the dev
# certificates, serves policies/ on the port it prints, the printed curl line really
# gets a denial for the captured unlabelled Deployment, a second start keeps the CA,
# and Ctrl-C (SIGINT) stops it cleanly. Prints "N passed, N failed" last.
set -u
TOP=${LW_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 2
BUILD=${BUILD:-build}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lw-rundev-XXXXXX")
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill -9 "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
passed=0
failed=0
check() {
    d=$1
    shift
    if "$@" >/dev/null 2>&1; then
        passed=$((passed + 1))
        echo "ok   $d"
    else
        failed=$((failed + 1))
        echo "FAIL $d"
    fi
}

# A free port: bind 0 in python (the script needs a fixed port to print).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

start() { # start LOG
    BUILD=$BUILD LW_DEV_PORT=$PORT LW_DEV_CERTS=$DIR/certs scripts/run-dev.sh >"$1" 2>&1 &
    PID=$!
    i=0
    while [ $i -lt 500 ]; do
        grep -q '"msg":"listening"' "$1" && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        i=$((i + 1))
        sleep 0.02 # polling the log with a deadline (10 s)
    done
    return 1
}
stop() {
    kill -INT "$PID"
    wait "$PID"
    rc=$?
    PID=""
    return $rc
}

check "starts and listens" start "$DIR/run1.log"
check "made the dev certificates" test -s "$DIR/certs/tls.crt" -a -s "$DIR/certs/ca.crt"
check "prints a curl line for this port" grep -q "https://127.0.0.1:$PORT/validate?timeout=5s" "$DIR/run1.log"
curl -sS --cacert "$DIR/certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @tests/fixtures/admissionreview/validate-deployment-create-web-bad.json \
    "https://127.0.0.1:$PORT/validate?timeout=5s" >"$DIR/answer.json"
check "the curl line gets a denial" grep -q '"allowed":false' "$DIR/answer.json"
check "the denial names the failing policies" grep -q 'blocked due to the following policies' "$DIR/answer.json"
check "prints the auto-binding example" grep -q "examples/mutate-deployment-create-web-gold.json" "$DIR/run1.log"
curl -sS --cacert "$DIR/certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @tests/fixtures/admissionreview/examples/mutate-deployment-create-web-gold.json \
    "https://127.0.0.1:$PORT/mutate?timeout=5s" >"$DIR/mutate.json"
python3 -c 'import base64, json, sys
r = json.load(open(sys.argv[1]))["response"]
ops = json.loads(base64.b64decode(r["patch"]))
assert r["allowed"] and r["patchType"] == "JSONPatch", r
assert any(o["path"].startswith("/metadata/annotations") and "goldpolicy" in json.dumps(o["value"]) for o in ops), ops
' "$DIR/mutate.json" >"$DIR/mutate.check" 2>&1
check "the example gets a JSONPatch binding goldpolicy" test $? = 0
check "healthz" curl -sSf --cacert "$DIR/certs/ca.crt" "https://127.0.0.1:$PORT/healthz"
ca1=$(cat "$DIR/certs/ca.crt")
check "Ctrl-C stops it with exit 0" stop
check "second start" start "$DIR/run2.log"
check "the CA is kept across starts" test "$ca1" = "$(cat "$DIR/certs/ca.crt")"
check "stops again" stop

echo "rundev: $passed passed, $failed failed"
[ "$failed" = 0 ]
