#!/bin/sh
# test_check.sh - golden tests of `lockwarden check`: for each case, the exit status,
# standard output and standard error are compared byte for byte with
# tests/fixtures/check/<case>.golden. Runs from the repository root with relative paths,
# so that messages naming files are the same on every machine. Every file in policies/
# is loaded here (-p policies) and run against the manifests in tests/fixtures/manifests.
#   LW_BIN=build/lockwarden tests/integration/test_check.sh
#   LW_UPDATE_GOLDENS=1 ...   rewrites the goldens (review the diff before committing)
set -u
TOP=${LW_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${LW_BIN:-$TOP/build/lockwarden}
cd "$TOP" || exit 2
G=tests/fixtures/check
M=tests/fixtures/manifests
P=tests/fixtures/policies
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0

# run NAME STDIN_FILE ARGS...: runs check and compares with $G/NAME.golden
run() {
    name=$1
    in=$2
    shift 2
    out="$tmp/$name.out"
    if [ "$in" = - ]; then
        "$BIN" check "$@" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
    else
        "$BIN" check "$@" <"$in" >"$tmp/stdout" 2>"$tmp/stderr"
    fi
    rc=$?
    {
        echo "exit: $rc"
        echo "--- stdout"
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
    } >"$out"
    if [ "${LW_UPDATE_GOLDENS:-0}" = 1 ]; then
        cp "$out" "$G/$name.golden"
    fi
    if [ -f "$G/$name.golden" ] && cmp -s "$out" "$G/$name.golden"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        if [ -f "$G/$name.golden" ]; then
            diff -u "$G/$name.golden" "$out" | head -40
        else
            echo "  (no golden $G/$name.golden)"
        fi
    fi
}

# json_ok NAME: the JSON output of case NAME must parse (python3 when available)
json_ok() {
    if command -v python3 >/dev/null 2>&1; then
        if sed -n '/^--- stdout$/,/^--- stderr$/p' "$tmp/$1.out" | sed '1d;$d' |
            python3 -c 'import json,sys; d=json.load(sys.stdin); assert set(d)=={"results","summary"}'; then
            passed=$((passed + 1))
            echo "ok   $1 is valid JSON"
        else
            failed=$((failed + 1))
            echo "FAIL $1 is not valid JSON"
        fi
    fi
}

# the shipped policies, alone and with a fixture policy
run compliant-text - -p policies $M/deploy-compliant.yaml
run compliant-json - -p policies -o json $M/deploy-compliant.yaml
json_ok compliant-json
run missing-text - -p policies $M/deploy-missing-labels.yaml
run missing-json - -p policies --output=json $M/deploy-missing-labels.yaml
json_ok missing-json
run multi-text - -p policies -p $P/require-app-label.yaml $M/multi.yaml
run multi-json - -p policies -p $P/require-app-label.yaml -o json $M/multi.yaml
json_ok multi-json
run json-manifest - -p policies -p $P/require-app-label.yaml $M/deploy.json
run stdin $M/deploy-missing-labels.yaml -p policies/prod-backup-enforce-policy.yaml -
run several-files - -p policies $M/deploy-compliant.yaml $M/deploy.json
run audit-only - -p $P/require-app-label.yaml $M/multi.yaml
run namespace-labels - -p $P/require-app-label.yaml --namespace-labels prod=env=prod,tier=gold \
    --namespace-labels other=env=dev -o json $M/multi.yaml
run namespace-from-manifest - -p $P/require-app-label.yaml $M/namespace-and-service.yaml
run namespace-flag-wins - -p $P/require-app-label.yaml --namespace-labels shop=env=dev \
    $M/namespace-and-service.yaml
run operation-update - -p policies --operation UPDATE $M/deploy-missing-labels.yaml
run backups-only - -p policies/backup-goldpolicy.yaml -p policies/backup-bronzepolicy.yaml \
    $M/multi.yaml

# bad policies: exit 2 with file:line:column
for f in bad-action mutate-rule bad-backup not-a-policy bad-wildcard-key syntax; do
    run "policy-$f" - -p $P/broken/$f.yaml $M/deploy-compliant.yaml
done
run policy-dir-all-or-nothing - -p $P/broken $M/deploy-compliant.yaml
run policy-missing - -p $P/does-not-exist.yaml $M/deploy-compliant.yaml

# bad manifests: exit 2 with a location
for f in syntax invalid-utf8 not-an-object no-name alias-bomb label-not-string; do
    run "manifest-$f" - -p policies $M/broken/$f.yaml
done
run manifest-deep - -p policies $M/broken/deep.json
run manifest-missing - -p policies $M/nope.yaml

# usage
run usage-no-policy - $M/deploy-compliant.yaml
run usage-no-manifest - -p policies
run usage-bad-output - -p policies -o yaml $M/deploy-compliant.yaml
run usage-bad-operation - -p policies --operation DELETE $M/deploy-compliant.yaml
run usage-unknown-option - -p policies --frobnicate $M/deploy-compliant.yaml
run usage-bad-ns-labels - -p policies --namespace-labels prod $M/deploy-compliant.yaml
run usage-missing-value - -p
run help - --help
# --policies (the other commands' spelling) is -p: the same golden as multi-text
run multi-text - --policies=policies --policies $P/require-app-label.yaml $M/multi.yaml

echo "check goldens: $passed passed, $failed failed"
[ "$failed" = 0 ]
