/* integrity_int.h — the state of the integrity module (mod_integrity)
 * that its files share: integrity.c (state, hooks, device events, stats),
 * response.c (response.*), amplification.c (amplification.*) and exfil.c
 * (exfil.suspect-names, policy.new-domain), with qname.c (what a query
 * name looks like) and bogon.h (special-purpose addresses, RFC 6890).
 *
 * One state per engine (struct integ), created by the module's create hook
 * and touched only by the engine's thread: no locks, no static data.
 * All state is bounded: one fixed-size record per device slot, a table of
 * answered queries with LRU eviction (counted), and small fixed arrays.
 */
#ifndef SW_DETECT_INTEGRITY_INT_H
#define SW_DETECT_INTEGRITY_INT_H

#include "detect/engine_int.h"

#include <stdio.h>
#include <string.h>

#include "common/table.h"
#include "detect/bogon.h"
#include "detect/qname.h"
#include "output/jw.h"

/* Rare paths (findings, alerts) are kept out of the hooks that run per
 * packet, so that those stay small: fewer registers spilled, smaller
 * frames. */
#define COLD __attribute__((cold, noinline))

/* Answered queries remembered, in a direct-mapped array indexed by a keyed
 * hash of the query key: one cache line or two per response, no chains, no
 * LRU links, and no expiry work (an entry older than the race window is
 * empty). A slot is 128 B: 4096 × 128 B = 512 KiB, which stays in a
 * core's L2 cache. A new answer whose slot holds a live entry of another
 * query displaces it (counted as an eviction): at 800 answers per second
 * (50,000 IoT devices at their 0.015 queries/s) a live window holds 4,000
 * entries and about a third of them are displaced early; at a few hundred
 * devices almost none are. A flood only loses races, never memory. The
 * slot hash is a multiply-xorshift mix, not SipHash, keyed by a value
 * drawn from the engine's SipHash key: an attacker who does not know it
 * cannot compute which queries share a slot, which is all it protects.
 * A replay uses a fixed key (recent_hash()), and so can be aimed at. */
#define RECENT_SLOTS 4096u
/* How long after the first answer a different one still makes a race (and
 * further answers count towards a reply flood) is response.race window_s
 * (default 5 s: spoofed answers arrive within the resolver's round trip, a
 * resolver's retransmitted answer within the stub's retry interval, 1-5 s,
 * RFC 1536), at most RULES_RACE_WINDOW_MAX_S (ts_delta below); the
 * module keeps it in microseconds (integ_rules_changed()). amplification.ratio
 * sums bytes over its window_s (default 300 s: a reflection run lasts
 * minutes, 100 KB of answers within 5 minutes is a flood and not an IoT
 * device's TXT lookup now and then). */
/* Addresses kept per answer: enough to name the connection target of a race
 * (IoT answers hold one to four A records). */
#define ANS_ADDRS 4
/* Races waiting to see which answer the device connects to, network-wide:
 * races are rare; a flood of them fills this and the oldest is reported at
 * once without the connection (counted). */
#define WATCH_MAX 16
/* How long a race waits for the device's next connection: devices connect
 * within milliseconds of an answer; 10 s covers a slow retry. */
#define WATCH_US (10 * SEC)
/* A port the device sent a query from stays "open" this long: the query
 * time-out (5 s by default) plus as much again for late answers. */
#define OPEN_PORT_US (10 * SEC)
/* Query ports remembered per device: a stub has a handful of queries out
 * at once; 8 covers bursts of parallel A/AAAA/HTTPS lookups. */
#define QPORTS 8
/* Responder cache: MACs that sent DNS responses, two-way set-associative, re-checked
 * against the device table once per second. Responses come from a few MACs
 * (the gateway, the resolver), so 64 slots almost never collide. */
#define RESP_CACHE 64
/* Responders found last, by VLAN and MAC, for the packet hook's quick
 * test: a gateway answers on each VLAN it serves (the same MAC), so one
 * "latest" would change hands on most answers. */
