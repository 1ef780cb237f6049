/* behaviour_int.h — the state of the behaviour module (mod_behaviour)
 * that its files share: behaviour.c (state, verdicts, posture alerts,
 * hooks, device events, stats), anscache.c (the answer cache, a cuckoo
 * table), cache.c (cache.stale-use's connections) and rate.c (rate.burst,
 * rate.retry-storm, network.resolver-outage).
 *
 * One state per engine (struct bh), created by the module's create hook
 * and touched only by the engine's thread: no locks, no static data. What
 * every query or answer runs is inline here: the answer cache's lookups,
 * the address ring's search, a failure episode's start and end.
 */
#ifndef SW_DETECT_BEHAVIOUR_INT_H
#define SW_DETECT_BEHAVIOUR_INT_H

#include "detect/engine_int.h"

#include <stddef.h>
#include <string.h>

#include "common/fmt.h"
#include "common/mem.h"
#include "output/jw.h"

#define MS 1000ull  /* microseconds per millisecond */

/* Answer-cache entries per device slot: IoT devices use 5-40 names, A and
 * AAAA each; 16 x devices.max, capped. An entry is a 64-byte line that
 * every query and answer of it reads, and there are 1.5 lines per entry
 * (see CACHE_SPREAD); 60 cold bytes (failure episode, name for evidence)
 * touched in failures and on creation; 4 bytes of ring: 160 B, so the cap
 * of 65536 entries is 10 MiB at most, touched only as names appear. The
 * cap is also a speed bound (four entry lines are hit at random on every
 * query) and ring positions are kept in 16 bits. */
#define CACHE_PER_DEV 16u
#define CACHE_MAX 65536u
/* Buckets of two entries, each key having two buckets (cuckoo hashing),
 * and 1.5 entry places per entry: the cache is at most two thirds full,
 * well below the 90 % where two-by-two cuckoo tables start to fail. A key
 * whose four places are taken has one of them freed by moving entries to
 * their other buckets (cache_make_room), searching up to CUCKOO_NODES
 * places: a few steps are enough at two thirds full. */
#define CACHE_SPREAD_NUM 3
#define CACHE_SPREAD_DEN 2
#define CUCKOO_NODES 128
/* Answer addresses remembered per device for stale-use checks, newest
 * first out of a ring: a device connects to what it has just resolved, and
 * IoT devices resolve a handful of names. 16 x 32 B and a tag line =
 * 576 B per device, 36 MiB at 65536 devices, touched only as devices
 * appear. A per-device ring replaced a shared hash table: answers carry
 * new addresses all the time, and the table's constant evictions cost
 * more than the rest of this module. An address pushed out is simply not
 * judged (no false alert). */
#define ADDR_RING 16
/* Seen connections (UDP flows, TCP SYNs) to indexed addresses
 * (24 + 40 + 8 = 72 B): 8 per device, so that a device's new TCP
 * connections do not push its long-lived UDP flows out (one would then
 * count as new again), capped at 65536 (4.5 MiB at most). */
#define CONN_PER_DEV 8u
#define CONN_MAX 65536u
/* A UDP flow silent this long starts again as a new connection: longer
 * than QUIC's usual 30 s idle time-out and NAT UDP bindings (RFC 4787
 * §4.3: at least 2 min). A SYN of the same addresses and ports within it
 * is a retransmission of one attempt: Linux gives up on a SYN after 127 s
 * (tcp_syn_retries 6), and a stale address that no longer answers is
 * exactly what draws retransmissions. */
#define CONN_IDLE_US (180 * SEC)
/* Without any query of a (name, type) for this long, its failure episode
 * and outstanding query are over (RFC 9520 §3.2 caps failure caching at
 * 5 minutes). */
#define EPISODE_IDLE_US (300 * SEC)
/* Retry intervals: an interval at least GROWTH x the one before is a
 * back-off step; FLAT_MIN consecutive intervals shorter than FLAT_MAX_US
 * that do not grow are a storm. Stubs back off 1, 2, 4 s (glibc, lwIP);
 * an interval of 10 s or more is slow enough to leave alone. */
