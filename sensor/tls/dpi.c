/* dpi.c — nDPI 4.2 for the first packets of TLS/QUIC flows, with a fixed
 * pool of flow states. nDPI dissects TLS ClientHellos (RFC 8446 §4.1.2)
 * and decrypts QUIC Initial packets (RFC 9001 §5.2) to reach theirs; the
 * sensor keeps its verdict, SNI, ALPN and JA3.
 */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* nDPI 4.2's headers build clean under the house warning set (checked
 * with gcc 12), so no diagnostic pragmas are needed around them. */
#include <ndpi/ndpi_api.h>

/* Default slots: flows in their first packets at one time per engine. An
 * IoT network of 10,000 devices opening a few TLS connections a second
 * holds well under 4096 handshakes in flight at once, since a flow leaves
 * the pool after at most max_packets packets. 4096 x 688 B = 2.7 MiB. */
#define DPI_DEF_FLOWS 4096
/* Default packets per flow: TCP handshake (3) + a ClientHello in up to 2-3
 * segments + the ServerHello = 8; a QUIC Initial is packet 1 (2 for a
 * Chrome hello split over two Initials). nDPI has its verdict by then;
 * later packets are encrypted and would only cost time. */
#define DPI_DEF_PACKETS 8
/* Slot indexes take 24 bits of a handle, generations the bits above. */
#define DPI_MAX_FLOWS (1u << 24)

struct tls_dpi {
	struct ndpi_detection_module_struct *mod; /* one per engine, not shared */
	uint8_t *pool;          /* max_flows flow states of fsz bytes each */
	size_t fsz;             /* nDPI's flow struct size */
	uint32_t max_flows;
	uint16_t max_packets;
	uint32_t *free_list;    /* stack of free slot indexes */
	uint32_t n_free;
	uint32_t *gen;          /* per slot: generation, odd while in use */
	uint16_t *npkts;        /* per slot: packets fed */
	struct tls_dpi_stats st;
};

struct tls_dpi *tls_dpi_new(const struct tls_dpi_cfg *cfg, int *err)
{
	struct tls_dpi *d = calloc(1, sizeof(*d));
	NDPI_PROTOCOL_BITMASK all;

	*err = SW_ENOMEM;
	if (d == NULL)
		return NULL;
	d->max_flows = cfg && cfg->max_flows ? cfg->max_flows : DPI_DEF_FLOWS;
	d->max_packets = cfg && cfg->max_packets ? cfg->max_packets : DPI_DEF_PACKETS;
	if (d->max_flows > DPI_MAX_FLOWS) {
		*err = SW_ERANGE;
		goto fail;
	}
	/* The struct layout the sensor reads must be the library's. */
	d->fsz = ndpi_detection_get_sizeof_ndpi_flow_struct();
	if (d->fsz != sizeof(struct ndpi_flow_struct)) {
		*err = SW_EINVAL;
		goto fail;
	}
	d->pool = calloc(d->max_flows, d->fsz);
	d->free_list = calloc(d->max_flows, sizeof(*d->free_list));
	d->gen = calloc(d->max_flows, sizeof(*d->gen));
	d->npkts = calloc(d->max_flows, sizeof(*d->npkts));
	if (!d->pool || !d->free_list || !d->gen || !d->npkts)
		goto fail;
	for (uint32_t i = 0; i < d->max_flows; i++)
		d->free_list[i] = d->max_flows - 1 - i;
	d->n_free = d->max_flows;

	tls_init(); /* libgcrypt set up once; nDPI then leaves it alone */
	d->mod = ndpi_init_detection_module(ndpi_dont_load_tor_hosts);
	if (d->mod == NULL)
		goto fail;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(d->mod, &all);
	ndpi_finalize_initialization(d->mod);
	*err = 0;
	return d;
fail:
	tls_dpi_free(d);
	return NULL;
}

const char *tls_cipher_name(uint16_t code)
{
	/* nDPI prints a code it does not know as "0X1234" into a static
	 * buffer: such a result is dropped here, so callers only ever see
	 * names from its constant table. */
	const char *n = ndpi_cipher2str(code);
	if (n == NULL || strncmp(n, "TLS_", 4) != 0)
		return NULL;
	return n;
}

static struct ndpi_flow_struct *slot_flow(struct tls_dpi *d, uint32_t i)
{
	return (struct ndpi_flow_struct *)(void *)(d->pool + (size_t)i * d->fsz);
}

void tls_dpi_free(struct tls_dpi *d)
{
	if (d == NULL)
		return;
	if (d->pool && d->gen)
		for (uint32_t i = 0; i < d->max_flows; i++)
			if (d->gen[i] & 1)
				ndpi_free_flow_data(slot_flow(d, i));
	if (d->mod)
		ndpi_exit_detection_module(d->mod);
	free(d->pool);
	free(d->free_list);
	free(d->gen);
	free(d->npkts);
	free(d);
}

