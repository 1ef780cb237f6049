/* behaviour.c — caching, TTLs, query rates and failure behaviour: the
 * module's state, verdicts and posture alerts, hooks, device events, stats.
 *
 * RFC 1035 §3.2.1 and RFC 2181 §8 (TTLs), RFC 2308 §5 (negative caching),
 * RFC 8767 §4 (stale data only while resolution fails), RFC 9520 (caching
 * resolution failures), RFC 1536 and RFC 1123 §6.1.3 (query rates). See
 * behaviour.h for the state it keeps and DETECTIONS.md for the rules.
 *
 * What counts as what:
 *   - a *repeat query* is a new query (not a retransmission, engine's
 *     is_new) for a (name, type) whose previous query was answered and
 *     which has no query outstanding and no failure episode open; it is
 *     *early* when it comes before alpha x TTL (TTL >= min_ttl_s). A retry
 *     of an unanswered or failed query is never a repeat query, and a
 *     pre-fetch after alpha x TTL is not early;
 *   - a *failure* of a (name, type) is a query still unanswered after
 *     timeout_s, a SERVFAIL, REFUSED, FORMERR or NOTIMP, an empty answer
 *     (NOERROR, no answer RR, no SOA) or an unexpected one (NOERROR with
 *     answer RRs, none of them of the asked type, no SOA). From the first failure until a good answer (or
 *     EPISODE_IDLE without queries) the name is in a *failure episode*;
 *   - a *storm* is an episode in which the per-name rate stays at or above
 *     per_name_qps for min_duration_s, or in which FLAT_MIN consecutive
 *     retry intervals shorter than FLAT_MAX_US did not grow (a growth is
 *     an interval at least GROWTH x the one before; queries closer than
 *     ROUND_US are one round, with no interval between them);
 *   - *stale use* is a new connection (a TCP SYN, or the first UDP packet
 *     of a flow; either one not seen for CONN_IDLE_US, so that SYN
 *     retransmissions are one attempt) to an address whose latest answer
 *     expired more than grace_s ago, when the name was not asked again.
 */
#include "detect/behaviour.h"
#include "detect/behaviour_int.h"

#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/mem.h"
#include "detect/engine_int.h"
#include "output/jw.h"

static void bh_destroy(void *m)
{
	struct bh *b = m;
	if (b == NULL)
		return;
	bh_cache_free(&b->cache);
	tbl_free(b->conns);
	sw_big_free(&b->dev_map);
	free(b);
}

static void *bh_create(struct engine *e, char *err, size_t errlen)
{
	struct bh *b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto fail;
	uint32_t n = e->cfg->devices_max;
	b->ndev = n;
	b->dev = sw_big_alloc(&b->dev_map, n, sizeof(*b->dev));
	int crc = bh_cache_init(&b->cache, clamp_cap(CACHE_PER_DEV, n, CACHE_MAX), e->sipkey);
	b->conns = tbl_new("connections_seen", clamp_cap(CONN_PER_DEV, n, CONN_MAX),
			    sizeof(struct fkey), sizeof(struct fent), e->sipkey);
	if (b->dev == NULL || crc != 0 || b->conns == NULL)
		goto fail;
	return b;
fail:
	bh_destroy(b);
	snprintf(err, errlen, "behaviour: cannot allocate the answer cache (devices.max=%u): "
		 "out of memory", e->cfg->devices_max);
	return NULL;
}

static void bh_device_reset(void *m, struct engine *e, uint32_t slot)
{
	struct bh *b = m;
	if (slot >= b->ndev)
		return;
	memset(&b->dev[slot], 0, sizeof(b->dev[slot]));
	struct device *d = tbl_at(e->devices, slot);
	if (d != NULL)
		b->dev[slot].dev_id = d->id;
}

/* --- verdicts ---------------------------------------------------------------- */

static int v_requery(const struct engine *e, const struct bdev *v)
{
	const struct det_rule *r = rule(e, DET_CACHE_REQUERY_WITHIN_TTL);
	if (v->repeat < (uint32_t)r->p[DP_MIN_SAMPLES] || v->repeat == 0)
		return VERDICT_UNKNOWN;
	return (double)v->early / v->repeat > r->p[DP_SHARE] ? VERDICT_FAIL : VERDICT_PASS;
}

static int v_stale(const struct engine *e, const struct bdev *v)
{
	uint32_t min = (uint32_t)rule(e, DET_CACHE_STALE_USE)->p[DP_MIN_OCCURRENCES];
	if (v->stale >= min)
		return VERDICT_FAIL;
	return v->checked >= min ? VERDICT_PASS : VERDICT_UNKNOWN;
}

