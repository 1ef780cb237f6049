/* engine.c — the per-packet pipeline: frames to devices, transactions and
 * events, on packet time.
 *
 * RFC 826 (ARP), RFC 4861 (NDP). Each frame is decoded (decode/), sent to
 * the detection modules' packet hook, then by its L4 protocol to DHCP and RA
 * (lease.c), DNS over UDP and TCP (dns.c), or ARP and NDP bindings (here).
 * All housekeeping (query time-outs, flow expiry, periodic device
 * snapshots, stats) runs on packet time, once per second of it, so a replay
 * gives the same events every time.
 */
#include "pipeline/engine.h"
#include "pipeline/pipeline_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/log.h"

/* A device leaving a full table still gets its last word out. */
static void device_evicted(void *arg, const struct dev_key *k, struct device *d)
{
	eng_emit_device(arg, k, d, "evicted");
}

/* dhcp.allowed_servers: "192.168.1.1, fe80::1, 02:00:5e:00:00:01". */
static int parse_allowlist(struct engine *e, const char *list, char *err, size_t errlen)
{
	char buf[CONF_STR];
	uint8_t ip[16];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		unsigned m[6];
		char extra;
		if (sscanf(tok, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5], &extra) == 6 && strlen(tok) == 17) {
			if (e->nallow_mac == ALLOW_MAX)
				goto full;
			for (int i = 0; i < 6; i++)
				e->allow_mac[e->nallow_mac][i] = (uint8_t)m[i];
			e->nallow_mac++;
		} else if (ip_parse(tok, ip) == 0) {
			if (e->nallow_ip == ALLOW_MAX)
				goto full;
			memcpy(e->allow_ip[e->nallow_ip++], ip, 16);
		} else {
			snprintf(err, errlen, "dhcp.allowed_servers: '%s' is neither an IP address "
				 "nor a MAC (aa:bb:cc:dd:ee:ff)", tok);
			return -1;
		}
	}
	return 0;
full:
	snprintf(err, errlen, "dhcp.allowed_servers: more than %d entries", ALLOW_MAX);
	return -1;
}

/* detect.modules: "encrypted, behaviour" picks those, in eng_modules order
 * (the order their hooks run in, whatever the list's); "" picks none. The
 * modules that always run (operator rules) come with any choice. */
static int pick_modules(struct engine *e, const char *list, char *err, size_t errlen)
{
	unsigned want = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ", \t");
		if (n > 0) {
			unsigned i;
			for (i = 0; eng_modules[i] != NULL; i++)
				if (!eng_modules[i]->always && strlen(eng_modules[i]->name) == n &&
				    strncmp(eng_modules[i]->name, p, n) == 0)
					break;
			if (eng_modules[i] == NULL) {
				char names[128] = "";
				for (unsigned j = 0; eng_modules[j] != NULL; j++)
					if (!eng_modules[j]->always)
						snprintf(names + strlen(names),
							 sizeof(names) - strlen(names), "%s%s",
							 j ? ", " : "", eng_modules[j]->name);
				snprintf(err, errlen, "detect.modules: no detection family '%.*s' "
					 "(there are: %s)", (int)(n > 64 ? 64 : n), p, names);
				return -1;
			}
			want |= 1u << i;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	e->nmod = 0;
	for (unsigned i = 0; eng_modules[i] != NULL && i < ENG_MAX_MODULES; i++)
		if ((want & (1u << i)) || eng_modules[i]->always)
			e->mods[e->nmod++] = eng_modules[i];
	return 0;
}

int eng_check_config(const struct sw_config *cfg, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = parse_allowlist(e, cfg->dhcp_allowed_servers, err, errlen) != 0 ||
		 pick_modules(e, cfg->detect_modules, err, errlen) != 0 ? -1 : 0;
	free(e);
	return rc;
}

