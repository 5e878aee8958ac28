#!/usr/bin/env bash
# The settings overlay's sync interval, volumes and theme, and 15 s heartbeats while the
# office watches, on the real kiosk against the real server (tests/ui/test_fleet_settings.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_fleet_settings.py"
