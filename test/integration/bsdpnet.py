# SPDX-License-Identifier: MPL-2.0
"""Network namespaces, kea-dhcp4 processes and raw DHCP packets for the
integration tests. Addresses come from 198.18.0.0/15 only. Every wait is
bounded; every process started here is stopped by its own PID."""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import types

SERVER_IP = "198.18.0.1"
CLIENT_IP = "198.18.0.10"
PREFIX = 24
MAGIC = b"\x63\x82\x53\x63"
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
STATE_HEADER = "hwaddr,image-id,selected-at,machine-number"
STATE_LINE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5},0x[0-9a-f]{8},[0-9]+,[1-9][0-9]*$")

sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
import make_sets  # noqa: E402

write_set = make_sets.write_set      # one set writer for every suite


def run(cmd, check=True, timeout=30, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kw)


# ---- what differs between Kea releases ------------------------------------
HOOKS_DIR = "/usr/lib/x86_64-linux-gnu/kea/hooks"
SINGLE_THREADED = False      # --single-threaded: every Kea.config says so
_kea_version = None


def kea_version():
    """The installed kea-dhcp4's version as a tuple, e.g. (2, 6, 3)."""
    global _kea_version
    if _kea_version is None:
        out = run(["kea-dhcp4", "-v"]).stdout.strip()
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", out)
        if not m:
            raise RuntimeError("kea-dhcp4 -v printed %r" % out)
        _kea_version = tuple(int(x) for x in m.groups())
    return _kea_version


def kea_checks_paths():
    """From 2.6.3 Kea refuses a hook library outside HOOKS_DIR and its own
    files outside its folders (CVE-2025-32801)."""
    return kea_version() >= (2, 6, 3)


def state_file_in_data_dir():
    """From 2.6.3 the hook's state-file follows Kea's rule for its own lease
    file: a bare name goes in Kea's data directory (KEA_DHCP_DATA_DIR), a
    path in another folder is refused. On 2.2 any path is taken as
    written."""
    return kea_checks_paths()


def kea_check_loads_hooks():
    """From 2.4 kea-dhcp4 has -T, which checks a configuration loading its
    hook libraries (calling load()); before, only -t, which does not."""
    return kea_version() >= (2, 4, 0)


def kea_multi_threaded_by_default():
    """From 2.4 kea-dhcp4 runs multi-threaded unless configured not to."""
    return kea_version() >= (2, 4, 0)


def kea_has_http_control_socket():
    """From 3.0 kea-dhcp4 serves its commands over HTTP itself (and
    deprecates kea-ctrl-agent); before, only the agent does, forwarding to
    kea-dhcp4's unix socket."""
    return kea_version() >= (3, 0, 0)


def kea_pgsql_is_a_hook():
    """From 3.0 Kea's PostgreSQL backend is a hook library
    (libdhcp_pgsql.so), which must be loaded for a PostgreSQL database."""
    return kea_version() >= (3, 0, 0)


def kea_passes_selected_subnet():
    """From 2.6 the hook learns the subnet Kea selected for a packet (from
    subnet4_select: pkt4_send's own "subnet4" is empty for an INFORM), so a
    pin in that subnet wins; on 2.2 the hook cannot read a subnet (its
    dhcpsrv/subnet.h does not build from Debian 12's kea-dev)."""
    return kea_version() >= (2, 6, 0)


def kea_answers_inform_without_subnet():
    """Kea 3.0 answers a broadcast INFORM on a link with no subnet of its
    own; 2.2 and 2.6 drop it."""
    return kea_version() >= (3, 0, 0)


def kea_env(folder, data_dir=None):
    """kea-dhcp4's environment for a test: its pid and lock files, its data
    directory, and (from 2.6.3) its logs and control sockets, in folder,
    which must then be mode 0750 (2.6.3 wants exactly that). data_dir:
    Kea's data directory (where the hook's state file must be from 2.6.3)
    when not folder."""
    # KEA_DHCP_DATA_DIR on every version: 2.2 ignores it, the hook's
    # files there (the bindings database's spill file) follow it.
    env = dict(os.environ, KEA_PIDFILE_DIR=folder, KEA_LOCKFILE_DIR=folder,
               KEA_DHCP_DATA_DIR=data_dir or folder)
    if kea_checks_paths():
        os.chmod(folder, 0o750)
        env.update(KEA_LOG_FILE_DIR=folder, KEA_CONTROL_SOCKET_DIR=folder)
    return env


