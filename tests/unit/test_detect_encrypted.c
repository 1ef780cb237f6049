/* test_detect_encrypted.c — the encrypted-DNS module's port test and the
 * packet it rebuilds for nDPI (addresses, ports, sequence numbers, flags,
 * lengths; payload cut at the 65535-byte IP limit), read back field by
 * field as RFC 791, RFC 8200, RFC 9293 and RFC 768 lay them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/fmt.h"
#include "detect/encrypted.h"

static void test_ports(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint8_t l4;
		uint16_t sport, dport;
		int want;
	} cases[] = {
		{ "dot client", IPPROTO_TCP, 51000, 853, 1 },
		{ "dot server", IPPROTO_TCP, 853, 51000, 1 },
		{ "https", IPPROTO_TCP, 51000, 443, 1 },
		{ "tcp 784 is not ours", IPPROTO_TCP, 51000, 784, 0 },
		{ "tcp 8853 is not ours", IPPROTO_TCP, 8853, 51000, 0 },
		{ "dns over tcp", IPPROTO_TCP, 51000, 53, 0 },
		{ "doq", IPPROTO_UDP, 51000, 853, 1 },
		{ "doq draft 784", IPPROTO_UDP, 784, 51000, 1 },
		{ "doq draft 8853", IPPROTO_UDP, 51000, 8853, 1 },
		{ "http3", IPPROTO_UDP, 51000, 443, 1 },
		{ "dns over udp", IPPROTO_UDP, 51000, 53, 0 },
		{ "mdns", IPPROTO_UDP, 5353, 5353, 0 },
		{ "icmpv6", IPPROTO_ICMPV6, 0, 0, 0 },
		{ "esp with a port-like field", 50, 443, 443, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (enc_ports_of_interest(cases[i].l4, cases[i].sport, cases[i].dport) != cases[i].want)
			fail_msg("%s: expected %d", cases[i].name, cases[i].want);
}

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) << 16 | rd16(p + 2);
}

static void test_build_v4_tcp(void **state)
{
	(void)state;
	static const uint8_t payload[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
	struct pkt p;
	memset(&p, 0, sizeof(p));
	ip_parse("192.168.1.10", p.src_ip);
	ip_parse("8.8.8.8", p.dst_ip);
	p.ip_ver = 4;
	p.ip_ttl = 63;
	p.l4 = IPPROTO_TCP;
	p.sport = 51000;
	p.dport = 853;
	p.tcp_seq = 0xdeadbeef;
	p.tcp_ack = 0x01020304;
	p.tcp_flags = 0x18;
	p.payload = payload;
	p.payload_len = sizeof(payload);
	uint8_t out[128];
	size_t n = enc_build_ip(&p, out, sizeof(out));
	assert_int_equal(n, 20 + 20 + sizeof(payload));
	assert_int_equal(out[0], 0x45);
	assert_int_equal(rd16(out + 2), n);
	assert_int_equal(out[6] & 0x1f, 0);    /* not a fragment */
	assert_int_equal(out[8], 63);
	assert_int_equal(out[9], IPPROTO_TCP);
	assert_memory_equal(out + 12, p.src_ip + 12, 4);
	assert_memory_equal(out + 16, p.dst_ip + 12, 4);
	assert_int_equal(rd16(out + 20), 51000);
	assert_int_equal(rd16(out + 22), 853);
	assert_int_equal(rd32(out + 24), 0xdeadbeef);
	assert_int_equal(rd32(out + 28), 0x01020304);
	assert_int_equal(out[32] >> 4, 5);
	assert_int_equal(out[33], 0x18);
	assert_memory_equal(out + 40, payload, sizeof(payload));
}

static void test_build_v6_udp(void **state)
{
	(void)state;
	static uint8_t payload[1200];
	memset(payload, 0xc3, sizeof(payload));
	struct pkt p;
	memset(&p, 0, sizeof(p));
	ip_parse("2001:db8::10", p.src_ip);
	ip_parse("2620:fe::fe", p.dst_ip);
	p.ip_ver = 6;
	p.ip_ttl = 64;
	p.l4 = IPPROTO_UDP;
	p.sport = 40000;
	p.dport = 853;
	p.payload = payload;
	p.payload_len = sizeof(payload);
	static uint8_t out[2048];
	size_t n = enc_build_ip(&p, out, sizeof(out));
	assert_int_equal(n, 40 + 8 + sizeof(payload));
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(rd16(out + 4), 8 + sizeof(payload));
	assert_int_equal(out[6], IPPROTO_UDP);
	assert_memory_equal(out + 8, p.src_ip, 16);
	assert_memory_equal(out + 24, p.dst_ip, 16);
	assert_int_equal(rd16(out + 40), 40000);
	assert_int_equal(rd16(out + 42), 853);
	assert_int_equal(rd16(out + 44), 8 + sizeof(payload));
	assert_memory_equal(out + 48, payload, sizeof(payload));
}

static void test_build_limits(void **state)
{
	(void)state;
	static uint8_t payload[70000];
	static uint8_t out[70000];
	struct pkt p;
	memset(&p, 0, sizeof(p));
	ip_parse("10.0.0.1", p.src_ip);
	ip_parse("10.0.0.2", p.dst_ip);
	p.ip_ver = 4;
	p.l4 = IPPROTO_TCP;
	p.payload = payload;
	p.payload_len = sizeof(payload);
	/* An IPv4 datagram is at most 65535 bytes (RFC 791 §3.1). */
	size_t n = enc_build_ip(&p, out, sizeof(out));
	assert_int_equal(n, 65535);
	assert_int_equal(rd16(out + 2), 65535);
	/* The caller's buffer bounds it too. */
	n = enc_build_ip(&p, out, 100);
	assert_int_equal(n, 100);
	/* Too small for the headers, and not TCP/UDP: nothing. */
	assert_int_equal(enc_build_ip(&p, out, 39), 0);
	p.l4 = IPPROTO_ICMPV6;
	assert_int_equal(enc_build_ip(&p, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_build_v4_tcp),
		cmocka_unit_test(test_build_v6_udp),
		cmocka_unit_test(test_build_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
