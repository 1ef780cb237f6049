/* queue.c — the event ring between capture and the sinks, one thread per
 * sink, and the spooler that keeps a down or slow sink from holding anyone.
 *
 * The ring has one producer (capture) and one reader per sink. Each sink
 * runs in its own thread ("lane") with its own cursor `pos`, so a slow Redis
 * never delays the file or Kafka: they read ahead on their own. A slot is
 * reused only when every lane is past it: `head` is the smallest lane pin
 * (the start of a lane's write in flight, or its cursor). Whichever lane
 * moves the minimum frees the JSON of the slots left behind.
 *
 * A lane that is down (its last write delivered less than it was offered),
 * or that is replaying its spool, or (live capture only) that lags half the
 * ring behind while the ring is half full, is taken out of the ring by the
 * spooler thread: it appends the lane's pending ring events to the lane's
 * spool and moves the cursor past them, which frees the slots. The lane then
 * delivers from its spool, oldest first, and returns to the ring when the
 * spool is empty. The events a failing write did not deliver go to the
 * *front* of the spool (spool_prepend), so order is kept: in-flight events,
 * then the spool, then the ring. Every lane state change happens under the
 * lane's mutex, which the spooler also takes.
 *
 * Waking: a side with nothing to do raises its `waiting` flag, re-checks,
 * and sleeps; the other side signals only when it sees the flag. Flag and
 * index stores are sequentially consistent, so no wake-up is lost (the
 * Dekker pattern); every sleep is also bounded in time.
 *
 * A sink without a spool (no spool.dir, as for out_file_sink) keeps the
 * first design: what it refuses is offered again after a back-off.
 */
#include "output/out.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "output/spool.h"

/* The reopen flag is set from a signal handler; a lock-free atomic is
 * async-signal-safe (C11 7.14.1.1) and, unlike a volatile sig_atomic_t, is
 * also well-defined when another thread reads it. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free");

/* Keeps the producer's and the consumers' fields on separate cache lines. */
#define OUT_CACHELINE 64

/* How often the spooler looks at the lanes when nobody wakes it (a
 * quarter of this), and the producer's longest sleep for room between
 * re-checks. A SIGHUP is noticed by a lane within OUT_LANE_NAP_MS. */
#define OUT_IDLE_WAIT_MS 200

/* The producer wakes a sleeping lane once this many events wait for it,
 * not for every event: one futex call per 64 events instead of one per
 * event. A lane also wakes on its own after OUT_LANE_NAP_MS, so a quiet
 * sensor's events are at most that late. */
#define OUT_WAKE_BATCH 64
#define OUT_LANE_NAP_MS 10

/* A sink without a spool that accepts nothing is offered the batch again
 * after a back-off doubling from 1 ms to 1 s: quick to resume after a blip,
 * cheap while a server is down. A sink with a spool is retried from the
 * spool on the same schedule, capped at OUT_RETRY_MAX_MS: its own
 * reconnect back-off (Redis: up to 30 s) decides when it really tries. */
#define OUT_BACKOFF_MAX_MS 1000
#define OUT_RETRY_MAX_MS 100

/* Without a configured deadline, out_stop gives the sinks this long: well
 * inside systemd's default 90 s stop timeout. */
#define OUT_STOP_DEADLINE_MS 10000

/* After out_settle used up the deadline, out_stop still gives the sinks
 * this long for the events emitted after it (the exit stats): one batch
 * to a sink that is up takes milliseconds. */
#define OUT_FINAL_GRACE_MS 1000

struct out_lane {
	struct out *o;
	struct out_sink *sink;
	struct spool *spool;           /* NULL: no spool, refused events retried */
	pthread_t thread;
	int thread_started;

	pthread_mutex_t mu;            /* pos, inflight, down, spool */
	uint64_t pos;                  /* next ring event this sink needs */
	uint64_t inflight_lo;          /* [inflight_lo, pos) in a write */
	int inflight;
	int down;                      /* the last write fell short */
	int full_logged;               /* "spool full" said once per episode */
	_Atomic uint64_t pin;          /* lowest ring event this lane still reads */
	_Atomic uint64_t done;         /* all before: delivered and flushed, or spooled */

	pthread_mutex_t smu;           /* only to sleep and wake */
	pthread_cond_t scv;
	atomic_int waiting;

	unsigned backoff_ms;
	int dirty;                     /* delivered since the last flush */
	unsigned reopen_seen;
	struct out_event *rbuf;        /* a batch read back from the spool */

