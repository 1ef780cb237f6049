#!/bin/sh
# Worker threads under ThreadSanitizer (B is the SANITIZE=thread tree): the
# demo capture replayed with three workers, with a rules reload (SIGHUP)
# and a stats request (SIGUSR1) sent while it runs. A data race or a lock
# order problem ends the run with ThreadSanitizer's report (exit status
# 66); the replay must also end normally with its exit stats event, and
# have reloaded its rules on the way. Then the live test with two workers
# (tests/service/workers.py, as root) under ThreadSanitizer too.
set -u
B=${B:-build-tsan}
T=$B/tsan
mkdir -p "$T"
"$B/swgen" --demo -o "$T/demo.pcap" --truth "$T/demo.truth.json" || exit 1
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
rm -f "$T/w3.json"
"$B/stubwatch" -v -r "$T/demo.pcap" --log-dns --workers 3 -o "file:$T/w3.json" \
	2>"$T/w3.err" &
pid=$!
# The signals once the replay runs (its handlers are in place when its
# first events are out); it may be over by then, and they are not needed.
i=0
while [ "$i" -lt 1200 ] && [ ! -s "$T/w3.json" ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -HUP "$pid" 2>/dev/null
kill -USR1 "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ "$rc" -ne 0 ] || grep -q ThreadSanitizer "$T/w3.err"; then
	echo "tsan: replay with 3 workers failed (exit $rc):"
	head -60 "$T/w3.err"
	exit 1
fi
if ! grep -q '"dataset":"stubwatch.stats"[^}]*"reason":"exit"' "$T/w3.json"; then
	echo "tsan: no exit stats event in $T/w3.json"
	exit 1
fi
if ! grep -q "rules reloaded" "$T/w3.err"; then
	echo "tsan: the replay ended before its rules reload; nothing ran concurrently with it"
	exit 1
fi
echo "tsan: replay with 3 workers clean ($(wc -l <"$T/w3.json") events)"
echo "== tsan: live capture with two workers"
B="$B" python3 tests/service/workers.py || exit 1
