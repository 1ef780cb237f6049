/* response.c — integrity of DNS responses (the integrity module's
 * response.* detections): response.race and response.txid-mismatch
 * (RFC 5452 §9.1), response.unsolicited (RFC 5358), response.bogon-answer
 * (RFC 6890), response.duplicate-rr (RFC 2181 §5, §5.2) and
 * response.reply-flood (RFC 1035 §4.2.1).
 *
 * The engine forgets an outstanding query at its first answer, so whatever
 * else answers it arrives unmatched. This file keeps a short-lived table
 * of recently answered queries under the same key (device, server, ports,
 * ID, name, type): a second answer that matches an entry there is a
 * duplicate (same answer), a race (a different one) or, past the limit, a
 * reply flood. An unmatched response that matches no entry either reaches a
 * port the device has just queried from (a guessed ID) or one it has not
 * (unsolicited). A race alert waits a few seconds for the device's next new
 * connection to an address of either answer, so it can say which answer
 * the device believed.
 */
#include "detect/response.h"
#include "detect/integrity_int.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "common/table.h"
#include "output/jw.h"

/* --- answers ------------------------------------------------------------- */

/* memcmp(x, y, n) == 0, with A and AAAA RDATA compared inline. */
static inline int bytes_equal(const uint8_t *x, const uint8_t *y, size_t n)
{
	if (n == 4) {
		uint32_t u, v;
		memcpy(&u, x, 4);
		memcpy(&v, y, 4);
		return u == v;
	}
	if (n == 16) {
		uint64_t u[2], v[2];
		memcpy(u, x, 16);
		memcpy(v, y, 16);
		return ((u[0] ^ v[0]) | (u[1] ^ v[1])) == 0;
	}
	return memcmp(x, y, n) == 0;
}

/* RR types whose RDATA starts with a domain name: NS, CNAME, PTR, MX
 * (after its preference), DNAME (rdata_hash(), rdata_equal()). */
#define NAME_TYPES (1ull << 2 | 1ull << 5 | 1ull << 12 | 1ull << 15 | 1ull << 39)
static inline int name_rdata(uint16_t type)
{
	return type < 64 && ((NAME_TYPES >> type) & 1);
}

static void fp_key_init(struct fp_key *k, uint64_t key)
{
	k->key = key;
	for (uint16_t t = 0; t < 64; t++)
		k->type_in[t] = h64(&t, sizeof(t), key);
}

/* A hash of an RR's type and RDATA. A leading domain name (CNAME, NS,
 * PTR, DNAME; MX after its preference) is hashed by its labels up to the
 * first compression pointer, not by the pointer's offset, so the same name
 * compressed against a differently laid out message hashes alike as long
 * as the uncompressed part is the same (the pointed-to suffix is the
 * question name or a name before it, which both answers repeat). This
 * keeps decompression off the path of every answer. */
static inline uint64_t rdata_hash(const struct fp_key *k, const struct dns_msg *m,
				  const struct dns_rr *rr)
{
	uint64_t h = rr->rclass == 1 && rr->type < 64 ? k->type_in[rr->type] :
		     h64(&rr->type, sizeof(rr->type), k->key ^ rr->rclass);
	if ((size_t)rr->rdata_off + rr->rdlen > m->len)
		return h;
	const uint8_t *rd = m->buf + rr->rdata_off;
	if (!name_rdata(rr->type)) {
		/* A and AAAA, most answers, as fixed-size hashes. */
		if (rr->rdlen == 4)
			return h64(rd, 4, h);
		if (rr->rdlen == 16)
			return h64(rd, 16, h);
		return h64(rd, rr->rdlen, h);
	}
	size_t off = rr->type == 15 ? 2 : 0;
	while (off < rr->rdlen && rd[off] != 0 && (rd[off] & 0xc0) == 0)
		off += (size_t)rd[off] + 1;
	if (off > rr->rdlen)
		off = rr->rdlen;
	return h64(rd, off, h);
}

/* 1 when the names that start the RDATA of a and b (of one name type)
 * surely differ: a differing MX preference, or a label (dns_names_differ()).
 * 0 when only comparing their texts tells (rdata_equal()). */
static int rdata_names_differ(const struct dns_msg *m, const struct dns_rr *a,
			      const struct dns_rr *b)
{
	size_t skip = a->type == 15 ? 2 : 0;
	return a->rdlen < skip || b->rdlen < skip ||
	       memcmp(m->buf + a->rdata_off, m->buf + b->rdata_off, skip) != 0 ||
	       dns_names_differ(m, (size_t)a->rdata_off + skip, (size_t)b->rdata_off + skip);
}

/* 1 when duplicate_check() may report the pair x, y (one section, type and
 * class, both RDATA within the message): it does when the RDATA are equal
 * or the TTLs differ, and the owners are equal. Equality of names is
 * granted here unless a label tells them apart, so this is a superset of
 * its pairs at the cost of label comparisons; the names of a CNAME chain
 * (two CNAMEs with unequal TTLs, different owners) differ in their first
 * labels. */
