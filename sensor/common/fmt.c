/* fmt.c — text forms of MACs, addresses and packet times (RFC 5952, RFC 3339). */
#include "common/fmt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

void fmt_mac(char out[FMT_MAC_LEN], const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[mac[i] >> 4];
		out[i * 3 + 1] = hex[mac[i] & 15];
		out[i * 3 + 2] = i == 5 ? '\0' : ':';
	}
}

/* A dotted quad at o; returns the end. */
static char *put_v4(char *o, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		if (i < 3)
			*o++ = '.';
	}
	return o;
}

/* Written by hand rather than by inet_ntop(), whose glibc version goes
 * through sprintf (about 2,000 instructions an address, several in every
 * alert), to the same text: RFC 5952 (lower-case hex without leading zeros,
 * the longest run of two or more zero groups as "::", the first of equal
 * runs), IPv4-mapped addresses as dotted quads, and, as inet_ntop writes
 * them, ::a.b.c.d for the deprecated IPv4-compatible form. */
void fmt_ip(char out[FMT_IP_LEN], const uint8_t ip[16])
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;
	if (ip_is_v4(ip)) {
		*put_v4(o, ip + 12) = '\0';
		return;
	}
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
		} else {
			cur = -1;
		}
		if (cur >= 0 && cur_len > best_len)
			best = cur, best_len = cur_len;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i != 0)
			*o++ = ':';
		if (i == 6 && best == 0 && best_len == 6) {
			o = put_v4(o, ip + 12);
			break;
		}
		int started = 0;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = (w[i] >> sh) & 15;
			if (d != 0 || started || sh == 0) {
				*o++ = hex[d];
				started = 1;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	*o = '\0';
}

int ip_parse(const char *s, uint8_t ip[16])
{
	uint8_t v4[4];
	if (inet_pton(AF_INET, s, v4) == 1) {
		ip_from_v4(ip, v4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 0;
	return SW_EINVAL;
}

static void put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
}

/* Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil
 * inverse): plain arithmetic, no locale, no libc call per event. */
void fmt_time(char out[FMT_TIME_LEN], uint64_t ts_us)
{
	uint64_t secs = ts_us / 1000000;
	unsigned us = (unsigned)(ts_us % 1000000);
	int64_t z = (int64_t)(secs / 86400) + 719468;
	unsigned sod = (unsigned)(secs % 86400);
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	if (y > 9999)
		y = 9999; /* the field is four digits; packet times never get there */
	unsigned yy = (unsigned)y;
	out[0] = (char)('0' + yy / 1000);
	out[1] = (char)('0' + yy / 100 % 10);
	put2(out + 2, yy % 100);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, sod / 3600);
	out[13] = ':';
	put2(out + 14, sod / 60 % 60);
	out[16] = ':';
	put2(out + 17, sod % 60);
	out[19] = '.';
	for (int i = 25; i >= 20; i--) {
		out[i] = (char)('0' + us % 10);
		us /= 10;
	}
	out[26] = 'Z';
	out[27] = '\0';
}

int mac_is_group(const uint8_t mac[6])
{
	return mac[0] & 1;
}

int fmt_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