INSTALLED_HOOK = os.path.join(HOOKS_DIR, "libdhcp_bsdp.so")


def hook_library(path):
    """The "library" a test's configuration names for the hook built at
    path: path itself where Kea loads any path (2.2); else the installed
    path, which with_hook() makes that build for one command. Kea 2.6.3
    and 3.0.4 refuse a library outside HOOKS_DIR; KEA_HOOKS_PATH set to the
    build's folder lifts that (seen with -t on both) and -X (3.0 only)
    turns it off, but this way every configuration is the one operators
    write and nothing that reads one needs to know more."""
    return INSTALLED_HOOK if kea_checks_paths() else path


def with_hook(argv, hook):
    """argv run so that hook_library(hook) is hook: from 2.6.3 in a private
    mount namespace where a folder next to the build, holding only
    libdhcp_bsdp.so (a link to hook), covers HOOKS_DIR. Nothing is
    installed, suites side by side each see their own build, whoever may
    read the build may load it, and exec keeps the PID the command's."""
    if not kea_checks_paths():
        return list(argv)
    hook = os.path.abspath(hook)
    over = os.path.join(os.path.dirname(hook), "kea-hooks")
    _link(over, "libdhcp_bsdp.so", hook)
    # Kea's own libraries (libdhcp_ha.so...) stay where a configuration
    # names them: the real HOOKS_DIR is mounted on over/.kea first, and
    # over holds a link into it for each.
    os.makedirs(os.path.join(over, ".kea"), exist_ok=True)
    for name in os.listdir(HOOKS_DIR):
        if name.endswith(".so") and name != "libdhcp_bsdp.so":
            _link(over, name, os.path.join(".kea", name))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
            'mount --bind "$1" "$0/.kea"; mount --rbind "$0" "$1"; shift; exec "$@"',
            over, HOOKS_DIR] + list(argv)


def _link(folder, name, target):
    """folder/name a symbolic link to target, replaced whole (suites side
    by side) unless it already is one."""
    link = os.path.join(folder, name)
    if os.path.islink(link) and os.readlink(link) == target:
        return
    os.makedirs(folder, exist_ok=True)
    tmp = "%s.%d" % (link, os.getpid())
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.rename(tmp, link)


def reachable_by_others(path):
    """Whether another user may reach path: every folder above it lets
    others through."""
    import stat
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
        up = os.path.dirname(d)
        if up == d:
            return True
        d = up


_public_hooks = {}


