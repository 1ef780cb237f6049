#!/usr/bin/env python3
"""Encrypted-DNS classification over the third-party captures in
../shared/corpus (see its MANIFEST.md).

Runs `stubwatch -q -r FILE --log-dns -o file:OUT` on each capture and checks
the stubwatch.tls events, the devices' "encrypted" members and the exit
stats against what nDPI (ndpiReader .out files) and Zeek (ssl.log) publish:
  * each flow nDPI classifies as DoH_DoT on 853/TCP is DoT, on UDP (784) DoQ;
  * the server address and port, the SNI ("Hostname/SNI"), the ALPN list
    ("(Advertised) ALPNs") and the JA3 client hash ("JA3C") of the event
    equal nDPI's;
  * negative controls (QUIC and HTTPS to web servers: Zeek's chromium
    trace, Suricata's ja4-quic, Arkime's quicietf; plain DNS on UDP/443 in
    avast_securedns; DoH in cleartext h2c on port 80) give no event and no
    encrypted transport, while their TLS/QUIC flows are seen and judged.
DELIBERATE difference: nDPI/doh.pcapng is a TLS hello without SNI to
1.1.1.1:443, which nDPI 4.x calls plain TLS; the sensor calls it DoH
because 1.1.1.1 is a public resolver that runs DoH (rules/resolvers.json),
as the MANIFEST describes the capture.
Prints 'N passed, N failed'; exits 1 when any failed. Without the corpus it
prints 'corpus not present', '0 passed, 0 failed' and exits 0.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")
B = os.environ.get("B", "build")

# capture -> (expected protocols of the stubwatch.tls events, by server
# "ip:port"; flows seen at least; why)
POSITIVE = {
    "nDPI/dns_dot.pcap": ({"8.8.8.8:853": "dot"}, 1, "DoT without SNI (port 853)"),
    "nDPI/doh.pcapng": ({"1.1.1.1:443": "doh"}, 1, "DoH to a DoH resolver address, no SNI"),
    "nDPI/doq.pcapng": ({"::1:784": "doq"}, 1, "DoQ draft, ALPN doq-i00"),
    "nDPI/doq_adguard.pcapng": ({"94.140.14.14:784": "doq"}, 1, "DoQ draft with SNI"),
    "suricata-verify/tests/community-id-ipv6/input.pcap":
        ({"2001:4860:4860::8888:443": "doh"}, 2, "DoH by SNI dns.google; ipv6.google.com is not"),
}
NEGATIVE = {
    "zeek/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap": (1, "QUIC to api.cirrus-ci.com"),
    "suricata-verify/tests/ja4-quic/input.pcap": (11, "11 Chrome QUIC Initials to Google web servers"),
    "arkime/quicietf.pcap": (1, "IETF QUIC to a web server"),
    "nDPI/avast_securedns.pcapng": (0, "plain DNS on UDP/443, not QUIC"),
    "suricata-verify/tests/dns-over-http2/dns_over_https.pcap": (0, "DoH in cleartext h2c on port 80"),
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


def ndpi_flows(cap):
    """Flows of an ndpiReader .out: server ip:port, proto, sni, alpn, ja3."""
    path = os.path.join(CORPUS, cap + ".expected-ndpiReader.out")
    flows = []
    if not os.path.exists(path):
        return flows
    line_re = re.compile(r"^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+<->\s+(\S+)\s+\[proto: [\d.]+/([^\]]+)\]")
    for line in open(path, encoding="utf-8", errors="replace"):
        m = line_re.match(line)
        if not m:
            continue
        srv = m.group(3).replace("[", "").replace("]", "")
        f = {"l4": m.group(1), "server": srv, "proto": m.group(4)}
        for key, rx in (("sni", r"\[Hostname/SNI: ([^\]]+)\]"), ("alpn", r"\[\(Advertised\) ALPNs: ([^\]]+)\]"),
                        ("ja3", r"\[JA3C: ([0-9a-f]{32})\]")):
            mm = re.search(rx, line)
            if mm:
                f[key] = mm.group(1)
        flows.append(f)
    return flows


def zeek_server_names(cap):
    path = os.path.join(CORPUS, cap + ".expected-zeek.scripts.base.protocols.quic.chromium.ssl.log")
    names = []
    if os.path.exists(path):
        fields = None
        for line in open(path, encoding="utf-8", errors="replace"):
            if line.startswith("#fields"):
                fields = line.rstrip("\n").split("\t")[1:]
            elif not line.startswith("#") and fields:
                row = dict(zip(fields, line.rstrip("\n").split("\t")))
                names.append(row.get("server_name", "-"))
    return names


def run(cap):
    out = os.path.join(ROOT, B, "corpus-encrypted.json")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([os.path.join(ROOT, B, "stubwatch"), "-q", "-r", os.path.join(CORPUS, cap),
                        "--log-dns", "-o", "file:" + out], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "%s: stubwatch exit %d: %s" % (cap, p.returncode, p.stderr[-500:]))
    events = []
    if os.path.exists(out):
        events = [json.loads(line) for line in open(out, encoding="utf-8") if line.strip()]
    tls = [e for e in events if e["event"]["dataset"] == "stubwatch.tls"]
    devs = [e for e in events if e["event"]["dataset"] == "stubwatch.device" and e["event"].get("reason") == "exit"]
    stats = [e for e in events if e["event"]["dataset"] == "stubwatch.stats" and e["event"].get("reason") == "exit"]
    enc = stats[-1]["stubwatch"]["stats"].get("encrypted_dns", {}) if stats else {}
    return tls, devs, enc


def endpoint(e):
    return "%s:%d" % (e["destination"]["ip"], e["destination"]["port"])


def main():
    if not os.path.isdir(CORPUS):
        print("corpus not present")
        print("0 passed, 0 failed")
        return 0
    for cap, (want, min_flows, why) in POSITIVE.items():
        if not os.path.exists(os.path.join(CORPUS, cap)):
            continue
        tls, devs, enc = run(cap)
        got = {endpoint(e): e["network"]["protocol"] for e in tls}
        check(got == want, "%s (%s): events %s, expected %s" % (cap, why, got, want))
        check(enc.get("flows", {}).get("seen", 0) >= min_flows,
              "%s: %s flows seen, expected >= %d" % (cap, enc.get("flows"), min_flows))
        # Per device: the transports count the flows the events show.
        total = {"dot": 0, "doh": 0, "doq": 0}
        for d in devs:
            t = d["stubwatch"]["encrypted"]["transports"]
            for k in total:
                total[k] += t[k]
        want_tot = {"dot": 0, "doh": 0, "doq": 0}
        for proto in want.values():
            want_tot[proto] += 1
        check(total == want_tot, "%s: device transports %s, expected %s" % (cap, total, want_tot))
        for f in ndpi_flows(cap):
            ev = [e for e in tls if endpoint(e) == f["server"]]
            if not ev:
                check(f["server"] not in want, "%s: no event for nDPI's flow to %s" % (cap, f["server"]))
                continue
            e = ev[0]
            c = e["tls"]["client"]
            sw = e["stubwatch"].get("tls", {})  # ALPN and JA4: not in ECS
            if "DoH_DoT" in f["proto"]:
                exp = "dot" if f["l4"] == "TCP" else "doq"
                check(e["network"]["protocol"] == exp,
                      "%s: nDPI says %s, event says %s" % (cap, f["proto"], e["network"]["protocol"]))
            if "ja3" in f:
                check(c.get("ja3") == f["ja3"], "%s: ja3 %s, nDPI %s" % (cap, c.get("ja3"), f["ja3"]))
            check(c.get("server_name") == f.get("sni"),
                  "%s: SNI %s, nDPI %s" % (cap, c.get("server_name"), f.get("sni")))
            want_alpn = f["alpn"].split(";") if "alpn" in f else None
            check(sw.get("alpn") == want_alpn, "%s: ALPN %s, nDPI %s" % (cap, sw.get("alpn"), want_alpn))
            check(sw.get("ja4", "")[:1] in ("t", "q"), "%s: no JA4 in %s" % (cap, sw))
    for cap, (min_flows, why) in NEGATIVE.items():
        if not os.path.exists(os.path.join(CORPUS, cap)):
            continue
        tls, devs, enc = run(cap)
        check(tls == [], "%s (%s): %d stubwatch.tls events, expected none" % (cap, why, len(tls)))
        fl = enc.get("flows", {})
        check(fl.get("seen", -1) >= min_flows and fl.get("dot", 0) + fl.get("doh", 0) + fl.get("doq", 0) == 0,
              "%s: flows %s, expected >= %d seen and none encrypted DNS" % (cap, fl, min_flows))
        check(all(sum(d["stubwatch"]["encrypted"]["transports"][k] for k in ("dot", "doh", "doq")) == 0
                  for d in devs), "%s: a device shows encrypted DNS" % cap)
        names = zeek_server_names(cap)
        if names:
            check(all(n != "-" for n in names), "%s: Zeek's ssl.log server_name %s" % (cap, names))
    print("encrypted DNS: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
