/* test_dns_tcp.c — DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8):
 * several messages per segment, messages and prefixes split over segments,
 * retransmissions, gaps and resynchronisation on a plausible message,
 * oversize messages, zero-length prefixes, unsynced
 * starts and 32-bit sequence wraparound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dns/dns.h"

#define MAXGOT 16

/* What the callback saw: copies of messages and whether each came straight
 * from the segment (zero-copy) or from the assembly buffer. */
struct got {
	int n;
	size_t len[MAXGOT];
	uint8_t first[MAXGOT];   /* first byte: the tests tag messages by it */
	int zero_copy[MAXGOT];
	const uint8_t *seg;      /* current segment */
	size_t seglen;
	const uint8_t *buf;
};

static void on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct got *g = arg;
	assert_true(g->n < MAXGOT);
	assert_true(len > 0);
	g->len[g->n] = len;
	g->first[g->n] = msg[0];
	g->zero_copy[g->n] = msg >= g->seg && msg + len <= g->seg + g->seglen;
	if (!g->zero_copy[g->n])
		assert_ptr_equal(msg, g->buf);
	g->n++;
}

/* Feeds one segment through a heap copy of its exact size. */
static int feed(struct dns_tcp *t, uint32_t seq, const uint8_t *data, size_t len,
		uint8_t *buf, size_t cap, struct got *g)
{
	uint8_t *seg = malloc(len ? len : 1);
	assert_non_null(seg);
	if (len)
		memcpy(seg, data, len);
	g->seg = seg;
	g->seglen = len;
	g->buf = buf;
	int ev = dns_tcp_feed(t, seq, seg, len, buf, cap, on_msg, g);
	free(seg);
	return ev;
}

/* A stream of three messages tagged 0xA1 (5 bytes), 0xB2 (12), 0xC3 (3). */
static const uint8_t stream[] = {
	0, 5, 0xa1, 1, 2, 3, 4,
	0, 12, 0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	0, 3, 0xc3, 1, 2,
};

static void expect3(const struct got *g)
{
	assert_int_equal(g->n, 3);
	assert_int_equal(g->len[0], 5);
	assert_int_equal(g->first[0], 0xa1);
	assert_int_equal(g->len[1], 12);
	assert_int_equal(g->first[1], 0xb2);
	assert_int_equal(g->len[2], 3);
	assert_int_equal(g->first[2], 0xc3);
}

static void test_several_in_one_segment(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1000, 1);
	assert_int_equal(feed(&t, 1000, stream, sizeof(stream), buf, sizeof(buf), &g), DNS_TCP_OK);
	expect3(&g);
	assert_true(g.zero_copy[0] && g.zero_copy[1] && g.zero_copy[2]);
	assert_int_equal(t.next_seq, 1000 + sizeof(stream));
}

