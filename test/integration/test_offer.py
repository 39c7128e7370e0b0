#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests for the subsequent boot (docs/offer.md): a Mac that
SELECTed an image and is told to NetBoot sends a DHCPDISCOVER with option
60 AAPLBSDPC/<arch>/<model> and option 43 with the BSDP version; besides
Kea's OFFER of an address it gets an OFFER*, the same bytes as Apple's
bootpd sends (bsdpd.c, DISCOVER case), from a real kea-dhcp4.

usage (root): test_offer.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL per test and "offer: N passed, N failed"; exits 1 on any
failure. Namespaces, processes and files are removed even on failure."""
import os
import signal
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import run as R  # noqa: E402
import test_bindings as TB  # noqa: E402

ID_1002 = R.ID_1002                        # NFS
POOL = ("198.18.0.100", "198.18.0.150")
VENDOR = "AAPLBSDPC/i386/MacBookPro11,1"
STRANGER = "02:0f:fe:00:00:99"

Failure = R.Failure
expect = R.expect


def with_pool(d):
    d["subnet4"][0]["pools"] = [{"pool": "%s - %s" % POOL}]


def discover_options(extra43=b""):
    """What Mac firmware told to NetBoot sends in its DISCOVER."""
    return [(57, struct.pack("!H", 1500)), (55, bytes([1, 3, 17, 43, 60])), (60, VENDOR),
            (43, bytes([2, 2, 1, 1]) + extra43)]


def apple_offer_star(discover, server, ack):
    """The OFFER* bootpd's bsdpd.c writes for this DISCOVER, field by field
    (make_dhcp_reply, make_bsdp_reply, the DISCOVER case, S_client_update,
    X_netboot), from what the ACK[SELECT] of the same image gave: the
    request's header with op 2, hops and secs 0, ciaddr and yiaddr 0,
    siaddr, file; options 53 OFFER, 54, 60 AAPLBSDPC, 17, 43 {8, 130}, END;
    zeros up to 300 bytes. (bootpd also writes its host name into sname;
    the hook leaves sname empty.)"""
    name = ack["machine_name"].encode()
    sub = bytes([8, 4]) + struct.pack("!I", int(ack["selected_id"], 16))
    sub += bytes([130, len(name)]) + name
    root = ack["root_path"].encode()
    msg = (bytes([2]) + discover[1:3] + b"\0" + discover[4:8] + b"\0\0" + discover[10:12] +
           bytes(8) + B.ip_bytes(ack["siaddr"]) + discover[24:44] + bytes(64) +
           ack["file"].encode().ljust(128, b"\0") + B.MAGIC +
           bytes([53, 1, 2, 54, 4]) + B.ip_bytes(server) + bytes([60, 9]) + b"AAPLBSDPC" +
           bytes([17, len(root)]) + root + bytes([43, len(sub)]) + sub + b"\xff")
    return msg.ljust(300, b"\0")


def is_offer_star(g):
    opts = B.parse_options(g["data"])
    return opts is not None and B.option(opts, 60) == b"AAPLBSDPC"


class OfferSuite(TB.BindingSuite):
    ORDER = ["test_bound_mac_gets_keas_offer_and_the_offer_star",
             "test_relayed_discover_gets_the_offer_star_at_the_relay",
             "test_server_without_pools_still_sends_the_offer_star",
             "test_filtered_or_unbound_macs_get_only_keas_offer",
             "test_fast_path_sends_one_offer_star",
             "test_offer_bound_clients_false_sends_none",
             "test_bad_offer_bound_clients_refused_naming_it",
             "test_tshark_and_bsdpc_decode_the_offer_star",
             "test_pinned_mac_gets_its_pin_without_a_binding"]

    def select(self, mac=None):
        """bsdpc --select 1002 as the client (or raw, for another MAC):
        the ACK[SELECT]'s fields as bsdpc --json gives them."""
        if mac is None:
            rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
            expect(rc == 0 and j["select"]["result"] == "ack", "bsdpc --select: %s" % r.stderr)
            return j["select"]
        self.select_raw(ID_1002, mac=mac)
        return None

    def discover(self, mac=None, expect_n=None, giaddr=None, extra43=b""):
        """Sends a Mac's DISCOVER (broadcast, or as the relay at giaddr) and
        returns (the DISCOVER, the replies that arrived)."""
        mac = mac or self.net.cli_mac
        if giaddr:
            pkt = B.dhcp_message(self.next_xid(), mac, discover_options(extra43), ciaddr="0.0.0.0",
                                 giaddr=giaddr, hops=1, msgtype=1)
            got = B.probe(self.net, [pkt], dst_ip=B.SERVER_IP, sport=67, dport=67,
                          listen=(67, 68), expect=expect_n)
        else:
            pkt = B.dhcp_message(self.next_xid(), mac, discover_options(extra43), ciaddr="0.0.0.0",
                                 msgtype=1)
            got = B.probe(self.net, [pkt], src_ip="0.0.0.0", listen=(68,), expect=expect_n)
        xid = pkt[4:8]
        return pkt, [g for g in got if g["data"][4:8] == xid]

    def offers_sent(self, kea):
        return B.statistic(kea, "bsdp.offers-sent", 0)

    # ---- tests -------------------------------------------------------------
    def test_bound_mac_gets_keas_offer_and_the_offer_star(self):
        kea = self.start("bound", edit=with_pool)
        ack = self.select()
        pkt, got = self.discover(expect_n=2)
        stars = [g for g in got if is_offer_star(g)]
        plain = [g for g in got if not is_offer_star(g)]
        expect(len(stars) == 1 and len(plain) == 1,
               "%d OFFER*, %d other replies" % (len(stars), len(plain)))
        kopts = B.parse_options(plain[0]["data"])
        yiaddr = ".".join(str(b) for b in plain[0]["data"][16:20])
        expect(B.option(kopts, 53) == b"\x02" and yiaddr.startswith("198.18.0.1"),
               "Kea's OFFER: type %r, yiaddr %s" % (B.option(kopts, 53), yiaddr))
        expect(B.option(kopts, 43) is None, "Kea's OFFER got option 43")
        star = stars[0]
        want = apple_offer_star(pkt, B.SERVER_IP, ack)
        expect(star["data"] == want, "OFFER* differs from bootpd's at offsets %s" % [
            i for i in range(max(len(want), len(star["data"])))
            if star["data"][i:i + 1] != want[i:i + 1]][:20])
        expect(star["dst"] == "255.255.255.255" and star["dport"] == 68,
               "OFFER* went to %s:%d" % (star["dst"], star["dport"]))
        expect(self.offers_sent(kea) == 1, "bsdp.offers-sent %r" % self.offers_sent(kea))
        lines = self.wait_log(kea, r"BSDP_OFFER_SENT")
        expect(lines and ack["file"] in lines[0], "no BSDP_OFFER_SENT line")
        print("    Kea's OFFER of %s and an OFFER* of %d bytes, bootpd's byte for byte" %
              (yiaddr, len(star["data"])))
        print("    " + lines[0].split("] ", 1)[-1])

    def test_relayed_discover_gets_the_offer_star_at_the_relay(self):
        kea = self.start("relayed", edit=with_pool)
        ack = self.select()
        # The relay is the client namespace's address (a subnet of Kea's).
        pkt, got = self.discover(giaddr=B.CLIENT_IP, expect_n=2)
        stars = [g for g in got if is_offer_star(g)]
        expect(len(stars) == 1 and len(got) == 2, "%d replies, %d OFFER*" % (len(got), len(stars)))
        star = stars[0]
        expect(star["dst"] == B.CLIENT_IP and star["dport"] == 67,
               "OFFER* went to %s:%d, not the relay's port 67" % (star["dst"], star["dport"]))
        expect(star["data"] == apple_offer_star(pkt, B.SERVER_IP, ack), "not bootpd's OFFER*")
        expect(star["data"][24:28] == B.ip_bytes(B.CLIENT_IP), "giaddr not echoed")
        expect(self.offers_sent(kea) == 1, "bsdp.offers-sent")

    def test_server_without_pools_still_sends_the_offer_star(self):
        # A BSDP-only server beside another DHCP server: Kea offers no
        # address (and so sends no OFFER at all), the OFFER* still goes out.
        kea = self.start("poolless")
        ack = self.select()
        pkt, got = self.discover(expect_n=1)
        expect(len(got) == 1 and is_offer_star(got[0]), "%d replies" % len(got))
        expect(got[0]["data"] == apple_offer_star(pkt, B.SERVER_IP, ack), "not bootpd's OFFER*")
        expect(self.offers_sent(kea) == 1, "bsdp.offers-sent")

    def test_filtered_or_unbound_macs_get_only_keas_offer(self):
        kea = self.start("unbound", edit=with_pool)
        self.select()
        # A MAC with no binding.
        _, got = self.discover(mac=STRANGER)
        expect(len(got) == 1 and not is_offer_star(got[0]), "unbound MAC: %d replies" % len(got))
        # The bound Mac, asking only for install images (attribute filter
        # 0x8100): its NFS image (0x0100) no longer passes.
        _, got = self.discover(extra43=bytes([11, 2, 0x81, 0x00]))
        expect(len(got) == 1 and not is_offer_star(got[0]), "filtered: %d replies" % len(got))
        expect(self.offers_sent(kea) == 0, "bsdp.offers-sent %r" % self.offers_sent(kea))
        lines = self.wait_log(kea, r"BSDP_OFFER_NOT_SENT.*no binding")
        expect(lines, "no BSDP_OFFER_NOT_SENT line for the unbound MAC")

    def test_fast_path_sends_one_offer_star(self):
        kea = self.start("fast", edit=with_pool, **{"fast-path": True})
        ack = self.select()
        pkt, got = self.discover(expect_n=2)
        stars = [g for g in got if is_offer_star(g)]
        expect(len(stars) == 1 and len(got) == 2, "%d replies, %d OFFER*" % (len(got), len(stars)))
        expect(stars[0]["data"] == apple_offer_star(pkt, B.SERVER_IP, ack), "not bootpd's OFFER*")
        _, got = self.discover(mac=STRANGER)
        expect(len(got) == 1 and not is_offer_star(got[0]), "unbound MAC: %d replies" % len(got))
        expect(self.offers_sent(kea) == 1, "bsdp.offers-sent %r" % self.offers_sent(kea))

    def test_offer_bound_clients_false_sends_none(self):
        kea = self.start("off", edit=with_pool, **{"offer-bound-clients": False})
        self.select()
        _, got = self.discover()
        expect(len(got) == 1 and not is_offer_star(got[0]), "%d replies" % len(got))
        expect(self.offers_sent(kea) == 0, "bsdp.offers-sent")

    def test_pinned_mac_gets_its_pin_without_a_binding(self):
        # A host reservation pins image 1001 (HTTP) for a Mac that never
        # SELECTed: its DISCOVER gets an OFFER* naming 1001, on Kea's path
        # (pkt4_receive) and on the fast path (buffer4_receive, no subnet
        # selected yet); a Mac pinned to an image it may not see gets none.
        pinned, hidden = "02:0f:fe:00:00:21", "02:0f:fe:00:00:22"

        def edit(d):
            with_pool(d)
            d["subnet4"][0]["reservations"] = [
                {"hw-address": pinned, "hostname": "pinned-1",
                 "user-context": {"bsdp-image": 1001}},
                {"hw-address": hidden, "hostname": "pinned-2",
                 "user-context": {"bsdp-image": 4321}}]
        for fast in (False, True):
            kea = self.start("pin-%s" % ("fast" if fast else "kea"), edit=edit,
                             **{"fast-path": fast})
            _, got = self.discover(mac=pinned, expect_n=2)
            stars = [g for g in got if is_offer_star(g)]
            expect(len(stars) == 1 and len(got) == 2,
                   "fast-path %s: %d replies, %d OFFER*" % (fast, len(got), len(stars)))
            o43 = B.option(B.parse_options(stars[0]["data"]), 43)
            expect(o43[:2] == bytes([8, 4]) and struct.unpack("!I", o43[2:6])[0] == R.ID_1001,
                   "fast-path %s: OFFER* names %r, not the pin" % (fast, o43[:6]))
            _, got = self.discover(mac=hidden)
            expect(len(got) == 1 and not is_offer_star(got[0]),
                   "fast-path %s: a pin to no image: %d replies" % (fast, len(got)))
            expect(self.offers_sent(kea) == 1, "bsdp.offers-sent %r" % self.offers_sent(kea))
            kea.stop()
        print("    a pinned Mac's DISCOVER: OFFER* of its pin %#x on Kea's path and the fast path" %
              R.ID_1001)

    def test_bad_offer_bound_clients_refused_naming_it(self):
        kea = self.start("bad", expect_ok=False, **{"offer-bound-clients": "yes"})
        rc = kea.wait_exit(10)
        line = [l for l in kea.text().splitlines() if "BSDP_LOAD_ERROR" in l]
        expect(rc not in (None, 0) and line and "parameter 'offer-bound-clients'" in line[0],
               "kea-dhcp4 exit %r, no BSDP_LOAD_ERROR naming it:\n%s" % (rc, kea.text()[-1500:]))
        print("    " + line[0].split("] ", 1)[-1])
        r = B.kea_bsdp_check(self.args.hook, [kea.conf], data_dir=kea.dir)
        expect(r.returncode == 1 and "offer-bound-clients" in r.stdout + r.stderr,
               "kea-bsdp-check exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))

    def test_tshark_and_bsdpc_decode_the_offer_star(self):
        self.start("decode", edit=with_pool)
        ack = self.select()
        pcap = os.path.join(self.work, "offer.pcap")
        # The DISCOVER and the two OFFERs.
        cap = subprocess.Popen(["ip", "netns", "exec", self.net.srv, "dumpcap", "-q", "-i",
                                self.net.srv_if, "-f", "udp port 67 or udp port 68", "-c", "3",
                                "-w", pcap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.helpers.append(cap)
        expect(B.wait_until(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0, 5),
               "dumpcap did not start capturing")
        # bsdpc --discover broadcasts as the Mac does and prints both OFFERs.
        r = B.run(["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i", self.net.cli_if,
                   "--discover", "--timeout", "1.5", "--json"], check=False, timeout=30)
        try:
            cap.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(cap.pid, signal.SIGTERM)
            cap.wait(timeout=10)
        import json
        expect(r.returncode == 0, "bsdpc --discover exit %d: %s" % (r.returncode, r.stderr))
        j = json.loads(r.stdout)
        expect(len(j["offers"]) == 1 and j["offers"][0]["yiaddr"].startswith("198.18.0.1"),
               "bsdpc saw Kea's OFFERs %s" % j["offers"])
        expect(len(j["offer_stars"]) == 1, "bsdpc saw %d OFFER*" % len(j["offer_stars"]))
        s = j["offer_stars"][0]
        for k in ("selected_id", "siaddr", "file", "root_path", "machine_name"):
            expect(s[k] == ack[k], "bsdpc --discover %s %r, ACK[SELECT] %r" % (k, s[k], ack[k]))
        print("    bsdpc --discover: OFFER of %s, OFFER* of %s" % (j["offers"][0]["yiaddr"],
                                                                    s["file"]))
        # --decode of the OFFER* as it was on the wire.
        pkt, got = self.discover(expect_n=2)
        star = [g for g in got if is_offer_star(g)][0]
        path = os.path.join(self.work, "offer-star.bin")
        with open(path, "wb") as f:
            f.write(star["data"])
        r = B.run([self.args.bsdpc, "--decode", path], check=False)
        expect(r.returncode == 0 and "OFFER* from 198.18.0.1" in r.stdout and
               ack["machine_name"] in r.stdout, "bsdpc --decode: %r %r" % (r.stdout, r.stderr))
        out = B.run(["tshark", "-r", pcap, "-V"], check=False, timeout=60).stdout
        frames = out.count("\nFrame ") + out.startswith("Frame ")
        expect(frames == 3, "captured %d frames" % frames)
        expect("Malformed" not in out and "Expert Info (Error" not in out, "tshark: malformed")
        offers = out.count("DHCP: Offer (2)")
        expect(offers == 2, "tshark decoded %d OFFERs" % offers)
        expect("Boot Server Discovery Protocol (BSDP)" in out, "tshark did not decode BSDP")
        expect(ack["root_path"] in out, "tshark did not decode option 17")
        with open(os.path.join(self.work, "tshark.txt"), "w") as f:
            f.write(out)
        lines = [l.strip() for l in out.splitlines() if "BSDP" in l or "Boot Image" in l]
        print("    tshark: %d frames; %s" % (frames, lines[:4]))


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("offer", OfferSuite, args, ("kea-dhcp4", "ip", "tshark", "dumpcap"))


if __name__ == "__main__":
    sys.exit(main())
