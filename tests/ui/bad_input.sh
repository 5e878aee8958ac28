#!/usr/bin/env bash
# Bad content, state, fonts and commands against the real kiosk (tests/ui/test_bad_input.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_bad_input.py"
