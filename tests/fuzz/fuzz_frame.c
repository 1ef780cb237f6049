/* fuzz_frame.c — libFuzzer target for the decode layer: several frames from
 * one input through one decoder, so reassembly, eviction and expiry run.
 *
 * Input: byte 0 picks the link type (index into `links`, modulo its size;
 * the last entry is unsupported on purpose). Then up to FUZZ_FRAMES records
 * of [len_hi len_lo] + len bytes (a short record takes what is left). Each
 * frame is copied into an exactly-sized heap buffer so ASan catches any
 * read past caplen. Time advances 0.25 s per frame against a 1 s fragment
 * timeout, and the table holds 4 datagrams, so timeouts and evictions are
 * reachable from small inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough frames for a three-fragment datagram next to another one and an
 * eviction, few enough to keep every input fast. */
#define FUZZ_FRAMES 16

static const int links[] = {
	DEC_LINK_ETHERNET, DEC_LINK_SLL, DEC_LINK_SLL2, DEC_LINK_NULL,
	DEC_LINK_LOOP, DEC_LINK_RAW, DEC_LINK_RAW_LT, DEC_LINK_IPV4,
	DEC_LINK_IPV6, 147,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct dec_conf conf = {
		.frag_max = 4,
		.frag_max_bytes = 65535 + 40,
		.frag_timeout_us = 1000000,
	};
	struct dec_ctx *d = dec_new(&conf);
	if (d == NULL)
		return 0;
	int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	size_t off = 1;
	uint64_t ts = 1000000;
	for (int i = 0; i < FUZZ_FRAMES && off < size; i++) {
		size_t len = 0;
		if (size - off >= 2) {
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
		} else {
			off = size;
		}
		if (len > size - off)
			len = size - off;
		uint8_t *frame = malloc(len ? len : 1);
		if (frame == NULL)
			break;
		memcpy(frame, data + off, len);
		off += len;
		struct pkt p;
		int k = dec_frame(d, link, frame, (uint32_t)len,
				  (uint32_t)len + (i & 1), ts, &p);
		/* Touch every byte handed on: ASan flags a payload that points
		 * outside the frame or the reassembly buffer. */
		if (k == PKT_IP && p.payload_len > 0) {
			volatile uint8_t sink = 0;
			for (uint32_t j = 0; j < p.payload_len; j++)
				sink ^= p.payload[j];
			(void)sink;
		}
		free(frame);
		ts += 250000;
		dec_expire(d, ts);
	}
	const uint64_t *a = dec_anomalies(d);
	for (int i = 0; i < DEC_A_MAX; i++)
		if (a[i] > 1000)
			abort(); /* more anomalies than frames: a counting bug */
	dec_free(d);
	return 0;
}
