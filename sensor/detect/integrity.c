/* integrity.c — integrity of responses, amplification, exfiltration by
 * query names and new domains (the detect module mod_integrity).
 *
 * DETECTIONS.md "Integrity of responses": response.race and
 * response.txid-mismatch (RFC 5452 §9.1), response.unsolicited (RFC 5358),
 * response.bogon-answer (RFC 6890), response.duplicate-rr (RFC 2181 §5,
 * §5.2), response.reply-flood; and from "Amplification, exposure and
 * policy": amplification.device-serves-dns (RFC 5358), amplification.ratio
 * (RFC 8482, RFC 9715), exfil.suspect-names, policy.new-domain.
 *
 * The engine forgets an outstanding query at its first answer, so whatever
 * else answers it arrives unmatched. This module keeps a short-lived table
 * of recently answered queries under the same key (device, server, ports,
 * ID, name, type): a second answer that matches an entry there is a
 * duplicate (same answer), a race (a different one) or, past the limit, a
 * reply flood. An unmatched response that matches no entry either reaches a
 * port the device has just queried from (a guessed ID) or one it has not
 * (unsolicited). A race alert waits a few seconds for the device's next new
 * connection to an address of either answer, so it can say which answer
 * the device believed.
 *
 * All state is bounded: one fixed-size record per device slot, a table of
 * answered queries with LRU eviction (counted), and small fixed arrays.
 */
#include "detect/integrity.h"
#include "detect/engine_int.h"

#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/fmt.h"
#include "common/table.h"
#include "output/jw.h"

#define MS 1000ull

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
};

/* --- small helpers -------------------------------------------------------- */

/* The sensor's word-wise hash (common/table.h): it only has to tell names
 * and answers apart. */
static inline uint64_t h64(const void *buf, size_t n, uint64_t seed)
{
	return sw_hash_words(buf, n, seed);
}

static uint32_t s_of(uint64_t us)
{
	return (uint32_t)(us / SEC);
}

static void w_hex16(struct jw *w, const char *key, uint16_t v)
{
	char t[8];
	snprintf(t, sizeof(t), "0x%04x", v);
	jw_str(w, key, t);
}

static const struct det_rule *rule(const struct engine *e, enum det_id id)
{
	return rules_det(e->rules, id);
}

static uint64_t rule_window_us(const struct det_rule *r, double def_s)
{
	double s = (r->params & (UINT64_C(1) << DP_WINDOW_S)) ? r->p[DP_WINDOW_S] : def_s;
	return (uint64_t)(s * (double)SEC);
}

/* Restarts a window that ran out (or never started); returns it. */
static struct win *win_at(struct win *w, uint64_t ts, uint64_t len)
{
	if (w->n == 0 || ts < w->start || ts - w->start > len) {
		memset(w, 0, sizeof(*w));
		w->start = w->first_ts = ts;
	}
	w->last_ts = ts;
	return w;
}

/* --- addresses and names ------------------------------------------------- */

/* integ_special_range() of an A record's four bytes. */
static inline const char *special_range_v4(const uint8_t b[4], int *priv)
{
	/* First octets that begin a special range: 0, 10, 127, 169, 172,
	 * 192, 198, 203 and 224-255. Most answers hold none of them. */
	static const uint64_t first[4] = {
		1ull << 0 | 1ull << 10,
		1ull << (127 - 64),
		1ull << (169 - 128) | 1ull << (172 - 128),
		1ull << (192 - 192) | 1ull << (198 - 192) | 1ull << (203 - 192) | 0xffffffffull << 32,
	};
	if (!((first[b[0] >> 6] >> (b[0] & 63)) & 1)) {
		*priv = 0;
		return NULL;
	}
	*priv = 0;
	if (b[0] == 0)
		return "0.0.0.0/8";          /* RFC 1122 §3.2.1.3 */
	if (b[0] == 127)
		return "127.0.0.0/8";        /* loopback */
	if (b[0] == 169 && b[1] == 254)
		return "169.254.0.0/16";     /* link local, RFC 3927 */
	if (b[0] == 192 && b[1] == 0 && b[2] == 2)
		return "192.0.2.0/24";       /* TEST-NET-1, RFC 5737 */
	if (b[0] == 198 && b[1] == 51 && b[2] == 100)
		return "198.51.100.0/24";    /* TEST-NET-2 */
	if (b[0] == 203 && b[1] == 0 && b[2] == 113)
		return "203.0.113.0/24";     /* TEST-NET-3 */
	if (b[0] == 198 && (b[1] & 0xfe) == 18)
		return "198.18.0.0/15";      /* benchmarking, RFC 2544 */
	if (b[0] >= 240)
		return "240.0.0.0/4";        /* reserved, RFC 1112; broadcast */
	if (b[0] >= 224)
		return "224.0.0.0/4";        /* multicast is no host's address */
	*priv = 1;
	if (b[0] == 10)
		return "10.0.0.0/8";         /* RFC 1918 */
	if (b[0] == 172 && (b[1] & 0xf0) == 16)
		return "172.16.0.0/12";
	if (b[0] == 192 && b[1] == 168)
		return "192.168.0.0/16";
	*priv = 0;
	return NULL;
}

/* integ_special_range() of an AAAA record's sixteen bytes. */
static inline const char *special_range_v6(const uint8_t ip[16], int *priv)
{
	*priv = 0;
	/* The special ranges begin with 00, 20 (2001:db8::), fc-fd, fe or ff. */
	if (ip[0] != 0 && ip[0] != 0x20 && ip[0] < 0xfc)
		return NULL;
	static const uint8_t zero[16];
	if (memcmp(ip, zero, 15) == 0 && (ip[15] == 0 || ip[15] == 1))
		return ip[15] ? "::1/128" : "::/128";
	if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8)
		return "2001:db8::/32";              /* documentation, RFC 3849 */
	if (memcmp(ip, zero, 10) == 0 && ip[10] == 0xff && ip[11] == 0xff)
		return "::ffff:0:0/96";              /* IPv4-mapped in an AAAA */
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return "fe80::/10";                  /* link local */
	if (ip[0] == 0xff)
		return "ff00::/8";                   /* multicast */
	if ((ip[0] & 0xfe) == 0xfc) {
		*priv = 1;
		return "fc00::/7";                   /* ULA, RFC 4193 */
	}
	return NULL;
}

const char *integ_special_range(const uint8_t ip[16], int v6, int *priv)
{
	return v6 ? special_range_v6(ip, priv) : special_range_v4(ip + 12, priv);
}

struct word {
	const char *s;
	size_t n;
};
#define W(x) { x, sizeof(x) - 1 }

/* Top labels that are local by definition or by wide custom. */
static const struct word local_suffixes[] = {
	W("local"), W("lan"), W("home"), W("arpa"), W("internal"), W("intranet"), W("corp"),
	W("private"), W("localdomain"), W("localhost"), W("test"), W("invalid"), W("example"),
	W("domain"), W("box"),
};

int integ_local_name(const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	if (dot == NULL)
		return 1;                 /* single label: a search-list name */
	size_t i = len;
	while (i > 0 && name[i - 1] != '.')
		i--;
	const char *tld = name + i;
	size_t tlen = len - i;
	for (size_t k = 0; k < sizeof(local_suffixes) / sizeof(local_suffixes[0]); k++)
		if (local_suffixes[k].n == tlen && memcmp(tld, local_suffixes[k].s, tlen) == 0)
			return 1;
	return 0;
}

static const struct word common_sld[] = {
	W("co"), W("com"), W("net"), W("org"), W("ac"), W("gov"), W("edu"), W("or"), W("ne"),
	W("go"), W("gob"), W("mil"), W("nic"), W("ltd"), W("plc"), W("sch"), W("nom"), W("gv"),
};

long integ_registered_domain(const char *name, size_t len)
{
	/* Offsets just past the last three dots. */
	long dots[3] = { -1, -1, -1 };
	int nd = 0;
	for (size_t i = len; i > 0 && nd < 3; i--)
		if (name[i - 1] == '.')
			dots[nd++] = (long)i;
	if (nd == 0)
		return -1;
	/* The second-to-last label: from dots[1] (or 0) to dots[0] - 1. */
	long s = nd >= 2 ? dots[1] : 0;
	size_t sl = (size_t)(dots[0] - 1 - s);
	int common = 0;
	for (size_t k = 0; k < sizeof(common_sld) / sizeof(common_sld[0]); k++)
		if (common_sld[k].n == sl && memcmp(name + s, common_sld[k].s, sl) == 0)
			common = 1;
	if (!common)
		return s;
	if (nd < 2)
		return -1;                /* "co.uk" alone */
	return nd >= 3 ? dots[2] : 0;
}

/* n·log2(n) for the counts of one name's characters (a name is at most
 * 255 octets, 1,023 characters as text), filled once. */
#define NLOGN_MAX 1024
static double nlogn[NLOGN_MAX + 1];

static void nlogn_init(void)
{
	if (nlogn[2] != 0)
		return;
	for (unsigned i = 1; i <= NLOGN_MAX; i++)
		nlogn[i] = (double)i * log2((double)i);
}

/* Linear counting (Whang et al. 1990): n ≈ -m ln(zero bits / m), from the
 * number of bits set; a table filled once, as a device that switches zones
 * sets bits on many of its queries. */
static unsigned zone_est_tab[ZONE_BITS + 1];

static void zone_est_init(void)
{
	if (zone_est_tab[ZONE_BITS] != 0)
		return;
	for (unsigned set = 0; set < ZONE_BITS; set++)
		zone_est_tab[set] = (unsigned)(-(double)ZONE_BITS *
					   log((double)(ZONE_BITS - set) / ZONE_BITS) + 0.5);
	zone_est_tab[ZONE_BITS] = 10 * ZONE_BITS;   /* saturated: well past the threshold */
}

static unsigned zone_estimate(unsigned set)
{
	return zone_est_tab[set < ZONE_BITS ? set : ZONE_BITS];
}

double integ_entropy(const char *s, size_t n)
{
	/* H = log2(N) - (1/N) Σ c·log2(c) over the symbol counts c. */
	nlogn_init();
	uint16_t count[256];
	memset(count, 0, sizeof(count));
	size_t total = 0;
	for (size_t i = 0; i < n && total < NLOGN_MAX; i++) {
		if (s[i] == '.')
			continue;
		count[(uint8_t)s[i]]++;
		total++;
	}
	if (total == 0)
		return 0;
	double sum = 0;
	for (size_t i = 0, seen = 0; i < n && seen < total; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '.' || count[c] == 0)
			continue;
		sum += nlogn[count[c]];
		seen += count[c];
		count[c] = 0;
	}
	return (nlogn[total] - sum) / (double)total;
}

size_t integ_longest_label(const char *s, size_t n)
{
	size_t best = 0, cur = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			cur = 0;
			continue;
		}
		/* A \DDD escape is one octet on the wire (dns.h presentation form). */
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
			i += 3;
		if (++cur > best)
			best = cur;
	}
	return best;
}

/* 1 for addresses that do not leave the site: RFC 1918, CGNAT (RFC 6598),
 * link local, loopback, ULA. */
static int ip_local(const uint8_t ip[16])
{
	if (ip_is_v4(ip))
		return ip_v4_site_local(ip + 12);
	static const uint8_t lo[16] = { [15] = 1 };
	return (ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) ||
	       memcmp(ip, lo, 16) == 0;
}

/* 1 when b is on a's network: both local, or the same /24 (IPv4) or /64
 * (IPv6) — a LAN with public addresses. */
