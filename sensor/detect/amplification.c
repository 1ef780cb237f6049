/* amplification.c — amplification and exposure (the integrity module's
 * amplification.* detections): amplification.device-serves-dns, a device
 * that answers DNS queries (RFC 5358), and amplification.ratio, answers
 * many times the size of the queries they answer (RFC 8482, RFC 9715),
 * towards a device (a reflection victim) or from it (a reflector).
 *
 * Responders are kept in a small two-way cache (RESP_CACHE), re-checked
 * against the device table once per second; the ratio's windows are in
 * the device's record (integrity_int.h).
 */
#include "detect/integrity_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/fmt.h"
#include "common/table.h"
#include "output/jw.h"

/* 1 when b is on a's network: both local, or the same /24 (IPv4) or /64
 * (IPv6) — a LAN with public addresses. */
static int same_site(const uint8_t a[16], const uint8_t b[16])
{
	if (ip_local(a) && ip_local(b))
		return 1;
	if (ip_is_v4(a) != ip_is_v4(b))
		return 0;
	return ip_is_v4(a) ? memcmp(a, b, 15) == 0 : memcmp(a, b, 8) == 0;
}

/* --- amplification.ratio -------------------------------------------------- */

COLD void integ_amp_add(struct engine *e, struct dctx *c, struct win *w, uint64_t *qbytes,
		   uint32_t *types, int hi, uint64_t ts, uint32_t rbytes, uint32_t qsize,
		    int from, const struct pkt *p, const struct dns_msg *msg)
{
	const struct det_rule *rl = rule(e, DET_AMPLIFICATION_RATIO);
	win_at(w, ts, rule_window_us(rl, 300));
	if (w->n == 0) {
		*qbytes = 0;
		memset(types, 0, 4 * sizeof(*types));
	}
	w->n++;
	w->bytes += rbytes;
	*qbytes += qsize;
	types[hi]++;
	double ratio = *qbytes ? (double)w->bytes / (double)*qbytes : 0;
	if (w->bytes < (uint64_t)rl->p[DP_MIN_BYTES] || ratio <= rl->p[DP_RATIO])
		return;
	if (!alert_should_fire(&c->dd->alerts, DET_AMPLIFICATION_RATIO, e->now, rl))
		return;
	struct alert_ctx a;
	if (from)
		post_alert_ctx_sent(e, c, p, NULL, &a);
	else
		integ_alert_ctx_resp(e, c, p, msg, &a);
	a.reason = from ? "from_device" : "towards_device";
	char text[320];
	snprintf(text, sizeof(text), "DNS responses %s the device carry %.1f times the bytes of "
		 "the queries they answer (%llu bytes of ANY/TXT/DNSKEY/RRSIG answers): "
		 "amplification traffic.", from ? "sent by" : "sent to", ratio,
		 (unsigned long long)w->bytes);
	struct jw jw;
	alert_begin(&jw, rl, &a, text);
	jw_str(&jw, "direction", from ? "from_device" : "towards_device");
	jw_uint(&jw, "responses", w->n);
	jw_uint(&jw, "response_bytes", w->bytes);
	jw_uint(&jw, "query_bytes", *qbytes);
	jw_real4(&jw, "ratio", ratio);
	jw_obj(&jw, "qtypes");
	jw_uint(&jw, "ANY", types[0]);
	jw_uint(&jw, "TXT", types[1]);
	jw_uint(&jw, "DNSKEY", types[2]);
	jw_uint(&jw, "RRSIG", types[3]);
	jw_end(&jw);
	jw_time_text(&jw, "first_time", w->first_ts);
	jw_time_text(&jw, "last_time", w->last_ts);
	jw_real4(&jw, "min_ratio", rl->p[DP_RATIO]);
	jw_uint(&jw, "min_bytes", (uint64_t)rl->p[DP_MIN_BYTES]);
	jw_real4(&jw, "window_s", (double)rule_window_us(rl, 300) / (double)SEC);
	alert_emit(e->out, &jw, &a);
}

/* --- amplification.device-serves-dns (packet hook) ------------------------ */

static int designated_ip(struct engine *e, uint16_t vlan, const uint8_t ip[16])
{
	const struct segment *s = &e->segs[vlan % SEG_COUNT];
	for (unsigned i = 0; i < s->nres && i < SEG_MAX_RESOLVERS; i++)
		if (memcmp(s->res[i].ip, ip, 16) == 0)
			return 1;
	return rules_is_sanctioned(e->rules, ip);
}

