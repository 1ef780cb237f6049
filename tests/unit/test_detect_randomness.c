/* test_detect_randomness.c — port and ID randomness: sigma, classes, steps,
 * verdicts (RFC 5452 §9.2; stub.port-predictable, stub.txid-predictable).
 *
 * Samples come from generators with fixed seeds, so every run sees the same
 * numbers. Expected sigmas are analytic: a uniform source over m values has
 * sigma = sqrt((m^2 - 1) / 12); the tolerance is four standard errors of
 * the sample sigma of a uniform source, sigma * sqrt(0.8 / (4 n)) (excess
 * kurtosis -1.2), i.e. ±11 % at 256 samples and ±22 % at 64.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "detect/randomness.h"

/* splitmix64 (Steele, Lea, Flood): a tiny PRNG whose whole state is the
 * seed, enough to stand for a device's random source. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct rnd_params txid_params(void)
{
	struct rnd_params p = RND_PARAMS_DEFAULT;
	return p;
}

/* Ports wait for the minimum: no early constant rule. */
static struct rnd_params port_params(void)
{
	struct rnd_params p = RND_PARAMS_DEFAULT;
	p.constant_after = 0;
	return p;
}

static double uniform_sigma(double m)
{
	return sqrt((m * m - 1.0) / 12.0);
}

enum gen {
	G_CONST,     /* a, always */
	G_STEP,      /* a, a + b, a + 2b, ... mod 65536 */
	G_PORT_SEQ,  /* a, a + 1, ... 65535, then b, b + 1, ... */
	G_UNIFORM,   /* uniform over [a, a + m) */
	G_ALTERNATE, /* a, b, a, b, ... */
	G_OUTLIER,   /* a, and b as the last sample */
	G_RUNS       /* uniform 16-bit values, each repeated b times */
};

static void generate(enum gen g, uint32_t a, uint32_t b, uint32_t m,
		     uint64_t seed, uint32_t count, struct rnd_ring *r)
{
	uint64_t s = seed;
	uint32_t x = a;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t v = 0;
		switch (g) {
		case G_CONST: v = a; break;
		case G_STEP: v = (a + i * b) & 0xffffu; break;
		case G_PORT_SEQ:
			v = x;
			x = (x == 65535) ? b : x + 1;
			break;
		case G_UNIFORM: v = a + (uint32_t)(next_rand(&s) % m); break;
		case G_ALTERNATE: v = (i & 1) ? b : a; break;
		case G_OUTLIER: v = (i + 1 == count) ? b : a; break;
		case G_RUNS:
			if (i % b == 0)
				x = (uint32_t)(next_rand(&s) & 0xffffu);
			v = x;
			break;
		}
		rnd_add(r, (uint16_t)v);
	}
}

#define ANY (-1)  /* a field the case does not assert */

struct vcase {
	const char *name;
	int ports;          /* 1: port params (no early constant rule) */
	enum gen g;
	uint32_t a, b, m;
	uint32_t count;
	enum rnd_verdict verdict;
	enum rnd_reason reason;
	int cls;            /* enum rnd_class or ANY */
	double sigma;       /* expected; -1: uniform_sigma(m) ± 4 SE;
			     * -2: not asserted */
	double sigma_tol;   /* absolute; used when sigma >= 0 */
	int step;           /* expected step or ANY */
	double step_share;  /* expected share (±1e-9) when step != ANY */
};

