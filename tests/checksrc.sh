#!/usr/bin/env bash
# Source checks (curl's checksrc): every C file formatted by .clang-format, no banned
# functions, no SDL or microhttpd headers in the core library, no include circle between
# the modules (name.h + name.c) of src/app, src/tools or src/server, and no kiosk scene
# that includes another scene.
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
# Include circles. A module is name.c + name.h; it depends on every module whose header
# either file includes (quoted includes of the same folder). A circle is a set of modules
# that reach each other (a strongly connected component of two or more).
# KNOWN_CIRCLES lists circles other work in flight removes, as "dir:mod1,mod2"; a listed
# circle that is gone fails too, so the list cannot go stale.
# - src/tools: pack_check <-> pack_cmd goes with issue 12's split of kepu-pack check.
KNOWN_CIRCLES="${KNOWN_CIRCLES-src/tools:pack_check,pack_cmd}"
export KNOWN_CIRCLES
if ! python3 - src/app src/tools src/server <<'PY'
import os, re, sys
inc = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
scene_def = re.compile(r'^const struct scene scene_\w+\s*=', re.M)
fail = 0
# Circles known to be fixed by work in flight: "dir:mod1,mod2" (the modules of the circle).
known = {k.strip() for k in os.environ.get('KNOWN_CIRCLES', '').split() if k.strip()}
for d in sys.argv[1:]:
    if not os.path.isdir(d):
        continue
    names = sorted(f for f in os.listdir(d) if f.endswith(('.c', '.h')))
    mods = {os.path.splitext(f)[0] for f in names}
    graph = {m: set() for m in mods}
    where = {}
    scenes = set()
    for f in names:
        m = os.path.splitext(f)[0]
        text = open(os.path.join(d, f), encoding='utf-8').read()
        if f.endswith('.c') and scene_def.search(text):
            scenes.add(m)
        for target in inc.findall(text):
            t = os.path.splitext(os.path.basename(target))[0]
            if t in mods and t != m and '/' not in target:
                graph[m].add(t)
                where.setdefault((m, t), f)
    for m in sorted(scenes):
        for t in sorted(graph[m] & scenes):
            print('checksrc: %s/%s includes %s, another scene: scenes name each other only '
                  'through scenes.h' % (d, where[(m, t)], t))
            fail = 1
    # Tarjan's strongly connected components: every one with two or more modules is a circle.
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = stack.pop(); on.discard(w); c.append(w)
                if w == v: break
            if len(c) > 1: sccs.append(sorted(c))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index: visit(v)
    for c in sccs:
        # one concrete circle through the first module, for the message
        start, members = c[0], set(c)
        path, seen = [start], {start}
        def walk(v):
            for w in sorted(graph[v] & members):
                if w == start and len(path) > 1: return True
                if w not in seen:
                    seen.add(w); path.append(w)
                    if walk(w): return True
                    path.pop()
            return False
        walk(start)
        hops = ' -> '.join('%s (%s)' % (b, where[(a, b)]) for a, b in zip(path, path[1:] + [start]))
        key = '%s:%s' % (d, ','.join(c))
        if key in known:
            print('checksrc: known include circle in %s (to be fixed, see KNOWN_CIRCLES): %s -> %s'
                  % (d, start, hops))
            known.discard(key)
            continue
        print('checksrc: include circle in %s: %s -> %s' % (d, start, hops))
        fail = 1
for k in sorted(known):
    print('checksrc: %s is no longer a circle: remove it from KNOWN_CIRCLES in tests/checksrc.sh' % k)
    fail = 1
sys.exit(fail)
PY
then
  fail=1
fi
# README's source layout walks newcomers through the tree: every folder and file it names
# in backquotes (src/..., tests/..., a top-level folder/) must exist.
if [ -f README.md ] && ! python3 - <<'PY'
import os, re, sys
text = open("README.md", encoding="utf-8").read()
m = re.search(r"^## Source layout\n(.*?)^## ", text, re.S | re.M)
if not m:
    print("checksrc: README.md has no \"## Source layout\" section"); sys.exit(1)
bad = 0
for name in sorted(set(re.findall(r"`([A-Za-z0-9_./-]+)`", m.group(1)))):
    if name.startswith(("src/", "tests/", "assets/", "content/", "kiosk/", "server/", "docs/")) \
            or re.fullmatch(r"[a-z]+/", name):
        # A bare folder/ is a top-level folder, or one inside the entry that names it.
        bases = [""] if "/" in name[:-1] else ["", "src/", "tests/", "src/server/"]
        if not any(os.path.exists(base + name) for base in bases):
            print("checksrc: README.md's source layout names %s, which does not exist" % name)
            bad = 1
sys.exit(bad)
PY
then
  fail=1
fi
[ $fail = 0 ] && echo "checksrc: ok"
exit $fail
