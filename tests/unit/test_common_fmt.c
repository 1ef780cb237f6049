/* test_common_fmt.c — text forms of times, MACs and addresses. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/fmt.h"

/* The reference: libc's gmtime_r and strftime. */
static void ref_time(char *out, size_t n, uint64_t ts_us)
{
	time_t s = (time_t)(ts_us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%06uZ", (unsigned)(ts_us % 1000000));
}

static void test_time_fixed(void **state)
{
	(void)state;
	char t[FMT_TIME_LEN];
	fmt_time(t, 0);
	assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
	fmt_time(t, 1768471200000000ull);
	assert_string_equal(t, "2026-01-15T10:00:00.000000Z");
	fmt_time(t, 951825600123456ull);      /* a leap day of a century year */
	assert_string_equal(t, "2000-02-29T12:00:00.123456Z");
	fmt_time(t, 4102444799999999ull);
	assert_string_equal(t, "2099-12-31T23:59:59.999999Z");
}

/* Every day from 1970 to 2100 at a drifting time of day. */
static void test_time_sweep(void **state)
{
	(void)state;
	for (uint64_t t = 0; t < 4102444800ull * 1000000ull; t += 86399ull * 1000000ull + 7777) {
		char a[FMT_TIME_LEN], b[64];
		fmt_time(a, t);
		ref_time(b, sizeof(b), t);
		if (strcmp(a, b) != 0)
			fail_msg("%llu: %s, libc says %s", (unsigned long long)t, a, b);
	}
}

static void test_mac_ip(void **state)
{
	(void)state;
	const uint8_t mac[6] = { 0x24, 0x0a, 0xc4, 0x00, 0xff, 0x01 };
	char m[FMT_MAC_LEN], ip[FMT_IP_LEN];
	fmt_mac(m, mac);
	assert_string_equal(m, "24:0a:c4:00:ff:01");
	uint8_t a[16];
	assert_int_equal(ip_parse("192.168.1.10", a), 0);
	assert_true(ip_is_v4(a));
	fmt_ip(ip, a);
	assert_string_equal(ip, "192.168.1.10");
	assert_int_equal(ip_parse("2001:db8::1", a), 0);
	assert_false(ip_is_v4(a));
	fmt_ip(ip, a);
	assert_string_equal(ip, "2001:db8::1");
	assert_int_not_equal(ip_parse("300.1.1.1", a), 0);
	assert_true(mac_is_group((const uint8_t *)"\x01\x00\x5e\x00\x00\xfb"));
	assert_false(mac_is_group(mac));
}

/* Dotted quads are written by hand: every octet value in every position
 * must read as libc's inet_ntop writes it. */
static void test_ip_v4_all_octets(void **state)
{
	(void)state;
	uint8_t a[16];
	char mine[FMT_IP_LEN], libc[INET_ADDRSTRLEN];
	assert_int_equal(ip_parse("0.0.0.0", a), 0);
	for (int pos = 12; pos < 16; pos++) {
		for (int v = 0; v < 256; v++) {
			for (int i = 12; i < 16; i++)
				a[i] = (uint8_t)(i == pos ? v : 255 - v);
			fmt_ip(mine, a);
			assert_non_null(inet_ntop(AF_INET, a + 12, libc, sizeof(libc)));
			assert_string_equal(mine, libc);
		}
	}
}

/* ip_from_v4() against libc's reading of "::ffff:a.b.c.d", with every
 * value at every octet, writing over a buffer that held other bytes. */
static void test_ip_from_v4(void **state)
{
	(void)state;
	for (int pos = 0; pos < 4; pos++) {
		for (int v = 0; v < 256; v++) {
			uint8_t v4[4], mine[16], ref[16];
			char text[64];
			for (int i = 0; i < 4; i++)
				v4[i] = (uint8_t)(i == pos ? v : 255 - v);
			memset(mine, 0xa5, sizeof(mine));
			ip_from_v4(mine, v4);
			snprintf(text, sizeof(text), "::ffff:%u.%u.%u.%u", v4[0], v4[1], v4[2], v4[3]);
			assert_int_equal(inet_pton(AF_INET6, text, ref), 1);
			assert_memory_equal(mine, ref, 16);
			assert_true(ip_is_v4(mine));
		}
	}
}

/* IPv6 text is written by hand too: every pattern of zero and non-zero
 * groups (where the "::" goes, ties, runs at either end, the IPv4-mapped
 * and -compatible forms) with group values of every digit count must read
 * as libc's inet_ntop writes it. */
static void test_ip_v6_patterns(void **state)
{
	static const uint16_t vals[] = { 0x1, 0xa, 0xff, 0x100, 0xabc, 0x1000, 0xffff, 0xdb8 };
	uint8_t a[16];
	char mine[FMT_IP_LEN], libc[INET6_ADDRSTRLEN];
	(void)state;
	srand(5);
	for (unsigned mask = 0; mask < 256; mask++) {
		for (int round = 0; round < 40; round++) {
			for (int g = 0; g < 8; g++) {
				uint16_t v = (mask >> g & 1) ? vals[rand() % 8] : 0;
				/* Some rounds put ffff in group 5 to meet the mapped form. */
				if (g == 5 && round % 8 == 0 && (mask >> g & 1))
					v = 0xffff;
				a[2 * g] = (uint8_t)(v >> 8);
				a[2 * g + 1] = (uint8_t)v;
			}
			fmt_ip(mine, a);
			assert_non_null(inet_ntop(AF_INET6, a, libc, sizeof(libc)));
			if (ip_is_v4(a)) {
				/* Mapped addresses are written as the bare quad. */
				assert_non_null(inet_ntop(AF_INET, a + 12, libc, sizeof(libc)));
			}
			assert_string_equal(mine, libc);
		}
	}
}

/* Hex digits of either case and nothing else. */
/* The site-local IPv4 ranges, at both edges of each. */
static void test_v4_site_local(void **state)
{
	(void)state;
	static const struct {
		uint8_t b[4];
		int local;
	} cases[] = {
		{ { 10, 0, 0, 0 }, 1 },       { { 10, 255, 255, 255 }, 1 },  { { 11, 0, 0, 0 }, 0 },
		{ { 9, 255, 255, 255 }, 0 },  { { 172, 15, 255, 255 }, 0 },  { { 172, 16, 0, 0 }, 1 },
		{ { 172, 31, 255, 255 }, 1 }, { { 172, 32, 0, 0 }, 0 },      { { 192, 167, 0, 1 }, 0 },
		{ { 192, 168, 0, 1 }, 1 },    { { 192, 169, 0, 1 }, 0 },     { { 100, 63, 255, 255 }, 0 },
		{ { 100, 64, 0, 0 }, 1 },     { { 100, 127, 255, 255 }, 1 }, { { 100, 128, 0, 0 }, 0 },
		{ { 169, 253, 0, 1 }, 0 },    { { 169, 254, 0, 1 }, 1 },     { { 169, 255, 0, 1 }, 0 },
		{ { 127, 0, 0, 1 }, 1 },      { { 8, 8, 8, 8 }, 0 },         { { 0, 0, 0, 0 }, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ip_v4_site_local(cases[i].b) != cases[i].local)
			fail_msg("%u.%u.%u.%u: expected %d", cases[i].b[0], cases[i].b[1],
				 cases[i].b[2], cases[i].b[3], cases[i].local);
}

static void test_hexval(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			   c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		assert_int_equal(fmt_hexval(c), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_fixed),
		cmocka_unit_test(test_time_sweep),
		cmocka_unit_test(test_mac_ip),
		cmocka_unit_test(test_ip_v4_all_octets),
		cmocka_unit_test(test_ip_from_v4),
		cmocka_unit_test(test_ip_v6_patterns),
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_v4_site_local),
	};
	return cmocka_run_group_tests_name("common_fmt", tests, NULL, NULL);
}
