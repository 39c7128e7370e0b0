#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Two kea-dhcp4 servers with Kea's HA hook (libdhcp_ha.so) and
libdhcp_bsdp.so, on one Ethernet with the client (bsdpnet.SwitchedNet), in
hot-standby and in load-balancing mode: every BSDP INFORM is answered by
exactly one server, the one HA assigns it to; after the primary dies the
standby answers once HA says partner-down. See docs/two-servers.md.

usage (root): test_ha.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

HA's peers talk over HTTP: through HA's own listener where kea-dhcp4 runs
multi-threaded (the default from Kea 2.4), else through a kea-ctrl-agent
per server (2.2's default, single-threaded). Prints PASS/FAIL per test and
"ha: N passed, N failed"; exits 1 on any failure. Namespaces, processes and
files are removed even on failure."""
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import make_sets  # noqa: E402  (bsdpnet put examples/ on the path)
import test_bindings_db as D  # noqa: E402

Failure = B.Failure
expect = B.expect

ID_1001 = B.image_id(1001, install=True)    # make_sets.EXAMPLES' default image
ID_1003 = B.image_id(1003)     # BootFileOnly (no NFS or HTTP URL needed)
HA_PORT = 8001            # HA's own listener (multi-threaded Kea)
AGENT_PORT = 8000         # kea-ctrl-agent (single-threaded Kea)
# Short HA timers (ms) so that a dead partner is noticed in seconds;
# max-unacked-clients 0: partner-down without waiting for clients' retries.
TIMERS = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000,
          "max-unacked-clients": 0}
STATE_WAIT = 60.0         # bound on each wait for an HA state
N_MACS = 200
BATCH = 20                # INFORMs sent at once: within every Kea's receive buffer

# RFC 3074's mixing table, which Kea's HA QueryFilter::loadBalanceHash uses
# (query_filter.cc, the same in 2.2.0, 2.6.3 and 3.0.4).
RFC3074 = bytes([
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0,
    232, 31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57,
    223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179,
    197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23,
    97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108,
    244, 67, 207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193,
    200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75,
    27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115,
    241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221,
    148, 154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11,
    187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118, 112, 184, 172, 87,
    2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66,
    231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189,
    93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120,
    76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190,
    132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
    149, 80, 170, 68, 6, 169, 234, 151])


def ha_server_index(mac):
    """The load-balancing server HA gives a query without a client
    identifier: RFC 3074's hash of chaddr modulo the two servers, 0 being
    the primary (QueryFilter::loadBalance)."""
    key = B.mac_bytes(mac)
    h = len(key)
    for b in reversed(key):
        h = RFC3074[h ^ b]
    return h % 2


def multi_threaded(single_threaded=None):
    """Whether kea-dhcp4 runs multi-threaded in this suite: the version's
    default (on from 2.4) unless --single-threaded."""
    if single_threaded is None:
        single_threaded = B.SINGLE_THREADED
    return not single_threaded and B.kea_multi_threaded_by_default()


class HaPair:
    """Two servers on a SwitchedNet, each kea-dhcp4 with
    libdhcp_lease_cmds.so (HA's lease syncing needs it), libdhcp_ha.so and
    libdhcp_bsdp.so. ha_first: libdhcp_ha.so listed before ours (else
    after). Each server has its own state file (the CSV store)."""

    ROLES = {"hot-standby": ("primary", "standby"),
             "load-balancing": ("primary", "secondary")}

    def __init__(self, suite, mode, ha_first=True, params=None, dhcp4=None, hooks_first=()):
        """params: more hook parameters (with bindings-database, no state
        file); dhcp4: more of each server's Dhcp4 map (hosts-database);
        hooks_first: libraries listed before all others."""
        self.suite, self.mode, self.ha_first = suite, mode, ha_first
        self.net = suite.net
        self.names = ["server1", "server2"]
        self.keas, self.agents = [], []
        tag = "%s-%d" % (mode, suite.next_pair())
        for i, srv in enumerate(self.net.servers):
            kea = B.Kea(srv, suite.work, "%s-%s" % (self.names[i], tag))
            p = suite.params(kea)
            p.update(params or {})
            if "bindings-database" in p:
                del p["state-file"]
            lease_cmds = {"library": os.path.join(B.HOOKS_DIR, "libdhcp_lease_cmds.so")}
            ha = {"library": os.path.join(B.HOOKS_DIR, "libdhcp_ha.so"),
                  "parameters": {"high-availability": [self.relationship(i)]}}
            kea.config(suite.args.hook, p,
                       hooks_before=list(hooks_first) + ([lease_cmds, ha] if ha_first
                                                         else [lease_cmds]),
                       extra_hooks=[] if ha_first else [ha])
            if dhcp4:
                with open(kea.conf) as f:
                    conf = json.load(f)
                conf["Dhcp4"].update(dhcp4)
                with open(kea.conf, "w") as f:
                    json.dump(conf, f, indent=2)
            self.keas.append(kea)
        suite.keas.extend(self.keas)

    def url(self, i):
        port = HA_PORT if multi_threaded() else AGENT_PORT
        return "http://%s:%d/" % (self.net.servers[i].ip, port)

    def relationship(self, i):
        rel = {"this-server-name": self.names[i], "mode": self.mode,
               "peers": [{"name": n, "url": self.url(j), "role": self.ROLES[self.mode][j],
                          "auto-failover": True} for j, n in enumerate(self.names)]}
        rel.update(TIMERS)
        if multi_threaded():
            # HA's own HTTP listener at this server's url: no agent needed.
            rel["multi-threading"] = {"enable-multi-threading": True,
                                      "http-dedicated-listener": True,
                                      "http-listener-threads": 2, "http-client-threads": 2}
        return rel

    def start(self):
        for kea in self.keas:
            kea.start_checked()
        if not multi_threaded():
            for i, kea in enumerate(self.keas):
                self.agents.append(self.start_agent(i, kea))

    def start_agent(self, i, kea):
        """kea-ctrl-agent at this server's url, passing commands to its
        kea-dhcp4's control socket (how 2.2 single-threaded HA peers talk)."""
        conf = os.path.join(kea.dir, "kea-ctrl-agent.conf")
        log = os.path.join(kea.dir, "agent.log")
        with open(conf, "w") as f:
            json.dump({"Control-agent": {
                "http-host": self.net.servers[i].ip, "http-port": AGENT_PORT,
                "control-sockets": {"dhcp4": {"socket-type": "unix",
                                              "socket-name": self.socket(i)}},
                "loggers": [{"name": "kea-ctrl-agent", "severity": "INFO",
                             "output_options": [{"output": log}]}]}}, f, indent=2)
        out = open(os.path.join(kea.dir, "agent.out"), "w")
        proc = subprocess.Popen(["ip", "netns", "exec", self.net.servers[i].srv,
                                 "kea-ctrl-agent", "-c", conf], env=B.kea_env(kea.files),
                                stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.suite.helpers.append(proc)

        def started():
            try:
                with open(log) as f:
                    return "CTRL_AGENT_HTTP_SERVICE_STARTED" in f.read()
            except OSError:
                return False
        if not B.wait_until(lambda: proc.poll() is not None or started(), 10.0) or \
                proc.poll() is not None:
            raise Failure("kea-ctrl-agent for %s did not start" % self.names[i])
        return proc

    def socket(self, i):
        return os.path.join(self.keas[i].dir, "kea4.sock")

    def state(self, i):
        """Server i's HA state as its ha-heartbeat tells, or None."""
        try:
            a = B.control_command(self.socket(i), "ha-heartbeat", timeout=5.0)
        except (OSError, Failure):
            return None
        return (a.get("arguments") or {}).get("state") if a.get("result") == 0 else None

    def wait_states(self, want):
        """Waits (bounded) until server i's state is want[i] for each i
        given (None: not checked)."""
        def reached():
            return all(w is None or self.state(i) == w for i, w in enumerate(want))
        if not B.wait_until(reached, STATE_WAIT, step=0.25):
            raise Failure("HA states %s, want %s; logs:\n%s" % (
                [self.state(i) for i in range(2)], want,
                "\n".join(k.text()[-1500:] for k in self.keas)))

    def kill(self, i):
        """Server i dies at once, as with a power cut: SIGKILL to its
        kea-dhcp4 (and its agent)."""
        procs = [self.keas[i].proc] + ([self.agents[i]] if self.agents else [])
        for p in procs:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


class HaSuite:
    ORDER = ["test_hot_standby_then_failover",
             "test_hot_standby_failover_keeps_selection_and_name",
             "test_load_balancing_servers_agree_on_bindings",
             "test_pins_from_host_database_on_both_servers",
             "test_load_balancing_each_list_answered_once",
             "test_load_balancing_fast_path_after_ha",
             "test_load_balancing_ha_listed_after_ours",
             "test_load_balancing_one_offer_star_per_discover",
             "test_load_balancing_offer_star_with_ha_listed_after_ours",
             "test_hot_standby_offer_star_from_the_primary_only",
             "test_fast_path_before_ha_refused"]

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-ha-")
        self.sets = os.path.join(self.work, "sets")
        self.net = B.SwitchedNet("%05d" % (os.getpid() % 100000))
        self.keas = []
        self.helpers = []
        self.passed = 0
        self.failed = 0
        self.pairs = 0
        self.xid = random.Random(os.getpid()).randrange(1 << 30)

    def run(self):
        order = self.ORDER
        if self.args.k:
            order = [t for t in order if self.args.k in t]
        for folder, keys, files in make_sets.EXAMPLES:
            make_sets.write_set(self.sets, folder, keys, files)
        self.net.up()
        for t in order:
            B.run_test(self, t, after=self.stop_all)

    def stop_all(self):
        B.stop_processes(self.helpers)
        B.stop_keas(self.keas)
        self.helpers, self.keas = [], []

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, procs=self.helpers, keas=self.keas)

    # ---- fixtures ----------------------------------------------------------
    def next_pair(self):
        self.pairs += 1
        return self.pairs

    def next_xid(self):
        self.xid += 1
        return self.xid

    def params(self, kea):
        # No server-address: each answers as the address it was asked at,
        # so option 54 and siaddr tell the servers apart.
        return {"sets-directory": self.sets, "state-file": os.path.join(kea.dir, "bindings.csv")}

    def ask(self, packets, timeout=1.5, expect_n=None):
        """The replies to packets, {xid: [(server address, options)]}. With
        expect_n, returns soon after that many replies came; a duplicate
        arriving later fails the next ask (bsdpnet.Prober)."""
        got = B.probe(self.net, packets, timeout=timeout, expect=expect_n, settle=0.3)
        out = {}
        for g in got:
            opts = B.parse_options(g["data"])
            expect(opts is not None, "a reply from %s is not a DHCP message" % g["src"])
            xid = struct.unpack("!I", g["data"][4:8])[0]
            out.setdefault(xid, []).append((g["src"], opts))
        return out

    def once(self, packet, server_ip, kind):
        """The one reply to packet, which must come from server_ip only
        (listening the whole window: a second server's answer would show)."""
        xid = struct.unpack("!I", packet[4:8])[0]
        replies = self.ask([packet]).get(xid, [])
        expect([src for src, _ in replies] == [server_ip],
               "%s answered by %s, want exactly once by %s" % (
                   kind, [src for src, _ in replies] or "nobody", server_ip))
        src, opts = replies[0]
        expect(B.option(opts, 54) == B.ip_bytes(server_ip),
               "%s: server identifier %r, want %s" % (kind, B.option(opts, 54), server_ip))
        d = B.decode_bsdp(opts)
        expect(d is not None, "%s: option 43 does not decode" % kind)
        return d

    def list_once(self, mac, server_ip):
        d = self.once(B.bsdp_inform(self.next_xid(), mac, B.bsdp_list()), server_ip, "LIST")
        expect(d.get(1) == b"\x01", "not an ACK[LIST]: %r" % d)
        return d

    def select_once(self, mac, server_ip, iid):
        pkt = B.bsdp_inform(self.next_xid(), mac, B.bsdp_select(server_ip, iid))
        d = self.once(pkt, server_ip, "SELECT")
        expect(d.get(1) == b"\x02" and struct.unpack("!I", d[8])[0] == iid,
               "not an ACK[SELECT] of %#x: %r" % (iid, d))
        return d

    def ha_loaded_line(self, kea, ha_position, own_position, fast_path):
        lines = kea.lines(r"BSDP_HA_LOADED", 2.0)
        want = "libdhcp_ha.so is hooks library %d, this library %d (fast-path %s)" % (
            ha_position, own_position, "on" if fast_path else "off")
        expect(len(lines) == 1 and want in lines[0], "BSDP_HA_LOADED: %s, want %r" % (
            lines, want))

    def bound_image(self, kea, mac):
        """The image id server kea's bsdp-bindings-list holds for mac, or None."""
        a = B.control_command(os.path.join(kea.dir, "kea4.sock"), "bsdp-bindings-list")
        for b in (a.get("arguments") or {}).get("bindings", []):
            if b.get("hw-address") == mac:
                return b.get("image")
        return None

    def load_balanced(self, pair):
        """N_MACS Macs' LISTs in batches: each answered exactly once, by the
        server HA's hash assigns. Returns the count per server."""
        ips = [s.ip for s in self.net.servers]
        macs = ["02:42:c6:12:%02x:%02x" % (n >> 8, n & 0xff) for n in range(1, N_MACS + 1)]
        sent, replies = {}, {}
        for at in range(0, len(macs), BATCH):
            batch = []
            for mac in macs[at:at + BATCH]:
                xid = self.next_xid()
                sent[xid] = mac
                batch.append(B.bsdp_inform(xid, mac, B.bsdp_list()))
            for xid, rs in self.ask(batch, timeout=5.0, expect_n=len(batch)).items():
                replies.setdefault(xid, []).extend(rs)
        # Late replies to the last batch (a second server's) show here.
        for xid, rs in self.ask([], timeout=1.5).items():
            replies.setdefault(xid, []).extend(rs)
        twice = {sent.get(x, x): [s for s, _ in r] for x, r in replies.items() if len(r) > 1}
        unanswered = [m for x, m in sent.items() if x not in replies]
        stray = [x for x in replies if x not in sent]
        expect(not twice and not unanswered and not stray,
               "answered twice: %s; unanswered: %s; unknown xids: %s" % (
                   list(twice.items())[:5], unanswered[:5], stray[:5]))
        wrong = [(m, replies[x][0][0]) for x, m in sent.items()
                 if replies[x][0][0] != ips[ha_server_index(m)]]
        expect(not wrong, "%d of %d Macs answered by the server HA's hash does not pick: %s" % (
            len(wrong), len(macs), wrong[:5]))
        per = [sum(1 for r in replies.values() if r[0][0] == ip) for ip in ips]
        expect(all(per), "one server answered nothing: %s" % per)
        return per

    # ---- tests -------------------------------------------------------------
    def test_hot_standby_then_failover(self):
        pair = HaPair(self, "hot-standby")
        pair.start()
        pair.wait_states(["hot-standby", "hot-standby"])
        self.ha_loaded_line(pair.keas[0], 2, 3, False)
        primary, standby = (s.ip for s in self.net.servers)
        mac = "02:42:c6:12:00:01"
        self.list_once(mac, primary)
        self.select_once(mac, primary, ID_1001)
        expect(self.selected_in(self.list_once(mac, primary)) == ID_1001,
               "the primary's LIST does not show the selection")
        pair.kill(0)
        pair.wait_states([None, "partner-down"])
        d = self.list_once(mac, standby)
        # Today each server keeps its own state file: the selection made
        # on the primary is not the standby's (docs/two-servers.md).
        carried = self.selected_in(d) == ID_1001
        print("    after failover the standby's LIST %s the selection made on the primary "
              "(standby's bindings: %s)" % ("shows" if carried else "does not show",
                                            self.bound_image(pair.keas[1], mac)))
        self.select_once(mac, standby, ID_1001)
        expect(self.selected_in(self.list_once(mac, standby)) == ID_1001,
               "the standby's LIST does not show the selection made on it")

    def selected_in(self, d):
        return struct.unpack("!I", d[8])[0] if 8 in d else None

    def lb_test(self, ha_first, fast_path, positions):
        pair = HaPair(self, "load-balancing", ha_first=ha_first,
                      params={"fast-path": True} if fast_path else None)
        pair.start()
        pair.wait_states(["load-balancing", "load-balancing"])
        for kea in pair.keas:
            self.ha_loaded_line(kea, positions[0], positions[1], fast_path)
        per = self.load_balanced(pair)
        print("    %d Macs: %d answered by server1, %d by server2, as HA's hash says" % (
            N_MACS, per[0], per[1]))

    def test_load_balancing_each_list_answered_once(self):
        self.lb_test(ha_first=True, fast_path=False, positions=(2, 3))

    def test_load_balancing_fast_path_after_ha(self):
        self.lb_test(ha_first=True, fast_path=True, positions=(2, 3))

    def test_load_balancing_ha_listed_after_ours(self):
        # Kea's path: HA's buffer4_receive still decides after ours
        # (ours leaves status SKIP, which HA's callout does not stop at).
        self.lb_test(ha_first=False, fast_path=False, positions=(3, 2))

    def offer_star_test(self, mode, ha_first=True):
        """Both servers hold a binding for two Macs (bsdp-binding-set) and
        offer addresses: a bound Mac's DISCOVER gets Kea's OFFER and the
        OFFER* from the one server HA lets answer it, never from the other.
        Returns the Macs by the index of the server that answers them."""
        pool = {"subnet4": [{"id": 1, "subnet": "198.18.0.0/24",
                             "pools": [{"pool": "198.18.0.100 - 198.18.0.150"}]}]}
        pair = HaPair(self, mode, ha_first=ha_first, dhcp4=pool)
        pair.start()
        pair.wait_states([mode, mode])
        ips = [s.ip for s in self.net.servers]
        macs = {}
        for n in range(1, 100):
            mac = "02:42:c6:15:00:%02x" % n
            macs.setdefault(ha_server_index(mac) if mode == "load-balancing" else n - 1, mac)
            if len(macs) == 2:
                break
        answering = {mac: i if mode == "load-balancing" else 0 for i, mac in macs.items()}
        for kea in pair.keas:
            for mac in macs.values():
                a = B.control_command(os.path.join(kea.dir, "kea4.sock"), "bsdp-binding-set",
                                      {"hw-address": mac, "image": 1003})
                expect(a.get("result") == 0, "bsdp-binding-set: %s" % a)
        vendor = "AAPLBSDPC/i386/MacBookPro11,1"
        for mac, i in sorted(answering.items()):
            pkt = B.dhcp_message(self.next_xid(), mac, [(60, vendor), (43, bytes([2, 2, 1, 1]))],
                                 ciaddr="0.0.0.0", msgtype=1)
            # The whole window: a second server's OFFER* would show.
            got = B.probe(self.net, [pkt], src_ip="0.0.0.0", timeout=2.0)
            replies = [(g["src"], B.parse_options(g["data"]), g["data"]) for g in got
                       if g["data"][4:8] == pkt[4:8]]
            stars = [(src, d) for src, o, d in replies if B.option(o, 60) == b"AAPLBSDPC"]
            offers = [src for src, o, d in replies if B.option(o, 60) != b"AAPLBSDPC"]
            expect([src for src, _ in stars] == [ips[i]],
                   "%s: OFFER* from %s, want exactly once from %s" % (
                       mac, [src for src, _ in stars] or "nobody", ips[i]))
            expect(offers == [ips[i]], "%s: Kea's OFFER from %s" % (mac, offers))
            d = stars[0][1]
            expect(d[12:20] == bytes(8) and d[20:24] == B.ip_bytes(ips[i]),
                   "OFFER*: ciaddr/yiaddr %r, siaddr %r" % (d[12:20], d[20:24]))
            sub = B.decode_bsdp(B.parse_options(d))
            expect(sub and struct.unpack("!I", sub[8])[0] == ID_1003,
                   "OFFER* names %r, want %#x" % (sub, ID_1003))
        sent = [B.statistic(kea, "bsdp.offers-sent", 0) for kea in pair.keas]
        want = [sum(1 for i in answering.values() if i == k) for k in (0, 1)]
        expect(sent == want, "bsdp.offers-sent per server %s, want %s" % (sent, want))
        print("    each bound Mac's DISCOVER: Kea's OFFER and one OFFER*, from the server HA "
              "lets answer (%s)" % ", ".join("%s by server%d" % (m, i + 1)
                                            for m, i in sorted(answering.items())))

    def test_load_balancing_one_offer_star_per_discover(self):
        self.offer_star_test("load-balancing")

    def test_load_balancing_offer_star_with_ha_listed_after_ours(self):
        # pkt4_receive comes after HA's buffer4_receive in either order.
        self.offer_star_test("load-balancing", ha_first=False)

    def test_hot_standby_offer_star_from_the_primary_only(self):
        self.offer_star_test("hot-standby")

    # ---- both servers on one PostgreSQL database (test/pg/with-postgres.sh) --
    def database(self):
        return {"type": "postgresql", "name": os.environ["PGDATABASE"],
                "host": os.environ["PGHOST"], "port": int(os.environ["PGPORT"]),
                "user": os.environ["PGUSER"], "reconnect-wait-time": 200}

    def shared_pair(self, mode):
        D.fresh_database()
        pair = HaPair(self, mode, params={"bindings-database": self.database(),
                                          "machine-name-format": "Lab%03d"})
        pair.start()
        for kea in pair.keas:
            expect(kea.lines(r"BSDP_DB_CONNECTED", 10.0), "no BSDP_DB_CONNECTED")
        return pair

    def test_hot_standby_failover_keeps_selection_and_name(self):
        pair = self.shared_pair("hot-standby")
        pair.wait_states(["hot-standby", "hot-standby"])
        primary, standby = (s.ip for s in self.net.servers)
        mac = "02:42:c6:12:01:01"
        for other in ("02:42:c6:12:01:02", "02:42:c6:12:01:03"):
            self.select_once(other, primary, ID_1001)
        name = self.select_once(mac, primary, ID_1001).get(130, b"").decode()
        expect(name == "Lab003", "machine name %r from the primary, want Lab003" % name)
        expect(B.wait_until(lambda: self.bound_image(pair.keas[1], mac) == ID_1001, 5.0),
               "the standby never learnt the selection made on the primary")
        pair.kill(0)
        pair.wait_states([None, "partner-down"])
        expect(self.selected_in(self.list_once(mac, standby)) == ID_1001,
               "after failover the standby's LIST lacks the selection (8 = 1001)")
        again = self.select_once(mac, standby, ID_1001).get(130, b"").decode()
        expect(again == name, "machine name %r from the standby, %r from the primary" %
               (again, name))
        print("    after SIGKILL of the primary the standby lists image 1001 as selected and "
              "names the Mac %s, as the primary did" % again)

    def test_load_balancing_servers_agree_on_bindings(self):
        pair = self.shared_pair("load-balancing")
        pair.wait_states(["load-balancing", "load-balancing"])
        ips = [s.ip for s in self.net.servers]
        macs = ["02:42:c6:13:%02x:%02x" % (n >> 8, n & 0xff) for n in range(1, N_MACS + 1)]
        names = {}
        for at in range(0, len(macs), BATCH):
            sent = {}
            for mac in macs[at:at + BATCH]:
                xid = self.next_xid()
                sent[xid] = mac
            pkts = [B.bsdp_inform(x, m, B.bsdp_select(ips[ha_server_index(m)], ID_1001))
                    for x, m in sent.items()]
            replies = self.ask(pkts, timeout=5.0, expect_n=len(pkts))
            for xid, mac in sent.items():
                rs = replies.get(xid, [])
                expect([src for src, _ in rs] == [ips[ha_server_index(mac)]],
                       "%s's SELECT answered by %s" % (mac, [src for src, _ in rs]))
                names[mac] = B.decode_bsdp(rs[0][1]).get(130, b"").decode()
        expect(len(set(names.values())) == N_MACS, "machine names not unique across servers")

        def held(kea):
            a = B.control_command(os.path.join(kea.dir, "kea4.sock"), "bsdp-bindings-list")
            return {b["hw-address"]: (b["image"], b["machine-name"])
                    for b in (a.get("arguments") or {}).get("bindings", [])}
        want = {m: (ID_1001, names[m]) for m in macs}
        expect(B.wait_until(lambda: held(pair.keas[0]) == want and held(pair.keas[1]) == want,
                            10.0), "the servers' bindings differ: %d and %d of %d agree" % (
                   sum(held(pair.keas[0]).get(m) == v for m, v in want.items()),
                   sum(held(pair.keas[1]).get(m) == v for m, v in want.items()), N_MACS))
        per = [sum(1 for m in macs if ha_server_index(m) == i) for i in (0, 1)]
        print("    %d Macs selected (%d through server1, %d through server2); both servers "
              "hold all %d bindings, same images and machine names" % (N_MACS, per[0], per[1],
                                                                     N_MACS))

    def test_pins_from_host_database_on_both_servers(self):
        D.fresh_database()
        D.kea_host_schema()
        # One Mac per server, by HA's hash, each pinned by a reservation that
        # lives only in the database.
        pinned = {}
        for n in range(1, 100):
            mac = "02:42:c6:14:00:%02x" % n
            pinned.setdefault(ha_server_index(mac), mac)
            if len(pinned) == 2:
                break
        D.psql("DELETE FROM hosts")
        for mac in pinned.values():
            D.psql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id,"
                   " user_context) VALUES (decode('%s', 'hex'), 0, 1, '{\"bsdp-image\": 1003}')"
                   % mac.replace(":", ""))
        hosts = dict(self.database())
        del hosts["reconnect-wait-time"]
        first = [{"library": os.path.join(B.HOOKS_DIR, "libdhcp_pgsql.so")}] \
            if B.kea_pgsql_is_a_hook() else []
        pair = HaPair(self, "load-balancing", dhcp4={"hosts-database": hosts}, hooks_first=first)
        pair.start()
        pair.wait_states(["load-balancing", "load-balancing"])
        ips = [s.ip for s in self.net.servers]
        for i, mac in sorted(pinned.items()):
            expect(self.selected_in(self.list_once(mac, ips[i])) == ID_1003,
                   "server%d's LIST for %s lacks the pin from the host database" % (i + 1, mac))
        print("    each server's LIST carries the pin (8 = 1003) read from the PostgreSQL host "
              "database: %s" % ", ".join("%s by server%d" % (m, i + 1)
                                        for i, m in sorted(pinned.items())))

    def test_fast_path_before_ha_refused(self):
        pair = HaPair(self, "load-balancing", ha_first=False, params={"fast-path": True})
        kea = pair.keas[0]
        expect(not kea.start(), "kea-dhcp4 started with fast-path before libdhcp_ha.so")
        expect(kea.wait_exit(10.0) is not None, "kea-dhcp4 did not exit")
        lines = kea.lines(r"BSDP_LOAD_ERROR")
        expect(lines and "parameter 'fast-path'" in lines[0] and
               "list libdhcp_ha.so before libdhcp_bsdp.so" in lines[0],
               "no BSDP_LOAD_ERROR naming fast-path and the order: %s\n%s" % (
                   lines, kea.text()[-1500:]))


def main():
    if not D.under_postgres("ha"):
        return 1
    args = B.suite_arguments().parse_args()
    tools = ("kea-dhcp4", "ip", "bridge") + (() if multi_threaded(args.single_threaded)
                                              else ("kea-ctrl-agent",))
    return B.run_suite("ha", HaSuite, args, tools)


if __name__ == "__main__":
    sys.exit(main())
