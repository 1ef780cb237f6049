#!/usr/bin/env python3
"""Command-line and bad-input behaviour: clear messages, right exit codes,
nothing lost, never a crash.

Each case runs build/stubwatch and checks its exit code, a phrase in its
standard error, and (where it reads a capture) the events it still wrote.
Prints 'N passed, N failed'.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("B", "build")
SENSOR = os.path.join(B, "stubwatch")
sys.path.insert(0, HERE)
import craft  # noqa: E402


def run(args, stdin=None, env=None):
    p = subprocess.run([SENSOR] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def events_of(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def exit_stats(evs):
    st = [e for e in evs if e["event"]["dataset"] == "stubwatch.stats"]
    return st[-1]["stubwatch"]["stats"] if st else None


def pcapng(linktype, frames):
    """A pcapng file with an unknown block type between the packets."""
    def block(btype, body):
        pad = (4 - len(body) % 4) % 4
        body += b"\x00" * pad
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 65535))
    for i, (ts, fr) in enumerate(frames):
        if i == 1:
            out += block(0x0BADBEEF, b"unknown block the reader must skip")
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, len(fr), len(fr)) + fr
        out += block(6, body)
    return out


def custom_rule(rid, match, **extra):
    r = {"id": rid, "message": "rule " + rid, "severity": "low", "match": match,
         "rate_limit_s": 0}
    r.update(extra)
    return r


def write_custom(rules_dir, rules):
    tmp = os.path.join(rules_dir, "custom.json.new")
    with open(tmp, "w") as f:
        json.dump({"version": 1, "rules": rules}, f, indent=1)
    os.replace(tmp, os.path.join(rules_dir, "custom.json"))


def custom_cases(tmp, case):
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules)
    root = os.path.dirname(os.path.dirname(HERE))
    for f in ("detections.json", "resolvers.json"):
        with open(os.path.join(root, "rules", f), "rb") as src, \
                open(os.path.join(rules, f), "wb") as dst:
            dst.write(src.read())
    rc, out, err = run(["--check-config", "--rules", rules])
    case("no custom.json", rc == 0 and "OK" in out, out + err)
    with open(os.path.join(rules, "custom.json"), "w") as f:
        f.write('{"version": 1, "rules": [\n  {"id": "local.a", "message": "m",\n'
                '   "severity": "low", "match": {"qname_sufix": "example.com"}}]}\n')
    rc, out, err = run(["--check-config", "--rules", rules])
    case("custom.json unknown key", rc == 2 and "custom.json:3:33:" in err
         and '"qname_sufix"' in err, err)
    rc, out, err = run(["-r", os.path.join(tmp, "basic.pcap"), "--rules", rules, "-o", "-"])
    case("custom.json refused at start", rc == 2 and "custom.json:3:33:" in err, err)

    # A replay from a pipe: the first queries under rule "before", then the
    # file swapped and SIGHUP, filler frames until the sensor says it
    # reloaded, then the rest under rule "after". A broken file at a second
    # SIGHUP keeps "after".
    write_custom(rules, [custom_rule("local.before", {"qname_suffix": "example.com"})])
    linktype, pk = craft.craft_basic()
    first, rest = pk[:4], pk[4:]
    t_last = first[-1][0]
    filler = craft.eth(b"\x02\x00\x00\x00\x00\x99", b"\xff" * 6, 0x88b5, b"\x00" * 46)
    hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)

    def frame(ts, fr):
        return struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr), len(fr)) + fr

    p = subprocess.Popen([SENSOR, "-v", "-r", "-", "--rules", rules, "-o", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.set_blocking(p.stderr.fileno(), False)
    errs = b""

    def until(phrase):
        nonlocal errs
        for i in range(2000):
            try:
                p.stdin.write(b"".join(frame(t_last + 1 + i, filler) for _ in range(64)))
                p.stdin.flush()
            except BrokenPipeError:
                time.sleep(0.5)
                errs += p.stderr.read() or b""
                return False
            chunk = p.stderr.read()
            if chunk:
                errs += chunk
            if phrase in errs:
                return True
            time.sleep(0.005)
        return False

    p.stdin.write(hdr + b"".join(frame(ts, fr) for ts, fr in first))
    p.stdin.flush()
    # A file changed before the sensor loaded the rules would be read at
    # the start: wait for its "outputs:" line, which comes after the load
    # (its signal handlers are in place from its first moment).
    for _ in range(2000):
        errs += p.stderr.read() or b""
        if b"outputs:" in errs:
            break
        time.sleep(0.005)
    write_custom(rules, [custom_rule("local.after", {"qname_suffix": "example.com"})])
    p.send_signal(signal.SIGHUP)
    reloaded = until(b"rules reloaded")
    with open(os.path.join(rules, "custom.json"), "w") as f:
        f.write('{"version": 1, "rules": [}')
    p.send_signal(signal.SIGHUP)
    kept = until(b"rules not reloaded")
    try:
        p.stdin.write(b"".join(frame(ts, fr) for ts, fr in rest))
        p.stdin.close()
    except BrokenPipeError:
        pass
    out = p.stdout.read().decode()
    p.wait(timeout=60)
    p.stderr.close()
    p.stdout.close()
    evs = events_of(out)
    ids = [e["rule"]["id"] for e in evs if e["event"]["dataset"] == "stubwatch.alert"
           and e["rule"]["id"].startswith("local.")]
    # basic: time, api (first 4 packets: two queries and their answers);
    # then nx, www, lost and late.
    case("SIGHUP reloads custom.json", reloaded and kept and p.returncode == 0
         and ids == ["local.before"] * 2 + ["local.after"] * 4
         and b"custom.json:1:26:" in errs, "ids=%s err=%s" % (ids, errs.decode()[-600:]))


def main():
    tmp = tempfile.mkdtemp(prefix="sw-cli-")
    basic = os.path.join(tmp, "basic.pcap")
    craft.craft("basic", basic)
    with open(basic, "rb") as f:
        basic_bytes = f.read()
    results = []

    def case(name, ok, detail=""):
        results.append((name, ok, detail))

    # Standard input as a capture: the same events as the file.
    rc, out, err = run(["-r", "-", "-o", "-"], stdin=basic_bytes)
    st = exit_stats(events_of(out))
    case("stdin replay", rc == 0 and st is not None and st["dns"]["queries"]["udp"] == 6, err)

    # A file cut in the middle of a packet: a clear message, exit 1, and the
    # events of the packets before the cut are kept.
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(basic_bytes[:len(basic_bytes) - 30])
    rc, out, err = run(["-r", cut, "-o", "-"])
    st = exit_stats(events_of(out))
    case("truncated file", rc == 1 and "truncated" in err and st is not None and st["packets"] == 11,
         "rc=%d err=%s" % (rc, err))

    # Not a capture at all.
    junk = os.path.join(tmp, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"this is not a capture file\n" * 10)
    rc, out, err = run(["-r", junk, "-o", "-"])
    case("not a capture", rc == 1 and "junk.pcap" in err, "rc=%d err=%s" % (rc, err))

    # pcapng with an unknown block type: skipped, every packet read.
    _, pk = craft.craft_basic()
    ng = os.path.join(tmp, "basic.pcapng")
    with open(ng, "wb") as f:
        f.write(pcapng(1, pk))
    rc, out, err = run(["-r", ng, "-o", "-"])
    st = exit_stats(events_of(out))
    case("pcapng unknown block", rc == 0 and st is not None and st["packets"] == len(pk)
         and st["dns"]["queries"]["udp"] == 6, "rc=%d err=%s" % (rc, err))

    # A link type the decoder does not know: counted, not fatal.
    odd = os.path.join(tmp, "odd.pcap")
    craft.write_pcap(odd, 147, pk)  # LINKTYPE_USER0
    rc, out, err = run(["-r", odd, "-o", "-"])
    st = exit_stats(events_of(out))
    case("unknown link type", rc == 0 and st is not None
         and st["decode"]["anomalies"].get("link_unknown") == len(pk), "rc=%d %s" % (rc, st and st["decode"]))

    # Missing file, missing interface, nothing to read.
    rc, out, err = run(["-r", os.path.join(tmp, "nope.pcap")])
    case("missing file", rc == 1 and "nope.pcap" in err, err)
    rc, out, err = run(["-i", "sw-no-such-if0"])
    case("missing interface", rc == 1 and "sw-no-such-if0" in err, err)
    rc, out, err = run([])
    case("nothing to read", rc == 2 and "-r FILE" in err, err)

    # Configuration errors name the file, the line and the key.
    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("# comment\ndevices.max = 1024\nqueries.timeout = soon\n")
    rc, out, err = run(["--check-config", "-c", conf])
    case("bad config value", rc == 2 and "bad.conf:3" in err and "queries.timeout" in err, err)
    with open(conf, "w") as f:
        f.write("devices.maximum = 5\n")
    rc, out, err = run(["--check-config", "-c", conf])
    case("unknown config key", rc == 2 and "bad.conf:1" in err and "devices.maximum" in err, err)
    with open(conf, "w") as f:
        f.write("devices.max = 4096\nlog.dns = yes\n")
    rc, out, err = run(["--check-config", "-c", conf])
    case("good config", rc == 0 and "OK" in out, out + err)
    rc, out, err = run(["-r", basic, "-s", "devices.max=1024", "-s", "nonsense", "-o", "-"])
    case("bad --set", rc == 2 and "nonsense" in err, err)

    # Operator rules: --check-config reads custom.json and names the fault;
    # SIGHUP during a replay swaps the rules between packets.
    custom_cases(tmp, case)

    # Unknown output kinds and options.
    rc, out, err = run(["-r", basic, "-o", "file:"])
    case("empty output path", rc != 0 and "empty" in err, err)
    rc, out, err = run(["--bogus"])
    case("unknown option", rc == 2, err)
    rc, out, err = run(["--version"])
    case("version", rc == 0 and out.startswith("stubwatch "), out)
    rc, out, err = run(["--help"])
    case("help lists every option", rc == 0 and all(o in out for o in (
        "-r,", "-i,", "-f,", "-o,", "-c,", "--rules", "--log-dns", "--check-config", "-q,", "-v,",
        "--version", "--help", "--summary")), out)

    # Tiny tables on the demo network (20 devices, a storming speaker):
    # evictions are counted, every evicted device still gets its final word
    # (an "evicted" event), nothing crashes.
    demo = os.path.join(tmp, "demo.pcap")
    subprocess.run([os.path.join(B, "swgen"), "--demo", "-o", demo], check=True)
    rc, out, err = run(["-r", demo, "-s", "devices.max=16", "-s", "queries.max=16", "-o", "-"])
    evs = events_of(out)
    st = exit_stats(evs)
    evicted = [e for e in evs if e["event"]["dataset"] == "stubwatch.device"
               and e["event"].get("reason") == "evicted"]
    case("tiny tables", rc == 0 and st is not None
         and st["tables"]["devices"]["evictions"] > 0
         and len(evicted) == st["tables"]["devices"]["evictions"]
         and st["tables"]["queries"]["evicted_outstanding"] > 0
         and st["tables"]["devices"]["count"] == 16,
         "rc=%d %s %s" % (rc, err, st and st["tables"]))

    # A DHCP allowlist entry that is neither an address nor a MAC.
    rc, out, err = run(["-r", basic, "-o", "-", "-s", "dhcp.allowed_servers=192.168.1.1,router"])
    case("bad DHCP allowlist", rc != 0 and "router" in err and "dhcp.allowed_servers" in err, err)

    rc, out, err = run(["--check-config", "-s", "dhcp.allowed_servers=router"])
    case("bad DHCP allowlist, checked", rc == 2 and "router" in err, err)

    # detect.modules: an unknown family is an error naming the known ones,
    # also under --check-config; the families left out leave no trace.
    rc, out, err = run(["-r", basic, "-o", "-", "-s", "detect.modules=behaviour,dnssec"])
    case("unknown detection family", rc != 0 and "'dnssec'" in err and "integrity" in err, err)
    rc, out, err = run(["--check-config", "-s", "detect.modules=dnssec"])
    case("unknown detection family, checked", rc == 2 and "'dnssec'" in err, err)
    rc, out, err = run(["-r", demo, "-o", "-", "-s", "detect.modules=behaviour"])
    st = exit_stats(events_of(out))
    case("one detection family", rc == 0 and st is not None and "behaviour" in st
         and "integrity" not in st and "encrypted_dns" not in st, err)
    rc, out, err = run(["-r", demo, "-o", "-", "-s", "detect.modules="])
    evs = events_of(out)
    st = exit_stats(evs)
    rules = {e["rule"]["id"] for e in evs if e["event"]["kind"] == "alert"}
    case("no detection family", rc == 0 and st is not None and "behaviour" not in st
         and rules and all(r.split(".")[0] in ("resolver", "stub", "edns", "transport",
                                                 "ipv6", "dnssec", "dhcp") for r in rules),
         "%s %s" % (err, sorted(rules)))

    # A GeoIP database that cannot be opened: one notice, the run goes on.
    rc, out, err = run(["-r", basic, "-o", "-", "-s", "enrich.geoip_city=/nonexistent/city.mmdb"])
    case("missing GeoIP database", rc == 0 and "/nonexistent/city.mmdb" in err
         and err.count("city.mmdb") == 1 and exit_stats(events_of(out)) is not None, err)

    # The readable table when asked, on stderr when JSON goes to stdout.
    rc, out, err = run(["-r", basic, "--summary", "-o", "-"])
    case("summary on stderr", rc == 0 and "24:0a:c4:00:00:01" in err and "RESOLVERS" in err
         and events_of(out), err)

    # A filter past 255 bytes is used whole: the DNS clause at its end
    # counts (cut at 255 bytes it would be gone, or the filter broken).
    pad = " or ".join("udp port %d" % (9000 + i) for i in range(30))
    longf = pad + " or udp port 53"
    rc, out, err = run(["-r", basic, "-f", longf, "-o", "-"])
    st = exit_stats(events_of(out))
    case("filter longer than 255 bytes", len(longf) > 400 and rc == 0 and st is not None
         and st["dns"]["queries"]["udp"] == 6, "rc=%d %s" % (rc, err))
    # One longer than any filter may be: an error naming the key, no run.
    hugef = " or ".join("udp port %d" % (1000 + i) for i in range(400))
    rc, out, err = run(["-r", basic, "-f", hugef, "-o", "-"])
    case("filter too long", rc == 2 and "capture.filter" in err and "longer than" in err
         and not events_of(out), "rc=%d %s" % (rc, err))
    conf = os.path.join(tmp, "longfilter.conf")
    with open(conf, "w") as f:
        f.write("capture.filter = %s\n" % longf)
    rc, out, err = run(["--check-config", "-c", conf])
    case("filter past 255 bytes in a config", rc == 0, "rc=%d %s" % (rc, err))

    # The live filter applied to a file (-f live): QinQ-tagged DNS passes,
    # as untagged and single-tagged DNS does.
    qinq = os.path.join(tmp, "qinq.pcap")
    craft.craft("vlan_raw", qinq)
    rc, out, err = run(["-r", qinq, "-f", "live", "-o", "-"])
    evs = events_of(out)
    st = exit_stats(evs)
    answered = sum(e["stubwatch"]["dns"]["answered"] for e in evs
                   if e["event"]["dataset"] == "stubwatch.device" and e["event"].get("reason") == "exit")
    case("live filter keeps QinQ", rc == 0 and st is not None and st["packets"] == 4
         and answered == 2, "rc=%d answered=%s %s" % (rc, answered, err))

    # On a mirror-port mix (bulk HTTPS and QUIC beside the DNS) the live
    # filter drops most packets and changes no alert and no DNS count.
    mix = os.path.join(tmp, "mix.pcap")
    subprocess.run([os.path.join(B, "swgen"), "--devices", "30", "--duration", "300",
                    "--web", "6", "-o", mix], check=True)
    rc0, out0, err0 = run(["-r", mix, "-o", "-"])
    rc1, out1, err1 = run(["-r", mix, "-f", "live", "-o", "-"])
    ev0, ev1 = events_of(out0), events_of(out1)
    st0, st1 = exit_stats(ev0), exit_stats(ev1)

    def alerts(evs):
        return sorted((e["rule"]["id"], e["device"]["id"] if "device" in e else "")
                      for e in evs if e["event"]["dataset"] == "stubwatch.alert")
    ok = (rc0 == 0 and rc1 == 0 and st0 is not None and st1 is not None
          and st1["packets"] < st0["packets"] * 0.6 and st0["dns"] == st1["dns"]
          and alerts(ev0) == alerts(ev1)
          and st0["encrypted_dns"]["flows"] == st1["encrypted_dns"]["flows"]
          and st0["encrypted_dns"]["parser"]["hellos"] == st1["encrypted_dns"]["parser"]["hellos"])
    case("live filter on a mirror-port mix", ok, "%s %s packets %s/%s" % (
        err0, err1, st1 and st1["packets"], st0 and st0["packets"]))

    # SIGTERM while the sensor is still starting: a clean stop (exit 0,
    # the exit stats written), never death by the signal. The start is held
    # where the tables are built: the OUI registry is a FIFO nobody writes
    # to until the signal has gone.
    ouid = os.path.join(tmp, "oui-fifo")
    os.mkdir(ouid)
    os.mkfifo(os.path.join(ouid, "oui.csv"))
    out = os.path.join(tmp, "early.json")
    p = subprocess.Popen([SENSOR, "-r", basic, "-s", "enrich.oui_dir=" + ouid, "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    held = ""
    for _ in range(200):
        try:
            with open("/proc/%d/wchan" % p.pid) as f:
                held = f.read()
        except OSError:
            break
        if "partner" in held or "fifo" in held or "pipe" in held:
            break
        time.sleep(0.05)
    p.send_signal(15)
    time.sleep(0.2)
    try:
        os.close(os.open(os.path.join(ouid, "oui.csv"), os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # nobody reads it any more
    err = p.communicate(timeout=60)[1].decode(errors="replace")
    evs = events_of(open(out).read()) if os.path.exists(out) else []
    case("SIGTERM during start-up: a clean stop", p.returncode == 0 and exit_stats(evs) is not None,
         "exit %s (held in %r) %s" % (p.returncode, held, err))

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    for name, ok, detail in results:
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail.strip()[-600:]))
    print("cli cases: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