static int same_site(const uint8_t a[16], const uint8_t b[16])
{
	if (ip_local(a) && ip_local(b))
		return 1;
	if (ip_is_v4(a) != ip_is_v4(b))
		return 0;
	return ip_is_v4(a) ? memcmp(a, b, 15) == 0 : memcmp(a, b, 8) == 0;
}

/* --- answers ------------------------------------------------------------- */

/* memcmp(x, y, n) == 0, with A and AAAA RDATA compared inline. */
static inline int bytes_equal(const uint8_t *x, const uint8_t *y, size_t n)
{
	if (n == 4) {
		uint32_t u, v;
		memcpy(&u, x, 4);
		memcpy(&v, y, 4);
		return u == v;
	}
	if (n == 16) {
		uint64_t u[2], v[2];
		memcpy(u, x, 16);
		memcpy(v, y, 16);
		return ((u[0] ^ v[0]) | (u[1] ^ v[1])) == 0;
	}
	return memcmp(x, y, n) == 0;
}

/* RR types whose RDATA starts with a domain name: NS, CNAME, PTR, MX
 * (after its preference), DNAME (rdata_hash(), rdata_equal()). */
#define NAME_TYPES (1ull << 2 | 1ull << 5 | 1ull << 12 | 1ull << 15 | 1ull << 39)
static inline int name_rdata(uint16_t type)
{
	return type < 64 && ((NAME_TYPES >> type) & 1);
}

static void fp_key_init(struct fp_key *k, uint64_t key)
{
	k->key = key;
	for (uint16_t t = 0; t < 64; t++)
		k->type_in[t] = h64(&t, sizeof(t), key);
}

/* A hash of an RR's type and RDATA. A leading domain name (CNAME, NS,
 * PTR, DNAME; MX after its preference) is hashed by its labels up to the
 * first compression pointer, not by the pointer's offset, so the same name
 * compressed against a differently laid out message hashes alike as long
 * as the uncompressed part is the same (the pointed-to suffix is the
 * question name or a name before it, which both answers repeat). This
 * keeps decompression off the path of every answer. */
static inline uint64_t rdata_hash(const struct fp_key *k, const struct dns_msg *m,
				  const struct dns_rr *rr)
{
	uint64_t h = rr->rclass == 1 && rr->type < 64 ? k->type_in[rr->type] :
		     h64(&rr->type, sizeof(rr->type), k->key ^ rr->rclass);
	if ((size_t)rr->rdata_off + rr->rdlen > m->len)
		return h;
	const uint8_t *rd = m->buf + rr->rdata_off;
	if (!name_rdata(rr->type)) {
		/* A and AAAA, most answers, as fixed-size hashes. */
		if (rr->rdlen == 4)
			return h64(rd, 4, h);
		if (rr->rdlen == 16)
			return h64(rd, 16, h);
		return h64(rd, rr->rdlen, h);
	}
	size_t off = rr->type == 15 ? 2 : 0;
	while (off < rr->rdlen && rd[off] != 0 && (rd[off] & 0xc0) == 0)
		off += (size_t)rd[off] + 1;
	if (off > rr->rdlen)
		off = rr->rdlen;
	return h64(rd, off, h);
}

/* 1 when the names that start the RDATA of a and b (of one name type)
 * surely differ: a differing MX preference, or a label (integ_names_differ()).
 * 0 when only comparing their texts tells (rdata_equal()). */
static int rdata_names_differ(const struct dns_msg *m, const struct dns_rr *a,
			      const struct dns_rr *b)
{
	size_t skip = a->type == 15 ? 2 : 0;
	return a->rdlen < skip || b->rdlen < skip ||
	       memcmp(m->buf + a->rdata_off, m->buf + b->rdata_off, skip) != 0 ||
	       integ_names_differ(m, (size_t)a->rdata_off + skip, (size_t)b->rdata_off + skip);
}

/* 1 when duplicate_check() may report the pair x, y (one section, type and
 * class, both RDATA within the message): it does when the RDATA are equal
 * or the TTLs differ, and the owners are equal. Equality of names is
 * granted here unless a label tells them apart, so this is a superset of
 * its pairs at the cost of label comparisons; the names of a CNAME chain
 * (two CNAMEs with unequal TTLs, different owners) differ in their first
 * labels. */
COLD static int pair_may_report(const struct dns_msg *m, const struct dns_rr *x,
			   const struct dns_rr *y)
{
	/* Unequal TTLs make the pair whatever the RDATA. */
	if (x->ttl == y->ttl || x->type == T_RRSIG) {
		int same = x->rdlen == y->rdlen &&
			   bytes_equal(m->buf + x->rdata_off, m->buf + y->rdata_off, x->rdlen);
		if (!same && (!name_rdata(x->type) || rdata_names_differ(m, x, y)))
			return 0;
	}
	return x->name_off == y->name_off || !integ_names_differ(m, x->name_off, y->name_off);
}

/* What one pass over a response's RRs tells the response hook. */
struct rr_scan {
	int special;                  /* an answer A/AAAA is a special-purpose address (bogon_check()) */
	int pairs;                    /* two RRs duplicate_check() has to look at */
};

/* One pass over the RRs of a response, instead of one per check: the
 * answer (a non-NULL) — a fingerprint that is a sum over the answer RRs,
 * so the order does not matter, plus the rcode, and the addresses — and
 * whether bogon_check() or duplicate_check() can find anything, which is
 * rare. For duplicates that is a pair of RRs of one section, type and
 * class that pair_may_report(): a superset of the pairs it reports. */
static void rr_scan(const struct fp_key *fk, const struct pkt *p, const struct dns_msg *m,
		    struct recent_slot *a, struct rr_scan *sc)
{
	uint64_t key[DNS_MAX_RR];
	unsigned n = m->nrr, nan = 0, naddr = 0, v6 = 0;
	uint64_t fp = (uint64_t)m->rcode * 0x9e3779b97f4a7c15ull;
	int special = 0, pairs = 0;
	uint32_t seen = 0;               /* a bit per key hash: which keys came before */
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *rr = &m->rr[i];
		int valid = (size_t)rr->rdata_off + rr->rdlen <= m->len;
		const uint8_t *rd = m->buf + rr->rdata_off;
		uint64_t k = (uint64_t)rr->section << 32 | (uint64_t)rr->type << 16 | rr->rclass;
		key[i] = valid ? k : UINT64_MAX - i;
		/* Only an RR whose key may have come before is compared with
		 * the ones before it: the first of each RRset is not. */
		uint32_t bit = 1u << (k * 0x9e3779b97f4a7c15ull >> 59);
		if (valid && !pairs && (seen & bit)) {
			for (unsigned j = 0; j < i; j++) {
				const struct dns_rr *y = &m->rr[j];
				if (key[j] != k)
					continue;
				/* Most pairs are of one RRset with equal TTLs and
				 * different addresses: told apart inline. */
				if (((y->ttl != rr->ttl && rr->type != T_RRSIG) || name_rdata(rr->type) ||
				     (y->rdlen == rr->rdlen &&
				      bytes_equal(m->buf + y->rdata_off, rd, rr->rdlen))) &&
				    pair_may_report(m, y, rr)) {
					pairs = 1;
					break;
				}
			}
		}
		if (valid)
			seen |= bit;
		if (rr->section != DNS_SEC_AN)
			continue;
		if (a != NULL) {
			nan++;
			fp += rdata_hash(fk, m, rr);
		}
		if (!valid)
			continue;
		int priv;
		if (rr->type == 1 && rr->rdlen == 4) {
			special |= special_range_v4(rd, &priv) != NULL;
			if (a != NULL && naddr < ANS_ADDRS)
				memcpy(a->v4[naddr++], rd, 4);
		} else if (rr->type == 28 && rr->rdlen == 16) {
			special |= special_range_v6(rd, &priv) != NULL;
			if (a != NULL && naddr < ANS_ADDRS) {
				memcpy(a->v6[naddr], rd, 16);
				v6 |= 1u << naddr++;
			}
		}
	}
	sc->special = special;
	sc->pairs = pairs;
	if (a == NULL)
		return;
	a->rcode_flags = m->rcode & RECENT_RCODE;
	a->ip_ttl = p->ip_ttl;
	if (p->has_mac)
		memcpy(a->src_mac, p->src_mac, 6);
	else
		memset(a->src_mac, 0, 6);
	a->nan = (uint8_t)nan;
	a->naddr = (uint8_t)(naddr | v6 << 4);
	a->fp = (uint32_t)(fp ^ (fp >> 32));
}

/* The query's age, made - q_ts, as the slot keeps it: answers come within
 * the engine's query time-out, seconds, far below the 71 minutes that 32
 * bits of microseconds hold (an older one is cut to that). */
