/* msg.c — DNS message: header, question, RR sections, OPT/EDNS(0), TTLs.
 * RFC 1035 §4.1, RFC 2181 §8, RFC 2308 (negative caching), RFC 6891
 * (EDNS(0)), RFC 3225 (DO), RFC 7871 (ECS), RFC 7873 (COOKIE), RFC 7828
 * (KEEPALIVE), RFC 7314 (EXPIRE), RFC 8914 (EDE).
 */
#include "dns/dns.h"

#include "common/err.h"
#include "common/rd.h"

#define DNS_HDR_LEN 12        /* RFC 1035 §4.1.1 */
#define DNS_MSG_MAX 65535     /* a DNS message has a 16-bit length (UDP, RFC 1035 §4.2.2) */
#define DNS_T_OPT 41
#define DNS_T_SOA 6
#define DNS_T_ANY 255
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

/* An anomaly that does not stop the parse: kept only when none came first. */
static void msg_note(struct dns_msg *m, int a)
{
	m->anomalies |= (uint16_t)(1u << a);
	if (m->anomaly == DNS_A_NONE)
		m->anomaly = (uint8_t)a;
}

/* The anomaly that stopped the parse: it wins over any noted before. */
static void msg_stop(struct dns_msg *m, int a)
{
	m->anomalies |= (uint16_t)(1u << a);
	m->anomaly = (uint8_t)a;
}

/* Maps a name error to its anomaly; truncation is the caller's kind. */
static int msg_name_anomaly(int rc, int trunc)
{
	switch (rc) {
	case SW_ELOOP: return DNS_A_NAME_LOOP;
	case SW_EMALFORMED: return DNS_A_LABEL_TOO_LONG;
	case SW_ETOOLONG: return DNS_A_NAME_TOO_LONG;
	default: return trunc;
	}
}

/* Is an EDNS option's length one its RFC allows? Unknown codes: any. */
static int msg_opt_len_ok(uint16_t code, const uint8_t *p, uint16_t len)
{
	switch (code) {
	case DNS_OPT_COOKIE:
		/* RFC 7873 §4: client cookie 8, or 8 + server cookie 8..32. */
		return len == 8 || (len >= 16 && len <= 40);
	case DNS_OPT_ECS: {
		/* RFC 7871 §6: FAMILY(2) SOURCE(1) SCOPE(1) then exactly
		 * ceil(SOURCE/8) address octets; SOURCE within the family. */
		if (len < 4)
			return 0;
		uint16_t family = (uint16_t)(p[0] << 8 | p[1]);
		unsigned src = p[2];
		if ((family == 1 && src > 32) || (family == 2 && src > 128))
			return 0;
		return len == 4 + (src + 7) / 8;
	}
	case DNS_OPT_EXPIRE:
		return len == 0 || len == 4;   /* RFC 7314 §2 */
	case DNS_OPT_KEEPALIVE:
		return len == 0 || len == 2;   /* RFC 7828 §3.1 */
	case DNS_OPT_EDE:
		return len >= 2;               /* RFC 8914 §2: INFO-CODE then text */
	default:
		return 1;
	}
}

/* Decodes the OPT pseudo-RR (RFC 6891 §6.1). Only the first OPT of the
 * additional section is decoded; one elsewhere, a second one or one not
 * owned by the root is DNS_A_OPT_BAD (RFC 6891 §6.1.1). */
static void msg_opt(struct dns_msg *m, uint8_t sec, size_t name_off,
		    uint16_t rclass, uint32_t ttl, size_t rdoff, uint16_t rdlen)
{
	const uint8_t *buf = m->buf;
	struct rd o;

	if (sec != DNS_SEC_AR || m->has_opt || buf[name_off] != 0)
		msg_note(m, DNS_A_OPT_BAD);
	if (sec != DNS_SEC_AR || m->has_opt)
		return;
	m->has_opt = 1;
	m->udp_size = rclass;
	/* RFC 6891 §6.1.3: EXTENDED-RCODE(8) VERSION(8) DO(1) Z(15). */
	m->rcode = (uint16_t)((ttl >> 24) << 4 | (m->flags & 0xf));
	m->edns_version = (uint8_t)(ttl >> 16);
	m->edns_do = (uint8_t)((ttl >> 15) & 1);

	rd_init(&o, buf + rdoff, rdlen);
	while (rd_left(&o) > 0) {
		uint16_t code = rd_u16(&o);
		uint16_t olen = rd_u16(&o);
		size_t ooff = rdoff + o.off;
		rd_skip(&o, olen);
		if (o.err) {
			/* RFC 6891 §6.1.2: options must fill RDLEN exactly. */
			msg_note(m, DNS_A_OPT_BAD);
			return;
		}
		if (!msg_opt_len_ok(code, buf + ooff, olen))
			msg_note(m, DNS_A_OPT_BAD);
		if (m->nopts < DNS_MAX_OPTS) {
			struct dns_opt *op = &m->opts[m->nopts++];
			op->code = code;
			op->len = olen;
			op->off = (uint16_t)ooff;
		} else if (m->opts_dropped < UINT8_MAX) {
			m->opts_dropped++;
		}
	}
}

