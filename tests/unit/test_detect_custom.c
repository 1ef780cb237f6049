/* test_detect_custom.c — operator rules (rules/custom.json): the shipped
 * examples load disabled; each match key, alone and with others, against
 * transactions that meet it and ones that miss it by one field; the name
 * index against a loop over every rule on hundreds of rules; the threshold
 * and rate-limit counter; broken files fail with file:line:column. Run
 * from the repository root (make check does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/fmt.h"
#include "detect/custom.h"
#include "detect/rules.h"

static struct rules *load_shipped(void)
{
	char err[512];
	struct rules *r = rules_load("rules", err, sizeof(err));
	if (r == NULL)
		fail_msg("shipped rules: %s", err);
	return r;
}

/* The shipped rules with `text` as custom.json; NULL and the message in err
 * when it does not load. */
static struct rules *with_custom(const char *text, char *err, size_t errlen)
{
	struct rules *r = load_shipped();
	if (rules_load_custom(r, "c.json", text, strlen(text), err, errlen) != 0) {
		rules_free(r);
		return NULL;
	}
	return r;
}

static struct rules *must_load(const char *text)
{
	char err[512];
	struct rules *r = with_custom(text, err, sizeof(err));
	if (r == NULL)
		fail_msg("custom rules: %s", err);
	return r;
}

static void test_shipped(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	/* The examples ship turned off: installing the sensor adds no alerts. */
	assert_non_null(r->custom);
	assert_true(r->custom->n >= 3);
	assert_int_equal(r->custom->nenabled, 0);
	for (uint32_t i = 0; i < r->custom->n; i++) {
		const struct cust_rule *c = &r->custom->rules[i];
		assert_false(c->enabled);
		assert_non_null(c->message);
		assert_non_null(c->det.json);
		assert_string_equal(c->det.category, "custom");
	}
	rules_free(r);
}

/* A transaction of device 24:0a:c4:00:00:01 on VLAN 20, asking
 * www.vendor.example AAAA of 192.0.2.53 over UDP. */
struct txn {
	struct dev_key k;
	uint8_t res[16];
	struct cust_txn t;
};

static void txn_init(struct txn *x)
{
	memset(x, 0, sizeof(*x));
	static const uint8_t mac[6] = { 0x24, 0x0a, 0xc4, 0, 0, 1 };
	memcpy(x->k.mac, mac, 6);
	x->k.vlan = 20;
	assert_int_equal(ip_parse("192.0.2.53", x->res), 0);
	x->t.qname = "www.vendor.example";
	x->t.qlen = strlen(x->t.qname);
	x->t.qtype = 28;
	x->t.rcode = -1;
	x->t.resolver = x->res;
	x->t.transport = CUST_T_UDP;
	x->t.dev = &x->k;
}

static void set_name(struct txn *x, const char *n)
{
	x->t.qname = n;
	x->t.qlen = n != NULL ? strlen(n) : 0;
}

struct hits {
	unsigned n;
	uint32_t rule[64];
	const char *via[64];
};

static void on_hit(void *arg, uint32_t rule, const char *via)
{
	struct hits *h = arg;
	if (h->n < 64) {
		h->rule[h->n] = rule;
		h->via[h->n] = via;
	}
	h->n++;
}

static unsigned hits_of(const struct rules *r, const struct txn *x)
{
	struct hits h = { 0 };
	unsigned n = cust_match(r->custom, &x->t, on_hit, &h);
	assert_int_equal(n, h.n);
	return n;
}

/* One rule, `match` as its match object; how often it fires on x. */
static unsigned one_rule(const char *match, const struct txn *x)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"version\": 1, \"rules\": [{\"id\": \"t.one\", "
		 "\"message\": \"m\", \"severity\": \"low\", \"match\": %s}]}", match);
	struct rules *r = must_load(text);
	unsigned n = hits_of(r, x);
	/* The rule alone, without the index, must agree. */
	assert_int_equal(cust_rule_holds(&r->custom->rules[0], &x->t), n);
	rules_free(r);
	return n;
}

