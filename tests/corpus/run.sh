#!/bin/sh
# Conformance runs over ../shared/corpus: DNS counts against tshark under the
# sanitizer build (a crash or an over-read on third-party captures fails
# loudly), DNS fields against Suricata's and Zeek's published outputs, and
# the resolvers learnt from DHCP/DHCPv6/RA against tshark's.
set -eu
B=${B:-build}
make --no-print-directory SANITIZE=address,undefined build-san/stubwatch >/dev/null
rc=0
python3 tests/corpus/run.py build-san/stubwatch || rc=1
[ ! -f tests/corpus/fields.py ] || python3 tests/corpus/fields.py "$B/stubwatch" || rc=1
[ ! -f tests/corpus/dhcp_check.py ] || python3 tests/corpus/dhcp_check.py "$B/ctool/dhcp_learn" || rc=1
[ ! -f tests/corpus/tls_check.py ] || TLS_FACTS="$B/ctool/tls_facts" python3 tests/corpus/tls_check.py || rc=1
[ ! -f tests/corpus/encrypted_check.py ] || B="$B" python3 tests/corpus/encrypted_check.py || rc=1
[ ! -f tests/corpus/behaviour_check.py ] || python3 tests/corpus/behaviour_check.py "$B/stubwatch" || rc=1
[ ! -f tests/corpus/integrity_check.py ] || B="$B" python3 tests/corpus/integrity_check.py || rc=1
exit $rc
