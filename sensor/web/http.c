/* http.c — the HTTP endpoint over libmicrohttpd (see http.h).
 *
 * One internal polling thread (epoll where libmicrohttpd has it) answers
 * every connection; each answer is text the view copies out under its
 * mutex, so a request holds the lock for a memory copy at most and capture,
 * which never takes the lock, is never held by a client. Authentication:
 * with http.auth_file, every path needs either HTTP basic credentials equal
 * to the file's "user:password" line or "Authorization: Bearer <line>".
 */
#include "web/http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/log.h"
#include "web/guide.h"

/* Dashboard files: a handful of HTML, CSS, JS and images. 64 files of at
 * most 4 MiB bound what a wrong web_dir can make the sensor read. */
#define WEB_FILES 64
#define WEB_FILE_MAX (4u << 20)
/* A page of the API: 1000 device events is ~5 MB. */
#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX 1000
/* A client silent this long is cut: slowloris costs a slot for 10 s. */
#define HTTP_IDLE_S 10
/* Each connection's memory pool; the request line and headers must fit. */
#define HTTP_POOL (32u * 1024)

struct web_file {
	char path[80];           /* "/index.html" */
	const char *type;
	char *data;
	size_t len;
};

struct web_http {
	struct MHD_Daemon *d;
	struct web_view *v;
	char cred[256];          /* the auth file's line; "" = open */
	struct web_file files[WEB_FILES];
	unsigned nfiles;
	unsigned port;
};

int web_http_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[128] = "127.0.0.1";
	const char *port = s;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		port = end + 2;
	} else if (strchr(s, ':') != NULL) {
		const char *colon = strrchr(s, ':');
		if ((size_t)(colon - s) >= sizeof(host) || strchr(s, ':') != colon)
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *end;
	errno = 0;
	long p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
		goto bad;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		return 0;
	}
bad:
	snprintf(err, errlen, "http.listen '%s': expected ADDR:PORT, [IPV6]:PORT or PORT "
		 "(numeric address; * for every address)", s);
	return SW_EINVAL;
}

static const char *type_of(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".png", "image/png" },
		{ ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" },
		{ ".json", "application/json" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* Reads every file of the dashboard folder we have a type for. */
static int load_files(struct web_http *h, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "http.web_dir '%s': %s", dir, strerror(errno));
		return SW_EIO;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL && rc == 0) {
		const char *type = type_of(de->d_name);
		if (type == NULL || de->d_name[0] == '.' || strlen(de->d_name) > 70)
			continue;
		if (h->nfiles == WEB_FILES) {
			snprintf(err, errlen, "http.web_dir '%s': more than %d files", dir, WEB_FILES);
			rc = SW_EFULL;
			break;
		}
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		struct stat st;
		if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_size > (off_t)WEB_FILE_MAX) {
			snprintf(err, errlen, "%s: %s", path, f == NULL ? strerror(errno) :
				 "not a regular file of at most 4 MiB");
			rc = SW_EIO;
		} else {
			struct web_file *w = &h->files[h->nfiles];
			w->data = malloc((size_t)st.st_size + 1);
			w->len = (size_t)st.st_size;
			if (w->data == NULL || fread(w->data, 1, w->len, f) != w->len) {
				snprintf(err, errlen, "%s: cannot read", path);
				free(w->data);
				rc = SW_EIO;
			} else {
				size_t n = strlen(de->d_name); /* <= 70, checked above */
				w->path[0] = '/';
				memcpy(w->path + 1, de->d_name, n + 1);
				w->type = type;
				h->nfiles++;
			}
		}
		if (f != NULL)
			fclose(f);
	}
	closedir(d);
	return rc;
}

static int read_cred(struct web_http *h, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "http.auth_file '%s': %s", path, strerror(errno));
		return SW_EIO;
	}
	if (fgets(h->cred, sizeof(h->cred), f) == NULL)
		h->cred[0] = '\0';
	fclose(f);
	h->cred[strcspn(h->cred, "\r\n")] = '\0';
	if (strlen(h->cred) < 8) {
		snprintf(err, errlen, "http.auth_file '%s': the first line must be user:password "
			 "or a token of at least 8 characters", path);
		return SW_EINVAL;
	}
	return 0;
}

/* Equal strings, in time that depends on their lengths only. */
static int same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static int authorised(struct web_http *h, struct MHD_Connection *c)
{
	if (h->cred[0] == '\0')
		return 1;
	const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (hdr != NULL && strncmp(hdr, "Bearer ", 7) == 0)
		return same(hdr + 7, h->cred);
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	int ok = 0;
	if (user != NULL && pass != NULL) {
		char both[600];
		snprintf(both, sizeof(both), "%s:%s", user, pass);
		ok = same(both, h->cred);
	}
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* The dashboard loads nothing from elsewhere; the browser holds it to
	 * that. */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char *body;
	if (asprintf(&body, "{\"error\":\"%s\"}\n", msg) < 0)
		return MHD_NO;
	return send_buf(c, status, "application/json", body, strlen(body), MHD_RESPMEM_MUST_FREE);
}

