/* engine.c — per-packet pipeline: frames to devices, transactions and events.
 *
 * RFC 1035 §4.2 (DNS over UDP and TCP on port 53), RFC 6762 (mDNS, 5353),
 * RFC 4795 (LLMNR, 5355), RFC 826 (ARP), RFC 4861 (NDP).
 *
 * A device's queries carry its MAC as Ethernet source and responses to it
 * carry it as destination (DETECTIONS.md, general rules), so a query is
 * charged to the source MAC and a response to the destination MAC. The QR
 * bit, not the port, says which is which: port 53 on either side makes a
 * packet DNS. All housekeeping (query time-outs, flow expiry, periodic device
 * snapshots, stats) runs on packet time, once per second of it, so a replay
 * gives the same events every time.
 */
#include "detect/engine.h"
#include "detect/engine_int.h"
#include "detect/assign.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/log.h"
#include "common/table.h"
#include "decode/decode.h"
#include "dhcp/dhcp.h"
#include "dns/dns.h"
#include "output/event.h"
#include "state/state.h"

void eng_emit_device(struct engine *e, const struct dev_key *k,
		     struct device *d, const char *reason)
{
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	d->last_snapshot = e->now ? e->now : d->last_seen;
	d->dirty = 0;
	struct dctx c;
	eng_dctx(e, d, &c);
	struct ev_device_extra x;
	struct post_bufs b;
	post_extra(e, &c, &x, &b);
	size_t len;
	char *text = ev_device(e->now, e->observer, k, d, reason, &x, &len);
	post_extra_free(&b);
	ev_emit_text(e->out, OUT_DS_DEVICE, key, text, len);
}

/* Calls hook `h` of every module that has it, with the given arguments.
 * The first three modules get a call instruction each, written out, and
 * only further ones share the loop's: a call site that always reaches the
 * same function is one the branch predictor gets right, while one site
 * taking turns among three hooks is mispredicted on most calls, several
 * times per packet. */
#define MODULE_AT(e, i, h, ...)                                             \
	do {                                                                \
		if ((i) < (e)->nmod && (e)->mods[i]->h != NULL)             \
			(e)->mods[i]->h((e)->mod[i], (e), __VA_ARGS__);     \
	} while (0)
#define EACH_MODULE(e, h, ...)                                              \
	do {                                                                \
		MODULE_AT(e, 0, h, __VA_ARGS__);                            \
		MODULE_AT(e, 1, h, __VA_ARGS__);                            \
		MODULE_AT(e, 2, h, __VA_ARGS__);                            \
		for (unsigned mi_ = 3; mi_ < (e)->nmod; mi_++)              \
			MODULE_AT(e, mi_, h, __VA_ARGS__);                  \
	} while (0)

/* A device's posture, addresses or resolvers changed. Its event goes out
 * now, unless it had one less than CHANGE_MIN_US ago: then the change waits
 * for the sweep, so a device whose verdicts settle one after another in its
 * first minutes gives a few events, not one per verdict. Alerts are not
 * delayed: they carry each failing verdict the moment it fails; the device
 * event is the state a dashboard shows, and five minutes (the default
 * snapshot interval) is fresh enough for it. On the benchmark capture 60 s
 * gave 7,300 change events per million packets, about a tenth of the
 * sensor's time. */
#define CHANGE_MIN_US (300 * SEC)

void eng_device_changed(struct engine *e, const struct dev_key *k, struct device *d)
{
	if (e->now - d->last_snapshot >= CHANGE_MIN_US)
		eng_emit_device(e, k, d, "change");
	else
		d->dirty = 1;
}

void eng_dctx(struct engine *e, struct device *d, struct dctx *c)
{
	c->d = d;
	c->k = tbl_key(e->devices, d);
	c->slot = tbl_index(e->devices, d);
	c->dd = &e->dd[c->slot];
}

/* A device leaving a full table still gets its last word out. */
static void device_evicted(void *arg, const void *key, void *val)
{
	struct engine *e = arg;
	eng_emit_device(e, key, val, "evicted");
}

static void query_evicted(void *arg, const void *key, void *val)
{
	struct engine *e = arg;
	(void)key;
	(void)val;
	e->c.queries_evicted++;
}

static void flow_release(struct engine *e, struct flow *f)
{
	for (int i = 0; i < 2; i++)
		if (f->buf[i] >= 0) {
			tcp_pool_give(&e->pool, f->buf[i]);
			f->buf[i] = -1;
		}
}

static void flow_evicted(void *arg, const void *key, void *val)
{
	(void)key;
	flow_release(arg, val);
}

/* dhcp.allowed_servers: "192.168.1.1, fe80::1, 02:00:5e:00:00:01". */
static int parse_allowlist(struct engine *e, const char *list, char *err, size_t errlen)
{
	char buf[CONF_STR];
	uint8_t ip[16];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		unsigned m[6];
		char extra;
		if (sscanf(tok, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5], &extra) == 6 && strlen(tok) == 17) {
			if (e->nallow_mac == ALLOW_MAX)
				goto full;
			for (int i = 0; i < 6; i++)
				e->allow_mac[e->nallow_mac][i] = (uint8_t)m[i];
			e->nallow_mac++;
		} else if (ip_parse(tok, ip) == 0) {
			if (e->nallow_ip == ALLOW_MAX)
				goto full;
			memcpy(e->allow_ip[e->nallow_ip++], ip, 16);
		} else {
			snprintf(err, errlen, "dhcp.allowed_servers: '%s' is neither an IP address "
				 "nor a MAC (aa:bb:cc:dd:ee:ff)", tok);
			return -1;
		}
	}
	return 0;
full:
	snprintf(err, errlen, "dhcp.allowed_servers: more than %d entries", ALLOW_MAX);
	return -1;
}

