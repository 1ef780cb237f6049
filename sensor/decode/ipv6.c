/* ipv6.c — IPv6 header and extension headers (RFC 8200, RFC 4302 for AH,
 * RFC 6946 atomic fragments); fragments go to frag.c. */
#include "decode/decode_int.h"

#include <string.h>

/* RFC 8200 §4.1 recommends each extension header at most once, destination
 * options at most twice: hop-by-hop, destination options, routing,
 * fragment, AH, ESP, destination options make 7. A longer chain is not a
 * real packet, and the cap bounds the work a crafted one can cause. */
#define IPV6_EXT_MAX 8

#define IPV6_HDR_LEN 40u
/* The payload length field is 16 bits (RFC 8200 §3); jumbograms (RFC 2675)
 * are not handled. */
#define IPV6_MAX_PLEN 65535u

/* Walks the extension header chain from `nh` over `pl`; a fragment header
 * sends the rest to reassembly and, once a datagram is complete, the walk
 * carries on inside it with the first fragment's next header (RFC 8200
 * §4.5). ESP (RFC 4303) and unknown headers end the walk: they are handed on
 * as the L4 protocol. */
int dec_ipv6(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	size_t avail = rd_left(r);
	uint32_t vtf = rd_u32(r);
	uint16_t plen = rd_u16(r);
	uint8_t nh = rd_u8(r);
	uint8_t hlim = rd_u8(r);
	rd_copy(r, p->src_ip, 16);
	rd_copy(r, p->dst_ip, 16);
	if (r->err)
		return dec_anom(d, DEC_A_IPV6_TRUNC);
	if (vtf >> 28 != 6)
		return dec_anom(d, DEC_A_IPV6_BAD_VERSION);
	if (plen > avail - IPV6_HDR_LEN)
		return dec_anom(d, d->cut ? DEC_A_IPV6_TRUNC : DEC_A_IPV6_BAD_LEN);
	p->ip_ver = 6;
	p->ip_ttl = hlim;
	p->ip_len = IPV6_HDR_LEN + plen;

	struct rd pl;
	unsigned next = 0;
	rd_sub(r, plen, &pl);
	for (;;) {
		switch (nh) {
		case DEC_P_HOPOPT:
		case DEC_P_ROUTING:
		case DEC_P_DSTOPTS:
		case DEC_P_AH: {
			if (++next > IPV6_EXT_MAX)
				return dec_anom(d, DEC_A_IPV6_EXT_TOO_MANY);
			uint8_t nnh = rd_u8(&pl);
			size_t elen = rd_u8(&pl);
			/* RFC 8200 §4.3-4.6: length in 8-octet units not
			 * counting the first 8; RFC 4302 §2.2: AH in 4-octet
			 * units minus 2. */
			elen = nh == DEC_P_AH ? (elen + 2) * 4 : (elen + 1) * 8;
			rd_skip(&pl, elen - 2);
			if (pl.err)
				return dec_anom(d, DEC_A_IPV6_EXT_TRUNC);
			nh = nnh;
			continue;
		}
		case DEC_P_FRAGMENT: {
			if (++next > IPV6_EXT_MAX)
				return dec_anom(d, DEC_A_IPV6_EXT_TOO_MANY);
			size_t fstart = pl.off;
			uint8_t fnh = rd_u8(&pl);
			rd_skip(&pl, 1);
			uint16_t offm = rd_u16(&pl);
			uint32_t id = rd_u32(&pl);
			if (pl.err)
				return dec_anom(d, DEC_A_IPV6_EXT_TRUNC);
			/* RFC 8200 §4.5: offset in the high 13 bits (8-octet
			 * units), M flag in bit 0. Offset 0 without M is an
			 * atomic fragment, processed as a whole packet
			 * (RFC 6946 §4). */
			uint32_t off = offm & 0xfff8u;
			uint8_t more = offm & 1u;
			if (off == 0 && !more) {
				nh = fnh;
				continue;
			}
			if (p->reassembled)
				return dec_anom(d, DEC_A_IPV6_FRAG_BAD);
			struct frag_in in;
			struct frag_out out;
			memset(&in.key, 0, sizeof(in.key));
			memcpy(in.key.src, p->src_ip, 16);
			memcpy(in.key.dst, p->dst_ip, 16);
			in.key.id = id;
			in.off = off;
			in.more = more;
			in.len = (uint32_t)rd_left(&pl);
			in.data = rd_ptr(&pl, in.len);
			/* Unfragmentable part: the fixed header and the
			 * extension headers before this one. */
			in.hdr_len = IPV6_HDR_LEN + (uint32_t)fstart;
			in.limit = IPV6_MAX_PLEN - (uint32_t)fstart;
			in.ttl = hlim;
			in.nh = fnh;
			in.ts_us = p->ts_us;
			if (!dec_frag_add(d, &d->f6, &in, &out))
				return PKT_NONE;
			p->reassembled = 1;
			p->ip_ttl = out.ttl;
			p->ip_len = out.hdr_len + out.len;
			rd_init(&pl, out.data, out.len);
			nh = out.nh;
			continue;
		}
		default:
			break;
		}
		break;
	}
	return dec_l4(d, nh, &pl, p);
}