#define GROWTH 1.5
#define FLAT_MIN 10
#define FLAT_MAX_US (10 * SEC)
/* Queries of one name closer than this are one retry round (a stub that
 * asks all its resolvers at once): no interval between them, or a round
 * to two resolvers 1 ms apart would look like a back-off every time. */
#define ROUND_US (100 * MS)
/* rate.burst: a device's own baseline needs this many minutes of history
 * before k x baseline means anything; the EWMA weighs one minute 1/16
 * (a time constant of about a quarter of an hour). */
#define BASELINE_MIN_MINUTES 10
#define EWMA_W (1.0 / 16.0)
/* Rate buckets: 12 x 5 s covers the 60 s window (window_s above 60 is
 * clamped to it). */
#define BUCKETS 12
#define BUCKET_US (5 * SEC)
/* Retry storms held back until a resolver outage could explain them: at
 * most this many at once (one per storming device; when full the oldest
 * is decided early). */
#define STORMS 256
/* Resolver outages tracked at once. */
#define OUTAGES 8
/* Devices that count as active for the outage share: queried in the last
 * 5 minutes. */
#define ACTIVE_US (300 * SEC)
/* Name prefixes kept for evidence; an answer-cache entry keeps a shorter
 * one, which is all that stale-use evidence can show. */
#define NAME_LEN 64
#define COLD_NAME_LEN (NAME_LEN - 24)
/* A held-back storm keeps its query's whole name (253 characters at most
 * but for \DDD escapes): storms are few, and the name is what an analyst
 * filters the capture on. */
#define STORM_NAME_LEN 256

enum fail_kind {
	FK_NONE = 0, FK_TIMEOUT, FK_SERVFAIL, FK_REFUSED, FK_EMPTY, FK_UNEXPECTED, FK_FORMERR,
	FK_NOTIMP
};
static const char *const fail_names[] = { "none", "no_answer", "servfail", "refused",
					  "empty_answer", "unexpected_answer", "formerr",
					  "notimp" };

struct ckey {
	uint32_t dev_id;
	uint32_t qname_hash;      /* the engine's query-name hash (qry_key) */
	uint16_t qtype;
	uint16_t pad;
};

/* One (name, type) of one device: what each of its queries and answers
 * reads and writes, in one cache line. The key is in it, so a reference
 * kept elsewhere (an outstanding query's mod_ref) is checked against the
 * key it expects: the slot may hold another name by then. */
struct cent {
	_Alignas(64) uint64_t answered_us; /* last positive or negative answer; 0: none */
	uint64_t last_q_us;       /* last query, any */
	uint64_t pending_us;      /* first query not yet answered; 0: none */
	uint64_t fail_start_us;   /* failure episode start; 0: none */
	uint64_t win_start_us;    /* same-name window start */
	uint32_t dev_id;          /* key; 0: a free slot (device ids start at 1) */
	uint32_t qname_hash;      /* key */
	uint32_t ttl_s;           /* answer TTL (chain minimum) or negative TTL */
	uint16_t qtype;           /* key */
	uint16_t win_count;       /* queries in the same-name window */
	uint8_t neg;              /* 1: negative answer with SOA; 2: without */
	uint8_t aslot;            /* address ring slot + 1 of its last answer; 0: none */
	uint16_t ri;              /* its place in the creation ring (and cold array) */
	/* The place's, not the entry's (they stay when entries move), and in
	 * a bucket's first place only: what a lookup reads there so that it
	 * reads the second place, and the other bucket, only when they may
	 * hold its key (cache_find). */
	uint8_t fp1;              /* fingerprint of the second place's key; 0: empty */
	uint8_t retries;          /* repeats of the pending query before an episode opened */
	uint16_t spill;           /* keys of this first bucket in their second one
				   * (UINT16_MAX: too many to count, sticks) */
};
_Static_assert(sizeof(struct cent) == 64, "an answer-cache entry is one cache line");

/* The rest of an entry, by its place in the creation ring (it does not
 * move with the entry): its failure episode, touched only while one is
 * open, and its name, written when the entry is created and read for
 * evidence. */
