/* dhcp6.c — DHCPv6 messages and relay layers. RFC 8415 (messages §8-9,
 * options §21), RFC 3646 (DNS servers, domain list), RFC 4704 (client
 * FQDN), RFC 8520 (MUD URL), RFC 9463 §4 (DNR).
 */
#include "dhcp/dhcp.h"

#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "dhcp/dhcp_int.h"

static void d6_flag(struct dhcp6_info *out, int a)
{
	dhcp_flag(&out->anomaly, &out->anomalies, a);
}

/* Reads one option header and carves out its value (RFC 8415 §21.1).
 * Returns 1 with *code and *val set, 0 at the end, -1 when it runs past. */
static int d6_next(struct rd *r, uint16_t *code, struct rd *val)
{
	if (rd_left(r) == 0)
		return 0;
	*code = rd_u16(r);
	uint16_t n = rd_u16(r);
	rd_sub(r, n, val);
	return r->err ? -1 : 1;
}

static void d6_bad_len(struct dhcp6_info *out)
{
	d6_flag(out, DHCP_A_OPT_BAD_LEN);
}

static void d6_copy_id(const struct rd *v, uint8_t *dst, uint16_t *dlen)
{
	*dlen = (uint16_t)v->len;
	memcpy(dst, v->buf, v->len < DHCP_ID_MAX ? v->len : DHCP_ID_MAX);
}

/* IA_NA (RFC 8415 §21.4): IAID, T1, T2, then options; IA Address options
 * (§21.6: address, preferred, valid, options) inside are kept. */
static void d6_ia_na(struct dhcp6_info *out, struct rd *v)
{
	uint32_t iaid = rd_u32(v);
	rd_skip(v, 8);
	if (v->err) {
		d6_bad_len(out);
		return;
	}
	uint16_t code;
	struct rd o;
	int k;
	while ((k = d6_next(v, &code, &o)) > 0) {
		if (code != 5)
			continue;
		struct dhcp6_addr a;
		a.iaid = iaid;
		rd_copy(&o, a.addr, 16);
		a.preferred = rd_u32(&o);
		a.valid = rd_u32(&o);
		if (o.err) {
			d6_bad_len(out);
			continue;
		}
		if (out->naddr < DHCP6_ADDR_MAX)
			out->addr[out->naddr++] = a;
		else if (out->addr_dropped < 255)
			out->addr_dropped++;
	}
	if (k < 0)
		d6_flag(out, DHCP_A_OPT_TRUNC);
}

/* OPTION_V6_DNR (RFC 9463 §4.1): priority, ADN length and ADN, then
 * optionally address length, addresses and SvcParams to the end. */
static void d6_dnr(struct dhcp6_info *out, struct rd *v)
{
	struct dhcp_dnr tmp;
	struct dhcp_dnr *d = out->ndnr < DHCP_DNR_MAX ? &out->dnr[out->ndnr] : &tmp;
	memset(d, 0, sizeof(*d));
	d->family = 6;
	d->priority = rd_u16(v);
	uint16_t adn_len = rd_u16(v);
	struct rd adn;
	rd_sub(v, adn_len, &adn);
	if (v->err || adn_len == 0 || dhcp_name(&adn, d->adn, sizeof(d->adn), 0) != 0 ||
	    rd_left(&adn) != 0)
		goto bad;
	if (rd_left(v) == 0) {
		d->adn_only = 1;   /* §4.1: the option ends after the ADN */
	} else {
		uint16_t alen = rd_u16(v);
		struct rd a;
		rd_sub(v, alen, &a);
		/* §4.1: Addr Length is a non-zero multiple of 16. */
		if (v->err || alen == 0 || alen % 16 != 0)
			goto bad;
		while (rd_left(&a) >= 16) {
			if (d->naddr < DHCP_DNR_ADDR_MAX)
				rd_copy(&a, d->addr[d->naddr++], 16);
			else {
				rd_skip(&a, 16);
				if (d->addr_dropped < 255)
					d->addr_dropped++;
			}
		}
		if (dhcp_svcparams(v, d) != 0)
			d6_flag(out, DHCP_A_SVCPARAM_BAD);
	}
	if (d == &tmp) {
		if (out->dnr_dropped < 255)
			out->dnr_dropped++;
	} else {
		out->ndnr++;
	}
	return;
bad:
	memset(d, 0, sizeof(*d));
	d6_flag(out, DHCP_A_DNR_BAD);
}

