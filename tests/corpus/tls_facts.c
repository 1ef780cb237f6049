/* tls_facts.c — prints the ClientHello facts of every TLS/QUIC flow in a
 * capture, from the sensor's own parser and from nDPI side by side, for
 * tests/corpus/tls_check.py. Not part of the sensor: a test tool.
 *
 * Ethernet (+802.1Q/QinQ), Linux SLL, raw IP; IPv4 (first fragments only),
 * IPv6 (hop-by-hop, routing, destination options skipped); TCP to or from
 * 443/853 with the client's payload followed in order from its first
 * segment; UDP to or from 443/853/784/8853 as QUIC.
 *
 * One line per flow:
 *   proto=tls|quic dport=N sni=S alpn=A ja3=H ja4=J ndpi=P ndpi_sni=S
 *   ndpi_alpn=A ndpi_ja3=H ours=ok|incomplete|<reason>
 * with '-' for an empty value.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "tls/tls.h"

#define MAX_FLOWS 256  /* the corpus captures hold a handful of flows */

struct flow {
	int used;
	uint8_t l4;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
	int64_t dpi;              /* handle, or < 0 when nDPI finished */
	struct tls_dpi_result res;
	int dpi_done;
	int ours;                 /* 1 ok, <0 error, 0 pending */
	int printed;
	int seq_set;
	uint32_t next_seq;
	struct tls_hello h;
	struct tls_stream st;
	struct tls_quic_flow qf;
};

struct ctx {
	struct tls_dpi *dpi;
	struct tls_quic *quic;
	struct flow *flows;       /* MAX_FLOWS */
	int linktype;
};

static int watched(uint16_t port)
{
	return port == 443 || port == 853 || port == 784 || port == 8853;
}

static const char *dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static void print_flow(struct flow *f)
{
	char ja3[TLS_JA3_HEX] = "", ja4[TLS_JA4_TEXT] = "";
	const char *ours = "incomplete";

	if (f->printed)
		return;
	f->printed = 1;
	if (f->ours == 1) {
		tls_ja3_hash(&f->h, ja3);
		tls_ja4(&f->h, f->l4 == 17, ja4);
		ours = "ok";
	} else if (f->ours < 0) {
		ours = tls_reason_name(f->h.reason);
	}
	printf("proto=%s dport=%u sni=%s alpn=%s ja3=%s ja4=%s ndpi=%s "
	       "ndpi_sni=%s ndpi_alpn=%s ndpi_ja3=%s ours=%s\n",
	       f->l4 == 6 ? "tls" : "quic", f->sport,
	       f->ours == 1 ? dash(f->h.sni) : "-",
	       f->ours == 1 ? dash(f->h.alpn) : "-", dash(ja3), dash(ja4),
	       dash(f->res.proto), dash(f->res.sni), dash(f->res.alpn),
	       dash(f->res.ja3), ours);
}

static void maybe_print(struct flow *f)
{
	if (f->ours != 0 && f->dpi_done)
		print_flow(f);
}

