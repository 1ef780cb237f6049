/* assign.c — what the network assigned: resolvers, host names, MUD URLs.
 *
 * DHCPv4 (RFC 2131, RFC 2132 §3.8 option 6, §3.14 option 12, RFC 4702
 * option 81), DHCPv6 (RFC 8415, RFC 3646 option 23, RFC 4704 option 39),
 * RA (RFC 4861, RFC 8106 RDNSS), DNR in all three (RFC 9463), MUD URLs
 * (RFC 8520 §10). A device's designated resolvers are the ones its own
 * DHCP/DHCPv6 exchange handed out, the RDNSS of its segment's routers, and
 * the sanctioned list; before its own exchange has been seen (a lease older
 * than the capture), the resolvers handed to other devices on the same
 * segment stand in (DETECTIONS.md, "Resolver discovery and use").
 */
#include "detect/assign.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "detect/engine_int.h"
#include "dhcp/dhcp.h"

#define PORT_DHCP4_SERVER 67
#define PORT_DHCP4_CLIENT 68
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547

struct segment *asg_segment(struct engine *e, uint16_t vlan)
{
	struct segment *s = &e->segs[vlan % SEG_COUNT];
	s->used = 1;
	return s;
}

/* Copies text, cut to the field (the fields state why they are that long). */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
	size_t n = strnlen(src, dstsz - 1);
	if (n == 0)
		return;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Adds ip to a list of assigned resolvers, refreshing its time when there. */
static int add_assigned(struct assigned *list, uint8_t *n, unsigned max,
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

/* A new lease replaces what the same protocol assigned before. */
static void drop_source(struct device *d, int source)
{
	unsigned j = 0;
	for (unsigned i = 0; i < d->nassigned; i++)
		if (d->assigned[i].source != source)
			d->assigned[j++] = d->assigned[i];
	d->nassigned = (uint8_t)j;
}

/* The server entry of a segment for (kind, MAC), created when room. */
static struct seg_server *seg_server(struct segment *s, int kind, const uint8_t mac[6],
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

/* A server handed out `n` resolvers on a segment: remember them, and tell
 * the rogue-DHCP detection when a second server of the same kind does so, or
 * when a known server's list changes. */
static void server_handed_out(struct engine *e, const struct pkt *p, struct segment *s,
			      int kind, const uint8_t ip[16], const uint8_t (*dns)[16],
			      unsigned n, int source)
{
	int created;
	struct seg_server *v = seg_server(s, kind, p->src_mac, ip, p->ts_us, &created);
	for (unsigned i = 0; i < n; i++)
		add_assigned(s->res, &s->nres, SEG_MAX_RESOLVERS, dns[i], source, p->ts_us);
	if (v == NULL)
		return;
	v->last_seen = p->ts_us;
	unsigned keep = n < SEG_SERVER_DNS ? n : SEG_SERVER_DNS;
	if (created) {
		v->ndns = (uint8_t)keep;
		memcpy(v->dns, dns, keep * 16);
		/* With an allowlist, anything not on it is rogue; without one, a
		 * second server of the same kind on the segment is. */
		if (e->nallow_ip + e->nallow_mac > 0) {
			if (!eng_server_allowed(e, v->ip, v->mac))
				post_rogue_server(e, p, v, NULL, 0);
			return;
		}
		for (unsigned i = 0; i < s->nservers; i++) {
			const struct seg_server *o = &s->servers[i];
			if (o != v && o->kind == kind && o->ndns > 0) {
				post_rogue_server(e, p, v, o, 0);
				break;
			}
		}
		return;
	}
	if (keep != v->ndns || memcmp(v->dns, dns, keep * 16) != 0) {
		struct seg_server before = *v;
		v->ndns = (uint8_t)keep;
		memcpy(v->dns, dns, keep * 16);
		post_rogue_server(e, p, v, &before, 1);
	}
}

static void assign_dnr(struct device *d, struct segment *s, const struct dhcp_dnr *dnr,
		       unsigned n, uint64_t ts)
{
	if (n == 0)
		return;
	s->dnr = 1;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < dnr[i].naddr; j++) {
			uint8_t ip[16];
			if (dnr[i].family == 4)
				ip_from_v4(ip, dnr[i].addr[j]);
			else
				memcpy(ip, dnr[i].addr[j], 16);
			if (d != NULL)
				add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, ip,
					     ASSIGN_DNR, ts);
			add_assigned(s->res, &s->nres, SEG_MAX_RESOLVERS, ip, ASSIGN_DNR, ts);
		}
}

