#!/bin/sh
# Installs the Debian packages kea-bsdp needs, only those missing, so a
# fresh machine needs nothing but this repository.
#
# usage: install-deps.sh [build|test]    install the set (default: test)
#        install-deps.sh --list [build|test]    print the set (default: test)
#
# build: what `make`, `make all` and `make install` need, and nothing more
#        (`make deps`): a production host gets no test tool.
# test:  build plus the test stack of `make check` and `make demo` (clang,
#        tshark, the iPXE and TFTP/HTTP tools, a second DHCP server...).
# test/deps_test.py checks with apt's simulation that the build set pulls
# no test-only package onto a fresh machine.
set -eu
# kea-dhcp4-server: the server the library is built for; `make install`
# installs into its hooks folder, its AppArmor profile and its _kea user's
# state folder. libssl-dev: Kea 3.0's dhcpsrv/cfgmgr.h, which the library
# includes, includes OpenSSL's headers; kea-dev lacks it. python3-sphinx and
# python3-myst-parser: the man pages and the HTML manual (make man, make
# html; make install installs the man pages); groff-base: each man page is
# checked set 80 columns wide, as man and lintian read it.
BUILD_PKGS="build-essential pkg-config kea-dev libboost-dev libplist-dev
kea-dhcp4-server libssl-dev libpq-dev python3-sphinx python3-myst-parser groff-base"
# The whole list for the tests, in the order tools/kea-chroot.sh has always
# hashed (a new order would reinstall every chroot); it holds BUILD_PKGS.
TEST_PKGS="build-essential pkg-config clang libclang-rt-dev kea-dev libboost-dev
libplist-dev libplist-utils check kea-dhcp4-server kea-admin kea-ctrl-agent iproute2
tshark socat tftpd-hpa tftp-hpa ipxe curl isc-dhcp-server
busybox libssl-dev libpq-dev postgresql jq python3-sphinx python3-myst-parser groff-base"

set_of() {
	case $1 in
	build) echo $BUILD_PKGS ;;
	test) echo $TEST_PKGS ;;
	*) echo "usage: $0 [--list] [build|test]" >&2; exit 2 ;;
	esac
}
for p in $BUILD_PKGS; do
	case " $(echo $TEST_PKGS) " in
	*" $p "*) ;;
	*) echo "install-deps: $p is in the build set but not in the test set" >&2; exit 1 ;;
	esac
done
# --list: print the set only (tools/kea-chroot.sh installs the test set in
# its chroots).
if [ "${1:-}" = --list ]; then
	set_of "${2:-test}"
	exit 0
fi
[ $# -le 1 ] || { set_of usage; }
PKGS=$(set_of "${1:-test}")
# Not apparmor: installing it loads Debian's kea-dhcp4 profile where the
# kernel has AppArmor, and the tests' kea-dhcp4 could no longer read /tmp.
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# isc-dhcp-server serves the bench's ISC dhcpd row and test_migrate.py's
# side-by-side tests, and Debian sid has none: a release without it goes
# without (the bench says n/a, test_migrate.py prints SKIP).
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
