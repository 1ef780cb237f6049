/* bogon.h — special-purpose addresses (RFC 6890) and addresses that do not
 * leave the site, as the integrity module judges answers and responders
 * by them (response.bogon-answer, amplification.device-serves-dns).
 *
 * RFC 6890 (special-purpose registries), RFC 1918, RFC 6598, RFC 3927,
 * RFC 5737, RFC 2544, RFC 3849, RFC 4193, RFC 4291 §2.5.5.2. Inline: the
 * response path tests every A and AAAA answer, and most addresses are
 * ordinary, which the first test tells.
 */
#ifndef SW_DETECT_BOGON_H
#define SW_DETECT_BOGON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/fmt.h"

/* integ_special_range() of an A record's four bytes. */
static inline const char *special_range_v4(const uint8_t b[4], int *priv)
{
	/* First octets that begin a special range: 0, 10, 127, 169, 172,
	 * 192, 198, 203 and 224-255. Most answers hold none of them. */
	static const uint64_t first[4] = {
		1ull << 0 | 1ull << 10,
		1ull << (127 - 64),
		1ull << (169 - 128) | 1ull << (172 - 128),
		1ull << (192 - 192) | 1ull << (198 - 192) | 1ull << (203 - 192) | 0xffffffffull << 32,
	};
	if (!((first[b[0] >> 6] >> (b[0] & 63)) & 1)) {
		*priv = 0;
		return NULL;
	}
	*priv = 0;
	if (b[0] == 0)
		return "0.0.0.0/8";          /* RFC 1122 §3.2.1.3 */
	if (b[0] == 127)
		return "127.0.0.0/8";        /* loopback */
	if (b[0] == 169 && b[1] == 254)
		return "169.254.0.0/16";     /* link local, RFC 3927 */
	if (b[0] == 192 && b[1] == 0 && b[2] == 2)
		return "192.0.2.0/24";       /* TEST-NET-1, RFC 5737 */
	if (b[0] == 198 && b[1] == 51 && b[2] == 100)
		return "198.51.100.0/24";    /* TEST-NET-2 */
	if (b[0] == 203 && b[1] == 0 && b[2] == 113)
		return "203.0.113.0/24";     /* TEST-NET-3 */
	if (b[0] == 198 && (b[1] & 0xfe) == 18)
		return "198.18.0.0/15";      /* benchmarking, RFC 2544 */
	if (b[0] >= 240)
		return "240.0.0.0/4";        /* reserved, RFC 1112; broadcast */
	if (b[0] >= 224)
		return "224.0.0.0/4";        /* multicast is no host's address */
	*priv = 1;
	if (b[0] == 10)
		return "10.0.0.0/8";         /* RFC 1918 */
	if (b[0] == 172 && (b[1] & 0xf0) == 16)
		return "172.16.0.0/12";
	if (b[0] == 192 && b[1] == 168)
		return "192.168.0.0/16";
	*priv = 0;
	return NULL;
}

/* integ_special_range() of an AAAA record's sixteen bytes. */
static inline const char *special_range_v6(const uint8_t ip[16], int *priv)
{
	*priv = 0;
	/* The special ranges begin with 00, 20 (2001:db8::), fc-fd, fe or ff. */
	if (ip[0] != 0 && ip[0] != 0x20 && ip[0] < 0xfc)
		return NULL;
	static const uint8_t zero[16];
	if (memcmp(ip, zero, 15) == 0 && (ip[15] == 0 || ip[15] == 1))
		return ip[15] ? "::1/128" : "::/128";
	if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8)
		return "2001:db8::/32";              /* documentation, RFC 3849 */
	if (memcmp(ip, zero, 10) == 0 && ip[10] == 0xff && ip[11] == 0xff)
		return "::ffff:0:0/96";              /* IPv4-mapped in an AAAA */
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return "fe80::/10";                  /* link local */
	if (ip[0] == 0xff)
		return "ff00::/8";                   /* multicast */
	if ((ip[0] & 0xfe) == 0xfc) {
		*priv = 1;
		return "fc00::/7";                   /* ULA, RFC 4193 */
	}
	return NULL;
}

/* The special-purpose range (RFC 6890) an address falls in, as text
 * ("127.0.0.0/8", "2001:db8::/32", …), or NULL for an ordinary address.
 * `v6` says whether the 16 bytes came from an AAAA (an IPv4-mapped AAAA is
 * itself special) or hold an IPv4 address IPv4-mapped (an A record).
 * *priv is set to 1 for RFC 1918 and ULA ranges, which internal zones may
 * legitimately answer with, else 0. */
static inline const char *integ_special_range(const uint8_t ip[16], int v6, int *priv)
{
	return v6 ? special_range_v6(ip, priv) : special_range_v4(ip + 12, priv);
}

/* 1 for addresses that do not leave the site: RFC 1918, CGNAT (RFC 6598),
 * link local, loopback, ULA. */
static inline int ip_local(const uint8_t ip[16])
{
	if (ip_is_v4(ip))
		return ip_v4_site_local(ip + 12);
	static const uint8_t lo[16] = { [15] = 1 };
	return (ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) ||
	       memcmp(ip, lo, 16) == 0;
}

#endif
