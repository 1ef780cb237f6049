#!/usr/bin/env python3
"""Crafted captures for the integrity module's cases (sensor/detect/integrity.c):
response.race, .txid-mismatch, .unsolicited, .bogon-answer, .duplicate-rr,
.reply-flood, amplification.device-serves-dns, amplification.ratio,
exfil.suspect-names, policy.new-domain, and a flood of random names, MACs
and IDs that must leave memory bounded.

Each craft_<name>() returns (linktype, [(ts_us, frame)]). Every case that
fires has a near-miss next to it on another device (alerts are rate-limited
per device and rule, so one device per verdict).
"""
import random
import struct

from craft import (ETH, T0, DEV, DEV2, ROUTER, DEV_IP, DEV2_IP, RES_IP, G_IP,
                   A_1, dns, rr, opt, eth, ipv4, udp, tcp, SYN)

SPOOF = bytes.fromhex("0a0000bad001")          # the attacker's MAC on the LAN
DEV3 = bytes.fromhex("b827eb000003")           # Raspberry Pi
DEV3_IP = bytes([192, 168, 1, 12])
DEV4 = bytes.fromhex("7c2ebd000004")
DEV4_IP = bytes([192, 168, 1, 13])
UPSTREAM = bytes.fromhex("02005e0000fe")       # the ISP side of the router
WAN_IP = bytes([100, 64, 0, 2])
OUTSIDE = bytes([45, 33, 32, 156])             # a client on the Internet
EVIL = bytes([6, 6, 6, 6])
S = 1000000
DAY = 86400 * S


def u4(src_mac, dst_mac, src, dst, sport, dport, payload, ttl=64):
    return eth(src_mac, dst_mac, 0x0800, ipv4(src, dst, 17, udp(sport, dport, payload), ttl=ttl))


def query(ts, mac, ip, id_, qname, sport, qtype=1, server=RES_IP, extra=()):
    return (ts, u4(mac, ROUTER, ip, server, sport, 53, dns(id_, 0x0100, qname, qtype,
                                                               additional=extra)))


def answer(ts, mac, ip, id_, qname, sport, addrs, qtype=1, server=RES_IP, src_mac=ROUTER,
           ttl=64, rrttl=300, rcode=0):
    ans = [rr(b"\xc0\x0c", qtype, rrttl, a) for a in addrs]
    return (ts, u4(src_mac, mac, server, ip, 53, sport, dns(id_, 0x8180 | rcode, qname, qtype,
                                                               answers=ans), ttl=ttl))


def craft_integ_race():
    """A query answered by the resolver (IP TTL 64, router MAC) and 800 µs
    later by a spoofer (IP TTL 128, another MAC) with another address; the
    device then opens TCP to the spoofer's address. DEV2's identical
    retransmitted answer and DEV3's CDN answers that differ across two
    different queries are near-misses."""
    pk = []
    pk.append(query(T0, DEV, DEV_IP, 0x1234, "update.vendor.com", 40001))
    pk.append(answer(T0 + 20000, DEV, DEV_IP, 0x1234, "update.vendor.com", 40001, [A_1]))
    pk.append(answer(T0 + 20800, DEV, DEV_IP, 0x1234, "update.vendor.com", 40001, [EVIL],
                     src_mac=SPOOF, ttl=128))
    pk.append((T0 + 60000, eth(DEV, ROUTER, 0x0800,
                               ipv4(DEV_IP, EVIL, 6, tcp(51000, 443, 1000, 0, SYN)))))
    # Near-miss 1: the same answer twice (a resolver answering a retransmission).
    pk.append(query(T0 + S, DEV2, DEV2_IP, 0x2222, "time.vendor.com", 40002))
    pk.append(query(T0 + S + 900000, DEV2, DEV2_IP, 0x2222, "time.vendor.com", 40002))
    pk.append(answer(T0 + S + 950000, DEV2, DEV2_IP, 0x2222, "time.vendor.com", 40002,
                     [A_1, bytes([93, 184, 216, 35])]))
    # The same set in another order is the same answer.
    pk.append(answer(T0 + S + 960000, DEV2, DEV2_IP, 0x2222, "time.vendor.com", 40002,
                     [bytes([93, 184, 216, 35]), A_1]))
    # Near-miss 2: a CDN gives different answers to two different queries.
    pk.append(query(T0 + 2 * S, DEV3, DEV3_IP, 0x3001, "cdn.vendor.com", 40003))
    pk.append(answer(T0 + 2 * S + 10000, DEV3, DEV3_IP, 0x3001, "cdn.vendor.com", 40003,
                     [bytes([151, 101, 1, 1])]))
    pk.append(query(T0 + 2 * S + 20000, DEV3, DEV3_IP, 0x3002, "cdn.vendor.com", 40004))
    pk.append(answer(T0 + 2 * S + 30000, DEV3, DEV3_IP, 0x3002, "cdn.vendor.com", 40004,
                     [bytes([151, 101, 65, 1])]))
    return ETH, pk


