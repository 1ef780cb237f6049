/* fuzz_dns_tcp.c — libFuzzer target for DNS over TCP framing (RFC 7766 §8).
 *
 * The input is a script of segments: each record is [op][len][len bytes of
 * payload]. The op picks where the segment lands relative to the stream
 * (in order, a retransmission from k bytes back, a gap of k bytes) and the
 * assembly capacity, so retransmits, gaps, oversize skips and sequence
 * wraparound all run, and the search for a plausible message after a gap
 * or an unsynced start. Every message framed is parsed as DNS.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seg_ctx {
	const uint8_t *seg;
	size_t seglen;
	const uint8_t *buf;
	size_t cap;
	unsigned n;
};

static void fuzz_on_msg(void *arg, const uint8_t *msg, size_t len)
{
	static struct dns_msg m;
	struct seg_ctx *c = arg;
	assert(len > 0 && len <= 65535);
	/* Either zero-copy from the segment or assembled in buf. */
	if (c->buf != NULL && msg == c->buf)
		assert(len <= c->cap);
	else
		assert(msg >= c->seg && msg + len <= c->seg + c->seglen);
	c->n++;
	(void)dns_parse(msg, len, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65535];
	struct dns_tcp t;
	struct seg_ctx c = { 0 };
	size_t off = 0;
	uint32_t seq;

	if (size < 5)
		return 0;
	uint8_t *small = malloc(16);
	assert(small != NULL);
	seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	      (uint32_t)data[2] << 8 | data[3];
	dns_tcp_init(&t, seq, data[4] & 1);
	off = 5;
	while (size - off >= 2) {
		uint8_t op = data[off];
		size_t len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		uint32_t k = (uint32_t)(op >> 3) + 1;
		uint32_t at;
		switch (op & 3) {
		case 1: at = t.next_seq - k; break;   /* retransmission */
		case 2: at = t.next_seq + k; break;   /* gap */
		default: at = t.next_seq; break;
		}
		/* Capacity: the whole 65535, a small heap buffer of exactly 16
		 * (ASan sees any write past it), or none; it may change in the
		 * middle of a message. */
		uint8_t *b = buf;
		size_t cap = sizeof(buf);
		if ((op & 0xf8) == 0xf8) {
			b = NULL;
			cap = 0;
		} else if (op & 4) {
			b = small;
			cap = 16;
		}
		c.seg = data + off;
		c.seglen = len;
		c.buf = b;
		c.cap = cap;
		int ev = dns_tcp_feed(&t, at, data + off, len, b, cap, fuzz_on_msg, &c);
		assert((ev & ~(DNS_TCP_GAP | DNS_TCP_OVERSIZE | DNS_TCP_RETRANS |
			       DNS_TCP_SKIPPED)) == 0);
		assert(t.carry_len <= DNS_TCP_CARRY);
		assert(t.carry_len == 0 || t.hunting);
		assert(t.prefix_have <= 2);
		assert(t.have <= t.need);
		assert(t.skipping || t.skip_left == 0);
		off += len;
	}
	free(small);
	return 0;
}
