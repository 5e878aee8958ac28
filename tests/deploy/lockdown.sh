#!/usr/bin/env bash
# The lockdown matrix with real input events (tests/deploy/test_lockdown.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/deploy/test_lockdown.py"
