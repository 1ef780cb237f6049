#!/usr/bin/env python3
"""Hand-crafted captures for the pcap regression cases.

Each function named craft_<case> returns (linktype, [(ts_us, frame_bytes)]).
The bytes are built field by field here, so every edge a case tests is
visible in code: a DNS message split over TCP segments, a pointer loop, a
QinQ stack, a fragmented response, and so on. Checksums are left zero (the
sensor does not verify them, as a passive sensor must not drop what the
host accepted).
"""
import struct

ETH = 1
RAW = 101
T0 = 1768471200 * 1000000  # 2026-01-15T10:00:00Z

DEV = bytes.fromhex("240ac4000001")     # Espressif
DEV2 = bytes.fromhex("50c7bf000002")    # TP-Link
ROUTER = bytes.fromhex("02005e000001")
BCAST = b"\xff" * 6
MDNS_MAC = bytes.fromhex("01005e0000fb")
DEV_IP = bytes([192, 168, 1, 10])
DEV2_IP = bytes([192, 168, 1, 11])
RES_IP = bytes([192, 168, 1, 1])
G_IP = bytes([8, 8, 8, 8])
DEV_IP6 = bytes.fromhex("20010db8000100000000000000000010")
RES_IP6 = bytes.fromhex("20010db8000100000000000000000001")


# --- wire helpers ----------------------------------------------------------

def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns(id_, flags, qname=None, qtype=1, answers=(), authority=(), additional=(),
        qdcount=None):
    q = b""
    if qname is not None:
        q = name(qname) + struct.pack("!HH", qtype, 1)
    qd = (1 if qname is not None else 0) if qdcount is None else qdcount
    hdr = struct.pack("!HHHHHH", id_, flags, qd, len(answers), len(authority), len(additional))
    return hdr + q + b"".join(answers) + b"".join(authority) + b"".join(additional)


def rr(owner, rtype, ttl, rdata, cls=1):
    o = owner if isinstance(owner, bytes) else name(owner)
    return o + struct.pack("!HHIH", rtype, cls, ttl, len(rdata)) + rdata


def opt(size=1232, do=False, options=b""):
    return b"\x00" + struct.pack("!HHBBHH", 41, size, 0, 0, 0x8000 if do else 0, len(options)) + options


def eth(src, dst, ethertype, payload, vlans=()):
    out = dst + src
    tpids = [0x88a8] * (len(vlans) - 1) + [0x8100] if vlans else []
    for tpid, vid in zip(tpids, vlans):
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=1, frag_off=0, more=False, ttl=64):
    flags = (0x2000 if more else 0) | (frag_off // 8)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl,
                       proto, 0, src, dst) + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, src, dst) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp4(src_mac, dst_mac, src, dst, sport, dport, payload, vlans=()):
    return eth(src_mac, dst_mac, 0x0800, ipv4(src, dst, 17, udp(sport, dport, payload)), vlans)


def tcp4(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags, payload=b""):
    return eth(src_mac, dst_mac, 0x0800, ipv4(src, dst, 6, tcp(sport, dport, seq, ack, flags, payload)))


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
A_1 = bytes([93, 184, 216, 34])


def q_and_a(ts, id_, qname, sport, server=RES_IP, qtype=1, rcode=0, qflags=0x0100,
            answer=True, extra_q=b""):
    """A query from DEV and its response from the router."""
    query = dns(id_, qflags, qname, qtype, additional=[extra_q] if extra_q else ())
    answers = [rr(b"\xc0\x0c", 1, 300, A_1)] if answer and rcode == 0 else []
    resp = dns(id_, 0x8180 | rcode, qname, qtype, answers=answers)
    return [(ts, udp4(DEV, ROUTER, DEV_IP, server, sport, 53, query)),
            (ts + 2000, udp4(ROUTER, DEV, server, DEV_IP, 53, sport, resp))]


# --- cases -----------------------------------------------------------------

