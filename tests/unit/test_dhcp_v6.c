/* test_dhcp_v6.c — dhcp6_parse() over built messages: one named case per
 * edge (RFC 8415 §8-9 and §21, RFC 3646, RFC 4704, RFC 8520, RFC 9463 §4),
 * relay chains at and past the cap, and a prefix sweep.
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

struct v6_case {
	const char *name;
	void (*build)(struct tw *w);
	int rc;
	int anomaly;
	uint8_t msg_type;
	uint8_t relay_depth;
	uint8_t ndns;
	const char *dns[2];
	uint8_t nsearch;
	const char *search[2];
	uint8_t naddr;
};

static void hdr(struct tw *w, unsigned type, uint32_t xid)
{
	tw_u8(w, type);
	tw_u8(w, xid >> 16 & 0xff);
	tw_u16(w, xid & 0xffff);
}

static void opt_duid(struct tw *w, unsigned code, uint8_t last)
{
	struct tw v = { .n = 0 };
	tw_u16(&v, 3);          /* DUID-LL, RFC 8415 §11.4 */
	tw_u16(&v, 1);
	const uint8_t mac[] = { 0x02, 0x00, 0x5e, 0x10, 0x00, last };
	tw_bytes(&v, mac, 6);
	tw_opt6(w, code, &v);
}

static void opt_dns(struct tw *w, const char *a, const char *b)
{
	struct tw v = { .n = 0 };
	tw_ip6(&v, a);
	if (b)
		tw_ip6(&v, b);
	tw_opt6(w, 23, &v);
}

static void b_reply(struct tw *w)
{
	hdr(w, 7, 0x123456);
	opt_duid(w, 1, 1);
	opt_duid(w, 2, 0xfe);
	opt_dns(w, "2001:db8::53", "2001:db8:1::53");
	struct tw v = { .n = 0 };
	tw_name(&v, "home.arpa");
	tw_name(&v, "example.com");
	tw_opt6(w, 24, &v);
}

static void advertise(struct tw *w)
{
	hdr(w, 2, 0xabcdef);
	opt_duid(w, 1, 1);
	opt_dns(w, "fd00::1", NULL);
}

static void relay(struct tw *w, unsigned type, const struct tw *inner, int with_msg)
{
	tw_u8(w, type);
	tw_u8(w, 0);
	tw_ip6(w, "2001:db8:ffff::1");
	tw_ip6(w, "fe80::1234");
	struct tw ifid = { .n = 0 };
	tw_bytes(&ifid, "eth0", 4);
	tw_opt6(w, 18, &ifid);   /* Interface-Id, §21.18 */
	if (with_msg)
		tw_opt6(w, 9, inner);
}

static void b_relay_repl(struct tw *w)
{
	struct tw in = { .n = 0 };
	advertise(&in);
	relay(w, 13, &in, 1);
}

static void b_relay_no_msg(struct tw *w)
{
	relay(w, 12, NULL, 0);
}

/* `layers` Relay-forw around a Solicit. */
static void relay_chain(struct tw *w, int layers)
{
	static struct tw a, b;
	a.n = 0;
	hdr(&a, 1, 0x000042);
	opt_duid(&a, 1, 7);
	for (int i = 0; i < layers; i++) {
		b.n = 0;
		relay(&b, 12, &a, 1);
		a = b;
	}
	*w = a;
}

static void b_relay_at_cap(struct tw *w)
{
	relay_chain(w, DHCP6_RELAY_MAX);
}

static void b_relay_past_cap(struct tw *w)
{
	relay_chain(w, DHCP6_RELAY_MAX + 1);
}

/* IA_NA (§21.4) holding two IA Address options (§21.6), one of them with a
 * Status Code option nested inside. */
