/* behaviour.c — caching, TTLs, query rates and failure behaviour (module).
 *
 * RFC 1035 §3.2.1 and RFC 2181 §8 (TTLs), RFC 2308 §5 (negative caching),
 * RFC 8767 §4 (stale data only while resolution fails), RFC 9520 (caching
 * resolution failures), RFC 1536 and RFC 1123 §6.1.3 (query rates). See
 * behaviour.h for the state it keeps and DETECTIONS.md for the rules.
 *
 * What counts as what:
 *   - a *repeat query* is a new query (not a retransmission, engine's
 *     is_new) for a (name, type) whose previous query was answered and
 *     which has no query outstanding and no failure episode open; it is
 *     *early* when it comes before alpha x TTL (TTL >= min_ttl_s). A retry
 *     of an unanswered or failed query is never a repeat query, and a
 *     pre-fetch after alpha x TTL is not early;
 *   - a *failure* of a (name, type) is a query still unanswered after
 *     timeout_s, a SERVFAIL, REFUSED, FORMERR or NOTIMP, an empty answer
 *     (NOERROR, no answer RR, no SOA) or an unexpected one (NOERROR with
 *     answer RRs, none of them of the asked type, no SOA). From the first failure until a good answer (or
 *     EPISODE_IDLE without queries) the name is in a *failure episode*;
 *   - a *storm* is an episode in which the per-name rate stays at or above
 *     per_name_qps for min_duration_s, or in which FLAT_MIN consecutive
 *     retry intervals shorter than FLAT_MAX_US did not grow (a growth is
 *     an interval at least GROWTH x the one before; queries closer than
 *     ROUND_US are one round, with no interval between them);
 *   - *stale use* is a new connection (a TCP SYN, or the first UDP packet
 *     of a flow; either one not seen for CONN_IDLE_US, so that SYN
 *     retransmissions are one attempt) to an address whose latest answer
 *     expired more than grace_s ago, when the name was not asked again.
 */
#include "detect/behaviour.h"

#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/mem.h"
#include "detect/engine_int.h"
#include "output/jw.h"

#define MS 1000ull

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

static const struct det_rule *rule(const struct engine *e, enum det_id id)
{
	return rules_det(e->rules, id);
}

static uint32_t clamp_cap(uint32_t per, uint32_t devs, uint32_t max)
{
	uint64_t c = (uint64_t)per * devs;
	return c > max ? max : c < 1024 ? 1024 : (uint32_t)c;
}

/* --- the answer cache -------------------------------------------------------- */

_Static_assert(CACHE_MAX <= 65536, "ring positions are 16 bits");

static int cache_init(struct cache *k, uint32_t cap, const uint8_t sipkey[16])
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

static void cache_free(struct cache *k)
{
	sw_big_free(&k->ent_map);
	free(k->cold);
	free(k->ring);
}

/* Keys go by value: 12 bytes, two registers, and no address of a local
 * that would give the lookup functions a stack canary. */
static int ckey_eq(struct ckey a, struct ckey b)
{
	return a.dev_id == b.dev_id && a.qname_hash == b.qname_hash && a.qtype == b.qtype;
}

static int cent_is(const struct cent *ce, struct ckey key)
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
static struct cbk cache_prefetch(const struct cache *k, struct ckey key)
{
	struct cbk c = cache_buckets(k, key);
	__builtin_prefetch(&k->ent[2 * c.b1]);
	__builtin_prefetch(&k->ent[2 * c.b1 + 1]);
	__builtin_prefetch(&k->ent[2 * c.b2]);
	__builtin_prefetch(&k->ent[2 * c.b2 + 1]);
	return c;
}

