/* dns.h — DNS message parser, names, EDNS(0), and DNS-over-TCP framing.
 *
 * RFC 1035 (messages, names, compression), RFC 2181, RFC 3596 (AAAA),
 * RFC 2782 (SRV), RFC 9460 (SVCB/HTTPS), RFC 6891 (EDNS(0)), RFC 7873
 * (COOKIE), RFC 7871 (ECS), RFC 7830 (PADDING), RFC 8914 (EDE),
 * RFC 7766 (DNS over TCP). mDNS (RFC 6762) and LLMNR (RFC 4795) share the
 * wire format; the caller marks them by port.
 *
 * The parser is zero-copy for RDATA: a `struct dns_msg` keeps offsets into
 * the caller's buffer, which must outlive the uses of those offsets
 * (dns_rdata_text(), dns_name_at()). The first question's name is copied,
 * lower-cased, because it is a table key. No allocation, no globals.
 */
#ifndef SW_DNS_DNS_H
#define SW_DNS_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255      /* RFC 1035 §2.3.4: 255 octets on the wire */
#define DNS_LABEL_MAX 63      /* RFC 1035 §2.3.4 */
#define DNS_NAME_TEXT 1024    /* presentation form, room for \DDD escapes */
#define DNS_PTR_HOPS 64       /* compression hops per name; pointers must also go backwards */
#define DNS_MAX_RR 64         /* RRs kept per message; IoT answers hold a handful,
                               * the rest are counted in `rr_dropped` */
#define DNS_MAX_OPTS 16       /* EDNS options kept per OPT RR */

/* Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_Z 0x0040
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010

enum dns_section { DNS_SEC_AN = 1, DNS_SEC_NS = 2, DNS_SEC_AR = 3 };

/* EDNS option codes (IANA "DNS EDNS0 Option Codes"). */
enum dns_opt_code {
	DNS_OPT_NSID = 3,
	DNS_OPT_ECS = 8,
	DNS_OPT_EXPIRE = 9,
	DNS_OPT_COOKIE = 10,
	DNS_OPT_KEEPALIVE = 11,
	DNS_OPT_PADDING = 12,
	DNS_OPT_EDE = 15
};

/* Parse problems, recorded per message. Parsing stops at the first one but
 * everything parsed before it stays usable. Three kinds do not stop parsing
 * (DNS_A_OPT_BAD, DNS_A_RDATA_BAD, DNS_A_QDCOUNT; DNS_A_TRAILING comes last
 * anyway): `anomaly` holds the one that stopped parsing if any, else the
 * first of those; `anomalies` has a bit (1u << a) for every one seen. */
enum dns_anomaly {
	DNS_A_NONE = 0,
	DNS_A_HDR_TRUNC,       /* fewer than 12 bytes */
	DNS_A_QD_TRUNC,        /* question section runs past the end */
	DNS_A_RR_TRUNC,        /* an RR header or RDATA runs past the end */
	DNS_A_NAME_LOOP,       /* pointer loop, forward pointer or too many hops */
	DNS_A_LABEL_TOO_LONG,  /* label > 63 or reserved label type 0x40/0x80 */
	DNS_A_NAME_TOO_LONG,   /* name > 255 octets */
	DNS_A_OPT_BAD,         /* OPT not root-owned, more than one, or bad option lengths */
	DNS_A_RDATA_BAD,       /* RDATA length wrong for its type (A != 4, AAAA != 16, ...) */
	DNS_A_TRAILING,        /* bytes after the last counted RR */
	DNS_A_QDCOUNT,         /* qdcount != 1 on a standard query */
	DNS_A_MAX
};

struct dns_rr {
	uint16_t name_off;   /* owner name offset in the message */
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint16_t rdata_off;  /* offset of RDATA in the message */
	uint8_t section;     /* enum dns_section */
	uint32_t ttl;
};

struct dns_opt {
	uint16_t code;
	uint16_t len;
	uint16_t off;        /* offset of option data in the message */
};

struct dns_msg {
	const uint8_t *buf;  /* the message; not owned */
	uint16_t len;

