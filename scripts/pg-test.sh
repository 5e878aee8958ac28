#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests and benchmarks: Debian's postgresql-15, run by
# an unprivileged user in a folder of its own, listening only on a unix socket there.
#
#   scripts/pg-test.sh start DIR [--durable]   prints the admin URL (database postgres)
#   scripts/pg-test.sh stop DIR                stops it and removes DIR
#
# Without --durable the cluster runs with fsync=off (tests: nothing survives a crash of
# the machine anyway); --durable keeps PostgreSQL's defaults (benchmarks). As root (CI)
# it runs as the user "nobody" (runuser), since PostgreSQL refuses to run as root.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: scripts/pg-test.sh start|stop DIR [--durable]" >&2; exit 2; }
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
case $cmd in
start)
    [ -x "$bin/initdb" ] || { echo "pg-test: $bin/initdb missing (scripts/deps.sh --test installs postgresql-15)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    chmod 0700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U kepu --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    opts="-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=300"
    opts="$opts -c shared_buffers=128MB"
    [ "${3:-}" = --durable ] || opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql:///postgres?host=$dir&user=kepu"
    ;;
stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*) echo "usage: scripts/pg-test.sh start|stop DIR [--durable]" >&2; exit 2 ;;
esac
