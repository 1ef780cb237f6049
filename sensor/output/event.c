/* event.c — ECS-shaped JSON for device, DNS and common event fields. */
#include "output/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "output/jw.h"

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

/* The common head of every jw-written event: @timestamp, then the caller
 * writes the event object, then jw_observer(). */
static void jw_head(struct jw *w, uint64_t ts_us)
{
	char ts[FMT_TIME_LEN];
	fmt_time(ts, ts_us);
	jw_obj(w, NULL);
	jw_str(w, "@timestamp", ts);
}

static void jw_observer(struct jw *w, const char *observer)
{
	jw_obj(w, "observer");
	jw_str(w, "name", observer);
	jw_str(w, "product", "stubwatch");
	jw_str(w, "version", SW_VERSION);
	jw_end(w);
}

/* Opens key: {"queries": part, "share": part/whole rounded to 4 decimals,
 * or null without samples (unknown, not 0)}; the caller may add members and
 * closes it. */
static void count_share(struct jw *w, const char *key, uint64_t part, uint64_t whole)
{
	jw_obj(w, key);
	jw_uint(w, "queries", part);
	if (whole == 0)
		jw_null(w, "share");
	else
		jw_real4(w, "share", (double)part / (double)whole);
}

static void device_identity(struct jw *w, const struct dev_key *k, const struct device *d,
			    const struct ev_device_extra *x)
{
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	jw_obj(w, "device");
	jw_str(w, "id", key);
	jw_str(w, "keyed_by", k->by_ip ? "ip" : "mac");
	if (!k->by_ip)
		jw_mac_text(w, "mac", k->mac);
	jw_uint(w, "vlan", k->vlan);
	if (x != NULL && x->vendor != NULL)
		jw_str(w, "vendor", x->vendor);
	else
		jw_null(w, "vendor");
	if (!k->by_ip)
		jw_bool(w, "mac_locally_administered", x != NULL && x->mac_local);
	if (d->hostname[0])
		jw_str(w, "hostname", d->hostname);
	if (d->mud_url[0])
		jw_str(w, "mud_url", d->mud_url);
	jw_arr(w, "ip");
	for (unsigned i = 0; i < d->nv4; i++) {
		uint8_t ip[16];
		ip_from_v4(ip, d->v4[i]);
		jw_ip_text(w, NULL, ip);
	}
	for (unsigned i = 0; i < d->nv6; i++)
		jw_ip_text(w, NULL, d->v6[i]);
	jw_end(w);
	jw_time_text(w, "first_seen", d->first_seen);
	jw_time_text(w, "last_seen", d->last_seen);
	jw_end(w);
}

static const char *assign_source_name(int s)
{
	switch (s) {
	case ASSIGN_DHCP4: return "dhcpv4";
	case ASSIGN_DHCP6: return "dhcpv6";
	case ASSIGN_RA: return "ra";
	case ASSIGN_DNR: return "dnr";
	case ASSIGN_SANCTIONED: return "sanctioned";
	}
	return "unknown";
}

/* Resolvers the network assigned to the device and what its segment offers. */
static void device_assigned(struct jw *w, const struct device *d, const struct ev_device_extra *x)
{
	jw_arr(w, "assigned_resolvers");
	for (unsigned i = 0; i < d->nassigned; i++) {
		jw_obj(w, NULL);
		jw_ip_text(w, "ip", d->assigned[i].ip);
		jw_str(w, "source", assign_source_name(d->assigned[i].source));
		jw_time_text(w, "assigned_at", d->assigned[i].ts);
		jw_end(w);
	}
	jw_end(w);
	if (x == NULL)
		return;
	if (x->designated_from != NULL)
		jw_str(w, "designated_from", x->designated_from);
	const struct segment *s = x->seg;
	if (s == NULL)
		return;
	jw_obj(w, "network");
	jw_bool(w, "dhcp_seen", d->dhcp_seen);
	jw_arr(w, "segment_resolvers");
	for (unsigned i = 0; i < s->nres; i++) {
		jw_obj(w, NULL);
		jw_ip_text(w, "ip", s->res[i].ip);
		jw_str(w, "source", assign_source_name(s->res[i].source));
		jw_end(w);
	}
	jw_end(w);
	jw_bool(w, "ipv6_prefix", s->v6_prefix);
	jw_bool(w, "rdnss", s->rdnss);
	jw_bool(w, "dhcpv6_dns", s->dhcp6_dns);
	jw_bool(w, "dnr", s->dnr);
	jw_bool(w, "ddr", s->ddr);
	jw_end(w);
}

