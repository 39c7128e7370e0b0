#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench_net.sh: kea-dhcp4 without and with libdhcp_bsdp.so, single and
# multi-threaded, ISC dhcpd with seed 003's static class, the C core, and the
# hook's bindings stores (CSV state file, PostgreSQL) and a Kea HA pair,
# loaded by the same generator (build/bsdp-load) on the same machine, printed
# as one table. Root only: network namespaces joined by veth pairs,
# addresses from 198.18.0.0/15 only.
#
#   server ns bsdpb-srv: 198.18.10.1/24 (kea-dhcp4 or dhcpd)
#   client ns bsdpb-cli: 198.18.10.2/24 = giaddr (bsdp-load as a relay),
#                        plus 198.18.16.0/20 as local "AnyIP" addresses: the
#                        simulated Macs' ciaddrs, where every server sends
#                        its INFORM replies (see tools/bsdp_load.c).
#   ha group only: server ns bsdpb-srv2: 198.18.11.1/24, its veth peer
#                        198.18.11.2/24 in the client ns, which forwards
#                        between the two servers (HA's HTTP) and sends each
#                        request to both, as a relay with two helper addresses.
#
# Every process is stopped by its own PID; the namespaces and the temp dir
# go away in a trap, also on failure. Each load run is bounded (DURATION s
# plus the generator's timeout, under `timeout`). Environment: BSDP_LOAD,
# BENCH_LIST, HOOK_SO (paths), BENCH_DURATION (5), BENCH_WINDOW (64),
# BENCH_CLIENTS (256), BENCH_KEEP=1 keeps the temp dir with the logs,
# BENCH_ROWS (default "default st static mt2 mt4 dhcpd core reload full collide db ha")
# picks groups; BENCH_MAX_BINDINGS (4096) is the table size of the "full" row;
# BENCH_MACS the MAC list maker of the collide rows (build/bench_macs).
#
# Row groups: st (single-threaded: plain INFORM without the hook, then the
# hook's INFORM, LIST, SELECT, and the fast path's), default (this Kea's
# default threading), static (seed 003's class in Kea, no hook), mt2, mt4
# (2 and 4 threads), dhcpd, core (the C core alone), reload (bsdp-reload of
# 1,000 sets under load), full (SELECT with the bindings table full), collide
# (4 threads, default max-bindings: SELECTs cycling through 60,000 random
# MACs, then through 60,000 MACs chosen to share one 64-slot window of the
# bindings index under its old unkeyed hash; x base over the random row), db
# (single-threaded SELECTs from new MACs with the CSV state file, then with
# bindings-database: needs PGHOST, PGPORT, PGDATABASE, PGUSER and psql, as
# test/pg/with-postgres.sh sets them, which make bench-net does; without
# them that row is n/a), ha (a Kea HA pair in load-balancing mode, both with
# the hook on the same bindings-database, each LIST sent to both servers;
# baseline: one server with the same configuration minus HA; 2 threads each,
# so that the peers talk through HA's own HTTP listener; needs PostgreSQL as
# db does).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BSDP_LOAD=${BSDP_LOAD:-$ROOT/build/bsdp-load}
BENCH_LIST=${BENCH_LIST:-$ROOT/build/bench_list}
BENCH_MACS=${BENCH_MACS:-$ROOT/build/bench_macs}
HOOK_SO=${HOOK_SO:-$ROOT/build/libdhcp_bsdp.so}
DURATION=${BENCH_DURATION:-5}
WINDOW=${BENCH_WINDOW:-64}
CLIENTS=${BENCH_CLIENTS:-256}
PY=/usr/bin/python3
UTIL="$HERE/bench_util.py"

SRV_NS=bsdpb-srv
CLI_NS=bsdpb-cli
SRV_IF=bsdpb-s
CLI_IF=bsdpb-c
SRV_IP=198.18.10.1
CLI_IP=198.18.10.2
SRV2_NS=bsdpb-srv2
SRV2_IF=bsdpb-s2
CLI2_IF=bsdpb-c2
SRV2_IP=198.18.11.1
CLI2_IP=198.18.11.2
CIADDR_NET=198.18.16.0/20
CIADDR_FIRST=198.18.16.1
N_SETS=40
N_RELOAD_SETS=1000
MAX_BINDINGS=${BENCH_MAX_BINDINGS:-4096}

if [ "$(id -u)" != 0 ]; then
	echo "bench_net: needs root (network namespaces, ports 67/68)" >&2
	exit 1
