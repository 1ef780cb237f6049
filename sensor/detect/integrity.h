/* integrity.h — integrity of DNS responses, amplification, exfiltration by
 * query names and new domains: the detect module `mod_integrity`.
 *
 * DETECTIONS.md "Integrity of responses" (response.race, .txid-mismatch,
 * .unsolicited, .bogon-answer, .duplicate-rr, .reply-flood: RFC 5452 §9.1,
 * RFC 5358, RFC 6890, RFC 2181 §5) and from "Amplification, exposure and
 * policy": amplification.device-serves-dns, amplification.ratio (RFC 5358,
 * RFC 8482), exfil.suspect-names and policy.new-domain. The module is
 * integrity.c with response.c, amplification.c and exfil.c; what the
 * detections judge names and addresses with is in qname.h and bogon.h,
 * the answer comparison the unit tests hold in response.h.
 */
#ifndef SW_DETECT_INTEGRITY_H
#define SW_DETECT_INTEGRITY_H

struct eng_module;
extern const struct eng_module mod_integrity;

#endif
