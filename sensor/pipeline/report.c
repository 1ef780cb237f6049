/* report.c — what the pipeline reports: the stubwatch.stats event (its own
 * counters, the tables', the modules' and the output's) and the per-device
 * table at the end of a replay. */
#include "pipeline/engine.h"
#include "pipeline/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "dhcp/dhcp.h"
#include "output/event.h"

/* What a stats event shows of the engines, added up over them. */
struct totals {
	struct eng_counts c;
	uint64_t dec_anom[DEC_A_MAX];
	uint64_t reassembled;
	uint64_t tcp_buffers_exhausted;
	uint64_t queries_evicted;
	uint64_t bindings_changed;
	uint64_t tables[4][3];    /* devices, queries, flows, bindings: count, capacity, evictions */
	uint64_t now;             /* the newest packet time of any */
};

_Static_assert(sizeof(struct eng_counts) % sizeof(uint64_t) == 0,
	       "struct eng_counts holds uint64_t counts only");

static void add_table(uint64_t t[3], const struct tbl *tb)
{
	t[0] += tbl_count(tb);
	t[1] += tbl_capacity(tb);
	t[2] += tbl_evictions(tb);
}

static void add_engine(struct totals *t, const struct engine *e)
{
	const struct pipeline *pl = pl_of_const(e);
	/* Every member of eng_counts is a uint64_t (asserted above). */
	const uint64_t *src = (const uint64_t *)(const void *)&pl->c;
	uint64_t *dst = (uint64_t *)(void *)&t->c;
	for (size_t i = 0; i < sizeof(pl->c) / sizeof(uint64_t); i++)
		dst[i] += src[i];
	const uint64_t *da = dec_anomalies(pl->dec);
	for (int i = 0; i < DEC_A_MAX; i++)
		t->dec_anom[i] += da[i];
	t->reassembled += dec_reassembled(pl->dec);
	t->tcp_buffers_exhausted += e->st.pool.exhausted;
	t->queries_evicted += e->st.queries_evicted;
	t->bindings_changed += e->st.bindings_changed;
	add_table(t->tables[0], e->st.devices);
	add_table(t->tables[1], e->st.queries);
	add_table(t->tables[2], e->st.flows);
	add_table(t->tables[3], e->st.bindings);
	if (e->now > t->now)
		t->now = e->now;
}

static json_t *table_json(const uint64_t t[3])
{
	return json_pack("{s:I,s:I,s:I}", "count", (json_int_t)t[0], "capacity",
			 (json_int_t)t[1], "evictions", (json_int_t)t[2]);
}

/* One stats event. The last one of a run (final) waits until the sinks
 * have settled (out_settle: everything before it delivered, spooled
 * events replayed, or spooled for a sink that is down) and counts itself,
 * at each sink where it will end and among the stats events, so it
 * describes the final state. */
static void emit_stats(struct engine *const *es, size_t n, const char *reason, int final)
{
	struct engine *e = es[0];
	/* In a replay the stats must not depend on how far the sinks' threads
	 * got: wait until they have delivered everything before this event. */
	if (final)
		out_settle(e->out);
	else if (e->deterministic)
		out_drain(e->out);
	eng_stats_send(eng_stats_event(es, n, reason), e->out, final);
}

/* Each worker's own counters, beside the sums: how the devices spread, and
 * how many frames of other workers' devices it turned away. */
static json_t *workers_json(struct engine *const *es, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct pipeline *pl = pl_of_const(es[i]);
		json_array_append_new(a, json_pack("{s:I,s:I,s:I,s:I,s:I}",
			"worker", (json_int_t)i, "packets", (json_int_t)pl->c.packets,
			"queries", (json_int_t)pl->c.queries,
			"devices", (json_int_t)tbl_count(es[i]->st.devices),
			"foreign", (json_int_t)es[i]->foreign));
	}
	return a;
}

