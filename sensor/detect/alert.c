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

/* rule.reference wants URLs: "RFC 6891 §6.2.5" becomes the RFC Editor's
 * page of RFC 6891 at section 6.2.5, "draft-name-04: why" the draft's page
 * at the IETF datatracker; a URL passes as it is, and any other text is
 * kept (it is what the rules file says). */
static void w_reference(struct jw *w, const char *key, const char *ref)
{
	char url[512];
	unsigned num = 0;
	int used = 0;
	if (strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0) {
		w_text(w, key, ref);
		return;
	}
	if (sscanf(ref, "RFC %u%n", &num, &used) == 1 && num > 0) {
		const char *sec = strstr(ref + used, "\xc2\xa7"); /* § in UTF-8 */
		size_t n = sec != NULL ? strspn(sec + 2, "0123456789.") : 0;
		while (n > 0 && sec[2 + n - 1] == '.')
			n--;
		if (n > 0)
			snprintf(url, sizeof(url), "https://www.rfc-editor.org/rfc/rfc%u#section-%.*s",
				 num, (int)n, sec + 2);
		else
			snprintf(url, sizeof(url), "https://www.rfc-editor.org/rfc/rfc%u", num);
		jw_str(w, key, url);
		return;
	}
	if (strncmp(ref, "draft-", 6) == 0) {
		size_t n = strspn(ref, "abcdefghijklmnopqrstuvwxyz0123456789-");
		snprintf(url, sizeof(url), "https://datatracker.ietf.org/doc/html/%.*s", (int)n, ref);
		jw_str(w, key, url);
		return;
	}
	w_text(w, key, ref);
}

static void w_rule(struct jw *w, const char *key, const struct det_rule *r)
{
	jw_obj(w, key);
	jw_str(w, "id", r->id_text);
	w_text(w, "name", r->name);
	jw_str(w, "category", r->category);
	if (r->description != NULL)
		w_text(w, "description", r->description);
	/* ECS has one reference URL: the first; stubwatch.rule.references
	 * lists them all. */
	if (r->nrefs > 0)
		w_reference(w, "reference", r->refs[0]);
	jw_str(w, "ruleset", "stubwatch");
	jw_str(w, "version", SW_VERSION);
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
	ev_jw_head(w, c->ts_us, "alert", "stubwatch.alert", "network,intrusion_detection", "info");
	jw_uint(w, "severity", (uint64_t)alert_severity(r, c->escalated));
	if (c->reason != NULL)
		jw_str(w, "reason", c->reason);
	jw_end(w);
	ev_jw_observer(w, c->observer, c->src_ip != NULL);

	if (r->json != NULL)
		jw_raw(w, "rule", r->json, r->json_len);
	else
		w_rule(w, "rule", r);

	jw_str(w, "message", message != NULL ? message : "");

	/* source.ip: the address in the packet, else the device's first one
	 * (posture findings are about the device, not one packet). */
	uint8_t dev_ip[16];
	const uint8_t *src_ip = c->src_ip;
	if (src_ip == NULL && c->d != NULL && c->d->nv4 > 0) {
		ip_from_v4(dev_ip, c->d->v4[0]);
		src_ip = dev_ip;
	} else if (src_ip == NULL && c->d != NULL && c->d->nv6 > 0) {
		src_ip = c->d->v6[0];
	}
	if ((c->dev != NULL && !c->dev->by_ip) || src_ip != NULL) {
		jw_obj(w, "source");
		if (c->dev != NULL && !c->dev->by_ip)
			jw_mac_ecs(w, "mac", c->dev->mac);
		if (src_ip != NULL)
			jw_ip_text(w, "ip", src_ip);
		if (c->src_ip != NULL && c->src_port != 0)
			jw_uint(w, "port", c->src_port);
		jw_end(w);
	}
	if (c->dev != NULL)
		ev_jw_host_device(w, c->dev, c->d, c->vendor, c->hostname);
	if (c->dst_ip != NULL) {
		jw_obj(w, "destination");
		jw_ip_text(w, "ip", c->dst_ip);
		jw_uint(w, "port", c->dst_port);
		alert_geo_json(w, c->dst_geo, c->dst_operator);
		jw_end(w);
	}
	/* An alert about one flow carries its Community ID, to pivot to the
	 * same flow in Zeek's conn.log or Suricata's flow events. */
	struct ev_flow f = { c->src_ip, c->dst_ip, c->src_port, c->dst_port, c->l4 };
	int flow = c->src_ip != NULL && c->dst_ip != NULL && c->l4 != 0;
	ev_jw_network(w, flow ? &f : NULL, NULL, c->dev != NULL ? c->dev->vlan : 0);
	if (c->qname != NULL || c->dns_id >= 0) {
		jw_obj(w, "dns");
		if (c->dns_id >= 0) {
			char id[16];
			snprintf(id, sizeof(id), "%d", (int)c->dns_id);
			jw_str(w, "id", id);
		}
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
			ev_jw_domain_parts(w, c->observer, c->qname, strlen(c->qname));
			jw_end(w);
		}
		jw_end(w);
	}

	jw_obj(w, "stubwatch");
	if (c->dev != NULL)
		ev_jw_sw_device(w, c->dev, c->d, -1);
	jw_obj(w, "rule");
	jw_arr(w, "references");
	for (unsigned i = 0; i < r->nrefs; i++)
		w_reference(w, NULL, r->refs[i]);
	jw_end(w);
	jw_end(w);
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
