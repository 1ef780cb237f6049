/* integrity.h — integrity of DNS responses, amplification, exfiltration by
 * query names and new domains: the detect module `mod_integrity`.
 *
 * DETECTIONS.md "Integrity of responses" (response.race, .txid-mismatch,
 * .unsolicited, .bogon-answer, .duplicate-rr, .reply-flood: RFC 5452 §9.1,
 * RFC 5358, RFC 6890, RFC 2181 §5) and from "Amplification, exposure and
 * policy": amplification.device-serves-dns, amplification.ratio (RFC 5358,
 * RFC 8482), exfil.suspect-names and policy.new-domain.
 *
 * The pure helpers below are what the detections judge names and addresses
 * with; they are exported for the unit tests.
 */
#ifndef SW_DETECT_INTEGRITY_H
#define SW_DETECT_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

struct dns_msg;
struct eng_module;
extern const struct eng_module mod_integrity;

/* The special-purpose range (RFC 6890) an address falls in, as text
 * ("127.0.0.0/8", "2001:db8::/32", …), or NULL for an ordinary address.
 * `v6` says whether the 16 bytes came from an AAAA (an IPv4-mapped AAAA is
 * itself special) or hold an IPv4 address IPv4-mapped (an A record).
 * *priv is set to 1 for RFC 1918 and ULA ranges, which internal zones may
 * legitimately answer with, else 0. */
const char *integ_special_range(const uint8_t ip[16], int v6, int *priv);

/* 1 when a name is local by its form: a single label, or under .local,
 * .lan, .home, .internal, .localdomain, .localhost, .arpa (home.arpa,
 * in-addr.arpa, ip6.arpa), .test, .invalid … (RFC 6761, RFC 6762, RFC 8375). */
int integ_local_name(const char *name, size_t len);

/* The registered domain of a lower-case name, approximated as its last two
 * labels, or three when the second-to-last is a common second-level label
 * (co, com, net, org, ac, gov, edu …): returns the offset where it starts
 * in name, or -1 when the name has fewer labels than that. */
long integ_registered_domain(const char *name, size_t len);

/* Shannon entropy in bits per character of s[0..n) with the dots left out. */
double integ_entropy(const char *s, size_t n);

/* The length of the longest label of s[0..n). */
size_t integ_longest_label(const char *s, size_t n);

/* The first i < 8 with ports[i] == port, or 8: the query ports a device
 * used last (response.txid-mismatch). */
unsigned integ_port_find(const uint16_t ports[8], uint16_t port);

/* What the query hook judges a name by, derived from the name alone. */
struct integ_name {
	uint64_t tag;         /* keyed hash of the name; 0: an empty slot */
	double entropy;       /* integ_entropy() of the labels below the registered
	                       * domain or of its own first label, the larger */
	uint32_t dom_hash;    /* hash of the registered domain */
	uint32_t below_hash;  /* hash of the labels below it (0 when none) */
	uint16_t reg;         /* integ_registered_domain() */
	uint8_t skip;         /* 1: a local name, or no registered domain: not judged */
	uint8_t longest;      /* integ_longest_label() of the labels below it and of
	                       * its own first label, the larger */
};

/* Judges name[0..len) (lower case) into *ni; leaves ni->tag as it is. */
void integ_name_judge(const char *name, size_t len, struct integ_name *ni);

/* The judged name from a direct-mapped cache of nslots entries (a power of
 * two, zeroed at first) indexed by `hash` (the engine's name hash; any
 * hash of the name will do): the slot when it holds this name, which its
 * tag (a hash of the name keyed by `seed`) tells, else the slot judged
 * anew, displacing what it held, with *miss = 1. The entry lives in the
 * cache: it is valid until the next lookup. */
const struct integ_name *integ_name_lookup(struct integ_name *slots, uint32_t nslots,
					   uint64_t seed, uint32_t hash, const char *name,
					   size_t len, int *miss);

/* 1 when the names at offsets a and b of message m surely differ: a label
 * differs (ASCII case folded, RFC 4343) before either name ends, reading
 * both by dns_name_at()'s rules without writing text. 0 when they may be
 * equal (or either cannot be read): only comparing their texts decides. */
int integ_names_differ(const struct dns_msg *m, size_t a, size_t b);

/* response.race's answer fingerprint and comparison as the packet path
 * computes them, for the unit tests: the fingerprint of m's answer under
 * `key`, and 1 when the answers of x and y are different ones under `key`
 * (their answer RR counts or fingerprints differ). */
struct dns_msg;
uint32_t integ_answer_fp(const struct dns_msg *m, uint64_t key);
int integ_answers_differ(const struct dns_msg *x, const struct dns_msg *y, uint64_t key);

#endif
