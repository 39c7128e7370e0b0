#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Every tool's --help (and -h) goes to stdout with exit status 0 and
nothing on stderr; a usage error goes to stderr with exit status 2 and
nothing on stdout. bsdpc's help says it needs root (it binds UDP port 68).
bsdp-load's --mac-file refuses a malformed list before sending anything,
naming the line. kea-bsdp-migrate's exit status tells found (0), broken (1,
file:line) and no BSDP (3) apart.

usage: tools_help_test.py BUILD_DIR   (make check runs it; no root needed)"""
import os
import subprocess
import sys
import tempfile

TOOLS = ("bsdpc", "bsdp-load", "kea-bsdp-check", "kea-bsdp-migrate")
# What each help text must say besides its usage line.
MUST_SAY = {"bsdpc": ("root", "port 68")}


def run(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def check_tool(path):
    """The problems found with one tool, as text lines."""
    name = os.path.basename(path)
    bad = []
    for flag in ("--help", "-h"):
        rc, out, err = run([path, flag])
        if rc != 0 or not out.startswith("usage: " + name) or err:
            bad.append("%s %s: exit %d, stdout %r, stderr %r" % (name, flag, rc, out[:80],
                                                                 err[:200]))
        for word in MUST_SAY.get(name, ()):
            if word not in out:
                bad.append("%s %s does not say '%s'" % (name, flag, word))
    rc, out, err = run([path, "--no-such-option"])
    if rc != 2 or out or "usage" not in err:
        bad.append("%s --no-such-option: exit %d, stdout %r, stderr %r" % (name, rc, out[:80],
                                                                          err[:200]))
    return bad


def check_mac_file(path):
    """bsdp-load --mac-file: a bad line is a usage error naming file and line
    (the server address is never reached: no packet leaves)."""
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = (("06:00:00:00:00:01\n\n06:00:00:00:00:0g\n", ":3: not a MAC"),
                 ("06:00:00:00:00:01:02\n", ":1: not a MAC"),
                 ("\n\n", "no MACs"))
        for i, (text, want) in enumerate(cases):
            macs = os.path.join(tmp, "macs%d" % i)
            with open(macs, "w") as f:
                f.write(text)
            rc, out, err = run([path, "--server", "198.18.0.1", "--mac-file", macs])
            if rc != 2 or out or want not in err:
                bad.append("bsdp-load --mac-file %r: exit %d, stdout %r, stderr %r, want %r" %
                           (text, rc, out[:80], err[:200], want))
    return bad


def check_migrate(path):
    """kea-bsdp-migrate's exit status: 0 BSDP found (printed), 3 none,
    1 broken input with file:line on stderr and nothing on stdout."""
    bad = []
    here = os.path.dirname(os.path.abspath(__file__))
    rc, out, err = run([path, os.path.join(here, "migrate", "seed003.conf")])
    if rc != 0 or err or 'image 81:00:03:60 index 864 kind 1 (Mac OS X) install yes name "Install 10"' not in out:
        bad.append("kea-bsdp-migrate seed003.conf: exit %d, stdout %r, stderr %r" % (rc, out[:200], err[:200]))
    rc, out, err = run([path, os.path.join(here, "migrate", "nobsdp.conf")])
    if rc != 3 or err or "no BSDP" not in out:
        bad.append("kea-bsdp-migrate nobsdp.conf: exit %d, stdout %r, stderr %r" % (rc, out[:200], err[:200]))
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "dhcpd.conf")
        with open(conf, "w") as f:
            f.write('ddns-update-style none;\nclass "x" {\n  match if 1;\n')
        rc, out, err = run([path, conf])
        want = conf + ":2: '{' never closed by '}'"
        if rc != 1 or out or want not in err:
            bad.append("kea-bsdp-migrate broken: exit %d, stdout %r, stderr %r, want %r" % (rc, out[:80], err[:200], want))
    return bad


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    failed = 0
    for tool in TOOLS:
        path = os.path.join(build, tool)
        bad = check_tool(path) if os.access(path, os.X_OK) else ["%s: not built" % path]
        if tool == "bsdp-load" and not bad:
            bad = check_mac_file(path)
        if tool == "kea-bsdp-migrate" and not bad:
            bad = check_migrate(path)
        print("%s %s --help%s" % ("FAIL" if bad else "PASS", tool,
                                  "".join("\n    " + b for b in bad)))
        failed += bool(bad)
    print("tools-help: %d passed, %d failed" % (len(TOOLS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
