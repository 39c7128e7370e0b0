#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The examples, run as their READMEs say, and `make install`.

examples/netboot-server and examples/esxi-ipxe with the real programs in
network namespaces (198.18.0.0/15): kea-dhcp4 with the hook, tftpd-hpa and
busybox httpd, each started from the example's own file (kea-dhcp4.conf,
/etc/default/tftpd-hpa, the systemd unit) with only paths, addresses and the
interface substituted. A Mac is played by bsdpc and probe.py; what it would
fetch next is fetched with curl (TFTP and HTTP) at exactly the addresses the
replies name, and compared byte for byte with the files on disk.

Then `make install` into a DESTDIR (the exact file list) and for real,
restoring the system after: once without AppArmor's tools (Debian 12's
default) and once with stand-ins that record the profile reloads; the rules
are checked by hand, and by apparmor_parser where it is installed.

usage (root): test_examples.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]"""
import fcntl
import glob
import hashlib
import json
import os
import plistlib
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, HERE)

import bsdpnet as B  # noqa: E402

SNPONLY = "/usr/lib/ipxe/snponly.efi"
ESXI_INDEX = 4001
# What the example files say, and what the test puts in their place.
EX_IP = "198.18.0.1"
EX_IFACE = "eth0"
EX_HOOK = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_bsdp.so"
# Rules of examples/apparmor the profile must hold once installed.
AA_RULES = ("/srv/netboot/sets/** r,", "owner /var/lib/kea/bsdp-bindings.csv* rw,",
            "/var/lib/kea/ r,")
# An AppArmor file rule as examples/apparmor writes them.
AA_FILE_RULE = re.compile(r"(owner )?/[A-Za-z0-9._/*-]* [rwamlkix]+,")


Failure = B.Failure
expect = B.expect


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def template(text, subst, name):
    """The example's text with each (old, new) replaced; every old string must
    occur, so a changed example fails here instead of escaping the sandbox."""
    for old, new in subst:
        expect(old in text, "%s no longer contains %r" % (name, old))
        text = text.replace(old, new)
    kept = [new for _, new in subst]     # e.g. the installed hook (with_hook)
    for system in ("/srv/netboot", "/var/lib/kea", "/run/kea", "/var/log/kea", EX_HOOK):
        expect(system in kept or system not in text, "%s: %s left after templating" % (name, system))
    return text


def man_pages_installed():
    """Where make install puts each man page of `make man` (MANDIR/manN/)."""
    mandir = B.make_var("MANDIR")
    return [os.path.join(mandir, "man" + p.rsplit(".", 1)[1], os.path.basename(p))
            for p in B.make_var("MAN_PAGES").split()]


class Suite:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-examples-")
        # tftpd and httpd drop to tftp and www-data: they must reach the files.
        os.chmod(self.work, 0o755)
        self.srv = os.path.join(self.work, "netboot")            # /srv/netboot
        self.sets = os.path.join(self.srv, "sets")
        self.state = os.path.join(self.work, "state")             # /var/lib/kea etc.
        self.net = B.Net("e%05d" % (os.getpid() % 100000))   # e: apart from run.py's, side by side
        self.kea = None
        self.procs = []
        self.passed = 0
        self.failed = 0

    # ---- the examples, started as documented --------------------------------
    def subst(self):
        return [(EX_HOOK, B.hook_library(self.args.hook)),
                ("/srv/netboot", self.srv), ("/var/lib/kea/", self.state + "/"),
                ("/run/kea/", self.state + "/"), ("/var/log/kea/", self.state + "/"),
                ('"%s"' % EX_IFACE, '"%s"' % self.net.srv_if), (EX_IP, B.SERVER_IP)]

    def make_fake_iso(self):
        """What an ESXi installer ISO holds, as far as the chain goes."""
        iso = os.path.join(self.work, "iso")
        os.makedirs(os.path.join(iso, "efi", "boot"))
        self.iso_files = {}
        for rel, size in (("efi/boot/bootx64.efi", 70000), ("b.b00", 5000),
                          ("jumpstrt.gz", 3000), ("useropts.gz", 100), ("k.b00", 9000)):
            data = os.urandom(size)
            self.iso_files[rel] = data
            with open(os.path.join(iso, rel), "wb") as f:
                f.write(data)
        cfg = ("bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\n"
               "kernel=/b.b00\nkernelopt=runweasel cdromBoot\n"
               "modules=/jumpstrt.gz --- /useropts.gz --- /k.b00\nbuild=8.0.2-0.0.0\nupdated=0\n")
        for rel in ("boot.cfg", "efi/boot/boot.cfg"):
            with open(os.path.join(iso, rel), "w") as f:
                f.write(cfg)
        os.chmod(iso, 0o555)   # a mounted ISO is read-only
        return iso

    def setup(self):
        os.makedirs(self.state)
        # netboot-server README: the sets (here the dummy ones of make_sets.py).
        B.run([B.PYTHON, os.path.join(EXAMPLES, "make_sets.py"), self.sets])
        # Real sizes: many TFTP blocks, an HTTP body over several segments.
        for rel, size in (("i386/booter", 300 * 1024 + 7), ("i386/x86_64/kernelcache", 1 << 20),
                          ("NetInstall.dmg", 4 << 20)):
            with open(os.path.join(self.sets, "NetInstall 10.13.nbi", rel), "wb") as f:
                f.write(os.urandom(size))
        self.net.up()
        # esxi-ipxe README: setup.sh with the ISO and this "Mac"'s address.
        iso = self.make_fake_iso()
        r = B.run(["sh", os.path.join(EXAMPLES, "esxi-ipxe", "setup.sh"), "--server",
                   B.SERVER_IP, "--iso", iso, "--sets", self.sets, "--www", self.srv,
                   self.net.cli_mac], check=False)
        expect(r.returncode == 0, "setup.sh failed: %s %s" % (r.stdout, r.stderr))
        print("    " + r.stdout.strip().replace("\n", "\n    "))
        self.start_kea()
        self.start_tftpd()
        self.start_httpd()

    def start_kea(self):
        ex = os.path.join(EXAMPLES, "netboot-server", "kea-dhcp4.conf")
        self.kea = B.Kea(self.net, self.work, "kea")
        with open(self.kea.conf, "w") as f:
            f.write(template(read(ex), self.subst(), "kea-dhcp4.conf"))
        # The example's files (/var/lib/kea, /run/kea, /var/log/kea) are
        # all in self.state, and its library is this build (with_hook).
        self.kea.files, self.kea.hook = self.state, self.args.hook
        # Kea's own check first, as the README says (comments included).
        env = B.kea_env(self.state)
        if os.environ.get("BSDP_SANITIZER_PRELOAD"):
            # -t dlopens the hook too: an ASan build needs its runtime first.
            env.update(LD_PRELOAD=os.environ["BSDP_SANITIZER_PRELOAD"],
                       ASAN_OPTIONS="detect_leaks=0")
        r = B.run(B.with_hook(["ip", "netns", "exec", self.net.srv, "kea-dhcp4", "-t",
                               self.kea.conf], self.args.hook), check=False, env=env)
        expect(r.returncode == 0, "kea-dhcp4 -t: %s%s" % (r.stdout, r.stderr))
        # Then ours, which loads the hook with its parameters (docs/setting-up.md, step 2).
        check = os.path.join(os.path.dirname(self.args.hook), "kea-bsdp-check")
        if os.path.exists(check):
            r = B.kea_bsdp_check(self.args.hook, ["--json", self.kea.conf], env=env)
            expect(r.returncode == 0, "kea-bsdp-check: %s%s" % (r.stdout, r.stderr))
            images = json.loads(r.stdout)["arguments"]["images"]
            chains = {i["index"]: i["chain-url"] for i in images}
            expect(sorted(chains) == [1001, 1002, 1003, ESXI_INDEX], "catalogue %s" % chains)
            expect(chains[ESXI_INDEX] == "http://%s/esxi/mboot.efi" % B.SERVER_IP,
                   "ESXi set's chain URL %r" % chains[ESXI_INDEX])
        self.kea.log = os.path.join(self.state, "kea-dhcp4.log")   # the example's logger
        if not self.kea.start():
            raise Failure("kea-dhcp4 did not start:\n" + self.kea.text()[-2000:])

    def spawn(self, name, argv):
        out = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.net.srv] + argv, stdout=out,
                             stderr=subprocess.STDOUT)
        out.close()
        self.procs.append(p)
        return p

    def wait_port(self, proto, port, proc, name):
        """Bounded wait until the server namespace has the socket open."""
        for _ in range(50):
            expect(proc.poll() is None, "%s exited: %s" % (name, read(
                os.path.join(self.work, name + ".log"))))
            if B.listening(self.net.srv, proto, port):
                return
            time.sleep(0.1)
        raise Failure("%s is not listening on %d" % (name, port))

    def start_tftpd(self):
        text = template(read(os.path.join(EXAMPLES, "netboot-server", "tftpd-hpa")),
                        [("/srv/netboot", self.srv), (EX_IP, B.SERVER_IP)], "tftpd-hpa")
        conf = dict(re.findall(r'^(TFTP_\w+)="([^"]*)"', text, re.M))
        # What Debian's init script runs, in the foreground.
        argv = (["in.tftpd", "--foreground", "--listen", "--user", conf["TFTP_USERNAME"],
                 "--address", conf["TFTP_ADDRESS"]] + shlex.split(conf["TFTP_OPTIONS"]) +
                [conf["TFTP_DIRECTORY"]])
        self.tftp_root = conf["TFTP_DIRECTORY"]
        self.wait_port("u", 69, self.spawn("tftpd", argv), "tftpd")

    def start_httpd(self):
        unit = read(os.path.join(EXAMPLES, "netboot-server", "netboot-httpd.service"))
        line = [l for l in unit.splitlines() if l.startswith("ExecStart=")]
        expect(len(line) == 1, "netboot-httpd.service: one ExecStart= line")
        argv = shlex.split(template(line[0][len("ExecStart="):],
                                    [("/srv/netboot", self.srv), (EX_IP, B.SERVER_IP)],
                                    "netboot-httpd.service"))
        self.wait_port("t", 80, self.spawn("httpd", argv), "httpd")

    # ---- a Mac's fetches -------------------------------------------------------
    def curl(self, url, extra=()):
        out = os.path.join(self.work, "fetched")
        if os.path.exists(out):
            os.unlink(out)
        r = B.run(["ip", "netns", "exec", self.net.cli, "curl", "-sS", "--fail",
                   "--max-time", "20", "-o", out] + list(extra) + [url],
                  check=False, timeout=40)
        expect(r.returncode == 0, "curl %s: exit %d %s" % (url, r.returncode, r.stderr))
        return read(out, "rb")

    def tftp(self, server, path):
        """The file a TFTP client gets for exactly this request path."""
        return self.curl("tftp://%s/%s" % (server, urllib.parse.quote(path)))

    def select(self, index):
        r = B.run(["ip", "netns", "exec", self.net.cli, self.args.bsdpc, "-i",
                   self.net.cli_if, "--server", B.SERVER_IP, "--timeout", "2", "--json",
                   "--select", str(index)], check=False, timeout=30)
        expect(r.returncode == 0, "bsdpc --select %d: exit %d %s" % (index, r.returncode,
                                                                    r.stderr))
        s = json.loads(r.stdout)["select"]
        expect(s["result"] == "ack", "SELECT %d: %s" % (index, s["result"]))
        print("    SELECT %d: siaddr %s, file %r, root path %r" % (
            index, s["siaddr"], s["file"], s.get("root_path")))
        return s

    def same(self, got, path, what):
        want = read(path, "rb")
        expect(got == want, "%s: %d bytes (%s), %s has %d (%s)" % (
            what, len(got), sha(got), path, len(want), sha(want)))

    # ---- tests ---------------------------------------------------------------
    def test_netboot_http_set(self):
        s = self.select(1001)
        expect(s["siaddr"] == B.SERVER_IP, "siaddr %s" % s["siaddr"])
        # The booter: siaddr + file, relative to tftpd's root.
        booter = self.tftp(s["siaddr"], s["file"])
        self.same(booter, os.path.join(self.tftp_root, s["file"]), "booter over TFTP")
        expect(os.path.join(self.tftp_root, s["file"]) ==
               os.path.join(self.sets, "NetInstall 10.13.nbi", "i386", "booter"),
               "file %r is not the set's booter" % s["file"])
        # What the booter fetches next, from its own folder.
        kc = os.path.dirname(s["file"]) + "/x86_64/kernelcache"
        self.same(self.tftp(s["siaddr"], kc), os.path.join(self.tftp_root, kc),
                  "kernelcache over TFTP")
        # The disk image at exactly the root path, whole and by Range.
        dmg = os.path.join(self.sets, "NetInstall 10.13.nbi", "NetInstall.dmg")
        self.same(self.curl(s["root_path"]), dmg, "disk image over HTTP")
        part = self.curl(s["root_path"], ["--range", "3-9"])
        expect(part == read(dmg, "rb")[3:10], "Range 3-9 gave %r" % part)
        print("    TFTP %d + %d bytes, HTTP %d bytes (and a Range) as on disk" % (
            len(booter), os.path.getsize(os.path.join(self.tftp_root, kc)),
            os.path.getsize(dmg)))

    def test_netboot_nfs_set_matches_exports(self):
        s = self.select(1002)
        m = re.match(r"nfs:([0-9.]+):([^:]+):(.+)$", s["root_path"] or "")
        expect(m, "root path %r" % s["root_path"])
        host, export, rel = m.groups()
        expect(host == B.SERVER_IP, "NFS host %s" % host)
        lines = [l for l in template(read(os.path.join(EXAMPLES, "netboot-server", "exports")),
                                     [("/srv/netboot", self.srv)], "exports").splitlines()
                 if l.strip() and not l.startswith("#")]
        expect(len(lines) == 1, "exports: one export line")
        path, clients = lines[0].split(None, 1)
        expect(path == export, "exports shares %s, the root path mounts %s" % (path, export))
        expect(clients.startswith("198.18.0.0/24(") and "ro" in clients, "clients %s" % clients)
        expect(os.path.isfile(os.path.join(export, rel)), "%s not in the export" % rel)
        self.same(self.tftp(s["siaddr"], s["file"]), os.path.join(self.tftp_root, s["file"]),
                  "NFS set's booter over TFTP")

    def chain_url_from_ipxe(self):
        """iPXE's DHCPDISCOVER after the SELECT (user class iPXE, option 175):
        the file name of Kea's OFFER, or None when this build has no iPXE stage."""
        shim = "".join(read(p) for p in glob.glob(os.path.join(ROOT, "shim", "*.cc")))
        if "bsdp_responder_chain_url" not in shim:
            return None
        disc = B.dhcp_message(0x1a2b3c4d, self.net.cli_mac,
                              [(77, "iPXE"), (175, bytes([0x13, 1, 1])),
                               (55, bytes([1, 3, 6, 67, 175]))],
                              ciaddr="0.0.0.0", msgtype=1, flags=0x8000)
        got = B.probe(self.net, [disc], src_ip="0.0.0.0", timeout=2.0, expect=1)
        offers = [g for g in got if B.option(B.parse_options(g["data"]) or [], 53) == b"\x02"]
        expect(len(offers) == 1, "iPXE DISCOVER: %d offers" % len(offers))
        # iPXE takes option 67 first, then the file field: both must agree.
        file_field = offers[0]["data"][108:236].rstrip(b"\0").decode()
        opt67 = B.option(B.parse_options(offers[0]["data"]), 67)
        if opt67 is not None:
            expect(opt67.decode() == file_field or not file_field,
                   "option 67 %r, file %r" % (opt67, file_field))
            return opt67.decode()
        return file_field

    def test_esxi_chain(self):
        s = self.select(ESXI_INDEX)
        expect(s["file"] == "ESXi.nbi/i386/snponly.efi", "file %r" % s["file"])
        expect(not s.get("root_path"), "BootFileOnly set with a root path")
        # 1. The Mac's firmware TFTPs iPXE: Debian's snponly.efi, unchanged.
        self.same(self.tftp(s["siaddr"], s["file"]), SNPONLY, "snponly.efi over TFTP")
        # 2. iPXE asks DHCP again and is handed the set's ChainURL.
        plist = plistlib.loads(read(os.path.join(self.sets, "ESXi.nbi", "NBImageInfo.plist"),
                                    "rb"))
        url = self.chain_url_from_ipxe()
        if url is None:
            print("    no iPXE stage in this build: ChainURL taken from the set's plist")
            url = plist["ChainURL"]
        else:
            print("    iPXE DISCOVER -> file %r" % url)
            expect(url == plist["ChainURL"], "iPXE got %r, the plist says %r" % (
                url, plist["ChainURL"]))
        expect(url == "http://%s/esxi/mboot.efi" % B.SERVER_IP, "ChainURL %r" % url)
        # 3. iPXE chains mboot.efi over HTTP: the ISO's bootx64.efi.
        expect(self.curl(url) == self.iso_files["efi/boot/bootx64.efi"], "mboot.efi differs")
        # 4. mboot.efi reads 01-<mac>/boot.cfg beside itself.
        base = url.rsplit("/", 1)[0]
        macdir = "01-" + self.net.cli_mac.lower().replace(":", "-")
        cfg = self.curl("%s/%s/boot.cfg" % (base, macdir))
        self.same(cfg, os.path.join(self.srv, "esxi", macdir, "boot.cfg"), "boot.cfg")
        keys = dict(l.split("=", 1) for l in cfg.decode().splitlines() if "=" in l)
        # 5. The kernel and modules from prefix=, as mboot.efi builds the URLs.
        files = [keys["kernel"]] + [m.strip() for m in keys["modules"].split("---")]
        for rel in files:
            expect(not rel.startswith("/"), "boot.cfg names %r with a leading /" % rel)
            expect(self.curl(keys["prefix"] + "/" + rel) == self.iso_files[rel],
                   "%s differs" % rel)
        # 6. The installer fetches the kickstart named in kernelopt.
        m = re.fullmatch(r"ks=(\S+)", keys["kernelopt"])
        expect(m and m.group(1) == "%s/%s/ks.cfg" % (base, macdir),
               "kernelopt %r" % keys["kernelopt"])
        ks = self.curl(m.group(1))
        self.same(ks, os.path.join(self.srv, "esxi", macdir, "ks.cfg"), "ks.cfg")
        expect(b"vmaccepteula" in ks and self.net.cli_mac.lower().encode() in ks,
               "ks.cfg is not this Mac's kickstart")
        # Another Mac falls back to the interactive installer.
        other = self.curl(base + "/boot.cfg").decode()
        expect("kernelopt=runweasel\n" in other and "cdromBoot" not in other,
               "default boot.cfg: %r" % other)
        print("    snponly.efi (TFTP) -> %s -> %s/boot.cfg -> %d files -> %s" % (
            url, macdir, len(files), m.group(1)))

    def test_install_destdir(self):
        dest = os.path.join(self.work, "destdir")
        r = B.make(self.args.hook, "install", "DESTDIR=" + dest)
        expect(r.returncode == 0, "make install DESTDIR: %s%s" % (r.stdout, r.stderr[-2000:]))
        got = sorted(os.path.relpath(os.path.join(d, f), dest)
                     for d, _, fs in os.walk(dest) for f in fs)
        hooks = B.make_var("HOOKS_DIR").lstrip("/")
        prefix = B.make_var("PREFIX").lstrip("/")
        want = [hooks + "/libdhcp_bsdp.so", prefix + "/bin/bsdpc",
                prefix + "/bin/kea-bsdp-migrate",
                "etc/apparmor.d/local/usr.sbin.kea-dhcp4"] + [
                p.lstrip("/") for p in man_pages_installed()]
        if B.make_var("KEA_BSDP_CHECK"):
            want.append(prefix + "/bin/kea-bsdp-check")
        expect(got == sorted(want), "installed %s, want %s" % (got, sorted(want)))
        expect(os.path.isdir(os.path.join(dest, "var/lib/kea")), "no state directory")
        self.same(read(os.path.join(dest, hooks, "libdhcp_bsdp.so"), "rb"), self.args.hook,
                  "installed hook")
        local = read(os.path.join(dest, "etc/apparmor.d/local/usr.sbin.kea-dhcp4"))
        for rule in AA_RULES:
            expect(rule in local, "override lacks %r" % rule)
        print("    DESTDIR: %s" % ", ".join(got))

    def test_install_local_options(self):
        """tools/install-local.sh on a copy of /etc/apparmor.d: other paths, no
        _kea user, an operator's own rule kept, uninstall back to the bytes."""
        aa = os.path.join(self.work, "apparmor.d")
        os.makedirs(os.path.join(aa, "local"))
        profile = read("/etc/apparmor.d/usr.sbin.kea-dhcp4")   # kea-dhcp4-server's
        with open(os.path.join(aa, "usr.sbin.kea-dhcp4"), "w") as f:
            f.write(profile)
        mine = "  /srv/tftp/** r,   # the operator's own\n"
        with open(os.path.join(aa, "local", "usr.sbin.kea-dhcp4"), "w") as f:
            f.write(mine)
        state = os.path.join(self.work, "state-x")
        env = dict(os.environ, DESTDIR="", APPARMOR_DIR=aa, SETS_DIR="/data/net-boot/sets",
                   STATE_DIR=state, KEA_USER="bsdp-no-such-user", HOOKS_DIR="/usr/local/lib/kea")
        script = os.path.join(ROOT, "tools", "install-local.sh")
        for _ in range(2):
            r = B.run(["sh", script, "install"], check=False, env=env)
            expect(r.returncode == 0, "install-local.sh: %s%s" % (r.stdout, r.stderr))
        expect("no user bsdp-no-such-user" in r.stderr, "no word about the missing user")
        expect(os.path.isdir(state) and os.stat(state).st_uid == 0, "state directory")
        local = read(os.path.join(aa, "local", "usr.sbin.kea-dhcp4"))
        expect(local.startswith(mine) and local.count("# BEGIN kea-bsdp") == 1, local)
        for rule in ("/data/net-boot/sets/** r,", "owner %s/bsdp-bindings.csv* rw," % state,
                     "/usr/local/lib/kea/libdhcp_bsdp.so mr,"):
            expect(rule in local, "override lacks %r" % rule)
        expect("/srv/netboot" not in local, "default sets path left in the override")
        edited = read(os.path.join(aa, "usr.sbin.kea-dhcp4"))
        if "<local/usr.sbin.kea-dhcp4>" not in profile:
            lines = edited.rstrip("\n").splitlines()
            expect(lines[-2].strip() == "include if exists <local/usr.sbin.kea-dhcp4>" and
                   lines[-1] == "}", "include not before the closing brace: %s" % lines[-3:])
        else:
            expect(edited == profile, "a profile with its include was changed")
        r = B.run(["sh", script, "uninstall"], check=False, env=env)
        expect(r.returncode == 0, "uninstall: %s" % r.stderr)
        expect(read(os.path.join(aa, "local", "usr.sbin.kea-dhcp4")) == mine, "local not restored")
        expect(read(os.path.join(aa, "usr.sbin.kea-dhcp4")) == profile, "profile not restored")
        r = B.run(["sh", script, "install"], check=False, env=dict(env, SETS_DIR="/a b"))
        expect(r.returncode != 0 and "absolute path" in r.stderr, "a path with a space taken")

    def test_install_for_real(self):
        """A real `make install` (and again, and `make uninstall`); every file
        it touches is restored to its earlier bytes afterwards."""
        # Two suites at once would save each other's half-installed files.
        lock = open("/run/lock/kea-bsdp-install-test.lock", "w")
        for _ in range(600):
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.5)
        else:
            lock.close()
            raise Failure("another real install test holds the lock for 5 minutes")
        try:
            self.install_for_real()
        finally:
            lock.close()

    def install_for_real(self):
        """Once as on a machine without the apparmor package (install-local.sh
        must not need it), once with aa-enabled and apparmor_parser present
        (stand-ins: every reload is recorded, none reaches the kernel)."""
        stub_path, calls = B.apparmor_stubs(os.path.join(self.work, "apparmor-stubs"))
        self.install_uninstall_for_real(B.path_without_apparmor(), None)
        self.install_uninstall_for_real(stub_path, calls)
        # The first install adds our block, the uninstall takes it out.
        if os.path.exists("/etc/apparmor.d/usr.sbin.kea-dhcp4"):
            expect(len(calls()) == 2, "reloads: %s, want install and uninstall" % calls())
        print("    install, install, uninstall: without AppArmor's tools, then with them"
              " (%d reloads)" % len(calls()))

    def install_uninstall_for_real(self, path, calls):
        """make install twice and make uninstall with PATH; with calls (the
        stand-in parser's record) the reloads are checked too."""
        prefix = B.make_var("PREFIX")
        aa = "/etc/apparmor.d"
        # The AppArmor files last: touched[-2:] are restored, the rest removed.
        touched = [os.path.join(B.make_var("HOOKS_DIR"), "libdhcp_bsdp.so"),
                   prefix + "/bin/bsdpc", prefix + "/bin/kea-bsdp-check",
                   prefix + "/bin/kea-bsdp-migrate"] + \
            man_pages_installed() + [aa + "/local/usr.sbin.kea-dhcp4", aa + "/usr.sbin.kea-dhcp4"]
        saved = {p: read(p, "rb") if os.path.exists(p) else None for p in touched}
        state_existed = os.path.isdir("/var/lib/kea")
        # The man page folders (MANDIR/manN) the install may create.
        new_dirs = sorted({os.path.dirname(p) for p in man_pages_installed()
                           if not os.path.isdir(os.path.dirname(p))})
        env = dict(os.environ, PATH=path)

        def make(what):
            """make WHAT; with the stand-ins, one reload of the profile
            exactly when it or its override changed."""
            files = touched[-2:]
            old = [read(p, "rb") if os.path.exists(p) else None for p in files]
            before = len(calls()) if calls else 0
            r = B.make(self.args.hook, what, env=env)
            expect(r.returncode == 0, "make %s: %s%s" % (what, r.stdout, r.stderr[-2000:]))
            if not calls:
                return
            new = [read(p, "rb") if os.path.exists(p) else None for p in files]
            want = [["-r", "-T", "-W", files[1]]] if new != old and new[1] is not None else []
            got = calls()[before:]
            expect(got == want, "make %s: apparmor_parser calls %s, want %s" % (what, got, want))
        try:
            for _ in range(2):   # twice: the second run must change nothing
                make("install")
            local = read(aa + "/local/usr.sbin.kea-dhcp4")
            expect(local.count("# BEGIN kea-bsdp") == 1, "override block appended twice")
            if saved[aa + "/local/usr.sbin.kea-dhcp4"]:
                expect(local.startswith(saved[aa + "/local/usr.sbin.kea-dhcp4"].decode()),
                       "the operator's own override lines were changed")
            st = os.stat("/var/lib/kea")
            try:
                kea_uid = pwd.getpwnam("_kea").pw_uid
                expect(st.st_uid == kea_uid, "/var/lib/kea owned by uid %d" % st.st_uid)
            except KeyError:
                pass
            if os.path.exists(aa + "/usr.sbin.kea-dhcp4"):
                self.apparmor_check(aa)
            else:
                print("    no kea-dhcp4 AppArmor profile installed: rules not checked")
            make("uninstall")
            for p in touched[-2:]:
                if saved[p] is not None:
                    expect(read(p, "rb") == saved[p], "make uninstall left %s changed" % p)
            for p in touched[:-2]:
                expect(not os.path.exists(p), "make uninstall left %s" % p)
        finally:
            for p, data in saved.items():
                if data is None:
                    if os.path.exists(p):
                        os.unlink(p)
                elif not os.path.exists(p) or read(p, "rb") != data:
                    with open(p, "wb") as f:
                        f.write(data)
            for d in (["/var/lib/kea"] if not state_existed else []) + new_dirs:
                try:
                    os.rmdir(d)
                except OSError:
                    pass

    def apparmor_check(self, aa):
        """Our block in the override, rule by rule (always: this must not
        depend on what the machine has installed), and the profile's include
        of it; then the whole profile through apparmor_parser if installed."""
        profile = aa + "/usr.sbin.kea-dhcp4"
        lines = read(aa + "/local/usr.sbin.kea-dhcp4").splitlines()
        # The BEGIN marker line goes on with a note; only the lines between
        # the marker lines are rules.
        begin = [i for i, l in enumerate(lines) if l.startswith("# BEGIN kea-bsdp")]
        end = [i for i, l in enumerate(lines) if l == "# END kea-bsdp"]
        expect(len(begin) == 1 and len(end) == 1 and begin[0] < end[0],
               "markers at lines %s and %s" % (begin, end))
        rules = [l.strip() for l in lines[begin[0] + 1:end[0]]
                 if l.strip() and not l.strip().startswith("#")]
        bad = [r for r in rules if not AA_FILE_RULE.fullmatch(r)]
        expect(rules and not bad, "not AppArmor file rules: %s" % bad)
        for rule in AA_RULES + (EX_HOOK + " mr,",):
            expect(rule in rules, "the override block lacks %r" % rule)
        expect(re.search(r"(?m)^\s*#?include.*<local/usr\.sbin\.kea-dhcp4>", read(profile)),
               "%s does not include its local override" % profile)
        parser = shutil.which("apparmor_parser")
        if not parser:
            print("    apparmor_parser not installed: rules checked by hand only")
            return
        # -Q: parse and compile without loading (works without kernel support).
        r = B.run([parser, "-Q", "-K", profile], check=False)
        expect(r.returncode == 0, "apparmor_parser -Q: %s" % r.stderr)
        pre = B.run([parser, "-Q", "-K", "-p", profile], check=False).stdout
        for rule in AA_RULES:
            expect(rule in pre, "the loaded profile does not include %r" % rule)
        print("    apparmor_parser -Q: profile compiles and includes the kea-bsdp rules")

    # ---- runner ----------------------------------------------------------------
    def run(self):
        order = ["test_netboot_http_set", "test_netboot_nfs_set_matches_exports",
                 "test_esxi_chain", "test_install_destdir", "test_install_local_options",
                 "test_install_for_real"]
        assert sorted(order) == sorted(t for t in dir(self) if t.startswith("test_"))
        if self.args.k:
            order = [t for t in order if self.args.k in t]
        self.setup()
        for t in order:
            B.run_test(self, t)

    def cleanup(self):
        B.teardown(self.net, self.work, self.args.keep, procs=self.procs,
                   keas=[self.kea] if self.kea else [])


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("examples", Suite, args, ("kea-dhcp4", "in.tftpd", "busybox", "curl", "ip", "ss"))


if __name__ == "__main__":
    sys.exit(main())