/* body and *len come from one view_*_json call (len is read after it). */
static enum MHD_Result send_json(struct MHD_Connection *c, char *body, const size_t *len,
				 const char *missing)
{
	if (body == NULL)
		return send_error(c, missing != NULL ? MHD_HTTP_NOT_FOUND :
				  MHD_HTTP_INTERNAL_SERVER_ERROR,
				  missing != NULL ? missing : "out of memory");
	return send_buf(c, MHD_HTTP_OK, "application/json", body, *len, MHD_RESPMEM_MUST_FREE);
}

/* A query argument as a page bound; -1 when it is not a number. */
static long arg_num(struct MHD_Connection *c, const char *name, long def, long max)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	if (s == NULL || *s == '\0')
		return def;
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0)
		return -1;
	return n > max ? max : n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **req)
{
	struct web_http *h = cls;
	(void)version;
	(void)upload;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only");
	/* A GET with a body: libmicrohttpd calls again per chunk; ignore it. */
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	(void)req;
	if (!authorised(h, c)) {
		char *body = strdup("{\"error\":\"authentication required\"}\n");
		if (body == NULL)
			return MHD_NO;
		struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
									 MHD_RESPMEM_MUST_FREE);
		if (r == NULL)
			return MHD_NO;
		enum MHD_Result rc = MHD_queue_basic_auth_fail_response(c, "stubwatch", r);
		MHD_destroy_response(r);
		return rc;
	}
	size_t len = 0;
	if (strcmp(url, "/metrics") == 0) {
		char *body = view_metrics(h->v, &len);
		if (body == NULL)
			return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return send_buf(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
				body, len, MHD_RESPMEM_MUST_FREE);
	}
	if (strncmp(url, "/api/v1/", 8) == 0) {
		const char *what = url + 8;
		long off = arg_num(c, "offset", 0, 1L << 30);
		long lim = arg_num(c, "limit", API_LIMIT_DEFAULT, API_LIMIT_MAX);
		if (off < 0 || lim < 0)
			return send_error(c, MHD_HTTP_BAD_REQUEST,
					  "offset and limit are non-negative integers");
		if (strcmp(what, "devices") == 0)
			return send_json(c, view_devices_json(h->v, (size_t)off, (size_t)lim, &len),
					 &len, NULL);
		if (strncmp(what, "devices/", 8) == 0 && what[8] != '\0' && strlen(what) < 48)
			return send_json(c, view_device_json(h->v, what + 8, &len), &len, "no such device");
		if (strcmp(what, "alerts") == 0) {
			const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
									"since");
			const char *dev = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
								      "device");
			return send_json(c, view_alerts_json(h->v, since, dev, (size_t)off,
							     (size_t)lim, &len), &len, NULL);
		}
		if (strcmp(what, "network") == 0)
			return send_json(c, view_network_json(h->v, &len), &len, NULL);
		if (strcmp(what, "guidelines") == 0) {
			json_t *g = guide_json();
			char *body = json_dumps(g, JSON_COMPACT);
			json_decref(g);
			len = body != NULL ? strlen(body) : 0;
			return send_json(c, body, &len, NULL);
		}
		if (strcmp(what, "stats") == 0)
			return send_json(c, view_stats_json(h->v, &len), &len, "no stats event yet");
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such API path");
	}
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
	for (unsigned i = 0; i < h->nfiles; i++)
		if (strcmp(h->files[i].path, path) == 0)
			return send_buf(c, MHD_HTTP_OK, h->files[i].type, h->files[i].data,
					h->files[i].len, MHD_RESPMEM_PERSISTENT);
	return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* Percent-decoding of the path and query in place, as libmicrohttpd's own,
 * except that %00 stays as written: decoded, a NUL would cut the path short
 * ("/index.html%00.png" would name index.html). Returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	char *w = s;
	for (const char *r = s; *r != '\0'; r++) {
		int hi = r[0] == '%' ? fmt_hexval(r[1]) : -1;
		int lo = hi >= 0 ? fmt_hexval(r[2]) : -1;
		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_info("http: %s", msg);
}

/* Room for every connection's socket: raise the soft descriptor limit
 * towards the hard one (1024 by default would cap max_connections). */
static void raise_nofile(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("http: cannot raise the open-file limit to %u: %s", want, strerror(errno));
}

struct web_http *web_http_start(struct web_view *v, const struct web_http_conf *c,
				char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (web_http_parse_listen(c->listen, &ss, err, errlen) != 0)
		return NULL;
	struct web_http *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	h->v = v;
	if ((c->auth_file[0] != '\0' && read_cred(h, c->auth_file, err, errlen) != 0) ||
	    (c->web_dir[0] != '\0' && load_files(h, c->web_dir, err, errlen) != 0)) {
		web_http_stop(h);
		return NULL;
	}
	raise_nofile(c->max_connections + 256);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
								       : MHD_USE_POLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_log, (void *)NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, (void *)NULL,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
				MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "http.listen '%s': cannot listen (address in use, or not "
			 "this machine's)", c->listen);
		web_http_stop(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : 0;
	return h;
}

unsigned web_http_port(const struct web_http *h)
{
	return h->port;
}

void web_http_stop(struct web_http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	for (unsigned i = 0; i < h->nfiles; i++)
		free(h->files[i].data);
	free(h);
}
