#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Runs inside a fresh chroot where kea-bsdp was just installed from its .deb
# (test/package/check-deb.sh): that chroot's kea-dhcp4 loads the packaged
# library by its packaged path, and the packaged bsdpc gets LIST and SELECT
# answers over a veth pair between two network namespaces (198.18.0.0/24).
# The namespaces and kea-dhcp4 (by its PID) are removed on any exit.
set -eu
fail() { echo "deb-smoke: FAIL: $*" >&2; exit 1; }

# The library where the package put it: in Kea's hooks directory, the one
# that holds the hooks Kea itself ships.
lib=$(dpkg -L kea-bsdp | grep '/kea/hooks/libdhcp_bsdp\.so$') || fail "no libdhcp_bsdp.so in kea-bsdp"
kea_hook=$(dpkg -S '*/kea/hooks/libdhcp_*.so' | grep -v '^kea-bsdp:' | sed -n '1s/^[^:]*: //p')
[ "${lib%/*}" = "${kea_hook%/*}" ] || fail "$lib is not in Kea's hooks directory (${kea_hook%/*})"
for f in /usr/bin/bsdpc /usr/bin/kea-bsdp-check /usr/bin/kea-bsdp-migrate \
	/usr/share/man/man7/kea-bsdp.7.gz /usr/share/man/man1/bsdpc.1.gz \
	/usr/share/man/man1/kea-bsdp-check.1.gz /usr/share/man/man1/kea-bsdp-migrate.1.gz \
	/usr/share/doc/kea-bsdp/examples/make_sets.py /etc/apparmor.d/abstractions/kea-bsdp \
	/usr/share/doc/kea-bsdp/examples/add-to-existing/bsdp-hook.json \
	/usr/share/doc/kea-bsdp/html/index.html /usr/share/doc/kea-bsdp/html/docs/README.html \
	/usr/share/doc/kea-bsdp/html/docs/configuration.html; do
	[ -e "$f" ] || fail "$f is missing"
done
echo "deb-smoke: $(kea-dhcp4 -v) with $lib"

# AppArmor: kea-dhcp4's profile, as the kernel would get it, still parses and
# has our rules exactly where it includes its local file (trixie, sid); on
# bookworm, where it includes none, the package leaves it alone.
profile=/etc/apparmor.d/usr.sbin.kea-dhcp4
apparmor_parser -Q -K "$profile" 2>/dev/null || fail "$profile does not parse"
if grep -Eq '^[[:space:]]*#?include[[:space:]].*<local/usr\.sbin\.kea-dhcp4>' "$profile"; then
	apparmor_parser -p "$profile" 2>/dev/null | grep -qF '/srv/netboot/sets/** r,' ||
		fail "$profile lacks kea-bsdp's rules"
	echo "deb-smoke: $profile includes kea-bsdp's rules (local/usr.sbin.kea-dhcp4)"
else
	! apparmor_parser -p "$profile" 2>/dev/null | grep -qF /srv/netboot ||
		fail "$profile was changed"
	echo "deb-smoke: $profile includes no local file: left alone"
fi

tag=kbdeb$$
srv=$tag-s cli=$tag-c
work=/tmp/$tag
pid=""
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || :
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$pid" 2>/dev/null || :
	fi
	ip netns del "$srv" 2>/dev/null || :
	ip netns del "$cli" 2>/dev/null || :
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"

ip netns add "$srv"
ip netns add "$cli"
ip link add veth-s netns "$srv" type veth peer name veth-c netns "$cli"
ip -n "$srv" addr add 198.18.0.1/24 dev veth-s
ip -n "$cli" addr add 198.18.0.2/24 dev veth-c
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set veth-s up
ip -n "$cli" link set veth-c up

# The packaged example writes NetBoot sets into the default sets-directory.
python3 /usr/share/doc/kea-bsdp/examples/make_sets.py /srv/netboot/sets >/dev/null

# Kea's own folders are the standard ones (Kea 2.6.3+ insist); the log
# goes to stdout, leases stay in memory, the PID and lock files in $work.
cat >"$work/kea-dhcp4.conf" <<CONF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "veth-s" ], "dhcp-socket-type": "raw" },
  "lease-database": { "type": "memfile", "persist": false },
  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/24" } ],
  "hooks-libraries": [ { "library": "$lib",
    "parameters": { "sets-directory": "/srv/netboot/sets", "server-address": "198.18.0.1" } } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                 "output_options": [ { "output": "stdout" } ] } ]
} }
CONF
kea-bsdp-check "$work/kea-dhcp4.conf" >"$work/check.out" 2>&1 ||
	{ cat "$work/check.out"; fail "kea-bsdp-check refused the configuration"; }

KEA_PIDFILE_DIR=$work KEA_LOCKFILE_DIR=$work \
	ip netns exec "$srv" kea-dhcp4 -c "$work/kea-dhcp4.conf" >"$work/kea.log" 2>&1 &
pid=$!
# Ready once it has loaded the hook and opened its sockets (at most 20 s).
i=0
until grep -q DHCP4_STARTED "$work/kea.log"; do
	kill -0 "$pid" 2>/dev/null || { cat "$work/kea.log"; fail "kea-dhcp4 exited"; }
	[ $i -lt 200 ] || { cat "$work/kea.log"; fail "kea-dhcp4 did not start within 20 s"; }
	sleep 0.1; i=$((i + 1))
done
grep -q BSDP_LOADED "$work/kea.log" || { cat "$work/kea.log"; fail "the hook did not load"; }

ip netns exec "$cli" bsdpc -i veth-c --timeout 3 >"$work/list.out" ||
	{ cat "$work/list.out" "$work/kea.log"; fail "bsdpc LIST got no answer"; }
cat "$work/list.out"
for name in "macOS High Sierra NetInstall" "iPXE chain (ESXi)"; do
	grep -qF "$name" "$work/list.out" || fail "LIST lacks '$name'"
done

ip netns exec "$cli" bsdpc -i veth-c --timeout 3 --select 1001 >"$work/select.out" ||
	{ cat "$work/select.out" "$work/kea.log"; fail "bsdpc SELECT got no answer"; }
cat "$work/select.out"
grep -q 'booter' "$work/select.out" || fail "SELECT did not hand out the booter"
grep -q 'http://198.18.0.1/netboot/NetInstall%2010.13.nbi/NetInstall.dmg' "$work/select.out" ||
	fail "SELECT did not hand out the HTTP root path"
# The selection is remembered in the default state file (hwaddr,image-id,...),
# saved by the hook's writer thread shortly after.
mac=$(ip -n "$cli" -o link show veth-c 2>/dev/null | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
i=0
until grep -qi "^$mac,0x810003e9," /var/lib/kea/bsdp-bindings.csv 2>/dev/null; do
	[ $i -lt 100 ] || { cat "$work/kea.log"; fail "the SELECT of $mac is not in /var/lib/kea/bsdp-bindings.csv"; }
	sleep 0.1; i=$((i + 1))
done
echo "deb-smoke: OK (LIST and SELECT answered by $lib)"
