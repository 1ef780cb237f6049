/* report.c — the HTML and JSON reports (see report.h), from the view's
 * device events and alert summaries, read through web/fields.h.
 */
#include "web/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "web/fields.h"
#include "web/guide.h"

int report_parse_fail_on(const char *s, uint16_t *mask, char *err, size_t errlen)
{
	*mask = 0;
	if (strcmp(s, "any") == 0) {
		*mask = (uint16_t)((1u << GUIDE_LINES) - 1);
		return 0;
	}
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		long n = strtol(p, &end, 10);
		if (end == p || errno != 0 || n < 1 || n > GUIDE_LINES || (*end != ',' && *end != '\0')) {
			snprintf(err, errlen, "--fail-on '%s': expected scorecard line numbers 1-%d, "
				 "comma-separated, or 'any'", s, GUIDE_LINES);
			*mask = 0;
			return SW_EINVAL;
		}
		*mask |= (uint16_t)(1u << (n - 1));
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return 0;
}

/* The devices of the report: [{"event": ..., "alerts": ...}], in id order. */
struct collect {
	json_t *devices;
	const char *only;
};

static void collect_one(void *ctx, const char *event, size_t len, const char *alerts)
{
	struct collect *c = ctx;
	json_t *ev = json_loadb(event, len, 0, NULL);
	if (ev == NULL)
		return;
	if (c->only != NULL && strcasecmp(fld_str(ev, FLD_DEVICE_ID, ""), c->only) != 0 &&
	    strcasecmp(fld_str(ev, FLD_DEVICE_MAC, ""), c->only) != 0) {
		json_decref(ev);
		return;
	}
	json_t *al = json_loads(alerts, 0, NULL);
	json_array_append_new(c->devices, json_pack("{s:o,s:o}", "event", ev, "alerts",
						    al != NULL ? al : json_object()));
}

