/* test_enrich_geo.c — country, city and AS lookups, the result cache and the
 * ECS JSON fields, over MaxMind databases built for the test.
 *
 * The databases are written at run time by tests/data/make-mmdb.pl (Debian
 * package libmaxmind-db-writer-perl) into a fresh temporary directory; the
 * test runs from the repository root, as `make check` runs it. When they
 * cannot be built every test fails, saying why: nothing is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/fmt.h"
#include "enrich/enrich.h"

#define BUILDER "tests/data/make-mmdb.pl"

static char dir[64];
static char city_db[128], asn_db[128], c4_db[128], junk_db[128];

static void rm_all(void)
{
	const char *files[] = { city_db, asn_db, c4_db, junk_db };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i][0])
			unlink(files[i]);
	if (dir[0])
		rmdir(dir);
}

/* Builds the databases; a failure here fails the whole group loudly. */
static int build_dbs(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(dir, sizeof(dir), "/tmp/sw-geo-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "test_enrich_geo: mkdtemp failed\n");
		return -1;
	}
	snprintf(city_db, sizeof(city_db), "%s/city.mmdb", dir);
	snprintf(asn_db, sizeof(asn_db), "%s/asn.mmdb", dir);
	snprintf(c4_db, sizeof(c4_db), "%s/country4.mmdb", dir);
	snprintf(junk_db, sizeof(junk_db), "%s/junk.mmdb", dir);
	if (access(BUILDER, R_OK) != 0) {
		fprintf(stderr, "test_enrich_geo: cannot read %s: run from the repository"
			" root\n", BUILDER);
		rm_all();
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "perl %s %s", BUILDER, dir);
	int rc = system(cmd);
	if (rc != 0 || access(city_db, R_OK) != 0 || access(asn_db, R_OK) != 0 ||
	    access(c4_db, R_OK) != 0) {
		fprintf(stderr, "test_enrich_geo: building the test databases failed"
			" (status %d): install Debian package libmaxmind-db-writer-perl\n", rc);
		rm_all();
		return -1;
	}
	FILE *f = fopen(junk_db, "wb");
	if (f == NULL)
		return -1;
	fputs("this is not a MaxMind database\n", f);
	fclose(f);
	return 0;
}

static int remove_dbs(void **state)
{
	(void)state;
	rm_all();
	return 0;
}

static const struct enr_geo_info *look(struct enr_geo *g, const char *ip)
{
	uint8_t a[16];
	assert_int_equal(ip_parse(ip, a), 0);
	return enr_geo_lookup(g, a);
}

static struct enr_geo *open_both(uint32_t cap)
{
	char note[ENR_NOTE_LEN];
	struct enr_geo *g = enr_geo_open(city_db, asn_db, cap, NULL, note, sizeof(note));
	assert_non_null(g);
	assert_string_equal(note, "");
	return g;
}

/* ---- lookups ------------------------------------------------------------- */

struct geo_case {
	const char *name;
	const char *ip;
	int found;
	const char *iso, *country, *city;
	uint32_t asn;
	const char *org;
};

static const struct geo_case cases[] = {
	{ "IPv4 in both", "192.0.2.53", 1, "DE", "Germany", "Berlin", 64496,
	  "Example Resolvers, \"Inc.\"" },
	{ "IPv4 network edge", "192.0.2.255", 1, "DE", "Germany", "Berlin", 64496,
	  "Example Resolvers, \"Inc.\"" },
	{ "IPv6 in both, UTF-8", "2001:db8:1:ffff::53", 1, "CH", "Switzerland",
	  "Z\xc3\xbcrich", 64497, "Z\xc3\xbcrich Netz AG" },
	{ "registered country only", "198.51.100.7", 1, "US", "United States", "", 0, "" },
	{ "ASN only, no organisation", "203.0.113.9", 1, "", "", "", 64511, "" },
	{ "IPv4 just outside", "192.0.3.0", 0, NULL, NULL, NULL, 0, NULL },
	{ "IPv4 private", "10.0.0.1", 0, NULL, NULL, NULL, 0, NULL },
	{ "IPv6 just outside", "2001:db8:2::1", 0, NULL, NULL, NULL, 0, NULL },
	{ "IPv6 unrelated", "2a00:1450::1", 0, NULL, NULL, NULL, 0, NULL },
};

