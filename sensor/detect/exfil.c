/* exfil.c — names and new domains (the integrity module's
 * exfil.suspect-names and policy.new-domain): query names with long or
 * high-entropy labels, or many unique subdomains of one zone (DNS
 * tunnelling, a DGA, C2; RFC 1035 §2.3.4 for the labels), and registered
 * domains a device never resolved before, after its learning period.
 *
 * Names are judged once (qname.h, the module's cache of judged names); a
 * zone's unique subdomains are estimated by linear counting over
 * ZONE_BITS bits in the device's record, and its domains kept in a small
 * open-addressed set there (integrity_int.h).
 */
#include "detect/integrity_int.h"

#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "output/jw.h"

/* Linear counting (Whang et al. 1990): n ≈ -m ln(zero bits / m), from the
 * number of bits set; a table built at create, as a device that switches
 * zones sets bits on many of its queries. */
void integ_exfil_init(struct integ *m)
{
	for (unsigned set = 0; set < ZONE_BITS; set++)
		m->zone_est[set] = (unsigned)(-(double)ZONE_BITS *
					   log((double)(ZONE_BITS - set) / ZONE_BITS) + 0.5);
	m->zone_est[ZONE_BITS] = 10 * ZONE_BITS;   /* saturated: well past the threshold */
}

static unsigned zone_estimate(const struct integ *m, unsigned set)
{
	return m->zone_est[set < ZONE_BITS ? set : ZONE_BITS];
}

/* --- exfil.suspect-names ------------------------------------------------------ */

/* The registered domain of the query, its text cut to ZONE_TEXT. */
static void zone_text(char dst[ZONE_TEXT], const struct dns_msg *msg, size_t reg)
{
	size_t zl = msg->qname_len - reg;
	if (zl > ZONE_TEXT - 1)
		zl = ZONE_TEXT - 1;
	memcpy(dst, msg->qname + reg, zl);
	dst[zl] = '\0';
}

