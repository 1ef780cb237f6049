/* log.c — the sensor's own messages on stderr.
 *
 * The level is the one process-wide setting outside the configuration
 * struct, as stderr itself is one per process: main sets it at start-up,
 * and every layer, from any thread (engines, sinks, the spooler), reads it
 * when it logs (packet paths count anomalies instead). It is atomic so a
 * change while threads run is no data race; relaxed, because a message
 * printed or not around that moment needs no ordering.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic int log_level = LOG_WARN;

void log_set_level(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

void sw_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if (level > log_get_level())
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line, so lines from two threads do not interleave. */
	fprintf(stderr, "stubwatch: %s: %s\n", names[level & 3], line);
}
