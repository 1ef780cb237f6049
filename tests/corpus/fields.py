#!/usr/bin/env python3
"""Field conformance over ../shared/corpus (third-party captures).

For every capture in corpus/MANIFEST.md that has a Suricata test.yaml, a Zeek
dns.log or an Arkime session JSON next to it, stubwatch is run with --log-dns
and its stubwatch.dns events are compared with what those tools publish:

  * Suricata (suricata-verify test.yaml): every eve 'dns'/'mdns' filter is
    evaluated against stubwatch's transactions.  A stubwatch transaction
    stands for up to two eve records: a request (the query was seen) and a
    response (the response was seen), so a filter's 'count' is compared with
    the number of matching sides.  Mapped fields: dns.type, dns.id, rrname,
    rrtype (dns.rrname or dns.queries[0]), rcode, flags, qr/aa/tc/rd/ra/ad/
    cd/z, answers[i].rrname/rrtype/ttl/rdata (and mdns .txt/.ptr),
    answers.__len, grouped.TYPE[i], src/dest ip+port, proto, ether MACs.
    Fields stubwatch has no equivalent for (authorities, additionals,
    tx_id, pcap_cnt, version, queries[1..]) are not compared.  The sides
    counted follow the test's suricata.yaml (requests: no / responses: no).
  * Zeek (dns.log): every row must have its own stubwatch event with the
    same endpoints, proto, trans_id, query, qclass/qtype, rcode (or no
    response when '-'), AA/TC/RD/RA/Z, answers and TTLs, original_query.
  * Arkime (session JSON): every dns entry must have an event on the same
    endpoints with the same query host/type/class, status, resolved IPs, and
    answers equal to the start of Arkime's list (Arkime lists all sections).
  * Captures whose peer output asserts only counts also get the manifest's
    tshark facts (qtypes, answer TTL min/max) as concrete values.

tests/corpus/fields-differences.txt lists deliberate differences, one line
each: capture path, check id, what differs and why.  A listed check must
still fail (otherwise the list is stale and the capture fails); a listed
capture with check id '*' must produce no DNS events at all (content
stubwatch deliberately does not decode as Do53).

Usage: python3 tests/corpus/fields.py [path/to/stubwatch]
Prints ok/FAIL per capture and 'N passed, N failed'; exits 1 on failure.
"""
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SURICATA_VERSION = 8  # evaluate suricata-verify filters as Suricata 8 would


class Unmapped(Exception):
    """A peer field stubwatch has no equivalent for."""


# --------------------------------------------------------------- tiny YAML
def _strip_comment(s):
    out, q = [], None
    for i, ch in enumerate(s):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            break
        out.append(ch)
    return "".join(out).rstrip()


def _scalar(s):
    s = s.strip()
    if s == "":
        return None
    if s.startswith("'") and s.endswith("'") and len(s) >= 2:
        return s[1:-1].replace("''", "'")
    if s.startswith('"') and s.endswith('"') and len(s) >= 2:
        return json.loads(s)
    if s.startswith("[") and s.endswith("]"):
        items, cur, q = [], "", None
        for ch in s[1:-1]:
            if q:
                cur += ch
                if ch == q:
                    q = None
            elif ch in "'\"":
                q = ch
                cur += ch
            elif ch == ",":
                items.append(_scalar(cur))
                cur = ""
            else:
                cur += ch
        if cur.strip():
            items.append(_scalar(cur))
        return items
    if s in ("true", "True"):
        return True
    if s in ("false", "False"):
        return False
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return s


KEY_RE = re.compile(r"^([^'\"\s][^:]*?)\s*:(?:\s+(.*))?$")


