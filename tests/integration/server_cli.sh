#!/usr/bin/env bash
# kepu-server's command line: --help, --version, exit codes, one-line errors, and the
# admin commands (tokens printed once and stored only as SHA-256 hashes, Argon2id
# passwords, assignments checked against what exists).
. "$(dirname "$0")/server_lib.bash"
run() { "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }

check "--version" 0 "$(run --version)"; check_has "version text" "kepu-server " "$(cat "$TMP/out")"
check "--help" 0 "$(run --help)"; check_has "help lists serve" "kepu-server serve" "$(cat "$TMP/out")"
check "serve --help" 0 "$(run serve --help)"
check "no command" 2 "$(run)"; check "one error line" 1 "$(wc -l <"$TMP/err")"
check "unknown command" 2 "$(run frobnicate)"; check_has "names it" "frobnicate" "$(cat "$TMP/err")"
check "unknown option" 2 "$(run venue add v1 --name x --colour red --data "$DATA")"
check "missing value" 2 "$(run venue add v1 --name)"
check "venue without name" 2 "$(run venue add v1 --data "$DATA")"
check "unsafe venue id" 2 "$(run venue add ../v1 --name x --data "$DATA")"
check "venue add" 0 "$(run venue add v1 --name '市科技馆' --data "$DATA")"
check "venue twice" 1 "$(run venue add v1 --name again --data "$DATA")"; check_has "says exists" "already exists" "$(cat "$TMP/err")"
check "kiosk of unknown venue" 1 "$(run kiosk add k1 --venue nowhere --data "$DATA")"
check "kiosk add" 0 "$(run kiosk add k1 --venue v1 --data "$DATA")"
TOKEN=$(cat "$TMP/out")
check "token alone on a line" 1 "$(wc -l <"$TMP/out")"
[[ "$TOKEN" =~ ^[0-9a-f]{64}$ ]] && ok || fail "token format [$TOKEN]"
check "token stored only as its hash" "0 1" "$(sql "SELECT COUNT(*) FROM kiosks WHERE token_hash='$TOKEN'") $(sql "SELECT COUNT(*) FROM kiosks WHERE token_hash='$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)'")"
if on_pg; then
    pg_dump -d "$DB_URL" | grep -q "$TOKEN" && fail "token found in the database" || ok
else
    grep -q "$TOKEN" "$DATA"/kepu.db* && fail "token found in the database files" || ok
fi
check "second kiosk gets another token" 0 "$(run kiosk add k2 --venue v1 --data "$DATA")"
[ "$(cat "$TMP/out")" != "$TOKEN" ] && ok || fail "tokens repeat"
check "user without role" 2 "$(echo pass-word | run user add u --data "$DATA")"
check "short password" 2 "$(echo short | run user add u --role office --data "$DATA")"
check "office user" 0 "$(echo 'a long password' | run user add alice --role office --data "$DATA")"
check "office user prints nothing" "" "$(cat "$TMP/out")"
check "Argon2id hash" '$argon2id$' "$(sql "SELECT substr(password_hash, 1, 10) FROM users WHERE name='alice'")"
check "staff user" 0 "$(echo 'another password' | run user add bob --role staff --data "$DATA")"
[[ "$(cat "$TMP/out")" =~ ^[0-9a-f]{64}$ ]] && ok || fail "staff token printed"
check "user twice" 1 "$(echo 'a long password' | run user add alice --role office --data "$DATA")"
check "assign to venue" 0 "$(run assign quake@2026.1 --venue v1 --data "$DATA")"
check "assign to kiosk" 0 "$(run assign quake@2026.2 --kiosk k1 --data "$DATA")"
check "assign to nowhere" 1 "$(run assign quake@1 --venue nowhere --data "$DATA")"
check "assign both" 2 "$(run assign quake@1 --venue v1 --kiosk k1 --data "$DATA")"
check "assign without version" 2 "$(run assign quake --venue v1 --data "$DATA")"
check "assign unsafe pack" 2 "$(run assign '../x@1' --venue v1 --data "$DATA")"
check "assign replaces the venue's version" 0 "$(run assign quake@2026.3 --venue v1 --data "$DATA")"
check "one row per pack and target" "2026.3" "$(sql "SELECT version FROM assignments WHERE target='v1'")"
if on_pg; then
    check "schema version" 11 "$(sql 'SELECT version FROM schema_version')"
else
    check "schema version" 15 "$(sql 'PRAGMA user_version')"
    check "WAL mode" wal "$(sql 'PRAGMA journal_mode')"
fi
check "unsupported --db" 1 "$(run venue add v9 --name x --db mysql://x --data "$DATA")"
check_has "says which" "mysql://x" "$(cat "$TMP/err")"
check "unreachable PostgreSQL" 1 "$(run venue add v9 --name x --db "postgresql://127.0.0.1:1/x?connect_timeout=2" --data "$DATA")"
check_has "says why" "cannot connect to PostgreSQL" "$(cat "$TMP/err")"
check "--db sqlite:PATH" 0 "$(run venue add v9 --name x --db "sqlite:$TMP/other.db" --data "$DATA")"
[ -f "$TMP/other.db" ] && ok || fail "sqlite:PATH not used"
check "bad listen address" 1 "$(run serve --listen nowhere --data "$DATA")"
start_server
check "port in use" 1 "$(timeout 10 "$BIN" serve --listen "127.0.0.1:$PORT" --data "$DATA" 2>"$TMP/err"; echo $?)"
check_has "says so" "cannot listen" "$(cat "$TMP/err")"
stop_server
finish
