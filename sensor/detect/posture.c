/* posture.c — stub-resolver hygiene: verdicts, alerts and the scorecard.
 *
 * DETECTIONS.md sections "Resolver discovery and use" (resolver.hardcoded,
 * resolver.rogue-dhcp), "Spoofing resistance of the stub resolver"
 * (stub.port-predictable, stub.txid-predictable; RFC 5452 §9.2, RFC 6056),
 * "EDNS(0) and transport" (edns.missing, edns.buffer-size: RFC 6891, RFC
 * 9715; transport.no-tcp-fallback: RFC 7766 §5-6; transport.fragmented-
 * response), "IPv6 and DNSSEC" (ipv6.no-aaaa, ipv6.no-v6-transport,
 * dnssec.unaware: RFC 3596, RFC 8106, RFC 3225, RFC 4035), and "The
 * scorecard". Posture findings are judged from the device's counters when
 * its query count reaches a milestone and whenever a device event goes out;
 * they alert once when the verdict becomes fail (alert.h). Below each
 * detection's minimum sample the verdict is unknown, never pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "detect/assign.h"
#include "detect/engine_int.h"
#include "output/event.h"
#include "output/jw.h"

#define SEC 1000000ull
#define MS 1000ull

/* A designated resolver that has not answered for this long is failing, and
 * queries elsewhere meanwhile are fallback (a stub's first retry comes after
 * about a second; half of it leaves room for jitter). */
#define FAIL_AFTER_US (500 * MS)
/* After a failure, off-set queries for this long still count as fallback:
 * stubs that switch resolvers stay switched for minutes (glibc's rotate,
 * systemd-resolved's 5 min grace for a failed server). */
#define FALLBACK_WINDOW_US (300 * SEC)

enum sc_line {
	SC_RESOLVER = 0, SC_ENCRYPTED, SC_PORTS, SC_TXID, SC_EDNS, SC_TCP,
	SC_CACHE, SC_BACKOFF, SC_IPV6, SC_DNSSEC, SC_MUD, SC_LINES
};

static const char *const sc_titles[SC_LINES] = {
	"uses the network-assigned resolver",
	"encrypted DNS to a sanctioned resolver",
	"random source ports",
	"random transaction IDs",
	"EDNS(0) with a sane buffer size",
	"TCP fallback after truncation",
	"caches answers and honours TTLs",
	"backs off on failure and caches negative answers",
	"IPv6: asks AAAA and uses IPv6 transport where available",
	"DNSSEC-aware (DO bit)",
	"stays within its management domains (MUD)",
};

/* Each line's fixed key in stubwatch.scorecard, so a SIEM can query one
 * guideline (stubwatch.scorecard.ports.verdict) without nested arrays. */
static const char *const sc_keys[SC_LINES] = {
	"resolver", "encrypted", "ports", "txid", "edns", "tcp",
	"cache", "backoff", "ipv6", "dnssec", "mud",
};

static const char *verdict_name(int v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "unknown";
}

void post_device_reset(struct engine *e, uint32_t slot)
{
	memset(&e->dd[slot], 0, sizeof(e->dd[slot]));
}

static const struct det_rule *rule(const struct engine *e, enum det_id id)
{
	return rules_det(e->rules, id);
}

void post_alert_ctx(struct engine *e, const struct dctx *c, struct alert_ctx *a)
{
	memset(a, 0, sizeof(*a));
	a->ts_us = e->now;
	a->observer = e->observer;
	a->dns_id = -1;
	if (c == NULL)
		return;
	a->dev = c->k;
	a->d = c->d;
	if (e->oui != NULL && !c->k->by_ip)
		a->vendor = enr_mac_info(e->oui, c->k->mac).vendor;
	if (c->d->hostname[0])
		a->hostname = c->d->hostname;
}

void post_alert_ctx_sent(struct engine *e, const struct dctx *c, const struct pkt *p,
			 const struct dns_msg *msg, struct alert_ctx *a)
{
	post_alert_ctx(e, c, a);
	a->src_ip = p->src_ip;
	a->dst_ip = p->dst_ip;
	a->dst_port = p->dport;
	a->src_port = p->sport;
	a->l4 = p->l4;
	if (msg != NULL) {
		a->qname = msg->qname;
		a->qtype = msg->qtype;
		a->dns_id = msg->id;
	}
}

/* --- resolver.hardcoded --------------------------------------------------- */

