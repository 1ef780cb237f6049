/* test_detect_rules.c — the rules folder: the shipped files load and hold
 * every detection of DETECTIONS.md with its defaults; broken files fail with
 * a message naming the file, line and what to fix; address and name
 * lookups. Run from the repository root (make check does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/fmt.h"
#include "detect/rules.h"

/* The ids of DETECTIONS.md, copied from its tables by hand: the test fails
 * when the code, the file or the spec drift apart. */
static const char *const spec_ids[] = {
	"resolver.hardcoded", "resolver.rogue-dhcp", "encryption.none",
	"encryption.unsanctioned", "stub.port-predictable", "stub.txid-predictable",
	"response.race", "response.txid-mismatch", "response.unsolicited",
	"response.bogon-answer", "response.duplicate-rr", "response.reply-flood",
	"cache.requery-within-ttl", "cache.stale-use", "cache.negative-ignored", "rate.burst",
	"rate.retry-storm", "network.resolver-outage", "edns.missing", "edns.buffer-size",
	"transport.no-tcp-fallback", "transport.fragmented-response", "ipv6.no-aaaa",
	"ipv6.no-v6-transport", "dnssec.unaware", "amplification.device-serves-dns",
	"amplification.ratio", "policy.mud-violation", "policy.new-domain",
	"exfil.suspect-names",
};
#define NSPEC (sizeof(spec_ids) / sizeof(spec_ids[0]))

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return b;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

/* text with the first `find` replaced by `repl`; fails when absent. */
static char *replace1(const char *text, const char *find, const char *repl)
{
	const char *p = strstr(text, find);
	if (p == NULL)
		fail_msg("test setup: \"%s\" not in the shipped file", find);
	size_t a = (size_t)(p - text), fl = strlen(find), rl = strlen(repl);
	char *o = malloc(strlen(text) - fl + rl + 1);
	assert_non_null(o);
	memcpy(o, text, a);
	memcpy(o + a, repl, rl);
	strcpy(o + a + rl, p + fl);
	return o;
}

/* 1-based line of the first `find` in text. */
static int line_of(const char *text, const char *find)
{
	const char *p = strstr(text, find);
	assert_non_null(p);
	int line = 1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

static struct rules *load_shipped(void)
{
	char err[512];
	struct rules *r = rules_load("rules", err, sizeof(err));
	if (r == NULL)
		fail_msg("shipped rules: %s", err);
	return r;
}

static void test_shipped_load(void **state)
{
	(void)state;
	char err[512] = "x";
	assert_int_equal(rules_check("rules", err, sizeof(err)), 0);
	struct rules *r = load_shipped();
	for (int i = 0; i < DET_MAX; i++) {
		const struct det_rule *d = rules_det(r, (enum det_id)i);
		assert_int_equal(d->id, i);
		assert_string_equal(d->id_text, det_id_name((enum det_id)i));
		assert_non_null(d->name);
		assert_non_null(d->category);
		assert_true(d->severity >= SEV_INFO && d->severity <= SEV_HIGH);
		assert_true(d->nrefs >= 1);
		assert_true(d->enabled);
	}
	/* A reload is a second, independent struct (SIGHUP swaps pointers). */
	struct rules *r2 = load_shipped();
	assert_ptr_not_equal(r, r2);
	rules_free(r);
	assert_string_equal(rules_public_operator(r2, (const uint8_t[16]){ [10] = 0xff, [11] = 0xff,
			    [12] = 8, [13] = 8, [14] = 8, [15] = 8 }), "Google Public DNS");
	rules_free(r2);
	rules_free(NULL);
}

static void test_every_id_once(void **state)
{
	(void)state;
	assert_int_equal(DET_MAX, NSPEC);
	for (size_t i = 0; i < NSPEC; i++) {
		assert_int_equal(det_id_from_name(spec_ids[i]), (int)i);
		assert_string_equal(det_id_name((enum det_id)i), spec_ids[i]);
	}
	assert_int_equal(det_id_from_name("rate.bursty"), -1);
	assert_string_equal(det_id_name(DET_MAX), "?");

	json_error_t e;
	json_t *root = json_load_file("rules/detections.json", 0, &e);
	if (root == NULL)
		fail_msg("rules/detections.json:%d: %s", e.line, e.text);
	json_t *list = json_object_get(root, "detections");
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), NSPEC);
	for (size_t i = 0; i < NSPEC; i++) {
		int count = 0;
		size_t k;
		json_t *d;
		json_array_foreach(list, k, d)
			count += strcmp(json_string_value(json_object_get(d, "id")), spec_ids[i]) == 0;
		if (count != 1)
			fail_msg("%s appears %d times in rules/detections.json", spec_ids[i], count);
	}
	json_decref(root);
}

