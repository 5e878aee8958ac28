#!/usr/bin/env bash
# systemd's READY=1 and watchdog pings from the kiosk's frame loop (tests/ui/test_watchdog.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_watchdog.py"
