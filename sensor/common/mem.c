/* mem.c — big zeroed arrays on huge pages where the kernel allows (mem.h). */
#include "common/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BIG_ALIGN ((size_t)2 << 20)

void *sw_big_alloc(struct sw_big *m, size_t n, size_t size)
{
	m->ptr = NULL;
	m->map = NULL;
	m->map_len = 0;
	if (size != 0 && n > (SIZE_MAX - BIG_ALIGN) / size)
		return NULL;
	size_t want = n * size;
	if (want < BIG_ALIGN) {
		/* Cache-line aligned, as the mappings are (and more): arrays of
		 * _Alignas(64) entries rely on it. */
		void *p;
		if (posix_memalign(&p, 64, want ? want : 64) != 0)
			return NULL;
		memset(p, 0, want ? want : 64);
		m->ptr = p;
		return m->ptr;
	}
	/* One alignment's worth more, to start on a 2 MiB boundary. */
	size_t len = want + BIG_ALIGN;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	m->map = p;
	m->map_len = len;
	m->ptr = (uint8_t *)p + (-(uintptr_t)p & (BIG_ALIGN - 1));
#ifdef MADV_HUGEPAGE
	(void)madvise(m->ptr, want, MADV_HUGEPAGE);  /* a hint: 4 KiB pages work too */
#endif
	return m->ptr;
}

void sw_big_free(struct sw_big *m)
{
	if (m->map != NULL)
		munmap(m->map, m->map_len);
	else
		free(m->ptr);
	m->ptr = NULL;
	m->map = NULL;
	m->map_len = 0;
}