fi
for f in "$BSDP_LOAD" "$BENCH_LIST" "$BENCH_MACS"; do
	[ -x "$f" ] || { echo "bench_net: $f missing: run make first" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/bsdp-bench.XXXXXX)
RESULTS=$TMP/results.jsonl
: >"$RESULTS"
PIDS=()

# Stops one process we started: TERM, up to 10 s, then KILL.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	set +e
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	ip netns del "$CLI_NS" 2>/dev/null
	ip netns del "$SRV_NS" 2>/dev/null
	ip netns del "$SRV2_NS" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench_net: logs kept in $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

netns_up() {
	# Left over by a run that was killed before its trap ran: ours by name.
	ip netns del "$CLI_NS" 2>/dev/null || true
	ip netns del "$SRV_NS" 2>/dev/null || true
	ip netns del "$SRV2_NS" 2>/dev/null || true
	ip netns add "$CLI_NS"
	ip -n "$CLI_NS" link set lo up
	# The Macs' addresses: local to the generator (replies to any of them
	# reach its INADDR_ANY sockets), routed to it from the server for the
	# servers that send through the kernel (dhcpd, Kea with UDP sockets).
	ip -n "$CLI_NS" route add local "$CIADDR_NET" dev lo
	server_link "$SRV_NS" "$SRV_IF" "$SRV_IP" "$CLI_IF" "$CLI_IP"
}

# server_link NS SRV_IF SRV_IP CLI_IF CLI_IP: a server namespace joined to
# the client namespace by a veth pair (/24s), the Macs' addresses routed
# through the client.
server_link() {
	local i
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$CLI_NS"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$CLI_NS" addr add "$5/24" dev "$4"
	ip -n "$1" link set "$2" up
	ip -n "$CLI_NS" link set "$4" up
	ip -n "$1" route add "$CIADDR_NET" via "$5"
	for i in $(seq 1 50); do
		ip -n "$CLI_NS" -o addr show dev "$4" | grep -q tentative || break
		sleep 0.1
	done
}

# The second server's namespace for the ha group (once): its own link to
# the client namespace, which forwards between the servers (HA's HTTP).
ha_net_up() {
	ip netns list | grep -qw "$SRV2_NS" && return 0
	server_link "$SRV2_NS" "$SRV2_IF" "$SRV2_IP" "$CLI2_IF" "$CLI2_IP"
	ip netns exec "$CLI_NS" sysctl -q -w net.ipv4.ip_forward=1
	ip -n "$SRV2_NS" route add "${CLI_IP%.*}.0/24" via "$CLI2_IP"
	ip -n "$SRV_NS" route add "${SRV2_IP%.*}.0/24" via "$CLI_IP"
}

row_na() {   # NAME REASON
	"$PY" -c 'import json,sys; print(json.dumps({"row": sys.argv[1], "na": sys.argv[2]}))' \
		"$1" "$2" >>"$RESULTS"
	printf '  %-44s n/a (%s)\n' "$1" "$2" >&2
}

# Runs the generator; appends its JSON with the row's name to RESULTS.
# load NAME COMPARE BASELINE_FOR MODE [generator options...]
load() {
	local name=$1 compare=$2 basefor=$3 mode=$4 out err
	shift 4
	out=$TMP/load.json
	err=$TMP/load.err
	if ! timeout $((DURATION + 40)) ip netns exec "$CLI_NS" "$BSDP_LOAD" --server "$SRV_IP" \
		--mode "$mode" --window "$WINDOW" --duration "$DURATION" --clients "$CLIENTS" \
		--ciaddr-first "$CIADDR_FIRST" --json "$@" >"$out" 2>"$err"; then
		row_na "$name" "generator: $(tail -n 1 "$err" 2>/dev/null || echo failed)"
		return 1
	fi
	"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
r.update({"row": sys.argv[2], "compare": int(sys.argv[3])})
if sys.argv[4] != "-":
    r["baseline_for"] = int(sys.argv[4])
print(json.dumps(r))' "$out" "$name" "$compare" "$basefor" >>"$RESULTS"
	"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("  %-44s %8.0f replies/s  p50 %.2f ms  p99 %.2f ms  lost %d  kinds %s" % (sys.argv[2],
      r["replies_per_s"], r["latency_us"]["p50"] / 1e3, r["latency_us"]["p99"] / 1e3,
      r["lost"], r["replies"]))' "$out" "$name" >&2
}

