#!/usr/bin/env bash
# The staff panel through the real kiosk (tests/ui/test_staff.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_staff.py"
