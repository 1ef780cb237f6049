/* state.c — the tables of one engine: devices, queries, flows, bindings,
 * segments; per-device bookkeeping and the TCP reassembly buffer pool. */
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "decode/decode.h"

#define SEC 1000000ull

int tcp_pool_init(struct tcp_pool *p, uint32_t count, uint32_t size)
{
	memset(p, 0, sizeof(*p));
	if (count == 0)
		return 0;
	/* calloc: pages are touched only when a buffer is first used. */
	p->mem = calloc(count, size);
	p->free_list = malloc(sizeof(int32_t) * count);
	if (p->mem == NULL || p->free_list == NULL) {
		tcp_pool_fini(p);
		return SW_ENOMEM;
	}
	p->size = size;
	p->count = count;
	/* Hand out low indexes first so untouched pages stay untouched. */
	for (uint32_t i = 0; i < count; i++)
		p->free_list[i] = (int32_t)(count - 1 - i);
	p->nfree = count;
	return 0;
}

void tcp_pool_fini(struct tcp_pool *p)
{
	free(p->mem);
	free(p->free_list);
	memset(p, 0, sizeof(*p));
}

int32_t tcp_pool_take(struct tcp_pool *p)
{
	if (p->nfree == 0) {
		p->exhausted++;
		return -1;
	}
	return p->free_list[--p->nfree];
}

void tcp_pool_give(struct tcp_pool *p, int32_t i)
{
	if (i >= 0 && p->nfree < p->count)
		p->free_list[p->nfree++] = i;
}

uint8_t *tcp_pool_buf(struct tcp_pool *p, int32_t i)
{
	return p->mem + (size_t)i * p->size;
}

int dev_add_ip(struct device *d, const uint8_t ip[16])
{
	if (ip_is_v4(ip)) {
		for (unsigned i = 0; i < d->nv4; i++)
			if (memcmp(d->v4[i], ip + 12, 4) == 0)
				return 0;
		/* Full: the oldest address goes, the newest is what a SOC wants. */
		if (d->nv4 == DEV_MAX_V4) {
			memmove(d->v4[0], d->v4[1], sizeof(d->v4[0]) * (DEV_MAX_V4 - 1));
			d->nv4--;
		}
		memcpy(d->v4[d->nv4++], ip + 12, 4);
		return 1;
	}
	for (unsigned i = 0; i < d->nv6; i++)
		if (memcmp(d->v6[i], ip, 16) == 0)
			return 0;
	if (d->nv6 == DEV_MAX_V6) {
		memmove(d->v6[0], d->v6[1], sizeof(d->v6[0]) * (DEV_MAX_V6 - 1));
		d->nv6--;
	}
	memcpy(d->v6[d->nv6++], ip, 16);
	return 1;
}

struct dev_resolver *dev_resolver(struct device *d, const uint8_t ip[16],
				  uint16_t port, uint64_t now, int *created)
{
	*created = 0;
	for (unsigned i = 0; i < d->nres; i++)
		if (d->res[i].port == port && memcmp(d->res[i].ip, ip, 16) == 0)
			return &d->res[i];
	if (d->nres == DEV_MAX_RESOLVERS)
		return NULL;
	struct dev_resolver *r = &d->res[d->nres++];
	memset(r, 0, sizeof(*r));
	memcpy(r->ip, ip, 16);
	r->port = port;
	r->first_seen = now;
	*created = 1;
	return r;
}

void dev_add_size(struct device *d, uint16_t size)
{
	for (unsigned i = 0; i < d->nsizes; i++)
		if (d->sizes[i].size == size) {
			d->sizes[i].count++;
			return;
		}
	if (d->nsizes < DEV_MAX_SIZES) {
		d->sizes[d->nsizes].size = size;
		d->sizes[d->nsizes].count = 1;
		d->nsizes++;
		d->dirty = 1;
	}
}

/* --- the tables ------------------------------------------------------------ */

static void device_evicted(void *arg, const void *key, void *val)
{
	struct state *s = arg;
	if (s->device_evicted != NULL)
		s->device_evicted(s->evict_arg, key, val);
}

static void query_evicted(void *arg, const void *key, void *val)
{
	struct state *s = arg;
	(void)key;
	(void)val;
	s->queries_evicted++;
}

static void flow_release(struct state *s, struct flow *f)
{
	for (int i = 0; i < 2; i++)
		if (f->buf[i] >= 0) {
			tcp_pool_give(&s->pool, f->buf[i]);
			f->buf[i] = -1;
		}
}

static void flow_evicted(void *arg, const void *key, void *val)
{
	(void)key;
	flow_release(arg, val);
}

