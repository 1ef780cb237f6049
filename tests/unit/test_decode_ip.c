/* test_decode_ip.c — IPv4 (RFC 791), IPv6 extension headers (RFC 8200),
 * UDP (RFC 768), TCP (RFC 9293), ICMPv6 (RFC 4443, RFC 4861 RA). */
#include "test_decode_util.h"

/* --- IPv4 -------------------------------------------------------------- */

static void b_v4_options(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_u8(f, 0x46); /* IHL 6: one word of options */
	fb_u8(f, 0);
	fb_u16(f, 24 + 8 + sizeof(dns_q));
	fb_u16(f, 1);
	fb_u16(f, 0x4000); /* DF: not a fragment */
	fb_u8(f, 64);
	fb_u8(f, 17);
	fb_u16(f, 0);
	fb_bytes(f, ip4_a, 4);
	fb_bytes(f, ip4_b, 4);
	fb_u32(f, 0x94040000); /* router alert */
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
}

static void b_v4_bad_ihl(struct fb *f)
{
	fb_eth_v4_udp(f);
	f->b[14] = 0x44;
}

static void b_v4_ihl_past_total(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 17, 64, 1, 0, 8 + sizeof(dns_q));
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
	f->b[14] = 0x4f; /* 60 bytes of header in a 40-byte datagram */
}

static void b_v4_total_past_frame(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 17, 64, 1, 0, 8 + sizeof(dns_q) + 100);
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
}

static void b_v4_total_lt_20(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 17, 64, 1, 0, 0);
	f->b[17] = 19;
	fb_udp(f, 40000, 53, dns_q, sizeof(dns_q));
}

static void b_v4_trunc(struct fb *f)
{
	fb_eth_v4_udp(f);
	f->n = 14 + 19;
}

static void b_v4_bad_version(struct fb *f)
{
	fb_eth_v4_udp(f);
	f->b[14] = 0x65;
}

static void b_v4_icmp(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 1, 128, 1, 0, 8);
	fb_u32(f, 0x08000000); /* echo request */
	fb_u32(f, 0x00010001);
}

static void b_v4_udp_bad_len(struct fb *f)
{
	fb_eth_v4_udp(f);
	f->b[14 + 20 + 5] = 7; /* UDP length < 8 */
}

static void b_v4_udp_len_past_ip(struct fb *f)
{
	fb_eth_v4_udp(f);
	f->b[14 + 20 + 5] = 8 + sizeof(dns_q) + 1;
}

static void b_v4_udp_trunc(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 17, 64, 1, 0, 4);
	fb_u32(f, 0x9c400035);
}

static void tcp_seg(struct fb *f, unsigned doff, unsigned flags, size_t data)
{
	fb_u16(f, 40001);
	fb_u16(f, 53);
	fb_u32(f, 0x01020304);
	fb_u32(f, 0xa0b0c0d0);
	fb_u8(f, doff << 4);
	fb_u8(f, flags);
	fb_u16(f, 65535);
	fb_u16(f, 0);
	fb_u16(f, 0);
	for (unsigned i = 20; i < doff * 4; i++)
		fb_u8(f, 1); /* NOP options */
	for (size_t i = 0; i < data; i++)
		fb_u8(f, (unsigned)i);
}

static void b_tcp_syn_options(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 6, 64, 1, 0, 32 + 14);
	tcp_seg(f, 8, 0x12, 14); /* SYN ACK, 12 option bytes, 14 data */
}

static void b_tcp_bad_offset(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 6, 64, 1, 0, 20 + 4);
	tcp_seg(f, 4, 0x02, 4);
}

static void b_tcp_offset_past_end(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 6, 64, 1, 0, 24);
	tcp_seg(f, 6, 0x02, 0);
	f->b[14 + 20 + 12] = 0xf0; /* 60 bytes claimed in 24 */
}

static void b_tcp_trunc(struct fb *f)
{
	fb_eth(f, 0x0800);
	fb_ipv4_hdr(f, 6, 64, 1, 0, 19);
	tcp_seg(f, 5, 0x02, 0);
	f->n--;
}

