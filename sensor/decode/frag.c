/* frag.c — bounded IPv4 and IPv6 fragment reassembly (RFC 791 §3.2,
 * RFC 815, RFC 8200 §4.5, RFC 5722 overlaps).
 *
 * One table per family, every byte allocated by dec_frag_init(). Each slot
 * owns a buffer of buf_size bytes for the fragmentable part and a bitmap
 * with one bit per 8-byte block (fragment offsets are multiples of 8, RFC
 * 791 §3.1, RFC 8200 §4.5), which is the hole list of RFC 815 in a form that
 * makes duplicates and overlaps a per-block test. Overlapping fragments
 * whose bytes agree are accepted as duplicates; bytes that differ kill the
 * datagram (RFC 5722 §4 for IPv6, and the same conservative policy for
 * IPv4 so a sensor and an end host cannot be made to see different data).
 * A killed datagram stays in the table, "dead", until its timeout so its
 * later fragments are dropped too (RFC 5722 §4: "including those not yet
 * received"). Lookups hash the key with SipHash-1-3 under a random key so
 * chosen addresses and identifications cannot pile into one chain. When
 * the table is full the oldest datagram is evicted and counted.
 */
#include "decode/decode_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/table.h"

#define FRAG_NIL UINT32_MAX

/* Entries above 2^24 would make cap × buf_size overflow any sane address
 * space long before; it is only a guard against a config typo. */
#define FRAG_CAP_MAX (1u << 24)

struct frag_ent {
	struct frag_key key;  /* what the datagram is */
	uint64_t first_us;    /* time of its first fragment seen */
	uint32_t hash;        /* SipHash of key, to find its chain on removal */
	uint32_t hnext;       /* next in the hash chain, or in the free list */
	uint32_t aprev;       /* age list, oldest first */
	uint32_t anext;
	uint32_t total;       /* fragmentable bytes, known when has_last */
	uint32_t have;        /* distinct bytes received */
	uint32_t max_end;     /* highest end offset received */
	uint32_t hdr_len;     /* header bytes, from the first fragment */
	uint8_t ttl;          /* from the first fragment (offset 0) */
	uint8_t nh;           /* protocol / next header, from the first fragment */
	uint8_t has_first;    /* the fragment at offset 0 came */
	uint8_t has_last;     /* the fragment without MF/M came */
	uint8_t dead;         /* dropped for a fault; swallows the rest */
	uint8_t used;         /* in the hash table (else on the free list) */
};

/* The sensor's keyed SipHash-1-3 (common/table.h) over the 40-byte key,
 * so an attacker cannot aim at one chain. */
static uint32_t frag_hash(const uint64_t k[2], const struct frag_key *key)
{
	return (uint32_t)sw_siphash((const uint8_t *)k, key, sizeof(*key));
}

/* A random hash key; at start-up only. Without getrandom() (old kernels,
 * seccomp) the clock and addresses still differ per run. */
static void frag_seed(uint64_t k[2], const void *salt)
{
	if (getrandom(k, 2 * sizeof(k[0]), GRND_NONBLOCK) ==
	    (ssize_t)(2 * sizeof(k[0])))
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
	k[1] = (uint64_t)(uintptr_t)salt * 0xc2b2ae3d27d4eb4full ^ k[0];
}