struct engine *eng_new(const struct sw_config *cfg, struct out *out,
		       const uint8_t *sipkey, char *err, size_t errlen)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	if (pl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct engine *e = &pl->e;
	e->cfg = cfg;
	e->out = out;
	char obs_note[256];
	ev_observer_init(&e->obs, cfg->observer_name, obs_note, sizeof(obs_note));
	if (obs_note[0])
		log_warn("%s", obs_note);
	e->observer = &e->obs;
	if (sipkey != NULL)
		memcpy(e->sipkey, sipkey, 16);
	else
		memcpy(e->sipkey, "stubwatch-engine", 16);
	struct dec_conf dc = {
		.frag_max = cfg->frag_max,
		/* DNS answers that fragment are a few KiB (EDNS sizes up to 4096);
		 * 16 KiB keeps the worst case at frag.max x 16 KiB per family. */
		.frag_max_bytes = 16384 + 60,
		.frag_timeout_us = cfg->frag_timeout_us,
		.vlan_tracking = (uint8_t)cfg->capture_vlan_tracking,
	};
	pl->dec = dec_new(&dc);
	int st = state_init(&e->st, cfg, e->sipkey);
	/* The detect layer's state per device slot: calloc'd, so pages are
	 * touched only as devices appear. */
	e->dd = calloc(cfg->devices_max, sizeof(*e->dd));
	struct rnd_params rp = RND_PARAMS_DEFAULT;
	e->txid_params = rp;
	rp.constant_after = 0;
	e->port_params = rp;
	if (pl->dec == NULL || st != 0 || e->dd == NULL) {
		snprintf(err, errlen, "cannot allocate state tables (devices.max=%u, "
			 "queries.max=%u, flows.max=%u): out of memory",
			 cfg->devices_max, cfg->queries_max, cfg->flows_max);
		eng_free(e);
		return NULL;
	}
	e->devices = e->st.devices;
	e->bindings = e->st.bindings;
	e->segs = e->st.segs;
	if (parse_allowlist(e, cfg->dhcp_allowed_servers, err, errlen) != 0) {
		eng_free(e);
		return NULL;
	}
	if (pick_modules(e, cfg->detect_modules, err, errlen) != 0) {
		eng_free(e);
		return NULL;
	}
	for (unsigned i = 0; i < e->nmod; i++) {
		const struct eng_module *m = e->mods[i];
		e->mod[i] = m->create != NULL ? m->create(e, err, errlen) : NULL;
		if (m->create != NULL && e->mod[i] == NULL) {
			/* Only the ones created so far are destroyed. */
			e->nmod = i;
			eng_free(e);
			return NULL;
		}
	}
	char note[256] = "";
	e->oui = enr_oui_load(cfg->enrich_oui_dir[0] ? cfg->enrich_oui_dir : NULL, note, sizeof(note));
	if (note[0])
		log_warn("%s", note);
	if (cfg->enrich_geoip_city[0] || cfg->enrich_geoip_asn[0]) {
		note[0] = '\0';
		e->geo = enr_geo_open(cfg->enrich_geoip_city, cfg->enrich_geoip_asn,
				      cfg->enrich_geo_cache, e->sipkey, note, sizeof(note));
		if (note[0])
			log_warn("%s", note);
	}
	state_set_device_evict(&e->st, device_evicted, e);
	return e;
}

void eng_set_id_space(struct engine *e, uint32_t index, uint32_t count)
{
	state_set_id_space(&e->st, index, count);
}

void eng_set_worker(struct engine *e, uint32_t index, uint32_t count)
{
	state_set_id_space(&e->st, index, count);
	e->shard = index;
	e->nshards = count;
}

void eng_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->nmod; i++)
		if (e->mods[i]->destroy != NULL)
			e->mods[i]->destroy(e->mod[i]);
	dec_free(pl_of(e)->dec);
	state_fini(&e->st);
	free(e->dd);
	enr_oui_free(e->oui);
	enr_geo_close(e->geo);
	ev_observer_free(&e->obs);
	free(pl_of(e));
}

static void on_arp(struct engine *e, const struct pkt *p)
{
	static const uint8_t zero[4];
	pl_of(e)->c.arp++;
	if (memcmp(p->arp_spa, zero, 4) == 0)
		return; /* ARP probe (RFC 5227): the sender has no address yet */
	uint8_t ip[16];
	ip_from_v4(ip, p->arp_spa);
	state_bind(&e->st, ip, p->key_vlan, p->arp_sha, BIND_ARP, p->ts_us);
}

static void on_icmpv6(struct engine *e, const struct pkt *p)
{
	static const uint8_t unspec[16];
	switch (p->icmp_type) {
	case 134: /* Router Advertisement (RFC 4861 §4.2) */
		pl_of(e)->c.ra++;
		lease_ra(e, p);
		break;
	case 135: /* Neighbor Solicitation */
	case 136: /* Neighbor Advertisement */
		pl_of(e)->c.ndp++;
		if (p->has_mac && memcmp(p->src_ip, unspec, 16) != 0) {
			state_bind(&e->st, p->src_ip, p->key_vlan, p->src_mac, BIND_NDP, p->ts_us);
			/* A global source address says the host has IPv6, even
			 * when its DNS goes over IPv4 (ipv6.no-v6-transport). */
			if (!(p->src_ip[0] == 0xfe && (p->src_ip[1] & 0xc0) == 0x80) &&
			    (p->src_ip[0] & 0xe0) == 0x20) {
				struct dev_key k;
				memset(&k, 0, sizeof(k));
				memcpy(k.mac, p->src_mac, 6);
				k.vlan = p->key_vlan;
				struct device *d = state_device_find(&e->st, &k);
				if (d != NULL) {
					d->has_global_v6 = 1;
					if (dev_add_ip(d, p->src_ip))
						d->dirty = 1;
				}
			}
		}
		break;
	default:
		break;
	}
}

