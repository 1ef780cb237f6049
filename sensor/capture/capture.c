/* capture.c — libpcap live (TPACKET_V3) and offline sources behind one callback. */
#include "capture/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

struct cap_src {
	pcap_t *p;
	int live;
	int link;
	char name[256];
	cap_cb cb;          /* for the trampoline during one dispatch */
	void *cb_arg;
	uint64_t ts_scale;  /* 1 for microsecond files, 1000 for nanosecond ones */
};

/* stdio buffer of a capture file: 1 MiB makes reading cost a system call
 * per ~8,000 packets instead of per ~30. */
#define CAP_FILE_BUF (1u << 20)

/* What a detection reads, and nothing of the bulk a mirror port carries:
 * DNS, mDNS, LLMNR, DHCP(v6), ICMPv6 (ND, RA), ARP, LLDP; every TCP SYN,
 * FIN and RST (connections: stale use, flow ends); on 443/853 the client's
 * pushed segments (a ClientHello, also its second segment, which starts
 * with any byte) and any segment that starts a TLS handshake record (type
 * 22, RFC 8446 §5.1); QUIC long-header packets (Initial, Handshake: RFC 9000
 * §17.2) on 443, 853, 784 and 8853; IP fragments. The handshake-record test
 * reads a byte past the TCP header, which rejects a segment without payload
 * at once in BPF, so it stands last. */
#define SW_FILTER_BODY                                                        \
	"udp port 53 or tcp port 53 or udp port 5353 or udp port 5355 or "      \
	"udp portrange 67-68 or udp portrange 546-547 or icmp6 or arp or "       \
	"ether proto 0x88cc or (ip[6:2] & 0x3fff != 0) or ip6[6] == 44 or "      \
	"tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or "                     \
	"((udp port 443 or udp port 853 or udp port 784 or udp port 8853) and "  \
	"udp[8] & 0x80 != 0) or "                                                \
	"((tcp dst port 443 or tcp dst port 853) and tcp[tcpflags] & tcp-push != 0) or " \
	"((tcp port 443 or tcp port 853) and tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x16)"

/* Untagged, one tag (802.1Q or 802.1ad) or two (QinQ): each `vlan` moves
 * the offsets of what follows by one tag. */
const char *cap_default_filter(void)
{
	return "(" SW_FILTER_BODY ") or (vlan and ((" SW_FILTER_BODY
	       ") or (vlan and (" SW_FILTER_BODY "))))";
}

int cap_filter_is_live(const char *filter)
{
	return filter != NULL && strcmp(filter, "live") == 0;
}

static int apply_filter(struct cap_src *s, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (pcap_compile(s->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: bad filter '%s': %s", s->name, filter,
			 pcap_geterr(s->p));
		return -1;
	}
	int rc = pcap_setfilter(s->p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot set filter: %s", s->name, pcap_geterr(s->p));
		return -1;
	}
	return 0;
}

int cap_check_filter(const char *filter, uint32_t snaplen, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	int rc = 0;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cap_filter_is_live(filter))
		filter = cap_default_filter();
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(p));
		rc = -1;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return rc;
}

struct cap_src *cap_open_live(const char *ifname, const struct cap_conf *c,
			      char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap_src *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", ifname);
	s->live = 1;
	s->ts_scale = 1;
	s->p = pcap_create(ifname, ebuf);
	if (s->p == NULL) {
		snprintf(err, errlen, "interface %s: %s", ifname, ebuf);
		free(s);
		return NULL;
	}
	pcap_set_snaplen(s->p, (int)c->snaplen);
	pcap_set_promisc(s->p, c->promisc);
	pcap_set_timeout(s->p, (int)c->timeout_ms);
	/* libpcap sizes the TPACKET_V3 ring from the buffer size. */
	if (c->ring_size > 0)
		pcap_set_buffer_size(s->p, c->ring_size > 0x7fffffff ? 0x7fffffff : (int)c->ring_size);
	int rc = pcap_activate(s->p);
	if (rc < 0) {
		const char *why = pcap_geterr(s->p);
		if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, errlen, "interface %s: no such interface (%s)", ifname, why);
		else if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "interface %s: permission denied; live capture needs root or CAP_NET_RAW (%s)", ifname, why);
		else
			snprintf(err, errlen, "interface %s: %s", ifname, why);
		pcap_close(s->p);
		free(s);
		return NULL;
	}
	/* The run loop polls every source's descriptor and then dispatches
	 * each: blocking, a dispatch on an idle interface would wait for its
	 * first packet (TPACKET_V3 retires no empty block on the timeout) and
	 * starve the busy ones. Non-blocking, it returns 0 at once. */
	if (pcap_setnonblock(s->p, 1, ebuf) != 0) {
		snprintf(err, errlen, "interface %s: %s", ifname, ebuf);
		cap_close(s);
		return NULL;
	}
	s->link = pcap_datalink(s->p);
	const char *f = c->filter != NULL && c->filter[0] && !cap_filter_is_live(c->filter) ?
			c->filter : cap_default_filter();
	if (apply_filter(s, f, err, errlen) != 0) {
		cap_close(s);
		return NULL;
	}
	return s;
}

