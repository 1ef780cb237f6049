/* rdata.c — RDATA in presentation form, for logs and events.
 * RFC 1035 §3.3 and §5.1, RFC 3596 (AAAA), RFC 2782 (SRV), RFC 3403 (NAPTR),
 * RFC 4034 (DS, DNSKEY, RRSIG, NSEC), RFC 8659 (CAA), RFC 9460 (SVCB/HTTPS),
 * RFC 3597 §5 (unknown types), RFC 4648 (base64).
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/rd.h"

/* Output cursor: n < cap always holds, so out[n] can take the NUL; the
 * first overflow sticks as SW_EFULL, like the reader's error. */
struct wr {
	char *p;
	size_t cap;
	size_t n;
	int err;
};

static void wr_mem(struct wr *w, const char *s, size_t k)
{
	if (w->err)
		return;
	if (k >= w->cap - w->n) {
		w->err = SW_EFULL;
		return;
	}
	memcpy(w->p + w->n, s, k);
	w->n += k;
	w->p[w->n] = '\0';
}

static void wr_str(struct wr *w, const char *s)
{
	wr_mem(w, s, strlen(s));
}

static void wr_chr(struct wr *w, char c)
{
	wr_mem(w, &c, 1);
}

__attribute__((format(printf, 2, 3)))
static void wr_fmt(struct wr *w, const char *fmt, ...)
{
	if (w->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= w->cap - w->n) {
		w->p[w->n] = '\0';
		w->err = SW_EFULL;
		return;
	}
	w->n += (size_t)k;
}

static void wr_hex(struct wr *w, const uint8_t *p, size_t k)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < k && !w->err; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 0xf] };
		wr_mem(w, two, 2);
	}
}

/* RFC 4648 §4 base64 with padding. */
static void wr_b64(struct wr *w, const uint8_t *p, size_t k)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < k && !w->err; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < k)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < k)
			v |= p[i + 2];
		char four[4] = {
			b64[v >> 18 & 63], b64[v >> 12 & 63],
			i + 1 < k ? b64[v >> 6 & 63] : '=',
			i + 2 < k ? b64[v & 63] : '='
		};
		wr_mem(w, four, 4);
	}
}

/* One byte of a character-string (RFC 1035 §5.1): '"' and '\' escaped with
 * a backslash, bytes outside printable ASCII as \DDD, plus the bytes in
 * `also` escaped with a backslash (',' inside SvcParam lists). */
static void wr_cbyte(struct wr *w, uint8_t b, const char *also)
{
	if (b == '"' || b == '\\' || (b != 0 && strchr(also, b) != NULL)) {
		char two[2] = { '\\', (char)b };
		wr_mem(w, two, 2);
	} else if (b < 0x20 || b >= 0x7f) {
		wr_fmt(w, "\\%03u", b);
	} else {
		wr_chr(w, (char)b);
	}
}

/* A <character-string> (length octet + bytes), quoted. */
static void wr_cstr(struct wr *w, struct rd *r)
{
	uint8_t k = rd_u8(r);
	const uint8_t *p = rd_ptr(r, k);
	if (p == NULL)
		return;
	wr_chr(w, '"');
	for (size_t i = 0; i < k; i++)
		wr_cbyte(w, p[i], "");
	wr_chr(w, '"');
}

static void wr_type(struct wr *w, uint16_t type)
{
	const char *s = dns_type_name(type);
	if (s != NULL)
		wr_str(w, s);
	else
		wr_fmt(w, "TYPE%u", type);   /* RFC 3597 §5 */
}

/* A name inside RDATA at the reader's cursor (r covers the RDATA, which
 * starts at message offset `base`). The name may point backwards anywhere
 * in the message but what it occupies in place must end inside RDLENGTH.
 * Moves r past it; returns 0 or a negative error. */
static int wr_name(struct wr *w, const struct dns_msg *m, struct rd *r,
		   size_t base)
{
	size_t next;
	if (r->err || w->err)
		return r->err ? r->err : w->err;
	int rc = dns_name_at(m->buf, m->len, base + r->off, w->p + w->n,
			     w->cap - w->n, 1, &next);
	if (rc == SW_EFULL) {
		w->err = SW_EFULL;
		return rc;
	}
	if (rc < 0)
		return rc;
	if (next - base > r->len)
		return SW_EMALFORMED;
	w->n += (size_t)rc;
	rd_seek(r, next - base);
	return 0;
}

