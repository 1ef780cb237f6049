/* decode_int.h — internals shared by the files of the decode layer only.
 *
 * Other layers include decode.h; this header exposes the decoder context,
 * the fragment tables and the per-protocol entry points between the files
 * of sensor/decode/.
 */
#ifndef SW_DECODE_DECODE_INT_H
#define SW_DECODE_DECODE_INT_H

#include <stdint.h>

#include "decode/decode.h"
#include "common/rd.h"

/* IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define DEC_P_HOPOPT 0
#define DEC_P_TCP 6
#define DEC_P_UDP 17
#define DEC_P_ROUTING 43
#define DEC_P_FRAGMENT 44
#define DEC_P_ESP 50
#define DEC_P_AH 51
#define DEC_P_ICMPV6 58
#define DEC_P_DSTOPTS 60

/* Reassembly key: fixed size and zeroed before filling so it can be hashed
 * and compared as bytes. IPv6 leaves proto at 0 (RFC 8200 §4.5 keys on
 * source, destination and identification only). */
struct frag_key {
	uint8_t src[16];  /* source address (IPv4-mapped for IPv4) */
	uint8_t dst[16];  /* destination address */
	uint32_t id;      /* IPv4 identification or IPv6 fragment identification */
	uint8_t proto;    /* IPv4 protocol; 0 for IPv6 */
	uint8_t pad[3];   /* always zero */
};

struct frag_ent;

/* One bounded reassembly table (one per IP family), allocated whole by
 * dec_frag_init(). Memory: cap × (buf_size + buf_size / 64 + ~96) bytes;
 * with the defaults (1024 × 65575) about 65 MiB of address space per family,
 * of which only the pages of slots ever used become resident: free slots
 * are reused last-freed-first, so a sensor that sees a few fragmented
 * datagrams at a time touches only a few buffers. */
struct frag_tab {
	struct frag_ent *ent;  /* cap entries */
	uint8_t *buf;          /* cap × buf_size bytes: fragmentable part of each datagram */
	uint8_t *map;          /* cap × map_size bytes: one bit per 8-byte block received */
	uint32_t *bucket;      /* hash chain heads, nbucket of them (power of two) */
	uint32_t nbucket;
	uint32_t cap;          /* entries */
	uint32_t used;         /* entries in use (live or dead) */
	uint32_t free_head;    /* free list through ent[].hnext, last freed first */
	uint32_t age_head;     /* oldest entry (first fragment earliest) */
	uint32_t age_tail;     /* newest entry */
	uint32_t buf_size;     /* bytes per datagram buffer (conf.frag_max_bytes) */
	uint32_t map_size;     /* bytes per bitmap */
	uint64_t timeout_us;   /* incomplete datagrams older than this are dropped */
	uint64_t hkey[2];      /* SipHash key, random per table */
	uint8_t a_overlap;     /* this family's anomaly numbers */
	uint8_t a_too_big;
	uint8_t a_timeout;
	uint8_t a_evicted;
	uint8_t a_bad;
};

/* A fragment offered to the table. */
struct frag_in {
	struct frag_key key;
	const uint8_t *data;   /* fragment data (points into the frame) */
	uint32_t len;          /* bytes of data */
	uint32_t off;          /* byte offset in the fragmentable part */
	uint32_t limit;        /* largest end offset the IP length field allows */
	uint32_t hdr_len;      /* IP header (+ unfragmentable extension headers) */
	uint64_t ts_us;
	uint8_t more;          /* more fragments follow (IPv4 MF, IPv6 M) */
	uint8_t ttl;
	uint8_t nh;            /* IPv4 protocol, or IPv6 next header of the fragment header */
};

/* A datagram rebuilt. `data` points into the table and stays valid until
 * the next dec_frame() call. Header facts are those of the first fragment. */
struct frag_out {
	const uint8_t *data;
	uint32_t len;
	uint32_t hdr_len;
	uint8_t ttl;
	uint8_t nh;
};

struct dec_ctx {
	struct dec_conf conf;     /* effective sizes (defaults applied) */
	uint64_t anom[DEC_A_MAX]; /* anomaly counters */
	uint64_t reassembled;     /* datagrams rebuilt, v4 + v6 */
	uint8_t cut;              /* current frame: caplen < wirelen (snaplen cut it) */
	struct frag_tab f4;
	struct frag_tab f6;
};

static inline int dec_anom(struct dec_ctx *d, int a)
{
	d->anom[a]++;
	return PKT_NONE;
}

/* Per-protocol decoders. Each takes a reader whose window is exactly the
 * bytes of its protocol unit (or the rest of the frame for IP), fills the
 * fields of *p it owns and returns a pkt_kind; malformations count an
 * anomaly and return PKT_NONE. */
int dec_arp(struct dec_ctx *d, struct rd *r, struct pkt *p);
int dec_ipv4(struct dec_ctx *d, struct rd *r, struct pkt *p);
int dec_ipv6(struct dec_ctx *d, struct rd *r, struct pkt *p);
int dec_l4(struct dec_ctx *d, uint8_t proto, struct rd *r, struct pkt *p);
int dec_udp(struct dec_ctx *d, struct rd *r, struct pkt *p);
int dec_tcp(struct dec_ctx *d, struct rd *r, struct pkt *p);
int dec_icmpv6(struct dec_ctx *d, struct rd *r, struct pkt *p);

/* Fragment tables (frag.c). dec_frag_init() allocates everything a table
 * will ever use; 0 or SW_ENOMEM / SW_ERANGE. dec_frag_fini() frees it (safe
 * on a zeroed or half-built table). dec_frag_add() returns 1 and fills *out
 * when `in` completes a datagram, 0 when the fragment is held or dropped
 * (an anomaly is counted when dropped for a reason). dec_frag_expire()
 * drops at most `budget` incomplete datagrams older than the timeout. */
int dec_frag_init(struct frag_tab *t, uint32_t cap, uint32_t buf_size,
		  uint64_t timeout_us, int v6);
void dec_frag_fini(struct frag_tab *t);
int dec_frag_add(struct dec_ctx *d, struct frag_tab *t,
		 const struct frag_in *in, struct frag_out *out);
void dec_frag_expire(struct dec_ctx *d, struct frag_tab *t, uint64_t now_us,
		     uint32_t budget);

#endif