COLD static int pair_may_report(const struct dns_msg *m, const struct dns_rr *x,
			   const struct dns_rr *y)
{
	/* Unequal TTLs make the pair whatever the RDATA. */
	if (x->ttl == y->ttl || x->type == T_RRSIG) {
		int same = x->rdlen == y->rdlen &&
			   bytes_equal(m->buf + x->rdata_off, m->buf + y->rdata_off, x->rdlen);
		if (!same && (!name_rdata(x->type) || rdata_names_differ(m, x, y)))
			return 0;
	}
	return x->name_off == y->name_off || !dns_names_differ(m, x->name_off, y->name_off);
}

/* What one pass over a response's RRs tells the response hook. */
struct rr_scan {
	int special;                  /* an answer A/AAAA is a special-purpose address (bogon_check()) */
	int pairs;                    /* two RRs duplicate_check() has to look at */
};

/* One pass over the RRs of a response, instead of one per check: the
 * answer (a non-NULL) — a fingerprint that is a sum over the answer RRs,
 * so the order does not matter, plus the rcode, and the addresses — and
 * whether bogon_check() or duplicate_check() can find anything, which is
 * rare. For duplicates that is a pair of RRs of one section, type and
 * class that pair_may_report(): a superset of the pairs it reports. */
static void rr_scan(const struct fp_key *fk, const struct pkt *p, const struct dns_msg *m,
		    struct recent_slot *a, struct rr_scan *sc)
{
	uint64_t key[DNS_MAX_RR];
	unsigned n = m->nrr, nan = 0, naddr = 0, v6 = 0;
	uint64_t fp = (uint64_t)m->rcode * 0x9e3779b97f4a7c15ull;
	int special = 0, pairs = 0;
	uint32_t seen = 0;               /* a bit per key hash: which keys came before */
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *rr = &m->rr[i];
		int valid = (size_t)rr->rdata_off + rr->rdlen <= m->len;
		const uint8_t *rd = m->buf + rr->rdata_off;
		uint64_t k = (uint64_t)rr->section << 32 | (uint64_t)rr->type << 16 | rr->rclass;
		key[i] = valid ? k : UINT64_MAX - i;
		/* Only an RR whose key may have come before is compared with
		 * the ones before it: the first of each RRset is not. */
		uint32_t bit = 1u << (k * 0x9e3779b97f4a7c15ull >> 59);
		if (valid && !pairs && (seen & bit)) {
			for (unsigned j = 0; j < i; j++) {
				const struct dns_rr *y = &m->rr[j];
				if (key[j] != k)
					continue;
				/* Most pairs are of one RRset with equal TTLs and
				 * different addresses: told apart inline. */
				if (((y->ttl != rr->ttl && rr->type != T_RRSIG) || name_rdata(rr->type) ||
				     (y->rdlen == rr->rdlen &&
				      bytes_equal(m->buf + y->rdata_off, rd, rr->rdlen))) &&
				    pair_may_report(m, y, rr)) {
					pairs = 1;
					break;
				}
			}
		}
		if (valid)
			seen |= bit;
		if (rr->section != DNS_SEC_AN)
			continue;
		if (a != NULL) {
			nan++;
			fp += rdata_hash(fk, m, rr);
		}
		if (!valid)
			continue;
		int priv;
		if (rr->type == 1 && rr->rdlen == 4) {
			special |= special_range_v4(rd, &priv) != NULL;
			if (a != NULL && naddr < ANS_ADDRS)
				memcpy(a->v4[naddr++], rd, 4);
		} else if (rr->type == 28 && rr->rdlen == 16) {
			special |= special_range_v6(rd, &priv) != NULL;
			if (a != NULL && naddr < ANS_ADDRS) {
				memcpy(a->v6[naddr], rd, 16);
				v6 |= 1u << naddr++;
			}
		}
	}
	sc->special = special;
	sc->pairs = pairs;
	if (a == NULL)
		return;
	a->rcode_flags = m->rcode & RECENT_RCODE;
	a->ip_ttl = p->ip_ttl;
	if (p->has_mac)
		memcpy(a->src_mac, p->src_mac, 6);
	else
		memset(a->src_mac, 0, 6);
	a->nan = (uint8_t)nan;
	a->naddr = (uint8_t)(naddr | v6 << 4);
	a->fp = (uint32_t)(fp ^ (fp >> 32));
}

/* The query's age, made - q_ts, as the slot keeps it: answers come within
 * the engine's query time-out, seconds, far below the 71 minutes that 32
 * bits of microseconds hold (an older one is cut to that). */