static struct ccold *cache_cold(const struct cache *k, uint32_t place)
{
	return &k->cold[k->ent[place].ri];
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
static uint32_t cache_insert(struct cache *k, struct ckey key, struct cbk c, const char *name)
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

/* The place of key, created when new. */
static uint32_t cache_get(struct cache *k, struct ckey key, struct cbk c, const char *name)
{
	uint32_t r = cache_find(k, key, c);
	return r ? r - 1 : cache_insert(k, key, c, name);
}

/* The place + 1 that ref (a place + 1 kept earlier; 0: none) names when it
 * still holds key, or 0: the entry may have moved or gone since. */
static inline uint32_t cache_ref(const struct cache *k, uint32_t ref, struct ckey key)
{
	return ref != 0 && ref <= 2 * k->nb && cent_is(&k->ent[ref - 1], key) ? ref : 0;
}

static void bh_destroy(void *m)
{
	struct bh *b = m;
	if (b == NULL)
		return;
	cache_free(&b->cache);
	tbl_free(b->conns);
	sw_big_free(&b->dev_map);
	free(b);
}

static void *bh_create(struct engine *e, char *err, size_t errlen)
{
	struct bh *b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto fail;
	uint32_t n = e->cfg->devices_max;
	b->ndev = n;
	b->dev = sw_big_alloc(&b->dev_map, n, sizeof(*b->dev));
	int crc = cache_init(&b->cache, clamp_cap(CACHE_PER_DEV, n, CACHE_MAX), e->sipkey);
	b->conns = tbl_new("connections_seen", clamp_cap(CONN_PER_DEV, n, CONN_MAX),
			    sizeof(struct fkey), sizeof(struct fent), e->sipkey);
	if (b->dev == NULL || crc != 0 || b->conns == NULL)
		goto fail;
	return b;
fail:
	bh_destroy(b);
	snprintf(err, errlen, "behaviour: cannot allocate the answer cache (devices.max=%u): "
		 "out of memory", e->cfg->devices_max);
	return NULL;
}

static void bh_device_reset(void *m, struct engine *e, uint32_t slot)
{
	struct bh *b = m;
	if (slot >= b->ndev)
		return;
	memset(&b->dev[slot], 0, sizeof(b->dev[slot]));
	struct device *d = tbl_at(e->devices, slot);
	if (d != NULL)
		b->dev[slot].dev_id = d->id;
}

/* The device's slot. The engine resets a slot whenever it takes a new
 * device (bh_device_reset), so the slot is that device's. */
static struct bdev *bdev_of(struct bh *b, const struct dctx *c)
{
	return c->slot < b->ndev ? &b->dev[c->slot] : NULL;
}

/* --- verdicts ---------------------------------------------------------------- */

static int v_requery(const struct engine *e, const struct bdev *v)
{
	const struct det_rule *r = rule(e, DET_CACHE_REQUERY_WITHIN_TTL);
	if (v->repeat < (uint32_t)r->p[DP_MIN_SAMPLES] || v->repeat == 0)
		return VERDICT_UNKNOWN;
	return (double)v->early / v->repeat > r->p[DP_SHARE] ? VERDICT_FAIL : VERDICT_PASS;
}

static int v_stale(const struct engine *e, const struct bdev *v)
{
	uint32_t min = (uint32_t)rule(e, DET_CACHE_STALE_USE)->p[DP_MIN_OCCURRENCES];
	if (v->stale >= min)
		return VERDICT_FAIL;
	return v->checked >= min ? VERDICT_PASS : VERDICT_UNKNOWN;
}

static int v_negative(const struct engine *e, const struct bdev *v)
{
	uint32_t min = (uint32_t)rule(e, DET_CACHE_NEGATIVE_IGNORED)->p[DP_MIN_REPEATS];
	if (v->neg_early >= min)
		return VERDICT_FAIL;
	return v->neg_samples >= min ? VERDICT_PASS : VERDICT_UNKNOWN;
}

static int v_backoff(const struct bdev *v)
{
	if (v->storms)
		return VERDICT_FAIL;
	return v->backoff_episodes ? VERDICT_PASS : VERDICT_UNKNOWN;
}

/* --- posture alerts ------------------------------------------------------------ */

static void ts_member(struct jw *w, const char *key, uint64_t us)
{
	char ts[FMT_TIME_LEN];
	fmt_time(ts, us);
	jw_str(w, key, ts);
}

/* A kept name that fills its buffer may have been cut short (text_copy()):
 * alerts give it as evidence, flagged, and never as dns.question.name,
 * on which an analyst's filter would then find nothing. */
static int name_cut(const char *name, size_t size)
{
	return strnlen(name, size) + 1 >= size;
}

static const char *whole_name(const char *name, size_t size)
{
	return name[0] != '\0' && !name_cut(name, size) ? name : NULL;
}

static void name_member(struct jw *w, const char *name, size_t size)
{
	jw_str(w, "name", name);
	if (name_cut(name, size))
		jw_bool(w, "name_truncated", 1);
}

static void alert_posture(struct engine *e, struct dctx *c, const struct bdev *v,
			  enum det_id id)
{
	const struct det_rule *rl = rule(e, id);
	uint64_t stale_expiry = v->stale_answered + (uint64_t)v->stale_ttl * SEC;
	char msg[320], ip[FMT_IP_LEN];
	struct alert_ctx a;
	post_alert_ctx(e, c, &a);
	struct jw w;
	switch (id) {
	case DET_CACHE_REQUERY_WITHIN_TTL:
		snprintf(msg, sizeof(msg), "Device asked again for names whose answers were still "
			 "valid in %u of its %u repeat queries (%.0f%%), ignoring their TTLs.",
			 v->early, v->repeat, 100.0 * v->early / (v->repeat ? v->repeat : 1));
		a.qname = whole_name(v->early_name, sizeof(v->early_name));
		a.qtype = v->early_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "repeat_queries", v->repeat);
		jw_uint(&w, "early_requeries", v->early);
		jw_real4(&w, "early_share", v->repeat ? (double)v->early / v->repeat : 0);
		jw_obj(&w, "last_early");
		name_member(&w, v->early_name, sizeof(v->early_name));
		ts_member(&w, "answered_at", v->early_answered);
		ts_member(&w, "asked_again_at", v->early_at);
		jw_uint(&w, "ttl_s", v->early_ttl);
		jw_real4(&w, "elapsed_s", (double)(v->early_at - v->early_answered) / SEC);
		jw_end(&w);
		jw_real4(&w, "alpha", rl->p[DP_ALPHA]);
		jw_uint(&w, "min_ttl_s", (uint64_t)rl->p[DP_MIN_TTL_S]);
		jw_real4(&w, "share", rl->p[DP_SHARE]);
		break;
	case DET_CACHE_STALE_USE:
		fmt_ip(ip, v->stale_ip);
		snprintf(msg, sizeof(msg), "Device opened %u new connections to addresses whose DNS "
			 "answers had expired without asking again (last: %s for %s, %.0f s after "
			 "expiry).", v->stale, ip, v->stale_name,
			 (double)(v->stale_at - stale_expiry) / SEC);
		a.dst_ip = v->stale_ip;
		a.dst_port = v->stale_port;
		a.qname = whole_name(v->stale_name, sizeof(v->stale_name));
		a.qtype = v->stale_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "stale_uses", v->stale);
		jw_uint(&w, "connections_checked", v->checked);
		jw_obj(&w, "last");
		jw_str(&w, "address", ip);
		jw_uint(&w, "port", v->stale_port);
		jw_str(&w, "transport", v->stale_tcp ? "tcp" : "udp");
		name_member(&w, v->stale_name, sizeof(v->stale_name));
		jw_uint(&w, "ttl_s", v->stale_ttl);
		ts_member(&w, "answered_at", v->stale_answered);
		ts_member(&w, "expired_at", stale_expiry);
		ts_member(&w, "connected_at", v->stale_at);
		jw_real4(&w, "seconds_past_expiry", (double)(v->stale_at - stale_expiry) / SEC);
		jw_end(&w);
		jw_uint(&w, "grace_s", (uint64_t)rl->p[DP_GRACE_S]);
		break;
	case DET_CACHE_NEGATIVE_IGNORED:
		snprintf(msg, sizeof(msg), "Device repeated %u queries answered NXDOMAIN/NODATA "
			 "before their negative TTL ran out (last: %s).", v->neg_early, v->neg_name);
		a.qname = whole_name(v->neg_name, sizeof(v->neg_name));
		a.qtype = v->neg_qtype;
		alert_begin(&w, rl, &a, msg);
		jw_uint(&w, "negative_repeats", v->neg_early);
		jw_uint(&w, "repeats_of_negative_answers", v->neg_samples);
		jw_obj(&w, "last");
		name_member(&w, v->neg_name, sizeof(v->neg_name));
		jw_uint(&w, "negative_ttl_s", v->neg_ttl);
		ts_member(&w, "answered_at", v->neg_answered);
		ts_member(&w, "asked_again_at", v->neg_at);
		jw_real4(&w, "elapsed_s", (double)(v->neg_at - v->neg_answered) / SEC);
		jw_end(&w);
		jw_uint(&w, "min_repeats", (uint64_t)rl->p[DP_MIN_REPEATS]);
		break;
	default:
		return;
	}
	alert_emit(e->out, &w, &a);
}

static void storms_flush(struct bh *b, struct engine *e);

static int bh_evaluate(void *m, struct engine *e, struct dctx *c)
{
	/* The capture ends: storms held back are decided before the last
	 * device events go out (the engine calls no tick after the last). */
	if (e->finishing)
		storms_flush(m, e);
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return 0;
	const struct {
		enum det_id id;
		int verdict;
	} map[] = {
		{ DET_CACHE_REQUERY_WITHIN_TTL, v_requery(e, v) },
		{ DET_CACHE_STALE_USE, v_stale(e, v) },
		{ DET_CACHE_NEGATIVE_IGNORED, v_negative(e, v) },
	};
	int changed = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int rc = alert_verdict(&c->dd->alerts, map[i].id, (enum alert_verdict)map[i].verdict,
				       e->now, rule(e, map[i].id));
		if (rc & ALERT_CHANGED)
			changed = changed < 1 ? 1 : changed;
		if ((rc & ALERT_CHANGED) && map[i].verdict == VERDICT_FAIL)
			changed = 2;
		if (rc & ALERT_FIRE)
			alert_posture(e, c, v, map[i].id);
	}
	return changed;
}

