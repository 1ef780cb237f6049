/* assign.c — the designated resolver set of a device, as the detections
 * judge it (DETECTIONS.md, "Resolver discovery and use").
 *
 * A device's designated resolvers are the ones its own DHCP/DHCPv6
 * exchange handed out (RFC 2132 §3.8 option 6, RFC 3646 option 23, DNR:
 * RFC 9463), the RDNSS of its segment's routers (RFC 8106), and the
 * sanctioned list; before its own exchange has been seen (a lease older
 * than the capture), the resolvers handed to other devices on the same
 * segment stand in. What the network handed out is recorded by the
 * pipeline (pipeline/lease.c) in the state tables; this file only reads it.
 */
#include "detect/assign.h"

#include <string.h>

#include "detect/engine_int.h"

struct segment *asg_segment(struct engine *e, uint16_t vlan)
{
	return state_segment(&e->st, vlan);
}

const char *asg_designated(struct engine *e, const struct dev_key *k,
			   const struct device *d, const uint8_t ip[16], int *yes)
{
	const struct segment *s = &e->segs[d->vlan % SEG_COUNT];
	*yes = 0;
	for (unsigned i = 0; i < d->nassigned; i++)
		if (memcmp(d->assigned[i].ip, ip, 16) == 0) {
			*yes = 1;
			break;
		}
	if (!*yes && e->rules != NULL && rules_is_sanctioned(e->rules, ip))
		*yes = 1;
	/* RDNSS and DNR in RAs speak to every host on the segment; DHCP
	 * answers to other devices stand in only until the device's own lease
	 * has been seen. */
	for (unsigned i = 0; !*yes && i < s->nres; i++)
		if (memcmp(s->res[i].ip, ip, 16) == 0 &&
		    (s->res[i].source == ASSIGN_RA || d->nassigned == 0))
			*yes = 1;
	if (d->nassigned > 0)
		return "device";
	if (s->nres > 0)
		return "segment";
	return e->rules != NULL && e->rules->nsanct > 0 ? "sanctioned" : "none";
}