struct ccold {
	uint32_t fail_queries;    /* queries in the episode */
	uint32_t last_iv_ms;      /* last retry interval in the episode */
	uint32_t min_iv_ms;
	uint32_t max_iv_ms;
	uint8_t flat;             /* consecutive non-growing short intervals */
	uint8_t fail_kind;        /* enum fail_kind of the episode */
	uint8_t grew;             /* an interval grew in the episode */
	uint8_t stormed;          /* the episode was counted as a storm */
	char name[COLD_NAME_LEN]; /* name prefix, NUL-terminated */
};

/* The answer cache: a cuckoo hash table of entries, so a key's hash gives
 * the four lines it can be in, which the prefetch hook requests as soon as
 * the device is known; the query hook then finds the entry in cache. A
 * ring in creation order says which entry goes when the cache is full:
 * the one created longest ago whatever the hash key, so replays stay the
 * same, as with the LRU table this replaces (whose entries were never
 * moved up). Keyed hashes pick the buckets, so chosen names cannot pile
 * into one (cache_buckets). */
struct cache {
	struct cent *ent;         /* 2 x nb places: bucket i is places 2i and 2i + 1 */
	struct ccold *cold;       /* cap, by ring position */
	uint32_t *ring;           /* cap: place + 1 of the entry made there; 0: none */
	struct sw_big ent_map;
	uint32_t cap;
	uint32_t nb;              /* buckets */
	uint32_t next;            /* ring position used next */
	uint32_t count;
	uint64_t evictions;
	uint64_t hk[2][4];        /* random keys of the two bucket hashes */
};

/* A key's two buckets and its fingerprint (1..255). */
struct cbk {
	uint32_t b1, b2;
	uint8_t fp;
};

/* An address a device learnt from an answer: half a line, so a ring
 * slot never straddles two. Its expiry is answered_us + ttl_s: both are
 * written together whenever the expiry moves. Its (name, type) type sits
 * in the ring's tag line (bdev.addr_qtype). */
struct aent {
	uint8_t ip[16];
	uint64_t answered_us;     /* the answer with the latest expiry that gave the address */
	uint32_t ttl_s;           /* that answer's TTL */
	uint32_t qname_hash;      /* that answer's name, for "asked again" */
};
_Static_assert(sizeof(struct aent) == 32, "an address ring slot is half a line");

