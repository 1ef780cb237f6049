/* test_dns_parse.c — dns_parse() over hand-built messages: one named case per
 * edge (RFC 1035 §4.1, RFC 6891), then EDNS fields, TTL helpers and a
 * never-read-past-the-end sweep over every prefix of a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dns/dns.h"

#define B16(x) (uint8_t)((x) >> 8 & 0xff), (uint8_t)((x) & 0xff)
#define B32(x) B16((x) >> 16), B16((x) & 0xffff)
#define HDR(id, fl, qd, an, ns, ar) B16(id), B16(fl), B16(qd), B16(an), B16(ns), B16(ar)
/* "example.com", 13 octets at offset 12 in every message below. */
#define QN_EX 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define Q_EX_A QN_EX, B16(1), B16(1)
#define PTR_Q 0xc0, 0x0c
#define RRH(type, cls, ttl, rdlen) B16(type), B16(cls), B32(ttl), B16(rdlen)
#define OPT_RR(udp, ext, ver, flags, rdlen) 0, B16(41), B16(udp), (ext), (ver), B16(flags), B16(rdlen)

#define MAXMSG 4096

struct parse_case {
	const char *name;
	const uint8_t *msg;          /* hand-built bytes, or NULL when build is set */
	size_t len;
	size_t (*build)(uint8_t *out);
	int rc;                      /* dns_parse() return */
	int anomaly;                 /* m->anomaly */
	uint16_t nrr;
	uint8_t has_q;
	const char *qname;           /* NULL: not checked */
	uint16_t qclass;             /* 0: not checked */
	uint8_t has_opt;
	uint16_t rr_dropped;
};

