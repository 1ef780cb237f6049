/* view.h — the latest state of the network, kept from the events the sensor
 * emits, for the HTTP endpoint and the report.
 *
 * The view is fed as one more sink of the output queue (view_sink), so it
 * sees exactly the events every other sink sees, on its own thread, and
 * never touches capture or engine state. It keeps, within fixed bounds:
 * the latest stubwatch.device event of every device (as text, with a
 * compact summary: score, verdicts, rcodes), a ring of the most recent
 * alerts, per-device and per-rule alert counts, what each segment offers,
 * and the latest stubwatch.stats event.
 *
 * Locking: one mutex guards everything. The sink's thread takes it only to
 * swap in what it has already parsed; readers (the HTTP thread, the report)
 * take it to copy out the text they answer with. Neither holds it across
 * I/O, and capture never takes it.
 */
#ifndef SW_WEB_VIEW_H
#define SW_WEB_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output/out.h"

struct web_view;

/* Bounds: max_devices devices (the engine's devices.max, which evicts with
 * a last device event, so the view mirrors its table), max_alerts recent
 * alerts. keep_alert_text also keeps, per device and rule, the text of the
 * latest alert (the report quotes it; a live sensor does not need it).
 * NULL when out of memory. */
struct web_view *view_new(uint32_t max_devices, uint32_t max_alerts, int keep_alert_text);
void view_free(struct web_view *v);

/* A sink that feeds v (kind "view"). The queue owns the sink and closes it
 * in out_stop(); closing it leaves v alone. NULL when out of memory. */
struct out_sink *view_sink(struct web_view *v);

/* Takes one event (what the sink's write does for each; tests call it
 * directly). Events that are not JSON objects are counted and ignored. */
void view_ingest(struct web_view *v, int dataset, const char *json, size_t len);

/* Response bodies, malloc'd, caller frees; *len set. The same objects as the
 * events, in pages: {"total":N,"offset":O,"limit":L,"items":[...]}.
 *   devices: ordered by device id; "alerts" maps each id on the page to
 *     {rule: count};
 *   device: {"device": <event>, "alerts": {rule: {count, severity,
 *     first, last}}, "recent_alerts": [<alert events in the ring>]}, or
 *     NULL when the view has no such device;
 *   alerts: newest first, @timestamp >= since (RFC 3339, "" = all), of one
 *     device when device is not NULL;
 *   network: one object per VLAN: what its latest device event says the
 *     segment offers, and how many devices it has;
 *   stats: the latest stubwatch.stats event, or NULL before the first. */
char *view_devices_json(struct web_view *v, size_t offset, size_t limit, size_t *len);
char *view_device_json(struct web_view *v, const char *id, size_t *len);
char *view_alerts_json(struct web_view *v, const char *since, const char *device,
		       size_t offset, size_t limit, size_t *len);
char *view_network_json(struct web_view *v, size_t *len);
char *view_stats_json(struct web_view *v, size_t *len);

/* Prometheus text exposition (format 0.0.4) of the latest stats event and
 * of the view's own aggregates (alerts by rule and severity, devices by
 * score band and failing guideline, responses by rcode). metrics.c. */
char *view_metrics(struct web_view *v, size_t *len);

/* Calls fn for every device, ordered by id, with its latest device event
 * and its alerts as JSON text ({rule: {count, severity, first, last,
 * alert}}; alert only with keep_alert_text). Holds the lock throughout:
 * for the report, after capture has ended. */
typedef void (*view_device_fn)(void *ctx, const char *event, size_t len,
			       const char *alerts);
void view_each_device(struct web_view *v, view_device_fn fn, void *ctx);

/* The latest stats event's text ("" before one), into a malloc'd copy. */
char *view_stats_text(struct web_view *v);

/* Counts of what the view had to refuse (device table full, unparsable
 * events); safe from any thread. */
struct view_counters {
	uint64_t events;
	uint64_t devices;
	uint64_t devices_refused;
	uint64_t bad_events;
	uint64_t alerts;
};
void view_get_counters(struct web_view *v, struct view_counters *c);

#endif
