#!/bin/sh
# Runs CMD with a throwaway PostgreSQL server of its own (root): a cluster in
# a temporary folder owned by the postgres user, listening only on a unix
# socket there (no TCP), stopped by its PID and removed when CMD ends, also
# when CMD fails or this script is stopped.
#
#   test/pg/with-postgres.sh CMD [ARG...]
#
# CMD sees PGHOST (the socket folder), PGPORT, PGUSER=postgres, PGDATABASE=kea
# (empty), and BSDP_PG_CTL: a command line to which "stop" or "start"
# may be appended to stop or start the server (an outage for a test).
set -eu
[ "$(id -u)" = 0 ] || { echo "with-postgres: must run as root" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "with-postgres: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/bsdp-pg-XXXXXX)
chown postgres: "$dir"
chmod 0700 "$dir"
# From /: the postgres user may not enter the clone (root's home), and its
# tools would warn about the working folder they cannot return to.
as_pg() { env -C / runuser -u postgres -- "$@"; }
pid=""
cleanup() {
	# The postmaster's PID, from its own file (it changes on a restart).
	if [ -f "$dir/data/postmaster.pid" ]; then
		p=$(head -n 1 "$dir/data/postmaster.pid")
		kill -INT "$p" 2>/dev/null || :
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || :
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
port=$((20000 + $$ % 20000))
ctl="env -C / runuser -u postgres -- $bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 30 -o \"-c listen_addresses='' -c unix_socket_directories=$dir -p $port -c fsync=off\""
eval "$ctl start" >/dev/null
as_pg "$bin/createdb" -h "$dir" -p "$port" kea
export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=kea BSDP_PG_CTL="$ctl"
set +e
"$@"
rc=$?
set -e
[ $rc = 0 ] || { echo "with-postgres: server log:" >&2; tail -n 20 "$dir/server.log" >&2; }
exit $rc
