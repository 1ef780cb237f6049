/* sink_redis.c — the Redis sink (hiredis, blocking context with timeouts).
 *
 * alerts, dns, stats and tls events: XADD <prefix>:<dataset> MAXLEN ~ n *
 * event <json> (streams, so forwarders can read them with consumer groups).
 * device events: HSET <prefix>:device:<mac> event <json> last_seen <ts> (the
 * latest posture) with the fields a dashboard reads one by one beside the
 * JSON (score, failing, manufacturer, hostname: copied from the event, empty
 * when it has none), and ZADD <prefix>:devices <epoch> <mac> (devices by
 * last seen). An alert about a device also counts it in the device's hash
 * (field alerts), through a Lua script that skips an alert it has counted
 * already, so a batch sent again after a reconnect counts nothing twice.
 * Optionally PUBLISH <prefix>:live <json> for every event.
 *
 * A batch is one pipeline: every command appended, then the replies read;
 * an event counts as delivered when all of its replies are in. The socket
 * has send and receive timeouts, so a frozen server costs one timeout, after
 * which the sink reports the rest of the batch undelivered (the queue
 * spools it) and reconnects with a back-off doubling from 100 ms to 30 s;
 * while it waits, write returns at once, so its thread never spins and
 * never blocks capture. Events the server executed before the failure are
 * sent again: delivery is at least once.
 */
#include "output/sink.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

/* Reconnect back-off: quick after a blip, then no more than twice a minute
 * against a server that stays down. */
#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 30000

struct redis_sink {
	struct out_sink base;     /* first: the queue holds &base */
	struct redis_url url;
	struct redis_opts opt;
	redisContext *c;          /* NULL while disconnected */
	uint64_t next_try_ms;     /* no connection attempt before this */
	unsigned backoff_ms;
	int ever_connected;
	int down_logged;          /* "cannot connect" said once per outage */
	int starting;             /* first attempt: the caller reports a failure */
	char why[300];            /* why the last attempt failed */
	char stream[OUT_DS_MAX][160];
	char devices[160];
	char live[160];
	char maxlen[24];
	unsigned char ncmd[OUT_BATCH];  /* commands appended per event */
};

static const char *const redis_ds_names[OUT_DS_MAX] = {
	"alerts", "devices", "dns", "stats", "tls"
};

static void redis_tv(const struct redis_sink *r, struct timeval *tv)
{
	tv->tv_sec = (time_t)(r->opt.timeout_ms / 1000);
	tv->tv_usec = (suseconds_t)(r->opt.timeout_ms % 1000) * 1000;
}

static const char *redis_where(const struct redis_sink *r)
{
	return r->base.name;
}

static void redis_drop_conn(struct redis_sink *r, const char *why)
{
	if (r->c != NULL) {
		log_warn("%s: %s; spooling until it is back", redis_where(r), why);
		redisFree(r->c);
		r->c = NULL;
	}
	r->next_try_ms = out_now_ms() + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS
								 : r->backoff_ms * 2;
}

/* Runs one setup command (AUTH, SELECT); 0 or -1 with the reason in why. */
static int redis_setup_cmd(redisContext *c, int argc, const char **argv, char *why,
			   size_t whylen)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);

	if (rep == NULL) {
		snprintf(why, whylen, "%s: %s", argv[0], c->errstr);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "%s refused: %s", argv[0], rep->str);
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* Replies that mean the credentials are wrong (or missing), not that the
 * server is away: WRONGPASS (Redis 6+), "ERR invalid password" (older),
 * NOAUTH (a password is required and none was given). */
static int redis_auth_refused(const char *why)
{
	return strstr(why, "WRONGPASS") != NULL || strstr(why, "NOAUTH") != NULL ||
	       strstr(why, "invalid password") != NULL ||
	       strstr(why, "invalid username-password") != NULL;
}

/* Connects, authenticates and selects the database. On failure the next
 * attempt is scheduled and -1 returned, or REDIS_AUTH_FAILED when the
 * server refused the credentials: that is logged at error level on every
 * attempt, because it will not mend itself. */
