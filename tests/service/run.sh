#!/bin/sh
# The sensor as a service: start-up checks and outputs (startup.py), a live
# run under run.user in network namespaces (live.py), the man page against
# --help (man.py). Each prints "N passed, N failed"; this script fails when
# any of them fails.
set -u
B=${B:-build}
export B
HERE=$(dirname "$0")
rc=0
for t in startup.py live.py man.py; do
	echo "== service: $t"
	python3 "$HERE/$t" || rc=1
done
exit $rc