static int v_negative(const struct engine *e, const struct bdev *v)
{
	uint32_t min = (uint32_t)rule(e, DET_CACHE_NEGATIVE_IGNORED)->p[DP_MIN_REPEATS];
	if (v->neg_early >= min)
		return VERDICT_FAIL;
	return v->neg_samples >= min ? VERDICT_PASS : VERDICT_UNKNOWN;
}

static int v_backoff(const struct bdev *v)
{
	if (v->storms)
		return VERDICT_FAIL;
	return v->backoff_episodes ? VERDICT_PASS : VERDICT_UNKNOWN;
}

/* --- posture alerts ------------------------------------------------------------ */

static void alert_posture(struct engine *e, struct dctx *c, const struct bdev *v,
			  enum det_id id)
{
	const struct det_rule *rl = rule(e, id);
	uint64_t stale_expiry = v->stale_answered + (uint64_t)v->stale_ttl * SEC;
	char msg[320], ip[FMT_IP_LEN];
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	struct jw w;
	switch (id) {
	case DET_CACHE_REQUERY_WITHIN_TTL:
		snprintf(msg, sizeof(msg), "Device asked again for names whose answers were still "
			 "valid in %u of its %u repeat queries (%.0f%%), ignoring their TTLs.",
			 v->early, v->repeat, 100.0 * v->early / (v->repeat ? v->repeat : 1));
		a.qname = whole_name(v->early_name, sizeof(v->early_name));
		a.qtype = v->early_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "repeat_queries", v->repeat);
		jw_uint(&w, "early_requeries", v->early);
		jw_real4(&w, "early_share", v->repeat ? (double)v->early / v->repeat : 0);
		jw_obj(&w, "last_early");
		name_member(&w, v->early_name, sizeof(v->early_name));
		ts_member(&w, "answered_at", v->early_answered);
		ts_member(&w, "asked_again_at", v->early_at);
		jw_uint(&w, "ttl_s", v->early_ttl);
		jw_real4(&w, "elapsed_s", (double)(v->early_at - v->early_answered) / SEC);
		jw_end(&w);
		jw_real4(&w, "alpha", rl->p[DP_ALPHA]);
		jw_uint(&w, "min_ttl_s", (uint64_t)rl->p[DP_MIN_TTL_S]);
		jw_real4(&w, "share", rl->p[DP_SHARE]);
		break;
	case DET_CACHE_STALE_USE:
		fmt_ip(ip, v->stale_ip);
		snprintf(msg, sizeof(msg), "Device opened %u new connections to addresses whose DNS "
			 "answers had expired without asking again (last: %s for %s, %.0f s after "
			 "expiry).", v->stale, ip, v->stale_name,
			 (double)(v->stale_at - stale_expiry) / SEC);
		a.dst_ip = v->stale_ip;
		a.dst_port = v->stale_port;
		a.qname = whole_name(v->stale_name, sizeof(v->stale_name));
		a.qtype = v->stale_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "stale_uses", v->stale);
		jw_uint(&w, "connections_checked", v->checked);
		jw_obj(&w, "last");
		jw_str(&w, "address", ip);
		jw_uint(&w, "port", v->stale_port);
		jw_str(&w, "transport", v->stale_tcp ? "tcp" : "udp");
		name_member(&w, v->stale_name, sizeof(v->stale_name));
		jw_uint(&w, "ttl_s", v->stale_ttl);
		ts_member(&w, "answered_at", v->stale_answered);
		ts_member(&w, "expired_at", stale_expiry);
		ts_member(&w, "connected_at", v->stale_at);
		jw_real4(&w, "seconds_past_expiry", (double)(v->stale_at - stale_expiry) / SEC);
		jw_end(&w);
		jw_uint(&w, "grace_s", (uint64_t)rl->p[DP_GRACE_S]);
		break;
	case DET_CACHE_NEGATIVE_IGNORED:
		snprintf(msg, sizeof(msg), "Device repeated %u queries answered NXDOMAIN/NODATA "
			 "before their negative TTL ran out (last: %s).", v->neg_early, v->neg_name);
		a.qname = whole_name(v->neg_name, sizeof(v->neg_name));
		a.qtype = v->neg_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "negative_repeats", v->neg_early);
		jw_uint(&w, "repeats_of_negative_answers", v->neg_samples);
		jw_obj(&w, "last");
		name_member(&w, v->neg_name, sizeof(v->neg_name));
		jw_uint(&w, "negative_ttl_s", v->neg_ttl);
		ts_member(&w, "answered_at", v->neg_answered);
		ts_member(&w, "asked_again_at", v->neg_at);
		jw_real4(&w, "elapsed_s", (double)(v->neg_at - v->neg_answered) / SEC);
		jw_end(&w);
		jw_uint(&w, "min_repeats", (uint64_t)rl->p[DP_MIN_REPEATS]);
		break;
	default:
		return;
	}
	alert_emit(e->out, &w, &a);
}

