/* tls.h — TLS ClientHello facts, JA3/JA4 fingerprints, a bounded nDPI
 * wrapper for TLS/QUIC flows, and the encrypted-DNS classification.
 *
 * RFC 8446 (TLS 1.3: records §5.1, ClientHello §4.1.2, extensions §4.2),
 * RFC 5246 §7.4.1.2 (TLS 1.2 ClientHello), RFC 6066 §3 (server_name),
 * RFC 7301 (ALPN), RFC 8422 §5.1 (supported groups, point formats),
 * RFC 8701 (GREASE), RFC 5077 (session ticket), RFC 9000/9001 (QUIC),
 * RFC 7858 (DoT), RFC 8484 (DoH), RFC 9250 (DoQ), RFC 9462 (DDR).
 * JA3: github.com/salesforce/ja3. JA4: FoxIO JA4 TLS client spec
 * (technical_details/JA4.md, BSD-3-Clause).
 *
 * The parser is zero-copy on input and copies only bounded facts into
 * `struct tls_hello`; no allocation, no globals. The nDPI wrapper allocates
 * its pool once at start-up; nDPI itself allocates inside its dissectors.
 */
#ifndef SW_TLS_TLS_H
#define SW_TLS_TLS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of TLS record stream kept per flow while a ClientHello is
 * incomplete. Real ClientHellos are 0.2-2 KB (Chrome with a post-quantum
 * key share and padding is ~1.8 KB); 4 KiB holds any of them with the
 * record headers of a hello fragmented over a few records, and keeps the
 * per-flow cost small enough to give one to every handshaking flow. A
 * hello larger than this is reported as TLS_R_TOO_BIG, not parsed. */
#define TLS_BUF_MAX 4096

/* Kept-list caps. Lists longer than these are counted (n_* holds the
 * number on the wire) and flagged TLS_F_CAPPED; fingerprints are then
 * computed over the kept prefix. Browsers send <= 20 ciphers, <= 20
 * extensions, <= 12 groups and <= 20 signature schemes; a 4 KiB hello
 * could hold ~2000 ciphers, which no client sends. */
#define TLS_MAX_CIPHERS 128
#define TLS_MAX_EXTS 64
#define TLS_MAX_GROUPS 32
#define TLS_MAX_SIGALGS 48
#define TLS_MAX_PFMTS 8      /* RFC 8422 §5.1.2 defines 3 formats */
#define TLS_MAX_VERSIONS 16  /* supported_versions <2..254> bytes; 16 is 4x what clients send */

#define TLS_SNI_MAX 256      /* a DNS name is <= 253 characters (RFC 1035 §2.3.4) + NUL */
#define TLS_ALPN_TEXT 128    /* comma-joined ALPN names; clients offer 1-3 short names */
#define TLS_JA3_TEXT 1600    /* 6 chars per list entry at the caps above + version */
#define TLS_JA3_HEX 33       /* MD5 in hex + NUL */
#define TLS_JA4_TEXT 40      /* "t13d1516h2_8daaf6152771_e5627efa2ab1" + NUL */

/* Extension types (IANA "TLS ExtensionType Values"). */
enum tls_ext {
	TLS_EXT_SERVER_NAME = 0x0000,        /* RFC 6066 §3 */
	TLS_EXT_SUPPORTED_GROUPS = 0x000a,   /* RFC 8422 §5.1.1, RFC 8446 §4.2.7 */
	TLS_EXT_EC_POINT_FORMATS = 0x000b,   /* RFC 8422 §5.1.2 */
	TLS_EXT_SIG_ALGS = 0x000d,           /* RFC 8446 §4.2.3 */
	TLS_EXT_ALPN = 0x0010,               /* RFC 7301 §3.1 */
	TLS_EXT_SESSION_TICKET = 0x0023,     /* RFC 5077 §3.2 */
	TLS_EXT_PRE_SHARED_KEY = 0x0029,     /* RFC 8446 §4.2.11 */
	TLS_EXT_EARLY_DATA = 0x002a,         /* RFC 8446 §4.2.10 */
	TLS_EXT_SUPPORTED_VERSIONS = 0x002b, /* RFC 8446 §4.2.1 */
	TLS_EXT_QUIC_PARAMS = 0x0039,        /* RFC 9001 §8.2 */
	TLS_EXT_ECH = 0xfe0d,                /* draft-ietf-tls-esni (ECH) */
	TLS_EXT_ESNI = 0xffce                /* draft-ietf-tls-esni-02 and older */
};

