/* behaviour.h — caching, TTLs, query rates and failure behaviour of devices.
 *
 * DETECTIONS.md "Caching and TTLs" (cache.requery-within-ttl,
 * cache.stale-use, cache.negative-ignored: RFC 1035 §3.2.1, RFC 2181 §8,
 * RFC 2308 §5, RFC 8767 §4, RFC 9520), "Query rates and failure behaviour"
 * (rate.burst, rate.retry-storm, network.resolver-outage: RFC 1536,
 * RFC 1123 §6.1.3, RFC 9520, RFC 8767) and scorecard lines 7 and 8.
 *
 * A detect module (engine_int.h, "detect modules"): the engine calls its
 * hooks; nothing else is public. behaviour.c holds its state, verdicts,
 * hooks and events; anscache.c the answer cache; cache.c cache.stale-use's
 * connections; rate.c rate.burst, retry storms and resolver outages
 * (behaviour_int.h, what they share). Its state is bounded:
 *   - an answer cache per device, one shared cuckoo table keyed (device
 *     id, query name hash, type), evicting in creation order: when each
 *     (name, type) was answered, the smallest TTL of the chain or the
 *     negative TTL, when it was last asked, and its failure episode;
 *   - per device, a ring of the addresses its latest answers gave → the
 *     latest expiry of any answer that gave the address, and the name;
 *   - a "seen UDP flows" table, consulted only for UDP packets to addresses
 *     that are in the index, so a UDP/QUIC flow's first packet is told
 *     from the rest of it (TCP needs no table: a SYN is a new connection);
 *   - per device slot, counters, rate buckets and the last evidence;
 *   - a small ring of recent retry storms, held back for one window so a
 *     resolver outage that explains them gives one network-level alert.
 */
#ifndef SW_DETECT_BEHAVIOUR_H
#define SW_DETECT_BEHAVIOUR_H

struct eng_module;

/* The module, for modules.c. */
extern const struct eng_module mod_behaviour;

#endif