static int bh_evaluate(void *m, struct engine *e, struct dctx *c)
{
	/* The capture ends: storms held back are decided before the last
	 * device events go out (the engine calls no tick after the last). */
	if (e->finishing)
		bh_storms_flush(m, e);
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return 0;
	const struct {
		enum det_id id;
		int verdict;
	} map[] = {
		{ DET_CACHE_REQUERY_WITHIN_TTL, v_requery(e, v) },
		{ DET_CACHE_STALE_USE, v_stale(e, v) },
		{ DET_CACHE_NEGATIVE_IGNORED, v_negative(e, v) },
	};
	int changed = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int rc = alert_verdict(&c->dd->alerts, map[i].id, (enum alert_verdict)map[i].verdict,
				       e->now, rule(e, map[i].id));
		if (rc & ALERT_CHANGED)
			changed = changed < 1 ? 1 : changed;
		if ((rc & ALERT_CHANGED) && map[i].verdict == VERDICT_FAIL)
			changed = 2;
		if (rc & ALERT_FIRE)
			alert_posture(e, c, v, map[i].id);
	}
	return changed;
}

/* A counter crossed a threshold: judge now rather than at the next query
 * milestone, and have the device event show it. */
void bh_judge_now(struct bh *b, struct engine *e, struct dctx *c)
{
	if (bh_evaluate(b, e, c) >= 2)
		c->d->dirty = 1;
}

/* --- rates ----------------------------------------------------------------------- */

static void rate_add(struct bdev *v, uint64_t now)
{
	uint64_t bn = now / BUCKET_US;
	if (!v->rate_started) {
		v->rate_started = 1;
		v->bucket_n = bn;
		v->minute = now / (60 * SEC);
	}
	if (bn != v->bucket_n) {
		uint64_t gap = bn > v->bucket_n ? bn - v->bucket_n : 0;
		if (gap >= BUCKETS) {
			memset(v->bucket, 0, sizeof(v->bucket));
			v->q60 = 0;
		} else {
			for (uint64_t i = 1; i <= gap; i++) {
				uint16_t *s = &v->bucket[(v->bucket_n + i) % BUCKETS];
				v->q60 -= *s;
				*s = 0;
			}
		}
		v->bucket_n = bn;
	}
	uint16_t *s = &v->bucket[bn % BUCKETS];
	if (*s < UINT16_MAX) {
		(*s)++;
		v->q60++;
	}
	uint64_t mn = now / (60 * SEC);
	if (mn > v->minute) {
		/* The finished minute, then the silent ones, enter the EWMA. */
		v->baseline_qpm = v->minutes ? v->baseline_qpm * (1 - EWMA_W) + v->minute_count * EWMA_W
					     : v->minute_count;
		uint64_t silent = mn - v->minute - 1;
		v->baseline_qpm *= pow(1 - EWMA_W, (double)(silent < 1000 ? silent : 1000));
		uint64_t add = mn - v->minute;
		v->minutes = v->minutes + add > UINT32_MAX ? UINT32_MAX : v->minutes + (uint32_t)add;
		v->minute = mn;
		v->minute_count = 0;
	}
	v->minute_count++;
}

/* --- hooks ------------------------------------------------------------------------ */

/* A query from a public IPv4 address crossed the router (its MAC is the
 * router's): clients on the Internet asking a device here, not the stub
 * of the MAC it came from, so its caching is not that MAC's. */
static int outside_v4(const uint8_t ip[16])
{
	if (!ip_is_v4(ip))
		return 0;
	/* 0.0.0.0/8 too: "this network" (RFC 1122), a host before DHCP. */
	return !(ip_v4_site_local(ip + 12) || ip[12] == 0);
}

/* The query's device is known: hash its (name, type) key and request the
 * entry's line, which the query hook needs after the engine's own lookup
 * of the outstanding query. */
