/* custom.c — operator rules: the name index, matching, and the module that
 * counts matches per device and raises the rules' alerts (custom.h).
 * Names are RFC 1035 §2.3.1 host names, compared in lower case (RFC 4343). */
#include "detect/custom.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/table.h"
#include "detect/engine_int.h"
#include "dns/dns.h"

const char *cust_transport_name(unsigned t)
{
	switch (t) {
	case CUST_T_UDP: return "udp";
	case CUST_T_TCP: return "tcp";
	case CUST_T_DOT: return "dot";
	case CUST_T_DOH: return "doh";
	case CUST_T_DOQ: return "doq";
	default: return "?";
	}
}

/* --- the index ------------------------------------------------------------------------
 * The hash of a name is taken over its bytes from the last to the first, so
 * the walk over a query name from its end yields the hash of every suffix
 * on the way: at each label's first byte, the hash of the name from there
 * on. The names are the operator's, not an attacker's; a query name can
 * only land on an occupied run of the table, whose length the rules bound,
 * so it needs no key. */

#define H_SEED 0xcbf29ce484222325ull
#define H_MUL 0x100000001b3ull

static inline uint64_t h_step(uint64_t h, unsigned char ch)
{
	return (h ^ ch) * H_MUL;
}

/* The final hash of a suffix of len bytes whose running hash is h; never
 * 0, which marks an empty slot. */
static inline uint64_t h_final(uint64_t h, size_t len)
{
	uint64_t f = sw_mix64(h ^ (uint64_t)len);
	return f ? f : 1;
}

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = H_SEED;
	for (size_t i = len; i > 0; i--)
		h = h_step(h, (unsigned char)s[i - 1]);
	return h_final(h, len);
}

static struct cust_slot *slot_find(const struct cust_index *x, uint64_t h, const char *name,
				   size_t len)
{
	for (uint32_t i = (uint32_t)h & x->mask;; i = (i + 1) & x->mask) {
		struct cust_slot *sl = &x->slots[i];
		if (sl->hash == 0)
			return NULL;
		if (sl->hash == h && sl->len == len && memcmp(sl->name, name, len) == 0)
			return sl;
	}
}

/* The slot of a name, made when new. */
static struct cust_slot *slot_get(struct cust_index *x, const char *name)
{
	size_t len = strlen(name);
	uint64_t h = name_hash(name, len);
	struct cust_slot *sl = slot_find(x, h, name, len);
	if (sl != NULL)
		return sl;
	uint32_t i = (uint32_t)h & x->mask;
	while (x->slots[i].hash != 0)
		i = (i + 1) & x->mask;
	x->slots[i].hash = h;
	x->slots[i].name = name;
	x->slots[i].len = (uint32_t)len;
	return &x->slots[i];
}