def parse_yaml(text):
    toks = []
    for raw in text.splitlines():
        if raw.strip().startswith("%") or raw.strip() == "---":
            continue
        line = _strip_comment(raw)
        if line.strip():
            toks.append([len(line) - len(line.lstrip()), line.strip()])

    def node(i, ind):
        if i >= len(toks):
            return None, i
        if toks[i][1].startswith("-") and (toks[i][1] == "-" or toks[i][1][1] == " "):
            return seq(i, toks[i][0])
        return mapping(i, toks[i][0])

    def seq(i, ind):
        out = []
        while i < len(toks) and toks[i][0] == ind and (toks[i][1] == "-" or toks[i][1].startswith("- ")):
            rest = toks[i][1][1:].strip()
            if rest == "":
                v, i = node(i + 1, ind + 1)
            elif KEY_RE.match(rest) and not rest.startswith(("'", '"', "[")):
                toks[i] = [ind + 2, rest]
                v, i = mapping(i, ind + 2)
            else:
                v, i = _scalar(rest), i + 1
            out.append(v)
        return out, i

    def mapping(i, ind):
        out = {}
        while i < len(toks) and toks[i][0] == ind and not toks[i][1].startswith("- "):
            m = KEY_RE.match(toks[i][1])
            if not m:
                i += 1
                continue
            key, rest = m.group(1).strip(), m.group(2)
            i += 1
            if rest is None or rest.strip() == "":
                if i < len(toks) and (toks[i][0] > ind or (toks[i][0] == ind and toks[i][1].startswith("- "))):
                    v, i = node(i, toks[i][0])
                else:
                    v = None
            else:
                parts = [rest]
                while i < len(toks) and toks[i][0] > ind:  # folded plain scalar
                    parts.append(toks[i][1])
                    i += 1
                v = _scalar(" ".join(parts))
            out[key] = v
        return out, i

    v, _ = node(0, 0)
    return v


# --------------------------------------------------------- normalisation
def unescape_name(s):
    """stubwatch prints names in presentation format (\\DDD, \\X)."""
    if s is None:
        return None
    b = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 3 < len(s) + 0 and re.fullmatch(r"\d{3}", s[i + 1:i + 4] or ""):
            b.append(int(s[i + 1:i + 4]))
            i += 4
        elif ch == "\\" and i + 1 < len(s):
            b.extend(s[i + 1].encode())
            i += 2
        else:
            b.extend(ch.encode())
            i += 1
    return b.decode("utf-8", "replace")


def norm_name(s):
    if s is None:
        return None
    s = str(s)
    if len(s) > 1 and s.endswith("."):
        s = s[:-1]
    return s.lower()


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(str(s)))
    except ValueError:
        return str(s)


def txt_strings(data):
    """'"a" "b"' -> ['a', 'b'] (presentation format, with \\DDD escapes)."""
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', data or ""):
        out.append(unescape_name(m.group(1)))
    return out


RRTYPE_NUM = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
              "SRV": 33, "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "HTTPS": 65}
RCODE_NUM = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}
NAME_TYPES = ("CNAME", "NS", "PTR", "DNAME")


def sw_rdata(ans):
    """Answer data in a tool-neutral form for comparison."""
    t, d = ans.get("type"), ans.get("data")
    if t in ("A", "AAAA"):
        return norm_ip(d)
    if t in NAME_TYPES:
        return norm_name(unescape_name(d))
    if t == "TXT":
        return "".join(txt_strings(d))
    return d


def zeek_answer(ans):
    """stubwatch answer formatted the way Zeek's dns.log 'answers' does."""
    t, d = ans.get("type"), ans.get("data") or ""
    if t in ("A", "AAAA"):
        return norm_ip(d)
    if t == "TXT":
        return " ".join("TXT %d %s" % (len(s.encode()), s) for s in txt_strings(d))
    if t == "RRSIG":
        f = d.split()
        covered = RRTYPE_NUM.get(f[0], f[0]) if f else "?"
        return "RRSIG %s %s" % (covered, norm_name(f[7]) if len(f) > 7 else "?")
    if t == "MX":
        return norm_name(d.split()[-1])
    if t == "SRV":
        return norm_name(d.split()[-1])
    if t == "SOA":
        return norm_name(d.split()[0])
    return norm_name(unescape_name(d))


