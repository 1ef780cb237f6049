/* rd.h — bounds-checked reader over untrusted packet bytes.
 *
 * Every byte of a packet is read through this cursor. The first failed read
 * sets `err` and it sticks: later reads return 0 and do not move, so a parser
 * reads a run of fields in straight lines and checks `err` once. A sub-reader
 * carves out exactly N bytes (a DNS RDATA, a TLS extension) so an inner parser
 * cannot run past its declared length. Bounds checks are written
 * `n > len - off`, which cannot overflow because `off <= len` always holds.
 */
#ifndef SW_COMMON_RD_H
#define SW_COMMON_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"

struct rd {
	const uint8_t *buf; /* first byte of the window; not owned */
	size_t len;         /* bytes in the window */
	size_t off;         /* cursor, always <= len */
	int err;            /* 0, or the first error (SW_ETRUNC), sticky */
};

static inline void rd_init(struct rd *r, const void *buf, size_t len)
{
	r->buf = (const uint8_t *)buf;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static inline size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Returns 1 when n more bytes can be read, else sets the sticky error. */
static inline int rd_need(struct rd *r, size_t n)
{
	if (r->err)
		return 0;
	if (n > r->len - r->off) {
		r->err = SW_ETRUNC;
		return 0;
	}
	return 1;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return r->buf[r->off++];
}

/* Network byte order. */
static inline uint16_t rd_u16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	const uint8_t *p = r->buf + r->off;
	r->off += 2;
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t rd_u24(struct rd *r)
{
	if (!rd_need(r, 3))
		return 0;
	const uint8_t *p = r->buf + r->off;
	r->off += 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t rd_u32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	const uint8_t *p = r->buf + r->off;
	r->off += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Little-endian 32 bits (pcap headers of the other byte order, DLT_NULL). */
static inline uint32_t rd_u32le(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	const uint8_t *p = r->buf + r->off;
	r->off += 4;
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static inline void rd_skip(struct rd *r, size_t n)
{
	if (rd_need(r, n))
		r->off += n;
}

/* Copies n bytes into dst; on failure dst is zeroed so callers never see
 * uninitialised memory. */
static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
	if (!rd_need(r, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->buf + r->off, n);
	r->off += n;
}

/* Zero-copy: a pointer to the next n bytes, or NULL (and the sticky error). */
static inline const uint8_t *rd_ptr(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return NULL;
	const uint8_t *p = r->buf + r->off;
	r->off += n;
	return p;
}

/* Carves the next n bytes out as their own reader and moves past them. On
 * failure the sub-reader is empty and already in error. */
static inline void rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *p = rd_ptr(r, n);
	if (p == NULL) {
		rd_init(sub, NULL, 0);
		sub->err = SW_ETRUNC;
		return;
	}
	rd_init(sub, p, n);
}

/* Moves the cursor to an absolute offset inside the window. */
static inline void rd_seek(struct rd *r, size_t off)
{
	if (r->err)
		return;
	if (off > r->len)
		r->err = SW_ETRUNC;
	else
		r->off = off;
}

#endif
