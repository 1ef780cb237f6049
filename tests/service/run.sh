#!/bin/sh
# The sensor as a service: start-up checks and outputs (startup.py), a live
# run under run.user in network namespaces (live.py), a live run with two
# workers there too (workers.py), the man page against
# --help (man.py), and the Debian package with its systemd unit
# (package.py, which builds the package: it runs alongside the others to
# keep the suite's time down). Each prints "N passed, N failed"; this
# script fails when any of them fails.
set -u
B=${B:-build}
export B
HERE=$(dirname "$0")
LOG=$(mktemp /tmp/stubwatch-package-XXXXXX)
python3 "$HERE/package.py" >"$LOG" 2>&1 &
PKG=$!
rc=0
for t in startup.py live.py workers.py man.py; do
	echo "== service: $t"
	python3 "$HERE/$t" || rc=1
done
wait $PKG || rc=1
echo "== service: package.py"
cat "$LOG"
rm -f "$LOG"
exit $rc
