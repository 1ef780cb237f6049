/* dhcp_int.h — helpers shared by the DHCPv4, DHCPv6 and RA parsers: anomaly
 * flags, escaped text, uncompressed wire-format names (RFC 1035 §3.1) and
 * DNR instances with their SvcParams (RFC 9463, RFC 9460 §2.2).
 * Internal to sensor/dhcp/.
 */
#ifndef SW_DHCP_DHCP_INT_H
#define SW_DHCP_DHCP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rd.h"
#include "dhcp/dhcp.h"

/* Records anomaly a: its bit, and *first when none was recorded yet. */
void dhcp_flag(uint8_t *first, uint32_t *all, int a);

static inline void dhcp_set_bit(uint8_t *set, unsigned code)
{
	if (code < 256)
		set[code >> 3] |= (uint8_t)(1u << (code & 7));
}

/* Writes p[0..n) into out as text: printable ASCII (0x20..0x7e) as itself
 * except the backslash, which is doubled, and every other byte as \xHH.
 * Stops before an escape that would not fit; out is always NUL-terminated
 * (outsz > 0). Returns the text length. */
size_t dhcp_text(char *out, size_t outsz, const uint8_t *p, size_t n);

/* Decodes one uncompressed wire-format name (RFC 1035 §3.1) at the reader's
 * cursor into text without the final dot ("." for the root), moving the
 * cursor past it. Labels are at most 63 octets and the name at most 255
 * (RFC 1035 §2.3.4); a compression pointer or label type 0x40/0x80 is
 * refused, since DHCP and RA names are never compressed (RFC 8415 §10,
 * RFC 8106 §5.2, RFC 9463 §3.1.1). With `partial`, a name that runs to the
 * end of the reader without a root label is accepted (RFC 4702 §2.3, RFC
 * 4704 §4.1 partial names). Bytes outside [A-Za-z0-9_-] are written as
 * \. (a dot inside a label) or \DDD; text that does not fit in outsz is
 * cut at a label.
 * Returns 0, SW_ETRUNC or SW_EMALFORMED / SW_ETOOLONG (the cursor is then
 * not trustworthy and the caller stops reading names from this reader). */
int dhcp_name(struct rd *r, char *out, size_t outsz, int partial);

/* Reads SvcParams (RFC 9460 §2.2: key, length, value; keys strictly
 * ascending) from the rest of r and keeps the summary in d: alpn (key 1),
 * port (key 3), dohpath (key 7, RFC 9461 §5). Returns 0 or SW_EMALFORMED
 * (what was read before the bad parameter is kept). */
int dhcp_svcparams(struct rd *r, struct dhcp_dnr *d);

#endif
