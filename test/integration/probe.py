#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Runs inside the client namespace: sends UDP payloads as Ethernet frames
and collects the UDP datagrams that arrive for the listened ports, over one
raw AF_PACKET socket (no scapy: its import alone took seconds per probe).

    probe.py           one JSON spec on stdin, the replies as JSON on stdout
    probe.py --serve IFACE
                       one spec per line on stdin, one answer per line on
                       stdout, the socket kept open between them

A spec: iface, src_mac, dst_mac, src_ip, dst_ip, sport, dport, listen
(ports), timeout, payloads (hex), and optionally expect (a count) and
settle (seconds). With expect, collecting ends settle seconds after that
many replies carrying the xid of a sent payload have arrived, else at
timeout. --serve answers {"got": [...], "late": [...], "sent": T}: late is what
arrived between the previous answer and this spec (a reply after its probe
had returned); T and each datagram's "t" are CLOCK_MONOTONIC seconds. Every wait is bounded by the spec's timeout."""
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33


def udp_only_filter(sock):
    """A classic BPF program: IPv4 UDP frames only, so TFTP/HTTP bulk data
    in the namespace never fills the receive buffer between probes."""
    import ctypes
    prog = [(0x28, 0, 0, 12),        # ldh [12]          ethertype
            (0x15, 0, 3, 0x0800),    # jeq IPv4, else drop
            (0x30, 0, 0, 23),        # ldb [23]          IP protocol
            (0x15, 0, 1, 17),        # jeq UDP, else drop
            (0x06, 0, 0, 0x40000),   # ret whole frame
            (0x06, 0, 0, 0)]         # ret 0: drop
    code = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(spec, payload):
    """Ethernet / IPv4 (ttl 64, id 1, no options) / UDP with both checksums."""
    src, dst = socket.inet_aton(spec["src_ip"]), socket.inet_aton(spec["dst_ip"])
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", spec["sport"], spec["dport"], ulen, 0) + payload
    csum = checksum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))   # noqa: E731
    return mac(spec["dst_mac"]) + mac(spec["src_mac"]) + b"\x08\x00" + ip + udp


def parse(buf):
    """(src, dst, sport, dport, ip_len, payload) of an IPv4 UDP frame, or None."""
    if len(buf) < 14 + 20 + 8 or buf[12:14] != b"\x08\x00" or buf[14] >> 4 != 4:
        return None
    ihl = (buf[14] & 0x0f) * 4
    if buf[23] != 17 or len(buf) < 14 + ihl + 8:
        return None
    ip_len = struct.unpack("!H", buf[16:18])[0]
    sport, dport, ulen = struct.unpack("!HHH", buf[14 + ihl:14 + ihl + 6])
    data = buf[14 + ihl + 8:14 + ihl + max(ulen, 8)]
    return (socket.inet_ntoa(buf[26:30]), socket.inet_ntoa(buf[30:34]), sport, dport, ip_len,
            data)


class Port:
    def __init__(self, iface):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # Past rmem_max (root may): a burst of replies must not overflow it.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        udp_only_filter(self.sock)
        self.sock.bind((iface, 0))
        self.iface = iface

    def read(self, wait):
        """One received (not sent) UDP frame parsed, or None after wait s."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, wait))
        if not r:
            return None
        buf, addr = self.sock.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            return False
        return parse(buf) or False

    def drain(self):
        out = []
        while True:
            p = self.read(0)
            if p is None:
                return out
            if p:
                out.append(p)

    def probe(self, spec):
        listen = set(spec["listen"])
        xids = {bytes.fromhex(p)[4:8] for p in spec["payloads"]}
        want = spec.get("expect")
        settle = float(spec.get("settle", 0.1))
        for p in spec["payloads"]:
            self.sock.send(frame(spec, bytes.fromhex(p)))
        deadline = time.monotonic() + float(spec["timeout"])
        out = []
        matched = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                return out
            p = self.read(deadline - now)
            if not p:
                continue
            src, dst, sport, dport, ip_len, data = p
            if dport not in listen or src == spec["src_ip"]:
                continue
            out.append(as_json(p))
            if want and data[4:8] in xids:
                matched += 1
                if matched == want:
                    deadline = min(deadline, time.monotonic() + settle)


def as_json(p):
    src, dst, sport, dport, ip_len, data = p
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "ip_len": ip_len,
            "data": data.hex(), "t": time.monotonic()}


def serve(iface):
    port = Port(iface)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        spec = json.loads(line)
        late = [as_json(p) for p in port.drain()]
        sent = time.monotonic()
        got = port.probe(spec)
        print(json.dumps({"got": got, "late": late, "sent": sent}), flush=True)


def main():
    if sys.argv[1:2] == ["--serve"]:
        return serve(sys.argv[2])
    spec = json.load(sys.stdin)
    json.dump(Port(spec["iface"]).probe(spec), sys.stdout)


if __name__ == "__main__":
    main()
