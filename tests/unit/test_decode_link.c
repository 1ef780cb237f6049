/* test_decode_link.c — link layers: Ethernet, VLAN stacks, Linux cooked
 * v1/v2, BSD null/loop, raw IP, ARP (RFC 826). */
#include "test_decode_util.h"

/* --- builders ---------------------------------------------------------- */

static void b_eth(struct fb *f)
{
	fb_eth_v4_udp(f);
}

static void b_eth_padded(struct fb *f)
{
	fb_eth_v4_udp(f);
	for (int i = 0; i < 10; i++)
		fb_u8(f, 0xee);
}

static void b_eth_trunc(struct fb *f)
{
	fb_bytes(f, mac_b, 6);
	fb_bytes(f, mac_a, 6);
	fb_u8(f, 0x08);
}

static void b_eth_lldp(struct fb *f)
{
	fb_eth(f, 0x88cc);
	fb_u32(f, 0);
}

static void b_eth_8023(struct fb *f)
{
	fb_eth(f, 46); /* 802.3 length field, LLC follows */
	fb_u32(f, 0x42420300);
}

static void v4_udp_after_type(struct fb *f)
{
	fb_ipv4_hdr(f, 17, 64, 1, 0, 8 + sizeof(dns_q));
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
}

static void b_vlan1(struct fb *f)
{
	fb_eth(f, 0x8100);
	fb_u16(f, 0xa064); /* PCP 5, VID 100 */
	fb_u16(f, 0x0800);
	v4_udp_after_type(f);
}

static void b_qinq_88a8(struct fb *f)
{
	fb_eth(f, 0x88a8);
	fb_u16(f, 200);
	fb_u16(f, 0x8100);
	fb_u16(f, 100);
	fb_u16(f, 0x0800);
	v4_udp_after_type(f);
}

static void b_qinq_9100(struct fb *f)
{
	fb_eth(f, 0x9100);
	fb_u16(f, 0x1000 | 300); /* DEI set: not part of the VID */
	fb_u16(f, 0x8100);
	fb_u16(f, 4095);
	fb_u16(f, 0x0800);
	v4_udp_after_type(f);
}

static void b_vlan3(struct fb *f)
{
	fb_eth(f, 0x88a8);
	fb_u16(f, 200);
	fb_u16(f, 0x8100);
	fb_u16(f, 100);
	fb_u16(f, 0x8100);
	fb_u16(f, 50);
	fb_u16(f, 0x0800);
	v4_udp_after_type(f);
}

static void b_vlan_trunc(struct fb *f)
{
	fb_eth(f, 0x8100);
	fb_u16(f, 100);
}

static void sll_common(struct fb *f, unsigned pkttype, unsigned alen)
{
	fb_u16(f, pkttype);
	fb_u16(f, 1); /* ARPHRD_ETHER */
	fb_u16(f, alen);
	fb_bytes(f, mac_a, 6);
	fb_u16(f, 0);
	fb_u16(f, 0x0800);
	v4_udp_after_type(f);
}

static void b_sll(struct fb *f)
{
	sll_common(f, 0, 6);
}

static void b_sll_outgoing(struct fb *f)
{
	sll_common(f, 4, 6);
}

static void b_sll_noaddr(struct fb *f)
{
	sll_common(f, 0, 0);
}

static void b_sll_trunc(struct fb *f)
{
	fb_u16(f, 0);
	fb_u16(f, 1);
	fb_u16(f, 6);
	fb_bytes(f, mac_a, 6);
}

static void sll2_common(struct fb *f, unsigned proto, unsigned pkttype)
{
	fb_u16(f, proto);
	fb_u16(f, 0);
	fb_u32(f, 3); /* ifindex */
	fb_u16(f, 1); /* ARPHRD_ETHER */
	fb_u8(f, pkttype);
	fb_u8(f, 6);
	fb_bytes(f, mac_a, 6);
	fb_u16(f, 0);
}

static void b_sll2(struct fb *f)
{
	sll2_common(f, 0x0800, 4);
	v4_udp_after_type(f);
}

