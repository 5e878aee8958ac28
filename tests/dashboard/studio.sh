#!/usr/bin/env bash
# The content studio in a real browser (issue 15): Playwright (npm playwright-core) drives
# Debian's chromium headless against the real kepu-server on a free loopback port with a
# temporary data folder. A staff user imports a sample pack, writes a new topic in both
# languages with pictures cropped in the browser, a fact box and a three-question quiz,
# sees validation messages, previews, saves, restores, exports; kepu-pack validate and
# build accept the export and the real kiosk shows the new topic; two sessions on one
# draft meet the conflict view (studio.test.js).
#
#   bash tests/dashboard/studio.sh                      # as ctest runs it
#   bash tests/dashboard/studio.sh --screenshots DIR    # also writes studio-*.png
set -u
. "$(dirname "$0")/browser_lib.bash" "$@"
browser_setup studio "$PACK" "$KIOSK"

# --- venue v1's staff bob (token $TS), venue v2's staff carol, office alice ---
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" >/dev/null || exit 1
TC=$(echo "staff-pass-2" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
"$BIN" user venue carol v2 --data "$DATA" >/dev/null || exit 1
tar -czf "$TMP/farming-and-land.tar.gz" -C "$KK_SOURCE_DIR/content" farming-and-land || exit 1
(cd "$TMP" && "$PACK" keygen -o office >/dev/null) || exit 1
start_server

export KK_URL=$U KK_TMP=$TMP KK_SHOTS=$SHOTS KK_CHROMIUM=$CHROMIUM KK_PACK=$PACK
export KK_TS=$TS KK_TC=$TC KK_IMPORT=$TMP/farming-and-land.tar.gz KK_KEY=$TMP/office.key
export NODE_PATH=$NPM_DIR/node_modules
node --test "$HERE/studio.test.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server log ---" >&2; tail -n 30 "$TMP/server.log" >&2
fi
stop_server || rc=1
exit $rc