/* detect.modules: "encrypted, behaviour" picks those, in eng_modules order
 * (the order their hooks run in, whatever the list's); "" picks none. */
static int pick_modules(struct engine *e, const char *list, char *err, size_t errlen)
{
	unsigned want = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ", \t");
		if (n > 0) {
			unsigned i;
			for (i = 0; eng_modules[i] != NULL; i++)
				if (strlen(eng_modules[i]->name) == n &&
				    strncmp(eng_modules[i]->name, p, n) == 0)
					break;
			if (eng_modules[i] == NULL) {
				char names[128] = "";
				for (unsigned j = 0; eng_modules[j] != NULL; j++)
					snprintf(names + strlen(names), sizeof(names) - strlen(names),
						 "%s%s", j ? ", " : "", eng_modules[j]->name);
				snprintf(err, errlen, "detect.modules: no detection family '%.*s' "
					 "(there are: %s)", (int)(n > 64 ? 64 : n), p, names);
				return -1;
			}
			want |= 1u << i;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	e->nmod = 0;
	for (unsigned i = 0; eng_modules[i] != NULL && i < ENG_MAX_MODULES; i++)
		if (want & (1u << i))
			e->mods[e->nmod++] = eng_modules[i];
	return 0;
}

int eng_check_config(const struct sw_config *cfg, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = parse_allowlist(e, cfg->dhcp_allowed_servers, err, errlen) != 0 ||
		 pick_modules(e, cfg->detect_modules, err, errlen) != 0 ? -1 : 0;
	free(e);
	return rc;
}

int eng_server_allowed(const struct engine *e, const uint8_t ip[16], const uint8_t mac[6])
{
	for (unsigned i = 0; i < e->nallow_ip; i++)
		if (memcmp(e->allow_ip[i], ip, 16) == 0)
			return 1;
	for (unsigned i = 0; i < e->nallow_mac; i++)
		if (memcmp(e->allow_mac[i], mac, 6) == 0)
			return 1;
	return 0;
}

struct engine *eng_new(const struct sw_config *cfg, struct out *out,
		       const uint8_t *sipkey, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cfg = cfg;
	e->out = out;
	char obs_note[256];
	ev_observer_init(&e->obs, cfg->observer_name, obs_note, sizeof(obs_note));
	if (obs_note[0])
		log_warn("%s", obs_note);
	e->observer = &e->obs;
	if (sipkey != NULL)
		memcpy(e->sipkey, sipkey, 16);
	else
		memcpy(e->sipkey, "stubwatch-engine", 16);
	struct dec_conf dc = {
		.frag_max = cfg->frag_max,
		/* DNS answers that fragment are a few KiB (EDNS sizes up to 4096);
		 * 16 KiB keeps the worst case at frag.max x 16 KiB per family. */
		.frag_max_bytes = 16384 + 60,
		.frag_timeout_us = cfg->frag_timeout_us,
	};
	e->dec = dec_new(&dc);
	e->devices = tbl_new("devices", cfg->devices_max, sizeof(struct dev_key),
			     sizeof(struct device), e->sipkey);
	e->queries = tbl_new("queries", cfg->queries_max, sizeof(struct qry_key),
			     sizeof(struct qry), e->sipkey);
	e->flows = tbl_new("flows", cfg->flows_max, sizeof(struct flow_key),
			   sizeof(struct flow), e->sipkey);
	/* One binding per local address: twice the devices covers v4 + v6. */
	e->bindings = tbl_new("bindings", cfg->devices_max * 2u, sizeof(struct bind_key),
			      sizeof(struct binding), e->sipkey);
	/* The detect layer's state per device slot and the segments: calloc'd,
	 * so pages are touched only as devices and VLANs appear. */
	e->dd = calloc(cfg->devices_max, sizeof(*e->dd));
	e->segs = calloc(SEG_COUNT, sizeof(*e->segs));
	struct rnd_params rp = RND_PARAMS_DEFAULT;
	e->txid_params = rp;
	rp.constant_after = 0;
	e->port_params = rp;
	if (e->dec == NULL || e->devices == NULL || e->queries == NULL ||
	    e->flows == NULL || e->bindings == NULL || e->dd == NULL || e->segs == NULL ||
	    tcp_pool_init(&e->pool, cfg->tcp_buffers, cfg->tcp_buffer_size) != 0) {
		snprintf(err, errlen, "cannot allocate state tables (devices.max=%u, "
			 "queries.max=%u, flows.max=%u): out of memory",
			 cfg->devices_max, cfg->queries_max, cfg->flows_max);
		eng_free(e);
		return NULL;
	}
	if (parse_allowlist(e, cfg->dhcp_allowed_servers, err, errlen) != 0) {
		eng_free(e);
		return NULL;
	}
	if (pick_modules(e, cfg->detect_modules, err, errlen) != 0) {
		eng_free(e);
		return NULL;
	}
	for (unsigned i = 0; i < e->nmod; i++) {
		const struct eng_module *m = e->mods[i];
		e->mod[i] = m->create != NULL ? m->create(e, err, errlen) : NULL;
		if (m->create != NULL && e->mod[i] == NULL) {
			/* Only the ones created so far are destroyed. */
			e->nmod = i;
			eng_free(e);
			return NULL;
		}
	}
	char note[256] = "";
	e->oui = enr_oui_load(cfg->enrich_oui_dir[0] ? cfg->enrich_oui_dir : NULL, note, sizeof(note));
	if (note[0])
		log_warn("%s", note);
	if (cfg->enrich_geoip_city[0] || cfg->enrich_geoip_asn[0]) {
		note[0] = '\0';
		e->geo = enr_geo_open(cfg->enrich_geoip_city, cfg->enrich_geoip_asn,
				      cfg->enrich_geo_cache, e->sipkey, note, sizeof(note));
		if (note[0])
			log_warn("%s", note);
	}
	tbl_set_evict(e->devices, device_evicted, e);
	tbl_set_evict(e->queries, query_evicted, e);
	tbl_set_evict(e->flows, flow_evicted, e);
	return e;
}

