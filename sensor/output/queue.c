/* queue.c — the event ring between the capture thread and the output thread.
 *
 * A single-producer single-consumer ring of struct out_event. The producer
 * (capture) owns `tail`, the consumer (output thread) owns `head`; each only
 * reads the other's with acquire loads, so the hot path takes no lock. The
 * mutex and condition variables are used only to sleep: a side that has
 * nothing to do raises its `*_waiting` flag, re-checks, and sleeps; the other
 * side signals only when it sees that flag. Both the flag store and the
 * index store are sequentially consistent, so one side always sees the other
 * and no wake-up is lost (the Dekker pattern).
 *
 * The output thread takes up to OUT_BATCH contiguous events, offers them to
 * every sink in order, frees them and only then moves `head`, so a slot is
 * never reused while a sink may still read it. Sinks are flushed whenever
 * the ring runs empty: batching under load, prompt lines when quiet.
 */
#include "output/out.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

/* The reopen flag is set from a signal handler; a lock-free atomic is
 * async-signal-safe (C11 7.14.1.1) and, unlike a volatile sig_atomic_t, is
 * also well-defined when another thread reads it. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free");

/* Keeps the producer's and the consumer's fields on separate cache lines so
 * that each side's writes do not keep invalidating the other's. */
#define OUT_CACHELINE 64

/* How long the idle output thread sleeps before looking at the reopen flag
 * again: a signal handler cannot signal a condition variable, so a SIGHUP is
 * noticed within this time. */
#define OUT_IDLE_WAIT_MS 200

/* A sink that accepts nothing is offered the batch again after a back-off
 * doubling from 1 ms to 1 s: quick to resume after a blip, cheap while a
 * server is down. */
#define OUT_BACKOFF_MAX_MS 1000

/* While out_stop drains, a sink that makes no progress for this long is
 * given up and the rest of its events counted as dropped: shutdown must end
 * well inside systemd's default 90 s stop timeout. */
#define OUT_STOP_GIVEUP_MS 5000

struct out {
	/* Producer side. */
	_Alignas(OUT_CACHELINE) _Atomic uint64_t tail; /* next slot to fill */
	uint64_t head_seen;            /* producer's last view of head */
	_Atomic uint64_t dropped;      /* events dropped because the ring was full */
	_Atomic uint64_t emitted[OUT_DS_MAX];

	/* Consumer side. */
	_Alignas(OUT_CACHELINE) _Atomic uint64_t head; /* next slot to deliver */
	_Atomic uint64_t flushed;      /* all before this delivered and flushed */
	int gave_up[OUT_MAX_SINKS];    /* stuck sink abandoned during stop */

	/* Shared flags. */
	_Alignas(OUT_CACHELINE) atomic_int cons_waiting;
	atomic_int prod_waiting;
	atomic_int stopping;
	atomic_int reopen;

	pthread_mutex_t mu;            /* only to sleep and wake */
	pthread_cond_t cv_data;        /* consumer waits: ring empty */
	pthread_cond_t cv_room;        /* producer waits: ring full, or drain */

	pthread_mutex_t stats_mu;      /* guards snap[] */
	struct out_sink_stats snap[OUT_MAX_SINKS];

	struct out_event *ring;
	uint32_t cap;
	int blocking;
	int started;
	pthread_t thread;
	struct out_sink *sinks[OUT_MAX_SINKS];
	size_t nsinks;
};

/* Relaxed counter bump for a counter with a single writer: a plain load and
 * store, no locked instruction on the hot path, still race-free for readers. */
static void out_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
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

static uint64_t out_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void out_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct out *out_new(uint32_t capacity)
{
	struct out *o;
	pthread_condattr_t ca;

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
	pthread_mutex_init(&o->stats_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv_data, &ca);
	pthread_cond_init(&o->cv_room, &ca);
	pthread_condattr_destroy(&ca);
	return o;
}

void out_set_blocking(struct out *o, int block)
{
	o->blocking = block != 0;
}

int out_add_sink(struct out *o, struct out_sink *s)
{
	if (s == NULL || s->ops == NULL || o->started)
		return SW_EINVAL;
	if (o->nsinks >= OUT_MAX_SINKS)
		return SW_EFULL;
	o->sinks[o->nsinks] = s;
	memcpy(o->snap[o->nsinks].name, s->name, sizeof(s->name));
	o->snap[o->nsinks].name[sizeof(o->snap[0].name) - 1] = '\0';
	o->nsinks++;
	return 0;
}

