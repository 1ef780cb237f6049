#!/usr/bin/env python3
"""Capture counters on /metrics from a live sensor, one and two interfaces.

In a network namespace the test creates and removes (its loopback and a
veth pair, nothing outside it), the sensor captures live with --http
and a stats event every second. The test reads /metrics and /api/v1/stats
from inside the namespace, each read after a DNS query over the captured
loopback, so its own queries are the packets counted. With one interface the capture series are the
totals, unlabelled; with two, each series carries iface (lo counts packets,
the silent veth none) and the unlabelled totals are gone, so sum() over
the series is the total; and the idle interface does not hold up the
busy one (blocking, a dispatch on it waited for a first packet that never
came, and lo's queries went unprocessed). Needs root (namespaces, live capture); without it
the test fails and says so. Prints "N passed, N failed" last.

    ifaces.py BUILD_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

B = sys.argv[1] if len(sys.argv) > 1 else "build"
SENSOR = os.path.abspath(os.path.join(B, "stubwatch"))
NS = "swm%d" % (os.getpid() % 100000)
PORT = 18097
# Run inside the namespace: a DNS query to 127.0.0.1 (what the capture
# filter keeps, so packet time moves on and stats events come), then GET.
FETCH = ("import socket, sys, urllib.request\n"
         "q = bytes.fromhex('123401000001000000000000076578616d706c6503636f6d0000010001')\n"
         "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, ('127.0.0.1', 53))\n"
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\n")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from result import bad, finish, ok  # noqa: E402


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)


def fetch(path):
    """The answer to GET path from inside the namespace, or None."""
    p = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", FETCH,
                        "http://127.0.0.1:%d%s" % (PORT, path)],
                       capture_output=True, text=True, timeout=20)
    return p.stdout if p.returncode == 0 else None


def capture_series(metrics):
    """{(metric, labels): value} of the two capture metrics."""
    out = {}
    for line in metrics.splitlines():
        m = re.match(r"^(stubwatch_capture_(?:received|dropped)_packets_total)(\{[^}]*\})? (\d+)$",
                     line)
        if m:
            out[(m.group(1), m.group(2) or "")] = int(m.group(3))
    return out


def run(ifaces, want_names):
    """Starts the sensor on ifaces; the capture series once a stats event
    lists want_names (None: once one has come). None after a failure."""
    err = tempfile.TemporaryFile(mode="w+")
    cmd = ["ip", "netns", "exec", NS, SENSOR, "-o", "/dev/null", "-v",
           "--http", "127.0.0.1:%d" % PORT, "-s", "stats.interval=1s",
           "--workers", "1"]  # per-interface counters: one engine only, so far
    for i in ifaces:
        cmd += ["-i", i]
    sw = subprocess.Popen(cmd, stderr=err)
    try:
        deadline = time.time() + 30
        stats = None
        while time.time() < deadline and sw.poll() is None:
            text = fetch("/api/v1/stats")
            try:
                cap = json.loads(text)["stubwatch"]["stats"]["capture"] if text else None
            except (ValueError, KeyError):
                cap = None
            names = [x.get("name") for x in cap.get("interfaces", [])] if cap else None
            if cap is not None and (want_names is None or names == want_names):
                stats = cap
                break
            time.sleep(0.3)
        if stats is None:
            err.seek(0)
            bad("stats event on " + "+".join(ifaces), "none with %r within 30 s: %s" %
                (want_names, err.read()[-800:]))
            return None
        metrics = fetch("/metrics")
        if metrics is None:
            bad("/metrics on " + "+".join(ifaces), "no answer")
            return None
        return stats, capture_series(metrics)
    finally:
        sw.terminate()
        try:
            sw.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sw.kill()
        err.close()


def main():
    if os.geteuid() != 0:
        bad("root", "live capture in a network namespace needs root")
        finish("ifaces")
    try:
        sh("ip", "netns", "add", NS)
    except subprocess.CalledProcessError as e:
        bad("network namespace", e.stderr.strip())
        finish("ifaces")
    try:
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        # No IPv6 on the pair: its neighbour discovery would make the
        # silent side talk.
        sh("ip", "netns", "exec", NS, "sh", "-c",
           "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
        sh("ip", "-n", NS, "link", "add", "swd0", "type", "veth", "peer", "name", "swd1")
        sh("ip", "-n", NS, "link", "set", "swd0", "up")
        sh("ip", "-n", NS, "link", "set", "swd1", "up")

        got = run(["lo"], None)
        if got is not None:
            stats, series = got
            want = {("stubwatch_capture_received_packets_total", ""),
                    ("stubwatch_capture_dropped_packets_total", '{where="kernel"}'),
                    ("stubwatch_capture_dropped_packets_total", '{where="interface"}')}
            if set(series) == want and "interfaces" not in stats:
                ok("one interface: the unlabelled totals (received %d)" %
                   series[("stubwatch_capture_received_packets_total", "")])
            else:
                bad("one interface", "series %r, stats %r" % (sorted(series), stats))

        got = run(["lo", "swd0"], ["lo", "swd0"])
        if got is not None:
            stats, series = got
            want = {(m, '{iface="%s"%s}' % (i, w)) for i in ("lo", "swd0") for m, w in
                    (("stubwatch_capture_received_packets_total", ""),
                     ("stubwatch_capture_dropped_packets_total", ',where="kernel"'),
                     ("stubwatch_capture_dropped_packets_total", ',where="interface"'))}
            if set(series) == want:
                ok("two interfaces: each capture series labelled iface, no unlabelled total")
            else:
                bad("two interfaces", "series %r" % sorted(series))
            lo = series.get(("stubwatch_capture_received_packets_total", '{iface="lo"}'), 0)
            dummy = series.get(("stubwatch_capture_received_packets_total", '{iface="swd0"}'))
            if lo > 0 and dummy == 0:
                ok("lo received %d packets (the test's queries), the silent veth 0" % lo)
            else:
                bad("received by interface", "lo %r, swd0 %r" % (lo, dummy))
            per = {x["name"]: x for x in stats["interfaces"]}
            if stats["received"] >= per["lo"]["received"] + per["swd0"]["received"] and \
                    stats["dropped"] == per["lo"]["dropped"] + per["swd0"]["dropped"]:
                ok("the stats event's totals are the sum of its interfaces")
            else:
                bad("totals", repr(stats))
    except subprocess.CalledProcessError as e:
        bad("set-up", "%s: %s" % (" ".join(e.cmd), e.stderr.strip()))
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    finish("ifaces")


main()
