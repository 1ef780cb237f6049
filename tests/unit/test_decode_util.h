/* test_decode_util.h — frame builders and checks shared by the decode tests.
 *
 * Frames are built byte by byte in network order, never from structs, so a
 * test states exactly what is on the wire.
 */
#ifndef SW_TEST_DECODE_UTIL_H
#define SW_TEST_DECODE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"

/* Big enough for a 64 KiB datagram plus link headers. */
#define FB_MAX 70000

struct fb {
	uint8_t b[FB_MAX];
	size_t n;
};

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t ip4_a[4] = { 192, 0, 2, 10 };
static const uint8_t ip4_b[4] = { 192, 0, 2, 1 };
static const uint8_t ip6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				   0, 0, 0, 0, 0, 0, 0, 0x0a };
static const uint8_t ip6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				   0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t dns_q[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0,
				   0, 0, 0, 0 };

static inline void fb_u8(struct fb *f, unsigned v)
{
	assert_true(f->n < FB_MAX);
	f->b[f->n++] = (uint8_t)v;
}

static inline void fb_u16(struct fb *f, unsigned v)
{
	fb_u8(f, v >> 8);
	fb_u8(f, v & 0xff);
}

static inline void fb_u32(struct fb *f, uint32_t v)
{
	fb_u16(f, v >> 16);
	fb_u16(f, v & 0xffff);
}

static inline void fb_bytes(struct fb *f, const void *p, size_t n)
{
	assert_true(n <= FB_MAX - f->n);
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void fb_eth(struct fb *f, unsigned type)
{
	fb_bytes(f, mac_b, 6); /* destination */
	fb_bytes(f, mac_a, 6); /* source */
	fb_u16(f, type);
}

/* IPv4 header with a correct total length for `plen` payload bytes. */
static inline void fb_ipv4_hdr(struct fb *f, unsigned proto, unsigned ttl,
			       unsigned id, unsigned fo, size_t plen)
{
	fb_u8(f, 0x45);
	fb_u8(f, 0);
	fb_u16(f, (unsigned)(20 + plen));
	fb_u16(f, id);
	fb_u16(f, fo);
	fb_u8(f, ttl);
	fb_u8(f, proto);
	fb_u16(f, 0);
	fb_bytes(f, ip4_a, 4);
	fb_bytes(f, ip4_b, 4);
}

static inline void fb_ipv6_hdr(struct fb *f, unsigned nh, unsigned hlim,
			       size_t plen)
{
	fb_u32(f, 0x60000000);
	fb_u16(f, (unsigned)plen);
	fb_u8(f, nh);
	fb_u8(f, hlim);
	fb_bytes(f, ip6_a, 16);
	fb_bytes(f, ip6_b, 16);
}

static inline void fb_udp(struct fb *f, unsigned sport, unsigned dport,
			  const void *data, size_t n)
{
	fb_u16(f, sport);
	fb_u16(f, dport);
	fb_u16(f, (unsigned)(8 + n));
	fb_u16(f, 0);
	fb_bytes(f, data, n);
}

/* Ethernet + IPv4 + UDP 40000 -> 53 carrying a 12-byte DNS header. */
static inline void fb_eth_v4_udp(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 17, 64, 1, 0, 8 + sizeof(dns_q));
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
}

/* IPv4-mapped form of a 4-byte address (RFC 4291 §2.5.5.2). */
static inline void mapped(uint8_t out[16], const uint8_t v4[4])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static inline void assert_v4_addrs(const struct pkt *p)
{
	uint8_t m[16];
	mapped(m, ip4_a);
	assert_memory_equal(p->src_ip, m, 16);
	mapped(m, ip4_b);
	assert_memory_equal(p->dst_ip, m, 16);
	assert_int_equal(p->ip_ver, 4);
}

static inline void assert_v6_addrs(const struct pkt *p)
{
	assert_memory_equal(p->src_ip, ip6_a, 16);
	assert_memory_equal(p->dst_ip, ip6_b, 16);
	assert_int_equal(p->ip_ver, 6);
}

/* Exactly the anomaly `a` counted `n` times and no other; a < 0: none. */
static inline void assert_anomaly(const struct dec_ctx *d, int a, uint64_t n)
{
	const uint64_t *c = dec_anomalies(d);
	for (int i = 0; i < DEC_A_MAX; i++) {
		uint64_t want = i == a ? n : 0;
		if (c[i] != want)
			fail_msg("anomaly %s: %llu, expected %llu",
				 dec_anomaly_name(i), (unsigned long long)c[i],
				 (unsigned long long)want);
	}
}

/* A table-driven case: build a frame, decode it on `link`, expect a kind
 * and one anomaly (or none), then run the case's own field checks. */
struct tcase {
	const char *name;
	int link;
	void (*build)(struct fb *f);
	int kind;
	int anomaly;   /* -1: none */
	uint32_t cut;  /* bytes the "snaplen" removed (wirelen - caplen) */
	void (*check)(const struct pkt *p, const struct fb *f);
};

static inline void run_tcase(void **state)
{
	const struct tcase *c = *state;
	static struct fb f; /* large: keep it off the stack */
	struct pkt p;
	struct dec_ctx *d = dec_new(&(struct dec_conf){ .frag_max = 4 });
	assert_non_null(d);
	f.n = 0;
	c->build(&f);
	/* Poison the output: a field the decoder should set but does not
	 * shows up as 0xa5 in the checks. */
	memset(&p, 0xa5, sizeof(p));
	uint32_t caplen = (uint32_t)f.n - c->cut;
	int k = dec_frame(d, c->link, f.b, caplen, (uint32_t)f.n, 1000, &p);
	assert_int_equal(k, c->kind);
	assert_int_equal(p.kind, c->kind);
	assert_int_equal(p.ts_us, 1000);
	assert_int_equal(p.wirelen, f.n);
	assert_anomaly(d, c->anomaly, c->anomaly < 0 ? 0 : 1);
	if (c->check != NULL)
		c->check(&p, &f);
	dec_free(d);
}

/* Runs a table of cases as one cmocka group, each under its own name. */
static inline int run_tcases(const char *group, const struct tcase *cases,
			     size_t n)
{
	struct CMUnitTest tests[128];
	assert_true(n <= 128);
	for (size_t i = 0; i < n; i++) {
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_tcase,
			.initial_state = (void *)(uintptr_t)&cases[i],
		};
	}
	return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

#endif
