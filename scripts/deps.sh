#!/bin/sh
# deps.sh - make sure the Debian packages a make target needs are installed.
#   scripts/deps.sh build|test|bench|all
# As root it installs what is missing with apt-get; otherwise it prints the exact
# apt-get line and exits 1. LW_NO_INSTALL=1 turns installing off.
set -eu

BUILD_PKGS="gcc make pkg-config libc6-dev libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev libpcre2-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev"
# tests: cmocka; curl/openssl for scripts; a real Object Lock S3 server (radosgw +
# mon + osd); python3 + PyYAML to render and check the Helm chart; clang's runtime
# for libFuzzer and the sanitizers' leak checker.
# chromium renders the audit HTML report in a real browser.
TEST_PKGS="$BUILD_PKGS libcmocka-dev curl openssl ca-certificates radosgw ceph-mon ceph-osd python3 python3-yaml clang libclang-rt-14-dev procps chromium"
BENCH_PKGS="$TEST_PKGS"

case "${1:-build}" in
build) want=$BUILD_PKGS ;;
test) want=$TEST_PKGS ;;
bench) want=$BENCH_PKGS ;;
all) want="$BENCH_PKGS" ;;
*) echo "usage: $0 build|test|bench|all" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && [ "${LW_NO_INSTALL:-0}" != 1 ]; then
    echo "deps: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
    exit 0
fi
echo "deps: missing Debian packages. Install them with:" >&2
echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
exit 1
