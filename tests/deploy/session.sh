#!/usr/bin/env bash
# The kiosk session launcher (kiosk/kepu-kiosk-session.in) with stand-ins for cage, xinit
# and the app that record how they were called: cage is the default, kmsdrm runs the app
# alone, three quick failures of cage within a minute fall back to the X session, and the
# exit status of the app is the session's (systemd restarts it).
set -uo pipefail
build=${KK_BUILD_DIR:?KK_BUILD_DIR not set}
session=$build/packaging/gen/kepu-kiosk-session
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { CHECKS=$((CHECKS + 1)); [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"; }

mkdir -p "$tmp/bin" "$tmp/run"
# Each stand-in writes its name, SDL_VIDEODRIVER and its arguments, then exits with
# $FAKE_RC (cage) or runs the command it was given (xinit runs its client).
cat >"$tmp/bin/cage" <<'SH'
#!/bin/sh
echo "cage ${SDL_VIDEODRIVER:-} $*" >>"$LOG"; exit "${FAKE_RC:-0}"
SH
cat >"$tmp/bin/xinit" <<'SH'
#!/bin/sh
echo "xinit $*" >>"$LOG"; exit 0
SH
cat >"$tmp/bin/app" <<'SH'
#!/bin/sh
echo "app ${SDL_VIDEODRIVER:-} $*" >>"$LOG"; exit "${APP_RC:-0}"
SH
chmod +x "$tmp/bin"/*
run() {
    env -i PATH="$tmp/bin:/usr/bin:/bin" LOG="$tmp/log" RUNTIME_DIRECTORY="$tmp/run" \
        KEPU_KIOSK_BIN="$tmp/bin/app" "$@" sh "$session" </dev/null 2>>"$tmp/err"
}

: >"$tmp/log"
run KEPU_KIOSK_ARGS="--window 1080x1920"
check "default session is cage" 0 $?
check "cage's command" "cage wayland -d -- $tmp/bin/app --config /etc/kepu/kiosk.conf --window 1080x1920" \
    "$(sed "s|$build/packaging/gen|/etc/kepu|; s|/usr/local/etc/kepu|/etc/kepu|" "$tmp/log")"

: >"$tmp/log"
run KEPU_SESSION=kmsdrm APP_RC=3
check "kmsdrm passes the app's exit status on" 3 $?
check "kmsdrm runs the app alone" "app kmsdrm --config" "$(cut -d' ' -f1-3 "$tmp/log")"

: >"$tmp/log"
for i in 1 2 3; do run FAKE_RC=1; check "cage failure $i is the session's" 1 $?; done
check "three cage failures recorded" 3 "$(grep -c '^cage' "$tmp/log")"
[ -f "$tmp/run/fallback-x11" ] && CHECKS=$((CHECKS + 1)) || fail "no fallback after three failures"
: >"$tmp/log"
run
check "after the crash loop: the X session" "xinit" "$(cut -d' ' -f1 "$tmp/log")"
check "X session without TCP and cursor" 1 "$(grep -c -- '-- :0 vt7 -nolisten tcp -nocursor' "$tmp/log")"

: >"$tmp/log"
run KEPU_SESSION=wayland
check "an unknown session is refused" 2 $?
check "with a message naming it" 1 "$(grep -c 'KEPU_SESSION=wayland' "$tmp/err")"

if [ "$FAILS" -ne 0 ]; then cat "$tmp/err" >&2; echo "$FAILS of $CHECKS checks failed" >&2; exit 1; fi
echo "all $CHECKS checks passed"