static void test_message_split_two_segments(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	/* Cut inside the second message. */
	assert_int_equal(feed(&t, 1, stream, 12, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(feed(&t, 13, stream + 12, sizeof(stream) - 12, buf, sizeof(buf), &g), 0);
	expect3(&g);
	assert_false(g.zero_copy[1]);
	assert_true(g.zero_copy[2]);
}

/* The buffer is held exactly while a message is half assembled: the
 * engine lends buffers out of a shared pool on this answer. */
static void test_pending(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	assert_false(dns_tcp_pending(&t));
	/* Whole first message and one byte of the second's prefix: the
	 * prefix lives in the struct, the buffer is free. */
	assert_int_equal(feed(&t, 1, stream, 8, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_false(dns_tcp_pending(&t));
	/* The rest of the prefix and part of the message: held. */
	assert_int_equal(feed(&t, 9, stream + 8, 4, buf, sizeof(buf), &g), 0);
	assert_true(dns_tcp_pending(&t));
	assert_int_equal(feed(&t, 13, stream + 12, sizeof(stream) - 12, buf, sizeof(buf), &g), 0);
	expect3(&g);
	assert_false(dns_tcp_pending(&t));
}

static void test_message_split_three_segments(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, stream, 10, buf, sizeof(buf), &g), 0);
	assert_int_equal(feed(&t, 11, stream + 10, 5, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(feed(&t, 16, stream + 15, sizeof(stream) - 15, buf, sizeof(buf), &g), 0);
	expect3(&g);
	assert_false(g.zero_copy[1]);
}

static void test_prefix_split(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	/* First segment ends after one prefix byte of the second message. */
	assert_int_equal(feed(&t, 1, stream, 8, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(t.prefix_have, 1);
	/* The rest holds the whole second message: still zero-copy. */
	assert_int_equal(feed(&t, 9, stream + 8, sizeof(stream) - 8, buf, sizeof(buf), &g), 0);
	expect3(&g);
	assert_true(g.zero_copy[1]);
}

static void test_byte_by_byte(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 77, 1);
	for (size_t i = 0; i < sizeof(stream); i++)
		assert_int_equal(feed(&t, 77 + (uint32_t)i, stream + i, 1, buf, sizeof(buf), &g), 0);
	expect3(&g);
}

static void test_retransmission_ignored(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, stream, 7, buf, sizeof(buf), &g), 0);
	assert_int_equal(feed(&t, 1, stream, 7, buf, sizeof(buf), &g), DNS_TCP_RETRANS);
	assert_int_equal(g.n, 1);
	assert_int_equal(feed(&t, 8, stream + 7, sizeof(stream) - 7, buf, sizeof(buf), &g), 0);
	expect3(&g);
	/* A whole old segment, long after. */
	assert_int_equal(feed(&t, 8, stream + 7, 10, buf, sizeof(buf), &g), DNS_TCP_RETRANS);
	assert_int_equal(g.n, 3);
}

static void test_retransmission_overlapping_new_data(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, stream, 10, buf, sizeof(buf), &g), 0);
	/* Resent from byte 5 on with new bytes after: only the new ones count. */
	assert_int_equal(feed(&t, 6, stream + 5, sizeof(stream) - 5, buf, sizeof(buf), &g),
			 DNS_TCP_RETRANS);
	expect3(&g);
}

/* Plausible DNS messages for the resynchronisation tests: a query for
 * "a." type A class IN (19 bytes, prefixed: 21), tagged by its ID's first
 * byte as the other tests tag theirs. */
#define QLEN 19
static void mkquery(uint8_t *w, uint8_t tag)
{
	static const uint8_t q[2 + QLEN] = {
		0, QLEN, 0, 0x01, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1,
	};
	memcpy(w, q, sizeof(q));
	w[2] = tag;
}

/* A gap at a message boundary: the next message is framed at once. */
static void test_gap_resyncs(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64], s[3 * (2 + QLEN)];
	(void)state;
	mkquery(s, 0xa1);
	mkquery(s + 21, 0xb2);
	mkquery(s + 42, 0xc3);
	dns_tcp_init(&t, 1, 1);
	/* First message whole, half of the second. */
	assert_int_equal(feed(&t, 1, s, 30, buf, sizeof(buf), &g), 0);
	/* Lost: bytes 30..41. The next segment starts at the third message. */
	assert_int_equal(feed(&t, 1 + 42, s + 42, 21, buf, sizeof(buf), &g), DNS_TCP_GAP);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[1], 0xc3);
	assert_int_equal(t.next_seq, 1 + 63);
}

/* After a gap in the middle of a message, the tail of the lost message is
 * skipped up to the next plausible one, never framed as a message itself. */
static void test_gap_mid_message_skips_to_plausible(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[256], s[200];
	(void)state;
	/* A 120-byte answer whose body looks like prefixes ("0 5 ..."), then
	 * a real query. */
	s[0] = 0;
	s[1] = 120;
	for (int i = 2; i < 122; i++)
		s[i] = (uint8_t)(i % 2 ? 5 : 0);
	mkquery(s + 122, 0xd4);
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, s, 10, buf, sizeof(buf), &g), 0);
	/* Bytes 10..39 lost: the segment starts inside the answer. */
	assert_int_equal(feed(&t, 41, s + 40, 122 + 21 - 40, buf, sizeof(buf), &g),
			 DNS_TCP_GAP | DNS_TCP_SKIPPED);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xd4);
	assert_int_equal(g.len[0], QLEN);
	assert_false(t.hunting);
	/* Framing goes on normally from there. */
	mkquery(s, 0xe5);
	assert_int_equal(feed(&t, 41 + 122 + 21 - 40, s, 21, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[1], 0xe5);
}

