/* ra.c — IPv6 Router Advertisement body and options. RFC 4861 §4.2 and
 * §4.6 (RA, link-layer address, prefix information, MTU), RFC 4191 §2.3
 * (route information), RFC 8106 §5 (RDNSS, DNSSL), RFC 9463 §6.1 (DNR).
 */
#include "dhcp/dhcp.h"

#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "dhcp/dhcp_int.h"

static void ra_flag(struct ra_info *out, int a)
{
	dhcp_flag(&out->anomaly, &out->anomalies, a);
}

/* Prefix Information (RFC 4861 §4.6.2): Length is 4. */
static void ra_prefix(struct ra_info *out, struct rd *v, uint8_t olen)
{
	if (olen != 4) {
		ra_flag(out, DHCP_A_OPT_BAD_LEN);
		return;
	}
	if (out->nprefix >= RA_PREFIX_MAX) {
		if (out->prefix_dropped < 255)
			out->prefix_dropped++;
		return;
	}
	struct ra_prefix *x = &out->prefix[out->nprefix++];
	x->len = rd_u8(v);
	x->flags = rd_u8(v);
	x->valid = rd_u32(v);
	x->preferred = rd_u32(v);
	rd_skip(v, 4);
	rd_copy(v, x->prefix, 16);
}

/* Route Information (RFC 4191 §2.3): Length 1, 2 or 3, enough to hold
 * Prefix Length bits of prefix. */
static void ra_route(struct ra_info *out, struct rd *v, uint8_t olen)
{
	uint8_t plen = rd_u8(v);
	uint8_t fl = rd_u8(v);
	uint32_t life = rd_u32(v);
	if (olen > 3 || plen > 128 || (plen > 64 && olen < 3) || (plen > 0 && olen < 2)) {
		ra_flag(out, DHCP_A_OPT_BAD_LEN);
		return;
	}
	if (out->nroute >= RA_ROUTE_MAX) {
		if (out->route_dropped < 255)
			out->route_dropped++;
		return;
	}
	struct ra_route *x = &out->route[out->nroute++];
	x->len = plen;
	x->prf = (uint8_t)(fl >> 3 & 3);
	x->lifetime = life;
	size_t n = rd_left(v);
	rd_copy(v, x->prefix, n < 16 ? n : 16);
}

/* RDNSS (RFC 8106 §5.1): reserved, lifetime, addresses; Length is 3 or
 * more and odd (1 + 2 per address). */
static void ra_rdnss(struct ra_info *out, struct rd *v, uint8_t olen)
{
	if (olen < 3) {
		ra_flag(out, DHCP_A_OPT_BAD_LEN);
		return;
	}
	if (olen % 2 == 0)
		ra_flag(out, DHCP_A_OPT_BAD_LEN);
	rd_skip(v, 2);
	uint32_t life = rd_u32(v);
	while (rd_left(v) >= 16) {
		if (out->nrdnss < DHCP_DNS_MAX) {
			struct ra_rdnss *x = &out->rdnss[out->nrdnss++];
			rd_copy(v, x->addr, 16);
			x->lifetime = life;
		} else {
			rd_skip(v, 16);
			if (out->rdnss_dropped < 255)
				out->rdnss_dropped++;
		}
	}
}

/* DNSSL (RFC 8106 §5.2): reserved, lifetime, uncompressed names, then zero
 * padding to the 8-octet boundary; Length is 2 or more. */
static void ra_dnssl(struct ra_info *out, struct rd *v, uint8_t olen)
{
	if (olen < 2) {
		ra_flag(out, DHCP_A_OPT_BAD_LEN);
		return;
	}
	rd_skip(v, 2);
	uint32_t life = rd_u32(v);
	while (rd_left(v) > 0) {
		size_t at = v->off;
		if (rd_u8(v) == 0)   /* padding starts: §5.2 */
			break;
		rd_seek(v, at);
		char name[DHCP_NAME_TEXT];
		if (dhcp_name(v, name, sizeof(name), 0) != 0) {
			ra_flag(out, DHCP_A_NAME_BAD);
			return;
		}
		if (out->ndnssl < DHCP_SEARCH_MAX) {
			struct ra_dnssl *x = &out->dnssl[out->ndnssl++];
			memcpy(x->name, name, sizeof(name));
			x->lifetime = life;
		} else if (out->dnssl_dropped < 255) {
			out->dnssl_dropped++;
		}
	}
}

