/* ipv4.c — IPv4 header and the hand-off to fragment reassembly (RFC 791,
 * RFC 815; IPv4-mapped addresses per RFC 4291 §2.5.5.2). */
#include "decode/decode_int.h"

#include <string.h>

/* ::ffff:0:0/96, the prefix of IPv4-mapped IPv6 addresses. */
static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* RFC 791 §3.1 flags and fragment offset field. */
#define IPV4_MF 0x2000
#define IPV4_OFFMASK 0x1fff

/* Largest IPv4 datagram: the 16-bit total length (RFC 791 §3.1). */
#define IPV4_MAX_LEN 65535u

/* Reads the header, checks it in the order that names the most specific
 * fault, trims Ethernet padding (the window becomes exactly total length)
 * and hands the payload to the fragment table or the transport decoder. The
 * header checksum is not verified: offload leaves it wrong on frames the
 * capturing host sends, and a bad one changes nothing the sensor reports. */
int dec_ipv4(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	size_t start = r->off;
	size_t avail = rd_left(r);
	uint8_t vihl = rd_u8(r);
	rd_skip(r, 1); /* DSCP/ECN */
	uint16_t tot = rd_u16(r);
	uint16_t id = rd_u16(r);
	uint16_t fo = rd_u16(r);
	uint8_t ttl = rd_u8(r);
	uint8_t proto = rd_u8(r);
	rd_skip(r, 2); /* header checksum */
	rd_copy(r, p->src_ip + 12, 4);
	rd_copy(r, p->dst_ip + 12, 4);
	if (r->err)
		return dec_anom(d, DEC_A_IPV4_TRUNC);
	if (vihl >> 4 != 4)
		return dec_anom(d, DEC_A_IPV4_BAD_VERSION);
	size_t ihl = (size_t)(vihl & 0x0f) * 4;
	/* RFC 791 §3.1: IHL is at least 5 words; total length counts header
	 * and data, so it covers the header and fits in what was captured. */
	if (tot < 20)
		return dec_anom(d, DEC_A_IPV4_BAD_LEN);
	if (ihl < 20)
		return dec_anom(d, DEC_A_IPV4_BAD_IHL);
	if (tot > avail)
		return dec_anom(d, d->cut ? DEC_A_IPV4_TRUNC : DEC_A_IPV4_BAD_LEN);
	if (ihl > tot)
		return dec_anom(d, DEC_A_IPV4_BAD_IHL);

	memcpy(p->src_ip, v4mapped, 12);
	memcpy(p->dst_ip, v4mapped, 12);
	p->ip_ver = 4;
	p->ip_ttl = ttl;
	p->ip_len = tot;

	struct rd pl;
	rd_seek(r, start + ihl); /* past the options */
	rd_sub(r, tot - ihl, &pl);

	if ((fo & (IPV4_MF | IPV4_OFFMASK)) != 0) {
		struct frag_in in;
		struct frag_out out;
		memset(&in.key, 0, sizeof(in.key));
		memcpy(in.key.src, p->src_ip, 16);
		memcpy(in.key.dst, p->dst_ip, 16);
		in.key.id = id;
		in.key.proto = proto; /* RFC 791 §3.2: src, dst, protocol, id */
		in.off = (uint32_t)(fo & IPV4_OFFMASK) * 8;
		in.more = (fo & IPV4_MF) != 0;
		in.len = (uint32_t)rd_left(&pl);
		in.data = rd_ptr(&pl, in.len);
		in.limit = IPV4_MAX_LEN - (uint32_t)ihl;
		in.hdr_len = (uint32_t)ihl;
		in.ttl = ttl;
		in.nh = proto;
		in.ts_us = p->ts_us;
		if (!dec_frag_add(d, &d->f4, &in, &out))
			return PKT_NONE;
		p->reassembled = 1;
		p->ip_ttl = out.ttl;
		p->ip_len = out.hdr_len + out.len;
		rd_init(&pl, out.data, out.len);
	}
	return dec_l4(d, proto, &pl, p);
}
