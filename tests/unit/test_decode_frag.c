/* test_decode_frag.c — IPv4 (RFC 791, RFC 815) and IPv6 (RFC 8200 §4.5,
 * RFC 5722) fragment reassembly: order, duplicates, overlaps, timeouts,
 * eviction and size limits, each case run for both families. */
#include "test_decode_util.h"

#define TIMEOUT_US 1000000u
#define T0 5000000u

/* The fragmentable part under test: a UDP header and a data pattern. */
static uint8_t dgram[70000];

static size_t make_dgram(size_t datalen)
{
	size_t n = 8 + datalen;
	dgram[0] = 40000 >> 8;
	dgram[1] = 40000 & 0xff;
	dgram[2] = 0;
	dgram[3] = 53;
	dgram[4] = (uint8_t)(n >> 8);
	dgram[5] = (uint8_t)n;
	dgram[6] = 0;
	dgram[7] = 0;
	for (size_t i = 0; i < datalen; i++)
		dgram[8 + i] = (uint8_t)(i * 7 + 3);
	return n;
}

struct fam {
	int v6;
	int a_overlap, a_too_big, a_timeout, a_evicted, a_bad;
	uint32_t hdr;   /* header bytes of the rebuilt datagram */
	uint32_t max;   /* largest fragmentable part allowed */
};

static const struct fam fam4 = {
	0, DEC_A_IPV4_FRAG_OVERLAP, DEC_A_IPV4_FRAG_TOO_BIG,
	DEC_A_IPV4_FRAG_TIMEOUT, DEC_A_IPV4_FRAG_EVICTED, DEC_A_IPV4_FRAG_BAD,
	20, 65535 - 20,
};
/* IPv6 fragments carry hop-by-hop (8) and destination options (8) before
 * the fragment header: 16 bytes of unfragmentable extension headers. */
static const struct fam fam6 = {
	1, DEC_A_IPV6_FRAG_OVERLAP, DEC_A_IPV6_FRAG_TOO_BIG,
	DEC_A_IPV6_FRAG_TIMEOUT, DEC_A_IPV6_FRAG_EVICTED, DEC_A_IPV6_FRAG_BAD,
	40 + 16, 65535 - 16,
};

struct fx {
	const struct fam *fam;
	struct dec_ctx *d;
	struct pkt p;
};

static struct fb frame;

/* Sends one fragment [off, off+len) of `data` (or of dgram when NULL);
 * `nh` is the protocol / fragment-header next header. */
static int send_nh(struct fx *x, uint32_t id, uint32_t off, int more,
		   const uint8_t *data, size_t len, uint64_t ts, unsigned nh)
{
	struct fb *f = &frame;
	f->n = 0;
	if (data == NULL)
		data = dgram + off;
	if (!x->fam->v6) {
		fb_eth(f, 0x0800);
		fb_ipv4_hdr(f, nh, off == 0 ? 64 : 60, id,
			    (more ? 0x2000u : 0) | off / 8, len);
	} else {
		fb_eth(f, 0x86dd);
		fb_ipv6_hdr(f, 0, off == 0 ? 64 : 60, 8 + 8 + 8 + len);
		fb_u8(f, 60); /* hop-by-hop */
		fb_u8(f, 0);
		fb_u16(f, 0x0104);
		fb_u32(f, 0);
		fb_u8(f, 44); /* destination options */
		fb_u8(f, 0);
		fb_u16(f, 0x0104);
		fb_u32(f, 0);
		fb_u8(f, nh); /* fragment header */
		fb_u8(f, 0);
		fb_u16(f, (unsigned)(off | (more ? 1 : 0)));
		fb_u32(f, id);
	}
	fb_bytes(f, data, len);
	memset(&x->p, 0xa5, sizeof(x->p));
	return dec_frame(x->d, DEC_LINK_ETHERNET, f->b, (uint32_t)f->n,
			 (uint32_t)f->n, ts, &x->p);
}

