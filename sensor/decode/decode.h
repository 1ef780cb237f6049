/* decode.h — link, network and transport layers: one frame in, one `struct pkt` out.
 *
 * Ethernet (+802.1Q/802.1ad stacks), Linux cooked v1/v2, BSD null/loop, raw
 * IP; ARP; IPv4 with fragment reassembly (RFC 791, RFC 815); IPv6 with
 * extension headers and fragment reassembly (RFC 8200); UDP; TCP; ICMPv6
 * (RFC 4443, RFC 4861). Every malformation is a named anomaly with a counter;
 * the decoder never allocates after dec_new(), does no I/O and holds no
 * globals.
 */
#ifndef SW_DECODE_DECODE_H
#define SW_DECODE_DECODE_H

#include <stdint.h>
#include <stddef.h>

/* Link types, numbered as pcap's LINKTYPE_ / DLT_ values on Linux. */
enum dec_link {
	DEC_LINK_NULL = 0,       /* BSD loopback, 4-byte host-order family */
	DEC_LINK_ETHERNET = 1,
	DEC_LINK_RAW = 12,       /* DLT_RAW on Linux: raw IPv4 or IPv6 */
	DEC_LINK_RAW_LT = 101,   /* LINKTYPE_RAW as written in pcap files */
	DEC_LINK_LOOP = 108,     /* OpenBSD loopback, network-order family */
	DEC_LINK_SLL = 113,      /* Linux cooked v1 */
	DEC_LINK_IPV4 = 228,
	DEC_LINK_IPV6 = 229,
	DEC_LINK_SLL2 = 276      /* Linux cooked v2 */
};

/* What dec_frame() made of a frame. */
enum pkt_kind {
	PKT_NONE = 0, /* nothing to hand on: anomaly, held fragment, other protocol */
	PKT_IP,       /* an IP datagram with its L4 header decoded (UDP, TCP, ICMPv6) */
	PKT_ARP       /* an ARP request or reply over Ethernet/IPv4 */
};

/* Decoder anomalies: every malformed or suspicious thing has a name and a
 * counter. Keep dec_anomaly_name() in the same order. */
enum dec_anomaly {
	DEC_A_LINK_TRUNC = 0,     /* frame shorter than its link header */
	DEC_A_LINK_UNKNOWN,       /* unsupported link type */
	DEC_A_VLAN_TRUNC,
	DEC_A_VLAN_TOO_DEEP,      /* more than 2 VLAN tags */
	DEC_A_ARP_TRUNC,
	DEC_A_ARP_BAD,            /* not Ethernet/IPv4 ARP */
	DEC_A_IPV4_TRUNC,
	DEC_A_IPV4_BAD_VERSION,
	DEC_A_IPV4_BAD_IHL,       /* IHL < 5 or past the total length */
	DEC_A_IPV4_BAD_LEN,       /* total length < header or > captured */
	DEC_A_IPV4_FRAG_OVERLAP,
	DEC_A_IPV4_FRAG_TOO_BIG,  /* reassembled size would pass 65535 */
	DEC_A_IPV4_FRAG_TIMEOUT,  /* dropped incomplete after the timeout */
	DEC_A_IPV4_FRAG_EVICTED,  /* dropped incomplete because the table was full */
	DEC_A_IPV6_TRUNC,
	DEC_A_IPV6_BAD_VERSION,
	DEC_A_IPV6_BAD_LEN,
	DEC_A_IPV6_EXT_TRUNC,
	DEC_A_IPV6_EXT_TOO_MANY,  /* more extension headers than the cap */
	DEC_A_IPV6_FRAG_OVERLAP,
	DEC_A_IPV6_FRAG_TOO_BIG,
	DEC_A_IPV6_FRAG_TIMEOUT,
	DEC_A_IPV6_FRAG_EVICTED,
	DEC_A_UDP_TRUNC,
	DEC_A_UDP_BAD_LEN,
	DEC_A_TCP_TRUNC,
	DEC_A_TCP_BAD_OFFSET,
	DEC_A_ICMPV6_TRUNC,
	DEC_A_IPV4_FRAG_BAD,      /* MF fragment not a multiple of 8, or one
				   * past the end another fragment declared */
	DEC_A_IPV6_FRAG_BAD,      /* same for IPv6 (RFC 8200 §4.5), or a fragment
				   * header inside a reassembled datagram */
	DEC_A_MAX
};

