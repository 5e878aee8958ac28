#!/usr/bin/env bash
# Roles as a set (issue 16, DESIGN.md "Content studio and review"): staff edit drafts,
# office review, approve, publish and assign, admin manage users and kiosk tokens; a user
# may hold several. An office-only user gets 403 on the users and tokens routes, an
# admin-only user 403 on approve, publish, assign and the statistics; office+admin does
# both; a change of roles counts at the next request and is an audit row; nobody approves
# their own change whatever roles they hold; an old database (schema SQLite 14 /
# PostgreSQL 10, roles office|staff) keeps its office users able to manage users.
. "$(dirname "$0")/server_lib.bash"
PACK=${KK_BUILD_DIR}/src/tools/kepu-pack
SRC=${KK_SOURCE_DIR:?}/content/safety-and-health
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }
login() { # login USER PASSWORD JAR: prints the CSRF token
    http POST /api/v1/login --data-binary "{\"user\":\"$1\",\"password\":\"$2\"}" -c "$3" >/dev/null
    jq -r .csrf "$TMP/body"
}
run() { "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }

setup_fleet # alice: office,admin; bob: staff
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
check "office-only user" 0 "$(echo 'olga-pass-1' | run user add olga --role office --data "$DATA")"
check "admin-only user" 0 "$(echo 'adam-pass-1' | run user add adam --role admin --data "$DATA")"
check "staff and office user" 0 "$(echo 'sam-pass-1' | run user add sam --role staff,office --data "$DATA")"
TSAM=$(cat "$TMP/out")
[[ "$TSAM" =~ ^[0-9a-f]{64}$ ]] && ok || fail "a user with the staff role gets a token [$TSAM]"
"$BIN" user venue sam v1 --data "$DATA" 2>/dev/null || exit 1
check "roles stored in one order" "office,staff" "$(sql "SELECT role FROM users WHERE name = 'sam'")"
check "unknown role" 2 "$(echo 'x-pass-123' | run user add x --role boss --data "$DATA")"
check_has "names it" "role 'boss': expected office, staff or admin" "$(cat "$TMP/err")"
check "one error line" 1 "$(wc -l <"$TMP/err")"
check "a role twice" 2 "$(echo 'x-pass-123' | run user add x --role office,office --data "$DATA")"
check "an empty role" 2 "$(echo 'x-pass-123' | run user add x --role office, --data "$DATA")"
check "nothing stored for them" 0 "$(sql "SELECT COUNT(*) FROM users WHERE name = 'x'")"
"$PACK" keygen -o "$TMP/k" >/dev/null || exit 1
mkdir -p "$DATA/keys" && cp "$TMP/k.pub" "$DATA/keys/"

start_server
O=$TMP/olga.jar; OC=$(login olga olga-pass-1 "$O"); OO=(-b "$O" -H "X-CSRF-Token: $OC")
D=$TMP/adam.jar; DC=$(login adam adam-pass-1 "$D"); OD=(-b "$D" -H "X-CSRF-Token: $DC")
A=$TMP/alice.jar; AC=$(login alice secret-pass "$A"); OA=(-b "$A" -H "X-CSRF-Token: $AC")
S=$TMP/sam.jar; SC=$(login sam sam-pass-1 "$S"); OS=(-b "$S" -H "X-CSRF-Token: $SC")
check "admin-only logs in" 64 "${#DC}"
r=$(http POST /api/v1/login --data-binary '{"user":"bob","password":"staff-pass-1"}')
check "staff-only does not log in (a token)" 401 "$(code "$r")"
check "the session lists the roles: office" '["office"]' "$(body "$(http GET /api/v1/session "${OO[@]}")" | jq -c .roles)"
check "the session lists the roles: admin" '["admin"]' "$(body "$(http GET /api/v1/session "${OD[@]}")" | jq -c .roles)"
check "the session lists the roles: both" '["office","admin"]' "$(body "$(http GET /api/v1/session "${OA[@]}")" | jq -c .roles)"

# --- office without admin: 403 on users and tokens ---
r=$(http GET /api/v1/admin/users "${OO[@]}"); check "office-only: user list 403" 403 "$(code "$r")"
check_has "the 403 names the role" "needs the admin role" "$(body "$r" | jq -r .error)"
r=$(http POST /api/v1/admin/users "${OO[@]}" --data-binary '{"user":"eve","password":"eve-pass-1","roles":["office"]}')
check "office-only: user add 403" 403 "$(code "$r")"
r=$(http POST /api/v1/admin/kiosks/k-0001/rotate "${OO[@]}"); check "office-only: key rotate 403" 403 "$(code "$r")"
r=$(http POST /api/v1/admin/kiosks/k-0001/revoke "${OO[@]}"); check "office-only: token revoke 403" 403 "$(code "$r")"
r=$(http POST /api/v1/admin/users/bob/passwd "${OO[@]}" --data-binary '{"password":"12345678"}')
check "office-only: passwd 403" 403 "$(code "$r")"
r=$(http POST /api/v1/admin/users/olga/roles "${OO[@]}" --data-binary '{"roles":["office","admin"]}')
check "office-only cannot make itself admin" 403 "$(code "$r")"
check "nothing changed" "eve? 0, olga office" "eve? $(sql "SELECT COUNT(*) FROM users WHERE name = 'eve'"), olga $(sql "SELECT role FROM users WHERE name = 'olga'")"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001"}')
check "the kiosk's token still works" 200 "$(code "$r")"
r=$(http GET /api/v1/stats/overview "${OO[@]}"); check "office-only: statistics" 200 "$(code "$r")"

# --- a draft in review, from sam's staff token (sam also holds office) ---
"$PACK" build "$SRC" -o "$TMP/built" --key "$TMP/k.key" >/dev/null || exit 1
out=$("$PACK" publish "$TMP/built" --server "$U" --token "$TSAM" 2>&1) || { fail "publish: $out"; finish; }
DR=$(grep -o 'draft d[0-9a-f]*' <<<"$out" | cut -d' ' -f2)
[ -n "$DR" ] && ok || fail "no draft id in [$out]"

# --- admin without office: 403 on approve, publish, assign, statistics ---
r=$(http POST "/api/v1/drafts/$DR/approve" "${OD[@]}"); check "admin-only: approve 403" 403 "$(code "$r")"
check_has "the 403 names the role" "needs the office role" "$(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$DR/request-changes" "${OD[@]}" --data-binary '{"comments":[{"text":"x"}]}')
check "admin-only: request changes 403" 403 "$(code "$r")"
r=$(http POST "/api/v1/drafts/$DR/publish" "${OD[@]}"); check "admin-only: publish 403" 403 "$(code "$r")"
r=$(http POST /api/v1/assignments "${OD[@]}" --data-binary '{"pack":"quake","version":"1","venue":"v1"}')
check "admin-only: assign 403" 403 "$(code "$r")"
r=$(http POST /api/v1/assignments/rollback "${OD[@]}" --data-binary '{"pack":"quake","venue":"v1"}')
check "admin-only: rollback 403" 403 "$(code "$r")"
r=$(http GET /api/v1/stats/overview "${OD[@]}"); check "admin-only: statistics 403" 403 "$(code "$r")"
r=$(http GET /api/v1/drafts "${OD[@]}"); check "admin-only: drafts 403" 403 "$(code "$r")"
check "the draft is still in review" in_review "$(sql "SELECT state FROM drafts WHERE id = '$DR'")"
check "no assignment" 0 "$(sql "SELECT COUNT(*) FROM assignments")"

