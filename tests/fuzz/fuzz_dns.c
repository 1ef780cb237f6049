/* fuzz_dns.c — libFuzzer target: one input is one DNS message (RFC 1035).
 *
 * Parses it, then for every RR renders its owner and RDATA, and checks the
 * parser's invariants (offsets inside the message, lengths below the output
 * size, C strings). The same bytes then go to dns_tcp_feed() in chunks cut
 * by the input itself, and the messages framed must be the same as when
 * the bytes come in one piece (RFC 7766 §8 framing is split-invariant).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Running digest of the messages framed: count, bytes, FNV-1a of content. */
struct framed {
	unsigned n;
	size_t bytes;
	uint64_t h;
};

static void fuzz_on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct framed *f = arg;
	assert(len > 0 && len <= 65535);
	f->n++;
	f->bytes += len;
	for (size_t i = 0; i < len; i++)
		f->h = (f->h ^ msg[i]) * 0x100000001b3ull;
	f->h = (f->h ^ len) * 0x100000001b3ull;
}

static void fuzz_text_ok(int rc, const char *out, size_t outsz)
{
	assert(rc < (int)outsz);
	assert(strlen(out) < outsz);
	if (rc >= 0)
		assert(strlen(out) == (size_t)rc);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	static struct dns_msg m;
	static char out[4096];
	static char name[DNS_NAME_TEXT];

	int rc = dns_parse(data, size, &m);
	if (rc < 0) {
		assert(size < 12 && m.anomaly == DNS_A_HDR_TRUNC);
		return;
	}
	assert(m.len <= size);
	assert(m.nrr <= DNS_MAX_RR && m.nopts <= DNS_MAX_OPTS);
	assert(m.anomaly < DNS_A_MAX);
	if (m.has_q) {
		assert(strlen(m.qname) == m.qname_len && m.qname_len < DNS_NAME_TEXT);
		assert(m.qname_off < m.len);
	}
	for (unsigned i = 0; i < m.nopts; i++)
		assert((size_t)m.opts[i].off + m.opts[i].len <= m.len);
	/* The output size varies with the input so the SW_EFULL paths run. */
	size_t outsz = 1 + (size > 12 ? data[12] * 8u : sizeof(out) - 1);
	if (outsz > sizeof(out))
		outsz = sizeof(out);
	for (unsigned i = 0; i < m.nrr; i++) {
		const struct dns_rr *rr = &m.rr[i];
		assert(rr->section >= DNS_SEC_AN && rr->section <= DNS_SEC_AR);
		assert(rr->name_off < rr->rdata_off);
		assert((size_t)rr->rdata_off + rr->rdlen <= m.len);
		size_t next = 0;
		int n = dns_name_at(m.buf, m.len, rr->name_off, name, sizeof(name), 1, &next);
		assert(n > 0);   /* the parser checked it */
		assert(next <= rr->rdata_off);
		fuzz_text_ok(n, name, sizeof(name));
		n = dns_rdata_text(&m, rr, out, outsz);
		assert(n >= 0 || n == SW_EFULL);
		fuzz_text_ok(n, out, outsz);
	}
	/* A name at an arbitrary offset, both cases, with a small buffer. */
	if (size > 2) {
		size_t off = ((size_t)data[0] << 8 | data[1]) % size;
		size_t next = 0;
		int n = dns_name_at(data, size, off, name, 1 + data[2] % sizeof(name), data[2] & 1, &next);
		fuzz_text_ok(n, name, 1 + data[2] % sizeof(name));
		if (n >= 0)
			assert(next > off && next <= size);
		/* Skipping agrees with decoding, except that a full buffer can
		 * stop the decoding before a later error. */
		int s = dns_name_skip(data, size, off, NULL);
		if (n >= 0)
			assert(s == 0);
		else if (n != SW_EFULL)
			assert(s == n);
	}
	(void)dns_answer_min_ttl(&m);
	int64_t neg = dns_negative_ttl(&m);
	assert(neg >= -1 && neg <= INT32_MAX);
	(void)dns_type_name(m.qtype);
	(void)dns_rcode_name(m.rcode);
	(void)dns_opcode_name(m.opcode);
	(void)dns_anomaly_name(m.anomaly);
}

static void fuzz_tcp(const uint8_t *data, size_t size)
{
	static uint8_t buf[65535];
	struct dns_tcp t;
	struct framed whole = { 0, 0, 0xcbf29ce484222325ull };
	struct framed cut = { 0, 0, 0xcbf29ce484222325ull };
	uint32_t isn = size > 4 ? (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
				  (uint32_t)data[3] << 8 | data[4] : 0xfffffff0u;

	dns_tcp_init(&t, isn, 1);
	int ev = dns_tcp_feed(&t, isn, data, size, buf, sizeof(buf), fuzz_on_msg, &whole);
	assert(ev == DNS_TCP_OK);
	assert(t.next_seq == isn + (uint32_t)size);

	/* Chunks of 1..16 bytes, lengths taken from the data itself. */
	dns_tcp_init(&t, isn, 1);
	size_t off = 0;
	for (size_t k = 0; off < size; k++) {
		size_t chunk = 1 + data[k % size] % 16;
		if (chunk > size - off)
			chunk = size - off;
		ev = dns_tcp_feed(&t, isn + (uint32_t)off, data + off, chunk, buf,
				  sizeof(buf), fuzz_on_msg, &cut);
		assert(ev == DNS_TCP_OK);
		off += chunk;
		assert(t.prefix_have <= 2 && t.have <= t.need);
	}
	assert(whole.n == cut.n && whole.bytes == cut.bytes && whole.h == cut.h);
	assert(whole.bytes <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_tcp(data, size);
	return 0;
}
