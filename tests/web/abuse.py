#!/usr/bin/env python3
"""Bad input on the sensor's HTTP endpoint, and capture speed under HTTP load.

Checks that absurd paths and queries, huge request lines and headers,
garbage, wrong methods and missing or wrong credentials get a clear status
(and the endpoint keeps answering), that a silent client is cut, and that
1,000 concurrent connections (most hammering the API, some sending one
header byte a second) do not stall a replay: the replay of a generated
capture is timed from standard input with and without the load, and both
rates are printed. Prints "N passed, N failed" last.

    abuse.py BUILD_DIR [PACKETS]
"""
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import shutil
import base64

B = sys.argv[1] if len(sys.argv) > 1 else "build"
PACKETS = int(sys.argv[2]) if len(sys.argv) > 2 else 500000
# The loaded replay must keep at least this share of the unloaded rate. The
# load generator and the endpoint share the machine's cores with capture, so
# some slowdown is CPU, not waiting: a stalled capture would be far below.
MIN_SHARE = 0.3
CONNS = 1000
SLOW = 100
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


def raw(port, data, timeout=5):
    """Sends data, returns the status code of the answer (0: closed with none)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    got = b""
    try:
        while b"\r\n" not in got:
            c = s.recv(4096)
            if not c:
                break
            got += c
    except OSError:
        pass
    s.close()
    parts = got.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def req(port, path, headers=""):
    return raw(port, ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, headers)).encode())


def start_sensor(args, err):
    return subprocess.Popen([os.path.join(B, "stubwatch")] + args, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=err)


def wait_up(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def load(port, seconds_file):
    """Child: CONNS connections until seconds_file disappears; prints how many
    answers the API connections got."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sel = selectors.DefaultSelector()
    paths = [b"/metrics", b"/api/v1/devices?limit=1000", b"/api/v1/alerts", b"/api/v1/stats"]
    answers = 0
    slow = []
    for i in range(CONNS):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        if i < SLOW:
            slow.append(s)
            continue
        req_ = b"GET " + paths[i % len(paths)] + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        sel.register(s, selectors.EVENT_WRITE, [req_, b""])
    next_drip = time.time()
    while os.path.exists(seconds_file):
        for key, ev in sel.select(0.1):
            s, st = key.fileobj, key.data
            try:
                if ev & selectors.EVENT_WRITE:
                    s.send(st[0])
                    sel.modify(s, selectors.EVENT_READ, st)
                else:
                    c = s.recv(1 << 20)
                    if not c:
                        sel.unregister(s)
                        s.close()
                        continue
                    st[1] += c
                    head, sep, body = st[1].partition(b"\r\n\r\n")
                    if sep:
                        n = [int(h.split(b":")[1]) for h in head.split(b"\r\n")
                             if h.lower().startswith(b"content-length:")]
                        if n and len(body) >= n[0]:
                            answers += 1
                            st[1] = b""
                            sel.modify(s, selectors.EVENT_WRITE, st)
            except OSError:
                sel.unregister(s)
                s.close()
        if time.time() >= next_drip:
            # slowloris: one byte of a never-ending header a second
            for s in slow:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            next_drip = time.time() + 1
    print(answers, flush=True)


def timed_replay(args, pcap, tmp, with_load):
    """Seconds the sensor takes to replay pcap from stdin, and the answers the
    load got (None without load)."""
    port = free_port()
    err = open(os.path.join(tmp, "replay.err"), "w+")
    p = start_sensor(["-r", "-", "-o", "/dev/null", "--http", "127.0.0.1:%d" % port, "-v"] + args,
                     err)
    if not wait_up(port, p):
        stop(p)
        return None, None
    child = flag = None
    if with_load:
        flag = os.path.join(tmp, "loading")
        open(flag, "w").close()
        child = subprocess.Popen([sys.executable, __file__, "--load", str(port), flag],
                                 stdout=subprocess.PIPE)
        time.sleep(2)  # let the connections open
    data = open(pcap, "rb").read()
    t0 = time.time()
    p.stdin.write(data)
    p.stdin.close()
    elapsed = None
    end = t0 + 120
    while time.time() < end:
        err.seek(0)
        if "replay done" in err.read():
            elapsed = time.time() - t0
            break
        time.sleep(0.01)
    answers = None
    if child is not None:
        os.unlink(flag)
        out = child.communicate(timeout=30)[0].decode().strip()
        answers = int(out) if out.isdigit() else None
    # The load's sockets close as its process ends; the endpoint must answer
    # again within a few seconds.
    alive = any(req(port, "/metrics") == 200 or time.sleep(0.5) for _ in range(10))
    stop(p)
    if elapsed is None or not alive:
        err.seek(0)
        print("     replay %s, endpoint %s afterwards; sensor: %s" % (
            "finished" if elapsed else "did not finish", "answers" if alive else "silent",
            err.read()[-300:]), flush=True)
        return None, answers
    return elapsed, answers


