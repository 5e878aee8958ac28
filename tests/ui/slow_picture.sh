#!/usr/bin/env bash
# A picture slow to decode never stops the kiosk (tests/ui/test_slow_picture.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_slow_picture.py"
