#!/usr/bin/env bash
# tests/checksrc.sh must fail on an include circle and on a scene including another
# scene, naming the files, and pass on the same tree without them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p "$tmp/src/app" "$tmp/src/tools" "$tmp/src/server" "$tmp/src/core"
cd "$tmp/src/app"
printf '#include "b.h"\nint a(void) { return 1; }\n' >a.c
printf 'int a(void);\n' >a.h
printf '#include "c.h"\nint b(void);\n' >b.h
printf 'int b(void) { return 2; }\n' >b.c
printf '#include "a.h"\nint c(void);\n' >c.h
printf 'const struct scene scene_one = {0};\n' >scene_one.c
printf '#include "scene_two.h"\nconst struct scene scene_three = {0};\n' >scene_three.c
printf 'int two(void);\n' >scene_two.h
printf 'const struct scene scene_two = {0};\n' >scene_two.c
cd "$tmp"
out=$(KNOWN_CIRCLES= bash "$here/checksrc.sh" "$tmp" 2>&1)
rc=$?
expect() {
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "FAIL: expected \"$1\" in:"; echo "$out"; fail=1
  fi
}
[ $rc != 0 ] || { echo "FAIL: checksrc passed a tree with a circle"; fail=1; }
expect "include circle in src/app: a -> b (a.c) -> c (b.h) -> a (c.h)"
expect "src/app/scene_three.c includes scene_two, another scene"
# A known circle is reported but passes; a known circle that is gone fails.
rm scene_three.c src/app/scene_three.c 2>/dev/null
out=$(KNOWN_CIRCLES="src/app:a,b,c" bash "$here/checksrc.sh" "$tmp" 2>&1) || { echo "FAIL: known circle failed: $out"; fail=1; }
rm src/app/c.h
out=$(KNOWN_CIRCLES="src/app:a,b,c" bash "$here/checksrc.sh" "$tmp" 2>&1) && { echo "FAIL: a stale known circle passed"; fail=1; }
expect "src/app:a,b,c is no longer a circle"
out=$(KNOWN_CIRCLES= bash "$here/checksrc.sh" "$tmp" 2>&1) || { echo "FAIL: a clean tree failed: $out"; fail=1; }
[ $fail = 0 ] && echo "checksrc self-test: ok"
exit $fail
