/* metrics.c — the view as Prometheus text exposition (format 0.0.4).
 *
 * Counters and gauges of the latest stubwatch.stats event come through one
 * table: each metric names the stats fields (dotted paths under
 * FLD_STATS) of its series and their labels, so a renamed stats field is one
 * line here. A path to an object of numbers becomes one series per key,
 * labelled with the metric's label name. Names and units follow Prometheus
 * conventions (_total for counters, base units in the name); labels are low
 * in cardinality: no MAC or IP address is ever a label.
 */
#include "web/view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/fields.h"
#include "web/view_int.h"

#define METRIC_SERIES 8

struct metric_series {
	const char *path;   /* under stubwatch.stats */
	const char *labels; /* 'name="value"' pairs, or NULL */
};

struct metric_def {
	const char *name;
	const char *type;   /* "counter" or "gauge" */
	const char *help;
	const char *key_label; /* for a path to an object: its keys' label */
	struct metric_series s[METRIC_SERIES];
};

static const struct metric_def stats_metrics[] = {
	{ "stubwatch_packets_total", "counter", "Packets read from the capture.", NULL,
	  { { "packets", NULL } } },
	{ "stubwatch_captured_bytes_total", "counter", "Bytes of the packets read.", NULL,
	  { { "bytes", NULL } } },
	{ "stubwatch_capture_received_packets_total", "counter",
	  "Packets the kernel handed to libpcap (live capture).", NULL,
	  { { "capture.received", NULL } } },
	{ "stubwatch_capture_dropped_packets_total", "counter",
	  "Packets lost before the sensor saw them, by where.", NULL,
	  { { "capture.dropped", "where=\"kernel\"" },
	    { "capture.if_dropped", "where=\"interface\"" } } },
	{ "stubwatch_decoded_packets_total", "counter", "Packets decoded, by protocol.", NULL,
	  { { "decode.ip", "protocol=\"ip\"" }, { "decode.arp", "protocol=\"arp\"" },
	    { "decode.ndp", "protocol=\"ndp\"" }, { "decode.ra", "protocol=\"ra\"" },
	    { "decode.dhcp", "protocol=\"dhcp\"" } } },
	{ "stubwatch_fragments_reassembled_total", "counter",
	  "IP datagrams reassembled from fragments.", NULL,
	  { { "decode.fragments_reassembled", NULL } } },
	{ "stubwatch_ip_mac_changes_total", "counter",
	  "IP addresses seen moving to another MAC.", NULL,
	  { { "decode.ip_mac_changes", NULL } } },
	{ "stubwatch_decode_anomalies_total", "counter",
	  "Malformed or unexpected packets, by named anomaly.", "anomaly",
	  { { "decode.anomalies", NULL } } },
	{ "stubwatch_dns_messages_total", "counter", "Unicast DNS messages, by transport.", NULL,
	  { { "dns.udp_messages", "transport=\"udp\"" },
	    { "dns.tcp_messages", "transport=\"tcp\"" } } },
	{ "stubwatch_dns_queries_total", "counter", "DNS queries, by transport.", "transport",
	  { { "dns.queries", NULL } } },
	{ "stubwatch_dns_responses_total", "counter", "DNS responses, by transport.", "transport",
	  { { "dns.responses", NULL } } },
	{ "stubwatch_dns_unanswered_queries_total", "counter",
	  "Queries that timed out without an answer.", NULL,
	  { { "dns.unanswered", NULL } } },
	{ "stubwatch_dns_unmatched_responses_total", "counter",
	  "Responses that matched no outstanding query.", NULL,
	  { { "dns.unmatched_responses", NULL } } },
	{ "stubwatch_dns_multicast_messages_total", "counter",
	  "mDNS and LLMNR messages, by protocol and kind.", NULL,
	  { { "dns.mdns.queries", "protocol=\"mdns\",kind=\"query\"" },
	    { "dns.mdns.responses", "protocol=\"mdns\",kind=\"response\"" },
	    { "dns.llmnr.queries", "protocol=\"llmnr\",kind=\"query\"" },
	    { "dns.llmnr.responses", "protocol=\"llmnr\",kind=\"response\"" } } },
	{ "stubwatch_dns_no_device_total", "counter",
	  "DNS messages no device could be found for.", NULL,
	  { { "dns.no_device", NULL } } },
	{ "stubwatch_table_entries", "gauge", "Entries in use, by state table.", NULL,
	  { { "tables.devices.count", "table=\"devices\"" },
	    { "tables.queries.count", "table=\"queries\"" },
	    { "tables.flows.count", "table=\"flows\"" },
	    { "tables.bindings.count", "table=\"bindings\"" },
	    { "encrypted_dns.table.count", "table=\"encrypted_flows\"" },
	    { "behaviour.answer_cache.count", "table=\"answer_cache\"" },
	    { "behaviour.connections_seen.count", "table=\"connections\"" } } },
	{ "stubwatch_table_capacity", "gauge", "Capacity, by state table.", NULL,
	  { { "tables.devices.capacity", "table=\"devices\"" },
	    { "tables.queries.capacity", "table=\"queries\"" },
	    { "tables.flows.capacity", "table=\"flows\"" },
	    { "tables.bindings.capacity", "table=\"bindings\"" },
	    { "encrypted_dns.table.capacity", "table=\"encrypted_flows\"" },
	    { "behaviour.answer_cache.capacity", "table=\"answer_cache\"" },
	    { "behaviour.connections_seen.capacity", "table=\"connections\"" } } },
	{ "stubwatch_table_evictions_total", "counter",
	  "Entries evicted because their table was full, by table.", NULL,
	  { { "tables.devices.evictions", "table=\"devices\"" },
	    { "tables.queries.evictions", "table=\"queries\"" },
	    { "tables.flows.evictions", "table=\"flows\"" },
	    { "tables.bindings.evictions", "table=\"bindings\"" },
	    { "encrypted_dns.table.evictions", "table=\"encrypted_flows\"" },
	    { "behaviour.answer_cache.evictions", "table=\"answer_cache\"" },
	    { "behaviour.connections_seen.evictions", "table=\"connections\"" },
	    { "integrity.answered.evictions", "table=\"answered\"" } } },
	{ "stubwatch_encrypted_dns_flows_total", "counter",
	  "TLS and QUIC flows judged, by what they carried.", NULL,
	  { { "encrypted_dns.flows.dot", "protocol=\"dot\"" },
	    { "encrypted_dns.flows.doh", "protocol=\"doh\"" },
	    { "encrypted_dns.flows.doq", "protocol=\"doq\"" },
	    { "encrypted_dns.flows.not_dns", "protocol=\"not_dns\"" } } },
	{ "stubwatch_events_total", "counter", "Events emitted, by dataset.", "dataset",
	  { { "output.events", NULL } } },
	{ "stubwatch_queue_dropped_events_total", "counter",
	  "Events dropped because the output queue was full.", NULL,
	  { { "output.queue_dropped", NULL } } },
	{ "stubwatch_queue_events", "gauge", "Events waiting in the output queue.", NULL,
	  { { "output.queue_depth", NULL } } },
	{ "stubwatch_queue_capacity_events", "gauge", "Size of the output queue.", NULL,
	  { { "output.queue_capacity", NULL } } },
};