/* A counter crossed a threshold: judge now rather than at the next query
 * milestone, and have the device event show it. */
static void judge_now(struct bh *b, struct engine *e, struct dctx *c)
{
	if (bh_evaluate(b, e, c) >= 2)
		c->d->dirty = 1;
}

/* --- rates ----------------------------------------------------------------------- */

static void rate_add(struct bdev *v, uint64_t now)
{
	uint64_t bn = now / BUCKET_US;
	if (!v->rate_started) {
		v->rate_started = 1;
		v->bucket_n = bn;
		v->minute = now / (60 * SEC);
	}
	if (bn != v->bucket_n) {
		uint64_t gap = bn > v->bucket_n ? bn - v->bucket_n : 0;
		if (gap >= BUCKETS) {
			memset(v->bucket, 0, sizeof(v->bucket));
			v->q60 = 0;
		} else {
			for (uint64_t i = 1; i <= gap; i++) {
				uint16_t *s = &v->bucket[(v->bucket_n + i) % BUCKETS];
				v->q60 -= *s;
				*s = 0;
			}
		}
		v->bucket_n = bn;
	}
	uint16_t *s = &v->bucket[bn % BUCKETS];
	if (*s < UINT16_MAX) {
		(*s)++;
		v->q60++;
	}
	uint64_t mn = now / (60 * SEC);
	if (mn > v->minute) {
		/* The finished minute, then the silent ones, enter the EWMA. */
		v->baseline_qpm = v->minutes ? v->baseline_qpm * (1 - EWMA_W) + v->minute_count * EWMA_W
					     : v->minute_count;
		uint64_t silent = mn - v->minute - 1;
		v->baseline_qpm *= pow(1 - EWMA_W, (double)(silent < 1000 ? silent : 1000));
		uint64_t add = mn - v->minute;
		v->minutes = v->minutes + add > UINT32_MAX ? UINT32_MAX : v->minutes + (uint32_t)add;
		v->minute = mn;
		v->minute_count = 0;
	}
	v->minute_count++;
}

/* win_start: where the counted window begins, the name's own window or
 * the oldest of the device's rate buckets. */
static void alert_burst(struct engine *e, struct dctx *c, struct bdev *v, const struct pkt *p,
			const struct dns_msg *msg, int same_name, uint32_t name_count,
			uint64_t win_start)
{
	const struct det_rule *rl = rule(e, DET_RATE_BURST);
	if (!alert_should_fire(&c->dd->alerts, DET_RATE_BURST, p->ts_us, rl))
		return;
	uint32_t q60 = v->q60;
	char msgtext[320];
	double win = rl->p[DP_WINDOW_S] > 60 ? 60 : rl->p[DP_WINDOW_S];
	if (same_name)
		snprintf(msgtext, sizeof(msgtext), "Device asked for %.200s %u times within %.0f s.",
			 msg->qname, name_count, win);
	else
		snprintf(msgtext, sizeof(msgtext), "Device sent %u DNS queries in %.0f s, %.0f times "
			 "its usual rate of %.1f per minute.", q60, win,
			 v->baseline_qpm > 0 ? q60 * (60.0 / win) / v->baseline_qpm : 0,
			 v->baseline_qpm);
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	a.reason = same_name ? "same_name" : "rate";
	struct jw w;
	alert_begin(&w, rl, &a, msgtext);
	jw_uint(&w, "queries_in_window", q60);
	jw_real4(&w, "window_s", win);
	jw_real4(&w, "baseline_qpm", v->baseline_qpm);
	jw_uint(&w, "baseline_minutes", v->minutes);
	if (same_name) {
		jw_str(&w, "name", msg->qname);
		jw_uint(&w, "name_queries_in_window", name_count);
	}
	ts_member(&w, "window_start", win_start);
	ts_member(&w, "window_end", p->ts_us);
	jw_real4(&w, "k", rl->p[DP_K]);
	jw_real4(&w, "floor_qps", rl->p[DP_FLOOR_QPS]);
	jw_uint(&w, "same_name_max", (uint64_t)rl->p[DP_SAME_NAME_MAX]);
	alert_emit(e->out, &w, &a);
}

/* --- retry storms and resolver outages ----------------------------------------- */

static int designated(const struct dctx *c, const uint8_t ip[16])
{
	for (unsigned i = 0; i < c->d->nres; i++)
		if (memcmp(c->d->res[i].ip, ip, 16) == 0)
			return !c->d->res[i].off_set;
	return 0;
}

static void alert_storm(struct bh *b, struct engine *e, const struct storm *s)
{
	struct device *d = tbl_at(e->devices, s->slot);
	if (d == NULL || d->id != s->dev_id)
		return;
	struct dctx c;
	eng_dctx(e, d, &c);
	const struct det_rule *rl = rule(e, DET_RATE_RETRY_STORM);
	if (!alert_should_fire(&c.dd->alerts, DET_RATE_RETRY_STORM, e->now, rl))
		return;
	char msg[480], ip[FMT_IP_LEN];
	fmt_ip(ip, s->resolver);
	double dur = (double)(s->at_us - s->start_us) / SEC;
	if (s->flat_reason)
		snprintf(msg, sizeof(msg), "During a DNS failure (%s from %s) the device kept asking "
			 "for %.200s every %.1f-%.1f s without backing off (%u queries in %.0f s).",
			 fail_names[s->fail_kind], ip, s->name, s->min_iv_ms / 1000.0,
			 s->max_iv_ms / 1000.0, s->queries, dur);
	else
		snprintf(msg, sizeof(msg), "During a DNS failure (%s from %s) the device asked for %.200s "
			 "%u times in %.0f s (%.1f per second) without backing off.",
			 fail_names[s->fail_kind], ip, s->name, s->queries, dur, s->rate);
	struct alert_ctx a;
	post_alert_ctx(e, &c, &a);
	a.dst_ip = s->resolver;
	a.dst_port = s->resolver_port;
	a.qname = whole_name(s->name, sizeof(s->name));
	a.qtype = s->qtype;
	a.reason = s->flat_reason ? "intervals_flat" : "rate";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_str(&w, "failure", fail_names[s->fail_kind]);
	name_member(&w, s->name, sizeof(s->name));
	jw_ip_text(&w, "resolver", s->resolver);
	jw_bool(&w, "designated_resolver", s->designated);
	ts_member(&w, "episode_start", s->start_us);
	ts_member(&w, "storm_seen_at", s->at_us);
	jw_uint(&w, "queries", s->queries);
	jw_real4(&w, "duration_s", dur);
	jw_real4(&w, "rate_qps", s->rate);
	jw_real4(&w, "min_interval_s", s->min_iv_ms / 1000.0);
	jw_real4(&w, "max_interval_s", s->max_iv_ms / 1000.0);
	jw_uint(&w, "storms", b->dev[s->slot].storms);
	jw_real4(&w, "per_name_qps", rl->p[DP_PER_NAME_QPS]);
	jw_uint(&w, "min_duration_s", (uint64_t)rl->p[DP_MIN_DURATION_S]);
	alert_emit(e->out, &w, &a);
}

