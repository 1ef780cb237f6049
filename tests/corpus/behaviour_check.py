#!/usr/bin/env python3
"""Caching, rate and failure detections over ../shared/corpus: the benign
IoT captures (iot-sentinel/*, device set-up traffic) must raise none of
cache.requery-within-ttl, cache.stale-use, cache.negative-ignored,
rate.burst, rate.retry-storm or network.resolver-outage, and the sensor
must exit 0 on each. Runs build/stubwatch (or the binary given as the
first argument). Prints 'N passed, N failed'; without the corpus it says
so and passes with 0/0.

One alert is right and expected: the Hue bridge's set-up capture asks
www.ecdinterface.philips.com (TTL 2424 s) every 0.1-0.4 s and
dcp.cpp.philips.com (TTL ~1830 s) every 4-6 s, each answered at once
(tshark -Y 'dns && eth.addr==00:17:88:24:76:ff'): it ignores TTLs, which is
what cache.requery-within-ttl reports. EXPECTED lists it; it must fire.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")
RULES = ("cache.requery-within-ttl", "cache.stale-use", "cache.negative-ignored",
         "rate.burst", "rate.retry-storm", "network.resolver-outage")
EXPECTED = {("iot-sentinel/HueBridge/Setup-A-1-STA.pcap", "cache.requery-within-ttl")}


def main():
    sensor = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("B", "build"), "stubwatch")
    pcaps = sorted(glob.glob(os.path.join(CORPUS, "iot-sentinel", "*", "*.pcap")))
    if not os.path.isdir(CORPUS) or not pcaps:
        print("behaviour: corpus not present")
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "events.json")
        for pcap in pcaps:
            name = os.path.relpath(pcap, CORPUS)
            if os.path.exists(out):
                os.unlink(out)
            p = subprocess.run([sensor, "-q", "-r", pcap, "-o", "file:" + out],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
            errs = []
            if p.returncode != 0:
                errs.append("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-500:]))
            alerts = []
            want = {r for (n, r) in EXPECTED if n == name}
            if os.path.exists(out):
                with open(out, encoding="utf-8") as f:
                    for line in f:
                        e = json.loads(line)
                        rid = e.get("rule", {}).get("id")
                        if rid in want:
                            want.discard(rid)
                            continue
                        if rid in RULES:
                            alerts.append("%s %s: %s" % (rid, e.get("source", {}).get("mac"),
                                                         e.get("message")))
            errs += alerts
            errs += ["expected %s did not fire" % r for r in sorted(want)]
            if errs:
                failed += 1
                print("FAIL %s" % name)
                for x in errs[:10]:
                    print("     " + x)
            else:
                passed += 1
                print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
