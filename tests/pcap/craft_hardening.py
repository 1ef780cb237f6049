"""Crafted captures whose packet times or lengths lie: a ts_sec past 2^31,
a packet years ahead of its neighbours, a capture resumed a year later,
frames out of order and a caplen above the wire length.

Each craft_<name>() returns (linktype, [(ts_us, frame[, wire_len])]) like
tests/pcap/craft.py, built from its basic capture (six queries, one ARP).
"""
from craft import ETH, craft_basic

SEC = 1000000
YEAR = 365 * 86400 * SEC
# 2^31 s: 2038-01-19T03:14:08Z, where a signed 32-bit ts_sec turns negative.
T2038 = (1 << 31) * SEC
WWW_QUERY = 6   # index of the query of www.example.com in the basic capture


def craft_time_2038():
    """The basic capture an hour past 2^31 s."""
    _, pk = craft_basic()
    shift = T2038 + 3600 * SEC - pk[0][0]
    return ETH, [(ts + shift, fr) for ts, fr in pk]


def craft_time_jump():
    """One query ten years ahead of its neighbours (a damaged record)."""
    _, pk = craft_basic()
    ts, fr = pk[WWW_QUERY]
    pk[WWW_QUERY] = (ts + 10 * YEAR, fr)
    return ETH, pk


def craft_time_resumed():
    """The capture resumes a year later from the same query on: a real jump."""
    _, pk = craft_basic()
    return ETH, pk[:WWW_QUERY] + [(ts + YEAR, fr) for ts, fr in pk[WWW_QUERY:]]


def craft_time_back_caplen():
    """Two frames swapped (time steps back once) and a first record whose
    wire length is 20 bytes short of what it holds."""
    _, pk = craft_basic()
    pk[2], pk[3] = pk[3], pk[2]
    ts, fr = pk[0]
    pk[0] = (ts, fr, len(fr) - 20)
    return ETH, pk
