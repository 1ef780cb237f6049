#!/bin/sh
# Runs every cmocka unit-test binary given; fails when any fails or none ran.
set -u
pass=0
fail=0
for t in "$@"; do
	if "$t"; then
		pass=$((pass + 1))
	else
		echo "FAIL $t"
		fail=$((fail + 1))
	fi
done
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
