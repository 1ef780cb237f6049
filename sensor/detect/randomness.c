/* randomness.c — spread, steps and classes of ports and IDs (see randomness.h).
 *
 * References: RFC 5452 §9.2, RFC 6056, RFC 1035 §4.1.1; the classes and
 * their sigma thresholds are those of the DNS-OARC porttest measurements.
 */
#include "detect/randomness.h"

#include <math.h>
#include <string.h>

#include "common/err.h"

/* next is a uint8_t that wraps by mask, and the size is stated in the
 * header's memory arithmetic. */
_Static_assert(RND_RING == 256, "rnd_ring.next is 8 bits wide");
_Static_assert(sizeof(struct rnd_ring) == 520, "memory arithmetic in randomness.h");

void rnd_init(struct rnd_ring *r)
{
	memset(r, 0, sizeof(*r));
}

void rnd_add(struct rnd_ring *r, uint16_t v)
{
	r->v[r->next] = v;
	r->next = (uint8_t)((r->next + 1u) & (RND_RING - 1u));
	if (r->fill < RND_RING)
		r->fill++;
	if (r->seen != UINT32_MAX)
		r->seen++;
}

/* Sorts n <= RND_RING values ascending: an LSD radix sort over the two
 * bytes. Two counting passes over at most 256 values cost less than the
 * comparator calls alone of qsort(), need no function pointer, and the
 * sorted copy answers both "how many distinct" and "which value is the most
 * common". A 65536-bit bitmap (8 KiB on the stack, zeroed per call) would
 * count distinct values too, but not find the most common step. */