static const uint8_t m_hdr_trunc[] = { HDR(1, 0x0100, 1, 0, 0, 0) };
static const uint8_t m_query[] = { HDR(0x1234, 0x0100, 1, 0, 0, 0), Q_EX_A };
static const uint8_t m_status_empty[] = { HDR(7, 0x1000, 0, 0, 0, 0) };
static const uint8_t m_query_no_q[] = { HDR(7, 0x0100, 0, 0, 0, 0) };
static const uint8_t m_qd_past_end[] = { HDR(1, 0x0100, 2, 0, 0, 0), Q_EX_A };
static const uint8_t m_an_past_end[] = {
	HDR(1, 0x8180, 1, 3, 0, 0), Q_EX_A,
	PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1,
};
/* A name that points at itself (offset 12 -> 12). */
static const uint8_t m_ptr_self[] = { HDR(1, 0x0100, 1, 0, 0, 0), 0xc0, 0x0c, B16(1), B16(1) };
/* Answer owner "a" + pointer back to its own start: a loop. */
static const uint8_t m_ptr_loop[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A,
	1, 'a', 0xc0, 29, RRH(1, 1, 60, 4), 192, 0, 2, 1,
};
/* Two names pointing at each other: qname -> answer owner -> qname. */
static const uint8_t m_ptr_loop2[] = {
	HDR(1, 0x8180, 1, 1, 0, 0),
	1, 'a', 0xc0, 20, B16(1), B16(1),
	1, 'b', 0xc0, 12, RRH(1, 1, 60, 4), 192, 0, 2, 1,
};
/* Answer owner pointing forward at a valid name placed after it. */
static const uint8_t m_ptr_fwd[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A,
	0xc0, 45, RRH(1, 1, 60, 4), 192, 0, 2, 1,
	1, 'x', 0,
};
static const uint8_t m_label64[] = {
	HDR(1, 0x0100, 1, 0, 0, 0), 64, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 0, B16(1), B16(1),
};
static const uint8_t m_rdlen_past_end[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A, PTR_Q, RRH(1, 1, 60, 10), 192, 0, 2, 1,
};
static const uint8_t m_a_rdlen5[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A, PTR_Q, RRH(1, 1, 60, 5), 192, 0, 2, 1, 9,
};
static const uint8_t m_opt_bad_len[] = {
	HDR(1, 0x0100, 1, 0, 0, 1), Q_EX_A,
	OPT_RR(1232, 0, 0, 0, 8), B16(10), B16(20), 1, 2, 3, 4,
};
static const uint8_t m_opt_cookie5[] = {
	HDR(1, 0x0100, 1, 0, 0, 1), Q_EX_A,
	OPT_RR(1232, 0, 0, 0, 9), B16(10), B16(5), 1, 2, 3, 4, 5,
};
static const uint8_t m_opt_ecs_bad[] = {
	HDR(1, 0x0100, 1, 0, 0, 1), Q_EX_A,
	/* ECS family 1, source /24 needs 3 address octets, has 4 */
	OPT_RR(1232, 0, 0, 0, 12), B16(8), B16(8), B16(1), 24, 0, 192, 0, 2, 0,
};
static const uint8_t m_opt_twice[] = {
	HDR(1, 0x0100, 1, 0, 0, 2), Q_EX_A,
	OPT_RR(1232, 0, 0, 0, 0), OPT_RR(4096, 0, 0, 0, 0),
};
static const uint8_t m_opt_in_answer[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A, OPT_RR(1232, 0, 0, 0, 0),
};
static const uint8_t m_opt_nonroot[] = {
	HDR(1, 0x0100, 1, 0, 0, 1), Q_EX_A, PTR_Q, B16(41), B16(1232), B32(0), B16(0),
};
static const uint8_t m_unknown_type[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A, PTR_Q, RRH(65280, 1, 60, 3), 1, 2, 3,
};
static const uint8_t m_qd0_response[] = {
	HDR(1, 0x8400, 0, 1, 0, 0), QN_EX, RRH(1, 1, 60, 4), 192, 0, 2, 1,
};
static const uint8_t m_upper[] = {
	HDR(1, 0x0100, 1, 0, 0, 0), 3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E',
	3, 'C', 'O', 'M', 0, B16(1), B16(1),
};
static const uint8_t m_mdns_qu[] = {
	HDR(0, 0x0000, 1, 0, 0, 0), 4, 'h', 'u', 'b', '1', 5, 'l', 'o', 'c', 'a', 'l', 0,
	B16(12), B16(0x8001),
};
static const uint8_t m_trailing[] = { HDR(1, 0x0100, 1, 0, 0, 0), Q_EX_A, 0, 0 };
static const uint8_t m_escape[] = {
	HDR(1, 0x0100, 1, 0, 0, 0), 3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0, B16(1), B16(1),
};
static const uint8_t m_reserved_label[] = {
	HDR(1, 0x0100, 1, 0, 0, 0), 0x80, 1, B16(1), B16(1),
};
static const uint8_t m_owner_trunc[] = {
	HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A, 5, 'a', 'b',
};

/* A name of `total` wire octets at msg[12] out of labels of 63 and a last
 * shorter one: 255 is the RFC 1035 §2.3.4 maximum. */
static size_t build_name(uint8_t *out, size_t total)
{
	const uint8_t hdr[] = { HDR(9, 0x0100, 1, 0, 0, 0) };
	size_t o = sizeof(hdr);
	size_t left = total - 1;   /* the root octet */
	memcpy(out, hdr, o);
	while (left > 0) {
		size_t lab = left - 1 > 63 ? 63 : left - 1;
		out[o++] = (uint8_t)lab;
		memset(out + o, 'a' + (int)(o % 26), lab);
		o += lab;
		left -= lab + 1;
	}
	out[o++] = 0;
	out[o++] = 0;
	out[o++] = 1;
	out[o++] = 0;
	out[o++] = 1;
	return o;
}

static size_t build_name255(uint8_t *out)
{
	return build_name(out, 255);
}

static size_t build_name256(uint8_t *out)
{
	return build_name(out, 256);
}

