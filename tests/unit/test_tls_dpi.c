/* test_tls_dpi.c — the bounded nDPI wrapper (pool, packet budget, stale
 * handles), nDPI 4.2 against the sensor's own parser on one hand-built
 * TLS flow (SNI, ALPN, JA3 must agree), QUIC datagrams that are not
 * Initials, and the encrypted-DNS classification table (RFC 7858, RFC
 * 8484, RFC 9250, RFC 9462).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ndpi/ndpi_protocol_ids.h>

#include "common/err.h"
#include "tls/tls.h"

/* --- Packet builder: IPv4 + TCP/UDP, checksums left zero (nDPI does not
 * verify them). */
static size_t ip4(uint8_t *p, uint8_t proto, const uint8_t src[4], const uint8_t dst[4],
		  uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		  const uint8_t *pl, size_t n)
{
	size_t l4 = proto == 6 ? 20 : 8;
	size_t tot = 20 + l4 + n;
	memset(p, 0, 20 + l4);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	uint8_t *t = p + 20;
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	if (proto == 6) {
		t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16);
		t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
		t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16);
		t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
		t[12] = 5 << 4;
		t[13] = flags;
		t[14] = 0xff;
		t[15] = 0xff;
	} else {
		t[4] = (uint8_t)((8 + n) >> 8);
		t[5] = (uint8_t)(8 + n);
	}
	if (n)
		memcpy(t + l4, pl, n);
	return tot;
}

/* A TLS 1.3 ClientHello record to dns.google with ALPN h2,http/1.1 and
 * GREASE, laid out by hand. */
static size_t client_hello(uint8_t *out)
{
	static const uint8_t exts[] = {
		0x3a, 0x3a, 0x00, 0x00,                          /* GREASE */
		0x00, 0x00, 0x00, 0x0f, 0x00, 0x0d, 0x00, 0x00, 0x0a,
		'd', 'n', 's', '.', 'g', 'o', 'o', 'g', 'l', 'e', /* SNI */
		0x00, 0x17, 0x00, 0x00,
		0xff, 0x01, 0x00, 0x01, 0x00,
		0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x6a, 0x6a, 0x00, 0x1d, 0x00, 0x17,
		0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
		0x00, 0x23, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
		0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
		0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
		0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03,
		0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	};
	static const uint8_t ciphers[] = { 0x4a, 0x4a, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
					   0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9, 0x00, 0x2f };
	uint8_t *p = out + 9; /* record header 5 + handshake header 4 */
	size_t n = 0;
	p[n++] = 3;
	p[n++] = 3;
	for (int i = 0; i < 32; i++)
		p[n++] = (uint8_t)(0x40 + i);
	p[n++] = 32;
	for (int i = 0; i < 32; i++)
		p[n++] = (uint8_t)i;
	p[n++] = 0;
	p[n++] = sizeof(ciphers);
	memcpy(p + n, ciphers, sizeof(ciphers));
	n += sizeof(ciphers);
	p[n++] = 1;
	p[n++] = 0;
	p[n++] = (uint8_t)(sizeof(exts) >> 8);
	p[n++] = (uint8_t)sizeof(exts);
	memcpy(p + n, exts, sizeof(exts));
	n += sizeof(exts);
	out[0] = 22;
	out[1] = 3;
	out[2] = 1;
	out[3] = (uint8_t)((n + 4) >> 8);
	out[4] = (uint8_t)(n + 4);
	out[5] = 1;
	out[6] = 0;
	out[7] = (uint8_t)(n >> 8);
	out[8] = (uint8_t)n;
	return n + 9;
}

static const uint8_t cli[4] = { 192, 168, 1, 20 }, srv[4] = { 8, 8, 8, 8 };

