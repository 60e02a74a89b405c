#!/bin/sh
# run-dev.sh - `make run`: dev certificates for 127.0.0.1/localhost (made once in
# dev-certs/, renewed when they near expiry), then `lockwarden webhook` on
# https://127.0.0.1:8443 with policies/, in the foreground until Ctrl-C.
#   BUILD=build scripts/run-dev.sh       (the Makefile passes BUILD)
#   LW_DEV_PORT=9443 make run            (another port)
#   LW_DEV_CERTS=DIR                      (another certificate directory; tests use it)
set -eu
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BIN=$BUILD/lockwarden
CERTS=${LW_DEV_CERTS:-dev-certs}
PORT=${LW_DEV_PORT:-8443}

if [ ! -x "$BIN" ]; then
    echo "run-dev: $BIN is missing; run 'make' first (make run does)" >&2
    exit 2
fi
if [ -f "$CERTS/tls.crt" ]; then
    # Keeps the CA (and so any curl --cacert line you saved); renews within 30 days.
    "$BIN" certs --service lockwarden --namespace default --out "$CERTS" \
        --dns localhost --ip 127.0.0.1 --renew-within 30 >/dev/null
else
    "$BIN" certs --service lockwarden --namespace default --out "$CERTS" \
        --dns localhost --ip 127.0.0.1 >/dev/null
fi

FIX=tests/fixtures/admissionreview
cat <<EOM

lockwarden webhook on https://127.0.0.1:$PORT with policies/ (Ctrl-C stops it).
Try it from another terminal:

  # a Deployment without a dataprotection label: denied (403), Kyverno-style message
  curl -sS --cacert $CERTS/ca.crt -H 'Content-Type: application/json' \\
    --data-binary @$FIX/validate-deployment-create-web-bad.json \\
    'https://127.0.0.1:$PORT/validate?timeout=5s'

  # auto-binding: a labelled Deployment gets lockwarden.io/backup-policy: goldpolicy
  # (the answer's "patch" is a base64 JSONPatch; pipe it through base64 -d to read it)
  curl -sS --cacert $CERTS/ca.crt -H 'Content-Type: application/json' \\
    --data-binary @$FIX/examples/mutate-deployment-create-web-gold.json \\
    'https://127.0.0.1:$PORT/mutate?timeout=5s'

  curl -sS --cacert $CERTS/ca.crt https://127.0.0.1:$PORT/metrics

Edit a file in policies/ and the next request sees it (or send SIGHUP).

EOM
exec "$BIN" webhook --listen "127.0.0.1:$PORT" --tls-cert "$CERTS/tls.crt" \
    --tls-key "$CERTS/tls.key" --policies policies