/* Severities, posture flags and defaults as DETECTIONS.md states them. */
static const struct {
	enum det_id id;
	int severity;
	int escalated;
	int posture;
} spec_sev[] = {
	{ DET_RESOLVER_HARDCODED, SEV_HIGH, 0, 0 },
	{ DET_RESOLVER_ROGUE_DHCP, SEV_HIGH, 0, 0 },
	{ DET_ENCRYPTION_NONE, SEV_LOW, SEV_MEDIUM, 1 },
	{ DET_ENCRYPTION_UNSANCTIONED, SEV_MEDIUM, 0, 0 },
	{ DET_STUB_PORT_PREDICTABLE, SEV_HIGH, 0, 0 },
	{ DET_STUB_TXID_PREDICTABLE, SEV_HIGH, 0, 0 },
	{ DET_RESPONSE_RACE, SEV_HIGH, 0, 0 },
	{ DET_RESPONSE_TXID_MISMATCH, SEV_HIGH, 0, 0 },
	{ DET_RESPONSE_UNSOLICITED, SEV_MEDIUM, SEV_HIGH, 0 },
	{ DET_RESPONSE_BOGON_ANSWER, SEV_MEDIUM, 0, 0 },
	{ DET_RESPONSE_DUPLICATE_RR, SEV_MEDIUM, 0, 0 },
	{ DET_RESPONSE_REPLY_FLOOD, SEV_MEDIUM, 0, 0 },
	{ DET_CACHE_REQUERY_WITHIN_TTL, SEV_MEDIUM, 0, 1 },
	{ DET_CACHE_STALE_USE, SEV_MEDIUM, 0, 1 },
	{ DET_CACHE_NEGATIVE_IGNORED, SEV_LOW, 0, 1 },
	{ DET_RATE_BURST, SEV_MEDIUM, 0, 0 },
	{ DET_RATE_RETRY_STORM, SEV_HIGH, 0, 0 },
	{ DET_NETWORK_RESOLVER_OUTAGE, SEV_HIGH, 0, 0 },
	{ DET_EDNS_MISSING, SEV_LOW, 0, 1 },
	{ DET_EDNS_BUFFER_SIZE, SEV_LOW, 0, 1 },
	{ DET_TRANSPORT_NO_TCP_FALLBACK, SEV_MEDIUM, 0, 1 },
	{ DET_TRANSPORT_FRAGMENTED_RESPONSE, SEV_LOW, 0, 0 },
	{ DET_IPV6_NO_AAAA, SEV_LOW, 0, 1 },
	{ DET_IPV6_NO_V6_TRANSPORT, SEV_INFO, 0, 1 },
	{ DET_DNSSEC_UNAWARE, SEV_INFO, 0, 1 },
	/* "high; medium when only local clients": medium, escalated to high. */
	{ DET_AMPLIFICATION_DEVICE_SERVES_DNS, SEV_MEDIUM, SEV_HIGH, 0 },
	{ DET_AMPLIFICATION_RATIO, SEV_MEDIUM, 0, 0 },
	{ DET_POLICY_MUD_VIOLATION, SEV_MEDIUM, 0, 0 },
	{ DET_POLICY_NEW_DOMAIN, SEV_LOW, 0, 0 },
	{ DET_EXFIL_SUSPECT_NAMES, SEV_MEDIUM, 0, 0 },
};

