/* report.h — the report a manufacturer reads after replaying a capture.
 *
 * Written from the web view once the replay is over: FILE.json is the same
 * content as data (for CI pipelines), any other name one self-contained
 * HTML file (inline CSS and SVG; nothing loaded from elsewhere) with the
 * capture summary, the device table and one section per device: its
 * scorecard, each failed guideline with its evidence, the references it
 * breaks and what to change, and its alerts.
 */
#ifndef SW_WEB_REPORT_H
#define SW_WEB_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "web/view.h"

struct report_opts {
	const char *path;        /* ends in .json: JSON; otherwise HTML */
	const char *device;      /* NULL: every device; else a device id or MAC */
	uint16_t fail_on;        /* bit n-1: scorecard line n */
};

/* Parses --fail-on: scorecard line numbers 1-11, comma-separated, or "any".
 * 0 or SW_EINVAL with the reason in err. */
int report_parse_fail_on(const char *s, uint16_t *mask, char *err, size_t errlen);

/* Writes the report. *failed gets the fail_on lines some reported device
 * fails. 0, or SW_EIO / SW_EINVAL (no such device) with the reason in err. */
int report_write(struct web_view *v, const struct report_opts *o, uint16_t *failed,
		 char *err, size_t errlen);

#endif