static const struct vcase vcases[] = {
	/* ID 0 and constant IDs: fire at once after 8 queries. */
	{ "txid 0, 7 queries", 0, G_CONST, 0, 0, 0, 7,
	  RND_UNKNOWN, RND_R_NONE, RND_CLASS_NONE, 0, 0, 0, 1.0 },
	{ "txid 0, 8 queries", 0, G_CONST, 0, 0, 0, 8,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_NONE, 0, 0, 0, 1.0 },
	{ "txid 0, 300 queries", 0, G_CONST, 0, 0, 0, 300,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_NONE, 0, 0, 0, 1.0 },
	{ "txid 0x1234, 8 queries", 0, G_CONST, 0x1234, 0, 0, 8,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_NONE, 0, 0, 0, 1.0 },
	{ "txid 0x1234, 256 queries", 0, G_CONST, 0x1234, 0, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_NONE, 0, 0, 0, 1.0 },
	/* One stray value does not rescue a constant ID, although it lifts
	 * sigma to 65535 * sqrt(255) / 256 = 4088 (Excellent). */
	{ "txid 0 with one 0xffff", 0, G_OUTLIER, 0, 65535, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_EXCELLENT,
	  65535.0 * sqrt(255.0) / 256.0, 1e-6, 0, 254.0 / 255 },
	/* A constant port waits for 64 queries. */
	{ "port constant, 63 queries", 1, G_CONST, 1024, 0, 0, 63,
	  RND_UNKNOWN, RND_R_NONE, RND_CLASS_NONE, 0, 0, ANY, 0 },
	{ "port constant, 64 queries", 1, G_CONST, 1024, 0, 0, 64,
	  RND_FAIL, RND_R_CONSTANT_VALUE, RND_CLASS_NONE, 0, 0, ANY, 0 },

	/* Sequential and strided: a constant step fails whatever sigma says. */
	{ "txid +1", 0, G_STEP, 1000, 1, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_STEP, RND_CLASS_POOR,
	  73.900271, 1e-5, 1, 1.0 },
	{ "txid +1 across 65535->0 (large sigma)", 0, G_STEP, 65408, 1, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_STEP, RND_CLASS_EXCELLENT,
	  -2, 0, 1, 1.0 },
	/* 300 values: the ring has wrapped, and the steps are taken oldest
	 * first across the slot where it wrapped. */
	{ "txid +1, 300 queries", 0, G_STEP, 1000, 1, 0, 300,
	  RND_FAIL, RND_R_CONSTANT_STEP, RND_CLASS_POOR,
	  73.900271, 1e-5, 1, 1.0 },
	{ "txid stride 7 with wrap", 0, G_STEP, 65000, 7, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_STEP, ANY, -2, 0, 7, 1.0 },
	{ "txid stride 0x9e37 (sigma ~ uniform)", 0, G_STEP, 0, 0x9e37, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_STEP, RND_CLASS_EXCELLENT, -2, 0, 0x9e37, 1.0 },
	{ "port +1 wrapping 65535->1024", 1, G_PORT_SEQ, 65400, 1024, 0, 256,
	  RND_FAIL, RND_R_CONSTANT_STEP, RND_CLASS_EXCELLENT,
	  -2, 0, 1, 254.0 / 255 },

	/* A step of 0 is not a "constant step": a value reused for 16 queries
	 * in a row (the caller already dropped retransmissions) is judged by
	 * sigma and by the constant-value share, as the rule is written. */
	{ "port reused 16 times in a row", 1, G_RUNS, 0, 16, 0, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, -2, 0, 0, 240.0 / 255 },

	/* Uniform sources. */
	{ "txid uniform 16-bit", 0, G_UNIFORM, 0, 0, 65536, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, -1, 0, ANY, 0 },
	{ "txid uniform 16-bit, 64 queries: a verdict", 0, G_UNIFORM, 0, 0, 65536, 64,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, -1, 0, ANY, 0 },
	{ "txid uniform 16-bit, 63 queries", 0, G_UNIFORM, 0, 0, 65536, 63,
	  RND_UNKNOWN, RND_R_NONE, RND_CLASS_EXCELLENT, -1, 0, ANY, 0 },
	{ "port uniform 49152-65535", 1, G_UNIFORM, 49152, 0, 16384, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, -1, 0, ANY, 0 },
	{ "port uniform 32768-60999 (Linux)", 1, G_UNIFORM, 32768, 0, 28232, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, -1, 0, ANY, 0 },
	{ "port: 63 random ports (near miss)", 1, G_UNIFORM, 49152, 0, 16384, 63,
	  RND_UNKNOWN, RND_R_NONE, ANY, -1, 0, ANY, 0 },
	{ "port uniform in 64-port window", 1, G_UNIFORM, 50000, 0, 64, 256,
	  RND_FAIL, RND_R_CLASS_POOR, RND_CLASS_POOR, -1, 0, ANY, 0 },
	{ "port uniform in 64-port window, 64 queries", 1, G_UNIFORM, 50000, 0, 64, 64,
	  RND_FAIL, RND_R_CLASS_POOR, RND_CLASS_POOR, -1, 0, ANY, 0 },
	/* sqrt((1024^2 - 1) / 12) = 295.6 sits on the Good threshold (296 is
	 * the sigma of ~1025 values): the class of a 1024-port window is a
	 * coin toss of the sample, so only sigma is asserted. */
	{ "port uniform in 1024-port window", 1, G_UNIFORM, 40000, 0, 1024, 256,
	  ANY, ANY, ANY, -1, 0, ANY, 0 },
	{ "port uniform in 2048-port window", 1, G_UNIFORM, 40000, 0, 2048, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_GOOD, -1, 0, ANY, 0 },
	{ "port uniform in 512-port window", 1, G_UNIFORM, 40000, 0, 512, 256,
	  RND_FAIL, RND_R_CLASS_POOR, RND_CLASS_POOR, -1, 0, ANY, 0 },

	/* Class boundaries, exact: two values 2s apart, half each, have
	 * population sigma s. */
	{ "sigma 296 exactly: Good", 0, G_ALTERNATE, 0, 592, 0, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_GOOD, 296.0, 0, 592, 128.0 / 255 },
	{ "sigma 295: Poor", 0, G_ALTERNATE, 0, 590, 0, 256,
	  RND_FAIL, RND_R_CLASS_POOR, RND_CLASS_POOR, 295.0, 0, 590, 128.0 / 255 },
	{ "sigma 3980 exactly: Excellent", 0, G_ALTERNATE, 100, 8060, 0, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_EXCELLENT, 3980.0, 0, ANY, 0 },
	{ "sigma 3979: Good", 0, G_ALTERNATE, 100, 8058, 0, 256,
	  RND_PASS, RND_R_NONE, RND_CLASS_GOOD, 3979.0, 0, ANY, 0 },
	/* sigma 0.5 (two neighbouring values): None, not Poor. */
	{ "sigma 0.5: None", 0, G_ALTERNATE, 7, 8, 0, 256,
	  RND_FAIL, RND_R_CLASS_NONE, RND_CLASS_NONE, 0.5, 0, 1, 128.0 / 255 },
};

