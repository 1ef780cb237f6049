/* fuzz_ra.c — libFuzzer target: one Router Advertisement body (RFC 4861 §4.2, after type, code and checksum).
 *
 * Parses it with ra_parse() and checks the result's invariants: counts within
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
	static struct ra_info d;
	int rc = ra_parse(data, size, &d);
	assert(rc == 0 || rc == SW_ETRUNC);
	assert(d.anomaly < DHCP_A_MAX);
	assert(d.anomaly == DHCP_A_NONE ? d.anomalies == 0 : (d.anomalies >> d.anomaly & 1) != 0);
	assert((d.anomalies & 1u) == 0 && d.anomalies >> DHCP_A_MAX == 0);
	assert(d.nrdnss <= DHCP_DNS_MAX && d.ndnr <= DHCP_DNR_MAX);
	assert(d.ndnssl <= DHCP_SEARCH_MAX && d.nprefix <= RA_PREFIX_MAX && d.nroute <= RA_ROUTE_MAX);
	for (unsigned i = 0; i < d.ndnssl; i++)
		fuzz_str(d.dnssl[i].name, sizeof(d.dnssl[i].name));
	for (unsigned i = 0; i < d.ndnr; i++)
		fuzz_dnr(&d.dnr[i]);
	if (rc != 0)
		assert(size < 12);
	(void)dhcp_anomaly_name(d.anomaly);
	return 0;
}
