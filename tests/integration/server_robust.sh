#!/usr/bin/env bash
# kepu-server under hostile or unlucky conditions: a client sending one byte per second,
# silent connections, 1,000 idle connections, a connection limit, SIGTERM with a request
# in flight, and SIGKILL in the middle of ingest (nothing acknowledged may be lost, and
# nothing counted twice). Loopback only.
. "$(dirname "$0")/server_lib.bash"
trap '' PIPE
setup_fleet
# Every client here is 127.0.0.1: the per-address limit is lifted so the server's own
# capacity is what is tested (server_connections.sh tests the per-address limit).
start_server --timeout 2 --max-per-address 5000

healthz_fast() { # healthz answers within a second
    local t0=$(date +%s%N) r
    r=$(curl -s -m 2 "$U/healthz")
    [ "$r" = '{"status":"ok"}' ] && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000 ]
}
# closed_within FD SECONDS: true when the server closes FD within that time.
closed_within() {
    local line end=$((SECONDS + $2))
    while [ $SECONDS -le $end ]; do
        IFS= read -r -t 1 -u "$1" line; local rc=$?
        [ $rc -eq 1 ] && return 0      # EOF
        [ $rc -eq 0 ] && continue      # a response line: keep reading
    done
    return 1
}

# --- a body sent one byte per second is cut off; others are served meanwhile ---
exec {slow}<>/dev/tcp/127.0.0.1/$PORT
printf 'POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n' "$TK" >&$slow
( for i in $(seq 1 10); do printf '{' >&$slow 2>/dev/null || exit 0; sleep 1; done ) &
trickler=$!
sleep 0.5
healthz_fast && ok || fail "healthz while a client trickles"
closed_within $slow 6 && ok || fail "slow body not cut off"
kill $trickler 2>/dev/null; wait $trickler 2>/dev/null; exec {slow}>&-
check_has "slow cut counted" "kepu_http_slow_uploads_cut_total 1" "$(curl -s "$U/metrics")"

# --- headers trickled one byte per second do not block anyone ---
exec {slowh}<>/dev/tcp/127.0.0.1/$PORT
( for c in G E T ' ' /; do printf '%s' "$c" >&$slowh 2>/dev/null || exit 0; sleep 1; done ) &
trickler=$!
sleep 1.5
healthz_fast && ok || fail "healthz while headers trickle"
kill $trickler 2>/dev/null; wait $trickler 2>/dev/null; exec {slowh}>&-

# --- a silent connection is closed after the idle timeout ---
exec {idle}<>/dev/tcp/127.0.0.1/$PORT
closed_within $idle 5 && ok || fail "idle connection not closed"
exec {idle}>&-

# --- 1,000 idle connections: the server keeps answering ---
fds=()
for i in $(seq 1 1000); do exec {f}<>/dev/tcp/127.0.0.1/$PORT && fds+=("$f"); done
check "1000 connections opened" 1000 "${#fds[@]}"
healthz_fast && ok || fail "healthz with 1000 idle connections"
for f in "${fds[@]}"; do exec {f}>&-; done
sleep 0.5
healthz_fast && ok || fail "healthz after the idle connections closed"
stop_server; check "clean exit" 0 $?

# --- a connection limit bounds what idle clients can hold: past 32 a connection is taken
# only to be told 503, and past 32 + 32/8 + 16 = 52 it is refused outright ---
start_server --timeout 2 --max-connections 32 --max-per-address 5000
before=$(ls /proc/$PID/fd | wc -l)
fds=()
for i in $(seq 1 100); do exec {f}<>/dev/tcp/127.0.0.1/$PORT && fds+=("$f"); done
sleep 0.5
held=$(( $(ls /proc/$PID/fd | wc -l) - before ))
[ $held -le 52 ] && [ $held -ge 32 ] && ok || fail "connection limit 32: server holds $held connections"
for f in "${fds[@]}"; do exec {f}>&-; done
sleep 0.3
healthz_fast && ok || fail "healthz after hitting the connection limit"

