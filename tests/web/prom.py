#!/usr/bin/env python3
"""A real Prometheus scrapes a replaying sensor; every query of the shipped
Grafana dashboards must return data.

The sensor replays the demo capture from standard input: the first half is
written, Prometheus must see packets counted, then the rest (and a capture of
malformed packets, so the anomaly panel has series) follows, and Prometheus
must see the final count the sensor's own stats event reports. /metrics is
also checked with promtool. A Prometheus or sensor that cannot start is a
failure. Prints "N passed, N failed" last.

    prom.py BUILD_DIR
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
B = sys.argv[1] if len(sys.argv) > 1 else "build"
PASS = FAIL = 0


def ok(name):
    global PASS
    PASS += 1
    print("ok   " + name, flush=True)


def bad(name, why):
    global FAIL
    FAIL += 1
    print("FAIL %s: %s" % (name, why), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_for(what, fn, timeout):
    """fn() until it returns a true value, or None after timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.2)
    return None


def query(pport, expr):
    u = "http://127.0.0.1:%d/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": expr}))
    return json.loads(get(u))


def finish(procs, tmp):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)


def main():
    tmp = tempfile.mkdtemp(prefix="stubwatch-prom-")
    procs = []
    demo, hostile = os.path.join(tmp, "demo.pcap"), os.path.join(tmp, "hostile.pcap")
    subprocess.run([os.path.join(B, "swgen"), "--demo", "-o", demo], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/pcap/craft.py"), "hostile", hostile],
                   check=True)
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            bad(tool, "not installed (Debian: prometheus)")
            finish(procs, tmp)

    sport, pport = free_port(), free_port()
    events = os.path.join(tmp, "events.json")
    err = open(os.path.join(tmp, "sensor.err"), "w+")
    sensor = subprocess.Popen([os.path.join(B, "stubwatch"), "-r", "-", "-r", hostile, "-o", events,
                               "--http", "127.0.0.1:%d" % sport, "-v"],
                              stdin=subprocess.PIPE, stderr=err)
    procs.append(sensor)
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: stubwatch\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % sport)
    plog = open(os.path.join(tmp, "prometheus.log"), "w+")
    prom = subprocess.Popen(["prometheus", "--config.file", os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path", os.path.join(tmp, "tsdb"),
                             "--web.listen-address", "127.0.0.1:%d" % pport],
                            stdout=plog, stderr=plog)
    procs.append(prom)
    if not wait_for("prometheus", lambda: get("http://127.0.0.1:%d/-/ready" % pport), 60):
        plog.seek(0)
        bad("prometheus starts", plog.read()[-2000:])
        finish(procs, tmp)
    ok("prometheus starts")

    data = open(demo, "rb").read()
    half = len(data) // 2
    sensor.stdin.write(data[:half])
    sensor.stdin.flush()

    def packets():
        r = query(pport, 'stubwatch_packets_total{job="stubwatch"}')["data"]["result"]
        return float(r[0]["value"][1]) if r and float(r[0]["value"][1]) > 0 else None
    first = wait_for("first scrape", packets, 30)
    if first is None:
        err.seek(0)
        bad("scraped during the replay", "no stubwatch_packets_total > 0: " + err.read()[-1000:])
        finish(procs, tmp)
    ok("scraped during the replay: %d packets after half the capture" % first)
    sensor.stdin.write(data[half:])
    sensor.stdin.close()

    def done():
        err.seek(0)
        return "replay done" in err.read()
    if not wait_for("replay", done, 60):
        bad("replay ends", "no 'replay done' from the sensor")
        finish(procs, tmp)
    final = None
    for line in open(events):
        e = json.loads(line)
        if e["event"]["dataset"] == "stubwatch.stats":
            final = e["stubwatch"]["stats"]["packets"]
    got = wait_for("final scrape", lambda: packets() == final and packets(), 30)
    if got is not None and first < final:
        ok("Prometheus sees the final count of the stats event (%d)" % final)
    else:
        bad("final count", "Prometheus %s, stats event %s, first %s" % (packets(), final, first))
    # A few scrapes after the end, so every rate window has samples.
    time.sleep(3)

    body = get("http://127.0.0.1:%d/metrics" % sport)
    pc = subprocess.run(["promtool", "check", "metrics"], input=body.encode(),
                        capture_output=True)
    if pc.returncode == 0:
        ok("promtool check metrics")
    else:
        bad("promtool check metrics", (pc.stdout + pc.stderr).decode()[-1500:])

    subst = {"$job": ".+", "$__rate_interval": "30s", "$__range": "5m", "$__interval": "5s"}
    for path in sorted(glob.glob(os.path.join(ROOT, "dashboards/grafana/*.json"))):
        d = json.load(open(path))
        name = os.path.basename(path)
        names = [v["name"] for v in d["templating"]["list"]]
        if "datasource" not in names:
            bad(name, "no datasource variable")
        jobs = json.loads(get("http://127.0.0.1:%d/api/v1/label/job/values?%s" % (
            pport, urllib.parse.urlencode({"match[]": "stubwatch_build_info"}))))["data"]
        if jobs != ["stubwatch"]:
            bad(name + " job variable", "label_values gave %s" % jobs)
        for p in d["panels"]:
            for t in p["targets"]:
                expr = t["expr"]
                for k in sorted(subst, key=len, reverse=True):
                    expr = expr.replace(k, subst[k])
                r = query(pport, expr)
                res = r.get("data", {}).get("result", [])
                if r.get("status") == "success" and len(res) > 0:
                    ok("%s: %s" % (name, p["title"]))
                else:
                    bad("%s: %s" % (name, p["title"]), "%s returned %s" % (expr, json.dumps(r)[:300]))
    finish(procs, tmp)


main()
