#!/bin/sh
# pcap regression cases (tests/pcap/run.py) and command-line / bad-input
# cases (tests/pcap/cli.py).
set -eu
python3 tests/pcap/run.py "$@"
python3 tests/pcap/cli.py
