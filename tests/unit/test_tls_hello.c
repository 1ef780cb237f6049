/* test_tls_hello.c — ClientHello parser (RFC 8446 §5.1, §4.1.2, §4.2),
 * the per-flow stream, and JA3/JA4, over hand-built bytes: SNI, ALPN,
 * GREASE, extension lengths that lie, truncated records, a hello split
 * over two TCP segments or fragmented over two records, bad record
 * versions, and fingerprints with independently computed values.
 *
 * Expected JA3/JA4 values were computed once with Python's hashlib from the
 * field lists written next to them (not with this code); the JA4 spec's own
 * worked example (FoxIO JA4.md) is checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "tls/tls.h"

/* --- A small ClientHello builder ---------------------------------------- */

struct ext {
	uint16_t type;
	size_t len;
	uint8_t body[600];
};

struct spec {
	uint16_t version;
	uint16_t ciphers[256];
	size_t nc;
	int cipher_len_delta;  /* added to the cipher_suites length field */
	uint8_t sid_len;
	uint8_t ncomp;
	struct ext exts[24];
	size_t ne;
	int no_exts;           /* omit the extensions block (TLS 1.2 allows it) */
	int exts_len_delta;    /* added to the extensions length field */
	size_t trailing;       /* zero bytes after the extensions block */
};

struct wb {
	uint8_t *p;
	size_t n;
};

static void w8(struct wb *w, unsigned v) { w->p[w->n++] = (uint8_t)v; }
static void w16(struct wb *w, unsigned v) { w8(w, v >> 8); w8(w, v & 0xff); }
static void wmem(struct wb *w, const void *d, size_t n)
{
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static void add_ext(struct spec *s, uint16_t type, const void *body, size_t len)
{
	struct ext *e = &s->exts[s->ne++];
	e->type = type;
	e->len = len;
	if (len)
		memcpy(e->body, body, len);
}

static void add_sni(struct spec *s, const char *name)
{
	uint8_t b[300];
	struct wb w = { b, 0 };
	size_t n = strlen(name);
	w16(&w, (unsigned)(n + 3));
	w8(&w, 0);
	w16(&w, (unsigned)n);
	wmem(&w, name, n);
	add_ext(s, TLS_EXT_SERVER_NAME, b, w.n);
}

/* names: NUL-separated, ending with an empty string; lens given. */
static void add_alpn(struct spec *s, const char *const *names, size_t k)
{
	uint8_t b[300];
	struct wb w = { b, 0 };
	size_t total = 0;
	for (size_t i = 0; i < k; i++)
		total += 1 + strlen(names[i]);
	w16(&w, (unsigned)total);
	for (size_t i = 0; i < k; i++) {
		w8(&w, (unsigned)strlen(names[i]));
		wmem(&w, names[i], strlen(names[i]));
	}
	add_ext(s, TLS_EXT_ALPN, b, w.n);
}

static void add_u16s(struct spec *s, uint16_t type, int lenbytes,
		     const uint16_t *v, size_t k)
{
	uint8_t b[600];
	struct wb w = { b, 0 };
	if (lenbytes == 1)
		w8(&w, (unsigned)(2 * k));
	else
		w16(&w, (unsigned)(2 * k));
	for (size_t i = 0; i < k; i++)
		w16(&w, v[i]);
	add_ext(s, type, b, w.n);
}

static size_t build_msg(const struct spec *s, uint8_t *out)
{
	struct wb w = { out, 0 };
	w8(&w, 1);               /* client_hello */
	w8(&w, 0);
	w16(&w, 0);              /* length, patched below */
	w16(&w, s->version);
	for (int i = 0; i < 32; i++)
		w8(&w, (unsigned)i);
	w8(&w, s->sid_len);
	for (int i = 0; i < s->sid_len; i++)
		w8(&w, 0x55);
	w16(&w, (unsigned)((int)(2 * s->nc) + s->cipher_len_delta));
	for (size_t i = 0; i < s->nc; i++)
		w16(&w, s->ciphers[i]);
	w8(&w, s->ncomp);
	for (int i = 0; i < s->ncomp; i++)
		w8(&w, 0);
	if (!s->no_exts) {
		size_t at = w.n;
		w16(&w, 0);
		for (size_t i = 0; i < s->ne; i++) {
			w16(&w, s->exts[i].type);
			w16(&w, (unsigned)s->exts[i].len);
			wmem(&w, s->exts[i].body, s->exts[i].len);
		}
		size_t l = (size_t)((int)(w.n - at - 2) + s->exts_len_delta);
		out[at] = (uint8_t)(l >> 8);
		out[at + 1] = (uint8_t)l;
		for (size_t i = 0; i < s->trailing; i++)
			w8(&w, 0);
	}
	size_t bl = w.n - 4;
	out[1] = (uint8_t)(bl >> 16);
	out[2] = (uint8_t)(bl >> 8);
	out[3] = (uint8_t)bl;
	return w.n;
}

/* Wraps a handshake message in records of at most `frag` payload bytes. */
static size_t wrap(const uint8_t *msg, size_t n, uint8_t *out, uint16_t rv, size_t frag)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += frag) {
		size_t k = n - i < frag ? n - i : frag;
		out[o++] = 22;
		out[o++] = (uint8_t)(rv >> 8);
		out[o++] = (uint8_t)rv;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)k;
		memcpy(out + o, msg + i, k);
		o += k;
	}
	return o;
}

