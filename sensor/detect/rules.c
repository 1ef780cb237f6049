/* rules.c — loads and checks the rules folder (DESIGN.md "Rules"; every
 * detection and default of DETECTIONS.md). JSON is RFC 8259, read with
 * jansson; addresses are RFC 4291 text (IPv4 kept IPv4-mapped, §2.5.5.2). */
#include "detect/rules.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/fs.h"
#include "detect/alert.h"
#include "detect/custom.h"
#include "dns/dns.h"

/* ------------------------------------------------------------------ */
/* Names of detections, parameters and severities                      */

#define DET_NAME_(e, s) s,
static const char *const det_names[DET_MAX] = { DET_LIST(DET_NAME_) };
#undef DET_NAME_

#define DP_NAME_(e, s) s,
static const char *const dp_names[DP_MAX] = { DP_LIST(DP_NAME_) };
#undef DP_NAME_

_Static_assert(DP_MAX <= 64, "det_rule.params is a 64-bit set");

const char *det_id_name(enum det_id id)
{
	return (unsigned)id < DET_MAX ? det_names[id] : "?";
}

int det_id_from_name(const char *name)
{
	for (int i = 0; i < DET_MAX; i++)
		if (strcmp(det_names[i], name) == 0)
			return i;
	return -1;
}

const char *det_param_name(enum det_param p)
{
	return (unsigned)p < DP_MAX ? dp_names[p] : "?";
}

static const char *const sev_names[5] = { "?", "info", "low", "medium", "high" };

const char *det_severity_name(int sev)
{
	return sev >= SEV_INFO && sev <= SEV_HIGH ? sev_names[sev] : "?";
}

static int severity_from_name(const char *s)
{
	for (int i = SEV_INFO; i <= SEV_HIGH; i++)
		if (strcmp(sev_names[i], s) == 0)
			return i;
	return 0;
}

/* rule.category values (DETECTIONS.md groups). */
static const char *const categories[] = {
	"resolver", "encryption", "spoofing", "integrity", "cache", "rate", "edns",
	"transport", "ipv6", "dnssec", "amplification", "policy", "exfiltration",
};

/* ------------------------------------------------------------------ */
/* What each detection takes, and the sane range of each parameter     */

#define B(p) (UINT64_C(1) << DP_##p)
static const uint64_t det_takes[DET_MAX] = {
	[DET_RESOLVER_HARDCODED] = B(MIN_QUERIES),
	[DET_ENCRYPTION_NONE] = B(MIN_QUERIES) | B(WINDOW_S),
	[DET_STUB_PORT_PREDICTABLE] = B(MIN_QUERIES) | B(RING) | B(SIGMA_EXCELLENT) | B(SIGMA_GOOD),
	[DET_STUB_TXID_PREDICTABLE] = B(MIN_QUERIES) | B(RING) | B(SIGMA_EXCELLENT) |
				      B(SIGMA_GOOD) | B(CONSTANT_AFTER),
	[DET_RESPONSE_TXID_MISMATCH] = B(MIN_RESPONSES) | B(WINDOW_S),
	[DET_RESPONSE_UNSOLICITED] = B(MIN_RESPONSES) | B(WINDOW_S) | B(ESCALATE_RESPONSES) |
				     B(ESCALATE_BYTES),
	[DET_RESPONSE_RACE] = B(WINDOW_S),
	[DET_RESPONSE_REPLY_FLOOD] = B(MAX_RESPONSES),
	[DET_CACHE_REQUERY_WITHIN_TTL] = B(ALPHA) | B(MIN_TTL_S) | B(MIN_SAMPLES) | B(SHARE),
	[DET_CACHE_STALE_USE] = B(GRACE_S) | B(MIN_OCCURRENCES),
	[DET_CACHE_NEGATIVE_IGNORED] = B(MIN_REPEATS),
	[DET_RATE_BURST] = B(K) | B(FLOOR_QPS) | B(WINDOW_S) | B(SAME_NAME_MAX),
	[DET_RATE_RETRY_STORM] = B(TIMEOUT_S) | B(PER_NAME_QPS) | B(MIN_DURATION_S),
	[DET_NETWORK_RESOLVER_OUTAGE] = B(MIN_DEVICES) | B(MIN_SHARE) | B(WINDOW_S),
	[DET_EDNS_MISSING] = B(MIN_QUERIES),
	[DET_EDNS_BUFFER_SIZE] = B(MAX_SIZE) | B(MIN_SIZE),
	[DET_TRANSPORT_NO_TCP_FALLBACK] = B(RETRY_WINDOW_S) | B(MIN_TC_EVENTS),
	[DET_IPV6_NO_AAAA] = B(MIN_QUERIES),
	[DET_IPV6_NO_V6_TRANSPORT] = B(MIN_QUERIES),
	[DET_DNSSEC_UNAWARE] = B(MIN_QUERIES),
	[DET_AMPLIFICATION_RATIO] = B(RATIO) | B(MIN_BYTES) | B(WINDOW_S),
	[DET_POLICY_NEW_DOMAIN] = B(LEARNING_S),
	[DET_EXFIL_SUSPECT_NAMES] = B(MAX_LABEL_LEN) | B(ENTROPY_BITS) | B(MIN_NAMES) | B(WINDOW_S) |
				    B(MIN_SUBDOMAINS),
};
#undef B

struct param_range {
	double min, max;
	uint8_t integer;
};

#define DAY 86400.0
/* Bounds catch typos and units mixed up (ms for s), not taste: counts stay
 * below a million samples, windows within 30 days (longer than any state a
 * device keeps), fractions within [0, 1]. */
static const struct param_range ranges[DP_MAX] = {
	[DP_MIN_QUERIES] = { 1, 1e6, 1 },
	/* The ring is per device: 4096 16-bit samples is 8 KiB each. */
	[DP_RING] = { 8, 4096, 1 },
	/* σ of 16-bit values: a uniform spread over 0..65535 has σ ≈ 18918. */
	[DP_SIGMA_EXCELLENT] = { 0, 32768, 0 },
	[DP_SIGMA_GOOD] = { 0, 32768, 0 },
	[DP_CONSTANT_AFTER] = { 2, 1e6, 1 },
	[DP_WINDOW_S] = { 0.1, 30 * DAY, 0 },
	[DP_MIN_RESPONSES] = { 1, 1e6, 1 },
	[DP_ESCALATE_RESPONSES] = { 1, 1e9, 1 },
	[DP_ESCALATE_BYTES] = { 1, 1e12, 1 },
	[DP_MAX_RESPONSES] = { 1, 1000, 1 },
	[DP_ALPHA] = { 0.01, 1, 0 },
	[DP_MIN_TTL_S] = { 0, 7 * DAY, 0 },
	[DP_MIN_SAMPLES] = { 1, 1e6, 1 },
	[DP_SHARE] = { 0, 1, 0 },
	[DP_GRACE_S] = { 0, DAY, 0 },
	[DP_MIN_OCCURRENCES] = { 1, 1e6, 1 },
	[DP_MIN_REPEATS] = { 1, 1e6, 1 },
	[DP_K] = { 1, 1e4, 0 },
	[DP_FLOOR_QPS] = { 0, 1e6, 0 },
	[DP_SAME_NAME_MAX] = { 1, 1e6, 1 },
	[DP_TIMEOUT_S] = { 0.1, 60, 0 },
	[DP_PER_NAME_QPS] = { 0.001, 1e6, 0 },
	[DP_MIN_DURATION_S] = { 1, DAY, 0 },
	[DP_MIN_DEVICES] = { 1, 1e6, 1 },
	[DP_MIN_SHARE] = { 0, 1, 0 },
	/* EDNS(0) payload sizes are 16-bit (RFC 6891 §6.1.2). */
	[DP_MAX_SIZE] = { 512, 65535, 1 },
	[DP_MIN_SIZE] = { 0, 65535, 1 },
	[DP_RETRY_WINDOW_S] = { 0.1, 60, 0 },
	[DP_MIN_TC_EVENTS] = { 1, 1e6, 1 },
	[DP_RATIO] = { 1, 1e6, 0 },
	[DP_MIN_BYTES] = { 0, 1e12, 1 },
	[DP_LEARNING_S] = { 0, 365 * DAY, 0 },
	/* A DNS label is at most 63 octets (RFC 1035 §2.3.4). */
	[DP_MAX_LABEL_LEN] = { 1, 63, 1 },
	/* Shannon entropy of bytes is at most 8 bits per character. */
	[DP_ENTROPY_BITS] = { 0, 8, 0 },
	[DP_MIN_NAMES] = { 1, 1e6, 1 },
	/* exfil.suspect-names counts a zone's names by linear counting over
	 * 256 bits: within about 11 % up to 1,000, saturated a little past. */
	[DP_MIN_SUBDOMAINS] = { 2, 1000, 1 },
};
/* rate_limit_s: 30 days at most, like the windows. */
#define RATE_LIMIT_MAX (30 * 86400)
/* rule.reference: dnssec.unaware cites six documents; room to spare. */
#define MAX_REFS 16
/* Text fields: a title fits a dashboard column, a sentence a tooltip. */
#define NAME_MAX_LEN 80
#define TEXT_MAX_LEN 600
/* The shipped files are about 20 KB; 16 MiB means something is wrong. */
#define FILE_MAX (16u << 20)
/* Operators are indexed by 16 bits. */
#define OPS_MAX 65535