void *eng_stats_event(struct engine *const *es, size_t n, const char *reason)
{
	struct engine *e = es[0];
	const struct pipeline *pl = pl_of_const(e);
	struct totals t;
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < n; i++)
		add_engine(&t, es[i]);
	const struct eng_counts *c = &t.c;
	json_t *o = ev_base(t.now, "metric", "stubwatch.stats", e->observer);
	json_object_set_new(json_object_get(o, "event"), "reason", json_string(reason));
	json_t *st = json_object();
	json_object_set_new(st, "packets", json_integer((json_int_t)c->packets));
	json_object_set_new(st, "bytes", json_integer((json_int_t)c->bytes));
	/* libpcap's count is read between dispatches, so a stats event built
	 * in the middle of one would show fewer received than processed; every
	 * packet processed was received. */
	uint64_t received = pl->cap.received > c->packets ? pl->cap.received : c->packets;
	json_t *cap = json_pack("{s:I,s:I,s:I}",
		"received", (json_int_t)received, "dropped", (json_int_t)pl->cap.dropped,
		"if_dropped", (json_int_t)pl->cap.if_dropped);
	/* Which of several interfaces drops is what an operator must know (a
	 * ring too small on the busy one); with one, the totals say it. */
	if (pl->nifaces > 1) {
		json_t *each = json_array();
		for (unsigned i = 0; i < pl->nifaces; i++)
			json_array_append_new(each, json_pack("{s:s,s:I,s:I,s:I}",
				"name", pl->ifaces[i].name,
				"received", (json_int_t)pl->ifaces[i].st.received,
				"dropped", (json_int_t)pl->ifaces[i].st.dropped,
				"if_dropped", (json_int_t)pl->ifaces[i].st.if_dropped));
		json_object_set_new(cap, "interfaces", each);
	}
	json_object_set_new(st, "capture", cap);

	json_t *anom = json_object();
	for (int i = 0; i < DEC_A_MAX; i++)
		if (t.dec_anom[i])
			json_object_set_new(anom, dec_anomaly_name(i), json_integer((json_int_t)t.dec_anom[i]));
	for (int i = 1; i < DNS_A_MAX; i++)
		if (c->dns_anom[i])
			json_object_set_new(anom, dns_anomaly_name(i),
					    json_integer((json_int_t)c->dns_anom[i]));
	for (int i = 1; i < DHCP_ANOM_SLOTS && i < DHCP_A_MAX; i++)
		if (c->dhcp_anom[i])
			json_object_set_new(anom, dhcp_anomaly_name(i),
					    json_integer((json_int_t)c->dhcp_anom[i]));
	if (c->dns_short)
		json_object_set_new(anom, "dns_header_trunc", json_integer((json_int_t)c->dns_short));
	if (c->tcp_gap)
		json_object_set_new(anom, "dns_tcp_gap", json_integer((json_int_t)c->tcp_gap));
	if (c->tcp_skipped)
		json_object_set_new(anom, "dns_tcp_resync_skip", json_integer((json_int_t)c->tcp_skipped));
	if (c->tcp_oversize)
		json_object_set_new(anom, "dns_tcp_oversize", json_integer((json_int_t)c->tcp_oversize));
	if (c->time_jump)
		json_object_set_new(anom, "capture_time_jump", json_integer((json_int_t)c->time_jump));
	if (c->time_back)
		json_object_set_new(anom, "capture_time_back", json_integer((json_int_t)c->time_back));
	if (c->caplen_over)
		json_object_set_new(anom, "capture_caplen_over_len",
				    json_integer((json_int_t)c->caplen_over));
	if (t.tcp_buffers_exhausted)
		json_object_set_new(anom, "dns_tcp_buffers_exhausted",
				    json_integer((json_int_t)t.tcp_buffers_exhausted));
	json_object_set_new(st, "decode", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		"ip", (json_int_t)c->ip, "arp", (json_int_t)c->arp,
		"ndp", (json_int_t)c->ndp, "ra", (json_int_t)c->ra,
		"fragments_reassembled", (json_int_t)t.reassembled,
		"dhcp", (json_int_t)c->dhcp,
		"ip_mac_changes", (json_int_t)t.bindings_changed,
		"anomalies", anom));
	json_t *dns = json_object();
	json_object_set_new(dns, "udp_messages", json_integer((json_int_t)c->dns_udp_msgs));
	json_object_set_new(dns, "tcp_messages", json_integer((json_int_t)c->dns_tcp_msgs));
	json_object_set_new(dns, "queries", json_pack("{s:I,s:I}",
		"udp", (json_int_t)(c->queries - c->queries_tcp),
		"tcp", (json_int_t)c->queries_tcp));
	json_object_set_new(dns, "responses", json_pack("{s:I,s:I}",
		"udp", (json_int_t)(c->responses - c->responses_tcp),
		"tcp", (json_int_t)c->responses_tcp));
	json_object_set_new(dns, "unanswered", json_integer((json_int_t)c->unanswered));
	json_object_set_new(dns, "unmatched_responses", json_integer((json_int_t)c->unmatched));
	json_object_set_new(dns, "mdns", json_pack("{s:I,s:I}",
		"queries", (json_int_t)(c->mdns - c->mdns_responses),
		"responses", (json_int_t)c->mdns_responses));
	json_object_set_new(dns, "llmnr", json_pack("{s:I,s:I}",
		"queries", (json_int_t)(c->llmnr - c->llmnr_responses),
		"responses", (json_int_t)c->llmnr_responses));
	json_object_set_new(dns, "no_device", json_integer((json_int_t)c->no_device));
	json_object_set_new(dns, "tcp_retransmitted_segments", json_integer((json_int_t)c->tcp_retrans));
	json_object_set_new(st, "dns", dns);
	json_t *tables = json_object();
	json_object_set_new(tables, "devices", table_json(t.tables[0]));
	json_t *qt = table_json(t.tables[1]);
	json_object_set_new(qt, "evicted_outstanding", json_integer((json_int_t)t.queries_evicted));
	json_object_set_new(tables, "queries", qt);
	json_object_set_new(tables, "flows", table_json(t.tables[2]));
	json_object_set_new(tables, "bindings", table_json(t.tables[3]));
	json_object_set_new(st, "tables", tables);
	/* The modules write their own counters, not yet declared where they
	 * could be summed: the first engine's. */
	EACH_MODULE(e, stats_json, st);
	if (n > 1)
		json_object_set_new(st, "workers", workers_json(es, n));
	json_object_set_new(o, "stubwatch", json_pack("{s:o}", "stats", st));
	return o;
}

