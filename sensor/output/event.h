/* event.h — events as Elastic Common Schema (ECS) JSON, ready for the queue.
 *
 * Keys come in a fixed order (the streaming writer, or jansson with
 * JSON_PRESERVE_ORDER), so a replay gives byte-identical output. Every event
 * carries @timestamp (packet time), ecs.version, event.{kind, module,
 * dataset, category[], type[]} with ECS's allowed values, and
 * observer.{name, hostname, type, vendor, product, version} (DESIGN.md,
 * "Events"). ECS fields hold ECS types and forms (MACs as A4-83-E7-50-00-08,
 * dns.id and VLAN IDs as text); everything ECS does not define is under
 * stubwatch.*. tests/ecs checks every field against the ECS definition.
 */
#ifndef SW_OUTPUT_EVENT_H
#define SW_OUTPUT_EVENT_H

#include <jansson.h>
#include <stdint.h>

#include "dns/dns.h"
#include "output/out.h"
#include "state/state.h"

/* The ECS release the events follow; tests/ecs pins the same release of
 * the ECS field definitions. */
#define EV_ECS_VERSION "9.4.0"

/* Debian's compiled Public Suffix List (package publicsuffix). */
#define EV_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dafsa"

struct psl_ctx_st;
struct jw;

/* Who writes the events: built once at start (ev_observer_init), read by
 * every event writer of the engine that owns it. */
struct ev_observer {
	const char *name;              /* observer.name (configuration) */
	char hostname[256];            /* observer.hostname (gethostname at start) */
	const char *iface;             /* observer.ingress.interface.name of the packet
					* being handled (live capture); NULL for files */
	struct psl_ctx_st *psl;        /* Public Suffix List; NULL without the data */
};

/* Fills o: name (not copied: it must outlive o), the host name, and the
 * Public Suffix List from EV_PSL_FILE. Without that file the dns.question
 * domain parts are left out and a note says so in note[] (else note is
 * ""). */
void ev_observer_init(struct ev_observer *o, const char *name, char *note, size_t notelen);
void ev_observer_free(struct ev_observer *o);

/* A new stats event object with the common fields (jansson): `kind` is
 * "metric"; event.category ["network"], event.type ["info"]. */
json_t *ev_base(uint64_t ts_us, const char *kind, const char *dataset,
		const struct ev_observer *obs);

/* The head of a jw-written event: opens the top object and writes
 * @timestamp, ecs.version, and opens "event" with kind, module, dataset,
 * category[] and type[] (comma-separated lists of ECS allowed values, as
 * "network,intrusion_detection"). The caller adds members to "event"
 * (severity, outcome, reason), closes it and calls ev_jw_observer(). */
void ev_jw_head(struct jw *w, uint64_t ts_us, const char *kind, const char *dataset,
		const char *categories, const char *types);

/* The observer object; ingress.interface.name only when `packet` (the event
 * is about the packet being handled) and the capture is live. */
void ev_jw_observer(struct jw *w, const struct ev_observer *obs, int packet);

/* One flow, for network.* and network.community_id. */
struct ev_flow {
	const uint8_t *src_ip;     /* 16 bytes (IPv4-mapped for IPv4) */
	const uint8_t *dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t l4;                /* IANA protocol number: 6 TCP, 17 UDP */
};

/* Community ID v1 (github.com/corelight/community-id-spec), seed 0:
 * "1:" and the base64 SHA-1 of the ordered 5-tuple, as Zeek and Suricata
 * compute it. out must hold EV_CID_LEN bytes. */
#define EV_CID_LEN 32
void ev_community_id(char out[EV_CID_LEN], const struct ev_flow *f);

/* ECS network.direction of a flow seen from the site: internal, outbound,
 * inbound or external (private, link-local, loopback and multicast
 * addresses are the site's). */
const char *ev_direction(const uint8_t src[16], const uint8_t dst[16]);

/* Writes the "network" object of a flow: type, transport, protocol (NULL:
 * none), direction, community_id, and vlan.id (text; absent when 0). With
 * f NULL only vlan.id, and nothing at all when vlan is 0 too. */
