/* test_detect_behaviour.c — the behaviour module's answer cache, driven
 * through a real engine with hand-built Ethernet/IPv4/UDP/DNS frames
 * (RFC 1035 §4.1): a repeat query found in the cache and judged early or
 * not against alpha x TTL (RFC 2181 §8); negative answers held for the
 * SOA minimum (RFC 2308 §5); a response whose query's cache entry was
 * evicted and its place taken by another name while the query was
 * outstanding; a flood of names that fills the cache, whose evictions
 * are counted and do not depend on the hash key; a full cache that
 * finds every name it keeps; and rules reloaded into the same memory reach
 * the modules (response.race's window here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/config.h"
#include "decode/decode.h"
#include "pipeline/engine.h"
#include "detect/rules.h"
#include "output/out.h"

#define SEC 1000000ull

/* Two devices on one LAN and their resolver. */
static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_R[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t IP_A[4] = { 192, 168, 1, 10 };
static const uint8_t IP_B[4] = { 192, 168, 1, 11 };
static const uint8_t IP_R[4] = { 192, 168, 1, 1 };

struct run {
	struct sw_config *cfg;    /* the engine's for its life */
	struct engine *e;
	struct out *out;
	struct rules *rules;
	char path[64];
	uint16_t next_id;
	uint16_t qtype;           /* the question's type; 0: A */
	uint8_t bump;             /* added to the answer address's last byte */
};

static void run_start(struct run *r, const uint8_t *sipkey)
{
	memset(r, 0, sizeof(*r));
	char err[512];
	struct sw_config *cfg = r->cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	conf_defaults(cfg);
	cfg->devices_max = 16;  /* the answer cache at its floor: 1024 entries */
	r->rules = rules_load("rules", err, sizeof(err));
	if (r->rules == NULL)
		fail_msg("rules: %s", err);
	snprintf(r->path, sizeof(r->path), "/tmp/sw-test-bh-XXXXXX");
	int fd = mkstemp(r->path);
	assert_true(fd >= 0);
	close(fd);
	r->out = out_new(4096);
	assert_non_null(r->out);
	out_set_blocking(r->out, 1);
	struct out_sink *s = out_file_sink(r->path, err, sizeof(err));
	if (s == NULL)
		fail_msg("sink: %s", err);
	assert_int_equal(out_add_sink(r->out, s), 0);
	r->e = eng_new(cfg, r->out, sipkey, err, sizeof(err));
	if (r->e == NULL)
		fail_msg("engine: %s", err);
	eng_set_rules(r->e, r->rules);
	eng_set_deterministic(r->e, 1);
	assert_int_equal(out_start(r->out), 0);
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
	return 4;
}

enum ans { ANS_NONE, ANS_A, ANS_NXDOMAIN_SOA };

/* One DNS message in a frame: a query from the device (ans = ANS_NONE)
 * or the resolver's response, with an A record of `ttl` or an NXDOMAIN
 * whose SOA has minimum `ttl`. */
static void send_dns(struct run *r, uint64_t ts, const uint8_t mac[6], const uint8_t ip[4],
		     uint16_t port, uint16_t id, const char *name, enum ans ans, int response,
		     uint32_t ttl)
{
	uint8_t f[600];
	memset(f, 0, sizeof(f));
	memcpy(f, response ? mac : MAC_R, 6);
	memcpy(f + 6, response ? MAC_R : mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *iph = f + 14, *udp = iph + 20, *d = udp + 8;
	size_t n = 0;
	n += put16(d + n, id);
	n += put16(d + n, response ? (ans == ANS_NXDOMAIN_SOA ? 0x8183 : 0x8180) : 0x0100);
	n += put16(d + n, 1);
	n += put16(d + n, response && ans == ANS_A ? 1 : 0);
	n += put16(d + n, response && ans == ANS_NXDOMAIN_SOA ? 1 : 0);
	n += put16(d + n, 0);
	n += put_name(d + n, name);
	n += put16(d + n, r->qtype ? r->qtype : 1);
	n += put16(d + n, 1);  /* IN */
	if (response && ans == ANS_A) {
		n += put16(d + n, 0xc00c);
		n += put16(d + n, 1);
		n += put16(d + n, 1);
		n += put32(d + n, ttl);
		n += put16(d + n, 4);
		const uint8_t addr[4] = { 198, 51, 100, (uint8_t)((id & 0xff) + r->bump) };
		memcpy(d + n, addr, 4);
		n += 4;
	} else if (response && ans == ANS_NXDOMAIN_SOA) {
		n += put_name(d + n, "example");
		n += put16(d + n, 6);  /* SOA */
		n += put16(d + n, 1);
		n += put32(d + n, 3600);
		size_t rdlen_at = n;
		n += 2;
		size_t rd = n;
		n += put_name(d + n, "ns.example");
		n += put_name(d + n, "host.example");
		n += put32(d + n, 1);     /* serial */
		n += put32(d + n, 7200);  /* refresh */
		n += put32(d + n, 900);   /* retry */
		n += put32(d + n, 86400); /* expire */
		n += put32(d + n, ttl);   /* minimum: the negative TTL */
		put16(d + rdlen_at, (uint16_t)(n - rd));
	}
	size_t ulen = 8 + n, tlen = 20 + ulen;
	iph[0] = 0x45;
	put16(iph + 2, (uint16_t)tlen);
	iph[8] = 64;
	iph[9] = 17;
	memcpy(iph + 12, response ? IP_R : ip, 4);
	memcpy(iph + 16, response ? ip : IP_R, 4);
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)iph[i] << 8 | iph[i + 1];
	put16(iph + 10, csum_fold(s));
	put16(udp, response ? 53 : port);
	put16(udp + 2, response ? port : 53);
	put16(udp + 4, (uint16_t)ulen);
	eng_packet(r->e, DEC_LINK_ETHERNET, ts, (uint32_t)(14 + tlen), (uint32_t)(14 + tlen), f);
}

/* A query and, `rtt` later, its response. */
static void ask(struct run *r, uint64_t ts, const uint8_t mac[6], const uint8_t ip[4],
		const char *name, enum ans ans, uint32_t ttl)
{
	uint16_t id = ++r->next_id;
	uint16_t port = (uint16_t)(20000 + id % 30000);
	send_dns(r, ts, mac, ip, port, id, name, ANS_NONE, 0, 0);
	if (ans != ANS_NONE)
		send_dns(r, ts + 10000, mac, ip, port, id, name, ans, 1, ttl);
}

/* Ends the run and returns its events. */
static json_t *run_end(struct run *r)
{
	eng_finish(r->e);
	out_stop(r->out);
	eng_free(r->e);
	free(r->cfg);
	rules_free(r->rules);
	json_t *all = json_array();
	FILE *f = fopen(r->path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *ev = json_loads(line, 0, NULL);
		assert_non_null(ev);
		json_array_append_new(all, ev);
	}
	free(line);
	fclose(f);
	unlink(r->path);
	return all;
}

/* The exit device event of mac's device, or the exit stats (mac NULL). */
static json_t *exit_event(json_t *all, const char *mac)
{
	size_t i;
	json_t *ev;
	json_array_foreach(all, i, ev) {
		const char *ds = json_string_value(json_object_get(json_object_get(ev, "event"), "dataset"));
		const char *why = json_string_value(json_object_get(json_object_get(ev, "event"), "reason"));
		if (ds == NULL || why == NULL || strcmp(why, "exit") != 0)
			continue;
		if (mac == NULL && strcmp(ds, "stubwatch.stats") == 0)
			return ev;
		json_t *sw = json_object_get(json_object_get(ev, "stubwatch"), "device");
		const char *id = json_string_value(json_object_get(sw, "key"));
		if (mac != NULL && strcmp(ds, "stubwatch.device") == 0 && id && strcmp(id, mac) == 0)
			return ev;
	}
	fail_msg("no exit event for %s", mac ? mac : "stats");
	return NULL;
}

static json_int_t num(json_t *ev, const char *a, const char *b)
{
	json_t *o = json_object_get(json_object_get(ev, "stubwatch"), a);
	json_t *v = json_object_get(o, b);
	if (!json_is_integer(v))
		fail_msg("stubwatch.%s.%s missing", a, b);
	return json_integer_value(v);
}

static json_int_t cache_stat(json_t *stats, const char *what)
{
	json_t *o = json_object_get(json_object_get(json_object_get(stats, "stubwatch"), "stats"),
				    "behaviour");
	return json_integer_value(json_object_get(json_object_get(o, "answer_cache"), what));
}

/* An answer with TTL 300 s: asked again after 10 s and 100 s is early
 * (before 0.5 x 300 s), after 200 s and 400 s not; the repeats are judged
 * against the latest answer. */
static void test_requery(void **state)
{
	(void)state;
	struct run r;
	run_start(&r, NULL);
	uint64_t t = 1700000000 * SEC;
	ask(&r, t, MAC_A, IP_A, "cam.vendor.example", ANS_A, 300);
	ask(&r, t + 10 * SEC, MAC_A, IP_A, "cam.vendor.example", ANS_A, 300);
	ask(&r, t + 110 * SEC, MAC_A, IP_A, "cam.vendor.example", ANS_A, 300);
	ask(&r, t + 310 * SEC, MAC_A, IP_A, "cam.vendor.example", ANS_A, 300);
	ask(&r, t + 710 * SEC, MAC_A, IP_A, "cam.vendor.example", ANS_A, 300);
	/* Another name of the same device is an entry of its own. */
	ask(&r, t + 720 * SEC, MAC_A, IP_A, "time.vendor.example", ANS_A, 300);
	json_t *all = run_end(&r);
	json_t *dev = exit_event(all, "02:00:00:00:00:0a");
	assert_int_equal(num(dev, "cache", "repeat_queries"), 4);
	assert_int_equal(num(dev, "cache", "early_requeries"), 2);
	assert_int_equal(cache_stat(exit_event(all, NULL), "count"), 2);
	json_decref(all);
}

/* NXDOMAIN with an SOA minimum of 60 s: asked again after 20 s it is a
 * negative repeat; after 100 s it is not. */
static void test_negative(void **state)
{
	(void)state;
	struct run r;
	run_start(&r, NULL);
	uint64_t t = 1700000000 * SEC;
	ask(&r, t, MAC_A, IP_A, "gone.vendor.example", ANS_NXDOMAIN_SOA, 60);
	ask(&r, t + 20 * SEC, MAC_A, IP_A, "gone.vendor.example", ANS_NXDOMAIN_SOA, 60);
	ask(&r, t + 120 * SEC, MAC_A, IP_A, "gone.vendor.example", ANS_NXDOMAIN_SOA, 60);
	json_t *all = run_end(&r);
	json_t *dev = exit_event(all, "02:00:00:00:00:0a");
	assert_int_equal(num(dev, "cache", "repeats_of_negative_answers"), 2);
	assert_int_equal(num(dev, "cache", "negative_repeats"), 1);
	assert_int_equal(num(dev, "cache", "repeat_queries"), 0);
	json_decref(all);
}

/* Device A's query stays unanswered while device B's names fill the cache
 * twice over: A's entry, the oldest, is evicted and its place goes to one
 * of B's names. The late answer must not land in B's entry (the query's
 * reference to the place is checked against its key); it makes A's entry
 * again, so A's repeat 30 s later is an early one. */
static void test_evicted_reference(void **state)
{
	(void)state;
	struct run r;
	run_start(&r, NULL);
	uint64_t t = 1700000000 * SEC;
	send_dns(&r, t, MAC_A, IP_A, 40000, 7, "late.vendor.example", ANS_NONE, 0, 0);
	char name[64];
	for (int i = 0; i < 2048; i++) {
		snprintf(name, sizeof(name), "n%d.flood.example", i);
		ask(&r, t + 1000 + (uint64_t)i * 100, MAC_B, IP_B, name, ANS_A, 3600);
	}
	send_dns(&r, t + 1 * SEC, MAC_A, IP_A, 40000, 7, "late.vendor.example", ANS_A, 1, 300);
	ask(&r, t + 31 * SEC, MAC_A, IP_A, "late.vendor.example", ANS_A, 300);
	/* B asks its newest names again: their entries are intact. */
	for (int i = 2048 - 8; i < 2048; i++) {
		snprintf(name, sizeof(name), "n%d.flood.example", i);
		ask(&r, t + 40 * SEC + (uint64_t)i, MAC_B, IP_B, name, ANS_A, 3600);
	}
	json_t *all = run_end(&r);
	json_t *a = exit_event(all, "02:00:00:00:00:0a");
	assert_int_equal(num(a, "cache", "repeat_queries"), 1);
	assert_int_equal(num(a, "cache", "early_requeries"), 1);
	json_t *b = exit_event(all, "02:00:00:00:00:0b");
	assert_int_equal(num(b, "cache", "repeat_queries"), 8);
	assert_int_equal(num(b, "cache", "early_requeries"), 8);
	json_t *st = exit_event(all, NULL);
	assert_int_equal(cache_stat(st, "capacity"), 1024);
	assert_int_equal(cache_stat(st, "count"), 1024);
	/* 2048 + 1 + 1 names made, 1024 kept. */
	assert_int_equal(cache_stat(st, "evictions"), 2050 - 1024);
	json_decref(all);
}

/* A flood of new names keeps the cache at its capacity, counts every
 * eviction, and evicts in creation order whatever the hash key: asked
 * again, the newest names are repeats and the oldest, evicted, are not. */
static void flood(const uint8_t *key, json_int_t *evictions, json_int_t *repeats)
{
	struct run r;
	run_start(&r, key);
	uint64_t t = 1700000000 * SEC;
	char name[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "%08x.dga.example", (unsigned)i * 2654435761u);
		ask(&r, t + (uint64_t)i * 1000, MAC_B, IP_B, name, ANS_A, 3600);
	}
	static const int again[] = { 4999, 4990, 4000, 3976, 3975, 0 };
	for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
		snprintf(name, sizeof(name), "%08x.dga.example", (unsigned)again[i] * 2654435761u);
		ask(&r, t + 10 * SEC + i * SEC, MAC_B, IP_B, name, ANS_A, 3600);
	}
	json_t *all = run_end(&r);
	json_t *st = exit_event(all, NULL);
	assert_int_equal(cache_stat(st, "count"), 1024);
	*evictions = cache_stat(st, "evictions");
	*repeats = num(exit_event(all, "02:00:00:00:00:0b"), "cache", "repeat_queries");
	json_decref(all);
}

