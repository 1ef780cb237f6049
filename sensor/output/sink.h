/* sink.h — the sinks' constructors and the URL forms out_sink_open reads.
 *
 * Kept apart from out.h so the queue does not see each sink's settings, and
 * so unit tests can reach the URL parsers directly.
 */
#ifndef SW_OUTPUT_SINK_H
#define SW_OUTPUT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "output/out.h"

/* redis://[user:password@]host[:port][/db] or unix:///path[?db=N]. */
struct redis_url {
	char host[256];      /* host name or address; [v6] without brackets */
	int port;            /* 6379 by default */
	char path[256];      /* unix socket path; empty for TCP */
	char user[128];      /* empty: AUTH with the password alone */
	char password[256];  /* empty: no AUTH */
	int db;              /* SELECT db when > 0 */
};

/* Parses a Redis URL (percent-escapes in user and password are decoded).
 * Returns 0, or SW_EINVAL with the reason in err. */
int redis_url_parse(const char *url, struct redis_url *u, char *err, size_t errlen);

/* kafka://broker[,broker...]/prefix (prefix optional: cfg's then). */
struct kafka_url {
	char brokers[256];
	char prefix[128];
};
int kafka_url_parse(const char *url, struct kafka_url *u, char *err, size_t errlen);

/* Sink settings out_sink_open takes from the configuration. */
struct redis_opts {
	char prefix[128];
	uint64_t maxlen;        /* 0 = no trimming */
	int publish;
	uint64_t timeout_ms;
};

/* Opens the sinks. A server that cannot be reached now is a warning: the
 * sink connects later. NULL and a message in err for bad settings, and for
 * a Redis server that refuses the credentials (a wrong password does not
 * get better by waiting). */
struct out_sink *out_redis_sink(const struct redis_url *u, const struct redis_opts *o,
				char *err, size_t errlen);
struct out_sink *out_kafka_sink(const struct kafka_url *u, const struct sw_config *cfg,
				char *err, size_t errlen);

/* A sink's secret: the first line of `file` when it is set (key names it in
 * messages), else the environment variable `env` when set and not empty.
 * Returns 1 with the secret in buf, 0 when there is none, or a negative
 * code with "KEY: PATH: reason" in err. */
int out_secret(const char *file, const char *key, const char *env, char *buf, size_t len,
	       char *err, size_t errlen);

/* Copies a sink's -o text or URL into buf for a message, with what stands
 * before the last '@' after the scheme's "://" (the user information) hidden:
 * "redis://user:***@host", and only "***" before the '@' when there is
 * no ':' (a password written without its colon). Anything else, a file path
 * included, is copied as it is. Malformed URLs are masked alike, so an
 * error about a URL never shows its password. */
void out_url_mask(const char *spec, char *buf, size_t len);

/* Turns any text into a folder name ([A-Za-z0-9._-], others '_'), for
 * spool_id. */
void out_safe_name(const char *in, char *out, size_t outlen);

#endif
