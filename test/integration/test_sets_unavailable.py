#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""A NetBoot problem never takes DHCP down: kea-dhcp4 with the hook and a
sets-directory that cannot be read at start (missing, as an NFS mount late
at boot; unreadable to a server without CAP_DAC_OVERRIDE, as Debian's
_kea; a path through a regular file) starts, logs BSDP_SETS_UNAVAILABLE
naming the folder and the reason, OFFERs addresses from its pool, answers
no BSDP LIST (counted in bsdp.dropped-no-catalogue), and answers LISTs with
the sets' images as soon as the folder can be read: found by the rescan
thread's retries (also with rescan-interval 0) or by bsdp-reload.
kea-dhcp4 -T (2.4+) accepts such a configuration, kea-bsdp-check exits 1
naming the folder and the reason.

usage (root): test_sets_unavailable.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL per test and "sets-unavailable: N passed, N failed"; exits
1 on any failure. Namespaces, processes and files are removed even on
failure."""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402

expect = B.expect
INDEXES = (1201, 1202, 1203)
POOL = ("198.18.0.100", "198.18.0.150")
# The hook retries every 5 s (rescan-interval when smaller): a few retries.
APPEAR_TIMEOUT = 20.0


def set_keys(index):
    return {"Name": "Late %d" % index, "Index": index, "Type": "HTTP", "Kind": 1,
            "IsDefault": index == INDEXES[0], "BootFile": "booter",
            "Architectures": ["i386"], "RootPath": "A.dmg"}


class SetsUnavailableSuite:
    ORDER = ["test_missing_folder_dhcp_served_bsdp_once_it_appears",
             "test_unreadable_folder_dhcp_served_bsdp_once_readable",
             "test_not_a_directory_then_bsdp_reload",
             "test_kea_dhcp4_T_accepts_kea_bsdp_check_refuses"]

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-unavailable-")
        os.chmod(self.work, 0o755)    # a server without DAC override reads its files
        self.net = B.Net("u%05d" % (os.getpid() % 100000))
        self.keas = []
        self.passed = 0
        self.failed = 0
        self.xid = 0x51e70000 + os.getpid() % 0x10000

    # ---- fixtures ----------------------------------------------------------
    def make_sets(self, folder):
        """Real sets, written beside folder and renamed into place in one
        step, as a mount appears: a retry sees no folder or the whole one."""
        staging = folder + ".staging"
        os.makedirs(staging)
        for i in INDEXES:
            B.write_set(staging, "Late-%d.nbi" % i, set_keys(i), ["i386/booter", "i386/x86_64/kernelcache", "A.dmg"])
        os.rename(staging, folder)

    def config(self, name, sets, **over):
        """kea-dhcp4 with a pool and the hook; the configuration file."""
        kea = B.Kea(self.net, self.work, name)
        params = {"sets-directory": sets, "http-url": "http://198.18.0.1/netboot",
                  "state-file": os.path.join(kea.dir, "b.csv")}
        params.update(over)
        kea.config(self.args.hook, params)
        with open(kea.conf) as f:
            conf = json.load(f)
        conf["Dhcp4"]["subnet4"][0]["pools"] = [{"pool": "%s - %s" % POOL}]
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        return kea

    def start(self, name, sets, no_dac=False, **over):
        """no_dac: without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so file
        modes bind it as they bind Debian's _kea (root ignores chmod)."""
        kea = self.config(name, sets, **over)
        self.keas.append(kea)
        ok = B.start_kea(kea, self.work, no_dac)
        expect(ok, "kea-dhcp4 %s did not start with sets-directory %s:\n%s" % (
            name, sets, kea.text()[-2000:]))
        return kea

    def cmd(self, kea, name, arguments=None):
        return B.control_command(os.path.join(kea.dir, "kea4.sock"), name, arguments)

    def next_xid(self):
        self.xid += 1
        return self.xid

    # ---- what a client sees ------------------------------------------------
    def offer(self):
        """A DHCPDISCOVER's OFFER: its yiaddr, which must be in the pool."""
        xid = self.next_xid()
        disc = B.dhcp_message(xid, self.net.cli_mac, [(55, bytes([1, 3, 6]))],
                              ciaddr="0.0.0.0", msgtype=1, flags=0x8000)
        got = B.probe(self.net, [disc], src_ip="0.0.0.0", timeout=3.0, expect=1)
        offers = [g for g in got if B.option(B.parse_options(g["data"]) or [], 53) == b"\x02"]
        expect(len(offers) == 1, "DHCPDISCOVER: %d OFFER(s) in %d replies" % (len(offers),
                                                                              len(got)))
        yiaddr = ".".join(str(b) for b in offers[0]["data"][16:20])
        lo, hi = (B.ip_bytes(a) for a in POOL)
        expect(lo <= B.ip_bytes(yiaddr) <= hi, "OFFER of %s, outside the pool" % yiaddr)
        return yiaddr

    def list_replies(self, expect_reply):
        """A BSDP LIST's ACK[LIST] replies (decoded); without expect_reply it
        listens the whole timeout, so an answer that is late still counts."""
        inform = B.bsdp_inform(self.next_xid(), self.net.cli_mac,
                               B.bsdp_list(extra=bytes([12, 2, 5, 0xdc])))
        got = B.probe(self.net, [inform], timeout=2.0, expect=1 if expect_reply else None)
        return [d for d in (B.decode_bsdp(B.parse_options(g["data"]) or []) for g in got)
                if d is not None]

    def listed(self):
        replies = self.list_replies(True)
        expect(len(replies) == 1 and replies[0].get(1) == b"\x01",
               "LIST: no ACK[LIST] once the folder reads (%r)" % replies)
        return sorted(i for i, _ in replies[0]["images"])

    # ---- the shared scenario -----------------------------------------------
    def unavailable(self, kea, sets, reason, retry):
        """What must hold while the folder cannot be read."""
        line = kea.lines(r"BSDP_SETS_UNAVAILABLE", 5.0)
        expect(line, "no BSDP_SETS_UNAVAILABLE:\n%s" % kea.text()[-2000:])
        expect(sets in line[0] and reason in line[0] and ("every %d s" % retry) in line[0],
               "BSDP_SETS_UNAVAILABLE does not name %s, '%s' and every %d s: %s" % (
                   sets, reason, retry, line[0]))
        expect("BSDP_LOAD_ERROR" not in kea.text(), "BSDP_LOAD_ERROR logged")
        print("    " + line[0].split("] ", 1)[-1])
        yiaddr = self.offer()
        print("    DHCPDISCOVER answered: OFFER of %s" % yiaddr)
        before = B.statistic(kea, "bsdp.dropped-no-catalogue")
        replies = self.list_replies(False)
        expect(not replies, "LIST answered while the folder cannot be read: %r" % replies)
        expect(B.wait_until(lambda: B.statistic(kea, "bsdp.dropped-no-catalogue") == before + 1,
                            5.0), "bsdp.dropped-no-catalogue %r -> %r" % (
            before, B.statistic(kea, "bsdp.dropped-no-catalogue")))
        a = self.cmd(kea, "bsdp-images-list")
        expect(a.get("result") == 1 and sets in a.get("text", "") and reason in a["text"],
               "bsdp-images-list while unavailable: %r" % a)
        print("    LIST not answered (bsdp.dropped-no-catalogue %d); bsdp-images-list: %s" % (
            before + 1, a["text"]))

    def available(self, kea, sets, trigger=None):
        """The folder now reads: BSDP_SETS_AVAILABLE, then LISTs answered."""
        line = kea.lines(r"BSDP_SETS_AVAILABLE", APPEAR_TIMEOUT)
        expect(line and sets in line[0], "no BSDP_SETS_AVAILABLE for %s within %.0f s:\n%s" % (
            sets, APPEAR_TIMEOUT, kea.text()[-2000:]))
        if trigger:
            expect("(%s)" % trigger in line[0], "read by another trigger: %s" % line[0])
        print("    " + line[0].split("] ", 1)[-1])
        want = sorted(B.image_id(i) for i in INDEXES)
        got = self.listed()
        expect(got == want, "LIST lists %s, the sets are %s" % (
            [hex(i) for i in got], [hex(i) for i in want]))
        self.offer()
        expect(kea.alive(), "kea-dhcp4 died")
        print("    LIST answered with the %d images; DHCPDISCOVER still answered" % len(got))

    # ---- tests -------------------------------------------------------------
    def test_missing_folder_dhcp_served_bsdp_once_it_appears(self):
        """rescan-interval 0 (no watch): the retries still find the folder."""
        sets = os.path.join(self.work, "mnt", "netboot", "sets")
        kea = self.start("missing", sets, **{"rescan-interval": 0})
        self.unavailable(kea, sets, "No such file or directory", 5)
        os.makedirs(os.path.dirname(sets))
        self.make_sets(sets)
        self.available(kea, sets, "retry")

    def test_unreadable_folder_dhcp_served_bsdp_once_readable(self):
        """As Debian's _kea: a folder of mode 000 denies it; rescan-interval
        2 retries every 2 s."""
        sets = os.path.join(self.work, "locked")
        self.make_sets(sets)
        os.chmod(sets, 0o000)
        kea = self.start("unreadable", sets, no_dac=True, **{"rescan-interval": 2})
        self.unavailable(kea, sets, "Permission denied", 2)
        os.chmod(sets, 0o755)
        self.available(kea, sets, "retry")

    def test_not_a_directory_then_bsdp_reload(self):
        """A path through a regular file (ENOTDIR); bsdp-reload reads the
        folder at once once it is there."""
        base = os.path.join(self.work, "nfs")
        with open(base, "w") as f:
            f.write("not a folder\n")
        sets = os.path.join(base, "sets")
        kea = self.start("notdir", sets)
        self.unavailable(kea, sets, "Not a directory", 5)
        os.unlink(base)
        os.makedirs(base)
        self.make_sets(sets)
        a = self.cmd(kea, "bsdp-reload")
        # A retry may read it first; either way the command answers success.
        expect(a.get("result") == 0 and a.get("arguments", {}).get("images") == len(INDEXES),
               "bsdp-reload: %r" % a)
        print("    bsdp-reload: %s" % a["text"])
        self.available(kea, sets)

    def test_kea_dhcp4_T_accepts_kea_bsdp_check_refuses(self):
        """-T is a check before a restart of kea-dhcp4: the server would
        start, so -T passes (it runs load()); kea-bsdp-check is the check
        that the NetBoot part works: it exits 1 naming folder and reason."""
        sets = os.path.join(self.work, "absent", "sets")
        kea = self.config("check", sets)
        r = B.kea_bsdp_check(self.args.hook, [kea.conf], data_dir=kea.state_dir)
        err = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
        expect(r.returncode == 1 and err and sets in err[-1] and
               "No such file or directory" in err[-1],
               "kea-bsdp-check: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        expect("BSDP_SETS_UNAVAILABLE" in r.stderr and "BSDP_LOAD_ERROR" not in r.stderr,
               "kea-bsdp-check's log:\n%s" % r.stderr)
        print("    kea-bsdp-check exit 1: %s" % err[-1])
        if not B.kea_check_loads_hooks():
            print("    SKIP kea-dhcp4 -T: needs Kea 2.4+ (this is %s; its -t never calls "
                  "load())" % ".".join(map(str, B.kea_version())))
            return
        for params, want in (({}, 0), ({"server-priority": 70000}, 1)):
            conf = self.config("check-T-%d" % want, sets, **params)
            argv = ["ip", "netns", "exec", self.net.srv, "kea-dhcp4", "-T", conf.conf]
            r = B.run(B.with_hook(argv, conf.hook), check=False, timeout=60,
                      env=conf.env())
            out = r.stdout + r.stderr + conf.text()
            expect((r.returncode == 0) == (want == 0),
                   "kea-dhcp4 -T with %r: exit %d\n%s" % (params, r.returncode, out[-2000:]))
            print("    kea-dhcp4 -T %s: exit %d" % (
                "missing folder" if not params else "and server-priority 70000", r.returncode))

    # ---- runner ------------------------------------------------------------
    def run(self):
        tests = sorted(t for t in dir(self) if t.startswith("test_"))
        assert sorted(self.ORDER) == tests, tests
        self.net.up()
        for t in [t for t in self.ORDER if not self.args.k or self.args.k in t]:
            B.run_test(self, t, after=self.stop_keas)

    def stop_keas(self):
        B.stop_keas(self.keas)

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, keas=self.keas)


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("sets-unavailable", SetsUnavailableSuite, args,
                       ("kea-dhcp4", "ip", "setpriv"))


if __name__ == "__main__":
    sys.exit(main())
