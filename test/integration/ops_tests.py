# SPDX-License-Identifier: MPL-2.0
"""Integration tests of operating the hook like any Kea hook: the bsdp-*
commands over kea-dhcp4's real unix control socket, the bsdp.* statistics,
log lines, reload and rescan, and kea-bsdp-check. Mixed into run.py's Suite
(run one with run.py -k ops_NAME); every wait is bounded, every kea-dhcp4
is stopped by its PID, every file change to the sets is undone in finally."""
import calendar
import json
import os
import plistlib
import re
import shutil
import struct
import subprocess
import tempfile
import time

import bsdpnet as B

ORDER = ["test_ops_commands_listed",
         "test_ops_commands_over_http",
         "test_ops_images_list_command",
         "test_ops_statistics_count_requests_replies_drops",
         "test_ops_binding_commands",
         "test_ops_reload_command_added_removed_broken",
         "test_ops_reload_serves_a_broken_set_stale",
         "test_ops_reload_of_unreadable_directory_keeps_catalogue",
         "test_ops_rescan_interval_picks_up_changes",
         "test_ops_kea_bsdp_check_good_config",
         "test_ops_kea_bsdp_check_bad_parameters",
         "test_ops_kea_bsdp_check_removes_its_temporary_folder",
         "test_ops_kea_bsdp_check_library_path_as_kea_dhcp4"]

COMMANDS = ["bsdp-images-list", "bsdp-reload", "bsdp-bindings-list", "bsdp-binding-set", "bsdp-explain",
            "bsdp-binding-del"]
NOBODY = 65534


# One Failure class for every suite, so run.py counts these tests.
expect = B.expect


def command(kea, name, arguments=None, timeout=30.0):
    """One command over this kea-dhcp4's unix control socket; the answer map."""
    return B.control_command(os.path.join(kea.dir, "kea4.sock"), name, arguments, timeout)


def http_keys(index, name):
    return {"Name": name, "Index": index, "Type": "HTTP", "Kind": 1, "IsEnabled": True,
            "BootFile": "booter", "Architectures": ["i386"], "RootPath": "NetInstall.dmg"}


def http_set(sets, folder, index, name):
    """A valid HTTP i386 set (booter, kernelcache, disk image)."""
    return B.write_set(sets, folder, http_keys(index, name),
                       ["i386/booter", "i386/x86_64/kernelcache", "NetInstall.dmg"])