static void bh_prefetch(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk)
{
	struct bh *b = m;
	if (!msg->has_q || c->slot >= b->ndev)
		return;
	__builtin_prefetch(&b->dev[c->slot]);
	struct ckey key = { c->d->id, qk->qname_hash, msg->qtype, 0 };
	b->pf_key = key;
	b->pf_bk = cache_prefetch(&b->cache, key);
}

static void bh_prefetch_response(void *m, struct engine *e, const struct pkt *p,
				 struct dctx *c, const struct qry *q)
{
	struct bh *b = m;
	(void)e;
	(void)p;
	uint32_t ref = q->mod_ref[MREF_BEHAVIOUR];
	if (c->slot >= b->ndev)
		return;
	/* A positive answer's addresses go to the ring: its tag line. */
	__builtin_prefetch(b->dev[c->slot].addr_tag);
	if (ref != 0 && ref <= 2 * b->cache.nb)
		__builtin_prefetch(&b->cache.ent[ref - 1], 1);
}

/* entry_for() by the key's hash: the buckets the prefetch hook computed
 * for it, or computed now. */
__attribute__((noinline))
static uint32_t entry_by_hash(struct bh *b, struct ckey key, const char *name)
{
	struct cbk c = ckey_eq(key, b->pf_key) ? b->pf_bk : cache_buckets(&b->cache, key);
	return bh_cache_get(&b->cache, key, c, name);
}

/* The slot of the (name, type) entry of a query or response, created when
 * new: through ref (the outstanding query's mod_ref) when it still holds
 * the key, as it does for most responses, inline; else by the key's hash,
 * out of line. */
static inline uint32_t entry_for(struct bh *b, uint32_t ref, uint32_t dev_id,
				 const struct qry_key *qk, uint16_t qtype, const char *name)
{
	struct ckey key = { dev_id, qk->qname_hash, qtype, 0 };
	if (cache_ref(&b->cache, ref, key))
		return ref - 1;
	return entry_by_hash(b, key, name);
}

/* A failure signal of the device within the last `win`: its retries are
 * not a burst. */
static int failing(const struct bdev *v, uint64_t now, uint64_t win)
{
	return v->fail_last_us && now - v->fail_last_us < win;
}

