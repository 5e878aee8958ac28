#!/usr/bin/env bash
# Builds tests/bench/bench_sync.c (CMake target bench_sync) and runs it (a benchmark, not a
# ctest test). Usage: KK_BUILD_DIR=build tests/bench/bench_sync.sh [bench_sync options]
#   e.g. tests/bench/bench_sync.sh -n 500 -e 1000
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${KK_BUILD_DIR:-$src/build}
build=$(cd "$build" && pwd)
export KK_BUILD_DIR=$build
cmake --build "$build" -j2 --target bench_sync kepu-server >/dev/null
"$build/tests/bench/bench_sync" "$@"
