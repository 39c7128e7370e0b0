#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Runs test suites side by side, each one's output into its own log file,
printed whole when that suite ends, so parallel output stays readable.

usage: parallel.py --logs DIR [--jobs N] [--timeout SEC] -- 'CMD' 'CMD' ...

Each CMD is a shell command line (one suite; the integration suites create
their own PID-tagged namespaces, so they can run at once). Exits 1 when any
suite exits non-zero or runs past --timeout (it is then stopped by its PID),
after a summary line per suite, its closing `NAME: N passed, M failed`
line included."""
import argparse
import os
import re
import signal
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logs", required=True)
    ap.add_argument("--jobs", type=int, default=0, help="at most this many at once (0: all)")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("commands", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    waiting = list(enumerate(args.commands))
    running = {}                 # index -> (Popen, log path, start)
    results = {}                 # index -> (exit code, seconds, log path)

    def start(i, cmd):
        path = os.path.join(args.logs, "%d-%s.log" % (i, re.sub(
            r"[^A-Za-z0-9_.-]+", "_", " ".join(w for w in cmd.split() if "/" in w)[:60])))
        out = open(path, "w")
        # Its own process group, so a stop reaches the suite's children too.
        p = subprocess.Popen(cmd, shell=True, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        out.close()
        running[i] = (p, path, time.monotonic())

    def finish(i, rc):
        p, path, t0 = running.pop(i)
        results[i] = (rc, time.monotonic() - t0, path)
        print("==== %s (exit %s, %.0f s)" % (args.commands[i], rc, results[i][1]))
        # One write per log, so two runners sharing a terminal do not mix lines.
        with open(path, "rb") as f:
            data = f.read()
        sys.stdout.flush()
        while data:
            data = data[os.write(1, data):]

    def stop(p):
        # SIGTERM lets a suite clean up its namespaces; SIGKILL after 30 s.
        os.killpg(p.pid, signal.SIGTERM)
        try:
            return p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            return p.wait(timeout=30)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while waiting or running:
            while waiting and (args.jobs <= 0 or len(running) < args.jobs):
                start(*waiting.pop(0))
            time.sleep(0.2)
            for i, (p, _, t0) in list(running.items()):
                rc = p.poll()
                if rc is None and time.monotonic() - t0 > args.timeout:
                    print("==== %s: over %.0f s, stopped" % (args.commands[i], args.timeout))
                    rc = stop(p) or 124
                if rc is not None:
                    finish(i, rc)
    except KeyboardInterrupt:
        print("==== interrupted: stopping the running suites")
        for i, (p, _, _) in list(running.items()):
            finish(i, stop(p))
        return 1
    print("==== summary")
    for i in sorted(results):
        rc, secs, path = results[i]
        with open(path, errors="replace") as f:
            closing = [l.strip() for l in f if re.match(r"^[\w ()-]+: \d+ passed, \d+ failed", l)]
        print("%-4s %4.0f s  %s" % ("ok" if rc == 0 else "FAIL", secs,
                                   closing[-1] if closing else args.commands[i]))
    return 1 if any(rc != 0 for rc, _, _ in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
