/* capture.h — packet sources: live interfaces and capture files, one callback.
 *
 * Live capture goes through libpcap's TPACKET_V3 ring (pcap_create +
 * pcap_set_buffer_size, so the ring size is the configured one); files are
 * pcap or pcapng, "-" is standard input. Both hand frames to the same
 * callback with the link type, so everything above this layer does not know
 * where a packet came from. Packet bytes belong to libpcap and are valid only
 * during the callback.
 */
#ifndef SW_CAPTURE_CAPTURE_H
#define SW_CAPTURE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct cap_src;

struct cap_conf {
	uint32_t snaplen;
	int promisc;
	uint64_t ring_size;   /* bytes, live only */
	uint64_t timeout_ms;  /* live read timeout */
	const char *filter;   /* BPF text; NULL or "" = none (files) / default (live);
	                       * "live": the live default, on files too */
};

/* One frame: link type (DLT), packet time in microseconds, lengths, bytes.
 * Lengths are as the source gives them: caplen may exceed wirelen in a
 * damaged file (the engine counts it). */
typedef void (*cap_cb)(void *arg, int link, uint64_t ts_us, uint32_t caplen,
		       uint32_t wirelen, const uint8_t *frame);

/* A packet time in microseconds from libpcap's seconds and microseconds,
 * read as the unsigned 32-bit fields of a pcap record when they come out
 * negative (a ts_sec past 2^31, year 2038, is not year 1901); saturates
 * at UINT64_MAX. */
uint64_t cap_ts_us(int64_t sec, int64_t usec);

/* Opens an interface for live capture. NULL and a message saying what to
 * fix (no such interface, no CAP_NET_RAW, bad filter) in err on failure. */
struct cap_src *cap_open_live(const char *ifname, const struct cap_conf *c,
			      char *err, size_t errlen);

/* Opens a pcap/pcapng file, "-" for stdin. NULL and a message on failure
 * (missing file, not a capture, unknown link type). */
struct cap_src *cap_open_file(const char *path, const struct cap_conf *c,
			      char *err, size_t errlen);

/* Delivers up to max frames (max <= 0: one buffer's worth) to cb. Returns
 * the number delivered, 0 on a live timeout, CAP_EOF at the end of a file,
 * CAP_BREAK after cap_break(), or CAP_ERROR (message in cap_error()). */
#define CAP_EOF (-2)
#define CAP_BREAK (-3)
#define CAP_ERROR (-1)
int cap_dispatch(struct cap_src *s, int max, cap_cb cb, void *arg);

/* Makes a running cap_dispatch() return soon; callable from a signal handler. */
void cap_break(struct cap_src *s);

/* A descriptor that becomes readable when a live source has packets, or -1. */
int cap_fd(const struct cap_src *s);

const char *cap_name(const struct cap_src *s);
const char *cap_error(const struct cap_src *s);

/* Kernel and interface drops (pcap_stats; zeros for files). */
struct cap_stats {
	uint64_t received;
	uint64_t dropped;    /* kernel: ring full */
	uint64_t if_dropped; /* interface / driver */
};
int cap_get_stats(struct cap_src *s, struct cap_stats *st);

void cap_close(struct cap_src *s);

/* Compiles a BPF filter for Ethernet frames without opening anything
 * (pcap_compile on a dead handle), so a bad filter is found at start and by
 * --check-config, before any capture opens. 0, or -1 with "bad filter 'F':
 * libpcap's reason" in err. */
int cap_check_filter(const char *filter, uint32_t snaplen, char *err, size_t errlen);

/* The BPF filter used on live interfaces when none is configured: DNS,
 * mDNS, LLMNR, DHCP, DHCPv6, ICMPv6, ARP, LLDP, TCP SYN/FIN/RST, the TLS
 * handshake segments of 443 and 853 (not their bulk data), QUIC long-header
 * packets on 443, 853 and DoQ's early ports, and IP fragments; untagged,
 * with one VLAN tag or with two (QinQ). */
const char *cap_default_filter(void);

/* 1 when a filter text names the live default ("live"), which -f live
 * applies to a capture file as well: the sensor then sees a replay as a
 * live interface would show it. */
int cap_filter_is_live(const char *filter);

#endif
