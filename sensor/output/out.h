/* out.h — event delivery: a bounded queue between the capture thread and
 * the sinks, each sink fed by a thread of its own, plus one spooler thread.
 *
 * The capture thread (the queue's one producer) builds each event as one JSON line (output/event.c) and
 * hands it to out_emit(). Capture never blocks on a sink: the queue is a
 * fixed ring that every sink reads with its own cursor, from its own thread,
 * so a slow sink never holds back the others. A sink that is down, or falls
 * too far behind, has its events written to its own spool on disk (one spool
 * per sink) and replayed, in order, when it returns; only a full spool (or a
 * full ring, when even the spool cannot keep up) drops events, and every drop
 * is counted. Sinks implement `struct out_sink_ops`; file, Redis and Kafka
 * plug into the same queue.
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
struct out_lane;
struct sw_config;

struct out_sink_ops {
	const char *kind;    /* "file", "redis", "kafka" */
	/* Delivers a batch in order; returns how many of the first events were
	 * delivered. Fewer than n means the sink is down or stuck: the rest are
	 * spooled (or, for a sink without a spool, offered again after a
	 * back-off). Called from the sink's own thread only. */
	size_t (*write)(struct out_sink *s, const struct out_event *ev, size_t n);
	int (*flush)(struct out_sink *s);
	int (*reopen)(struct out_sink *s);  /* SIGHUP: logrotate */
	/* Flushes what it can until deadline_ms (CLOCK_MONOTONIC milliseconds,
	 * see out_now_ms), hands anything it still holds back with
	 * out_sink_requeue(), and frees the sink. */
	void (*close)(struct out_sink *s, uint64_t deadline_ms);
	/* Set when the sink counts `delivered` itself (Kafka: on delivery
	 * reports, not when librdkafka takes a message). */
	int counts_delivered;
};

/* Counters: `delivered` is kept by the queue (events a sink's write accepted)
 * unless ops->counts_delivered; `errors` (failed writes, reconnect attempts),
 * `dropped` (events the sink accepted but then lost, e.g. a failed write(2))
 * and `reconnects` (connections re-established) by the sink itself, from its
 * thread. Read them from other threads through out_get_sink_stats(). */
struct out_sink {
	const struct out_sink_ops *ops;
	char name[64];       /* e.g. "file:/var/log/x.json"; never a password */
	void *priv;
	uint64_t delivered;
	uint64_t errors;
	uint64_t dropped;
	uint64_t reconnects;
	/* Set by out_sink_open from the configuration; an empty spool_dir means
	 * the sink has no spool (events it refuses are offered again). */
	char spool_id[96];       /* this sink's folder under spool_dir */
	char spool_dir[256];
	uint64_t spool_max;      /* bytes */
	uint64_t spool_segment;  /* bytes */
	uint64_t stop_deadline_ms;
	int follow_symlinks;     /* output.follow_symlinks: the spool's files too */
	struct out_lane *lane;   /* set by out_add_sink */
};

struct out;

/* Sinks one queue feeds: -o is repeatable; a file, Redis and Kafka sink and a
 * few more files is the most a deployment has asked for. */
#define OUT_MAX_SINKS 8

/* Events a sink's thread hands it per write call: enough to
 * amortise a wake-up, a Redis pipeline or a write(2) (256 × ~400 B ≈ 100 KB),
 * small enough that one batch is a fraction of a millisecond of work. */
#define OUT_BATCH 256

/* Creates the queue (capacity events) and starts no thread yet. */
struct out *out_new(uint32_t capacity);

/* Blocking mode (replays): out_emit() waits for room instead of dropping,
 * because a file being read loses nothing by waiting. Live capture keeps the
 * default, non-blocking. Call before out_start(). */
void out_set_blocking(struct out *o, int block);

/* Adds a sink before out_start() and opens its spool. The queue owns it
 * afterwards. SW_EFULL (too many sinks) or SW_EIO (its spool cannot be
 * opened, said with log_err): the caller still owns the sink. */
int out_add_sink(struct out *o, struct out_sink *s);

/* Opens a file sink: path, or "-" for stdout. The file is appended to, or
 * created with mode 0640 whatever the umask; a symbolic link is refused
 * (also when SIGHUP opens it again) unless follow_symlinks. NULL and a
 * message in err on failure. out_file_sink does not follow links. */
struct out_sink *out_file_sink(const char *path, char *err, size_t errlen);
struct out_sink *out_file_sink_follow(const char *path, int follow_symlinks, char *err,
				      size_t errlen);

/* What out_file_sink_follow refuses before it creates anything (a
 * symbolic link, unless follow_symlinks), for --check-config: 0, or -1 and
 * the message a start gives in err. */
int out_file_check(const char *path, int follow_symlinks, char *err, size_t errlen);

/* Opens a sink from its -o text: "file:PATH", "PATH", "-", "redis://...",
 * "unix://..." or "kafka://broker[,broker]/prefix", with the sink's settings
 * and its spool (spool.*) from cfg. A Redis or Kafka server that cannot be
 * reached is not an error (the sink spools and connects later); a bad URL or
 * option is: NULL and a message naming what to fix in err. */
struct out_sink *out_sink_open(const char *spec, const struct sw_config *cfg,
			       char *err, size_t errlen);

/* Gives events back to the queue from inside a sink (Kafka: messages still
 * in librdkafka when it closes). They go to the front of the sink's spool,
 * ahead of everything spooled so far, in the order given; without a spool
 * they are counted as dropped. Sink's own thread (or close) only. */
void out_sink_requeue(struct out_sink *s, const struct out_event *ev, size_t n);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t out_now_ms(void);

