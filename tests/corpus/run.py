#!/usr/bin/env python3
"""Conformance run over ../shared/corpus (third-party captures).

For every capture in corpus/MANIFEST.md:
  * stubwatch must read it without crashing (any exit other than 0, or 1 for
    a damaged file, fails), under the sanitizer build when one is given;
  * where the manifest gives tshark's DNS counts ("DNS/UDP q= r=",
    "DNS/TCP q= r=", "mDNS q= r="), stubwatch's exit stats must equal them,
    unless tests/corpus/differences.txt lists the capture with the reason.
A listed difference that no longer differs fails too, so the list stays true.
Prints 'N passed, N failed'.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


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
                cur["tshark"] = line
    return entries


def expected_counts(tshark):
    exp = {}
    for label, key in (("DNS/UDP", "udp"), ("DNS/TCP", "tcp"), ("mDNS", "mdns")):
        m = re.search(re.escape(label) + r" q=(\d+) r=(\d+)", tshark)
        if m:
            exp[key] = (int(m.group(1)), int(m.group(2)))
    return exp


def load_differences():
    diffs = {}
    path = os.path.join(HERE, "differences.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    name, _, why = line.partition(" ")
                    diffs[name] = why.strip()
    return diffs


def run_sensor(binary, pcap, outdir, extra=()):
    out = os.path.join(outdir, "events.json")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [binary, "-q", "-r", pcap, "-o", "file:" + out, "--set", "stats.interval=0"] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    events = []
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            for line in f:
                events.append(json.loads(line))
    return p, events


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "stubwatch")
    corpus = os.environ.get("SW_CORPUS", os.path.join(ROOT, "..", "shared", "corpus"))
    if not os.path.exists(os.path.join(corpus, "MANIFEST.md")):
        print("corpus: %s not present; conformance run not done" % corpus)
        print("0 passed, 0 failed")
        return 0
    diffs = load_differences()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for ent in load_manifest(corpus):
            pcap = os.path.join(corpus, ent["path"])
            if not os.path.exists(pcap):
                continue
            name = ent["path"]
            p, events = run_sensor(binary, pcap, tmp)
            if p.returncode not in (0, 1) or b"runtime error" in p.stderr or b"Sanitizer" in p.stderr:
                print("FAIL %s: exit %d\n%s" % (name, p.returncode, p.stderr.decode(errors="replace")[-2000:]))
                failed += 1
                continue
            # Output must be valid JSON lines ending with the exit stats.
            stats = [e for e in events if e.get("event", {}).get("dataset") == "stubwatch.stats"]
            if not stats:
                print("FAIL %s: no stats event" % name)
                failed += 1
                continue
            dns = stats[-1]["stubwatch"]["stats"]["dns"]
            got = {
                "udp": (dns["queries"]["udp"], dns["responses"]["udp"]),
                "tcp": (dns["queries"]["tcp"], dns["responses"]["tcp"]),
                "mdns": (dns["mdns"]["queries"], dns["mdns"]["responses"]),
            }
            exp = expected_counts(ent["tshark"])
            mismatch = ["%s q/r tshark=%s stubwatch=%s" % (k, exp[k], got[k])
                        for k in sorted(exp) if exp[k] != got[k]]
            if name in diffs:
                if mismatch:
                    print("ok   %s: known difference (%s): %s" % (name, diffs[name], "; ".join(mismatch)))
                    passed += 1
                else:
                    print("FAIL %s: listed in differences.txt but now matches tshark; remove it" % name)
                    failed += 1
            elif mismatch:
                print("FAIL %s: %s" % (name, "; ".join(mismatch)))
                failed += 1
            else:
                passed += 1
    print("corpus conformance: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
