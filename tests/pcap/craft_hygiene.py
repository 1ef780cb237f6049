"""Crafted captures for the stub-resolver hygiene detections.

Each craft_<name>() returns (linktype, [(ts_us, frame)]) like tests/pcap/craft.py,
whose helpers it uses. Randomness comes from random.Random with a fixed seed,
so every capture is the same bytes on every run.
"""
import random
import struct

from craft import (ACK, A_1, DEV, DEV2, DEV_IP, DEV2_IP, ETH, G_IP, PSH, RES_IP, ROUTER, SYN,
                   T0, dns, eth, ipv4, ipv6, name, opt, rr, tcp4, udp, udp4)

SEC = 1000000
BCAST = b"\xff" * 6
DEV3 = bytes.fromhex("00178800000c")
DEV3_IP = bytes([192, 168, 1, 12])
ROGUE = bytes.fromhex("02aabbccdd01")
ROGUE_IP = bytes([192, 168, 1, 250])
CF_IP = bytes([1, 1, 1, 1])


def dhcp_ack(client_mac, yiaddr, dns_servers, server_mac=ROUTER, server_ip=RES_IP, xid=0x1234,
             hostname=None, msg_type=5):
    """A DHCPv4 ACK (or OFFER) from server to client with option 6 (RFC 2132 §3.8)."""
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, 0, b"\0" * 4, yiaddr,
                        server_ip, b"\0" * 4, client_mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, msg_type]) + bytes([54, 4]) + server_ip
    opts += bytes([51, 4]) + struct.pack("!I", 86400) + bytes([1, 4, 255, 255, 255, 0])
    opts += bytes([3, 4]) + server_ip
    if dns_servers:
        opts += bytes([6, 4 * len(dns_servers)]) + b"".join(dns_servers)
    if hostname:
        opts += bytes([12, len(hostname)]) + hostname.encode()
    opts += b"\xff"
    return eth(server_mac, client_mac, 0x0800,
               ipv4(server_ip, yiaddr, 17, udp(67, 68, bootp + opts)))


def dhcp_request(client_mac, xid=0x1234, hostname=None):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0, b"\0" * 4, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, client_mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, 3, 55, 3, 1, 3, 6])
    if hostname:
        opts += bytes([12, len(hostname)]) + hostname.encode()
    opts += b"\xff"
    return eth(client_mac, BCAST, 0x0800,
               ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, bootp + opts)))


def answer(id_, qname, qtype=1, rcode=0, tc=False):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    ans = [rr(b"\xc0\x0c", 1, 300, A_1)] if rcode == 0 and not tc and qtype == 1 else []
    return dns(id_, flags, qname, qtype, answers=ans)


def exchange(ts, mac, ip, server, sport, id_, qname, qtype=1, q_opt=b"", qflags=0x0100,
             answered=True, tc=False):
    """A query and (when answered) its response 20 ms later."""
    out = [(ts, udp4(mac, ROUTER, ip, server, sport, 53,
                     dns(id_, qflags, qname, qtype, additional=[q_opt] if q_opt else ())))]
    if answered:
        out.append((ts + 20000, udp4(ROUTER, mac, server, ip, 53, sport, answer(id_, qname, qtype, tc=tc))))
    return out


def craft_txid_zero():
    """A camera whose every query has ID 0 (and a fixed port): the ID rule
    fires after 8 queries; the port rule waits for 64 samples."""
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    for i in range(12):
        pk += exchange(T0 + (i + 1) * 10 * SEC, DEV, DEV_IP, RES_IP, 40000, 0, "cam%d.example.com" % i)
    return ETH, pk


def craft_ports_63():
    """63 queries with random ports and IDs: below the 64-sample minimum,
    no verdict on ports yet (DETECTIONS.md near-miss)."""
    rnd = random.Random(63)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    for i in range(63):
        pk += exchange(T0 + (i + 1) * SEC, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535),
                       rnd.randint(0, 65535), "n%d.example.com" % i)
    return ETH, pk


def craft_ports_narrow():
    """70 queries from ports in a 64-port window, random IDs: ports are Poor."""
    rnd = random.Random(64)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    for i in range(70):
        pk += exchange(T0 + (i + 1) * SEC, DEV, DEV_IP, RES_IP, 50000 + rnd.randint(0, 63),
                       rnd.randint(0, 65535), "n%d.example.com" % i)
    return ETH, pk


