#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests: a configuration check of a running server's own
configuration leaves everything the server owns alone.

kea-dhcp4 -T (Kea 2.4 and later) loads every hook library (load() and
dhcp4_srv_configured) as a check, then unloads them, while the server may be
running with the same configuration: the state file it names must stay
byte for byte as it was (same inode and modification time, nothing beside
it), and the running server must go on answering with its bindings. Kea
2.2 has no -T, and its -t never calls load(): there only -t is run, and the
-T part is reported as skipped, saying why.

usage (root): test_config_check.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL (and SKIP with its reason) per test and
"config-check: N passed, N failed"; exits 1 on any failure. Namespaces,
processes and files are removed even on failure."""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import run as R  # noqa: E402

expect = R.expect
ID_1001 = R.ID_1001
ID_1002 = R.ID_1002


def snapshot(path):
    """What a check must not change: the file's bytes, inode and
    modification time, and the names in its folder."""
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    return {"bytes": data, "inode": st.st_ino, "mtime_ns": st.st_mtime_ns,
            "folder": sorted(os.listdir(os.path.dirname(path)))}


class ConfigCheckSuite(R.Suite):
    ORDER = ["test_check_leaves_state_file_and_server_alone",
             "test_check_leaves_damaged_state_file_alone"]

    def checks(self):
        """The check options this kea-dhcp4 has; -T (which loads the hook)
        from 2.4 on."""
        return ["-t", "-T"] if B.kea_check_loads_hooks() else ["-t"]

    def run_check(self, kea, flag):
        """kea-dhcp4 FLAG CONFIG on the running server's own configuration, in
        its namespace (its interfaces must exist) with its environment."""
        argv = ["ip", "netns", "exec", self.net.srv, "kea-dhcp4", flag, kea.conf]
        r = B.run(B.with_hook(argv, kea.hook), check=False, timeout=60, env=B.kea_env(kea.files))
        out = r.stdout + r.stderr
        expect(r.returncode == 0, "kea-dhcp4 %s: exit %d\n%s" % (flag, r.returncode, out[-2000:]))
        return out

    def selected(self, mac):
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])),
                                             mac=mac))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x01", "not an ACK[LIST]")
        return struct.unpack("!I", d[8])[0] if 8 in d else None

    def check_leaves_alone(self, name, lines, loaded):
        """Starts a server on a state file of these lines, runs every check
        this Kea has on the same configuration, and checks that the file
        and the server are as before each time. loaded: the bindings the
        server (and -T) report loading."""
        folder = os.path.join(self.work, name + "-state")
        os.makedirs(folder)
        state = os.path.join(folder, "bindings.csv")
        with open(state, "w") as f:
            f.write("\n".join(lines) + "\n")
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook, self.params(**{"state-file": state}))
        self.keas.append(kea)
        kea.start_checked()
        self.kea = kea
        expect(kea.lines(r"BSDP_STATE_LOADED loaded %d binding" % loaded, 5.0),
               "the server did not load %d bindings" % loaded)
        expect(self.selected(self.net.cli_mac) == ID_1002, "the server does not serve the file")
        # Whatever the server itself writes at start (nothing since the
        # library writes only on a change) is done before the snapshot: no
        # temporary file beside it, the file in place.
        expect(B.wait_until(lambda: os.path.exists(state) and all(
            p == "bindings.csv" or ".damaged-" in p for p in os.listdir(folder)), 5.0),
            "the server's own start-up save did not settle: %s" % os.listdir(folder))
        before = snapshot(state)
        for flag in self.checks():
            out = self.run_check(kea, flag)
            if flag == "-T":
                # The check really ran our load(), on the same file.
                m = re.search(r"BSDP_STATE_LOADED loaded (\d+) binding\S* from state file (\S+)", out)
                expect(m and int(m.group(1)) == loaded and m.group(2) == state,
                       "-T did not load the library on %s:\n%s" % (state, out[-2000:]))
            after = snapshot(state)
            changed = [k for k in before if after[k] != before[k]]
            expect(not changed, "kea-dhcp4 %s changed the running server's state file (%s): "
                   "before %r, after %r" % (flag, ", ".join(changed),
                                            {k: before[k] for k in changed},
                                            {k: after[k] for k in changed}))
            expect(kea.alive(), "the server died during kea-dhcp4 %s" % flag)
            expect(self.selected(self.net.cli_mac) == ID_1002,
                   "the server lost its binding after kea-dhcp4 %s" % flag)
            a = self.cmd_ok("bsdp-bindings-list")
            print("    kea-dhcp4 %s: state file unchanged (%d bytes, inode %d), server answers "
                  "LIST and bsdp-bindings-list (%d bindings)" %
                  (flag, len(before["bytes"]), before["inode"],
                   len(a["arguments"]["bindings"])))
        if "-T" not in self.checks():
            print("    SKIP kea-dhcp4 -T: kea-dhcp4 -T needs Kea 2.4+ (this is %s; its -t "
                  "does not call load(), checked above)" % ".".join(map(str, self.version)))
        # The comparison can see a change: the server's own next save.
        self.select_raw(ID_1001)
        expect(B.wait_until(lambda: snapshot(state)["bytes"] != before["bytes"], 5.0),
               "the server did not save a SELECT")
        kea.stop()
        return state

    def select_raw(self, iid):
        _, opts = self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, iid)))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x02", "SELECT %#x not acknowledged" % iid)

    # ---- tests -------------------------------------------------------------
    def test_check_leaves_state_file_and_server_alone(self):
        lines = [B.STATE_HEADER,
                 "02:00:00:00:07:01,0x%08x,1700000000,1" % ID_1001,
                 "02:00:00:00:07:02,0x%08x,1700000001,2" % ID_1001,
                 "%s,0x%08x,1700000002,3" % (self.net.cli_mac, ID_1002)]
        self.check_leaves_alone("check", lines, 3)

    def test_check_leaves_damaged_state_file_alone(self):
        # Before, load() set a damaged file aside and wrote a new one at once.
        lines = [B.STATE_HEADER, "%s,0x%08x,1700000002,3" % (self.net.cli_mac, ID_1002),
                 "not a binding"]
        state = self.check_leaves_alone("damaged", lines, 1)
        kept = [p for p in os.listdir(os.path.dirname(state)) if ".damaged-" in p]
        expect(len(kept) == 1, "the server's first save did not set the file aside: %s" % kept)

    # ---- runner ------------------------------------------------------------
    def run(self):
        self.version = B.kea_version()
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        self.make_sets()
        self.net.up()
        for t in order:
            B.run_test(self, t, after=self.stop_keas)


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("config-check", ConfigCheckSuite, args, ("kea-dhcp4", "socat", "ip"))


if __name__ == "__main__":
    sys.exit(main())