/* 70 A answers: DNS_MAX_RR kept, the rest counted. */
static size_t build_many(uint8_t *out)
{
	const uint8_t head[] = { HDR(3, 0x8180, 1, 70, 0, 0), Q_EX_A };
	const uint8_t rr[] = { PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1 };
	size_t o = sizeof(head);
	memcpy(out, head, o);
	for (int i = 0; i < 70; i++) {
		memcpy(out + o, rr, sizeof(rr));
		out[o + sizeof(rr) - 1] = (uint8_t)i;
		o += sizeof(rr);
	}
	return o;
}

#define MSG(a) a, sizeof(a), NULL

static struct parse_case parse_cases[] = {
	{ "empty", m_hdr_trunc, 0, NULL, SW_ETRUNC, DNS_A_HDR_TRUNC, 0, 0, NULL, 0, 0, 0 },
	{ "truncated_header", m_hdr_trunc, 11, NULL, SW_ETRUNC, DNS_A_HDR_TRUNC, 0, 0, NULL, 0, 0, 0 },
	{ "query_one_question", MSG(m_query), 0, DNS_A_NONE, 0, 1, "example.com", 1, 0, 0 },
	{ "zero_rr_status", MSG(m_status_empty), 0, DNS_A_NONE, 0, 0, NULL, 0, 0, 0 },
	{ "zero_rr_query_qdcount0", MSG(m_query_no_q), 0, DNS_A_QDCOUNT, 0, 0, NULL, 0, 0, 0 },
	{ "qdcount_past_end", MSG(m_qd_past_end), 0, DNS_A_QD_TRUNC, 0, 1, "example.com", 0, 0, 0 },
	{ "ancount_past_end", MSG(m_an_past_end), 0, DNS_A_RR_TRUNC, 1, 1, NULL, 0, 0, 0 },
	{ "pointer_to_itself", MSG(m_ptr_self), 0, DNS_A_NAME_LOOP, 0, 0, NULL, 0, 0, 0 },
	{ "pointer_loop_self_start", MSG(m_ptr_loop), 0, DNS_A_NAME_LOOP, 0, 1, NULL, 0, 0, 0 },
	{ "pointer_loop_two_names", MSG(m_ptr_loop2), 0, DNS_A_NAME_LOOP, 0, 0, NULL, 0, 0, 0 },
	{ "forward_pointer", MSG(m_ptr_fwd), 0, DNS_A_NAME_LOOP, 0, 1, NULL, 0, 0, 0 },
	{ "label_64", MSG(m_label64), 0, DNS_A_LABEL_TOO_LONG, 0, 0, NULL, 0, 0, 0 },
	{ "label_type_0x80", MSG(m_reserved_label), 0, DNS_A_LABEL_TOO_LONG, 0, 0, NULL, 0, 0, 0 },
	{ "name_255_ok", NULL, 0, build_name255, 0, DNS_A_NONE, 0, 1, NULL, 1, 0, 0 },
	{ "name_256", NULL, 0, build_name256, 0, DNS_A_NAME_TOO_LONG, 0, 0, NULL, 0, 0, 0 },
	{ "rdlength_past_end", MSG(m_rdlen_past_end), 0, DNS_A_RR_TRUNC, 0, 1, NULL, 0, 0, 0 },
	{ "owner_name_truncated", MSG(m_owner_trunc), 0, DNS_A_RR_TRUNC, 0, 1, NULL, 0, 0, 0 },
	{ "a_rdlen_5", MSG(m_a_rdlen5), 0, DNS_A_RDATA_BAD, 1, 1, NULL, 0, 0, 0 },
	{ "opt_option_past_rdata", MSG(m_opt_bad_len), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 1, 0 },
	{ "opt_cookie_len_5", MSG(m_opt_cookie5), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 1, 0 },
	{ "opt_ecs_address_len", MSG(m_opt_ecs_bad), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 1, 0 },
	{ "opt_twice", MSG(m_opt_twice), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 1, 0 },
	{ "opt_in_answer", MSG(m_opt_in_answer), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 0, 0 },
	{ "opt_non_root_owner", MSG(m_opt_nonroot), 0, DNS_A_OPT_BAD, 0, 1, NULL, 0, 1, 0 },
	{ "unknown_type_kept", MSG(m_unknown_type), 0, DNS_A_NONE, 1, 1, NULL, 0, 0, 0 },
	{ "qdcount_0_response", MSG(m_qd0_response), 0, DNS_A_QDCOUNT, 1, 0, NULL, 0, 0, 0 },
	{ "uppercase_qname_lowered", MSG(m_upper), 0, DNS_A_NONE, 0, 1, "www.example.com", 1, 0, 0 },
	{ "mdns_qclass_unicast_bit", MSG(m_mdns_qu), 0, DNS_A_NONE, 0, 1, "hub1.local", 0x8001, 0, 0 },
	{ "trailing_bytes", MSG(m_trailing), 0, DNS_A_TRAILING, 0, 1, NULL, 0, 0, 0 },
	{ "qname_dot_in_label", MSG(m_escape), 0, DNS_A_NONE, 0, 1, "a\\.b.com", 0, 0, 0 },
	{ "more_rr_than_kept", NULL, 0, build_many, 0, DNS_A_NONE, DNS_MAX_RR, 1, NULL, 0, 0, 70 - DNS_MAX_RR },
};

