#!/usr/bin/env python3
"""make bench: throughput and memory of stubwatch against a libpcap floor.

Generates captures with the project's generator (once, cached) and, on each,
alternates runs of the floor (libpcap read only) and of stubwatch:
- "dns": DNS-heavy (swgen --bench: 2000 devices, 99 % DNS); the whole sensor
  (every detection family on, device events on, output to a file) and the
  same binary with detect.modules empty (resolver assignment and stub
  hygiene only), with medians of packets/s, the ratios to the floor and
  between the two, and stubwatch's peak RSS; a second capture of half the
  length shows whether memory grows with the file's length.
- "tls": the same network with a realistic share of short HTTPS and QUIC
  flows beside the DNS (--web 1 --web-bulk 0: one session a device a
  minute, handshakes and a request), the same two runs.
- "mirror": a mirror port's mix (400 devices, --web 10: most packets 1.2-1.4
  kB HTTPS/QUIC data, about 1 % DNS), every detection with and without the
  live filter applied to the file (-f live): the share of packets the filter
  passes, packets/s and Gbit/s of the file.
- "custom" (not in the default list): the DNS-heavy capture with every
  detection, with the shipped rules (no operator rule enabled), with 500
  operator rules of which none fire and with the same 500 of which three
  fire (contrib/bench/custom_rules.py), alternating.
- "workers": the DNS-heavy capture with every detection and 1, 2 and 4
  worker threads (BENCH_WORKERS), alternating: medians of packets/s, the
  ratios to one worker, peak RSS, the CPU time a packet over all threads,
  and the reader thread's share of it (the sensor logs each thread's at
  the end).
BENCH_CAPTURES (default "dns,tls,mirror,workers") picks which.

BENCH_FAMILIES=1 also runs each detection family alone (detect.modules=
one name), alternating with the others, and reports what each adds to
hygiene only: the way to see which family a change should go after.
"""
import json
import os
import statistics
import subprocess
import sys
import time

B = os.environ.get("B", "build")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PACKETS = int(os.environ.get("BENCH_PACKETS", "2000000"))
FAMILIES = os.environ.get("BENCH_FAMILIES", "") not in ("", "0")
# The detection families (detect/modules.c), each run alone with BENCH_FAMILIES.
FAMILY_NAMES = ("behaviour", "integrity", "encrypted")


CAPTURES = os.environ.get("BENCH_CAPTURES", "dns,tls,mirror,workers").split(",")
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",")]
MIRROR_PACKETS = int(os.environ.get("BENCH_MIRROR_PACKETS", "1000000"))
# How each capture is generated (swgen arguments).
GEN_ARGS = {
    "dns": ["--bench"],
    "tls": ["--bench", "--web", "1", "--web-bulk", "0"],
    "mirror": ["--devices", "400", "--web", "10"],
}


def gen(path, packets, kind="dns"):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    t = time.monotonic()
    subprocess.run([os.path.join(B, "swgen")] + GEN_ARGS[kind] + ["--packets", str(packets),
                                                                 "-o", path], check=True)
    print("generated %s (%d packets) in %.1f s" % (path, packets, time.monotonic() - t))


def run_ru(cmd, want_err=False):
    """Wall seconds and the resource usage of one run (and its stderr)."""
    t = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Read stderr before waiting: a chatty run must not block on a full pipe.
    err = proc.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(proc.pid, 0)
    secs = time.monotonic() - t
    proc.stderr.close()
    if status != 0:
        sys.exit("bench: %s failed (status %d): %s" % (cmd[0], status, err))
    if want_err:
        return secs, ru, err
    return secs, ru


def run_rss(cmd, want_err=False):
    if want_err:
        secs, ru, err = run_ru(cmd, True)
        return secs, ru.ru_maxrss, err, ru.ru_utime + ru.ru_stime
    secs, ru = run_ru(cmd)
    return secs, ru.ru_maxrss