	/* Counters the queue keeps (the sink keeps errors, reconnects and its
	 * own drops in struct out_sink). */
	_Atomic uint64_t delivered, replayed, spooled, dropped;
	pthread_mutex_t stats_mu;      /* guards snap */
	struct out_sink_stats snap;    /* the sink's own counters, copied */
};

struct out {
	/* Producer side. */
	_Alignas(OUT_CACHELINE) _Atomic uint64_t tail; /* next slot to fill */
	_Atomic uint64_t dropped;      /* events dropped because the ring was full */
	_Atomic uint64_t emitted[OUT_DS_MAX];

	/* Reclaim side. */
	_Alignas(OUT_CACHELINE) _Atomic uint64_t head; /* slots before are free */
	pthread_mutex_t free_mu;       /* one reclaimer at a time */

	/* Shared flags. */
	_Alignas(OUT_CACHELINE) atomic_int prod_waiting;
	atomic_int spooler_waiting;
	atomic_int stopping;
	atomic_uint reopen;            /* bumped per request */
	atomic_int spooler_exit;
	uint64_t deadline_ms;          /* set by out_settle or out_stop */

	pthread_mutex_t mu;            /* producer sleeps: ring full, or drain */
	pthread_cond_t cv_room;
	pthread_mutex_t spmu;          /* spooler sleeps */
	pthread_cond_t cv_spool;

	struct out_event *ring;
	uint32_t cap;
	int blocking;
	int started;
	pthread_t spooler;
	struct out_lane lanes[OUT_MAX_SINKS];
	size_t nsinks;
	struct out_mlane *mlane;       /* set: a merge lane, not a queue (merge.c) */
};

/* Relaxed counter bump for a counter with a single writer. */
static void out_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Counter bump for a counter two threads write (the lane and the spooler). */
static void out_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void out_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

uint64_t out_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

struct out *out_new(uint32_t capacity)
{
	struct out *o;

	if (capacity == 0)
		return NULL;
	o = aligned_alloc(OUT_CACHELINE,
			  (sizeof(*o) + OUT_CACHELINE - 1) / OUT_CACHELINE * OUT_CACHELINE);
	if (o == NULL)
		return NULL;
	memset(o, 0, sizeof(*o));
	o->ring = calloc(capacity, sizeof(*o->ring));
	if (o->ring == NULL) {
		free(o);
		return NULL;
	}
	o->cap = capacity;
	pthread_mutex_init(&o->mu, NULL);
	pthread_mutex_init(&o->free_mu, NULL);
	pthread_mutex_init(&o->spmu, NULL);
	cond_init_mono(&o->cv_room);
	cond_init_mono(&o->cv_spool);
	return o;
}

struct out *out_new_lane(struct out_mlane *l)
{
	struct out *o = calloc(1, sizeof(*o));

	if (o != NULL)
		o->mlane = l;
	return o;
}

void out_free_lane(struct out *o)
{
	free(o);
}

struct out_mlane *out_lane_of(struct out *o)
{
	return o->mlane;
}

void out_set_blocking(struct out *o, int block)
{
	o->blocking = block != 0;
}

/* A sink's spool folder: spool_dir/spool_id. A spool that cannot be opened
 * (an unreadable folder) is an error: without it, at-least-once delivery
 * would not hold. 0 or SW_EIO after saying why. */
static int lane_open_spool(struct out_lane *l)
{
	struct out_sink *s = l->sink;
	char dir[400], err[512];

	if (s->spool_dir[0] == '\0' || s->spool_id[0] == '\0')
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", s->spool_dir, s->spool_id);
	if (strlen(dir) >= 256) {
		log_err("%s: spool folder name too long: %s", s->name, dir);
		return SW_EIO;
	}
	l->spool = spool_open(dir, s->spool_max, s->spool_segment, s->follow_symlinks, err,
			      sizeof(err));
	if (l->spool == NULL) {
		log_err("%s: %s", s->name, err);
		return SW_EIO;
	}
	if (spool_pending(l->spool))
		log_info("%s: %llu bytes spooled by an earlier run; replaying them first",
			 s->name, (unsigned long long)spool_bytes(l->spool));
	return 0;
}

