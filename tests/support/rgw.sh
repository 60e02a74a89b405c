#!/usr/bin/env bash
# rgw.sh - lockwarden's test S3 server: a throwaway, single-host Ceph RADOS Gateway
# (real S3 with Object Lock, COMPLIANCE/GOVERNANCE, legal hold, versioning) that the
# backup/s3 integration tests and benchmarks run against. tests/run.sh starts it
# for `make test` (RGW_PORT 17480) and exports its endpoint and keys; the bench
# runner does the same. Everything runs as plain background processes of the
# calling user, listens on 127.0.0.1 only, and lives under one directory.
#
#   eval "$(rgw.sh start)"   # boots mon + osd(memstore) + radosgw, creates an S3
#                            # user, waits until a signed request succeeds, and
#                            # prints `export` lines (endpoint, keys, region, dir)
#   rgw.sh stop              # kills only the PIDs this script started, removes the dir
#   rgw.sh status            # "running" (exit 0) or "stopped" (exit 1)
#   rgw.sh env               # re-print the export lines of a running instance
#   rgw.sh selftest          # proves Object Lock semantics with curl (PASS/FAIL lines)
#   rgw.sh bench [N]         # N (default 200) 64 KiB PUTs with COMPLIANCE lock headers
#   rgw.sh install           # apt-get the Debian packages it needs (root)
#
# Layout of the cluster (Ceph 16.2 "Pacific", as packaged by Debian 12):
#   ceph-mon  id "a"  on 127.0.0.1:$((RGW_PORT+1)) (msgr v2 only)
#   ceph-osd  id 0    objectstore = memstore (data kept in RAM; nothing on disk
#                     but a few KiB of metadata) or bluestore, binds RGW_PORT+2..+19
#   radosgw   client.rgw.a, beast frontend on 127.0.0.1:RGW_PORT
#   no ceph-mgr (not needed for RADOS I/O nor for radosgw), no cephx (auth none)
# Pacific has no RADOS-less backend (the "dbstore" backend arrived in Quincy),
# so mon + osd are unavoidable; they are small (about 40-50 MiB RSS each idle).
#
# Environment (all optional):
#   RGW_PORT          S3 port (default 17480). Mon uses RGW_PORT+1, the osd
#                     RGW_PORT+2..RGW_PORT+19: keep parallel instances >= 20 apart.
#   RGW_DIR           state directory. Default: the directory recorded by the last
#                     `start` for this port (in $TMPDIR/lockwarden-rgw.PORT.dir),
#                     else a new `mktemp -d`. Keep it short (unix socket paths
#                     inside it must stay < 100 characters). `stop` deletes only
#                     what `start` created in it.
#   RGW_ACCESS_KEY    access key of the S3 user (default OBJLOCKTESTACCESSKEY01)
#   RGW_SECRET_KEY    secret key of the S3 user (default: a fixed test key)
#   RGW_STORE         memstore (default, objects in RAM) or bluestore (sparse
#                     file in the state dir; needs O_DIRECT, so not on tmpfs)
#   RGW_MEMSTORE_MB   capacity the memstore osd reports, MiB (default 4096).
#                     Only data actually written uses memory (~3.5x its size).
#   RGW_BLUESTORE_GB  size of the sparse bluestore file, GiB (default 20)
#   RGW_TIMEOUT       seconds to wait for each startup step (default 120)
#   RGW_STOP_GRACE    seconds between TERM and KILL on `stop` (default 3)
#   RGW_KEEP_DIR=1    `stop` keeps the directory (logs) instead of deleting it
#   RGW_AUTO_INSTALL=0  do not apt-get missing packages on `start` (default: install
#                     them when running as root)
#
# Only stdout carries the export lines; progress and errors go to stderr.

set -euo pipefail

