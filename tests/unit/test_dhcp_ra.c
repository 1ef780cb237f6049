/* test_dhcp_ra.c — ra_parse() over built Router Advertisement bodies: one
 * named case per edge (RFC 4861 §4.2, §4.6; RFC 8106 §5; RFC 4191 §2.3;
 * RFC 9463 §6.1), then a prefix sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dhcp/dhcp.h"
#include "test_dhcp_util.h"

struct ra_case {
	const char *name;
	void (*build)(struct tw *w);
	int rc;
	int anomaly;
	uint8_t nrdnss;
	const char *rdnss[2];
	uint8_t ndnssl;
	const char *dnssl[2];
	uint8_t nprefix;
};

/* RFC 4861 §4.2 after type, code, checksum: hop limit 64, M and O set,
 * lifetime 1800 s, reachable 30000 ms, retrans 1000 ms. */
static void ra_hdr(struct tw *w)
{
	tw_u8(w, 64);
	tw_u8(w, 0xc0);
	tw_u16(w, 1800);
	tw_u32(w, 30000);
	tw_u32(w, 1000);
}

static void opt_slla(struct tw *w)
{
	struct tw v = { .n = 0 };
	const uint8_t mac[] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01 };
	tw_bytes(&v, mac, 6);
	tw_opt_nd(w, 1, &v);
}

static void opt_rdnss(struct tw *w, uint32_t life, const char *a, const char *b)
{
	struct tw v = { .n = 0 };
	tw_u16(&v, 0);
	tw_u32(&v, life);
	tw_ip6(&v, a);
	if (b)
		tw_ip6(&v, b);
	tw_opt_nd(w, 25, &v);
}

static void opt_prefix(struct tw *w)
{
	struct tw v = { .n = 0 };
	tw_u8(&v, 64);
	tw_u8(&v, 0xc0);
	tw_u32(&v, 86400);
	tw_u32(&v, 14400);
	tw_u32(&v, 0);
	tw_ip6(&v, "2001:db8:1::");
	tw_opt_nd(w, 3, &v);
}

static void b_full(struct tw *w)
{
	ra_hdr(w);
	opt_slla(w);
	opt_prefix(w);
	struct tw v = { .n = 0 };
	tw_u16(&v, 0);
	tw_u32(&v, 1500);
	tw_opt_nd(w, 5, &v);
	opt_rdnss(w, 600, "2001:db8:1::53", "2001:db8:2::53");
	v.n = 0;
	tw_u16(&v, 0);
	tw_u32(&v, 1200);
	tw_name(&v, "home.arpa");
	tw_name(&v, "corp.example");
	tw_opt_nd(w, 31, &v);
	v.n = 0;                 /* Route Information, RFC 4191 §2.3 */
	tw_u8(&v, 48);
	tw_u8(&v, 0x08);
	tw_u32(&v, 900);
	tw_bytes(&v, "\x20\x01\x0d\xb8\xff\x00\x00\x00", 8);
	tw_opt_nd(w, 24, &v);
}

static void b_len_zero(struct tw *w)
{
	ra_hdr(w);
	opt_rdnss(w, 600, "2001:db8:1::53", NULL);
	tw_u8(w, 3);
	tw_u8(w, 0);
	tw_bytes(w, "\0\0\0\0\0\0", 6);
	opt_rdnss(w, 600, "2001:db8:9::53", NULL);
}

static void b_opt_trunc(struct tw *w)
{
	ra_hdr(w);
	opt_rdnss(w, 600, "2001:db8:1::53", NULL);
	opt_rdnss(w, 600, "2001:db8:2::53", NULL);
	w->n -= 4;
}

static void b_stray_byte(struct tw *w)
{
	ra_hdr(w);
	opt_slla(w);
	tw_u8(w, 25);
}

/* RFC 8106 §5.1: RDNSS Length is at least 3. */
static void b_rdnss_short(struct tw *w)
{
	ra_hdr(w);
	struct tw v = { .n = 0 };
	tw_u16(&v, 0);
	tw_u32(&v, 600);
	tw_opt_nd(w, 25, &v);
}

static void b_dnssl_bad_label(struct tw *w)
{
	ra_hdr(w);
	struct tw v = { .n = 0 };
	tw_u16(&v, 0);
	tw_u32(&v, 600);
	tw_name(&v, "ok.lan");
	tw_u8(&v, 0xe2);       /* a 226-octet label: no such thing */
	tw_bytes(&v, "www", 3);
	tw_opt_nd(w, 31, &v);
}