/* Why a hello was judged invalid (or not handled). */
enum tls_reason {
	TLS_R_NONE = 0,
	TLS_R_NOT_HANDSHAKE,  /* record content type is not handshake (22) */
	TLS_R_RECORD_VERSION, /* record version major is not 3 */
	TLS_R_RECORD_LEN,     /* record length 0 or above 2^14 (RFC 8446 §5.1) */
	TLS_R_NOT_HELLO,      /* first handshake message is not a ClientHello */
	TLS_R_TOO_BIG,        /* ClientHello larger than TLS_BUF_MAX */
	TLS_R_HELLO_TRUNC,    /* a ClientHello field runs past the message */
	TLS_R_SESSION_ID,     /* legacy_session_id longer than 32 */
	TLS_R_CIPHERS,        /* cipher_suites length zero or odd */
	TLS_R_COMPRESSION,    /* legacy_compression_methods length zero */
	TLS_R_EXTS_LEN,       /* extensions block length past the message end */
	TLS_R_EXT_LEN,        /* one extension's length past the block end */
	TLS_R_EXT_DUP,        /* the same extension type twice */
	TLS_R_SNI,            /* server_name list lengths disagree */
	TLS_R_ALPN,           /* ALPN list lengths disagree */
	TLS_R_LIST,           /* an inner u16 list with an odd or lying length */
	TLS_R_VERSIONS,       /* supported_versions malformed */
	TLS_R_TRAILING,       /* bytes after the extensions block */
	TLS_R_QUIC_HEADER,    /* QUIC long header fields run past the datagram */
	TLS_R_QUIC_DECRYPT,   /* QUIC Initial fails header or AEAD protection */
	TLS_R_QUIC_FRAME,     /* a frame not allowed in Initial, or lengths that lie */
	TLS_R_MAX
};

/* Flags in tls_hello.flags. */
#define TLS_F_SNI 0x0001             /* server_name extension present */
#define TLS_F_ALPN 0x0002            /* ALPN extension present */
#define TLS_F_ECH 0x0004             /* encrypted_client_hello present */
#define TLS_F_ESNI 0x0008            /* old encrypted_server_name present */
#define TLS_F_TICKET 0x0010          /* session_ticket extension present */
#define TLS_F_TICKET_DATA 0x0020     /* ... and carries a ticket (resumption) */
#define TLS_F_PSK 0x0040             /* pre_shared_key present */
#define TLS_F_EARLY_DATA 0x0080      /* early_data present */
#define TLS_F_VERSIONS 0x0100        /* supported_versions present */
#define TLS_F_CAPPED 0x0200          /* a list was longer than its cap */
#define TLS_F_SNI_ODD 0x0400         /* SNI held bytes outside printable ASCII (shown as '?') */
#define TLS_F_QUIC_PARAMS 0x0800     /* quic_transport_parameters present */

/* Facts of one ClientHello. All lists keep wire order and GREASE values
 * (RFC 8701); tls_is_grease() tells them apart. n_* count entries on the
 * wire; at most TLS_MAX_* are kept. */
struct tls_hello {
	uint16_t record_version;  /* first record's version (0 for a raw handshake message) */
	uint16_t legacy_version;  /* ClientHello.legacy_version */
	uint16_t max_version;     /* highest non-GREASE supported_versions, else legacy_version */
	uint16_t hello_len;       /* handshake message length, header included */
	uint16_t flags;           /* TLS_F_* */
	uint8_t session_id_len;
	uint8_t n_compression;    /* legacy_compression_methods entries */

	uint16_t n_ciphers;
	uint16_t ciphers[TLS_MAX_CIPHERS];
	uint16_t n_exts;
	uint16_t exts[TLS_MAX_EXTS];
	uint16_t n_groups;
	uint16_t groups[TLS_MAX_GROUPS];
	uint16_t n_sigalgs;
	uint16_t sigalgs[TLS_MAX_SIGALGS];
	uint16_t n_versions;
	uint16_t versions[TLS_MAX_VERSIONS];
	uint8_t n_pfmts;
	uint8_t pfmts[TLS_MAX_PFMTS];

	char sni[TLS_SNI_MAX];    /* first host_name, original case, NUL-terminated */
	uint16_t sni_len;
	char alpn[TLS_ALPN_TEXT]; /* protocol names joined by ',' (non-printable as '?') */
	uint16_t n_alpn;          /* names in the ALPN list */
	uint8_t alpn0_len;        /* length of the first name (0: none or empty) */
	uint8_t alpn0_first;      /* first and last byte of the first name, raw */
	uint8_t alpn0_last;

