#!/usr/bin/env python3
"""Writes a rules folder with N operator rules (custom.json) for the bench.

usage: custom_rules.py RULES_DIR OUT_DIR [N [--hits]]

OUT_DIR gets RULES_DIR's files and a custom.json of N enabled rules (500 by
default), shaped like an operator's: most are known-bad zones by suffix
(one to three each) and exact host names, which the bench capture never
asks for; about 3 % have no name (an OUI outside its vendor's zones,
NXDOMAIN bursts, TCP on a VLAN, a resolver prefix), found by OUI or on the
residual list every query walks. With --hits the first three instead match
zones the capture does ask for (tuyaus.com, ntp.org AAAA, time.google.com),
rate-limited as shipped: the cost of rules that fire and their alerts.
"""
import json
import os
import shutil
import sys


def rules(n, with_hits):
    out = []
    hits = [
        {"qname_suffix": "tuyaus.com"},
        {"qname_suffix": "ntp.org", "qtype": "AAAA"},
        {"qname": "time.google.com", "transport": "udp"},
    ]
    residual = [
        {"oui": "44:47:cc", "not_qname_suffix": ["hikvision.com", "hik-connect.com"]},
        {"rcode": "NXDOMAIN"},
        {"transport": "tcp", "vlan": 99},
        {"oui": ["58:03:fb", "94:e1:ac"], "not_qname_suffix": "ezvizlife.com"},
        {"resolver": "203.0.113.0/24"},
    ]
    nres = max(1, n * 3 // 100)
    for i in range(n):
        if i < len(hits):
            m = dict(hits[i]) if with_hits else {"qname_suffix": "quiet-%d.example" % i}
        elif i < len(hits) + nres:
            m = dict(residual[i % len(residual)])
        elif i % 10 == 0:
            m = {"qname": ["host%d.tracker-%d.example" % (j, i) for j in range(2)]}
        else:
            m = {"qname_suffix": ["bad-zone-%d-%d.example" % (i, j) for j in range(1 + i % 3)]}
        r = {"id": "bench.r%d" % i, "message": "bench rule %d" % i, "severity": "medium",
             "match": m}
        if "rcode" in m:
            r["threshold"] = {"count": 50, "seconds": 60}
        out.append(r)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    with_hits = "--hits" in sys.argv[4:]
    os.makedirs(dst, exist_ok=True)
    for f in ("detections.json", "resolvers.json"):
        shutil.copy(os.path.join(src, f), dst)
    with open(os.path.join(dst, "custom.json"), "w") as f:
        json.dump({"version": 1, "rules": rules(n, with_hits)}, f, indent=1)


if __name__ == "__main__":
    main()
