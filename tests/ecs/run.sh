#!/bin/sh
# ECS conformance (tests/ecs/check.js): every event of the pcap regression
# cases (the outputs check-pcap leaves in $B/pcap-cases) and of the demo
# capture replayed with --log-dns, against the pinned ECS field definitions;
# then dashboards/elastic (tests/ecs/dashboards.js) against the fields seen.
# First the checker itself must reject tests/ecs/bad-events.json with every
# problem planted there.
set -eu
B=${B:-build}
if ! command -v node >/dev/null 2>&1; then
	echo "ecs: node is missing (Debian package nodejs; make deps)" >&2
	exit 1
fi
if [ ! -f tests/ecs/node_modules/@elastic/ecs/package.json ]; then
	echo "ecs: the ECS definitions are not installed: run 'npm ci --prefix tests/ecs'" >&2
	exit 1
fi
mkdir -p "$B/ecs"

out=$(node tests/ecs/check.js tests/ecs/bad-events.json || true)
for want in "source.mac = \"a4:83:e7:50:00:08\" does not match" \
	"dns.id = 4660 is not of ECS type keyword" \
	"device.vlan is neither an ECS field nor under stubwatch" \
	"ecs.version is \"8.0.0\"" "event.kind = \"alarm\" is not an allowed value" \
	"event.type creation is not one ECS expects" "rule.reference is an array" \
	"network.direction = \"sideways\" is not an expected value" \
	"stubwatch.evidence.window_s has types integer"; do
	case $out in
	*"$want"*) ;;
	*) echo "ecs: the checker missed a planted problem: $want" >&2; exit 1 ;;
	esac
done

"$B/swgen" --demo -o "$B/ecs/demo.pcap" --truth "$B/ecs/demo.truth.json"
rm -f "$B/ecs/demo.json"
"$B/stubwatch" -q -r "$B/ecs/demo.pcap" --log-dns -o "file:$B/ecs/demo.json"
cases=$(ls "$B"/pcap-cases/*.json 2>/dev/null | grep -v '\.truth\.json$' || true)
if [ -z "$cases" ]; then
	echo "ecs: no pcap case outputs in $B/pcap-cases (make check-pcap first)" >&2
	exit 1
fi
# shellcheck disable=SC2086
node tests/ecs/check.js --fields "$B/ecs/fields.json" $cases "$B/ecs/demo.json"
# What dashboards/elastic maps and names, against the fields just seen.
node tests/ecs/dashboards.js "$B/ecs/fields.json"