enum mut { M_NONE, M_NAME_OTHER, M_NAME_PARENT, M_NAME_TAIL, M_QTYPE, M_ANSWER_NX,
	   M_ANSWER_OK, M_RESOLVER, M_TCP, M_DOH, M_MAC, M_OUI, M_VLAN, M_BY_IP, M_ROOT };

static void mutate(struct txn *x, enum mut m)
{
	switch (m) {
	case M_NONE: break;
	case M_NAME_OTHER: set_name(x, "www.other.example"); break;
	case M_NAME_PARENT: set_name(x, "example"); break;
	case M_NAME_TAIL: set_name(x, "www.badvendor.example"); break; /* not below vendor.example */
	case M_QTYPE: x->t.qtype = 1; break;
	case M_ANSWER_NX: x->t.rcode = 3; break;
	case M_ANSWER_OK: x->t.rcode = 0; break;
	case M_RESOLVER: assert_int_equal(ip_parse("198.51.100.1", x->res), 0); break;
	case M_TCP: x->t.transport = CUST_T_TCP; break;
	case M_DOH:
		x->t.transport = CUST_T_DOH;
		set_name(x, NULL);
		break;
	case M_MAC: x->k.mac[5] = 2; break;
	case M_OUI: x->k.mac[2] = 0xc5; break;
	case M_VLAN: x->k.vlan = 0; break;
	case M_BY_IP: x->k.by_ip = 1; break;
	case M_ROOT: set_name(x, "."); break;
	}
}

/* Table-driven: a match object, a change to the base transaction, and
 * whether the rule fires. */