int dec_frag_init(struct frag_tab *t, uint32_t cap, uint32_t buf_size,
		  uint64_t timeout_us, int v6)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > FRAG_CAP_MAX || buf_size == 0)
		return SW_ERANGE;
	t->cap = cap;
	t->buf_size = buf_size;
	t->map_size = (buf_size + 63) / 64; /* one bit per 8 bytes */
	t->timeout_us = timeout_us;
	t->nbucket = 1;
	while (t->nbucket < cap * 2) /* load factor <= 1/2 */
		t->nbucket <<= 1;
	t->ent = calloc(cap, sizeof(*t->ent));
	t->bucket = malloc((size_t)t->nbucket * sizeof(*t->bucket));
	/* Not touched until a slot is used: the pages stay unbacked. */
	t->buf = malloc((size_t)cap * buf_size);
	t->map = malloc((size_t)cap * t->map_size);
	if (t->ent == NULL || t->bucket == NULL || t->buf == NULL ||
	    t->map == NULL) {
		dec_frag_fini(t);
		return SW_ENOMEM;
	}
	for (uint32_t i = 0; i < t->nbucket; i++)
		t->bucket[i] = FRAG_NIL;
	/* Free list in index order so slot 0 is used first. */
	for (uint32_t i = 0; i < cap; i++)
		t->ent[i].hnext = i + 1 < cap ? i + 1 : FRAG_NIL;
	t->free_head = 0;
	t->age_head = FRAG_NIL;
	t->age_tail = FRAG_NIL;
	frag_seed(t->hkey, t);
	if (v6) {
		t->a_overlap = DEC_A_IPV6_FRAG_OVERLAP;
		t->a_too_big = DEC_A_IPV6_FRAG_TOO_BIG;
		t->a_timeout = DEC_A_IPV6_FRAG_TIMEOUT;
		t->a_evicted = DEC_A_IPV6_FRAG_EVICTED;
		t->a_bad = DEC_A_IPV6_FRAG_BAD;
	} else {
		t->a_overlap = DEC_A_IPV4_FRAG_OVERLAP;
		t->a_too_big = DEC_A_IPV4_FRAG_TOO_BIG;
		t->a_timeout = DEC_A_IPV4_FRAG_TIMEOUT;
		t->a_evicted = DEC_A_IPV4_FRAG_EVICTED;
		t->a_bad = DEC_A_IPV4_FRAG_BAD;
	}
	return 0;
}

void dec_frag_fini(struct frag_tab *t)
{
	free(t->ent);
	free(t->bucket);
	free(t->buf);
	free(t->map);
	memset(t, 0, sizeof(*t));
}

/* Unlinks entry i from its chain and the age list, back to the free list. */
static void frag_remove(struct frag_tab *t, uint32_t i)
{
	struct frag_ent *e = &t->ent[i];
	uint32_t *pp = &t->bucket[e->hash & (t->nbucket - 1)];
	while (*pp != i)
		pp = &t->ent[*pp].hnext;
	*pp = e->hnext;
	if (e->aprev != FRAG_NIL)
		t->ent[e->aprev].anext = e->anext;
	else
		t->age_head = e->anext;
	if (e->anext != FRAG_NIL)
		t->ent[e->anext].aprev = e->aprev;
	else
		t->age_tail = e->aprev;
	e->used = 0;
	e->hnext = t->free_head;
	t->free_head = i;
	t->used--;
}

/* Takes a free slot, evicting the oldest datagram when there is none, and
 * links it as the newest. */
static uint32_t frag_alloc(struct dec_ctx *d, struct frag_tab *t,
			   const struct frag_key *key, uint32_t h,
			   uint64_t ts_us)
{
	if (t->free_head == FRAG_NIL) {
		uint32_t old = t->age_head;
		if (!t->ent[old].dead)
			dec_anom(d, t->a_evicted);
		frag_remove(t, old);
	}
	uint32_t i = t->free_head;
	struct frag_ent *e = &t->ent[i];
	t->free_head = e->hnext;
	t->used++;
	e->key = *key;
	e->hash = h;
	e->first_us = ts_us;
	e->hnext = t->bucket[h & (t->nbucket - 1)];
	t->bucket[h & (t->nbucket - 1)] = i;
	e->anext = FRAG_NIL;
	e->aprev = t->age_tail;
	if (t->age_tail != FRAG_NIL)
		t->ent[t->age_tail].anext = i;
	else
		t->age_head = i;
	t->age_tail = i;
	e->total = 0;
	e->have = 0;
	e->max_end = 0;
	e->hdr_len = 0;
	e->ttl = 0;
	e->nh = 0;
	e->has_first = 0;
	e->has_last = 0;
	e->dead = 0;
	e->used = 1;
	memset(t->map + (size_t)i * t->map_size, 0, t->map_size);
	return i;
}

static int frag_kill(struct dec_ctx *d, struct frag_ent *e, int a)
{
	e->dead = 1;
	dec_anom(d, a);
	return 0;
}

static int frag_expired(const struct frag_tab *t, const struct frag_ent *e,
			uint64_t now_us)
{
	return now_us > e->first_us && now_us - e->first_us > t->timeout_us;
}