/* The base hello: GREASE in ciphers, extensions, groups, versions.
 * Python over the same lists gives:
 *   JA3 string 771,4865-4866-4867-49195-49199-47,0-23-10-11-13-16-43-35-65037,29-23,0
 *   JA3 md5    f11c1370fc15f5d0fee6636441b1575e
 *   JA4        t13d0609h2_d838daa30d23_aae7e5979d18 */
static void base(struct spec *s)
{
	static const uint16_t cs[] = { 0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x002f };
	static const uint16_t groups[] = { 0x2a2a, 0x001d, 0x0017 };
	static const uint16_t sig[] = { 0x0403, 0x0804, 0x0401 };
	static const uint16_t vers[] = { 0x3a3a, 0x0304, 0x0303 };
	static const char *const alpn[] = { "h2", "http/1.1" };
	static const uint8_t pf[] = { 1, 0 };
	static const uint8_t ech[] = { 0, 1, 2, 3 };

	memset(s, 0, sizeof(*s));
	s->version = 0x0303;
	memcpy(s->ciphers, cs, sizeof(cs));
	s->nc = sizeof(cs) / 2;
	s->sid_len = 32;
	s->ncomp = 1;
	add_ext(s, 0x1a1a, NULL, 0);
	add_sni(s, "IoT.Example.com");
	add_ext(s, 0x0017, NULL, 0);
	add_u16s(s, TLS_EXT_SUPPORTED_GROUPS, 2, groups, 3);
	add_ext(s, TLS_EXT_EC_POINT_FORMATS, pf, 2);
	add_u16s(s, TLS_EXT_SIG_ALGS, 2, sig, 3);
	add_alpn(s, alpn, 2);
	add_u16s(s, TLS_EXT_SUPPORTED_VERSIONS, 1, vers, 3);
	add_ext(s, TLS_EXT_SESSION_TICKET, NULL, 0);
	add_ext(s, TLS_EXT_ECH, ech, sizeof(ech));
}

/* Parses records through an exact-size heap copy (over-reads trip ASan). */
static int parse_records(const uint8_t *buf, size_t n, struct tls_hello *h)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, buf, n);
	int rc = tls_parse_records(c, n, h);
	free(c);
	return rc;
}

static uint8_t msgbuf[70000], recbuf[80000];
static struct tls_hello H;

static size_t build_records(const struct spec *s, uint16_t rv, size_t frag)
{
	size_t n = build_msg(s, msgbuf);
	return wrap(msgbuf, n, recbuf, rv, frag);
}

/* --- Facts ---------------------------------------------------------------- */