struct fkey {
	uint8_t mac[6];
	uint16_t vlan;
	uint8_t ip[16];
	uint16_t sport, dport;
	uint8_t proto;            /* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t pad[11];
};

struct fent {
	uint64_t last_us;
};

/* Per device slot. The first cache line is all that a query reads and
 * writes but the evidence of an early repeat: its rate buckets and the
 * repeat counters (the prefetch hook requests it). The second holds that
 * evidence, its name too unless the name is long; a repeat of a negative
 * answer has a line of its own likewise. Then what findings and failures
 * change, then the address ring, whose tags share one line with the
 * ring's bookkeeping. */
struct bdev {
	_Alignas(64) uint64_t bucket_n;   /* current 5-s bucket number */
	uint64_t minute;                  /* current minute number */
	double peak_qpm;
	uint16_t bucket[BUCKETS];         /* queries per 5 s */
	uint32_t minute_count;
	uint32_t repeat, early;           /* repeat queries, of which early */
	uint32_t q60 : 20;                /* sum of the buckets: 12 x 65535 at most */
	uint32_t in_burst : 1;
	uint32_t rate_started : 1;        /* the buckets have a first query */
	uint32_t storm_pending : 1;       /* a storm of the device is held back */
	uint32_t stale_tcp : 1;           /* the last stale use was a TCP SYN (else UDP) */
	/* second line: the last early repeat */
	uint64_t early_at, early_answered;
	uint32_t early_ttl;
	uint16_t early_qtype;
	char early_name[NAME_LEN];
	uint32_t dev_id;                  /* the slot's device (bh_device_reset) */
	uint32_t minutes;                 /* minutes of history */
	uint32_t stale, checked;          /* stale uses, new connections checked */
	uint32_t bursts, episodes, backoff_episodes, storms;
	double baseline_qpm;
	/* fourth line: repeats of negative answers and the last early one */
	uint64_t neg_at, neg_answered;
	uint32_t neg_samples, neg_early;  /* repeats of negative answers, of which early */
	uint32_t neg_ttl;
	uint16_t neg_qtype;
	char neg_name[NAME_LEN];
	uint64_t fail_last_us;            /* last failure signal */
	double max_rate;                  /* highest per-name rate in a storm, q/s */
	uint64_t stale_at, stale_answered; /* expired stale_ttl after it was answered */
	uint8_t stale_ip[16];
	uint32_t stale_ttl;
	uint16_t stale_port;
	uint16_t stale_qtype;
	char stale_name[COLD_NAME_LEN];   /* from the entry's cold part */
	/* answer addresses, for stale use: each one's atag() in one line
	 * with the ring's bookkeeping, so a search reads that line and the
	 * slots whose tag matches */
	_Alignas(64) uint8_t addr_tag[ADDR_RING];
	uint16_t addr_qtype[ADDR_RING];   /* each slot's (name, type) type */
	uint16_t addr_used;               /* bit i: slot i holds an address */
	uint8_t addr_next;                /* ring slot written next */
	_Alignas(64) struct aent addr[ADDR_RING];
};
_Static_assert(offsetof(struct bdev, early_at) == 64, "a query's own part of bdev is one line");
_Static_assert(offsetof(struct bdev, early_name) + 42 == 128,
	       "an early repeat's evidence is one line for names up to 41 characters");
_Static_assert(offsetof(struct bdev, neg_at) == 192 && offsetof(struct bdev, neg_name) + 34 == 256,
	       "a negative repeat's evidence is one line for names up to 33 characters");
_Static_assert(offsetof(struct bdev, addr) - offsetof(struct bdev, addr_tag) == 64,
	       "the ring's tags and bookkeeping are one line");
_Static_assert(sizeof(struct bdev) % 128 == 64, "an odd number of lines, so that the same line "
	       "of all device slots does not crowd into a few cache sets");
_Static_assert(BUCKETS * 65535 < 1 << 20, "the bucket sum fits bdev.q60");
_Static_assert(ADDR_RING == 16, "addr_used has a bit per slot and addr_find reads two words of tags");

struct storm {
	uint8_t state;            /* 0 free, 1 held back */
	uint8_t fail_kind;
	uint8_t flat_reason;      /* 1: intervals did not grow; 0: rate */
	uint8_t designated;
	uint16_t qtype;
	uint32_t dev_id, slot;
	uint64_t at_us, start_us;
	uint32_t queries, min_iv_ms, max_iv_ms;
	double rate;
	uint8_t resolver[16];
	uint16_t resolver_port;
	char name[STORM_NAME_LEN];
};

struct outage {
	uint8_t active;
	uint8_t resolver[16];
	uint64_t start_us;        /* earliest episode start of its storms */
	uint64_t last_us;         /* latest storm */
	uint64_t ended_us;        /* the resolver answered again, or the storms stopped; 0: active */
	uint64_t alerted_us;
	uint32_t devices;         /* distinct storming devices */
	uint32_t suppressed;      /* per-device storm alerts it explains */
};

/* The rule parameters the query hook reads, converted once when the rules
 * are set (bh_rules_changed()) rather than on every query. */
struct bh_params {
	uint64_t timeout_us;      /* rate.retry-storm timeout_s */
	uint64_t min_duration_us; /* rate.retry-storm min_duration_s */
	double per_name_qps;      /* rate.retry-storm */
	double min_ttl_s;         /* cache.requery-within-ttl */
	double alpha;
	uint32_t min_samples;
	uint32_t neg_min_repeats; /* cache.negative-ignored min_repeats */
	double win_s;             /* rate.burst window_s, 60 at most (BUCKETS) */
	uint64_t win_us;
	double same_name_max;
	double floor_in_win;      /* floor_qps x win_s */
	double k;
};

struct bh {
	struct cache cache;
	struct bh_params pr;
	struct tbl *conns;          /* connections seen, by fkey */
	struct bdev *dev;
	struct sw_big dev_map;
	uint32_t ndev;
	/* The key the prefetch hook hashed for the query that follows it. */
	struct ckey pf_key;
	struct cbk pf_bk;
	struct storm storms[STORMS];
	struct outage outages[OUTAGES];
	unsigned nactive;         /* outages active: responses look for theirs only then */
	unsigned nstorms;         /* storms held back: the tick looks at them only then */
	struct alert_state net;   /* network-level alerts' rate limits */
	uint64_t c_stale, c_early, c_neg, c_bursts, c_storms, c_outages, c_suppressed;
	uint64_t c_storm_ring_full;
};

static inline const struct det_rule *rule(const struct engine *e, enum det_id id)
{
	return rules_det(e->rules, id);
}

static inline uint32_t clamp_cap(uint32_t per, uint32_t devs, uint32_t max)
{
	uint64_t c = (uint64_t)per * devs;
	return c > max ? max : c < 1024 ? 1024 : (uint32_t)c;
}


/* The device's slot. The engine resets a slot whenever it takes a new
 * device (bh_device_reset), so the slot is that device's. */
static inline struct bdev *bdev_of(struct bh *b, const struct dctx *c)
{
	return c->slot < b->ndev ? &b->dev[c->slot] : NULL;
}


static inline void ts_member(struct jw *w, const char *key, uint64_t us)
{
	char ts[FMT_TIME_LEN];
	fmt_time(ts, us);
	jw_str(w, key, ts);
}

/* A kept name that fills its buffer may have been cut short (text_copy()):
 * alerts give it as evidence, flagged, and never as dns.question.name,
 * on which an analyst's filter would then find nothing. */
static inline int name_cut(const char *name, size_t size)
{
	return strnlen(name, size) + 1 >= size;
}

static inline const char *whole_name(const char *name, size_t size)
{
	return name[0] != '\0' && !name_cut(name, size) ? name : NULL;
}

static inline void name_member(struct jw *w, const char *name, size_t size)
{
	jw_str(w, "name", name);
	if (name_cut(name, size))
		jw_bool(w, "name_truncated", 1);
}


/* --- the answer cache (anscache.c) ---------------------------------------- */

/* Keys go by value: 12 bytes, two registers, and no address of a local
 * that would give the lookup functions a stack canary. */
static inline int ckey_eq(struct ckey a, struct ckey b)
{
	return a.dev_id == b.dev_id && a.qname_hash == b.qname_hash && a.qtype == b.qtype;
}

static inline int cent_is(const struct cent *ce, struct ckey key)
{
	return ce->dev_id == key.dev_id && ce->qname_hash == key.qname_hash &&
	       ce->qtype == key.qtype;
}

/* The two buckets of key, from two independent pair-multiply-shift
 * hashes (M. Thorup, "High Speed Hashing for Integers and Strings", 2015)
 * of its 32-bit words x0 = device, x1 = name hash, x2 = type, x3 = 0:
 *     h = ((a0 + x1)(a1 + x0) + (a2 + x3)(a3' + x2) + b) mod 2^64, top 32 bits,
 * with random 64-bit a0..a3', b; for x3 = 0 the second pair is a2 x2 plus a
 * constant, which with b is one random a3. The family is strongly
 * universal: two given keys share a hash with probability about 2^-32 over
 * the random keys, the defence a keyed hash gives against names chosen to
 * fill one bucket, for two multiplications instead of a SipHash of the
 * key. The first bucket counts A and AAAA as one type: a name's A and
 * AAAA entries, which stubs ask for one right after the other
 * (getaddrinfo), share it, and the second lookup finds its first line in
 * cache; their second buckets stay apart, so that the pair does not crowd
 * two buckets when the cache is full. Every other type keeps its own first
 * bucket: a device asking one name with thousands of types would otherwise
 * pile them all on one bucket of two places, leave each key a single
 * choice and drive the move search into its out-of-order fallback. */
static inline struct cbk cache_buckets(const struct cache *k, struct ckey key)
{
	uint32_t t1 = key.qtype == 1 || key.qtype == 28 ? 0 : key.qtype;
	uint64_t p1 = (k->hk[0][0] + key.qname_hash) * (k->hk[0][1] + key.dev_id) +
		      k->hk[0][2] * t1 + k->hk[0][3];
	uint64_t p2 = (k->hk[1][0] + key.qname_hash) * (k->hk[1][1] + key.dev_id) +
		      k->hk[1][2] * key.qtype + k->hk[1][3];
	/* Keys that differ in one word (one name asked with type after type)
	 * give hashes in arithmetic progression, and bucket pairs on a lattice
	 * that the move search cannot always resolve: the finaliser breaks the
	 * progression. */
	p1 = sw_mix64(p1);
	p2 = sw_mix64(p2);
	/* The fingerprint from the low bits, which the buckets hardly use. */
	uint8_t fp = (uint8_t)(p2 >> 32);
	struct cbk c = { (uint32_t)(((p1 >> 32) * k->nb) >> 32),
			 (uint32_t)(((p2 >> 32) * k->nb) >> 32), (uint8_t)(fp + (fp == 0)) };
	if (c.b2 == c.b1)
		c.b2 = c.b1 + 1 < k->nb ? c.b1 + 1 : 0;
	return c;
}

/* The place + 1 of key, or 0. A bucket's first place says whether its
 * second one may hold the key (fp1) and whether keys of the bucket moved
 * to their second bucket (spill), so a lookup reads one line for most
 * keys and for most absent ones, rather than up to four. */
static inline uint32_t cache_find(const struct cache *k, struct ckey key, struct cbk c)
{
	const struct cent *h = &k->ent[2 * c.b1];
	if (cent_is(h, key))
		return 2 * c.b1 + 1;
	if (h->fp1 == c.fp && cent_is(h + 1, key))
		return 2 * c.b1 + 2;
	if (h->spill == 0)
		return 0;
	h = &k->ent[2 * c.b2];
	if (cent_is(h, key))
		return 2 * c.b2 + 1;
	if (h->fp1 == c.fp && cent_is(h + 1, key))
		return 2 * c.b2 + 2;
	return 0;
}

/* Requests the four lines where key can be, for the lookup that follows
 * (a bucket is two adjacent lines). Returns the buckets, which the lookup
 * takes (and which keep GCC from deleting the call: it deletes calls of
 * functions whose only effect is a prefetch). */
static inline struct cbk cache_prefetch(const struct cache *k, struct ckey key)
{
	struct cbk c = cache_buckets(k, key);
	__builtin_prefetch(&k->ent[2 * c.b1]);
	__builtin_prefetch(&k->ent[2 * c.b1 + 1]);
	__builtin_prefetch(&k->ent[2 * c.b2]);
	__builtin_prefetch(&k->ent[2 * c.b2 + 1]);
	return c;
}

static inline struct ccold *cache_cold(const struct cache *k, uint32_t place)
{
	return &k->cold[k->ent[place].ri];
}

/* The place + 1 that ref (a place + 1 kept earlier; 0: none) names when it
 * still holds key, or 0: the entry may have moved or gone since. */
static inline uint32_t cache_ref(const struct cache *k, uint32_t ref, struct ckey key)
{
	return ref != 0 && ref <= 2 * k->nb && cent_is(&k->ent[ref - 1], key) ? ref : 0;
}

/* --- anscache.c ------------------------------------------------------------ */

/* Allocates an answer cache of at least cap entries (0, or -1 without
 * memory); bh_cache_free() frees it (k zeroed or initialised). */
int bh_cache_init(struct cache *k, uint32_t cap, const uint8_t sipkey[16]);
void bh_cache_free(struct cache *k);

/* A new entry for key (not in the buckets c, cache_buckets()), evicting
 * in creation order (counted), with its name kept for evidence: its place. */
uint32_t bh_cache_insert(struct cache *k, struct ckey key, struct cbk c, const char *name);

/* The place of key in the buckets c, created when new. */
static inline uint32_t bh_cache_get(struct cache *k, struct ckey key, struct cbk c, const char *name)
{
	uint32_t r = cache_find(k, key, c);
	return r ? r - 1 : bh_cache_insert(k, key, c, name);
}

/* --- cache.c --------------------------------------------------------------- */

/* An address folded to 8 bits, to find it in a device's ring. */
static inline uint8_t atag(const uint8_t ip[16])
{
	uint32_t w[4];
	memcpy(w, ip, 16);
	uint32_t t = w[0] ^ w[1] ^ w[2] ^ w[3];
	t ^= t >> 16;
	return (uint8_t)(t ^ (t >> 8));
}

/* The slot of the device's ring that holds ip, or -1. A ring holds an
 * address at most once (index_addresses adds only what this does not
 * find), so the order of the search does not matter. The tags are
 * compared eight at a time in a 64-bit word: a lane of x is zero where
 * the tag matches, and (x - 0x01..) & ~x & 0x80.. has the top bit of
 * every zero lane set (and at times of a lane just above one, which the
 * full comparison then rejects). */
static inline int addr_find(const struct bdev *v, const uint8_t ip[16], uint8_t tag)
{
	const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
	uint64_t w0, w1, t = tag * ones;
	memcpy(&w0, v->addr_tag, 8);
	memcpy(&w1, v->addr_tag + 8, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	/* Byte lane k of the word must be addr_tag[k] for ctz / 8 below. */
	w0 = __builtin_bswap64(w0);
	w1 = __builtin_bswap64(w1);
#endif
	w0 ^= t;
	w1 ^= t;
	uint64_t z0 = (w0 - ones) & ~w0 & tops, z1 = (w1 - ones) & ~w1 & tops;
	for (; z0 != 0; z0 &= z0 - 1) {
		unsigned j = (unsigned)__builtin_ctzll(z0) / 8;
		if ((v->addr_used >> j & 1) && memcmp(v->addr[j].ip, ip, 16) == 0)
			return (int)j;
	}
	for (; z1 != 0; z1 &= z1 - 1) {
		unsigned j = 8 + (unsigned)__builtin_ctzll(z1) / 8;
		if ((v->addr_used >> j & 1) && memcmp(v->addr[j].ip, ip, 16) == 0)
			return (int)j;
	}
	return -1;
}

/* The rest of the packet hook for a TCP SYN or UDP packet not of DNS or
 * DHCP: a new connection to an address whose answer expired. */
void bh_connection(struct bh *b, struct engine *e, const struct pkt *p);

/* --- rate.c ---------------------------------------------------------------- */

/* The episode of ce ends (a good answer, or silence). */
static inline void bh_episode_end(struct bdev *v, const struct cache *k, struct cent *ce)
{
	if (!ce->fail_start_us)
		return;
	struct ccold *cc = &k->cold[ce->ri];
	if (!cc->stormed && cc->fail_queries >= 3 && cc->grew)
		v->backoff_episodes++;
	ce->fail_start_us = 0;
	ce->win_count = 0;
	memset(cc, 0, offsetof(struct ccold, name));
}

static inline void bh_episode_start(struct bdev *v, const struct cache *k, struct cent *ce,
				    int kind, uint64_t start, uint64_t now)
{
	v->fail_last_us = now;
	if (ce->fail_start_us)
		return;
	struct ccold *cc = &k->cold[ce->ri];
	ce->fail_start_us = start;
	cc->fail_kind = (uint8_t)kind;
	/* The episode runs from the first unanswered query: it and the
	 * retries sent before the failure showed count in its rate. */
	cc->fail_queries = 1u + ce->retries;
	ce->retries = 0;
	v->episodes++;
}

/* rate.burst: the device's rate, or one name's, past its limit. */
void bh_alert_burst(struct engine *e, struct dctx *c, struct bdev *v, const struct pkt *p,
		    const struct dns_msg *msg, int same_name, uint32_t name_count,
		    uint64_t win_start);

/* rate.retry-storm: a storm found, held back for one window so that a
 * resolver outage explaining it gives one network alert (bh_storm_add());
 * decided (bh_storm_decide()), or all decided now (bh_storms_flush()). */
void bh_storm_add(struct bh *b, struct engine *e, struct dctx *c, struct bdev *v,
		  const struct cent *ce, const struct ccold *cc, const struct dns_msg *msg,
		  const struct qry_key *qk, int flat, uint64_t now);
void bh_storm_decide(struct bh *b, struct engine *e, struct storm *s);
void bh_storms_flush(struct bh *b, struct engine *e);

/* network.resolver-outage: the outage o is over at `now`. */
void bh_outage_end(struct bh *b, struct outage *o, uint64_t now);

/* --- behaviour.c ----------------------------------------------------------- */

/* A counter crossed a threshold: judge the device now (posture alerts)
 * and mark it for a device event when a verdict changed. */
void bh_judge_now(struct bh *b, struct engine *e, struct dctx *c);

#endif