static void test_lookup_cases(void **state)
{
	(void)state;
	struct enr_geo *g = open_both(64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct geo_case *c = &cases[i];
		const struct enr_geo_info *gi = look(g, c->ip);
		if ((gi != NULL) != c->found)
			fail_msg("%s: %s found=%d", c->name, c->ip, gi != NULL);
		if (gi == NULL)
			continue;
		if (strcmp(gi->country_iso, c->iso) || strcmp(gi->country_name, c->country) ||
		    strcmp(gi->city_name, c->city) || gi->asn != c->asn ||
		    strcmp(gi->as_org, c->org))
			fail_msg("%s: %s → %s/%s/%s/%u/%s", c->name, c->ip, gi->country_iso,
				 gi->country_name, gi->city_name, gi->asn, gi->as_org);
	}
	enr_geo_close(g);
}

/* The second lookup of an address, found or not, comes from the cache. */
static void test_cache_hits(void **state)
{
	(void)state;
	struct enr_geo_stats st;
	struct enr_geo *g = open_both(64);

	const struct enr_geo_info *a = look(g, "192.0.2.53");
	assert_non_null(a);
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 0);
	const struct enr_geo_info *b = look(g, "192.0.2.53");
	assert_ptr_equal(a, b);
	assert_string_equal(b->city_name, "Berlin");
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);

	/* Negative results are cached too. */
	assert_null(look(g, "10.0.0.1"));
	assert_null(look(g, "10.0.0.1"));
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.entries, 2);

	/* A different address in the same network is its own entry. */
	assert_non_null(look(g, "192.0.2.54"));
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.entries, 3);
	assert_true(st.cache_bytes > 0);
	enr_geo_close(g);
}

/* A full cache evicts the least recently used address; it is looked up
 * afresh, with the same answer, when asked again. */
static void test_cache_eviction(void **state)
{
	(void)state;
	struct enr_geo_stats st;
	struct enr_geo *g = open_both(2);
	assert_non_null(look(g, "192.0.2.1"));
	assert_non_null(look(g, "2001:db8:1::1"));
	assert_non_null(look(g, "192.0.2.1"));        /* hit: now most recent */
	assert_null(look(g, "10.1.1.1"));             /* evicts 2001:db8:1::1 */
	enr_geo_stats(g, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 3);
	const struct enr_geo_info *gi = look(g, "2001:db8:1::1");
	assert_non_null(gi);
	assert_string_equal(gi->country_iso, "CH");
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.evictions, 2);
	/* 192.0.2.1 was the oldest when 2001:db8:1::1 came back. */
	assert_non_null(look(g, "192.0.2.1"));
	enr_geo_stats(g, &st);
	assert_int_equal(st.misses, 5);
	assert_int_equal(st.evictions, 3);
	enr_geo_close(g);
}

/* Two handles (two engines) keep two caches: what one looked up, the other
 * has not, and a result of one stays put while the other looks up. */
static void test_cache_per_handle(void **state)
{
	(void)state;
	struct enr_geo_stats st;
	struct enr_geo *g1 = open_both(8), *g2 = open_both(8);
	const struct enr_geo_info *a = look(g1, "192.0.2.53");
	assert_non_null(a);
	enr_geo_stats(g2, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.hits + st.misses, 0);
	const struct enr_geo_info *b = look(g2, "192.0.2.53");
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	enr_geo_stats(g2, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 0);
	assert_string_equal(a->city_name, "Berlin");
	enr_geo_close(g2);
	assert_string_equal(look(g1, "192.0.2.53")->city_name, "Berlin");
	enr_geo_stats(g1, &st);
	assert_int_equal(st.hits, 1);
	enr_geo_close(g1);
}

/* ---- which databases ----------------------------------------------------- */

static void test_city_only(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	struct enr_geo *g = enr_geo_open(city_db, NULL, 8, NULL, note, sizeof(note));
	assert_non_null(g);
	assert_string_equal(note, "");
	const struct enr_geo_info *gi = look(g, "192.0.2.53");
	assert_non_null(gi);
	assert_string_equal(gi->country_iso, "DE");
	assert_int_equal(gi->asn, 0);
	assert_string_equal(gi->as_org, "");
	assert_null(look(g, "203.0.113.9"));  /* only the ASN DB knows it */
	enr_geo_close(g);
}

static void test_asn_missing_file(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	struct enr_geo *g = enr_geo_open("", "/nonexistent/asn.mmdb", 8, NULL, note,
					 sizeof(note));
	assert_null(g);
	assert_non_null(strstr(note, "ASN database /nonexistent/asn.mmdb"));
	assert_non_null(strstr(note, "No such file"));
	assert_null(strstr(note, "city"));

	/* One of two opens: a handle, and one notice for the other. */
	g = enr_geo_open(city_db, "/nonexistent/asn.mmdb", 8, NULL, note, sizeof(note));
	assert_non_null(g);
	assert_non_null(strstr(note, "AS fields are omitted"));
	const struct enr_geo_info *gi = look(g, "2001:db8:1::53");
	assert_non_null(gi);
	assert_string_equal(gi->city_name, "Z\xc3\xbcrich");
	assert_int_equal(gi->asn, 0);
	enr_geo_close(g);
}

