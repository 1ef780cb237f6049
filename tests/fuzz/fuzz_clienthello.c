/* fuzz_clienthello.c — libFuzzer target for the TLS ClientHello parser
 * (RFC 8446 §5.1, §4.1.2), the per-flow stream, QUIC Initial reading
 * (RFC 9001 §5) and the JA3/JA4 builders.
 *
 * The first input byte picks the entry point: 0 records, 1 a raw handshake
 * message, 2 the stream fed in two segments cut at the second byte's
 * position, 3 a QUIC datagram. Every hello that parses is fingerprinted
 * and checked for the invariants the output layer relies on.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hello(const struct tls_hello *h, int quic)
{
	char ja3[TLS_JA3_HEX], ja4[TLS_JA4_TEXT], text[TLS_JA3_TEXT];

	assert(strlen(h->sni) == h->sni_len);
	assert(strlen(h->alpn) < TLS_ALPN_TEXT);
	assert(tls_ja3_string(h, text, sizeof(text)) >= 0);
	assert(tls_ja3_hash(h, ja3) == 32);
	assert(tls_ja4(h, quic, ja4) == 36);
	assert(ja4[10] == '_' && ja4[23] == '_');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_stream st;
	static struct tls_quic_flow qf;
	static struct tls_quic *q;
	struct tls_hello h;
	int rc, err;

	if (size < 2)
		return 0;
	if (q == NULL) {
		tls_init();
		q = tls_quic_new(&err);
		assert(q != NULL);
	}
	uint8_t mode = data[0] & 3;
	size_t cut = data[1];
	data += 2;
	size -= 2;
	switch (mode) {
	case 0:
		rc = tls_parse_records(data, size, &h);
		break;
	case 1:
		rc = tls_parse_hello(data, size, &h);
		break;
	case 2:
		if (cut > size)
			cut = size;
		tls_stream_init(&st);
		rc = tls_stream_feed(&st, data, cut, &h);
		if (rc == SW_EINCOMPLETE)
			rc = tls_stream_feed(&st, data + cut, size - cut, &h);
		break;
	default:
		tls_quic_flow_init(&qf);
		rc = tls_quic_feed(q, &qf, data, size, &h);
		break;
	}
	assert(rc == 0 || rc == SW_EINCOMPLETE || rc == SW_EMALFORMED ||
	       rc == SW_ETOOLONG || rc == SW_EUNSUPP);
	if (rc == SW_EMALFORMED || rc == SW_ETOOLONG)
		assert(h.reason != TLS_R_NONE || mode == 2 || mode == 3);
	if (rc == 0)
		check_hello(&h, mode == 3);
	return 0;
}