static void run_parse_case(void **state)
{
	const struct parse_case *c = *state;
	static uint8_t tmp[MAXMSG];
	static struct dns_msg m;
	size_t len = c->len;
	const uint8_t *src = c->msg;

	if (c->build != NULL) {
		len = c->build(tmp);
		src = tmp;
	}
	/* Exactly-sized heap copy: ASan catches any read past the end. */
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	if (len)
		memcpy(buf, src, len);
	memset(&m, 0xa5, sizeof(m));   /* dns_parse must not rely on a clean struct */
	int rc = dns_parse(buf, len, &m);
	assert_int_equal(rc, c->rc);
	assert_string_equal(dns_anomaly_name(m.anomaly), dns_anomaly_name(c->anomaly));
	assert_true(m.anomalies & (1u << c->anomaly) || c->anomaly == DNS_A_NONE);
	if (rc == 0) {
		assert_int_equal(m.nrr, c->nrr);
		assert_int_equal(m.has_q, c->has_q);
		assert_int_equal(m.has_opt, c->has_opt);
		assert_int_equal(m.rr_dropped, c->rr_dropped);
		if (c->qname != NULL) {
			assert_string_equal(m.qname, c->qname);
			assert_int_equal(m.qname_len, strlen(c->qname));
		}
		if (c->qclass)
			assert_int_equal(m.qclass, c->qclass);
		for (unsigned i = 0; i < m.nrr; i++)
			assert_true((size_t)m.rr[i].rdata_off + m.rr[i].rdlen <= len);
	}
	free(buf);
}

static void test_name_255_text(void **state)
{
	static uint8_t buf[MAXMSG];
	static struct dns_msg m;
	(void)state;
	size_t len = build_name(buf, 255);
	assert_int_equal(dns_parse(buf, len, &m), 0);
	/* 4 labels: 63 + 63 + 63 + 62 octets of wire, 3 dots in the text. */
	assert_int_equal(m.qname_len, 63 + 63 + 63 + 61 + 3);
	assert_int_equal(strlen(m.qname), m.qname_len);
}

static void test_uppercase_original_case(void **state)
{
	static struct dns_msg m;
	char out[DNS_NAME_TEXT];
	(void)state;
	assert_int_equal(dns_parse(m_upper, sizeof(m_upper), &m), 0);
	assert_int_equal(dns_name_at(m_upper, sizeof(m_upper), m.qname_off, out,
				     sizeof(out), 0, NULL), 15);
	assert_string_equal(out, "WwW.ExAmPlE.COM");
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, 1);
}