/* ------------------------------------------------------------------ */
/* Loader state: the file being read, the path of the member being     */
/* checked (for line:column), and the allocations of the result.       */

struct step {
	const char *key; /* member name, or NULL for an array index */
	size_t idx;
};

#define PATH_MAX_STEPS 6

struct ar_block {
	struct ar_block *next;
	alignas(max_align_t) unsigned char data[];
};

struct ld {
	const char *file;
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
	struct step path[PATH_MAX_STEPS];
	int depth;
	struct ar_block *mem;   /* every allocation of the result */
};

static void push_key(struct ld *c, const char *key)
{
	if (c->depth < PATH_MAX_STEPS)
		c->path[c->depth] = (struct step){ key, 0 };
	c->depth++;
}

static void push_idx(struct ld *c, size_t i)
{
	if (c->depth < PATH_MAX_STEPS)
		c->path[c->depth] = (struct step){ NULL, i };
	c->depth++;
}

static void pop(struct ld *c)
{
	c->depth--;
}

static void *ar_alloc(struct ld *c, size_t n)
{
	struct ar_block *b = malloc(sizeof(*b) + (n ? n : 1));
	if (b == NULL)
		return NULL;
	b->next = c->mem;
	c->mem = b;
	return b->data;
}

static void ar_free(struct ar_block *b)
{
	while (b != NULL) {
		struct ar_block *next = b->next;
		free(b);
		b = next;
	}
}

static char *ar_strdup(struct ld *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ar_alloc(c, n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* ---- where a member sits in the text --------------------------------
 * jansson keeps no positions, so on an error the loader walks the raw text
 * (which jansson has already accepted as JSON) along the path it was
 * checking. It runs only when a check fails. */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static size_t skip_string(const char *s, size_t n, size_t i)
{
	i++; /* the opening quote */
	while (i < n && s[i] != '"')
		i += s[i] == '\\' ? 2 : 1;
	return i < n ? i + 1 : n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
	i = skip_ws(s, n, i);
	if (i >= n)
		return n;
	if (s[i] == '"')
		return skip_string(s, n, i);
	if (s[i] == '{' || s[i] == '[') {
		int depth = 0;
		while (i < n) {
			char ch = s[i];
			if (ch == '"') {
				i = skip_string(s, n, i);
				continue;
			}
			if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				if (--depth == 0)
					return i + 1;
			}
			i++;
		}
		return n;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
	       s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

/* Offset of the value the path names (with at_key, of its member name);
 * the deepest place reached when the text does not lead there (a member
 * that is missing points at its object). */
static size_t locate(const char *s, size_t n, const struct step *p, int np, int at_key)
{
	size_t i = skip_ws(s, n, 0), found = i;
	if (np > PATH_MAX_STEPS)
		np = PATH_MAX_STEPS;
	for (int k = 0; k < np; k++) {
		i = skip_ws(s, n, i);
		if (i >= n)
			return found;
		if (p[k].key != NULL) {
			if (s[i] != '{')
				return found;
			i++;
			size_t klen = strlen(p[k].key);
			for (;;) {
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != '"')
					return found;
				size_t kstart = i;
				size_t kend = skip_string(s, n, i);
				int match = kend - kstart == klen + 2 &&
					    memcmp(s + kstart + 1, p[k].key, klen) == 0;
				i = skip_ws(s, n, kend);
				if (i >= n || s[i] != ':')
					return found;
				i = skip_ws(s, n, i + 1);
				if (match) {
					found = at_key && k == np - 1 ? kstart : i;
					break;
				}
				i = skip_ws(s, n, skip_value(s, n, i));
				if (i >= n || s[i] != ',')
					return found;
				i++;
			}
		} else {
			if (s[i] != '[')
				return found;
			i++;
			for (size_t j = 0; j < p[k].idx; j++) {
				i = skip_ws(s, n, skip_value(s, n, i));
				if (i >= n || s[i] != ',')
					return found;
				i++;
			}
			found = i = skip_ws(s, n, i);
		}
	}
	return found;
}

static void line_col(const char *s, size_t n, size_t off, int *line, int *col)
{
	int l = 1;
	size_t start = 0;
	for (size_t i = 0; i < off && i < n; i++) {
		if (s[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	*line = l;
	*col = (int)(off - start) + 1;
}

/* Writes "file:line:col: message" for the member at the current path (or
 * its name, with at_key) and returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ld *c, int at_key, const char *fmt, ...)
{
	if (c->errlen == 0)
		return -1;
	int depth = c->depth < PATH_MAX_STEPS ? c->depth : PATH_MAX_STEPS;
	size_t off = locate(c->text, c->len, c->path, depth, at_key);
	int line, col;
	line_col(c->text, c->len, off, &line, &col);
	int n = snprintf(c->err, c->errlen, "%s:%d:%d: ", c->file, line, col);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(struct ld *c)
{
	if (c->errlen > 0)
		snprintf(c->err, c->errlen, "%s: out of memory", c->file);
	return -1;
}

/* Every member of obj must be one of `allowed` (NULL-terminated). */
static int only_members(struct ld *c, json_t *obj, const char *const *allowed, const char *what)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				ok = 1;
		if (!ok) {
			push_key(c, key);
			int rc = fail(c, 1, "%s: unknown member \"%s\"", what, key);
			pop(c);
			return rc;
		}
	}
	return 0;
}

/* 1 when UTF-8 text holds only code points up to U+00FF. Alerts write
 * rule names and references through the event writer, which can represent
 * exactly that range (alert.c); "§" is in it, and so is every name and
 * reference the rules need. jansson has already checked the UTF-8. */
static int latin1_only(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0xc4 && *p < 0xf8) /* lead byte of U+0100 and above */
			return 0;
	return 1;
}

/* A required string member, 1..maxlen bytes. */
static int get_text(struct ld *c, json_t *obj, const char *key, const char *what,
		    size_t maxlen, int required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (v == NULL) {
		if (required)
			return fail(c, 0, "%s: \"%s\" is missing", what, key);
		return 0;
	}
	push_key(c, key);
	int rc = 0;
	if (!json_is_string(v))
		rc = fail(c, 0, "%s: %s must be a string", what, key);
	else if (json_string_length(v) == 0 || json_string_length(v) > maxlen)
		rc = fail(c, 0, "%s: %s must be 1 to %zu characters", what, key, maxlen);
	else if (strlen(json_string_value(v)) != json_string_length(v))
		rc = fail(c, 0, "%s: %s holds a NUL character", what, key);
	else if (!latin1_only(json_string_value(v)))
		rc = fail(c, 0, "%s: %s may hold only characters up to U+00FF", what, key);
	else if ((*out = ar_strdup(c, json_string_value(v))) == NULL)
		rc = oom(c);
	pop(c);
	return rc;
}

static int get_bool(struct ld *c, json_t *obj, const char *key, const char *what, uint8_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return fail(c, 0, "%s: \"%s\" is missing", what, key);
	if (!json_is_boolean(v)) {
		push_key(c, key);
		int rc = fail(c, 0, "%s: %s must be true or false", what, key);
		pop(c);
		return rc;
	}
	*out = json_is_true(v);
	return 0;
}

static int get_severity(struct ld *c, json_t *obj, const char *key, const char *what,
			int required, uint8_t *out)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (v == NULL)
		return required ? fail(c, 0, "%s: \"%s\" is missing", what, key) : 0;
	int sev = json_is_string(v) ? severity_from_name(json_string_value(v)) : 0;
	if (sev == 0) {
		push_key(c, key);
		int rc = fail(c, 0, "%s: %s must be info, low, medium or high", what, key);
		pop(c);
		return rc;
	}
	*out = (uint8_t)sev;
	return 0;
}

static int check_version(struct ld *c, json_t *root)
{
	json_t *v = json_object_get(root, "version");
	if (v == NULL)
		return fail(c, 0, "\"version\" is missing (this sensor reads version 1)");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		push_key(c, "version");
		int rc = fail(c, 0, "version must be 1 (the only version this sensor reads)");
		pop(c);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* detections.json                                                      */

/* Parameters added after rules files were first written: a file that
 * lacks them (a copy kept from an earlier version) gets these, the
 * shipped values, rather than a sensor that will not start. Every other
 * parameter must be given. */
static const struct {
	enum det_id id;
	enum det_param p;
	double value;
} later_params[] = {
	{ DET_RESPONSE_RACE, DP_WINDOW_S, 5 },
	{ DET_AMPLIFICATION_RATIO, DP_WINDOW_S, 300 },
	{ DET_EXFIL_SUSPECT_NAMES, DP_MIN_SUBDOMAINS, 100 },
};

/* 1 when parameter p of r is one of later_params, then set to its value. */
static int later_param(struct det_rule *r, int p)
{
	for (size_t i = 0; i < sizeof(later_params) / sizeof(later_params[0]); i++)
		if (later_params[i].id == r->id && (int)later_params[i].p == p) {
			r->p[p] = later_params[i].value;
			return 1;
		}
	return 0;
}

static int load_params(struct ld *c, json_t *obj, struct det_rule *r)
{
	const char *id = r->id_text;
	json_t *params = json_object_get(obj, "params");
	if (params == NULL)
		return fail(c, 0, "%s: \"params\" is missing (use {} when it takes none)", id);
	push_key(c, "params");
	int rc = 0;
	if (!json_is_object(params)) {
		rc = fail(c, 0, "%s: params must be an object", id);
		goto out;
	}
	uint64_t takes = det_takes[r->id], seen = 0;
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v) {
		int p = -1;
		for (int i = 0; i < DP_MAX; i++)
			if (strcmp(dp_names[i], key) == 0)
				p = i;
		push_key(c, key);
		if (p < 0 || !(takes & (UINT64_C(1) << p))) {
			rc = fail(c, 1, "%s: unknown parameter \"%s\"", id, key);
			goto out_key;
		}
		const struct param_range *pr = &ranges[p];
		if (!json_is_number(v)) {
			rc = fail(c, 0, "%s: params.%s must be a number", id, key);
			goto out_key;
		}
		double x = json_number_value(v);
		if (!isfinite(x) || x < pr->min || x > pr->max) {
			rc = fail(c, 0, "%s: params.%s must be from %g to %g", id, key, pr->min, pr->max);
			goto out_key;
		}
		if (pr->integer && floor(x) != x) {
			rc = fail(c, 0, "%s: params.%s must be a whole number", id, key);
			goto out_key;
		}
		r->p[p] = x;
		seen |= UINT64_C(1) << p;
		pop(c);
	}
	for (int p = 0; p < DP_MAX; p++) {
		if ((takes & (UINT64_C(1) << p)) && !(seen & (UINT64_C(1) << p)) &&
		    !later_param(r, p)) {
			rc = fail(c, 0, "%s: params.%s is missing", id, dp_names[p]);
			goto out;
		}
	}
	r->params = takes;
	/* Parameters that bound each other. */
	if ((takes & (UINT64_C(1) << DP_RING)) && r->p[DP_MIN_QUERIES] > r->p[DP_RING]) {
		rc = fail(c, 0, "%s: params.min_queries cannot exceed params.ring", id);
	} else if ((takes & (UINT64_C(1) << DP_SIGMA_GOOD)) &&
		   r->p[DP_SIGMA_GOOD] > r->p[DP_SIGMA_EXCELLENT]) {
		rc = fail(c, 0, "%s: params.sigma_good cannot exceed params.sigma_excellent", id);
	} else if ((takes & (UINT64_C(1) << DP_MIN_SIZE)) && r->p[DP_MIN_SIZE] > r->p[DP_MAX_SIZE]) {
		rc = fail(c, 0, "%s: params.min_size cannot exceed params.max_size", id);
	} else if ((takes & (UINT64_C(1) << DP_ESCALATE_RESPONSES)) &&
		   r->p[DP_ESCALATE_RESPONSES] < r->p[DP_MIN_RESPONSES]) {
		rc = fail(c, 0, "%s: params.escalate_responses cannot be below params.min_responses", id);
	} else if (r->id == DET_RESPONSE_RACE && r->p[DP_WINDOW_S] > RULES_RACE_WINDOW_MAX_S) {
		/* The answered-query table keeps an answer's time within its
		 * entry in 23 bits of microseconds (integrity.c). */
		rc = fail(c, 0, "%s: params.window_s cannot exceed %d", id, RULES_RACE_WINDOW_MAX_S);
	} else if ((takes & (UINT64_C(1) << DP_CONSTANT_AFTER)) &&
		   r->p[DP_CONSTANT_AFTER] > r->p[DP_RING]) {
		rc = fail(c, 0, "%s: params.constant_after cannot exceed params.ring", id);
	}
	goto out;
out_key:
	pop(c);
out:
	pop(c);
	return rc;
}

static int load_refs(struct ld *c, json_t *obj, struct det_rule *r)
{
	const char *id = r->id_text;
	json_t *a = json_object_get(obj, "reference");
	if (a == NULL)
		return fail(c, 0, "%s: \"reference\" is missing", id);
	push_key(c, "reference");
	int rc = 0;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	if (!json_is_array(a) || n == 0 || n > MAX_REFS) {
		rc = fail(c, 0, "%s: reference must be an array of 1 to %d strings", id, MAX_REFS);
		goto out;
	}
	const char **refs = ar_alloc(c, n * sizeof(*refs));
	if (refs == NULL) {
		rc = oom(c);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);
		push_idx(c, i);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > NAME_MAX_LEN * 2 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			rc = fail(c, 0, "%s: reference[%zu] must be a string of 1 to %d characters",
				  id, i, NAME_MAX_LEN * 2);
		} else if (!latin1_only(json_string_value(v))) {
			rc = fail(c, 0, "%s: reference[%zu] may hold only characters up to U+00FF",
				  id, i);
		} else if ((refs[i] = ar_strdup(c, json_string_value(v))) == NULL) {
			rc = oom(c);
		}
		pop(c);
		if (rc != 0)
			goto out;
	}
	r->refs = refs;
	r->nrefs = (uint8_t)n;