static struct flow *flow_get(struct ctx *c, uint8_t l4, const uint8_t *ca,
			     uint16_t cp, const uint8_t *sa, uint16_t sp)
{
	struct flow *free_f = NULL;
	for (int i = 0; i < MAX_FLOWS; i++) {
		struct flow *f = &c->flows[i];
		if (!f->used) {
			if (!free_f)
				free_f = f;
			continue;
		}
		if (f->l4 == l4 && f->cport == cp && f->sport == sp &&
		    !memcmp(f->caddr, ca, 16) && !memcmp(f->saddr, sa, 16))
			return f;
	}
	if (!free_f)
		return NULL;
	memset(free_f, 0, sizeof(*free_f));
	free_f->used = 1;
	free_f->l4 = l4;
	memcpy(free_f->caddr, ca, 16);
	memcpy(free_f->saddr, sa, 16);
	free_f->cport = cp;
	free_f->sport = sp;
	free_f->dpi = tls_dpi_open(c->dpi);
	if (free_f->dpi < 0)
		free_f->dpi_done = 1;
	tls_stream_init(&free_f->st);
	tls_quic_flow_init(&free_f->qf);
	return free_f;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void on_ip(struct ctx *c, const uint8_t *ip, size_t len, uint64_t ms)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	size_t off;
	uint8_t l4;

	if (len < 1)
		return;
	if (ip[0] >> 4 == 4) {
		if (len < 20)
			return;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		size_t tot = be16(ip + 2);
		if (ihl < 20 || tot < ihl || tot > len)
			return;
		len = tot;
		if (be16(ip + 6) & 0x1fff) /* not a first fragment */
			return;
		l4 = ip[9];
		memcpy(src, ip + 12, 4);
		memcpy(dst, ip + 16, 4);
		off = ihl;
	} else if (ip[0] >> 4 == 6) {
		if (len < 40)
			return;
		size_t pl = be16(ip + 4);
		if (40 + pl < len)
			len = 40 + pl;
		l4 = ip[6];
		memcpy(src, ip + 8, 16);
		memcpy(dst, ip + 24, 16);
		off = 40;
		while ((l4 == 0 || l4 == 43 || l4 == 60) && off + 8 <= len) {
			l4 = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
		}
	} else {
		return;
	}
	if (off > len || (l4 != 6 && l4 != 17))
		return;
	const uint8_t *p = ip + off;
	size_t pl = len - off;
	if (pl < 8)
		return;
	uint16_t sp = be16(p), dp = be16(p + 2);
	int to_server;
	if (watched(dp))
		to_server = 1;
	else if (watched(sp))
		to_server = 0;
	else
		return;
	struct flow *f = to_server ? flow_get(c, l4, src, sp, dst, dp)
				   : flow_get(c, l4, dst, dp, src, sp);
	if (f == NULL)
		return;

	if (!f->dpi_done) {
		int rc = tls_dpi_feed(c->dpi, f->dpi, ip, len, ms, &f->res);
		if (rc != 0)
			f->dpi_done = 1;
	}

	if (to_server && f->ours == 0) {
		if (l4 == 6) {
			if (pl < 20 || (size_t)(p[12] >> 4) * 4 > pl)
				return;
			size_t doff = (size_t)(p[12] >> 4) * 4;
			uint32_t seq = be32(p + 4);
			const uint8_t *data = p + doff;
			size_t dl = pl - doff;
			if (p[13] & 0x02) { /* SYN */
				f->next_seq = seq + 1;
				f->seq_set = 1;
				dl = 0;
			}
			if (dl > 0) {
				if (!f->seq_set) {
					f->next_seq = seq;
					f->seq_set = 1;
				}
				uint32_t d = f->next_seq - seq;
				if (d < dl) { /* in order or overlapping the front */
					int rc = tls_stream_feed(&f->st, data + d, dl - d, &f->h);
					f->next_seq = seq + (uint32_t)dl;
					if (rc != SW_EINCOMPLETE)
						f->ours = rc == 0 ? 1 : -1;
				}
			}
		} else {
			int rc = tls_quic_feed(c->quic, &f->qf, p + 8, pl - 8, &f->h);
			if (rc == 0)
				f->ours = 1;
			else if (rc == SW_EMALFORMED || rc == SW_ETOOLONG)
				f->ours = -1;
		}
	}
	maybe_print(f);
}

static void on_pkt(u_char *user, const struct pcap_pkthdr *ph, const u_char *pkt)
{
	struct ctx *c = (struct ctx *)(void *)user;
	size_t len = ph->caplen, off = 0;
	uint16_t et = 0;
	uint64_t ms = (uint64_t)ph->ts.tv_sec * 1000 + (uint64_t)ph->ts.tv_usec / 1000;

	switch (c->linktype) {
	case DLT_EN10MB:
		if (len < 14)
			return;
		et = be16(pkt + 12);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && off + 4 <= len) {
			et = be16(pkt + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return;
		et = be16(pkt + 14);
		off = 16;
		break;
	case DLT_RAW:       /* 12 on Linux */
	case 101:           /* LINKTYPE_RAW in files */
		et = len && (pkt[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	default:
		return;
	}
	if ((et != 0x0800 && et != 0x86dd) || off > len)
		return;
	on_ip(c, pkt + off, len - off, ms);
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct ctx c = { 0 };
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: tls_facts CAPTURE\n");
		return 2;
	}
	pcap_t *pc = pcap_open_offline(argv[1], errbuf);
	if (pc == NULL) {
		fprintf(stderr, "tls_facts: %s\n", errbuf);
		return 1;
	}
	struct tls_dpi_cfg cfg = { .max_flows = MAX_FLOWS, .max_packets = 8 };
	c.dpi = tls_dpi_new(&cfg, &err);
	c.quic = tls_quic_new(&err);
	c.flows = calloc(MAX_FLOWS, sizeof(*c.flows));
	if (!c.dpi || !c.quic || !c.flows) {
		fprintf(stderr, "tls_facts: start-up failed\n");
		return 1;
	}
	c.linktype = pcap_datalink(pc);
	pcap_loop(pc, -1, on_pkt, (u_char *)&c);
	for (int i = 0; i < MAX_FLOWS; i++) {
		struct flow *f = &c.flows[i];
		if (!f->used)
			continue;
		if (!f->dpi_done) {
			tls_dpi_close(c.dpi, f->dpi, &f->res);
			f->dpi_done = 1;
		}
		print_flow(f);
	}
	pcap_close(pc);
	tls_quic_free(c.quic);
	tls_dpi_free(c.dpi);
	free(c.flows);
	return 0;
}