static void alert_hardcoded(struct engine *e, const struct pkt *p, struct dctx *c,
			    const struct dev_resolver *r, const char *from, int fallback_only)
{
	const struct det_rule *rl = rule(e, DET_RESOLVER_HARDCODED);
	if (!rl->enabled)
		return;
	char ip[FMT_IP_LEN], msg[256];
	fmt_ip(ip, r->ip);
	const char *op = rules_public_operator(e->rules, r->ip);
	if (fallback_only)
		snprintf(msg, sizeof(msg), "Device sent %u DNS queries to %s%s%s%s, outside the "
			 "resolvers the network assigned, but only while its assigned resolver "
			 "was failing.", r->off_set_queries, ip, op ? " (" : "", op ? op : "",
			 op ? ")" : "");
	else
		snprintf(msg, sizeof(msg), "Device sends DNS queries to %s%s%s%s instead of the "
			 "resolvers the network assigned it (%u queries).", ip, op ? " (" : "",
			 op ? op : "", op ? ")" : "", r->off_set_queries);
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	a.src_ip = p->src_ip;
	a.dst_ip = r->ip;
	a.dst_port = r->port;
	a.dst_operator = op;
	a.dst_geo = enr_geo_lookup(e->geo, r->ip);
	a.reason = fallback_only ? "fallback_only" : "hardcoded";
	/* Falling back to another resolver while the assigned one fails is a
	 * lesser fault than bypassing it: medium, not the rule's high. */
	struct det_rule lesser = *rl;
	if (fallback_only && lesser.severity > SEV_MEDIUM)
		lesser.severity = SEV_MEDIUM;
	struct jw w;
	alert_begin(&w, &lesser, &a, msg);
	jw_ip_text(&w, "resolver", r->ip);
	if (op != NULL)
		jw_str(&w, "operator", op);
	jw_uint(&w, "queries", r->off_set_queries);
	jw_uint(&w, "device_queries", c->d->c.queries);
	jw_real4(&w, "share", c->d->c.queries ? (double)r->off_set_queries / (double)c->d->c.queries : 0);
	jw_bool(&w, "fallback_only", fallback_only);
	jw_uint(&w, "fallback_queries", r->fallback_queries);
	jw_str(&w, "designated_from", from);
	jw_arr(&w, "designated");
	for (unsigned i = 0; i < c->d->nassigned; i++)
		jw_ip_text(&w, NULL, c->d->assigned[i].ip);
	const struct segment *s = &e->segs[c->k->vlan % SEG_COUNT];
	if (c->d->nassigned == 0)
		for (unsigned i = 0; i < s->nres; i++)
			jw_ip_text(&w, NULL, s->res[i].ip);
	jw_end(&w);
	char ts[FMT_TIME_LEN];
	fmt_time(ts, r->first_seen);
	jw_str(&w, "first_seen", ts);
	fmt_time(ts, r->last_seen);
	jw_str(&w, "last_seen", ts);
	jw_uint(&w, "min_queries", (uint64_t)rl->p[DP_MIN_QUERIES]);
	alert_emit(e->out, &w, &a);
}

/* Designation of one query's resolver, and the hard-coded verdict for it. */
static void judge_resolver(struct engine *e, const struct pkt *p, struct dctx *c,
			   struct dev_resolver *r)
{
	struct dev_detect *dd = c->dd;
	int yes;
	const char *from = asg_designated(e, c->k, c->d, r->ip, &yes);
	if (!yes && strcmp(from, "none") == 0)
		/* Nothing is known about what this network assigns (no DHCP,
		 * no RA, no sanctioned list): only a well-known public
		 * resolver is surely not the network's own. */
		yes = rules_public_operator(e->rules, r->ip) == NULL;
	if (yes) {
		r->off_set = 0;
		if (dd->desig_pending_since == 0)
			dd->desig_pending_since = p->ts_us;
		return;
	}
	r->off_set = 1;
	r->off_set_queries++;
	if (dd->desig_pending_since && p->ts_us - dd->desig_pending_since >= FAIL_AFTER_US &&
	    dd->fail_until < p->ts_us + FALLBACK_WINDOW_US)
		dd->fail_until = p->ts_us + FALLBACK_WINDOW_US;
	if (p->ts_us <= dd->fail_until)
		r->fallback_queries++;
	const struct det_rule *rl = rule(e, DET_RESOLVER_HARDCODED);
	if (r->off_set_queries < (uint32_t)rl->p[DP_MIN_QUERIES])
		return;
	int fallback_only = r->fallback_queries == r->off_set_queries;
	/* One alert per resolver: the fallback kind first if that is all it
	 * is, the plain kind once it is used outside failures too. */
	if (fallback_only && r->alerted == 0) {
		r->alerted = 1;
		alert_hardcoded(e, p, c, r, from, 1);
		c->d->dirty = 1;
	} else if (!fallback_only && r->alerted < 2) {
		r->alerted = 2;
		alert_hardcoded(e, p, c, r, from, 0);
		c->d->dirty = 1;
	}
}

/* --- per query and response ----------------------------------------------- */

/* Query counts at which the posture is judged again: the minimum samples of
 * the detections, then every 256 queries (a ring's worth). */
static int milestone(uint64_t n)
{
	return n == 8 || n == 50 || n == 64 || (n & 255) == 0;
}

/* A truncated answer not followed by a TCP query within the window. */
static void tc_expire(struct engine *e, struct dev_detect *dd, uint64_t now)
{
	const struct det_rule *rl = rule(e, DET_TRANSPORT_NO_TCP_FALLBACK);
	if (dd->tc_pending && now - dd->tc_ts > (uint64_t)(rl->p[DP_RETRY_WINDOW_S] * SEC)) {
		dd->tc_pending = 0;
		dd->tc_missed++;
	}
}