out:
	pop(c);
	return rc;
}

static const char *const det_members[] = {
	"id", "name", "category", "description", "enabled", "severity", "severity_escalated",
	"escalation", "posture", "params", "reference", "rate_limit_s", NULL
};

static int load_detection(struct ld *c, json_t *obj, size_t idx, struct rules *out,
			  uint8_t seen[DET_MAX])
{
	char what[48];
	snprintf(what, sizeof(what), "detections[%zu]", idx);
	if (!json_is_object(obj))
		return fail(c, 0, "%s must be an object", what);
	json_t *idv = json_object_get(obj, "id");
	if (idv == NULL)
		return fail(c, 0, "%s: \"id\" is missing", what);
	push_key(c, "id");
	int id = json_is_string(idv) ? det_id_from_name(json_string_value(idv)) : -1;
	if (!json_is_string(idv)) {
		fail(c, 0, "%s: id must be a string", what);
		pop(c);
		return -1;
	}
	if (id < 0) {
		fail(c, 0, "unknown detection id \"%s\" (the detections of stubwatch(8) and "
		     "the installed detections.json list the ids)",
		     json_string_value(idv));
		pop(c);
		return -1;
	}
	if (seen[id]) {
		fail(c, 0, "duplicate detection id \"%s\"", det_names[id]);
		pop(c);
		return -1;
	}
	pop(c);
	seen[id] = 1;

	struct det_rule *r = &out->det[id];
	const char *name = det_names[id];
	r->id = (enum det_id)id;
	r->id_text = name;
	if (only_members(c, obj, det_members, name) != 0)
		return -1;
	if (get_text(c, obj, "name", name, NAME_MAX_LEN, 1, &r->name) != 0)
		return -1;
	const char *cat;
	if (get_text(c, obj, "category", name, NAME_MAX_LEN, 1, &cat) != 0)
		return -1;
	r->category = NULL;
	for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(categories[i], cat) == 0)
			r->category = categories[i];
	if (r->category == NULL) {
		push_key(c, "category");
		fail(c, 0, "%s: category must be one of resolver, encryption, spoofing, integrity, "
			   "cache, rate, edns, transport, ipv6, dnssec, amplification, policy, "
			   "exfiltration", name);
		pop(c);
		return -1;
	}
	if (get_text(c, obj, "description", name, TEXT_MAX_LEN, 0, &r->description) != 0 ||
	    get_bool(c, obj, "enabled", name, &r->enabled) != 0 ||
	    get_bool(c, obj, "posture", name, &r->posture) != 0 ||
	    get_severity(c, obj, "severity", name, 1, &r->severity) != 0 ||
	    get_severity(c, obj, "severity_escalated", name, 0, &r->severity_escalated) != 0 ||
	    get_text(c, obj, "escalation", name, TEXT_MAX_LEN, 0, &r->escalation) != 0)
		return -1;
	if (r->severity_escalated != 0 && r->severity_escalated <= r->severity) {
		push_key(c, "severity_escalated");
		fail(c, 0, "%s: severity_escalated must be above severity (%s)", name,
		     sev_names[r->severity]);
		pop(c);
		return -1;
	}
	if (r->escalation != NULL && r->severity_escalated == 0) {
		push_key(c, "escalation");
		fail(c, 1, "%s: escalation needs a severity_escalated", name);
		pop(c);
		return -1;
	}
	json_t *rl = json_object_get(obj, "rate_limit_s");
	if (rl == NULL)
		return fail(c, 0, "%s: \"rate_limit_s\" is missing", name);
	if (!json_is_integer(rl) || json_integer_value(rl) < 0 ||
	    json_integer_value(rl) > RATE_LIMIT_MAX) {
		push_key(c, "rate_limit_s");
		fail(c, 0, "%s: rate_limit_s must be a whole number of seconds from 0 to %d",
		     name, RATE_LIMIT_MAX);
		pop(c);
		return -1;
	}
	r->rate_limit_s = (uint32_t)json_integer_value(rl);
	if (load_params(c, obj, r) != 0 || load_refs(c, obj, r) != 0)
		return -1;
	return 0;
}

