/* engine.h — the per-packet pipeline: decode → L4 → DNS/DHCP/RA/TLS facts →
 * state → detections → events.
 *
 * An engine owns a decoder, its state tables, its detection modules and
 * its packet clock; it never does I/O itself (events go to the output
 * queue). One thread calls every function of one engine. With one worker
 * the program runs one engine on the capture thread; with several, each
 * worker thread runs its own (eng_set_worker, pipeline/workers.h) and emits
 * into its own lane of the output. What the pipeline, the state tables and
 * the posture code keep lives in the engine (no static data), and device
 * ids stay unique across engines; the configuration and the rules are only
 * read while packets flow.
 */
#ifndef SW_PIPELINE_ENGINE_H
#define SW_PIPELINE_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"
#include "common/config.h"
#include "output/out.h"

struct engine;

/* Checks the engine's own settings (detect.modules, dhcp.allowed_servers)
 * without building its tables or modules: 0, or -1 and the reason in err. */
int eng_check_config(const struct sw_config *cfg, char *err, size_t errlen);

/* Builds the tables the configuration sizes. `sipkey` is 16 random bytes
 * (NULL: a fixed key). NULL and a message in err on failure. */
struct engine *eng_new(const struct sw_config *cfg, struct out *out,
		       const uint8_t *sipkey, char *err, size_t errlen);
void eng_free(struct engine *e);

/* Engine `index` of `count` in one process: its device ids are index + 1,
 * then every count-th, so no two engines give out the same id. Before the
 * first packet; without it an engine numbers its devices 1, 2, 3... */
void eng_set_id_space(struct engine *e, uint32_t index, uint32_t count);

/* Engine `index` of `count` workers (count >= 2): eng_set_id_space, and
 * the engine keeps only the devices state_shard_of_key gives it (a frame
 * it shares with the others never creates another worker's device). Its
 * housekeeping runs on the clock the reader gives it (eng_advance), and it
 * sends no stats event of its own, periodic or at the end: the reader sums
 * every worker's (eng_stats_event). Before the first packet. */
void eng_set_worker(struct engine *e, uint32_t index, uint32_t count);

/* Packet time moves to ts_us (never back) without a packet; the
 * once-a-second housekeeping runs when due. eng_packet starts with it. */
void eng_advance(struct engine *e, uint64_t ts_us);

/* The capture callback (cap_cb): one frame. */
void eng_packet(void *arg, int link, uint64_t ts_us, uint32_t caplen,
		uint32_t wirelen, const uint8_t *frame);

/* The rules in force (rules/ folder); the engine does not own them, and a
 * reload (SIGHUP) swaps them between packets. Must be set before packets. */
struct rules;
void eng_set_rules(struct engine *e, const struct rules *r);

/* The interface the next packets come from (live capture; NULL for
 * files): observer.ingress.interface.name of the events about them. The
 * name must outlive the engine. */
void eng_set_ingress(struct engine *e, const char *iface);

/* Replays: stats events wait for the sinks' threads to deliver every event
 * before them, so their delivery counters (and so the whole output) are
 * the same on every run. */
void eng_set_deterministic(struct engine *e, int on);

/* Adds capture counters (kernel and interface drops) for stats events. */
void eng_set_capture_stats(struct engine *e, const struct cap_stats *st);

/* The capture counters of live source i (< CONF_MAX_LIST) under its name
 * (copied; the stats event at exit comes after the sources close); with
 * several sources the stats event
 * lists each one (stubwatch.stats.capture.interfaces) beside the totals. */
void eng_set_iface_stats(struct engine *e, unsigned i, const char *name,
			 const struct cap_stats *st);

/* Emits a stubwatch.stats event now (SIGUSR1, periodic, exit): this
 * engine's counters (eng_emit_stats_of with one engine). */
void eng_emit_stats(struct engine *e, const char *reason);

/* One stubwatch.stats event for n >= 1 engines: packet, decode, DNS and
 * table counters summed over them (with n > 1 also each engine's own under
 * `workers`); the capture counters, the detection modules' counters and
 * the output's are es[0]'s (the modules' are not summed yet). Calls out of
 * the engines' threads must not overlap their packets. */
void eng_emit_stats_of(struct engine *const *es, size_t n, const char *reason);

/* eng_emit_stats_of in two steps, for workers whose output goes through
 * lanes: eng_stats_event builds the event from the engines (while none of
 * them runs a packet; the caller owns the result), eng_stats_send adds the
 * counters of `out` and emits the event there (out's producer thread);
 * final: the last of the run, which counts itself (after out_settle).
 * The jansson type stays opaque here. */
void *eng_stats_event(struct engine *const *es, size_t n, const char *reason);
void eng_stats_send(void *event, struct out *out, int final);

/* End of input: times out every outstanding query, emits the final device
 * events, waits until the sinks have taken them (and replayed their
 * spools; out_settle, within the stop deadline), then the last stats
 * event, which counts itself: the state the run ends in (in a worker,
 * no stats: the workers' set writes them). */
void eng_finish(struct engine *e);

/* Prints the readable per-device table of this engine's devices (the
 * one-capture use). */
void eng_print_summary(struct engine *e, FILE *f);
/* The same table over n engines' devices (workers), by device id. */
void eng_print_summary_of(struct engine *const *es, size_t n, FILE *f);


#endif
