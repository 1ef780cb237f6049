/* rate.c — query rates and failure behaviour (the behaviour module's
 * rate.burst, rate.retry-storm and network.resolver-outage: RFC 1536,
 * RFC 1123 §6.1.3, RFC 9520, RFC 8767): rate.burst's alert (the query
 * hook counts the rate), and the storms within failure episodes, held
 * back for one window so that several devices storming at a silent
 * resolver give one network alert.
 */
#include "detect/behaviour_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "output/jw.h"

/* --- rates ----------------------------------------------------------------------- */

/* win_start: where the counted window begins, the name's own window or
 * the oldest of the device's rate buckets. */
void bh_alert_burst(struct engine *e, struct dctx *c, struct bdev *v, const struct pkt *p,
			const struct dns_msg *msg, int same_name, uint32_t name_count,
			uint64_t win_start)
{
	const struct det_rule *rl = rule(e, DET_RATE_BURST);
	if (!alert_should_fire(&c->dd->alerts, DET_RATE_BURST, p->ts_us, rl))
		return;
	uint32_t q60 = v->q60;
	char msgtext[320];
	double win = rl->p[DP_WINDOW_S] > 60 ? 60 : rl->p[DP_WINDOW_S];
	if (same_name)
		snprintf(msgtext, sizeof(msgtext), "Device asked for %.200s %u times within %.0f s.",
			 msg->qname, name_count, win);
	else
		snprintf(msgtext, sizeof(msgtext), "Device sent %u DNS queries in %.0f s, %.0f times "
			 "its usual rate of %.1f per minute.", q60, win,
			 v->baseline_qpm > 0 ? q60 * (60.0 / win) / v->baseline_qpm : 0,
			 v->baseline_qpm);
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	a.reason = same_name ? "same_name" : "rate";
	struct jw w;
	alert_begin(&w, rl, &a, msgtext);
	jw_uint(&w, "queries_in_window", q60);
	jw_real4(&w, "window_s", win);
	jw_real4(&w, "baseline_qpm", v->baseline_qpm);
	jw_uint(&w, "baseline_minutes", v->minutes);
	if (same_name) {
		jw_str(&w, "name", msg->qname);
		jw_uint(&w, "name_queries_in_window", name_count);
	}
	ts_member(&w, "window_start", win_start);
	ts_member(&w, "window_end", p->ts_us);
	jw_real4(&w, "k", rl->p[DP_K]);
	jw_real4(&w, "floor_qps", rl->p[DP_FLOOR_QPS]);
	jw_uint(&w, "same_name_max", (uint64_t)rl->p[DP_SAME_NAME_MAX]);
	alert_emit(e->out, &w, &a);
}

/* --- retry storms and resolver outages ----------------------------------------- */

static int designated(const struct dctx *c, const uint8_t ip[16])
{
	for (unsigned i = 0; i < c->d->nres; i++)
		if (memcmp(c->d->res[i].ip, ip, 16) == 0)
			return !c->d->res[i].off_set;
	return 0;
}

static void alert_storm(struct bh *b, struct engine *e, const struct storm *s)
{
	struct device *d = tbl_at(e->devices, s->slot);
	if (d == NULL || d->id != s->dev_id)
		return;
	struct dctx c;
	eng_dctx(e, d, &c);
	const struct det_rule *rl = rule(e, DET_RATE_RETRY_STORM);
	if (!alert_should_fire(&c.dd->alerts, DET_RATE_RETRY_STORM, e->now, rl))
		return;
	char msg[480], ip[FMT_IP_LEN];
	fmt_ip(ip, s->resolver);
	double dur = (double)(s->at_us - s->start_us) / SEC;
	if (s->flat_reason)
		snprintf(msg, sizeof(msg), "During a DNS failure (%s from %s) the device kept asking "
			 "for %.200s every %.1f-%.1f s without backing off (%u queries in %.0f s).",
			 fail_names[s->fail_kind], ip, s->name, s->min_iv_ms / 1000.0,
			 s->max_iv_ms / 1000.0, s->queries, dur);
	else
		snprintf(msg, sizeof(msg), "During a DNS failure (%s from %s) the device asked for %.200s "
			 "%u times in %.0f s (%.1f per second) without backing off.",
			 fail_names[s->fail_kind], ip, s->name, s->queries, dur, s->rate);
	struct alert_ctx a;
	post_alert_ctx(e, &c, &a);
	a.dst_ip = s->resolver;
	a.dst_port = s->resolver_port;
	a.qname = whole_name(s->name, sizeof(s->name));
	a.qtype = s->qtype;
	a.reason = s->flat_reason ? "intervals_flat" : "rate";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_str(&w, "failure", fail_names[s->fail_kind]);
	name_member(&w, s->name, sizeof(s->name));
	jw_ip_text(&w, "resolver", s->resolver);
	jw_bool(&w, "designated_resolver", s->designated);
	ts_member(&w, "episode_start", s->start_us);
	ts_member(&w, "storm_seen_at", s->at_us);
	jw_uint(&w, "queries", s->queries);
	jw_real4(&w, "duration_s", dur);
	jw_real4(&w, "rate_qps", s->rate);
	jw_real4(&w, "min_interval_s", s->min_iv_ms / 1000.0);
	jw_real4(&w, "max_interval_s", s->max_iv_ms / 1000.0);
	jw_uint(&w, "storms", b->dev[s->slot].storms);
	jw_real4(&w, "per_name_qps", rl->p[DP_PER_NAME_QPS]);
	jw_uint(&w, "min_duration_s", (uint64_t)rl->p[DP_MIN_DURATION_S]);
	alert_emit(e->out, &w, &a);
}