LONG_NAME = "firmware-downloads-eu-central-1.device-update-service.cdn.vendor-cloud.com"


def craft_integ_race_long_name():
    """A race on a name of 74 characters, longer than the engine keeps of
    a query's name (63): the alert must name it whole."""
    assert len(LONG_NAME) > 63
    pk = [query(T0, DEV, DEV_IP, 0x1235, LONG_NAME, 40001),
          answer(T0 + 20000, DEV, DEV_IP, 0x1235, LONG_NAME, 40001, [A_1]),
          answer(T0 + 20800, DEV, DEV_IP, 0x1235, LONG_NAME, 40001, [EVIL],
                 src_mac=SPOOF, ttl=128)]
    return ETH, pk


def craft_integ_race_retransmit():
    """Queries sent twice (the same ID and port: a retransmission), each
    copy answered with another address. Two answers to one outstanding
    query are a race whatever the path (a spoofer can match the router's
    MAC and the IP TTL): DEV's come the same way, DEV2's second has IP TTL
    128, DEV3's another source MAC, DEV4 gets three different answers to
    its two copies. Every alert says the query was retransmitted."""
    pk = []
    cdn = [bytes([151, 101, 1, 1]), bytes([151, 101, 65, 1]), bytes([151, 101, 129, 1])]
    devs = [(DEV, DEV_IP), (DEV2, DEV2_IP), (DEV3, DEV3_IP), (DEV4, DEV4_IP)]
    for k, (mac, ip) in enumerate(devs):
        t = T0 + k * 20 * S
        id_, port = 0x5001 + k, 40011 + k
        pk.append(query(t, mac, ip, id_, "cdn.vendor.com", port))
        pk.append(query(t + S, mac, ip, id_, "cdn.vendor.com", port))
        pk.append(answer(t + S + 20000, mac, ip, id_, "cdn.vendor.com", port, [cdn[0]]))
        src, ttl = (SPOOF, 64) if k == 2 else (ROUTER, 128 if k == 1 else 64)
        pk.append(answer(t + S + 30000, mac, ip, id_, "cdn.vendor.com", port, [cdn[1]],
                         src_mac=src, ttl=ttl))
        if k == 3:
            pk.append(answer(t + S + 40000, mac, ip, id_, "cdn.vendor.com", port, [cdn[2]]))
    return ETH, pk


def craft_integ_txid():
    """DEV has a query open on port 40000; 12 responses with wrong IDs reach
    that port within 1.1 s (Kaminsky). DEV2 gets 9 (below 10)."""
    rnd = random.Random(4)
    pk = [query(T0, DEV, DEV_IP, 0x4242, "cloud.vendor.com", 40000),
          query(T0, DEV2, DEV2_IP, 0x4343, "cloud.vendor.com", 40010)]
    for i in range(12):
        pk.append(answer(T0 + 1000 + i * 100000, DEV, DEV_IP, rnd.randrange(65536),
                         "cloud.vendor.com", 40000, [EVIL], src_mac=SPOOF, ttl=50))
    for i in range(9):
        pk.append(answer(T0 + 1000 + i * 100000, DEV2, DEV2_IP, 0x5000 + i,
                         "cloud.vendor.com", 40010, [EVIL], src_mac=SPOOF, ttl=50))
    pk.append(answer(T0 + 1500000, DEV, DEV_IP, 0x4242, "cloud.vendor.com", 40000, [A_1]))
    pk.append(answer(T0 + 1500000, DEV2, DEV2_IP, 0x4343, "cloud.vendor.com", 40010, [A_1]))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def big_txt(n):
    """TXT RDATA of n bytes in 255-byte strings."""
    out = b""
    while n > 0:
        k = min(n - 1, 255)
        out += bytes([k]) + b"v" * k
        n -= k + 1
    return out


