#!/bin/sh
# Installs the Debian packages stubwatch builds, tests, packages and
# benchmarks with, when any is missing (iproute2, systemd, debhelper, lintian
# and groff-base: the service tests, the package and its unit, the man page;
# prometheus, chromium and Node.js: the web and ECS tests), then the npm
# packages those tests pin (tests/web, tests/ecs: `npm ci`) when they are not
# installed yet. Uses apt-get directly as root, through sudo otherwise.
set -eu
cd "$(dirname "$0")/.."

# The pinned npm packages: playwright-core (tests/web/package-lock.json) and
# the ECS definitions (tests/ecs/package-lock.json).
npm_deps() {
	if [ ! -d tests/web/node_modules/playwright-core ]; then
		echo "deps: npm ci in tests/web"
		npm ci --prefix tests/web --ignore-scripts --no-audit --no-fund
	fi
	if [ ! -f tests/ecs/node_modules/@elastic/ecs/package.json ]; then
		echo "deps: npm ci in tests/ecs"
		npm ci --prefix tests/ecs --ignore-scripts --no-audit --no-fund
	fi
}

PKGS="build-essential pkg-config clang libpcap-dev libndpi-dev libmaxminddb-dev
libhiredis-dev librdkafka-dev libjansson-dev libmicrohttpd-dev libpsl-dev publicsuffix
nettle-dev libcmocka-dev redis-server ieee-data
libmaxmind-db-writer-perl python3 nodejs npm
tshark prometheus chromium
iproute2 systemd debhelper dpkg-dev lintian groff-base"

missing=""
for p in $PKGS; do
	# A node and npm already on the PATH (another packaging, e.g.
	# NodeSource's nodejs that bundles npm and conflicts with Debian's) are
	# kept: the commands are what matters.
	if { [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; } ||
	   { [ "$p" = npm ] && command -v npm >/dev/null 2>&1; }; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
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
