/* encrypted.c — encrypted DNS per flow and per device (DETECTIONS.md
 * "Encrypted DNS", scorecard line 2).
 *
 * RFC 7858 §3.1 (DoT on 853/TCP), RFC 8484 (DoH on HTTPS), RFC 9250 §4.1.1
 * and §8 (DoQ: ALPN "doq", 853/UDP; drafts used 784 and 8853), RFC 9462 §4
 * (DDR: SVCB queries for _dns.resolver.arpa), RFC 9463 (DNR), RFC 8310
 * (usage profiles: a device that picks its own encrypted resolver bypasses
 * the network's).
 *
 * Only TCP 443/853 and UDP 443/853/784/8853 reach this file past a port
 * test. A flow enters a small bounded table when it starts (a client SYN, a
 * client payload that opens with a TLS handshake record, or a QUIC long
 * header from the client) and is classified from its first packets: the
 * client's bytes go to the sensor's own ClientHello parser (TCP stream or
 * QUIC Initial decryption, sensor/tls) and every packet, both ways, to nDPI,
 * until both have spoken or ENC_MAX_PACKETS have passed. The flow then stays
 * in the table as a few dozen bytes marked done, so its later packets cost
 * one lookup; and while no flow at all is being classified, packets that
 * cannot start one are not even looked up. Nothing here grows with DNS
 * transactions: Do53 never reaches nDPI.
 *
 * The parser's 4-4.6 KiB of per-flow state comes from a fixed pool of
 * ENC_SLOTS slots, taken at the client's first payload and given back at
 * the verdict, which is usually the same packet; when the pool is empty the
 * flow is classified by nDPI alone (counted).
 */
#include "detect/encrypted.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "detect/assign.h"
#include "detect/custom.h"
#include "output/event.h"
#include "output/jw.h"
#include "tls/tls.h"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

#define PORT_HTTPS 443    /* RFC 8484 uses HTTPS; RFC 9114 HTTP/3 on UDP 443 */
#define PORT_DOT 853      /* RFC 7858 §3.1, RFC 9250 §8 */
#define PORT_DOQ_OLD1 784 /* draft-ietf-dprive-dnsoquic-00..02 */
#define PORT_DOQ_OLD2 8853 /* draft-huitema-quic-dnsoquic, early AdGuard */

/* Flow entries: handshaking and recently classified TLS/QUIC flows. An
 * entry is a 40-byte key and a 40-byte value plus the table's links, about
 * 110 bytes: 16,384 of them are 1.8 MiB, several times the flows an IoT
 * network of thousands of devices opens per minute on these ports. (Wanted
 * as config: encrypted.flows_max.) */
#define ENC_FLOWS_MAX 16384
/* A classified flow's entry is dropped after this much idle time. It only
 * has to outlive the packets that could look like a new flow (SYN and hello
 * retransmissions, QUIC long-header packets of the handshake), which come
 * within seconds. (Wanted as config: encrypted.flow_timeout.) */
#define ENC_FLOW_IDLE_US (60 * SEC)
/* Packets of one flow (both directions) looked at before it is judged with
 * what is known: TCP handshake (3) + a ClientHello in up to 3 segments +
 * the server's first flight; a QUIC hello takes 1-2 Initials. Same as the
 * nDPI wrapper's budget. */
#define ENC_MAX_PACKETS 8
/* Parser slots (one struct tls_stream or tls_quic_flow, and the nDPI
 * result while the hello is still incomplete: 5.0 KiB). A slot is held
 * only between a client's first payload and the flow's verdict, which is
 * the same packet unless the hello spans segments or Initials; those
 * arrive back to back, so even 10,000 handshakes a second hold a few dozen
 * at once. 256 x 5.0 KiB = 1.25 MiB. (Wanted as config: encrypted.parse_buffers.) */
#define ENC_SLOTS 256
/* nDPI flow states: flows in their first packets at once (x 688 B). */
#define ENC_DPI_FLOWS 4096
/* Encrypted-DNS endpoints remembered per device. A stub uses one or two
 * (a primary and a fallback); browsers-in-devices a few more. Further ones
 * are counted in endpoints_dropped. */
#define ENC_EPS 8
/* Text kept per endpoint: DoH/DoT names are short (the longest in
 * rules/resolvers.json is 32 characters); longer SNIs are cut. */
#define ENC_SNI 64
#define ENC_ALPN 32
/* Flows expired per tick at most, so one second of packet time never
 * stalls on a table full of idle entries. */
#define ENC_EXPIRE_BUDGET 1024
/* Time buckets of the encryption.none window: queries are counted per
 * eighth of the window, so "the last window_s seconds" is exact to 1/8. */
#define ENC_BUCKETS 8

enum { P_WAIT = 0, P_COLLECT, P_OK, P_FAIL, P_NONE };
enum { FL_ACTIVE = 0, FL_DONE = 1 };
enum { K_DOT = 0, K_DOH, K_DOQ, K_KINDS };

static const char *const kind_names[K_KINDS] = { "dot", "doh", "doq" };

struct enc_key {
	uint8_t a[16];
	uint8_t b[16];
	uint16_t pa;
	uint16_t pb;
	uint16_t vlan;
	uint8_t l4;
	uint8_t pad;
};

struct enc_flow {
	uint64_t last_ts;
	int64_t dpi;          /* nDPI handle, -1 when none */
	int32_t slot;         /* parser slot, -1 when none */
	uint32_t next_seq;    /* TCP: the client's next in-order sequence number */
	uint8_t client_a;     /* 1: endpoint a of the key is the client */
	uint8_t state;        /* FL_ACTIVE, FL_DONE */
	uint8_t parse;        /* P_*: the sensor's own parser */
	uint8_t have_seq;     /* next_seq is known */
	uint8_t npkts;        /* packets looked at */
	uint8_t fin;          /* FINs seen */
	uint8_t has_mac;
	uint8_t mac[6];       /* the client's MAC, for its device */
	uint16_t vlan;        /* the opening packet's tags, for the events */
	uint16_t vlan_outer;
};

/* A parser slot: the hello's assembly state, and nDPI's verdict when it
 * came first. */
struct enc_slot {
	union {
		struct tls_stream st;
		struct tls_quic_flow qf;
	} u;
	struct tls_dpi_result dpi;
	uint8_t have_dpi;
};

/* An encrypted-DNS endpoint a device used: 216 bytes. */
struct enc_ep {
	uint8_t ip[16];
	uint16_t port;
	uint8_t kind;         /* K_* */
	uint8_t sanctioned;
	uint8_t quic;
	uint32_t flows;
	uint64_t first_seen;
	uint64_t last_seen;
	char sni[ENC_SNI];
	char alpn[ENC_ALPN];
	char ja3[TLS_JA3_HEX];
	char ja4[TLS_JA4_TEXT];
};

/* Per device slot: 128 bytes, two cache lines, reset when the slot takes
 * a new device. A query reads and writes the first line only; the second
 * changes with encrypted flows and when the window moves on by an eighth.
 * Its endpoints live in a separate array (ENC_EPS x 216 B per slot),
 * written only once a device uses encrypted DNS, so the pages of the many
 * devices that never do stay untouched. */
