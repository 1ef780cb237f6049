/* lease.c — what the network assigned, into state: resolvers, host names,
 * MUD URLs, and the servers that handed them out.
 *
 * DHCPv4 (RFC 2131, RFC 2132 §3.8 option 6, §3.14 option 12, RFC 4702
 * option 81), DHCPv6 (RFC 8415, RFC 3646 option 23, RFC 4704 option 39),
 * RA (RFC 4861, RFC 8106 RDNSS), DNR in all three (RFC 9463), MUD URLs
 * (RFC 8520 §10). This is the pipeline's step for DHCP and RA messages:
 * parse (dhcp/), record in the device and segment tables (state/), tell
 * the rogue-DHCP detection about new or changed servers (detect/), and
 * emit the device events the change calls for. Which resolvers count as a
 * device's designated set is the detect layer's judgement (detect/assign.c).
 */
#include "pipeline/pipeline_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "dhcp/dhcp.h"

#define PORT_DHCP4_SERVER 67
#define PORT_DHCP4_CLIENT 68
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547

/* Copies text, cut to the field (the fields state why they are that long). */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
	size_t n = strnlen(src, dstsz - 1);
	if (n == 0)
		return;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A server handed out `n` resolvers on a segment: remember them, and tell
 * the rogue-DHCP detection when a second server of the same kind does so, or
 * when a known server's list changes. */
static void server_handed_out(struct engine *e, const struct pkt *p, struct segment *s,
			      int kind, const uint8_t ip[16], const uint8_t (*dns)[16],
			      unsigned n, int source)
{
	int created;
	struct seg_server *v = state_seg_server(s, kind, p->src_mac, ip, p->ts_us, &created);
	for (unsigned i = 0; i < n; i++)
		state_add_assigned(s->res, &s->nres, SEG_MAX_RESOLVERS, dns[i], source, p->ts_us);
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
				state_add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, ip,
					     ASSIGN_DNR, ts);
			state_add_assigned(s->res, &s->nres, SEG_MAX_RESOLVERS, ip, ASSIGN_DNR, ts);
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

/* Counts a parsed DHCP, DHCPv6 or RA message (rc: the parser's result,
 * anomaly: what it noted) and returns its segment, counted too; NULL when
 * the message did not parse. */
static struct segment *counted(struct engine *e, const struct pkt *p, int rc, int anomaly)
{
	struct eng_counts *n = &pl_of(e)->c;
	if (rc != 0) {
		n->dhcp_anom[DHCP_A_HDR_TRUNC]++;
		return NULL;
	}
	if (anomaly)
		n->dhcp_anom[anomaly % DHCP_A_MAX]++;
	return state_segment(&e->st, p->vlan);
}

static void on_dhcp4(struct engine *e, const struct pkt *p)
{
	struct dhcp4_info m;
	pl_of(e)->c.dhcp++;
	int rc = dhcp4_parse(p->payload, p->payload_len, &m);
	struct segment *s = counted(e, p, rc, rc == 0 ? m.anomaly : 0);
	if (s == NULL)
		return;
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
	state_drop_assigned(d, ASSIGN_DHCP4);
	for (unsigned i = 0; i < m.ndns; i++)
		state_add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, dns[i],
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
	pl_of(e)->c.dhcp++;
	int rc = dhcp6_parse(p->payload, p->payload_len, &m);
	struct segment *s = counted(e, p, rc, rc == 0 ? m.anomaly : 0);
	if (s == NULL)
		return;
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
		state_drop_assigned(d, ASSIGN_DHCP6);
	for (unsigned i = 0; i < m.ndns; i++)
		state_add_assigned(d->assigned, &d->nassigned, DEV_MAX_ASSIGNED, m.dns[i],
			     ASSIGN_DHCP6, p->ts_us);
	assign_dnr(d, s, m.dnr, m.ndnr, p->ts_us);
	for (unsigned i = 0; i < m.naddr; i++)
		dev_add_ip(d, m.addr[i].addr);
	if (created)
		eng_emit_device(e, &k, d, "first_seen");
	else
		eng_device_changed(e, &k, d);
}

void lease_ra(struct engine *e, const struct pkt *p)
{
	struct ra_info m;
	int rc = ra_parse(p->payload, p->payload_len, &m);
	struct segment *s = counted(e, p, rc, rc == 0 ? m.anomaly : 0);
	if (s == NULL)
		return;
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

int lease_udp(struct engine *e, const struct pkt *p)
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

