#!/usr/bin/env python3
"""make bench: throughput and memory of stubwatch against a libpcap floor.

Generates a DNS-heavy capture with the project's generator (once, cached),
then alternates runs of the floor (libpcap read only) and of two stubwatch
builds of the work on the same file: the whole sensor (every detection
family on, device events on, output to a file), and the same binary with
detect.modules empty (resolver assignment and stub hygiene only). It reports
medians of packets/s, the ratios to the floor and between the two, and
stubwatch's peak RSS. A second capture of half the length shows whether
memory grows with the file's length.

BENCH_FAMILIES=1 also runs each detection family alone (detect.modules=
one name), alternating with the others, and reports what each adds to
hygiene only: the way to see which family a change should go after.
"""
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
    print("capture:            %s, %d packets" % (pcap, PACKETS))
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

if __name__ == "__main__":
    main()