int out_add_sink(struct out *o, struct out_sink *s)
{
	struct out_lane *l;

	if (s == NULL || s->ops == NULL || o->started)
		return SW_EINVAL;
	if (o->nsinks >= OUT_MAX_SINKS)
		return SW_EFULL;
	l = &o->lanes[o->nsinks];
	memset(l, 0, sizeof(*l));
	l->o = o;
	l->sink = s;
	l->backoff_ms = 1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->smu, NULL);
	pthread_mutex_init(&l->stats_mu, NULL);
	cond_init_mono(&l->scv);
	l->rbuf = calloc(OUT_BATCH, sizeof(*l->rbuf));
	if (l->rbuf == NULL)
		return SW_ENOMEM;
	l->pos = atomic_load(&o->tail);
	atomic_store(&l->pin, l->pos);
	atomic_store(&l->done, l->pos);
	memcpy(l->snap.name, s->name, sizeof(s->name));
	l->snap.name[sizeof(l->snap.name) - 1] = '\0';
	s->lane = l;
	if (lane_open_spool(l) != 0) {
		/* The lane is not counted: the caller still owns the sink. */
		s->lane = NULL;
		free(l->rbuf);
		l->rbuf = NULL;
		return SW_EIO;
	}
	o->nsinks++;
	return 0;
}

/* ---- reclaiming slots ------------------------------------------------ */

/* Wakes the producer if it sleeps for room or for a drain. */
static void out_wake_producer(struct out *o)
{
	if (atomic_load(&o->prod_waiting)) {
		pthread_mutex_lock(&o->mu);
		pthread_cond_broadcast(&o->cv_room);
		pthread_mutex_unlock(&o->mu);
	}
}

/* Moves head to the smallest lane pin and frees the JSON of the slots left
 * behind. Any lane or the spooler, after moving a pin. */
static void out_reclaim(struct out *o)
{
	uint64_t min = atomic_load(&o->tail), head;

	pthread_mutex_lock(&o->free_mu);
	for (size_t i = 0; i < o->nsinks; i++) {
		uint64_t p = atomic_load(&o->lanes[i].pin);
		if (p < min)
			min = p;
	}
	head = atomic_load(&o->head);
	for (; head < min; head++) {
		struct out_event *ev = &o->ring[head % o->cap];
		free(ev->json);
		ev->json = NULL;
	}
	atomic_store(&o->head, head);
	pthread_mutex_unlock(&o->free_mu);
	out_wake_producer(o);
}

static void out_kick_spooler(struct out *o)
{
	if (atomic_load(&o->spooler_waiting)) {
		pthread_mutex_lock(&o->spmu);
		pthread_cond_signal(&o->cv_spool);
		pthread_mutex_unlock(&o->spmu);
	}
}

static void lane_kick(struct out_lane *l, int always)
{
	if (always || atomic_load(&l->waiting)) {
		pthread_mutex_lock(&l->smu);
		pthread_cond_broadcast(&l->scv);
		pthread_mutex_unlock(&l->smu);
	}
}

/* ---- one lane -------------------------------------------------------- */

/* Copies the sink's own counters for out_get_sink_stats. Lane thread. */
static void lane_snapshot(struct out_lane *l)
{
	pthread_mutex_lock(&l->stats_mu);
	l->snap.errors = l->sink->errors;
	l->snap.dropped = l->sink->dropped;
	l->snap.reconnects = l->sink->reconnects;
	l->snap.delivered = l->sink->ops->counts_delivered ? l->sink->delivered : 0;
	pthread_mutex_lock(&l->mu);
	l->snap.spool_bytes = l->spool ? spool_bytes(l->spool) : 0;
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_unlock(&l->stats_mu);
}

/* Says once per episode why a lane's spool took fewer events than offered:
 * full (a warning: the cap is doing its job), or failing to write (an
 * error: the folder or the disk needs fixing). Caller holds l->mu. */
static void lane_log_drop(struct out_lane *l)
{
	int e = spool_last_errno(l->spool);

	if (l->full_logged)
		return;
	l->full_logged = 1;
	if (e != 0)
		log_err("%s: cannot write the spool: %s; dropping events until it "
			"can", l->sink->name, strerror(e));
	else
		log_warn("%s: spool full (%llu bytes); dropping events until it "
			 "drains", l->sink->name, (unsigned long long)spool_bytes(l->spool));
}

/* Spools ring events [l->pos, upto) of a lane; what does not fit is
 * dropped and counted. Caller holds l->mu and l->spool is set. */
