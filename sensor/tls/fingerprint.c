/* fingerprint.c — JA3 and JA4 client fingerprints of a parsed ClientHello.
 * JA3: github.com/salesforce/ja3 (README, "How it works"). JA4: FoxIO JA4
 * TLS client spec (technical_details/JA4.md). GREASE per RFC 8701.
 * Hashes come from libgcrypt, which nDPI already links.
 */
#include "tls/tls.h"

#include <gcrypt.h>
#include <pthread.h>
#include <string.h>

#include "common/err.h"

/* A bounded text builder: the first overflow sticks, like struct rd. */
struct sb {
	char *p;
	size_t cap;  /* bytes in p, NUL included */
	size_t len;
	int err;
};

static void sb_init(struct sb *s, char *p, size_t cap)
{
	s->p = p;
	s->cap = cap;
	s->len = 0;
	s->err = cap == 0;
	if (cap)
		p[0] = '\0';
}

static void sb_putc(struct sb *s, char c)
{
	if (s->err)
		return;
	if (s->len + 1 >= s->cap) {
		s->err = SW_EFULL;
		return;
	}
	s->p[s->len++] = c;
	s->p[s->len] = '\0';
}

static void sb_dec(struct sb *s, unsigned v)
{
	char t[12];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		sb_putc(s, t[--n]);
}

static const char hexdig[] = "0123456789abcdef";

static void sb_hex4(struct sb *s, uint16_t v)
{
	sb_putc(s, hexdig[v >> 12]);
	sb_putc(s, hexdig[(v >> 8) & 0xf]);
	sb_putc(s, hexdig[(v >> 4) & 0xf]);
	sb_putc(s, hexdig[v & 0xf]);
}

static size_t kept(uint16_t n, size_t cap)
{
	return n < cap ? n : cap;
}

/* Decimal list without GREASE, '-' between entries (JA3). */
static void ja3_list(struct sb *s, const uint16_t *a, size_t n)
{
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (tls_is_grease(a[i]))
			continue;
		if (!first)
			sb_putc(s, '-');
		sb_dec(s, a[i]);
		first = 0;
	}
}

/* libgcrypt must be set up once, before any thread hashes; engines (one
 * per worker) open their QUIC and nDPI state from their own threads, so
 * the first of them does it under pthread_once. */
static pthread_once_t gcry_once = PTHREAD_ONCE_INIT;

static void gcry_setup(void)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return;
	gcry_check_version(NULL);
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

void tls_init(void)
{
	pthread_once(&gcry_once, gcry_setup);
}

int tls_ja3_string(const struct tls_hello *h, char *out, size_t outsz)
{
	struct sb s;

	sb_init(&s, out, outsz);
	sb_dec(&s, h->legacy_version);
	sb_putc(&s, ',');
	ja3_list(&s, h->ciphers, kept(h->n_ciphers, TLS_MAX_CIPHERS));
	sb_putc(&s, ',');
	ja3_list(&s, h->exts, kept(h->n_exts, TLS_MAX_EXTS));
	sb_putc(&s, ',');
	ja3_list(&s, h->groups, kept(h->n_groups, TLS_MAX_GROUPS));
	sb_putc(&s, ',');
	for (size_t i = 0; i < h->n_pfmts; i++) {
		if (i)
			sb_putc(&s, '-');
		sb_dec(&s, h->pfmts[i]);
	}
	return s.err ? SW_EFULL : (int)s.len;
}

