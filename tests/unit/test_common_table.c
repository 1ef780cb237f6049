/* test_common_table.c — the bounded LRU hash table, SipHash and NH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/table.h"

struct key {
	uint32_t a;
	uint32_t b;
};

struct val {
	uint64_t x;
};

static struct key k(uint32_t a)
{
	struct key r = { a, a * 7u };
	return r;
}

/* Reference vector: SipHash-1-3 is not published with vectors, so check the
 * properties that matter: key dependence, length dependence, determinism. */
static void test_siphash_properties(void **state)
{
	(void)state;
	const uint8_t k1[16] = "0123456789abcdef";
	const uint8_t k2[16] = "0123456789abcdeg";
	const char *msg = "stubwatch";
	uint64_t h1 = sw_siphash(k1, msg, 9);
	assert_int_equal(h1, sw_siphash(k1, msg, 9));
	assert_int_not_equal(h1, sw_siphash(k2, msg, 9));
	assert_int_not_equal(h1, sw_siphash(k1, msg, 8));
	assert_int_not_equal(sw_siphash(k1, "", 0), sw_siphash(k1, "\0", 1));
}

/* NH, the tables' hash: one key gives one hash; another key, another.
 * Every bit of every byte counts, at every length a table key can have
 * (the 16-byte blocks, the 8-byte word and the 1-7 byte tail each take a
 * different path), and the length itself counts. */
static void test_nh_every_byte(void **state)
{
	(void)state;
	uint64_t nh1[TBL_NH_WORDS], nh2[TBL_NH_WORDS];
	sw_nh_key(nh1, (const uint8_t *)"0123456789abcdef");
	sw_nh_key(nh2, (const uint8_t *)"0123456789abcdeg");
	uint8_t m[128], z[128];
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 37 + 11);
	memset(z, 0, sizeof(z));
	for (size_t len = 1; len <= sizeof(m); len++) {
		uint64_t h = sw_nh(nh1, m, len);
		assert_int_equal(h, sw_nh(nh1, m, len));
		assert_int_not_equal(h, sw_nh(nh2, m, len));
		assert_int_not_equal(sw_nh(nh1, z, len), sw_nh(nh1, z, len - 1));
		for (size_t at = 0; at < len; at++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				m[at] ^= (uint8_t)(1u << bit);
				uint64_t g = sw_nh(nh1, m, len);
				m[at] ^= (uint8_t)(1u << bit);
				if (g == h)
					fail_msg("len %zu: flipping bit %u of byte %zu keeps the hash",
						 len, bit, at);
			}
		}
	}
}

/* Keys that differ in a few low bytes, as the tables' keys do (MAC, port,
 * ID, one address among many zero bytes), spread over the buckets as well
 * as random placement would: the mean chain a successful lookup walks is
 * within 5 % of what uniform hashing gives, and no bucket is crowded. */
static void test_nh_spread(void **state)
{
	(void)state;
	enum { NB = 1 << 16, N = 50000 };
	static uint16_t load[NB];
	struct qk {
		uint8_t client[16];
		uint8_t mac[6];
		uint16_t vlan;
		uint8_t server[16];
		uint16_t sport, cport, id, qtype;
		uint32_t name;
	} q;
	uint64_t nh[TBL_NH_WORDS];
	sw_nh_key(nh, (const uint8_t *)"stubwatch-spread");
	memset(load, 0, sizeof(load));
	for (uint32_t i = 0; i < N; i++) {
		memset(&q, 0, sizeof(q));
		q.client[10] = q.client[11] = q.server[10] = q.server[11] = 0xff;
		q.client[12] = 10;
		q.client[15] = (uint8_t)(i % 200);
		q.mac[5] = (uint8_t)(i % 200);
		q.server[12] = 10;
		q.server[15] = 1;
		q.sport = 53;
		q.cport = (uint16_t)(1024 + i / 200);
		q.id = (uint16_t)(i & 7);
		q.qtype = 1;
		load[(uint32_t)sw_nh(nh, &q, sizeof(q)) & (NB - 1)]++;
	}
	double walk = 0;
	unsigned worst = 0;
	for (unsigned b = 0; b < NB; b++) {
		walk += (double)load[b] * (load[b] + 1) / 2.0;
		worst = load[b] > worst ? load[b] : worst;
	}
	walk /= N;
	double ideal = 1.0 + (N - 1) / (2.0 * NB);
	if (walk > ideal * 1.05 || worst > 10)
		fail_msg("mean walk %.3f (uniform %.3f), fullest bucket %u", walk, ideal, worst);
}