/* nDPI and the sensor's parser on the same flow: they must agree. */
static void test_ndpi_agrees(void **state)
{
	struct tls_dpi_cfg cfg = { .max_flows = 4, .max_packets = 8 };
	struct tls_dpi_result res;
	struct tls_hello h;
	uint8_t hello[600], pkt[1600];
	char ja3[TLS_JA3_HEX];
	int err;

	struct tls_dpi *d = tls_dpi_new(&cfg, &err);
	assert_non_null(d);
	size_t hn = client_hello(hello);
	assert_int_equal(tls_parse_records(hello, hn, &h), 0);
	assert_string_equal(h.sni, "dns.google");
	tls_ja3_hash(&h, ja3);

	int64_t fl = tls_dpi_open(d);
	assert_true(fl >= 0);
	size_t n;
	n = ip4(pkt, 6, cli, srv, 40000, 443, 1000, 0, 0x02, NULL, 0);
	assert_int_equal(tls_dpi_feed(d, fl, pkt, n, 1000, &res), 0);
	n = ip4(pkt, 6, srv, cli, 443, 40000, 5000, 1001, 0x12, NULL, 0);
	assert_int_equal(tls_dpi_feed(d, fl, pkt, n, 1001, &res), 0);
	n = ip4(pkt, 6, cli, srv, 40000, 443, 1001, 5001, 0x10, NULL, 0);
	assert_int_equal(tls_dpi_feed(d, fl, pkt, n, 1002, &res), 0);
	n = ip4(pkt, 6, cli, srv, 40000, 443, 1001, 5001, 0x18, hello, hn);
	assert_int_equal(tls_dpi_feed(d, fl, pkt, n, 1003, &res), 1);

	assert_int_equal(res.master, NDPI_PROTOCOL_TLS);
	assert_int_equal(res.app, NDPI_PROTOCOL_DOH_DOT);
	assert_true(res.hello_seen);
	assert_string_equal(res.sni, "dns.google");
	assert_string_equal(res.alpn, h.alpn);
	assert_string_equal(res.ja3, ja3);
	assert_int_equal(res.packets, 4);

	/* The slot is free again and the old handle is refused. */
	assert_int_equal(tls_dpi_feed(d, fl, pkt, n, 1004, &res), SW_EINVAL);
	assert_int_equal(tls_dpi_close(d, fl, &res), SW_EINVAL);
	struct tls_dpi_stats st;
	tls_dpi_get_stats(d, &st);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.in_use, 0);
	tls_dpi_free(d);
}

/* Pool of 2: a third flow is refused and counted; a flow of packets nDPI
 * cannot classify ends at the budget; close() frees a slot early. */
static void test_pool_and_budget(void **state)
{
	struct tls_dpi_cfg cfg = { .max_flows = 2, .max_packets = 3 };
	struct tls_dpi_result res;
	struct tls_dpi_stats st;
	uint8_t pkt[200], junk[40];
	int err;

	memset(junk, 0x5a, sizeof(junk));
	struct tls_dpi *d = tls_dpi_new(&cfg, &err);
	assert_non_null(d);
	int64_t a = tls_dpi_open(d), b = tls_dpi_open(d);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(tls_dpi_open(d), SW_EFULL);

	size_t n = ip4(pkt, 17, cli, srv, 41000, 40001, 0, 0, 0, junk, sizeof(junk));
	assert_int_equal(tls_dpi_feed(d, a, pkt, n, 1, &res), 0);
	assert_int_equal(tls_dpi_feed(d, a, pkt, n, 2, &res), 0);
	assert_int_equal(tls_dpi_feed(d, a, pkt, n, 3, &res), 1);
	assert_int_equal(res.packets, 3);

	assert_int_equal(tls_dpi_close(d, b, &res), 0);
	tls_dpi_get_stats(d, &st);
	assert_int_equal(st.opened, 2);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.budget, 1);
	assert_int_equal(st.closed, 1);
	assert_int_equal(st.in_use, 0);

	/* Slots are reused with new handles. */
	int64_t c = tls_dpi_open(d);
	assert_true(c >= 0 && c != a && c != b);
	assert_int_equal(tls_dpi_feed(d, a, pkt, n, 4, &res), SW_EINVAL);
	assert_int_equal(tls_dpi_feed(d, -5, pkt, n, 4, &res), SW_EINVAL);
	tls_dpi_free(d);
}