# --- nobody approves their own change, whatever roles they hold ---
r=$(http POST "/api/v1/drafts/$DR/approve" "${OS[@]}")
check "staff+office sam cannot approve what sam's token uploaded" 403 "$(code "$r")"
check "the refused try is in the audit log" 1 "$(sql "SELECT COUNT(*) FROM audit WHERE who = 'sam' AND what = 'draft.approve_refused'")"
r=$(http POST "/api/v1/drafts/$DR/approve" "${OO[@]}"); check "office-only olga approves" 200 "$(code "$r")"
r=$(http POST /api/v1/assignments "${OO[@]}" --data-binary '{"pack":"quake","version":"1","venue":"v1"}')
check "office-only assigns" 200 "$(code "$r")"

# --- admin without office manages users and tokens; office+admin does both ---
r=$(http GET /api/v1/admin/users "${OD[@]}"); check "admin-only: user list" 200 "$(code "$r")"
check "the list shows each user's roles" "adam:admin alice:office,admin bob:staff olga:office sam:office,staff" \
    "$(body "$r" | jq -r '[.rows[] | "\(.[0]):\(.[1])"] | join(" ")')"
r=$(http POST /api/v1/admin/users "${OD[@]}" --data-binary '{"user":"nina","password":"nina-pass-1","roles":["admin","office"]}')
check "admin adds a user with roles" '200 {"roles":["office","admin"],"user":"nina"}' "$(code "$r") $(body "$r" | jq -cS .)"
r=$(http POST /api/v1/admin/users "${OD[@]}" --data-binary '{"user":"nina","password":"nina-pass-1","roles":["office"]}')
check "a user twice: 409" 409 "$(code "$r")"
r=$(http POST /api/v1/admin/users "${OD[@]}" --data-binary '{"user":"pat","password":"pat-pass-12","roles":["staff"]}')
check "a staff user added gets a token" 64 "$(body "$r" | jq -r '.token | length')"
TPAT=$(body "$r" | jq -r .token)
r=$(http GET /api/v1/drafts -H "Authorization: Bearer $TPAT"); check "pat's token works" 200 "$(code "$r")"
for bad in '{"roles":[]}' '{"roles":"office"}' '{"roles":["boss"]}' '{"roles":["office","office"]}' '{"roles":["office,admin"]}' '{}'; do
    r=$(http POST /api/v1/admin/users/olga/roles "${OD[@]}" --data-binary "$bad")
    check "bad roles $bad: 400" 400 "$(code "$r")"