static inline uint32_t q_age_of(uint64_t made, uint64_t q_ts)
{
	uint64_t d = made > q_ts ? made - q_ts : 0;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The query's first transmission, from the slot. */
static uint64_t q_ts_of(const struct recent_slot *s)
{
	return s->made - s->q_age;
}

/* 1 when the answers packed in x and y (rr_scan()'s) are different ones:
 * their fingerprints or their numbers of answer RRs differ. The number is
 * compared as well because a fingerprint is only 32 bits: an answer that
 * a spoofer padded with an RR to match the sum still has one RR more. */
static inline int ans_differ(const struct recent_slot *x, const struct recent_slot *y)
{
	return x->fp != y->fp || x->nan != y->nan;
}

/* The time of a slot's first answer. */
static uint64_t first_ts(const struct recent_slot *s)
{
	uint32_t d = (uint32_t)s->ts_delta[0] | (uint32_t)s->ts_delta[1] << 8 |
		     (uint32_t)s->ts_delta[2] << 16;
	int32_t sd = (int32_t)(d ^ 0x800000u) - 0x800000;   /* sign-extended */
	return s->made + (uint64_t)(int64_t)sd;
}

static void first_ts_set(struct recent_slot *s, uint64_t ts)
{
	uint32_t d = (uint32_t)(ts - s->made);
	s->ts_delta[0] = (uint8_t)d;
	s->ts_delta[1] = (uint8_t)(d >> 8);
	s->ts_delta[2] = (uint8_t)(d >> 16);
}

/* Copies the answer packed in src (rr_scan()'s, at time ts) into the
 * first answer of dst, keeping dst's marks, its addresses only up to
 * their number. */
static void ans_copy(struct recent_slot *dst, const struct recent_slot *src, uint64_t ts)
{
	dst->fp = src->fp;
	dst->rcode_flags = (uint16_t)((dst->rcode_flags & ~RECENT_RCODE) |
				      (src->rcode_flags & RECENT_RCODE));
	memcpy(dst->src_mac, src->src_mac, 6);
	dst->ip_ttl = src->ip_ttl;
	dst->nan = src->nan;
	dst->naddr = src->naddr;
	for (unsigned i = 0; i < (src->naddr & 15u); i++) {
		if (src->naddr >> 4 & 1u << i)
			memcpy(dst->v6[i], src->v6[i], 16);
		else
			memcpy(dst->v4[i], src->v4[i], 4);
	}
	first_ts_set(dst, ts);
}

/* The answer packed in s (rr_scan()'s), at time ts, as evidence keeps it. */
static void ans_unpack(const struct recent_slot *s, uint64_t ts, struct integ_ans *a)
{
	memset(a, 0, sizeof(*a));
	a->ts = ts;
	a->nan = s->nan;
	a->rcode = s->rcode_flags & RECENT_RCODE;
	memcpy(a->src_mac, s->src_mac, 6);
	a->ip_ttl = s->ip_ttl;
	a->naddr = s->naddr & 15u;
	for (unsigned i = 0; i < a->naddr; i++) {
		if (s->naddr >> 4 & 1u << i)
			memcpy(a->addr[i], s->v6[i], 16);
		else
			ip_from_v4(a->addr[i], s->v4[i]);
	}
}

static int ans_has(const struct integ_ans *a, const uint8_t ip[16])
{
	for (unsigned i = 0; i < a->naddr; i++)
		if (memcmp(a->addr[i], ip, 16) == 0)
			return 1;
	return 0;
}

static void w_answer(struct jw *w, const char *key, const struct integ_ans *a)
{
	jw_obj(w, key);
	jw_time_text(w, "time", a->ts);
	const char *rc = dns_rcode_name(a->rcode);
	if (rc != NULL)
		jw_str(w, "rcode", rc);
	else
		jw_uint(w, "rcode", a->rcode);
	jw_uint(w, "answers", a->nan);
	jw_arr(w, "addresses");
	for (unsigned i = 0; i < a->naddr; i++)
		jw_ip_text(w, NULL, a->addr[i]);
	jw_end(w);
	jw_uint(w, "ip_ttl", a->ip_ttl);
	/* Not the fingerprint: it is keyed so that a spoofer cannot pad an
	 * answer to match, and the key's fast mix is no MAC; its values stay
	 * inside the sensor. */
	jw_mac_text(w, "source_mac", a->src_mac);
	jw_end(w);
}

/* For the unit tests (response.h): rr_scan() and ans_differ() on whole
 * messages. */
uint32_t integ_answer_fp(const struct dns_msg *m, uint64_t key)
{
	struct fp_key k;
	fp_key_init(&k, key);
	struct pkt p;
	memset(&p, 0, sizeof(p));
	struct recent_slot a;
	memset(&a, 0, sizeof(a));
	struct rr_scan sc;
	rr_scan(&k, &p, m, &a, &sc);
	return a.fp;
}

int integ_answers_differ(const struct dns_msg *x, const struct dns_msg *y, uint64_t key)
{
	struct fp_key k;
	fp_key_init(&k, key);
	struct pkt p;
	memset(&p, 0, sizeof(p));
	struct recent_slot a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	struct rr_scan sc;
	rr_scan(&k, &p, x, &a, &sc);
	rr_scan(&k, &p, y, &b, &sc);
	return ans_differ(&a, &b);
}

/* --- the table of answered queries --------------------------------------- */

static int recent_live(const struct integ *m, const struct recent_slot *s, uint64_t now)
{
	return s->made != 0 && now >= s->made && now - s->made <= m->race_us;
}

static struct recent_slot *recent_slot(const struct integ *m, uint64_t h)
{
	return &m->recent[h & (RECENT_SLOTS - 1)];
}

/* The entry of the query key hashed to h (recent_hash) when it is live,
 * else NULL. */
static struct recent_slot *recent_find(struct integ *m, uint64_t h, uint64_t now)
{
	struct recent_slot *s = recent_slot(m, h);
	if (s->tag != h || !recent_live(m, s, now))
		return NULL;
	return s;
}

/* An entry for the query key hashed to h, displacing whatever the slot
 * held: its count zeroed, its answer (`first`) and marks (rcode_flags)
 * left for the caller to write. */
static inline struct recent_slot *recent_make(struct integ *m, uint64_t h, uint64_t now)
{
	struct recent_slot *s = recent_slot(m, h);
	if (s->tag != h && recent_live(m, s, now))
		m->recent_displaced++;
	m->recent_used++;
	s->tag = h;
	s->made = now ? now : 1;
	s->responses = 0;
	return s;
}

void integ_alert_ctx_resp(struct engine *e, struct dctx *c, const struct pkt *p,
			  const struct dns_msg *msg, struct alert_ctx *a)
{
	post_alert_ctx(e, c, a);
	a->src_ip = p->dst_ip;          /* the device's address */
	a->dst_ip = p->src_ip;          /* the responder */
	a->dst_port = p->sport;
	a->src_port = p->dport;
	a->l4 = p->l4;
	if (msg != NULL && msg->has_q) {
		a->qname = msg->qname;
		a->qtype = msg->qtype;
	}
	if (msg != NULL)
		a->dns_id = msg->id;
}


/* --- response.race -------------------------------------------------------- */

/* Reports a race and frees its watch. */
static void race_emit(struct integ *m, struct engine *e, struct watch *w, const char *why)
{
	w->used = 0;
	m->nwatch--;
	struct device *d = tbl_at(e->devices, w->slot);
	if (d == NULL || d->id != w->dev_id) {
		m->watch_lost++;
		return;
	}
	struct dctx c;
	eng_dctx(e, d, &c);
	const struct det_rule *rl = rule(e, DET_RESPONSE_RACE);
	if (!alert_should_fire(&c.dd->alerts, DET_RESPONSE_RACE, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx(e, &c, &a);
	a.src_ip = w->qk.client;
	a.dst_ip = w->qk.server;
	a.dst_port = w->qk.server_port;
	a.src_port = w->qk.client_port;
	a.qname = w->qname;
	a.qtype = w->qtype;
	a.dns_id = w->qk.id;
	a.reason = why;
	char msg[400];
	const char *used = w->conn == 1 ? "then connected to an address of the first answer" :
			   w->conn == 2 ? "then connected to an address of the second answer" :
			   w->conn == 3 ? "then connected to an address both answers hold" :
			   "was not seen connecting to either";
	snprintf(msg, sizeof(msg), "Two different answers to one DNS query for %.200s reached the "
		 "device (a spoofing race); the device %s.", w->qname, used);
	struct jw jw;
	alert_begin(&jw, rl, &a, msg);
	w_hex16(&jw, "id", w->qk.id);
	jw_uint(&jw, "client_port", w->qk.client_port);
	jw_time_text(&jw, "query_time", w->q_ts);
	w_answer(&jw, "first", &w->a[0]);
	w_answer(&jw, "second", &w->a[1]);
	jw_int(&jw, "gap_us", (int64_t)(w->a[1].ts - w->a[0].ts));
	jw_uint(&jw, "responses", w->responses);
	/* A resolver may answer each copy of a retransmitted query, a CDN
	 * each with other addresses; so may a spoofer that matched the path.
	 * Still a race (two answers to one outstanding query), with what the
	 * analyst needs to tell which. */
	jw_uint(&jw, "query_retransmissions", w->retries);
	jw_bool(&jw, "same_source_mac", memcmp(w->a[0].src_mac, w->a[1].src_mac, 6) == 0);
	jw_bool(&jw, "same_ip_ttl", w->a[0].ip_ttl == w->a[1].ip_ttl);
	static const char *const used_names[] = { "none", "first", "second", "both" };
	jw_str(&jw, "connected_to", used_names[w->conn & 3]);
	if (w->conn) {
		jw_time_text(&jw, "connection_time", w->conn_ts);
		jw_ip_text(&jw, "connection_ip", w->conn_ip);
		jw_uint(&jw, "connection_port", w->conn_port);
		jw_str(&jw, "connection_proto", w->conn_proto == IPPROTO_TCP ? "tcp" : "udp");
	}
	alert_emit(e->out, &jw, &a);
}

COLD static void race_found(struct integ *m, struct engine *e, struct dctx *c, const struct pkt *p,
		       const struct dns_msg *msg, const struct qry_key *qk,
		       const struct recent_slot *r, const struct recent_slot *second)
{
	struct integ_dev *id = dev_of(m, c);
	if (id != NULL)
		id->races++;
	m->races++;
	struct watch *w = NULL;
	for (unsigned i = 0; i < WATCH_MAX && w == NULL; i++)
		if (!m->watch[i].used)
			w = &m->watch[i];
	if (w == NULL) {
		/* Full: the one closest to its deadline goes out now. */
		struct watch *old = &m->watch[0];
		for (unsigned i = 1; i < WATCH_MAX; i++)
			if (m->watch[i].deadline < old->deadline)
				old = &m->watch[i];
		m->watch_overflow++;
		race_emit(m, e, old, "watch_full");
		w = old;
	}
	memset(w, 0, sizeof(*w));
	w->used = 1;
	m->nwatch++;
	w->k = *c->k;
	w->slot = c->slot;
	w->dev_id = c->d->id;
	w->deadline = p->ts_us + WATCH_US;
	w->qk = *qk;
	text_copy(w->qname, sizeof(w->qname), msg->qname, msg->has_q ? msg->qname_len : 0);
	w->qtype = msg->qtype;
	w->q_ts = q_ts_of(r);
	w->responses = r->responses;
	w->retries = r->retries;
	ans_unpack(r, first_ts(r), &w->a[0]);
	ans_unpack(second, p->ts_us, &w->a[1]);
}

/* The device's next new connection after a race: a TCP SYN or a UDP packet
 * (not DNS) to an address of either answer. */
__attribute__((noinline))
void integ_watch_packet(struct integ *m, struct engine *e, const struct pkt *p)
{
	if (!p->has_mac)
		return;
	int syn = p->l4 == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
	int udp = p->l4 == IPPROTO_UDP && p->dport != PORT_DNS && p->sport != PORT_DNS;
	if (!syn && !udp)
		return;
	for (unsigned i = 0; i < WATCH_MAX; i++) {
		struct watch *w = &m->watch[i];
		if (!w->used || w->k.vlan != p->vlan || memcmp(w->k.mac, p->src_mac, 6) != 0)
			continue;
		int in0 = ans_has(&w->a[0], p->dst_ip), in1 = ans_has(&w->a[1], p->dst_ip);
		if (!in0 && !in1)
			continue;
		w->conn = (uint8_t)(in0 | (in1 << 1));
		w->conn_ts = p->ts_us;
		w->conn_proto = p->l4;
		w->conn_port = p->dport;
		memcpy(w->conn_ip, p->dst_ip, 16);
		race_emit(m, e, w, "race");
	}
}

void integ_watch_expire(struct integ *m, struct engine *e, uint64_t now, int all)
{
	for (unsigned i = 0; i < WATCH_MAX && m->nwatch > 0; i++)
		if (m->watch[i].used && (all || now >= m->watch[i].deadline))
			race_emit(m, e, &m->watch[i], "race");
}

/* --- response.reply-flood ------------------------------------------------- */

COLD static void reply_flood(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, const struct recent_slot *r)
{
	if (id != NULL)
		id->reply_floods++;
	const struct det_rule *rl = rule(e, DET_RESPONSE_REPLY_FLOOD);
	if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_REPLY_FLOOD, e->now, rl))
		return;
	struct alert_ctx a;
	integ_alert_ctx_resp(e, c, p, msg, &a);
	char text[256];
	unsigned limit = (unsigned)rl->p[DP_MAX_RESPONSES] + r->retries;
	snprintf(text, sizeof(text), "%u DNS responses answered one query for %.150s, sent %u "
		 "times: more than the %u it can explain.", r->responses,
		 msg->has_q ? msg->qname : "?", 1u + r->retries, limit);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "responses", r->responses);
	jw_uint(&w, "max_responses", (uint64_t)rl->p[DP_MAX_RESPONSES]);
	jw_uint(&w, "query_retransmissions", r->retries);
	jw_uint(&w, "responses_allowed", limit);
	w_hex16(&w, "id", msg->id);
	jw_uint(&w, "client_port", p->dport);
	jw_time_text(&w, "query_time", q_ts_of(r));
	jw_time_text(&w, "first_response_time", first_ts(r));
	jw_time_text(&w, "last_response_time", p->ts_us);
	alert_emit(e->out, &w, &a);
}

