#!/usr/bin/env bash
# Benchmarks kepu-server on this machine (figures in docs/performance.md, "## kepu-server").
#
#   scripts/bench-server.sh [--small] [--runs N] [--ingest-only]
#
# Builds kepu-server and tests/bench/bench_server, then, each time with the real server on
# 127.0.0.1 (a free port) and a temporary data folder that is removed at the end:
#  1. ingest: 1, 8 and 64 clients at once, each a kiosk of its own sending batches of 500
#     valid events (128 batches = 64,000 events per measurement), N runs; checks that the
#     server accepted every event once and that the database holds them all;
#  2. dashboard latency: a city of 20 venues and 200 kiosks; 1 million events of the last
#     30 days loaded over HTTP (timed), every stats call the dashboard makes timed
#     (median and p95 of 20); then 9 million more events of the 270 days before, stored
#     through the server's own ingest function without HTTP (bench_server seed), and the
#     same calls timed again at 10 million. Latency is measured for the dashboard's default
#     range (the last 30 days) and for a whole year.
# --small: 20,000 and 200,000 events instead of 1 and 10 million (a quick check of the
# script); --ingest-only: part 1 alone. KK_BUILD_DIR picks the build folder (default: build). KEEP=1 keeps the data.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KK_BUILD_DIR:-$top/build}
runs=2
small=0
ingest_only=0
while [ $# -gt 0 ]; do
    case $1 in
    --small) small=1 ;;
    --runs) runs=$2; shift ;;
    --ingest-only) ingest_only=1 ;;
    *) echo "usage: scripts/bench-server.sh [--small] [--runs N] [--ingest-only]" >&2; exit 2 ;;
    esac
    shift
done
if [ "$small" = 1 ]; then first=20000; more=180000; else first=1000000; more=9000000; fi

cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j2 --target kepu-server bench_server >/dev/null
server=$build/src/server/kepu-server
bench=$build/tests/bench/bench_server
work=$(mktemp -d "${TMPDIR:-/tmp}/kepu-bench-server.XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
password=bench-office-pass

machine() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
        "$(free -g | awk '/^Mem:/ {print $2}') GB RAM; sqlite $(sqlite3 --version | cut -d' ' -f1)"
}
load() { echo "load: $(uptime | sed 's/.*load average: //') (1, 5, 15 min)"; }