static void sort16(uint16_t *a, uint16_t *tmp, unsigned n)
{
	uint16_t pos[256];  /* bucket start; counts fit: n <= 256 */
	unsigned shift, i, sum;

	for (shift = 0; shift <= 8; shift += 8) {
		memset(pos, 0, sizeof(pos));
		for (i = 0; i < n; i++)
			pos[(a[i] >> shift) & 0xffu]++;
		sum = 0;
		for (i = 0; i < 256; i++) {
			unsigned c = pos[i];
			pos[i] = (uint16_t)sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[pos[(a[i] >> shift) & 0xffu]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* Over a sorted array: the number of distinct values, and the longest run
 * (the most common value; the smallest one on a tie, as the array is
 * ascending). n >= 1. */
static void runs(const uint16_t *a, unsigned n, uint32_t *distinct,
		 uint16_t *mode, uint32_t *mode_count)
{
	unsigned i, start = 0;

	*distinct = 1;
	*mode = a[0];
	*mode_count = 1;
	for (i = 1; i <= n; i++) {
		if (i < n && a[i] == a[start])
			continue;
		if (i - start > *mode_count) {
			*mode_count = i - start;
			*mode = a[start];
		}
		if (i < n)
			(*distinct)++;
		start = i;
	}
}

/* One bit per 16-bit value, all zero between calls of tally() (it clears
 * what it set): zeroing 8 KiB per call would cost more than the work. */
static _Thread_local uint64_t tally_seen[65536 / 64];

/* The number of distinct values among n >= 1, and the most common value
 * (the smallest on a tie) with its count. Only repeats need sorting: a
 * value seen before goes to a side list, and the most common value is the
 * longest run of that list, sorted (its count one more than the run). The
 * draws of a good stub rarely repeat, so the usual list is empty or a few
 * values, and the ring costs three passes instead of a sort; a constant
 * source costs one sort, as before. */
static void tally(const uint16_t *a, unsigned n, uint16_t *rep, uint16_t *tmp,
		  uint32_t *distinct, uint16_t *mode, uint32_t *mode_count)
{
	unsigned nrep = 0, i;
	uint16_t min = a[0];

	for (i = 0; i < n; i++) {
		uint64_t *w = &tally_seen[a[i] >> 6], bit = 1ull << (a[i] & 63);
		rep[nrep] = a[i];
		nrep += (*w & bit) != 0;
		*w |= bit;
		min = a[i] < min ? a[i] : min;
	}
	for (i = 0; i < n; i++)
		tally_seen[a[i] >> 6] = 0;
	*distinct = n - nrep;
	if (nrep == 0) {
		/* All distinct: every count is 1, the smallest value wins. */
		*mode = min;
		*mode_count = 1;
		return;
	}
	uint32_t ignored;
	sort16(rep, tmp, nrep);
	runs(rep, nrep, &ignored, mode, mode_count);
	(*mode_count)++;
}

/* Fills every number of *out from the ring, leaving the verdict alone.
 *
 * sigma is the population standard deviation (divide by n, not n - 1): it
 * is the quantity the class thresholds are stated in (the sigma of a
 * uniform source over m values, sqrt((m^2 - 1) / 12), is the population
 * formula), it is exactly 0 when all values are equal, and at the 64-sample
 * minimum it differs from the sample formula by sqrt(64 / 63) = 0.8 %,
 * nothing next to the factor 13 between the class thresholds. It is
 * computed from exact integer moments: n * sum(x^2) - sum(x)^2 is at most
 * 256 * 256 * 65535^2 < 2^48, so there is no cancellation and "sigma < 1"
 * is an exact integer comparison. */
static void compute(const struct rnd_ring *r, const struct rnd_params *p,
		    struct rnd_result *out)
{
	uint16_t vals[RND_RING];  /* the ring, oldest first */
	uint16_t steps[RND_RING]; /* consecutive differences mod 65536 */
	uint16_t rep[RND_RING];   /* repeated values (tally) */
	uint16_t tmp[RND_RING];   /* sort scratch */
	unsigned n = r->fill, start = (n < RND_RING) ? 0 : r->next, i;
	uint64_t s1 = 0, s2 = 0, num;
	uint32_t cnt;

	out->seen = r->seen;
	out->n = n;
	if (n == 0) {
		out->cls = RND_CLASS_NONE;
		return;
	}
	for (i = 0; i < n; i++) {
		uint16_t v = r->v[(start + i) & (RND_RING - 1u)];
		vals[i] = v;
		s1 += v;
		s2 += (uint64_t)v * v;
		if (i > 0)
			steps[i - 1] = (uint16_t)(v - vals[i - 1]);
	}

	num = (uint64_t)n * s2 - s1 * s1;
	out->sigma = sqrt((double)num) / (double)n;
	out->bits = out->sigma * sqrt(12.0) > 1.0 ? log2(out->sigma * sqrt(12.0)) : 0.0;
	if (num < (uint64_t)n * n)
		out->cls = RND_CLASS_NONE;
	else if (out->sigma >= p->sigma_excellent)
		out->cls = RND_CLASS_EXCELLENT;
	else if (out->sigma >= p->sigma_good)
		out->cls = RND_CLASS_GOOD;
	else
		out->cls = RND_CLASS_POOR;

	tally(vals, n, rep, tmp, &out->distinct, &out->value, &cnt);
	out->distinct_share = (double)out->distinct / n;
	out->value_share = (double)cnt / n;

	if (n >= 2) {
		uint32_t ignored;
		tally(steps, n - 1, rep, tmp, &ignored, &out->step, &cnt);
		out->step_share = (double)cnt / (n - 1);
	}
}

enum rnd_verdict rnd_verdict(const struct rnd_ring *r,
			     const struct rnd_params *p,
			     struct rnd_result *out)
{
	uint32_t minq = p->min_queries;
	double share = p->constant_share;
	int constant_value, constant_step, early;

	memset(out, 0, sizeof(*out));
	/* Clamped, not trusted: the ring cannot hold more than RND_RING, and
	 * below one half two values could both be "the constant one" (NaN
	 * lands on 0.5 too). */
	if (minq < 1)
		minq = 1;
	if (minq > RND_RING)
		minq = RND_RING;
	if (!(share >= 0.5))
		share = 0.5;
	if (share > 1.0)
		share = 1.0;

	compute(r, p, out);
	constant_value = out->n > 0 && out->value_share >= share;
	constant_step = out->n >= 2 && out->step != 0 && out->step_share >= share;
	early = p->constant_after != 0 && out->n >= p->constant_after;

	if (out->n < minq) {
		if (early && constant_value) {
			out->verdict = RND_FAIL;
			out->reason = RND_R_CONSTANT_VALUE;
		}
		return out->verdict;
	}
	if (constant_value)
		out->reason = RND_R_CONSTANT_VALUE;
	else if (constant_step)
		out->reason = RND_R_CONSTANT_STEP;
	else if (out->cls == RND_CLASS_NONE)
		out->reason = RND_R_CLASS_NONE;
	else if (out->cls == RND_CLASS_POOR)
		out->reason = RND_R_CLASS_POOR;
	out->verdict = out->reason == RND_R_NONE ? RND_PASS : RND_FAIL;
	return out->verdict;
}

int rnd_params_check(const struct rnd_params *p)
{
	if (!isfinite(p->sigma_excellent) || !isfinite(p->sigma_good) ||
	    p->sigma_good < 0 || p->sigma_good > p->sigma_excellent)
		return SW_ERANGE;
	if (p->min_queries < 1 || p->min_queries > RND_RING ||
	    p->constant_after > RND_RING)
		return SW_ERANGE;
	if (!(p->constant_share >= 0.5 && p->constant_share <= 1.0))
		return SW_ERANGE;
	return 0;
}

const char *rnd_class_name(enum rnd_class c)
{
	switch (c) {
	case RND_CLASS_NONE: return "none";
	case RND_CLASS_POOR: return "poor";
	case RND_CLASS_GOOD: return "good";
	case RND_CLASS_EXCELLENT: return "excellent";
	}
	return "?";
}

const char *rnd_verdict_name(enum rnd_verdict v)
{
	switch (v) {
	case RND_UNKNOWN: return "unknown";
	case RND_PASS: return "pass";
	case RND_FAIL: return "fail";
	}
	return "?";
}

const char *rnd_reason_name(enum rnd_reason r)
{
	switch (r) {
	case RND_R_NONE: return "";
	case RND_R_CONSTANT_VALUE: return "constant-value";
	case RND_R_CONSTANT_STEP: return "constant-step";
	case RND_R_CLASS_NONE: return "class-none";
	case RND_R_CLASS_POOR: return "class-poor";
	}
	return "?";
}