	uint16_t id;
	uint16_t flags;      /* raw 16 flag bits: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode */
	uint8_t opcode;      /* (flags >> 11) & 0xf */
	uint16_t rcode;      /* 12-bit: header rcode | OPT extended rcode << 4 (RFC 6891 §6.1.3) */
	uint16_t qdcount, ancount, nscount, arcount;

	/* First question (the only one in practice). */
	uint8_t has_q;
	uint16_t qtype;
	uint16_t qclass;     /* with the mDNS unicast-response bit (0x8000) kept */
	uint16_t qname_len;  /* bytes in qname, without the NUL */
	char qname[DNS_NAME_TEXT]; /* lower-cased presentation form without the final
	                            * dot ("." alone for the root), \DDD escapes for
	                            * bytes outside [a-z0-9-_] */
	uint16_t qname_off;  /* offset of the question name in the message */
	uint16_t q_end;      /* offset just past the first question (name, type, class):
	                      * the size of the header and question; 0 without one */

	/* OPT pseudo-RR (RFC 6891 §6.1.2). */
	uint8_t has_opt;
	uint8_t edns_version;
	uint8_t edns_do;     /* DO bit (RFC 3225) */
	uint16_t udp_size;   /* requestor's UDP payload size */
	uint8_t nopts;
	struct dns_opt opts[DNS_MAX_OPTS];
	uint8_t opts_dropped; /* options parsed but not kept (more than DNS_MAX_OPTS),
	                       * saturates at 255 */

	uint16_t nrr;        /* RRs kept in rr[], OPT excluded */
	uint16_t rr_dropped; /* RRs parsed but not kept (more than DNS_MAX_RR) */
	struct dns_rr rr[DNS_MAX_RR];

	uint8_t anomaly;     /* enum dns_anomaly, DNS_A_NONE when clean */
	uint16_t anomalies;  /* bit set: 1u << enum dns_anomaly for each one seen */
};

/* Parses a whole message into *m. Returns 0 when the header parsed (even if a
 * later section is damaged: m->anomaly says what and where parsing stopped),
 * SW_ETRUNC when fewer than 12 bytes. Never reads outside buf[0..len).
 * Only the fields the parse reached are set (rr[] up to nrr, opts[] up to
 * nopts, qname when has_q); *m is not cleared as a whole. A buffer longer
 * than 65535 bytes (no DNS message can be) is parsed up to 65535 and the
 * rest counts as DNS_A_TRAILING. */
int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m);

/* dns_parse() of the header and the question section only, for a caller
 * that needs the ID, flags, counts and the first question of a message
 * it does not otherwise parse: the fields up to q_end are set as
 * dns_parse() sets them, the RR sections are not read (nrr = 0, has_opt =
 * 0, no DNS_A_TRAILING). Same return codes. */
int dns_parse_question(const uint8_t *buf, size_t len, struct dns_msg *m);

/* The ID and the flags of the message in buf[0..len) from its header
 * (RFC 1035 §4.1.1) without parsing it, for a caller that decides by them
 * whether to look further: 0, or -1 (SW_ETRUNC) when fewer than 12
 * bytes, *id and *flags then untouched. */
static inline int dns_peek_header(const uint8_t *buf, size_t len, uint16_t *id, uint16_t *flags)
{
	if (len < 12)
		return -1;
	*id = (uint16_t)(buf[0] << 8 | buf[1]);
	*flags = (uint16_t)(buf[2] << 8 | buf[3]);
	return 0;
}

/* Decodes the name at `off` in the message to presentation form (original
 * case kept, or lower-cased when `lower`), NUL-terminated, without the final
 * dot ("." for the root). Follows compression pointers only backwards, at
 * most DNS_PTR_HOPS, enforces labels <= 63 and names <= 255 octets.
 * *next (may be NULL) receives the offset after the name as it sits in the
 * message. Returns the text length, or SW_ETRUNC / SW_ELOOP / SW_ETOOLONG /
 * SW_EMALFORMED (a label type 0x40 or 0x80, i.e. a length byte 64..191).
 * When the text does not fit in outsz (DNS_NAME_TEXT always fits) it returns
 * SW_EFULL; out is always NUL-terminated when outsz > 0. */