static void test_base_facts(void **state)
{
	struct spec s;
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	assert_int_equal(H.record_version, 0x0301);
	assert_int_equal(H.legacy_version, 0x0303);
	assert_int_equal(H.max_version, 0x0304);
	assert_string_equal(H.sni, "IoT.Example.com");
	assert_int_equal(H.sni_len, 15);
	assert_string_equal(H.alpn, "h2,http/1.1");
	assert_int_equal(H.n_alpn, 2);
	assert_int_equal(H.n_ciphers, 7);
	assert_int_equal(H.ciphers[0], 0x0a0a);
	assert_true(tls_is_grease(H.ciphers[0]));
	assert_false(tls_is_grease(H.ciphers[1]));
	assert_int_equal(H.n_exts, 10);
	assert_int_equal(H.exts[0], 0x1a1a);
	assert_int_equal(H.exts[9], TLS_EXT_ECH);
	assert_int_equal(H.n_groups, 3);
	assert_int_equal(H.n_sigalgs, 3);
	assert_int_equal(H.sigalgs[1], 0x0804);
	assert_int_equal(H.n_pfmts, 1);
	assert_int_equal(H.session_id_len, 32);
	assert_true(H.flags & TLS_F_SNI);
	assert_true(H.flags & TLS_F_ALPN);
	assert_true(H.flags & TLS_F_ECH);
	assert_true(H.flags & TLS_F_TICKET);
	assert_false(H.flags & TLS_F_TICKET_DATA);
	assert_true(H.flags & TLS_F_VERSIONS);
	assert_false(H.flags & TLS_F_CAPPED);
	assert_int_equal(H.hello_len, build_msg(&s, msgbuf));
}

static void test_grease_values(void **state)
{
	for (unsigned i = 0; i < 16; i++) {
		uint16_t g = (uint16_t)((i << 12) | 0x0a00 | (i << 4) | 0x0a);
		assert_true(tls_is_grease(g));
	}
	assert_false(tls_is_grease(0x0a1a));
	assert_false(tls_is_grease(0x1301));
	assert_false(tls_is_grease(0x0000));
	assert_false(tls_is_grease(0xfafb));
}

static void test_raw_hello(void **state)
{
	struct spec s;
	base(&s);
	size_t n = build_msg(&s, msgbuf);
	uint8_t *c = malloc(n);
	memcpy(c, msgbuf, n);
	assert_int_equal(tls_parse_hello(c, n, &H), 0);
	assert_int_equal(H.record_version, 0);
	assert_string_equal(H.sni, "IoT.Example.com");
	for (size_t k = 0; k < n; k++)
		assert_int_equal(tls_parse_hello(c, k, &H), SW_EINCOMPLETE);
	c[0] = 2;
	assert_int_equal(tls_parse_hello(c, n, &H), SW_EMALFORMED);
	assert_int_equal(H.reason, TLS_R_NOT_HELLO);
	free(c);
}

static void test_no_extensions(void **state)
{
	struct spec s;
	base(&s);
	s.no_exts = 1;
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	assert_int_equal(H.n_exts, 0);
	assert_int_equal(H.max_version, 0x0303);
	char ja4[TLS_JA4_TEXT];
	assert_int_equal(tls_ja4(&H, 0, ja4), 36);
	/* Python: sha256("002f,1301,1302,1303,c02b,c02f")[:12] = d838daa30d23 */
	assert_string_equal(ja4, "t12i060000_d838daa30d23_000000000000");
}

/* --- Invalid input, each with its named reason --------------------------- */

struct bad_case {
	const char *name;
	void (*mutate)(struct spec *s);
	int rc;
	int reason;
};

static void m_ext_past_block(struct spec *s) { s->exts_len_delta = -3; }
static void m_exts_past_hello(struct spec *s) { s->exts_len_delta = 5; }
static void m_trailing(struct spec *s) { s->trailing = 3; }
static void m_sid33(struct spec *s) { s->sid_len = 33; }
static void m_cipher_odd(struct spec *s) { s->cipher_len_delta = -1; }
static void m_cipher_zero(struct spec *s) { s->nc = 0; }
static void m_cipher_past(struct spec *s) { s->cipher_len_delta = 400; }
static void m_comp_zero(struct spec *s) { s->ncomp = 0; }
static void m_dup(struct spec *s) { add_ext(s, 0x0017, NULL, 0); }
static void m_grease_twice(struct spec *s) { add_ext(s, 0x1a1a, NULL, 0); }

static void m_sni_list_lies(struct spec *s)
{
	static const uint8_t b[] = { 0x00, 0x20, 0x00, 0x00, 0x03, 'a', 'b', 'c' };
	s->exts[1].len = sizeof(b);
	memcpy(s->exts[1].body, b, sizeof(b));
}