/* A DHCP or DHCPv6 client message: the device speaks about itself (its
 * name, its MUD URL). `name_wins`: this name replaces one already known. */
static void client_message(struct engine *e, const struct pkt *p, const char *name,
			   int name_wins, const char *mud_url)
{
	struct dev_key k;
	int created;
	struct device *d = eng_device_for(e, p, 1, &k, &created);
	if (d == NULL)
		return;
	d->dhcp_seen = 1;
	int changed = 0;
	if (name[0] && (name_wins || d->hostname[0] == '\0') &&
	    strncmp(d->hostname, name, sizeof(d->hostname) - 1) != 0) {
		copy_text(d->hostname, sizeof(d->hostname), name);
		changed = 1;
	}
	if (mud_url[0] && strncmp(d->mud_url, mud_url, sizeof(d->mud_url) - 1) != 0) {
		copy_text(d->mud_url, sizeof(d->mud_url), mud_url);
		changed = 1;
	}
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else if (changed)
		eng_device_changed(e, &k, d);
}

static void on_dhcp4(struct engine *e, const struct pkt *p)
{
	struct dhcp4_info m;
	e->c.dhcp++;
	if (dhcp4_parse(p->payload, p->payload_len, &m) != 0) {
		e->c.dhcp_anom[DHCP_A_HDR_TRUNC]++;
		return;
	}
	if (m.anomaly)
		e->c.dhcp_anom[m.anomaly % DHCP_A_MAX]++;
	struct segment *s = asg_segment(e, p->vlan);
	s->dhcp_msgs++;
	if (!m.has_mac || !p->has_mac)
		return;

	struct dev_key k;
	int created;
	if (m.op == 1) {
		/* Client to server: the device speaks about itself. */
		client_message(e, p, m.hostname[0] ? m.hostname : m.fqdn, 1, m.mud_url);
		return;
	}
	if (m.msg_type != DHCP4_OFFER && m.msg_type != DHCP4_ACK)
		return;
	uint8_t srv[16], dns[DHCP_DNS_MAX][16];
	ip_from_v4(srv, memcmp(m.server_id, "\0\0\0\0", 4) ? m.server_id : p->src_ip + 12);
	for (unsigned i = 0; i < m.ndns; i++)
		ip_from_v4(dns[i], m.dns[i]);
	if (m.ndns > 0)
		server_handed_out(e, p, s, SEG_DHCP4, srv, (const uint8_t (*)[16])dns, m.ndns,
				  ASSIGN_DHCP4);
	if (m.msg_type != DHCP4_ACK)
		return; /* an offer is not an assignment until acknowledged */

	/* Server to client: the device is the client hardware address. */
	struct pkt cp = *p;
	memcpy(cp.dst_mac, m.chaddr, 6);
	struct device *d = eng_device_for(e, &cp, 0, &k, &created);
	if (d == NULL)
		return;
	d->dhcp_seen = 1;
	drop_source(d, ASSIGN_DHCP4);
	for (unsigned i = 0; i < m.ndns; i++)
		add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, dns[i],
			     ASSIGN_DHCP4, p->ts_us);
	assign_dnr(d, s, m.dnr, m.ndnr, p->ts_us);
	if (memcmp(m.yiaddr, "\0\0\0\0", 4) != 0) {
		uint8_t ip[16];
		ip_from_v4(ip, m.yiaddr);
		dev_add_ip(d, ip);
	}
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else
		eng_device_changed(e, &k, d);
}

