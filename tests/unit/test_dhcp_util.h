/* test_dhcp_util.h — a tiny writer for building DHCPv6 and RA messages in
 * the dhcp unit tests: nested options are built inside out, so no test
 * counts lengths by hand. Header-only, static.
 */
#ifndef TEST_DHCP_UTIL_H
#define TEST_DHCP_UTIL_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tw {
	uint8_t b[4096];
	size_t n;
};

static inline void tw_u8(struct tw *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static inline void tw_u16(struct tw *w, unsigned v)
{
	tw_u8(w, v >> 8 & 0xff);
	tw_u8(w, v & 0xff);
}

static inline void tw_u32(struct tw *w, uint32_t v)
{
	tw_u16(w, v >> 16);
	tw_u16(w, v & 0xffff);
}

static inline void tw_bytes(struct tw *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* An IPv6 address from its text form. */
static inline void tw_ip6(struct tw *w, const char *s)
{
	uint8_t a[16];
	if (inet_pton(AF_INET6, s, a) != 1)
		memset(a, 0xee, sizeof(a));
	tw_bytes(w, a, 16);
}

/* A dotted name in uncompressed wire format (RFC 1035 §3.1). */
static inline void tw_name(struct tw *w, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		tw_u8(w, (unsigned)n);
		tw_bytes(w, s, n);
		s += n + (dot != NULL);
	}
	tw_u8(w, 0);
}

/* DHCPv6 option (RFC 8415 §21.1) holding the bytes of another writer. */
static inline void tw_opt6(struct tw *w, unsigned code, const struct tw *v)
{
	tw_u16(w, code);
	tw_u16(w, (unsigned)v->n);
	tw_bytes(w, v->b, v->n);
}

/* ND option (RFC 4861 §4.6): type, length in 8-octet units, body, zero
 * padding to the unit. */
static inline void tw_opt_nd(struct tw *w, unsigned type, const struct tw *v)
{
	size_t total = (v->n + 2 + 7) / 8 * 8;
	tw_u8(w, type);
	tw_u8(w, (unsigned)(total / 8));
	tw_bytes(w, v->b, v->n);
	memset(w->b + w->n, 0, total - 2 - v->n);
	w->n += total - 2 - v->n;
}

#endif