/* --- response.txid-mismatch and response.unsolicited ---------------------- */

static int port_open(const struct integ_dev *id, uint16_t port, uint64_t ts)
{
	uint32_t now = s_of(ts);
	for (unsigned i = 0; i < QPORTS; i++)
		if (id->qport[i] == port && port != 0 &&
		    (uint16_t)((uint16_t)now - id->qport_s[i]) <= OPEN_PORT_US / SEC)
			return 1;
	return 0;
}

COLD static void txid_guess(struct engine *e, struct dctx *c, struct integ_dev *id,
		       const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_RESPONSE_TXID_MISMATCH);
	struct win *w = win_at(&id->tx, p->ts_us, rule_window_us(rl, 2));
	if (w->n == 0) {
		id->tx_port = p->dport;
		id->tx_first_id = msg->id;
		id->tx_sport = p->sport;
		memcpy(id->tx_server, p->src_ip, 16);
	}
	w->n++;
	w->bytes += p->payload_len;
	id->tx_last_id = msg->id;
	id->txid_mismatch++;
	if (w->n != (uint32_t)rl->p[DP_MIN_RESPONSES])
		return;
	if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_TXID_MISMATCH, e->now, rl))
		return;
	struct alert_ctx a;
	integ_alert_ctx_resp(e, c, p, msg, &a);
	a.dst_ip = id->tx_server;
	a.dst_port = id->tx_sport;
	char text[256];
	snprintf(text, sizeof(text), "%u DNS responses with transaction IDs matching no "
		 "outstanding query reached the device's query port %u within %.3g s: "
		 "someone is guessing IDs to poison its answers.", w->n, id->tx_port,
		 (double)(w->last_ts - w->first_ts) / (double)SEC);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "port", id->tx_port);
	w_hex16(&jw, "first_id", id->tx_first_id);
	w_hex16(&jw, "last_id", id->tx_last_id);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_uint(&jw, "min_responses", (uint64_t)rl->p[DP_MIN_RESPONSES]);
	jw_real4(&jw, "window_s", rl->p[DP_WINDOW_S]);
	alert_emit(e->out, &jw, &a);
}