def public_hook(hook):
    """A path of hook that another user (nobody) may load, with the
    kea-bsdp-check built beside it: hook itself, or when a folder above it
    is closed to others (a clone in root's home) copies of both in a folder
    under /tmp any user may enter, removed at exit."""
    hook = os.path.abspath(hook)
    if reachable_by_others(hook):
        return hook
    if hook not in _public_hooks:
        import atexit
        import tempfile
        d = tempfile.mkdtemp(prefix="bsdp-public-build-", dir="/tmp")
        atexit.register(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        for name in (os.path.basename(hook), "kea-bsdp-check"):
            shutil.copy2(os.path.join(os.path.dirname(hook), name), d)
        _public_hooks[hook] = os.path.join(d, os.path.basename(hook))
    return _public_hooks[hook]


def kea_bsdp_check(hook, args, user=None, env=None, data_dir=None):
    """The kea-bsdp-check built next to hook, with args, as user (a uid)
    if given, seeing hook as the installed library (with_hook), with Kea's
    data directory data_dir (from 2.6.3; else the compiled-in one). As
    another user both come from public_hook: name public_hook(hook) in the
    configuration."""
    if user is not None:
        hook = public_hook(hook)
    cmd = [os.path.join(os.path.dirname(hook), "kea-bsdp-check")] + list(args)
    if data_dir and state_file_in_data_dir():
        env = dict(env or os.environ, KEA_DHCP_DATA_DIR=data_dir)
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    return run(with_hook(cmd, hook), check=False, timeout=60, env=env)


class Net:
    """Two namespaces joined by a veth pair: server (198.18.0.1) and client
    (198.18.0.10)."""

    def __init__(self, tag):
        tag = tag[-6:]
        self.srv = "bsdp-s-" + tag
        self.cli = "bsdp-c-" + tag
        self.srv_if = "bs%ss" % tag
        self.cli_if = "bs%sc" % tag
        self.created = []
        self._prober = None

    def prober(self):
        """The client namespace's persistent probe.py, started on first use."""
        if self._prober is None or self._prober.proc.poll() is not None:
            self._prober = Prober(self)
        return self._prober

    def up(self):
        for ns in (self.srv, self.cli):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", self.srv_if, "netns", self.srv, "type", "veth",
             "peer", "name", self.cli_if, "netns", self.cli])
        run(["ip", "-n", self.srv, "addr", "add", "%s/%d" % (SERVER_IP, PREFIX), "dev", self.srv_if])
        run(["ip", "-n", self.cli, "addr", "add", "%s/%d" % (CLIENT_IP, PREFIX), "dev", self.cli_if])
        run(["ip", "-n", self.srv, "link", "set", self.srv_if, "up"])
        run(["ip", "-n", self.cli, "link", "set", self.cli_if, "up"])
        self.srv_mac = self.mac(self.srv, self.srv_if)
        self.cli_mac = self.mac(self.cli, self.cli_if)
        # Let the links settle (bounded).
        for _ in range(50):
            out = run(["ip", "-n", self.cli, "-j", "addr", "show", self.cli_if]).stdout
            if '"tentative"' not in out and "LOWER_UP" in run(
                    ["ip", "-n", self.cli, "link", "show", self.cli_if]).stdout:
                break
            time.sleep(0.1)

    @staticmethod
    def mac(ns, ifname):
        info = json.loads(run(["ip", "-n", ns, "-j", "link", "show", ifname]).stdout)
        return info[0]["address"]

    def down(self):
        if self._prober is not None:
            self._prober.close()
            self._prober = None
        for ns in reversed(self.created):
            run(["ip", "netns", "del", ns], check=False)
        self.created = []


class SwitchedNet(Net):
    """Several servers and a client on one Ethernet, so that one broadcast
    reaches every server: a bridge in a switch namespace with a veth to
    each server namespace (198.18.0.1, .2, ...) and one to the client
    (198.18.0.10). servers[i] has what Kea needs of a Net (srv, srv_if),
    and ip and mac; srv, srv_if and srv_mac are the first server's."""

    def __init__(self, tag, servers=2):
        Net.__init__(self, tag)
        tag = tag[-6:]
        self.sw = "bsdp-w-" + tag
        self.servers = []
        for i in range(servers):
            self.servers.append(types.SimpleNamespace(
                srv="bsdp-s%d-%s" % (i + 1, tag), srv_if="bs%ss%d" % (tag, i + 1),
                ip="198.18.0.%d" % (i + 1), mac=None))
        self.srv, self.srv_if = self.servers[0].srv, self.servers[0].srv_if

    def up(self):
        for ns in [self.sw, self.cli] + [s.srv for s in self.servers]:
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # No STP: ports forward as soon as they are up.
        run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge", "stp_state", "0",
             "forward_delay", "0"])
        run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        ends = [(s.srv, s.srv_if, s.ip) for s in self.servers] + [(self.cli, self.cli_if, CLIENT_IP)]
        for n, (ns, ifname, ip) in enumerate(ends):
            port = "%sp%d" % (ifname[:10], n)
            run(["ip", "link", "add", port, "netns", self.sw, "type", "veth",
                 "peer", "name", ifname, "netns", ns])
            run(["ip", "-n", self.sw, "link", "set", port, "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", "%s/%d" % (ip, PREFIX), "dev", ifname])
            run(["ip", "-n", ns, "link", "set", ifname, "up"])
        for s in self.servers:
            s.mac = self.mac(s.srv, s.srv_if)
        self.srv_mac = self.servers[0].mac
        self.cli_mac = self.mac(self.cli, self.cli_if)
        # Every end up and the bridge forwarding to it (bounded).
        def ready():
            ports = [l for l in run(["bridge", "-n", self.sw, "link", "show"]).stdout.splitlines()
                     if l.strip()]
            return (len(ports) == len(ends) and all("state forwarding" in l for l in ports) and
                    all("LOWER_UP" in run(["ip", "-n", ns, "link", "show", ifname]).stdout
                        for ns, ifname, _ in ends))
        if not wait_until(ready, timeout=5.0, step=0.1):
            raise Failure("the bridge in %s did not come up: %s" % (
                self.sw, run(["bridge", "-n", self.sw, "link", "show"]).stdout))


