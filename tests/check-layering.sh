#!/bin/sh
# A file includes only from its own layer or lower ones (STYLE.md, "Layout").
# Each line: layer, then the layers it may include besides itself.
set -u
rules="common:
capture:common
decode:common
dns:common
dhcp:common
tls:common
enrich:common
state:common dns
output:common dns state
detect:common capture decode dns dhcp tls enrich state output
web:common output"
bad=0
echo "$rules" | while IFS=: read -r layer allowed; do
	for f in sensor/"$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		grep -o '#include "[a-z]*/' "$f" | sed 's/#include "//; s/\///' | sort -u |
		while read -r inc; do
			ok=0
			[ "$inc" = "$layer" ] && ok=1
			for a in $allowed; do [ "$inc" = "$a" ] && ok=1; done
			if [ $ok -eq 0 ]; then
				echo "layering: $f includes $inc/ (allowed: $layer $allowed)"
				echo x >> "${TMPDIR:-/tmp}/sw-layering.$$"
			fi
		done
	done
done
if [ -e "${TMPDIR:-/tmp}/sw-layering.$$" ]; then
	rm -f "${TMPDIR:-/tmp}/sw-layering.$$"
	exit 1
fi
echo "layering: ok"