static struct outage *outage_for(struct bh *b, const uint8_t ip[16])
{
	for (int i = 0; i < OUTAGES; i++)
		if (b->outages[i].active && memcmp(b->outages[i].resolver, ip, 16) == 0)
			return &b->outages[i];
	return NULL;
}

static uint32_t active_devices(struct engine *e)
{
	uint32_t n = 0;
	for (struct device *d = tbl_next(e->devices, NULL); d != NULL; d = tbl_next(e->devices, d))
		if (d->c.queries && e->now - d->last_seen <= ACTIVE_US)
			n++;
	return n;
}

static void alert_outage(struct bh *b, struct engine *e, struct outage *o, uint32_t active)
{
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	b->c_outages++;
	if (!rl->enabled || (o->alerted_us && e->now - o->alerted_us < (uint64_t)rl->rate_limit_s * SEC))
		return;
	o->alerted_us = e->now;
	char msg[320], ip[FMT_IP_LEN];
	fmt_ip(ip, o->resolver);
	snprintf(msg, sizeof(msg), "Resolver %s stopped answering and %u devices started retry "
		 "storms against it at once.", ip, o->devices);
	struct alert_ctx a;
	post_alert_ctx(e, NULL, &a);
	a.dst_ip = o->resolver;
	a.dst_port = PORT_DNS;
	a.reason = "resolver_silent";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_ip_text(&w, "resolver", o->resolver);
	ts_member(&w, "silent_since", o->start_us);
	jw_uint(&w, "storming_devices", o->devices);
	jw_uint(&w, "active_devices", active);
	jw_real4(&w, "share", active ? (double)o->devices / active : 0);
	jw_arr(&w, "devices");
	for (int i = 0; i < STORMS; i++) {
		const struct storm *s = &b->storms[i];
		if (!s->state || memcmp(s->resolver, o->resolver, 16) != 0)
			continue;
		struct device *d = tbl_at(e->devices, s->slot);
		if (d == NULL || d->id != s->dev_id)
			continue;
		const struct dev_key *k = tbl_key(e->devices, d);
		char mac[FMT_IP_LEN];
		jw_obj(&w, NULL);
		if (k->by_ip) {
			fmt_ip(mac, k->ip);
			jw_str(&w, "ip", mac);
		} else {
			fmt_mac(mac, k->mac);
			jw_str(&w, "mac", mac);
		}
		jw_uint(&w, "id", d->id);
		jw_str(&w, "name", s->name);
		jw_uint(&w, "queries", s->queries);
		jw_real4(&w, "rate_qps", s->rate);
		ts_member(&w, "storm_seen_at", s->at_us);
		jw_end(&w);
	}
	jw_end(&w);
	jw_uint(&w, "min_devices", (uint64_t)rl->p[DP_MIN_DEVICES]);
	jw_real4(&w, "min_share", rl->p[DP_MIN_SHARE]);
	jw_real4(&w, "window_s", rl->p[DP_WINDOW_S]);
	alert_emit(e->out, &w, &a);
}

/* Outage o is over at `now` (its resolver answered again, or the storms
 * stopped): kept, as ended, for the storms it still explains. */
void bh_outage_end(struct bh *b, struct outage *o, uint64_t now)
{
	o->active = 0;
	o->ended_us = now;
	b->nactive--;
}

/* The outage of s's resolver that s belongs to: one still active, or one
 * that ended (the resolver answered again) after s was seen. Storms are
 * held back for a window, and a resolver back within it still explains
 * them: the network-level alert stands in for all of them. */
static struct outage *outage_explaining(struct bh *b, const struct storm *s)
{
	for (int i = 0; i < OUTAGES; i++) {
		struct outage *o = &b->outages[i];
		int held = o->active || (o->ended_us && s->at_us >= o->start_us &&
					 s->at_us <= o->ended_us);
		if (held && memcmp(o->resolver, s->resolver, 16) == 0)
			return o;
	}
	return NULL;
}

