/* merge.c — several producers into the one event queue: a lane per worker
 * and a merge thread that is the queue's single producer.
 *
 * Each lane is a bounded single-producer/single-consumer ring of events
 * stamped with the sequence number of the message (frame, clock tick,
 * end of input) whose processing emitted them. Who locks what: nothing is
 * locked on the event path. A lane's producer writes slots and then `tail`
 * (release); the merge thread reads `tail` (acquire), the slots, and
 * writes `head` (release). The producer side of a lane may pass from one
 * thread to another (a worker, then the reader while that worker waits at
 * a barrier) only across a release/acquire pair between them.
 *
 * Ordered (replays): the merge thread takes the lowest (stamp, lane) over
 * every lane's oldest event, and only once no lane can still produce a
 * lower one. A lane's watermark says that: the lowest stamp it may still
 * emit. A worker lane publishes the last message it was given
 * (out_lane_given, by the reader) and the last it finished
 * (out_lane_done); when it finished the last one it was given, it is
 * idle and its watermark is the reader's published count
 * (out_merge_publish), since anything it is given later comes after it.
 * A reader lane (out_merge_lane_reader) stamps with the sequence being
 * published, so its watermark is that count minus one. The output is then
 * the same on every run, whatever the threads' timing.
 *
 * Unordered (live capture): lanes are taken round-robin as events come;
 * each lane keeps its own order, so one device's events (one worker's)
 * stay in order.
 */
#include "output/out.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

#define MG_CACHELINE 64

/* The merge thread's longest sleep between looks at the watermarks, which
 * move without a wake-up (a worker going idle says nothing). A lane holds
 * several milliseconds of a worker's events, so a millisecond keeps an
 * ordered replay's events flowing; shorter naps cost more wake-ups than
 * they save (measured: a quarter of one gave a fifth of the run's time to
 * the kernel with two workers). */
#define MG_NAP_US 1000

/* A producer wakes a sleeping merge thread once this many events wait in
 * its lane (or it is full), not for each event. */
#define MG_WAKE_BATCH 32

struct mg_item {
	uint64_t seq;
	void (*fn)(void *arg, struct out *dst);  /* a call in order, or NULL */
	void *arg;
	char *json;
	size_t len;
	uint8_t dataset;
	char key[40];
};

