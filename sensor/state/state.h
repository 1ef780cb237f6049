/* state.h — what the sensor remembers: devices, outstanding queries, TCP DNS
 * streams and IP↔MAC bindings, each a bounded table (common/table.h), and
 * what the network offers on each segment.
 *
 * All time is packet time (microseconds), so a replay is deterministic.
 * Entries are fixed-size; what outlives a packet is copied into them. One
 * struct state belongs to one engine and is touched by that engine's thread
 * only: nothing here locks, and nothing here is static.
 */
#ifndef SW_STATE_STATE_H
#define SW_STATE_STATE_H

#include <stdint.h>

#include "common/config.h"
#include "common/table.h"
#include "dns/dns.h"

struct pkt;                 /* decode/decode.h: the functions below read one */

#define DEV_MAX_V4 4        /* addresses remembered per device, newest kept */
#define DEV_MAX_V6 4
#define DEV_MAX_RESOLVERS 8 /* IoT devices use one or two; the rest are counted */
#define DEV_MAX_SIZES 4     /* distinct EDNS UDP sizes remembered */
#define QRY_NAME 64         /* query name prefix kept for unanswered-query events */

/* A device is a MAC (on a VLAN with capture.vlan_tracking: pkt.key_vlan);
 * on links without MACs (raw IP) it is an IP. */
struct dev_key {
	uint8_t mac[6];
	uint16_t vlan;
	uint8_t ip[16];     /* zero unless by_ip */
	uint8_t by_ip;
	uint8_t pad[3];
};

enum dns_proto { PROTO_DNS = 0, PROTO_MDNS = 1, PROTO_LLMNR = 2 };
enum dns_transport { TRANS_UDP = 1, TRANS_TCP = 2 };

struct dev_resolver {
	uint8_t ip[16];
	uint16_t port;
	uint8_t transports;   /* bit set of enum dns_transport */
	uint8_t v6;           /* reached over IPv6 */
	uint8_t off_set;      /* outside the device's designated set when last asked */
	uint8_t alerted;      /* resolver.hardcoded: 1 fallback alert sent, 2 plain */
	uint32_t queries;
	uint32_t responses;
	uint32_t off_set_queries;  /* queries sent while it was outside the set */
	uint32_t fallback_queries; /* of those, sent while the designated ones failed */
	uint64_t first_seen;
	uint64_t last_seen;
};

struct dev_size {
	uint16_t size;
	uint32_t count;
};

/* Per-device DNS counters. Unicast DNS only, except the mdns/llmnr fields
 * (DETECTIONS.md: mDNS and LLMNR never count as unicast DNS). */
struct dev_counts {
	uint64_t queries;         /* unicast queries sent, retransmissions included */
	uint64_t retransmissions; /* same ID, name and type while still outstanding */
	uint64_t queries_udp;
	uint64_t queries_tcp;
	uint64_t queries_v6;      /* sent over IPv6 transport */
	uint64_t queries_edns;    /* carrying an OPT RR */
	uint64_t queries_do;      /* OPT with DO set */
	uint64_t queries_a;
	uint64_t queries_aaaa;
	uint64_t queries_https;
	uint64_t queries_other;
	uint64_t responses;       /* unicast responses received */
	uint64_t answered;        /* queries matched by a response */
	uint64_t unanswered;      /* queries timed out */
	uint64_t unmatched;       /* responses matching no outstanding query */
	uint64_t rcode[6];        /* NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED */
	uint64_t rcode_other;
	uint64_t truncated;       /* responses with TC=1 */
	uint64_t fragmented;      /* responses that arrived as IP fragments */
	uint64_t mdns;            /* mDNS messages sent */
	uint64_t llmnr;           /* LLMNR messages sent */
	uint64_t rtt_sum_us;
	uint64_t rtt_max_us;
};

#define DEV_MAX_ASSIGNED 8  /* resolvers assigned to one device: networks give 1-3 per family */
#define DEV_HOSTNAME 64      /* DHCP host names are short labels; longer ones are cut */
#define DEV_MUD_URL 160      /* RFC 8520 MUD URLs: https://host/path, cut past this */

/* Who told a device which resolvers to use. */
enum assign_src {
	ASSIGN_DHCP4 = 1,    /* DHCPv4 option 6 (RFC 2132 §3.8) */
	ASSIGN_DHCP6 = 2,    /* DHCPv6 option 23 (RFC 3646) */
	ASSIGN_RA = 3,       /* RA RDNSS (RFC 8106) */
	ASSIGN_DNR = 4,      /* DNR in DHCPv4 162, DHCPv6 144 or RA 144 (RFC 9463) */
	ASSIGN_SANCTIONED = 5 /* rules/resolvers.json sanctioned list */
};

