/* test_detect_integrity.c — the integrity module's judges of addresses and
 * names: special-purpose ranges (RFC 6890, bogon.h), local names (RFC
 * 6761, RFC 8375), registered domains, label entropy and length
 * (exfil.suspect-names, qname.h), the cache of judged names, and the
 * answer fingerprint response.race compares answers by (response.h).
 * Table-driven, one named case per edge.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/fmt.h"
#include "detect/bogon.h"
#include "detect/qname.h"
#include "detect/response.h"
#include "dns/dns.h"

/* The entropy table the module builds at create, built in main(). */
static struct integ_nlogn nlogn;

static void test_special_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		int v6;
		const char *range;  /* NULL: an ordinary address */
		int priv;
	} cases[] = {
		{ "0.0.0.0", 0, "0.0.0.0/8", 0 },
		{ "127.0.0.1", 0, "127.0.0.0/8", 0 },
		{ "169.254.1.1", 0, "169.254.0.0/16", 0 },
		{ "192.0.2.7", 0, "192.0.2.0/24", 0 },
		{ "198.51.100.1", 0, "198.51.100.0/24", 0 },
		{ "203.0.113.9", 0, "203.0.113.0/24", 0 },
		{ "240.0.0.1", 0, "240.0.0.0/4", 0 },
		{ "255.255.255.255", 0, "240.0.0.0/4", 0 },
		{ "10.1.2.3", 0, "10.0.0.0/8", 1 },
		{ "172.31.255.1", 0, "172.16.0.0/12", 1 },
		{ "172.32.0.1", 0, NULL, 0 },          /* just past 172.16/12 */
		{ "192.168.0.1", 0, "192.168.0.0/16", 1 },
		{ "93.184.216.34", 0, NULL, 0 },
		{ "8.8.8.8", 0, NULL, 0 },
		{ "::", 1, "::/128", 0 },
		{ "::1", 1, "::1/128", 0 },
		{ "2001:db8::1", 1, "2001:db8::/32", 0 },
		{ "2001:db9::1", 1, NULL, 0 },
		{ "fd00::1", 1, "fc00::/7", 1 },
		{ "fe80::1", 1, "fe80::/10", 0 },
		{ "::ffff:1.2.3.4", 1, "::ffff:0:0/96", 0 }, /* a mapped address in an AAAA */
		{ "2606:4700::1111", 1, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t ip[16];
		assert_int_equal(ip_parse(cases[i].ip, ip), 0);
		int priv = -1;
		const char *r = integ_special_range(ip, cases[i].v6, &priv);
		if (cases[i].range == NULL) {
			if (r != NULL)
				fail_msg("%s: %s, expected none", cases[i].ip, r);
		} else {
			if (r == NULL || strcmp(r, cases[i].range) != 0)
				fail_msg("%s: %s, expected %s", cases[i].ip, r ? r : "none", cases[i].range);
		}
		assert_int_equal(priv, cases[i].priv);
	}
}

/* The special ranges as a plain chain of tests, to hold the module's
 * quicker version against for every first octet. */
