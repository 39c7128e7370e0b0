# SPDX-License-Identifier: MPL-2.0
"""Helpers for test/bench/bench_net.sh: NetBoot sets, configurations for
kea-dhcp4 and ISC dhcpd, and the result table. Standard library only.

  bench_util.py sets DIR COUNT [FIRST]      COUNT sets, Index FIRST.. (default 1)
  bench_util.py kea-conf OUT IFACE DIR [--hook SO --sets D --state F] [--threads N]
                                       [--static-list IMAGES] [--fast-path 1]
                                       [--max-bindings N] [--database]
                                       [--server-ip ADDR] [--ha INDEX]
                                       (--database: the hook's bindings in the
                                       PostgreSQL server of PGHOST, PGPORT,
                                       PGDATABASE, PGUSER; no state file;
                                       --ha: server INDEX (0, 1) of HA_PEERS in
                                       load-balancing, HA's own HTTP listener)
  bench_util.py kea-exec DIR HOOK ARGV...     exec ARGV as the tests run kea-dhcp4
                                       (from 2.6.3: HOOK seen in Kea's hooks
                                       directory, Kea's files in DIR)
  bench_util.py dhcpd-conf OUT SERVER_IP COUNT
  bench_util.py core-rows BENCH_OUTPUT      bench_list's lines as result rows
  bench_util.py stat NAME                   NAME's value from a statistic-get
                                            answer on stdin (nothing if absent)
  bench_util.py ha-state                    the state in an ha-heartbeat answer
                                            on stdin (nothing if absent)
  bench_util.py note RESULTS FORMAT         the last row's note: FORMAT with the
                                            row's fields ({replies[select]})
  bench_util.py table RESULTS               the table from one JSON object a line
"""
import json
import os
import plistlib
import sys

# Kea's version rules (hook path, Kea's own folders) as the tests apply them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import bsdpnet  # noqa: E402

IMAGE_KIND = 1             # Mac OS X
CIADDR_NET = "198.18.16.0"  # the generator's simulated clients, a /20
# The HA pair of bench_net.sh's ha group: each server's name and address,
# HA's HTTP listener port, and test/integration/test_ha.py's short timers.
HA_PEERS = [("server1", "198.18.10.1"), ("server2", "198.18.11.1")]
HA_PORT = 8001
HA_TIMERS = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000,
             "max-unacked-clients": 0}


def image_name(index):
    # Short enough that 40 descriptions (880 bytes) fit a 1500-byte reply
    # from both servers, dhcpd's padded framing included.
    return "macOS NetBoot %03d" % index


def image_id(index):
    return IMAGE_KIND << 24 | index


def set_dir(index):
    return "Bench%04d.nbi" % index


# ---- NetBoot sets ----------------------------------------------------------

def make_sets(out, count, first=1):
    import os
    for index in range(first, first + count):
        d = os.path.join(out, set_dir(index))
        os.makedirs(os.path.join(d, "i386", "x86_64"), exist_ok=True)
        info = {
            "Name": image_name(index),
            "Index": index,
            "Type": "HTTP",
            "Kind": IMAGE_KIND,
            "IsEnabled": True,
            "IsInstall": False,
            "IsDefault": index == first,
            "BootFile": "booter",
            "RootPath": "NetBoot.dmg",
            "Architectures": ["i386"],
            "Description": "kea-bsdp benchmark set",
        }
        with open(os.path.join(d, "NBImageInfo.plist"), "wb") as f:
            plistlib.dump(info, f)
        # Tiny stand-ins: the catalogue checks that the files exist.
        for rel, data in (("i386/booter", b"booter\n"),
                          ("i386/x86_64/kernelcache", b"kernelcache\n"),
                          ("NetBoot.dmg", b"dmg\n")):
            with open(os.path.join(d, rel), "wb") as f:
                f.write(data)


# ---- kea-dhcp4 -------------------------------------------------------------

