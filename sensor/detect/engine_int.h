/* engine_int.h — the engine as the detections see it: the context their
 * hooks get (struct engine), the module interface, and the services they
 * call (device lookup and events: device.c; alert contexts: posture.c).
 * The per-packet path that drives them is the pipeline's (pipeline/); the
 * tables are the state layer's. Not for layers below detect. */
#ifndef SW_DETECT_ENGINE_INT_H
#define SW_DETECT_ENGINE_INT_H

#include <stdint.h>

#include "detect/alert.h"
#include "detect/randomness.h"
#include "detect/rules.h"
#include "enrich/enrich.h"
#include <jansson.h>
#include "common/config.h"
#include "common/table.h"
#include "decode/decode.h"
#include "dns/dns.h"
#include "output/event.h"
#include "output/out.h"
#include "state/state.h"

#define ENG_MAX_MODULES 8 /* detect modules (modules.c); three exist, room for more */
#define ALLOW_MAX 16      /* allowed DHCP servers/routers: a network runs one or two */

#define SEC 1000000ull
#define PORT_DNS 53
#define PORT_MDNS 5353
#define PORT_LLMNR 5355

/* A device's posture, addresses or resolvers changed. Its event goes out
 * now, unless it had one less than CHANGE_MIN_US ago: then the change waits
 * for the sweep, so a device whose verdicts settle one after another in its
 * first minutes gives a few events, not one per verdict. Alerts are not
 * delayed: they carry each failing verdict the moment it fails; the device
 * event is the state a dashboard shows, and five minutes (the default
 * snapshot interval) is fresh enough for it. On the benchmark capture 60 s
 * gave 7,300 change events per million packets, about a tenth of the
 * sensor's time. */
#define CHANGE_MIN_US (300 * SEC)

/* One engine: its tables, its detections and their settings. The pipeline
 * (pipeline/pipeline_int.h) wraps it with the decoder, the clocks and the
 * counters; a second engine in the process is a second one of these, and
 * nothing here is shared between engines but the configuration and the
 * rules, which are read-only while packets flow. */
struct engine {
	const struct sw_config *cfg;
	struct out *out;
	const struct ev_observer *observer; /* &obs */
	struct ev_observer obs;       /* observer.* of every event */
	struct state st;              /* devices, queries, flows, bindings, segments */
	/* The same objects as st's, under the names the detections read. */
	struct tbl *devices;
	struct tbl *bindings;
	struct segment *segs;         /* SEG_COUNT segments, by VLAN */
	uint8_t sipkey[16];
	uint64_t now;                 /* newest packet time seen */
	int finishing;
	int deterministic;            /* replay: stats wait for the sinks to catch up */
	/* Worker `shard` of `nshards` (eng_set_worker): it keeps only the
	 * devices state_shard_of_key gives it, and its housekeeping clock and
	 * stats come from the reader. nshards 0: the one engine, all devices. */
	uint32_t shard, nshards;
	uint64_t foreign;             /* device lookups refused: another worker's device */

	const struct rules *rules;    /* detection settings and resolver lists; not owned */
	struct enr_oui *oui;          /* device vendors; NULL when the registry is missing */
	struct enr_geo *geo;          /* GeoIP/ASN of resolvers and endpoints; NULL without databases */
	struct dev_detect *dd;        /* per device slot: the detect layer's state */
	struct rnd_params port_params;
	struct rnd_params txid_params;
	/* The modules detect.modules enabled, in eng_modules order, and each
	 * one's state. */
	const struct eng_module *mods[ENG_MAX_MODULES];
	void *mod[ENG_MAX_MODULES];
	/* dhcp.allowed_servers, parsed: addresses (16 bytes) and MACs. */
	unsigned nallow_ip, nallow_mac;
	uint8_t allow_ip[ALLOW_MAX][16];
	uint8_t allow_mac[ALLOW_MAX][6];
	unsigned nmod;
};

/* The detect layer's per-device state, in an array parallel to the device
 * table (indexed by slot, reset when a slot takes a new device): about
 * 1.3 KiB, most of it the two randomness rings. */
struct dev_detect {
	struct alert_state alerts;
	struct rnd_ring ports;        /* UDP source ports of new queries */
	struct rnd_ring txids;        /* IDs of new queries (retransmissions excluded) */
	uint64_t desig_pending_since; /* oldest unanswered query to a designated resolver */
	uint64_t fail_until;          /* designated resolvers count as failing until then */
	uint64_t tc_ts;               /* a truncated answer awaiting a TCP retry, when */
	uint8_t tc_server[16];        /* ... and from which server */
	uint8_t tc_pending;
	uint8_t dnssec_signal;        /* a query set AD or CD, or asked DNSKEY/DS */
	uint32_t tc_events;           /* truncated answers followed up (or not) */
	uint32_t tc_retried;          /* of which retried over TCP in time */
	uint32_t tc_missed;
	uint32_t edns_bad;            /* queries advertising a size out of range */
	uint16_t edns_bad_size;       /* the last such size */
	/* The last statistics of each ring and the ring's `seen` count then:
	 * recomputed only when the ring moved on (see posture.c). */
	uint32_t ports_at, txids_at;
	struct rnd_result ports_r, txids_r;
};