static const struct {
	enum det_id id;
	enum det_param p;
	double v;
} spec_params[] = {
	{ DET_RESOLVER_HARDCODED, DP_MIN_QUERIES, 3 },
	{ DET_ENCRYPTION_NONE, DP_MIN_QUERIES, 20 },
	{ DET_ENCRYPTION_NONE, DP_WINDOW_S, 86400 },
	{ DET_STUB_PORT_PREDICTABLE, DP_MIN_QUERIES, 64 },
	{ DET_STUB_PORT_PREDICTABLE, DP_RING, 256 },
	{ DET_STUB_PORT_PREDICTABLE, DP_SIGMA_EXCELLENT, 3980 },
	{ DET_STUB_PORT_PREDICTABLE, DP_SIGMA_GOOD, 296 },
	{ DET_STUB_TXID_PREDICTABLE, DP_MIN_QUERIES, 64 },
	{ DET_STUB_TXID_PREDICTABLE, DP_RING, 256 },
	{ DET_STUB_TXID_PREDICTABLE, DP_SIGMA_EXCELLENT, 3980 },
	{ DET_STUB_TXID_PREDICTABLE, DP_SIGMA_GOOD, 296 },
	{ DET_STUB_TXID_PREDICTABLE, DP_CONSTANT_AFTER, 8 },
	{ DET_RESPONSE_TXID_MISMATCH, DP_MIN_RESPONSES, 10 },
	{ DET_RESPONSE_RACE, DP_WINDOW_S, 5 },
	{ DET_RESPONSE_TXID_MISMATCH, DP_WINDOW_S, 2 },
	{ DET_RESPONSE_UNSOLICITED, DP_MIN_RESPONSES, 5 },
	{ DET_RESPONSE_UNSOLICITED, DP_WINDOW_S, 60 },
	{ DET_RESPONSE_UNSOLICITED, DP_ESCALATE_RESPONSES, 100 },
	{ DET_RESPONSE_UNSOLICITED, DP_ESCALATE_BYTES, 1048576 },
	{ DET_RESPONSE_REPLY_FLOOD, DP_MAX_RESPONSES, 3 },
	{ DET_CACHE_REQUERY_WITHIN_TTL, DP_ALPHA, 0.5 },
	{ DET_CACHE_REQUERY_WITHIN_TTL, DP_MIN_TTL_S, 30 },
	{ DET_CACHE_REQUERY_WITHIN_TTL, DP_MIN_SAMPLES, 20 },
	{ DET_CACHE_REQUERY_WITHIN_TTL, DP_SHARE, 0.5 },
	{ DET_CACHE_STALE_USE, DP_GRACE_S, 60 },
	{ DET_CACHE_STALE_USE, DP_MIN_OCCURRENCES, 3 },
	{ DET_CACHE_NEGATIVE_IGNORED, DP_MIN_REPEATS, 5 },
	{ DET_RATE_BURST, DP_K, 10 },
	{ DET_RATE_BURST, DP_FLOOR_QPS, 1 },
	{ DET_RATE_BURST, DP_WINDOW_S, 60 },
	{ DET_RATE_BURST, DP_SAME_NAME_MAX, 30 },
	{ DET_RATE_RETRY_STORM, DP_TIMEOUT_S, 2 },
	{ DET_RATE_RETRY_STORM, DP_PER_NAME_QPS, 1 },
	{ DET_RATE_RETRY_STORM, DP_MIN_DURATION_S, 30 },
	{ DET_NETWORK_RESOLVER_OUTAGE, DP_MIN_DEVICES, 3 },
	{ DET_NETWORK_RESOLVER_OUTAGE, DP_MIN_SHARE, 0.3 },
	{ DET_NETWORK_RESOLVER_OUTAGE, DP_WINDOW_S, 60 },
	{ DET_EDNS_MISSING, DP_MIN_QUERIES, 50 },
	{ DET_EDNS_BUFFER_SIZE, DP_MAX_SIZE, 1400 },
	{ DET_EDNS_BUFFER_SIZE, DP_MIN_SIZE, 512 },
	{ DET_TRANSPORT_NO_TCP_FALLBACK, DP_RETRY_WINDOW_S, 3 },
	{ DET_TRANSPORT_NO_TCP_FALLBACK, DP_MIN_TC_EVENTS, 1 },
	{ DET_IPV6_NO_AAAA, DP_MIN_QUERIES, 50 },
	{ DET_IPV6_NO_V6_TRANSPORT, DP_MIN_QUERIES, 50 },
	{ DET_DNSSEC_UNAWARE, DP_MIN_QUERIES, 50 },
	{ DET_AMPLIFICATION_RATIO, DP_RATIO, 10 },
	{ DET_AMPLIFICATION_RATIO, DP_MIN_BYTES, 102400 },
	{ DET_AMPLIFICATION_RATIO, DP_WINDOW_S, 300 },
	{ DET_POLICY_NEW_DOMAIN, DP_LEARNING_S, 604800 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_MAX_LABEL_LEN, 50 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_ENTROPY_BITS, 4 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_MIN_NAMES, 20 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_WINDOW_S, 600 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_MIN_SUBDOMAINS, 100 },
};