	uint8_t reason;           /* enum tls_reason when invalid */
};

/* 1 when v is a GREASE value (RFC 8701 §2: 0x0A0A, 0x1A1A, ..., 0xFAFA). */
static inline int tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Initialises libgcrypt for the hashes if nobody has (nDPI does too).
 * Call once at start-up before any fingerprint; idempotent. */
void tls_init(void);

/* Parses the start of a TLS record stream (client to server): one or more
 * handshake records (RFC 8446 §5.1) carrying a ClientHello, which may be
 * fragmented over records. Stateless, like picohttpparser: call again on
 * the longer buffer when more bytes arrive.
 * Returns 0 when a whole ClientHello parsed into *h, SW_EINCOMPLETE when
 * the bytes so far are a valid prefix, SW_EMALFORMED when they cannot be a
 * ClientHello (h->reason says why), SW_ETOOLONG when the hello is larger
 * than TLS_BUF_MAX (h->reason = TLS_R_TOO_BIG). Never reads outside
 * buf[0..len). *h is overwritten. */
int tls_parse_records(const uint8_t *buf, size_t len, struct tls_hello *h);

/* 1 when a client's first TCP payload opens with a TLS handshake record
 * (RFC 8446 §5.1: content type 22, legacy version 3.x), the bytes a
 * ClientHello starts with, else 0: a caller that missed the SYN decides by
 * it whether a flow starts, before parsing anything. */
static inline int tls_opens_handshake(const uint8_t *buf, size_t len)
{
	return len >= 3 && buf[0] == 0x16 && buf[1] == 0x03;
}

/* 1 when a UDP payload may be a QUIC long-header packet (RFC 9000 §17.2:
 * the first bit set) long enough to hold its version (7 bytes), else 0. */
static inline int tls_quic_long_header(const uint8_t *buf, size_t len)
{
	return len >= 7 && (buf[0] & 0x80);
}

/* Parses one raw handshake message (type, u24 length, body) that should be
 * a ClientHello, as carried in QUIC CRYPTO frames (RFC 9001 §4). Same
 * returns as tls_parse_records(); h->record_version is 0. */
int tls_parse_hello(const uint8_t *msg, size_t len, struct tls_hello *h);

/* Short name of a reason ("tls_ext_len", ...); never NULL. */
const char *tls_reason_name(int reason);

/* --- Per-flow stream of the client's first bytes --------------------------
 * The caller gives each handshaking TCP flow one of these (4 KiB + 4) and
 * appends the client's in-order segment payloads. The first segment is
 * parsed in place when it holds the whole hello (the usual case); bytes
 * are copied only when the hello spans segments. */
struct tls_stream {
	uint16_t len;             /* bytes held in buf */
	uint8_t state;            /* 0 collecting, 1 done, 2 failed */
	uint8_t pad_;
	uint8_t buf[TLS_BUF_MAX];
};

void tls_stream_init(struct tls_stream *s);

/* Appends one in-order segment payload and tries to parse. Returns as
 * tls_parse_records(); after 0, SW_EMALFORMED or SW_ETOOLONG the stream is
 * finished and later calls return the same code class without parsing
 * (SW_EINVAL after 0). The segment is not kept past the call. */
int tls_stream_feed(struct tls_stream *s, const uint8_t *seg, size_t len,
		    struct tls_hello *h);

/* --- QUIC Initial (quic.c) -------------------------------------------------
 * nDPI 4.2 decrypts QUIC Initials for its own use but does not hand the
 * ClientHello out, so JA4 for QUIC needs the sensor to do it too: the
 * Initial keys derive from the client's first Destination Connection ID
 * (RFC 9001 §5.2), header protection and AES-128-GCM are removed
 * (§5.3, §5.4), and CRYPTO frames (RFC 9000 §19.6) are placed at their
 * offsets until the ClientHello is whole. Versions: 1, 2 (RFC 9369) and
 * drafts 23-32. One `struct tls_quic` per engine holds the libgcrypt
 * handles, opened once, so the packet path does not allocate. */
struct tls_quic;

/* Per-flow assembly state: 4 KiB of CRYPTO stream (TLS_BUF_MAX, same
 * reason) + a bitmap of the bytes seen, 4.6 KiB in all; held only while
 * the flow's Initials are being read. */
