#!/bin/sh
# Integration tests of the Redis and Kafka outputs against real servers on
# loopback: a redis-server this script starts, and librdkafka's mock cluster
# (build/itest/kafka_mock). What each sink received is compared with the file
# sink of the same run (tests/integration/check.py). A server that cannot
# start is a failure, never a skip. Prints "N passed, N failed" last.
set -u
B=${B:-build}
SW=$B/stubwatch
IT=$B/itest
HERE=$(dirname "$0")
CHECK="python3 $HERE/check.py"
T=$(mktemp -d /tmp/stubwatch-itest-XXXXXX)
PASS=0
FAIL=0
REDIS_PID=
MOCK_PID=
PW=itest-pw

ALL_PIDS=
cleanup() {
	for p in $ALL_PIDS; do kill -9 "$p" 2>/dev/null; done
	exec 7>&- 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }

for f in "$SW" "$IT/kafka_mock" "$IT/redis_dump"; do
	[ -x "$f" ] || { echo "missing $f (build it first)"; echo "0 passed, 1 failed"; exit 1; }
done
command -v redis-server >/dev/null || { echo "redis-server not installed (Debian: redis-server)"; echo "0 passed, 1 failed"; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_redis PORT [extra args]: a fresh server in $T/redis-PORT.
start_redis() {
	port=$1; shift
	mkdir -p "$T/redis-$port"
	redis-server --port "$port" --bind 127.0.0.1 --dir "$T/redis-$port" --requirepass "$PW" \
		--save '' --appendonly no --daemonize no "$@" >"$T/redis-$port/log" 2>&1 &
	REDIS_PID=$!
	ALL_PIDS="$ALL_PIDS $REDIS_PID"
	for _ in $(seq 100); do
		redis-cli -p "$port" -a "$PW" --no-auth-warning ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis-server did not start on port $port:"; cat "$T/redis-$port/log"
	return 1
}
stop_redis() { kill -9 "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=; }

start_mock() {
	rm -f "$T/kin" "$T/kout"
	mkfifo "$T/kin"
	"$IT/kafka_mock" serve sw <"$T/kin" >"$T/kout" 2>"$T/kerr" &
	MOCK_PID=$!
	ALL_PIDS="$ALL_PIDS $MOCK_PID"
	exec 7>"$T/kin"
	for _ in $(seq 100); do
		KB=$(head -1 "$T/kout" 2>/dev/null)
		[ -n "$KB" ] && return 0
		sleep 0.05
	done
	echo "mock Kafka cluster did not start:"; cat "$T/kerr"
	return 1
}
mock_cmd() { echo "$1" >&7; sleep 0.2; }
stop_mock() { exec 7>&-; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=; }

# Captures: a small generated network, a large DNS-heavy one, a crafted one.
"$B/swgen" -o "$T/small.pcap" --devices 50 --duration 900 >/dev/null 2>&1 ||
	{ echo "swgen failed"; echo "0 passed, 1 failed"; exit 1; }
"$B/swgen" --bench --packets 400000 -o "$T/big.pcap" >/dev/null 2>&1 ||
	{ echo "swgen --bench failed"; echo "0 passed, 1 failed"; exit 1; }
# the mock Kafka cluster keeps ~45,000 messages per partition: stay below
"$B/swgen" --bench --packets 150000 -o "$T/mid.pcap" >/dev/null 2>&1 ||
	{ echo "swgen --bench failed"; echo "0 passed, 1 failed"; exit 1; }
python3 tests/pcap/craft.py basic "$T/basic.pcap" >/dev/null ||
	{ echo "craft.py failed"; echo "0 passed, 1 failed"; exit 1; }

RP=$(free_port)
RURL="redis://:$PW@127.0.0.1:$RP/3"
COMMON="-s output.redis.maxlen=0 -s output.stop_deadline=2s"
# the run that catches up on a spool may take its time (it ends when done)
CATCHUP="-s output.redis.maxlen=0 -s output.stop_deadline=60s"

# ---- 1. file + Redis + Kafka at once: each gets every event, in order ------
t=three_sinks
if start_redis "$RP" && start_mock; then
	if $SW -r "$T/small.pcap" --log-dns $COMMON -s spool.dir="$T/spool1" \
		-o "$T/ref1.json" -o "$RURL" -o "kafka://$KB/sw" 2>"$T/$t.err"; then
		"$IT/redis_dump" 127.0.0.1 "$RP" "$PW" 3 stubwatch >"$T/r1.txt" &&
		"$IT/kafka_mock" consume "$KB" sw >"$T/k1.txt" &&
		$CHECK redis "$T/ref1.json" "$T/r1.txt" && $CHECK kafka "$T/ref1.json" "$T/k1.txt" &&
		ok $t || bad $t "sinks differ from the file"
	else
		bad $t "stubwatch failed: $(tail -3 "$T/$t.err")"
	fi
else
	bad $t "a server did not start"
fi
stop_mock

# ---- 1a. the device hashes' per-field values: check.py compared them above
# with the latest device event and the alert events of run 1; here they must
# be there, the same replay sent again (every alert a repeat, as after a
# reconnect) must count no alert twice, and one changed value in Redis must
# fail the comparison.
t=device_fields
$SW -r "$T/small.pcap" --log-dns $COMMON -s spool.dir="$T/spool1" -o "$T/ref1again.json" \
	-o "$RURL" 2>"$T/$t.err"
cat "$T/ref1.json" "$T/ref1again.json" >"$T/ref1twice.json"
"$IT/redis_dump" 127.0.0.1 "$RP" "$PW" 3 stubwatch >"$T/r1twice.txt"
withal=$(awk -F'\t' '$1 == "fields" && $7 != "\\N"' "$T/r1.txt" | wc -l)
withman=$(awk -F'\t' '$1 == "fields" && $5 != ""' "$T/r1.txt" | wc -l)
mac=$(awk -F'\t' '$1 == "fields" && $7 != "\\N" { print $2; exit }' "$T/r1.txt")
if [ "$withal" -eq 0 ] || [ "$withman" -eq 0 ]; then
	bad $t "$withal device hashes count alerts, $withman name a manufacturer"
elif ! $CHECK redis "$T/ref1twice.json" "$T/r1twice.txt" --dups-ok; then
	bad $t "the same alerts sent twice changed the device hashes"
elif ! redis-cli -p "$RP" -a "$PW" --no-auth-warning -n 3 hincrby "stubwatch:device:$mac" alerts 1 \
	>/dev/null || ! "$IT/redis_dump" 127.0.0.1 "$RP" "$PW" 3 stubwatch >"$T/r1b.txt"; then
	bad $t "Redis could not be changed or read"
elif $CHECK redis "$T/ref1twice.json" "$T/r1b.txt" --dups-ok >/dev/null; then
	bad $t "check.py passed a device hash whose alert count is one too many"
else
	ok $t; echo "     ($withal devices with alerts, $withman with a manufacturer)"
fi
# a DHCP host name that JSON must escape (the sensor writes its backslash as
# two) reaches the hash decoded
t=device_fields_escaped
if python3 -c '
import sys; sys.path.insert(0, "tests/pcap")
import craft, craft_hygiene as h
n = "cam \"8\\ x"
pk = [(craft.T0, h.dhcp_request(craft.DEV2, hostname=n)),
      (craft.T0 + 1000, h.dhcp_ack(craft.DEV2, craft.DEV2_IP, [craft.RES_IP], hostname=n))]
pk += h.exchange(craft.T0 + 2000000, craft.DEV2, craft.DEV2_IP, craft.G_IP, 40000, 4242, "a.example")
craft.write_pcap(sys.argv[1], craft.ETH, pk)' "$T/escaped.pcap" &&
	$SW -r "$T/escaped.pcap" $COMMON -s spool.dir="$T/spool1e" -o "$T/ref1e.json" \
		-o "redis://:$PW@127.0.0.1:$RP/6" 2>"$T/$t.err" &&
	"$IT/redis_dump" 127.0.0.1 "$RP" "$PW" 6 stubwatch >"$T/r1e.txt" &&
	grep -qF 'hostname":"cam \"8\\\\ x"' "$T/ref1e.json" && $CHECK redis "$T/ref1e.json" "$T/r1e.txt"
then ok $t
else bad $t "the escaped host name: $(grep '^fields' "$T/r1e.txt" 2>/dev/null)"; fi
stop_redis

# ---- 1b. the comparison itself: an empty reference matches nothing --------
t=empty_reference
: >"$T/empty.json"
: >"$T/empty.dump"
if $CHECK redis "$T/empty.json" "$T/empty.dump" >/dev/null ||
	$CHECK kafka "$T/empty.json" "$T/empty.dump" >/dev/null; then
	bad $t "check.py passed sinks against a reference without events"
else
	ok $t
fi

# ---- 2. bad URLs: exit 2 with a message ----------------------------------
t=bad_urls
n=0
for u in "redis://127.0.0.1:99999" "redis://user@host" "redis://h/x" "unix://relative/sock" \
	"kafka:///prefix" "kafka://b:9092/bad topic"; do
	$SW -r "$T/basic.pcap" -o "$u" >/dev/null 2>"$T/$t.err"
	rc=$?
	# what stands before an '@' is shown as *** (it may be a password)
	lab=$(printf %s "$u" | sed 's|://[^@]*@|://***@|')
	if [ $rc -ne 2 ] || ! grep -qF "output '$lab'" "$T/$t.err"; then
		bad $t "'$u': exit $rc, $(cat "$T/$t.err")"; n=1; break
	fi
done
if [ $n -eq 0 ]; then
	$SW -r "$T/basic.pcap" -o "kafka://127.0.0.1:1/sw" -s output.kafka.property.no.such=1 \
		>/dev/null 2>"$T/$t.err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "output.kafka.property.no.such" "$T/$t.err"; then ok $t
	else bad $t "unknown Kafka property: exit $rc, $(cat "$T/$t.err")"; fi
fi

# ---- 3. Redis down for a whole replay: all spooled, replayed at next start --
t=spool_replay
DP=$(free_port)
DURL="redis://:$PW@127.0.0.1:$DP/0"
SP="$T/spool3"
$SW -r "$T/small.pcap" --log-dns $COMMON -s spool.dir="$SP" -o "$T/ref3a.json" -o "$DURL" \
	2>"$T/$t.err1"
rc=$?
total=$(wc -l <"$T/ref3a.json")
dir=$(ls -d "$SP"/redis-* 2>/dev/null | head -1)
spooled=$([ -n "$dir" ] && $CHECK spool "$dir" || echo 0)
if [ $rc -ne 0 ] || ! grep -q "cannot connect" "$T/$t.err1"; then
	bad $t "sensor with Redis down: exit $rc, no warning"
elif [ "$spooled" -ne "$total" ]; then
	bad $t "spool holds $spooled of $total events"
elif ! start_redis "$DP"; then
	bad $t "redis-server did not start"
else
	$SW -r "$T/basic.pcap" --log-dns $CATCHUP -s spool.dir="$SP" -o "$T/ref3b.json" -o "$DURL" \
		2>"$T/$t.err2"
	cat "$T/ref3a.json" "$T/ref3b.json" >"$T/ref3.json"
	"$IT/redis_dump" 127.0.0.1 "$DP" "$PW" 0 stubwatch >"$T/r3.txt"
	left=$(ls "$dir"/*.seg 2>/dev/null | wc -l)
	# the catch-up run's last stats event is written after the replay: it
	# counts every event replayed (the earlier run's, and this run's that
	# waited behind them in the spool) and every event delivered, itself too
	set -- $($CHECK exitstats "$T/ref3b.json" redis)
	if ! $CHECK redis "$T/ref3.json" "$T/r3.txt"; then bad $t "Redis content after replay"
	elif [ "$left" -ne 0 ]; then bad $t "$left segment files left after replay"
	elif [ "${3:-x}" != "$((total + ${2:-0}))" ] || [ "${1:-x}" != "$((total + ${5:-0}))" ]; then
		bad $t "exit stats say delivered ${1:-?} spooled ${2:-?} replayed ${3:-?}, expected" \
			"$((total + ${5:-0})) delivered and $total + spooled replayed"
	else ok $t; fi
	stop_redis
fi

# ---- 4. spool cap: drops counted exactly --------------------------------
t=spool_cap
SP="$T/spool4"
DP=$(free_port)
DURL="redis://:$PW@127.0.0.1:$DP/0"
$SW -r "$T/small.pcap" --log-dns $COMMON -s spool.dir="$SP" -s spool.max_size=256KiB \
	-s spool.segment_size=64KiB -o "$T/ref4.json" -o "$DURL" 2>"$T/$t.err"
total=$(wc -l <"$T/ref4.json")
dir=$(ls -d "$SP"/redis-* 2>/dev/null | head -1)
spooled=$([ -n "$dir" ] && $CHECK spool "$dir" || echo 0)
bytes=$(cat "$dir"/*.seg 2>/dev/null | wc -c)
dropped=$(sed -n 's/.*redis.*: \([0-9]*\) events dropped.*/\1/p' "$T/$t.err" | head -1)
if [ "$spooled" -le 0 ] || [ "$spooled" -ge "$total" ]; then
	bad $t "spooled $spooled of $total (expected some, not all)"
elif [ "${dropped:-x}" != "$((total - spooled))" ]; then
	bad $t "log says ${dropped:-nothing} dropped, expected $((total - spooled)) ($total - $spooled)"
	sed 's/^/     /' "$T/$t.err"
elif [ "$bytes" -gt 262144 ]; then
	bad $t "spool is $bytes bytes, over the 256 KiB cap"
elif [ "$($CHECK exitstats "$T/ref4.json" redis | cut -d' ' -f2,4)" != "$spooled $((total - spooled))" ]; then
	# the last stats event counts every drop, its own included
	bad $t "exit stats say spooled and dropped '$($CHECK exitstats "$T/ref4.json" redis | cut -d' ' -f2,4)', expected '$spooled $((total - spooled))'"
elif ! start_redis "$DP"; then
	bad $t "redis-server did not start"
else
	$SW -r "$T/basic.pcap" $CATCHUP -s spool.dir="$SP" -o "$T/ref4b.json" -o "$DURL" \
		2>>"$T/$t.err"
	"$IT/redis_dump" 127.0.0.1 "$DP" "$PW" 0 stubwatch >"$T/r4.txt"
	# the spool replays exactly the first $spooled events; basic.pcap's follow
	{ head -n "$spooled" "$T/ref4.json"; cat "$T/ref4b.json"; } >"$T/ref4all.json"
	if $CHECK redis "$T/ref4all.json" "$T/r4.txt"; then
		ok $t; echo "     ($total events: $spooled spooled, $((total - spooled)) dropped and counted)"
	else bad $t "replayed spool is not the first $spooled events"; fi
	stop_redis
fi

# ---- 5. Redis frozen (SIGSTOP) then killed and restarted mid-replay -------
t=redis_fault
FP=$(free_port)
FURL="redis://:$PW@127.0.0.1:$FP/0"
if start_redis "$FP" --appendonly yes --appendfsync always; then
	$SW -r "$T/big.pcap" --log-dns $COMMON -s output.redis.timeout=300ms -s spool.dir="$T/spool5" \
		-s output.queue_size=4096 -o "$T/ref5.json" -o "$FURL" 2>"$T/$t.err" &
	SWP=$!
	ALL_PIDS="$ALL_PIDS $SWP"
	sleep 0.5
	kill -STOP "$REDIS_PID"; sleep 1.5; kill -CONT "$REDIS_PID"
	sleep 0.5
	kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; sleep 1
	start_redis "$FP" --appendonly yes --appendfsync always >/dev/null
	wait $SWP
	rc=$?
	# whatever the stop deadline left in the spool comes first at the next start
	$SW -r "$T/basic.pcap" $CATCHUP -s spool.dir="$T/spool5" -o "$T/ref5b.json" -o "$FURL" \
		2>>"$T/$t.err"
	cat "$T/ref5.json" "$T/ref5b.json" >"$T/ref5all.json"
	"$IT/redis_dump" 127.0.0.1 "$FP" "$PW" 0 stubwatch >"$T/r5.txt"
	left=$(ls "$T"/spool5/redis-*/*.seg 2>/dev/null | wc -l)
	if [ $rc -ne 0 ]; then bad $t "stubwatch exit $rc: $(tail -3 "$T/$t.err")"
	elif [ "$left" -ne 0 ]; then bad $t "$left spool segments left"
	elif $CHECK redis "$T/ref5all.json" "$T/r5.txt" --dups-ok; then ok $t
	else bad $t "events lost or out of order"; fi
	grep -c "spooling until it is back\|cannot connect" "$T/$t.err" >/dev/null ||
		echo "     (note: the sink never saw the fault)"
	stop_redis
else
	bad $t "redis-server did not start"
fi

# ---- 6. Kafka brokers down mid-replay, and down at stop --------------------
t=kafka_fault
if start_mock; then
	$SW -r "$T/mid.pcap" --log-dns $COMMON -s spool.dir="$T/spool6" -o "$T/ref6.json" \
		-o "kafka://$KB/sw" 2>"$T/$t.err" &
	SWP=$!
	ALL_PIDS="$ALL_PIDS $SWP"
	sleep 0.2
	mock_cmd down; sleep 1.5; mock_cmd up
	wait $SWP
	rc=$?
	# brokers down for a whole (small) replay: the stop deadline purges,
	# spools, and the next start delivers
	mock_cmd down
	$SW -r "$T/small.pcap" --log-dns -s output.stop_deadline=1s -s spool.dir="$T/spool6" \
		-o "$T/ref6b.json" -o "kafka://$KB/sw" 2>>"$T/$t.err"
	rc2=$?
	mock_cmd up
	$SW -r "$T/basic.pcap" $CATCHUP -s spool.dir="$T/spool6" -o "$T/ref6c.json" \
		-o "kafka://$KB/sw" 2>>"$T/$t.err"
	cat "$T/ref6.json" "$T/ref6b.json" "$T/ref6c.json" >"$T/ref6all.json"
	"$IT/kafka_mock" consume "$KB" sw >"$T/k6.txt"
	left=$(ls "$T"/spool6/kafka-*/*.seg 2>/dev/null | wc -l)
	if [ $rc -ne 0 ] || [ $rc2 -ne 0 ]; then bad $t "stubwatch exit $rc/$rc2: $(tail -3 "$T/$t.err")"
	elif ! $CHECK kafka "$T/ref6all.json" "$T/k6.txt" --dups-ok; then bad $t "events lost or out of order"
	elif [ "$left" -ne 0 ]; then bad $t "$left spool segments left"
	else ok $t; fi
	stop_mock
else
	bad $t "mock cluster did not start"
fi

# ---- 7. SIGTERM mid-replay: what the file got, Redis got ------------------
t=sigterm_flush
if start_redis "$RP"; then
	redis-cli -p "$RP" -a "$PW" --no-auth-warning -n 4 flushdb >/dev/null
	$SW -r "$T/big.pcap" --log-dns $COMMON -s spool.dir="$T/spool7" -o "$T/ref7.json" \
		-o "redis://:$PW@127.0.0.1:$RP/4" 2>"$T/$t.err" &
	SWP=$!
	ALL_PIDS="$ALL_PIDS $SWP"
	sleep 0.7
	kill -TERM $SWP
	wait $SWP
	rc=$?
	"$IT/redis_dump" 127.0.0.1 "$RP" "$PW" 4 stubwatch >"$T/r7.txt"
	if [ $rc -ne 0 ]; then bad $t "exit $rc"
	elif $CHECK redis "$T/ref7.json" "$T/r7.txt"; then ok $t
	else bad $t "Redis differs from the file after SIGTERM"; fi
	stop_redis
else
	bad $t "redis-server did not start"
fi

# ---- 8. a Unix socket with AUTH and a db, and PUBLISH on <prefix>:live ------
# Every event the file got is published once, and the streams are in db 5.
t=unix_publish
US="$T/redis-unix"
mkdir -p "$US"
redis-server --port 0 --unixsocket "$US/redis.sock" --requirepass "$PW" --dir "$US" \
	--save '' --appendonly no --daemonize no >"$US/log" 2>&1 &
UPID=$!
ALL_PIDS="$ALL_PIDS $UPID"
up=0
for _ in $(seq 100); do
	redis-cli -s "$US/redis.sock" -a "$PW" --no-auth-warning ping 2>/dev/null | grep -q PONG && { up=1; break; }
	sleep 0.05
done
if [ $up -eq 1 ]; then
	redis-cli -s "$US/redis.sock" -a "$PW" --no-auth-warning subscribe stubwatch:live \
		>"$T/sub8.txt" 2>/dev/null &
	SUBP=$!
	ALL_PIDS="$ALL_PIDS $SUBP"
	sleep 0.3
	if $SW -r "$T/basic.pcap" --log-dns $COMMON -s output.redis.publish=yes \
		-s spool.dir="$T/spool8" -o "$T/ref8.json" \
		-o "unix://:$PW@$US/redis.sock?db=5" 2>"$T/$t.err"; then
		sleep 0.5
		kill $SUBP 2>/dev/null
		want=$(wc -l <"$T/ref8.json")
		got=$(grep -c '^{' "$T/sub8.txt")
		keys=$(redis-cli -s "$US/redis.sock" -a "$PW" --no-auth-warning -n 5 exists \
			stubwatch:dns stubwatch:stats stubwatch:devices)
		if [ "$got" -eq "$want" ] && [ "$want" -gt 0 ] && [ "$keys" -eq 3 ]; then ok $t
		else bad $t "published $got of $want events; $keys of 3 keys in db 5"; fi
	else
		bad $t "stubwatch failed: $(tail -3 "$T/$t.err")"
	fi
else
	bad $t "redis-server on a Unix socket did not start: $(cat "$US/log")"
fi
kill -9 $UPID 2>/dev/null

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