static void test_header_fields(void **state)
{
	static const uint8_t msg[] = {
		HDR(0xbeef, 0x85b3, 1, 1, 0, 0), Q_EX_A,
		PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1,
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(msg, sizeof(msg), &m), 0);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.flags, 0x85b3);
	assert_int_equal(m.opcode, 0);
	assert_int_equal(m.rcode, 3);
	assert_true(m.flags & DNS_F_QR);
	assert_true(m.flags & DNS_F_AA);
	assert_true(m.flags & DNS_F_AD);
	assert_int_equal(m.qdcount, 1);
	assert_int_equal(m.ancount, 1);
	assert_int_equal(m.rr[0].section, DNS_SEC_AN);
	assert_int_equal(m.rr[0].name_off, 29);
	assert_int_equal(m.rr[0].rdata_off, 29 + 12);
	assert_int_equal(m.rr[0].ttl, 60);
}

static void test_sections(void **state)
{
	static const uint8_t msg[] = {
		HDR(1, 0x8180, 1, 1, 1, 1), Q_EX_A,
		PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1,
		PTR_Q, RRH(2, 1, 70, 2), PTR_Q,
		2, 'n', 's', PTR_Q, RRH(28, 1, 80, 16),
		0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(msg, sizeof(msg), &m), 0);
	assert_int_equal(m.anomaly, DNS_A_NONE);
	assert_int_equal(m.nrr, 3);
	assert_int_equal(m.rr[0].section, DNS_SEC_AN);
	assert_int_equal(m.rr[1].section, DNS_SEC_NS);
	assert_int_equal(m.rr[2].section, DNS_SEC_AR);
	assert_int_equal(m.rr[2].type, 28);
	assert_int_equal(m.rr[2].name_off, 59);
}

static void test_opt_fields(void **state)
{
	static const uint8_t msg[] = {
		HDR(1, 0x8180, 1, 0, 0, 1), Q_EX_A,
		/* ext rcode 1 -> BADVERS (16) with header rcode 0; version 0, DO */
		OPT_RR(1232, 1, 0, 0x8000, 4 + 8 + 4 + 7 + 4 + 2 + 4 + 3 + 4),
		B16(10), B16(8), 1, 2, 3, 4, 5, 6, 7, 8,        /* COOKIE client */
		B16(8), B16(7), B16(1), 24, 0, 192, 0, 2,       /* ECS 192.0.2.0/24 */
		B16(11), B16(2), B16(300),                       /* KEEPALIVE */
		B16(15), B16(3), B16(18), 'x',                   /* EDE 18 "x" */
		B16(12), B16(0),                                 /* PADDING */
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(msg, sizeof(msg), &m), 0);
	assert_int_equal(m.anomaly, DNS_A_NONE);
	assert_int_equal(m.has_opt, 1);
	assert_int_equal(m.udp_size, 1232);
	assert_int_equal(m.edns_version, 0);
	assert_int_equal(m.edns_do, 1);
	assert_int_equal(m.rcode, 16);
	assert_string_equal(dns_rcode_name(m.rcode), "BADVERS");
	assert_int_equal(m.nopts, 5);
	assert_int_equal(m.opts[0].code, DNS_OPT_COOKIE);
	assert_int_equal(m.opts[0].len, 8);
	assert_int_equal(msg[m.opts[0].off], 1);
	assert_int_equal(m.opts[1].code, DNS_OPT_ECS);
	assert_int_equal(msg[m.opts[1].off + 4], 192);
	assert_int_equal(m.opts[3].code, DNS_OPT_EDE);
	assert_int_equal(m.opts[4].code, DNS_OPT_PADDING);
	assert_int_equal(m.opts[4].len, 0);
	assert_int_equal(m.nrr, 0);   /* OPT is not an RR of rr[] */
}