def kea_conf(out, iface, workdir, hook=None, sets=None, state=None, threads=0,
             server_ip="198.18.10.1", static_list=0, fast_path=0, max_bindings=0,
             database=False, ha=None):
    """threads: 0 single-threaded, N threads, -1 the Kea version's default
    (no multi-threading map: on from 2.4 with one thread per CPU). ha: this
    server's index in HA_PEERS (libdhcp_lease_cmds.so and libdhcp_ha.so
    before the hook, as test_ha.py lists them)."""
    d = {
        "interfaces-config": {"interfaces": [iface], "dhcp-socket-type": "raw"},
        "lease-database": {"type": "memfile", "persist": False},
        "control-socket": {"socket-type": "unix", "socket-name": workdir + "/kea4.sock"},
        "multi-threading": {"enable-multi-threading": threads > 0},
        "subnet4": [{"id": 1, "subnet": "198.18.10.0/24"}],
        "hooks-libraries": [],
        # INFO only for the start line; the hook logs each SELECT at INFO,
        # which is not what is being measured.
        "loggers": [
            {"name": "kea-dhcp4", "severity": "INFO",
             "output_options": [{"output": workdir + "/kea.log"}]},
            {"name": "kea-dhcp4.bsdp", "severity": "WARN",
             "output_options": [{"output": workdir + "/kea.log"}]},
            # Kea 2.2 logs every class evaluation (EVAL_RESULT) at INFO.
            {"name": "kea-dhcp4.options", "severity": "WARN",
             "output_options": [{"output": workdir + "/kea.log"}]},
        ],
    }
    if threads < 0:
        del d["multi-threading"]
    elif threads > 0:
        d["multi-threading"].update({"thread-pool-size": threads, "packet-queue-size": 64})
    if hook:
        d["hooks-libraries"].append({"library": bsdpnet.hook_library(hook), "parameters": {
            "sets-directory": sets,
            "http-url": "http://%s/netboot" % server_ip,
            "state-file": state,
        }})
        if fast_path:
            d["hooks-libraries"][-1]["parameters"]["fast-path"] = True
        if max_bindings:
            d["hooks-libraries"][-1]["parameters"]["max-bindings"] = max_bindings
        if database:
            params = d["hooks-libraries"][-1]["parameters"]
            del params["state-file"]    # the hook refuses both
            params["bindings-database"] = bindings_database()
    if static_list:
        d["client-classes"] = [static_list_class(static_list)]
    if ha is not None:
        d["hooks-libraries"][:0] = ha_libraries(int(ha), threads > 0)
    with open(out, "w") as f:
        json.dump({"Dhcp4": d}, f, indent=2)


def ha_libraries(index, multi_threaded):
    """libdhcp_lease_cmds.so (HA syncs leases with it) and libdhcp_ha.so for
    server index of HA_PEERS in load-balancing mode. Multi-threaded, the
    peers talk to HA's own HTTP listener (Kea 2.2's HA has it too); single-
    threaded they would need a kea-ctrl-agent each, which the bench does not
    run."""
    rel = {"this-server-name": HA_PEERS[index][0], "mode": "load-balancing",
           "peers": [{"name": name, "url": "http://%s:%d/" % (ip, HA_PORT),
                      "role": "primary" if j == 0 else "secondary", "auto-failover": True}
                     for j, (name, ip) in enumerate(HA_PEERS)]}
    rel.update(HA_TIMERS)
    if multi_threaded:
        rel["multi-threading"] = {"enable-multi-threading": True,
                                  "http-dedicated-listener": True,
                                  "http-listener-threads": 2, "http-client-threads": 2}
    return [{"library": os.path.join(bsdpnet.HOOKS_DIR, "libdhcp_lease_cmds.so")},
            {"library": os.path.join(bsdpnet.HOOKS_DIR, "libdhcp_ha.so"),
             "parameters": {"high-availability": [rel]}}]


def bindings_database():
    """The hook's bindings-database map for the server test/pg/with-postgres.sh
    runs (its environment), the timeouts at the hook's defaults."""
    return {"type": "postgresql", "name": os.environ["PGDATABASE"],
            "host": os.environ["PGHOST"], "port": int(os.environ["PGPORT"]),
            "user": os.environ["PGUSER"], "connect-timeout": 5,
            "reconnect-wait-time": 1000}


def static_list_class(count):
    """Seed 003's static class, written for Kea with no hook: the same
    ACK[LIST] bytes as dhcpd's row, as option-data of a class matching the
    same requests (Kea's documented way: option 43 redefined as binary in
    the class). What Kea itself costs to send this reply."""
    return {
        "name": "AAPLBSDPC-i386",
        "test": "substring(option[60].hex,0,14) == 'AAPLBSDPC/i386' and "
                "pkt4.msgtype == 8 and substring(option[43].hex,0,3) == 0x010101",
        "option-def": [{"name": "vendor-encapsulated-options", "code": 43,
                        "type": "binary"}],
        "option-data": [
            {"name": "vendor-class-identifier", "data": "AAPLBSDPC", "always-send": True},
            {"name": "vendor-encapsulated-options", "always-send": True,
             "data": bsdp_list_payload(count).hex()},
        ],
    }


