#!/usr/bin/env python3
"""Crafted captures for the caching and rate detections' edges
(sensor/detect/behaviour.c) that the generator's devices do not reach:
SYN retransmissions, failures of one name beside a burst of another, a
resolver that comes back while storms are held back, a storm at exactly
the rate threshold, answers of the wrong type, long names, packet time
stepping back.

Each craft_<name>() returns (linktype, [(ts_us, frame)]).
"""
from craft import (ETH, T0, DEV, DEV2, ROUTER, DEV_IP, DEV2_IP, RES_IP, A_1, SYN,
                   dns, rr, udp4, tcp4)

S = 1000000
LONG = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"   # 46 characters
LONGER = "device-shadow-0123456789abcdef." + "telemetry-ingest.eu-central-1.example-iot-cloud.com"


def q(ts, id_, qname, sport, qtype=1, dev=DEV, devip=DEV_IP, server=RES_IP):
    return (ts, udp4(dev, ROUTER, devip, server, sport, 53, dns(id_, 0x0100, qname, qtype)))


def a(ts, id_, qname, sport, ttl=60, qtype=1, rcode=0, answers=None, dev=DEV,
      devip=DEV_IP, server=RES_IP):
    if answers is None:
        answers = [rr(b"\xc0\x0c", qtype, ttl, A_1 if qtype == 1 else bytes(15) + b"\x01")]
    return (ts, udp4(ROUTER, dev, server, devip, 53, sport,
                     dns(id_, 0x8180 | rcode, qname, qtype, answers=answers)))


def craft_beh_stale_syn_retry():
    """One TCP connection attempt to an address expired long ago, its SYN
    retransmitted twice (+1 s, +3 s): one stale use, not three. Then two
    more attempts from other ports: three in all, so the alert fires and
    counts attempts, not SYNs."""
    pk = [q(T0, 1, "cam.example.com", 40000), a(T0 + 2000, 1, "cam.example.com", 40000, ttl=60)]
    for port, at in ((50000, 200), (50001, 300), (50002, 400)):
        for d in (0, 1, 3):
            pk.append((T0 + (at + d) * S, tcp4(DEV, ROUTER, DEV_IP, A_1, port, 443, 1, 0, SYN)))
    return ETH, pk


def craft_beh_stale_syn_once():
    """The near-miss: one attempt, SYN retransmitted: no alert."""
    pk = [q(T0, 1, "cam.example.com", 40000), a(T0 + 2000, 1, "cam.example.com", 40000, ttl=60)]
    for d in (0, 1, 3, 7):
        pk.append((T0 + (200 + d) * S, tcp4(DEV, ROUTER, DEV_IP, A_1, 50000, 443, 1, 0, SYN)))
    return ETH, pk


def craft_beh_burst_other_failure():
    """A SERVFAIL for one name every 50 s, and meanwhile 100 answered
    queries of another name in 50 s: the other name's failure does not
    explain this one's burst."""
    pk = []
    i = 1
    for k in range(4):
        ts = T0 + k * 50 * S
        pk += [q(ts, i, "bad.example.com", 30000 + i),
               a(ts + 1000, i, "bad.example.com", 30000 + i, rcode=2, answers=[])]
        i += 1
    for k in range(100):
        ts = T0 + 60 * S + k * 500000 + 100
        pk += [q(ts, i, "x.example.com", 40000 + i), a(ts + 2000, i, "x.example.com", 40000 + i, ttl=0)]
        i += 1
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def craft_beh_burst_after_storm():
    """The near-miss: 40 unanswered retries of one name (a failure), then
    the resolver answers and the device asks twice more within the minute:
    the retries were the failure's, not a burst."""
    pk = []
    for k in range(40):
        pk.append(q(T0 + k * 1000000, k + 1, "iot.example.com", 20000 + k))
    for n, at in ((100, 41), (101, 43)):
        ts = T0 + at * S
        pk += [q(ts, n, "iot.example.com", 21000 + n),
               a(ts + 2000, n, "iot.example.com", 21000 + n, ttl=0)]
    return ETH, pk


DEVS = [(bytes.fromhex("240ac40000%02x" % n), bytes([192, 168, 1, 20 + n])) for n in range(1, 4)]


