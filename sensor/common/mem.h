/* mem.h — memory for big arrays hit at random on every packet.
 *
 * An array of tens of MiB reached at random misses the TLB on nearly every
 * access with 4 KiB pages. sw_big_alloc maps it on a 2 MiB boundary and
 * asks for transparent huge pages (a hint: "madvise" mode kernels honour
 * it, others give 4 KiB pages), so one TLB entry covers what took 512. The
 * kernel still hands out zeroed pages as they are first touched, so the
 * resident size follows use, in 2 MiB steps. Arrays under 2 MiB come from
 * the heap. Either way the array starts on a cache line (64 bytes).
 *
 * Used where it measured faster: the behaviour module's answer cache and
 * per-device state (about 6 % of the whole sensor on the bench capture).
 * The engine's tables measured no faster and grew the resident size, so
 * they stay on calloc.
 */
#ifndef SW_COMMON_MEM_H
#define SW_COMMON_MEM_H

#include <stddef.h>

struct sw_big {
	void *ptr;       /* what sw_big_alloc returned */
	void *map;       /* the mapping behind it, NULL when it came from the heap */
	size_t map_len;
};

/* n * size zeroed bytes, or NULL (overflow, out of memory). */
void *sw_big_alloc(struct sw_big *m, size_t n, size_t size);
/* Frees what sw_big_alloc gave (a zeroed struct sw_big: nothing). */
void sw_big_free(struct sw_big *m);

#endif
