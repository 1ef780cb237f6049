/* cache.c — cache.stale-use (RFC 8767 §4: stale data only while
 * resolution fails; RFC 1035 §3.2.1, RFC 2181 §8): a new connection (a TCP
 * SYN, the first UDP packet of a flow) to an address of the device's ring
 * (the addresses its latest answers gave, filled by the response hook in
 * behaviour.c) whose answer expired more than grace_s ago. The other
 * cache.* detections, which each query and answer decide, are in
 * behaviour.c's hooks.
 */
#include "detect/behaviour_int.h"

#include <netinet/in.h>
#include <string.h>

#include "common/fmt.h"
#include "common/table.h"

/* A TCP SYN or UDP packet not of DNS or DHCP from a device: is it a new
 * connection to an address its answers gave, and that answer expired? The
 * rest of the packet hook, out of line so that the packets the hook lets
 * pass at once (DNS, most of all) do not pay for this one's stack frame. */
__attribute__((noinline))
void bh_connection(struct bh *b, struct engine *e, const struct pkt *p)
{
	if (mac_is_group(p->src_mac))
		return;
	struct dev_key dk;
	memset(&dk, 0, sizeof(dk));
	memcpy(dk.mac, p->src_mac, 6);
	dk.vlan = p->key_vlan;
	struct device *d = tbl_lookup(e->devices, &dk);
	if (d == NULL)
		return;
	struct dctx c;
	eng_dctx(e, d, &c);
	struct bdev *v = bdev_of(b, &c);
	if (v == NULL)
		return;
	int j = addr_find(v, p->dst_ip, atag(p->dst_ip));
	if (j < 0)
		return;
	const struct aent *a = &v->addr[j];
	uint64_t expiry = a->answered_us + (uint64_t)a->ttl_s * SEC;
	uint64_t now = p->ts_us;
	struct fkey fk;
	memset(&fk, 0, sizeof(fk));
	memcpy(fk.mac, p->src_mac, 6);
	fk.vlan = p->key_vlan;
	memcpy(fk.ip, p->dst_ip, 16);
	fk.sport = p->sport;
	fk.dport = p->dport;
	fk.proto = p->l4;
	int created;
	struct fent *f = tbl_get(b->conns, &fk, &created);
	uint64_t last = f->last_us;
	f->last_us = now;
	if (!created && now >= last && now - last < CONN_IDLE_US)
		return;
	v->checked++;
	const struct det_rule *rl = rule(e, DET_CACHE_STALE_USE);
	if (now <= expiry + (uint64_t)(rl->p[DP_GRACE_S] * SEC))
		return;
	/* Asked again since (a CDN may have moved it elsewhere): not stale. */
	struct ckey ck = { d->id, a->qname_hash, v->addr_qtype[j], 0 };
	uint32_t r = cache_find(&b->cache, ck, cache_buckets(&b->cache, ck));
	if (r != 0 && b->cache.ent[r - 1].last_q_us > a->answered_us)
		return;
	v->stale++;
	b->c_stale++;
	const char *sn = r != 0 ? cache_cold(&b->cache, r - 1)->name : "";
	text_copy(v->stale_name, sizeof(v->stale_name), sn, strlen(sn));
	memcpy(v->stale_ip, p->dst_ip, 16);
	v->stale_at = now;
	v->stale_answered = a->answered_us;
	v->stale_ttl = a->ttl_s;
	v->stale_port = p->dport;
	v->stale_qtype = v->addr_qtype[j];
	v->stale_tcp = p->l4 == IPPROTO_TCP;
	if (v->stale >= (uint32_t)rl->p[DP_MIN_OCCURRENCES])
		bh_judge_now(b, e, &c);
}

