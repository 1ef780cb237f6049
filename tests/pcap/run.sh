#!/bin/sh
# pcap regression cases; see tests/pcap/run.py.
set -eu
exec python3 tests/pcap/run.py "$@"
