#!/bin/sh
# The build's own contracts, checked with make's dry runs in a scratch tree:
# a sanitizer build handed a B of an existing plain tree (as check-fuzz's
# sub-make inherits `make B=out check`'s) compiles its own objects instead
# of linking the plain ones, and an object is rebuilt when its flags change.
set -u
T=$(mktemp -d /tmp/stubwatch-build-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
# The checks run their own make: nothing of a calling make may leak in.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }
fail=0
obj=obj/sensor/common/err.o
if ! mk B="$T/out" "$T/out/$obj" >"$T/log" 2>&1; then
	echo "build: cannot build $obj:"; cat "$T/log"
	exit 1
fi
if ! mk -n B="$T/out" SANITIZE=address,undefined fuzz-replay 2>&1 |
	grep -q -- '-fsanitize=address,undefined.* -c sensor/common/err.c'; then
	echo "build: a sanitizer build with B=$T/out would link its plain objects"
	fail=1
fi
if mk -n B="$T/out" "$T/out/$obj" 2>&1 | grep -q -- ' -c sensor/common/err.c'; then
	echo "build: $obj is rebuilt although nothing changed"
	fail=1
fi
if ! mk -n B="$T/out" CFLAGS=-DSW_FLAGS_CHANGED "$T/out/$obj" 2>&1 |
	grep -q -- '-DSW_FLAGS_CHANGED.* -c sensor/common/err.c'; then
	echo "build: $obj is not rebuilt when CFLAGS change"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "build: ok"
exit "$fail"
