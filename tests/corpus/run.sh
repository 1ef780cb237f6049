#!/bin/sh
# Conformance run over ../shared/corpus, with the sanitizer build so a crash
# or an over-read on third-party captures fails loudly.
set -eu
B=${B:-build}
make --no-print-directory SANITIZE=address,undefined build-san/stubwatch >/dev/null
exec python3 tests/corpus/run.py build-san/stubwatch
