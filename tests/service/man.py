#!/usr/bin/env python3
"""man.py — stubwatch(8) and --help list the same options; the page renders
without groff warnings. Prints 'N passed, N failed'."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import case, finish  # noqa: E402

B = os.environ.get("B", "build")
SENSOR = os.path.join(B, "stubwatch")
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "doc", "stubwatch.8")




def help_options(text):
    """Options of the lines that start an entry: '  -r, --read FILE  ...'."""
    opts = set()
    for line in text.splitlines():
        m = re.match(r"^  (?:(-\w), )?(--[a-z][a-z-]*)|^      (--[a-z][a-z-]*)", line)
        if m:
            opts.update(o for o in m.groups() if o)
    return opts


def man_options(text):
    """Options of the lines that follow .TP in the OPTIONS section."""
    sect = text.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]
    opts = set()
    lines = sect.splitlines()
    for prev, line in zip(lines, lines[1:]):
        if prev.strip() != ".TP":
            continue
        line = line.replace("\\-", "-")
        opts.update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])", line))
    return opts


def main():
    out = subprocess.run([SENSOR, "--help"], stdout=subprocess.PIPE).stdout.decode()
    page = open(PAGE).read()
    h, m = help_options(out), man_options(page)
    case("--help lists options", len(h) >= 20, str(sorted(h)))
    case("stubwatch(8) and --help list the same options", h == m,
         "only in --help: %s; only in the page: %s" % (sorted(h - m), sorted(m - h)))
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", PAGE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    case("the page renders without warnings", p.returncode == 0 and not p.stdout,
         p.stdout.decode())
    for section in ("SIGNALS", "FILES", "EXIT STATUS", "SECRETS"):
        case("the page has %s" % section, ".SH %s" % section in page)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