struct enc_dev {
	/* First line: the encryption.none window's count per eighth, a ring
	 * (buckets[0] is the eighth at index bucket0) ... */
	uint32_t buckets[ENC_BUCKETS];
	/* ... the bucket the latest query went to, so the next queries of
	 * the same eighth count without a division: buckets[cur] covers
	 * [cur_start, cur_end), whose length is the bucket length it was
	 * found at (cur_end == cur_start: none) ... */
	uint64_t cur_start, cur_end;
	uint64_t total;            /* ... and the sum of buckets[] */
	uint8_t cur;
	/* Second line. */
	_Alignas(64) uint64_t bucket0; /* index (time / bucket length) of buckets[0] */
	uint32_t flows[K_KINDS];
	uint32_t sanctioned_flows;
	uint32_t unsanctioned_flows;
	uint32_t ddr_queries;      /* SVCB queries for _dns.resolver.arpa */
	uint32_t eps_dropped;      /* endpoints past ENC_EPS */
	uint8_t nep;
	uint8_t none_alerted_escalated;
	uint16_t pad;
	uint64_t last_enc;         /* packet time of the last encrypted flow */
	uint64_t first_enc;
};
_Static_assert(sizeof(struct enc_dev) == 128, "two lines per device, as stated above");

struct enc_stats {
	uint64_t flows;            /* flow entries created */
	uint64_t classified[K_KINDS];
	uint64_t not_dns;          /* judged: ordinary TLS/QUIC, or not TLS at all */
	uint64_t by_hello;         /* verdicts with the sensor's ClientHello */
	uint64_t by_ndpi_only;
	uint64_t budget;           /* judged at the packet budget */
	uint64_t ended;            /* judged at FIN/RST or expiry */
	uint64_t evicted_active;   /* pushed out of a full table mid-handshake */
	uint64_t hellos;           /* ClientHellos parsed */
	uint64_t parse_failed;
	uint64_t tcp_gaps;         /* client bytes missing: parser gave up */
	uint64_t slots_exhausted;  /* a flow wanted a parser slot, none free */
	uint32_t slots_peak;
	uint64_t lookups;          /* packets looked up in the flow table */
	uint64_t skipped;          /* packets on the ports that needed no lookup */
	uint64_t tls_events;
	uint64_t alerts_unsanctioned;
	uint64_t ddr_queries;
};

struct enc_mod {
	struct engine *e;
	struct tbl *flows;
	struct tls_dpi *dpi;
	struct tls_quic *quic;
	struct enc_slot *slots;
	int32_t *free_slots;
	uint32_t nfree;
	uint32_t active;           /* flows being classified */
	struct enc_dev *dev;       /* devices_max entries, aligned to a cache line */
	void *dev_mem;             /* what holds them */
	struct enc_ep *eps;        /* devices_max x ENC_EPS */
	uint32_t ndev;
	struct enc_stats st;
	struct tls_hello h;        /* scratch */
	uint8_t ip[65535 + 68];    /* scratch: the packet as nDPI reads it */
};

/* --- ports and the packet for nDPI ---------------------------------------- */

static int tcp_port(uint16_t p)
{
	return p == PORT_HTTPS || p == PORT_DOT;
}

static int udp_port(uint16_t p)
{
	return p == PORT_HTTPS || p == PORT_DOT || p == PORT_DOQ_OLD1 || p == PORT_DOQ_OLD2;
}

/* A first sieve for the port test, cheaper than its comparisons: one bit
 * per value of a port's low six bits that a port of interest has (443:
 * 59, 853 and 8853: 21, 784: 16). DNS (53) and mDNS (5353: 41) do not
 * pass it, nor do 61 in 64 ephemeral ports. */
#define PORT_SIEVE (1ull << (PORT_HTTPS & 63) | 1ull << (PORT_DOT & 63) | \
		    1ull << (PORT_DOQ_OLD1 & 63) | 1ull << (PORT_DOQ_OLD2 & 63))

static inline int ports_of_interest(uint8_t l4, uint16_t sport, uint16_t dport)
{
	if (!(((PORT_SIEVE >> (sport & 63)) | (PORT_SIEVE >> (dport & 63))) & 1))
		return 0;
	if (l4 == IPPROTO_TCP)
		return tcp_port(sport) || tcp_port(dport);
	if (l4 == IPPROTO_UDP)
		return udp_port(sport) || udp_port(dport);
	return 0;
}

int enc_ports_of_interest(uint8_t l4, uint16_t sport, uint16_t dport)
{
	return ports_of_interest(l4, sport, dport);
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v);
}

size_t enc_build_ip(const struct pkt *p, uint8_t *out, size_t cap)
{
	size_t l4h = p->l4 == IPPROTO_TCP ? 20 : p->l4 == IPPROTO_UDP ? 8 : 0;
	size_t iph = p->ip_ver == 6 ? 40 : 20;
	if (l4h == 0 || cap < iph + l4h)
		return 0;
	size_t room = cap - iph - l4h;
	if (room > 65535 - iph - l4h)
		room = 65535 - iph - l4h;
	size_t pl = p->payload_len < room ? p->payload_len : room;
	size_t tot = iph + l4h + pl;
	memset(out, 0, iph + l4h);
	if (p->ip_ver == 6) {
		/* RFC 8200 §3 */
		out[0] = 0x60;
		be16(out + 4, (uint32_t)(l4h + pl));
		out[6] = p->l4;
		out[7] = p->ip_ttl;
		memcpy(out + 8, p->src_ip, 16);
		memcpy(out + 24, p->dst_ip, 16);
	} else {
		/* RFC 791 §3.1: no options, DF, not a fragment */
		out[0] = 0x45;
		be16(out + 2, (uint32_t)tot);
		out[6] = 0x40;
		out[8] = p->ip_ttl;
		out[9] = p->l4;
		memcpy(out + 12, p->src_ip + 12, 4);
		memcpy(out + 16, p->dst_ip + 12, 4);
	}
	uint8_t *l4 = out + iph;
	be16(l4, p->sport);
	be16(l4 + 2, p->dport);
	if (p->l4 == IPPROTO_TCP) {
		/* RFC 9293 §3.1 */
		be32(l4 + 4, p->tcp_seq);
		be32(l4 + 8, p->tcp_ack);
		l4[12] = 5 << 4;
		l4[13] = p->tcp_flags;
		be16(l4 + 14, 65535);
	} else {
		be16(l4 + 4, (uint32_t)(8 + pl));
	}
	if (pl)
		memcpy(out + iph + l4h, p->payload, pl);
	return tot;
}

/* --- pools ------------------------------------------------------------------ */

static int32_t slot_take(struct enc_mod *m)
{
	if (m->nfree == 0) {
		m->st.slots_exhausted++;
		return -1;
	}
	int32_t i = m->free_slots[--m->nfree];
	if (ENC_SLOTS - m->nfree > m->st.slots_peak)
		m->st.slots_peak = ENC_SLOTS - m->nfree;
	m->slots[i].have_dpi = 0;
	return i;
}

static void slot_give(struct enc_mod *m, struct enc_flow *f)
{
	if (f->slot >= 0) {
		m->free_slots[m->nfree++] = f->slot;
		f->slot = -1;
	}
}

/* Frees what a flow holds; it is no longer active. */
static void flow_release(struct enc_mod *m, struct enc_flow *f)
{
	if (f->dpi >= 0) {
		struct tls_dpi_result r;
		tls_dpi_close(m->dpi, f->dpi, &r);
		f->dpi = -1;
	}
	slot_give(m, f);
	if (f->state == FL_ACTIVE) {
		f->state = FL_DONE;
		m->active--;
	}
}

static void flow_evicted(void *arg, const void *key, void *val)
{
	struct enc_mod *m = arg;
	struct enc_flow *f = val;
	(void)key;
	if (f->state == FL_ACTIVE)
		m->st.evicted_active++;
	flow_release(m, f);
}

/* --- module life -------------------------------------------------------------- */