/* Per-sink series: the fields of each element of output.sinks, labelled by
 * the sink's name and kind. */
static const struct { const char *field, *name, *type, *help; } sink_metrics[] = {
	{ "delivered", "stubwatch_sink_delivered_events_total", "counter",
	  "Events a sink took, live or from its spool." },
	{ "errors", "stubwatch_sink_errors_total", "counter",
	  "Failed writes and connection attempts of a sink." },
	{ "dropped", "stubwatch_sink_dropped_events_total", "counter",
	  "Events a sink lost (spool full, failed write)." },
	{ "spooled", "stubwatch_sink_spooled_events_total", "counter",
	  "Events written to a sink's spool." },
	{ "replayed", "stubwatch_sink_replayed_events_total", "counter",
	  "Events delivered from a sink's spool." },
	{ "reconnects", "stubwatch_sink_reconnects_total", "counter",
	  "Connections a sink re-established." },
	{ "spool_bytes", "stubwatch_sink_spool_bytes", "gauge", "Bytes in a sink's spool now." },
};

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped (the exposition format). */
static void put_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_value(FILE *f, const json_t *n)
{
	if (json_is_integer(n))
		fprintf(f, " %lld\n", (long long)json_integer_value(n));
	else
		fprintf(f, " %.17g\n", json_number_value(n));
}

static void put_stats(FILE *f, const json_t *stats)
{
	for (size_t m = 0; m < sizeof(stats_metrics) / sizeof(stats_metrics[0]); m++) {
		const struct metric_def *d = &stats_metrics[m];
		head(f, d->name, d->type, d->help);
		for (size_t i = 0; i < METRIC_SERIES && d->s[i].path != NULL; i++) {
			json_t *val = fld_get(stats, d->s[i].path);
			if (json_is_object(val) && d->key_label != NULL) {
				const char *k;
				json_t *x;
				json_object_foreach(val, k, x) {
					if (!json_is_number(x))
						continue;
					fprintf(f, "%s{%s=", d->name, d->key_label);
					put_label(f, k);
					fputc('}', f);
					put_value(f, x);
				}
			} else if (json_is_number(val)) {
				fputs(d->name, f);
				if (d->s[i].labels != NULL)
					fprintf(f, "{%s}", d->s[i].labels);
				put_value(f, val);
			}
		}
	}
	json_t *sinks = fld_get(stats, "output.sinks");
	for (size_t m = 0; m < sizeof(sink_metrics) / sizeof(sink_metrics[0]); m++) {
		size_t i;
		json_t *s;
		head(f, sink_metrics[m].name, sink_metrics[m].type, sink_metrics[m].help);
		json_array_foreach(sinks, i, s) {
			json_t *val = json_object_get(s, sink_metrics[m].field);
			if (!json_is_number(val))
				continue;
			fprintf(f, "%s{sink=", sink_metrics[m].name);
			put_label(f, fld_str(s, "name", ""));
			fputs(",kind=", f);
			put_label(f, fld_str(s, "kind", ""));
			fputc('}', f);
			put_value(f, val);
		}
	}
}

