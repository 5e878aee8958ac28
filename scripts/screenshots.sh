#!/usr/bin/env bash
# Regenerates docs/screenshots/ from the real kiosk (offscreen). Look at every one.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target kepu-kiosk
KK_BUILD_DIR=$top/build /usr/bin/python3 tests/support/screenshots.py "$@"