void eng_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->nmod; i++)
		if (e->mods[i]->destroy != NULL)
			e->mods[i]->destroy(e->mod[i]);
	dec_free(e->dec);
	tbl_free(e->devices);
	tbl_free(e->queries);
	tbl_free(e->flows);
	tbl_free(e->bindings);
	tcp_pool_fini(&e->pool);
	free(e->dd);
	free(e->segs);
	enr_oui_free(e->oui);
	enr_geo_close(e->geo);
	ev_observer_free(&e->obs);
	free(e);
}

/* The device key of one side of a packet: by MAC when the link has MACs,
 * else by IP. 0 for a group MAC, which is nobody's device. */
static int device_key(const struct pkt *p, int src, struct dev_key *k)
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

/* eng_device_for() with the key built and hashed (tbl_prefetch). */
static struct device *device_for_hashed(struct engine *e, const struct pkt *p,
					const struct dev_key *k, uint32_t hash, int *created)
{
	struct device *d = tbl_get_quiet_h(e->devices, k, hash, created);
	if (*created) {
		d->id = ++e->next_dev_id;
		d->first_seen = p->ts_us;
		post_device_reset(e, tbl_index(e->devices, d));
		EACH_MODULE(e, device_reset, tbl_index(e->devices, d));
	} else if (p->ts_us / (10 * SEC) != d->last_seen / (10 * SEC)) {
		/* LRU order to ten seconds is enough to pick whom to evict; each
		 * move costs three cache misses in a big table. */
		tbl_touch(e->devices, d);
	}
	d->last_seen = p->ts_us;
	return d;
}

struct device *eng_device_for(struct engine *e, const struct pkt *p, int src,
			      struct dev_key *k, int *created)
{
	*created = 0;
	if (!device_key(p, src, k))
		return NULL;
	return device_for_hashed(e, p, k, tbl_prefetch(e->devices, k), created);
}

static void bind_ip(struct engine *e, const uint8_t ip[16], uint16_t vlan,
		    const uint8_t mac[6], int source, uint64_t ts)
{
	struct bind_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.ip, ip, 16);
	k.vlan = vlan;
	int created;
	struct binding *b = tbl_get_quiet(e->bindings, &k, &created);
	if (created) {
		b->first_seen = ts;
	} else if (memcmp(b->mac, mac, 6) != 0) {
		e->c.bindings_changed++;
		if (b->changes < 255)
			b->changes++;
	}
	memcpy(b->mac, mac, 6);
	b->source = (uint8_t)source;
	b->last_seen = ts;
}

/* The name enters the query key as a 32-bit hash. Bucket placement still
 * goes through the table's keyed hash (NH) over the whole key, so this one
 * only has to tell names apart. */
static uint32_t qname_hash(const struct dns_msg *m)
{
	uint64_t h = sw_hash_words(m->qname, m->qname_len, 0);
	return (uint32_t)(h ^ (h >> 32));
}

static void emit_txn(struct engine *e, const struct pkt *p, const struct dev_key *k,
		     const struct qry *q, const struct dns_msg *m, int query_side,
		     int transport, int proto, int answered, uint64_t rtt)
{
	struct ev_dns_txn t = {
		.ts_us = p->ts_us,
		.dev = k,
		.client_ip = query_side ? p->src_ip : p->dst_ip,
		.server_ip = query_side ? p->dst_ip : p->src_ip,
		.client_port = query_side ? p->sport : p->dport,
		.server_port = query_side ? p->dport : p->sport,
		.transport = (uint8_t)transport,
		.proto = (uint8_t)proto,
		.answered = (uint8_t)answered,
		.fragmented = p->reassembled,
		.rtt_us = rtt,
		.q = q,
		.msg = m,
	};
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	size_t len;
	char *text = ev_dns(e->observer, &t, &len);
	ev_emit_text(e->out, OUT_DS_DNS, key, text, len);
}

/* The outstanding-query key of a query (query_side = 1: the client is the
 * source) or of a response to it (0: the client is the destination). */
