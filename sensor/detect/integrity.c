/* integrity.c — the integrity module (mod_integrity): its state, hooks,
 * device events and stats. The detections are in response.c
 * (response.*: RFC 5452 §9.1, RFC 5358, RFC 6890, RFC 2181 §5),
 * amplification.c (amplification.*: RFC 5358, RFC 8482, RFC 9715) and
 * exfil.c (exfil.suspect-names, policy.new-domain), after DETECTIONS.md
 * "Integrity of responses" and "Amplification, exposure and policy".
 *
 * The hooks that run per packet only test what lets a packet go and hand
 * the rest to the files of the detections (integrity_int.h).
 */
#include "detect/integrity.h"
#include "detect/integrity_int.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dns/dns.h"
#include "output/jw.h"

/* --- module state -------------------------------------------------------- */

/* The tables the packet path reads: the answered queries and the judged
 * names share one block, the per-device state has its own. Both come
 * zeroed from the kernel, their pages allocated as first touched, as
 * calloc's are: 16,384 device slots are 15 MiB, of which only the slots
 * in use take memory (a memset at start would make all of it resident). */
static void *table_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t shared_bytes(void)
{
	return RECENT_SLOTS * sizeof(struct recent_slot) + NAME_SLOTS * sizeof(struct integ_name);
}

static size_t dev_bytes(const struct integ *m)
{
	return (size_t)m->ndev * sizeof(*m->dev);
}

static void integ_destroy(void *mv)
{
	struct integ *m = mv;
	if (m == NULL)
		return;
	if (m->dev != NULL)
		munmap(m->dev, dev_bytes(m));
	if (m->recent != NULL)
		munmap(m->recent, shared_bytes());
	free(m);
}

static void *integ_create(struct engine *e, char *err, size_t errlen)
{
	struct integ *m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto fail;
	m->ndev = e->cfg->devices_max;
	m->race_us = 5 * SEC;   /* the shipped window until rules are set */
	m->dev = dev_bytes(m) > 0 ? table_alloc(dev_bytes(m)) : NULL;
	m->recent = table_alloc(shared_bytes());
	if (m->recent != NULL)
		m->names = (struct integ_name *)(m->recent + RECENT_SLOTS);
	m->name_seed = sw_siphash(e->sipkey, "integrity names", 15);
	integ_resp_init(m, e);
	integ_exfil_init(m);
	integ_nlogn_init(&m->nlogn);
	if ((m->dev == NULL && m->ndev > 0) || m->recent == NULL)
		goto fail;
	return m;
fail:
	snprintf(err, errlen, "integrity: cannot allocate state for %u devices: out of memory",
		 e->cfg->devices_max);
	integ_destroy(m);
	return NULL;
}

static void integ_device_reset(void *mv, struct engine *e, uint32_t slot)
{
	struct integ *m = mv;
	(void)e;
	if (slot < m->ndev)
		memset(&m->dev[slot], 0, sizeof(m->dev[slot]));
}

/* Takes response.race window_s from the rules just set, so that answers
 * compare with a number rather than convert one. A window past what
 * ts_delta holds (the loader refuses one) is cut to it. */
static void integ_rules_changed(void *mv, struct engine *e)
{
	struct integ *m = mv;
	double s = e->rules != NULL ? rule(e, DET_RESPONSE_RACE)->p[DP_WINDOW_S] : 5;
	if (!(s <= RULES_RACE_WINDOW_MAX_S))
		s = RULES_RACE_WINDOW_MAX_S;
	m->race_us = (uint64_t)(s * (double)SEC);
}

/* Starts the loads of what the query hook will touch: the device's first
 * line, the name's slot, and the first line of the device's domain set
 * (all of it while the set is small, DOMAINS_LINE). The device's second
 * line, its zone's bitmap, is written only for zones with more than
 * ZONE_SMALL names. Nothing is read here, which would wait for it. */
static void integ_prefetch(void *mv, struct engine *e, const struct pkt *p, struct dctx *c,
			   const struct dns_msg *msg, const struct qry_key *qk)
{
	struct integ *m = mv;
	(void)e;
	(void)p;
	(void)msg;
	if (c->slot >= m->ndev)
		return;
	struct integ_dev *id = &m->dev[c->slot];
	__builtin_prefetch(id, 1);
	__builtin_prefetch(&m->names[qk->qname_hash & (NAME_SLOTS - 1)]);
	__builtin_prefetch(id->domains);
}

/* Every packet passes here: the tests that let it go are inline, the work
 * (a DNS response from a MAC, a race's watch) is called. */