#define RESP_RECENT 8
/* Registered domains remembered per device for policy.new-domain: IoT
 * devices resolve 5–30 (the measurement study); a device past 64 is no
 * single-purpose device, and its set stops growing (counted). 256 B. */
#define DOMAINS_MAX 64
/* Below this many the set is open-addressed within the first cache line
 * of its array, so that a device's domains take one line rather than
 * lines all over the array (a device's 11 domains touched all four); from
 * it on they are spread over the array. */
#define DOMAINS_LINE 16
/* Distinct suspect names remembered to count each once (a periodic long
 * name, such as an AWS IoT endpoint, is one name, not twenty). */
#define EXFIL_SEEN 16
/* Unique subdomains of one zone in the exfil window that make a tunnel are
 * exfil.suspect-names min_subdomains (default 100: IoT devices ask a few
 * names per zone, pool.ntp.org has four; 100 distinct names below one
 * registered domain in 10 minutes is a tunnel or a DGA). Linear counting
 * over these bits estimates that well (±10 %), and up to the loader's
 * limit of 1,000 within about 11 %. */
#define ZONE_BITS 256
/* A zone with at most this many bits set keeps their numbers in the
 * device's first line instead of its bitmap. A device is moved to another
 * zone only while its zone has fewer than 4 (exfil_check()): the devices
 * that ask several zones in turn then never write the bitmap's line. */
#define ZONE_SMALL 3
#define NAME_SAMPLE 80      /* characters of a name kept as evidence */
/* What the query hook derives from a name alone (local or not, registered
 * domain, label lengths, entropy), kept per name so that the names a
 * device asks again and again are judged once: a direct-mapped array of
 * 32-byte entries, 8192 × 32 B = 256 KiB, next to the L2-sized table of
 * answered queries. IoT devices resolve 5-30 names each, and many share
 * them (NTP pools, cloud endpoints): a few thousand devices' names fit.
 * A name whose entry another took is judged again, which costs what it
 * did before there was a cache, and is counted. */
#define NAME_SLOTS 8192u
/* Where the answer to a UDP query will be recorded, noted by the query
 * hook under the query's client port and ID: the packet hook sees the
 * response before the engine has parsed it and found its query, and
 * starts loading that slot of the answered table. Only a hint (a stale
 * or overwritten one loads a line in vain). Queries wait for their answer
 * a round trip, tens of milliseconds: at thousands of queries a second a
 * few hundred are outstanding, and 1024 entries (8 KiB, in L1/L2) seldom
 * overwrite one that is still awaited. */
#define HINTS 1024u
#define ZONE_TEXT 48

/* DNS types whose answers are large (amplification.ratio). */
#define T_TXT 16
#define T_RRSIG 46
#define T_DNSKEY 48
#define T_ANY 255

/* One answer as it arrived. */
struct integ_ans {
	uint64_t ts;
	uint16_t nan;                 /* answer-section RRs */
	uint16_t rcode;
	uint8_t src_mac[6];           /* Ethernet source: the spoofer's or the gateway's */
	uint8_t ip_ttl;               /* IPv4 TTL / IPv6 hop limit as it arrived */
	uint8_t naddr;                /* addresses kept in addr[] */
	uint8_t addr[ANS_ADDRS][16];  /* A/AAAA answers, IPv4-mapped for A */
};


/* A race waiting for the device's next connection. */
struct watch {
	uint8_t used;
	uint8_t conn;                 /* 0 none seen, 1 first answer, 2 second, 3 both */
	uint8_t conn_proto;           /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t conn_port;
	uint8_t conn_ip[16];
	uint64_t conn_ts;
	struct dev_key k;             /* the device */
	uint32_t slot, dev_id;
	uint64_t deadline;
	struct qry_key qk;
	uint16_t qtype;
	uint64_t q_ts;
	uint16_t responses;
	uint16_t retries;             /* retransmissions of the query */
	struct integ_ans a[2];        /* the first answer and the first that differed */
	/* The question name whole, from the response that raced, for the
	 * alert's dns.question.name (a prefix would match no filter on it):
	 * 16 watches × 1 KiB. Last, away from what watch_packet() reads. */
	char qname[DNS_NAME_TEXT];
};