static void m_sni_name_lies(struct spec *s)
{
	static const uint8_t b[] = { 0x00, 0x06, 0x00, 0x00, 0x09, 'a', 'b', 'c' };
	s->exts[1].len = sizeof(b);
	memcpy(s->exts[1].body, b, sizeof(b));
}

static void m_alpn_name_lies(struct spec *s)
{
	static const uint8_t b[] = { 0x00, 0x03, 0x05, 'h', '2' };
	s->exts[6].len = sizeof(b);
	memcpy(s->exts[6].body, b, sizeof(b));
}

static void m_groups_odd(struct spec *s)
{
	static const uint8_t b[] = { 0x00, 0x03, 0x00, 0x1d, 0x00 };
	s->exts[3].len = sizeof(b);
	memcpy(s->exts[3].body, b, sizeof(b));
}

static void m_sigalgs_short(struct spec *s)
{
	static const uint8_t b[] = { 0x00, 0x08, 0x04, 0x03 };
	s->exts[5].len = sizeof(b);
	memcpy(s->exts[5].body, b, sizeof(b));
}

static void m_versions_odd(struct spec *s)
{
	static const uint8_t b[] = { 0x03, 0x03, 0x04, 0x03 };
	s->exts[7].len = sizeof(b);
	memcpy(s->exts[7].body, b, sizeof(b));
}

static void m_pf_empty(struct spec *s)
{
	static const uint8_t b[] = { 0x00 };
	s->exts[4].len = sizeof(b);
	memcpy(s->exts[4].body, b, sizeof(b));
}

static const struct bad_case bad_cases[] = {
	{ "extension block shorter than its last extension", m_ext_past_block, SW_EMALFORMED, TLS_R_EXT_LEN },
	{ "extensions length past the hello", m_exts_past_hello, SW_EMALFORMED, TLS_R_EXTS_LEN },
	{ "bytes after the extensions", m_trailing, SW_EMALFORMED, TLS_R_TRAILING },
	{ "session id 33", m_sid33, SW_EMALFORMED, TLS_R_SESSION_ID },
	{ "cipher_suites odd length", m_cipher_odd, SW_EMALFORMED, TLS_R_CIPHERS },
	{ "cipher_suites empty", m_cipher_zero, SW_EMALFORMED, TLS_R_CIPHERS },
	{ "cipher_suites past the hello", m_cipher_past, SW_EMALFORMED, TLS_R_HELLO_TRUNC },
	{ "compression methods empty", m_comp_zero, SW_EMALFORMED, TLS_R_COMPRESSION },
	{ "duplicate extension", m_dup, SW_EMALFORMED, TLS_R_EXT_DUP },
	{ "server_name list length lies", m_sni_list_lies, SW_EMALFORMED, TLS_R_SNI },
	{ "server_name host_name length lies", m_sni_name_lies, SW_EMALFORMED, TLS_R_SNI },
	{ "ALPN name past the list", m_alpn_name_lies, SW_EMALFORMED, TLS_R_ALPN },
	{ "supported_groups odd length", m_groups_odd, SW_EMALFORMED, TLS_R_LIST },
	{ "signature_algorithms list past extension", m_sigalgs_short, SW_EMALFORMED, TLS_R_LIST },
	{ "supported_versions odd length", m_versions_odd, SW_EMALFORMED, TLS_R_VERSIONS },
	{ "ec_point_formats empty list", m_pf_empty, SW_EMALFORMED, TLS_R_LIST },
};

static void test_bad_cases(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct spec s;
		base(&s);
		c->mutate(&s);
		size_t n = build_records(&s, 0x0301, 16384);
		int rc = parse_records(recbuf, n, &H);
		if (rc != c->rc || H.reason != c->reason)
			fail_msg("case '%s': rc %d reason %s, want %d %s", c->name, rc,
				 tls_reason_name(H.reason), c->rc, tls_reason_name(c->reason));
	}
}