static void enc_destroy(void *arg)
{
	struct enc_mod *m = arg;
	if (m == NULL)
		return;
	if (m->flows != NULL) {
		/* nDPI handles go back before the wrapper goes. */
		for (struct enc_flow *f = tbl_next(m->flows, NULL); f != NULL;
		     f = tbl_next(m->flows, f))
			flow_release(m, f);
		tbl_free(m->flows);
	}
	tls_dpi_free(m->dpi);
	tls_quic_free(m->quic);
	free(m->slots);
	free(m->free_slots);
	free(m->dev_mem);
	free(m->eps);
	free(m);
}

static void *enc_create(struct engine *e, char *err, size_t errlen)
{
	struct enc_mod *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "encrypted DNS: out of memory");
		return NULL;
	}
	m->e = e;
	m->ndev = e->cfg->devices_max;
	int rc = 0;
	tls_init();
	struct tls_dpi_cfg dc = { .max_flows = ENC_DPI_FLOWS, .max_packets = ENC_MAX_PACKETS };
	m->dpi = tls_dpi_new(&dc, &rc);
	if (m->dpi == NULL) {
		snprintf(err, errlen, "encrypted DNS: cannot set up nDPI (%s)",
			 rc == SW_EINVAL ? "its flow size differs from the headers stubwatch "
			 "was built with: rebuild against the installed libndpi-dev" : "out of memory");
		goto fail;
	}
	m->quic = tls_quic_new(&rc);
	m->flows = tbl_new("tls_flows", ENC_FLOWS_MAX, sizeof(struct enc_key),
			   sizeof(struct enc_flow), e->sipkey);
	/* Slots: calloc'd once; 1.25 MiB reserved, pages touched as used. */
	m->slots = calloc(ENC_SLOTS, sizeof(*m->slots));
	m->free_slots = calloc(ENC_SLOTS, sizeof(*m->free_slots));
	/* calloc's zeroed pages, touched as used, one line more to align. */
	m->dev_mem = calloc((size_t)(m->ndev ? m->ndev : 1) * sizeof(*m->dev) + 64, 1);
	if (m->dev_mem != NULL)
		m->dev = (struct enc_dev *)(((uintptr_t)m->dev_mem + 63) & ~(uintptr_t)63);
	m->eps = calloc((size_t)(m->ndev ? m->ndev : 1) * ENC_EPS, sizeof(*m->eps));
	if (m->quic == NULL || m->flows == NULL || m->slots == NULL || m->free_slots == NULL ||
	    m->dev == NULL || m->eps == NULL) {
		snprintf(err, errlen, "encrypted DNS: cannot allocate its tables "
			 "(devices.max=%u): out of memory", m->ndev);
		goto fail;
	}
	for (uint32_t i = 0; i < ENC_SLOTS; i++)
		m->free_slots[i] = (int32_t)(ENC_SLOTS - 1 - i);
	m->nfree = ENC_SLOTS;
	tbl_set_evict(m->flows, flow_evicted, m);
	return m;
fail:
	enc_destroy(m);
	return NULL;
}

static void enc_device_reset(void *arg, struct engine *e, uint32_t slot)
{
	struct enc_mod *m = arg;
	(void)e;
	if (slot < m->ndev)
		memset(&m->dev[slot], 0, sizeof(m->dev[slot]));
}

/* --- endpoints and rules ----------------------------------------------------- */

/* The operator of a public resolver address when it runs DoH (has DoH
 * templates), else NULL. */
static const char *doh_address_operator(const struct rules *r, const uint8_t ip[16])
{
	const char *op = rules_public_operator(r, ip);
	if (op == NULL)
		return NULL;
	for (size_t i = 0; i < r->nops; i++)
		if (r->ops[i].name == op)
			return r->ops[i].ndoh_templates > 0 ? op : NULL;
	return NULL;
}

struct ep_arg {
	const struct rules *r;
	const uint8_t *ip16;
};

/* tls_endpoint_fn: DoH by SNI (rules/resolvers.json doh_sni), or by the
 * address of a public resolver that runs DoH, whatever the SNI says: those
 * addresses serve DNS, so HTTPS to them is DoH whether the hello names no
 * server or one in no list (issue 5: "unknown SNI to a known DoH address").
 * An ordinary CDN address is in no list, so HTTPS to it stays HTTPS. */
static unsigned ep_lookup(void *arg, const char *sni, int family, const uint8_t *addr)
{
	const struct ep_arg *a = arg;
	unsigned bits = 0;
	(void)family;
	(void)addr;
	if (a->r == NULL)
		return 0;
	if (sni != NULL) {
		if (rules_doh_operator(a->r, sni) != NULL)
			bits |= TLS_EP_DOH;
		if (rules_dot_operator(a->r, sni) != NULL)
			bits |= TLS_EP_DOT;
	}
	if (doh_address_operator(a->r, a->ip16) != NULL)
		bits |= TLS_EP_DOH;
	return bits;
}

/* Who runs an endpoint: by its name for its protocol, else by address. */
static const char *ep_operator(const struct rules *r, int kind, const char *sni,
			       const uint8_t ip[16])
{
	const char *op = NULL;
	if (r == NULL)
		return NULL;
	if (sni != NULL && sni[0]) {
		op = kind == K_DOH ? rules_doh_operator(r, sni) : rules_dot_operator(r, sni);
		if (op == NULL)
			op = kind == K_DOH ? rules_dot_operator(r, sni) : rules_doh_operator(r, sni);
	}
	return op != NULL ? op : rules_public_operator(r, ip);
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ASCII only: rules text is UTF-8 and the writer escapes bytes >= 0x80 as
 * Latin-1; every operator name shipped is ASCII, anything else shows '?'. */
static void w_ascii(struct jw *w, const char *key, const char *s)
{
	char buf[128];
	size_t n = 0;
	for (; *s && n < sizeof(buf); s++)
		if ((unsigned char)*s < 0x80)
			buf[n++] = *s;
		else if (((unsigned char)*s & 0xc0) != 0x80)
			buf[n++] = '?';
	jw_strn(w, key, buf, n);
}

static void w_alpn_list(struct jw *w, const char *key, const char *alpn)
{
	jw_arr(w, key);
	const char *p = alpn;
	while (p != NULL && *p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		jw_strn(w, NULL, p, l);
		p = c ? c + 1 : NULL;
	}
	jw_end(w);
}

/* destination.geo / destination.as members of an endpoint object. */
static void w_geo(struct engine *e, struct jw *w, const uint8_t ip[16])
{
	if (e->geo == NULL)
		return;
	const struct enr_geo_info *g = enr_geo_lookup(e->geo, ip);
	if (g == NULL)
		return;
	if (g->country_iso[0] || g->country_name[0] || g->city_name[0]) {
		jw_obj(w, "geo");
		if (g->country_iso[0])
			jw_str(w, "country_iso_code", g->country_iso);
		if (g->country_name[0])
			jw_str(w, "country_name", g->country_name);
		if (g->city_name[0])
			jw_str(w, "city_name", g->city_name);
		jw_end(w);
	}
	if (g->asn || g->as_org[0]) {
		jw_obj(w, "as");
		if (g->asn)
			jw_uint(w, "number", g->asn);
		if (g->as_org[0]) {
			jw_obj(w, "organization");
			jw_str(w, "name", g->as_org);
			jw_end(w);
		}
		jw_end(w);
	}
}

/* --- encryption.none -------------------------------------------------------------- */

static uint64_t bucket_len(const struct det_rule *rl)
{
	uint64_t w = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	uint64_t b = w / ENC_BUCKETS;
	return b ? b : 1;
}

/* Moves the ring forward to the bucket of `now`, clearing skipped ones. */
static void buckets_advance(struct enc_dev *s, uint64_t blen, uint64_t now)
{
	uint64_t idx = now / blen;
	if (s->bucket0 == 0 && s->buckets[0] == 0) {
		s->bucket0 = idx;
		s->cur_end = s->cur_start;
		return;
	}
	if (idx <= s->bucket0 + ENC_BUCKETS - 1)
		return;
	uint64_t shift = idx - (s->bucket0 + ENC_BUCKETS - 1);
	if (shift >= ENC_BUCKETS) {
		memset(s->buckets, 0, sizeof(s->buckets));
		s->total = 0;
	} else {
		for (uint64_t i = 0; i < shift; i++)
			s->total -= s->buckets[i];
		memmove(s->buckets, s->buckets + shift, (ENC_BUCKETS - shift) * sizeof(s->buckets[0]));
		memset(s->buckets + (ENC_BUCKETS - shift), 0, shift * sizeof(s->buckets[0]));
	}
	s->bucket0 += shift;
	s->cur_end = s->cur_start;  /* the ring moved under the remembered bucket */
}

static uint64_t window_queries(const struct enc_dev *s)
{
	return s->total;
}

struct none_verdict {
	int verdict;
	uint64_t queries;    /* in the window */
	int encrypted;       /* an encrypted flow within the window */
};

static void judge_none(struct engine *e, struct enc_dev *s, struct none_verdict *v)
{
	const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_NONE);
	uint64_t window = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	buckets_advance(s, bucket_len(rl), e->now);
	v->queries = window_queries(s);
	v->encrypted = s->last_enc != 0 && e->now - s->last_enc < window;
	if (v->encrypted)
		v->verdict = VERDICT_PASS;
	else if (v->queries >= (uint64_t)rl->p[DP_MIN_QUERIES])
		v->verdict = VERDICT_FAIL;
	else
		v->verdict = VERDICT_UNKNOWN;
}