class Kea:
    """One kea-dhcp4 in the server namespace."""

    def __init__(self, net, workdir, name):
        self.net = net
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "kea-dhcp4.conf")
        self.log = os.path.join(self.dir, "kea.log")
        self.out = os.path.join(self.dir, "stdout.log")
        self.files = self.dir     # where Kea may keep its logs, sockets, leases
        self.hook = None          # the hook build its configuration loads
        self.proc = None
        # Kea's data directory (from 2.6.3 the state file must be there):
        # data_dir when a test sets it, else the folder of the configured
        # state-file, as an operator's Kea has it, else files.
        self.data_dir = None
        self.state_dir = None

    def config(self, hook=None, params=None, subnet=True, mt=None, extra_hooks=(),
               hooks_before=()):
        """mt: None for the suite's threading (this Kea's default, or single
        with --single-threaded), True or False to say. hooks_before and
        extra_hooks: hooks-libraries entries before and after ours."""
        if mt is None:
            mt = False if SINGLE_THREADED else None
        d = {
            "interfaces-config": {"interfaces": [self.net.srv_if], "dhcp-socket-type": "raw"},
            "lease-database": {"type": "memfile", "persist": False},
            "control-socket": {"socket-type": "unix",
                               "socket-name": os.path.join(self.dir, "kea4.sock")},
            "option-data": [{"name": "domain-name", "data": "bsdp.test"}],
            "subnet4": [],
            "hooks-libraries": [],
            "loggers": [
                {"name": "kea-dhcp4", "severity": "INFO",
                 "output_options": [{"output": self.log}]},
                {"name": "kea-dhcp4.bsdp", "severity": "DEBUG", "debuglevel": 99,
                 "output_options": [{"output": self.log}]},
            ],
        }
        if mt is not None:
            d["multi-threading"] = {"enable-multi-threading": mt}
            if mt:
                d["multi-threading"].update({"thread-pool-size": 2, "packet-queue-size": 64})
        if subnet:
            d["subnet4"].append({"id": 1, "subnet": "198.18.0.0/24"})
        self.hook = hook
        state = (params or {}).get("state-file")
        self.state_dir = (os.path.dirname(state) if isinstance(state, str) and
                          os.path.isabs(state) else None)
        d["hooks-libraries"].extend(hooks_before)
        if hook:
            d["hooks-libraries"].append({"library": hook_library(hook),
                                         "parameters": params or {}})
        d["hooks-libraries"].extend(extra_hooks)
        with open(self.conf, "w") as f:
            json.dump({"Dhcp4": d}, f, indent=2)

    def env(self):
        """kea_env() for this kea-dhcp4, its data directory included."""
        return kea_env(self.files, self.data_dir or self.state_dir)

    def start(self, expect_ok=True, timeout=10.0):
        env = self.env()
        preload = os.environ.get("BSDP_SANITIZER_PRELOAD")
        if preload:
            # A hook built with SANITIZE=1 needs its runtime loaded first; an
            # error aborts kea-dhcp4 (so tests fail) and leaves a report here.
            env["LD_PRELOAD"] = preload
            env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1:log_path=%s" % (
                os.path.join(self.dir, "asan"))
            env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:log_path=%s" % (
                os.path.join(self.dir, "ubsan"))
        for p in (self.log,):
            if os.path.exists(p):
                os.unlink(p)
        out = open(self.out, "w")
        argv = ["ip", "netns", "exec", self.net.srv, "kea-dhcp4", "-c", self.conf]
        if self.hook:
            argv = with_hook(argv, self.hook)
        self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            # Its DHCP socket is bound right before this line.
            if "DHCP4_STARTED" in self.text():
                return wait_until(lambda: listening(self.net.srv, "u", 67),
                                  max(0.5, deadline - time.monotonic()))
            time.sleep(0.1)
        return False

    def start_checked(self):
        """start(), or Failure with the end of the log."""
        if not self.start():
            raise Failure("kea-dhcp4 %s did not start:\n%s" % (self.dir, self.text()[-2000:]))
        return True

    def lines(self, pattern, timeout=0.0):
        """The log lines matching a regex, waiting up to timeout for one."""
        return wait_until(lambda: [l for l in self.text().splitlines() if re.search(pattern, l)],
                          timeout)

    def wait_exit(self, timeout=10.0):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def text(self):
        s = ""
        for p in (self.log, self.out):
            try:
                with open(p, errors="replace") as f:
                    s += f.read()
            except OSError:
                pass
        return s

    def sanitizer_reports(self):
        """Text of every ASan/UBSan report kea-dhcp4 left, or ""."""
        out = ""
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()
        return out

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None


