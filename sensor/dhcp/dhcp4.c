/* dhcp4.c — DHCPv4/BOOTP messages: fixed header, options, overload, long
 * options. RFC 951 and RFC 2131 (message), RFC 2132 (options), RFC 3396
 * (long options), RFC 4702 (client FQDN), RFC 8520 (MUD URL), RFC 9463 §5
 * (DNR).
 */
#include "dhcp/dhcp.h"

#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "dhcp/dhcp_int.h"

#define D4_FIXED 236            /* op .. file: RFC 2131 §2, figure 1 */
#define D4_SNAME_OFF 44         /* sname: 64 octets */
#define D4_SNAME_LEN 64
#define D4_FILE_OFF 108         /* file: 128 octets */
#define D4_FILE_LEN 128
#define D4_COOKIE 0x63825363u   /* 99.130.83.99, RFC 2131 §3 */
/* Scratch for one option assembled from several instances (RFC 3396 §5).
 * An Ethernet frame of 1500 octets leaves at most 1500 - 20 - 8 - 240 =
 * 1232 octets of options, plus 192 of sname and file: 2048 holds every
 * unfragmented message; longer values are cut and flagged. */
#define D4_CONCAT_MAX 2048

enum d4_field { D4_OPTIONS = 0, D4_FILE = 1, D4_SNAME = 2 };

/* Where each option code was seen during the first walk. */
struct d4_slot {
	const uint8_t *p;    /* value of the first instance */
	uint16_t len;        /* its length */
	uint16_t total;      /* sum of the lengths of all instances (saturating) */
	uint8_t n;           /* instances, saturating at 255 */
};

struct d4_walk {
	struct dhcp4_info *out;
	struct d4_slot *slot;      /* first walk: record every code */
	int gather;                /* second walk: the code to assemble, or -1 */
	uint8_t *buf;              /* its scratch */
	size_t have;
};

static void d4_flag(struct dhcp4_info *out, int a)
{
	dhcp_flag(&out->anomaly, &out->anomalies, a);
}

/* Walks one option field (RFC 2132 §2: code, length, value; Pad and End
 * have no length). Anomalies are recorded on the first walk only. */
static void d4_walk_field(struct d4_walk *w, const uint8_t *p, size_t len, enum d4_field f)
{
	struct rd r;
	int first = w->slot != NULL;
	int ended = 0;

	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		uint8_t code = rd_u8(&r);
		if (code == 0)          /* Pad, RFC 2132 §3.1 */
			continue;
		if (code == 255) {      /* End, RFC 2132 §3.2 */
			ended = 1;
			break;
		}
		uint8_t n = rd_u8(&r);
		const uint8_t *v = rd_ptr(&r, n);
		if (v == NULL) {
			if (first)
				d4_flag(w->out, DHCP_A_OPT_TRUNC);
			return;
		}
		/* RFC 2131 §4.1: option 52 belongs in the options field; one in
		 * file or sname would point the parse back at itself. */
		if (code == 52 && f != D4_OPTIONS) {
			if (first)
				d4_flag(w->out, DHCP_A_OVERLOAD_LOOP);
			continue;
		}
		if (first) {
			struct d4_slot *s = &w->slot[code];
			if (s->n == 0) {
				s->p = v;
				s->len = n;
			}
			if (s->n < 255)
				s->n++;
			s->total = (uint16_t)(s->total + n < 0xffff ? s->total + n : 0xffff);
		} else if (code == w->gather) {
			size_t room = D4_CONCAT_MAX - w->have;
			size_t k = n < room ? n : room;
			memcpy(w->buf + w->have, v, k);
			w->have += k;
		}
	}
	/* RFC 2131 §4.1: each field in use ends with End. */
	if (!ended && first)
		d4_flag(w->out, DHCP_A_NO_END);
}

/* Walks the fields in RFC 3396 §5 order: options, then file, then sname
 * when option 52 says they carry options. */
static void d4_walk_all(struct d4_walk *w, const uint8_t *p, size_t len, uint8_t overload)
{
	d4_walk_field(w, p + 240, len - 240, D4_OPTIONS);
	if (overload & 1)
		d4_walk_field(w, p + D4_FILE_OFF, D4_FILE_LEN, D4_FILE);
	if (overload & 2)
		d4_walk_field(w, p + D4_SNAME_OFF, D4_SNAME_LEN, D4_SNAME);
}

