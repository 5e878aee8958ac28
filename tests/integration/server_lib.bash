# Helpers for the kepu-server integration tests (sourced, not a test itself). Each test
# starts the real kepu-server on a free loopback port with a temporary data folder
# (redis's start_server), talks HTTP to it with curl, and removes everything at exit.
set -u
BIN=${KK_BUILD_DIR:?KK_BUILD_DIR not set}/src/server/kepu-server
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kepu-server-test.XXXXXX")
DATA=$TMP/data
PID=
PORT=
U=
FAILS=0
CHECKS=0

# KK_TEST_PG=1 (the ctest copies labelled pg) runs the test on the PostgreSQL store at
# KK_TEST_DB (postgresql:///postgres?..., from scripts/test.sh; skipped without it): a
# database of its own, created here and dropped at exit, so tests run side by side; every
# kepu-server command goes through a wrapper that adds --db (a --db given by the test
# comes later and wins), and sql reads it with psql.
DB_URL=
PG_DB=
if [ "${KK_TEST_PG:-0}" = 1 ]; then
    [ -n "${KK_TEST_DB:-}" ] || { echo "skipped: no PostgreSQL (KK_TEST_DB unset)"; rm -rf "$TMP"; exit 77; }
    PG_DB=kt_$(basename "$TMP" | tr -c 'a-zA-Z0-9\n' _ | tr 'A-Z' 'a-z')
    psql "$KK_TEST_DB" -XAtq -c "CREATE DATABASE $PG_DB" || { echo "cannot create database" >&2; exit 1; }
    DB_URL=${KK_TEST_DB/\/postgres\?/\/$PG_DB?}
    REAL_BIN=$BIN
    BIN=$TMP/kepu-server
    printf '#!/bin/sh\n[ $# -eq 0 ] && exec "%s"\ncmd=$1; shift\nexec "%s" "$cmd" --db "%s" "$@"\n' \
        "$REAL_BIN" "$REAL_BIN" "$DB_URL" >"$BIN"
    chmod +x "$BIN"
fi
# on_pg: true when this run uses the PostgreSQL store (for checks of SQLite's own files).
on_pg() { [ -n "$DB_URL" ]; }

cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    if [ -n "$PG_DB" ]; then
        [ -n "$PID" ] && wait "$PID" 2>/dev/null
        psql "$KK_TEST_DB" -XAtq -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok; else fail "$1: expected [$2], got [$3]"; fi
}
# check_has DESCRIPTION NEEDLE HAYSTACK
check_has() {
    case "$3" in *"$2"*) ok ;; *) fail "$1: [$2] not in [$3]" ;; esac
}
finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "--- server log ---" >&2; tail -n 40 "$TMP/server.log" >&2
        echo "$FAILS of $CHECKS checks failed" >&2; exit 1
    fi
    echo "all $CHECKS checks passed"; exit 0
}

# start_server [extra serve options...]: starts it and sets PID, PORT, U.
start_server() {
    "$BIN" serve --listen 127.0.0.1:0 --data "$DATA" "$@" >>"$TMP/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        PORT=$(grep -o 'port [0-9]*' "$TMP/server.log" | tail -1 | cut -d' ' -f2)
        [ -n "$PORT" ] && [ "$PORT" != 0 ] && break
        sleep 0.05
    done
    [ -n "$PORT" ] || { echo "server did not start" >&2; cat "$TMP/server.log" >&2; exit 1; }
    U=http://127.0.0.1:$PORT
}
# stop_server: SIGTERM, wait, return its exit code; clears the log so a restart reads the
# new port.
stop_server() {
    kill -TERM "$PID"; wait "$PID"; local rc=$?; PID=; : >"$TMP/server.log"; return $rc
}

# A fresh 128-bit hex event id.
new_id() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
now_ms() { echo $(( $(date +%s) * 1000 )); }

# http METHOD URL [curl options...]: prints "STATUS BODY"; the body goes to $TMP/body.
http() {
    local m=$1 url=$2; shift 2
    local code
    rm -f "$TMP/body"
    code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" "$U$url")
    echo "$code $(cat "$TMP/body" 2>/dev/null)"
}

# setup_fleet: venue v1 with kiosks k-0001 (token $TK) and k-0002 (token $TK2), office
# and admin user alice (password secret-pass), staff user bob (token $TS).
setup_fleet() {
    "$BIN" venue add v1 --name "市科技馆" --data "$DATA" || exit 1
    "$BIN" venue add v2 --name "农业科普基地" --data "$DATA" || exit 1
    TK=$("$BIN" kiosk add k-0001 --venue v1 --data "$DATA") || exit 1
    TK2=$("$BIN" kiosk add k-0002 --venue v2 --data "$DATA") || exit 1
    echo "secret-pass" | "$BIN" user add alice --role office,admin --data "$DATA" || exit 1
    TS=$(echo "staff-pass-1" | "$BIN" user add bob --role staff --data "$DATA") || exit 1
}

# event ID TYPE [extra JSON members]: one event of kiosk k-0001, now.
event() {
    local extra=${3:-}
    echo "{\"id\":\"$1\",\"kiosk\":\"k-0001\",\"ts\":$(now_ms),\"type\":\"$2\",\"session\":\"00ff\",\"audience\":\"youth\",\"lang\":\"zh\",\"pack\":\"quake@1\"${extra:+,$extra}}"
}
# batch EVENT... : the body of POST /api/v1/events for k-0001.
batch() {
    local IFS=,
    echo "{\"kiosk\":\"k-0001\",\"events\":[$*]}"
}
# post_events BODY [curl options]: POST /api/v1/events with kiosk token $TK.
post_events() {
    local body=$1; shift
    http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Content-Type: application/json' \
        --data-binary "$body" "$@"
}
# sql QUERY: reads the server's database (WAL lets us read beside it); rows as sqlite3
# prints them (columns joined by |).
sql() {
    if on_pg; then psql "$DB_URL" -XAtq -F'|' -c "$1"; else sqlite3 "$DATA/kepu.db" "$1"; fi
}

# stats_snapshot FILE: logs in as alice (password secret-pass) and writes the answer of
# every stats call the dashboard makes over four ranges and three filters to FILE, one
# line each (to compare a store before and after a change).
stats_snapshot() {
    local jar=$TMP/snapshot.jar now=$(( $(date +%s) * 1000 )) call range filter sep
    _day() { TZ=Asia/Shanghai date -d "@$(( now / 1000 - $1 * 86400 ))" +%F; }
    http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$jar" >/dev/null
    for call in overview "events?by=day" "sessions?by=day" "sessions?by=venue" \
        "sessions?by=kiosk" kiosks topics pages audiences "quiz?by=question" "quiz?by=audience" \
        "quiz?by=day" "quiz?by=audience_day" packs assignments; do
        for range in "from=$(_day 30)&to=$(_day -1)" "from=$(_day 400)&to=$(_day -1)" \
            "from=$(_day 150)&to=$(_day 100)" "from=$(_day 0)&to=$(_day -1)"; do
            for filter in "" "&venue=v1" "&kiosk=k-0003"; do
                case $call in *\?*) sep='&' ;; *) sep='?' ;; esac
                echo "$call $range$filter: $(curl -s -b "$jar" "$U/api/v1/stats/$call$sep$range$filter" | jq -c .)"
            done
        done
    done >"$1"
}