KEA_PID=
KEA_WHY=
# start_kea NAME CONF [NS]: kea-dhcp4 in the server namespace (or NS); sets
# KEA_PID, or KEA_WHY and returns 1.
start_kea() {
	local dir=$TMP/$1 conf=$2 ns=${3:-$SRV_NS} i
	KEA_PID=
	KEA_WHY=
	: >"$dir/kea.log"
	# As the tests run it (from Kea 2.6.3: the build seen as the installed
	# hook, Kea's files in $dir); every step execs, so $! is kea's own PID.
	"$PY" "$UTIL" kea-exec "$dir" "$HOOK_SO" \
		ip netns exec "$ns" kea-dhcp4 -c "$conf" >"$dir/stdout.log" 2>&1 &
	KEA_PID=$!
	PIDS+=("$KEA_PID")
	for i in $(seq 1 150); do
		if ! kill -0 "$KEA_PID" 2>/dev/null; then
			KEA_WHY=$(grep -hoE '(HOOKS_[A-Z_]*ERROR|DHCP4_[A-Z_]*FAIL|BSDP_[A-Z_]*)[^"]*' \
				"$dir/kea.log" "$dir/stdout.log" 2>/dev/null | head -n 1 | cut -c1-150)
			[ -n "$KEA_WHY" ] || KEA_WHY="kea-dhcp4 exited at start"
			wait "$KEA_PID" 2>/dev/null || true
			forget_pid "$KEA_PID"
			KEA_PID=
			return 1
		fi
		if grep -q DHCP4_STARTED "$dir/kea.log" "$dir/stdout.log" 2>/dev/null; then
			sleep 0.3   # sockets open right before that line
			return 0
		fi
		sleep 0.1
	done
	KEA_WHY="kea-dhcp4 not started within 15 s"
	stop_kea
	return 1
}

stop_kea() {
	[ -n "$KEA_PID" ] || return 0
	stop_pid "$KEA_PID"
	forget_pid "$KEA_PID"
	KEA_PID=
}

kea_command() {   # DIR JSON: one command over the control socket, bounded
	timeout 60 ip netns exec "$SRV_NS" socat -t 60 - "UNIX-CONNECT:$1/kea4.sock" <<<"$2"
}

kea_stat() {   # DIR NAME: the statistic's value, or nothing
	kea_command "$1" "{\"command\":\"statistic-get\",\"arguments\":{\"name\":\"$2\"}}" \
		2>/dev/null | "$PY" "$UTIL" stat "$2" || true
}

# kea_rows TAG THREADS LABEL: plain INFORM without the hook (the baseline
# for this thread count), then INFORM, LIST and SELECT with the hook.
kea_rows() {
	local tag=$1 threads=$2 label=$3 dir conf
	dir=$TMP/$tag-plain
	mkdir -p "$dir"
	conf=$dir/kea-dhcp4.conf
	"$PY" "$UTIL" kea-conf "$conf" "$SRV_IF" "$dir" --threads "$threads"
	if start_kea "$tag-plain" "$conf"; then
		load "kea-dhcp4$label: plain INFORM (baseline)" "$threads" "$threads" inform || true
		# Kea's own cost of a BSDP-shaped INFORM (options 43 and 60 parsed,
		# classified, a plain ACK back): the floor under the hook's rows.
		[ "$threads" = 0 ] &&
			{ load "kea-dhcp4, no hook: BSDP LIST INFORM" "$threads" - list || true; }
		stop_kea
	else
		row_na "kea-dhcp4$label: plain INFORM (baseline)" "$KEA_WHY"
	fi

	local names=("kea-dhcp4$label + hook: LIST, $N_SETS images" \
		"kea-dhcp4$label + hook: SELECT")
	[ "$threads" = 0 ] && names=("kea-dhcp4 + hook: plain INFORM (pass-through)" "${names[@]}")
	if [ ! -f "$HOOK_SO" ]; then
		for n in "${names[@]}"; do row_na "$n" "$HOOK_SO not built"; done
		return 0
	fi
	dir=$TMP/$tag-hook
	mkdir -p "$dir"
	conf=$dir/kea-dhcp4.conf
	"$PY" "$UTIL" kea-conf "$conf" "$SRV_IF" "$dir" --threads "$threads" \
		--hook "$HOOK_SO" --sets "$TMP/sets" --state "$dir/bindings.csv"
	if ! start_kea "$tag-hook" "$conf"; then
		for n in "${names[@]}"; do row_na "$n" "hook not loaded: $KEA_WHY"; done
		return 0
	fi
	local i=0
	if [ "$threads" = 0 ]; then
		load "${names[0]}" "$threads" - inform || true
		i=1
	fi
	load "${names[$i]}" "$threads" - list || true
	load "${names[$((i + 1))]}" "$threads" - select || true
	stop_kea
	[ "$threads" -le 2 ] && kea_fast_rows "$tag" "$threads" "$label"
	return 0
}

