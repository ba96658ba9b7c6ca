#!/usr/bin/env bash
# ensure-packages.sh [--build] PKG...: install the Debian packages of the list that are missing.
# Used by tests/run and perf/run so that both work on a fresh Debian 12 machine as root.
#   --build  adds what the release build needs: the library (with its USDT probes), its tests
#            and the benchmarks with their in-process peers (oneTBB, GCC's OpenMP, liburcu), so
#            tests/run builds alone.
set -euo pipefail
pkgs=()
if [ "${1:-}" = --build ]; then
  shift
  pkgs=(cmake make gcc g++ pkg-config liburing-dev libnuma-dev libcmocka-dev liburcu-dev libtbb-dev
    systemtap-sdt-dev)
fi
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-packages: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
# Another apt may be running (a second checkout, unattended upgrades): wait for its lock.
APT=(apt-get -o DPkg::Lock::Timeout=600)
$SUDO "${APT[@]}" update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