static void test_opt_many_options(void **state)
{
	uint8_t msg[512];
	const uint8_t head[] = { HDR(1, 0x0100, 1, 0, 0, 1), Q_EX_A,
				 OPT_RR(512, 0, 0, 0, 20 * 4) };
	static struct dns_msg m;
	(void)state;
	memcpy(msg, head, sizeof(head));
	size_t o = sizeof(head);
	for (int i = 0; i < 20; i++) {
		const uint8_t pad[] = { B16(12), B16(0) };
		memcpy(msg + o, pad, 4);
		o += 4;
	}
	assert_int_equal(dns_parse(msg, o, &m), 0);
	assert_int_equal(m.anomaly, DNS_A_NONE);
	assert_int_equal(m.nopts, DNS_MAX_OPTS);
	assert_int_equal(m.opts_dropped, 20 - DNS_MAX_OPTS);
}

/* A stopping anomaly wins over a noted one; both bits stay set. */
static void test_anomaly_order(void **state)
{
	static const uint8_t msg[] = {
		HDR(1, 0x8180, 1, 2, 0, 0), Q_EX_A,
		PTR_Q, RRH(1, 1, 60, 5), 192, 0, 2, 1, 9,
		PTR_Q, RRH(1, 1, 60, 4), 192,
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(msg, sizeof(msg), &m), 0);
	assert_int_equal(m.anomaly, DNS_A_RR_TRUNC);
	assert_true(m.anomalies & (1u << DNS_A_RDATA_BAD));
	assert_true(m.anomalies & (1u << DNS_A_RR_TRUNC));
	assert_int_equal(m.nrr, 1);
}

static void test_min_ttl(void **state)
{
	static const uint8_t msg[] = {
		HDR(1, 0x8180, 1, 2, 1, 0), Q_EX_A,
		PTR_Q, RRH(5, 1, 300, 2), PTR_Q,
		PTR_Q, RRH(1, 1, 120, 4), 192, 0, 2, 1,
		PTR_Q, RRH(2, 1, 5, 2), PTR_Q,       /* authority: not counted */
	};
	static const uint8_t msg_topbit[] = {
		HDR(1, 0x8180, 1, 1, 0, 0), Q_EX_A,
		PTR_Q, RRH(1, 1, 0x80000000u, 4), 192, 0, 2, 1,
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(msg, sizeof(msg), &m), 0);
	assert_int_equal(dns_answer_min_ttl(&m), 120);
	assert_int_equal(dns_parse(m_query, sizeof(m_query), &m), 0);
	assert_int_equal(dns_answer_min_ttl(&m), UINT32_MAX);
	assert_int_equal(dns_parse(msg_topbit, sizeof(msg_topbit), &m), 0);
	assert_int_equal(dns_answer_min_ttl(&m), 0);   /* RFC 2181 §8 */
}

#define SOA_RD(ttl, min) PTR_Q, RRH(6, 1, ttl, 2 + 2 + 20), PTR_Q, PTR_Q, \
	B32(2024010101), B32(7200), B32(3600), B32(1209600), B32(min)

static void test_negative_ttl(void **state)
{
	static const uint8_t nx[] = { HDR(1, 0x8183, 1, 0, 1, 0), Q_EX_A, SOA_RD(900, 300) };
	static const uint8_t nx_low_ttl[] = { HDR(1, 0x8183, 1, 0, 1, 0), Q_EX_A, SOA_RD(60, 300) };
	static const uint8_t nodata[] = {
		HDR(1, 0x8180, 1, 1, 1, 0), Q_EX_A,
		PTR_Q, RRH(5, 1, 300, 2), PTR_Q,   /* CNAME only: NODATA for A */
		SOA_RD(900, 120),
	};
	static const uint8_t positive[] = {
		HDR(1, 0x8180, 1, 1, 1, 0), Q_EX_A,
		PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1, SOA_RD(900, 120),
	};
	static const uint8_t nx_no_soa[] = { HDR(1, 0x8183, 1, 0, 0, 0), Q_EX_A };
	static const uint8_t servfail[] = { HDR(1, 0x8182, 1, 0, 1, 0), Q_EX_A, SOA_RD(900, 300) };
	static const uint8_t soa_short[] = {
		HDR(1, 0x8183, 1, 0, 1, 0), Q_EX_A,
		PTR_Q, RRH(6, 1, 900, 2 + 2 + 16), PTR_Q, PTR_Q,
		B32(1), B32(2), B32(3), B32(4),
	};
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(nx, sizeof(nx), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), 300);
	assert_int_equal(dns_parse(nx_low_ttl, sizeof(nx_low_ttl), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), 60);
	assert_int_equal(dns_parse(nodata, sizeof(nodata), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), 120);
	assert_int_equal(dns_parse(positive, sizeof(positive), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), -1);
	assert_int_equal(dns_parse(nx_no_soa, sizeof(nx_no_soa), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), -1);
	assert_int_equal(dns_parse(servfail, sizeof(servfail), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), -1);
	assert_int_equal(dns_parse(m_query, sizeof(m_query), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), -1);   /* a query is not an answer */
	assert_int_equal(dns_parse(soa_short, sizeof(soa_short), &m), 0);
	assert_int_equal(dns_negative_ttl(&m), -1);
}