/* Periodic device events: each tick looks at a slice of the table sized so
 * that every device is looked at about once per snapshot interval. */
static void sweep_devices(struct engine *e, uint64_t now)
{
	struct pipeline *pl = pl_of(e);
	uint64_t iv = e->cfg->devices_snapshot_interval_us;
	/* Without periodic events the sweep still runs, for held-back changes. */
	uint64_t pace = iv ? iv : CHANGE_MIN_US;
	uint32_t n = tbl_count(e->st.devices);
	uint64_t per_tick = (uint64_t)n * SEC / pace + 1;
	for (uint64_t i = 0; i < per_tick && i < n; i++) {
		struct device *d = tbl_next_at(e->st.devices, pl->sweep_slot);
		if (d == NULL) {
			/* Past the last used slot: start over. */
			pl->sweep_slot = 0;
			d = tbl_next_at(e->st.devices, 0);
			if (d == NULL)
				return;
		}
		pl->sweep_slot = tbl_index(e->st.devices, d) + 1;
		uint64_t since = now - d->last_snapshot;
		if (d->dirty && since >= CHANGE_MIN_US)
			eng_emit_device(e, tbl_key(e->st.devices, d), d, "change");
		else if (iv && since >= iv)
			eng_emit_device(e, tbl_key(e->st.devices, d), d, "periodic");
	}
}

static void tick(struct engine *e)
{
	uint64_t now = e->now;
	struct pipeline *pl = pl_of(e);
	pl_expire_queries(e, now, 0);
	state_expire_flows(&e->st, now, e->cfg->flows_timeout_us);
	dec_expire(pl->dec, now);
	sweep_devices(e, now);
	EACH_MODULE(e, tick, now);
	/* A worker's stats are the reader's to send, summed over workers. */
	if (e->nshards == 0 && e->cfg->stats_interval_us && now >= pl->next_stats) {
		if (pl->next_stats != 0)
			eng_emit_stats(e, "periodic");
		pl->next_stats = now + e->cfg->stats_interval_us;
	}
	pl->next_tick = now + SEC;
}

/* A jump ahead is believed when this many packets in a row agree on it
 * (each within the bound of the first): the packet after a lone damaged
 * one is back near the clock, while after a real gap (a capture resumed,
 * a clock set right) the next packet is as far ahead. Two costs a real
 * jump the time of one packet. */
#define JUMP_CONFIRM 2

static uint64_t time_dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The time a packet is processed at. The clock (e->now) only moves
 * forward, even in a file with reordered frames: a packet older than it
 * keeps its own time and is counted (capture_time_back). A packet more
 * than capture.max_time_jump ahead of it is held at the clock and counted
 * (capture_time_jump), so one damaged record cannot leave the clock years
 * in the future (every entry expired, every rate wrong) — unless the
 * packets after it confirm the jump, and the clock follows. */
static uint64_t packet_time(struct engine *e, struct pipeline *pl, uint64_t ts)
{
	uint64_t bound = e->cfg->capture_max_time_jump_us;

	if (!pl->clock_set || bound == 0 || ts <= e->now || ts - e->now <= bound) {
		pl->jump_run = 0;
		if (pl->clock_set && ts < e->now) {
			pl->c.time_back++;
			return ts;
		}
		pl->clock_set = 1;
		e->now = ts;
		return ts;
	}
	if (pl->jump_run > 0 && time_dist(ts, pl->jump_base) <= bound) {
		pl->jump_run++;
	} else {
		pl->jump_base = ts;
		pl->jump_run = 1;
	}
	if (pl->jump_run >= JUMP_CONFIRM) {
		pl->jump_run = 0;
		e->now = ts;
		return ts;
	}
	pl->c.time_jump++;
	return e->now;
}

