/* test_detect_integrity.c — the integrity module's judges of addresses and
 * names: special-purpose ranges (RFC 6890), local names (RFC 6761, RFC
 * 8375), registered domains, label entropy and length (exfil.suspect-names).
 * Table-driven, one named case per edge.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/fmt.h"
#include "detect/integrity.h"

static void test_special_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		int v6;
		const char *range;  /* NULL: an ordinary address */
		int priv;
	} cases[] = {
		{ "0.0.0.0", 0, "0.0.0.0/8", 0 },
		{ "127.0.0.1", 0, "127.0.0.0/8", 0 },
		{ "169.254.1.1", 0, "169.254.0.0/16", 0 },
		{ "192.0.2.7", 0, "192.0.2.0/24", 0 },
		{ "198.51.100.1", 0, "198.51.100.0/24", 0 },
		{ "203.0.113.9", 0, "203.0.113.0/24", 0 },
		{ "240.0.0.1", 0, "240.0.0.0/4", 0 },
		{ "255.255.255.255", 0, "240.0.0.0/4", 0 },
		{ "10.1.2.3", 0, "10.0.0.0/8", 1 },
		{ "172.31.255.1", 0, "172.16.0.0/12", 1 },
		{ "172.32.0.1", 0, NULL, 0 },          /* just past 172.16/12 */
		{ "192.168.0.1", 0, "192.168.0.0/16", 1 },
		{ "93.184.216.34", 0, NULL, 0 },
		{ "8.8.8.8", 0, NULL, 0 },
		{ "::", 1, "::/128", 0 },
		{ "::1", 1, "::1/128", 0 },
		{ "2001:db8::1", 1, "2001:db8::/32", 0 },
		{ "2001:db9::1", 1, NULL, 0 },
		{ "fd00::1", 1, "fc00::/7", 1 },
		{ "fe80::1", 1, "fe80::/10", 0 },
		{ "::ffff:1.2.3.4", 1, "::ffff:0:0/96", 0 }, /* a mapped address in an AAAA */
		{ "2606:4700::1111", 1, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t ip[16];
		assert_int_equal(ip_parse(cases[i].ip, ip), 0);
		int priv = -1;
		const char *r = integ_special_range(ip, cases[i].v6, &priv);
		if (cases[i].range == NULL) {
			if (r != NULL)
				fail_msg("%s: %s, expected none", cases[i].ip, r);
		} else {
			if (r == NULL || strcmp(r, cases[i].range) != 0)
				fail_msg("%s: %s, expected %s", cases[i].ip, r ? r : "none", cases[i].range);
		}
		assert_int_equal(priv, cases[i].priv);
	}
}

static void test_local_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int local;
	} cases[] = {
		{ "printer", 1 },                 /* single label */
		{ "cam.local", 1 },
		{ "nas.home.arpa", 1 },
		{ "1.1.168.192.in-addr.arpa", 1 },
		{ "router.lan", 1 },
		{ "fritz.box", 1 },
		{ "localhost", 1 },
		{ "a.localhost", 1 },
		{ "api.vendor.com", 0 },
		{ "local.vendor.com", 0 },        /* "local" not as the top label */
		{ "lan", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (integ_local_name(cases[i].name, strlen(cases[i].name)) != cases[i].local)
			fail_msg("%s: expected local=%d", cases[i].name, cases[i].local);
}

static void test_registered_domain(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *reg;  /* NULL: none */
	} cases[] = {
		{ "www.example.com", "example.com" },
		{ "example.com", "example.com" },
		{ "a.b.c.example.com", "example.com" },
		{ "time.ntp-vendor.co.uk", "ntp-vendor.co.uk" },
		{ "ntp-vendor.co.uk", "ntp-vendor.co.uk" },
		{ "co.uk", NULL },
		{ "www.gov.br", "www.gov.br" },  /* gov.br is the suffix: www is registered under it */
		{ "x.portal.gov.br", "portal.gov.br" },
		{ "com", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;
		long off = integ_registered_domain(n, strlen(n));
		if (cases[i].reg == NULL) {
			if (off >= 0)
				fail_msg("%s: %s, expected none", n, n + off);
			continue;
		}
		if (off < 0 || strcmp(n + off, cases[i].reg) != 0)
			fail_msg("%s: %s, expected %s", n, off < 0 ? "none" : n + off, cases[i].reg);
	}
}

static void test_entropy_and_labels(void **state)
{
	(void)state;
	/* Uniform over 32 symbols, each once: exactly 5 bits per character. */
	const char *b32 = "abcdefghijklmnopqrstuvwxyz234567";
	assert_true(fabs(integ_entropy(b32, strlen(b32)) - 5.0) < 1e-9);
	/* Dots are left out: "aa.bb" is two symbols, each half: 1 bit. */
	assert_true(fabs(integ_entropy("aa.bb", 5) - 1.0) < 1e-9);
	assert_true(integ_entropy("", 0) == 0);
	/* Sixteen hex nibbles cannot pass 4 bits: ip6.arpa names never do. */
	const char *hex = "0123456789abcdef0123456789abcdef";
	assert_true(integ_entropy(hex, strlen(hex)) <= 4.0 + 1e-9);
	assert_int_equal(integ_longest_label("abc.defgh.i", 11), 5);
	assert_int_equal(integ_longest_label("", 0), 0);
	/* A \DDD escape is one octet. */
	assert_int_equal(integ_longest_label("a\\001b", 6), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_special_ranges),
		cmocka_unit_test(test_local_names),
		cmocka_unit_test(test_registered_domain),
		cmocka_unit_test(test_entropy_and_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
