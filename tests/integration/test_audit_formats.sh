#!/bin/sh
# test_audit_formats.sh - the real binary audits the recorded cluster state
# (tests/fixtures/audit/cluster-state.json) with the shipped policies in every output
# format, and each app's class is read back with a real parser (Python's json, csv
# and html.parser) and compared with tests/fixtures/audit/expected-classes.txt. Also
# checks the summary counts, the exit codes (1: not compliant; 0 once the problem
# namespaces are excluded; 2: usage errors) and --out. Prints "N passed, N failed" last.
#   LW_BIN=build/lockwarden tests/integration/test_audit_formats.sh
set -u
# shellcheck source=tests/integration/lib_audit.sh
. "$(dirname "$0")/lib_audit.sh"
STATE=tests/fixtures/audit/cluster-state.json
EXPECT=tests/fixtures/audit/expected-classes.txt

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

for fmt in text json csv html; do
    "$BIN" audit -p policies --input "$STATE" -o "$fmt" --out "$work/report.$fmt" \
        2>"$work/$fmt.err"
    rc=$?
    check "$fmt: exit 1 (not compliant), got $rc" [ "$rc" = 1 ]
    check "$fmt: report written" [ -s "$work/report.$fmt" ]
done

# One parser per format prints "ns<TAB>kind<TAB>name<TAB>class" per app and a
# "summary<TAB>protected<TAB>unprotected<TAB>stale<TAB>not-immutable" line.
cat >"$work/parse.py" <<'EOF'
import csv, html.parser, io, json, re, sys

fmt, path = sys.argv[1], sys.argv[2]
data = open(path, encoding="utf-8", newline="").read()
rows, summary = [], None
if fmt == "json":
    doc = json.loads(data)
    rows = [(a["namespace"], a["kind"], a["name"], a["class"]) for a in doc["apps"]]
    s = doc["summary"]
    summary = (s["protected"], s["unprotected"], s["stale"], s["notImmutable"])
elif fmt == "csv":
    recs = list(csv.reader(io.StringIO(data, newline="")))
    head = recs[0]
    assert data.endswith("\r\n"), "CSV lines end with CRLF"
    for r in recs[1:]:
        d = dict(zip(head, r))
        name = d["name"]
        rows.append((d["namespace"], d["kind"], name, d["class"]))
    counts = {c: sum(1 for r in rows if r[3] == c)
              for c in ("protected", "unprotected", "stale", "not-immutable")}
    summary = tuple(counts[c] for c in ("protected", "unprotected", "stale", "not-immutable"))
elif fmt == "text":
    lines = data.splitlines()
    m = re.search(r"(\d+) protected, (\d+) unprotected, (\d+) stale, (\d+) not-immutable",
                  lines[0])
    summary = tuple(int(x) for x in m.groups())
    head = lines[1]
    starts = [m.start() for m in re.finditer(r"\S+( \S+)*", head)]
    for ln in lines[2:]:
        cols = [ln[a:b].strip() for a, b in zip(starts, starts[1:] + [len(ln)])]
        rows.append((cols[1], cols[2], cols[3], cols[0]))
else:
    class P(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.counts = [], {}
            self.li, self.in_count = None, False
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "tr" and "data-app" in a:
                ns, kind, name = a["data-app"].split("/", 2)
                self.rows.append((ns, kind, name, a["data-class"]))
            if tag == "li" and "data-class" in a:
                self.li = a["data-class"]
            if tag == "b" and a.get("class") == "count":
                self.in_count = True
            if tag in ("script", "img", "iframe", "object", "link"):
                raise SystemExit("forbidden element <%s>" % tag)
        def handle_data(self, d):
            if self.in_count and self.li:
                self.counts[self.li] = int(d)
        def handle_endtag(self, tag):
            if tag == "b":
                self.in_count = False
    p = P()
    p.feed(data)
    rows = p.rows
    summary = tuple(p.counts[c] for c in ("protected", "unprotected", "stale", "not-immutable"))
for r in rows:
    print("\t".join(r))
print("summary\t" + "\t".join(str(x) for x in summary))
EOF

expected="$work/expected.tsv"
while IFS= read -r line; do
    split_expected "$line"
    printf '%s\t%s\t%s\t%s\n' "$ns" "$kind" "$name" "$cls"
done <"$EXPECT" | sort >"$expected"

for fmt in text json csv html; do
    if python3 "$work/parse.py" "$fmt" "$work/report.$fmt" >"$work/$fmt.tsv" 2>"$work/$fmt.py.err"
    then
        ok "$fmt: parsed"
    else
        bad "$fmt: parsed ($(tail -1 "$work/$fmt.py.err"))"
        continue
    fi
    grep -v '^summary' "$work/$fmt.tsv" | sort >"$work/$fmt.rows"
    check "$fmt: every app classified right" cmp -s "$expected" "$work/$fmt.rows"
    check "$fmt: summary 3 protected, 4 unprotected, 1 stale, 1 not-immutable" \
        grep -qx "$(printf 'summary\t3\t4\t1\t1')" "$work/$fmt.tsv"
done

# Excluding every namespace with a problem leaves a compliant cluster.
"$BIN" audit -p policies --input "$STATE" --exclude-namespace inventory \
    --exclude-namespace payments --exclude-namespace legacy --exclude-namespace archive \
    --exclude-namespace tampered --exclude-namespace hostile >"$work/ok.txt" 2>&1
rc=$?
check "exit 0 when every remaining app is protected (got $rc)" [ "$rc" = 0 ]
check "summary says COMPLIANT" grep -q ': COMPLIANT$' "$work/ok.txt"

"$BIN" audit -o yaml >/dev/null 2>&1
rc=$?
check "unknown format is a usage error (got $rc)" [ "$rc" = 2 ]
"$BIN" audit -p policies --input tests/fixtures/audit/expected-classes.txt >/dev/null 2>&1
rc=$?
check "a malformed state file is an input error (got $rc)" [ "$rc" = 2 ]

if [ "$fail" != 0 ]; then
    for f in "$work"/*.err; do echo "--- $f"; tail -3 "$f"; done
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
