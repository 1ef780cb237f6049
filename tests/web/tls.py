#!/usr/bin/env python3
"""The HTTP endpoint over TLS (http.tls_cert, http.tls_key).

Makes its own CA and a server certificate for 127.0.0.1 with openssl, starts
the sensor on a replay with --http and the pair, and checks that a client
trusting the CA reads /metrics and /api/v1/stats (the same packet count in
both), that a plain-HTTP request to the port gets no HTTP answer, and that a
client which does not trust the CA refuses the server. Then the start errors:
one file of the pair without the other, a missing key, a key that is not the
certificate's, an encrypted key and a certificate file holding a key each
stop the start (and --check-config) with a message naming the file.
Prints "N passed, N failed" last.

    tls.py BUILD_DIR
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

B = sys.argv[1] if len(sys.argv) > 1 else "build"
SENSOR = os.path.join(B, "stubwatch")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from result import bad, finish, free_port, ok  # noqa: E402


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_pki(d):
    """A CA, a server certificate it signs for 127.0.0.1, a stranger's key."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", d + "/ca.key", "-out", d + "/ca.pem",
            "-days", "2", "-subj", "/CN=stubwatch test CA")
    openssl("req", *ec, "-keyout", d + "/srv.key", "-out", d + "/srv.csr",
            "-subj", "/CN=127.0.0.1")
    with open(d + "/ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", d + "/srv.csr", "-CA", d + "/ca.pem", "-CAkey",
            d + "/ca.key", "-CAcreateserial", "-out", d + "/srv.pem", "-days", "2",
            "-extfile", d + "/ext")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", d + "/other.key")
    openssl("pkey", "-in", d + "/srv.key", "-aes256", "-passout", "pass:secret",
            "-out", d + "/enc.key")


def tls_args(cert, key):
    return ["-s", "http.tls_cert=" + cert, "-s", "http.tls_key=" + key]


def serve_checks(d):
    port = free_port()
    err = open(d + "/sensor.err", "w+")
    sw = subprocess.Popen([SENSOR, "-r", d + "/demo.pcap", "-o", "/dev/null", "-v",
                           "--http", "127.0.0.1:%d" % port] +
                          tls_args(d + "/srv.pem", d + "/srv.key"), stderr=err)
    try:
        for _ in range(300):
            err.seek(0)
            text = err.read()
            if "replay done" in text or sw.poll() is not None:
                break
            time.sleep(0.05)
        if "replay done" not in text:
            bad("sensor with TLS", "did not serve: " + text)
            return
        base = "https://127.0.0.1:%d" % port
        trusting = ssl.create_default_context(cafile=d + "/ca.pem")
        try:
            with urllib.request.urlopen(base + "/metrics", context=trusting, timeout=10) as r:
                metrics = r.read().decode()
                ctype = r.headers.get("Content-Type", "")
            with urllib.request.urlopen(base + "/api/v1/stats", context=trusting,
                                        timeout=10) as r:
                stats = json.loads(r.read())
        except (OSError, ValueError) as e:
            bad("HTTPS with the CA", repr(e))
            return
        packets = stats.get("stubwatch", {}).get("stats", {}).get("packets")
        line = [x for x in metrics.splitlines() if x.startswith("stubwatch_packets_total ")]
        if (ctype.startswith("text/plain") and isinstance(packets, int) and packets > 0 and
                line == ["stubwatch_packets_total %d" % packets]):
            ok("HTTPS with the CA: /metrics and /api/v1/stats agree (%d packets)" % packets)
        else:
            bad("HTTPS with the CA", "type %r, stats packets %r, metric %r" %
                (ctype, packets, line))

        # Plain HTTP to the TLS port: no HTTP answer, the connection is closed.
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        answer = b""
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
        s.close()
        if b"HTTP/" not in answer and b"stubwatch_" not in answer:
            ok("plain HTTP to the TLS port gets no HTTP answer")
        else:
            bad("plain HTTP to the TLS port", repr(answer[:200]))

        # A client that trusts only the system's CAs refuses our certificate.
        stranger = ssl.create_default_context()
        try:
            urllib.request.urlopen(base + "/metrics", context=stranger, timeout=10)
            bad("client without the CA", "the request succeeded")
        except urllib.error.URLError as e:
            if isinstance(e.reason, ssl.SSLCertVerificationError):
                ok("a client without the CA refuses the certificate")
            else:
                bad("client without the CA", repr(e))
    finally:
        sw.terminate()
        sw.wait(timeout=20)
        err.close()


def start_error_checks(d):
    cases = [
        ("certificate without key", ["-s", "http.tls_cert=" + d + "/srv.pem"],
         "http.tls_key is empty"),
        ("key without certificate", ["-s", "http.tls_key=" + d + "/srv.key"],
         "http.tls_cert is empty"),
        ("missing key file", tls_args(d + "/srv.pem", d + "/missing.key"),
         d + "/missing.key"),
        ("key of another certificate", tls_args(d + "/srv.pem", d + "/other.key"),
         d + "/other.key"),
        ("encrypted key", tls_args(d + "/srv.pem", d + "/enc.key"), d + "/enc.key"),
        ("key given as certificate", tls_args(d + "/srv.key", d + "/srv.key"),
         "http.tls_cert '%s/srv.key'" % d),
    ]
    for name, args, want in cases:
        for mode in (["-r", d + "/demo.pcap", "-o", "/dev/null"], ["--check-config"]):
            p = subprocess.run([SENSOR, "--http", "127.0.0.1:0"] + mode + args,
                               capture_output=True, text=True, timeout=30)
            what = "%s (%s)" % (name, "check" if mode == ["--check-config"] else "start")
            if p.returncode == 2 and want in p.stderr:
                ok(what + ": " + p.stderr.strip().split("\n")[-1][len("stubwatch: error: "):])
            else:
                bad(what, "exit %d: %s" % (p.returncode, p.stderr.strip()))
    p = subprocess.run([SENSOR, "--http", "127.0.0.1:0", "--check-config"] +
                       tls_args(d + "/srv.pem", d + "/srv.key"),
                       capture_output=True, text=True, timeout=30)
    if p.returncode == 0:
        ok("--check-config accepts the good pair")
    else:
        bad("--check-config of the good pair", "exit %d: %s" % (p.returncode, p.stderr))


def main():
    if shutil.which("openssl") is None:
        bad("openssl", "not installed (make deps)")
        finish("tls")
    d = tempfile.mkdtemp(prefix="stubwatch-tls-")
    try:
        make_pki(d)
        subprocess.run([os.path.join(B, "swgen"), "--demo", "-o", d + "/demo.pcap"],
                       check=True, stdout=subprocess.DEVNULL)
        serve_checks(d)
        start_error_checks(d)
    except subprocess.CalledProcessError as e:
        bad("set-up", "%s: %s" % (" ".join(e.cmd), e.stderr))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish("tls")


main()
