/* enrich.h — device vendor from the IEEE registries; country, city and AS of
 * an address from MaxMind databases.
 *
 * References: IEEE Std 802-2014 §8.2 (OUI, MA-L/MA-M/MA-S assignments, the
 * I/G and U/L bits), IEEE 802c-2017 (local MAC address space, randomised
 * MACs), the MaxMind DB file format 2.0, ECS fields destination.geo.* and
 * destination.as.*.
 *
 * Both halves load once at start-up and never allocate afterwards except
 * for the GeoIP cache, which is one bounded table sized at open. A missing
 * registry or database is not an error: the open call hands back a notice
 * for the caller to log once, and lookups then simply find nothing.
 *
 * Threads: nothing here is global. An OUI registry is read-only once
 * loaded, so any number of threads may look up in one. A GeoIP handle is
 * not: its cache (LRU order, entries, counters) changes on every lookup,
 * and the result a lookup returns lives in that cache. So a handle has one
 * owner, the engine that opened it (detect/engine.c), and only the owner's
 * thread calls enr_geo_lookup and enr_geo_stats on it; several engines
 * each open their own handle (the databases are mapped read-only, so the
 * kernel shares their pages).
 */
#ifndef SW_ENRICH_ENRICH_H
#define SW_ENRICH_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Where Debian's ieee-data package puts the registries. */
#define ENR_OUI_DIR_DEFAULT "/usr/share/ieee-data"

/* Room for a start-up notice: two file paths and a reason fit. */
#define ENR_NOTE_LEN 512

/* ---- OUI vendor ---------------------------------------------------------- */

struct enr_oui;

/* What a MAC address says about its device. */
struct enr_mac_info {
	const char *vendor;        /* registry organisation name (owned by the
	                              registry, valid until enr_oui_free), or
	                              NULL: not registered, locally
	                              administered, or no registry loaded */
	int locally_administered;  /* U/L bit (0x02 of octet 0): a randomised
	                              or otherwise locally assigned MAC */
	int multicast;             /* I/G bit (0x01 of octet 0) */
};

/* Loads the registries found in `dir` (NULL: ENR_OUI_DIR_DEFAULT): oui.csv
 * (MA-L, 24 bits), mam.csv (MA-M, 28 bits), oui36.csv (MA-S, 36 bits) and
 * iab.csv (the older IAB blocks, 36 bits); for each, the .txt form of the
 * same registry is read when the .csv is absent. Vendor names are interned
 * in one arena; the prefix tables are sorted arrays.
 *
 * Returns the registry, or NULL only when memory runs out. When a file is
 * missing or unreadable, `note` (note_len bytes, may be NULL) receives one
 * line to log once, and the registry holds whatever did load — possibly
 * nothing, in which case every lookup finds no vendor. `note` is set to ""
 * when there is nothing to report. The caller frees with enr_oui_free. */
struct enr_oui *enr_oui_load(const char *dir, char *note, size_t note_len);
void enr_oui_free(struct enr_oui *o);

/* The registered organisation for the longest assigned prefix of `mac`
 * (MA-S 36 > MA-M 28 > MA-L 24 bits), read as is: the I/G and U/L bits take
 * no part. NULL when no prefix matches or `o` is NULL. Costs at most three
 * binary searches and allocates nothing. */
const char *enr_oui_lookup(const struct enr_oui *o, const uint8_t mac[6]);

/* The device view of a MAC: its flags, and its vendor unless the address is
 * locally administered. A group address is looked up with the I/G bit
 * cleared (01:00:5e:… names the owner of 00:00:5e). A locally administered
 * address gets no vendor even when a historic registry entry (02:60:8c,
 * aa:00:04 …) matches: a randomised MAC lands on those by chance. `o` may
 * be NULL (flags only). */
struct enr_mac_info enr_mac_info(const struct enr_oui *o, const uint8_t mac[6]);

/* Prefixes loaded, and bytes held (tables and name arena). */
uint32_t enr_oui_count(const struct enr_oui *o);
size_t enr_oui_bytes(const struct enr_oui *o);

/* ---- GeoIP / ASN --------------------------------------------------------- */

struct enr_geo;

/* Field sizes of a cached result. Names longer than these are cut at a
 * UTF-8 character boundary. The longest English country name
 * ("South Georgia and the South Sandwich Islands") is 44 bytes and city
 * names seldom pass 40; AS organisation names are registry free text and
 * run longer, hence 96. One cached result is then about 270 bytes of
 * table entry: 1,024 resolvers cost some 290 KB. */
#define ENR_GEO_ISO_LEN 4     /* ISO 3166-1 alpha-2 + NUL, with a spare */
#define ENR_GEO_NAME_LEN 64
#define ENR_GEO_ORG_LEN 96

/* What the databases know about one address. An empty string (or asn 0)
 * means the field is absent. */
struct enr_geo_info {
	char country_iso[ENR_GEO_ISO_LEN];  /* "DE" */
	char country_name[ENR_GEO_NAME_LEN];/* English name, "Germany" */
	char city_name[ENR_GEO_NAME_LEN];   /* English name; City DB only */
	uint32_t asn;                       /* AS number, 0 when unknown */
	char as_org[ENR_GEO_ORG_LEN];       /* AS organisation */
};

/* Opens a City or Country database at `city_path` and an ASN database at
 * `asn_path` (each may be NULL or "" when not configured) with a cache of
 * `cache_cap` results (>= 1; keyed by address, LRU). `sipkey` is 16 bytes
 * of hash key for the cache (NULL: a fixed key, for tests).
 *
 * Returns NULL when neither database opened (or on allocation failure);
 * lookups on NULL find nothing. A configured database that cannot be opened
 * is reported in `note` (one line to log once; "" when nothing to report),
 * and its fields are then omitted. Free with enr_geo_close. */
struct enr_geo *enr_geo_open(const char *city_path, const char *asn_path,
			     uint32_t cache_cap, const uint8_t *sipkey,
			     char *note, size_t note_len);
void enr_geo_close(struct enr_geo *g);

/* Looks up an address stored in 16 bytes (IPv4 as ::ffff:a.b.c.d), from
 * the thread that owns `g` (see the top of this file). Returns
 * a pointer into the cache, valid until the next lookup on `g`, or NULL
 * when `g` is NULL or neither database knows the address (that "nothing" is
 * cached too). A repeated address costs one hash lookup, not a database
 * walk. */
const struct enr_geo_info *enr_geo_lookup(struct enr_geo *g, const uint8_t ip[16]);

/* Adds the ECS fields of `gi` to `dest`, the JSON object of an endpoint
 * (e.g. an event's "destination"): geo.country_iso_code, geo.country_name,
 * geo.city_name, as.number and as.organization.name, as nested objects,
 * merged into any "geo"/"as" objects already there. Absent fields are left
 * out; a NULL `gi` adds nothing. Returns 0, or SW_EINVAL when `dest` is not
 * an object. */
int enr_geo_json(const struct enr_geo_info *gi, json_t *dest);

/* Cache counters: lookups answered from the cache, database walks done. */
struct enr_geo_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t evictions;
	uint32_t entries;
	size_t cache_bytes;
};
void enr_geo_stats(const struct enr_geo *g, struct enr_geo_stats *out);

#endif