static void b_prefix_bad_len(struct tw *w)
{
	ra_hdr(w);
	struct tw v = { .n = 0 };
	tw_u8(&v, 64);
	tw_u8(&v, 0xc0);
	tw_opt_nd(w, 3, &v);
	opt_rdnss(w, 10, "fd00::53", NULL);
}

static void b_hdr_short(struct tw *w)
{
	tw_u8(w, 64);
	tw_u8(w, 0);
	tw_u16(w, 0);
	tw_u32(w, 0);
}

static void b_many_rdnss(struct tw *w)
{
	ra_hdr(w);
	for (int i = 0; i < 5; i++)
		opt_rdnss(w, 600, "2001:db8:1::53", "2001:db8:2::53");
}

static const struct ra_case ra_cases[] = {
	{ "rdnss_dnssl_prefix", b_full, 0, 0, 2, { "2001:db8:1::53", "2001:db8:2::53" },
	  2, { "home.arpa", "corp.example" }, 1 },
	{ "option_length_zero_stops", b_len_zero, 0, DHCP_A_RA_LEN_ZERO, 1, { "2001:db8:1::53" },
	  0, { 0 }, 0 },
	{ "option_truncated", b_opt_trunc, 0, DHCP_A_OPT_TRUNC, 1, { "2001:db8:1::53" }, 0, { 0 }, 0 },
	{ "stray_byte_after_options", b_stray_byte, 0, DHCP_A_OPT_TRUNC, 0, { 0 }, 0, { 0 }, 0 },
	{ "rdnss_too_short", b_rdnss_short, 0, DHCP_A_OPT_BAD_LEN, 0, { 0 }, 0, { 0 }, 0 },
	{ "dnssl_bad_label", b_dnssl_bad_label, 0, DHCP_A_NAME_BAD, 0, { 0 }, 1, { "ok.lan" }, 0 },
	{ "prefix_info_wrong_length", b_prefix_bad_len, 0, DHCP_A_OPT_BAD_LEN, 1, { "fd00::53" },
	  0, { 0 }, 0 },
	{ "header_truncated", b_hdr_short, SW_ETRUNC, DHCP_A_HDR_TRUNC, 0, { 0 }, 0, { 0 }, 0 },
	{ "ten_rdnss_keep_eight", b_many_rdnss, 0, 0, DHCP_DNS_MAX, { "2001:db8:1::53", "2001:db8:2::53" },
	  0, { 0 }, 0 },
};

static void check_ip6(const uint8_t *a, const char *want)
{
	uint8_t x[16];
	assert_int_equal(inet_pton(AF_INET6, want, x), 1);
	assert_memory_equal(a, x, 16);
}

static void test_cases(void **state)
{
	(void)state;
	static struct tw w;
	static struct ra_info ra;
	for (size_t i = 0; i < sizeof(ra_cases) / sizeof(ra_cases[0]); i++) {
		const struct ra_case *c = &ra_cases[i];
		print_message("case %s\n", c->name);
		w.n = 0;
		c->build(&w);
		uint8_t *buf = malloc(w.n);
		assert_non_null(buf);
		memcpy(buf, w.b, w.n);
		int rc = ra_parse(buf, w.n, &ra);
		free(buf);
		assert_int_equal(rc, c->rc);
		assert_string_equal(dhcp_anomaly_name(ra.anomaly), dhcp_anomaly_name(c->anomaly));
		if (c->anomaly == 0)
			assert_int_equal(ra.anomalies, 0);
		assert_int_equal(ra.nrdnss, c->nrdnss);
		for (int k = 0; k < c->nrdnss && k < 2; k++)
			check_ip6(ra.rdnss[k].addr, c->rdnss[k]);
		assert_int_equal(ra.ndnssl, c->ndnssl);
		for (int k = 0; k < c->ndnssl && k < 2; k++)
			assert_string_equal(ra.dnssl[k].name, c->dnssl[k]);
		assert_int_equal(ra.nprefix, c->nprefix);
	}
}