/* 1 when the high response.unsolicited alert may go out at `now`: none
 * went out yet, or the last one is the rule's rate_limit_s old (as
 * alert_should_fire() judges the medium one; a clock that stepped back
 * starts the interval again), and at least a window old: with no rate
 * limit (0) that is one a window, not one a response of the flood. */
static int unsolicited_may_escalate(struct integ_dev *id, uint64_t now, const struct det_rule *rl)
{
	if (!id->un_escalated)
		return 1;
	uint32_t now_s = s_of(now);
	if (now_s < id->un_escalated_s) {
		id->un_escalated_s = now_s;
		return 0;
	}
	double win = rl->p[DP_WINDOW_S];
	return now_s - id->un_escalated_s >= rl->rate_limit_s && now_s - id->un_escalated_s >= win;
}

COLD static void unsolicited(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_RESPONSE_UNSOLICITED);
	struct win *w = win_at(&id->un, p->ts_us, rule_window_us(rl, 60));
	if (w->n == 0) {
		id->un_sources = 0;
		memset(id->un_src, 0, 16);
	}
	if (w->n == 0 || memcmp(id->un_src, p->src_ip, 16) != 0)
		id->un_sources++;    /* changes of source: distinct sources in a run */
	memcpy(id->un_src, p->src_ip, 16);
	id->un_sport = p->sport;
	id->un_dport = p->dport;
	id->un_id = msg->id;
	id->un_qtype = msg->qtype;
	w->n++;
	w->bytes += p->ip_len;
	id->unsolicited++;
	uint32_t min = (uint32_t)rl->p[DP_MIN_RESPONSES];
	int high = w->n >= (uint32_t)rl->p[DP_ESCALATE_RESPONSES] ||
		   w->bytes >= (uint64_t)rl->p[DP_ESCALATE_BYTES];
	int fire = 0;
	if (w->n == min)
		fire = alert_should_fire(&c->dd->alerts, DET_RESPONSE_UNSOLICITED, e->now, rl);
	if (high && unsolicited_may_escalate(id, e->now, rl)) {
		/* Crossing into reflection-victim volume escalates even inside
		 * the rate limit of the medium alert, but once per rate-limit
		 * interval and not once per window: a reflection that goes on
		 * for hours restarts the window every minute, and a high alert
		 * a minute is what the rate limit is there to prevent. */
		id->un_escalated = 1;
		id->un_escalated_s = s_of(e->now);
		if (!fire)
			(void)alert_should_fire(&c->dd->alerts, DET_RESPONSE_UNSOLICITED, e->now, rl);
		fire = rl->enabled;
	}
	if (!fire)
		return;
	struct alert_ctx a;
	integ_alert_ctx_resp(e, c, p, msg, &a);
	a.escalated = (uint8_t)high;
	a.reason = high ? "reflection_volume" : "unsolicited";
	char text[256];
	snprintf(text, sizeof(text), "%u DNS responses (%llu bytes) reached the device without "
		 "any query of its own to match them: it is the target of DNS reflection.", w->n,
		 (unsigned long long)w->bytes);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "bytes", w->bytes);
	jw_uint(&jw, "source_changes", id->un_sources);
	jw_uint(&jw, "source_port", id->un_sport);
	jw_uint(&jw, "device_port", id->un_dport);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_uint(&jw, "min_responses", min);
	jw_uint(&jw, "escalate_responses", (uint64_t)rl->p[DP_ESCALATE_RESPONSES]);
	jw_uint(&jw, "escalate_bytes", (uint64_t)rl->p[DP_ESCALATE_BYTES]);
	alert_emit(e->out, &jw, &a);
}

