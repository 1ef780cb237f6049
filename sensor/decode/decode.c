/* decode.c — frame dispatch and link layers: Ethernet II with 802.1Q/802.1ad
 * stacks, Linux cooked v1/v2, BSD null/loop, raw IP.
 *
 * IEEE 802.3 (Ethernet II type field), IEEE 802.1Q (C-tag 0x8100, S-tag
 * 0x88a8, legacy QinQ 0x9100); link-layer header formats as documented by
 * tcpdump.org/linktypes.html (LINKTYPE_NULL, _LOOP, _LINUX_SLL, _LINUX_SLL2,
 * _RAW, _IPV4, _IPV6).
 */
#include "decode/decode.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"

/* Defaults of dec_conf (decode.h): 1024 datagrams per family is far above
 * what a home network fragments at once (fragmented DNS is rare) while one
 * buffer holds the largest IP payload, 65535 bytes, plus 40 of headers. */
#define DEC_DEF_FRAG_MAX 1024u
#define DEC_DEF_FRAG_BYTES (65535u + 40u)
#define DEC_DEF_FRAG_TIMEOUT_US (30ull * 1000000ull)

/* dec_expire() looks at no more than this many entries per family per call:
 * at most one entry is created per frame and the expiry is meant to be
 * called about once per frame, so 16 keeps up with any arrival rate and
 * bounds the call to a few hundred nanoseconds. */
#define DEC_EXPIRE_BUDGET 16u

/* IEEE 802 EtherTypes. */
#define ETH_IPV4 0x0800
#define ETH_ARP 0x0806
#define ETH_IPV6 0x86dd
#define ETH_CTAG 0x8100  /* IEEE 802.1Q */
#define ETH_STAG 0x88a8  /* IEEE 802.1ad */
#define ETH_QINQ 0x9100  /* pre-802.1ad QinQ, still common on switches */

/* Two tags: a customer tag inside a service tag (IEEE 802.1ad). Deeper
 * stacks do not occur on a home or office SPAN port and are refused so a
 * frame of nothing but tags costs nothing. */
#define DEC_VLAN_MAX 2

/* Linux cooked capture packet types (PACKET_* in <linux/if_packet.h>). */
#define SLL_OUTGOING 4

static const char *const anomaly_names[DEC_A_MAX] = {
	[DEC_A_LINK_TRUNC] = "link_trunc",
	[DEC_A_LINK_UNKNOWN] = "link_unknown",
	[DEC_A_VLAN_TRUNC] = "vlan_trunc",
	[DEC_A_VLAN_TOO_DEEP] = "vlan_too_deep",
	[DEC_A_ARP_TRUNC] = "arp_trunc",
	[DEC_A_ARP_BAD] = "arp_bad",
	[DEC_A_IPV4_TRUNC] = "ipv4_trunc",
	[DEC_A_IPV4_BAD_VERSION] = "ipv4_bad_version",
	[DEC_A_IPV4_BAD_IHL] = "ipv4_bad_ihl",
	[DEC_A_IPV4_BAD_LEN] = "ipv4_bad_len",
	[DEC_A_IPV4_FRAG_OVERLAP] = "ipv4_frag_overlap",
	[DEC_A_IPV4_FRAG_TOO_BIG] = "ipv4_frag_too_big",
	[DEC_A_IPV4_FRAG_TIMEOUT] = "ipv4_frag_timeout",
	[DEC_A_IPV4_FRAG_EVICTED] = "ipv4_frag_evicted",
	[DEC_A_IPV6_TRUNC] = "ipv6_trunc",
	[DEC_A_IPV6_BAD_VERSION] = "ipv6_bad_version",
	[DEC_A_IPV6_BAD_LEN] = "ipv6_bad_len",
	[DEC_A_IPV6_EXT_TRUNC] = "ipv6_ext_trunc",
	[DEC_A_IPV6_EXT_TOO_MANY] = "ipv6_ext_too_many",
	[DEC_A_IPV6_FRAG_OVERLAP] = "ipv6_frag_overlap",
	[DEC_A_IPV6_FRAG_TOO_BIG] = "ipv6_frag_too_big",
	[DEC_A_IPV6_FRAG_TIMEOUT] = "ipv6_frag_timeout",
	[DEC_A_IPV6_FRAG_EVICTED] = "ipv6_frag_evicted",
	[DEC_A_UDP_TRUNC] = "udp_trunc",
	[DEC_A_UDP_BAD_LEN] = "udp_bad_len",
	[DEC_A_TCP_TRUNC] = "tcp_trunc",
	[DEC_A_TCP_BAD_OFFSET] = "tcp_bad_offset",
	[DEC_A_ICMPV6_TRUNC] = "icmpv6_trunc",
	[DEC_A_IPV4_FRAG_BAD] = "ipv4_frag_bad",
	[DEC_A_IPV6_FRAG_BAD] = "ipv6_frag_bad",
};

