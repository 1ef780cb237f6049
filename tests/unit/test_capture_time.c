/* test_capture_time.c — packet times from libpcap's fields (capture/capture.h):
 * a pcap record's ts_sec and ts_usec are unsigned, also when libpcap hands
 * them over negative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capture/capture.h"

struct ts_case {
	const char *name;
	int64_t sec, usec;
	uint64_t want;
};

static void test_ts(void **state)
{
	(void)state;
	static const struct ts_case cases[] = {
		{ "2026", 1768471200, 5, UINT64_C(1768471200000005) },
		{ "2^31 - 1 (2038-01-19T03:14:07Z)", INT32_MAX, 999999, UINT64_C(2147483647999999) },
		{ "2^31 read signed", INT32_MIN, 0, UINT64_C(2147483648000000) },
		{ "2^32 - 1 read signed (2106)", -1, 0, UINT64_C(4294967295000000) },
		{ "usec read signed", 0, -1, UINT64_C(4294967295) },
		{ "pcapng past 2106", INT64_C(5000000000), 0, UINT64_C(5000000000000000) },
		{ "saturates", INT64_MAX, 0, UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = cap_ts_us(cases[i].sec, cases[i].usec);
		if (got != cases[i].want)
			fail_msg("%s: %llu, want %llu", cases[i].name, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
