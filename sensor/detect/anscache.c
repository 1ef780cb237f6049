/* anscache.c — the behaviour module's answer cache: one cuckoo table
 * keyed (device id, query name hash, type), shared by all devices, each
 * entry one cache line, evicting in creation order (counted), with a cold
 * part per entry for failure episodes and the name as evidence. It holds
 * what caching and failure behaviour are judged by (RFC 1035 §3.2.1,
 * RFC 2181 §8, RFC 2308 §5, RFC 9520). Lookups are inline in
 * behaviour_int.h; here are allocation, insertion and eviction.
 */
#include "detect/behaviour_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/mem.h"

_Static_assert(CACHE_MAX <= 65536, "ring positions are 16 bits");

int bh_cache_init(struct cache *k, uint32_t cap, const uint8_t sipkey[16])
{
	memset(k, 0, sizeof(*k));
	k->cap = cap;
	k->nb = (uint32_t)(((uint64_t)cap * CACHE_SPREAD_NUM / CACHE_SPREAD_DEN + 1) / 2);
	/* Random keys from the sensor's random key, through its keyed hash. */
	for (unsigned i = 0; i < 8; i++)
		k->hk[i / 4][i % 4] = sw_siphash(sipkey, &i, sizeof(i));
	k->ent = sw_big_alloc(&k->ent_map, (size_t)k->nb * 2, sizeof(*k->ent));
	k->cold = calloc(cap, sizeof(*k->cold));
	k->ring = calloc(cap, sizeof(*k->ring));
	return k->ent != NULL && k->cold != NULL && k->ring != NULL ? 0 : -1;
}

void bh_cache_free(struct cache *k)
{
	sw_big_free(&k->ent_map);
	free(k->cold);
	free(k->ring);
}

/* The entry in place pl arrives there (in = 1) or leaves (0): its
 * bucket's first place notes the fingerprint of a second place's key, and
 * its first bucket counts it while it is in its second. */
static void cache_note(struct cache *k, uint32_t pl, int in)
{
	const struct cent *ce = &k->ent[pl];
	struct ckey key = { ce->dev_id, ce->qname_hash, ce->qtype, 0 };
	struct cbk c = cache_buckets(k, key);
	if (pl & 1)
		k->ent[pl - 1].fp1 = in ? c.fp : 0;
	if (pl / 2 == c.b2) {
		uint16_t *s = &k->ent[2 * c.b1].spill;
		if (*s != UINT16_MAX)
			*s = (uint16_t)(in ? *s + 1 : *s - 1);
	}
}

/* Writes an entry into place `to`, keeping what belongs to the place. */
static void cent_put(struct cent *to, const struct cent *from)
{
	uint8_t fp1 = to->fp1;
	uint16_t spill = to->spill;
	*to = *from;
	to->fp1 = fp1;
	to->spill = spill;
}

/* Frees the place of an entry and forgets it. */
static void cache_drop(struct cache *k, uint32_t place)
{
	struct cent *ce = &k->ent[place];
	cache_note(k, place, 0);
	k->ring[ce->ri] = 0;
	ce->dev_id = 0;
	k->count--;
	k->evictions++;
}

/* Moves the entry in place `from` to the free place `to`. */
static void cache_move(struct cache *k, uint32_t from, uint32_t to)
{
	cache_note(k, from, 0);
	cent_put(&k->ent[to], &k->ent[from]);
	k->ring[k->ent[to].ri] = to + 1;
	k->ent[from].dev_id = 0;
	cache_note(k, to, 1);
}

/* A free place in bucket b, or UINT32_MAX. */
static uint32_t bucket_free(const struct cache *k, uint32_t b)
{
	if (k->ent[2 * b].dev_id == 0)
		return 2 * b;
	if (k->ent[2 * b + 1].dev_id == 0)
		return 2 * b + 1;
	return UINT32_MAX;
}

/* Frees one of the four places of a key whose two buckets are full, by
 * cuckoo moves: an entry there goes to its other bucket, and if that is
 * full too, an entry of that one moves on to its own other bucket, and so
 * on. A breadth-first search over at most CUCKOO_NODES places finds the
 * shortest such chain ending at a free place; the moves are then made from
 * its far end, so no entry is ever without a place. Returns the freed
 * place, or UINT32_MAX when the search finds none. */
static uint32_t cache_make_room(struct cache *k, struct cbk c)
{
	struct cnode {
		uint32_t place, parent;  /* parent: index in q; UINT32_MAX: none */
	} q[CUCKOO_NODES];
	unsigned n = 0;
	const uint32_t start[4] = { 2 * c.b1, 2 * c.b1 + 1, 2 * c.b2, 2 * c.b2 + 1 };
	for (unsigned i = 0; i < 4; i++)
		q[n++] = (struct cnode){ start[i], UINT32_MAX };
	for (unsigned i = 0; i < n; i++) {
		const struct cent *ce = &k->ent[q[i].place];
		struct ckey key = { ce->dev_id, ce->qname_hash, ce->qtype, 0 };
		struct cbk e = cache_buckets(k, key);
		uint32_t alt = e.b1 == q[i].place / 2 ? e.b2 : e.b1;
		uint32_t to = bucket_free(k, alt);
		if (to != UINT32_MAX) {
			for (uint32_t j = i; j != UINT32_MAX; j = q[j].parent) {
				cache_move(k, q[j].place, to);
				to = q[j].place;
			}
			return to;
		}
		for (uint32_t pl = 2 * alt; pl < 2 * alt + 2 && n < CUCKOO_NODES; pl++) {
			unsigned seen = 0;
			for (unsigned j = 0; j < n && !seen; j++)
				seen = q[j].place == pl;
			if (!seen)
				q[n++] = (struct cnode){ pl, i };
		}
	}
	return UINT32_MAX;
}

/* Creates key, which is not there; the entry made longest ago goes first
 * once the ring is full. Out of line: once per (name, type), and the
 * lookups that end here need no stack frame without it. */
__attribute__((noinline))
uint32_t bh_cache_insert(struct cache *k, struct ckey key, struct cbk c, const char *name)
{
	uint32_t ri = k->next;
	k->next = ri + 1 < k->cap ? ri + 1 : 0;
	if (k->ring[ri] != 0)
		cache_drop(k, k->ring[ri] - 1);
	uint32_t pl = bucket_free(k, c.b1);
	if (pl == UINT32_MAX)
		pl = bucket_free(k, c.b2);
	if (pl == UINT32_MAX)
		pl = cache_make_room(k, c);
	if (pl == UINT32_MAX) {
		/* Too rare to matter at two thirds full at most: an entry
		 * of the first bucket leaves out of turn. */
		pl = 2 * c.b1 + (k->next & 1);
		cache_drop(k, pl);
	}
	k->ring[ri] = pl + 1;
	k->count++;
	struct cent ne = { .dev_id = key.dev_id, .qname_hash = key.qname_hash,
			   .qtype = key.qtype, .ri = (uint16_t)ri };
	cent_put(&k->ent[pl], &ne);
	cache_note(k, pl, 1);
	struct ccold *cc = &k->cold[ri];
	memset(cc, 0, sizeof(*cc));
	text_copy(cc->name, sizeof(cc->name), name, strlen(name));
	return pl;
}
