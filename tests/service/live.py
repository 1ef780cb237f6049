#!/usr/bin/env python3
"""live.py — the sensor as a service would run it, live, in network namespaces.

Two namespaces the test creates and removes: "sensor" and "device", joined by
a veth pair (10.77.0.1 and 10.77.0.2, addresses that exist only inside them).
The sensor captures on its end as root with run.user=nobody, writes a file
into a folder that does not exist yet, and sends to a Redis server that is
down at first. Checks, in order:
  - the spool and output folders were created before the privilege drop and
    belong to nobody; the spool fills while Redis is down;
  - SIGHUP after a rotation opens a new file (as nobody) and events go there;
  - when Redis comes up the spool replays; after SIGTERM, Redis holds every
    event of both files, in order (nothing lost);
  - a spool folder nobody cannot write stops the start with a message.
Needs root (namespaces, the drop); without it the test fails and says so.
Prints 'N passed, N failed'.
"""
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import case, finish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("B", "build")
SENSOR = os.path.abspath(os.path.join(B, "stubwatch"))
DUMP = os.path.abspath(os.path.join(B, "itest", "redis_dump"))
CHECK = os.path.join(HERE, "..", "integration", "check.py")
TAG = "sw%d" % (os.getpid() % 100000)
NS_S, NS_D = TAG + "s", TAG + "d"
PW = "live-pw"
PORT = 6390




def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode(errors="replace")


def netns_up():
    sh("ip", "netns", "add", NS_S)
    sh("ip", "netns", "add", NS_D)
    sh("ip", "-n", NS_S, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
       "netns", NS_D)
    for ns, dev, addr in ((NS_S, "veth0", "10.77.0.1/24"), (NS_D, "veth1", "10.77.0.2/24")):
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def netns_down():
    for ns in (NS_S, NS_D):
        sh("ip", "netns", "del", ns, check=False)


def dns_query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


def device_traffic(first, n):
    """n DNS queries from the device's namespace to the sensor's address."""
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for p in sys.stdin.buffer.read().split(b'--SEP--'):\n"
            "    p and s.sendto(p,('10.77.0.1',53))\n")
    payload = b"--SEP--".join(dns_query("host%d.example.com" % i, 1000 + i)
                              for i in range(first, first + n))
    subprocess.run(["ip", "netns", "exec", NS_D, sys.executable, "-c", code],
                   input=payload, check=True)


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def segs(d):
    return [f for f in os.listdir(d) if f.endswith(".seg")] if os.path.isdir(d) else []