/* A recently answered (or timed-out) query, with a 64-bit hash of its
 * query key standing for the key (two keys that share a slot and all 64
 * bits: one in 2^51), and the answer that consumed it (`first`) packed:
 * IPv4 addresses as 4 bytes in the first cache line, IPv6 ones in the
 * second, so that most answers (A records, NXDOMAIN, NODATA, HTTPS) write
 * one line. Two cache lines, aligned. */
struct recent_slot {
	uint64_t tag;
	uint64_t made;                /* when the entry was made (expiry) */
	uint32_t q_age;               /* made - the query's first transmission, µs (q_ts_of()) */
	uint16_t retries;             /* the query's retransmissions before it was answered */
	uint16_t unused;              /* keeps the addresses' offsets */
	uint32_t dev_id;              /* device it was charged to */
	uint32_t fp;                  /* first: order-free keyed fingerprint (ans_differ()) */
	uint16_t responses;           /* responses to it so far */
	uint16_t rcode_flags;         /* first: rcode (12 bits, RECENT_RCODE) | RECENT_LATE ... */
	uint8_t src_mac[6];           /* first: Ethernet source */
	uint8_t ip_ttl;               /* first: IPv4 TTL / IPv6 hop limit */
	uint8_t nan;                  /* first: answer-section RRs (<= DNS_MAX_RR) */
	uint8_t naddr;                /* first: addresses (low 4 bits) | which are IPv6 << 4 */
	uint8_t ts_delta[3];          /* first: its time - made, µs, 24-bit two's complement */
	uint8_t v4[ANS_ADDRS][4];     /* first: address i when IPv4 */
	uint8_t v6[ANS_ADDRS][16];    /* first: address i when IPv6 */
};
_Static_assert(sizeof(struct recent_slot) == 128, "memory arithmetic at RECENT_SLOTS");
_Static_assert(offsetof(struct recent_slot, v6) == 64, "IPv6 addresses alone in the second line");
_Static_assert(DNS_MAX_RR <= 255 && ANS_ADDRS <= 4, "nan and naddr fit their bytes");
#define RECENT_RCODE 0x0fffu
#define RECENT_LATE 0x1000u           /* made by a time-out: no answer seen yet */
#define RECENT_RACED 0x2000u          /* a race was reported on it */
#define RECENT_FLOODED 0x4000u        /* a reply flood was reported on it */
/* A late answer comes within the race window of the time-out that made
 * its entry; an answer that made one comes at `made` (or 1 µs before: a
 * packet at time 0). */
_Static_assert(RULES_RACE_WINDOW_MAX_S * SEC < (1u << 23), "an answer's time fits ts_delta");

/* A MAC that sent DNS responses (amplification.device-serves-dns). */
struct responder {
	uint8_t mac[6];
	uint16_t vlan;
	uint8_t used;
	uint8_t relay;                /* it forwarded responses from addresses not its own: a router */
	uint8_t is_dev;               /* it is a device the sensor follows */
	uint32_t checked_s;           /* packet second of the last device-table check */
	uint32_t slot, dev_id;
};

/* A fixed window counter (the windows below restart at the first event
 * after they ran out). */
struct win {
	uint64_t start;
	uint64_t first_ts, last_ts;
	uint32_t n;
	uint64_t bytes;
};

/* The module's state per device slot: 960 B (65,536 slots = 60 MiB at
 * most, touched only as devices appear, like the device table itself; the
 * domain set is a quarter of it). Counters show in periodic and exit
 * device events; they do not mark the device dirty, or a reflection victim
 * would get a device event per response. Aligned to a cache line: what
 * every query reads and writes is the first line; the zone's line follows
 * when a name of a zone with more than ZONE_SMALL is new, and the domain
 * set's first line (all of it below DOMAINS_LINE domains) when the device
 * asks another domain than its last two. */