static void serves_alert(struct engine *e, struct dctx *c, struct integ_dev *id,
			 const struct pkt *p, uint16_t dnsid, int high)
{
	const struct det_rule *rl = rule(e, DET_AMPLIFICATION_DEVICE_SERVES_DNS);
	int fire = alert_should_fire(&c->dd->alerts, DET_AMPLIFICATION_DEVICE_SERVES_DNS, e->now, rl);
	/* The first answer to an outside client escalates even inside the
	 * rate limit of a medium alert. */
	if (high && id->sv_alerted < 2)
		fire = rl->enabled;
	if (!fire)
		return;
	id->sv_alerted = (uint8_t)(high ? 2 : (id->sv_alerted ? id->sv_alerted : 1));
	struct alert_ctx a;
	post_alert_ctx_sent(e, c, p, NULL, &a);
	a.escalated = (uint8_t)high;
	a.reason = high ? "outside_clients" : "local_clients";
	a.dns_id = dnsid;
	char addr[FMT_IP_LEN], text[320];
	fmt_ip(addr, p->dst_ip);
	if (high)
		snprintf(text, sizeof(text), "The device answers DNS queries on port 53 for clients "
			 "outside its own network (%s): an open resolver or reflector.", addr);
	else
		snprintf(text, sizeof(text), "The device answers DNS queries on port 53 for clients "
			 "on its own network (%s): it acts as a DNS server.", addr);
	struct jw w;
	alert_begin(&w, rl, &a, text);
	jw_uint(&w, "responses_local", id->sv_local);
	jw_uint(&w, "responses_outside", id->sv_public);
	jw_ip_text(&w, "client", p->dst_ip);
	jw_uint(&w, "client_port", p->dport);
	w_hex16(&w, "id", dnsid);
	jw_time_text(&w, "first_time", id->sv_first);
	jw_time_text(&w, "last_time", id->sv_last);
	alert_emit(e->out, &w, &a);
}

/* A DNS response (source port 53, QR set) sent by a MAC: when that MAC is a
 * device the sensor follows, answering from its own address, the device
 * serves DNS. Responses that a router merely forwards (from addresses not
 * its own), and the network's designated resolver answering local clients,
 * are not this. */
__attribute__((noinline))
void integ_serves_packet(struct integ *m, struct engine *e, const struct pkt *p)
{
	/* Two ways per set: a router's relay mark is not lost to a device
	 * that happens to share its slot. */
	struct responder *r = m->resp_recent[resp_recent_index(p)];
	if (r != NULL && r->vlan == p->key_vlan && mac_equal(r->mac, p->src_mac))
		goto found;
	uint64_t hk = h64(p->src_mac, 6, p->key_vlan);
	unsigned slot = (unsigned)(hk % (RESP_CACHE / 2)) * 2;
	r = &m->resp[slot];
	if (!(r->used && r->vlan == p->key_vlan && mac_equal(r->mac, p->src_mac))) {
		struct responder *r2 = &m->resp[slot + 1];
		if ((r2->used && r2->vlan == p->key_vlan && mac_equal(r2->mac, p->src_mac)) ||
		    (r->used && r->relay && !r2->relay))
			r = r2;
	}
	if (!r->used || r->vlan != p->key_vlan || !mac_equal(r->mac, p->src_mac)) {
		memset(r, 0, sizeof(*r));
		r->used = 1;
		memcpy(r->mac, p->src_mac, 6);
		r->vlan = p->key_vlan;
		r->checked_s = s_of(p->ts_us) - 2;
	}
	m->resp_recent[resp_recent_index(p)] = r;
found:;
	uint32_t now = s_of(p->ts_us);
	int own = ip_local(p->src_ip);
	if (!own) {
		if (r->relay)
			return;
		struct bind_key bk;
		memset(&bk, 0, sizeof(bk));
		memcpy(bk.ip, p->src_ip, 16);
		bk.vlan = p->key_vlan;
		const struct binding *b = tbl_lookup(e->bindings, &bk);
		if (b == NULL || memcmp(b->mac, p->src_mac, 6) != 0) {
			r->relay = 1;     /* forwards answers of others: a router */
			return;
		}
	}
	if (now - r->checked_s >= 1) {
		struct dev_key k;
		memset(&k, 0, sizeof(k));
		memcpy(k.mac, p->src_mac, 6);
		k.vlan = p->key_vlan;
		struct device *d = tbl_lookup(e->devices, &k);
		r->is_dev = d != NULL;
		if (d != NULL) {
			r->slot = tbl_index(e->devices, d);
			r->dev_id = d->id;
		}
		r->checked_s = now;
	}
	if (!r->is_dev)
		return;
	int local = same_site(p->src_ip, p->dst_ip);
	if (local && (r->relay || designated_ip(e, p->vlan, p->src_ip)))
		return;
	struct device *d = tbl_at(e->devices, r->slot);
	if (d == NULL || d->id != r->dev_id) {
		r->is_dev = 0;
		return;
	}
	struct dctx c;
	eng_dctx(e, d, &c);
	struct integ_dev *id = dev_of(m, &c);
	if (id == NULL)
		return;
	if (id->sv_first == 0)
		id->sv_first = p->ts_us;
	id->sv_last = p->ts_us;
	if (local) {
		id->sv_local++;
	} else {
		id->sv_public++;
	}
	/* The engine parses DNS by its destination, a device's query or the
	 * answer to one; an answer the device sends is read here, its header
	 * and question only. */
	struct dns_msg hq;
	(void)dns_parse_question(p->payload, p->payload_len, &hq);
	serves_alert(e, &c, id, p, hq.id, !local);
	/* amplification.ratio from the device: what it sends back. */
	int hi = hq.has_q ? heavy_index(hq.qtype) : -1;
	if (hi >= 0) {
		/* arcount > 0 stands in for "has OPT" in the query estimate. */
		int opt = hq.arcount != 0;
		integ_amp_add(e, &c, &id->amp_out, &id->amp_out_q, id->amp_out_types, hi, p->ts_us,
			p->payload_len, (uint32_t)hq.q_end + (opt ? 11u : 0u), 1, p, NULL);
	}
}

