/* pipeline_int.h — the pipeline's internals, shared by its files (engine.c:
 * frames, housekeeping, set-up; dns.c: DNS over UDP and TCP; lease.c: DHCP
 * and RA; report.c: the stats event and the summary table). Not for other
 * layers. */
#ifndef SW_PIPELINE_PIPELINE_INT_H
#define SW_PIPELINE_PIPELINE_INT_H

#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/engine_int.h"
#include "dns/dns.h"
#include "pipeline/engine.h"
#include "state/state.h"

/* Counter slots for DHCP/RA anomalies (enum dhcp_anomaly fits in these). */
#define DHCP_ANOM_SLOTS 32

/* The pipeline's counters. Every member is a uint64_t count, so engines'
 * counters add up member by member (report.c sums them for the stats
 * event). */
struct eng_counts {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ip;
	uint64_t arp;
	uint64_t ndp;
	uint64_t ra;
	uint64_t dns_udp_msgs;    /* DNS messages over UDP (unicast, mDNS, LLMNR) */
	uint64_t dns_tcp_msgs;
	uint64_t queries;         /* unicast */
	uint64_t responses;       /* unicast */
	uint64_t queries_tcp;     /* of which over TCP */
	uint64_t responses_tcp;
	uint64_t mdns;
	uint64_t mdns_responses;
	uint64_t llmnr;
	uint64_t llmnr_responses;
	uint64_t unmatched;
	uint64_t dhcp;            /* DHCPv4 and DHCPv6 messages */
	uint64_t dhcp_anom[DHCP_ANOM_SLOTS];
	uint64_t unanswered;
	uint64_t no_device;       /* DNS with a group MAC on the device side */
	uint64_t dns_short;       /* payload shorter than a DNS header */
	uint64_t dns_anom[DNS_A_MAX];
	uint64_t tcp_gap;
	uint64_t tcp_skipped;     /* segments with bytes skipped to find a plausible message */
	uint64_t tcp_oversize;
	uint64_t tcp_retrans;
	uint64_t time_jump;       /* packets far ahead of the clock, held at it */
	uint64_t time_back;       /* packets older than the clock */
	uint64_t caplen_over;     /* captured length above the wire length */
};

/* One engine with what only the per-packet path needs. The detections'
 * context comes first, so the engine pointer the capture callback and the
 * hooks get is the pipeline's too (pl_of). */
struct pipeline {
	struct engine e;
	struct dec_ctx *dec;
	uint64_t next_tick;       /* next once-a-second housekeeping */
	uint64_t next_stats;
	uint32_t sweep_slot;      /* snapshot sweep position in the device table */
	int clock_set;            /* a packet has set the clock (e.now) */
	uint64_t jump_base;       /* time of the last packet far ahead of the clock */
	uint32_t jump_run;        /* consecutive such packets near jump_base */
	struct cap_stats cap;
	struct {
		char name[64];            /* the libpcap device name, cut at 63 */
		struct cap_stats st;
	} ifaces[CONF_MAX_LIST];      /* live sources, as eng_set_iface_stats set them */
	unsigned nifaces;
	struct eng_counts c;
};

static inline struct pipeline *pl_of(struct engine *e)
{
	return (struct pipeline *)(void *)e;
}

static inline const struct pipeline *pl_of_const(const struct engine *e)
{
	return (const struct pipeline *)(const void *)e;
}

/* lease.c: a UDP packet that is DHCPv4 (67/68) or DHCPv6 (546/547) is
 * recorded and 1 returned; 0 for any other. */
int lease_udp(struct engine *e, const struct pkt *p);

/* lease.c: an ICMPv6 Router Advertisement (type 134). */
void lease_ra(struct engine *e, const struct pkt *p);

/* dns.c: a UDP DNS, mDNS or LLMNR message (proto: enum dns_proto). */
void pl_dns_udp(struct engine *e, const struct pkt *p, int proto);

/* dns.c: a TCP segment to or from port 53: its flow's framing, and each
 * complete message. */
void pl_dns_tcp(struct engine *e, const struct pkt *p);

/* report.c: the exit stats event, written once the sinks have settled
 * (out_settle) and counting itself (eng_finish). */
void eng_emit_final_stats(struct engine *e);

/* dns.c: times out the queries unanswered for queries.timeout (all = 1:
 * every outstanding one, at the end of input), with their detections'
 * unanswered hooks and, with log.dns, their transaction events. */
void pl_expire_queries(struct engine *e, uint64_t now, int all);

#endif
