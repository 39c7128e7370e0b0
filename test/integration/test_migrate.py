#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""kea-bsdp-migrate proved on the wire: real ISC dhcpd and real kea-dhcp4.

For each shape of dhcpd.conf people run NetBoot with (the seeds), the same
file is served by ISC dhcpd in a network namespace and read by
kea-bsdp-migrate; then kea-dhcp4 runs in the same namespace with a base
configuration (what keama makes of the rest of the file, written here by
hand) and the tool's fragment merged in, each list appended to the base's
own, as the README tells operators. Both servers are 198.18.0.1, one after
the other, so every address either names is the same. A Mac is played by
bsdpc (LIST, SELECT of every image) and by a crafted iPXE DHCPDISCOVER;
the decoded answers must be equal field by field. Where the two may
legitimately differ the test says why and still checks each side's value.

  seed 003 shape  test/migrate/seed003.conf with the two lines dhcpd 4.4.3
                  needs to serve it (see SERVED_003), against real sets built
                  here: option space BSDP, a class per architecture, the
                  document's worked hex example plus a NetInstall image, a
                  host pinned to an image, deny unknown-clients.
  the same, spelled otherwise: the i386 class included, the old option
                  space spelling, the image list on one line, the pinned
                  host in a group that carries its image.
  classic how-to  test/migrate/classic.conf: option 43 by hand for LIST and
                  SELECT, filename and NFS root-path at class scope after
                  the if, under a NetBoot/NetBootSP0 TFTP prefix.
  seed 000 shape  test/migrate/seed000.conf as it is: hand-built option 43,
                  snponly.efi, iPXE chained to mboot.efi over HTTP, a pool;
                  the set is written by --write-sets and the booter copied as
                  the tool says.
  no BSDP         exit 3, says so, nothing written.
  broken input    unbalanced braces, a hex list whose lengths do not add up,
                  a SELECT branch for an image no LIST offers: exit 1, file
                  and line on stderr, nothing written.

ISC dhcpd (--dhcpd, default /usr/sbin/dhcpd) must be there wherever the
release has isc-dhcp-server (Debian 12 and 13): missing, the suite fails.
Where the release has none (Debian sid, make check-kea), the side-by-side
tests print SKIP with the reason and the closing line counts them;
test_dhcpd_absent forces both paths.

usage (root): test_migrate.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc
              [--dhcpd PATH] [-k NAME] [--keep]"""
import ipaddress
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import test_bindings as TB  # noqa: E402  (what iPXE sends)

expect = B.expect
Failure = B.Failure
FIXTURES = os.path.join(B.ROOT, "test", "migrate")
SNPONLY = "/usr/lib/ipxe/snponly.efi"
DHCPD_PACKAGE = "isc-dhcp-server"
PINNED_MAC = "00:16:cb:00:00:01"           # host lab-mac-1 in seed003.conf
OTHER_MAC = "02:00:5e:10:00:01"            # a machine that never SELECTed

# What dhcpd 4.4.3 needs to serve test/migrate/seed003.conf, each (line it
# follows, lines added). Without the first it drops every INFORM ("not
# authoritative for subnet"); without the second it never decodes a Mac's
# option 43 into the BSDP space, so no `option BSDP.message_type = N` test
# matches and its ACKs carry no BSDP at all (both seen with 4.4.3-P1).
SERVED_003 = [
    ("ddns-update-style none;\n",
     "# dhcpd 4.4 answers no DHCPINFORM on a subnet it is not authoritative for.\n"
     "authoritative;\n"),
    ("option BSDP.machine_name code 130 = text;\n",
     "# The Mac's option 43 decoded into the BSDP space, for the message_type tests.\n"
     "option vendor-encapsulated-options code 43 = encapsulate BSDP;\n"),
]

# The seed 003 sets, as an operator's disk holds them next to that
# dhcpd.conf: folder, NBImageInfo.plist, architectures with a booter (the
# document's .nbi layout: i386 only).
SETS_003 = [
    ("Orchard-NetBoot_10.8.4.nbi", {
        "Index": 123, "Name": "Orchard Primary 10.8.4 NetBoot", "Kind": 1, "IsInstall": False,
        "IsDefault": True, "IsEnabled": True, "Type": "HTTP", "BootFile": "booter",
        "Architectures": ["i386"], "RootPath": "NetBoot.dmg"}),
    ("Testing-10.9.0.nbi", {
        "Index": 456, "Name": "10.9.0 NetBoot for Testing Only", "Kind": 1,
        "IsInstall": False, "IsEnabled": True, "Type": "HTTP", "BootFile": "booter",
        "Architectures": ["i386"], "RootPath": "NetBoot.dmg"}),
    ("Install-10.nbi", {
        "Index": 864, "Name": "Install 10", "Kind": 1, "IsInstall": True, "IsEnabled": True,
        "Type": "HTTP", "BootFile": "booter", "Architectures": ["i386"],
        "RootPath": "NetInstall.dmg"}),
]


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def replace_once(text, old, new, name):
    """old must occur once in text, so a changed fixture fails here
    instead of silently."""
    expect(text.count(old) == 1, "%s: %r occurs %d times" % (name, old, text.count(old)))
    return text.replace(old, new)


def insert_after(text, edits, name):
    """text with each (anchor line, added lines) applied."""
    for anchor, added in edits:
        text = replace_once(text, anchor, anchor + added, name)
    return text


def line_of(text, needle):
    """1-based line number of needle's one occurrence in text."""
    expect(text.count(needle) == 1, "%r occurs %d times" % (needle, text.count(needle)))
    return text[:text.index(needle)].count("\n") + 1