/* --- response.bogon-answer ------------------------------------------------ */

COLD static void bogon_check(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg)
{
	if (!msg->has_q)
		return;
	/* Special addresses are rare, so the name is judged local only once
	 * one is found (the verdict is the same as judging it first). */
	int local = -1;
	for (unsigned i = 0; i < msg->nrr; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->section != DNS_SEC_AN || (size_t)rr->rdata_off + rr->rdlen > msg->len)
			continue;
		const uint8_t *rd = msg->buf + rr->rdata_off;
		int priv;
		const char *range;
		if (rr->type == 1 && rr->rdlen == 4)
			range = special_range_v4(rd, &priv);
		else if (rr->type == 28 && rr->rdlen == 16)
			range = special_range_v6(rd, &priv);
		else
			continue;
		if (range == NULL)
			continue;
		uint8_t ip[16];
		if (rr->type == 1)
			ip_from_v4(ip, rd);
		else
			memcpy(ip, rd, 16);
		if (local < 0)
			local = integ_local_name(msg->qname, msg->qname_len);
		if (local)
			return;
		if (priv && rules_internal_zone(e->rules, msg->qname))
			continue;
		if (id != NULL)
			id->bogon_answers++;
		const struct det_rule *rl = rule(e, DET_RESPONSE_BOGON_ANSWER);
		if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_BOGON_ANSWER, e->now, rl))
			return;
		struct alert_ctx a;
		integ_alert_ctx_resp(e, c, p, msg, &a);
		char addr[FMT_IP_LEN], text[320];
		fmt_ip(addr, ip);
		snprintf(text, sizeof(text), "The public name %.150s was answered with %s, a "
			 "special-purpose address (%s) no public name should resolve to.",
			 msg->qname, addr, range);
		struct jw w;
		alert_begin(&w, rl, &a, text);
		jw_ip_text(&w, "address", ip);
		jw_str(&w, "range", range);
		jw_bool(&w, "private_range", priv);
		jw_uint(&w, "ttl", rr->ttl);
		w_hex16(&w, "id", msg->id);
		jw_uint(&w, "ip_ttl", p->ip_ttl);
		if (p->has_mac)
			jw_mac_text(&w, "source_mac", p->src_mac);
		alert_emit(e->out, &w, &a);
		return;
	}
}

