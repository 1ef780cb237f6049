/* jw.c — streaming JSON writer (RFC 8259 §7 string escapes). */
#include "output/jw.h"

#include "common/fmt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w, size_t hint)
{
	w->cap = hint < 64 ? 64 : hint;
	w->buf = malloc(w->cap);
	w->len = 0;
	w->err = w->buf == NULL;
	w->depth = 0;
	w->first[0] = 1;
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = 1;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/* Makes room for n more bytes (and a NUL). */
static int reserve(struct jw *w, size_t n)
{
	if (w->err)
		return 0;
	if (w->len + n + 1 <= w->cap)
		return 1;
	size_t cap = w->cap * 2;
	while (cap < w->len + n + 1)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (b == NULL) {
		w->err = 1;
		return 0;
	}
	w->buf = b;
	w->cap = cap;
	return 1;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc1(struct jw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* The separator and the key of the next member. */
static void member(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		putc1(w, ',');
	w->first[w->depth] = 0;
	if (key != NULL) {
		size_t n = strlen(key);
		if (!reserve(w, n + 3))
			return;
		w->buf[w->len++] = '"';
		memcpy(w->buf + w->len, key, n);
		w->len += n;
		w->buf[w->len++] = '"';
		w->buf[w->len++] = ':';
	}
}

static void open_container(struct jw *w, const char *key, char c)
{
	member(w, key);
	putc1(w, c);
	if (w->depth + 1 >= JW_DEPTH) {
		/* A programming error: events are far shallower. Stop cleanly. */
		w->err = 1;
		return;
	}
	w->first[++w->depth] = 1;
	w->closer[w->depth] = c == '{' ? '}' : ']';
}

void jw_obj(struct jw *w, const char *key)
{
	open_container(w, key, '{');
}

void jw_arr(struct jw *w, const char *key)
{
	open_container(w, key, '[');
}

void jw_end(struct jw *w)
{
	if (w->err || w->depth == 0)
		return;
	putc1(w, w->closer[w->depth--]);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void put_escaped(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	/* Room for the worst case at once (every byte as \u00XX), so the loop
	 * below writes without checking: events are a few KiB. */
	if (n > (SIZE_MAX - 2) / 6 || !reserve(w, n * 6 + 2))
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (c >= 0x80) {
			/* Well-formed UTF-8 (vendor names, host names) passes as
			 * it is; any other byte is read as Latin-1 below, so the
			 * output is valid UTF-8 whatever a packet held. */
			size_t u = utf8_len((const unsigned char *)s + i, n - i);
			if (u > 0) {
				memcpy(o, s + i, u);
				o += u;
				i += u - 1;
				continue;
			}
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			break;
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	member(w, key);
	put_escaped(w, s, strlen(s));
}

void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	member(w, key);
	put_escaped(w, s, n);
}

static void put_uint(struct jw *w, uint64_t v)
{
	char t[24];
	int i = (int)sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, t + i, sizeof(t) - (size_t)i);
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	member(w, key);
	put_uint(w, v);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	member(w, key);
	if (v < 0) {
		putc1(w, '-');
		put_uint(w, (uint64_t)0 - (uint64_t)v);
	} else {
		put_uint(w, (uint64_t)v);
	}
}

void jw_bool(struct jw *w, const char *key, int v)
{
	member(w, key);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	put(w, "null", 4);
}

void jw_real4(struct jw *w, const char *key, double v)
{
	member(w, key);
	if (!isfinite(v) || fabs(v) > 9e15) {
		put(w, "null", 4);
		return;
	}
	if (v < 0) {
		putc1(w, '-');
		v = -v;
	}
	uint64_t scaled = (uint64_t)(v * 10000.0 + 0.5);
	put_uint(w, scaled / 10000);
	putc1(w, '.');
	unsigned frac = (unsigned)(scaled % 10000);
	char d[4];
	int n = 4;
	for (int i = 3; i >= 0; i--) {
		d[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (n > 1 && d[n - 1] == '0')
		n--;
	put(w, d, (size_t)n);
}

void jw_ip_text(struct jw *w, const char *key, const uint8_t ip[16])
{
	char t[FMT_IP_LEN];
	fmt_ip(t, ip);
	jw_str(w, key, t);
}

void jw_mac_text(struct jw *w, const char *key, const uint8_t mac[6])
{
	char t[FMT_MAC_LEN];
	fmt_mac(t, mac);
	jw_str(w, key, t);
}

void jw_time_text(struct jw *w, const char *key, uint64_t ts_us)
{
	char t[FMT_TIME_LEN];
	fmt_time(t, ts_us);
	jw_str(w, key, t);
}

void jw_raw(struct jw *w, const char *key, const char *json, size_t n)
{
	member(w, key);
	put(w, json, n);
}

void jw_members(struct jw *w, const char *json, size_t n)
{
	member(w, NULL);
	put(w, json, n);
}

const char *jw_text(struct jw *w, size_t *len)
{
	if (w->err || !reserve(w, 0)) {
		*len = 0;
		return "";
	}
	w->buf[w->len] = '\0';
	*len = w->len;
	return w->buf;
}

char *jw_take(struct jw *w, size_t *len)
{
	if (w->err) {
		jw_free(w);
		return NULL;
	}
	w->buf[w->len] = '\0';
	char *s = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return s;
}
