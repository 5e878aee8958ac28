#!/usr/bin/env bash
# Builds and runs the benchmarks; prints figures (record them in docs/performance.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target kepu-kiosk
size=${1:-1920x1080}
# A real X server (Xvfb) as on a kiosk: SDL then sleeps in the X event wait when idle.
KK_BUILD_DIR=$top/build KK_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 ${size}x24" \
  /usr/bin/python3 tests/bench/bench_kiosk.py "$size"
# Memory over the whole sample content: every topic, screen, block state and quiz.
KK_BUILD_DIR=$top/build KK_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 ${size}x24" \
  /usr/bin/python3 tests/bench/walk_kiosk.py "$size"