static const char *ref_range(const uint8_t ip[16], int v6, int *priv)
{
	*priv = 0;
	if (!v6) {
		const uint8_t *b = ip + 12;
		if (b[0] == 0) return "0.0.0.0/8";
		if (b[0] == 127) return "127.0.0.0/8";
		if (b[0] == 169 && b[1] == 254) return "169.254.0.0/16";
		if (b[0] == 192 && b[1] == 0 && b[2] == 2) return "192.0.2.0/24";
		if (b[0] == 198 && b[1] == 51 && b[2] == 100) return "198.51.100.0/24";
		if (b[0] == 203 && b[1] == 0 && b[2] == 113) return "203.0.113.0/24";
		if (b[0] == 198 && (b[1] & 0xfe) == 18) return "198.18.0.0/15";
		if (b[0] >= 240) return "240.0.0.0/4";
		if (b[0] >= 224) return "224.0.0.0/4";
		*priv = 1;
		if (b[0] == 10) return "10.0.0.0/8";
		if (b[0] == 172 && (b[1] & 0xf0) == 16) return "172.16.0.0/12";
		if (b[0] == 192 && b[1] == 168) return "192.168.0.0/16";
		*priv = 0;
		return NULL;
	}
	static const uint8_t zero[16];
	if (memcmp(ip, zero, 15) == 0 && (ip[15] == 0 || ip[15] == 1))
		return ip[15] ? "::1/128" : "::/128";
	if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8) return "2001:db8::/32";
	if (memcmp(ip, zero, 10) == 0 && ip[10] == 0xff && ip[11] == 0xff) return "::ffff:0:0/96";
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return "fe80::/10";
	if (ip[0] == 0xff) return "ff00::/8";
	if ((ip[0] & 0xfe) == 0xfc) {
		*priv = 1;
		return "fc00::/7";
	}
	return NULL;
}

static void test_special_ranges_all(void **state)
{
	(void)state;
	static const uint8_t b1s[] = { 0, 1, 2, 15, 16, 18, 19, 20, 31, 32, 51, 128, 168, 192, 254, 255 };
	static const uint8_t b2s[] = { 0, 2, 100, 113, 255 };
	for (unsigned b0 = 0; b0 < 256; b0++)
		for (size_t i = 0; i < sizeof(b1s); i++)
			for (size_t k = 0; k < sizeof(b2s); k++) {
				uint8_t ip[16] = { [10] = 0xff, [11] = 0xff };
				ip[12] = (uint8_t)b0;
				ip[13] = b1s[i];
				ip[14] = b2s[k];
				ip[15] = 1;
				int p1 = -1, p2 = -1;
				const char *want = ref_range(ip, 0, &p1), *got = integ_special_range(ip, 0, &p2);
				if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0) || p1 != p2)
					fail_msg("%u.%u.%u.1: %s/%d, expected %s/%d", b0, b1s[i], b2s[k],
						 got ? got : "none", p2, want ? want : "none", p1);
				/* The same bytes as the start of an AAAA. */
				uint8_t v6[16] = { 0 };
				v6[0] = (uint8_t)b0;
				v6[1] = b1s[i];
				v6[2] = b2s[k];
				v6[3] = b2s[k] == 255 ? 0xb8 : 0;
				v6[15] = b1s[i] & 1;
				for (int z = 0; z < 2; z++) {
					if (z)
						memset(v6 + 4, 0, 11);   /* ::, ::1, ::x:0:0:0 forms */
					want = ref_range(v6, 1, &p1);
					got = integ_special_range(v6, 1, &p2);
					if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0) ||
					    p1 != p2)
						fail_msg("AAAA %02x%02x:%02x%02x…: %s, expected %s", v6[0], v6[1],
							 v6[2], v6[3], got ? got : "none", want ? want : "none");
				}
			}
	/* The forms the loop above does not build. */
	static const char *const more[] = { "::", "::1", "::ffff:0:1", "2001:db8::", "fe80::1",
					    "febf::1", "fec0::1", "fc00::1", "fdff::1", "ff02::1" };
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		uint8_t ip[16];
		assert_int_equal(ip_parse(more[i], ip), 0);
		int p1, p2;
		const char *want = ref_range(ip, 1, &p1), *got = integ_special_range(ip, 1, &p2);
		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0) || p1 != p2)
			fail_msg("%s: %s, expected %s", more[i], got ? got : "none", want ? want : "none");
	}
}