static uint16_t failed_lines(const json_t *ev)
{
	uint16_t m = 0;
	const char *key;
	json_t *line;
	fld_foreach_line(ev, key, line) {
		json_int_t n = json_integer_value(json_object_get(line, FLD_LINE_NUMBER));
		if (n >= 1 && n <= GUIDE_LINES &&
		    strcmp(fld_str(line, FLD_LINE_VERDICT, ""), "fail") == 0)
			m |= (uint16_t)(1u << (n - 1));
	}
	return m;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *json_device(const json_t *d)
{
	const json_t *ev = json_object_get(d, "event");
	json_t *failed = json_array();
	const char *key;
	json_t *line;
	fld_foreach_line(ev, key, line) {
		json_int_t n = json_integer_value(json_object_get(line, FLD_LINE_NUMBER));
		const struct guide_line *g = guide_line((long)n);
		if (g == NULL || strcmp(fld_str(line, FLD_LINE_VERDICT, ""), "fail") != 0)
			continue;
		char why[1024];
		guide_explain((long)n, json_object_get(line, FLD_LINE_EVIDENCE), why, sizeof(why));
		json_array_append_new(failed, json_pack(
			"{s:I,s:s,s:s,s:O,s:s,s:s,s:s}", "line", n, "guideline",
			fld_str(line, FLD_LINE_GUIDELINE, ""), "explanation", why, "evidence",
			json_object_get(line, FLD_LINE_EVIDENCE), "requirement", g->requirement,
			"reference", g->reference, "advice", g->advice));
	}
	json_t *score = fld_get(ev, FLD_SCORE), *lines = fld_score_lines(ev);
	return json_pack("{s:O,s:O,s:o,s:o,s:O}", "device", fld_get(ev, FLD_DEVICE),
			 "score", score != NULL ? score : json_null(),
			 "scorecard", lines != NULL ? lines : json_array(), "failed", failed,
			 "alerts", json_object_get(d, "alerts"));
}

static int write_json(FILE *f, const json_t *devs, const json_t *stats, uint16_t fail_on,
		      uint16_t failed)
{
	json_t *out = json_array(), *fo = json_array(), *fl = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d)
		json_array_append_new(out, json_device(d));
	for (int n = 1; n <= GUIDE_LINES; n++) {
		if (fail_on & (1u << (n - 1)))
			json_array_append_new(fo, json_integer(n));
		if (failed & (1u << (n - 1)))
			json_array_append_new(fl, json_integer(n));
	}
	json_t *st = fld_get(stats, FLD_STATS);
	json_t *r = json_pack("{s:{s:s,s:O,s:I,s:o,s:o,s:o,s:o}}", "report", "version", SW_VERSION,
			      "capture", st != NULL ? st : json_null(),
			      "devices_total", (json_int_t)json_array_size(devs),
			      "fail_on", fo, "failed_fail_on", fl, "guidelines", guide_json(),
			      "devices", out);
	int rc = json_dumpf(r, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(r);
	return rc;
}

/* ---- HTML -------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* An id attribute from a device id: [0-9a-z] kept, the rest '-'. */
static void anchor(FILE *f, const char *id)
{
	fputs("dev-", f);
	for (; *id != '\0'; id++)
		fputc((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'z') ? *id : '-', f);
}

static const char *verdict_of(const json_t *ev, long n)
{
	const char *key;
	json_t *line;
	fld_foreach_line(ev, key, line)
		if (json_integer_value(json_object_get(line, FLD_LINE_NUMBER)) == n)
			return fld_str(line, FLD_LINE_VERDICT, "unknown");
	return "unknown";
}

static const char *mark(const char *verdict)
{
	return strcmp(verdict, "pass") == 0 ? "✔" : strcmp(verdict, "fail") == 0 ? "✘" : "?";
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em;"
	"color:#1d2330}h1{margin:.2em 0}h2{border-bottom:2px solid #d8dde6;padding-bottom:.2em;"
	"margin-top:2em}table{border-collapse:collapse;width:100%;margin:.5em 0}"
	"th,td{border-bottom:1px solid #e3e7ee;padding:.25em .5em;text-align:left;vertical-align:top}"
	"th{background:#f3f5f9}td.v{text-align:center;font-weight:bold}.pass{color:#17803d}"
	".fail{color:#c0262d}.unknown{color:#8a93a3}.meta{color:#525c6e}"
	".finding{border-left:4px solid #c0262d;background:#fdf3f3;padding:.4em .8em;margin:.6em 0}"
	".finding h4{margin:.2em 0}code{background:#f3f5f9;padding:0 .2em}"
	"@media print{h2{page-break-before:always}}";

/* Horizontal bars of every device's score. */
static void svg_scores(FILE *f, const json_t *devs)
{
	size_t n = json_array_size(devs), i;
	json_t *d;
	unsigned h = (unsigned)n * 18 + 24;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"%u\" "
		"role=\"img\" aria-label=\"device scores\">", h);
	fputs("<line x1=\"200\" y1=\"0\" x2=\"200\" y2=\"100%\" stroke=\"#8a93a3\"/>", f);
	json_array_foreach(devs, i, d) {
		const json_t *ev = json_object_get(d, "event");
		json_t *s = fld_get(ev, FLD_SCORE);
		double score = json_is_number(s) ? json_number_value(s) : -1;
		unsigned y = (unsigned)i * 18 + 4;
		const char *host = fld_str(ev, FLD_DEVICE_HOSTNAME, fld_str(ev, FLD_DEVICE_ID, ""));
		fprintf(f, "<text x=\"195\" y=\"%u\" font-size=\"11\" text-anchor=\"end\">", y + 11);
		esc(f, host);
		fputs("</text>", f);
		if (score >= 0) {
			const char *col = score >= 0.8 ? "#17803d" : score >= 0.5 ? "#d08a00" : "#c0262d";
			fprintf(f, "<rect x=\"201\" y=\"%u\" width=\"%.1f\" height=\"14\" fill=\"%s\"/>"
				"<text x=\"%.1f\" y=\"%u\" font-size=\"11\">%.0f %%</text>", y,
				score * 460, col, 206 + score * 460, y + 11, score * 100);
		} else {
			fprintf(f, "<text x=\"206\" y=\"%u\" font-size=\"11\" fill=\"#8a93a3\">"
				"no guideline judged yet</text>", y + 11);
		}
	}
	fprintf(f, "<text x=\"201\" y=\"%u\" font-size=\"10\">0 %%</text><text x=\"661\" y=\"%u\" "
		"font-size=\"10\" text-anchor=\"end\">100 %%</text></svg>\n", h - 4, h - 4);
}

/* Eleven squares, one per guideline, coloured by verdict. */
static void svg_strip(FILE *f, const json_t *ev)
{
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"330\" height=\"34\" role=\"img\" "
	      "aria-label=\"scorecard\">", f);
	for (long n = 1; n <= GUIDE_LINES; n++) {
		const char *v = verdict_of(ev, n);
		const char *col = strcmp(v, "pass") == 0 ? "#17803d" :
				  strcmp(v, "fail") == 0 ? "#c0262d" : "#c6ccd6";
		fprintf(f, "<rect x=\"%ld\" y=\"2\" width=\"26\" height=\"20\" fill=\"%s\"><title>%ld: %s"
			"</title></rect><text x=\"%ld\" y=\"32\" font-size=\"9\" text-anchor=\"middle\">%ld"
			"</text>", (n - 1) * 30, col, n, v, (n - 1) * 30 + 13, n);
	}
	fputs("</svg>\n", f);
}

