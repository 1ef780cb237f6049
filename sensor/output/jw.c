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

/* Grows the buffer for n more bytes (and a NUL); the rare path of
 * reserve(), kept out of line so the common one stays a compare. */
static __attribute__((noinline)) int grow(struct jw *w, size_t n)
{
	if (w->err)
		return 0;
	/* No size an event could reach, but the doubling below must not wrap. */
	if (n > SIZE_MAX / 4 - w->len) {
		w->err = 1;
		return 0;
	}
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

/* Makes room for n more bytes (and a NUL); 0 once the writer has failed,
 * which sticks (grow() says no). */
static inline int reserve(struct jw *w, size_t n)
{
	if (__builtin_expect(w->len + n + 1 <= w->cap && !w->err, 1))
		return 1;
	return grow(w, n);
}

static void putc1(struct jw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* The separator and the key of the next member, with room for `value`
 * more bytes after them: one size check per member. Returns 0 (nothing
 * written) once the writer failed. */
static int member(struct jw *w, const char *key, size_t klen, size_t value)
{
	if (!reserve(w, klen + 4 + value))
		return 0;
	char *o = w->buf + w->len;
	if (!w->first[w->depth])
		*o++ = ',';
	w->first[w->depth] = 0;
	if (key != NULL) {
		*o++ = '"';
		memcpy(o, key, klen);
		o += klen;
		*o++ = '"';
		*o++ = ':';
	}
	w->len = (size_t)(o - w->buf);
	return 1;
}

static void open_container(struct jw *w, const char *key, size_t klen, char c)
{
	if (!member(w, key, klen, 1))
		return;
	w->buf[w->len++] = c;
	if (w->depth + 1 >= JW_DEPTH) {
		/* A programming error: events are far shallower. Stop cleanly. */
		w->err = 1;
		return;
	}
	w->first[++w->depth] = 1;
	w->closer[w->depth] = c == '{' ? '}' : ']';
}

void jw_obj_k(struct jw *w, const char *key, size_t klen)
{
	open_container(w, key, klen, '{');
}

void jw_arr_k(struct jw *w, const char *key, size_t klen)
{
	open_container(w, key, klen, '[');
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

/* Bytes written as they are inside a JSON string: printable ASCII but the
 * quote and the backslash (RFC 8259 §7). */
static const uint8_t plain[256] = {
	['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f, no '"' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x30-0x3f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x40-0x4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,             /* 0x50-0x5f, no '\\' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x60-0x6f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x70-0x7f */
};

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* The end of the run of plain bytes from i: eight at a time while no byte
 * of the word is a control byte (< 0x20), a quote, a backslash or >= 0x80
 * (the "has a zero byte" test of Bit Twiddling Hacks: it can only err
 * towards stopping early, and the byte loop then decides), then by table.
 * Event strings are mostly long plain runs. */
static size_t plain_run(const char *s, size_t i, size_t n)
{
	while (n - i >= 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		uint64_t q = x ^ (ONES * '"');
		uint64_t b = x ^ (ONES * '\\');
		uint64_t stop = x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) |
				((b - ONES) & ~b);
		if (stop & HIGHS)
			break;
		i += 8;
	}
	while (i < n && plain[(unsigned char)s[i]])
		i++;
	return i;
}

/* Room for the worst case (every byte as \u00XX, and the quotes) must have
 * been reserved: the loop writes without checking. Events are a few KiB. */
static void put_escaped(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = w->buf + w->len;
	size_t i = 0;
	*o++ = '"';
	for (;;) {
		size_t j = plain_run(s, i, n);
		memcpy(o, s + i, j - i);
		o += j - i;
		i = j;
		if (i == n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* Well-formed UTF-8 (vendor names, host names) passes as
			 * it is; any other byte is read as Latin-1 below, so the
			 * output is valid UTF-8 whatever a packet held. */
			size_t u = utf8_len((const unsigned char *)s + i, n - i);
			if (u > 0) {
				memcpy(o, s + i, u);
				o += u;
				i += u;
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
		i++;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

/* What a string of n bytes may take once escaped, or 0 when that does not
 * fit a size_t (the writer then fails). */
static size_t escaped_room(size_t n)
{
	return n > (SIZE_MAX - 64) / 6 ? 0 : n * 6 + 2;
}

void jw_strn_k(struct jw *w, const char *key, size_t klen, const char *s, size_t n)
{
	size_t room = escaped_room(n);
	if (room == 0) {
		w->err = 1;
		return;
	}
	if (member(w, key, klen, room))
		put_escaped(w, s, n);
}

void jw_str_k(struct jw *w, const char *key, size_t klen, const char *s)
{
	jw_strn_k(w, key, klen, s, strlen(s));
}

/* Writes v's digits at o (room for 20 must be there); returns the end. */
static char *put_uint(char *o, uint64_t v)
{
	char t[20];
	int i = (int)sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(o, t + i, sizeof(t) - (size_t)i);
	return o + (sizeof(t) - (size_t)i);
}

void jw_uint_k(struct jw *w, const char *key, size_t klen, uint64_t v)
{
	if (member(w, key, klen, 20))
		w->len = (size_t)(put_uint(w->buf + w->len, v) - w->buf);
}

void jw_int_k(struct jw *w, const char *key, size_t klen, int64_t v)
{
	if (!member(w, key, klen, 21))
		return;
	char *o = w->buf + w->len;
	if (v < 0) {
		*o++ = '-';
		o = put_uint(o, (uint64_t)0 - (uint64_t)v);
	} else {
		o = put_uint(o, (uint64_t)v);
	}
	w->len = (size_t)(o - w->buf);
}

void jw_bool_k(struct jw *w, const char *key, size_t klen, int v)
{
	if (!member(w, key, klen, 5))
		return;
	memcpy(w->buf + w->len, v ? "true" : "false", v ? 4 : 5);
	w->len += v ? 4 : 5;
}

void jw_null_k(struct jw *w, const char *key, size_t klen)
{
	if (!member(w, key, klen, 4))
		return;
	memcpy(w->buf + w->len, "null", 4);
	w->len += 4;
}

void jw_real4_k(struct jw *w, const char *key, size_t klen, double v)
{
	/* Sign, 16 integer digits (|v| <= 9e15), point, four decimals. */
	if (!member(w, key, klen, 24))
		return;
	char *o = w->buf + w->len;
	if (!isfinite(v) || fabs(v) > 9e15) {
		memcpy(o, "null", 4);
		w->len += 4;
		return;
	}
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	uint64_t scaled = (uint64_t)(v * 10000.0 + 0.5);
	o = put_uint(o, scaled / 10000);
	*o++ = '.';
	unsigned frac = (unsigned)(scaled % 10000);
	char d[4];
	int n = 4;
	for (int i = 3; i >= 0; i--) {
		d[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (n > 1 && d[n - 1] == '0')
		n--;
	memcpy(o, d, (size_t)n);
	w->len = (size_t)(o + n - w->buf);
}

void jw_ip_text_k(struct jw *w, const char *key, size_t klen, const uint8_t ip[16])
{
	char t[FMT_IP_LEN];
	fmt_ip(t, ip);
	jw_str_k(w, key, klen, t);
}

void jw_mac_text_k(struct jw *w, const char *key, size_t klen, const uint8_t mac[6])
{
	char t[FMT_MAC_LEN];
	fmt_mac(t, mac);
	jw_strn_k(w, key, klen, t, FMT_MAC_LEN - 1);
}

void jw_mac_ecs_k(struct jw *w, const char *key, size_t klen, const uint8_t mac[6])
{
	static const char hex[] = "0123456789ABCDEF";
	char t[FMT_MAC_LEN];
	for (int i = 0; i < 6; i++) {
		t[3 * i] = hex[mac[i] >> 4];
		t[3 * i + 1] = hex[mac[i] & 15];
		t[3 * i + 2] = '-';
	}
	jw_strn_k(w, key, klen, t, FMT_MAC_LEN - 1);
}

void jw_time_text_k(struct jw *w, const char *key, size_t klen, uint64_t ts_us)
{
	char t[FMT_TIME_LEN];
	fmt_time(t, ts_us);
	jw_str_k(w, key, klen, t);
}

void jw_raw_k(struct jw *w, const char *key, size_t klen, const char *json, size_t n)
{
	if (n > SIZE_MAX / 2) {
		w->err = 1;
		return;
	}
	if (!member(w, key, klen, n))
		return;
	memcpy(w->buf + w->len, json, n);
	w->len += n;
}

void jw_members(struct jw *w, const char *json, size_t n)
{
	jw_raw_k(w, NULL, 0, json, n);
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