static void bh_query(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
		     const struct dns_msg *msg, const struct qry_key *qk, struct qry *q,
		     int is_new)
{
	struct bh *b = m;
	struct bdev *v = bdev_of(b, c);
	if (v == NULL || !msg->has_q || outside_v4(p->src_ip))
		return;
	uint64_t now = p->ts_us;
	rate_add(v, now);
	uint32_t slot = entry_for(b, q->mod_ref[MREF_BEHAVIOUR], c->d->id, qk, msg->qtype,
				  msg->qname);
	q->mod_ref[MREF_BEHAVIOUR] = slot + 1;
	struct cent *ce = &b->cache.ent[slot];
	/* Packet time can step back (captures merged from several taps); an
	 * entry's clock does not, or the intervals below would wrap. */
	if (now < ce->last_q_us)
		now = ce->last_q_us;
	if (ce->aslot) {
		/* The answer will most likely give the address the last one
		 * gave: request its ring slot and the tag line now, a round
		 * trip before the response. */
		__builtin_prefetch(v->addr_tag);
		__builtin_prefetch(&v->addr[ce->aslot - 1]);
	}
	const struct bh_params *pr = &b->pr;

	/* A long silence closes what was open. */
	if (ce->last_q_us && now - ce->last_q_us > EPISODE_IDLE_US) {
		bh_episode_end(v, &b->cache, ce);
		ce->pending_us = 0;
		ce->retries = 0;
	}
	/* Still unanswered after timeout_s: the resolver failed it. */
	if (ce->pending_us && now - ce->pending_us >= pr->timeout_us)
		bh_episode_start(v, &b->cache, ce, FK_TIMEOUT, ce->pending_us, now);

	if (is_new && !ce->pending_us && !ce->fail_start_us && ce->answered_us &&
	    now >= ce->answered_us) {
		uint64_t el = now - ce->answered_us;
		if (ce->neg == 1) {
			v->neg_samples++;
			if (el < (uint64_t)ce->ttl_s * SEC) {
				v->neg_early++;
				b->c_neg++;
				text_copy(v->neg_name, sizeof(v->neg_name), msg->qname, msg->qname_len);
				v->neg_at = now;
				v->neg_answered = ce->answered_us;
				v->neg_ttl = ce->ttl_s;
				v->neg_qtype = msg->qtype;
				if (v->neg_early == pr->neg_min_repeats)
					bh_judge_now(b, e, c);
			}
		} else if (ce->neg == 0) {
			if (ce->ttl_s >= pr->min_ttl_s) {
				v->repeat++;
				if ((double)el < pr->alpha * ce->ttl_s * SEC) {
					v->early++;
					b->c_early++;
					text_copy(v->early_name, sizeof(v->early_name), msg->qname,
						  msg->qname_len);
					v->early_at = now;
					v->early_answered = ce->answered_us;
					v->early_ttl = ce->ttl_s;
					v->early_qtype = msg->qtype;
				}
				if (v->repeat == pr->min_samples)
					bh_judge_now(b, e, c);
			}
		}
	}

	/* Failure episode: count, time the intervals, look for a storm. */
	if (ce->fail_start_us) {
		struct ccold *cc = cache_cold(&b->cache, slot);
		cc->fail_queries++;
		if (ce->last_q_us && now >= ce->last_q_us + ROUND_US) {
			uint64_t iv = now - ce->last_q_us;
			uint32_t ivms = (uint32_t)(iv / MS > UINT32_MAX ? UINT32_MAX : iv / MS);
			if (cc->last_iv_ms && ivms >= GROWTH * cc->last_iv_ms) {
				cc->grew = 1;
				cc->flat = 0;
			} else if (iv < FLAT_MAX_US) {
				if (cc->flat < 255)
					cc->flat++;
			} else {
				cc->flat = 0;
			}
			cc->last_iv_ms = ivms;
			if (cc->min_iv_ms == 0 || ivms < cc->min_iv_ms)
				cc->min_iv_ms = ivms;
			if (ivms > cc->max_iv_ms)
				cc->max_iv_ms = ivms;
		}
		uint64_t dur = now - ce->fail_start_us;
		if (!cc->stormed && dur >= pr->min_duration_us) {
			int by_rate = cc->fail_queries >= pr->per_name_qps * ((double)dur / SEC);
			int by_flat = cc->flat >= FLAT_MIN;
			if (by_rate || by_flat) {
				cc->stormed = 1;
				/* The storm is against the resolver this query went to. */
				bh_storm_add(b, e, c, v, ce, cc, msg, qk, !by_rate, now);
			}
		}
	}

	/* Same name asked over and over outside failures. */
	double win_s = pr->win_s;
	uint64_t win = pr->win_us;
	if (now - ce->win_start_us > win) {
		ce->win_start_us = now;
		ce->win_count = 0;
	}
	if (ce->win_count < UINT16_MAX)
		ce->win_count++;
	/* Retries of this name while it fails are the storm detection's
	 * business, not a burst; only its own failure explains them (a
	 * failure of another name does not), and bh_episode_end() leaves them
	 * out of the window. */
	if (ce->win_count > pr->same_name_max && !ce->fail_start_us) {
		if (!v->in_burst) {
			v->in_burst = 1;
			v->bursts++;
			b->c_bursts++;
			c->d->dirty = 1;
		}
		bh_alert_burst(e, c, v, p, msg, 1, ce->win_count, ce->win_start_us);
	}
	uint32_t q60 = v->q60;
	double qpm = q60 * (60.0 / win_s);
	if (qpm > v->peak_qpm)
		v->peak_qpm = qpm;
	int over = q60 > pr->floor_in_win && v->minutes >= BASELINE_MIN_MINUTES &&
		   qpm > pr->k * v->baseline_qpm;
	if (over && !failing(v, now, win)) {
		if (!v->in_burst) {
			v->in_burst = 1;
			v->bursts++;
			b->c_bursts++;
			c->d->dirty = 1;
		}
		uint64_t first = v->bucket_n >= BUCKETS - 1 ? v->bucket_n - (BUCKETS - 1) : 0;
		bh_alert_burst(e, c, v, p, msg, 0, 0, first * BUCKET_US);
	} else if (v->in_burst && !over && ce->win_count <= pr->same_name_max &&
		   q60 <= pr->floor_in_win) {
		v->in_burst = 0;
	}

	ce->last_q_us = now;
	if (!ce->pending_us)
		ce->pending_us = now;
	else if (!ce->fail_start_us && ce->retries < UINT8_MAX)
		ce->retries++;
}

