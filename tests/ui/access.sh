#!/usr/bin/env bash
# High contrast and reach through the real kiosk (tests/ui/test_access.py, issue 14).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_access.py"
