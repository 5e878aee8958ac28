#!/usr/bin/env bash
# The users and tokens page in a real browser (issue 11): Playwright drives Debian's
# chromium against the real kepu-server. Office user alice sets dave's password (a
# mismatch is refused and keeps what was typed), removes staff user carol (her token stops working), gives kiosk k-0001 a new
# token and revokes k-0002's; each is then checked against the server's API
# (users.test.js).
#
#   bash tests/dashboard/users.sh [--screenshots DIR]
set -u
. "$(dirname "$0")/browser_lib.bash" "$@"
browser_setup users "$PACK"

setup_fleet
TC=$(echo "carol-pass-1" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
echo "dave-pass-1" | "$BIN" user add dave --role office --data "$DATA" >/dev/null || exit 1
start_server

export KK_URL=$U KK_TMP=$TMP KK_SHOTS=$SHOTS KK_CHROMIUM=$CHROMIUM KK_TK=$TK KK_TK2=$TK2 KK_TC=$TC
export NODE_PATH=$NPM_DIR/node_modules
node --test "$HERE/users.test.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server log ---" >&2; tail -n 30 "$TMP/server.log" >&2
fi
stop_server || rc=1
exit $rc