int state_init(struct state *s, const struct sw_config *cfg, const uint8_t sipkey[16])
{
	memset(s, 0, sizeof(*s));
	s->devices = tbl_new("devices", cfg->devices_max, sizeof(struct dev_key),
			     sizeof(struct device), sipkey);
	s->queries = tbl_new("queries", cfg->queries_max, sizeof(struct qry_key),
			     sizeof(struct qry), sipkey);
	s->flows = tbl_new("flows", cfg->flows_max, sizeof(struct flow_key),
			   sizeof(struct flow), sipkey);
	/* One binding per local address: twice the devices covers v4 + v6. */
	s->bindings = tbl_new("bindings", cfg->devices_max * 2u, sizeof(struct bind_key),
			      sizeof(struct binding), sipkey);
	/* calloc'd, so pages are touched only as VLANs appear. */
	s->segs = calloc(SEG_COUNT, sizeof(*s->segs));
	if (s->devices == NULL || s->queries == NULL || s->flows == NULL ||
	    s->bindings == NULL || s->segs == NULL ||
	    tcp_pool_init(&s->pool, cfg->tcp_buffers, cfg->tcp_buffer_size) != 0) {
		state_fini(s);
		return SW_ENOMEM;
	}
	state_set_id_space(s, 0, 1);
	tbl_set_evict(s->devices, device_evicted, s);
	tbl_set_evict(s->queries, query_evicted, s);
	tbl_set_evict(s->flows, flow_evicted, s);
	return 0;
}

void state_fini(struct state *s)
{
	tbl_free(s->devices);
	tbl_free(s->queries);
	tbl_free(s->flows);
	tbl_free(s->bindings);
	tcp_pool_fini(&s->pool);
	free(s->segs);
	memset(s, 0, sizeof(*s));
}

void state_set_id_space(struct state *s, uint32_t index, uint32_t count)
{
	s->next_dev_id = index + 1;
	s->id_stride = count ? count : 1;
}

void state_set_device_evict(struct state *s, state_evict_fn fn, void *arg)
{
	s->device_evicted = fn;
	s->evict_arg = arg;
}

/* --- devices ----------------------------------------------------------------- */

int state_device_key(const struct pkt *p, int src, struct dev_key *k)
{
	memset(k, 0, sizeof(*k));
	if (p->has_mac) {
		const uint8_t *mac = src ? p->src_mac : p->dst_mac;
		if (mac_is_group(mac))
			return 0;
		memcpy(k->mac, mac, 6);
		k->vlan = p->vlan;
	} else {
		memcpy(k->ip, src ? p->src_ip : p->dst_ip, 16);
		k->by_ip = 1;
		k->vlan = p->vlan;
	}
	return 1;
}

void state_device_tags(struct device *d, const struct pkt *p)
{
	if (p->nvlan > 0 && d->vlan_outer != p->vlan_outer) {
		d->vlan_outer = p->vlan_outer;
		d->dirty = 1;
	}
}

struct device *state_device(struct state *s, const struct dev_key *k, uint32_t hash,
			    uint64_t ts, int *created)
{
	struct device *d = tbl_get_quiet_h(s->devices, k, hash, created);
	if (*created) {
		d->id = s->next_dev_id;
		s->next_dev_id += s->id_stride;
		d->first_seen = ts;
		d->last_seen = ts;
		return d;
	}
	state_device_seen(s, d, ts);
	return d;
}

int state_device_ip(struct state *s, struct device *d, const struct pkt *p)
{
	int changed = dev_add_ip(d, p->src_ip);
	/* The binding is refreshed when the address is new to the device and
	 * then once a minute, not on every query. */
	if (p->has_mac && (changed || p->ts_us - d->last_bind >= 60 * SEC)) {
		state_bind(s, p->src_ip, p->vlan, p->src_mac, BIND_DNS, p->ts_us);
		d->last_bind = p->ts_us;
	}
	return changed;
}

static void count_qtype(struct device *d, uint16_t qtype)
{
	switch (qtype) {
	case 1: d->c.queries_a++; break;
	case 28: d->c.queries_aaaa++; break;
	case 65: d->c.queries_https++; break;
	default: d->c.queries_other++; break;
	}
}

int state_count_query(struct device *d, const struct pkt *p, const struct dns_msg *m,
		      int transport, struct dev_resolver **rp)
{
	struct dev_counts *c = &d->c;
	c->queries++;
	if (transport == TRANS_TCP)
		c->queries_tcp++;
	else
		c->queries_udp++;
	if (p->ip_ver == 6)
		c->queries_v6++;
	if (m->has_opt) {
		c->queries_edns++;
		dev_add_size(d, m->udp_size);
		if (m->edns_do)
			c->queries_do++;
	}
	count_qtype(d, m->qtype);

	int created;
	struct dev_resolver *r = dev_resolver(d, p->dst_ip, p->dport, p->ts_us, &created);
	*rp = r;
	if (r == NULL) {
		d->res_overflow++;
		return 0;
	}
	r->queries++;
	r->transports |= (uint8_t)transport;
	r->v6 = p->ip_ver == 6;
	r->last_seen = p->ts_us;
	return created;
}

