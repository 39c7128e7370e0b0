#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""kea-bsdp-migrate as an operator runs it, on both seed shapes: with
--sets-directory, --write-sets and --kea-config it writes the sets and the
fragment; once the booters are copied as it says, the fragment merged with
docs/migrating.md's jq program into a keama-like configuration passes
`kea-dhcp4 -t` and kea-bsdp-check loads the
built hook with its parameters (the hook's own parameter parsing) and lists
every image with the IDs, names, types and chain URL dhcpd had. It never
writes over an existing --kea-config, and writes nothing at all for broken
input (file:line on stderr, exit 1), for a file without BSDP (exit 3) or
for a usage error (exit 2).

usage: test_migrate_tool.py --build BUILD_DIR   (make tools-test runs it)"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import bsdpnet  # noqa: E402  (hook_library, with_hook, kea_bsdp_check, kea_env)

FAILURES = []


def expect(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL " + what.splitlines()[0])
    return cond


def migrate(tool, *args):
    r = subprocess.run([tool] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=60)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def tree(folder):
    """Every path under folder with its bytes (None for a folder)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), folder)] = None
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), folder)] = fh.read()
    return out


def follow_copies(out):
    """Does what the tool says: each '  copy X ... to Y' puts a file at Y."""
    n = 0
    for dst in re.findall(r"^  copy .* to (\S+)", out, re.M):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w") as f:
            f.write("copied\n")
        n += 1
    return n


def merge_program():
    """The jq program docs/migrating.md gives for merging the fragment into
    keama's output: the block after "jq program (`merge.jq`)"."""
    with open(os.path.join(HERE, "..", "..", "docs", "migrating.md")) as f:
        m = re.search(r"jq program \(`merge\.jq`\).*?^ *```text\n(.*?)^ *```", f.read(),
                      re.M | re.S)
    return m.group(1)


def uncomment_command():
    """docs/migrating.md's sed command that removes keama's comment lines."""
    with open(os.path.join(HERE, "..", "..", "docs", "migrating.md")) as f:
        m = re.search(r"(sed -e '[^']*') /root/keama\.json", f.read())
    return m.group(1)


def kea_config(fragment, work, pins):
    """The fragment merged with docs/migrating.md's jq program into what
    keama would write: its global reservation for the first pinned MAC
    (written in upper case) with a user-context of its own, and a subnet
    reservation of another Mac, which the merge leaves alone."""
    keama = {"Dhcp4": {
        "interfaces-config": {"interfaces": []},
        "lease-database": {"type": "memfile", "persist": False},
        "subnet4": [{"id": 1, "subnet": "198.18.0.0/24", "reservations": [
            {"hw-address": "02:00:00:00:00:99", "hostname": "other"}]}],
        "reservations": [
            {"hw-address": mac.upper(), "hostname": "keama-%d" % i, "user-context": {"keama": i}}
            for i, (mac, _) in enumerate(pins[:1])],
    }}
    # As keama writes it: dhcpd.conf's own comments as '#' lines, its
    # remarks as '///' lines, what it skipped commented out with '//'.
    text = json.dumps(keama, indent=2).replace("\n", "\n  #\n  # dhcpd.conf of the lab\n"
                                               "  /// This configuration declares some subnets\n", 1)
    text = text.replace('"Dhcp4": {\n', '"Dhcp4": {\n'
                        '//  "client-classes": [\n//    {\n//      "name": "netboot"\n//    }\n//  ],\n'
                        '    # subnet configuration ####\n', 1)
    with open(os.path.join(work, "keama.json"), "w") as f:
        f.write(text)
    with open(os.path.join(work, "merge.jq"), "w") as f:
        f.write(merge_program())
    # docs/migrating.md's command that takes the comments out for jq
    r = subprocess.run(["sh", "-c", uncomment_command() + " keama.json >keama-plain.json"],
                       cwd=work, stderr=subprocess.PIPE, timeout=30, text=True)
    expect(r.returncode == 0, "uncomment: exit %d: %s" % (r.returncode, r.stderr))
    r = subprocess.run(["jq", "-s", "-f", "merge.jq", "keama-plain.json", fragment], cwd=work,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, text=True)
    expect(r.returncode == 0, "jq merge: exit %d: %s" % (r.returncode, r.stderr))
    conf = json.loads(r.stdout)
    conf["Dhcp4"]["hooks-libraries"][0]["parameters"]["state-file"] = "bsdp-bindings.csv"
    path = os.path.join(work, "kea-dhcp4.conf")
    with open(path, "w") as f:
        json.dump(conf, f, indent=2)
    return conf, path


def check_shape(tool, hook, conf_name, want_images, want_pins):
    """want_images: {id: (name, type, chain-url, is-default)}."""
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o750)
        sets = os.path.join(work, "sets")
        os.mkdir(sets)
        fragment = os.path.join(work, "bsdp-fragment.json")
        rc, out, err = migrate(tool, "--sets-directory", sets, "--write-sets", "--kea-config",
                               fragment, "--library", bsdpnet.hook_library(hook),
                               os.path.join(HERE, conf_name))
        if not expect(rc == 0 and not err, "%s: exit %d, stderr %r" % (conf_name, rc, err)):
            return
        expect("wrote %s " % fragment in out, "%s: no 'wrote' for the fragment:\n%s" % (conf_name, out))
        expect(out.count("wrote %s/" % sets) == len(want_images),
               "%s: not one set written per image:\n%s" % (conf_name, out))
        copies = follow_copies(out)
        expect(copies >= len(want_images), "%s: %d copy lines:\n%s" % (conf_name, copies, out))
        with open(fragment) as f:
            frag = json.load(f)["Dhcp4"]
        params = frag["hooks-libraries"][0]["parameters"]
        expect(params["sets-directory"] == os.path.realpath(sets),
               "%s: sets-directory %r" % (conf_name, params["sets-directory"]))
        expect(params["server-address"] == "198.18.0.1", "%s: %r" % (conf_name, params))
        pins = [(r["hw-address"], r["user-context"]["bsdp-image"]) for r in frag["reservations"]]
        expect(pins == want_pins, "%s: reservations %r, want %r" % (conf_name, pins, want_pins))

        merged, conf = kea_config(fragment, work, want_pins)
        # A pin keama already has a reservation for lands in it, the others
        # become global reservations: one reservation per MAC.
        subnet = merged["Dhcp4"]["subnet4"][0]["reservations"]
        expect(subnet == [{"hw-address": "02:00:00:00:00:99", "hostname": "other"}],
               "%s: the merge changed another Mac's reservation: %r" % (conf_name, subnet))
        pinned = [(r["hw-address"].lower(), r.get("user-context"))
                  for r in merged["Dhcp4"]["reservations"]]
        want = [(mac, dict({"keama": 0} if i == 0 else {}, **{"bsdp-image": index}))
                for i, (mac, index) in enumerate(want_pins)]
        expect(pinned == want, "%s: merged reservations %r, want %r" % (conf_name, pinned, want))
        env = bsdpnet.kea_env(work)
        r = bsdpnet.run(bsdpnet.with_hook(["kea-dhcp4", "-t", conf], hook), check=False,
                        timeout=60, env=env)
        expect(r.returncode == 0, "%s: kea-dhcp4 -t exit %d:\n%s%s" % (conf_name, r.returncode,
                                                                        r.stdout, r.stderr))
        r = bsdpnet.kea_bsdp_check(hook, ["--json", conf], env=env, data_dir=work)
        if not expect(r.returncode == 0, "%s: kea-bsdp-check exit %d:\n%s%s" % (
                conf_name, r.returncode, r.stdout, r.stderr)):
            return
        ans = json.loads(r.stdout)["arguments"]
        expect(not ans["skipped"] and not ans["warnings"],
               "%s: skipped %r warnings %r" % (conf_name, ans["skipped"], ans["warnings"]))
        got = {i["id"]: (i["name"], i["type"], i["chain-url"], i["is-default"])
               for i in ans["images"]}
        expect(got == want_images, "%s: the hook serves\n  %r\nwant\n  %r" % (conf_name, got,
                                                                             want_images))
        # Once copied, every image matches its set; a second run writes nothing.
        before = tree(work)
        rc, out, err = migrate(tool, "--sets-directory", sets, "--write-sets",
                               os.path.join(HERE, conf_name))
        expect(rc == 0 and out.count(": set %s/" % os.path.realpath(sets)) == len(want_images)
               and "wrote" not in out, "%s: second run exit %d:\n%s%s" % (conf_name, rc, out, err))
        expect(tree(work) == before, "%s: the second run changed files" % conf_name)
        # The fragment is never written over.
        rc, out, err = migrate(tool, "--kea-config", fragment, os.path.join(HERE, conf_name))
        expect(rc == 1 and not out and "exists: it is never overwritten" in err
               and tree(work) == before,
               "%s: --kea-config over a file: exit %d, stdout %r, stderr %r" % (conf_name, rc,
                                                                                out, err))


BROKEN = (
    ("unbalanced", 'class "x" {\n  match if substring(option vendor-class-identifier, 0, 9) = "AAPLBSDPC";\n',
     ":1: '{' never closed by '}'"),
    ("lengths", 'class "x" {\n  match if substring(option vendor-class-identifier, 0, 9) = "AAPLBSDPC";\n'
     '  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n'
     '    option vendor-encapsulated-options 01:01:01:09:07:01:00:00:02:05:41:42;\n  }\n}\n',
     ":4: option vendor-encapsulated-options sub-option 9: image 01:00:00:02 at byte 0 gives "
     "its name 5 bytes, 2 follow: the lengths do not add up"),
    ("unlisted", 'class "x" {\n  match if substring(option vendor-class-identifier, 0, 9) = "AAPLBSDPC";\n'
     '  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n'
     '    option vendor-encapsulated-options 01:01:01:09:07:01:00:00:02:02:41:42;\n'
     '  } else {\n'
     '    option vendor-encapsulated-options 01:01:02:08:04:01:00:00:03;\n'
     '    filename "x.efi";\n  }\n}\n',
     ":5: SELECT branch for image 01:00:00:03, which no LIST offers"),
)


def check_nothing_written(tool):
    with tempfile.TemporaryDirectory() as work:
        sets = os.path.join(work, "sets")
        os.mkdir(sets)
        fragment = os.path.join(work, "fragment.json")
        for name, text, want in BROKEN:
            conf = os.path.join(work, name + ".conf")
            with open(conf, "w") as f:
                f.write(text)
            before = tree(work)
            rc, out, err = migrate(tool, "--sets-directory", sets, "--write-sets",
                                   "--kea-config", fragment, conf)
            expect(rc == 1 and not out and (conf + want) in err and tree(work) == before,
                   "broken %s: exit %d, stdout %r, stderr %r, want %r, files %s" % (
                       name, rc, out, err, conf + want,
                       "unchanged" if tree(work) == before else "CHANGED"))
        before = tree(work)
        rc, out, err = migrate(tool, "--sets-directory", sets, "--write-sets", "--kea-config",
                               fragment, os.path.join(HERE, "nobsdp.conf"))
        expect(rc == 3 and "no BSDP" in out and tree(work) == before,
               "nobsdp.conf: exit %d, stdout %r, stderr %r" % (rc, out, err))
        # A fragment that cannot be created stops the run before any set is written.
        nowhere = os.path.join(work, "missing-folder", "fragment.json")
        rc, out, err = migrate(tool, "--sets-directory", sets, "--write-sets", "--kea-config",
                               nowhere, os.path.join(HERE, "seed003.conf"))
        expect(rc == 1 and ("cannot create %s" % nowhere) in err and tree(work) == before,
               "--kea-config in a missing folder: exit %d, stderr %r, files %s" % (
                   rc, err, "unchanged" if tree(work) == before else "CHANGED"))
        rc, out, err = migrate(tool, "--write-sets", os.path.join(HERE, "seed003.conf"))
        expect(rc == 2 and not out and "--write-sets needs --sets-directory" in err
               and tree(work) == before, "--write-sets alone: exit %d, stderr %r" % (rc, err))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    tool = os.path.abspath(os.path.join(a.build, "kea-bsdp-migrate"))
    hook = os.path.abspath(os.path.join(a.build, "libdhcp_bsdp.so"))
    check_shape(tool, hook, "seed003.conf", {
        0x0100007b: ("Orchard Primary 10.8.4 NetBoot", "HTTP", None, True),
        0x010001c8: ("10.9.0 NetBoot for Testing Only", "HTTP", None, False),
        0x81000360: ("Install 10", "HTTP", None, False),
    }, [("00:16:cb:00:00:01", 456)])
    check_shape(tool, hook, "seed000.conf", {
        0x81000089: ("ESXi 6.5", "BootFileOnly", "http://198.18.0.1/esxi65/mboot.efi", True),
    }, [])
    check_nothing_written(tool)
    print("test_migrate_tool: %s" % ("%d failure(s)" % len(FAILURES) if FAILURES else "passed"))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
