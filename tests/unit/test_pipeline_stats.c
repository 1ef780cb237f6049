/* test_pipeline_stats.c — one stubwatch.stats event for several engines in
 * one process: their packet, DNS and table counters summed, their devices'
 * ids kept apart (eng_set_id_space). Frames are hand-built
 * Ethernet/IPv4/UDP DNS queries (RFC 1035 §4.1).
 */
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

#include "common/config.h"
#include "decode/decode.h"
#include "detect/rules.h"
#include "output/out.h"
#include "pipeline/engine.h"

/* A DNS query for a.example from the device whose MAC and address end in
 * `who` to 192.168.1.1. */
static void query(struct engine *e, uint8_t who, uint16_t id, uint64_t ts)
{
	static const uint8_t qname[] = { 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	uint8_t f[128];
	memset(f, 0, sizeof(f));
	const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 }, src[6] = { 0x02, 0, 0, 0, 0, who };
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *udp = ip + 20, *d = udp + 8;
	d[0] = (uint8_t)(id >> 8);
	d[1] = (uint8_t)id;
	d[2] = 0x01;   /* RD */
	d[5] = 1;      /* QDCOUNT */
	memcpy(d + 12, qname, sizeof(qname));
	size_t n = 12 + sizeof(qname);
	d[n + 1] = 1;  /* A */
	d[n + 3] = 1;  /* IN */
	n += 4;
	size_t ulen = 8 + n, tlen = 20 + ulen;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tlen >> 8);
	ip[3] = (uint8_t)tlen;
	ip[8] = 64;
	ip[9] = 17;
	const uint8_t sip[4] = { 192, 168, 1, who }, dip[4] = { 192, 168, 1, 1 };
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8);
	ip[11] = (uint8_t)~s;
	udp[0] = 0x9c;  /* port 40000 */
	udp[1] = 0x40;
	udp[3] = 53;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	eng_packet(e, DEC_LINK_ETHERNET, ts, (uint32_t)(14 + tlen), (uint32_t)(14 + tlen), f);
}

static json_int_t at(json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *t = strtok_r(buf, ".", &save); t != NULL; t = strtok_r(NULL, ".", &save))
		o = json_object_get(o, t);
	if (!json_is_integer(o))
		fail_msg("no integer at %s", path);
	return json_integer_value(o);
}

static void test_stats_sum_engines(void **unused)
{
	(void)unused;
	char err[512], path[] = "/tmp/sw-test-stats-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct sw_config cfg;
	conf_defaults(&cfg);
	cfg.devices_max = 16;
	struct rules *rules = rules_load("rules", err, sizeof(err));
	if (rules == NULL)
		fail_msg("rules: %s", err);
	struct out *out = out_new(256);
	assert_non_null(out);
	out_set_blocking(out, 1);
	struct out_sink *sink = out_file_sink(path, err, sizeof(err));
	if (sink == NULL)
		fail_msg("sink: %s", err);
	assert_int_equal(out_add_sink(out, sink), 0);
	struct engine *es[2];
	for (uint32_t i = 0; i < 2; i++) {
		es[i] = eng_new(&cfg, out, NULL, err, sizeof(err));
		if (es[i] == NULL)
			fail_msg("engine: %s", err);
		eng_set_id_space(es[i], i, 2);
		eng_set_rules(es[i], rules);
		eng_set_deterministic(es[i], 1);
	}
	assert_int_equal(out_start(out), 0);
	/* Engine 0: two devices, three queries; engine 1: one device, one query. */
	query(es[0], 10, 1, 1000000);
	query(es[0], 11, 2, 1000100);
	query(es[0], 10, 3, 1000200);
	query(es[1], 12, 4, 1000300);
	eng_emit_stats_of(es, 2, "test");
	out_stop(out);
	for (int i = 0; i < 2; i++)
		eng_free(es[i]);
	rules_free(rules);

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	json_t *stats = NULL;
	while (getline(&line, &cap, f) > 0) {
		json_t *ev = json_loads(line, 0, NULL);
		assert_non_null(ev);
		const char *why = json_string_value(json_object_get(json_object_get(ev, "event"), "reason"));
		if (stats == NULL && why != NULL && strcmp(why, "test") == 0)
			stats = ev;
		else
			json_decref(ev);
	}
	free(line);
	fclose(f);
	unlink(path);
	assert_non_null(stats);
	json_t *st = json_object_get(json_object_get(stats, "stubwatch"), "stats");
	assert_int_equal(at(st, "packets"), 4);
	assert_int_equal(at(st, "decode.ip"), 4);
	assert_int_equal(at(st, "dns.udp_messages"), 4);
	assert_int_equal(at(st, "dns.queries.udp"), 4);
	assert_int_equal(at(st, "tables.devices.count"), 3);
	assert_int_equal(at(st, "tables.devices.capacity"), 32);
	assert_int_equal(at(st, "tables.queries.count"), 4);
	json_decref(stats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_sum_engines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
