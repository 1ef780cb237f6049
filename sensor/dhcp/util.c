/* util.c — DHCP/RA helpers: anomaly names, escaped text, uncompressed names
 * (RFC 1035 §2.3.4, §3.1) and SvcParams of DNR (RFC 9463 §3.1.8, RFC 9460
 * §2.2 and §7, RFC 9461 §5).
 */
#include "dhcp/dhcp.h"

#include "common/err.h"
#include "common/rd.h"
#include "dhcp/dhcp_int.h"

static const char util_hex[] = "0123456789abcdef";

void dhcp_flag(uint8_t *first, uint32_t *all, int a)
{
	if (a <= DHCP_A_NONE || a >= DHCP_A_MAX)
		return;
	if (*first == DHCP_A_NONE)
		*first = (uint8_t)a;
	*all |= 1u << a;
}

size_t dhcp_text(char *out, size_t outsz, const uint8_t *p, size_t n)
{
	size_t o = 0;
	if (outsz == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (b == '\\') {
			if (outsz - o < 3)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (b >= 0x20 && b <= 0x7e) {
			if (outsz - o < 2)
				break;
			out[o++] = (char)b;
		} else {
			if (outsz - o < 5)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = util_hex[b >> 4];
			out[o++] = util_hex[b & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/* Bytes written as themselves in a name's text; the rest are escaped. */
static int util_name_plain(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b >= '0' && b <= '9') || b == '-' || b == '_';
}

/* Text of one label appended at out[*o] with its leading dot when not the
 * first; 0, or SW_EFULL with *o left where it was (so the cut is at a label
 * boundary). */
static int util_put_label(const uint8_t *lab, size_t n, char *out, size_t outsz, size_t *o)
{
	size_t k = *o;
	if (k > 0) {
		if (outsz - k < 2)
			return SW_EFULL;
		out[k++] = '.';
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t b = lab[i];
		size_t need = util_name_plain(b) ? 1 : b == '.' ? 2 : 4;
		if (outsz - k < need + 1)
			return SW_EFULL;
		if (need == 1) {
			out[k++] = (char)b;
		} else if (need == 2) {
			out[k++] = '\\';
			out[k++] = '.';
		} else {
			out[k++] = '\\';
			out[k++] = (char)('0' + b / 100);
			out[k++] = (char)('0' + b / 10 % 10);
			out[k++] = (char)('0' + b % 10);
		}
	}
	*o = k;
	return 0;
}

int dhcp_name(struct rd *r, char *out, size_t outsz, int partial)
{
	size_t o = 0;      /* text written */
	size_t wire = 1;   /* octets of the name, root included */
	int full = 0;      /* the text was cut */

	if (outsz == 0)
		return SW_EINVAL;
	out[0] = '\0';
	for (;;) {
		if (partial && rd_left(r) == 0 && r->err == 0 && wire > 1)
			break;  /* RFC 4702 §2.3.1: a partial name has no root label */
		uint8_t n = rd_u8(r);
		if (r->err)
			return SW_ETRUNC;
		if (n == 0)
			break;
		/* RFC 1035 §4.1.4 pointers (0xc0) and RFC 6891 §5 label types
		 * 0x40/0x80 have no place in an uncompressed name. */
		if (n > 63)
			return SW_EMALFORMED;
		wire += (size_t)n + 1;
		if (wire > 255)  /* RFC 1035 §2.3.4 */
			return SW_ETOOLONG;
		const uint8_t *lab = rd_ptr(r, n);
		if (lab == NULL)
			return SW_ETRUNC;
		if (!full && util_put_label(lab, n, out, outsz, &o) != 0)
			full = 1;
		out[o] = '\0';
	}
	if (o == 0 && wire == 1 && outsz > 1) {
		out[0] = '.';
		out[1] = '\0';
	}
	return 0;
}

/* Appends one alpn id (RFC 9460 §7.1.1) to d->alpn, comma-separated; an id
 * that does not fit is left out whole. */
static void util_alpn_add(struct dhcp_dnr *d, const uint8_t *id, size_t n)
{
	char tmp[DHCP_ALPN_TEXT];
	size_t have = strlen(d->alpn);
	size_t t = dhcp_text(tmp, sizeof(tmp), id, n);
	size_t need = t + (have > 0);
	if (need + 1 > sizeof(d->alpn) - have)
		return;
	if (have > 0)
		d->alpn[have++] = ',';
	memcpy(d->alpn + have, tmp, t + 1);
}

int dhcp_svcparams(struct rd *r, struct dhcp_dnr *d)
{
	int last = -1;
	while (rd_left(r) > 0) {
		uint16_t key = rd_u16(r);
		uint16_t vlen = rd_u16(r);
		struct rd v;
		rd_sub(r, vlen, &v);
		if (r->err)
			return SW_EMALFORMED;
		/* RFC 9460 §2.2: keys in strictly increasing order. */
		if ((int)key <= last)
			return SW_EMALFORMED;
		last = key;
		switch (key) {
		case 1: /* alpn: length-prefixed ids, none empty (§7.1.1) */
			while (rd_left(&v) > 0) {
				uint8_t n = rd_u8(&v);
				const uint8_t *id = rd_ptr(&v, n);
				if (id == NULL || n == 0)
					return SW_EMALFORMED;
				util_alpn_add(d, id, n);
			}
			break;
		case 3: /* port (§7.2) */
			if (vlen != 2)
				return SW_EMALFORMED;
			d->port = rd_u16(&v);
			d->has_port = 1;
			break;
		case 7: /* dohpath (RFC 9461 §5): a URI template, UTF-8 */
			dhcp_text(d->dohpath, sizeof(d->dohpath), v.buf, v.len);
			break;
		default:
			break;
		}
	}
	return 0;
}

const char *dhcp_anomaly_name(int a)
{
	switch (a) {
	case DHCP_A_NONE: return "dhcp_none";
	case DHCP_A_HDR_TRUNC: return "dhcp_hdr_trunc";
	case DHCP_A_NO_COOKIE: return "dhcp_no_cookie";
	case DHCP_A_OPT_TRUNC: return "dhcp_opt_trunc";
	case DHCP_A_NO_END: return "dhcp_no_end";
	case DHCP_A_OPT_BAD_LEN: return "dhcp_opt_bad_len";
	case DHCP_A_OVERLOAD_LOOP: return "dhcp_overload_loop";
	case DHCP_A_OVERLOAD_BAD: return "dhcp_overload_bad";
	case DHCP_A_CONCAT_LONG: return "dhcp_concat_long";
	case DHCP_A_HLEN_BAD: return "dhcp_hlen_bad";
	case DHCP_A_NAME_BAD: return "dhcp_name_bad";
	case DHCP_A_DNR_BAD: return "dhcp_dnr_bad";
	case DHCP_A_SVCPARAM_BAD: return "dhcp_svcparam_bad";
	case DHCP_A_RELAY_DEEP: return "dhcp_relay_deep";
	case DHCP_A_RELAY_NO_MSG: return "dhcp_relay_no_msg";
	case DHCP_A_RA_LEN_ZERO: return "dhcp_ra_len_zero";
	}
	return "dhcp_unknown";
}
