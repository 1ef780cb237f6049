/* fuzz_dhcp_common.h — invariant checks shared by the DHCPv4, DHCPv6 and RA
 * fuzz targets: every text field a NUL-terminated string inside its buffer,
 * DNR instances within their caps. */
#ifndef SW_FUZZ_DHCP_COMMON_H
#define SW_FUZZ_DHCP_COMMON_H

#include <assert.h>
#include <string.h>

#include "dhcp/dhcp.h"

static inline void fuzz_str(const char *s, size_t cap)
{
	assert(memchr(s, '\0', cap) != NULL);
}

static inline void fuzz_dnr(const struct dhcp_dnr *x)
{
	assert(x->naddr <= DHCP_DNR_ADDR_MAX);
	assert(x->family == 4 || x->family == 6);
	assert(x->adn[0] != '\0');
	fuzz_str(x->adn, sizeof(x->adn));
	fuzz_str(x->alpn, sizeof(x->alpn));
	fuzz_str(x->dohpath, sizeof(x->dohpath));
	assert(!x->adn_only || x->naddr == 0);
}

#endif