static int load_detections(struct ld *c, json_t *root, struct rules *out)
{
	static const char *const top[] = { "version", "detections", NULL };
	if (!json_is_object(root))
		return fail(c, 0, "the top level must be an object with version and detections");
	if (only_members(c, root, top, "detections.json") != 0 || check_version(c, root) != 0)
		return -1;
	json_t *list = json_object_get(root, "detections");
	if (list == NULL)
		return fail(c, 0, "\"detections\" is missing");
	push_key(c, "detections");
	if (!json_is_array(list)) {
		fail(c, 0, "detections must be an array of objects");
		pop(c);
		return -1;
	}
	uint8_t seen[DET_MAX] = { 0 };
	for (size_t i = 0; i < json_array_size(list); i++) {
		push_idx(c, i);
		int rc = load_detection(c, json_array_get(list, i), i, out, seen);
		pop(c);
		if (rc != 0) {
			pop(c);
			return -1;
		}
	}
	for (int id = 0; id < DET_MAX; id++) {
		if (!seen[id]) {
			fail(c, 0, "detection \"%s\" is missing (every detection needs an entry, "
				   "as in the installed detections.json; set \"enabled\": false "
				   "to turn one off)",
			     det_names[id]);
			pop(c);
			return -1;
		}
	}
	pop(c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* resolvers.json                                                       */

/* A growing array of the loader's own (freed before returning). */
struct vec {
	void *p;
	size_t n, cap, esz;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		void *p = realloc(v->p, cap * v->esz);
		if (p == NULL)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *e = (char *)v->p + v->n * v->esz;
	v->n++;
	memset(e, 0, v->esz);
	return e;
}

/* An entry and where it came from, for messages about duplicates. */
struct tmp_addr {
	struct rules_addr a;
	struct step path[4];
	int np;
};

struct tmp_name {
	struct rules_name e;
	struct step path[4];
	int np;
};

static void save_path(const struct ld *c, struct step *path, int *np)
{
	int n = c->depth < 4 ? c->depth : 4;
	memcpy(path, c->path, (size_t)n * sizeof(*path));
	*np = n;
}

static void set_path(struct ld *c, const struct step *path, int np)
{
	memcpy(c->path, path, (size_t)np * sizeof(*path));
	c->depth = np;
}

/* Host names as DNS names (RFC 1035 §2.3.1, with the underscore that
 * service names use): lower-cased into out, one trailing dot dropped;
 * "*." in front marks "any name below" when allowed. 0 or -1. */
static int norm_name(const char *in, int allow_wild, char out[256], int *wild)
{
	*wild = 0;
	if (allow_wild && in[0] == '*' && in[1] == '.') {
		*wild = 1;
		in += 2;
	}
	size_t n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			   ch == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = ch;
	}
	out[n] = '\0';
	return 0;
}

/* Reads an array member of names into v. kind_flags: what a plain name
 * matches; "*." names match their subdomains. Missing is fine when
 * optional. */
static int load_names(struct ld *c, json_t *obj, const char *key, int required, uint16_t op,
		      unsigned plain_flags, int allow_wild, struct vec *v, const char *what)
{
	json_t *a = json_object_get(obj, key);
	if (a == NULL)
		return required ? fail(c, 0, "%s: \"%s\" is missing", what, key) : 0;
	push_key(c, key);
	int rc = 0;
	if (!json_is_array(a)) {
		rc = fail(c, 0, "%s: %s must be an array of names", what, key);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		json_t *s = json_array_get(a, i);
		char name[256];
		int wild;
		push_idx(c, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
		    norm_name(json_string_value(s), allow_wild, name, &wild) != 0) {
			rc = fail(c, 0, "%s: %s[%zu] is not a host name%s", what, key, i,
				  allow_wild ? " (or *.name)" : "");
		} else {
			struct tmp_name *t = vec_push(v);
			if (t == NULL || (t->e.name = ar_strdup(c, name)) == NULL) {
				rc = oom(c);
			} else {
				t->e.op = op;
				t->e.flags = (uint8_t)(wild ? RULES_NAME_SUB : plain_flags);
				save_path(c, t->path, &t->np);
			}
		}
		pop(c);
	}
out:
	pop(c);
	return rc;
}

/* Reads an array member of addresses into v. */
static int load_addrs(struct ld *c, json_t *obj, const char *key, uint16_t op, struct vec *v,
		      const char *what)
{
	json_t *a = json_object_get(obj, key);
	if (a == NULL)
		return fail(c, 0, "%s: \"%s\" is missing", what, key);
	push_key(c, key);
	int rc = 0;
	if (!json_is_array(a)) {
		rc = fail(c, 0, "%s: %s must be an array of IP addresses", what, key);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		json_t *s = json_array_get(a, i);
		uint8_t ip[16];
		push_idx(c, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
		    ip_parse(json_string_value(s), ip) != 0) {
			rc = fail(c, 0, "%s: %s[%zu] is not an IPv4 or IPv6 address", what, key, i);
		} else {
			struct tmp_addr *t = vec_push(v);
			if (t == NULL) {
				rc = oom(c);
			} else {
				memcpy(t->a.ip, ip, 16);
				t->a.op = op;
				save_path(c, t->path, &t->np);
			}
		}
		pop(c);
	}
out:
	pop(c);
	return rc;
}

static int cmp_tmp_addr(const void *a, const void *b)
{
	return memcmp(((const struct tmp_addr *)a)->a.ip, ((const struct tmp_addr *)b)->a.ip, 16);
}

static int cmp_tmp_name(const void *a, const void *b)
{
	return strcmp(((const struct tmp_name *)a)->e.name, ((const struct tmp_name *)b)->e.name);
}

/* Sorts v into a fresh array of the result; an address listed twice is an
 * error. */
static int finish_addrs(struct ld *c, struct vec *v, const struct rules_addr **out, size_t *n,
			const struct rules *r)
{
	struct tmp_addr *t = v->p;
	if (v->n > 1)
		qsort(t, v->n, sizeof(*t), cmp_tmp_addr);
	struct rules_addr *a = ar_alloc(c, v->n * sizeof(*a));
	if (a == NULL)
		return oom(c);
	for (size_t i = 0; i < v->n; i++) {
		if (i > 0 && memcmp(t[i].a.ip, t[i - 1].a.ip, 16) == 0) {
			char txt[FMT_IP_LEN];
			fmt_ip(txt, t[i].a.ip);
			set_path(c, t[i].path, t[i].np);
			if (r != NULL && t[i].a.op != t[i - 1].a.op)
				return fail(c, 0, "%s is listed for both %s and %s", txt,
					    r->ops[t[i - 1].a.op].name, r->ops[t[i].a.op].name);
			return fail(c, 0, "%s is listed twice", txt);
		}
		a[i] = t[i].a;
	}
	*out = a;
	*n = v->n;
	return 0;
}

/* Sorts v; the same name twice merges its flags when it belongs to the
 * same operator, and is an error when two operators claim it. */
static int finish_names(struct ld *c, struct vec *v, const struct rules_name **out, size_t *n,
			const struct rules *r)
{
	struct tmp_name *t = v->p;
	if (v->n > 1)
		qsort(t, v->n, sizeof(*t), cmp_tmp_name);
	struct rules_name *a = ar_alloc(c, v->n * sizeof(*a));
	if (a == NULL)
		return oom(c);
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (k > 0 && strcmp(a[k - 1].name, t[i].e.name) == 0) {
			if (r != NULL && a[k - 1].op != t[i].e.op) {
				set_path(c, t[i].path, t[i].np);
				return fail(c, 0, "%s is listed for both %s and %s", t[i].e.name,
					    r->ops[a[k - 1].op].name, r->ops[t[i].e.op].name);
			}
			a[k - 1].flags |= t[i].e.flags;
			continue;
		}
		a[k++] = t[i].e;
	}
	*out = a;
	*n = k;
	return 0;
}