static void test_fields(void **state)
{
	(void)state;
	static struct tw w;
	static struct ra_info ra;
	w.n = 0;
	b_full(&w);
	assert_int_equal(ra_parse(w.b, w.n, &ra), 0);
	assert_int_equal(ra.cur_hop_limit, 64);
	assert_true(ra.flags & RA_F_MANAGED);
	assert_true(ra.flags & RA_F_OTHER);
	assert_int_equal(ra.router_lifetime, 1800);
	assert_int_equal(ra.reachable, 30000);
	assert_int_equal(ra.retrans, 1000);
	assert_true(ra.has_slla);
	assert_int_equal(ra.slla[5], 1);
	assert_true(ra.has_mtu);
	assert_int_equal(ra.mtu, 1500);
	assert_int_equal(ra.prefix[0].len, 64);
	assert_int_equal(ra.prefix[0].flags, 0xc0);
	assert_int_equal(ra.prefix[0].valid, 86400);
	assert_int_equal(ra.prefix[0].preferred, 14400);
	check_ip6(ra.prefix[0].prefix, "2001:db8:1::");
	assert_int_equal(ra.rdnss[1].lifetime, 600);
	assert_int_equal(ra.dnssl[1].lifetime, 1200);
	assert_int_equal(ra.nroute, 1);
	assert_int_equal(ra.route[0].len, 48);
	assert_int_equal(ra.route[0].prf, 1);
	assert_int_equal(ra.route[0].lifetime, 900);
	check_ip6(ra.route[0].prefix, "2001:db8:ff00::");

	w.n = 0;
	b_many_rdnss(&w);
	assert_int_equal(ra_parse(w.b, w.n, &ra), 0);
	assert_int_equal(ra.rdnss_dropped, 2);
}

/* RFC 9463 §6.1: an Encrypted DNS option with addresses and SvcParams
 * (alpn doq, port 853), and an ADN-only one (Addr Length 0). */
static void test_dnr(void **state)
{
	(void)state;
	static struct tw w;
	static struct ra_info ra;
	struct tw v = { .n = 0 }, adn = { .n = 0 }, sp = { .n = 0 };

	tw_name(&adn, "dns.example.org");
	w.n = 0;
	ra_hdr(&w);
	tw_u16(&v, 5);
	tw_u32(&v, 3600);
	tw_u16(&v, (unsigned)adn.n);
	tw_bytes(&v, adn.b, adn.n);
	tw_u16(&v, 16);
	tw_ip6(&v, "2001:db8::35");
	tw_u16(&sp, 1);
	tw_u16(&sp, 4);
	tw_u8(&sp, 3);
	tw_bytes(&sp, "doq", 3);
	tw_u16(&sp, 3);
	tw_u16(&sp, 2);
	tw_u16(&sp, 853);
	tw_u16(&v, (unsigned)sp.n);
	tw_bytes(&v, sp.b, sp.n);
	tw_opt_nd(&w, 144, &v);
	v.n = 0;
	tw_u16(&v, 6);
	tw_u32(&v, 60);
	tw_u16(&v, (unsigned)adn.n);
	tw_bytes(&v, adn.b, adn.n);
	tw_opt_nd(&w, 144, &v);
	/* ADN length that runs past the option. */
	v.n = 0;
	tw_u16(&v, 7);
	tw_u32(&v, 60);
	tw_u16(&v, 200);
	tw_bytes(&v, adn.b, adn.n);
	tw_opt_nd(&w, 144, &v);

	assert_int_equal(ra_parse(w.b, w.n, &ra), 0);
	assert_int_equal(ra.anomaly, DHCP_A_DNR_BAD);
	assert_int_equal(ra.ndnr, 2);
	assert_int_equal(ra.dnr[0].priority, 5);
	assert_int_equal(ra.dnr[0].lifetime, 3600);
	assert_string_equal(ra.dnr[0].adn, "dns.example.org");
	assert_int_equal(ra.dnr[0].naddr, 1);
	check_ip6(ra.dnr[0].addr[0], "2001:db8::35");
	assert_string_equal(ra.dnr[0].alpn, "doq");
	assert_int_equal(ra.dnr[0].port, 853);
	assert_true(ra.dnr[1].adn_only);
	assert_int_equal(ra.dnr[1].lifetime, 60);
}

static void test_prefix_sweep(void **state)
{
	(void)state;
	static struct tw w;
	static struct ra_info ra;
	w.n = 0;
	b_full(&w);
	for (size_t k = 0; k <= w.n; k++) {
		uint8_t *b = malloc(k ? k : 1);
		assert_non_null(b);
		memcpy(b, w.b, k);
		int rc = ra_parse(b, k, &ra);
		assert_int_equal(rc, k < 12 ? SW_ETRUNC : 0);
		assert_true(ra.nrdnss <= DHCP_DNS_MAX && ra.anomaly < DHCP_A_MAX);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_dnr),
		cmocka_unit_test(test_prefix_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