/* Is RDLENGTH possible for the type? Fixed sizes and minimums only: cheap
 * checks on the packet path; the full syntax is checked by
 * dns_rdata_text() when something logs it. */
static int msg_rdlen_ok(uint16_t type, uint16_t rdlen)
{
	switch (type) {
	case 1:  return rdlen == 4;    /* A, RFC 1035 §3.4.1 */
	case 28: return rdlen == 16;   /* AAAA, RFC 3596 §2.2 */
	case 2: case 5: case 12: case 39:
		return rdlen >= 1;     /* NS, CNAME, PTR, DNAME: a name */
	case 15: return rdlen >= 3;    /* MX: preference + name */
	case 16: return rdlen >= 1;    /* TXT: one string at least */
	case 6:  return rdlen >= 22;   /* SOA: two names + 5 x 32 bits */
	case 33: return rdlen >= 7;    /* SRV, RFC 2782: 3 x 16 bits + name */
	case 64: case 65:
		return rdlen >= 3;     /* SVCB/HTTPS, RFC 9460 §2.2 */
	case 43: return rdlen >= 4;    /* DS, RFC 4034 §5.1 */
	case 48: return rdlen >= 4;    /* DNSKEY, RFC 4034 §2.1 */
	case 46: return rdlen >= 19;   /* RRSIG, RFC 4034 §3.1: 18 + signer */
	case 257: return rdlen >= 2;   /* CAA, RFC 8659 §4.1 */
	default: return 1;
	}
}

/* dns_parse() and dns_parse_question(): `all` = 0 stops after the
 * questions. Inlined into each, so that dns_parse(), on every DNS
 * message, tests no flag. */
static inline __attribute__((always_inline)) int msg_parse(const uint8_t *buf, size_t len,
							  struct dns_msg *m, int all)
{
	struct rd r;
	size_t full = len;
	uint16_t counts[4];

	if (len > DNS_MSG_MAX)
		len = DNS_MSG_MAX;
	m->buf = buf;
	m->len = (uint16_t)len;
	m->anomaly = DNS_A_NONE;
	m->anomalies = 0;
	m->has_q = 0;
	m->qtype = 0;
	m->qclass = 0;
	m->qname_len = 0;
	m->qname[0] = '\0';
	m->qname_off = 0;
	m->q_end = 0;
	m->has_opt = 0;
	m->edns_version = 0;
	m->edns_do = 0;
	m->udp_size = 0;
	m->nopts = 0;
	m->opts_dropped = 0;
	m->nrr = 0;
	m->rr_dropped = 0;

	rd_init(&r, buf, len);
	m->id = rd_u16(&r);
	m->flags = rd_u16(&r);
	m->qdcount = rd_u16(&r);
	m->ancount = rd_u16(&r);
	m->nscount = rd_u16(&r);
	m->arcount = rd_u16(&r);
	m->opcode = (uint8_t)((m->flags >> 11) & 0xf);
	m->rcode = m->flags & 0xf;
	if (r.err) {
		msg_stop(m, DNS_A_HDR_TRUNC);
		return SW_ETRUNC;
	}

	/* RFC 1035 §4.1.2. Only the first question is kept; the others are
	 * checked so the RR sections start at the right offset. */
	for (unsigned i = 0; i < m->qdcount; i++) {
		size_t noff = r.off;
		size_t next = 0;
		int rc;
		if (i == 0) {
			rc = dns_name_plain(buf, len, noff, m->qname,
					    sizeof(m->qname), &next);
			if (rc < 0)
				rc = dns_name_at(buf, len, noff, m->qname,
						 sizeof(m->qname), 1, &next);
		} else
			rc = dns_name_skip(buf, len, noff, &next);
		if (rc < 0) {
			msg_stop(m, msg_name_anomaly(rc, DNS_A_QD_TRUNC));
			return 0;
		}
		rd_seek(&r, next);
		uint16_t qtype = rd_u16(&r);
		uint16_t qclass = rd_u16(&r);
		if (r.err) {
			msg_stop(m, DNS_A_QD_TRUNC);
			return 0;
		}
		if (i == 0) {
			m->has_q = 1;
			m->qtype = qtype;
			m->qclass = qclass;
			m->qname_len = (uint16_t)rc;
			m->qname_off = (uint16_t)noff;
			m->q_end = (uint16_t)r.off;
		}
	}
	/* RFC 9619: a standard query holds exactly one question. */
	if (m->opcode == 0 && m->qdcount != 1)
		msg_note(m, DNS_A_QDCOUNT);
	if (!all)
		return 0;

