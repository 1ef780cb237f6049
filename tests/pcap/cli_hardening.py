#!/usr/bin/env python3
"""Hardening cases: what a hostile or careless input or setting cannot make
the sensor do.

Secrets in sink URLs never show in its messages; outputs and spool files
refuse symbolic links and get their mode whatever the umask; a rules or
configuration file that is a FIFO or a device is refused at once instead of
blocking. (Capture times that lie are pcap cases: tests/pcap/time-*; the
exit stats after the final drain are integration tests.) Each case checks an
exit code, a phrase, events or files. Prints 'N passed, N failed'.
"""
import os
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("B", "build")
SENSOR = os.path.join(B, "stubwatch")
sys.path.insert(0, HERE)
import craft  # noqa: E402
from cli import events_of, exit_stats  # noqa: E402

# A sensor that blocks on an input is a failure of its own: it must answer
# well within this.
QUICK = 10


def run(args, stdin=None, env=None, timeout=120, umask=None):
    pre = (lambda: os.umask(umask)) if umask is not None else None
    try:
        p = subprocess.run([SENSOR] + args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env,
                           preexec_fn=pre)
    except subprocess.TimeoutExpired:
        return None, "", "(no answer within %d s: the sensor blocked)" % timeout
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def main():
    tmp = tempfile.mkdtemp(prefix="sw-hard-")
    basic = os.path.join(tmp, "basic.pcap")
    craft.craft("basic", basic)
    results = []

    def case(name, ok, detail=""):
        results.append((name, ok, detail))

    # ---- secrets: a sink URL's password is never echoed -------------------
    pw = "hunter2-secret"
    for what, args in (
            ("bad scheme in output.redis.url",
             ["-s", "output.redis.url=rediss://:%s@127.0.0.1:6379" % pw]),
            ("bad port, -o", ["-o", "redis://:%s@127.0.0.1:99999" % pw]),
            ("password without its colon", ["-o", "redis://%s@127.0.0.1" % pw]),
            ("credentials in a Kafka URL", ["-o", "kafka://sensor:%s@127.0.0.1:9092/sw" % pw])):
        for check in ([], ["--check-config"]):
            rc, out, err = run(check + ["-r", basic] + args)
            case("password masked: %s%s" % (what, " (checked)" if check else ""),
                 rc == 2 and pw not in err and pw not in out and "***" in err,
                 "rc=%s err=%s" % (rc, err))

    # ---- inputs that block: FIFOs and devices are refused at once ---------
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for check in ([], ["--check-config"]):
        rc, out, err = run(check + ["-c", fifo, "-r", basic, "-o", "-"], timeout=QUICK)
        case("config file that is a FIFO%s" % (" (checked)" if check else ""),
             rc == 2 and fifo in err and "FIFO, not a regular file" in err, "rc=%s %s" % (rc, err))
    rc, out, err = run(["-c", "/dev/zero", "-r", basic, "-o", "-"], timeout=QUICK)
    case("config file that is a device", rc == 2 and "/dev/zero" in err and "device" in err,
         "rc=%s %s" % (rc, err))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    root = os.path.dirname(os.path.dirname(HERE))
    for name in os.listdir(os.path.join(root, "rules")):
        with open(os.path.join(root, "rules", name), "rb") as f, \
                open(os.path.join(rules, name), "wb") as g:
            g.write(f.read())
    os.remove(os.path.join(rules, "detections.json"))
    os.mkfifo(os.path.join(rules, "detections.json"))
    for check in ([], ["--check-config"]):
        rc, out, err = run(check + ["--rules", rules, "-r", basic, "-o", "-"], timeout=QUICK)
        case("rules file that is a FIFO%s" % (" (checked)" if check else ""),
             rc == 2 and "detections.json" in err and "FIFO" in err, "rc=%s %s" % (rc, err))
    rc, out, err = run(["--check-config", "-o", "redis://127.0.0.1:1/0",
                        "-s", "output.redis.password_file=" + fifo], timeout=QUICK)
    case("password file that is a FIFO", rc == 2 and "output.redis.password_file" in err
         and "FIFO" in err, "rc=%s %s" % (rc, err))

    # ---- files: no symbolic links, modes whatever the umask ---------------
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    link = os.path.join(tmp, "events-link.json")
    os.symlink(victim, link)
    for check in ([], ["--check-config"]):
        rc, out, err = run(check + ["-r", basic, "-o", link])
        with open(victim) as f:
            kept = f.read() == "precious\n"
        case("events file that is a symbolic link%s" % (" (checked)" if check else ""),
             rc == 2 and kept and "symbolic link" in err and "output.follow_symlinks" in err,
             "rc=%s kept=%s %s" % (rc, kept, err))
    rc, out, err = run(["-r", basic, "-o", "file:" + link, "-s", "output.follow_symlinks=yes"])
    with open(victim) as f:
        lines = f.read().splitlines()
    case("events file through a link when allowed", rc == 0 and len(lines) > 1
         and exit_stats(events_of("\n".join(lines[1:]))) is not None, "rc=%s %s" % (rc, err))
    made = os.path.join(tmp, "out", "sub", "events.json")
    rc, out, err = run(["-r", basic, "-o", made], umask=0o077)
    modes = [stat.S_IMODE(os.stat(p).st_mode) for p in
             (made, os.path.dirname(made), os.path.dirname(os.path.dirname(made)))
             if os.path.exists(p)]
    case("events file and folders made under umask 077", rc == 0 and modes == [0o640, 0o750, 0o750],
         "rc=%s modes=%s %s" % (rc, [oct(m) for m in modes], err))

    report = os.path.join(tmp, "report.html")
    rc, out, err = run(["-r", basic, "-o", os.devnull, "--report", report], umask=0o077)
    mode = stat.S_IMODE(os.stat(report).st_mode) if os.path.exists(report) else None
    case("report made under umask 077", rc == 0 and mode == 0o640, "rc=%s mode=%s %s" % (
        rc, mode and oct(mode), err))
    rlink = os.path.join(tmp, "report-link.html")
    os.symlink(victim, rlink)
    rc, out, err = run(["-r", basic, "-o", os.devnull, "--report", rlink])
    with open(victim) as f:
        kept = f.read().startswith("precious")
    case("report file that is a symbolic link", rc != 0 and kept and "symbolic link" in err,
         "rc=%s kept=%s %s" % (rc, kept, err))
    rc, out, err = run(["-r", basic, "-o", os.devnull, "-s", "http.listen=127.0.0.1:0",
                        "-s", "http.auth_file=" + fifo], timeout=QUICK)
    case("HTTP credentials file that is a FIFO", rc is not None and rc != 0 and "FIFO" in err,
         "rc=%s %s" % (rc, err))

    bad = [(name, detail) for name, ok, detail in results if not ok]
    for name, ok, detail in results:
        print(("ok   " + name) if ok else ("FAIL %s: %s" % (name, detail.strip()[-600:])))
    counts = "%d passed, %d failed" % (len(results) - len(bad), len(bad))
    print("hardening cases: " + counts + "\n" + counts)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
