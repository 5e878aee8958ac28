#!/usr/bin/env bash
# The kiosk's look from assets/, and its fallback (tests/ui/test_theme.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_theme.py"
