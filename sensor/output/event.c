/* event.c — ECS JSON for device, DNS and common event fields; Community ID
 * v1 (github.com/corelight/community-id-spec); domain parts from the Public
 * Suffix List (libpsl). */
#include "output/event.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fmt.h"
#include "output/jw.h"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

void ev_observer_init(struct ev_observer *o, const char *name, char *note, size_t notelen)
{
	memset(o, 0, sizeof(*o));
	o->name = name != NULL ? name : "";
	if (gethostname(o->hostname, sizeof(o->hostname) - 1) != 0)
		o->hostname[0] = '\0';
	o->psl = psl_load_file(EV_PSL_FILE);
	if (note != NULL && notelen > 0) {
		note[0] = '\0';
		if (o->psl == NULL)
			snprintf(note, notelen, "%s: cannot read the Public Suffix List (Debian "
				 "package publicsuffix): dns.question.registered_domain is left out",
				 EV_PSL_FILE);
	}
}

void ev_observer_free(struct ev_observer *o)
{
	if (o->psl != NULL)
		psl_free(o->psl);
	o->psl = NULL;
}

/* Writes a comma-separated list of words as an array. */
static void jw_words(struct jw *w, const char *key, const char *list)
{
	jw_arr(w, key);
	while (list != NULL && *list) {
		const char *c = strchr(list, ',');
		size_t n = c != NULL ? (size_t)(c - list) : strlen(list);
		jw_strn(w, NULL, list, n);
		list = c != NULL ? c + 1 : NULL;
	}
	jw_end(w);
}

void ev_jw_head(struct jw *w, uint64_t ts_us, const char *kind, const char *dataset,
		const char *categories, const char *types)
{
	jw_obj(w, NULL);
	jw_time_text(w, "@timestamp", ts_us);
	jw_obj(w, "ecs");
	jw_str(w, "version", EV_ECS_VERSION);
	jw_end(w);
	jw_obj(w, "event");
	jw_str(w, "kind", kind);
	jw_str(w, "module", "stubwatch");
	jw_str(w, "dataset", dataset);
	jw_words(w, "category", categories);
	jw_words(w, "type", types);
}