static void query_key(struct qry_key *qk, const struct pkt *p, int query_side,
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

static void count_qtype(struct device *d, uint16_t qtype)
{
	switch (qtype) {
	case 1: d->c.queries_a++; break;
	case 28: d->c.queries_aaaa++; break;
	case 65: d->c.queries_https++; break;
	default: d->c.queries_other++; break;
	}
}

/* kp and hash: the sender's device key and its hash (tbl_prefetch);
 * has_dev = 0 when the sender is a group address, which is no device. */
static void on_query(struct engine *e, const struct pkt *p, const struct dns_msg *m,
		     int transport, const struct dev_key *kp, uint32_t hash, int has_dev)
{
	e->c.queries++;
	if (transport == TRANS_TCP)
		e->c.queries_tcp++;
	struct dev_key k = *kp;
	int created = 0;
	struct device *d = has_dev ? device_for_hashed(e, p, &k, hash, &created) : NULL;
	if (d == NULL) {
		e->c.no_device++;
		return;
	}
	int changed = dev_add_ip(d, p->src_ip);
	/* The binding is refreshed when the address is new to the device and
	 * then once a minute, not on every query. */
	if (p->has_mac && (changed || p->ts_us - d->last_bind >= 60 * SEC)) {
		bind_ip(e, p->src_ip, p->vlan, p->src_mac, BIND_DNS, p->ts_us);
		d->last_bind = p->ts_us;
	}

	struct qry_key qk;
	query_key(&qk, p, 1, m);
	/* Start the loads of the outstanding entry and of the modules'
	 * per-name state together, rather than one cache miss after another. */
	uint32_t qh = tbl_prefetch(e->queries, &qk);
	struct dctx dc;
	eng_dctx(e, d, &dc);
	EACH_MODULE(e, prefetch, p, &dc, m, &qk);
	int qcreated;
	struct qry *q = tbl_get_quiet_h(e->queries, &qk, qh, &qcreated);
	if (!qcreated) {
		/* Same ID, name and type to the same server and port while the
		 * first is unanswered: a retransmission (RFC 1035 §4.2.1). The
		 * table's LRU order is time-out order, so it moves to the front. */
		tbl_touch(e->queries, q);
		q->retries++;
		q->last_ts = p->ts_us;
		d->c.retransmissions++;
	} else {
		q->first_ts = q->last_ts = p->ts_us;
		q->dev_slot = tbl_index(e->devices, d);
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
	}

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

	int rcreated;
	struct dev_resolver *r = dev_resolver(d, p->dst_ip, p->dport, p->ts_us, &rcreated);
	if (r != NULL) {
		r->queries++;
		r->transports |= (uint8_t)transport;
		r->v6 = p->ip_ver == 6;
		r->last_seen = p->ts_us;
		changed |= rcreated;
	} else {
		d->res_overflow++;
	}
	post_query(e, p, &dc, m, r, transport, qcreated);
	EACH_MODULE(e, query, p, &dc, m, &qk, q, qcreated);
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else if (changed || d->dirty)
		eng_device_changed(e, &k, d);
}

/* The device a query was charged to, if it is still the same device. */
static struct device *query_device(struct engine *e, const struct qry *q)
{
	struct device *d = tbl_at(e->devices, q->dev_slot);
	return d != NULL && d->id == q->dev_id ? d : NULL;
}

static void on_response(struct engine *e, const struct pkt *p, const struct dns_msg *m,
			int transport)
{
	e->c.responses++;
	if (transport == TRANS_TCP)
		e->c.responses_tcp++;
	/* The query first: when it is there it names the device, which saves
	 * the device lookup on the common path. */
	struct qry *q = NULL;
	struct qry_key qk;
	query_key(&qk, p, 0, m);
	if (m->has_q && !(p->has_mac && mac_is_group(p->dst_mac)))
		q = tbl_lookup(e->queries, &qk);
	struct dev_key k;
	int created = 0;
	struct device *d = q != NULL ? query_device(e, q) : NULL;
	struct dctx dc;
	if (d != NULL) {
		eng_dctx(e, d, &dc);
		EACH_MODULE(e, prefetch_response, p, &dc, q);
		k = *(const struct dev_key *)tbl_key(e->devices, d);
		if (p->ts_us / (10 * SEC) != d->last_seen / (10 * SEC))
			tbl_touch(e->devices, d);
		d->last_seen = p->ts_us;
	} else {
		d = eng_device_for(e, p, 0, &k, &created);
		if (d == NULL) {
			e->c.no_device++;
			if (q != NULL)
				tbl_remove(e->queries, q);
			return;
		}
		eng_dctx(e, d, &dc);
	}
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
	post_response(e, p, &dc, m, q, transport);
	EACH_MODULE(e, response, p, &dc, m, &qk, q);
	if (q != NULL) {
		uint64_t rtt = p->ts_us >= q->last_ts ? p->ts_us - q->last_ts : 0;
		c->answered++;
		c->rtt_sum_us += rtt;
		if (rtt > c->rtt_max_us)
			c->rtt_max_us = rtt;
		if (e->cfg->log_dns)
			emit_txn(e, p, &k, q, m, 0, transport, PROTO_DNS, 1, rtt);
		tbl_remove(e->queries, q);
	} else {
		c->unmatched++;
		e->c.unmatched++;
		if (e->cfg->log_dns)
			emit_txn(e, p, &k, NULL, m, 0, transport, PROTO_DNS, 0, 0);
	}
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else if (d->dirty)
		eng_device_changed(e, &k, d);
}

/* mDNS and LLMNR: counted on the sender, never as unicast DNS. */
static void on_local(struct engine *e, const struct pkt *p, const struct dns_msg *m,
		     int proto)
{
	int resp = (m->flags & DNS_F_QR) != 0;
	if (proto == PROTO_MDNS) {
		e->c.mdns++;
		e->c.mdns_responses += resp;
	} else {
		e->c.llmnr++;
		e->c.llmnr_responses += resp;
	}
	struct dev_key k;
	int created;
	struct device *d = eng_device_for(e, p, 1, &k, &created);
	if (d == NULL)
		return;
	if (proto == PROTO_MDNS)
		d->c.mdns++;
	else
		d->c.llmnr++;
	int changed = dev_add_ip(d, p->src_ip);
	if (e->cfg->log_dns)
		emit_txn(e, p, &k, NULL, m, 1, TRANS_UDP, proto, 0, 0);
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else if (changed)
		eng_device_changed(e, &k, d);
}

static void on_message(struct engine *e, const struct pkt *p, const uint8_t *buf,
		       size_t len, int transport, int proto)
{
	/* A query's sender is its device: start loading its table bucket
	 * before the parse, which then overlaps the miss. */
	struct dev_key k;
	uint32_t hash = 0;
	int has_dev = 0;
	memset(&k, 0, sizeof(k));
	if (proto == PROTO_DNS && len > 2 && !(buf[2] & 0x80) && device_key(p, 1, &k)) {
		hash = tbl_prefetch(e->devices, &k);
		has_dev = 1;
	}
	struct dns_msg m;
	if (dns_parse(buf, len, &m) != 0) {
		e->c.dns_short++;
		return;
	}
	/* mDNS responses carry no question (RFC 6762 §6): not an anomaly there. */
	if (m.anomaly && !(proto == PROTO_MDNS && m.anomaly == DNS_A_QDCOUNT))
		e->c.dns_anom[m.anomaly]++;
	if (proto != PROTO_DNS) {
		on_local(e, p, &m, proto);
		return;
	}
	if (m.flags & DNS_F_QR) {
		on_response(e, p, &m, transport);
	} else {
		/* has_dev = 0: a group sender (device_key cleared k). */
		on_query(e, p, &m, transport, &k, hash, has_dev);
	}
}

static void tcp_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct tcp_ctx *t = arg;
	t->e->c.dns_tcp_msgs++;
	on_message(t->e, t->p, msg, len, TRANS_TCP, PROTO_DNS);
}