void post_query(struct engine *e, const struct pkt *p, struct dctx *c,
		const struct dns_msg *m, struct dev_resolver *r, int transport, int is_new)
{
	struct dev_detect *dd = c->dd;
	if (is_new) {
		/* A retransmission reuses the ID and port: not a new draw. */
		rnd_add(&dd->txids, m->id);
		if (transport == TRANS_UDP)
			rnd_add(&dd->ports, p->sport);
	}
	tc_expire(e, dd, p->ts_us);
	if (dd->tc_pending && transport == TRANS_TCP && memcmp(dd->tc_server, p->dst_ip, 16) == 0) {
		dd->tc_pending = 0;
		dd->tc_retried++;
	}
	if ((m->flags & (DNS_F_AD | DNS_F_CD)) || m->qtype == 48 || m->qtype == 43)
		dd->dnssec_signal = 1;
	if (m->has_opt) {
		const struct det_rule *rl = rule(e, DET_EDNS_BUFFER_SIZE);
		if (m->udp_size > rl->p[DP_MAX_SIZE] || m->udp_size < rl->p[DP_MIN_SIZE]) {
			dd->edns_bad++;
			dd->edns_bad_size = m->udp_size;
		}
	}
	if (p->ip_ver == 6 && !(p->src_ip[0] == 0xfe && (p->src_ip[1] & 0xc0) == 0x80))
		c->d->has_global_v6 = 1;
	if (r != NULL)
		judge_resolver(e, p, c, r);
	/* A verdict that turns to fail shows in a device event soon; other
	 * changes (unknown to pass) wait for the periodic one. */
	if (milestone(c->d->c.queries) && post_evaluate(e, c) >= 2)
		c->d->dirty = 1;
}

static void alert_fragmented(struct engine *e, const struct pkt *p, struct dctx *c,
			     const struct dns_msg *m, const struct qry *q, uint32_t size,
			     uint32_t advertised)
{
	const struct det_rule *rl = rule(e, DET_TRANSPORT_FRAGMENTED_RESPONSE);
	if (!alert_should_fire(&c->dd->alerts, DET_TRANSPORT_FRAGMENTED_RESPONSE, p->ts_us, rl))
		return;
	char ip[FMT_IP_LEN], msg[256];
	fmt_ip(ip, p->src_ip);
	if (p->reassembled)
		snprintf(msg, sizeof(msg), "A %u-byte DNS answer from %s reached the device as IP "
			 "fragments, which off-path attackers can spoof.", size, ip);
	else
		snprintf(msg, sizeof(msg), "A %u-byte DNS answer from %s exceeds the %u bytes the "
			 "device advertised.", size, ip, advertised);
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	a.src_ip = p->dst_ip;
	a.dst_ip = p->src_ip;
	a.dst_port = p->sport;
	a.src_port = p->dport;
	a.l4 = p->l4;
	a.dns_id = m->id;
	a.qname = m->has_q ? m->qname : NULL;
	a.qtype = m->qtype;
	a.reason = p->reassembled ? "ip_fragments" : "over_advertised_size";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_uint(&w, "response_bytes", size);
	jw_uint(&w, "advertised_udp_size", advertised);
	jw_bool(&w, "ip_fragmented", p->reassembled);
	jw_bool(&w, "query_had_edns", q != NULL && q->has_opt);
	jw_uint(&w, "fragmented_responses", c->d->c.fragmented);
	alert_emit(e->out, &w, &a);
}

void post_response(struct engine *e, const struct pkt *p, struct dctx *c,
		   const struct dns_msg *m, const struct qry *q, int transport)
{
	struct dev_detect *dd = c->dd;
	for (unsigned i = 0; i < c->d->nres; i++) {
		struct dev_resolver *r = &c->d->res[i];
		if (r->port != p->sport || memcmp(r->ip, p->src_ip, 16) != 0 || r->off_set)
			continue;
		/* The designated resolver answered: failing only if it says so
		 * (RFC 2308 §7.1: SERVFAIL; REFUSED is a resolver declining). */
		dd->desig_pending_since = 0;
		if (m->rcode == 2 || m->rcode == 5)
			dd->fail_until = p->ts_us + FALLBACK_WINDOW_US;
		break;
	}
	if (transport == TRANS_UDP && (m->flags & DNS_F_TC)) {
		tc_expire(e, dd, p->ts_us);
		if (!dd->tc_pending)
			dd->tc_events++;
		dd->tc_pending = 1;
		dd->tc_ts = p->ts_us;
		memcpy(dd->tc_server, p->src_ip, 16);
	}
	if (transport == TRANS_UDP) {
		/* RFC 6891 §6.2.5: without OPT the limit is 512 bytes. */
		uint32_t advertised = q != NULL && q->has_opt ? (q->udp_size < 512 ? 512 : q->udp_size) : 512;
		uint32_t size = p->payload_len;
		if (p->reassembled || (q != NULL && size > advertised))
			alert_fragmented(e, p, c, m, q, size, advertised);
	}
}

void post_unanswered(struct engine *e, struct dctx *c, const struct qry_key *qk,
		     const struct qry *q)
{
	(void)q;
	for (unsigned i = 0; i < c->d->nres; i++) {
		const struct dev_resolver *r = &c->d->res[i];
		if (r->port == qk->server_port && memcmp(r->ip, qk->server, 16) == 0 && !r->off_set) {
			uint64_t t = q->last_ts + e->cfg->queries_timeout_us;
			if (c->dd->fail_until < t + FALLBACK_WINDOW_US)
				c->dd->fail_until = t + FALLBACK_WINDOW_US;
			return;
		}
	}
}

