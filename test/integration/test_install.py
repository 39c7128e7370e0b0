#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""`make install` and `make uninstall` reload kea-dhcp4's AppArmor profile
exactly when they change it or its local override, with stand-ins for
aa-enabled and apparmor_parser first on PATH that record their calls. Every
path goes to a temporary tree (APPARMOR_DIR, PREFIX, HOOKS_DIR, STATE_DIR),
with DESTDIR empty: a staged install (DESTDIR set) must not reload at all.
No network, no kea-dhcp4; a few seconds.

usage (root): test_install.py --hook /abs/libdhcp_bsdp.so --bsdpc /abs/bsdpc [-k NAME]"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bsdpnet as B  # noqa: E402

expect = B.expect

# Debian 12's kea-dhcp4 profile in short: it does not include local/.
PROFILE = """#include <tunables/global>

/usr/sbin/kea-dhcp4 flags=(attach_disconnected) {
  #include <abstractions/base>
  /usr/sbin/kea-dhcp4 mr,
}
"""
OWN_RULE = "  /srv/tftp/** r,   # the operator's own\n"


def read(path):
    with open(path) as f:
        return f.read()


class Suite:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bsdp-install-")
        self.passed = 0
        self.failed = 0

    def tree(self, name):
        """A fresh AppArmor folder (profile and an operator's override) and
        the make variables that put everything of the install under it."""
        root = os.path.join(self.work, name)
        aa = os.path.join(root, "apparmor.d")
        os.makedirs(os.path.join(aa, "local"))
        with open(os.path.join(aa, "usr.sbin.kea-dhcp4"), "w") as f:
            f.write(PROFILE)
        with open(os.path.join(aa, "local", "usr.sbin.kea-dhcp4"), "w") as f:
            f.write(OWN_RULE)
        make_vars = ["DESTDIR=", "APPARMOR_DIR=" + aa, "PREFIX=" + root + "/usr",
                     "HOOKS_DIR=" + root + "/hooks", "STATE_DIR=" + root + "/state"]
        return aa, make_vars

    def make(self, path, *args):
        r = B.make(self.args.hook, *args, env=dict(os.environ, PATH=path))
        expect(r.returncode == 0, "make %s: %s%s" % (" ".join(args), r.stdout, r.stderr[-2000:]))
        return r

    def test_reload_exactly_when_changed(self):
        aa, make_vars = self.tree("changes")
        path, calls = B.apparmor_stubs(os.path.join(self.work, "stubs-changes"))
        reload = [["-r", "-T", "-W", os.path.join(aa, "usr.sbin.kea-dhcp4")]]
        steps = [  # (what, make arguments, the parser calls it must add)
            ("first install (profile and override)", ["install"], reload),
            ("second install (nothing to change)", ["install"], []),
            ("install with other SETS_DIR (override only)", ["install", "SETS_DIR=/data/sets"],
             reload),
            ("uninstall (both files)", ["uninstall"], reload),
            ("second uninstall (nothing to remove)", ["uninstall"], []),
        ]
        for what, args, want in steps:
            before = len(calls())
            self.make(path, *(args + make_vars))
            got = calls()[before:]
            expect(got == want, "%s: apparmor_parser calls %s, want %s" % (what, got, want))
            if args[0] == "install":
                expect("# BEGIN kea-bsdp" in read(os.path.join(aa, "local", "usr.sbin.kea-dhcp4")),
                       "%s: no override block" % what)
        expect(read(os.path.join(aa, "usr.sbin.kea-dhcp4")) == PROFILE, "profile not restored")
        expect(read(os.path.join(aa, "local", "usr.sbin.kea-dhcp4")) == OWN_RULE,
               "override not restored")
        print("    reloads: %d (install, changed override, uninstall)" % len(calls()))

    def test_staged_or_without_apparmor_no_reload(self):
        """DESTDIR set (a package build), or AppArmor's tools absent: the
        files change, and nothing tries to reload."""
        aa, make_vars = self.tree("staged")
        path, calls = B.apparmor_stubs(os.path.join(self.work, "stubs-staged"))
        dest = os.path.join(self.work, "destdir")
        self.make(path, "install", *(make_vars + ["DESTDIR=" + dest]))
        staged = os.path.join(dest + aa, "local", "usr.sbin.kea-dhcp4")
        expect("# BEGIN kea-bsdp" in read(staged), "no override block in %s" % staged)
        expect(calls() == [], "a staged install called apparmor_parser: %s" % calls())
        r = self.make(B.path_without_apparmor(), "install", *make_vars)
        expect("# BEGIN kea-bsdp" in read(os.path.join(aa, "local", "usr.sbin.kea-dhcp4")),
               "no override block")
        expect("apparmor_parser" not in r.stderr, "stderr: %s" % r.stderr)
        self.make(B.path_without_apparmor(), "uninstall", *make_vars)
        expect(read(os.path.join(aa, "usr.sbin.kea-dhcp4")) == PROFILE, "profile not restored")

    def run(self):
        order = ["test_reload_exactly_when_changed", "test_staged_or_without_apparmor_no_reload"]
        assert sorted(order) == sorted(t for t in dir(self) if t.startswith("test_"))
        for t in order:
            if not self.args.k or self.args.k in t:
                B.run_test(self, t)

    def cleanup(self):
        if self.args.keep:
            print("kept %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    args = B.suite_arguments().parse_args()
    return B.run_suite("install", Suite, args, ("make", "sh"))


if __name__ == "__main__":
    sys.exit(main())