/* Every prefix of a rich message, each in an exactly-sized heap buffer:
 * dns_parse never reads past the end and never fails on a prefix >= 12. */
static void test_every_prefix(void **state)
{
	static const uint8_t msg[] = {
		HDR(1, 0x8180, 1, 2, 1, 1), Q_EX_A,
		PTR_Q, RRH(5, 1, 300, 6), 3, 'w', 'w', 'w', PTR_Q,
		0xc0, 41, RRH(1, 1, 60, 4), 192, 0, 2, 1,
		SOA_RD(900, 300),
		OPT_RR(1232, 0, 0, 0x8000, 12), B16(10), B16(8), 1, 2, 3, 4, 5, 6, 7, 8,
	};
	static struct dns_msg m;
	(void)state;
	for (size_t n = 0; n <= sizeof(msg); n++) {
		uint8_t *buf = malloc(n ? n : 1);
		assert_non_null(buf);
		memcpy(buf, msg, n);
		int rc = dns_parse(buf, n, &m);
		assert_int_equal(rc, n < 12 ? SW_ETRUNC : 0);
		if (n == sizeof(msg)) {
			assert_int_equal(m.anomaly, DNS_A_NONE);
			assert_int_equal(m.nrr, 3);
			assert_int_equal(m.has_opt, 1);
		} else if (n >= 12) {
			assert_int_not_equal(m.anomaly, DNS_A_NONE);
		}
		free(buf);
	}
}

static void test_names_tables(void **state)
{
	(void)state;
	assert_string_equal(dns_type_name(65), "HTTPS");
	assert_string_equal(dns_type_name(64), "SVCB");
	assert_string_equal(dns_type_name(255), "ANY");
	assert_string_equal(dns_type_name(48), "DNSKEY");
	assert_string_equal(dns_type_name(43), "DS");
	assert_string_equal(dns_type_name(46), "RRSIG");
	assert_string_equal(dns_type_name(47), "NSEC");
	assert_string_equal(dns_type_name(50), "NSEC3");
	assert_string_equal(dns_type_name(257), "CAA");
	assert_null(dns_type_name(65280));
	assert_string_equal(dns_rcode_name(3), "NXDOMAIN");
	assert_string_equal(dns_rcode_name(23), "BADCOOKIE");
	assert_null(dns_rcode_name(4000));
	assert_string_equal(dns_opcode_name(5), "UPDATE");
	assert_null(dns_opcode_name(15));
	assert_string_equal(dns_opt_name(DNS_OPT_COOKIE), "COOKIE");
	assert_string_equal(dns_opt_name(DNS_OPT_EDE), "EDE");
	assert_null(dns_opt_name(65001));
	assert_string_equal(dns_anomaly_name(DNS_A_NAME_LOOP), "dns_name_loop");
	assert_string_equal(dns_anomaly_name(DNS_A_MAX), "dns_unknown");
	for (int a = 0; a < DNS_A_MAX; a++)
		assert_string_not_equal(dns_anomaly_name(a), "dns_unknown");
}

