#!/bin/sh
# The layering check (STYLE.md, "Layout"): a file under sensor/<layer>/
# includes only from its own layer or from layers below it, and the layers'
# include graph has no circle.
#
# The order, lowest first; layers on one line are siblings, which include
# none of each other:
#
#   common                                    byte reader, table, config, log
#   capture decode dns dhcp tls enrich        libpcap; parsers; lookups
#   state                                     the tables of one engine
#   output                                    events to JSON; queue, sinks
#   detect web                                detections, rules, scorecard; HTTP, report
#   pipeline                                  the per-packet path that drives them
#
# sensor/main.c sits above them all. A folder under sensor/ that is not in
# the order fails the check until it is given a place. Circles between files
# of one layer are not checked here.
set -u
order="common
capture decode dns dhcp tls enrich
state
output
detect web
pipeline"

# rank LAYER: its line number in the order, or nothing when it has none.
rank() {
	echo "$order" | awk -v l="$1" '{ for (i = 1; i <= NF; i++) if ($i == l) print NR }'
}

fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for dir in sensor/*/; do
	layer=$(basename "$dir")
	r=$(rank "$layer")
	if [ -z "$r" ]; then
		echo "layering: sensor/$layer/ has no place in the order (tests/check-layering.sh)"
		fail=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f" | sort -u); do
			[ "$inc" = "$layer" ] && continue
			echo "$layer $inc" >> "$edges"
			ri=$(rank "$inc")
			if [ -z "$ri" ] || [ "$ri" -ge "$r" ]; then
				echo "layering: $f includes $inc/, which is not below $layer/"
				fail=1
			fi
		done
	done
done
# The order above rules circles out; tsort says so on the real graph too,
# should the order ever be edited into one.
if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.err"; then
	echo "layering: the layers include each other in a circle:"
	cat "$edges.err"
	fail=1
fi
rm -f "$edges.err"
[ $fail -eq 0 ] || exit 1
echo "layering: ok ($(echo "$order" | tr '\n' '<' | sed 's/<$//; s/</ < /g'))"
