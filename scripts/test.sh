#!/usr/bin/env bash
# Installs what is missing, builds everything twice (normal, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), runs every test, then every fuzz target for a bounded time.
# This is what .ci/run calls.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh --test
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
# A PostgreSQL 15 of its own for the tests labelled pg (the server tests once more on the
# PostgreSQL store), stopped and removed at exit.
pgdir=$(mktemp -u "${TMPDIR:-/tmp}/kepu-pg.XXXXXX")
trap 'scripts/pg-test.sh stop "$pgdir"' EXIT
KK_TEST_DB=$(scripts/pg-test.sh start "$pgdir")
export KK_TEST_DB
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600 -LE slow

# The sanitizer build runs the unit tests of the core, server and tools, where the
# untrusted input is parsed. System libraries' lifetime caches are suppressed
# (tests/lsan.supp); leaks in our own code fail the run.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKK_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$top/tests/lsan.supp \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L 'core|server|tools' --timeout 600

# Every parser of untrusted input under libFuzzer with ASan + UBSan (tests/fuzz), 30 s per
# target, two at a time; any crash, leak or slow input fails the run.
scripts/fuzz.sh all "${KK_FUZZ_SECONDS:-30}"

# The monkey: 12,000 random actions on the kiosk built with the sanitizers, after its
# self-tests (tests/ui/test_monkey.py; scripts/monkey.sh runs the full 100,000).
ctest --test-dir build-asan --output-on-failure -L slow --timeout 900
