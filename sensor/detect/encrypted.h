/* encrypted.h — encrypted DNS (DoT, DoH, DoQ, DDR) per flow and per device:
 * the detect module behind DETECTIONS.md "Encrypted DNS" (encryption.none,
 * encryption.unsanctioned) and scorecard line 2.
 *
 * RFC 7858 (DoT), RFC 8484 (DoH), RFC 9250 (DoQ), RFC 9462 (DDR),
 * RFC 9463 (DNR), RFC 8310 (usage profiles).
 */
#ifndef SW_DETECT_ENCRYPTED_H
#define SW_DETECT_ENCRYPTED_H

#include <stdint.h>

#include "detect/engine_int.h"

/* The module (modules.c lists it). */
extern const struct eng_module mod_encrypted;

/* 1 when a packet of transport l4 (IPPROTO_TCP/UDP) between these ports may
 * belong to a flow the module classifies: TCP 443/853, UDP 443/853/784/8853
 * on either side. The packet hook's first test; exposed for the tests. */
int enc_ports_of_interest(uint8_t l4, uint16_t sport, uint16_t dport);

/* Writes an IPv4 or IPv6 header and a TCP or UDP header for p, then its
 * payload, into out (cap bytes): the packet as nDPI reads it, since the
 * decoder hands on addresses and ports rather than the header bytes.
 * Returns the length, or 0 when p is neither TCP nor UDP. The payload is
 * cut so the whole stays within 65535 bytes and cap. */
size_t enc_build_ip(const struct pkt *p, uint8_t *out, size_t cap);

#endif
