/* dhcp_learn.c — prints what DHCPv4, DHCPv6 and Router Advertisements in a
 * capture assign, through the sensor's own parsers (sensor/dhcp/).
 *
 * Usage: dhcp_learn FILE.pcap[ng]. Walks Ethernet (with 802.1Q/802.1ad
 * tags), IPv4/IPv6 (unfragmented, IPv6 extension headers skipped), UDP
 * ports 67/68 and 546/547, and ICMPv6 type 134 (RFC 4861 §4.2), and
 * prints one line per message:
 *   dhcp4 chaddr=.. type=ACK xid=.. dns=a,b hostname=.. [...]
 *   dhcp6 type=REPLY relay=0 dns=a,b search=x,y [...]
 *   ra router=fe80::.. rdnss=a dnssl=x,y prefixes=p/64 [...]
 * "-" marks an empty list. Exit 0, or 1 when the file cannot be read.
 * A test tool: it uses stdio and libpcap, which the sensor layers do not.
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dhcp/dhcp.h"

struct learn_stats {
	unsigned long dhcp4, dhcp6, ra, failed;
};

static void learn_addrs(const char *key, const uint8_t *a, size_t stride, unsigned n, int af)
{
	char t[INET6_ADDRSTRLEN];
	printf(" %s=", key);
	if (n == 0)
		fputs("-", stdout);
	for (unsigned i = 0; i < n; i++) {
		inet_ntop(af, a + i * stride, t, sizeof(t));
		printf("%s%s", i ? "," : "", t);
	}
}

static void learn_anomalies(uint32_t all)
{
	if (all == 0)
		return;
	printf(" anomalies=");
	int first = 1;
	for (int a = 1; a < DHCP_A_MAX; a++)
		if (all & (1u << a)) {
			printf("%s%s", first ? "" : ",", dhcp_anomaly_name(a));
			first = 0;
		}
}

static void learn_dnr(const struct dhcp_dnr *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		printf(" dnr=%u:%s", d[i].priority, d[i].adn);
		learn_addrs("dnr_addr", &d[i].addr[0][0], 16, d[i].naddr, d[i].family == 4 ? AF_INET : AF_INET6);
		if (d[i].alpn[0])
			printf(" alpn=%s", d[i].alpn);
		if (d[i].has_port)
			printf(" port=%u", d[i].port);
		if (d[i].dohpath[0])
			printf(" dohpath=%s", d[i].dohpath);
	}
}

static void learn_dhcp4(const uint8_t *p, size_t n, struct learn_stats *st)
{
	static struct dhcp4_info d;
	if (dhcp4_parse(p, n, &d) != 0) {
		st->failed++;
		printf("dhcp4 truncated\n");
		return;
	}
	st->dhcp4++;
	const char *t = dhcp4_msgtype_name(d.msg_type);
	printf("dhcp4 chaddr=%02x:%02x:%02x:%02x:%02x:%02x type=%s xid=0x%08x",
	       d.chaddr[0], d.chaddr[1], d.chaddr[2], d.chaddr[3], d.chaddr[4], d.chaddr[5],
	       t ? t : d.msg_type ? "?" : "BOOTP", d.xid);
	learn_addrs("dns", &d.dns[0][0], 4, d.ndns, AF_INET);
	if (d.hostname[0])
		printf(" hostname=%s", d.hostname);
	if (d.vendor_class[0])
		printf(" vendor=%s", d.vendor_class);
	if (d.fqdn[0])
		printf(" fqdn=%s", d.fqdn);
	if (d.mud_url[0])
		printf(" mud=%s", d.mud_url);
	if (d.overload)
		printf(" overload=%u", d.overload);
	if (d.has_cookie)
		printf(" asks_dns=%d", dhcp_bit(d.prl, 6));
	learn_dnr(d.dnr, d.ndnr);
	learn_anomalies(d.anomalies);
	putchar('\n');
}

static void learn_dhcp6(const uint8_t *p, size_t n, struct learn_stats *st)
{
	static struct dhcp6_info d;
	if (dhcp6_parse(p, n, &d) != 0) {
		st->failed++;
		printf("dhcp6 truncated\n");
		return;
	}
	st->dhcp6++;
	const char *t = dhcp6_msgtype_name(d.msg_type);
	printf("dhcp6 type=%s xid=0x%06x relay=%u", t ? t : "?", d.xid, d.relay_depth);
	learn_addrs("dns", &d.dns[0][0], 16, d.ndns, AF_INET6);
	printf(" search=");
	for (unsigned i = 0; i < d.nsearch; i++)
		printf("%s%s", i ? "," : "", d.search[i]);
	if (d.nsearch == 0)
		fputs("-", stdout);
	learn_addrs("ia_na", d.addr[0].addr, sizeof(d.addr[0]), d.naddr, AF_INET6);
	if (d.fqdn[0])
		printf(" fqdn=%s", d.fqdn);
	if (d.mud_url[0])
		printf(" mud=%s", d.mud_url);
	printf(" asks_dns=%d", dhcp_bit(d.oro, 23));
	learn_dnr(d.dnr, d.ndnr);
	learn_anomalies(d.anomalies);
	putchar('\n');
}

static void learn_ra(const uint8_t *src, const uint8_t *p, size_t n, struct learn_stats *st)
{
	static struct ra_info ra;
	char t[INET6_ADDRSTRLEN];
	if (ra_parse(p, n, &ra) != 0) {
		st->failed++;
		printf("ra truncated\n");
		return;
	}
	st->ra++;
	inet_ntop(AF_INET6, src, t, sizeof(t));
	printf("ra router=%s lifetime=%u M=%d O=%d", t, ra.router_lifetime,
	       !!(ra.flags & RA_F_MANAGED), !!(ra.flags & RA_F_OTHER));
	learn_addrs("rdnss", ra.rdnss[0].addr, sizeof(ra.rdnss[0]), ra.nrdnss, AF_INET6);
	printf(" dnssl=");
	for (unsigned i = 0; i < ra.ndnssl; i++)
		printf("%s%s", i ? "," : "", ra.dnssl[i].name);
	if (ra.ndnssl == 0)
		fputs("-", stdout);
	printf(" prefixes=");
	for (unsigned i = 0; i < ra.nprefix; i++) {
		inet_ntop(AF_INET6, ra.prefix[i].prefix, t, sizeof(t));
		printf("%s%s/%u", i ? "," : "", t, ra.prefix[i].len);
	}
	if (ra.nprefix == 0)
		fputs("-", stdout);
	learn_dnr(ra.dnr, ra.ndnr);
	learn_anomalies(ra.anomalies);
	putchar('\n');
}

static void learn_udp(const uint8_t *p, size_t n, int v6, struct learn_stats *st)
{
	if (n < 8)
		return;
	unsigned sport = (unsigned)p[0] << 8 | p[1], dport = (unsigned)p[2] << 8 | p[3];
	size_t ulen = (size_t)p[4] << 8 | p[5];
	if (ulen >= 8 && ulen <= n)
		n = ulen;
	if (!v6 && (sport == 67 || sport == 68) && (dport == 67 || dport == 68))
		learn_dhcp4(p + 8, n - 8, st);
	else if (v6 && (sport == 546 || sport == 547) && (dport == 546 || dport == 547))
		learn_dhcp6(p + 8, n - 8, st);
}

static void learn_frame(const uint8_t *p, size_t n, struct learn_stats *st)
{
	if (n < 14)
		return;
	unsigned et = (unsigned)p[12] << 8 | p[13];
	size_t off = 14;
	while ((et == 0x8100 || et == 0x88a8) && n - off >= 4) {
		et = (unsigned)p[off + 2] << 8 | p[off + 3];
		off += 4;
	}
	p += off;
	n -= off;
	if (et == 0x0800 && n >= 20 && (p[0] >> 4) == 4) {
		size_t ihl = (size_t)(p[0] & 15) * 4;
		size_t tot = (size_t)p[2] << 8 | p[3];
		unsigned frag = ((unsigned)p[6] << 8 | p[7]) & 0x3fff;
		if (ihl < 20 || ihl > n || frag != 0 || p[9] != 17)
			return;
		if (tot >= ihl && tot <= n)
			n = tot;
		learn_udp(p + ihl, n - ihl, 0, st);
	} else if (et == 0x86dd && n >= 40 && (p[0] >> 4) == 6) {
		const uint8_t *src = p + 8;
		size_t plen = (size_t)p[4] << 8 | p[5];
		uint8_t nh = p[6];
		size_t o = 40;
		if (plen + 40 <= n)
			n = plen + 40;
		/* Hop-by-hop, routing, destination options (RFC 8200 §4). */
		while ((nh == 0 || nh == 43 || nh == 60) && n - o >= 8) {
			size_t el = ((size_t)p[o + 1] + 1) * 8;
			nh = p[o];
			if (el > n - o)
				return;
			o += el;
		}
		if (nh == 17)
			learn_udp(p + o, n - o, 1, st);
		else if (nh == 58 && n - o >= 4 && p[o] == 134)
			learn_ra(src, p + o + 4, n - o - 4, st);
	}
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct learn_stats st = { 0, 0, 0, 0 };
	if (argc != 2) {
		fprintf(stderr, "usage: dhcp_learn FILE.pcap\n");
		return 1;
	}
	pcap_t *pc = pcap_open_offline(argv[1], err);
	if (pc == NULL) {
		fprintf(stderr, "dhcp_learn: %s\n", err);
		return 1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "dhcp_learn: %s: link type %d is not Ethernet\n", argv[1], pcap_datalink(pc));
		pcap_close(pc);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1)
		learn_frame(data, h->caplen, &st);
	pcap_close(pc);
	printf("summary dhcp4=%lu dhcp6=%lu ra=%lu truncated=%lu\n", st.dhcp4, st.dhcp6, st.ra, st.failed);
	return 0;
}