#define NCASES (sizeof(parse_cases) / sizeof(parse_cases[0]))
/* q_end: the end of the first question, what a response tells of the
 * size of its query; dns_parse_question() stops there, with the header
 * and question as dns_parse() reads them; dns_peek_header() reads only
 * the ID and flags. */
static void test_question_end(void **state)
{
	static const uint8_t resp[] = {
		HDR(0xbeef, 0x8180, 2, 1, 0, 1), Q_EX_A,
		/* a second question by pointer: q_end stays at the first */
		PTR_Q, B16(28), B16(1),
		PTR_Q, RRH(1, 1, 60, 4), 192, 0, 2, 1,
		OPT_RR(1232, 0, 0, 0, 0),
	};
	static const uint8_t ptr_q[] = {
		HDR(1, 0x8180, 1, 0, 0, 0), 0xc0, 0x0c, B16(16), B16(1),
	};
	static const uint8_t qclass_cut[] = { HDR(1, 0x8180, 1, 0, 0, 0), QN_EX, B16(1), 0 };
	static struct dns_msg m;
	(void)state;
	assert_int_equal(dns_parse(resp, sizeof(resp), &m), 0);
	assert_int_equal(m.q_end, 12 + 13 + 4);
	assert_true(m.has_opt);
	assert_int_equal(dns_parse_question(resp, sizeof(resp), &m), 0);
	assert_int_equal(m.q_end, 12 + 13 + 4);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.arcount, 1);
	assert_true(m.has_q);
	assert_int_equal(m.qtype, 1);
	assert_string_equal(m.qname, "example.com");
	assert_int_equal(m.nrr, 0);
	assert_false(m.has_opt);
	assert_int_equal(m.anomaly, DNS_A_QDCOUNT);   /* two questions: noted, not stopped */
	/* A question name that is a pointer (to itself: a loop) is no question. */
	assert_int_equal(dns_parse_question(ptr_q, sizeof(ptr_q), &m), 0);
	assert_false(m.has_q);
	assert_int_equal(m.q_end, 0);
	/* A question cut inside its class is none either. */
	assert_int_equal(dns_parse(qclass_cut, sizeof(qclass_cut), &m), 0);
	assert_false(m.has_q);
	assert_int_equal(m.q_end, 0);
	assert_int_equal(m.anomaly, DNS_A_QD_TRUNC);
	assert_int_equal(dns_parse_question(resp, 11, &m), SW_ETRUNC);
	uint16_t id = 7, flags = 7;
	assert_int_equal(dns_peek_header(resp, 11, &id, &flags), -1);
	assert_int_equal(id, 7);
	assert_int_equal(flags, 7);
	assert_int_equal(dns_peek_header(resp, 12, &id, &flags), 0);
	assert_int_equal(id, 0xbeef);
	assert_int_equal(flags, 0x8180);
}

#define NOTHER 12

int main(void)
{
	static struct CMUnitTest tests[NCASES + NOTHER];
	for (size_t i = 0; i < NCASES; i++) {
		tests[i].name = parse_cases[i].name;
		tests[i].test_func = run_parse_case;
		tests[i].initial_state = &parse_cases[i];
	}
	const struct CMUnitTest other[NOTHER] = {
		cmocka_unit_test(test_name_255_text),
		cmocka_unit_test(test_uppercase_original_case),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_opt_fields),
		cmocka_unit_test(test_opt_many_options),
		cmocka_unit_test(test_anomaly_order),
		cmocka_unit_test(test_min_ttl),
		cmocka_unit_test(test_negative_ttl),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_names_tables),
		cmocka_unit_test(test_question_end),
	};
	memcpy(tests + NCASES, other, sizeof(other));
	return cmocka_run_group_tests_name("dns_parse", tests, NULL, NULL);
}