struct integ_dev {
	/* First line, every query: ports of the latest queries
	 * (response.txid-mismatch; port 0 = unused) ... */
	uint16_t qport[QPORTS];
	uint16_t qport_s[QPORTS];     /* packet second each was used, mod 2^16 */
	/* ... the zone followed for unique subdomains (exfil.suspect-names) ... */
	uint64_t zone_start;
	uint32_t zone_hash;
	uint32_t zone_last;           /* name hash whose bit was set last (0: none) */
	uint16_t zone_set;            /* bits set */
	/* ... and the size of the domain set (policy.new-domain), with the
	 * two domains asked last. */
	uint8_t ndomains;             /* < DOMAINS_MAX */
	uint8_t domains_full;
	uint8_t qport_next;
	/* The zone's bits while zone_set <= ZONE_SMALL, by number; past
	 * that they are in zone_bits, and its name in zone. */
	uint8_t zone_small[ZONE_SMALL];
	uint32_t last_domain;         /* hash of the registered domain asked last */
	uint32_t known_domain;        /* another recent one, known to be in the set (0: none) */
	/* Second line: the bits of a zone with more than ZONE_SMALL, read
	 * when a name of it is new, and its name (evidence), both written
	 * when it gets there; a name shorter than 32 characters stays in this
	 * line. */
	_Alignas(64) uint8_t zone_bits[ZONE_BITS / 8];
	char zone[ZONE_TEXT];
	/* counters for the device event */
	uint32_t races, unsolicited, txid_mismatch, duplicate_rr, bogon_answers;
	uint32_t reply_floods, late, duplicates, suspect_names, new_domains;
	/* response.txid-mismatch window and its evidence */
	struct win tx;
	uint16_t tx_port, tx_first_id, tx_last_id, tx_sport;
	uint8_t tx_server[16];
	/* response.unsolicited window and its evidence */
	struct win un;
	uint32_t un_sources;          /* distinct sources (of the last few) */
	uint8_t un_src[16];
	uint16_t un_sport, un_dport, un_id, un_qtype;
	uint8_t un_escalated;         /* a high alert went out, at un_escalated_s */
	uint32_t un_escalated_s;      /* packet second of the last high alert */
	/* amplification.ratio towards the device */
	struct win amp_in;
	uint64_t amp_in_q;            /* query bytes (header + question of each response) */
	uint32_t amp_in_types[4];     /* ANY, TXT, DNSKEY, RRSIG responses */
	/* amplification.device-serves-dns and the ratio from the device */
	uint64_t sv_first, sv_last;
	uint32_t sv_local, sv_public;
	uint8_t sv_alerted;           /* 1 medium alert sent, 2 high */
	struct win amp_out;
	uint64_t amp_out_q;
	uint32_t amp_out_types[4];
	/* exfil.suspect-names */
	struct win ex;
	uint32_t ex_seen[EXFIL_SEEN];
	uint8_t ex_seen_next;
	uint16_t ex_long, ex_entropy;
	uint8_t ex_max_label;
	uint16_t ex_max_entropy_c;    /* centibits per character */
	char ex_sample[NAME_SAMPLE];
	/* policy.new-domain: open-addressed set of registered-domain hashes,
	 * within the first line while ndomains < DOMAINS_LINE (domain_set()) */
	_Alignas(64) uint32_t domains[DOMAINS_MAX];
};
_Static_assert(offsetof(struct integ_dev, domains) % 64 == 0 &&
	       DOMAINS_LINE * sizeof(uint32_t) == 64, "a short domain list is one line");
_Static_assert(offsetof(struct integ_dev, zone_bits) == 64, "a query's fields in one line");
_Static_assert(DOMAINS_MAX <= 255, "ndomains fits its byte");
_Static_assert(offsetof(struct integ_dev, zone) == 96, "a zone's name next to its bits");
_Static_assert(sizeof(struct integ_dev) == 960, "memory arithmetic above");

_Static_assert(sizeof(struct integ_name) == 32, "memory arithmetic at NAME_SLOTS");

