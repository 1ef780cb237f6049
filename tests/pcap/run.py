#!/usr/bin/env python3
"""pcap regression cases: tests/pcap/<case>/case.json.

A case names its input — "craft": a capture built by tests/pcap/craft.py, or
"gen": arguments for the project's generator (build/swgen) — commands to run
first ("setup"; "{tmp}" there and in "args" is a folder of the case's own),
the sensor's extra arguments ("args"), and what the events must hold
("expect"):

  {"select": {"event.dataset": "stubwatch.device", "event.reason": "exit"},
   "count": 1,
   "fields": {"stubwatch.dns.queries": 5, "host.ip": {"$len": 1}}}

"select" picks events whose dotted paths equal the values; "count" is how
many must be picked (default: at least one); "fields" must hold in every
picked event. A value may be {"$len": n}, {"$gt": n}, {"$ge": n}, {"$lt": n},
{"$contains": x} or {"$absent": true}. Gen cases with "truth": true also
compare every device's counts with the generator's ground truth. Every case
is run twice and the outputs must be byte-identical (replays are
deterministic). Every case is then run twice more with three workers
(--workers 3): those two outputs must be byte-identical too, and hold the
same events as the one-worker run but for the order and what sharded_same()
leaves out; "workers_differ" in a case names what sharding changes there,
with the reason, and skips the comparison.
Prints 'N passed, N failed'.
"""
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
B = os.environ.get("B", "build")
sys.path.insert(0, HERE)
import craft  # noqa: E402

# Crafted captures may live in any tests/pcap/craft*.py: a case's "craft"
# names a function craft_<name> in one of them.
CRAFTERS = [craft]
for _path in sorted(glob.glob(os.path.join(HERE, "craft_*.py"))):
    CRAFTERS.append(__import__(os.path.basename(_path)[:-3]))


def craft_case(name, path):
    fn = "craft_" + name.replace("-", "_")
    for mod in CRAFTERS:
        if hasattr(mod, fn):
            linktype, packets = getattr(mod, fn)()
            craft.write_pcap(path, linktype, packets)
            return
    raise SystemExit("no crafted case named %s in tests/pcap/craft*.py" % name)

MISSING = object()


def get(ev, path):
    cur = ev
    for part in path.split("."):
        if isinstance(cur, dict):
            if part in cur:
                cur = cur[part]
                continue
            # ECS keys such as "@timestamp" or dotted names stored flat.
            return MISSING
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
            continue
        return MISSING
    return cur


def holds(value, want):
    if isinstance(want, dict) and len(want) == 1 and next(iter(want)).startswith("$"):
        op, arg = next(iter(want.items()))
        if op == "$absent":
            return (value is MISSING) == bool(arg)
        if value is MISSING:
            return False
        if op == "$len":
            return hasattr(value, "__len__") and len(value) == arg
        if op == "$gt":
            return value > arg
        if op == "$ge":
            return value >= arg
        if op == "$lt":
            return value < arg
        if op == "$contains":
            return arg in value
        raise SystemExit("unknown operator %s" % op)
    return value == want


def check_expect(events, exp):
    sel = exp.get("select", {})
    picked = [e for e in events if all(holds(get(e, k), v) for k, v in sel.items())]
    errs = []
    if "count" in exp:
        if len(picked) != exp["count"]:
            errs.append("select %s: %d events, expected %d" % (json.dumps(sel), len(picked), exp["count"]))
    elif not picked:
        errs.append("select %s: no event" % json.dumps(sel))
    for e in picked:
        for k, v in exp.get("fields", {}).items():
            got = get(e, k)
            if not holds(got, v):
                errs.append("select %s: %s = %s, expected %s" % (
                    json.dumps(sel), k, "(absent)" if got is MISSING else json.dumps(got), json.dumps(v)))
    return errs


