/* test_detect_alert.c — stubwatch.alert events read back with jansson, the
 * queue path through a real file sink, and the per-device rate limits.
 * Run from the repository root (the shipped rules are loaded). */
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
#include "detect/alert.h"
#include "detect/rules.h"
#include "dns/dns.h"
#include "output/jw.h"
#include "output/out.h"

static struct rules *load_shipped(void)
{
	char err[512];
	struct rules *r = rules_load("rules", err, sizeof(err));
	if (r == NULL)
		fail_msg("shipped rules: %s (run from the repository root)", err);
	return r;
}

static json_t *parse(char *text, size_t len)
{
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		fail_msg("not JSON: %s (%s)", text, e.text);
	free(text);
	return j;
}

static const char *sget(json_t *root, const char *path)
{
	json_t *v = root;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	if (!json_is_string(v))
		fail_msg("%s is not a string", path);
	return json_string_value(v);
}

static json_t *jget(json_t *root, const char *path)
{
	json_t *v = root;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	return v;
}

static void dev_setup(struct dev_key *k, struct device *d)
{
	memset(k, 0, sizeof(*k));
	memset(d, 0, sizeof(*d));
	static const uint8_t mac[6] = { 0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc };
	memcpy(k->mac, mac, 6);
	k->vlan = 20;
	d->nv4 = 1;
	d->v4[0][0] = 192, d->v4[0][1] = 168, d->v4[0][2] = 1, d->v4[0][3] = 23;
	d->nv6 = 1;
	ip_parse("2001:db8::23", d->v6[0]);
	d->first_seen = 1700000000000000ull;
	d->last_seen = 1700000100000000ull;
}

static const struct ev_observer obs_sensor1 = { .name = "sensor-1", .hostname = "box" };
static const struct ev_observer obs_s = { .name = "s" };