static void b_sll2_v6(struct fb *f)
{
	sll2_common(f, 0x86dd, 0);
	fb_ipv6_hdr(f, 17, 255, 8 + sizeof(dns_q));
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

static void b_sll2_trunc(struct fb *f)
{
	fb_u16(f, 0x0800);
	fb_u16(f, 0);
	fb_u32(f, 3);
}

static void null_v4(struct fb *f, uint32_t fam_wire)
{
	fb_u32(f, fam_wire);
	v4_udp_after_type(f);
}

static void null_v6(struct fb *f, uint32_t fam_wire)
{
	fb_u32(f, fam_wire);
	fb_ipv6_hdr(f, 17, 255, 8 + sizeof(dns_q));
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

static void b_null_le(struct fb *f) { null_v4(f, 0x02000000); }
static void b_null_be(struct fb *f) { null_v4(f, 0x00000002); }
static void b_null_v6_24(struct fb *f) { null_v6(f, 0x18000000); }
static void b_null_v6_28(struct fb *f) { null_v6(f, 0x1c000000); }
static void b_null_v6_30_be(struct fb *f) { null_v6(f, 0x0000001e); }
static void b_null_other(struct fb *f) { null_v4(f, 0x07000000); }
static void b_loop_v4(struct fb *f) { null_v4(f, 2); }
static void b_loop_v6(struct fb *f) { null_v6(f, 24); }

static void b_raw_v4(struct fb *f)
{
	v4_udp_after_type(f);
}

static void b_raw_v6(struct fb *f)
{
	fb_ipv6_hdr(f, 17, 255, 8 + sizeof(dns_q));
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

static void b_raw_bad_version(struct fb *f)
{
	v4_udp_after_type(f);
	f->b[0] = 0x55;
}

static void b_raw_empty(struct fb *f)
{
	(void)f;
}

static void arp(struct fb *f, unsigned htype, unsigned op, size_t cut)
{
	fb_eth(f, 0x0806);
	fb_u16(f, htype);
	fb_u16(f, 0x0800);
	fb_u8(f, 6);
	fb_u8(f, 4);
	fb_u16(f, op);
	fb_bytes(f, mac_a, 6);
	fb_bytes(f, ip4_a, 4);
	if (op == 1)
		fb_bytes(f, (uint8_t[6]){ 0 }, 6);
	else
		fb_bytes(f, mac_b, 6);
	fb_bytes(f, ip4_b, 4);
	f->n -= cut;
}

static void b_arp_req(struct fb *f) { arp(f, 1, 1, 0); }
static void b_arp_reply(struct fb *f) { arp(f, 1, 2, 0); }
static void b_arp_bad_htype(struct fb *f) { arp(f, 6, 1, 0); }
static void b_arp_bad_op(struct fb *f) { arp(f, 1, 3, 0); }
static void b_arp_trunc(struct fb *f) { arp(f, 1, 1, 3); }
static void b_arp_trunc_hdr(struct fb *f) { arp(f, 1, 1, 24); }

/* --- checks ------------------------------------------------------------ */

static void c_udp_v4(const struct pkt *p, const struct fb *f)
{
	assert_v4_addrs(p);
	assert_int_equal(p->ip_ttl, 64);
	assert_int_equal(p->ip_len, 20 + 8 + 12);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->reassembled, 0);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, 12);
	assert_memory_equal(p->payload, dns_q, 12);
	assert_true(p->payload >= f->b && p->payload + 12 <= f->b + f->n);
	assert_int_equal(p->outgoing, 0);
}

static void c_udp_v6(const struct pkt *p, const struct fb *f)
{
	(void)f;
	assert_v6_addrs(p);
	assert_int_equal(p->ip_ttl, 255);
	assert_int_equal(p->ip_len, 40 + 8 + 12);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->sport, 5353);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, 12);
	assert_memory_equal(p->payload, dns_q, 12);
}

static void c_untagged(const struct pkt *p)
{
	assert_int_equal(p->nvlan, 0);
	assert_int_equal(p->vlan, 0);
	assert_int_equal(p->vlan_outer, 0);
}

static void c_eth(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_memory_equal(p->dst_mac, mac_b, 6);
	c_untagged(p);
	c_udp_v4(p, f);
}

static void c_nomac_v4(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 0);
	c_untagged(p);
	c_udp_v4(p, f);
}

static void c_nomac_v6(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 0);
	c_untagged(p);
	c_udp_v6(p, f);
}

static void c_vlan1(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_int_equal(p->nvlan, 1);
	assert_int_equal(p->vlan, 100);
	assert_int_equal(p->vlan_outer, 0);
	c_udp_v4(p, f);
}

static void c_qinq(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->nvlan, 2);
	assert_int_equal(p->vlan, 100);
	assert_int_equal(p->vlan_outer, 200);
	c_udp_v4(p, f);
}

static void c_qinq_9100(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->nvlan, 2);
	assert_int_equal(p->vlan, 4095);
	assert_int_equal(p->vlan_outer, 300);
	c_udp_v4(p, f);
}

static void c_sll(const struct pkt *p, const struct fb *f)
{
	static const uint8_t zero[6];
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_memory_equal(p->dst_mac, zero, 6);
	c_untagged(p);
	c_udp_v4(p, f);
}