void eng_stats_send(void *event, struct out *out, int final)
{
	json_t *o = event;
	json_t *st = json_object_get(json_object_get(o, "stubwatch"), "stats");
	struct out_stats os;
	out_get_stats(out, &os);
	static const char *const ds[OUT_DS_MAX] = { "alert", "device", "dns", "stats", "tls" };
	if (final)
		os.emitted[OUT_DS_STATS]++;
	json_t *evs = json_object();
	for (int i = 0; i < OUT_DS_MAX; i++)
		json_object_set_new(evs, ds[i], json_integer((json_int_t)os.emitted[i]));
	json_t *sinks = json_array();
	for (size_t i = 0; i < out_sink_count(out); i++) {
		struct out_sink_stats ss;
		if (out_get_sink_stats(out, i, &ss) != 0)
			continue;
		if (final) {
			int fate = out_sink_fate(out, i);
			ss.delivered += fate == OUT_FATE_DELIVER;
			ss.spooled += fate == OUT_FATE_SPOOL;
			ss.dropped += fate == OUT_FATE_DROP;
		}
		json_array_append_new(sinks, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"name", ss.name, "kind", out_sink_at(out, i)->ops->kind,
			"delivered", (json_int_t)ss.delivered, "errors", (json_int_t)ss.errors,
			"dropped", (json_int_t)ss.dropped, "spooled", (json_int_t)ss.spooled,
			"replayed", (json_int_t)ss.replayed, "reconnects", (json_int_t)ss.reconnects,
			"spool_bytes", (json_int_t)ss.spool_bytes));
	}
	json_object_set_new(st, "output", json_pack("{s:o,s:I,s:i,s:i,s:o}",
		"events", evs, "queue_dropped", (json_int_t)os.queue_dropped,
		"queue_depth", os.queue_depth, "queue_capacity", os.queue_capacity,
		"sinks", sinks));
	ev_emit(out, OUT_DS_STATS, "", o);
}

void eng_emit_stats(struct engine *e, const char *reason)
{
	eng_emit_stats_of(&e, 1, reason);
}

void eng_emit_stats_of(struct engine *const *es, size_t n, const char *reason)
{
	emit_stats(es, n, reason, 0);
}

void eng_emit_final_stats(struct engine *e)
{
	emit_stats(&e, 1, "exit", 1);
}


/* A row of the table: a device and the engine that holds it. */
struct row {
	struct engine *e;
	struct device *d;
};