static void test_flood(void **state)
{
	(void)state;
	static const uint8_t k1[16] = "0123456789abcde", k2[16] = "fedcba987654321";
	json_int_t e1, r1, e2, r2;
	flood(k1, &e1, &r1);
	flood(k2, &e2, &r2);
	/* The cache holds names 3976-4999; 3975 and 0 are made again, each
	 * pushing out the oldest (3976, then 3977). */
	assert_int_equal(r1, 4);
	assert_int_equal(e1, 5000 - 1024 + 2);
	assert_int_equal(e2, e1);
	assert_int_equal(r2, r1);
}

/* One device asks one name with type after type while another asks its
 * usual names: the cache still evicts in creation order whatever the hash
 * key. (When the first bucket left the type out, every type of the name
 * shared one bucket of two places, the move search failed and the
 * fallback dropped entries out of turn, differently for each key.) */
static json_int_t many_types(const uint8_t *key, json_int_t *count)
{
	struct run r;
	run_start(&r, key);
	uint64_t t = 1700000000 * SEC;
	char name[64];
	for (int i = 0; i < 6000; i++) {
		r.qtype = (uint16_t)(2 + i);
		send_dns(&r, t, MAC_A, IP_A, 40000, ++r.next_id, "one.name.example", ANS_NONE, 0, 0);
		r.qtype = 0;
		snprintf(name, sizeof(name), "n%d.usual.example", i % 40);
		if (i % 3 == 0)
			ask(&r, t + 1000, MAC_B, IP_B, name, ANS_A, 1);
		t += 2000;
	}
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "n%d.usual.example", i);
		ask(&r, t + (uint64_t)i * 1000, MAC_B, IP_B, name, ANS_A, 1);
	}
	json_t *all = run_end(&r);
	*count = cache_stat(exit_event(all, NULL), "count");
	json_int_t repeats = num(exit_event(all, "02:00:00:00:00:0b"), "cache", "repeat_queries");
	json_decref(all);
	return repeats;
}

