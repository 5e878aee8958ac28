# What every browser test starts with, and its helpers. A test script sources it with its
# own arguments (`. "$(dirname "$0")/browser_lib.bash" "$@"`): it sets KK_SOURCE_DIR,
# KK_BUILD_DIR, HERE (this folder), PACK and KIOSK, takes `--screenshots DIR` into SHOTS
# (empty without it), and sources tests/integration/server_lib.bash.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KK_SOURCE_DIR=${KK_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export KK_BUILD_DIR=${KK_BUILD_DIR:-$KK_SOURCE_DIR/build}
SHOTS=
if [ "${1:-}" = --screenshots ]; then
    [ -n "${2:-}" ] || { echo "usage: $0 [--screenshots DIR]" >&2; exit 2; }
    mkdir -p "$2" && SHOTS=$(cd "$2" && pwd)
fi
. "$KK_SOURCE_DIR/tests/integration/server_lib.bash"
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
KIOSK=$KK_BUILD_DIR/src/app/kepu-kiosk

# browser_setup NAME PROGRAM...: checks that chromium, node, npm and the given programs are
# there, and installs playwright-core (package.json's pin) into the build folder, never the
# source tree. The install is locked, so browser tests run side by side share one install.
# Sets CHROMIUM and NPM_DIR.
browser_setup() {
    local name=$1 need
    shift
    CHROMIUM=${KK_CHROMIUM:-/usr/bin/chromium}
    for need in "$CHROMIUM" "$(command -v node)" "$(command -v npm)" "$@"; do
        [ -x "$need" ] || { echo "$name: missing ${need:-node or npm} (run scripts/deps.sh --test and build)" >&2; exit 1; }
    done
    NPM_DIR=$KK_BUILD_DIR/tests/dashboard-npm
    local pkg=$KK_SOURCE_DIR/tests/dashboard/package.json
    mkdir -p "$NPM_DIR"
    (
        flock 9
        if [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ] ||
            ! cmp -s "$pkg" "$NPM_DIR/package.json"; then
            cp "$pkg" "$NPM_DIR/package.json" &&
                (cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error) >&2
        fi
    ) 9>"$NPM_DIR.lock" || { echo "$name: npm install playwright-core failed" >&2; exit 1; }
}