static void test_shipped_defaults(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	assert_int_equal(sizeof(spec_sev) / sizeof(spec_sev[0]), DET_MAX);
	for (size_t i = 0; i < sizeof(spec_sev) / sizeof(spec_sev[0]); i++) {
		const struct det_rule *d = rules_det(r, spec_sev[i].id);
		if (d->severity != spec_sev[i].severity ||
		    d->severity_escalated != spec_sev[i].escalated ||
		    d->posture != spec_sev[i].posture)
			fail_msg("%s: severity %d/%d posture %d, spec says %d/%d posture %d",
				 d->id_text, d->severity, d->severity_escalated, d->posture,
				 spec_sev[i].severity, spec_sev[i].escalated, spec_sev[i].posture);
		/* Alerts that are not posture repeat at most hourly by default. */
		if (!d->posture)
			assert_true(d->rate_limit_s >= 600);
	}
	uint64_t named[DET_MAX] = { 0 };
	for (size_t i = 0; i < sizeof(spec_params) / sizeof(spec_params[0]); i++) {
		const struct det_rule *d = rules_det(r, spec_params[i].id);
		if (d->p[spec_params[i].p] != spec_params[i].v)
			fail_msg("%s: %s = %g, DETECTIONS.md says %g", d->id_text,
				 det_param_name(spec_params[i].p), d->p[spec_params[i].p],
				 spec_params[i].v);
		named[spec_params[i].id] |= UINT64_C(1) << spec_params[i].p;
	}
	/* No detection takes a parameter this table does not check. */
	for (int i = 0; i < DET_MAX; i++)
		if (r->det[i].params != named[i])
			fail_msg("%s takes parameters the test does not check", det_id_name((enum det_id)i));
	assert_string_equal(rules_det(r, DET_STUB_PORT_PREDICTABLE)->refs[0], "RFC 5452 §9.2");
	assert_string_equal(det_severity_name(SEV_MEDIUM), "medium");
	assert_string_equal(det_param_name(DP_SIGMA_GOOD), "sigma_good");
	rules_free(r);
}

/* ---- broken files ---------------------------------------------------- */

enum which { DET, RES };