static inline uint32_t q_age_of(uint64_t made, uint64_t q_ts)
{
	uint64_t d = made > q_ts ? made - q_ts : 0;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The query's first transmission, from the slot. */
static uint64_t q_ts_of(const struct recent_slot *s)
{
	return s->made - s->q_age;
}

/* 1 when the answers packed in x and y (rr_scan()'s) are different ones:
 * their fingerprints or their numbers of answer RRs differ. The number is
 * compared as well because a fingerprint is only 32 bits: an answer that
 * a spoofer padded with an RR to match the sum still has one RR more. */
static inline int ans_differ(const struct recent_slot *x, const struct recent_slot *y)
{
	return x->fp != y->fp || x->nan != y->nan;
}

/* The time of a slot's first answer. */
static uint64_t first_ts(const struct recent_slot *s)
{
	uint32_t d = (uint32_t)s->ts_delta[0] | (uint32_t)s->ts_delta[1] << 8 |
		     (uint32_t)s->ts_delta[2] << 16;
	int32_t sd = (int32_t)(d ^ 0x800000u) - 0x800000;   /* sign-extended */
	return s->made + (uint64_t)(int64_t)sd;
}

static void first_ts_set(struct recent_slot *s, uint64_t ts)
{
	uint32_t d = (uint32_t)(ts - s->made);
	s->ts_delta[0] = (uint8_t)d;
	s->ts_delta[1] = (uint8_t)(d >> 8);
	s->ts_delta[2] = (uint8_t)(d >> 16);
}

/* Copies the answer packed in src (rr_scan()'s, at time ts) into the
 * first answer of dst, keeping dst's marks, its addresses only up to
 * their number. */
static void ans_copy(struct recent_slot *dst, const struct recent_slot *src, uint64_t ts)
{
	dst->fp = src->fp;
	dst->rcode_flags = (uint16_t)((dst->rcode_flags & ~RECENT_RCODE) |
				      (src->rcode_flags & RECENT_RCODE));
	memcpy(dst->src_mac, src->src_mac, 6);
	dst->ip_ttl = src->ip_ttl;
	dst->nan = src->nan;
	dst->naddr = src->naddr;
	for (unsigned i = 0; i < (src->naddr & 15u); i++) {
		if (src->naddr >> 4 & 1u << i)
			memcpy(dst->v6[i], src->v6[i], 16);
		else
			memcpy(dst->v4[i], src->v4[i], 4);
	}
	first_ts_set(dst, ts);
}

/* The answer packed in s (rr_scan()'s), at time ts, as evidence keeps it. */
static void ans_unpack(const struct recent_slot *s, uint64_t ts, struct integ_ans *a)
{
	memset(a, 0, sizeof(*a));
	a->ts = ts;
	a->nan = s->nan;
	a->rcode = s->rcode_flags & RECENT_RCODE;
	memcpy(a->src_mac, s->src_mac, 6);
	a->ip_ttl = s->ip_ttl;
	a->naddr = s->naddr & 15u;
	for (unsigned i = 0; i < a->naddr; i++) {
		if (s->naddr >> 4 & 1u << i)
			memcpy(a->addr[i], s->v6[i], 16);
		else
			ip_from_v4(a->addr[i], s->v4[i]);
	}
}

static int ans_has(const struct integ_ans *a, const uint8_t ip[16])
{
	for (unsigned i = 0; i < a->naddr; i++)
		if (memcmp(a->addr[i], ip, 16) == 0)
			return 1;
	return 0;
}

static void w_answer(struct jw *w, const char *key, const struct integ_ans *a)
{
	jw_obj(w, key);
	jw_time_text(w, "time", a->ts);
	const char *rc = dns_rcode_name(a->rcode);
	if (rc != NULL)
		jw_str(w, "rcode", rc);
	else
		jw_uint(w, "rcode", a->rcode);
	jw_uint(w, "answers", a->nan);
	jw_arr(w, "addresses");
	for (unsigned i = 0; i < a->naddr; i++)
		jw_ip_text(w, NULL, a->addr[i]);
	jw_end(w);
	jw_uint(w, "ip_ttl", a->ip_ttl);
	/* Not the fingerprint: it is keyed so that a spoofer cannot pad an
	 * answer to match, and the key's fast mix is no MAC; its values stay
	 * inside the sensor. */
	jw_mac_text(w, "source_mac", a->src_mac);
	jw_end(w);
}

/* For the unit tests (integrity.h): rr_scan() and ans_differ() on whole
 * messages. */
uint32_t integ_answer_fp(const struct dns_msg *m, uint64_t key)
{
	struct fp_key k;
	fp_key_init(&k, key);
	struct pkt p;
	memset(&p, 0, sizeof(p));
	struct recent_slot a;
	memset(&a, 0, sizeof(a));
	struct rr_scan sc;
	rr_scan(&k, &p, m, &a, &sc);
	return a.fp;
}

int integ_answers_differ(const struct dns_msg *x, const struct dns_msg *y, uint64_t key)
{
	struct fp_key k;
	fp_key_init(&k, key);
	struct pkt p;
	memset(&p, 0, sizeof(p));
	struct recent_slot a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	struct rr_scan sc;
	rr_scan(&k, &p, x, &a, &sc);
	rr_scan(&k, &p, y, &b, &sc);
	return ans_differ(&a, &b);
}

/* --- module state -------------------------------------------------------- */

/* The tables the packet path reads: the answered queries and the judged
 * names share one block, the per-device state has its own. Both come
 * zeroed from the kernel, their pages allocated as first touched, as
 * calloc's are: 16,384 device slots are 15 MiB, of which only the slots
 * in use take memory (a memset at start would make all of it resident). */
static void *table_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t shared_bytes(void)
{
	return RECENT_SLOTS * sizeof(struct recent_slot) + NAME_SLOTS * sizeof(struct integ_name);
}

static size_t dev_bytes(const struct integ *m)
{
	return (size_t)m->ndev * sizeof(*m->dev);
}

static void integ_destroy(void *mv)
{
	struct integ *m = mv;
	if (m == NULL)
		return;
	if (m->dev != NULL)
		munmap(m->dev, dev_bytes(m));
	if (m->recent != NULL)
		munmap(m->recent, shared_bytes());
	free(m);
}

static void *integ_create(struct engine *e, char *err, size_t errlen)
{
	struct integ *m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto fail;
	m->ndev = e->cfg->devices_max;
	m->race_us = 5 * SEC;   /* the shipped window until rules are set */
	m->dev = dev_bytes(m) > 0 ? table_alloc(dev_bytes(m)) : NULL;
	m->recent = table_alloc(shared_bytes());
	if (m->recent != NULL)
		m->names = (struct integ_name *)(m->recent + RECENT_SLOTS);
	m->seed = sw_siphash(e->sipkey, "integrity", 9) | 1u;
	m->name_seed = sw_siphash(e->sipkey, "integrity names", 15);
	zone_est_init();
	fp_key_init(&m->fp_key[0], sw_siphash(e->sipkey, "integrity answers", 17));
	fp_key_init(&m->fp_key[1], 0x5eed);
	if ((m->dev == NULL && m->ndev > 0) || m->recent == NULL)
		goto fail;
	return m;
fail:
	snprintf(err, errlen, "integrity: cannot allocate state for %u devices: out of memory",
		 e->cfg->devices_max);
	integ_destroy(m);
	return NULL;
}

static void integ_device_reset(void *mv, struct engine *e, uint32_t slot)
{
	struct integ *m = mv;
	(void)e;
	if (slot < m->ndev)
		memset(&m->dev[slot], 0, sizeof(m->dev[slot]));
}

static struct integ_dev *dev_of(struct integ *m, const struct dctx *c)
{
	return c->slot < m->ndev ? &m->dev[c->slot] : NULL;
}

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

/* Takes response.race window_s from the rules just set, so that answers
 * compare with a number rather than convert one. A window past what
 * ts_delta holds (the loader refuses one) is cut to it. */
static void integ_rules_changed(void *mv, struct engine *e)
{
	struct integ *m = mv;
	double s = e->rules != NULL ? rule(e, DET_RESPONSE_RACE)->p[DP_WINDOW_S] : 5;
	if (!(s <= RULES_RACE_WINDOW_MAX_S))
		s = RULES_RACE_WINDOW_MAX_S;
	m->race_us = (uint64_t)(s * (double)SEC);
}

static int recent_live(const struct integ *m, const struct recent_slot *s, uint64_t now)
{
	return s->made != 0 && now >= s->made && now - s->made <= m->race_us;
}

static unsigned hint_index(uint16_t port, uint16_t id)
{
	return (unsigned)((port * 0x9e37u) ^ id) & (HINTS - 1);
}

static struct recent_slot *recent_slot(const struct integ *m, uint64_t h)
{
	return &m->recent[h & (RECENT_SLOTS - 1)];
}

/* The entry of the query key hashed to h (recent_hash) when it is live,
 * else NULL. */
static struct recent_slot *recent_find(struct integ *m, uint64_t h, uint64_t now)
{
	struct recent_slot *s = recent_slot(m, h);
	if (s->tag != h || !recent_live(m, s, now))
		return NULL;
	return s;
}

/* An entry for the query key hashed to h, displacing whatever the slot
 * held: its count zeroed, its answer (`first`) and marks (rcode_flags)
 * left for the caller to write. */
static inline struct recent_slot *recent_make(struct integ *m, uint64_t h, uint64_t now)
{
	struct recent_slot *s = recent_slot(m, h);
	if (s->tag != h && recent_live(m, s, now))
		m->recent_displaced++;
	m->recent_used++;
	s->tag = h;
	s->made = now ? now : 1;
	s->responses = 0;
	return s;
}

static void alert_ctx_resp(struct engine *e, struct dctx *c, const struct pkt *p,
			   const struct dns_msg *msg, struct alert_ctx *a)
{
	post_alert_ctx(e, c, a);
	a->src_ip = p->dst_ip;          /* the device's address */
	a->dst_ip = p->src_ip;          /* the responder */
	a->dst_port = p->sport;
	a->src_port = p->dport;
	a->l4 = p->l4;
	if (msg != NULL && msg->has_q) {
		a->qname = msg->qname;
		a->qtype = msg->qtype;
	}
	if (msg != NULL)
		a->dns_id = msg->id;
}

/* --- response.race -------------------------------------------------------- */

/* Reports a race and frees its watch. */
static void race_emit(struct integ *m, struct engine *e, struct watch *w, const char *why)
{
	w->used = 0;
	m->nwatch--;
	struct device *d = tbl_at(e->devices, w->slot);
	if (d == NULL || d->id != w->dev_id) {
		m->watch_lost++;
		return;
	}
	struct dctx c;
	eng_dctx(e, d, &c);
	const struct det_rule *rl = rule(e, DET_RESPONSE_RACE);
	if (!alert_should_fire(&c.dd->alerts, DET_RESPONSE_RACE, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx(e, &c, &a);
	a.src_ip = w->qk.client;
	a.dst_ip = w->qk.server;
	a.dst_port = w->qk.server_port;
	a.src_port = w->qk.client_port;
	a.qname = w->qname;
	a.qtype = w->qtype;
	a.dns_id = w->qk.id;
	a.reason = why;
	char msg[400];
	const char *used = w->conn == 1 ? "then connected to an address of the first answer" :
			   w->conn == 2 ? "then connected to an address of the second answer" :
			   w->conn == 3 ? "then connected to an address both answers hold" :
			   "was not seen connecting to either";
	snprintf(msg, sizeof(msg), "Two different answers to one DNS query for %.200s reached the "
		 "device (a spoofing race); the device %s.", w->qname, used);
	struct jw jw;
	alert_begin(&jw, rl, &a, msg);
	w_hex16(&jw, "id", w->qk.id);
	jw_uint(&jw, "client_port", w->qk.client_port);
	jw_time_text(&jw, "query_time", w->q_ts);
	w_answer(&jw, "first", &w->a[0]);
	w_answer(&jw, "second", &w->a[1]);
	jw_int(&jw, "gap_us", (int64_t)(w->a[1].ts - w->a[0].ts));
	jw_uint(&jw, "responses", w->responses);
	/* A resolver may answer each copy of a retransmitted query, a CDN
	 * each with other addresses; so may a spoofer that matched the path.
	 * Still a race (two answers to one outstanding query), with what the
	 * analyst needs to tell which. */
	jw_uint(&jw, "query_retransmissions", w->retries);
	jw_bool(&jw, "same_source_mac", memcmp(w->a[0].src_mac, w->a[1].src_mac, 6) == 0);
	jw_bool(&jw, "same_ip_ttl", w->a[0].ip_ttl == w->a[1].ip_ttl);
	static const char *const used_names[] = { "none", "first", "second", "both" };
	jw_str(&jw, "connected_to", used_names[w->conn & 3]);
	if (w->conn) {
		jw_time_text(&jw, "connection_time", w->conn_ts);
		jw_ip_text(&jw, "connection_ip", w->conn_ip);
		jw_uint(&jw, "connection_port", w->conn_port);
		jw_str(&jw, "connection_proto", w->conn_proto == IPPROTO_TCP ? "tcp" : "udp");
	}
	alert_emit(e->out, &jw, &a);
}

COLD static void race_found(struct integ *m, struct engine *e, struct dctx *c, const struct pkt *p,
		       const struct dns_msg *msg, const struct qry_key *qk,
		       const struct recent_slot *r, const struct recent_slot *second)
{
	struct integ_dev *id = dev_of(m, c);
	if (id != NULL)
		id->races++;
	m->races++;
	struct watch *w = NULL;
	for (unsigned i = 0; i < WATCH_MAX && w == NULL; i++)
		if (!m->watch[i].used)
			w = &m->watch[i];
	if (w == NULL) {
		/* Full: the one closest to its deadline goes out now. */
		struct watch *old = &m->watch[0];
		for (unsigned i = 1; i < WATCH_MAX; i++)
			if (m->watch[i].deadline < old->deadline)
				old = &m->watch[i];
		m->watch_overflow++;
		race_emit(m, e, old, "watch_full");
		w = old;
	}
	memset(w, 0, sizeof(*w));
	w->used = 1;
	m->nwatch++;
	w->k = *c->k;
	w->slot = c->slot;
	w->dev_id = c->d->id;
	w->deadline = p->ts_us + WATCH_US;
	w->qk = *qk;
	text_copy(w->qname, sizeof(w->qname), msg->qname, msg->has_q ? msg->qname_len : 0);
	w->qtype = msg->qtype;
	w->q_ts = q_ts_of(r);
	w->responses = r->responses;
	w->retries = r->retries;
	ans_unpack(r, first_ts(r), &w->a[0]);
	ans_unpack(second, p->ts_us, &w->a[1]);
}

/* The device's next new connection after a race: a TCP SYN or a UDP packet
 * (not DNS) to an address of either answer. */
__attribute__((noinline))
static void watch_packet(struct integ *m, struct engine *e, const struct pkt *p)
{
	if (!p->has_mac)
		return;
	int syn = p->l4 == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
	int udp = p->l4 == IPPROTO_UDP && p->dport != PORT_DNS && p->sport != PORT_DNS;
	if (!syn && !udp)
		return;
	for (unsigned i = 0; i < WATCH_MAX; i++) {
		struct watch *w = &m->watch[i];
		if (!w->used || w->k.vlan != p->vlan || memcmp(w->k.mac, p->src_mac, 6) != 0)
			continue;
		int in0 = ans_has(&w->a[0], p->dst_ip), in1 = ans_has(&w->a[1], p->dst_ip);
		if (!in0 && !in1)
			continue;
		w->conn = (uint8_t)(in0 | (in1 << 1));
		w->conn_ts = p->ts_us;
		w->conn_proto = p->l4;
		w->conn_port = p->dport;
		memcpy(w->conn_ip, p->dst_ip, 16);
		race_emit(m, e, w, "race");
	}
}

static void watch_expire(struct integ *m, struct engine *e, uint64_t now, int all)
{
	for (unsigned i = 0; i < WATCH_MAX && m->nwatch > 0; i++)
		if (m->watch[i].used && (all || now >= m->watch[i].deadline))
			race_emit(m, e, &m->watch[i], "race");
}

/* --- response.reply-flood ------------------------------------------------- */

COLD static void reply_flood(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, const struct recent_slot *r)
{
	if (id != NULL)
		id->reply_floods++;
	const struct det_rule *rl = rule(e, DET_RESPONSE_REPLY_FLOOD);
	if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_REPLY_FLOOD, e->now, rl))
		return;
	struct alert_ctx a;
	alert_ctx_resp(e, c, p, msg, &a);
	char text[256];
	unsigned limit = (unsigned)rl->p[DP_MAX_RESPONSES] + r->retries;
	snprintf(text, sizeof(text), "%u DNS responses answered one query for %.150s, sent %u "
		 "times: more than the %u it can explain.", r->responses,
		 msg->has_q ? msg->qname : "?", 1u + r->retries, limit);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "responses", r->responses);
	jw_uint(&w, "max_responses", (uint64_t)rl->p[DP_MAX_RESPONSES]);
	jw_uint(&w, "query_retransmissions", r->retries);
	jw_uint(&w, "responses_allowed", limit);
	w_hex16(&w, "id", msg->id);
	jw_uint(&w, "client_port", p->dport);
	jw_time_text(&w, "query_time", q_ts_of(r));
	jw_time_text(&w, "first_response_time", first_ts(r));
	jw_time_text(&w, "last_response_time", p->ts_us);
	alert_emit(e->out, &w, &a);
}

