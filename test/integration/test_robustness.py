#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Robustness of the hook inside a real kea-dhcp4: multi-threaded load while
the catalogue is reloaded and changed, and faults (full filesystem under the
state file, a sets-directory that vanishes or cannot be read, a plist that
changes while it is scanned, a set the server may not read, a flood of
malformed BSDP packets), and build/bsdp-load (next to bsdpc) sending LIST and
SELECT at once with a new MAC per request, or cycling through MACs, while
every state file the hook saves is read and checked whole.

usage (root): test_robustness.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]
              [--duration SEC] [--load-seconds SEC] [--window N]

Prints PASS/FAIL per test and "robustness: N passed, N failed"; exits 1 on
any failure. Namespaces, mounts, processes and files are removed even on
failure. The load generator is this file run with --drive inside the client
namespace (it needs that namespace's sockets)."""
import collections
import ctypes
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402

SERVER_ID = B.ip_bytes(B.SERVER_IP)
HTTP_URL = "http://198.18.0.1/netboot"
NFS_URL = "nfs:198.18.0.1:/srv/netboot/sets"
TFTP_PREFIX = "netboot/"
VENDOR = b"AAPLBSDPC/i386/MacBookPro11,1"
NOBODY = 65534
UNKNOWN_ID = B.image_id(3999)          # never exists: always FAILED
N_STABLE = 8                           # 1001..1008, never change
N_VOLATILE = 12                        # 2001..2012, added/removed/modified
LOAD_PREFIX = 0x5e                     # bsdp-load --mac-prefix
LOAD_IMAGE = 1002                      # what bsdp-load SELECTs
DEFAULT_MAX_BINDINGS = 65536           # the hook's bindings table by default
SET_FILES = ["i386/booter", "i386/x86_64/kernelcache", "A.dmg", "B.dmg"]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


Failure = B.Failure
expect = B.expect


# ---- what the core decides (hook/bsdp_codec.c, hook/responder.c) ----------

# Exact lengths of the request sub-options the core knows; 11 is pairs.
LEN_RULES = {1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 4, 8: 4, 10: 0, 12: 2}


def core_verdict(opt60, opt43):
    """"malformed", "incomplete" or "ok" for a request whose option 60
    starts with AAPLBSDPC/, by the core's rules; opt43 None = absent."""
    arch_model = opt60[len(b"AAPLBSDPC/"):]
    if b"\0" in opt60 or b"\n" in opt60:
        return "malformed"
    arch, _, model = arch_model.partition(b"/")
    if not arch or len(arch) > 31 or len(model) > 255:
        return "malformed"
    d = opt43 or b""
    present = set()
    at = 0
    while True:
        while at < len(d) and d[at] == 0:
            at += 1
        if at >= len(d) or d[at] == 255:
            break
        if len(d) - at < 2 or d[at + 1] > len(d) - at - 2:
            return "malformed"
        code, n = d[at], d[at + 1]
        if code == 11 and (n < 2 or n % 2):
            return "malformed"
        if code in LEN_RULES and n != LEN_RULES[code]:
            return "malformed"
        if code < 32:
            present.add(code)
        at += 2 + n
    return "ok" if {1, 2} <= present else "incomplete"


# ---- NetBoot sets ---------------------------------------------------------

def set_folder(index):
    return ("Stable-%d.nbi" if index < 2000 else "Volatile-%d.nbi") % index


def set_keys(index, variant="a"):
    nfs = 1005 <= index <= 1008
    return {"Name": "%s %d variant %s" % ("Stable" if index < 2000 else "Volatile", index,
                                          variant),
            "Index": index, "Type": "NFS" if nfs else "HTTP", "Kind": 1,
            "IsDefault": index == 1001, "BootFile": "booter", "Architectures": ["i386"],
            "RootPath": "A.dmg" if variant == "a" else "B.dmg"}


def write_set(parent, folder, keys):
    return B.write_set(parent, folder, keys, SET_FILES)


def expected_boot(index):
    """(file, [acceptable root paths]) of an ACK[SELECT] for this index; a
    volatile set's root path is A.dmg or B.dmg depending on its version."""
    folder = set_folder(index)
    roots = []
    for dmg in ("A.dmg", "B.dmg") if index >= 2000 else ("A.dmg",):
        if 1005 <= index <= 1008:
            roots.append("%s:%s/%s" % (NFS_URL, folder, dmg))
        else:
            roots.append("%s/%s/%s" % (HTTP_URL, folder, dmg))
    return TFTP_PREFIX + folder + "/i386/booter", roots


RENAME_EXCHANGE = 2


def exchange(a, b):
    """Swaps two directories in one step, so a scan sees one or the other."""
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD = -100
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), a)


# ---- control socket -------------------------------------------------------

command = B.control_command


def bsdp_stats(sock_path):
    a = command(sock_path, "statistic-get-all")
    return {k: v[0][0] for k, v in a.get("arguments", {}).items() if k.startswith("bsdp.")}


# ---- the driver (runs inside the client namespace) ------------------------

def relay_request(xid, mac, opt43, vendor=VENDOR, with43=True):
    """An INFORM as a relay agent (giaddr and ciaddr = the client namespace's
    address) forwards it: Kea answers at ciaddr:68, which we bind."""
    opts = [(55, bytes([1, 3, 43, 60])), (60, vendor)]
    if with43:
        opts.append((43, opt43))
    return B.dhcp_message(xid, mac, opts, ciaddr=B.CLIENT_IP, giaddr=B.CLIENT_IP, hops=1)


def udp_sockets():
    socks = []
    for port in (67, 68):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", port))
        s.setblocking(False)
        socks.append(s)
    return socks


def recv_all(socks, limit=512):
    out = []
    for s in socks:
        for _ in range(limit):
            try:
                out.append(s.recv(4096))
            except BlockingIOError:
                break
    return out