static void lane_spool_ring(struct out_lane *l, uint64_t upto)
{
	struct out *o = l->o;

	while (l->pos < upto) {
		size_t at = (size_t)(l->pos % o->cap);
		size_t n = upto - l->pos < o->cap - at ? (size_t)(upto - l->pos) : o->cap - at;
		size_t k = spool_append(l->spool, &o->ring[at], n);
		out_add(&l->spooled, k);
		if (k < n) {
			out_add(&l->dropped, n - k);
			lane_log_drop(l);
		} else if (k > 0) {
			l->full_logged = 0;
		}
		l->pos += n;
	}
	atomic_store(&l->pin, l->inflight ? l->inflight_lo : l->pos);
}

/* Events a failing write did not deliver go in front of the spool. Caller
 * holds l->mu. */
static void lane_spool_front(struct out_lane *l, const struct out_event *ev, size_t n)
{
	size_t k;

	if (n == 0)
		return;
	k = spool_prepend(l->spool, ev, n);
	out_add(&l->spooled, k);
	if (k < n) {
		out_add(&l->dropped, n - k);
		lane_log_drop(l);
	}
}

void out_sink_requeue(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct out_lane *l = s->lane;

	if (n == 0)
		return;
	if (l == NULL || l->spool == NULL) {
		s->dropped += n;
		return;
	}
	pthread_mutex_lock(&l->mu);
	lane_spool_front(l, ev, n);
	pthread_mutex_unlock(&l->mu);
}

static size_t lane_write(struct out_lane *l, const struct out_event *ev, size_t n)
{
	size_t k = l->sink->ops->write(l->sink, ev, n);

	if (k > n)
		k = n;   /* a sink that claims too much */
	if (k > 0) {
		l->dirty = 1;
		if (!l->sink->ops->counts_delivered)
			out_add(&l->delivered, k);
	}
	return k;
}

static int past_deadline(const struct out *o)
{
	return atomic_load(&o->stopping) && out_now_ms() >= o->deadline_ms;
}

/* Sleeps ms or until kicked by out_stop. */
static void lane_sleep(struct out_lane *l, unsigned ms)
{
	struct timespec ts;

	pthread_mutex_lock(&l->smu);
	if (!atomic_load(&l->o->stopping)) {
		out_deadline(&ts, ms);
		pthread_cond_timedwait(&l->scv, &l->smu, &ts);
	}
	pthread_mutex_unlock(&l->smu);
}

static void lane_failed(struct out_lane *l, unsigned cap_ms)
{
	if (!l->down) {
		l->down = 1;
		out_kick_spooler(l->o);
	}
	lane_sleep(l, l->backoff_ms);
	l->backoff_ms = l->backoff_ms * 2 > cap_ms ? cap_ms : l->backoff_ms * 2;
}

static void lane_ok(struct out_lane *l)
{
	l->backoff_ms = 1;
	if (l->down) {
		pthread_mutex_lock(&l->mu);
		l->down = 0;
		pthread_mutex_unlock(&l->mu);
	}
}

/* One step of a lane: replay a spool batch, or write a ring batch. Returns
 * 1 when it did something, 0 when there is nothing to do, -1 when the lane
 * should end (stopping and past the deadline). While stopping, a sink that
 * is down keeps being retried until the deadline: it may come back. */
static int lane_step(struct out_lane *l)
{
	struct out *o = l->o;
	int stopping = atomic_load(&o->stopping);

	if (stopping && past_deadline(o))
		return -1;
	pthread_mutex_lock(&l->mu);
	if (l->spool != NULL && spool_pending(l->spool)) {
		int n = spool_read(l->spool, l->rbuf, OUT_BATCH);
		pthread_mutex_unlock(&l->mu);
		if (n < 0) {
			l->sink->errors++;
			lane_failed(l, OUT_BACKOFF_MAX_MS);
			return 1;
		}
		if (n == 0)
			return 1;   /* skipped a corrupt or empty segment */
		size_t k = lane_write(l, l->rbuf, (size_t)n);
		pthread_mutex_lock(&l->mu);
		/* Counted before the spool shows them gone, so out_settle,
		 * which waits for an empty spool, never reads a count short. */
		out_add(&l->replayed, k);
		spool_consume(l->spool, k);
		pthread_mutex_unlock(&l->mu);
		if (k < (size_t)n)
			lane_failed(l, OUT_RETRY_MAX_MS);
		else
			lane_ok(l);
		return 1;
	}
	uint64_t tail = atomic_load(&o->tail);
	if (l->pos >= tail) {
		pthread_mutex_unlock(&l->mu);
		return 0;
	}
	uint64_t lo = l->pos;
	size_t at = (size_t)(lo % o->cap);
	size_t n = tail - lo < OUT_BATCH ? (size_t)(tail - lo) : OUT_BATCH;
	if (n > o->cap - at)
		n = o->cap - at;   /* contiguous: wrap in the next batch */
	l->inflight = 1;
	l->inflight_lo = lo;
	l->pos = lo + n;
	pthread_mutex_unlock(&l->mu);

	size_t k = lane_write(l, &o->ring[at], n);

	pthread_mutex_lock(&l->mu);
	if (k < n) {
		if (l->spool != NULL)
			lane_spool_front(l, &o->ring[at + k], n - k);
		else
			l->pos = lo + k;   /* offered again; nobody else moves pos */
	}
	l->inflight = 0;
	atomic_store(&l->pin, l->pos);
	pthread_mutex_unlock(&l->mu);
	out_reclaim(o);
	/* Without a spool, a sink that took part of a batch is simply offered
	 * the rest; only one that took nothing waits. */
	if (l->spool != NULL ? k < n : k == 0)
		lane_failed(l, l->spool != NULL ? OUT_RETRY_MAX_MS : OUT_BACKOFF_MAX_MS);
	else
		lane_ok(l);
	return 1;
}