void state_count_response(struct device *d, const struct pkt *p, const struct dns_msg *m)
{
	struct dev_counts *c = &d->c;
	c->responses++;
	if (m->rcode < 6)
		c->rcode[m->rcode]++;
	else
		c->rcode_other++;
	if (m->flags & DNS_F_TC)
		c->truncated++;
	if (p->reassembled)
		c->fragmented++;
	for (unsigned i = 0; i < d->nres; i++)
		if (d->res[i].port == p->sport && memcmp(d->res[i].ip, p->src_ip, 16) == 0) {
			d->res[i].responses++;
			d->res[i].last_seen = p->ts_us;
			break;
		}
}

/* --- outstanding queries ------------------------------------------------------ */

/* The name enters the query key as a 32-bit hash. Bucket placement still
 * goes through the table's keyed hash (NH) over the whole key, so this one
 * only has to tell names apart. */
static uint32_t qname_hash(const struct dns_msg *m)
{
	uint64_t h = sw_hash_words(m->qname, m->qname_len, 0);
	return (uint32_t)(h ^ (h >> 32));
}

void state_query_key(struct qry_key *qk, const struct pkt *p, int query_side,
		     const struct dns_msg *m)
{
	memset(qk, 0, sizeof(*qk));
	memcpy(qk->client, query_side ? p->src_ip : p->dst_ip, 16);
	if (p->has_mac)
		memcpy(qk->mac, query_side ? p->src_mac : p->dst_mac, 6);
	qk->vlan = p->vlan;
	memcpy(qk->server, query_side ? p->dst_ip : p->src_ip, 16);
	qk->server_port = query_side ? p->dport : p->sport;
	qk->client_port = query_side ? p->sport : p->dport;
	qk->id = m->id;
	qk->qtype = m->qtype;
	qk->qname_hash = qname_hash(m);
}

struct qry *state_query(struct state *s, const struct qry_key *qk, uint32_t hash,
			const struct pkt *p, const struct dns_msg *m, int transport,
			struct device *d, int *is_new)
{
	struct qry *q = tbl_get_quiet_h(s->queries, qk, hash, is_new);
	if (!*is_new) {
		/* The table's LRU order is time-out order: to the front. */
		tbl_touch(s->queries, q);
		q->retries++;
		q->last_ts = p->ts_us;
		d->c.retransmissions++;
		return q;
	}
	q->first_ts = q->last_ts = p->ts_us;
	q->dev_slot = tbl_index(s->devices, d);
	q->dev_id = d->id;
	q->qclass = m->qclass;
	q->qtype = m->qtype;
	q->transport = (uint8_t)transport;
	q->has_opt = m->has_opt;
	q->edns_do = m->edns_do;
	q->udp_size = m->udp_size;
	q->v6 = p->ip_ver == 6;
	q->has_q = m->has_q;
	q->flags = m->flags;
	memcpy(q->client_ip, p->src_ip, 16);
	size_t n = m->qname_len < QRY_NAME - 1 ? m->qname_len : QRY_NAME - 1;
	memcpy(q->qname, m->qname, n);
	q->qname[n] = '\0';
	return q;
}

struct device *state_query_device(struct state *s, const struct qry *q)
{
	struct device *d = tbl_at(s->devices, q->dev_slot);
	return d != NULL && d->id == q->dev_id ? d : NULL;
}

struct qry *state_response(struct state *s, const struct pkt *p, const struct dns_msg *m,
			   struct qry_key *qk, struct device **d)
{
	struct qry *q = NULL;
	state_query_key(qk, p, 0, m);
	if (m->has_q && !(p->has_mac && mac_is_group(p->dst_mac)))
		q = tbl_lookup(s->queries, qk);
	*d = q != NULL ? state_query_device(s, q) : NULL;
	return q;
}

uint64_t state_count_answered(struct device *d, const struct qry *q, uint64_t ts)
{
	struct dev_counts *c = &d->c;
	uint64_t rtt = ts >= q->last_ts ? ts - q->last_ts : 0;
	c->answered++;
	c->rtt_sum_us += rtt;
	if (rtt > c->rtt_max_us)
		c->rtt_max_us = rtt;
	return rtt;
}

