#!/usr/bin/env bash
# The Debian packages on a fresh Debian 12 (issue 18, "Done when"): a minbase root made
# with debootstrap, the three packages from scripts/package.sh installed with apt in a
# chroot, then
#   - kepu-server started as its unit's ExecStart says (no systemd) answers /healthz,
#   - kepu-kiosk started by its session launcher under cage's headless backend shows its
#     first screen (automation channel) and a screenshot,
#   - reinstalling (the upgrade path) keeps an edited conffile,
#   - purge leaves no file of ours behind but the server's data folder (docs/deploy.md).
# Needs root, debootstrap and the Debian mirror of /etc/apt/sources.list*. The base
# base root and apt's downloads are cached in /var/cache/kepu-deploy-test, so a re-run only
# unpacks (KK_DEPLOY_CACHE moves it). Exit 77 (skipped) without root or debootstrap.
set -uo pipefail
src=${KK_SOURCE_DIR:?KK_SOURCE_DIR not set}
build=${KK_BUILD_DIR:?KK_BUILD_DIR not set}
cache=${KK_DEPLOY_CACHE:-/var/cache/kepu-deploy-test}
t0=$(date +%s)
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }
check() { if [ "$2" = "$3" ]; then ok; else fail "$1: expected [$2], got [$3]"; fi; }
step() { echo "[$(($(date +%s) - t0)) s] $*"; }

if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null; then
    echo "skipped: needs root and debootstrap (scripts/deps.sh --test)"
    exit 77
fi

# The mirror this machine uses: the first Debian URI of its apt sources.
mirror=$(grep -hoE '(URIs:|^deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
    /etc/apt/sources.list.d/* 2>/dev/null | grep -oE 'https?://[^ ]+' | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d /var/tmp/kepu-chroot.XXXXXX)
chmod 0755 "$root" # apt's _apt user reads below it
mounts=()
cleanup() {
    [ -n "${spid:-}" ] && kill -KILL "$spid" 2>/dev/null
    # Whatever still runs inside the root (cage, the app) goes before its mounts.
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null; done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
bind() { mkdir -p "$root$2" && mount --bind "$1" "$root$2" && mounts+=("$root$2"); }

step "packages (scripts/package.sh)"
"$src/scripts/package.sh" "$build/pkg" >"$build/pkg-build.log" 2>&1 ||
    { tail -30 "$build/pkg-build.log"; fail "scripts/package.sh failed"; exit 1; }
grep -E '^[EW]:' "$build/pkg-build.log"

step "Debian 12 minbase root from $mirror"
mkdir -p "$cache/archives/partial"
# Two caches: debootstrap's download (--make-tarball) and the finished root as a plain tar
# (the second stage costs a minute or more of CPU; untarring it a few seconds).
tgz=$cache/bookworm-minbase.tgz
base=$cache/bookworm-minbase-root.tar
if [ ! -s "$base" ]; then
    if [ ! -s "$tgz" ]; then
        debootstrap --variant=minbase --make-tarball="$tgz.tmp" bookworm "$root/tmp-dbs" \
            "$mirror" >"$build/debootstrap.log" 2>&1 || { tail "$build/debootstrap.log"; exit 1; }
        mv "$tgz.tmp" "$tgz"
        rm -rf "$root/tmp-dbs"
    fi
    debootstrap --variant=minbase --unpack-tarball="$tgz" bookworm "$root" "$mirror" \
        >"$build/debootstrap.log" 2>&1 || { tail "$build/debootstrap.log"; exit 1; }
    tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
else
    tar -C "$root" -xf "$base" || exit 1
fi
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
bind /dev /dev
bind /dev/pts /dev/pts
bind "$cache/archives" /var/cache/apt/archives
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
# No service may start inside the chroot (policy-rc.d, as Debian's build chroots do).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/tmp/debs"
cp "$build"/pkg/packages/*.deb "$root/tmp/debs/"
debs=()
for d in "$root"/tmp/debs/*.deb; do debs+=("/tmp/debs/${d##*/}"); done

# Every file of the fresh root but the ones apt and the kernel change on their own.
snapshot() {
    (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp \
        -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log \
        -o -path ./run -o -path ./sys \) -prune -o -print | sort)
}
snapshot >"$build/deploy-before.txt"

step "apt-get install the three packages"
in_root apt-get update -q >"$build/deploy-apt.log" 2>&1 || { tail "$build/deploy-apt.log"; exit 1; }
if ! in_root apt-get install -y -q --no-install-recommends "${debs[@]}" >>"$build/deploy-apt.log" 2>&1; then
    tail -30 "$build/deploy-apt.log"
    fail "apt-get install failed"
    exit 1
fi
check "kepu-server user" kepu-server "$(in_root getent passwd kepu-server | cut -d: -f1)"
check "kepu-kiosk user" kepu-kiosk "$(in_root getent passwd kepu-kiosk | cut -d: -f1)"
check "server data folder" "kepu-server 700" "$(in_root stat -c '%U %a' /var/lib/kepu-server)"
check "kiosk state folder" "kepu-kiosk 700" "$(in_root stat -c '%U %a' /var/lib/kepu-kiosk)"
check "kiosk.conf is a conffile" "/etc/kepu/kiosk.conf" \
    "$(in_root dpkg-query -W -f='${Conffiles}\n' kepu-kiosk | awk '/kiosk.conf/ {print $1}')"
