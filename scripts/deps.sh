#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those that are missing.
# Usage: scripts/deps.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang-format
  libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libsdl2-mixer-dev libcurl4-openssl-dev libcjson-dev
  libsqlite3-dev libsodium-dev libmicrohttpd-dev libarchive-dev libfontconfig-dev
  libunibreak-dev libcmocka-dev libpq-dev libqrencode-dev zlib1g-dev fonts-noto-cjk fontconfig
  xvfb xauth sqlite3 curl jq)
# The sample narration (scripts/make-narration.py) is made with these; the build does not need them.
[ "${1:-}" = --test ] && pkgs+=(espeak-ng vorbis-tools)
# Drawing the sample SVG pictures to PNG to check hotspot coordinates by eye (docs/blocks.md);
# no test needs it.
[ "${1:-}" = --test ] && pkgs+=(librsvg2-bin)
if [ "${1:-}" = --test ]; then
  pkgs+=(imagemagick python3 python3-pil procps chromium libjs-chart.js)
  pkgs+=(prometheus) # promtool checks /metrics (tests/integration/server_metrics.sh)
  pkgs+=(python3-aiosmtpd) # the alerts' mail goes to a local SMTP sink (server_alerts.sh)
  # The fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes.
  pkgs+=(clang libclang-rt-14-dev)
  # Debian packages (scripts/package.sh) and their install test in a fresh chroot.
  pkgs+=(dpkg-dev file lintian debootstrap)
  # The lockdown matrix: real key and pointer events through the X server (tests/deploy).
  pkgs+=(xdotool)
  # The enrolment QR code read back (tests/integration/enrol.sh).
  pkgs+=(zbar-tools)
  # The server tests run on PostgreSQL too (scripts/pg-test.sh), and two servers behind nginx.
  pkgs+=(postgresql-15 postgresql-client-15 nginx)
  # The dashboard's browser tests run on node with npm; a node that brings its own npm
  # (and conflicts with Debian's npm package) is kept.
  command -v npm >/dev/null || pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
