#!/bin/sh
# Installs the Debian packages stubwatch builds, tests and benchmarks with,
# when any is missing (apt-get directly as root, through sudo otherwise),
# then the npm package the ECS check pins (tests/ecs, `npm ci`) when it is
# not installed yet.
set -eu
cd "$(dirname "$0")/.."

# The pinned ECS definitions (tests/ecs/package-lock.json).
npm_deps() {
	if [ ! -f tests/ecs/node_modules/@elastic/ecs/package.json ]; then
		echo "deps: npm ci in tests/ecs"
		npm ci --prefix tests/ecs --ignore-scripts --no-audit --no-fund
	fi
}

PKGS="build-essential pkg-config clang libpcap-dev libndpi-dev libmaxminddb-dev
libhiredis-dev librdkafka-dev libjansson-dev libpsl-dev publicsuffix nettle-dev
libcmocka-dev redis-server ieee-data
libmaxmind-db-writer-perl python3 nodejs npm
tshark"

missing=""
for p in $PKGS; do
	# A nodejs package that bundles npm (NodeSource's) conflicts with
	# Debian's npm: the npm command is what matters.
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
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