def bench_workers():
    """Every detection with 1, 2, 4 workers on the DNS-heavy capture."""
    pcap = os.path.join(B, "bench-%d.pcap" % PACKETS)
    gen(pcap, PACKETS, "dns")
    events = os.path.join(B, "bench-events.json")
    base = [os.path.join(B, "stubwatch"), "-v", "-r", pcap, "-o", "file:" + events]
    run_rss([os.path.join(B, "pcapfloor"), pcap])
    rates = {n: [] for n in WORKERS}
    rss = {n: [] for n in WORKERS}
    reader = {n: [] for n in WORKERS}
    cpu = {n: [] for n in WORKERS}
    for _ in range(RUNS):
        for n in WORKERS:
            if os.path.exists(events):
                os.unlink(events)
            os.sync()
            s, r, err, c = run_rss(base + ["--workers", str(n)], want_err=True)
            rates[n].append(PACKETS / s)
            cpu[n].append(c)
            rss[n].append(r)
            for line in err.splitlines():
                # "CPU time: reader R s, workers W1 W2 ..." (n >= 2 only)
                if "CPU time: reader" in line:
                    parts = line.split("CPU time: reader", 1)[1].split()
                    total = float(parts[0]) + sum(float(x) for x in parts[3:])
                    reader[n].append(float(parts[0]) / total if total else 0)
    if os.path.exists(events):
        os.unlink(events)
    one = statistics.median(rates[WORKERS[0]])
    print("capture:            %s, %d packets (--bench), every detection" % (pcap, PACKETS))
    print("runs:               %d of each, alternating (medians below)" % RUNS)
    for n in WORKERS:
        m = statistics.median(rates[n])
        share = (", reader thread %.0f %% of the CPU time" % (100 * statistics.median(reader[n]))
                 if reader[n] else "")
        print("--workers %-2d        %.2f Mpkt/s  (min %.2f, max %.2f)  x%.2f of --workers %d, "
              "peak RSS %.1f MiB%s" % (n, m / 1e6, min(rates[n]) / 1e6, max(rates[n]) / 1e6,
                                       m / one, WORKERS[0], statistics.median(rss[n]) / 1024,
                                       share))
        # CPU time a packet, all threads: what sharding costs, which a
        # busy machine's wall clock hides.
        print("                    %.0f ns of CPU a packet (all threads)" %
              (1e9 * statistics.median(cpu[n]) / PACKETS))
    print("online CPUs:        %d" % os.cpu_count())
    print()