void ev_jw_observer(struct jw *w, const struct ev_observer *obs, int packet)
{
	jw_obj(w, "observer");
	jw_str(w, "name", obs != NULL && obs->name != NULL ? obs->name : "");
	if (obs != NULL && obs->hostname[0])
		jw_str(w, "hostname", obs->hostname);
	jw_str(w, "type", "sensor");
	jw_str(w, "vendor", "stubwatch");
	jw_str(w, "product", "stubwatch");
	jw_str(w, "version", SW_VERSION);
	if (packet && obs != NULL && obs->iface != NULL) {
		jw_obj(w, "ingress");
		jw_obj(w, "interface");
		jw_str(w, "name", obs->iface);
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
}

json_t *ev_base(uint64_t ts_us, const char *kind, const char *dataset,
		const struct ev_observer *obs)
{
	char ts[FMT_TIME_LEN];
	fmt_time(ts, ts_us);
	json_t *o = json_object();
	json_object_set_new(o, "@timestamp", json_string(ts));
	json_object_set_new(o, "ecs", json_pack("{s:s}", "version", EV_ECS_VERSION));
	json_object_set_new(o, "event", json_pack("{s:s,s:s,s:s,s:[s],s:[s]}", "kind", kind,
						  "module", "stubwatch", "dataset", dataset,
						  "category", "network", "type", "info"));
	json_t *ob = json_pack("{s:s}", "name", obs != NULL && obs->name != NULL ? obs->name : "");
	if (obs != NULL && obs->hostname[0])
		json_object_set_new(ob, "hostname", json_string(obs->hostname));
	json_object_set_new(ob, "type", json_string("sensor"));
	json_object_set_new(ob, "vendor", json_string("stubwatch"));
	json_object_set_new(ob, "product", json_string("stubwatch"));
	json_object_set_new(ob, "version", json_string(SW_VERSION));
	json_object_set_new(o, "observer", ob);
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

void ev_community_id(char out[EV_CID_LEN], const struct ev_flow *f)
{
	/* The tuple in network byte order: seed (0), the lower endpoint's
	 * address then the other's, protocol, a zero pad, the lower endpoint's
	 * port then the other's; "lower" compares addresses, then ports. */
	int v4 = ip_is_v4(f->src_ip) && ip_is_v4(f->dst_ip);
	size_t alen = v4 ? 4 : 16, off = v4 ? 12 : 0;
	const uint8_t *a = f->src_ip + off, *b = f->dst_ip + off;
	uint16_t pa = f->src_port, pb = f->dst_port;
	int c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && pa > pb)) {
		const uint8_t *t = a;
		a = b;
		b = t;
		uint16_t tp = pa;
		pa = pb;
		pb = tp;
	}
	uint8_t buf[2 + 32 + 2 + 4];
	size_t n = 0;
	buf[n++] = 0;
	buf[n++] = 0;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = f->l4;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(pa >> 8);
	buf[n++] = (uint8_t)pa;
	buf[n++] = (uint8_t)(pb >> 8);
	buf[n++] = (uint8_t)pb;
	struct sha1_ctx ctx;
	uint8_t digest[SHA1_DIGEST_SIZE];
	sha1_init(&ctx);
	sha1_update(&ctx, n, buf);
	sha1_digest(&ctx, sizeof(digest), digest);
	memcpy(out, "1:", 2);
	base64_encode_raw((char *)out + 2, sizeof(digest), digest);
	out[2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
}

/* 1 for an address of the site: private, link-local, loopback, multicast
 * (mDNS, LLMNR), unique local IPv6. */
static int site_addr(const uint8_t ip[16])
{
	if (ip_is_v4(ip))
		return ip_v4_site_local(ip + 12) || (ip[12] & 0xf0) == 224 ||
		       (ip[12] == 255 && ip[13] == 255 && ip[14] == 255 && ip[15] == 255);
	static const uint8_t lo[16] = { [15] = 1 };
	return (ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) ||
	       ip[0] == 0xff || memcmp(ip, lo, 16) == 0;
}

const char *ev_direction(const uint8_t src[16], const uint8_t dst[16])
{
	int s = site_addr(src), d = site_addr(dst);
	return s && d ? "internal" : s ? "outbound" : d ? "inbound" : "external";
}

void ev_jw_network(struct jw *w, const struct ev_flow *f, const char *protocol, uint16_t vlan)
{
	if (f == NULL && vlan == 0)
		return;
	jw_obj(w, "network");
	if (f == NULL)
		goto vlan;
	jw_str(w, "type", ip_is_v4(f->src_ip) ? "ipv4" : "ipv6");
	jw_str(w, "transport", f->l4 == 6 ? "tcp" : "udp");
	if (protocol != NULL)
		jw_str(w, "protocol", protocol);
	jw_str(w, "direction", ev_direction(f->src_ip, f->dst_ip));
	char cid[EV_CID_LEN];
	ev_community_id(cid, f);
	jw_str(w, "community_id", cid);
vlan:
	if (vlan != 0) {
		char id[8];
		snprintf(id, sizeof(id), "%u", vlan);
		jw_obj(w, "vlan");
		jw_str(w, "id", id);
		jw_end(w);
	}
	jw_end(w);
}

void ev_jw_domain_parts(struct jw *w, const struct ev_observer *obs, const char *name, size_t len)
{
	if (obs == NULL || obs->psl == NULL || len == 0 || len >= DNS_NAME_TEXT)
		return;
	char low[DNS_NAME_TEXT];
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		low[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	if (low[len - 1] == '.')
		len--;
	low[len] = '\0';
	if (len == 0)
		return;
	const char *reg = psl_registrable_domain(obs->psl, low);
	const char *tld = psl_unregistrable_domain(obs->psl, low);
	if (reg == NULL || tld == NULL || reg == low + len)
		return;
	jw_str(w, "registered_domain", reg);
	if (reg > low + 1)
		jw_strn(w, "subdomain", low, (size_t)(reg - low - 1));
	jw_str(w, "top_level_domain", tld);
}

void ev_jw_host_device(struct jw *w, const struct dev_key *k, const struct device *d,
		       const char *vendor, const char *hostname)
{
	char id[FMT_IP_LEN];
	if (k->by_ip) {
		fmt_ip(id, k->ip);
	} else {
		static const char hex[] = "0123456789ABCDEF";
		for (int i = 0; i < 6; i++) {
			id[3 * i] = hex[k->mac[i] >> 4];
			id[3 * i + 1] = hex[k->mac[i] & 15];
			id[3 * i + 2] = '-';
		}
		id[17] = '\0';
	}
	jw_obj(w, "host");
	jw_str(w, "name", hostname != NULL && hostname[0] ? hostname : id);
	if (hostname != NULL && hostname[0])
		jw_str(w, "hostname", hostname);
	if (!k->by_ip) {
		jw_arr(w, "mac");
		jw_mac_ecs(w, NULL, k->mac);
		jw_end(w);
	}
	if (d != NULL) {
		jw_arr(w, "ip");
		for (unsigned i = 0; i < d->nv4 && i < DEV_MAX_V4; i++) {
			uint8_t ip[16];
			ip_from_v4(ip, d->v4[i]);
			jw_ip_text(w, NULL, ip);
		}
		for (unsigned i = 0; i < d->nv6 && i < DEV_MAX_V6; i++)
			jw_ip_text(w, NULL, d->v6[i]);
		jw_end(w);
	}
	jw_end(w);
	jw_obj(w, "device");
	jw_str(w, "id", id);
	if (vendor != NULL)
		jw_str(w, "manufacturer", vendor);
	jw_end(w);
}

void ev_jw_sw_device(struct jw *w, const struct dev_key *k, const struct device *d,
		     int mac_local)
{
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	jw_obj(w, "device");
	jw_str(w, "key", key);
	jw_str(w, "keyed_by", k->by_ip ? "ip" : "mac");
	if (!k->by_ip)
		jw_mac_text(w, "mac", k->mac);
	jw_uint(w, "vlan", k->vlan);
	if (!k->by_ip && mac_local >= 0)
		jw_bool(w, "mac_locally_administered", mac_local);
	if (d != NULL && d->mud_url[0])
		jw_str(w, "mud_url", d->mud_url);
	if (d != NULL) {
		jw_time_text(w, "first_seen", d->first_seen);
		jw_time_text(w, "last_seen", d->last_seen);
	}
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

/* ECS event.type of a device event: what its reason says happened. */
static const char *device_event_type(const char *reason)
{
	return strcmp(reason, "change") == 0 ? "change" : "info";
}

char *ev_device(uint64_t ts_us, const struct ev_observer *obs, const struct dev_key *k,
		const struct device *d, const char *reason,
		const struct ev_device_extra *x, size_t *len)
{
	struct jw w;
	jw_init(&w, 2048);
	ev_jw_head(&w, ts_us, "asset", "stubwatch.device", "host", device_event_type(reason));
	jw_str(&w, "reason", reason);
	jw_end(&w);
	ev_jw_observer(&w, obs, 0);
	ev_jw_host_device(&w, k, d, x != NULL ? x->vendor : NULL, d->hostname);
	ev_jw_network(&w, NULL, NULL, k->vlan);
	if (!k->by_ip) {
		jw_obj(&w, "source");
		jw_mac_ecs(&w, "mac", k->mac);
		jw_end(&w);
	}
	jw_obj(&w, "stubwatch");
	ev_jw_sw_device(&w, k, d, x != NULL ? x->mac_local : 0);
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

/* ECS event.outcome of a transaction: success for a NOERROR answer, failure
 * for an error code, unknown without an answer. */
static const char *dns_outcome(const struct ev_dns_txn *t)
{
	const struct dns_msg *m = t->msg;
	if (!t->answered || m == NULL || !(m->flags & DNS_F_QR))
		return "unknown";
	return m->rcode == 0 ? "success" : "failure";
}

char *ev_dns(const struct ev_observer *obs, const struct ev_dns_txn *t, size_t *len)
{
	static const char *const protos[] = { "dns", "mdns", "llmnr" };
	struct jw w;
	jw_init(&w, 1024);
	ev_jw_head(&w, t->ts_us, "event", "stubwatch.dns", "network", "protocol");
	jw_str(&w, "outcome", dns_outcome(t));
	jw_end(&w);
	ev_jw_observer(&w, obs, 1);

	jw_obj(&w, "source");
	if (t->client_ip != NULL)
		jw_ip_text(&w, "ip", t->client_ip);
	jw_uint(&w, "port", t->client_port);
	if (t->dev != NULL && !t->dev->by_ip)
		jw_mac_ecs(&w, "mac", t->dev->mac);
	jw_end(&w);
	jw_obj(&w, "destination");
	if (t->server_ip != NULL)
		jw_ip_text(&w, "ip", t->server_ip);
	jw_uint(&w, "port", t->server_port);
	jw_end(&w);
	if (t->client_ip != NULL && t->server_ip != NULL) {
		struct ev_flow f = { t->client_ip, t->server_ip, t->client_port, t->server_port,
				     t->transport == TRANS_TCP ? 6 : 17 };
		ev_jw_network(&w, &f, protos[t->proto % 3], t->dev != NULL ? t->dev->vlan : 0);
	} else {
		jw_obj(&w, "network");
		jw_str(&w, "transport", t->transport == TRANS_TCP ? "tcp" : "udp");
		jw_str(&w, "protocol", protos[t->proto % 3]);
		jw_end(&w);
	}

	const struct dns_msg *m = t->msg;
	const struct qry *q = t->q;
	int is_resp = m != NULL && (m->flags & DNS_F_QR);
	jw_obj(&w, "dns");
	jw_str(&w, "type", is_resp ? "answer" : "query");
	char id[8];
	if (m != NULL) {
		snprintf(id, sizeof(id), "%u", m->id);
		jw_str(&w, "id", id);
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
			ev_jw_domain_parts(&w, obs, m->qname, m->qname_len);
			jw_end(&w);
		}
		if (is_resp)
			dns_answers(&w, m);
	} else if (q != NULL) {
		snprintf(id, sizeof(id), "%u", t->qid);
		jw_str(&w, "id", id);
		uint8_t opcode = (uint8_t)((q->flags >> 11) & 0xf);
		const char *op = dns_opcode_name(opcode);
		jw_str(&w, "op_code", op != NULL ? op : "UNKNOWN");
		jw_flags(&w, q->flags);
		if (q->has_q) {
			jw_obj(&w, "question");
			jw_str(&w, "name", q->qname);
			jw_type(&w, "type", q->qtype);
			jw_class(&w, "class", q->qclass);
			ev_jw_domain_parts(&w, obs, q->qname, strlen(q->qname));
			jw_end(&w);
		}
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
	/* The client's EDNS(0) is what the guidelines judge: take it from the
	 * query when we saw it, else from the message itself (ECS has no EDNS
	 * fields). */
	if (q != NULL && q->has_opt) {
		jw_obj(&w, "edns");
		jw_uint(&w, "udp_size", q->udp_size);
		jw_bool(&w, "do", q->edns_do);
		jw_end(&w);
	} else if (m != NULL && m->has_opt) {
		edns_of_msg(&w, m);
	}
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