def start_kea(kea, work, no_dac=False):
    """kea.start(); no_dac: without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH,
    so file modes bind it as they bind Debian's _kea (root ignores chmod
    otherwise), through a wrapper in work."""
    import shutil
    old_path = os.environ["PATH"]
    if no_dac:
        wrap = os.path.join(work, "no-dac")
        os.makedirs(wrap, exist_ok=True)
        with open(os.path.join(wrap, "kea-dhcp4"), "w") as f:
            # exec keeps the PID: kea.proc.pid stays kea-dhcp4's.
            f.write("#!/bin/sh\nexec setpriv --bounding-set -dac_override,-dac_read_search "
                    "%s \"$@\"\n" % shutil.which("kea-dhcp4"))
        os.chmod(os.path.join(wrap, "kea-dhcp4"), 0o755)
        os.environ["PATH"] = wrap + ":" + old_path
    try:
        return kea.start()
    finally:
        os.environ["PATH"] = old_path


# ---- DHCP messages --------------------------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_bytes(ip):
    return bytes(int(x) for x in ip.split("."))


def dhcp_message(xid, chaddr, options, ciaddr=CLIENT_IP, giaddr="0.0.0.0", hops=0,
                 msgtype=8, op=1, flags=0):
    """A BOOTP request with options [(code, bytes)] after option 53."""
    hdr = struct.pack("!BBBBIHH", op, 1, 6, hops, xid, 0, flags)
    hdr += ip_bytes(ciaddr) + ip_bytes("0.0.0.0") + ip_bytes("0.0.0.0") + ip_bytes(giaddr)
    hdr += mac_bytes(chaddr) + bytes(10) + bytes(64) + bytes(128) + MAGIC
    opts = bytes([53, 1, msgtype])
    for code, value in options:
        if isinstance(value, str):
            value = value.encode()
        opts += bytes([code, len(value)]) + value
    return hdr + opts + b"\xff"


def bsdp_list(version=0x0101, extra=b""):
    return bytes([1, 1, 1, 2, 2, version >> 8, version & 0xff]) + extra


def bsdp_select(server, image_id, extra=b""):
    return (bytes([1, 1, 2, 2, 2, 1, 1, 3, 4]) + ip_bytes(server) + bytes([8, 4]) +
            struct.pack("!I", image_id) + extra)


def image_id(index, install=False, kind=1):
    return ((0x80 if install else 0) | kind) << 24 | index


def _tlvs(buf, at, need_end):
    """[(code, payload)] from buf[at:], PAD skipped, up to END; None when a
    TLV runs past the end, or when need_end and there is no END."""
    out = []
    while at < len(buf):
        code = buf[at]
        if code == 0:
            at += 1
            continue
        if code == 255:
            return out
        if at + 2 > len(buf) or at + 2 + buf[at + 1] > len(buf):
            return None
        out.append((code, buf[at + 2:at + 2 + buf[at + 1]]))
        at += 2 + buf[at + 1]
    return None if need_end else out


def parse_options(msg):
    """[(code, payload)] of a DHCP message, or None when malformed."""
    if len(msg) < 241 or msg[236:240] != MAGIC:
        return None
    return _tlvs(msg, 240, need_end=True)


def option(opts, code):
    for c, v in opts:
        if c == code:
            return v
    return None


def suboptions(block):
    """Sub-options of one option-43 instance; None when one runs past its end."""
    return _tlvs(block, 0, need_end=False)