static void test_grease_ext_twice_ok(void **state)
{
	struct spec s;
	base(&s);
	m_grease_twice(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
}

/* An extension header whose length runs past the block (the block's last
 * four bytes are "ff01 00c8": renegotiation_info of 200 bytes). */
static void test_last_ext_len_past_block(void **state)
{
	struct spec s;
	base(&s);
	static const uint8_t tail[] = { 0xff, 0x01, 0x00, 0xc8 };
	size_t n = build_msg(&s, msgbuf);
	/* Append the lying header inside the extensions block and the hello. */
	memcpy(msgbuf + n, tail, sizeof(tail));
	size_t exts_at = 4 + 2 + 32 + 1 + 32 + 2 + 2 * s.nc + 1 + 1;
	size_t el = (size_t)(msgbuf[exts_at] << 8 | msgbuf[exts_at + 1]) + 4;
	msgbuf[exts_at] = (uint8_t)(el >> 8);
	msgbuf[exts_at + 1] = (uint8_t)el;
	size_t bl = n + 4 - 4;
	msgbuf[1] = (uint8_t)(bl >> 16);
	msgbuf[2] = (uint8_t)(bl >> 8);
	msgbuf[3] = (uint8_t)bl;
	size_t rn = wrap(msgbuf, n + 4, recbuf, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, rn, &H), SW_EMALFORMED);
	assert_int_equal(H.reason, TLS_R_EXT_LEN);
}

struct rec_case {
	const char *name;
	uint8_t byte0, byte1;  /* record type, version major */
	uint16_t reclen;       /* 0: keep */
	uint8_t hstype;        /* 0: keep */
	int rc;
	int reason;
};

static const struct rec_case rec_cases[] = {
	{ "application_data record", 23, 3, 0, 0, SW_EMALFORMED, TLS_R_NOT_HANDSHAKE },
	{ "record version 2.0", 22, 2, 0, 0, SW_EMALFORMED, TLS_R_RECORD_VERSION },
	{ "record version 0x7f", 22, 0x7f, 0, 0, SW_EMALFORMED, TLS_R_RECORD_VERSION },
	{ "record length 0", 22, 3, 0xffff, 0, SW_EMALFORMED, TLS_R_RECORD_LEN },
	{ "record length 2^14+1", 22, 3, 16385, 0, SW_EMALFORMED, TLS_R_RECORD_LEN },
	{ "ServerHello", 22, 3, 0, 2, SW_EMALFORMED, TLS_R_NOT_HELLO },
};

static void test_record_cases(void **state)
{
	for (size_t i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
		const struct rec_case *c = &rec_cases[i];
		struct spec s;
		base(&s);
		size_t n = build_records(&s, 0x0301, 16384);
		recbuf[0] = c->byte0;
		recbuf[1] = c->byte1;
		if (c->reclen) {
			uint16_t l = c->reclen == 0xffff ? 0 : c->reclen;
			recbuf[3] = (uint8_t)(l >> 8);
			recbuf[4] = (uint8_t)l;
		}
		if (c->hstype)
			recbuf[5] = c->hstype;
		int rc = parse_records(recbuf, n, &H);
		if (rc != c->rc || H.reason != c->reason)
			fail_msg("case '%s': rc %d reason %s", c->name, rc, tls_reason_name(H.reason));
		/* The same verdict from the first bytes alone, where they suffice. */
		if (c->byte0 != 22 || c->byte1 != 3) {
			assert_int_equal(parse_records(recbuf, 2, &H), SW_EMALFORMED);
			assert_int_equal(H.reason, c->reason);
		}
	}
}

static void test_too_big(void **state)
{
	struct spec s;
	base(&s);
	/* 200 ciphers + a 3000-byte padding extension: > 4 KiB. */
	for (size_t i = 0; i < 200; i++)
		s.ciphers[s.nc++] = (uint16_t)(0x0100 + i);
	static uint8_t pad[600];
	for (int i = 0; i < 6; i++)
		add_ext(&s, (uint16_t)(0x0015 + 0x100 * i), pad, sizeof(pad));
	size_t n = build_records(&s, 0x0301, 16384);
	assert_true(n > TLS_BUF_MAX);
	assert_int_equal(parse_records(recbuf, n, &H), SW_ETOOLONG);
	assert_int_equal(H.reason, TLS_R_TOO_BIG);
	/* Known from its header, before the rest arrives. */
	assert_int_equal(parse_records(recbuf, 9, &H), SW_ETOOLONG);
}

