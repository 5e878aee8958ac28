#!/usr/bin/env bash
# Hotspot and order questions through the real kiosk (tests/ui/test_quiz2.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_quiz2.py"