struct tls_quic_flow {
	uint32_t version;         /* from the first Initial */
	uint8_t dcid[20];         /* client's first DCID (RFC 9000 §17.2: <= 20) */
	uint8_t dcid_len;
	uint8_t state;            /* 0 collecting, 1 done, 2 failed */
	uint8_t have[TLS_BUF_MAX / 8];
	uint8_t buf[TLS_BUF_MAX];
};

/* Start-up: opens the cipher and HMAC handles. NULL with *err on failure. */
struct tls_quic *tls_quic_new(int *err);
void tls_quic_free(struct tls_quic *q);

void tls_quic_flow_init(struct tls_quic_flow *f);

/* Feeds one client-to-server UDP payload. Returns 0 when the ClientHello
 * is whole and parsed into *h (tls_parse_hello()), SW_EINCOMPLETE when
 * more Initials are needed, SW_EUNSUPP when the datagram is not a QUIC
 * Initial of a known version (short header, 0-RTT, Version Negotiation,
 * gQUIC), SW_EMALFORMED / SW_ETOOLONG as tls_parse_hello() or with
 * h->reason = TLS_R_QUIC_*. A failed flow returns SW_EMALFORMED after. */
int tls_quic_feed(struct tls_quic *q, struct tls_quic_flow *f,
		  const uint8_t *dgram, size_t len, struct tls_hello *h);

/* --- Fingerprints ---------------------------------------------------------
 * JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats"
 * in decimal, '-' between list entries, GREASE removed; hash = MD5 hex.
 * JA4: FoxIO spec; `quic` picks the 'q' prefix instead of 't'.
 * Both return the text length, or SW_EFULL when outsz is too small (the
 * buffers sized by TLS_JA3_TEXT / TLS_JA4_TEXT always fit). */
int tls_ja3_string(const struct tls_hello *h, char *out, size_t outsz);
int tls_ja3_hash(const struct tls_hello *h, char out[TLS_JA3_HEX]);
int tls_ja4(const struct tls_hello *h, int quic, char out[TLS_JA4_TEXT]);

/* --- nDPI wrapper (dpi.c) -------------------------------------------------
 * One nDPI detection module per engine (thread), and a pool of nDPI flow
 * states preallocated at start-up. A flow borrows a slot, feeds its first
 * packets (both directions, IP header first), and gives the slot back when
 * nDPI is done or the packet budget is spent, so cost stays bounded by
 * max_packets per flow whatever the traffic. */
struct tls_dpi;

struct tls_dpi_cfg {
	uint32_t max_flows;   /* slots; 0 = default 4096 (x 688 B = 2.7 MiB) */
	uint16_t max_packets; /* packets per flow given to nDPI; 0 = default 8 */
};

/* What nDPI found, copied out of its flow state before the slot is freed. */
struct tls_dpi_result {
	uint16_t master;      /* nDPI master protocol id (NDPI_PROTOCOL_TLS, _QUIC, ...) */
	uint16_t app;         /* nDPI app protocol id (NDPI_PROTOCOL_DOH_DOT, ...) */
	uint16_t tls_version; /* nDPI's ssl_version (negotiated or offered) */
	uint16_t packets;     /* packets fed */
	uint8_t guessed;      /* verdict came from ndpi_detection_giveup() guessing */
	uint8_t hello_seen;   /* nDPI processed a ClientHello (JA3 set) */
	char sni[80];         /* host_server_name (nDPI keeps 80 bytes, lower-cased) */
	char alpn[TLS_ALPN_TEXT]; /* client's ALPN list as nDPI has it, ',' joined */
	char versions[64];    /* supported_versions text nDPI builds, if any */
	char ja3[TLS_JA3_HEX];
	char proto[48];       /* "TLS.DoH_DoT", "QUIC.Google", ... */
};

/* Statistics of one engine's wrapper. */
struct tls_dpi_stats {
	uint64_t opened;      /* flows given a slot */
	uint64_t full;        /* flows refused a slot because the pool was full */
	uint64_t done;        /* flows finished by verdict */
	uint64_t budget;      /* flows finished by the packet budget */
	uint64_t closed;      /* flows closed early by the caller */
	uint32_t in_use;      /* slots held now */
};

/* Start-up: creates the nDPI module (all protocols enabled) and the pool.
 * Returns NULL with *err set (SW_ENOMEM, SW_EINVAL when nDPI's flow size
 * does not match the headers the sensor was built with). */
struct tls_dpi *tls_dpi_new(const struct tls_dpi_cfg *cfg, int *err);

