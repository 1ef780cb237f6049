#!/bin/sh
# make bench: see contrib/bench/bench.py.
set -eu
exec python3 contrib/bench/bench.py