static void check_case(const struct vcase *c)
{
	struct rnd_ring r;
	struct rnd_params p = c->ports ? port_params() : txid_params();
	struct rnd_result res;
	uint32_t fill = c->count < RND_RING ? c->count : RND_RING;
	enum rnd_verdict v;

	print_message("case: %s\n", c->name);
	rnd_init(&r);
	generate(c->g, c->a, c->b, c->m, 0x5eed0000u + c->count, c->count, &r);
	v = rnd_verdict(&r, &p, &res);

	assert_int_equal(v, res.verdict);
	if ((int)c->verdict != ANY)
		assert_int_equal(res.verdict, c->verdict);
	if ((int)c->reason != ANY)
		assert_int_equal(res.reason, c->reason);
	if (c->cls != ANY)
		assert_int_equal(res.cls, c->cls);
	assert_int_equal(res.n, fill);
	assert_int_equal(res.seen, c->count);
	if (c->sigma >= 0) {
		assert_true(fabs(res.sigma - c->sigma) <= c->sigma_tol);
	} else if (c->sigma == -1) {
		double want = uniform_sigma(c->m);
		double tol = 4.0 * want * sqrt(0.8 / (4.0 * fill));
		print_message("  sigma %.1f, analytic %.1f ± %.1f\n",
			      res.sigma, want, tol);
		assert_true(fabs(res.sigma - want) <= tol);
	}
	if (c->step != ANY) {
		assert_int_equal(res.step, c->step);
		assert_true(fabs(res.step_share - c->step_share) < 1e-9);
	}
	/* Invariants of every result. */
	assert_true(res.distinct >= 1 && res.distinct <= fill);
	assert_true(fabs(res.distinct_share - (double)res.distinct / fill) < 1e-12);
	assert_true(res.value_share > 0 && res.value_share <= 1.0);
	/* At most log2(32767.5 * sqrt(12)) = 16.79: half 0, half 65535. */
	assert_true(res.bits >= 0 && res.bits <= 16.8);
}

static void test_verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++)
		check_case(&vcases[i]);
}