/* OUIs are 24 bits; the table holds oui + 1 so that 0 marks a free slot. */
static inline uint32_t oui_of(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static inline uint32_t oui_pos(uint32_t oui, uint32_t mask)
{
	return (uint32_t)sw_mix64(oui) & mask;
}

static struct cust_oui *oui_find(const struct cust_index *x, uint32_t oui)
{
	for (uint32_t i = oui_pos(oui, x->omask);; i = (i + 1) & x->omask) {
		struct cust_oui *o = &x->ouis[i];
		if (o->key == 0)
			return NULL;
		if (o->key == oui + 1)
			return o;
	}
}

static struct cust_oui *oui_get(struct cust_index *x, uint32_t oui)
{
	uint32_t i = oui_pos(oui, x->omask);
	while (x->ouis[i].key != 0 && x->ouis[i].key != oui + 1)
		i = (i + 1) & x->omask;
	x->ouis[i].key = oui + 1;
	return &x->ouis[i];
}

static void index_free(struct cust_index *x)
{
	free(x->slots);
	free(x->ouis);
	free(x->refs);
	free(x->residual);
}

void cust_free(struct cust_set *s)
{
	if (s == NULL)
		return;
	index_free(&s->query);
	index_free(&s->answer);
	free(s);
}

/* Which index a rule goes in, and where in it. */
static int in_index(const struct cust_rule *r, int answer)
{
	return r->enabled && ((r->keys & CUST_K_RCODE) != 0) == answer;
}

static int by_name(const struct cust_rule *r)
{
	return r->nqnames + r->nsuffixes > 0;
}

static int by_oui(const struct cust_rule *r)
{
	return !by_name(r) && r->nmacs + r->nouis > 0;
}

/* Calls fn for each distinct OUI of r (its OUIs and its MACs' first three
 * bytes): a rule listing two MACs of one vendor is met once. */
static void each_oui(const struct cust_rule *r, void (*fn)(struct cust_index *, uint32_t,
							  uint32_t), struct cust_index *x,
		     uint32_t ri)
{
	for (uint32_t i = 0; i < r->nouis + r->nmacs; i++) {
		const uint8_t *b = i < r->nouis ? r->ouis[i] : r->macs[i - r->nouis];
		uint32_t o = oui_of(b);
		int seen = 0;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = oui_of(j < r->nouis ? r->ouis[j] : r->macs[j - r->nouis]) == o;
		if (!seen)
			fn(x, o, ri);
	}
}

static void oui_count(struct cust_index *x, uint32_t oui, uint32_t ri)
{
	oui_get(x, oui)->n++;
}

static void oui_fill(struct cust_index *x, uint32_t oui, uint32_t ri)
{
	struct cust_oui *o = oui_get(x, oui);
	x->refs[o->first + o->n++] = ri;
}

/* Labels of a name: its suffixes ("a.b.c": a.b.c, b.c, c). */
static size_t labels(const char *name)
{
	size_t n = 1;
	for (const char *p = name; *p; p++)
		n += *p == '.';
	return n;
}

/* Every proper suffix of a name gets a slot (with no rules when no rule
 * names it), so the walk from the right can stop at the first suffix that
 * has none: no longer name can be in the index then, and the long labels
 * on the left of most names are never hashed. */
static void add_parents(struct cust_index *x, const char *name)
{
	for (const char *p = strchr(name, '.'); p != NULL; p = strchr(p + 1, '.'))
		slot_get(x, p + 1);
}

static uint32_t table_size(size_t n)
{
	uint32_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

/* One pass over one phase's rules: the first (fill = 0) counts each
 * name's exact and suffix rules, each OUI's, and lists the residual ones;
 * the second, with the ranges laid out, writes the rule indexes. */
static void place(struct cust_index *x, const struct cust_rule *rules, uint32_t n, int answer,
		  int fill)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct cust_rule *r = &rules[i];
		if (!in_index(r, answer))
			continue;
		if (by_name(r)) {
			for (uint32_t j = 0; j < r->nqnames + r->nsuffixes; j++) {
				int exact = j < r->nqnames;
				const char *name = exact ? r->qnames[j] : r->suffixes[j - r->nqnames];
				struct cust_slot *sl = slot_get(x, name);
				uint32_t *cnt = exact ? &sl->nexact : &sl->nsub;
				if (fill)
					x->refs[(exact ? sl->exact : sl->sub) + *cnt] = i;
				else
					add_parents(x, name);
				(*cnt)++;
			}
		} else if (by_oui(r)) {
			each_oui(r, fill ? oui_fill : oui_count, x, i);
		} else if (!fill) {
			x->residual[x->nresidual++] = i;
		}
	}
}

/* Two passes over one phase's rules (place): the first counts each name's exact
 * and suffix rules and each OUI's, the second, with the ranges laid out in
 * refs, fills them. */