static void c_sll_outgoing(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_int_equal(p->outgoing, 1);
	assert_v4_addrs(p);
	assert_int_equal(p->sport, 40000);
	(void)f;
}

static void c_sll2_v6(const struct pkt *p, const struct fb *f)
{
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_int_equal(p->outgoing, 0);
	c_udp_v6(p, f);
}

static void c_arp_req(const struct pkt *p, const struct fb *f)
{
	static const uint8_t zero[6];
	(void)f;
	assert_int_equal(p->has_mac, 1);
	assert_memory_equal(p->src_mac, mac_a, 6);
	assert_int_equal(p->arp_op, 1);
	assert_memory_equal(p->arp_sha, mac_a, 6);
	assert_memory_equal(p->arp_spa, ip4_a, 4);
	assert_memory_equal(p->arp_tha, zero, 6);
	assert_memory_equal(p->arp_tpa, ip4_b, 4);
}

static void c_arp_reply(const struct pkt *p, const struct fb *f)
{
	(void)f;
	assert_int_equal(p->arp_op, 2);
	assert_memory_equal(p->arp_sha, mac_a, 6);
	assert_memory_equal(p->arp_tha, mac_b, 6);
	assert_memory_equal(p->arp_spa, ip4_a, 4);
	assert_memory_equal(p->arp_tpa, ip4_b, 4);
}

static const struct tcase cases[] = {
	{ "eth_ipv4_udp", DEC_LINK_ETHERNET, b_eth, PKT_IP, -1, 0, c_eth },
	{ "eth_padding_trimmed", DEC_LINK_ETHERNET, b_eth_padded, PKT_IP, -1, 0, c_eth },
	{ "eth_trunc", DEC_LINK_ETHERNET, b_eth_trunc, PKT_NONE, DEC_A_LINK_TRUNC, 0, NULL },
	{ "eth_other_ethertype", DEC_LINK_ETHERNET, b_eth_lldp, PKT_NONE, -1, 0, NULL },
	{ "eth_8023_length", DEC_LINK_ETHERNET, b_eth_8023, PKT_NONE, -1, 0, NULL },
	{ "vlan_single", DEC_LINK_ETHERNET, b_vlan1, PKT_IP, -1, 0, c_vlan1 },
	{ "vlan_qinq_88a8", DEC_LINK_ETHERNET, b_qinq_88a8, PKT_IP, -1, 0, c_qinq },
	{ "vlan_qinq_9100", DEC_LINK_ETHERNET, b_qinq_9100, PKT_IP, -1, 0, c_qinq_9100 },
	{ "vlan_three_tags", DEC_LINK_ETHERNET, b_vlan3, PKT_NONE, DEC_A_VLAN_TOO_DEEP, 0, NULL },
	{ "vlan_trunc", DEC_LINK_ETHERNET, b_vlan_trunc, PKT_NONE, DEC_A_VLAN_TRUNC, 0, NULL },
	{ "sll", DEC_LINK_SLL, b_sll, PKT_IP, -1, 0, c_sll },
	{ "sll_outgoing", DEC_LINK_SLL, b_sll_outgoing, PKT_IP, -1, 0, c_sll_outgoing },
	{ "sll_no_link_address", DEC_LINK_SLL, b_sll_noaddr, PKT_IP, -1, 0, c_nomac_v4 },
	{ "sll_trunc", DEC_LINK_SLL, b_sll_trunc, PKT_NONE, DEC_A_LINK_TRUNC, 0, NULL },
	{ "sll2_outgoing_v4", DEC_LINK_SLL2, b_sll2, PKT_IP, -1, 0, c_sll_outgoing },
	{ "sll2_v6", DEC_LINK_SLL2, b_sll2_v6, PKT_IP, -1, 0, c_sll2_v6 },
	{ "sll2_trunc", DEC_LINK_SLL2, b_sll2_trunc, PKT_NONE, DEC_A_LINK_TRUNC, 0, NULL },
	{ "null_v4_little_endian", DEC_LINK_NULL, b_null_le, PKT_IP, -1, 0, c_nomac_v4 },
	{ "null_v4_big_endian", DEC_LINK_NULL, b_null_be, PKT_IP, -1, 0, c_nomac_v4 },
	{ "null_v6_24", DEC_LINK_NULL, b_null_v6_24, PKT_IP, -1, 0, c_nomac_v6 },
	{ "null_v6_28", DEC_LINK_NULL, b_null_v6_28, PKT_IP, -1, 0, c_nomac_v6 },
	{ "null_v6_30_big_endian", DEC_LINK_NULL, b_null_v6_30_be, PKT_IP, -1, 0, c_nomac_v6 },
	{ "null_other_family", DEC_LINK_NULL, b_null_other, PKT_NONE, -1, 0, NULL },
	{ "null_trunc", DEC_LINK_NULL, b_raw_empty, PKT_NONE, DEC_A_LINK_TRUNC, 0, NULL },
	{ "loop_v4", DEC_LINK_LOOP, b_loop_v4, PKT_IP, -1, 0, c_nomac_v4 },
	{ "loop_v6", DEC_LINK_LOOP, b_loop_v6, PKT_IP, -1, 0, c_nomac_v6 },
	{ "raw_v4", DEC_LINK_RAW, b_raw_v4, PKT_IP, -1, 0, c_nomac_v4 },
	{ "raw_v6", DEC_LINK_RAW, b_raw_v6, PKT_IP, -1, 0, c_nomac_v6 },
	{ "raw_lt_v4", DEC_LINK_RAW_LT, b_raw_v4, PKT_IP, -1, 0, c_nomac_v4 },
	{ "raw_lt_v6", DEC_LINK_RAW_LT, b_raw_v6, PKT_IP, -1, 0, c_nomac_v6 },
	{ "raw_bad_version", DEC_LINK_RAW, b_raw_bad_version, PKT_NONE, DEC_A_IPV4_BAD_VERSION, 0, NULL },
	{ "raw_empty", DEC_LINK_RAW, b_raw_empty, PKT_NONE, DEC_A_LINK_TRUNC, 0, NULL },
	{ "linktype_ipv4", DEC_LINK_IPV4, b_raw_v4, PKT_IP, -1, 0, c_nomac_v4 },
	{ "linktype_ipv6", DEC_LINK_IPV6, b_raw_v6, PKT_IP, -1, 0, c_nomac_v6 },
	{ "linktype_ipv4_given_v6", DEC_LINK_IPV4, b_raw_v6, PKT_NONE, DEC_A_IPV4_BAD_VERSION, 0, NULL },
	{ "link_unknown", 147, b_raw_v4, PKT_NONE, DEC_A_LINK_UNKNOWN, 0, NULL },
	{ "arp_request", DEC_LINK_ETHERNET, b_arp_req, PKT_ARP, -1, 0, c_arp_req },
	{ "arp_reply", DEC_LINK_ETHERNET, b_arp_reply, PKT_ARP, -1, 0, c_arp_reply },
	{ "arp_bad_htype", DEC_LINK_ETHERNET, b_arp_bad_htype, PKT_NONE, DEC_A_ARP_BAD, 0, NULL },
	{ "arp_bad_op", DEC_LINK_ETHERNET, b_arp_bad_op, PKT_NONE, DEC_A_ARP_BAD, 0, NULL },
	{ "arp_trunc_addresses", DEC_LINK_ETHERNET, b_arp_trunc, PKT_NONE, DEC_A_ARP_TRUNC, 0, NULL },
	{ "arp_trunc_header", DEC_LINK_ETHERNET, b_arp_trunc_hdr, PKT_NONE, DEC_A_ARP_TRUNC, 0, NULL },
};