int dns_name_at(const uint8_t *msg, size_t len, size_t off, char *out,
		size_t outsz, int lower, size_t *next);

/* dns_name_at(..., lower = 1, ...) for the common name: no compression
 * pointer, every byte a letter, digit, '-' or '_'. Returns the text length,
 * or -1 when the name is anything else (dns_name_at() then decides). Needs
 * outsz >= DNS_NAME_MAX + 1. */
int dns_name_plain(const uint8_t *msg, size_t len, size_t off, char *out,
		   size_t outsz, size_t *next);

/* A reader of one name's labels in a message that follows compression
 * pointers by dns_name_at()'s rules (strictly backwards, DNS_PTR_HOPS at
 * most) without writing text: start it with dns_label_start() at the
 * name's offset, then each dns_label_next() gives the length of the next
 * label (0: the root, the end of the name) with its octets at
 * m->buf + *lab, or -1 where dns_name_at() would stop or fail. */
struct dns_label_cur {
	size_t off;                   /* next length octet */
	size_t run;                   /* start of the current run of labels */
	unsigned hops;                /* compression pointers followed */
};

static inline void dns_label_start(struct dns_label_cur *c, size_t off)
{
	c->off = c->run = off;
	c->hops = 0;
}

int dns_label_next(const struct dns_msg *m, struct dns_label_cur *c, size_t *lab);

/* 1 when the names at offsets a and b of message m surely differ: a label
 * differs (ASCII case folded, RFC 4343) before either name ends, reading
 * both by dns_name_at()'s rules without writing text. 0 when they may be
 * equal (or either cannot be read): only comparing their texts decides. */
int dns_names_differ(const struct dns_msg *m, size_t a, size_t b);

/* Checks the name at `off` by the same rules as dns_name_at() without
 * writing text (the parse path uses it for owner names). *next (may be
 * NULL) receives the offset after the name as it sits in the message.
 * Returns 0 or SW_ETRUNC / SW_ELOOP / SW_ETOOLONG / SW_EMALFORMED. */
int dns_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *next);

/* Writes the RDATA of rr in presentation form (an address, a name, "10
 * mx.example", a quoted TXT string list, SOA's seven fields, "SVCB 1 . alpn=h2,h3", ...; unknown
 * types as RFC 3597 "\# len hex"). Returns the length or a negative error.
 * Names in RDATA are written lower-cased. RDATA that is malformed for its
 * type (A of 5 bytes, a name running past RDLENGTH) is written in the RFC
 * 3597 form too. SW_EFULL when the text does not fit in outsz (out is then
 * NUL-terminated but incomplete), SW_EINVAL when rr lies outside m. Uses
 * snprintf: meant for logging, not for the packet path. */
int dns_rdata_text(const struct dns_msg *m, const struct dns_rr *rr,
		   char *out, size_t outsz);

/* The smallest TTL over the answer section (CNAMEs included), or UINT32_MAX
 * when it holds no RR. Only RRs kept in rr[] count; a TTL with the top bit
 * set counts as 0 (RFC 2181 §8). */
uint32_t dns_answer_min_ttl(const struct dns_msg *m);

/* For a negative answer (NXDOMAIN or NODATA): the SOA MINIMUM in the
 * authority section capped by the SOA's own TTL (RFC 2308 §5), or -1.
 * A response (QR set) is negative when its rcode is NXDOMAIN, or NOERROR
 * with no answer RR of the question's type (RFC 2308 §2.2; a CNAME chain
 * that ends without one is NODATA too). */
int64_t dns_negative_ttl(const struct dns_msg *m);

const char *dns_type_name(uint16_t type);    /* "A", "AAAA", ... or NULL */
const char *dns_rcode_name(uint16_t rcode);  /* "NOERROR", "NXDOMAIN", ... or NULL */
const char *dns_opcode_name(uint8_t opcode); /* "QUERY", ... or NULL */
const char *dns_opt_name(uint16_t code);     /* "COOKIE", "ECS", ... or NULL */
const char *dns_anomaly_name(int a);         /* "dns_name_loop", ... */