static const struct bad_case {
	const char *name;
	enum which file;
	const char *find;    /* first occurrence replaced … */
	const char *repl;    /* … by this */
	const char *expect;  /* substring of the message */
	int same_line;       /* the message names the line of `find` */
} bad_cases[] = {
	{ "syntax error", DET, "\"version\": 1,", "\"version\": 1,,",
	  "detections.json:2:", 1 },
	{ "unknown id", DET, "\"id\": \"rate.burst\"", "\"id\": \"rate.bursty\"",
	  "unknown detection id \"rate.bursty\"", 1 },
	{ "duplicate id", DET, "\"id\": \"rate.retry-storm\"", "\"id\": \"rate.burst\"",
	  "duplicate detection id \"rate.burst\"", 1 },
	{ "bad severity", DET, "\"severity\": \"high\"", "\"severity\": \"critical\"",
	  "resolver.hardcoded: severity must be info, low, medium or high", 1 },
	{ "severity of the wrong type", DET, "\"severity\": \"low\"", "\"severity\": 2",
	  "encryption.none: severity must be info, low, medium or high", 1 },
	{ "param of the wrong type", DET, "\"min_queries\": 3 }", "\"min_queries\": \"3\" }",
	  "resolver.hardcoded: params.min_queries must be a number", 1 },
	{ "param out of range", DET, "\"ring\": 256", "\"ring\": 100000",
	  "stub.port-predictable: params.ring must be from 8 to 4096", 1 },
	{ "param not whole", DET, "\"min_queries\": 64", "\"min_queries\": 64.5",
	  "stub.port-predictable: params.min_queries must be a whole number", 1 },
	{ "param negative", DET, "\"share\": 0.5", "\"share\": -0.5",
	  "cache.requery-within-ttl: params.share must be from 0 to 1", 1 },
	{ "unknown param", DET, "\"k\": 10", "\"kk\": 10",
	  "rate.burst: unknown parameter \"kk\"", 1 },
	{ "missing param", DET, ", \"same_name_max\": 30", "",
	  "rate.burst: params.same_name_max is missing", 1 },
	{ "params that contradict", DET, "\"max_size\": 1400, \"min_size\": 512",
	  "\"max_size\": 1400, \"min_size\": 1500",
	  "edns.buffer-size: params.min_size cannot exceed params.max_size", 1 },
	{ "race window past what an answer's time holds", DET, "\"params\": { \"window_s\": 5 }",
	  "\"params\": { \"window_s\": 9 }",
	  "response.race: params.window_s cannot exceed 8", 1 },
	{ "subdomain count past what linear counting tells", DET, "\"min_subdomains\": 100",
	  "\"min_subdomains\": 5000",
	  "exfil.suspect-names: params.min_subdomains must be from 2 to 1000", 1 },
	{ "missing field", DET, "\"name\": \"Hard-coded DNS resolver\",", "",
	  "resolver.hardcoded: \"name\" is missing", 0 },
	{ "unknown field", DET, "\"enabled\": true,", "\"enable\": true,",
	  "resolver.hardcoded: unknown member \"enable\"", 1 },
	{ "duplicate key", DET, "\"enabled\": true,", "\"enabled\": true, \"enabled\": false,",
	  "duplicate object key", 1 },
	{ "enabled not a boolean", DET, "\"enabled\": true,", "\"enabled\": 1,",
	  "resolver.hardcoded: enabled must be true or false", 1 },
	{ "bad category", DET, "\"category\": \"cache\"", "\"category\": \"caching\"",
	  "cache.requery-within-ttl: category must be one of", 1 },
	{ "escalation not higher", DET, "\"severity_escalated\": \"medium\"",
	  "\"severity_escalated\": \"low\"",
	  "encryption.none: severity_escalated must be above severity (low)", 1 },
	{ "empty reference", DET, "\"reference\": [\"RFC 2131\", \"RFC 8106\"]",
	  "\"reference\": []", "resolver.rogue-dhcp: reference must be an array", 1 },
	{ "rate limit not whole", DET, "\"rate_limit_s\": 600", "\"rate_limit_s\": 1.5",
	  "response.race: rate_limit_s must be a whole number", 1 },
	{ "character beyond Latin-1", DET, "\"name\": \"Rogue DHCP or RA DNS assignment\"",
	  "\"name\": \"Rogue DHCP \u2192 DNS\"",
	  "resolver.rogue-dhcp: name may hold only characters up to U+00FF", 1 },
	{ "version 2", DET, "\"version\": 1", "\"version\": 2", "version must be 1", 1 },
	{ "bad IPv4", RES, "\"8.8.4.4\"", "\"8.8.4.400\"",
	  "Google Public DNS: addresses[1] is not an IPv4 or IPv6 address", 1 },
	{ "bad IPv6", RES, "\"2606:4700:4700::1111\"", "\"2606:4700:4700:::1111\"",
	  "Cloudflare: addresses[2] is not an IPv4 or IPv6 address", 1 },
	{ "address of two operators", RES, "\"1.1.1.1\", \"1.0.0.1\"", "\"1.1.1.1\", \"8.8.8.8\"",
	  "8.8.8.8 is listed for both", 0 },
	{ "address twice", RES, "\"9.9.9.9\", \"149.112.112.112\"", "\"9.9.9.9\", \"9.9.9.9\"",
	  "9.9.9.9 is listed twice", 1 },
	{ "name of two operators", RES, "\"doh_sni\": [\"doh.cleanbrowsing.org\"]",
	  "\"doh_sni\": [\"doh.cleanbrowsing.org\", \"dns.google\"]",
	  "dns.google is listed for both", 0 },
	{ "template host without SNI", RES, "\"https://ordns.he.net/dns-query\"",
	  "\"https://doh.he.example/dns-query\"",
	  "Hurricane Electric: the host doh.he.example of doh_templates[0] is not among", 1 },
	{ "template not https", RES, "\"https://ordns.he.net/dns-query\"",
	  "\"http://ordns.he.net/dns-query\"",
	  "Hurricane Electric: doh_templates[0] must be an https:// URI template", 1 },
	{ "bad zone name", RES, "\"home.arpa\"", "\"home..arpa\"",
	  "internal_zones: internal_zones[0] is not a host name", 1 },
	{ "wildcard zone", RES, "\"home.arpa\"", "\"*.home.arpa\"",
	  "internal_zones: internal_zones[0] is not a host name", 1 },
	{ "bad sanctioned entry", RES, "\"encrypted\": []", "\"encrypted\": [\"not a name!\"]",
	  "sanctioned: encrypted[0] is neither an IP address nor a host name", 1 },
	{ "bad sanctioned resolver", RES, "\"resolvers\": []", "\"resolvers\": [\"dns.lan\"]",
	  "sanctioned: resolvers[0] is not an IPv4 or IPv6 address", 1 },
	{ "misspelt top-level member", RES, "\"sanctioned\": {", "\"sanctioned_x\": {",
	  "unknown member \"sanctioned_x\"", 1 },
	{ "operator unknown member", RES, "\"operator\": \"114DNS\",",
	  "\"operator\": \"114DNS\", \"doq_names\": [],",
	  "public[8]: unknown member \"doq_names\"", 1 },
	{ "syntax error in resolvers", RES, "\"version\": 1,", "\"version\": 1 \"x\": 2,",
	  "resolvers.json:2:", 1 },
};

struct tmpdir {
	char dir[64];
	char det[96];
	char res[96];
};