/* A device and where it sits: what the detect files pass around. */
struct dctx {
	struct device *d;
	const struct dev_key *k;
	uint32_t slot;
	struct dev_detect *dd;
};

/* Emits a stubwatch.device event for d now (reason: first_seen, change,
 * periodic, evicted, exit) and clears its dirty mark (device.c). Judges the
 * device first (post_judge), so a verdict that turned to fail alerts
 * before the event that shows it. An eviction calls it too, before the
 * insert that needed the room (state_device()), never inside a table
 * operation; the event itself is built from state alone (post_extra). */
void eng_emit_device(struct engine *e, const struct dev_key *k,
		     struct device *d, const char *reason);

/* Something a device event shows changed: the event goes out now, or,
 * when the device had one less than CHANGE_MIN_US ago, it is marked dirty
 * and the pipeline's sweep sends it once that time has passed. (Inline:
 * many queries end here.) */
static inline void eng_device_changed(struct engine *e, const struct dev_key *k,
				      struct device *d)
{
	if (e->now - d->last_snapshot >= CHANGE_MIN_US)
		eng_emit_device(e, k, d, "change");
	else
		d->dirty = 1;
}

/* The device on one side of a packet (src = 1: the sender), created when
 * new (*created = 1); NULL for a group MAC, and in a worker for a device
 * another worker owns (counted in foreign). Updates last_seen and the
 * device's VLAN tags (device.c). */
struct device *eng_device_for(struct engine *e, const struct pkt *p, int src,
			      struct dev_key *k, int *created);

/* eng_device_for() with the key built and hashed (state_device_prefetch):
 * a new device gets its detect state reset here, by posture and by every
 * module (device_reset). */
struct device *eng_device_at(struct engine *e, const struct dev_key *k, uint32_t hash,
			     uint64_t ts, int *created);

/* --- detect modules ----------------------------------------------------------
 * A family of detections with state of its own (encrypted DNS; integrity,
 * caching and rates) plugs in as a module: the engine calls its hooks at
 * fixed points of the pipeline and asks it for its part of device events,
 * the scorecard and stats. Modules are listed in modules.c. Any hook may be
 * NULL. `m` is what create() returned. Hooks run on the packet path: they
 * must be cheap when the packet is not theirs, and never do I/O. */
struct jw;
struct eng_module {
	const char *name;
	/* Runs whatever detect.modules lists, and is not one of its names. */
	int always;
	/* Allocates the module's bounded state (sized from e->cfg); NULL and a
	 * message in err on failure. */
	void *(*create)(struct engine *e, char *err, size_t errlen);
	void (*destroy)(void *m);
	/* Slot `slot` of the device table took a new device. */
	void (*device_reset)(void *m, struct engine *e, uint32_t slot);
	/* Every decoded IP packet (PKT_IP), before the engine's own handling. */
	void (*packet)(void *m, struct engine *e, const struct pkt *p);
	/* A unicast DNS query's device is known and its outstanding entry is
	 * about to be looked up: the moment to start loading the module's
	 * per-name state (tbl_prefetch) so the query hook finds it in cache. */
	void (*prefetch)(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			 const struct dns_msg *msg, const struct qry_key *qk);
	/* A unicast DNS response found its query q (not NULL) and through it
	 * its device, before the engine's own response work: the moment to
	 * start loading what the response hook will touch (e.g. the entry
	 * q->mod_ref[] names). */
	void (*prefetch_response)(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
				  const struct qry *q);
	/* A unicast DNS query was counted; q is its outstanding entry (is_new:
	 * not a retransmission), whose mod_ref[] the module may set. */
	void (*query)(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
		      const struct dns_msg *msg, const struct qry_key *qk,
		      struct qry *q, int is_new);
	/* A unicast DNS response was counted; q is the query it answers, or
	 * NULL (unmatched: late, duplicate, spoofed or unsolicited). */
	void (*response)(void *m, struct engine *e, const struct pkt *p, struct dctx *c,
			 const struct dns_msg *msg, const struct qry_key *qk,
			 struct qry *q);
	/* A query timed out unanswered. */
	void (*unanswered)(void *m, struct engine *e, struct dctx *c,
			   const struct qry_key *qk, const struct qry *q);
	/* Once per second of packet time. */
	void (*tick)(void *m, struct engine *e, uint64_t now);
	/* e->rules was set (at start and at each reload): the moment to derive
	 * what the module keeps from them, once rather than per packet. */
	void (*rules_changed)(void *m, struct engine *e);
	/* Re-judges the device's posture findings of this module (alerting per
	 * alert.h); returns 2 when a verdict became fail, 1 when one changed
	 * otherwise, 0 when none changed. */
	int (*evaluate)(void *m, struct engine *e, struct dctx *c);
	/* Writes this module's members of the device event's "stubwatch"
	 * object (e.g. jw_obj(w, "encrypted") ... jw_end(w)). */
	void (*device_json)(void *m, struct engine *e, struct dctx *c, struct jw *w);
	/* The verdict of scorecard line `line` (1..11) when this module judges
	 * it, writing the evidence members into w (an open object); -1 when
	 * the line is not this module's. */
	int (*scorecard)(void *m, struct engine *e, struct dctx *c, int line, struct jw *w);
	/* Adds this module's counters to the stats object. */
	void (*stats_json)(void *m, struct engine *e, json_t *stats);
};