static void test_empty_ring(void **state)
{
	(void)state;
	struct rnd_ring r;
	struct rnd_params p = txid_params();
	struct rnd_result res;

	memset(&res, 0xa5, sizeof(res));
	rnd_init(&r);
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_UNKNOWN);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.seen, 0);
	assert_int_equal(res.reason, RND_R_NONE);
	assert_int_equal(res.cls, RND_CLASS_NONE);
	assert_true(res.sigma == 0 && res.bits == 0);
	assert_int_equal(res.distinct, 0);
	assert_true(res.distinct_share == 0 && res.step_share == 0);
	assert_int_equal(sizeof(struct rnd_ring), 520);
}

/* The ring holds the last 256 values only: a device that was bad and
 * became good passes once 256 good values have pushed the bad ones out,
 * and its numbers are then those of the good values alone. */
static void test_ring_keeps_last_256(void **state)
{
	(void)state;
	struct rnd_ring r, fresh;
	struct rnd_params p = port_params();
	struct rnd_result res, want;
	uint64_t s = 42;
	uint16_t good[RND_RING];

	for (int i = 0; i < RND_RING; i++)
		good[i] = (uint16_t)(49152 + next_rand(&s) % 16384);

	/* Bad: 1000 ports from a 64-port window. */
	rnd_init(&r);
	generate(G_UNIFORM, 50000, 0, 64, 7, 1000, &r);
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_FAIL);
	assert_int_equal(res.reason, RND_R_CLASS_POOR);

	rnd_init(&fresh);
	for (int i = 0; i < RND_RING; i++) {
		rnd_add(&r, good[i]);
		rnd_add(&fresh, good[i]);
	}
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_PASS);
	rnd_verdict(&fresh, &p, &want);
	assert_int_equal(res.n, RND_RING);
	assert_int_equal(res.seen, 1000 + RND_RING);
	assert_true(res.sigma == want.sigma);
	assert_int_equal(res.distinct, want.distinct);
	assert_int_equal(res.step, want.step);
	assert_true(res.step_share == want.step_share);

	/* Constant ID 0 for 256 queries, then random ones: still constant
	 * while >= 90 % of the ring is 0, a pass once it is all random. */
	struct rnd_params tp = txid_params();
	rnd_init(&r);
	generate(G_CONST, 0, 0, 0, 0, RND_RING, &r);
	for (int i = 0; i < 25; i++)
		rnd_add(&r, good[i]);
	assert_int_equal(rnd_verdict(&r, &tp, &res), RND_FAIL);
	assert_int_equal(res.reason, RND_R_CONSTANT_VALUE);
	assert_true(fabs(res.value_share - 231.0 / 256) < 1e-12);
	for (int i = 25; i < RND_RING; i++)
		rnd_add(&r, good[i]);
	assert_int_equal(rnd_verdict(&r, &tp, &res), RND_PASS);
	assert_true(res.sigma == want.sigma);
}

