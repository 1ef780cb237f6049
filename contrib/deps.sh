#!/bin/sh
# Installs the Debian packages stubwatch builds, tests, packages and
# benchmarks with, when any is missing (iproute2, systemd, debhelper, lintian
# and groff-base: the service tests, the package and its unit, the man page;
# prometheus, chromium and Node.js: the web tests), then the web tests' pinned
# npm package.
# Uses apt-get directly as root, through sudo otherwise.
set -eu

PKGS="build-essential pkg-config clang libpcap-dev libndpi-dev libmaxminddb-dev
libhiredis-dev librdkafka-dev libjansson-dev libmicrohttpd-dev libcmocka-dev redis-server ieee-data
libmaxmind-db-writer-perl python3
tshark prometheus chromium
iproute2 systemd debhelper dpkg-dev lintian groff-base"
# The browser tests run on Node.js; a node and npm already on the PATH (from
# another packaging) are kept rather than replaced by Debian's.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The browser tests' npm package, pinned in tests/web/package-lock.json.
npm_deps() {
	web="$(dirname "$0")/../tests/web"
	[ -d "$web/node_modules/playwright-core" ] && return 0
	echo "deps: npm ci in tests/web"
	npm ci --prefix "$web" --no-audit --no-fund
}
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	npm_deps
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing:$missing; run as root or install sudo" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
npm_deps
