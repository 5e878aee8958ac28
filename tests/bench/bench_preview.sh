#!/usr/bin/env bash
# Times POST /api/v1/drafts/{id}/preview (a benchmark, not a ctest test): starts the real
# kepu-server with the real kepu-kiosk, imports content/farming-and-land as a draft and
# asks for N page previews one after another (each starts its own kiosk), then prints the
# median and p95 in ms. Usage: KK_BUILD_DIR=build tests/bench/bench_preview.sh [N] [SIZE]
#   e.g. tests/bench/bench_preview.sh 10 1080x1920
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${KK_BUILD_DIR:-$src/build}
export KK_BUILD_DIR=$(cd "$build" && pwd) KK_SOURCE_DIR=$src
N=${1:-10}
SIZE=${2:-1920x1080}
cmake --build "$KK_BUILD_DIR" -j2 --target kepu-server kepu-kiosk >/dev/null
. "$src/tests/integration/server_lib.bash"
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null
start_server --kiosk-bin "$KK_BUILD_DIR/src/app/kepu-kiosk"
tar -czf "$TMP/farm.tgz" -C "$src/content" farming-and-land
D=$(curl -s -H "Authorization: Bearer $TS" --data-binary @"$TMP/farm.tgz" "$U/api/v1/drafts/import" | jq -r .draft)
topics=(soil-and-water seeds-smart-farming yangtze-ecology)
result=$(for i in $(seq 1 "$N"); do
    t=${topics[$((i % 3))]}
    page=$((i % 4 + 1))
    curl -s -o "$TMP/shot.png" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TS" \
        --data-binary "{\"topic\":\"$t\",\"page\":$page,\"lang\":\"zh\",\"size\":\"$SIZE\"}" \
        "$U/api/v1/drafts/$D/preview"
done | sort -k2,2n | awk -v size="$SIZE" '
    $1 != 200 { bad++ } { ms[NR] = $2 * 1000 }
    END {
        p50 = ms[int((NR + 1) / 2)]; i95 = int(NR * 0.95 + 0.999); if (i95 > NR) i95 = NR
        printf "%d page previews %s, one at a time: median %.0f ms, p95 %.0f ms, max %.0f ms; %d not 200\n",
            NR, size, p50, ms[i95], ms[NR], bad
    }')
stop_server >/dev/null 2>&1 || true
echo "$result (load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'))"
case "$result" in *"; 0 not 200") ;; *) exit 1 ;; esac