def release_has_dhcpd():
    """Whether this release can install isc-dhcp-server: the rule of
    tools/install-deps.sh (apt-cache policy shows a candidate)."""
    r = subprocess.run(["apt-cache", "policy", DHCPD_PACKAGE], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, timeout=60)
    return re.search(r"Candidate: [^(]", r.stdout) is not None


class Dhcpd:
    """One ISC dhcpd in the server namespace, in the foreground (-f), so the
    PID started is dhcpd's own (ip netns exec execs it)."""

    def __init__(self, net, folder, conf, binary):
        self.net, self.conf, self.binary = net, conf, binary
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        self.log = os.path.join(folder, "dhcpd.log")
        self.proc = None

    def start(self):
        leases = os.path.join(self.dir, "dhcpd.leases")
        open(leases, "w").close()
        argv = ["ip", "netns", "exec", self.net.srv, self.binary, "-4", "-f", "-d",
                "-cf", self.conf, "-lf", leases, "-pf", os.path.join(self.dir, "dhcpd.pid"),
                self.net.srv_if]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        up = B.wait_until(lambda: self.proc.poll() is not None or
                          B.listening(self.net.srv, "u", 67), 10.0)
        if not up or self.proc.poll() is not None:
            raise Failure("dhcpd did not start:\n%s" % read(self.log)[-2000:])

    def stop(self):
        if self.proc is not None:
            B.stop_processes([self.proc])
            self.proc = None
            # Kea takes port 67 next.
            expect(B.wait_until(lambda: not B.listening(self.net.srv, "u", 67), 5.0),
                   "port 67 still bound after dhcpd stopped")


# ---- what a Mac sees, decoded ---------------------------------------------------

def list_view(out, what, optional=False):
    """The one server's ACK[LIST] from bsdpc --json as the fields compared;
    optional: None when no server answered."""
    servers = out.get("servers") or []
    if optional and not servers:
        return None
    expect(len(servers) == 1, "%s: %d servers answered: %s" % (what, len(servers), out))
    s = servers[0]
    return {"server": s["address"], "priority": s["priority"], "default": s["default_id"],
            "selected": s["selected_id"],
            "images": [(i["id"], i["name"]) for i in s["images"]]}


def select_view(out, what):
    s = out.get("select")
    expect(s and s.get("result") == "ack", "%s: %s" % (what, s))
    return {k: s.get(k) for k in ("selected_id", "siaddr", "file", "root_path", "machine_name")}


def tftp_prefix(fragment):
    """The fragment's tftp-path-prefix for the hook ("" when unset)."""
    for h in fragment["Dhcp4"].get("hooks-libraries", []):
        if "tftp-path-prefix" in h.get("parameters", {}):
            return h["parameters"]["tftp-path-prefix"]
    return ""


class Side:
    """What one server answered, by question."""

    def __init__(self, name):
        self.name = name
        self.answers = {}