/* Random bytes after a gap (a stream that is not DNS, or a lost bulk
 * answer) give no message: each segment is skipped whole. */
static void test_gap_random_bytes_give_nothing(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64], s[1400];
	uint32_t x = 0x12345678u, seq = 1;
	(void)state;
	dns_tcp_init(&t, 0, 0);
	for (int k = 0; k < 2000; k++) {
		for (size_t i = 0; i < sizeof(s); i++) {
			x = x * 1103515245u + 12345u;   /* fixed seed: a stable test */
			s[i] = (uint8_t)(x >> 24);
		}
		int ev = feed(&t, seq, s, sizeof(s), buf, sizeof(buf), &g);
		assert_true(ev & DNS_TCP_SKIPPED);
		seq += sizeof(s) + 7;   /* every segment after a gap */
	}
	assert_int_equal(g.n, 0);
}

/* What a resynchronisation accepts and refuses, one named case each. */
static void test_plausible_cases(void **state)
{
	uint8_t m[64];
	(void)state;
	mkquery(m, 1);
	assert_true(dns_tcp_plausible(m, 21));
	assert_true(dns_tcp_plausible(m, 64));     /* more bytes after it */
	assert_int_equal(dns_tcp_plausible(m, 20), -1);  /* class cut: undecided */
	assert_int_equal(dns_tcp_plausible(m, 2), -1);   /* a lone prefix */
	mkquery(m, 1);
	m[1] = 11;                                 /* length below a header */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[4] = 0x01 | (3 << 3);                    /* opcode 3 is unassigned */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[4] = 0x01 | (1 << 3);                    /* IQUERY: retired (RFC 3425) */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[5] = 0x40;                               /* Z set */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[7] = 2;                                  /* two questions */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[9] = 200;                                /* 200 answers in 19 bytes */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[14] = 0xc0;                              /* a pointer as the first name */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[18] = 0;                                 /* type 0 */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[20] = 2;                                 /* class 2 (CSNET) is unused */
	assert_false(dns_tcp_plausible(m, 21));
	mkquery(m, 1);
	m[1] = 17;                                 /* the name runs past the length */
	assert_false(dns_tcp_plausible(m, 21));
	/* A zone transfer's later message: no question, an answer. */
	static const uint8_t axfr[] = {
		0, 23, 0, 1, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0,
	};
	assert_true(dns_tcp_plausible(axfr, sizeof(axfr)));
	memcpy(m, axfr, sizeof(axfr));
	m[4] = 0x04;                               /* ... but not as a query */
	assert_false(dns_tcp_plausible(m, sizeof(axfr)));
	/* DSO (RFC 8490): every count zero, a TLV after the header. */
	static const uint8_t dso[] = {
		0, 16, 0, 1, 6 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
	};
	assert_true(dns_tcp_plausible(dso, sizeof(dso)));
	assert_int_equal(dns_tcp_plausible(dso, 13), -1);  /* header cut */
}

static void test_oversize_skipped_exactly(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[8];
	uint8_t s[2 + 40 + 2 + 3];
	(void)state;
	s[0] = 0;
	s[1] = 40;
	memset(s + 2, 0xee, 40);
	s[42] = 0;
	s[43] = 3;
	s[44] = 0xc3;
	s[45] = 1;
	s[46] = 2;
	dns_tcp_init(&t, 1, 1);
	/* The 40-byte message spans segments and cannot fit in cap 8. */
	assert_int_equal(feed(&t, 1, s, 20, buf, sizeof(buf), &g), DNS_TCP_OVERSIZE);
	assert_int_equal(feed(&t, 21, s + 20, 10, buf, sizeof(buf), &g), 0);
	assert_int_equal(feed(&t, 31, s + 30, sizeof(s) - 30, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 3);
	assert_int_equal(g.first[0], 0xc3);
	/* Whole in one segment it is handed on zero-copy whatever cap is. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, s, sizeof(s), buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], 40);
	assert_true(g.zero_copy[0]);
	/* Prefix split, then too big for cap: skipped, the next one kept. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, s, 1, buf, sizeof(buf), &g), 0);
	assert_int_equal(feed(&t, 2, s + 1, 5, buf, sizeof(buf), &g), DNS_TCP_OVERSIZE);
	assert_int_equal(feed(&t, 7, s + 6, sizeof(s) - 6, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xc3);
	/* No buffer at all: the same as cap 0. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, s, 20, NULL, 0, &g), DNS_TCP_OVERSIZE);
	assert_int_equal(feed(&t, 21, s + 20, sizeof(s) - 20, NULL, 0, &g), 0);
	assert_int_equal(g.n, 1);
}

/* The caller passes a smaller buffer while a message is half assembled:
 * nothing is written past the new cap, the message is skipped exactly. */
static void test_cap_shrinks_mid_message(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t big[64];
	uint8_t *small = malloc(8);   /* exactly 8: ASan sees a write past it */
	(void)state;
	assert_non_null(small);
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, stream, 12, big, sizeof(big), &g), 0);
	assert_int_equal(feed(&t, 13, stream + 12, sizeof(stream) - 12, small, 8, &g),
			 DNS_TCP_OVERSIZE);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[0], 0xa1);
	assert_int_equal(g.first[1], 0xc3);
	free(small);
}

