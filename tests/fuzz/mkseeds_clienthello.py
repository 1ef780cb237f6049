#!/usr/bin/env python3
"""Writes hand-built seeds for fuzz_clienthello into
tests/fuzz/corpus/clienthello/. Byte 0 = mode (0 records, 1 raw message,
2 stream split at byte 1, 3 QUIC datagram); the rest is the input."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "clienthello")


def ext(t, body):
    return struct.pack(">HH", t, len(body)) + body


def u16list(vals, lenbytes=2):
    b = b"".join(struct.pack(">H", v) for v in vals)
    return (struct.pack(">B", len(b)) if lenbytes == 1 else struct.pack(">H", len(b))) + b


def sni(name):
    n = name.encode()
    return ext(0, struct.pack(">HBH", len(n) + 3, 0, len(n)) + n)


def alpn(names):
    b = b"".join(bytes([len(x)]) + x for x in names)
    return ext(0x10, struct.pack(">H", len(b)) + b)


def hello(ciphers, exts, version=0x0303, sid=32):
    body = struct.pack(">H", version) + bytes(range(32)) + bytes([sid]) + b"\x55" * sid
    body += u16list(ciphers) + b"\x01\x00"
    if exts is not None:
        e = b"".join(exts)
        body += struct.pack(">H", len(e)) + e
    return b"\x01" + struct.pack(">I", len(body))[1:] + body


def records(msg, frag=16384, rv=0x0301):
    out = b""
    for i in range(0, len(msg), frag):
        k = msg[i:i + frag]
        out += struct.pack(">BHH", 22, rv, len(k)) + k
    return out


base_exts = [ext(0x1a1a, b""), sni("iot.example.com"), ext(0x17, b""),
             ext(0x0a, u16list([0x2a2a, 0x1d, 0x17])), ext(0x0b, b"\x01\x00"),
             ext(0x0d, u16list([0x0403, 0x0804, 0x0401])), alpn([b"h2", b"http/1.1"]),
             ext(0x2b, u16list([0x3a3a, 0x0304, 0x0303], 1)), ext(0x23, b""),
             ext(0xfe0d, b"\x00\x01\x02\x03")]
base = hello([0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x002f], base_exts)
dot = hello([0x1301, 0x1302, 0xc02f], [sni("dns.google"), alpn([b"dot"]),
                                       ext(0x2b, u16list([0x0304], 1))])
noext = hello([0x002f, 0x0035], None, sid=0)
seeds = {
    "records_base": b"\x00\x00" + records(base),
    "records_dot": b"\x00\x00" + records(dot),
    "records_noext": b"\x00\x00" + records(noext),
    "records_frag7": b"\x00\x00" + records(base, 7),
    "records_two_hellos": b"\x00\x00" + records(base) + records(dot),
    "raw_base": b"\x01\x00" + base,
    "raw_doq": b"\x01\x00" + hello([0x1301], [alpn([b"doq"]), ext(0x39, b"\x01\x02\x00\x00")]),
    "stream_split40": b"\x02\x28" + records(base),
    "stream_split3": b"\x02\x03" + records(dot, 50),
    "bad_ext_len": b"\x00\x00" + records(hello([0x1301], [ext(0x17, b"")]) + b"\xff\x01\x00\xc8"),
    "bad_record_version": b"\x00\x00" + bytes([22, 2, 0]) + records(dot)[3:],
    "quic_short": b"\x03\x00" + bytes([0xc0, 0, 0, 0, 1, 8]) + bytes(8) + bytes([0, 0, 0x41, 0x00]) + bytes(300),
    "quic_v2_hdr": b"\x03\x00" + bytes([0xd0, 0x6b, 0x33, 0x43, 0xcf, 8]) + bytes(8) + bytes([0, 0, 0x44, 0xd0]) + bytes(1230),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), OUT))
