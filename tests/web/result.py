"""result.py — the web tests' "ok"/"FAIL" lines, their closing count, a free port.

Each test script prints one line per check and "N passed, N failed" last,
which run.sh adds up; finish() exits 1 when anything failed.
"""
import socket
import sys

_counts = {"passed": 0, "failed": 0}


def ok(name):
    _counts["passed"] += 1
    print("ok   " + name, flush=True)


def bad(name, why):
    _counts["failed"] += 1
    print("FAIL %s: %s" % (name, why), flush=True)


def finish(label=None):
    """Prints the count (after 'LABEL: N passed, N failed' when given) and exits."""
    line = "%d passed, %d failed" % (_counts["passed"], _counts["failed"])
    if label is not None:
        print("%s: %s" % (label, line))
    print(line, flush=True)
    sys.exit(1 if _counts["failed"] else 0)


def free_port():
    """A TCP port of 127.0.0.1 free when asked (the caller binds it soon)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