static void device_resolvers(struct jw *w, const struct device *d)
{
	jw_arr(w, "resolvers");
	for (unsigned i = 0; i < d->nres; i++) {
		const struct dev_resolver *r = &d->res[i];
		jw_obj(w, NULL);
		jw_ip_text(w, "ip", r->ip);
		jw_uint(w, "port", r->port);
		jw_str(w, "protocol", "do53");
		jw_arr(w, "transport");
		if (r->transports & TRANS_UDP)
			jw_str(w, NULL, "udp");
		if (r->transports & TRANS_TCP)
			jw_str(w, NULL, "tcp");
		jw_end(w);
		jw_uint(w, "queries", r->queries);
		jw_uint(w, "responses", r->responses);
		jw_time_text(w, "first_seen", r->first_seen);
		jw_time_text(w, "last_seen", r->last_seen);
		jw_end(w);
	}
	jw_end(w);
}

static void device_dns(struct jw *w, const struct device *d)
{
	const struct dev_counts *c = &d->c;
	jw_obj(w, "dns");
	jw_uint(w, "queries", c->queries);
	jw_uint(w, "retransmissions", c->retransmissions);
	jw_uint(w, "responses", c->responses);
	jw_uint(w, "answered", c->answered);
	jw_uint(w, "unanswered", c->unanswered);
	jw_uint(w, "unmatched_responses", c->unmatched);
	jw_obj(w, "transport");
	jw_uint(w, "udp", c->queries_udp);
	jw_uint(w, "tcp", c->queries_tcp);
	jw_end(w);
	jw_obj(w, "qtypes");
	jw_uint(w, "A", c->queries_a);
	jw_uint(w, "AAAA", c->queries_aaaa);
	jw_uint(w, "HTTPS", c->queries_https);
	jw_uint(w, "other", c->queries_other);
	jw_end(w);
	static const char *const rc[6] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					   "NOTIMP", "REFUSED" };
	jw_obj(w, "rcodes");
	for (int i = 0; i < 6; i++)
		jw_uint(w, rc[i], c->rcode[i]);
	jw_uint(w, "other", c->rcode_other);
	jw_end(w);
	jw_uint(w, "truncated_responses", c->truncated);
	jw_uint(w, "fragmented_responses", c->fragmented);

	count_share(w, "edns", c->queries_edns, c->queries);
	jw_arr(w, "udp_sizes");
	for (unsigned i = 0; i < d->nsizes; i++) {
		jw_obj(w, NULL);
		jw_uint(w, "size", d->sizes[i].size);
		jw_uint(w, "count", d->sizes[i].count);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
	count_share(w, "dnssec_ok", c->queries_do, c->queries);
	jw_end(w);
	count_share(w, "aaaa", c->queries_aaaa, c->queries);
	jw_end(w);
	count_share(w, "ipv6_transport", c->queries_v6, c->queries);
	jw_end(w);
	jw_obj(w, "mdns");
	jw_uint(w, "messages", c->mdns);
	jw_end(w);
	jw_obj(w, "llmnr");
	jw_uint(w, "messages", c->llmnr);
	jw_end(w);
	if (c->answered > 0) {
		jw_obj(w, "rtt_ms");
		jw_real4(w, "mean", (double)(c->rtt_sum_us / c->answered) / 1000.0);
		jw_real4(w, "max", (double)c->rtt_max_us / 1000.0);
		jw_end(w);
	} else {
		jw_null(w, "rtt_ms");
	}
	jw_end(w);
}

char *ev_device(uint64_t ts_us, const char *observer, const struct dev_key *k,
		const struct device *d, const char *reason,
		const struct ev_device_extra *x, size_t *len)
{
	struct jw w;
	jw_init(&w, 2048);
	jw_head(&w, ts_us);
	jw_obj(&w, "event");
	jw_str(&w, "kind", "state");
	jw_str(&w, "dataset", "stubwatch.device");
	jw_str(&w, "reason", reason);
	jw_end(&w);
	jw_observer(&w, observer);
	device_identity(&w, k, d, x);
	if (!k->by_ip) {
		jw_obj(&w, "source");
		jw_mac_text(&w, "mac", k->mac);
		jw_end(&w);
	}
	jw_obj(&w, "stubwatch");
	if (x != NULL && x->resolvers_json != NULL)
		jw_raw(&w, "resolvers", x->resolvers_json, strlen(x->resolvers_json));
	else
		device_resolvers(&w, d);
	if (d->res_overflow)
		jw_uint(&w, "resolvers_untracked_queries", d->res_overflow);
	device_assigned(&w, d, x);
	device_dns(&w, d);
	if (x != NULL && x->randomness_json != NULL)
		jw_raw(&w, "randomness", x->randomness_json, strlen(x->randomness_json));
	if (x != NULL && x->modules_json != NULL && x->modules_json[0])
		jw_members(&w, x->modules_json, strlen(x->modules_json));
	if (x != NULL && x->scorecard_json != NULL)
		jw_raw(&w, "scorecard", x->scorecard_json, strlen(x->scorecard_json));
	jw_end(&w);
	jw_end(&w);
	return jw_take(&w, len);
}