/* --- response.txid-mismatch and response.unsolicited ---------------------- */

static int port_open(const struct integ_dev *id, uint16_t port, uint64_t ts)
{
	uint32_t now = s_of(ts);
	for (unsigned i = 0; i < QPORTS; i++)
		if (id->qport[i] == port && port != 0 &&
		    (uint16_t)((uint16_t)now - id->qport_s[i]) <= OPEN_PORT_US / SEC)
			return 1;
	return 0;
}

COLD static void txid_guess(struct engine *e, struct dctx *c, struct integ_dev *id,
		       const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_RESPONSE_TXID_MISMATCH);
	struct win *w = win_at(&id->tx, p->ts_us, rule_window_us(rl, 2));
	if (w->n == 0) {
		id->tx_port = p->dport;
		id->tx_first_id = msg->id;
		id->tx_sport = p->sport;
		memcpy(id->tx_server, p->src_ip, 16);
	}
	w->n++;
	w->bytes += p->payload_len;
	id->tx_last_id = msg->id;
	id->txid_mismatch++;
	if (w->n != (uint32_t)rl->p[DP_MIN_RESPONSES])
		return;
	if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_TXID_MISMATCH, e->now, rl))
		return;
	struct alert_ctx a;
	alert_ctx_resp(e, c, p, msg, &a);
	a.dst_ip = id->tx_server;
	a.dst_port = id->tx_sport;
	char text[256];
	snprintf(text, sizeof(text), "%u DNS responses with transaction IDs matching no "
		 "outstanding query reached the device's query port %u within %.3g s: "
		 "someone is guessing IDs to poison its answers.", w->n, id->tx_port,
		 (double)(w->last_ts - w->first_ts) / (double)SEC);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "port", id->tx_port);
	w_hex16(&jw, "first_id", id->tx_first_id);
	w_hex16(&jw, "last_id", id->tx_last_id);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_uint(&jw, "min_responses", (uint64_t)rl->p[DP_MIN_RESPONSES]);
	jw_real4(&jw, "window_s", rl->p[DP_WINDOW_S]);
	alert_emit(e->out, &jw, &a);
}

/* 1 when the high response.unsolicited alert may go out at `now`: none
 * went out yet, or the last one is the rule's rate_limit_s old (as
 * alert_should_fire() judges the medium one; a clock that stepped back
 * starts the interval again), and at least a window old: with no rate
 * limit (0) that is one a window, not one a response of the flood. */
static int unsolicited_may_escalate(struct integ_dev *id, uint64_t now, const struct det_rule *rl)
{
	if (!id->un_escalated)
		return 1;
	uint32_t now_s = s_of(now);
	if (now_s < id->un_escalated_s) {
		id->un_escalated_s = now_s;
		return 0;
	}
	double win = rl->p[DP_WINDOW_S];
	return now_s - id->un_escalated_s >= rl->rate_limit_s && now_s - id->un_escalated_s >= win;
}

COLD static void unsolicited(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_RESPONSE_UNSOLICITED);
	struct win *w = win_at(&id->un, p->ts_us, rule_window_us(rl, 60));
	if (w->n == 0) {
		id->un_sources = 0;
		memset(id->un_src, 0, 16);
	}
	if (w->n == 0 || memcmp(id->un_src, p->src_ip, 16) != 0)
		id->un_sources++;    /* changes of source: distinct sources in a run */
	memcpy(id->un_src, p->src_ip, 16);
	id->un_sport = p->sport;
	id->un_dport = p->dport;
	id->un_id = msg->id;
	id->un_qtype = msg->qtype;
	w->n++;
	w->bytes += p->ip_len;
	id->unsolicited++;
	uint32_t min = (uint32_t)rl->p[DP_MIN_RESPONSES];
	int high = w->n >= (uint32_t)rl->p[DP_ESCALATE_RESPONSES] ||
		   w->bytes >= (uint64_t)rl->p[DP_ESCALATE_BYTES];
	int fire = 0;
	if (w->n == min)
		fire = alert_should_fire(&c->dd->alerts, DET_RESPONSE_UNSOLICITED, e->now, rl);
	if (high && unsolicited_may_escalate(id, e->now, rl)) {
		/* Crossing into reflection-victim volume escalates even inside
		 * the rate limit of the medium alert, but once per rate-limit
		 * interval and not once per window: a reflection that goes on
		 * for hours restarts the window every minute, and a high alert
		 * a minute is what the rate limit is there to prevent. */
		id->un_escalated = 1;
		id->un_escalated_s = s_of(e->now);
		if (!fire)
			(void)alert_should_fire(&c->dd->alerts, DET_RESPONSE_UNSOLICITED, e->now, rl);
		fire = rl->enabled;
	}
	if (!fire)
		return;
	struct alert_ctx a;
	alert_ctx_resp(e, c, p, msg, &a);
	a.escalated = (uint8_t)high;
	a.reason = high ? "reflection_volume" : "unsolicited";
	char text[256];
	snprintf(text, sizeof(text), "%u DNS responses (%llu bytes) reached the device without "
		 "any query of its own to match them: it is the target of DNS reflection.", w->n,
		 (unsigned long long)w->bytes);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "bytes", w->bytes);
	jw_uint(&jw, "source_changes", id->un_sources);
	jw_uint(&jw, "source_port", id->un_sport);
	jw_uint(&jw, "device_port", id->un_dport);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_uint(&jw, "min_responses", min);
	jw_uint(&jw, "escalate_responses", (uint64_t)rl->p[DP_ESCALATE_RESPONSES]);
	jw_uint(&jw, "escalate_bytes", (uint64_t)rl->p[DP_ESCALATE_BYTES]);
	alert_emit(e->out, &jw, &a);
}

/* --- response.bogon-answer ------------------------------------------------ */

COLD static void bogon_check(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg)
{
	if (!msg->has_q)
		return;
	/* Special addresses are rare, so the name is judged local only once
	 * one is found (the verdict is the same as judging it first). */
	int local = -1;
	for (unsigned i = 0; i < msg->nrr; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->section != DNS_SEC_AN || (size_t)rr->rdata_off + rr->rdlen > msg->len)
			continue;
		const uint8_t *rd = msg->buf + rr->rdata_off;
		int priv;
		const char *range;
		if (rr->type == 1 && rr->rdlen == 4)
			range = special_range_v4(rd, &priv);
		else if (rr->type == 28 && rr->rdlen == 16)
			range = special_range_v6(rd, &priv);
		else
			continue;
		if (range == NULL)
			continue;
		uint8_t ip[16];
		if (rr->type == 1)
			ip_from_v4(ip, rd);
		else
			memcpy(ip, rd, 16);
		if (local < 0)
			local = integ_local_name(msg->qname, msg->qname_len);
		if (local)
			return;
		if (priv && rules_internal_zone(e->rules, msg->qname))
			continue;
		if (id != NULL)
			id->bogon_answers++;
		const struct det_rule *rl = rule(e, DET_RESPONSE_BOGON_ANSWER);
		if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_BOGON_ANSWER, e->now, rl))
			return;
		struct alert_ctx a;
		alert_ctx_resp(e, c, p, msg, &a);
		char addr[FMT_IP_LEN], text[320];
		fmt_ip(addr, ip);
		snprintf(text, sizeof(text), "The public name %.150s was answered with %s, a "
			 "special-purpose address (%s) no public name should resolve to.",
			 msg->qname, addr, range);
		struct jw w;
		alert_begin(&w, rl, &a, text);
		jw_ip_text(&w, "address", ip);
		jw_str(&w, "range", range);
		jw_bool(&w, "private_range", priv);
		jw_uint(&w, "ttl", rr->ttl);
		w_hex16(&w, "id", msg->id);
		jw_uint(&w, "ip_ttl", p->ip_ttl);
		if (p->has_mac)
			jw_mac_text(&w, "source_mac", p->src_mac);
		alert_emit(e->out, &w, &a);
		return;
	}
}

/* --- response.duplicate-rr ----------------------------------------------- */