	/* RFC 1035 §4.1.3: answer, authority, additional. */
	counts[DNS_SEC_AN] = m->ancount;
	counts[DNS_SEC_NS] = m->nscount;
	counts[DNS_SEC_AR] = m->arcount;
	for (uint8_t sec = DNS_SEC_AN; sec <= DNS_SEC_AR; sec++) {
		for (unsigned i = 0; i < counts[sec]; i++) {
			size_t noff = r.off;
			size_t next;
			/* Fast path: the owner is the usual pointer to the
			 * question name, already checked (it lies before). */
			if (m->has_q && len - noff >= 2 &&
			    buf[noff] == (0xc0 | m->qname_off >> 8) &&
			    buf[noff + 1] == (m->qname_off & 0xff)) {
				next = noff + 2;
			} else {
				int rc = dns_name_skip(buf, len, noff, &next);
				if (rc < 0) {
					msg_stop(m, msg_name_anomaly(rc, DNS_A_RR_TRUNC));
					return 0;
				}
			}
			rd_seek(&r, next);
			uint16_t type = rd_u16(&r);
			uint16_t rclass = rd_u16(&r);
			uint32_t ttl = rd_u32(&r);
			uint16_t rdlen = rd_u16(&r);
			size_t rdoff = r.off;
			rd_skip(&r, rdlen);   /* RFC 1035 §4.1.3 RDLENGTH */
			if (r.err) {
				msg_stop(m, DNS_A_RR_TRUNC);
				return 0;
			}
			if (type == DNS_T_OPT) {
				msg_opt(m, sec, noff, rclass, ttl, rdoff, rdlen);
				continue;
			}
			if (!msg_rdlen_ok(type, rdlen))
				msg_note(m, DNS_A_RDATA_BAD);
			if (m->nrr >= DNS_MAX_RR) {
				m->rr_dropped++;
				continue;
			}
			struct dns_rr *rr = &m->rr[m->nrr++];
			rr->name_off = (uint16_t)noff;
			rr->type = type;
			rr->rclass = rclass;
			rr->rdlen = rdlen;
			rr->rdata_off = (uint16_t)rdoff;
			rr->section = sec;
			rr->ttl = ttl;
		}
	}
	if (r.off < full)
		msg_note(m, DNS_A_TRAILING);
	return 0;
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m)
{
	return msg_parse(buf, len, m, 1);
}

int dns_parse_question(const uint8_t *buf, size_t len, struct dns_msg *m)
{
	return msg_parse(buf, len, m, 0);
}

/* RFC 2181 §8: a TTL with the top bit set is read as zero. */
static uint32_t msg_ttl(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
}

uint32_t dns_answer_min_ttl(const struct dns_msg *m)
{
	uint32_t min = UINT32_MAX;
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->section == DNS_SEC_AN && msg_ttl(rr->ttl) < min)
			min = msg_ttl(rr->ttl);
	}
	return min;
}

int64_t dns_negative_ttl(const struct dns_msg *m)
{
	if (!(m->flags & DNS_F_QR))
		return -1;
	if (m->rcode == DNS_RCODE_NOERROR) {
		/* NODATA unless an answer of the asked type is there. */
		for (unsigned i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rr[i];
			if (rr->section == DNS_SEC_AN &&
			    (!m->has_q || rr->type == m->qtype || m->qtype == DNS_T_ANY))
				return -1;
		}
	} else if (m->rcode != DNS_RCODE_NXDOMAIN) {
		return -1;
	}
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->section != DNS_SEC_NS || rr->type != DNS_T_SOA)
			continue;
		/* RFC 1035 §3.3.13: MNAME RNAME SERIAL REFRESH RETRY EXPIRE
		 * MINIMUM; the names may be compressed. */
		size_t end = (size_t)rr->rdata_off + rr->rdlen;
		size_t next;
		if (dns_name_skip(m->buf, m->len, rr->rdata_off, &next) < 0 ||
		    dns_name_skip(m->buf, m->len, next, &next) < 0 ||
		    next > end || end - next != 20)
			continue;
		struct rd r;
		rd_init(&r, m->buf, end);
		rd_seek(&r, next + 16);
		uint32_t minimum = msg_ttl(rd_u32(&r));
		if (r.err)
			continue;
		uint32_t ttl = msg_ttl(rr->ttl);
		return minimum < ttl ? minimum : ttl;
	}
	return -1;
}