/* --- verdicts --------------------------------------------------------------- */

struct verdicts {
	int line[SC_LINES];
	struct rnd_result ports;
	struct rnd_result txids;
	int hardcoded;               /* resolvers used outside the set, plainly */
	int fallback;                /* resolvers used outside the set during failures only */
	int edns_missing, edns_size;
	int no_aaaa, no_v6, v6_capable, v6_offered;
	int dnssec;
};

/* The statistics of a ring, recomputed once per 16 new values, and at once
 * when the ring reaches one of the thresholds a verdict turns on (the early
 * constant-ID rule, the minimum sample); `exact` (a device event, the
 * summary: what a person reads) recomputes whenever the ring moved. A full
 * computation costs about 2 µs, and query milestones ask often. */
static void cached_verdict(const struct rnd_ring *r, const struct rnd_params *p,
			   uint32_t *at, struct rnd_result *out, int exact)
{
	uint32_t seen = r->seen, last = *at;
	if (last != 0 && (seen == last || (!exact && seen - last < 16)) &&
	    !(last < p->constant_after && seen >= p->constant_after) &&
	    !(last < p->min_queries && seen >= p->min_queries))
		return;
	rnd_verdict(r, p, out);
	*at = seen ? seen : 1;
}

/* Every verdict of the device, from its counters (nothing changes but the
 * cached ring statistics). */
static void judge(struct engine *e, struct dctx *c, struct verdicts *v, int exact)
{
	const struct device *d = c->d;
	const struct dev_counts *n = &d->c;
	struct dev_detect *dd = c->dd;
	memset(v, 0, sizeof(*v));

	for (unsigned i = 0; i < d->nres; i++) {
		if (d->res[i].alerted == 2)
			v->hardcoded++;
		else if (d->res[i].alerted == 1)
			v->fallback++;
	}
	uint32_t minq = (uint32_t)rule(e, DET_RESOLVER_HARDCODED)->p[DP_MIN_QUERIES];
	v->line[SC_RESOLVER] = v->hardcoded ? VERDICT_FAIL :
			       n->queries >= minq ? VERDICT_PASS : VERDICT_UNKNOWN;

	cached_verdict(&dd->ports, &e->port_params, &dd->ports_at, &dd->ports_r, exact);
	cached_verdict(&dd->txids, &e->txid_params, &dd->txids_at, &dd->txids_r, exact);
	v->ports = dd->ports_r;
	v->txids = dd->txids_r;
	v->line[SC_PORTS] = v->ports.verdict == RND_FAIL ? VERDICT_FAIL :
			    v->ports.verdict == RND_PASS ? VERDICT_PASS : VERDICT_UNKNOWN;
	v->line[SC_TXID] = v->txids.verdict == RND_FAIL ? VERDICT_FAIL :
			   v->txids.verdict == RND_PASS ? VERDICT_PASS : VERDICT_UNKNOWN;

	uint64_t min_edns = (uint64_t)rule(e, DET_EDNS_MISSING)->p[DP_MIN_QUERIES];
	v->edns_missing = n->queries_edns == 0 ? (n->queries >= min_edns ? VERDICT_FAIL : VERDICT_UNKNOWN)
					       : VERDICT_PASS;
	v->edns_size = n->queries_edns == 0 ? VERDICT_UNKNOWN :
		       dd->edns_bad ? VERDICT_FAIL : VERDICT_PASS;
	v->line[SC_EDNS] = verdict_worst(v->edns_missing, v->edns_size);

	tc_expire(e, dd, e->now);
	v->line[SC_TCP] = dd->tc_missed >= (uint32_t)rule(e, DET_TRANSPORT_NO_TCP_FALLBACK)->p[DP_MIN_TC_EVENTS]
			  ? VERDICT_FAIL : dd->tc_retried ? VERDICT_PASS : VERDICT_UNKNOWN;

	const struct segment *s = &e->segs[c->k->vlan % SEG_COUNT];
	v->v6_capable = d->has_global_v6 || s->v6_prefix;
	v->v6_offered = s->rdnss || s->dhcp6_dns;
	uint64_t min_v6 = (uint64_t)rule(e, DET_IPV6_NO_AAAA)->p[DP_MIN_QUERIES];
	if (!v->v6_capable || n->queries < min_v6)
		v->no_aaaa = VERDICT_UNKNOWN;
	else
		v->no_aaaa = n->queries_aaaa == 0 ? VERDICT_FAIL : VERDICT_PASS;
	if (!v->v6_offered || !d->has_global_v6 ||
	    n->queries < (uint64_t)rule(e, DET_IPV6_NO_V6_TRANSPORT)->p[DP_MIN_QUERIES])
		v->no_v6 = VERDICT_UNKNOWN;
	else
		v->no_v6 = n->queries_v6 == 0 ? VERDICT_FAIL : VERDICT_PASS;
	v->line[SC_IPV6] = verdict_worst(v->no_aaaa, v->no_v6);

	if (n->queries_do || dd->dnssec_signal)
		v->dnssec = VERDICT_PASS;
	else
		v->dnssec = n->queries >= (uint64_t)rule(e, DET_DNSSEC_UNAWARE)->p[DP_MIN_QUERIES]
			    ? VERDICT_FAIL : VERDICT_UNKNOWN;
	v->line[SC_DNSSEC] = v->dnssec;
	/* Lines 2, 7, 8 and 11 come with the encrypted-DNS, cache, back-off
	 * and MUD detections: unknown until those judge them. */
}

