/* dns.c — DNS in the pipeline: messages over UDP and TCP to transactions,
 * device counters, detection hooks and transaction events.
 *
 * RFC 1035 §4.2 (DNS over UDP and TCP on port 53), RFC 7766 (DNS over TCP),
 * RFC 6762 (mDNS, 5353), RFC 4795 (LLMNR, 5355). A device's queries carry
 * its MAC as Ethernet source and responses to it carry it as destination
 * (DETECTIONS.md, general rules), so a query is charged to the source MAC
 * and a response to the destination MAC. The QR bit, not the port, says
 * which is which: port 53 on either side makes a packet DNS.
 */
#include "pipeline/pipeline_int.h"

#include <string.h>

#include "common/fmt.h"
#include "output/event.h"

/* Context for one TCP segment's messages. */
struct tcp_ctx {
	struct engine *e;
	const struct pkt *p;
};

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
		.vlan = p->vlan,
		.vlan_outer = p->vlan_outer,
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

/* kp and hash: the sender's device key and its hash (state_device_prefetch);
 * has_dev = 0 when the sender is a group address, which is no device. */
static void on_query(struct engine *e, const struct pkt *p, const struct dns_msg *m,
		     int transport, const struct dev_key *kp, uint32_t hash, int has_dev)
{
	struct eng_counts *n = &pl_of(e)->c;
	n->queries++;
	if (transport == TRANS_TCP)
		n->queries_tcp++;
	struct dev_key k = *kp;
	int created = 0;
	struct device *d = has_dev ? eng_device_at(e, &k, hash, p->ts_us, &created) : NULL;
	if (d == NULL) {
		n->no_device++;
		return;
	}
	int changed = state_device_tags(d, p) && !created;
	changed |= state_device_ip(&e->st, d, p);

	struct qry_key qk;
	state_query_key(&qk, p, 1, m);
	/* Start the loads of the outstanding entry and of the modules'
	 * per-name state together, rather than one cache miss after another. */
	uint32_t qh = state_query_prefetch(&e->st, &qk);
	struct dctx dc;
	eng_dctx(e, d, &dc);
	EACH_MODULE(e, prefetch, p, &dc, m, &qk);
	int qcreated;
	struct qry *q = state_query(&e->st, &qk, qh, p, m, transport, d, &qcreated);
	struct dev_resolver *r;
	changed |= state_count_query(d, p, m, transport, &r);
	post_query(e, p, &dc, m, r, transport, qcreated);
	EACH_MODULE(e, query, p, &dc, m, &qk, q, qcreated);
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else if (changed || d->dirty)
		eng_device_changed(e, &k, d);
}

