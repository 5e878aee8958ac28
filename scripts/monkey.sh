#!/usr/bin/env bash
# The full monkey (issue 11; figures in docs/performance.md, "## Monkey"): builds the kiosk
# with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan, as scripts/test.sh
# does) and runs tests/ui/test_monkey.py with 100,000 actions.
#
#   scripts/monkey.sh [--actions N] [--seed S] [--replay FILE] [--selftest kill|segv|stop|stuck]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KK_BUILD_DIR:-$top/build-asan}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DKK_SANITIZE=ON >/dev/null
cmake --build "$build" -j2 --target kepu-kiosk kepu-pack >/dev/null
echo "monkey: $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
KK_SOURCE_DIR=$top KK_BUILD_DIR=$build KK_MONKEY_ACTIONS=100000 \
    /usr/bin/python3 "$top/tests/ui/test_monkey.py" "$@"
echo "monkey: done $(date -u '+%H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