int64_t tls_dpi_open(struct tls_dpi *d)
{
	if (d->n_free == 0) {
		d->st.full++;
		return SW_EFULL;
	}
	uint32_t i = d->free_list[--d->n_free];
	/* Generation 31 bits, odd while in use; wraps after 2^30 uses. */
	d->gen[i] = (d->gen[i] + 1) & 0x7fffffffu;
	d->npkts[i] = 0;
	memset(slot_flow(d, i), 0, d->fsz);
	d->st.opened++;
	d->st.in_use++;
	return (int64_t)d->gen[i] << 24 | i;
}

/* The slot of a live handle, or -1. */
static int64_t slot_of(const struct tls_dpi *d, int64_t handle)
{
	if (handle < 0)
		return -1;
	uint32_t i = (uint32_t)(handle & (DPI_MAX_FLOWS - 1));
	uint32_t g = (uint32_t)(handle >> 24);
	if (i >= d->max_flows || d->gen[i] != g || !(g & 1))
		return -1;
	return i;
}

static void slot_release(struct tls_dpi *d, uint32_t i)
{
	ndpi_free_flow_data(slot_flow(d, i));
	d->gen[i] = (d->gen[i] + 1) & 0x7fffffffu;
	d->free_list[d->n_free++] = i;
	d->st.in_use--;
}

static int is_tls_like(uint16_t p)
{
	return p == NDPI_PROTOCOL_TLS || p == NDPI_PROTOCOL_QUIC;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Copies what the sensor keeps out of nDPI's flow state. The tls_quic
 * union member is read only when TLS or QUIC is in the verdict: for other
 * protocols the union holds their fields and its pointers are not ours. */
static void fill_result(struct tls_dpi *d, struct ndpi_flow_struct *f,
			ndpi_protocol p, uint16_t npk, int guessed,
			struct tls_dpi_result *res)
{
	memset(res, 0, sizeof(*res));
	res->master = p.master_protocol;
	res->app = p.app_protocol;
	res->packets = npk;
	res->guessed = (uint8_t)(guessed != 0);
	copy_str(res->sni, sizeof(res->sni), f->host_server_name);
	ndpi_protocol2name(d->mod, p, res->proto, sizeof(res->proto));
	if (is_tls_like(p.master_protocol) || is_tls_like(p.app_protocol)) {
		res->tls_version = f->protos.tls_quic.ssl_version;
		res->hello_seen = f->protos.tls_quic.ja3_client[0] != '\0';
		copy_str(res->ja3, sizeof(res->ja3), f->protos.tls_quic.ja3_client);
		copy_str(res->alpn, sizeof(res->alpn), f->protos.tls_quic.alpn);
		copy_str(res->versions, sizeof(res->versions),
			 f->protos.tls_quic.tls_supported_versions);
	}
}

int tls_dpi_feed(struct tls_dpi *d, int64_t handle, const uint8_t *ip,
		 size_t len, uint64_t ms, struct tls_dpi_result *res)
{
	int64_t s = slot_of(d, handle);
	if (s < 0)
		return SW_EINVAL;
	uint32_t i = (uint32_t)s;
	struct ndpi_flow_struct *f = slot_flow(d, i);

	/* nDPI takes an unsigned short length; an IP packet is <= 65535. */
	unsigned short l = len > 65535 ? 65535 : (unsigned short)len;
	ndpi_protocol p = ndpi_detection_process_packet(d->mod, f, ip, l, ms);
	d->npkts[i]++;

	int known = p.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
		    p.app_protocol != NDPI_PROTOCOL_UNKNOWN;
	int hello = (is_tls_like(p.master_protocol) || is_tls_like(p.app_protocol)) &&
		    f->protos.tls_quic.ja3_client[0] != '\0';
	/* Done when nDPI has nothing more to learn, or holds the ClientHello
	 * facts (the certificate it would wait for is not needed). */
	if (known && (hello || !ndpi_extra_dissection_possible(d->mod, f))) {
		fill_result(d, f, p, d->npkts[i], 0, res);
		d->st.done++;
		slot_release(d, i);
		return 1;
	}
	if (d->npkts[i] >= d->max_packets) {
		uint8_t guessed = 0;
		if (!known)
			p = ndpi_detection_giveup(d->mod, f, 1, &guessed);
		fill_result(d, f, p, d->npkts[i], guessed, res);
		d->st.budget++;
		slot_release(d, i);
		return 1;
	}
	return 0;
}

int tls_dpi_close(struct tls_dpi *d, int64_t handle, struct tls_dpi_result *res)
{
	int64_t s = slot_of(d, handle);
	if (s < 0)
		return SW_EINVAL;
	uint32_t i = (uint32_t)s;
	struct ndpi_flow_struct *f = slot_flow(d, i);
	uint8_t guessed = 0;

	ndpi_protocol p = ndpi_detection_giveup(d->mod, f, 1, &guessed);
	fill_result(d, f, p, d->npkts[i], guessed, res);
	d->st.closed++;
	slot_release(d, i);
	return 0;
}

void tls_dpi_get_stats(const struct tls_dpi *d, struct tls_dpi_stats *st)
{
	*st = d->st;
}