static int ip_port_less(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	int c = memcmp(a, b, 16);
	return c < 0 || (c == 0 && pa < pb);
}

/* DNS over TCP: one flow per connection, one framing state per direction. */
static void on_tcp(struct engine *e, const struct pkt *p)
{
	struct flow_key fk;
	memset(&fk, 0, sizeof(fk));
	int dir;
	if (ip_port_less(p->src_ip, p->sport, p->dst_ip, p->dport)) {
		memcpy(fk.a, p->src_ip, 16);
		memcpy(fk.b, p->dst_ip, 16);
		fk.pa = p->sport;
		fk.pb = p->dport;
		dir = 0;
	} else {
		memcpy(fk.a, p->dst_ip, 16);
		memcpy(fk.b, p->src_ip, 16);
		fk.pa = p->dport;
		fk.pb = p->sport;
		dir = 1;
	}
	fk.vlan = p->vlan;
	int created;
	struct flow *f = tbl_get(e->flows, &fk, &created);  /* LRU order = idle order */
	if (created) {
		f->buf[0] = f->buf[1] = -1;
		dns_tcp_init(&f->dir[0], 0, 0);
		dns_tcp_init(&f->dir[1], 0, 0);
	}
	f->last_ts = p->ts_us;
	if (p->tcp_flags & 0x02) {
		/* SYN: data starts at ISN + 1 (RFC 9293 §3.4). */
		dns_tcp_init(&f->dir[dir], p->tcp_seq + 1, 1);
	}
	if (p->payload_len > 0) {
		int32_t bi = f->buf[dir];
		if (bi < 0)
			bi = tcp_pool_take(&e->pool);
		uint8_t *buf = bi >= 0 ? tcp_pool_buf(&e->pool, bi) : NULL;
		size_t cap = bi >= 0 ? e->pool.size : 0;
		struct tcp_ctx ctx = { e, p };
		int rc = dns_tcp_feed(&f->dir[dir], p->tcp_seq, p->payload, p->payload_len,
				      buf, cap, tcp_msg, &ctx);
		if (rc & DNS_TCP_GAP)
			e->c.tcp_gap++;
		if (rc & DNS_TCP_OVERSIZE)
			e->c.tcp_oversize++;
		if (rc & DNS_TCP_RETRANS)
			e->c.tcp_retrans++;
		/* Keep the buffer only while it holds part of a message. */
		if (bi >= 0 && !dns_tcp_pending(&f->dir[dir])) {
			tcp_pool_give(&e->pool, bi);
			bi = -1;
		}
		f->buf[dir] = bi;
	}
	if (p->tcp_flags & 0x04) {
		/* RST ends the connection at once; FIN lets the other side finish. */
		flow_release(e, f);
		tbl_remove(e->flows, f);
	} else if (p->tcp_flags & 0x01) {
		f->fin++;
		if (f->fin >= 2) {
			flow_release(e, f);
			tbl_remove(e->flows, f);
		}
	}
}

static void on_arp(struct engine *e, const struct pkt *p)
{
	static const uint8_t zero[4];
	e->c.arp++;
	if (memcmp(p->arp_spa, zero, 4) == 0)
		return; /* ARP probe (RFC 5227): the sender has no address yet */
	uint8_t ip[16];
	ip_from_v4(ip, p->arp_spa);
	bind_ip(e, ip, p->vlan, p->arp_sha, BIND_ARP, p->ts_us);
}

static void on_icmpv6(struct engine *e, const struct pkt *p)
{
	static const uint8_t unspec[16];
	switch (p->icmp_type) {
	case 134: /* Router Advertisement (RFC 4861 §4.2) */
		e->c.ra++;
		asg_ra(e, p);
		break;
	case 135: /* Neighbor Solicitation */
	case 136: /* Neighbor Advertisement */
		e->c.ndp++;
		if (p->has_mac && memcmp(p->src_ip, unspec, 16) != 0) {
			bind_ip(e, p->src_ip, p->vlan, p->src_mac, BIND_NDP, p->ts_us);
			/* A global source address says the host has IPv6, even
			 * when its DNS goes over IPv4 (ipv6.no-v6-transport). */
			if (!(p->src_ip[0] == 0xfe && (p->src_ip[1] & 0xc0) == 0x80) &&
			    (p->src_ip[0] & 0xe0) == 0x20) {
				struct dev_key k;
				memset(&k, 0, sizeof(k));
				memcpy(k.mac, p->src_mac, 6);
				k.vlan = p->vlan;
				struct device *d = tbl_lookup(e->devices, &k);
				if (d != NULL) {
					d->has_global_v6 = 1;
					if (dev_add_ip(d, p->src_ip))
						d->dirty = 1;
				}
			}
		}
		break;
	default:
		break;
	}
}

/* Unanswered queries: the table's old end holds the longest-waiting ones, so
 * expiry stops at the first that is still within its time-out. */