static void tmpdir_make(struct tmpdir *t)
{
	strcpy(t->dir, "/tmp/stubwatch-rules-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->det, sizeof(t->det), "%s/detections.json", t->dir);
	snprintf(t->res, sizeof(t->res), "%s/resolvers.json", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
	unlink(t->det);
	unlink(t->res);
	rmdir(t->dir);
}

static void test_broken_files(void **state)
{
	(void)state;
	char *det = slurp("rules/detections.json", NULL);
	char *res = slurp("rules/resolvers.json", NULL);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct tmpdir t;
		tmpdir_make(&t);
		const char *orig = bc->file == DET ? det : res;
		char *broken = replace1(orig, bc->find, bc->repl);
		spit(t.det, bc->file == DET ? broken : det);
		spit(t.res, bc->file == RES ? broken : res);
		char err[512] = "";
		struct rules *r = rules_load(t.dir, err, sizeof(err));
		if (r != NULL)
			fail_msg("case \"%s\": loaded", bc->name);
		if (strstr(err, bc->expect) == NULL)
			fail_msg("case \"%s\": message \"%s\" lacks \"%s\"", bc->name, err, bc->expect);
		/* Every message starts with the file's path. */
		const char *path = bc->file == DET ? t.det : t.res;
		if (strncmp(err, path, strlen(path)) != 0)
			fail_msg("case \"%s\": message \"%s\" does not start with %s", bc->name,
				 err, path);
		if (bc->same_line) {
			char want[160];
			snprintf(want, sizeof(want), "%s:%d:", path, line_of(orig, bc->find));
			if (strncmp(err, want, strlen(want)) != 0)
				fail_msg("case \"%s\": message \"%s\" not at %s", bc->name, err, want);
		}
		assert_int_equal(rules_check(t.dir, err, sizeof(err)), SW_EINVAL);
		free(broken);
		tmpdir_remove(&t);
	}
	free(det);
	free(res);
}

/* A file kept from before a parameter was added loads, with the shipped
 * value of each such parameter; a parameter that was always there is
 * still required (the "missing param" case above). */
static void test_later_params(void **state)
{
	(void)state;
	char *det = slurp("rules/detections.json", NULL);
	char *res = slurp("rules/resolvers.json", NULL);
	static const struct {
		const char *find, *repl;
	} cut[] = {
		{ "\"params\": { \"window_s\": 5 }", "\"params\": { }" },
		{ ", \"window_s\": 300", "" },
		{ ", \"min_subdomains\": 100", "" },
	};
	char *old = strdup(det);
	assert_non_null(old);
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		char *next = replace1(old, cut[i].find, cut[i].repl);
		free(old);
		old = next;
	}
	struct tmpdir t;
	tmpdir_make(&t);
	spit(t.det, old);
	spit(t.res, res);
	char err[512] = "";
	struct rules *r = rules_load(t.dir, err, sizeof(err));
	if (r == NULL)
		fail_msg("a file without the later parameters: %s", err);
	assert_true(rules_det(r, DET_RESPONSE_RACE)->p[DP_WINDOW_S] == 5);
	assert_true(rules_det(r, DET_AMPLIFICATION_RATIO)->p[DP_WINDOW_S] == 300);
	assert_true(rules_det(r, DET_EXFIL_SUSPECT_NAMES)->p[DP_MIN_SUBDOMAINS] == 100);
	rules_free(r);
	tmpdir_remove(&t);
	free(old);
	free(det);
	free(res);
}