void eng_advance(struct engine *e, uint64_t ts_us)
{
	/* The reader's ticks move the clock as packets do, but never by a jump
	 * that packet_time() would hold until the packets confirm it. */
	struct pipeline *pl = pl_of(e);
	uint64_t bound = e->cfg->capture_max_time_jump_us;
	if (ts_us > e->now && (!pl->clock_set || bound == 0 || ts_us - e->now <= bound)) {
		e->now = ts_us;
		pl->clock_set = 1;
	}
	if (e->now >= pl->next_tick)
		tick(e);
}

void eng_packet(void *arg, int link, uint64_t ts_us, uint32_t caplen,
		uint32_t wirelen, const uint8_t *frame)
{
	struct engine *e = arg;
	struct pipeline *pl = pl_of(e);
	pl->c.packets++;
	/* A frame cannot hold more than the wire carried: a damaged record.
	 * Its bytes are decoded as captured (the IP lengths bound what is
	 * read), counted once. */
	if (caplen > wirelen) {
		pl->c.caplen_over++;
		wirelen = caplen;
	}
	pl->c.bytes += wirelen;
	ts_us = packet_time(e, pl, ts_us);
	if (e->now >= pl->next_tick)
		tick(e);

	struct pkt p;
	int kind = dec_frame(pl->dec, link, frame, caplen, wirelen, ts_us, &p);
	if (kind == PKT_ARP) {
		on_arp(e, &p);
		return;
	}
	if (kind != PKT_IP)
		return;
	pl->c.ip++;
	EACH_MODULE(e, packet, &p);
	if (p.l4 == IPPROTO_UDP) {
		int proto;
		if (lease_udp(e, &p))
			return;
		if (p.sport == PORT_DNS || p.dport == PORT_DNS)
			proto = PROTO_DNS;
		else if (p.sport == PORT_MDNS || p.dport == PORT_MDNS)
			proto = PROTO_MDNS;
		else if (p.sport == PORT_LLMNR || p.dport == PORT_LLMNR)
			proto = PROTO_LLMNR;
		else
			return;
		pl_dns_udp(e, &p, proto);
	} else if (p.l4 == IPPROTO_TCP) {
		if (p.sport == PORT_DNS || p.dport == PORT_DNS)
			pl_dns_tcp(e, &p);
	} else if (p.l4 == IPPROTO_ICMPV6) {
		on_icmpv6(e, &p);
	}
}

/* The randomness thresholds come from the two stub.* rules. */
static void rnd_from_rule(const struct det_rule *r, struct rnd_params *p)
{
	p->sigma_excellent = r->p[DP_SIGMA_EXCELLENT];
	p->sigma_good = r->p[DP_SIGMA_GOOD];
	p->min_queries = (uint32_t)r->p[DP_MIN_QUERIES];
	p->constant_after = (uint32_t)r->p[DP_CONSTANT_AFTER];
}

void eng_set_rules(struct engine *e, const struct rules *r)
{
	e->rules = r;
	for (unsigned i = 0; i < e->nmod; i++)
		if (e->mods[i]->rules_changed != NULL)
			e->mods[i]->rules_changed(e->mod[i], e);
	rnd_from_rule(rules_det(r, DET_STUB_PORT_PREDICTABLE), &e->port_params);
	rnd_from_rule(rules_det(r, DET_STUB_TXID_PREDICTABLE), &e->txid_params);
	/* Ports wait for the minimum sample (DETECTIONS.md): only IDs have
	 * the early constant rule. */
	e->port_params.constant_after = 0;
}

void eng_set_ingress(struct engine *e, const char *iface)
{
	e->obs.iface = iface;
}

void eng_set_deterministic(struct engine *e, int on)
{
	e->deterministic = on;
}

void eng_set_capture_stats(struct engine *e, const struct cap_stats *st)
{
	pl_of(e)->cap = *st;
}

void eng_set_iface_stats(struct engine *e, unsigned i, const char *name,
			 const struct cap_stats *st)
{
	struct pipeline *pl = pl_of(e);
	if (i >= CONF_MAX_LIST)
		return;
	snprintf(pl->ifaces[i].name, sizeof(pl->ifaces[i].name), "%s", name);
	pl->ifaces[i].st = *st;
	if (pl->nifaces <= i)
		pl->nifaces = i + 1;
}

void eng_finish(struct engine *e)
{
	e->finishing = 1;
	pl_expire_queries(e, e->now, 1);
	for (struct device *d = tbl_next(e->st.devices, NULL); d != NULL;
	     d = tbl_next(e->st.devices, d))
		eng_emit_device(e, state_device_key_of(&e->st, d), d, "exit");
	if (e->nshards == 0)
		eng_emit_final_stats(e);
}

