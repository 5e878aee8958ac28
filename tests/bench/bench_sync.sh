#!/usr/bin/env bash
# Builds tests/bench/bench_sync.c against a build folder's libkepu and runs it (a benchmark,
# not a ctest test). Usage: KK_BUILD_DIR=build tests/bench/bench_sync.sh [bench_sync options]
#   e.g. tests/bench/bench_sync.sh -n 500 -e 1000
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${KK_BUILD_DIR:-$src/build}
build=$(cd "$build" && pwd)
export KK_BUILD_DIR=$build
cmake --build "$build" -j2 --target kepu kepu-server >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/kk-bench-build.XXXXXX")
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -std=c17 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -include "$src/src/core/banned.h" \
    -I "$src/src/core/include" "$src/tests/bench/bench_sync.c" "$build/src/core/libkepu.a" \
    $(pkg-config --cflags --libs libcjson sqlite3 libsodium libcurl libarchive libunibreak zlib) \
    -lpthread -lm -o "$out/bench_sync"
"$out/bench_sync" "$@"