int dec_frag_add(struct dec_ctx *d, struct frag_tab *t,
		 const struct frag_in *in, struct frag_out *out)
{
	uint32_t h = frag_hash(t->hkey, &in->key);
	uint32_t i = t->bucket[h & (t->nbucket - 1)];
	while (i != FRAG_NIL && (t->ent[i].hash != h ||
				 memcmp(&t->ent[i].key, &in->key, sizeof(in->key)) != 0))
		i = t->ent[i].hnext;
	if (i != FRAG_NIL && frag_expired(t, &t->ent[i], in->ts_us)) {
		/* Not swept by dec_expire() yet: same outcome as if it had. */
		if (!t->ent[i].dead)
			dec_anom(d, t->a_timeout);
		frag_remove(t, i);
		i = FRAG_NIL;
	}
	if (i == FRAG_NIL)
		i = frag_alloc(d, t, &in->key, h, in->ts_us);
	struct frag_ent *e = &t->ent[i];
	if (e->dead)
		return 0;

	uint32_t off = in->off;
	uint32_t end = off + in->len; /* off <= 65528 and len <= 65535: no wrap */
	/* RFC 791 §3.2, RFC 8200 §4.5: every fragment but the last carries a
	 * multiple of 8 bytes (and at least 8). */
	if (in->more && (in->len == 0 || in->len % 8 != 0))
		return frag_kill(d, e, t->a_bad);
	/* RFC 8200 §4.5: a datagram whose payload length would pass 65535 is
	 * discarded; RFC 791's total length has the same 16 bits. A datagram
	 * larger than the configured buffer is refused the same way. */
	if (end > in->limit || end > t->buf_size)
		return frag_kill(d, e, t->a_too_big);
	if (!in->more) {
		/* Two different ends, or data past the end: inconsistent. */
		if ((e->has_last && e->total != end) || e->max_end > end)
			return frag_kill(d, e, t->a_bad);
		e->has_last = 1;
		e->total = end;
	} else if (e->has_last && end > e->total) {
		return frag_kill(d, e, t->a_bad);
	}

	/* Block by block: a block already received must hold the same bytes
	 * (a duplicate); a new one is copied and counted. Only the last
	 * fragment ends inside a block, and any other fragment that touches
	 * that block was refused above, so both cover the same bytes of it. */
	uint8_t *buf = t->buf + (size_t)i * t->buf_size;
	uint8_t *map = t->map + (size_t)i * t->map_size;
	for (uint32_t b = off / 8; b * 8 < end; b++) {
		uint32_t lo = b * 8 > off ? b * 8 : off;
		uint32_t hi = b * 8 + 8 < end ? b * 8 + 8 : end;
		const uint8_t *src = in->data + (lo - off);
		uint8_t bit = (uint8_t)(1u << (b & 7));
		if (map[b >> 3] & bit) {
			if (memcmp(buf + lo, src, hi - lo) != 0)
				return frag_kill(d, e, t->a_overlap);
		} else {
			memcpy(buf + lo, src, hi - lo);
			map[b >> 3] |= bit;
			e->have += hi - lo;
		}
	}
	if (end > e->max_end)
		e->max_end = end;
	if (off == 0) {
		e->has_first = 1;
		e->ttl = in->ttl;
		e->nh = in->nh;
		e->hdr_len = in->hdr_len;
	}
	if (!e->has_first || !e->has_last || e->have != e->total)
		return 0;

	out->data = buf;
	out->len = e->total;
	out->hdr_len = e->hdr_len;
	out->ttl = e->ttl;
	out->nh = e->nh;
	/* The buffer stays intact until the slot is taken again, which can
	 * only happen in a later dec_frame() call. */
	frag_remove(t, i);
	d->reassembled++;
	return 1;
}

void dec_frag_expire(struct dec_ctx *d, struct frag_tab *t, uint64_t now_us,
		     uint32_t budget)
{
	/* The age list is in order of first fragment, so the sweep stops at the
	 * first entry still young. */
	while (budget-- > 0 && t->age_head != FRAG_NIL) {
		struct frag_ent *e = &t->ent[t->age_head];
		if (!frag_expired(t, e, now_us))
			return;
		if (!e->dead)
			dec_anom(d, t->a_timeout);
		frag_remove(t, t->age_head);
	}
}
