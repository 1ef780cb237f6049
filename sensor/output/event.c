/* event.c — ECS-shaped JSON for device, DNS and common event fields. */
#include "output/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

json_t *ev_base(uint64_t ts_us, const char *kind, const char *dataset,
		const char *observer)
{
	char ts[FMT_TIME_LEN];
	fmt_time(ts, ts_us);
	json_t *o = json_object();
	json_object_set_new(o, "@timestamp", json_string(ts));
	json_object_set_new(o, "event", json_pack("{s:s,s:s}", "kind", kind,
						  "dataset", dataset));
	json_object_set_new(o, "observer", json_pack("{s:s,s:s,s:s}", "name", observer,
						     "product", "stubwatch",
						     "version", SW_VERSION));
	return o;
}

void ev_set_ip(json_t *obj, const char *key, const uint8_t ip[16])
{
	char t[FMT_IP_LEN];
	fmt_ip(t, ip);
	json_object_set_new(obj, key, json_string(t));
}

void ev_set_mac(json_t *obj, const char *key, const uint8_t mac[6])
{
	char t[FMT_MAC_LEN];
	fmt_mac(t, mac);
	json_object_set_new(obj, key, json_string(t));
}

void ev_dev_keytext(const struct dev_key *k, char *out, size_t outsz)
{
	if (k->by_ip) {
		char t[FMT_IP_LEN];
		fmt_ip(t, k->ip);
		snprintf(out, outsz, "%s", t);
	} else {
		char t[FMT_MAC_LEN];
		fmt_mac(t, k->mac);
		snprintf(out, outsz, "%s", t);
	}
}

/* A share as a number rounded to 4 decimals, or null without samples. */
static json_t *share(uint64_t part, uint64_t whole)
{
	if (whole == 0)
		return json_null();
	double v = (double)part / (double)whole;
	return json_real((double)(int64_t)(v * 10000.0 + 0.5) / 10000.0);
}

static json_t *count_share(uint64_t part, uint64_t whole)
{
	return json_pack("{s:I,s:o}", "queries", (json_int_t)part, "share",
			 share(part, whole));
}

static json_t *device_identity(const struct dev_key *k, const struct device *d)
{
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	json_t *dev = json_object();
	json_object_set_new(dev, "id", json_string(key));
	json_object_set_new(dev, "keyed_by", json_string(k->by_ip ? "ip" : "mac"));
	if (!k->by_ip)
		ev_set_mac(dev, "mac", k->mac);
	json_object_set_new(dev, "vlan", json_integer(k->vlan));
	/* Vendor comes with OUI enrichment; the field is there so consumers
	 * can map it from the start. */
	json_object_set_new(dev, "vendor", json_null());
	json_t *ips = json_array();
	for (unsigned i = 0; i < d->nv4; i++) {
		uint8_t ip[16];
		ip_from_v4(ip, d->v4[i]);
		char t[FMT_IP_LEN];
		fmt_ip(t, ip);
		json_array_append_new(ips, json_string(t));
	}
	for (unsigned i = 0; i < d->nv6; i++) {
		char t[FMT_IP_LEN];
		fmt_ip(t, d->v6[i]);
		json_array_append_new(ips, json_string(t));
	}
	json_object_set_new(dev, "ip", ips);
	char ts[FMT_TIME_LEN];
	fmt_time(ts, d->first_seen);
	json_object_set_new(dev, "first_seen", json_string(ts));
	fmt_time(ts, d->last_seen);
	json_object_set_new(dev, "last_seen", json_string(ts));
	return dev;
}