struct assigned {
	uint8_t ip[16];
	uint8_t source;      /* enum assign_src */
	uint64_t ts;         /* packet time it was (last) handed out */
};

/* Hot fields first: a query touches the identity, the counters and the
 * first resolver, which then sit in adjacent cache lines right after the
 * table's key; addresses and EDNS sizes change rarely and come last. */
struct device {
	uint32_t id;              /* order of first sight, from 1; never reused */
	uint8_t dirty;            /* something a device event shows has changed */
	uint8_t nres;
	uint8_t nv4, nv6;
	uint64_t last_seen;
	uint64_t first_seen;
	struct dev_counts c;
	struct dev_resolver res[DEV_MAX_RESOLVERS];
	uint64_t last_snapshot;   /* packet time of the last device event */
	uint64_t last_bind;       /* last IP binding refresh from its queries */
	uint64_t res_overflow;    /* queries to resolvers past DEV_MAX_RESOLVERS */
	uint8_t nsizes;
	/* The VLAN tags of its latest own frame (inner, and outer of QinQ):
	 * the key holds a VLAN only with capture.vlan_tracking, so these say
	 * which segment it is on and what events show. Here they fill the
	 * padding before sizes, so a device takes no byte more. */
	uint16_t vlan, vlan_outer;
	struct dev_size sizes[DEV_MAX_SIZES];
	uint8_t v4[DEV_MAX_V4][4];
	uint8_t v6[DEV_MAX_V6][16];

	/* What the network assigned (pipeline/lease.c writes it). */
	uint8_t nassigned;
	uint8_t dhcp_seen;        /* the device's own DHCP/DHCPv6 exchange was seen */
	uint8_t has_global_v6;    /* it used a global IPv6 address */
	struct assigned assigned[DEV_MAX_ASSIGNED];
	char hostname[DEV_HOSTNAME];
	char mud_url[DEV_MUD_URL];
};

#define SEG_MAX_RESOLVERS 16 /* distinct resolvers handed out on one segment */
#define SEG_MAX_SERVERS 4    /* DHCP servers and routers remembered per segment */
#define SEG_SERVER_DNS 4     /* resolvers remembered per server, to see changes */

enum seg_server_kind { SEG_DHCP4 = 1, SEG_DHCP6 = 2, SEG_ROUTER = 3 };

/* A DHCP server or router that handed out resolvers on a segment. */
struct seg_server {
	uint8_t kind;            /* enum seg_server_kind */
	uint8_t mac[6];
	uint8_t ip[16];
	uint8_t ndns;
	uint8_t dns[SEG_SERVER_DNS][16];
	uint64_t first_seen;
	uint64_t last_seen;
};

/* What the network offers on one segment (a VLAN; 0 = untagged). */
struct segment {
	uint8_t used;
	uint8_t nres;
	uint8_t nservers;
	uint8_t v6_prefix;       /* an RA offered a prefix (global IPv6 available) */
	uint8_t rdnss;           /* an RA carried RDNSS */
	uint8_t dhcp6_dns;       /* DHCPv6 handed out DNS servers */
	uint8_t dnr;             /* DNR (encrypted resolvers) offered */
	uint8_t ddr;             /* a device asked _dns.resolver.arpa (RFC 9462) */
	uint64_t dhcp_msgs;
	uint64_t ras;
	struct assigned res[SEG_MAX_RESOLVERS];
	struct seg_server servers[SEG_MAX_SERVERS];
};

#define SEG_COUNT 4096       /* one per 12-bit VLAN ID (IEEE 802.1Q) */

/* Outstanding query: (device, server, server port, client port, ID, name,
 * type). The device enters as its MAC and VLAN plus the client address, so
 * a response finds its query, and through it its device, with one lookup.
 * The name enters as a hash of its lower-cased form. */
struct qry_key {
	uint8_t client[16];      /* client address */
	uint8_t mac[6];          /* client MAC, zero on links without MACs */
	uint16_t vlan;
	uint8_t server[16];
	uint16_t server_port;
	uint16_t client_port;
	uint16_t id;
	uint16_t qtype;
	uint32_t qname_hash;
};