def craft_beh_outage_recover():
    """Three devices storm against a silent resolver for 40 s; it answers
    again at 45 s, while their storms are still held back: one outage
    alert, no storm alert per device."""
    pk = []
    i = 1
    for dmac, dip in DEVS:
        for k in range(40):
            ts = T0 + k * S + dip[3] * 1000
            pk.append(q(ts, i, "iot%d.example.com" % dip[3], 20000 + i, dev=dmac, devip=dip))
            i += 1
    for k in range(45, 121, 5):
        for dmac, dip in DEVS:
            ts = T0 + k * S + dip[3] * 1000
            name = "ok%d.example.com" % k
            pk += [q(ts, i, name, 20000 + i, dev=dmac, devip=dip),
                   a(ts + 2000, i, name, 20000 + i, dev=dmac, devip=dip, ttl=300)]
            i += 1
    pk.sort(key=lambda x: x[0])
    return ETH, pk


def craft_beh_storm_one_qps():
    """Unanswered queries of one name, two every 2 s (intervals 0.5 s and
    1.5 s, so they never look flat): exactly 1 per second for 2 minutes,
    the threshold, which is a storm. One packet steps back in time by 1 ms
    (captures merged from two taps), which must not end the episode."""
    pk = []
    i = 1
    for k in range(60):
        for off in (0, 500000):
            ts = T0 + k * 2 * S + off
            if k == 20 and off:
                ts = T0 + k * 2 * S - 1000
            pk.append(q(ts, i, LONG, 40000 + i))
            i += 1
    return ETH, pk


def craft_beh_storm_flat_start():
    """Unanswered queries once a second: at the 30 s mark the storm counts
    all 31 queries since the first, the retries before the 2 s time-out
    included."""
    return ETH, [q(T0 + k * S, k + 1, LONGER, 40000 + k) for k in range(31)]


def craft_beh_unexpected():
    """Answers of the wrong type (TXT to an A query) at 5 a second for a
    minute: a failure the device storms on, not a cache it ignores."""
    pk = []
    txt = rr(b"\xc0\x0c", 16, 60, b"\x03bad")
    for k in range(300):
        ts = T0 + k * 200000
        pk += [q(ts, k + 1, "iot.example.com", 10000 + k),
               a(ts + 1000, k + 1, "iot.example.com", 10000 + k, answers=[txt])]
    return ETH, pk


def craft_beh_early_aaaa():
    """Early re-queries of an AAAA name: the posture alert names the type.
    A second device does the same with a name longer than the evidence
    keeps: the alert says the name is cut and leaves dns.question out."""
    pk = []
    for dev, devip, qname in ((DEV, DEV_IP, "cam.example.com"), (DEV2, DEV2_IP, LONGER)):
        for k in range(45):
            ts = T0 + k * 10 * S + devip[3] * 1000
            pk += [q(ts, k + 1, qname, 10000 + k, qtype=28, dev=dev, devip=devip),
                   a(ts + 1000, k + 1, qname, 10000 + k, qtype=28, ttl=300, dev=dev, devip=devip)]
    pk.sort(key=lambda x: x[0])
    return ETH, pk


RES2_IP = bytes([192, 168, 1, 2])


def craft_beh_storm_two_resolvers():
    """Every 3 s the device asks both its resolvers at once (1 ms apart)
    and neither answers: 0.67 queries a second, under the rate threshold,
    but the rounds never back off. The 1 ms between the two copies of a
    round is no interval, or every round would look like a back-off."""
    pk = []
    for k in range(20):
        ts = T0 + k * 3 * S
        pk.append(q(ts, 2 * k + 1, "iot.example.com", 40000 + k))
        pk.append(q(ts + 1000, 2 * k + 2, "iot.example.com", 40000 + k, server=RES2_IP))
    return ETH, pk


def craft_beh_storm_servfail_retry():
    """A query, its retry 0.5 s later with another ID, SERVFAIL to the
    retry; then the name asked once a second, each SERVFAIL. The failure
    runs from the first query and counts the retry: at 30 s it is a storm
    of 32 queries (the first, its retry and 30 more)."""
    pk = [q(T0, 1, "iot.example.com", 40001), q(T0 + 500000, 2, "iot.example.com", 40002),
          a(T0 + 600000, 2, "iot.example.com", 40002, rcode=2, answers=[])]
    for k in range(1, 41):
        ts = T0 + k * S
        pk += [q(ts, k + 2, "iot.example.com", 40002 + k),
               a(ts + 1000, k + 2, "iot.example.com", 40002 + k, rcode=2, answers=[])]
    return ETH, pk


def craft_beh_storm_escaped_name():
    """A storm on a name whose presentation form (\\DDD escapes) is longer
    than the storm keeps: the alert flags it cut and leaves it out of
    dns.question.name."""
    name = "\x01" * 63 + ".example.com"
    return ETH, [q(T0 + k * S, k + 1, name, 40000 + k) for k in range(40)]