/* Lower-cases a name to look up into buf; -1 when it cannot be in a list. */
static int lower_name(const char *in, char buf[256])
{
	size_t n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		buf[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	buf[n] = '\0';
	return 0;
}

static const struct rules_name *name_bsearch(const struct rules_name *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(v[mid].name, key);
		if (d == 0)
			return &v[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The entry matching name exactly, or the nearest parent entry that covers
 * its subdomains; NULL when none. */
static const struct rules_name *name_match(const struct rules_name *v, size_t n, const char *name)
{
	char buf[256];
	if (n == 0 || name == NULL || lower_name(name, buf) != 0)
		return NULL;
	const struct rules_name *e = name_bsearch(v, n, buf);
	if (e != NULL && (e->flags & RULES_NAME_EXACT))
		return e;
	for (const char *p = strchr(buf, '.'); p != NULL; p = strchr(p + 1, '.')) {
		e = name_bsearch(v, n, p + 1);
		if (e != NULL && (e->flags & RULES_NAME_SUB))
			return e;
	}
	return NULL;
}

static const struct rules_addr *addr_bsearch(const struct rules_addr *v, size_t n,
					     const uint8_t ip[16])
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(v[mid].ip, ip, 16);
		if (d == 0)
			return &v[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The host of an https:// template: between the scheme and the first of
 * "/:?{" (RFC 8484 §3 URI templates); -1 when the template is not https. */
static int template_host(const char *t, char host[256])
{
	static const char scheme[] = "https://";
	if (strncmp(t, scheme, sizeof(scheme) - 1) != 0)
		return -1;
	t += sizeof(scheme) - 1;
	size_t n = strcspn(t, "/:?{");
	if (n == 0 || n > 253)
		return -1;
	memcpy(host, t, n);
	host[n] = '\0';
	return 0;
}

static const char *const op_members[] = {
	"operator", "addresses", "doh_templates", "doh_sni", "dot_names", NULL
};

struct res_vecs {
	struct vec pub, sanct, enc_addr, enc_names, doh, dot, zones;
};

static int load_operator(struct ld *c, json_t *o, size_t i, struct rules_operator *op,
			 struct res_vecs *v)
{
	char what[32];
	snprintf(what, sizeof(what), "public[%zu]", i);
	if (!json_is_object(o))
		return fail(c, 0, "%s must be an object", what);
	if (only_members(c, o, op_members, what) != 0 ||
	    get_text(c, o, "operator", what, NAME_MAX_LEN, 1, &op->name) != 0 ||
	    load_addrs(c, o, "addresses", (uint16_t)i, &v->pub, op->name) != 0 ||
	    load_names(c, o, "doh_sni", 0, (uint16_t)i, RULES_NAME_EXACT, 1, &v->doh,
		       op->name) != 0 ||
	    load_names(c, o, "dot_names", 0, (uint16_t)i, RULES_NAME_EXACT, 1, &v->dot,
		       op->name) != 0)
		return -1;
	json_t *tl = json_object_get(o, "doh_templates");
	if (tl == NULL)
		return 0;
	push_key(c, "doh_templates");
	int rc = 0;
	size_t n = json_is_array(tl) ? json_array_size(tl) : 0;
	const char **tpl = ar_alloc(c, (n ? n : 1) * sizeof(*tpl));
	if (!json_is_array(tl)) {
		rc = fail(c, 0, "%s: doh_templates must be an array of https:// URI templates",
			  op->name);
	} else if (tpl == NULL) {
		rc = oom(c);
	}
	for (size_t k = 0; k < n && rc == 0; k++) {
		json_t *s = json_array_get(tl, k);
		char host[256];
		push_idx(c, k);
		if (!json_is_string(s) || json_string_length(s) > TEXT_MAX_LEN ||
		    strlen(json_string_value(s)) != json_string_length(s) ||
		    template_host(json_string_value(s), host) != 0)
			rc = fail(c, 0, "%s: doh_templates[%zu] must be an https:// URI template",
				  op->name, k);
		else if ((tpl[k] = ar_strdup(c, json_string_value(s))) == NULL)
			rc = oom(c);
		pop(c);
	}
	op->doh_templates = tpl;
	op->ndoh_templates = n;
	pop(c);
	return rc;
}

/* Each DoH template's host must be among its operator's doh_sni names:
 * the encrypted-DNS check sees only the SNI, so a template whose host no
 * SNI entry matches would never be recognised. */
static int check_templates(struct ld *c, const struct rules *r)
{
	push_key(c, "public");
	for (size_t i = 0; i < r->nops; i++) {
		const struct rules_operator *op = &r->ops[i];
		push_idx(c, i);
		push_key(c, "doh_templates");
		for (size_t k = 0; k < op->ndoh_templates; k++) {
			char host[256];
			push_idx(c, k);
			template_host(op->doh_templates[k], host);
			const struct rules_name *e = name_match(r->doh, r->ndoh, host);
			if (e == NULL || e->op != i)
				return fail(c, 0, "%s: the host %s of doh_templates[%zu] is not "
						  "among its doh_sni names", op->name, host, k);
			pop(c);
		}
		pop(c);
		pop(c);
	}
	pop(c);
	return 0;
}

static int load_resolvers(struct ld *c, json_t *root, struct rules *r)
{
	static const char *const top[] = { "version", "public", "sanctioned", "internal_zones",
					   NULL };
	static const char *const sanct_members[] = { "resolvers", "encrypted", NULL };
	struct res_vecs v = {
		.pub.esz = sizeof(struct tmp_addr), .sanct.esz = sizeof(struct tmp_addr),
		.enc_addr.esz = sizeof(struct tmp_addr), .enc_names.esz = sizeof(struct tmp_name),
		.doh.esz = sizeof(struct tmp_name), .dot.esz = sizeof(struct tmp_name),
		.zones.esz = sizeof(struct tmp_name),
	};
	int rc = -1;
	if (!json_is_object(root)) {
		fail(c, 0, "the top level must be an object with version, public, sanctioned "
			   "and internal_zones");
		goto out;
	}
	if (only_members(c, root, top, "resolvers.json") != 0 || check_version(c, root) != 0)
		goto out;

	json_t *pub = json_object_get(root, "public");
	if (pub == NULL) {
		fail(c, 0, "\"public\" is missing");
		goto out;
	}
	push_key(c, "public");
	size_t nops = json_is_array(pub) ? json_array_size(pub) : 0;
	if (!json_is_array(pub) || nops > OPS_MAX) {
		fail(c, 0, "public must be an array of at most %d operators", OPS_MAX);
		goto out;
	}
	struct rules_operator *ops = ar_alloc(c, (nops ? nops : 1) * sizeof(*ops));
	if (ops == NULL) {
		oom(c);
		goto out;
	}
	memset(ops, 0, (nops ? nops : 1) * sizeof(*ops));
	r->ops = ops;
	r->nops = nops;
	for (size_t i = 0; i < nops; i++) {
		push_idx(c, i);
		if (load_operator(c, json_array_get(pub, i), i, &ops[i], &v) != 0)
			goto out;
		pop(c);
	}
	pop(c);

	json_t *s = json_object_get(root, "sanctioned");
	if (s == NULL) {
		fail(c, 0, "\"sanctioned\" is missing (use {\"resolvers\": [], \"encrypted\": []})");
		goto out;
	}
	push_key(c, "sanctioned");
	if (!json_is_object(s)) {
		fail(c, 0, "sanctioned must be an object with resolvers and encrypted");
		goto out;
	}
	if (only_members(c, s, sanct_members, "sanctioned") != 0 ||
	    load_addrs(c, s, "resolvers", 0, &v.sanct, "sanctioned") != 0)
		goto out;
	json_t *enc = json_object_get(s, "encrypted");
	if (enc == NULL) {
		fail(c, 0, "sanctioned: \"encrypted\" is missing");
		goto out;
	}
	push_key(c, "encrypted");
	if (!json_is_array(enc)) {
		fail(c, 0, "sanctioned: encrypted must be an array of addresses or names");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(enc); i++) {
		json_t *e = json_array_get(enc, i);
		uint8_t ip[16];
		char name[256];
		int wild;
		push_idx(c, i);
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
			fail(c, 0, "sanctioned: encrypted[%zu] must be an address or a name", i);
			goto out;
		}
		if (ip_parse(json_string_value(e), ip) == 0) {
			struct tmp_addr *t = vec_push(&v.enc_addr);
			if (t == NULL) {
				oom(c);
				goto out;
			}
			memcpy(t->a.ip, ip, 16);
			save_path(c, t->path, &t->np);
		} else if (norm_name(json_string_value(e), 1, name, &wild) == 0) {
			struct tmp_name *t = vec_push(&v.enc_names);
			if (t == NULL || (t->e.name = ar_strdup(c, name)) == NULL) {
				oom(c);
				goto out;
			}
			t->e.flags = (uint8_t)(wild ? RULES_NAME_SUB : RULES_NAME_EXACT);
			save_path(c, t->path, &t->np);
		} else {
			fail(c, 0, "sanctioned: encrypted[%zu] is neither an IP address nor a "
				   "host name", i);
			goto out;
		}
		pop(c);
	}
	pop(c);
	pop(c);

	if (json_object_get(root, "internal_zones") == NULL) {
		fail(c, 0, "\"internal_zones\" is missing (use [] for none)");
		goto out;
	}
	if (load_names(c, root, "internal_zones", 1, 0, RULES_NAME_EXACT | RULES_NAME_SUB, 0,
		       &v.zones, "internal_zones") != 0)
		goto out;

	if (finish_addrs(c, &v.pub, &r->pub, &r->npub, r) != 0 ||
	    finish_addrs(c, &v.sanct, &r->sanct, &r->nsanct, NULL) != 0 ||
	    finish_addrs(c, &v.enc_addr, &r->enc_addr, &r->nenc_addr, NULL) != 0 ||
	    finish_names(c, &v.enc_names, &r->enc_names, &r->nenc_names, NULL) != 0 ||
	    finish_names(c, &v.doh, &r->doh, &r->ndoh, r) != 0 ||
	    finish_names(c, &v.dot, &r->dot, &r->ndot, r) != 0 ||
	    finish_names(c, &v.zones, &r->zones, &r->nzones, NULL) != 0)
		goto out;
	c->depth = 0;
	if (check_templates(c, r) != 0)
		goto out;
	rc = 0;
out:
	free(v.pub.p);
	free(v.sanct.p);
	free(v.enc_addr.p);
	free(v.enc_names.p);
	free(v.doh.p);
	free(v.dot.p);
	free(v.zones.p);
	return rc;
}

/* A rule's alert "rule" object, written once here instead of in every
 * alert (its name and references go through the Latin-1 conversion and
 * the escaping each time otherwise). */
static int render_rule(struct ld *c, struct det_rule *d)
{
	size_t n;
	char *text = alert_rule_json(d, &n);
	char *kept = text != NULL ? ar_alloc(c, n + 1) : NULL;
	if (kept == NULL) {
		free(text);
		return oom(c);
	}
	memcpy(kept, text, n + 1);
	free(text);
	d->json = kept;
	d->json_len = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* custom.json: the operator's rules (detect/custom.h)                  */

/* A rule's threshold: a million matches or a day's window is already more
 * than a per-device counter in a 32-bit fixed window needs. */
#define CUST_COUNT_MAX 1000000
#define CUST_SECONDS_MAX 86400
/* Custom alerts default to one per device and rule an hour, as most of
 * the shipped detections. */
#define CUST_RATE_LIMIT_DEFAULT 3600
#define CUST_ID_MAX 64

/* UTF-8 text of code points up to U+00FF (latin1_only) as Latin-1, in
 * place: the alert writer escapes each byte >= 0x80 as that code point. */
static void to_latin1(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = in;
	while (*in) {
		if ((in[0] == 0xc2 || in[0] == 0xc3) && (in[1] & 0xc0) == 0x80) {
			*out++ = (unsigned char)(((in[0] & 0x1f) << 6) | (in[1] & 0x3f));
			in += 2;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

static int cust_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CUST_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* "aa:bb:cc[:dd:ee:ff]" (or with '-') into n bytes; 0 or -1. */
static int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != n * 3 - 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = fmt_hexval(s[3 * i]), lo = fmt_hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i + 1 < n && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* An address or prefix ("192.0.2.0/24", "2001:db8::/32", "9.9.9.9"). */
static int parse_prefix(const char *s, struct cust_prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (ip_parse(buf, p->ip) != 0)
		return -1;
	int v4 = strchr(buf, ':') == NULL;
	unsigned max = v4 ? 32 : 128, bits = max;
	if (slash != NULL) {
		char *end;
		errno = 0;
		unsigned long b = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || b > max)
			return -1;
		bits = (unsigned)b;
	}
	cust_prefix_set(p, v4 ? 96 + bits : bits);
	/* Host bits set ("10.0.0.1/8") say the author meant something else. */
	return memcmp(p->net, p->ip, 16) == 0 ? 0 : -1;
}

/* A match key that takes one string or an array of 1..CUST_LIST_MAX:
 * each one goes through each(); *n is how many. `what` names the rule,
 * `kind` what the strings must be, for the message. */
typedef int (*item_fn)(struct ld *c, const char *s, size_t i, void *out);

static int get_list(struct ld *c, json_t *obj, const char *key, const char *what,
		    const char *kind, size_t esz, item_fn each, void **out, uint32_t *n)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	push_key(c, key);
	int rc = 0;
	int one = json_is_string(v);
	size_t cnt = one ? 1 : json_is_array(v) ? json_array_size(v) : 0;
	if (cnt == 0 || cnt > CUST_LIST_MAX) {
		rc = fail(c, 0, "%s: match.%s must be %s or an array of 1 to %d of them", what,
			  key, kind, CUST_LIST_MAX);
		goto out;
	}
	char *arr = ar_alloc(c, cnt * esz);
	if (arr == NULL) {
		rc = oom(c);
		goto out;
	}
	for (size_t i = 0; i < cnt && rc == 0; i++) {
		json_t *s = one ? v : json_array_get(v, i);
		if (!one)
			push_idx(c, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			rc = fail(c, 0, "%s: match.%s%s must be %s", what, key, one ? "" : "[]",
				  kind);
		else if (each(c, json_string_value(s), i, arr + i * esz) != 0)
			rc = fail(c, 0, "%s: match.%s: \"%s\" is not %s", what, key,
				  json_string_value(s), kind);
		if (!one)
			pop(c);
	}
	*out = arr;
	*n = (uint32_t)cnt;
out:
	pop(c);
	return rc;
}

static int item_name(struct ld *c, const char *s, size_t i, void *out)
{
	char name[256];
	int wild;
	if (norm_name(s, 0, name, &wild) != 0)
		return -1;
	const char **p = out;
	*p = ar_strdup(c, name);
	return *p == NULL ? -1 : 0;
}

static int item_prefix(struct ld *c, const char *s, size_t i, void *out)
{
	return parse_prefix(s, out);
}

static int item_mac(struct ld *c, const char *s, size_t i, void *out)
{
	return parse_hex_bytes(s, out, 6);
}

static int item_oui(struct ld *c, const char *s, size_t i, void *out)
{
	return parse_hex_bytes(s, out, 3);
}

static int item_transport(struct ld *c, const char *s, size_t i, void *out)
{
	static const char *const names[] = { "udp", "tcp", "dot", "doh", "doq" };
	for (unsigned k = 0; k < 5; k++) {
		if (strcmp(s, names[k]) == 0) {
			*(uint8_t *)out = (uint8_t)(1u << k);
			return 0;
		}
	}
	return -1;
}

/* 1 when name is at or below zone. */
static int at_or_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	return z <= n && strcmp(name + n - z, zone) == 0 && (z == n || name[n - z - 1] == '.');
}

/* Drops the names of a rule that another of its names makes redundant:
 * duplicates, and those at or below one of its suffixes (custom.h: no
 * query may meet a rule twice in the index). */
static void prune_names(const char **names, uint32_t *n, const char *const *sfx,
			uint32_t nsfx, int self_is_sfx)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < *n; i++) {
		int drop = 0;
		for (uint32_t j = 0; j < nsfx && !drop; j++) {
			if (self_is_sfx && j == i)
				continue;
			/* Of two equal suffixes the later one goes. */
			if (self_is_sfx && strcmp(names[i], sfx[j]) == 0)
				drop = j < i;
			else
				drop = at_or_below(names[i], sfx[j]);
		}
		for (uint32_t j = 0; j < kept && !drop; j++)
			drop = strcmp(names[i], names[j]) == 0;
		if (!drop)
			names[kept++] = names[i];
	}
	*n = kept;
}

/* A qtype or rcode: its mnemonic ("AAAA", "NXDOMAIN"; RFC 3597's TYPE123
 * for types) or a number up to max. */
static int get_code(struct ld *c, json_t *obj, const char *key, const char *what,
		    unsigned max, const char *(*name_of)(uint16_t), const char *prefix,
		    uint16_t *out)
{
	json_t *v = json_object_get(obj, key);
	push_key(c, key);
	int rc = -1;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= (json_int_t)max) {
		*out = (uint16_t)json_integer_value(v);
		rc = 0;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t pl = strlen(prefix);
		if (pl > 0 && strncasecmp(s, prefix, pl) == 0 && s[pl] >= '0' && s[pl] <= '9') {
			char *end;
			unsigned long n = strtoul(s + pl, &end, 10);
			if (*end == '\0' && n <= max) {
				*out = (uint16_t)n;
				rc = 0;
			}
		}
		for (unsigned k = 0; k <= max && rc != 0; k++) {
			const char *nm = name_of((uint16_t)k);
			if (nm != NULL && strcasecmp(nm, s) == 0) {
				*out = (uint16_t)k;
				rc = 0;
			}
		}
	}
	if (rc != 0)
		fail(c, 0, "%s: match.%s must be a %s name or a number from 0 to %u", what, key,
		     key, max);
	pop(c);
	return rc;
}

static const char *const cust_match_members[] = {
	"qname", "qname_suffix", "not_qname_suffix", "qtype", "rcode", "resolver", "transport",
	"mac", "oui", "vlan", NULL
};

static int load_cust_match(struct ld *c, json_t *m, struct cust_rule *r, const char *what)
{
	if (!json_is_object(m))
		return fail(c, 0, "%s: match must be an object", what);
	if (only_members(c, m, cust_match_members, what) != 0)
		return -1;
	void *qn, *sf, *ns, *rs, *mac, *oui, *tr;
	uint32_t ntr;
	if (get_list(c, m, "qname", what, "a host name", sizeof(char *), item_name, &qn,
		     &r->nqnames) != 0 ||
	    get_list(c, m, "qname_suffix", what, "a host name", sizeof(char *), item_name, &sf,
		     &r->nsuffixes) != 0 ||
	    get_list(c, m, "not_qname_suffix", what, "a host name", sizeof(char *), item_name,
		     &ns, &r->nnot_suffixes) != 0 ||
	    get_list(c, m, "resolver", what, "an IP address or prefix (192.0.2.0/24)",
		     sizeof(struct cust_prefix), item_prefix, &rs, &r->nresolvers) != 0 ||
	    get_list(c, m, "mac", what, "a MAC (aa:bb:cc:dd:ee:ff)", 6, item_mac, &mac,
		     &r->nmacs) != 0 ||
	    get_list(c, m, "oui", what, "an OUI (aa:bb:cc)", 3, item_oui, &oui, &r->nouis) != 0 ||
	    get_list(c, m, "transport", what, "udp, tcp, dot, doh or doq", 1, item_transport,
		     &tr, &ntr) != 0)
		return -1;
	const char **qnames = qn, **suffixes = sf;
	prune_names(suffixes, &r->nsuffixes, suffixes, r->nsuffixes, 1);
	prune_names(qnames, &r->nqnames, suffixes, r->nsuffixes, 0);
	r->qnames = qnames;
	r->suffixes = suffixes;
	r->not_suffixes = ns;
	r->resolvers = rs;
	r->macs = mac;
	r->ouis = oui;
	r->transports = ntr ? 0 : CUST_T_ALL;
	for (uint32_t i = 0; i < ntr; i++)
		r->transports |= ((const uint8_t *)tr)[i];
	r->keys = (r->nqnames ? CUST_K_QNAME : 0) | (r->nsuffixes ? CUST_K_SUFFIX : 0) |
		  (r->nnot_suffixes ? CUST_K_NOT_SUFFIX : 0) |
		  (r->nresolvers ? CUST_K_RESOLVER : 0) | (ntr ? CUST_K_TRANSPORT : 0) |
		  (r->nmacs ? CUST_K_MAC : 0) | (r->nouis ? CUST_K_OUI : 0);
	if (json_object_get(m, "qtype") != NULL) {
		if (get_code(c, m, "qtype", what, 65535, dns_type_name, "TYPE", &r->qtype) != 0)
			return -1;
		r->keys |= CUST_K_QTYPE;
	}
	if (json_object_get(m, "rcode") != NULL) {
		/* 12 bits with the EDNS extension (RFC 6891 §6.1.3). */
		if (get_code(c, m, "rcode", what, 4095, dns_rcode_name, "", &r->rcode) != 0)
			return -1;
		r->keys |= CUST_K_RCODE;
	}
	json_t *vl = json_object_get(m, "vlan");
	if (vl != NULL) {
		if (!json_is_integer(vl) || json_integer_value(vl) < 0 ||
		    json_integer_value(vl) > 4095) {
			push_key(c, "vlan");
			fail(c, 0, "%s: match.vlan must be a VLAN id from 0 to 4095 (0: untagged)",
			     what);
			pop(c);
			return -1;
		}
		r->vlan = (uint16_t)json_integer_value(vl);
		r->keys |= CUST_K_VLAN;
	}
	/* An encrypted flow shows no question: a rule that needs both can
	 * never fire, which is a mistake worth a message. */
	if ((r->keys & CUST_K_QUESTION) && (r->transports & ~CUST_T_ENCRYPTED) == 0) {
		push_key(c, "transport");
		fail(c, 0, "%s: dot, doh and doq hide the question: a rule over those transports "
			   "cannot also match qname, qname_suffix, not_qname_suffix, qtype or rcode",
		     what);
		pop(c);
		return -1;
	}
	return 0;
}

static const char *const cust_members[] = {
	"id", "name", "enabled", "message", "severity", "reference", "match", "threshold",
	"rate_limit_s", NULL
};

static int get_uint(struct ld *c, json_t *obj, const char *key, const char *what,
		    uint32_t lo, uint32_t hi, const char *unit, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return fail(c, 0, "%s: \"%s\" is missing", what, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		push_key(c, key);
		fail(c, 0, "%s: %s must be a whole number%s from %u to %u", what, key, unit, lo,
		     hi);
		pop(c);
		return -1;
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int load_cust_rule(struct ld *c, json_t *obj, size_t idx, struct cust_rule *r)
{
	char what[96];
	snprintf(what, sizeof(what), "rules[%zu]", idx);
	if (!json_is_object(obj))
		return fail(c, 0, "%s must be an object", what);
	json_t *idv = json_object_get(obj, "id");
	if (idv == NULL)
		return fail(c, 0, "%s: \"id\" is missing", what);
	if (!json_is_string(idv) || !cust_id_ok(json_string_value(idv)) ||
	    strlen(json_string_value(idv)) != json_string_length(idv)) {
		push_key(c, "id");
		fail(c, 0, "%s: id must be 1 to %d characters of a-z, 0-9, '.', '-' and '_' "
			   "(\"local.bad-zone\")", what, CUST_ID_MAX);
		pop(c);
		return -1;
	}
	const char *id = json_string_value(idv);
	if (det_id_from_name(id) >= 0) {
		push_key(c, "id");
		fail(c, 0, "%s: \"%s\" is the id of a built-in detection", what, id);
		pop(c);
		return -1;
	}
	snprintf(what, sizeof(what), "%s", id);
	struct det_rule *d = &r->det;
	d->id = DET_MAX;
	d->category = "custom";
	if ((d->id_text = ar_strdup(c, id)) == NULL)
		return oom(c);
	if (only_members(c, obj, cust_members, what) != 0 ||
	    get_text(c, obj, "name", what, NAME_MAX_LEN, 0, &d->name) != 0 ||
	    get_text(c, obj, "message", what, TEXT_MAX_LEN, 1, &r->message) != 0 ||
	    get_severity(c, obj, "severity", what, 1, &d->severity) != 0)
		return -1;
	if (d->name == NULL)
		d->name = d->id_text;
	char *msg = ar_strdup(c, r->message);
	if (msg == NULL)
		return oom(c);
	to_latin1(msg);
	r->message = msg;
	r->enabled = 1;
	if (json_object_get(obj, "enabled") != NULL &&
	    get_bool(c, obj, "enabled", what, &r->enabled) != 0)
		return -1;
	d->enabled = r->enabled;
	d->rate_limit_s = CUST_RATE_LIMIT_DEFAULT;
	if (json_object_get(obj, "rate_limit_s") != NULL &&
	    get_uint(c, obj, "rate_limit_s", what, 0, RATE_LIMIT_MAX, " of seconds",
		     &d->rate_limit_s) != 0)
		return -1;
	if (json_object_get(obj, "reference") != NULL && load_refs(c, obj, d) != 0)
		return -1;
	json_t *m = json_object_get(obj, "match");
	if (m == NULL)
		return fail(c, 0, "%s: \"match\" is missing (an empty object matches every "
			    "transaction)", what);
	push_key(c, "match");
	int rc = load_cust_match(c, m, r, what);
	pop(c);
	if (rc != 0)
		return -1;
	json_t *th = json_object_get(obj, "threshold");
	if (th != NULL) {
		static const char *const th_members[] = { "count", "seconds", NULL };
		push_key(c, "threshold");
		if (!json_is_object(th))
			rc = fail(c, 0, "%s: threshold must be an object {\"count\": N, "
				  "\"seconds\": S}", what);
		else if (only_members(c, th, th_members, what) != 0 ||
			 get_uint(c, th, "count", what, 1, CUST_COUNT_MAX, "", &r->count) != 0 ||
			 get_uint(c, th, "seconds", what, 1, CUST_SECONDS_MAX, " of seconds",
				  &r->seconds) != 0)
			rc = -1;
		pop(c);
	}
	return rc;
}

static int cmp_cust_id(const void *a, const void *b)
{
	return strcmp((*(const struct cust_rule *const *)a)->det.id_text,
		      (*(const struct cust_rule *const *)b)->det.id_text);
}

static int load_custom(struct ld *c, json_t *root, struct rules *out)
{
	static const char *const top[] = { "version", "rules", NULL };
	if (!json_is_object(root))
		return fail(c, 0, "the top level must be an object with version and rules");
	if (only_members(c, root, top, "custom.json") != 0 || check_version(c, root) != 0)
		return -1;
	json_t *list = json_object_get(root, "rules");
	if (list == NULL)
		return fail(c, 0, "\"rules\" is missing");
	push_key(c, "rules");
	size_t n = json_is_array(list) ? json_array_size(list) : 0;
	if (!json_is_array(list) || n > CUST_RULES_MAX) {
		fail(c, 0, "rules must be an array of at most %d objects", CUST_RULES_MAX);
		pop(c);
		return -1;
	}
	struct cust_rule *rules = ar_alloc(c, n * sizeof(*rules));
	const struct cust_rule **byid = malloc((n ? n : 1) * sizeof(*byid));
	int rc = rules == NULL || byid == NULL ? oom(c) : 0;
	if (rules != NULL)
		memset(rules, 0, n * sizeof(*rules));
	for (size_t i = 0; i < n && rc == 0; i++) {
		push_idx(c, i);
		rc = load_cust_rule(c, json_array_get(list, i), i, &rules[i]);
		if (rc == 0)
			rc = render_rule(c, &rules[i].det);
		pop(c);
		byid[i] = &rules[i];
	}
	if (rc == 0 && n > 1) {
		qsort(byid, n, sizeof(*byid), cmp_cust_id);
		for (size_t i = 1; i < n && rc == 0; i++) {
			if (strcmp(byid[i]->det.id_text, byid[i - 1]->det.id_text) == 0) {
				/* The message points at the later of the two. */
				const struct cust_rule *later =
					byid[i] > byid[i - 1] ? byid[i] : byid[i - 1];
				push_idx(c, (size_t)(later - rules));
				push_key(c, "id");
				rc = fail(c, 0, "duplicate rule id \"%s\"", byid[i]->det.id_text);
				pop(c);
				pop(c);
			}
		}
	}
	free(byid);
	pop(c);
	if (rc != 0)
		return -1;
	struct cust_set *s = cust_build(rules, (uint32_t)n);
	if (s == NULL)
		return oom(c);
	cust_free(out->custom);
	out->custom = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                         */

/* Parses one buffer; a syntax error gets jansson's line and column. */
static json_t *parse(struct ld *c)
{
	json_error_t e;
	json_t *root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &e);
	if (root == NULL && c->errlen > 0)
		snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, e.line, e.column, e.text);
	return root;
}

/* Each detection's alert "rule" object (render_rule). */
static int render_rules(struct ld *c, struct rules *r)
{
	for (unsigned i = 0; i < DET_MAX; i++)
		if (r->det[i].id_text != NULL && render_rule(c, &r->det[i]) != 0)
			return -1;
	return 0;
}

struct rules *rules_load_buffers(const char *det_name, const char *det, size_t det_len,
				 const char *res_name, const char *res, size_t res_len,
				 char *err, size_t errlen)
{
	struct ld c = { .err = err, .errlen = errlen };
	if (errlen > 0)
		err[0] = '\0';
	struct rules *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: out of memory", det_name);
		return NULL;
	}
	c.file = det_name;
	c.text = det;
	c.len = det_len;
	json_t *root = parse(&c);
	int rc = root == NULL ? -1 : load_detections(&c, root, r);
	json_decref(root);
	if (rc == 0)
		rc = render_rules(&c, r);
	if (rc == 0) {
		c.file = res_name;
		c.text = res;
		c.len = res_len;
		c.depth = 0;
		root = parse(&c);
		rc = root == NULL ? -1 : load_resolvers(&c, root, r);
		json_decref(root);
	}
	r->mem = c.mem;
	if (rc != 0) {
		rules_free(r);
		return NULL;
	}
	return r;
}

int rules_load_custom(struct rules *r, const char *name, const char *buf, size_t len,
		      char *err, size_t errlen)
{
	struct ld c = { .file = name, .text = buf, .len = len, .err = err, .errlen = errlen,
			.mem = r->mem };
	if (errlen > 0)
		err[0] = '\0';
	json_t *root = parse(&c);
	int rc = root == NULL ? -1 : load_custom(&c, root, r);
	json_decref(root);
	r->mem = c.mem;
	return rc == 0 ? 0 : SW_EINVAL;
}

void rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	cust_free(r->custom);
	ar_free(r->mem);
	free(r);
}

/* Reads a whole file; NULL and a message naming it on failure. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	/* Regular files only: a FIFO or a device would block the start (or a
	 * SIGHUP reload) for ever. */
	char why[128];
	int fd = fs_open_regular(path, 0, why, sizeof(why));
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (f == NULL) {
		if (fd >= 0) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
			close(fd);
		}
		snprintf(err, errlen, "%s: cannot open: %s%s", path, why,
			 errno == EINVAL ? " (rules are read from regular files only)" : "");
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > FILE_MAX + 1)
				cap = FILE_MAX + 1;
			char *b = realloc(buf, cap);
			if (b == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %u MiB; this is not a rules file",
				 path, FILE_MAX >> 20);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