static void rnd_json(struct jw *w, const char *key, const struct rnd_result *r)
{
	jw_obj(w, key);
	jw_uint(w, "n", r->n);
	jw_real4(w, "sigma", r->sigma);
	jw_real4(w, "bits", r->bits);
	jw_uint(w, "distinct", r->distinct);
	jw_real4(w, "distinct_share", r->distinct_share);
	jw_uint(w, "step", r->step);
	jw_real4(w, "step_share", r->step_share);
	jw_uint(w, "most_common", r->value);
	jw_real4(w, "most_common_share", r->value_share);
	jw_str(w, "class", rnd_class_name(r->cls));
	jw_str(w, "verdict", rnd_verdict_name(r->verdict));
	jw_end(w);
}

/* The posture alert of one detection, with its evidence. */
static void alert_posture(struct engine *e, struct dctx *c, enum det_id id,
			  const struct verdicts *v)
{
	const struct det_rule *rl = rule(e, id);
	const struct dev_counts *n = &c->d->c;
	char msg[256];
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	struct jw w;
	switch (id) {
	case DET_STUB_PORT_PREDICTABLE:
	case DET_STUB_TXID_PREDICTABLE: {
		const struct rnd_result *r = id == DET_STUB_PORT_PREDICTABLE ? &v->ports : &v->txids;
		const char *what = id == DET_STUB_PORT_PREDICTABLE ? "UDP source ports" : "transaction IDs";
		if (r->reason == RND_R_CONSTANT_VALUE)
			snprintf(msg, sizeof(msg), "Device's DNS %s are constant (%u in %.0f%% of %u "
				 "queries), so spoofed answers are easy to forge.", what, r->value,
				 r->value_share * 100, r->n);
		else if (r->reason == RND_R_CONSTANT_STEP)
			snprintf(msg, sizeof(msg), "Device's DNS %s follow a constant step of %u "
				 "(%.0f%% of %u queries), so they are predictable.", what, r->step,
				 r->step_share * 100, r->n);
		else
			snprintf(msg, sizeof(msg), "Device's DNS %s vary too little (sigma %.0f, "
				 "about %.1f bits of randomness over %u queries).", what, r->sigma,
				 r->bits, r->n);
		a.reason = rnd_reason_name(r->reason);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "n", r->n);
		jw_real4(&w, "sigma", r->sigma);
		jw_real4(&w, "bits", r->bits);
		jw_uint(&w, "distinct", r->distinct);
		jw_real4(&w, "distinct_share", r->distinct_share);
		jw_uint(&w, "step", r->step);
		jw_real4(&w, "step_share", r->step_share);
		jw_uint(&w, "most_common", r->value);
		jw_real4(&w, "most_common_share", r->value_share);
		jw_str(&w, "class", rnd_class_name(r->cls));
		jw_real4(&w, "sigma_excellent", rl->p[DP_SIGMA_EXCELLENT]);
		jw_real4(&w, "sigma_good", rl->p[DP_SIGMA_GOOD]);
		break;
	}
	case DET_EDNS_MISSING:
		snprintf(msg, sizeof(msg), "None of the device's %llu DNS queries carries EDNS(0).",
			 (unsigned long long)n->queries);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "queries", n->queries);
		jw_uint(&w, "queries_with_opt", n->queries_edns);
		jw_uint(&w, "min_queries", (uint64_t)rl->p[DP_MIN_QUERIES]);
		break;
	case DET_EDNS_BUFFER_SIZE:
		snprintf(msg, sizeof(msg), "Device advertises an EDNS(0) UDP payload size of %u "
			 "bytes, outside %u-%u.", c->dd->edns_bad_size,
			 (unsigned)rl->p[DP_MIN_SIZE], (unsigned)rl->p[DP_MAX_SIZE]);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "udp_size", c->dd->edns_bad_size);
		jw_uint(&w, "queries_out_of_range", c->dd->edns_bad);
		jw_uint(&w, "queries_with_opt", n->queries_edns);
		jw_uint(&w, "max_size", (uint64_t)rl->p[DP_MAX_SIZE]);
		jw_uint(&w, "min_size", (uint64_t)rl->p[DP_MIN_SIZE]);
		break;
	case DET_TRANSPORT_NO_TCP_FALLBACK: {
		char ip[FMT_IP_LEN];
		fmt_ip(ip, c->dd->tc_server);
		snprintf(msg, sizeof(msg), "Device did not retry over TCP after %u truncated DNS "
			 "answers (last from %s).", c->dd->tc_missed, ip);
		a.dst_ip = c->dd->tc_server;
		a.dst_port = 53;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "truncated_answers", c->dd->tc_events);
		jw_uint(&w, "retried_over_tcp", c->dd->tc_retried);
		jw_uint(&w, "not_retried", c->dd->tc_missed);
		jw_real4(&w, "retry_window_s", rl->p[DP_RETRY_WINDOW_S]);
		break;
	}
	case DET_IPV6_NO_AAAA:
		snprintf(msg, sizeof(msg), "Device is IPv6-capable but asked no AAAA record in %llu "
			 "DNS queries.", (unsigned long long)n->queries);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "queries", n->queries);
		jw_uint(&w, "aaaa_queries", n->queries_aaaa);
		jw_bool(&w, "global_ipv6_address", c->d->has_global_v6);
		jw_bool(&w, "segment_offers_ipv6", e->segs[c->k->vlan % SEG_COUNT].v6_prefix);
		break;
	case DET_IPV6_NO_V6_TRANSPORT:
		snprintf(msg, sizeof(msg), "Device has IPv6 and the network offers IPv6 resolvers, "
			 "yet all %llu of its DNS queries go over IPv4.", (unsigned long long)n->queries);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "queries", n->queries);
		jw_uint(&w, "queries_over_ipv6", n->queries_v6);
		break;
	case DET_DNSSEC_UNAWARE:
		snprintf(msg, sizeof(msg), "None of the device's %llu DNS queries sets DO, AD or CD, "
			 "or asks for DNSKEY or DS: it does not use DNSSEC.", (unsigned long long)n->queries);
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "queries", n->queries);
		jw_uint(&w, "queries_with_do", n->queries_do);
		break;
	default:
		return;
	}
	alert_emit(e->out, &w, &a);
}

