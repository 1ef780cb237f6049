/* tcp.c — TCP header (RFC 9293 §3.1); options are skipped, not parsed. */
#include "decode/decode_int.h"

/* RFC 9293 §3.1: the data offset counts 32-bit words of header, at least 5
 * (20 bytes) and at most the segment. The flags byte is kept whole (CWR ECE
 * URG ACK PSH RST SYN FIN, high to low). */
int dec_tcp(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	size_t avail = rd_left(r);
	p->sport = rd_u16(r);
	p->dport = rd_u16(r);
	p->tcp_seq = rd_u32(r);
	p->tcp_ack = rd_u32(r);
	uint8_t off = rd_u8(r) >> 4;
	p->tcp_flags = rd_u8(r);
	rd_skip(r, 6); /* window, checksum, urgent pointer */
	if (r->err)
		return dec_anom(d, DEC_A_TCP_TRUNC);
	if (off < 5 || (size_t)off * 4 > avail)
		return dec_anom(d, DEC_A_TCP_BAD_OFFSET);
	rd_skip(r, (size_t)off * 4 - 20);
	p->payload_len = (uint32_t)rd_left(r);
	p->payload = rd_ptr(r, p->payload_len);
	return PKT_IP;
}