/* Seconds since the epoch of an RFC 3339 UTC time, or -1. */
static double parse_ts(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	double frac = *p == '.' ? strtod(p, NULL) : 0;
	return (double)timegm(&tm) + frac;
}

/* Score bands of the devices gauge: what a SOC colours red, amber, green. */
static const char *band_of(double score)
{
	if (score < 0)
		return "unscored";
	if (score < 0.5)
		return "0-49";
	if (score < 0.8)
		return "50-79";
	if (score < 1.0)
		return "80-99";
	return "100";
}

static void put_view(struct web_view *v, FILE *f)
{
	static const char *const bands[] = { "unscored", "0-49", "50-79", "80-99", "100" };
	uint64_t nband[5] = { 0 }, failing[VIEW_LINES] = { 0 }, rcodes[VIEW_RCODES] = { 0 };
	uint64_t ndev = 0;

	for (uint32_t i = 0; i < v->max_devices; i++) {
		const struct view_dev *d = &v->devs[i];
		if (d->json == NULL)
			continue;
		ndev++;
		const char *b = band_of(d->score);
		for (size_t k = 0; k < 5; k++)
			nband[k] += strcmp(bands[k], b) == 0;
		for (unsigned l = 0; l < VIEW_LINES; l++)
			failing[l] += (d->fail >> l) & 1u;
		for (unsigned r = 0; r < VIEW_RCODES; r++)
			rcodes[r] += d->rcodes[r];
	}
	head(f, "stubwatch_devices", "gauge", "Devices the sensor follows now.");
	fprintf(f, "stubwatch_devices %llu\n", (unsigned long long)ndev);
	head(f, "stubwatch_devices_by_score", "gauge",
	     "Devices by scorecard score band (percent of judged guidelines passed).");
	for (size_t k = 0; k < 5; k++)
		fprintf(f, "stubwatch_devices_by_score{band=\"%s\"} %llu\n", bands[k],
			(unsigned long long)nband[k]);
	head(f, "stubwatch_devices_failing", "gauge",
	     "Devices failing each guideline of the scorecard.");
	for (unsigned l = 0; l < VIEW_LINES; l++) {
		fprintf(f, "stubwatch_devices_failing{line=\"%u\",guideline=", l + 1);
		put_label(f, v->line_names[l]);
		fprintf(f, "} %llu\n", (unsigned long long)failing[l]);
	}
	head(f, "stubwatch_device_dns_responses", "gauge",
	     "Responses to the devices followed now, by response code.");
	for (unsigned r = 0; r < VIEW_RCODES; r++)
		fprintf(f, "stubwatch_device_dns_responses{rcode=\"%s\"} %llu\n",
			view_rcode_names[r], (unsigned long long)rcodes[r]);
	head(f, "stubwatch_alerts_total", "counter", "Alerts raised, by rule and severity.");
	for (unsigned r = 0; r <= VIEW_RULES; r++) {
		if (r < VIEW_RULES && r >= v->nrule_ids)
			continue;
		for (unsigned s = 0; s < 5; s++) {
			if (v->rule_counts[r][s] == 0)
				continue;
			fputs("stubwatch_alerts_total{rule=", f);
			put_label(f, r < VIEW_RULES ? v->rule_ids[r] : "other");
			fprintf(f, ",severity=\"%u\"} %llu\n", s,
				(unsigned long long)v->rule_counts[r][s]);
		}
	}
	head(f, "stubwatch_view_refused_devices_total", "counter",
	     "Devices the web view had no room for (more than devices.max).");
	fprintf(f, "stubwatch_view_refused_devices_total %llu\n",
		(unsigned long long)v->c.devices_refused);
	head(f, "stubwatch_view_bad_events_total", "counter",
	     "Events the web view could not read.");
	fprintf(f, "stubwatch_view_bad_events_total %llu\n", (unsigned long long)v->c.bad_events);
}

char *view_metrics(struct web_view *v, size_t *len)
{
	char *buf = NULL, *stats_text;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (f == NULL)
		return NULL;
	head(f, "stubwatch_build_info", "gauge", "The sensor's version, always 1.");
	fprintf(f, "stubwatch_build_info{version=\"%s\"} 1\n", SW_VERSION);
	/* Parsed outside the lock: a copy of the latest stats text. */
	stats_text = view_stats_text(v);
	json_t *ev = stats_text != NULL ? json_loads(stats_text, 0, NULL) : NULL;
	free(stats_text);
	if (ev != NULL) {
		head(f, "stubwatch_stats_timestamp_seconds", "gauge",
		     "Packet time of the latest stats event.");
		double t = parse_ts(fld_str(ev, FLD_TIMESTAMP, ""));
		if (t >= 0 && isfinite(t))
			fprintf(f, "stubwatch_stats_timestamp_seconds %.6f\n", t);
		put_stats(f, fld_get(ev, FLD_STATS));
		json_decref(ev);
	}
	pthread_mutex_lock(&v->mu);
	put_view(v, f);
	pthread_mutex_unlock(&v->mu);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = blen;
	return buf;
}
