/* view.c — the latest state of the network from the emitted events (see
 * view.h), and the JSON bodies the API answers with.
 *
 * Each event is parsed (jansson) before the lock is taken; under the lock
 * the view only copies pointers and a few numbers. Device events are kept
 * as their text, so an answer is the events spliced into one array, exactly
 * as the sinks got them, and a device costs its ~5 KB of text rather than a
 * parsed tree several times that size.
 */
#include "web/view.h"

#include <stdlib.h>
#include <string.h>

#include "web/fields.h"
#include "web/view_int.h"

const char *const view_rcode_names[VIEW_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other"
};

json_t *fld_get(const json_t *o, const char *path)
{
	char key[64];
	const char *p = path;
	const json_t *at = o;
	json_t *cur = NULL;

	while (at != NULL && *p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		/* "@timestamp" and every key of fields.h fit; a longer one is
		 * not ours. */
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = json_is_object(at) ? json_object_get(at, key) : NULL;
		at = cur;
		p += n + (dot != NULL);
	}
	return cur;
}

const char *fld_str(const json_t *o, const char *path, const char *def)
{
	const char *s = json_string_value(fld_get(o, path));
	return s != NULL ? s : def;
}

json_t *fld_score_lines(const json_t *ev)
{
	json_t *a = json_array();
	const char *key;
	json_t *line;
	if (a == NULL)
		return NULL;
	fld_foreach_line(ev, key, line)
		json_array_append(a, line);
	return a;
}

struct web_view *view_new(uint32_t max_devices, uint32_t max_alerts, int keep_alert_text)
{
	struct web_view *v = calloc(1, sizeof(*v));
	if (v == NULL || max_devices == 0 || max_alerts == 0)
		goto fail;
	pthread_mutex_init(&v->mu, NULL);
	v->max_devices = max_devices;
	v->max_alerts = max_alerts;
	v->keep_alert_text = keep_alert_text;
	v->index = json_object();
	/* calloc: a slot's pages are touched only when a device lands in it. */
	v->devs = calloc(max_devices, sizeof(*v->devs));
	v->free_slots = calloc(max_devices, sizeof(*v->free_slots));
	v->alerts = calloc(max_alerts, sizeof(*v->alerts));
	if (v->index == NULL || v->devs == NULL || v->free_slots == NULL || v->alerts == NULL)
		goto fail;
	for (uint32_t i = 0; i < max_devices; i++)
		v->free_slots[i] = max_devices - 1 - i;
	v->nfree = max_devices;
	return v;
fail:
	view_free(v);
	return NULL;
}

struct view_text *view_text_new(const char *s, size_t len)
{
	struct view_text *t = malloc(sizeof(*t) + len + 1);
	if (t == NULL)
		return NULL;
	atomic_init(&t->ref, 1);
	t->len = len;
	memcpy(t->s, s, len);
	t->s[len] = '\0';
	return t;
}

struct view_text *view_text_ref(struct view_text *t)
{
	if (t != NULL)
		atomic_fetch_add(&t->ref, 1);
	return t;
}

void view_text_unref(struct view_text *t)
{
	if (t != NULL && atomic_fetch_sub(&t->ref, 1) == 1)
		free(t);
}

static void dev_clear(struct view_dev *d)
{
	view_text_unref(d->json);
	for (unsigned i = 0; i < d->nrules; i++)
		free(d->rules[i].text);
	memset(d, 0, sizeof(*d));
}