static void test_none_configured_or_broken(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	uint8_t a[16];

	/* Not configured: no handle, nothing to report. */
	assert_null(enr_geo_open(NULL, NULL, 8, NULL, note, sizeof(note)));
	assert_string_equal(note, "");
	assert_int_equal(ip_parse("192.0.2.53", a), 0);
	assert_null(enr_geo_lookup(NULL, a));

	/* A file that is no database, and a missing one: two notices. */
	assert_null(enr_geo_open(junk_db, "/nonexistent/x.mmdb", 8, NULL, note,
				 sizeof(note)));
	assert_non_null(strstr(note, junk_db));
	assert_non_null(strstr(note, "country and city fields are omitted"));
	assert_non_null(strstr(note, "; geoip: cannot open ASN database"));
	struct enr_geo_stats st;
	enr_geo_stats(NULL, &st);
	assert_int_equal(st.hits + st.misses + st.entries, 0);
}

/* An IPv4-only database answers IPv4 addresses and finds nothing (without
 * error) for IPv6 ones. */
static void test_ipv4_only_db(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	struct enr_geo *g = enr_geo_open(c4_db, NULL, 8, NULL, note, sizeof(note));
	assert_non_null(g);
	const struct enr_geo_info *gi = look(g, "192.0.2.1");
	assert_non_null(gi);
	assert_string_equal(gi->country_iso, "FR");
	assert_string_equal(gi->city_name, "");
	assert_null(look(g, "2001:db8:1::53"));
	assert_null(look(g, "192.0.3.1"));
	enr_geo_close(g);
}

/* ---- JSON ---------------------------------------------------------------- */

static void assert_json(json_t *o, const char *want)
{
	char *got = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("json\n got %s\nwant %s", got, want);
	free(got);
}

static void test_json_fields(void **state)
{
	(void)state;
	struct enr_geo *g = open_both(8);

	json_t *dst = json_pack("{s:s,s:i}", "ip", "192.0.2.53", "port", 53);
	assert_int_equal(enr_geo_json(look(g, "192.0.2.53"), dst), 0);
	assert_json(dst, "{\"as\":{\"number\":64496,\"organization\":{\"name\":"
			 "\"Example Resolvers, \\\"Inc.\\\"\"}},\"geo\":{\"city_name\":"
			 "\"Berlin\",\"country_iso_code\":\"DE\",\"country_name\":\"Germany\"},"
			 "\"ip\":\"192.0.2.53\",\"port\":53}");
	json_decref(dst);

	/* UTF-8 names, merged into a "geo" object already there. */
	dst = json_pack("{s:{s:s}}", "geo", "name", "site-a");
	assert_int_equal(enr_geo_json(look(g, "2001:db8:1::1"), dst), 0);
	assert_json(dst, "{\"as\":{\"number\":64497,\"organization\":{\"name\":"
			 "\"Z\xc3\xbcrich Netz AG\"}},\"geo\":{\"city_name\":\"Z\xc3\xbcrich\","
			 "\"country_iso_code\":\"CH\",\"country_name\":\"Switzerland\","
			 "\"name\":\"site-a\"}}");
	json_decref(dst);

	/* Partial results: only what is known appears. */
	dst = json_object();
	assert_int_equal(enr_geo_json(look(g, "203.0.113.1"), dst), 0);
	assert_json(dst, "{\"as\":{\"number\":64511}}");
	json_decref(dst);
	dst = json_object();
	assert_int_equal(enr_geo_json(look(g, "198.51.100.1"), dst), 0);
	assert_json(dst, "{\"geo\":{\"country_iso_code\":\"US\",\"country_name\":"
			 "\"United States\"}}");
	json_decref(dst);

	/* Nothing known, or not an object. */
	dst = json_object();
	assert_int_equal(enr_geo_json(look(g, "10.0.0.1"), dst), 0);
	assert_json(dst, "{}");
	json_t *arr = json_array();
	assert_int_equal(enr_geo_json(look(g, "192.0.2.53"), arr), SW_EINVAL);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	json_decref(dst);
	enr_geo_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_cases),
		cmocka_unit_test(test_cache_hits),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_cache_per_handle),
		cmocka_unit_test(test_city_only),
		cmocka_unit_test(test_asn_missing_file),
		cmocka_unit_test(test_none_configured_or_broken),
		cmocka_unit_test(test_ipv4_only_db),
		cmocka_unit_test(test_json_fields),
	};
	return cmocka_run_group_tests_name("enrich_geo", tests, build_dbs, remove_dbs) != 0;
}