static const struct {
	const char *name;
	const char *match;
	enum mut m;
	unsigned want;
} cases[] = {
	{ "empty match, any query", "{}", M_NONE, 1 },
	{ "empty match, not an answer", "{}", M_ANSWER_OK, 0 },
	{ "empty match, an encrypted flow", "{}", M_DOH, 1 },
	{ "qname exact", "{\"qname\": \"www.vendor.example\"}", M_NONE, 1 },
	{ "qname exact, any case and final dot", "{\"qname\": \"WWW.Vendor.Example.\"}", M_NONE, 1 },
	{ "qname exact, a sibling", "{\"qname\": \"www.vendor.example\"}", M_NAME_OTHER, 0 },
	{ "qname exact is not a suffix", "{\"qname\": \"vendor.example\"}", M_NONE, 0 },
	{ "qname list", "{\"qname\": [\"a.example\", \"www.vendor.example\"]}", M_NONE, 1 },
	{ "qname_suffix below", "{\"qname_suffix\": \"vendor.example\"}", M_NONE, 1 },
	{ "qname_suffix the zone itself", "{\"qname_suffix\": \"www.vendor.example\"}", M_NONE, 1 },
	{ "qname_suffix top label", "{\"qname_suffix\": \"example\"}", M_NONE, 1 },
	{ "qname_suffix, parent name", "{\"qname_suffix\": \"vendor.example\"}", M_NAME_PARENT, 0 },
	{ "qname_suffix on a label boundary", "{\"qname_suffix\": \"vendor.example\"}",
	  M_NAME_TAIL, 0 },
	{ "qname_suffix, root query", "{\"qname_suffix\": \"example\"}", M_ROOT, 0 },
	{ "qname_suffix list, redundant names fire once",
	  "{\"qname_suffix\": [\"example\", \"vendor.example\", \"example\"], "
	  "\"qname\": \"www.vendor.example\"}", M_NONE, 1 },
	{ "qname_suffix, encrypted flow has no name", "{\"qname_suffix\": \"example\"}", M_DOH, 0 },
	{ "not_qname_suffix, inside", "{\"not_qname_suffix\": \"vendor.example\"}", M_NONE, 0 },
	{ "not_qname_suffix, outside", "{\"not_qname_suffix\": \"vendor.example\"}",
	  M_NAME_OTHER, 1 },
	{ "not_qname_suffix, look-alike outside", "{\"not_qname_suffix\": \"vendor.example\"}",
	  M_NAME_TAIL, 1 },
	{ "not_qname_suffix with a suffix",
	  "{\"qname_suffix\": \"example\", \"not_qname_suffix\": [\"vendor.example\"]}",
	  M_NAME_OTHER, 1 },
	{ "qtype by name", "{\"qtype\": \"AAAA\"}", M_NONE, 1 },
	{ "qtype by name, lower case", "{\"qtype\": \"aaaa\"}", M_NONE, 1 },
	{ "qtype by number", "{\"qtype\": 28}", M_NONE, 1 },
	{ "qtype RFC 3597 form", "{\"qtype\": \"TYPE28\"}", M_NONE, 1 },
	{ "qtype other", "{\"qtype\": \"AAAA\"}", M_QTYPE, 0 },
	{ "rcode waits for the answer", "{\"rcode\": \"NXDOMAIN\"}", M_NONE, 0 },
	{ "rcode on its answer", "{\"rcode\": \"NXDOMAIN\"}", M_ANSWER_NX, 1 },
	{ "rcode by number", "{\"rcode\": 3}", M_ANSWER_NX, 1 },
	{ "rcode other", "{\"rcode\": \"NXDOMAIN\"}", M_ANSWER_OK, 0 },
	{ "rcode NOERROR", "{\"rcode\": \"NOERROR\"}", M_ANSWER_OK, 1 },
	{ "resolver address", "{\"resolver\": \"192.0.2.53\"}", M_NONE, 1 },
	{ "resolver prefix", "{\"resolver\": \"192.0.2.0/24\"}", M_NONE, 1 },
	{ "resolver prefix, outside", "{\"resolver\": \"192.0.2.0/24\"}", M_RESOLVER, 0 },
	{ "resolver list", "{\"resolver\": [\"2001:db8::/32\", \"198.51.100.0/30\"]}", M_RESOLVER, 1 },
	{ "resolver /0 is any IPv4", "{\"resolver\": \"0.0.0.0/0\"}", M_RESOLVER, 1 },
	{ "resolver IPv6 prefix, IPv4 server", "{\"resolver\": \"2000::/3\"}", M_NONE, 0 },
	{ "transport udp", "{\"transport\": \"udp\"}", M_NONE, 1 },
	{ "transport udp, over tcp", "{\"transport\": \"udp\"}", M_TCP, 0 },
	{ "transport list", "{\"transport\": [\"tcp\", \"udp\"]}", M_TCP, 1 },
	{ "transport doh", "{\"transport\": \"doh\"}", M_DOH, 1 },
	{ "transport doh, a udp query", "{\"transport\": \"doh\"}", M_NONE, 0 },
	{ "transport dot, a doh flow", "{\"transport\": \"dot\"}", M_DOH, 0 },
	{ "mac", "{\"mac\": \"24:0A:C4:00:00:01\"}", M_NONE, 1 },
	{ "mac, dashes", "{\"mac\": \"24-0a-c4-00-00-01\"}", M_NONE, 1 },
	{ "mac, another device", "{\"mac\": \"24:0a:c4:00:00:01\"}", M_MAC, 0 },
	{ "oui", "{\"oui\": \"24:0a:c4\"}", M_MAC, 1 },
	{ "oui, another vendor", "{\"oui\": \"24:0a:c4\"}", M_OUI, 0 },
	{ "oui or mac", "{\"oui\": \"aa:bb:cc\", \"mac\": \"24:0a:c4:00:00:01\"}", M_NONE, 1 },
	{ "oui, a device keyed by IP", "{\"oui\": \"24:0a:c4\"}", M_BY_IP, 0 },
	{ "vlan", "{\"vlan\": 20}", M_NONE, 1 },
	{ "vlan, untagged", "{\"vlan\": 20}", M_VLAN, 0 },
	{ "vlan 0 is untagged", "{\"vlan\": 0}", M_VLAN, 1 },
	{ "all keys", "{\"qname_suffix\": \"vendor.example\", \"qtype\": \"AAAA\", "
	  "\"resolver\": \"192.0.2.53\", \"transport\": \"udp\", \"mac\": \"24:0a:c4:00:00:01\", "
	  "\"oui\": \"24:0a:c4\", \"vlan\": 20, \"not_qname_suffix\": \"other.example\"}",
	  M_NONE, 1 },
	{ "all keys but one fails", "{\"qname_suffix\": \"vendor.example\", \"qtype\": \"AAAA\", "
	  "\"resolver\": \"192.0.2.53\", \"transport\": \"udp\", \"oui\": \"24:0a:c4\", "
	  "\"vlan\": 20}", M_VLAN, 0 },
};