def main():
    tmp = tempfile.mkdtemp(prefix="stubwatch-abuse-")
    pcap = os.path.join(tmp, "bench.pcap")
    subprocess.run([os.path.join(B, "swgen"), "--bench", "--packets", str(PACKETS), "-o", pcap],
                   check=True, stdout=subprocess.DEVNULL)
    small = os.path.join(tmp, "demo.pcap")
    subprocess.run([os.path.join(B, "swgen"), "--demo", "-o", small], check=True,
                   stdout=subprocess.DEVNULL)

    # ---- bad requests, on a sensor serving a replayed demo --------------------
    port = free_port()
    err = open(os.path.join(tmp, "sensor.err"), "w+")
    p = start_sensor(["-r", small, "-o", "/dev/null", "--http", "127.0.0.1:%d" % port], err)
    if not wait_up(port, p):
        err.seek(0)
        bad("sensor starts with --http", err.read()[-500:])
        stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
        print("%d passed, %d failed" % (PASS, FAIL))
        sys.exit(1)
    silent = socket.create_connection(("127.0.0.1", port))
    silent.sendall(b"GET / HTTP/1.1\r\n")
    silent_t0 = time.time()
    cases = [
        ("dot-dot path", req(port, "/../../../../etc/passwd"), {404}),
        ("escaped dot-dot path", req(port, "/%2e%2e/%2e%2e/etc/passwd"), {404}),
        ("NUL in the path", req(port, "/index.html%00.png"), {404}),
        ("unknown API path", req(port, "/api/v1/nothing"), {404}),
        ("device id of 40,000 bytes", req(port, "/api/v1/devices/" + "A" * 40000), {414, 431}),
        ("no such device", req(port, "/api/v1/devices/00:00:00:00:00:00"), {404}),
        ("negative limit", req(port, "/api/v1/devices?limit=-5"), {400}),
        ("limit not a number", req(port, "/api/v1/devices?limit=abc"), {400}),
        ("offset past 64 bits", req(port, "/api/v1/alerts?offset=99999999999999999999999"), {400}),
        ("huge limit is capped", req(port, "/api/v1/devices?limit=100000000"), {200}),
        ("header of 100 KB", req(port, "/metrics", "X-Big: " + "b" * 100000 + "\r\n"), {431, 0}),
        ("2,000 headers", req(port, "/metrics", "".join("X-%d: y\r\n" % i for i in range(2000))),
         {431, 0}),
        ("POST", raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"),
         {405}),
        ("garbage request line", raw(port, b"\x00\x01\x02 \xff\xfe nonsense\r\n\r\n"), {400, 0}),
        ("still serving afterwards", req(port, "/api/v1/devices"), {200}),
    ]
    for name, got, want in cases:
        if got in want:
            ok("%s: %s" % (name, got))
        else:
            bad(name, "status %s, want %s" % (got, sorted(want)))
    keep = p  # serving the silent client until it is cut

    # ---- authentication -------------------------------------------------------
    for cred, good_hdr in (("watcher:s3cret-pass", "Authorization: Basic " +
                            base64.b64encode(b"watcher:s3cret-pass").decode()),
                           ("tok-0123456789abcdef", "Authorization: Bearer tok-0123456789abcdef")):
        af = os.path.join(tmp, "auth")
        with open(af, "w") as f:
            f.write(cred + "\n")
        port = free_port()
        p = start_sensor(["-r", small, "-o", "/dev/null", "--http", "127.0.0.1:%d" % port,
                          "-s", "http.auth_file=" + af], err)
        if not wait_up(port, p):
            bad("sensor starts with http.auth_file", "no listener")
            stop(p)
            continue
        kind = cred.split(":")[0] if ":" in cred else "bearer"
        got = (req(port, "/metrics"), req(port, "/metrics", "Authorization: Bearer wrong-token-x\r\n"),
               req(port, "/metrics", "Authorization: Basic " +
                   base64.b64encode(b"watcher:wrong").decode() + "\r\n"),
               req(port, "/metrics", good_hdr + "\r\n"))
        if got == (401, 401, 401, 200):
            ok("auth (%s): none, wrong token, wrong password refused; right one served" % kind)
        else:
            bad("auth (%s)" % kind, "statuses %s" % (got,))
        stop(p)

    silent.settimeout(20)
    try:
        silent.recv(1)  # returns (b"") when the endpoint closes it
        closed = True
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    waited = time.time() - silent_t0
    if closed and 5 < waited < 20:
        ok("a silent client is cut after %.1f s" % waited)
    else:
        bad("silent client", "still open after %.1f s" % waited)
    stop(keep)

    # ---- capture under load ---------------------------------------------------
    base, _ = timed_replay([], pcap, tmp, False)
    loaded, answers = timed_replay([], pcap, tmp, True)
    if base is None or loaded is None:
        bad("timed replays", "a replay did not finish (base %s, loaded %s)" % (base, loaded))
    else:
        r0, r1 = PACKETS / base, PACKETS / loaded
        print("     replay of %d packets: %.0f packets/s alone, %.0f packets/s with %d connections "
              "(%s API answers during it): %.2f" % (PACKETS, r0, r1, CONNS, answers, r1 / r0))
        if r1 >= MIN_SHARE * r0 and answers:
            ok("capture keeps %.0f%% of its rate under %d connections" % (100 * r1 / r0, CONNS))
        else:
            bad("capture under load", "%.0f vs %.0f packets/s, %s answers" % (r1, r0, answers))
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)


if len(sys.argv) > 1 and sys.argv[1] == "--load":
    load(int(sys.argv[2]), sys.argv[3])
else:
    main()