/* --- response.duplicate-rr ----------------------------------------------- */

static int owner_equal(const struct dns_msg *m, const struct dns_rr *a, const struct dns_rr *b)
{
	if (a->name_off == b->name_off)
		return 1;
	if (dns_names_differ(m, a->name_off, b->name_off))
		return 0;
	char x[DNS_NAME_TEXT], y[DNS_NAME_TEXT];
	int nx = dns_name_at(m->buf, m->len, a->name_off, x, sizeof(x), 1, NULL);
	int ny = dns_name_at(m->buf, m->len, b->name_off, y, sizeof(y), 1, NULL);
	return nx >= 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0;
}

static int rdata_equal(const struct dns_msg *m, const struct dns_rr *a, const struct dns_rr *b)
{
	if (a->rdlen == b->rdlen && bytes_equal(m->buf + a->rdata_off, m->buf + b->rdata_off, a->rdlen))
		return 1;
	if (!name_rdata(a->type))
		return 0;
	/* Names in RDATA: compare them decompressed (a duplicate written
	 * once plainly and once as a pointer is still a duplicate). */
	if (rdata_names_differ(m, a, b))
		return 0;
	size_t skip = a->type == 15 ? 2 : 0;
	char x[DNS_NAME_TEXT], y[DNS_NAME_TEXT];
	int nx = dns_name_at(m->buf, m->len, (size_t)a->rdata_off + skip, x, sizeof(x), 1, NULL);
	int ny = dns_name_at(m->buf, m->len, (size_t)b->rdata_off + skip, y, sizeof(y), 1, NULL);
	return nx >= 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0;
}

COLD static void duplicate_check(struct engine *e, struct dctx *c, struct integ_dev *id,
			    const struct pkt *p, const struct dns_msg *msg)
{
	unsigned n = msg->nrr;
	if (n < 2)
		return;
	/* Only two RRs of one section, type and class can be duplicates: one
	 * number per RR says which, so that the pairs (most of them of
	 * different types) are told apart by one comparison. An RR whose
	 * RDATA runs past the message pairs with none. */
	uint64_t key[DNS_MAX_RR];
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *x = &msg->rr[i];
		key[i] = (size_t)x->rdata_off + x->rdlen > msg->len ? UINT64_MAX - i :
			 (uint64_t)x->section << 32 | (uint64_t)x->type << 16 | x->rclass;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *x = &msg->rr[i];
		for (unsigned j = i + 1; j < n; j++) {
			const struct dns_rr *y = &msg->rr[j];
			if (key[j] != key[i])
				continue;
			int same = rdata_equal(msg, x, y);
			/* RRSIGs over different types share an owner and type
			 * but carry their covered RRset's TTL (RFC 4034 §3). */
			int ttl_differs = x->ttl != y->ttl && x->type != T_RRSIG;
			if (!same && !ttl_differs)
				continue;
			if (!owner_equal(msg, x, y))
				continue;
			if (id != NULL)
				id->duplicate_rr++;
			const struct det_rule *rl = rule(e, DET_RESPONSE_DUPLICATE_RR);
			if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_DUPLICATE_RR, e->now, rl))
				return;
			unsigned copies = 0;
			for (unsigned k = 0; k < msg->nrr; k++)
				if (msg->rr[k].section == x->section && msg->rr[k].type == x->type &&
				    rdata_equal(msg, x, &msg->rr[k]) && owner_equal(msg, x, &msg->rr[k]))
					copies++;
			char owner[DNS_NAME_TEXT], rd[256], text[512];
			if (dns_name_at(msg->buf, msg->len, x->name_off, owner, sizeof(owner), 1, NULL) < 0)
				snprintf(owner, sizeof(owner), "?");
			if (dns_rdata_text(msg, x, rd, sizeof(rd)) < 0)
				snprintf(rd, sizeof(rd), "?");
			const char *tn = dns_type_name(x->type);
			char tnum[16];
			snprintf(tnum, sizeof(tnum), "TYPE%u", x->type);
			if (tn == NULL)
				tn = tnum;
			static const char *const secs[] = { "?", "answer", "authority", "additional" };
			if (same)
				snprintf(text, sizeof(text), "A DNS response holds the record %.160s %s "
					 "%.160s %u times in its %s section.", owner, tn, rd, copies,
					 secs[x->section & 3]);
			else
				snprintf(text, sizeof(text), "A DNS response holds the %.160s %s record set "
					 "with unequal TTLs (%u and %u s).", owner, tn, x->ttl, y->ttl);
			struct alert_ctx a;
			integ_alert_ctx_resp(e, c, p, msg, &a);
			a.reason = same ? "duplicate_rr" : "unequal_ttls";
			struct jw w;
			alert_begin(&w, rl, &a, text);
			jw_str(&w, "owner", owner);
			jw_str(&w, "type", tn);
			jw_str(&w, "section", secs[x->section & 3]);
			jw_str(&w, "rdata", rd);
			jw_uint(&w, "copies", same ? copies : 1);
			jw_arr(&w, "ttls");
			jw_uint(&w, NULL, x->ttl);
			jw_uint(&w, NULL, y->ttl);
			jw_end(&w);
			jw_uint(&w, "records", msg->nrr);
			w_hex16(&w, "id", msg->id);
			alert_emit(e->out, &w, &a);
			return;
		}
	}
}

