/* fmt.c — text forms of MACs, addresses and packet times (RFC 5952, RFC 3339). */
#include "common/fmt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void fmt_mac(char out[FMT_MAC_LEN], const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[mac[i] >> 4];
		out[i * 3 + 1] = hex[mac[i] & 15];
		out[i * 3 + 2] = i == 5 ? '\0' : ':';
	}
}

int ip_is_v4(const uint8_t ip[16])
{
	return memcmp(ip, v4_prefix, 12) == 0;
}

void ip_from_v4(uint8_t ip[16], const uint8_t v4[4])
{
	memcpy(ip, v4_prefix, 12);
	memcpy(ip + 12, v4, 4);
}

void fmt_ip(char out[FMT_IP_LEN], const uint8_t ip[16])
{
	/* inet_ntop writes RFC 5952 text for AF_INET6 on glibc. */
	if (ip_is_v4(ip))
		inet_ntop(AF_INET, ip + 12, out, FMT_IP_LEN);
	else
		inet_ntop(AF_INET6, ip, out, FMT_IP_LEN);
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

void fmt_time(char out[FMT_TIME_LEN], uint64_t ts_us)
{
	time_t secs = (time_t)(ts_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, FMT_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, FMT_TIME_LEN - n, ".%06uZ", (unsigned)(ts_us % 1000000));
}

int mac_is_group(const uint8_t mac[6])
{
	return mac[0] & 1;
}
