#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz/) and runs them.
# Usage: scripts/fuzz.sh TARGET SECONDS    one target, e.g. scripts/fuzz.sh http 3600
#        scripts/fuzz.sh all SECONDS       every target for SECONDS each, two at a time
#        scripts/fuzz.sh list              the target names
# Seeds come from tests/fuzz/corpus/<target>/ (read only); what the fuzzer finds goes to
# build-fuzz/corpus/<target>/, and a crashing, leaking or slow input to
# build-fuzz/artifacts/<target>-*. Exits non-zero on any crash, leak, sanitizer report or
# timeout (one input running over 10 s), naming the target and the input.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ $# -ge 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
if [ "$1" = list ]; then
  echo "$targets"
  exit 0
fi
[ $# -eq 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { echo "fuzz.sh: expected TARGET SECONDS" >&2; exit 2; }
seconds=$2
if [ "$1" = all ]; then
  run=$targets
else
  echo "$targets" | grep -qx "$1" || { echo "fuzz.sh: no target $1 (try: $0 list)" >&2; exit 2; }
  run=$1
fi

CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DKK_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

# Scratch files of the targets go to memory when it can.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
mkdir -p build-fuzz/artifacts build-fuzz/logs

one() {
  local t=$1 log=build-fuzz/logs/$1.log
  mkdir -p "build-fuzz/corpus/$t"
  if TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$top/tests/lsan.supp \
    "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz: $t: $(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}') inputs in ${seconds} s, no crash, leak or timeout"
  else
    echo "fuzz: $t: FAILED (log: $log)" >&2
    grep -E 'ERROR: |SUMMARY: |Test unit written|runtime error|ALARM|timeout' "$log" | head -20 >&2
    return 1
  fi
}

fail=0
if [ "$1" = all ]; then
  # Two at a time: the CI machine has two cores.
  pids=()
  for t in $run; do
    one "$t" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then
      wait "${pids[0]}" || fail=1
      pids=("${pids[@]:1}")
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
else
  one "$run" || fail=1
fi
exit $fail