static void test_alert_fields(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	struct dev_key k;
	struct device d;
	dev_setup(&k, &d);
	uint8_t src[16], dst[16];
	ip_parse("192.168.1.23", src);
	ip_parse("8.8.8.8", dst);
	struct alert_ctx c = {
		.ts_us = 1700000123456789ull,
		.observer = &obs_sensor1,
		.src_port = 40001,
		.l4 = 17,
		.dev = &k,
		.d = &d,
		.vendor = "Acme \"Cams\"",
		.src_ip = src,
		.dst_ip = dst,
		.dst_port = 53,
		.dst_operator = rules_public_operator(r, dst),
		.qname = "time.example.com",
		.qtype = 28,
		.dns_id = 0,
		.reason = "class_none",
	};
	const struct det_rule *rule = rules_det(r, DET_STUB_TXID_PREDICTABLE);
	struct jw w;
	alert_begin(&w, rule, &c, "The device sends every DNS query with transaction ID 0.");
	jw_uint(&w, "n", 64);
	jw_real4(&w, "sigma", 0.0);
	jw_real4(&w, "bits", 0.0);
	jw_str(&w, "class", "none");
	jw_obj(&w, "thresholds");
	jw_uint(&w, "min_queries", (uint64_t)rule->p[DP_MIN_QUERIES]);
	jw_end(&w);
	size_t len;
	char *text = alert_finish(&w, &len);
	json_t *j = parse(text, len);
	jw_free(&w);

	assert_string_equal(sget(j, "@timestamp"), "2023-11-14T22:15:23.456789Z");
	assert_string_equal(sget(j, "event.kind"), "alert");
	assert_string_equal(sget(j, "event.dataset"), "stubwatch.alert");
	assert_int_equal(json_integer_value(jget(j, "event.severity")), 4);
	assert_string_equal(sget(j, "ecs.version"), EV_ECS_VERSION);
	assert_string_equal(sget(j, "event.module"), "stubwatch");
	assert_string_equal(json_string_value(json_array_get(jget(j, "event.category"), 0)), "network");
	assert_string_equal(json_string_value(json_array_get(jget(j, "event.category"), 1)),
			    "intrusion_detection");
	assert_string_equal(json_string_value(json_array_get(jget(j, "event.type"), 0)), "info");
	assert_string_equal(sget(j, "event.reason"), "class_none");
	assert_string_equal(sget(j, "observer.name"), "sensor-1");
	assert_string_equal(sget(j, "observer.product"), "stubwatch");
	assert_string_equal(sget(j, "observer.hostname"), "box");
	assert_string_equal(sget(j, "observer.type"), "sensor");
	assert_non_null(jget(j, "observer.version"));
	assert_string_equal(sget(j, "rule.id"), "stub.txid-predictable");
	assert_string_equal(sget(j, "rule.ruleset"), "stubwatch");
	assert_string_equal(sget(j, "rule.description"), rule->description);
	assert_string_equal(sget(j, "rule.name"), rule->name);
	assert_string_equal(sget(j, "rule.category"), "spoofing");
	assert_string_equal(sget(j, "rule.reference"),
			    "https://www.rfc-editor.org/rfc/rfc5452#section-9.2");
	json_t *refs = jget(j, "stubwatch.rule.references");
	assert_int_equal(json_array_size(refs), rule->nrefs);
	assert_string_equal(json_string_value(json_array_get(refs, 0)), "https://www.rfc-editor.org/rfc/rfc5452#section-9.2");
	assert_string_equal(json_string_value(json_array_get(refs, 1)), "https://www.rfc-editor.org/rfc/rfc1035#section-4.1.1");
	assert_string_equal(sget(j, "message"),
			    "The device sends every DNS query with transaction ID 0.");
	assert_string_equal(sget(j, "source.mac"), "00-11-22-AA-BB-CC");
	assert_string_equal(sget(j, "source.ip"), "192.168.1.23");
	assert_int_equal(json_integer_value(jget(j, "source.port")), 40001);
	assert_string_equal(sget(j, "stubwatch.device.key"), "00:11:22:aa:bb:cc");
	assert_string_equal(sget(j, "stubwatch.device.mac"), "00:11:22:aa:bb:cc");
	assert_int_equal(json_integer_value(jget(j, "stubwatch.device.vlan")), 20);
	assert_string_equal(sget(j, "network.vlan.id"), "20");
	assert_string_equal(sget(j, "device.id"), "00-11-22-AA-BB-CC");
	assert_string_equal(json_string_value(json_array_get(jget(j, "host.mac"), 0)),
			    "00-11-22-AA-BB-CC");
	assert_string_equal(sget(j, "device.manufacturer"), "Acme \"Cams\"");
	assert_null(jget(j, "host.hostname"));
	/* One flow (addresses, ports, UDP): its Community ID, to pivot. */
	assert_string_equal(sget(j, "network.transport"), "udp");
	assert_string_equal(sget(j, "network.direction"), "outbound");
	assert_non_null(sget(j, "network.community_id"));
	json_t *ips = jget(j, "host.ip");
	assert_int_equal(json_array_size(ips), 2);
	assert_string_equal(json_string_value(json_array_get(ips, 0)), "192.168.1.23");
	assert_string_equal(json_string_value(json_array_get(ips, 1)), "2001:db8::23");
	assert_string_equal(sget(j, "destination.ip"), "8.8.8.8");
	assert_int_equal(json_integer_value(jget(j, "destination.port")), 53);
	assert_string_equal(sget(j, "destination.as.organization.name"), "Google Public DNS");
	assert_string_equal(sget(j, "dns.id"), "0");
	assert_string_equal(sget(j, "dns.question.name"), "time.example.com");
	assert_string_equal(sget(j, "dns.question.type"), "AAAA");
	json_t *ev = jget(j, "stubwatch.evidence");
	assert_true(json_is_object(ev));
	assert_int_equal(json_integer_value(json_object_get(ev, "n")), 64);
	assert_string_equal(json_string_value(json_object_get(ev, "class")), "none");
	assert_int_equal(json_integer_value(jget(ev, "thresholds.min_queries")), 64);
	/* Keys come in the house order: evidence last. */
	const char *last = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
		last = key;
	(void)v;
	assert_string_equal(last, "stubwatch");
	json_decref(j);
	rules_free(r);
}

/* The "rule" object the loader renders once per rule is byte for byte the
 * one an alert writes live (a rule built by hand has none): for every
 * shipped rule, and for a name and references outside ASCII. */
