/* fuzz_config.c — config text through conf_load_buf.
 *
 * The input is a whole config file. The parser must never read outside it
 * (the replay main hands over an exactly-sized heap buffer, so ASan sees any
 * over-read), and must leave the configuration untouched when it fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_config c, before;
	char err[512];

	conf_defaults(&c);
	before = c;
	if (conf_load_buf(&c, "fuzz", (const char *)data, size, err,
			  sizeof(err)) != 0) {
		/* All or nothing: a failed load changes nothing. */
		if (memcmp(&c, &before, sizeof(c)) != 0)
			abort();
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	}
	return 0;
}
