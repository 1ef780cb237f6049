/* sink.c — opening a sink from its -o text or configuration key.
 *
 * URL forms: redis://[user:password@]host[:port][/db] (RFC 3986 authority,
 * IPv6 literals in brackets, percent-escapes in user and password),
 * unix://[user:password@]/path/to/socket[?db=N], and
 * kafka://broker[,broker...][/prefix]. Anything else is a file: "file:PATH",
 * "PATH", or "-" for standard output.
 */
#include "output/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/fs.h"

/* Redis's own default port. */
#define REDIS_PORT 6379

/* Redis accepts `databases` up to INT_MAX; no real server has a million. */
#define REDIS_DB_MAX 1000000

/* Copies [p, p+n) into out, decoding %XX (RFC 3986 2.1). */
static int pct_decode(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = fmt_hexval((unsigned char)p[i + 1])) < 0 ||
			    (l = fmt_hexval((unsigned char)p[i + 2])) < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Reads a decimal in [lo, hi] from [p, p+n). */
static int parse_num(const char *p, size_t n, long lo, long hi, long *out)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* user:password@ before `end`; sets *rest past the '@'. */
static int parse_userinfo(const char *s, const char *end, struct redis_url *u,
			  const char **rest, char *err, size_t errlen)
{
	const char *at = memchr(s, '@', (size_t)(end - s));
	const char *colon;

	*rest = s;
	if (at == NULL)
		return 0;
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon == NULL) {
		snprintf(err, errlen, "expected user:password@ or :password@ before the host");
		return SW_EINVAL;
	}
	if (pct_decode(s, (size_t)(colon - s), u->user, sizeof(u->user)) != 0 ||
	    pct_decode(colon + 1, (size_t)(at - colon - 1), u->password,
		       sizeof(u->password)) != 0) {
		snprintf(err, errlen, "bad user or password (too long, or a bad %%-escape)");
		return SW_EINVAL;
	}
	if (u->password[0] == '\0') {
		snprintf(err, errlen, "empty password after ':'");
		return SW_EINVAL;
	}
	*rest = at + 1;
	return 0;
}

int redis_url_parse(const char *url, struct redis_url *u, char *err, size_t errlen)
{
	const char *p, *end, *slash, *q;
	long v;

	memset(u, 0, sizeof(*u));
	u->port = REDIS_PORT;
	if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		slash = strchr(p, '/');
		if (slash == NULL) {
			snprintf(err, errlen, "expected unix:///path/to/socket");
			return SW_EINVAL;
		}
		if (parse_userinfo(p, slash, u, &p, err, errlen) != 0)
			return SW_EINVAL;
		if (p != slash) {
			snprintf(err, errlen, "expected unix:///path/to/socket "
				 "(an absolute path after unix://)");
			return SW_EINVAL;
		}
		q = strchr(slash, '?');
		end = q ? q : slash + strlen(slash);
		if ((size_t)(end - slash) >= sizeof(u->path) || end - slash < 2) {
			snprintf(err, errlen, "socket path empty or too long");
			return SW_EINVAL;
		}
		memcpy(u->path, slash, (size_t)(end - slash));
		u->path[end - slash] = '\0';
		if (q != NULL) {
			if (strncmp(q, "?db=", 4) != 0 ||
			    parse_num(q + 4, strlen(q + 4), 0, REDIS_DB_MAX, &v) != 0) {
				snprintf(err, errlen, "expected ?db=N after the socket path");
				return SW_EINVAL;
			}
			u->db = (int)v;
		}
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "expected redis://host:port[/db] or unix:///path");
		return SW_EINVAL;
	}
	p = url + 8;
	end = p + strcspn(p, "/?#");
	if (*end == '?' || *end == '#') {
		snprintf(err, errlen, "unexpected '%c' (the database goes in the path: /db)", *end);
		return SW_EINVAL;
	}
	if (parse_userinfo(p, end, u, &p, err, errlen) != 0)
		return SW_EINVAL;
	/* host, [v6], then :port */
	const char *hend, *pstart = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL) {
			snprintf(err, errlen, "unterminated [IPv6] host");
			return SW_EINVAL;
		}
		if (rb + 1 < end && rb[1] != ':') {
			snprintf(err, errlen, "unexpected text after ]");
			return SW_EINVAL;
		}
		if (rb + 1 < end)
			pstart = rb + 2;
		hend = rb;
		p++;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		hend = colon ? colon : end;
		if (colon)
			pstart = colon + 1;
	}
	if (hend == p || (size_t)(hend - p) >= sizeof(u->host)) {
		snprintf(err, errlen, "host name empty or too long");
		return SW_EINVAL;
	}
	memcpy(u->host, p, (size_t)(hend - p));
	u->host[hend - p] = '\0';
	if (pstart != NULL) {
		if (parse_num(pstart, (size_t)(end - pstart), 1, 65535, &v) != 0) {
			snprintf(err, errlen, "port must be a number 1..65535");
			return SW_EINVAL;
		}
		u->port = (int)v;
	}
	if (*end == '/' && end[1] != '\0') {
		if (parse_num(end + 1, strlen(end + 1), 0, REDIS_DB_MAX, &v) != 0) {
			snprintf(err, errlen, "database after '/' must be a number 0..%d",
				 REDIS_DB_MAX);
			return SW_EINVAL;
		}
		u->db = (int)v;
	}
	return 0;
}