static void index_addresses(struct bdev *v, const struct dctx *c, const struct dns_msg *msg,
			    struct cent *ce, const struct qry_key *qk, uint16_t qtype,
			    uint64_t now)
{
	if (c->k->by_ip)
		return;
	for (unsigned i = 0; i < msg->nrr; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->section != DNS_SEC_AN ||
		    !((rr->type == 1 && rr->rdlen == 4) || (rr->type == 28 && rr->rdlen == 16)) ||
		    (size_t)rr->rdata_off + rr->rdlen > msg->len)
			continue;
		uint8_t ip[16];
		if (rr->type == 1)
			ip_from_v4(ip, msg->buf + rr->rdata_off);
		else
			memcpy(ip, msg->buf + rr->rdata_off, 16);
		uint8_t tag = atag(ip);
		int j = addr_find(v, ip, tag);
		struct aent *a;
		if (j < 0) {
			j = v->addr_next;
			v->addr_next = (uint8_t)((j + 1) % ADDR_RING);
			v->addr_tag[j] = tag;
			v->addr_used |= (uint16_t)(1u << j);
			a = &v->addr[j];
			memcpy(a->ip, ip, 16);
		} else {
			a = &v->addr[j];
			/* The expiry only moves forward. */
			if (now + (uint64_t)ce->ttl_s * SEC < a->answered_us + (uint64_t)a->ttl_s * SEC) {
				ce->aslot = (uint8_t)(j + 1);
				continue;
			}
		}
		ce->aslot = (uint8_t)(j + 1);
		a->answered_us = now;
		a->ttl_s = ce->ttl_s;
		a->qname_hash = qk->qname_hash;
		v->addr_qtype[j] = qtype;
	}
}

/* A NOERROR response with an answer of the asked type (or to ANY) is
 * positive: dns_negative_ttl() is -1 for it, and the common case need not
 * call it to learn so. msg->has_q holds. */
static int answers_question(const struct dns_msg *msg)
{
	for (unsigned i = 0; i < msg->nrr; i++)
		if (msg->rr[i].section == DNS_SEC_AN &&
		    (msg->rr[i].type == msg->qtype || msg->qtype == 255 /* ANY */))
			return 1;
	return 0;
}

static void bh_response(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk, struct qry *q)
{
	struct bh *b = m;
	(void)e;
	if (q == NULL || !msg->has_q)
		return;  /* unmatched: late, duplicate or forged; mod_integrity's business */
	struct bdev *v = bdev_of(b, c);
	if (v == NULL)
		return;
	uint64_t now = p->ts_us;
	uint32_t slot = entry_for(b, q->mod_ref[MREF_BEHAVIOUR], c->d->id, qk, q->qtype,
				  msg->qname);
	struct cent *ce = &b->cache.ent[slot];
	/* A failure runs from the name's first unanswered query, which may be
	 * older than the one this answers (a retry with another ID), and
	 * counts the retries since (bh_episode_start()). */
	uint64_t first = ce->pending_us && ce->pending_us < q->first_ts ? ce->pending_us
									 : q->first_ts;
	ce->pending_us = 0;
	int rc = msg->rcode;
	if (rc == 1 || rc == 2 || rc == 4 || rc == 5) {
		static const uint8_t kind[] = { 0, FK_FORMERR, FK_SERVFAIL, 0, FK_NOTIMP, FK_REFUSED };
		bh_episode_start(v, &b->cache, ce, kind[rc], first, now);
		return;
	}
	if (rc != 0 && rc != 3)
		return;
	int answered = rc == 0 && answers_question(msg);
	int64_t neg = answered ? -1 : dns_negative_ttl(msg);
	uint32_t minttl = dns_answer_min_ttl(msg);
	if (rc == 0 && neg < 0 && !answered) {
		/* Nothing a stub can cache: no records, or records of another
		 * type (a TXT to an A query, a chain that ends nowhere). */
		bh_episode_start(v, &b->cache, ce, minttl == UINT32_MAX ? FK_EMPTY : FK_UNEXPECTED,
			      first, now);
		return;
	}
	bh_episode_end(v, &b->cache, ce);
	ce->retries = 0;
	ce->answered_us = now;
	if (neg >= 0) {
		/* A CNAME chain before the NODATA/NXDOMAIN expires with its
		 * links: the smallest TTL of the whole answer holds. */
		ce->neg = 1;
		ce->ttl_s = minttl < (uint64_t)neg ? minttl : (uint32_t)neg;
	} else if (rc == 3) {
		ce->neg = 2;  /* NXDOMAIN without SOA: no negative TTL to hold it to */
		ce->ttl_s = 0;
	} else {
		ce->neg = 0;
		ce->ttl_s = minttl;
		index_addresses(v, c, msg, ce, qk, q->qtype, now);
	}
	/* The resolver answers again: an outage against it is over. */
	for (int i = 0; i < OUTAGES && b->nactive != 0; i++)
		if (b->outages[i].active && memcmp(b->outages[i].resolver, p->src_ip, 16) == 0)
			bh_outage_end(b, &b->outages[i], now);
}

