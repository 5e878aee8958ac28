#!/usr/bin/env bash
# kepu-server migrate: an office's SQLite store (a fleet, 20,000 events of 40 days, or
# KK_MIGRATE_EVENTS of them, through the server's own ingest, heartbeats, a session)
# copied into an empty PostgreSQL store gives the same answer to every stats call the
# dashboard makes, over several ranges and filters (stats_snapshot); a second migrate into
# the now non-empty database is refused.
. "$(dirname "$0")/../integration/server_lib.bash"
SQ=$REAL_BIN # kepu-server on the SQLite store ($BIN adds --db for PostgreSQL)
BENCH=$KK_BUILD_DIR/tests/bench/bench_server
N=${KK_MIGRATE_EVENTS:-20000}
J=$TMP/jar

"$SQ" venue add v1 --name "市科技馆" --data "$DATA" || exit 1
"$SQ" venue add v2 --name "农业科普基地" --data "$DATA" || exit 1
: >"$TMP/kiosks"
for k in k-0001 k-0002 k-0003; do
    v=v1; [ "$k" = k-0003 ] && v=v2
    echo "$k $("$SQ" kiosk add $k --venue $v --data "$DATA")" >>"$TMP/kiosks"
done
echo "secret-pass" | "$SQ" user add alice --role office --data "$DATA" || exit 1
TS=$(echo "staff-pass-1" | "$SQ" user add bob --role staff --data "$DATA") || exit 1
"$SQ" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
"$SQ" assign quake@2026.3 --venue v1 --data "$DATA" || exit 1
"$SQ" assign quake@2026.4 --venue v1 --from 2030-12-09 --to 2030-12-16 --data "$DATA" || exit 1
"$BENCH" seed --data "$DATA" --kiosks "$TMP/kiosks" --events "$N" --days 40:0 --batch 500 \
    >"$TMP/seed" || { cat "$TMP/seed"; exit 1; }

BIN_PG=$BIN
BIN=$SQ start_server
for k in k-0001 k-0003; do
    tok=$(grep "^$k " "$TMP/kiosks" | cut -d' ' -f2)
    http POST /api/v1/heartbeat -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary "{\"kiosk\":\"$k\",\"app_version\":\"0.1.0\",\"packs\":[],\"queue\":3,\"dropped\":0,\"uptime_s\":60,\"disk_free_mb\":100}" >/dev/null
done
stats_snapshot "$TMP/sqlite.txt"
# a content studio draft with two revisions (drafts, draft_revisions, user_venues, audit)
tar -czf "$TMP/farm.tgz" -C "$KK_SOURCE_DIR/content" farming-and-land
D=$(http POST /api/v1/drafts/import -H "Authorization: Bearer $TS" --data-binary @"$TMP/farm.tgz" | cut -d' ' -f2- | jq -r .draft)
http GET "/api/v1/drafts/$D" -H "Authorization: Bearer $TS" | cut -d' ' -f2- |
    jq -c '{base_revision: 1, note: "n", source: (.source | .pack.title.en = "Farming")}' >"$TMP/put.json"
check "draft saved on SQLite" '200 {"revision":2}' "$(http PUT "/api/v1/drafts/$D" -H "Authorization: Bearer $TS" --data-binary @"$TMP/put.json")"
http GET "/api/v1/drafts/$D" -H "Authorization: Bearer $TS" | cut -d' ' -f2- | jq -cS .source >"$TMP/draft-sqlite.json"
stop_server
check "sqlite answers look real" 1 "$(grep -c '^sessions?by=venue from=.*&to=[0-9-]*: {"columns"' "$TMP/sqlite.txt" | awk '{print ($1 == 4)}')"

t0=$(date +%s%N)
"$BIN_PG" migrate --from "sqlite:$DATA/kepu.db" --to "$DB_URL" --data "$DATA" >"$TMP/report" 2>&1
check "migrate" 0 $?
echo "migrate of $N events: $(( ($(date +%s%N) - t0) / 1000000 )) ms"; cat "$TMP/report"
check_has "report" "$(printf "%-14s %d rows" events "$N")" "$(cat "$TMP/report")"
check_has "compared" "copied and compared" "$(cat "$TMP/report")"
check "events copied" "$N" "$(sql 'SELECT COUNT(*) FROM events')"
check "counter copied" "$N" "$(sql "SELECT n FROM counters WHERE name = 'events'")"

BIN=$BIN_PG start_server
stats_snapshot "$TMP/pg.txt"
http GET "/api/v1/drafts/$D" -H "Authorization: Bearer $TS" | cut -d' ' -f2- | jq -cS .source >"$TMP/draft-pg.json"
cmp -s "$TMP/draft-sqlite.json" "$TMP/draft-pg.json" && ok || fail "the draft differs after migration"
check "draft revisions and audit copied" "2 2 1" "$(http GET "/api/v1/drafts/$D/revisions" -H "Authorization: Bearer $TS" | cut -d' ' -f2- | jq length) $(sql "SELECT COUNT(*) FROM audit WHERE what LIKE 'draft.%'") $(sql 'SELECT COUNT(*) FROM user_venues')"
# the dated assignment and the history (issue 16): rolled back on PostgreSQL, then new ones
e=$("$BIN_PG" rollback quake --venue v1 --data "$DATA")
check "dated assignment copied" "venue:v1: removed quake@2026.4 from 2030-12-09 to 2030-12-16" "$e"
"$BIN_PG" assign quake@2026.5 --venue v1 --from 2031-01-05 --data "$DATA" || fail "a dated assign after migrate"
e=$("$BIN_PG" rollback quake --venue v1 --data "$DATA")
check "the sequences go on after the copied ids" "venue:v1: removed quake@2026.5 from 2031-01-05 to open end" "$e"
e=$("$BIN_PG" rollback quake --venue v1 --data "$DATA")
check "history copied" "venue:v1: quake@2026.3 removed; no earlier version" "$e"
stop_server
check "line count" "$(wc -l <"$TMP/sqlite.txt")" "$(wc -l <"$TMP/pg.txt")"
if cmp -s "$TMP/sqlite.txt" "$TMP/pg.txt"; then ok; else
    fail "stats differ after migration: $(diff "$TMP/sqlite.txt" "$TMP/pg.txt" | head -5)"
fi

"$BIN_PG" migrate --from "sqlite:$DATA/kepu.db" --to "$DB_URL" --data "$DATA" >"$TMP/again" 2>&1
check "second migrate refused" 1 $?
check_has "says why" "not empty" "$(cat "$TMP/again")"
check "nothing doubled" "$N" "$(sql 'SELECT COUNT(*) FROM events')"
check "bad --from" 2 "$("$BIN_PG" migrate --from "$DATA/kepu.db" --to "$DB_URL" >/dev/null 2>&1; echo $?)"
check "missing --from file" 1 "$("$BIN_PG" migrate --from "sqlite:$TMP/none.db" --to "$DB_URL" >/dev/null 2>&1; echo $?)"
finish