static void test_match_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct txn x;
		txn_init(&x);
		mutate(&x, cases[i].m);
		unsigned got = one_rule(cases[i].match, &x);
		if (got != cases[i].want)
			fail_msg("%s: %s fired %u times, want %u", cases[i].name, cases[i].match,
				 got, cases[i].want);
	}
}

/* Disabled rules are in the file, not in the index. */
static void test_disabled(void **state)
{
	(void)state;
	struct rules *r = must_load("{\"version\": 1, \"rules\": ["
		"{\"id\": \"a\", \"enabled\": false, \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"qname_suffix\": \"example\"}},"
		"{\"id\": \"b\", \"enabled\": false, \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {}}]}");
	struct txn x;
	txn_init(&x);
	assert_int_equal(r->custom->n, 2);
	assert_int_equal(r->custom->nenabled, 0);
	assert_int_equal(hits_of(r, &x), 0);
	rules_free(r);
}

/* Hundreds of rules: the index finds exactly the rules a loop over all of
 * them finds, and says which name led to each. */
static void test_many_rules(void **state)
{
	(void)state;
	size_t cap = 1 << 20, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "{\"version\": 1, \"rules\": [");
	for (int i = 0; i < 500; i++) {
		const char *key = i % 3 == 0 ? "qname" : "qname_suffix";
		n += (size_t)snprintf(text + n, cap - n,
			"%s{\"id\": \"r%d\", \"message\": \"m\", \"severity\": \"low\", "
			"\"match\": {\"%s\": \"%sz%d.example\"%s}}", i ? "," : "", i, key,
			i % 3 == 0 ? "www." : "", i % 100, i % 7 == 0 ? ", \"qtype\": 1" : "");
	}
	/* Three residual rules. */
	n += (size_t)snprintf(text + n, cap - n,
		",{\"id\": \"res1\", \"message\": \"m\", \"severity\": \"low\", \"match\": {}}"
		",{\"id\": \"res2\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"vlan\": 99}}"
		",{\"id\": \"res3\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"not_qname_suffix\": \"z5.example\"}}"
		/* Found by the device's OUI; the two MACs share one. */
		",{\"id\": \"oui1\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"oui\": [\"aa:bb:cc\", \"24:0a:c4\"], "
		"\"not_qname_suffix\": \"z5.example\"}}"
		",{\"id\": \"mac2\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"mac\": [\"24:0a:c4:00:00:01\", \"24:0a:c4:00:00:02\"], "
		"\"oui\": \"24:0a:c4\"}}"
		/* Answers: by name, and one residual. */
		",{\"id\": \"nx1\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"rcode\": \"NXDOMAIN\", \"qname_suffix\": \"z5.example\"}}"
		",{\"id\": \"nx2\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"rcode\": 3}}"
		",{\"id\": \"sf\", \"message\": \"m\", \"severity\": \"low\", "
		"\"match\": {\"rcode\": \"SERVFAIL\", \"oui\": \"24:0a:c4\"}}]}");
	assert_true(n < cap);
	struct rules *r = must_load(text);
	free(text);
	assert_int_equal(r->custom->n, 508);
	assert_int_equal(r->custom->nresidual, 4);
	static const char *const names[] = {
		"www.z5.example", "z5.example", "a.b.www.z5.example", "z50.example", "www.z0.example",
		"z5.example.org", "example", "zz5.example", "www.z99.example", "nothing.test",
	};
	static const int rcodes[] = { -1, 0, 2, 3 };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) * 4 * 2 * 3; i++) {
		int qt = i / 10 % 2 ? 28 : 1;
		{
			struct txn x;
			txn_init(&x);
			set_name(&x, names[i % 10]);
			x.t.qtype = (uint16_t)qt;
			x.t.rcode = rcodes[i / 20 % 4];
			x.k.mac[2] = i / 80 == 1 ? 0xc5 : 0xc4;
			x.k.by_ip = i / 80 == 2;
			struct hits h = { 0 };
			cust_match(r->custom, &x.t, on_hit, &h);
			unsigned loop = 0;
			for (uint32_t j = 0; j < r->custom->n; j++)
				loop += (unsigned)cust_rule_holds(&r->custom->rules[j], &x.t);
			if (h.n != loop)
				fail_msg("%s type %d rcode %d: index %u rules, loop %u", names[i % 10],
					 qt, x.t.rcode, h.n, loop);
			for (unsigned j = 0; j < h.n && j < 64; j++) {
				assert_true(cust_rule_holds(&r->custom->rules[h.rule[j]], &x.t));
				for (unsigned k = 0; k < j; k++)
					assert_int_not_equal(h.rule[j], h.rule[k]);
				if (h.via[j] != NULL)
					assert_non_null(strstr(names[i % 10], h.via[j]));
			}
		}
	}
	/* www.z5.example AAAA: of r5, r105, r205, r305 and r405 (i % 100 ==
	 * 5), r105 and r405 name it exactly (i % 3 == 0) and the others
	 * z5.example as a suffix; r105 asks for qtype A (i % 7 == 0); res1
	 * matches everything, res3 and oui1 exclude z5.example; mac2 once. */
	struct txn x;
	txn_init(&x);
	set_name(&x, "www.z5.example");
	x.t.qtype = 28;
	assert_int_equal(hits_of(r, &x), 6);
	/* Its NXDOMAIN answer: nx1 and nx2 only. */
	x.t.rcode = 3;
	assert_int_equal(hits_of(r, &x), 2);
	/* Another device's query outside z5: res1, res3 and, by OUI, oui1
	 * and mac2 (whose oui covers the device, though its MACs do not); a
	 * device of another vendor: res1 and res3. */
	x.t.rcode = -1;
	set_name(&x, "nothing.test");
	x.k.mac[5] = 9;
	assert_int_equal(hits_of(r, &x), 4);
	x.k.mac[0] = 0x02;
	assert_int_equal(hits_of(r, &x), 2);
	rules_free(r);
}