#define REDIS_AUTH_FAILED (-2)
static int redis_connect(struct redis_sink *r)
{
	struct timeval tv;
	char why[300], db[16];
	redisContext *c;
	int auth_failed = 0;

	redis_tv(r, &tv);
	if (r->url.path[0] != '\0')
		c = redisConnectUnixWithTimeout(r->url.path, tv);
	else
		c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (c == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	if (c->err) {
		snprintf(why, sizeof(why), "%s", c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(why, sizeof(why), "cannot set socket timeouts");
		goto fail;
	}
	if (r->url.password[0] != '\0') {
		const char *argv[3] = { "AUTH", r->url.user, r->url.password };
		int rc = r->url.user[0] != '\0'
			 ? redis_setup_cmd(c, 3, argv, why, sizeof(why))
			 : redis_setup_cmd(c, 2, (const char *[]){ "AUTH", r->url.password },
					   why, sizeof(why));
		if (rc != 0)
			goto fail;
	}
	/* Without a password a server that wants one answers only now. */
	if (redis_setup_cmd(c, 1, (const char *[]){ "PING" }, why, sizeof(why)) != 0)
		goto fail;
	if (r->url.db > 0) {
		snprintf(db, sizeof(db), "%d", r->url.db);
		if (redis_setup_cmd(c, 2, (const char *[]){ "SELECT", db }, why,
				    sizeof(why)) != 0)
			goto fail;
	}
	r->c = c;
	if (r->ever_connected) {
		r->base.reconnects++;
		log_info("%s: connected again", redis_where(r));
	}
	r->ever_connected = 1;
	r->down_logged = 0;
	r->backoff_ms = REDIS_BACKOFF_MIN_MS;
	return 0;
fail:
	if (c != NULL)
		redisFree(c);
	r->base.errors++;
	auth_failed = redis_auth_refused(why);
	snprintf(r->why, sizeof(r->why), "%s", why);
	if (auth_failed && r->starting) {
		/* out_redis_sink says it, as a start-up error */
	} else if (auth_failed) {
		log_err("%s: authentication failed: %s; events are spooled until the "
			"password (output.redis.password_file, the URL) is fixed",
			redis_where(r), why);
		r->down_logged = 1;
	} else if (!r->down_logged) {
		log_warn("%s: cannot connect: %s; events are spooled and the sink "
			 "keeps trying", redis_where(r), why);
		r->down_logged = 1;
	}
	r->next_try_ms = out_now_ms() + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS
								 : r->backoff_ms * 2;
	return auth_failed ? REDIS_AUTH_FAILED : -1;
}

/* Finds "@timestamp":"YYYY-MM-DDTHH:MM:SS[.ffffff]Z" in json; copies the
 * text into ts and writes seconds since the epoch (with the fraction) as
 * text into score. Returns 0, or -1 when there is none (then the score is
 * 0 and ts empty). */
static int redis_ts(const char *json, size_t len, char *ts, size_t tslen,
		    char *score, size_t scorelen)
{
	static const char pat[] = "\"@timestamp\":\"";
	const char *p = memmem(json, len, pat, sizeof(pat) - 1), *q;
	struct tm tm;
	unsigned frac = 0, digits = 0;

	snprintf(score, scorelen, "0");
	ts[0] = '\0';
	if (p == NULL)
		return -1;
	p += sizeof(pat) - 1;
	q = memchr(p, '"', len - (size_t)(p - json));
	if (q == NULL || (size_t)(q - p) >= tslen || q - p < 20)
		return -1;
	memcpy(ts, p, (size_t)(q - p));
	ts[q - p] = '\0';
	memset(&tm, 0, sizeof(tm));
	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	if (ts[19] == '.')
		for (const char *f = ts + 20; *f >= '0' && *f <= '9' && digits < 6; f++, digits++)
			frac = frac * 10 + (unsigned)(*f - '0');
	for (; digits < 6; digits++)
		frac *= 10;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	snprintf(score, scorelen, "%lld.%06u", (long long)timegm(&tm), frac);
	return 0;
}

/* Per-field values are read out of the event's JSON text by walking it,
 * not by building a jansson tree: a tree of every device event and alert
 * cost the Redis sink a sixth more CPU on the bench capture, for four
 * fields. jansson still decodes a string that holds escapes. */

static const char *redis_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the JSON value at p, or NULL when it is cut short. */
static const char *redis_skip(const char *p, const char *end)
{
	int depth = 0;

	p = redis_ws(p, end);
	if (p == end)
		return NULL;
	if (*p != '"' && *p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ')
			p++;
		return p;
	}
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && end - p > 1)
					p++;
			if (p == end)
				return NULL;
			if (depth == 0)
				return p + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* The value at a dotted path of the object at p (its text from *v to
 * *vend), 0; or -1 when there is none. Member names are compared as
 * written: the sensor's names hold no escapes. */
static int redis_find(const char *p, const char *end, const char *path, const char **v,
		      const char **vend)
{
	while (*path != '\0') {
		size_t n = strcspn(path, ".");
		p = redis_ws(p, end);
		if (p == end || *p != '{')
			return -1;
		p++;
		for (;;) {
			p = redis_ws(p, end);
			if (p == end || *p != '"')
				return -1;
			const char *k = p + 1, *ke = redis_skip(p, end);
			if (ke == NULL)
				return -1;
			p = redis_ws(ke, end);
			if (p == end || *p != ':')
				return -1;
			const char *val = redis_ws(p + 1, end), *ve = redis_skip(val, end);
			if (ve == NULL)
				return -1;
			if ((size_t)(ke - 1 - k) == n && memcmp(k, path, n) == 0) {
				*v = val;
				*vend = ve;
				p = val;
				break;
			}
			p = redis_ws(ve, end);
			if (p == end || *p != ',')
				return -1;
			p++;
		}
		path += n + (path[n] == '.');
	}
	return 0;
}

/* Copies the JSON string v..vend, decoded, into out ("" when it is no
 * string or does not fit). */
static void redis_str(const char *v, const char *vend, char *out, size_t outlen)
{
	size_t n = (size_t)(vend - v);

	out[0] = '\0';
	if (n < 2 || v[0] != '"')
		return;
	if (memchr(v, '\\', n) == NULL) {
		if (n - 2 < outlen) {
			memcpy(out, v + 1, n - 2);
			out[n - 2] = '\0';
		}
		return;
	}
	json_t *j = json_loadb(v, n, JSON_DECODE_ANY, NULL);
	const char *t = json_string_value(j);
	if (t != NULL && strlen(t) < outlen)
		memcpy(out, t, strlen(t) + 1);
	json_decref(j);
}

/* The string at a dotted path of an event, decoded, or "". */
static void redis_text(const struct out_event *ev, const char *path, char *out, size_t outlen)
{
	const char *v, *ve;

	out[0] = '\0';
	if (redis_find(ev->json, ev->json + ev->len, path, &v, &ve) == 0)
		redis_str(v, ve, out, outlen);
}

/* The per-field values of a device event; each "" when the event has none. */
struct redis_dev_fields {
	char score[24];          /* stubwatch.scorecard.score as written */
	char failing[256];       /* stubwatch.scorecard.failing[], comma-separated */
	char manufacturer[256];  /* device.manufacturer */
	char hostname[256];      /* host.hostname (from DHCP) */
};

static void redis_dev_fields(const struct out_event *ev, struct redis_dev_fields *f)
{
	const char *sc, *sce, *v, *ve;
	size_t len = 0;

	memset(f, 0, sizeof(*f));
	redis_text(ev, "device.manufacturer", f->manufacturer, sizeof(f->manufacturer));
	redis_text(ev, "host.hostname", f->hostname, sizeof(f->hostname));
	/* the scorecard once, then its two members within it */
	if (redis_find(ev->json, ev->json + ev->len, "stubwatch.scorecard", &sc, &sce) != 0)
		return;
	if (redis_find(sc, sce, "score", &v, &ve) == 0 &&
	    (size_t)(ve - v) < sizeof(f->score) && (*v == '-' || (*v >= '0' && *v <= '9'))) {
		memcpy(f->score, v, (size_t)(ve - v));
		f->score[ve - v] = '\0';
	}
	if (redis_find(sc, sce, "failing", &v, &ve) != 0 || *v != '[')
		return;
	for (const char *p = redis_ws(v + 1, ve); p < ve && *p == '"';) {
		char k[64];
		const char *e = redis_skip(p, ve);
		if (e == NULL)
			break;
		redis_str(p, e, k, sizeof(k));
		size_t kl = strlen(k);
		if (kl > 0 && len + kl + 2 <= sizeof(f->failing)) {
			if (len > 0)
				f->failing[len++] = ',';
			memcpy(f->failing + len, k, kl + 1);
			len += kl;
		}
		p = redis_ws(e, ve);
		if (p < ve && *p == ',')
			p = redis_ws(p + 1, ve);
	}
}

/* Counts one alert in its device's hash, at most once per alert: alerts of
 * a device reach the sink in packet-time order, and what a reconnect sends
 * again is a repeat of the latest ones, so an alert is new when its time is
 * later than the last one counted (alerts_last), or equal and its SHA-1 is
 * not among those counted at that time (alerts_last_ids). An alert older
 * than the last one counted (also one of an older capture replayed into the
 * same database) is not counted. KEYS[1] the hash, ARGV[1] @timestamp (fixed
 * width, so text order is time order), ARGV[2] the event. */
static const char redis_alert_lua[] =
	"local k = KEYS[1]\n"
	"local id = redis.sha1hex(ARGV[2])\n"
	"local last = redis.call('HGET', k, 'alerts_last')\n"
	"if last and ARGV[1] < last then return 0 end\n"
	"if last == ARGV[1] then\n"
	"  local ids = redis.call('HGET', k, 'alerts_last_ids') or ''\n"
	"  if string.find(ids, id, 1, true) then return 0 end\n"
	"  redis.call('HSET', k, 'alerts_last_ids', ids .. ' ' .. id)\n"
	"else\n"
	"  redis.call('HSET', k, 'alerts_last', ARGV[1], 'alerts_last_ids', id)\n"
	"end\n"
	"return redis.call('HINCRBY', k, 'alerts', 1)\n";

/* Appends the alert count of an alert about a device; returns 1, or 0 for
 * an alert about no device (a network-wide one). */
static unsigned redis_append_alert(struct redis_sink *r, const struct out_event *ev)
{
	char key[256], ts[48], score[40], dev[64];
	unsigned n = 0;

	redis_text(ev, "stubwatch.device.key", dev, sizeof(dev));
	if (dev[0] != '\0' && redis_ts(ev->json, ev->len, ts, sizeof(ts), score,
				       sizeof(score)) == 0) {
		snprintf(key, sizeof(key), "%s:device:%s", r->opt.prefix, dev);
		const char *v[6] = { "EVAL", redis_alert_lua, "1", key, ts, ev->json };
		size_t l[6] = { 4, sizeof(redis_alert_lua) - 1, 1, strlen(key), strlen(ts),
				ev->len };
		redisAppendCommandArgv(r->c, 6, v, l);
		n = 1;
	}
	return n;
}

/* Appends the commands of one event; returns how many. */
static unsigned redis_append(struct redis_sink *r, const struct out_event *ev)
{
	unsigned n = 0;

	if (ev->dataset == OUT_DS_DEVICE) {
		char key[256], ts[48], score[40];
		const char *mac = ev->key[0] ? ev->key : "unknown";
		snprintf(key, sizeof(key), "%s:device:%s", r->opt.prefix, mac);
		redis_ts(ev->json, ev->len, ts, sizeof(ts), score, sizeof(score));
		struct redis_dev_fields f;
		redis_dev_fields(ev, &f);
		const char *hv[14] = { "HSET", key, "event", ev->json, "last_seen", ts,
				       "score", f.score, "failing", f.failing,
				       "manufacturer", f.manufacturer, "hostname", f.hostname };
		size_t hl[14];
		for (int i = 0; i < 14; i++)
			hl[i] = i == 3 ? ev->len : strlen(hv[i]);
		redisAppendCommandArgv(r->c, 14, hv, hl);
		const char *zv[4] = { "ZADD", r->devices, score, mac };
		size_t zl[4] = { 4, strlen(r->devices), strlen(score), strlen(mac) };
		redisAppendCommandArgv(r->c, 4, zv, zl);
		n = 2;
	} else {
		const char *st = r->stream[ev->dataset];
		if (r->opt.maxlen > 0) {
			const char *xv[7] = { "XADD", st, "MAXLEN", "~", r->maxlen, "*", "event" };
			const char *v[8] = { xv[0], xv[1], xv[2], xv[3], xv[4], xv[5], xv[6], ev->json };
			size_t l[8] = { 4, strlen(st), 6, 1, strlen(r->maxlen), 1, 5, ev->len };
			redisAppendCommandArgv(r->c, 8, v, l);
		} else {
			const char *v[5] = { "XADD", st, "*", "event", ev->json };
			size_t l[5] = { 4, strlen(st), 1, 5, ev->len };
			redisAppendCommandArgv(r->c, 5, v, l);
		}
		n = 1;
		if (ev->dataset == OUT_DS_ALERT)
			n += redis_append_alert(r, ev);
	}
	if (r->opt.publish) {
		const char *pv[3] = { "PUBLISH", r->live, ev->json };
		size_t pl[3] = { 7, strlen(r->live), ev->len };
		redisAppendCommandArgv(r->c, 3, pv, pl);
		n++;
	}
	return n;
}

/* Error replies that say "not now" rather than "never": the batch is
 * retried after a reconnect instead of being dropped. */
static int redis_transient(const char *msg)
{
	static const char *const t[] = {
		"NOAUTH", "LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN",
		"CLUSTERDOWN", "OOM", "NOPERM", NULL
	};
	for (int i = 0; t[i] != NULL; i++)
		if (strncmp(msg, t[i], strlen(t[i])) == 0)
			return 1;
	return 0;
}

static size_t redis_write(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct redis_sink *r = (struct redis_sink *)s;
	size_t done = 0;

	if (r->c == NULL && (out_now_ms() < r->next_try_ms || redis_connect(r) != 0))
		return 0;
	if (n > OUT_BATCH)
		n = OUT_BATCH;
	for (size_t i = 0; i < n; i++)
		r->ncmd[i] = (unsigned char)redis_append(r, &ev[i]);
	for (size_t i = 0; i < n; i++) {
		int failed = 0;
		for (unsigned j = 0; j < r->ncmd[i]; j++) {
			redisReply *rep = NULL;
			if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || rep == NULL) {
				s->errors++;
				redis_drop_conn(r, r->c->errstr[0] ? r->c->errstr
								   : "connection lost");
				return done;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				char msg[160];
				snprintf(msg, sizeof(msg), "server error: %s", rep->str);
				freeReplyObject(rep);
				s->errors++;
				if (redis_transient(msg + 14)) {
					redis_drop_conn(r, msg);
					return done;
				}
				if (!failed)
					log_warn("%s: %s (event dropped)", redis_where(r), msg);
				failed = 1;
				continue;
			}
			freeReplyObject(rep);
		}
		if (failed)
			s->dropped++;
		else
			s->delivered++;
		done++;
	}
	return done;
}

static int redis_flush(struct out_sink *s)
{
	(void)s;
	return 0;   /* every write already waited for its replies */
}

static void redis_close(struct out_sink *s, uint64_t deadline_ms)
{
	struct redis_sink *r = (struct redis_sink *)s;

	(void)deadline_ms;
	if (r->c != NULL)
		redisFree(r->c);
	free(r);
}

static const struct out_sink_ops redis_ops = {
	.kind = "redis",
	.write = redis_write,
	.flush = redis_flush,
	.close = redis_close,
	.counts_delivered = 1,
};

struct out_sink *out_redis_sink(const struct redis_url *u, const struct redis_opts *o,
				char *err, size_t errlen)
{
	struct redis_sink *r;

	if (strlen(o->prefix) > 100 || o->prefix[0] == '\0') {
		snprintf(err, errlen, "output.redis.prefix: 1 to 100 characters");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->url = *u;
	r->opt = *o;
	r->backoff_ms = REDIS_BACKOFF_MIN_MS;
	for (int i = 0; i < OUT_DS_MAX; i++)
		snprintf(r->stream[i], sizeof(r->stream[i]), "%s:%s", o->prefix,
			 redis_ds_names[i]);
	snprintf(r->devices, sizeof(r->devices), "%s:devices", o->prefix);
	snprintf(r->live, sizeof(r->live), "%s:live", o->prefix);
	snprintf(r->maxlen, sizeof(r->maxlen), "%llu", (unsigned long long)o->maxlen);
	r->base.ops = &redis_ops;
	r->base.priv = r;
	if (u->path[0] != '\0')
		snprintf(r->base.name, sizeof(r->base.name), "redis:unix:%.40s/%d",
			 u->path, u->db);
	else
		snprintf(r->base.name, sizeof(r->base.name),
			 strchr(u->host, ':') ? "redis://[%.40s]:%d/%d" : "redis://%.40s:%d/%d",
			 u->host, u->port, u->db);
	/* A first connection now, so a wrong password or an unreachable server
	 * is reported at start. An unreachable server is a warning (it may come
	 * up later: events are spooled); refused credentials stop the start. */
	r->starting = 1;
	if (redis_connect(r) == REDIS_AUTH_FAILED) {
		snprintf(err, errlen, "authentication failed: %s (check the password: "
			 "the URL, output.redis.password_file or $STUBWATCH_REDIS_PASSWORD)",
			 r->why);
		free(r);
		return NULL;
	}
	r->starting = 0;
	return &r->base;
}
