/* test_web.c — the web view, its answers and metrics, the listen-address
 * and --fail-on parsers, and the guideline sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>
#include <netinet/in.h>

#include "common/err.h"
#include "web/fields.h"
#include "web/guide.h"
#include "web/http.h"
#include "web/report.h"
#include "web/view.h"

/* A device event with a scorecard of the given verdicts ('p', 'f', 'u'),
 * shaped as the sensor writes it: one member per line, then the totals. */
static char *device_event(const char *id, const char *reason, const char *verdicts, double score,
			  unsigned vlan)
{
	json_t *sc = json_object();
	for (int i = 0; verdicts[i] != '\0'; i++) {
		char key[16];
		snprintf(key, sizeof(key), "line%d", i + 1);
		json_object_set_new(sc, key, json_pack("{s:i,s:s,s:s,s:{}}", "line", i + 1,
			"guideline", "a guideline", "verdict", verdicts[i] == 'p' ? "pass" :
			verdicts[i] == 'f' ? "fail" : "unknown", "evidence"));
	}
	json_object_set_new(sc, "score", json_real(score));
	json_t *ev = json_pack("{s:s,s:{s:s,s:s},s:{s:{s:s,s:s,s:i},s:{s:{s:i,s:i}},s:o,"
			       "s:{s:b}}}",
			       "@timestamp", "2026-01-15T10:00:00.000000Z",
			       "event", "dataset", "stubwatch.device", "reason", reason,
			       "stubwatch", "device", "key", id, "mac", id, "vlan", (int)vlan,
			       "dns", "rcodes", "NOERROR", 5, "NXDOMAIN", 2,
			       "scorecard", sc,
			       "network", "rdnss", 1);
	char *s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return s;
}

static char *alert_event(const char *dev, const char *rule, int sev, const char *ts)
{
	json_t *ev = json_pack("{s:s,s:{s:s,s:i},s:{s:s},s:s,s:{s:{s:s}}}", "@timestamp", ts,
			       "event", "dataset", "stubwatch.alert", "severity", sev,
			       "rule", "id", rule, "message", "something happened",
			       "stubwatch", "device", "key", dev);
	char *s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return s;
}

static void ingest(struct web_view *v, int ds, char *json)
{
	view_ingest(v, ds, json, strlen(json));
	free(json);
}

static json_t *parse(char *s)
{
	assert_non_null(s);
	json_t *j = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(j);
	return j;
}