struct rules *rules_load(const char *dir, char *err, size_t errlen)
{
	char ebuf[1];
	if (errlen == 0) {
		err = ebuf;
		errlen = sizeof(ebuf);
	}
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: rules folder: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: rules folder: not a directory", dir);
		return NULL;
	}
	char pd[4096], pr[4096];
	if ((size_t)snprintf(pd, sizeof(pd), "%s/detections.json", dir) >= sizeof(pd) ||
	    (size_t)snprintf(pr, sizeof(pr), "%s/resolvers.json", dir) >= sizeof(pr)) {
		snprintf(err, errlen, "%s: rules folder: path too long", dir);
		return NULL;
	}
	size_t nd, nr;
	char *d = read_file(pd, &nd, err, errlen);
	if (d == NULL)
		return NULL;
	char *rs = read_file(pr, &nr, err, errlen);
	if (rs == NULL) {
		free(d);
		return NULL;
	}
	struct rules *r = rules_load_buffers(pd, d, nd, pr, rs, nr, err, errlen);
	free(d);
	free(rs);
	/* custom.json is optional: no file, no operator rules. */
	char pc[4096];
	if (r == NULL || (size_t)snprintf(pc, sizeof(pc), "%s/custom.json", dir) >= sizeof(pc) ||
	    (stat(pc, &st) != 0 && errno == ENOENT))
		return r;
	size_t nc;
	char *cs = read_file(pc, &nc, err, errlen);
	if (cs == NULL || rules_load_custom(r, pc, cs, nc, err, errlen) != 0) {
		free(cs);
		rules_free(r);
		return NULL;
	}
	free(cs);
	return r;
}