static void test_rule_rendered_once(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	struct alert_ctx c = { .ts_us = 1700000000000000ull, .observer = &obs_s, .dns_id = -1 };
	static const char *const refs[] = { "https://example.org/caf\xc3\xa9", "RFC \"5452\"" };
	struct det_rule odd = *rules_det(r, DET_EDNS_MISSING);
	odd.name = "Na\xc3\xafve \\ stub";
	odd.refs = refs;
	odd.nrefs = 2;
	size_t n;
	char *text = alert_rule_json(&odd, &n);
	assert_non_null(text);
	odd.json = text;
	odd.json_len = n;
	for (unsigned i = 0; i <= DET_MAX; i++) {
		const struct det_rule *kept = i < DET_MAX ? &r->det[i] : &odd;
		if (kept->id_text == NULL)
			continue;
		assert_non_null(kept->json);
		struct det_rule live = *kept;
		live.json = NULL;
		struct jw a, b;
		alert_begin(&a, kept, &c, "m");
		alert_begin(&b, &live, &c, "m");
		size_t la, lb;
		char *ta = alert_finish(&a, &la), *tb = alert_finish(&b, &lb);
		assert_non_null(ta);
		assert_non_null(tb);
		assert_string_equal(ta, tb);
		free(ta);
		free(tb);
	}
	free(text);
	rules_free(r);
}

static void test_alert_optional_parts(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	const struct det_rule *rule = rules_det(r, DET_RESPONSE_UNSOLICITED);
	struct dev_key k;
	struct device d;
	dev_setup(&k, &d);

	/* Escalated severity; no device record, no destination, no DNS;
	 * empty evidence; an unnamed qtype in RFC 3597 form. */
	struct alert_ctx c = { .ts_us = 0, .observer = &obs_s, .dev = &k, .escalated = 1,
			       .qname = "x.example", .qtype = 65280, .dns_id = -1 };
	struct jw w;
	alert_begin(&w, rule, &c, "m");
	size_t len;
	char *text = alert_finish(&w, &len);
	json_t *j = parse(text, len);
	jw_free(&w);
	assert_int_equal(json_integer_value(jget(j, "event.severity")), 4);
	assert_null(jget(j, "event.reason"));
	assert_null(jget(j, "host.ip"));
	assert_null(jget(j, "destination"));
	assert_null(jget(j, "network.community_id"));
	assert_null(jget(j, "source.ip"));
	assert_string_equal(sget(j, "source.mac"), "00-11-22-AA-BB-CC");
	assert_null(jget(j, "dns.id"));
	assert_string_equal(sget(j, "dns.question.type"), "TYPE65280");
	assert_true(json_is_object(jget(j, "stubwatch.evidence")));
	assert_int_equal(json_object_size(jget(j, "stubwatch.evidence")), 0);
	json_decref(j);
	assert_int_equal(alert_severity(rule, 0), SEV_MEDIUM);
	assert_int_equal(alert_severity(rule, 1), SEV_HIGH);
	/* A rule that never escalates keeps its severity. */
	assert_int_equal(alert_severity(rules_det(r, DET_EDNS_MISSING), 1), SEV_LOW);

	/* A network-wide alert: no device at all. */
	uint8_t res[16];
	ip_parse("192.168.1.1", res);
	struct alert_ctx n = { .ts_us = 1, .observer = &obs_s, .dst_ip = res, .dst_port = 53,
			       .dns_id = -1 };
	alert_begin(&w, rules_det(r, DET_NETWORK_RESOLVER_OUTAGE), &n, "Resolver down.");
	jw_uint(&w, "devices", 7);
	text = alert_finish(&w, &len);
	j = parse(text, len);
	jw_free(&w);
	assert_null(jget(j, "source"));
	assert_null(jget(j, "device"));
	assert_null(jget(j, "host"));
	assert_null(jget(j, "dns"));
	assert_string_equal(sget(j, "destination.ip"), "192.168.1.1");
	assert_int_equal(json_integer_value(jget(j, "stubwatch.evidence.devices")), 7);
	json_decref(j);

	/* A device keyed by IP (links without MACs). */
	struct dev_key ki = { .by_ip = 1 };
	ip_parse("10.9.8.7", ki.ip);
	struct alert_ctx ci = { .ts_us = 1, .observer = &obs_s, .dev = &ki, .dns_id = -1 };
	alert_begin(&w, rule, &ci, "m");
	text = alert_finish(&w, &len);
	j = parse(text, len);
	jw_free(&w);
	assert_string_equal(sget(j, "device.id"), "10.9.8.7");
	assert_string_equal(sget(j, "stubwatch.device.key"), "10.9.8.7");
	assert_null(jget(j, "host.mac"));
	assert_null(jget(j, "stubwatch.device.mac"));
	assert_null(jget(j, "source"));
	json_decref(j);
	rules_free(r);
}