class Driver:
    """N simulated Macs, each with at most one request outstanding (as a Mac
    does), LIST or SELECT at random, every reply checked on arrival."""

    def __init__(self, spec):
        self.spec = spec
        self.rnd = random.Random(spec["seed"])
        self.macs = ["02:5a:%02x:00:%02x:%02x" % (spec["seed"] & 0xff, i >> 8, i & 0xff)
                     for i in range(spec["clients"])]
        self.stable = set(spec["stable"])
        self.known = set(spec["stable"]) | set(spec["volatile"])
        self.targets = sorted(self.known) + [UNKNOWN_ID]
        self.boot = {int(k): v for k, v in spec["boot"].items()}
        self.seq = [0] * len(self.macs)
        self.outstanding = {}             # mac index -> (xid, kind, image, sent)
        self.last_ack = {}                # mac index -> image of the last ACK[SELECT]
        self.pending = collections.defaultdict(set)   # SELECTs whose answer was lost
        self.c = collections.Counter()
        self.errors = []
        self.samples = []

    def error(self, what):
        self.c["errors"] += 1
        if len(self.errors) < 20:
            self.errors.append(what)

    def build(self, i):
        self.seq[i] = (self.seq[i] + 1) & 0xfffff
        xid = (i << 20) | self.seq[i]
        if self.rnd.random() < 0.5:
            kind, image = "list", 0
            opt43 = B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc]))
        else:
            kind, image = "select", self.rnd.choice(self.targets)
            opt43 = B.bsdp_select(B.SERVER_IP, image)
        return xid, kind, image, relay_request(xid, self.macs[i], opt43)

    def sample(self, data, kind, info):
        n = self.c["replies"]
        first = self.c["sampled-" + info["type"]] == 0
        if not first and n % self.spec["sample_every"]:
            return
        if len(self.samples) >= self.spec["sample_max"]:
            return
        self.c["sampled-" + info["type"]] += 1
        path = os.path.join(self.spec["sample_dir"], "%06d-%s.bin" % (n, info["type"]))
        with open(path, "wb") as f:
            f.write(data)
        self.samples.append(dict(info, path=path, request=kind))

    def check(self, i, kind, image, data):
        """Every reply: a whole DHCP message whose option 43 instances each
        parse, the right kind, the right content for what was asked."""
        mac = self.macs[i]
        opts = B.parse_options(data)
        if opts is None or data[0] != 2:
            return self.error("%s %s: not a well-formed DHCP reply" % (mac, kind))
        if B.option(opts, 60) != b"AAPLBSDPC" or B.option(opts, 54) != SERVER_ID:
            return self.error("%s %s: option 60 %r / 54 %r" % (mac, kind, B.option(opts, 60),
                                                            B.option(opts, 54)))
        d = B.decode_bsdp(opts)
        if d is None or 1 not in d:
            return self.error("%s %s: option 43 does not decode" % (mac, kind))
        t = d[1]
        if kind == "list":
            if t != b"\x01":
                return self.error("%s LIST answered with type %r" % (mac, t))
            self.c["lists"] += 1
            ids = [x for x, _ in d["images"]]
            if len(ids) != len(set(ids)) or not set(ids) <= self.known:
                return self.error("%s LIST: unknown or repeated ids %s" % (mac, ids))
            if not self.stable <= set(ids):
                return self.error("%s LIST lacks stable images: %s" % (mac, ids))
            if 7 not in d or struct.unpack("!I", d[7])[0] != self.spec["default"]:
                return self.error("%s LIST default %r" % (mac, d.get(7)))
            sel = struct.unpack("!I", d[8])[0] if 8 in d else None
            may = {self.last_ack.get(i)} | self.pending[i]
            if sel is not None and sel not in may:
                return self.error("%s LIST selected %#x, last ACK %#x" %
                                  (mac, sel, self.last_ack.get(i) or 0))
            if sel is None and self.last_ack.get(i) in self.stable and not self.pending[i]:
                return self.error("%s LIST lost the binding to stable %#x" %
                                  (mac, self.last_ack[i]))
            self.sample(data, kind, {"type": "list", "images": len(ids), "selected": sel})
            return
        if t == b"\x03":
            blocks = [v for c, v in opts if c == 43]
            if blocks != [b"\x01\x01\x03"] or B.option(opts, 17) is not None or data[108]:
                return self.error("%s FAILED carries more: %s" % (mac, blocks))
            if image in self.stable:
                return self.error("%s SELECT of stable %#x FAILED" % (mac, image))
            self.c["failed"] += 1
            self.c["failed-unknown" if image == UNKNOWN_ID else "failed-volatile"] += 1
            self.sample(data, kind, {"type": "failed", "image": image})
            return
        if t != b"\x02":
            return self.error("%s SELECT answered with type %r" % (mac, t))
        got = struct.unpack("!I", d[8])[0] if 8 in d else None
        want_file, roots = self.boot.get(image, (None, []))
        bfile = data[108:236].rstrip(b"\0").decode("latin-1")
        root = (B.option(opts, 17) or b"").decode("latin-1")
        if image == UNKNOWN_ID or got != image or bfile != want_file or root not in roots or \
                data[20:24] != SERVER_ID or 130 not in d:
            return self.error("%s ACK[SELECT] for %#x: id %r file %r root %r" %
                              (mac, image, got, bfile, root))
        self.c["acks"] += 1
        self.last_ack[i] = image
        self.pending[i].clear()
        self.sample(data, kind, {"type": "ack", "image": image, "file": bfile, "root": root})

    def run(self):
        spec = self.spec
        socks = udp_sockets()
        # A relay sends from port 67: the one bound socket sends too.
        sender = socks[0]
        dest = (B.SERVER_IP, 67)
        idle = collections.deque(range(len(self.macs)))
        start = time.monotonic()
        end = start + spec["duration"]
        hard_end = end + spec["timeout"] + 1
        next_expire = start
        while True:
            now = time.monotonic()
            if now >= hard_end or (now >= end and not self.outstanding):
                break
            while now < end and idle and len(self.outstanding) < spec["window"]:
                i = idle.popleft()
                xid, kind, image, pkt = self.build(i)
                try:
                    sender.sendto(pkt, dest)
                except (BlockingIOError, OSError):
                    idle.appendleft(i)
                    break
                self.outstanding[i] = (xid, kind, image, now)
                self.c["sent"] += 1
                self.c["sent-" + kind] += 1
            select.select(socks, [], [], 0.005)
            for data in recv_all(socks):
                if len(data) < 240:
                    self.error("short datagram of %d bytes" % len(data))
                    continue
                xid = struct.unpack("!I", data[4:8])[0]
                i = xid >> 20
                if i >= len(self.macs) or i not in self.outstanding or \
                        self.outstanding[i][0] != xid:
                    self.c["late"] += 1
                    continue
                if data[28:34] != B.mac_bytes(self.macs[i]):
                    self.error("reply for xid %#x has chaddr %s" % (xid, data[28:34].hex()))
                    continue
                _, kind, image, _ = self.outstanding.pop(i)
                self.c["replies"] += 1
                self.check(i, kind, image, data)
                idle.append(i)
            now = time.monotonic()
            if now >= next_expire:
                next_expire = now + 0.05
                for i, (xid, kind, image, sent) in list(self.outstanding.items()):
                    if now - sent > spec["timeout"]:
                        del self.outstanding[i]
                        self.c["lost"] += 1
                        if kind == "select":
                            # Kea may have recorded it: either binding is right.
                            self.pending[i].add(image)
                        idle.append(i)
        for s in socks:
            s.close()
        return {"counts": dict(self.c), "errors": self.errors, "samples": self.samples,
                "seconds": time.monotonic() - start,
                "last_ack": {self.macs[i]: v for i, v in self.last_ack.items()},
                "pending": {self.macs[i]: sorted(v) for i, v in self.pending.items() if v},
                "macs": self.macs}


def blast(spec):
    """Sends prebuilt packets in batches; after each batch waits until the
    hook has counted every packet of it (so Kea's packet queue never
    overflows and nothing is lost unseen)."""
    with open(spec["packets"]) as f:
        packets = [bytes.fromhex(p) for p in json.load(f)]
    socks = udp_sockets()
    dest = (B.SERVER_IP, 67)
    names = spec["stats"]
    base = bsdp_stats(spec["socket"])
    base_sum = sum(base.get(n, 0) for n in names)
    replies = sent = 0
    stalled = None
    t0 = time.monotonic()
    for at in range(0, len(packets), spec["batch"]):
        for p in packets[at:at + spec["batch"]]:
            for _ in range(100):           # a full send buffer: wait a little
                try:
                    socks[0].sendto(p, dest)
                    break
                except BlockingIOError:
                    time.sleep(0.001)
            sent += 1
        deadline = time.monotonic() + 5
        while True:
            st = bsdp_stats(spec["socket"])
            if sum(st.get(n, 0) for n in names) - base_sum >= sent:
                break
            if time.monotonic() > deadline:
                stalled = {"sent": sent, "counted": sum(st.get(n, 0) for n in names) - base_sum}
                break
            time.sleep(0.002)
        replies += len(recv_all(socks))
        if stalled:
            break
    time.sleep(0.3)
    replies += len(recv_all(socks))
    for s in socks:
        s.close()
    return {"sent": sent, "replies": replies, "stalled": stalled,
            "seconds": time.monotonic() - t0}