# --- SIGTERM finishes the request in flight, refuses new ones, exits 0 ---
exec {req}<>/dev/tcp/127.0.0.1/$PORT
body='{"kiosk":"k-0001","queue":5}'
printf 'POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$TK" ${#body} "${body:0:10}" >&$req
sleep 0.3
kill -TERM "$PID"
sleep 0.3
curl -s -m 1 "$U/healthz" >/dev/null && fail "new connection accepted after SIGTERM" || ok
kill -0 "$PID" 2>/dev/null && ok || fail "server exited before the request in flight finished"
printf '%s' "${body:10}" >&$req
IFS= read -r -t 3 -u $req status
check "request in flight answered" "HTTP/1.1 200 OK" "${status%$'\r'}"
exec {req}>&-
wait "$PID"; check "exit 0 after SIGTERM" 0 $?
PID=
check "its heartbeat stored" 5 "$(sql "SELECT queue FROM kiosk_status WHERE kiosk='k-0001'")"

# --- SIGKILL during ingest: everything acknowledged is there after restart, once ---
: >"$TMP/server.log"
start_server
client() { # client N: sends batches of 200 until the server goes away
    local n=$1 b ids body code
    for b in $(seq 1 1000); do
        ids=$(head -c 3200 /dev/urandom | od -An -tx1 -v | tr -d ' \n' | fold -w32)
        body=$(awk -v ts="$(now_ms)" 'BEGIN{printf "{\"kiosk\":\"k-0001\",\"events\":["} {printf "%s{\"id\":\"%s\",\"kiosk\":\"k-0001\",\"ts\":%s,\"type\":\"page_view\",\"topic\":\"t%d\",\"page\":0,\"dwell_ms\":10}", (NR>1?",":""), $1, ts, NR%7} END{printf "]}"}' <<<"$ids")
        echo "$body" >"$TMP/batch.$n.$b"
        code=$(curl -s -m 10 -o "$TMP/ack.$n" -w '%{http_code}' -H "Authorization: Bearer $TK" --data-binary @"$TMP/batch.$n.$b" "$U/api/v1/events") || break
        [ "$code" = 200 ] || break
        [ "$(jq '.accepted + .duplicates' "$TMP/ack.$n")" = 200 ] || { echo "bad ack" >&2; break; }
        echo "$ids" >>"$TMP/acked.$n"
        echo "$TMP/batch.$n.$b" >>"$TMP/acked_batches"
    done
}
for n in 1 2 3 4; do client $n & done
sleep 2
kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=
wait
cat "$TMP"/acked.* >"$TMP/acked" 2>/dev/null
acked=$(wc -l <"$TMP/acked")
[ "$acked" -ge 200 ] && ok || fail "too few batches acknowledged before the kill ($acked)"
: >"$TMP/server.log"
start_server
if on_pg; then
    psql "$DB_URL" -XAtq >"$TMP/missing" 2>&1 <<SQL
CREATE TEMP TABLE acked(id TEXT);
\copy acked FROM '$TMP/acked'
SELECT COUNT(*) FROM acked WHERE id NOT IN (SELECT id FROM events);
SQL
else
    sqlite3 "$DATA/kepu.db" >"$TMP/missing" 2>&1 <<SQL
CREATE TEMP TABLE acked(id TEXT);
.import $TMP/acked acked
SELECT COUNT(*) FROM acked WHERE id NOT IN (SELECT id FROM events);
SQL
fi
echo "SIGKILL during ingest: $acked events acknowledged before the kill"
check "acknowledged events all there after SIGKILL" 0 "$(tail -1 "$TMP/missing")"
stored=$(sql 'SELECT COUNT(*) FROM events')
check "rollups agree with stored events" "$stored" "$(sql "SELECT SUM(n) FROM roll_hour")"
check "topic rollups agree" "$stored" "$(sql "SELECT SUM(views) FROM roll_topic")"
check "event counter agrees" "$stored" "$(sql "SELECT n FROM counters WHERE name='events'")"
# the kiosk re-sends what it is unsure of: all duplicates, nothing counted twice
b=$(head -1 "$TMP/acked_batches")
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$b")
check "re-sent batch is all duplicates" '200 {"accepted":0,"duplicates":200,"rejected":[]}' "$r"
check "still counted once" "$stored" "$(sql "SELECT SUM(views) FROM roll_topic")"
stop_server; check "clean exit" 0 $?
finish