# This Kea's default threading (no multi-threading map: single-threaded in
# 2.2, multi-threaded from 2.4): plain INFORM, pass-through, LIST and the
# fast path's LIST, the rows compared across Kea versions.
default_rows() {
	local dir=$TMP/default-plain label=" (default threading)"
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads -1
	if start_kea default-plain "$dir/kea-dhcp4.conf"; then
		load "kea-dhcp4$label: plain INFORM (baseline)" 100 100 inform || true
		stop_kea
	else
		row_na "kea-dhcp4$label: plain INFORM (baseline)" "$KEA_WHY"
	fi
	local fast
	for fast in 0 1; do
		dir=$TMP/default-hook-$fast
		mkdir -p "$dir"
		local names=("kea-dhcp4$label + hook: plain INFORM (pass-through)" \
			"kea-dhcp4$label + hook: LIST, $N_SETS images")
		[ "$fast" = 1 ] && names=("kea-dhcp4$label + hook, fast path: LIST")
		"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads -1 \
			--hook "$HOOK_SO" --sets "$TMP/sets" --state "$dir/bindings.csv" --fast-path "$fast"
		if ! start_kea "default-hook-$fast" "$dir/kea-dhcp4.conf"; then
			for n in "${names[@]}"; do row_na "$n" "hook not loaded: $KEA_WHY"; done
			continue
		fi
		if [ "$fast" = 0 ]; then
			load "${names[0]}" 100 - inform || true
			load "${names[1]}" 100 - list || true
		else
			load "${names[0]}" 100 - list || true
		fi
		stop_kea
	done
}

# The same hook with "fast-path": BSDP answered from buffer4_receive.
kea_fast_rows() {
	local tag=$1 threads=$2 label=$3 dir=$TMP/$1-fast
	local names=("kea-dhcp4$label + hook, fast path: LIST" "kea-dhcp4$label + hook, fast path: SELECT")
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads "$threads" \
		--hook "$HOOK_SO" --sets "$TMP/sets" --state "$dir/bindings.csv" --fast-path 1
	if ! start_kea "$tag-fast" "$dir/kea-dhcp4.conf"; then
		for n in "${names[@]}"; do row_na "$n" "hook not loaded: $KEA_WHY"; done
		return 0
	fi
	load "${names[0]}" "$threads" - list || true
	load "${names[1]}" "$threads" - select || true
	stop_kea
}

# Seed 003's static class as Kea option-data, no hook: what Kea itself
# costs to send the same ACK[LIST] bytes as the dhcpd row.
kea_static_row() {
	local name="kea-dhcp4, no hook, static class: LIST" dir=$TMP/static
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --static-list "$N_SETS"
	if start_kea static "$dir/kea-dhcp4.conf"; then
		load "$name" 0 - list || true
		stop_kea
	else
		row_na "$name" "$KEA_WHY"
	fi
}

dhcpd_row() {
	local name="ISC dhcpd 4.4, seed 003 class: LIST, $N_SETS images" dir=$TMP/dhcpd pid i ok=0
	if ! command -v dhcpd >/dev/null 2>&1 && [ ! -x /usr/sbin/dhcpd ]; then
		echo "bench_net: installing isc-dhcp-server" >&2
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q \
			--no-install-recommends isc-dhcp-server >/dev/null 2>&1 || true
	fi
	if [ ! -x /usr/sbin/dhcpd ]; then
		row_na "$name" "isc-dhcp-server not installed"
		return 0
	fi
	mkdir -p "$dir"
	: >"$dir/dhcpd.leases"
	"$PY" "$UTIL" dhcpd-conf "$dir/dhcpd.conf" "$SRV_IP" "$N_SETS"
	ip netns exec "$SRV_NS" /usr/sbin/dhcpd -4 -f -d -cf "$dir/dhcpd.conf" \
		-lf "$dir/dhcpd.leases" -pf "$dir/dhcpd.pid" "$SRV_IF" >"$dir/dhcpd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		if grep -q "Server starting service" "$dir/dhcpd.log"; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if [ "$ok" = 1 ]; then
		sleep 0.3
		load "$name" 0 - list || true
	else
		row_na "$name" "dhcpd did not start: $(grep -v '^$' "$dir/dhcpd.log" | tail -n 1 | cut -c1-120)"
	fi
	stop_pid "$pid"
	forget_pid "$pid"
}

