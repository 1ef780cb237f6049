/* assign.h — learning what the network assigned (DHCPv4, DHCPv6, RA, DNR). */
#ifndef SW_DETECT_ASSIGN_H
#define SW_DETECT_ASSIGN_H

#include <stdint.h>

#include "decode/decode.h"
#include "state/state.h"

struct engine;

/* Handles a UDP packet if it is DHCPv4 (67/68) or DHCPv6 (546/547);
 * returns 1 when it was. */
int asg_udp(struct engine *e, const struct pkt *p);

/* Handles an ICMPv6 Router Advertisement (type 134). */
void asg_ra(struct engine *e, const struct pkt *p);

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

/* Posture hook (posture.c): server `now` handed out resolvers on a segment
 * where `other` (another server of the same kind, changed = 0) already did,
 * or the same server's list changed from `other`'s (changed = 1), or (other
 * = NULL) it is not on dhcp.allowed_servers. */
struct seg_server;
void post_rogue_server(struct engine *e, const struct pkt *p,
		       const struct seg_server *now, const struct seg_server *other,
		       int changed);

#endif
