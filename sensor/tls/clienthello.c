/* clienthello.c — TLS ClientHello parser over a record stream or a raw
 * handshake message. RFC 8446 §5.1 (records), §4 (handshake header),
 * §4.1.2 (ClientHello), §4.2 (extensions); RFC 5246 §7.4.1.2; RFC 6066 §3;
 * RFC 7301 §3.1; RFC 8422 §5.1; RFC 8701 (GREASE).
 */
#include "tls/tls.h"

#include <string.h>

#include "common/err.h"
#include "common/rd.h"

/* RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14; the
 * ClientHello is always sent in plaintext records. */
#define TLS_RECORD_MAX 16384
#define TLS_RECORD_HDR 5      /* type, version, length (RFC 8446 §5.1) */
#define TLS_HS_HDR 4          /* msg_type, uint24 length (RFC 8446 §4) */
#define TLS_CT_HANDSHAKE 22   /* ContentType handshake (RFC 8446 §5.1) */
#define TLS_HT_CLIENT_HELLO 1 /* HandshakeType client_hello (RFC 8446 §4) */
#define TLS_RANDOM_LEN 32     /* Random (RFC 8446 §4.1.2) */
#define TLS_SID_MAX 32        /* legacy_session_id<0..32> (RFC 8446 §4.1.2) */

static const char *const reason_names[TLS_R_MAX] = {
	[TLS_R_NONE] = "tls_none",
	[TLS_R_NOT_HANDSHAKE] = "tls_not_handshake",
	[TLS_R_RECORD_VERSION] = "tls_record_version",
	[TLS_R_RECORD_LEN] = "tls_record_len",
	[TLS_R_NOT_HELLO] = "tls_not_client_hello",
	[TLS_R_TOO_BIG] = "tls_hello_too_big",
	[TLS_R_HELLO_TRUNC] = "tls_hello_trunc",
	[TLS_R_SESSION_ID] = "tls_session_id_len",
	[TLS_R_CIPHERS] = "tls_cipher_suites_len",
	[TLS_R_COMPRESSION] = "tls_compression_len",
	[TLS_R_EXTS_LEN] = "tls_extensions_len",
	[TLS_R_EXT_LEN] = "tls_ext_len",
	[TLS_R_EXT_DUP] = "tls_ext_duplicate",
	[TLS_R_SNI] = "tls_sni_len",
	[TLS_R_ALPN] = "tls_alpn_len",
	[TLS_R_LIST] = "tls_list_len",
	[TLS_R_VERSIONS] = "tls_supported_versions",
	[TLS_R_TRAILING] = "tls_trailing_bytes",
	[TLS_R_QUIC_HEADER] = "quic_header",
	[TLS_R_QUIC_DECRYPT] = "quic_decrypt",
	[TLS_R_QUIC_FRAME] = "quic_frame",
};

const char *tls_reason_name(int reason)
{
	if (reason < 0 || reason >= TLS_R_MAX || reason_names[reason] == NULL)
		return "tls_unknown";
	return reason_names[reason];
}

static int fail(struct tls_hello *h, int reason)
{
	h->reason = (uint8_t)reason;
	return reason == TLS_R_TOO_BIG ? SW_ETOOLONG : SW_EMALFORMED;
}

/* Appends v to a capped list: n counts every entry seen (saturating), the
 * array keeps the first cap of them. */
static void list_add(uint16_t *arr, uint16_t *n, size_t cap, uint16_t v,
		     struct tls_hello *h)
{
	if (*n < cap)
		arr[*n] = v;
	else
		h->flags |= TLS_F_CAPPED;
	if (*n < UINT16_MAX)
		(*n)++;
}

/* Reads a vector of uint16 whose byte length is given by a `lenbytes`-wide
 * prefix and must fill the extension exactly, be even and non-zero
 * (RFC 8446 §4.2.3, §4.2.7, §4.2.1 all declare <2..2^16-2> or <2..254>). */
