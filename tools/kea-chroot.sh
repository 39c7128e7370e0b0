#!/bin/sh
# Debian chroots with another Kea, to build and test kea-bsdp against it
# (root). trixie has Kea 2.6.3, sid Kea 3.0.4; bookworm (2.2.0) is the host.
#
#   tools/kea-chroot.sh create RELEASE          create or refresh the chroot
#   tools/kea-chroot.sh run RELEASE CMD [ARG..] copy this tree to
#       /usr/src/kea-bsdp in the chroot and run CMD there (via sh -c if it
#       is a single word with spaces, e.g. 'make -j2 all && make unit')
#   tools/kea-chroot.sh path RELEASE            print the chroot's directory
#
# Pristine bases, for tests that need a clean or fresh system each time
# (test/package/check-deb.sh):
#   tools/kea-chroot.sh base RELEASE            make or refresh (older than a
#       day: upgraded) RELEASE.base.tar, a bare debootstrap --variant=minbase
#       with its package lists, and print its path
#   tools/kea-chroot.sh unpack RELEASE DIR      unpack that base into DIR
#       (new or empty)
#   tools/kea-chroot.sh exec DIR CMD [ARG..]    run CMD chrooted in DIR as
#       `run` does; apt's downloads are kept in RELEASE.archives (bind
#       mounted), so a fresh tree does not fetch them again
#
# Environment: KEA_CHROOT_DIR (default /var/cache/kea-bsdp/chroots; each
# release in a subdirectory), KEA_CHROOT_MIRROR (default deb.debian.org, the
# mirror the host's apt uses). A chroot is reused while its stamp holds the
# current package list's hash; older than a day, it is upgraded first.
set -eu