/* A reader of one name's labels in the message, following compression
 * pointers by dns_name_at()'s rules (strictly backwards, DNS_PTR_HOPS at
 * most), without writing text. */
struct name_cur {
	size_t off;                   /* next length octet */
	size_t run;                   /* start of the current run of labels */
	unsigned hops;
};

/* The length of the next label (0: the root, the end), its octets at
 * m->buf + *lab; -1 where dns_name_at() would stop or fail. */
static int name_next(const struct dns_msg *m, struct name_cur *nc, size_t *lab)
{
	while (nc->off < m->len) {
		uint8_t c = m->buf[nc->off];
		if ((c & 0xc0) != 0xc0) {
			if (c > DNS_LABEL_MAX || nc->off + 1 + c > m->len)
				return -1;
			*lab = nc->off + 1;
			nc->off += 1 + (size_t)c;
			return c;
		}
		if (nc->off + 1 >= m->len || ++nc->hops > DNS_PTR_HOPS)
			return -1;
		size_t target = (size_t)(c & 0x3f) << 8 | m->buf[nc->off + 1];
		if (target >= nc->run)
			return -1;
		nc->run = nc->off = target;
	}
	return -1;
}

/* The names of one answer mostly differ (a CNAME chain's owners and
 * targets, which often share their first labels: www.vendor.com and
 * www.vendor.com.edgekey.net): this tells them apart without decompressing
 * both into text for each pair. */
int integ_names_differ(const struct dns_msg *m, size_t a, size_t b)
{
	struct name_cur x = { a, a, 0 }, y = { b, b, 0 };
	/* A name has at most 127 labels (255 octets). */
	for (unsigned n = 0; n < 128; n++) {
		size_t lx, ly;
		int cx = name_next(m, &x, &lx), cy = name_next(m, &y, &ly);
		if (cx < 0 || cy < 0)
			return 0;
		if (cx != cy)
			return 1;
		if (cx == 0)
			return 0;
		const uint8_t *px = m->buf + lx, *py = m->buf + ly;
		if (memcmp(px, py, (size_t)cx) == 0)
			continue;                 /* the same octets: the same label */
		for (int i = 0; i < cx; i++) {
			uint8_t u = px[i], v = py[i];
			if (u >= 'A' && u <= 'Z')
				u = (uint8_t)(u + 32);
			if (v >= 'A' && v <= 'Z')
				v = (uint8_t)(v + 32);
			if (u != v)
				return 1;
		}
	}
	return 0;
}

static int owner_equal(const struct dns_msg *m, const struct dns_rr *a, const struct dns_rr *b)
{
	if (a->name_off == b->name_off)
		return 1;
	if (integ_names_differ(m, a->name_off, b->name_off))
		return 0;
	char x[DNS_NAME_TEXT], y[DNS_NAME_TEXT];
	int nx = dns_name_at(m->buf, m->len, a->name_off, x, sizeof(x), 1, NULL);
	int ny = dns_name_at(m->buf, m->len, b->name_off, y, sizeof(y), 1, NULL);
	return nx >= 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0;
}

static int rdata_equal(const struct dns_msg *m, const struct dns_rr *a, const struct dns_rr *b)
{
	if (a->rdlen == b->rdlen && bytes_equal(m->buf + a->rdata_off, m->buf + b->rdata_off, a->rdlen))
		return 1;
	if (!name_rdata(a->type))
		return 0;
	/* Names in RDATA: compare them decompressed (a duplicate written
	 * once plainly and once as a pointer is still a duplicate). */
	if (rdata_names_differ(m, a, b))
		return 0;
	size_t skip = a->type == 15 ? 2 : 0;
	char x[DNS_NAME_TEXT], y[DNS_NAME_TEXT];
	int nx = dns_name_at(m->buf, m->len, (size_t)a->rdata_off + skip, x, sizeof(x), 1, NULL);
	int ny = dns_name_at(m->buf, m->len, (size_t)b->rdata_off + skip, y, sizeof(y), 1, NULL);
	return nx >= 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0;
}

COLD static void duplicate_check(struct engine *e, struct dctx *c, struct integ_dev *id,
			    const struct pkt *p, const struct dns_msg *msg)
{
	unsigned n = msg->nrr;
	if (n < 2)
		return;
	/* Only two RRs of one section, type and class can be duplicates: one
	 * number per RR says which, so that the pairs (most of them of
	 * different types) are told apart by one comparison. An RR whose
	 * RDATA runs past the message pairs with none. */
	uint64_t key[DNS_MAX_RR];
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *x = &msg->rr[i];
		key[i] = (size_t)x->rdata_off + x->rdlen > msg->len ? UINT64_MAX - i :
			 (uint64_t)x->section << 32 | (uint64_t)x->type << 16 | x->rclass;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct dns_rr *x = &msg->rr[i];
		for (unsigned j = i + 1; j < n; j++) {
			const struct dns_rr *y = &msg->rr[j];
			if (key[j] != key[i])
				continue;
			int same = rdata_equal(msg, x, y);
			/* RRSIGs over different types share an owner and type
			 * but carry their covered RRset's TTL (RFC 4034 §3). */
			int ttl_differs = x->ttl != y->ttl && x->type != T_RRSIG;
			if (!same && !ttl_differs)
				continue;
			if (!owner_equal(msg, x, y))
				continue;
			if (id != NULL)
				id->duplicate_rr++;
			const struct det_rule *rl = rule(e, DET_RESPONSE_DUPLICATE_RR);
			if (!alert_should_fire(&c->dd->alerts, DET_RESPONSE_DUPLICATE_RR, e->now, rl))
				return;
			unsigned copies = 0;
			for (unsigned k = 0; k < msg->nrr; k++)
				if (msg->rr[k].section == x->section && msg->rr[k].type == x->type &&
				    rdata_equal(msg, x, &msg->rr[k]) && owner_equal(msg, x, &msg->rr[k]))
					copies++;
			char owner[DNS_NAME_TEXT], rd[256], text[512];
			if (dns_name_at(msg->buf, msg->len, x->name_off, owner, sizeof(owner), 1, NULL) < 0)
				snprintf(owner, sizeof(owner), "?");
			if (dns_rdata_text(msg, x, rd, sizeof(rd)) < 0)
				snprintf(rd, sizeof(rd), "?");
			const char *tn = dns_type_name(x->type);
			char tnum[16];
			snprintf(tnum, sizeof(tnum), "TYPE%u", x->type);
			if (tn == NULL)
				tn = tnum;
			static const char *const secs[] = { "?", "answer", "authority", "additional" };
			if (same)
				snprintf(text, sizeof(text), "A DNS response holds the record %.160s %s "
					 "%.160s %u times in its %s section.", owner, tn, rd, copies,
					 secs[x->section & 3]);
			else
				snprintf(text, sizeof(text), "A DNS response holds the %.160s %s record set "
					 "with unequal TTLs (%u and %u s).", owner, tn, x->ttl, y->ttl);
			struct alert_ctx a;
			alert_ctx_resp(e, c, p, msg, &a);
			a.reason = same ? "duplicate_rr" : "unequal_ttls";
			struct jw w;
			alert_begin(&w, rl, &a, text);
			jw_str(&w, "owner", owner);
			jw_str(&w, "type", tn);
			jw_str(&w, "section", secs[x->section & 3]);
			jw_str(&w, "rdata", rd);
			jw_uint(&w, "copies", same ? copies : 1);
			jw_arr(&w, "ttls");
			jw_uint(&w, NULL, x->ttl);
			jw_uint(&w, NULL, y->ttl);
			jw_end(&w);
			jw_uint(&w, "records", msg->nrr);
			w_hex16(&w, "id", msg->id);
			alert_emit(e->out, &w, &a);
			return;
		}
	}
}

/* --- amplification.ratio -------------------------------------------------- */

static int heavy_index(uint16_t qtype)
{
	switch (qtype) {
	case T_ANY: return 0;
	case T_TXT: return 1;
	case T_DNSKEY: return 2;
	case T_RRSIG: return 3;
	default: return -1;
	}
}

/* The size of the query a response answers: its header and question (RFC
 * 1035 §4.1: a response repeats the question), plus an OPT RR of 11 bytes
 * when the response has one (RFC 6891 §7: only then may the query have). */
static uint32_t query_size_of(const uint8_t *buf, size_t len, int has_opt)
{
	size_t off = 12;
	while (off < len && buf[off] != 0) {
		if ((buf[off] & 0xc0) == 0xc0) {
			off += 1;
			break;
		}
		off += (size_t)buf[off] + 1;
	}
	off += 1 + 4;
	if (off > len)
		off = len;
	return (uint32_t)off + (has_opt ? 11u : 0u);
}

COLD static void amp_add(struct engine *e, struct dctx *c, struct win *w, uint64_t *qbytes,
		    uint32_t *types, int hi, uint64_t ts, uint32_t rbytes, uint32_t qsize,
		    int from, const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_AMPLIFICATION_RATIO);
	win_at(w, ts, rule_window_us(rl, 300));
	if (w->n == 0) {
		*qbytes = 0;
		memset(types, 0, 4 * sizeof(*types));
	}
	w->n++;
	w->bytes += rbytes;
	*qbytes += qsize;
	types[hi]++;
	double ratio = *qbytes ? (double)w->bytes / (double)*qbytes : 0;
	if (w->bytes < (uint64_t)rl->p[DP_MIN_BYTES] || ratio <= rl->p[DP_RATIO])
		return;
	if (!alert_should_fire(&c->dd->alerts, DET_AMPLIFICATION_RATIO, e->now, rl))
		return;
	struct alert_ctx a;
	if (from)
		post_alert_ctx_sent(e, c, p, NULL, &a);
	else
		alert_ctx_resp(e, c, p, msg, &a);
	a.reason = from ? "from_device" : "towards_device";
	char text[320];
	snprintf(text, sizeof(text), "DNS responses %s the device carry %.1f times the bytes of "
		 "the queries they answer (%llu bytes of ANY/TXT/DNSKEY/RRSIG answers): "
		 "amplification traffic.", from ? "sent by" : "sent to", ratio,
		 (unsigned long long)w->bytes);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_str(&jw, "direction", from ? "from_device" : "towards_device");
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "response_bytes", w->bytes);
	jw_uint(&jw, "query_bytes", *qbytes);
	jw_real4(&jw, "ratio", ratio);
	jw_obj(&jw, "qtypes");
	jw_uint(&jw, "ANY", types[0]);
	jw_uint(&jw, "TXT", types[1]);
	jw_uint(&jw, "DNSKEY", types[2]);
	jw_uint(&jw, "RRSIG", types[3]);
	jw_end(&jw);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_real4(&jw, "min_ratio", rl->p[DP_RATIO]);
	jw_uint(&jw, "min_bytes", (uint64_t)rl->p[DP_MIN_BYTES]);
	jw_real4(&jw, "window_s", (double)rule_window_us(rl, 300) / (double)SEC);
	alert_emit(e->out, &jw, &a);
}

/* --- the response hook ---------------------------------------------------- */