static int u16_list(struct rd *ext, int lenbytes, uint16_t *arr, uint16_t *n,
		    size_t cap, struct tls_hello *h, int reason)
{
	size_t l = lenbytes == 1 ? rd_u8(ext) : rd_u16(ext);
	if (ext->err || l == 0 || (l & 1) || l != rd_left(ext))
		return fail(h, reason);
	while (rd_left(ext) > 0)
		list_add(arr, n, cap, rd_u16(ext), h);
	return 0;
}

/* Copies bytes as text: printable ASCII kept, anything else as '?'.
 * Returns 1 when a byte was replaced. */
static int copy_text(char *dst, const uint8_t *src, size_t n)
{
	int odd = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];
		if (c < 0x21 || c > 0x7e) {
			c = '?';
			odd = 1;
		}
		dst[i] = (char)c;
	}
	dst[n] = '\0';
	return odd;
}

/* server_name (RFC 6066 §3): ServerNameList<1..2^16-1> of {NameType,
 * HostName<1..2^16-1>}. The first host_name (type 0) is kept. An empty
 * extension body is tolerated (a server's form) and keeps no name. */
static int ext_sni(struct rd *ext, struct tls_hello *h)
{
	h->flags |= TLS_F_SNI;
	if (rd_left(ext) == 0)
		return 0;
	size_t l = rd_u16(ext);
	if (ext->err || l == 0 || l != rd_left(ext))
		return fail(h, TLS_R_SNI);
	while (rd_left(ext) > 0) {
		uint8_t type = rd_u8(ext);
		size_t nl = rd_u16(ext);
		const uint8_t *name = rd_ptr(ext, nl);
		if (ext->err || nl == 0)
			return fail(h, TLS_R_SNI);
		/* RFC 6066 §3: at most one name of a type; keep the first. */
		if (type == 0 && h->sni_len == 0) {
			size_t k = nl;
			if (k > TLS_SNI_MAX - 1) {
				k = TLS_SNI_MAX - 1;
				h->flags |= TLS_F_CAPPED;
			}
			if (copy_text(h->sni, name, k))
				h->flags |= TLS_F_SNI_ODD;
			h->sni_len = (uint16_t)k;
		}
	}
	return 0;
}

/* ALPN (RFC 7301 §3.1): ProtocolNameList<2..2^16-1> of
 * ProtocolName<1..2^8-1>. Names are joined with ','; an empty name (which
 * the RFC forbids) is kept as an empty entry so JA4's rule for it applies. */
static int ext_alpn(struct rd *ext, struct tls_hello *h)
{
	size_t l = rd_u16(ext);
	size_t out = 0;

	h->flags |= TLS_F_ALPN;
	if (ext->err || l < 2 || l != rd_left(ext))
		return fail(h, TLS_R_ALPN);
	while (rd_left(ext) > 0) {
		size_t nl = rd_u8(ext);
		const uint8_t *name = rd_ptr(ext, nl);
		if (ext->err)
			return fail(h, TLS_R_ALPN);
		if (h->n_alpn == 0) {
			h->alpn0_len = (uint8_t)nl;
			h->alpn0_first = nl ? name[0] : 0;
			h->alpn0_last = nl ? name[nl - 1] : 0;
		}
		if (h->n_alpn < UINT16_MAX)
			h->n_alpn++;
		/* Room for ',' + name + NUL, else stop adding names to the text. */
		size_t need = (out ? 1 : 0) + nl;
		if (need + 1 > TLS_ALPN_TEXT - out) {
			h->flags |= TLS_F_CAPPED;
			continue;
		}
		if (out)
			h->alpn[out++] = ',';
		copy_text(h->alpn + out, name, nl);
		out += nl;
	}
	return 0;
}

/* ec_point_formats (RFC 8422 §5.1.2): ECPointFormatList<1..2^8-1>. */
static int ext_pfmts(struct rd *ext, struct tls_hello *h)
{
	size_t l = rd_u8(ext);
	if (ext->err || l == 0 || l != rd_left(ext))
		return fail(h, TLS_R_LIST);
	while (rd_left(ext) > 0) {
		uint8_t f = rd_u8(ext);
		if (h->n_pfmts < TLS_MAX_PFMTS)
			h->pfmts[h->n_pfmts++] = f;
		else
			h->flags |= TLS_F_CAPPED;
	}
	return 0;
}