def check_truth(events, truth):
    """Every device of the generator's truth must show the same counts, and
    the exit stats the same global counts (contrib/swgen says what it counts)."""
    errs = []
    exits = {}
    stats = None
    for e in events:
        if get(e, "event.dataset") == "stubwatch.device" and get(e, "event.reason") == "exit":
            exits[(get(e, "stubwatch.device.key"), get(e, "stubwatch.device.vlan"))] = e
        if get(e, "event.dataset") == "stubwatch.stats" and get(e, "event.reason") == "exit":
            stats = e
    for dev in truth["devices"]:
        d = dev["dns"]
        want = {
            "stubwatch.dns.queries": d["udp_queries"] + d["tcp_queries"],
            "stubwatch.dns.transport.udp": d["udp_queries"],
            "stubwatch.dns.transport.tcp": d["tcp_queries"],
            "stubwatch.dns.responses": d["udp_responses"] + d["tcp_responses"],
            "stubwatch.dns.truncated_responses": d["tc_responses"],
            "stubwatch.dns.edns.queries": d["queries_with_opt"],
            "stubwatch.dns.dnssec_ok.queries": d["queries_with_do"],
            "stubwatch.dns.aaaa.queries": d["aaaa_queries"],
            "stubwatch.dns.ipv6_transport.queries": d["queries_over_ipv6"],
            "stubwatch.dns.mdns.messages": dev["mdns_messages"],
            "stubwatch.dns.llmnr.messages": dev["llmnr_messages"],
        }
        if sum(want.values()) == 0:
            continue
        key = (dev["mac"], dev.get("vlan", 0))
        e = exits.get(key)
        if e is None:
            errs.append("truth: device %s vlan %s has no exit event" % key)
            continue
        for path, v in want.items():
            got = get(e, path)
            if got != v:
                errs.append("truth: %s vlan %s %s = %s, generator says %s" % (key[0], key[1], path, got, v))
        got_res = {r["ip"]: r["queries"] for r in get(e, "stubwatch.resolvers")}
        if got_res != d["queries_by_resolver"]:
            errs.append("truth: %s resolvers %s, generator says %s" % (key[0], got_res, d["queries_by_resolver"]))
    g = truth["global"]
    if stats is None:
        errs.append("truth: no exit stats event")
        return errs
    want = {
        "stubwatch.stats.packets": truth["packets"],
        "stubwatch.stats.dns.queries.udp": g["dns_udp_queries"],
        "stubwatch.stats.dns.responses.udp": g["dns_udp_responses"],
        "stubwatch.stats.dns.queries.tcp": g["dns_tcp_queries"],
        "stubwatch.stats.dns.responses.tcp": g["dns_tcp_responses"],
        "stubwatch.stats.decode.fragments_reassembled": g["fragmented_datagrams"],
        "stubwatch.stats.decode.ra": g["router_advertisements"],
    }
    for path, v in want.items():
        got = get(stats, path)
        if got != v:
            errs.append("truth: %s = %s, generator says %s" % (path, got, v))
    return errs


def run_sensor(pcap, args, out):
    if os.path.exists(out):
        os.unlink(out)
    cmd = [os.path.join(B, "stubwatch"), "-q", "-r", pcap, "-o", "file:" + out] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    with open(out, "rb") as f:
        data = f.read()
    return p, data


def sharded_same(data):
    """The events sharding must not change, sorted. Left out: stats events
    (they add each worker's counters), and periodic and change device
    events, whose time follows the sweep of the engine's own device table
    (a slice of it per second of packet time, sized by how many devices the
    table holds), so a worker with a third of the devices sends them at
    other moments; every device's first_seen, evicted and exit events, all
    alerts and transaction events stay."""
    lines = []
    for line in data.decode().splitlines():
        ev = json.loads(line).get("event", {})
        if ev.get("dataset") == "stubwatch.stats":
            continue
        if ev.get("dataset") == "stubwatch.device" and ev.get("reason") in ("periodic", "change"):
            continue
        lines.append(line)
    return sorted(lines)