/* The whole path: alert_emit → queue → file sink → a JSON line. */
static void test_alert_emit(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	char path[] = "/tmp/stubwatch-alert-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	struct out *o = out_new(16);
	assert_non_null(o);
	out_set_blocking(o, 1);
	struct out_sink *s = out_file_sink(path, err, sizeof(err));
	if (s == NULL)
		fail_msg("file sink: %s", err);
	assert_int_equal(out_add_sink(o, s), 0);
	assert_int_equal(out_start(o), 0);

	struct dev_key k;
	struct device d;
	dev_setup(&k, &d);
	struct alert_ctx c = { .ts_us = 1700000000000000ull, .observer = &obs_s, .dev = &k, .d = &d,
			       .dns_id = -1 };
	struct jw w;
	alert_begin(&w, rules_det(r, DET_EDNS_MISSING), &c, "No query carries an OPT RR.");
	jw_uint(&w, "queries", 120);
	jw_uint(&w, "queries_edns", 0);
	assert_int_equal(alert_emit(o, &w, &c), 0);
	struct out_stats st;
	out_get_stats(o, &st);
	assert_int_equal(st.emitted[OUT_DS_ALERT], 1);
	out_stop(o);

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[8192];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_null(fgets(line + strlen(line), (int)(sizeof(line) - strlen(line)), f));
	fclose(f);
	unlink(path);
	json_error_t e;
	json_t *j = json_loads(line, 0, &e);
	if (j == NULL)
		fail_msg("line is not JSON: %s", line);
	assert_string_equal(sget(j, "rule.id"), "edns.missing");
	/* A posture finding names no packet: source.ip is the device's. */
	assert_string_equal(sget(j, "source.ip"), "192.168.1.23");
	assert_int_equal(json_integer_value(jget(j, "event.severity")), SEV_LOW);
	assert_int_equal(json_integer_value(jget(j, "stubwatch.evidence.queries")), 120);
	json_decref(j);
	rules_free(r);
}

/* ---- rate limits ------------------------------------------------------- */

#define SEC 1000000ull

static void test_rate_limit(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	const struct det_rule *hc = rules_det(r, DET_RESOLVER_HARDCODED);
	assert_int_equal(hc->rate_limit_s, 3600);
	assert_true(sizeof(struct alert_state) <= 136);
	struct alert_state s;
	alert_state_init(&s);
	uint64_t t0 = 1700000000 * SEC;
	static const struct {
		uint64_t dt_s;
		int fires;
	} steps[] = {
		{ 0, 1 },     /* first sight */
		{ 0, 0 },     /* same second */
		{ 10, 0 },
		{ 3599, 0 },  /* one second short */
		{ 3600, 1 },  /* the interval has passed */
		{ 3601, 0 },
		{ 7199, 0 },
		{ 7200, 1 },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int got = alert_should_fire(&s, DET_RESOLVER_HARDCODED,
					    t0 + steps[i].dt_s * SEC, hc);
		if (got != steps[i].fires)
			fail_msg("t0+%llus: fired %d, want %d", (unsigned long long)steps[i].dt_s,
				 got, steps[i].fires);
	}
	/* Rules are limited independently. */
	assert_int_equal(alert_should_fire(&s, DET_RATE_BURST, t0 + 7200 * SEC,
					   rules_det(r, DET_RATE_BURST)), 1);
	/* A clock that steps back restarts the interval without firing. */
	assert_int_equal(alert_should_fire(&s, DET_RESOLVER_HARDCODED, t0 + 100 * SEC, hc), 0);
	assert_int_equal(alert_should_fire(&s, DET_RESOLVER_HARDCODED, t0 + 3699 * SEC, hc), 0);
	assert_int_equal(alert_should_fire(&s, DET_RESOLVER_HARDCODED, t0 + 3700 * SEC, hc), 1);

	/* Disabled: never; no limit (0): every time. */
	struct det_rule off = *hc;
	off.enabled = 0;
	struct alert_state s2;
	alert_state_init(&s2);
	assert_int_equal(alert_should_fire(&s2, DET_RESOLVER_HARDCODED, t0, &off), 0);
	struct det_rule every = *hc;
	every.rate_limit_s = 0;
	assert_int_equal(alert_should_fire(&s2, DET_RESOLVER_HARDCODED, t0, &every), 1);
	assert_int_equal(alert_should_fire(&s2, DET_RESOLVER_HARDCODED, t0, &every), 1);
	assert_int_equal(alert_should_fire(&s2, DET_RESOLVER_HARDCODED, t0, NULL), 0);
	assert_int_equal(alert_should_fire(&s2, DET_MAX, t0, hc), 0);
	rules_free(r);
}

