#!/usr/bin/env bash
# Two kepu-server processes on one PostgreSQL database and one data (blob) folder, behind
# nginx on loopback as the reverse proxy (DESIGN.md, "Scale past one machine"; issue 19):
#   - 100 simulated kiosks (kiosk_swarm.py) send heartbeats and event batches through nginx,
#     which alternates between the two; one server is SIGKILLed in the middle of the run
#     and started again; a kiosk's retries land on the other process; at the end every
#     event is stored exactly once;
#   - an office login made through one process works on the other, and the login back-off
#     counted on one holds on the other;
#   - a pack uploaded through one process is served by the other.
# nginx runs as this user from a temporary prefix and stops at exit.
. "$(dirname "$0")/../integration/server_lib.bash"
on_pg || { echo "skipped: two servers share a PostgreSQL database"; exit 77; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "skipped: no nginx"; exit 77; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
KIOSKS=${KK_SWARM_KIOSKS:-100}
BATCHES=${KK_SWARM_BATCHES:-30}
EVENTS=${KK_SWARM_EVENTS:-20}
J=$TMP/jar
PIDS=()
NGINX_PID=
trap 'kill -TERM $NGINX_PID ${PIDS[*]} 2>/dev/null; wait 2>/dev/null; cleanup' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# serve N PORT: server N (0 or 1) on PORT, its log in $TMP/server$N.log; waits for it.
serve() {
    "$BIN" serve --listen "127.0.0.1:$2" --data "$DATA" --trusted-proxy 127.0.0.1 \
        >>"$TMP/server$1.log" 2>&1 &
    PIDS[$1]=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0
        sleep 0.05
    done
    echo "server $1 did not start" >&2; cat "$TMP/server$1.log" >&2; exit 1
}

"$BIN" venue add v1 --name "市科技馆" --data "$DATA" || exit 1
: >"$TMP/kiosks"
for i in $(seq 1 "$KIOSKS"); do
    k=$(printf 'k-%04d' "$i")
    echo "$k $("$BIN" kiosk add "$k" --venue v1 --data "$DATA")" >>"$TMP/kiosks"
done
echo "secret-pass" | "$BIN" user add alice --role office --data "$DATA" || exit 1
TS=$(echo "staff-pass-1" | "$BIN" user add bob --role staff --venue v1 --data "$DATA") || exit 1
TK=$(head -1 "$TMP/kiosks" | cut -d' ' -f2)
"$PACK" keygen -o "$TMP/alliance" >/dev/null || exit 1
mkdir -p "$DATA/keys" && cp "$TMP/alliance.pub" "$DATA/keys/"

P0=$(free_port); P1=$(free_port); PN=$(free_port)
serve 0 "$P0"
serve 1 "$P1"
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    log_format up '\$upstream_addr \$status';
    access_log $TMP/nginx/access.log up;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    client_max_body_size 64m;
    upstream kepu {
        server 127.0.0.1:$P0 max_fails=1 fail_timeout=2s;
        server 127.0.0.1:$P1 max_fails=1 fail_timeout=2s;
    }
    server {
        listen 127.0.0.1:$PN;
        location / {
            proxy_pass http://kepu;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            # A request whose server died is tried on the other, POSTs too: ingest must
            # stay exactly-once however often a batch arrives.
            proxy_next_upstream error timeout http_502 non_idempotent;
            proxy_connect_timeout 2s;
        }
    }
}
CONF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" &
NGINX_PID=$!
U=http://127.0.0.1:$PN
for _ in $(seq 1 100); do curl -sf "$U/healthz" >/dev/null && break; sleep 0.05; done
check "nginx answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"

# --- the swarm, with server 0 killed in the middle and started again ---
python3 "$(dirname "$0")/kiosk_swarm.py" "$U" "$TMP/kiosks" "$BATCHES" "$EVENTS" \
    >"$TMP/swarm.json" 2>"$TMP/swarm.err" &
swarm=$!
sleep 2
kill -0 $swarm 2>/dev/null && ok || fail "the swarm was still running when server 0 was killed"
kill -KILL "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null
sleep 1
serve 0 "$P0"
wait $swarm; check "the swarm ran" 0 $?
cat "$TMP/swarm.err" >&2
sent=$(jq .ids "$TMP/swarm.json")
check "every batch acknowledged in the end" 0 "$(jq .gave_up "$TMP/swarm.json")"
check "ids made" $((KIOSKS * BATCHES * EVENTS)) "$sent"
check "stored exactly once" "$sent $sent" "$(sql 'SELECT COUNT(*), COUNT(DISTINCT id) FROM events' | tr '|' ' ')"
# A batch a server stored just before it was killed is accepted there, and its retry on
# the other server is answered as duplicates: never more accepted than sent.
[ "$(jq "(.accepted <= $sent) and (.accepted + .duplicates >= $sent)" "$TMP/swarm.json")" = true ] && ok ||
    fail "accepted plus duplicates account for every event, none accepted twice"
