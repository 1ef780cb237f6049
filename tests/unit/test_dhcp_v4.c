/* test_dhcp_v4.c — dhcp4_parse() over hand-built messages: one named case
 * per edge (RFC 2131 §2-4.1, RFC 2132, RFC 3396, RFC 4702, RFC 9463 §5),
 * then a never-read-past-the-end sweep over every prefix of a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dhcp/dhcp.h"

#define IP(a, b, c, d) (uint8_t)(a), (uint8_t)(b), (uint8_t)(c), (uint8_t)(d)
#define B16(x) (uint8_t)((x) >> 8 & 0xff), (uint8_t)((x) & 0xff)
#define MSGMAX 2048
#define NOCHECK 0xff

struct v4_case {
	const char *name;
	const uint8_t *opts;     /* options after the cookie */
	size_t nopts;
	const uint8_t *file;     /* bytes at the start of `file` (overload) */
	size_t nfile;
	const uint8_t *sname;    /* bytes at the start of `sname` */
	size_t nsname;
	int no_cookie;           /* write a wrong cookie */
	size_t cut;              /* when non-zero, the message is this long */
	int rc;
	int anomaly;             /* out->anomaly */
	uint32_t also;           /* anomaly bits that must be set too */
	uint8_t msg_type;
	uint8_t ndns;
	const char *dns[3];      /* dotted quads of the first servers */
	const char *hostname;    /* NULL: not checked */
	uint8_t overload;
};

#define OPT(a) a, sizeof(a)
#define NONE NULL, 0