struct out_mlane {
	_Alignas(MG_CACHELINE) _Atomic uint64_t tail;   /* producer */
	uint64_t stamp;                                  /* producer: stamp of new events */
	_Atomic uint64_t dropped;
	_Alignas(MG_CACHELINE) _Atomic uint64_t head;   /* merge thread */
	_Alignas(MG_CACHELINE) _Atomic uint64_t given;  /* reader */
	_Atomic uint64_t done;                           /* producer */
	struct mg_item *ring;
	uint32_t cap;
	int reader;                    /* a reader lane: watermark = published - 1 */
	struct out_merge *m;
	struct out *as_out;            /* what the engine emits into */
	atomic_int prod_waiting;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct out_merge {
	struct out *dst;
	int ordered, blocking;
	unsigned n;
	struct out_mlane *lanes;
	_Atomic uint64_t published;
	atomic_int closing;
	atomic_int waiting;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
	unsigned rr;                   /* unordered: next lane to look at */
};

static void mg_deadline(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += us * 1000L;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void mg_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* Wakes the merge thread if it sleeps. The flag is set under the mutex
 * and read after the caller's store (both sequentially consistent), so a
 * wake-up is never lost. */
static void mg_kick(struct out_merge *m)
{
	if (atomic_load(&m->waiting)) {
		pthread_mutex_lock(&m->mu);
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
	}
}

struct out_merge *out_merge_new(struct out *dst, unsigned nlanes, uint32_t lane_cap,
				int ordered, int blocking)
{
	struct out_merge *m;

	if (nlanes == 0 || lane_cap == 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->lanes = aligned_alloc(MG_CACHELINE, (nlanes * sizeof(*m->lanes) + MG_CACHELINE - 1) /
				 MG_CACHELINE * MG_CACHELINE);
	if (m->lanes == NULL) {
		free(m);
		return NULL;
	}
	memset(m->lanes, 0, nlanes * sizeof(*m->lanes));
	m->dst = dst;
	m->ordered = ordered;
	m->blocking = blocking;
	m->n = nlanes;
	pthread_mutex_init(&m->mu, NULL);
	mg_cond_init(&m->cv);
	for (unsigned i = 0; i < nlanes; i++) {
		struct out_mlane *l = &m->lanes[i];
		l->m = m;
		l->cap = lane_cap;
		l->ring = calloc(lane_cap, sizeof(*l->ring));
		l->as_out = l->ring != NULL ? out_new_lane(l) : NULL;
		pthread_mutex_init(&l->mu, NULL);
		mg_cond_init(&l->cv);
		if (l->as_out == NULL) {
			m->n = i + 1;
			out_merge_free(m);
			return NULL;
		}
	}
	return m;
}

struct out *out_merge_lane(struct out_merge *m, unsigned i)
{
	return i < m->n ? m->lanes[i].as_out : NULL;
}

void out_merge_lane_reader(struct out_merge *m, unsigned i)
{
	if (i < m->n)
		m->lanes[i].reader = 1;
}

void out_lane_stamp(struct out_mlane *l, uint64_t seq)
{
	l->stamp = seq;
}

void out_lane_given(struct out_mlane *l, uint64_t seq)
{
	atomic_store_explicit(&l->given, seq, memory_order_release);
}

void out_lane_done(struct out_mlane *l, uint64_t seq)
{
	atomic_store_explicit(&l->done, seq, memory_order_release);
	if (atomic_load_explicit(&l->m->waiting, memory_order_relaxed))
		mg_kick(l->m);
}

struct out_mlane *out_merge_lane_of(struct out_merge *m, unsigned i)
{
	return i < m->n ? &m->lanes[i] : NULL;
}

void out_merge_publish(struct out_merge *m, uint64_t seq)
{
	atomic_store_explicit(&m->published, seq, memory_order_release);
}

uint64_t out_merge_dropped(struct out_merge *m, unsigned i)
{
	return i < m->n ? atomic_load_explicit(&m->lanes[i].dropped, memory_order_relaxed) : 0;
}

/* Waits for room in a full lane (blocking mode). */
static void lane_wait_room(struct out_mlane *l, uint64_t t)
{
	struct timespec ts;

	pthread_mutex_lock(&l->mu);
	atomic_store(&l->prod_waiting, 1);
	while (t - atomic_load(&l->head) >= l->cap) {
		pthread_mutex_unlock(&l->mu);
		mg_kick(l->m);
		pthread_mutex_lock(&l->mu);
		if (t - atomic_load(&l->head) < l->cap)
			break;
		mg_deadline(&ts, 1000);
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	}
	atomic_store(&l->prod_waiting, 0);
	pthread_mutex_unlock(&l->mu);
}

/* Appends one item (`wait`: even in live capture, waits for room rather
 * than drop it); the lane's producer thread only. */
static int lane_push(struct out_mlane *l, const struct mg_item *it, int wait)
{
	struct out_merge *m = l->m;
	uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
	uint64_t used = t - atomic_load_explicit(&l->head, memory_order_acquire);

	if (used >= l->cap) {
		if (!(m->blocking || wait) || !m->started) {
			atomic_store_explicit(&l->dropped,
					      atomic_load_explicit(&l->dropped, memory_order_relaxed) + 1,
					      memory_order_relaxed);
			free(it->json);
			mg_kick(m);
			return SW_EFULL;
		}
		lane_wait_room(l, t);
	}
	l->ring[t % l->cap] = *it;
	atomic_store(&l->tail, t + 1);
	if (atomic_load_explicit(&m->waiting, memory_order_relaxed) &&
	    (used + 1 >= MG_WAKE_BATCH || used + 1 >= l->cap / 2))
		mg_kick(m);
	return 0;
}

int out_mlane_emit(struct out_mlane *l, int dataset, const char *key, char *json, size_t len)
{
	struct mg_item it;

	memset(&it, 0, sizeof(it));
	it.seq = l->stamp;
	it.dataset = (uint8_t)dataset;
	if (key != NULL) {
		size_t kl = strnlen(key, sizeof(it.key) - 1);
		memcpy(it.key, key, kl);
	}
	it.json = json;
	it.len = len;
	return lane_push(l, &it, 0);
}

int out_lane_call(struct out_mlane *l, void (*fn)(void *arg, struct out *dst), void *arg)
{
	struct mg_item it;

	memset(&it, 0, sizeof(it));
	it.seq = l->stamp;
	it.fn = fn;
	it.arg = arg;
	/* A call is never dropped: it may own arg. */
	return lane_push(l, &it, 1);
}

/* Hands the oldest item of lane l to the queue. Merge thread only. */
static void lane_pop(struct out_merge *m, struct out_mlane *l)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
	struct mg_item *it = &l->ring[h % l->cap];

	if (it->fn != NULL)
		it->fn(it->arg, m->dst);
	else
		out_emit(m->dst, it->dataset, it->key, it->json, it->len);
	it->json = NULL;
	atomic_store(&l->head, h + 1);
	if (atomic_load(&l->prod_waiting)) {
		pthread_mutex_lock(&l->mu);
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
	}
}

/* Lane l's watermark: with its ring empty, it emits only stamps above it. */
static uint64_t lane_watermark(const struct out_merge *m, struct out_mlane *l, uint64_t pub)
{
	if (l->reader)
		return pub > 0 ? pub - 1 : 0;
	uint64_t given = atomic_load_explicit(&l->given, memory_order_acquire);
	uint64_t done = atomic_load_explicit(&l->done, memory_order_acquire);
	if (done >= given && pub > done)
		return pub;
	return done;
}

/* One ordered step: 1 when an item went out, 0 when none may yet. */
static int merge_ordered(struct out_merge *m)
{
	uint64_t pub = atomic_load_explicit(&m->published, memory_order_acquire);
	int best = -1;
	uint64_t bseq = 0;

	for (unsigned i = 0; i < m->n; i++) {
		struct out_mlane *l = &m->lanes[i];
		uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
		if (atomic_load_explicit(&l->tail, memory_order_acquire) == h)
			continue;
		uint64_t s = l->ring[h % l->cap].seq;
		if (best < 0 || s < bseq) {
			best = (int)i;
			bseq = s;
		}
	}
	if (best < 0)
		return 0;
	for (unsigned j = 0; j < m->n; j++) {
		struct out_mlane *l = &m->lanes[j];
		if ((int)j == best)
			continue;
		/* The watermark before the ring: an event pushed after it was
		 * read is seen in the ring. */
		uint64_t w = lane_watermark(m, l, pub);
		uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
		if (atomic_load_explicit(&l->tail, memory_order_acquire) != h) {
			uint64_t s = l->ring[h % l->cap].seq;
			if (s < bseq || (s == bseq && j < (unsigned)best))
				return 0;   /* appeared since the scan: look again */
			continue;
		}
		/* Lanes before best must be past bseq; lanes after it only
		 * must not emit below it. */
		if (j < (unsigned)best ? w < bseq : bseq > 0 && w < bseq - 1)
			return 0;
	}
	lane_pop(m, &m->lanes[best]);
	return 1;
}

/* One unordered step: up to a batch from the next lane with events. */
static int merge_any(struct out_merge *m)
{
	for (unsigned k = 0; k < m->n; k++) {
		struct out_mlane *l = &m->lanes[(m->rr + k) % m->n];
		uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
		uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
		if (t == h)
			continue;
		for (unsigned b = 0; b < 256 && h + b < t; b++)
			lane_pop(m, l);
		m->rr = (m->rr + k + 1) % m->n;
		return 1;
	}
	return 0;
}

static int lanes_empty(struct out_merge *m)
{
	for (unsigned i = 0; i < m->n; i++)
		if (atomic_load(&m->lanes[i].tail) != atomic_load(&m->lanes[i].head))
			return 0;
	return 1;
}

static void *merge_thread(void *arg)
{
	struct out_merge *m = arg;
	struct timespec ts;

	for (;;) {
		int closing = atomic_load(&m->closing);
		int did = m->ordered ? merge_ordered(m) : merge_any(m);
		if (did)
			continue;
		if (closing && lanes_empty(m))
			break;
		pthread_mutex_lock(&m->mu);
		atomic_store(&m->waiting, 1);
		if (!atomic_load(&m->closing)) {
			mg_deadline(&ts, MG_NAP_US);
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
		}
		atomic_store(&m->waiting, 0);
		pthread_mutex_unlock(&m->mu);
	}
	return NULL;
}

int out_merge_start(struct out_merge *m)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&m->thread, NULL, merge_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return SW_ENOMEM;
	pthread_setname_np(m->thread, "sw-merge");
	m->started = 1;
	return 0;
}

void out_merge_stop(struct out_merge *m)
{
	if (!m->started)
		return;
	/* Every producer is done: the watermarks no longer hold anything
	 * back, so the last items go out in order. */
	for (unsigned i = 0; i < m->n; i++)
		atomic_store(&m->lanes[i].done, UINT64_MAX);
	atomic_store(&m->published, UINT64_MAX);
	atomic_store(&m->closing, 1);
	pthread_mutex_lock(&m->mu);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	m->started = 0;
}

void out_merge_free(struct out_merge *m)
{
	if (m == NULL)
		return;
	out_merge_stop(m);
	for (unsigned i = 0; i < m->n; i++) {
		struct out_mlane *l = &m->lanes[i];
		if (l->ring != NULL)
			for (uint64_t h = atomic_load(&l->head); h < atomic_load(&l->tail); h++) {
				struct mg_item *it = &l->ring[h % l->cap];
				free(it->json);
			}
		free(l->ring);
		out_free_lane(l->as_out);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
	}
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->lanes);
	free(m);
}