check "every kiosk was heard" "$KIOSKS" "$(sql 'SELECT COUNT(DISTINCT kiosk) FROM events')"
# nginx's log names the server(s) each request went to: "a:p0, a:p1" when it moved on.
for p in "$P0" "$P1"; do
    [ "$(grep -c "127.0.0.1:$p" "$TMP/nginx/access.log")" -gt 100 ] && ok || fail "server on $p took requests"
done
moved=$(grep -c ', ' "$TMP/nginx/access.log")
echo "requests: $(wc -l <"$TMP/nginx/access.log"), moved to the other server: $moved"
[ "$moved" -gt 0 ] && ok || fail "requests of the killed server moved to the other"
echo "swarm: $(cat "$TMP/swarm.json")"
[ "$(jq .resent "$TMP/swarm.json")" -gt 0 ] && ok || fail "some batches were sent twice on purpose"
[ "$(jq .duplicates "$TMP/swarm.json")" -ge "$(jq .resent "$TMP/swarm.json")" ] && ok ||
    fail "a batch sent again is answered as duplicates"

# --- a login made through one process works on the other; the back-off is shared ---
s0=http://127.0.0.1:$P0 s1=http://127.0.0.1:$P1
r=$(curl -s -c "$J" -X POST "$s0/api/v1/login" --data-binary '{"user":"alice","password":"secret-pass"}')
CSRF=$(jq -r .csrf <<<"$r")
check "login on server 0" 64 "${#CSRF}"
check "its session on server 1" alice "$(curl -s -b "$J" "$s1/api/v1/session" | jq -r .user)"
check "stats on server 1 with it" 200 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" "$s1/api/v1/stats/sessions")"
for i in 1 2 3 4 5; do
    curl -s -o /dev/null -X POST "$s0/api/v1/login" --data-binary '{"user":"alice","password":"guess"}'
done
check "back-off counted on server 0 holds on server 1" 429 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$s1/api/v1/login" --data-binary '{"user":"alice","password":"secret-pass"}')"

# --- a pack uploaded through one is in review on the other; stored, both serve it ---
"$PACK" build "$KK_SOURCE_DIR/content/safety-and-health" -o "$TMP/built" --key "$TMP/alliance.key" >/dev/null || exit 1
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
out=$("$PACK" publish "$TMP/built" --server "$s0" --token "$TS" 2>&1); check "publish on server 0: $out" 0 $?
d=$(grep -o 'draft d[0-9a-f]*' <<<"$out" | cut -d' ' -f2)
check "the upload is in review on server 1 too" in_review "$(curl -s -H "Authorization: Bearer $TS" "$s1/api/v1/drafts/$d" | jq -r .state)"
# A staff upload is never a version (docs/review.md): store it as the operator does.
"$BIN" pack add "$TMP/built" --data "$DATA" >/dev/null; check "pack add beside both servers" 0 $?
ver=$(jq -r .version "$TMP/built/MANIFEST.json")
check "manifest from server 1" 200 "$(curl -s -o "$TMP/m" -w '%{http_code}' -H "Authorization: Bearer $TK" "$s1/api/v1/packs/safety-and-health/$ver/manifest")"
if cmp -s "$TMP/m" "$TMP/built/MANIFEST.json"; then ok; else fail "server 1 serves the manifest uploaded to server 0"; fi
blob=$(jq -r '.files[0].sha256' "$TMP/built/MANIFEST.json")
file=$(jq -r '.files[0].path' "$TMP/built/MANIFEST.json")
curl -s -o "$TMP/blob" -H "Authorization: Bearer $TK" "$s1/api/v1/blobs/$blob"
if cmp -s "$TMP/blob" "$TMP/built/$file"; then ok; else fail "server 1 serves a blob uploaded to server 0"; fi

for n in 0 1; do kill -TERM "${PIDS[$n]}"; wait "${PIDS[$n]}"; check "server $n stops cleanly" 0 $?; done
PIDS=()
cp "$TMP/server0.log" "$TMP/server.log"
finish