static struct outage *outage_for(struct bh *b, const uint8_t ip[16])
{
	for (int i = 0; i < OUTAGES; i++)
		if (b->outages[i].active && memcmp(b->outages[i].resolver, ip, 16) == 0)
			return &b->outages[i];
	return NULL;
}

static uint32_t active_devices(struct engine *e)
{
	uint32_t n = 0;
	for (struct device *d = tbl_next(e->devices, NULL); d != NULL; d = tbl_next(e->devices, d))
		if (d->c.queries && e->now - d->last_seen <= ACTIVE_US)
			n++;
	return n;
}

static void alert_outage(struct bh *b, struct engine *e, struct outage *o, uint32_t active)
{
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	b->c_outages++;
	if (!rl->enabled || (o->alerted_us && e->now - o->alerted_us < (uint64_t)rl->rate_limit_s * SEC))
		return;
	o->alerted_us = e->now;
	char msg[320], ip[FMT_IP_LEN];
	fmt_ip(ip, o->resolver);
	snprintf(msg, sizeof(msg), "Resolver %s stopped answering and %u devices started retry "
		 "storms against it at once.", ip, o->devices);
	struct alert_ctx a;
	post_alert_ctx(e, NULL, &a);
	a.dst_ip = o->resolver;
	a.dst_port = PORT_DNS;
	a.reason = "resolver_silent";
	struct jw w;
	alert_begin(&w, rl, &a, msg);
	jw_ip_text(&w, "resolver", o->resolver);
	ts_member(&w, "silent_since", o->start_us);
	jw_uint(&w, "storming_devices", o->devices);
	jw_uint(&w, "active_devices", active);
	jw_real4(&w, "share", active ? (double)o->devices / active : 0);
	jw_arr(&w, "devices");
	for (int i = 0; i < STORMS; i++) {
		const struct storm *s = &b->storms[i];
		if (!s->state || memcmp(s->resolver, o->resolver, 16) != 0)
			continue;
		struct device *d = tbl_at(e->devices, s->slot);
		if (d == NULL || d->id != s->dev_id)
			continue;
		const struct dev_key *k = tbl_key(e->devices, d);
		char mac[FMT_IP_LEN];
		jw_obj(&w, NULL);
		if (k->by_ip) {
			fmt_ip(mac, k->ip);
			jw_str(&w, "ip", mac);
		} else {
			fmt_mac(mac, k->mac);
			jw_str(&w, "mac", mac);
		}
		jw_uint(&w, "id", d->id);
		jw_str(&w, "name", s->name);
		jw_uint(&w, "queries", s->queries);
		jw_real4(&w, "rate_qps", s->rate);
		ts_member(&w, "storm_seen_at", s->at_us);
		jw_end(&w);
	}
	jw_end(&w);
	jw_uint(&w, "min_devices", (uint64_t)rl->p[DP_MIN_DEVICES]);
	jw_real4(&w, "min_share", rl->p[DP_MIN_SHARE]);
	jw_real4(&w, "window_s", rl->p[DP_WINDOW_S]);
	alert_emit(e->out, &w, &a);
}

/* Outage o is over at `now` (its resolver answered again, or the storms
 * stopped): kept, as ended, for the storms it still explains. */
static void outage_end(struct bh *b, struct outage *o, uint64_t now)
{
	o->active = 0;
	o->ended_us = now;
	b->nactive--;
}

/* The outage of s's resolver that s belongs to: one still active, or one
 * that ended (the resolver answered again) after s was seen. Storms are
 * held back for a window, and a resolver back within it still explains
 * them: the network-level alert stands in for all of them. */
static struct outage *outage_explaining(struct bh *b, const struct storm *s)
{
	for (int i = 0; i < OUTAGES; i++) {
		struct outage *o = &b->outages[i];
		int held = o->active || (o->ended_us && s->at_us >= o->start_us &&
					 s->at_us <= o->ended_us);
		if (held && memcmp(o->resolver, s->resolver, 16) == 0)
			return o;
	}
	return NULL;
}

/* A new storm against resolver r: do the storms held back against it make
 * an outage? Only storms of unanswered queries to a designated resolver
 * count (the resolver went silent; SERVFAIL is the resolver answering). */
static void outage_check(struct bh *b, struct engine *e, const struct storm *ns)
{
	if (ns->fail_kind != FK_TIMEOUT || !ns->designated)
		return;
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	uint64_t win = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	struct outage *o = outage_for(b, ns->resolver);
	if (o != NULL) {
		o->devices++;
		o->last_us = ns->at_us;
		return;
	}
	uint32_t n = 0;
	uint64_t start = ns->start_us;
	for (int i = 0; i < STORMS; i++) {
		const struct storm *s = &b->storms[i];
		/* Storms an outage already ended has explained are not a new one. */
		if (s->state && s->fail_kind == FK_TIMEOUT && s->designated &&
		    memcmp(s->resolver, ns->resolver, 16) == 0 && ns->at_us - s->at_us <= win &&
		    (s == ns || outage_explaining(b, s) == NULL)) {
			n++;
			if (s->start_us < start)
				start = s->start_us;
		}
	}
	if (n < 2)
		return;
	uint32_t active = 0;
	if (n < (uint32_t)rl->p[DP_MIN_DEVICES]) {
		active = active_devices(e);
		if (active == 0 || (double)n / active < rl->p[DP_MIN_SHARE])
			return;
	}
	o = NULL;
	for (int i = 0; i < OUTAGES && o == NULL; i++)
		if (!b->outages[i].active)
			o = &b->outages[i];
	if (o == NULL)
		o = &b->outages[0];
	uint64_t alerted = memcmp(o->resolver, ns->resolver, 16) == 0 ? o->alerted_us : 0;
	if (!o->active)
		b->nactive++;
	memset(o, 0, sizeof(*o));
	o->active = 1;
	memcpy(o->resolver, ns->resolver, 16);
	o->start_us = start;
	o->last_us = ns->at_us;
	o->devices = n;
	o->alerted_us = alerted;
	if (active == 0)
		active = active_devices(e);
	alert_outage(b, e, o, active);
}

/* Decides a held-back storm: explained by an outage (suppressed) or a
 * device alert. */
static void storm_decide(struct bh *b, struct engine *e, struct storm *s)
{
	struct outage *o = outage_explaining(b, s);
	if (o != NULL && s->fail_kind == FK_TIMEOUT) {
		o->suppressed++;
		b->c_suppressed++;
	} else {
		alert_storm(b, e, s);
	}
	if (s->slot < b->ndev && b->dev[s->slot].dev_id == s->dev_id)
		b->dev[s->slot].storm_pending = 0;
	s->state = 0;
	b->nstorms--;
}

