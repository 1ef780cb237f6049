/* tcp.c — DNS over TCP: 2-byte length framing over one direction of a stream.
 * RFC 1035 §4.2.2 (length prefix), RFC 7766 §8 (several messages per
 * segment, a message over several segments), RFC 9293 §3.4 and RFC 1982
 * (sequence numbers compare modulo 2^32); resynchronising after a gap on a
 * plausible header (RFC 1035 §4.1, RFC 6895 §2 opcodes, RFC 5936 §2.2.1
 * zone-transfer messages without a question, RFC 8490 §5.4 DSO).
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

/* Forgets the message in progress: after a gap the stream is searched for
 * the next plausible message (dns_tcp_plausible), so the tail of the lost
 * one is never framed as messages of its own. */
static void tcp_drop_partial(struct dns_tcp *t)
{
	t->need = 0;
	t->have = 0;
	t->prefix_have = 0;
	t->skipping = 0;
	t->skip_left = 0;
	t->hunting = 1;
	t->carry_len = 0;
}

/* The first name of a message at r: labels only (a compression pointer
 * has no earlier name to point at), each 1..63 bytes, 255 bytes in all
 * (RFC 1035 §2.3.4). 1, 0 (cannot be a name), or -1 when the window ends
 * first (r->err is then set). */
static int first_name_ok(struct rd *r)
{
	size_t total = 0;

	for (;;) {
		uint8_t l = rd_u8(r);
		if (r->err)
			return -1;
		total += 1u + l;
		if (total > 255)
			return 0;
		if (l == 0)
			return 1;
		if (l > 63)
			return 0;   /* a pointer or an extended label type */
		rd_skip(r, l);
	}
}

/* A class a real message carries: IN, CH, HS, NONE, ANY (RFC 1035 §3.2.4,
 * RFC 2136 §1.3). */
static int class_ok(uint16_t c)
{
	return c == 1 || c == 3 || c == 4 || c == 254 || c == 255;
}

int dns_tcp_plausible(const uint8_t *p, size_t n)
{
	struct rd r;

	rd_init(&r, p, n);
	uint16_t mlen = rd_u16(&r);
	rd_skip(&r, 2);              /* ID: any value */
	uint8_t f1 = rd_u8(&r);
	uint8_t f2 = rd_u8(&r);
	uint16_t qd = rd_u16(&r);
	uint16_t an = rd_u16(&r);
	uint16_t ns = rd_u16(&r);
	uint16_t ar = rd_u16(&r);
	if (r.err)
		return -1;
	if (mlen < 12)
		return 0;
	unsigned op = (f1 >> 3) & 0xf;
	if (f2 & 0x40)
		return 0;            /* Z must be zero (RFC 1035 §4.1.1) */
	if (op == 6)                 /* DSO: every count zero, TLVs follow */
		return qd == 0 && an == 0 && ns == 0 && ar == 0 && mlen >= 16;
	if (op != 0 && op != 2 && op != 4 && op != 5)
		return 0;
	/* The smallest question is 5 bytes (root name, type, class), the
	 * smallest RR 11: counts that cannot fit the length are not real. */
	if (qd > 1 || (size_t)qd * 5 + ((size_t)an + ns + ar) * 11 > (size_t)mlen - 12)
		return 0;
	if (qd == 0 && (!(f1 & 0x80) || an == 0))
		return 0;            /* only a zone transfer's later answers lack a question */
	/* The first name and its type and class, within the message: past
	 * the message's end is a no, past the bytes given a don't know. */
	int cut = n - 2 < mlen;
	rd_init(&r, p + 2 + 12, (cut ? n - 2 : mlen) - 12);
	int ok = first_name_ok(&r);
	if (ok <= 0)
		return ok < 0 && cut ? -1 : 0;
	uint16_t type = rd_u16(&r);
	uint16_t cls = rd_u16(&r);
	if (r.err)
		return cut ? -1 : 0;
	return type != 0 && class_ok(cls);
}

/* While hunting: the offset in the n bytes at p where a plausible message
 * starts, or n when none does; *undecided is set to the first offset from
 * which the rest is too short to judge (n when there is none). */
static size_t hunt(const uint8_t *p, size_t n, size_t *undecided)
{
	*undecided = n;
	for (size_t i = 0; i < n; i++) {
		int v = dns_tcp_plausible(p + i, n - i);
		if (v > 0)
			return i;
		if (v < 0 && *undecided == n)
			*undecided = i;
	}
	return n;
}

/* The bytes of one segment, in order, already trimmed of what was seen.
 * The reader walks the segment; a message is handed on straight from the
 * segment when it is whole in it, else copied into buf. */
static int tcp_consume(struct dns_tcp *t, struct rd *r, uint8_t *buf,
		       size_t cap, dns_tcp_cb cb, void *arg)
{
	int ev = 0;

	while (rd_left(r) > 0) {
		if (t->hunting) {
			/* Look for the next plausible message in this segment.
			 * None: the rest is skipped, but for a short tail that
			 * cannot be judged yet (a lone length prefix, a cut
			 * header), kept to be judged with the next segment. */
			size_t left = rd_left(r), und;
			size_t i = hunt(r->buf + r->off, left, &und);
			if (i < left) {
				if (i > 0)
					ev |= DNS_TCP_SKIPPED;
				rd_skip(r, i);
				t->hunting = 0;
				continue;
			}
			size_t keep = left - und;
			if (keep > DNS_TCP_CARRY)
				keep = DNS_TCP_CARRY;
			if (left > keep)
				ev |= DNS_TCP_SKIPPED;
			rd_skip(r, left - keep);
			rd_copy(r, t->carry, keep);
			t->carry_len = (uint8_t)keep;
			continue;
		}
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

/* Hunting with a kept tail: judges it with the start of the contiguous
 * segment at r. When a plausible message starts inside the tail, framing
 * resumes there (the tail's bytes are framed first, then r's); otherwise
 * the tail is skipped and the search goes on in r. */
static int tcp_resume_carry(struct dns_tcp *t, const struct rd *r, uint8_t *buf,
			    size_t cap, dns_tcp_cb cb, void *arg)
{
	/* A prefix, a header and the longest question (RFC 1035 §2.3.4). */
	uint8_t tmp[DNS_TCP_CARRY + 12 + 255 + 4];
	size_t k = t->carry_len, m = rd_left(r);

	if (m > sizeof(tmp) - k)
		m = sizeof(tmp) - k;
	memcpy(tmp, t->carry, k);
	memcpy(tmp + k, r->buf + r->off, m);
	t->carry_len = 0;
	for (size_t j = 0; j < k; j++) {
		if (dns_tcp_plausible(tmp + j, k + m - j) > 0) {
			struct rd c;
			t->hunting = 0;
			rd_init(&c, tmp + j, k - j);
			return (j > 0 ? DNS_TCP_SKIPPED : 0) | tcp_consume(t, &c, buf, cap, cb, arg);
		}
	}
	return DNS_TCP_SKIPPED;
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
	if (t->hunting && t->carry_len > 0)
		ev |= tcp_resume_carry(t, &r, buf, cap, cb, arg);
	ev |= tcp_consume(t, &r, buf, cap, cb, arg);
	return ev;
}
