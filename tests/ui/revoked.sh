#!/usr/bin/env bash
# A revoked kiosk says so on its staff panel (tests/ui/test_revoked.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_revoked.py"