/* The key of the answer fingerprint (rdata_hash()): h64 of a type (class
 * IN) keyed by `key`, as rdata_hash() starts, for the types below 64, and
 * the key itself for the others. An unkeyed fingerprint of 32 bits lets a
 * spoofer search offline for a padding RR that makes its answer sum to
 * the resolver's (about 2^32 tries for a known answer). Keyed by a value
 * drawn at start, the sums cannot be computed outside the sensor: h64 is
 * a fast mix and no MAC, but the spoofer sees no fingerprint to learn the
 * key from (no event shows one). Replays use a fixed key, as the
 * slot hash does, so that their output is the same every time. */
struct fp_key {
	uint64_t key;
	uint64_t type_in[64];
};

struct integ {
	struct integ_dev *dev;        /* e->cfg->devices_max entries, by device slot */
	uint32_t ndev;
	struct integ_name *names;     /* NAME_SLOTS, by the engine's name hash */
	uint64_t hint[HINTS];         /* client port << 48 | ID << 32 | slot, by port and ID */
	uint64_t name_seed;           /* keys the names' tags */
	uint64_t name_lookups;
	uint64_t name_misses;         /* names judged anew */
	struct recent_slot *recent;   /* RECENT_SLOTS */
	uint64_t seed;                /* keys the slot hash */
	struct fp_key fp_key[2];      /* keys the answers' fingerprints: drawn, and a replay's fixed one */
	int deterministic;            /* replay: a fixed hash key instead */
	uint64_t race_us;             /* response.race window_s, µs */
	uint64_t recent_displaced;    /* live entries overwritten by another query */
	uint64_t recent_used;         /* answers recorded */
	struct watch watch[WATCH_MAX];
	unsigned nwatch;
	struct responder resp[RESP_CACHE];
	struct responder *resp_recent[RESP_RECENT]; /* by resp_recent_index(); checked by MAC and VLAN */
	/* stats */
	uint64_t watch_overflow;      /* races reported early: the watch list was full */
	uint64_t watch_lost;          /* races whose device left before the report */
	uint64_t domain_sets_full;
	uint64_t races, unsolicited, txid_mismatch, late;
	/* Tables built at create (integ_exfil_init(), integ_nlogn_init()),
	 * only read after: nothing is filled lazily, so that engines on
	 * other threads, each with its own state, share nothing. */
	struct integ_nlogn nlogn;     /* entropy of names (qname.h) */
	unsigned zone_est[ZONE_BITS + 1]; /* linear counting of a zone's bits (exfil.c) */
};


/* The sensor's word-wise hash (common/table.h): it only has to tell names
 * and answers apart. */
static inline uint64_t h64(const void *buf, size_t n, uint64_t seed)
{
	return sw_hash_words(buf, n, seed);
}

static inline uint32_t s_of(uint64_t us)
{
	return (uint32_t)(us / SEC);
}

static inline void w_hex16(struct jw *w, const char *key, uint16_t v)
{
	char t[8];
	snprintf(t, sizeof(t), "0x%04x", v);
	jw_str(w, key, t);
}

static inline const struct det_rule *rule(const struct engine *e, enum det_id id)
{
	return rules_det(e->rules, id);
}

static inline uint64_t rule_window_us(const struct det_rule *r, double def_s)
{
	double s = (r->params & (UINT64_C(1) << DP_WINDOW_S)) ? r->p[DP_WINDOW_S] : def_s;
	return (uint64_t)(s * (double)SEC);
}

/* Restarts a window that ran out (or never started); returns it. */
static inline struct win *win_at(struct win *w, uint64_t ts, uint64_t len)
{
	if (w->n == 0 || ts < w->start || ts - w->start > len) {
		memset(w, 0, sizeof(*w));
		w->start = w->first_ts = ts;
	}
	w->last_ts = ts;
	return w;
}


static inline struct integ_dev *dev_of(struct integ *m, const struct dctx *c)
{
	return c->slot < m->ndev ? &m->dev[c->slot] : NULL;
}

/* The slot of the query hint (HINTS) of a client port and ID. */
static inline unsigned hint_index(uint16_t port, uint16_t id)
{
	return (unsigned)((port * 0x9e37u) ^ id) & (HINTS - 1);
}