void view_free(struct web_view *v)
{
	if (v == NULL)
		return;
	if (v->devs != NULL)
		for (uint32_t i = 0; i < v->max_devices; i++)
			dev_clear(&v->devs[i]);
	if (v->alerts != NULL)
		for (uint32_t i = 0; i < v->max_alerts; i++)
			view_text_unref(v->alerts[i].json);
	for (unsigned i = 0; i < v->nvlans; i++)
		free(v->vlans[i].offer);
	json_decref(v->index);
	free(v->devs);
	free(v->free_slots);
	free(v->alerts);
	view_text_unref(v->stats);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

static char *dup_text(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* The slot of device id, or -1; a new slot when create and one is free. */
static long dev_find(struct web_view *v, const char *id, int create)
{
	json_t *slot = json_object_get(v->index, id);
	if (slot != NULL)
		return (long)json_integer_value(slot);
	if (!create)
		return -1;
	if (v->nfree == 0) {
		v->c.devices_refused++;
		return -1;
	}
	uint32_t s = v->free_slots[--v->nfree];
	json_object_set_new(v->index, id, json_integer(s));
	v->c.devices++;
	snprintf(v->devs[s].id, sizeof(v->devs[s].id), "%s", id);
	v->devs[s].used = 1;
	v->devs[s].score = -1;
	return (long)s;
}

static void dev_remove(struct web_view *v, const char *id)
{
	long s = dev_find(v, id, 0);
	if (s < 0)
		return;
	dev_clear(&v->devs[s]);
	json_object_del(v->index, id);
	v->free_slots[v->nfree++] = (uint32_t)s;
	v->c.devices--;
}

/* The compact summary of a device event, read before the lock. */
struct dev_facts {
	double score;
	uint16_t pass, fail;
	uint64_t rcodes[VIEW_RCODES];
	uint32_t vlan;
	const char *names[VIEW_LINES];
};

static void read_facts(const json_t *ev, struct dev_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->score = -1;
	json_t *score = fld_get(ev, FLD_SCORE);
	if (json_is_number(score))
		f->score = json_number_value(score);
	size_t i;
	const char *key;
	json_t *line;
	fld_foreach_line(ev, key, line) {
		json_int_t n = json_integer_value(json_object_get(line, FLD_LINE_NUMBER));
		const char *verdict = fld_str(line, FLD_LINE_VERDICT, "");
		if (n < 1 || n > VIEW_LINES)
			continue;
		f->names[n - 1] = fld_str(line, FLD_LINE_GUIDELINE, NULL);
		if (strcmp(verdict, "pass") == 0)
			f->pass |= (uint16_t)(1u << (n - 1));
		else if (strcmp(verdict, "fail") == 0)
			f->fail |= (uint16_t)(1u << (n - 1));
	}
	json_t *rc = fld_get(ev, FLD_DNS_RCODES);
	for (i = 0; i < VIEW_RCODES; i++)
		f->rcodes[i] = (uint64_t)json_integer_value(json_object_get(rc, view_rcode_names[i]));
	f->vlan = (uint32_t)json_integer_value(fld_get(ev, FLD_DEVICE_VLAN));
}

/* What a segment offers: the device event's network object less what is
 * the device's own (whether its DHCP was seen). */
static char *segment_offer(const json_t *ev)
{
	json_t *net = fld_get(ev, FLD_NETWORK);
	if (!json_is_object(net))
		return NULL;
	json_t *copy = json_copy(net);
	json_object_del(copy, "dhcp_seen");
	char *s = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	return s;
}

static void set_offer(struct web_view *v, uint32_t vlan, char *offer)
{
	unsigned i;
	for (i = 0; i < v->nvlans && v->vlans[i].vlan != vlan; i++)
		;
	if (i == v->nvlans) {
		if (v->nvlans == VIEW_VLANS) {
			free(offer);
			return;
		}
		v->vlans[v->nvlans++].vlan = vlan;
	}
	free(v->vlans[i].offer);
	v->vlans[i].offer = offer;
}

static void take_device(struct web_view *v, const json_t *ev, const char *json, size_t len)
{
	const char *id = fld_str(ev, FLD_DEVICE_ID, NULL);
	if (id == NULL) {
		v->c.bad_events++;
		return;
	}
	if (strcmp(fld_str(ev, FLD_REASON, ""), "evicted") == 0) {
		pthread_mutex_lock(&v->mu);
		dev_remove(v, id);
		pthread_mutex_unlock(&v->mu);
		return;
	}
	struct dev_facts f;
	read_facts(ev, &f);
	struct view_text *text = view_text_new(json, len);
	char *offer = segment_offer(ev);
	pthread_mutex_lock(&v->mu);
	long s = text != NULL ? dev_find(v, id, 1) : -1;
	if (s < 0) {
		pthread_mutex_unlock(&v->mu);
		view_text_unref(text);
		free(offer);
		return;
	}
	struct view_dev *d = &v->devs[s];
	view_text_unref(d->json);
	d->json = text;
	d->score = f.score;
	d->pass = f.pass;
	d->fail = f.fail;
	d->vlan = f.vlan;
	memcpy(d->rcodes, f.rcodes, sizeof(d->rcodes));
	for (unsigned i = 0; i < VIEW_LINES; i++)
		if (f.names[i] != NULL && v->line_names[i][0] == '\0')
			snprintf(v->line_names[i], sizeof(v->line_names[i]), "%s", f.names[i]);
	if (offer != NULL)
		set_offer(v, f.vlan, offer);
	pthread_mutex_unlock(&v->mu);
}

/* The rule's index in rule_ids, added when there is room; VIEW_RULES
 * ("other") when not. */
static unsigned rule_index(struct web_view *v, const char *id)
{
	for (unsigned i = 0; i < v->nrule_ids; i++)
		if (strcmp(v->rule_ids[i], id) == 0)
			return i;
	if (v->nrule_ids == VIEW_RULES || strlen(id) >= sizeof(v->rule_ids[0]))
		return VIEW_RULES;
	snprintf(v->rule_ids[v->nrule_ids], sizeof(v->rule_ids[0]), "%s", id);
	return v->nrule_ids++;
}

static void take_alert(struct web_view *v, const json_t *ev, const char *json, size_t len)
{
	const char *rule = fld_str(ev, FLD_RULE_ID, NULL);
	const char *dev = fld_str(ev, FLD_DEVICE_ID, "");
	const char *ts = fld_str(ev, FLD_TIMESTAMP, "");
	json_int_t sev = json_integer_value(fld_get(ev, FLD_SEVERITY));
	if (rule == NULL) {
		v->c.bad_events++;
		return;
	}
	if (sev < 1 || sev > 4)
		sev = 0;
	struct view_text *text = view_text_new(json, len);
	char *keep = v->keep_alert_text ? dup_text(json, len) : NULL;
	if (text == NULL) {
		free(keep);
		return;
	}
	pthread_mutex_lock(&v->mu);
	unsigned r = rule_index(v, rule);
	v->rule_counts[r][sev]++;
	v->c.alerts++;
	struct view_alert *a = &v->alerts[v->alert_seq % v->max_alerts];
	view_text_unref(a->json);
	a->seq = ++v->alert_seq;
	a->json = text;
	snprintf(a->ts, sizeof(a->ts), "%s", ts);
	snprintf(a->dev, sizeof(a->dev), "%s", dev);
	/* An alert can come before its device's first event reaches the view. */
	long s = dev[0] != '\0' && r < VIEW_RULES ? dev_find(v, dev, 1) : -1;
	if (s >= 0) {
		struct view_dev *d = &v->devs[s];
		unsigned i;
		for (i = 0; i < d->nrules && d->rules[i].rule != r; i++)
			;
		if (i == d->nrules && d->nrules < VIEW_DEV_RULES) {
			d->rules[i].rule = (uint16_t)r;
			snprintf(d->rules[i].first, sizeof(d->rules[i].first), "%s", ts);
			d->nrules++;
		}
		if (i < d->nrules) {
			struct view_dev_rule *dr = &d->rules[i];
			dr->count++;
			if ((uint8_t)sev > dr->severity)
				dr->severity = (uint8_t)sev;
			snprintf(dr->last, sizeof(dr->last), "%s", ts);
			free(dr->text);
			dr->text = keep;
			keep = NULL;
		} else {
			d->rules_dropped++;
		}
	}
	pthread_mutex_unlock(&v->mu);
	free(keep);
}

void view_ingest(struct web_view *v, int dataset, const char *json, size_t len)
{
	/* dns and tls events carry nothing the view keeps: not even parsed. */
	if (dataset != OUT_DS_DEVICE && dataset != OUT_DS_ALERT && dataset != OUT_DS_STATS)
		return;
	json_t *ev = json_loadb(json, len, 0, NULL);
	pthread_mutex_lock(&v->mu);
	v->c.events++;
	if (!json_is_object(ev))
		v->c.bad_events++;
	pthread_mutex_unlock(&v->mu);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return;
	}
	if (dataset == OUT_DS_DEVICE) {
		take_device(v, ev, json, len);
	} else if (dataset == OUT_DS_ALERT) {
		take_alert(v, ev, json, len);
	} else {
		struct view_text *text = view_text_new(json, len);
		if (text != NULL) {
			pthread_mutex_lock(&v->mu);
			view_text_unref(v->stats);
			v->stats = text;
			pthread_mutex_unlock(&v->mu);
		}
	}
	json_decref(ev);
}

/* ---- the sink ---------------------------------------------------------- */

struct view_sink {
	struct out_sink base;  /* first: the queue holds &base */
	struct web_view *v;
};

static size_t vs_write(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct web_view *v = ((struct view_sink *)s)->v;
	for (size_t i = 0; i < n; i++)
		view_ingest(v, ev[i].dataset, ev[i].json, ev[i].len);
	return n;
}

static int vs_nop(struct out_sink *s)
{
	(void)s;
	return 0;
}

static void vs_close(struct out_sink *s, uint64_t deadline_ms)
{
	(void)deadline_ms;
	free(s);
}

static const struct out_sink_ops view_ops = {
	.kind = "view", .write = vs_write, .flush = vs_nop, .reopen = vs_nop,
	.close = vs_close,
};

struct out_sink *view_sink(struct web_view *v)
{
	struct view_sink *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base.ops = &view_ops;
	s->base.priv = s;
	snprintf(s->base.name, sizeof(s->base.name), "view");
	s->v = v;
	return &s->base;
}

/* ---- answers ----------------------------------------------------------- */

/* A JSON string literal for s. */
static void put_str(FILE *f, const char *s)
{
	json_t *j = json_string(s);
	if (j == NULL) {
		fputs("\"\"", f);
		return;
	}
	char *t = json_dumps(j, JSON_ENCODE_ANY);
	fputs(t != NULL ? t : "\"\"", f);
	free(t);
	json_decref(j);
}

static int cmp_dev(const void *a, const void *b, void *ctx)
{
	const struct view_dev *devs = ctx;
	return strcmp(devs[*(const uint32_t *)a].id, devs[*(const uint32_t *)b].id);
}

/* Used slots in id order, malloc'd; *n set. Under the lock. */
static uint32_t *sorted_devs(struct web_view *v, size_t *n)
{
	uint32_t *ix = malloc(((size_t)v->max_devices + 1) * sizeof(*ix));
	*n = 0;
	if (ix == NULL)
		return NULL;
	for (uint32_t i = 0; i < v->max_devices; i++)
		if (v->devs[i].used && v->devs[i].json != NULL)
			ix[(*n)++] = i;
	qsort_r(ix, *n, sizeof(*ix), cmp_dev, v->devs);
	return ix;
}

/* {rule: {count, severity, first, last[, alert]}} of one device. */
static void put_dev_alerts(struct web_view *v, const struct view_dev *d, FILE *f, int full)
{
	fputc('{', f);
	for (unsigned i = 0; i < d->nrules; i++) {
		const struct view_dev_rule *r = &d->rules[i];
		if (i > 0)
			fputc(',', f);
		put_str(f, v->rule_ids[r->rule]);
		if (!full) {
			fprintf(f, ":%u", r->count);
			continue;
		}
		fprintf(f, ":{\"count\":%u,\"severity\":%u,\"first\":", r->count, r->severity);
		put_str(f, r->first);
		fputs(",\"last\":", f);
		put_str(f, r->last);
		if (r->text != NULL)
			fprintf(f, ",\"alert\":%s", r->text);
		fputc('}', f);
	}
	fputc('}', f);
}

/* Closes a memstream; its buffer (set by the close) or NULL. */
static char *finish(FILE *f, char **buf, size_t *len, const size_t *blen)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	*len = *blen;
	return *buf;
}

