/* quic.c — the ClientHello out of QUIC Initial packets.
 * RFC 9000 §17.2 (long header), §17.2.2 (Initial), §16 (variable-length
 * integers), §19 (frames), §12.4 (frames allowed in Initial); RFC 9001
 * §5.2 (Initial secrets), §5.3 (AEAD), §5.4 (header protection); RFC 9369
 * §3 (QUIC v2); RFC 5869 (HKDF); RFC 8446 §7.1 (HKDF-Expand-Label).
 */
#include "tls/tls.h"

#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rd.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu          /* RFC 9369 §3.1 */
#define QUIC_CID_MAX 20              /* RFC 9000 §17.2: v1 CIDs <= 20 bytes */
#define QUIC_TAG 16                  /* AEAD_AES_128_GCM tag (RFC 9001 §5.3) */
#define QUIC_SAMPLE 16               /* header protection sample (RFC 9001 §5.4.2) */
/* Largest datagram decrypted: Initials are padded to >= 1200 bytes
 * (RFC 9000 §14.1) and fit a 1500-byte MTU; 4 KiB allows jumbo paths. */
#define QUIC_DGRAM_MAX 4096

struct tls_quic {
	gcry_md_hd_t hmac;      /* HMAC-SHA256 for HKDF */
	gcry_cipher_hd_t ecb;   /* AES-128-ECB for header protection */
	gcry_cipher_hd_t gcm;   /* AES-128-GCM for the payload */
};

/* Initial salts and labels per version family. */
struct quic_ver {
	const uint8_t *salt;    /* 20 bytes */
	const char *key, *iv, *hp;
	uint8_t initial_type;   /* long packet type of Initial */
};