static void test_local_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int local;
	} cases[] = {
		{ "printer", 1 },                 /* single label */
		{ "cam.local", 1 },
		{ "nas.home.arpa", 1 },
		{ "1.1.168.192.in-addr.arpa", 1 },
		{ "router.lan", 1 },
		{ "fritz.box", 1 },
		{ "localhost", 1 },
		{ "a.localhost", 1 },
		{ "api.vendor.com", 0 },
		{ "local.vendor.com", 0 },        /* "local" not as the top label */
		{ "lan", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (integ_local_name(cases[i].name, strlen(cases[i].name)) != cases[i].local)
			fail_msg("%s: expected local=%d", cases[i].name, cases[i].local);
}

static void test_registered_domain(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *reg;  /* NULL: none */
	} cases[] = {
		{ "www.example.com", "example.com" },
		{ "example.com", "example.com" },
		{ "a.b.c.example.com", "example.com" },
		{ "time.ntp-vendor.co.uk", "ntp-vendor.co.uk" },
		{ "ntp-vendor.co.uk", "ntp-vendor.co.uk" },
		{ "co.uk", NULL },
		{ "www.gov.br", "www.gov.br" },  /* gov.br is the suffix: www is registered under it */
		{ "x.portal.gov.br", "portal.gov.br" },
		{ "com", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;
		long off = integ_registered_domain(n, strlen(n));
		if (cases[i].reg == NULL) {
			if (off >= 0)
				fail_msg("%s: %s, expected none", n, n + off);
			continue;
		}
		if (off < 0 || strcmp(n + off, cases[i].reg) != 0)
			fail_msg("%s: %s, expected %s", n, off < 0 ? "none" : n + off, cases[i].reg);
	}
}

static void test_entropy_and_labels(void **state)
{
	(void)state;
	/* Uniform over 32 symbols, each once: exactly 5 bits per character. */
	const char *b32 = "abcdefghijklmnopqrstuvwxyz234567";
	assert_true(fabs(integ_entropy(&nlogn, b32, strlen(b32)) - 5.0) < 1e-9);
	/* Dots are left out: "aa.bb" is two symbols, each half: 1 bit. */
	assert_true(fabs(integ_entropy(&nlogn, "aa.bb", 5) - 1.0) < 1e-9);
	assert_true(integ_entropy(&nlogn, "", 0) == 0);
	/* The table is n·log2(n), exactly where that is an integer. */
	assert_true(nlogn.v[1] == 0 && nlogn.v[2] == 2 && nlogn.v[8] == 24);
	assert_true(nlogn.v[NLOGN_MAX] == 10240);
	/* Sixteen hex nibbles cannot pass 4 bits: ip6.arpa names never do. */
	const char *hex = "0123456789abcdef0123456789abcdef";
	assert_true(integ_entropy(&nlogn, hex, strlen(hex)) <= 4.0 + 1e-9);
	assert_int_equal(integ_longest_label("abc.defgh.i", 11), 5);
	assert_int_equal(integ_longest_label("", 0), 0);
	/* A \DDD escape is one octet. */
	assert_int_equal(integ_longest_label("a\\001b", 6), 3);
}

static void test_port_find(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		uint16_t ports[8];
		uint16_t port;
		unsigned want;
	} cases[] = {
		{ "first", { 53000, 1, 2, 3, 4, 5, 6, 7 }, 53000, 0 },
		{ "last", { 1, 2, 3, 4, 5, 6, 7, 53000 }, 53000, 7 },
		{ "second word, first lane", { 1, 2, 3, 4, 53000, 6, 7, 8 }, 53000, 4 },
		{ "absent", { 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 8 },
		{ "the first of two", { 9, 9, 9, 9, 9, 40000, 9, 40000 }, 40000, 5 },
		/* A match of 0 in a lower lane must not flag the lane above it
		 * (a borrow would): 0x0001 sits right above the match. */
		{ "no borrow into the next lane", { 7, 7, 0, 1, 7, 7, 7, 7 }, 0, 2 },
		{ "value one past a match", { 2, 1, 7, 7, 7, 7, 7, 7 }, 1, 1 },
		{ "unused slots are port 0", { 0, 0, 0, 0, 0, 0, 0, 0 }, 0, 0 },
		{ "high bit", { 1, 2, 3, 0x8000, 0xffff, 6, 7, 8 }, 0xffff, 4 },
		{ "high bit absent", { 0x7fff, 0xfffe, 3, 0x8000, 5, 6, 7, 8 }, 0xffff, 8 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned got = integ_port_find(cases[i].ports, cases[i].port);
		if (got != cases[i].want)
			fail_msg("%s: %u, expected %u", cases[i].what, got, cases[i].want);
	}
}

/* A judged name must say what the helpers say of the name. */
static void check_judged(const char *name, const struct integ_name *ni)
{
	size_t len = strlen(name);
	long reg = integ_registered_domain(name, len);
	int skip = integ_local_name(name, len) || reg < 0;
	if (ni->skip != skip)
		fail_msg("%s: skip %d, expected %d", name, ni->skip, skip);
	if (skip)
		return;
	size_t below = reg > 0 ? (size_t)reg - 1 : 0;
	if (ni->reg != reg)
		fail_msg("%s: registered domain at %u, expected %ld", name, ni->reg, reg);
	/* The labels below the registered domain and its own first label,
	 * whichever is longer, or has more entropy. */
	const char *dom = name + reg;
	size_t dlen = strcspn(dom, ".");
	size_t longest = below ? integ_longest_label(name, below) : 0;
	if (integ_longest_label(dom, dlen) > longest)
		longest = integ_longest_label(dom, dlen);
	if (ni->longest != longest)
		fail_msg("%s: longest label %u, expected %zu", name, ni->longest, longest);
	double ent = below ? integ_entropy(&nlogn, name, below) : 0;
	if (integ_entropy(&nlogn, dom, dlen) > ent)
		ent = integ_entropy(&nlogn, dom, dlen);
	if (ni->entropy != ent)
		fail_msg("%s: entropy %g, expected %g", name, ni->entropy, ent);
}

static void test_name_judge(void **state)
{
	(void)state;
	static const char *const names[] = {
		"printer",                    /* single label: local */
		"cam.local",                  /* local */
		"co.uk",                      /* no registered domain */
		"example.com",                /* nothing below it */
		"time.ntp-vendor.co.uk",
		"a2x7k9p3qz1m4d-ats.iot.us-east-1.amazonaws.com",
		/* a tunnel's name: long, high-entropy labels below the zone */
		"mzxw6ytboi2dqnzqgeztknzwha3tmmrsgi4tknjz.ge3dgmztgezdsnbzgq2tcmrw.t.example.net",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct integ_name ni;
		memset(&ni, 0xa5, sizeof(ni));
		integ_name_judge(&nlogn, names[i], strlen(names[i]), &ni);
		check_judged(names[i], &ni);
	}
	/* A registered domain is judged by its own label too: a DGA's random
	 * domain is long and high in entropy with nothing below it, a long
	 * brand name is long but low in entropy. */
	static const struct {
		const char *name;
		unsigned longest;
		double min_ent, max_ent;
	} doms[] = {
		{ "x7k2qz9w4m1p8r5t3v6y0b2n4c8d1f5g7h9j3k6l2m4n8p1q5r7s9t0.com", 55, 4.2, 6 },
		{ "q8z3k1x9v7m2w5r4t6y0p3n8c1.net", 26, 4.0, 6 },
		{ "thisisaverylongbutordinarybrandname.com", 35, 3.5, 4.0 },
		{ "eu.thisisaverylongbutordinarybrandname.co.uk", 35, 3.5, 4.0 },
	};
	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		struct integ_name ni;
		integ_name_judge(&nlogn, doms[i].name, strlen(doms[i].name), &ni);
		check_judged(doms[i].name, &ni);
		if (ni.longest != doms[i].longest || ni.entropy <= doms[i].min_ent ||
		    ni.entropy >= doms[i].max_ent)
			fail_msg("%s: longest %u, entropy %g", doms[i].name, ni.longest, ni.entropy);
	}
	/* The zone's hash is the registered domain's: two names of one zone
	 * share it, and differ in the hash of what is below it. */
	struct integ_name a, b;
	integ_name_judge(&nlogn, "api.vendor.com", 14, &a);
	integ_name_judge(&nlogn, "fw.vendor.com", 13, &b);
	assert_int_equal(a.dom_hash, b.dom_hash);
	assert_int_not_equal(a.below_hash, b.below_hash);
}

static void test_name_cache(void **state)
{
	(void)state;
	enum { SLOTS = 8 };
	struct integ_name slots[SLOTS];
	memset(slots, 0, sizeof(slots));
	const uint64_t seed = 0x1234567890abcdefull;
	int miss;
	/* First lookup judges, the second finds it. */
	const char *n1 = "api.vendor.com";
	const struct integ_name *ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 3, n1, strlen(n1), &miss);
	assert_int_equal(miss, 1);
	check_judged(n1, ni);
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 3, n1, strlen(n1), &miss);
	assert_int_equal(miss, 0);
	check_judged(n1, ni);
	/* The index is the hash modulo the slots: 11 is slot 3 as well. */
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 11, n1, strlen(n1), &miss);
	assert_int_equal(miss, 0);
	/* Another name given the same hash (a collision of the engine's name
	 * hash) is told apart by its tag: judged anew, and it evicts the
	 * first, which is judged anew in turn. */
	const char *n2 = "ota.vendor.co.uk";
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 3, n2, strlen(n2), &miss);
	assert_int_equal(miss, 1);
	check_judged(n2, ni);
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 3, n1, strlen(n1), &miss);
	assert_int_equal(miss, 1);
	check_judged(n1, ni);
	/* A name in another slot leaves it alone. */
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 4, n2, strlen(n2), &miss);
	assert_int_equal(miss, 1);
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 3, n1, strlen(n1), &miss);
	assert_int_equal(miss, 0);
	/* Names of one length that differ only in their last character, far
	 * past any prefix, are two names. */
	char x[256], y[256];
	memset(x, 'a', 240);
	memcpy(x + 240, ".example.com", 13);
	memcpy(y, x, sizeof(y));
	y[251] = 'n';                                 /* example.con */
	size_t xl = strlen(x);
	assert_int_equal(xl, strlen(y));
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 5, x, xl, &miss);
	assert_int_equal(miss, 1);
	check_judged(x, ni);
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 5, y, xl, &miss);
	assert_int_equal(miss, 1);
	check_judged(y, ni);
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 5, y, xl, &miss);
	assert_int_equal(miss, 0);
	/* A prefix of a cached name is another name. */
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed, 5, y, xl - 1, &miss);
	assert_int_equal(miss, 1);
	/* The same names under another seed get other tags: nothing found. */
	ni = integ_name_lookup(&nlogn, slots, SLOTS, seed + 1, 3, n1, strlen(n1), &miss);
	assert_int_equal(miss, 1);
}