/* Writes texts joined by commas, and drops the references. */
static void put_texts(FILE *f, struct view_text **t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		fwrite(t[i]->s, 1, t[i]->len, f);
		view_text_unref(t[i]);
	}
}

char *view_devices_json(struct web_view *v, size_t offset, size_t limit, size_t *len)
{
	char *buf = NULL, *al = NULL;
	size_t blen = 0, alen = 0, n, k = 0;
	FILE *f = open_memstream(&buf, &blen);
	FILE *fa = open_memstream(&al, &alen);
	struct view_text **page = calloc(limit > 0 ? limit : 1, sizeof(*page));
	if (f == NULL || fa == NULL || page == NULL)
		goto fail;
	pthread_mutex_lock(&v->mu);
	uint32_t *ix = sorted_devs(v, &n);
	size_t end = ix == NULL ? 0 : offset < n ? (limit < n - offset ? offset + limit : n) : n;
	for (size_t i = offset; i < end; i++) {
		page[k++] = view_text_ref(v->devs[ix[i]].json);
		if (i > offset)
			fputc(',', fa);
		put_str(fa, v->devs[ix[i]].id);
		fputc(':', fa);
		put_dev_alerts(v, &v->devs[ix[i]], fa, 0);
	}
	pthread_mutex_unlock(&v->mu);
	free(ix);
	fclose(fa);
	fa = NULL;
	fprintf(f, "{\"total\":%zu,\"offset\":%zu,\"limit\":%zu,\"items\":[", n, offset, limit);
	put_texts(f, page, k);
	fprintf(f, "],\"alerts\":{%s}}", al != NULL ? al : "");
	free(page);
	free(al);
	return finish(f, &buf, len, &blen);
fail:
	if (f != NULL)
		fclose(f);
	if (fa != NULL)
		fclose(fa);
	free(buf);
	free(al);
	free(page);
	return NULL;
}