/* Nothing to do: flush, publish progress for out_drain, and sleep until
 * the producer or a stop wakes the lane. */
static void lane_idle(struct out_lane *l, int sleep)
{
	struct out *o = l->o;
	struct timespec ts;

	if (l->dirty) {
		if (l->sink->ops->flush != NULL)
			l->sink->ops->flush(l->sink);
		l->dirty = 0;
	}
	lane_snapshot(l);
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->done, l->pos);
	pthread_mutex_unlock(&l->mu);
	out_wake_producer(o);
	if (!sleep)
		return;
	pthread_mutex_lock(&l->smu);
	atomic_store(&l->waiting, 1);
	if (atomic_load(&o->tail) - l->pos < OUT_WAKE_BATCH && !atomic_load(&o->stopping) &&
	    atomic_load(&o->reopen) == l->reopen_seen &&
	    !(l->spool != NULL && spool_pending(l->spool))) {
		out_deadline(&ts, OUT_LANE_NAP_MS);
		pthread_cond_timedwait(&l->scv, &l->smu, &ts);
	}
	atomic_store(&l->waiting, 0);
	pthread_mutex_unlock(&l->smu);
}

/* The lane's loop (run inline by out_stop when no thread was started). The
 * reopen request is read before the tail: an event emitted after
 * out_request_reopen returned is then seen only together with the request,
 * so it goes to the reopened file. */
static void lane_run(struct out_lane *l)
{
	struct out *o = l->o;
	unsigned batches = 0;

	for (;;) {
		unsigned r = atomic_load(&o->reopen);
		if (r != l->reopen_seen) {
			l->reopen_seen = r;
			if (l->sink->ops->reopen != NULL)
				l->sink->ops->reopen(l->sink);
		}
		int rc = lane_step(l);
		if (rc < 0)
			break;
		if (rc > 0) {
			if (++batches % 64 == 0)
				lane_snapshot(l);
			continue;
		}
		if (atomic_load(&o->stopping)) {
			lane_idle(l, 0);
			break;
		}
		lane_idle(l, 1);
	}
	if (l->dirty && l->sink->ops->flush != NULL)
		l->sink->ops->flush(l->sink);
	l->dirty = 0;
	lane_snapshot(l);
}

static void *lane_thread(void *arg)
{
	lane_run(arg);
	return NULL;
}

/* ---- the spooler ----------------------------------------------------- */

/* One pass over the lanes: a lane that is down or replaying its spool has
 * its ring events moved to the spool at once; in live capture, a lane half
 * the ring behind while the ring is half full does too, so capture never
 * waits for it. Returns the number of lanes spooled. */
static int spooler_pass(struct out *o, int force)
{
	uint64_t tail = atomic_load(&o->tail);
	uint64_t used = tail - atomic_load(&o->head);
	int moved = 0;

	for (size_t i = 0; i < o->nsinks; i++) {
		struct out_lane *l = &o->lanes[i];
		if (l->spool == NULL)
			continue;
		pthread_mutex_lock(&l->mu);
		int lag = !o->blocking && used >= o->cap / 2 && tail - l->pos >= o->cap / 4;
		if (l->pos < tail && (force || l->down || spool_pending(l->spool) || lag)) {
			lane_spool_ring(l, tail);
			moved++;
		}
		if (!l->inflight && (l->down || spool_pending(l->spool)))
			atomic_store(&l->done, l->pos);
		pthread_mutex_unlock(&l->mu);
		if (moved)
			lane_kick(l, 1);
	}
	if (moved)
		out_reclaim(o);
	else
		out_wake_producer(o);
	return moved;
}

