#!/usr/bin/env bash
# Source checks (curl's checksrc): every C file formatted by .clang-format, no banned
# functions, and no SDL or microhttpd headers in the core library.
set -u
top=${1:-$(git rev-parse --show-toplevel)}
cd "$top" || exit 2
fail=0
files=$(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null || find src tests -name '*.[ch]')
for f in $files; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "checksrc: $f: not formatted (run: clang-format -i $f)"; fail=1
  fi
done
if grep -rnE '#\s*include\s*[<"](SDL|microhttpd)' src/core; then
  echo "checksrc: src/core must not include SDL or microhttpd headers"; fail=1
fi
if grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gmtime|localtime)\s*\(' src tests \
     --include='*.c' | grep -v 'banned.h'; then
  echo "checksrc: banned function used (see src/core/banned.h)"; fail=1
fi
[ $fail = 0 ] && echo "checksrc: ok"
exit $fail
