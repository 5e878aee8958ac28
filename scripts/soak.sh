#!/usr/bin/env bash
# Soak benchmarks (issue 11; figures in docs/performance.md, "## Soak"). Prints figures.
#
#   scripts/soak.sh server [--minutes N] [--kiosks N] [--rate EVENTS_PER_S]
#       kepu-server on loopback under mixed load (tests/bench/soak_server.py; default 30 min)
#   scripts/soak.sh kiosk [--days N] [--journal-max-mb N]
#       kepu-kiosk cycling visitor sessions on the accelerated clock (tests/bench/soak_kiosk.py;
#       default a week)
#
# Builds what it runs first (RelWithDebInfo in build/, or KK_BUILD_DIR).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KK_BUILD_DIR:-$top/build}
what=${1:-}
[ $# -gt 0 ] && shift
case $what in
server | kiosk) ;;
*) echo "usage: scripts/soak.sh server|kiosk [options]  (see the script's header)" >&2; exit 2 ;;
esac
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target kepu-server kepu-pack kepu-kiosk >/dev/null
KK_BUILD_DIR=$build exec /usr/bin/python3 "$top/tests/bench/soak_$what.py" "$@"