static int ext_one(uint16_t type, struct rd *ext, struct tls_hello *h)
{
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		return ext_sni(ext, h);
	case TLS_EXT_ALPN:
		return ext_alpn(ext, h);
	case TLS_EXT_SUPPORTED_GROUPS:
		return u16_list(ext, 2, h->groups, &h->n_groups, TLS_MAX_GROUPS,
				h, TLS_R_LIST);
	case TLS_EXT_SIG_ALGS:
		return u16_list(ext, 2, h->sigalgs, &h->n_sigalgs,
				TLS_MAX_SIGALGS, h, TLS_R_LIST);
	case TLS_EXT_EC_POINT_FORMATS:
		return ext_pfmts(ext, h);
	case TLS_EXT_SUPPORTED_VERSIONS:
		/* RFC 8446 §4.2.1: ClientHello form ProtocolVersion<2..254>. */
		h->flags |= TLS_F_VERSIONS;
		return u16_list(ext, 1, h->versions, &h->n_versions,
				TLS_MAX_VERSIONS, h, TLS_R_VERSIONS);
	case TLS_EXT_SESSION_TICKET:
		/* RFC 5077 §3.2: empty asks for a ticket, data resumes. */
		h->flags |= TLS_F_TICKET;
		if (rd_left(ext) > 0)
			h->flags |= TLS_F_TICKET_DATA;
		return 0;
	case TLS_EXT_PRE_SHARED_KEY:
		h->flags |= TLS_F_PSK;
		return 0;
	case TLS_EXT_EARLY_DATA:
		h->flags |= TLS_F_EARLY_DATA;
		return 0;
	case TLS_EXT_QUIC_PARAMS:
		h->flags |= TLS_F_QUIC_PARAMS;
		return 0;
	case TLS_EXT_ECH:
		h->flags |= TLS_F_ECH;
		return 0;
	case TLS_EXT_ESNI:
		h->flags |= TLS_F_ESNI;
		return 0;
	default:
		return 0;
	}
}

/* Extensions<8..2^16-1> (RFC 8446 §4.1.2): each {type, opaque<0..2^16-1>}.
 * Every extension is parsed through a sub-reader of its declared length,
 * so an inner list cannot run into the next extension. */
static int hello_exts(struct rd *b, struct tls_hello *h)
{
	size_t l = rd_u16(b);
	struct rd exts;

	if (b->err || l > rd_left(b))
		return fail(h, TLS_R_EXTS_LEN);
	rd_sub(b, l, &exts);
	while (rd_left(&exts) > 0) {
		uint16_t type = rd_u16(&exts);
		size_t el = rd_u16(&exts);
		struct rd ext;
		if (exts.err || el > rd_left(&exts))
			return fail(h, TLS_R_EXT_LEN);
		rd_sub(&exts, el, &ext);
		/* RFC 8446 §4.2: no two extensions of one type. GREASE values
		 * are skipped: RFC 8701 §3 lets a client send several. */
		if (!tls_is_grease(type)) {
			size_t kept = h->n_exts < TLS_MAX_EXTS ? h->n_exts : TLS_MAX_EXTS;
			for (size_t i = 0; i < kept; i++)
				if (h->exts[i] == type)
					return fail(h, TLS_R_EXT_DUP);
		}
		list_add(h->exts, &h->n_exts, TLS_MAX_EXTS, type, h);
		int rc = ext_one(type, &ext, h);
		if (rc < 0)
			return rc;
	}
	/* Checked after the walk, so a block length that lies short is
	 * reported at the extension it cuts (TLS_R_EXT_LEN). */
	if (rd_left(b) != 0)
		return fail(h, TLS_R_TRAILING);
	return 0;
}

/* ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2). */
static int hello_body(struct rd *b, struct tls_hello *h)
{
	h->legacy_version = rd_u16(b);
	rd_skip(b, TLS_RANDOM_LEN);
	h->session_id_len = rd_u8(b);
	if (b->err)
		return fail(h, TLS_R_HELLO_TRUNC);
	if (h->session_id_len > TLS_SID_MAX)
		return fail(h, TLS_R_SESSION_ID);
	rd_skip(b, h->session_id_len);

	/* cipher_suites<2..2^16-2>: two bytes each. */
	size_t cl = rd_u16(b);
	struct rd cs;
	if (b->err)
		return fail(h, TLS_R_HELLO_TRUNC);
	if (cl == 0 || (cl & 1))
		return fail(h, TLS_R_CIPHERS);
	rd_sub(b, cl, &cs);
	if (b->err)
		return fail(h, TLS_R_HELLO_TRUNC);
	while (rd_left(&cs) > 0)
		list_add(h->ciphers, &h->n_ciphers, TLS_MAX_CIPHERS, rd_u16(&cs), h);

	/* legacy_compression_methods<1..2^8-1>. */
	h->n_compression = rd_u8(b);
	if (b->err)
		return fail(h, TLS_R_HELLO_TRUNC);
	if (h->n_compression == 0)
		return fail(h, TLS_R_COMPRESSION);
	rd_skip(b, h->n_compression);
	if (b->err)
		return fail(h, TLS_R_HELLO_TRUNC);

	/* RFC 5246 §7.4.1.2: a hello may end here, without extensions. */
	if (rd_left(b) > 0) {
		int rc = hello_exts(b, h);
		if (rc < 0)
			return rc;
	}

	h->max_version = h->legacy_version;
	if (h->flags & TLS_F_VERSIONS) {
		uint16_t best = 0;
		size_t kept = h->n_versions < TLS_MAX_VERSIONS ? h->n_versions : TLS_MAX_VERSIONS;
		for (size_t i = 0; i < kept; i++)
			if (!tls_is_grease(h->versions[i]) && h->versions[i] > best)
				best = h->versions[i];
		if (best)
			h->max_version = best;
	}
	return 0;
}

/* A whole handshake message in msg[0..len), header included, whose length
 * field has been checked against len. */
static int hello_msg(const uint8_t *msg, size_t len, struct tls_hello *h)
{
	struct rd r, body;

	rd_init(&r, msg, len);
	rd_skip(&r, 1);
	size_t bl = rd_u24(&r);
	rd_sub(&r, bl, &body);
	h->hello_len = (uint16_t)(TLS_HS_HDR + bl);
	return hello_body(&body, h);
}

int tls_parse_hello(const uint8_t *msg, size_t len, struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	if (len >= 1 && msg[0] != TLS_HT_CLIENT_HELLO)
		return fail(h, TLS_R_NOT_HELLO);
	if (len < TLS_HS_HDR)
		return SW_EINCOMPLETE;
	size_t bl = (size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3];
	/* hello_len is 16 bits; QUIC hellos are a few KB. */
	if (bl > UINT16_MAX - TLS_HS_HDR)
		return fail(h, TLS_R_TOO_BIG);
	if (bl > len - TLS_HS_HDR)
		return SW_EINCOMPLETE;
	return hello_msg(msg, TLS_HS_HDR + bl, h);
}

/* Checks what there is of a record header (fewer than 5 bytes may be
 * there). Returns 0, or the invalid code. */
static int record_hdr_check(const uint8_t *p, size_t n, struct tls_hello *h)
{
	if (n >= 1 && p[0] != TLS_CT_HANDSHAKE)
		return fail(h, TLS_R_NOT_HANDSHAKE);
	/* RFC 8446 §5.1 legacy_record_version is 0x0303 (0x0301 allowed for
	 * the first ClientHello); SSL 3.0 and TLS 1.0-1.2 share major 3. */
	if (n >= 2 && p[1] != 3)
		return fail(h, TLS_R_RECORD_VERSION);
	if (n >= 5) {
		size_t rl = (size_t)p[3] << 8 | p[4];
		/* RFC 8446 §5.1: no zero-length handshake fragments; at most 2^14. */
		if (rl == 0 || rl > TLS_RECORD_MAX)
			return fail(h, TLS_R_RECORD_LEN);
	}
	return 0;
}