static void storm_add(struct bh *b, struct engine *e, struct dctx *c, struct bdev *v,
		      const struct cent *ce, const struct ccold *cc, const struct dns_msg *msg,
		      const struct qry_key *qk, int flat, uint64_t now)
{
	v->storms++;
	b->c_storms++;
	double dur = (double)(now - ce->fail_start_us) / SEC;
	double rate = dur > 0 ? cc->fail_queries / dur : 0;
	if (rate > v->max_rate)
		v->max_rate = rate;
	c->d->dirty = 1;
	if (v->storm_pending)
		return;  /* one held back per device is enough: alerts are per device */
	struct storm *s = NULL, *oldest = NULL;
	for (int i = 0; i < STORMS && s == NULL; i++) {
		if (!b->storms[i].state)
			s = &b->storms[i];
		else if (oldest == NULL || b->storms[i].at_us < oldest->at_us)
			oldest = &b->storms[i];
	}
	if (s == NULL) {
		b->c_storm_ring_full++;
		storm_decide(b, e, oldest);
		s = oldest;
	}
	memset(s, 0, sizeof(*s));
	s->state = 1;
	b->nstorms++;
	s->fail_kind = cc->fail_kind;
	s->flat_reason = (uint8_t)flat;
	s->qtype = ce->qtype;
	s->dev_id = c->d->id;
	s->slot = c->slot;
	s->at_us = now;
	s->start_us = ce->fail_start_us;
	s->queries = cc->fail_queries;
	s->min_iv_ms = cc->min_iv_ms;
	s->max_iv_ms = cc->max_iv_ms;
	s->rate = rate;
	memcpy(s->resolver, qk->server, 16);
	s->resolver_port = qk->server_port;
	s->designated = (uint8_t)designated(c, qk->server);
	text_copy(s->name, sizeof(s->name), msg->qname, msg->qname_len);
	v->storm_pending = 1;
	outage_check(b, e, s);
}

/* The episode of ce ends (a good answer, or silence). */
static void episode_end(struct bdev *v, const struct cache *k, struct cent *ce)
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

static void episode_start(struct bdev *v, const struct cache *k, struct cent *ce, int kind,
			  uint64_t start, uint64_t now)
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

/* --- hooks ------------------------------------------------------------------------ */

/* A query from a public IPv4 address crossed the router (its MAC is the
 * router's): clients on the Internet asking a device here, not the stub
 * of the MAC it came from, so its caching is not that MAC's. */
static int outside_v4(const uint8_t ip[16])
{
	if (!ip_is_v4(ip))
		return 0;
	/* 0.0.0.0/8 too: "this network" (RFC 1122), a host before DHCP. */
	return !(ip_v4_site_local(ip + 12) || ip[12] == 0);
}

/* The query's device is known: hash its (name, type) key and request the
 * entry's line, which the query hook needs after the engine's own lookup
 * of the outstanding query. */
static void bh_prefetch(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk)
{
	struct bh *b = m;
	if (!msg->has_q || c->slot >= b->ndev)
		return;
	__builtin_prefetch(&b->dev[c->slot]);
	struct ckey key = { c->d->id, qk->qname_hash, msg->qtype, 0 };
	b->pf_key = key;
	b->pf_bk = cache_prefetch(&b->cache, key);
}

static void bh_prefetch_response(void *m, struct engine *e, const struct pkt *p,
				 struct dctx *c, const struct qry *q)
{
	struct bh *b = m;
	(void)e;
	(void)p;
	uint32_t ref = q->mod_ref[MREF_BEHAVIOUR];
	if (c->slot >= b->ndev)
		return;
	/* A positive answer's addresses go to the ring: its tag line. */
	__builtin_prefetch(b->dev[c->slot].addr_tag);
	if (ref != 0 && ref <= 2 * b->cache.nb)
		__builtin_prefetch(&b->cache.ent[ref - 1], 1);
}

/* entry_for() by the key's hash: the buckets the prefetch hook computed
 * for it, or computed now. */
__attribute__((noinline))
static uint32_t entry_by_hash(struct bh *b, struct ckey key, const char *name)
{
	struct cbk c = ckey_eq(key, b->pf_key) ? b->pf_bk : cache_buckets(&b->cache, key);
	return cache_get(&b->cache, key, c, name);
}

/* The slot of the (name, type) entry of a query or response, created when
 * new: through ref (the outstanding query's mod_ref) when it still holds
 * the key, as it does for most responses, inline; else by the key's hash,
 * out of line. */
static inline uint32_t entry_for(struct bh *b, uint32_t ref, uint32_t dev_id,
				 const struct qry_key *qk, uint16_t qtype, const char *name)
{
	struct ckey key = { dev_id, qk->qname_hash, qtype, 0 };
	if (cache_ref(&b->cache, ref, key))
		return ref - 1;
	return entry_by_hash(b, key, name);
}

/* A failure signal of the device within the last `win`: its retries are
 * not a burst. */
static int failing(const struct bdev *v, uint64_t now, uint64_t win)
{
	return v->fail_last_us && now - v->fail_last_us < win;
}

