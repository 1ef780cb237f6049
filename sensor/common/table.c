/* table.c — bounded LRU hash table with a keyed hash (see table.h).
 *
 * SipHash and NH are written out here rather than taken from a library:
 * each is a few dozen lines, on the hot path of every packet, and the
 * libraries that carry them (libsodium) would be a seventh dependency.
 */
#include "common/table.h"

#include <stdlib.h>
#include <string.h>

/* Per-entry header. Links are slot + 1 so that 0 means "none". */
struct ent_hdr {
	uint32_t chain;    /* next entry in the bucket, or next free slot */
	uint32_t prev;     /* LRU neighbour towards the most recent end */
	uint32_t next;     /* LRU neighbour towards the oldest end */
	uint32_t hash;     /* low 32 bits of the key's hash */
	uint32_t used;     /* 1 while the slot holds an entry */
	uint32_t slot;     /* this entry's own slot, set on insert: turning a
			    * value pointer back into a slot then costs a load
			    * instead of a division by the entry size, several
			    * times a packet */
};

struct tbl {
	const char *name;
	uint32_t cap;
	uint32_t mask;          /* buckets - 1; buckets is a power of two >= cap */
	uint32_t count;
	uint32_t next_unused;   /* slots below this have been used at least once */
	uint32_t free_head;     /* removed slots, chained through ent_hdr.chain */
	uint32_t lru_head;      /* most recently used */
	uint32_t lru_tail;      /* least recently used */
	size_t key_size;
	size_t key_off;         /* offset of the key within an entry */
	size_t val_off;         /* offset of the value within an entry */
	size_t ent_size;
	uint8_t *ents;
	uint32_t *buckets;
	uint64_t evictions;
	uint64_t nh[TBL_NH_WORDS]; /* the key of hash_key(), from sipkey */
	tbl_evict_fn evict;
	void *evict_arg;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                      \
	do {                                                              \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                    \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                    \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t load64le(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* SipHash-1-3 (Aumasson and Bernstein; one compression round, three
 * finalisation rounds, as Rust's and Python's hash tables use): enough to
 * keep keys unguessable for bucket placement at a fraction of 2-4's cost. */
uint64_t sw_siphash(const uint8_t key[16], const void *buf, size_t len)
{
	const uint8_t *in = buf;
	uint64_t k0 = load64le(key), k1 = load64le(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t m = load64le(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void sw_nh_key(uint64_t nh[TBL_NH_WORDS], const uint8_t sipkey[16])
{
	for (uint64_t i = 0; i < TBL_NH_WORDS; i++)
		nh[i] = sw_siphash(sipkey, &i, sizeof(i));
}

#ifdef __SIZEOF_INT128__
/* NH (Black et al., UMAC, 1999) over 64-bit words: the sum mod 2^128 of
 * (m[2i] + k[2i]) * (m[2i+1] + k[2i+1]), one multiply per 16 bytes. For a
 * random k, two different messages of one length give equal sums with
 * probability at most 2^-64, whatever the messages. That is what keeps
 * attacker-chosen keys out of one bucket. SipHash would also hide the key
 * from someone who can watch which keys collide (it is a PRF); the sensor
 * is passive and answers nothing, so no one can, and NH costs a third
 * of SipHash-1-3 on the 20-52 byte keys of the tables (every packet hashes
 * two or three). The finaliser spreads the high half of the sum, where the
 * products mix every bit, over the low bits that pick the bucket. */
uint64_t sw_nh(const uint64_t nh[TBL_NH_WORDS], const void *buf, size_t len)
{
	const uint8_t *p = buf;
	unsigned __int128 acc = (unsigned __int128)len << 64;
	size_t i = 0;
	for (; len - i >= 16; i += 16, nh += 2)
		acc += (unsigned __int128)(load64le(p + i) + nh[0]) * (load64le(p + i + 8) + nh[1]);
	size_t rest = len - i;
	if (rest != 0) {
		uint64_t w0 = rest >= 8 ? load64le(p + i) : sw_load_part(p + i, rest);
		uint64_t w1 = rest > 8 ? sw_load_part(p + i + 8, rest - 8) : 0;
		acc += (unsigned __int128)(w0 + nh[0]) * (w1 + nh[1]);
	}
	return sw_mix64((uint64_t)(acc >> 64) ^ sw_mix64((uint64_t)acc));
}
#else
uint64_t sw_nh(const uint64_t nh[TBL_NH_WORDS], const void *buf, size_t len)
{
	/* No 64 x 64 -> 128 multiply: SipHash keyed with the first words. */
	uint8_t k[16];
	memcpy(k, nh, 16);
	return sw_siphash(k, buf, len);
}
#endif

static inline struct ent_hdr *hdr_at(const struct tbl *t, uint32_t slot)
{
	return (struct ent_hdr *)(void *)(t->ents + (size_t)slot * t->ent_size);
}

static inline uint32_t slot_of_val(const struct tbl *t, const void *val)
{
	return ((const struct ent_hdr *)(const void *)((const uint8_t *)val - t->val_off))->slot;
}

static inline void *val_of(const struct tbl *t, uint32_t slot)
{
	return t->ents + (size_t)slot * t->ent_size + t->val_off;
}

static inline const void *key_of(const struct tbl *t, uint32_t slot)
{
	return t->ents + (size_t)slot * t->ent_size + t->key_off;
}

struct tbl *tbl_new(const char *name, uint32_t cap, size_t key_size,
		    size_t val_size, const uint8_t *sipkey)
{
	if (cap == 0 || key_size == 0 || key_size > 128 || cap > (1u << 30))
		return NULL;
	struct tbl *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->name = name;
	t->cap = cap;
	uint32_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	t->mask = nb - 1;
	t->key_size = key_size;
	t->key_off = sizeof(struct ent_hdr);
	t->val_off = (t->key_off + key_size + 7) & ~(size_t)7;
	t->ent_size = (t->val_off + val_size + 7) & ~(size_t)7;
	/* calloc: the kernel hands zero pages lazily, so RSS follows use.
	 * (Huge pages, common/mem.h, measured no faster here and cost RSS.) */
	t->ents = calloc(cap, t->ent_size);
	t->buckets = calloc(nb, sizeof(uint32_t));
	if (t->ents == NULL || t->buckets == NULL) {
		tbl_free(t);
		return NULL;
	}
	sw_nh_key(t->nh, sipkey != NULL ? sipkey : (const uint8_t *)"stubwatch-tests!");
	return t;
}

void tbl_free(struct tbl *t)
{
	if (t == NULL)
		return;
	free(t->ents);
	free(t->buckets);
	free(t);
}

void tbl_set_evict(struct tbl *t, tbl_evict_fn fn, void *arg)
{
	t->evict = fn;
	t->evict_arg = arg;
}

static void lru_unlink(struct tbl *t, uint32_t slot)
{
	struct ent_hdr *h = hdr_at(t, slot);
	if (h->prev)
		hdr_at(t, h->prev - 1)->next = h->next;
	else
		t->lru_head = h->next;
	if (h->next)
		hdr_at(t, h->next - 1)->prev = h->prev;
	else
		t->lru_tail = h->prev;
	h->prev = h->next = 0;
}

static void lru_push_head(struct tbl *t, uint32_t slot)
{
	struct ent_hdr *h = hdr_at(t, slot);
	h->prev = 0;
	h->next = t->lru_head;
	if (t->lru_head)
		hdr_at(t, t->lru_head - 1)->prev = slot + 1;
	t->lru_head = slot + 1;
	if (t->lru_tail == 0)
		t->lru_tail = slot + 1;
}

static uint32_t hash_key(const struct tbl *t, const void *key)
{
	return (uint32_t)sw_nh(t->nh, key, t->key_size);
}

/* find_slot() for a hash the caller already has. */
static uint32_t find_slot_h(const struct tbl *t, const void *key, uint32_t h)
{
	uint32_t i = t->buckets[h & t->mask];
	while (i) {
		const struct ent_hdr *e = hdr_at(t, i - 1);
		if (e->hash == h && memcmp(key_of(t, i - 1), key, t->key_size) == 0)
			return i;
		i = e->chain;
	}
	return 0;
}

/* The slot holding key, as slot + 1, or 0; *hash receives the key's hash. */
static uint32_t find_slot(const struct tbl *t, const void *key, uint32_t *hash)
{
	uint32_t h = hash_key(t, key);
	*hash = h;
	return find_slot_h(t, key, h);
}

void *tbl_find(struct tbl *t, const void *key)
{
	uint32_t h;
	uint32_t i = find_slot(t, key, &h);
	if (i == 0)
		return NULL;
	if (t->lru_head != i) {
		lru_unlink(t, i - 1);
		lru_push_head(t, i - 1);
	}
	return val_of(t, i - 1);
}

void *tbl_lookup(struct tbl *t, const void *key)
{
	uint32_t h;
	uint32_t i = find_slot(t, key, &h);
	return i ? val_of(t, i - 1) : NULL;
}

/* Takes the slot out of its bucket chain and the LRU list. */
static void unlink_slot(struct tbl *t, uint32_t slot)
{
	struct ent_hdr *e = hdr_at(t, slot);
	uint32_t *pp = &t->buckets[e->hash & t->mask];
	while (*pp) {
		if (*pp == slot + 1) {
			*pp = e->chain;
			break;
		}
		pp = &hdr_at(t, *pp - 1)->chain;
	}
	lru_unlink(t, slot);
	e->used = 0;
	t->count--;
}

/* Inserts key whose hash is h (computed once by the caller's lookup). */
static void *insert_hashed(struct tbl *t, const void *key, uint32_t h)
{
	uint32_t slot;
	if (t->free_head) {
		slot = t->free_head - 1;
		t->free_head = hdr_at(t, slot)->chain;
	} else if (t->next_unused < t->cap) {
		slot = t->next_unused++;
	} else {
		slot = t->lru_tail - 1;
		if (t->evict)
			t->evict(t->evict_arg, key_of(t, slot), val_of(t, slot));
		unlink_slot(t, slot);
		t->evictions++;
	}
	struct ent_hdr *e = hdr_at(t, slot);
	e->hash = h;
	e->used = 1;
	e->slot = slot;
	e->chain = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = slot + 1;
	memcpy((uint8_t *)e + t->key_off, key, t->key_size);
	memset(val_of(t, slot), 0, t->ent_size - t->val_off);
	lru_push_head(t, slot);
	t->count++;
	return val_of(t, slot);
}

uint32_t tbl_prefetch(const struct tbl *t, const void *key)
{
	uint32_t h = hash_key(t, key);
	__builtin_prefetch(&t->buckets[h & t->mask]);
	return h;
}

void *tbl_get_quiet_h(struct tbl *t, const void *key, uint32_t hash, int *created)
{
	uint32_t i = find_slot_h(t, key, hash);
	*created = i == 0;
	return i ? val_of(t, i - 1) : insert_hashed(t, key, hash);
}

void *tbl_insert(struct tbl *t, const void *key)
{
	return insert_hashed(t, key, hash_key(t, key));
}

void *tbl_get(struct tbl *t, const void *key, int *created)
{
	void *v = tbl_find(t, key);
	*created = v == NULL;
	return v != NULL ? v : tbl_insert(t, key);
}

void *tbl_get_quiet(struct tbl *t, const void *key, int *created)
{
	uint32_t h;
	uint32_t i = find_slot(t, key, &h);
	*created = i == 0;
	return i ? val_of(t, i - 1) : insert_hashed(t, key, h);
}

void tbl_remove(struct tbl *t, void *val)
{
	uint32_t slot = slot_of_val(t, val);
	unlink_slot(t, slot);
	hdr_at(t, slot)->chain = t->free_head;
	t->free_head = slot + 1;
}

void tbl_evict_oldest(struct tbl *t)
{
	if (!t->lru_tail)
		return;
	uint32_t slot = t->lru_tail - 1;
	if (t->evict)
		t->evict(t->evict_arg, key_of(t, slot), val_of(t, slot));
	tbl_remove(t, val_of(t, slot));
	t->evictions++;
}

void tbl_touch(struct tbl *t, void *val)
{
	uint32_t slot = slot_of_val(t, val);
	if (t->lru_head != slot + 1) {
		lru_unlink(t, slot);
		lru_push_head(t, slot);
	}
}

void *tbl_oldest(struct tbl *t)
{
	return t->lru_tail ? val_of(t, t->lru_tail - 1) : NULL;
}

const void *tbl_key(const struct tbl *t, const void *val)
{
	return (const uint8_t *)val - t->val_off + t->key_off;
}

uint32_t tbl_index(const struct tbl *t, const void *val)
{
	return slot_of_val(t, val);
}

void *tbl_at(struct tbl *t, uint32_t index)
{
	if (index >= t->next_unused || !hdr_at(t, index)->used)
		return NULL;
	return val_of(t, index);
}

void *tbl_next(struct tbl *t, void *prev)
{
	return tbl_next_at(t, prev == NULL ? 0 : slot_of_val(t, prev) + 1);
}

void *tbl_next_at(struct tbl *t, uint32_t i)
{
	for (; i < t->next_unused; i++)
		if (hdr_at(t, i)->used)
			return val_of(t, i);
	return NULL;
}

uint32_t tbl_count(const struct tbl *t) { return t->count; }
uint32_t tbl_capacity(const struct tbl *t) { return t->cap; }
uint64_t tbl_evictions(const struct tbl *t) { return t->evictions; }
const char *tbl_name(const struct tbl *t) { return t->name; }

size_t tbl_bytes(const struct tbl *t)
{
	return (size_t)t->cap * t->ent_size + ((size_t)t->mask + 1) * sizeof(uint32_t);
}
