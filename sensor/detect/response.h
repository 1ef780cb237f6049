/* response.h — what response.c (the integrity module's response.*
 * detections) exports for the unit tests: the answer fingerprint and
 * comparison of response.race, and the query-port lookup of
 * response.txid-mismatch, as the packet path computes them.
 */
#ifndef SW_DETECT_RESPONSE_H
#define SW_DETECT_RESPONSE_H

#include <stdint.h>

struct dns_msg;

/* The first i < 8 with ports[i] == port, or 8: the query ports a device
 * used last (response.txid-mismatch). */
unsigned integ_port_find(const uint16_t ports[8], uint16_t port);

/* response.race's answer fingerprint and comparison: the fingerprint of
 * m's answer under `key`, and 1 when the answers of x and y are different
 * ones under `key` (their answer RR counts or fingerprints differ). */
uint32_t integ_answer_fp(const struct dns_msg *m, uint64_t key);
int integ_answers_differ(const struct dns_msg *x, const struct dns_msg *y, uint64_t key);

#endif
