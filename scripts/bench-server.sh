#!/usr/bin/env bash
# Benchmarks kepu-server on this machine (figures in docs/performance.md, "## kepu-server").
#
#   scripts/bench-server.sh [--small] [--runs N] [--ingest-only] [--store sqlite|postgresql|both]
#
# Builds kepu-server and tests/bench/bench_server, then, for each store (default: both;
# PostgreSQL 15 started for the run by scripts/pg-test.sh in the temporary folder), each
# time with the real server on 127.0.0.1 (a free port) and a temporary data folder that is
# removed at the end:
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
# script); --ingest-only: part 1 alone. At the end a table puts both stores side by side. KK_BUILD_DIR picks the build folder (default: build). KEEP=1 keeps the data.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KK_BUILD_DIR:-$top/build}
runs=2
small=0
ingest_only=0
stores="sqlite postgresql"
usage="usage: scripts/bench-server.sh [--small] [--runs N] [--ingest-only] [--store sqlite|postgresql|both]"
while [ $# -gt 0 ]; do
    case $1 in
    --small) small=1 ;;
    --runs) runs=$2; shift ;;
    --ingest-only) ingest_only=1 ;;
    --store)
        case ${2:-} in
        sqlite | postgresql) stores=$2 ;;
        both) ;;
        *) echo "$usage" >&2; exit 2 ;;
        esac
        shift ;;
    *) echo "$usage" >&2; exit 2 ;;
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
pg=
db=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    [ -n "$pg" ] && "$top/scripts/pg-test.sh" stop "$pg"
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
password=bench-office-pass

machine() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
        "$(free -g | awk '/^Mem:/ {print $2}') GB RAM; sqlite $(sqlite3 --version | cut -d' ' -f1)"
}
# srv COMMAND ARGS...: kepu-server on the store of this round (--db when it is PostgreSQL).
srv() { local c=$1; shift; "$server" "$c" ${db:+--db "$db"} "$@"; }
# use_store sqlite|postgresql NAME: the store of the data set NAME (a database of its own).
use_store() {
    db=
    if [ "$1" = postgresql ]; then
        if [ -z "$pg" ]; then
            pg=$(mktemp -u "${TMPDIR:-/tmp}/kepu-bench-pg.XXXXXX") # the postgres user cannot enter $work
            pgurl=$("$top/scripts/pg-test.sh" start "$pg")
        fi
        psql "$pgurl" -XAtq -c "CREATE DATABASE $2"
        db=${pgurl/\/postgres\?/\/$2?}
    fi
}
q() { if [ -n "$db" ]; then psql "$db" -XAtq -c "$1"; else sqlite3 "$2/kepu.db" "$1"; fi; }
size() { if [ -n "$db" ]; then q "SELECT pg_size_pretty(pg_database_size(current_database()))"; else du -sh "$1" | cut -f1; fi; }
load() { echo "load: $(uptime | sed 's/.*load average: //') (1, 5, 15 min)"; }

