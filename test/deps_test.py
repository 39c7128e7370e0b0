#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""`make deps` on a fresh machine installs no test-only package.

tools/install-deps.sh has two sets: build (make deps: make, make install)
and test (make check, make demo; it holds the build set). apt's simulation
against an empty dpkg status (a machine with nothing installed) resolves
what installing the build set would pull in, as install-deps.sh installs it
(--no-install-recommends); no test tool (TEST_TOOLS below, and whatever
else is in test but not build) may be among it. The
same check run on the build set plus one test-only package must fail, so
the check itself is seen to work. Whether the build set is enough to build
is shown by building in clean chroots (the Debian package's build).

usage: deps_test.py   (make check runs it; no root needed, installs nothing)"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INSTALL_DEPS = os.path.join(ROOT, "tools", "install-deps.sh")
# Test tools a production host must never get, named here and not derived
# from install-deps.sh (test minus build would lose whatever is moved into
# the build set). A new test package belongs here too.
TEST_TOOLS = ("clang", "libclang-rt-dev", "libplist-utils", "check", "kea-admin",
              "kea-ctrl-agent", "iproute2", "tshark", "socat", "tftpd-hpa", "tftp-hpa", "ipxe",
              "curl", "isc-dhcp-server", "busybox", "postgresql", "jq")


def pkg_set(which):
    r = subprocess.run(["sh", INSTALL_DEPS, "--list", which], stdout=subprocess.PIPE,
                       check=True, text=True, timeout=30)
    return r.stdout.split()


def would_install(pkgs):
    """The package names apt would install for pkgs on a machine with an
    empty dpkg status, without recommends."""
    with tempfile.NamedTemporaryFile(prefix="deps-test-status.") as status:
        r = subprocess.run(["apt-get", "-s", "-q", "-o", "Dir::State::status=" + status.name,
                            "-o", "APT::Install-Recommends=false", "install"] + list(pkgs),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300, env=dict(os.environ, LC_ALL="C"))
    if r.returncode != 0:
        raise RuntimeError("apt-get -s install %s: exit %d\n%s" % (
            " ".join(pkgs), r.returncode, (r.stdout + r.stderr)[-2000:]))
    # "Inst name[:arch] (version ...)"
    return {m.group(1).split(":")[0]
            for m in re.finditer(r"^Inst (\S+)", r.stdout, re.MULTILINE)}


def test_only_pulled(build, test_only):
    return sorted(set(would_install(build)) & set(test_only))


def main():
    build, test = pkg_set("build"), pkg_set("test")
    failed = 0

    def result(ok, name, detail):
        nonlocal failed
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))
        failed += not ok

    result(set(build) <= set(test), "test_set_holds_build_set",
           "build packages missing from the test set: %s" % (
               sorted(set(build) - set(test)) or "none"))
    test_only = sorted(set(TEST_TOOLS) | (set(test) - set(build)))
    result(set(TEST_TOOLS) <= set(test) and not set(TEST_TOOLS) & set(build),
           "test_tools_only_in_the_test_set", "in the build set: %s; not in the test set: %s" % (
               " ".join(sorted(set(TEST_TOOLS) & set(build))) or "none",
               " ".join(sorted(set(TEST_TOOLS) - set(test))) or "none"))
    try:
        pulled = would_install(build)
        bad = sorted(pulled & set(test_only))
        result(set(build) <= pulled and not bad, "make_deps_installs_no_test_package",
               "%d packages for %s; test-only among them: %s" % (
                   len(pulled), " ".join(build), " ".join(bad) or "none"))
        # The check can fail: with one test-only package in the build set.
        probe = next((p for p in test_only if p != "isc-dhcp-server"), None)
        seen = test_only_pulled(build + [probe], test_only) if probe else []
        result(probe in seen, "check_sees_a_test_package_in_the_build_set",
               "build set + %s -> test-only pulled: %s" % (probe, " ".join(seen) or "none"))
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        result(False, "make_deps_installs_no_test_package", str(e))
    print("deps: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
