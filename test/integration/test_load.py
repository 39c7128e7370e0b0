#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Two independent kea-dhcp4 servers with libdhcp_bsdp.so (not an HA pair)
on one Ethernet with the client (bsdpnet.SwitchedNet), each with
"server-priority": "load" (issue 22): the less loaded one announces the
higher priority, as Apple's bootpd does, on Kea's path and on the fast path;
a Mac whose broadcast SELECT names the other server is forgotten; with a
shared bindings-database both count every server's selections, and a
SELECT naming the other server keeps the binding it records.

usage (root): test/pg/with-postgres.sh test_load.py --hook /abs/libdhcp_bsdp.so
              --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL per test and "load: N passed, N failed"; exits 1 on any
failure. Namespaces, processes and files are removed even on failure."""
import json
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import test_bindings_db as D  # noqa: E402
import test_ha as H  # noqa: E402

Failure = B.Failure
expect = B.expect

ID_1001 = B.image_id(1001, install=True)    # HTTP, the default
ID_1003 = B.image_id(1003)                  # BootFileOnly
BASE = 32768
OUTSIDE = "198.18.0.99"    # a NetBoot server that shares nothing with ours


class LoadSuite(H.HaSuite):
    """HaSuite's two servers on one Ethernet, run, cleanup and probes,
    without HA."""
    ORDER = ["test_less_loaded_server_announces_higher_priority",
             "test_less_loaded_server_announces_higher_priority_fast_path",
             "test_shared_database_counts_every_servers_selections"]

    def __init__(self, args):
        H.HaSuite.__init__(self, args)
        self.fast_path = False

    # ---- fixtures ----------------------------------------------------------
    def start_servers(self, tag, **over):
        """Both servers, each its own kea-dhcp4 and state file (or the
        database when over has bindings-database); no server-address, so
        each answers as the address it was asked at."""
        keas = []
        for i, srv in enumerate(self.net.servers):
            kea = B.Kea(srv, self.work, "%s-%d" % (tag, i + 1))
            p = {"sets-directory": self.sets, "server-priority": "load"}
            if "bindings-database" not in over:
                p["state-file"] = os.path.join(kea.dir, "bindings.csv")
            p.update(over)
            kea.config(self.args.hook, p)
            self.keas.append(kea)
            keas.append(kea)
        for kea in keas:
            kea.start_checked()
        return keas

    def select(self, mac, server_ip, iid):
        """A Mac's broadcast SELECT naming server_ip: every server sees it,
        only that one answers, with an ACK[SELECT] of iid."""
        pkt = B.bsdp_inform(self.next_xid(), mac, B.bsdp_select(server_ip, iid))
        got = B.probe(self.net, [pkt], timeout=1.5, expect=1, settle=0.3)
        srcs = [g["src"] for g in got]
        expect(srcs == [server_ip], "SELECT naming %s answered by %s" % (server_ip, srcs))
        opts = B.parse_options(got[0]["data"])
        d = B.decode_bsdp(opts)
        expect(d and d.get(1) == b"\x02" and struct.unpack("!I", d[8])[0] == iid,
               "not an ACK[SELECT] of %#x: %r" % (iid, d))
        # Kea's path adds Kea's own options (the domain-name of
        # bsdpnet.Kea's option-data); the fast path's ACK has none.
        keas = B.option(opts, 15) is not None
        expect(keas != self.fast_path, "SELECT answered by %s, want %s" % (
            "Kea's path" if keas else "the fast path",
            "the fast path" if self.fast_path else "Kea's path"))

    def select_outside(self, mac):
        """A broadcast SELECT naming a server that is none of ours: no answer."""
        pkt = B.bsdp_inform(self.next_xid(), mac, B.bsdp_select(OUTSIDE, ID_1001))
        got = B.probe(self.net, [pkt], timeout=1.0)
        expect(got == [], "a SELECT naming %s answered by %s" % (OUTSIDE, [g["src"] for g in got]))

    def priorities(self):
        """{server address: priority} of every ACK[LIST] bsdpc's broadcast
        LIST gets, and the addresses in bsdpc's order (best first)."""
        r = B.run(["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i", self.net.cli_if,
                   "--timeout", "1", "--json"], check=False, timeout=30)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            raise Failure("bsdpc printed no JSON: %r %r" % (r.stdout, r.stderr))
        servers = j.get("servers", [])
        return {s["address"]: s["priority"] for s in servers}, [s["address"] for s in servers]

    def wait_priorities(self, want, timeout=5.0):
        """Waits until bsdpc sees exactly want ({address: priority})."""
        seen = []
        def matches():
            got, _ = self.priorities()
            seen.append(got)
            return got == want
        if not B.wait_until(matches, timeout, step=0.2):
            raise Failure("priorities %s, want %s" % (seen[-1] if seen else None, want))

    def list_selected(self, mac, server_ip):
        """Sub-option 8 of server_ip's ACK[LIST] to mac, or None."""
        pkt = B.bsdp_inform(self.next_xid(), mac, B.bsdp_list())
        got = [g for g in B.probe(self.net, [pkt], timeout=1.5, expect=2, settle=0.3)
               if g["src"] == server_ip]
        expect(len(got) == 1, "no LIST answer from %s" % server_ip)
        d = B.decode_bsdp(B.parse_options(got[0]["data"]))
        return struct.unpack("!I", d[8])[0] if 8 in d else None

    # ---- tests -------------------------------------------------------------
    def independent_servers(self, tag, **over):
        self.fast_path = over.get("fast-path", False)
        s1, s2 = self.net.servers[0].ip, self.net.servers[1].ip
        k1, k2 = self.start_servers(tag, **over)
        self.wait_priorities({s1: BASE, s2: BASE})
        macs = ["02:00:00:22:%02x:01" % i for i in range(4)]
        for m in macs[:3]:
            self.select(m, s1, ID_1001)
        self.select(macs[3], s2, ID_1003)
        got, order = self.priorities()
        expect(got == {s1: BASE - 3, s2: BASE - 1}, "priorities %s, want %s at %d and %s at %d"
               % (got, s1, BASE - 3, s2, BASE - 1))
        expect(order == [s2, s1], "bsdpc's order %s: the less loaded %s first" % (order, s2))
        print("    3 Macs on %s, 1 on %s: priorities %s, bsdpc prefers %s" % (s1, s2, got, order[0]))
        # Point 3: a Mac of server 1 selects server 2 (broadcast): server 1
        # forgets it (its number stays), server 2 records it.
        expect(self.bound_image(k1, macs[0]) == ID_1001, "server 1 lacks %s" % macs[0])
        self.select(macs[0], s2, ID_1003)
        expect(B.wait_until(lambda: self.bound_image(k1, macs[0]) == 0, 2.0),
               "server 1 kept %s after its SELECT named %s: %r" % (
                   macs[0], s2, self.bound_image(k1, macs[0])))
        expect(self.list_selected(macs[0], s1) is None, "server 1 still lists 8 for %s" % macs[0])
        expect(self.list_selected(macs[0], s2) == ID_1003, "server 2 does not list its selection")
        got, _ = self.priorities()
        expect(got == {s1: BASE - 2, s2: BASE - 2}, "after the move: %s" % got)
        # A SELECT naming a server outside: forgotten by the one holding it.
        self.select_outside(macs[3])
        expect(B.wait_until(lambda: self.bound_image(k2, macs[3]) == 0, 2.0),
               "server 2 kept %s" % macs[3])
        got, _ = self.priorities()
        expect(got == {s1: BASE - 2, s2: BASE - 1}, "after a SELECT naming %s: %s" % (OUTSIDE, got))
        print("    after %s chose %s and %s chose %s: %s" % (macs[0], s2, macs[3], OUTSIDE, got))

    def test_less_loaded_server_announces_higher_priority(self):
        self.independent_servers("kea-path")

    def test_less_loaded_server_announces_higher_priority_fast_path(self):
        self.independent_servers("fast-path", **{"fast-path": True})

    def test_shared_database_counts_every_servers_selections(self):
        self.fast_path = False
        if not D.under_postgres("load"):
            raise Failure("needs PostgreSQL: run under test/pg/with-postgres.sh")
        D.fresh_database()
        s1, s2 = self.net.servers[0].ip, self.net.servers[1].ip
        db = {"type": "postgresql", "name": os.environ["PGDATABASE"],
              "host": os.environ["PGHOST"], "port": int(os.environ["PGPORT"]),
              "user": os.environ["PGUSER"], "connect-timeout": 2, "reconnect-wait-time": 200}
        k1, k2 = self.start_servers("shared", **{"bindings-database": db})
        for k in (k1, k2):
            expect(k.lines(r"BSDP_DB_CONNECTED", 10.0), "no BSDP_DB_CONNECTED")
        macs = ["02:00:00:22:db:%02x" % i for i in range(6)]
        for m in macs[:3]:
            self.select(m, s1, ID_1001)
        self.select(macs[3], s2, ID_1003)
        # Both count all four: the count is the database's, not their own.
        self.wait_priorities({s1: BASE - 4, s2: BASE - 4})
        print("    3 Macs through %s, 1 through %s: both announce %d" % (s1, s2, BASE - 4))
        # A Mac of server 1 selects server 2, which shares the database:
        # the binding server 2 records stays everywhere; the load is the same.
        self.select(macs[0], s2, ID_1003)
        expect(B.wait_until(lambda: D.db_rows().get(macs[0], (0,))[0] == ID_1003 and
                            self.bound_image(k1, macs[0]) == ID_1003, 5.0),
               "after a SELECT naming %s: database %r, server 1 %r" % (
                   s2, D.db_rows().get(macs[0]), self.bound_image(k1, macs[0])))
        self.wait_priorities({s1: BASE - 4, s2: BASE - 4})
        # The same in one second (a Mac retrying its SELECT): server 1 has
        # the first one from the database when the second comes; the
        # binding still stays (a forget never beats a selection of its time).
        same_second = False
        for attempt in range(3):
            mac = macs[4] if attempt == 0 else "02:00:00:22:dc:%02x" % attempt
            B.wait_until(lambda: time.time() % 1.0 < 0.1, 1.2, step=0.01)
            second = int(time.time())
            self.select(mac, s2, ID_1001)
            expect(B.wait_until(lambda: self.bound_image(k1, mac) == ID_1001, 5.0),
                   "server 1 never learnt %s's selection" % mac)
            self.select(mac, s2, ID_1001)
            if int(time.time()) != second:
                continue    # the second ended before the retry: not this case
            same_second = True
            expect(B.wait_until(lambda: D.db_rows().get(mac, (0,))[0] == ID_1001 and
                                self.bound_image(k1, mac) == ID_1001 and
                                self.bound_image(k2, mac) == ID_1001, 5.0),
                   "after two SELECTs naming %s in one second: database %r, server 1 %r, "
                   "server 2 %r" % (s2, D.db_rows().get(mac), self.bound_image(k1, mac),
                                    self.bound_image(k2, mac)))
            break
        expect(same_second, "no two SELECTs within one second in 3 attempts")
        bound = len([r for r in D.db_rows().values() if r[0] and not r[2]])
        self.wait_priorities({s1: BASE - bound, s2: BASE - bound})
        # A SELECT naming a server outside the database: forgotten by
        # both servers and in the database, so the load falls.
        self.select_outside(macs[1])
        expect(B.wait_until(lambda: D.db_rows()[macs[1]][0] == 0 and
                            self.bound_image(k1, macs[1]) == 0 and
                            self.bound_image(k2, macs[1]) == 0, 5.0),
               "after a SELECT naming %s: database %r, servers %r %r" % (
                   OUTSIDE, D.db_rows().get(macs[1]), self.bound_image(k1, macs[1]),
                   self.bound_image(k2, macs[1])))
        self.wait_priorities({s1: BASE - bound + 1, s2: BASE - bound + 1})
        print("    a SELECT naming %s keeps the binding; one naming %s forgets it: both %d" % (
            s2, OUTSIDE, BASE - bound + 1))


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("load", LoadSuite, args, ("kea-dhcp4", "ip", "psql"))


if __name__ == "__main__":
    sys.exit(main())
