#!/usr/bin/env bash
# Fleet operations on the real kiosk against the real server (tests/ui/test_fleet.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_fleet.py"