static void bh_unanswered(void *m, struct engine *e, struct dctx *c, const struct qry_key *qk,
			  const struct qry *q)
{
	struct bh *b = m;
	struct bdev *v = bdev_of(b, c);
	if (v == NULL)
		return;
	struct ckey key = { c->d->id, qk->qname_hash, q->qtype, 0 };
	uint32_t r = cache_ref(&b->cache, q->mod_ref[MREF_BEHAVIOUR], key);
	if (r == 0)
		r = cache_find(&b->cache, key, cache_buckets(&b->cache, key));
	if (r == 0)
		return;
	struct cent *ce = &b->cache.ent[r - 1];
	if (ce->pending_us)
		bh_episode_start(v, &b->cache, ce, FK_TIMEOUT, ce->pending_us,
			      q->last_ts + e->cfg->queries_timeout_us);
}

/* The packet hook: everything but TCP SYNs and UDP to non-DNS ports leaves
 * at the first tests; the rest costs one lookup in the device's address
 * ring. */
static void bh_packet(void *m, struct engine *e, const struct pkt *p)
{
	if (!p->has_mac)
		return;
	if (p->l4 == IPPROTO_TCP) {
		if ((p->tcp_flags & 0x12) != 0x02)
			return;
	} else if (p->l4 == IPPROTO_UDP) {
		uint16_t dp = p->dport, sp = p->sport;
		if (dp == PORT_DNS || sp == PORT_DNS || dp == PORT_MDNS || dp == PORT_LLMNR ||
		    dp == 67 || dp == 68 || dp == 546 || dp == 547)
			return;
	} else {
		return;
	}
	bh_connection(m, e, p);
}

static void bh_rules_changed(void *m, struct engine *e)
{
	struct bh *b = m;
	if (e->rules == NULL)
		return;
	const struct det_rule *rs = rule(e, DET_RATE_RETRY_STORM);
	const struct det_rule *rq = rule(e, DET_CACHE_REQUERY_WITHIN_TTL);
	const struct det_rule *rb = rule(e, DET_RATE_BURST);
	struct bh_params *pr = &b->pr;
	pr->timeout_us = (uint64_t)(rs->p[DP_TIMEOUT_S] * SEC);
	pr->min_duration_us = (uint64_t)(rs->p[DP_MIN_DURATION_S] * SEC);
	pr->per_name_qps = rs->p[DP_PER_NAME_QPS];
	pr->min_ttl_s = rq->p[DP_MIN_TTL_S];
	pr->alpha = rq->p[DP_ALPHA];
	pr->min_samples = (uint32_t)rq->p[DP_MIN_SAMPLES];
	pr->neg_min_repeats = (uint32_t)rule(e, DET_CACHE_NEGATIVE_IGNORED)->p[DP_MIN_REPEATS];
	pr->win_s = rb->p[DP_WINDOW_S] > 60 ? 60 : rb->p[DP_WINDOW_S];
	pr->win_us = (uint64_t)(pr->win_s * SEC);
	pr->same_name_max = rb->p[DP_SAME_NAME_MAX];
	pr->floor_in_win = rb->p[DP_FLOOR_QPS] * pr->win_s;
	pr->k = rb->p[DP_K];
}

static void bh_tick(void *m, struct engine *e, uint64_t now)
{
	struct bh *b = m;
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	uint64_t win = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	for (int i = 0; i < STORMS && b->nstorms != 0; i++) {
		struct storm *s = &b->storms[i];
		if (s->state && now - s->at_us >= win)
			bh_storm_decide(b, e, s);
	}
	/* An outage with no new storm for five windows is over. */
	for (int i = 0; i < OUTAGES; i++)
		if (b->outages[i].active && now - b->outages[i].last_us > 5 * win)
			bh_outage_end(b, &b->outages[i], now);
}

/* --- output ------------------------------------------------------------------------ */

