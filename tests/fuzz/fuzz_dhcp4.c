/* fuzz_dhcp4.c — libFuzzer target: one DHCPv4 message (RFC 2131).
 *
 * Parses it with dhcp4_parse() and checks the result's invariants: counts within
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
	static struct dhcp4_info d;
	int rc = dhcp4_parse(data, size, &d);
	assert(rc == 0 || rc == SW_ETRUNC);
	assert(d.anomaly < DHCP_A_MAX);
	assert(d.anomaly == DHCP_A_NONE ? d.anomalies == 0 : (d.anomalies >> d.anomaly & 1) != 0);
	assert((d.anomalies & 1u) == 0 && d.anomalies >> DHCP_A_MAX == 0);
	assert(d.ndns <= DHCP_DNS_MAX && d.ndnr <= DHCP_DNR_MAX);
	assert(d.overload <= 3);
	fuzz_str(d.hostname, sizeof(d.hostname));
	fuzz_str(d.domain_name, sizeof(d.domain_name));
	fuzz_str(d.vendor_class, sizeof(d.vendor_class));
	fuzz_str(d.mud_url, sizeof(d.mud_url));
	fuzz_str(d.fqdn, sizeof(d.fqdn));
	for (unsigned i = 0; i < d.ndnr; i++)
		fuzz_dnr(&d.dnr[i]);
	if (rc != 0)
		assert(size < 236);
	(void)dhcp4_msgtype_name(d.msg_type);
	(void)dhcp_anomaly_name(d.anomaly);
	return 0;
}