/* Encrypted DNS option (RFC 9463 §6.1): priority, lifetime, ADN length and
 * ADN, address length and addresses, SvcParams length and SvcParams, then
 * padding. Only the ADN present (what follows is padding, or a zero Addr
 * Length) is ADN-only mode (§3.1.6). */
static void ra_dnr(struct ra_info *out, struct rd *v)
{
	struct dhcp_dnr tmp;
	struct dhcp_dnr *d = out->ndnr < DHCP_DNR_MAX ? &out->dnr[out->ndnr] : &tmp;
	memset(d, 0, sizeof(*d));
	d->family = 6;
	d->priority = rd_u16(v);
	d->lifetime = rd_u32(v);
	uint16_t adn_len = rd_u16(v);
	struct rd adn;
	rd_sub(v, adn_len, &adn);
	if (v->err || adn_len == 0 || dhcp_name(&adn, d->adn, sizeof(d->adn), 0) != 0 ||
	    rd_left(&adn) != 0)
		goto bad;
	uint16_t alen = rd_left(v) >= 2 ? rd_u16(v) : 0;
	if (alen == 0) {
		d->adn_only = 1;
	} else {
		struct rd a;
		rd_sub(v, alen, &a);
		if (v->err || alen % 16 != 0)
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
		uint16_t slen = rd_u16(v);
		struct rd s;
		rd_sub(v, slen, &s);
		if (v->err)
			goto bad;
		if (dhcp_svcparams(&s, d) != 0)
			ra_flag(out, DHCP_A_SVCPARAM_BAD);
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
	ra_flag(out, DHCP_A_DNR_BAD);
}

int ra_parse(const uint8_t *p, size_t len, struct ra_info *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, p, len);
	/* RFC 4861 §4.2 after type, code, checksum. */
	out->cur_hop_limit = rd_u8(&r);
	out->flags = rd_u8(&r);
	out->router_lifetime = rd_u16(&r);
	out->reachable = rd_u32(&r);
	out->retrans = rd_u32(&r);
	if (r.err) {
		ra_flag(out, DHCP_A_HDR_TRUNC);
		return SW_ETRUNC;
	}
	while (rd_left(&r) > 0) {
		/* §4.6: type, length in units of 8 octets including both. */
		uint8_t type = rd_u8(&r);
		uint8_t olen = rd_u8(&r);
		if (r.err) {
			ra_flag(out, DHCP_A_OPT_TRUNC);
			break;
		}
		if (olen == 0) {   /* §4.6: length 0 is invalid, discard */
			ra_flag(out, DHCP_A_RA_LEN_ZERO);
			break;
		}
		struct rd v;
		rd_sub(&r, (size_t)olen * 8 - 2, &v);
		if (r.err) {
			ra_flag(out, DHCP_A_OPT_TRUNC);
			break;
		}
		switch (type) {
		case 1:   /* Source Link-layer Address, §4.6.1; 6 octets on Ethernet (RFC 2464 §6) */
			if (rd_left(&v) >= 6) {
				rd_copy(&v, out->slla, 6);
				out->has_slla = 1;
			}
			break;
		case 3:
			ra_prefix(out, &v, olen);
			break;
		case 5:   /* MTU, §4.6.4: Length 1 */
			if (olen != 1) {
				ra_flag(out, DHCP_A_OPT_BAD_LEN);
				break;
			}
			rd_skip(&v, 2);
			out->mtu = rd_u32(&v);
			out->has_mtu = 1;
			break;
		case 24:
			ra_route(out, &v, olen);
			break;
		case 25:
			ra_rdnss(out, &v, olen);
			break;
		case 31:
			ra_dnssl(out, &v, olen);
			break;
		case 144:
			ra_dnr(out, &v);
			break;
		default:
			break;
		}
	}
	return 0;
}