static const uint8_t o_discover[] = {
	53, 1, 1, 61, 7, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
	12, 6, 'c', 'a', 'm', '-', '0', '1', 60, 5, 'u', 'd', 'h', 'c', 'p',
	55, 4, 1, 3, 6, 15, 255,
};
static const uint8_t o_offer[] = {
	53, 1, 2, 54, 4, IP(192, 168, 1, 1), 51, 4, 0, 0, 0x0e, 0x10,
	1, 4, IP(255, 255, 255, 0), 3, 4, IP(192, 168, 1, 1),
	6, 8, IP(192, 168, 1, 1), IP(9, 9, 9, 9), 255,
};
static const uint8_t o_request[] = {
	53, 1, 3, 50, 4, IP(192, 168, 1, 20), 54, 4, IP(192, 168, 1, 1),
	12, 3, 'c', 'a', 'm', 81, 20, 0x05, 0, 0,
	3, 'c', 'a', 'm', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 255,
};
static const uint8_t o_ack[] = {
	53, 1, 5, 54, 4, IP(192, 168, 1, 1), 6, 8, IP(128, 2, 1, 10), IP(128, 2, 1, 11),
	15, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	161, 24, 'h', 't', 't', 'p', 's', ':', '/', '/', 'm', 'u', 'd', '.', 'e', 'x', '/', 'c',
	'a', 'm', '.', 'j', 's', 'o', 'n', '!', 255,
};
/* Option 52 = 3: option 6 sits in `file`, the host name in `sname`. */
static const uint8_t o_ovl_both[] = { 53, 1, 5, 52, 1, 3, 255 };
static const uint8_t f_dns[] = { 6, 8, IP(10, 0, 0, 1), IP(10, 0, 0, 2), 255 };
static const uint8_t s_host[] = { 12, 4, 'h', 'u', 'b', '1', 255 };
/* Option 6 split between options and file: one value, in field order (RFC 3396 §5). */
static const uint8_t o_ovl_split[] = { 53, 1, 5, 52, 1, 1, 6, 4, IP(10, 0, 0, 1), 255 };
static const uint8_t f_dns_rest[] = { 6, 4, IP(10, 0, 0, 2), 255 };
static const uint8_t o_ovl_sname[] = { 53, 1, 2, 52, 1, 2, 255 };
static const uint8_t o_ovl_loop[] = { 53, 1, 5, 52, 1, 1, 255 };
static const uint8_t f_loop[] = { 52, 1, 3, 6, 4, IP(10, 0, 0, 9), 255 };
static const uint8_t o_ovl_bad[] = { 53, 1, 5, 52, 1, 4, 6, 4, IP(10, 0, 0, 3), 255 };
/* Option 12 as the last byte: its length byte is missing. */
static const uint8_t o_trunc_code[] = { 53, 1, 1, 12 };
/* Option 6 says 8 octets, the message ends after 4. */
static const uint8_t o_len_past[] = { 53, 1, 5, 6, 8, IP(10, 0, 0, 1) };
/* RFC 3396: a code repeated is one value. */
static const uint8_t o_repeat[] = {
	53, 1, 5, 12, 3, 'c', 'a', 'm', 6, 4, IP(10, 0, 0, 1), 12, 3, '-', '0', '1',
	6, 4, IP(10, 0, 0, 2), 255,
};
static const uint8_t o_type_len2[] = { 53, 2, 5, 5, 6, 4, IP(10, 0, 0, 1), 255 };
static const uint8_t o_sid_len3[] = { 53, 1, 5, 54, 3, 10, 0, 0, 255 };
static const uint8_t o_dns_len6[] = { 53, 1, 5, 6, 6, IP(10, 0, 0, 1), 1, 2, 255 };
static const uint8_t o_pad_only[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t o_no_end[] = { 53, 1, 1, 12, 2, 'h', 'i' };
static const uint8_t o_pad_end[] = { 0, 0, 53, 1, 8, 0, 255, 6, 4, IP(1, 1, 1, 1) };
static const uint8_t o_nine_dns[] = {
	53, 1, 5, 6, 36, IP(10, 0, 0, 1), IP(10, 0, 0, 2), IP(10, 0, 0, 3), IP(10, 0, 0, 4),
	IP(10, 0, 0, 5), IP(10, 0, 0, 6), IP(10, 0, 0, 7), IP(10, 0, 0, 8), IP(10, 0, 0, 9), 255,
};
static const uint8_t o_escape[] = { 53, 1, 3, 12, 5, 'a', 0x01, 'b', '\\', 0xff, 255 };
/* Option 162 (RFC 9463 §5.1) with a bad instance length. */
static const uint8_t o_dnr_bad[] = { 53, 1, 5, 162, 4, B16(9), B16(1), 255 };

static const struct v4_case v4_cases[] = {
	{ "discover", OPT(o_discover), NONE, NONE, 0, 0, 0, 0, 0, 1, 0, { 0 }, "cam-01", 0 },
	{ "offer_two_servers", OPT(o_offer), NONE, NONE, 0, 0, 0, 0, 0, 2, 2,
	  { "192.168.1.1", "9.9.9.9" }, "", 0 },
	{ "request", OPT(o_request), NONE, NONE, 0, 0, 0, 0, 0, 3, 0, { 0 }, "cam", 0 },
	{ "ack_two_servers", OPT(o_ack), NONE, NONE, 0, 0, 0, 0, 0, 5, 2,
	  { "128.2.1.10", "128.2.1.11" }, NULL, 0 },
	{ "overload_file_and_sname", OPT(o_ovl_both), OPT(f_dns), OPT(s_host), 0, 0, 0, 0, 0, 5, 2,
	  { "10.0.0.1", "10.0.0.2" }, "hub1", 3 },
	{ "overload_split_option", OPT(o_ovl_split), OPT(f_dns_rest), NONE, 0, 0, 0, 0, 0, 5, 2,
	  { "10.0.0.1", "10.0.0.2" }, NULL, 1 },
	{ "overload_sname_only", OPT(o_ovl_sname), OPT(f_dns), OPT(s_host), 0, 0, 0, 0, 0, 2, 0,
	  { 0 }, "hub1", 2 },
	{ "overload_loop_in_file", OPT(o_ovl_loop), OPT(f_loop), NONE, 0, 0, 0, DHCP_A_OVERLOAD_LOOP, 0,
	  5, 1, { "10.0.0.9" }, NULL, 1 },
	{ "overload_bad_value", OPT(o_ovl_bad), OPT(f_dns), NONE, 0, 0, 0, DHCP_A_OVERLOAD_BAD, 0,
	  5, 1, { "10.0.0.3" }, NULL, 0 },
	{ "truncated_option_no_length", OPT(o_trunc_code), NONE, NONE, 0, 0, 0, DHCP_A_OPT_TRUNC, 0,
	  1, 0, { 0 }, "", 0 },
	{ "option_length_past_end", OPT(o_len_past), NONE, NONE, 0, 0, 0, DHCP_A_OPT_TRUNC, 0,
	  5, 0, { 0 }, NULL, 0 },
	{ "repeated_options_concatenated", OPT(o_repeat), NONE, NONE, 0, 0, 0, 0, 0, 5, 2,
	  { "10.0.0.1", "10.0.0.2" }, "cam-01", 0 },
	{ "msgtype_wrong_length", OPT(o_type_len2), NONE, NONE, 0, 0, 0, DHCP_A_OPT_BAD_LEN, 0,
	  0, 1, { "10.0.0.1" }, NULL, 0 },
	{ "server_id_wrong_length", OPT(o_sid_len3), NONE, NONE, 0, 0, 0, DHCP_A_OPT_BAD_LEN, 0,
	  5, 0, { 0 }, NULL, 0 },
	{ "dns_length_not_multiple_of_4", OPT(o_dns_len6), NONE, NONE, 0, 0, 0, DHCP_A_OPT_BAD_LEN, 0,
	  5, 1, { "10.0.0.1" }, NULL, 0 },
	{ "missing_cookie", OPT(o_ack), NONE, NONE, 1, 0, 0, DHCP_A_NO_COOKIE, 0, 0, 0, { 0 }, "", 0 },
	{ "bootp_no_options", NONE, NONE, NONE, 0, 236, 0, DHCP_A_NO_COOKIE, 0, 0, 0, { 0 }, "", 0 },
	{ "pad_only", OPT(o_pad_only), NONE, NONE, 0, 0, 0, DHCP_A_NO_END, 0, 0, 0, { 0 }, "", 0 },
	{ "no_end_option", OPT(o_no_end), NONE, NONE, 0, 0, 0, DHCP_A_NO_END, 0, 1, 0, { 0 }, "hi", 0 },
	{ "nothing_read_after_end", OPT(o_pad_end), NONE, NONE, 0, 0, 0, 0, 0, 8, 0, { 0 }, NULL, 0 },
	{ "nine_servers_keep_eight", OPT(o_nine_dns), NONE, NONE, 0, 0, 0, 0, 0, 5, 8,
	  { "10.0.0.1", "10.0.0.2", "10.0.0.3" }, NULL, 0 },
	{ "hostname_escaped", OPT(o_escape), NONE, NONE, 0, 0, 0, 0, 0, 3, 0, { 0 },
	  "a\\x01b\\\\\\xff", 0 },
	{ "dnr_instance_length_lies", OPT(o_dnr_bad), NONE, NONE, 0, 0, 0, DHCP_A_DNR_BAD, 0,
	  5, 0, { 0 }, NULL, 0 },
	{ "header_truncated", OPT(o_ack), NONE, NONE, 0, 235, SW_ETRUNC, DHCP_A_HDR_TRUNC, 0,
	  0, 0, { 0 }, NULL, 0 },
};

/* A BOOTREPLY/BOOTREQUEST header (RFC 2131 §2) with chaddr
 * 02:00:5e:10:00:01, then the cookie and the options. */
static size_t v4_build(uint8_t *m, const struct v4_case *c)
{
	memset(m, 0, MSGMAX);
	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	m[4] = 0xde, m[5] = 0xad, m[6] = 0xbe, m[7] = 0xef;
	static const uint8_t mac[] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	memcpy(m + 28, mac, 6);
	if (c->nsname)
		memcpy(m + 44, c->sname, c->nsname);
	if (c->nfile)
		memcpy(m + 108, c->file, c->nfile);
	m[236] = 99, m[237] = 130, m[238] = 83, m[239] = c->no_cookie ? 98 : 99;
	if (c->nopts)
		memcpy(m + 240, c->opts, c->nopts);
	return c->cut ? c->cut : 240 + c->nopts;
}

static void check_addr(const uint8_t *a, const char *want)
{
	unsigned x[4];
	assert_int_equal(sscanf(want, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(a[i], x[i]);
}

static void test_cases(void **state)
{
	(void)state;
	static uint8_t m[MSGMAX];
	static struct dhcp4_info d;
	for (size_t i = 0; i < sizeof(v4_cases) / sizeof(v4_cases[0]); i++) {
		const struct v4_case *c = &v4_cases[i];
		size_t n = v4_build(m, c);
		print_message("case %s\n", c->name);
		/* Exactly sized copy so ASan catches an over-read. */
		uint8_t *buf = malloc(n);
		assert_non_null(buf);
		memcpy(buf, m, n);
		int rc = dhcp4_parse(buf, n, &d);
		free(buf);
		assert_int_equal(rc, c->rc);
		assert_string_equal(dhcp_anomaly_name(d.anomaly), dhcp_anomaly_name(c->anomaly));
		assert_true((d.anomalies & c->also) == c->also);
		if (c->anomaly == 0)
			assert_int_equal(d.anomalies, 0);
		if (rc != 0)
			continue;
		assert_int_equal(d.xid, 0xdeadbeef);
		assert_true(d.has_mac);
		assert_int_equal(d.chaddr[5], 1);
		assert_int_equal(d.msg_type, c->msg_type);
		assert_int_equal(d.ndns, c->ndns);
		for (int k = 0; k < 3 && c->dns[k]; k++)
			check_addr(d.dns[k], c->dns[k]);
		if (c->hostname)
			assert_string_equal(d.hostname, c->hostname);
		assert_int_equal(d.overload, c->overload);
	}
}

/* Fields other than DNS of the DISCOVER/OFFER/REQUEST/ACK cases. */
static void test_dora_fields(void **state)
{
	(void)state;
	static uint8_t m[MSGMAX];
	static struct dhcp4_info d;
	size_t n = v4_build(m, &v4_cases[0]);
	assert_int_equal(dhcp4_parse(m, n, &d), 0);
	assert_true(dhcp_bit(d.prl, 6) && dhcp_bit(d.prl, 15) && !dhcp_bit(d.prl, 2));
	assert_int_equal(d.prl_count, 4);
	assert_string_equal(d.vendor_class, "udhcp");
	assert_int_equal(d.client_id_len, 7);
	assert_int_equal(d.client_id[0], 1);
	assert_int_equal(d.client_id[6], 0x55);
	assert_true(dhcp_bit(d.opt_seen, 61) && !dhcp_bit(d.opt_seen, 6));
	assert_string_equal(dhcp4_msgtype_name(d.msg_type), "DISCOVER");

	n = v4_build(m, &v4_cases[1]);
	assert_int_equal(dhcp4_parse(m, n, &d), 0);
	check_addr(d.server_id, "192.168.1.1");
	check_addr(d.router, "192.168.1.1");
	assert_int_equal(d.nrouters, 1);
	assert_int_equal(d.lease_time, 3600);

	n = v4_build(m, &v4_cases[2]);
	assert_int_equal(dhcp4_parse(m, n, &d), 0);
	check_addr(d.requested_ip, "192.168.1.20");
	assert_int_equal(d.fqdn_flags, 0x05);
	assert_string_equal(d.fqdn, "cam.example.com");

	n = v4_build(m, &v4_cases[3]);
	assert_int_equal(dhcp4_parse(m, n, &d), 0);
	assert_string_equal(d.domain_name, "example");
	assert_string_equal(d.mud_url, "https://mud.ex/cam.json!");
	assert_string_equal(dhcp4_msgtype_name(d.msg_type), "ACK");
	assert_null(dhcp4_msgtype_name(200));
}

/* RFC 4702 §2.3.2: with E clear the name is ASCII; a partial wire name
 * (no root label) is kept as it is. */
static void test_fqdn_encodings(void **state)
{
	(void)state;
	static const uint8_t ascii[] = { 53, 1, 3, 81, 14, 0x01, 0, 0, 'h', 'o', 's', 't', '.', 'l', 'a', 'n', ' ', 'x', 'y', 255 };
	static const uint8_t partial[] = { 53, 1, 3, 81, 8, 0x04, 0, 0, 4, 'c', 'a', 'm', '2', 255 };
	static const uint8_t badname[] = { 53, 1, 3, 81, 6, 0x04, 0, 0, 0xc0, 0x0c, 0, 255 };
	static uint8_t m[MSGMAX];
	static struct dhcp4_info d;
	struct v4_case c = { 0 };

	c.opts = ascii, c.nopts = sizeof(ascii);
	assert_int_equal(dhcp4_parse(m, v4_build(m, &c), &d), 0);
	assert_string_equal(d.fqdn, "host.lan xy");
	assert_int_equal(d.anomalies, 0);

	c.opts = partial, c.nopts = sizeof(partial);
	assert_int_equal(dhcp4_parse(m, v4_build(m, &c), &d), 0);
	assert_string_equal(d.fqdn, "cam2");
	assert_int_equal(d.anomalies, 0);

	c.opts = badname, c.nopts = sizeof(badname);
	assert_int_equal(dhcp4_parse(m, v4_build(m, &c), &d), 0);
	assert_int_equal(d.anomaly, DHCP_A_NAME_BAD);
	assert_true(dhcp_bit(d.opt_bad, 81));
}

/* RFC 9463 §5.1: two instances, one with addresses and SvcParams
 * (alpn dot,doq; port 853; dohpath), one ADN-only. */
static void test_dnr(void **state)
{
	(void)state;
	static const uint8_t o[] = {
		53, 1, 5, 162, 76,
		/* instance 1: length 55 */
		B16(55), B16(1), 17, 3, 'd', 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		8, IP(192, 0, 2, 53), IP(192, 0, 2, 54),
		B16(1), B16(8), 3, 'd', 'o', 't', 3, 'd', 'o', 'q',
		B16(3), B16(2), B16(853),
		B16(7), B16(4), '/', 'd', 'q', '?',
		/* instance 2: length 17, ADN-only */
		B16(17), B16(2), 14, 6, 'r', 'e', 's', 'o', 'l', 'v', 5, 'l', 'o', 'c', 'a', 'l', 0,
		255,
	};
	static uint8_t m[MSGMAX];
	static struct dhcp4_info d;
	struct v4_case c = { 0 };
	c.opts = o, c.nopts = sizeof(o);
	assert_int_equal(dhcp4_parse(m, v4_build(m, &c), &d), 0);
	assert_int_equal(d.anomalies, 0);
	assert_int_equal(d.ndnr, 2);
	assert_int_equal(d.dnr[0].priority, 1);
	assert_string_equal(d.dnr[0].adn, "dns.example.net");
	assert_int_equal(d.dnr[0].family, 4);
	assert_int_equal(d.dnr[0].naddr, 2);
	check_addr(d.dnr[0].addr[1], "192.0.2.54");
	assert_string_equal(d.dnr[0].alpn, "dot,doq");
	assert_true(d.dnr[0].has_port);
	assert_int_equal(d.dnr[0].port, 853);
	assert_string_equal(d.dnr[0].dohpath, "/dq?");
	assert_false(d.dnr[0].adn_only);
	assert_true(d.dnr[1].adn_only);
	assert_string_equal(d.dnr[1].adn, "resolv.local");
	assert_int_equal(d.dnr[1].priority, 2);
}

/* Every prefix of a message with overload and DNR parses without reading
 * past its end (exact-size heap copies under ASan). */
static void test_prefix_sweep(void **state)
{
	(void)state;
	static uint8_t m[MSGMAX];
	static struct dhcp4_info d;
	size_t n = v4_build(m, &v4_cases[4]);
	for (size_t k = 0; k <= n; k++) {
		uint8_t *b = malloc(k ? k : 1);
		assert_non_null(b);
		memcpy(b, m, k);
		int rc = dhcp4_parse(b, k, &d);
		assert_int_equal(rc, k < 236 ? SW_ETRUNC : 0);
		assert_true(d.anomaly < DHCP_A_MAX);
		free(b);
	}
}

static void test_names(void **state)
{
	(void)state;
	for (int a = 0; a < DHCP_A_MAX; a++) {
		const char *s = dhcp_anomaly_name(a);
		assert_non_null(s);
		assert_int_equal(strncmp(s, "dhcp_", 5), 0);
		assert_string_not_equal(s, "dhcp_unknown");
	}
	assert_string_equal(dhcp_anomaly_name(DHCP_A_MAX), "dhcp_unknown");
	assert_string_equal(dhcp_anomaly_name(DHCP_A_OVERLOAD_LOOP), "dhcp_overload_loop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_dora_fields),
		cmocka_unit_test(test_fqdn_encodings),
		cmocka_unit_test(test_dnr),
		cmocka_unit_test(test_prefix_sweep),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