/* The supported-link list and the anomaly names are part of the contract. */
static void test_link_supported(void **state)
{
	(void)state;
	static const int yes[] = { 0, 1, 12, 101, 108, 113, 228, 229, 276 };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(dec_link_supported(yes[i]), 1);
	assert_int_equal(dec_link_supported(147), 0);
	assert_int_equal(dec_link_supported(-1), 0);
}

static void test_anomaly_names(void **state)
{
	(void)state;
	assert_string_equal(dec_anomaly_name(DEC_A_LINK_TRUNC), "link_trunc");
	assert_string_equal(dec_anomaly_name(DEC_A_IPV4_FRAG_OVERLAP), "ipv4_frag_overlap");
	assert_string_equal(dec_anomaly_name(DEC_A_ICMPV6_TRUNC), "icmpv6_trunc");
	assert_string_equal(dec_anomaly_name(DEC_A_IPV6_FRAG_BAD), "ipv6_frag_bad");
	assert_string_equal(dec_anomaly_name(DEC_A_MAX), "unknown");
	assert_string_equal(dec_anomaly_name(-1), "unknown");
	for (int i = 0; i < DEC_A_MAX; i++) {
		const char *n = dec_anomaly_name(i);
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, dec_anomaly_name(j));
	}
}

int main(void)
{
	const struct CMUnitTest misc[] = {
		cmocka_unit_test(test_link_supported),
		cmocka_unit_test(test_anomaly_names),
	};
	int fails = run_tcases("decode_link", cases, sizeof(cases) / sizeof(cases[0]));
	return fails + cmocka_run_group_tests_name("decode_link_misc", misc, NULL, NULL);
}
