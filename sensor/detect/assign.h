/* assign.h — what the network assigned, as the detections read it: the
 * designated resolver set of a device and the segment records. */
#ifndef SW_DETECT_ASSIGN_H
#define SW_DETECT_ASSIGN_H

#include <stdint.h>

#include "decode/decode.h"
#include "state/state.h"

struct engine;

/* The segment (VLAN) record, marked used. */
struct segment *asg_segment(struct engine *e, uint16_t vlan);

/* Whether `ip` is in the device's designated resolver set (*yes), and where
 * that set comes from: "device" (its own DHCP/DHCPv6 lease or DNR, plus the
 * segment's RDNSS and the sanctioned list), "segment" (no lease of its own
 * seen: what other devices on its VLAN were given, plus RDNSS and
 * sanctioned), or "sanctioned" (nothing seen on the segment: only the
 * sanctioned list). */
const char *asg_designated(struct engine *e, const struct dev_key *k,
			   const struct device *d, const uint8_t ip[16], int *yes);

#endif
