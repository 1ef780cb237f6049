/* icmpv6.c — ICMPv6 type and code (RFC 4443 §2.1; bodies per RFC 4861). */
#include "decode/decode_int.h"

/* RFC 4443 §2.1: type(1) code(1) checksum(2), then the message body, which
 * is what `payload` points at (for a Router Advertisement, RFC 4861 §4.2,
 * the body starts with Cur Hop Limit). The checksum is not verified. */
int dec_icmpv6(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	p->icmp_type = rd_u8(r);
	p->icmp_code = rd_u8(r);
	rd_skip(r, 2);
	if (r->err)
		return dec_anom(d, DEC_A_ICMPV6_TRUNC);
	p->sport = 0;
	p->dport = 0;
	p->payload_len = (uint32_t)rd_left(r);
	p->payload = rd_ptr(r, p->payload_len);
	return PKT_IP;
}