static void test_threshold(void **state)
{
	(void)state;
	struct cust_rule r;
	memset(&r, 0, sizeof(r));
	r.count = 3;
	r.seconds = 60;
	r.det.rate_limit_s = 0;
	struct cust_counter v;
	memset(&v, 0, sizeof(v));
	uint32_t m;
	/* Three matches within 60 s fire on the third, with its count. */
	assert_int_equal(cust_count(&v, &r, 1000, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 1010, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 1059, &m), CUST_FIRE);
	assert_int_equal(m, 3);
	/* The count starts again after firing. */
	assert_int_equal(cust_count(&v, &r, 1060, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 1061, &m), CUST_BELOW);
	/* A window that runs out before the count restarts from the match
	 * that comes after it. */
	assert_int_equal(cust_count(&v, &r, 1120, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 1121, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 1122, &m), CUST_FIRE);
	/* A clock stepping back opens a new window rather than firing. */
	assert_int_equal(cust_count(&v, &r, 1200, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 900, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 901, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 902, &m), CUST_FIRE);

	/* A rate limit: one alert per interval, matches in between count as
	 * limited. */
	memset(&v, 0, sizeof(v));
	r.count = 0;
	r.det.rate_limit_s = 100;
	assert_int_equal(cust_count(&v, &r, 5000, &m), CUST_FIRE);
	assert_int_equal(m, 1);
	assert_int_equal(cust_count(&v, &r, 5001, &m), CUST_LIMITED);
	assert_int_equal(cust_count(&v, &r, 5099, &m), CUST_LIMITED);
	assert_int_equal(cust_count(&v, &r, 5100, &m), CUST_FIRE);

	/* Both: the threshold is reached within the limit, and is held back. */
	memset(&v, 0, sizeof(v));
	r.count = 2;
	r.seconds = 10;
	assert_int_equal(cust_count(&v, &r, 7000, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 7001, &m), CUST_FIRE);
	assert_int_equal(cust_count(&v, &r, 7002, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 7003, &m), CUST_LIMITED);
	assert_int_equal(cust_count(&v, &r, 7200, &m), CUST_BELOW);
	assert_int_equal(cust_count(&v, &r, 7201, &m), CUST_FIRE);
	assert_int_equal(m, 2);
}

