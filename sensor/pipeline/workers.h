/* workers.h — device-sharded workers: one reader thread hands each frame to
 * the worker that owns its device, each worker runs its own engine.
 *
 * The reader (the thread that calls wk_packet: the capture loop) decodes
 * just enough of a frame to name its device — the side of the frame that is
 * not the resolver or the server: a DNS query's sender, a response's
 * receiver, the client of a TLS or QUIC flow, a DHCP client's chaddr — and
 * copies it into that worker's ring (a bounded single-producer,
 * single-consumer byte ring). Frames that tell every worker something about
 * the network (DHCP, DHCPv6, RA, ARP, ND) go to every worker; only the one
 * that owns the frame's device emits events for it, the others just learn
 * what the segment offers and who has which address. Each worker runs its
 * engine's packets, its housekeeping on the reader's clock (the reader sends
 * a tick to every worker once per second of packet time, when one engine
 * would have run it), rule changes and the end of input, in the order the
 * reader numbered them, and emits into its own lane of the output; one
 * merge stage feeds the queue (output/out.h).
 *
 * Replays wait when a ring is full and merge the lanes in the reader's
 * order, so a replay's output is the same on every run; live capture drops
 * a frame whose worker's ring is full (counted per worker in
 * stubwatch.stats) and merges the lanes as events come.
 *
 * Threads: every function here is the reader's (the thread that made the
 * set), but the stats, rule and finish calls wait for every worker to get
 * through what it was given first, so no engine is read while it runs.
 */
#ifndef SW_PIPELINE_WORKERS_H
#define SW_PIPELINE_WORKERS_H

#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"
#include "common/config.h"
#include "output/out.h"

struct wk_set;
struct rules;

/* The workers capture.workers asks for. 0 (the default) is the online
 * CPUs for live capture, and one for a replay: a replay then gives the
 * single engine's output, event for event in its order, unless workers are
 * asked for; with them its events are the same set, in an order that is
 * the same on every run but not the single engine's. */
unsigned wk_count(const struct sw_config *cfg, int live);

/* n >= 2 workers with engines built as eng_new would (sipkey: 16 random
 * bytes), their lanes into `out`, rules r. `replay`: rings and lanes wait
 * instead of dropping, lanes merged in order, deterministic stats. NULL
 * and a message in err on failure. No thread runs before wk_start. */
struct wk_set *wk_new(const struct sw_config *cfg, struct out *out, unsigned n,
		      const uint8_t *sipkey, const struct rules *r, int replay,
		      char *err, size_t errlen);
/* Starts the merge thread and the workers (after out_start). 0 or -1. */
int wk_start(struct wk_set *w);

/* The capture callback (cap_cb) of the reader. */
void wk_packet(void *arg, int link, uint64_t ts_us, uint32_t caplen,
	       uint32_t wirelen, const uint8_t *frame);

/* After a batch of wk_packet calls: wakes the workers that sleep with
 * frames waiting. */
void wk_flush(struct wk_set *w);

/* Every worker takes the rules r between two packets; returns once all
 * have, so the caller may free the old ones. */
void wk_set_rules(struct wk_set *w, const struct rules *r);

/* Capture counters (kernel and interface drops) for stats events. */
void wk_set_capture_stats(struct wk_set *w, const struct cap_stats *st);

/* A stubwatch.stats event now (SIGUSR1), summed over the workers with each
 * worker's own counters. */
void wk_emit_stats(struct wk_set *w, const char *reason);

/* End of input: every worker times out its queries and emits its devices'
 * final events, then the exit stats; returns when all of it is in the
 * queue and every thread but the sinks' has ended. */
void wk_finish(struct wk_set *w);

/* The per-device table over every worker's devices (after wk_finish). */
void wk_print_summary(struct wk_set *w, FILE *f);

void wk_free(struct wk_set *w);

#endif
