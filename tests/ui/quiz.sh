#!/usr/bin/env bash
# The quiz screens through the real kiosk (tests/ui/test_quiz.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_quiz.py"