static int send_frag(struct fx *x, uint32_t id, uint32_t off, int more,
		     size_t len, uint64_t ts)
{
	return send_nh(x, id, off, more, NULL, len, ts, 17);
}

static struct fx *fx_new(void **state, uint32_t frag_max, uint32_t bytes)
{
	static struct fx x;
	x.fam = *state;
	x.d = dec_new(&(struct dec_conf){ .frag_max = frag_max,
					  .frag_max_bytes = bytes,
					  .frag_timeout_us = TIMEOUT_US });
	assert_non_null(x.d);
	return &x;
}

/* The rebuilt datagram: fields, and payload equal to dgram's data. */
static void assert_rebuilt(const struct fx *x, size_t n)
{
	const struct pkt *p = &x->p;
	assert_int_equal(p->kind, PKT_IP);
	if (x->fam->v6)
		assert_v6_addrs(p);
	else
		assert_v4_addrs(p);
	assert_int_equal(p->reassembled, 1);
	assert_int_equal(p->ip_ttl, 64); /* from the first fragment */
	assert_int_equal(p->ip_len, x->fam->hdr + n);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, n - 8);
	assert_memory_equal(p->payload, dgram + 8, n - 8);
	assert_true(p->payload < frame.b || p->payload >= frame.b + FB_MAX);
	assert_int_equal(dec_reassembled(x->d), 1);
}

static void t_in_order(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0 + 1), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0 + 2), PKT_IP);
	assert_rebuilt(x, n);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

static void t_reverse(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(45); /* last fragment ends inside a block */
	assert_int_equal(send_frag(x, 7, 32, 0, 21, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_IP);
	assert_rebuilt(x, n);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

static void t_duplicate(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0), PKT_IP);
	assert_rebuilt(x, n);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

static void t_overlap_same(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 24, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 8, 0, 40, T0), PKT_IP);
	assert_rebuilt(x, n);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

static void t_overlap_diff(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	uint8_t evil[16];
	make_dgram(40);
	memcpy(evil, dgram + 16, 16);
	evil[3] ^= 0xff;
	assert_int_equal(send_frag(x, 7, 0, 1, 24, T0), PKT_NONE);
	assert_int_equal(send_nh(x, 7, 16, 1, evil, 16, T0, 17), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_overlap, 1);
	/* RFC 5722 §4: the rest of the datagram is discarded too. */
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0), PKT_NONE);
	assert_int_equal(dec_reassembled(x->d), 0);
	assert_anomaly(x->d, x->fam->a_overlap, 1);
	/* Dead entries expire silently. */
	dec_expire(x->d, T0 + TIMEOUT_US + 1);
	assert_anomaly(x->d, x->fam->a_overlap, 1);
	dec_free(x->d);
}

static void t_missing_timeout(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0 + 10), PKT_NONE);
	dec_expire(x->d, T0 + TIMEOUT_US / 2);
	assert_anomaly(x->d, -1, 0);
	dec_expire(x->d, T0 + TIMEOUT_US + 1);
	assert_anomaly(x->d, x->fam->a_timeout, 1);
	/* The missing piece alone now starts a new datagram. */
	assert_int_equal(send_frag(x, 7, 16, 1, 16, T0 + TIMEOUT_US + 2), PKT_NONE);
	assert_int_equal(dec_reassembled(x->d), 0);
	dec_free(x->d);
}

static void t_stale_without_expire(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(40);
	uint64_t t1 = T0 + TIMEOUT_US + 1;
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	/* dec_expire() never ran: the lookup itself notices the age. */
	assert_int_equal(send_frag(x, 7, 16, 1, 16, t1), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_timeout, 1);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, t1), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, t1), PKT_IP);
	assert_rebuilt(x, n);
	dec_free(x->d);
}

