/* tcp.c — DNS over TCP: 2-byte length framing over one direction of a stream.
 * RFC 1035 §4.2.2 (length prefix), RFC 7766 §8 (several messages per
 * segment, a message over several segments), RFC 9293 §3.4 and RFC 1982
 * (sequence numbers compare modulo 2^32).
 */
#include "dns/dns.h"

#include <string.h>

#include "common/err.h"
#include "common/rd.h"

int dns_tcp_pending(const struct dns_tcp *t)
{
	/* `need` is set while a message is assembled in the buffer; the
	 * length prefix itself lives in the struct. */
	return t->need != 0;
}

void dns_tcp_init(struct dns_tcp *t, uint32_t seq, int synced)
{
	memset(t, 0, sizeof(*t));
	t->next_seq = seq;
	t->synced = synced ? 1 : 0;
}

/* Forgets the message in progress: after a gap the stream is read again
 * as if a message started at the next byte. */
static void tcp_drop_partial(struct dns_tcp *t)
{
	t->need = 0;
	t->have = 0;
	t->prefix_have = 0;
	t->skipping = 0;
	t->skip_left = 0;
}

/* The bytes of one segment, in order, already trimmed of what was seen.
 * The reader walks the segment; a message is handed on straight from the
 * segment when it is whole in it, else copied into buf. */
static int tcp_consume(struct dns_tcp *t, struct rd *r, uint8_t *buf,
		       size_t cap, dns_tcp_cb cb, void *arg)
{
	int ev = 0;

	while (rd_left(r) > 0) {
		if (t->skipping) {
			size_t k = rd_left(r);
			if (k > t->skip_left)
				k = t->skip_left;
			rd_skip(r, k);
			t->skip_left = (uint16_t)(t->skip_left - k);
			if (t->skip_left == 0)
				t->skipping = 0;
			continue;
		}
		if (t->prefix_have < 2) {
			if (t->prefix_have == 0 && rd_left(r) >= 2) {
				t->prefix[0] = rd_u8(r);
				t->prefix[1] = rd_u8(r);
			} else {
				t->prefix[t->prefix_have] = rd_u8(r);
				if (++t->prefix_have < 2)
					continue;
			}
			t->prefix_have = 0;
			uint16_t mlen = (uint16_t)(t->prefix[0] << 8 | t->prefix[1]);
			if (mlen == 0)
				continue;   /* nothing to deliver: no DNS message is empty */
			if (rd_left(r) >= mlen) {
				/* Whole in this segment: zero-copy. */
				const uint8_t *p = rd_ptr(r, mlen);
				if (cb != NULL)
					cb(arg, p, mlen);
				continue;
			}
			if (mlen > cap || buf == NULL) {
				/* Cannot be assembled: skip exactly its bytes so
				 * the next prefix is read where it is. */
				t->skipping = 1;
				t->skip_left = mlen;
				ev |= DNS_TCP_OVERSIZE;
				continue;
			}
			t->need = mlen;
			t->have = 0;
			t->prefix_have = 2;
			continue;
		}
		/* Assembling: prefix_have == 2, have < need. The caller's
		 * buffer may have shrunk since the message began (a new cap
		 * for this call): never write past it, skip the rest. */
		if (t->need > cap || buf == NULL) {
			t->skipping = 1;
			t->skip_left = (uint16_t)(t->need - t->have);
			t->need = 0;
			t->have = 0;
			t->prefix_have = 0;
			ev |= DNS_TCP_OVERSIZE;
			continue;
		}
		size_t k = rd_left(r);
		if (k > (size_t)(t->need - t->have))
			k = (size_t)(t->need - t->have);
		if (t->have == 0 && k == t->need) {
			/* Prefix was at the end of the previous segment and the
			 * message is whole in this one: zero-copy still. */
			const uint8_t *p = rd_ptr(r, k);
			if (cb != NULL)
				cb(arg, p, k);
		} else {
			rd_copy(r, buf + t->have, k);
			t->have = (uint16_t)(t->have + k);
			if (t->have < t->need)
				continue;
			if (cb != NULL)
				cb(arg, buf, t->need);
		}
		t->need = 0;
		t->have = 0;
		t->prefix_have = 0;
	}
	return ev;
}

int dns_tcp_feed(struct dns_tcp *t, uint32_t seq, const uint8_t *data,
		 size_t len, uint8_t *buf, size_t cap, dns_tcp_cb cb, void *arg)
{
	struct rd r;
	int ev = 0;

	if (data == NULL || len == 0)
		return DNS_TCP_OK;
	if (!t->synced) {
		/* Joined mid-stream: assume a message starts here. */
		tcp_drop_partial(t);
		t->next_seq = seq;
		t->synced = 1;
	}
	/* Signed distance modulo 2^32: negative is behind next_seq. */
	int32_t d = (int32_t)(seq - t->next_seq);
	uint32_t start = seq;
	if (d < 0) {
		uint32_t seen = t->next_seq - seq;
		if (seen >= len)
			return DNS_TCP_RETRANS;
		data += seen;
		len -= seen;
		start = t->next_seq;
		ev |= DNS_TCP_RETRANS;
	} else if (d > 0) {
		tcp_drop_partial(t);
		ev |= DNS_TCP_GAP;
	}
	t->next_seq = start + (uint32_t)len;   /* wraps modulo 2^32 */
	rd_init(&r, data, len);
	ev |= tcp_consume(t, &r, buf, cap, cb, arg);
	return ev;
}
