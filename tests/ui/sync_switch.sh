#!/usr/bin/env bash
# Content updates through the real server and the real kiosk (tests/ui/test_sync_switch.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_sync_switch.py"
