#!/usr/bin/env bash
# Format 2 packs through the real kiosk (tests/ui/test_blocks.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_blocks.py"
