#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a local kepu-server on its
# embedded SQLite store (127.0.0.1:8080, data in var/demo/server) holding the demo's
# signing key, and has every sample pack go the way content goes (docs/review.md): a staff
# member builds and uploads it for review (kepu-pack publish), an office user approves it,
# publishes it (the server signs it as the next version) and assigns it to the demo kiosk
# over the API; then it runs the kiosk in a window. The kiosk starts on "content is being updated", syncs with the server, installs
# the packs and switches to them on its attract screen, as a kiosk in a hall would.
# Without a display it runs under Xvfb. Stop it with Ctrl+C (or Escape in the window).
#   DEMO_WINDOW=1080x1920 scripts/demo.sh    portrait
#   DEMO_SECONDS=20 scripts/demo.sh          stop by itself after 20 s (for a quick check)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

bin=$top/build/src
demo=$top/var/demo
mkdir -p "$demo"
server=$bin/server/kepu-server
pack=$bin/tools/kepu-pack

# A signing key and a kiosk identity, made once and kept in var/demo.
[ -f "$demo/demo.key" ] || "$pack" keygen -o "$demo/demo"
mkdir -p "$demo/server/keys"
cp "$demo/demo.pub" "$demo/server/keys/demo.pub"
if [ ! -f "$demo/kiosk.token" ]; then
  "$server" venue add demo-venue --name "Demo science hall" --data "$demo/server" >/dev/null
  "$server" kiosk add k-demo --venue demo-venue --data "$demo/server" > "$demo/kiosk.token"
  echo demo-staff-password | "$server" user add demo-staff --role staff --data "$demo/server" \
    > "$demo/staff.token"
  echo demo-office-password | "$server" user add office --role office,admin --data "$demo/server" >/dev/null
  chmod 600 "$demo/kiosk.token" "$demo/staff.token"
fi

# The staff member edits the demo venue's packs; the key signs only if no one else reads it.
"$server" user venue demo-staff demo-venue --data "$demo/server" 2>/dev/null
chmod 600 "$demo/demo.key"
"$server" serve --listen 127.0.0.1:8080 --data "$demo/server" --signing-key "$demo/demo.key" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break; sleep 0.1; done

# Staff: build every sample pack and upload it for review (it becomes a draft in review).
rm -rf "$demo/built"
mkdir -p "$demo/built"
drafts=()
for src in content/*/; do
  id=$(basename "$src")
  "$pack" build "$src" -o "$demo/built/$id" --key "$demo/demo.key" >/dev/null
  d=$("$pack" publish "$demo/built/$id" --server http://127.0.0.1:8080 \
        --token-file "$demo/staff.token" | sed -n 's/.* as draft \(d[0-9a-f]*\);.*/\1/p')
  [ -n "$d" ] || { echo "demo: the upload of $id did not make a draft" >&2; exit 1; }
  drafts+=("$d")
done
# Office: log in, approve each draft, publish it (signed on the server) and assign it.
jar=$demo/office.cookies
api() { # api PATH [BODY]: POST as the office user; prints the answer, fails on an error
  curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -X POST --data-binary "${2:-}" \
    "http://127.0.0.1:8080/api/v1/$1"
}
csrf=$(curl -fsS -c "$jar" --data-binary '{"user":"office","password":"demo-office-password"}' \
         http://127.0.0.1:8080/api/v1/login | jq -r .csrf)
for d in "${drafts[@]}"; do
  api "drafts/$d/approve" >/dev/null
  ans=$(api "drafts/$d/publish")
  ref=$(jq -r '"\(.pack)@\(.version)"' <<<"$ans")
  api assignments "$(jq -c '{pack, version, kiosk: "k-demo"}' <<<"$ans")" >/dev/null
  echo "demo: reviewed, published and assigned $ref"
done
rm -f "$jar"
echo "demo: dashboard at http://127.0.0.1:8080/ (user office, password demo-office-password)"

cat > "$demo/kiosk.conf" <<CONF
# Written by scripts/demo.sh
kiosk_id = k-demo
server_url = http://127.0.0.1:8080
token_file = $demo/kiosk.token
trusted_keys = $demo/demo.pub
state_dir = $demo/kiosk-state
sync_interval_s = 30
CONF

run=("$bin/app/kepu-kiosk" --config "$demo/kiosk.conf" --window "${DEMO_WINDOW:-1600x900}")
[ -n "${DEMO_SECONDS:-}" ] && run=(timeout -s TERM "$DEMO_SECONDS" "${run[@]}")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "demo: no display here; running the kiosk under Xvfb"
  xvfb-run -a -s "-screen 0 1920x1920x24" "${run[@]}" || true
else
  "${run[@]}" || true
fi
