#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_dhcp4, fuzz_dhcp6 and fuzz_ra (hand-built bytes).

Run from the repository root: python3 tests/fuzz/mkseeds_dhcp.py
Crashes found by fuzzing are kept beside these seeds under crash-* names
and are not rewritten by this script.
"""
import ipaddress
import os
import struct


def name(s):
    out = b""
    for lab in s.split(".") if s else []:
        out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


def ip4(s):
    return ipaddress.IPv4Address(s).packed


def ip6(s):
    return ipaddress.IPv6Address(s).packed


def o4(code, val):
    return bytes([code, len(val)]) + val


def svc(alpn=None, port=None, dohpath=None):
    out = b""
    if alpn:
        v = b"".join(bytes([len(a)]) + a.encode() for a in alpn)
        out += struct.pack(">HH", 1, len(v)) + v
    if port is not None:
        out += struct.pack(">HHH", 3, 2, port)
    if dohpath:
        out += struct.pack(">HH", 7, len(dohpath)) + dohpath.encode()
    return out


def dhcp4(opts, op=1, sname=b"", file=b"", cookie=True):
    hdr = struct.pack(">BBBBIHH", op, 1, 6, 0, 0x3903F326, 0, 0x8000)
    hdr += bytes(16) + bytes.fromhex("02005e100001") + bytes(10)
    hdr += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    return hdr + (b"\x63\x82\x53\x63" if cookie else b"\x63\x82\x53\x62") + opts


dnr4 = (lambda inst: struct.pack(">H", len(inst)) + inst)(
    struct.pack(">H", 1) + bytes([len(name("dns.example.net"))]) + name("dns.example.net")
    + bytes([4]) + ip4("192.0.2.53") + svc(["dot"], 853))
dnr4_adn = (lambda inst: struct.pack(">H", len(inst)) + inst)(
    struct.pack(">H", 2) + bytes([len(name("r.lan"))]) + name("r.lan"))
fqdn_wire = bytes([0x05, 0, 0]) + name("cam.example.com")

D4 = {
    "discover": dhcp4(o4(53, b"\1") + o4(61, b"\1\2\0\x5e\x10\0\1") + o4(12, b"cam-01")
                      + o4(60, b"udhcp 1.30") + o4(55, bytes([1, 3, 6, 15, 119, 162])) + b"\xff"),
    "offer": dhcp4(o4(53, b"\2") + o4(54, ip4("192.168.1.1")) + o4(51, struct.pack(">I", 3600))
                   + o4(1, ip4("255.255.255.0")) + o4(3, ip4("192.168.1.1"))
                   + o4(6, ip4("192.168.1.1") + ip4("9.9.9.9")) + b"\xff", op=2),
    "request_fqdn": dhcp4(o4(53, b"\3") + o4(50, ip4("192.168.1.20")) + o4(81, fqdn_wire) + b"\xff"),
    "ack_mud_dnr": dhcp4(o4(53, b"\5") + o4(6, ip4("128.2.1.10") + ip4("128.2.1.11"))
                         + o4(15, b"example") + o4(161, b"https://mud.example/cam.json")
                         + o4(162, dnr4 + dnr4_adn) + b"\xff", op=2),
    "overload_both": dhcp4(o4(53, b"\5") + o4(52, b"\3") + b"\xff", op=2,
                           file=o4(6, ip4("10.0.0.1") + ip4("10.0.0.2")) + b"\xff",
                           sname=o4(12, b"hub1") + b"\xff"),
    "overload_split": dhcp4(o4(53, b"\5") + o4(52, b"\1") + o4(6, ip4("10.0.0.1")) + b"\xff", op=2,
                            file=o4(6, ip4("10.0.0.2")) + b"\xff"),
    "overload_loop": dhcp4(o4(53, b"\5") + o4(52, b"\1") + b"\xff", file=o4(52, b"\3") + b"\xff"),
    "repeated_concat": dhcp4(o4(53, b"\5") + o4(12, b"cam") + o4(6, ip4("10.0.0.1"))
                             + o4(12, b"-01") + o4(6, ip4("10.0.0.2")) + b"\xff"),
    "len_past_end": dhcp4(o4(53, b"\5") + b"\x06\x08" + ip4("10.0.0.1")),
    "bad_fixed_len": dhcp4(b"\x35\x02\x05\x05" + b"\x36\x03\x0a\0\0" + b"\xff"),
    "no_cookie": dhcp4(o4(53, b"\1") + b"\xff", cookie=False),
    "pad_only": dhcp4(bytes(16)),
    "no_end": dhcp4(o4(53, b"\1") + o4(12, b"hi")),
    "dnr_bad": dhcp4(o4(53, b"\5") + o4(162, struct.pack(">HH", 9, 1)) + b"\xff"),
}


def h6(t, xid):
    return bytes([t]) + xid.to_bytes(3, "big")


def o6(code, val):
    return struct.pack(">HH", code, len(val)) + val


def relay(t, inner):
    return bytes([t, 0]) + ip6("2001:db8:ffff::1") + ip6("fe80::1234") + o6(18, b"eth0") + o6(9, inner)


duid = struct.pack(">HH", 3, 1) + bytes.fromhex("02005e100001")
adn6 = name("doh.example.net")
dnr6 = (struct.pack(">HH", 10, len(adn6)) + adn6 + struct.pack(">H", 16) + ip6("2001:db8::853")
        + svc(["h2"], None, "/dns-query{?dns}"))
reply = (h6(7, 0x123456) + o6(1, duid) + o6(2, duid) + o6(23, ip6("2001:db8::53") + ip6("2001:db8:1::53"))
         + o6(24, name("home.arpa") + name("example.com")))
ia = struct.pack(">III", 77, 1800, 2880) + o6(5, ip6("2001:db8::100") + struct.pack(">II", 3600, 7200)
                                              + o6(13, b"\0\0ok"))
chain = h6(1, 0x42) + o6(1, duid)
for _ in range(9):
    chain = relay(12, chain)
D6 = {
    "reply_dns_search": reply,
    "relay_repl_advertise": relay(13, h6(2, 0xabcdef) + o6(1, duid) + o6(23, ip6("fd00::1"))),
    "solicit_oro_fqdn_mud_dnr": h6(1, 9) + o6(6, struct.pack(">HHH", 23, 24, 144)) + o6(39, b"\1" + name("cam.home.arpa"))
                                + o6(112, b"https://mud.example/cam") + o6(144, dnr6)
                                + o6(144, struct.pack(">HH", 20, len(adn6)) + adn6),
    "reply_ia_na": h6(7, 1) + o6(3, ia),
    "relay_chain_past_cap": chain,
    "opt_past_end": h6(7, 2) + o6(23, ip6("2001:db8::53")) + struct.pack(">HH", 24, 40) + name("short"),
    "search_pointer": h6(7, 4) + o6(24, name("lan") + b"\xc0\x00"),
}


def nd(t, body):
    total = (len(body) + 2 + 7) // 8 * 8
    return bytes([t, total // 8]) + body + bytes(total - 2 - len(body))


rah = struct.pack(">BBHII", 64, 0xc0, 1800, 30000, 1000)
rdnss = nd(25, struct.pack(">HI", 0, 600) + ip6("2001:db8:1::53") + ip6("2001:db8:2::53"))
dnssl = nd(31, struct.pack(">HI", 0, 1200) + name("home.arpa") + name("corp.example"))
prefix = nd(3, struct.pack(">BBIII", 64, 0xc0, 86400, 14400, 0) + ip6("2001:db8:1::"))
adn = name("dns.example.org")
dnr_ra = nd(144, struct.pack(">HIH", 5, 3600, len(adn)) + adn + struct.pack(">H", 16) + ip6("2001:db8::35")
            + (lambda s: struct.pack(">H", len(s)) + s)(svc(["doq"], 853)))
RA = {
    "rdnss_dnssl_prefix": rah + nd(1, bytes.fromhex("02005e005301")) + prefix
                          + nd(5, struct.pack(">HI", 0, 1500)) + rdnss + dnssl
                          + nd(24, struct.pack(">BBI", 48, 8, 900) + ip6("2001:db8:ff00::")[:8]),
    "dnr": rah + dnr_ra + nd(144, struct.pack(">HIH", 6, 60, len(adn)) + adn),
    "len_zero": rah + rdnss + b"\x03\x00" + bytes(6) + rdnss,
    "truncated": (rah + rdnss + rdnss)[:-4],
    "dnssl_bad_label": rah + nd(31, struct.pack(">HI", 0, 600) + name("ok.lan") + b"\xe2www"),
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
for sub, seeds in (("dhcp4", D4), ("dhcp6", D6), ("ra", RA)):
    d = os.path.join(here, sub)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    print("%s: %d seeds" % (sub, len(seeds)))
