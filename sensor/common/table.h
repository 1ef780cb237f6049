/* table.h — bounded hash table with LRU eviction, keyed hashing.
 *
 * Every state table of the sensor (devices, outstanding queries, TCP flows,
 * IP bindings) is one of these: a fixed capacity set from config and
 * allocated once, fixed-size zero-padded keys, chaining through 32-bit
 * indexes, a doubly linked LRU list through the same entries, and a hash
 * key drawn at start-up (NH keyed from 16 random bytes, see table.c) so
 * attacker-chosen MACs, ports or IDs cannot pile into one bucket. When
 * full, an insert evicts the least recently used entry (after calling the
 * owner's eviction hook) and counts it. Pages of the entry array are
 * touched only as entries are first used, so the resident size grows with
 * what is stored, up to the stated bound.
 *
 * Iteration order (tbl_next) is slot order, which depends only on the order
 * of inserts and removals: a replay gives the same order every time, whatever
 * the hash key.
 */
#ifndef SW_COMMON_TABLE_H
#define SW_COMMON_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tbl;

/* Called with the key and value of an entry about to be evicted. */
typedef void (*tbl_evict_fn)(void *arg, const void *key, void *val);

/* Creates a table for `cap` entries (>= 1) of key_size (<= 128) and
 * val_size bytes. `sipkey` is 16 bytes of hash key (NULL: a fixed key, for
 * tests). Returns NULL on allocation failure. */
struct tbl *tbl_new(const char *name, uint32_t cap, size_t key_size,
		    size_t val_size, const uint8_t *sipkey);
void tbl_free(struct tbl *t);
void tbl_set_evict(struct tbl *t, tbl_evict_fn fn, void *arg);

/* Finds the entry for key; returns its value (and marks it most recently
 * used) or NULL. */
void *tbl_find(struct tbl *t, const void *key);

/* Finds key without changing the LRU order. Moving an entry to the front
 * touches its two neighbours and the old head, three cache misses in a big
 * table; hot paths use this and call tbl_touch() when they choose (e.g.
 * once per second per device), which keeps eviction close to LRU. */
void *tbl_lookup(struct tbl *t, const void *key);

/* The key's hash, with the cache line of its bucket requested: a caller
 * that knows a key early (e.g. as soon as the device is known) starts the
 * memory load here and finishes with tbl_get_quiet_h, which takes the
 * hash instead of computing it again. */
uint32_t tbl_prefetch(const struct tbl *t, const void *key);
void *tbl_get_quiet_h(struct tbl *t, const void *key, uint32_t hash, int *created);

/* Inserts key, which must not be present; returns the zeroed value. When the
 * table is full, evicts the least recently used entry first. Never NULL. */
void *tbl_insert(struct tbl *t, const void *key);

/* Finds key or inserts it; *created says which. */
void *tbl_get(struct tbl *t, const void *key, int *created);

/* tbl_get() without the LRU move, as tbl_lookup(). */
void *tbl_get_quiet(struct tbl *t, const void *key, int *created);

/* Removes the entry whose value is `val`. */
void tbl_remove(struct tbl *t, void *val);

/* Evicts the least recently used entry now, as a full insert would (the
 * eviction hook first, then counted), so an owner can make room before an
 * insert rather than have its hook run inside one. Nothing when empty. */
void tbl_evict_oldest(struct tbl *t);

/* Marks an entry most recently used. */
void tbl_touch(struct tbl *t, void *val);

/* The least recently used entry's value, or NULL when empty (for expiry
 * from the old end). */
void *tbl_oldest(struct tbl *t);

/* The key of an entry. */
const void *tbl_key(const struct tbl *t, const void *val);

/* Slot index of an entry (stable while it lives) and back. */
uint32_t tbl_index(const struct tbl *t, const void *val);
void *tbl_at(struct tbl *t, uint32_t index); /* NULL when the slot is free */

/* Iterates in slot order: start with prev = NULL; returns NULL at the end. */
void *tbl_next(struct tbl *t, void *prev);

/* The first entry at slot index or after it, or NULL (for round-robin
 * sweeps that keep a slot number across calls). */
void *tbl_next_at(struct tbl *t, uint32_t index);

uint32_t tbl_count(const struct tbl *t);
uint32_t tbl_capacity(const struct tbl *t);
uint64_t tbl_evictions(const struct tbl *t);
const char *tbl_name(const struct tbl *t);
/* Bytes reserved for the table at its capacity. */
size_t tbl_bytes(const struct tbl *t);

/* SipHash-1-3 of buf with a 16-byte key. */
uint64_t sw_siphash(const uint8_t key[16], const void *buf, size_t len);

/* Words of key a table's hash needs: two per 16 bytes of its longest key
 * (128 bytes). */
#define TBL_NH_WORDS 16

/* Fills the key of sw_nh() from a 16-byte random key. */
void sw_nh_key(uint64_t nh[TBL_NH_WORDS], const uint8_t sipkey[16]);

/* The keyed hash of the tables (NH, see table.c) of len <= 128 bytes. */
uint64_t sw_nh(const uint64_t nh[TBL_NH_WORDS], const void *buf, size_t len);

/* MurmurHash3's 64-bit finaliser: every output bit depends on every input
 * bit, so low bits (slot and bit indexes) and top bits (multiply-shift
 * ranges) of a weakly mixed hash can be used. A bijection, not a hash. */
static inline uint64_t sw_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The last 0 to 7 bytes of a buffer as one word, as memcpy(&w, p, n) would
 * load them, in at most three fixed-size loads rather than a call for a
 * length known only now. */
static inline uint64_t sw_load_part(const uint8_t *p, size_t n)
{
	uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t o = 0;
	if (n >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		w = v;
		o = 4;
	}
	if (n - o >= 2) {
		uint16_t v;
		memcpy(&v, p + o, 2);
		w |= (uint64_t)v << (8 * o);
		o += 2;
	}
	if (n > o)
		w |= (uint64_t)p[o] << (8 * o);
#else
	memcpy(&w, p, n);
#endif
	return w;
}

/* An unkeyed multiply-xorshift over 8-byte words: fast, for telling apart
 * inputs whose table placement is keyed elsewhere (names inside a key the
 * table hashes with its key) or that come from trusted files. Not for
 * attacker-chosen placement. */
static inline uint64_t sw_hash_words(const void *buf, size_t n, uint64_t seed)
{
	const uint8_t *p = buf;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ seed ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	h = (h ^ sw_load_part(p, n)) * 0x94d049bb133111ebull;
	return sw_mix64(h);
}

#endif