/* A new storm against resolver r: do the storms held back against it make
 * an outage? Only storms of unanswered queries to a designated resolver
 * count (the resolver went silent; SERVFAIL is the resolver answering). */
static void outage_check(struct bh *b, struct engine *e, const struct storm *ns)
{
	if (ns->fail_kind != FK_TIMEOUT || !ns->designated)
		return;
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	uint64_t win = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	struct outage *o = outage_for(b, ns->resolver);
	if (o != NULL) {
		o->devices++;
		o->last_us = ns->at_us;
		return;
	}
	uint32_t n = 0;
	uint64_t start = ns->start_us;
	for (int i = 0; i < STORMS; i++) {
		const struct storm *s = &b->storms[i];
		/* Storms an outage already ended has explained are not a new one. */
		if (s->state && s->fail_kind == FK_TIMEOUT && s->designated &&
		    memcmp(s->resolver, ns->resolver, 16) == 0 && ns->at_us - s->at_us <= win &&
		    (s == ns || outage_explaining(b, s) == NULL)) {
			n++;
			if (s->start_us < start)
				start = s->start_us;
		}
	}
	if (n < 2)
		return;
	uint32_t active = 0;
	if (n < (uint32_t)rl->p[DP_MIN_DEVICES]) {
		active = active_devices(e);
		if (active == 0 || (double)n / active < rl->p[DP_MIN_SHARE])
			return;
	}
	o = NULL;
	for (int i = 0; i < OUTAGES && o == NULL; i++)
		if (!b->outages[i].active)
			o = &b->outages[i];
	if (o == NULL)
		o = &b->outages[0];
	uint64_t alerted = memcmp(o->resolver, ns->resolver, 16) == 0 ? o->alerted_us : 0;
	if (!o->active)
		b->nactive++;
	memset(o, 0, sizeof(*o));
	o->active = 1;
	memcpy(o->resolver, ns->resolver, 16);
	o->start_us = start;
	o->last_us = ns->at_us;
	o->devices = n;
	o->alerted_us = alerted;
	if (active == 0)
		active = active_devices(e);
	alert_outage(b, e, o, active);
}

/* Decides a held-back storm: explained by an outage (suppressed) or a
 * device alert. */
void bh_storm_decide(struct bh *b, struct engine *e, struct storm *s)
{
	struct outage *o = outage_explaining(b, s);
	if (o != NULL && s->fail_kind == FK_TIMEOUT) {
		o->suppressed++;
		b->c_suppressed++;
	} else {
		alert_storm(b, e, s);
	}
	if (s->slot < b->ndev && b->dev[s->slot].dev_id == s->dev_id)
		b->dev[s->slot].storm_pending = 0;
	s->state = 0;
	b->nstorms--;
}

void bh_storm_add(struct bh *b, struct engine *e, struct dctx *c, struct bdev *v,
		  const struct cent *ce, const struct ccold *cc, const struct dns_msg *msg,
		      const struct qry_key *qk, int flat, uint64_t now)
{
	v->storms++;
	b->c_storms++;
	double dur = (double)(now - ce->fail_start_us) / SEC;
	double rate = dur > 0 ? cc->fail_queries / dur : 0;
	if (rate > v->max_rate)
		v->max_rate = rate;
	c->d->dirty = 1;
	if (v->storm_pending)
		return;  /* one held back per device is enough: alerts are per device */
	struct storm *s = NULL, *oldest = NULL;
	for (int i = 0; i < STORMS && s == NULL; i++) {
		if (!b->storms[i].state)
			s = &b->storms[i];
		else if (oldest == NULL || b->storms[i].at_us < oldest->at_us)
			oldest = &b->storms[i];
	}
	if (s == NULL) {
		b->c_storm_ring_full++;
		bh_storm_decide(b, e, oldest);
		s = oldest;
	}
	memset(s, 0, sizeof(*s));
	s->state = 1;
	b->nstorms++;
	s->fail_kind = cc->fail_kind;
	s->flat_reason = (uint8_t)flat;
	s->qtype = ce->qtype;
	s->dev_id = c->d->id;
	s->slot = c->slot;
	s->at_us = now;
	s->start_us = ce->fail_start_us;
	s->queries = cc->fail_queries;
	s->min_iv_ms = cc->min_iv_ms;
	s->max_iv_ms = cc->max_iv_ms;
	s->rate = rate;
	memcpy(s->resolver, qk->server, 16);
	s->resolver_port = qk->server_port;
	s->designated = (uint8_t)designated(c, qk->server);
	text_copy(s->name, sizeof(s->name), msg->qname, msg->qname_len);
	v->storm_pending = 1;
	outage_check(b, e, s);
}


void bh_storms_flush(struct bh *b, struct engine *e)
{
	for (int i = 0; i < STORMS && b->nstorms != 0; i++)
		if (b->storms[i].state)
			bh_storm_decide(b, e, &b->storms[i]);
}