void ev_jw_network(struct jw *w, const struct ev_flow *f, const char *protocol, uint16_t vlan);

/* dns.question's registered_domain, subdomain and top_level_domain of a
 * name (Public Suffix List, lower case); nothing without the list or for a
 * name that is itself a public suffix. */
void ev_jw_domain_parts(struct jw *w, const struct ev_observer *obs, const char *name, size_t len);

/* The ECS objects of a device: host {name, hostname, mac[], ip[]} and
 * device {id, manufacturer}; its VLAN goes in ev_jw_network(). host.name
 * is the host name, else device.id; device.id is the MAC in ECS form, or
 * the address on links without MACs. vendor and hostname may be NULL; d
 * may be NULL (then no addresses). */
void ev_jw_host_device(struct jw *w, const struct dev_key *k, const struct device *d,
		       const char *vendor, const char *hostname);

/* stubwatch.device: the sensor's key for the device (colon MAC or IP, as
 * the Redis and Kafka keys), keyed_by, the colon MAC, the VLAN as a number
 * (0 untagged), mac_locally_administered (left out when mac_local < 0),
 * and the MUD URL and first/last seen when d is not NULL. */
void ev_jw_sw_device(struct jw *w, const struct dev_key *k, const struct device *d,
		     int mac_local);

/* The device's key as text: its MAC, or its IP on links without MACs. */
void ev_dev_keytext(const struct dev_key *k, char *out, size_t outsz);

/* A stubwatch.device event as JSON text (malloc'd, *len bytes): identity,
 * addresses, resolvers used and the DNS habits counted so far. `reason` is
 * first_seen, change, periodic, evicted or exit. NULL when out of memory.
 * Device and DNS events are the high-volume ones, so they are written with
 * the streaming writer (jw.h) rather than built as jansson trees. */
/* What the detect layer adds to a device event: enrichment, what the
 * network offers, and the verdicts (already JSON, written with jw). Any
 * member may be NULL. */
struct ev_device_extra {
	const char *vendor;           /* OUI registry name */
	int mac_local;                /* locally administered (randomised) MAC */
	const char *designated_from;  /* "device", "segment", "sanctioned" */
	const struct segment *seg;    /* the device's VLAN */
	const char *resolvers_json;   /* array: resolvers used, with operator and verdict */
	const char *randomness_json;  /* object: ports and txid statistics */
	const char *scorecard_json;   /* object: lines and score */
	const char *modules_json;     /* members (no braces) of the detect modules */
};

char *ev_device(uint64_t ts_us, const struct ev_observer *obs, const struct dev_key *k,
		const struct device *d, const char *reason,
		const struct ev_device_extra *x, size_t *len);

/* One DNS transaction for stubwatch.dns. Any of query/response may be
 * missing: an unanswered query has only `q`, a response that matched
 * nothing has only `resp`. */
struct ev_dns_txn {
	uint64_t ts_us;            /* time of the event (response, or timeout) */
	const struct dev_key *dev;
	const uint8_t *client_ip;
	const uint8_t *server_ip;
	uint16_t client_port;
	uint16_t server_port;
	uint8_t transport;         /* enum dns_transport */
	uint8_t proto;             /* enum dns_proto */
	uint8_t answered;
	uint8_t fragmented;        /* the response came as IP fragments */
	uint64_t rtt_us;           /* when answered */
	const struct qry *q;       /* the outstanding query, when known */
	uint16_t qid;              /* its DNS ID (the query key holds it) */
	const struct dns_msg *msg; /* the message that ends the transaction, when any */
};
char *ev_dns(const struct ev_observer *obs, const struct ev_dns_txn *t, size_t *len);

/* Queues an event already written as text (ev_device, ev_dns); takes
 * ownership of text. SW_ENOMEM when text is NULL (the writer failed). */
int ev_emit_text(struct out *o, int dataset, const char *key, char *text, size_t len);

/* Dumps obj compactly, queues it for the sinks and releases obj. Returns 0
 * or a negative error (queue full in non-blocking mode, out of memory). */
int ev_emit(struct out *o, int dataset, const char *key, json_t *obj);

#endif