static void expire_queries(struct engine *e, uint64_t now, int all)
{
	struct qry *q;
	while ((q = tbl_oldest(e->queries)) != NULL) {
		if (!all && now - q->last_ts < e->cfg->queries_timeout_us)
			break;
		const struct qry_key *qk = tbl_key(e->queries, q);
		struct device *d = query_device(e, q);
		e->c.unanswered++;
		if (d != NULL) {
			d->c.unanswered++;
			struct dctx dc;
			eng_dctx(e, d, &dc);
			post_unanswered(e, &dc, qk, q);
			EACH_MODULE(e, unanswered, &dc, qk, q);
			if (e->cfg->log_dns) {
				const struct dev_key *k = tbl_key(e->devices, d);
				struct ev_dns_txn t = {
					.ts_us = q->last_ts + e->cfg->queries_timeout_us,
					.dev = k,
					.client_ip = q->client_ip,
					.server_ip = qk->server,
					.client_port = qk->client_port,
					.server_port = qk->server_port,
					.transport = q->transport,
					.proto = PROTO_DNS,
					.q = q,
					.qid = qk->id,
				};
				char key[FMT_IP_LEN];
				ev_dev_keytext(k, key, sizeof(key));
				size_t len;
				char *text = ev_dns(e->observer, &t, &len);
				ev_emit_text(e->out, OUT_DS_DNS, key, text, len);
			}
		}
		tbl_remove(e->queries, q);
	}
}

static void expire_flows(struct engine *e, uint64_t now)
{
	struct flow *f;
	while ((f = tbl_oldest(e->flows)) != NULL &&
	       now - f->last_ts >= e->cfg->flows_timeout_us) {
		flow_release(e, f);
		tbl_remove(e->flows, f);
	}
}

/* Periodic device events: each tick looks at a slice of the table sized so
 * that every device is looked at about once per snapshot interval. */
static void sweep_devices(struct engine *e, uint64_t now)
{
	uint64_t iv = e->cfg->devices_snapshot_interval_us;
	/* Without periodic events the sweep still runs, for held-back changes. */
	uint64_t pace = iv ? iv : CHANGE_MIN_US;
	uint32_t n = tbl_count(e->devices);
	uint64_t per_tick = (uint64_t)n * SEC / pace + 1;
	for (uint64_t i = 0; i < per_tick && i < n; i++) {
		struct device *d = tbl_next_at(e->devices, e->sweep_slot);
		if (d == NULL) {
			/* Past the last used slot: start over. */
			e->sweep_slot = 0;
			d = tbl_next_at(e->devices, 0);
			if (d == NULL)
				return;
		}
		e->sweep_slot = tbl_index(e->devices, d) + 1;
		uint64_t since = now - d->last_snapshot;
		if (d->dirty && since >= CHANGE_MIN_US)
			eng_emit_device(e, tbl_key(e->devices, d), d, "change");
		else if (iv && since >= iv)
			eng_emit_device(e, tbl_key(e->devices, d), d, "periodic");
	}
}

static void tick(struct engine *e)
{
	uint64_t now = e->now;
	expire_queries(e, now, 0);
	expire_flows(e, now);
	dec_expire(e->dec, now);
	sweep_devices(e, now);
	EACH_MODULE(e, tick, now);
	if (e->cfg->stats_interval_us && now >= e->next_stats) {
		if (e->next_stats != 0)
			eng_emit_stats(e, "periodic");
		e->next_stats = now + e->cfg->stats_interval_us;
	}
	e->next_tick = now + SEC;
}

void eng_packet(void *arg, int link, uint64_t ts_us, uint32_t caplen,
		uint32_t wirelen, const uint8_t *frame)
{
	struct engine *e = arg;
	e->c.packets++;
	e->c.bytes += wirelen;
	/* Packet time only moves forward, even in a file with reordered frames. */
	if (ts_us > e->now)
		e->now = ts_us;
	if (e->now >= e->next_tick)
		tick(e);

	struct pkt p;
	int kind = dec_frame(e->dec, link, frame, caplen, wirelen, ts_us, &p);
	if (kind == PKT_ARP) {
		on_arp(e, &p);
		return;
	}
	if (kind != PKT_IP)
		return;
	e->c.ip++;
	EACH_MODULE(e, packet, &p);
	if (p.l4 == IPPROTO_UDP) {
		int proto;
		if (asg_udp(e, &p))
			return;
		if (p.sport == PORT_DNS || p.dport == PORT_DNS)
			proto = PROTO_DNS;
		else if (p.sport == PORT_MDNS || p.dport == PORT_MDNS)
			proto = PROTO_MDNS;
		else if (p.sport == PORT_LLMNR || p.dport == PORT_LLMNR)
			proto = PROTO_LLMNR;
		else
			return;
		e->c.dns_udp_msgs++;
		on_message(e, &p, p.payload, p.payload_len, TRANS_UDP, proto);
	} else if (p.l4 == IPPROTO_TCP) {
		if (p.sport == PORT_DNS || p.dport == PORT_DNS)
			on_tcp(e, &p);
	} else if (p.l4 == IPPROTO_ICMPV6) {
		on_icmpv6(e, &p);
	}
}

/* The randomness thresholds come from the two stub.* rules. */
static void rnd_from_rule(const struct det_rule *r, struct rnd_params *p)
{
	p->sigma_excellent = r->p[DP_SIGMA_EXCELLENT];
	p->sigma_good = r->p[DP_SIGMA_GOOD];
	p->min_queries = (uint32_t)r->p[DP_MIN_QUERIES];
	p->constant_after = (uint32_t)r->p[DP_CONSTANT_AFTER];
}

void eng_set_rules(struct engine *e, const struct rules *r)
{
	e->rules = r;
	for (unsigned i = 0; i < e->nmod; i++)
		if (e->mods[i]->rules_changed != NULL)
			e->mods[i]->rules_changed(e->mod[i], e);
	rnd_from_rule(rules_det(r, DET_STUB_PORT_PREDICTABLE), &e->port_params);
	rnd_from_rule(rules_det(r, DET_STUB_TXID_PREDICTABLE), &e->txid_params);
	/* Ports wait for the minimum sample (DETECTIONS.md): only IDs have
	 * the early constant rule. */
	e->port_params.constant_after = 0;
}