# ---- ISC dhcpd -------------------------------------------------------------

def hexbytes(b):
    return ":".join("%02x" % x for x in b)


def bsdp_list_payload(count):
    """ACK[LIST] option 43 as seed 003's static class carries it, for count
    images. Each 255-byte stretch is padded (sub-option 0) to its end so
    that dhcpd, which cuts an option over 255 bytes into 255-byte
    instances, never cuts through a sub-option."""
    head = bytes([1, 1, 1, 4, 2, 0x80, 0x00, 7, 4]) + image_id(1).to_bytes(4, "big")
    descs = []
    for index in range(1, count + 1):
        name = image_name(index).encode()
        descs.append(image_id(index).to_bytes(4, "big") + bytes([len(name)]) + name)
    blocks, cur, lst = [], bytearray(head), bytearray()
    for d in descs:
        # The open block holds cur, then sub-option 9 (2 + len(lst) bytes).
        if len(cur) + 2 + len(lst) + len(d) > 255:
            if lst:
                cur += bytes([9, len(lst)]) + lst
            blocks.append(bytes(cur) + bytes(255 - len(cur)))
            cur, lst = bytearray(), bytearray()
        lst += d
    if lst:
        cur += bytes([9, len(lst)]) + lst
    blocks.append(bytes(cur))
    return b"".join(blocks)


def dhcpd_conf(out, server_ip, count):
    payload = bsdp_list_payload(count)
    text = """# ISC dhcpd 4.4 as seed 003 runs NetBoot: a class for Intel Macs, option
# space BSDP, and a static option 43 for LIST (%d images).
ddns-update-style none;
authoritative;
default-lease-time 600;
max-lease-time 600;
server-identifier %s;

option space BSDP;
option BSDP.message-type code 1 = unsigned integer 8;
option BSDP.version code 2 = unsigned integer 16;
option BSDP.server-identifier code 3 = ip-address;
option BSDP.server-priority code 4 = unsigned integer 16;
option BSDP.reply-port code 5 = unsigned integer 16;
option BSDP.default-boot-image-id code 7 = unsigned integer 32;
option BSDP.selected-boot-image-id code 8 = unsigned integer 32;
option BSDP.boot-image-list code 9 = string;
option BSDP.max-message-size code 12 = unsigned integer 16;
option BSDP.machine-name code 130 = text;

shared-network bench {
  subnet 198.18.10.0 netmask 255.255.255.0 { }
  subnet %s netmask 255.255.240.0 { }
}

class "AAPLBSDPC-i386" {
  match if substring(option vendor-class-identifier, 0, 14) = "AAPLBSDPC/i386";
  option dhcp-parameter-request-list 1,3,17,43,60;
  if (option dhcp-message-type = 8) {
    option vendor-class-identifier "AAPLBSDPC";
    if (substring(option vendor-encapsulated-options, 0, 3) = 01:01:01) {
      # BSDP LIST
      option vendor-encapsulated-options %s;
    }
  }
}
""" % (count, server_ip, CIADDR_NET, hexbytes(payload))
    with open(out, "w") as f:
        f.write(text)


# ---- results -----------------------------------------------------------------

def core_rows(path):
    """bench_list prints 'LABEL   N ns/reply  A allocations/reply ...'."""
    rows = []
    with open(path) as f:
        for line in f:
            if "ns/reply" not in line:
                continue
            label, rest = line.split("  ", 1)
            parts = rest.split()
            ns = float(parts[0])
            allocs = parts[2]
            rows.append({"row": "C core: " + label.strip(), "replies_per_s": 1e9 / ns,
                         "core_ns": ns, "note": "%.0f ns/reply, %s allocations/reply, one core"
                         % (ns, allocs)})
    return rows


def answer_value(answer, path):
    """The value at path (keys and indexes) in a control channel answer's
    arguments, or None."""
    try:
        a = json.loads(answer)
        a = a[0] if isinstance(a, list) else a
        v = a["arguments"]
        for k in path:
            v = v[k]
        return v
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def stat_value(answer, name):
    return answer_value(answer, (name, 0, 0))