/* Copies every sink's counters for out_get_sink_stats. Output thread only. */
static void out_snapshot(struct out *o)
{
	pthread_mutex_lock(&o->stats_mu);
	for (size_t i = 0; i < o->nsinks; i++) {
		o->snap[i].delivered = o->sinks[i]->delivered;
		o->snap[i].errors = o->sinks[i]->errors;
		o->snap[i].dropped = o->sinks[i]->dropped;
	}
	pthread_mutex_unlock(&o->stats_mu);
}

/* Offers n contiguous events to every sink in turn. A sink that accepts part
 * of a batch is offered the rest, after a back-off when it accepted nothing;
 * every sink sees the events in emit order. Only while stopping is a sink
 * that stays stuck abandoned, its remaining events counted as dropped. */
static void out_deliver(struct out *o, const struct out_event *ev, size_t n)
{
	for (size_t i = 0; i < o->nsinks; i++) {
		struct out_sink *s = o->sinks[i];
		size_t done = 0;
		unsigned backoff = 1;
		uint64_t stuck_since = 0;

		while (done < n) {
			if (o->gave_up[i]) {
				s->dropped += n - done;
				break;
			}
			size_t k = s->ops->write(s, ev + done, n - done);
			if (k > n - done)
				k = n - done;   /* a sink that claims too much */
			done += k;
			s->delivered += k;
			if (k > 0) {
				backoff = 1;
				stuck_since = 0;
				continue;
			}
			if (atomic_load(&o->stopping)) {
				uint64_t now = out_now_ms();
				if (stuck_since == 0)
					stuck_since = now;
				else if (now - stuck_since >= OUT_STOP_GIVEUP_MS)
					o->gave_up[i] = 1;
			}
			out_sleep_ms(backoff);
			if (backoff < OUT_BACKOFF_MAX_MS)
				backoff *= 2;
		}
	}
}

static void out_flush_sinks(struct out *o)
{
	for (size_t i = 0; i < o->nsinks; i++)
		if (o->sinks[i]->ops->flush != NULL)
			o->sinks[i]->ops->flush(o->sinks[i]);
}

static void out_reopen_sinks(struct out *o)
{
	for (size_t i = 0; i < o->nsinks; i++)
		if (o->sinks[i]->ops->reopen != NULL)
			o->sinks[i]->ops->reopen(o->sinks[i]);
}

/* Wakes the producer if it sleeps for room or for a drain. */
static void out_wake_producer(struct out *o)
{
	if (atomic_load(&o->prod_waiting)) {
		pthread_mutex_lock(&o->mu);
		pthread_cond_broadcast(&o->cv_room);
		pthread_mutex_unlock(&o->mu);
	}
}

/* Sleeps until an event, a stop or (at most OUT_IDLE_WAIT_MS later) a
 * possible reopen request. */
static void out_wait_data(struct out *o, uint64_t head)
{
	struct timespec ts;

	pthread_mutex_lock(&o->mu);
	atomic_store(&o->cons_waiting, 1);
	if (atomic_load(&o->tail) == head && !atomic_load(&o->stopping) &&
	    !atomic_load(&o->reopen)) {
		out_deadline(&ts, OUT_IDLE_WAIT_MS);
		pthread_cond_timedwait(&o->cv_data, &o->mu, &ts);
	}
	atomic_store(&o->cons_waiting, 0);
	pthread_mutex_unlock(&o->mu);
}

/* The output thread's loop (also run in the caller by out_stop when no
 * thread was started). The tail is read before the reopen flag: an event
 * emitted after out_request_reopen returned is then seen only together with
 * the request, so it goes to the reopened file. Returns when stopping and
 * the ring is empty. */
static void out_run(struct out *o)
{
	uint64_t head = atomic_load(&o->head);
	int dirty = 0;

	for (;;) {
		uint64_t tail = atomic_load_explicit(&o->tail, memory_order_acquire);

		if (atomic_exchange(&o->reopen, 0)) {
			out_reopen_sinks(o);
			out_snapshot(o);
		}
		if (tail == head) {
			if (dirty) {
				out_flush_sinks(o);
				out_snapshot(o);
				dirty = 0;
			}
			if (atomic_load(&o->flushed) != head) {
				atomic_store(&o->flushed, head);
				out_wake_producer(o);
			}
			if (atomic_load(&o->stopping)) {
				/* The producer stopped emitting before it set the
				 * flag; one more look catches its last events. */
				if (atomic_load(&o->tail) == head)
					break;
				continue;
			}
			out_wait_data(o, head);
			continue;
		}

		size_t pos = (size_t)(head % o->cap);
		size_t n = tail - head < OUT_BATCH ? (size_t)(tail - head) : OUT_BATCH;
		if (n > o->cap - pos)
			n = o->cap - pos;  /* contiguous: wrap in the next batch */
		out_deliver(o, &o->ring[pos], n);
		for (size_t i = 0; i < n; i++) {
			free(o->ring[pos + i].json);
			o->ring[pos + i].json = NULL;
		}
		head += n;
		atomic_store(&o->head, head);
		out_wake_producer(o);
		dirty = 1;
	}
}

