#!/bin/sh
# test_certs.sh - `lockwarden certs` as a user runs it: files and modes, the printed
# caBundle is base64 of ca.crt, openssl verifies the chain for serverAuth and the names,
# overwriting is refused, --renew-within keeps the CA, usage errors exit 2.
# Prints "N passed, N failed" last.
set -u
TOP=${LW_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${LW_BIN:-$TOP/build/lockwarden}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lw-certs-test-XXXXXX")
trap 'rm -rf "$DIR"' EXIT INT TERM
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
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
gen() { "$BIN" certs --service webhook --namespace prod --out "$DIR/c" --dns localhost --ip 127.0.0.1 "$@"; }

bundle=$(gen 2>"$DIR/err1")
rc=$?
check "first run exits 0" test "$rc" = 0
check "ca.crt, tls.crt, tls.key written" test -s "$DIR/c/ca.crt" -a -s "$DIR/c/tls.crt" -a -s "$DIR/c/tls.key"
check "tls.key is mode 0600" test "$(stat -c %a "$DIR/c/tls.key")" = 600
check "ca.key is mode 0600" test "$(stat -c %a "$DIR/c/ca.key")" = 600
check "caBundle is base64 of ca.crt" test "$bundle" = "$(base64 -w0 "$DIR/c/ca.crt")"
check "openssl verifies for serverAuth" openssl verify -purpose sslserver -CAfile "$DIR/c/ca.crt" "$DIR/c/tls.crt"
check "name webhook.prod.svc" openssl verify -CAfile "$DIR/c/ca.crt" -verify_hostname webhook.prod.svc "$DIR/c/tls.crt"
check "name webhook.prod.svc.cluster.local" openssl verify -CAfile "$DIR/c/ca.crt" -verify_hostname webhook.prod.svc.cluster.local "$DIR/c/tls.crt"
check "IP 127.0.0.1" openssl verify -CAfile "$DIR/c/ca.crt" -verify_ip 127.0.0.1 "$DIR/c/tls.crt"
check "not other.prod.svc" sh -c "! openssl verify -CAfile '$DIR/c/ca.crt' -verify_hostname other.prod.svc '$DIR/c/tls.crt'"
check "key matches the certificate" sh -c "test \"\$(openssl pkey -in '$DIR/c/tls.key' -pubout)\" = \"\$(openssl x509 -in '$DIR/c/tls.crt' -noout -pubkey)\""

serial=$(openssl x509 -in "$DIR/c/tls.crt" -noout -serial)
gen >/dev/null 2>"$DIR/err2"
rc=$?
check "second run without --force exits 1" test "$rc" = 1
check "refusal names --force" grep -q -- "--force" "$DIR/err2"
check "refusal leaves tls.crt alone" test "$serial" = "$(openssl x509 -in "$DIR/c/tls.crt" -noout -serial)"

b2=$(gen --renew-within 30 2>"$DIR/err3")
check "not near expiry: nothing written" test "$serial" = "$(openssl x509 -in "$DIR/c/tls.crt" -noout -serial)"
check "not near expiry: same caBundle printed" test "$b2" = "$bundle"
b3=$(gen --renew-within 36500 2>"$DIR/err4")
check "renewal writes a new certificate" test "$serial" != "$(openssl x509 -in "$DIR/c/tls.crt" -noout -serial)"
check "renewal keeps the CA (caBundle unchanged)" test "$b3" = "$bundle"
check "renewed certificate verifies with the old CA" openssl verify -CAfile "$DIR/c/ca.crt" "$DIR/c/tls.crt"
b4=$(gen --force 2>/dev/null)
check "--force makes a new CA" test -n "$b4" -a "$b4" != "$bundle"

"$BIN" certs --service Bad_Name --namespace prod --out "$DIR/x" >/dev/null 2>&1
check "bad service name exits 2" test $? = 2
"$BIN" certs --service a --namespace b --out "$DIR/x" --ip 999.1.1.1 >/dev/null 2>&1
check "bad IP exits 2" test $? = 2
"$BIN" certs --service a >/dev/null 2>&1
check "missing options exit 2" test $? = 2
"$BIN" certs --help >/dev/null 2>&1
check "--help exits 0" test $? = 0

echo "certs: $passed passed, $failed failed"
[ "$failed" = 0 ]