static void *spooler_thread(void *arg)
{
	struct out *o = arg;
	struct timespec ts;

	while (!atomic_load(&o->spooler_exit)) {
		spooler_pass(o, 0);
		pthread_mutex_lock(&o->spmu);
		atomic_store(&o->spooler_waiting, 1);
		if (!atomic_load(&o->spooler_exit)) {
			out_deadline(&ts, OUT_IDLE_WAIT_MS / 4);
			pthread_cond_timedwait(&o->cv_spool, &o->spmu, &ts);
		}
		atomic_store(&o->spooler_waiting, 0);
		pthread_mutex_unlock(&o->spmu);
	}
	return NULL;
}

/* Threads start with every signal blocked, so SIGHUP, SIGTERM and friends
 * are handled on the capture side, never in the middle of a sink write. */
int out_start(struct out *o)
{
	sigset_t all, old;
	int rc = 0;

	if (o->started)
		return SW_EINVAL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < o->nsinks && rc == 0; i++) {
		struct out_lane *l = &o->lanes[i];
		char name[16];
		if (pthread_create(&l->thread, NULL, lane_thread, l) != 0) {
			rc = SW_ENOMEM;
			break;
		}
		l->thread_started = 1;
		snprintf(name, sizeof(name), "sw-out-%u", (unsigned)(i % 100));
		pthread_setname_np(l->thread, name);
	}
	if (rc == 0 && pthread_create(&o->spooler, NULL, spooler_thread, o) != 0)
		rc = SW_ENOMEM;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		/* Lanes already running end when out_stop sets stopping. */
		o->started = 1;
		atomic_store(&o->spooler_exit, 1);
		return rc;
	}
	pthread_setname_np(o->spooler, "sw-spool");
	o->started = 1;
	return 0;
}

/* ---- producer -------------------------------------------------------- */

/* Sleeps until a slot is free; t is the producer's tail. */
static void out_wait_room(struct out *o, uint64_t t)
{
	struct timespec ts;

	pthread_mutex_lock(&o->mu);
	atomic_store(&o->prod_waiting, 1);
	while (t - atomic_load(&o->head) >= o->cap) {
		pthread_mutex_unlock(&o->mu);
		out_kick_spooler(o);
		pthread_mutex_lock(&o->mu);
		if (t - atomic_load(&o->head) < o->cap)
			break;
		out_deadline(&ts, OUT_IDLE_WAIT_MS);
		pthread_cond_timedwait(&o->cv_room, &o->mu, &ts);
	}
	atomic_store(&o->prod_waiting, 0);
	pthread_mutex_unlock(&o->mu);
}

int out_emit(struct out *o, int dataset, const char *key, char *json, size_t len)
{
	uint64_t t = atomic_load_explicit(&o->tail, memory_order_relaxed);
	uint64_t used;
	struct out_event *ev;

	if (dataset < 0 || dataset >= OUT_DS_MAX || json == NULL) {
		free(json);
		return SW_EINVAL;
	}
	if (o->mlane != NULL)
		return out_mlane_emit(o->mlane, dataset, key, json, len);
	out_count(&o->emitted[dataset], 1);
	if (o->nsinks == 0) {
		free(json);
		return 0;
	}
	used = t - atomic_load_explicit(&o->head, memory_order_acquire);
	if (used >= o->cap) {
		/* Waiting without consumer threads would never end. */
		if (!o->blocking || !o->started) {
			free(json);
			out_count(&o->dropped, 1);
			out_kick_spooler(o);
			return SW_EFULL;
		}
		out_wait_room(o, t);
	} else if (used >= o->cap / 2) {
		out_kick_spooler(o);
	}
	ev = &o->ring[t % o->cap];
	free(ev->json);   /* normally already freed by out_reclaim */
	ev->dataset = (uint8_t)dataset;
	if (key != NULL) {
		size_t kl = strnlen(key, sizeof(ev->key) - 1);
		memcpy(ev->key, key, kl);
		ev->key[kl] = '\0';
	} else {
		ev->key[0] = '\0';
	}
	ev->json = json;
	ev->len = len;
	atomic_store(&o->tail, t + 1);
	for (size_t i = 0; i < o->nsinks; i++) {
		struct out_lane *l = &o->lanes[i];
		if (atomic_load(&l->waiting) &&
		    t + 1 - atomic_load(&l->pin) >= OUT_WAKE_BATCH)
			lane_kick(l, 1);
	}
	return 0;
}