def craft_basic():
    """Three answered queries, one NXDOMAIN, one unanswered; EDNS on two."""
    pk = []
    pk += q_and_a(T0, 0x1111, "time.example.com", 40001)
    pk += q_and_a(T0 + 1000000, 0x2222, "api.example.com", 40002, qtype=28,
                  extra_q=opt(1232))
    pk += q_and_a(T0 + 2000000, 0x3333, "nx.example.com", 40003, rcode=3,
                  extra_q=opt(4096, do=True))
    pk += q_and_a(T0 + 3000000, 0x4444, "www.example.com", 40004)
    pk.append((T0 + 4000000, udp4(DEV, ROUTER, DEV_IP, RES_IP, 40005, 53,
                                  dns(0x5555, 0x0100, "lost.example.com"))))
    # ARP so the sensor binds the router's address.
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, ROUTER, RES_IP, DEV, DEV_IP)
    pk.append((T0 + 4500000, eth(ROUTER, DEV, 0x0806, arp)))
    # Something later, past the 5 s time-out, to move packet time on.
    pk += q_and_a(T0 + 12000000, 0x6666, "late.example.com", 40006)
    return ETH, pk


def craft_retransmit():
    """A query sent three times with the same ID, answered once."""
    query = dns(0xabcd, 0x0100, "retry.example.com")
    resp = dns(0xabcd, 0x8180, "retry.example.com", answers=[rr(b"\xc0\x0c", 1, 60, A_1)])
    pk = [(T0 + i * 1000000, udp4(DEV, ROUTER, DEV_IP, RES_IP, 41000, 53, query)) for i in range(3)]
    pk.append((T0 + 2500000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 41000, resp)))
    # A duplicate of the response: nothing outstanding any more.
    pk.append((T0 + 2600000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 41000, resp)))
    return ETH, pk


def craft_hardcoded():
    """Two devices: one uses the router, the other 8.8.8.8 over v4 and the
    router over IPv6."""
    pk = []
    for i in range(4):
        ts = T0 + i * 1000000
        q = dns(0x100 + i, 0x0100, "devs.tplinkcloud.com")
        r = dns(0x100 + i, 0x8180, "devs.tplinkcloud.com", answers=[rr(b"\xc0\x0c", 1, 30, A_1)])
        pk.append((ts, udp4(DEV2, ROUTER, DEV2_IP, G_IP, 50000 + i, 53, q)))
        pk.append((ts + 30000, udp4(ROUTER, DEV2, G_IP, DEV2_IP, 53, 50000 + i, r)))
    q6 = dns(0x7777, 0x0100, "v6.example.com", 28)
    r6 = dns(0x7777, 0x8180, "v6.example.com", 28,
             answers=[rr(b"\xc0\x0c", 28, 300, bytes(range(16)))])
    pk.append((T0 + 5000000, eth(DEV, ROUTER, 0x86dd, ipv6(DEV_IP6, RES_IP6, 17, udp(33333, 53, q6)))))
    pk.append((T0 + 5001000, eth(ROUTER, DEV, 0x86dd, ipv6(RES_IP6, DEV_IP6, 17, udp(53, 33333, r6)))))
    return ETH, pk


def craft_tcp_framing():
    """DNS over TCP: handshake, two queries in one segment, a response split
    over two segments (split inside the length prefix too), then a FIN."""
    c, s = 45000, 53
    cseq, sseq = 1000, 5000
    q1 = dns(0x0a01, 0x0100, "a.example.com")
    q2 = dns(0x0a02, 0x0100, "b.example.com", 28)
    r1 = dns(0x0a01, 0x8180, "a.example.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1)])
    r2 = dns(0x0a02, 0x8180, "b.example.com", 28, answers=[rr(b"\xc0\x0c", 28, 300, bytes(16))])
    framed_q = struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2
    framed_r = struct.pack("!H", len(r1)) + r1 + struct.pack("!H", len(r2)) + r2
    cut = len(r1) + 2 + 1  # after r1 and one byte of r2's prefix
    cut2 = cut + 10
    pk = [
        (T0, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq, 0, SYN)),
        (T0 + 100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq, cseq + 1, SYN | ACK)),
        (T0 + 200, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq + 1, sseq + 1, ACK)),
        (T0 + 300, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq + 1, sseq + 1, PSH | ACK, framed_q)),
        (T0 + 5000, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1, cseq + 1 + len(framed_q),
                         PSH | ACK, framed_r[:cut])),
        (T0 + 5100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + cut, cseq + 1 + len(framed_q),
                         PSH | ACK, framed_r[cut:cut2])),
        # The same segment again: a retransmission, ignored.
        (T0 + 5150, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + cut, cseq + 1 + len(framed_q),
                         PSH | ACK, framed_r[cut:cut2])),
        (T0 + 5200, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + cut2, cseq + 1 + len(framed_q),
                         PSH | ACK, framed_r[cut2:])),
        (T0 + 6000, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq + 1 + len(framed_q),
                         sseq + 1 + len(framed_r), FIN | ACK)),
        (T0 + 6100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + len(framed_r),
                         cseq + 2 + len(framed_q), FIN | ACK)),
    ]
    return ETH, pk