static void test_missing_files(void **state)
{
	(void)state;
	char err[512];
	struct tmpdir t;
	tmpdir_make(&t);
	/* An empty folder: detections.json is named. */
	assert_null(rules_load(t.dir, err, sizeof(err)));
	assert_non_null(strstr(err, "detections.json: cannot open"));
	/* detections.json alone: resolvers.json is named. */
	char *det = slurp("rules/detections.json", NULL);
	spit(t.det, det);
	free(det);
	assert_null(rules_load(t.dir, err, sizeof(err)));
	assert_non_null(strstr(err, "resolvers.json: cannot open"));
	tmpdir_remove(&t);
	/* No folder at all. */
	assert_null(rules_load("/nonexistent/stubwatch-rules", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/stubwatch-rules: rules folder"));
	/* A file where the folder should be. */
	assert_null(rules_load("rules/detections.json", err, sizeof(err)));
	assert_non_null(strstr(err, "not a directory"));
	/* No room for a message is not a crash. */
	assert_null(rules_load("/nonexistent", NULL, 0));
}

static void test_buffers(void **state)
{
	(void)state;
	char err[512];
	size_t rl;
	char *res = slurp("rules/resolvers.json", &rl);
	/* A detection left out. */
	static const char empty[] = "{\"version\": 1, \"detections\": []}";
	assert_null(rules_load_buffers("d.json", empty, strlen(empty), "r.json", res, rl, err,
				       sizeof(err)));
	assert_non_null(strstr(err, "d.json:1:"));
	assert_non_null(strstr(err, "detection \"resolver.hardcoded\" is missing"));
	/* Not an object at the top. */
	assert_null(rules_load_buffers("d.json", "[]", 2, "r.json", res, rl, err, sizeof(err)));
	assert_non_null(strstr(err, "d.json:1:1: the top level must be an object"));
	/* Not NUL-terminated input is read only up to its length. */
	assert_null(rules_load_buffers("d.json", "{}xxxx", 2, "r.json", res, rl, err, sizeof(err)));
	assert_non_null(strstr(err, "\"version\" is missing"));
	/* Empty input. */
	assert_null(rules_load_buffers("d.json", "", 0, "r.json", res, rl, err, sizeof(err)));
	assert_non_null(strstr(err, "d.json:"));
	free(res);
}

/* ---- lookups ---------------------------------------------------------- */

static const char *op_of(const struct rules *r, const char *ip_text)
{
	uint8_t ip[16];
	assert_int_equal(ip_parse(ip_text, ip), 0);
	return rules_public_operator(r, ip);
}

static void test_public_addresses(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	static const struct {
		const char *ip;
		const char *op;
	} cases[] = {
		{ "8.8.8.8", "Google Public DNS" },
		{ "8.8.4.4", "Google Public DNS" },
		{ "2001:4860:4860::8888", "Google Public DNS" },
		{ "2606:4700:4700::1111", "Cloudflare" },
		{ "1.1.1.3", "Cloudflare" },
		{ "9.9.9.9", "Quad9" },
		{ "2620:fe::fe", "Quad9" },
		{ "208.67.222.222", "OpenDNS (Cisco)" },
		{ "94.140.14.14", "AdGuard DNS" },
		{ "2a10:50c0::ad1:ff", "AdGuard DNS" },
		{ "185.228.168.9", "CleanBrowsing" },
		{ "45.90.28.0", "NextDNS" },
		{ "2a02:6b8::feed:0ff", "Yandex DNS" },
		{ "114.114.114.114", "114DNS" },
		{ "223.5.5.5", "AliDNS (Alibaba Cloud)" },
		{ "119.29.29.29", "DNSPod (Tencent)" },
		{ "76.76.2.0", "Control D" },
		{ "4.2.2.2", "Level 3 (Lumen)" },
		{ "::ffff:8.8.8.8", "Google Public DNS" }, /* mapped text, same key */
		{ "192.168.1.1", NULL },
		{ "8.8.8.9", NULL },
		{ "::", NULL },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
		{ "0.0.0.0", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = op_of(r, cases[i].ip);
		if (cases[i].op == NULL ? got != NULL : got == NULL || strcmp(got, cases[i].op) != 0)
			fail_msg("%s: %s, want %s", cases[i].ip, got ? got : "NULL",
				 cases[i].op ? cases[i].op : "NULL");
	}
	/* The list is sorted: every entry finds itself. */
	for (size_t i = 0; i < r->npub; i++) {
		if (i > 0)
			assert_true(memcmp(r->pub[i - 1].ip, r->pub[i].ip, 16) < 0);
		assert_string_equal(rules_public_operator(r, r->pub[i].ip), r->ops[r->pub[i].op].name);
	}
	assert_true(r->npub > 100);
	/* Nothing sanctioned by default. */
	uint8_t ip[16];
	ip_parse("8.8.8.8", ip);
	assert_false(rules_is_sanctioned(r, ip));
	assert_false(rules_encrypted_sanctioned(r, ip, "dns.google"));
	assert_false(rules_encrypted_sanctioned(r, NULL, NULL));
	rules_free(r);
}

static void test_names(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	static const struct {
		int dot;           /* 0: DoH SNI, 1: DoT name */
		const char *name;
		const char *op;
	} cases[] = {
		{ 0, "dns.google", "Google Public DNS" },
		{ 0, "DNS.Google.", "Google Public DNS" },    /* case and trailing dot */
		{ 0, "cloudflare-dns.com", "Cloudflare" },
		{ 0, "mozilla.cloudflare-dns.com", "Cloudflare" }, /* *.cloudflare-dns.com */
		{ 0, "abc123.dns.nextdns.io", "NextDNS" },
		{ 0, "dns.nextdns.io", "NextDNS" },
		{ 0, "doh.opendns.com", "OpenDNS (Cisco)" },
		{ 0, "dns.adguard-dns.com", "AdGuard DNS" },
		{ 0, "doh.cleanbrowsing.org", "CleanBrowsing" },
		{ 0, "doh.pub", "DNSPod (Tencent)" },
		{ 0, "freedns.controld.com", "Control D" },
		{ 0, "nextdns.io", NULL },                     /* parent of a *. entry */
		{ 0, "xdns.google", NULL },                    /* not on a label boundary */
		{ 0, "dns.google.evil.example", NULL },
		{ 0, "sub.dns.google", NULL },                 /* dns.google is exact only */
		{ 0, "", NULL },
		{ 0, ".", NULL },
		{ 1, "one.one.one.one", "Cloudflare" },
		{ 1, "1dot1dot1dot1.cloudflare-dns.com", "Cloudflare" },
		{ 1, "dns.quad9.net", "Quad9" },
		{ 1, "common.dot.dns.yandex.net", "Yandex DNS" },
		{ 1, "dns.alidns.com", "AliDNS (Alibaba Cloud)" },
		{ 1, "dot.pub", "DNSPod (Tencent)" },
		{ 1, "p2.freedns.controld.com", "Control D" },
		{ 1, "doh.cleanbrowsing.org", NULL },          /* a DoH name, not DoT */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cases[i].dot ? rules_dot_operator(r, cases[i].name)
					       : rules_doh_operator(r, cases[i].name);
		if (cases[i].op == NULL ? got != NULL : got == NULL || strcmp(got, cases[i].op) != 0)
			fail_msg("%s (%s): %s, want %s", cases[i].name, cases[i].dot ? "dot" : "doh",
				 got ? got : "NULL", cases[i].op ? cases[i].op : "NULL");
	}
	/* A name longer than any DNS name matches nothing. */
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_null(rules_doh_operator(r, longname));

	assert_true(rules_internal_zone(r, "home.arpa"));
	assert_true(rules_internal_zone(r, "printer.home.arpa"));
	assert_true(rules_internal_zone(r, "Printer.Home.Arpa."));
	assert_true(rules_internal_zone(r, "LOCAL"));
	assert_true(rules_internal_zone(r, "nas.lan"));
	assert_false(rules_internal_zone(r, "myhome.arpa"));
	assert_false(rules_internal_zone(r, "example.com"));
	assert_false(rules_internal_zone(r, "arpa"));
	rules_free(r);
}

static void test_sanctioned(void **state)
{
	(void)state;
	size_t dl;
	char *det = slurp("rules/detections.json", &dl);
	char *res = slurp("rules/resolvers.json", NULL);
	char *r1 = replace1(res, "\"resolvers\": []",
			    "\"resolvers\": [\"192.168.1.1\", \"fd00::53\", \"10.0.0.1\"]");
	char *r2 = replace1(r1, "\"encrypted\": []",
			    "\"encrypted\": [\"dns.corp.example\", \"*.doh.corp.example\", "
			    "\"10.0.0.53\", \"DNS.Corp.Example\"]");
	char err[512];
	struct rules *r = rules_load_buffers("d", det, dl, "r", r2, strlen(r2), err, sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	uint8_t ip[16];
	ip_parse("192.168.1.1", ip);
	assert_true(rules_is_sanctioned(r, ip));
	ip_parse("fd00::53", ip);
	assert_true(rules_is_sanctioned(r, ip));
	ip_parse("10.0.0.1", ip);
	assert_true(rules_is_sanctioned(r, ip));
	ip_parse("192.168.1.2", ip);
	assert_false(rules_is_sanctioned(r, ip));
	assert_true(rules_encrypted_sanctioned(r, NULL, "dns.corp.example"));
	assert_true(rules_encrypted_sanctioned(r, NULL, "a.doh.corp.example"));
	assert_false(rules_encrypted_sanctioned(r, NULL, "doh.corp.example"));
	assert_false(rules_encrypted_sanctioned(r, NULL, "dns.google"));
	ip_parse("10.0.0.53", ip);
	assert_true(rules_encrypted_sanctioned(r, ip, NULL));
	assert_true(rules_encrypted_sanctioned(r, ip, "dns.google"));
	ip_parse("10.0.0.54", ip);
	assert_false(rules_encrypted_sanctioned(r, ip, NULL));
	/* The two spellings of one name merged into one entry. */
	assert_int_equal(r->nenc_names, 2);
	rules_free(r);
	free(det);
	free(res);
	free(r1);
	free(r2);
}

static void test_find_dir(void **state)
{
	(void)state;
	char out[512];
	assert_int_equal(rules_find_dir("rules", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "rules");
	assert_int_equal(rules_find_dir("rules", 1, out, sizeof(out)), 0);
	/* Named by the user and wrong: no fallback, the message names it. */
	assert_int_equal(rules_find_dir("/nonexistent/r", 1, out, sizeof(out)), SW_EIO);
	assert_non_null(strstr(out, "/nonexistent/r"));
	/* The default and absent: the installed places are tried (and, on a
	 * machine without an install, named in the message). */
	int rc = rules_find_dir("/nonexistent/r", 0, out, sizeof(out));
	if (rc != 0)
		assert_non_null(strstr(out, "/usr/share/stubwatch/rules"));
	else
		assert_non_null(strstr(out, "share/stubwatch/rules"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_load),
		cmocka_unit_test(test_every_id_once),
		cmocka_unit_test(test_shipped_defaults),
		cmocka_unit_test(test_broken_files),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_later_params),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_public_addresses),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sanctioned),
		cmocka_unit_test(test_find_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