static void bh_query(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
		     const struct dns_msg *msg, const struct qry_key *qk, struct qry *q,
		     int is_new)
{
	struct bh *b = m;
	struct bdev *v = bdev_of(b, c);
	if (v == NULL || !msg->has_q || outside_v4(p->src_ip))
		return;
	uint64_t now = p->ts_us;
	rate_add(v, now);
	uint32_t slot = entry_for(b, q->mod_ref[MREF_BEHAVIOUR], c->d->id, qk, msg->qtype,
				  msg->qname);
	q->mod_ref[MREF_BEHAVIOUR] = slot + 1;
	struct cent *ce = &b->cache.ent[slot];
	/* Packet time can step back (captures merged from several taps); an
	 * entry's clock does not, or the intervals below would wrap. */
	if (now < ce->last_q_us)
		now = ce->last_q_us;
	if (ce->aslot) {
		/* The answer will most likely give the address the last one
		 * gave: request its ring slot and the tag line now, a round
		 * trip before the response. */
		__builtin_prefetch(v->addr_tag);
		__builtin_prefetch(&v->addr[ce->aslot - 1]);
	}
	const struct bh_params *pr = &b->pr;

	/* A long silence closes what was open. */
	if (ce->last_q_us && now - ce->last_q_us > EPISODE_IDLE_US) {
		episode_end(v, &b->cache, ce);
		ce->pending_us = 0;
		ce->retries = 0;
	}
	/* Still unanswered after timeout_s: the resolver failed it. */
	if (ce->pending_us && now - ce->pending_us >= pr->timeout_us)
		episode_start(v, &b->cache, ce, FK_TIMEOUT, ce->pending_us, now);

	if (is_new && !ce->pending_us && !ce->fail_start_us && ce->answered_us &&
	    now >= ce->answered_us) {
		uint64_t el = now - ce->answered_us;
		if (ce->neg == 1) {
			v->neg_samples++;
			if (el < (uint64_t)ce->ttl_s * SEC) {
				v->neg_early++;
				b->c_neg++;
				text_copy(v->neg_name, sizeof(v->neg_name), msg->qname, msg->qname_len);
				v->neg_at = now;
				v->neg_answered = ce->answered_us;
				v->neg_ttl = ce->ttl_s;
				v->neg_qtype = msg->qtype;
				if (v->neg_early == pr->neg_min_repeats)
					judge_now(b, e, c);
			}
		} else if (ce->neg == 0) {
			if (ce->ttl_s >= pr->min_ttl_s) {
				v->repeat++;
				if ((double)el < pr->alpha * ce->ttl_s * SEC) {
					v->early++;
					b->c_early++;
					text_copy(v->early_name, sizeof(v->early_name), msg->qname,
						  msg->qname_len);
					v->early_at = now;
					v->early_answered = ce->answered_us;
					v->early_ttl = ce->ttl_s;
					v->early_qtype = msg->qtype;
				}
				if (v->repeat == pr->min_samples)
					judge_now(b, e, c);
			}
		}
	}

	/* Failure episode: count, time the intervals, look for a storm. */
	if (ce->fail_start_us) {
		struct ccold *cc = cache_cold(&b->cache, slot);
		cc->fail_queries++;
		if (ce->last_q_us && now >= ce->last_q_us + ROUND_US) {
			uint64_t iv = now - ce->last_q_us;
			uint32_t ivms = (uint32_t)(iv / MS > UINT32_MAX ? UINT32_MAX : iv / MS);
			if (cc->last_iv_ms && ivms >= GROWTH * cc->last_iv_ms) {
				cc->grew = 1;
				cc->flat = 0;
			} else if (iv < FLAT_MAX_US) {
				if (cc->flat < 255)
					cc->flat++;
			} else {
				cc->flat = 0;
			}
			cc->last_iv_ms = ivms;
			if (cc->min_iv_ms == 0 || ivms < cc->min_iv_ms)
				cc->min_iv_ms = ivms;
			if (ivms > cc->max_iv_ms)
				cc->max_iv_ms = ivms;
		}
		uint64_t dur = now - ce->fail_start_us;
		if (!cc->stormed && dur >= pr->min_duration_us) {
			int by_rate = cc->fail_queries >= pr->per_name_qps * ((double)dur / SEC);
			int by_flat = cc->flat >= FLAT_MIN;
			if (by_rate || by_flat) {
				cc->stormed = 1;
				/* The storm is against the resolver this query went to. */
				storm_add(b, e, c, v, ce, cc, msg, qk, !by_rate, now);
			}
		}
	}

	/* Same name asked over and over outside failures. */
	double win_s = pr->win_s;
	uint64_t win = pr->win_us;
	if (now - ce->win_start_us > win) {
		ce->win_start_us = now;
		ce->win_count = 0;
	}
	if (ce->win_count < UINT16_MAX)
		ce->win_count++;
	/* Retries of this name while it fails are the storm detection's
	 * business, not a burst; only its own failure explains them (a
	 * failure of another name does not), and episode_end() leaves them
	 * out of the window. */
	if (ce->win_count > pr->same_name_max && !ce->fail_start_us) {
		if (!v->in_burst) {
			v->in_burst = 1;
			v->bursts++;
			b->c_bursts++;
			c->d->dirty = 1;
		}
		alert_burst(e, c, v, p, msg, 1, ce->win_count, ce->win_start_us);
	}
	uint32_t q60 = v->q60;
	double qpm = q60 * (60.0 / win_s);
	if (qpm > v->peak_qpm)
		v->peak_qpm = qpm;
	int over = q60 > pr->floor_in_win && v->minutes >= BASELINE_MIN_MINUTES &&
		   qpm > pr->k * v->baseline_qpm;
	if (over && !failing(v, now, win)) {
		if (!v->in_burst) {
			v->in_burst = 1;
			v->bursts++;
			b->c_bursts++;
			c->d->dirty = 1;
		}
		uint64_t first = v->bucket_n >= BUCKETS - 1 ? v->bucket_n - (BUCKETS - 1) : 0;
		alert_burst(e, c, v, p, msg, 0, 0, first * BUCKET_US);
	} else if (v->in_burst && !over && ce->win_count <= pr->same_name_max &&
		   q60 <= pr->floor_in_win) {
		v->in_burst = 0;
	}

	ce->last_q_us = now;
	if (!ce->pending_us)
		ce->pending_us = now;
	else if (!ce->fail_start_us && ce->retries < UINT8_MAX)
		ce->retries++;
}

/* An address folded to 8 bits, to find it in a device's ring. */
static uint8_t atag(const uint8_t ip[16])
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

static void index_addresses(struct bdev *v, const struct dctx *c, const struct dns_msg *msg,
			    struct cent *ce, const struct qry_key *qk, uint16_t qtype,
			    uint64_t now)
{
	if (c->k->by_ip)
		return;
	for (unsigned i = 0; i < msg->nrr; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->section != DNS_SEC_AN ||
		    !((rr->type == 1 && rr->rdlen == 4) || (rr->type == 28 && rr->rdlen == 16)) ||
		    (size_t)rr->rdata_off + rr->rdlen > msg->len)
			continue;
		uint8_t ip[16];
		if (rr->type == 1)
			ip_from_v4(ip, msg->buf + rr->rdata_off);
		else
			memcpy(ip, msg->buf + rr->rdata_off, 16);
		uint8_t tag = atag(ip);
		int j = addr_find(v, ip, tag);
		struct aent *a;
		if (j < 0) {
			j = v->addr_next;
			v->addr_next = (uint8_t)((j + 1) % ADDR_RING);
			v->addr_tag[j] = tag;
			v->addr_used |= (uint16_t)(1u << j);
			a = &v->addr[j];
			memcpy(a->ip, ip, 16);
		} else {
			a = &v->addr[j];
			/* The expiry only moves forward. */
			if (now + (uint64_t)ce->ttl_s * SEC < a->answered_us + (uint64_t)a->ttl_s * SEC) {
				ce->aslot = (uint8_t)(j + 1);
				continue;
			}
		}
		ce->aslot = (uint8_t)(j + 1);
		a->answered_us = now;
		a->ttl_s = ce->ttl_s;
		a->qname_hash = qk->qname_hash;
		v->addr_qtype[j] = qtype;
	}
}

/* A NOERROR response with an answer of the asked type (or to ANY) is
 * positive: dns_negative_ttl() is -1 for it, and the common case need not
 * call it to learn so. msg->has_q holds. */
static int answers_question(const struct dns_msg *msg)
{
	for (unsigned i = 0; i < msg->nrr; i++)
		if (msg->rr[i].section == DNS_SEC_AN &&
		    (msg->rr[i].type == msg->qtype || msg->qtype == 255 /* ANY */))
			return 1;
	return 0;
}