static void jw_type(struct jw *w, const char *key, uint16_t type)
{
	const char *n = dns_type_name(type);
	char t[16];
	if (n == NULL) {
		snprintf(t, sizeof(t), "TYPE%u", type);
		n = t;
	}
	jw_str(w, key, n);
}

static void jw_class(struct jw *w, const char *key, uint16_t cls)
{
	const char *n;
	char t[16];
	switch (cls & 0x7fff) {
	case 1: n = "IN"; break;
	case 3: n = "CH"; break;
	case 4: n = "HS"; break;
	case 255: n = "ANY"; break;
	default:
		snprintf(t, sizeof(t), "CLASS%u", cls & 0x7fff);
		n = t;
		break;
	}
	jw_str(w, key, n);
}

static void jw_flags(struct jw *w, uint16_t f)
{
	jw_arr(w, "header_flags");
	if (f & DNS_F_AA) jw_str(w, NULL, "AA");
	if (f & DNS_F_TC) jw_str(w, NULL, "TC");
	if (f & DNS_F_RD) jw_str(w, NULL, "RD");
	if (f & DNS_F_RA) jw_str(w, NULL, "RA");
	if (f & DNS_F_AD) jw_str(w, NULL, "AD");
	if (f & DNS_F_CD) jw_str(w, NULL, "CD");
	jw_end(w);
}

static void jw_rcode(struct jw *w, uint16_t rcode)
{
	const char *n = dns_rcode_name(rcode);
	char t[16];
	if (n == NULL) {
		snprintf(t, sizeof(t), "RCODE%u", rcode);
		n = t;
	}
	jw_str(w, "response_code", n);
}

/* Answers and resolved addresses of a response (ECS dns.answers,
 * dns.resolved_ip). */
static void dns_answers(struct jw *w, const struct dns_msg *m)
{
	char name[DNS_NAME_TEXT];
	char data[2048];
	jw_arr(w, "answers");
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->section != DNS_SEC_AN)
			continue;
		jw_obj(w, NULL);
		if (dns_name_at(m->buf, m->len, rr->name_off, name, sizeof(name), 0, NULL) < 0)
			name[0] = '\0';
		jw_str(w, "name", name);
		jw_type(w, "type", rr->type);
		jw_class(w, "class", rr->rclass);
		jw_uint(w, "ttl", rr->ttl);
		if (dns_rdata_text(m, rr, data, sizeof(data)) >= 0) {
			jw_str(w, "data", data);
		} else {
			/* Long RDATA (a big TXT): its text is at most four bytes per
			 * RDATA byte (\DDD escapes) plus quotes and spaces. */
			size_t big = (size_t)rr->rdlen * 4 + 256;
			char *t = malloc(big);
			if (t != NULL && dns_rdata_text(m, rr, t, big) >= 0)
				jw_str(w, "data", t);
			free(t);
		}
		jw_end(w);
	}
	jw_end(w);
	jw_arr(w, "resolved_ip");
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->section != DNS_SEC_AN)
			continue;
		if ((rr->type == 1 && rr->rdlen == 4) || (rr->type == 28 && rr->rdlen == 16)) {
			uint8_t ip[16];
			if (rr->type == 1)
				ip_from_v4(ip, m->buf + rr->rdata_off);
			else
				memcpy(ip, m->buf + rr->rdata_off, 16);
			jw_ip_text(w, NULL, ip);
		}
	}
	jw_end(w);
}