def check_workers(pcap, args, out, reference, case):
    """Three workers: deterministic, and the same events as one."""
    errs = []
    wargs = args + ["--workers", "3"]
    p1, d1 = run_sensor(pcap, wargs, out + ".w3")
    p2, d2 = run_sensor(pcap, wargs, out + ".w3")
    if p1.returncode != case.get("exit", 0):
        errs.append("--workers 3: exit %d: %s" % (p1.returncode, p1.stderr.decode(errors="replace")[-1500:]))
    if d1 != d2:
        errs.append("--workers 3: two replays gave different output")
    if "workers_differ" in case:
        return errs
    want, got = sharded_same(reference), sharded_same(d1)
    if want != got:
        missing = [x for x in want if x not in got]
        extra = [x for x in got if x not in want]
        # A posture finding is judged when its device's event goes out (a
        # change or periodic one, on the sweep's pace): the same alert of
        # the same device, at another moment with the evidence of then.
        def alert_key(line):
            e = json.loads(line)
            if get(e, "event.dataset") != "stubwatch.alert":
                return None
            return (get(e, "rule.id"), get(e, "source.mac"), get(e, "event.reason"))
        left = [alert_key(x) for x in extra]
        unmatched = []
        for x in missing:
            k = alert_key(x)
            if k is not None and k in left:
                left.remove(k)
            else:
                unmatched.append(x)
        if not unmatched and all(k is not None for k in left) and not left:
            return errs
        missing = unmatched
        errs.append("--workers 3: %d events missing, %d extra (of %d)" % (len(missing), len(extra), len(want)))
        for x in (missing[:3] + extra[:3]):
            errs.append("  %s %s" % ("-" if x in missing else "+", x[:300]))
    return errs


def main():
    outdir = os.path.join(B, "pcap-cases")
    os.makedirs(outdir, exist_ok=True)
    only = sys.argv[1:]
    passed = failed = 0
    for path in sorted(glob.glob(os.path.join(HERE, "*", "case.json"))):
        name = os.path.basename(os.path.dirname(path))
        if only and name not in only:
            continue
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        pcap = os.path.join(outdir, name + ".pcap")
        truth = None
        if "craft" in case:
            craft_case(case["craft"], pcap)
        else:
            tpath = os.path.join(outdir, name + ".truth.json")
            subprocess.run([os.path.join(B, "swgen"), "-o", pcap, "--truth", tpath] + case["gen"],
                           check=True)
            with open(tpath, encoding="utf-8") as f:
                truth = json.load(f)
        # "setup": commands run first (e.g. building GeoIP databases); "{tmp}"
        # in them and in "args" is a fresh folder of the case's own.
        tmp = os.path.join(outdir, name + ".tmp")
        os.makedirs(tmp, exist_ok=True)
        for cmd in case.get("setup", []):
            subprocess.run([a.replace("{tmp}", tmp) for a in cmd], check=True)
        args = [a.replace("{tmp}", tmp) for a in case.get("args", [])]
        out = os.path.join(outdir, name + ".json")
        # Both replays write to the same path: the sink's name is in the stats.
        p1, d1 = run_sensor(pcap, args, out)
        p2, d2 = run_sensor(pcap, args, out)
        errs = []
        if p1.returncode != case.get("exit", 0):
            errs.append("exit %d: %s" % (p1.returncode, p1.stderr.decode(errors="replace")[-1500:]))
        if d1 != d2:
            errs.append("two replays gave different output")
        events = [json.loads(line) for line in d1.decode().splitlines()]
        for exp in case.get("expect", []):
            errs += check_expect(events, exp)
        if case.get("truth") and truth is not None:
            errs += check_truth(events, truth)
        errs += check_workers(pcap, args, out, d1, case)
        if errs:
            failed += 1
            print("FAIL %s" % name)
            for e in errs[:20]:
                print("     " + e)
        else:
            passed += 1
            print("ok   %s (%d events)" % (name, len(events)))
    print("pcap cases: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
