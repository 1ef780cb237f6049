/* test_output_event.c — ECS forms of the common event fields: Community ID
 * v1 against the specification's published values, MACs in ECS form,
 * network.direction, and the Public Suffix List parts of a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/fmt.h"
#include "output/event.h"
#include "output/jw.h"

/* Values of the Community ID specification's baseline
 * (github.com/corelight/community-id-spec, baseline/baseline_deflt.json,
 * seed 0) and of Zeek's community_id_v1 tests; each flow is given in both
 * directions, which must hash alike. */
static const struct {
	const char *name;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t l4;
	const char *cid;
} cid_cases[] = {
	{ "udp_v4_dns", "192.168.1.52", "8.8.8.8", 54585, 53, 17,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ "tcp_v4_http", "128.232.110.120", "66.35.250.204", 34855, 80, 6,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ "tcp_v6_smtp", "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
	  63943, 25, 6, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ "tcp_v4_zeek", "1.2.3.4", "5.6.7.8", 1122, 3344, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ "udp_v4_zeek", "1.2.3.4", "5.6.7.8", 1122, 3344, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
};

static void test_community_id(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cid_cases) / sizeof(cid_cases[0]); i++) {
		uint8_t a[16], b[16];
		assert_int_equal(ip_parse(cid_cases[i].src, a), 0);
		assert_int_equal(ip_parse(cid_cases[i].dst, b), 0);
		char out[EV_CID_LEN];
		struct ev_flow f = { a, b, cid_cases[i].sport, cid_cases[i].dport, cid_cases[i].l4 };
		ev_community_id(out, &f);
		if (strcmp(out, cid_cases[i].cid) != 0)
			fail_msg("%s: %s, expected %s", cid_cases[i].name, out, cid_cases[i].cid);
		struct ev_flow r = { b, a, cid_cases[i].dport, cid_cases[i].sport, cid_cases[i].l4 };
		ev_community_id(out, &r);
		if (strcmp(out, cid_cases[i].cid) != 0)
			fail_msg("%s reversed: %s, expected %s", cid_cases[i].name, out,
				 cid_cases[i].cid);
	}
}

static void test_mac_ecs(void **state)
{
	(void)state;
	static const uint8_t mac[6] = { 0xa4, 0x83, 0xe7, 0x50, 0x00, 0x08 };
	struct jw w;
	jw_init(&w, 16);
	jw_arr(&w, NULL);
	jw_mac_ecs(&w, NULL, mac);
	jw_end(&w);
	size_t len;
	char *s = jw_take(&w, &len);
	assert_string_equal(s, "[\"A4-83-E7-50-00-08\"]");
	free(s);
}

static void test_direction(void **state)
{
	(void)state;
	static const struct {
		const char *src, *dst, *dir;
	} cases[] = {
		{ "192.168.1.10", "192.168.1.1", "internal" },
		{ "192.168.1.10", "8.8.8.8", "outbound" },
		{ "8.8.8.8", "10.0.0.2", "inbound" },
		{ "8.8.8.8", "1.1.1.1", "external" },
		{ "fe80::1", "ff02::fb", "internal" },
		{ "fd00::5", "2001:4860:4860::8888", "outbound" },
		{ "192.168.1.14", "224.0.0.251", "internal" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16], b[16];
		assert_int_equal(ip_parse(cases[i].src, a), 0);
		assert_int_equal(ip_parse(cases[i].dst, b), 0);
		if (strcmp(ev_direction(a, b), cases[i].dir) != 0)
			fail_msg("%s -> %s: %s, expected %s", cases[i].src, cases[i].dst,
				 ev_direction(a, b), cases[i].dir);
	}
}

/* The parts of a name as dns.question shows them (a JSON object). */
static json_t *parts(const struct ev_observer *o, const char *name)
{
	struct jw w;
	jw_init(&w, 64);
	jw_obj(&w, NULL);
	ev_jw_domain_parts(&w, o, name, strlen(name));
	jw_end(&w);
	size_t len;
	char *s = jw_take(&w, &len);
	json_t *j = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(j);
	return j;
}

static void test_domain_parts(void **state)
{
	(void)state;
	struct ev_observer o;
	char note[256];
	ev_observer_init(&o, "test", note, sizeof(note));
	if (o.psl == NULL)
		fail_msg("%s", note);
	static const struct {
		const char *name, *reg, *sub, *tld;
	} cases[] = {
		{ "www.Example.CO.uk", "example.co.uk", "www", "co.uk" },
		{ "a.b.example.com.", "example.com", "a.b", "com" },
		{ "example.com", "example.com", NULL, "com" },
		{ "com", NULL, NULL, NULL },         /* a public suffix itself */
		{ "x.s3.amazonaws.com", "x.s3.amazonaws.com", NULL, "s3.amazonaws.com" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = parts(&o, cases[i].name);
		const char *reg = json_string_value(json_object_get(j, "registered_domain"));
		const char *sub = json_string_value(json_object_get(j, "subdomain"));
		const char *tld = json_string_value(json_object_get(j, "top_level_domain"));
		if ((cases[i].reg == NULL) != (reg == NULL) || (reg && strcmp(reg, cases[i].reg)) ||
		    (cases[i].sub == NULL) != (sub == NULL) || (sub && strcmp(sub, cases[i].sub)) ||
		    (cases[i].tld == NULL) != (tld == NULL) || (tld && strcmp(tld, cases[i].tld)))
			fail_msg("%s: %s / %s / %s", cases[i].name, reg ? reg : "-", sub ? sub : "-",
				 tld ? tld : "-");
		json_decref(j);
	}
	ev_observer_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_community_id),
		cmocka_unit_test(test_mac_ecs),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_domain_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
