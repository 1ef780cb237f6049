/* state.c — per-device bookkeeping and the TCP reassembly buffer pool. */
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"

int tcp_pool_init(struct tcp_pool *p, uint32_t count, uint32_t size)
{
	memset(p, 0, sizeof(*p));
	if (count == 0)
		return 0;
	/* calloc: pages are touched only when a buffer is first used. */
	p->mem = calloc(count, size);
	p->free_list = malloc(sizeof(int32_t) * count);
	if (p->mem == NULL || p->free_list == NULL) {
		tcp_pool_fini(p);
		return SW_ENOMEM;
	}
	p->size = size;
	p->count = count;
	/* Hand out low indexes first so untouched pages stay untouched. */
	for (uint32_t i = 0; i < count; i++)
		p->free_list[i] = (int32_t)(count - 1 - i);
	p->nfree = count;
	return 0;
}

void tcp_pool_fini(struct tcp_pool *p)
{
	free(p->mem);
	free(p->free_list);
	memset(p, 0, sizeof(*p));
}

int32_t tcp_pool_take(struct tcp_pool *p)
{
	if (p->nfree == 0) {
		p->exhausted++;
		return -1;
	}
	return p->free_list[--p->nfree];
}

void tcp_pool_give(struct tcp_pool *p, int32_t i)
{
	if (i >= 0 && p->nfree < p->count)
		p->free_list[p->nfree++] = i;
}

uint8_t *tcp_pool_buf(struct tcp_pool *p, int32_t i)
{
	return p->mem + (size_t)i * p->size;
}

int dev_add_ip(struct device *d, const uint8_t ip[16])
{
	if (ip_is_v4(ip)) {
		for (unsigned i = 0; i < d->nv4; i++)
			if (memcmp(d->v4[i], ip + 12, 4) == 0)
				return 0;
		/* Full: the oldest address goes, the newest is what a SOC wants. */
		if (d->nv4 == DEV_MAX_V4) {
			memmove(d->v4[0], d->v4[1], sizeof(d->v4[0]) * (DEV_MAX_V4 - 1));
			d->nv4--;
		}
		memcpy(d->v4[d->nv4++], ip + 12, 4);
		return 1;
	}
	for (unsigned i = 0; i < d->nv6; i++)
		if (memcmp(d->v6[i], ip, 16) == 0)
			return 0;
	if (d->nv6 == DEV_MAX_V6) {
		memmove(d->v6[0], d->v6[1], sizeof(d->v6[0]) * (DEV_MAX_V6 - 1));
		d->nv6--;
	}
	memcpy(d->v6[d->nv6++], ip, 16);
	return 1;
}

struct dev_resolver *dev_resolver(struct device *d, const uint8_t ip[16],
				  uint16_t port, uint64_t now, int *created)
{
	*created = 0;
	for (unsigned i = 0; i < d->nres; i++)
		if (d->res[i].port == port && memcmp(d->res[i].ip, ip, 16) == 0)
			return &d->res[i];
	if (d->nres == DEV_MAX_RESOLVERS)
		return NULL;
	struct dev_resolver *r = &d->res[d->nres++];
	memset(r, 0, sizeof(*r));
	memcpy(r->ip, ip, 16);
	r->port = port;
	r->first_seen = now;
	*created = 1;
	return r;
}

void dev_add_size(struct device *d, uint16_t size)
{
	for (unsigned i = 0; i < d->nsizes; i++)
		if (d->sizes[i].size == size) {
			d->sizes[i].count++;
			return;
		}
	if (d->nsizes < DEV_MAX_SIZES) {
		d->sizes[d->nsizes].size = size;
		d->sizes[d->nsizes].count = 1;
		d->nsizes++;
		d->dirty = 1;
	}
}
