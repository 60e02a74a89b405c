#!/bin/sh
# check-deps.sh - policy/ is a pure library: bytes in, decision out. Fail when its
# archive references I/O, network, clock, logging or thread symbols.
set -eu
lib=$1
banned='^(open|openat|fopen|fdopen|read|write|close|socket|connect|bind|listen|accept|send|recv|sendto|recvfrom|stat|fstat|lstat|opendir|readdir|getenv|secure_getenv|time|clock_gettime|gettimeofday|localtime|localtime_r|gmtime|printf|fprintf|puts|fputs|fwrite|syslog|pthread_create|pthread_mutex_lock|cm_log_|cm_fs_read_file|cm_fs_load_tree|cm_fs_write_atomic|cm_time_now_ms|cm_time_mono_ns|curl_easy_perform)$'
bad=$(nm -u "$lib" | awk '{print $NF}' | sed 's/@.*//' | grep -E "$banned" | sort -u || true)
if [ -n "$bad" ]; then
    echo "check-deps: $lib uses I/O or clock symbols; policy/ must stay pure:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
echo "check-deps: $lib is pure ($(nm -u "$lib" | wc -l) undefined symbols, none banned)"
