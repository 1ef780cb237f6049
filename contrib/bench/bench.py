#!/usr/bin/env python3
"""make bench: throughput and memory of stubwatch against a libpcap floor.

Generates a DNS-heavy capture with the project's generator (once, cached),
then alternates runs of the floor (libpcap read only) and of stubwatch
(device events on, output to a file) on the same file, and reports medians:
packets/s of each, their ratio, and stubwatch's peak RSS. A second capture of
half the length shows whether memory grows with the file's length.
"""
import os
import statistics
import subprocess
import sys
import time

B = os.environ.get("B", "build")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PACKETS = int(os.environ.get("BENCH_PACKETS", "2000000"))


def gen(path, packets):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    t = time.monotonic()
    subprocess.run([os.path.join(B, "swgen"), "--bench", "--packets", str(packets), "-o", path],
                   check=True)
    print("generated %s (%d packets) in %.1f s" % (path, packets, time.monotonic() - t))


def run_rss(cmd):
    t = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    secs = time.monotonic() - t
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if status != 0:
        sys.exit("bench: %s failed (status %d): %s" % (cmd[0], status, err))
    return secs, ru.ru_maxrss


def main():
    pcap = os.path.join(B, "bench-%d.pcap" % PACKETS)
    half = os.path.join(B, "bench-%d.pcap" % (PACKETS // 2))
    gen(pcap, PACKETS)
    gen(half, PACKETS // 2)
    events = os.path.join(B, "bench-events.json")
    sensor = [os.path.join(B, "stubwatch"), "-q", "-r", pcap, "-o", "file:" + events]
    floor = [os.path.join(B, "pcapfloor"), pcap]

    # Warm the page cache so both read from memory.
    run_rss(floor)
    fl, sw, rss = [], [], []
    for _ in range(RUNS):
        if os.path.exists(events):
            os.unlink(events)
        s, _ = run_rss(floor)
        fl.append(PACKETS / s)
        s, r = run_rss(sensor)
        sw.append(PACKETS / s)
        rss.append(r)
    if os.path.exists(events):
        os.unlink(events)
    _, rss_half = run_rss([os.path.join(B, "stubwatch"), "-q", "-r", half, "-o", "file:" + events])
    os.unlink(events)

    fm, sm = statistics.median(fl), statistics.median(sw)
    print("capture:            %s, %d packets" % (pcap, PACKETS))
    print("runs:               %d (medians below)" % RUNS)
    print("libpcap floor:      %.2f Mpkt/s" % (fm / 1e6))
    print("stubwatch:          %.2f Mpkt/s  (min %.2f, max %.2f)" % (sm / 1e6, min(sw) / 1e6, max(sw) / 1e6))
    print("ratio to floor:     %.2f" % (sm / fm))
    print("peak RSS:           %.1f MiB (%d packets), %.1f MiB (%d packets)" %
          (statistics.median(rss) / 1024, PACKETS, rss_half / 1024, PACKETS // 2))


if __name__ == "__main__":
    main()