static void test_rule_fields(void **state)
{
	(void)state;
	struct rules *r = must_load("{\"version\": 1, \"rules\": [{\"id\": \"local.x\", "
		"\"name\": \"Bad zone\", \"message\": \"Caf\xc3\xa9 \xc2\xa7 zone.\", "
		"\"severity\": \"high\", \"reference\": [\"ticket \xc2\xa7 7\", \"RFC 8520\"], "
		"\"match\": {\"qname_suffix\": \"bad.example\"}, "
		"\"threshold\": {\"count\": 5, \"seconds\": 30}, \"rate_limit_s\": 0}, "
		"{\"id\": \"local.y\", \"message\": \"m\", \"severity\": \"info\", \"match\": {}}]}");
	const struct cust_rule *c = &r->custom->rules[0];
	assert_string_equal(c->det.id_text, "local.x");
	assert_string_equal(c->det.name, "Bad zone");
	assert_int_equal(c->det.severity, SEV_HIGH);
	assert_int_equal(c->det.nrefs, 2);
	assert_string_equal(c->det.refs[1], "RFC 8520");
	assert_int_equal(c->det.rate_limit_s, 0);
	assert_int_equal(c->count, 5);
	assert_int_equal(c->seconds, 30);
	/* The message is kept as Latin-1, which the alert writer escapes. */
	assert_string_equal(c->message, "Caf\xe9 \xa7 zone.");
	assert_non_null(strstr(c->det.json, "\"id\":\"local.x\""));
	assert_non_null(strstr(c->det.json, "\"category\":\"custom\""));
	/* ECS's rule.reference is the first reference, Latin-1 escaped. */
	assert_non_null(strstr(c->det.json, "\"reference\":\"ticket \\u00a7 7\""));
	/* Defaults: name = id, enabled, an hour's rate limit, no threshold. */
	c = &r->custom->rules[1];
	assert_string_equal(c->det.name, "local.y");
	assert_true(c->enabled);
	assert_int_equal(c->det.rate_limit_s, 3600);
	assert_int_equal(c->count, 0);
	assert_int_equal(c->det.nrefs, 0);
	/* A second file replaces the first. */
	char err[256];
	assert_int_equal(rules_load_custom(r, "d.json", "{\"version\": 1, \"rules\": []}", 27,
					   err, sizeof(err)), 0);
	assert_int_equal(r->custom->n, 0);
	rules_free(r);
}

/* Broken files: each message names the file, line and column of the
 * fault and what is wrong. */
