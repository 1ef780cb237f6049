/* classify.c — which DNS transport a flow is: Do53, DoT, DoH, DoQ (or via
 * DDR). RFC 1035 §4.2 (port 53), RFC 7858 §3.1 (DoT on 853/TCP),
 * RFC 8484 (DoH, any HTTPS port), RFC 9250 §4.1.1 (ALPN "doq") and §8
 * (853/UDP; drafts used 784 and 8853), RFC 9461 (ALPN "dot"), RFC 9462 (DDR).
 */
#include "tls/tls.h"

#include <ndpi/ndpi_protocol_ids.h>
#include <string.h>

#define PORT_DNS 53      /* RFC 1035 §4.2 */
#define PORT_DOT 853     /* RFC 7858 §3.1, RFC 9250 §8 */
#define PORT_DOQ_OLD1 784  /* draft-ietf-dprive-dnsoquic-00..02 */
#define PORT_DOQ_OLD2 8853 /* draft-huitema-quic-dnsoquic, early AdGuard */

/* 1 when the ',' separated list holds `name` exactly, or (prefix != 0)
 * an entry starting with it. */
static int alpn_has(const char *list, const char *name, int prefix)
{
	size_t nl = strlen(name);
	const char *p = list;

	if (list == NULL)
		return 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if ((l == nl || (prefix && l > nl)) && memcmp(p, name, nl) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static int is_quic(const struct tls_flow_facts *f)
{
	return f->transport == TLS_TR_UDP &&
	       (f->handshake || f->ndpi_master == NDPI_PROTOCOL_QUIC ||
		f->ndpi_app == NDPI_PROTOCOL_QUIC);
}

static int is_tls(const struct tls_flow_facts *f)
{
	return f->transport == TLS_TR_TCP &&
	       (f->handshake || f->ndpi_master == NDPI_PROTOCOL_TLS ||
		f->ndpi_app == NDPI_PROTOCOL_TLS);
}

static int ndpi_doh(const struct tls_flow_facts *f)
{
	return f->ndpi_master == NDPI_PROTOCOL_DOH_DOT ||
	       f->ndpi_app == NDPI_PROTOCOL_DOH_DOT;
}

enum tls_dns_kind tls_classify(const struct tls_flow_facts *f,
			       tls_endpoint_fn fn, void *arg,
			       enum tls_dns_kind *inner)
{
	enum tls_dns_kind k = TLS_DNS_NONE;
	const char *sni = f->sni && f->sni[0] ? f->sni : NULL;
	const char *alpn = f->alpn && f->alpn[0] ? f->alpn : NULL;
	unsigned ep = 0;
	int tls = is_tls(f), quic = is_quic(f);

	if (fn != NULL && (tls || quic))
		ep = fn(arg, sni, f->family, f->daddr);

	if (quic && (f->server_port == PORT_DOT || f->server_port == PORT_DOQ_OLD1 ||
		     f->server_port == PORT_DOQ_OLD2 || alpn_has(alpn, "doq", 0) ||
		     alpn_has(alpn, "doq-i", 1)))
		k = TLS_DNS_DOQ;
	else if (tls && (f->server_port == PORT_DOT || alpn_has(alpn, "dot", 0)))
		k = TLS_DNS_DOT;
	else if ((tls || quic) && ((ep & TLS_EP_DOH) || ndpi_doh(f)))
		k = TLS_DNS_DOH;
	else if (!tls && !quic && f->server_port == PORT_DNS &&
		 f->ndpi_master != NDPI_PROTOCOL_TLS)
		k = TLS_DNS_DO53;

	if (inner)
		*inner = k;
	if (k != TLS_DNS_NONE && k != TLS_DNS_DO53 && (ep & TLS_EP_DDR))
		return TLS_DNS_DDR;
	return k;
}

const char *tls_dns_kind_name(enum tls_dns_kind k)
{
	switch (k) {
	case TLS_DNS_NONE: return "none";
	case TLS_DNS_DO53: return "do53";
	case TLS_DNS_DOT: return "dot";
	case TLS_DNS_DOH: return "doh";
	case TLS_DNS_DOQ: return "doq";
	case TLS_DNS_DDR: return "ddr";
	}
	return "none";
}