/* Every prefix of a valid stream is incomplete, never invalid. */
static void test_truncated_prefixes(void **state)
{
	struct spec s;
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	for (size_t k = 0; k < n; k++) {
		int rc = parse_records(recbuf, k, &H);
		if (rc != SW_EINCOMPLETE)
			fail_msg("prefix %zu of %zu: rc %d (%s)", k, n, rc, tls_reason_name(H.reason));
	}
	assert_int_equal(parse_records(recbuf, n, &H), 0);
}

/* A hello fragmented over records of 1, 7 and 100 bytes (RFC 8446 §5.1). */
static void test_fragmented_records(void **state)
{
	static const size_t frags[] = { 1, 7, 100 };
	struct spec s;
	base(&s);
	for (size_t f = 0; f < 3; f++) {
		size_t n = build_records(&s, 0x0303, frags[f]);
		if (n > TLS_BUF_MAX)
			continue;
		assert_int_equal(parse_records(recbuf, n, &H), 0);
		assert_string_equal(H.sni, "IoT.Example.com");
		assert_string_equal(H.alpn, "h2,http/1.1");
		for (size_t k = 0; k < n; k += 13)
			assert_int_equal(parse_records(recbuf, k, &H), SW_EINCOMPLETE);
	}
}

/* The hello split over two TCP segments at every byte. */
static void test_split_segments(void **state)
{
	static struct tls_stream st;
	struct spec s;
	char ja3[TLS_JA3_HEX];
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	for (size_t cut = 0; cut <= n; cut++) {
		tls_stream_init(&st);
		uint8_t *a = malloc(cut ? cut : 1), *b = malloc(n - cut ? n - cut : 1);
		memcpy(a, recbuf, cut);
		memcpy(b, recbuf + cut, n - cut);
		int rc1 = tls_stream_feed(&st, a, cut, &H);
		if (cut == n) {
			assert_int_equal(rc1, 0);
		} else {
			assert_int_equal(rc1, SW_EINCOMPLETE);
			assert_int_equal(tls_stream_feed(&st, b, n - cut, &H), 0);
		}
		free(a);
		free(b);
		assert_string_equal(H.sni, "IoT.Example.com");
		tls_ja3_hash(&H, ja3);
		assert_string_equal(ja3, "f11c1370fc15f5d0fee6636441b1575e");
		/* Finished: later bytes are not parsed. */
		assert_int_equal(tls_stream_feed(&st, recbuf, 5, &H), SW_EINVAL);
	}
}

static void test_stream_invalid_sticks(void **state)
{
	static struct tls_stream st;
	static const uint8_t junk[] = { 'G', 'E', 'T', ' ', '/' };
	tls_stream_init(&st);
	assert_int_equal(tls_stream_feed(&st, junk, sizeof(junk), &H), SW_EMALFORMED);
	assert_int_equal(H.reason, TLS_R_NOT_HANDSHAKE);
	struct spec s;
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(tls_stream_feed(&st, recbuf, n, &H), SW_EMALFORMED);
}

static void test_stream_overflow(void **state)
{
	static struct tls_stream st;
	struct spec s;
	base(&s);
	static uint8_t pad[700];
	add_ext(&s, 0x0015, pad, sizeof(pad));
	/* Records of 1 byte: 6 bytes per hello byte, past 4 KiB of stream. */
	size_t n = build_records(&s, 0x0301, 1);
	assert_true(n > TLS_BUF_MAX);
	tls_stream_init(&st);
	int rc = SW_EINCOMPLETE;
	size_t off = 0;
	while (off < n && rc == SW_EINCOMPLETE) {
		size_t k = n - off < 1000 ? n - off : 1000;
		rc = tls_stream_feed(&st, recbuf + off, k, &H);
		off += k;
	}
	assert_int_equal(rc, SW_ETOOLONG);
	assert_int_equal(H.reason, TLS_R_TOO_BIG);
}

static void test_sni_odd_bytes(void **state)
{
	struct spec s;
	base(&s);
	s.ne = 0;
	add_sni(&s, "a\x01" "b");
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	assert_string_equal(H.sni, "a?b");
	assert_true(H.flags & TLS_F_SNI_ODD);
}

static void test_capped_lists(void **state)
{
	struct spec s;
	base(&s);
	s.nc = 0;
	for (size_t i = 0; i < 150; i++)
		s.ciphers[s.nc++] = (uint16_t)(0x0100 + i);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	assert_int_equal(H.n_ciphers, 150);
	assert_true(H.flags & TLS_F_CAPPED);
	char ja4[TLS_JA4_TEXT];
	tls_ja4(&H, 0, ja4);
	assert_memory_equal(ja4, "t13d9909h2_", 11); /* > 99 prints 99 */
}