static void b_v4_snaplen_cut(struct fb *f)
{
	fb_eth_v4_udp(f); /* the case cuts 10 bytes off the capture */
}

/* --- IPv6 -------------------------------------------------------------- */

static void b_v6_udp(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 17, 255, 8 + sizeof(dns_q));
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

/* Hop-by-hop (8) + destination options (16) + atomic fragment (8) + routing
 * (24) + AH (16) + UDP. */
static void b_v6_ext_chain(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 0, 64, 8 + 16 + 8 + 24 + 16 + 8 + sizeof(dns_q));
	fb_u8(f, 60);  /* HBH -> DO */
	fb_u8(f, 0);
	fb_u16(f, 0x0104); /* PadN */
	fb_u32(f, 0);
	fb_u8(f, 44);  /* DO -> FRAG, 16 bytes */
	fb_u8(f, 1);
	for (int i = 0; i < 14; i++)
		fb_u8(f, 0);
	fb_u8(f, 43);  /* FRAG (atomic: offset 0, M 0) -> routing */
	fb_u8(f, 0);
	fb_u16(f, 0);
	fb_u32(f, 0xdeadbeef);
	fb_u8(f, 51);  /* routing -> AH, 24 bytes */
	fb_u8(f, 2);
	for (int i = 0; i < 22; i++)
		fb_u8(f, 0);
	fb_u8(f, 17);  /* AH -> UDP, (2 + 2) * 4 = 16 bytes */
	fb_u8(f, 2);
	for (int i = 0; i < 14; i++)
		fb_u8(f, 0);
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

static void b_v6_ext_too_many(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 60, 64, 9 * 8 + 8);
	for (int i = 0; i < 9; i++) {
		fb_u8(f, i < 8 ? 60 : 17);
		fb_u8(f, 0);
		fb_u16(f, 0x0104);
		fb_u32(f, 0);
	}
	fb_udp(f, 1, 2, dns_q, 0);
}

static void b_v6_ext_trunc(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 60, 64, 8);
	fb_u8(f, 17);
	fb_u8(f, 1); /* 16 bytes claimed, 8 present */
	fb_u16(f, 0x0104);
	fb_u32(f, 0);
}

static void b_v6_esp(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 50, 64, 16);
	fb_u32(f, 0x1000); /* SPI */
	fb_u32(f, 1);      /* sequence */
	fb_u32(f, 0);
	fb_u32(f, 0);
}

static void b_v6_bad_len(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 17, 255, 8 + sizeof(dns_q) + 1);
	fb_udp(f, 5353, 53, dns_q, sizeof(dns_q));
}

static void b_v6_bad_version(struct fb *f)
{
	b_v6_udp(f);
	f->b[14] = 0x40;
}

static void b_v6_trunc(struct fb *f)
{
	b_v6_udp(f);
	f->n = 14 + 39;
}

/* Router Advertisement (RFC 4861 §4.2) from a link-local router. */
static const uint8_t ra_body[] = {
	64, 0x00, 0x07, 0x08,          /* cur hop limit, flags, lifetime 1800 */
	0, 0, 0, 0, 0, 0, 0, 0,        /* reachable, retrans */
	25, 3, 0, 0, 0, 0, 0x0e, 0x10, /* RDNSS (RFC 8106), lifetime 3600 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
};

static void b_icmpv6_ra(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 58, 255, 4 + sizeof(ra_body));
	fb_u8(f, 134);
	fb_u8(f, 0);
	fb_u16(f, 0x1234);
	fb_bytes(f, ra_body, sizeof(ra_body));
}

static void b_icmpv6_trunc(struct fb *f)
{
	fb_eth(f, 0x86dd);
	fb_ipv6_hdr(f, 58, 255, 3);
	fb_u8(f, 134);
	fb_u16(f, 0);
}

/* --- checks ------------------------------------------------------------ */

static void c_v4_udp(const struct pkt *p, const struct fb *f)
{
	(void)f;
	assert_v4_addrs(p);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->ip_ttl, 64);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, sizeof(dns_q));
	assert_memory_equal(p->payload, dns_q, sizeof(dns_q));
}

