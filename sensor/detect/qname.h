/* qname.h — what a query name looks like, derived from the name alone:
 * local by its form, registered domain, label lengths and entropy (the
 * integrity module's exfil.suspect-names and policy.new-domain, exfil.c),
 * and a direct-mapped cache of judged names so that the names a device
 * asks again and again are judged once.
 *
 * RFC 6761, RFC 6762, RFC 8375 (local names), RFC 1035 §2.3.4 (labels).
 * Pure functions over their arguments; no static data.
 */
#ifndef SW_DETECT_QNAME_H
#define SW_DETECT_QNAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/table.h"

/* 1 when a name is local by its form: a single label, or under .local,
 * .lan, .home, .internal, .localdomain, .localhost, .arpa (home.arpa,
 * in-addr.arpa, ip6.arpa), .test, .invalid … (RFC 6761, RFC 6762, RFC 8375). */
int integ_local_name(const char *name, size_t len);

/* The registered domain of a lower-case name, approximated as its last two
 * labels, or three when the second-to-last is a common second-level label
 * (co, com, net, org, ac, gov, edu …): returns the offset where it starts
 * in name, or -1 when the name has fewer labels than that. */
long integ_registered_domain(const char *name, size_t len);

/* n·log2(n) for the counts of one name's characters (a name is at most
 * 255 octets, 1,023 characters as text): built once by integ_nlogn_init()
 * into the caller's state (8 KiB), read only after. */
#define NLOGN_MAX 1024
struct integ_nlogn {
	double v[NLOGN_MAX + 1];
};
void integ_nlogn_init(struct integ_nlogn *t);

/* Shannon entropy in bits per character of s[0..n) with the dots left
 * out, by the table t (integ_nlogn_init()). */
double integ_entropy(const struct integ_nlogn *t, const char *s, size_t n);

/* The length of the longest label of s[0..n). */
size_t integ_longest_label(const char *s, size_t n);

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

/* Judges name[0..len) (lower case) into *ni by the table t; leaves ni->tag
 * as it is. */
void integ_name_judge(const struct integ_nlogn *t, const char *name, size_t len,
		      struct integ_name *ni);

/* The judged name from a direct-mapped cache of nslots entries (a power of
 * two, zeroed at first) indexed by `hash` (the engine's name hash; any
 * hash of the name will do): the slot when it holds this name, which its
 * tag (a hash of the name keyed by `seed`, drawn at start: one in 2^64
 * that two names share it, and a collision found offline does not carry
 * over) tells, else the slot judged anew, displacing what it held, with
 * *miss = 1. The entry lives in the cache: it is valid until the next
 * lookup. Inline: the query hook looks up every new query's name. */
static inline const struct integ_name *integ_name_lookup(const struct integ_nlogn *t,
							 struct integ_name *slots,
							 uint32_t nslots, uint64_t seed,
							 uint32_t hash, const char *name,
							 size_t len, int *miss)
{
	struct integ_name *ni = &slots[hash & (nslots - 1)];
	uint64_t tag = sw_hash_words(name, len, seed) | 1u;
	*miss = ni->tag != tag;
	if (*miss) {
		integ_name_judge(t, name, len, ni);
		ni->tag = tag;
	}
	return ni;
}

#endif