# ----------------------------------------------------------- stubwatch run
def run_sensor(binary, pcap, tmp):
    out = os.path.join(tmp, "events.json")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([binary, "-q", "-r", pcap, "--log-dns", "-o", "file:" + out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    evs = []
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    e = json.loads(line)
                    if e.get("event", {}).get("dataset") == "stubwatch.dns":
                        evs.append(e)
    return p.returncode, evs


def ev_sides(e):
    """The eve records a stubwatch transaction stands for."""
    d = e["dns"]
    sw = e.get("stubwatch", {})
    sides = []
    if d.get("type") == "query" or sw.get("answered"):
        sides.append("request")
    if d.get("type") == "answer":
        sides.append("response")
    return sides


def endpoints(e):
    s, d = e.get("source", {}), e.get("destination", {})
    return (norm_ip(s.get("ip")), s.get("port")), (norm_ip(d.get("ip")), d.get("port"))


# ------------------------------------------------------------ Suricata
FLAG_BITS = (("AA", 0x0400), ("TC", 0x0200), ("RD", 0x0100), ("RA", 0x0080),
             ("Z", 0x0040), ("AD", 0x0020), ("CD", 0x0010))
RESPONSE_ONLY = re.compile(r"^(rcode|answers|authorities|additionals|grouped|flags|qr|aa|ra)\b")
IGNORED = re.compile(r"^(pcap_cnt|community_id|app_proto|flow_id|tx_id|dns\.tx_id|dns\.version|"
                     r"(dns|mdns)\.(authorities|additionals)\b|(dns|mdns)\.queries\[[1-9]\d*\]|"
                     r"(dns|mdns)\.(query|rrname_truncated|queries\[0\]\.rrname_truncated))")


def version_ok(req, version):
    if not isinstance(req, dict):
        return True

    def v(x):
        return tuple(int(p) for p in str(x).split(".") if p.isdigit())
    if "min-version" in req and v(version) < v(req["min-version"]):
        return False
    if "lt-version" in req and not v(version) < v(req["lt-version"]):
        return False
    return True


def suri_answers(d):
    """Suricata logs one answer entry per TXT character-string."""
    out = []
    for a in d.get("answers", []):
        if a.get("type") == "TXT" and "data" in a:
            strings = txt_strings(a["data"])
            for t in strings or [""]:
                out.append(dict(a, data='"%s"' % t.replace("\\", "\\\\").replace('"', '\\"'),
                                txt=strings))
        else:
            out.append(a)
    return out


def suri_get(e, side, key, v2):
    """stubwatch's value for a Suricata eve key, as seen from one side."""
    d = e["dns"]
    k = re.sub(r"^mdns\.", "dns.", key)
    src, dst = endpoints(e)
    server_first = side == "response" and not v2
    if k in ("src_ip", "dest_ip", "src_port", "dest_port"):
        a, b = (dst, src) if server_first else (src, dst)
        ep = a if k.startswith("src") else b
        return ep[0] if k.endswith("ip") else ep[1]
    if k == "proto":
        return e.get("network", {}).get("transport", "").upper()
    if k in ("ether.src_mac", "ether.dest_mac"):
        if (k == "ether.src_mac") == (side == "request"):
            # ECS writes A4-83-E7-50-00-08; Suricata a4:83:e7:50:00:08.
            mac = e.get("source", {}).get("mac")
            return mac.replace("-", ":").lower() if mac else mac
        raise Unmapped(key)
    if k == "dns.id":
        return dns_id(d)
    m = re.fullmatch(r"dns\.(?:rrname|queries\[0\]\.rrname)(\.__len)?", k)
    if m:
        n = unescape_name(d.get("question", {}).get("name"))
        return (len(n) if n is not None else None) if m.group(1) else norm_name(n)
    if re.fullmatch(r"dns\.(?:rrtype|queries\[0\]\.rrtype)", k):
        t = d.get("question", {}).get("type")
        return t.upper() if t else None
    if side != "response" and RESPONSE_ONLY.match(k[4:]):
        return None
    if k == "dns.rcode":
        return d.get("response_code")
    flags = set(d.get("header_flags", []))
    if k == "dns.qr":
        return side == "response"
    m = re.fullmatch(r"dns\.(aa|tc|rd|ra|z|ad|cd)", k)
    if m:
        return m.group(1).upper() in flags
    if k == "dns.flags":
        val = (0x8000 if side == "response" else 0)
        for name, bit in FLAG_BITS:
            if name in flags:
                val |= bit
        if side == "response":
            val |= RCODE_NUM.get(d.get("response_code"), 0xF)
        return "%04x" % val
    # Suricata's dns records carry one answer entry per TXT string; its mdns
    # records keep a TXT record whole with a 'txt' list
    answers = d.get("answers", []) if key.startswith("mdns.") else suri_answers(d)
    if k == "dns.answers.__len":
        return len(answers)
    m = re.fullmatch(r"dns\.answers\[(\d+)\]\.(rrname|rrtype|ttl|rdata|txt|ptr)", k)
    if m:
        i = int(m.group(1))
        if i >= len(answers):
            return None
        a, f = answers[i], m.group(2)
        if f == "rrname":
            return norm_name(unescape_name(a.get("name")))
        if f == "rrtype":
            return a.get("type")
        if f == "ttl":
            return a.get("ttl")
        if f == "txt":
            return txt_strings(a.get("data")) if a.get("type") == "TXT" else None
        if f == "ptr":
            return norm_name(unescape_name(a.get("data"))) if a.get("type") == "PTR" else None
        return sw_rdata(a)
    m = re.fullmatch(r"dns\.grouped\.(\w+)\[(\d+)\]", k)
    if m:
        g = [a for a in answers if a.get("type") == m.group(1)]
        i = int(m.group(2))
        return sw_rdata(g[i]) if i < len(g) else None
    raise Unmapped(key)


def suri_norm(key, v):
    k = re.sub(r"^mdns\.", "dns.", key)
    if v is None:
        return None
    if k.endswith(("_ip",)) or re.search(r"(rdata|grouped\.(A|AAAA)\[\d+\])$", k) and \
            re.fullmatch(r"[0-9a-fA-F:.]+", str(v)) and (":" in str(v) or str(v).count(".") == 3):
        return norm_ip(v)
    if re.search(r"(rrname|\.ptr)$", k):
        return norm_name(v)
    if re.search(r"rdata$|grouped\.", k) and isinstance(v, str):
        return v if not re.fullmatch(r"[\w.-]+\.[a-zA-Z]+", v) else norm_name(v)
    if re.search(r"rrtype$", k) or k in ("proto",):
        return str(v).upper()
    if k == "dns.flags":
        return str(v).lower()
    return v


def suri_logged_sides(yaml_path):
    """requests/responses as configured in the test's suricata.yaml."""
    aux = yaml_path[:-len("test.yaml")] + "suricata.yaml"
    sides = {"request", "response"}
    if os.path.exists(aux):
        txt = open(aux, encoding="utf-8").read()
        m = re.search(r"-\s*dns:\s*\n((?:\s+\w+:.*\n?)+)", txt)
        if m:
            if re.search(r"requests:\s*no", m.group(1)):
                sides.discard("request")
            if re.search(r"responses:\s*no", m.group(1)):
                sides.discard("response")
    return sides


def suricata_checks(yaml_path, evs, tag):
    doc = parse_yaml(open(yaml_path, encoding="utf-8").read()) or {}
    version = SURICATA_VERSION if version_ok(doc.get("requires"), SURICATA_VERSION) else 7
    logged = suri_logged_sides(yaml_path)
    checks = []
    for idx, item in enumerate(doc.get("checks") or []):
        flt = (item or {}).get("filter")
        if not isinstance(flt, dict) or not version_ok(flt.get("requires"), version):
            continue
        match = flt.get("match") or {}
        et = match.get("event_type")
        has_dns = any(re.match(r"(dns|mdns)\.", k) for k in match)
        if et not in (None, "dns", "mdns") or (et is None and not has_dns):
            continue
        if "not-has-key" in match or "count" not in flt:
            continue
        proto_is_mdns = et == "mdns" or any(k.startswith("mdns.") for k in match)
        v2 = match.get("dns.type") in ("query", "answer") or match.get("dns.version") == 2
        want_side = None
        t = match.get("dns.type", match.get("mdns.type"))
        if t in ("request", "query"):
            want_side = "request"
        elif t in ("response", "answer"):
            want_side = "response"
        elif any(RESPONSE_ONLY.match(re.sub(r"^m?dns\.", "", k)) for k in match if re.match(r"m?dns\.", k)):
            want_side = "response"
        fields = {}
        for k, v in match.items():
            if k in ("event_type", "dns.type", "mdns.type") or IGNORED.match(k):
                continue
            fields[k] = v
        # which fields map at all (decided on a sample event; Unmapped is per key)
        mapped = {}
        for k, v in fields.items():
            try:
                suri_get({"dns": {}, "source": {}, "destination": {}}, want_side or "response", k, v2)
                mapped[k] = v
            except Unmapped:
                pass
            except Exception:
                mapped[k] = v
        n, best = 0, None
        for e in evs:
            proto = e.get("network", {}).get("protocol")
            if (proto == "mdns") != proto_is_mdns:
                continue
            for side in ev_sides(e):
                if side not in logged or (want_side and side != want_side):
                    continue
                bad = []
                for k, v in mapped.items():
                    try:
                        got = suri_get(e, side, k, v2)
                    except Unmapped:
                        continue
                    if suri_norm(k, got) != suri_norm(k, v):
                        bad.append("%s: want %r got %r" % (k, v, got))
                if not bad:
                    n += 1
                elif best is None or len(bad) < len(best):
                    best = bad
        want = flt["count"]
        desc = "%s#%d count %d of {%s}" % (tag, idx, want, ", ".join(
            "%s=%s" % (k, v) for k, v in list(({"dns.type": t} if t else {}).items()) + list(mapped.items())))
        detail = "" if n == want else "got %d%s" % (n, ("; nearest: " + "; ".join(best[:6])) if best and n < want else "")
        checks.append({"id": "%s#%d" % (tag, idx), "ok": n == want, "desc": desc, "detail": detail,
                       "values": len(mapped) + 1, "concrete": len(mapped)})
    return checks


# ----------------------------------------------------------------- Zeek
def zeek_rows(path):
    fields, rows = None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#") and fields:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def dns_id(d):
    """dns.id is text in ECS (a keyword); the others publish a number."""
    return int(d["id"]) if "id" in d else None


def zeek_compare(row, e):
    d = e["dns"]
    bad = []

    def chk(name, want, got):
        if want != got:
            bad.append("%s: want %r got %r" % (name, want, got))
    ends = set(endpoints(e))
    chk("endpoints", {(norm_ip(row["id.orig_h"]), int(row["id.orig_p"])),
                      (norm_ip(row["id.resp_h"]), int(row["id.resp_p"]))}, ends)
    chk("proto", row["proto"], e.get("network", {}).get("transport"))
    chk("trans_id", int(row["trans_id"]), dns_id(d))
    q = d.get("question")
    answers = d.get("answers", [])
    if row["qtype_name"] == "-":
        # Zeek fills qtype/qclass from a request only; a reply-only row
        # takes its query from the reply's question, else its first answer
        qname = unescape_name(q["name"]) if q else (unescape_name(answers[0]["name"]) if answers else None)
    else:
        qname = unescape_name((q or {}).get("name"))
        chk("qtype_name", row["qtype_name"], (q or {}).get("type"))
        chk("qclass_name", {"C_INTERNET": "IN"}.get(row["qclass_name"], row["qclass_name"]), (q or {}).get("class"))
    chk("query", norm_name(row["query"]), norm_name(qname))
    if "original_query" in row:
        chk("original_query", row["original_query"], qname)
    if row["rcode_name"] == "-":
        chk("response seen", False, d.get("type") == "answer")
    else:
        chk("rcode_name", row["rcode_name"], d.get("response_code"))
    flags = set(d.get("header_flags", []))
    for f in ("AA", "TC", "RD", "RA"):
        chk(f, row[f] == "T", f in flags)
    z = int(row.get("Z", "0") or 0)
    chk("Z", z, (1 if "CD" in flags else 0) | (2 if "AD" in flags else 0) | (4 if "Z" in flags else 0))
    want_ans = [] if row["answers"] in ("-", "(empty)") else row["answers"].split(",")
    want_ans = [norm_ip(a) if re.fullmatch(r"[0-9a-fA-F:.]+", a) and (":" in a or a.count(".") == 3)
                else (a if a.startswith(("TXT ", "RRSIG ")) else norm_name(a)) for a in want_ans]
    chk("answers", want_ans, [zeek_answer(a) for a in answers])
    want_ttl = [] if row["TTLs"] in ("-", "(empty)") else [int(float(t)) for t in row["TTLs"].split(",")]
    chk("TTLs", want_ttl, [a.get("ttl") for a in answers])
    return bad


def zeek_checks(path, evs, tag):
    checks = []
    used = set()
    for n, row in enumerate(zeek_rows(path), 1):
        best, hit = None, None
        for i, e in enumerate(evs):
            if i in used:
                continue
            bad = zeek_compare(row, e)
            if not bad:
                hit = i
                break
            if best is None or len(bad) < len(best):
                best = bad
        cid = "%s#row%d" % (tag, n)
        nvals = 14 + ("original_query" in row)
        if hit is not None:
            used.add(hit)
            checks.append({"id": cid, "ok": True, "desc": cid, "detail": "", "values": nvals, "concrete": nvals})
            continue
        # split the failure per field so a deliberate difference can name one
        fields = sorted({b.split(":")[0] for b in (best or ["no event: "])})
        if best:  # the nearest event's other fields did match
            checks.append({"id": cid + ".rest", "ok": True, "desc": cid, "detail": "",
                           "values": nvals - len(fields), "concrete": nvals - len(fields)})
        for f in fields:
            checks.append({"id": "%s.%s" % (cid, f), "ok": False, "desc": "%s %s=%s" % (cid, "query", row["query"]),
                           "detail": "; ".join(b for b in (best or ["no stubwatch.dns event"]) if b.startswith(f)) or
                           "no stubwatch.dns event", "values": nvals, "concrete": nvals})
    return checks


# --------------------------------------------------------------- Arkime
def arkime_checks(path, evs, tag):
    doc = json.load(open(path, encoding="utf-8"))
    checks = []
    n = 0
    for s in doc.get("sessions3", []):
        b = s.get("body", {})
        if "dns" not in b or "source" not in b:
            continue
        ends = {(norm_ip(b["source"]["ip"]), b["source"].get("port")),
                (norm_ip(b["destination"]["ip"]), b["destination"].get("port"))}
        transport = {6: "tcp", 17: "udp"}.get(b.get("ipProtocol"))
        for ent in b["dns"]:
            n += 1
            cid = "%s#%d" % (tag, n)
            want_ans = []
            for a in ent.get("answers", []):
                data = a.get("ip") or a.get("cname") or a.get("nameserver") or a.get("mx")
                if "txt" in a:
                    data = "".join(a["txt"])
                if a.get("type") in ("A", "AAAA"):
                    data = norm_ip(data)
                elif data is not None and a.get("type") != "TXT":
                    data = norm_name(data)
                want_ans.append((norm_name(a.get("name")), a.get("type"), a.get("ttl"), data))
            best, ok = None, False
            for e in evs:
                d = e["dns"]
                q = d.get("question") or {}
                bad = []
                if set(endpoints(e)) != ends or e.get("network", {}).get("transport") != transport:
                    continue
                if norm_name(unescape_name(q.get("name"))) != norm_name(ent.get("queryHost")) or \
                        q.get("type") != ent.get("qt"):
                    continue
                if q.get("class") != ent.get("qc"):
                    bad.append("qc: want %r got %r" % (ent.get("qc"), q.get("class")))
                if "status" in ent and d.get("response_code") != ent["status"]:
                    bad.append("status: want %r got %r" % (ent["status"], d.get("response_code")))
                if "status" in ent and set(d.get("header_flags", [])) != set(ent.get("headerFlags", [])):
                    bad.append("headerFlags: want %r got %r" % (sorted(ent.get("headerFlags", [])),
                                                                sorted(d.get("header_flags", []))))
                got = []
                for a in d.get("answers", []):
                    data = sw_rdata(a) if a.get("type") in ("A", "AAAA", "CNAME", "NS", "TXT") else None
                    if a.get("type") == "MX":
                        data = norm_name(a.get("data", "").split()[-1])
                    got.append((norm_name(unescape_name(a.get("name"))), a.get("type"), a.get("ttl"), data))
                pre = [(w[0], w[1], w[2], w[3] if g[3] is not None else None) for w, g in zip(want_ans, got)]
                if len(got) > len(want_ans) or pre != got or (ent.get("ip") and not got):
                    bad.append("answers: want prefix of %r got %r" % (want_ans, got))
                # Arkime's ip list also holds addresses from the additional
                # section; stubwatch's resolved_ip is the answer section's,
                # which is the start of Arkime's list checked above
                want_ip = {norm_ip(i) for i in ent.get("ip", [])}
                got_ip = {norm_ip(i) for i in d.get("resolved_ip", [])}
                ans_ip = {w[3] for w in want_ans[:len(got)] if w[1] in ("A", "AAAA")}
                if got_ip != ans_ip or not got_ip <= want_ip:
                    bad.append("ip: want %r (answer section of Arkime's %r) got %r" % (
                        sorted(ans_ip), sorted(want_ip), sorted(got_ip)))
                if not bad:
                    ok = True
                    break
                if best is None or len(bad) < len(best):
                    best = bad
            checks.append({"id": cid, "ok": ok, "desc": "%s %s %s" % (cid, ent.get("queryHost"), ent.get("qt")),
                           "detail": "" if ok else "; ".join(best or ["no stubwatch.dns event on %s for %s/%s" % (
                               sorted(ends), ent.get("queryHost"), ent.get("qt"))]),
                           "values": 5 + len(want_ans), "concrete": 5})
    return checks


# --------------------------------------------- manifest facts (tshark)
def manifest_checks(tshark, evs, tag):
    checks = []
    m = re.search(r"qtypes=([\d:,]+)", tshark)
    if m:
        want = {int(a): int(b) for a, b in (p.split(":") for p in m.group(1).split(",") if ":" in p)}
        got = {}
        for e in evs:
            if "request" in ev_sides(e) and e.get("network", {}).get("protocol") == "dns":
                t = (e["dns"].get("question") or {}).get("type")
                num = RRTYPE_NUM.get(t, t)
                got[num] = got.get(num, 0) + 1
        checks.append({"id": tag + "#qtypes", "ok": set(want) == set(got),
                       "desc": "%s#qtypes %s" % (tag, sorted(want)),
                       "detail": "" if set(want) == set(got) else "want %r got %r" % (want, got),
                       "values": 1, "concrete": 1})
    m = re.search(r"DNS servers queried=\[([^\]]*)\]( \.\.\.)?", tshark)
    if m and not m.group(2):
        want = set(re.findall(r"'([^']+)'", m.group(1)))
        got = set()
        for e in evs:
            if "request" in ev_sides(e) and e.get("network", {}).get("protocol") == "dns":
                dst = e.get("destination", {})
                got.add("%s:%s" % (dst.get("ip"), dst.get("port")))
        checks.append({"id": tag + "#servers", "ok": want == got, "desc": "%s#servers %s" % (tag, sorted(want)),
                       "detail": "" if want == got else "got %r" % sorted(got), "values": len(want),
                       "concrete": len(want)})
    return checks


# ----------------------------------------------------------------- main
def load_manifest(corpus):
    entries, cur = [], None
    with open(os.path.join(corpus, "MANIFEST.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#### `([^`]+)`", line)
            if m:
                cur = {"path": m.group(1), "tshark": ""}
                entries.append(cur)
            elif cur is not None and line.startswith("- tshark:"):
                cur["tshark"] = line
    return entries


def load_differences():
    diffs = {}
    path = os.path.join(HERE, "fields-differences.txt")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                parts = line.split(None, 2)
                if len(parts) >= 2:
                    diffs[(parts[0], parts[1])] = parts[2] if len(parts) > 2 else ""
    return diffs


def main():
    corpus = os.environ.get("SW_CORPUS") or os.path.join(os.path.dirname(ROOT), "shared", "corpus")
    if not os.path.exists(os.path.join(corpus, "MANIFEST.md")):
        print("corpus not present")
        print("0 passed, 0 failed")
        return 0
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "stubwatch")
    if not os.access(binary, os.X_OK):
        print("FAIL: no stubwatch binary at %s" % binary)
        print("0 passed, 1 failed")
        return 1
    diffs = load_differences()
    seen_diffs = set()
    passed = failed = 0
    total_values = 0
    with tempfile.TemporaryDirectory(prefix="sw-fields-") as tmp:
        for ent in load_manifest(corpus):
            rel = ent["path"]
            pcap = os.path.join(corpus, rel)
            base = os.path.basename(rel)
            d = os.path.dirname(pcap)
            suri = sorted(glob.glob(os.path.join(d, glob.escape(base) + ".expected-suricata.*.test.yaml")))
            zeek = sorted(p for p in glob.glob(os.path.join(d, glob.escape(base) + ".expected-zeek.*"))
                          if p.endswith("dns.log"))
            ark = sorted(glob.glob(os.path.join(d, glob.escape(base) + ".expected-arkime.test.json")))
            if not (suri or zeek or ark) or not os.path.exists(pcap):
                continue
            rc, evs = run_sensor(binary, pcap, tmp)
            checks = []
            if rc not in (0, 1):
                checks.append({"id": "exit", "ok": False, "desc": "exit", "detail": "stubwatch exited %d" % rc,
                               "values": 0, "concrete": 0})
            tagof = lambda p: os.path.basename(p)[len(base) + len(".expected-"):]
            for p in suri:
                checks += suricata_checks(p, evs, tagof(p))
            for p in zeek:
                checks += zeek_checks(p, evs, tagof(p))
            for p in ark:
                checks += arkime_checks(p, evs, tagof(p))
            relevant = [c for c in checks if c["id"] != "exit"]
            if not relevant and (rel, "*") not in diffs:
                continue  # the peer output asserts nothing about DNS here
            if relevant and not any(c["concrete"] for c in relevant):
                checks += manifest_checks(ent["tshark"], evs, "manifest-tshark")
            problems, notes, nvals = [], [], 0
            # whole-capture deliberate difference: no Do53 events at all
            if (rel, "*") in diffs:
                seen_diffs.add((rel, "*"))
                if evs:
                    problems.append("listed as not decoded as Do53 (*) but stubwatch logged %d DNS events: %s" % (
                        len(evs), sorted({(e['dns'].get('question') or {}).get('name') for e in evs}, key=str)[:5]))
                else:
                    notes.append("deliberate: %s" % diffs[(rel, "*")])
                    nvals += 1
                checks = []
            for c in checks:
                key = (rel, c["id"])
                if key in diffs:
                    seen_diffs.add(key)
                    if c["ok"]:
                        problems.append("%s: listed as a deliberate difference but now matches" % c["id"])
                    else:
                        notes.append("deliberate %s (%s)" % (c["id"], c["detail"][:120]))
                    continue
                nvals += c["values"] if c["ok"] else 0
                if not c["ok"]:
                    problems.append("%s: %s" % (c["desc"], c["detail"]))
            if not problems and nvals == 0:
                problems.append("no field value was compared")
            total_values += nvals
            if problems:
                failed += 1
                print("FAIL %s" % rel)
                for p in problems:
                    print("     %s" % p)
            else:
                passed += 1
                print("ok   %s (%d checks, %d values%s)" % (rel, len(checks), nvals,
                                                          "; " + "; ".join(notes) if notes else ""))
    for key in sorted(set(diffs) - seen_diffs):
        failed += 1
        print("FAIL %s %s: listed difference matches no check" % key)
    print("%d field values compared" % total_values)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