def craft_integ_unsolicited():
    """DEV asked nothing, yet 120 ANY answers of ~1.4 KB reach it from
    port 53 of three servers within 30 s (reflection victim): a medium alert
    at 5, a high one at 100. DEV2 gets 4 (below 5)."""
    pk = []
    servers = [bytes([198, 41, 0, 4]), bytes([199, 9, 14, 201]), bytes([192, 33, 4, 12])]
    for i in range(120):
        r = dns(0x7000 + i, 0x8180, "isc.org", 255, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(1400))])
        pk.append((T0 + i * 250000, u4(ROUTER, DEV, servers[i % 3], DEV_IP, 53, 80, r)))
    for i in range(4):
        r = dns(0x7100 + i, 0x8180, "isc.org", 255, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(1400))])
        pk.append((T0 + i * 250000 + 1, u4(ROUTER, DEV2, servers[0], DEV2_IP, 53, 80, r)))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def craft_integ_unsolicited_sustained():
    """A reflection that goes on: 800 ANY answers of ~1.4 KB reach DEV over
    4 minutes (four 60 s windows, each past the volume threshold). One
    medium alert and one high escalation, then quiet for the rule's rate
    limit (3600 s), not a high alert per window."""
    pk = []
    servers = [bytes([198, 41, 0, 4]), bytes([199, 9, 14, 201]), bytes([192, 33, 4, 12])]
    for i in range(800):
        r = dns((0x8000 + i) & 0xffff, 0x8180, "isc.org", 255,
                answers=[rr(b"\xc0\x0c", 16, 300, big_txt(1400))])
        pk.append((T0 + i * 300000, u4(ROUTER, DEV, servers[i % 3], DEV_IP, 53, 80, r)))
    return ETH, pk


def craft_integ_bogon():
    """A public name answered 127.0.0.1 (DEV) and one answered 10.0.0.5
    (DEV4); near-misses on DEV2: home.arpa and fritz.box names answered with
    private addresses, and a public name with a public address."""
    pk = [query(T0, DEV, DEV_IP, 0x0b01, "api.vendor.com", 40001),
          answer(T0 + 5000, DEV, DEV_IP, 0x0b01, "api.vendor.com", 40001, [bytes([127, 0, 0, 1])],
                 rrttl=60)]
    pk += [query(T0 + S, DEV2, DEV2_IP, 0x0b02, "nas.home.arpa", 40002),
           answer(T0 + S + 5000, DEV2, DEV2_IP, 0x0b02, "nas.home.arpa", 40002, [bytes([192, 168, 1, 5])]),
           query(T0 + S + 10000, DEV2, DEV2_IP, 0x0b03, "fritz.box", 40003),
           answer(T0 + S + 15000, DEV2, DEV2_IP, 0x0b03, "fritz.box", 40003, [bytes([192, 168, 178, 1])]),
           query(T0 + S + 20000, DEV2, DEV2_IP, 0x0b04, "api.vendor.com", 40004),
           answer(T0 + S + 25000, DEV2, DEV2_IP, 0x0b04, "api.vendor.com", 40004, [A_1])]
    pk += [query(T0 + 2 * S, DEV4, DEV4_IP, 0x0b05, "rebind.attacker.net", 40005),
           answer(T0 + 2 * S + 5000, DEV4, DEV4_IP, 0x0b05, "rebind.attacker.net", 40005,
                  [bytes([10, 0, 0, 5])], rrttl=1)]
    return ETH, pk


