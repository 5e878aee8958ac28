#!/usr/bin/env bash
# Unseen packs from a seed, checked and explored by taps at four sizes (tests/ui/test_unseen.py).
exec /usr/bin/python3 "$KK_SOURCE_DIR/tests/ui/test_unseen.py"