static void c_v4_options(const struct pkt *p, const struct fb *f)
{
	c_v4_udp(p, f);
	assert_int_equal(p->ip_len, 24 + 8 + 12);
}

static void c_v4_icmp(const struct pkt *p, const struct fb *f)
{
	assert_v4_addrs(p);
	assert_int_equal(p->l4, 1);
	assert_int_equal(p->ip_ttl, 128);
	assert_int_equal(p->sport, 0);
	assert_int_equal(p->dport, 0);
	assert_int_equal(p->payload_len, 8);
	assert_ptr_equal(p->payload, f->b + 14 + 20);
}

static void c_tcp(const struct pkt *p, const struct fb *f)
{
	assert_v4_addrs(p);
	assert_int_equal(p->l4, 6);
	assert_int_equal(p->sport, 40001);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->tcp_seq, 0x01020304);
	assert_int_equal(p->tcp_ack, 0xa0b0c0d0);
	assert_int_equal(p->tcp_flags, 0x12);
	assert_int_equal(p->payload_len, 14);
	assert_ptr_equal(p->payload, f->b + 14 + 20 + 32);
	assert_int_equal(p->payload[13], 13);
}

static void c_v6_udp(const struct pkt *p, const struct fb *f)
{
	(void)f;
	assert_v6_addrs(p);
	assert_int_equal(p->has_mac, 1);
	assert_int_equal(p->ip_ttl, 255);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->sport, 5353);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, 12);
	assert_memory_equal(p->payload, dns_q, 12);
	assert_int_equal(p->reassembled, 0);
}

static void c_v6_ext_chain(const struct pkt *p, const struct fb *f)
{
	(void)f;
	assert_v6_addrs(p);
	assert_int_equal(p->ip_ttl, 64);
	assert_int_equal(p->ip_len, 40 + 72 + 8 + 12);
	assert_int_equal(p->l4, 17);
	assert_int_equal(p->sport, 5353);
	assert_int_equal(p->dport, 53);
	assert_memory_equal(p->payload, dns_q, 12);
	assert_int_equal(p->reassembled, 0);
}

static void c_v6_esp(const struct pkt *p, const struct fb *f)
{
	assert_v6_addrs(p);
	assert_int_equal(p->l4, 50);
	assert_int_equal(p->payload_len, 16);
	assert_ptr_equal(p->payload, f->b + 14 + 40);
}

static void c_icmpv6_ra(const struct pkt *p, const struct fb *f)
{
	assert_v6_addrs(p);
	assert_int_equal(p->l4, 58);
	assert_int_equal(p->icmp_type, 134);
	assert_int_equal(p->icmp_code, 0);
	assert_int_equal(p->ip_ttl, 255);
	assert_int_equal(p->sport, 0);
	assert_int_equal(p->dport, 0);
	assert_ptr_equal(p->payload, f->b + 14 + 40 + 4);
	assert_int_equal(p->payload_len, sizeof(ra_body));
	assert_int_equal(p->payload[0], 64); /* Cur Hop Limit */
}

