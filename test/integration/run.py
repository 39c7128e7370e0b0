#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests: a real kea-dhcp4 with libdhcp_bsdp.so in a network
namespace, a client namespace running bsdpc and raw packets (probe.py).

usage (root): run.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL per test and a final "N passed, N failed"; exits 1 on any
failure. Namespaces, processes and files are removed even on failure or
Ctrl-C."""
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
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

import bsdpnet as B  # noqa: E402
import make_sets  # noqa: E402
import ops_tests  # noqa: E402

N_EXTRA = 20
NFS_URL = "nfs:198.18.0.1:/srv/netboot/sets"
PRIORITY = 40000
TFTP_PREFIX = "netboot/"
ID_1001 = B.image_id(1001, install=True)     # HTTP, the default
ID_1002 = B.image_id(1002)                   # NFS
ID_DISABLED = B.image_id(3001)
ID_MAC_ONLY = B.image_id(3002)
ID_ESCAPE = B.image_id(3003)
ID_DIAG = B.image_id(3004, kind=3)
VISIBLE = 3 + N_EXTRA                        # examples + extras


Failure = B.Failure
expect = B.expect


class Suite(ops_tests.OpsTests):
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-integration-")
        self.sets = os.path.join(self.work, "sets")
        self.net = B.Net("%05d" % (os.getpid() % 100000))
        self.keas = []
        self.kea = None
        self.helpers = []
        self.passed = 0
        self.failed = 0
        self.xid = random.Random(os.getpid()).randrange(1 << 30)

    # ---- fixtures ----------------------------------------------------------
    def make_sets(self):
        for folder, keys, files in make_sets.EXAMPLES:
            make_sets.write_set(self.sets, folder, keys, files)
        for i in range(1, N_EXTRA + 1):
            make_sets.write_set(self.sets, *make_sets.extra_set(i))
        base = {"Type": "HTTP", "Kind": 1, "BootFile": "booter", "Architectures": ["i386"],
                "RootPath": "NetInstall.dmg"}
        files = ["i386/booter", "i386/x86_64/kernelcache", "NetInstall.dmg"]
        make_sets.write_set(self.sets, "Disabled.nbi", dict(
            base, Name="Disabled image", Index=3001, IsEnabled=False), files)
        make_sets.write_set(self.sets, "OneMacOnly.nbi", dict(
            base, Name="Only for one Mac", Index=3002,
            EnabledMACAddresses=["0:11:22:33:44:55"]), files)
        make_sets.write_set(self.sets, "Escape.nbi", dict(
            base, Name="Escapes its folder", Index=3003,
            BootFile="../../../../etc/passwd"), files)
        make_sets.write_set(self.sets, "Diagnostics.nbi", {
            "Name": "Hardware Test", "Index": 3004, "Type": "BootFileOnly", "Kind": 3,
            "BootFile": "diags.efi", "Architectures": ["i386"], "FilterOnly": True},
            ["i386/diags.efi"], binary=True)

    def params(self, **over):
        p = {"sets-directory": self.sets, "nfs-url": NFS_URL, "server-priority": PRIORITY,
             "tftp-path-prefix": TFTP_PREFIX, "state-file": os.path.join(self.work, "b.csv")}
        if self.args.fast_path:
            p["fast-path"] = True
        p.update(over)
        return p

    def start_kea(self, name, hook=True, params=None, expect_ok=True):
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook if hook else None,
                   params if params is not None else self.params())
        self.keas.append(kea)
        return kea, kea.start_checked() if expect_ok else kea.start()

    def next_xid(self):
        self.xid += 1
        return self.xid

    def bsdpc(self, *args):
        cmd = ["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i", self.net.cli_if,
               "--server", B.SERVER_IP, "--timeout", "2"] + list(args)
        return B.run(cmd, check=False, timeout=30)

    def bsdpc_json(self, *args):
        r = self.bsdpc("--json", *args)
        try:
            return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None, r
        except ValueError:
            raise Failure("bsdpc printed no JSON: %r %r" % (r.stdout, r.stderr))

    def inform(self, opt43, mac=None, **kw):
        return B.bsdp_inform(self.next_xid(), mac or self.net.cli_mac, opt43, **kw)

    def one_reply(self, packet, **kw):
        got = B.probe(self.net, [packet], expect=1, **kw)
        expect(len(got) == 1, "expected one reply, got %d" % len(got))
        opts = B.parse_options(got[0]["data"])
        expect(opts is not None, "reply is not a well-formed DHCP message")
        return got[0], opts

    # ---- tests -------------------------------------------------------------
    def test_list_split_over_instances(self):
        # 1500: what fits this link's MTU; every visible image fits in it.
        pkt = self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])))
        reply, opts = self.one_reply(pkt)
        blocks = [v for c, v in opts if c == 43]
        total = sum(len(b) for b in blocks)
        print("    LIST: %d bytes, option 43 = %d bytes in %d instances %s" %
              (len(reply["data"]), total, len(blocks), [len(b) for b in blocks]))
        expect(total > 255, "list not larger than 255 bytes (%d)" % total)
        expect(len(blocks) > 1, "one instance only")
        for b in blocks:
            expect(len(b) <= 255, "instance over 255 bytes")
            expect(B.suboptions(b) is not None, "an instance cuts a sub-option: %s" % b.hex())
        expect(B.option(opts, 60) == b"AAPLBSDPC", "option 60 is %r" % B.option(opts, 60))
        expect(B.option(opts, 54) == B.ip_bytes(B.SERVER_IP), "option 54 wrong")
        d = B.decode_bsdp(opts)
        expect(d is not None, "reply does not decode")
        expect(len(d["images"]) == VISIBLE, "%d images, want %d" % (len(d["images"]), VISIBLE))
        expect(d["images"][0][0] == ID_1001, "default image not first")
        expect(struct.unpack("!H", d[4])[0] == PRIORITY, "priority")
        expect(struct.unpack("!I", d[7])[0] == ID_1001, "default id")
        # bsdpc decodes the captured reply completely, too.
        path = os.path.join(self.work, "list-reply.bin")
        with open(path, "wb") as f:
            f.write(reply["data"])
        r = B.run([self.args.bsdpc, "--decode", path, "--json"], check=False)
        expect(r.returncode == 0, "bsdpc --decode failed: %s" % r.stderr)
        j = json.loads(r.stdout)
        expect(len(j["servers"][0]["images"]) == VISIBLE, "bsdpc --decode lost images")
        # And bsdpc over the network with the same size.
        rc, j, r = self.bsdpc_json("--list", "--max-size", "1500")
        expect(rc == 0, "bsdpc --list exit %d: %s" % (rc, r.stderr))
        expect(len(j["servers"][0]["images"]) == VISIBLE, "bsdpc --list lost images")

    def test_list_capped_by_link_mtu(self):
        # A client allowing 8192 bytes on a 1500-byte link still gets an
        # answer: Kea's raw socket cannot fragment.
        reply, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x20, 0]))))
        expect(reply["ip_len"] <= 1500, "IP datagram of %d bytes" % reply["ip_len"])
        expect(B.decode_bsdp(opts) is not None, "reply does not decode")

    def test_list_fits_576_and_keeps_default(self):
        pkt = self.inform(B.bsdp_list(extra=bytes([12, 2, 0x02, 0x40])))
        reply, opts = self.one_reply(pkt)
        d = B.decode_bsdp(opts)
        print("    576: IP length %d, DHCP %d bytes, %d images" %
              (reply["ip_len"], len(reply["data"]), len(d["images"])))
        expect(reply["ip_len"] <= 576, "IP datagram of %d bytes" % reply["ip_len"])
        expect(len(reply["data"]) <= 548, "DHCP message of %d bytes" % len(reply["data"]))
        expect(0 < len(d["images"]) < VISIBLE, "list not truncated")
        expect(d["images"][0][0] == ID_1001, "default image not kept first")
        expect(struct.unpack("!I", d[7])[0] == ID_1001, "default id")
        # Neither sub-option 12 nor option 57: at most 520 bytes.
        reply, opts = self.one_reply(self.inform(B.bsdp_list()))
        expect(len(reply["data"]) <= 520, "default reply of %d bytes" % len(reply["data"]))

    def test_attribute_filter(self):
        rc, j, r = self.bsdpc_json("--list", "--filter", "0x0300")
        expect(rc == 0, "bsdpc --filter exit %d: %s" % (rc, r.stderr))
        ids = [int(i["id"], 16) for i in j["servers"][0]["images"]]
        expect(ids == [ID_DIAG], "filter 0x0300 gave %s" % [hex(i) for i in ids])
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([11, 2, 0x81, 0x00]))))
        d = B.decode_bsdp(opts)
        expect([i for i, _ in d["images"]] == [ID_1001], "filter 0x8100: %s" % d["images"])
        # FilterOnly images stay out of an unfiltered list.
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc]))))
        expect(ID_DIAG not in [i for i, _ in B.decode_bsdp(opts)["images"]], "FilterOnly listed")

    def test_version_1_0_gets_no_list(self):
        _, opts = self.one_reply(self.inform(B.bsdp_list(version=0x0100)))
        d = B.decode_bsdp(opts)
        expect(d[1] == b"\x01" and 4 in d and 7 in d, "LIST head missing")
        expect(9 not in [c for b in opts if b[0] == 43 for c, _ in B.suboptions(b[1])],
               "1.0 client got an image list")

    def check_select(self, index, want_file, want_root):
        rc, j, r = self.bsdpc_json("--select", str(index), "--max-size", "1500")
        expect(rc == 0, "bsdpc --select %d exit %d: %s" % (index, rc, r.stderr))
        s = j["select"]
        expect(s["result"] == "ack", "result %s" % s["result"])
        expect(s["file"] == want_file, "file %r" % s["file"])
        expect(s["root_path"] == want_root, "root path %r" % s["root_path"])
        expect(s["siaddr"] == B.SERVER_IP, "siaddr %s" % s["siaddr"])
        expect(s["machine_name"].startswith("NetBoot"), "machine name %r" % s["machine_name"])
        print("    SELECT %d: file %r, root path %r, %s" % (index, s["file"], s["root_path"],
                                                          s["machine_name"]))

    def test_select_http(self):
        self.check_select(1001, TFTP_PREFIX + "NetInstall 10.13.nbi/i386/booter",
                          "http://198.18.0.1/netboot/NetInstall%2010.13.nbi/NetInstall.dmg")

    def test_select_nfs(self):
        self.check_select(1002, TFTP_PREFIX + "NetBoot-NFS.nbi/i386/booter",
                          NFS_URL + ":NetBoot-NFS.nbi/NetBoot.dmg")

    def test_select_raw_header_fields(self):
        reply, opts = self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, ID_1002)))
        msg = reply["data"]
        expect(msg[20:24] == B.ip_bytes(B.SERVER_IP), "siaddr %s" % msg[20:24].hex())
        expect(msg[108:108 + 128].rstrip(b"\0") == (TFTP_PREFIX + "NetBoot-NFS.nbi/i386/booter")
               .encode(), "file field %r" % msg[108:160])
        expect(B.option(opts, 17) == (NFS_URL + ":NetBoot-NFS.nbi/NetBoot.dmg").encode(), "opt 17")
        d = B.decode_bsdp(opts)
        expect(d[1] == b"\x02" and struct.unpack("!I", d[8])[0] == ID_1002, "ACK[SELECT] body")
        expect(reply["sport"] == 67 and reply["dport"] == 68 and reply["dst"] == B.CLIENT_IP,
               "sent to %s:%d" % (reply["dst"], reply["dport"]))

    def test_failed_for_unknown_disabled_filtered_escaping(self):
        for name, iid in (("unknown", B.image_id(999)), ("disabled", ID_DISABLED),
                          ("not for this MAC", ID_MAC_ONLY), ("path-escaping", ID_ESCAPE)):
            reply, opts = self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, iid)))
            blocks = [v for c, v in opts if c == 43]
            expect(blocks == [b"\x01\x01\x03"], "%s: option 43 %s" % (name, blocks))
            expect(B.option(opts, 54) == B.ip_bytes(B.SERVER_IP), "%s: no option 54" % name)
            expect(B.option(opts, 17) is None and reply["data"][108] == 0,
                   "%s: FAILED carries boot info" % name)
        log = self.kea.text()
        expect("Escape.nbi" in log and "skipped" in log, "escaping set not reported skipped")

    def test_silence_for_another_servers_select(self):
        got = B.probe(self.net, [self.inform(B.bsdp_select("198.18.0.99", ID_1001))],
                      listen=(67, 68), timeout=2.0)
        expect(got == [], "answered: %s" % got)

    def test_reply_port(self):
        got = B.probe(self.net, [self.inform(B.bsdp_list(extra=bytes([5, 2, 0x02, 0x7f])))],
                      listen=(68, 639), expect=1)
        expect([g["dport"] for g in got] == [639], "replies to ports %s" %
               [g["dport"] for g in got])
        expect(B.decode_bsdp(B.parse_options(got[0]["data"]))[1] == b"\x01", "not ACK[LIST]")
        rc, j, r = self.bsdpc_json("--list", "--reply-port", "639")
        expect(rc == 0, "bsdpc --reply-port exit %d: %s" % (rc, r.stderr))
        got = B.probe(self.net, [self.inform(B.bsdp_list(extra=bytes([5, 2, 0x04, 0x00])))],
                      listen=(68, 1024))
        expect(got == [], "reply port 1024 answered")

    def test_relayed_inform(self):
        pkt = self.inform(B.bsdp_list(), giaddr=B.CLIENT_IP, hops=1)
        got = B.probe(self.net, [pkt], dst_ip=B.SERVER_IP, sport=67, dport=67, listen=(67, 68),
                      expect=1)
        expect(len(got) == 1, "%d replies" % len(got))
        g = got[0]
        expect(g["dst"] == B.CLIENT_IP and g["dport"] == 68,
               "relayed reply went to %s:%d" % (g["dst"], g["dport"]))
        d = B.decode_bsdp(B.parse_options(g["data"]))
        expect(d and d[1] == b"\x01" and d["images"], "not an ACK[LIST]")

    def test_ciaddr_outside_keas_subnets(self):
        # Relayed, and unicast from an address in no subnet: answered at ciaddr:68.
        # The relayed one is answered directly, so it loses the relay's
        # fields and option 82; the client identifier is echoed (RFC 6842).
        far = "198.19.5.5"
        rai, client_id = b"\x01\x04port", b"\x01" + bytes.fromhex("02aabbccddee")
        for name, kw in (("relayed", dict(giaddr=B.CLIENT_IP, hops=1, sport=67)),
                         ("unicast", dict(sport=68))):
            sport = kw.pop("sport")
            extra = [(61, client_id)] + ([(82, rai)] if name == "relayed" else [])
            pkt = self.inform(B.bsdp_list(), ciaddr=far, extra=extra, **kw)
            got = B.probe(self.net, [pkt], dst_ip=B.SERVER_IP, sport=sport, dport=67,
                          listen=(67, 68), src_ip=far if name == "unicast" else B.CLIENT_IP,
                          expect=1)
            expect(len(got) == 1, "%s: %d replies" % (name, len(got)))
            g = got[0]
            expect(g["dst"] == far and g["dport"] == 68,
                   "%s: reply went to %s:%d" % (name, g["dst"], g["dport"]))
            opts = B.parse_options(g["data"])
            d = B.decode_bsdp(opts)
            expect(d and d[1] == b"\x01" and d["images"], "%s: not an ACK[LIST]" % name)
            codes = [c for c, _ in opts]
            expect(g["data"][3] == 0 and g["data"][24:28] == bytes(4) and 82 not in codes,
                   "%s: hops %d, giaddr %s, options %s" % (name, g["data"][3],
                                                           g["data"][24:28].hex(), codes))
            expect((61, client_id) in opts, "%s: client identifier not echoed" % name)

    def test_multithreaded_burst(self):
        macs = ["02:00:00:00:%02x:%02x" % (i >> 8, i & 0xff) for i in range(1, 41)]
        pkts = [self.inform(B.bsdp_list(), mac=m) for m in macs]
        got = B.probe(self.net, pkts, timeout=3.0, expect=len(pkts))
        answered = {B.parse_options(g["data"]) and g["data"][28:34].hex(":") for g in got}
        expect(len(got) == len(macs) and len(answered) == len(macs),
               "%d replies for %d clients" % (len(got), len(macs)))

    def test_malformed_batch_survived(self):
        rnd = random.Random(2022)
        pkts = []
        bad43 = [b"\x01", b"\x01\x01", b"\x01\x05\x01", b"\x01\x01\x01\x02\x02\x01",
                 b"\x01\x02\x01\x01\x02\x02\x01\x01", b"\x02\x01\x01\x01\x01\x01",
                 b"\x0c\x01\x02\x01\x01\x01\x02\x02\x01\x01", b"\x0b\x00\x01\x01\x01",
                 b"\x03\x03\x01\x02\x03\x01\x01\x02", b"\x09" + b"\xff" * 20]
        for b in bad43:
            pkts.append(self.inform(b))
        for _ in range(40):
            pkts.append(self.inform(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 60)))))
        for vc in (b"AAPLBSDPC/", b"AAPLBSDPC//x", b"AAPLBSDPC/i386\x00/x", b"AAPLBSDPC/i386/a\nb",
                   b"AAPLBSDPC/" + b"x" * 200):
            pkts.append(self.inform(B.bsdp_list(), vendor=vc))
        pkts.append(self.inform(None))
        got = B.probe(self.net, pkts, timeout=2.0)
        expect(self.kea.alive(), "kea-dhcp4 died")
        for g in got:
            opts = B.parse_options(g["data"])
            expect(opts is not None, "a malformed reply was sent")
            expect(B.option(opts, 60) == b"AAPLBSDPC" or B.option(opts, 43) is None,
                   "Kea's own ACK answered a BSDP request")
        _, opts = self.one_reply(self.inform(B.bsdp_list()))
        expect(B.decode_bsdp(opts)[1] == b"\x01", "no LIST after the batch")
        sock = os.path.join(self.kea.dir, "kea4.sock")
        r = B.run(["socat", "-", "UNIX-CONNECT:" + sock], check=False,
                  input='{"command": "statistic-get", "arguments": {"name": "bsdp.dropped-malformed"}}')
        try:
            n = json.loads(r.stdout)["arguments"]["bsdp.dropped-malformed"][0][0]
        except (ValueError, KeyError, IndexError):
            raise Failure("statistic-get: %r" % r.stdout)
        print("    %d malformed sent, %d replies, bsdp.dropped-malformed = %d" %
              (len(pkts), len(got), n))
        expect(n >= len(bad43), "bsdp.dropped-malformed is %d" % n)

    def test_tshark_decodes_list_and_select(self):
        pcap = os.path.join(self.work, "bsdp.pcap")
        # dumpcap writes the file's header once it captures, and ends by
        # itself after the four frames of a LIST and a SELECT.
        cap = subprocess.Popen(["ip", "netns", "exec", self.net.srv, "dumpcap", "-q", "-i",
                                self.net.srv_if, "-f", "udp port 67 or udp port 68", "-c", "4",
                                "-w", pcap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.helpers.append(cap)
        expect(B.wait_until(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0, 5),
               "dumpcap did not start capturing")
        rc, j, r = self.bsdpc_json("--select", "1001", "--max-size", "1500")
        try:
            cap.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(cap.pid, signal.SIGTERM)
            cap.wait(timeout=10)
        expect(rc == 0, "bsdpc --select exit %d" % rc)
        out = B.run(["tshark", "-r", pcap, "-V"], check=False, timeout=60).stdout
        frames = out.count("\nFrame ") + out.startswith("Frame ")
        expect(frames >= 4, "captured %d frames" % frames)
        expect("Malformed" not in out and "malformed" not in out, "tshark: Malformed")
        expect("Expert Info (Error" not in out, "tshark reports an error")
        expect("AAPLBSDPC" in out, "no BSDP vendor class decoded")
        expect("Boot Server Discovery Protocol (BSDP)" in out, "tshark did not decode BSDP")
        names = out.count("Boot Image Name: ")
        expect(names >= VISIBLE, "tshark decoded %d image names, want %d" % (names, VISIBLE))
        expect("Message Type: SELECT (2)" in out, "no ACK[SELECT] decoded")
        with open(os.path.join(self.work, "tshark.txt"), "w") as f:
            f.write(out)
        lines = [l.strip() for l in out.splitlines() if "Boot Image" in l or "Message Type" in l]
        print("    tshark: %d frames; e.g. %s" % (frames, lines[:3]))

    def test_which_path_answers(self):
        # Kea's statistics add up either way. A broadcast INFORM on a link
        # with no subnet of Kea's: Kea 2.2 and 2.6 drop it before any later
        # hook point, so only the fast path answers; Kea 3.0 answers it
        # itself, and the hook adds BSDP to that ACK. The fast path's ACK
        # carries nothing but what Apple's bootpd sends (53, 54, 60, 43):
        # with Kea's echo-client-id off, not even option 61.
        self.kea.stop()
        kea = B.Kea(self.net, self.work, "kea-no-subnet")
        kea.config(self.args.hook, self.params(), subnet=False)
        with open(kea.conf) as f:
            conf = json.load(f)
        conf["Dhcp4"]["echo-client-id"] = False
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        self.keas.append(kea)
        names = ("pkt4-inform-received", "pkt4-ack-sent", "pkt4-sent")
        kea_answers = B.kea_answers_inform_without_subnet()
        try:
            expect(kea.start(), "kea-dhcp4 without a subnet did not start")

            def counts():
                return [B.statistic(kea, n, 0) for n in names]
            before = counts()
            # Wait for an answer; where none is due, listen in full.
            got = B.probe(self.net, [self.inform(B.bsdp_list(), extra=[(61, b"\x01" + bytes(6))])],
                          expect=1 if self.args.fast_path or kea_answers else None)
            after = counts()
            if self.args.fast_path:
                expect(len(got) == 1, "fast path: %d replies" % len(got))
                codes = sorted(set(c for c, _ in B.parse_options(got[0]["data"])))
                expect(codes == [43, 53, 54, 60], "fast path options %s" % codes)
                expect(after == [b + 1 for b in before], "%s %r -> %r" % (names, before, after))
            elif kea_answers:
                expect(len(got) == 1, "Kea %s: %d replies" % (B.kea_version(), len(got)))
                opts = B.parse_options(got[0]["data"])
                d = B.decode_bsdp(opts) if opts else None
                expect(d and d[1] == b"\x01" and d["images"],
                       "Kea %s's ACK is no ACK[LIST]: options %s" % (
                           B.kea_version(), opts and [c for c, _ in opts]))
                expect(B.option(opts, 61) is None, "option 61 echoed")
                expect(after == [b + 1 for b in before], "%s %r -> %r" % (names, before, after))
            else:
                expect(not got, "Kea %s answered a broadcast INFORM with no subnet" %
                       (B.kea_version(),))
                expect(after[1:] == before[1:], "%s %r -> %r" % (names, before, after))
        finally:
            kea.stop()
            self.kea, _ = self.start_kea("kea-after-no-subnet")

    def test_non_bsdp_inform_unchanged(self):
        xids = [self.next_xid() for _ in range(3)]
        mk = [lambda x: B.dhcp_message(x, self.net.cli_mac, [(60, "MSFT 5.0"), (55, bytes([1, 3, 6, 15, 43, 60]))]),
              lambda x: B.dhcp_message(x, self.net.cli_mac, [(55, bytes([1, 3, 6, 15]))]),
              lambda x: B.dhcp_message(x, self.net.cli_mac, [(60, "AAPLBSDPC"), (43, b"\x01\x01\x01")])]
        with_hook = [self.one_reply(m(x))[0]["data"] for m, x in zip(mk, xids)]
        self.kea.stop()
        plain, _ = self.start_kea("kea-plain", hook=False)
        try:
            without = [self.one_reply(m(x))[0]["data"] for m, x in zip(mk, xids)]
        finally:
            plain.stop()
            self.kea, _ = self.start_kea("kea-again")
        for i, (a, b) in enumerate(zip(with_hook, without)):
            expect(a == b, "INFORM %d differs with the hook:\n%s\n%s" % (i, a.hex(), b.hex()))

    def test_bad_parameter_refused_at_start(self):
        self.kea.stop()
        try:
            for n, (name, value, word) in enumerate((
                    ("server-priority", 70000, "server-priority"),
                    ("server-priority", "least-loaded", "server-priority"),
                    ("nfs-url", "nfs:nohost", "nfs-url"),
                    ("bogus-name", 1, "bogus-name"))):
                kea, ok = self.start_kea("kea-bad-%d-%s" % (n, name), params=self.params(**{name: value}),
                                         expect_ok=False)
                rc = kea.wait_exit(10)
                text = kea.text()
                expect(not ok and rc not in (None, 0), "%s=%r: kea started" % (name, value))
                line = [l for l in text.splitlines() if "BSDP_LOAD_ERROR" in l]
                expect(line and ("'%s'" % word) in line[0],
                       "%s: no BSDP_LOAD_ERROR naming it:\n%s" % (name, text[-1500:]))
                print("    " + line[0].split("] ", 1)[-1])
                kea.stop()
        finally:
            self.kea, _ = self.start_kea("kea-after-bad")

    # ---- runner ------------------------------------------------------------
    def run(self):
        tests = [t for t in dir(self) if t.startswith("test_")]
        order = ["test_list_split_over_instances", "test_list_capped_by_link_mtu",
                 "test_list_fits_576_and_keeps_default",
                 "test_attribute_filter", "test_version_1_0_gets_no_list", "test_select_http",
                 "test_select_nfs", "test_select_raw_header_fields",
                 "test_failed_for_unknown_disabled_filtered_escaping",
                 "test_silence_for_another_servers_select", "test_reply_port",
                 "test_relayed_inform", "test_ciaddr_outside_keas_subnets",
                 "test_multithreaded_burst",
                 "test_malformed_batch_survived", "test_tshark_decodes_list_and_select",
                 "test_which_path_answers", "test_non_bsdp_inform_unchanged", "test_bad_parameter_refused_at_start"]
        order += ops_tests.ORDER
        assert sorted(order) == sorted(tests)
        if self.args.fast_path:
            # The protocol again, answered from buffer4_receive; operations
            # are the same code either way.
            order = [t for t in order if t not in ops_tests.ORDER]
        if self.args.k:
            order = [t for t in order if self.args.k in t]
        self.make_sets()
        self.net.up()
        self.kea, _ = self.start_kea("kea")
        for t in order:
            B.run_test(self, t)

    def stop_keas(self):
        B.stop_keas(self.keas)

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, procs=self.helpers, keas=self.keas)


def main():
    ap = B.suite_arguments()
    ap.add_argument("--fast-path", action="store_true",
                    help='the protocol tests with "fast-path": true')
    args = ap.parse_args()
    return B.run_suite("integration (fast path)" if args.fast_path else "integration", Suite, args, ("kea-dhcp4", "tshark", "dumpcap", "socat", "ip"))


if __name__ == "__main__":
    sys.exit(main())
