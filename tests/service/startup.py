#!/usr/bin/env python3
"""startup.py — what a start checks, --check-config checks, with the same words.

Each setting that must stop a start is tried twice: with --check-config and
with a replay; both must exit 2 with the same first message line (file:line
where the setting came from a file). Then the outputs: command-line sinks add
to the configured ones; secrets from a file or the environment; a Redis
server (started here, with requirepass) that refuses the password stops the
start; librdkafka's log is the sensor's. And the smaller things: no
"(defaults)" after -s, rule errors that name what a user has, make install
PREFIX=/usr with its configuration in /etc, make demo run twice.
Prints 'N passed, N failed'.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("B", "build")
SENSOR = os.path.join(B, "stubwatch")
sys.path.insert(0, os.path.join(HERE, "..", "pcap"))
import craft  # noqa: E402
sys.path.insert(0, HERE)
from report import case, finish  # noqa: E402





def run(args, env=None, timeout=60):
    p = subprocess.run([SENSOR] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def first_error(err):
    for line in err.splitlines():
        if ": error: " in line:
            return line
    return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def lines(path):
    return open(path).read().splitlines() if os.path.exists(path) else []


def main():
    tmp = tempfile.mkdtemp(prefix="sw-start-")
    basic = os.path.join(tmp, "basic.pcap")
    craft.craft("basic", basic)

    def conf(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- the same verdict and message from --check-config and a start ----
    port = free_port()
    down = "redis://127.0.0.1:%d" % port
    kafka_down = "127.0.0.1:%d" % free_port()
    checks = [
        ("bad BPF filter", ["-s", "capture.filter=udp port x"], "bad filter 'udp port x'"),
        ("Redis URL with a bad port", ["-o", "redis://x:notaport"], "port must be a number"),
        ("output.redis.url not a Redis URL",
         ["-c", conf("url.conf", "# sinks\noutput.redis.url = http://x\n")],
         "url.conf:2: key 'output.redis.url': 'http://x' is not a Redis URL"),
        ("unknown librdkafka property",
         ["-s", "output.kafka.brokers=" + kafka_down, "-s", "output.kafka.property.no.such=1",
          "-s", "spool.dir=" + os.path.join(tmp, "spool-k")],
         "output.kafka.property.no.such"),
        ("unwritable spool folder", ["-o", down, "-s", "spool.dir=/proc/stubwatch-spool"],
         "spool: /proc"),
        ("run.user that does not exist",
         ["-c", conf("user.conf", "log.level = warning\nrun.user = no-such-user-sw\n")],
         "user.conf:2: key 'run.user': no such user 'no-such-user-sw'"),
        ("bad dhcp.allowed_servers, file:line",
         ["-c", conf("dhcp.conf", "\n\ndhcp.allowed_servers = 10.0.0.1, router\n")],
         "dhcp.conf:3: key 'dhcp.allowed_servers':"),
        ("bad detect.modules, file:line",
         ["-c", conf("mod.conf", "detect.modules = behaviour, dnssec\n")],
         "mod.conf:1: key 'detect.modules':"),
    ]
    for name, args, want in checks:
        rc1, out1, err1 = run(["--check-config"] + args)
        rc2, out2, err2 = run(["-r", basic, "-o", os.path.join(tmp, "x.json")] + args)
        e1, e2 = first_error(err1), first_error(err2)
        case("%s: checked and refused at start alike" % name,
             rc1 == 2 and rc2 == 2 and want in e1 and e1 == e2,
             "check rc=%d %r; start rc=%d %r" % (rc1, e1, rc2, e2))

    rc, out, err = run(["--check-config", "-s", "devices.max=100"])
    case("--check-config with -s does not say (defaults)",
         rc == 0 and "(defaults)" not in out and "command-line" in out, out + err)
    rc, out, err = run(["--check-config"])
    case("--check-config without settings says (defaults)", rc == 0 and "(defaults)" in out,
         out + err)

    # ---- -o adds to the configured outputs, and the sensor names them -----
    a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    rc, out, err = run(["-r", basic, "-v", "-c", conf("file.conf", "output.file = %s\n" % a),
                        "-o", b])
    case("-o adds to output.file", rc == 0 and lines(a) and lines(a) == lines(b),
         "%d/%d lines %s" % (len(lines(a)), len(lines(b)), err))
    case("the outputs used are logged", "outputs: file:%s, file:%s" % (a, b) in err, err)

    # ---- Redis: credentials ---------------------------------------------
    if shutil.which("redis-server") is None:
        case("redis-server installed", False, "install redis-server (contrib/deps.sh)")
    else:
        rport = free_port()
        pw = "start-pw"
        rdir = os.path.join(tmp, "redis")
        os.mkdir(rdir)
        rs = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                               "--requirepass", pw, "--save", "", "--appendonly", "no",
                               "--dir", rdir], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            def cli(*a):
                return subprocess.run(["redis-cli", "-p", str(rport), "-a", pw,
                                       "--no-auth-warning"] + list(a), stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL).stdout.decode().strip()
            t0 = time.time()
            while cli("ping") != "PONG" and time.time() - t0 < 10:
                time.sleep(0.05)
            spool = ["-s", "spool.dir=" + os.path.join(tmp, "spool-r"),
                     "-s", "output.redis.maxlen=0"]
            url = "redis://127.0.0.1:%d/1" % rport
            rc, out, err = run(["-r", basic, "-o", "redis://:wrong@127.0.0.1:%d/1" % rport]
                               + spool)
            case("wrong Redis password: error at start", rc == 2
                 and "authentication failed" in err and "wrong" not in err, err)
            rc, out, err = run(["--check-config", "-o", "redis://:wrong@127.0.0.1:%d/1" % rport]
                               + spool)
            case("wrong Redis password: refused by --check-config",
                 rc == 2 and "authentication failed" in err, err)
            rc, out, err = run(["-r", basic, "-o", url] + spool)
            case("no Redis password where one is needed: error at start",
                 rc == 2 and "NOAUTH" in err, err)
            pwf = conf("redis.pw", pw + "\n")
            os.chmod(pwf, 0o600)
            ref = os.path.join(tmp, "ref-r.json")
            rc, out, err = run(["-r", basic, "-o", ref, "-c",
                                conf("redis.conf", "output.redis.url = %s\n"
                                     "output.redis.password_file = %s\n" % (url, pwf))] + spool)
            n_file = cli("-n", "1", "xlen", "stubwatch:stats")
            case("password file; -o adds to output.redis.url",
                 rc == 0 and n_file == "1" and lines(ref), "rc=%d xlen=%s %s" % (rc, n_file, err))
            env = dict(os.environ, STUBWATCH_REDIS_PASSWORD=pw)
            rc, out, err = run(["-r", basic, "-o", url] + spool, env=env)
            n_env = cli("-n", "1", "xlen", "stubwatch:stats")
            case("password from $STUBWATCH_REDIS_PASSWORD", rc == 0 and n_env == "2",
                 "rc=%d xlen=%s %s" % (rc, n_env, err))
        finally:
            rs.kill()
            rs.wait()

    # ---- Kafka: librdkafka's log and the sink's name ---------------------
    brokers = ",".join("broker-%s.invalid:9092" % n for n in ("one", "two", "three"))
    rc, out, err = run(["-r", basic, "-o", "-", "-o", "kafka://%s/sw" % brokers,
                        "-s", "output.stop_deadline=500ms",
                        "-s", "spool.dir=" + os.path.join(tmp, "spool-k2")])
    stats = [json.loads(x) for x in out.splitlines() if '"stubwatch.stats"' in x]
    names = ([s["name"] for s in stats[-1]["stubwatch"]["stats"]["output"]["sinks"]]
             if stats else [])
    case("Kafka sink named without a cut address",
         "kafka://broker-one.invalid:9092+2/sw" in names, "%s %s" % (names, err))
    case("no raw librdkafka lines on stderr", rc == 0 and "%3|" not in err and "|FAIL|" not in err,
         err)

    # ---- smaller things ----------------------------------------------------
    rules = os.path.join(tmp, "rules")
    shutil.copytree("rules", rules)
    det = os.path.join(rules, "detections.json")
    text = open(det).read().replace('"edns.missing"', '"edns.absent"', 1)
    with open(det, "w") as f:
        f.write(text)
    rc, out, err = run(["--check-config", "--rules", rules])
    case("a rules error names what users have", rc == 2 and "edns.absent" in err
         and "DETECTIONS.md" not in err, err)

    dest = os.path.join(tmp, "dest")
    p = subprocess.run(["make", "-s", "install", "PREFIX=/usr", "DESTDIR=" + dest],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    case("make install PREFIX=/usr: configuration in /etc",
         p.returncode == 0 and os.path.exists(os.path.join(dest, "etc/stubwatch/stubwatch.conf"))
         and not os.path.exists(os.path.join(dest, "usr/etc")), p.stdout.decode())
    inst = os.path.join(dest, "usr/bin/stubwatch")
    p = subprocess.run([inst, "--check-config"], cwd="/", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    case("installed binary finds its rules from any folder",
         p.returncode == 0 and os.path.join(dest, "usr/share/stubwatch/rules").encode()
         in p.stdout, (p.stdout + p.stderr).decode())

    counts = []
    for _ in range(2):
        p = subprocess.run(["make", "-s", "demo", "B=" + B], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        counts.append(len(lines(os.path.join(B, "demo-events.json"))))
    case("make demo twice: the same events, not twice as many",
         p.returncode == 0 and counts[0] > 0 and counts[0] == counts[1], str(counts))

    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
