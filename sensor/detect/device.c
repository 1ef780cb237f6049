/* device.c — a device as the detections see it: found or created with its
 * detect state reset, its context, its device events.
 *
 * The detect layer keeps state per device slot (posture's struct dev_detect
 * and each module's own arrays); a slot that takes a new device is reset
 * here, at the one place devices are created, whoever asks (a DNS message,
 * a DHCP exchange, a TLS flow).
 */
#include "detect/engine_int.h"

#include <string.h>

#include "common/fmt.h"
#include "output/event.h"

void eng_emit_device(struct engine *e, const struct dev_key *k,
		     struct device *d, const char *reason)
{
	char key[FMT_IP_LEN];
	ev_dev_keytext(k, key, sizeof(key));
	d->last_snapshot = e->now ? e->now : d->last_seen;
	d->dirty = 0;
	struct dctx c;
	eng_dctx(e, d, &c);
	(void)post_judge(e, &c);
	struct ev_device_extra x;
	struct post_bufs b;
	post_extra(e, &c, &x, &b);
	size_t len;
	char *text = ev_device(e->now, e->observer, k, d, reason, &x, &len);
	post_extra_free(&b);
	ev_emit_text(e->out, OUT_DS_DEVICE, key, text, len);
}

struct device *eng_device_at(struct engine *e, const struct dev_key *k, uint32_t hash,
			     uint64_t ts, int *created)
{
	/* Another worker's device: frames it shares with this one (DHCP, RA,
	 * ARP and ND go to every worker) must not create it here too. */
	if (e->nshards > 1 && state_shard_of_key(k, e->nshards) != e->shard) {
		*created = 0;
		e->foreign++;
		return NULL;
	}
	struct device *d = state_device(&e->st, k, hash, ts, created);
	if (*created) {
		uint32_t slot = state_device_slot(&e->st, d);
		post_device_reset(e, slot);
		EACH_MODULE(e, device_reset, slot);
	}
	return d;
}

struct device *eng_device_for(struct engine *e, const struct pkt *p, int src,
			      struct dev_key *k, int *created)
{
	*created = 0;
	if (!state_device_key(p, src, k))
		return NULL;
	struct device *d = eng_device_at(e, k, state_device_prefetch(&e->st, k), p->ts_us,
					 created);
	if (d != NULL && (src || *created))
		(void)state_device_tags(d, p);
	return d;
}

int eng_server_allowed(const struct engine *e, const uint8_t ip[16], const uint8_t mac[6])
{
	for (unsigned i = 0; i < e->nallow_ip; i++)
		if (memcmp(e->allow_ip[i], ip, 16) == 0)
			return 1;
	for (unsigned i = 0; i < e->nallow_mac; i++)
		if (memcmp(e->allow_mac[i], mac, 6) == 0)
			return 1;
	return 0;
}