static void html_device(FILE *f, const json_t *d)
{
	const json_t *ev = json_object_get(d, "event");
	json_t *alerts = json_object_get(d, "alerts");
	const char *id = fld_str(ev, FLD_DEVICE_ID, "");
	fputs("<section><h2 id=\"", f);
	anchor(f, id);
	fputs("\">", f);
	esc(f, id);
	fputs(" — ", f);
	esc(f, fld_str(ev, FLD_DEVICE_VENDOR, "unknown vendor"));
	if (fld_get(ev, FLD_DEVICE_HOSTNAME) != NULL) {
		fputs(" — ", f);
		esc(f, fld_str(ev, FLD_DEVICE_HOSTNAME, ""));
	}
	fputs("</h2><p class=\"meta\">Addresses: ", f);
	size_t i;
	json_t *x;
	json_array_foreach(fld_get(ev, FLD_DEVICE_IP), i, x) {
		fputs(i > 0 ? ", " : "", f);
		esc(f, json_string_value(x));
	}
	fputs(". Seen ", f);
	esc(f, fld_str(ev, FLD_DEVICE_FIRST, "?"));
	fputs(" to ", f);
	esc(f, fld_str(ev, FLD_DEVICE_LAST, "?"));
	fprintf(f, "; %lld DNS queries.</p>\n",
		(long long)json_integer_value(fld_get(ev, FLD_DNS_QUERIES)));
	svg_strip(f, ev);
	fputs("<table><tr><th>#</th><th>guideline</th><th>verdict</th><th>evidence</th></tr>\n", f);
	const char *key;
	json_t *line;
	fld_foreach_line(ev, key, line) {
		json_int_t n = json_integer_value(json_object_get(line, FLD_LINE_NUMBER));
		const char *v = fld_str(line, FLD_LINE_VERDICT, "unknown");
		char why[1024];
		guide_explain((long)n, json_object_get(line, FLD_LINE_EVIDENCE), why, sizeof(why));
		fprintf(f, "<tr><td>%lld</td><td>", (long long)n);
		esc(f, fld_str(line, FLD_LINE_GUIDELINE, ""));
		fprintf(f, "</td><td class=\"v %s\">%s %s</td><td>", strcmp(v, "pass") == 0 ? "pass" :
			strcmp(v, "fail") == 0 ? "fail" : "unknown", mark(v), v);
		esc(f, why);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	int nfail = 0;
	fld_foreach_line(ev, key, line) {
		json_int_t n = json_integer_value(json_object_get(line, FLD_LINE_NUMBER));
		const struct guide_line *g = guide_line((long)n);
		if (g == NULL || strcmp(fld_str(line, FLD_LINE_VERDICT, ""), "fail") != 0)
			continue;
		if (nfail++ == 0)
			fputs("<h3>What to change</h3>\n", f);
		char why[1024];
		guide_explain((long)n, json_object_get(line, FLD_LINE_EVIDENCE), why, sizeof(why));
		fprintf(f, "<div class=\"finding\"><h4>%lld. ", (long long)n);
		esc(f, fld_str(line, FLD_LINE_GUIDELINE, ""));
		fputs("</h4><p><b>Observed:</b> ", f);
		esc(f, why);
		fputs("</p><p><b>The guideline:</b> ", f);
		esc(f, g->requirement);
		fputs(" <span class=\"meta\">(", f);
		esc(f, g->reference);
		fputs(")</span></p><p><b>Change:</b> ", f);
		esc(f, g->advice);
		fputs("</p></div>\n", f);
	}
	if (json_object_size(alerts) == 0) {
		fputs("<p class=\"meta\">No alerts.</p></section>\n", f);
		return;
	}
	fputs("<h3>Alerts</h3><table><tr><th>rule</th><th>severity</th><th>count</th><th>first"
	      "</th><th>last</th><th>latest message</th></tr>\n", f);
	const char *rule;
	json_t *a;
	json_object_foreach(alerts, rule, a) {
		const json_t *al = json_object_get(a, "alert");
		fputs("<tr><td><code>", f);
		esc(f, rule);
		fprintf(f, "</code></td><td>%lld</td><td>%lld</td><td>",
			(long long)json_integer_value(json_object_get(a, "severity")),
			(long long)json_integer_value(json_object_get(a, "count")));
		esc(f, fld_str(a, "first", ""));
		fputs("</td><td>", f);
		esc(f, fld_str(a, "last", ""));
		fputs("</td><td>", f);
		esc(f, fld_str(al, FLD_MESSAGE, ""));
		size_t k;
		json_t *ref;
		json_array_foreach(fld_get(al, FLD_RULE_REFERENCE), k, ref) {
			fputs(k == 0 ? " <span class=\"meta\">(" : "; ", f);
			esc(f, json_string_value(ref));
		}
		fputs(json_array_size(fld_get(al, FLD_RULE_REFERENCE)) > 0 ? ")</span>" : "", f);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></section>\n", f);
}

static void write_html(FILE *f, const json_t *devs, const json_t *stats)
{
	const json_t *st = fld_get(stats, FLD_STATS);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'\">"
		"<title>stubwatch DNS hygiene report</title><style>%s</style></head><body>\n", css);
	fputs("<h1>DNS hygiene report</h1>\n<p class=\"meta\">Each device's stub resolver judged "
	      "against the IETF IoT DNS Security and Privacy Guidelines "
	      "(draft-ietf-iotops-iot-dns-guidelines-04) by stubwatch " SW_VERSION ".</p>\n", f);
	long long alerts = 0;
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d) {
		const char *k;
		json_t *a;
		json_object_foreach(json_object_get(d, "alerts"), k, a)
			alerts += json_integer_value(json_object_get(a, "count"));
	}
	fprintf(f, "<h2>Capture</h2><table><tr><th>packets</th><th>bytes</th><th>DNS queries "
		"(UDP / TCP)</th><th>devices</th><th>alerts</th><th>up to</th></tr><tr><td>%lld</td>"
		"<td>%lld</td><td>%lld / %lld</td><td>%zu</td><td>%lld</td><td>",
		(long long)json_integer_value(fld_get(st, "packets")),
		(long long)json_integer_value(fld_get(st, "bytes")),
		(long long)json_integer_value(fld_get(st, "dns.queries.udp")),
		(long long)json_integer_value(fld_get(st, "dns.queries.tcp")),
		json_array_size(devs), alerts);
	esc(f, fld_str(stats, FLD_TIMESTAMP, "?"));
	fputs("</td></tr></table>\n<h2>Devices</h2>\n", f);
	svg_scores(f, devs);
	fputs("<table><tr><th>device</th><th>vendor</th><th>host name</th><th>queries</th>", f);
	for (int n = 1; n <= GUIDE_LINES; n++)
		fprintf(f, "<th>%d</th>", n);
	fputs("<th>score</th><th>alerts</th></tr>\n", f);
	json_array_foreach(devs, i, d) {
		const json_t *ev = json_object_get(d, "event");
		fputs("<tr><td><a href=\"#", f);
		anchor(f, fld_str(ev, FLD_DEVICE_ID, ""));
		fputs("\">", f);
		esc(f, fld_str(ev, FLD_DEVICE_ID, ""));
		fputs("</a></td><td>", f);
		esc(f, fld_str(ev, FLD_DEVICE_VENDOR, ""));
		fputs("</td><td>", f);
		esc(f, fld_str(ev, FLD_DEVICE_HOSTNAME, ""));
		fprintf(f, "</td><td>%lld</td>", (long long)json_integer_value(fld_get(ev, FLD_DNS_QUERIES)));
		for (long n = 1; n <= GUIDE_LINES; n++) {
			const char *v = verdict_of(ev, n);
			fprintf(f, "<td class=\"v %s\">%s</td>", strcmp(v, "pass") == 0 ? "pass" :
				strcmp(v, "fail") == 0 ? "fail" : "unknown", mark(v));
		}
		json_t *s = fld_get(ev, FLD_SCORE);
		if (json_is_number(s))
			fprintf(f, "<td>%.0f %%</td>", json_number_value(s) * 100);
		else
			fputs("<td>–</td>", f);
		fprintf(f, "<td>%zu</td></tr>\n", json_object_size(json_object_get(d, "alerts")));
	}
	fputs("</table>\n<p class=\"meta\">Guidelines: ", f);
	for (long n = 1; n <= GUIDE_LINES; n++) {
		fprintf(f, "%s%ld. ", n > 1 ? "; " : "", n);
		esc(f, guide_line(n)->requirement);
	}
	fputs("</p>\n", f);
	json_array_foreach(devs, i, d)
		html_device(f, d);
	fputs("</body></html>\n", f);
}

