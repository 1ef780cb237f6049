/* geo.c — country, city and AS of an address from MaxMind databases, cached.
 *
 * References: MaxMind DB file format 2.0 (read through libmaxminddb), the
 * GeoIP2/GeoLite2 City, Country and ASN record layouts (country.iso_code,
 * country.names.en, city.names.en, autonomous_system_number,
 * autonomous_system_organization), RFC 4291 §2.5.5.2 (IPv4-mapped IPv6
 * addresses), ECS destination.geo.* and destination.as.*.
 *
 * An MMDB lookup walks up to 128 tree nodes and then decodes a record; the
 * addresses asked about are the resolvers devices talk to, a handful per
 * network, asked about on every event. So results go into a bounded LRU
 * table keyed by the 16-byte address, and an address neither database
 * knows is cached as such: after the first event a resolver costs one hash
 * lookup. The databases are read-only for the life of the process, so an
 * entry never goes stale; only eviction removes it. The cache is the
 * handle's, not the process's: one handle per engine, used from that
 * engine's thread alone (enrich.h).
 */
#include "enrich/enrich.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>

#include <maxminddb.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/table.h"
#include "enrich/text.h"

/* A cached result; `found` 0 is a negative entry. */
struct geo_val {
	struct enr_geo_info info;
	uint8_t found;
};

struct enr_geo {
	MMDB_s city;         /* City or Country database, when has_city */
	MMDB_s asn;          /* ASN database, when has_asn */
	int has_city;
	int has_asn;
	struct tbl *cache;   /* 16-byte address → struct geo_val */
	uint64_t hits;       /* lookups answered by the cache */
	uint64_t misses;     /* lookups that walked the databases */
};

/* Appends "; "-separated text to the notice, cut at its size. */
static void note_add(char *note, size_t note_len, const char *what,
		     const char *path, const char *why, const char *lost)
{
	if (note == NULL || note_len == 0)
		return;
	size_t used = strlen(note);
	if (used + 1 >= note_len)
		return;
	snprintf(note + used, note_len - used,
		 "%sgeoip: cannot open %s database %s: %s; %s are omitted",
		 used ? "; " : "", what, path, why, lost);
}

/* Opens one database; on failure fills the notice and returns 0. */
static int open_db(MMDB_s *db, const char *path, const char *what,
		   const char *lost, char *note, size_t note_len)
{
	int st = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (st == MMDB_SUCCESS)
		return 1;
	const char *why = MMDB_strerror(st);
	if (st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR)
		why = strerror(errno);
	note_add(note, note_len, what, path, why, lost);
	return 0;
}

struct enr_geo *enr_geo_open(const char *city_path, const char *asn_path,
			     uint32_t cache_cap, const uint8_t *sipkey,
			     char *note, size_t note_len)
{
	struct enr_geo *g;

	if (note != NULL && note_len > 0)
		note[0] = '\0';
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	if (city_path != NULL && city_path[0] != '\0')
		g->has_city = open_db(&g->city, city_path, "city/country",
				      "country and city fields", note, note_len);
	if (asn_path != NULL && asn_path[0] != '\0')
		g->has_asn = open_db(&g->asn, asn_path, "ASN", "AS fields", note,
				     note_len);
	if (!g->has_city && !g->has_asn)
		goto fail;
	g->cache = tbl_new("geoip", cache_cap ? cache_cap : 1, 16,
			   sizeof(struct geo_val), sipkey);
	if (g->cache == NULL)
		goto fail;
	return g;
fail:
	enr_geo_close(g);
	return NULL;
}

void enr_geo_close(struct enr_geo *g)
{
	if (g == NULL)
		return;
	if (g->has_city)
		MMDB_close(&g->city);
	if (g->has_asn)
		MMDB_close(&g->asn);
	tbl_free(g->cache);
	free(g);
}

/* Copies a UTF-8 string at the end of `path` in `e` into out; returns 1
 * when one was there. Anything else (absent, another type) leaves out
 * empty. */
static int get_str(MMDB_entry_s *e, char *out, size_t cap, const char *const *path)
{
	MMDB_entry_data_s d;
	out[0] = '\0';
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return 0;
	return enr_text_copy(out, cap, d.utf8_string, d.data_size) > 0;
}

/* Reads the record of `ip` in `db` into `res`; 0 when there is none (not
 * covered, an IPv6 address in an IPv4-only database, a lookup error). The
 * v4-mapped form goes in as AF_INET so that IPv6 databases answer from
 * their IPv4 subtree, wherever the database put it. */
static int db_lookup(const MMDB_s *db, const uint8_t ip[16], MMDB_lookup_result_s *res)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	int err = 0;

	if (ip_is_v4(ip)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, ip + 12, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, ip, 16);
		sa = (const struct sockaddr *)&sin6;
	}
	*res = MMDB_lookup_sockaddr(db, sa, &err);
	return err == MMDB_SUCCESS && res->found_entry;
}

