#!/usr/bin/env bash
# Builds the Debian packages kepu-kiosk, kepu-server and kepu-pack into build-pkg/packages/
# (CPack's DEB generator; packaging/CMakeLists.txt) and checks them with lintian.
# Usage: scripts/package.sh [BUILD_DIR]     (default build-pkg)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b=${1:-build-pkg}
cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DKK_WEB_DIR=/usr/share/kepu-server/web >/dev/null
cmake --build "$b" -j"$(nproc)" --target kepu-kiosk kepu-server kepu-pack
rm -f "$b"/packages/*.deb
(cd "$b" && cpack -G DEB >/dev/null)
ls "$b"/packages/*.deb
if command -v lintian >/dev/null; then
    # Errors fail the build; warnings are printed for the maintainer to read.
    lintian --fail-on error \
        "$b"/packages/*.deb
else
    echo "package.sh: lintian not installed (scripts/deps.sh --test installs it)" >&2
fi