int rules_check(const char *dir, char *err, size_t errlen)
{
	struct rules *r = rules_load(dir, err, errlen);
	if (r == NULL)
		return SW_EINVAL;
	rules_free(r);
	return 0;
}

static int has_rules(const char *dir)
{
	char p[4096];
	if ((size_t)snprintf(p, sizeof(p), "%s/detections.json", dir) >= sizeof(p))
		return 0;
	return access(p, R_OK) == 0;
}

int rules_find_dir(const char *configured, int explicit_dir, char *out, size_t outlen)
{
	static const char *const installed[] = {
		"/usr/local/share/stubwatch/rules",
		"/usr/share/stubwatch/rules",
	};
	if (configured != NULL && configured[0] != '\0' && has_rules(configured)) {
		snprintf(out, outlen, "%s", configured);
		return 0;
	}
	if (!explicit_dir) {
		for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++) {
			if (has_rules(installed[i])) {
				snprintf(out, outlen, "%s", installed[i]);
				return 0;
			}
		}
		snprintf(out, outlen, "no rules folder with detections.json: tried %s, %s, %s "
			 "(set rules.dir or --rules)", configured ? configured : "(none)",
			 installed[0], installed[1]);
	} else {
		snprintf(out, outlen, "%s: no detections.json in this rules folder",
			 configured ? configured : "(none)");
	}
	return SW_EIO;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                              */

