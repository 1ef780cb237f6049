/* fields.h — where the web layer finds each fact in an event's JSON.
 *
 * The view, the metrics, the API and the report read events as the sinks
 * receive them, never the engine's state; every field they need is named
 * here once, as a dotted path from the top of the event, so a renamed event
 * field is one line to change. The web dashboard
 * keeps the same list in dashboards/web/app.js (FIELDS), the Grafana
 * dashboards use metric names only.
 */
#ifndef SW_WEB_FIELDS_H
#define SW_WEB_FIELDS_H

#include <jansson.h>

/* Every event */
#define FLD_TIMESTAMP        "@timestamp"
#define FLD_REASON           "event.reason"
/* stubwatch.device */
#define FLD_DEVICE           "stubwatch.device"
#define FLD_DEVICE_ID        "stubwatch.device.key"
#define FLD_DEVICE_MAC       "stubwatch.device.mac"
#define FLD_DEVICE_VLAN      "stubwatch.device.vlan"
#define FLD_DEVICE_VENDOR    "device.manufacturer"
#define FLD_DEVICE_HOSTNAME  "host.hostname"
#define FLD_DEVICE_IP        "host.ip"
#define FLD_DEVICE_FIRST     "stubwatch.device.first_seen"
#define FLD_DEVICE_LAST      "stubwatch.device.last_seen"
#define FLD_NETWORK          "stubwatch.network"
#define FLD_RESOLVERS        "stubwatch.resolvers"
#define FLD_ASSIGNED         "stubwatch.assigned_resolvers"
#define FLD_DNS              "stubwatch.dns"
#define FLD_DNS_QUERIES      "stubwatch.dns.queries"
#define FLD_DNS_RCODES       "stubwatch.dns.rcodes"
#define FLD_RANDOMNESS       "stubwatch.randomness"
#define FLD_ENCRYPTED        "stubwatch.encrypted"
#define FLD_SCORECARD        "stubwatch.scorecard"
#define FLD_SCORE            "stubwatch.scorecard.score"
/* in a scorecard line: the members of FLD_SCORECARD that are objects with
 * a line number (the others are its totals) */
#define FLD_LINE_NUMBER      "line"
#define FLD_LINE_GUIDELINE   "guideline"
#define FLD_LINE_VERDICT     "verdict"
#define FLD_LINE_EVIDENCE    "evidence"
/* stubwatch.alert */
#define FLD_RULE_ID          "rule.id"
#define FLD_RULE_NAME        "rule.name"
#define FLD_RULE_REFERENCE   "rule.reference"
#define FLD_SEVERITY         "event.severity"
#define FLD_MESSAGE          "message"
#define FLD_EVIDENCE         "stubwatch.evidence"
/* stubwatch.stats: the counters, under which the metrics table's paths go */
#define FLD_STATS            "stubwatch.stats"

/* The value at a dotted path ("a.b.c") in o, or NULL. Borrowed. */
json_t *fld_get(const json_t *o, const char *path);

/* The string at path, or def when it is missing or not a string. */
const char *fld_str(const json_t *o, const char *path, const char *def);

/* Each line of a device event's scorecard, in the event's order (line 1
 * first): key names the member, line is the line's object (borrowed). The
 * scorecard is looked up once (json_object_foreach reads its object at
 * every step); the outer loops run once, so break and continue act on the
 * lines. */
#define fld_foreach_line(ev, key, line) \
	for (int fld_once_ = 1; fld_once_; fld_once_ = 0) \
		for (json_t *fld_sc_ = fld_get(ev, FLD_SCORECARD); fld_once_; fld_once_ = 0) \
			json_object_foreach(fld_sc_, key, line) \
				if (json_is_object(line) && \
				    json_object_get(line, FLD_LINE_NUMBER) != NULL)

/* The scorecard's lines as a new array, in line order; empty without one. */
json_t *fld_score_lines(const json_t *ev);

#endif