/* The options of a client/server message (RFC 8415 §21). */
static void d6_options(struct dhcp6_info *out, struct rd *r)
{
	uint16_t code;
	struct rd v;
	int k;
	while ((k = d6_next(r, &code, &v)) > 0) {
		dhcp_set_bit(out->opt_seen, code);
		switch (code) {
		case 1:   /* Client Identifier, §21.2 */
			d6_copy_id(&v, out->client_duid, &out->client_duid_len);
			break;
		case 2:   /* Server Identifier, §21.3 */
			d6_copy_id(&v, out->server_duid, &out->server_duid_len);
			break;
		case 3:
			d6_ia_na(out, &v);
			break;
		case 6:   /* Option Request, §21.7: a list of 16-bit codes */
			if (v.len % 2 != 0)
				d6_bad_len(out);
			while (rd_left(&v) >= 2) {
				dhcp_set_bit(out->oro, rd_u16(&v));
				if (out->oro_count < 255)
					out->oro_count++;
			}
			break;
		case 23:  /* DNS Recursive Name Server, RFC 3646 §3 */
			if (v.len % 16 != 0)
				d6_bad_len(out);
			while (rd_left(&v) >= 16) {
				if (out->ndns < DHCP_DNS_MAX)
					rd_copy(&v, out->dns[out->ndns++], 16);
				else {
					rd_skip(&v, 16);
					if (out->dns_dropped < 255)
						out->dns_dropped++;
				}
			}
			break;
		case 24:  /* Domain Search List, RFC 3646 §4: uncompressed names */
			while (rd_left(&v) > 0) {
				char name[DHCP_NAME_TEXT];
				if (dhcp_name(&v, name, sizeof(name), 0) != 0) {
					d6_flag(out, DHCP_A_NAME_BAD);
					break;
				}
				if (out->nsearch < DHCP_SEARCH_MAX)
					memcpy(out->search[out->nsearch++], name, sizeof(name));
				else if (out->search_dropped < 255)
					out->search_dropped++;
			}
			break;
		case 39:  /* Client FQDN, RFC 4704 §4: flags, then a name, maybe partial */
			if (v.len < 1) {
				d6_bad_len(out);
				break;
			}
			out->fqdn_flags = rd_u8(&v);
			if (rd_left(&v) > 0 &&
			    (dhcp_name(&v, out->fqdn, sizeof(out->fqdn), 1) != 0 || rd_left(&v) != 0))
				d6_flag(out, DHCP_A_NAME_BAD);
			break;
		case 112: /* MUD URL, RFC 8520 §10 */
			dhcp_text(out->mud_url, sizeof(out->mud_url), v.buf, v.len);
			break;
		case 144:
			d6_dnr(out, &v);
			break;
		default:
			break;
		}
	}
	if (k < 0)
		d6_flag(out, DHCP_A_OPT_TRUNC);
}

/* Finds the Relay Message option (RFC 8415 §21.10) among a relay's
 * options. Returns 1 and *msg, 0 when absent, -1 when an option runs past. */
static int d6_relay_msg(struct rd *r, struct rd *msg)
{
	uint16_t code;
	struct rd v;
	int k;
	while ((k = d6_next(r, &code, &v)) > 0) {
		if (code == 9) {
			*msg = v;
			return 1;
		}
	}
	return k;
}

/* The relay layers are walked in a loop, not by recursion, so the stack
 * stays flat whatever the input; DHCP6_RELAY_MAX bounds the work. */
int dhcp6_parse(const uint8_t *p, size_t len, struct dhcp6_info *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, p, len);
	for (;;) {
		uint8_t type = rd_u8(&r);
		if (type == DHCP6_RELAY_FORW || type == DHCP6_RELAY_REPL) {
			/* §9: msg-type, hop-count, link-address, peer-address. */
			rd_skip(&r, 1);
			uint8_t link[16], peer[16];
			rd_copy(&r, link, 16);
			rd_copy(&r, peer, 16);
			if (r.err)
				break;
			if (out->relay_type == 0)
				out->relay_type = type;
			memcpy(out->link_addr, link, 16);
			memcpy(out->peer_addr, peer, 16);
			out->msg_type = type;
			if (out->relay_depth == DHCP6_RELAY_MAX) {
				d6_flag(out, DHCP_A_RELAY_DEEP);
				return 0;
			}
			out->relay_depth++;
			struct rd inner;
			int k = d6_relay_msg(&r, &inner);
			if (k <= 0) {
				d6_flag(out, k < 0 ? DHCP_A_OPT_TRUNC : DHCP_A_RELAY_NO_MSG);
				return 0;
			}
			r = inner;
			continue;
		}
		/* §8: msg-type, transaction-id (24 bits), options. */
		uint32_t xid = rd_u24(&r);
		if (r.err)
			break;
		out->msg_type = type;
		out->xid = xid;
		d6_options(out, &r);
		return 0;
	}
	d6_flag(out, DHCP_A_HDR_TRUNC);
	return out->relay_depth == 0 ? SW_ETRUNC : 0;
}

const char *dhcp6_msgtype_name(int type)
{
	switch (type) {
	case 1: return "SOLICIT";
	case 2: return "ADVERTISE";
	case 3: return "REQUEST";
	case 4: return "CONFIRM";
	case 5: return "RENEW";
	case 6: return "REBIND";
	case 7: return "REPLY";
	case 8: return "RELEASE";
	case 9: return "DECLINE";
	case 10: return "RECONFIGURE";
	case 11: return "INFORMATION-REQUEST";
	case 12: return "RELAY-FORW";
	case 13: return "RELAY-REPL";
	case 14: return "LEASEQUERY";       /* RFC 5007 */
	case 15: return "LEASEQUERY-REPLY";
	case 16: return "LEASEQUERY-DONE";  /* RFC 5460 */
	case 17: return "LEASEQUERY-DATA";
	case 18: return "RECONFIGURE-REQUEST"; /* RFC 6977 */
	case 19: return "RECONFIGURE-REPLY";
	case 20: return "DHCPV4-QUERY";     /* RFC 7341 */
	case 21: return "DHCPV4-RESPONSE";
	}
	return NULL;
}
