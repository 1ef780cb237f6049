/* jw.h — a streaming JSON writer for the high-volume events (RFC 8259).
 *
 * Device and DNS events are written straight into one growing buffer, keys
 * in the order the code writes them. jansson builds a tree of allocated
 * nodes and then dumps it; for a device event that cost about 25 µs, a
 * quarter of the sensor's time on the benchmark capture, where this writer
 * takes about 2 µs. jansson still reads every event back in the tests, and
 * builds the rare events (stats) where a tree is the clearer code.
 *
 * Errors stick: after a failed allocation every call is a no-op and
 * jw_take() returns NULL.
 */
#ifndef SW_OUTPUT_JW_H
#define SW_OUTPUT_JW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_DEPTH 16  /* nesting of the deepest event (device: 5), with room */

struct jw {
	char *buf;
	size_t len;
	size_t cap;
	int err;
	int depth;
	uint8_t first[JW_DEPTH]; /* 1 until the container at that depth has a member */
	char closer[JW_DEPTH];   /* '}' or ']' for the container at that depth */
};

/* Starts an empty document with `hint` bytes reserved. */
void jw_init(struct jw *w, size_t hint);
/* Empties the document, keeping the buffer for reuse. */
void jw_reset(struct jw *w);
/* Frees the buffer (when not taken). */
void jw_free(struct jw *w);

/* Keys are written as given: they must be plain ASCII names without quotes
 * or backslashes (they are literals in the code). `key` is the member name
 * inside an object, NULL inside an array or at the top. Each call below is
 * an inline wrapper that passes the key's length to a _k function, so a
 * literal key's strlen() is done by the compiler. */
static inline size_t jw_klen(const char *key)
{
	return key != NULL ? strlen(key) : 0;
}

void jw_obj_k(struct jw *w, const char *key, size_t klen);
void jw_arr_k(struct jw *w, const char *key, size_t klen);
void jw_str_k(struct jw *w, const char *key, size_t klen, const char *s);
void jw_strn_k(struct jw *w, const char *key, size_t klen, const char *s, size_t n);
void jw_int_k(struct jw *w, const char *key, size_t klen, int64_t v);
void jw_uint_k(struct jw *w, const char *key, size_t klen, uint64_t v);
void jw_bool_k(struct jw *w, const char *key, size_t klen, int v);
void jw_null_k(struct jw *w, const char *key, size_t klen);
void jw_real4_k(struct jw *w, const char *key, size_t klen, double v);
void jw_ip_text_k(struct jw *w, const char *key, size_t klen, const uint8_t ip[16]);
void jw_mac_text_k(struct jw *w, const char *key, size_t klen, const uint8_t mac[6]);
void jw_mac_ecs_k(struct jw *w, const char *key, size_t klen, const uint8_t mac[6]);
void jw_time_text_k(struct jw *w, const char *key, size_t klen, uint64_t ts_us);
void jw_raw_k(struct jw *w, const char *key, size_t klen, const char *json, size_t n);

/* Containers. */
static inline void jw_obj(struct jw *w, const char *key)
{
	jw_obj_k(w, key, jw_klen(key));
}

static inline void jw_arr(struct jw *w, const char *key)
{
	jw_arr_k(w, key, jw_klen(key));
}

void jw_end(struct jw *w); /* closes the innermost object or array */

/* Values. Strings are escaped (quotes, backslash, control characters);
 * well-formed UTF-8 passes unchanged and any other byte >= 0x80 is written
 * as \u00XX (read as Latin-1), so the output is valid UTF-8 whatever the
 * input. */
static inline void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_str_k(w, key, jw_klen(key), s);
}

static inline void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	jw_strn_k(w, key, jw_klen(key), s, n);
}

static inline void jw_int(struct jw *w, const char *key, int64_t v)
{
	jw_int_k(w, key, jw_klen(key), v);
}

static inline void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	jw_uint_k(w, key, jw_klen(key), v);
}

static inline void jw_bool(struct jw *w, const char *key, int v)
{
	jw_bool_k(w, key, jw_klen(key), v);
}

static inline void jw_null(struct jw *w, const char *key)
{
	jw_null_k(w, key, jw_klen(key));
}

/* A number with at most 4 decimals, trailing zeros trimmed ("0.3333",
 * "2.0"); NaN and infinities become null. */
static inline void jw_real4(struct jw *w, const char *key, double v)
{
	jw_real4_k(w, key, jw_klen(key), v);
}

/* An address stored in 16 bytes as text (IPv4-mapped ones as dotted quads). */
static inline void jw_ip_text(struct jw *w, const char *key, const uint8_t ip[16])
{
	jw_ip_text_k(w, key, jw_klen(key), ip);
}

/* A MAC as text ("aa:bb:cc:dd:ee:ff"). */
static inline void jw_mac_text(struct jw *w, const char *key, const uint8_t mac[6])
{
	jw_mac_text_k(w, key, jw_klen(key), mac);
}

/* A MAC in ECS form ("AA-BB-CC-DD-EE-FF": upper case, hyphens), for
 * source.mac, destination.mac and host.mac. */
static inline void jw_mac_ecs(struct jw *w, const char *key, const uint8_t mac[6])
{
	jw_mac_ecs_k(w, key, jw_klen(key), mac);
}

/* A packet time as RFC 3339 UTC text with microseconds. */
static inline void jw_time_text(struct jw *w, const char *key, uint64_t ts_us)
{
	jw_time_text_k(w, key, jw_klen(key), ts_us);
}

/* A value that is already JSON text (written by another jw), copied as is. */
static inline void jw_raw(struct jw *w, const char *key, const char *json, size_t n)
{
	jw_raw_k(w, key, jw_klen(key), json, n);
}

/* Members already written as JSON text ("a":1,"b":{...}) without braces,
 * added to the open object as they are. */
void jw_members(struct jw *w, const char *json, size_t n);

/* The text written so far (NUL-terminated), still owned by the writer. */
const char *jw_text(struct jw *w, size_t *len);

/* Hands the NUL-terminated text over (the caller frees it) and resets the
 * writer; NULL when any allocation failed. */
char *jw_take(struct jw *w, size_t *len);

#endif
