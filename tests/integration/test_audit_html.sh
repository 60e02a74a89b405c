#!/bin/sh
# test_audit_html.sh - the audit's HTML report in a real browser: the real binary audits a
# recorded cluster state (tests/fixtures/audit/cluster-state.json) with the shipped
# policies into one HTML file; headless Chromium renders it, dumps the DOM and takes a
# screenshot. Checks: the exit code says "not compliant", the DOM holds the SVG chart
# with one segment per class and the counts, one row per app with its class (from
# tests/fixtures/audit/expected-classes.txt), the hostile app name is text (no injected
# element), and the PNG is a real image. Prints "N passed, N failed" last.
#   LW_BIN=build/lockwarden tests/integration/test_audit_html.sh
#   LW_AUDIT_SCREENSHOT=docs/audit-report.png ... also keeps the screenshot there.
set -u
# shellcheck source=tests/integration/lib_audit.sh
. "$(dirname "$0")/lib_audit.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "skip: chromium is not installed (scripts/deps.sh test installs it)"
    bad "chromium available"
    echo "$pass passed, $fail failed"
    exit 1
fi

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT INT TERM
report=$work/report.html

"$BIN" audit -p policies --input tests/fixtures/audit/cluster-state.json -o html \
    --out "$report" 2>"$work/audit.err"
rc=$?
check "audit exits 1 when apps are out of compliance (got $rc)" [ "$rc" = 1 ]
check "report written" [ -s "$report" ]
check "report has no script and fetches nothing" \
    sh -c "! grep -Eqi '<script|https?://|src=\"|url\\(|@import' '$report'"

chrome() { # chrome OUTFLAGS...: headless, no network services, own profile
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --disable-dev-shm-usage --user-data-dir="$work/profile" \
        --window-size=1200,900 "$@" "file://$report" 2>>"$work/chromium.err"
}

chrome --dump-dom >"$work/dom.html"
check "browser rendered the DOM" [ -s "$work/dom.html" ]
check "DOM has the SVG chart" grep -q '<svg id="summary-chart"' "$work/dom.html"
segs=$(grep -o '<circle class="seg"' "$work/dom.html" | wc -l)
check "chart has a segment per non-empty class (4, got $segs)" [ "$segs" = 4 ]
check "verdict NOT COMPLIANT" grep -q 'id="verdict" class="verdict bad">NOT COMPLIANT' \
    "$work/dom.html"
for c in "protected 3" "unprotected 4" "stale 1" "not-immutable 1"; do
    set -- $c
    check "legend counts $1 = $2" \
        grep -q "<li data-class=\"$1\">.*<b class=\"count\">$2</b></li>" "$work/dom.html"
done
rows=$(grep -o '<tr class="app ' "$work/dom.html" | wc -l)
check "one row per app (9, got $rows)" [ "$rows" = 9 ]
while IFS= read -r line; do
    split_expected "$line"
    # The DOM serialiser escapes & < > and quotes in attributes the same way we do.
    esc=$(printf '%s' "$name" | sed -e 's/&/\&amp;/g' -e 's/"/\&quot;/g' -e 's/</\&lt;/g' \
        -e 's/>/\&gt;/g')
    check "row $ns/$name is $cls" \
        grep -qF "data-class=\"$cls\" data-app=\"$ns/$kind/$esc\"" "$work/dom.html"
done <tests/fixtures/audit/expected-classes.txt
check "hostile name stayed text (no <img> element)" sh -c "! grep -qi '<img' '$work/dom.html'"
check "hostile name shown escaped" grep -qF 'x"&gt;&lt;img src=x onerror=alert(1)&gt;,=cmd' \
    "$work/dom.html"

chrome --screenshot="$work/shot.png" >/dev/null
size=$(wc -c <"$work/shot.png" 2>/dev/null || echo 0)
check "screenshot is large enough to hold the chart ($size bytes)" [ "$size" -gt 20000 ]
sig=$(od -An -tx1 -N8 "$work/shot.png" 2>/dev/null | tr -d ' \n')
check "screenshot has the PNG signature" [ "$sig" = 89504e470d0a1a0a ]
if [ -n "${LW_AUDIT_SCREENSHOT:-}" ] && [ -s "$work/shot.png" ]; then
    cp "$work/shot.png" "$LW_AUDIT_SCREENSHOT"
fi

if [ "$fail" != 0 ]; then
    echo "--- audit stderr"
    tail -5 "$work/audit.err"
    echo "--- chromium stderr"
    tail -5 "$work/chromium.err"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
