/* text.c — strings made safe for JSON (see text.h); RFC 3629 UTF-8. */
#include "enrich/text.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;  /* continuation byte, 0xc0/0xc1 overlong lead, > U+10FFFF */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t enr_text_copy(char *out, size_t cap, const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t o = 0;
	while (n > 0 && is_space(u[0])) {
		u++;
		n--;
	}
	while (n > 0 && is_space(u[n - 1]))
		n--;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(u + i, n - i);
		if (l == 0 || (l == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
			if (o + 1 > cap - 1)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + l > cap - 1)
			break;
		memcpy(out + o, u + i, l);
		o += l;
		i += l;
	}
	/* A cut may leave a space at the end. */
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}
