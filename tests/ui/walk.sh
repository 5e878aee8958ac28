#!/usr/bin/env bash
# The visitor's walk through the real kiosk (tests/ui/test_walk.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_walk.py"
