#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_frame into tests/fuzz/corpus/frame/.

Input format (see fuzz_frame.c): one byte picking the link type, then
records of a 2-byte big-endian length and that many frame bytes.
Run from the repository root: python3 tests/fuzz/mkseeds_frame.py
"""
import os
import struct

OUT = "tests/fuzz/corpus/frame"
L_ETH, L_SLL, L_SLL2, L_NULL, L_LOOP, L_RAW, L_RAW_LT, L_IPV4, L_IPV6, L_BAD = range(10)

MAC_A = bytes.fromhex("02000000000a")
MAC_B = bytes.fromhex("02000000000b")
IP4_A = bytes([192, 0, 2, 10])
IP4_B = bytes([192, 0, 2, 1])
IP6_A = bytes.fromhex("20010db800000000000000000000000a")
IP6_B = bytes.fromhex("20010db8000000000000000000000001")
DNS_Q = bytes.fromhex("123401000001000000000000") + b"\x07example\x03com\x00\x00\x01\x00\x01"


def eth(t, body, tags=()):
    """Ethernet II; tags are (TPID, VID) pairs, outermost first."""
    h = MAC_B + MAC_A
    for tpid, vid in tags:
        h += struct.pack(">HH", tpid, vid)
    return h + struct.pack(">H", t) + body


def ipv4(proto, payload, ident=1, fo=0, ttl=64):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, fo, ttl, proto, 0,
                       IP4_A, IP4_B) + payload


def ipv6(nh, payload, hlim=64):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, hlim, IP6_A, IP6_B) + payload


def udp(sport, dport, data):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(flags, data=b""):
    return struct.pack(">HHIIBBHHH", 40001, 53, 1, 2, 5 << 4, flags, 65535, 0, 0) + data


def frag6(nh, off, more, ident, data):
    return struct.pack(">BBHI", nh, 0, off | more, ident) + data


def seed(name, link, frames):
    b = bytes([link])
    for f in frames:
        b += struct.pack(">H", len(f)) + f
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(b)


def main():
    os.makedirs(OUT, exist_ok=True)
    v4udp = ipv4(17, udp(40000, 53, DNS_Q))
    v6udp = ipv6(17, udp(5353, 53, DNS_Q))
    seed("eth_v4_udp", L_ETH, [eth(0x0800, v4udp)])
    seed("eth_v4_tcp", L_ETH, [eth(0x0800, ipv4(6, tcp(0x18, b"\x00\x1d" + DNS_Q)))])
    seed("eth_vlan", L_ETH, [eth(0x0800, v4udp, [(0x8100, 100)])])
    seed("eth_qinq", L_ETH, [eth(0x0800, v4udp, [(0x88a8, 200), (0x8100, 100)])])
    seed("eth_vlan3", L_ETH, [eth(0x0800, v4udp, [(0x9100, 1), (0x88a8, 2), (0x8100, 3)])])
    arp = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + IP4_A + bytes(6) + IP4_B
    seed("eth_arp", L_ETH, [eth(0x0806, arp), eth(0x0806, arp[:7] + b"\x02" + arp[8:])])
    seed("eth_v6_udp", L_ETH, [eth(0x86dd, v6udp)])
    hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])
    do = bytes([51, 0, 1, 4, 0, 0, 0, 0])
    ah = bytes([17, 2]) + bytes(14)
    seed("eth_v6_ext", L_ETH, [eth(0x86dd, ipv6(0, hbh + do + ah + udp(5353, 53, DNS_Q)))])
    ra = bytes([134, 0, 0, 0, 64, 0, 7, 8]) + bytes(8) + bytes([25, 3, 0, 0, 0, 0, 14, 16]) + IP6_B
    seed("eth_icmpv6_ra", L_ETH, [eth(0x86dd, ipv6(58, ra, 255))])

    dg = udp(40000, 53, DNS_Q + bytes(64))
    pieces = [(0, dg[:32]), (32, dg[32:64]), (64, dg[64:])]
    f4 = [eth(0x0800, ipv4(17, d, 7, (0x2000 if o + len(d) < len(dg) else 0) | o // 8)) for o, d in pieces]
    seed("eth_v4_frag_in_order", L_ETH, f4)
    seed("eth_v4_frag_reverse", L_ETH, f4[::-1])
    seed("eth_v4_frag_dup", L_ETH, [f4[0], f4[0], f4[1], f4[2], f4[2]])
    bad = bytearray(f4[1])
    bad[-1] ^= 0xff
    seed("eth_v4_frag_overlap", L_ETH, [f4[0], bytes(bad), f4[1], f4[2]])
    seed("eth_v4_frag_timeout", L_ETH, [f4[0]] + [eth(0x0800, v4udp)] * 6 + [f4[1], f4[2]])
    firsts = [eth(0x0800, ipv4(17, dg[:32], i, 0x2000)) for i in range(6)]
    seed("eth_v4_frag_evict", L_ETH, firsts + [f4[1], f4[2]])
    big = eth(0x0800, ipv4(17, bytes(64), 9, 8190))
    seed("eth_v4_frag_too_big", L_ETH, [big])

    f6 = [eth(0x86dd, ipv6(60, bytes([44, 0, 1, 4, 0, 0, 0, 0]) +
                           frag6(17, o, 1 if o + len(d) < len(dg) else 0, 0x1234, d))) for o, d in pieces]
    seed("eth_v6_frag_in_order", L_ETH, f6)
    seed("eth_v6_frag_reverse", L_ETH, f6[::-1])
    bad6 = bytearray(f6[2])
    bad6[-3] ^= 0x55
    seed("eth_v6_frag_overlap", L_ETH, [f6[2], f6[0], bytes(bad6), f6[1]])
    atomic = ipv6(44, frag6(17, 0, 0, 1, udp(5353, 53, DNS_Q)))
    seed("eth_v6_atomic_frag", L_ETH, [eth(0x86dd, atomic)])

    sll = struct.pack(">HHH", 0, 1, 6) + MAC_A + b"\0\0" + struct.pack(">H", 0x0800)
    seed("sll_v4", L_SLL, [sll + v4udp])
    sll_out = struct.pack(">HHH", 4, 1, 6) + MAC_A + b"\0\0" + struct.pack(">H", 0x86dd)
    seed("sll_v6_outgoing", L_SLL, [sll_out + v6udp])
    sll2 = struct.pack(">HHIHBB", 0x0800, 0, 2, 1, 4, 6) + MAC_A + b"\0\0"
    seed("sll2_v4", L_SLL2, [sll2 + v4udp])
    seed("null_v4", L_NULL, [struct.pack("<I", 2) + v4udp])
    seed("null_v6_be", L_NULL, [struct.pack(">I", 30) + v6udp])
    seed("loop_v6", L_LOOP, [struct.pack(">I", 24) + v6udp])
    seed("raw_v4_frags", L_RAW, [f[14:] for f in f4])
    seed("raw_lt_v6", L_RAW_LT, [v6udp])
    seed("ipv4_link", L_IPV4, [v4udp])
    seed("ipv6_link", L_IPV6, [v6udp, ipv6(60, bytes([60, 0]) * 4 * 9)])
    seed("unsupported_link", L_BAD, [v4udp])


if __name__ == "__main__":
    main()