#define QRY_MOD_REFS 1

struct qry {
	uint64_t first_ts;       /* first transmission */
	uint64_t last_ts;        /* latest retransmission */
	uint32_t dev_slot;       /* device table slot, checked against dev_id */
	uint32_t dev_id;         /* the device's id when the query was sent */
	uint16_t retries;
	uint16_t qclass;
	uint16_t qtype;
	uint8_t transport;       /* enum dns_transport */
	uint8_t has_opt;
	uint8_t edns_do;
	uint8_t v6;
	uint8_t has_q;           /* the question parsed */
	uint16_t udp_size;
	uint16_t flags;          /* header flags of the query */
	/* Detection modules' own references for this query (e.g. a cache
	 * slot + 1; 0: none), so its response finds their state without a
	 * second lookup. Which module owns which entry is the detect layer's
	 * business (it checks it fits QRY_MOD_REFS). */
	uint32_t mod_ref[QRY_MOD_REFS];
	char qname[QRY_NAME];    /* prefix, NUL-terminated, for unanswered-query events */
	uint8_t client_ip[16];
};

/* A TCP connection carrying DNS, normalised so both directions find it:
 * (a, pa) is the lower endpoint. */
struct flow_key {
	uint8_t a[16];
	uint8_t b[16];
	uint16_t pa;
	uint16_t pb;
	uint16_t vlan;
	uint16_t pad;
};

struct flow {
	uint64_t last_ts;
	struct dns_tcp dir[2];   /* [0]: a → b, [1]: b → a */
	int32_t buf[2];          /* reassembly buffer per direction, -1 = none */
	uint8_t mac[2][6];       /* MAC of a and of b as last seen */
	uint8_t has_mac;
	uint8_t fin;             /* FIN/RST seen */
};

/* IP → MAC as last seen in ARP, NDP or traffic from a local host. */
struct bind_key {
	uint8_t ip[16];
	uint16_t vlan;
	uint16_t pad;
};

enum bind_source { BIND_ARP = 1, BIND_NDP = 2, BIND_DNS = 3 };

struct binding {
	uint8_t mac[6];
	uint8_t source;          /* enum bind_source */
	uint8_t changes;         /* times the MAC changed (saturating) */
	uint64_t first_seen;
	uint64_t last_seen;
};

/* Pool of fixed-size buffers for DNS/TCP messages split over segments:
 * taken when a message spans segments, given back when it completes. */
struct tcp_pool {
	uint8_t *mem;
	uint32_t size;           /* bytes per buffer */
	uint32_t count;
	int32_t *free_list;
	uint32_t nfree;
	uint64_t exhausted;      /* times a flow needed one and none was free */
};

int tcp_pool_init(struct tcp_pool *p, uint32_t count, uint32_t size);
void tcp_pool_fini(struct tcp_pool *p);
int32_t tcp_pool_take(struct tcp_pool *p);         /* -1 when empty */
void tcp_pool_give(struct tcp_pool *p, int32_t i);
uint8_t *tcp_pool_buf(struct tcp_pool *p, int32_t i);

/* Records a use of `ip` by the device; returns 1 when it is new to it. */
int dev_add_ip(struct device *d, const uint8_t ip[16]);

/* The device's entry for a resolver, created when new (*created = 1), or
 * NULL when DEV_MAX_RESOLVERS are already tracked. */
struct dev_resolver *dev_resolver(struct device *d, const uint8_t ip[16],
				  uint16_t port, uint64_t now, int *created);

/* Counts one advertised EDNS UDP size. */
void dev_add_size(struct device *d, uint16_t size);

/* --- the tables of one engine ---------------------------------------------- */

/* Called when a full device table pushes out its least recently seen
 * device, before the entry is reused: its last device event goes out here. */
typedef void (*state_evict_fn)(void *arg, const struct dev_key *k, struct device *d);

struct state {
	struct tbl *devices;      /* dev_key → device, LRU = last seen (to 10 s) */
	struct tbl *queries;      /* qry_key → qry, LRU = time-out order */
	struct tbl *flows;        /* flow_key → flow, LRU = idle order */
	struct tbl *bindings;     /* bind_key → binding */
	struct tcp_pool pool;     /* reassembly buffers of the flows */
	struct segment *segs;     /* SEG_COUNT segments, by VLAN */
	/* Device ids: this engine hands out next_dev_id, then adds id_stride.
	 * Engine i of n starts at i + 1 with stride n, so ids stay unique in
	 * a process with several engines without a shared (locked) counter,
	 * and a replay gives the same ids every time. One engine: 1, 2, 3... */
	uint32_t next_dev_id;
	uint32_t id_stride;
	uint64_t queries_evicted; /* outstanding queries pushed out of a full table */
	uint64_t bindings_changed; /* an address seen with a new MAC */
	state_evict_fn device_evicted;
	void *evict_arg;
};