def craft_tcp_gap_resync():
    """DNS over TCP with a segment lost in the middle of a large answer: the
    next segment starts inside the answer's TXT data (bytes that look like
    nothing), then the answer to a second query follows. The tail of the
    lost answer must be skipped, not read as DNS messages; the second answer
    is framed again and matches its query."""
    c, s = 45100, 53
    cseq, sseq = 3000, 7000
    x = 0x2545F491
    junk = bytearray()
    for _ in range(900):
        x = (x * 1103515245 + 12345) & 0xffffffff
        junk.append(x >> 24)
    txt = b"".join(bytes([225]) + bytes(junk[i:i + 225]) for i in range(0, 900, 225))
    q1 = dns(0x0b01, 0x0100, "big.example.com", 16)
    q2 = dns(0x0b02, 0x0100, "a.example.com")
    r1 = dns(0x0b01, 0x8180, "big.example.com", 16, answers=[rr(b"\xc0\x0c", 16, 300, txt)])
    r2 = dns(0x0b02, 0x8180, "a.example.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1)])
    framed_q = struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2
    framed_r = struct.pack("!H", len(r1)) + r1 + struct.pack("!H", len(r2)) + r2
    lost_from, lost_to = 300, 600   # inside r1's TXT data
    cack = cseq + 1 + len(framed_q)
    pk = [
        (T0, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq, 0, SYN)),
        (T0 + 100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq, cseq + 1, SYN | ACK)),
        (T0 + 200, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq + 1, sseq + 1, ACK)),
        (T0 + 300, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cseq + 1, sseq + 1, PSH | ACK, framed_q)),
        (T0 + 5000, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1, cack, ACK,
                         framed_r[:lost_from])),
        # framed_r[lost_from:lost_to] never reaches the mirror port.
        (T0 + 5200, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + lost_to, cack, PSH | ACK,
                         framed_r[lost_to:])),
        (T0 + 6000, tcp4(DEV, ROUTER, DEV_IP, RES_IP, c, s, cack, sseq + 1 + len(framed_r), FIN | ACK)),
        (T0 + 6100, tcp4(ROUTER, DEV, RES_IP, DEV_IP, s, c, sseq + 1 + len(framed_r), cack + 1,
                         FIN | ACK)),
    ]
    return ETH, pk


def craft_vlan_raw():
    """The same MAC on VLAN 10 and in a QinQ stack 100/20: one device, or
    two with capture.vlan_tracking."""
    q = dns(0x0101, 0x0100, "cam.example.com")
    r = dns(0x0101, 0x8180, "cam.example.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1)])
    pk = [
        (T0, udp4(DEV, ROUTER, DEV_IP, RES_IP, 40000, 53, q, vlans=(10,))),
        (T0 + 1000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 40000, r, vlans=(10,))),
        (T0 + 2000, udp4(DEV, ROUTER, DEV_IP, RES_IP, 40001, 53, q, vlans=(100, 20))),
        (T0 + 3000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 40001, r, vlans=(100, 20))),
    ]
    return ETH, pk


def craft_vlan_asym():
    """A SPAN session that tags one direction only: twelve queries leave
    untagged, their answers come back tagged 30."""
    pk = []
    for i in range(12):
        name = "n%d.example.com" % i
        q = dns(0x2000 + i, 0x0100, name)
        r = dns(0x2000 + i, 0x8180, name, answers=[rr(b"\xc0\x0c", 1, 300, A_1)])
        t = T0 + i * 500000
        pk.append((t, udp4(DEV, ROUTER, DEV_IP, RES_IP, 41000 + i * 7, 53, q)))
        pk.append((t + 2000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 41000 + i * 7, r, vlans=(30,))))
    return ETH, pk


def craft_rawip():
    """Raw IP link type: no MACs, so the device is keyed by its address."""
    q = dns(0x0202, 0x0100, "raw.example.com")
    r = dns(0x0202, 0x8180, "raw.example.com", answers=[rr(b"\xc0\x0c", 1, 300, A_1)])
    pk = [
        (T0, ipv4(DEV_IP, G_IP, 17, udp(40000, 53, q))),
        (T0 + 1000, ipv4(G_IP, DEV_IP, 17, udp(53, 40000, r))),
    ]
    return RAW, pk


