#!/bin/sh
# lint.sh - banned calls (curl checksrc style) and clang-format drift.
#   scripts/lint.sh NAME...   (the banned function names, from the Makefile)
set -eu
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h')
status=0
for f in "$@"; do
    hits=$(grep -nwE "$f[[:space:]]*\(" $files 2>/dev/null | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
    if [ -n "$hits" ]; then
        echo "lint: banned call $f():" >&2
        echo "$hits" | sed 's/^/  /' >&2
        status=1
    fi
done
if command -v clang-format >/dev/null 2>&1; then
    drift=0
    for f in $files; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
            drift=$((drift + 1))
        fi
    done
    if [ $drift -gt 0 ]; then
        echo "lint: clang-format: $drift file(s) differ from .clang-format (clang-format -i FILE)" >&2
        status=1
    else
        echo "lint: clang-format: every file is formatted"
    fi
fi
[ $status = 0 ] && echo "lint: no banned calls"
exit $status