struct cap_src *cap_open_file(const char *path, const struct cap_conf *c,
			      char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap_src *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", path);
	/* The file is read through our own stream so that it gets a large
	 * buffer: stdio's default of one page makes a read() per 4 KiB, and
	 * the system calls cost more than the copies. */
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	(void)setvbuf(f, NULL, _IOFBF, CAP_FILE_BUF); /* on failure: the default, slower */
	/* libpcap makes two fread() calls per packet; only this thread reads
	 * the stream, so stdio's per-call locking is pure cost. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	/* Ask for microseconds: pcap converts nanosecond files for us. */
	s->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (s->p == NULL) {
		if (f != stdin)
			fclose(f);
		snprintf(err, errlen, "%s: %s", strcmp(path, "-") == 0 ? "standard input" : path, ebuf);
		free(s);
		return NULL;
	}
	s->ts_scale = 1;
	s->link = pcap_datalink(s->p);
	const char *flt = cap_filter_is_live(c->filter) ? cap_default_filter() : c->filter;
	if (flt != NULL && flt[0] && apply_filter(s, flt, err, errlen) != 0) {
		cap_close(s);
		return NULL;
	}
	return s;
}

uint64_t cap_ts_us(int64_t sec, int64_t usec)
{
	/* A pcap record's ts_sec and ts_usec are unsigned 32-bit fields
	 * (seconds run to 2106); libpcap reads them through signed ones, so
	 * from 2038 on (2^31 s) they come out negative. pcapng's 64-bit times
	 * never do. */
	uint64_t s = sec < 0 ? (uint64_t)(uint32_t)sec : (uint64_t)sec;
	uint64_t u = usec < 0 ? (uint64_t)(uint32_t)usec : (uint64_t)usec;

	if (s > (UINT64_MAX - u) / 1000000u)
		return UINT64_MAX;   /* past year 500,000: a clock jump, not a time */
	return s * 1000000u + u;
}

static void trampoline(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_src *s = (struct cap_src *)(void *)user;
	uint64_t ts = cap_ts_us((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec);
	s->cb(s->cb_arg, s->link, ts, h->caplen, h->len, bytes);
}

int cap_dispatch(struct cap_src *s, int max, cap_cb cb, void *arg)
{
	s->cb = cb;
	s->cb_arg = arg;
	int n = pcap_dispatch(s->p, max, trampoline, (u_char *)s);
	if (n == PCAP_ERROR_BREAK)
		return CAP_BREAK;
	if (n < 0)
		return CAP_ERROR;
	if (n == 0 && !s->live)
		return CAP_EOF;
	return n;
}

void cap_break(struct cap_src *s)
{
	pcap_breakloop(s->p);
}

int cap_fd(const struct cap_src *s)
{
	return s->live ? pcap_get_selectable_fd(s->p) : -1;
}

const char *cap_name(const struct cap_src *s) { return s->name; }
const char *cap_error(const struct cap_src *s) { return pcap_geterr(s->p); }

int cap_get_stats(struct cap_src *s, struct cap_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!s->live)
		return 0;
	struct pcap_stat ps;
	if (pcap_stats(s->p, &ps) != 0)
		return -1;
	st->received = ps.ps_recv;
	st->dropped = ps.ps_drop;
	st->if_dropped = ps.ps_ifdrop;
	return 0;
}

void cap_close(struct cap_src *s)
{
	if (s == NULL)
		return;
	if (s->p != NULL)
		pcap_close(s->p);
	free(s);
}