RGW_PORT=${RGW_PORT:-17480}
case "$RGW_PORT" in ''|*[!0-9]*) echo "rgw.sh: RGW_PORT must be a number" >&2; exit 2 ;; esac
MON_PORT=$((RGW_PORT + 1))
BIND_MIN=$((RGW_PORT + 2))
BIND_MAX=$((RGW_PORT + 19))
ACCESS_KEY=${RGW_ACCESS_KEY:-OBJLOCKTESTACCESSKEY01}
SECRET_KEY=${RGW_SECRET_KEY:-objlocktestsecretkey0000000000000000000000}
REGION=us-east-1          # any region string signs fine; us-east-1 = no LocationConstraint
TIMEOUT=${RGW_TIMEOUT:-120}
ENDPOINT="http://127.0.0.1:${RGW_PORT}"
TMPBASE=${TMPDIR:-/tmp}
POINTER="${TMPBASE}/lockwarden-rgw.${RGW_PORT}.dir"   # remembers the dir for `stop`
PKGS="radosgw ceph-mon ceph-osd"                         # ceph-common comes with radosgw

log() { echo "rgw.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- state dir --
resolve_dir() {          # sets DIR (may be empty when nothing is known)
  if [ -n "${RGW_DIR:-}" ]; then DIR=$RGW_DIR
  elif [ -f "$POINTER" ]; then DIR=$(cat "$POINTER")
  else DIR=""
  fi
  CONF="$DIR/ceph.conf"
  # a state dir remembers its port: never touch another instance's daemons
  if [ -n "$DIR" ] && [ -f "$DIR/port" ] && [ "$(cat "$DIR/port")" != "$RGW_PORT" ]; then
    die "$DIR belongs to the instance on port $(cat "$DIR/port"), not $RGW_PORT (set RGW_PORT or RGW_DIR accordingly)"
  fi
}

# --------------------------------------------------------------- processes --
# PID files written by this script ($DIR/pids/NAME.pid hold $! of each daemon).
pid_of() {               # prints the pid of daemon $1 if it is alive and ours
  local f="$DIR/pids/$1.pid" pid
  [ -n "$DIR" ] && [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # guard against PID reuse: the process must carry our ceph.conf path
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

spawn() {                # spawn NAME CMD... : start a daemon in the foreground
  local name=$1; shift   # mode (-f), detached from our stdio, record its PID
  "$@" -f </dev/null >>"$DIR/log/$name.stdout" 2>&1 &
  echo $! >"$DIR/pids/$name.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ceph_cli() { ceph --conf "$CONF" --connect-timeout 15 "$@"; }

wait_for() {             # wait_for DESCRIPTION LOGNAME CMD... : poll until CMD succeeds
  local what=$1 logname=$2 t0=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - t0 > TIMEOUT)); then
      log "timed out after ${TIMEOUT}s waiting for $what; last lines of $logname log:"
      tail -n 25 "$DIR/log/$logname.log" "$DIR/log/$logname.stdout" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

# --------------------------------------------------------------- S3 helper --
# Signed request with curl's built-in SigV4 (curl >= 7.75).  Pitfalls handled:
#  * curl 7.88 (Debian 12) does not add x-amz-content-sha256 by itself; RGW
#    then rejects the signature, so we always send it (UNSIGNED-PAYLOAD is
#    accepted; a real sha256 of the body works too).
#  * sub-resources must be written with '=' and in sorted order
#    (?retention=&versionId=X, ?versioning=), curl 7.88 signs the query as given.
s3curl() {
  curl -sS --aws-sigv4 "aws:amz:${REGION}:s3" --user "${ACCESS_KEY}:${SECRET_KEY}" \
       -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

endpoint_ready() {       # signed ListBuckets returns 200
  [ "$(s3curl -o /dev/null -w '%{http_code}' "$ENDPOINT/" 2>/dev/null)" = 200 ]
}

print_env() {
  cat <<EOF
export S3_ENDPOINT='$ENDPOINT'
export S3_ACCESS_KEY='$ACCESS_KEY'
export S3_SECRET_KEY='$SECRET_KEY'
export S3_REGION='$REGION'
export AWS_ACCESS_KEY_ID='$ACCESS_KEY'
export AWS_SECRET_ACCESS_KEY='$SECRET_KEY'
export AWS_DEFAULT_REGION='$REGION'
export AWS_EC2_METADATA_DISABLED=true
export RGW_STATE_DIR='$DIR'
EOF
}

is_running() {
  resolve_dir
  [ -n "$DIR" ] && pid_of mon >/dev/null && pid_of osd >/dev/null &&
    pid_of rgw >/dev/null && endpoint_ready
}

# ------------------------------------------------------------------ install --
need_bins() {
  local missing=""
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl openssl; do
    command -v "$b" >/dev/null 2>&1 || missing="$missing $b"
  done
  [ -z "$missing" ] && return 0
  if [ "${RGW_AUTO_INSTALL:-1}" != 0 ] && [ "$(id -u)" = 0 ]; then
    log "missing:$missing -> installing Debian packages: $PKGS"
    cmd_install
  else
    die "missing programs:$missing (apt-get install --no-install-recommends $PKGS curl openssl)"
  fi
}

cmd_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update >&2
  apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends \
    $PKGS curl openssl >&2
}

# Object store of the osd: memstore (default; objects in RAM, fastest, no disk
# I/O) or bluestore on a sparse file (RGW_STORE=bluestore; for tests that
# write more data than you want in RAM; needs O_DIRECT, i.e. not tmpfs).
store_conf() {
  case "${RGW_STORE:-memstore}" in
    memstore) cat <<EOF
osd objectstore = memstore
memstore device bytes = $(( ${RGW_MEMSTORE_MB:-4096} * 1024 * 1024 ))
EOF
    ;;
    bluestore) cat <<EOF
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $(( ${RGW_BLUESTORE_GB:-20} * 1024 * 1024 * 1024 ))
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 134217728
osd memory target = 939524096
EOF
    ;;
  esac
}

# -------------------------------------------------------------------- start --
cmd_start() {
  if is_running; then log "already running in $DIR"; print_env; return 0; fi
  # half-started or crashed leftovers of a previous run: clean them first
  if [ -n "$DIR" ] && [ -d "$DIR/pids" ]; then cmd_stop; fi
  case "${RGW_STORE:-memstore}" in memstore|bluestore) ;; *) die "RGW_STORE must be memstore or bluestore" ;; esac
  need_bins
  for p in "$RGW_PORT" "$MON_PORT"; do
    port_busy "$p" && die "port $p on 127.0.0.1 is already in use (set RGW_PORT)"
  done

  if [ -n "${RGW_DIR:-}" ]; then DIR=$RGW_DIR; mkdir -p "$DIR"
  else DIR=$(mktemp -d "${TMPBASE}/lockwarden-rgw.XXXXXX"); fi
  DIR=$(cd "$DIR" && pwd)
  CONF="$DIR/ceph.conf"
  rm -rf "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/pids"
  mkdir -p "$DIR"/{mon/a,osd/0,rgw,run,log,pids}
  echo "$RGW_PORT" >"$DIR/port"
  echo "$DIR" >"$POINTER"
  local t0=$SECONDS fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  # --- ceph.conf: one file for every daemon and tool ---------------------
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# no cephx: nothing but loopback can reach it
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# msgr v2 only, and keep every bound port inside our own range
ms bind msgr1 = false
ms bind port min = $BIND_MIN
ms bind port max = $BIND_MAX
# files
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file =
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id
rgw data = $DIR/rgw
# single replica, few PGs, no autoscaler (there is no mgr)
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
osd crush chooseleaf type = 0
# commit mon map changes quickly (default 1 s per round; pool creation needs several)
paxos propose interval = 0.05
paxos min wait = 0.01
# do not let a nearly full test disk shut the mon down
mon data avail warn = 1
mon data avail crit = 0
$(store_conf)

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
rgw enable apis = s3, admin
rgw thread pool size = 64
# radosgw defaults to a cephx-only, "secure" mon connection: allow plain crc
ms mon client mode = crc secure
EOF

  # --- mon -----------------------------------------------------------------
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" \
    "$DIR/monmap" >/dev/null
  ceph-mon --conf "$CONF" --mkfs -i a --monmap "$DIR/monmap" \
    >>"$DIR/log/mon.stdout" 2>&1 || die "ceph-mon --mkfs failed (see $DIR/log)"
  spawn mon ceph-mon --conf "$CONF" -i a
  wait_for "ceph-mon" mon.a ceph_cli mon stat || { cmd_stop; die "mon did not start"; }
  log "mon up ($((SECONDS - t0))s)"

  # --- osd -----------------------------------------------------------------
  ceph_cli osd new "$osd_uuid" >/dev/null
  ceph-osd --conf "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" \
    >>"$DIR/log/osd.stdout" 2>&1 || { cmd_stop; die "ceph-osd --mkfs failed"; }
  spawn osd ceph-osd --conf "$CONF" -i 0
  osd_up() { ceph_cli osd stat -f json | grep -q '"num_up_osds":1'; }
  wait_for "ceph-osd up" osd.0 osd_up || { cmd_stop; die "osd did not come up"; }
  log "osd up ($((SECONDS - t0))s)"

  # --- radosgw + S3 user ---------------------------------------------------
  spawn rgw radosgw --conf "$CONF" -n client.rgw.a
  rgw_http() { curl -s -o /dev/null "$ENDPOINT/"; }
  wait_for "radosgw on $ENDPOINT" client.rgw.a rgw_http || { cmd_stop; die "radosgw did not start"; }
  log "radosgw answers ($((SECONDS - t0))s)"
  radosgw-admin --conf "$CONF" user create --uid=tester --display-name="object lock tester" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" \
    >>"$DIR/log/radosgw-admin.stdout" 2>&1 || { cmd_stop; die "radosgw-admin user create failed"; }
  wait_for "signed S3 request" client.rgw.a endpoint_ready || { cmd_stop; die "S3 user not usable"; }
  log "ready: $ENDPOINT in $((SECONDS - t0))s (dir $DIR)"
  print_env
}