static void t_eviction(void **state)
{
	struct fx *x = fx_new(state, 2, 0);
	size_t n = make_dgram(40);
	assert_int_equal(send_frag(x, 1, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 2, 0, 1, 16, T0 + 1), PKT_NONE);
	assert_anomaly(x->d, -1, 0);
	assert_int_equal(send_frag(x, 3, 0, 1, 16, T0 + 2), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_evicted, 1); /* id 1, the oldest */
	assert_int_equal(send_frag(x, 3, 16, 1, 16, T0 + 3), PKT_NONE);
	assert_int_equal(send_frag(x, 3, 32, 0, 16, T0 + 3), PKT_IP);
	assert_rebuilt(x, n);
	/* id 1 lost its first fragment: it cannot complete. */
	assert_int_equal(send_frag(x, 1, 16, 1, 16, T0 + 4), PKT_NONE);
	assert_int_equal(send_frag(x, 1, 32, 0, 16, T0 + 4), PKT_NONE);
	assert_int_equal(dec_reassembled(x->d), 1);
	dec_free(x->d);
}

static void t_interleaved(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	for (uint32_t id = 100; id < 103; id++)
		assert_int_equal(send_frag(x, id, 16, 1, 16, T0), PKT_NONE);
	for (uint32_t id = 100; id < 103; id++)
		assert_int_equal(send_frag(x, id, 32, 0, 16, T0), PKT_NONE);
	for (uint32_t id = 102; id >= 100; id--)
		assert_int_equal(send_frag(x, id, 0, 1, 16, T0), PKT_IP);
	assert_int_equal(dec_reassembled(x->d), 3);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

/* Largest datagram the length field allows, in 1480-byte pieces. */
static void send_big(struct fx *x, size_t n, int expect_last)
{
	uint32_t off = 0;
	while (n - off > 1480) {
		assert_int_equal(send_frag(x, 9, off, 1, 1480, T0), PKT_NONE);
		off += 1480;
	}
	assert_int_equal(send_frag(x, 9, off, 0, n - off, T0), expect_last);
}

static void t_max_size(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(x->fam->max - 8);
	/* Exactly 65535 bytes of IPv4 total length / IPv6 payload length. */
	send_big(x, n, PKT_IP);
	assert_rebuilt(x, n);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

static void t_too_big(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	size_t n = make_dgram(x->fam->max - 8 + 1);
	send_big(x, n, PKT_NONE);
	assert_anomaly(x->d, x->fam->a_too_big, 1);
	assert_int_equal(dec_reassembled(x->d), 0);
	dec_free(x->d);
}

static void t_too_big_offset(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(65535);
	assert_int_equal(send_frag(x, 9, 65528, 0, 16, T0), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_too_big, 1);
	dec_free(x->d);
}

static void t_small_buffer(void **state)
{
	struct fx *x = fx_new(state, 4, 32);
	make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_too_big, 1);
	dec_free(x->d);
}

static void t_not_multiple_of_8(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	assert_int_equal(send_frag(x, 7, 0, 1, 12, T0), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_bad, 1);
	dec_free(x->d);
}

static void t_conflicting_last(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	assert_int_equal(send_frag(x, 7, 32, 0, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 32, 0, 8, T0), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_bad, 1);
	dec_free(x->d);
}

static void t_past_last(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	assert_int_equal(send_frag(x, 7, 16, 0, 16, T0), PKT_NONE);
	assert_int_equal(send_frag(x, 7, 24, 1, 16, T0), PKT_NONE);
	assert_anomaly(x->d, x->fam->a_bad, 1);
	dec_free(x->d);
}

/* Expiry looks at a bounded number of entries per call. */
static void t_expire_budget(void **state)
{
	struct fx *x = fx_new(state, 64, 0);
	make_dgram(40);
	for (uint32_t id = 0; id < 40; id++)
		send_frag(x, id, 0, 1, 16, T0);
	dec_expire(x->d, T0 + TIMEOUT_US + 1);
	const uint64_t *a = dec_anomalies(x->d);
	assert_true(a[x->fam->a_timeout] > 0 && a[x->fam->a_timeout] < 40);
	for (int i = 0; i < 10; i++)
		dec_expire(x->d, T0 + TIMEOUT_US + 1);
	assert_anomaly(x->d, x->fam->a_timeout, 40);
	dec_free(x->d);
}

/* IPv4 keys on the protocol too (RFC 791 §3.2). */
static void t_v4_proto_in_key(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	make_dgram(40);
	assert_int_equal(send_nh(x, 7, 0, 1, NULL, 16, T0, 17), PKT_NONE);
	assert_int_equal(send_nh(x, 7, 16, 1, NULL, 16, T0, 6), PKT_NONE);
	assert_int_equal(send_nh(x, 7, 32, 0, NULL, 16, T0, 17), PKT_NONE);
	assert_int_equal(dec_reassembled(x->d), 0);
	dec_free(x->d);
}

/* IPv6: the walk carries on inside the rebuilt datagram (a destination
 * options header after the fragment header, RFC 8200 §4.1). */
static void t_v6_ext_after_frag(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	static uint8_t body[8 + 48];
	size_t n = make_dgram(40);
	body[0] = 17;
	body[1] = 0;
	body[2] = 1;
	body[3] = 4;
	memcpy(body + 8, dgram, n);
	assert_int_equal(send_nh(x, 7, 0, 1, body, 32, T0, 60), PKT_NONE);
	assert_int_equal(send_nh(x, 7, 32, 0, body + 32, 24, T0, 60), PKT_IP);
	assert_int_equal(x->p.ip_len, 56 + 8 + n);
	assert_int_equal(x->p.sport, 40000);
	assert_memory_equal(x->p.payload, dgram + 8, n - 8);
	assert_anomaly(x->d, -1, 0);
	dec_free(x->d);
}

/* IPv6: a fragment header inside a rebuilt datagram is refused. */
static void t_v6_nested_frag(void **state)
{
	struct fx *x = fx_new(state, 4, 0);
	static uint8_t body[16];
	body[0] = 17;
	body[2] = 0;
	body[3] = 8 | 1; /* offset 8, M */
	assert_int_equal(send_nh(x, 7, 0, 1, body, 8, T0, 44), PKT_NONE);
	assert_int_equal(send_nh(x, 7, 8, 0, body + 8, 8, T0, 44), PKT_NONE);
	assert_int_equal(dec_reassembled(x->d), 1);
	assert_anomaly(x->d, DEC_A_IPV6_FRAG_BAD, 1);
	dec_free(x->d);
}

#define BOTH(fn)                                                         \
	{ "v4_" #fn, fn, NULL, NULL, (void *)(uintptr_t)&fam4 },         \
	{ "v6_" #fn, fn, NULL, NULL, (void *)(uintptr_t)&fam6 }

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(t_in_order),
		BOTH(t_reverse),
		BOTH(t_duplicate),
		BOTH(t_overlap_same),
		BOTH(t_overlap_diff),
		BOTH(t_missing_timeout),
		BOTH(t_stale_without_expire),
		BOTH(t_eviction),
		BOTH(t_interleaved),
		BOTH(t_max_size),
		BOTH(t_too_big),
		BOTH(t_too_big_offset),
		BOTH(t_small_buffer),
		BOTH(t_not_multiple_of_8),
		BOTH(t_conflicting_last),
		BOTH(t_past_last),
		BOTH(t_expire_budget),
		{ "v4_t_proto_in_key", t_v4_proto_in_key, NULL, NULL, (void *)(uintptr_t)&fam4 },
		{ "v6_t_ext_after_frag", t_v6_ext_after_frag, NULL, NULL, (void *)(uintptr_t)&fam6 },
		{ "v6_t_nested_frag", t_v6_nested_frag, NULL, NULL, (void *)(uintptr_t)&fam6 },
	};
	return cmocka_run_group_tests_name("decode_frag", tests, NULL, NULL);
}