/* Walks the databases for one address and fills `v`. */
static void resolve(struct enr_geo *g, const uint8_t ip[16], struct geo_val *v)
{
	static const char *const iso[] = { "country", "iso_code", NULL };
	static const char *const cname[] = { "country", "names", "en", NULL };
	static const char *const riso[] = { "registered_country", "iso_code", NULL };
	static const char *const rname[] = { "registered_country", "names", "en", NULL };
	static const char *const city[] = { "city", "names", "en", NULL };
	static const char *const asn[] = { "autonomous_system_number", NULL };
	static const char *const org[] = { "autonomous_system_organization", NULL };
	struct enr_geo_info *gi = &v->info;
	MMDB_lookup_result_s res;

	memset(v, 0, sizeof(*v));
	if (g->has_city && db_lookup(&g->city, ip, &res)) {
		/* Anycast and satellite ranges may carry only the country of
		 * registration; it is the best answer those have. */
		if (!get_str(&res.entry, gi->country_iso, sizeof(gi->country_iso), iso))
			get_str(&res.entry, gi->country_iso, sizeof(gi->country_iso), riso);
		if (!get_str(&res.entry, gi->country_name, sizeof(gi->country_name), cname))
			get_str(&res.entry, gi->country_name, sizeof(gi->country_name), rname);
		get_str(&res.entry, gi->city_name, sizeof(gi->city_name), city);
		v->found |= gi->country_iso[0] || gi->country_name[0] || gi->city_name[0];
	}
	if (g->has_asn && db_lookup(&g->asn, ip, &res)) {
		MMDB_entry_data_s d;
		if (MMDB_aget_value(&res.entry, &d, asn) == MMDB_SUCCESS && d.has_data) {
			if (d.type == MMDB_DATA_TYPE_UINT32)
				gi->asn = d.uint32;
			else if (d.type == MMDB_DATA_TYPE_UINT16)
				gi->asn = d.uint16;
			else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
				gi->asn = (uint32_t)d.uint64;
			else if (d.type == MMDB_DATA_TYPE_INT32 && d.int32 > 0)
				gi->asn = (uint32_t)d.int32;
		}
		get_str(&res.entry, gi->as_org, sizeof(gi->as_org), org);
		v->found |= gi->asn != 0 || gi->as_org[0];
	}
}

const struct enr_geo_info *enr_geo_lookup(struct enr_geo *g, const uint8_t ip[16])
{
	int created = 0;
	if (g == NULL)
		return NULL;
	struct geo_val *v = tbl_get(g->cache, ip, &created);
	if (created) {
		g->misses++;
		resolve(g, ip, v);
	} else {
		g->hits++;
	}
	return v->found ? &v->info : NULL;
}

/* The object under `key` in `parent`, created when absent (or replaced when
 * it is not an object); NULL on allocation failure. */
static json_t *child(json_t *parent, const char *key)
{
	json_t *c = json_object_get(parent, key);
	if (json_is_object(c))
		return c;
	c = json_object();
	if (c == NULL || json_object_set_new(parent, key, c) != 0)
		return NULL;
	return c;
}

int enr_geo_json(const struct enr_geo_info *gi, json_t *dest)
{
	if (!json_is_object(dest))
		return SW_EINVAL;
	if (gi == NULL)
		return 0;
	if (gi->country_iso[0] || gi->country_name[0] || gi->city_name[0]) {
		json_t *geo = child(dest, "geo");
		if (geo == NULL)
			return SW_ENOMEM;
		if (gi->country_iso[0])
			json_object_set_new(geo, "country_iso_code", json_string(gi->country_iso));
		if (gi->country_name[0])
			json_object_set_new(geo, "country_name", json_string(gi->country_name));
		if (gi->city_name[0])
			json_object_set_new(geo, "city_name", json_string(gi->city_name));
	}
	if (gi->asn != 0 || gi->as_org[0]) {
		json_t *as = child(dest, "as");
		if (as == NULL)
			return SW_ENOMEM;
		if (gi->asn != 0)
			json_object_set_new(as, "number", json_integer((json_int_t)gi->asn));
		if (gi->as_org[0]) {
			json_t *o = child(as, "organization");
			if (o == NULL)
				return SW_ENOMEM;
			json_object_set_new(o, "name", json_string(gi->as_org));
		}
	}
	return 0;
}

void enr_geo_stats(const struct enr_geo *g, struct enr_geo_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return;
	out->hits = g->hits;
	out->misses = g->misses;
	out->evictions = tbl_evictions(g->cache);
	out->entries = tbl_count(g->cache);
	out->cache_bytes = tbl_bytes(g->cache);
}