/* QUIC datagrams that are not Initials of a known version. */
static void test_quic_not_initial(void **state)
{
	static struct tls_quic_flow f;
	struct tls_hello h;
	int err;
	struct tls_quic *q = tls_quic_new(&err);
	assert_non_null(q);

	static const uint8_t short_hdr[] = { 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	tls_quic_flow_init(&f);
	assert_int_equal(tls_quic_feed(q, &f, short_hdr, sizeof(short_hdr), &h), SW_EUNSUPP);

	static const uint8_t vneg[] = { 0xc0, 0, 0, 0, 0, 0, 0 };
	tls_quic_flow_init(&f);
	assert_int_equal(tls_quic_feed(q, &f, vneg, sizeof(vneg), &h), SW_EUNSUPP);

	/* v1 Initial whose length field runs past the datagram. */
	static const uint8_t lies[] = { 0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0,
					0x44, 0xd0, 0, 0, 0, 0 };
	tls_quic_flow_init(&f);
	assert_int_equal(tls_quic_feed(q, &f, lies, sizeof(lies), &h), SW_EMALFORMED);
	assert_int_equal(h.reason, TLS_R_QUIC_HEADER);

	/* v1 Initial of random bytes: the AEAD tag fails. */
	static uint8_t junk[1300];
	static const uint8_t hdr[] = { 0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0x9f };
	memcpy(junk, hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7);
	tls_quic_flow_init(&f);
	assert_int_equal(tls_quic_feed(q, &f, junk, sizeof(hdr) + 0x49f, &h), SW_EMALFORMED);
	assert_int_equal(h.reason, TLS_R_QUIC_DECRYPT);
	/* A failed flow stays failed. */
	assert_int_equal(tls_quic_feed(q, &f, junk, sizeof(hdr) + 0x49f, &h), SW_EMALFORMED);
	tls_quic_free(q);
}

/* --- Classification ---------------------------------------------------- */

static unsigned lookup(void *arg, const char *sni, int family, const uint8_t *addr)
{
	static const uint8_t one[4] = { 1, 1, 1, 1 }, quad9[4] = { 9, 9, 9, 9 };
	unsigned *calls = arg;
	(*calls)++;
	if (sni && strcmp(sni, "dns.google") == 0)
		return TLS_EP_DOH | TLS_EP_DOT;
	if (family == 4 && addr && memcmp(addr, one, 4) == 0)
		return TLS_EP_DOH;
	if (family == 4 && addr && memcmp(addr, quad9, 4) == 0)
		return TLS_EP_DOT | TLS_EP_DDR;
	return 0;
}

struct cls_case {
	const char *name;
	uint8_t transport;
	uint8_t handshake;
	uint16_t port;
	const char *sni;
	const char *alpn;
	uint16_t master, app;
	uint8_t addr[4];
	enum tls_dns_kind want;
	enum tls_dns_kind inner;
};

#define TCP TLS_TR_TCP
#define UDP TLS_TR_UDP
static const struct cls_case cls_cases[] = {
	{ "DoT: TLS on 853 without SNI", TCP, 1, 853, NULL, NULL, 0, 0, { 8, 8, 8, 8 }, TLS_DNS_DOT, TLS_DNS_DOT },
	{ "DoT: nDPI TLS on 853, hello unseen", TCP, 0, 853, NULL, NULL, NDPI_PROTOCOL_TLS, 0, { 8, 8, 4, 4 }, TLS_DNS_DOT, TLS_DNS_DOT },
	{ "DoT: ALPN dot on 443", TCP, 1, 443, "x.example", "h2,dot", 0, 0, { 5, 5, 5, 5 }, TLS_DNS_DOT, TLS_DNS_DOT },
	{ "DoH: known SNI on 443", TCP, 1, 443, "dns.google", "h2,http/1.1", 0, 0, { 8, 8, 8, 8 }, TLS_DNS_DOH, TLS_DNS_DOH },
	{ "DoH: known address, no SNI", TCP, 1, 443, NULL, "h2", 0, 0, { 1, 1, 1, 1 }, TLS_DNS_DOH, TLS_DNS_DOH },
	{ "DoH: nDPI DoH_DoT verdict", TCP, 1, 443, "doh.example", "h2", NDPI_PROTOCOL_TLS, NDPI_PROTOCOL_DOH_DOT, { 5, 5, 5, 6 }, TLS_DNS_DOH, TLS_DNS_DOH },
	{ "DoH over QUIC: known SNI, h3", UDP, 1, 443, "dns.google", "h3", 0, 0, { 8, 8, 8, 8 }, TLS_DNS_DOH, TLS_DNS_DOH },
	{ "HTTPS to a CDN is not DNS", TCP, 1, 443, "cdn.example.net", "h2,http/1.1", NDPI_PROTOCOL_TLS, 0, { 5, 5, 5, 7 }, TLS_DNS_NONE, TLS_DNS_NONE },
	{ "QUIC to Google is not DNS", UDP, 1, 443, "www.google.com", "h3", NDPI_PROTOCOL_QUIC, 126, { 5, 5, 5, 8 }, TLS_DNS_NONE, TLS_DNS_NONE },
	{ "ALPN 'dotx' is not dot", TCP, 1, 443, "a.example", "dotx", 0, 0, { 5, 5, 5, 9 }, TLS_DNS_NONE, TLS_DNS_NONE },
	{ "DoQ: QUIC on 853", UDP, 1, 853, NULL, NULL, 0, 0, { 5, 5, 6, 1 }, TLS_DNS_DOQ, TLS_DNS_DOQ },
	{ "DoQ: draft port 784, doq-i00", UDP, 1, 784, "dns.adguard.com", "doq-i00", 0, 0, { 94, 140, 14, 14 }, TLS_DNS_DOQ, TLS_DNS_DOQ },
	{ "DoQ: early port 8853", UDP, 0, 8853, NULL, NULL, NDPI_PROTOCOL_QUIC, 0, { 5, 5, 6, 2 }, TLS_DNS_DOQ, TLS_DNS_DOQ },
	{ "DoQ: ALPN doq on 443", UDP, 1, 443, NULL, "doq", 0, 0, { 5, 5, 6, 3 }, TLS_DNS_DOQ, TLS_DNS_DOQ },
	{ "UDP 784 without QUIC is not DoQ", UDP, 0, 784, NULL, NULL, 0, 0, { 5, 5, 6, 4 }, TLS_DNS_NONE, TLS_DNS_NONE },
	{ "Do53 over UDP", UDP, 0, 53, NULL, NULL, NDPI_PROTOCOL_DNS, 0, { 8, 8, 8, 8 }, TLS_DNS_DO53, TLS_DNS_DO53 },
	{ "Do53 over TCP", TCP, 0, 53, NULL, NULL, 0, 0, { 8, 8, 8, 8 }, TLS_DNS_DO53, TLS_DNS_DO53 },
	{ "DDR-designated DoT", TCP, 1, 853, "dns.quad9.net", "dot", 0, 0, { 9, 9, 9, 9 }, TLS_DNS_DDR, TLS_DNS_DOT },
	{ "TLS on 443 without a verdict", TCP, 1, 443, NULL, NULL, 0, 0, { 5, 5, 5, 5 }, TLS_DNS_NONE, TLS_DNS_NONE },
};

static void test_classify_table(void **state)
{
	for (size_t i = 0; i < sizeof(cls_cases) / sizeof(cls_cases[0]); i++) {
		const struct cls_case *c = &cls_cases[i];
		struct tls_flow_facts f = {
			.transport = c->transport, .handshake = c->handshake,
			.server_port = c->port, .sni = c->sni, .alpn = c->alpn,
			.ndpi_master = c->master, .ndpi_app = c->app,
			.family = 4, .daddr = c->addr,
		};
		unsigned calls = 0;
		enum tls_dns_kind inner = TLS_DNS_NONE;
		enum tls_dns_kind k = tls_classify(&f, lookup, &calls, &inner);
		if (k != c->want || inner != c->inner)
			fail_msg("case '%s': %s/%s, want %s/%s", c->name,
				 tls_dns_kind_name(k), tls_dns_kind_name(inner),
				 tls_dns_kind_name(c->want), tls_dns_kind_name(c->inner));
		/* Without a callback nothing crashes and DoH by list is lost. */
		(void)tls_classify(&f, NULL, NULL, NULL);
	}
	assert_string_equal(tls_dns_kind_name(TLS_DNS_DOQ), "doq");
}

int main(void)
{
	tls_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ndpi_agrees),
		cmocka_unit_test(test_pool_and_budget),
		cmocka_unit_test(test_quic_not_initial),
		cmocka_unit_test(test_classify_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
