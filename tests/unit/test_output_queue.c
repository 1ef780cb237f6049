/* test_output_queue.c — the event queue (output/queue.c) and the file sink
 * (output/sink_file.c).
 *
 * Every event carries a sequence number ({"seq":N}); sinks check they see
 * 0, 1, 2, ... with nothing missing or repeated. The test sink below can be
 * stalled: its write blocks on a condition variable until the test releases
 * it, so "the queue is full" is a state the test builds exactly, not a race
 * it hopes to win with sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "common/err.h"
#include "output/out.h"

/* ---- a test sink ----------------------------------------------------- */

struct test_sink {
	struct out_sink base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stalled;        /* write blocks while set */
	int in_write;       /* write is blocked (the test waits for this) */
	size_t max_accept;  /* accept at most this many per call; 0 = all */
	int refuse_next;    /* next call accepts nothing (exercises back-off) */
	int refuse_every;   /* refuse every other call */
	uint64_t next_seq;  /* the sequence number expected next */
	uint64_t got;
	int out_of_order;
	uint64_t flushes, reopens;
	int closed;
};

static uint64_t seq_of(const struct out_event *ev)
{
	const char *p = strstr(ev->json, "\"seq\":");
	return p ? strtoull(p + 6, NULL, 10) : UINT64_MAX;
}

