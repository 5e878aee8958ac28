#!/usr/bin/env bash
# Retention: with --retention-days 90 the raw events older than 90 days are dropped
# (PostgreSQL: whole monthly partitions, then the rest in batches; SQLite: batched
# deletes) while the rollups and day totals stay: every stats call over every range
# answers as before, and events of the last 90 days are all still there.
. "$(dirname "$0")/server_lib.bash"
BENCH=$KK_BUILD_DIR/tests/bench/bench_server

"$BIN" venue add v1 --name "市科技馆" --data "$DATA" || exit 1
"$BIN" venue add v2 --name "农业科普基地" --data "$DATA" || exit 1
: >"$TMP/kiosks"
for k in k-0001 k-0002 k-0003; do
    v=v1; [ "$k" = k-0003 ] && v=v2
    echo "$k $("$BIN" kiosk add $k --venue $v --data "$DATA")" >>"$TMP/kiosks"
done
echo "secret-pass" | "$BIN" user add alice --role office --data "$DATA" || exit 1
if on_pg; then
    # Monthly partitions for the seeded months too (a new store has them only from this
    # month on; older events would go to events_default), so whole months get dropped.
    sql "SET TIME ZONE 'UTC'; DO \$\$ DECLARE m timestamp; BEGIN
        FOR m IN SELECT generate_series(date_trunc('month', now() AT TIME ZONE 'UTC' - interval '8 months'),
            date_trunc('month', now() AT TIME ZONE 'UTC' - interval '1 month'), interval '1 month') LOOP
        EXECUTE format('CREATE TABLE events_%s PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
            to_char(m, 'YYYYMM'), (extract(epoch FROM m) * 1000)::bigint,
            (extract(epoch FROM m + interval '1 month') * 1000)::bigint);
        END LOOP; END \$\$" || exit 1
fi
"$BENCH" seed --data "$DATA" ${DB_URL:+--db "$DB_URL"} --kiosks "$TMP/kiosks" --events 12000 \
    --days 200:0 --batch 500 >"$TMP/seed" || { cat "$TMP/seed"; exit 1; }
CUT=$(( $(date +%s) * 1000 - 90 * 86400000 ))
old=$(sql "SELECT COUNT(*) FROM events WHERE ts < $CUT")
recent=$(sql "SELECT COUNT(*) FROM events WHERE ts >= $CUT")
[ "$old" -gt 3000 ] && [ "$recent" -gt 3000 ] && ok || fail "seeded events: $old old, $recent recent"
on_pg && months=$(sql "SELECT COUNT(*) FROM pg_tables WHERE tablename ~ '^events_[0-9]{6}\$'")

start_server
stats_snapshot "$TMP/before"
stop_server

# the one-shot command, then the server's own hourly run (which starts with serve)
check "prune" 0 "$("$BIN" prune --retention-days 90 --data "$DATA" >"$TMP/prune" 2>&1; echo $?)"
check_has "says what it dropped" "dropped" "$(cat "$TMP/prune")"
check "events older than 90 days gone" 0 "$(sql "SELECT COUNT(*) FROM events WHERE ts < $CUT")"
check "events of the last 90 days kept" "$recent" "$(sql "SELECT COUNT(*) FROM events WHERE ts >= $CUT")"
if on_pg; then
    left=$(sql "SELECT COUNT(*) FROM pg_tables WHERE tablename ~ '^events_[0-9]{6}\$'")
    [ "$left" -lt "$months" ] && ok || fail "no monthly partition dropped ($months before, $left after)"
fi
check "prune without retention" 2 "$("$BIN" prune --data "$DATA" >/dev/null 2>&1; echo $?)"

start_server --retention-days 90
stats_snapshot "$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then ok; else
    fail "stats changed by retention: $(diff "$TMP/before" "$TMP/after" | head -4)"
fi
grep -q '"rows":\[\[' "$TMP/after" && ok || fail "snapshot has no rows"
check "nothing older came back" 0 "$(sql "SELECT COUNT(*) FROM events WHERE ts < $CUT")"
stop_server; check "clean exit" 0 $?
finish