def craft_hostile():
    """Malformed DNS: pointer loop, forward pointer, label of 64, truncated
    header, counts past the end, RDLENGTH past the end, OPT with a bad
    option length; and a frame cut in its IP header. No crash, each counted."""
    loop = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    fwd = struct.pack("!HHHHHH", 2, 0x0100, 1, 0, 0, 0) + b"\xc0\x20" + struct.pack("!HH", 1, 1) + b"\x00" * 20
    lab64 = struct.pack("!HHHHHH", 3, 0x0100, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1)
    short = b"\x00\x04\x01\x00\x00"
    counts = struct.pack("!HHHHHH", 5, 0x0100, 1, 9, 9, 9) + name("x.example") + struct.pack("!HH", 1, 1)
    rdlen = dns(6, 0x8180, "y.example", answers=[name("y.example") + struct.pack("!HHIH", 1, 1, 60, 200) + A_1])
    badopt = dns(7, 0x0100, "z.example", additional=[b"\x00" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 8)
                                                     + struct.pack("!HH", 10, 40) + b"\x00" * 4])
    pk = []
    for i, m in enumerate((loop, fwd, lab64, short, counts, badopt)):
        pk.append((T0 + i * 1000, udp4(DEV, ROUTER, DEV_IP, RES_IP, 40000 + i, 53, m)))
    pk.append((T0 + 7000, udp4(ROUTER, DEV, RES_IP, DEV_IP, 53, 40010, rdlen)))
    full = udp4(DEV, ROUTER, DEV_IP, RES_IP, 40011, 53, dns(8, 0x0100, "ok.example"))
    pk.append((T0 + 8000, full[:14 + 10]))
    return ETH, pk


def craft_fragments():
    """A 1,400-byte response to the device in three IPv4 fragments, sent out
    of order; the device's query carried EDNS with 1232."""
    q = dns(0x0303, 0x0100, "big.example.com", 16, additional=[opt(1232)])
    txt = b"".join(bytes([200]) + b"t" * 200 for _ in range(6))
    r = dns(0x0303, 0x8180, "big.example.com", 16, answers=[rr(b"\xc0\x0c", 16, 300, txt)])
    seg = udp(53, 40000, r)
    pieces = [(0, seg[:600], True), (600, seg[600:1200], True), (1200, seg[1200:], False)]
    pk = [(T0, udp4(DEV, ROUTER, DEV_IP, RES_IP, 40000, 53, q))]
    frames = [eth(ROUTER, DEV, 0x0800, ipv4(RES_IP, DEV_IP, 17, data, ident=77, frag_off=off, more=more))
              for off, data, more in pieces]
    for i, idx in enumerate((2, 0, 1)):
        pk.append((T0 + 1000 + i * 10, frames[idx]))
    return ETH, pk


def craft_mdns_llmnr():
    """mDNS and LLMNR from the device: counted apart from unicast DNS."""
    m = dns(0, 0x0000, "_googlecast._tcp.local", 12)
    ll = dns(0x1234, 0x0000, "printer", 1)
    mr = dns(0, 0x8400, None, answers=[rr("cam.local", 1, 120, DEV_IP)])
    pk = [
        (T0, udp4(DEV, MDNS_MAC, DEV_IP, bytes([224, 0, 0, 251]), 5353, 5353, m)),
        (T0 + 1000, udp4(DEV, MDNS_MAC, DEV_IP, bytes([224, 0, 0, 251]), 5353, 5353, mr)),
        (T0 + 2000, udp4(DEV, bytes.fromhex("01005e0000fc"), DEV_IP, bytes([224, 0, 0, 252]),
                         50123, 5355, ll)),
    ]
    return ETH, pk


def write_pcap(path, linktype, packets):
    """packets: (ts_us, frame), or (ts_us, frame, wire_len) for a record
    whose wire length is not the frame's (a damaged file may lie)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for ts, frame, *wire in packets:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(frame),
                                wire[0] if wire else len(frame)))
            f.write(frame)


def craft(case, path):
    fn = globals().get("craft_" + case.replace("-", "_"))
    if fn is None:
        raise SystemExit("craft.py: no crafted case named %s" % case)
    linktype, packets = fn()
    write_pcap(path, linktype, packets)


if __name__ == "__main__":
    import sys
    craft(sys.argv[1], sys.argv[2])