/* One decoded packet. Addresses are 16 bytes; IPv4 ones are stored
 * IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) so every key is one size.
 * `payload` points into the frame or into the decoder's reassembly buffer and
 * is valid only until the next dec_frame() call.
 *
 * dec_frame() does not clear the struct (it runs for every packet); it sets
 * only the fields a packet's kind makes valid. Read nothing else:
 *   every frame:   ts_us, wirelen, kind, has_mac, outgoing, nvlan, vlan,
 *                  vlan_outer, key_vlan, reassembled (the rest may hold any value
 *                  on PKT_NONE)
 *   has_mac == 1:  src_mac, dst_mac (dst_mac is zero on Linux cooked links)
 *   PKT_IP:        ip_ver, ip_ttl, l4, src_ip, dst_ip, ip_len, sport, dport
 *                  (0 unless l4 is UDP or TCP), payload, payload_len
 *     l4 == TCP:   tcp_flags (the whole flags byte), tcp_seq, tcp_ack
 *     l4 == ICMPv6 (IPv6 only): icmp_type, icmp_code
 *     other l4 (ICMPv4, ESP, no-next-header…): payload is what follows the
 *                  IP headers; the packet is handed on so devices are seen
 *   PKT_ARP:       arp_op, arp_sha, arp_spa, arp_tha, arp_tpa */
struct pkt {
	uint64_t ts_us;          /* packet time, microseconds since the epoch */
	uint32_t wirelen;        /* frame length on the wire */
	uint8_t kind;            /* enum pkt_kind */
	uint8_t has_mac;         /* 0 on raw IP / null links: no MACs known */
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t nvlan;           /* VLAN tags seen (0..2) */
	uint16_t vlan;           /* innermost VLAN ID (12 bits), 0 when untagged */
	uint16_t vlan_outer;     /* outer VLAN ID of a QinQ stack, else 0 */
	/* The VLAN that keys devices, queries, flows and bindings: vlan with
	 * dec_conf.vlan_tracking, else 0, so that a mirror port tagging one
	 * direction only (or each with another tag) still pairs a response
	 * with its query and keeps one device. vlan stays what the frame had. */
	uint16_t key_vlan;

	uint8_t ip_ver;          /* 4 or 6 (PKT_IP) */
	uint8_t ip_ttl;          /* IPv4 TTL or IPv6 hop limit */
	uint8_t l4;              /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMPV6, or other */
	uint8_t reassembled;     /* 1 when built from IP fragments */
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint32_t ip_len;         /* IP datagram length (after reassembly) */

	uint16_t sport;          /* UDP/TCP ports, host order */
	uint16_t dport;
	uint8_t tcp_flags;       /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t icmp_type;       /* ICMPv6 type and code */
	uint8_t icmp_code;

	const uint8_t *payload;  /* L4 payload (UDP/TCP data, ICMPv6 body after type/code/cksum) */
	uint32_t payload_len;

	/* PKT_ARP only (RFC 826) */
	uint16_t arp_op;         /* 1 request, 2 reply */
	uint8_t arp_sha[6];
	uint8_t arp_spa[4];
	uint8_t arp_tha[6];
	uint8_t arp_tpa[4];

	uint8_t outgoing;        /* 1 when a Linux cooked header says the capturing
				  * host sent the frame: src_mac is the sensor's own */
};

/* Sizes of the bounded fragment tables. */
struct dec_conf {
	uint32_t frag_max;        /* datagrams under reassembly, v4 and v6 each */
	uint32_t frag_max_bytes;  /* largest datagram rebuilt (<= 65535 + headers) */
	uint64_t frag_timeout_us; /* an incomplete datagram is dropped after this */
	uint8_t vlan_tracking;    /* key_vlan = vlan (networks reusing addresses
				   * across VLANs); 0: key_vlan = 0 */
};

struct dec_ctx;

/* Allocates a decoder with its fragment tables; NULL on allocation failure.
 * A zero field in `conf` takes the default (1024 datagrams, 65535 + 40
 * bytes, 30 s, as RFC 8200 §4.5 suggests 60 s and IoT DNS needs far less). */
struct dec_ctx *dec_new(const struct dec_conf *conf);
void dec_free(struct dec_ctx *d);

/* Decodes one frame of link type `link` (enum dec_link). Fills *p and returns
 * its kind. PKT_NONE for anything the sensor does not use, malformed frames
 * (an anomaly is counted) and fragments held for reassembly. Never reads past
 * caplen. `p->payload` may point into `d`, valid until the next call. */
int dec_frame(struct dec_ctx *d, int link, const uint8_t *frame,
	      uint32_t caplen, uint32_t wirelen, uint64_t ts_us, struct pkt *p);

/* Drops incomplete datagrams older than the timeout, looking at a bounded
 * number of entries per call so the packet loop never stalls. */
void dec_expire(struct dec_ctx *d, uint64_t now_us);

/* Anomaly counters, DEC_A_MAX of them, owned by d. */
const uint64_t *dec_anomalies(const struct dec_ctx *d);
/* Fragment datagrams rebuilt so far (v4 + v6). */
uint64_t dec_reassembled(const struct dec_ctx *d);
/* Stable snake_case name of an anomaly, e.g. "ipv4_frag_overlap". */
const char *dec_anomaly_name(int a);
/* 1 when the link type is supported. */
int dec_link_supported(int link);

#endif