static void test_zero_length_ignored(void **state)
{
	static const uint8_t s[] = { 0, 0, 0, 0, 0, 2, 0xd4, 9, 0, 0 };
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[16];
	(void)state;
	dns_tcp_init(&t, 5, 1);
	assert_int_equal(feed(&t, 5, s, sizeof(s), buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 2);
	assert_int_equal(g.first[0], 0xd4);
	assert_int_equal(t.prefix_have, 0);
}

static void test_unsynced_start(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64], s[2 * (2 + QLEN)];
	(void)state;
	mkquery(s, 0xa1);
	mkquery(s + 21, 0xb2);
	dns_tcp_init(&t, 0, 0);
	assert_int_equal(feed(&t, 4242, s, 31, buf, sizeof(buf), &g), 0);
	assert_int_equal(t.synced, 1);
	assert_int_equal(feed(&t, 4273, s + 31, sizeof(s) - 31, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[0], 0xa1);
	assert_int_equal(g.first[1], 0xb2);
	/* Joined in the middle of a message: its tail is skipped. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 0, 0);
	assert_int_equal(feed(&t, 99, s + 5, sizeof(s) - 5, buf, sizeof(buf), &g),
			 DNS_TCP_SKIPPED);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xb2);
	/* A first segment too short to judge waits for the next one. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 0, 0);
	assert_int_equal(feed(&t, 7, s, 10, buf, sizeof(buf), &g), 0);
	assert_true(t.hunting);
	assert_int_equal(t.carry_len, 10);
	assert_int_equal(feed(&t, 17, s + 10, sizeof(s) - 10, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[0], 0xa1);
	assert_int_equal(g.first[1], 0xb2);
}

/* Some stacks write the length prefix in a segment of its own (RFC 7766 §8
 * asks them not to): after a gap, the lone prefix is judged with the
 * message that follows it, and a tail of junk with what follows it too. */
static void test_gap_then_lone_prefix(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64], q[2 + QLEN], junk[40];
	(void)state;
	mkquery(q, 0xa1);
	memset(junk, 0xff, sizeof(junk));
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 1, q, 2, buf, sizeof(buf), &g), 0);
	/* 100 bytes lost, then a prefix alone and its message alone. */
	assert_int_equal(feed(&t, 103, q, 2, buf, sizeof(buf), &g), DNS_TCP_GAP);
	assert_int_equal(t.carry_len, 2);
	assert_int_equal(feed(&t, 105, q + 2, QLEN, buf, sizeof(buf), &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xa1);
	assert_true(g.zero_copy[0]);   /* the prefix was kept, the message read in place */
	assert_false(t.hunting);
	/* A gap into junk whose tail is kept, then a segment that does not
	 * continue it plausibly: the tail is skipped, the search goes on. */
	assert_int_equal(feed(&t, 500, junk, sizeof(junk), buf, sizeof(buf), &g),
			 DNS_TCP_GAP | DNS_TCP_SKIPPED);
	assert_int_equal(t.carry_len, DNS_TCP_CARRY - 1);   /* 14 bytes: a header, judged */
	mkquery(q, 0xb2);
	assert_int_equal(feed(&t, 540, q, sizeof(q), buf, sizeof(buf), &g), DNS_TCP_SKIPPED);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[1], 0xb2);
	assert_int_equal(t.carry_len, 0);
	/* No buffer to assemble in: the message the kept prefix starts is
	 * skipped exactly, and the one after it framed. */
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 1, 1);
	assert_int_equal(feed(&t, 50, q, 2, NULL, 0, &g), DNS_TCP_GAP);
	uint8_t two[QLEN + 2 + QLEN];
	memcpy(two, q + 2, QLEN);
	mkquery(two + QLEN, 0xc3);
	assert_int_equal(feed(&t, 52, two, sizeof(two), NULL, 0, &g), DNS_TCP_OVERSIZE);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xc3);
}