static int index_build(struct cust_index *x, const struct cust_rule *rules, uint32_t n,
		       int answer)
{
	size_t nnames = 0, nouis = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct cust_rule *r = &rules[i];
		if (!in_index(r, answer))
			continue;
		x->nrules++;
		if (by_name(r))
			for (uint32_t j = 0; j < r->nqnames + r->nsuffixes; j++)
				nnames += labels(j < r->nqnames ? r->qnames[j] :
						 r->suffixes[j - r->nqnames]);
		else if (by_oui(r))
			nouis += r->nouis + r->nmacs;
		else
			x->nresidual++;
	}
	uint32_t cap = table_size(nnames), ocap = table_size(nouis);
	x->mask = cap - 1;
	x->omask = ocap - 1;
	x->nnames = (uint32_t)nnames;
	x->slots = calloc(cap, sizeof(*x->slots));
	x->ouis = calloc(ocap, sizeof(*x->ouis));
	x->refs = calloc(nnames + nouis + 1, sizeof(*x->refs));
	x->residual = calloc(x->nresidual + 1, sizeof(*x->residual));
	if (x->slots == NULL || x->ouis == NULL || x->refs == NULL || x->residual == NULL)
		return -1;
	x->nresidual = 0;
	place(x, rules, n, answer, 0);
	uint32_t at = 0;
	for (uint32_t i = 0; i < cap; i++) {
		struct cust_slot *sl = &x->slots[i];
		if (sl->hash == 0)
			continue;
		sl->exact = at;
		at += sl->nexact;
		sl->sub = at;
		at += sl->nsub;
		sl->nexact = sl->nsub = 0;
	}
	for (uint32_t i = 0; i < ocap; i++) {
		struct cust_oui *o = &x->ouis[i];
		if (o->key == 0)
			continue;
		o->first = at;
		at += o->n;
		o->n = 0;
	}
	place(x, rules, n, answer, 1);
	return 0;
}