static void integ_response(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
			   const struct dns_msg *msg, const struct qry_key *qk,
			   struct qry *q)
{
	struct integ *m = mv;
	m->deterministic = e->deterministic;
	struct integ_dev *id = dev_of(m, c);
	int udp = p->l4 == IPPROTO_UDP;
	/* Every UDP answer reads and writes its slot of the answered table:
	 * start that load now, to overlap the pass over the RRs. */
	uint64_t rh = 0;
	int spoofable = udp && id != NULL;
	if (spoofable) {
		rh = recent_hash(m, qk);
		__builtin_prefetch(recent_slot(m, rh), 1);
	}
	/* The answer of a matched response goes straight into its slot (the
	 * slot's own fields, which recent_make() reads, are not touched yet);
	 * an unmatched one is compared with the slot's first. */
	struct recent_slot a, *ans = NULL;
	if (spoofable)
		ans = q != NULL ? recent_slot(m, rh) : &a;
	struct rr_scan sc;
	rr_scan(&m->fp_key[m->deterministic != 0], p, msg, ans, &sc);
	if (sc.special)
		bogon_check(e, c, id, p, msg);
	if (sc.pairs)
		duplicate_check(e, c, id, p, msg);
	if (id == NULL)
		return;
	if (udp) {
		int hi = msg->has_q ? heavy_index(msg->qtype) : -1;
		if (hi >= 0)
			amp_add(e, c, &id->amp_in, &id->amp_in_q, id->amp_in_types, hi, p->ts_us,
				p->payload_len, query_size_of(msg->buf, msg->len, msg->has_opt), 0, p, msg);
	}
	/* Spoofing needs UDP: a TCP answer can only come over the connection
	 * the device opened. */
	if (!udp)
		return;
	if (q != NULL) {
		/* The first answer: remember it for the race window. A key
		 * already there is an older transaction that reused port and
		 * ID (devices with a constant ID): it starts over. */
		struct recent_slot *r = recent_make(m, rh, p->ts_us);
		first_ts_set(r, p->ts_us);
		r->q_age = q_age_of(r->made, q->first_ts);
		r->retries = q->retries;
		r->dev_id = c->d->id;
		r->responses = 1;
		return;
	}
	struct recent_slot *r = recent_find(m, rh, p->ts_us);
	if (r != NULL && r->dev_id == c->d->id) {
		if ((r->rcode_flags & RECENT_LATE) && r->responses == 0) {
			/* The first answer to a query that had timed out. */
			ans_copy(r, &a, p->ts_us);
			r->responses = 1;
			id->late++;
			m->late++;
			return;
		}
		r->responses++;
		if (ans_differ(r, &a)) {
			if (!(r->rcode_flags & RECENT_RACED)) {
				r->rcode_flags |= RECENT_RACED;
				race_found(m, e, c, p, msg, qk, r, &a);
			}
		} else {
			id->duplicates++;
		}
		/* Each retransmission of the query may draw its own answer
		 * (RFC 1035 §4.2.1): a query sent four times and answered
		 * four times is no flood. */
		if (r->responses > (uint32_t)rule(e, DET_RESPONSE_REPLY_FLOOD)->p[DP_MAX_RESPONSES] +
				   r->retries &&
		    !(r->rcode_flags & RECENT_FLOODED)) {
			r->rcode_flags |= RECENT_FLOODED;
			reply_flood(e, c, id, p, msg, r);
		}
		return;
	}
	if (port_open(id, p->dport, p->ts_us)) {
		m->txid_mismatch++;
		txid_guess(e, c, id, p, msg);
	} else {
		m->unsolicited++;
		unsolicited(e, c, id, p, msg);
	}
}

static void integ_unanswered(void *mv, struct engine *e, struct dctx *c,
			     const struct qry_key *qk, const struct qry *q)
{
	struct integ *m = mv;
	m->deterministic = e->deterministic;
	if (q->transport != TRANS_UDP)
		return;
	/* A late answer is then a late answer, not an unsolicited one. */
	struct recent_slot *r = recent_make(m, recent_hash(m, qk), e->now);
	r->fp = 0;
	r->rcode_flags = RECENT_LATE;
	memset(r->src_mac, 0, 6);
	r->ip_ttl = 0;
	r->nan = 0;
	r->naddr = 0;
	first_ts_set(r, r->made);
	r->q_age = q_age_of(r->made, q->first_ts);
	r->retries = q->retries;
	r->dev_id = c->d->id;
}

/* --- exfil.suspect-names and policy.new-domain ------------------------------ */

/* The registered domain of the query, its text cut to ZONE_TEXT. */
static void zone_text(char dst[ZONE_TEXT], const struct dns_msg *msg, size_t reg)
{
	size_t zl = msg->qname_len - reg;
	if (zl > ZONE_TEXT - 1)
		zl = ZONE_TEXT - 1;
	memcpy(dst, msg->qname + reg, zl);
	dst[zl] = '\0';
}

COLD static void exfil_alert(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, int zone_alert,
			unsigned zone_est, size_t reg)
{
	/* A zone past ZONE_SMALL bits has its name; one below is the zone of
	 * this query (a device only stays in a zone of 4 or more bits while
	 * asking others). */
	char zbuf[ZONE_TEXT];
	const char *zone = id->zone;
	if (id->zone_set <= ZONE_SMALL) {
		zone_text(zbuf, msg, reg);
		zone = zbuf;
	}
	const struct det_rule *rl = rule(e, DET_EXFIL_SUSPECT_NAMES);
	if (!alert_should_fire(&c->dd->alerts, DET_EXFIL_SUSPECT_NAMES, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	a.reason = zone_alert ? "unique_subdomains" : "suspect_labels";
	char text[320];
	if (zone_alert)
		snprintf(text, sizeof(text), "The device asked about %u different names under %s "
			 "within %.0f minutes: DNS tunnelling, a DGA or C2 traffic.", zone_est,
			 zone, rl->p[DP_WINDOW_S] / 60);
	else
		snprintf(text, sizeof(text), "The device asked %u names with long or high-entropy "
			 "labels within %.0f minutes (such as %.60s): DNS tunnelling, a DGA or C2 "
			 "traffic.", id->ex.n, rl->p[DP_WINDOW_S] / 60, id->ex_sample);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "suspect_names", id->ex.n);
	jw_uint(&w, "long_label_names", id->ex_long);
	jw_uint(&w, "high_entropy_names", id->ex_entropy);
	jw_uint(&w, "longest_label", id->ex_max_label);
	jw_real4(&w, "max_entropy", id->ex_max_entropy_c / 100.0);
	if (id->ex_sample[0])
		jw_str(&w, "sample", id->ex_sample);
	jw_str(&w, "zone", zone);
	jw_uint(&w, "zone_unique_names", zone_est);
	if (id->ex.n)
		jw_time_text(&w, "first_time", id->ex.first_ts);
	jw_uint(&w, "max_label_len", (uint64_t)rl->p[DP_MAX_LABEL_LEN]);
	jw_real4(&w, "entropy_bits", rl->p[DP_ENTROPY_BITS]);
	jw_uint(&w, "min_names", (uint64_t)rl->p[DP_MIN_NAMES]);
	jw_uint(&w, "zone_unique_min", (uint64_t)rl->p[DP_MIN_SUBDOMAINS]);
	alert_emit(e->out, &w, &a);
}


/* Clears the zone's bits: four 8-byte stores rather than a memset call. */
static inline void zone_clear(struct integ_dev *id)
{
	static const uint64_t zero[ZONE_BITS / 64];
	memcpy(id->zone_bits, zero, sizeof(id->zone_bits));
}

/* Sets bit b of the zone (or tells it was set: returns 0 then). */
static int zone_bit_set(struct integ_dev *id, unsigned b, const struct dns_msg *msg, size_t reg)
{
	unsigned set = id->zone_set;
	if (set <= ZONE_SMALL) {
		for (unsigned i = 0; i < set; i++)
			if (id->zone_small[i] == b)
				return 0;
		if (set < ZONE_SMALL) {
			id->zone_small[set] = (uint8_t)b;
			return 1;
		}
		/* One more than the first line holds: into the bitmap, and the
		 * zone's name with it, as it may now be followed past queries
		 * of other zones. */
		zone_clear(id);
		for (unsigned i = 0; i < ZONE_SMALL; i++)
			id->zone_bits[id->zone_small[i] / 8] |= (uint8_t)(1u << (id->zone_small[i] % 8));
		zone_text(id->zone, msg, reg);
	} else if (id->zone_bits[b / 8] & (1u << (b % 8))) {
		return 0;
	}
	id->zone_bits[b / 8] |= (uint8_t)(1u << (b % 8));
	return 1;
}

/* A name with a long or high-entropy label: counted once per distinct
 * name (of the last EXFIL_SEEN) in the window; returns 1 when it makes
 * the rule's count. Rare, so out of the query hook's way. */
COLD static int exfil_suspect(const struct det_rule *rl, struct integ_dev *id, const struct pkt *p,
			      const struct dns_msg *msg, uint64_t win, int is_long, int is_ent,
			      size_t longest, double ent)
{
	const char *n = msg->qname;
	uint32_t fh = (uint32_t)h64(n, msg->qname_len, 13) | 1u;
	int seen = 0;
	for (unsigned i = 0; i < EXFIL_SEEN; i++)
		seen |= id->ex_seen[i] == fh;
	if (seen)
		return 0;
	id->ex_seen[id->ex_seen_next] = fh;
	id->ex_seen_next = (uint8_t)((id->ex_seen_next + 1) % EXFIL_SEEN);
	struct win *w = win_at(&id->ex, p->ts_us, win);
	if (w->n == 0) {
		id->ex_long = id->ex_entropy = 0;
		id->ex_max_label = 0;
		id->ex_max_entropy_c = 0;
	}
	w->n++;
	id->ex_long += is_long;
	id->ex_entropy += is_ent;
	if (longest > id->ex_max_label)
		id->ex_max_label = (uint8_t)longest;
	if (ent * 100 > id->ex_max_entropy_c)
		id->ex_max_entropy_c = (uint16_t)(ent * 100);
	text_copy(id->ex_sample, sizeof(id->ex_sample), n, strlen(n));
	id->suspect_names++;
	return w->n == (uint32_t)rl->p[DP_MIN_NAMES];
}

static void exfil_check(struct engine *e, struct dctx *c, struct integ_dev *id,
			const struct pkt *p, const struct dns_msg *msg, const struct integ_name *ni)
{
	const struct det_rule *rl = rule(e, DET_EXFIL_SUSPECT_NAMES);
	if (!rl->enabled)
		return;
	uint64_t win = rule_window_us(rl, 600);
	size_t reg = ni->reg;
	uint32_t zh = ni->dom_hash;
	size_t below = reg > 0 ? reg - 1 : 0;   /* the labels left of it, no dot */
	/* Unique subdomains of one zone: the zone followed is replaced by
	 * another only while it has few names, or after its window. */
	if (id->zone_hash != zh) {
		int stale = p->ts_us - id->zone_start > win;
		_Static_assert(ZONE_SMALL < 4, "a zone followed past others has its bitmap");
		if (id->zone_hash == 0 || stale || id->zone_set < 4) {
			/* A device that asks several zones in turn switches here
			 * on most queries: the first line only. */
			id->zone_hash = zh;
			id->zone_start = p->ts_us;
			id->zone_set = 0;
			id->zone_last = 0;
		}
	} else if (p->ts_us - id->zone_start > win) {
		id->zone_start = p->ts_us;
		id->zone_set = 0;
		id->zone_last = 0;
	}
	int zone_alert = 0;
	unsigned est = 0;
	/* The name asked last has its bit set: no need to read the bits (a
	 * second cache line) for a name asked again. */
	uint32_t nh = ni->below_hash;
	if (id->zone_hash == zh && below > 0 && (nh != id->zone_last || nh == 0)) {
		if (zone_bit_set(id, nh % ZONE_BITS, msg, reg)) {
			unsigned before = zone_estimate(id->zone_set);
			id->zone_set++;
			est = zone_estimate(id->zone_set);
			unsigned min = (unsigned)rl->p[DP_MIN_SUBDOMAINS];
			zone_alert = before < min && est >= min;
		}
		id->zone_last = nh;
	}
	/* Long or high-entropy labels: below the registered domain, or its
	 * own first label (integ_name_judge()). */
	size_t longest = ni->longest;
	double ent = ni->entropy;
	int is_long = longest > (size_t)rl->p[DP_MAX_LABEL_LEN];
	int is_ent = ent > rl->p[DP_ENTROPY_BITS];
	int name_alert = 0;
	if (is_long || is_ent)
		name_alert = exfil_suspect(rl, id, p, msg, win, is_long, is_ent, longest, ent);
	if (zone_alert || name_alert)
		exfil_alert(e, c, id, p, msg, zone_alert && !name_alert,
			    zone_alert ? est : zone_estimate(id->zone_set), reg);
}

/* domain_set() for h (odd) over the whole array. */
static int domain_hashed(struct integ *m, struct integ_dev *id, uint32_t h, int add)
{
	uint32_t i = h % DOMAINS_MAX;
	for (unsigned n = 0; n < DOMAINS_MAX; n++, i = (i + 1) % DOMAINS_MAX) {
		if (id->domains[i] == h)
			return 1;
		if (id->domains[i] == 0) {
			/* Kept one slot short of full so probes always end. */
			if (!add)
				return 0;
			if (id->ndomains + 1u >= DOMAINS_MAX) {
				if (!id->domains_full)
					m->domain_sets_full++;
				id->domains_full = 1;
				return 0;
			}
			id->domains[i] = h;
			id->ndomains++;
			return 0;
		}
	}
	return 0;
}

/* Finds (or with add, inserts) a registered-domain hash in the device's set;
 * returns 1 when it was there. While it holds fewer than DOMAINS_LINE the
 * set is open-addressed within the array's first line, past that over the
 * whole array: the same hashes, full at the same count. */
static int domain_set(struct integ *m, struct integ_dev *id, uint32_t h, int add)
{
	h |= 1u;  /* 0 marks an empty slot */
	unsigned n = id->ndomains;
	if (n >= DOMAINS_LINE)
		return domain_hashed(m, id, h, add);
	uint32_t i = h % DOMAINS_LINE;
	for (; id->domains[i] != 0; i = (i + 1) % DOMAINS_LINE)
		if (id->domains[i] == h)
			return 1;
	if (!add)
		return 0;
	_Static_assert(DOMAINS_LINE < DOMAINS_MAX - 1, "the first line's set is never full");
	if (n + 1 < DOMAINS_LINE) {
		id->domains[i] = h;     /* one slot stays empty: probes end */
		id->ndomains++;
		return 0;
	}
	/* The line is full: spread its set over the array. */
	uint32_t line[DOMAINS_LINE];
	static const uint32_t empty[DOMAINS_LINE];
	memcpy(line, id->domains, sizeof(line));
	memcpy(id->domains, empty, sizeof(empty));
	id->ndomains = 0;
	for (i = 0; i < DOMAINS_LINE; i++)
		if (line[i] != 0)
			(void)domain_hashed(m, id, line[i], 1);
	return domain_hashed(m, id, h, add);
}

static void new_domain(struct integ *m, struct engine *e, struct dctx *c, struct integ_dev *id,
		       const struct pkt *p, const struct dns_msg *msg, long reg, uint32_t h)
{
	const struct det_rule *rl = rule(e, DET_POLICY_NEW_DOMAIN);
	if (!rl->enabled)
		return;
	const char *dom = msg->qname + reg;
	size_t dlen = msg->qname_len - (size_t)reg;
	/* The same domain as the query before (A then AAAA, a name asked
	 * again): known, and no need to probe the set. */
	if (h == id->last_domain && id->last_domain != 0)
		return;
	uint32_t left = id->last_domain;
	id->last_domain = h;
	/* A device alternates between a few domains, and the one asked before
	 * the last is in the set already: the set (more cache lines) stays
	 * unread then. While the set has never been full, every domain once
	 * asked last went into it. */
	if (!id->domains_full && h == id->known_domain && h != 0) {
		id->known_domain = left;
		return;
	}
	int known = domain_set(m, id, h, 1);
	if (!id->domains_full)
		id->known_domain = left;
	uint64_t learn = (uint64_t)(rl->p[DP_LEARNING_S] * (double)SEC);
	int learning = p->ts_us < c->d->first_seen + learn;
	if (known || learning || id->ndomains <= 1)
		return;
	/* A full set cannot tell new from forgotten: no verdict then. */
	if (id->domains_full)
		return;
	id->new_domains++;
	if (!alert_should_fire(&c->dd->alerts, DET_POLICY_NEW_DOMAIN, e->now, rl))
		return;
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, msg, &a);
	char text[320];
	snprintf(text, sizeof(text), "After %.0f days of learning, the device resolved %.*s, a "
		 "domain it had never resolved before.", rl->p[DP_LEARNING_S] / 86400.0,
		 (int)(dlen > 200 ? 200 : dlen), dom);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_strn(&w, "domain", dom, dlen);
	jw_uint(&w, "domains_known", id->ndomains - 1u);
	jw_time_text(&w, "device_first_seen", c->d->first_seen);
	jw_time_text(&w, "learning_ended", c->d->first_seen + learn);
	jw_uint(&w, "learning_s", (uint64_t)rl->p[DP_LEARNING_S]);
	alert_emit(e->out, &w, &a);
}

