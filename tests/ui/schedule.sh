#!/usr/bin/env bash
# Dated assignments and rollback through the real server and real kiosks
# (tests/ui/test_schedule.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_schedule.py"