done
check_has "an unknown role is named" "role 'boss'" "$(body "$(http POST /api/v1/admin/users/olga/roles "${OD[@]}" --data-binary '{"roles":["boss"]}')" | jq -r .error)"
r=$(http POST /api/v1/admin/users/nobody/roles "${OD[@]}" --data-binary '{"roles":["office"]}')
check "unknown user: 404" 404 "$(code "$r")"
r=$(http POST /api/v1/admin/users/adam/roles "${OD[@]}" --data-binary '{"roles":["office"]}')
check "an admin cannot take admin from itself: 409" 409 "$(code "$r")"
# olga, logged in, loses office and gains admin: her next requests follow
r=$(http POST /api/v1/admin/users/olga/roles "${OD[@]}" --data-binary '{"roles":["admin"]}')
check "roles changed" '200 ["admin"] ["office"]' "$(code "$r") $(body "$r" | jq -c .roles) $(body "$r" | jq -c .before)"
r=$(http GET /api/v1/stats/overview "${OO[@]}"); check "olga's session: no more statistics" 403 "$(code "$r")"
r=$(http GET /api/v1/admin/users "${OO[@]}"); check "olga's session: users now" 200 "$(code "$r")"
check "audit: the role change with before and after" "adam|olga|office -> admin" \
    "$(sql "SELECT who, target, detail FROM audit WHERE what = 'user.roles'")"
check "audit: the users added" "adam|nina|office,admin adam|pat|staff" \
    "$(sql "SELECT who, target, detail FROM audit WHERE what = 'user.add' AND who = 'adam' ORDER BY seq" | tr '\n' ' ' | sed 's/ $//')"
r=$(http POST /api/v1/admin/users/nina/roles "${OD[@]}" --data-binary '{"roles":["admin","office"]}')
check "the same roles again: no audit row" "200 1" "$(code "$r") $(sql "SELECT COUNT(*) FROM audit WHERE what = 'user.roles'")"
# nina gains staff: a token, shown once
r=$(http POST /api/v1/admin/users/nina/roles "${OD[@]}" --data-binary '{"roles":["office","staff","admin"]}')
TN=$(body "$r" | jq -r .token)
check "gaining staff gives a token" 64 "${#TN}"
r=$(http GET /api/v1/drafts -H "Authorization: Bearer $TN"); check "nina's token works" 200 "$(code "$r")"
r=$(http POST /api/v1/admin/users/nina/roles "${OD[@]}" --data-binary '{"roles":["office"]}')
r=$(http GET /api/v1/drafts -H "Authorization: Bearer $TN"); check "without staff the token stops" 401 "$(code "$r")"
N=$TMP/nina.jar; NC=$(login nina nina-pass-1 "$N")
r=$(http GET /api/v1/session -b "$N"); check "nina logged in" 200 "$(code "$r")"
r=$(http POST /api/v1/admin/users/nina/roles "${OD[@]}" --data-binary '{"roles":["staff"]}')
r=$(http GET /api/v1/session -b "$N"); check "staff only: her sessions ended" 401 "$(code "$r")"
r=$(http POST /api/v1/login --data-binary '{"user":"nina","password":"nina-pass-1"}')
check "and she cannot log in" 401 "$(code "$r")"
# office+admin alice does both
r=$(http POST /api/v1/admin/kiosks/k-0002/rotate "${OA[@]}"); check "office+admin: key rotate" 200 "$(code "$r")"
r=$(http POST /api/v1/assignments "${OA[@]}" --data-binary '{"pack":"quake","version":"2","venue":"v2"}')
check "office+admin: assign" 200 "$(code "$r")"
r=$(http POST /api/v1/admin/users "${OA[@]}" --data-binary '{"user":"quinn","password":"quinn-pass-1","roles":["office"]}')
check "office+admin: user add" 200 "$(code "$r")"
stop_server