static void hex_out(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[d[i] >> 4];
		out[2 * i + 1] = hexdig[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int tls_ja3_hash(const struct tls_hello *h, char out[TLS_JA3_HEX])
{
	char text[TLS_JA3_TEXT];
	uint8_t md[16];

	int n = tls_ja3_string(h, text, sizeof(text));
	if (n < 0) {
		out[0] = '\0';
		return n;
	}
	gcry_md_hash_buffer(GCRY_MD_MD5, md, text, (size_t)n);
	hex_out(md, sizeof(md), out);
	return 32;
}

/* JA4 "TLS version": the 2-character code of the spec's table. */
static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static int is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* Copies the non-GREASE values of a, minus those equal to skip1/skip2
 * (pass a GREASE value to skip nothing), sorted ascending. Insertion sort:
 * at most TLS_MAX_CIPHERS entries. Returns the count. */
static size_t sorted_copy(const uint16_t *a, size_t n, uint16_t skip1,
			  uint16_t skip2, uint16_t *out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t v = a[i];
		if (tls_is_grease(v) || v == skip1 || v == skip2)
			continue;
		size_t j = m++;
		while (j > 0 && out[j - 1] > v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = v;
	}
	return m;
}

static void hex_list(struct sb *s, const uint16_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(s, ',');
		sb_hex4(s, a[i]);
	}
}

/* First 12 hex characters of SHA-256 of text. */
static void sha12(const char *text, size_t n, struct sb *s)
{
	uint8_t md[32];
	char hex[65];

	gcry_md_hash_buffer(GCRY_MD_SHA256, md, text, n);
	hex_out(md, sizeof(md), hex);
	for (int i = 0; i < 12; i++)
		sb_putc(s, hex[i]);
}

static void zeros12(struct sb *s)
{
	for (int i = 0; i < 12; i++)
		sb_putc(s, '0');
}

static void two_digits(struct sb *s, size_t n)
{
	if (n > 99) /* JA4: "If there's > 99 ... output 99" */
		n = 99;
	sb_putc(s, (char)('0' + n / 10));
	sb_putc(s, (char)('0' + n % 10));
}

int tls_ja4(const struct tls_hello *h, int quic, char out[TLS_JA4_TEXT])
{
	/* 5 characters per kept entry ("xxxx,"), plus '_' and NUL. */
	char text[(TLS_MAX_CIPHERS > TLS_MAX_EXTS + TLS_MAX_SIGALGS ?
		   TLS_MAX_CIPHERS : TLS_MAX_EXTS + TLS_MAX_SIGALGS) * 5 + 2];
	uint16_t tmp[TLS_MAX_CIPHERS > TLS_MAX_EXTS ? TLS_MAX_CIPHERS : TLS_MAX_EXTS];
	size_t nc = kept(h->n_ciphers, TLS_MAX_CIPHERS);
	size_t ne = kept(h->n_exts, TLS_MAX_EXTS);
	size_t ns = kept(h->n_sigalgs, TLS_MAX_SIGALGS);
	struct sb s, t;
	size_t cnt;

	sb_init(&s, out, TLS_JA4_TEXT);
	/* JA4_a. */
	sb_putc(&s, quic ? 'q' : 't');
	const char *v = ja4_version(h->max_version);
	sb_putc(&s, v[0]);
	sb_putc(&s, v[1]);
	sb_putc(&s, (h->flags & TLS_F_SNI) ? 'd' : 'i');
	cnt = 0;
	for (size_t i = 0; i < nc; i++)
		cnt += !tls_is_grease(h->ciphers[i]);
	two_digits(&s, cnt);
	cnt = 0;
	for (size_t i = 0; i < ne; i++)
		cnt += !tls_is_grease(h->exts[i]);
	two_digits(&s, cnt);
	if (!(h->flags & TLS_F_ALPN) || h->n_alpn == 0 || h->alpn0_len == 0) {
		sb_putc(&s, '0');
		sb_putc(&s, '0');
	} else if (is_alnum(h->alpn0_first) && is_alnum(h->alpn0_last)) {
		sb_putc(&s, (char)h->alpn0_first);
		sb_putc(&s, (char)h->alpn0_last);
	} else {
		/* Non-alphanumeric: first and last characters of the hex form. */
		sb_putc(&s, hexdig[h->alpn0_first >> 4]);
		sb_putc(&s, hexdig[h->alpn0_last & 0xf]);
	}

	/* JA4_b: sorted ciphers. */
	sb_putc(&s, '_');
	cnt = sorted_copy(h->ciphers, nc, 0x0a0a, 0x0a0a, tmp);
	if (cnt == 0) {
		zeros12(&s);
	} else {
		sb_init(&t, text, sizeof(text));
		hex_list(&t, tmp, cnt);
		sha12(text, t.len, &s);
	}

	/* JA4_c: sorted extensions without SNI and ALPN, '_', sigalgs in order. */
	sb_putc(&s, '_');
	cnt = sorted_copy(h->exts, ne, TLS_EXT_SERVER_NAME, TLS_EXT_ALPN, tmp);
	if (cnt == 0) {
		zeros12(&s);
	} else {
		sb_init(&t, text, sizeof(text));
		hex_list(&t, tmp, cnt);
		int first = 1;
		for (size_t i = 0; i < ns; i++) {
			if (tls_is_grease(h->sigalgs[i]))
				continue;
			sb_putc(&t, first ? '_' : ',');
			sb_hex4(&t, h->sigalgs[i]);
			first = 0;
		}
		sha12(text, t.len, &s);
	}
	return s.err ? SW_EFULL : (int)s.len;
}