class OpsTests:
    # ---- helpers -----------------------------------------------------------
    def cmd(self, name, arguments=None, kea=None):
        return command(kea or self.kea, name, arguments)

    def cmd_ok(self, name, arguments=None, kea=None, result=0):
        a = self.cmd(name, arguments, kea)
        expect(a.get("result") == result, "%s %s: %s" % (name, arguments, json.dumps(a)[:600]))
        return a

    def stats(self, kea=None):
        a = self.cmd_ok("statistic-get-all", kea=kea)
        return {k: v[0][0] for k, v in a["arguments"].items() if k.startswith("bsdp.")}

    def images(self, kea=None):
        return self.cmd_ok("bsdp-images-list", kea=kea)["arguments"]

    def wait_for(self, what, pred, timeout=10.0, step=0.2):
        v = B.wait_until(pred, timeout, step)
        expect(v, "waited %.0f s for %s" % (timeout, what))
        return v

    def log_lines(self, kea, msgid):
        return kea.lines(msgid)

    def list_ids(self, mac=None):
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])),
                                             mac=mac))
        d = B.decode_bsdp(opts)
        expect(d is not None and d[1] == b"\x01", "no ACK[LIST]")
        return d

    def check_tool(self):
        path = os.path.join(os.path.dirname(self.args.hook), "kea-bsdp-check")
        expect(os.access(path, os.X_OK), "%s not built (make all)" % path)
        return path

    # ---- tests -------------------------------------------------------------
    def test_ops_commands_listed(self):
        a = self.cmd_ok("list-commands")
        for c in COMMANDS:
            expect(c in a["arguments"], "%s not in list-commands: %s" % (c, a["arguments"]))

    def test_ops_commands_over_http(self):
        """The commands over HTTP, curl in the client's namespace: through
        kea-ctrl-agent up to Kea 2.6 (it forwards to kea-dhcp4's unix
        socket); from 3.0, which deprecates the agent, kea-dhcp4's own HTTP
        control socket."""
        port = 8000
        if B.kea_has_http_control_socket():
            self.kea.stop()
            kea = B.Kea(self.net, self.work, "kea-http")
            kea.config(self.args.hook, self.params())
            with open(kea.conf) as f:
                conf = json.load(f)
            d = conf["Dhcp4"]
            d["control-sockets"] = [d.pop("control-socket"), {
                "socket-type": "http", "socket-address": B.SERVER_IP, "socket-port": port}]
            with open(kea.conf, "w") as f:
                json.dump(conf, f, indent=2)
            self.keas.append(kea)
            service, stop = None, kea.stop
            self.kea = kea          # self.images() and the restart below
            through = "kea-dhcp4's HTTP control socket"
        else:
            expect(shutil.which("kea-ctrl-agent"), "kea-ctrl-agent not installed (make deps)")
            # The agent's files where kea-dhcp4 keeps its own: its socket
            # must be in the agent's control socket folder (from 2.6.3).
            conf, log = (os.path.join(self.kea.dir, "kea-ctrl-agent.conf"),
                         os.path.join(self.kea.dir, "ca.log"))
            with open(conf, "w") as f:
                json.dump({"Control-agent": {
                    "http-host": B.SERVER_IP, "http-port": port,
                    "control-sockets": {"dhcp4": {"socket-type": "unix",
                                                  "socket-name": os.path.join(self.kea.dir,
                                                                              "kea4.sock")}},
                    "loggers": [{"name": "kea-ctrl-agent", "severity": "INFO",
                                 "output_options": [{"output": log}]}]}}, f)
            ca = subprocess.Popen(["ip", "netns", "exec", self.net.srv, "kea-ctrl-agent", "-c",
                                   conf], env=B.kea_env(self.kea.dir),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.helpers.append(ca)
            service, stop = ["dhcp4"], lambda: B.stop_processes([ca])
            through = "kea-ctrl-agent"

        def post(name, arguments=None):
            body = {"command": name}
            if service:
                body["service"] = service
            if arguments is not None:
                body["arguments"] = arguments
            r = B.run(["ip", "netns", "exec", self.net.cli, "curl", "-s", "-m", "10", "-X", "POST",
                       "-H", "Content-Type: application/json", "-d", json.dumps(body),
                       "http://%s:%d/" % (B.SERVER_IP, port)], check=False, timeout=30)
            try:
                answers = json.loads(r.stdout)
            except ValueError:
                return None
            # The agent answers a list (one answer a service); so does
            # kea-dhcp4 over HTTP.
            if isinstance(answers, list):
                return answers[0] if answers else None
            return answers
        try:
            if service is None:
                kea.start_checked()
            a = self.wait_for(through + " to answer", lambda: post("list-commands"), 10.0, 0.3)
            for c in COMMANDS:
                expect(c in a.get("arguments", []), "%s not listed through %s" % (c, through))
            a = post("bsdp-images-list")
            expect(a and a["result"] == 0 and
                   len(a["arguments"]["images"]) == len(self.images()["images"]),
                   "bsdp-images-list through %s: %s" % (through, a and a.get("text")))
            a = post("bsdp-reload")
            expect(a and a["result"] == 0 and "image(s)" in a["text"], "bsdp-reload: %s" % a)
            a = post("bsdp-binding-set", {"hw-address": "02:00:00:00:00:ca", "image": 1001})
            expect(a and a["result"] == 0, "bsdp-binding-set: %s" % a)
            a = post("bsdp-binding-del", {"hw-address": "02:00:00:00:00:ca"})
            expect(a and a["result"] == 0, "bsdp-binding-del: %s" % a)
            print("    through %s: %s" % (through, post("bsdp-images-list")["text"]))
        finally:
            stop()
            if service is None:
                self.kea, _ = self.start_kea("kea-after-http")

    def test_ops_images_list_command(self):
        a = self.cmd_ok("bsdp-images-list")
        args = a["arguments"]
        imgs = {i["index"]: i for i in args["images"]}
        print("    %s" % a["text"])
        expect(args["sets-directory"] == self.sets, "sets-directory %r" % args["sets-directory"])
        # Every set in the folder is either served or skipped with a reason.
        folders = sorted(f for f in os.listdir(self.sets) if f.endswith(".nbi"))
        served = sorted(i["set"] for i in args["images"])
        skipped = sorted(os.path.basename(s["path"].rstrip("/")) for s in args["skipped"])
        expect(sorted(served + skipped) == folders, "served %s + skipped %s != %s" %
               (served, skipped, folders))
        expect(len(args["images"]) == len(folders) - 1, "%d images" % len(args["images"]))
        one = imgs[1001]
        expect(one["id"] == 0x810003e9 and one["kind"] == 1 and one["install"] is True,
               "1001 id/kind/install: %s" % one)
        expect(one["name"] == "macOS High Sierra NetInstall" and
               one["set"] == "NetInstall 10.13.nbi", "1001 name/set: %s" % one)
        expect(one["type"] == "HTTP" and one["architectures"] == ["i386"], "1001 type/arch")
        expect(one["is-default"] is True and one["is-enabled"] is True and
               one["filter-only"] is False, "1001 flags: %s" % one)
        expect(one["boot-file"] == "booter" and one["root-path"] == "NetInstall.dmg",
               "1001 paths: %s" % one)
        expect(imgs[1002]["type"] == "NFS", "1002 type")
        expect(imgs[3001]["is-enabled"] is False, "Disabled.nbi served as enabled")
        expect(imgs[3002]["enabled-mac-addresses"] == ["00:11:22:33:44:55"],
               "OneMacOnly MACs: %s" % imgs[3002]["enabled-mac-addresses"])
        expect(imgs[3004]["filter-only"] is True and imgs[3004]["kind"] == 3 and
               imgs[3004]["type"] == "BootFileOnly", "Diagnostics: %s" % imgs[3004])
        esc = [s for s in args["skipped"] if "Escape.nbi" in s["path"]]
        expect(len(esc) == 1 and esc[0]["reason"], "Escape.nbi not skipped with a reason")
        expect(3003 not in imgs, "escaping set served")
        expect(isinstance(args["warnings"], list), "no warnings list")
        # The skip was logged as a warning naming the path and the reason.
        lines = self.log_lines(self.kea, "BSDP_SET_SKIPPED")
        expect(any("WARN" in l and "Escape.nbi" in l and esc[0]["reason"] in l for l in lines),
               "no BSDP_SET_SKIPPED warning for Escape.nbi")

    def test_ops_statistics_count_requests_replies_drops(self):
        before = self.stats()
        for name in ("bsdp.requests-list", "bsdp.requests-select", "bsdp.replies-list",
                     "bsdp.replies-select", "bsdp.replies-failed", "bsdp.lists-truncated",
                     "bsdp.dropped-malformed", "bsdp.dropped-other-server",
                     "bsdp.dropped-no-image", "bsdp.dropped-reply-port",
                     "bsdp.dropped-incomplete", "bsdp.dropped-no-ciaddr",
                     "bsdp.dropped-no-server-id", "bsdp.dropped-message-type",
                     "bsdp.dropped-no-room", "bsdp.dropped-no-catalogue", "bsdp.images",
                     "bsdp.sets-skipped"):
            expect(name in before, "%s not in statistic-get-all" % name)
        n_images = len(self.images()["images"])
        expect(before["bsdp.images"] == n_images, "bsdp.images %d, catalogue %d" %
               (before["bsdp.images"], n_images))
        expect(before["bsdp.sets-skipped"] == 1, "bsdp.sets-skipped %d" % before["bsdp.sets-skipped"])

        self.list_ids()                                                      # LIST
        self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x02, 0x40]))))  # truncated
        self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, 0x810003e9)))  # SELECT
        self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, B.image_id(999))))  # FAILED
        quiet = [self.inform(B.bsdp_select("198.18.0.99", 0x810003e9)),     # other server
                 self.inform(B.bsdp_list(extra=bytes([5, 2, 0x04, 0x00]))),  # reply port 1024
                 self.inform(B.bsdp_list(), vendor="AAPLBSDPC/ppc/PowerMac3,1"),  # no image
                 self.inform(b"\x01")]                                       # malformed
        got = B.probe(self.net, quiet, listen=(67, 68, 1024), timeout=2.0)
        expect(got == [], "a dropped request was answered: %s" % got)

        def delta():
            after = self.stats()
            return {k: after[k] - before.get(k, 0) for k in after}
        # The malformed one never becomes a request of a type.
        want = {"bsdp.requests-list": 4, "bsdp.replies-list": 2, "bsdp.lists-truncated": 1,
                "bsdp.requests-select": 3, "bsdp.replies-select": 1, "bsdp.replies-failed": 1,
                "bsdp.dropped-other-server": 1, "bsdp.dropped-reply-port": 1,
                "bsdp.dropped-no-image": 1, "bsdp.dropped-malformed": 1}
        last = {}

        def settled():
            last.update(delta())
            return all(last.get(k) == v for k, v in want.items())
        try:
            self.wait_for("statistics", settled, timeout=5.0)
        except Exception:
            raise B.Failure("statistics moved by %s, want %s" % (
                {k: v for k, v in last.items() if v}, want))
        d = last
        print("    " + ", ".join("%s +%d" % (k[5:], d[k]) for k in sorted(want)))
        expect(d["bsdp.images"] == 0 and d["bsdp.sets-skipped"] == 0, "gauges moved")
        # A single statistic is read the same way.
        a = self.cmd_ok("statistic-get", {"name": "bsdp.replies-failed"})
        expect(a["arguments"]["bsdp.replies-failed"][0][0] == before["bsdp.replies-failed"] + 1,
               "statistic-get bsdp.replies-failed")
        # The SELECT and the FAILED are logged at info with MAC, model and image.
        sel = [l for l in self.log_lines(self.kea, "BSDP_REPLY_SELECT") if "INFO" in l]
        expect(sel and self.net.cli_mac in sel[-1] and "MacBookPro11,1" in sel[-1] and
               "1001" in sel[-1], "no BSDP_REPLY_SELECT info line: %s" % sel[-1:])
        fail = [l for l in self.log_lines(self.kea, "BSDP_REPLY_FAILED") if "INFO" in l]
        expect(fail and "999" in fail[-1], "no BSDP_REPLY_FAILED info line")
        drop = self.log_lines(self.kea, "BSDP_QUERY_DROPPED")
        expect(any("DEBUG" in l and "other-server" in l for l in drop), "no drop debug line")

    def test_ops_binding_commands(self):
        mac = self.net.cli_mac
        state = self.params()["state-file"]
        self.cmd("bsdp-binding-del", {"hw-address": mac})    # start without one
        try:
            a = self.cmd_ok("bsdp-binding-set", {"hw-address": mac, "image": 1002})
            print("    " + a["text"])
            b = a["arguments"]
            expect(b["hw-address"] == mac and b["image"] == B.image_id(1002) and
                   b["image-index"] == 1002 and b["image-name"] == "NetBoot over NFS",
                   "binding-set answer %s" % b)
            lst = self.cmd_ok("bsdp-bindings-list")["arguments"]["bindings"]
            mine = [x for x in lst if x["hw-address"] == mac]
            expect(len(mine) == 1 and mine[0]["image"] == B.image_id(1002) and
                   mine[0]["machine-number"] >= 1 and
                   mine[0]["machine-name"].startswith("NetBoot"), "bindings-list %s" % lst)
            # The Mac's next LIST carries it as the selected image.
            d = self.list_ids()
            expect(8 in d and struct.unpack("!I", d[8])[0] == B.image_id(1002),
                   "LIST selected image %r" % d.get(8))
            # Saved by the state writer (it follows every change of the table).
            self.wait_for("the state file to hold %s" % mac, lambda: os.path.exists(state) and
                          (mac + ",0x%08x" % B.image_id(1002)) in open(state).read(), 5.0)
            # The full id works as well, and replaces it.
            self.cmd_ok("bsdp-binding-set", {"hw-address": mac.upper(), "image": 0x810003e9})
            d = self.list_ids()
            expect(struct.unpack("!I", d[8])[0] == 0x810003e9, "LIST after full-id set")
            for bad in ({}, {"hw-address": mac}, {"image": 1002},
                        {"hw-address": "not-a-mac", "image": 1002},
                        {"hw-address": mac, "image": 999},
                        {"hw-address": mac, "image": "1002"},
                        {"hw-address": mac, "image": 0},
                        {"hw-address": mac, "image": 0x7f0003e9},
                        {"hw-address": mac, "image": 1002, "imgae": 1}):
                a = self.cmd("bsdp-binding-set", bad)
                expect(a.get("result") == 1 and a.get("text"), "set %s: %s" % (bad, a))
            a = self.cmd("bsdp-binding-set")
            expect(a.get("result") == 1, "set without arguments: %s" % a)
            print("    e.g. " + self.cmd("bsdp-binding-set", {"hw-address": mac,
                                                             "image": 999})["text"])
            # Bad arguments changed nothing.
            d = self.list_ids()
            expect(struct.unpack("!I", d[8])[0] == 0x810003e9, "a refused set changed the binding")
            a = self.cmd_ok("bsdp-binding-del", {"hw-address": mac})
            d = self.list_ids()
            expect(8 not in d, "LIST still carries a selected image after binding-del")
            self.cmd_ok("bsdp-binding-del", {"hw-address": mac}, result=3)
            expect(self.cmd("bsdp-binding-del", {"hw-address": "zz"}).get("result") == 1,
                   "bad MAC accepted by binding-del")
            self.wait_for("the state file to drop %s" % mac,
                          lambda: mac not in open(state).read(), 5.0)
            expect(self.log_lines(self.kea, "BSDP_BINDING_SET") and
                   self.log_lines(self.kea, "BSDP_BINDING_DELETED"), "binding commands not logged")
        finally:
            self.cmd("bsdp-binding-del", {"hw-address": mac})

    def test_ops_reload_command_added_removed_broken(self):
        before = self.images()
        n0, s0 = len(before["images"]), len(before["skipped"])
        added = http_set(self.sets, "Added.nbi", 5001, "Added by reload")
        broken = os.path.join(self.sets, "Broken2.nbi")
        os.makedirs(broken)
        with open(os.path.join(broken, "NBImageInfo.plist"), "w") as f:
            f.write("<plist><dict><key>Name</key>")
        removed = os.path.join(self.sets, "Extra-20.nbi")
        parked = os.path.join(self.work, "Extra-20.parked")
        os.rename(removed, parked)
        try:
            a = self.cmd_ok("bsdp-reload")
            print("    " + a["text"])
            r = a["arguments"]
            expect(r["images"] == n0 and r["skipped"] == s0 + 1 and r["seconds"] >= 0,
                   "reload counts %s (before %d/%d)" % (r, n0, s0))
            now = self.images()
            idx = {i["index"] for i in now["images"]}
            expect(5001 in idx and 2020 not in idx, "reload did not add 5001 / drop 2020")
            expect(any("Broken2.nbi" in s["path"] for s in now["skipped"]), "Broken2 not skipped")
            st = self.stats()
            expect(st["bsdp.images"] == n0 and st["bsdp.sets-skipped"] == s0 + 1,
                   "gauges after reload: %s" % st)
            d = self.list_ids()
            names = [n for _, n in d["images"]]
            expect("Added by reload" in names, "LIST lacks the added image: %s" % names)
            line = self.log_lines(self.kea, "BSDP_RELOADED")
            expect(line and "bsdp-reload" in line[-1] and " ms" in line[-1],
                   "no BSDP_RELOADED line")
            expect(any("Broken2.nbi" in l for l in self.log_lines(self.kea, "BSDP_SET_SKIPPED")),
                   "reload did not log the broken set")
            print("    " + line[-1].split("] ", 1)[-1])
        finally:
            shutil.rmtree(added, ignore_errors=True)
            shutil.rmtree(broken, ignore_errors=True)
            if os.path.exists(parked):
                os.rename(parked, removed)
        a = self.cmd_ok("bsdp-reload")
        expect(a["arguments"]["images"] == n0 and a["arguments"]["skipped"] == s0,
               "restored reload: %s" % a["arguments"])

    def test_ops_reload_serves_a_broken_set_stale(self):
        """A served set whose plist breaks (rewritten in place) is served on
        from its last good version, marked stale in bsdp-images-list and
        logged once, until it reads again or its folder is removed."""
        folder = http_set(self.sets, "Flaky.nbi", 5002, "Flaky")
        plist = os.path.join(folder, "NBImageInfo.plist")
        with open(plist, "rb") as f:
            good = plistlib.dumps(plistlib.load(f), fmt=plistlib.FMT_BINARY)
        not_plist = "NBImageInfo.plist is not a valid XML or binary property list"

        def put(data):
            with open(plist, "wb") as f:
                f.write(data)

        def flaky():
            a = self.cmd_ok("bsdp-images-list")
            img = [i for i in a["arguments"]["images"] if i["index"] == 5002]
            expect(not [s for s in a["arguments"]["skipped"] if "Flaky.nbi" in s["path"]],
                   "Flaky.nbi served and skipped: %s" % a["arguments"]["skipped"])
            return a, (img[0] if img else None)

        def new_lines(msgid, before, n):
            self.wait_for("%d %s line(s)" % (n, msgid),
                          lambda: len(self.log_lines(self.kea, msgid)) >= before + n)
            lines = self.log_lines(self.kea, msgid)[before:]
            expect(len(lines) == n, "%s lines: %s" % (msgid, lines))
            return lines

        n_stale = len(self.log_lines(self.kea, "BSDP_SET_STALE "))
        n_back = len(self.log_lines(self.kea, "BSDP_SET_RECOVERED"))
        n_drop = len(self.log_lines(self.kea, "BSDP_SET_STALE_DROPPED"))
        try:
            put(good)
            self.cmd_ok("bsdp-reload")
            a, img = flaky()
            expect(img and "stale" not in img and a["arguments"]["stale"] == [],
                   "fresh Flaky: %s" % img)

            t0 = int(time.time())
            put(good[:len(good) // 2])
            r = self.cmd_ok("bsdp-reload")["arguments"]
            expect(r["stale"] == 1, "reload counts %s" % r)
            a, img = flaky()
            print("    " + a["text"])
            expect(img and img["name"] == "Flaky" and img["boot-file"] == "booter",
                   "half-written Flaky not served from its last good version: %s" % img)
            st = img.get("stale", {})
            since = st.get("since", "")
            expect(st.get("path") == folder and st.get("reason") == not_plist,
                   "stale mark %s" % st)
            at = calendar.timegm(time.strptime(since, "%Y-%m-%dT%H:%M:%SZ"))
            expect(t0 <= at <= int(time.time()), "since %s not now" % since)
            expect(a["arguments"]["stale"] == [dict(st, set="Flaky.nbi")],
                   "stale list %s" % a["arguments"]["stale"])
            expect(a["text"].endswith(", 1 served stale"), "text %r" % a["text"])
            names = [n for _, n in self.list_ids()["images"]]
            expect("Flaky" in names, "LIST lacks the stale image: %s" % names)

            # Emptied, reloaded twice: one episode, one warning, one since.
            put(b"")
            self.cmd_ok("bsdp-reload")
            self.cmd_ok("bsdp-reload")
            _, img = flaky()
            expect(img and img.get("stale", {}).get("reason") == "NBImageInfo.plist is empty" and
                   img["stale"]["since"] == since, "emptied Flaky: %s" % img)
            line = new_lines("BSDP_SET_STALE ", n_stale, 1)[0]
            expect("WARN" in line and ("NetBoot set %s no longer reads (%s), failing since %s" %
                                       (folder, not_plist, since)) in line,
                   "BSDP_SET_STALE line: %s" % line)

            put(good)
            self.cmd_ok("bsdp-reload")
            a, img = flaky()
            expect(img and "stale" not in img and a["arguments"]["stale"] == [],
                   "mended Flaky: %s" % img)
            line = new_lines("BSDP_SET_RECOVERED", n_back, 1)[0]
            expect("INFO" in line and ("NetBoot set %s reads again (it failed from %s on)" %
                                       (folder, since)) in line,
                   "BSDP_SET_RECOVERED line: %s" % line)

            # Broken again, then its folder removed: the set goes.
            put(b"")
            self.cmd_ok("bsdp-reload")
            new_lines("BSDP_SET_STALE ", n_stale, 2)
            shutil.rmtree(folder)
            self.cmd_ok("bsdp-reload")
            a, img = flaky()
            expect(img is None and a["arguments"]["stale"] == [],
                   "removed Flaky still listed: %s" % img)
            line = new_lines("BSDP_SET_STALE_DROPPED", n_drop, 1)[0]
            expect(folder in line, "BSDP_SET_STALE_DROPPED line: %s" % line)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.cmd_ok("bsdp-reload")

    def test_ops_reload_of_unreadable_directory_keeps_catalogue(self):
        before = self.images()
        away = self.sets + ".away"
        os.rename(self.sets, away)
        try:
            a = self.cmd("bsdp-reload")
            print("    " + a.get("text", ""))
            expect(a.get("result") == 1 and "sets-directory" in a.get("text", ""),
                   "reload of a missing directory: %s" % a)
            expect(self.images()["images"] == before["images"], "catalogue changed")
            expect(len(self.list_ids()["images"]) > 0, "LIST not answered from the old catalogue")
            expect(self.stats()["bsdp.images"] == len(before["images"]), "gauge changed")
            line = self.log_lines(self.kea, "BSDP_RELOAD_FAILED")
            expect(line and "ERROR" in line[-1], "no BSDP_RELOAD_FAILED error line")
        finally:
            if os.path.exists(away):
                os.rename(away, self.sets)
        self.cmd_ok("bsdp-reload")

    def test_ops_rescan_interval_picks_up_changes(self):
        sets = os.path.join(self.work, "sets-rescan")
        shutil.copytree(self.sets, sets, symlinks=True)
        self.kea.stop()
        kea = None
        try:
            kea, _ = self.start_kea("kea-rescan", params=self.params(**{
                "sets-directory": sets, "rescan-interval": 1}))
            expect(self.log_lines(kea, "BSDP_RESCAN_STARTED"), "no BSDP_RESCAN_STARTED")
            n0 = len(self.images(kea)["images"])

            def has(index, name=None):
                return any(i["index"] == index and (name is None or i["name"] == name)
                           for i in self.images(kea)["images"])
            t0 = time.monotonic()
            watched = http_set(sets, "Watched.nbi", 6001, "Seen by the rescan")
            self.wait_for("the rescan to add 6001", lambda: has(6001), 10.0)
            print("    new set served after %.1f s" % (time.monotonic() - t0))
            self.wait_for("bsdp.images to follow", lambda: self.stats(kea)["bsdp.images"] == n0 + 1,
                          5.0)
            line = self.log_lines(kea, "BSDP_RELOADED")
            expect(line and "change detected" in line[-1], "no BSDP_RELOADED for the change")
            # The plist rewritten in place: its new name shows.
            B.write_set(sets, "Watched.nbi", http_keys(6001, "Renamed in place"), [])
            self.wait_for("the rescan to rename 6001", lambda: has(6001, "Renamed in place"), 10.0)
            # Unreadable directory: old catalogue stays, one error line, and
            # the directory coming back is picked up again.
            away = sets + ".away"
            os.rename(sets, away)
            try:
                self.wait_for("BSDP_RELOAD_FAILED", lambda: self.log_lines(kea, "BSDP_RELOAD_FAILED"),
                              10.0)
                time.sleep(2.5)
                expect(len(self.log_lines(kea, "BSDP_RELOAD_FAILED")) == 1,
                       "a missing directory is reported at every check")
                expect(has(6001), "catalogue dropped while the directory was missing")
            finally:
                if os.path.exists(away):
                    os.rename(away, sets)
            shutil.rmtree(watched)
            self.wait_for("the rescan to remove 6001", lambda: not has(6001), 10.0)
            # A reconfiguration unloads the library (the thread stops) and
            # loads it again (a new thread watches).
            self.cmd_ok("config-reload", kea=kea)
            self.wait_for("a second BSDP_RESCAN_STARTED",
                          lambda: len(self.log_lines(kea, "BSDP_RESCAN_STARTED")) == 2, 10.0)
            expect(kea.alive(), "kea-dhcp4 died on config-reload")
            http_set(sets, "AfterReconfig.nbi", 6002, "After config-reload")
            self.wait_for("the new thread to add 6002", lambda: has(6002), 10.0)
            # Shutdown joins the thread, unloads and closes the library, and
            # kea-dhcp4 exits cleanly. (Under LD_PRELOAD=libasan kea-dhcp4
            # itself hangs in libp11-kit's exit handler, with or without this
            # hook: there only the unload is checked.)
            t0 = time.monotonic()
            os.kill(kea.proc.pid, 15)
            self.wait_for("the library to be closed", lambda: self.log_lines(
                kea, "HOOKS_LIBRARY_CLOSED"), 10.0)
            expect(self.log_lines(kea, "BSDP_RESCAN_STOPPED") and
                   self.log_lines(kea, "BSDP_UNLOADED"), "no BSDP_RESCAN_STOPPED/BSDP_UNLOADED")
            if not os.environ.get("BSDP_SANITIZER_PRELOAD"):
                rc = kea.wait_exit(10)
                print("    SIGTERM: exit %s after %.1f s" % (rc, time.monotonic() - t0))
                expect(rc == 0, "kea-dhcp4 exit status %r after SIGTERM" % rc)
        finally:
            if kea:
                kea.stop()
            shutil.rmtree(sets, ignore_errors=True)
            self.kea, _ = self.start_kea("kea-after-rescan")

    # ---- kea-bsdp-check (no namespace needed) -------------------------------
    def check_config(self, folder, params, comments=True, hook=None):
        """A full kea-dhcp4 configuration file as an operator writes it, with
        the comment styles kea-dhcp4 accepts."""
        os.makedirs(folder, exist_ok=True)
        kea = B.Kea(self.net, folder, "conf")
        kea.config(hook or self.args.hook, params)
        with open(kea.conf) as f:
            text = f.read()
        if comments:
            text = ("// kea-dhcp4.conf for NetBoot\n# a hash comment\n/* a block\n comment */\n" +
                    text.replace('"hooks-libraries": [', '"hooks-libraries": [ // BSDP\n', 1))
        with open(kea.conf, "w") as f:
            f.write(text)
        # Kea's data directory for the check: where the state file is.
        self.check_data_dirs = getattr(self, "check_data_dirs", {})
        self.check_data_dirs[kea.conf] = kea.state_dir
        return kea.conf

    def run_check(self, conf, *extra, user=None, env=None):
        self.check_tool()
        data_dir = getattr(self, "check_data_dirs", {}).get(conf)
        return B.kea_bsdp_check(self.args.hook, list(extra) + [conf], user=user, env=env,
                                data_dir=data_dir)

    def test_ops_kea_bsdp_check_good_config(self):
        folder = os.path.join(self.work, "check-good")
        state = os.path.join(folder, "bindings.csv")
        os.makedirs(folder, exist_ok=True)
        with open(state, "w") as f:
            f.write("hwaddr,image-id,selected-at,machine-number\n")
        st0 = os.stat(state)
        conf = self.check_config(folder, self.params(**{"state-file": state}))
        r = self.run_check(conf)
        expect(r.returncode == 0, "exit %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
        n = len(self.images()["images"])
        expect(("%d image(s), 1 set(s) skipped" % n) in r.stdout, "summary:\n" + r.stdout)
        for want in ("macOS High Sierra NetInstall", "NetInstall 10.13.nbi", "default",
                     "DISABLED", "filter-only", "only MACs 00:11:22:33:44:55", "Escape.nbi"):
            expect(want in r.stdout, "%r not printed:\n%s" % (want, r.stdout))
        print("    " + "\n    ".join(r.stdout.splitlines()[:4]))
        st1 = os.stat(state)
        expect((st0.st_ino, st0.st_mtime_ns, st0.st_size) == (st1.st_ino, st1.st_mtime_ns,
                                                             st1.st_size),
               "kea-bsdp-check touched the state file")
        # The hooks-libraries entry in an included file, as some operators keep it.
        with open(conf) as f:
            text = f.read()
        start = text.index('"hooks-libraries"')
        end = text.index("]", text.index('"library"', start)) + 1
        inc = os.path.join(folder, "hooks.json")
        with open(inc, "w") as f:
            f.write("# the BSDP hook\n" + text[start:end] + "\n")
        conf_inc = os.path.join(folder, "with-include.conf")
        with open(conf_inc, "w") as f:
            f.write(text[:start] + '<?include "%s"?>' % inc + text[end:])
        self.check_data_dirs[conf_inc] = self.check_data_dirs[conf]
        r = self.run_check(conf_inc)
        expect(r.returncode == 0 and ("%d image(s)" % n) in r.stdout,
               "<?include?> config: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        r = self.run_check(conf, "--json")
        expect(r.returncode == 0, "--json exit %d: %s" % (r.returncode, r.stderr))
        j = json.loads(r.stdout)
        expect(j["result"] == 0 and len(j["arguments"]["images"]) == n, "--json answer")
        # No entry for the hook, or a broken file: an error, not a pass.
        conf2 = os.path.join(folder, "nohook.conf")
        with open(conf2, "w") as f:
            json.dump({"Dhcp4": {"hooks-libraries": []}}, f)
        r = self.run_check(conf2)
        expect(r.returncode == 1 and "libdhcp_bsdp.so" in r.stderr, "no entry: %d %s" %
               (r.returncode, r.stderr))
        with open(conf2, "w") as f:
            json.dump({"Dhcp4": {"hooks-libraries": [
                {"library": B.hook_library(self.args.hook), "paramters": self.params()}]}}, f)
        r = self.run_check(conf2)
        expect(r.returncode == 1 and '"paramters"' in r.stderr, "misspelt entry key: %d %s" %
               (r.returncode, r.stderr))
        conf3 = os.path.join(folder, "broken.conf")
        with open(conf3, "w") as f:
            f.write('{ "Dhcp4": {\n "hooks-libraries": [ }\n}\n')
        r = self.run_check(conf3)
        expect(r.returncode == 1 and "JSON" in r.stderr and ":2:" in r.stderr,
               "broken JSON: %d %s" % (r.returncode, r.stderr))
        r = self.run_check("")
        expect(r.returncode == 2, "usage exit %d" % r.returncode)

    def test_ops_kea_bsdp_check_removes_its_temporary_folder(self):
        """The private copy of the state file goes to a folder under TMPDIR,
        removed after every run: when the copy fails (the state-file is a
        directory), and when the hook loads (an empty state file, a missing
        one)."""
        folder = os.path.join(self.work, "check-tmp")
        tmp = os.path.join(folder, "tmp")
        os.makedirs(tmp)
        env = dict(os.environ, TMPDIR=tmp)
        conf = self.check_config(os.path.join(folder, "dir"), self.params(**{"state-file": folder}))
        r = self.run_check(conf, env=env)
        m = re.search(r"cannot copy state file %s to (\S+)/state\.csv" % re.escape(folder), r.stderr)
        expect(r.returncode == 1 and m, "a directory as state-file: exit %d\n%s" %
               (r.returncode, r.stderr))
        made = m.group(1)
        try:
            expect(not os.path.exists(made), "kea-bsdp-check left %s after the failed copy" % made)
            expect(os.path.dirname(made) == tmp, "%s not under TMPDIR %s" % (made, tmp))
        finally:
            if re.fullmatch(r"/tmp/kea-bsdp-check\.\w{6}", made):   # what the old tool left
                shutil.rmtree(made, ignore_errors=True)
        print("    copy failed: %s" % r.stderr.strip().splitlines()[-1])
        empty = os.path.join(folder, "empty.csv")
        open(empty, "w").close()
        for what, state in (("empty", empty), ("missing", os.path.join(folder, "none.csv"))):
            conf = self.check_config(os.path.join(folder, what),
                                     self.params(**{"state-file": state}))
            r = self.run_check(conf, env=env)
            expect(r.returncode == 0 and ("state-file %s: " % state) in r.stdout,
                   "%s state file: exit %d\n%s%s" % (what, r.returncode, r.stdout, r.stderr))
            expect(os.listdir(tmp) == [], "%s state file: left %s" % (what, os.listdir(tmp)))

    def test_ops_kea_bsdp_check_library_path_as_kea_dhcp4(self):
        """A configuration naming the build itself, outside Kea's hooks
        directory: kea-bsdp-check and kea-dhcp4 -t agree, both refusing it
        from 2.6.3 (naming the path and the directory allowed), both
        accepting it on 2.2. Neither runs through with_hook(), which would
        make the hooks directory hold the build."""
        folder = os.path.join(self.work, "check-path")
        conf = self.check_config(folder, self.params(), comments=False)
        with open(conf) as f:
            text = json.load(f)
        build = os.path.abspath(self.args.hook)
        for entry in text["Dhcp4"]["hooks-libraries"]:
            entry["library"] = build
        with open(conf, "w") as f:
            json.dump(text, f, indent=2)
        self.check_tool()
        tool = os.path.join(os.path.dirname(build), "kea-bsdp-check")
        env = B.kea_env(os.path.dirname(conf))
        env.pop("KEA_HOOKS_PATH", None)   # would move the hooks directory to the build
        mine = B.run([tool, conf], check=False, timeout=60, env=env)
        keas = B.run(["ip", "netns", "exec", self.net.srv, "kea-dhcp4", "-t", conf],
                     check=False, timeout=60, env=env)
        if B.kea_checks_paths():
            rule = ["'%s'" % os.path.dirname(build), "'%s'" % B.HOOKS_DIR]
            for who, r, rc in (("kea-bsdp-check", mine, 1), ("kea-dhcp4 -t", keas, None)):
                out = r.stdout + r.stderr
                expect((r.returncode == rc if rc is not None else r.returncode != 0) and
                       all(w in out for w in rule),
                       "%s on a library outside %s: exit %d, want a refusal naming %s:\n%s" %
                       (who, B.HOOKS_DIR, r.returncode, " and ".join(rule), out[-2000:]))
                line = [l for l in out.splitlines() if all(w in l for w in rule)][0]
                print("    %s: exit %d: ...%s" % (who, r.returncode, line.strip()[-150:]))
        else:
            for who, r in (("kea-bsdp-check", mine), ("kea-dhcp4 -t", keas)):
                expect(r.returncode == 0, "%s on %s (Kea %s loads any path): exit %d\n%s%s" %
                       (who, build, ".".join(map(str, B.kea_version())), r.returncode,
                        r.stdout, r.stderr[-2000:]))
            expect("%s loads with its parameters" % build in mine.stdout,
                   "kea-bsdp-check did not load %s:\n%s" % (build, mine.stdout))
            print("    Kea %s: kea-bsdp-check and kea-dhcp4 -t both accept %s" %
                  (".".join(map(str, B.kea_version())), build))

    def test_ops_kea_bsdp_check_bad_parameters(self):
        folder = os.path.join(self.work, "check-bad")
        os.makedirs(folder, exist_ok=True)
        a_file = os.path.join(folder, "not-a-directory")
        with open(a_file, "w") as f:
            f.write("x")
        cases = [("unknown name", "bogus-name", 1),
                 ("wrong type", "server-priority", "high"),
                 ("not \"load\"", "server-priority", "Load"),
                 ("wrong type", "sets-directory", 42),
                 ("out of range", "server-priority", 70000),
                 ("out of range", "rescan-interval", -1),
                 ("bad value", "server-address", "198.18.0.256")]
        for kind, name, value in cases:
            conf = self.check_config(os.path.join(folder, "%s-%s" % (name, kind.replace(" ", "-"))),
                                     self.params(**{name: value}))
            r = self.run_check(conf)
            line = [l for l in r.stderr.splitlines() if "BSDP_LOAD_ERROR" in l]
            expect(r.returncode == 1, "%s %s=%r passed:\n%s" % (kind, name, value, r.stdout))
            expect(line and ("'%s'" % name) in line[0],
                   "%s %s: no BSDP_LOAD_ERROR naming it:\n%s" % (kind, name, r.stderr))
            print("    %-17s %s" % (kind + ":", line[0].split("BSDP_LOAD_ERROR ", 1)[-1][:110]))
        # A folder that cannot be read is no configuration error (the
        # server starts and serves DHCP: test_sets_unavailable.py), but the
        # check fails, naming it and why: missing, not a folder, and one
        # the server's user cannot read, checked as that user.
        for path, reason in (("/nonexistent/sets", "No such file or directory"),
                             (a_file, "Not a directory")):
            conf = self.check_config(os.path.join(folder, "sets-" + reason.replace(" ", "-")),
                                     self.params(**{"sets-directory": path}))
            r = self.run_check(conf)
            line = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
            expect(r.returncode == 1 and line and ("'%s'" % path) in line[-1] and
                   reason in line[-1] and "BSDP_SETS_UNAVAILABLE" in r.stderr,
                   "sets-directory %s: exit %d\n%s" % (path, r.returncode, r.stderr))
            print("    %-17s %s" % (reason + ":", line[-1].split(": ", 2)[-1][:110]))
        pub = tempfile.mkdtemp(prefix="bsdp-check-nobody-")
        try:
            os.chmod(pub, 0o755)
            locked = os.path.join(pub, "sets")
            os.mkdir(locked, 0o000)
            os.chmod(locked, 0o000)
            conf = self.check_config(pub, {"sets-directory": locked,
                                           "state-file": os.path.join(pub, "b.csv")},
                                     hook=B.public_hook(self.args.hook))
            os.chmod(os.path.dirname(conf), 0o755)
            os.chmod(conf, 0o644)
            r = self.run_check(conf, user=NOBODY)
            line = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
            expect(r.returncode == 1 and line and ("'%s'" % locked) in line[-1] and
                   "ermission denied" in line[-1],
                   "unreadable directory as nobody: %d\n%s" % (r.returncode, r.stderr))
            print("    %-17s %s" % ("unreadable:", line[-1].split(": ", 2)[-1][:110]))
        finally:
            shutil.rmtree(pub, ignore_errors=True)
