#!/usr/bin/env python3
"""Resolver learning over ../shared/corpus: sensor/dhcp against tshark.

For every capture in corpus/MANIFEST.md whose tshark line counts DHCP,
DHCPv6 or Router Advertisement packets, runs build/dhcp_learn (or the
binary given as the first argument) and asserts that the DNS servers it
learned equal the manifest's: DHCPv4 option 6 ("opt6 servers=[...]"),
DHCPv6 option 23 ("DHCPv6 pkts=N DNS servers=[...]") and RA RDNSS
("RDNSS=[...]"), each as a set over the whole capture ("-" is empty).
The learner must also exit 0 on every such capture. Prints
'N passed, N failed'; without the corpus it says so and passes with 0/0.
"""
import ipaddress
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")


def parse_list(text):
    """"['a', 'b']" or "-" -> set of normalised addresses."""
    if text == "-":
        return set()
    return {str(ipaddress.ip_address(x.strip().strip("'\"")))
            for x in text.strip("[]").split(",") if x.strip()}


def load_manifest(corpus):
    entries = []
    cur = None
    with open(os.path.join(corpus, "MANIFEST.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#### `([^`]+)`", line)
            if m:
                cur = {"path": m.group(1), "tshark": ""}
                entries.append(cur)
            elif cur is not None and line.startswith("- tshark:"):
                cur["tshark"] = line.strip()
    return entries


LIST = r"(\[[^\]]*\]|-)"


def expected(tshark):
    """{kind: set} for the kinds the tshark line reports, or None."""
    exp = {}
    m = re.search(r"DHCP pkts=(\d+) opt6 servers=" + LIST, tshark)
    if m and int(m.group(1)) > 0:
        exp["dhcp4"] = parse_list(m.group(2))
    m = re.search(r"DHCPv6 pkts=(\d+) DNS servers=" + LIST, tshark)
    if m and int(m.group(1)) > 0:
        exp["dhcp6"] = parse_list(m.group(2))
    m = re.search(r"ICMPv6 RA=(\d+) .*?RDNSS=" + LIST, tshark)
    if m and int(m.group(1)) > 0:
        exp["ra"] = parse_list(m.group(2))
    return exp or None


def learned(out):
    got = {"dhcp4": set(), "dhcp6": set(), "ra": set()}
    key = {"dhcp4": "dns", "dhcp6": "dns", "ra": "rdnss"}
    for line in out.splitlines():
        kind = line.split(" ", 1)[0]
        if kind not in got:
            continue
        m = re.search(r" " + key[kind] + r"=(\S+)", line)
        if m and m.group(1) != "-":
            got[kind] |= {str(ipaddress.ip_address(a)) for a in m.group(1).split(",")}
    return got


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "dhcp_learn")
    if not os.path.isdir(CORPUS):
        print("corpus not present (%s)" % CORPUS)
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    for e in load_manifest(CORPUS):
        exp = expected(e["tshark"])
        if exp is None:
            continue
        pcap = os.path.join(CORPUS, e["path"])
        if not os.path.exists(pcap):
            print("FAIL %s: listed in the manifest but missing" % e["path"])
            failed += 1
            continue
        r = subprocess.run([binary, pcap], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: dhcp_learn exit %d: %s" % (e["path"], r.returncode, r.stderr.strip()))
            failed += 1
            continue
        got = learned(r.stdout)
        bad = ["%s tshark=%s ours=%s" % (k, sorted(v), sorted(got[k]))
               for k, v in sorted(exp.items()) if got[k] != v]
        if bad:
            print("FAIL %s: %s" % (e["path"], "; ".join(bad)))
            failed += 1
        else:
            what = " ".join("%s=%s" % (k, ",".join(sorted(v)) or "-") for k, v in sorted(exp.items()))
            print("ok   %s: %s" % (e["path"], what))
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
