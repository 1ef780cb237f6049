/* out.h — event delivery: a bounded queue between capture and one output
 * thread, and the sinks that thread feeds.
 *
 * The capture thread builds each event as one JSON line (output/event.c) and
 * hands it to out_emit(). Capture never blocks on a sink: the queue is a
 * fixed ring; when it is full the event is counted as dropped for now (a
 * later spool takes over there). The output thread writes every event to
 * every sink, in order. Sinks implement `struct out_sink_ops`, so Redis and
 * Kafka plug into the same queue.
 */
#ifndef SW_OUTPUT_OUT_H
#define SW_OUTPUT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Event datasets; the sinks route by it (streams, topics). */
enum out_dataset {
	OUT_DS_ALERT = 0,
	OUT_DS_DEVICE,
	OUT_DS_DNS,
	OUT_DS_STATS,
	OUT_DS_TLS,
	OUT_DS_MAX
};

/* One queued event. The JSON text is owned by the queue once emitted. */
struct out_event {
	uint8_t dataset;     /* enum out_dataset */
	char key[40];        /* device key (MAC or IP text); routing key for sinks */
	char *json;          /* one JSON object, no trailing newline, malloc'd */
	size_t len;
};

struct out_sink;

struct out_sink_ops {
	const char *kind;    /* "file", "redis", "kafka" */
	/* Delivers a batch in order; returns the number delivered (the rest are
	 * offered again). Called from the output thread only. */
	size_t (*write)(struct out_sink *s, const struct out_event *ev, size_t n);
	int (*flush)(struct out_sink *s);
	int (*reopen)(struct out_sink *s);  /* SIGHUP: logrotate */
	void (*close)(struct out_sink *s);
};

/* Counters: `delivered` is kept by the queue (events a sink's write accepted);
 * `errors` (failed writes, reconnects) and `dropped` (events the sink accepted
 * but then lost, e.g. a failed write(2)) by the sink itself, from the output
 * thread. The queue also adds to `dropped` what it gives up offering to a
 * sink that stays stuck while out_stop drains. Read them from other threads
 * through out_get_sink_stats(), not through the struct. */
struct out_sink {
	const struct out_sink_ops *ops;
	char name[64];       /* e.g. "file:/var/log/x.json" */
	void *priv;
	uint64_t delivered;
	uint64_t errors;
	uint64_t dropped;
};

struct out;

/* Sinks one queue feeds: -o is repeatable; a file, Redis and Kafka sink and a
 * few more files is the most a deployment has asked for. */
#define OUT_MAX_SINKS 8

/* Events the output thread hands each sink per write call: enough to
 * amortise a wake-up, a Redis pipeline or a write(2) (256 × ~400 B ≈ 100 KB),
 * small enough that one batch is a fraction of a millisecond of work. */
#define OUT_BATCH 256

/* Creates the queue (capacity events) and starts no thread yet. */
struct out *out_new(uint32_t capacity);

/* Blocking mode (replays): out_emit() waits for room instead of dropping,
 * because a file being read loses nothing by waiting. Live capture keeps the
 * default, non-blocking. Call before out_start(). */
void out_set_blocking(struct out *o, int block);

/* Adds a sink before out_start(). The queue owns it afterwards. */
int out_add_sink(struct out *o, struct out_sink *s);

/* Opens a file sink: path, or "-" for stdout. NULL and a message in err on
 * failure. */
struct out_sink *out_file_sink(const char *path, char *err, size_t errlen);

/* Starts the output thread. */
int out_start(struct out *o);

/* Queues one event; takes ownership of json (malloc'd). Never blocks: when
 * the queue is full the event is freed and counted as dropped. Returns 0 or
 * SW_EFULL. Capture thread only. (In blocking mode, once started, it waits
 * for room instead. A bad dataset or NULL json: SW_EINVAL, json freed.) */
int out_emit(struct out *o, int dataset, const char *key, char *json, size_t len);

/* Asks the output thread to reopen sinks (SIGHUP). Async-signal-safe. */
void out_request_reopen(struct out *o);

/* Waits until every event emitted so far has been offered to every sink and
 * the sinks flushed (SIGUSR1 stats, tests). Producer thread only; returns at
 * once when the thread is not started. */
void out_drain(struct out *o);

/* Drains the queue into every sink, flushes, joins the thread, closes the
 * sinks and frees everything. */
void out_stop(struct out *o);

/* Counters for stubwatch.stats. emitted[] counts every event offered to
 * out_emit, queued or dropped; safe to read from any thread. */
struct out_stats {
	uint64_t emitted[OUT_DS_MAX];
	uint64_t queue_dropped;
	uint32_t queue_depth;
	uint32_t queue_capacity;
};
void out_get_stats(struct out *o, struct out_stats *st);
/* Number of sinks and one sink's counters (for stats). */
size_t out_sink_count(struct out *o);
const struct out_sink *out_sink_at(struct out *o, size_t i);

/* A consistent copy of sink i's counters, safe from any thread while the
 * output thread runs (it refreshes the copy after every batch). Returns 0 or
 * SW_EINVAL for a bad index. */
struct out_sink_stats {
	char name[64];
	uint64_t delivered;
	uint64_t errors;
	uint64_t dropped;
};
int out_get_sink_stats(struct out *o, size_t i, struct out_sink_stats *st);

#endif