/* Allocates the tables cfg sizes (devices.max, queries.max, flows.max,
 * tcp.buffers x tcp.buffer_size; bindings at twice the devices, for one v4
 * and one v6 address each), keyed by the 16-byte sipkey. 0, or SW_ENOMEM
 * with everything freed. Device ids start at 1 with stride 1. */
int state_init(struct state *s, const struct sw_config *cfg, const uint8_t sipkey[16]);
void state_fini(struct state *s);

/* Engine `index` of `count` in one process: its device ids are index + 1,
 * then every count-th. Before the first device. */
void state_set_id_space(struct state *s, uint32_t index, uint32_t count);

/* The callback for evicted devices (NULL: none). */
void state_set_device_evict(struct state *s, state_evict_fn fn, void *arg);

/* Which of n workers owns the device a MAC (len 6) or an address (len 16,
 * links without MACs) names: a fixed hash, the same in every run and every
 * thread, so the reader that shards frames and the engine that checks
 * ownership agree, and a replay shards alike every time. The VLAN is left
 * out: a device seen on two VLANs is two devices on one worker. */
static inline uint32_t state_shard(const uint8_t *id, unsigned len, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	if (n <= 1)
		return 0;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ id[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)(((h >> 32) * n) >> 32);
}

/* The worker that owns device key k (state_shard of its MAC or address). */
static inline uint32_t state_shard_of_key(const struct dev_key *k, uint32_t n)
{
	return k->by_ip ? state_shard(k->ip, 16, n) : state_shard(k->mac, 6, n);
}

/* The device key of one side of a packet (src = 1: the sender): by MAC when
 * the link has MACs, else by IP. 0 (k cleared) for a group MAC, which is
 * nobody's device. */
int state_device_key(const struct pkt *p, int src, struct dev_key *k);

/* Starts loading k's bucket; the hash it returns goes to state_device().
 * (This and the other one-line table calls below are inline: they sit on
 * every packet's path.) */
static inline uint32_t state_device_prefetch(const struct state *s, const struct dev_key *k)
{
	return tbl_prefetch(s->devices, k);
}

/* The device of key k (hash from state_device_prefetch), created when new
 * (*created = 1: a fresh id, first_seen = ts, the rest zero; the caller
 * resets what it keeps per slot). Marks it seen at ts (state_device_seen).
 * A full table evicts its least recently seen device first. */
struct device *state_device(struct state *s, const struct dev_key *k, uint32_t hash,
			    uint64_t ts, int *created);

/* The device was seen at ts: last_seen, and its LRU place to ten seconds
 * (LRU order to ten seconds is enough to pick whom to evict; each move
 * costs three cache misses in a big table). */
static inline void state_device_seen(struct state *s, struct device *d, uint64_t ts)
{
	if (ts / (10 * 1000000ull) != d->last_seen / (10 * 1000000ull))
		tbl_touch(s->devices, d);
	d->last_seen = ts;
}

/* The device of key k, or NULL; nothing is created or moved. */
static inline struct device *state_device_find(struct state *s, const struct dev_key *k)
{
	return tbl_lookup(s->devices, k);
}

/* The key and the table slot of a device entry. */
static inline const struct dev_key *state_device_key_of(const struct state *s,
							const struct device *d)
{
	return tbl_key(s->devices, d);
}

static inline uint32_t state_device_slot(const struct state *s, const struct device *d)
{
	return tbl_index(s->devices, d);
}

/* Records a use of ip by the device (dev_add_ip) and refreshes the IP→MAC
 * binding when the address is new to it or its last refresh is a minute
 * old; returns 1 when the address is new. */
int state_device_ip(struct state *s, struct device *d, const struct pkt *p);

/* Counts a unicast query (retransmissions included) on its device: by
 * transport, family, EDNS, DO and type, and on the resolver it went to
 * (*r; NULL when DEV_MAX_RESOLVERS are tracked, counted in res_overflow).
 * Returns 1 when that resolver is new to the device. */