static const uint8_t salt_v1[20] = { /* RFC 9001 §5.2 */
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
static const uint8_t salt_v2[20] = { /* RFC 9369 §3.3.1 */
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
static const uint8_t salt_d29[20] = { /* draft-ietf-quic-tls-29..32 §5.2 */
	0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };
static const uint8_t salt_d23[20] = { /* draft-ietf-quic-tls-23..28 §5.2 */
	0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
	0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 };

static int quic_version(uint32_t v, struct quic_ver *qv)
{
	qv->key = "quic key";
	qv->iv = "quic iv";
	qv->hp = "quic hp";
	qv->initial_type = 0;
	if (v == QUIC_V1) {
		qv->salt = salt_v1;
	} else if (v == QUIC_V2) {
		qv->salt = salt_v2;
		qv->key = "quicv2 key";
		qv->iv = "quicv2 iv";
		qv->hp = "quicv2 hp";
		qv->initial_type = 1; /* RFC 9369 §3.2 */
	} else if (v >= 0xff00001du && v <= 0xff000020u) {
		qv->salt = salt_d29;
	} else if (v >= 0xff000017u && v <= 0xff00001cu) {
		qv->salt = salt_d23;
	} else {
		return 0;
	}
	return 1;
}

struct tls_quic *tls_quic_new(int *err)
{
	struct tls_quic *q = calloc(1, sizeof(*q));

	*err = SW_ENOMEM;
	if (q == NULL)
		return NULL;
	tls_init();
	if (gcry_md_open(&q->hmac, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) ||
	    gcry_cipher_open(&q->ecb, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_ECB, 0) ||
	    gcry_cipher_open(&q->gcm, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM, 0)) {
		tls_quic_free(q);
		*err = SW_EUNSUPP;
		return NULL;
	}
	*err = 0;
	return q;
}

void tls_quic_free(struct tls_quic *q)
{
	if (q == NULL)
		return;
	if (q->hmac)
		gcry_md_close(q->hmac);
	if (q->ecb)
		gcry_cipher_close(q->ecb);
	if (q->gcm)
		gcry_cipher_close(q->gcm);
	free(q);
}

void tls_quic_flow_init(struct tls_quic_flow *f)
{
	f->version = 0;
	f->dcid_len = 0;
	f->state = 0;
	memset(f->have, 0, sizeof(f->have));
}

static int hmac(struct tls_quic *q, const uint8_t *key, size_t klen,
		const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		uint8_t out[32])
{
	gcry_md_reset(q->hmac);
	if (gcry_md_setkey(q->hmac, key, klen))
		return -1;
	gcry_md_write(q->hmac, a, alen);
	if (blen)
		gcry_md_write(q->hmac, b, blen);
	memcpy(out, gcry_md_read(q->hmac, GCRY_MD_SHA256), 32);
	return 0;
}

/* HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of
 * at most 32 bytes (one HMAC block, RFC 5869 §2.3 T(1)). */
static int expand_label(struct tls_quic *q, const uint8_t secret[32],
			const char *label, uint8_t *out, size_t olen)
{
	uint8_t info[2 + 1 + 6 + 16 + 1 + 1], t[32];
	size_t ll = strlen(label), n = 0;

	info[n++] = 0;
	info[n++] = (uint8_t)olen;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;          /* context length */
	info[n++] = 1;          /* HKDF counter for T(1) */
	if (hmac(q, secret, 32, info, n, NULL, 0, t))
		return -1;
	memcpy(out, t, olen);
	return 0;
}

/* Variable-length integer (RFC 9000 §16). */
static uint64_t rd_varint(struct rd *r)
{
	uint8_t b = rd_u8(r);
	uint64_t v = b & 0x3f;
	int extra = (1 << (b >> 6)) - 1;
	for (int i = 0; i < extra; i++)
		v = v << 8 | rd_u8(r);
	return r->err ? 0 : v;
}

static int qfail(struct tls_quic_flow *f, struct tls_hello *h, int reason)
{
	memset(h, 0, sizeof(*h));
	h->reason = (uint8_t)reason;
	f->state = 2;
	return reason == TLS_R_TOO_BIG ? SW_ETOOLONG : SW_EMALFORMED;
}

/* Marks [off, off+n) seen and copies the data. */
static void place(struct tls_quic_flow *f, size_t off, const uint8_t *p, size_t n)
{
	memcpy(f->buf + off, p, n);
	for (size_t i = off; i < off + n; i++)
		f->have[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Bytes seen from offset 0 without a hole. */
static size_t contiguous(const struct tls_quic_flow *f)
{
	size_t i = 0;
	while (i < TLS_BUF_MAX && (f->have[i >> 3] & (1u << (i & 7))))
		i++;
	return i;
}

/* Walks the frames of a decrypted Initial payload (RFC 9000 §12.4: only
 * PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE 0x1c may appear). */
static int frames(struct tls_quic_flow *f, struct rd *r, struct tls_hello *h)
{
	while (rd_left(r) > 0) {
		uint64_t type = rd_varint(r);
		if (type == 0x00 || type == 0x01)
			continue;
		if (type == 0x02 || type == 0x03) {  /* ACK (RFC 9000 §19.3) */
			rd_varint(r);
			rd_varint(r);
			uint64_t ranges = rd_varint(r);
			rd_varint(r);
			for (uint64_t i = 0; i < ranges && !r->err; i++) {
				rd_varint(r);
				rd_varint(r);
			}
			if (type == 0x03) {
				rd_varint(r);
				rd_varint(r);
				rd_varint(r);
			}
		} else if (type == 0x06) {            /* CRYPTO (RFC 9000 §19.6) */
			uint64_t off = rd_varint(r);
			uint64_t n = rd_varint(r);
			if (r->err || n > rd_left(r))
				return qfail(f, h, TLS_R_QUIC_FRAME);
			const uint8_t *p = rd_ptr(r, (size_t)n);
			if (off > TLS_BUF_MAX || n > TLS_BUF_MAX - off)
				return qfail(f, h, TLS_R_TOO_BIG);
			place(f, (size_t)off, p, (size_t)n);
		} else if (type == 0x1c) {            /* CONNECTION_CLOSE (§19.19) */
			rd_varint(r);
			rd_varint(r);
			uint64_t n = rd_varint(r);
			if (r->err || n > rd_left(r))
				return qfail(f, h, TLS_R_QUIC_FRAME);
			rd_skip(r, (size_t)n);
		} else {
			return qfail(f, h, TLS_R_QUIC_FRAME);
		}
		if (r->err)
			return qfail(f, h, TLS_R_QUIC_FRAME);
	}
	return 0;
}

/* Removes the protection of one Initial packet in pkt[0..plen) (a copy the
 * caller owns) and reads its frames. pn_off is the packet number offset. */
static int initial(struct tls_quic *q, struct tls_quic_flow *f,
		   const struct quic_ver *qv, uint8_t *pkt, size_t plen,
		   size_t pn_off, struct tls_hello *h)
{
	uint8_t secret[32], client[32], key[16], iv[12], hp[16], mask[16];

	/* RFC 9001 §5.4.2: the sample starts 4 bytes after the PN offset. */
	if (pn_off + 4 + QUIC_SAMPLE > plen)
		return qfail(f, h, TLS_R_QUIC_HEADER);
	/* RFC 9001 §5.2: initial_secret = HKDF-Extract(salt, client DCID). */
	if (hmac(q, qv->salt, 20, f->dcid, f->dcid_len, NULL, 0, secret) ||
	    expand_label(q, secret, "client in", client, 32) ||
	    expand_label(q, client, qv->key, key, 16) ||
	    expand_label(q, client, qv->iv, iv, 12) ||
	    expand_label(q, client, qv->hp, hp, 16))
		return qfail(f, h, TLS_R_QUIC_DECRYPT);
	if (gcry_cipher_setkey(q->ecb, hp, 16) ||
	    gcry_cipher_encrypt(q->ecb, mask, 16, pkt + pn_off + 4, QUIC_SAMPLE))
		return qfail(f, h, TLS_R_QUIC_DECRYPT);
	/* RFC 9001 §5.4.1: long header, 4 low bits of the first byte. */
	pkt[0] ^= mask[0] & 0x0f;
	size_t pn_len = (size_t)(pkt[0] & 0x03) + 1;
	uint64_t pn = 0;
	for (size_t i = 0; i < pn_len; i++) {
		pkt[pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | pkt[pn_off + i];
	}
	size_t hdr = pn_off + pn_len;
	if (plen < hdr + QUIC_TAG)
		return qfail(f, h, TLS_R_QUIC_HEADER);
	/* RFC 9001 §5.3: nonce = iv XOR packet number (left-padded). */
	for (int i = 0; i < 8; i++)
		iv[11 - i] ^= (uint8_t)(pn >> (8 * i));
	size_t clen = plen - hdr - QUIC_TAG;
	if (gcry_cipher_reset(q->gcm) || gcry_cipher_setkey(q->gcm, key, 16) ||
	    gcry_cipher_setiv(q->gcm, iv, 12) ||
	    gcry_cipher_authenticate(q->gcm, pkt, hdr) ||
	    gcry_cipher_decrypt(q->gcm, pkt + hdr, clen, NULL, 0) ||
	    gcry_cipher_checktag(q->gcm, pkt + hdr + clen, QUIC_TAG))
		return qfail(f, h, TLS_R_QUIC_DECRYPT);
	struct rd r;
	rd_init(&r, pkt + hdr, clen);
	return frames(f, &r, h);
}

int tls_quic_feed(struct tls_quic *q, struct tls_quic_flow *f,
		  const uint8_t *dgram, size_t len, struct tls_hello *h)
{
	uint8_t pkt[QUIC_DGRAM_MAX];
	struct rd r;
	int any = 0;

	if (f->state == 2) {
		memset(h, 0, sizeof(*h));
		return SW_EMALFORMED;
	}
	if (f->state == 1)
		return SW_EINVAL;
	rd_init(&r, dgram, len);
	/* Coalesced packets (RFC 9000 §12.2): walk long headers until one
	 * is not an Initial or a short header starts. */
	while (rd_left(&r) > 0) {
		size_t start = r.off;
		uint8_t b0 = rd_u8(&r);
		uint32_t ver = rd_u32(&r);
		struct quic_ver qv;
		if (r.err || !(b0 & 0x80) || !quic_version(ver, &qv) ||
		    ((b0 >> 4) & 3) != qv.initial_type)
			break;
		uint8_t dl = rd_u8(&r);
		const uint8_t *dcid = rd_ptr(&r, dl);
		uint8_t sl = rd_u8(&r);
		rd_skip(&r, sl);
		uint64_t tl = rd_varint(&r);
		if (r.err || dl > QUIC_CID_MAX || sl > QUIC_CID_MAX || tl > rd_left(&r))
			return any ? SW_EINCOMPLETE : qfail(f, h, TLS_R_QUIC_HEADER);
		rd_skip(&r, (size_t)tl);
		uint64_t pl = rd_varint(&r);
		if (r.err || pl > rd_left(&r))
			return qfail(f, h, TLS_R_QUIC_HEADER);
		size_t pn_off = r.off - start;
		size_t plen = pn_off + (size_t)pl;
		rd_skip(&r, (size_t)pl);
		if (plen > sizeof(pkt))
			return qfail(f, h, TLS_R_TOO_BIG);
		/* RFC 9001 §5.2: keys come from the DCID of the client's first
		 * Initial; later Initials carry the server's CID instead. */
		if (f->dcid_len == 0 && f->version == 0) {
			memcpy(f->dcid, dcid, dl);
			f->dcid_len = dl;
			f->version = ver;
		}
		if (ver != f->version)
			break;
		memcpy(pkt, dgram + start, plen);
		int rc = initial(q, f, &qv, pkt, plen, pn_off, h);
		if (rc < 0)
			return rc;
		any = 1;
	}
	if (!any)
		return SW_EUNSUPP;

	size_t c = contiguous(f);
	if (c < 4)
		return SW_EINCOMPLETE;
	size_t need = 4 + ((size_t)f->buf[1] << 16 | (size_t)f->buf[2] << 8 | f->buf[3]);
	if (need > TLS_BUF_MAX)
		return qfail(f, h, TLS_R_TOO_BIG);
	int rc = tls_parse_hello(f->buf, c, h);
	if (rc != SW_EINCOMPLETE)
		f->state = rc == 0 ? 1 : 2;
	return rc;
}