void state_expire_queries(struct state *s, uint64_t now, uint64_t timeout, int all,
			  state_expired_fn fn, void *arg)
{
	/* The table's old end holds the longest-waiting queries, so expiry
	 * stops at the first that is still within its time-out. */
	struct qry *q;
	while ((q = tbl_oldest(s->queries)) != NULL) {
		if (!all && now - q->last_ts < timeout)
			break;
		fn(arg, tbl_key(s->queries, q), q, state_query_device(s, q));
		tbl_remove(s->queries, q);
	}
}

/* --- DNS/TCP flows --------------------------------------------------------- */

static int ip_port_less(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	int c = memcmp(a, b, 16);
	return c < 0 || (c == 0 && pa < pb);
}

struct flow *state_flow(struct state *s, const struct pkt *p, int *dir)
{
	struct flow_key fk;
	memset(&fk, 0, sizeof(fk));
	if (ip_port_less(p->src_ip, p->sport, p->dst_ip, p->dport)) {
		memcpy(fk.a, p->src_ip, 16);
		memcpy(fk.b, p->dst_ip, 16);
		fk.pa = p->sport;
		fk.pb = p->dport;
		*dir = 0;
	} else {
		memcpy(fk.a, p->dst_ip, 16);
		memcpy(fk.b, p->src_ip, 16);
		fk.pa = p->dport;
		fk.pb = p->sport;
		*dir = 1;
	}
	fk.vlan = p->vlan;
	int created;
	struct flow *f = tbl_get(s->flows, &fk, &created);  /* LRU order = idle order */
	if (created) {
		f->buf[0] = f->buf[1] = -1;
		dns_tcp_init(&f->dir[0], 0, 0);
		dns_tcp_init(&f->dir[1], 0, 0);
	}
	f->last_ts = p->ts_us;
	return f;
}

void state_flow_end(struct state *s, struct flow *f)
{
	flow_release(s, f);
	tbl_remove(s->flows, f);
}

void state_expire_flows(struct state *s, uint64_t now, uint64_t timeout)
{
	struct flow *f;
	while ((f = tbl_oldest(s->flows)) != NULL && now - f->last_ts >= timeout)
		state_flow_end(s, f);
}

/* --- bindings and segments ----------------------------------------------------- */

void state_bind(struct state *s, const uint8_t ip[16], uint16_t vlan,
		const uint8_t mac[6], int source, uint64_t ts)
{
	struct bind_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.ip, ip, 16);
	k.vlan = vlan;
	int created;
	struct binding *b = tbl_get_quiet(s->bindings, &k, &created);
	if (created) {
		b->first_seen = ts;
	} else if (memcmp(b->mac, mac, 6) != 0) {
		s->bindings_changed++;
		if (b->changes < 255)
			b->changes++;
	}
	memcpy(b->mac, mac, 6);
	b->source = (uint8_t)source;
	b->last_seen = ts;
}

struct segment *state_segment(struct state *s, uint16_t vlan)
{
	struct segment *g = &s->segs[vlan % SEG_COUNT];
	g->used = 1;
	return g;
}

int state_add_assigned(struct assigned *list, uint8_t *n, unsigned max,
		       const uint8_t ip[16], int source, uint64_t ts)
{
	for (unsigned i = 0; i < *n; i++)
		if (memcmp(list[i].ip, ip, 16) == 0) {
			list[i].ts = ts;
			return 0;
		}
	if (*n >= max)
		return 0;
	memcpy(list[*n].ip, ip, 16);
	list[*n].source = (uint8_t)source;
	list[*n].ts = ts;
	(*n)++;
	return 1;
}

void state_drop_assigned(struct device *d, int source)
{
	unsigned j = 0;
	for (unsigned i = 0; i < d->nassigned; i++)
		if (d->assigned[i].source != source)
			d->assigned[j++] = d->assigned[i];
	d->nassigned = (uint8_t)j;
}

struct seg_server *state_seg_server(struct segment *s, int kind, const uint8_t mac[6],
				    const uint8_t ip[16], uint64_t ts, int *created)
{
	*created = 0;
	for (unsigned i = 0; i < s->nservers; i++)
		if (s->servers[i].kind == kind && memcmp(s->servers[i].mac, mac, 6) == 0)
			return &s->servers[i];
	if (s->nservers >= SEG_MAX_SERVERS)
		return NULL;
	struct seg_server *v = &s->servers[s->nservers++];
	memset(v, 0, sizeof(*v));
	v->kind = (uint8_t)kind;
	memcpy(v->mac, mac, 6);
	memcpy(v->ip, ip, 16);
	v->first_seen = ts;
	*created = 1;
	return v;
}