static void b_ia_na(struct tw *w)
{
	hdr(w, 7, 1);
	struct tw ia = { .n = 0 }, a1 = { .n = 0 }, a2 = { .n = 0 }, st = { .n = 0 };
	tw_u32(&ia, 77);
	tw_u32(&ia, 1800);
	tw_u32(&ia, 2880);
	tw_ip6(&a1, "2001:db8::100");
	tw_u32(&a1, 3600);
	tw_u32(&a1, 7200);
	tw_u16(&st, 0);
	tw_bytes(&st, "ok", 2);
	tw_opt6(&a1, 13, &st);
	tw_opt6(&ia, 5, &a1);
	tw_ip6(&a2, "2001:db8::101");
	tw_u32(&a2, 10);
	tw_u32(&a2, 20);
	tw_opt6(&ia, 5, &a2);
	tw_opt6(w, 3, &ia);
}

static void b_opt_past_end(struct tw *w)
{
	hdr(w, 7, 2);
	opt_dns(w, "2001:db8::53", NULL);
	tw_u16(w, 24);
	tw_u16(w, 40);
	tw_name(w, "short");
}

static void b_dns_bad_len(struct tw *w)
{
	hdr(w, 7, 3);
	struct tw v = { .n = 0 };
	tw_ip6(&v, "2001:db8::53");
	tw_u32(&v, 0);
	tw_opt6(w, 23, &v);
}

/* RFC 8415 §10: names in options are not compressed. */
static void b_search_pointer(struct tw *w)
{
	hdr(w, 7, 4);
	struct tw v = { .n = 0 };
	tw_name(&v, "lan");
	tw_u8(&v, 0xc0);
	tw_u8(&v, 0);
	tw_opt6(w, 24, &v);
}

static void b_short(struct tw *w)
{
	tw_u8(w, 7);
	tw_u8(w, 1);
}

static void b_relay_short(struct tw *w)
{
	struct tw in = { .n = 0 };
	b_short(&in);
	relay(w, 13, &in, 1);
}

static const struct v6_case v6_cases[] = {
	{ "reply_dns_and_search", b_reply, 0, 0, 7, 0, 2, { "2001:db8::53", "2001:db8:1::53" },
	  2, { "home.arpa", "example.com" }, 0 },
	{ "relay_repl_wraps_advertise", b_relay_repl, 0, 0, 2, 1, 1, { "fd00::1" }, 0, { 0 }, 0 },
	{ "relay_without_relay_message", b_relay_no_msg, 0, DHCP_A_RELAY_NO_MSG, 12, 1, 0, { 0 }, 0, { 0 }, 0 },
	{ "relay_chain_at_cap", b_relay_at_cap, 0, 0, 1, DHCP6_RELAY_MAX, 0, { 0 }, 0, { 0 }, 0 },
	{ "relay_chain_past_cap", b_relay_past_cap, 0, DHCP_A_RELAY_DEEP, 12, DHCP6_RELAY_MAX, 0, { 0 },
	  0, { 0 }, 0 },
	{ "nested_ia_na", b_ia_na, 0, 0, 7, 0, 0, { 0 }, 0, { 0 }, 2 },
	{ "option_length_past_end", b_opt_past_end, 0, DHCP_A_OPT_TRUNC, 7, 0, 1, { "2001:db8::53" },
	  0, { 0 }, 0 },
	{ "dns_length_not_multiple_of_16", b_dns_bad_len, 0, DHCP_A_OPT_BAD_LEN, 7, 0, 1,
	  { "2001:db8::53" }, 0, { 0 }, 0 },
	{ "search_list_compressed", b_search_pointer, 0, DHCP_A_NAME_BAD, 7, 0, 0, { 0 }, 1, { "lan" }, 0 },
	{ "header_truncated", b_short, SW_ETRUNC, DHCP_A_HDR_TRUNC, 0, 0, 0, { 0 }, 0, { 0 }, 0 },
	{ "relayed_header_truncated", b_relay_short, 0, DHCP_A_HDR_TRUNC, 13, 1, 0, { 0 }, 0, { 0 }, 0 },
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
	static struct dhcp6_info d;
	for (size_t i = 0; i < sizeof(v6_cases) / sizeof(v6_cases[0]); i++) {
		const struct v6_case *c = &v6_cases[i];
		print_message("case %s\n", c->name);
		w.n = 0;
		c->build(&w);
		uint8_t *buf = malloc(w.n);
		assert_non_null(buf);
		memcpy(buf, w.b, w.n);
		int rc = dhcp6_parse(buf, w.n, &d);
		free(buf);
		assert_int_equal(rc, c->rc);
		assert_string_equal(dhcp_anomaly_name(d.anomaly), dhcp_anomaly_name(c->anomaly));
		if (c->anomaly == 0)
			assert_int_equal(d.anomalies, 0);
		assert_int_equal(d.msg_type, c->msg_type);
		assert_int_equal(d.relay_depth, c->relay_depth);
		assert_int_equal(d.ndns, c->ndns);
		for (int k = 0; k < c->ndns && k < 2; k++)
			check_ip6(d.dns[k], c->dns[k]);
		assert_int_equal(d.nsearch, c->nsearch);
		for (int k = 0; k < c->nsearch && k < 2; k++)
			assert_string_equal(d.search[k], c->search[k]);
		assert_int_equal(d.naddr, c->naddr);
	}
}

