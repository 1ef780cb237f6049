#!/usr/bin/env python3
"""package.py — the Debian package and the systemd unit, as shipped.

Builds the package (make deb), runs lintian (no errors allowed), unpacks it
into a scratch root with dpkg -x, runs the installed binary on the demo
capture from / (it must find its installed rules and give the same events as
the build tree's binary), and checks the unit with `systemd-analyze verify`
in that root (no message at all allowed) and prints its
`systemd-analyze security` exposure. A tool that is missing or cannot run is
a failure that says so, never a skip. Prints 'N passed, N failed'.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import case, finish, results  # noqa: E402

B = os.environ.get("B", "build")
SENSOR = os.path.abspath(os.path.join(B, "stubwatch"))
SWGEN = os.path.join(B, "swgen")
VERSION = open("VERSION").read().strip()




def run(args, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    return p.returncode, p.stdout.decode(errors="replace")




def main():
    for tool, pkg in (("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper"),
                      ("lintian", "lintian"), ("systemd-analyze", "systemd")):
        if shutil.which(tool) is None:
            case("%s installed" % tool, False, "install %s (contrib/deps.sh does)" % pkg)
    if results:
        return finish()
    rc, out = run(["make", "-s", "deb", "B=" + B])
    debs = glob.glob(os.path.join(B, "deb", "stubwatch_%s_*.deb" % VERSION))
    case("make deb builds stubwatch_%s_<arch>.deb" % VERSION, rc == 0 and len(debs) == 1, out)
    if not debs:
        return finish()
    deb = debs[0]
    rc, out = run(["lintian", "--fail-on", "error", deb])
    case("lintian: no errors", rc == 0 and not re.search(r"^E: ", out, re.M), out)
    if out.strip():
        print("     lintian: " + out.strip().replace("\n", "\n     lintian: "))

    root = tempfile.mkdtemp(prefix="sw-deb-")
    try:
        rc, out = run(["dpkg", "-x", deb, root])
        want = ["usr/bin/stubwatch", "etc/stubwatch/stubwatch.conf",
                "usr/share/stubwatch/rules/detections.json", "usr/share/stubwatch/rules/resolvers.json",
                "usr/share/stubwatch/rules/custom.json",
                "lib/systemd/system/stubwatch@.service", "etc/logrotate.d/stubwatch",
                "usr/share/man/man8/stubwatch.8.gz", "usr/lib/sysusers.d/stubwatch.conf",
                "usr/lib/tmpfiles.d/stubwatch.conf", "usr/share/stubwatch/web/index.html",
                "usr/share/stubwatch/web/app.js",
                "usr/share/stubwatch/grafana/stubwatch-sensor-health.json"]
        missing = [w for w in want if not os.path.exists(os.path.join(root, w))]
        case("dpkg -x: the package holds binary, rules, config, unit, logrotate, man page, "
             "user, state folder, web dashboard and Grafana dashboards", rc == 0 and not missing, "missing %s %s" % (missing, out))

        demo = os.path.join(root, "demo.pcap")
        subprocess.run([SWGEN, "--demo", "-o", demo], check=True, stdout=subprocess.DEVNULL)
        inst = os.path.join(root, "usr/bin/stubwatch")
        conf = os.path.join(root, "etc/stubwatch/stubwatch.conf")
        p = subprocess.run([inst, "-r", demo, "-c", conf, "-o", "-"], cwd="/",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ref = subprocess.run([SENSOR, "-r", demo, "-c", conf, "-o", "-"], cwd="/",
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        n = p.stdout.count(b"\n")
        case("the installed binary replays the demo capture (%d events, as the build's)" % n,
             p.returncode == 0 and n > 100 and p.stdout == ref.stdout, p.stderr.decode())

        # systemd-analyze resolves every unit and command inside --root: the
        # package plus the host's own units and kill(1), which a real system
        # has and the package does not ship.
        units = os.path.join(root, "lib/systemd/system")
        for src in glob.glob("/lib/systemd/system/*"):
            dst = os.path.join(units, os.path.basename(src))
            if not os.path.lexists(dst):
                if os.path.isdir(src) and not os.path.islink(src):
                    shutil.copytree(src, dst, symlinks=True)
                else:
                    shutil.copy2(src, dst, follow_symlinks=False)
        os.makedirs(os.path.join(root, "bin"), exist_ok=True)
        shutil.copy2(shutil.which("kill") or "/bin/kill", os.path.join(root, "bin/kill"))
        inst_unit = os.path.join(units, "stubwatch@eth1.service")
        os.symlink("stubwatch@.service", inst_unit)
        rc, out = run(["systemd-analyze", "verify", "--root=" + root, "--man=no", inst_unit])
        case("systemd-analyze verify: the unit as shipped, no message",
             rc == 0 and not out.strip(),
             "rc=%d %s (systemd-analyze must be able to run here: a container needs "
             "no systemd as PID 1 for verify)" % (rc, out))
        rc, out = run(["systemd-analyze", "security", "--offline=yes", "--root=" + root,
                       "stubwatch@eth1.service"])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", out)
        case("systemd-analyze security: exposure %s" % (m.group(1) + " " + m.group(2) if m else "?"),
             rc == 0 and m and float(m.group(1)) <= 3.0, out[-600:])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