def set_note(path, fmt):
    with open(path) as f:
        lines = f.read().splitlines()
    r = json.loads(lines[-1])
    r["note"] = fmt.format(**r)
    lines[-1] = json.dumps(r)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def fmt_rate(v):
    return "%.0f" % v if v is not None else "-"


def fmt_ms(us):
    return "%.2f" % (us / 1000.0) if us is not None else "-"


def table(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    base = {}
    for r in rows:
        if r.get("baseline_for") is not None and r.get("replies_per_s"):
            base[r["baseline_for"]] = r["replies_per_s"]
    head = ("%-44s %10s %8s %8s %8s %6s %7s  %s" %
            ("server / load", "replies/s", "p50 ms", "p99 ms", "max ms", "lost",
             "x base", "notes"))
    print(head)
    print("-" * len(head))
    for r in rows:
        if r.get("na"):
            print("%-44s %10s  n/a (%s)" % (r["row"], "", r["na"]))
            continue
        rps = r.get("replies_per_s")
        lat = r.get("latency_us") or {}
        b = base.get(r.get("compare", 1))
        ratio = "%.2f" % (rps / b) if (b and rps is not None and "core_ns" not in r) else "-"
        lost = r.get("lost")
        note = r.get("note", "")
        if (r.get("replies") or {}).get("list"):
            note = "%.0f images per ACK[LIST]; %s" % (r.get("images_per_list", 0), note)
        if len(r.get("servers") or ()) > 1:
            note = "replies by server %s, %d duplicates, %d late; %s" % (
                ", ".join("%s %d" % (s, r["by_server"].get(s, 0)) for s in r["servers"]),
                r.get("duplicate", 0), r.get("late", 0), note)
        odd = r.get("unexpected") or 0
        if "no hook: BSDP" in r["row"]:
            note = "Kea's plain ACK; " + note
        elif r.get("bad"):
            note = ("%d bad replies %s, kinds %s; " % (r["bad"], r.get("bad_reasons"),
                                                      r.get("replies"))) + note
        elif odd:
            note = ("%d replies not the expected kind %s; " % (odd, r.get("replies"))) + note
        print("%-44s %10s %8s %8s %8s %6s %7s  %s" % (
            r["row"], fmt_rate(rps), fmt_ms(lat.get("p50")), fmt_ms(lat.get("p99")),
            fmt_ms(lat.get("max")), "-" if lost is None else lost, ratio,
            note.rstrip("; ")))
    print()
    print("x base: replies/s over kea-dhcp4 without the hook answering plain DHCPINFORM "
          "with the same thread count (dhcpd: over single-threaded Kea; the bindings "
          "store rows: over the CSV state file's row; the HA pair: over one server "
          "with the same configuration minus HA; MACs chosen vs old FNV: over the "
          "random-MAC row).")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "sets":
        make_sets(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 1)
    elif cmd == "kea-conf":
        kw = {}
        rest = args[3:]
        while rest:
            if rest[0] == "--database":
                kw["database"], rest = True, rest[1:]
                continue
            key, val, rest = rest[0], rest[1], rest[2:]
            kw[{"--hook": "hook", "--sets": "sets", "--state": "state",
                "--threads": "threads", "--static-list": "static_list",
                "--fast-path": "fast_path", "--max-bindings": "max_bindings",
                "--server-ip": "server_ip", "--ha": "ha"}[key]] = \
                int(val) if key in ("--threads", "--static-list", "--fast-path",
                                    "--max-bindings") else val
        kea_conf(args[0], args[1], args[2], **kw)
    elif cmd == "kea-exec":
        env = bsdpnet.kea_env(args[0])
        argv = bsdpnet.with_hook(args[2:], args[1])
        os.execvpe(argv[0], argv, env)
    elif cmd == "dhcpd-conf":
        dhcpd_conf(args[0], args[1], int(args[2]))
    elif cmd == "core-rows":
        for r in core_rows(args[0]):
            print(json.dumps(r))
    elif cmd in ("stat", "ha-state"):
        answer = sys.stdin.read()
        v = stat_value(answer, args[0]) if cmd == "stat" else answer_value(answer, ("state",))
        if v is not None:
            print(v)
    elif cmd == "note":
        set_note(args[0], args[1])
    elif cmd == "table":
        table(args[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