static void test_fields(void **state)
{
	(void)state;
	static struct tw w;
	static struct dhcp6_info d;

	w.n = 0;
	b_reply(&w);
	assert_int_equal(dhcp6_parse(w.b, w.n, &d), 0);
	assert_int_equal(d.xid, 0x123456);
	assert_int_equal(d.client_duid_len, 10);
	assert_int_equal(d.client_duid[9], 1);
	assert_int_equal(d.server_duid[9], 0xfe);
	assert_string_equal(dhcp6_msgtype_name(d.msg_type), "REPLY");
	assert_true(dhcp_bit(d.opt_seen, 23) && dhcp_bit(d.opt_seen, 24));

	w.n = 0;
	b_relay_repl(&w);
	assert_int_equal(dhcp6_parse(w.b, w.n, &d), 0);
	assert_int_equal(d.relay_type, 13);
	assert_int_equal(d.xid, 0xabcdef);
	check_ip6(d.peer_addr, "fe80::1234");
	check_ip6(d.link_addr, "2001:db8:ffff::1");

	w.n = 0;
	b_ia_na(&w);
	assert_int_equal(dhcp6_parse(w.b, w.n, &d), 0);
	assert_int_equal(d.addr[0].iaid, 77);
	check_ip6(d.addr[0].addr, "2001:db8::100");
	assert_int_equal(d.addr[0].preferred, 3600);
	assert_int_equal(d.addr[0].valid, 7200);
	check_ip6(d.addr[1].addr, "2001:db8::101");
	assert_int_equal(d.addr[1].valid, 20);
	assert_string_equal(dhcp6_msgtype_name(13), "RELAY-REPL");
	assert_null(dhcp6_msgtype_name(0));
}

/* Solicit with ORO asking for 23 and 144, Client FQDN (RFC 4704), MUD URL
 * (RFC 8520), and two DNR options (RFC 9463 §4.1): one with addresses and
 * SvcParams, one ADN-only. */