def craft_dhcp_hardcoded():
    """DHCP assigns 192.168.1.1 to a plug that then asks 8.8.8.8 only; a
    second device uses the assigned resolver."""
    rnd = random.Random(8)
    pk = [(T0, dhcp_request(DEV2, hostname="plug")), (T0 + 1000, dhcp_ack(DEV2, DEV2_IP, [RES_IP], hostname="plug")),
          (T0 + 2000, dhcp_ack(DEV, DEV_IP, [RES_IP], xid=7))]
    for i in range(6):
        pk += exchange(T0 + (i + 1) * SEC, DEV2, DEV2_IP, G_IP, rnd.randint(1024, 65535),
                       rnd.randint(0, 65535), "devs.tplinkcloud.com")
        pk += exchange(T0 + (i + 1) * SEC + 500000, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535),
                       rnd.randint(0, 65535), "time.example.com")
    return ETH, pk


def craft_fallback():
    """The assigned resolver answers, then stops; only then does the device
    ask 1.1.1.1 (three times). fallback_only, not a plain hard-coded alert."""
    rnd = random.Random(9)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    t = T0 + SEC
    for i in range(5):
        pk += exchange(t, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535),
                       "ok%d.example.com" % i)
        t += 10 * SEC
    for i in range(3):
        port, qid = rnd.randint(1024, 65535), rnd.randint(0, 65535)
        pk += exchange(t, DEV, DEV_IP, RES_IP, port, qid, "down%d.example.com" % i, answered=False)
        pk += exchange(t + 1500000, DEV, DEV_IP, CF_IP, port + 1, qid ^ 1, "down%d.example.com" % i)
        t += 10 * SEC
    return ETH, pk


def craft_lease_predates():
    """One device's DHCP is seen; the other's lease predates the capture. It
    asks the resolver the segment hands out: designated, no alert."""
    rnd = random.Random(10)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    for i in range(6):
        pk += exchange(T0 + (i + 1) * SEC, DEV3, DEV3_IP, RES_IP, rnd.randint(1024, 65535),
                       rnd.randint(0, 65535), "x%d.example.com" % i)
    return ETH, pk


def craft_edns():
    """Three devices, 55 queries each: no OPT (edns.missing), OPT 4096
    (edns.buffer-size), OPT 1232 (neither)."""
    rnd = random.Random(11)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP])), (T0 + 1, dhcp_ack(DEV2, DEV2_IP, [RES_IP], xid=2)),
          (T0 + 2, dhcp_ack(DEV3, DEV3_IP, [RES_IP], xid=3))]
    for i in range(55):
        t = T0 + (i + 1) * SEC
        pk += exchange(t, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535), "a.example.com")
        pk += exchange(t + 1000, DEV2, DEV2_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535),
                       "b.example.com", q_opt=opt(4096))
        pk += exchange(t + 2000, DEV3, DEV3_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535),
                       "c.example.com", q_opt=opt(1232))
    return ETH, pk


def craft_tc_fallback():
    """Both devices get a truncated answer; one retries over TCP within a
    second, the other never does."""
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP])), (T0 + 1, dhcp_ack(DEV2, DEV2_IP, [RES_IP], xid=2))]
    pk += exchange(T0 + SEC, DEV, DEV_IP, RES_IP, 41000, 0x1111, "big.example.com", 16, tc=True)
    pk += exchange(T0 + SEC, DEV2, DEV2_IP, RES_IP, 42000, 0x2222, "big.example.com", 16, tc=True)
    q = dns(0x1112, 0x0100, "big.example.com", 16)
    framed = struct.pack("!H", len(q)) + q
    t = T0 + SEC + 500000
    pk += [(t, tcp4(DEV, ROUTER, DEV_IP, RES_IP, 41001, 53, 100, 0, SYN)),
           (t + 100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 41001, 900, 101, SYN | ACK)),
           (t + 200, tcp4(DEV, ROUTER, DEV_IP, RES_IP, 41001, 53, 101, 901, ACK)),
           (t + 300, tcp4(DEV, ROUTER, DEV_IP, RES_IP, 41001, 53, 101, 901, PSH | ACK, framed))]
    # Later traffic moves packet time past the 3 s window.
    pk += exchange(T0 + 10 * SEC, DEV2, DEV2_IP, RES_IP, 42001, 0x2223, "later.example.com")
    return ETH, pk


