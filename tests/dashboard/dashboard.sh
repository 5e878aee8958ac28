#!/usr/bin/env bash
# Browser tests of the office dashboard: Playwright (npm playwright-core) drives Debian's
# chromium headless against the real kepu-server on a free loopback port with a temporary
# data folder. The fleet and two versions of a real pack are made with the admin commands
# and kepu-pack; usage is seeded through the real API with kiosk tokens (dashboard.test.js).
#
#   bash tests/dashboard/dashboard.sh                      # as ctest runs it
#   bash tests/dashboard/dashboard.sh --screenshots DIR    # also writes dashboard-*.png
#
# playwright-core is installed with npm into the build folder when missing.
set -u
. "$(dirname "$0")/browser_lib.bash" "$@"
browser_setup dashboard "$PACK"

# --- fleet: two venues with kiosks, a third with one kiosk that never connected ---
setup_fleet
"$BIN" venue add v3 --name "青少年科技中心" --data "$DATA" || exit 1
TK3=$("$BIN" kiosk add k-0003 --venue v1 --data "$DATA") || exit 1
TK4=$("$BIN" kiosk add k-0004 --venue v3 --data "$DATA") || exit 1

# --- two versions of a real pack, signed and stored ---
(
    cd "$TMP" || exit 1
    "$PACK" keygen -o office >/dev/null || exit 1
    cp -r "$KK_SOURCE_DIR/content/safety-and-health" v2 || exit 1
    jq '.version = "2099.1.1"' v2/pack.json >v2/pack.json.new && mv v2/pack.json.new v2/pack.json
    for src in "$KK_SOURCE_DIR/content/safety-and-health" v2; do
        out=built-$(basename "$src")
        "$PACK" build "$src" -o "$out" --key office.key >/dev/null &&
            "$PACK" bundle "$out" -o "$out.kpk" >/dev/null || exit 1
    done
) || { echo "dashboard: cannot build the test packs" >&2; exit 1; }
mkdir -p "$DATA/keys" && cp "$TMP/office.pub" "$DATA/keys/"
start_server
# Stored as versions by the operator's command (a staff upload would go to review).
for kpk in "$TMP"/built-*.kpk; do
    "$BIN" pack add "$kpk" --data "$DATA" >/dev/null || { echo "dashboard: pack add $kpk failed" >&2; exit 1; }
done

export KK_URL=$U KK_DB=$DATA/kepu.db KK_TMP=$TMP KK_SHOTS=$SHOTS KK_CHROMIUM=$CHROMIUM
export KK_TK1=$TK KK_TK2=$TK2 KK_TK3=$TK3 KK_TK4=$TK4
export KK_PACK_ID=safety-and-health KK_PACK_V1=$(jq -r .version "$KK_SOURCE_DIR/content/safety-and-health/pack.json") KK_PACK_V2=2099.1.1
export KK_PACK_V2_SHA=$(sha256sum "$TMP/built-v2/MANIFEST.json" | cut -d' ' -f1)
export NODE_PATH=$NPM_DIR/node_modules
node --test "$HERE/dashboard.test.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server log ---" >&2; tail -n 30 "$TMP/server.log" >&2
fi
stop_server || rc=1
exit $rc