static void bh_response(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk, struct qry *q)
{
	struct bh *b = m;
	(void)e;
	if (q == NULL || !msg->has_q)
		return;  /* unmatched: late, duplicate or forged; mod_integrity's business */
	struct bdev *v = bdev_of(b, c);
	if (v == NULL)
		return;
	uint64_t now = p->ts_us;
	uint32_t slot = entry_for(b, q->mod_ref[MREF_BEHAVIOUR], c->d->id, qk, q->qtype,
				  msg->qname);
	struct cent *ce = &b->cache.ent[slot];
	/* A failure runs from the name's first unanswered query, which may be
	 * older than the one this answers (a retry with another ID), and
	 * counts the retries since (episode_start()). */
	uint64_t first = ce->pending_us && ce->pending_us < q->first_ts ? ce->pending_us
									 : q->first_ts;
	ce->pending_us = 0;
	int rc = msg->rcode;
	if (rc == 1 || rc == 2 || rc == 4 || rc == 5) {
		static const uint8_t kind[] = { 0, FK_FORMERR, FK_SERVFAIL, 0, FK_NOTIMP, FK_REFUSED };
		episode_start(v, &b->cache, ce, kind[rc], first, now);
		return;
	}
	if (rc != 0 && rc != 3)
		return;
	int answered = rc == 0 && answers_question(msg);
	int64_t neg = answered ? -1 : dns_negative_ttl(msg);
	uint32_t minttl = dns_answer_min_ttl(msg);
	if (rc == 0 && neg < 0 && !answered) {
		/* Nothing a stub can cache: no records, or records of another
		 * type (a TXT to an A query, a chain that ends nowhere). */
		episode_start(v, &b->cache, ce, minttl == UINT32_MAX ? FK_EMPTY : FK_UNEXPECTED,
			      first, now);
		return;
	}
	episode_end(v, &b->cache, ce);
	ce->retries = 0;
	ce->answered_us = now;
	if (neg >= 0) {
		/* A CNAME chain before the NODATA/NXDOMAIN expires with its
		 * links: the smallest TTL of the whole answer holds. */
		ce->neg = 1;
		ce->ttl_s = minttl < (uint64_t)neg ? minttl : (uint32_t)neg;
	} else if (rc == 3) {
		ce->neg = 2;  /* NXDOMAIN without SOA: no negative TTL to hold it to */
		ce->ttl_s = 0;
	} else {
		ce->neg = 0;
		ce->ttl_s = minttl;
		index_addresses(v, c, msg, ce, qk, q->qtype, now);
	}
	/* The resolver answers again: an outage against it is over. */
	for (int i = 0; i < OUTAGES && b->nactive != 0; i++)
		if (b->outages[i].active && memcmp(b->outages[i].resolver, p->src_ip, 16) == 0)
			outage_end(b, &b->outages[i], now);
}

static void bh_unanswered(void *m, struct engine *e, struct dctx *c, const struct qry_key *qk,
			  const struct qry *q)
{
	struct bh *b = m;
	struct bdev *v = bdev_of(b, c);
	if (v == NULL)
		return;
	struct ckey key = { c->d->id, qk->qname_hash, q->qtype, 0 };
	uint32_t r = cache_ref(&b->cache, q->mod_ref[MREF_BEHAVIOUR], key);
	if (r == 0)
		r = cache_find(&b->cache, key, cache_buckets(&b->cache, key));
	if (r == 0)
		return;
	struct cent *ce = &b->cache.ent[r - 1];
	if (ce->pending_us)
		episode_start(v, &b->cache, ce, FK_TIMEOUT, ce->pending_us,
			      q->last_ts + e->cfg->queries_timeout_us);
}

/* A TCP SYN or UDP packet not of DNS or DHCP from a device: is it a new
 * connection to an address its answers gave, and that answer expired? The
 * rest of the packet hook, out of line so that the packets the hook lets
 * pass at once (DNS, most of all) do not pay for this one's stack frame. */
__attribute__((noinline))
static void bh_connection(struct bh *b, struct engine *e, const struct pkt *p)
{
	if (mac_is_group(p->src_mac))
		return;
	struct dev_key dk;
	memset(&dk, 0, sizeof(dk));
	memcpy(dk.mac, p->src_mac, 6);
	dk.vlan = p->vlan;
	struct device *d = tbl_lookup(e->devices, &dk);
	if (d == NULL)
		return;
	struct dctx c;
	eng_dctx(e, d, &c);
	struct bdev *v = bdev_of(b, &c);
	if (v == NULL)
		return;
	int j = addr_find(v, p->dst_ip, atag(p->dst_ip));
	if (j < 0)
		return;
	const struct aent *a = &v->addr[j];
	uint64_t expiry = a->answered_us + (uint64_t)a->ttl_s * SEC;
	uint64_t now = p->ts_us;
	struct fkey fk;
	memset(&fk, 0, sizeof(fk));
	memcpy(fk.mac, p->src_mac, 6);
	fk.vlan = p->vlan;
	memcpy(fk.ip, p->dst_ip, 16);
	fk.sport = p->sport;
	fk.dport = p->dport;
	fk.proto = p->l4;
	int created;
	struct fent *f = tbl_get(b->conns, &fk, &created);
	uint64_t last = f->last_us;
	f->last_us = now;
	if (!created && now >= last && now - last < CONN_IDLE_US)
		return;
	v->checked++;
	const struct det_rule *rl = rule(e, DET_CACHE_STALE_USE);
	if (now <= expiry + (uint64_t)(rl->p[DP_GRACE_S] * SEC))
		return;
	/* Asked again since (a CDN may have moved it elsewhere): not stale. */
	struct ckey ck = { d->id, a->qname_hash, v->addr_qtype[j], 0 };
	uint32_t r = cache_find(&b->cache, ck, cache_buckets(&b->cache, ck));
	if (r != 0 && b->cache.ent[r - 1].last_q_us > a->answered_us)
		return;
	v->stale++;
	b->c_stale++;
	const char *sn = r != 0 ? cache_cold(&b->cache, r - 1)->name : "";
	text_copy(v->stale_name, sizeof(v->stale_name), sn, strlen(sn));
	memcpy(v->stale_ip, p->dst_ip, 16);
	v->stale_at = now;
	v->stale_answered = a->answered_us;
	v->stale_ttl = a->ttl_s;
	v->stale_port = p->dport;
	v->stale_qtype = v->addr_qtype[j];
	v->stale_tcp = p->l4 == IPPROTO_TCP;
	if (v->stale >= (uint32_t)rl->p[DP_MIN_OCCURRENCES])
		judge_now(b, e, &c);
}

/* The packet hook: everything but TCP SYNs and UDP to non-DNS ports leaves
 * at the first tests; the rest costs one lookup in the device's address
 * ring. */
static void bh_packet(void *m, struct engine *e, const struct pkt *p)
{
	if (!p->has_mac)
		return;
	if (p->l4 == IPPROTO_TCP) {
		if ((p->tcp_flags & 0x12) != 0x02)
			return;
	} else if (p->l4 == IPPROTO_UDP) {
		uint16_t dp = p->dport, sp = p->sport;
		if (dp == PORT_DNS || sp == PORT_DNS || dp == PORT_MDNS || dp == PORT_LLMNR ||
		    dp == 67 || dp == 68 || dp == 546 || dp == 547)
			return;
	} else {
		return;
	}
	bh_connection(m, e, p);
}

