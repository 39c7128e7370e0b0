#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The manual's "Add the hook to kea-dhcp4" (docs/setting-up.md), done to a
running kea-dhcp4.

A kea-dhcp4 runs an ordinary configuration (a subnet with a pool, a control
socket, its own logger) and hands out addresses. The manual's block
(examples/add-to-existing/bsdp-hook.json, the very file the manual shows) is
merged into that configuration file, each list appended to the one Kea
already has, and `config-reload` makes Kea read it again, without a
restart. Then the ordinary DHCP still answers and BSDP LIST and SELECT are
now answered. A second case is the network where another DHCP server hands
out the addresses: Kea serves only a relayed network, and the manual's
pool-less subnet (examples/add-to-existing/bsdp-subnet.json) is added with
the block; BSDP is then answered on that network and no address is offered
there.

usage (root): test_add_to_existing.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]"""
import ipaddress
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import test_examples as X  # noqa: E402  (the examples' templating and paths)

expect = B.expect
BLOCK = os.path.join(X.EXAMPLES, "add-to-existing", "bsdp-hook.json")
SUBNET = os.path.join(X.EXAMPLES, "add-to-existing", "bsdp-subnet.json")
POOL = ("198.18.0.100", "198.18.0.199")


class Suite:
    ORDER = ["test_block_added_by_config_reload", "test_beside_another_dhcp_server"]

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-add-")
        os.chmod(self.work, 0o755)
        self.net = B.Net("a%05d" % (os.getpid() % 100000))
        self.keas = []
        self.passed = self.failed = 0
        self.xid = 0x5a000000

    # ---- the campus server, before and after -------------------------------------
    def ordinary(self, kea, subnet):
        """An existing server's configuration: no hook, no BSDP."""
        return {"Dhcp4": {
            "interfaces-config": {"interfaces": [self.net.srv_if]},
            "lease-database": {"type": "memfile", "persist": False},
            "control-socket": {"socket-type": "unix",
                               "socket-name": os.path.join(kea.files, "kea4-ctrl-socket")},
            "valid-lifetime": 3600,
            "subnet4": [subnet],
            "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                         "output_options": [{"output": kea.log}]}],
        }}

    def block(self, path, kea, sets):
        """A block of the manual as the file says, with this sandbox's paths."""
        with open(path) as f:
            text = f.read()
        subst = [(X.EX_HOOK, B.hook_library(self.args.hook)), ("/srv/netboot/sets", sets),
                 ("/var/lib/kea/", kea.files + "/"), ("/var/log/kea/", kea.files + "/"),
                 (X.EX_IP, B.SERVER_IP)]
        return json.loads(X.template(text, [s for s in subst if s[0] in text], path))

    def start(self, name, subnet):
        kea = B.Kea(self.net, self.work, name)
        self.keas.append(kea)
        kea.hook = self.args.hook      # the library the merged file will name
        sets = os.path.join(kea.dir, "sets")
        B.run([B.PYTHON, os.path.join(X.EXAMPLES, "make_sets.py"), sets])
        conf = self.ordinary(kea, subnet)
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        kea.start_checked()
        return kea, conf, sets

    def merge_and_reload(self, kea, conf, blocks):
        """Each list of each block appended to the configuration's own, the
        file rewritten, then config-reload (it rereads the file)."""
        d = conf["Dhcp4"]
        for block in blocks:
            for key, items in block.items():
                d.setdefault(key, []).extend(items)
        with open(kea.conf, "w") as f:
            json.dump(conf, f, indent=2)
        ans = B.control_command(os.path.join(kea.files, "kea4-ctrl-socket"), "config-reload")
        expect(ans.get("result") == 0, "config-reload: %s" % ans)
        print("    config-reload: %s" % ans.get("text"))

    # ---- what a client sees ----------------------------------------------------------
    def offer(self):
        """yiaddr of the OFFER to a DISCOVER on the link, or None."""
        self.xid += 1
        disc = B.dhcp_message(self.xid, self.net.cli_mac, [(55, bytes([1, 3, 6]))],
                              ciaddr="0.0.0.0", msgtype=1, flags=0x8000)
        got = B.probe(self.net, [disc], src_ip="0.0.0.0", timeout=2.0, expect=1)
        offers = [g for g in got if B.option(B.parse_options(g["data"]) or [], 53) == b"\x02"]
        if not offers:
            return None
        return ".".join(str(b) for b in offers[0]["data"][16:20])

    def bsdpc(self, *args):
        r = B.run(["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i", self.net.cli_if,
                   "--timeout", "2", "--json"] + list(args), check=False, timeout=30)
        return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else {})

    def expect_bsdp(self):
        rc, out = self.bsdpc("--list")
        expect(rc == 0, "bsdpc --list after the reload: exit %d %s" % (rc, out))
        servers = out.get("servers") or []
        expect(len(servers) == 1 and servers[0].get("address") == B.SERVER_IP,
               "LIST answered by %s" % [s.get("address") for s in servers])
        indexes = sorted(i["index"] for i in servers[0]["images"])
        expect(1001 in indexes, "LIST images %s" % indexes)
        # The broadcast LIST above showed who answers; this one asks that server only.
        rc, out = self.bsdpc("--select", "1001", "--server", B.SERVER_IP)
        expect(rc == 0 and out["select"]["result"] == "ack", "SELECT 1001: %s" % out)
        s = out["select"]
        expect(s["root_path"].startswith("http://%s/sets/" % B.SERVER_IP),
               "root path %r: not under the block's http-url" % s["root_path"])
        print("    LIST: images %s; SELECT 1001: file %r, root path %r" % (
            indexes, s["file"], s["root_path"]))

    def expect_bsdp_log(self, kea):
        log = os.path.join(kea.files, "kea-dhcp4-bsdp.log")
        line = B.wait_until(lambda: [l for l in X.read(log).splitlines() if "BSDP_LOADED" in l]
                            if os.path.exists(log) else [], 5.0)
        expect(line, "the block's logger wrote no BSDP_LOADED to %s" % log)

    # ---- tests ------------------------------------------------------------------------
    def test_block_added_by_config_reload(self):
        kea, conf, sets = self.start("campus", {
            "id": 1, "subnet": "198.18.0.0/24",
            "pools": [{"pool": "%s - %s" % POOL}]})
        expect(self.offer() is not None, "the ordinary server offers no address")
        rc, _ = self.bsdpc("--list")
        expect(rc == 1, "BSDP answered before the block was added (bsdpc exit %d)" % rc)
        self.merge_and_reload(kea, conf, [self.block(BLOCK, kea, sets)])
        ip = self.offer()
        lo, hi = (ipaddress.ip_address(a) for a in POOL)
        expect(ip is not None and lo <= ipaddress.ip_address(ip) <= hi,
               "after the reload the DISCOVER got %r, not an address of the pool" % ip)
        print("    DISCOVER before and after: OFFER %s" % ip)
        self.expect_bsdp()
        self.expect_bsdp_log(kea)
        expect(kea.alive(), "kea-dhcp4 exited")

    def test_beside_another_dhcp_server(self):
        # Kea serves only a relayed network; the Macs' own link gets its
        # addresses from another server.
        kea, conf, sets = self.start("beside", {
            "id": 1, "subnet": "198.18.5.0/24",
            "pools": [{"pool": "198.18.5.100 - 198.18.5.199"}]})
        with open(SUBNET) as f:
            subnet = json.load(f)
        expect([s.get("pools") for s in subnet["subnet4"]] == [None],
               "%s: the BSDP subnet must have no pools" % SUBNET)
        self.merge_and_reload(kea, conf, [self.block(BLOCK, kea, sets), subnet])
        self.expect_bsdp()
        expect(self.offer() is None, "Kea offered an address on the pool-less subnet")
        print("    no OFFER on the Macs' link: addresses stay the other server's")
        expect(kea.alive(), "kea-dhcp4 exited")

    # ---- runner -------------------------------------------------------------------------
    def run(self):
        assert sorted(self.ORDER) == sorted(t for t in dir(self) if t.startswith("test_"))
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        self.net.up()
        for t in order:
            B.run_test(self, t, after=lambda: B.stop_keas(self.keas))

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, keas=self.keas)


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("add-to-existing", Suite, args, ("kea-dhcp4", "ip"))


if __name__ == "__main__":
    sys.exit(main())