# start DATA: starts the server with the office's defaults; sets pid and url.
start() {
    : >"$work/server.log"
    # No per-kiosk rate or quota: the bench measures how fast the store takes events.
    srv serve --listen 127.0.0.1:0 --data "$1" --kiosk-rate 0 --kiosk-quota-mb 0 >>"$work/server.log" 2>&1 &
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
        srv venue add "$(printf 'v%02d' "$v")" --name "第${v}科普场馆" --data "$data"
    done
    : >"$data.kiosks"
    for k in $(seq 1 "$nk"); do
        v=$(printf 'v%02d' $(( (k - 1) % nv + 1 )))
        echo "$(printf 'k-%04d' "$k") $(srv kiosk add "$(printf 'k-%04d' "$k")" --venue "$v" \
            --data "$data")" >>"$data.kiosks"
    done
    echo "$password" | srv user add office --role office --data "$data"
    echo "bench-staff-pass" | srv user add staff1 --role staff --data "$data" >/dev/null
    for v in $(seq 1 "$nv"); do
        for p in farming-and-land health-at-home safety-and-health science-for-the-city space-and-ai; do
            srv assign "$p@2026.11.1" --venue "$(printf 'v%02d' "$v")" --data "$data"
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
count() { q "SELECT COUNT(*) FROM events" "$1"; }
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


# round STORE: both parts on one store.
round() {
store=$1
echo
echo "#### store: $store"
if [ "$store" = sqlite ]; then
    echo "server: kepu-server serve with its defaults (8 threads, SQLite WAL, synchronous=FULL)"
else
    echo "server: kepu-server serve --db postgresql://… (8 threads; PostgreSQL $(postgres --version 2>/dev/null | awk '{print $3}' || true) from scripts/pg-test.sh, its defaults)"
fi
echo
echo "== 1. ingest: batches of 500 events over loopback"
A=$work/$store-ingest
use_store "$store" "ingest_$store"
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
[ "$ingest_only" = 1 ] && return 0

echo
echo "== 2. dashboard calls as logged-in office user: 20 venues, 200 kiosks"
B=$work/$store-city
use_store "$store" "city_$store"
fleet "$B" 20 200 >/dev/null
start "$B"
heartbeats "$B"
echo "- $(load)"
"$bench" load --url "$url" --kiosks "$B.kiosks" --events "$first" --days 29:0 --clients 8
have=$(count "$B")
[ "$have" = "$first" ] || { echo "FAIL: $have events stored, $first sent" >&2; exit 1; }
echo "-- $have events stored ($(size "$B") on disk)"
stats
stop

echo "- $(load)"
"$bench" seed --data "$B" ${db:+--db "$db"} --kiosks "$B.kiosks" --events "$more" --days 299:30 --batch 1000
have=$(count "$B")
[ "$have" = "$((first + more))" ] || { echo "FAIL: $have events stored" >&2; exit 1; }
start "$B"
heartbeats "$B"
echo "-- $have events stored ($(size "$B") on disk);" \
    "rollup rows: $(q "SELECT (SELECT COUNT(*) FROM roll_hour) || ' hour, ' ||
    (SELECT COUNT(*) FROM roll_topic) || ' topic, ' || (SELECT COUNT(*) FROM roll_page) ||
    ' page, ' || (SELECT COUNT(*) FROM roll_audience) || ' audience, ' ||
    (SELECT COUNT(*) FROM roll_question) || ' question'" "$B")"
stats
stop
}

for store in $stores; do round "$store" 2>&1 | tee "$work/$store.out"; done

# Side by side: the best ingest run per client count, and at 10 million events the
# slowest dashboard call of the default range (30 days) and of a year.
echo
echo "== side by side"
printf '%-44s' ""; for store in $stores; do printf '%16s' "$store"; done; echo
for c in 1 8 64; do
    printf '%-44s' "ingest, $c client(s), events/s"
    for store in $stores; do
        printf '%16s' "$(sed -n "s/^ingest: $c client(s), .*: \([0-9]*\) events\/s.*/\1/p" "$work/$store.out" | sort -n | tail -1)"
    done
    echo
done
if [ "$ingest_only" = 0 ]; then
    for which in "30 days" "365 days"; do
        for at in first last; do
            label="dashboard $which, slowest p95 ms"
            [ "$at" = first ] && label="$label @$first" || label="$label @$((first + more))"
            printf '%-44s' "$label"
            for store in $stores; do
                # Each stats() call prints one block per range; the first half of the blocks
                # are at $first events, the second half at $first + $more.
                v=$(awk -v w="($which)" -v at="$at" '
                    index($0, "dashboard calls from") && index($0, w) { n++; inb = 1; next }
                    inb && /slowest call/ { p[n] = $(NF - 1); inb = 0 }
                    END { h = n / 2; m = 0
                          for (i = (at == "first" ? 1 : h + 1); i <= (at == "first" ? h : n); i++)
                              if (p[i] + 0 > m) m = p[i] + 0
                          print m }' "$work/$store.out")
                printf '%16s' "$v"
            done
            echo
        done
    done
fi
echo
echo "done; $(load)"