static void edns_of_msg(struct jw *w, const struct dns_msg *m)
{
	jw_obj(w, "edns");
	jw_uint(w, "udp_size", m->udp_size);
	jw_uint(w, "version", m->edns_version);
	jw_bool(w, "do", m->edns_do);
	jw_arr(w, "options");
	for (unsigned i = 0; i < m->nopts; i++) {
		jw_obj(w, NULL);
		jw_uint(w, "code", m->opts[i].code);
		const char *n = dns_opt_name(m->opts[i].code);
		if (n != NULL)
			jw_str(w, "name", n);
		jw_uint(w, "length", m->opts[i].len);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

char *ev_dns(const char *observer, const struct ev_dns_txn *t, size_t *len)
{
	static const char *const protos[] = { "dns", "mdns", "llmnr" };
	struct jw w;
	jw_init(&w, 1024);
	jw_head(&w, t->ts_us);
	jw_obj(&w, "event");
	jw_str(&w, "kind", "event");
	jw_str(&w, "dataset", "stubwatch.dns");
	jw_arr(&w, "category");
	jw_str(&w, NULL, "network");
	jw_end(&w);
	jw_str(&w, "outcome", t->answered ? "success" : "unknown");
	jw_end(&w);
	jw_observer(&w, observer);

	jw_obj(&w, "source");
	if (t->client_ip != NULL)
		jw_ip_text(&w, "ip", t->client_ip);
	jw_uint(&w, "port", t->client_port);
	if (t->dev != NULL && !t->dev->by_ip)
		jw_mac_text(&w, "mac", t->dev->mac);
	jw_end(&w);
	jw_obj(&w, "destination");
	if (t->server_ip != NULL)
		jw_ip_text(&w, "ip", t->server_ip);
	jw_uint(&w, "port", t->server_port);
	jw_end(&w);
	jw_obj(&w, "network");
	jw_str(&w, "transport", t->transport == TRANS_TCP ? "tcp" : "udp");
	jw_str(&w, "protocol", protos[t->proto % 3]);
	jw_end(&w);

	const struct dns_msg *m = t->msg;
	const struct qry *q = t->q;
	int is_resp = m != NULL && (m->flags & DNS_F_QR);
	jw_obj(&w, "dns");
	jw_str(&w, "type", is_resp ? "answer" : "query");
	if (m != NULL) {
		jw_uint(&w, "id", m->id);
		const char *op = dns_opcode_name(m->opcode);
		jw_str(&w, "op_code", op != NULL ? op : "UNKNOWN");
		jw_flags(&w, m->flags);
		if (is_resp)
			jw_rcode(&w, m->rcode);
		if (m->has_q) {
			jw_obj(&w, "question");
			jw_strn(&w, "name", m->qname, m->qname_len);
			jw_type(&w, "type", m->qtype);
			jw_class(&w, "class", m->qclass);
			jw_end(&w);
		}
		if (is_resp)
			dns_answers(&w, m);
	} else if (q != NULL) {
		jw_uint(&w, "id", t->qid);
		uint8_t opcode = (uint8_t)((q->flags >> 11) & 0xf);
		const char *op = dns_opcode_name(opcode);
		jw_str(&w, "op_code", op != NULL ? op : "UNKNOWN");
		jw_flags(&w, q->flags);
		if (q->has_q) {
			jw_obj(&w, "question");
			jw_str(&w, "name", q->qname);
			jw_type(&w, "type", q->qtype);
			jw_class(&w, "class", q->qclass);
			jw_end(&w);
		}
	}
	/* The client's EDNS(0) is what the guidelines judge: take it from the
	 * query when we saw it, else from the message itself. */
	if (q != NULL && q->has_opt) {
		jw_obj(&w, "edns");
		jw_uint(&w, "udp_size", q->udp_size);
		jw_bool(&w, "do", q->edns_do);
		jw_end(&w);
	} else if (m != NULL && m->has_opt) {
		edns_of_msg(&w, m);
	}
	jw_end(&w);

	jw_obj(&w, "stubwatch");
	jw_bool(&w, "answered", t->answered);
	if (t->answered)
		jw_uint(&w, "rtt_us", t->rtt_us);
	if (q != NULL && q->retries)
		jw_uint(&w, "retransmissions", q->retries);
	if (t->fragmented)
		jw_bool(&w, "fragmented", 1);
	if (m != NULL && m->anomaly)
		jw_str(&w, "anomaly", dns_anomaly_name(m->anomaly));
	jw_end(&w);
	jw_end(&w);
	return jw_take(&w, len);
}

int ev_emit_text(struct out *o, int dataset, const char *key, char *text, size_t len)
{
	if (text == NULL)
		return SW_ENOMEM;
	return out_emit(o, dataset, key, text, len);
}

int ev_emit(struct out *o, int dataset, const char *key, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(obj);
	if (s == NULL)
		return SW_ENOMEM;
	return out_emit(o, dataset, key, s, strlen(s));
}