static void on_response(struct engine *e, const struct pkt *p, const struct dns_msg *m,
			int transport)
{
	struct eng_counts *n = &pl_of(e)->c;
	n->responses++;
	if (transport == TRANS_TCP)
		n->responses_tcp++;
	/* The query first: when it is there it names the device, which saves
	 * the device lookup on the common path. */
	struct qry_key qk;
	struct device *d;
	struct qry *q = state_response(&e->st, p, m, &qk, &d);
	struct dev_key k;
	int created = 0;
	struct dctx dc;
	if (d != NULL) {
		eng_dctx(e, d, &dc);
		EACH_MODULE(e, prefetch_response, p, &dc, q);
		k = *dc.k;
		state_device_seen(&e->st, d, p->ts_us);
	} else {
		d = eng_device_for(e, p, 0, &k, &created);
		if (d == NULL) {
			n->no_device++;
			if (q != NULL)
				state_query_done(&e->st, q);
			return;
		}
		eng_dctx(e, d, &dc);
	}
	state_count_response(d, p, m);
	post_response(e, p, &dc, m, q, transport);
	EACH_MODULE(e, response, p, &dc, m, &qk, q);
	if (q != NULL) {
		uint64_t rtt = state_count_answered(d, q, p->ts_us);
		if (e->cfg->log_dns)
			emit_txn(e, p, &k, q, m, 0, transport, PROTO_DNS, 1, rtt);
		state_query_done(&e->st, q);
	} else {
		d->c.unmatched++;
		n->unmatched++;
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
	struct eng_counts *n = &pl_of(e)->c;
	int resp = (m->flags & DNS_F_QR) != 0;
	if (proto == PROTO_MDNS) {
		n->mdns++;
		n->mdns_responses += resp;
	} else {
		n->llmnr++;
		n->llmnr_responses += resp;
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
	uint16_t id, flags;
	memset(&k, 0, sizeof(k));
	if (proto == PROTO_DNS && dns_peek_header(buf, len, &id, &flags) == 0 &&
	    !(flags & 0x8000) && state_device_key(p, 1, &k)) {
		hash = state_device_prefetch(&e->st, &k);
		has_dev = 1;
	}
	struct eng_counts *n = &pl_of(e)->c;
	struct dns_msg m;
	if (dns_parse(buf, len, &m) != 0) {
		n->dns_short++;
		return;
	}
	/* mDNS responses carry no question (RFC 6762 §6): not an anomaly there. */
	if (m.anomaly && !(proto == PROTO_MDNS && m.anomaly == DNS_A_QDCOUNT))
		n->dns_anom[m.anomaly]++;
	if (proto != PROTO_DNS) {
		on_local(e, p, &m, proto);
		return;
	}
	if (m.flags & DNS_F_QR) {
		on_response(e, p, &m, transport);
	} else {
		/* has_dev = 0: a group sender (state_device_key cleared k). */
		on_query(e, p, &m, transport, &k, hash, has_dev);
	}
}

void pl_dns_udp(struct engine *e, const struct pkt *p, int proto)
{
	pl_of(e)->c.dns_udp_msgs++;
	on_message(e, p, p->payload, p->payload_len, TRANS_UDP, proto);
}

static void tcp_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct tcp_ctx *t = arg;
	pl_of(t->e)->c.dns_tcp_msgs++;
	on_message(t->e, t->p, msg, len, TRANS_TCP, PROTO_DNS);
}

void pl_dns_tcp(struct engine *e, const struct pkt *p)
{
	struct eng_counts *n = &pl_of(e)->c;
	struct tcp_pool *pool = &e->st.pool;
	int dir;
	struct flow *f = state_flow(&e->st, p, &dir);
	if (p->tcp_flags & 0x02) {
		/* SYN: data starts at ISN + 1 (RFC 9293 §3.4). */
		dns_tcp_init(&f->dir[dir], p->tcp_seq + 1, 1);
	}
	if (p->payload_len > 0) {
		int32_t bi = f->buf[dir];
		if (bi < 0)
			bi = tcp_pool_take(pool);
		uint8_t *buf = bi >= 0 ? tcp_pool_buf(pool, bi) : NULL;
		size_t cap = bi >= 0 ? pool->size : 0;
		struct tcp_ctx ctx = { e, p };
		int rc = dns_tcp_feed(&f->dir[dir], p->tcp_seq, p->payload, p->payload_len,
				      buf, cap, tcp_msg, &ctx);
		if (rc & DNS_TCP_GAP)
			n->tcp_gap++;
		if (rc & DNS_TCP_OVERSIZE)
			n->tcp_oversize++;
		if (rc & DNS_TCP_RETRANS)
			n->tcp_retrans++;
		if (rc & DNS_TCP_SKIPPED)
			n->tcp_skipped++;
		/* Keep the buffer only while it holds part of a message. */
		if (bi >= 0 && !dns_tcp_pending(&f->dir[dir])) {
			tcp_pool_give(pool, bi);
			bi = -1;
		}
		f->buf[dir] = bi;
	}
	if (p->tcp_flags & 0x04) {
		/* RST ends the connection at once; FIN lets the other side finish. */
		state_flow_end(&e->st, f);
	} else if (p->tcp_flags & 0x01) {
		f->fin++;
		if (f->fin >= 2)
			state_flow_end(&e->st, f);
	}
}

/* One query timed out (state_expire_queries). */
static void query_expired(void *arg, const struct qry_key *qk, struct qry *q, struct device *d)
{
	struct engine *e = arg;
	pl_of(e)->c.unanswered++;
	if (d == NULL)
		return;
	d->c.unanswered++;
	struct dctx dc;
	eng_dctx(e, d, &dc);
	post_unanswered(e, &dc, qk, q);
	EACH_MODULE(e, unanswered, &dc, qk, q);
	if (!e->cfg->log_dns)
		return;
	struct ev_dns_txn t = {
		.ts_us = q->last_ts + e->cfg->queries_timeout_us,
		.dev = dc.k,
		.client_ip = q->client_ip,
		.server_ip = qk->server,
		.client_port = qk->client_port,
		.server_port = qk->server_port,
		.vlan = d->vlan,
		.vlan_outer = d->vlan_outer,
		.transport = q->transport,
		.proto = PROTO_DNS,
		.q = q,
		.qid = qk->id,
	};
	char key[FMT_IP_LEN];
	ev_dev_keytext(dc.k, key, sizeof(key));
	size_t len;
	char *text = ev_dns(e->observer, &t, &len);
	ev_emit_text(e->out, OUT_DS_DNS, key, text, len);
}

void pl_expire_queries(struct engine *e, uint64_t now, int all)
{
	state_expire_queries(&e->st, now, e->cfg->queries_timeout_us, all, query_expired, e);
}