static void on_dhcp6(struct engine *e, const struct pkt *p)
{
	struct dhcp6_info m;
	e->c.dhcp++;
	if (dhcp6_parse(p->payload, p->payload_len, &m) != 0) {
		e->c.dhcp_anom[DHCP_A_HDR_TRUNC]++;
		return;
	}
	if (m.anomaly)
		e->c.dhcp_anom[m.anomaly % DHCP_A_MAX]++;
	struct segment *s = asg_segment(e, p->vlan);
	s->dhcp_msgs++;
	if (!p->has_mac)
		return;
	struct dev_key k;
	int created;
	switch (m.msg_type) {
	case DHCP6_SOLICIT:
	case DHCP6_REQUEST:
	case DHCP6_RENEW:
	case DHCP6_REBIND:
	case DHCP6_INFO_REQ:
		/* An FQDN from DHCPv6 names the device only when DHCPv4 did not. */
		client_message(e, p, m.fqdn, 0, m.mud_url);
		return;
	case DHCP6_ADVERTISE:
	case DHCP6_REPLY:
		break;
	default:
		return;
	}
	if (m.ndns > 0) {
		s->dhcp6_dns = 1;
		server_handed_out(e, p, s, SEG_DHCP6, p->src_ip,
				  (const uint8_t (*)[16])m.dns, m.ndns, ASSIGN_DHCP6);
	}
	if (m.msg_type != DHCP6_REPLY || mac_is_group(p->dst_mac))
		return;
	struct device *d = eng_device_for(e, p, 0, &k, &created);
	if (d == NULL)
		return;
	d->dhcp_seen = 1;
	if (m.ndns > 0)
		drop_source(d, ASSIGN_DHCP6);
	for (unsigned i = 0; i < m.ndns; i++)
		add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, m.dns[i],
			     ASSIGN_DHCP6, p->ts_us);
	assign_dnr(d, s, m.dnr, m.ndnr, p->ts_us);
	for (unsigned i = 0; i < m.naddr; i++)
		dev_add_ip(d, m.addr[i].addr);
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else
		eng_device_changed(e, &k, d);
}

void asg_ra(struct engine *e, const struct pkt *p)
{
	struct ra_info m;
	if (ra_parse(p->payload, p->payload_len, &m) != 0) {
		e->c.dhcp_anom[DHCP_A_HDR_TRUNC]++;
		return;
	}
	if (m.anomaly)
		e->c.dhcp_anom[m.anomaly % DHCP_A_MAX]++;
	struct segment *s = asg_segment(e, p->vlan);
	s->ras++;
	for (unsigned i = 0; i < m.nprefix; i++)
		/* An autonomous, non-link-local prefix: hosts get global IPv6
		 * addresses here (RFC 4862 §5.5.3). */
		if ((m.prefix[i].flags & 0x40) && m.prefix[i].valid > 0 &&
		    !(m.prefix[i].prefix[0] == 0xfe && (m.prefix[i].prefix[1] & 0xc0) == 0x80))
			s->v6_prefix = 1;
	if (m.nrdnss > 0 && p->has_mac) {
		uint8_t dns[DHCP_DNS_MAX][16];
		unsigned n = 0;
		for (unsigned i = 0; i < m.nrdnss; i++)
			if (m.rdnss[i].lifetime > 0)
				memcpy(dns[n++], m.rdnss[i].addr, 16);
		if (n > 0) {
			s->rdnss = 1;
			server_handed_out(e, p, s, SEG_ROUTER, p->src_ip,
					  (const uint8_t (*)[16])dns, n, ASSIGN_RA);
		}
	}
	assign_dnr(NULL, s, m.dnr, m.ndnr, p->ts_us);
}

int asg_udp(struct engine *e, const struct pkt *p)
{
	if ((p->sport == PORT_DHCP4_SERVER && p->dport == PORT_DHCP4_CLIENT) ||
	    (p->sport == PORT_DHCP4_CLIENT && p->dport == PORT_DHCP4_SERVER)) {
		on_dhcp4(e, p);
		return 1;
	}
	if ((p->sport == PORT_DHCP6_CLIENT && p->dport == PORT_DHCP6_SERVER) ||
	    (p->sport == PORT_DHCP6_SERVER && p->dport == PORT_DHCP6_CLIENT)) {
		on_dhcp6(e, p);
		return 1;
	}
	return 0;
}

const char *asg_designated(struct engine *e, const struct dev_key *k,
			   const struct device *d, const uint8_t ip[16], int *yes)
{
	const struct segment *s = &e->segs[k->vlan % SEG_COUNT];
	*yes = 0;
	for (unsigned i = 0; i < d->nassigned; i++)
		if (memcmp(d->assigned[i].ip, ip, 16) == 0) {
			*yes = 1;
			break;
		}
	if (!*yes && e->rules != NULL && rules_is_sanctioned(e->rules, ip))
		*yes = 1;
	/* RDNSS and DNR in RAs speak to every host on the segment; DHCP
	 * answers to other devices stand in only until the device's own lease
	 * has been seen. */
	for (unsigned i = 0; !*yes && i < s->nres; i++)
		if (memcmp(s->res[i].ip, ip, 16) == 0 &&
		    (s->res[i].source == ASSIGN_RA || d->nassigned == 0))
			*yes = 1;
	if (d->nassigned > 0)
		return "device";
	if (s->nres > 0)
		return "segment";
	return e->rules != NULL && e->rules->nsanct > 0 ? "sanctioned" : "none";
}