static void test_fld_get(void **state)
{
	(void)state;
	json_t *o = json_loads("{\"a\":{\"b\":{\"c\":3}},\"@timestamp\":\"t\",\"s\":\"x\"}", 0, NULL);
	assert_int_equal(json_integer_value(fld_get(o, "a.b.c")), 3);
	assert_null(fld_get(o, "a.b.c.d"));
	assert_null(fld_get(o, "a.x"));
	assert_string_equal(fld_str(o, "@timestamp", "?"), "t");
	assert_string_equal(fld_str(o, "a.b", "def"), "def");
	assert_null(fld_get(o, "a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
	json_decref(o);
}

static void test_devices_pages_and_eviction(void **state)
{
	(void)state;
	struct web_view *v = view_new(3, 8, 0);
	size_t len;
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:02", "first", "pf", 0.5, 0));
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:01", "first", "pp", 1.0, 0));
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:03", "first", "ff", 0.0, 7));
	/* Full: a fourth device is refused and counted. */
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:04", "first", "ff", 0.0, 0));
	struct view_counters c;
	view_get_counters(v, &c);
	assert_int_equal(c.devices, 3);
	assert_int_equal(c.devices_refused, 1);

	json_t *page = parse(view_devices_json(v, 1, 1, &len));
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 3);
	json_t *items = json_object_get(page, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(fld_str(json_array_get(items, 0), FLD_DEVICE_ID, ""), "00:00:00:00:00:02");
	json_decref(page);

	/* An evicted device leaves the view and frees its slot. */
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:02", "evicted", "pf", 0.5, 0));
	assert_null(view_device_json(v, "00:00:00:00:00:02", &len));
	ingest(v, OUT_DS_DEVICE, device_event("00:00:00:00:00:04", "first", "ff", 0.0, 0));
	assert_non_null(parse(view_device_json(v, "00:00:00:00:00:04", &len)));

	json_t *net = parse(view_network_json(v, &len));
	json_t *segs = json_object_get(net, "segments");
	assert_int_equal(json_array_size(segs), 2);
	json_decref(net);
	view_free(v);
}

static void test_alert_ring(void **state)
{
	(void)state;
	struct web_view *v = view_new(4, 3, 1);
	size_t len;
	char ts[40];
	ingest(v, OUT_DS_DEVICE, device_event("aa", "first", "f", 0.0, 0));
	for (int i = 0; i < 5; i++) {
		snprintf(ts, sizeof(ts), "2026-01-15T10:00:0%d.000000Z", i);
		ingest(v, OUT_DS_ALERT, alert_event(i == 4 ? "bb" : "aa", i % 2 ? "r.odd" : "r.even",
						    i % 2 ? 3 : 2, ts));
	}
	/* Three kept, newest first; since filters by time. */
	json_t *a = parse(view_alerts_json(v, "", NULL, 0, 100, &len));
	assert_int_equal(json_integer_value(json_object_get(a, "total")), 3);
	assert_int_equal(json_integer_value(json_object_get(a, "alerts_seen")), 5);
	assert_string_equal(fld_str(json_array_get(json_object_get(a, "items"), 0), FLD_TIMESTAMP, ""),
			    "2026-01-15T10:00:04.000000Z");
	json_decref(a);
	a = parse(view_alerts_json(v, "2026-01-15T10:00:03", "aa", 0, 100, &len));
	assert_int_equal(json_integer_value(json_object_get(a, "total")), 1);
	json_decref(a);

	/* Per-device counts by rule survive the ring. */
	json_t *d = parse(view_device_json(v, "aa", &len));
	json_t *even = json_object_get(json_object_get(d, "alerts"), "r.even");
	assert_int_equal(json_integer_value(json_object_get(even, "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(even, "severity")), 2);
	assert_non_null(json_object_get(even, "alert"));
	json_decref(d);

	/* Not JSON, or not an object: counted and ignored. */
	view_ingest(v, OUT_DS_ALERT, "{not json", 9);
	view_ingest(v, OUT_DS_DEVICE, "[1]", 3);
	view_ingest(v, OUT_DS_DNS, "{not json", 9);  /* dns events are not read */
	struct view_counters c;
	view_get_counters(v, &c);
	assert_int_equal(c.bad_events, 2);
	view_free(v);
}

static void test_metrics(void **state)
{
	(void)state;
	struct web_view *v = view_new(4, 4, 0);
	size_t len;
	ingest(v, OUT_DS_DEVICE, device_event("aa", "first", "pf", 0.5, 0));
	ingest(v, OUT_DS_DEVICE, device_event("bb", "first", "pp", 1.0, 0));
	ingest(v, OUT_DS_ALERT, alert_event("aa", "edns.missing", 2, "2026-01-15T10:00:00Z"));
	ingest(v, OUT_DS_ALERT, alert_event("aa", "edns.missing", 2, "2026-01-15T10:00:01Z"));
	static const char stats[] =
		"{\"@timestamp\":\"2026-01-15T10:00:00.500000Z\",\"stubwatch\":{\"stats\":"
		"{\"packets\":42,\"decode\":{\"anomalies\":{\"ipv4_trunc\":3}},"
		"\"dns\":{\"queries\":{\"udp\":7,\"tcp\":1}},"
		"\"output\":{\"sinks\":[{\"name\":\"file:/x\\\"y\",\"kind\":\"file\",\"delivered\":9}]}}}}";
	view_ingest(v, OUT_DS_STATS, stats, strlen(stats));
	char *m = view_metrics(v, &len);
	assert_non_null(m);
	static const char *const want[] = {
		"\nstubwatch_packets_total 42\n",
		"\nstubwatch_decode_anomalies_total{anomaly=\"ipv4_trunc\"} 3\n",
		"\nstubwatch_dns_queries_total{transport=\"tcp\"} 1\n",
		"\nstubwatch_sink_delivered_events_total{sink=\"file:/x\\\"y\",kind=\"file\"} 9\n",
		"\nstubwatch_alerts_total{rule=\"edns.missing\",severity=\"2\"} 2\n",
		"\nstubwatch_devices 2\n",
		"\nstubwatch_devices_by_score{band=\"50-79\"} 1\n",
		"\nstubwatch_devices_by_score{band=\"100\"} 1\n",
		"\nstubwatch_devices_failing{line=\"2\",guideline=\"a guideline\"} 1\n",
		"\nstubwatch_device_dns_responses{rcode=\"NXDOMAIN\"} 4\n",
		"\nstubwatch_stats_timestamp_seconds 1768471200.500000\n",
		"\n# TYPE stubwatch_packets_total counter\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(m, want[i]) == NULL)
			fail_msg("metrics lack %s", want[i]);
	/* No MAC ever becomes a label. */
	assert_null(strstr(m, "\"aa\""));
	free(m);
	view_free(v);
}

static void test_parse_listen(void **state)
{
	(void)state;
	static const struct { const char *in; int rc; int family; unsigned port; } cases[] = {
		{ "8080", 0, AF_INET, 8080 },
		{ "127.0.0.1:9", 0, AF_INET, 9 },
		{ "*:80", 0, AF_INET, 80 },
		{ "[::1]:8443", 0, AF_INET6, 8443 },
		{ "0", 0, AF_INET, 0 },
		{ "", SW_EINVAL, 0, 0 },
		{ "65536", SW_EINVAL, 0, 0 },
		{ "host.example:80", SW_EINVAL, 0, 0 },
		{ "::1:80", SW_EINVAL, 0, 0 },
		{ "[::1]80", SW_EINVAL, 0, 0 },
		{ "1.2.3.4:", SW_EINVAL, 0, 0 },
		{ "1.2.3.4:-1", SW_EINVAL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		char err[256];
		int rc = web_http_parse_listen(cases[i].in, &ss, err, sizeof(err));
		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(ss.ss_family, cases[i].family);
		unsigned port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
				      ((struct sockaddr_in6 *)&ss)->sin6_port);
		assert_int_equal(port, cases[i].port);
	}
}

static void test_fail_on(void **state)
{
	(void)state;
	static const struct { const char *in; int rc; uint16_t mask; } cases[] = {
		{ "3", 0, 1u << 2 }, { "3,4", 0, (1u << 2) | (1u << 3) }, { "any", 0, 0x7ff },
		{ "11", 0, 1u << 10 }, { "0", SW_EINVAL, 0 }, { "12", SW_EINVAL, 0 },
		{ "3,", SW_EINVAL, 0 }, { "x", SW_EINVAL, 0 }, { "", SW_EINVAL, 0 },
		{ "3;4", SW_EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t m;
		char err[256];
		int rc = report_parse_fail_on(cases[i].in, &m, err, sizeof(err));
		if (rc != cases[i].rc || (rc == 0 && m != cases[i].mask))
			fail_msg("'%s': rc %d mask %x", cases[i].in, rc, m);
	}
}

static void test_guide_explain(void **state)
{
	(void)state;
	char out[512];
	json_t *ev = json_pack("{s:i,s:f,s:s}", "n", 64, "sigma", 12.5, "class", "poor");
	guide_explain(3, ev, out, sizeof(out));
	assert_non_null(strstr(out, "of 64 queries spread with σ = 12.5 (class poor)"));
	guide_explain(6, ev, out, sizeof(out));  /* keys it lacks read "?" */
	assert_non_null(strstr(out, "? of ? truncated"));
	guide_explain(12, ev, out, sizeof(out));
	assert_string_equal(out, "");
	guide_explain(3, ev, out, 8);             /* a short buffer stays terminated */
	assert_int_equal(strlen(out), 7);
	json_decref(ev);
	json_t *all = guide_json();
	assert_int_equal(json_array_size(all), GUIDE_LINES);
	json_decref(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fld_get),
		cmocka_unit_test(test_devices_pages_and_eviction),
		cmocka_unit_test(test_alert_ring),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_fail_on),
		cmocka_unit_test(test_guide_explain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