static void test_posture(void **state)
{
	(void)state;
	struct rules *r = load_shipped();
	const struct det_rule *em = rules_det(r, DET_EDNS_MISSING);
	assert_true(em->posture);
	struct alert_state s;
	alert_state_init(&s);
	uint64_t t = 1700000000 * SEC;
	static const struct {
		enum alert_verdict v;
		int rc;
	} steps[] = {
		{ VERDICT_UNKNOWN, 0 },                      /* too few queries */
		{ VERDICT_PASS, ALERT_CHANGED },
		{ VERDICT_PASS, 0 },
		{ VERDICT_FAIL, ALERT_CHANGED | ALERT_FIRE }, /* became fail: one alert */
		{ VERDICT_FAIL, 0 },                         /* still fail: silence */
		{ VERDICT_UNKNOWN, 0 },                      /* a window restarts: no re-arm */
		{ VERDICT_FAIL, 0 },
		{ VERDICT_PASS, ALERT_CHANGED },
		{ VERDICT_FAIL, ALERT_CHANGED | ALERT_FIRE }, /* changed again: alert again */
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = alert_verdict(&s, DET_EDNS_MISSING, steps[i].v, t + i * SEC, em);
		if (rc != steps[i].rc)
			fail_msg("step %zu: %d, want %d", i, rc, steps[i].rc);
	}
	assert_int_equal(alert_verdict_get(&s, DET_EDNS_MISSING), VERDICT_FAIL);
	/* Verdicts of neighbouring detections are not disturbed. */
	assert_int_equal(alert_verdict_get(&s, DET_EDNS_BUFFER_SIZE), VERDICT_UNKNOWN);
	assert_int_equal(alert_verdict_get(&s, DET_TRANSPORT_NO_TCP_FALLBACK), VERDICT_UNKNOWN);
	assert_int_equal(alert_verdict(&s, DET_EXFIL_SUSPECT_NAMES, VERDICT_FAIL, t,
				       rules_det(r, DET_EXFIL_SUSPECT_NAMES)),
			 ALERT_CHANGED | ALERT_FIRE);
	assert_int_equal(alert_verdict_get(&s, DET_EXFIL_SUSPECT_NAMES), VERDICT_FAIL);
	assert_int_equal(alert_verdict_get(&s, DET_EDNS_MISSING), VERDICT_FAIL);

	/* Disabled: the verdict is still kept (scorecard), no alert. */
	struct det_rule off = *em;
	off.enabled = 0;
	struct alert_state s2;
	alert_state_init(&s2);
	assert_int_equal(alert_verdict(&s2, DET_EDNS_MISSING, VERDICT_FAIL, t, &off), ALERT_CHANGED);
	assert_int_equal(alert_verdict_get(&s2, DET_EDNS_MISSING), VERDICT_FAIL);
	assert_int_equal(alert_verdict(&s2, DET_EDNS_MISSING, (enum alert_verdict)3, t, em), 0);

	/* alert_should_fire on a posture rule: once per failing episode. */
	struct alert_state s3;
	alert_state_init(&s3);
	assert_int_equal(alert_should_fire(&s3, DET_EDNS_MISSING, t, em), 1);
	assert_int_equal(alert_should_fire(&s3, DET_EDNS_MISSING, t + 86400 * 30 * SEC, em), 0);
	assert_int_equal(alert_verdict(&s3, DET_EDNS_MISSING, VERDICT_PASS, t, em), ALERT_CHANGED);
	assert_int_equal(alert_should_fire(&s3, DET_EDNS_MISSING, t, em), 1);
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_fields),
		cmocka_unit_test(test_alert_optional_parts),
		cmocka_unit_test(test_rule_rendered_once),
		cmocka_unit_test(test_alert_emit),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_posture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