int report_write(struct web_view *v, const struct report_opts *o, uint16_t *failed,
		 char *err, size_t errlen)
{
	struct collect c = { json_array(), o->device };
	*failed = 0;
	view_each_device(v, collect_one, &c);
	if (o->device != NULL && json_array_size(c.devices) == 0) {
		snprintf(err, errlen, "--device %s: no such device in the capture", o->device);
		json_decref(c.devices);
		return SW_EINVAL;
	}
	size_t i;
	json_t *d;
	json_array_foreach(c.devices, i, d)
		*failed |= failed_lines(json_object_get(d, "event")) & o->fail_on;
	char *stats_text = view_stats_text(v);
	json_t *stats = json_loads(stats_text != NULL ? stats_text : "", 0, NULL);
	free(stats_text);
	FILE *f = fopen(o->path, "w");
	int rc = 0;
	if (f == NULL) {
		snprintf(err, errlen, "--report %s: %s", o->path, strerror(errno));
		rc = SW_EIO;
	} else {
		size_t n = strlen(o->path);
		if (n > 5 && strcmp(o->path + n - 5, ".json") == 0)
			write_json(f, c.devices, stats, o->fail_on, *failed);
		else
			write_html(f, c.devices, stats);
		if (ferror(f) | (fclose(f) != 0)) {
			snprintf(err, errlen, "--report %s: write failed", o->path);
			rc = SW_EIO;
		}
	}
	json_decref(stats);
	json_decref(c.devices);
	return rc;
}