const char *rules_public_operator(const struct rules *r, const uint8_t ip[16])
{
	const struct rules_addr *a = addr_bsearch(r->pub, r->npub, ip);
	return a != NULL ? r->ops[a->op].name : NULL;
}

int rules_is_sanctioned(const struct rules *r, const uint8_t ip[16])
{
	return addr_bsearch(r->sanct, r->nsanct, ip) != NULL;
}

int rules_encrypted_sanctioned(const struct rules *r, const uint8_t *ip, const char *name)
{
	if (ip != NULL && addr_bsearch(r->enc_addr, r->nenc_addr, ip) != NULL)
		return 1;
	return name != NULL && name_match(r->enc_names, r->nenc_names, name) != NULL;
}

const char *rules_doh_operator(const struct rules *r, const char *name)
{
	const struct rules_name *e = name_match(r->doh, r->ndoh, name);
	return e != NULL ? r->ops[e->op].name : NULL;
}

const char *rules_dot_operator(const struct rules *r, const char *name)
{
	const struct rules_name *e = name_match(r->dot, r->ndot, name);
	return e != NULL ? r->ops[e->op].name : NULL;
}

int rules_internal_zone(const struct rules *r, const char *qname)
{
	return name_match(r->zones, r->nzones, qname) != NULL;
}
