/* alert.h — stubwatch.alert events and their rate limits.
 *
 * An alert is written with the streaming JSON writer (output/jw.h) in the
 * house event shape (DESIGN.md "Events", ECS): @timestamp, ecs, event
 * {kind "alert", module, dataset, category ["network",
 * "intrusion_detection"], type ["info"], severity 1-4, reason}, observer,
 * rule {id, name, category, description, reference (the first reference's
 * URL), ruleset, version}, message, source {mac, ip, port}, host {name, hostname, mac[],
 * ip[]}, device {id, manufacturer}, destination {ip, port, geo, as},
 * network (with community_id, for an alert about one flow), dns {id,
 * question}, and last stubwatch.device, stubwatch.rule.references[] (every
 * reference, as URLs) and stubwatch.evidence, an object
 * the caller fills member by member:
 *
 *	struct jw w;
 *	alert_begin(&w, rule, &ctx, "…one sentence…");
 *	jw_uint(&w, "n", n);             // members of stubwatch.evidence
 *	jw_real4(&w, "sigma", sigma);
 *	alert_emit(out, &w, &ctx);       // closes, queues on OUT_DS_ALERT
 *
 * so evidence never goes through a jansson tree.
 *
 * Rate limits (DETECTIONS.md "General rules") live in a small per-device
 * struct alert_state: non-posture detections fire at most once per
 * rate_limit_s per device; posture detections fire once when the verdict
 * becomes fail, and again only after it changed back.
 */
#ifndef SW_DETECT_ALERT_H
#define SW_DETECT_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "detect/rules.h"
#include "enrich/enrich.h"
#include "output/event.h"
#include "output/jw.h"
#include "output/out.h"
#include "state/state.h"

/* Where an alert comes from. Everything but ts_us and observer is
 * optional (NULL or 0 leaves the field out). */
struct alert_ctx {
	uint64_t ts_us;              /* packet time */
	const struct ev_observer *observer; /* observer.* */
	const struct dev_key *dev;   /* source.mac, host.*, device.*; NULL for network-wide alerts */
	const struct device *d;      /* host.ip[] (source.ip without src_ip), first_seen/last_seen */
	const char *vendor;          /* device.manufacturer */
	const char *hostname;        /* host.hostname */
	const uint8_t *src_ip;       /* source.ip: the device's address in the packet */
	const uint8_t *dst_ip;       /* destination.ip: resolver, server, peer */
	uint16_t dst_port;           /* destination.port, written when dst_ip is */
	uint16_t src_port;           /* source.port, with src_ip */
	uint8_t l4;                  /* 6 or 17 when the alert is about one flow (src and
				      * dst address and port): network.community_id */
	const char *dst_operator;    /* destination.as.organization.name when well known */
	const struct enr_geo_info *dst_geo; /* destination.geo.* and .as.* (GeoIP), or NULL */
	const char *qname;           /* dns.question.name of the triggering transaction */
	uint16_t qtype;              /* dns.question.type, with qname */
	int32_t dns_id;              /* dns.id; -1 for none */
	const char *reason;          /* event.reason, a short machine word ("class_poor") */
	uint8_t escalated;           /* use the rule's severity_escalated when it has one */
};

/* Starts an alert for rule r in w (jw_init'ed here) and leaves it open
 * inside stubwatch.evidence for the caller's members. `message` is one
 * human sentence, copied. */
void alert_begin(struct jw *w, const struct det_rule *r, const struct alert_ctx *c,
		 const char *message);

/* Writes ECS "geo" {country_iso_code, country_name, city_name} and "as"
 * {number, organization.name} members for an address: from GeoIP when gi is
 * not NULL, the AS organisation falling back to the well-known operator. */
void alert_geo_json(struct jw *w, const struct enr_geo_info *gi, const char *operator);

/* Closes every container left open and hands the text over (the caller
 * frees it); NULL when the writer ran out of memory. */
char *alert_finish(struct jw *w, size_t *len);

/* alert_finish() and queues the text on OUT_DS_ALERT with the device key
 * (MAC, or IP) as routing key, or the destination address for network-wide
 * alerts. Returns ev_emit_text()'s result (0, SW_EFULL, SW_ENOMEM). */
int alert_emit(struct out *o, struct jw *w, const struct alert_ctx *c);

/* The severity an alert of r carries (1-4). */
int alert_severity(const struct det_rule *r, int escalated);

/* The "rule" object alerts carry for r, as JSON text (malloc'd; NULL when
 * out of memory): the rules loader keeps it in the rule (det_rule.json). */
char *alert_rule_json(const struct det_rule *r, size_t *len);

/* Posture verdicts, as the scorecard shows them. */
enum alert_verdict { VERDICT_UNKNOWN = 0, VERDICT_PASS = 1, VERDICT_FAIL = 2 };

/* The verdict of a scorecard line made of two findings: fail when either
 * fails, else pass when either passes, else unknown. */
int verdict_worst(int a, int b);

_Static_assert(DET_MAX <= 32, "alert_state.fired is a 32-bit set");

/* Per device: 132 bytes. Zero it (alert_state_init or calloc) for a new
 * device. Seconds of packet time run to 2106 in 32 bits. */
struct alert_state {
	uint32_t last_fired_s[DET_MAX]; /* packet time of the last alert, seconds */
	uint32_t fired;                 /* bit per det_id: fired at least once */
	uint64_t verdicts;              /* 2 bits per det_id: last known enum alert_verdict */
};

void alert_state_init(struct alert_state *s);

/* Whether an alert of detection id should go out now, and if so records
 * it. 0 when r is disabled. Non-posture rules: 1 on the first call, then
 * again only once rate_limit_s has passed since the last alert (0 = no
 * limit); a clock that steps back restarts the interval rather than firing.
 * Posture rules: 1 only when the recorded verdict is not already fail, and
 * records fail — so one alert per failing episode (see alert_verdict). */
int alert_should_fire(struct alert_state *s, enum det_id id, uint64_t now_us,
		      const struct det_rule *r);

/* Records a posture verdict for detection id. Returns a set of:
 * ALERT_CHANGED when the verdict differs from the last known one (the
 * device event should go out), ALERT_FIRE when it has just become fail and
 * r is enabled (emit the alert now). UNKNOWN never replaces a known verdict
 * (a window that restarts does not re-arm the alert). Works for any
 * detection, posture or not. */
#define ALERT_CHANGED 1
#define ALERT_FIRE 2
int alert_verdict(struct alert_state *s, enum det_id id, enum alert_verdict v,
		  uint64_t now_us, const struct det_rule *r);

/* The last known verdict of detection id. */
enum alert_verdict alert_verdict_get(const struct alert_state *s, enum det_id id);

#endif