/* References to the ring's alerts, newest first, that match; the page
 * [offset, offset + limit) of them into out (room for limit). Under the
 * lock. Returns how many went into out; *total counts every match. */
static size_t ref_alerts(struct web_view *v, const char *since, const char *dev, size_t offset,
			 size_t limit, struct view_text **out, size_t *total)
{
	uint64_t have = v->alert_seq < v->max_alerts ? v->alert_seq : v->max_alerts;
	size_t k = 0;
	*total = 0;
	for (uint64_t i = 0; i < have; i++) {
		const struct view_alert *a = &v->alerts[(v->alert_seq - 1 - i) % v->max_alerts];
		if (since != NULL && since[0] != '\0' && strcmp(a->ts, since) < 0)
			continue;
		if (dev != NULL && strcmp(a->dev, dev) != 0)
			continue;
		if (*total >= offset && k < limit)
			out[k++] = view_text_ref(a->json);
		(*total)++;
	}
	return k;
}

char *view_device_json(struct web_view *v, const char *id, size_t *len)
{
	char *buf = NULL, *al = NULL;
	size_t blen = 0, alen = 0, total, k = 0;
	FILE *f = open_memstream(&buf, &blen);
	FILE *fa = open_memstream(&al, &alen);
	struct view_text **recent = calloc(v->max_alerts, sizeof(*recent));
	struct view_text *dev = NULL;
	if (f == NULL || fa == NULL || recent == NULL)
		goto fail;
	pthread_mutex_lock(&v->mu);
	long s = dev_find(v, id, 0);
	if (s >= 0 && v->devs[s].json != NULL) {
		dev = view_text_ref(v->devs[s].json);
		put_dev_alerts(v, &v->devs[s], fa, 1);
		k = ref_alerts(v, NULL, id, 0, v->max_alerts, recent, &total);
	}
	pthread_mutex_unlock(&v->mu);
	if (dev == NULL)
		goto fail;
	fclose(fa);
	fa = NULL;
	fputs("{\"device\":", f);
	put_texts(f, &dev, 1);
	fprintf(f, ",\"alerts\":%s,\"recent_alerts\":[", al != NULL ? al : "{}");
	put_texts(f, recent, k);
	fputs("]}", f);
	free(recent);
	free(al);
	return finish(f, &buf, len, &blen);
fail:
	if (f != NULL)
		fclose(f);
	if (fa != NULL)
		fclose(fa);
	free(buf);
	free(al);
	free(recent);
	return NULL;
}

