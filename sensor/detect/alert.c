/* alert.c — stubwatch.alert events (ECS fields) and per-device rate limits. */
#include "detect/alert.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "dns/dns.h"
#include "output/event.h"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

/* An alert is about 1 KB before evidence; start with room for both. */
#define ALERT_HINT 2048

int alert_severity(const struct det_rule *r, int escalated)
{
	if (escalated && r->severity_escalated != 0)
		return r->severity_escalated;
	return r->severity;
}

/* Writes UTF-8 text from the rules (names, references, operators) so that
 * it reads back as the same characters. The event writer escapes every
 * byte >= 0x80 on its own as \u00XX, i.e. as Latin-1; so the text is first
 * turned into Latin-1, which the loader guarantees is enough (it refuses
 * code points above U+00FF; anything else still becomes '?'). */
static void w_text(struct jw *w, const char *key, const char *utf8)
{
	char buf[1024];
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)utf8;
	while (*p && n < sizeof(buf)) {
		if (*p < 0x80) {
			buf[n++] = (char)*p++;
		} else if ((*p == 0xc2 || *p == 0xc3) && (p[1] & 0xc0) == 0x80) {
			buf[n++] = (char)(((p[0] & 0x1f) << 6) | (p[1] & 0x3f));
			p += 2;
		} else {
			buf[n++] = '?';
			p++;
			while ((*p & 0xc0) == 0x80)
				p++;
		}
	}
	jw_strn(w, key, buf, n);
}

static void w_device(struct jw *w, const struct alert_ctx *c)
{
	const struct dev_key *k = c->dev;
	char id[FMT_IP_LEN];
	ev_dev_keytext(k, id, sizeof(id));
	jw_obj(w, "device");
	jw_str(w, "id", id);
	if (!k->by_ip)
		jw_mac_text(w, "mac", k->mac);
	jw_uint(w, "vlan", k->vlan);
	if (c->vendor != NULL)
		jw_str(w, "vendor", c->vendor);
	if (c->hostname != NULL)
		jw_str(w, "hostname", c->hostname);
	if (c->d != NULL) {
		jw_arr(w, "ip");
		for (unsigned i = 0; i < c->d->nv4 && i < DEV_MAX_V4; i++) {
			uint8_t ip[16];
			ip_from_v4(ip, c->d->v4[i]);
			jw_ip_text(w, NULL, ip);
		}
		for (unsigned i = 0; i < c->d->nv6 && i < DEV_MAX_V6; i++)
			jw_ip_text(w, NULL, c->d->v6[i]);
		jw_end(w);
		jw_time_text(w, "first_seen", c->d->first_seen);
		jw_time_text(w, "last_seen", c->d->last_seen);
	}
	jw_end(w);
}

void alert_geo_json(struct jw *w, const struct enr_geo_info *gi, const char *operator)
{
	if (gi != NULL && (gi->country_iso[0] || gi->country_name[0] || gi->city_name[0])) {
		jw_obj(w, "geo");
		if (gi->country_iso[0])
			jw_str(w, "country_iso_code", gi->country_iso);
		if (gi->country_name[0])
			jw_str(w, "country_name", gi->country_name);
		if (gi->city_name[0])
			jw_str(w, "city_name", gi->city_name);
		jw_end(w);
	}
	const char *org = gi != NULL && gi->as_org[0] ? gi->as_org : operator;
	if ((gi != NULL && gi->asn) || org != NULL) {
		jw_obj(w, "as");
		if (gi != NULL && gi->asn)
			jw_uint(w, "number", gi->asn);
		if (org != NULL) {
			jw_obj(w, "organization");
			jw_str(w, "name", org);
			jw_end(w);
		}
		jw_end(w);
	}
}

static void w_rule(struct jw *w, const char *key, const struct det_rule *r)
{
	jw_obj(w, key);
	jw_str(w, "id", r->id_text);
	w_text(w, "name", r->name);
	jw_str(w, "category", r->category);
	jw_arr(w, "reference");
	for (unsigned i = 0; i < r->nrefs; i++)
		w_text(w, NULL, r->refs[i]);
	jw_end(w);
	jw_end(w);
}

char *alert_rule_json(const struct det_rule *r, size_t *len)
{
	struct jw w;
	jw_init(&w, 256);
	w_rule(&w, NULL, r);
	return jw_take(&w, len);
}