/* --- the query hook ------------------------------------------------------- */

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

unsigned integ_port_find(const uint16_t ports[8], uint16_t port)
{
	return qport_find(ports, port);
}

/* The judged name of a query: its slot, by the engine's name hash, when
 * it holds the name, else judged anew into it. The tag is a hash of the
 * whole name under a seed drawn at start (one in 2^64 that two names
 * share it), so a collision found offline does not carry over. */
static inline const struct integ_name *name_lookup(struct integ_name *slots, uint32_t nslots,
						   uint64_t seed, uint32_t hash,
						   const char *name, size_t len, int *miss)
{
	struct integ_name *ni = &slots[hash & (nslots - 1)];
	uint64_t tag = h64(name, len, seed) | 1u;
	*miss = ni->tag != tag;
	if (*miss) {
		integ_name_judge(name, len, ni);
		ni->tag = tag;
	}
	return ni;
}

const struct integ_name *integ_name_lookup(struct integ_name *slots, uint32_t nslots,
					   uint64_t seed, uint32_t hash, const char *name,
					   size_t len, int *miss)
{
	return name_lookup(slots, nslots, seed, hash, name, len, miss);
}

void integ_name_judge(const char *name, size_t len, struct integ_name *ni)
{
	ni->entropy = 0;
	ni->dom_hash = ni->below_hash = 0;
	ni->reg = 0;
	ni->longest = 0;
	ni->skip = 1;
	if (len == 0 || integ_local_name(name, len))
		return;
	long reg = integ_registered_domain(name, len);
	if (reg < 0)
		return;
	size_t below = reg > 0 ? (size_t)reg - 1 : 0;   /* the labels left of it, no dot */
	ni->skip = 0;
	ni->reg = (uint16_t)reg;
	/* One hash of the registered domain serves exfil's zone and the
	 * domain set. */
	ni->dom_hash = (uint32_t)h64(name + reg, len - (size_t)reg, 7);
	if (below > 0) {
		ni->below_hash = (uint32_t)h64(name, below, 11);
		ni->longest = (uint8_t)integ_longest_label(name, below);
		ni->entropy = integ_entropy(name, below);
	}
	/* The registered domain's own first label is judged too: a DGA
	 * registers its random names (<random>.com), with nothing below
	 * them. It does not count towards the zone's unique subdomains: it
	 * is the zone. Its length and entropy are taken with those of the
	 * labels below, whichever is larger. */
	const char *dom = name + reg;
	const char *dot = memchr(dom, '.', len - (size_t)reg);
	size_t dlen = dot != NULL ? (size_t)(dot - dom) : len - (size_t)reg;
	size_t dlong = integ_longest_label(dom, dlen);
	if (dlong > ni->longest)
		ni->longest = (uint8_t)(dlong < UINT8_MAX ? dlong : UINT8_MAX);
	double dent = integ_entropy(dom, dlen);
	if (dent > ni->entropy)
		ni->entropy = dent;
	/* No length gate on the entropy: n characters carry at most
	 * log2(n) bits each, so a gate of 16 characters (what there was) is
	 * right only for entropy_bits 4 and misses higher-entropy short
	 * labels under a lower setting. A name is judged once (the cache of
	 * judged names), so measuring short texts too costs little. */
}

/* Starts the loads of what the query hook will touch: the device's first
 * line, the name's slot, and the first line of the device's domain set
 * (all of it while the set is small, DOMAINS_LINE). The device's second
 * line, its zone's bitmap, is written only for zones with more than
 * ZONE_SMALL names. Nothing is read here, which would wait for it. */
static void integ_prefetch(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
			   const struct dns_msg *msg, const struct qry_key *qk)
{
	struct integ *m = mv;
	(void)e;
	(void)p;
	(void)msg;
	if (c->slot >= m->ndev)
		return;
	struct integ_dev *id = &m->dev[c->slot];
	__builtin_prefetch(id, 1);
	__builtin_prefetch(&m->names[qk->qname_hash & (NAME_SLOTS - 1)]);
	__builtin_prefetch(id->domains);
}

static void integ_query(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
			const struct dns_msg *msg, const struct qry_key *qk,
			struct qry *q, int is_new)
{
	struct integ *m = mv;
	struct integ_dev *id = dev_of(m, c);
	(void)q;
	if (id == NULL)
		return;
	if (p->l4 == IPPROTO_UDP) {
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
	if (!is_new || !msg->has_q || msg->qname_len == 0)
		return;
	int miss;
	const struct integ_name *ni = name_lookup(m->names, NAME_SLOTS, m->name_seed,
						  qk->qname_hash, msg->qname, msg->qname_len,
						  &miss);
	m->name_lookups++;
	m->name_misses += (unsigned)miss;
	if (ni->skip)
		return;
	exfil_check(e, c, id, p, msg, ni);
	new_domain(m, e, c, id, p, msg, ni->reg, ni->dom_hash);
}

/* --- amplification.device-serves-dns (packet hook) ------------------------ */

static int designated_ip(struct engine *e, uint16_t vlan, const uint8_t ip[16])
{
	const struct segment *s = &e->segs[vlan % SEG_COUNT];
	for (unsigned i = 0; i < s->nres && i < SEG_MAX_RESOLVERS; i++)
		if (memcmp(s->res[i].ip, ip, 16) == 0)
			return 1;
	return rules_is_sanctioned(e->rules, ip);
}

static void serves_alert(struct engine *e, struct dctx *c, struct integ_dev *id,
			 const struct pkt *p, int high)
{
	const struct det_rule *rl = rule(e, DET_AMPLIFICATION_DEVICE_SERVES_DNS);
	int fire = alert_should_fire(&c->dd->alerts, DET_AMPLIFICATION_DEVICE_SERVES_DNS, e->now, rl);
	/* The first answer to an outside client escalates even inside the
	 * rate limit of a medium alert. */
	if (high && id->sv_alerted < 2)
		fire = rl->enabled;
	if (!fire)
		return;
	id->sv_alerted = (uint8_t)(high ? 2 : (id->sv_alerted ? id->sv_alerted : 1));
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, NULL, &a);
	a.escalated = (uint8_t)high;
	a.reason = high ? "outside_clients" : "local_clients";
	uint16_t dnsid = (uint16_t)(p->payload[0] << 8 | p->payload[1]);
	a.dns_id = dnsid;
	char addr[FMT_IP_LEN], text[320];
	fmt_ip(addr, p->dst_ip);
	if (high)
		snprintf(text, sizeof(text), "The device answers DNS queries on port 53 for clients "
			 "outside its own network (%s): an open resolver or reflector.", addr);
	else
		snprintf(text, sizeof(text), "The device answers DNS queries on port 53 for clients "
			 "on its own network (%s): it acts as a DNS server.", addr);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "responses_local", id->sv_local);
	jw_uint(&w, "responses_outside", id->sv_public);
	jw_ip_text(&w, "client", p->dst_ip);
	jw_uint(&w, "client_port", p->dport);
	w_hex16(&w, "id", dnsid);
	jw_time_text(&w, "first_time", id->sv_first);
	jw_time_text(&w, "last_time", id->sv_last);
	alert_emit(e->out, &w, &a);
}

