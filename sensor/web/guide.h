/* guide.h — what each scorecard line asks of a device, in words: the
 * references it rests on, one sentence that explains a line's evidence, and
 * what a manufacturer should change when it fails. The report quotes it and
 * the dashboard reads it from /api/v1/guidelines, so both say the same.
 */
#ifndef SW_WEB_GUIDE_H
#define SW_WEB_GUIDE_H

#include <jansson.h>
#include <stddef.h>

#define GUIDE_LINES 11

struct guide_line {
	const char *reference;   /* RFCs and the draft, '; '-separated */
	const char *requirement; /* what the guideline asks, one sentence */
	const char *evidence;    /* template: {key} is the evidence's value */
	const char *advice;      /* what to change when it fails */
};

/* Line n (1..GUIDE_LINES), or NULL. */
const struct guide_line *guide_line(long n);

/* The evidence sentence of line n with evidence's values filled in ("?" for
 * a missing key), into out (always terminated). */
void guide_explain(long n, const json_t *evidence, char *out, size_t outlen);

/* Every line as a JSON array (new reference). */
json_t *guide_json(void);

#endif