core_rows() {
	if "$BENCH_LIST" >"$TMP/bench_list.out" 2>&1; then
		"$PY" "$UTIL" core-rows "$TMP/bench_list.out" >>"$RESULTS"
		sed 's/^/  /' "$TMP/bench_list.out" >&2
	else
		row_na "C core (bench_list)" "bench_list failed"
	fi
}

# Reload of 1,000 sets under LIST load: the time bsdp-reload takes and the
# replies lost meanwhile. Needs the bsdp-reload command.
reload_row() {
	local name="kea-dhcp4 + hook: LIST while bsdp-reload $N_RELOAD_SETS sets"
	local dir=$TMP/reload conf cmds t0 t1 answer lpid
	if [ ! -f "$HOOK_SO" ]; then
		row_na "$name" "$HOOK_SO not built"
		return 0
	fi
	mkdir -p "$dir/sets" "$dir/stage"
	"$PY" "$UTIL" sets "$dir/sets" "$N_SETS"
	conf=$dir/kea-dhcp4.conf
	"$PY" "$UTIL" kea-conf "$conf" "$SRV_IF" "$dir" --hook "$HOOK_SO" --sets "$dir/sets" \
		--state "$dir/bindings.csv"
	if ! start_kea reload "$conf"; then
		row_na "$name" "hook not loaded: $KEA_WHY"
		return 0
	fi
	cmds=$(kea_command "$dir" '{"command":"list-commands"}' 2>/dev/null || true)
	if ! grep -q '"bsdp-reload"' <<<"$cmds"; then
		row_na "$name" "no bsdp-reload command in list-commands"
		stop_kea
		return 0
	fi
	# The new sets wait in a staging dir on the same filesystem and move in
	# by rename once the load runs.
	"$PY" "$UTIL" sets "$dir/stage" $((N_RELOAD_SETS - N_SETS)) $((N_SETS + 1))
	timeout $((DURATION + 50)) ip netns exec "$CLI_NS" "$BSDP_LOAD" --server "$SRV_IP" \
		--mode list --window "$WINDOW" --duration $((DURATION + 3)) --clients "$CLIENTS" \
		--ciaddr-first "$CIADDR_FIRST" --json >"$dir/load.json" 2>"$dir/load.err" &
	lpid=$!
	PIDS+=("$lpid")
	sleep 2
	mv "$dir"/stage/*.nbi "$dir/sets/"
	t0=$(date +%s%N)
	answer=$(kea_command "$dir" '{"command":"bsdp-reload"}' 2>&1 || true)
	t1=$(date +%s%N)
	wait "$lpid" 2>/dev/null || true
	forget_pid "$lpid"
	stop_kea
	if [ ! -s "$dir/load.json" ]; then
		row_na "$name" "generator: $(tail -n 1 "$dir/load.err" 2>/dev/null)"
		return 0
	fi
	"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
try:
    a = json.loads(sys.argv[4])
    a = a[0] if isinstance(a, list) else a
    ans = "result %s: %s" % (a.get("result"), str(a.get("text", ""))[:60])
except ValueError:
    ans = "not JSON: " + sys.argv[4].strip().replace("\n", " ")[:60]
r.update({"row": sys.argv[2], "compare": 0,
          "note": "bsdp-reload took %.0f ms (%s)" % (int(sys.argv[3]) / 1e6, ans)})
print(json.dumps(r))' "$dir/load.json" "$name" $((t1 - t0)) "$answer" >>"$RESULTS"
}

# SELECT with the bindings table full: max-bindings small, filled by a
# first run of SELECTs from new MACs, then SELECTs from other new MACs
# (bsdp-load --macs new, another prefix), each of which evicts a binding.
full_row() {
	local name="kea-dhcp4 + hook: SELECT, table full ($MAX_BINDINGS)" dir=$TMP/full fill n
	if [ ! -f "$HOOK_SO" ]; then
		row_na "$name" "$HOOK_SO not built"
		return 0
	fi
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --hook "$HOOK_SO" \
		--sets "$TMP/sets" --state "$dir/bindings.csv" --max-bindings "$MAX_BINDINGS"
	if ! start_kea full "$dir/kea-dhcp4.conf"; then
		row_na "$name" "hook not loaded: $KEA_WHY"
		return 0
	fi
	# Bounded like load(): stops after the bindings or 60 s, whichever first.
	fill=$(timeout 120 ip netns exec "$CLI_NS" "$BSDP_LOAD" --server "$SRV_IP" --mode select \
		--macs new --mac-prefix 01 --window "$WINDOW" --duration 60 \
		--requests "$MAX_BINDINGS" --ciaddr-first "$CIADDR_FIRST" --json 2>"$dir/fill.err" |
		"$PY" -c 'import json,sys; r = json.load(sys.stdin); print(r["replies"]["select"])' ||
		echo 0)
	if [ "$fill" -lt "$MAX_BINDINGS" ]; then
		row_na "$name" "filling the table: $fill of $MAX_BINDINGS SELECTs acknowledged"
		stop_kea
		return 0
	fi
	if load "$name" 0 - select --macs new --mac-prefix 02; then
		n=$(kea_stat "$dir" bsdp.bindings-evicted)
		if [ -n "$n" ]; then
			"$PY" "$UTIL" note "$RESULTS" \
				"$n bindings evicted for {replies[select]} ACK[SELECT] ($fill SELECTs to fill)"
		else
			"$PY" "$UTIL" note "$RESULTS" "no bsdp.bindings-evicted statistic ($fill SELECTs to fill)"
		fi
	fi
	stop_kea
}

# MACs chosen against the bindings index (issue 20): a client who can
# compute where MACs land makes every lookup walk one long run, under the
# table's lock. bench_macs old-fnv lists MACs whose home slots under the
# index's old unkeyed FNV-1a (a default table: 131,072 slots) all fall in
# one 64-slot window; the index is keyed now, so they should cost what
# random MACs cost. Each row has a fresh kea-dhcp4 (4 threads, as the
# issue measured, default max-bindings 65,536) and cycles through its
# COLLIDE_MACS MACs (bsdp-load --mac-file), the table growing to hold them.
COLLIDE_MACS=60000
COLLIDE_COMPARE=400
collide_rows() {
	local kinds=(random old-fnv) names dir i
	names=("kea-dhcp4 (4 threads) + hook: SELECT, random MACs"
		"kea-dhcp4 (4 threads) + hook: SELECT, MACs chosen vs old FNV")
	for i in 0 1; do
		if [ ! -f "$HOOK_SO" ]; then
			row_na "${names[$i]}" "$HOOK_SO not built"
			continue
		fi
		dir=$TMP/collide-${kinds[$i]}
		mkdir -p "$dir"
		if ! "$BENCH_MACS" "${kinds[$i]}" "$COLLIDE_MACS" >"$dir/macs" 2>"$dir/macs.err"; then
			row_na "${names[$i]}" "bench_macs: $(tail -n 1 "$dir/macs.err")"
			continue
		fi
		"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads 4 \
			--hook "$HOOK_SO" --sets "$TMP/sets" --state "$dir/bindings.csv"
		if ! start_kea "collide-${kinds[$i]}" "$dir/kea-dhcp4.conf"; then
			row_na "${names[$i]}" "hook not loaded: $KEA_WHY"
			continue
		fi
		load "${names[$i]}" $COLLIDE_COMPARE $([ "$i" = 0 ] && echo $COLLIDE_COMPARE || echo -) \
			select --mac-file "$dir/macs" || true
		stop_kea
	done
}

# The bindings stores side by side, single-threaded as the st group (and
# Kea 2.2's default): SELECTs from new MACs (bsdp-load --macs new), so that
# every SELECT is a change the store writes, first with the CSV state file
# (the pair's baseline), then with bindings-database on the PostgreSQL server
# of PGHOST etc. (make bench-net runs this under test/pg/with-postgres.sh).
DB_COMPARE=200
db_rows() {
	local csv="kea-dhcp4 + hook: SELECT new MACs, CSV state" dir
	local pg="kea-dhcp4 + hook: SELECT new MACs, PostgreSQL"
	if [ ! -f "$HOOK_SO" ]; then
		row_na "$csv" "$HOOK_SO not built"
		row_na "$pg" "$HOOK_SO not built"
		return 0
	fi
	dir=$TMP/db-csv
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads 0 \
		--hook "$HOOK_SO" --sets "$TMP/sets" --state "$dir/bindings.csv"
	if start_kea db-csv "$dir/kea-dhcp4.conf"; then
		load "$csv" $DB_COMPARE $DB_COMPARE select --macs new --mac-prefix 03 || true
		stop_kea
	else
		row_na "$csv" "hook not loaded: $KEA_WHY"
	fi

	# A fresh schema: the row count in db_note is this run's alone.
	if ! db_fresh; then
		row_na "$pg" "$DB_WHY"
		return 0
	fi
	dir=$TMP/db-pg
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads 0 \
		--hook "$HOOK_SO" --sets "$TMP/sets" --database
	if ! start_kea db-pg "$dir/kea-dhcp4.conf"; then
		row_na "$pg" "hook not loaded: $KEA_WHY"
		return 0
	fi
	if load "$pg" $DB_COMPARE - select --macs new --mac-prefix 04; then
		db_note "$dir"
	fi
	stop_kea
}

DB_WHY=
# db_fresh: the PostgreSQL server of PGHOST etc. with none of the hook's
# tables (it creates them); else DB_WHY says why not and it returns 1.
db_fresh() {
	if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || [ -z "${PGDATABASE:-}" ] ||
		[ -z "${PGUSER:-}" ]; then
		DB_WHY="no PGHOST/PGPORT/PGDATABASE/PGUSER: run under test/pg/with-postgres.sh, as make bench does"
		return 1
	fi
	if ! command -v psql >/dev/null 2>&1; then
		DB_WHY="no psql (apt-get install postgresql-client)"
		return 1
	fi
	if ! psql_q "DROP TABLE IF EXISTS bsdp_bindings, bsdp_machine_number_free;
		DROP SEQUENCE IF EXISTS bsdp_machine_number_block" >"$TMP/psql.err" 2>&1; then
		DB_WHY="psql: $(tail -n 1 "$TMP/psql.err")"
		return 1
	fi
}

psql_q() {   # SQL: runs it on the bench's database, values unaligned
	timeout 60 psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

# db_note DIR: what the store did, as the last row's note: its statistics
# right after the load (published each second, so up to 1 s old), how long
# until the database held a row for every acknowledged SELECT (each one from
# a new MAC), and the Macs whose machine number the writer had to change.
db_note() {
	local dir=$1 w0 p0 acks rows=0 i t0 ms caught renumbered
	w0=$(kea_stat "$dir" bsdp.bindings-db-written)
	p0=$(kea_stat "$dir" bsdp.bindings-db-pending)
	acks=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["replies"]["select"])' \
		"$TMP/load.json")
	t0=$(date +%s%N)
	for i in $(seq 1 600); do
		rows=$(psql_q "SELECT count(*) FROM bsdp_bindings" 2>/dev/null || echo 0)
		[ "$rows" -ge "$acks" ] && break
		sleep 0.2
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ "$rows" -ge "$acks" ]; then
		caught="all in the database $((ms / 1000)).$((ms % 1000 / 100)) s after"
	else
		caught="only $rows in the database $((ms / 1000)) s after"
	fi
	renumbered=$(grep -c BSDP_DB_RENUMBERED "$dir/kea.log" || true)
	"$PY" "$UTIL" note "$RESULTS" "store: ${w0:-?} written, ${p0:-?} pending at the end (as of <= 1 s before); $caught; $(kea_stat "$dir" bsdp.bindings-db-written) written in all, $(kea_stat "$dir" bsdp.bindings-db-overflowed) overflowed, $renumbered renumbered (BSDP_DB_RENUMBERED)"
}

# A Kea HA pair in load-balancing mode, each server with the hook on the
# same bindings-database, 2 threads (HA's own HTTP listener needs Kea
# multi-threaded; single-threaded, as 2.2's default, it would need a
# kea-ctrl-agent per server). bsdp-load sends each LIST to both servers;
# HA's hash of the MAC picks the one that answers. Baseline: one server, the
# same configuration minus HA.
HA_COMPARE=300
HA_THREADS=2
ha_rows() {
	local one="kea-dhcp4 (2 threads) + hook + database: LIST"
	local pair="kea-dhcp4 HA pair (load-balancing) + hook: LIST"
	local dir dirs=() pids=() i t0 states
	if [ ! -f "$HOOK_SO" ]; then
		row_na "$one" "$HOOK_SO not built"
		row_na "$pair" "$HOOK_SO not built"
		return 0
	fi
	if ! db_fresh; then
		row_na "$one" "$DB_WHY"
		row_na "$pair" "$DB_WHY"
		return 0
	fi
	dir=$TMP/ha-one
	mkdir -p "$dir"
	"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "$SRV_IF" "$dir" --threads "$HA_THREADS" \
		--hook "$HOOK_SO" --sets "$TMP/sets" --database
	if start_kea ha-one "$dir/kea-dhcp4.conf"; then
		load "$one" $HA_COMPARE $HA_COMPARE list || true
		stop_kea
	else
		row_na "$one" "hook not loaded: $KEA_WHY"
	fi

	ha_net_up
	if ! db_fresh; then
		row_na "$pair" "$DB_WHY"
		return 0
	fi
	local ns=("$SRV_NS" "$SRV2_NS") ifs=("$SRV_IF" "$SRV2_IF") ips=("$SRV_IP" "$SRV2_IP")
	for i in 0 1; do
		dir=$TMP/ha-$i
		mkdir -p "$dir"
		dirs+=("$dir")
		"$PY" "$UTIL" kea-conf "$dir/kea-dhcp4.conf" "${ifs[$i]}" "$dir" \
			--threads "$HA_THREADS" --hook "$HOOK_SO" --sets "$TMP/sets" --database \
			--server-ip "${ips[$i]}" --ha "$i"
		if ! start_kea "ha-$i" "$dir/kea-dhcp4.conf" "${ns[$i]}"; then
			row_na "$pair" "server$((i + 1)) did not start: $KEA_WHY"
			ha_stop "${pids[@]+"${pids[@]}"}"
			return 0
		fi
		pids+=("$KEA_PID")
	done
	# Both load-balancing before any load (bounded: 60 s).
	t0=$SECONDS
	while :; do
		states=$(for dir in "${dirs[@]}"; do
			kea_command "$dir" '{"command":"ha-heartbeat"}' 2>/dev/null |
				"$PY" "$UTIL" ha-state || true
		done | tr '\n' ' ')
		[ "$states" = "load-balancing load-balancing " ] && break
		if [ $((SECONDS - t0)) -ge 60 ]; then
			row_na "$pair" "HA states '$states' after 60 s, want load-balancing for both"
			ha_stop "${pids[@]}"
			return 0
		fi
		sleep 0.25
	done
	if load "$pair" $HA_COMPARE - list --server "$SRV2_IP"; then
		"$PY" "$UTIL" note "$RESULTS" "HA load-balancing $((SECONDS - t0)) s after both started; baseline: the row above"
	fi
	ha_stop "${pids[@]}"
}

ha_stop() {   # PIDS: the pair's kea-dhcp4 processes
	local pid
	for pid in "$@"; do
		stop_pid "$pid"
		forget_pid "$pid"
	done
	KEA_PID=
}

main() {
	local t_start=$SECONDS
	echo "bench_net: $DURATION s per load, window $WINDOW, $CLIENTS clients, temp $TMP" >&2
	netns_up
	mkdir -p "$TMP/sets"
	"$PY" "$UTIL" sets "$TMP/sets" "$N_SETS"

	local row
	for row in ${BENCH_ROWS:-default st static mt2 mt4 dhcpd core reload full collide db ha}; do
		case $row in
		st) kea_rows st 0 "" ;;
		default) default_rows ;;
		static) kea_static_row ;;
		mt2) kea_rows mt2 2 " (2 threads)" ;;
		mt4) kea_rows mt4 4 " (4 threads)" ;;
		dhcpd) dhcpd_row ;;
		core) core_rows ;;
		reload) reload_row ;;
		full) full_row ;;
		collide) collide_rows ;;
		db) db_rows ;;
		ha) ha_rows ;;
		*) echo "bench_net: unknown row group '$row'" >&2; return 2 ;;
		esac
	done

	echo >&2
	echo "BSDP benchmark: $(nproc) CPUs, generator and server on the same machine," \
		"$DURATION s per run, window $WINDOW, $CLIENTS simulated Macs" \
		"($(kea-dhcp4 -v 2>/dev/null | head -n 1) / $(/usr/sbin/dhcpd --version 2>&1 | head -n 1))"
	echo
	"$PY" "$UTIL" table "$RESULTS"
	echo "bench_net: done in $((SECONDS - t_start)) s" >&2
}

main "$@"