static void test_sequence_wraparound(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[64];
	(void)state;
	uint32_t isn = 0xfffffff0u;
	dns_tcp_init(&t, isn, 1);
	/* 16 bytes take the sequence exactly to 0: the second message spans it. */
	assert_int_equal(feed(&t, isn, stream, 16, buf, sizeof(buf), &g), 0);
	assert_int_equal(t.next_seq, 0);
	/* A retransmission from before the wrap is behind, not a gap. */
	assert_int_equal(feed(&t, isn + 8, stream + 8, 8, buf, sizeof(buf), &g), DNS_TCP_RETRANS);
	assert_int_equal(feed(&t, isn + 10, stream + 10, sizeof(stream) - 10, buf, sizeof(buf), &g),
			 DNS_TCP_RETRANS);
	expect3(&g);
	assert_int_equal(t.next_seq, (uint32_t)(isn + sizeof(stream)));
	/* A gap across the wrap is a gap. */
	uint8_t q[2 + QLEN];
	mkquery(q, 0xc3);
	memset(&g, 0, sizeof(g));
	dns_tcp_init(&t, 0xfffffffeu, 1);
	assert_int_equal(feed(&t, 0xfffffffeu, stream, 4, buf, sizeof(buf), &g), 0);
	assert_int_equal(feed(&t, 10, q, sizeof(q), buf, sizeof(buf), &g), DNS_TCP_GAP);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.first[0], 0xc3);
}

static void test_empty_segment(void **state)
{
	struct dns_tcp t;
	struct got g = { 0 };
	uint8_t buf[8];
	(void)state;
	dns_tcp_init(&t, 9, 1);
	assert_int_equal(feed(&t, 9, stream, 0, buf, sizeof(buf), &g), 0);
	assert_int_equal(t.next_seq, 9);
	assert_int_equal(g.n, 0);
}

/* Any split of the stream gives the same messages as feeding it whole. */
static void test_every_two_way_split(void **state)
{
	uint8_t buf[64];
	(void)state;
	for (size_t cut = 1; cut < sizeof(stream); cut++) {
		struct dns_tcp t;
		struct got g = { 0 };
		dns_tcp_init(&t, 0x7ffffff8u, 1);
		assert_int_equal(feed(&t, 0x7ffffff8u, stream, cut, buf, sizeof(buf), &g), 0);
		assert_int_equal(feed(&t, 0x7ffffff8u + (uint32_t)cut, stream + cut,
				      sizeof(stream) - cut, buf, sizeof(buf), &g), 0);
		expect3(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_in_one_segment),
		cmocka_unit_test(test_message_split_two_segments),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_message_split_three_segments),
		cmocka_unit_test(test_prefix_split),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_retransmission_ignored),
		cmocka_unit_test(test_retransmission_overlapping_new_data),
		cmocka_unit_test(test_gap_resyncs),
		cmocka_unit_test(test_gap_mid_message_skips_to_plausible),
		cmocka_unit_test(test_gap_random_bytes_give_nothing),
		cmocka_unit_test(test_plausible_cases),
		cmocka_unit_test(test_oversize_skipped_exactly),
		cmocka_unit_test(test_cap_shrinks_mid_message),
		cmocka_unit_test(test_zero_length_ignored),
		cmocka_unit_test(test_unsynced_start),
		cmocka_unit_test(test_gap_then_lone_prefix),
		cmocka_unit_test(test_sequence_wraparound),
		cmocka_unit_test(test_empty_segment),
		cmocka_unit_test(test_every_two_way_split),
	};
	return cmocka_run_group_tests_name("dns_tcp", tests, NULL, NULL);
}
