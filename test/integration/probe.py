#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Runs inside the client namespace: reads a JSON spec on stdin, sniffs
UDP for the listened ports, sends the payloads as Ethernet frames, and
prints what arrived as JSON. Bounded by the spec's timeout."""
import json
import sys
import threading
import time

from scapy.all import AsyncSniffer, Ether, IP, UDP, Raw, conf, sendp  # noqa: E402

conf.verb = 0


def main():
    spec = json.load(sys.stdin)
    ports = " or ".join("dst port %d" % p for p in spec["listen"])
    ready = threading.Event()
    sniffer = AsyncSniffer(iface=spec["iface"], filter="udp and (%s)" % ports, store=True,
                           started_callback=ready.set)
    sniffer.start()
    ready.wait(10)
    time.sleep(0.1)
    frames = [Ether(src=spec["src_mac"], dst=spec["dst_mac"]) /
              IP(src=spec["src_ip"], dst=spec["dst_ip"], ttl=64) /
              UDP(sport=spec["sport"], dport=spec["dport"]) / Raw(bytes.fromhex(p))
              for p in spec["payloads"]]
    for f in frames:
        sendp(f, iface=spec["iface"])
    time.sleep(float(spec["timeout"]))
    got = sniffer.stop() or []
    out = []
    for p in got:
        if UDP in p and IP in p and p[IP].src != spec["src_ip"]:
            out.append({"src": p[IP].src, "dst": p[IP].dst, "sport": p[UDP].sport,
                        "dport": p[UDP].dport, "ip_len": p[IP].len,
                        "data": bytes(p[UDP].payload).hex()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