static int segment_offers(struct engine *e, const struct dctx *c)
{
	const struct segment *sg = &e->segs[c->d->vlan % SEG_COUNT];
	return sg->dnr || sg->ddr;
}

static void alert_none(struct engine *e, struct dctx *c, struct enc_dev *s,
		       const struct none_verdict *v)
{
	const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_NONE);
	const struct segment *sg = &e->segs[c->d->vlan % SEG_COUNT];
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	a.escalated = (uint8_t)segment_offers(e, c);
	a.reason = a.escalated ? "cleartext_encrypted_offered" : "cleartext_only";
	char msg[256];
	snprintf(msg, sizeof(msg), "Device sent %llu DNS queries in cleartext over the last "
		 "%.0f hours and none over DoT, DoH or DoQ%s.", (unsigned long long)v->queries,
		 rl->p[DP_WINDOW_S] / 3600.0, a.escalated ?
		 ", although the network offers encrypted DNS" : "");
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_uint(&w, "queries", v->queries);
	jw_uint(&w, "device_queries", c->d->c.queries);
	jw_uint(&w, "dot_flows", s->flows[K_DOT]);
	jw_uint(&w, "doh_flows", s->flows[K_DOH]);
	jw_uint(&w, "doq_flows", s->flows[K_DOQ]);
	jw_bool(&w, "network_offers_dnr", sg->dnr);
	jw_bool(&w, "network_offers_ddr", sg->ddr);
	jw_bool(&w, "device_used_ddr", s->ddr_queries > 0);
	jw_real4(&w, "window_s", rl->p[DP_WINDOW_S]);
	jw_uint(&w, "min_queries", (uint64_t)rl->p[DP_MIN_QUERIES]);
	alert_emit(e->out, &w, &a);
}

static int evaluate_none(struct enc_mod *m, struct engine *e, struct dctx *c)
{
	if (c->slot >= m->ndev || e->rules == NULL)
		return 0;
	struct enc_dev *s = &m->dev[c->slot];
	struct none_verdict v;
	judge_none(e, s, &v);
	int rc = alert_verdict(&c->dd->alerts, DET_ENCRYPTION_NONE, (enum alert_verdict)v.verdict,
			       e->now, rules_det(e->rules, DET_ENCRYPTION_NONE));
	if (rc & ALERT_FIRE)
		alert_none(e, c, s, &v);
	if (!(rc & ALERT_CHANGED))
		return 0;
	return v.verdict == VERDICT_FAIL ? 2 : 1;
}

static int enc_evaluate(void *arg, struct engine *e, struct dctx *c)
{
	return evaluate_none(arg, e, c);
}

/* --- per query: DDR and the window count ----------------------------------------- */

static void enc_prefetch(void *arg, struct engine *e, const struct pkt *p, struct dctx *c,
			 const struct dns_msg *msg, const struct qry_key *qk)
{
	struct enc_mod *m = arg;
	(void)e;
	(void)p;
	(void)msg;
	(void)qk;
	if (c->slot < m->ndev)
		__builtin_prefetch(&m->dev[c->slot], 1);
}

/* Rare turns of the query hook, kept out of its way so that it stays
 * small: the first query of a window eighth ... */
#define COLD __attribute__((cold, noinline))

COLD static void bucket_first(struct enc_dev *s, uint64_t blen, uint64_t now)
{
	buckets_advance(s, blen, now);
	uint64_t idx = now / blen, i = idx - s->bucket0;
	if (i < ENC_BUCKETS) {
		if (s->buckets[i] < UINT32_MAX) {
			s->buckets[i]++;
			s->total++;
		}
		s->cur = (uint8_t)i;
		s->cur_start = idx * blen;
		s->cur_end = s->cur_start + blen;
	}
}

/* ... a DDR query (RFC 9462 §4) ... */
COLD static void ddr_query(struct enc_mod *m, struct engine *e, struct dctx *c, struct enc_dev *s)
{
	if (s->ddr_queries++ == 0)
		c->d->dirty = 1;
	m->st.ddr_queries++;
	asg_segment(e, c->d->vlan)->ddr = 1;
}

/* ... and the query that makes the minimum sample: judged now, not at the
 * next milestone. */
COLD static void sample_reached(struct enc_mod *m, struct engine *e, struct dctx *c)
{
	if (evaluate_none(m, e, c))
		c->d->dirty = 1;
}

static void enc_query(void *arg, struct engine *e, const struct pkt *p, struct dctx *c,
		      const struct dns_msg *msg, const struct qry_key *qk,
		      struct qry *q, int is_new)
{
	struct enc_mod *m = arg;
	(void)qk;
	(void)q;
	(void)is_new;
	if (c->slot >= m->ndev || e->rules == NULL)
		return;
	struct enc_dev *s = &m->dev[c->slot];
	const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_NONE);
	uint64_t blen = bucket_len(rl), now = p->ts_us;
	if (now >= s->cur_start && now < s->cur_end && s->cur_end - s->cur_start == blen) {
		if (s->buckets[s->cur] < UINT32_MAX) {
			s->buckets[s->cur]++;
			s->total++;
		}
	} else {
		bucket_first(s, blen, now);
	}
	/* RFC 9462 §4: a client discovers designated resolvers by asking
	 * SVCB (type 64) for _dns.resolver.arpa. */
	if (msg->qtype == 64 && msg->qname_len == 18 &&
	    memcmp(msg->qname, "_dns.resolver.arpa", 18) == 0)
		ddr_query(m, e, c, s);
	if (window_queries(s) == (uint64_t)rl->p[DP_MIN_QUERIES])
		sample_reached(m, e, c);
}

/* --- classification ------------------------------------------------------------------ */

/* The device's entry for an endpoint (ip, port, kind), created when new;
 * NULL when ENC_EPS are taken. */