/* Records the verdicts, alerting for those that became fail; 1 when any
 * changed. */
static int apply_verdicts(struct engine *e, struct dctx *c, const struct verdicts *vp)
{
	const struct verdicts v = *vp;
	static const struct {
		enum det_id id;
		size_t off;
	} map[] = {
		{ DET_STUB_PORT_PREDICTABLE, offsetof(struct verdicts, line) + SC_PORTS * sizeof(int) },
		{ DET_STUB_TXID_PREDICTABLE, offsetof(struct verdicts, line) + SC_TXID * sizeof(int) },
		{ DET_EDNS_MISSING, offsetof(struct verdicts, edns_missing) },
		{ DET_EDNS_BUFFER_SIZE, offsetof(struct verdicts, edns_size) },
		{ DET_TRANSPORT_NO_TCP_FALLBACK, offsetof(struct verdicts, line) + SC_TCP * sizeof(int) },
		{ DET_IPV6_NO_AAAA, offsetof(struct verdicts, no_aaaa) },
		{ DET_IPV6_NO_V6_TRANSPORT, offsetof(struct verdicts, no_v6) },
		{ DET_DNSSEC_UNAWARE, offsetof(struct verdicts, dnssec) },
		{ DET_RESOLVER_HARDCODED, offsetof(struct verdicts, line) + SC_RESOLVER * sizeof(int) },
	};
	int changed = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int verdict = *(const int *)(const void *)((const char *)&v + map[i].off);
		int rc = alert_verdict(&c->dd->alerts, map[i].id, (enum alert_verdict)verdict,
				       e->now, rule(e, map[i].id));
		if (rc & ALERT_CHANGED)
			changed = changed < 1 ? 1 : changed;
		if ((rc & ALERT_CHANGED) && verdict == VERDICT_FAIL)
			changed = 2;
		/* resolver.hardcoded alerts per resolver, as queries arrive. */
		if ((rc & ALERT_FIRE) && map[i].id != DET_RESOLVER_HARDCODED)
			alert_posture(e, c, map[i].id, &v);
	}
	for (unsigned i = 0; i < e->nmod; i++) {
		if (e->mods[i]->evaluate == NULL)
			continue;
		int rc = e->mods[i]->evaluate(e->mod[i], e, c);
		if (rc > changed)
			changed = rc;
	}
	return changed;
}

int post_evaluate(struct engine *e, struct dctx *c)
{
	struct verdicts v;
	judge(e, c, &v, 0);
	return apply_verdicts(e, c, &v);
}

/* Asks the modules for the scorecard lines they judge: verdicts into
 * lines[], and (when ev is not NULL) each such line's evidence as JSON text
 * in ev[] (malloc'd, the caller frees). One scratch writer serves every
 * call: a device event asks eleven lines of every module. */
static void module_lines(struct engine *e, struct dctx *c, int lines[SC_LINES], char **ev)
{
	if (e->nmod == 0)
		return;
	struct jw w;
	jw_init(&w, 256);
	for (int i = 0; i < SC_LINES; i++) {
		for (unsigned mi = 0; mi < e->nmod; mi++) {
			if (e->mods[mi]->scorecard == NULL)
				continue;
			jw_reset(&w);
			jw_obj(&w, NULL);
			int verdict = e->mods[mi]->scorecard(e->mod[mi], e, c, i + 1, &w);
			jw_end(&w);
			if (verdict < 0)
				continue;
			lines[i] = verdict;
			if (ev != NULL) {
				size_t len;
				const char *t = jw_text(&w, &len);
				ev[i] = strdup(t);
			}
			break;
		}
	}
	jw_free(&w);
}

