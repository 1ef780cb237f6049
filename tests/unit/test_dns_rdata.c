/* test_dns_rdata.c — dns_rdata_text() per type over hand-built RDATA, one
 * named case each (RFC 1035 §3.3, RFC 3596, RFC 2782, RFC 4034, RFC 8659,
 * RFC 9460, RFC 3597 for the rest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dns/dns.h"

#define B16(x) (uint8_t)((x) >> 8 & 0xff), (uint8_t)((x) & 0xff)
#define B32(x) B16((x) >> 16), B16((x) & 0xffff)
#define PTR_Q 0xc0, 0x0c   /* "example.com", the question name */
#define MAXRD 512

struct rdata_case {
	const char *name;
	uint16_t type;
	const uint8_t *rd;
	uint16_t rdlen;
	const char *text;
};

#define RD(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static struct rdata_case rdata_cases[] = {
	{ "a", 1, RD(192, 0, 2, 1), "192.0.2.1" },
	{ "a_rdlen_5", 1, RD(192, 0, 2, 1, 0), "\\# 5 C000020100" },
	{ "aaaa", 28, RD(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), "2001:db8::1" },
	{ "aaaa_rdlen_4", 28, RD(1, 2, 3, 4), "\\# 4 01020304" },
	{ "cname", 5, RD(3, 'w', 'w', 'w', PTR_Q), "www.example.com" },
	{ "cname_lowered", 5, RD(3, 'C', 'D', 'N', 0), "cdn" },
	{ "cname_root", 5, RD(0), "." },
	{ "cname_past_rdlen", 5, RD(3, 'w', 'w'), "\\# 3 037777" },
	{ "cname_trailing_byte", 5, RD(PTR_Q, 7), "\\# 3 C00C07" },
	{ "ns", 2, RD(3, 'n', 's', '1', PTR_Q), "ns1.example.com" },
	{ "ptr", 12, RD(PTR_Q), "example.com" },
	{ "dname", 39, RD(PTR_Q), "example.com" },
	{ "mx", 15, RD(B16(10), 4, 'm', 'a', 'i', 'l', PTR_Q), "10 mail.example.com" },
	{ "txt_two_strings", 16, RD(6, 'v', '=', 's', 'p', 'f', '1', 4, 'a', '"', '\\', 1),
	  "\"v=spf1\" \"a\\\"\\\\\\001\"" },
	{ "txt_empty_string", 16, RD(0), "\"\"" },
	{ "txt_string_past_rdlen", 16, RD(5, 'a'), "\\# 2 0561" },
	{ "hinfo", 13, RD(3, 'A', 'R', 'M', 5, 'L', 'i', 'n', 'u', 'x'), "\"ARM\" \"Linux\"" },
	{ "soa", 6, RD(3, 'n', 's', '1', PTR_Q, 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r',
		       PTR_Q, B32(2024010101), B32(7200), B32(3600), B32(1209600), B32(300)),
	  "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300" },
	{ "soa_short", 6, RD(PTR_Q, PTR_Q, B32(1), B32(2)), "\\# 12 C00CC00C0000000100000002" },
	{ "srv", 33, RD(B16(0), B16(5), B16(5060), 3, 's', 'i', 'p', PTR_Q), "0 5 5060 sip.example.com" },
	{ "https_alias", 65, RD(B16(0), 3, 's', 'v', 'c', PTR_Q), "0 svc.example.com" },
	{ "https_service", 65, RD(B16(1), 0,
		B16(0), B16(2), B16(1),
		B16(1), B16(6), 2, 'h', '2', 2, 'h', '3',
		B16(2), B16(0),
		B16(3), B16(2), B16(8443),
		B16(4), B16(8), 192, 0, 2, 1, 192, 0, 2, 2,
		B16(5), B16(3), 1, 2, 3,
		B16(6), B16(16), 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		B16(65000), B16(2), 0xca, 0xfe),
	  "1 . mandatory=alpn alpn=h2,h3 no-default-alpn port=8443 "
	  "ipv4hint=192.0.2.1,192.0.2.2 ech=AQID ipv6hint=2001:db8::1 key65000=CAFE" },
	{ "svcb_alpn_comma_escaped", 64, RD(B16(1), PTR_Q, B16(1), B16(4), 3, 'a', ',', 'b'),
	  "1 example.com alpn=a\\,b" },
	{ "svcb_key_no_value", 64, RD(B16(1), 0, B16(9), B16(0)), "1 . key9" },
	{ "svcb_keys_out_of_order", 64, RD(B16(1), 0, B16(3), B16(2), B16(443), B16(1), B16(3), 2, 'h', '2'),
	  "\\# 16 0001000003000201BB00010003026832" },
	{ "svcb_port_len_3", 64, RD(B16(1), 0, B16(3), B16(3), 1, 2, 3), "\\# 10 00010000030003010203" },
	{ "svcb_param_past_rdlen", 64, RD(B16(1), 0, B16(3), B16(9), 1), "\\# 8 0001000003000901" },
	{ "ds", 43, RD(B16(12345), 13, 2, 0xab, 0xcd, 0xef), "12345 13 2 ABCDEF" },
	{ "dnskey", 48, RD(B16(257), 3, 13, 1, 2, 3, 4), "257 3 13 AQIDBA==" },
	{ "dnskey_b64_pad1", 48, RD(B16(256), 3, 8, 1, 2, 3, 4, 5), "256 3 8 AQIDBAU=" },
	{ "rrsig", 46, RD(B16(1), 13, 2, B32(300), B32(1704067200), B32(1701388800), B16(4242),
			  PTR_Q, 1, 2, 3),
	  "A 13 2 300 20240101000000 20231201000000 4242 example.com AQID" },
	{ "nsec", 47, RD(4, 'h', 'o', 's', 't', PTR_Q, 0, 6, 0x40, 0x01, 0, 0, 0, 0x03, 4, 1, 0x20),
	  "host.example.com A MX RRSIG NSEC TYPE1026" },
	{ "caa", 257, RD(0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a', '.', 'o', 'r', 'g'), "0 issue \"ca.org\"" },
	{ "caa_bad_tag", 257, RD(0, 2, 'a', '-', 'x'), "\\# 5 0002612D78" },
	{ "naptr", 35, RD(B16(100), B16(10), 1, 'u', 7, 'E', '2', 'U', '+', 's', 'i', 'p', 3, '!', 'x', '!', 0),
	  "100 10 \"u\" \"E2U+sip\" \"!x!\" ." },
	{ "unknown_type", 65280, RD(1, 2, 3), "\\# 3 010203" },
	{ "unknown_type_empty", 65280, NULL, 0, "\\# 0" },
};

/* Header, question "example.com A IN", one answer of the case's RDATA. */
static size_t build(uint8_t *out, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	const uint8_t head[] = {
		B16(1), B16(0x8180), B16(1), B16(1), B16(0), B16(0),
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, B16(1), B16(1),
		PTR_Q, B16(type), B16(1), B32(60), B16(rdlen),
	};
	memcpy(out, head, sizeof(head));
	if (rdlen)
		memcpy(out + sizeof(head), rd, rdlen);
	return sizeof(head) + rdlen;
}

static void run_rdata_case(void **state)
{
	const struct rdata_case *c = *state;
	uint8_t tmp[64 + MAXRD];
	static struct dns_msg m;
	char out[1024];

	size_t len = build(tmp, c->type, c->rd, c->rdlen);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, tmp, len);
	assert_int_equal(dns_parse(buf, len, &m), 0);
	assert_int_equal(m.nrr, 1);
	assert_int_equal(m.rr[0].type, c->type);
	int rc = dns_rdata_text(&m, &m.rr[0], out, sizeof(out));
	assert_int_equal(rc, (int)strlen(c->text));
	assert_string_equal(out, c->text);
	/* One byte short of room: SW_EFULL, still a C string. */
	char *small = malloc((size_t)rc);
	assert_non_null(small);
	if (rc > 0) {
		assert_int_equal(dns_rdata_text(&m, &m.rr[0], small, (size_t)rc), SW_EFULL);
		assert_true(strlen(small) < (size_t)rc);
	}
	free(small);
	free(buf);
}

static void test_rr_outside_message(void **state)
{
	uint8_t buf[64 + MAXRD];
	static struct dns_msg m;
	char out[64];
	(void)state;
	size_t len = build(buf, 1, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
	assert_int_equal(dns_parse(buf, len, &m), 0);
	struct dns_rr rr = m.rr[0];
	rr.rdlen = 200;
	assert_int_equal(dns_rdata_text(&m, &rr, out, sizeof(out)), SW_EINVAL);
	assert_int_equal(dns_rdata_text(&m, &m.rr[0], out, 0), SW_EFULL);
}

#define NCASES (sizeof(rdata_cases) / sizeof(rdata_cases[0]))

int main(void)
{
	static struct CMUnitTest tests[NCASES + 1];
	for (size_t i = 0; i < NCASES; i++) {
		tests[i].name = rdata_cases[i].name;
		tests[i].test_func = run_rdata_case;
		tests[i].initial_state = &rdata_cases[i];
	}
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(test_rr_outside_message);
	return cmocka_run_group_tests_name("dns_rdata", tests, NULL, NULL);
}
