#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests for remembered selections, host pinning and the iPXE
stage, with real kea-dhcp4 processes in network namespaces.

usage (root): test_bindings.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Each test starts its own kea-dhcp4 with its own state file. Prints PASS/FAIL
per test and "bindings: N passed, N failed"; exits 1 on any failure.
Namespaces, processes and files are removed even on failure."""
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import run as R  # noqa: E402

ID_1001 = R.ID_1001                        # HTTP, the default
ID_1002 = R.ID_1002                        # NFS
ID_IPXE = B.image_id(1003)                 # BootFileOnly with a ChainURL
CHAIN_URL = "http://198.18.0.1/esxi/mboot.efi"
SNPONLY = "/usr/lib/ipxe/snponly.efi"      # Debian's ipxe package
POOL = ("198.18.0.100", "198.18.0.150")
HEADER = B.STATE_HEADER
parse_state = B.parse_state

Failure = R.Failure
expect = R.expect


def ipxe_options(kind="discover", requested=None, server=None):
    """What iPXE (snponly.efi on a Mac's UEFI) sends: user class iPXE, its
    encapsulated option 175 (feature flags and bus id), PXE vendor class,
    client architecture 7 (EFI x86-64) and UNDI 3.16."""
    encap = bytes([0xb1, 0x05, 0x01, 0x14, 0xe4, 0x16, 0x86,   # bus id: PCI 14e4:1686
                   0x10, 0x01, 0x02,                           # PXE extensions
                   0x13, 0x01, 0x01,                           # HTTP
                   0x14, 0x01, 0x01,                           # HTTPS
                   0x15, 0x01, 0x01,                           # TFTP
                   0x17, 0x01, 0x01,                           # DNS
                   0x24, 0x01, 0x01,                           # EFI
                   0x27, 0x01, 0x01])                          # menu
    opts = [(57, struct.pack("!H", 1472)),
            (93, b"\x00\x07"),
            (94, b"\x01\x03\x10"),
            (97, b"\x00" + bytes(range(1, 17))),
            (60, "PXEClient:Arch:00007:UNDI:003016"),
            (77, "iPXE"),
            (175, encap),
            (55, bytes([1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131,
                        132, 133, 134, 135, 175, 203]))]
    if requested:
        opts.append((50, B.ip_bytes(requested)))
    if server:
        opts.append((54, B.ip_bytes(server)))
    return opts


def file_field(msg):
    return msg[108:236].rstrip(b"\0")


class BindingSuite(R.Suite):
    ORDER = ["test_select_then_list_survives_restart",
             "test_kill9_during_select_bursts_never_tears_the_file",
             "test_damaged_state_file_set_aside_and_serving_continues",
             "test_unwritable_state_file_reported_and_serving_continues",
             "test_reservation_pins_in_subnet_and_globally",
             "test_pin_of_the_subnet_kea_selected",
             "test_ipxe_chain_after_select_within_window",
             "test_bad_machine_name_format_refused_naming_it",
             "test_config_reload_keeps_bindings",
             "test_pin_added_by_config_reload_applies",
             "test_full_table_evicts_least_recent_and_counts",
             "test_bindings_list_pages_through_thousands"]

    # ---- fixtures ----------------------------------------------------------
    def make_sets(self):
        R.Suite.make_sets(self)
        # The whole ESXi-on-Mac path needs no iPXE build: Debian's own
        # snponly.efi is the booter of the chain set.
        if os.path.exists(SNPONLY):
            shutil.copyfile(SNPONLY, os.path.join(self.sets, "iPXE.nbi", "i386", "snponly.efi"))

    def start(self, name, edit=None, expect_ok=True, **over):
        """A kea-dhcp4 with the hook; edit(dhcp4_dict) may change the
        configuration (pools, reservations) before it starts."""
        over.setdefault("state-file", os.path.join(self.work, name + ".csv"))
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook, self.params(**over))
        if edit:
            with open(kea.conf) as f:
                conf = json.load(f)
            edit(conf["Dhcp4"])
            with open(kea.conf, "w") as f:
                json.dump(conf, f, indent=2)
        self.keas.append(kea)
        kea.start_checked() if expect_ok else kea.start()
        self.kea = kea
        return kea

    def wait_log(self, kea, pattern, timeout=5.0):
        return kea.lines(pattern, timeout)

    def wait_file(self, path, timeout=5.0):
        return B.wait_until(lambda: os.path.exists(path), timeout)

    def list_reply(self, mac=None, **kw):
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])),
                                             mac=mac, **kw))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x01", "not an ACK[LIST]")
        return d

    def selected(self, d):
        return struct.unpack("!I", d[8])[0] if 8 in d else None

    def select_raw(self, iid, mac=None):
        _, opts = self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, iid), mac=mac))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x02", "SELECT %#x not acknowledged" % iid)
        return d

    # ---- tests -------------------------------------------------------------
    def test_select_then_list_survives_restart(self):
        state = os.path.join(self.work, "restart.csv")
        kea = self.start("restart-1", **{"state-file": state, "machine-name-format": "Mac-%04d"})
        # Two other Macs first, so this one's machine number is not 1.
        others = ["02:00:00:00:01:01", "02:00:00:00:01:02"]
        for m in others:
            self.select_raw(ID_1001, mac=m)
        expect(self.selected(self.list_reply()) is None, "sub-option 8 before any SELECT")
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(rc == 0 and j["select"]["result"] == "ack", "bsdpc --select 1002: %s" % r.stderr)
        name = j["select"]["machine_name"]
        expect(name == "Mac-0003", "machine name %r, want Mac-0003" % name)
        expect(self.selected(self.list_reply()) == ID_1002, "LIST after SELECT lacks 8 = 1002")
        kea.stop()
        saved = parse_state(state)
        mine = saved.get(self.net.cli_mac)
        expect(mine and mine[0] == ID_1002 and mine[2] == 3, "state file entry %r" % (mine,))
        expect(all(saved[m][0] == ID_1001 for m in others), "other Macs not saved: %r" % saved)

        kea = self.start("restart-2", **{"state-file": state, "machine-name-format": "Mac-%04d"})
        expect(self.wait_log(kea, r"BSDP_STATE_LOADED loaded 3 binding"), "no BSDP_STATE_LOADED")
        d = self.list_reply()
        expect(self.selected(d) == ID_1002, "after restart LIST has 8 = %r" % self.selected(d))
        # Sub-option 8 obeys the attribute filter, like 7 and 9.
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([11, 2, 0x03, 0x00]))))
        expect(8 not in B.decode_bsdp(opts), "8 sent for an image the filter excludes")
        # bsdpc's own LIST shows it as the selected image too.
        rc, j, r = self.bsdpc_json("--list")
        expect(rc == 0, "bsdpc --list: %s" % r.stderr)
        sel = j["servers"][0].get("selected_id")
        expect(sel is not None and int(str(sel), 0) == ID_1002, "bsdpc selected_id %r" % sel)
        print("    after restart: sub-option 8 = %#x, bsdpc selected_id %s" % (self.selected(d), sel))
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(rc == 0 and j["select"]["machine_name"] == name,
               "machine name after restart %r, want %r" % (j and j["select"]["machine_name"], name))
        # A SELECT naming another server forgets our binding (and keeps the number).
        got = B.probe(self.net, [self.inform(B.bsdp_select("198.18.0.99", ID_1001))],
                      listen=(67, 68))
        expect(got == [], "another server's SELECT answered")
        expect(self.selected(self.list_reply()) is None, "binding kept after another server's SELECT")
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(j["select"]["machine_name"] == name, "number changed after forgetting")
        kea.stop()

    def test_kill9_during_select_bursts_never_tears_the_file(self):
        state = os.path.join(self.work, "kill.csv")
        rnd = random.Random(9)
        known = {}
        rounds = 10
        for rno in range(rounds):
            kea = self.start("kill-%d" % rno, **{"state-file": state})
            bad = [l for l in kea.text().splitlines()
                   if re.search(r"BSDP_STATE_(BAD_LINE|UNREADABLE|SET_ASIDE)", l)]
            expect(not bad, "round %d: state file reported damaged: %s" % (rno, bad))
            # Phase 1: SELECTs answered well before the kill must survive it.
            early = ["02:00:%02x:00:00:%02x" % (rno, i) for i in range(10)]
            got = B.probe(self.net, [self.inform(B.bsdp_select(B.SERVER_IP, ID_1002), mac=m)
                                     for m in early], timeout=1.2, expect=len(early))
            expect(len(got) == len(early), "round %d: %d of %d early SELECTs answered" %
                   (rno, len(got), len(early)))
            # Saved (the writer's next round), so a later kill must not lose them.
            expect(B.wait_until(lambda: os.path.exists(state) and
                                set(early) <= set(parse_state(state)), 5),
                   "round %d: early SELECTs not saved within 5 s" % rno)
            # Phase 2: a burst, and kill -9 in the middle of it.
            before = kea.text().count("BSDP_REPLY_SELECT")
            burst = ["02:01:%02x:00:%02x:%02x" % (rno, i >> 8, i & 0xff) for i in range(150)]
            spec = {"iface": self.net.cli_if, "src_mac": self.net.cli_mac,
                    "dst_mac": "ff:ff:ff:ff:ff:ff", "src_ip": B.CLIENT_IP,
                    "dst_ip": "255.255.255.255", "sport": 68, "dport": 67, "listen": [68],
                    "timeout": 0.2,
                    "payloads": [self.inform(B.bsdp_select(B.SERVER_IP, ID_1001), mac=m).hex()
                                 for m in burst]}
            sender = subprocess.Popen(["ip", "netns", "exec", self.net.cli, B.PYTHON,
                                       os.path.join(HERE, "probe.py")], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.helpers.append(sender)
            sender.stdin.write(json.dumps(spec).encode())
            sender.stdin.close()
            target = rnd.randrange(5, 120)
            deadline = time.monotonic() + 15
            while (kea.text().count("BSDP_REPLY_SELECT") - before < target and
                   time.monotonic() < deadline and sender.poll() is None):
                time.sleep(0.01)
            answered = kea.text().count("BSDP_REPLY_SELECT") - before
            os.kill(kea.proc.pid, signal.SIGKILL)
            kea.proc.wait(timeout=10)
            kea.proc = None
            try:
                sender.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(sender.pid, signal.SIGKILL)
                sender.wait(timeout=10)
            saved = parse_state(state)
            lost = [m for m in early if m not in saved]
            expect(not lost, "round %d: early SELECTs lost: %s" % (rno, lost))
            gone = [m for m in known if m not in saved]
            expect(not gone, "round %d: earlier bindings lost: %s" % (rno, gone[:5]))
            in_burst = sum(1 for m in burst if m in saved)
            print("    round %d: killed after %d burst SELECTs answered; file parses, %d "
                  "bindings (%d from the burst)" % (rno, answered, len(saved), in_burst))
            known = saved
        # The next start reads what the last kill left, with no complaint.
        kea = self.start("kill-final", **{"state-file": state})
        lines = self.wait_log(kea, r"BSDP_STATE_LOADED")
        expect(lines and ("loaded %d binding" % len(known)) in lines[0] and "(0 bad" in lines[0],
               "final load: %s" % lines)
        kea.stop()

    def test_damaged_state_file_set_aside_and_serving_continues(self):
        state = os.path.join(self.work, "damaged.csv")
        good = "%s,0x%08x,1700000000,7" % (self.net.cli_mac, ID_1002)
        text = "\n".join([HEADER, good, "garbage", "02:00:00:00:00:09,0x01000000,1,1",
                          "02:00:00:00:00:0a,0x01000065,1700000000"]) + "\n"
        with open(state, "w") as f:
            f.write(text)
        kea = self.start("damaged", **{"state-file": state})
        bad = self.wait_log(kea, r"BSDP_STATE_BAD_LINE")
        expect(len(bad) == 3, "want 3 BSDP_STATE_BAD_LINE lines: %s" % bad)
        expect(state in bad[0] and "line 3" in bad[0] and "too few fields" in bad[0],
               "bad-line report lacks path, line or reason: %s" % bad[0])
        expect("line 4" in bad[1] and "index 0" in bad[1], "second report: %s" % bad[1])
        # Left as it is until the first change (kea-dhcp4 -T loads the
        # library as a check): reported, not yet set aside.
        expect(self.wait_log(kea, r"BSDP_STATE_DAMAGED"), "no BSDP_STATE_DAMAGED at load")
        expect(self.selected(self.list_reply()) == ID_1002, "good binding not served")
        with open(state) as f:
            expect(f.read() == text, "damaged state file changed before any change")
        expect(not kea.lines(r"BSDP_STATE_SET_ASIDE", 0), "set aside before any change")
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(rc == 0 and j["select"]["machine_name"] == "NetBoot007",
               "machine name %r" % (j and j["select"]["machine_name"]))
        aside = self.wait_log(kea, r"BSDP_STATE_SET_ASIDE ")
        expect(aside, "no BSDP_STATE_SET_ASIDE line after the SELECT")
        print("    " + bad[0].split("] ", 1)[-1])
        print("    " + aside[0].split("] ", 1)[-1])
        kept = [p for p in os.listdir(self.work) if p.startswith("damaged.csv.damaged-")]
        expect(len(kept) == 1, "set-aside files: %s" % kept)
        with open(os.path.join(self.work, kept[0])) as f:
            expect(f.read() == text, "set-aside file is not the original")
        # A fresh file with the good entry (re-selected).
        deadline = time.monotonic() + 5
        fresh = {}
        while time.monotonic() < deadline:
            # BSDP_STATE_SET_ASIDE is logged just before the save's rename:
            # until then the damaged file is still in place.
            if os.path.exists(state) and open(state).read() != text:
                fresh = parse_state(state)
                if fresh:
                    break
            time.sleep(0.05)
        expect(list(fresh) == [self.net.cli_mac] and fresh[self.net.cli_mac][2] == 7,
               "fresh state file: %r" % fresh)
        kea.stop()
        # A state file that cannot be read at all (here a folder) is set aside too.
        os.unlink(state)
        for p in kept:
            os.unlink(os.path.join(self.work, p))
        os.mkdir(state)
        kea = self.start("unreadable", **{"state-file": state})
        expect(self.wait_log(kea, r"BSDP_STATE_UNREADABLE"), "no BSDP_STATE_UNREADABLE")
        expect(self.selected(self.list_reply()) is None, "LIST not served")
        expect(os.path.isdir(state), "unreadable state file moved before any change")
        self.select_raw(ID_1001)
        expect(self.wait_log(kea, r"BSDP_STATE_SET_ASIDE "), "unreadable file not set aside")
        expect(B.wait_until(lambda: os.path.isfile(state), 5.0),
               "no fresh state file")
        kea.stop()

    def test_unwritable_state_file_reported_and_serving_continues(self):
        state = os.path.join(self.work, "no-such-folder", "b.csv")
        kea = self.start("unwritable", **{"state-file": state})
        # Seen at load without writing; the first failed save is the error.
        lines = self.wait_log(kea, r"BSDP_STATE_FOLDER_UNWRITABLE")
        expect(lines and state in lines[0], "no BSDP_STATE_FOLDER_UNWRITABLE at load: %s" % lines)
        for i in range(3):
            self.select_raw(ID_1002, mac="02:00:00:00:02:%02x" % i)
        lines = self.wait_log(kea, r"BSDP_STATE_WRITE_ERROR")
        expect(lines and state in lines[0], "no BSDP_STATE_WRITE_ERROR naming the file: %s" % lines)
        print("    " + lines[0].split("] ", 1)[-1])
        expect(self.selected(self.list_reply(mac="02:00:00:00:02:01")) == ID_1002,
               "binding not kept in memory")
        time.sleep(1.2)
        expect(len(self.wait_log(kea, r"BSDP_STATE_WRITE_ERROR", 0)) == 1,
               "the same error was logged more than once")
        expect(kea.alive(), "kea-dhcp4 died")
        kea.stop()

    def test_reservation_pins_in_subnet_and_globally(self):
        cli = self.net.cli_mac
        m_global, m_far = "02:00:00:00:03:01", "02:00:00:00:03:02"
        m_missing, m_bad, m_text = "02:00:00:00:03:03", "02:00:00:00:03:04", "02:00:00:00:03:05"

        # Kea 2.2 refuses a reservation without a resource (a hostname,
        # an address, client classes, options): a user context is not one.
        def pin(mac, value, n):
            return {"hw-address": mac, "hostname": "mac-lab-%d" % n,
                    "user-context": {"bsdp-image": value}}

        def edit(d):
            d["subnet4"][0]["reservations"] = [
                pin(cli, 1002, 1), pin(m_missing, 4321, 2), pin(m_bad, 3002, 3),
                pin(m_text, "1001", 4)]
            d["reservations"] = [
                pin(m_global, 1003, 5),
                {"hw-address": m_far, "client-classes": ["netboot"],
                 "user-context": {"bsdp-image": 1001}}]
        kea = self.start("pin", edit=edit)
        d = self.list_reply()
        expect(self.selected(d) == ID_1002, "subnet reservation: 8 = %r" % self.selected(d))
        # The pin overrides a remembered selection.
        self.select_raw(ID_1001)
        expect(self.selected(self.list_reply()) == ID_1002, "pin lost after another SELECT")
        # Broadcast from a MAC with a global reservation.
        expect(self.selected(self.list_reply(mac=m_global)) == ID_IPXE, "global reservation")
        # Relayed and unicast INFORMs from outside Kea's subnets: no subnet is selected.
        far = "198.19.5.5"
        for name, kw in (("relayed", dict(giaddr="198.19.7.1", hops=1, sport=67,
                                          src="198.19.7.1")),
                         ("unicast", dict(sport=68, src=far))):
            sport, src = kw.pop("sport"), kw.pop("src")
            pkt = self.inform(B.bsdp_list(), ciaddr=far, mac=m_far, **kw)
            got = B.probe(self.net, [pkt], dst_ip=B.SERVER_IP, sport=sport, dport=67,
                          listen=(67, 68), src_ip=src, expect=1)
            expect(len(got) == 1 and got[0]["dst"] == far,
                   "%s from outside the subnets: %s" % (name, [(g["dst"], g["dport"]) for g in got]))
            d = B.decode_bsdp(B.parse_options(got[0]["data"]))
            expect(d and self.selected(d) == ID_1001, "%s: global pin not applied: %r" %
                   (name, d and self.selected(d)))
        # Pins that cannot apply are logged and ignored.
        for mac, word in ((m_missing, "no-image (no image with that index"),
                          (m_bad, "enabled-mac-addresses (the client's MAC address is not in "
                                  "EnabledMACAddresses)")):
            expect(self.selected(self.list_reply(mac=mac)) is None, "%s: bad pin applied" % mac)
            lines = self.wait_log(kea, r"BSDP_PIN_IGNORED.*%s" % mac)
            expect(lines and word in lines[0], "%s: no BSDP_PIN_IGNORED (%s): %s" %
                   (mac, word, lines))
            print("    " + lines[0].split("] ", 1)[-1])
        expect(self.selected(self.list_reply(mac=m_text)) is None, "a text pin was applied")
        lines = self.wait_log(kea, r"BSDP_PIN_INVALID.*%s" % m_text)
        expect(lines, "no BSDP_PIN_INVALID for a text value")
        print("    " + lines[0].split("] ", 1)[-1])
        kea.stop()

    def test_pin_of_the_subnet_kea_selected(self):
        # One Mac with a reservation in two subnets, each pinning another
        # image: A (198.18.0.0/24, this link) and B (198.19.7.0/24, behind a
        # relay). Kea selects A for a broadcast INFORM on the link, B for one
        # relayed with giaddr in B, and B for a unicast one whose ciaddr is
        # in B (giaddr, then ciaddr, then the receiving interface).
        mac = "02:00:00:00:04:01"
        pins = {1: ID_1002, 2: ID_1001}
        subnet_b = {"id": 2, "subnet": "198.19.7.0/24"}
        relay, addr_b = "198.19.7.1", "198.19.7.50"
        queries = (
            ("broadcast on A", 1, dict(), dict()),
            ("relayed from B", 2, dict(giaddr=relay, hops=1, ciaddr=addr_b),
             dict(dst_ip=B.SERVER_IP, sport=67, src_ip=relay)),
            ("unicast from B", 2, dict(ciaddr=addr_b),
             dict(dst_ip=B.SERVER_IP, src_ip=addr_b)))

        kea_log = []

        def edit_for(first):
            def edit(d):
                d["subnet4"].append(dict(subnet_b))
                # Which subnet Kea selected: DHCP4_SUBNET_SELECTED (debug 45).
                d["loggers"].append({"name": "kea-dhcp4.packets", "severity": "DEBUG",
                                     "debuglevel": 45,
                                     "output_options": [{"output": kea_log[0]}]})
                if first == 2:
                    d["subnet4"].reverse()
                for s in d["subnet4"]:
                    s["reservations"] = [{"hw-address": mac, "hostname": "mac-%d" % s["id"],
                                          "user-context": {"bsdp-image": pins[s["id"]] & 0xffff}}]
            return edit
        # Both orders of the subnet list: on 2.2, where pkt4_send names no
        # subnet, the Mac gets the reservation Kea's host lookup returns
        # first, which is that of the subnet listed first. (2.6.3 and 3.0.4
        # pass a null subnet4 for an INFORM: Dhcpv4Exchange resets the
        # context that holds it, and processInform, unlike processDiscover
        # and processRequest, does not take it back.)
        wrong = []
        for first in (2, 1):
            kea_log[:] = [os.path.join(self.work, "pin-subnets-%d" % first, "kea.log")]
            kea = self.start("pin-subnets-%d" % first, edit=edit_for(first))
            for name, subnet, pkt_kw, probe_kw in queries:
                pkt = self.inform(B.bsdp_list(), mac=mac, **pkt_kw)
                chosen = r"tid=0x0*%x: the subnet with ID %d was selected" % (self.xid, subnet)
                got = B.probe(self.net, [pkt], listen=(67, 68), expect=1, **probe_kw)
                want_dst = pkt_kw.get("ciaddr", B.CLIENT_IP)
                expect(len(got) == 1 and got[0]["dst"] == want_dst,
                       "%s: replies %s" % (name, [(g["dst"], g["dport"]) for g in got]))
                d = B.decode_bsdp(B.parse_options(got[0]["data"]))
                expect(d and d.get(1) == b"\x01", "%s: not an ACK[LIST]" % name)
                expect(kea.lines(chosen, 2.0), "%s: no %r in Kea's log" % (name, chosen))
                want = pins[subnet] if B.kea_passes_selected_subnet() else pins[first]
                got8 = "%#x" % self.selected(d) if 8 in d else "absent"
                line = "subnet %d listed first, %s (Kea selects subnet %d): sub-option 8 %s" % (
                    first, name, subnet, got8)
                print("    " + line)
                if self.selected(d) != want:
                    wrong.append("%s, want %#x" % (line, want))
                # bsdp-explain names the pin that very LIST followed.
                ans = B.control_command(os.path.join(kea.dir, "kea4.sock"), "bsdp-explain",
                                        {"hw-address": mac})
                sel = ans.get("arguments", {}).get("list", {}).get("selected") or {}
                if ans.get("result") != 0 or sel.get("id") != self.selected(d):
                    wrong.append("%s: bsdp-explain says selected %r (%s)" % (
                        line, sel.get("id"), ans.get("arguments", {}).get("list", {}).get(
                            "selected-why", ans.get("text"))))
            kea.stop()
        expect(not wrong, "\n  ".join(["pins not as expected:"] + wrong))

    def test_ipxe_chain_after_select_within_window(self):
        def edit(d):
            d["subnet4"][0]["pools"] = [{"pool": "%s - %s" % POOL}]
        kea = self.start("ipxe", edit=edit, **{"chain-window": 3})
        xid = self.next_xid()
        cli = self.net.cli_mac

        def exchange(opts, msgtype=1, ciaddr="0.0.0.0", src="0.0.0.0"):
            pkt = B.dhcp_message(xid, cli, opts, ciaddr=ciaddr, msgtype=msgtype)
            got = B.probe(self.net, [pkt], src_ip=src, listen=(68,), expect=1)
            expect(len(got) == 1, "%d replies to message type %d" % (len(got), msgtype))
            opts = B.parse_options(got[0]["data"])
            expect(opts is not None, "malformed reply")
            return got[0]["data"], opts

        before, bopts = exchange(ipxe_options())
        expect(B.option(bopts, 53) == b"\x02", "no OFFER to iPXE")
        expect(file_field(before) != CHAIN_URL.encode() and B.option(bopts, 67) is None,
               "chain URL before any SELECT")
        rc, j, r = self.bsdpc_json("--select", "1003", "--max-size", "1500")
        expect(rc == 0 and j["select"]["result"] == "ack", "bsdpc --select 1003: %s" % r.stderr)
        booter = j["select"]["file"]
        expect(booter == R.TFTP_PREFIX + "iPXE.nbi/i386/snponly.efi", "booter %r" % booter)
        selected_at = time.monotonic()

        # Well inside the 3 s window: iPXE's DISCOVER (the same xid as
        # before), REQUEST and INFORM, and the firmware's own PXE DISCOVER (no
        # iPXE markers). One at a time, as the clients send them: multi-threaded
        # Kea may drop a packet from a client whose previous one is still being
        # processed (DHCP4_PACKET_DROP_0011), which a batch would trip on 3.0.
        xids = [xid] + [self.next_xid() for _ in range(3)]
        plain = [o for o in ipxe_options() if o[0] not in (77, 175)]
        pkts = [B.dhcp_message(xids[0], cli, ipxe_options(), ciaddr="0.0.0.0", msgtype=1),
                B.dhcp_message(xids[1], cli, ipxe_options(requested="198.18.0.120",
                                                          server=B.SERVER_IP),
                               ciaddr="0.0.0.0", msgtype=3),
                B.dhcp_message(xids[2], cli, ipxe_options(), ciaddr=B.CLIENT_IP, msgtype=8),
                B.dhcp_message(xids[3], cli, plain, ciaddr="0.0.0.0", msgtype=1)]
        got = [g for p in pkts
               for g in B.probe(self.net, [p], src_ip="0.0.0.0", listen=(68,), expect=1)]
        by_xid = {struct.unpack("!I", g["data"][4:8])[0]: g["data"] for g in got}
        expect(sorted(by_xid) == sorted(xids), "replies for xids %s of %s" % (sorted(by_xid), xids))
        after, aopts = by_xid[xids[0]], B.parse_options(by_xid[xids[0]])
        expect(file_field(after) == CHAIN_URL.encode(), "file field %r" % file_field(after))
        expect(B.option(aopts, 67) == CHAIN_URL.encode(), "option 67 %r" % B.option(aopts, 67))
        # Otherwise Kea's own OFFER, byte for byte (but yiaddr: Kea's allocator
        # offers the next free address each time).
        diff = [i for i in range(240) if (i < 16 or 20 <= i < 108 or i >= 236) and
                before[i] != after[i]]
        expect(not diff, "header differs beyond yiaddr and file at offsets %s" % diff)
        expect([o for o in aopts if o[0] != 67] == bopts, "options differ beyond 67:\n%s\n%s" %
               (bopts, aopts))
        print("    iPXE DISCOVER -> OFFER, file %r, option 67 %r" %
              (file_field(after).decode(), B.option(aopts, 67).decode()))
        for name, x in (("REQUEST", xids[1]), ("INFORM", xids[2])):
            msg = by_xid[x]
            o = B.parse_options(msg)
            expect(B.option(o, 53) == b"\x05" and file_field(msg) == CHAIN_URL.encode() and
                   B.option(o, 67) == CHAIN_URL.encode(),
                   "%s: type %r, file %r, option 67 %r" % (name, B.option(o, 53), file_field(msg),
                                                           B.option(o, 67)))
        other = by_xid[xids[3]]
        expect(B.option(B.parse_options(other), 67) is None and
               file_field(other) != CHAIN_URL.encode(), "non-iPXE DISCOVER got the chain URL")
        lines = self.wait_log(kea, r"BSDP_IPXE_CHAIN")
        expect(lines and CHAIN_URL in lines[0], "no BSDP_IPXE_CHAIN log line")
        print("    " + lines[0].split("] ", 1)[-1])
        expect(time.monotonic() - selected_at < 3, "test too slow for a 3 s window")
        # After the window: Kea's answer again.
        time.sleep(max(0.0, selected_at + 4.0 - time.monotonic()))
        late, lopts = exchange(ipxe_options())
        expect(B.option(lopts, 67) is None and file_field(late) != CHAIN_URL.encode(),
               "chain URL after the window")
        kea.stop()

    def test_bad_machine_name_format_refused_naming_it(self):
        for fmt in ("Mac%d-%d", "Mac", "Mac%s"):
            kea = self.start("bad-format", expect_ok=False, **{"machine-name-format": fmt})
            rc = kea.wait_exit(10)
            line = [l for l in kea.text().splitlines() if "BSDP_LOAD_ERROR" in l]
            expect(rc not in (None, 0), "%r: kea-dhcp4 started" % fmt)
            expect(line and "'machine-name-format'" in line[0],
                   "%r: no BSDP_LOAD_ERROR naming the parameter: %s" % (fmt, line))
            print("    " + line[0].split("] ", 1)[-1])
            kea.stop()

    def test_config_reload_keeps_bindings(self):
        # Kea runs unload() then load() on a reconfiguration: the final save
        # and the new load must hand the bindings over, twice in a row.
        kea = self.start("reload")
        self.select_raw(ID_1002)
        sock = os.path.join(kea.dir, "kea4.sock")
        for n in range(2):
            r = B.run(["socat", "-", "UNIX-CONNECT:" + sock], check=False,
                      input='{"command": "config-reload"}')
            try:
                result = json.loads(r.stdout)["result"]
            except (ValueError, KeyError):
                raise Failure("config-reload: %r %r" % (r.stdout, r.stderr))
            expect(result == 0, "config-reload result %r: %s" % (result, r.stdout))
            loads = self.wait_log(kea, r"BSDP_STATE_LOADED loaded 1 binding")
            expect(len(loads) == n + 1, "reload %d: BSDP_STATE_LOADED lines %s" % (n, loads))
            expect(self.selected(self.list_reply()) == ID_1002, "reload %d lost the binding" % n)
        text = kea.text()
        expect(text.count("BSDP_UNLOADED") == 2, "unload() not called once per reload")
        expect(kea.alive(), "kea-dhcp4 died")
        kea.stop()
        expect(self.net.cli_mac in parse_state(os.path.join(self.work, "reload.csv")),
               "binding not in the state file after stop")

    def test_pin_added_by_config_reload_applies(self):
        # Without any pin in Kea's configuration a LIST asks no host lookup;
        # a reservation added by a reconfiguration must be seen at once.
        kea = self.start("pin-reload")
        expect(self.selected(self.list_reply()) is None, "a pin before any reservation")
        with open(kea.conf) as f:
            conf = json.load(f)
        # The reservation in a subnet of a shared network this time.
        subnet = conf["Dhcp4"].pop("subnet4")[0]
        subnet["reservations"] = [{"hw-address": self.net.cli_mac, "hostname": "mac-lab-9",
                                   "user-context": {"bsdp-image": 1002}}]
        conf["Dhcp4"]["shared-networks"] = [{"name": "lab", "subnet4": [subnet]}]
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        r = B.run(["socat", "-", "UNIX-CONNECT:" + os.path.join(kea.dir, "kea4.sock")],
                  check=False, input='{"command": "config-reload"}')
        expect('"result": 0' in r.stdout, "config-reload: %r %r" % (r.stdout, r.stderr))
        expect(self.selected(self.list_reply()) == ID_1002, "pin of the reloaded configuration ignored")
        kea.stop()

    # ---- runner ------------------------------------------------------------
    def run(self):
        # The tests of this very class (a subclass runs its own).
        tests = sorted(t for t in vars(type(self)) if t.startswith("test_"))
        assert sorted(self.ORDER) == tests, tests
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        self.make_sets()
        self.net.up()
        for t in order:
            B.run_test(self, t, after=self.stop_keas)


    def test_full_table_evicts_least_recent_and_counts(self):
        state = os.path.join(self.work, "full.csv")
        kea = self.start("full", **{"state-file": state, "max-bindings": 3})
        macs = ["02:00:00:00:0f:%02x" % i for i in range(1, 6)]
        for m in macs[:3]:
            self.select_raw(ID_1001, mac=m)
        self.select_raw(ID_1002, mac=macs[0])   # 1 again: 2 is now the least recent
        for m in macs[3:]:
            self.select_raw(ID_1001, mac=m)     # evict 2, then 3
        sock = os.path.join(kea.dir, "kea4.sock")
        a = B.control_command(sock, "bsdp-bindings-list")
        held = sorted(b["hw-address"] for b in a["arguments"]["bindings"])
        expect(held == sorted([macs[0], macs[3], macs[4]]), "bindings held: %s" % held)
        value = B.statistic(kea, "bsdp.bindings-evicted")
        expect(value == 2, "bsdp.bindings-evicted = %r, want 2" % value)
        full = self.wait_log(kea, r"BSDP_BINDINGS_FULL")
        expect(len(full) == 1 and "max-bindings 3" in full[0] and macs[3] in full[0],
               "BSDP_BINDINGS_FULL logged %d times: %s" % (len(full), full))
        # The evicted Mac's LIST shows no selection; the kept ones do.
        expect(self.selected(self.list_reply(mac=macs[1])) is None, "evicted Mac still selected")
        expect(self.selected(self.list_reply(mac=macs[0])) == ID_1002, "kept Mac lost its selection")
        kea.stop()
        saved = parse_state(state)
        expect(sorted(saved) == held, "state file holds %s" % sorted(saved))
        print("    3 of 5 Macs kept, 2 evictions counted and logged once")
        # Evictions without a SELECT are counted and named at once: a
        # state file holding more than max-bindings, then a command.
        kea = self.start("full-smaller", **{"state-file": state, "max-bindings": 2})
        sock = os.path.join(kea.dir, "kea4.sock")
        evicted = lambda: B.statistic(kea, "bsdp.bindings-evicted")
        expect(evicted() == 1, "after loading 3 bindings into 2: evicted %r" % evicted())
        full = self.wait_log(kea, r"BSDP_BINDINGS_FULL")
        expect(len(full) == 1 and "the bindings read at start" in full[0],
               "BSDP_BINDINGS_FULL at start: %s" % full)
        a = B.control_command(sock, "bsdp-binding-set", {"hw-address": macs[1], "image": 1001})
        expect(a["result"] == 0, "bsdp-binding-set: %s" % a)
        expect(evicted() == 2, "after bsdp-binding-set: evicted %r" % evicted())
        kea.stop()
        print("    2 more evictions (a state file over max-bindings, bsdp-binding-set) "
              "counted at once, the first logged with its cause")

    def test_bindings_list_pages_through_thousands(self):
        # 3,000 bindings read at start, then paged as lease4-get-page pages:
        # "from" the last MAC of the page before, "limit" the page size.
        n = 3000
        rng = random.Random(20)
        macs = sorted({"02:%s" % ":".join("%02x" % rng.randrange(256) for _ in range(5))
                       for _ in range(n)})
        state = os.path.join(self.work, "pages.csv")
        with open(state, "w") as f:
            f.write(HEADER + "\n")
            for i, m in enumerate(macs):
                f.write("%s,0x%08x,%d,%d\n" % (m, ID_1001, 1796000000 + i, i + 1))
        kea = self.start("pages", **{"state-file": state})
        sock = os.path.join(kea.dir, "kea4.sock")
        first = B.control_command(sock, "bsdp-bindings-list")
        fa = first.get("arguments") or {}
        expect(first["result"] == 0 and fa.get("count") == 1000 and fa.get("total") == len(macs) and
               [b["hw-address"] for b in fa.get("bindings", [])] == macs[:1000],
               "no arguments: not the first 1000 of %d in MAC order: %s" % (
                   len(macs), {k: v for k, v in first.items() if k != "arguments"}))
        # While the walk runs a Mac selects (a MAC below the walk's
        # position: not in it) and one not yet reached is deleted.
        late, gone = "02:00:00:00:00:01", macs[2500]
        walk, pages, frm = [], 0, "start"
        while pages < 100:
            a = B.control_command(sock, "bsdp-bindings-list", {"from": frm, "limit": 400})
            args = a.get("arguments") or {}
            got = [b["hw-address"] for b in args.get("bindings", [])]
            expect(args.get("count") == len(got), "count %r for %d bindings" % (args.get("count"), len(got)))
            if a["result"] == 3:
                expect(got == [] and a["text"] == "0 binding(s) found, %d in all" % len(macs),
                       "last page: %s" % a)
                break
            expect(a["result"] == 0 and 0 < len(got) <= 400 and got == sorted(got) and
                   (frm == "start" or got[0] > frm), "page %d from %s: %s" % (pages, frm, got[:3]))
            walk += got
            frm, pages = got[-1], pages + 1
            if pages == 2:
                self.select_raw(ID_1002, mac=late)
                d = B.control_command(sock, "bsdp-binding-del", {"hw-address": gone})
                expect(d["result"] == 0, "bsdp-binding-del: %s" % d)
        want = [m for m in macs if m != gone]
        expect(walk == want, "walk of %d pages: %d bindings, want %d (missing %s, extra %s)" % (
            pages, len(walk), len(want), sorted(set(want) - set(walk))[:3],
            sorted(set(walk) - set(want))[:3]))
        expect(pages == 8, "%d pages of 400 for %d bindings" % (pages, len(want)))
        bad = B.control_command(sock, "bsdp-bindings-list", {"from": "start", "limit": 0})
        expect(bad["result"] == 1 and "'limit' parameter must be 1..10000" in bad["text"],
               "limit 0: %s" % bad)
        bad = B.control_command(sock, "bsdp-bindings-list", {"from": "nobody"})
        expect(bad["result"] == 1 and "'from' parameter value is neither 'start'" in bad["text"],
               "from nobody: %s" % bad)
        expect(kea.alive(), "kea-dhcp4 died")
        kea.stop()
        print("    %d bindings in %d pages of 400 in MAC order, a SELECT and a delete during "
              "the walk; the first page without arguments" % (len(walk), pages))


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("bindings", BindingSuite, args, ("kea-dhcp4", "ip"))



if __name__ == "__main__":
    sys.exit(main())