int post_lines(struct engine *e, struct dctx *c, int lines[11])
{
	struct verdicts v;
	judge(e, c, &v, 1);
	for (int i = 0; i < SC_LINES; i++)
		lines[i] = v.line[i];
	module_lines(e, c, lines, NULL);
	return SC_LINES;
}

/* --- the device event's extra parts ----------------------------------------- */

static char *take(struct jw *w)
{
	size_t len;
	return jw_take(w, &len);
}

void post_extra(struct engine *e, struct dctx *c, struct ev_device_extra *x,
		struct post_bufs *b)
{
	const struct device *d = c->d;
	memset(x, 0, sizeof(*x));
	memset(b, 0, sizeof(*b));
	if (e->oui != NULL && !c->k->by_ip) {
		struct enr_mac_info mi = enr_mac_info(e->oui, c->k->mac);
		x->vendor = mi.vendor;
		x->mac_local = mi.locally_administered;
	}
	static const uint8_t none[16];
	int yes;
	x->designated_from = asg_designated(e, c->k, d, none, &yes);
	x->seg = &e->segs[c->k->vlan % SEG_COUNT];

	struct jw w;
	jw_init(&w, 512);
	jw_arr(&w, NULL);
	for (unsigned i = 0; i < d->nres; i++) {
		const struct dev_resolver *r = &d->res[i];
		jw_obj(&w, NULL);
		jw_ip_text(&w, "ip", r->ip);
		jw_uint(&w, "port", r->port);
		jw_str(&w, "protocol", "do53");
		jw_arr(&w, "transport");
		if (r->transports & TRANS_UDP)
			jw_str(&w, NULL, "udp");
		if (r->transports & TRANS_TCP)
			jw_str(&w, NULL, "tcp");
		jw_end(&w);
		const char *op = rules_public_operator(e->rules, r->ip);
		if (op != NULL)
			jw_str(&w, "operator", op);
		alert_geo_json(&w, enr_geo_lookup(e->geo, r->ip), op);
		jw_bool(&w, "designated", !r->off_set);
		jw_uint(&w, "queries", r->queries);
		jw_uint(&w, "responses", r->responses);
		if (r->off_set_queries) {
			jw_uint(&w, "off_set_queries", r->off_set_queries);
			jw_uint(&w, "fallback_queries", r->fallback_queries);
			jw_bool(&w, "fallback_only", r->fallback_queries == r->off_set_queries);
		}
		char ts[FMT_TIME_LEN];
		fmt_time(ts, r->first_seen);
		jw_str(&w, "first_seen", ts);
		fmt_time(ts, r->last_seen);
		jw_str(&w, "last_seen", ts);
		jw_end(&w);
	}
	jw_end(&w);
	b->resolvers = take(&w);

	/* One judgement serves the alerts and the event that shows them: a
	 * verdict that turns to fail alerts before this device event. */
	struct verdicts v;
	judge(e, c, &v, 1);
	apply_verdicts(e, c, &v);
	jw_init(&w, 512);
	jw_obj(&w, NULL);
	rnd_json(&w, "ports", &v.ports);
	rnd_json(&w, "txid", &v.txids);
	jw_end(&w);
	b->randomness = take(&w);