static const struct tcase cases[] = {
	{ "ipv4_options_skipped", DEC_LINK_ETHERNET, b_v4_options, PKT_IP, -1, 0, c_v4_options },
	{ "ipv4_bad_ihl", DEC_LINK_ETHERNET, b_v4_bad_ihl, PKT_NONE, DEC_A_IPV4_BAD_IHL, 0, NULL },
	{ "ipv4_ihl_past_total_length", DEC_LINK_ETHERNET, b_v4_ihl_past_total, PKT_NONE, DEC_A_IPV4_BAD_IHL, 0, NULL },
	{ "ipv4_total_length_past_frame", DEC_LINK_ETHERNET, b_v4_total_past_frame, PKT_NONE, DEC_A_IPV4_BAD_LEN, 0, NULL },
	{ "ipv4_total_length_under_20", DEC_LINK_ETHERNET, b_v4_total_lt_20, PKT_NONE, DEC_A_IPV4_BAD_LEN, 0, NULL },
	{ "ipv4_header_trunc", DEC_LINK_ETHERNET, b_v4_trunc, PKT_NONE, DEC_A_IPV4_TRUNC, 0, NULL },
	{ "ipv4_snaplen_cut", DEC_LINK_ETHERNET, b_v4_snaplen_cut, PKT_NONE, DEC_A_IPV4_TRUNC, 10, NULL },
	{ "ipv4_bad_version", DEC_LINK_ETHERNET, b_v4_bad_version, PKT_NONE, DEC_A_IPV4_BAD_VERSION, 0, NULL },
	{ "ipv4_icmp_other_l4", DEC_LINK_ETHERNET, b_v4_icmp, PKT_IP, -1, 0, c_v4_icmp },
	{ "udp_len_under_8", DEC_LINK_ETHERNET, b_v4_udp_bad_len, PKT_NONE, DEC_A_UDP_BAD_LEN, 0, NULL },
	{ "udp_len_past_ip", DEC_LINK_ETHERNET, b_v4_udp_len_past_ip, PKT_NONE, DEC_A_UDP_BAD_LEN, 0, NULL },
	{ "udp_trunc", DEC_LINK_ETHERNET, b_v4_udp_trunc, PKT_NONE, DEC_A_UDP_TRUNC, 0, NULL },
	{ "tcp_synack_options", DEC_LINK_ETHERNET, b_tcp_syn_options, PKT_IP, -1, 0, c_tcp },
	{ "tcp_bad_data_offset", DEC_LINK_ETHERNET, b_tcp_bad_offset, PKT_NONE, DEC_A_TCP_BAD_OFFSET, 0, NULL },
	{ "tcp_data_offset_past_end", DEC_LINK_ETHERNET, b_tcp_offset_past_end, PKT_NONE, DEC_A_TCP_BAD_OFFSET, 0, NULL },
	{ "tcp_trunc", DEC_LINK_ETHERNET, b_tcp_trunc, PKT_NONE, DEC_A_TCP_TRUNC, 0, NULL },
	{ "ipv6_udp", DEC_LINK_ETHERNET, b_v6_udp, PKT_IP, -1, 0, c_v6_udp },
	{ "ipv6_hbh_dstopt_atomic_frag_rh_ah", DEC_LINK_ETHERNET, b_v6_ext_chain, PKT_IP, -1, 0, c_v6_ext_chain },
	{ "ipv6_ext_too_many", DEC_LINK_ETHERNET, b_v6_ext_too_many, PKT_NONE, DEC_A_IPV6_EXT_TOO_MANY, 0, NULL },
	{ "ipv6_ext_trunc", DEC_LINK_ETHERNET, b_v6_ext_trunc, PKT_NONE, DEC_A_IPV6_EXT_TRUNC, 0, NULL },
	{ "ipv6_esp_stops", DEC_LINK_ETHERNET, b_v6_esp, PKT_IP, -1, 0, c_v6_esp },
	{ "ipv6_payload_length_past_frame", DEC_LINK_ETHERNET, b_v6_bad_len, PKT_NONE, DEC_A_IPV6_BAD_LEN, 0, NULL },
	{ "ipv6_bad_version", DEC_LINK_ETHERNET, b_v6_bad_version, PKT_NONE, DEC_A_IPV6_BAD_VERSION, 0, NULL },
	{ "ipv6_header_trunc", DEC_LINK_ETHERNET, b_v6_trunc, PKT_NONE, DEC_A_IPV6_TRUNC, 0, NULL },
	{ "ipv6_snaplen_cut", DEC_LINK_ETHERNET, b_v6_udp, PKT_NONE, DEC_A_IPV6_TRUNC, 4, NULL },
	{ "icmpv6_router_advertisement", DEC_LINK_ETHERNET, b_icmpv6_ra, PKT_IP, -1, 0, c_icmpv6_ra },
	{ "icmpv6_trunc", DEC_LINK_ETHERNET, b_icmpv6_trunc, PKT_NONE, DEC_A_ICMPV6_TRUNC, 0, NULL },
};

int main(void)
{
	return run_tcases("decode_ip", cases, sizeof(cases) / sizeof(cases[0]));
}
