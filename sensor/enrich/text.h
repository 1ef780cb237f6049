/* text.h — enrich-internal: registry and database strings made safe for JSON.
 *
 * Reference: RFC 3629 (UTF-8: no overlongs, no surrogates, nothing past
 * U+10FFFF). Vendor, country, city and AS names end up in JSON strings,
 * which jansson refuses unless they are valid UTF-8.
 */
#ifndef SW_ENRICH_TEXT_H
#define SW_ENRICH_TEXT_H

#include <stddef.h>

/* Copies s[0..n) into out (cap >= 1 bytes, always NUL-terminated): leading
 * and trailing ASCII white space dropped, each control byte or byte that
 * does not start a valid UTF-8 sequence replaced by '?', and the copy cut
 * at a character boundary when it would pass cap - 1 bytes. Returns the
 * length copied. */
size_t enr_text_copy(char *out, size_t cap, const char *s, size_t n);

#endif