static void test_insert_find_remove(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 100, sizeof(struct key), sizeof(struct val), NULL);
	assert_non_null(t);
	for (uint32_t i = 0; i < 100; i++) {
		struct key kk = k(i);
		struct val *v = tbl_insert(t, &kk);
		assert_int_equal(v->x, 0);
		v->x = i + 1000;
	}
	assert_int_equal(tbl_count(t), 100);
	for (uint32_t i = 0; i < 100; i++) {
		struct key kk = k(i);
		struct val *v = tbl_find(t, &kk);
		assert_non_null(v);
		assert_int_equal(v->x, i + 1000);
		assert_memory_equal(tbl_key(t, v), &kk, sizeof(kk));
	}
	struct key missing = k(5000);
	assert_null(tbl_find(t, &missing));
	struct key k7 = k(7);
	tbl_remove(t, tbl_find(t, &k7));
	assert_null(tbl_find(t, &k7));
	assert_int_equal(tbl_count(t), 99);
	assert_int_equal(tbl_evictions(t), 0);
	/* The freed slot is reused, without an eviction. */
	struct key k9000 = k(9000);
	tbl_insert(t, &k9000);
	assert_int_equal(tbl_evictions(t), 0);
	assert_int_equal(tbl_count(t), 100);
	tbl_free(t);
}

static int evicted_calls;
static uint32_t evicted_last;

static void on_evict(void *arg, const void *key, void *val)
{
	(void)arg;
	(void)val;
	evicted_calls++;
	evicted_last = ((const struct key *)key)->a;
}

static void test_lru_eviction(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 4, sizeof(struct key), sizeof(struct val), NULL);
	tbl_set_evict(t, on_evict, NULL);
	evicted_calls = 0;
	for (uint32_t i = 0; i < 4; i++) {
		struct key kk = k(i);
		tbl_insert(t, &kk);
	}
	/* Touch 0 so 1 becomes the least recently used. */
	struct key k0 = k(0);
	assert_non_null(tbl_find(t, &k0));
	struct key k4 = k(4);
	tbl_insert(t, &k4);
	assert_int_equal(evicted_calls, 1);
	assert_int_equal(evicted_last, 1);
	assert_int_equal(tbl_evictions(t), 1);
	struct key k1 = k(1);
	assert_null(tbl_find(t, &k1));
	assert_non_null(tbl_find(t, &k0));
	assert_non_null(tbl_find(t, &k4));
	assert_int_equal(tbl_count(t), 4);
	/* The oldest is now 2 (3 was inserted after it, 0 and 4 were touched). */
	struct val *old = tbl_oldest(t);
	assert_int_equal(((const struct key *)tbl_key(t, old))->a, 2);
	tbl_free(t);
}

/* Making room before an insert: the hook sees the oldest entry, the slot
 * is freed and counted, and the insert that follows evicts nothing. */
static void test_evict_oldest(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 3, sizeof(struct key), sizeof(struct val), NULL);
	tbl_set_evict(t, on_evict, NULL);
	evicted_calls = 0;
	tbl_evict_oldest(t);
	assert_int_equal(evicted_calls, 0);
	assert_int_equal(tbl_evictions(t), 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct key kk = k(i);
		tbl_insert(t, &kk);
	}
	struct key k0 = k(0);
	assert_non_null(tbl_find(t, &k0));   /* 1 is now the oldest */
	tbl_evict_oldest(t);
	assert_int_equal(evicted_calls, 1);
	assert_int_equal(evicted_last, 1);
	assert_int_equal(tbl_evictions(t), 1);
	assert_int_equal(tbl_count(t), 2);
	struct key k1 = k(1), k5 = k(5);
	assert_null(tbl_find(t, &k1));
	tbl_insert(t, &k5);
	assert_int_equal(evicted_calls, 1);
	assert_int_equal(tbl_evictions(t), 1);
	assert_int_equal(tbl_count(t), 3);
	tbl_free(t);
}