static json_t *device_resolvers(const struct device *d)
{
	json_t *arr = json_array();
	for (unsigned i = 0; i < d->nres; i++) {
		const struct dev_resolver *r = &d->res[i];
		json_t *o = json_object();
		ev_set_ip(o, "ip", r->ip);
		json_object_set_new(o, "port", json_integer(r->port));
		json_object_set_new(o, "protocol", json_string("do53"));
		json_t *tr = json_array();
		if (r->transports & TRANS_UDP)
			json_array_append_new(tr, json_string("udp"));
		if (r->transports & TRANS_TCP)
			json_array_append_new(tr, json_string("tcp"));
		json_object_set_new(o, "transport", tr);
		json_object_set_new(o, "queries", json_integer(r->queries));
		json_object_set_new(o, "responses", json_integer(r->responses));
		char ts[FMT_TIME_LEN];
		fmt_time(ts, r->first_seen);
		json_object_set_new(o, "first_seen", json_string(ts));
		fmt_time(ts, r->last_seen);
		json_object_set_new(o, "last_seen", json_string(ts));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *device_dns(const struct device *d)
{
	const struct dev_counts *c = &d->c;
	json_t *o = json_object();
	json_object_set_new(o, "queries", json_integer((json_int_t)c->queries));
	json_object_set_new(o, "retransmissions", json_integer((json_int_t)c->retransmissions));
	json_object_set_new(o, "responses", json_integer((json_int_t)c->responses));
	json_object_set_new(o, "answered", json_integer((json_int_t)c->answered));
	json_object_set_new(o, "unanswered", json_integer((json_int_t)c->unanswered));
	json_object_set_new(o, "unmatched_responses", json_integer((json_int_t)c->unmatched));
	json_object_set_new(o, "transport", json_pack("{s:I,s:I}",
		"udp", (json_int_t)c->queries_udp, "tcp", (json_int_t)c->queries_tcp));
	json_object_set_new(o, "qtypes", json_pack("{s:I,s:I,s:I,s:I}",
		"A", (json_int_t)c->queries_a, "AAAA", (json_int_t)c->queries_aaaa,
		"HTTPS", (json_int_t)c->queries_https, "other", (json_int_t)c->queries_other));
	json_object_set_new(o, "rcodes", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"NOERROR", (json_int_t)c->rcode[0], "FORMERR", (json_int_t)c->rcode[1],
		"SERVFAIL", (json_int_t)c->rcode[2], "NXDOMAIN", (json_int_t)c->rcode[3],
		"NOTIMP", (json_int_t)c->rcode[4], "REFUSED", (json_int_t)c->rcode[5],
		"other", (json_int_t)c->rcode_other));
	json_object_set_new(o, "truncated_responses", json_integer((json_int_t)c->truncated));
	json_object_set_new(o, "fragmented_responses", json_integer((json_int_t)c->fragmented));

	json_t *edns = count_share(c->queries_edns, c->queries);
	json_t *sizes = json_array();
	for (unsigned i = 0; i < d->nsizes; i++)
		json_array_append_new(sizes, json_pack("{s:i,s:I}", "size", d->sizes[i].size,
						       "count", (json_int_t)d->sizes[i].count));
	json_object_set_new(edns, "udp_sizes", sizes);
	json_object_set_new(o, "edns", edns);
	json_object_set_new(o, "dnssec_ok", count_share(c->queries_do, c->queries));
	json_object_set_new(o, "aaaa", count_share(c->queries_aaaa, c->queries));
	json_object_set_new(o, "ipv6_transport", count_share(c->queries_v6, c->queries));
	json_object_set_new(o, "mdns", json_pack("{s:I}", "messages", (json_int_t)c->mdns));
	json_object_set_new(o, "llmnr", json_pack("{s:I}", "messages", (json_int_t)c->llmnr));
	if (c->answered > 0)
		json_object_set_new(o, "rtt_ms", json_pack("{s:f,s:f}",
			"mean", (double)(c->rtt_sum_us / c->answered) / 1000.0,
			"max", (double)c->rtt_max_us / 1000.0));
	else
		json_object_set_new(o, "rtt_ms", json_null());
	return o;
}

json_t *ev_device(uint64_t ts_us, const char *observer, const struct dev_key *k,
		  const struct device *d, const char *reason)
{
	json_t *o = ev_base(ts_us, "state", "stubwatch.device", observer);
	json_object_set_new(json_object_get(o, "event"), "reason", json_string(reason));
	json_object_set_new(o, "device", device_identity(k, d));
	if (!k->by_ip) {
		json_t *src = json_object();
		ev_set_mac(src, "mac", k->mac);
		json_object_set_new(o, "source", src);
	}
	json_t *sw = json_object();
	json_object_set_new(sw, "resolvers", device_resolvers(d));
	if (d->res_overflow)
		json_object_set_new(sw, "resolvers_untracked_queries",
				    json_integer((json_int_t)d->res_overflow));
	json_object_set_new(sw, "dns", device_dns(d));
	json_object_set_new(o, "stubwatch", sw);
	return o;
}

static json_t *type_json(uint16_t type)
{
	const char *n = dns_type_name(type);
	if (n != NULL)
		return json_string(n);
	char t[16];
	snprintf(t, sizeof(t), "TYPE%u", type);
	return json_string(t);
}

static json_t *class_json(uint16_t cls)
{
	switch (cls & 0x7fff) {
	case 1: return json_string("IN");
	case 3: return json_string("CH");
	case 4: return json_string("HS");
	case 255: return json_string("ANY");
	}
	char t[16];
	snprintf(t, sizeof(t), "CLASS%u", cls & 0x7fff);
	return json_string(t);
}

static json_t *header_flags(uint16_t f)
{
	json_t *a = json_array();
	if (f & DNS_F_AA) json_array_append_new(a, json_string("AA"));
	if (f & DNS_F_TC) json_array_append_new(a, json_string("TC"));
	if (f & DNS_F_RD) json_array_append_new(a, json_string("RD"));
	if (f & DNS_F_RA) json_array_append_new(a, json_string("RA"));
	if (f & DNS_F_AD) json_array_append_new(a, json_string("AD"));
	if (f & DNS_F_CD) json_array_append_new(a, json_string("CD"));
	return a;
}

static json_t *rcode_json(uint16_t rcode)
{
	const char *n = dns_rcode_name(rcode);
	if (n != NULL)
		return json_string(n);
	char t[16];
	snprintf(t, sizeof(t), "RCODE%u", rcode);
	return json_string(t);
}

/* Answers and resolved addresses of a response (ECS dns.answers,
 * dns.resolved_ip). */
static void dns_answers(json_t *dns, const struct dns_msg *m)
{
	json_t *answers = json_array();
	json_t *resolved = json_array();
	char name[DNS_NAME_TEXT];
	char data[2048];
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->section != DNS_SEC_AN)
			continue;
		json_t *a = json_object();
		if (dns_name_at(m->buf, m->len, rr->name_off, name, sizeof(name), 0, NULL) < 0)
			snprintf(name, sizeof(name), "%s", "");
		json_object_set_new(a, "name", json_string(name));
		json_object_set_new(a, "type", type_json(rr->type));
		json_object_set_new(a, "class", class_json(rr->rclass));
		json_object_set_new(a, "ttl", json_integer(rr->ttl));
		if (dns_rdata_text(m, rr, data, sizeof(data)) >= 0)
			json_object_set_new(a, "data", json_string(data));
		json_array_append_new(answers, a);
		if ((rr->type == 1 && rr->rdlen == 4) || (rr->type == 28 && rr->rdlen == 16)) {
			uint8_t ip[16];
			if (rr->type == 1)
				ip_from_v4(ip, m->buf + rr->rdata_off);
			else
				memcpy(ip, m->buf + rr->rdata_off, 16);
			char t[FMT_IP_LEN];
			fmt_ip(t, ip);
			json_array_append_new(resolved, json_string(t));
		}
	}
	json_object_set_new(dns, "answers", answers);
	json_object_set_new(dns, "resolved_ip", resolved);
}