static void integ_packet(void *mv, struct engine *e, const struct pkt *p)
{
	struct integ *m = mv;
	/* A DNS response: QR set. Its slot of the answered table, when a
	 * query noted it, starts loading now; the response hook writes it. */
	uint16_t dnsid, flags;
	if (p->l4 == IPPROTO_UDP && p->sport == PORT_DNS &&
	    dns_peek_header(p->payload, p->payload_len, &dnsid, &flags) == 0 &&
	    (flags & DNS_F_QR)) {
		uint64_t h = m->hint[hint_index(p->dport, dnsid)];
		if (h >> 32 == ((uint64_t)p->dport << 16 | dnsid)) {
			/* Its first line: the second holds IPv6 addresses only. */
			__builtin_prefetch(&m->recent[h & (RECENT_SLOTS - 1)], 1);
		}
		/* (dst_mac[0] & 1) is mac_is_group(): unicast only. */
		if (p->has_mac && !(p->dst_mac[0] & 1) && !serves_quiet(m, p))
			integ_serves_packet(m, e, p);
	}
	if (m->nwatch > 0)
		integ_watch_packet(m, e, p);
}

/* --- housekeeping, device events, stats ----------------------------------- */

static void integ_tick(void *mv, struct engine *e, uint64_t now)
{
	struct integ *m = mv;
	if (m->nwatch > 0)
		integ_watch_expire(m, e, now, 0);
}

/* Races still waiting when the capture ends are reported with what is
 * known: the engine judges every device once more at exit. */
static int integ_evaluate(void *mv, struct engine *e, struct dctx *c)
{
	struct integ *m = mv;
	(void)c;
	if (e->finishing && m->nwatch > 0)
		integ_watch_expire(m, e, e->now, 1);
	return 0;
}

static void integ_device_json(void *mv, struct engine *e, struct dctx *c, struct jw *w)
{
	struct integ *m = mv;
	(void)e;
	const struct integ_dev *id = dev_of(m, c);
	if (id == NULL)
		return;
	jw_obj(w, "integrity");
	jw_uint(w, "races", id->races);
	jw_uint(w, "duplicate_responses", id->duplicates);
	jw_uint(w, "late_responses", id->late);
	jw_uint(w, "unsolicited", id->unsolicited);
	jw_uint(w, "txid_mismatch", id->txid_mismatch);
	jw_uint(w, "duplicate_rr", id->duplicate_rr);
	jw_uint(w, "bogon_answers", id->bogon_answers);
	jw_uint(w, "reply_floods", id->reply_floods);
	jw_obj(w, "serves_dns");
	jw_uint(w, "responses_local", id->sv_local);
	jw_uint(w, "responses_outside", id->sv_public);
	if (id->sv_first) {
		jw_time_text(w, "first_time", id->sv_first);
		jw_time_text(w, "last_time", id->sv_last);
	}
	jw_end(w);
	jw_obj(w, "amplification");
	jw_uint(w, "heavy_responses_in", id->amp_in.n);
	jw_uint(w, "heavy_response_bytes_in", id->amp_in.bytes);
	jw_uint(w, "heavy_responses_out", id->amp_out.n);
	jw_uint(w, "heavy_response_bytes_out", id->amp_out.bytes);
	jw_end(w);
	jw_uint(w, "suspect_names", id->suspect_names);
	jw_uint(w, "domains_known", id->ndomains);
	jw_bool(w, "domains_full", id->domains_full);
	jw_uint(w, "new_domains", id->new_domains);
	jw_end(w);
}

static void integ_stats_json(void *mv, struct engine *e, json_t *stats)
{
	struct integ *m = mv;
	(void)e;
	json_t *o = json_pack("{s:{s:I,s:i,s:I},s:{s:I,s:i,s:I},s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"answered", "recorded", (json_int_t)m->recent_used, "capacity", (int)RECENT_SLOTS,
		"evictions", (json_int_t)m->recent_displaced,
		"names", "lookups", (json_int_t)m->name_lookups, "capacity", (int)NAME_SLOTS,
		"judged", (json_int_t)m->name_misses,
		"races", (json_int_t)m->races,
		"race_watch_full", (json_int_t)m->watch_overflow,
		"race_device_gone", (json_int_t)m->watch_lost,
		"txid_mismatch", (json_int_t)m->txid_mismatch,
		"unsolicited", (json_int_t)m->unsolicited,
		"late_responses", (json_int_t)m->late,
		"domain_sets_full", (json_int_t)m->domain_sets_full);
	if (o != NULL)
		json_object_set_new(stats, "integrity", o);
}

const struct eng_module mod_integrity = {
	.name = "integrity",
	.create = integ_create,
	.destroy = integ_destroy,
	.device_reset = integ_device_reset,
	.packet = integ_packet,
	.prefetch = integ_prefetch,
	.query = integ_query,
	.response = integ_response,
	.unanswered = integ_unanswered,
	.tick = integ_tick,
	.rules_changed = integ_rules_changed,
	.evaluate = integ_evaluate,
	.device_json = integ_device_json,
	.stats_json = integ_stats_json,
};