/* bits = log2(sigma * sqrt(12)). */
static void test_bits(void **state)
{
	(void)state;
	struct rnd_ring r;
	struct rnd_params p = txid_params();
	struct rnd_result res;

	/* sigma 296: log2(296 * 3.4641016) = log2(1025.3741) = 10.001935. */
	rnd_init(&r);
	generate(G_ALTERNATE, 0, 592, 0, 0, 256, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(res.sigma == 296.0);
	assert_true(fabs(res.bits - 10.001935) < 1e-6);

	/* sigma 3980: log2(13787.12) = 13.751034. */
	rnd_init(&r);
	generate(G_ALTERNATE, 100, 8060, 0, 0, 256, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(fabs(res.bits - 13.751034) < 1e-6);

	/* sigma 0: bits 0; sigma 0.5: log2(1.732) = 0.792481. */
	rnd_init(&r);
	generate(G_CONST, 9, 0, 0, 0, 100, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(res.bits == 0.0);
	rnd_init(&r);
	generate(G_ALTERNATE, 7, 8, 0, 0, 100, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(fabs(res.bits - 0.792481) < 1e-6);

	/* A uniform 16-bit source carries ~16 bits. */
	rnd_init(&r);
	generate(G_UNIFORM, 0, 0, 65536, 3, 256, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(fabs(res.bits - 16.0) < 0.2);
}

/* distinct and distinct_share, value and value_share. */
static void test_distinct(void **state)
{
	(void)state;
	struct rnd_ring r;
	struct rnd_params p = txid_params();
	struct rnd_result res;
	uint16_t v[RND_RING];
	uint64_t s = 99;

	/* 128 values, each twice, shuffled (Fisher-Yates). */
	for (int i = 0; i < RND_RING; i++)
		v[i] = (uint16_t)(1000 + 37 * (i / 2));
	for (int i = RND_RING - 1; i > 0; i--) {
		int j = (int)(next_rand(&s) % (uint64_t)(i + 1));
		uint16_t t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	rnd_init(&r);
	for (int i = 0; i < RND_RING; i++)
		rnd_add(&r, v[i]);
	rnd_verdict(&r, &p, &res);
	assert_int_equal(res.distinct, 128);
	assert_true(res.distinct_share == 0.5);
	assert_true(res.value_share == 2.0 / 256);

	/* Partly filled: 100 values, 50 distinct (0..49 twice, in order). */
	rnd_init(&r);
	for (int i = 0; i < 100; i++)
		rnd_add(&r, (uint16_t)(i % 50));
	rnd_verdict(&r, &p, &res);
	assert_int_equal(res.n, 100);
	assert_int_equal(res.distinct, 50);
	assert_true(res.distinct_share == 0.5);
	assert_int_equal(res.value, 0);   /* smallest on a tie */
	assert_int_equal(res.step, 1);    /* 98 of 99 steps are +1 */
	assert_true(fabs(res.step_share - 98.0 / 99) < 1e-12);
	assert_int_equal(res.reason, RND_R_CONSTANT_STEP);

	/* Uniform 16-bit: 256 draws collide ~0.5 times on average. */
	rnd_init(&r);
	generate(G_UNIFORM, 0, 0, 65536, 5, 256, &r);
	rnd_verdict(&r, &p, &res);
	assert_true(res.distinct >= 252);
	assert_true(res.step_share < 0.05);
}

/* Counting by brute force: distinct values, and the most common value (the
 * smallest on a tie) with its count. */
static void naive_mode(const uint16_t *a, unsigned n, uint32_t *distinct,
		       uint16_t *mode, uint32_t *count)
{
	*distinct = 0;
	*count = 0;
	*mode = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned c = 0, first = 1;
		for (unsigned j = 0; j < n; j++) {
			if (a[j] == a[i])
				c++;
			if (j < i && a[j] == a[i])
				first = 0;
		}
		*distinct += first;
		if (c > *count || (c == *count && a[i] < *mode)) {
			*count = c;
			*mode = a[i];
		}
	}
}

/* Every ring statistic equals brute-force counting, over rings with no
 * repeat, a few repeats, ties between repeated values, values repeating
 * across the ring's wrap, one constant, and few values; rings full and
 * partly filled. The counting keeps scratch state between calls, so the
 * rings go through one after another. */
static void test_counts_match_brute_force(void **state)
{
	(void)state;
	struct rnd_params p = txid_params();
	uint64_t s = 7;

	for (int round = 0; round < 600; round++) {
		unsigned n = round % 3 == 0 ? 1 + (unsigned)(next_rand(&s) % RND_RING) : RND_RING;
		unsigned extra = (unsigned)(next_rand(&s) % 300); /* wraps the ring */
		uint32_t span = round % 6 == 0 ? 65536 : round % 6 == 1 ? 2000 :
				round % 6 == 2 ? 40 : round % 6 == 3 ? 3 : round % 6 == 4 ? 1 : 300;
		struct rnd_ring r;
		rnd_init(&r);
		for (unsigned i = 0; i < n + (n == RND_RING ? extra : 0); i++)
			rnd_add(&r, (uint16_t)(60000 + next_rand(&s) % span));
		uint16_t vals[RND_RING], steps[RND_RING];
		unsigned fill = r.fill, start = fill < RND_RING ? 0 : r.next;
		for (unsigned i = 0; i < fill; i++) {
			vals[i] = r.v[(start + i) % RND_RING];
			if (i > 0)
				steps[i - 1] = (uint16_t)(vals[i] - vals[i - 1]);
		}
		struct rnd_result res;
		rnd_verdict(&r, &p, &res);
		uint32_t distinct, count;
		uint16_t mode;
		naive_mode(vals, fill, &distinct, &mode, &count);
		assert_int_equal(res.n, fill);
		assert_int_equal(res.distinct, distinct);
		assert_int_equal(res.value, mode);
		assert_true(res.value_share == (double)count / fill);
		if (fill >= 2) {
			naive_mode(steps, fill - 1, &distinct, &mode, &count);
			assert_int_equal(res.step, mode);
			assert_true(res.step_share == (double)count / (fill - 1));
		}
	}
}

/* The verdict obeys the parameters it is given. */
static void test_params(void **state)
{
	(void)state;
	struct rnd_ring r;
	struct rnd_params p = txid_params();
	struct rnd_result res;

	assert_int_equal(rnd_params_check(&p), 0);
	p.min_queries = 0;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p.min_queries = RND_RING + 1;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p = txid_params();
	p.sigma_good = 5000;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p = txid_params();
	p.sigma_excellent = NAN;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p = txid_params();
	p.constant_share = 0.4;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p.constant_share = NAN;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);
	p = txid_params();
	p.constant_after = RND_RING + 1;
	assert_int_equal(rnd_params_check(&p), SW_ERANGE);

	/* constant_after 0: a constant ID waits for min_queries too. */
	rnd_init(&r);
	generate(G_CONST, 0, 0, 0, 0, 63, &r);
	p = txid_params();
	p.constant_after = 0;
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_UNKNOWN);
	rnd_add(&r, 0);
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_FAIL);

	/* Early rule needs all of a short fill: 7 zeros then one 5 at fill 8
	 * is 87.5 % < 90 %: UNKNOWN. */
	rnd_init(&r);
	generate(G_OUTLIER, 0, 5, 0, 0, 8, &r);
	p = txid_params();
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_UNKNOWN);

	/* Thresholds come from the caller: the same ring changes class. */
	rnd_init(&r);
	generate(G_UNIFORM, 40000, 0, 1024, 1, 256, &r);
	p = port_params();
	p.sigma_good = 100;
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_PASS);
	assert_int_equal(res.cls, RND_CLASS_GOOD);
	p.sigma_good = 1000;
	p.sigma_excellent = 2000;
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_FAIL);
	assert_int_equal(res.cls, RND_CLASS_POOR);

	/* Out-of-range parameters are clamped, not trusted: min_queries 1000
	 * acts as 256. */
	rnd_init(&r);
	generate(G_UNIFORM, 0, 0, 65536, 2, 256, &r);
	p = txid_params();
	p.min_queries = 1000;
	assert_int_equal(rnd_verdict(&r, &p, &res), RND_PASS);
}

