#!/usr/bin/env bash
# The review page in a real browser (issue 16, docs/review.md): Playwright drives Debian's
# chromium against the real kepu-server (with --signing-key). A staff upload and a staff
# edit wait for review; office user alice sees the inbox count, the changed text side by
# side in both languages, requests changes with a comment (the staff inbox gets it), and
# after the fix approves and publishes it: a signed version (review.test.js).
#
#   bash tests/dashboard/review.sh [--screenshots DIR]
set -u
. "$(dirname "$0")/browser_lib.bash" "$@"
browser_setup review "$PACK"

setup_fleet
"$BIN" user venue bob v1 --data "$DATA" >/dev/null || exit 1
(cd "$TMP" && "$PACK" keygen -o alliance >/dev/null) || exit 1
mkdir -p "$DATA/keys" && cp "$TMP/alliance.pub" "$DATA/keys/"
"$PACK" build "$KK_SOURCE_DIR/content/safety-and-health" -o "$TMP/built" --key "$TMP/alliance.key" >/dev/null || exit 1
start_server --signing-key "$TMP/alliance.key"
out=$("$PACK" publish "$TMP/built" --server "$U" --token "$TS") || { echo "review: upload failed: $out" >&2; exit 1; }
D=$(grep -o 'draft d[0-9a-f]*' <<<"$out" | cut -d' ' -f2)

export KK_URL=$U KK_TMP=$TMP KK_SHOTS=$SHOTS KK_CHROMIUM=$CHROMIUM KK_TS=$TS KK_DRAFT=$D KK_DB=$DATA/kepu.db
export NODE_PATH=$NPM_DIR/node_modules
node --test "$HERE/review.test.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server log ---" >&2; tail -n 30 "$TMP/server.log" >&2
fi
stop_server || rc=1
exit $rc