/* --- Fingerprints ----------------------------------------------------------- */

static void test_ja3_base(void **state)
{
	struct spec s;
	char text[TLS_JA3_TEXT], md5[TLS_JA3_HEX];
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	int l = tls_ja3_string(&H, text, sizeof(text));
	assert_string_equal(text, "771,4865-4866-4867-49195-49199-47,0-23-10-11-13-16-43-35-65037,29-23,0");
	assert_int_equal(l, (int)strlen(text));
	assert_int_equal(tls_ja3_hash(&H, md5), 32);
	assert_string_equal(md5, "f11c1370fc15f5d0fee6636441b1575e");
	/* A buffer too small is refused, NUL-terminated. */
	assert_int_equal(tls_ja3_string(&H, text, 10), SW_EFULL);
	assert_int_equal(strlen(text), 9);
}

static void test_ja4_base(void **state)
{
	struct spec s;
	char ja4[TLS_JA4_TEXT];
	base(&s);
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	assert_int_equal(tls_ja4(&H, 0, ja4), 36);
	assert_string_equal(ja4, "t13d0609h2_d838daa30d23_aae7e5979d18");
	tls_ja4(&H, 1, ja4);
	assert_string_equal(ja4, "q13d0609h2_d838daa30d23_aae7e5979d18");
}

/* The JA4 spec's worked example: 15 ciphers, 16 extensions, ALPN h2,
 * TLS 1.3: t13d1516h2_8daaf6152771_e5627efa2ab1. */