/* 6-byte MACs compared as a word and a half. */
static inline int mac_equal(const uint8_t a[6], const uint8_t b[6])
{
	uint32_t a4, b4;
	uint16_t a2, b2;
	memcpy(&a4, a, 4);
	memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2);
	memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

static inline unsigned resp_recent_index(const struct pkt *p)
{
	return (p->vlan ^ p->src_mac[5]) & (RESP_RECENT - 1);
}

/* 1 when integ_serves_packet() would do nothing with p: its responder,
 * found last, is no device the sensor follows as of this second, and it
 * answers from its own address or is known to relay. Most answers come
 * from the network's resolver or router, and stop here. */
static inline int serves_quiet(const struct integ *m, const struct pkt *p)
{
	const struct responder *r = m->resp_recent[resp_recent_index(p)];
	return r != NULL && r->vlan == p->vlan && mac_equal(r->mac, p->src_mac) && !r->is_dev &&
	       r->checked_s == s_of(p->ts_us) && (r->relay || ip_local(p->src_ip));
}

/* --- response.c ------------------------------------------------------------ */

/* The hash of a query key. A replay uses a fixed hash key, so that which
 * entries displace which, and so its output, is the same every time. */
static inline uint64_t recent_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	return h ^ h >> 31;
}

static inline uint64_t recent_hash(const struct integ *m, const struct qry_key *qk)
{
	/* Four words cover the key: the addresses' last 8 bytes (all of an
	 * IPv4-mapped one; an IPv6 pair differing only in its prefix is the
	 * same query here), ports, ID and type, the name hash, MAC and VLAN.
	 * They are built in registers: a word assembled in memory from a
	 * 4-byte and a 2-byte store and read back as 8 bytes cannot be
	 * forwarded from the stores, which stalled every query and answer. */
	uint64_t w0, w1, h = m->deterministic ? 0x5eed : m->seed;
	memcpy(&w0, qk->client + 8, 8);
	memcpy(&w1, qk->server + 8, 8);
	uint64_t w2 = (uint64_t)qk->server_port << 48 | (uint64_t)qk->client_port << 32 |
		      (uint64_t)qk->id << 16 | qk->qtype;
	uint64_t mac = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t m4;
	uint16_t m2;
	memcpy(&m4, qk->mac, 4);
	memcpy(&m2, qk->mac + 4, 2);
	mac = (uint64_t)m2 << 32 | m4;   /* as memcpy(&mac, qk->mac, 6) */
#else
	memcpy(&mac, qk->mac, 6);
#endif
	uint64_t w3 = (mac << 16 ^ qk->vlan) ^ (uint64_t)qk->qname_hash << 24;
	h = recent_mix(recent_mix(recent_mix(recent_mix(h, w0), w1), w2), w3);
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return h | 1u;
}

/* The first i with ports[i] == port, or QPORTS: the eight ports compared
 * at once as four 16-bit lanes of two 64-bit words. A lane is zero after
 * the xor exactly where the port matches; the zero test adds within each
 * lane's low 15 bits, so no carry crosses lanes. */
_Static_assert(QPORTS == 8, "two words of four ports");
static inline unsigned qport_find(const uint16_t ports[QPORTS], uint16_t port)
{
	const uint64_t low = 0x7fff7fff7fff7fffull;
	uint64_t b = 0x0001000100010001ull * port;
	for (unsigned k = 0; k < 2; k++) {
		uint64_t w;
		memcpy(&w, ports + 4 * k, 8);
		w ^= b;
		uint64_t z = ~(((w & low) + low) | w | low);   /* high bit of each zero lane */
		if (z == 0)
			continue;
		for (unsigned l = 0; l < 4; l++)                   /* the lowest index, in memory order */
			if (ports[4 * k + l] == port)
				return 4 * k + l;
	}
	return QPORTS;
}

/* UDP queries: the hint of where their answer will be recorded, for the
 * packet hook, and the device's query ports (response.txid-mismatch). */
