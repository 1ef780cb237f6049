#!/bin/sh
# Tests of the HTTP endpoint, the dashboards and the report, against real
# programs started here on loopback: the sensor (--http, --report), Debian's
# chromium driven by playwright-core (tests/web/browser.mjs; screenshots into
# $B/screenshots), a Prometheus scraping a replay and every Grafana query
# (prom.py), bad input and capture under 1,000 connections (abuse.py).
# Anything that cannot start is a failure, never a skip. Prints
# "N passed, N failed" last.
set -u
B=${B:-build}
HERE=$(dirname "$0")
T=$(mktemp -d /tmp/stubwatch-web-XXXXXX)
PASS=0
FAIL=0
SW_PID=
cleanup() {
	[ -n "$SW_PID" ] && kill "$SW_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }
# Adds a sub-suite's closing "N passed, N failed" to the totals.
tally() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
	if [ -z "$line" ]; then
		bad "$2" "ended without a result line"
		return
	fi
	PASS=$((PASS + ${line%% passed*}))
	f=${line#*passed, }
	FAIL=$((FAIL + ${f%% failed}))
}
finish() { echo "web: $PASS passed, $FAIL failed"; echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

for t in node chromium prometheus promtool; do
	command -v $t >/dev/null || bad "$t" "not installed (make deps)"
done
[ -d "$HERE/node_modules/playwright-core" ] ||
	bad "playwright-core" "not installed: npm ci --prefix tests/web (make deps does it)"
[ "$FAIL" -eq 0 ] || finish

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

"$B/swgen" --demo -o "$T/demo.pcap" >/dev/null || { bad swgen "failed"; finish; }

# Report exit codes: --fail-on a line some device fails, one none fails, --device.
"$B/stubwatch" -r "$T/demo.pcap" -o /dev/null --report "$T/r.json" --fail-on 2 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && ok "--fail-on 2 (failed by the demo's devices) exits 3" || bad "--fail-on 2" "exit $rc"
"$B/stubwatch" -r "$T/demo.pcap" -o /dev/null --report "$T/r.json" --fail-on 11 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && ok "--fail-on 11 (unknown everywhere) exits 0" || bad "--fail-on 11" "exit $rc"
"$B/stubwatch" -r "$T/demo.pcap" -o /dev/null --report "$T/one.json" --device 48:A6:B8:23:00:0D 2>"$T/err"
rc=$?
n=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]; print(len(r["devices"]), r["devices"][0]["device"]["mac"])' "$T/one.json" 2>&1)
[ $rc -eq 0 ] && [ "$n" = "1 48:a6:b8:23:00:0d" ] && ok "--device keeps one device" || bad "--device" "exit $rc, $n"
"$B/stubwatch" -r "$T/demo.pcap" -o /dev/null --report "$T/none.html" --device 00:00:00:00:00:01 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && grep -q "no such device" "$T/err" && ok "--device of an absent MAC is an error" ||
	bad "--device absent" "exit $rc: $(cat "$T/err")"

# The dashboard and the report in chromium.
PORT=$(free_port)
"$B/stubwatch" -r "$T/demo.pcap" -o "$T/events.json" --report "$T/report.html" \
	--http "127.0.0.1:$PORT" -v 2>"$T/sensor.err" &
SW_PID=$!
for _ in $(seq 200); do grep -q "replay done" "$T/sensor.err" && break; sleep 0.05; done
if grep -q "replay done" "$T/sensor.err"; then
	mkdir -p "$B/screenshots"
	timeout 150 node "$HERE/browser.mjs" "http://127.0.0.1:$PORT/" "$T/events.json" \
		"$T/report.html" "$B/screenshots" >"$T/browser.out" 2>&1
	cat "$T/browser.out"
	tally "$T/browser.out" "browser tests"
else
	bad "sensor with --http" "$(cat "$T/sensor.err")"
fi
kill "$SW_PID" 2>/dev/null
wait "$SW_PID" 2>/dev/null
SW_PID=

timeout 180 python3 "$HERE/prom.py" "$B" >"$T/prom.out" 2>&1
cat "$T/prom.out"
tally "$T/prom.out" "Prometheus tests"
timeout 300 python3 "$HERE/abuse.py" "$B" >"$T/abuse.out" 2>&1
cat "$T/abuse.out"
tally "$T/abuse.out" "bad-input tests"
finish
