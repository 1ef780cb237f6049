/* fmt.h — text forms of MACs, addresses and packet times for events. */
#ifndef SW_COMMON_FMT_H
#define SW_COMMON_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FMT_MAC_LEN 18   /* "aa:bb:cc:dd:ee:ff" + NUL */
#define FMT_IP_LEN 46    /* INET6_ADDRSTRLEN */
#define FMT_TIME_LEN 32  /* "2026-01-15T10:00:00.000000Z" + NUL */

/* Lower-case colon-separated MAC. */
void fmt_mac(char out[FMT_MAC_LEN], const uint8_t mac[6]);

/* An address stored in 16 bytes: IPv4-mapped ones print as dotted quads,
 * others as RFC 5952 IPv6 text. */
void fmt_ip(char out[FMT_IP_LEN], const uint8_t ip[16]);

/* The first 12 bytes of an IPv4-mapped address (RFC 4291 §2.5.5.2). */
static const uint8_t ip_v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* 1 when a 16-byte address is IPv4-mapped (::ffff:0:0/96). Inline, as
 * ip_from_v4(): both run several times a packet, where a call cost more
 * than the work. */
static inline int ip_is_v4(const uint8_t ip[16])
{
	return memcmp(ip, ip_v4_prefix, 12) == 0;
}

/* 1 for IPv4 addresses that do not leave the site: RFC 1918, CGNAT
 * (RFC 6598), link local (RFC 3927), loopback. b is the 4 address bytes. */
static inline int ip_v4_site_local(const uint8_t b[4])
{
	return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	       (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
	       (b[0] == 100 && (b[1] & 0xc0) == 64);
}

/* Stores an IPv4 address IPv4-mapped. Built whole and copied at once,
 * GCC writes it as two 8-byte stores; a 12-byte and a 4-byte copy gave
 * stores that the 8- and 16-byte loads right after (hashing, comparing
 * the address) cannot be forwarded from, a stall of some 12 cycles. */
static inline void ip_from_v4(uint8_t ip[16], const uint8_t v4[4])
{
	const uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
				v4[0], v4[1], v4[2], v4[3] };
	memcpy(ip, m, 16);
}

/* Copies src[0..len) into dst[n] (n >= 1) as NUL-terminated text, cut to
 * fit: the bounded text fields that evidence keeps. */
static inline void text_copy(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Parses dotted-quad or IPv6 text into 16 bytes; 0 or SW_EINVAL. */
int ip_parse(const char *s, uint8_t ip[16]);

/* RFC 3339 UTC with microseconds, from microseconds since the epoch. */
void fmt_time(char out[FMT_TIME_LEN], uint64_t ts_us);

/* 1 for a multicast or broadcast MAC (I/G bit set). */
int mac_is_group(const uint8_t mac[6]);

/* The value of one hex digit (either case), or -1. */
int fmt_hexval(int c);

#endif
