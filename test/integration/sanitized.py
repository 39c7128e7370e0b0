#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""A short scenario with the hook built with ASan+UBSan inside a real
kea-dhcp4 (runtime preloaded through BSDP_SANITIZER_PRELOAD): LIST, SELECT,
FAILED, a batch of malformed packets and a non-BSDP INFORM, then a clean
stop with no sanitizer report. Namespaces use 198.18.0.0/15 only."""
import argparse
import os
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
import bsdpnet as B  # noqa: E402
import make_sets  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hook", required=True)
    ap.add_argument("--bsdpc", required=True)
    ap.add_argument("--fast-path", action="store_true", help='with "fast-path": true')
    args = ap.parse_args()
    if not os.environ.get("BSDP_SANITIZER_PRELOAD"):
        print("sanitized: BSDP_SANITIZER_PRELOAD is not set")
        print("sanitized: 0 passed, 1 failed")
        return 1
    # A stop (parallel.py's timeout, Ctrl-C) still removes the namespaces.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    work = tempfile.mkdtemp(prefix="bsdp-sanitized-")
    sets = os.path.join(work, "sets")
    for folder, keys, files in make_sets.EXAMPLES:
        make_sets.write_set(sets, folder, keys, files)
    net = B.Net("z%05d" % (os.getpid() % 100000))
    kea = None
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))
        sys.stdout.flush()

    def bsdpc(*a):
        return B.run(["ip", "netns", "exec", net.cli, args.bsdpc, "-i", net.cli_if, "--server",
                      B.SERVER_IP, "--timeout", "2"] + list(a), check=False, timeout=30)

    xid = [0x5a000000]

    def inform(opt43, **kw):
        xid[0] += 1
        return B.bsdp_inform(xid[0], net.cli_mac, opt43, **kw)

    try:
        net.up()
        kea = B.Kea(net, work, "kea")
        params = {"sets-directory": sets, "nfs-url": "nfs:198.18.0.1:/sets",
                  "state-file": os.path.join(work, "b.csv")}
        if args.fast_path:
            params["fast-path"] = True
        kea.config(args.hook, params)
        check("kea-dhcp4 starts with the sanitized hook", kea.start(), kea.text()[-2000:])
        r = bsdpc("--list")
        check("LIST answered", r.returncode == 0 and "default" in r.stdout, r.stdout + r.stderr)
        r = bsdpc("--select", "1001")
        check("SELECT answered", r.returncode == 0 and "ACK[SELECT]" in r.stdout, r.stdout + r.stderr)
        got = B.probe(net, [inform(B.bsdp_select(B.SERVER_IP, B.image_id(999)))], expect=1)
        ok = len(got) == 1 and B.decode_bsdp(B.parse_options(got[0]["data"])).get(1) == b"\x03"
        check("FAILED for an unknown image", ok)
        bad = [inform(bytes([1, 1, 1, 2, 3, 1, 1])), inform(bytes([1, 200, 1])),
               inform(bytes([9, 4, 1, 0, 0, 1])), inform(b"\x01\x01\x01\x02\x02\x01\x01", vendor=b"AAPLBSDPC/"),
               inform(b"\x01\x01", vendor=b"AAPLBSDPC/i386/M\x00ac"), inform(bytes(range(256))[:250]),
               inform(None), inform(bytes([11, 3, 1, 0, 3, 1, 1, 1, 2, 2, 1, 1]))]
        B.probe(net, bad * 4, timeout=1.0)
        check("kea-dhcp4 alive after malformed packets", kea.alive())
        got = B.probe(net, [inform(None, vendor=None)], expect=1)
        check("a plain INFORM is still answered", len(got) == 1)
        os.kill(kea.proc.pid, signal.SIGTERM)
        # With libasan preloaded, kea-dhcp4 (with or without our hook)
        # deadlocks after main() returns, in libp11-kit's exit-time
        # freelocale. So the check is that shutdown joined every thread,
        # Kea's packet threads and our state writer alike; then it is killed.
        threads = -1
        for _ in range(200):
            try:
                threads = len(os.listdir("/proc/%d/task" % kea.proc.pid))
            except OSError:
                threads = 0
            if threads <= 1:
                break
            B.time.sleep(0.1)
        check("kea-dhcp4 shuts down with every thread joined", threads <= 1,
              "%d threads left\n%s" % (threads, kea.text()[-1500:]))
        reports = kea.sanitizer_reports()
        check("no ASan/UBSan report", reports == "", reports[-3000:])
    finally:
        if kea:
            kea.stop()
        net.down()
        shutil.rmtree(work, ignore_errors=True)
    passed = sum(1 for r in results if r)
    print("sanitized%s: %d passed, %d failed" % (" (fast path)" if args.fast_path else "",
                                              passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