static void bh_rules_changed(void *m, struct engine *e)
{
	struct bh *b = m;
	if (e->rules == NULL)
		return;
	const struct det_rule *rs = rule(e, DET_RATE_RETRY_STORM);
	const struct det_rule *rq = rule(e, DET_CACHE_REQUERY_WITHIN_TTL);
	const struct det_rule *rb = rule(e, DET_RATE_BURST);
	struct bh_params *pr = &b->pr;
	pr->timeout_us = (uint64_t)(rs->p[DP_TIMEOUT_S] * SEC);
	pr->min_duration_us = (uint64_t)(rs->p[DP_MIN_DURATION_S] * SEC);
	pr->per_name_qps = rs->p[DP_PER_NAME_QPS];
	pr->min_ttl_s = rq->p[DP_MIN_TTL_S];
	pr->alpha = rq->p[DP_ALPHA];
	pr->min_samples = (uint32_t)rq->p[DP_MIN_SAMPLES];
	pr->neg_min_repeats = (uint32_t)rule(e, DET_CACHE_NEGATIVE_IGNORED)->p[DP_MIN_REPEATS];
	pr->win_s = rb->p[DP_WINDOW_S] > 60 ? 60 : rb->p[DP_WINDOW_S];
	pr->win_us = (uint64_t)(pr->win_s * SEC);
	pr->same_name_max = rb->p[DP_SAME_NAME_MAX];
	pr->floor_in_win = rb->p[DP_FLOOR_QPS] * pr->win_s;
	pr->k = rb->p[DP_K];
}

static void storms_flush(struct bh *b, struct engine *e)
{
	for (int i = 0; i < STORMS && b->nstorms != 0; i++)
		if (b->storms[i].state)
			storm_decide(b, e, &b->storms[i]);
}

static void bh_tick(void *m, struct engine *e, uint64_t now)
{
	struct bh *b = m;
	const struct det_rule *rl = rule(e, DET_NETWORK_RESOLVER_OUTAGE);
	uint64_t win = (uint64_t)(rl->p[DP_WINDOW_S] * SEC);
	for (int i = 0; i < STORMS && b->nstorms != 0; i++) {
		struct storm *s = &b->storms[i];
		if (s->state && now - s->at_us >= win)
			storm_decide(b, e, s);
	}
	/* An outage with no new storm for five windows is over. */
	for (int i = 0; i < OUTAGES; i++)
		if (b->outages[i].active && now - b->outages[i].last_us > 5 * win)
			outage_end(b, &b->outages[i], now);
}

/* --- output ------------------------------------------------------------------------ */

static void bh_device_json(void *m, struct engine *e, struct dctx *c, struct jw *w)
{
	(void)e;
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return;
	jw_obj(w, "cache");
	jw_uint(w, "repeat_queries", v->repeat);
	jw_uint(w, "early_requeries", v->early);
	jw_real4(w, "early_share", v->repeat ? (double)v->early / v->repeat : 0);
	jw_uint(w, "connections_checked", v->checked);
	jw_uint(w, "stale_uses", v->stale);
	jw_uint(w, "negative_repeats", v->neg_early);
	jw_uint(w, "repeats_of_negative_answers", v->neg_samples);
	jw_end(w);
	jw_obj(w, "rate");
	jw_real4(w, "baseline_qpm", v->baseline_qpm);
	jw_real4(w, "peak_qpm", v->peak_qpm);
	jw_uint(w, "bursts", v->bursts);
	jw_end(w);
	jw_obj(w, "failure");
	jw_uint(w, "episodes", v->episodes);
	jw_uint(w, "storms", v->storms);
	jw_real4(w, "max_rate_qps", v->max_rate);
	int bo = v_backoff(v);
	jw_str(w, "backoff", bo == VERDICT_FAIL ? "no" : bo == VERDICT_PASS ? "yes" : "unknown");
	jw_end(w);
}

static const char *verdict_word(int v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "unknown";
}

static int bh_scorecard(void *m, struct engine *e, struct dctx *c, int line, struct jw *w)
{
	if (line != 7 && line != 8)
		return -1;
	struct bdev *v = bdev_of(m, c);
	if (v == NULL)
		return VERDICT_UNKNOWN;
	if (line == 7) {
		int rq = v_requery(e, v), st = v_stale(e, v);
		jw_uint(w, "repeat_queries", v->repeat);
		jw_uint(w, "early_requeries", v->early);
		jw_str(w, "requery_within_ttl", verdict_word(rq));
		jw_uint(w, "connections_checked", v->checked);
		jw_uint(w, "stale_uses", v->stale);
		jw_str(w, "stale_use", verdict_word(st));
		return verdict_worst(rq, st);
	}
	int bo = v_backoff(v), ng = v_negative(e, v);
	jw_uint(w, "failure_episodes", v->episodes);
	jw_uint(w, "storms", v->storms);
	jw_str(w, "backoff", verdict_word(bo));
	jw_uint(w, "repeats_of_negative_answers", v->neg_samples);
	jw_uint(w, "negative_repeats", v->neg_early);
	jw_str(w, "negative_caching", verdict_word(ng));
	return verdict_worst(bo, ng);
}

static json_t *tjson(const struct tbl *t)
{
	return json_pack("{s:i,s:i,s:I}", "count", tbl_count(t), "capacity", tbl_capacity(t),
			 "evictions", (json_int_t)tbl_evictions(t));
}

static json_t *cache_json(const struct cache *k)
{
	return json_pack("{s:i,s:i,s:I}", "count", k->count, "capacity", k->cap,
			 "evictions", (json_int_t)k->evictions);
}

static void bh_stats_json(void *m, struct engine *e, json_t *stats)
{
	(void)e;
	struct bh *b = m;
	json_t *o = json_object();
	json_object_set_new(o, "answer_cache", cache_json(&b->cache));
	json_object_set_new(o, "connections_seen", tjson(b->conns));
	json_object_set_new(o, "early_requeries", json_integer((json_int_t)b->c_early));
	json_object_set_new(o, "stale_uses", json_integer((json_int_t)b->c_stale));
	json_object_set_new(o, "negative_repeats", json_integer((json_int_t)b->c_neg));
	json_object_set_new(o, "bursts", json_integer((json_int_t)b->c_bursts));
	json_object_set_new(o, "storms", json_integer((json_int_t)b->c_storms));
	json_object_set_new(o, "resolver_outages", json_integer((json_int_t)b->c_outages));
	json_object_set_new(o, "storm_alerts_suppressed", json_integer((json_int_t)b->c_suppressed));
	json_object_set_new(o, "storms_decided_early", json_integer((json_int_t)b->c_storm_ring_full));
	json_object_set_new(stats, "behaviour", o);
}

const struct eng_module mod_behaviour = {
	.name = "behaviour",
	.create = bh_create,
	.destroy = bh_destroy,
	.device_reset = bh_device_reset,
	.packet = bh_packet,
	.prefetch = bh_prefetch,
	.prefetch_response = bh_prefetch_response,
	.query = bh_query,
	.response = bh_response,
	.unanswered = bh_unanswered,
	.tick = bh_tick,
	.rules_changed = bh_rules_changed,
	.evaluate = bh_evaluate,
	.device_json = bh_device_json,
	.scorecard = bh_scorecard,
	.stats_json = bh_stats_json,
};