CACHE=${KEA_CHROOT_DIR:-/var/cache/kea-bsdp/chroots}
MIRROR=${KEA_CHROOT_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
DEST=/usr/src/kea-bsdp
STAMP=.kea-bsdp-stamp
# What the build and the tests need, as on the host; a release that lacks a
# package (sid has no isc-dhcp-server) goes without it.
PKGS=$(sh "$HERE/install-deps.sh" --list test)

die() { echo "kea-chroot: $*" >&2; exit 1; }
say() { echo "kea-chroot: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ $# -ge 2 ] || die "usage: $0 create|run|path|base|unpack RELEASE [CMD...] | exec DIR CMD..."
action=$1 release=$2
shift 2
archives=""
if [ "$action" = exec ]; then
	# DIR was made by `unpack`, which leaves the release's name in it.
	root=$(cd "$release" && pwd)
	release=$(cat "$root/.kea-bsdp-release" 2>/dev/null) || die "$root: not made by unpack"
	archives=$CACHE/$release.archives
	mkdir -p "$archives"
fi
case $release in
	*[!a-z0-9-]* | "") die "bad release name '$release'" ;;
esac
[ "$action" = exec ] || root=$CACHE/$release

# Runs "$@" chrooted in $root with /proc, /sys, /dev and /run mounted, in
# private mount and PID namespaces: whatever it mounts, and every process it
# starts, goes when the command ends or this script is stopped (the trap
# below kills unshare, which blocks INT and TERM; --kill-child then kills its
# child, and the PID namespace's end everything else), and no mount shows on
# the host. /run is the host's so that `ip netns` works inside (namespaces
# made there show on the host too).
in_root() {
	KEA_CHROOT_ARCHIVES=$archives unshare -m -p -f --kill-child --propagation private -- sh -eu -c '
		r=$1; shift
		mount --bind "$r" "$r"    # `ip netns exec` needs / to be a mount
		mount -t proc proc "$r/proc"
		for d in sys dev run; do mount --rbind "/$d" "$r/$d"; done
		[ -z "$KEA_CHROOT_ARCHIVES" ] ||
			mount --bind "$KEA_CHROOT_ARCHIVES" "$r/var/cache/apt/archives"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$root" "$@" &
	child=$!
	wait "$child"
}
child=""
trap '[ -z "$child" ] || { kill -KILL "$child"; wait "$child" || :; } 2>/dev/null; exit 130' INT TERM

pkg_hash() {
	echo "$PKGS" | sha256sum | cut -d' ' -f1
}

# Installs from PKGS what the release has, and says what it lacks.
install_pkgs() {
	in_root apt-get update -q >/dev/null
	have=$(in_root sh -c 'for p; do apt-cache policy "$p" 2>/dev/null |
		grep -q "Candidate: [^(]" && echo "$p"; done; true' x $PKGS)
	lack=""
	for p in $PKGS; do
		echo "$have" | grep -qx "$p" || lack="$lack $p"
	done
	[ -z "$lack" ] || say "$release lacks:$lack (skipped)"
	in_root apt-get install -y -q --no-install-recommends $have >/dev/null
	in_root apt-get -y -q upgrade >/dev/null
	in_root apt-get clean
}

# debootstrap RELEASE into $1 (removed first), set up for our use.
debootstrap_into() {
	if [ ! -x /usr/sbin/debootstrap ] || [ ! -e "$KEYRING" ]; then
		say "installing debootstrap"    # a fresh machine (CI) has neither
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends debootstrap debian-archive-keyring; } >/dev/null ||
			die "debootstrap is missing and could not be installed"
	fi
	[ -e "/usr/share/debootstrap/scripts/$release" ] || die "debootstrap does not know '$release'"
	tmp=$1
	rm -rf "$tmp"
	mkdir -p "$CACHE"
	say "debootstrap $release into $tmp"
	debootstrap --variant=minbase --keyring="$KEYRING" "$release" "$tmp" "$MIRROR" \
		>"$CACHE/$release.debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/$release.debootstrap.log (and $tmp/debootstrap/debootstrap.log)"
	# Packages start no services in here; sid's Release may be past its
	# Valid-Until between uploads.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 0755 "$tmp/usr/sbin/policy-rc.d"
	echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99kea-bsdp"
	echo "deb $MIRROR $release main" >"$tmp/etc/apt/sources.list"
	# deb-src too: `apt-get build-dep ./` reads only the local debian/control,
	# but some apt versions refuse build-dep without any source list.
	echo "deb-src $MIRROR $release main" >>"$tmp/etc/apt/sources.list"
}

# A new chroot starts from the release's base tarball (made first if
# missing), which make check-deb unpacks too: one debootstrap per release.
bootstrap() {
	(exec 8>"$CACHE/$release.base.lock" && flock 8 && base_tar >/dev/null) ||
		die "no base for $release"
	rm -rf "$root.new" && mkdir -p "$root.new"
	tar -xf "$CACHE/$release.base.tar" -C "$root.new" || die "cannot unpack the base of $release"
	mv "$root.new" "$root"
}

# The pristine base: a tarball, so every user unpacks its own clean copy.
# Older than a day, it is unpacked, upgraded and packed again.
base_tar() {
	tar=$CACHE/$release.base.tar
	if [ ! -f "$tar" ]; then
		debootstrap_into "$CACHE/$release.base"
		root=$CACHE/$release.base
		in_root apt-get update -q >/dev/null
	elif [ -n "$(find "$tar" -mmin +1440)" ]; then
		say "refreshing $tar"
		root=$CACHE/$release.base
		rm -rf "$root" && mkdir -p "$root" && tar -xf "$tar" -C "$root"
		in_root apt-get update -q >/dev/null
		in_root apt-get -y -q upgrade >/dev/null
	else
		echo "$tar"
		return
	fi
	in_root apt-get clean
	tar -cf "$tar.new" -C "$root" . && mv "$tar.new" "$tar"
	rm -rf "$root"
	echo "$tar"
}

# Brings the chroot to the current package list, at most a day old.
ensure() {
	[ -d "$root" ] || bootstrap
	want=$(pkg_hash)
	if [ "$(cat "$root/$STAMP" 2>/dev/null)" != "$want" ] ||
		[ -n "$(find "$root/$STAMP" -mmin +1440)" ]; then
		say "installing/upgrading packages in $release"
		install_pkgs
		echo "$want" >"$root/$STAMP"
	fi
}

# The tree as git sees it (tracked and untracked, not ignored), so build
# outputs stay out; the chroot's own build/ is kept for incremental builds.
copy_tree() {
	mkdir -p "$root$DEST"
	find "$root$DEST" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
	if [ -d "$SRC/.git" ] || [ -f "$SRC/.git" ]; then
		(cd "$SRC" && git ls-files -z -c -o --exclude-standard |
			xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' x |
			tar --null -T - -cf -) | tar -xf - -C "$root$DEST"
	else
		(cd "$SRC" && tar --exclude=./build -cf - .) | tar -xf - -C "$root$DEST"
	fi
}

mkdir -p "$CACHE"
# One user of a release's chroot at a time (creation, upgrade or a run), and
# one maker of its base; an unpacked tree is its caller's alone.
case $action in
base | unpack) exec 9>"$CACHE/$release.base.lock" && flock 9 ;;
exec) ;;
*) exec 9>"$CACHE/$release.lock" && flock 9 ;;
esac

case $action in
create)
	ensure ;;
path)
	echo "$root" ;;
base)
	base_tar ;;
unpack)
	[ $# -eq 1 ] || die "unpack: usage: unpack RELEASE DIR"
	tar=$(base_tar)
	mkdir -p "$1"
	[ -z "$(ls -A "$1")" ] || die "unpack: $1 is not empty"
	tar -xf "$tar" -C "$1"
	echo "$release" >"$1/.kea-bsdp-release" ;;
exec)
	[ $# -ge 1 ] || die "exec: no command"
	in_root "$@" ;;
run)
	[ $# -ge 1 ] || die "run: no command"
	ensure
	copy_tree
	if [ $# -eq 1 ]; then
		in_root sh -ec "cd $DEST && $1"
	else
		in_root sh -ec 'cd "$0" && exec "$@"' "$DEST" "$@"
	fi ;;
*)
	die "unknown action '$action'" ;;
esac