struct dec_ctx *dec_new(const struct dec_conf *conf)
{
	struct dec_ctx *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	if (conf != NULL)
		d->conf = *conf;
	if (d->conf.frag_max == 0)
		d->conf.frag_max = DEC_DEF_FRAG_MAX;
	if (d->conf.frag_max_bytes == 0)
		d->conf.frag_max_bytes = DEC_DEF_FRAG_BYTES;
	if (d->conf.frag_timeout_us == 0)
		d->conf.frag_timeout_us = DEC_DEF_FRAG_TIMEOUT_US;
	if (dec_frag_init(&d->f4, d->conf.frag_max, d->conf.frag_max_bytes,
			  d->conf.frag_timeout_us, 0) != 0 ||
	    dec_frag_init(&d->f6, d->conf.frag_max, d->conf.frag_max_bytes,
			  d->conf.frag_timeout_us, 1) != 0) {
		dec_free(d);
		return NULL;
	}
	return d;
}

void dec_free(struct dec_ctx *d)
{
	if (d == NULL)
		return;
	dec_frag_fini(&d->f4);
	dec_frag_fini(&d->f6);
	free(d);
}

/* Everything after the link header: VLAN tags, then the EtherType decides.
 * IPv4 is tested first because it is nearly every frame. */
static int dec_ethertype(struct dec_ctx *d, struct rd *r, uint16_t type,
			 struct pkt *p)
{
	if (type == ETH_IPV4)
		return dec_ipv4(d, r, p);
	while (type == ETH_CTAG || type == ETH_STAG || type == ETH_QINQ) {
		if (p->nvlan == DEC_VLAN_MAX)
			return dec_anom(d, DEC_A_VLAN_TOO_DEEP);
		/* IEEE 802.1Q §9.6: TCI = PCP(3) DEI(1) VID(12), then the type. */
		uint16_t tci = rd_u16(r);
		type = rd_u16(r);
		if (r->err)
			return dec_anom(d, DEC_A_VLAN_TRUNC);
		if (p->nvlan > 0)
			p->vlan_outer = p->vlan;
		p->vlan = tci & 0x0fff;
		p->nvlan++;
	}
	switch (type) {
	case ETH_IPV4:
		return dec_ipv4(d, r, p);
	case ETH_IPV6:
		return dec_ipv6(d, r, p);
	case ETH_ARP:
		return dec_arp(d, r, p);
	default:
		/* Other EtherTypes and 802.3 length fields (< 0x0600, LLC):
		 * nothing the sensor uses. */
		return PKT_NONE;
	}
}

static int dec_eth(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	rd_copy(r, p->dst_mac, 6);
	rd_copy(r, p->src_mac, 6);
	uint16_t type = rd_u16(r);
	if (r->err)
		return dec_anom(d, DEC_A_LINK_TRUNC);
	p->has_mac = 1;
	return dec_ethertype(d, r, type, p);
}

/* Linux cooked headers carry only the sender's link address. It is a MAC
 * when its length is 6; for "outgoing" frames it is the capturing host. */
static void dec_sll_addr(struct pkt *p, const uint8_t addr[8], unsigned alen,
			 unsigned pkttype)
{
	if (alen != 6)
		return;
	p->has_mac = 1;
	memcpy(p->src_mac, addr, 6);
	memset(p->dst_mac, 0, 6);
	p->outgoing = pkttype == SLL_OUTGOING;
}

/* LINKTYPE_LINUX_SLL: packet type(2) ARPHRD(2) address length(2)
 * address(8) protocol(2) = 16 bytes. */
static int dec_sll(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	uint8_t addr[8];
	uint16_t pkttype = rd_u16(r);
	rd_skip(r, 2);
	uint16_t alen = rd_u16(r);
	rd_copy(r, addr, 8);
	uint16_t proto = rd_u16(r);
	if (r->err)
		return dec_anom(d, DEC_A_LINK_TRUNC);
	dec_sll_addr(p, addr, alen, pkttype);
	return dec_ethertype(d, r, proto, p);
}

/* LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) ARPHRD(2)
 * packet type(1) address length(1) address(8) = 20 bytes. */
static int dec_sll2(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	uint8_t addr[8];
	uint16_t proto = rd_u16(r);
	rd_skip(r, 8);
	uint8_t pkttype = rd_u8(r);
	uint8_t alen = rd_u8(r);
	rd_copy(r, addr, 8);
	if (r->err)
		return dec_anom(d, DEC_A_LINK_TRUNC);
	dec_sll_addr(p, addr, alen, pkttype);
	return dec_ethertype(d, r, proto, p);
}

/* BSD address family of LINKTYPE_NULL / _LOOP: AF_INET is 2 everywhere;
 * AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (Darwin). */
