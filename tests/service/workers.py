#!/usr/bin/env python3
"""workers.py — live capture with two workers, in network namespaces.

Two namespaces the test creates and removes, joined by a veth pair
(10.78.0.1 and 10.78.0.2, addresses that exist only inside them). From the
device side, raw Ethernet frames of eight devices (eight MACs, their DNS
queries to a resolver and its answers) go into one end at a modest rate;
the sensor captures on the other with --workers 2. Checks:
  - every device has exactly one first_seen and one exit event, and its exit
    event counts every query and answer it sent (nothing lost);
  - the stats event shows two workers, and each holds the devices the
    sharding hash gives it (every device's events come from one worker);
  - SIGTERM drains both: the exit events and stats arrive, exit status 0.
Needs root (namespaces, raw sockets); without it the test fails and says so.
Prints 'N passed, N failed'.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pcap"))
from report import case, finish  # noqa: E402
import craft  # noqa: E402

B = os.environ.get("B", "build")
SENSOR = os.path.abspath(os.path.join(B, "stubwatch"))
TAG = "sww%d" % (os.getpid() % 100000)
NS_S, NS_D = TAG + "s", TAG + "d"
DEVICES = [bytes([0x24, 0x0a, 0xc4, 0x10, 0x00, i]) for i in range(1, 9)]
# A device whose queries say the sensor is up: its first event is out.
PROBE = bytes([0x24, 0x0a, 0xc4, 0x10, 0x00, 0xff])
SEND = ("import socket,sys,time\n"
        "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
        "s.bind(('veth1',0))\n"
        "for f in sys.stdin.buffer.read().split(b'--SEP--'):\n"
        "    s.send(f); time.sleep(0.0005)\n")
QUERIES = 40


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode(errors="replace")


def shard(mac, n):
    """state_shard() of sensor/state/state.h, for a MAC."""
    m64 = (1 << 64) - 1
    h = 0x9e3779b97f4a7c15
    for b in mac:
        h = ((h ^ b) * 0x100000001b3) & m64
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & m64
    h ^= h >> 33
    return ((h >> 32) * n) >> 32


def frames():
    """Each device's queries and the resolver's answers, interleaved."""
    out = []
    for q in range(QUERIES):
        for i, mac in enumerate(DEVICES):
            ip = bytes([192, 168, 7, 10 + i])
            qid = 0x1000 + q * 16 + i
            name = "d%d-q%d.example.com" % (i, q)
            query = craft.dns(qid, 0x0100, name)
            answer = craft.dns(qid, 0x8180, name,
                               answers=[craft.rr(name, 1, 300, bytes([93, 184, 216, 34]))])
            out.append(craft.udp4(mac, craft.ROUTER, ip, craft.RES_IP, 40000 + q, 53, query))
            out.append(craft.udp4(craft.ROUTER, mac, craft.RES_IP, ip, 53, 40000 + q, answer))
    return out


def main():
    if os.geteuid() != 0:
        print("FAIL workers: needs root (network namespaces, raw sockets); run make check as root")
        print("0 passed, 1 failed")
        return 1
    for ns in (NS_S, NS_D):
        sh("ip", "netns", "del", ns, check=False)
    tmp = tempfile.mkdtemp(prefix="stubwatch-workers-")
    out = os.path.join(tmp, "events.json")
    sw = None
    try:
        try:
            sh("ip", "netns", "add", NS_S)
            sh("ip", "netns", "add", NS_D)
            sh("ip", "-n", NS_S, "link", "add", "veth0", "type", "veth", "peer", "name",
               "veth1", "netns", NS_D)
            for ns, dev, addr in ((NS_S, "veth0", "10.78.0.1/24"), (NS_D, "veth1", "10.78.0.2/24")):
                sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
        except subprocess.CalledProcessError as e:
            print("FAIL workers: cannot create the network namespaces: %s" % e.output.decode(errors="replace"))
            print("0 passed, 1 failed")
            return 1
        sw = subprocess.Popen(["ip", "netns", "exec", NS_S, SENSOR, "-i", "veth0", "-v",
                               "--workers", "2", "-f", "udp port 53", "-o", "file:" + out],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Up (capture open, signals handled) once a probe query's device
        # event is out; a slow start (a sanitizer build) takes longer.
        probe = craft.udp4(PROBE, craft.ROUTER, bytes([192, 168, 7, 99]), craft.RES_IP, 40000, 53,
                           craft.dns(1, 0x0100, "probe.example.com"))
        end = time.time() + 60
        while time.time() < end and sw.poll() is None:
            subprocess.run(["ip", "netns", "exec", NS_D, sys.executable, "-c", SEND],
                           input=probe, check=True)
            if os.path.exists(out) and b"24:0a:c4:10:00:ff" in open(out, "rb").read():
                break
            time.sleep(0.3)
        payload = b"--SEP--".join(frames())
        subprocess.run(["ip", "netns", "exec", NS_D, sys.executable, "-c", SEND],
                       input=payload, check=True)
        time.sleep(1)
        sw.terminate()
        try:
            rc = sw.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sw.kill()
            rc = sw.wait()
        err = sw.stderr.read().decode(errors="replace")
        events = [json.loads(l) for l in open(out)] if os.path.exists(out) else []
        dev = lambda e: ((e.get("stubwatch") or {}).get("device") or {}).get("mac")
        reason = lambda e: e["event"].get("reason")
        ds = lambda e: e["event"]["dataset"]
        case("SIGTERM drains both workers: exit status 0", rc == 0, "exit %s: %s" % (rc, err[-800:]))
        macs = [":".join("%02x" % b for b in m) for m in DEVICES]
        for m in macs:
            mine = [e for e in events if ds(e) == "stubwatch.device" and dev(e) == m]
            first = [e for e in mine if reason(e) == "first_seen"]
            last = [e for e in mine if reason(e) == "exit"]
            got = (last[0]["stubwatch"]["dns"]["queries"], last[0]["stubwatch"]["dns"]["responses"]) if last else None
            case("%s: one first_seen, one exit, %d queries and answers" % (m, QUERIES),
                 len(first) == 1 and len(last) == 1 and got == (QUERIES, QUERIES),
                 "first_seen %d, exit %d, counts %s" % (len(first), len(last), got))
        stats = [e for e in events if ds(e) == "stubwatch.stats" and reason(e) == "exit"]
        workers = stats[0]["stubwatch"]["stats"].get("workers", []) if stats else []
        want = [sum(1 for m in DEVICES + [PROBE] if shard(m, 2) == i) for i in range(2)]
        got = [w.get("devices") for w in workers]
        case("two workers, each with the devices the hash gives it", got == want,
             "workers' devices %s, expected %s" % (got, want))
        drops = [w.get("ring_dropped") for w in workers]
        case("no frame dropped at a modest rate", drops == [0, 0], "ring_dropped %s" % drops)
    finally:
        if sw is not None and sw.poll() is None:
            sw.kill()
            sw.wait()
        for ns in (NS_S, NS_D):
            sh("ip", "netns", "del", ns, check=False)
        subprocess.run(["rm", "-rf", tmp])
    return finish()


if __name__ == "__main__":
    sys.exit(main())