/* A DNS response (source port 53, QR set) sent by a MAC: when that MAC is a
 * device the sensor follows, answering from its own address, the device
 * serves DNS. Responses that a router merely forwards (from addresses not
 * its own), and the network's designated resolver answering local clients,
 * are not this. */
static int mac_equal(const uint8_t a[6], const uint8_t b[6])
{
	uint32_t a4, b4;
	uint16_t a2, b2;
	memcpy(&a4, a, 4);
	memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2);
	memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

static unsigned resp_recent_index(const struct pkt *p)
{
	return (p->vlan ^ p->src_mac[5]) & (RESP_RECENT - 1);
}

/* 1 when serves_packet() would do nothing with p: its responder, found
 * last, is no device the sensor follows as of this second, and it answers
 * from its own address or is known to relay. Most answers come from the
 * network's resolver or router, and stop here. */
static inline int serves_quiet(const struct integ *m, const struct pkt *p)
{
	const struct responder *r = m->resp_recent[resp_recent_index(p)];
	return r != NULL && r->vlan == p->vlan && mac_equal(r->mac, p->src_mac) && !r->is_dev &&
	       r->checked_s == s_of(p->ts_us) && (r->relay || ip_local(p->src_ip));
}

__attribute__((noinline))
static void serves_packet(struct integ *m, struct engine *e, const struct pkt *p)
{
	/* Two ways per set: a router's relay mark is not lost to a device
	 * that happens to share its slot. */
	struct responder *r = m->resp_recent[resp_recent_index(p)];
	if (r != NULL && r->vlan == p->vlan && mac_equal(r->mac, p->src_mac))
		goto found;
	uint64_t hk = h64(p->src_mac, 6, p->vlan);
	unsigned slot = (unsigned)(hk % (RESP_CACHE / 2)) * 2;
	r = &m->resp[slot];
	if (!(r->used && r->vlan == p->vlan && mac_equal(r->mac, p->src_mac))) {
		struct responder *r2 = &m->resp[slot + 1];
		if ((r2->used && r2->vlan == p->vlan && mac_equal(r2->mac, p->src_mac)) ||
		    (r->used && r->relay && !r2->relay))
			r = r2;
	}
	if (!r->used || r->vlan != p->vlan || !mac_equal(r->mac, p->src_mac)) {
		memset(r, 0, sizeof(*r));
		r->used = 1;
		memcpy(r->mac, p->src_mac, 6);
		r->vlan = p->vlan;
		r->checked_s = s_of(p->ts_us) - 2;
	}
	m->resp_recent[resp_recent_index(p)] = r;
found:;
	uint32_t now = s_of(p->ts_us);
	int own = ip_local(p->src_ip);
	if (!own) {
		if (r->relay)
			return;
		struct bind_key bk;
		memset(&bk, 0, sizeof(bk));
		memcpy(bk.ip, p->src_ip, 16);
		bk.vlan = p->vlan;
		const struct binding *b = tbl_lookup(e->bindings, &bk);
		if (b == NULL || memcmp(b->mac, p->src_mac, 6) != 0) {
			r->relay = 1;     /* forwards answers of others: a router */
			return;
		}
	}
	if (now - r->checked_s >= 1) {
		struct dev_key k;
		memset(&k, 0, sizeof(k));
		memcpy(k.mac, p->src_mac, 6);
		k.vlan = p->vlan;
		struct device *d = tbl_lookup(e->devices, &k);
		r->is_dev = d != NULL;
		if (d != NULL) {
			r->slot = tbl_index(e->devices, d);
			r->dev_id = d->id;
		}
		r->checked_s = now;
	}
	if (!r->is_dev)
		return;
	int local = same_site(p->src_ip, p->dst_ip);
	if (local && (r->relay || designated_ip(e, p->vlan, p->src_ip)))
		return;
	struct device *d = tbl_at(e->devices, r->slot);
	if (d == NULL || d->id != r->dev_id) {
		r->is_dev = 0;
		return;
	}
	struct dctx c;
	eng_dctx(e, d, &c);
	struct integ_dev *id = dev_of(m, &c);
	if (id == NULL)
		return;
	if (id->sv_first == 0)
		id->sv_first = p->ts_us;
	id->sv_last = p->ts_us;
	if (local) {
		id->sv_local++;
	} else {
		id->sv_public++;
	}
	serves_alert(e, &c, id, p, !local);
	/* amplification.ratio from the device: what it sends back. */
	uint16_t qtype = 0;
	size_t off = 12;
	while (off < p->payload_len && p->payload[off] != 0 && (p->payload[off] & 0xc0) != 0xc0)
		off += (size_t)p->payload[off] + 1;
	if (off + 3 < p->payload_len)
		qtype = (uint16_t)(p->payload[off + 1] << 8 | p->payload[off + 2]);
	int hi = heavy_index(qtype);
	if (hi >= 0) {
		/* arcount > 0 stands in for "has OPT" in the query estimate. */
		int opt = (p->payload[10] | p->payload[11]) != 0;
		amp_add(e, &c, &id->amp_out, &id->amp_out_q, id->amp_out_types, hi, p->ts_us,
			p->payload_len, query_size_of(p->payload, p->payload_len, opt), 1, p, NULL);
	}
}

/* Every packet passes here: the tests that let it go are inline, the work
 * (a DNS response from a MAC, a race's watch) is called. */
static void integ_packet(void *mv, struct engine *e, const struct pkt *p)
{
	struct integ *m = mv;
	/* A DNS response: QR set. Its slot of the answered table, when a
	 * query noted it, starts loading now; the response hook writes it. */
	if (p->l4 == IPPROTO_UDP && p->sport == PORT_DNS && p->payload_len >= 12 &&
	    (p->payload[2] & 0x80)) {
		uint16_t dnsid = (uint16_t)(p->payload[0] << 8 | p->payload[1]);
		uint64_t h = m->hint[hint_index(p->dport, dnsid)];
		if (h >> 32 == ((uint64_t)p->dport << 16 | dnsid)) {
			/* Its first line: the second holds IPv6 addresses only. */
			__builtin_prefetch(&m->recent[h & (RECENT_SLOTS - 1)], 1);
		}
		/* (dst_mac[0] & 1) is mac_is_group(): unicast only. */
		if (p->has_mac && !(p->dst_mac[0] & 1) && !serves_quiet(m, p))
			serves_packet(m, e, p);
	}
	if (m->nwatch > 0)
		watch_packet(m, e, p);
}

/* --- housekeeping, device events, stats ----------------------------------- */

static void integ_tick(void *mv, struct engine *e, uint64_t now)
{
	struct integ *m = mv;
	if (m->nwatch > 0)
		watch_expire(m, e, now, 0);
}

/* Races still waiting when the capture ends are reported with what is
 * known: the engine judges every device once more at exit. */
static int integ_evaluate(void *mv, struct engine *e, struct dctx *c)
{
	struct integ *m = mv;
	(void)c;
	if (e->finishing && m->nwatch > 0)
		watch_expire(m, e, e->now, 1);
	return 0;
}

static void integ_device_json(void *mv, struct engine *e, struct dctx *c, struct jw *w)
{
	struct integ *m = mv;
	(void)e;
	const struct integ_dev *id = dev_of(m, c);
	if (id == NULL)
		return;
	jw_obj(w, "integrity");
	jw_uint(w, "races", id->races);
	jw_uint(w, "duplicate_responses", id->duplicates);
	jw_uint(w, "late_responses", id->late);
	jw_uint(w, "unsolicited", id->unsolicited);
	jw_uint(w, "txid_mismatch", id->txid_mismatch);
	jw_uint(w, "duplicate_rr", id->duplicate_rr);
	jw_uint(w, "bogon_answers", id->bogon_answers);
	jw_uint(w, "reply_floods", id->reply_floods);
	jw_obj(w, "serves_dns");
	jw_uint(w, "responses_local", id->sv_local);
	jw_uint(w, "responses_outside", id->sv_public);
	if (id->sv_first) {
		jw_time_text(w, "first_time", id->sv_first);
		jw_time_text(w, "last_time", id->sv_last);
	}
	jw_end(w);
	jw_obj(w, "amplification");
	jw_uint(w, "heavy_responses_in", id->amp_in.n);
	jw_uint(w, "heavy_response_bytes_in", id->amp_in.bytes);
	jw_uint(w, "heavy_responses_out", id->amp_out.n);
	jw_uint(w, "heavy_response_bytes_out", id->amp_out.bytes);
	jw_end(w);
	jw_uint(w, "suspect_names", id->suspect_names);
	jw_uint(w, "domains_known", id->ndomains);
	jw_bool(w, "domains_full", id->domains_full);
	jw_uint(w, "new_domains", id->new_domains);
	jw_end(w);
}

static void integ_stats_json(void *mv, struct engine *e, json_t *stats)
{
	struct integ *m = mv;
	(void)e;
	json_t *o = json_pack("{s:{s:I,s:i,s:I},s:{s:I,s:i,s:I},s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"answered", "recorded", (json_int_t)m->recent_used, "capacity", (int)RECENT_SLOTS,
		"evictions", (json_int_t)m->recent_displaced,
		"names", "lookups", (json_int_t)m->name_lookups, "capacity", (int)NAME_SLOTS,
		"judged", (json_int_t)m->name_misses,
		"races", (json_int_t)m->races,
		"race_watch_full", (json_int_t)m->watch_overflow,
		"race_device_gone", (json_int_t)m->watch_lost,
		"txid_mismatch", (json_int_t)m->txid_mismatch,
		"unsolicited", (json_int_t)m->unsolicited,
		"late_responses", (json_int_t)m->late,
		"domain_sets_full", (json_int_t)m->domain_sets_full);
	if (o != NULL)
		json_object_set_new(stats, "integrity", o);
}

const struct eng_module mod_integrity = {
	.name = "integrity",
	.create = integ_create,
	.destroy = integ_destroy,
	.device_reset = integ_device_reset,
	.packet = integ_packet,
	.prefetch = integ_prefetch,
	.query = integ_query,
	.response = integ_response,
	.unanswered = integ_unanswered,
	.tick = integ_tick,
	.rules_changed = integ_rules_changed,
	.evaluate = integ_evaluate,
	.device_json = integ_device_json,
	.stats_json = integ_stats_json,
};