COLD static void exfil_alert(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, int zone_alert,
			unsigned zone_est, size_t reg)
{
	/* A zone past ZONE_SMALL bits has its name; one below is the zone of
	 * this query (a device only stays in a zone of 4 or more bits while
	 * asking others). */
	char zbuf[ZONE_TEXT];
	const char *zone = id->zone;
	if (id->zone_set <= ZONE_SMALL) {
		zone_text(zbuf, msg, reg);
		zone = zbuf;
	}
	const struct det_rule *rl = rule(e, DET_EXFIL_SUSPECT_NAMES);
	if (!alert_should_fire(&c->dd->alerts, DET_EXFIL_SUSPECT_NAMES, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	a.reason = zone_alert ? "unique_subdomains" : "suspect_labels";
	char text[320];
	if (zone_alert)
		snprintf(text, sizeof(text), "The device asked about %u different names under %s "
			 "within %.0f minutes: DNS tunnelling, a DGA or C2 traffic.", zone_est,
			 zone, rl->p[DP_WINDOW_S] / 60);
	else
		snprintf(text, sizeof(text), "The device asked %u names with long or high-entropy "
			 "labels within %.0f minutes (such as %.60s): DNS tunnelling, a DGA or C2 "
			 "traffic.", id->ex.n, rl->p[DP_WINDOW_S] / 60, id->ex_sample);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "suspect_names", id->ex.n);
	jw_uint(&w, "long_label_names", id->ex_long);
	jw_uint(&w, "high_entropy_names", id->ex_entropy);
	jw_uint(&w, "longest_label", id->ex_max_label);
	jw_real4(&w, "max_entropy", id->ex_max_entropy_c / 100.0);
	if (id->ex_sample[0])
		jw_str(&w, "sample", id->ex_sample);
	jw_str(&w, "zone", zone);
	jw_uint(&w, "zone_unique_names", zone_est);
	if (id->ex.n)
		jw_time_text(&w, "first_time", id->ex.first_ts);
	jw_uint(&w, "max_label_len", (uint64_t)rl->p[DP_MAX_LABEL_LEN]);
	jw_real4(&w, "entropy_bits", rl->p[DP_ENTROPY_BITS]);
	jw_uint(&w, "min_names", (uint64_t)rl->p[DP_MIN_NAMES]);
	jw_uint(&w, "zone_unique_min", (uint64_t)rl->p[DP_MIN_SUBDOMAINS]);
	alert_emit(e->out, &w, &a);
}


/* Clears the zone's bits: four 8-byte stores rather than a memset call. */
static inline void zone_clear(struct integ_dev *id)
{
	static const uint64_t zero[ZONE_BITS / 64];
	memcpy(id->zone_bits, zero, sizeof(id->zone_bits));
}

/* Sets bit b of the zone (or tells it was set: returns 0 then). */
static int zone_bit_set(struct integ_dev *id, unsigned b, const struct dns_msg *msg, size_t reg)
{
	unsigned set = id->zone_set;
	if (set <= ZONE_SMALL) {
		for (unsigned i = 0; i < set; i++)
			if (id->zone_small[i] == b)
				return 0;
		if (set < ZONE_SMALL) {
			id->zone_small[set] = (uint8_t)b;
			return 1;
		}
		/* One more than the first line holds: into the bitmap, and the
		 * zone's name with it, as it may now be followed past queries
		 * of other zones. */
		zone_clear(id);
		for (unsigned i = 0; i < ZONE_SMALL; i++)
			id->zone_bits[id->zone_small[i] / 8] |= (uint8_t)(1u << (id->zone_small[i] % 8));
		zone_text(id->zone, msg, reg);
	} else if (id->zone_bits[b / 8] & (1u << (b % 8))) {
		return 0;
	}
	id->zone_bits[b / 8] |= (uint8_t)(1u << (b % 8));
	return 1;
}

/* A name with a long or high-entropy label: counted once per distinct
 * name (of the last EXFIL_SEEN) in the window; returns 1 when it makes
 * the rule's count. Rare, so out of the query hook's way. */
COLD static int exfil_suspect(const struct det_rule *rl, struct integ_dev *id, const struct pkt *p,
			      const struct dns_msg *msg, uint64_t win, int is_long, int is_ent,
			      size_t longest, double ent)
{
	const char *n = msg->qname;
	uint32_t fh = (uint32_t)h64(n, msg->qname_len, 13) | 1u;
	int seen = 0;
	for (unsigned i = 0; i < EXFIL_SEEN; i++)
		seen |= id->ex_seen[i] == fh;
	if (seen)
		return 0;
	id->ex_seen[id->ex_seen_next] = fh;
	id->ex_seen_next = (uint8_t)((id->ex_seen_next + 1) % EXFIL_SEEN);
	struct win *w = win_at(&id->ex, p->ts_us, win);
	if (w->n == 0) {
		id->ex_long = id->ex_entropy = 0;
		id->ex_max_label = 0;
		id->ex_max_entropy_c = 0;
	}
	w->n++;
	id->ex_long += is_long;
	id->ex_entropy += is_ent;
	if (longest > id->ex_max_label)
		id->ex_max_label = (uint8_t)longest;
	if (ent * 100 > id->ex_max_entropy_c)
		id->ex_max_entropy_c = (uint16_t)(ent * 100);
	text_copy(id->ex_sample, sizeof(id->ex_sample), n, strlen(n));
	id->suspect_names++;
	return w->n == (uint32_t)rl->p[DP_MIN_NAMES];
}

static void exfil_check(struct integ *m, struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, const struct integ_name *ni)
{
	const struct det_rule *rl = rule(e, DET_EXFIL_SUSPECT_NAMES);
	if (!rl->enabled)
		return;
	uint64_t win = rule_window_us(rl, 600);
	size_t reg = ni->reg;
	uint32_t zh = ni->dom_hash;
	size_t below = reg > 0 ? reg - 1 : 0;   /* the labels left of it, no dot */
	/* Unique subdomains of one zone: the zone followed is replaced by
	 * another only while it has few names, or after its window. */
	if (id->zone_hash != zh) {
		int stale = p->ts_us - id->zone_start > win;
		_Static_assert(ZONE_SMALL < 4, "a zone followed past others has its bitmap");
		if (id->zone_hash == 0 || stale || id->zone_set < 4) {
			/* A device that asks several zones in turn switches here
			 * on most queries: the first line only. */
			id->zone_hash = zh;
			id->zone_start = p->ts_us;
			id->zone_set = 0;
			id->zone_last = 0;
		}
	} else if (p->ts_us - id->zone_start > win) {
		id->zone_start = p->ts_us;
		id->zone_set = 0;
		id->zone_last = 0;
	}
	int zone_alert = 0;
	unsigned est = 0;
	/* The name asked last has its bit set: no need to read the bits (a
	 * second cache line) for a name asked again. */
	uint32_t nh = ni->below_hash;
	if (id->zone_hash == zh && below > 0 && (nh != id->zone_last || nh == 0)) {
		if (zone_bit_set(id, nh % ZONE_BITS, msg, reg)) {
			unsigned before = zone_estimate(m, id->zone_set);
			id->zone_set++;
			est = zone_estimate(m, id->zone_set);
			unsigned min = (unsigned)rl->p[DP_MIN_SUBDOMAINS];
			zone_alert = before < min && est >= min;
		}
		id->zone_last = nh;
	}
	/* Long or high-entropy labels: below the registered domain, or its
	 * own first label (integ_name_judge()). */
	size_t longest = ni->longest;
	double ent = ni->entropy;
	int is_long = longest > (size_t)rl->p[DP_MAX_LABEL_LEN];
	int is_ent = ent > rl->p[DP_ENTROPY_BITS];
	int name_alert = 0;
	if (is_long || is_ent)
		name_alert = exfil_suspect(rl, id, p, msg, win, is_long, is_ent, longest, ent);
	if (zone_alert || name_alert)
		exfil_alert(e, c, id, p, msg, zone_alert && !name_alert,
			    zone_alert ? est : zone_estimate(m, id->zone_set), reg);
}

/* --- policy.new-domain ------------------------------------------------------- */

/* domain_set() for h (odd) over the whole array. */
static int domain_hashed(struct integ *m, struct integ_dev *id, uint32_t h, int add)
{
	uint32_t i = h % DOMAINS_MAX;
	for (unsigned n = 0; n < DOMAINS_MAX; n++, i = (i + 1) % DOMAINS_MAX) {
		if (id->domains[i] == h)
			return 1;
		if (id->domains[i] == 0) {
			/* Kept one slot short of full so probes always end. */
			if (!add)
				return 0;
			if (id->ndomains + 1u >= DOMAINS_MAX) {
				if (!id->domains_full)
					m->domain_sets_full++;
				id->domains_full = 1;
				return 0;
			}
			id->domains[i] = h;
			id->ndomains++;
			return 0;
		}
	}
	return 0;
}

/* Finds (or with add, inserts) a registered-domain hash in the device's set;
 * returns 1 when it was there. While it holds fewer than DOMAINS_LINE the
 * set is open-addressed within the array's first line, past that over the
 * whole array: the same hashes, full at the same count. */
static int domain_set(struct integ *m, struct integ_dev *id, uint32_t h, int add)
{
	h |= 1u;  /* 0 marks an empty slot */
	unsigned n = id->ndomains;
	if (n >= DOMAINS_LINE)
		return domain_hashed(m, id, h, add);
	uint32_t i = h % DOMAINS_LINE;
	for (; id->domains[i] != 0; i = (i + 1) % DOMAINS_LINE)
		if (id->domains[i] == h)
			return 1;
	if (!add)
		return 0;
	_Static_assert(DOMAINS_LINE < DOMAINS_MAX - 1, "the first line's set is never full");
	if (n + 1 < DOMAINS_LINE) {
		id->domains[i] = h;     /* one slot stays empty: probes end */
		id->ndomains++;
		return 0;
	}
	/* The line is full: spread its set over the array. */
	uint32_t line[DOMAINS_LINE];
	static const uint32_t empty[DOMAINS_LINE];
	memcpy(line, id->domains, sizeof(line));
	memcpy(id->domains, empty, sizeof(empty));
	id->ndomains = 0;
	for (i = 0; i < DOMAINS_LINE; i++)
		if (line[i] != 0)
			(void)domain_hashed(m, id, line[i], 1);
	return domain_hashed(m, id, h, add);
}

static void new_domain(struct integ *m, struct engine *e, struct dctx *c, struct integ_dev *id,
		       const struct pkt *p, const struct dns_msg *msg, long reg, uint32_t h)
{
	const struct det_rule *rl = rule(e, DET_POLICY_NEW_DOMAIN);
	if (!rl->enabled)
		return;
	const char *dom = msg->qname + reg;
	size_t dlen = msg->qname_len - (size_t)reg;
	/* The same domain as the query before (A then AAAA, a name asked
	 * again): known, and no need to probe the set. */
	if (h == id->last_domain && id->last_domain != 0)
		return;
	uint32_t left = id->last_domain;
	id->last_domain = h;
	/* A device alternates between a few domains, and the one asked before
	 * the last is in the set already: the set (more cache lines) stays
	 * unread then. While the set has never been full, every domain once
	 * asked last went into it. */
	if (!id->domains_full && h == id->known_domain && h != 0) {
		id->known_domain = left;
		return;
	}
	int known = domain_set(m, id, h, 1);
	if (!id->domains_full)
		id->known_domain = left;
	uint64_t learn = (uint64_t)(rl->p[DP_LEARNING_S] * (double)SEC);
	int learning = p->ts_us < c->d->first_seen + learn;
	if (known || learning || id->ndomains <= 1)
		return;
	/* A full set cannot tell new from forgotten: no verdict then. */
	if (id->domains_full)
		return;
	id->new_domains++;
	if (!alert_should_fire(&c->dd->alerts, DET_POLICY_NEW_DOMAIN, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	char text[320];
	snprintf(text, sizeof(text), "After %.0f days of learning, the device resolved %.*s, a "
		 "domain it had never resolved before.", rl->p[DP_LEARNING_S] / 86400.0,
		 (int)(dlen > 200 ? 200 : dlen), dom);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_strn(&w, "domain", dom, dlen);
	jw_uint(&w, "domains_known", id->ndomains - 1u);
	jw_time_text(&w, "device_first_seen", c->d->first_seen);
	jw_time_text(&w, "learning_ended", c->d->first_seen + learn);
	jw_uint(&w, "learning_s", (uint64_t)rl->p[DP_LEARNING_S]);
	alert_emit(e->out, &w, &a);
}


/* --- the query hook --------------------------------------------------------- */

void integ_query(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
		 const struct dns_msg *msg, const struct qry_key *qk, struct qry *q, int is_new)
{
	struct integ *m = mv;
	struct integ_dev *id = dev_of(m, c);
	(void)q;
	if (id == NULL)
		return;
	if (p->l4 == IPPROTO_UDP)
		integ_resp_query(m, e, p, qk, id);
	if (!is_new || !msg->has_q || msg->qname_len == 0)
		return;
	int miss;
	const struct integ_name *ni = integ_name_lookup(&m->nlogn, m->names, NAME_SLOTS,
							m->name_seed, qk->qname_hash, msg->qname,
							msg->qname_len, &miss);
	m->name_lookups++;
	m->name_misses += (unsigned)miss;
	if (ni->skip)
		return;
	exfil_check(m, e, c, id, p, msg, ni);
	new_domain(m, e, c, id, p, msg, ni->reg, ni->dom_hash);
}