static void bh_device_json(void *m, struct engine *e, struct dctx *c, struct jw *w)
{
	(void)e;
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return;
	jw_obj(w, "cache");
	jw_uint(w, "repeat_queries", v->repeat);
	jw_uint(w, "early_requeries", v->early);
	jw_real4(w, "early_share", v->repeat ? (double)v->early / v->repeat : 0);
	jw_uint(w, "connections_checked", v->checked);
	jw_uint(w, "stale_uses", v->stale);
	jw_uint(w, "negative_repeats", v->neg_early);
	jw_uint(w, "repeats_of_negative_answers", v->neg_samples);
	jw_end(w);
	jw_obj(w, "rate");
	jw_real4(w, "baseline_qpm", v->baseline_qpm);
	jw_real4(w, "peak_qpm", v->peak_qpm);
	jw_uint(w, "bursts", v->bursts);
	jw_end(w);
	jw_obj(w, "failure");
	jw_uint(w, "episodes", v->episodes);
	jw_uint(w, "storms", v->storms);
	jw_real4(w, "max_rate_qps", v->max_rate);
	int bo = v_backoff(v);
	jw_str(w, "backoff", bo == VERDICT_FAIL ? "no" : bo == VERDICT_PASS ? "yes" : "unknown");
	jw_end(w);
}

static const char *verdict_word(int v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "unknown";
}

static int bh_scorecard(void *m, struct engine *e, struct dctx *c, int line, struct jw *w)
{
	if (line != 7 && line != 8)
		return -1;
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return VERDICT_UNKNOWN;
	if (line == 7) {
		int rq = v_requery(e, v), st = v_stale(e, v);
		jw_uint(w, "repeat_queries", v->repeat);
		jw_uint(w, "early_requeries", v->early);
		jw_str(w, "requery_within_ttl", verdict_word(rq));
		jw_uint(w, "connections_checked", v->checked);
		jw_uint(w, "stale_uses", v->stale);
		jw_str(w, "stale_use", verdict_word(st));
		return verdict_worst(rq, st);
	}
	int bo = v_backoff(v), ng = v_negative(e, v);
	jw_uint(w, "failure_episodes", v->episodes);
	jw_uint(w, "storms", v->storms);
	jw_str(w, "backoff", verdict_word(bo));
	jw_uint(w, "repeats_of_negative_answers", v->neg_samples);
	jw_uint(w, "negative_repeats", v->neg_early);
	jw_str(w, "negative_caching", verdict_word(ng));
	return verdict_worst(bo, ng);
}

static json_t *tjson(const struct tbl *t)
{
	return json_pack("{s:i,s:i,s:I}", "count", tbl_count(t), "capacity", tbl_capacity(t),
			 "evictions", (json_int_t)tbl_evictions(t));
}

static json_t *cache_json(const struct cache *k)
{
	return json_pack("{s:i,s:i,s:I}", "count", k->count, "capacity", k->cap,
			 "evictions", (json_int_t)k->evictions);
}

static void bh_stats_json(void *m, struct engine *e, json_t *stats)
{
	(void)e;
	struct bh *b = m;
	json_t *o = json_object();
	json_object_set_new(o, "answer_cache", cache_json(&b->cache));
	json_object_set_new(o, "connections_seen", tjson(b->conns));
	json_object_set_new(o, "early_requeries", json_integer((json_int_t)b->c_early));
	json_object_set_new(o, "stale_uses", json_integer((json_int_t)b->c_stale));
	json_object_set_new(o, "negative_repeats", json_integer((json_int_t)b->c_neg));
	json_object_set_new(o, "bursts", json_integer((json_int_t)b->c_bursts));
	json_object_set_new(o, "storms", json_integer((json_int_t)b->c_storms));
	json_object_set_new(o, "resolver_outages", json_integer((json_int_t)b->c_outages));
	json_object_set_new(o, "storm_alerts_suppressed", json_integer((json_int_t)b->c_suppressed));
	json_object_set_new(o, "storms_decided_early", json_integer((json_int_t)b->c_storm_ring_full));
	json_object_set_new(stats, "behaviour", o);
}

const struct eng_module mod_behaviour = {
	.name = "behaviour",
	.create = bh_create,
	.destroy = bh_destroy,
	.device_reset = bh_device_reset,
	.packet = bh_packet,
	.prefetch = bh_prefetch,
	.prefetch_response = bh_prefetch_response,
	.query = bh_query,
	.response = bh_response,
	.unanswered = bh_unanswered,
	.tick = bh_tick,
	.rules_changed = bh_rules_changed,
	.evaluate = bh_evaluate,
	.device_json = bh_device_json,
	.scorecard = bh_scorecard,
	.stats_json = bh_stats_json,
};
