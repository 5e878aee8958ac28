#!/usr/bin/env bash
# The monkey through the real kiosk (tests/ui/test_monkey.py): first its self-tests (a
# kiosk killed, crashed under AddressSanitizer, hung, or with no way home must each fail
# the monkey), then KK_MONKEY_ACTIONS (default 15,000) random actions.
set -u
py=/usr/bin/python3
t=$KK_SOURCE_DIR/tests/ui/test_monkey.py
for s in kill segv stop stuck; do
    out=$("$py" "$t" --selftest "$s" --seed 1 2>&1) || { echo "$out"; echo "FAIL: monkey self-test $s"; exit 1; }
    echo "$out" | grep '^self-test'
done
exec "$py" "$t" "$@"