static struct enc_ep *ep_find(struct enc_mod *m, uint32_t slot, const uint8_t ip[16],
			      uint16_t port, int kind, int *created)
{
	struct enc_dev *s = &m->dev[slot];
	struct enc_ep *eps = &m->eps[(size_t)slot * ENC_EPS];
	*created = 0;
	for (unsigned i = 0; i < s->nep; i++)
		if (eps[i].port == port && eps[i].kind == kind && memcmp(eps[i].ip, ip, 16) == 0)
			return &eps[i];
	if (s->nep >= ENC_EPS) {
		s->eps_dropped++;
		return NULL;
	}
	struct enc_ep *ep = &eps[s->nep++];
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->ip, ip, 16);
	ep->port = port;
	ep->kind = (uint8_t)kind;
	*created = 1;
	return ep;
}

/* What a verdict says about one flow, for the event and the alert. */
struct flow_view {
	int kind;                 /* K_* */
	int quic;
	const uint8_t *cip, *sip;
	uint16_t cport, sport;
	uint16_t vlan;            /* the opening packet's (inner or only) tag */
	uint16_t vlan_outer;      /* and its outer QinQ tag, else 0 */
	const char *sni;          /* "" when none */
	const char *alpn;
	const char *ja3;
	const char *ja4;
	const char *operator;
	int sanctioned;
	const char *by;           /* what decided: port, alpn, sni, address, ndpi */
	const struct tls_hello *h;
	const struct tls_dpi_result *dr;
};

static void emit_tls_event(struct enc_mod *m, struct engine *e, const struct dev_key *k,
			   const struct flow_view *v)
{
	struct jw w;
	jw_init(&w, 1024);
	ev_jw_head(&w, e->now, "event", "stubwatch.tls", "network", "protocol,connection");
	jw_end(&w);
	ev_jw_observer(&w, e->observer, 1);
	char id[FMT_IP_LEN];
	ev_dev_keytext(k, id, sizeof(id));
	jw_obj(&w, "source");
	if (!k->by_ip)
		jw_mac_ecs(&w, "mac", k->mac);
	jw_ip_text(&w, "ip", v->cip);
	jw_uint(&w, "port", v->cport);
	jw_end(&w);
	jw_obj(&w, "destination");
	jw_ip_text(&w, "ip", v->sip);
	jw_uint(&w, "port", v->sport);
	w_geo(e, &w, v->sip);
	jw_end(&w);
	ev_jw_host_device(&w, k, NULL, NULL, NULL);
	struct ev_flow f = { v->cip, v->sip, v->cport, v->sport, v->quic ? 17 : 6 };
	ev_jw_network(&w, &f, v->kind == K_DOT ? "dot" : v->kind == K_DOQ ? "doq" : "doh", v->vlan,
		      v->vlan_outer);
	jw_obj(&w, "tls");
	if (v->alpn[0]) {
		const char *c = strchr(v->alpn, ',');
		jw_strn(&w, "next_protocol", v->alpn, c ? (size_t)(c - v->alpn) : strlen(v->alpn));
	}
	jw_obj(&w, "client");
	if (v->sni[0])
		jw_str(&w, "server_name", v->sni);
	if (v->ja3[0])
		jw_str(&w, "ja3", v->ja3);
	if (v->h != NULL) {
		jw_arr(&w, "supported_ciphers");
		for (unsigned i = 0; i < v->h->n_ciphers && i < TLS_MAX_CIPHERS; i++) {
			const char *name = tls_cipher_name(v->h->ciphers[i]);
			char hex[8];
			if (name == NULL) {
				snprintf(hex, sizeof(hex), "0x%04x", v->h->ciphers[i]);
				name = hex;
			}
			jw_str(&w, NULL, name);
		}
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	jw_obj(&w, "stubwatch");
	ev_jw_sw_device(&w, k, NULL, -1);
	/* ECS has neither JA4 nor the client's ALPN list. */
	if (v->ja4[0] || v->alpn[0]) {
		jw_obj(&w, "tls");
		if (v->ja4[0])
			jw_str(&w, "ja4", v->ja4);
		if (v->alpn[0])
			w_alpn_list(&w, "alpn", v->alpn);
		jw_end(&w);
	}
	jw_obj(&w, "encrypted_dns");
	jw_str(&w, "protocol", kind_names[v->kind]);
	if (v->operator != NULL)
		w_ascii(&w, "operator", v->operator);
	jw_bool(&w, "sanctioned", v->sanctioned);
	jw_str(&w, "classified_by", v->by);
	jw_bool(&w, "client_hello_parsed", v->h != NULL);
	if (v->dr != NULL && v->dr->proto[0])
		jw_str(&w, "ndpi_protocol", v->dr->proto);
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	size_t len;
	char *text = jw_take(&w, &len);
	if (ev_emit_text(e->out, OUT_DS_TLS, id, text, len) == 0)
		m->st.tls_events++;
}

static void alert_unsanctioned(struct enc_mod *m, struct engine *e, struct dctx *c,
			       const struct flow_view *v, const struct enc_ep *ep)
{
	const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_UNSANCTIONED);
	struct enc_dev *s = &m->dev[c->slot];
	char ip[FMT_IP_LEN], msg[320];
	fmt_ip(ip, v->sip);
	const char *pn = v->kind == K_DOT ? "DoT" : v->kind == K_DOQ ? "DoQ" : "DoH";
	snprintf(msg, sizeof(msg), "Device uses %s to %s%s%s%s%s%s, an encrypted DNS endpoint "
		 "the network has not sanctioned, bypassing its resolver.", pn, ip,
		 v->sni[0] ? " (" : "", v->sni, v->sni[0] ? ")" : "",
		 v->operator ? " run by " : "", v->operator ? v->operator : "");
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	a.src_ip = v->cip;
	a.dst_ip = v->sip;
	a.dst_port = v->sport;
	a.src_port = v->cport;
	a.l4 = v->quic ? 17 : 6;
	a.dst_operator = v->operator;
	a.reason = kind_names[v->kind];
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_str(&w, "protocol", kind_names[v->kind]);
	jw_ip_text(&w, "endpoint", v->sip);
	jw_uint(&w, "port", v->sport);
	jw_str(&w, "transport", v->quic ? "udp" : "tcp");
	if (v->sni[0])
		jw_str(&w, "sni", v->sni);
	if (v->alpn[0])
		w_alpn_list(&w, "alpn", v->alpn);
	if (v->ja3[0])
		jw_str(&w, "ja3", v->ja3);
	if (v->ja4[0])
		jw_str(&w, "ja4", v->ja4);
	if (v->operator != NULL)
		w_ascii(&w, "operator", v->operator);
	jw_bool(&w, "sanctioned", 0);
	jw_str(&w, "classified_by", v->by);
	jw_uint(&w, "endpoint_flows", ep != NULL ? ep->flows : 1);
	jw_uint(&w, "dot_flows", s->flows[K_DOT]);
	jw_uint(&w, "doh_flows", s->flows[K_DOH]);
	jw_uint(&w, "doq_flows", s->flows[K_DOQ]);
	jw_uint(&w, "unsanctioned_flows", s->unsanctioned_flows);
	jw_uint(&w, "do53_queries", c->d->c.queries);
	if (ep != NULL) {
		jw_time_text(&w, "first_seen", ep->first_seen);
		jw_time_text(&w, "last_seen", ep->last_seen);
	}
	jw_uint(&w, "rate_limit_s", rl->rate_limit_s);
	alert_emit(e->out, &w, &a);
	m->st.alerts_unsanctioned++;
}

/* A client-side packet of the flow from its key: enough for
 * eng_device_for(), which reads the MAC (or address) and the key's VLAN;
 * its tags are those of the packet that opened the flow. */