in_root kepu-pack --version >/dev/null && ok || fail "kepu-pack --version"

step "kepu-server as its unit starts it"
unit=$root/lib/systemd/system/kepu-server.service
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
check "unit's command" 1 "$(echo "$cmd" | grep -c '^/usr/bin/kepu-server serve ')"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086 # the unit's command line is split into words as systemd does
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 setpriv --reuid=kepu-server --regid=kepu-server --clear-groups \
    ${cmd/127.0.0.1:8080/127.0.0.1:$port} >"$build/deploy-server.log" 2>&1 &
spid=$!
health=
for _ in $(seq 1 100); do
    health=$(curl -s --max-time 2 "http://127.0.0.1:$port/healthz") && [ -n "$health" ] && break
    sleep 0.1
done
check "/healthz answers" 1 "$(echo "$health" | grep -c '"ok"')"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
check "dashboard page from /usr/share/kepu-server/web" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/vendor/chart.js")
check "Chart.js from libjs-chart.js" 200 "$code"
kill -TERM "$spid"
wait "$spid"
check "server stops cleanly on SIGTERM" 0 $?
spid=
check "database owned by kepu-server" kepu-server "$(in_root stat -c %U /var/lib/kepu-server/kepu.db)"

step "kepu-kiosk by its session launcher under cage (headless)"
cp -r "$src/content" "$root/tmp/content"
chmod -R a+rX "$root/tmp/content"
mkdir -p "$root/run/kiosk-test"
chown "$(in_root id -u kepu-kiosk):$(in_root id -g kepu-kiosk)" "$root/run/kiosk-test"
chmod 0700 "$root/run/kiosk-test"
printf '%s\n' '{"state":true}' '{"screenshot":"/run/kiosk-test/first.png"}' '{"quit":true}' \
    >"$root/tmp/kiosk-commands"
session_env=(KEPU_SESSION=cage XDG_RUNTIME_DIR=/run/kiosk-test RUNTIME_DIRECTORY=/run/kiosk-test
    WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
    "KEPU_KIOSK_ARGS=--content /tmp/content --automation")
timeout 120 chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "${session_env[@]}" \
    setpriv --reuid=kepu-kiosk --regid=kepu-kiosk --init-groups \
    /usr/lib/kepu-kiosk/kepu-kiosk-session <"$root/tmp/kiosk-commands" \
    >"$build/deploy-kiosk.out" 2>"$build/deploy-kiosk.log"
check "kiosk session exit status" 0 $?
first=$(grep -m1 '"scene"' "$build/deploy-kiosk.out")
check "first screen is the attract screen" attract \
    "$(echo "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["scene"])' 2>&1)"
# cage's headless output is 1280x720; the app fills it (full screen, the default).
check "full screen on cage's output" "[1280, 720]" \
    "$(echo "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])' 2>&1)"
if [ -s "$root/run/kiosk-test/first.png" ]; then
    ok
    cp "$root/run/kiosk-test/first.png" "$build/deploy-kiosk-first.png"
else
    fail "no screenshot"
fi
[ "$FAILS" -ne 0 ] && { tail -20 "$build/deploy-kiosk.log" >&2; head -c 600 "$build/deploy-kiosk.out" >&2; }

step "reinstall (upgrade path) keeps an edited conffile"
echo "idle_timeout_s = 90" >>"$root/etc/kepu/kiosk.conf"
in_root dpkg -i --force-confold "${debs[@]}" >>"$build/deploy-apt.log" 2>&1
check "reinstall" 0 $?
check "edited conffile kept" 1 "$(grep -c '^idle_timeout_s = 90' "$root/etc/kepu/kiosk.conf")"

step "purge"
in_root apt-get purge -y -q --autoremove kepu-kiosk kepu-server kepu-pack \
    >>"$build/deploy-apt.log" 2>&1
check "purge" 0 $?
snapshot >"$build/deploy-after.txt"
left=$(comm -13 "$build/deploy-before.txt" "$build/deploy-after.txt")
ours=$(echo "$left" | grep -i kepu | grep -v '^\./var/lib/kepu-server')
check "nothing of ours left but /var/lib/kepu-server" "" "$ours"
check "server data kept" 1 "$(echo "$left" | grep -c '^\./var/lib/kepu-server/kepu.db$')"
other=$(echo "$left" | grep -v -i kepu | grep -v -E '^\./etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$')
[ -n "$other" ] && echo "left by dependencies' maintainer scripts (not ours):" && echo "$other" | head -20
gone=$(comm -23 "$build/deploy-before.txt" "$build/deploy-after.txt" | head -5)
check "nothing of the base system removed" "" "$gone"

step "done: $CHECKS checks"
if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS of $CHECKS checks failed" >&2
    exit 1
fi
echo "all $CHECKS checks passed in $(($(date +%s) - t0)) s"