static const struct {
	const char *name;
	const char *text;
	const char *want;   /* "c.json:L:C: ..." prefix of the message */
} bad[] = {
	{ "not JSON", "{\"version\": 1,\n \"rules\": [}", "c.json:2:12: " },
	{ "truncated", "{\"version\": 1, \"rules\": [", "c.json:1:" },
	{ "top level array", "[]", "c.json:1:1: the top level must be an object" },
	{ "unknown top member", "{\"version\": 1, \"rules\": [],\n \"rulez\": []}",
	  "c.json:2:2: custom.json: unknown member \"rulez\"" },
	{ "no version", "{\"rules\": []}", "c.json:1:1: \"version\" is missing" },
	{ "version 2", "{\"version\": 2, \"rules\": []}", "c.json:1:13: version must be 1" },
	{ "rules not an array", "{\"version\": 1, \"rules\": {}}",
	  "c.json:1:25: rules must be an array" },
	{ "rule not an object", "{\"version\": 1, \"rules\": [3]}", "c.json:1:26: rules[0] must be" },
	{ "no id", "{\"version\": 1, \"rules\": [{\"message\": \"m\"}]}",
	  "c.json:1:26: rules[0]: \"id\" is missing" },
	{ "bad id", "{\"version\": 1, \"rules\": [{\"id\": \"Local X\"}]}",
	  "c.json:1:33: rules[0]: id must be 1 to 64 characters" },
	{ "built-in id", "{\"version\": 1, \"rules\": [{\"id\": \"rate.burst\"}]}",
	  "c.json:1:33: rules[0]: \"rate.burst\" is the id of a built-in detection" },
	{ "unknown rule member",
	  "{\"version\": 1, \"rules\": [\n  {\"id\": \"a\", \"mesage\": \"m\"}]}",
	  "c.json:2:15: a: unknown member \"mesage\"" },
	{ "no message", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"severity\": \"low\", "
	  "\"match\": {}}]}", "c.json:1:26: a: \"message\" is missing" },
	{ "message not a string", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": 7}]}",
	  "c.json:1:49: a: message must be a string" },
	{ "bad severity", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"urgent\", \"match\": {}}]}",
	  "c.json:1:66: a: severity must be info, low, medium or high" },
	{ "enabled not a boolean", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"enabled\": 1, \"match\": {}}]}",
	  "c.json:1:84: a: enabled must be true or false" },
	{ "no match", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\"}]}", "c.json:1:26: a: \"match\" is missing" },
	{ "match not an object", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": []}]}", "c.json:1:82: a: match must be an object" },
	{ "unknown match key", "{\"version\": 1, \"rules\": [\n{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\",\n \"match\": {\"qname\": \"x.example\",\n   \"qname_sufix\": \"y\"}}]}",
	  "c.json:4:4: a: unknown member \"qname_sufix\"" },
	{ "qname not a string", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"qname\": 5}}]}",
	  "c.json:1:92: a: match.qname must be a host name or an array" },
	{ "qname not a name", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"qname_suffix\": [\"ok.example\", \"a..b\"]}}]}",
	  "c.json:1:114: a: match.qname_suffix: \"a..b\" is not a host name" },
	{ "empty list", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"mac\": []}}]}",
	  "c.json:1:90: a: match.mac must be a MAC" },
	{ "bad mac", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"mac\": \"24:0a:c4:00:00\"}}]}",
	  "c.json:1:90: a: match.mac: \"24:0a:c4:00:00\" is not a MAC" },
	{ "bad oui", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"oui\": \"24:0a:cg\"}}]}",
	  "c.json:1:90: a: match.oui: \"24:0a:cg\" is not an OUI" },
	{ "resolver host bits", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"resolver\": \"10.0.0.1/8\"}}]}",
	  "c.json:1:95: a: match.resolver: \"10.0.0.1/8\" is not an IP address or prefix" },
	{ "resolver prefix too long", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"resolver\": \"10.0.0.0/33\"}}]}",
	  "c.json:1:95: a: match.resolver: \"10.0.0.0/33\" is not" },
	{ "bad transport", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"transport\": \"quic\"}}]}",
	  "c.json:1:96: a: match.transport: \"quic\" is not udp, tcp, dot, doh or doq" },
	{ "bad qtype", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"qtype\": \"AAAAA\"}}]}",
	  "c.json:1:92: a: match.qtype must be a qtype name or a number from 0 to 65535" },
	{ "qtype out of range", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"qtype\": 65536}}]}", "c.json:1:92: a: match.qtype" },
	{ "bad rcode", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"rcode\": true}}]}",
	  "c.json:1:92: a: match.rcode must be a rcode name or a number from 0 to 4095" },
	{ "vlan as text", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"vlan\": \"20\"}}]}",
	  "c.json:1:91: a: match.vlan must be a VLAN id from 0 to 4095" },
	{ "encrypted and a name", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {\"transport\": [\"dot\", \"doh\"], \"qtype\": 1}}]}",
	  "c.json:1:96: a: dot, doh and doq hide the question" },
	{ "threshold not an object", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"threshold\": 5}]}",
	  "c.json:1:99: a: threshold must be an object" },
	{ "threshold unknown key", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"threshold\": {\"count\": 2, \"secs\": 5}}]}",
	  "c.json:1:112: a: unknown member \"secs\"" },
	{ "threshold without seconds", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"threshold\": {\"count\": 2}}]}",
	  "c.json:1:99: a: \"seconds\" is missing" },
	{ "threshold count 0", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"threshold\": {\"count\": 0, \"seconds\": 5}}]}",
	  "c.json:1:109: a: count must be a whole number from 1 to 1000000" },
	{ "threshold seconds as text", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"threshold\": {\"count\": 2, \"seconds\": \"5\"}}]}",
	  "c.json:1:123: a: seconds must be a whole number of seconds from 1 to 86400" },
	{ "negative rate limit", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"rate_limit_s\": -1}]}",
	  "c.json:1:102: a: rate_limit_s must be a whole number of seconds from 0" },
	{ "empty reference", "{\"version\": 1, \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	  "\"severity\": \"low\", \"match\": {}, \"reference\": []}]}",
	  "c.json:1:99: a: reference must be an array of 1 to 16 strings" },
	{ "duplicate id", "{\"version\": 1, \"rules\": [\n"
	  "{\"id\": \"a\", \"message\": \"m\", \"severity\": \"low\", \"match\": {}},\n"
	  "{\"id\": \"a\", \"message\": \"m\", \"severity\": \"low\", \"match\": {}}]}",
	  "c.json:3:8: duplicate rule id \"a\"" },
};

static void test_bad_files(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";
		struct rules *r = with_custom(bad[i].text, err, sizeof(err));
		if (r != NULL) {
			rules_free(r);
			print_error("%s: loaded\n", bad[i].name);
			failed++;
		} else if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			print_error("%s: got \"%s\", want \"%s...\"\n", bad[i].name, err,
				    bad[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* The file in a rules folder: optional, and a broken one fails the load
 * (a start, --check-config, a SIGHUP reload) with its path. */
static void test_folder(void **state)
{
	(void)state;
	char dir[] = "/tmp/sw-custom-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[512], err[512];
	snprintf(cmd, sizeof(cmd), "cp rules/detections.json rules/resolvers.json %s/", dir);
	assert_int_equal(system(cmd), 0);
	struct rules *r = rules_load(dir, err, sizeof(err));
	assert_non_null(r);
	assert_null(r->custom);
	rules_free(r);
	char path[600];
	snprintf(path, sizeof(path), "%s/custom.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\": 1,\n \"rules\": [{\"id\": \"a\", \"message\": \"m\", "
	      "\"severity\": \"low\", \"match\": {\"vlan\": 5000}}]}", f);
	fclose(f);
	assert_null(rules_load(dir, err, sizeof(err)));
	char want[700];
	snprintf(want, sizeof(want), "%s:2:77: a: match.vlan", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", err, want);
	assert_int_not_equal(rules_check(dir, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_match_fields),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_rule_fields),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_folder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