	const struct dev_counts *n = &d->c;
	int pass = 0, fail = 0;
	/* Lines a module judges: its verdict and evidence, copied in below. */
	char *mod_ev[SC_LINES] = { 0 };
	module_lines(e, c, v.line, mod_ev);
	jw_init(&w, 1024);
	jw_obj(&w, NULL);
	for (int i = 0; i < SC_LINES; i++) {
		jw_obj(&w, sc_keys[i]);
		jw_uint(&w, "line", (uint64_t)i + 1);
		jw_str(&w, "guideline", sc_titles[i]);
		jw_str(&w, "verdict", verdict_name(v.line[i]));
		pass += v.line[i] == VERDICT_PASS;
		fail += v.line[i] == VERDICT_FAIL;
		if (mod_ev[i] != NULL) {
			jw_raw(&w, "evidence", mod_ev[i], strlen(mod_ev[i]));
			free(mod_ev[i]);
			jw_end(&w);
			continue;
		}
		jw_obj(&w, "evidence");
		switch (i) {
		case SC_RESOLVER:
			jw_uint(&w, "queries", n->queries);
			jw_uint(&w, "hardcoded_resolvers", (uint64_t)v.hardcoded);
			jw_uint(&w, "fallback_only_resolvers", (uint64_t)v.fallback);
			jw_str(&w, "designated_from", x->designated_from);
			break;
		case SC_PORTS:
			jw_uint(&w, "n", v.ports.n);
			jw_real4(&w, "sigma", v.ports.sigma);
			jw_str(&w, "class", rnd_class_name(v.ports.cls));
			break;
		case SC_TXID:
			jw_uint(&w, "n", v.txids.n);
			jw_real4(&w, "sigma", v.txids.sigma);
			jw_str(&w, "class", rnd_class_name(v.txids.cls));
			break;
		case SC_EDNS:
			jw_uint(&w, "queries", n->queries);
			jw_uint(&w, "queries_with_opt", n->queries_edns);
			jw_uint(&w, "sizes_out_of_range", c->dd->edns_bad);
			break;
		case SC_TCP:
			jw_uint(&w, "truncated_answers", c->dd->tc_events);
			jw_uint(&w, "retried_over_tcp", c->dd->tc_retried);
			jw_uint(&w, "not_retried", c->dd->tc_missed);
			break;
		case SC_IPV6:
			jw_bool(&w, "ipv6_capable", v.v6_capable);
			jw_bool(&w, "ipv6_resolvers_offered", v.v6_offered);
			jw_uint(&w, "aaaa_queries", n->queries_aaaa);
			jw_uint(&w, "queries_over_ipv6", n->queries_v6);
			break;
		case SC_DNSSEC:
			jw_uint(&w, "queries", n->queries);
			jw_uint(&w, "queries_with_do", n->queries_do);
			jw_bool(&w, "ad_cd_or_dnssec_types", c->dd->dnssec_signal);
			break;
		default:
			break;
		}
		jw_end(&w);
		jw_end(&w);
	}
	jw_arr(&w, "failing");
	for (int i = 0; i < SC_LINES; i++)
		if (v.line[i] == VERDICT_FAIL)
			jw_str(&w, NULL, sc_keys[i]);
	jw_end(&w);
	jw_uint(&w, "passes", (uint64_t)pass);
	jw_uint(&w, "fails", (uint64_t)fail);
	if (pass + fail > 0)
		jw_real4(&w, "score", (double)pass / (double)(pass + fail));
	else
		jw_null(&w, "score");
	jw_end(&w);
	b->scorecard = take(&w);
	if (e->nmod > 0) {
		/* Members, without braces: they go into the "stubwatch" object. */
		jw_init(&w, 512);
		jw_obj(&w, NULL);
		for (unsigned mi = 0; mi < e->nmod; mi++)
			if (e->mods[mi]->device_json != NULL)
				e->mods[mi]->device_json(e->mod[mi], e, c, &w);
		jw_end(&w);
		size_t len;
		const char *t = jw_text(&w, &len);
		if (len > 2) {
			b->modules = malloc(len - 1);
			if (b->modules != NULL) {
				memcpy(b->modules, t + 1, len - 2);
				b->modules[len - 2] = '\0';
			}
		}
		jw_free(&w);
	}
	x->modules_json = b->modules;
	x->resolvers_json = b->resolvers;
	x->randomness_json = b->randomness;
	x->scorecard_json = b->scorecard;
}

void post_extra_free(struct post_bufs *b)
{
	free(b->resolvers);
	free(b->randomness);
	free(b->scorecard);
	free(b->modules);
}

/* --- resolver.rogue-dhcp ------------------------------------------------------ */

void post_rogue_server(struct engine *e, const struct pkt *p,
		       const struct seg_server *now, const struct seg_server *other,
		       int changed)
{
	const struct det_rule *rl = rule(e, DET_RESOLVER_ROGUE_DHCP);
	if (!rl->enabled)
		return;
	static const char *const kinds[] = { "?", "DHCPv4 server", "DHCPv6 server", "IPv6 router" };
	const char *kind = kinds[now->kind <= 3 ? now->kind : 0];
	char ip[FMT_IP_LEN], mac[FMT_MAC_LEN], oip[FMT_IP_LEN] = "", omac[FMT_MAC_LEN] = "", msg[320];
	fmt_ip(ip, now->ip);
	fmt_mac(mac, now->mac);
	if (other != NULL) {
		fmt_ip(oip, other->ip);
		fmt_mac(omac, other->mac);
	}
	if (other == NULL)
		snprintf(msg, sizeof(msg), "The %s %s (%s) hands out DNS servers on VLAN %u but is "
			 "not one of the allowed servers.", kind, ip, mac, p->vlan);
	else if (changed)
		snprintf(msg, sizeof(msg), "The %s %s (%s) on VLAN %u changed the DNS servers it "
			 "hands out.", kind, ip, mac, p->vlan);
	else
		snprintf(msg, sizeof(msg), "A second %s %s (%s) hands out DNS servers on VLAN %u, "
			 "where %s (%s) already does.", kind, ip, mac, p->vlan, oip, omac);
	struct alert_ctx a;
	post_alert_ctx(e, NULL, &a);
	a.dst_ip = now->ip;
	a.reason = other == NULL ? "not_allowed" : changed ? "servers_changed" : "second_server";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_str(&w, "server_kind", kind);
	jw_str(&w, "server_ip", ip);
	jw_str(&w, "server_mac", mac);
	jw_uint(&w, "vlan", p->vlan);
	jw_arr(&w, "dns_servers");
	for (unsigned i = 0; i < now->ndns; i++)
		jw_ip_text(&w, NULL, now->dns[i]);
	jw_end(&w);
	if (other != NULL) {
		jw_str(&w, changed ? "previous_server_ip" : "other_server_ip", oip);
		jw_str(&w, changed ? "previous_server_mac" : "other_server_mac", omac);
		jw_arr(&w, changed ? "previous_dns_servers" : "other_dns_servers");
		for (unsigned i = 0; i < other->ndns; i++)
			jw_ip_text(&w, NULL, other->dns[i]);
		jw_end(&w);
	} else {
		jw_uint(&w, "allowed_entries", e->nallow_ip + e->nallow_mac);
	}
	alert_emit(e->out, &w, &a);
}
