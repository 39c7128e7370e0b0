#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# make demo: a real kea-dhcp4 with libdhcp_bsdp.so in a throwaway network
# namespace, example NetBoot sets, and bsdpc asking it as a Mac would:
# LIST, then SELECT. Root only; everything is removed on exit or Ctrl-C.
#
# usage: sh examples/demo.sh [HOOK.so BSDPC]   (default: builds both)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it creates network namespaces)" >&2
	exit 1
fi
sh tools/install-deps.sh test
if [ $# -ge 2 ]; then
	HOOK=$(realpath "$1")
	BSDPC=$(realpath "$2")
else
	make --no-print-directory -s build/libdhcp_bsdp.so build/bsdpc
	HOOK=$ROOT/build/libdhcp_bsdp.so
	BSDPC=$ROOT/build/bsdpc
fi

TAG=$$
SRV=bsdpdemo-s-$TAG
CLI=bsdpdemo-c-$TAG
SIF=bd${TAG}s
CIF=bd${TAG}c
WORK=$(mktemp -d /tmp/bsdp-demo.XXXXXX)
KEA_PID=""

cleanup() {
	trap - INT TERM EXIT
	if [ -n "$KEA_PID" ] && kill -0 "$KEA_PID" 2>/dev/null; then
		kill "$KEA_PID" 2>/dev/null || true
		i=0
		while kill -0 "$KEA_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$KEA_PID" 2>/dev/null || true
	fi
	ip netns del "$SRV" 2>/dev/null || true
	ip netns del "$CLI" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Two network namespaces joined by a veth pair"
ip netns add "$SRV"
ip netns add "$CLI"
ip link add "$SIF" netns "$SRV" type veth peer name "$CIF" netns "$CLI"
ip -n "$SRV" addr add 198.18.0.1/24 dev "$SIF"
ip -n "$CLI" addr add 198.18.0.10/24 dev "$CIF"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "$SIF" up
ip -n "$CLI" link set "$CIF" up
echo "   server $SRV: $SIF 198.18.0.1    client (the 'Mac') $CLI: $CIF 198.18.0.10"

say "2. Example NetBoot sets"
/usr/bin/python3 examples/make_sets.py "$WORK/sets"
ls "$WORK/sets" | sed 's/^/   /'

say "3. kea-dhcp4 with libdhcp_bsdp.so"
# Kea 2.6.3 and later load a hook only from their hooks directory, and
# write logs only to /var/log/kea (or stdout). So the configuration names the
# installed path, valid on every version, and kea-dhcp4 runs in a mount
# namespace of its own where a folder holding this build covers that
# directory: nothing is installed. Its log goes to stdout ($WORK/kea.out).
HOOKS_DIR=$(make --no-print-directory -s --eval 'print-hooks-dir: ; @echo $(HOOKS_DIR)' print-hooks-dir)
mkdir "$WORK/hooks"
ln -s "$HOOK" "$WORK/hooks/libdhcp_bsdp.so"
cat > "$WORK/kea-dhcp4.conf" <<CONF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "$SIF" ] },
    "lease-database": { "type": "memfile", "persist": false },
    "control-socket": { "socket-type": "unix", "socket-name": "$WORK/kea4.sock" },
    "subnet4": [ { "id": 1, "subnet": "198.18.0.0/24" } ],
    "hooks-libraries": [ {
        "library": "$HOOKS_DIR/libdhcp_bsdp.so",
        "parameters": {
            "sets-directory": "$WORK/sets",
            "http-url": "http://198.18.0.1/sets",
            "nfs-url": "nfs:198.18.0.1:/srv/netboot/sets",
            "state-file": "$WORK/bsdp-bindings.csv"
        }
    } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                   "output_options": [ { "output": "stdout" } ] } ]
} }
CONF
sed 's/^/   /' "$WORK/kea-dhcp4.conf"
# From 2.6.3 the state file must be in Kea's data directory: $WORK here.
KEA_PIDFILE_DIR=$WORK KEA_LOCKFILE_DIR=$WORK KEA_DHCP_DATA_DIR=$WORK KEA_CONTROL_SOCKET_DIR=$WORK \
	unshare --mount --propagation private sh -ec 'mount --bind "$0" "$1"; shift; exec "$@"' \
	"$WORK/hooks" "$HOOKS_DIR" ip netns exec "$SRV" kea-dhcp4 -c "$WORK/kea-dhcp4.conf" \
	>"$WORK/kea.out" 2>&1 &
KEA_PID=$!
i=0
until grep -q DHCP4_STARTED "$WORK/kea.out" 2>/dev/null; do
	if ! kill -0 "$KEA_PID" 2>/dev/null || [ $i -ge 100 ]; then
		echo "demo: kea-dhcp4 did not start:" >&2
		cat "$WORK/kea.out" 2>/dev/null | tail -20 >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
grep -h 'BSDP_' "$WORK/kea.out" | sed 's/^.*\] /   kea: /'

say "4. bsdpc --list: the Mac broadcasts INFORM[LIST]; Kea answers ACK[LIST]"
echo "   (the image list, the default image and this server's priority)"
ip netns exec "$CLI" "$BSDPC" -i "$CIF" --model MacBookPro11,1 --list | sed 's/^/   /'

say "5. bsdpc --select 1001: INFORM[SELECT] of image 1001; Kea answers ACK[SELECT]"
echo "   (siaddr + file = the booter to fetch by TFTP, option 17 = the disk image)"
ip netns exec "$CLI" "$BSDPC" -i "$CIF" --model MacBookPro11,1 --select 1001 | sed 's/^/   /'

say "6. bsdpc --discover: the Mac restarts into its image (Startup Disk); Kea answers an OFFER*"
echo "   (a DHCPOFFER naming the image it SELECTed, with what ACK[SELECT] gave: no menu)"
ip netns exec "$CLI" "$BSDPC" -i "$CIF" --model MacBookPro11,1 --discover | sed 's/^/   /'

say "7. bsdpc --explain: why this Mac sees what it sees (bsdp-explain, Kea's control socket)"
MAC=$(ip netns exec "$CLI" cat "/sys/class/net/$CIF/address")
"$BSDPC" --explain "$MAC" --socket "$WORK/kea4.sock" | sed 's/^/   /'

say "8. What Kea logged (kea-dhcp4.bsdp)"
sleep 0.2
grep -h 'BSDP_REPLY\|BSDP_OFFER' "$WORK/kea.out" | sed 's/^.*\] /   /'
echo
echo "demo: done; namespaces, kea-dhcp4 and $WORK are being removed."