void out_request_reopen(struct out *o)
{
	atomic_fetch_add(&o->reopen, 1);
}

static int out_drained(struct out *o, uint64_t target)
{
	for (size_t i = 0; i < o->nsinks; i++)
		if (atomic_load(&o->lanes[i].done) < target)
			return 0;
	return atomic_load(&o->head) >= target;
}

void out_drain(struct out *o)
{
	uint64_t target = atomic_load_explicit(&o->tail, memory_order_relaxed);
	struct timespec ts;

	if (!o->started)
		return;
	pthread_mutex_lock(&o->mu);
	atomic_store(&o->prod_waiting, 1);
	while (!out_drained(o, target)) {
		pthread_mutex_unlock(&o->mu);
		/* Lanes may sleep on a ring they have not flushed yet; a
		 * nudge makes them look again, and the spooler settles lanes
		 * that are down. */
		for (size_t i = 0; i < o->nsinks; i++)
			lane_kick(&o->lanes[i], 1);
		out_kick_spooler(o);
		pthread_mutex_lock(&o->mu);
		if (out_drained(o, target))
			break;
		out_deadline(&ts, 50);
		pthread_cond_timedwait(&o->cv_room, &o->mu, &ts);
	}
	atomic_store(&o->prod_waiting, 0);
	pthread_mutex_unlock(&o->mu);
}

/* ---- stopping -------------------------------------------------------- */

/* The largest stop deadline of the sinks, or the default. */
static uint64_t out_stop_budget(const struct out *o)
{
	uint64_t deadline = 0;

	for (size_t i = 0; i < o->nsinks; i++)
		if (o->lanes[i].sink->stop_deadline_ms > deadline)
			deadline = o->lanes[i].sink->stop_deadline_ms;
	return deadline ? deadline : OUT_STOP_DEADLINE_MS;
}

/* A lane is settled when it has taken (or spooled) everything up to
 * target, and, if it is up, has replayed its spool to the end. */
