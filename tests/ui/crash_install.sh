#!/usr/bin/env bash
# SIGKILL during installs (tests/ui/test_crash_install.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_crash_install.py"