/* The IANA name of a TLS cipher suite ("TLS_AES_128_GCM_SHA256"), from
 * nDPI's table; NULL for a code nDPI does not name. */
const char *tls_cipher_name(uint16_t code);
void tls_dpi_free(struct tls_dpi *d);

/* Borrows a slot for a new flow. Returns a handle >= 0, or SW_EFULL (the
 * flow goes without nDPI; counted). Handles carry a generation so a stale
 * handle is refused rather than feeding another flow's state. */
int64_t tls_dpi_open(struct tls_dpi *d);

/* Feeds one packet of the flow: `ip` points at the IPv4/IPv6 header, `len`
 * is the captured length from there, `ms` is packet time in ms. Returns 1
 * when the flow is finished (verdict with nothing more to dissect, or the
 * packet budget spent): *res is filled and the slot is already free; 0 when
 * more packets are wanted; SW_EINVAL for a stale handle. */
int tls_dpi_feed(struct tls_dpi *d, int64_t handle, const uint8_t *ip,
		 size_t len, uint64_t ms, struct tls_dpi_result *res);

/* Finishes a flow before its budget (it ended or expired): asks nDPI for
 * its best verdict, fills *res and frees the slot. SW_EINVAL when stale. */
int tls_dpi_close(struct tls_dpi *d, int64_t handle, struct tls_dpi_result *res);

void tls_dpi_get_stats(const struct tls_dpi *d, struct tls_dpi_stats *st);

/* --- Encrypted DNS classification (DETECTIONS.md "Encrypted DNS") ---------- */
enum tls_dns_kind {
	TLS_DNS_NONE = 0,  /* not DNS (ordinary HTTPS, unknown) */
	TLS_DNS_DO53,      /* cleartext DNS, RFC 1035 */
	TLS_DNS_DOT,       /* RFC 7858 */
	TLS_DNS_DOH,       /* RFC 8484 */
	TLS_DNS_DOQ,       /* RFC 9250 */
	TLS_DNS_DDR        /* encrypted DNS to an endpoint the network designated
	                    * through DDR (RFC 9462); `*inner` says which */
};

enum tls_transport { TLS_TR_TCP = 6, TLS_TR_UDP = 17 };

/* What the lookup callback knows about an endpoint (bits). */
#define TLS_EP_DOH 0x1   /* a known DoH server (name or address) */
#define TLS_EP_DOT 0x2   /* a known DoT/DoQ server */
#define TLS_EP_DDR 0x4   /* designated to this device through DDR */

/* Looks up an SNI (may be NULL) and a destination address (family 4 or 6,
 * 4 or 16 bytes) in the sensor's lists of known encrypted-DNS endpoints.
 * Returns TLS_EP_* bits, 0 when unknown. */
typedef unsigned (*tls_endpoint_fn)(void *arg, const char *sni, int family,
				    const uint8_t *addr);

struct tls_flow_facts {
	uint8_t transport;     /* enum tls_transport */
	uint8_t handshake;     /* 1 when a TLS ClientHello or QUIC Initial was seen */
	uint16_t server_port;
	const char *sni;       /* NULL or "" when absent */
	const char *alpn;      /* ',' joined client ALPN list; NULL or "" when absent */
	uint16_t ndpi_master;  /* 0 when nDPI gave nothing */
	uint16_t ndpi_app;
	int family;            /* 4 or 6 */
	const uint8_t *daddr;  /* server address, 4 or 16 bytes */
};

/* Classifies one flow. DoT: TLS on 853/TCP, or ALPN "dot" on any TCP port.
 * DoQ: QUIC on 853/UDP, 784/UDP or 8853/UDP (early DoQ drafts), or ALPN
 * "doq"/"doq-i*". DoH: TLS or QUIC whose SNI or address the callback knows
 * as DoH, or nDPI's DoH_DoT verdict off the DoT/DoQ ports. Do53: no
 * handshake, port 53. Ordinary HTTPS is TLS_DNS_NONE. When the endpoint is
 * DDR-designated the result is TLS_DNS_DDR and *inner (may be NULL) gets
 * the transport kind; otherwise *inner gets the result too. fn may be NULL. */
enum tls_dns_kind tls_classify(const struct tls_flow_facts *f,
			       tls_endpoint_fn fn, void *arg,
			       enum tls_dns_kind *inner);

const char *tls_dns_kind_name(enum tls_dns_kind k); /* "dot", "doh", ... */

#endif
