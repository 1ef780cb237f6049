/* name.c — DNS names: decompression, limits, presentation text.
 * RFC 1035 §2.3.4 (limits), §3.1 (labels), §4.1.4 (compression), §5.1
 * (\. and \DDD escapes); RFC 4343 (case); RFC 6891 §5 (label types 0x40 and
 * 0x80 are not in use).
 */
#include "dns/dns.h"

#include "common/err.h"
#include "common/rd.h"

#include <string.h>

/* ASCII lower-casing by table: one load per byte on the qname path
 * (RFC 4343 §3: only A-Z fold, other bytes are left as they are). */
static const uint8_t name_lower[256] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* How a label byte is written: 0 as itself ([A-Za-z0-9_-]), 1 as "\." (a dot
 * inside a label), 2 as "\DDD" (everything else), per the dns.h contract. */
static const uint8_t name_cls[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 1, 2,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2,
	2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 0,
	2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Writes one label's bytes at out[*o]; keeps room for the final NUL and
 * never writes half an escape. Returns 0 or SW_EFULL (*o then counts what
 * fitted). */
static int name_put_label(const uint8_t *p, size_t n, char *out, size_t outsz,
			  size_t *o, int lower)
{
	size_t k = *o;
	int rc = 0;
	size_t i = 0;
	/* Fast path: while the whole label fits as plain bytes, copy without
	 * the room checks; the first byte that needs an escape (rare in real
	 * names) hands over to the careful loop below. */
	if (outsz - k > n) {
		for (; i < n && name_cls[p[i]] == 0; i++)
			out[k + i] = (char)(lower ? name_lower[p[i]] : p[i]);
		k += i;
	}
	for (; i < n && rc == 0; i++) {
		uint8_t b = p[i];
		switch (name_cls[b]) {
		case 0:
			if (outsz - k < 2) {
				rc = SW_EFULL;
				break;
			}
			out[k++] = (char)(lower ? name_lower[b] : b);
			break;
		case 1:
			if (outsz - k < 3) {
				rc = SW_EFULL;
				break;
			}
			out[k++] = '\\';
			out[k++] = '.';
			break;
		default:
			if (outsz - k < 5) {
				rc = SW_EFULL;
				break;
			}
			out[k++] = '\\';
			out[k++] = (char)('0' + b / 100);
			out[k++] = (char)('0' + b / 10 % 10);
			out[k++] = (char)('0' + b % 10);
			break;
		}
	}
	*o = k;
	return rc;
}

/* The one name walker. Reads the name at `off`, following compression
 * pointers, and writes its text when `out` is not NULL.
 *
 * Termination without trusting the hop cap alone: every pointer must point
 * strictly before the start of the run of labels it ends (the name's own
 * start, or the previous pointer's target), so the runs start at strictly
 * falling offsets and cannot cycle (the tcpdump rule, RFC 1035 §4.1.4 only
 * ever points at a *prior* occurrence). This rejects a pointer to itself, a
 * forward pointer and every loop. DNS_PTR_HOPS bounds the work per name
 * on a long backward chain. */
static int name_walk(const uint8_t *msg, size_t len, size_t off, char *out,
		     size_t outsz, int lower, size_t *next)
{
	struct rd r;
	size_t run = off;     /* start of the current run of labels */
	size_t end = 0;       /* offset after the name as it sits in the message */
	size_t wire = 1;      /* octets of the uncompressed name, root included */
	size_t o = 0;         /* text bytes written */
	unsigned hops = 0;
	int jumped = 0;
	int rc = 0;

	if (out != NULL) {
		if (outsz == 0)
			return SW_EFULL;
		out[0] = '\0';
	}
	rd_init(&r, msg, len);
	rd_seek(&r, off);
	for (;;) {
		uint8_t c = rd_u8(&r);
		if (r.err) {
			rc = SW_ETRUNC;
			goto out;
		}
		if (c == 0)
			break;
		if ((c & 0xc0) == 0xc0) {
			/* RFC 1035 §4.1.4: 14-bit offset from the message start. */
			size_t target = (size_t)(c & 0x3f) << 8 | rd_u8(&r);
			if (r.err) {
				rc = SW_ETRUNC;
				goto out;
			}
			if (!jumped) {
				end = r.off;
				jumped = 1;
			}
			if (target >= run || ++hops > DNS_PTR_HOPS) {
				rc = SW_ELOOP;
				goto out;
			}
			run = target;
			rd_seek(&r, target);
			continue;
		}
		if (c > DNS_LABEL_MAX) {
			/* 0x40 and 0x80 label types: RFC 6891 §5, RFC 2673 gone. */
			rc = SW_EMALFORMED;
			goto out;
		}
		/* RFC 1035 §2.3.4: length octet plus label, 255 in all. */
		wire += (size_t)c + 1;
		if (wire > DNS_NAME_MAX) {
			rc = SW_ETOOLONG;
			goto out;
		}
		const uint8_t *p = rd_ptr(&r, c);
		if (p == NULL) {
			rc = SW_ETRUNC;
			goto out;
		}
		if (out != NULL) {
			if (o > 0) {
				if (outsz - o < 2) {
					rc = SW_EFULL;
					goto out;
				}
				out[o++] = '.';
			}
			rc = name_put_label(p, c, out, outsz, &o, lower);
			if (rc < 0)
				goto out;
		}
	}
	if (!jumped)
		end = r.off;
	if (out != NULL && o == 0) {
		if (outsz < 2) {
			rc = SW_EFULL;
			goto out;
		}
		out[o++] = '.';
	}
	if (next != NULL)
		*next = end;
out:
	if (out != NULL)
		out[o] = '\0';
	return rc < 0 ? rc : (int)o;
}

int dns_name_plain(const uint8_t *msg, size_t len, size_t off, char *out,
		   size_t outsz, size_t *next)
{
	size_t i = off;
	size_t o = 0;
	size_t wire = 1;
	/* A plain name's text is its wire length less two: 253 at most. */
	if (outsz < DNS_NAME_MAX + 1)
		return -1;
	for (;;) {
		if (i >= len)
			return -1;
		size_t c = msg[i++];
		if (c == 0)
			break;
		wire += c + 1;
		if (c > DNS_LABEL_MAX || c > len - i || wire > DNS_NAME_MAX)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (size_t k = 0; k < c; k++) {
			uint8_t b = msg[i + k];
			if (name_cls[b] != 0)
				return -1;
			out[o + k] = (char)name_lower[b];
		}
		o += c;
		i += c;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*next = i;
	return (int)o;
}

int dns_name_at(const uint8_t *msg, size_t len, size_t off, char *out,
		size_t outsz, int lower, size_t *next)
{
	if (out == NULL)
		return SW_EINVAL;
	return name_walk(msg, len, off, out, outsz, lower, next);
}

int dns_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *next)
{
	int rc = name_walk(msg, len, off, NULL, 0, 0, next);
	return rc < 0 ? rc : 0;
}

int dns_label_next(const struct dns_msg *m, struct dns_label_cur *c, size_t *lab)
{
	while (c->off < m->len) {
		uint8_t b = m->buf[c->off];
		if ((b & 0xc0) != 0xc0) {
			if (b > DNS_LABEL_MAX || c->off + 1 + b > m->len)
				return -1;
			*lab = c->off + 1;
			c->off += 1 + (size_t)b;
			return b;
		}
		if (c->off + 1 >= m->len || ++c->hops > DNS_PTR_HOPS)
			return -1;
		size_t target = (size_t)(b & 0x3f) << 8 | m->buf[c->off + 1];
		if (target >= c->run)
			return -1;        /* RFC 1035 §4.1.4, pointers only backwards */
		c->run = c->off = target;
	}
	return -1;
}

/* The names of one answer mostly differ (a CNAME chain's owners and
 * targets, which often share their first labels: www.vendor.com and
 * www.vendor.com.edgekey.net): this tells them apart without decompressing
 * both into text for each pair. */
int dns_names_differ(const struct dns_msg *m, size_t a, size_t b)
{
	struct dns_label_cur x, y;
	dns_label_start(&x, a);
	dns_label_start(&y, b);
	/* A name has at most 127 labels (255 octets). */
	for (unsigned n = 0; n < 128; n++) {
		size_t lx, ly;
		int cx = dns_label_next(m, &x, &lx), cy = dns_label_next(m, &y, &ly);
		if (cx < 0 || cy < 0)
			return 0;
		if (cx != cy)
			return 1;
		if (cx == 0)
			return 0;
		const uint8_t *px = m->buf + lx, *py = m->buf + ly;
		if (memcmp(px, py, (size_t)cx) == 0)
			continue;                 /* the same octets: the same label */
		for (int i = 0; i < cx; i++)
			if (name_lower[px[i]] != name_lower[py[i]])
				return 1;
	}
	return 0;
}