/* Which struct qry mod_ref[] entry belongs to which module. */
enum eng_mod_ref {
	MREF_BEHAVIOUR,
	MREF_COUNT
};
_Static_assert(MREF_COUNT <= QRY_MOD_REFS, "struct qry has a mod_ref per module that uses one");

extern const struct eng_module *const eng_modules[];  /* modules.c, NULL-terminated */

/* Calls hook `h` of every module that has it, with the given arguments.
 * The first three modules get a call instruction each, written out, and
 * only further ones share the loop's: a call site that always reaches the
 * same function is one the branch predictor gets right, while one site
 * taking turns among three hooks is mispredicted on most calls, several
 * times per packet. */
#define MODULE_AT(e, i, h, ...)                                             \
	do {                                                                \
		if ((i) < (e)->nmod && (e)->mods[i]->h != NULL)             \
			(e)->mods[i]->h((e)->mod[i], (e), __VA_ARGS__);     \
	} while (0)
#define EACH_MODULE(e, h, ...)                                              \
	do {                                                                \
		MODULE_AT(e, 0, h, __VA_ARGS__);                            \
		MODULE_AT(e, 1, h, __VA_ARGS__);                            \
		MODULE_AT(e, 2, h, __VA_ARGS__);                            \
		for (unsigned mi_ = 3; mi_ < (e)->nmod; mi_++)              \
			MODULE_AT(e, mi_, h, __VA_ARGS__);                  \
	} while (0)

/* 1 when dhcp.allowed_servers lists the server's address or MAC
 * (device.c). */
int eng_server_allowed(const struct engine *e, const uint8_t ip[16], const uint8_t mac[6]);

/* The device context of a device entry (inline: every hook's caller
 * builds one). */
static inline void eng_dctx(struct engine *e, struct device *d, struct dctx *c)
{
	c->d = d;
	c->k = state_device_key_of(&e->st, d);
	c->slot = state_device_slot(&e->st, d);
	c->dd = &e->dd[c->slot];
}

/* --- posture.c: verdicts, alerts and the scorecard ----------------------- */

/* A slot took a new device: forget the old one's detect state. */
void post_device_reset(struct engine *e, uint32_t slot);
/* After a unicast query was counted (is_new: not a retransmission). */
void post_query(struct engine *e, const struct pkt *p, struct dctx *c,
		const struct dns_msg *m, struct dev_resolver *r, int transport, int is_new);
/* After a unicast response was counted; q is its query, or NULL. */
void post_response(struct engine *e, const struct pkt *p, struct dctx *c,
		   const struct dns_msg *m, const struct qry *q, int transport);
/* A query timed out. */
void post_unanswered(struct engine *e, struct dctx *c, const struct qry_key *qk,
		     const struct qry *q);
/* Re-judges the device's posture: alerts for verdicts that became fail;
 * returns 2 when a verdict became fail (a device event should go out soon),
 * 1 when verdicts changed otherwise (the next periodic event shows it), 0
 * when nothing changed. */
int post_evaluate(struct engine *e, struct dctx *c);
/* post_evaluate() with the exact statistics a device event shows, so the
 * event and its alerts agree; the same return values. */
int post_judge(struct engine *e, struct dctx *c);
/* Builds the device event's extra parts from the device's state alone: the
 * verdicts are judged again (exactly, as post_judge) but neither recorded
 * nor alerted. JSON text in bufs, freed with post_extra_free. */
struct ev_device_extra;
struct post_bufs {
	char *resolvers;
	char *randomness;
	char *scorecard;
	char *modules;
};
void post_extra(struct engine *e, struct dctx *c, struct ev_device_extra *x,
		struct post_bufs *b);
void post_extra_free(struct post_bufs *b);
/* The eleven scorecard verdicts (enum alert_verdict) of a device. */
int post_lines(struct engine *e, struct dctx *c, int lines[11]);
/* Fills an alert context for the device (NULL c: network-wide). */
void post_alert_ctx(struct engine *e, const struct dctx *c, struct alert_ctx *a);
/* post_alert_ctx for a packet the device sent (source: the device), with
 * the question and ID of msg when not NULL. */
void post_alert_ctx_sent(struct engine *e, const struct dctx *c, const struct pkt *p,
			 const struct dns_msg *msg, struct alert_ctx *a);
/* resolver.rogue-dhcp: server `now` handed out resolvers on a segment
 * where `other` (another server of the same kind, changed = 0) already did,
 * or the same server's list changed from `other`'s (changed = 1), or (other
 * = NULL) it is not on dhcp.allowed_servers. */
void post_rogue_server(struct engine *e, const struct pkt *p,
		       const struct seg_server *now, const struct seg_server *other,
		       int changed);

#endif