def craft_ipv6():
    """The router advertises a prefix and RDNSS; the device has a global
    IPv6 address (NDP) but asks only A, over IPv4, 55 times."""
    router6 = bytes.fromhex("fe800000000000000000000000000001")
    gw6 = bytes.fromhex("20010db8000100000000000000000001")
    dev6 = bytes.fromhex("20010db80001000026 0ac4fffe000001".replace(" ", ""))
    ra = struct.pack("!BBHII", 64, 0, 1800, 0, 0)
    ra += struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0, gw6[:8] + b"\0" * 8)
    ra += struct.pack("!BBHI16s", 25, 3, 0, 3600, gw6)
    icmp = struct.pack("!BBH", 134, 0, 0) + ra
    pk = [(T0, eth(ROUTER, bytes.fromhex("333300000001"), 0x86dd,
                   ipv6(router6, bytes.fromhex("ff020000000000000000000000000001"), 58, icmp, 255))),
          (T0 + 1000, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    ns = struct.pack("!BBHI16s", 135, 0, 0, 0, router6)
    rnd = random.Random(12)
    for i in range(55):
        t = T0 + (i + 1) * SEC
        pk += exchange(t, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535), "v4.example.com")
        if i == 0:
            pk.append((t + 5000, eth(DEV, ROUTER, 0x86dd, ipv6(dev6, router6, 58, ns, 255))))
    return ETH, pk


def craft_dnssec():
    """55 queries without DO from one device; the other sets DO."""
    rnd = random.Random(13)
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP])), (T0 + 1, dhcp_ack(DEV2, DEV2_IP, [RES_IP], xid=2))]
    for i in range(55):
        t = T0 + (i + 1) * SEC
        pk += exchange(t, DEV, DEV_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535),
                       "a.example.com", q_opt=opt(1232))
        pk += exchange(t + 1000, DEV2, DEV2_IP, RES_IP, rnd.randint(1024, 65535), rnd.randint(0, 65535),
                       "b.example.com", q_opt=opt(1232, do=True))
    return ETH, pk


def craft_rogue_dhcp():
    """The router hands out 192.168.1.1; a second server on the segment
    hands out itself; later the router changes its list."""
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP])),
          (T0 + SEC, dhcp_ack(DEV, DEV_IP, [RES_IP])),
          (T0 + 2 * SEC, dhcp_ack(DEV2, DEV2_IP, [ROGUE_IP], server_mac=ROGUE, server_ip=ROGUE_IP, xid=9)),
          (T0 + 3 * SEC, dhcp_ack(DEV3, DEV3_IP, [RES_IP, G_IP], xid=10))]
    return ETH, pk


def craft_ddr_segment():
    """A device asks _dns.resolver.arpa SVCB (RFC 9462 §4): its segment
    records DDR use. Another, on VLAN 5, asks a name that only starts the
    same: its segment does not."""
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    pk += exchange(T0 + SEC, DEV, DEV_IP, RES_IP, 40000, 0x0dd1, "_dns.resolver.arpa", 64)
    q = dns(0x0dd2, 0x0100, "_dns.resolver.arpa.example", 64)
    pk.append((T0 + 2 * SEC, udp4(DEV2, ROUTER, DEV2_IP, RES_IP, 40001, 53, q, vlans=(5,))))
    return ETH, pk


def craft_geo_hardcoded():
    """DHCP assigns 192.168.1.1; the device asks 192.0.2.53 and
    2001:db8:1::53, which the test's GeoIP databases place in Berlin
    (AS64496) and Zürich (AS64497)."""
    rnd = random.Random(14)
    res4 = bytes([192, 0, 2, 53])
    pk = [(T0, dhcp_ack(DEV, DEV_IP, [RES_IP]))]
    for i in range(4):
        pk += exchange(T0 + (i + 1) * SEC, DEV, DEV_IP, res4, rnd.randint(1024, 65535),
                       rnd.randint(0, 65535), "geo%d.example.com" % i)
    return ETH, pk


def craft_random_mac():
    """A device with a locally administered (randomised) MAC: no vendor."""
    mac = bytes.fromhex("da0011223344")
    return ETH, exchange(T0, mac, DEV_IP, RES_IP, 40000, 0x4242, "phone.example.com")