def craft_integ_duplicate_rr():
    """DEV: the same A record twice in the answer; DEV3: one A RRset with
    TTLs 300 and 60; DEV2 (near-miss): an RRset of two A records with equal
    TTLs and two RRSIGs with different TTLs."""
    a2 = bytes([93, 184, 216, 35])
    dup = dns(0x0d01, 0x8180, "dup.vendor.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1),
                                                          rr(b"\xc0\x0c", 1, 300, a2),
                                                          rr(name_of("dup.vendor.com"), 1, 300, A_1)])
    ttls = dns(0x0d03, 0x8180, "ttl.vendor.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1),
                                                           rr(b"\xc0\x0c", 1, 60, a2)])
    sig1 = struct.pack("!HBBIIIH", 1, 13, 3, 300, 0, 0, 1) + b"\x00" + b"s" * 64
    sig2 = struct.pack("!HBBIIIH", 28, 13, 3, 3600, 0, 0, 1) + b"\x00" + b"t" * 64
    fine = dns(0x0d02, 0x8180, "ok.vendor.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1),
                                                          rr(b"\xc0\x0c", 1, 300, a2),
                                                          rr(b"\xc0\x0c", 46, 300, sig1),
                                                          rr(b"\xc0\x0c", 46, 3600, sig2)])
    pk = [query(T0, DEV, DEV_IP, 0x0d01, "dup.vendor.com", 40001),
          (T0 + 5000, u4(ROUTER, DEV, RES_IP, DEV_IP, 53, 40001, dup)),
          query(T0 + S, DEV2, DEV2_IP, 0x0d02, "ok.vendor.com", 40002),
          (T0 + S + 5000, u4(ROUTER, DEV2, RES_IP, DEV2_IP, 53, 40002, fine)),
          query(T0 + 2 * S, DEV3, DEV3_IP, 0x0d03, "ttl.vendor.com", 40003),
          (T0 + 2 * S + 5000, u4(ROUTER, DEV3, RES_IP, DEV3_IP, 53, 40003, ttls))]
    return ETH, pk


def name_of(n):
    from craft import name
    return name(n)


def craft_integ_reply_flood():
    """DEV's query is answered five times (the same answer): a reply flood
    at the fourth. DEV2's is answered three times: not more than 3. DEV3
    sends its query four times (three retransmissions, no answer yet) and
    each copy is answered: four answers to four copies, no flood. DEV4
    sends its query twice and gets six answers: a flood at the fifth (3
    answers and one more for the retransmission are allowed)."""
    pk = [query(T0, DEV, DEV_IP, 0x0f01, "flood.vendor.com", 40001),
          query(T0, DEV2, DEV2_IP, 0x0f02, "flood.vendor.com", 40002)]
    for i in range(5):
        pk.append(answer(T0 + 10000 + i * 1000, DEV, DEV_IP, 0x0f01, "flood.vendor.com", 40001, [A_1]))
    for i in range(3):
        pk.append(answer(T0 + 10000 + i * 1000 + 1, DEV2, DEV2_IP, 0x0f02, "flood.vendor.com", 40002, [A_1]))
    for i in range(4):
        pk.append(query(T0 + S + i * 500000, DEV3, DEV3_IP, 0x0f03, "slow.vendor.com", 40003))
    for i in range(4):
        pk.append(answer(T0 + 3 * S + i * 1000, DEV3, DEV3_IP, 0x0f03, "slow.vendor.com", 40003, [A_1]))
    for i in range(2):
        pk.append(query(T0 + S + i * 1000000 + 2, DEV4, DEV4_IP, 0x0f04, "slow.vendor.com", 40004))
    for i in range(6):
        pk.append(answer(T0 + 3 * S + i * 1000 + 2, DEV4, DEV4_IP, 0x0f04, "slow.vendor.com", 40004, [A_1]))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def craft_integ_serves_dns():
    """DEV (a camera) answers a DNS query that came from the Internet (high).
    DEV2, a LAN forwarder, answers DEV3 on the LAN (medium). The router
    relays 8.8.8.8's answers and answers DEV4 from its own address: the
    network's resolver, no alert."""
    pk = []
    # Each of DEV and DEV2 asks something first: they are devices the sensor follows.
    pk.append(query(T0, DEV, DEV_IP, 0x5101, "cam.vendor.com", 40001))
    pk.append(answer(T0 + 5000, DEV, DEV_IP, 0x5101, "cam.vendor.com", 40001, [A_1]))
    pk.append(query(T0 + 10000, DEV2, DEV2_IP, 0x5102, "hub.vendor.com", 40002, server=G_IP))
    pk.append(answer(T0 + 30000, DEV2, DEV2_IP, 0x5102, "hub.vendor.com", 40002, [A_1], server=G_IP))
    # The router as a device: it asks upstream.
    pk.append((T0 + 40000, u4(ROUTER, UPSTREAM, WAN_IP, G_IP, 41000, 53,
                              dns(0x5103, 0x0100, "ntp.vendor.com"))))
    pk.append((T0 + 60000, u4(UPSTREAM, ROUTER, G_IP, WAN_IP, 53, 41000,
                              dns(0x5103, 0x8180, "ntp.vendor.com", answers=[rr(b"\xc0\x0c", 1, 60, A_1)]))))
    # An Internet client asks the camera (port-forwarded); the camera answers.
    q = dns(0x9999, 0x0100, "example.org", 255)
    r = dns(0x9999, 0x8580, "example.org", 255, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(900))])
    pk.append((T0 + S, u4(ROUTER, DEV, OUTSIDE, DEV_IP, 33333, 53, q)))
    pk.append((T0 + S + 500, u4(DEV, ROUTER, DEV_IP, OUTSIDE, 53, 33333, r)))
    # DEV3 asks the hub DEV2 on the LAN; the hub answers.
    pk.append((T0 + 2 * S, u4(DEV3, DEV2, DEV3_IP, DEV2_IP, 42000, 53, dns(0x6001, 0x0100, "lamp.vendor.com"))))
    pk.append((T0 + 2 * S + 400, u4(DEV2, DEV3, DEV2_IP, DEV3_IP, 53, 42000,
                                    dns(0x6001, 0x8180, "lamp.vendor.com", answers=[rr(b"\xc0\x0c", 1, 60, A_1)]))))
    # DEV4 asks the router, which answers from its own address.
    pk.append(query(T0 + 3 * S, DEV4, DEV4_IP, 0x6002, "lamp.vendor.com", 42001))
    pk.append(answer(T0 + 3 * S + 300, DEV4, DEV4_IP, 0x6002, "lamp.vendor.com", 42001, [A_1]))
    return ETH, pk


