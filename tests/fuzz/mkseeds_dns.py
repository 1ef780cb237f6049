#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_dns and fuzz_dns_tcp (hand-built bytes).

Run from the repository root: python3 tests/fuzz/mkseeds_dns.py
"""
import os
import struct

def name(s):
    out = b""
    for lab in s.split(".") if s else []:
        out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"

def hdr(id_, flags, qd, an, ns, ar):
    return struct.pack(">6H", id_, flags, qd, an, ns, ar)

def rr(owner, typ, ttl, rdata, cls=1):
    return owner + struct.pack(">HHIH", typ, cls, ttl, len(rdata)) + rdata

Q = name("example.com") + struct.pack(">HH", 1, 1)
P = b"\xc0\x0c"
def opt(options, udp=1232, ext=0, flags=0x8000):
    rd = b"".join(struct.pack(">HH", c, len(v)) + v for c, v in options)
    return b"\0" + struct.pack(">HHBBHH", 41, udp, ext, 0, flags, len(rd)) + rd

svc = (struct.pack(">H", 1) + b"\0" + struct.pack(">HH", 1, 6) + b"\x02h2\x02h3"
       + struct.pack(">HHH", 3, 2, 443) + struct.pack(">HH", 4, 4) + bytes([192, 0, 2, 1])
       + struct.pack(">HH", 5, 3) + b"\1\2\3" + struct.pack(">HH", 6, 16) + bytes(15) + b"\1")
soa = P + P + struct.pack(">5I", 1, 7200, 3600, 1209600, 300)
seeds = {
    "query_a": hdr(1, 0x0100, 1, 0, 0, 0) + Q,
    "query_edns_cookie_ecs": hdr(2, 0x0120, 1, 0, 0, 1) + Q + opt(
        [(10, bytes(8)), (8, struct.pack(">HBB", 1, 24, 0) + bytes([192, 0, 2])), (12, bytes(4))]),
    "response_types": hdr(3, 0x8180, 1, 9, 1, 1) + Q
        + rr(P, 5, 300, b"\3www" + P) + rr(P, 1, 60, bytes([192, 0, 2, 1]))
        + rr(P, 28, 60, bytes(15) + b"\1") + rr(P, 15, 60, b"\0\x0a\4mail" + P)
        + rr(P, 16, 60, b"\6v=spf1\3a\"b") + rr(P, 33, 60, struct.pack(">HHH", 0, 5, 5060) + P)
        + rr(P, 65, 60, svc) + rr(P, 257, 60, b"\0\5issueca.org")
        + rr(P, 46, 60, struct.pack(">HBBIIIH", 1, 13, 2, 300, 1704067200, 1701388800, 7) + P + b"\1\2\3")
        + rr(P, 6, 900, soa) + opt([(15, b"\0\x12x")], ext=1),
    "nxdomain_soa": hdr(4, 0x8183, 1, 0, 1, 0) + Q + rr(P, 6, 900, soa),
    "mdns_qu": hdr(0, 0, 1, 0, 0, 0) + name("hub.local") + struct.pack(">HH", 12, 0x8001),
    "pointer_loop": hdr(5, 0x8180, 1, 1, 0, 0) + Q + b"\1a\xc0\x1d" + struct.pack(">HHIH", 1, 1, 0, 0),
    "forward_pointer": hdr(6, 0x0100, 1, 0, 0, 0) + b"\xc0\x10\0\0\1a\0",
    "label_64": hdr(7, 0x0100, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\0\0\1\0\1",
    "opt_twice_bad_len": hdr(8, 0x0100, 1, 0, 0, 2) + Q + opt([(10, bytes(5))]) + opt([]),
    "truncated": (hdr(9, 0x8180, 1, 2, 0, 0) + Q + rr(P, 1, 60, bytes(4)))[:-2],
}
# TCP scripts: [seq(4)][synced(1)] then records [op][len][payload].
stream = b"".join(struct.pack(">H", len(m)) + m for m in
                  (seeds["query_a"], seeds["response_types"], b"", seeds["nxdomain_soa"]))
def script(ops, isn=0xfffffff0, synced=1):
    out, pos = struct.pack(">IB", isn, synced), 0
    for op, n in ops:
        out += bytes([op, n]) + stream[pos:pos + n]
        if op & 3 == 0:
            pos += n
    return out
tcp = {
    "in_order": script([(0, 40), (0, 255), (0, 255)]),
    "small_cap_retrans_gap": script([(4, 20), (1 | 8, 30), (0, 100), (2 | 16, 200)]),
    "byte_by_byte_unsynced": script([(0, 1)] * 60, synced=0),
}
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
for d, items in (("dns", seeds), ("dns_tcp", tcp)):
    os.makedirs(os.path.join(root, d), exist_ok=True)
    for k, v in items.items():
        with open(os.path.join(root, d, k), "wb") as f:
            f.write(v)
