#!/usr/bin/env python3
"""Integrity, amplification and exfiltration detections over ../shared/corpus.

Runs build/stubwatch (B= overrides the folder) over the third-party
captures named below and checks the alerts of the integrity module
(response.*, amplification.*, exfil.suspect-names, policy.new-domain)
and its per-device counters against what each capture holds (read with
tshark; see corpus/MANIFEST.md):

  * nDPI dns_exfiltration.pcap and dns-tunnel-iodine.pcap: tunnels with
    long base32/base64 labels, so exfil.suspect-names fires;
  * suricata-verify dns-udp-unsolicited-response: one response with ID
    0x9941 reaches the open port of query 0x99ab: counted as a guessed
    ID, below the 10-in-2-s threshold, so no alert; the real answer is
    no race;
  * zeek dns53.pcap: one response with no query: one unsolicited
    response counted, below 5, no alert;
  * nDPI dns_long_domainname.pcap: one long name, counted, below 20;
  * suricata-verify dns-udp-double-request-response: two queries on one
    5-tuple answered in turn (A, AAAA): no race, no duplicate;
  * arkime v6.pcap: the "duplicate response" tshark counts is an ICMPv6
    error quoting the response, not a second answer: no race;
  * zeek dnssec/rrsig.pcap: large RRSIG answers but only 3 of them: no
    amplification alert;
  * the benign IoT captures (iot-sentinel/*): none of these alerts.

Prints 'N passed, N failed'; exits 1 when any failed. Without the corpus
it prints 'corpus not present', '0 passed, 0 failed' and exits 0.
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
B = os.environ.get("B", "build")
SENSOR = os.path.join(ROOT, B, "stubwatch")

FAMILIES = ("response.", "amplification.", "exfil.", "policy.new-domain")

# capture: (alerts that must fire {rule: min count}, rules that must not,
#           device counters that must sum to at least these values)
CASES = {
    "nDPI/dns_exfiltration.pcap":
        ({"exfil.suspect-names": 1}, ["response.race", "amplification.ratio"],
         {"suspect_names": 20}),
    "nDPI/dns-tunnel-iodine.pcap":
        ({"exfil.suspect-names": 1}, ["response.race"], {"suspect_names": 20}),
    "suricata-verify/tests/dns/dns-udp-unsolicited-response/dns-response-2x.pcap":
        ({}, ["response.txid-mismatch", "response.race", "response.unsolicited"],
         {"txid_mismatch": 1}),
    "zeek/Traces/dns53.pcap":
        ({}, ["response.unsolicited"], {"unsolicited": 1}),
    "nDPI/dns_long_domainname.pcap":
        ({}, ["exfil.suspect-names"], {"suspect_names": 1}),
    "suricata-verify/tests/dns/dns-udp-double-request-response/dns-udp-double-request-response.pcap":
        ({}, ["response.race", "response.reply-flood", "response.duplicate-rr"], {}),
    "arkime/v6.pcap":
        ({}, ["response.race", "response.reply-flood"], {}),
    "zeek/Traces/dnssec/rrsig.pcap":
        ({}, ["amplification.ratio"], {}),
}

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def run(path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "events.json")
        p = subprocess.run([SENSOR, "-q", "-r", path, "-o", "file:" + out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if p.returncode != 0:
            return None, p.stderr.decode(errors="replace")
        with open(out, encoding="utf-8") as f:
            return [json.loads(line) for line in f], ""


def summarise(events):
    alerts = {}
    counters = {}
    for e in events:
        ev = e.get("event", {})
        if ev.get("kind") == "alert":
            rid = e.get("rule", {}).get("id", "")
            if rid.startswith(FAMILIES):
                alerts[rid] = alerts.get(rid, 0) + 1
        if ev.get("dataset") == "stubwatch.device" and ev.get("reason") == "exit":
            for k, v in e.get("stubwatch", {}).get("integrity", {}).items():
                if isinstance(v, int) and not isinstance(v, bool):
                    counters[k] = counters.get(k, 0) + v
    return alerts, counters


def main():
    if not os.path.isdir(CORPUS):
        print("corpus not present")
        print("0 passed, 0 failed")
        return 0
    if not os.path.exists(SENSOR):
        print("FAIL %s missing: make %s first" % (SENSOR, os.path.join(B, "stubwatch")))
        print("0 passed, 1 failed")
        return 1
    cases = dict(CASES)
    for p in sorted(glob.glob(os.path.join(CORPUS, "iot-sentinel", "*", "*.pcap"))):
        cases[os.path.relpath(p, CORPUS)] = ({}, "all", {})
    for rel, (must, must_not, counts) in sorted(cases.items()):
        path = os.path.join(CORPUS, rel)
        if not os.path.exists(path):
            check(False, "%s: listed but missing from the corpus" % rel)
            continue
        events, err = run(path)
        if events is None:
            check(False, "%s: sensor failed: %s" % (rel, err[-300:]))
            continue
        alerts, counters = summarise(events)
        for rid, n in must.items():
            check(alerts.get(rid, 0) >= n, "%s: %s fired %d times, expected at least %d" %
                  (rel, rid, alerts.get(rid, 0), n))
        if must_not == "all":
            check(not alerts, "%s: benign capture, yet %s" % (rel, alerts))
        else:
            for rid in must_not:
                check(rid not in alerts, "%s: %s fired %d times, expected none" %
                      (rel, rid, alerts.get(rid, 0)))
        for k, n in counts.items():
            check(counters.get(k, 0) >= n, "%s: integrity.%s = %d, expected at least %d" %
                  (rel, k, counters.get(k, 0), n))
    print("integrity corpus: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
