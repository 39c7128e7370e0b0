#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The Debian package of kea-bsdp, the Debian way, on one release (root):
#  1. build: a clean chroot of RELEASE (debootstrap minbase, then only
#     build-essential and the Build-Depends, via `apt-get build-dep ./`)
#     runs `dpkg-buildpackage -us -uc -b`; then lintian of that release
#     (installed after the build) must report no error and no warning;
#  2. install: a fresh chroot of RELEASE gets the test's own tools
#     (iproute2, python3, apparmor for its parser) and the package's dependencies, is listed, then
#     `apt-get install ./kea-bsdp_*.deb`; its kea-dhcp4 is started with
#     the packaged library path and answers the packaged bsdpc's LIST and
#     SELECT in network namespaces (test/package/deb-smoke.sh);
#  3. purge: `apt-get purge kea-bsdp` must leave the tree as listed before
#     the install (paths, and contents under /etc, /var/lib/kea and /srv).
# Both trees are unpacked from tools/kea-chroot.sh's cached base and removed
# at the end, also on failure; the namespaces go with the smoke test.
#
# usage: check-deb.sh RELEASE      (bookworm, trixie or sid)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 RELEASE" >&2; exit 2; }
release=$1
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CHROOT="sh $SRC/tools/kea-chroot.sh"
say() { echo "check-deb[$release]: $*"; }
fail() { echo "check-deb[$release]: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/kea-bsdp-deb.$release.XXXXXX")
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	# Each chroot command ran in its own mount and PID namespaces: nothing
	# is mounted here and no process is left, so the trees just go.
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

# apt in a tree whose lists are as old as the base (at most a day): when the
# archive has moved on, fetch the lists again once and retry.
APT='apt_get() { apt-get "$@" || { apt-get update -q >/dev/null && apt-get "$@"; }; }'
export DEBIAN_FRONTEND=noninteractive

# ---- 1. build in a clean chroot --------------------------------------------
build=$work/build
$CHROOT unpack "$release" "$build" >/dev/null
mkdir -p "$build/usr/src/kea-bsdp"
(cd "$SRC" && git ls-files -z -c -o --exclude-standard |
	xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' x |
	tar --null -T - -cf -) | tar -xf - -C "$build/usr/src/kea-bsdp"
say "build: apt-get build-dep ./ && dpkg-buildpackage -us -uc -b"
$CHROOT exec "$build" sh -ec "$APT"'
	cd /usr/src/kea-bsdp
	apt_get install -y -q --no-install-recommends build-essential >/dev/null
	apt_get build-dep -y -q ./ >/dev/null
	dpkg-buildpackage -us -uc -b >/usr/src/build.log 2>&1 || { tail -40 /usr/src/build.log; exit 1; }
	grep "dh_gencontrol -- -V" /usr/src/build.log' || fail "build"
deb=$(cd "$build/usr/src" && ls kea-bsdp_*.deb)
say "built $deb: Depends: $(dpkg-deb -f "$build/usr/src/$deb" Depends)"

say "lintian (this release's), errors and warnings fail"
$CHROOT exec "$build" sh -ec "$APT"'
	apt_get install -y -q --no-install-recommends lintian >/dev/null
	cd /usr/src
	lintian --version
	lintian --info --display-info --pedantic --fail-on error,warning \
		kea-bsdp_*.changes' || fail "lintian"

# ---- 2. install into a fresh chroot and run it -----------------------------
fresh=$work/fresh
$CHROOT unpack "$release" "$fresh" >/dev/null
cp "$build/usr/src/$deb" "$SRC/test/package/deb-smoke.sh" "$fresh/tmp/"
rm -rf "$build"
say "fresh chroot: the test's tools, then what apt would pull for ./$deb"
$CHROOT exec "$fresh" sh -ec "$APT"'
	# apparmor: only its parser, to check the profile with our rules (the
	# kernel here need not have AppArmor: nothing is loaded).
	apt_get install -y -q --no-install-recommends iproute2 python3 apparmor >/dev/null
	# The dependencies first, exactly as apt resolves ./DEB (from the
	# archive), so the listing below is the state before the install.
	apt_get install -s -q --no-install-recommends /tmp/'"$deb"' >/tmp/plan
	grep "^Inst kea-dhcp4-server " /tmp/plan
	deps=$(sed -n "s/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p" /tmp/plan | grep -v "^kea-bsdp=")
	apt_get install -y -q --no-install-recommends $deps >/dev/null
	# What kea-dhcp4-server.service (StateDirectory=kea) makes when it
	# starts; no systemd runs in here.
	[ -d /var/lib/kea ] || install -d -o _kea -g _kea -m 0750 /var/lib/kea' || fail "dependencies"

# Paths (type, mode, owner) everywhere but the virtual and apt/dpkg state,
# and checksums where a package's scripts or the hook write.
snapshot() {
	(cd "$fresh" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \
		-o -path ./run -o -path ./tmp -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
		-o -path ./var/cache -o -path ./var/log \) -prune -o -printf '%y %m %u %p\n' |
		LC_ALL=C sort
	 for d in etc var/lib/kea srv; do
		[ -d "$fresh/$d" ] && (cd "$fresh" && find "./$d" -xdev -type f -exec md5sum {} + )
	 done | LC_ALL=C sort -k2) >"$1"
}
snapshot "$work/before"

say "apt-get install ./$deb, then kea-dhcp4 with the packaged hook and bsdpc"
$CHROOT exec "$fresh" sh -ec '
	cd /tmp
	apt-get install -y -q --no-install-recommends ./'"$deb"' >/tmp/install.log 2>&1 ||
		{ cat /tmp/install.log; exit 1; }
	sh /tmp/deb-smoke.sh' || fail "install and smoke test"

say "apt-get purge kea-bsdp"
$CHROOT exec "$fresh" sh -ec '
	# The smoke test'"'"'s sets are its own, not the package'"'"'s.
	rm -rf /srv/netboot
	apt-get purge -y -q kea-bsdp >/dev/null
	if dpkg-query -W -f="\${Status}" kea-bsdp 2>/dev/null | grep -qv not-installed; then
		echo "kea-bsdp is still known to dpkg"; exit 1
	fi' ||
	fail "purge"
snapshot "$work/after"
if ! diff -u "$work/before" "$work/after" >"$work/diff"; then
	cat "$work/diff" >&2
	fail "purge left the tree different from before the install (above)"
fi
say "OK: built, lintian clean, installed, answered LIST and SELECT, purged without a trace ($(($(date +%s) - start)) s)"
