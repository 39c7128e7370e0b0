#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""bsdp-explain and bsdpc --explain against a real kea-dhcp4: a row of
traps, sets that each look offered (valid, enabled, i386, HTTP) but for one
key that removes them, asked about for Macs that sent real LISTs. Each
set's rule is asserted exactly, and against what the Mac's real ACK[LIST]
and ACK[SELECT] carried and what the debug log said when the LIST was
built.

usage (root): test_explain.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL per test and "explain: N passed, N failed"; exits 1 on
any failure. Namespaces, processes and files are removed even on failure."""
import json
import os
import plistlib
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402

expect = B.expect
HTTP_URL = "http://198.18.0.1/netboot"
MAC_A = "02:00:00:00:0a:01"      # sends no filter; a reservation pins 101
MAC_B = "02:00:00:00:0b:02"      # an iMac14,2 filtering for kind 1 (0x0100); selected 102
MAC_C = "02:00:00:00:0c:03"      # accepts 576 bytes; pinned to a disabled set
MAC_OTHER = "02:00:00:00:99:99"  # the only MAC OtherMacOnly.nbi lets in
MAC_NO_CIADDR = "02:00:00:00:0d:04"   # asks before it has an address
MAC_HIGH_PORT = "02:00:00:00:0e:05"   # asks for a reply on port 2000
MAC_V1_0 = "02:00:00:00:0f:06"        # speaks BSDP 1.0
LONG_NAME = "A long name " + "x" * 220
FILES = ["i386/booter", "i386/x86_64/kernelcache", "ppc/booter", "NetBoot.dmg"]

# (folder, index, the one key that differs, what each Mac is told).
TRAPS = [
    ("Plain.nbi", 101, {}, ("offered", "offered", "offered")),
    ("Default.nbi", 102, {"IsDefault": True}, ("offered", "offered", "offered")),
    ("Disabled.nbi", 103, {"IsEnabled": False}, ("disabled",) * 3),
    ("PowerPC.nbi", 104, {"Architectures": ["ppc"]}, ("architecture",) * 3),
    ("iMacOnly.nbi", 105, {"EnabledSystemIdentifiers": ["iMac14,2"]},
     ("enabled-system-identifiers", "offered", "enabled-system-identifiers")),
    ("NotMacA.nbi", 106, {"DisabledMACAddresses": [MAC_A]},
     ("disabled-mac-addresses", "offered", "offered")),
    ("OtherMacOnly.nbi", 107, {"EnabledMACAddresses": [MAC_OTHER]},
     ("enabled-mac-addresses",) * 3),
    ("FilterOnly.nbi", 108, {"FilterOnly": True}, ("filter-only", "offered", "filter-only")),
    # Kind 3 (diagnostics) is FilterOnly unless the plist says otherwise.
    ("Diagnostics.nbi", 109, {"Kind": 3, "FilterOnly": False},
     ("offered", "attribute-filter", "offered")),
    # Last in byte order: the images before it fit 576 bytes, it does not.
    ("zLongName.nbi", 110, {"Name": LONG_NAME}, ("offered", "offered", "no-room")),
    ("Flaky.nbi", 111, {}, ("offered", "offered", "offered")),
]
MACS = (MAC_A, MAC_B, MAC_C)
BROKEN = "Broken.nbi"


def keys(index, extra):
    k = {"Name": "Image %d" % index, "Index": index, "Type": "HTTP", "Kind": 1,
         "IsEnabled": True, "BootFile": "booter", "Architectures": ["i386"],
         "RootPath": "NetBoot.dmg"}
    k.update(extra)
    return k


class ExplainSuite:
    ORDER = ["test_every_trap_names_its_one_rule_as_the_list_and_log_do",
             "test_default_selected_pin_binding_and_select_as_kea_answers",
             "test_unknown_mac_needs_a_model_and_stale_and_skipped_sets",
             "test_a_dropped_list_and_a_bsdp_1_0_mac_as_kea_answered_them",
             "test_a_burst_of_macs_each_remembered_as_it_asked"]

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-explain-")
        self.sets = os.path.join(self.work, "sets")
        self.net = B.Net("x%05d" % (os.getpid() % 100000))
        self.keas = []
        self.kea = None
        self.passed = 0
        self.failed = 0
        self.xid = 0x6e780000 + os.getpid() % 0x10000

    # ---- fixtures ----------------------------------------------------------
    def make_sets(self):
        for folder, index, extra, _ in TRAPS:
            B.write_set(self.sets, folder, keys(index, extra), FILES)
        # Skipped: no BootFile.
        broken = keys(120, {})
        del broken["BootFile"]
        B.write_set(self.sets, BROKEN, broken, FILES)

    def start(self):
        kea = B.Kea(self.net, self.work, "explain")
        # Multi-threaded unless asked not to: the LISTs are noted for
        # bsdp-explain from Kea's packet threads.
        kea.config(self.args.hook, {"sets-directory": self.sets, "http-url": HTTP_URL,
                                    "state-file": os.path.join(kea.dir, "b.csv")},
                   mt=False if self.args.single_threaded else True)
        with open(kea.conf) as f:
            conf = json.load(f)
        conf["Dhcp4"]["subnet4"][0]["reservations"] = [
            {"hw-address": MAC_A, "hostname": "lab-a", "user-context": {"bsdp-image": 101}},
            {"hw-address": MAC_C, "hostname": "lab-c", "user-context": {"bsdp-image": 103}}]
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        self.keas.append(kea)
        kea.start_checked()
        self.kea = kea
        return kea

    def sock(self):
        return os.path.join(self.kea.dir, "kea4.sock")

    def inform(self, mac, opt43, model="MacBookPro11,1"):
        self.xid += 1
        return B.bsdp_inform(self.xid, mac, opt43, vendor="AAPLBSDPC/i386/" + model)

    def ask(self, mac, opt43, model="MacBookPro11,1"):
        got = B.probe(self.net, [self.inform(mac, opt43, model)], expect=1)
        expect(len(got) == 1, "%s: %d replies" % (mac, len(got)))
        opts = B.parse_options(got[0]["data"])
        return got[0], opts, B.decode_bsdp(opts)

    def send_lists(self):
        """Each Mac's real LIST; the indexes each ACK[LIST] carried."""
        lists = {}
        for mac, extra in ((MAC_A, bytes([12, 2, 0x05, 0xdc])),
                           (MAC_B, bytes([12, 2, 0x05, 0xdc, 11, 2, 0x01, 0x00])),
                           (MAC_C, bytes([12, 2, 0x02, 0x40]))):
            model = "iMac14,2" if mac == MAC_B else "MacBookPro11,1"
            _, opts, d = self.ask(mac, B.bsdp_list(extra=extra), model)
            expect(d and d.get(1) == b"\x01", "%s: no ACK[LIST]" % mac)
            lists[mac] = sorted(i & 0xffff for i, _ in d["images"])
        return lists

    def bsdpc_explain(self, *args):
        r = B.run([self.args.bsdpc, "--explain"] + list(args) + ["--socket", self.sock()],
                  check=False, timeout=30)
        return r

    def explain_json(self, mac, *args):
        r = self.bsdpc_explain(mac, "--json", *args)
        expect(r.returncode == 0, "bsdpc --explain %s: exit %d %s" % (mac, r.returncode, r.stderr))
        return json.loads(r.stdout)

    # ---- tests -------------------------------------------------------------
    def test_every_trap_names_its_one_rule_as_the_list_and_log_do(self):
        self.make_sets()
        self.start()
        lists = self.send_lists()
        for n, mac in enumerate(MACS):
            a = self.explain_json(mac)
            expect(a["result"] == 0, "%s: %s" % (mac, a))
            images = {i["index"]: i for i in a["arguments"]["images"]}
            expect(sorted(images) == sorted(t[1] for t in TRAPS), "%s: images %s" % (mac, images))
            for folder, index, extra, rules in TRAPS:
                img = images[index]
                expect(img["rule"] == rules[n] and img["offered"] == (rules[n] == "offered") and
                       img["set"] == folder,
                       "%s: %s is %s/%s, want %s" % (mac, folder, img["rule"], img["offered"],
                                                     rules[n]))
            # What the Mac's real ACK[LIST] carried is what explain offers.
            offered = sorted(i for i, img in images.items() if img["offered"])
            expect(offered == lists[mac], "%s: explain offers %s, its LIST had %s" %
                   (mac, offered, lists[mac]))
            # The debug log said the same when the LIST was built.
            for index, img in images.items():
                name = LONG_NAME if index == 110 else "Image %d" % index
                if img["offered"]:
                    pat = r"BSDP_LIST_IMAGE_OFFERED %s: image %d '%s' \(set %s\)" % (
                        mac, index, name, img["set"].replace(".", r"\."))
                else:
                    pat = r"BSDP_LIST_IMAGE_REMOVED %s: image %d '%s' \(set %s\) is not " \
                          r"offered: %s \(" % (mac, index, name, img["set"].replace(".", r"\."),
                                               img["rule"])
                expect(self.kea.lines(pat, 5), "%s: no log line %s" % (mac, pat))
            print("    %s: %s" % (mac, a["text"].splitlines()[0]))
        # The skipped set, with the reason bsdp-images-list gives.
        a = self.explain_json(MAC_A)
        il = B.control_command(self.sock(), "bsdp-images-list")["arguments"]["skipped"]
        expect(len(il) == 1 and BROKEN in il[0]["path"], "images-list skipped %s" % il)
        sk = a["arguments"]["skipped"]
        expect(sk == [{"path": il[0]["path"], "offered": False, "rule": "skipped",
                       "why": il[0]["reason"]}], "explain skipped %s" % sk)
        # The person's view: one line per set, the rule spelled out.
        r = self.bsdpc_explain(MAC_A)
        expect(r.returncode == 0, "bsdpc --explain: %s" % r.stderr)
        for line in ("  103 'Image 103' [Disabled.nbi]: not offered: disabled (IsEnabled is false)",
                     "  104 'Image 104' [PowerPC.nbi]: not offered: architecture (the client's "
                     "architecture is not in Architectures)",
                     "  skipped %s: %s" % (il[0]["path"], il[0]["reason"])):
            expect(line in r.stdout.splitlines(), "bsdpc --explain lacks %r:\n%s" % (line, r.stdout))
        # Overrides: the same Mac as if it sent a kind-3 filter, or were a ppc.
        a = self.explain_json(MAC_A, "--filter", "0x0300")
        got = {i["index"]: i["rule"] for i in a["arguments"]["images"]}
        expect(got[109] == "offered" and got[101] == "attribute-filter" and
               got[108] == "attribute-filter", "filter 0x0300: %s" % got)
        a = self.explain_json(MAC_A, "--arch", "ppc")
        got = {i["index"]: i["rule"] for i in a["arguments"]["images"]}
        expect(got[104] == "offered" and got[101] == "architecture", "ppc: %s" % got)

    def test_default_selected_pin_binding_and_select_as_kea_answers(self):
        self.make_sets()
        self.start()
        # B selects 102 for real: its binding.
        msg, opts, d = self.ask(MAC_B, B.bsdp_select(B.SERVER_IP, B.image_id(102)))
        expect(d and d.get(1) == b"\x02", "B's SELECT not acknowledged")
        real = {"boot-file": msg["data"][108:236].rstrip(b"\0").decode(),
                "root-path": dict(opts).get(17, b"").decode(),
                "machine-name": d[130].decode(),
                "siaddr": ".".join(str(b) for b in msg["data"][20:24])}
        lists = self.send_lists()
        expect(lists[MAC_A], "A got no list")
        a = self.explain_json(MAC_A)["arguments"]["list"]
        expect(a["default"]["index"] == 102 and a["default-why"] == "IsDefault (for every model)",
               "A default %s" % a)
        expect(a["selected"]["index"] == 101 and a["selected-by"] == "pin" and
               a["selected-why"] == "101 'Image 101': pinned by reservation in subnet 1 'lab-a'",
               "A selected %s" % a)
        b = self.explain_json(MAC_B)
        bl = b["arguments"]["list"]
        expect(bl["selected"]["index"] == 102 and bl["selected-by"] == "binding", "B %s" % bl)
        sel = [i for i in b["arguments"]["images"] if i["index"] == 102][0]["select"]
        expect(sel == dict(real, result="ack", **{"chain-url": None}),
               "explained SELECT %s, Kea's ACK %s" % (sel, real))
        print("    B's SELECT of 102, explained: %s" % sel)
        c = self.explain_json(MAC_C)["arguments"]["list"]
        expect(c["selected-by"] == "none" and c["selected-why"] ==
               "none; pin of index 103 (reservation in subnet 1 'lab-c') not followed: "
               "disabled (IsEnabled is false)", "C %s" % c)
        # Explaining took no machine number and recorded nothing.
        bl = B.control_command(self.sock(), "bsdp-bindings-list")["arguments"]["bindings"]
        expect([x["hw-address"] for x in bl] == [MAC_B], "bindings after explain: %s" % bl)

    def test_unknown_mac_needs_a_model_and_stale_and_skipped_sets(self):
        self.make_sets()
        self.start()
        r = self.bsdpc_explain(MAC_OTHER)
        expect(r.returncode == 1 and "no LIST from %s is remembered" % MAC_OTHER in r.stderr and
               "give 'model'" in r.stderr, "unknown MAC: exit %d %r" % (r.returncode, r.stderr))
        a = self.explain_json(MAC_OTHER, "--model", "iMac14,2", "--max-size", "1500")
        got = {i["index"]: i["rule"] for i in a["arguments"]["images"]}
        expect(got[107] == "offered" and got[105] == "offered" and got[106] == "offered" and
               got[108] == "filter-only" and not a["arguments"]["request"]["remembered"],
               "a Mac never seen, described: %s" % got)
        # Flaky.nbi breaks: served stale, still offered, and said so.
        plist = os.path.join(self.sets, "Flaky.nbi", "NBImageInfo.plist")
        with open(plist, "rb") as f:
            good = plistlib.dumps(plistlib.load(f), fmt=plistlib.FMT_BINARY)
        with open(plist, "wb") as f:
            f.write(good[:len(good) // 2])
        rl = B.control_command(self.sock(), "bsdp-reload")
        expect(rl["result"] == 0 and rl["arguments"]["stale"] == 1, "reload %s" % rl)
        a = self.explain_json(MAC_OTHER, "--model", "iMac14,2", "--max-size", "1500")
        img = [i for i in a["arguments"]["images"] if i["index"] == 111][0]
        expect(img["offered"] and img["stale"]["reason"] ==
               "NBImageInfo.plist is not a valid XML or binary property list",
               "stale Flaky %s" % img)
        r = self.bsdpc_explain(MAC_OTHER, "--model", "iMac14,2")
        line = [l for l in r.stdout.splitlines() if "[Flaky.nbi]" in l]
        expect(line and line[0].endswith("(served stale: NBImageInfo.plist is not a valid XML "
                                          "or binary property list)"), "text %r" % line)
        print("    " + line[0])

    def test_a_dropped_list_and_a_bsdp_1_0_mac_as_kea_answered_them(self):
        """A LIST dropped before the catalogue is asked left the Mac with
        nothing: explain says so. A BSDP 1.0 Mac gets no list but boots the
        default: explain gives that image's SELECT, as Kea answers it."""
        self.make_sets()
        self.start()
        for mac, kw, extra, reason, why in (
                (MAC_NO_CIADDR, {"ciaddr": "0.0.0.0"}, b"", "no-ciaddr", "ciaddr is 0"),
                (MAC_HIGH_PORT, {}, bytes([5, 2, 0x07, 0xd0]), "reply-port",
                 "reply port 1024 or above")):
            self.xid += 1
            pkt = B.bsdp_inform(self.xid, mac, B.bsdp_list(extra=extra), **kw)
            got = B.probe(self.net, [pkt], timeout=1)
            expect(got == [], "%s: Kea answered %d time(s)" % (mac, len(got)))
            expect(self.kea.lines(r"BSDP_QUERY_DROPPED dropped a BSDP INFORM from %s: %s" % (mac, reason), 5),
                   "%s: Kea did not drop it as %s" % (mac, reason))
            a = self.explain_json(mac)
            req = a["arguments"]["request"]
            expect(req["remembered"] and req["dropped"] == {"reason": reason, "why": why},
                   "%s: request %s" % (mac, req))
            head = a["text"].splitlines()[0]
            expect("but its LIST was dropped: %s (%s), so it was offered nothing" % (reason, why)
                   in head, "%s: %r" % (mac, head))
            print("    " + head)
        # A Mac whose LIST was answered has nothing dropped.
        self.send_lists()
        expect(self.explain_json(MAC_A)["arguments"]["request"]["dropped"] is None,
               "an answered LIST reported dropped")

        _, _, d = self.ask(MAC_V1_0, B.bsdp_list(version=0x0100))
        expect(d and d.get(1) == b"\x01" and d["images"] == [] and
               struct.unpack("!I", d[7])[0] == B.image_id(102),
               "1.0 LIST: %s" % d)
        a = self.explain_json(MAC_V1_0)
        images = {i["index"]: i for i in a["arguments"]["images"]}
        expect(a["arguments"]["list"]["default"]["index"] == 102 and
               a["arguments"]["request"]["bsdp-version"] == "1.0", "1.0: %s" % a["arguments"])
        expect(all(i["rule"] == "bsdp-1.0" for n, i in images.items()
                   if n in (101, 102, 106, 111)), "1.0 rules %s" % images)
        expect(all("select" not in i for n, i in images.items() if n != 102),
               "1.0: a SELECT given for an image it does not boot")
        sel_1_0 = bytes([1, 1, 2, 2, 2, 1, 0, 3, 4]) + B.ip_bytes(B.SERVER_IP) + \
            bytes([8, 4]) + struct.pack("!I", B.image_id(102))
        msg, opts, d = self.ask(MAC_V1_0, sel_1_0)
        expect(d and d.get(1) == b"\x02", "1.0 SELECT not acknowledged: %s" % d)
        real = {"result": "ack", "boot-file": msg["data"][108:236].rstrip(b"\0").decode(),
                "root-path": dict(opts).get(17, b"").decode(), "chain-url": None,
                "siaddr": ".".join(str(b) for b in msg["data"][20:24]), "machine-name": None}
        expect(images[102].get("select") == real,
               "1.0: explained %s, Kea's ACK %s" % (images[102].get("select"), real))
        line = [l for l in a["text"].splitlines() if "[Default.nbi]" in l]
        expect(line and "not offered: bsdp-1.0" in line[0] and
               "it is the default, which a BSDP 1.0 Mac boots: SELECT: boot file "
               "Default.nbi/i386/booter" in line[0], "1.0 text %r" % line)
        print("    " + line[0])

    def test_a_burst_of_macs_each_remembered_as_it_asked(self):
        """300 Macs' LISTs in bursts, noted from Kea's packet threads: each
        is explained with its own model and filter."""
        self.make_sets()
        self.start()
        macs = ["02:00:00:01:%02x:%02x" % (i >> 8, i & 0xff) for i in range(300)]
        pkts = [self.inform(m, B.bsdp_list(extra=bytes([11, 2, 0x01, 0x00]) if i % 2 else b""),
                            model="Macmini%d,1" % i) for i, m in enumerate(macs)]
        # In bursts of 30: Kea's packet queue (64 here) drops beyond.
        for at in range(0, len(pkts), 30):
            got = B.probe(self.net, pkts[at:at + 30], expect=30, timeout=5)
            expect(len(got) == 30, "%d of 30 LISTs answered" % len(got))
        for i in (0, 1, 149, 298, 299):
            req = self.explain_json(macs[i])["arguments"]["request"]
            expect(req["remembered"] and req["model"] == "Macmini%d,1" % i and
                   req["attribute-filter"] == ([256] if i % 2 else None),
                   "%s: %s" % (macs[i], req))

    # ---- runner ------------------------------------------------------------
    def run(self):
        tests = sorted(t for t in dir(self) if t.startswith("test_"))
        assert sorted(self.ORDER) == tests, tests
        self.net.up()
        for t in [t for t in self.ORDER if not self.args.k or self.args.k in t]:
            B.run_test(self, t, after=self.reset)

    def reset(self):
        B.stop_keas(self.keas)
        self.keas = []
        if os.path.isdir(self.sets):
            B.run(["rm", "-rf", self.sets])

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, keas=self.keas)


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("explain", ExplainSuite, args, ("kea-dhcp4", "ip"))


if __name__ == "__main__":
    sys.exit(main())