int tls_parse_records(const uint8_t *buf, size_t len, struct tls_hello *h)
{
	uint8_t hs[TLS_BUF_MAX]; /* the hello reassembled from several records */
	size_t have = 0;         /* bytes of the handshake message gathered */
	size_t need = 0;         /* its full length, once its header is known */
	size_t off = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = record_hdr_check(buf, len, h)) < 0)
		return rc;
	if (len < TLS_RECORD_HDR)
		return SW_EINCOMPLETE;
	uint16_t rv = (uint16_t)(buf[1] << 8 | buf[2]);

	/* Fast path: the first record holds the whole message; parse in place. */
	size_t rl = (size_t)buf[3] << 8 | buf[4];
	if (rl <= len - TLS_RECORD_HDR && rl >= TLS_HS_HDR &&
	    buf[TLS_RECORD_HDR] == TLS_HT_CLIENT_HELLO) {
		const uint8_t *m = buf + TLS_RECORD_HDR;
		size_t bl = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
		if (bl <= rl - TLS_HS_HDR) {
			if (TLS_HS_HDR + bl > TLS_BUF_MAX)
				return fail(h, TLS_R_TOO_BIG);
			rc = hello_msg(m, TLS_HS_HDR + bl, h);
			h->record_version = rv;
			return rc;
		}
	}

	/* General path: gather record payloads until the message is whole. */
	while (off < len) {
		size_t left = len - off;
		if ((rc = record_hdr_check(buf + off, left, h)) < 0)
			return rc;
		if (left < TLS_RECORD_HDR)
			return SW_EINCOMPLETE;
		rl = (size_t)buf[off + 3] << 8 | buf[off + 4];
		off += TLS_RECORD_HDR;
		size_t avail = len - off < rl ? len - off : rl;
		for (size_t i = 0; i < avail; i++) {
			if (have < TLS_HS_HDR) {
				hs[have++] = buf[off + i];
				if (have == 1 && hs[0] != TLS_HT_CLIENT_HELLO)
					return fail(h, TLS_R_NOT_HELLO);
				if (have == TLS_HS_HDR) {
					need = TLS_HS_HDR + ((size_t)hs[1] << 16 |
							     (size_t)hs[2] << 8 | hs[3]);
					if (need > TLS_BUF_MAX)
						return fail(h, TLS_R_TOO_BIG);
				}
				continue;
			}
			/* Copy the rest of this record's share in one go. */
			size_t k = avail - i;
			if (k > need - have)
				k = need - have;
			memcpy(hs + have, buf + off + i, k);
			have += k;
			break;
		}
		off += avail;
		if (need && have >= need) {
			rc = hello_msg(hs, need, h);
			h->record_version = rv;
			return rc;
		}
	}
	return SW_EINCOMPLETE;
}

void tls_stream_init(struct tls_stream *s)
{
	s->len = 0;
	s->state = 0;
}

int tls_stream_feed(struct tls_stream *s, const uint8_t *seg, size_t len,
		    struct tls_hello *h)
{
	int rc;

	if (s->state == 1)
		return SW_EINVAL;
	if (s->state == 2) {
		memset(h, 0, sizeof(*h));
		return SW_EMALFORMED;
	}
	if (s->len == 0) {
		/* The whole hello in the first segment: no copy. */
		rc = tls_parse_records(seg, len, h);
		if (rc != SW_EINCOMPLETE) {
			s->state = rc == 0 ? 1 : 2;
			return rc;
		}
		if (len > TLS_BUF_MAX) {
			s->state = 2;
			return fail(h, TLS_R_TOO_BIG);
		}
		memcpy(s->buf, seg, len);
		s->len = (uint16_t)len;
		return rc;
	}
	if (len > (size_t)TLS_BUF_MAX - s->len) {
		/* The hello plus record headers would not fit: give up. */
		s->state = 2;
		memset(h, 0, sizeof(*h));
		return fail(h, TLS_R_TOO_BIG);
	}
	memcpy(s->buf + s->len, seg, len);
	s->len = (uint16_t)(s->len + len);
	rc = tls_parse_records(s->buf, s->len, h);
	if (rc != SW_EINCOMPLETE)
		s->state = rc == 0 ? 1 : 2;
	return rc;
}
