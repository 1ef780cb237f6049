/* test_state_tables.c — the tables of one engine: device ids in one or
 * several engines' id spaces, a response finding its query and its device,
 * a retransmission counted on the first query, and a query whose device
 * slot went to another device while it waited (RFC 1035 §4.2.1 matching:
 * client, server, ports, ID, name, type).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "decode/decode.h"
#include "dns/dns.h"
#include "state/state.h"

static const uint8_t SIPKEY[16] = "state-test-key!";

static void state_up(struct state *s, uint32_t devices_max)
{
	struct sw_config cfg;
	conf_defaults(&cfg);
	cfg.devices_max = devices_max;
	cfg.queries_max = 64;
	cfg.flows_max = 16;
	cfg.tcp_buffers = 4;
	assert_int_equal(state_init(s, &cfg, SIPKEY), 0);
}

/* A packet from (query) or to (response) the device with MAC ending in
 * `who`, to or from the resolver 192.0.2.53. */
static void packet(struct pkt *p, uint8_t who, int response, uint64_t ts)
{
	memset(p, 0, sizeof(*p));
	uint8_t dev_mac[6] = { 0x02, 0, 0, 0, 0, who }, srv_mac[6] = { 0x02, 0, 0, 0, 0, 0xfe };
	uint8_t dev_ip[16], srv_ip[16];
	const uint8_t d4[4] = { 192, 168, 1, who }, s4[4] = { 192, 0, 2, 53 };
	memset(dev_ip, 0, 16);
	memset(srv_ip, 0, 16);
	dev_ip[10] = dev_ip[11] = srv_ip[10] = srv_ip[11] = 0xff;
	memcpy(dev_ip + 12, d4, 4);
	memcpy(srv_ip + 12, s4, 4);
	p->ts_us = ts;
	p->has_mac = 1;
	p->ip_ver = 4;
	memcpy(response ? p->dst_mac : p->src_mac, dev_mac, 6);
	memcpy(response ? p->src_mac : p->dst_mac, srv_mac, 6);
	memcpy(response ? p->dst_ip : p->src_ip, dev_ip, 16);
	memcpy(response ? p->src_ip : p->dst_ip, srv_ip, 16);
	p->sport = response ? 53 : 40000;
	p->dport = response ? 40000 : 53;
}

static struct dns_msg *message(uint16_t id, const char *name, int response)
{
	static struct dns_msg m;
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.flags = response ? 0x8180 : 0x0100;
	m.has_q = 1;
	m.qtype = 1;
	m.qclass = 1;
	m.qname_len = (uint16_t)strlen(name);
	memcpy(m.qname, name, m.qname_len);
	return &m;
}

static struct device *device(struct state *s, uint8_t who, uint64_t ts, int *created)
{
	struct pkt p;
	struct dev_key k;
	packet(&p, who, 0, ts);
	assert_int_equal(state_device_key(&p, 1, &k), 1);
	return state_device(s, &k, state_device_prefetch(s, &k), ts, created);
}

static void test_ids_one_engine(void **unused)
{
	(void)unused;
	struct state s;
	state_up(&s, 16);
	int created;
	assert_int_equal(device(&s, 1, 1, &created)->id, 1);
	assert_int_equal(created, 1);
	assert_int_equal(device(&s, 2, 2, &created)->id, 2);
	assert_int_equal(device(&s, 1, 3, &created)->id, 1);
	assert_int_equal(created, 0);
	assert_int_equal(device(&s, 3, 4, &created)->id, 3);
	state_fini(&s);
}

/* Three engines that see the same MACs still give every device its own id. */
static void test_ids_several_engines(void **unused)
{
	(void)unused;
	struct state s[3];
	uint32_t seen[9];
	unsigned n = 0;
	for (uint32_t i = 0; i < 3; i++) {
		state_up(&s[i], 16);
		state_set_id_space(&s[i], i, 3);
	}
	for (uint8_t who = 1; who <= 3; who++)
		for (uint32_t i = 0; i < 3; i++) {
			int created;
			seen[n++] = device(&s[i], who, who, &created)->id;
			assert_int_equal(created, 1);
		}
	for (unsigned a = 0; a < n; a++) {
		assert_true(seen[a] >= 1);
		for (unsigned b = a + 1; b < n; b++)
			assert_int_not_equal(seen[a], seen[b]);
	}
	/* Engine 1 of 3: 2, 5, 8. */
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[4], 5);
	assert_int_equal(seen[7], 8);
	for (uint32_t i = 0; i < 3; i++)
		state_fini(&s[i]);
}

static void test_response_finds_query(void **unused)
{
	(void)unused;
	struct state s;
	state_up(&s, 16);
	int created, is_new;
	struct device *d = device(&s, 7, 1000, &created);
	struct pkt p;
	struct qry_key qk;
	packet(&p, 7, 0, 1000);
	struct dns_msg *m = message(0x1234, "example.com", 0);
	state_query_key(&qk, &p, 1, m);
	struct qry *q = state_query(&s, &qk, state_query_prefetch(&s, &qk), &p, m, TRANS_UDP, d,
				    &is_new);
	assert_int_equal(is_new, 1);
	/* The same query again: a retransmission of the first. */
	packet(&p, 7, 0, 2000);
	assert_ptr_equal(state_query(&s, &qk, state_query_prefetch(&s, &qk), &p, m, TRANS_UDP, d,
				     &is_new), q);
	assert_int_equal(is_new, 0);
	assert_int_equal(q->retries, 1);
	assert_int_equal(d->c.retransmissions, 1);

	/* A response with another ID matches nothing. */
	struct device *rd;
	struct qry_key rk;
	packet(&p, 7, 1, 3000);
	assert_null(state_response(&s, &p, message(0x1235, "example.com", 1), &rk, &rd));
	assert_null(rd);
	/* Nor one for another name. */
	assert_null(state_response(&s, &p, message(0x1234, "example.org", 1), &rk, &rd));
	/* The right one finds the query and, through it, the device. */
	assert_ptr_equal(state_response(&s, &p, message(0x1234, "example.com", 1), &rk, &rd), q);
	assert_ptr_equal(rd, d);
	assert_int_equal(state_count_answered(d, q, 3000), 1000);
	state_query_done(&s, q);
	assert_null(state_response(&s, &p, message(0x1234, "example.com", 1), &rk, &rd));
	state_fini(&s);
}

/* A full device table gives the query's slot to another device: the
 * response still finds the query, but not a device (the id differs). */
static void test_query_outlives_device(void **unused)
{
	(void)unused;
	struct state s;
	state_up(&s, 1);
	int created, is_new;
	struct device *d = device(&s, 7, 1000, &created);
	struct pkt p;
	struct qry_key qk;
	packet(&p, 7, 0, 1000);
	struct dns_msg *m = message(0x4321, "example.com", 0);
	state_query_key(&qk, &p, 1, m);
	struct qry *q = state_query(&s, &qk, state_query_prefetch(&s, &qk), &p, m, TRANS_UDP, d,
				    &is_new);
	struct device *other = device(&s, 8, 2000, &created);
	assert_int_equal(created, 1);
	assert_int_equal(state_device_slot(&s, other), q->dev_slot);
	struct device *rd;
	struct qry_key rk;
	packet(&p, 7, 1, 3000);
	assert_ptr_equal(state_response(&s, &p, message(0x4321, "example.com", 1), &rk, &rd), q);
	assert_null(rd);
	state_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_one_engine),
		cmocka_unit_test(test_ids_several_engines),
		cmocka_unit_test(test_response_finds_query),
		cmocka_unit_test(test_query_outlives_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
