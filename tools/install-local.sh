#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The system half of `make install` / `make uninstall`: the AppArmor local
# override for Debian's kea-dhcp4 profile and the state directory.
#
# usage: install-local.sh install|uninstall
# environment (from the Makefile): DESTDIR SETS_DIR STATE_DIR KEA_USER APPARMOR_DIR
#   HOOKS_DIR
#
# The override is a block between BEGIN/END markers, so an operator's own
# rules in the same file survive install, reinstall and uninstall.
set -eu
cd "$(dirname "$0")/.."
ACTION=${1:-}
DESTDIR=${DESTDIR:-}
SETS_DIR=${SETS_DIR:-/srv/netboot/sets}
STATE_DIR=${STATE_DIR:-/var/lib/kea}
KEA_USER=${KEA_USER:-_kea}
APPARMOR_DIR=${APPARMOR_DIR:-/etc/apparmor.d}
HOOKS_DIR=${HOOKS_DIR:-/usr/lib/x86_64-linux-gnu/kea/hooks}

PROFILE=$DESTDIR$APPARMOR_DIR/usr.sbin.kea-dhcp4
LOCAL=$DESTDIR$APPARMOR_DIR/local/usr.sbin.kea-dhcp4
BEGIN="# BEGIN kea-bsdp (make install; make uninstall removes this block)"
END="# END kea-bsdp"
INCLUDE="include if exists <local/usr.sbin.kea-dhcp4>"
INCLUDE_MARK="# kea-bsdp: the packaged profile does not include its local override"

for d in "$SETS_DIR" "$STATE_DIR" "$HOOKS_DIR"; do
	case $d in
	/*[!A-Za-z0-9._/-]* | [!/]*)
		# Anything else would need AppArmor globbing or quoting rules.
		echo "install-local: $d: use an absolute path of [A-Za-z0-9._/-]" >&2
		exit 1 ;;
	esac
done

# Prints FILE without our block (and without the include line we added).
strip_ours() {
	awk -v b="$BEGIN" -v e="$END" -v m="$INCLUDE_MARK" -v inc="$INCLUDE" '
		$0 == b { skip = 1; next }
		skip && $0 == e { skip = 0; next }
		skip { next }
		$0 == "  " m { drop = 1; next }
		drop && $0 == "  " inc { drop = 0; next }
		{ drop = 0; print }' "$1"
}

# FILE's new text is written to FILE$NEW first, then `replace FILE` moves it
# in only when the bytes differ (keeps mtime otherwise) and sets CHANGED.
# replace never reads a pipe: each command of a pipeline runs in a subshell,
# where CHANGED=1 would be lost and the profile never reloaded.
NEW=.kea-bsdp.$$
replace() {
	if [ -f "$1" ] && cmp -s "$1$NEW" "$1"; then
		rm -f "$1$NEW"
	else
		[ -f "$1" ] && chmod --reference="$1" "$1$NEW"
		mv -f "$1$NEW" "$1"
		CHANGED=1
	fi
}

reload_profile() {
	# Only a real install touches the running kernel, as dh_apparmor does.
	[ -z "$DESTDIR" ] && [ "$CHANGED" = 1 ] && [ -f "$PROFILE" ] || return 0
	if command -v aa-enabled >/dev/null && aa-enabled --quiet 2>/dev/null; then
		apparmor_parser -r -T -W "$PROFILE" ||
			echo "install-local: apparmor_parser could not reload $PROFILE" >&2
	fi
}

CHANGED=0
trap 'rm -f "$LOCAL$NEW" "$PROFILE$NEW"' EXIT
case $ACTION in
install)
	mkdir -p "$(dirname "$LOCAL")"
	[ -f "$LOCAL" ] || : >"$LOCAL"
	{
		strip_ours "$LOCAL"
		echo "$BEGIN"
		sed -e "s|/srv/netboot/sets/|$SETS_DIR/|g" -e "s|/var/lib/kea/|$STATE_DIR/|g" \
			-e "s|/usr/lib/x86_64-linux-gnu/kea/hooks/|$HOOKS_DIR/|g" \
			examples/apparmor/usr.sbin.kea-dhcp4
		echo "$END"
	} >"$LOCAL$NEW"
	replace "$LOCAL"
	echo "install-local: AppArmor rules for $SETS_DIR and $STATE_DIR in $LOCAL"
	# Debian 12's profile (kea 2.2.0-6) never includes local/: add the line
	# before the profile's closing brace, marked so uninstall can remove it.
	if [ -f "$PROFILE" ] && ! grep -q '^[[:space:]]*#\{0,1\}include.*<local/usr.sbin.kea-dhcp4>' "$PROFILE"; then
		awk -v m="$INCLUDE_MARK" -v inc="$INCLUDE" '
			{ line[NR] = $0 }
			$0 ~ /^}[[:space:]]*$/ { last = NR }
			END {
				for (i = 1; i <= NR; i++) {
					if (i == last) { print "  " m; print "  " inc }
					print line[i]
				}
			}' "$PROFILE" >"$PROFILE$NEW"
		replace "$PROFILE"
		echo "install-local: added '$INCLUDE' to $PROFILE"
	fi
	reload_profile

	mkdir -p "$DESTDIR$STATE_DIR"
	# Staged installs (packages) leave ownership to the package scripts.
	if [ -z "$DESTDIR" ] && getent passwd "$KEA_USER" >/dev/null; then
		chown "$KEA_USER:" "$DESTDIR$STATE_DIR"
	elif [ -z "$DESTDIR" ]; then
		echo "install-local: no user $KEA_USER; $STATE_DIR left owned by $(id -un)" >&2
	fi
	;;
uninstall)
	if [ -f "$LOCAL" ]; then
		strip_ours "$LOCAL" >"$LOCAL$NEW"
		replace "$LOCAL"
	fi
	if [ -f "$PROFILE" ] && grep -qxF "  $INCLUDE_MARK" "$PROFILE"; then
		strip_ours "$PROFILE" >"$PROFILE$NEW"
		replace "$PROFILE"
	fi
	reload_profile
	;;
*)
	echo "usage: install-local.sh install|uninstall" >&2
	exit 2 ;;
esac