static inline void integ_resp_query(struct integ *m, struct engine *e, const struct pkt *p,
				    const struct qry_key *qk, struct integ_dev *id)
{
	m->deterministic = e->deterministic;
	uint64_t rh = recent_hash(m, qk);
	m->hint[hint_index(p->sport, qk->id)] = (uint64_t)p->sport << 48 |
						(uint64_t)qk->id << 32 |
						(rh & (RECENT_SLOTS - 1));
	uint32_t now = s_of(p->ts_us);
	unsigned i = qport_find(id->qport, p->sport);
	if (i == QPORTS) {
		i = id->qport_next;
		id->qport_next = (uint8_t)((id->qport_next + 1) % QPORTS);
		id->qport[i] = p->sport;
	}
	id->qport_s[i] = (uint16_t)now;
}

/* The keys of the answers' fingerprints, drawn from the engine's key and
 * a replay's fixed one. */
void integ_resp_init(struct integ *m, struct engine *e);

/* The response and unanswered hooks (engine_int.h). */
void integ_response(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
		    const struct dns_msg *msg, const struct qry_key *qk, struct qry *q);
void integ_unanswered(void *mv, struct engine *e, struct dctx *c,
		      const struct qry_key *qk, const struct qry *q);

/* Races waiting for the device's next connection: p may be it
 * (integ_watch_packet()); those past their deadline, or all, are
 * reported (integ_watch_expire()). */
void integ_watch_packet(struct integ *m, struct engine *e, const struct pkt *p);
void integ_watch_expire(struct integ *m, struct engine *e, uint64_t now, int all);

/* The alert context of a response to the device: its address the source,
 * the responder the destination, the question from msg (may be NULL). */
void integ_alert_ctx_resp(struct engine *e, struct dctx *c, const struct pkt *p,
			  const struct dns_msg *msg, struct alert_ctx *a);

/* --- amplification.c ------------------------------------------------------- */

/* amplification.ratio: a heavy response (of type index hi, heavy_index())
 * of rbytes answering a query of qsize, towards the device (from = 0) or
 * from it (1), into the window w and its query bytes and type counts. */
void integ_amp_add(struct engine *e, struct dctx *c, struct win *w, uint64_t *qbytes,
		   uint32_t *types, int hi, uint64_t ts, uint32_t rbytes, uint32_t qsize,
		   int from, const struct pkt *p, const struct dns_msg *msg);

static inline int heavy_index(uint16_t qtype)
{
	switch (qtype) {
	case T_ANY: return 0;
	case T_TXT: return 1;
	case T_DNSKEY: return 2;
	case T_RRSIG: return 3;
	default: return -1;
	}
}

/* amplification.ratio towards the device: the heavy answers it gets,
 * against the queries they answer, whose size the response tells: its
 * header and question (RFC 1035 §4.1: a response repeats the question),
 * plus an OPT RR of 11 bytes when the response has one (RFC 6891 §7: only
 * then may the query have). */
static inline void integ_amp_response(struct engine *e, struct dctx *c, struct integ_dev *id,
				      const struct pkt *p, const struct dns_msg *msg)
{
	int hi = msg->has_q ? heavy_index(msg->qtype) : -1;
	if (hi >= 0)
		integ_amp_add(e, c, &id->amp_in, &id->amp_in_q, id->amp_in_types, hi, p->ts_us,
			      p->payload_len, (uint32_t)msg->q_end + (msg->has_opt ? 11u : 0u), 0, p, msg);
}

/* amplification.device-serves-dns and the ratio from the device, for a
 * DNS response (UDP source port 53, QR set, unicast) that p carries. */
void integ_serves_packet(struct integ *m, struct engine *e, const struct pkt *p);

/* --- exfil.c --------------------------------------------------------------- */

/* The query hook (engine_int.h): response.c's notes of the query, then
 * its name judged for exfil.suspect-names and policy.new-domain. */
void integ_query(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
		 const struct dns_msg *msg, const struct qry_key *qk, struct qry *q, int is_new);

/* Fills the zone estimate table (linear counting). */
void integ_exfil_init(struct integ *m);

#endif