struct cust_set *cust_build(const struct cust_rule *rules, uint32_t n)
{
	struct cust_set *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->rules = rules;
	s->n = n;
	if (index_build(&s->query, rules, n, 0) != 0 || index_build(&s->answer, rules, n, 1) != 0) {
		cust_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		if (in_index(&rules[i], 1))
			s->rcodes |= 1u << (rules[i].rcode < 31 ? rules[i].rcode : 31);
	s->nenabled = s->query.nrules + s->answer.nrules;
	s->nresidual = s->query.nresidual + s->answer.nresidual;
	return s;
}

/* --- matching ---------------------------------------------------------------------------- */

/* 1 when name (len bytes) is zone or below it. */
static int name_under(const char *name, size_t len, const char *zone)
{
	size_t zl = strlen(zone);
	if (zl > len || memcmp(name + len - zl, zone, zl) != 0)
		return 0;
	return zl == len || name[len - zl - 1] == '.';
}

void cust_prefix_set(struct cust_prefix *p, unsigned bits)
{
	uint8_t m[16] = { 0 };
	for (unsigned i = 0; i < bits && i < 128; i++)
		m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	p->bits = (uint8_t)bits;
	memcpy(p->mask, m, 16);
	memcpy(p->net, p->ip, 16);
	p->net[0] &= p->mask[0];
	p->net[1] &= p->mask[1];
}

static inline int prefix_holds(const struct cust_prefix *p, const uint8_t ip[16])
{
	uint64_t w[2];
	memcpy(w, ip, 16);
	return (w[0] & p->mask[0]) == p->net[0] && (w[1] & p->mask[1]) == p->net[1];
}

/* Every key of r holds for t; the name keys only when check_name (the
 * index has placed the name already otherwise). */
static inline int holds(const struct cust_rule *r, const struct cust_txn *t, int check_name)
{
	uint32_t k = r->keys;
	if (!(r->transports & t->transport))
		return 0;
	/* An rcode rule waits for the answer; the others judge the query. */
	if (((k & CUST_K_RCODE) != 0) != (t->rcode >= 0))
		return 0;
	if ((k & CUST_K_QUESTION) && t->qname == NULL)
		return 0;
	if ((k & CUST_K_QTYPE) && t->qtype != r->qtype)
		return 0;
	if ((k & CUST_K_RCODE) && (uint32_t)t->rcode != r->rcode)
		return 0;
	if ((k & CUST_K_VLAN) && t->dev->vlan != r->vlan)
		return 0;
	if (k & (CUST_K_MAC | CUST_K_OUI)) {
		if (t->dev->by_ip)
			return 0;
		int hit = 0;
		for (uint32_t i = 0; i < r->nmacs && !hit; i++)
			hit = memcmp(r->macs[i], t->dev->mac, 6) == 0;
		for (uint32_t i = 0; i < r->nouis && !hit; i++)
			hit = memcmp(r->ouis[i], t->dev->mac, 3) == 0;
		/* mac and oui together: the device is any of them. */
		if (!hit)
			return 0;
	}
	if (k & CUST_K_RESOLVER) {
		int hit = 0;
		for (uint32_t i = 0; i < r->nresolvers && !hit; i++)
			hit = prefix_holds(&r->resolvers[i], t->resolver);
		if (!hit)
			return 0;
	}
	if (check_name && (k & (CUST_K_QNAME | CUST_K_SUFFIX))) {
		int hit = 0;
		for (uint32_t i = 0; i < r->nqnames && !hit; i++)
			hit = strlen(r->qnames[i]) == t->qlen &&
			      memcmp(r->qnames[i], t->qname, t->qlen) == 0;
		for (uint32_t i = 0; i < r->nsuffixes && !hit; i++)
			hit = name_under(t->qname, t->qlen, r->suffixes[i]);
		if (!hit)
			return 0;
	}
	for (uint32_t i = 0; i < r->nnot_suffixes; i++)
		if (name_under(t->qname, t->qlen, r->not_suffixes[i]))
			return 0;
	return 1;
}

int cust_rule_holds(const struct cust_rule *r, const struct cust_txn *t)
{
	return holds(r, t, 1);
}

unsigned cust_match(const struct cust_set *s, const struct cust_txn *t, cust_hit_fn fn,
		    void *arg)
{
	unsigned hits = 0;
	if (s == NULL)
		return 0;
	const struct cust_index *x = t->rcode >= 0 ? &s->answer : &s->query;
	if (x->nrules == 0)
		return 0;
	/* Most answers are NOERROR, and most rcode rules are about others. */
	if (t->rcode >= 0 && !(s->rcodes & (1u << (t->rcode < 31 ? t->rcode : 31))))
		return 0;
	size_t len = t->qname != NULL ? t->qlen : 0;
	if (len == 1 && t->qname[0] == '.')
		len = 0; /* the root: below no rule's name */
	if (len > 0 && x->nnames > 0) {
		/* No rule has two names of which one is at or below the
		 * other (the loader drops those), so no rule is met twice on
		 * the way. */
		uint64_t h = H_SEED;
		for (size_t i = len; i > 0; i--) {
			h = h_step(h, (unsigned char)t->qname[i - 1]);
			if (i > 1 && t->qname[i - 2] != '.')
				continue;
			size_t sl = len - (i - 1);
			const struct cust_slot *slot = slot_find(x, h_final(h, sl),
								 t->qname + i - 1, sl);
			if (slot == NULL)
				break;
			const uint32_t *ref = x->refs + (i == 1 ? slot->exact : slot->sub);
			uint32_t nref = i == 1 ? slot->nexact + slot->nsub : slot->nsub;
			for (uint32_t j = 0; j < nref; j++) {
				uint32_t ri = ref[j];
				if (holds(&s->rules[ri], t, 0)) {
					hits++;
					fn(arg, ri, slot->name);
				}
			}
		}
	}
	if (!t->dev->by_ip) {
		const struct cust_oui *o = oui_find(x, oui_of(t->dev->mac));
		for (uint32_t j = 0; o != NULL && j < o->n; j++) {
			uint32_t ri = x->refs[o->first + j];
			if (holds(&s->rules[ri], t, 1)) {
				hits++;
				fn(arg, ri, NULL);
			}
		}
	}
	for (uint32_t j = 0; j < x->nresidual; j++) {
		uint32_t ri = x->residual[j];
		if (holds(&s->rules[ri], t, 1)) {
			hits++;
			fn(arg, ri, NULL);
		}
	}
	return hits;
}

/* --- the module: thresholds, rate limits, alerts ---------------------------------------- */

/* A fixed window from the first match after the last one closed (or
 * fired); a clock that steps back opens a new one, as does a rate limit's
 * interval. */
int cust_count(struct cust_counter *v, const struct cust_rule *r, uint32_t now,
	       uint32_t *matches)
{
	*matches = 1;
	if (r->count > 1) {
		if (v->n == 0 || now < v->win_start_s || now - v->win_start_s >= r->seconds) {
			v->win_start_s = now;
			v->n = 0;
		}
		if (++v->n < r->count)
			return CUST_BELOW;
		*matches = v->n;
		v->n = 0;
	}
	if (v->fired && now >= v->last_fired_s && now - v->last_fired_s < r->det.rate_limit_s)
		return CUST_LIMITED;
	v->fired = 1;
	v->last_fired_s = now;
	return CUST_FIRE;
}

/* Per device and rule that has matched (with a threshold or a rate
 * limit): 16 bytes of counter and 8 of key, some 40 with the table's
 * links; at the default devices.max (16,384) that is 640 KiB reserved,
 * touched only as entries are used. */
struct cm_key {
	uint32_t dev_id;              /* struct device id: never reused */
	uint32_t rule;                /* index in the set */
};

struct cust_mod {
	struct tbl *t;
	const struct cust_set *set;   /* the one t's entries belong to */
	uint32_t cap;
	uint8_t sipkey[16];
	uint64_t matches, alerts, below_threshold, rate_limited;
};

struct hit_ctx {
	struct cust_mod *m;
	struct engine *e;
	struct dctx *c;
	const struct pkt *p;
	const struct dns_msg *msg;
	const struct cust_txn *t;
	int response;                 /* p is the answer: the device is its destination */
};

static void cm_destroy(void *arg)
{
	struct cust_mod *m = arg;
	if (m == NULL)
		return;
	tbl_free(m->t);
	free(m);
}

static void *cm_create(struct engine *e, char *err, size_t errlen)
{
	struct cust_mod *m = calloc(1, sizeof(*m));
	if (m != NULL) {
		m->cap = e->cfg->devices_max;
		memcpy(m->sipkey, e->sipkey, 16);
		m->t = tbl_new("custom", m->cap, sizeof(struct cm_key), sizeof(struct cust_counter),
			       m->sipkey);
	}
	if (m == NULL || m->t == NULL) {
		snprintf(err, errlen, "cannot allocate the custom rules' table (%u entries): "
			 "out of memory", e->cfg->devices_max);
		cm_destroy(m);
		return NULL;
	}
	return m;
}

/* New rules, new indexes: counts start afresh (at start-up the table is
 * empty anyway). Runs between packets, so the allocation is not on the
 * packet path; when it fails the old table stays, emptied. */
static void cm_rules_changed(void *arg, struct engine *e)
{
	struct cust_mod *m = arg;
	const struct cust_set *s = e->rules != NULL ? e->rules->custom : NULL;
	if (s == m->set)
		return;
	m->set = s;
	if (tbl_count(m->t) == 0)
		return;
	struct tbl *t = tbl_new("custom", m->cap, sizeof(struct cm_key), sizeof(struct cust_counter),
				m->sipkey);
	if (t != NULL) {
		tbl_free(m->t);
		m->t = t;
		return;
	}
	for (void *v = tbl_next(m->t, NULL), *next; v != NULL; v = next) {
		next = tbl_next(m->t, v);
		tbl_remove(m->t, v);
	}
}

static void alert(struct hit_ctx *h, const struct cust_rule *r, const char *via,
		  uint32_t matches)
{
	struct engine *e = h->e;
	const struct cust_txn *t = h->t;
	struct alert_ctx a;
	if (h->response) {
		post_alert_ctx(e, h->c, &a);
		a.src_ip = h->p->dst_ip;
		a.dst_ip = h->p->src_ip;
		a.dst_port = h->p->sport;
		a.qname = h->msg->qname;
		a.qtype = h->msg->qtype;
		a.dns_id = h->msg->id;
	} else {
		post_alert_ctx_sent(e, h->c, h->p, h->msg, &a);
	}
	a.dst_operator = rules_public_operator(e->rules, t->resolver);
	a.reason = "custom_rule";
	struct jw w;
	alert_begin(&w, &r->det, &a, r->message);
	jw_str(&w, "transport", cust_transport_name(t->transport));
	if (via != NULL)
		jw_str(&w, "matched_name", via);
	if (t->rcode >= 0) {
		/* Always text, so an index maps one type: the name, or the
		 * number of an rcode that has none. */
		const char *rc = dns_rcode_name((uint16_t)t->rcode);
		char num[12];
		if (rc == NULL) {
			snprintf(num, sizeof(num), "%d", (int)t->rcode);
			rc = num;
		}
		jw_str(&w, "rcode", rc);
	}
	if (r->count > 0) {
		jw_obj(&w, "threshold");
		jw_uint(&w, "count", r->count);
		jw_uint(&w, "seconds", r->seconds);
		jw_end(&w);
		jw_uint(&w, "matches", matches);
	}
	alert_emit(e->out, &w, &a);
	h->m->alerts++;
}

static void on_hit(void *arg, uint32_t ri, const char *via)
{
	struct hit_ctx *h = arg;
	struct cust_mod *m = h->m;
	const struct cust_rule *r = &m->set->rules[ri];
	m->matches++;
	if (r->count <= 1 && r->det.rate_limit_s == 0) {
		alert(h, r, via, 1);
		return;
	}
	struct cm_key k = { h->c->d->id, ri };
	int created;
	struct cust_counter *v = tbl_get(m->t, &k, &created);
	uint32_t matches;
	switch (cust_count(v, r, (uint32_t)(h->e->now / SEC), &matches)) {
	case CUST_BELOW:
		m->below_threshold++;
		break;
	case CUST_LIMITED:
		m->rate_limited++;
		break;
	default:
		alert(h, r, via, matches);
		break;
	}
}

static void cm_query(void *arg, struct engine *e, const struct pkt *p, struct dctx *c,
		     const struct dns_msg *msg, const struct qry_key *qk, struct qry *q,
		     int is_new)
{
	struct cust_mod *m = arg;
	if (m->set == NULL || m->set->nenabled == 0 || !is_new || !msg->has_q)
		return;
	struct cust_txn t = {
		.qname = msg->qname,
		.qlen = msg->qname_len,
		.qtype = msg->qtype,
		.rcode = -1,
		.resolver = qk->server,
		.transport = q->transport == TRANS_TCP ? CUST_T_TCP : CUST_T_UDP,
		.dev = c->k,
	};
	struct hit_ctx h = { m, e, c, p, msg, &t, 0 };
	cust_match(m->set, &t, on_hit, &h);
}

static void cm_response(void *arg, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk, struct qry *q)
{
	struct cust_mod *m = arg;
	/* Only the answer of a query seen: a transaction, not stray packets. */
	if (m->set == NULL || m->set->nenabled == 0 || q == NULL || !msg->has_q)
		return;
	struct cust_txn t = {
		.qname = msg->qname,
		.qlen = msg->qname_len,
		.qtype = msg->qtype,
		.rcode = msg->rcode,
		.resolver = qk->server,
		.transport = q->transport == TRANS_TCP ? CUST_T_TCP : CUST_T_UDP,
		.dev = c->k,
	};
	struct hit_ctx h = { m, e, c, p, msg, &t, 1 };
	cust_match(m->set, &t, on_hit, &h);
}

void cust_encrypted_flow(struct engine *e, struct dctx *c, const struct pkt *cp,
			 unsigned transport)
{
	struct cust_mod *m = NULL;
	for (unsigned i = 0; i < e->nmod; i++)
		if (e->mods[i] == &mod_custom)
			m = e->mod[i];
	if (m == NULL || m->set == NULL || m->set->nenabled == 0)
		return;
	struct cust_txn t = {
		.rcode = -1,
		.resolver = cp->dst_ip,
		.transport = (uint8_t)transport,
		.dev = c->k,
	};
	struct hit_ctx h = { m, e, c, cp, NULL, &t, 0 };
	cust_match(m->set, &t, on_hit, &h);
}

static void cm_stats_json(void *arg, struct engine *e, json_t *stats)
{
	struct cust_mod *m = arg;
	(void)e;
	json_object_set_new(stats, "custom", json_pack("{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}",
		"rules", (json_int_t)(m->set != NULL ? m->set->nenabled : 0),
		"matches", (json_int_t)m->matches,
		"alerts", (json_int_t)m->alerts,
		"below_threshold", (json_int_t)m->below_threshold,
		"rate_limited", (json_int_t)m->rate_limited,
		"table", "count", (json_int_t)tbl_count(m->t),
		"capacity", (json_int_t)tbl_capacity(m->t),
		"evictions", (json_int_t)tbl_evictions(m->t)));
}

const struct eng_module mod_custom = {
	.name = "custom",
	.always = 1,
	.create = cm_create,
	.destroy = cm_destroy,
	.query = cm_query,
	.response = cm_response,
	.rules_changed = cm_rules_changed,
	.stats_json = cm_stats_json,
};