/* --- the response hook ---------------------------------------------------- */

void integ_response(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
		    const struct dns_msg *msg, const struct qry_key *qk, struct qry *q)
{
	struct integ *m = mv;
	m->deterministic = e->deterministic;
	struct integ_dev *id = dev_of(m, c);
	int udp = p->l4 == IPPROTO_UDP;
	/* Every UDP answer reads and writes its slot of the answered table:
	 * start that load now, to overlap the pass over the RRs. */
	uint64_t rh = 0;
	int spoofable = udp && id != NULL;
	if (spoofable) {
		rh = recent_hash(m, qk);
		__builtin_prefetch(recent_slot(m, rh), 1);
	}
	/* The answer of a matched response goes straight into its slot (the
	 * slot's own fields, which recent_make() reads, are not touched yet);
	 * an unmatched one is compared with the slot's first. */
	struct recent_slot a, *ans = NULL;
	if (spoofable)
		ans = q != NULL ? recent_slot(m, rh) : &a;
	struct rr_scan sc;
	rr_scan(&m->fp_key[m->deterministic != 0], p, msg, ans, &sc);
	if (sc.special)
		bogon_check(e, c, id, p, msg);
	if (sc.pairs)
		duplicate_check(e, c, id, p, msg);
	if (id == NULL)
		return;
	if (udp)
		integ_amp_response(e, c, id, p, msg);
	/* Spoofing needs UDP: a TCP answer can only come over the connection
	 * the device opened. */
	if (!udp)
		return;
	if (q != NULL) {
		/* The first answer: remember it for the race window. A key
		 * already there is an older transaction that reused port and
		 * ID (devices with a constant ID): it starts over. */
		struct recent_slot *r = recent_make(m, rh, p->ts_us);
		first_ts_set(r, p->ts_us);
		r->q_age = q_age_of(r->made, q->first_ts);
		r->retries = q->retries;
		r->dev_id = c->d->id;
		r->responses = 1;
		return;
	}
	struct recent_slot *r = recent_find(m, rh, p->ts_us);
	if (r != NULL && r->dev_id == c->d->id) {
		if ((r->rcode_flags & RECENT_LATE) && r->responses == 0) {
			/* The first answer to a query that had timed out. */
			ans_copy(r, &a, p->ts_us);
			r->responses = 1;
			id->late++;
			m->late++;
			return;
		}
		r->responses++;
		if (ans_differ(r, &a)) {
			if (!(r->rcode_flags & RECENT_RACED)) {
				r->rcode_flags |= RECENT_RACED;
				race_found(m, e, c, p, msg, qk, r, &a);
			}
		} else {
			id->duplicates++;
		}
		/* Each retransmission of the query may draw its own answer
		 * (RFC 1035 §4.2.1): a query sent four times and answered
		 * four times is no flood. */
		if (r->responses > (uint32_t)rule(e, DET_RESPONSE_REPLY_FLOOD)->p[DP_MAX_RESPONSES] +
				   r->retries &&
		    !(r->rcode_flags & RECENT_FLOODED)) {
			r->rcode_flags |= RECENT_FLOODED;
			reply_flood(e, c, id, p, msg, r);
		}
		return;
	}
	if (port_open(id, p->dport, p->ts_us)) {
		m->txid_mismatch++;
		txid_guess(e, c, id, p, msg);
	} else {
		m->unsolicited++;
		unsolicited(e, c, id, p, msg);
	}
}

void integ_unanswered(void *mv, struct engine *e, struct dctx *c,
		      const struct qry_key *qk, const struct qry *q)
{
	struct integ *m = mv;
	m->deterministic = e->deterministic;
	if (q->transport != TRANS_UDP)
		return;
	/* A late answer is then a late answer, not an unsolicited one. */
	struct recent_slot *r = recent_make(m, recent_hash(m, qk), e->now);
	r->fp = 0;
	r->rcode_flags = RECENT_LATE;
	memset(r->src_mac, 0, 6);
	r->ip_ttl = 0;
	r->nan = 0;
	r->naddr = 0;
	first_ts_set(r, r->made);
	r->q_age = q_age_of(r->made, q->first_ts);
	r->retries = q->retries;
	r->dev_id = c->d->id;
}

/* --- the query hook's part ------------------------------------------------ */

unsigned integ_port_find(const uint16_t ports[8], uint16_t port)
{
	return qport_find(ports, port);
}


void integ_resp_init(struct integ *m, struct engine *e)
{
	m->seed = sw_siphash(e->sipkey, "integrity", 9) | 1u;
	fp_key_init(&m->fp_key[0], sw_siphash(e->sipkey, "integrity answers", 17));
	fp_key_init(&m->fp_key[1], 0x5eed);
}