static void test_many_types(void **state)
{
	(void)state;
	static const uint8_t k1[16] = "0123456789abcde", k2[16] = "fedcba987654321",
			     k3[16] = "stubwatch-cuckoo";
	json_int_t c1, c2, c3;
	json_int_t r1 = many_types(k1, &c1), r2 = many_types(k2, &c2), r3 = many_types(k3, &c3);
	assert_int_equal(c1, 1024);
	assert_int_equal(c2, 1024);
	assert_int_equal(c3, 1024);
	assert_int_equal(r2, r1);
	assert_int_equal(r3, r1);
}

/* Rules reloaded into the same memory (a freed set's address reused by
 * the next): modules that derive values from the rules must see the new
 * ones. Two different answers 3 s apart are a race under response.race's
 * window_s of 5 s, and not after it is set to 1 s in place. */
static void test_rules_reloaded_in_place(void **state)
{
	(void)state;
	struct run r;
	run_start(&r, NULL);
	uint64_t t = 1700000000 * SEC;
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			const struct det_rule *c = rules_det(r.rules, DET_RESPONSE_RACE);
			struct det_rule *w;
			memcpy(&w, &c, sizeof(w));
			w->p[DP_WINDOW_S] = 1;
			eng_set_rules(r.e, r.rules);
		}
		uint64_t at = t + (uint64_t)round * 60 * SEC;
		uint16_t id = ++r.next_id;
		send_dns(&r, at, MAC_A, IP_A, 30000, id, "cdn.vendor.example", ANS_NONE, 0, 0);
		send_dns(&r, at + 10000, MAC_A, IP_A, 30000, id, "cdn.vendor.example", ANS_A, 1, 60);
		r.bump = 1;
		send_dns(&r, at + 3 * SEC, MAC_A, IP_A, 30000, id, "cdn.vendor.example", ANS_A, 1, 60);
		r.bump = 0;
	}
	json_t *all = run_end(&r);
	json_t *o = json_object_get(json_object_get(json_object_get(exit_event(all, NULL),
								    "stubwatch"), "stats"),
				    "integrity");
	assert_int_equal(json_integer_value(json_object_get(o, "races")), 1);
	json_decref(all);
}