static void test_seen_saturates(void **state)
{
	(void)state;
	struct rnd_ring r;

	rnd_init(&r);
	r.seen = UINT32_MAX - 1;
	rnd_add(&r, 1);
	rnd_add(&r, 2);
	assert_int_equal(r.seen, UINT32_MAX);
	assert_int_equal(r.fill, 2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rnd_class_name(RND_CLASS_EXCELLENT), "excellent");
	assert_string_equal(rnd_class_name(RND_CLASS_GOOD), "good");
	assert_string_equal(rnd_class_name(RND_CLASS_POOR), "poor");
	assert_string_equal(rnd_class_name(RND_CLASS_NONE), "none");
	assert_string_equal(rnd_verdict_name(RND_FAIL), "fail");
	assert_string_equal(rnd_verdict_name(RND_PASS), "pass");
	assert_string_equal(rnd_verdict_name(RND_UNKNOWN), "unknown");
	assert_string_equal(rnd_reason_name(RND_R_CONSTANT_STEP), "constant-step");
	assert_string_equal(rnd_reason_name(RND_R_CONSTANT_VALUE), "constant-value");
	assert_string_equal(rnd_reason_name(RND_R_CLASS_POOR), "class-poor");
	assert_string_equal(rnd_reason_name(RND_R_CLASS_NONE), "class-none");
	assert_string_equal(rnd_reason_name(RND_R_NONE), "");
	assert_string_equal(rnd_class_name((enum rnd_class)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_empty_ring),
		cmocka_unit_test(test_ring_keeps_last_256),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_counts_match_brute_force),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_seen_saturates),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
