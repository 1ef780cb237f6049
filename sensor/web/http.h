/* http.h — the sensor's own HTTP endpoint (libmicrohttpd, its own thread).
 *
 * Serves, from a web_view only (never engine state, so capture never waits
 * for it):
 *   /metrics               Prometheus text exposition
 *   /api/v1/devices        ?offset=&limit= (at most 1000 a page)
 *   /api/v1/devices/<id>   one device, its alerts by rule, its recent alerts
 *   /api/v1/alerts         ?since=RFC3339&device=<id>&offset=&limit=
 *   /api/v1/network        what each segment offers
 *   /api/v1/stats          the latest stubwatch.stats event
 *   /api/v1/guidelines     the scorecard lines in words (web/guide.h)
 *   /                      the web dashboard: the files of its folder, read
 *                          once at start (no path ever reaches the disk)
 * GET and HEAD only. Slow clients are cut after 10 s of silence, a request
 * larger than a connection's 32 KiB pool is refused by libmicrohttpd (414,
 * 431), and connections past max_connections are refused.
 */
#ifndef SW_WEB_HTTP_H
#define SW_WEB_HTTP_H

#include <stddef.h>

#include "web/view.h"

struct web_http_conf {
	const char *listen;      /* ADDR:PORT, [V6]:PORT, or PORT (127.0.0.1) */
	const char *auth_file;   /* "" = no authentication */
	const char *web_dir;     /* "" = no dashboard (404 on /) */
	unsigned max_connections;
};

struct web_http;

/* Parses "ADDR:PORT", "[V6]:PORT" or "PORT" into ss; 0 or SW_EINVAL with
 * the reason in err. Exposed for the unit tests. */
struct sockaddr_storage;
int web_http_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen);

/* Starts the endpoint's thread. NULL with the reason in err (address in use,
 * bad listen text, unreadable auth file or web folder). */
struct web_http *web_http_start(struct web_view *v, const struct web_http_conf *c,
				char *err, size_t errlen);

/* The port bound (the real one when listen asked for port 0). */
unsigned web_http_port(const struct web_http *h);

/* Stops the thread, closes connections, frees h (NULL: nothing). */
void web_http_stop(struct web_http *h);

#endif