static void test_ja4_spec_example(void **state)
{
	static const uint16_t cs[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
				       0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	static const uint16_t sig[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };
	static const uint16_t vers[] = { 0x0304, 0x0303 };
	static const uint16_t groups[] = { 0x001d, 0x0017 };
	static const char *const alpn[] = { "h2", "http/1.1" };
	static const uint8_t pf[] = { 1, 0 };
	static const uint16_t order[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
					  0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015 };
	struct spec s;
	char ja4[TLS_JA4_TEXT];

	memset(&s, 0, sizeof(s));
	s.version = 0x0303;
	memcpy(s.ciphers, cs, sizeof(cs));
	s.nc = 15;
	s.ncomp = 1;
	for (size_t i = 0; i < 16; i++) {
		switch (order[i]) {
		case 0x0000: add_sni(&s, "example.com"); break;
		case 0x0010: add_alpn(&s, alpn, 2); break;
		case 0x000d: add_u16s(&s, 0x000d, 2, sig, 8); break;
		case 0x002b: add_u16s(&s, 0x002b, 1, vers, 2); break;
		case 0x000a: add_u16s(&s, 0x000a, 2, groups, 2); break;
		case 0x000b: add_ext(&s, 0x000b, pf, 2); break;
		default: add_ext(&s, order[i], NULL, 0); break;
		}
	}
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	tls_ja4(&H, 0, ja4);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

struct alpn_case {
	const char *name;
	const uint8_t *first;  /* first ALPN name bytes */
	size_t len;
	int absent;            /* no ALPN extension at all */
	const char *want;
};

static void test_ja4_alpn_rules(void **state)
{
	static const uint8_t h2[] = { 'h', '2' }, http11[] = { 'h', 't', 't', 'p', '/', '1', '.', '1' };
	static const uint8_t one[] = { 'a' }, ab[] = { 0xab }, abcd[] = { 0xab, 0xcd };
	static const uint8_t z_ab[] = { 0x30, 0xab }, z1abcd[] = { 0x30, 0x31, 0xab, 0xcd };
	static const uint8_t zabcd1[] = { 0x30, 0xab, 0xcd, 0x31 }, doq[] = { 'd', 'o', 'q', '-', 'i', '0', '0' };
	static const struct alpn_case cases[] = {
		{ "h2", h2, 2, 0, "h2" },
		{ "http/1.1", http11, 8, 0, "h1" },
		{ "single char", one, 1, 0, "aa" },
		{ "0xAB", ab, 1, 0, "ab" },
		{ "0xAB 0xCD", abcd, 2, 0, "ad" },
		{ "0x30 0xAB", z_ab, 2, 0, "3b" },
		{ "0x30 0x31 0xAB 0xCD", z1abcd, 4, 0, "3d" },
		{ "0x30 0xAB 0xCD 0x31", zabcd1, 4, 0, "01" },
		{ "doq-i00", doq, 7, 0, "d0" },
		{ "empty first name", NULL, 0, 0, "00" },
		{ "no ALPN", NULL, 0, 1, "00" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct alpn_case *c = &cases[i];
		struct spec s;
		char ja4[TLS_JA4_TEXT];
		uint8_t body[64];
		base(&s);
		if (c->absent) {
			s.exts[6].type = 0x0015; /* padding in ALPN's place */
			s.exts[6].len = 0;
		} else {
			body[0] = 0;
			body[1] = (uint8_t)(1 + c->len + 3);
			body[2] = (uint8_t)c->len;
			if (c->len)
				memcpy(body + 3, c->first, c->len);
			memcpy(body + 3 + c->len, "\x02h2", 3);
			s.exts[6].len = 2 + 1 + c->len + 3;
			memcpy(s.exts[6].body, body, s.exts[6].len);
		}
		size_t n = build_records(&s, 0x0301, 16384);
		assert_int_equal(parse_records(recbuf, n, &H), 0);
		tls_ja4(&H, 0, ja4);
		if (memcmp(ja4 + 8, c->want, 2) != 0)
			fail_msg("case '%s': %s, want ALPN chars %s", c->name, ja4, c->want);
	}
}

static void test_ja4_only_grease_ciphers(void **state)
{
	struct spec s;
	char ja4[TLS_JA4_TEXT];
	base(&s);
	s.nc = 2;
	s.ciphers[0] = 0x0a0a;
	s.ciphers[1] = 0xfafa;
	size_t n = build_records(&s, 0x0301, 16384);
	assert_int_equal(parse_records(recbuf, n, &H), 0);
	tls_ja4(&H, 0, ja4);
	assert_string_equal(ja4, "t13d0009h2_000000000000_aae7e5979d18");
}

/* The first-byte tests a flow starts by: a TLS handshake record (RFC
 * 8446 §5.1), a QUIC long header (RFC 9000 §17.2), one case per edge. */
static void test_flow_openers(void **state)
{
	(void)state;
	static const uint8_t hs[] = { 0x16, 0x03, 0x01 }, alert[] = { 0x15, 0x03, 0x03 },
			     v2[] = { 0x16, 0x02, 0x00 };
	assert_true(tls_opens_handshake(hs, sizeof(hs)));
	assert_false(tls_opens_handshake(hs, 2));             /* too short */
	assert_false(tls_opens_handshake(alert, sizeof(alert))); /* not a handshake */
	assert_false(tls_opens_handshake(v2, sizeof(v2)));    /* not version 3.x */
	static const uint8_t lh[7] = { 0xc3, 0, 0, 0, 1 }, sh[7] = { 0x43 };
	assert_true(tls_quic_long_header(lh, sizeof(lh)));
	assert_false(tls_quic_long_header(lh, 6));            /* no room for the version */
	assert_false(tls_quic_long_header(sh, sizeof(sh)));   /* short header */
}

int main(void)
{
	tls_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_facts),
		cmocka_unit_test(test_grease_values),
		cmocka_unit_test(test_raw_hello),
		cmocka_unit_test(test_no_extensions),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_grease_ext_twice_ok),
		cmocka_unit_test(test_last_ext_len_past_block),
		cmocka_unit_test(test_record_cases),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_fragmented_records),
		cmocka_unit_test(test_split_segments),
		cmocka_unit_test(test_stream_invalid_sticks),
		cmocka_unit_test(test_stream_overflow),
		cmocka_unit_test(test_sni_odd_bytes),
		cmocka_unit_test(test_capped_lists),
		cmocka_unit_test(test_ja3_base),
		cmocka_unit_test(test_ja4_base),
		cmocka_unit_test(test_ja4_spec_example),
		cmocka_unit_test(test_ja4_alpn_rules),
		cmocka_unit_test(test_ja4_only_grease_ciphers),
		cmocka_unit_test(test_flow_openers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
