/* state.h — what the sensor remembers: devices, outstanding queries, TCP DNS
 * streams and IP↔MAC bindings, each a bounded table (common/table.h).
 *
 * All time is packet time (microseconds), so a replay is deterministic.
 * Entries are fixed-size; what outlives a packet is copied into them.
 */
#ifndef SW_STATE_STATE_H
#define SW_STATE_STATE_H

#include <stdint.h>

#include "common/table.h"
#include "dns/dns.h"

#define DEV_MAX_V4 4        /* addresses remembered per device, newest kept */
#define DEV_MAX_V6 4
#define DEV_MAX_RESOLVERS 8 /* IoT devices use one or two; the rest are counted */
#define DEV_MAX_SIZES 4     /* distinct EDNS UDP sizes remembered */
#define QRY_NAME 64         /* query name prefix kept for unanswered-query events */

/* A device is a MAC on a VLAN; on links without MACs (raw IP) it is an IP. */
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
	struct dev_size sizes[DEV_MAX_SIZES];
	uint8_t v4[DEV_MAX_V4][4];
	uint8_t v6[DEV_MAX_V6][16];

	/* What the network assigned (sensor/detect/assign.c). */
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
	/* Detect modules' own references for this query (e.g. a cache slot
	 * + 1; 0: none), so its response finds their state without a second
	 * lookup. Indexed by enum eng_mod_ref (detect/engine_int.h). */
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

#endif