static void client_pkt(const struct enc_key *k, const struct enc_flow *f, uint64_t ts,
		       struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->ts_us = ts;
	p->kind = PKT_IP;
	p->has_mac = f->has_mac;
	memcpy(p->src_mac, f->mac, 6);
	p->key_vlan = k->vlan;
	p->vlan = f->vlan;
	p->vlan_outer = f->vlan_outer;
	memcpy(p->src_ip, f->client_a ? k->a : k->b, 16);
	memcpy(p->dst_ip, f->client_a ? k->b : k->a, 16);
	p->sport = f->client_a ? k->pa : k->pb;
	p->dport = f->client_a ? k->pb : k->pa;
	p->l4 = k->l4;
	p->ip_ver = ip_is_v4(p->src_ip) ? 4 : 6;
}

/* Judges a flow with what the parser (h, may be NULL) and nDPI (dr, may
 * be NULL) found, records an encrypted-DNS flow on its device, and marks
 * the flow done. */
static void flow_verdict(struct enc_mod *m, struct engine *e, struct enc_flow *f,
			 const struct tls_hello *h, const struct tls_dpi_result *dr)
{
	const struct enc_key *k = tbl_key(m->flows, f);
	struct pkt cp;
	client_pkt(k, f, e->now, &cp);
	if (h != NULL)
		m->st.by_hello++;
	else if (dr != NULL)
		m->st.by_ndpi_only++;
	int quic = k->l4 == IPPROTO_UDP;
	struct tls_flow_facts ff = {
		.transport = quic ? TLS_TR_UDP : TLS_TR_TCP,
		.handshake = h != NULL,
		.server_port = cp.dport,
		.sni = h != NULL ? h->sni : dr != NULL ? dr->sni : NULL,
		.alpn = h != NULL ? h->alpn : dr != NULL ? dr->alpn : NULL,
		.ndpi_master = dr != NULL ? dr->master : 0,
		.ndpi_app = dr != NULL ? dr->app : 0,
		.family = cp.ip_ver,
		.daddr = cp.ip_ver == 4 ? cp.dst_ip + 12 : cp.dst_ip,
	};
	if (ff.sni != NULL && ff.sni[0] == '\0')
		ff.sni = NULL;
	struct ep_arg ea = { e->rules, cp.dst_ip };
	enum tls_dns_kind inner;
	enum tls_dns_kind kd = tls_classify(&ff, ep_lookup, &ea, &inner);
	if (kd == TLS_DNS_DDR)
		kd = inner;
	flow_release(m, f);
	int kind = kd == TLS_DNS_DOT ? K_DOT : kd == TLS_DNS_DOH ? K_DOH :
		   kd == TLS_DNS_DOQ ? K_DOQ : -1;
	if (kind < 0) {
		m->st.not_dns++;
		return;
	}
	m->st.classified[kind]++;

	struct flow_view v;
	memset(&v, 0, sizeof(v));
	char ja3[TLS_JA3_HEX] = "", ja4[TLS_JA4_TEXT] = "";
	if (h != NULL) {
		if (tls_ja3_hash(h, ja3) < 0)
			ja3[0] = '\0';
		if (tls_ja4(h, quic, ja4) < 0)
			ja4[0] = '\0';
	} else if (dr != NULL) {
		copy_cut(ja3, sizeof(ja3), dr->ja3);
	}
	v.kind = kind;
	v.quic = quic;
	v.cip = cp.src_ip;
	v.sip = cp.dst_ip;
	v.cport = cp.sport;
	v.sport = cp.dport;
	v.vlan = cp.vlan;
	v.vlan_outer = cp.vlan_outer;
	v.sni = ff.sni != NULL ? ff.sni : "";
	v.alpn = ff.alpn != NULL ? ff.alpn : "";
	v.ja3 = ja3;
	v.ja4 = ja4;
	v.h = h;
	v.dr = dr;
	v.operator = ep_operator(e->rules, kind, v.sni, v.sip);
	v.sanctioned = e->rules != NULL &&
		       rules_encrypted_sanctioned(e->rules, v.sip, v.sni[0] ? v.sni : NULL);
	if (ff.alpn != NULL && (kind == K_DOT ? strstr(ff.alpn, "dot") != NULL :
				kind == K_DOQ ? strstr(ff.alpn, "doq") != NULL : 0))
		v.by = "alpn";
	else if (kind != K_DOH && (cp.dport == PORT_DOT || cp.dport == PORT_DOQ_OLD1 ||
				   cp.dport == PORT_DOQ_OLD2))
		v.by = "port";
	else if (kind == K_DOH && ff.sni != NULL && e->rules != NULL &&
		 rules_doh_operator(e->rules, ff.sni) != NULL)
		v.by = "sni";
	else if (kind == K_DOH && e->rules != NULL &&
		 doh_address_operator(e->rules, cp.dst_ip) != NULL)
		v.by = "address";
	else
		v.by = "ndpi";

	struct dev_key dk;
	int created;
	struct device *d = eng_device_for(e, &cp, 1, &dk, &created);
	if (d == NULL)
		return;
	dev_add_ip(d, cp.src_ip);
	struct dctx c;
	eng_dctx(e, d, &c);
	if (c.slot >= m->ndev)
		return;
	struct enc_dev *s = &m->dev[c.slot];
	s->flows[kind]++;
	if (s->first_enc == 0)
		s->first_enc = e->now;
	s->last_enc = e->now;
	if (v.sanctioned)
		s->sanctioned_flows++;
	else
		s->unsanctioned_flows++;
	int ep_new;
	struct enc_ep *ep = ep_find(m, c.slot, v.sip, v.sport, kind, &ep_new);
	if (ep != NULL) {
		if (ep_new) {
			ep->first_seen = e->now;
			ep->quic = (uint8_t)quic;
		}
		ep->flows++;
		ep->last_seen = e->now;
		ep->sanctioned = (uint8_t)v.sanctioned;
		if (v.sni[0])
			copy_cut(ep->sni, sizeof(ep->sni), v.sni);
		if (v.alpn[0])
			copy_cut(ep->alpn, sizeof(ep->alpn), v.alpn);
		if (ja3[0])
			copy_cut(ep->ja3, sizeof(ep->ja3), ja3);
		if (ja4[0])
			copy_cut(ep->ja4, sizeof(ep->ja4), ja4);
	}
	if (e->cfg->log_dns)
		emit_tls_event(m, e, &dk, &v);
	if (!v.sanctioned && e->rules != NULL) {
		/* A new endpoint alerts at once; the same one again only after
		 * the rule's rate limit (alert_should_fire records both). */
		const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_UNSANCTIONED);
		int fire = alert_should_fire(&c.dd->alerts, DET_ENCRYPTION_UNSANCTIONED, e->now, rl);
		if (rl->enabled && (fire || ep_new || ep == NULL))
			alert_unsanctioned(m, e, &c, &v, ep);
	}
	cust_encrypted_flow(e, &c, &cp, kind == K_DOT ? CUST_T_DOT :
				       kind == K_DOH ? CUST_T_DOH : CUST_T_DOQ);
	if (evaluate_none(m, e, &c))
		d->dirty = 1;
	if (created)
		eng_emit_device(e, &dk, d, "first_seen");
	else if (ep_new || d->dirty)
		eng_device_changed(e, &dk, d);
}

/* --- the packet path -------------------------------------------------------------------- */

static int ip_port_less(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	int c = memcmp(a, b, 16);
	return c < 0 || (c == 0 && pa < pb);
}

/* 1 when this packet may open a flow (sent by its client): a TCP SYN, a
 * client payload that opens with a TLS handshake record (RFC 8446 §5.1:
 * type 22, version 3.x) when the SYN was missed, or a QUIC long header
 * (RFC 9000 §17.2: first bit set) to a QUIC port. */