# --------------------------------------------------------------------- stop --
cmd_stop() {
  resolve_dir
  if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then rm -f "$POINTER"; log "not running"; return 0; fi
  # Throwaway cluster: TERM all three at once; radosgw and the mon need ~2 s
  # to exit, the osd then waits for the (gone) mon, so whatever is left after
  # RGW_STOP_GRACE seconds (default 3) gets KILL. Nothing is worth keeping.
  local n pids="" pid i alive
  for n in rgw osd mon; do
    if pid=$(pid_of "$n"); then kill -TERM "$pid" 2>/dev/null || true; pids="$pids $pid"; fi
  done
  for ((i = 0; i < ${RGW_STOP_GRACE:-3} * 10; i++)); do
    alive=""
    for pid in $pids; do if kill -0 "$pid" 2>/dev/null; then alive="$alive $pid"; fi; done
    pids=$alive; [ -z "$pids" ] && break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  # KILL is asynchronous: wait (bounded) until they are gone so that the ports are
  # free for the next `start` on the same RGW_PORT.
  for ((i = 0; i < 50; i++)); do
    alive=""
    for pid in $pids; do if kill -0 "$pid" 2>/dev/null; then alive="$alive $pid"; fi; done
    pids=$alive; [ -z "$pids" ] && break
    sleep 0.1
  done
  [ -z "$pids" ] || log "WARNING: pids still alive after KILL:$pids"
  rm -f "$DIR"/pids/*.pid
  if [ "${RGW_KEEP_DIR:-0}" = 1 ]; then log "stopped; kept $DIR"
  else
    # delete only what start created, then the dir itself if it is now empty
    rm -rf "$DIR"/{mon,osd,rgw,run,log,pids} "$DIR/ceph.conf" "$DIR/monmap" "$DIR/port"
    rmdir "$DIR" 2>/dev/null || true
    log "stopped; removed $DIR"
  fi
  if [ -f "$POINTER" ] && [ "$(cat "$POINTER")" = "$DIR" ]; then rm -f "$POINTER"; fi
}

cmd_status() { if is_running; then echo "running $ENDPOINT ($DIR)"; else echo stopped; return 1; fi; }
cmd_env() { is_running || die "not running"; print_env; }

# ----------------------------------------------------------------- selftest --
# Proves the Object Lock semantics a backup tool relies on, with plain curl.
md5b64() { openssl dgst -md5 -binary "$1" | base64; }
hdr() { tr -d '\r' | awk -v h="$1" 'tolower($1)==tolower(h)":" {print $2}'; }

cmd_selftest() {
  is_running || die "not running (start it first)"
  local tmp b pass=0 fail=0 code out v1 v2 vl until past later
  tmp=$(mktemp -d "${TMPBASE}/rgw-selftest.XXXXXX")
  b="locktest-$RANDOM$RANDOM"
  check() {  # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "PASS $1"
    else fail=$((fail + 1)); echo "FAIL $1 (expected '$2', got '$3')"; fi
  }
  head -c 65536 /dev/urandom >"$tmp/obj1"; head -c 65536 /dev/urandom >"$tmp/obj2"
  until=$(date -u -d '+5 min' +%Y-%m-%dT%H:%M:%SZ)

  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT \
    -H 'x-amz-bucket-object-lock-enabled: true' "$ENDPOINT/$b")
  check "create bucket with x-amz-bucket-object-lock-enabled" 200 "$code"
  out=$(s3curl "$ENDPOINT/$b?versioning=")
  check "object-lock bucket is versioned" 1 "$(grep -c '<Status>Enabled</Status>' <<<"$out")"

  printf '<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>' >"$tmp/olc.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/olc.xml")" \
    --data-binary @"$tmp/olc.xml" "$ENDPOINT/$b?object-lock=")
  check "PUT default retention (GOVERNANCE 1 day)" 200 "$code"

  out=$(s3curl -D - -o /dev/null -X PUT -H "Content-MD5: $(md5b64 "$tmp/obj1")" \
    -H 'x-amz-object-lock-mode: COMPLIANCE' -H "x-amz-object-lock-retain-until-date: $until" \
    --data-binary @"$tmp/obj1" "$ENDPOINT/$b/backup.tar")
  v1=$(hdr x-amz-version-id <<<"$out")
  check "PUT object COMPLIANCE until $until returns a version id" yes "$([ -n "$v1" ] && echo yes)"

  out=$(s3curl "$ENDPOINT/$b/backup.tar?retention=&versionId=$v1")
  check "(c) GET retention shows COMPLIANCE" 1 "$(grep -c '<Mode>COMPLIANCE</Mode>' <<<"$out")"
  check "(c) GET retention shows the retain-until date" 1 "$(grep -c "<RetainUntilDate>${until%Z}" <<<"$out")"
  out=$(s3curl -I "$ENDPOINT/$b/backup.tar?versionId=$v1")
  check "(c) HEAD shows x-amz-object-lock-mode" COMPLIANCE "$(hdr x-amz-object-lock-mode <<<"$out")"

  out=$(s3curl -w '%{http_code}' -X DELETE "$ENDPOINT/$b/backup.tar?versionId=$v1")
  check "(a) DELETE locked version refused" "AccessDenied 403" \
    "$(grep -o '<Code>[^<]*' <<<"$out" | cut -c7-) ${out: -3}"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE -H 'x-amz-bypass-governance-retention: true' \
    "$ENDPOINT/$b/backup.tar?versionId=$v1")
  check "(a) DELETE COMPLIANCE version refused even with governance bypass" 403 "$code"

  past=$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)
  printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' "$past" >"$tmp/ret.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/ret.xml")" \
    -H 'x-amz-bypass-governance-retention: true' --data-binary @"$tmp/ret.xml" \
    "$ENDPOINT/$b/backup.tar?retention=&versionId=$v1")
  check "COMPLIANCE retention cannot be shortened" 403 "$code"

  printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' "$until" >"$tmp/ret.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/ret.xml")" \
    --data-binary @"$tmp/ret.xml" "$ENDPOINT/$b/backup.tar?retention=&versionId=$v1")
  check "COMPLIANCE cannot be changed to GOVERNANCE" 403 "$code"
  later=$(date -u -d '+6 min' +%Y-%m-%dT%H:%M:%SZ)
  printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' "$later" >"$tmp/ret.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/ret.xml")" \
    --data-binary @"$tmp/ret.xml" "$ENDPOINT/$b/backup.tar?retention=&versionId=$v1")
  check "COMPLIANCE retention can be extended" 200 "$code"

  out=$(s3curl -D - -o /dev/null -X PUT -H "Content-MD5: $(md5b64 "$tmp/obj2")" \
    --data-binary @"$tmp/obj2" "$ENDPOINT/$b/backup.tar")
  v2=$(hdr x-amz-version-id <<<"$out")
  check "(b) overwrite creates a new version" yes "$([ -n "$v2" ] && [ "$v2" != "$v1" ] && echo yes)"
  s3curl -o "$tmp/got1" "$ENDPOINT/$b/backup.tar?versionId=$v1"
  check "(b) old locked version still readable, unchanged" yes "$(cmp -s "$tmp/obj1" "$tmp/got1" && echo yes)"
  out=$(s3curl "$ENDPOINT/$b?versions=")
  check "(b) ListObjectVersions shows both versions" 2 "$(grep -o '<VersionId>' <<<"$out" | wc -l)"

  out=$(s3curl "$ENDPOINT/$b/backup.tar?retention=&versionId=$v2")
  check "bucket default retention applied to new version (GOVERNANCE)" 1 "$(grep -c '<Mode>GOVERNANCE</Mode>' <<<"$out")"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE "$ENDPOINT/$b/backup.tar?versionId=$v2")
  check "(d) DELETE GOVERNANCE version without bypass refused" 403 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE -H 'x-amz-bypass-governance-retention: true' \
    "$ENDPOINT/$b/backup.tar?versionId=$v2")
  check "(d) DELETE GOVERNANCE version with x-amz-bypass-governance-retention allowed" 204 "$code"

  out=$(s3curl -D - -o /dev/null -X DELETE "$ENDPOINT/$b/backup.tar")
  check "DELETE without versionId only adds a delete marker" true "$(hdr x-amz-delete-marker <<<"$out")"
  code=$(s3curl -o /dev/null -w '%{http_code}' "$ENDPOINT/$b/backup.tar?versionId=$v1")
  check "locked version survives the delete marker" 200 "$code"

  out=$(s3curl -D - -o /dev/null -X PUT -H "Content-MD5: $(md5b64 "$tmp/obj1")" \
    -H 'x-amz-object-lock-legal-hold: ON' --data-binary @"$tmp/obj1" "$ENDPOINT/$b/held.tar")
  vl=$(hdr x-amz-version-id <<<"$out")
  out=$(s3curl "$ENDPOINT/$b/held.tar?legal-hold=&versionId=$vl")
  check "legal hold ON readable" 1 "$(grep -c '<Status>ON</Status>' <<<"$out")"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE -H 'x-amz-bypass-governance-retention: true' \
    "$ENDPOINT/$b/held.tar?versionId=$vl")
  check "legal hold blocks DELETE even with governance bypass" 403 "$code"
  printf '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>' >"$tmp/lh.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/lh.xml")" \
    --data-binary @"$tmp/lh.xml" "$ENDPOINT/$b/held.tar?legal-hold=&versionId=$vl")
  check "legal hold OFF" 200 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE -H 'x-amz-bypass-governance-retention: true' \
    "$ENDPOINT/$b/held.tar?versionId=$vl")
  check "after legal hold OFF, GOVERNANCE(default) + bypass DELETE allowed" 204 "$code"

  # Multipart upload.  KNOWN LIMIT of RGW 16.2: lock headers sent with
  # CreateMultipartUpload are ignored (the completed object gets only the
  # bucket's default retention, if any).  Workaround that works: complete the
  # upload, then PutObjectRetention / PutObjectLegalHold on the new version.
  local upid etag vm mb="$b-mp"
  s3curl -o /dev/null -X PUT -H 'x-amz-bucket-object-lock-enabled: true' "$ENDPOINT/$mb"
  out=$(s3curl -X POST -H 'x-amz-object-lock-mode: COMPLIANCE' \
    -H "x-amz-object-lock-retain-until-date: $until" "$ENDPOINT/$mb/multi.tar?uploads=")
  upid=$(grep -o '<UploadId>[^<]*' <<<"$out" | cut -c11-)
  out=$(s3curl -D - -o /dev/null -X PUT -H "Content-MD5: $(md5b64 "$tmp/obj1")" \
    --data-binary @"$tmp/obj1" "$ENDPOINT/$mb/multi.tar?partNumber=1&uploadId=$upid")
  etag=$(hdr etag <<<"$out")
  printf '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>' "$etag" >"$tmp/cmu.xml"
  out=$(s3curl -D - -o /dev/null -X POST --data-binary @"$tmp/cmu.xml" "$ENDPOINT/$mb/multi.tar?uploadId=$upid")
  vm=$(hdr x-amz-version-id <<<"$out")
  check "multipart upload completes with a version id" yes "$([ -n "$vm" ] && echo yes)"
  out=$(s3curl "$ENDPOINT/$mb/multi.tar?retention=&versionId=$vm")
  if grep -q '<Mode>COMPLIANCE</Mode>' <<<"$out"; then
    echo "INFO lock headers on CreateMultipartUpload were honoured"
  else
    echo "INFO lock headers on CreateMultipartUpload were IGNORED (RGW 16.2 limit): set retention after completing"
  fi
  printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' "$until" >"$tmp/ret.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/ret.xml")" \
    --data-binary @"$tmp/ret.xml" "$ENDPOINT/$mb/multi.tar?retention=&versionId=$vm")
  check "PutObjectRetention COMPLIANCE on the completed multipart version" 200 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE "$ENDPOINT/$mb/multi.tar?versionId=$vm")
  check "multipart version then locked: DELETE refused" 403 "$code"

  printf '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>' >"$tmp/vs.xml"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/vs.xml")" \
    --data-binary @"$tmp/vs.xml" "$ENDPOINT/$b?versioning=")
  check "versioning cannot be suspended on an object-lock bucket" 409 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT "$ENDPOINT/$b-plain")
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/olc.xml")" \
    --data-binary @"$tmp/olc.xml" "$ENDPOINT/$b-plain?object-lock=")
  check "object lock cannot be enabled on a bucket created without it" 409 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H "Content-MD5: $(md5b64 "$tmp/obj1")" \
    -H 'x-amz-object-lock-mode: COMPLIANCE' -H "x-amz-object-lock-retain-until-date: $until" \
    --data-binary @"$tmp/obj1" "$ENDPOINT/$b-plain/x")
  check "lock headers on a bucket created without object lock rejected" 400 "$code"
  code=$(s3curl -o /dev/null -w '%{http_code}' -X PUT -H 'Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==' \
    --data-binary @"$tmp/obj1" "$ENDPOINT/$b/badmd5")
  check "wrong Content-MD5 rejected (BadDigest)" 400 "$code"

  rm -rf "$tmp"
  echo "selftest: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}

# -------------------------------------------------------------------- bench --
cmd_bench() {
  is_running || die "not running (start it first)"
  local n=${1:-200} tmp b md5 until t0 t1 fails=0 i code
  tmp=$(mktemp -d "${TMPBASE}/rgw-bench.XXXXXX"); b="bench-$RANDOM$RANDOM"
  head -c 65536 /dev/urandom >"$tmp/obj"; md5=$(md5b64 "$tmp/obj")
  until=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
  s3curl -o /dev/null -X PUT -H 'x-amz-bucket-object-lock-enabled: true' "$ENDPOINT/$b"
  local H=(-H "Content-MD5: $md5" -H 'x-amz-object-lock-mode: COMPLIANCE'
           -H "x-amz-object-lock-retain-until-date: $until")
  t0=$(date +%s.%N)
  for ((i = 1; i <= n; i++)); do
    code=$(s3curl -o /dev/null -w '%{http_code}' "${H[@]}" -T "$tmp/obj" "$ENDPOINT/$b/a/$i")
    [ "$code" = 200 ] || fails=$((fails + 1))
  done
  t1=$(date +%s.%N)
  echo "bench: $n x 64KiB PUT (COMPLIANCE), one curl process each: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, $fails failed"
  t0=$(date +%s.%N)
  code=$(s3curl -o /dev/null -w '%{http_code}\n' "${H[@]}" -T "$tmp/obj" "$ENDPOINT/$b/b/[1-$n]" | grep -vc '^200$' || true)
  t1=$(date +%s.%N)
  echo "bench: $n x 64KiB PUT (COMPLIANCE), one keep-alive connection: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, $code failed"
  resolve_dir
  for d in mon osd rgw; do
    echo "rss: $d $(awk '/VmRSS/{print $2" "$3}' "/proc/$(pid_of $d)/status")"
  done
  rm -rf "$tmp"
}

case "${1:-}" in
  start)    cmd_start ;;
  stop)     cmd_stop ;;
  restart)  cmd_stop; cmd_start ;;
  status)   cmd_status ;;
  env)      cmd_env ;;
  selftest) cmd_selftest ;;
  bench)    shift; cmd_bench "${1:-200}" ;;
  install)  cmd_install ;;
  *) sed -n '2,/^# Only stdout/p' "$0" >&2; exit 2 ;;
esac