void eng_set_ingress(struct engine *e, const char *iface)
{
	e->obs.iface = iface;
}

void eng_set_deterministic(struct engine *e, int on)
{
	e->deterministic = on;
}

void eng_set_capture_stats(struct engine *e, const struct cap_stats *st)
{
	e->cap = *st;
}

static json_t *table_json(const struct tbl *t)
{
	return json_pack("{s:i,s:i,s:I}", "count", tbl_count(t), "capacity",
			 tbl_capacity(t), "evictions", (json_int_t)tbl_evictions(t));
}

void eng_emit_stats(struct engine *e, const char *reason)
{
	/* In a replay the stats must not depend on how far the output thread
	 * got: wait until it has delivered everything before this event. */
	if (e->deterministic)
		out_drain(e->out);
	json_t *o = ev_base(e->now, "metric", "stubwatch.stats", e->observer);
	json_object_set_new(json_object_get(o, "event"), "reason", json_string(reason));
	json_t *st = json_object();
	json_object_set_new(st, "packets", json_integer((json_int_t)e->c.packets));
	json_object_set_new(st, "bytes", json_integer((json_int_t)e->c.bytes));
	json_object_set_new(st, "capture", json_pack("{s:I,s:I,s:I}",
		"received", (json_int_t)e->cap.received, "dropped", (json_int_t)e->cap.dropped,
		"if_dropped", (json_int_t)e->cap.if_dropped));

	json_t *anom = json_object();
	const uint64_t *da = dec_anomalies(e->dec);
	for (int i = 0; i < DEC_A_MAX; i++)
		if (da[i])
			json_object_set_new(anom, dec_anomaly_name(i), json_integer((json_int_t)da[i]));
	for (int i = 1; i < DNS_A_MAX; i++)
		if (e->c.dns_anom[i])
			json_object_set_new(anom, dns_anomaly_name(i),
					    json_integer((json_int_t)e->c.dns_anom[i]));
	for (int i = 1; i < DHCP_ANOM_SLOTS && i < DHCP_A_MAX; i++)
		if (e->c.dhcp_anom[i])
			json_object_set_new(anom, dhcp_anomaly_name(i),
					    json_integer((json_int_t)e->c.dhcp_anom[i]));
	if (e->c.dns_short)
		json_object_set_new(anom, "dns_header_trunc", json_integer((json_int_t)e->c.dns_short));
	if (e->c.tcp_gap)
		json_object_set_new(anom, "dns_tcp_gap", json_integer((json_int_t)e->c.tcp_gap));
	if (e->c.tcp_oversize)
		json_object_set_new(anom, "dns_tcp_oversize", json_integer((json_int_t)e->c.tcp_oversize));
	if (e->pool.exhausted)
		json_object_set_new(anom, "dns_tcp_buffers_exhausted", json_integer((json_int_t)e->pool.exhausted));
	json_object_set_new(st, "decode", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		"ip", (json_int_t)e->c.ip, "arp", (json_int_t)e->c.arp,
		"ndp", (json_int_t)e->c.ndp, "ra", (json_int_t)e->c.ra,
		"fragments_reassembled", (json_int_t)dec_reassembled(e->dec),
		"dhcp", (json_int_t)e->c.dhcp,
		"ip_mac_changes", (json_int_t)e->c.bindings_changed,
		"anomalies", anom));
	json_t *dns = json_object();
	json_object_set_new(dns, "udp_messages", json_integer((json_int_t)e->c.dns_udp_msgs));
	json_object_set_new(dns, "tcp_messages", json_integer((json_int_t)e->c.dns_tcp_msgs));
	json_object_set_new(dns, "queries", json_pack("{s:I,s:I}",
		"udp", (json_int_t)(e->c.queries - e->c.queries_tcp),
		"tcp", (json_int_t)e->c.queries_tcp));
	json_object_set_new(dns, "responses", json_pack("{s:I,s:I}",
		"udp", (json_int_t)(e->c.responses - e->c.responses_tcp),
		"tcp", (json_int_t)e->c.responses_tcp));
	json_object_set_new(dns, "unanswered", json_integer((json_int_t)e->c.unanswered));
	json_object_set_new(dns, "unmatched_responses", json_integer((json_int_t)e->c.unmatched));
	json_object_set_new(dns, "mdns", json_pack("{s:I,s:I}",
		"queries", (json_int_t)(e->c.mdns - e->c.mdns_responses),
		"responses", (json_int_t)e->c.mdns_responses));
	json_object_set_new(dns, "llmnr", json_pack("{s:I,s:I}",
		"queries", (json_int_t)(e->c.llmnr - e->c.llmnr_responses),
		"responses", (json_int_t)e->c.llmnr_responses));
	json_object_set_new(dns, "no_device", json_integer((json_int_t)e->c.no_device));
	json_object_set_new(dns, "tcp_retransmitted_segments", json_integer((json_int_t)e->c.tcp_retrans));
	json_object_set_new(st, "dns", dns);
	json_t *tables = json_object();
	json_object_set_new(tables, "devices", table_json(e->devices));
	json_t *qt = table_json(e->queries);
	json_object_set_new(qt, "evicted_outstanding", json_integer((json_int_t)e->c.queries_evicted));
	json_object_set_new(tables, "queries", qt);
	json_object_set_new(tables, "flows", table_json(e->flows));
	json_object_set_new(tables, "bindings", table_json(e->bindings));
	json_object_set_new(st, "tables", tables);
	EACH_MODULE(e, stats_json, st);

	struct out_stats os;
	out_get_stats(e->out, &os);
	static const char *const ds[OUT_DS_MAX] = { "alert", "device", "dns", "stats", "tls" };
	json_t *evs = json_object();
	for (int i = 0; i < OUT_DS_MAX; i++)
		json_object_set_new(evs, ds[i], json_integer((json_int_t)os.emitted[i]));
	json_t *sinks = json_array();
	for (size_t i = 0; i < out_sink_count(e->out); i++) {
		struct out_sink_stats ss;
		if (out_get_sink_stats(e->out, i, &ss) != 0)
			continue;
		json_array_append_new(sinks, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"name", ss.name, "kind", out_sink_at(e->out, i)->ops->kind,
			"delivered", (json_int_t)ss.delivered, "errors", (json_int_t)ss.errors,
			"dropped", (json_int_t)ss.dropped, "spooled", (json_int_t)ss.spooled,
			"replayed", (json_int_t)ss.replayed, "reconnects", (json_int_t)ss.reconnects,
			"spool_bytes", (json_int_t)ss.spool_bytes));
	}
	json_object_set_new(st, "output", json_pack("{s:o,s:I,s:i,s:i,s:o}",
		"events", evs, "queue_dropped", (json_int_t)os.queue_dropped,
		"queue_depth", os.queue_depth, "queue_capacity", os.queue_capacity,
		"sinks", sinks));
	json_object_set_new(o, "stubwatch", json_pack("{s:o}", "stats", st));
	ev_emit(e->out, OUT_DS_STATS, "", o);
}

