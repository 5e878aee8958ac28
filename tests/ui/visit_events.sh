#!/usr/bin/env bash
# A visit's last events through the real kiosk (tests/ui/test_visit_events.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_visit_events.py"
