/* test_common_mem.c — big arrays: zeroed, aligned, freed (common/mem.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/mem.h"

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Under 2 MiB from the heap, from 2 MiB on a mapping on a 2 MiB boundary;
 * both zeroed, cache-line aligned and writable to the last byte. */
static void test_sizes(void **state)
{
	(void)state;
	static const size_t sizes[][2] = {
		{ 1, 1 }, { 0, 64 }, { 1000, 24 }, { (2u << 20) / 64 - 1, 64 },
		{ (2u << 20) / 64, 64 }, { 100000, 168 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sw_big m;
		size_t n = sizes[i][0], sz = sizes[i][1], len = n * sz;
		uint8_t *p = sw_big_alloc(&m, n, sz);
		assert_non_null(p);
		assert_ptr_equal(p, m.ptr);
		assert_int_equal((uintptr_t)p % 64, 0);
		if (len >= (2u << 20)) {
			assert_non_null(m.map);
			assert_int_equal((uintptr_t)p % (2u << 20), 0);
		} else {
			assert_null(m.map);
		}
		assert_true(all_zero(p, len));
		if (len > 0) {
			p[0] = 1;
			p[len - 1] = 2;
		}
		sw_big_free(&m);
		assert_null(m.ptr);
		assert_null(m.map);
	}
}

/* A size whose product overflows is refused, not wrapped. */
static void test_overflow(void **state)
{
	(void)state;
	struct sw_big m;
	assert_null(sw_big_alloc(&m, SIZE_MAX / 2, 4));
	assert_null(m.ptr);
	sw_big_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