/* Kafka topic names: [a-zA-Z0-9._-], at most 249 bytes (Kafka's Topic.java);
 * the prefix leaves room for ".devices". */
static int topic_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

int kafka_url_parse(const char *url, struct kafka_url *u, char *err, size_t errlen)
{
	const char *p, *slash;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "kafka://", 8) != 0) {
		snprintf(err, errlen, "expected kafka://broker[,broker]/prefix");
		return SW_EINVAL;
	}
	p = url + 8;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof(u->brokers)) {
		snprintf(err, errlen, "broker list empty or too long");
		return SW_EINVAL;
	}
	memcpy(u->brokers, p, n);
	u->brokers[n] = '\0';
	if (strchr(u->brokers, '@') != NULL) {
		/* Not echoed: what stands before the '@' is likely a password. */
		snprintf(err, errlen, "no user or password in a Kafka URL (SASL credentials go in "
			 "output.kafka.property.sasl.username and output.kafka.sasl_password_file)");
		return SW_EINVAL;
	}
	for (const char *b = u->brokers; *b; b++) {
		if (*b == ' ' || *b == '@' || *b == '?' || (b[0] == ',' && (b[1] == ',' || b[1] == '\0')) ||
		    (b == u->brokers && *b == ',')) {
			snprintf(err, errlen, "bad broker list '%s' (host:port,host:port)",
				 u->brokers);
			return SW_EINVAL;
		}
	}
	if (slash != NULL && slash[1] != '\0') {
		if (strlen(slash + 1) >= sizeof(u->prefix) || !topic_chars_ok(slash + 1)) {
			snprintf(err, errlen, "topic prefix must be at most %zu characters "
				 "of a-z A-Z 0-9 . _ -", sizeof(u->prefix) - 1);
			return SW_EINVAL;
		}
		memcpy(u->prefix, slash + 1, strlen(slash + 1) + 1);
	}
	return 0;
}

int out_secret(const char *file, const char *key, const char *env, char *buf, size_t len,
	       char *err, size_t errlen)
{
	char why[400];
	const char *v;

	if (file[0] != '\0') {
		if (fs_read_secret(file, buf, len, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", key, why);
			return SW_EINVAL;
		}
		return 1;
	}
	v = getenv(env);
	if (v == NULL || v[0] == '\0')
		return 0;
	if (strlen(v) >= len) {
		snprintf(err, errlen, "$%s: longer than %zu bytes", env, len - 1);
		return SW_EINVAL;
	}
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

void out_url_mask(const char *spec, char *buf, size_t len)
{
	const char *scheme = strstr(spec, "://");
	const char *at = strrchr(spec, '@'), *colon;

	if (len == 0)
		return;
	if (scheme == NULL || at == NULL || at < scheme + 3) {
		snprintf(buf, len, "%s", spec);
		return;
	}
	/* The last '@', not the first: a password with an unescaped '@' in it
	 * is hidden whole. */
	colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
	if (colon != NULL)
		snprintf(buf, len, "%.*s:***%s", (int)(colon - spec), spec, at);
	else
		snprintf(buf, len, "%.*s***%s", (int)(scheme + 3 - spec), spec, at);
}

void out_safe_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; *in && o + 1 < outlen; in++) {
		char c = *in;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		out[o++] = ok ? c : '_';
	}
	out[o] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		out[0] = '_';
}

