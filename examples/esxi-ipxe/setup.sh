#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Sets up the ESXi-on-Mac chain next to the NetBoot server of
# examples/netboot-server (see README.md here):
#
#   <sets>/ESXi.nbi/                  BootFileOnly NetBoot set whose booter is
#     NBImageInfo.plist               Debian's iPXE snponly.efi, with ChainURL
#     i386/snponly.efi                http://<server>/esxi/mboot.efi
#   <www>/esxi/mboot.efi              the ISO's efi/boot/bootx64.efi
#   <www>/esxi/boot.cfg               interactive installer for any other Mac
#   <www>/esxi/<name>/...             the ISO's files (kernel, modules)
#   <www>/esxi/01-<mac>/boot.cfg      per Mac: kickstart install
#   <www>/esxi/01-<mac>/ks.cfg        its kickstart (from ks.cfg here)
#
# usage: setup.sh --server IP --iso DIR [--sets DIR] [--www DIR] [--name NAME]
#                 [--index N] [--ipxe FILE] [MAC...]
#   --iso    the ESXi installer ISO, mounted or extracted (mount -o loop,ro)
#   --sets   kea's sets-directory (default /srv/netboot/sets)
#   --www    the HTTP server's document root (default /srv/netboot)
#   --name   folder for the ISO's files under <www>/esxi (default installer)
#   --index  NetBoot image index (default 4001)
#   --ipxe   iPXE booter (default /usr/lib/ipxe/snponly.efi, package ipxe)
# Running it again updates everything in place.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER="" ISO="" SETS=/srv/netboot/sets WWW=/srv/netboot NAME=installer INDEX=4001
IPXE=/usr/lib/ipxe/snponly.efi

die() { echo "esxi-ipxe: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--server) SERVER=$2; shift 2 ;;
	--iso) ISO=$2; shift 2 ;;
	--sets) SETS=$2; shift 2 ;;
	--www) WWW=$2; shift 2 ;;
	--name) NAME=$2; shift 2 ;;
	--index) INDEX=$2; shift 2 ;;
	--ipxe) IPXE=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see the usage at the top of $0)" ;;
	*) break ;;
	esac
done
# BSDP and the ESXi boot loader take addresses only: the firmware does no DNS.
echo "$SERVER" | grep -Eqx '([0-9]{1,3}\.){3}[0-9]{1,3}' || die "--server IPv4-ADDRESS is required"
[ -n "$ISO" ] || die "--iso DIR is required (the mounted ESXi installer ISO)"
echo "$NAME" | grep -Eqx '[A-Za-z0-9._-]+' || die "--name: letters, digits, . _ - only"
echo "$INDEX" | grep -Eqx '[0-9]{1,5}' && [ "$INDEX" -ge 1 ] && [ "$INDEX" -le 65535 ] ||
	die "--index: 1..65535"
[ -f "$IPXE" ] || die "$IPXE missing (apt-get install ipxe)"
[ -d "$SETS" ] || die "sets directory $SETS missing"

# The ISO's names are lower case when mounted with Rock Ridge/Joliet, upper
# case otherwise.
pick() {
	for f in "$@"; do [ -f "$ISO/$f" ] && { echo "$ISO/$f"; return; }; done
	die "$ISO: none of $* (is it an ESXi installer?)"
}
MBOOT=$(pick efi/boot/bootx64.efi EFI/BOOT/BOOTX64.EFI)
BOOTCFG=$(pick efi/boot/boot.cfg EFI/BOOT/BOOT.CFG boot.cfg BOOT.CFG)

URL=http://$SERVER/esxi
SET=$SETS/ESXi.nbi
ESXI=$WWW/esxi

# 1. The NetBoot set. Copied, not linked: the scanner refuses symlinks that
#    leave the set folder, and tftpd --secure could not follow them anyway.
mkdir -p "$SET/i386"
cp "$IPXE" "$SET/i386/snponly.efi"
cat >"$SET/NBImageInfo.plist" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Name</key><string>ESXi installer (iPXE)</string>
	<key>Description</key><string>iPXE snponly.efi, then ESXi mboot.efi over HTTP</string>
	<key>Index</key><integer>$INDEX</integer>
	<key>Type</key><string>BootFileOnly</string>
	<key>Kind</key><integer>1</integer>
	<key>IsInstall</key><true/>
	<key>IsEnabled</key><true/>
	<key>Architectures</key><array><string>i386</string></array>
	<key>BootFile</key><string>snponly.efi</string>
	<key>ChainURL</key><string>$URL/mboot.efi</string>
</dict>
</plist>
EOF

# 2. The installer over HTTP: mboot.efi beside the per-Mac folders, the
#    ISO's files in their own folder that boot.cfg's prefix= points at.
mkdir -p "$ESXI/$NAME"
cp -R "$ISO/." "$ESXI/$NAME/"
chmod -R u+w,a+rX "$ESXI/$NAME"
cp "$MBOOT" "$ESXI/mboot.efi"

# boot.cfg for HTTP, as VMware documents it: file names relative to prefix=
# (no leading /), and the kernel options given as $1.
make_bootcfg() {
	awk -v prefix="$URL/$NAME" -v opts="$1" '
		/^prefix=/ { print "prefix=" prefix; p = 1; next }
		/^kernelopt=/ { print "kernelopt=" opts; k = 1; next }
		/^(kernel|modules)=/ { sub(/=\//, "="); gsub(/ \//, " ") }
		{ print }
		END {
			if (!p) print "prefix=" prefix
			if (!k) print "kernelopt=" opts
		}' "$BOOTCFG"
}
# Any other Mac gets the interactive installer (cdromBoot is for the ISO).
ISO_OPTS=$(sed -n 's/^kernelopt=//p' "$BOOTCFG" | sed 's/[[:space:]]*cdromBoot//')
make_bootcfg "$ISO_OPTS" >"$ESXI/boot.cfg"

# 3. Per Mac: mboot.efi looks for <its folder>/01-<mac, lower case, dashes>/boot.cfg.
for mac in "$@"; do
	dir=$(echo "$mac" | awk -F'[:-]' 'NF == 6 {
		s = "01"
		for (i = 1; i <= 6; i++) {
			if ($i !~ /^[0-9A-Fa-f][0-9A-Fa-f]?$/) exit 1
			s = s "-" (length($i) == 1 ? "0" : "") tolower($i)
		}
		print s }') || true
	[ -n "$dir" ] || die "$mac: not a MAC address"
	mkdir -p "$ESXI/$dir"
	make_bootcfg "ks=$URL/$dir/ks.cfg" >"$ESXI/$dir/boot.cfg"
	sed "s|@MAC@|$(echo "${dir#01-}" | tr - :)|g" "$HERE/ks.cfg" >"$ESXI/$dir/ks.cfg"
	echo "esxi-ipxe: $mac -> $URL/$dir/boot.cfg (kickstart $URL/$dir/ks.cfg)"
done
echo "esxi-ipxe: set $SET (index $INDEX), chain $URL/mboot.efi"
echo "esxi-ipxe: now run: echo '{\"command\": \"bsdp-reload\"}' | socat - UNIX-CONNECT:/run/kea/kea4-ctrl-socket"
echo "           (or restart kea-dhcp4-server) so Kea sees the new set"