/* Every name the full cache keeps is found again, whichever of its four
 * places it ended up in after cuckoo moves and evictions: asked again,
 * each of the 1024 newest names is a repeat, and none is made anew. */
static void test_full_lookup(void **state)
{
	(void)state;
	static const uint8_t key[16] = "stubwatch-cuckoo";
	struct run r;
	run_start(&r, key);
	uint64_t t = 1700000000 * SEC;
	char name[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%08x.full.example", (unsigned)i * 2246822519u);
		ask(&r, t + (uint64_t)i * 1000, MAC_B, IP_B, name, ANS_A, 3600);
	}
	for (int i = 3000 - 1024; i < 3000; i++) {
		snprintf(name, sizeof(name), "%08x.full.example", (unsigned)i * 2246822519u);
		ask(&r, t + 10 * SEC + (uint64_t)i * 1000, MAC_B, IP_B, name, ANS_A, 3600);
	}
	json_t *all = run_end(&r);
	json_t *st = exit_event(all, NULL);
	assert_int_equal(cache_stat(st, "count"), 1024);
	assert_int_equal(cache_stat(st, "evictions"), 3000 - 1024);
	assert_int_equal(num(exit_event(all, "02:00:00:00:00:0b"), "cache", "repeat_queries"), 1024);
	json_decref(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requery),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_evicted_reference),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_full_lookup),
		cmocka_unit_test(test_many_types),
		cmocka_unit_test(test_rules_reloaded_in_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