static void test_iteration_slot_order(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 8, sizeof(struct key), sizeof(struct val), NULL);
	for (uint32_t i = 0; i < 5; i++) {
		struct key kk = k(i);
		tbl_insert(t, &kk);
	}
	struct key k2 = k(2);
	tbl_remove(t, tbl_find(t, &k2));
	uint32_t seen[8], n = 0;
	for (struct val *v = tbl_next(t, NULL); v != NULL; v = tbl_next(t, v))
		seen[n++] = ((const struct key *)tbl_key(t, v))->a;
	assert_int_equal(n, 4);
	assert_int_equal(seen[0], 0);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 3);
	assert_int_equal(seen[3], 4);
	struct val *v3 = tbl_at(t, 3);
	assert_non_null(v3);
	assert_int_equal(tbl_index(t, v3), 3);
	assert_null(tbl_at(t, 2));
	assert_null(tbl_at(t, 7));
	tbl_free(t);
}

/* Many keys in a small table: chains stay consistent through evictions. */
static void test_churn(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 1000, sizeof(struct key), sizeof(struct val), NULL);
	for (uint32_t i = 0; i < 100000; i++) {
		struct key kk = k(i);
		int created;
		struct val *v = tbl_get(t, &kk, &created);
		assert_true(created);
		v->x = i;
		if (i % 3 == 0)
			tbl_remove(t, v);
	}
	assert_true(tbl_count(t) <= 1000);
	uint32_t found = 0;
	for (uint32_t i = 99000; i < 100000; i++) {
		struct key kk = k(i);
		struct val *v = tbl_find(t, &kk);
		if (i % 3 == 0) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(v->x, i);
			found++;
		}
	}
	assert_int_equal(found, 666); /* 1000 keys less the 334 multiples of 3 */
	assert_true(tbl_evictions(t) > 0);
	tbl_free(t);
}

/* The precomputed-hash calls find and insert exactly what the plain ones
 * do, and a full table still evicts through them. */
static void test_hashed_calls(void **state)
{
	(void)state;
	struct tbl *t = tbl_new("t", 64, sizeof(struct key), sizeof(struct val), NULL);
	assert_non_null(t);
	for (uint32_t i = 0; i < 64; i++) {
		struct key kk = k(i);
		int created;
		struct val *v = tbl_get_quiet_h(t, &kk, tbl_prefetch(t, &kk), &created);
		assert_true(created);
		v->x = i;
	}
	for (uint32_t i = 0; i < 64; i++) {
		struct key kk = k(i);
		uint32_t h = tbl_prefetch(t, &kk);
		struct val *v = tbl_lookup(t, &kk);
		assert_non_null(v);
		assert_int_equal(v->x, i);
		int created;
		assert_ptr_equal(tbl_get_quiet_h(t, &kk, h, &created), v);
		assert_false(created);
	}
	struct key other = k(1000);
	assert_null(tbl_lookup(t, &other));
	/* Full: the oldest (k(0), nothing was touched) makes room. */
	int created;
	struct val *v = tbl_get_quiet_h(t, &other, tbl_prefetch(t, &other), &created);
	assert_true(created);
	assert_int_equal(v->x, 0);
	assert_int_equal(tbl_evictions(t), 1);
	struct key first = k(0);
	assert_null(tbl_lookup(t, &first));
	tbl_free(t);
}

static void test_bad_args(void **state)
{
	(void)state;
	assert_null(tbl_new("t", 0, 8, 8, NULL));
	assert_null(tbl_new("t", 10, 0, 8, NULL));
	assert_null(tbl_new("t", 10, 129, 8, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_properties),
		cmocka_unit_test(test_nh_every_byte),
		cmocka_unit_test(test_nh_spread),
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_evict_oldest),
		cmocka_unit_test(test_iteration_slot_order),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_hashed_calls),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests_name("common_table", tests, NULL, NULL);
}