def main():
    if os.geteuid() != 0:
        print("FAIL live: needs root (network namespaces, run.user); run make check as root")
        print("0 passed, 1 failed")
        return 1
    for tool in ("ip", "redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            print("FAIL live: %s is not installed (contrib/deps.sh installs it)" % tool)
            print("0 passed, 1 failed")
            return 1
    nobody = pwd.getpwnam("nobody").pw_uid
    tmp = tempfile.mkdtemp(prefix="sw-live-")
    os.chmod(tmp, 0o755)      # nobody must reach the folders below
    netns_down()
    procs = []
    try:
        netns_up()
        logdir = os.path.join(tmp, "log", "stubwatch")
        spool = os.path.join(tmp, "lib", "spool")
        out = os.path.join(logdir, "events.json")
        err = open(os.path.join(tmp, "sensor.err"), "w+")
        url = "redis://:%s@127.0.0.1:%d/0" % (PW, PORT)
        sw = subprocess.Popen(["ip", "netns", "exec", NS_S, SENSOR, "-i", "veth0", "-v",
                               "-s", "run.user=nobody", "-s", "spool.dir=" + spool,
                               "-s", "output.redis.maxlen=0", "-s", "stats.interval=1s",
                               "-s", "output.redis.timeout=200ms",
                               "-o", out, "-o", url], stderr=err)
        procs.append(sw)
        log = lambda: open(err.name).read()  # noqa: E731
        up = wait_for(lambda: "running as nobody" in log(), 10)
        case("starts and drops to nobody", up and sw.poll() is None, log())
        if not up:
            return 1
        rdir = os.path.join(spool, "redis-127.0.0.1-%d-0" % PORT)
        st = os.stat(logdir)
        case("output folder created for nobody", st.st_uid == nobody, "uid %d" % st.st_uid)
        case("spool folder created for nobody",
             os.path.isdir(rdir) and os.stat(rdir).st_uid == nobody, rdir)

        device_traffic(0, 40)
        time.sleep(0.5)
        sw.send_signal(10)  # SIGUSR1: a stats event now
        spooled = wait_for(lambda: segs(rdir), 5)
        case("Redis down: events spooled as nobody",
             spooled and "Permission denied" not in log() and "cannot write" not in log(),
             log())

        os.rename(out, out + ".1")
        sw.send_signal(1)   # SIGHUP, as logrotate's postrotate does
        time.sleep(0.5)
        device_traffic(100, 40)
        time.sleep(0.5)
        sw.send_signal(10)
        reopened = wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, 5)
        case("SIGHUP after the drop opens a new file",
             reopened and os.stat(out).st_uid == nobody and "cannot open it again" not in log(),
             log())

        rs = subprocess.Popen(["ip", "netns", "exec", NS_S, "redis-server", "--port", str(PORT),
                               "--bind", "127.0.0.1", "--requirepass", PW, "--save", "",
                               "--appendonly", "no", "--dir", tmp],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(rs)
        replayed = wait_for(lambda: not segs(rdir), 40)
        case("Redis back: the spool replays", replayed, "%s left" % segs(rdir))
        sw.terminate()
        rc = sw.wait(timeout=30)
        case("SIGTERM: clean exit", rc == 0, log())
        ref = os.path.join(tmp, "ref.json")
        with open(ref, "w") as f:
            for part in (out + ".1", out):
                f.write(open(part).read())
        dump = subprocess.run(["ip", "netns", "exec", NS_S, DUMP, "127.0.0.1", str(PORT), PW,
                               "0", "stubwatch"], stdout=subprocess.PIPE, check=False)
        with open(os.path.join(tmp, "dump.txt"), "wb") as f:
            f.write(dump.stdout)
        cmp = subprocess.run([sys.executable, CHECK, "redis", ref, f.name, "--dups-ok"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        nref = sum(1 for _ in open(ref))
        stats = [json.loads(x)["stubwatch"]["stats"] for x in open(ref) if '"stubwatch.stats"' in x]
        case("stats: capture.received is never below packets",
             stats and all(st["capture"]["received"] >= st["packets"] > 0 for st in stats),
             str([(st["capture"]["received"], st["packets"]) for st in stats]))
        case("nothing lost: Redis has both files' %d events in order" % nref,
             cmp.returncode == 0 and nref > 4, cmp.stdout.decode())

        # A spool folder nobody cannot write: an error at start, not drops later.
        locked = os.path.join(tmp, "locked")
        os.mkdir(locked, 0o700)
        p = subprocess.run(["ip", "netns", "exec", NS_S, SENSOR, "-i", "veth0",
                            "-s", "run.user=nobody", "-s", "spool.dir=" + locked,
                            "-o", url], stderr=subprocess.PIPE, timeout=30)
        e = p.stderr.decode()
        case("unwritable spool: start-up error", p.returncode == 2 and "not writable by nobody"
             in e, "rc=%d %s" % (p.returncode, e))

        # An events file in a folder nobody cannot write: SIGHUP could not
        # open it anew after a rotation, so the start refuses.
        ro = os.path.join(tmp, "ro")
        os.mkdir(ro, 0o755)
        p = subprocess.run(["ip", "netns", "exec", NS_S, SENSOR, "-i", "veth0",
                            "-s", "run.user=nobody", "-o", os.path.join(ro, "events.json")],
                           stderr=subprocess.PIPE, timeout=30)
        e = p.stderr.decode()
        case("events file in a folder nobody cannot write: start-up error",
             p.returncode == 2 and "%s: not writable by nobody" % ro in e,
             "rc=%d %s" % (p.returncode, e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        netns_down()
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