static int lane_settled(struct out_lane *l, uint64_t target)
{
	int ok;

	if (atomic_load(&l->done) < target)
		return 0;
	pthread_mutex_lock(&l->mu);
	ok = l->spool == NULL || l->down || !spool_pending(l->spool);
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void out_settle(struct out *o)
{
	uint64_t target = atomic_load_explicit(&o->tail, memory_order_relaxed);
	struct timespec ts;

	if (!o->started)
		return;
	if (o->deadline_ms == 0)
		o->deadline_ms = out_now_ms() + out_stop_budget(o);
	/* Unlike out_drain, bounded: a sink without a spool that stays down
	 * never takes its events. */
	for (size_t i = 0; i < o->nsinks; i++) {
		struct out_lane *l = &o->lanes[i];
		while (!lane_settled(l, target) && out_now_ms() < o->deadline_ms) {
			lane_kick(l, 1);
			out_kick_spooler(o);
			pthread_mutex_lock(&o->mu);
			atomic_store(&o->prod_waiting, 1);
			out_deadline(&ts, 20);
			pthread_cond_timedwait(&o->cv_room, &o->mu, &ts);
			atomic_store(&o->prod_waiting, 0);
			pthread_mutex_unlock(&o->mu);
		}
	}
}

int out_sink_fate(struct out *o, size_t i)
{
	struct out_lane *l;
	int fate;

	if (i >= o->nsinks)
		return OUT_FATE_DROP;
	l = &o->lanes[i];
	pthread_mutex_lock(&l->mu);
	if (!l->down && (l->spool == NULL || !spool_pending(l->spool)))
		fate = OUT_FATE_DELIVER;
	else if (l->spool != NULL && !spool_full(l->spool) && spool_last_errno(l->spool) == 0)
		fate = OUT_FATE_SPOOL;
	else
		fate = OUT_FATE_DROP;
	pthread_mutex_unlock(&l->mu);
	return fate;
}

void out_stop(struct out *o)
{
	uint64_t now;

	if (o == NULL)
		return;
	now = out_now_ms();
	if (o->deadline_ms == 0)
		o->deadline_ms = now + out_stop_budget(o);
	else if (o->deadline_ms < now + OUT_FINAL_GRACE_MS)
		o->deadline_ms = now + OUT_FINAL_GRACE_MS;
	atomic_store(&o->stopping, 1);
	if (o->started) {
		for (size_t i = 0; i < o->nsinks; i++) {
			lane_kick(&o->lanes[i], 1);
			if (o->lanes[i].thread_started)
				pthread_join(o->lanes[i].thread, NULL);
		}
		atomic_store(&o->spooler_exit, 1);
		pthread_mutex_lock(&o->spmu);
		pthread_cond_signal(&o->cv_spool);
		pthread_mutex_unlock(&o->spmu);
		pthread_join(o->spooler, NULL);
	} else {
		for (size_t i = 0; i < o->nsinks; i++)
			lane_run(&o->lanes[i]);
	}

	/* Single-threaded from here. What a sink still holds comes back
	 * through out_sink_requeue in close (to the front of the spool); what
	 * is left in the ring goes to the back. */
	uint64_t tail = atomic_load(&o->tail);
	for (size_t i = 0; i < o->nsinks; i++) {
		struct out_lane *l = &o->lanes[i];
		struct out_sink *s = l->sink;
		uint64_t left;
		if (l->spool != NULL)
			lane_spool_ring(l, tail);
		left = tail - l->pos;
		if (left > 0) {
			out_add(&l->dropped, left);
			l->pos = tail;
		}
		if (s->ops->close != NULL) {
			/* close frees the sink: keep what the log line needs */
			char name[64];
			uint64_t drops, spooled;
			memcpy(name, s->name, sizeof(name));
			lane_snapshot(l);
			s->ops->close(s, o->deadline_ms);
			drops = atomic_load(&l->dropped) + l->snap.dropped;
			spooled = atomic_load(&l->spooled);
			if (drops > 0)
				log_warn("%s: %llu events dropped", name,
					 (unsigned long long)drops);
			if (l->spool != NULL && spool_pending(l->spool))
				log_info("%s: %llu events spooled this run, %llu bytes "
					 "waiting in the spool for the next start", name,
					 (unsigned long long)spooled,
					 (unsigned long long)spool_bytes(l->spool));
		}
		spool_close(l->spool);
		l->spool = NULL;
		free(l->rbuf);
		pthread_mutex_destroy(&l->mu);
		pthread_mutex_destroy(&l->smu);
		pthread_mutex_destroy(&l->stats_mu);
		pthread_cond_destroy(&l->scv);
	}
	for (uint64_t h = atomic_load(&o->head); h < tail; h++)
		free(o->ring[h % o->cap].json);
	pthread_cond_destroy(&o->cv_room);
	pthread_cond_destroy(&o->cv_spool);
	pthread_mutex_destroy(&o->mu);
	pthread_mutex_destroy(&o->free_mu);
	pthread_mutex_destroy(&o->spmu);
	free(o->ring);
	free(o);
}

/* ---- counters -------------------------------------------------------- */

void out_get_stats(struct out *o, struct out_stats *st)
{
	uint64_t head = atomic_load(&o->head);
	uint64_t tail = atomic_load(&o->tail);

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < OUT_DS_MAX; i++)
		st->emitted[i] = atomic_load_explicit(&o->emitted[i],
						      memory_order_relaxed);
	st->queue_dropped = atomic_load_explicit(&o->dropped, memory_order_relaxed);
	st->queue_depth = tail >= head ? (uint32_t)(tail - head) : 0;
	st->queue_capacity = o->cap;
}

size_t out_sink_count(struct out *o)
{
	return o->nsinks;
}

const struct out_sink *out_sink_at(struct out *o, size_t i)
{
	return i < o->nsinks ? o->lanes[i].sink : NULL;
}

int out_get_sink_stats(struct out *o, size_t i, struct out_sink_stats *st)
{
	struct out_lane *l;

	if (i >= o->nsinks)
		return SW_EINVAL;
	l = &o->lanes[i];
	pthread_mutex_lock(&l->stats_mu);
	*st = l->snap;
	pthread_mutex_unlock(&l->stats_mu);
	st->delivered += atomic_load(&l->delivered);
	st->dropped += atomic_load(&l->dropped);
	st->spooled = atomic_load(&l->spooled);
	st->replayed = atomic_load(&l->replayed);
	return 0;
}