void alert_begin(struct jw *w, const struct det_rule *r, const struct alert_ctx *c,
		 const char *message)
{
	jw_init(w, ALERT_HINT);
	jw_obj(w, NULL);
	jw_time_text(w, "@timestamp", c->ts_us);

	jw_obj(w, "event");
	jw_str(w, "kind", "alert");
	jw_str(w, "dataset", "stubwatch.alert");
	jw_uint(w, "severity", (uint64_t)alert_severity(r, c->escalated));
	jw_arr(w, "category");
	jw_str(w, NULL, "network");
	jw_end(w);
	if (c->reason != NULL)
		jw_str(w, "reason", c->reason);
	jw_end(w);

	jw_obj(w, "observer");
	jw_str(w, "name", c->observer != NULL ? c->observer : "");
	jw_str(w, "product", "stubwatch");
	jw_str(w, "version", SW_VERSION);
	jw_end(w);

	if (r->json != NULL)
		jw_raw(w, "rule", r->json, r->json_len);
	else
		w_rule(w, "rule", r);

	jw_str(w, "message", message != NULL ? message : "");

	if ((c->dev != NULL && !c->dev->by_ip) || c->src_ip != NULL) {
		jw_obj(w, "source");
		if (c->dev != NULL && !c->dev->by_ip)
			jw_mac_text(w, "mac", c->dev->mac);
		if (c->src_ip != NULL)
			jw_ip_text(w, "ip", c->src_ip);
		jw_end(w);
	}
	if (c->dev != NULL)
		w_device(w, c);
	if (c->dst_ip != NULL) {
		jw_obj(w, "destination");
		jw_ip_text(w, "ip", c->dst_ip);
		jw_uint(w, "port", c->dst_port);
		alert_geo_json(w, c->dst_geo, c->dst_operator);
		jw_end(w);
	}
	if (c->qname != NULL || c->dns_id >= 0) {
		jw_obj(w, "dns");
		if (c->dns_id >= 0)
			jw_uint(w, "id", (uint64_t)c->dns_id);
		if (c->qname != NULL) {
			jw_obj(w, "question");
			jw_str(w, "name", c->qname);
			const char *t = dns_type_name(c->qtype);
			if (t != NULL) {
				jw_str(w, "type", t);
			} else {
				char num[16];
				snprintf(num, sizeof(num), "TYPE%u", c->qtype); /* RFC 3597 §5 */
				jw_str(w, "type", num);
			}
			jw_end(w);
		}
		jw_end(w);
	}

	jw_obj(w, "stubwatch");
	jw_obj(w, "evidence");
}

char *alert_finish(struct jw *w, size_t *len)
{
	while (w->depth > 0 && !w->err)
		jw_end(w);
	return jw_take(w, len);
}

int alert_emit(struct out *o, struct jw *w, const struct alert_ctx *c)
{
	char key[FMT_IP_LEN] = "";
	if (c->dev != NULL)
		ev_dev_keytext(c->dev, key, sizeof(key));
	else if (c->dst_ip != NULL)
		fmt_ip(key, c->dst_ip);
	size_t len = 0;
	char *text = alert_finish(w, &len);
	jw_free(w);
	return ev_emit_text(o, OUT_DS_ALERT, key, text, len);
}

/* ------------------------------------------------------------------ */
/* Rate limits                                                          */

void alert_state_init(struct alert_state *s)
{
	memset(s, 0, sizeof(*s));
}

enum alert_verdict alert_verdict_get(const struct alert_state *s, enum det_id id)
{
	return (enum alert_verdict)((s->verdicts >> (2 * (unsigned)id)) & 3u);
}

static void set_verdict(struct alert_state *s, enum det_id id, enum alert_verdict v)
{
	unsigned sh = 2 * (unsigned)id;
	s->verdicts = (s->verdicts & ~(UINT64_C(3) << sh)) | ((uint64_t)v << sh);
}

static void mark_fired(struct alert_state *s, enum det_id id, uint32_t now_s)
{
	s->last_fired_s[id] = now_s;
	s->fired |= UINT32_C(1) << id;
}

int alert_should_fire(struct alert_state *s, enum det_id id, uint64_t now_us,
		      const struct det_rule *r)
{
	if ((unsigned)id >= DET_MAX || r == NULL || !r->enabled)
		return 0;
	uint32_t now_s = (uint32_t)(now_us / 1000000);
	if (r->posture) {
		if (alert_verdict_get(s, id) == VERDICT_FAIL)
			return 0;
		set_verdict(s, id, VERDICT_FAIL);
		mark_fired(s, id, now_s);
		return 1;
	}
	if (s->fired & (UINT32_C(1) << id)) {
		uint32_t last = s->last_fired_s[id];
		if (now_s < last) {
			/* Packet time stepped back (clock change, next file):
			 * start the interval again from here. */
			s->last_fired_s[id] = now_s;
			return 0;
		}
		if (now_s - last < r->rate_limit_s)
			return 0;
	}
	mark_fired(s, id, now_s);
	return 1;
}

int alert_verdict(struct alert_state *s, enum det_id id, enum alert_verdict v,
		  uint64_t now_us, const struct det_rule *r)
{
	if ((unsigned)id >= DET_MAX || v == VERDICT_UNKNOWN || (unsigned)v > VERDICT_FAIL)
		return 0;
	enum alert_verdict old = alert_verdict_get(s, id);
	if (old == v)
		return 0;
	set_verdict(s, id, v);
	int rc = ALERT_CHANGED;
	if (v == VERDICT_FAIL && r != NULL && r->enabled) {
		mark_fired(s, id, (uint32_t)(now_us / 1000000));
		rc |= ALERT_FIRE;
	}
	return rc;
}

int verdict_worst(int a, int b)
{
	if (a == VERDICT_FAIL || b == VERDICT_FAIL)
		return VERDICT_FAIL;
	if (a == VERDICT_PASS || b == VERDICT_PASS)
		return VERDICT_PASS;
	return VERDICT_UNKNOWN;
}
