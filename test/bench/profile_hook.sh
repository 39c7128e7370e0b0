#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Profiles kea-dhcp4 with the hook under a bsdp-load LIST or SELECT load
# (perf record on kea's PID), in its own namespaces on 198.18.20.0/24, and
# prints the hottest symbols. Root. Usage: profile_hook.sh [list|select|inform] [SECONDS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-list}
SECS=${2:-5}
HOOK_SO=${HOOK_SO:-$ROOT/build/libdhcp_bsdp.so}
BSDP_LOAD=${BSDP_LOAD:-$ROOT/build/bsdp-load}
PY=/usr/bin/python3
SRV_NS=bsdpp-srv-$$ CLI_NS=bsdpp-cli-$$ SRV_IF=bsdpp-s$$ CLI_IF=bsdpp-c$$
SRV_IP=198.18.20.1 CLI_IP=198.18.20.2 CIADDR_NET=198.18.24.0/22 CIADDR_FIRST=198.18.24.1
# A manual tool, outside make check: its profilers are not in install-deps.
for tool in perf ip kea-dhcp4; do
	command -v "$tool" >/dev/null || { echo "profile_hook: $tool missing (apt-get install linux-perf)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/bsdp-profile.XXXXXX)
KEA_PID=
cleanup() {
	[ -n "$KEA_PID" ] && kill "$KEA_PID" 2>/dev/null && wait "$KEA_PID" 2>/dev/null || true
	ip netns del "$CLI_NS" 2>/dev/null || true
	ip netns del "$SRV_NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
ip netns add "$SRV_NS"; ip netns add "$CLI_NS"
ip -n "$SRV_NS" link set lo up; ip -n "$CLI_NS" link set lo up
ip link add "$SRV_IF" netns "$SRV_NS" type veth peer name "$CLI_IF" netns "$CLI_NS"
ip -n "$SRV_NS" addr add "$SRV_IP/24" dev "$SRV_IF"; ip -n "$CLI_NS" addr add "$CLI_IP/24" dev "$CLI_IF"
ip -n "$SRV_NS" link set "$SRV_IF" up; ip -n "$CLI_NS" link set "$CLI_IF" up
ip -n "$CLI_NS" route add local "$CIADDR_NET" dev lo
ip -n "$SRV_NS" route add "$CIADDR_NET" via "$CLI_IP"
sleep 1
mkdir -p "$TMP/sets"
"$PY" "$HERE/bench_util.py" sets "$TMP/sets" 40
# PROFILE_NO_HOOK=1: the same kea-dhcp4 without the hook, for comparison.
HOOK_ARGS=(--hook "$HOOK_SO" --sets "$TMP/sets" --state "$TMP/bindings.csv")
[ "${PROFILE_NO_HOOK:-0}" = 1 ] && HOOK_ARGS=()
"$PY" "$HERE/bench_util.py" kea-conf "$TMP/kea.conf" "$SRV_IF" "$TMP" --threads 0 "${HOOK_ARGS[@]}"
KEA_PIDFILE_DIR=$TMP KEA_LOCKFILE_DIR=$TMP ip netns exec "$SRV_NS" kea-dhcp4 -c "$TMP/kea.conf" \
	>"$TMP/stdout.log" 2>&1 &
KEA_PID=$!
for _ in $(seq 1 100); do grep -q DHCP4_STARTED "$TMP"/*.log 2>/dev/null && break; sleep 0.1; done
sleep 0.3
ip netns exec "$CLI_NS" "$BSDP_LOAD" --server "$SRV_IP" --mode "$MODE" --window 64 \
	--duration $((SECS + 2)) --clients 256 --ciaddr-first "$CIADDR_FIRST" >"$TMP/load.txt" 2>&1 &
LOAD=$!
sleep 1
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
k0=$(cpu "$KEA_PID"); g0=$(cpu "$LOAD"); sleep 3; k1=$(cpu "$KEA_PID"); g1=$(cpu "$LOAD")
echo "cpu over 3 s: kea-dhcp4 $(( (k1 - k0) / 3 ))%  bsdp-load $(( (g1 - g0) / 3 ))%"
if [ "${PROFILE_STRACE:-0}" = 1 ]; then
	timeout "$SECS" strace -c -f -p "$KEA_PID" -o "$TMP/strace.txt" || true
	sleep 0.5; head -20 "$TMP/strace.txt"
fi
perf record -q --call-graph dwarf,16384 -F 400 -p "$KEA_PID" -o "$TMP/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$LOAD" || true
cat "$TMP/load.txt"
[ -n "${PROFILE_KEEP:-}" ] && cp "$TMP/perf.data" "$PROFILE_KEEP"
perf report -i "$TMP/perf.data" --children --stdio --sort symbol -g none 2>/dev/null |
	cut -c1-110 | grep -E "bsdp|pkt4_|processPacket|processInform|classify|unpack|Pkt4::pack|sendPacket|receive4|appendRequested|Dhcpv4Srv::run|callCallouts" | head -30
perf report -i "$TMP/perf.data" --no-children --stdio --sort dso -g none 2>/dev/null | grep -E "^ +[0-9]" | head -12
perf report -i "$TMP/perf.data" --no-children --stdio --percent-limit 0.7 -g none 2>/dev/null |
	grep -E '^ +[0-9]' | head -45