char *view_alerts_json(struct web_view *v, const char *since, const char *device,
		       size_t offset, size_t limit, size_t *len)
{
	char *buf = NULL;
	size_t blen = 0, total, k;
	size_t room = limit < v->max_alerts ? limit : v->max_alerts;
	struct view_text **page = calloc(room > 0 ? room : 1, sizeof(*page));
	FILE *f = page != NULL ? open_memstream(&buf, &blen) : NULL;
	if (f == NULL) {
		free(page);
		return NULL;
	}
	pthread_mutex_lock(&v->mu);
	k = ref_alerts(v, since, device, offset, room, page, &total);
	uint64_t seq = v->alert_seq;
	pthread_mutex_unlock(&v->mu);
	fprintf(f, "{\"total\":%zu,\"offset\":%zu,\"limit\":%zu,\"alerts_seen\":%llu,\"items\":[",
		total, offset, limit, (unsigned long long)seq);
	put_texts(f, page, k);
	fputs("]}", f);
	free(page);
	return finish(f, &buf, len, &blen);
}

char *view_network_json(struct web_view *v, size_t *len)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&v->mu);
	fputs("{\"segments\":[", f);
	for (unsigned i = 0; i < v->nvlans; i++) {
		size_t ndev = 0;
		for (uint32_t k = 0; k < v->max_devices; k++)
			ndev += v->devs[k].json != NULL && v->devs[k].vlan == v->vlans[i].vlan;
		fprintf(f, "%s{\"vlan\":%u,\"devices\":%zu,\"offers\":%s}", i > 0 ? "," : "",
			v->vlans[i].vlan, ndev, v->vlans[i].offer);
	}
	fputs("]}", f);
	pthread_mutex_unlock(&v->mu);
	return finish(f, &buf, len, &blen);
}

