#!/usr/bin/env bash
# Read aloud through the real kiosk with SDL's disk audio driver (tests/ui/test_narration.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_narration.py"
