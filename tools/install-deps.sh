#!/bin/sh
# Installs the Debian 12 packages kea-bsdp builds and tests with, only those
# missing, so a fresh machine needs nothing but this repository.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-dev kea-dev libboost-dev
libplist-dev libplist-utils check kea-dhcp4-server kea-admin kea-ctrl-agent iproute2
tshark socat tftpd-hpa tftp-hpa ipxe curl isc-dhcp-server
busybox libssl-dev libpq-dev postgresql"
# libssl-dev: Kea 3.0's dhcpsrv/cfgmgr.h (the shim test adds host
# reservations through it) includes OpenSSL's headers; kea-dev lacks it.
# --list: print the list only (tools/kea-chroot.sh installs it in its chroots).
if [ "${1:-}" = --list ]; then
	echo $PKGS
	exit 0
fi
# Not apparmor: installing it loads Debian's kea-dhcp4 profile where the
# kernel has AppArmor, and the tests' kea-dhcp4 could no longer read /tmp.
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# isc-dhcp-server serves only the bench's ISC dhcpd row and Debian sid has
# none: a release without it goes without (the bench says n/a).
OPTIONAL=isc-dhcp-server
lacks() { ! apt-cache policy "$1" 2>/dev/null | grep -q "Candidate: [^(]"; }
skip_lacking() {
	for p; do
		if [ "$p" = "$OPTIONAL" ] && lacks "$p"; then
			echo "install-deps: this release has no $p (skipped)" >&2
		else
			printf ' %s' "$p"
		fi
	done
}
need=$missing
missing=$(skip_lacking $need 2>/dev/null)
[ -z "$missing" ] && { skip_lacking $need >/dev/null; exit 0; }
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
missing=$(skip_lacking $need)
[ -z "$missing" ] && exit 0
apt-get install -y -q --no-install-recommends $missing >/dev/null