static int opens_flow(const struct pkt *p)
{
	if (p->l4 == IPPROTO_TCP) {
		if ((p->tcp_flags & 0x12) == 0x02)
			return tcp_port(p->dport);
		return tcp_port(p->dport) && tls_opens_handshake(p->payload, p->payload_len);
	}
	return udp_port(p->dport) && tls_quic_long_header(p->payload, p->payload_len);
}

/* Feeds one client payload to the sensor's parser. Returns 1 when the
 * hello parsed into m->h. */
static int parse_feed(struct enc_mod *m, struct enc_flow *f, const struct pkt *p, int quic)
{
	if (f->slot < 0) {
		f->slot = slot_take(m);
		if (f->slot < 0) {
			f->parse = P_NONE;
			return 0;
		}
		if (quic)
			tls_quic_flow_init(&m->slots[f->slot].u.qf);
		else
			tls_stream_init(&m->slots[f->slot].u.st);
	}
	struct enc_slot *sl = &m->slots[f->slot];
	int rc;
	if (quic) {
		rc = tls_quic_feed(m->quic, &sl->u.qf, p->payload, p->payload_len, &m->h);
	} else {
		const uint8_t *data = p->payload;
		uint32_t len = p->payload_len;
		if (f->have_seq) {
			uint32_t ahead = p->tcp_seq - f->next_seq;
			if (ahead != 0 && ahead < 0x80000000u) {
				/* RFC 9293 §3.4: bytes are missing before this one. */
				m->st.tcp_gaps++;
				f->parse = P_FAIL;
				return 0;
			}
			uint32_t behind = f->next_seq - p->tcp_seq;
			if (behind >= len)
				return 0; /* a retransmission of what was fed */
			data += behind;
			len -= behind;
		}
		f->next_seq = p->tcp_seq + p->payload_len;
		f->have_seq = 1;
		rc = tls_stream_feed(&sl->u.st, data, len, &m->h);
	}
	if (rc == 0) {
		f->parse = P_OK;
		m->st.hellos++;
		return 1;
	}
	if (rc == SW_EINCOMPLETE) {
		f->parse = P_COLLECT;
		return 0;
	}
	f->parse = P_FAIL;
	m->st.parse_failed++;
	return 0;
}

/* One packet of a flow being classified. */
static void flow_packet(struct enc_mod *m, struct engine *e, struct enc_flow *f,
			const struct pkt *p, int from_client)
{
	int quic = p->l4 == IPPROTO_UDP;
	int hello = 0;
	f->npkts++;
	if (from_client && quic == 0 && (p->tcp_flags & 0x12) == 0x02) {
		/* RFC 9293 §3.4: data starts at ISN + 1. */
		f->next_seq = p->tcp_seq + 1;
		f->have_seq = 1;
	}
	if (from_client && p->payload_len > 0 && (f->parse == P_WAIT || f->parse == P_COLLECT))
		hello = parse_feed(m, f, p, quic);

	struct tls_dpi_result dr;
	int have_dr = 0;
	if (f->dpi >= 0) {
		size_t n = enc_build_ip(p, m->ip, sizeof(m->ip));
		int rc = n ? tls_dpi_feed(m->dpi, f->dpi, m->ip, n, p->ts_us / 1000, &dr) : 0;
		if (rc != 0) {
			f->dpi = -1;
			have_dr = rc == 1;
		}
	}
	if (hello && f->dpi >= 0) {
		/* The hello is what nDPI would add; its verdict so far is enough. */
		have_dr = tls_dpi_close(m->dpi, f->dpi, &dr) == 0;
		f->dpi = -1;
	}
	if (!have_dr && f->slot >= 0 && m->slots[f->slot].have_dpi) {
		dr = m->slots[f->slot].dpi;
		have_dr = 1;
	}
	int parse_over = f->parse == P_OK || f->parse == P_FAIL || f->parse == P_NONE;
	if (parse_over && f->dpi < 0) {
		flow_verdict(m, e, f, hello ? &m->h : NULL, have_dr ? &dr : NULL);
		return;
	}
	if (f->dpi < 0 && f->parse == P_WAIT) {
		/* nDPI is done before the client sent a byte: nothing to wait for. */
		flow_verdict(m, e, f, NULL, have_dr ? &dr : NULL);
		return;
	}
	if (have_dr && f->slot >= 0 && !m->slots[f->slot].have_dpi) {
		m->slots[f->slot].dpi = dr;
		m->slots[f->slot].have_dpi = 1;
	}
	if (f->npkts >= ENC_MAX_PACKETS) {
		m->st.budget++;
		if (f->dpi >= 0) {
			have_dr = tls_dpi_close(m->dpi, f->dpi, &dr) == 0;
			f->dpi = -1;
		}
		flow_verdict(m, e, f, NULL, have_dr ? &dr : NULL);
	}
}

/* A flow that ends or expires before its verdict: judged with what nDPI
 * has (the hello, had it parsed, would have ended it already). */
static void flow_end(struct enc_mod *m, struct engine *e, struct enc_flow *f)
{
	if (f->state != FL_ACTIVE)
		return;
	m->st.ended++;
	struct tls_dpi_result dr;
	int have_dr = 0;
	if (f->dpi >= 0) {
		have_dr = tls_dpi_close(m->dpi, f->dpi, &dr) == 0;
		f->dpi = -1;
	}
	if (!have_dr && f->slot >= 0 && m->slots[f->slot].have_dpi) {
		dr = m->slots[f->slot].dpi;
		have_dr = 1;
	}
	flow_verdict(m, e, f, NULL, have_dr ? &dr : NULL);
}

/* A packet on the ports of interest (enc_packet()). */
__attribute__((noinline))
static void port_packet(struct enc_mod *m, struct engine *e, const struct pkt *p)
{
	int opens = opens_flow(p);
	if (m->active == 0 && !opens) {
		/* Nothing in its first packets: this one can only belong to a
		 * classified flow (or one begun before the capture). */
		m->st.skipped++;
		return;
	}
	struct enc_key k;
	memset(&k, 0, sizeof(k));
	int src_a = ip_port_less(p->src_ip, p->sport, p->dst_ip, p->dport);
	memcpy(k.a, src_a ? p->src_ip : p->dst_ip, 16);
	memcpy(k.b, src_a ? p->dst_ip : p->src_ip, 16);
	k.pa = src_a ? p->sport : p->dport;
	k.pb = src_a ? p->dport : p->sport;
	k.vlan = p->key_vlan;
	k.l4 = p->l4;
	m->st.lookups++;
	struct enc_flow *f = tbl_lookup(m->flows, &k);
	if (f == NULL) {
		if (!opens)
			return;
		f = tbl_insert(m->flows, &k);
		m->st.flows++;
		f->dpi = tls_dpi_open(m->dpi);
		if (f->dpi < 0)
			f->dpi = -1;
		f->slot = -1;
		f->client_a = (uint8_t)src_a;
		f->state = FL_ACTIVE;
		f->has_mac = p->has_mac;
		if (p->has_mac)
			memcpy(f->mac, p->src_mac, 6);
		f->vlan = p->vlan;
		f->vlan_outer = p->vlan_outer;
		m->active++;
	} else if (p->ts_us / SEC != f->last_ts / SEC) {
		tbl_touch(m->flows, f);
	}
	f->last_ts = p->ts_us;
	if (f->state == FL_ACTIVE)
		flow_packet(m, e, f, p, src_a == f->client_a);
	if (p->l4 == IPPROTO_TCP && (p->tcp_flags & 0x05)) {
		/* RST ends the connection at once; FIN when both sides sent it. */
		if ((p->tcp_flags & 0x04) || ++f->fin >= 2) {
			flow_end(m, e, f);
			tbl_remove(m->flows, f);
		}
	}
}

