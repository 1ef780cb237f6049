/* fuzz_dhcp6.c — libFuzzer target: one DHCPv6 message (RFC 8415), relayed or not.
 *
 * Parses it with dhcp6_parse() and checks the result's invariants: counts within
 * their caps, every text field a NUL-terminated string inside its buffer,
 * the first anomaly among those flagged, an error only for a short header.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "dhcp/dhcp.h"
#include "fuzz_dhcp_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp6_info d;
	int rc = dhcp6_parse(data, size, &d);
	assert(rc == 0 || rc == SW_ETRUNC);
	assert(d.anomaly < DHCP_A_MAX);
	assert(d.anomaly == DHCP_A_NONE ? d.anomalies == 0 : (d.anomalies >> d.anomaly & 1) != 0);
	assert((d.anomalies & 1u) == 0 && d.anomalies >> DHCP_A_MAX == 0);
	assert(d.ndns <= DHCP_DNS_MAX && d.ndnr <= DHCP_DNR_MAX);
	assert(d.nsearch <= DHCP_SEARCH_MAX && d.naddr <= DHCP6_ADDR_MAX);
	assert(d.relay_depth <= DHCP6_RELAY_MAX);
	for (unsigned i = 0; i < d.nsearch; i++)
		fuzz_str(d.search[i], sizeof(d.search[i]));
	fuzz_str(d.mud_url, sizeof(d.mud_url));
	fuzz_str(d.fqdn, sizeof(d.fqdn));
	for (unsigned i = 0; i < d.ndnr; i++)
		fuzz_dnr(&d.dnr[i]);
	/* A short outer header only: 4 octets for a client/server message,
	 * 34 for a relay (RFC 8415 §8, §9). */
	if (rc != 0)
		assert(size < 34 && d.relay_depth == 0);
	(void)dhcp6_msgtype_name(d.msg_type);
	(void)dhcp_anomaly_name(d.anomaly);
	return 0;
}