def craft_integ_amplification():
    """DEV asks TXT and gets ~4 KB answers: 30 of them are 120 KB at a ratio
    near 100 (fires). DEV2 asks TXT with answers 7 times its queries (ratio
    below 10) for 130 KB within 150 s: no alert."""
    pk = []
    for i in range(30):
        ts = T0 + i * 2 * S
        qn = "k%d.vendor.com" % i
        pk.append(query(ts, DEV, DEV_IP, 0x1000 + i, qn, 41000 + i, 16))
        r = dns(0x1000 + i, 0x8180, qn, 16, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(4000))])
        pk.append((ts + 5000, u4(ROUTER, DEV, RES_IP, DEV_IP, 53, 41000 + i, r)))
    for i in range(600):
        ts = T0 + i * 250000 + 7
        qn = "t%d.vendor.com" % (i % 5)
        pk.append(query(ts, DEV2, DEV2_IP, 0x2000 + i, qn, 42000 + i, 16))
        q_len = len(dns(0, 0, qn, 16))
        r = dns(0x2000 + i, 0x8180, qn, 16, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(q_len * 7 - q_len - 12))])
        pk.append((ts + 5000, u4(ROUTER, DEV2, RES_IP, DEV2_IP, 53, 42000 + i, r)))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


B32 = "abcdefghijklmnopqrstuvwxyz234567"


def craft_integ_exfil():
    """DEV: 25 distinct names with 56-character base32 labels under one
    zone within 2 minutes (fires). DEV2: 19 such names (below 20) and the
    same long name asked 30 times (one name). DEV3: 130 distinct short
    subdomains of one zone (unique-subdomain rule). DEV4: 19 short names of
    one zone (near-miss)."""
    rnd = random.Random(7)
    pk = []

    def lab(n):
        return "".join(rnd.choice(B32) for _ in range(n))
    for i in range(25):
        qn = "%s.%s.t.exfil-zone.net" % (lab(56), lab(20))
        pk.append(query(T0 + i * 4 * S, DEV, DEV_IP, 0x3000 + i, qn, 43000 + i, 16))
    for i in range(19):
        qn = "%s.t.other-zone.net" % lab(56)
        pk.append(query(T0 + i * 4 * S + 1, DEV2, DEV2_IP, 0x3100 + i, qn, 44000 + i, 16))
    aws = "a3k7odshaiipe8-ats.iot.us-east-1.amazonaws.com"
    for i in range(30):
        pk.append(query(T0 + i * 3 * S + 2, DEV2, DEV2_IP, 0x3200 + i, aws, 45000 + i))
    for i in range(130):
        pk.append(query(T0 + i * S + 3, DEV3, DEV3_IP, 0x3300 + i, "s%d.dga-zone.com" % i, 46000 + i))
    for i in range(19):
        pk.append(query(T0 + i * S + 4, DEV4, DEV4_IP, 0x3400 + i, "n%d.vendor.com" % i, 47000 + i))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


