#!/bin/sh
# Replays each fuzz target's seed corpus (tests/fuzz/corpus/<what>/) with the
# sanitizer build. A target without a corpus is an error, not a skip.
set -u
pass=0
fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	what=${name#fuzz_}
	dir=tests/fuzz/corpus/$what
	if [ ! -d "$dir" ]; then
		echo "FAIL $name: no corpus at $dir"
		fail=$((fail + 1))
		continue
	fi
	if out=$("$bin" "$dir" 2>&1); then
		echo "ok   $name: $(echo "$out" | tail -n 1)"
		pass=$((pass + 1))
	else
		echo "$out" | tail -n 30
		echo "FAIL $name"
		fail=$((fail + 1))
	fi
done
echo "fuzz replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