/* Starts a thread per sink and the spooler thread. */
int out_start(struct out *o);

/* Queues one event; takes ownership of json (malloc'd). Never blocks: when
 * the queue is full the event is freed and counted as dropped. Returns 0 or
 * SW_EFULL. Capture thread only. (In blocking mode, once started, it waits
 * for room instead. A bad dataset or NULL json: SW_EINVAL, json freed.) */
int out_emit(struct out *o, int dataset, const char *key, char *json, size_t len);

/* Asks every sink's thread to reopen its sink (SIGHUP). Async-signal-safe. */
void out_request_reopen(struct out *o);

/* Waits until every event emitted so far has been offered to every sink and
 * the sinks flushed (SIGUSR1 stats, tests). Producer thread only; returns at
 * once when the thread is not started. */
void out_drain(struct out *o);

/* Before the last events of a run (the exit stats): waits until every
 * event emitted so far has been delivered to each sink that is up — with
 * its spool's backlog, replayed — and spooled (or dropped) for each that
 * is down, so counters read afterwards are final. Bounded by the stop
 * deadline out_stop would give, which out_stop then shares (with a short
 * grace for what is emitted after). Producer thread only; returns at once
 * when the threads are not started. */
void out_settle(struct out *o);

/* Where an event emitted now would end at sink i, as its lane stands (read
 * after out_settle, so the exit stats can count itself): OUT_FATE_DELIVER
 * (the sink is up and has no backlog), OUT_FATE_SPOOL (down or replaying,
 * with room in its spool) or OUT_FATE_DROP (down without a spool, or its
 * spool full or failing). */
enum out_fate { OUT_FATE_DELIVER, OUT_FATE_SPOOL, OUT_FATE_DROP };
int out_sink_fate(struct out *o, size_t i);

/* Delivers what is queued to every sink that is up, within the largest
 * stop deadline of the sinks (output.stop_deadline; 10 s without one;
 * shared with out_settle when it ran), spools what is left for each sink
 * (its next start replays it first), joins the threads, closes the sinks
 * and frees everything. */
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
 * sink's thread runs (it refreshes the copy after every batch). Returns 0 or
 * SW_EINVAL for a bad index. */
struct out_sink_stats {
	char name[64];
	uint64_t delivered;   /* events the sink took, live or from the spool */
	uint64_t errors;      /* failed writes, failed connection attempts */
	uint64_t dropped;     /* lost: spool full, or the sink lost them */
	uint64_t spooled;     /* events written to the sink's spool */
	uint64_t replayed;    /* events delivered from the spool (in delivered) */
	uint64_t reconnects;  /* connections re-established after a failure */
	uint64_t spool_bytes; /* bytes in the sink's spool now */
};
int out_get_sink_stats(struct out *o, size_t i, struct out_sink_stats *st);

/* ---- several producers: lanes and their merge (merge.c) --------------
 *
 * Each worker emits into a lane of its own, a `struct out` that out_emit
 * (and so every ev_emit and alert) fills like the queue; one merge thread
 * moves the lanes' events into the queue, which keeps its one producer.
 * Events carry the stamp their lane was given (out_lane_stamp: the
 * sequence number of the message being processed). Ordered (replays), the
 * merge takes them by (stamp, lane) once every lane's watermark allows it
 * (see merge.c), so the output is the same on every run; unordered (live
 * capture), as they come, each lane in its own order. A full lane waits
 * in blocking mode (replays) and drops, counted, otherwise. */
struct out_merge;
struct out_mlane;

/* n lanes of lane_cap events each into dst. NULL: out of memory. */
struct out_merge *out_merge_new(struct out *dst, unsigned nlanes, uint32_t lane_cap,
				int ordered, int blocking);
/* Lane i as the struct out its producer emits into, and its lane handle. */
struct out *out_merge_lane(struct out_merge *m, unsigned i);
struct out_mlane *out_merge_lane_of(struct out_merge *m, unsigned i);
/* Lane i stamps with the sequence being published (out_merge_publish):
 * the reader's own lane. Before out_merge_start. */
void out_merge_lane_reader(struct out_merge *m, unsigned i);
/* Producer side: the stamp of the events that follow; the message with
 * sequence seq is finished (all its events emitted). */
void out_lane_stamp(struct out_mlane *l, uint64_t seq);
void out_lane_done(struct out_mlane *l, uint64_t seq);
/* Reader side: lane l's worker was given message seq (before the worker
 * can see it); every message up to seq was handed out (after). */
void out_lane_given(struct out_mlane *l, uint64_t seq);
void out_merge_publish(struct out_merge *m, uint64_t seq);
/* Queues a call in the lane's order: the merge thread runs fn(arg, dst)
 * when it reaches it (a stats event that must see the queue's counters
 * then). Waits for room rather than drop it. */
int out_lane_call(struct out_mlane *l, void (*fn)(void *arg, struct out *dst), void *arg);
/* Events dropped by lane i because it was full (live capture). */
uint64_t out_merge_dropped(struct out_merge *m, unsigned i);
int out_merge_start(struct out_merge *m);
/* Once every producer has stopped: moves what the lanes still hold into
 * the queue (in order) and ends the merge thread. */
void out_merge_stop(struct out_merge *m);
void out_merge_free(struct out_merge *m);

/* queue.c's side of a lane: a struct out whose out_emit goes to l. */
struct out *out_new_lane(struct out_mlane *l);
void out_free_lane(struct out *o);
struct out_mlane *out_lane_of(struct out *o);
int out_mlane_emit(struct out_mlane *l, int dataset, const char *key, char *json, size_t len);

#endif