class Suite:
    ORDER = ["test_no_bsdp", "test_broken_input", "test_seed003_shape",
             "test_seed003_spelled_otherwise", "test_classic_howto_shape", "test_seed000_shape",
             "test_dhcpd_absent"]
    NEEDS_DHCPD = ("test_seed003_shape", "test_seed003_spelled_otherwise",
                   "test_classic_howto_shape", "test_seed000_shape")

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-migrate-")
        os.chmod(self.work, 0o755)
        self.net = B.Net("m%05d" % (os.getpid() % 100000))
        self.tool = os.path.join(os.path.dirname(os.path.abspath(args.hook)),
                                 "kea-bsdp-migrate")
        self.keas = []
        self.dhcpds = []
        self.passed = self.failed = self.skipped = 0
        self.xid = 0x6d000000

    # ---- the tool ---------------------------------------------------------------
    def migrate(self, conf, sets=None, write_sets=False, kea_config=None):
        """kea-bsdp-migrate with the contract's options; (exit, stdout, stderr)."""
        argv = [self.tool]
        if sets:
            argv += ["--sets-directory", sets]
        if write_sets:
            argv.append("--write-sets")
        if kea_config:
            argv += ["--kea-config", kea_config, "--library", B.hook_library(self.args.hook)]
        r = B.run(argv + [conf], check=False, timeout=60)
        print("    $ %s" % " ".join(argv[1:] + [conf]).replace(self.work, "$WORK"))
        for line in (r.stdout + r.stderr).splitlines():
            print("      | %s" % line.replace(self.work, "$WORK"))
        print("      exit %d" % r.returncode)
        return r.returncode, r.stdout, r.stderr

    def migrate_ok(self, conf, sets, write_sets=False):
        """The tool's fragment for conf (exit 0 required), and its stdout."""
        frag = os.path.join(os.path.dirname(conf), "kea-bsdp.json")
        rc, out, err = self.migrate(conf, sets, write_sets, frag)
        expect(rc == 0, "kea-bsdp-migrate exited %d: %s" % (rc, err.strip().split("\n")[0]))
        expect(os.path.isfile(frag), "no --kea-config file %s" % frag)
        try:
            d = json.loads(read(frag))
        except ValueError as e:
            raise Failure("%s is not JSON: %s" % (frag, e))
        return d, out

    def nothing_written(self, *paths):
        for p in paths:
            expect(not os.path.lexists(p), "%s was written" % p)

    # ---- the servers --------------------------------------------------------------
    def run_dhcpd(self, folder, conf, questions):
        d = Dhcpd(self.net, os.path.join(folder, "dhcpd"), conf, self.args.dhcpd)
        self.dhcpds.append(d)
        d.start()
        try:
            return self.ask(Side("dhcpd"), questions)
        finally:
            d.stop()

    def run_kea(self, folder, fragment, base_subnet, client_classes=()):
        """kea-dhcp4 with a base configuration for this namespace and the
        fragment's lists appended to the base's own. Its state file goes in
        its own folder (a sandbox's Kea keeps nothing in /var/lib/kea)."""
        kea = B.Kea(self.net, folder, "kea")
        self.keas.append(kea)
        kea.hook = self.args.hook
        kea.data_dir = kea.dir
        base = {
            "interfaces-config": {"interfaces": [self.net.srv_if], "dhcp-socket-type": "raw"},
            "lease-database": {"type": "memfile", "persist": False},
            "valid-lifetime": 43200,
            "subnet4": [base_subnet],
            "loggers": [
                {"name": "kea-dhcp4", "severity": "INFO",
                 "output_options": [{"output": kea.log}]},
                {"name": "kea-dhcp4.bsdp", "severity": "DEBUG", "debuglevel": 99,
                 "output_options": [{"output": kea.log}]},
            ],
        }
        if client_classes:      # Kea refuses an empty list
            base["client-classes"] = list(client_classes)
        frag = fragment.get("Dhcp4")
        expect(isinstance(frag, dict), "the fragment has no Dhcp4 map: %s" % fragment)
        for key, items in frag.items():
            expect(isinstance(items, list), "fragment Dhcp4.%s is not a list: %r" % (key, items))
            base.setdefault(key, []).extend(items)
        ours = [h for h in base.get("hooks-libraries", [])
                if h.get("library") == B.hook_library(self.args.hook)]
        expect(len(ours) == 1, "hooks-libraries %s: not one entry for %s" % (
            base.get("hooks-libraries"), B.hook_library(self.args.hook)))
        params = ours[0].setdefault("parameters", {})
        if "state-file" in params:
            print("    state-file %r: moved into the test's folder" % params["state-file"])
        params["state-file"] = ("bsdp-bindings.csv" if B.state_file_in_data_dir()
                                else os.path.join(kea.dir, "bsdp-bindings.csv"))
        with open(kea.conf, "w") as f:
            json.dump({"Dhcp4": base}, f, indent=2)
        kea.start_checked()
        return kea

    def bsdpc(self, *argv, broadcast=False, mac=None, arch=None):
        cmd = ["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i", self.net.cli_if,
               "--timeout", "2", "--json"]
        if not broadcast:
            cmd += ["--server", B.SERVER_IP]   # its answer ends the wait
        if mac:
            cmd += ["--mac", mac]
        if arch:
            cmd += ["--arch", arch]
        r = B.run(cmd + list(argv), check=False, timeout=30)
        try:
            return json.loads(r.stdout) if r.stdout.strip() else {}
        except ValueError:
            raise Failure("bsdpc printed no JSON: %r %r" % (r.stdout, r.stderr))

    def ipxe_discover(self, mac):
        """iPXE's DHCPDISCOVER after the Mac booted snponly.efi: (yiaddr,
        siaddr, boot file as iPXE reads it: option 67, else the file field)."""
        self.xid += 1
        disc = B.dhcp_message(self.xid, mac, TB.ipxe_options(), ciaddr="0.0.0.0", msgtype=1,
                              flags=0x8000)
        # dhcpd pings an address before offering it (about 1 s).
        got = B.probe(self.net, [disc], src_ip="0.0.0.0", timeout=4.0, expect=1)
        offers = [g["data"] for g in got
                  if B.option(B.parse_options(g["data"]) or [], 53) == b"\x02"]
        expect(len(offers) == 1, "iPXE DISCOVER: %d offers" % len(offers))
        msg = offers[0]
        opt67 = B.option(B.parse_options(msg), 67)
        boot = (opt67 if opt67 is not None else TB.file_field(msg)).decode()
        ip = lambda b: ".".join(str(x) for x in b)   # noqa: E731
        return {"yiaddr": ip(msg[16:20]), "siaddr": ip(msg[20:24]), "boot_file": boot,
                "file_field": TB.file_field(msg).decode()}

    def kea_took_all(self, kea):
        """Stops kea; it must have served every set and pin as they are."""
        kea.stop()
        bad = kea.lines(r"BSDP_(SET_SKIPPED|SET_WARNING|PIN_INVALID|PIN_IGNORED)")
        expect(not bad, "Kea skipped or warned about a set or a pin: %s" % bad)
        expect(kea.lines(r"BSDP_"), "Kea's log has no BSDP line at all: %s" % kea.log)

    def ask(self, side, questions):
        """Each (key, function) asked in order; the answers kept by key."""
        for key, q in questions:
            side.answers[key] = q()
            print("    %-5s %-16s %s" % (side.name, key, json.dumps(side.answers[key])))
        return side

    # ---- comparing ---------------------------------------------------------------------
    def same(self, what, d, k):
        expect(d == k, "%s differs: dhcpd %r, Kea %r" % (what, d, k))
        print("    same   %-28s %s" % (what, json.dumps(d)))

    def differ(self, what, d, k, why):
        """A field where the servers may legitimately differ, and why; each
        side's value is checked by the caller."""
        if d == k:
            print("    same   %-28s %s" % (what, json.dumps(d)))
        else:
            print("    differ %-28s dhcpd %s, Kea %s: %s" % (what, json.dumps(d), json.dumps(k),
                                                          why))

    def compare_list(self, what, d, k, selected=True):
        for field in ("server", "priority", "default"):
            self.same("%s %s" % (what, field), d[field], k[field])
        if selected:
            self.same("%s selected" % what, d["selected"], k["selected"])
        # The order of the list is the server's choice (BSDP fixes none):
        # the same images, ids and names byte for byte, in any order.
        self.same("%s images" % what, sorted(d["images"]), sorted(k["images"]))

    def compare_select(self, what, d, k, machine_name_why, fields=("file",)):
        for field in ("selected_id", "siaddr", "root_path") + tuple(fields):
            self.same("%s %s" % (what, field), d[field], k[field])
        self.differ("%s machine_name" % what, d["machine_name"], k["machine_name"],
                    machine_name_why)

    # ---- tests ---------------------------------------------------------------------------
    def test_no_bsdp(self):
        conf = os.path.join(FIXTURES, "nobsdp.conf")
        folder = os.path.join(self.work, "nobsdp")
        os.makedirs(folder)
        frag, sets = os.path.join(folder, "kea-bsdp.json"), os.path.join(folder, "sets")
        rc, out, err = self.migrate(conf, sets, True, frag)
        expect(rc == 3, "exit %d for a dhcpd.conf without BSDP (3 expected): %s" % (
            rc, err.strip().split("\n")[0]))
        expect(re.search(r"no BSDP", out + err), "the tool does not say there is no BSDP")
        self.nothing_written(frag, sets)

    def broken_cases(self, text, name):
        """(case, text of the broken file, its line the error must name, or a
        (first, last) range of lines, words the message must hold)."""
        cases = []
        # 1. The ppc class's closing brace gone: its '{' is never closed.
        end_ppc = "  }\n}\n\nhost lab-mac-1"
        broken = replace_once(text, end_ppc, "  }\n\nhost lab-mac-1", name)
        cases.append(("unbalanced-braces", broken,
                      line_of(broken, 'class "Apple-ppc-NetBoot" {'), r"never closed"))
        # 2. The worked example's second name length one short: 30 (1E)
        # where the name has 31 bytes; the rest of the list no longer parses.
        broken = replace_once(text, "    1F:\n", "    1E:\n", name)
        first = line_of(broken, "      option BSDP.boot_image_list\n")
        last = line_of(broken, "81:00:03:60:0A:49:6E:73:74:61:6C:6C:20:31:30;")
        cases.append(("hex-lengths", broken, (first, last), r"do not add up"))
        # 3. A SELECT branch for an image no LIST offers.
        branch = ('      if (option BSDP.selected_boot_image_id = 01:00:02:00) {\n'
                  '        option BSDP.selected_boot_image_id 01:00:02:00;\n'
                  '        filename "Gone.nbi/i386/booter";\n'
                  '      }\n')
        anchor = '      if (option BSDP.selected_boot_image_id = 81:00:03:60) {\n'
        broken = replace_once(text, anchor, branch + anchor, name)
        cases.append(("select-not-listed", broken,
                      line_of(broken, "selected_boot_image_id = 01:00:02:00"),
                      r"01:00:02:00.*no LIST"))
        return cases

    def test_broken_input(self):
        seed = os.path.join(FIXTURES, "seed003.conf")
        text = insert_after(read(seed), SERVED_003, seed)
        folder = os.path.join(self.work, "broken")
        os.makedirs(folder)
        for case, broken, where, words in self.broken_cases(text, seed):
            conf = os.path.join(folder, case + ".conf")
            with open(conf, "w") as f:
                f.write(broken)
            frag = os.path.join(folder, case + "-kea.json")
            sets = os.path.join(folder, case + "-sets")
            rc, out, err = self.migrate(conf, sets, True, frag)
            expect(rc == 1, "%s: exit %d (1 expected)" % (case, rc))
            m = re.search(r"%s:(\d+): (.*)" % re.escape(conf), err)
            expect(m, "%s: no %s:LINE: message on stderr: %r" % (case, conf, err))
            line = int(m.group(1))
            lo, hi = where if isinstance(where, tuple) else (where, where)
            expect(lo <= line <= hi, "%s: line %d named, %s expected" % (case, line, where))
            expect(re.search(words, m.group(2)), "%s: message %r lacks %r" % (
                case, m.group(2), words))
            expect(not re.search(r"(?m)^\s*wrote ", out), "%s: the tool says it wrote: %s" % (
                case, out))
            self.nothing_written(frag, sets)

    def test_seed003_shape(self):
        folder = os.path.join(self.work, "seed003")
        os.makedirs(folder)
        seed = os.path.join(FIXTURES, "seed003.conf")
        conf = os.path.join(folder, "dhcpd.conf")
        with open(conf, "w") as f:
            f.write(insert_after(read(seed), SERVED_003, seed))
        self.seed003_side_by_side(folder, conf)

    def test_seed003_spelled_otherwise(self):
        """The same configuration as another operator writes it: the i386
        class in an included file, the old `code width 1 length width 1`
        spelling of the option space, the image list on one line without
        comments, the pinned host in a group that carries its image. dhcpd
        reads it as the same; so must the tool."""
        folder = os.path.join(self.work, "seed003-other")
        os.makedirs(folder)
        seed = os.path.join(FIXTURES, "seed003.conf")
        text = insert_after(read(seed), SERVED_003, seed)
        text = replace_once(text, "option space BSDP;\n",
                            "option space BSDP code width 1 length width 1;\n", seed)
        text = replace_once(text, "host lab-mac-1 {\n  hardware ethernet 00:16:CB:00:00:01;\n"
                            "  option BSDP.selected_boot_image_id 01:00:01:C8;\n}\n",
                            "group {\n  option BSDP.selected_boot_image_id 01:00:01:C8;\n"
                            "  host lab-mac-1 {\n    hardware ethernet 00:16:CB:00:00:01;\n  }\n}\n",
                            seed)
        start = text.index('class "Apple-i386-NetBoot" {')
        end = text.index('class "Apple-ppc-NetBoot" {')
        included = os.path.join(folder, "bsdp-i386.conf")
        klass = text[start:end]
        hexlist = klass[klass.index("option BSDP.boot_image_list\n"):klass.index(";", klass.index(
            "option BSDP.boot_image_list\n")) + 1]
        one_line = "option BSDP.boot_image_list " + "".join(
            line.strip() for line in hexlist.splitlines()[1:] if not line.strip().startswith("#"))
        with open(included, "w") as f:
            f.write(klass.replace(hexlist, one_line))
        conf = os.path.join(folder, "dhcpd.conf")
        with open(conf, "w") as f:
            f.write(text[:start] + 'include "%s";\n\n' % included + text[end:])
        self.seed003_side_by_side(folder, conf)

    def both_answer(self, folder, conf, sets, questions):
        """dhcpd serving conf, then Kea with what the tool makes of it over
        the same sets, each asked questions(): (dhcpd's answers, Kea's, the
        tool's stdout, its fragment)."""
        d = self.run_dhcpd(folder, conf, questions())
        fragment, out = self.migrate_ok(conf, sets)
        kea = self.run_kea(folder, fragment, {"id": 1, "subnet": "198.18.0.0/24"})
        k = self.ask(Side("kea"), questions())
        self.kea_took_all(kea)
        return d.answers, k.answers, out, fragment

    def test_classic_howto_shape(self):
        """test/migrate/classic.conf: option 43 by hand for LIST and SELECT,
        filename and root-path at class scope after the if (dhcpd runs them
        after the SELECT branch), an NFS root path under the
        NetBoot/NetBootSP0 TFTP prefix. The set lies where that prefix
        leads; dhcpd and Kea must hand out the same booter and root path."""
        folder = os.path.join(self.work, "classic")
        os.makedirs(folder)
        conf = os.path.join(folder, "dhcpd.conf")   # the fragment is written beside it
        shutil.copyfile(os.path.join(FIXTURES, "classic.conf"), conf)
        sets = os.path.join(folder, "tftp", "NetBoot", "NetBootSP0")
        keys = {"Index": 1322, "Name": "iNetBoot", "Kind": 1, "IsInstall": True,
                "IsEnabled": True, "IsDefault": True, "Type": "NFS", "BootFile": "booter",
                "Architectures": ["i386"], "RootPath": "NetBoot.dmg"}
        files = ["i386/booter", "i386/x86_64/kernelcache", "NetBoot.dmg"]
        path = B.write_set(sets, "10.6-netboot.nbi", keys, files)
        for rel in files:
            with open(os.path.join(path, rel), "wb") as f:
                f.write(os.urandom(4096))

        def questions():
            return [("list", lambda: list_view(self.bsdpc("--list", broadcast=True), "LIST")),
                    ("select", lambda: select_view(self.bsdpc("--select", "1322"),
                                                   "SELECT 1322"))]

        a, b, out, _ = self.both_answer(folder, conf, sets, questions)
        self.compare_list("LIST", a["list"], b["list"])
        expect(a["list"]["images"] == [("0x8100052a", "iNetBoot")],
               "dhcpd's LIST: %s" % a["list"]["images"])
        self.compare_select("SELECT 1322", a["select"], b["select"],
                            "dhcpd's is one fixed name, Kea numbers each Mac")
        expect(a["select"]["file"] == "NetBoot/NetBootSP0/10.6-netboot.nbi/i386/booter" and
               a["select"]["root_path"] == "nfs:198.18.0.1:/private/tftpboot/NetBoot/"
               "NetBootSP0:10.6-netboot.nbi/NetBoot.dmg",
               "dhcpd's SELECT: %s" % a["select"])
        expect(re.search(r"(?m)^note: .*filename .* follows the SELECT branch", out),
               "no line of the tool says the class-scope filename answers the SELECT")

    def seed003_side_by_side(self, folder, conf):
        """dhcpd serving conf (the seed 003 shape), then Kea with what the
        tool makes of it, over the same real sets; the answers compared."""
        # The sets the SELECT branches name, real files. The booters are what
        # the Macs fetch by TFTP from the folder that holds the sets (the
        # dhcpd.conf's filenames start at the set folder), so dhcpd and Kea
        # name the very same files.
        sets = os.path.join(folder, "sets")
        for name, keys in SETS_003:
            files = ["%s/booter" % a for a in keys["Architectures"]]
            files += ["i386/x86_64/kernelcache", keys["RootPath"]]
            path = B.write_set(sets, name, keys, files)
            for rel in files:
                with open(os.path.join(path, rel), "wb") as f:
                    f.write(os.urandom(4096))
        images = [(k["Index"], k["IsInstall"]) for _, k in SETS_003]

        def questions():
            q = [("list", lambda: list_view(self.bsdpc("--list", broadcast=True), "LIST")),
                 ("list ppc", lambda: list_view(self.bsdpc("--list", arch="ppc"), "LIST ppc",
                                                optional=True)),
                 ("list pinned", lambda: list_view(self.bsdpc("--list", mac=PINNED_MAC),
                                                   "LIST pinned"))]
            for index, _ in images:
                q.append(("select %d" % index, lambda i=index: select_view(
                    self.bsdpc("--select", str(i)), "SELECT %d" % i)))
            return q

        a, b, out, fragment = self.both_answer(folder, conf, sets, questions)
        # An unknown Mac (the namespace's MAC has no host declaration):
        # deny unknown-clients governs addresses, and dhcpd 4.4.3 still
        # answers its INFORMs, so Kea must too.
        self.compare_list("LIST", a["list"], b["list"], selected=False)
        # dhcpd's LIST names 01:00:00:7B as every Mac's last selection (a
        # fixed option: it keeps none); Kea names what this Mac selected,
        # here nothing yet. The tool must say so.
        expect(a["list"]["selected"] == a["list"]["default"], "dhcpd LIST selected %r" %
               a["list"]["selected"])
        expect(b["list"]["selected"] is None, "Kea LIST selected %r before any SELECT" %
               b["list"]["selected"])
        self.differ("LIST selected", a["list"]["selected"], b["list"]["selected"],
                    "dhcpd's is a fixed value, Kea's the Mac's own last SELECT")
        expect(re.search(r"(?m)^(note|cannot carry over): .*(selection|selected)", out),
               "no line of the tool says the fixed selected image is not carried over")
        # The ppc class lists 01:00:00:7B but has no SELECT branch: dhcpd
        # shows a PowerPC Mac an image it cannot boot. The set (i386 only,
        # as the document's) is not offered to ppc by Kea; the tool says so.
        expect(a["list ppc"]["images"] == [("0x0100007b", "Orchard Primary 10.8.4 NetBoot")],
               "dhcpd's ppc LIST: %s" % a["list ppc"]["images"])
        expect(not (b["list ppc"] or {}).get("images"),
               "Kea's ppc LIST: %s" % b["list ppc"])
        self.differ("LIST ppc images", a["list ppc"]["images"],
                    (b["list ppc"] or {}).get("images"),
                    "dhcpd lists to ppc an image it never boots there")
        expect(re.search(r"(?m)^(note|cannot carry over): .*ppc", out),
               "no line of the tool says ppc Macs no longer see the image")
        # The pinned Mac: its host's image is its selected image on both.
        self.compare_list("LIST pinned", a["list pinned"], b["list pinned"])
        expect(a["list pinned"]["selected"] == "0x010001c8",
               "dhcpd's LIST to lab-mac-1 selected %r" % a["list pinned"]["selected"])
        ids = sorted(i for i, _ in a["list"]["images"])
        expect(ids == ["0x0100007b", "0x010001c8", "0x81000360"], "dhcpd's images %s" % ids)
        for index, _ in images:
            self.compare_select("SELECT %d" % index, a["select %d" % index],
                                b["select %d" % index],
                                "dhcpd's is one fixed name per image, Kea numbers each Mac")
            # The same name, and a booter there: the TFTP root is the sets
            # folder for both (tftp-path-prefix, if any, leads to it).
            booter = b["select %d" % index]["file"]
            expect(os.path.isfile(os.path.join(sets, booter[len(tftp_prefix(fragment)):])),
                   "SELECT %d: no booter %s in the sets" % (index, booter))
        if any(a["select %d" % i]["machine_name"] for i, _ in images):
            expect(re.search(r"(?mi)^(cannot carry over|note): .*machine name", out),
                   "no line of the tool says the fixed machine name is not carried over")

    def copy_as_told(self, out, tftp_root, sets):
        """Does what the tool's copy lines say: each names a file of the TFTP
        root and where in sets it goes. Returns the destinations."""
        done = []
        for line in out.splitlines():
            m = re.match(r"^copy (.+?) from your TFTP root to (.+)$", line.strip())
            if not m:
                continue
            src, dst = m.groups()
            src = os.path.join(tftp_root, src.lstrip("/"))
            expect(os.path.isfile(src), "copy line %r: %s is not in the TFTP root" % (line, src))
            expect(os.path.abspath(dst).startswith(sets + os.sep),
                   "copy line %r: %s is not in the sets directory" % (line, dst))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
            done.append(dst)
        expect(done, "--write-sets printed no line saying what to copy where")
        return done

    def test_seed000_shape(self):
        folder = os.path.join(self.work, "seed000")
        os.makedirs(folder)
        conf = os.path.join(folder, "dhcpd.conf")
        shutil.copyfile(os.path.join(FIXTURES, "seed000.conf"), conf)
        # dhcpd's TFTP root: the seed's snponly.efi (Debian's iPXE build).
        tftp_root = os.path.join(folder, "tftp")
        os.makedirs(tftp_root)
        shutil.copyfile(SNPONLY, os.path.join(tftp_root, "snponly.efi"))
        sets = os.path.join(folder, "sets")
        os.makedirs(sets)

        def questions():
            return [("list", lambda: list_view(self.bsdpc("--list", broadcast=True), "LIST")),
                    ("select", lambda: select_view(self.bsdpc("--select", "137"),
                                                   "SELECT 137")),
                    ("ipxe", lambda: self.ipxe_discover(self.net.cli_mac)),
                    ("ipxe unselected", lambda: self.ipxe_discover(OTHER_MAC))]

        d = self.run_dhcpd(folder, conf, questions())
        fragment, out = self.migrate_ok(conf, sets, write_sets=True)
        plists = [os.path.join(sets, n, "NBImageInfo.plist") for n in sorted(os.listdir(sets))]
        expect(len(plists) == 1 and os.path.isfile(plists[0]),
               "--write-sets wrote %s, not one set" % os.listdir(sets))
        with open(plists[0], "rb") as f:
            plist = plistlib.load(f)
        print("    %s: %s" % (os.path.relpath(plists[0], folder), plist))
        self.copy_as_told(out, tftp_root, sets)
        # What keama makes of the rest: the subnet, its pool and router, and
        # the pxeclients class's next-server (keama skips its `if`).
        subnet = {"id": 1, "subnet": "198.18.0.0/24",
                  "pools": [{"pool": "198.18.0.100 - 198.18.0.200"}],
                  "option-data": [{"name": "routers", "data": "198.18.0.1"}]}
        pxe = {"name": "pxeclients", "test": "substring(option[60].hex,0,9) == 'PXEClient'",
               "next-server": "198.18.0.1"}
        kea = self.run_kea(folder, fragment, subnet, [pxe])
        k = self.ask(Side("kea"), questions())
        prefix = tftp_prefix(fragment)
        self.kea_took_all(kea)

        a, b = d.answers, k.answers
        self.compare_list("LIST", a["list"], b["list"])
        self.compare_select("SELECT 137", a["select"], b["select"],
                            "dhcpd's seed sends none, Kea numbers each Mac", fields=())
        # The booter: dhcpd names snponly.efi at its TFTP root, Kea the
        # set's copy under its own (the sets folder, after the prefix): other
        # paths, the same bytes, which is what the Mac boots.
        dfile, kfile = a["select"]["file"], b["select"]["file"]
        expect(kfile.startswith(prefix), "Kea's file %r lacks its prefix %r" % (kfile, prefix))
        dbytes = read(os.path.join(tftp_root, dfile), "rb")
        kbytes = read(os.path.join(sets, kfile[len(prefix):]), "rb")
        expect(dbytes == kbytes == read(SNPONLY, "rb"),
               "the booters differ: dhcpd's %s, Kea's %s" % (dfile, kfile))
        self.differ("SELECT 137 file", dfile, kfile,
                    "the same snponly.efi (%d bytes) through each one's TFTP root" % len(dbytes))
        # iPXE's own request: chained to mboot.efi, an address of the pool.
        self.same("iPXE boot file", a["ipxe"]["boot_file"], b["ipxe"]["boot_file"])
        self.same("iPXE file field", a["ipxe"]["file_field"], b["ipxe"]["file_field"])
        self.same("iPXE siaddr", a["ipxe"]["siaddr"], b["ipxe"]["siaddr"])
        lo, hi = (ipaddress.ip_address(x) for x in ("198.18.0.100", "198.18.0.200"))
        for side, ans in (("dhcpd", a), ("Kea", b)):
            expect(lo <= ipaddress.ip_address(ans["ipxe"]["yiaddr"]) <= hi,
                   "%s offered iPXE %s, not an address of the pool" % (side, ans["ipxe"]["yiaddr"]))
        self.differ("iPXE yiaddr", a["ipxe"]["yiaddr"], b["ipxe"]["yiaddr"],
                    "each server's own pick from the same pool")
        # iPXE on a machine that never SELECTed here: dhcpd chains every
        # iPXE client, the hook only a Mac that booted the set; the tool
        # says so.
        expect(a["ipxe unselected"]["boot_file"] == a["ipxe"]["boot_file"],
               "dhcpd's iPXE answer to another MAC: %s" % a["ipxe unselected"])
        expect(b["ipxe unselected"]["boot_file"] != b["ipxe"]["boot_file"],
               "Kea chained a MAC that selected nothing: %s" % b["ipxe unselected"])
        self.differ("iPXE, no SELECT: boot file", a["ipxe unselected"]["boot_file"],
                    b["ipxe unselected"]["boot_file"],
                    "the hook chains only a Mac that SELECTed the set within chain-window")
        expect(re.search(r"(?m)^cannot carry over: .*iPXE stage", out),
               "no line of the tool says the iPXE stage now needs a SELECT first")

    def test_dhcpd_absent(self):
        """Both paths of a missing dhcpd, forced with a stand-in apt-cache:
        where the release has isc-dhcp-server the suite fails, where it has
        none the side-by-side tests are skipped, visibly."""
        stubs = os.path.join(self.work, "stubs")
        os.makedirs(stubs)
        stub = os.path.join(stubs, "apt-cache")
        argv = [B.PYTHON, os.path.abspath(__file__), "--hook", self.args.hook, "--bsdpc",
                self.args.bsdpc, "--dhcpd", os.path.join(self.work, "no", "dhcpd"),
                "-k", "seed000"]
        for candidate, want_rc, want in (
                ("4.4.3-P1-2", 1, r"ISC dhcpd .* is missing.*\n.*make deps-test"),
                ("(none)", 0, r"(?m)^SKIP seed000_shape: .*no isc-dhcp-server.*\n"
                              r"(.*\n)*migrate: 0 passed, 0 failed, 1 skipped$")):
            with open(stub, "w") as f:
                f.write("#!/bin/sh\necho '%s:'\necho '  Installed: (none)'\n"
                        "echo '  Candidate: %s'\n" % (DHCPD_PACKAGE, candidate))
            os.chmod(stub, 0o755)
            env = dict(os.environ, PATH=stubs + os.pathsep + os.environ["PATH"])
            r = B.run(argv, check=False, timeout=120, env=env)
            print("    candidate %s: exit %d, %s" % (candidate, r.returncode,
                                                     r.stdout.strip().splitlines()[-1:]))
            expect(r.returncode == want_rc and re.search(want, r.stdout),
                   "candidate %s: exit %d (%d expected), output:\n%s%s" % (
                       candidate, r.returncode, want_rc, r.stdout, r.stderr))

    # ---- runner -------------------------------------------------------------------------
    def run(self):
        assert sorted(self.ORDER) == sorted(t for t in dir(self) if t.startswith("test_"))
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        skip = None
        if not os.access(self.args.dhcpd, os.X_OK) and any(t in self.NEEDS_DHCPD for t in order):
            if release_has_dhcpd():
                print("migrate: ISC dhcpd %s is missing, and this release has %s:\n"
                      "  install it (make deps-test)" % (self.args.dhcpd, DHCPD_PACKAGE))
                self.failed += 1
                return
            skip = "no %s on this release, so nothing to compare Kea with" % DHCPD_PACKAGE
        self.net.up()
        for t in order:
            if skip and t in self.NEEDS_DHCPD:
                print("SKIP %s: %s" % (t[5:], skip))
                self.skipped += 1
                continue
            B.run_test(self, t, after=self.stop_servers)

    def stop_servers(self):
        for d in self.dhcpds:
            B.stop_processes([d.proc] if d.proc else [])
            d.proc = None
        B.stop_keas(self.keas)

    def cleanup(self):
        self.stop_servers()
        B.teardown(self.net, self.work, self.args.keep, keas=self.keas)


def main():
    ap = B.suite_arguments()
    ap.add_argument("--dhcpd", default="/usr/sbin/dhcpd", help="ISC dhcpd (default %(default)s)")
    args = ap.parse_args()
    return B.run_suite("migrate", Suite, args, ("kea-dhcp4", "ip"))


if __name__ == "__main__":
    sys.exit(main())
