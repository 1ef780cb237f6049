/* arp.c — ARP requests and replies for Ethernet/IPv4 (RFC 826). */
#include "decode/decode_int.h"

/* RFC 826 "Packet format": hardware type 1 (Ethernet), protocol type 0x0800
 * (IPv4), address lengths 6 and 4, opcode 1 request / 2 reply, then the
 * sender and target hardware and protocol addresses: 28 bytes. Other
 * hardware or protocol types and other opcodes (RFC 903 RARP, RFC 2390
 * InARP) count as arp_bad. Bytes after the 28 are Ethernet padding. */
int dec_arp(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	uint16_t htype = rd_u16(r);
	uint16_t ptype = rd_u16(r);
	uint8_t hlen = rd_u8(r);
	uint8_t plen = rd_u8(r);
	uint16_t op = rd_u16(r);
	if (r->err)
		return dec_anom(d, DEC_A_ARP_TRUNC);
	if (htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4 ||
	    (op != 1 && op != 2))
		return dec_anom(d, DEC_A_ARP_BAD);
	rd_copy(r, p->arp_sha, 6);
	rd_copy(r, p->arp_spa, 4);
	rd_copy(r, p->arp_tha, 6);
	rd_copy(r, p->arp_tpa, 4);
	if (r->err)
		return dec_anom(d, DEC_A_ARP_TRUNC);
	p->arp_op = op;
	return PKT_ARP;
}