BRANDS = """thisisaverylongbutordinarybrandname smarthomeappliancesandsolutions
thebestconnectedkitchengadgets yourfriendlyneighbourhoodthermostat
internetofthingsdevicecloudservices homesecuritycameraandalarmcompany
wirelesslightingandpowercontrols connectedfitnessandwellnessdevices
petfeederandwatercamerasupport automaticgardenirrigationsystems
robotvacuumcleanerfirmwareupdates smartdoorbellandintercomsolutions
babymonitorandnurserycameras electricvehiclechargerservices
solarinverterandbatterystorage thermostatandheatingcontrolcloud
televisionandstreamingmediaplayers wirelessspeakerandsoundbarsupport
kitchenrobotandrecipeservices airpurifierandhumiditysensors
windowblindsandshuttercontrols garagedooropenerandgatecontrols
watersensorandleakdetectionalerts smartlockanddoorbellsecurityhub
lawnmowerrobotandgardentools""".split()


def entropy(s):
    """Bits per character, as integ_entropy() counts them."""
    import math
    n = len(s)
    return -sum(s.count(c) / n * math.log2(s.count(c) / n) for c in set(s))


def craft_integ_exfil_dga():
    """Random registered domains with nothing below them (a DGA), 25 each
    within 2 minutes. DEV: 55-character labels (long and high-entropy).
    DEV3: 30-character labels above 4 bits per character (high entropy
    only). DEV2 (near-miss): 25 long but ordinary brand domains, 28-35
    characters below 4 bits per character."""
    rnd = random.Random(21)
    alpha = "abcdefghijklmnopqrstuvwxyz0123456789"

    def lab(n, min_bits=0.0):
        while True:
            s = "".join(rnd.choice(alpha) for _ in range(n))
            if entropy(s) > min_bits:
                return s
    pk = []
    for i in range(25):
        pk.append(query(T0 + i * 4 * S, DEV, DEV_IP, 0x3500 + i, lab(55) + ".com", 43000 + i))
        pk.append(query(T0 + i * 4 * S + 1, DEV3, DEV3_IP, 0x3600 + i, lab(30, 4.1) + ".net",
                        44000 + i))
        assert len(BRANDS[i]) < 50 and entropy(BRANDS[i]) < 4
        pk.append(query(T0 + i * 4 * S + 2, DEV2, DEV2_IP, 0x3700 + i, BRANDS[i] + ".com",
                        45000 + i))
    return ETH, pk


def craft_integ_params():
    """Traffic near the thresholds that rules/detections.json sets (case
    integ-params with the shipped rules, integ-params-rules with changed
    ones). DEV: a spoofed answer 2 s after the resolver's (a race within
    response.race window_s 5, none within 1). DEV2: 30 TXT answers of
    4 KB, one every 4 s (120 KB within amplification.ratio window_s 300;
    never 100 KB within 60). DEV3: 60 distinct names under one zone
    within a minute (below exfil.suspect-names min_subdomains 100, above
    40)."""
    pk = [query(T0, DEV, DEV_IP, 0x6101, "api.vendor.com", 40001),
          answer(T0 + 20000, DEV, DEV_IP, 0x6101, "api.vendor.com", 40001, [A_1]),
          answer(T0 + 2 * S + 20000, DEV, DEV_IP, 0x6101, "api.vendor.com", 40001, [EVIL],
                 src_mac=SPOOF, ttl=128)]
    for i in range(30):
        ts = T0 + i * 4 * S + 1
        qn = "k%d.vendor.com" % i
        pk.append(query(ts, DEV2, DEV2_IP, 0x6200 + i, qn, 41000 + i, 16))
        r = dns(0x6200 + i, 0x8180, qn, 16, answers=[rr(b"\xc0\x0c", 16, 300, big_txt(4000))])
        pk.append((ts + 5000, u4(ROUTER, DEV2, RES_IP, DEV2_IP, 53, 41000 + i, r)))
    for i in range(60):
        pk.append(query(T0 + i * S + 2, DEV3, DEV3_IP, 0x6300 + i, "h%d.many-names.com" % i,
                        42000 + i))
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def craft_integ_new_domain():
    """DEV resolves two domains on day 0 and day 1; on day 8 it asks one of
    them again (known) and then a new one (fires, low). DEV2 meets a new
    domain on day 3, inside its learning period (no alert). Its gaps of days
    are meant: the case raises capture.max_time_jump to 30 days."""
    pk = [query(T0, DEV, DEV_IP, 0x4001, "api.vendor.com", 40001),
          query(T0 + S, DEV2, DEV2_IP, 0x4101, "api.vendor.com", 40101),
          query(T0 + DAY, DEV, DEV_IP, 0x4002, "time.ntp-vendor.co.uk", 40002),
          query(T0 + 3 * DAY, DEV2, DEV2_IP, 0x4102, "fw.other-vendor.net", 40102),
          query(T0 + 8 * DAY, DEV, DEV_IP, 0x4003, "eu.api.vendor.com", 40003),
          query(T0 + 8 * DAY + S, DEV, DEV_IP, 0x4004, "c2.unknown-domain.xyz", 40004),
          query(T0 + 8 * DAY + 2 * S, DEV, DEV_IP, 0x4005, "pool.ntp-vendor.co.uk", 40005)]
    return ETH, pk