static void wr_ip4(struct wr *w, const uint8_t *p)
{
	wr_fmt(w, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void wr_ip6(struct wr *w, const uint8_t *p)
{
	char s[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, p, s, sizeof(s)) == NULL)
		w->err = SW_EFULL;
	else
		wr_str(w, s);
}

/* RRSIG times as YYYYMMDDHHmmSS (RFC 4034 §3.2), UTC, days to civil date
 * after H. Hinnant's algorithm: no libc time zone state involved. */
static void wr_time(struct wr *w, uint32_t t)
{
	uint32_t secs = t % 86400;
	int64_t z = (int64_t)(t / 86400) + 719468;
	int64_t era = z / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t mo = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (mo <= 2);
	wr_fmt(w, "%04d%02d%02d%02u%02u%02u", (int)y, (int)mo, (int)d,
	       secs / 3600, secs / 60 % 60, secs % 60);
}

/* NSEC type bit maps (RFC 4034 §4.1.2): window, length 1..32, bits. */
static int wr_bitmap(struct wr *w, struct rd *r)
{
	int last = -1;
	while (rd_left(r) > 0) {
		uint8_t win = rd_u8(r);
		uint8_t k = rd_u8(r);
		const uint8_t *p = rd_ptr(r, k);
		if (p == NULL || k == 0 || k > 32 || (int)win <= last)
			return SW_EMALFORMED;
		last = win;
		for (unsigned i = 0; i < k * 8u; i++)
			if (p[i / 8] & (0x80 >> (i % 8))) {
				wr_chr(w, ' ');
				wr_type(w, (uint16_t)(win << 8 | i));
			}
	}
	return 0;
}

static const char *rdata_svc_key(uint16_t key)
{
	/* IANA "Service Parameter Keys (SvcParamKeys)". */
	switch (key) {
	case 0: return "mandatory";
	case 1: return "alpn";
	case 2: return "no-default-alpn";
	case 3: return "port";
	case 4: return "ipv4hint";
	case 5: return "ech";
	case 6: return "ipv6hint";
	case 7: return "dohpath";
	case 8: return "ohttp";
	default: return NULL;
	}
}

static void wr_svc_key(struct wr *w, uint16_t key)
{
	const char *s = rdata_svc_key(key);
	if (s != NULL)
		wr_str(w, s);
	else
		wr_fmt(w, "key%u", key);   /* RFC 9460 §2.1 */
}

/* One SvcParam value (RFC 9460 §7 for the wire forms). */
static int wr_svc_param(struct wr *w, uint16_t key, struct rd *v)
{
	size_t vlen = v->len;
	switch (key) {
	case 0: /* mandatory: a non-empty list of keys */
		if (vlen == 0 || vlen % 2)
			return SW_EMALFORMED;
		wr_str(w, "mandatory=");
		for (size_t i = 0; i < vlen / 2; i++) {
			if (i)
				wr_chr(w, ',');
			wr_svc_key(w, rd_u16(v));
		}
		return 0;
	case 1: /* alpn: non-empty list of non-empty length-prefixed ids */
		if (vlen == 0)
			return SW_EMALFORMED;
		wr_str(w, "alpn=");
		for (int first = 1; rd_left(v) > 0; first = 0) {
			uint8_t k = rd_u8(v);
			const uint8_t *p = rd_ptr(v, k);
			if (p == NULL || k == 0)
				return SW_EMALFORMED;
			if (!first)
				wr_chr(w, ',');
			for (size_t i = 0; i < k; i++)
				wr_cbyte(w, p[i], ", ");
		}
		return 0;
	case 2: /* no-default-alpn, ohttp: no value */
	case 8:
		if (vlen != 0)
			return SW_EMALFORMED;
		wr_svc_key(w, key);
		return 0;
	case 3:
		if (vlen != 2)
			return SW_EMALFORMED;
		wr_fmt(w, "port=%u", rd_u16(v));
		return 0;
	case 4:
		if (vlen == 0 || vlen % 4)
			return SW_EMALFORMED;
		wr_str(w, "ipv4hint=");
		for (size_t i = 0; i < vlen; i += 4) {
			if (i)
				wr_chr(w, ',');
			wr_ip4(w, rd_ptr(v, 4));
		}
		return 0;
	case 5: /* ech: ECHConfigList, base64 */
		wr_str(w, "ech=");
		wr_b64(w, v->buf, vlen);
		return 0;
	case 6:
		if (vlen == 0 || vlen % 16)
			return SW_EMALFORMED;
		wr_str(w, "ipv6hint=");
		for (size_t i = 0; i < vlen; i += 16) {
			if (i)
				wr_chr(w, ',');
			wr_ip6(w, rd_ptr(v, 16));
		}
		return 0;
	case 7: /* dohpath, RFC 9461 §5: a URI template, UTF-8 */
		wr_str(w, "dohpath=");
		for (size_t i = 0; i < vlen; i++)
			wr_cbyte(w, v->buf[i], " ");
		return 0;
	default:
		wr_fmt(w, "key%u", key);
		if (vlen) {
			wr_chr(w, '=');
			wr_hex(w, v->buf, vlen);
		}
		return 0;
	}
}

/* SVCB and HTTPS (RFC 9460 §2.2): SvcPriority TargetName SvcParams, keys in
 * strictly increasing order or the RR is malformed (§2.2). */
static int rdata_svcb(struct wr *w, const struct dns_msg *m, struct rd *r,
		      size_t base)
{
	int last = -1;
	wr_fmt(w, "%u ", rd_u16(r));
	int rc = wr_name(w, m, r, base);
	if (rc < 0)
		return rc;
	while (rd_left(r) > 0) {
		uint16_t key = rd_u16(r);
		uint16_t vlen = rd_u16(r);
		struct rd v;
		rd_sub(r, vlen, &v);
		if (r->err || (int)key <= last)
			return SW_EMALFORMED;
		last = key;
		wr_chr(w, ' ');
		rc = wr_svc_param(w, key, &v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Writes the typed form; SW_EMALFORMED when the RDATA does not fit the
 * type's syntax (the caller then falls back to RFC 3597). */
static int rdata_typed(struct wr *w, const struct dns_msg *m,
		       const struct dns_rr *rr)
{
	struct rd r;
	size_t base = rr->rdata_off;
	int rc = 0;

	rd_init(&r, m->buf + base, rr->rdlen);
	switch (rr->type) {
	case 1:  /* A */
		if (rr->rdlen != 4)
			return SW_EMALFORMED;
		wr_ip4(w, rd_ptr(&r, 4));
		break;
	case 28: /* AAAA */
		if (rr->rdlen != 16)
			return SW_EMALFORMED;
		wr_ip6(w, rd_ptr(&r, 16));
		break;
	case 2: case 5: case 12: case 39: /* NS CNAME PTR DNAME */
		rc = wr_name(w, m, &r, base);
		break;
	case 15: /* MX, RFC 1035 §3.3.9 */
		wr_fmt(w, "%u ", rd_u16(&r));
		rc = wr_name(w, m, &r, base);
		break;
	case 16: /* TXT, RFC 1035 §3.3.14: one or more strings */
	case 13: /* HINFO, §3.3.2: two strings */
		if (rr->rdlen == 0)
			return SW_EMALFORMED;
		for (int first = 1; rd_left(&r) > 0; first = 0) {
			if (!first)
				wr_chr(w, ' ');
			wr_cstr(w, &r);
		}
		break;
	case 6: { /* SOA, RFC 1035 §3.3.13 */
		rc = wr_name(w, m, &r, base);
		wr_chr(w, ' ');
		if (rc == 0)
			rc = wr_name(w, m, &r, base);
		uint32_t v[5];
		for (int i = 0; i < 5; i++)
			v[i] = rd_u32(&r);
		wr_fmt(w, " %u %u %u %u %u", v[0], v[1], v[2], v[3], v[4]);
		break;
	}
	case 33: { /* SRV, RFC 2782 */
		uint16_t prio = rd_u16(&r);
		uint16_t weight = rd_u16(&r);
		uint16_t port = rd_u16(&r);
		wr_fmt(w, "%u %u %u ", prio, weight, port);
		rc = wr_name(w, m, &r, base);
		break;
	}
	case 35: /* NAPTR, RFC 3403 §4.1 */
		wr_fmt(w, "%u ", rd_u16(&r));
		wr_fmt(w, "%u ", rd_u16(&r));
		for (int i = 0; i < 3; i++) {
			wr_cstr(w, &r);
			wr_chr(w, ' ');
		}
		rc = wr_name(w, m, &r, base);
		break;
	case 64: case 65:
		rc = rdata_svcb(w, m, &r, base);
		break;
	case 43: case 59: { /* DS, CDS: RFC 4034 §5.3 */
		uint16_t tag = rd_u16(&r);
		uint8_t alg = rd_u8(&r);
		uint8_t dt = rd_u8(&r);
		wr_fmt(w, "%u %u %u ", tag, alg, dt);
		if (rd_left(&r) == 0)
			return SW_EMALFORMED;
		wr_hex(w, r.buf + r.off, rd_left(&r));
		r.off = r.len;
		break;
	}
	case 48: case 60: { /* DNSKEY, CDNSKEY: RFC 4034 §2.2 */
		uint16_t flags = rd_u16(&r);
		uint8_t proto = rd_u8(&r);
		uint8_t alg = rd_u8(&r);
		wr_fmt(w, "%u %u %u ", flags, proto, alg);
		if (rd_left(&r) == 0)
			return SW_EMALFORMED;
		wr_b64(w, r.buf + r.off, rd_left(&r));
		r.off = r.len;
		break;
	}
	case 46: { /* RRSIG, RFC 4034 §3.2 */
		uint16_t covered = rd_u16(&r);
		uint8_t alg = rd_u8(&r);
		uint8_t labels = rd_u8(&r);
		uint32_t orig = rd_u32(&r);
		uint32_t exp = rd_u32(&r);
		uint32_t inc = rd_u32(&r);
		uint16_t tag = rd_u16(&r);
		if (r.err)
			return SW_EMALFORMED;
		wr_type(w, covered);
		wr_fmt(w, " %u %u %u ", alg, labels, orig);
		wr_time(w, exp);
		wr_chr(w, ' ');
		wr_time(w, inc);
		wr_fmt(w, " %u ", tag);
		rc = wr_name(w, m, &r, base);
		if (rc == 0 && rd_left(&r) > 0) {
			wr_chr(w, ' ');
			wr_b64(w, r.buf + r.off, rd_left(&r));
			r.off = r.len;
		}
		break;
	}
	case 47: /* NSEC, RFC 4034 §4.2 */
		rc = wr_name(w, m, &r, base);
		if (rc == 0)
			rc = wr_bitmap(w, &r);
		break;
	case 257: { /* CAA, RFC 8659 §4.1: tag 1..15 alphanumeric */
		uint8_t flags = rd_u8(&r);
		uint8_t k = rd_u8(&r);
		const uint8_t *tag = rd_ptr(&r, k);
		if (tag == NULL || k == 0 || k > 15)
			return SW_EMALFORMED;
		wr_fmt(w, "%u ", flags);
		for (size_t i = 0; i < k; i++) {
			if (!((tag[i] >= 'a' && tag[i] <= 'z') ||
			      (tag[i] >= 'A' && tag[i] <= 'Z') ||
			      (tag[i] >= '0' && tag[i] <= '9')))
				return SW_EMALFORMED;
			wr_chr(w, (char)tag[i]);
		}
		wr_str(w, " \"");
		while (rd_left(&r) > 0)
			wr_cbyte(w, rd_u8(&r), "");
		wr_chr(w, '"');
		break;
	}
	default:
		return SW_EUNSUPP;
	}
	if (rc < 0)
		return rc == SW_EFULL ? rc : SW_EMALFORMED;
	/* The typed form must use RDLENGTH exactly. */
	if (r.err || rd_left(&r) != 0)
		return SW_EMALFORMED;
	return 0;
}

int dns_rdata_text(const struct dns_msg *m, const struct dns_rr *rr,
		   char *out, size_t outsz)
{
	struct wr w = { out, outsz, 0, 0 };

	if (out == NULL || outsz == 0)
		return SW_EFULL;
	out[0] = '\0';
	if ((size_t)rr->rdata_off + rr->rdlen > m->len)
		return SW_EINVAL;
	int rc = rdata_typed(&w, m, rr);
	if (rc == 0 && w.err == 0)
		return (int)w.n;
	if (w.err == SW_EFULL || rc == SW_EFULL)
		return SW_EFULL;
	/* RFC 3597 §5: \# <length> <hex>. */
	w.n = 0;
	out[0] = '\0';
	wr_fmt(&w, "\\# %u", rr->rdlen);
	if (rr->rdlen) {
		wr_chr(&w, ' ');
		wr_hex(&w, m->buf + rr->rdata_off, rr->rdlen);
	}
	return w.err ? w.err : (int)w.n;
}