def decode_bsdp(opts):
    """Apple's way: each instance parsed on its own, lists joined."""
    blocks = [v for c, v in opts if c == 43]
    subs = []
    for b in blocks:
        s = suboptions(b)
        if s is None:
            return None
        subs.extend(s)
    r = {"blocks": [len(b) for b in blocks], "images": []}
    for code, v in subs:
        if code == 9:
            at = 0
            while at < len(v):
                if at + 5 > len(v) or at + 5 + v[at + 4] > len(v):
                    return None
                r["images"].append((struct.unpack("!I", v[at:at + 4])[0],
                                    v[at + 5:at + 5 + v[at + 4]].decode("utf-8")))
                at += 5 + v[at + 4]
        elif code not in r:
            r[code] = v
    return r


class Prober:
    """One probe.py --serve in the client namespace for the life of a Net:
    its raw socket stays open, so a probe costs no process start (and no
    scapy import) and returns once the replies it waits for are in."""

    def __init__(self, net):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", net.cli, PYTHON, os.path.join(HERE, "probe.py"), "--serve",
             net.cli_if], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1)
        self.returned_early = None   # (xids, listen, sent, timeout) of the last early return
        self.answer(30.0)

    def answer(self, timeout):
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if r else ""
        if not line:
            self.close()
            raise Failure("probe.py ended or gave no answer within %.0f s: %s" % (
                timeout, self.proc.stderr.read()))
        return json.loads(line)

    def ask(self, spec):
        try:
            self.proc.stdin.write(json.dumps(spec) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass                     # answer() reports why it is gone
        a = self.answer(60 + spec["timeout"])
        early, self.returned_early = self.returned_early, None
        if early:
            # What the old probe's full window would have caught: a reply to
            # one of its packets after it returned, but inside its timeout.
            xids, listen, sent, timeout = early
            extra = [g for g in a["late"] if g["dport"] in listen and g["data"][8:16] in xids and
                     g["t"] <= sent + timeout]
            if extra:
                raise Failure("a reply arrived after the probe had all it expected: %s" %
                              [(g["src"], g["dport"], g["data"][8:16]) for g in extra])
        got = a["got"]
        want = spec.get("expect")
        xids = {p[8:16] for p in spec["payloads"]}
        if want and sum(g["data"][8:16] in xids for g in got) >= want:
            self.returned_early = (xids, set(spec["listen"]), a["sent"], spec["timeout"])
        return got

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def bsdp_inform(xid, chaddr, opt43, vendor="AAPLBSDPC/i386/MacBookPro11,1", extra=(), **kw):
    """A Mac's INFORM: parameter request list, vendor class (None: none),
    option 43 (None: none), then extra [(code, bytes)]."""
    opts = [(55, bytes([1, 3, 43, 60]))]
    if vendor is not None:
        opts.append((60, vendor))
    if opt43 is not None:
        opts.append((43, opt43))
    opts.extend(extra)
    return dhcp_message(xid, chaddr, opts, **kw)


def probe(net, payloads, dst_ip="255.255.255.255", sport=68, dport=67, listen=(68,),
          timeout=1.5, src_ip=CLIENT_IP, expect=None, settle=0.1):
    """Sends raw UDP payloads from the client namespace and returns the UDP
    payloads that arrive there for the listened ports, as
    [{"sport", "dport", "src", "dst", "ip_len", "data" (bytes)}].
    expect=N: return settle seconds after N replies carrying the xid of a
    sent payload arrived, rather than at timeout; a further reply that
    arrives within timeout fails the next probe on this Net. Without
    expect (a test that wants no reply) it listens for the whole timeout."""
    spec = {"iface": net.cli_if, "src_mac": net.cli_mac,
            "dst_mac": "ff:ff:ff:ff:ff:ff" if dst_ip.endswith(".255") else net.srv_mac,
            "src_ip": src_ip, "dst_ip": dst_ip, "sport": sport, "dport": dport,
            "listen": list(listen), "timeout": timeout, "expect": expect, "settle": settle,
            "payloads": [p.hex() for p in payloads]}
    got = net.prober().ask(spec)
    for g in got:
        g["data"] = bytes.fromhex(g["data"])
        del g["t"]
    return got


def suite_arguments():
    """The command line every test script shares: --hook, --bsdpc, -k and
    --keep. fast_path is False unless a script adds --fast-path, so that
    code shared between suites reads it the same way."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--hook", required=True)
    ap.add_argument("--bsdpc", required=True)
    ap.add_argument("-k", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--single-threaded", action="store_true",
                    help="kea-dhcp4 single-threaded (default: that version's default)")
    ap.set_defaults(fast_path=False)
    return ap


def run_suite(name, suite_class, args, tools):
    """Runs a suite object (run(), cleanup(), passed, failed) as every test
    script does: root and tools checked first, SIGTERM turned into a clean
    stop, cleanup always, and a last line `NAME: N passed, M failed`.
    Returns the exit code."""
    import shutil
    import signal as _signal
    import traceback
    if os.geteuid() != 0:
        print("%s: needs root (network namespaces)" % name)
        print("%s: 0 passed, 1 failed" % name)
        return 1
    for tool in tools:
        if not shutil.which(tool):
            print("%s: %s not installed (make deps)" % (name, tool))
            print("%s: 0 passed, 1 failed" % name)
            return 1

    global SINGLE_THREADED
    SINGLE_THREADED = args.single_threaded
    print("%s: Kea %s, %s" % (name, ".".join(map(str, kea_version())),
                              "single-threaded" if SINGLE_THREADED else "its default threading"))

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    _signal.signal(_signal.SIGTERM, on_signal)
    suite = suite_class(args)
    try:
        suite.run()
    except KeyboardInterrupt:
        print("%s: interrupted" % name)
        suite.failed += 1
    except Exception:
        traceback.print_exc()
        suite.failed += 1
    finally:
        suite.cleanup()
    # A suite may skip tests it cannot run on this release: it counts them
    # in suite.skipped, and the closing line says so.
    skipped = getattr(suite, "skipped", 0)
    print("%s: %d passed, %d failed%s" % (name, suite.passed, suite.failed,
                                          ", %d skipped" % skipped if skipped else ""))
    return 1 if suite.failed else 0


class Failure(Exception):
    """A test's expectation that did not hold."""


def expect(cond, what):
    if not cond:
        raise Failure(what)


def run_test(suite, name, after=None):
    """Runs suite.NAME(), prints PASS or FAIL with the time taken, counts it
    in suite.passed/failed, and calls after() whatever happened."""
    import traceback
    t0 = time.monotonic()
    try:
        getattr(suite, name)()
        print("PASS %s (%.1f s)" % (name[5:], time.monotonic() - t0))
        suite.passed += 1
    except Failure as e:
        print("FAIL %s: %s" % (name[5:], e))
        suite.failed += 1
    except Exception:
        print("FAIL %s: %s" % (name[5:], traceback.format_exc()))
        suite.failed += 1
    finally:
        if after:
            after()
    sys.stdout.flush()


def control_command(sock_path, name, arguments=None, timeout=30.0):
    """One command over kea-dhcp4's unix control socket; the answer map.
    Reads until the answer parses as JSON, bounded by timeout."""
    import socket
    req = {"command": name}
    if arguments is not None:
        req["arguments"] = arguments
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    data = b""
    try:
        s.connect(sock_path)
        s.sendall(json.dumps(req).encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            try:
                return json.loads(data)
            except ValueError:
                continue
    finally:
        s.close()
    try:
        return json.loads(data)
    except ValueError:
        raise Failure("%s: no JSON answer: %r" % (name, data[:500]))



def statistic(kea, name, default=None):
    """The value of one of kea-dhcp4's statistics, asked over its control
    socket (kea4.sock in its folder); default when it has none."""
    a = control_command(os.path.join(kea.dir, "kea4.sock"), "statistic-get", {"name": name})
    v = a.get("arguments", {}).get(name)
    return v[0][0] if v else default

def wait_until(pred, timeout=5.0, step=0.05):
    """pred()'s first true value, polled every step seconds; after timeout
    its last (false) one."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def listening(ns, proto, port):
    """Whether a socket in namespace ns is bound to port (proto "u" for
    UDP, "t" for TCP listening)."""
    return bool(run(["ip", "netns", "exec", ns, "ss", "-lnH" + proto, "sport", "= :%d" % port],
                    check=False).stdout.strip())


def parse_state_bytes(raw, what):
    """{MAC: (image id, selected-at, machine number)} of a whole state file
    as the hook writes it, by the rules its loader applies
    (bsdp_state_load, bsdp_state_parse_line): the header first, then lines
    of at most 128 bytes with exactly 4 fields (a MAC, a 32-bit image id
    whose index is not 0 unless the id is 0, seconds, a machine number from
    1 to 2^32-2), each ending in a newline, and no MAC twice. Failure
    otherwise: the writer must never leave a torn file."""
    expect(raw.endswith(b"\n"), "%s does not end with a newline: %r" % (what, raw[-80:]))
    try:
        lines = raw.decode("ascii").split("\n")[:-1]
    except UnicodeDecodeError as e:
        raise Failure("%s is not ASCII: %s" % (what, e))
    expect(lines and lines[0] == STATE_HEADER, "%s: header %r" % (what, lines[:1]))
    out = {}
    for n, line in enumerate(lines[1:], 2):
        bad = "%s line %d: %%s: %%r" % (what, n)
        expect(len(line) + 1 <= 128, bad % ("longer than 128 bytes", line))
        expect(STATE_LINE.match(line), bad % ("not hwaddr,image-id,selected-at,machine-number",
                                              line))
        mac, iid, when, number = line.split(",")
        iid, when, number = int(iid, 16), int(when), int(number)
        expect(iid == 0 or iid & 0xffff, bad % ("image index 0", line))
        expect(when < 1 << 63 and number <= 0xfffffffe, bad % ("out of range", line))
        expect(mac not in out, bad % ("MAC twice", line))
        out[mac] = (iid, when, number)
    return out


def parse_state(path):
    """parse_state_bytes of the file at path."""
    with open(path, "rb") as f:
        return parse_state_bytes(f.read(), "state file %s" % path)


def stop_keas(keas):
    """Stops every kea-dhcp4 of a list, whatever one of them does."""
    for k in keas:
        try:
            k.stop()
        except Exception:
            pass


def teardown(net, work, keep, procs=(), keas=(), mounts=()):
    """What every suite does last: its processes stopped by PID, its
    kea-dhcp4s, mounts and namespaces gone, the work folder removed unless
    kept (made writable first: tests take permissions away)."""
    stop_processes(procs)
    stop_keas(keas)
    for m in mounts:
        run(["umount", "-l", m], check=False)
    net.down()
    if keep:
        print("kept %s" % work)
    else:
        subprocess.run(["chmod", "-R", "u+rwx", work], check=False)
        shutil.rmtree(work, ignore_errors=True)


def stop_processes(procs):
    """Stops the processes a test started, by PID: SIGTERM, then SIGKILL
    after 5 s; each wait bounded."""
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


# ---- make in the source tree, AppArmor's tools present or absent -----------
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
APPARMOR_TOOLS = ("aa-enabled", "apparmor_parser")


def make(hook, *args, env=None):
    """make in the source tree with the BUILD that holds HOOK, so it finds its
    objects up to date, and with the flags they were built with, should it
    relink anything."""
    build = os.path.relpath(os.path.dirname(hook), ROOT)
    san = ["SANITIZE=1"] if os.environ.get("BSDP_SANITIZER_PRELOAD") else []
    return run(["make", "--no-print-directory", "-C", ROOT, "BUILD=" + build] + san + list(args),
               check=False, timeout=600, env=env)


def make_var(name):
    r = run(["make", "--no-print-directory", "-s", "-C", ROOT, "--eval",
             "print-var-%: ; @echo $($*)", "print-var-" + name], check=False)
    return r.stdout.strip()


def apparmor_stubs(folder):
    """Stand-ins for AppArmor's tools in FOLDER, to go first on PATH:
    aa-enabled says AppArmor is enforcing, apparmor_parser records its
    arguments. Returns (that PATH, a function that gives the parser's calls
    so far, each a list of arguments)."""
    calls = os.path.join(folder, "apparmor_parser.calls")
    os.makedirs(folder, exist_ok=True)
    stubs = {"aa-enabled": "exit 0\n",
             # One line a call, arguments separated by tabs.
             "apparmor_parser": "(IFS='\t'; echo \"$*\") >>'%s'\n" % calls}
    for tool, body in stubs.items():
        path = os.path.join(folder, tool)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)

    def parser_calls():
        if not os.path.exists(calls):
            return []
        with open(calls) as f:
            return [line.rstrip("\n").split("\t") for line in f]
    return folder + os.pathsep + os.environ["PATH"], parser_calls


def path_without_apparmor():
    """PATH without the folders that hold AppArmor's tools, as on a machine
    without the apparmor package (Debian 12's default)."""
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                           if not any(os.path.exists(os.path.join(d, t)) for t in APPARMOR_TOOLS))