static int cmp_dev_id(const void *a, const void *b)
{
	const struct device *x = ((const struct row *)a)->d;
	const struct device *y = ((const struct row *)b)->d;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Copies at most n display characters of s, for a table cell. */
static void cell(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i = 0;
	for (; s != NULL && s[i] && i < n && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	out[i] = '\0';
	if (i == 0 && outsz > 1) {
		out[0] = '-';
		out[1] = '\0';
	}
}

void eng_print_summary(struct engine *e, FILE *f)
{
	eng_print_summary_of(&e, 1, f);
}

void eng_print_summary_of(struct engine *const *es, size_t ne, FILE *f)
{
	static const char *const mark[] = { "?", "\u2714", "\u2718" }; /* ? ✔ ✘ */
	uint32_t n = 0;
	uint64_t packets = 0, queries = 0, responses = 0;
	for (size_t k = 0; k < ne; k++) {
		n += tbl_count(es[k]->st.devices);
		packets += pl_of(es[k])->c.packets;
		queries += pl_of(es[k])->c.queries;
		responses += pl_of(es[k])->c.responses;
	}
	struct row *list = calloc(n ? n : 1, sizeof(*list));
	if (list == NULL)
		return;
	uint32_t i = 0;
	for (size_t k = 0; k < ne; k++)
		for (struct device *d = tbl_next(es[k]->st.devices, NULL); d != NULL && i < n;
		     d = tbl_next(es[k]->st.devices, d))
			list[i++] = (struct row){ es[k], d };
	qsort(list, i, sizeof(*list), cmp_dev_id);

	fprintf(f, "\nstubwatch: %llu packets, %llu DNS queries, %llu responses, %u devices\n\n",
		(unsigned long long)packets, (unsigned long long)queries,
		(unsigned long long)responses, n);
	fprintf(f, "%-17s %-20s %-18s %7s %5s %-24s  %-22s %5s %6s\n", "DEVICE", "VENDOR",
		"HOSTNAME", "QUERIES", "UNANS", "RESOLVERS (queries)",
		"1 2 3 4 5 6 7 8 9 10 11", "SCORE", "ALERTS");
	for (uint32_t j = 0; j < i; j++) {
		struct engine *e = list[j].e;
		struct device *d = list[j].d;
		struct dctx c;
		eng_dctx(e, d, &c);
		char id[FMT_IP_LEN], vendor[24], host[24], res[64] = "";
		ev_dev_keytext(c.k, id, sizeof(id));
		const char *vn = NULL;
		if (e->oui != NULL && !c.k->by_ip)
			vn = enr_mac_info(e->oui, c.k->mac).vendor;
		cell(vendor, sizeof(vendor), vn, 20);
		cell(host, sizeof(host), d->hostname, 18);
		size_t o = 0;
		for (unsigned r = 0; r < d->nres && o < sizeof(res) - 1; r++) {
			char rip[FMT_IP_LEN];
			fmt_ip(rip, d->res[r].ip);
			int w = snprintf(res + o, sizeof(res) - o, "%s%s(%u)", r ? " " : "", rip,
					 d->res[r].queries);
			if (w < 0)
				break;
			o += (size_t)w;
		}
		/* Keep the column: a long list ends in "+" (the JSON has it all). */
		if (strlen(res) > 24) {
			res[23] = '+';
			res[24] = '\0';
		}
		int lines[11];
		post_lines(e, &c, lines);
		char sc[64] = "";
		int pass = 0, fail = 0;
		o = 0;
		for (int l = 0; l < 11; l++) {
			pass += lines[l] == VERDICT_PASS;
			fail += lines[l] == VERDICT_FAIL;
			o += (size_t)snprintf(sc + o, sizeof(sc) - o, "%s%s", l ? (l >= 9 ? "  " : " ") : "",
					      mark[lines[l] % 3]);
		}
		char score[8] = "-";
		if (pass + fail)
			snprintf(score, sizeof(score), "%.2f", (double)pass / (double)(pass + fail));
		fprintf(f, "%-17s %-20s %-18s %7llu %5llu %-24s  %s  %5s %6d\n", id, vendor, host,
			(unsigned long long)d->c.queries, (unsigned long long)d->c.unanswered,
			res[0] ? res : "-", sc, score, __builtin_popcount(c.dd->alerts.fired));
	}
	fprintf(f, "\nScorecard (\u2714 pass, \u2718 fail, ? not enough evidence): 1 uses the "
		"assigned resolver; 2 encrypted DNS; 3 random ports; 4 random IDs; 5 EDNS(0); "
		"6 TCP fallback; 7 honours TTLs; 8 backs off; 9 IPv6; 10 DNSSEC; 11 MUD.\n");
	free(list);
}