static void *out_thread(void *arg)
{
	out_run(arg);
	return NULL;
}

/* The thread starts with every signal blocked, so SIGHUP, SIGTERM and
 * friends are handled on the capture side, never in the middle of a sink
 * write. */
int out_start(struct out *o)
{
	sigset_t all, old;

	if (o->started)
		return SW_EINVAL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&o->thread, NULL, out_thread, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return SW_ENOMEM;
	pthread_setname_np(o->thread, "sw-output");
	o->started = 1;
	return 0;
}

/* Sleeps until the consumer frees a slot; t is the producer's tail. */
static void out_wait_room(struct out *o, uint64_t t)
{
	pthread_mutex_lock(&o->mu);
	atomic_store(&o->prod_waiting, 1);
	while (t - atomic_load(&o->head) >= o->cap)
		pthread_cond_wait(&o->cv_room, &o->mu);
	atomic_store(&o->prod_waiting, 0);
	pthread_mutex_unlock(&o->mu);
}

int out_emit(struct out *o, int dataset, const char *key, char *json, size_t len)
{
	uint64_t t = atomic_load_explicit(&o->tail, memory_order_relaxed);
	struct out_event *ev;

	if (dataset < 0 || dataset >= OUT_DS_MAX || json == NULL) {
		free(json);
		return SW_EINVAL;
	}
	out_count(&o->emitted[dataset], 1);
	if (t - o->head_seen >= o->cap) {
		o->head_seen = atomic_load_explicit(&o->head, memory_order_acquire);
		if (t - o->head_seen >= o->cap) {
			/* Waiting without a consumer thread would never end. */
			if (!o->blocking || !o->started) {
				free(json);
				out_count(&o->dropped, 1);
				return SW_EFULL;
			}
			out_wait_room(o, t);
			o->head_seen = atomic_load_explicit(&o->head,
							    memory_order_acquire);
		}
	}
	ev = &o->ring[t % o->cap];
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
	if (atomic_load(&o->cons_waiting)) {
		pthread_mutex_lock(&o->mu);
		pthread_cond_signal(&o->cv_data);
		pthread_mutex_unlock(&o->mu);
	}
	return 0;
}

void out_request_reopen(struct out *o)
{
	atomic_store(&o->reopen, 1);
}

void out_drain(struct out *o)
{
	uint64_t target = atomic_load_explicit(&o->tail, memory_order_relaxed);

	if (!o->started)
		return;
	pthread_mutex_lock(&o->mu);
	atomic_store(&o->prod_waiting, 1);
	/* The consumer may be asleep on an empty-looking ring it has not
	 * flushed yet; a nudge makes it look again. */
	pthread_cond_signal(&o->cv_data);
	while (atomic_load(&o->flushed) < target)
		pthread_cond_wait(&o->cv_room, &o->mu);
	atomic_store(&o->prod_waiting, 0);
	pthread_mutex_unlock(&o->mu);
}

void out_stop(struct out *o)
{
	if (o == NULL)
		return;
	atomic_store(&o->stopping, 1);
	if (o->started) {
		pthread_mutex_lock(&o->mu);
		pthread_cond_signal(&o->cv_data);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->thread, NULL);
	} else {
		out_run(o);
	}
	for (size_t i = 0; i < o->nsinks; i++)
		if (o->sinks[i]->ops->close != NULL)
			o->sinks[i]->ops->close(o->sinks[i]);
	pthread_cond_destroy(&o->cv_data);
	pthread_cond_destroy(&o->cv_room);
	pthread_mutex_destroy(&o->mu);
	pthread_mutex_destroy(&o->stats_mu);
	free(o->ring);
	free(o);
}

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
	return i < o->nsinks ? o->sinks[i] : NULL;
}

int out_get_sink_stats(struct out *o, size_t i, struct out_sink_stats *st)
{
	if (i >= o->nsinks)
		return SW_EINVAL;
	pthread_mutex_lock(&o->stats_mu);
	*st = o->snap[i];
	pthread_mutex_unlock(&o->stats_mu);
	return 0;
}