/* Names laid out after a 12-byte header, at the offsets in the comments. */
/* A response for a.vendor.com A with an A record per address, parsed
 * into *m (over buf, which must outlive it). */
static void answer_msg(uint8_t *buf, size_t cap, const uint32_t *addrs, unsigned n,
		       struct dns_msg *m)
{
	static const uint8_t head[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 6, 'v', 'e', 'n', 'd', 'o', 'r', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	};
	assert_true(sizeof(head) + 16u * n <= cap);
	memcpy(buf, head, sizeof(head));
	buf[7] = (uint8_t)n;
	size_t off = sizeof(head);
	for (unsigned i = 0; i < n; i++) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4 };
		memcpy(buf + off, rr, sizeof(rr));
		off += sizeof(rr);
		buf[off++] = (uint8_t)(addrs[i] >> 24);
		buf[off++] = (uint8_t)(addrs[i] >> 16);
		buf[off++] = (uint8_t)(addrs[i] >> 8);
		buf[off++] = (uint8_t)addrs[i];
	}
	assert_int_equal(dns_parse(buf, off, m), 0);
	assert_int_equal(m->nrr, n);
}

/* The address bytes of the last A record of a message answer_msg() made. */
static void set_last_addr(uint8_t *buf, const struct dns_msg *m, uint32_t addr)
{
	uint8_t *rd = buf + m->rr[m->nrr - 1].rdata_off;
	rd[0] = (uint8_t)(addr >> 24);
	rd[1] = (uint8_t)(addr >> 16);
	rd[2] = (uint8_t)(addr >> 8);
	rd[3] = (uint8_t)addr;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_answer_fingerprint(void **state)
{
	(void)state;
	static struct dns_msg ma, mb;
	static uint8_t ba[512], bb[512];
	const uint64_t key = 0x0123456789abcdefull;
	/* The order of the RRs does not matter. */
	const uint32_t ab[] = { 0x5db8d822, 0x5db8d823 }, ba_[] = { 0x5db8d823, 0x5db8d822 };
	answer_msg(ba, sizeof(ba), ab, 2, &ma);
	answer_msg(bb, sizeof(bb), ba_, 2, &mb);
	assert_false(integ_answers_differ(&ma, &mb, key));
	/* Another address, or one more record, is another answer. */
	const uint32_t other[] = { 0x5db8d822, 0x06060606 }, more[] = { 0x5db8d822, 0x5db8d823,
									0x06060606 };
	answer_msg(bb, sizeof(bb), other, 2, &mb);
	assert_true(integ_answers_differ(&ma, &mb, key));
	answer_msg(bb, sizeof(bb), more, 3, &mb);
	assert_true(integ_answers_differ(&ma, &mb, key));
	/* The fingerprint depends on the key: an answer's sum cannot be
	 * worked out without it. */
	assert_int_not_equal(integ_answer_fp(&ma, key), integ_answer_fp(&ma, key ^ 1));
	assert_int_not_equal(integ_answer_fp(&ma, key), integ_answer_fp(&ma, 0x5eed));

	/* A padded answer whose 32-bit fingerprint equals another's, found by
	 * a birthday search (2^17 answers of one record against 2^17 of two:
	 * about four pairs expected): still a different answer, by the
	 * number of its records. */
	enum { N = 1 << 17 };
	static uint64_t one[N];
	const uint32_t a1[] = { 0 }, a2[] = { 0x5db8d822, 0 };
	answer_msg(ba, sizeof(ba), a1, 1, &ma);
	answer_msg(bb, sizeof(bb), a2, 2, &mb);
	for (uint32_t i = 0; i < N; i++) {
		set_last_addr(ba, &ma, 0x0a000000u + i);
		one[i] = (uint64_t)integ_answer_fp(&ma, key) << 32 | i;
	}
	qsort(one, N, sizeof(one[0]), cmp_u64);
	int found = 0;
	for (uint32_t j = 0; j < N && !found; j++) {
		set_last_addr(bb, &mb, 0x0b000000u + j);
		uint64_t fp = integ_answer_fp(&mb, key);
		size_t lo = 0, hi = N;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (one[mid] >> 32 < fp)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < N && one[lo] >> 32 == fp) {
			set_last_addr(ba, &ma, 0x0a000000u + (uint32_t)one[lo]);
			found = 1;
		}
	}
	assert_true(found);
	assert_int_equal(integ_answer_fp(&ma, key), integ_answer_fp(&mb, key));
	assert_true(integ_answers_differ(&ma, &mb, key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_special_ranges),
		cmocka_unit_test(test_special_ranges_all),
		cmocka_unit_test(test_local_names),
		cmocka_unit_test(test_registered_domain),
		cmocka_unit_test(test_entropy_and_labels),
		cmocka_unit_test(test_port_find),
		cmocka_unit_test(test_name_judge),
		cmocka_unit_test(test_name_cache),
		cmocka_unit_test(test_answer_fingerprint),
	};
	integ_nlogn_init(&nlogn);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
