/* log.c — the sensor's own messages on stderr.
 *
 * The level is the one process-wide setting outside the configuration
 * struct: it is set once at start-up before any thread starts, and every
 * layer may log from start-up paths (packet paths count anomalies instead).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_level = LOG_WARN;

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void sw_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if (level > log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line, so lines from two threads do not interleave. */
	fprintf(stderr, "stubwatch: %s: %s\n", names[level & 3], line);
}