int state_count_query(struct device *d, const struct pkt *p, const struct dns_msg *m,
		      int transport, struct dev_resolver **r);

/* Counts a unicast response on its device: rcode, TC, IP fragments, and on
 * the resolver that sent it. */
void state_count_response(struct device *d, const struct pkt *p, const struct dns_msg *m);

/* The outstanding-query key of a query (query_side = 1: the client is the
 * source) or of a response to it (0: the client is the destination). */
void state_query_key(struct qry_key *qk, const struct pkt *p, int query_side,
		     const struct dns_msg *m);

/* Starts loading qk's bucket; the hash goes to state_query(). */
static inline uint32_t state_query_prefetch(const struct state *s, const struct qry_key *qk)
{
	return tbl_prefetch(s->queries, qk);
}

/* A query from device d: its outstanding entry, created when new (*is_new
 * = 1, filled from p and m). Otherwise it is a retransmission (same ID,
 * name and type to the same server and port while the first is
 * unanswered, RFC 1035 §4.2.1): counted on the entry and the device, and
 * moved to the young end of the time-out order. A full table evicts the
 * longest-waiting query (counted in queries_evicted). */
struct qry *state_query(struct state *s, const struct qry_key *qk, uint32_t hash,
			const struct pkt *p, const struct dns_msg *m, int transport,
			struct device *d, int *is_new);

/* A response: fills qk (state_query_key, client = destination) and returns
 * the outstanding query it answers, or NULL (no question, a group
 * destination, or none waiting); *d is that query's device when it is
 * still in the table, else NULL. The query stays until state_query_done. */
struct qry *state_response(struct state *s, const struct pkt *p, const struct dns_msg *m,
			   struct qry_key *qk, struct device **d);

/* The device a query was charged to, if its slot still holds that device. */
struct device *state_query_device(struct state *s, const struct qry *q);

/* An answered query: counts answered and the round trip (ts - the latest
 * transmission, 0 if time stepped back) on d, which returns. */
uint64_t state_count_answered(struct device *d, const struct qry *q, uint64_t ts);

/* Removes an outstanding query (answered, or its device is gone). */
static inline void state_query_done(struct state *s, struct qry *q)
{
	tbl_remove(s->queries, q);
}

/* Called for each query that timed out, before it is removed; d is its
 * device or NULL when that is gone. */
typedef void (*state_expired_fn)(void *arg, const struct qry_key *qk, struct qry *q,
				 struct device *d);

/* Times out the queries whose latest transmission is `timeout` old at now
 * (all = 1: every query), oldest first, calling fn on each. */
void state_expire_queries(struct state *s, uint64_t now, uint64_t timeout, int all,
			  state_expired_fn fn, void *arg);

/* The DNS/TCP flow of a segment, normalised so both directions find it
 * (*dir: 0 when the source is the lower endpoint), created with no
 * reassembly state when new; its idle time restarts at p's. */
struct flow *state_flow(struct state *s, const struct pkt *p, int *dir);

/* Gives back a flow's reassembly buffers and removes it. */
void state_flow_end(struct state *s, struct flow *f);

/* Removes the flows idle for `timeout` at now. */
void state_expire_flows(struct state *s, uint64_t now, uint64_t timeout);

/* IP → MAC as seen now (ARP, NDP, a device's query); counts changes. */
/* Takes the VLAN tags of p for d (a frame the device sent, or the one
 * that made it); 1 when they changed. */
int state_device_tags(struct device *d, const struct pkt *p);

void state_bind(struct state *s, const uint8_t ip[16], uint16_t vlan,
		const uint8_t mac[6], int source, uint64_t ts);

/* The segment (VLAN) record, marked used. */
struct segment *state_segment(struct state *s, uint16_t vlan);

/* Adds ip to a list of assigned resolvers (at most max; *n entries),
 * refreshing its time when there already; 1 when it was added. */
int state_add_assigned(struct assigned *list, uint8_t *n, unsigned max,
		       const uint8_t ip[16], int source, uint64_t ts);

/* Forgets what one source (enum assign_src) assigned the device: a new
 * lease replaces the old one. */
void state_drop_assigned(struct device *d, int source);

/* The segment's record of the server (kind, mac), created when there is
 * room (*created = 1; NULL when SEG_MAX_SERVERS are remembered). */
struct seg_server *state_seg_server(struct segment *s, int kind, const uint8_t mac[6],
				    const uint8_t ip[16], uint64_t ts, int *created);

#endif