/* Spool and stop settings every sink carries. */
static void sink_common(struct out_sink *s, const struct sw_config *cfg, int spool,
			const char *id)
{
	s->stop_deadline_ms = cfg->output_stop_deadline_ms;
	s->follow_symlinks = cfg->output_follow_symlinks;
	if (!spool)
		return;
	snprintf(s->spool_dir, sizeof(s->spool_dir), "%s", cfg->spool_dir);
	s->spool_max = cfg->spool_max_size;
	s->spool_segment = cfg->spool_segment_size;
	out_safe_name(id, s->spool_id, sizeof(s->spool_id));
}

struct out_sink *out_sink_open(const char *spec, const struct sw_config *cfg,
			       char *err, size_t errlen)
{
	struct out_sink *s;
	char why[300] = "", id[600];

	if (strncmp(spec, "redis://", 8) == 0 || strncmp(spec, "unix://", 7) == 0) {
		struct redis_url u;
		struct redis_opts ro;
		if (redis_url_parse(spec, &u, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "Redis URL: %s", why);
			return NULL;
		}
		/* The URL's password first, then the password file, then the
		 * environment: the most specific place wins. */
		if (u.password[0] == '\0' &&
		    out_secret(cfg->redis_password_file, "output.redis.password_file",
			       "STUBWATCH_REDIS_PASSWORD", u.password, sizeof(u.password), err,
			       errlen) < 0)
			return NULL;
		memset(&ro, 0, sizeof(ro));
		size_t plen = strlen(cfg->redis_prefix);
		if (plen >= sizeof(ro.prefix)) {
			snprintf(err, errlen, "output.redis.prefix is longer than %zu characters",
				 sizeof(ro.prefix) - 1);
			return NULL;
		}
		memcpy(ro.prefix, cfg->redis_prefix, plen + 1);
		ro.maxlen = cfg->redis_maxlen;
		ro.publish = cfg->redis_publish;
		ro.timeout_ms = cfg->redis_timeout_ms;
		s = out_redis_sink(&u, &ro, err, errlen);
		if (s == NULL)
			return NULL;
		if (u.path[0] != '\0')
			snprintf(id, sizeof(id), "redis-unix%s-%d", u.path, u.db);
		else
			snprintf(id, sizeof(id), "redis-%s-%d-%d", u.host, u.port, u.db);
		sink_common(s, cfg, 1, id);
		return s;
	}
	if (strncmp(spec, "kafka://", 8) == 0) {
		struct kafka_url u;
		if (kafka_url_parse(spec, &u, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "Kafka URL: %s", why);
			return NULL;
		}
		if (u.prefix[0] == '\0') {
			if (strlen(cfg->kafka_prefix) >= sizeof(u.prefix) ||
			    !topic_chars_ok(cfg->kafka_prefix) || cfg->kafka_prefix[0] == '\0') {
				snprintf(err, errlen, "output.kafka.prefix: at most %zu "
					 "characters of a-z A-Z 0-9 . _ -", sizeof(u.prefix) - 1);
				return NULL;
			}
			memcpy(u.prefix, cfg->kafka_prefix, strlen(cfg->kafka_prefix) + 1);
		}
		s = out_kafka_sink(&u, cfg, err, errlen);
		if (s == NULL)
			return NULL;
		snprintf(id, sizeof(id), "kafka-%s-%s", u.brokers, u.prefix);
		sink_common(s, cfg, 1, id);
		return s;
	}
	const char *path = strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec;
	if (path[0] == '\0') {
		snprintf(err, errlen, "empty file name");
		return NULL;
	}
	s = out_file_sink_follow(path, cfg->output_follow_symlinks, err, errlen);
	if (s != NULL)
		sink_common(s, cfg, 0, "");
	return s;
}