/* Every packet passes here: the port test is inline and lets all but
 * the few TLS/QUIC packets go before any register is saved; those are
 * looked at out of line. */
static void enc_packet(void *arg, struct engine *e, const struct pkt *p)
{
	if (ports_of_interest(p->l4, p->sport, p->dport))
		port_packet(arg, e, p);
}

static void enc_tick(void *arg, struct engine *e, uint64_t now)
{
	struct enc_mod *m = arg;
	struct enc_flow *f;
	for (int i = 0; i < ENC_EXPIRE_BUDGET && (f = tbl_oldest(m->flows)) != NULL; i++) {
		if (now - f->last_ts < ENC_FLOW_IDLE_US)
			break;
		flow_end(m, e, f);
		tbl_remove(m->flows, f);
	}
}

/* --- device events, scorecard, stats ---------------------------------------------------- */

static void enc_device_json(void *arg, struct engine *e, struct dctx *c, struct jw *w)
{
	struct enc_mod *m = arg;
	if (c->slot >= m->ndev)
		return;
	const struct enc_dev *s = &m->dev[c->slot];
	const struct enc_ep *eps = &m->eps[(size_t)c->slot * ENC_EPS];
	jw_obj(w, "encrypted");
	jw_obj(w, "transports");
	jw_uint(w, "do53", c->d->c.queries);
	jw_uint(w, "dot", s->flows[K_DOT]);
	jw_uint(w, "doh", s->flows[K_DOH]);
	jw_uint(w, "doq", s->flows[K_DOQ]);
	jw_end(w);
	jw_bool(w, "ddr", s->ddr_queries > 0);
	if (s->ddr_queries)
		jw_uint(w, "ddr_queries", s->ddr_queries);
	jw_arr(w, "endpoints");
	for (unsigned i = 0; i < s->nep; i++) {
		const struct enc_ep *ep = &eps[i];
		jw_obj(w, NULL);
		jw_ip_text(w, "ip", ep->ip);
		jw_uint(w, "port", ep->port);
		jw_str(w, "transport", kind_names[ep->kind]);
		if (ep->sni[0])
			jw_str(w, "sni", ep->sni);
		if (ep->alpn[0])
			w_alpn_list(w, "alpn", ep->alpn);
		if (ep->ja3[0])
			jw_str(w, "ja3", ep->ja3);
		if (ep->ja4[0])
			jw_str(w, "ja4", ep->ja4);
		const char *op = ep_operator(e->rules, ep->kind, ep->sni, ep->ip);
		if (op != NULL)
			w_ascii(w, "operator", op);
		jw_bool(w, "sanctioned", ep->sanctioned);
		jw_uint(w, "flows", ep->flows);
		jw_time_text(w, "first_seen", ep->first_seen);
		jw_time_text(w, "last_seen", ep->last_seen);
		w_geo(e, w, ep->ip);
		jw_end(w);
	}
	jw_end(w);
	if (s->eps_dropped)
		jw_uint(w, "endpoints_dropped", s->eps_dropped);
	jw_end(w);
}

static int enc_scorecard(void *arg, struct engine *e, struct dctx *c, int line, struct jw *w)
{
	struct enc_mod *m = arg;
	if (line != 2 || c->slot >= m->ndev || e->rules == NULL)
		return -1;
	struct enc_dev *s = &m->dev[c->slot];
	struct none_verdict v;
	judge_none(e, s, &v);
	const struct det_rule *rl = rules_det(e->rules, DET_ENCRYPTION_NONE);
	int verdict;
	if (s->unsanctioned_flows || v.verdict == VERDICT_FAIL)
		verdict = VERDICT_FAIL;
	else if (s->sanctioned_flows)
		verdict = VERDICT_PASS;
	else
		verdict = VERDICT_UNKNOWN;
	jw_uint(w, "queries_in_window", v.queries);
	jw_uint(w, "dot_flows", s->flows[K_DOT]);
	jw_uint(w, "doh_flows", s->flows[K_DOH]);
	jw_uint(w, "doq_flows", s->flows[K_DOQ]);
	jw_uint(w, "sanctioned_flows", s->sanctioned_flows);
	jw_uint(w, "unsanctioned_flows", s->unsanctioned_flows);
	jw_bool(w, "ddr", s->ddr_queries > 0);
	jw_bool(w, "network_offers_encrypted", segment_offers(e, c));
	jw_real4(w, "window_s", rl->p[DP_WINDOW_S]);
	jw_uint(w, "min_queries", (uint64_t)rl->p[DP_MIN_QUERIES]);
	return verdict;
}

static void enc_stats_json(void *arg, struct engine *e, json_t *stats)
{
	struct enc_mod *m = arg;
	(void)e;
	const struct enc_stats *s = &m->st;
	struct tls_dpi_stats ds;
	tls_dpi_get_stats(m->dpi, &ds);
	json_t *o = json_object();
	json_object_set_new(o, "flows", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
		"seen", (json_int_t)s->flows,
		"dot", (json_int_t)s->classified[K_DOT],
		"doh", (json_int_t)s->classified[K_DOH],
		"doq", (json_int_t)s->classified[K_DOQ],
		"not_dns", (json_int_t)s->not_dns,
		"active", (json_int_t)m->active));
	json_object_set_new(o, "verdicts", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"with_client_hello", (json_int_t)s->by_hello,
		"ndpi_only", (json_int_t)s->by_ndpi_only,
		"packet_budget", (json_int_t)s->budget,
		"flow_ended", (json_int_t)s->ended,
		"evicted_unjudged", (json_int_t)s->evicted_active));
	json_object_set_new(o, "parser", json_pack("{s:I,s:I,s:I}",
		"hellos", (json_int_t)s->hellos,
		"failed", (json_int_t)s->parse_failed,
		"tcp_gaps", (json_int_t)s->tcp_gaps));
	json_object_set_new(o, "parse_buffers", json_pack("{s:i,s:i,s:i,s:I}",
		"capacity", ENC_SLOTS, "in_use", (int)(ENC_SLOTS - m->nfree),
		"peak", (int)s->slots_peak, "exhausted", (json_int_t)s->slots_exhausted));
	json_object_set_new(o, "ndpi", json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I}",
		"capacity", ENC_DPI_FLOWS, "in_use", (int)ds.in_use,
		"opened", (json_int_t)ds.opened, "refused", (json_int_t)ds.full,
		"done", (json_int_t)ds.done, "budget", (json_int_t)ds.budget,
		"closed", (json_int_t)ds.closed));
	json_object_set_new(o, "table", json_pack("{s:i,s:i,s:I,s:I,s:I}",
		"count", (int)tbl_count(m->flows), "capacity", (int)tbl_capacity(m->flows),
		"evictions", (json_int_t)tbl_evictions(m->flows),
		"lookups", (json_int_t)s->lookups, "skipped", (json_int_t)s->skipped));
	json_object_set_new(o, "tls_events", json_integer((json_int_t)s->tls_events));
	json_object_set_new(o, "unsanctioned_alerts", json_integer((json_int_t)s->alerts_unsanctioned));
	json_object_set_new(o, "ddr_queries", json_integer((json_int_t)s->ddr_queries));
	json_object_set_new(stats, "encrypted_dns", o);
}

const struct eng_module mod_encrypted = {
	.name = "encrypted",
	.create = enc_create,
	.destroy = enc_destroy,
	.device_reset = enc_device_reset,
	.packet = enc_packet,
	.prefetch = enc_prefetch,
	.query = enc_query,
	.tick = enc_tick,
	.evaluate = enc_evaluate,
	.device_json = enc_device_json,
	.scorecard = enc_scorecard,
	.stats_json = enc_stats_json,
};