static size_t ts_write(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct test_sink *t = (struct test_sink *)s;

	pthread_mutex_lock(&t->mu);
	while (t->stalled) {
		t->in_write = 1;
		pthread_cond_broadcast(&t->cv);
		pthread_cond_wait(&t->cv, &t->mu);
	}
	t->in_write = 0;
	if (t->refuse_every)
		t->refuse_next = !t->refuse_next;
	if (t->refuse_next) {
		if (!t->refuse_every)
			t->refuse_next = 0;
		pthread_mutex_unlock(&t->mu);
		return 0;
	}
	if (t->max_accept != 0 && n > t->max_accept)
		n = t->max_accept;
	for (size_t i = 0; i < n; i++) {
		if (seq_of(&ev[i]) != t->next_seq)
			t->out_of_order = 1;
		t->next_seq = seq_of(&ev[i]) + 1;
		t->got++;
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}

static int ts_flush(struct out_sink *s)
{
	((struct test_sink *)s)->flushes++;
	return 0;
}

static int ts_reopen(struct out_sink *s)
{
	((struct test_sink *)s)->reopens++;
	return 0;
}

static void ts_close(struct out_sink *s, uint64_t deadline_ms)
{
	(void)deadline_ms;
	((struct test_sink *)s)->closed = 1;
}

static const struct out_sink_ops ts_ops = {
	.kind = "test", .write = ts_write, .flush = ts_flush,
	.reopen = ts_reopen, .close = ts_close,
};

static void ts_init(struct test_sink *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = &ts_ops;
	snprintf(t->base.name, sizeof(t->base.name), "test:%s", name);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
}

static void ts_destroy(struct test_sink *t)
{
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
}

static void ts_wait_blocked(struct test_sink *t)
{
	pthread_mutex_lock(&t->mu);
	while (!t->in_write)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

static void ts_release(struct test_sink *t)
{
	pthread_mutex_lock(&t->mu);
	t->stalled = 0;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static int emit_seq(struct out *o, uint64_t seq)
{
	char *json = malloc(48);
	assert_non_null(json);
	int n = snprintf(json, 48, "{\"seq\":%llu}", (unsigned long long)seq);
	return out_emit(o, OUT_DS_DNS, "aa:bb:cc:dd:ee:ff", json, (size_t)n);
}

/* ---- queue ----------------------------------------------------------- */

/* A million events through a 64-slot ring: the producer waits for room
 * thousands of times and wraps the ring ~15,000 times; nothing is lost,
 * repeated or reordered. */
static void test_order_blocking(void **state)
{
	(void)state;
	struct test_sink t;
	struct out_stats st;
	struct out *o = out_new(64);
	const uint64_t n = 1000000;

	assert_non_null(o);
	ts_init(&t, "order");
	out_set_blocking(o, 1);
	assert_int_equal(out_add_sink(o, &t.base), 0);
	assert_int_equal(out_start(o), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_get_stats(o, &st);
	assert_int_equal(st.emitted[OUT_DS_DNS], n);
	assert_int_equal(st.queue_dropped, 0);
	assert_int_equal(st.queue_capacity, 64);
	out_stop(o);
	assert_int_equal(t.got, n);
	assert_int_equal(t.out_of_order, 0);
	assert_int_equal(t.closed, 1);
	assert_true(t.flushes >= 1);
	ts_destroy(&t);
}

/* With the sink stalled on event 0 (still in its slot), a 64-slot ring
 * takes exactly 63 more; the remaining 937 of 1000 are dropped, counted,
 * and SW_EFULL is returned for each of them. */
static void test_drops_nonblocking(void **state)
{
	(void)state;
	struct test_sink t;
	struct out_stats st;
	struct out_sink_stats ss;
	struct out *o = out_new(64);
	int full = 0;

	assert_non_null(o);
	ts_init(&t, "stalled");
	t.stalled = 1;
	assert_int_equal(out_add_sink(o, &t.base), 0);
	assert_int_equal(out_start(o), 0);
	assert_int_equal(emit_seq(o, 0), 0);
	ts_wait_blocked(&t);
	for (uint64_t i = 1; i <= 1000; i++) {
		int rc = emit_seq(o, i);
		if (i <= 63)
			assert_int_equal(rc, 0);
		else if (rc == SW_EFULL)
			full++;
	}
	assert_int_equal(full, 937);
	out_get_stats(o, &st);
	assert_int_equal(st.queue_dropped, 937);
	assert_int_equal(st.queue_depth, 64);
	assert_int_equal(st.emitted[OUT_DS_DNS], 1001);
	ts_release(&t);
	out_drain(o);
	out_get_stats(o, &st);
	assert_int_equal(st.queue_depth, 0);
	assert_int_equal(out_get_sink_stats(o, 0, &ss), 0);
	assert_int_equal(ss.delivered, 64);
	assert_string_equal(ss.name, "test:stalled");
	assert_int_equal(out_get_sink_stats(o, 1, &ss), SW_EINVAL);
	/* Room again once drained. */
	assert_int_equal(emit_seq(o, 64), 0);
	out_stop(o);
	assert_int_equal(t.got, 65);
	assert_int_equal(t.out_of_order, 0);
	ts_destroy(&t);
}

/* Two sinks, one of which takes at most 7 events a call and another that
 * refuses every other call: both see every event once, in order. */
static void test_two_sinks(void **state)
{
	(void)state;
	struct test_sink a, b;
	struct out *o = out_new(1000);
	const uint64_t n = 20000;

	assert_non_null(o);
	ts_init(&a, "a");
	ts_init(&b, "b");
	a.max_accept = 7;
	b.refuse_every = 1;
	out_set_blocking(o, 1);
	assert_int_equal(out_add_sink(o, &a.base), 0);
	assert_int_equal(out_add_sink(o, &b.base), 0);
	assert_int_equal(out_sink_count(o), 2);
	assert_ptr_equal(out_sink_at(o, 1), &b.base);
	assert_null(out_sink_at(o, 2));
	assert_int_equal(out_start(o), 0);
	assert_int_equal(out_add_sink(o, &a.base), SW_EINVAL); /* after start */
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_stop(o);
	assert_int_equal(a.got, n);
	assert_int_equal(b.got, n);
	assert_int_equal(a.out_of_order, 0);
	assert_int_equal(b.out_of_order, 0);
	assert_true(a.closed && b.closed);
	ts_destroy(&a);
	ts_destroy(&b);
}

/* out_stop delivers what is queued: with a thread that was never started
 * (drained in the caller), and right after a burst with one running. */
static void test_stop_drains(void **state)
{
	(void)state;
	struct test_sink t;
	struct out *o = out_new(100);

	assert_non_null(o);
	ts_init(&t, "nothread");
	assert_int_equal(out_add_sink(o, &t.base), 0);
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(emit_seq(o, i), 0);
	assert_int_equal(emit_seq(o, 100), SW_EFULL); /* no thread: no waiting */
	out_stop(o);
	assert_int_equal(t.got, 100);
	assert_int_equal(t.out_of_order, 0);
	ts_destroy(&t);

	o = out_new(4096);
	assert_non_null(o);
	ts_init(&t, "burst");
	t.stalled = 1;
	assert_int_equal(out_add_sink(o, &t.base), 0);
	assert_int_equal(out_start(o), 0);
	for (uint64_t i = 0; i < 4096; i++)
		assert_int_equal(emit_seq(o, i), 0);
	ts_release(&t);
	out_stop(o);
	assert_int_equal(t.got, 4096);
	assert_int_equal(t.out_of_order, 0);
	ts_destroy(&t);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct out *o = out_new(64);
	struct test_sink t;
	struct out_stats st;

	assert_null(out_new(0));
	assert_non_null(o);
	ts_init(&t, "x");
	assert_int_equal(out_emit(o, OUT_DS_MAX, "k", strdup("{}"), 2), SW_EINVAL);
	assert_int_equal(out_emit(o, -1, "k", strdup("{}"), 2), SW_EINVAL);
	assert_int_equal(out_emit(o, OUT_DS_ALERT, "k", NULL, 0), SW_EINVAL);
	for (int i = 0; i < OUT_MAX_SINKS; i++)
		assert_int_equal(out_add_sink(o, &t.base), 0);
	assert_int_equal(out_add_sink(o, &t.base), SW_EFULL);
	/* A key longer than the slot's is cut, not overrun. */
	assert_int_equal(out_emit(o, OUT_DS_ALERT,
				  "0123456789012345678901234567890123456789-too-long",
				  strdup("{\"seq\":0}"), 9), 0);
	out_get_stats(o, &st);
	assert_int_equal(st.emitted[OUT_DS_ALERT], 1);
	assert_int_equal(st.queue_depth, 1);
	out_stop(o);
	assert_int_equal(t.got, OUT_MAX_SINKS);
	ts_destroy(&t);
}

/* ---- file sink ------------------------------------------------------- */

/* Reads a file of {"seq":N} lines; checks they run first, first+1, ...
 * and returns how many there are (-1 when the file cannot be read). */
static long check_lines(const char *path, uint64_t first)
{
	FILE *f = fopen(path, "r");
	char line[128];
	long n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long v;
		if (sscanf(line, "{\"seq\":%llu}", &v) != 1 || v != first + (uint64_t)n ||
		    line[strlen(line) - 1] != '\n')
			fail_msg("%s: line %ld is '%s', want seq %llu", path, n + 1,
				 line, (unsigned long long)(first + (uint64_t)n));
		n++;
	}
	fclose(f);
	return n;
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/stubwatch-test-out-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* 200,000 events through a small ring into a file, plus a line longer than
 * the sink's 1 MiB buffer in the middle: every line, in order, each ending
 * in a newline; the file is created 0640 and appended to. */
static void test_file_order(void **state)
{
	(void)state;
	char path[128], err[256];
	struct out_sink *s;
	struct out *o;
	struct stat sb;
	const uint64_t n = 200000;

	snprintf(path, sizeof(path), "%s/order.json", tmpdir);
	umask(022);
	for (int round = 0; round < 2; round++) {
		o = out_new(128);
		assert_non_null(o);
		s = out_file_sink(path, err, sizeof(err));
		assert_non_null(s);
		assert_string_equal(s->ops->kind, "file");
		out_set_blocking(o, 1);
		assert_int_equal(out_add_sink(o, s), 0);
		assert_int_equal(out_start(o), 0);
		for (uint64_t i = 0; i < n; i++)
			assert_int_equal(emit_seq(o, round * n + i), 0);
		out_stop(o);
	}
	assert_int_equal(check_lines(path, 0), 2 * n);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	/* A 3 MiB event between two small ones. */
	size_t big = 3u << 20;
	char *json = malloc(big + 1);
	assert_non_null(json);
	memset(json, ' ', big);
	memcpy(json, "{\"seq\":1", 8);
	json[big - 1] = '}';
	json[big] = '\0';
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	o = out_new(64);
	s = out_file_sink(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(out_add_sink(o, s), 0);
	assert_int_equal(out_start(o), 0);
	assert_int_equal(emit_seq(o, 0), 0);
	assert_int_equal(out_emit(o, OUT_DS_DEVICE, "k", json, big), 0);
	assert_int_equal(emit_seq(o, 2), 0);
	out_stop(o);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 10 + (big + 1) + 10); /* {"seq":0}\n */
}

/* logrotate: rename the file, request a reopen; what was drained before is
 * in the renamed file, what is emitted after lands in a new file at the old
 * path. */
static void test_file_reopen(void **state)
{
	(void)state;
	char path[128], rotated[140], err[256];
	struct out_sink *s;
	struct out_sink_stats ss;
	struct out *o = out_new(64);

	snprintf(path, sizeof(path), "%s/events.json", tmpdir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	s = out_file_sink(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(strncmp(s->name, "file:/tmp/stubwatch-test-out-", 29), 0);
	assert_int_equal(out_add_sink(o, s), 0);
	out_set_blocking(o, 1);
	assert_int_equal(out_start(o), 0);
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_drain(o);
	assert_int_equal(rename(path, rotated), 0);
	out_request_reopen(o);
	for (uint64_t i = 1000; i < 1500; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_drain(o);
	assert_int_equal(check_lines(rotated, 0), 1000);
	assert_int_equal(check_lines(path, 1000), 500);
	assert_int_equal(out_get_sink_stats(o, 0, &ss), 0);
	assert_int_equal(ss.delivered, 1500);
	assert_int_equal(ss.errors, 0);

	/* A reopen that cannot open the path (its folder moved away) keeps
	 * writing to the open file and counts one error. */
	char moved[80];
	snprintf(moved, sizeof(moved), "%s-moved", tmpdir);
	assert_int_equal(rename(path, rotated), 0);   /* rotated: 1000..1499 */
	assert_int_equal(rename(tmpdir, moved), 0);
	out_request_reopen(o);
	for (uint64_t i = 1500; i < 1600; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_drain(o);
	assert_int_equal(rename(moved, tmpdir), 0);
	assert_int_equal(out_get_sink_stats(o, 0, &ss), 0);
	assert_int_equal(ss.errors, 1);
	assert_int_equal(ss.delivered, 1600);
	out_stop(o);
	assert_int_equal(check_lines(rotated, 1000), 600);
	assert_int_equal(check_lines(path, 0), -1);
}

/* Writes that fail (ENOSPC on /dev/full) are counted as errors and dropped
 * events, and the sink goes on. */
static void test_file_errors(void **state)
{
	(void)state;
	char err[256];
	struct out_sink_stats ss;
	struct out *o = out_new(64);
	struct out_sink *s = out_file_sink("/dev/full", err, sizeof(err));

	assert_non_null(s);
	assert_int_equal(out_add_sink(o, s), 0);
	assert_int_equal(out_start(o), 0);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(emit_seq(o, i), 0);
	out_drain(o);
	assert_int_equal(out_get_sink_stats(o, 0, &ss), 0);
	assert_int_equal(ss.delivered, 10);
	assert_int_equal(ss.dropped, 10);
	assert_true(ss.errors >= 1);
	out_stop(o);

	assert_null(out_file_sink("/nonexistent/dir/x.json", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/dir/x.json: No such file or directory");
	assert_null(out_file_sink("", err, sizeof(err)));
	s = out_file_sink("-", err, sizeof(err));
	assert_non_null(s);
	assert_string_equal(s->name, "file:-");
	s->ops->close(s, 0);  /* stdout stays open */
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_blocking),
		cmocka_unit_test(test_drops_nonblocking),
		cmocka_unit_test(test_two_sinks),
		cmocka_unit_test(test_stop_drains),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_file_order),
		cmocka_unit_test(test_file_reopen),
		cmocka_unit_test(test_file_errors),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