void eng_finish(struct engine *e)
{
	e->finishing = 1;
	expire_queries(e, e->now, 1);
	for (struct device *d = tbl_next(e->devices, NULL); d != NULL;
	     d = tbl_next(e->devices, d))
		eng_emit_device(e, tbl_key(e->devices, d), d, "exit");
	eng_emit_stats(e, "exit");
}

static int cmp_dev_id(const void *a, const void *b)
{
	const struct device *x = *(struct device *const *)a;
	const struct device *y = *(struct device *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Copies at most n display characters of s, for a table cell. */
static void cell(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i = 0;
	for (; s != NULL && s[i] && i < n && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	out[i] = '\0';
	if (i == 0 && outsz > 1) {
		out[0] = '-';
		out[1] = '\0';
	}
}

void eng_print_summary(struct engine *e, FILE *f)
{
	static const char *const mark[] = { "?", "\u2714", "\u2718" }; /* ? ✔ ✘ */
	uint32_t n = tbl_count(e->devices);
	struct device **list = calloc(n ? n : 1, sizeof(*list));
	if (list == NULL)
		return;
	uint32_t i = 0;
	for (struct device *d = tbl_next(e->devices, NULL); d != NULL && i < n;
	     d = tbl_next(e->devices, d))
		list[i++] = d;
	qsort(list, i, sizeof(*list), cmp_dev_id);

	fprintf(f, "\nstubwatch: %llu packets, %llu DNS queries, %llu responses, %u devices\n\n",
		(unsigned long long)e->c.packets, (unsigned long long)e->c.queries,
		(unsigned long long)e->c.responses, n);
	fprintf(f, "%-17s %-20s %-18s %7s %5s %-24s  %-22s %5s %6s\n", "DEVICE", "VENDOR",
		"HOSTNAME", "QUERIES", "UNANS", "RESOLVERS (queries)",
		"1 2 3 4 5 6 7 8 9 10 11", "SCORE", "ALERTS");
	for (uint32_t j = 0; j < i; j++) {
		struct device *d = list[j];
		struct dctx c;
		eng_dctx(e, d, &c);
		char id[FMT_IP_LEN], vendor[24], host[24], res[64] = "";
		ev_dev_keytext(c.k, id, sizeof(id));
		const char *vn = NULL;
		if (e->oui != NULL && !c.k->by_ip)
			vn = enr_mac_info(e->oui, c.k->mac).vendor;
		cell(vendor, sizeof(vendor), vn, 20);
		cell(host, sizeof(host), d->hostname, 18);
		size_t o = 0;
		for (unsigned r = 0; r < d->nres && o < sizeof(res) - 1; r++) {
			char rip[FMT_IP_LEN];
			fmt_ip(rip, d->res[r].ip);
			int w = snprintf(res + o, sizeof(res) - o, "%s%s(%u)", r ? " " : "", rip,
					 d->res[r].queries);
			if (w < 0)
				break;
			o += (size_t)w;
		}
		/* Keep the column: a long list ends in "+" (the JSON has it all). */
		if (strlen(res) > 24) {
			res[23] = '+';
			res[24] = '\0';
		}
		int lines[11];
		post_lines(e, &c, lines);
		char sc[64] = "";
		int pass = 0, fail = 0;
		o = 0;
		for (int l = 0; l < 11; l++) {
			pass += lines[l] == VERDICT_PASS;
			fail += lines[l] == VERDICT_FAIL;
			o += (size_t)snprintf(sc + o, sizeof(sc) - o, "%s%s", l ? (l >= 9 ? "  " : " ") : "",
					      mark[lines[l] % 3]);
		}
		char score[8] = "-";
		if (pass + fail)
			snprintf(score, sizeof(score), "%.2f", (double)pass / (double)(pass + fail));
		fprintf(f, "%-17s %-20s %-18s %7llu %5llu %-24s  %s  %5s %6d\n", id, vendor, host,
			(unsigned long long)d->c.queries, (unsigned long long)d->c.unanswered,
			res[0] ? res : "-", sc, score, __builtin_popcount(c.dd->alerts.fired));
	}
	fprintf(f, "\nScorecard (\u2714 pass, \u2718 fail, ? not enough evidence): 1 uses the "
		"assigned resolver; 2 encrypted DNS; 3 random ports; 4 random IDs; 5 EDNS(0); "
		"6 TCP fallback; 7 honours TTLs; 8 backs off; 9 IPv6; 10 DNSSEC; 11 MUD.\n");
	free(list);
}