static json_t *edns_of_msg(const struct dns_msg *m)
{
	json_t *opts = json_array();
	for (unsigned i = 0; i < m->nopts; i++) {
		json_t *o = json_pack("{s:i}", "code", m->opts[i].code);
		const char *n = dns_opt_name(m->opts[i].code);
		if (n != NULL)
			json_object_set_new(o, "name", json_string(n));
		json_object_set_new(o, "length", json_integer(m->opts[i].len));
		json_array_append_new(opts, o);
	}
	return json_pack("{s:i,s:i,s:b,s:o}", "udp_size", m->udp_size, "version",
			 m->edns_version, "do", m->edns_do, "options", opts);
}

json_t *ev_dns(const char *observer, const struct ev_dns_txn *t)
{
	static const char *const protos[] = { "dns", "mdns", "llmnr" };
	json_t *o = ev_base(t->ts_us, "event", "stubwatch.dns", observer);
	json_t *ev = json_object_get(o, "event");
	json_object_set_new(ev, "category", json_pack("[s]", "network"));
	json_object_set_new(ev, "outcome", json_string(t->answered ? "success" : "unknown"));

	json_t *src = json_object();
	if (t->client_ip != NULL)
		ev_set_ip(src, "ip", t->client_ip);
	json_object_set_new(src, "port", json_integer(t->client_port));
	if (t->dev != NULL && !t->dev->by_ip)
		ev_set_mac(src, "mac", t->dev->mac);
	json_object_set_new(o, "source", src);
	json_t *dst = json_object();
	if (t->server_ip != NULL)
		ev_set_ip(dst, "ip", t->server_ip);
	json_object_set_new(dst, "port", json_integer(t->server_port));
	json_object_set_new(o, "destination", dst);
	json_object_set_new(o, "network", json_pack("{s:s,s:s}", "transport",
		t->transport == TRANS_TCP ? "tcp" : "udp", "protocol", protos[t->proto % 3]));

	json_t *dns = json_object();
	const struct dns_msg *m = t->msg;
	const struct qry *q = t->q;
	int is_resp = m != NULL && (m->flags & DNS_F_QR);
	json_object_set_new(dns, "type", json_string(is_resp ? "answer" : "query"));
	if (m != NULL) {
		json_object_set_new(dns, "id", json_integer(m->id));
		json_object_set_new(dns, "op_code", json_string(dns_opcode_name(m->opcode) ?
			dns_opcode_name(m->opcode) : "UNKNOWN"));
		json_object_set_new(dns, "header_flags", header_flags(m->flags));
		if (is_resp)
			json_object_set_new(dns, "response_code", rcode_json(m->rcode));
		if (m->has_q)
			json_object_set_new(dns, "question", json_pack("{s:s,s:o,s:o}",
				"name", m->qname, "type", type_json(m->qtype),
				"class", class_json(m->qclass)));
		if (is_resp)
			dns_answers(dns, m);
	} else if (q != NULL) {
		json_object_set_new(dns, "header_flags", header_flags(q->flags));
		json_object_set_new(dns, "question", json_pack("{s:s,s:o,s:o}",
			"name", q->qname, "type", type_json(q->qtype), "class", class_json(q->qclass)));
	}
	/* The client's EDNS(0) is what the guidelines judge: take it from the
	 * query when we saw it, else from the message itself. */
	if (q != NULL && q->has_opt)
		json_object_set_new(dns, "edns", json_pack("{s:i,s:b}", "udp_size",
			q->udp_size, "do", q->edns_do));
	else if (m != NULL && m->has_opt)
		json_object_set_new(dns, "edns", edns_of_msg(m));
	json_object_set_new(o, "dns", dns);

	json_t *sw = json_object();
	json_object_set_new(sw, "answered", json_boolean(t->answered));
	if (t->answered)
		json_object_set_new(sw, "rtt_us", json_integer((json_int_t)t->rtt_us));
	if (q != NULL && q->retries)
		json_object_set_new(sw, "retransmissions", json_integer(q->retries));
	if (t->fragmented)
		json_object_set_new(sw, "fragmented", json_true());
	if (m != NULL && m->anomaly)
		json_object_set_new(sw, "anomaly", json_string(dns_anomaly_name(m->anomaly)));
	json_object_set_new(o, "stubwatch", sw);
	return o;
}

int ev_emit(struct out *o, int dataset, const char *key, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(obj);
	if (s == NULL)
		return SW_ENOMEM;
	return out_emit(o, dataset, key, s, strlen(s));
}