static void test_solicit_dnr(void **state)
{
	(void)state;
	static struct tw w;
	static struct dhcp6_info d;
	struct tw v = { .n = 0 };

	w.n = 0;
	hdr(&w, 1, 9);
	tw_u16(&v, 23);
	tw_u16(&v, 24);
	tw_u16(&v, 144);
	tw_opt6(&w, 6, &v);
	v.n = 0;
	tw_u8(&v, 0x01);
	tw_name(&v, "cam.home.arpa");
	tw_opt6(&w, 39, &v);
	v.n = 0;
	tw_bytes(&v, "https://mud.example/cam", 23);
	tw_opt6(&w, 112, &v);

	v.n = 0;
	struct tw adn = { .n = 0 }, sp = { .n = 0 };
	tw_name(&adn, "doh.example.net");
	tw_u16(&v, 10);
	tw_u16(&v, (unsigned)adn.n);
	tw_bytes(&v, adn.b, adn.n);
	tw_u16(&v, 32);
	tw_ip6(&v, "2001:db8::853");
	tw_ip6(&v, "2001:db8::854");
	tw_u16(&sp, 1);       /* alpn = h2 */
	tw_u16(&sp, 3);
	tw_u8(&sp, 2);
	tw_bytes(&sp, "h2", 2);
	tw_u16(&sp, 7);       /* dohpath */
	tw_u16(&sp, 16);
	tw_bytes(&sp, "/dns-query{?dns}", 16);
	tw_bytes(&v, sp.b, sp.n);
	tw_opt6(&w, 144, &v);
	v.n = 0;
	tw_u16(&v, 20);
	tw_u16(&v, (unsigned)adn.n);
	tw_bytes(&v, adn.b, adn.n);
	tw_opt6(&w, 144, &v);

	assert_int_equal(dhcp6_parse(w.b, w.n, &d), 0);
	assert_int_equal(d.anomalies, 0);
	assert_true(dhcp_bit(d.oro, 23) && dhcp_bit(d.oro, 144) && !dhcp_bit(d.oro, 25));
	assert_int_equal(d.oro_count, 3);
	assert_int_equal(d.fqdn_flags, 1);
	assert_string_equal(d.fqdn, "cam.home.arpa");
	assert_string_equal(d.mud_url, "https://mud.example/cam");
	assert_int_equal(d.ndnr, 2);
	assert_int_equal(d.dnr[0].priority, 10);
	assert_string_equal(d.dnr[0].adn, "doh.example.net");
	assert_int_equal(d.dnr[0].naddr, 2);
	check_ip6(d.dnr[0].addr[1], "2001:db8::854");
	assert_string_equal(d.dnr[0].alpn, "h2");
	assert_false(d.dnr[0].has_port);
	assert_string_equal(d.dnr[0].dohpath, "/dns-query{?dns}");
	assert_true(d.dnr[1].adn_only);

	/* SvcParams keys out of order (RFC 9460 §2.2). */
	v.n = 0;
	tw_u16(&v, 1);
	tw_u16(&v, (unsigned)adn.n);
	tw_bytes(&v, adn.b, adn.n);
	tw_u16(&v, 16);
	tw_ip6(&v, "2001:db8::853");
	tw_u16(&v, 3);
	tw_u16(&v, 2);
	tw_u16(&v, 853);
	tw_u16(&v, 1);
	tw_u16(&v, 4);
	tw_u8(&v, 3);
	tw_bytes(&v, "dot", 3);
	w.n = 0;
	hdr(&w, 7, 9);
	tw_opt6(&w, 144, &v);
	assert_int_equal(dhcp6_parse(w.b, w.n, &d), 0);
	assert_int_equal(d.anomaly, DHCP_A_SVCPARAM_BAD);
	assert_int_equal(d.ndnr, 1);
	assert_int_equal(d.dnr[0].port, 853);
}

static void test_prefix_sweep(void **state)
{
	(void)state;
	static struct tw w;
	static struct dhcp6_info d;
	w.n = 0;
	b_relay_repl(&w);
	for (size_t k = 0; k <= w.n; k++) {
		uint8_t *b = malloc(k ? k : 1);
		assert_non_null(b);
		memcpy(b, w.b, k);
		int rc = dhcp6_parse(b, k, &d);
		assert_true(rc == 0 || (rc == SW_ETRUNC && k < 34));
		assert_true(d.anomaly < DHCP_A_MAX);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_solicit_dnr),
		cmocka_unit_test(test_prefix_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
