/* udp.c — UDP header (RFC 768). */
#include "decode/decode_int.h"

/* RFC 768: the length field counts header and data, so it is at least 8 and
 * at most the IP payload. Bytes of the IP payload past it are ignored. A
 * zero length (RFC 2675 jumbograms) is not handled and counts as bad. The
 * checksum is not verified: checksum offload leaves it wrong on frames the
 * capturing host sends. */
int dec_udp(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	size_t avail = rd_left(r);
	p->sport = rd_u16(r);
	p->dport = rd_u16(r);
	uint16_t ulen = rd_u16(r);
	rd_skip(r, 2);
	if (r->err)
		return dec_anom(d, DEC_A_UDP_TRUNC);
	if (ulen < 8 || ulen > avail)
		return dec_anom(d, DEC_A_UDP_BAD_LEN);
	p->payload_len = (uint32_t)ulen - 8;
	p->payload = rd_ptr(r, p->payload_len);
	return PKT_IP;
}