def drive_main():
    spec = json.load(sys.stdin)
    out = Driver(spec).run() if spec["mode"] == "load" else blast(spec)
    json.dump(out, sys.stdout)
    return 0


# ---- the suite ------------------------------------------------------------

class RobustnessSuite:
    ORDER = ["test_multithreaded_load_with_reloads_loses_nothing",
             "test_state_file_on_full_filesystem",
             "test_sets_directory_gone_or_unreadable_keeps_catalogue",
             "test_plist_rewritten_while_scanned",
             "test_permission_denied_on_one_set",
             "test_ten_thousand_malformed_packets_dropped_and_counted",
             "test_load_new_mac_per_request_state_file_whole",
             "test_load_cycling_macs_state_file_whole"]

    def __init__(self, args):
        import tempfile
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-robustness-")
        self.sets = os.path.join(self.work, "sets")
        self.net = B.Net("r%05d" % (os.getpid() % 100000))
        self.keas = []
        self.helpers = []
        self.mounts = []
        self.passed = 0
        self.failed = 0
        self.xid = random.Random(os.getpid()).randrange(1 << 30)

    # ---- fixtures ----------------------------------------------------------
    def make_sets(self, parent, volatile=()):
        os.makedirs(parent, exist_ok=True)
        for i in range(1001, 1001 + N_STABLE):
            write_set(parent, set_folder(i), set_keys(i))
        for i in volatile:
            write_set(parent, set_folder(i), set_keys(i))

    def params(self, **over):
        p = {"sets-directory": self.sets, "nfs-url": NFS_URL, "http-url": HTTP_URL,
             "tftp-path-prefix": TFTP_PREFIX, "state-file": os.path.join(self.work, "b.csv")}
        p.update(over)
        return p

    def start(self, name, threads=4, debug=False, no_dac=False, **over):
        """kea-dhcp4 with the hook, multi-threaded. no_dac: without
        CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so file modes bind it as they
        bind Debian's _kea (root ignores chmod otherwise)."""
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook, self.params(**over))
        with open(kea.conf) as f:
            conf = json.load(f)
        d = conf["Dhcp4"]
        d["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": threads,
                                "packet-queue-size": 64}
        if not debug:
            # Per-packet debug lines would make the log the bottleneck.
            d["loggers"][1].update(severity="INFO", debuglevel=0)
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        self.keas.append(kea)
        ok = B.start_kea(kea, self.work, no_dac)
        expect(ok, "kea-dhcp4 %s did not start:\n%s" % (name, kea.text()[-2000:]))
        return kea

    def sock(self, kea):
        return os.path.join(kea.dir, "kea4.sock")

    def cmd(self, kea, name, arguments=None):
        return command(self.sock(kea), name, arguments)

    def stop_clean(self, kea):
        """SIGTERM: the hook unloads (final state save) and kea-dhcp4 exits
        0. Under the sanitizer preload kea-dhcp4 itself hangs at exit (see
        ops_tests), so there only the unload is checked."""
        expect(kea.alive(), "kea-dhcp4 %s is not running" % kea.dir)
        os.kill(kea.proc.pid, signal.SIGTERM)
        closed = self.wait("unload", lambda: "HOOKS_LIBRARY_CLOSED" in kea.text().split(
            "BSDP_UNLOADED", 1)[-1] and "BSDP_UNLOADED" in kea.text(), 15)
        rc = None if os.environ.get("BSDP_SANITIZER_PRELOAD") else kea.wait_exit(15)
        if rc is None:
            kea.stop()
        else:
            kea.proc = None
        expect(closed, "no BSDP_UNLOADED and HOOKS_LIBRARY_CLOSED after SIGTERM")
        if not os.environ.get("BSDP_SANITIZER_PRELOAD"):
            expect(rc == 0, "kea-dhcp4 exit status %r after SIGTERM" % rc)
        reports = kea.sanitizer_reports()
        expect(not reports, "sanitizer reports:\n%s" % reports[:3000])

    def error_lines(self, kea, allow=()):
        return [l for l in kea.text().splitlines()
                if re.search(r"\b(ERROR|FATAL)\s+\[", l) and not any(a in l for a in allow)]

    def next_xid(self):
        self.xid += 1
        return self.xid

    def inform(self, opt43, mac=None):
        return B.dhcp_message(self.next_xid(), mac or self.net.cli_mac,
                              [(55, bytes([1, 3, 43, 60])), (60, VENDOR), (43, opt43)])

    def list_ids(self, mac=None):
        got = B.probe(self.net, [self.inform(B.bsdp_list(extra=bytes([12, 2, 5, 0xdc])), mac)],
                      expect=1)
        expect(len(got) == 1, "LIST: %d replies" % len(got))
        d = B.decode_bsdp(B.parse_options(got[0]["data"]))
        expect(d is not None and d.get(1) == b"\x01", "LIST not answered with ACK[LIST]")
        return [i for i, _ in d["images"]]

    def select(self, macs, image):
        """SELECTs from several MACs in one batch; the decoded replies."""
        got = B.probe(self.net, [self.inform(B.bsdp_select(B.SERVER_IP, image), m)
                                 for m in macs], timeout=1.5, expect=len(macs))
        return [B.decode_bsdp(B.parse_options(g["data"])) for g in got]

    def in_client_ns(self, spec, timeout):
        r = B.run(["ip", "netns", "exec", self.net.cli, B.PYTHON, os.path.abspath(__file__),
                   "--drive"], input=json.dumps(spec), timeout=timeout, check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise Failure("driver printed no JSON (rc %d): %s" % (r.returncode, r.stderr[-1500:]))

    def stable_ids(self):
        return {B.image_id(i) for i in range(1001, 1001 + N_STABLE)}

    def parse_state(self, path):
        return {mac: v[0] for mac, v in B.parse_state(path).items()}

    def wait(self, what, pred, timeout=8.0, step=0.1):
        return B.wait_until(pred, timeout, step)

    # ---- tests -------------------------------------------------------------
    def test_multithreaded_load_with_reloads_loses_nothing(self):
        staging = os.path.join(self.work, "staging")
        os.makedirs(staging)
        volatile = list(range(2001, 2001 + N_VOLATILE))
        present = {i: "a" for i in volatile[:N_VOLATILE // 2]}
        self.make_sets(self.sets, present)
        state = os.path.join(self.work, "mt.csv")
        kea = self.start("mt", threads=4, **{"state-file": state})
        ids = lambda idx: [B.image_id(i) for i in idx]   # noqa: E731
        boot = {B.image_id(i): expected_boot(i) for i in list(range(1001, 1001 + N_STABLE)) +
                volatile}
        samples = os.path.join(self.work, "samples")
        os.makedirs(samples)
        spec = {"mode": "load", "seed": 7, "clients": 200, "window": self.args.window,
                "duration": self.args.duration, "timeout": 2.0,
                "stable": ids(range(1001, 1001 + N_STABLE)), "volatile": ids(volatile),
                "default": B.image_id(1001), "boot": boot, "sample_dir": samples,
                "sample_every": 499, "sample_max": 120}
        result = {}
        driver = threading.Thread(target=lambda: result.update(
            self.in_client_ns(spec, self.args.duration + 60)))
        driver.start()
        rnd = random.Random(11)
        reloads, actions = 0, collections.Counter()
        problems = []
        n = 0
        t_end = time.monotonic() + self.args.duration + 1
        try:
            # One change round and one reload a second while the Macs run.
            while driver.is_alive() and time.monotonic() < t_end and n < 200:
                n += 1
                tick = time.monotonic()
                if not kea.alive():
                    problems.append("kea-dhcp4 died after %d reloads" % reloads)
                    break
                for _ in range(rnd.randint(1, 3)):
                    act = rnd.choice(["add", "remove", "modify"])
                    absent = [i for i in volatile if i not in present]
                    if act == "add" and absent:
                        i = rnd.choice(absent)
                        write_set(staging, set_folder(i), set_keys(i, "a"))
                        os.rename(os.path.join(staging, set_folder(i)),
                                  os.path.join(self.sets, set_folder(i)))
                        present[i] = "a"
                    elif act == "remove" and present:
                        i = rnd.choice(sorted(present))
                        trash = os.path.join(staging, "trash-%d" % n)
                        os.rename(os.path.join(self.sets, set_folder(i)), trash)
                        shutil.rmtree(trash)
                        del present[i]
                    elif act == "modify" and present:
                        i = rnd.choice(sorted(present))
                        v = "b" if present[i] == "a" else "a"
                        new = write_set(staging, set_folder(i), set_keys(i, v))
                        exchange(new, os.path.join(self.sets, set_folder(i)))
                        shutil.rmtree(new)
                        present[i] = v
                    else:
                        continue
                    actions[act] += 1
                a = self.cmd(kea, "bsdp-reload")
                reloads += 1
                want = N_STABLE + len(present)
                r = a.get("arguments") or {}
                if a.get("result") != 0 or r.get("images") != want or r.get("skipped") != 0:
                    problems.append("reload %d: %s (want %d images)" % (reloads, json.dumps(a)[:300],
                                                                         want))
                time.sleep(max(0.0, tick + 1.0 - time.monotonic()))
        finally:
            driver.join(self.args.duration + 90)
        expect(not problems, "; ".join(problems[:5]))
        expect(result, "the driver gave no result")
        c = result["counts"]
        print("    %.1f s: %d requests (%d LIST, %d SELECT) from %d Macs, %d replies checked: "
              "%d ACK[LIST], %d ACK[SELECT], %d FAILED (%d removed/absent set, %d unknown), "
              "%d lost, %d late" %
              (result["seconds"], c.get("sent", 0), c.get("sent-list", 0), c.get("sent-select", 0),
               spec["clients"], c.get("replies", 0), c.get("lists", 0), c.get("acks", 0),
               c.get("failed", 0), c.get("failed-volatile", 0), c.get("failed-unknown", 0),
               c.get("lost", 0), c.get("late", 0)))
        print("    %d reloads, set changes %s" % (reloads, dict(actions)))
        kst = self.cmd(kea, "statistic-get-all")["arguments"]
        print("    Kea: pkt4-received %d, pkt4-receive-drop %d" % (
            kst["pkt4-received"][0][0], kst["pkt4-receive-drop"][0][0]))
        expect(not result["errors"], "%d bad replies, e.g. %s" % (c.get("errors", 0),
                                                               result["errors"][:5]))
        # Every request Kea took in was answered; with more in flight than
        # packet-queue-size Kea drops queued packets before it counts them.
        expect(kst["pkt4-received"][0][0] == c.get("replies", 0),
               "Kea received %d requests, %d answered" % (kst["pkt4-received"][0][0],
                                                          c.get("replies", 0)))
        expect(c.get("lost", 0) == 0 or spec["window"] > 64,
               "%d requests unanswered" % c.get("lost", 0))
        expect(c.get("replies", 0) >= 1000, "too few replies to mean anything: %s" % c)
        expect(c.get("acks", 0) > 0 and c.get("failed-volatile", 0) > 0,
               "the run did not see both ACK[SELECT] and FAILED for removed sets: %s" % c)
        expect(reloads >= max(5, int(self.args.duration) - 3), "only %d reloads" % reloads)
        # A sample through bsdpc's own decoder: it must read what we read.
        decoded = 0
        for s in result["samples"]:
            r = B.run([self.args.bsdpc, "--decode", s["path"], "--json"], check=False)
            try:
                j = json.loads(r.stdout)
            except ValueError:
                raise Failure("bsdpc --decode %s: %s" % (s["path"], r.stderr))
            if s["type"] == "list":
                srv = j["servers"][0]
                sel = srv.get("selected_id")
                expect(r.returncode == 0 and len(srv["images"]) == s["images"] and
                       (int(sel, 16) if sel else None) == s["selected"],
                       "bsdpc --decode %s: %s" % (s["path"], r.stdout[:300]))
            elif s["type"] == "ack":
                sj = j["select"]
                expect(r.returncode == 0 and sj["result"] == "ack" and
                       int(sj["selected_id"], 16) == s["image"] and sj["file"] == s["file"] and
                       sj["root_path"] == s["root"], "bsdpc --decode %s: %s" % (s["path"], r.stdout))
            else:
                expect(j["select"]["result"] == "failed", "bsdpc --decode %s: %s" %
                       (s["path"], r.stdout))
            decoded += 1
        kinds = collections.Counter(s["type"] for s in result["samples"])
        print("    bsdpc --decode agreed on %d sampled replies %s" % (decoded, dict(kinds)))
        expect(kea.alive(), "kea-dhcp4 died")
        errs = self.error_lines(kea)
        expect(not errs, "error lines in the log: %s" % errs[:3])
        self.stop_clean(kea)
        # The state file holds each Mac's last acknowledged SELECT.
        saved = self.parse_state(state)
        wrong = []
        for mac in result["macs"]:
            # A SELECT whose answer was lost may or may not have been recorded.
            may = set(result["pending"].get(mac, [])) | {result["last_ack"].get(mac)}
            if saved.get(mac) not in may:
                wrong.append((mac, saved.get(mac), sorted(may)))
        extra = set(saved) - set(result["macs"])
        expect(not wrong and not extra, "state file vs last ACK[SELECT]: %d wrong, e.g. %s; "
               "extra %s" % (len(wrong), wrong[:3], sorted(extra)[:3]))
        print("    state file after SIGTERM (exit 0): %d bindings, each the Mac's last "
              "ACK[SELECT]; no error lines" % len(saved))

    def test_state_file_on_full_filesystem(self):
        tiny = os.path.join(self.work, "tiny")
        os.makedirs(tiny)
        B.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "bsdp-tiny", tiny])
        self.mounts.append(tiny)
        state = os.path.join(tiny, "b.csv")
        self.make_sets(self.sets)
        try:
            kea = self.start("full", **{"state-file": state})
            first = ["02:5b:00:00:00:%02x" % i for i in range(5)]
            acks = self.select(first, B.image_id(1002))
            expect(len(acks) == 5 and all(d and d[1] == b"\x02" for d in acks),
                   "%d of 5 SELECTs acknowledged" % len(acks))
            expect(self.wait("state file", lambda: os.path.exists(state) and
                             len(self.parse_state(state)) == 5), "first 5 bindings not saved")
            before = open(state, "rb").read()
            # Fill what is left of the 16 KiB.
            filler = os.path.join(tiny, "filler")
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                for _ in range(64):
                    os.write(fd, b"\0" * 1024)
            except OSError:
                pass
            finally:
                os.close(fd)
            st = os.statvfs(tiny)
            expect(st.f_bavail == 0, "tmpfs not full: %d blocks free" % st.f_bavail)
            second = ["02:5b:00:00:01:%02x" % i for i in range(20)]
            acks = self.select(second, B.image_id(1003))
            expect(len(acks) == 20 and all(d and d[1] == b"\x02" for d in acks),
                   "on a full disk %d of 20 SELECTs acknowledged" % len(acks))
            lines = self.wait("error", lambda: [l for l in kea.text().splitlines()
                                                 if "BSDP_STATE_WRITE_ERROR" in l])
            expect(lines and state in lines[0] and "No space left" in lines[0],
                   "no BSDP_STATE_WRITE_ERROR with ENOSPC: %s" % lines)
            print("    " + lines[0].split("] ", 1)[-1])
            expect(open(state, "rb").read() == before, "the saved file changed on a full disk")
            ids = self.list_ids(second[3])
            expect(self.stable_ids() <= set(ids), "LIST on a full disk lacks images")
            expect(kea.alive(), "kea-dhcp4 died")
            os.unlink(filler)
            expect(self.wait("recovery", lambda: len(self.parse_state(state)) == 25, 5),
                   "bindings not written after space was freed")
            saved = self.parse_state(state)
            expect(all(saved[m] == B.image_id(1002) for m in first) and
                   all(saved[m] == B.image_id(1003) for m in second), "wrong bindings saved")
            left = sorted(os.listdir(tiny))
            expect(left == ["b.csv"], "files left on the small filesystem: %s" % left)
            n = len([l for l in kea.text().splitlines() if "BSDP_STATE_WRITE_ERROR" in l])
            print("    25 SELECTs answered, error logged %d time(s), all 25 saved once space "
                  "was freed, no temporary file left" % n)
            self.stop_clean(kea)
        finally:
            for k in self.keas:
                k.stop()
            B.run(["umount", tiny], check=False)
            self.mounts.remove(tiny)

    def test_sets_directory_gone_or_unreadable_keeps_catalogue(self):
        self.make_sets(self.sets, [2001, 2002])
        kea = self.start("gone", no_dac=True)
        want = len(self.cmd(kea, "bsdp-images-list")["arguments"]["images"])
        expect(want == N_STABLE + 2, "%d images at start" % want)
        before = sorted(self.list_ids())
        away = self.sets + ".away"

        def remove():
            os.rename(self.sets, away)

        def restore():
            if os.path.islink(self.sets) or os.path.isfile(self.sets):
                os.unlink(self.sets)
            if os.path.exists(away):
                os.rename(away, self.sets)
            os.chmod(self.sets, 0o755)

        def as_file():
            remove()
            with open(self.sets, "w") as f:
                f.write("not a folder\n")

        def as_loop():
            remove()
            os.symlink(os.path.basename(self.sets), self.sets)

        def mode_000():
            os.chmod(self.sets, 0)

        cases = [("removed", remove, "No such file"), ("a regular file", as_file, "Not a directory"),
                 ("a symlink loop", as_loop, "Too many levels"),
                 ("mode 000 (server without DAC override)", mode_000, "Permission denied")]
        try:
            for name, breakit, reason in cases:
                breakit()
                try:
                    a = self.cmd(kea, "bsdp-reload")
                    expect(a.get("result") == 1 and reason in a.get("text", ""),
                           "%s: reload answered %s" % (name, json.dumps(a)[:300]))
                    now = self.cmd(kea, "bsdp-images-list")["arguments"]["images"]
                    expect(len(now) == want, "%s: catalogue now %d images" % (name, len(now)))
                    expect(sorted(self.list_ids()) == before, "%s: LIST changed" % name)
                    print("    %s: %s" % (name, a["text"]))
                finally:
                    restore()
            failed = [l for l in kea.text().splitlines() if "BSDP_RELOAD_FAILED" in l]
            expect(len(failed) == len(cases) and all("ERROR" in l for l in failed),
                   "BSDP_RELOAD_FAILED error lines: %d of %d" % (len(failed), len(cases)))
            # The directory vanishing and coming back while reloads run.
            stop = threading.Event()
            flips = [0]

            def flipper():
                for _ in range(2000):
                    if stop.is_set():
                        break
                    os.rename(self.sets, away)
                    time.sleep(0.002)
                    os.rename(away, self.sets)
                    flips[0] += 1
                    time.sleep(0.002)
            th = threading.Thread(target=flipper)
            th.start()
            outcomes = collections.Counter()
            partial = []
            try:
                deadline = time.monotonic() + 4
                for _ in range(300):
                    if time.monotonic() > deadline:
                        break
                    a = self.cmd(kea, "bsdp-reload")
                    res = a.get("result")
                    expect(res in (0, 1), "reload during flips: %s" % json.dumps(a)[:300])
                    if res == 0 and a["arguments"]["images"] != want:
                        partial.append(a["arguments"])
                    outcomes["ok" if res == 0 else "failed"] += 1
            finally:
                stop.set()
                th.join(10)
                restore()
            expect(kea.alive(), "kea-dhcp4 died")
            a = self.cmd(kea, "bsdp-reload")
            expect(a.get("result") == 0 and a["arguments"]["images"] == want,
                   "reload after the flips: %s" % a)
            expect(sorted(self.list_ids()) == before, "LIST after the flips changed")
            print("    %d reloads while the folder vanished %d times: %d ok, %d failed (old "
                  "catalogue kept), %d published a partial catalogue" %
                  (sum(outcomes.values()), flips[0], outcomes["ok"], outcomes["failed"],
                   len(partial)))
            expect(not partial, "a reload published a partial catalogue: %s" % partial[:2])
            self.stop_clean(kea)
        finally:
            restore()

    def test_plist_rewritten_while_scanned(self):
        """An operator rewrites a served plist in place while reloads run:
        every reload still serves the set, fresh or from its last good
        version marked stale, and the log says so once per episode."""
        self.make_sets(self.sets)
        flappy = write_set(self.sets, "Flappy.nbi", set_keys(2050))
        plist = os.path.join(flappy, "NBImageInfo.plist")
        good = open(plist, "rb").read()
        kea = self.start("flappy")
        stop = threading.Event()
        writes = [0]

        def rewriter():
            # Not atomic on purpose: open(O_TRUNC) then write, as an editor might.
            for k in range(200000):
                if stop.is_set():
                    break
                with open(plist, "wb") as f:
                    f.write(good if k % 2 == 0 else good[:len(good) * (k % 7 + 1) // 9])
                writes[0] += 1
        states = []          # "fresh" or "stale", one per reload
        reasons = collections.Counter()
        since = None         # of the current stale episode
        th = threading.Thread(target=rewriter)
        th.start()
        try:
            deadline = time.monotonic() + 6
            for _ in range(400):
                if time.monotonic() > deadline:
                    break
                a = self.cmd(kea, "bsdp-reload")
                expect(a.get("result") == 0, "reload: %s" % json.dumps(a)[:300])
                cat = self.cmd(kea, "bsdp-images-list")["arguments"]
                idx = {i["index"]: i for i in cat["images"]}
                expect(set(range(1001, 1001 + N_STABLE)) <= set(idx), "stable images missing")
                expect(2050 in idx, "reload %d: Flappy not served (skipped: %s)" %
                       (len(states) + 1, [s for s in cat["skipped"] if "Flappy" in s["path"]]))
                expect(not [s for s in cat["skipped"] if "Flappy.nbi" in s["path"]],
                       "Flappy both served and skipped")
                img = idx[2050]
                expect(img["name"] == "Volatile 2050 variant a", "Flappy name %r" % img["name"])
                expect("stale" in cat, "bsdp-images-list has no stale list: %s" % sorted(cat))
                listed = [s for s in cat["stale"] if s["set"] == "Flappy.nbi"]
                if "stale" in img:
                    st = img["stale"]
                    expect(st["path"] == flappy and st["reason"] and
                           ISO_UTC.match(st["since"]), "stale mark %s" % st)
                    expect(listed == [dict(st, set="Flappy.nbi")],
                           "stale list %s for %s" % (cat["stale"], st))
                    # One episode keeps the time it first failed.
                    expect(since is None or states[-1] == "fresh" or st["since"] == since,
                           "since moved within an episode: %s -> %s" % (since, st["since"]))
                    since = st["since"]
                    states.append("stale")
                    reasons[st["reason"][:60]] += 1
                else:
                    expect(not listed, "fresh Flappy in the stale list: %s" % cat["stale"])
                    states.append("fresh")
        finally:
            stop.set()
            th.join(10)
        with open(plist, "wb") as f:
            f.write(good)
        expect(kea.alive(), "kea-dhcp4 died")
        a = self.cmd(kea, "bsdp-reload")
        expect(a.get("result") == 0 and a["arguments"]["images"] == N_STABLE + 1 and
               a["arguments"]["stale"] == 0, "reload of the settled plist: %s" % a)
        img = [i for i in self.cmd(kea, "bsdp-images-list")["arguments"]["images"]
               if i["index"] == 2050]
        expect(img and "stale" not in img[0], "settled Flappy: %s" % img)
        expect(B.image_id(2050) in self.list_ids(), "settled image not in LIST")
        states.append("fresh")
        episodes = sum(1 for p, q in zip(["fresh"] + states, states) if (p, q) == ("fresh", "stale"))
        print("    %d reloads during %d rewrites: Flappy served in all, %d stale in %d episodes; "
              "reasons %s" % (len(states) - 1, writes[0], states.count("stale"), episodes,
                              dict(reasons.most_common(3))))
        expect(len(states) - 1 >= 20, "only %d reloads" % (len(states) - 1))
        expect(episodes >= 1, "the rewrites never made Flappy stale")
        # One warning when an episode starts, one info when it ends.
        text = kea.text()
        warned = re.findall(r"BSDP_SET_STALE NetBoot set (\S+) no longer reads \((.+)\), "
                            r"failing since (\S+):", text)
        recovered = re.findall(r"BSDP_SET_RECOVERED NetBoot set (\S+) reads again", text)
        expect(len(warned) == episodes and len(recovered) == episodes,
               "%d episodes but %d BSDP_SET_STALE and %d BSDP_SET_RECOVERED lines" %
               (episodes, len(warned), len(recovered)))
        expect(all(p == flappy and r and ISO_UTC.match(t) for p, r, t in warned),
               "BSDP_SET_STALE lines %s" % warned[:3])
        errs = self.error_lines(kea)
        expect(not errs, "error lines: %s" % errs[:3])
        self.stop_clean(kea)

    def test_permission_denied_on_one_set(self):
        import tempfile
        pub = tempfile.mkdtemp(prefix="bsdp-robust-nobody-")
        try:
            os.chmod(pub, 0o755)
            sets = os.path.join(pub, "sets")
            self.make_sets(sets)
            locked = write_set(sets, "Locked.nbi", set_keys(2060))
            hidden = write_set(sets, "HiddenPlist.nbi", set_keys(2061))
            os.chmod(locked, 0)
            os.chmod(os.path.join(hidden, "NBImageInfo.plist"), 0)
            # kea-bsdp-check as nobody: what that user can read.
            kea = B.Kea(self.net, pub, "conf")
            kea.config(B.public_hook(self.args.hook),
                       self.params(**{"sets-directory": sets,
                                      "state-file": os.path.join(pub, "b.csv")}))
            os.chmod(kea.dir, 0o755)
            os.chmod(kea.conf, 0o644)
            tool = os.path.join(os.path.dirname(self.args.hook), "kea-bsdp-check")
            expect(os.access(tool, os.X_OK), "%s not built" % tool)
            r = B.kea_bsdp_check(self.args.hook, ["--json", kea.conf], user=NOBODY,
                                 data_dir=kea.state_dir)
            try:
                j = json.loads(r.stdout)
            except ValueError:
                raise Failure("kea-bsdp-check as nobody (rc %d): %s %s" %
                              (r.returncode, r.stdout[:300], r.stderr[-600:]))
            j = j.get("arguments", j)
            idx = {i["index"] for i in j["images"]}
            sk = {os.path.basename(s["path"].rstrip("/").split("/NBImageInfo")[0]): s["reason"]
                  for s in j["skipped"]}
            expect(r.returncode == 0, "kea-bsdp-check exit %d: %s" % (r.returncode, r.stderr))
            expect(idx == set(range(1001, 1001 + N_STABLE)), "listed %s" % sorted(idx))
            for name in ("Locked.nbi", "HiddenPlist.nbi"):
                expect(name in sk and "Permission denied" in sk[name],
                       "%s not skipped with Permission denied: %s" % (name, j["skipped"]))
            print("    kea-bsdp-check as nobody: %d images listed; skipped %s" %
                  (len(idx), sk))
            # kea-dhcp4 itself without DAC override, as _kea would run.
            kea = self.start("perm", no_dac=True, **{"sets-directory": sets,
                                                     "state-file": os.path.join(pub, "k.csv")})
            cat = self.cmd(kea, "bsdp-images-list")["arguments"]
            idx = {i["index"] for i in cat["images"]}
            expect(idx == set(range(1001, 1001 + N_STABLE)), "kea serves %s" % sorted(idx))
            denied = [s for s in cat["skipped"] if "Permission denied" in s["reason"]]
            expect(len(denied) == 2, "kea skipped %s" % cat["skipped"])
            logged = [l for l in kea.text().splitlines() if "BSDP_SET_SKIPPED" in l and
                      "Permission denied" in l]
            expect(len(logged) == 2, "BSDP_SET_SKIPPED lines: %s" % logged)
            expect(set(self.list_ids()) == self.stable_ids(), "LIST is not the readable sets")
            print("    kea-dhcp4 without DAC override: " + logged[0].split("] ", 1)[-1])
            self.stop_clean(kea)
        finally:
            subprocess.run(["chmod", "-R", "u+rwx", pub], check=False)
            shutil.rmtree(pub, ignore_errors=True)

    def malformed_packets(self, n):
        """n requests the core drops as malformed or incomplete, varied; each
        classified by core_verdict, the core's own rules."""
        rnd = random.Random(10000)
        fixed43 = [b"\x01", b"\x07", b"\x01\x01", b"\x01\x05\x01", b"\x01\x01\x01\x02\x02\x01",
                   b"\x01\x02\x01\x01\x02\x02\x01\x01", b"\x01\x01\x01\x02\x01\x01",
                   b"\x01\x01\x01\x02\x03\x01\x01\x00", b"\x01\x01\x02\x02\x02\x01\x01\x03\x03\x01\x02\x03",
                   b"\x01\x01\x02\x02\x02\x01\x01\x08\x05\x01\x00\x00\x01\x01",
                   b"\x01\x01\x01\x02\x02\x01\x01\x0b\x00", b"\x01\x01\x01\x02\x02\x01\x01\x0b\x03\x01\x02\x03",
                   b"\x01\x01\x01\x02\x02\x01\x01\x0c\x01\x05", b"\x01\x01\x01\x02\x02\x01\x01\x05\x01\x02",
                   b"\x01\x01\x01\x02\x02\x01\x01\x0a\x01\x00", b"\x09" + b"\xff" * 20,
                   b"\x01\x01\x01\x02\x02\x01\x01\x80\x10abc"]
        incomplete43 = [b"\x01\x01\x01", b"\x02\x02\x01\x01", b"", b"\x00\x00\x00",
                        b"\xff\x01\x01\x01\x02\x02\x01\x01", b"\x80\x03abc\x81\x00",
                        b"\x03\x04\xc6\x12\x00\x01\x08\x04\x01\x00\x03\xe9", b"\x0c\x02\x05\xdc"]
        bad60 = [b"AAPLBSDPC/i386\x00/MacBookPro11,1", b"AAPLBSDPC/i386/Mac\nBook",
                 b"AAPLBSDPC/", b"AAPLBSDPC//MacBookPro11,1", b"AAPLBSDPC/" + b"x" * 32 + b"/M",
                 b"AAPLBSDPC/\ni386/M", b"AAPLBSDPC/i386/" + b"m" * 10 + b"\x00" + b"m" * 10]
        valid = [B.bsdp_list(), B.bsdp_list(extra=bytes([12, 2, 5, 0xdc])),
                 B.bsdp_select(B.SERVER_IP, B.image_id(1001)),
                 B.bsdp_list(extra=bytes([11, 4, 1, 0, 0x81, 0]))]
        out = []
        counts = collections.Counter()
        for k in range(n * 5):
            if len(out) >= n:
                break
            mac = "02:5c:%02x:%02x:%02x:%02x" % (k >> 24 & 0xff, k >> 16 & 0xff, k >> 8 & 0xff,
                                                 k & 0xff)
            vendor, opt43, with43 = VENDOR, None, True
            r = k % 10
            if r < 3:
                opt43 = rnd.choice(fixed43)
            elif r < 4:
                vendor, opt43 = rnd.choice(bad60), rnd.choice(valid)
            elif r < 6:
                opt43 = rnd.choice(incomplete43)
                with43 = rnd.random() < 0.9     # and sometimes no option 43 at all
            elif r < 8:
                v = rnd.choice(valid)           # a valid request cut short
                opt43 = v[:rnd.randrange(0, len(v))]
            else:
                v = bytearray(rnd.choice(valid))  # a length or code byte damaged
                v[rnd.randrange(len(v))] = rnd.randrange(256)
                opt43 = bytes(v)
            verdict = core_verdict(vendor, opt43 if with43 else None)
            if verdict == "ok":
                continue
            counts[verdict] += 1
            counts["no option 43"] += not with43
            out.append(relay_request(0x5c000000 + k, mac, opt43, vendor=vendor,
                                     with43=with43).hex())
        return out, counts

    def test_ten_thousand_malformed_packets_dropped_and_counted(self):
        self.make_sets(self.sets)
        kea = self.start("flood", threads=2)
        packets, counts = self.malformed_packets(10000)
        expect(len(packets) == 10000, "built only %d packets" % len(packets))
        path = os.path.join(self.work, "flood.json")
        with open(path, "w") as f:
            json.dump(packets, f)
        before = bsdp_stats(self.sock(kea))
        spec = {"mode": "blast", "packets": path, "batch": 50, "socket": self.sock(kea),
                "stats": ["bsdp.dropped-malformed", "bsdp.dropped-incomplete"]}
        res = self.in_client_ns(spec, 150)
        after = bsdp_stats(self.sock(kea))
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        print("    %d packets in %.1f s (%d malformed, %d incomplete, %d without option 43 by "
              "the core's rules); counters moved %s; %d replies" %
              (res["sent"], res["seconds"], counts["malformed"], counts["incomplete"],
               counts["no option 43"], delta, res["replies"]))
        expect(not res["stalled"], "the hook stopped counting: %s" % res["stalled"])
        expect(res["sent"] == 10000, "sent %d" % res["sent"])
        expect(delta.get("bsdp.dropped-malformed", 0) == counts["malformed"],
               "dropped-malformed %d, want %d" % (delta.get("bsdp.dropped-malformed", 0),
                                                  counts["malformed"]))
        expect(delta.get("bsdp.dropped-incomplete", 0) == counts["incomplete"],
               "dropped-incomplete %d, want %d" % (delta.get("bsdp.dropped-incomplete", 0),
                                                   counts["incomplete"]))
        # requests-list/-select count an incomplete request that names its
        # type; every drop and reply counter must stay put.
        other = {k: v for k, v in delta.items()
                 if k not in ("bsdp.dropped-malformed", "bsdp.dropped-incomplete",
                              "bsdp.requests-list", "bsdp.requests-select")}
        expect(not other, "other counters moved: %s" % other)
        expect(res["replies"] == 0, "%d malformed packets were answered" % res["replies"])
        expect(kea.alive(), "kea-dhcp4 died")
        ids = self.list_ids()
        expect(set(ids) == self.stable_ids(), "valid LIST afterwards: %s" % ids)
        errs = self.error_lines(kea)
        expect(not errs, "error lines: %s" % errs[:3])
        self.stop_clean(kea)

    # ---- bsdp-load: LIST and SELECT at once from MACs the table has not seen --
    def load_mac(self, n):
        """bsdp-load's MAC for counter n (tools/bsdp_load.c, next_mac)."""
        return "06:%02x:%s" % (LOAD_PREFIX, ":".join("%02x" % b for b in n.to_bytes(4, "big")))

    def run_load(self, name, macs, **params):
        """kea-dhcp4 with 4 threads under build/bsdp-load in mix mode (LIST
        and SELECT alternating: request k is a SELECT when k is odd) for
        --load-seconds, within a window Kea's packet queue holds, so every
        request must be answered and every answer pass the generator's
        checks. Meanwhile every state file the writer publishes is read and
        checked whole; at the end, after SIGTERM, the last one must hold
        exactly the MACs that were selected (or as many as the table keeps).
        macs: "new" or a cycle length."""
        self.make_sets(self.sets)
        state = os.path.join(self.work, name + ".csv")
        kea = self.start(name, threads=4, **dict({"state-file": state}, **params))
        image = B.image_id(LOAD_IMAGE)
        tool = os.path.join(os.path.dirname(os.path.abspath(self.args.bsdpc)), "bsdp-load")
        expect(os.access(tool, os.X_OK), "%s not built" % tool)
        seconds = self.args.load_seconds
        capacity = params.get("max-bindings", DEFAULT_MAX_BINDINGS)
        argv = ["ip", "netns", "exec", self.net.cli, tool, "--server", B.SERVER_IP,
                "--mode", "mix", "--select-share", "50", "--macs", str(macs),
                "--mac-prefix", "%02x" % LOAD_PREFIX, "--server-id", B.SERVER_IP,
                "--image", "%#x" % image, "--window", str(self.args.window),
                "--duration", "%g" % seconds, "--timeout", "3", "--json",
                "--last-selects", str(2 * (capacity + self.args.window))]
        cycle = None if macs == "new" else int(macs)
        allowed = re.compile(r"^06:%02x:" % LOAD_PREFIX)
        t0 = int(time.time())
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.helpers.append(proc)
        reads, seen, died = 0, None, False
        deadline = time.monotonic() + seconds + 30
        try:
            while True:
                try:
                    out, err = proc.communicate(timeout=0.25)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > deadline:
                    raise Failure("bsdp-load did not end within %g s" % (seconds + 30))
                if not kea.alive() and not died:
                    died = True
                    os.kill(proc.pid, signal.SIGINT)   # it stops sending and reports
                # Each save replaces the file by rename: a read sees one whole save.
                try:
                    st = os.stat(state)
                except FileNotFoundError:
                    continue
                if (st.st_ino, st.st_mtime_ns) == seen:
                    continue
                seen = (st.st_ino, st.st_mtime_ns)
                with open(state, "rb") as f:
                    raw = f.read()
                reads += 1
                saved = B.parse_state_bytes(raw, "state file (save %d read during the load)" %
                                          reads)
                strange = [(m, e) for m, e in saved.items()
                           if not allowed.match(m) or e[0] != image]
                expect(not strange, "state file during the load: bindings never made: %s" %
                       strange[:3])
        finally:
            # A failed check leaves it running: it would answer the next test.
            B.stop_processes([proc])
        expect(kea.alive(), "kea-dhcp4 died under the load (exit %s):\n%s\n%s" % (
            kea.proc.poll(), kea.sanitizer_reports()[:3000], kea.text()[-1500:]))
        try:
            r = json.loads(out)
        except ValueError:
            raise Failure("bsdp-load printed no JSON (rc %d): %s" % (proc.returncode, err[-1500:]))
        sent, selects = r["sent"], r["sent"] // 2
        print("    %.0f s, %s MACs: %d requests (%d SELECT), %d answered, %d unanswered, %d bad "
              "%s, %.0f replies/s, p99 %.2f ms; %d state file saves read whole" % (
                  r["duration_s"], macs, sent, selects, r["answered"], r["unanswered"], r["bad"],
                  r["bad_reasons"], r["replies_per_s"], r["latency_us"]["p99"] / 1e3, reads))
        expect(sent >= 1000, "only %d requests sent: %s" % (sent, err[-500:]))
        expect(r["answered"] == sent and r["unanswered"] == 0,
               "%d of %d requests answered" % (r["answered"], sent))
        expect(r["bad"] == 0, "%d bad replies: %s" % (r["bad"], r["bad_reasons"]))
        expect(r["replies"]["select"] == selects and r["replies"]["list"] == sent - selects,
               "replies %s for %d SELECT, %d LIST" % (r["replies"], selects, sent - selects))
        expect(r["foreign"] == 0 and r["late"] == 0 and r["send_errors"] == 0,
               "foreign %d, late %d, send errors %d" % (r["foreign"], r["late"],
                                                        r["send_errors"]))
        expect(reads >= 3, "only %d state file saves seen during the load" % reads)
        kst = self.cmd(kea, "statistic-get-all")["arguments"]
        expect(kst["pkt4-received"][0][0] == sent, "Kea received %d of %d requests" % (
            kst["pkt4-received"][0][0], sent))
        expect("bsdp.bindings-evicted" in kst, "no bsdp.bindings-evicted statistic")
        evicted = kst["bsdp.bindings-evicted"][0][0]
        self.stop_clean(kea)
        # The MACs of the SELECTs: counters 1, 3, 5, ... (modulo the cycle).
        picked = {k % cycle if cycle else k for k in range(1, sent, 2)}
        want = {self.load_mac(k) for k in picked}
        saved = B.parse_state_bytes(open(state, "rb").read(), "state file after SIGTERM")
        now = int(time.time())
        expect(set(saved) <= want, "state file holds MACs never selected: %s" %
               sorted(set(saved) - want)[:3])
        expect(all(e[0] == image and t0 - 1 <= e[1] <= now + 1 for e in saved.values()),
               "state file: a binding with another image or time: %s" %
               [e for e in saved.values() if e[0] != image][:3])
        if len(want) <= capacity:
            expect(len(saved) == len(want), "%d of %d selected MACs in the state file" %
                   (len(saved), len(want)))
        else:
            expect(len(saved) <= capacity, "%d bindings over max-bindings %d" %
                   (len(saved), capacity))
            # The least recently selected go first. The order that counts is
            # the one the server recorded SELECTs in, which a preempted Kea
            # thread may move far from the order they were sent in; but each
            # is recorded before its reply is sent, and at most the window
            # was in flight when the oldest binding kept was recorded: every
            # MAC kept is among the last capacity + window distinct MACs of
            # the ACK[SELECT]s as they came.
            recent = set()
            for mac in reversed(r["last_selects"]):
                if len(recent) >= capacity + self.args.window:
                    break
                recent.add(mac)
            expect(set(saved) <= recent, "kept bindings not among the %d most recently "
                   "selected MACs: %s" % (len(recent), sorted(set(saved) - recent)[:3]))
        # Bindings added: one per SELECT when each finds its MAC new or long
        # evicted (a cycle of more MACs than the table holds between two
        # SELECTs of one MAC), one per MAC when the whole cycle fits.
        if cycle is None or cycle - 1 > capacity + self.args.window:
            added = selects
        else:
            added = len(want) if cycle <= capacity else None
        if added is not None:
            expect(len(saved) == added - evicted, "%d bindings kept, %d added, %d evicted" %
                   (len(saved), added, evicted))
        print("    state file after SIGTERM: %d bindings of %d MACs selected, %d evicted, "
              "whole" % (len(saved), len(want), evicted))
        return r

    def test_load_new_mac_per_request_state_file_whole(self):
        self.run_load("newmacs", "new")

    def test_load_cycling_macs_state_file_whole(self):
        # Odd, so each MAC alternates LIST and SELECT; 2000 other MACs select
        # between two SELECTs of one, so with room for 1024 each evicts one.
        self.run_load("cyclemacs", 2001, **{"max-bindings": 1024})

    # ---- runner ------------------------------------------------------------
    def reset_sets(self):
        for p in (self.sets, self.sets + ".away"):
            if os.path.islink(p) or os.path.isfile(p):
                os.unlink(p)
            elif os.path.isdir(p):
                shutil.rmtree(p)
        for p in ("staging",):
            shutil.rmtree(os.path.join(self.work, p), ignore_errors=True)

    def run(self):
        tests = sorted(t for t in dir(self) if t.startswith("test_"))
        assert sorted(self.ORDER) == tests, tests
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        self.net.up()
        for t in order:
            self.reset_sets()
            B.run_test(self, t, after=self.stop_keas)

    def stop_keas(self):
        B.stop_keas(self.keas)

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, procs=self.helpers, keas=self.keas,
                   mounts=self.mounts)


def main():
    if "--drive" in sys.argv[1:]:
        return drive_main()
    ap = B.suite_arguments()
    ap.add_argument("--duration", type=float, default=30.0,
                    help="seconds of multi-threaded load (default 30)")
    ap.add_argument("--load-seconds", type=float,
                    default=float(os.environ.get("BSDP_LOAD_SECONDS", "10")),
                    help="seconds of bsdp-load in the test_load_ tests (default "
                         "$BSDP_LOAD_SECONDS or 10; the acceptance run is 60)")
    ap.add_argument("--window", type=int, default=64,
                    help="requests in flight at most (default 64, Kea's packet-queue-size: "
                         "beyond it Kea drops the oldest queued packet by design)")
    args = ap.parse_args()
    return B.run_suite("robustness", RobustnessSuite, args, ("kea-dhcp4", "ip", "setpriv", "mount"))


if __name__ == "__main__":
    sys.exit(main())
