#!/usr/bin/env bash
# The reader draws the interactive blocks (tests/ui/test_blocks_draw.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_blocks_draw.py"