def flood(rounds, mac_pool):
    """3 x rounds frames: queries from random MACs (drawn from mac_pool of
    them, or all new when mac_pool is 0) with random long names and IDs,
    each answered twice differently (the answered table fills and evicts,
    every one a race), unsolicited answers with random IDs, and wrong-ID
    answers to open ports."""
    rnd = random.Random(99)
    pool = [bytes([0x02]) + rnd.randbytes(5) for _ in range(mac_pool)]
    pk = []
    ts = T0
    for i in range(rounds):
        ts += 30  # ~33,000 frames per second of packet time
        mac = pool[rnd.randrange(mac_pool)] if mac_pool else bytes([0x02]) + rnd.randbytes(5)
        # One address per MAC: a device that changes address every frame
        # would be a device event every frame.
        ip = bytes([10, mac[3], mac[4], mac[5] | 1])
        id_ = rnd.randrange(65536)
        port = rnd.randrange(1024, 65536)
        qn = "%s.%s.flood-%d.com" % (rnd.randbytes(20).hex(), rnd.randbytes(6).hex(), i % 5000)
        k = i % 3
        if k == 0:
            pk.append((ts, u4(mac, ROUTER, ip, RES_IP, port, 53, dns(id_, 0x0100, qn))))
            pk.append((ts + 10, u4(ROUTER, mac, RES_IP, ip, 53, port,
                                   dns(id_, 0x8180, qn, answers=[rr(b"\xc0\x0c", 1, 60, A_1)]))))
            pk.append((ts + 20, u4(SPOOF, mac, RES_IP, ip, 53, port,
                                   dns(id_, 0x8180, qn, answers=[rr(b"\xc0\x0c", 1, 60, EVIL)]))))
        elif k == 1:
            for j in range(3):
                pk.append((ts + j, u4(ROUTER, mac, G_IP, ip, 53, port,
                                      dns(rnd.randrange(65536), 0x8180, qn, answers=[rr(b"\xc0\x0c", 1, 60, A_1)]))))
        else:
            pk.append((ts, u4(mac, ROUTER, ip, RES_IP, port, 53, dns(id_, 0x0100, qn, 16))))
            pk.append((ts + 5, u4(SPOOF, mac, RES_IP, ip, 53, port,
                                  dns(id_ ^ 1, 0x8180, qn, 16, answers=[rr(b"\xc0\x0c", 1, 60, EVIL)]))))
            pk.append((ts + 9, u4(SPOOF, mac, RES_IP, ip, 53, port,
                                  dns(id_ ^ 2, 0x8180, qn, 16, answers=[rr(b"\xc0\x0c", 1, 60, EVIL)]))))
    return pk


def craft_integ_flood():
    """300,000 frames of the flood above from 4,000 random MACs (a case that
    writes a few thousand device events, not hundreds of thousands): the
    answered table must evict, count it, and stay at its capacity."""
    return ETH, flood(100000, 4000)


if __name__ == "__main__":
    # The memory report's capture: every frame from a new random MAC.
    import sys
    from craft import write_pcap
    write_pcap(sys.argv[1], ETH, flood(int(sys.argv[2]) // 3 if len(sys.argv) > 2 else 100000, 0))
