/* event.h — events as ECS-shaped JSON objects (jansson), ready for the queue.
 *
 * Keys are inserted in a fixed order and dumped with JSON_PRESERVE_ORDER, so
 * a replay gives byte-identical output. Every event carries @timestamp
 * (packet time), event.kind, event.dataset, observer.name and
 * observer.version (DESIGN.md, "Events").
 */
#ifndef SW_OUTPUT_EVENT_H
#define SW_OUTPUT_EVENT_H

#include <jansson.h>
#include <stdint.h>

#include "dns/dns.h"
#include "output/out.h"
#include "state/state.h"

/* A new event object with the common fields; `kind` is "alert", "state",
 * "event" or "metric". */
json_t *ev_base(uint64_t ts_us, const char *kind, const char *dataset,
		const char *observer);

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

char *ev_device(uint64_t ts_us, const char *observer, const struct dev_key *k,
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
char *ev_dns(const char *observer, const struct ev_dns_txn *t, size_t *len);

/* Queues an event already written as text (ev_device, ev_dns); takes
 * ownership of text. SW_ENOMEM when text is NULL (the writer failed). */
int ev_emit_text(struct out *o, int dataset, const char *key, char *text, size_t len);

/* Dumps obj compactly, queues it for the sinks and releases obj. Returns 0
 * or a negative error (queue full in non-blocking mode, out of memory). */
int ev_emit(struct out *o, int dataset, const char *key, json_t *obj);

#endif
