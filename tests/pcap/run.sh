#!/bin/sh
# pcap regression cases (tests/pcap/run.py) and command-line / bad-input
# cases (tests/pcap/cli.py, tests/pcap/cli_hardening.py).
set -eu
python3 tests/pcap/run.py "$@"
python3 tests/pcap/cli.py
python3 tests/pcap/cli_hardening.py
