#!/usr/bin/env python3
"""check.py — compares what Redis or Kafka received with the file-sink reference.

  check.py redis REF.json DUMP [--dups-ok]
  check.py kafka REF.json DUMP [--dups-ok]
  check.py spool DIR                  prints the number of records in a spool

The reference is the JSON-lines file the same run wrote. Every reference event
must arrive, in order (per stream for Redis, per key for Kafka); an event seen
again after it arrived is a duplicate (counted; an error unless --dups-ok);
anything else is an error. A reference without events is an error too: a run
that wrote nothing would otherwise match sinks that got nothing. Prints one
line of counts; exit 1 on a mismatch.
"""
import json
import os
import struct
import sys
from collections import defaultdict

DS = {"stubwatch.alert": "alerts", "stubwatch.device": "devices",
      "stubwatch.dns": "dns", "stubwatch.stats": "stats", "stubwatch.tls": "tls"}


def load_ref(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            ev = json.loads(line)
            out.append((DS[ev["event"]["dataset"]], line, ev))
    return out


def walk(name, ref, got, errors):
    """got must be ref in order, with repeats of already-seen items allowed."""
    pos = {}
    for i, v in enumerate(ref):
        pos.setdefault(v, []).append(i)
    p, dups, seen = 0, 0, defaultdict(int)
    for i, g in enumerate(got):
        if p < len(ref) and g == ref[p]:
            seen[g] += 1
            p += 1
        elif seen[g] > 0:
            dups += 1
        else:
            where = "unknown event" if g not in pos else "out of order (reference #%d, expected #%d)" % (pos[g][0], p)
            errors.append("%s: item %d is %s: %.120s" % (name, i, where, g))
            return dups
    if p != len(ref):
        errors.append("%s: %d of %d events missing; first missing #%d: %.120s"
                      % (name, len(ref) - p, len(ref), p, ref[p]))
    return dups


def check_redis(ref, dump, dups_ok):
    errors, dups, n = [], 0, 0
    streams, devices = defaultdict(list), {}
    with open(dump) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "stream":
                streams[parts[1]].append(parts[2])
            elif parts[0] == "device":
                devices[parts[1]] = (float(parts[2]), parts[3], parts[4])
    for ds in ("alerts", "dns", "stats", "tls"):
        r = [line for d, line, _ in ref if d == ds]
        n += len(r)
        dups += walk("redis " + ds, r, streams[ds], errors)
    last = {}
    for d, line, ev in ref:
        if d == "devices":
            last[ev["stubwatch"]["device"]["key"]] = (line, ev["@timestamp"])
    if set(last) != set(devices):
        errors.append("redis devices: %d in the reference, %d in Redis" % (len(last), len(devices)))
    for mac, (line, ts) in last.items():
        if mac not in devices:
            continue
        score, seen, got = devices[mac]
        if got != line or seen != ts:
            errors.append("redis device %s: hash is not the latest posture" % mac)
            break
    return errors, dups, n + len(last)


def check_kafka(ref, dump, dups_ok):
    errors, dups, n = [], 0, 0
    bykey = defaultdict(list)
    with open(dump) as f:
        for line in f:
            topic, part, off, key, value = line.rstrip("\n").split("\t", 4)
            ds = topic.split(".")[-1]
            bykey[(ds, key)].append((int(part), int(off), value))
    for ds in ("alerts", "devices", "dns", "stats", "tls"):
        r = [line for d, line, _ in ref if d == ds]
        n += len(r)
        idx = {}
        for i, v in enumerate(r):
            idx.setdefault(v, i)
        seen_all = set()
        for (d, key), msgs in sorted(bykey.items()):
            if d != ds:
                continue
            if len({p for p, _, _ in msgs}) != 1:
                errors.append("kafka %s key %s: spread over partitions" % (ds, key))
            msgs.sort()
            vals = [v for _, _, v in msgs]
            if ds == "devices":
                for v in vals:
                    if json.loads(v)["stubwatch"]["device"]["key"] != key:
                        errors.append("kafka devices: key %s carries another device" % key)
                        break
            # this key's share of the reference, in reference order
            mine = sorted({idx[v] for v in vals if v in idx})
            dups += walk("kafka %s key %s" % (ds, key or "-"), [r[i] for i in mine], vals, errors)
            seen_all.update(vals)
        missing = [v for v in r if v not in seen_all]
        if missing:
            errors.append("kafka %s: %d of %d events missing; first: %.120s"
                          % (ds, len(missing), len(r), missing[0]))
    return errors, dups, n


def spool_records(d):
    n = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".seg"):
            continue
        data = open(os.path.join(d, name), "rb").read()
        assert data[:8] == b"SWSPOOL1", name
        off = 8
        while off < len(data):
            (size,) = struct.unpack_from("<I", data, off)
            off += size
            n += 1
        assert off == len(data), name
    return n


def main():
    mode = sys.argv[1]
    if mode == "spool":
        print(spool_records(sys.argv[2]))
        return 0
    args = [a for a in sys.argv[2:] if not a.startswith("--")]
    dups_ok = "--dups-ok" in sys.argv
    ref = load_ref(args[0])
    if mode == "redis":
        errors, dups, n = check_redis(ref, args[1], dups_ok)
    else:
        errors, dups, n = check_kafka(ref, args[1], dups_ok)
    if not ref:
        errors.append("the reference %s has no events: nothing was compared" % args[0])
    if dups and not dups_ok:
        errors.append("%d duplicates where none were expected" % dups)
    print("%s: %d reference events, %d duplicates, %d errors" % (mode, n, dups, len(errors)))
    for e in errors[:10]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