char *view_stats_json(struct web_view *v, size_t *len)
{
	pthread_mutex_lock(&v->mu);
	struct view_text *t = view_text_ref(v->stats);
	pthread_mutex_unlock(&v->mu);
	char *s = t != NULL ? dup_text(t->s, t->len) : NULL;
	if (s != NULL)
		*len = t->len;
	view_text_unref(t);
	return s;
}

char *view_stats_text(struct web_view *v)
{
	size_t len;
	char *s = view_stats_json(v, &len);
	return s != NULL ? s : dup_text("", 0);
}

void view_each_device(struct web_view *v, view_device_fn fn, void *ctx)
{
	size_t n;
	pthread_mutex_lock(&v->mu);
	uint32_t *ix = sorted_devs(v, &n);
	for (size_t i = 0; ix != NULL && i < n; i++) {
		char *al = NULL;
		size_t alen = 0;
		FILE *f = open_memstream(&al, &alen);
		if (f == NULL)
			break;
		put_dev_alerts(v, &v->devs[ix[i]], f, 1);
		if (fclose(f) == 0)
			fn(ctx, v->devs[ix[i]].json->s, v->devs[ix[i]].json->len, al);
		free(al);
	}
	pthread_mutex_unlock(&v->mu);
	free(ix);
}

void view_get_counters(struct web_view *v, struct view_counters *c)
{
	pthread_mutex_lock(&v->mu);
	*c = v->c;
	pthread_mutex_unlock(&v->mu);
}