static int dec_family(struct dec_ctx *d, struct rd *r, uint32_t fam,
		      struct pkt *p)
{
	switch (fam) {
	case 2:
		return dec_ipv4(d, r, p);
	case 24:
	case 28:
	case 30:
		return dec_ipv6(d, r, p);
	default:
		return PKT_NONE;
	}
}

/* Raw IP: the version nibble decides (RFC 791 §3.1, RFC 8200 §3). */
static int dec_raw(struct dec_ctx *d, struct rd *r, struct pkt *p)
{
	struct rd peek = *r;
	uint8_t v = rd_u8(&peek) >> 4;
	if (peek.err)
		return dec_anom(d, DEC_A_LINK_TRUNC);
	if (v == 6)
		return dec_ipv6(d, r, p);
	return dec_ipv4(d, r, p); /* counts ipv4_bad_version when not 4 */
}

int dec_frame(struct dec_ctx *d, int link, const uint8_t *frame,
	      uint32_t caplen, uint32_t wirelen, uint64_t ts_us, struct pkt *p)
{
	struct rd r;
	int kind;

	rd_init(&r, frame, caplen);
	d->cut = caplen < wirelen;
	p->ts_us = ts_us;
	p->wirelen = wirelen;
	p->has_mac = 0;
	p->outgoing = 0;
	p->nvlan = 0;
	p->vlan = 0;
	p->vlan_outer = 0;
	p->reassembled = 0;

	switch (link) {
	case DEC_LINK_ETHERNET:
		kind = dec_eth(d, &r, p);
		break;
	case DEC_LINK_SLL:
		kind = dec_sll(d, &r, p);
		break;
	case DEC_LINK_SLL2:
		kind = dec_sll2(d, &r, p);
		break;
	case DEC_LINK_NULL: {
		/* Host byte order of the capturing machine: a family in the
		 * high half means the other byte order. */
		uint32_t fam = rd_u32le(&r);
		if (r.err) {
			kind = dec_anom(d, DEC_A_LINK_TRUNC);
			break;
		}
		if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
		kind = dec_family(d, &r, fam, p);
		break;
	}
	case DEC_LINK_LOOP: {
		uint32_t fam = rd_u32(&r);
		if (r.err) {
			kind = dec_anom(d, DEC_A_LINK_TRUNC);
			break;
		}
		kind = dec_family(d, &r, fam, p);
		break;
	}
	case DEC_LINK_RAW:
	case DEC_LINK_RAW_LT:
		kind = dec_raw(d, &r, p);
		break;
	case DEC_LINK_IPV4:
		kind = dec_ipv4(d, &r, p);
		break;
	case DEC_LINK_IPV6:
		kind = dec_ipv6(d, &r, p);
		break;
	default:
		kind = dec_anom(d, DEC_A_LINK_UNKNOWN);
		break;
	}
	p->key_vlan = d->conf.vlan_tracking ? p->vlan : 0;
	p->kind = (uint8_t)kind;
	return kind;
}

/* Transport dispatch after the IP layer. Protocols without a decoder are
 * handed on as PKT_IP with their protocol number in l4, ports 0 and the
 * payload the bytes after the IP headers, so the device table sees them. */
int dec_l4(struct dec_ctx *d, uint8_t proto, struct rd *r, struct pkt *p)
{
	p->l4 = proto;
	switch (proto) {
	case DEC_P_UDP:
		return dec_udp(d, r, p);
	case DEC_P_TCP:
		return dec_tcp(d, r, p);
	case DEC_P_ICMPV6:
		if (p->ip_ver == 6)
			return dec_icmpv6(d, r, p);
		break;
	default:
		break;
	}
	p->sport = 0;
	p->dport = 0;
	p->payload_len = (uint32_t)rd_left(r);
	p->payload = rd_ptr(r, p->payload_len);
	return PKT_IP;
}

void dec_expire(struct dec_ctx *d, uint64_t now_us)
{
	dec_frag_expire(d, &d->f4, now_us, DEC_EXPIRE_BUDGET);
	dec_frag_expire(d, &d->f6, now_us, DEC_EXPIRE_BUDGET);
}

const uint64_t *dec_anomalies(const struct dec_ctx *d)
{
	return d->anom;
}

uint64_t dec_reassembled(const struct dec_ctx *d)
{
	return d->reassembled;
}

const char *dec_anomaly_name(int a)
{
	if (a < 0 || a >= DEC_A_MAX || anomaly_names[a] == NULL)
		return "unknown";
	return anomaly_names[a];
}

int dec_link_supported(int link)
{
	switch (link) {
	case DEC_LINK_NULL:
	case DEC_LINK_ETHERNET:
	case DEC_LINK_RAW:
	case DEC_LINK_RAW_LT:
	case DEC_LINK_LOOP:
	case DEC_LINK_SLL:
	case DEC_LINK_IPV4:
	case DEC_LINK_IPV6:
	case DEC_LINK_SLL2:
		return 1;
	default:
		return 0;
	}
}