/* --- DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8) ---------------------------
 * One direction of one TCP connection. Messages are 2-byte length-prefixed;
 * a segment can hold several messages and a message can span segments. The
 * state is small and fixed; the buffer for a message that spans segments is
 * given by the caller (bounded). */
#define DNS_TCP_CARRY 14  /* a length prefix and a DNS header (RFC 1035 §4.1.1) */

struct dns_tcp {
	uint32_t next_seq;   /* sequence number expected next */
	uint16_t need;       /* length of the message being assembled (0: reading the prefix) */
	uint16_t have;       /* bytes of it (and of the prefix) held in buf */
	uint8_t synced;      /* next_seq is known */
	uint8_t prefix_have; /* bytes of the 2-byte prefix seen (0..2) */
	uint8_t prefix[2];
	uint8_t skipping;    /* discarding a message larger than the buffer */
	uint8_t hunting;     /* after a gap or a mid-stream start: looking for a
	                      * plausible message before framing again */
	uint16_t skip_left;
	/* While hunting, the last bytes of a segment too few to judge (a lone
	 * length prefix, a header cut short): judged with the next segment. */
	uint8_t carry_len;
	uint8_t carry[DNS_TCP_CARRY];
};

/* Called once per complete message, with a pointer valid only for the call. */
typedef void (*dns_tcp_cb)(void *arg, const uint8_t *msg, size_t len);

/* Counters a stream reports back to the caller. */
enum dns_tcp_event {
	DNS_TCP_OK = 0,
	DNS_TCP_GAP = 1,      /* data missing before this segment: partial message
	                       * dropped, framing resumes at the next plausible message */
	DNS_TCP_OVERSIZE = 2, /* a message longer than the buffer was skipped */
	DNS_TCP_RETRANS = 4,  /* bytes already seen were ignored */
	DNS_TCP_SKIPPED = 8   /* bytes after a gap or a mid-stream start that begin no
	                       * plausible message were skipped */
};

/* Resets the stream; `seq` is the sequence number of the first data byte
 * (ISN + 1 after a SYN), or pass synced = 0 to start at the first segment
 * (which is then searched for a plausible message, as after a gap). */
void dns_tcp_init(struct dns_tcp *t, uint32_t seq, int synced);

/* Feeds one segment's payload at sequence number `seq`. Complete messages go
 * to cb; a message split over segments is assembled in buf (capacity cap).
 * Returns a bit set of enum dns_tcp_event.
 * A message that sits whole in one segment (after its prefix) is handed to
 * cb straight from `data`, whatever cap is; cap only bounds assembly, so a
 * message that spans segments and is longer than cap is skipped
 * (DNS_TCP_OVERSIZE). cap = 65535 never skips. Here the prefix is kept in
 * t->prefix and `have` counts message bytes only. A segment that starts
 * before next_seq has its already-seen bytes cut (DNS_TCP_RETRANS) and the
 * rest used; sequence numbers compare modulo 2^32 (RFC 1982 style).
 * After a gap, or on a stream joined mid-way, framing resumes only where a
 * length prefix is followed by a plausible DNS message (dns_tcp_plausible);
 * the bytes before it are skipped (DNS_TCP_SKIPPED), so the rest of a lost
 * message is never read as messages of its own. */
int dns_tcp_feed(struct dns_tcp *t, uint32_t seq, const uint8_t *data,
		 size_t len, uint8_t *buf, size_t cap, dns_tcp_cb cb, void *arg);

/* 1 when the `n` bytes at `p` start with a 2-byte length prefix and the
 * start of a DNS message that could be real: a known opcode, Z clear, at
 * most one question, section counts that fit the length, and the first name
 * (the question's, or an answer's owner in a zone transfer's later message)
 * with its type and class whole within the message. 0 when they cannot be;
 * -1 when the n bytes end before that can be decided. */
int dns_tcp_plausible(const uint8_t *p, size_t n);

/* 1 while the caller's buffer holds part of a message (it must pass the
 * same buffer next time); 0 when it may lend the buffer to another stream. */
int dns_tcp_pending(const struct dns_tcp *t);

#endif