/* One DNR instance of option 162 (RFC 9463 §5.1). Returns 0 or -1 when its
 * inner lengths lie. */
static int d4_dnr_instance(struct rd *r, struct dhcp_dnr *d)
{
	d->priority = rd_u16(r);
	uint8_t adn_len = rd_u8(r);
	struct rd adn;
	rd_sub(r, adn_len, &adn);
	if (r->err || adn_len == 0)
		return -1;
	if (dhcp_name(&adn, d->adn, sizeof(d->adn), 0) != 0 || rd_left(&adn) != 0)
		return -1;
	d->family = 4;
	if (rd_left(r) == 0) {   /* §5.1: ADN-only mode ends after the ADN */
		d->adn_only = 1;
		return 0;
	}
	uint8_t alen = rd_u8(r);
	struct rd a;
	rd_sub(r, alen, &a);
	/* §5.1: Addr Length is a non-zero multiple of 4. */
	if (r->err || alen == 0 || alen % 4 != 0)
		return -1;
	while (rd_left(&a) >= 4) {
		if (d->naddr < DHCP_DNR_ADDR_MAX)
			rd_copy(&a, d->addr[d->naddr++], 4);
		else {
			rd_skip(&a, 4);
			if (d->addr_dropped < 255)
				d->addr_dropped++;
		}
	}
	return 0;
}

static void d4_dnr(struct dhcp4_info *out, const uint8_t *v, size_t n)
{
	struct rd r;
	rd_init(&r, v, n);
	while (rd_left(&r) > 0) {
		uint16_t ilen = rd_u16(&r);
		struct rd inst;
		rd_sub(&r, ilen, &inst);
		if (r.err) {
			d4_flag(out, DHCP_A_DNR_BAD);
			return;
		}
		struct dhcp_dnr tmp;
		struct dhcp_dnr *d = out->ndnr < DHCP_DNR_MAX ? &out->dnr[out->ndnr] : &tmp;
		memset(d, 0, sizeof(*d));
		if (d4_dnr_instance(&inst, d) != 0) {
			d4_flag(out, DHCP_A_DNR_BAD);
			memset(d, 0, sizeof(*d));
			continue;
		}
		if (!d->adn_only && dhcp_svcparams(&inst, d) != 0)
			d4_flag(out, DHCP_A_SVCPARAM_BAD);
		if (d == &tmp) {
			if (out->dnr_dropped < 255)
				out->dnr_dropped++;
		} else {
			out->ndnr++;
		}
	}
}

/* Client FQDN (RFC 4702 §2): flags, RCODE1, RCODE2, then the name in the
 * canonical wire format when E is set (§2.3.1), else in ASCII (§2.3.2). */
static void d4_fqdn(struct dhcp4_info *out, const uint8_t *v, size_t n)
{
	if (n < 3) {
		d4_flag(out, DHCP_A_OPT_BAD_LEN);
		dhcp_set_bit(out->opt_bad, 81);
		return;
	}
	out->fqdn_flags = v[0];
	if (n == 3)
		return;
	if (v[0] & 0x04) {
		struct rd r;
		rd_init(&r, v + 3, n - 3);
		if (dhcp_name(&r, out->fqdn, sizeof(out->fqdn), 1) != 0 || rd_left(&r) != 0) {
			d4_flag(out, DHCP_A_NAME_BAD);
			dhcp_set_bit(out->opt_bad, 81);
		}
	} else {
		dhcp_text(out->fqdn, sizeof(out->fqdn), v + 3, n - 3);
	}
}

/* Copies up to `max` IPv4 addresses of a list option (RFC 2132 §3.5, §3.8:
 * a non-zero multiple of 4). Returns how many the option held. */
static unsigned d4_addrs(struct dhcp4_info *out, uint8_t code, const uint8_t *v, size_t n,
			 uint8_t (*dst)[4], unsigned max)
{
	if (n < 4 || n % 4 != 0) {
		d4_flag(out, DHCP_A_OPT_BAD_LEN);
		dhcp_set_bit(out->opt_bad, code);
	}
	unsigned k = (unsigned)(n / 4);
	for (unsigned i = 0; i < k && i < max; i++)
		memcpy(dst[i], v + 4 * i, 4);
	return k;
}