# --- the command line: user role ---
check "user role" 0 "$(run user role olga --role office,admin --data "$DATA")"
check "prints no token without staff" "" "$(cat "$TMP/out")"
check_has "says before and after" "roles office,admin (were admin)" "$(cat "$TMP/err")"
check "audit row of the CLI" "cli|olga|admin -> office,admin" "$(sql "SELECT who, target, detail FROM audit WHERE what = 'user.roles' AND who = 'cli'")"
check "user role of an unknown user" 1 "$(run user role nobody --role office --data "$DATA")"
check_has "names it" "user nobody does not exist" "$(cat "$TMP/err")"
check "user role with a bad role" 2 "$(run user role olga --role root --data "$DATA")"
check "user role without --role" 2 "$(run user role olga --data "$DATA")"
check "user role gaining staff" 0 "$(run user role quinn --role office,staff --data "$DATA")"
[[ "$(cat "$TMP/out")" =~ ^[0-9a-f]{64}$ ]] && ok || fail "user role prints the new staff token"

# --- an old database: office users become office+admin, staff stay, venues kept ---
if on_pg; then
    sql "ALTER TABLE users DROP CONSTRAINT users_role_check;
         UPDATE users SET role = CASE WHEN role = 'staff' THEN 'staff' ELSE 'office' END;
         ALTER TABLE users ADD CONSTRAINT users_role_check CHECK(role IN ('office','staff'));
         UPDATE schema_version SET version = 10;" >/dev/null || exit 1
else
    sqlite3 "$DATA/kepu.db" "
        CREATE TABLE users14(name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK(role IN
            ('office','staff')), password_hash TEXT NOT NULL, token_hash TEXT UNIQUE,
            created_ms INTEGER NOT NULL);
        INSERT INTO users14 SELECT name, CASE WHEN role = 'staff' THEN 'staff' ELSE 'office' END,
            password_hash, token_hash, created_ms FROM users;
        DROP TABLE users; ALTER TABLE users14 RENAME TO users;
        PRAGMA user_version = 14;" || exit 1
fi
check "the old shape: roles office|staff" "adam:office alice:office bob:staff" \
    "$(sql "SELECT name || ':' || role FROM users WHERE name IN ('adam','alice','bob') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
venues_before=$(sql "SELECT \"user\" || '@' || venue FROM user_venues ORDER BY 1" | tr '\n' ' ')
check "user venues there before" "bob@v1 sam@v1 " "$venues_before"
start_server
if on_pg; then
    check "schema version" 11 "$(sql "SELECT version FROM schema_version")"
else
    check "schema version" 15 "$(sql "PRAGMA user_version")"
fi
check "office users became office+admin, staff stayed staff" "adam:office,admin alice:office,admin bob:staff" \
    "$(sql "SELECT name || ':' || role FROM users WHERE name IN ('adam','alice','bob') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
check "user venues kept" "$venues_before" "$(sql "SELECT \"user\" || '@' || venue FROM user_venues ORDER BY 1" | tr '\n' ' ')"
A=$TMP/alice2.jar; AC=$(login alice secret-pass "$A"); OA=(-b "$A" -H "X-CSRF-Token: $AC")
r=$(http GET /api/v1/admin/users "${OA[@]}"); check "an old office user still manages users" 200 "$(code "$r")"
r=$(http POST /api/v1/admin/kiosks/k-0001/rotate "${OA[@]}"); check "and kiosk tokens" 200 "$(code "$r")"
r=$(http GET /api/v1/stats/overview "${OA[@]}"); check "and still does the office's work" 200 "$(code "$r")"
r=$(http GET /api/v1/drafts -H "Authorization: Bearer $TS"); check "a staff token still works" 200 "$(code "$r")"
r=$(http POST /api/v1/admin/users/bob/roles "${OA[@]}" --data-binary '{"roles":["staff","admin"]}')
check "the new roles are allowed after the migration" 200 "$(code "$r")"
stop_server; check "clean exit" 0 $?
finish