# start DATA: starts the server with the office's defaults; sets pid and url.
start() {
    : >"$work/server.log"
    # No per-kiosk rate or quota: the bench measures how fast the store takes events.
    "$server" serve --listen 127.0.0.1:0 --data "$1" --kiosk-rate 0 --kiosk-quota-mb 0 >>"$work/server.log" 2>&1 &
    pid=$!
    local port=
    for _ in $(seq 1 200); do
        port=$(grep -o 'port [0-9]*' "$work/server.log" | tail -1 | cut -d' ' -f2 || true)
        [ -n "$port" ] && [ "$port" != 0 ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
    url=http://127.0.0.1:$port
}
# cpu_ticks: the server's user + system CPU time so far, in 1/100 s (Linux /proc).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }

# fleet DATA VENUES KIOSKS: venues, kiosks (their tokens in DATA.kiosks), an office user,
# a staff user and assignments of the five packs.
fleet() {
    local data=$1 nv=$2 nk=$3 v k
    for v in $(seq 1 "$nv"); do
        "$server" venue add "$(printf 'v%02d' "$v")" --name "第${v}科普场馆" --data "$data"
    done
    : >"$data.kiosks"
    for k in $(seq 1 "$nk"); do
        v=$(printf 'v%02d' $(( (k - 1) % nv + 1 )))
        echo "$(printf 'k-%04d' "$k") $("$server" kiosk add "$(printf 'k-%04d' "$k")" --venue "$v" \
            --data "$data")" >>"$data.kiosks"
    done
    echo "$password" | "$server" user add office --role office --data "$data"
    echo "bench-staff-pass" | "$server" user add staff1 --role staff --data "$data" >/dev/null
    for v in $(seq 1 "$nv"); do
        for p in farming-and-land health-at-home safety-and-health science-for-the-city space-and-ai; do
            "$server" assign "$p@2026.11.1" --venue "$(printf 'v%02d' "$v")" --data "$data"
        done
    done
}
# heartbeats DATA: every kiosk reports once (the kiosks page and the overview read this).
heartbeats() {
    local id token
    while read -r id token; do
        curl -sf --noproxy '*' -o /dev/null -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' "$url/api/v1/heartbeat" --data-binary \
            "{\"kiosk\":\"$id\",\"app_version\":\"0.1.0\",\"packs\":[\"safety-and-health@2026.11.1\"],\"queue\":0,\"dropped\":0,\"uptime_s\":36000,\"disk_free_mb\":20000}"
    done <"$1.kiosks"
}
count() { sqlite3 "$1/kepu.db" "SELECT COUNT(*) FROM events"; }
stats() {
    local r
    for r in $(seq 1 "$runs"); do
        echo "- run $r; $(load)"
        "$bench" stats --url "$url" --user office --password "$password" --reps 20 --days 30
        "$bench" stats --url "$url" --user office --password "$password" --reps 20 --days 365
    done
}

echo "== kepu-server benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
machine
echo "server: kepu-server serve with its defaults (8 threads, SQLite WAL, synchronous=FULL)"

echo
echo "== 1. ingest: batches of 500 events over loopback"
A=$work/ingest
fleet "$A" 4 64 >/dev/null
start "$A"
total=0
for r in $(seq 1 "$runs"); do
    echo "- run $r; $(load)"
    for c in 1 8 64; do
        cpu0=$(cpu_ticks)
        "$bench" ingest --url "$url" --kiosks "$A.kiosks" --clients "$c" --batches 128 --batch 500
        cpu1=$(cpu_ticks)
        echo "  server CPU time: $(( (cpu1 - cpu0) * 10 )) ms for 64000 events," \
            "$(( (cpu1 - cpu0) * 10000 / 64000 )) us per event"
        total=$((total + 64000))
    done
done
stop
have=$(count "$A")
echo "database holds $have events; sent $total"
[ "$have" = "$total" ] || { echo "FAIL: events lost or doubled" >&2; exit 1; }
[ "$ingest_only" = 1 ] && { echo "done; $(load)"; exit 0; }

echo
echo "== 2. dashboard calls as logged-in office user: 20 venues, 200 kiosks"
B=$work/city
fleet "$B" 20 200 >/dev/null
start "$B"
heartbeats "$B"
echo "- $(load)"
"$bench" load --url "$url" --kiosks "$B.kiosks" --events "$first" --days 29:0 --clients 8
have=$(count "$B")
[ "$have" = "$first" ] || { echo "FAIL: $have events stored, $first sent" >&2; exit 1; }
echo "-- $have events stored ($(du -sh "$B" | cut -f1) on disk)"
stats
stop

echo "- $(load)"
"$bench" seed --data "$B" --kiosks "$B.kiosks" --events "$more" --days 299:30 --batch 1000
have=$(count "$B")
[ "$have" = "$((first + more))" ] || { echo "FAIL: $have events stored" >&2; exit 1; }
start "$B"
heartbeats "$B"
echo "-- $have events stored ($(du -sh "$B" | cut -f1) on disk);" \
    "rollup rows: $(sqlite3 "$B/kepu.db" "SELECT (SELECT COUNT(*) FROM roll_hour) || ' hour, ' ||
    (SELECT COUNT(*) FROM roll_topic) || ' topic, ' || (SELECT COUNT(*) FROM roll_page) ||
    ' page, ' || (SELECT COUNT(*) FROM roll_audience) || ' audience, ' ||
    (SELECT COUNT(*) FROM roll_question) || ' question'")"
stats
stop
echo
echo "done; $(load)"