def bench_hygiene(kind):
    """Every detection against hygiene only (and the floor) on one capture."""
    tag = "" if kind == "dns" else kind + "-"
    pcap = os.path.join(B, "bench-%s%d.pcap" % (tag, PACKETS))
    half = os.path.join(B, "bench-%s%d.pcap" % (tag, PACKETS // 2))
    gen(pcap, PACKETS, kind)
    gen(half, PACKETS // 2, kind)
    events = os.path.join(B, "bench-events.json")
    sensor = [os.path.join(B, "stubwatch"), "-q", "-r", pcap, "-o", "file:" + events]
    hygiene = sensor + ["-s", "detect.modules="]
    floor = [os.path.join(B, "pcapfloor"), pcap]

    families = [(name, sensor + ["-s", "detect.modules=" + name], [])
                for name in (FAMILY_NAMES if FAMILIES else ())]

    # Warm the page cache so every run reads from memory.
    run_rss(floor)
    fl, sw, hy, rss = [], [], [], []
    for _ in range(RUNS):
        runs = [(floor, fl), (hygiene, hy), (sensor, sw)] + [(c, o) for _, c, o in families]
        for cmd, out in runs:
            if os.path.exists(events):
                os.unlink(events)
            # The previous run's events (tens of MB) are written back
            # now, not during the next timed run.
            os.sync()
            s, r = run_rss(cmd)
            out.append(PACKETS / s)
            if cmd is sensor:
                rss.append(r)
    if os.path.exists(events):
        os.unlink(events)
    _, rss_half = run_rss([os.path.join(B, "stubwatch"), "-q", "-r", half, "-o", "file:" + events])
    os.unlink(events)

    fm, sm, hm = statistics.median(fl), statistics.median(sw), statistics.median(hy)
    print("capture:            %s, %d packets (%s)" % (pcap, PACKETS, " ".join(GEN_ARGS[kind])))
    print("runs:               %d of each, alternating (medians below)" % RUNS)
    print("libpcap floor:      %.2f Mpkt/s" % (fm / 1e6))
    print("hygiene only:       %.2f Mpkt/s  (min %.2f, max %.2f)  ratio to floor %.2f" %
          (hm / 1e6, min(hy) / 1e6, max(hy) / 1e6, hm / fm))
    print("every detection:    %.2f Mpkt/s  (min %.2f, max %.2f)  ratio to floor %.2f" %
          (sm / 1e6, min(sw) / 1e6, max(sw) / 1e6, sm / fm))
    print("families' cost:     every detection runs at %.2f of hygiene only" % (sm / hm))
    for name, _, out in families:
        fm_ = statistics.median(out)
        print("  %-17s %.2f Mpkt/s alone, adds %.3f s to hygiene only's %.3f s" %
              (name + ":", fm_ / 1e6, PACKETS / fm_ - PACKETS / hm, PACKETS / hm))
    print("peak RSS:           %.1f MiB (%d packets), %.1f MiB (%d packets)" %
          (statistics.median(rss) / 1024, PACKETS, rss_half / 1024, PACKETS // 2))
    print()


def run_cpu(cmd):
    """Wall and CPU (user + system) seconds of one run."""
    secs, ru = run_ru(cmd)
    return secs, ru.ru_utime + ru.ru_stime


def bench_custom():
    """Every detection with no operator rules and with BENCH_CUSTOM_RULES (500).

    CPU seconds as well as packets/s: on a loaded machine the CPU time of
    each run moves less than its wall time."""
    n = int(os.environ.get("BENCH_CUSTOM_RULES", "500"))
    pcap = os.path.join(B, "bench-%d.pcap" % PACKETS)
    gen(pcap, PACKETS, "dns")
    quiet = os.path.join(B, "bench-rules-%d" % n)
    hits = os.path.join(B, "bench-rules-%d-hits" % n)
    for d, extra in ((quiet, []), (hits, ["--hits"])):
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "custom_rules.py"),
                        "rules", d, str(n)] + extra, check=True)
    events = os.path.join(B, "bench-events.json")
    sensor = [os.path.join(B, "stubwatch"), "-q", "-r", pcap, "-o", "file:" + events]
    arms = [("no operator rules", sensor + ["--rules", "rules"], [], []),
            ("%d, none fire" % n, sensor + ["--rules", quiet], [], []),
            ("%d, 3 fire" % n, sensor + ["--rules", hits], [], [])]
    run_cpu(arms[0][1])
    for _ in range(RUNS):
        for _, cmd, wall, cpu in arms:
            if os.path.exists(events):
                os.unlink(events)
            os.sync()
            w, c = run_cpu(cmd)
            wall.append(PACKETS / w)
            cpu.append(c)
    os.unlink(events)
    print("capture:            %s, %d packets, every detection" % (pcap, PACKETS))
    print("runs:               %d of each, alternating (medians below)" % RUNS)
    for name, _, wall, cpu in arms:
        print("%-19s %.2f Mpkt/s (min %.2f, max %.2f), %.3f CPU s (min %.3f, max %.3f)" %
              (name + ":", statistics.median(wall) / 1e6, min(wall) / 1e6, max(wall) / 1e6,
               statistics.median(cpu), min(cpu), max(cpu)))
    a = arms[0]
    for name, _, wall, cpu in arms[1:]:
        print("%-19s packets/s %.3f, CPU time %.3f of no operator rules" %
              (name + ":", statistics.median(wall) / statistics.median(a[2]),
               statistics.median(cpu) / statistics.median(a[3])))
    print()


def file_bytes(pcap):
    """Wire bytes of the packets in a classic pcap file (the orig_len fields)."""
    total = 0
    with open(pcap, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return total
            incl = int.from_bytes(h[8:12], "little")
            total += int.from_bytes(h[12:16], "little")
            f.seek(incl, 1)


def bench_mirror():
    """A mirror port's mix, every detection, with and without the live filter."""
    pcap = os.path.join(B, "bench-mirror-%d.pcap" % MIRROR_PACKETS)
    gen(pcap, MIRROR_PACKETS, "mirror")
    events = os.path.join(B, "bench-events.json")
    stats = os.path.join(B, "bench-stats.json")
    base = [os.path.join(B, "stubwatch"), "-q", "-r", pcap, "-o", "file:" + events]
    filtered = base + ["-f", "live"]
    floor = [os.path.join(B, "pcapfloor"), pcap]
    run_rss(floor)
    fl, un, fi = [], [], []
    for _ in range(RUNS):
        for cmd, out in ((floor, fl), (base, un), (filtered, fi)):
            if os.path.exists(events):
                os.unlink(events)
            os.sync()
            s, _ = run_rss(cmd)
            out.append(s)
    # How many packets the filter passed: the exit stats of one more run.
    subprocess.run(filtered[:3] + [pcap, "-f", "live", "-o", "file:" + stats], check=True)
    passed = None
    with open(stats) as f:
        for line in f:
            if '"stubwatch.stats"' in line:
                passed = json.loads(line)["stubwatch"]["stats"]["packets"]
    for p in (events, stats):
        if os.path.exists(p):
            os.unlink(p)
    wire = file_bytes(pcap)
    fm, um, fim = statistics.median(fl), statistics.median(un), statistics.median(fi)
    print("capture:            %s, %d packets, %.2f GB on the wire (%s)" %
          (pcap, MIRROR_PACKETS, wire / 1e9, " ".join(GEN_ARGS["mirror"])))
    print("runs:               %d of each, alternating (medians below)" % RUNS)
    print("live filter passes: %d of %d packets (%.1f %%)" %
          (passed, MIRROR_PACKETS, 100.0 * passed / MIRROR_PACKETS))
    for name, m in (("libpcap floor:", fm), ("every detection:", um),
                    ("with -f live:", fim)):
        print("%-19s %.2f Mpkt/s, %.2f Gbit/s of the file" %
              (name, MIRROR_PACKETS / m / 1e6, wire * 8 / m / 1e9))
    print()


def main():
    for kind in CAPTURES:
        if kind == "mirror":
            bench_mirror()
        elif kind == "custom":
            bench_custom()
        elif kind == "workers":
            bench_workers()
        elif kind in GEN_ARGS:
            bench_hygiene(kind)
        else:
            sys.exit("bench: unknown capture '%s' in BENCH_CAPTURES (dns, tls, mirror, workers, custom)" % kind)

if __name__ == "__main__":
    main()