/* A fixed-size option must have exactly `want` octets. */
static int d4_fixed(struct dhcp4_info *out, uint8_t code, size_t n, size_t want)
{
	if (n == want)
		return 1;
	d4_flag(out, DHCP_A_OPT_BAD_LEN);
	dhcp_set_bit(out->opt_bad, code);
	return 0;
}

static uint32_t d4_be32(const uint8_t *v)
{
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

/* Decodes the value of one option (already assembled). */
static void d4_option(struct dhcp4_info *out, uint8_t code, const uint8_t *v, size_t n)
{
	unsigned k;
	switch (code) {
	case 3:   /* Router, RFC 2132 §3.5 */
		k = d4_addrs(out, code, v, n, &out->router, 1);
		out->nrouters = (uint8_t)(k < 255 ? k : 255);
		break;
	case 6:   /* Domain Name Server, RFC 2132 §3.8 */
		k = d4_addrs(out, code, v, n, out->dns, DHCP_DNS_MAX);
		out->ndns = (uint8_t)(k < DHCP_DNS_MAX ? k : DHCP_DNS_MAX);
		out->dns_dropped = (uint8_t)(k > DHCP_DNS_MAX ? (k - DHCP_DNS_MAX < 255 ? k - DHCP_DNS_MAX : 255) : 0);
		break;
	case 12:  /* Host Name, RFC 2132 §3.14: minimum length 1 */
		if (n == 0)
			d4_fixed(out, code, n, 1);
		dhcp_text(out->hostname, sizeof(out->hostname), v, n);
		break;
	case 15:  /* Domain Name, RFC 2132 §3.17 */
		dhcp_text(out->domain_name, sizeof(out->domain_name), v, n);
		break;
	case 50:  /* Requested IP Address, RFC 2132 §9.1 */
		if (d4_fixed(out, code, n, 4))
			memcpy(out->requested_ip, v, 4);
		break;
	case 51:  /* IP Address Lease Time, RFC 2132 §9.2 */
		if (d4_fixed(out, code, n, 4))
			out->lease_time = d4_be32(v);
		break;
	case 53:  /* DHCP Message Type, RFC 2132 §9.6 */
		if (d4_fixed(out, code, n, 1))
			out->msg_type = v[0];
		break;
	case 54:  /* Server Identifier, RFC 2132 §9.7 */
		if (d4_fixed(out, code, n, 4))
			memcpy(out->server_id, v, 4);
		break;
	case 55:  /* Parameter Request List, RFC 2132 §9.8 */
		for (size_t i = 0; i < n; i++)
			dhcp_set_bit(out->prl, v[i]);
		out->prl_count = (uint8_t)(n < 255 ? n : 255);
		break;
	case 60:  /* Vendor class identifier, RFC 2132 §9.13 */
		dhcp_text(out->vendor_class, sizeof(out->vendor_class), v, n);
		break;
	case 61:  /* Client-identifier, RFC 2132 §9.14: minimum length 2 */
		if (n < 2)
			d4_fixed(out, code, n, 2);
		out->client_id_len = (uint16_t)n;
		memcpy(out->client_id, v, n < DHCP_ID_MAX ? n : DHCP_ID_MAX);
		break;
	case 81:
		d4_fqdn(out, v, n);
		break;
	case 161: /* MUD URL, RFC 8520 §10 */
		dhcp_text(out->mud_url, sizeof(out->mud_url), v, n);
		break;
	case 162:
		d4_dnr(out, v, n);
		break;
	default:
		break;
	}
}

/* Codes whose values d4_option() reads; the others are only marked seen. */
static int d4_wanted(unsigned code)
{
	switch (code) {
	case 3: case 6: case 12: case 15: case 50: case 51: case 53: case 54:
	case 55: case 60: case 61: case 81: case 161: case 162:
		return 1;
	}
	return 0;
}

int dhcp4_parse(const uint8_t *p, size_t len, struct dhcp4_info *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, p, len);
	/* RFC 2131 §2, figure 1. */
	out->op = rd_u8(&r);
	out->htype = rd_u8(&r);
	out->hlen = rd_u8(&r);
	out->hops = rd_u8(&r);
	out->xid = rd_u32(&r);
	out->secs = rd_u16(&r);
	out->flags = rd_u16(&r);
	rd_copy(&r, out->ciaddr, 4);
	rd_copy(&r, out->yiaddr, 4);
	rd_copy(&r, out->siaddr, 4);
	rd_copy(&r, out->giaddr, 4);
	rd_copy(&r, out->chaddr, 16);
	rd_skip(&r, D4_SNAME_LEN + D4_FILE_LEN);
	if (r.err) {
		d4_flag(out, DHCP_A_HDR_TRUNC);
		return SW_ETRUNC;
	}
	if (out->hlen > 16)   /* chaddr holds 16 octets, RFC 2131 §2 */
		d4_flag(out, DHCP_A_HLEN_BAD);
	/* RFC 1700 hardware type 1 (Ethernet) has 6-octet addresses. */
	out->has_mac = out->htype == 1 && out->hlen == 6;

	/* RFC 2131 §3: the options field starts with the magic cookie. */
	uint32_t cookie = rd_u32(&r);
	if (r.err || cookie != D4_COOKIE) {
		d4_flag(out, DHCP_A_NO_COOKIE);
		return 0;
	}
	out->has_cookie = 1;

	struct d4_slot slot[256];
	memset(slot, 0, sizeof(slot));
	struct d4_walk w = { out, slot, -1, NULL, 0 };
	d4_walk_field(&w, p + 240, len - 240, D4_OPTIONS);

	/* Option overload (RFC 2132 §9.3): 1 file, 2 sname, 3 both. */
	if (slot[52].n > 0) {
		if (slot[52].n != 1 || slot[52].len != 1) {
			d4_flag(out, DHCP_A_OPT_BAD_LEN);
			dhcp_set_bit(out->opt_bad, 52);
		} else if (slot[52].p[0] < 1 || slot[52].p[0] > 3) {
			d4_flag(out, DHCP_A_OVERLOAD_BAD);
			dhcp_set_bit(out->opt_bad, 52);
		} else {
			out->overload = slot[52].p[0];
			if (out->overload & 1)
				d4_walk_field(&w, p + D4_FILE_OFF, D4_FILE_LEN, D4_FILE);
			if (out->overload & 2)
				d4_walk_field(&w, p + D4_SNAME_OFF, D4_SNAME_LEN, D4_SNAME);
		}
	}

	uint8_t buf[D4_CONCAT_MAX];
	for (unsigned code = 1; code < 255; code++) {
		const struct d4_slot *s = &slot[code];
		if (s->n == 0)
			continue;
		dhcp_set_bit(out->opt_seen, code);
		if (!d4_wanted(code))
			continue;
		if (s->n == 1) {
			d4_option(out, (uint8_t)code, s->p, s->len);
			continue;
		}
		/* RFC 3396 §5: instances of one code are concatenated, in
		 * the order of the fields walked, before the value is read. */
		if (s->total > D4_CONCAT_MAX)
			d4_flag(out, DHCP_A_CONCAT_LONG);
		struct d4_walk g = { out, NULL, (int)code, buf, 0 };
		d4_walk_all(&g, p, len, out->overload);
		d4_option(out, (uint8_t)code, buf, g.have);
	}
	return 0;
}

const char *dhcp4_msgtype_name(int type)
{
	switch (type) {
	case 1: return "DISCOVER";
	case 2: return "OFFER";
	case 3: return "REQUEST";
	case 4: return "DECLINE";
	case 5: return "ACK";
	case 6: return "NAK";
	case 7: return "RELEASE";
	case 8: return "INFORM";
	case 9: return "FORCERENEW";        /* RFC 3203 */
	case 10: return "LEASEQUERY";       /* RFC 4388 */
	case 11: return "LEASEUNASSIGNED";
	case 12: return "LEASEUNKNOWN";
	case 13: return "LEASEACTIVE";
	case 14: return "BULKLEASEQUERY";   /* RFC 6926 */
	case 15: return "LEASEQUERYDONE";
	case 16: return "ACTIVELEASEQUERY"; /* RFC 7724 */
	case 17: return "LEASEQUERYSTATUS";
	case 18: return "TLS";
	}
	return NULL;
}
