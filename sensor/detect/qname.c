/* qname.c — what a query name looks like, as exfil.suspect-names and
 * policy.new-domain judge it: local by its form (RFC 6761, RFC 6762,
 * RFC 8375), its registered domain, the Shannon entropy and length of its
 * labels (RFC 1035 §2.3.4).
 */
#include "detect/qname.h"

#include <math.h>
#include <string.h>

#include "common/table.h"

struct word {
	const char *s;
	size_t n;
};
#define W(x) { x, sizeof(x) - 1 }

/* Top labels that are local by definition or by wide custom. */
static const struct word local_suffixes[] = {
	W("local"), W("lan"), W("home"), W("arpa"), W("internal"), W("intranet"), W("corp"),
	W("private"), W("localdomain"), W("localhost"), W("test"), W("invalid"), W("example"),
	W("domain"), W("box"),
};

int integ_local_name(const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	if (dot == NULL)
		return 1;                 /* single label: a search-list name */
	size_t i = len;
	while (i > 0 && name[i - 1] != '.')
		i--;
	const char *tld = name + i;
	size_t tlen = len - i;
	for (size_t k = 0; k < sizeof(local_suffixes) / sizeof(local_suffixes[0]); k++)
		if (local_suffixes[k].n == tlen && memcmp(tld, local_suffixes[k].s, tlen) == 0)
			return 1;
	return 0;
}

static const struct word common_sld[] = {
	W("co"), W("com"), W("net"), W("org"), W("ac"), W("gov"), W("edu"), W("or"), W("ne"),
	W("go"), W("gob"), W("mil"), W("nic"), W("ltd"), W("plc"), W("sch"), W("nom"), W("gv"),
};

long integ_registered_domain(const char *name, size_t len)
{
	/* Offsets just past the last three dots. */
	long dots[3] = { -1, -1, -1 };
	int nd = 0;
	for (size_t i = len; i > 0 && nd < 3; i--)
		if (name[i - 1] == '.')
			dots[nd++] = (long)i;
	if (nd == 0)
		return -1;
	/* The second-to-last label: from dots[1] (or 0) to dots[0] - 1. */
	long s = nd >= 2 ? dots[1] : 0;
	size_t sl = (size_t)(dots[0] - 1 - s);
	int common = 0;
	for (size_t k = 0; k < sizeof(common_sld) / sizeof(common_sld[0]); k++)
		if (common_sld[k].n == sl && memcmp(name + s, common_sld[k].s, sl) == 0)
			common = 1;
	if (!common)
		return s;
	if (nd < 2)
		return -1;                /* "co.uk" alone */
	return nd >= 3 ? dots[2] : 0;
}

void integ_nlogn_init(struct integ_nlogn *t)
{
	t->v[0] = 0;
	for (unsigned i = 1; i <= NLOGN_MAX; i++)
		t->v[i] = (double)i * log2((double)i);
}

double integ_entropy(const struct integ_nlogn *t, const char *s, size_t n)
{
	/* H = log2(N) - (1/N) Σ c·log2(c) over the symbol counts c. */
	const double *nlogn = t->v;
	uint16_t count[256];
	memset(count, 0, sizeof(count));
	size_t total = 0;
	for (size_t i = 0; i < n && total < NLOGN_MAX; i++) {
		if (s[i] == '.')
			continue;
		count[(uint8_t)s[i]]++;
		total++;
	}
	if (total == 0)
		return 0;
	double sum = 0;
	for (size_t i = 0, seen = 0; i < n && seen < total; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '.' || count[c] == 0)
			continue;
		sum += nlogn[count[c]];
		seen += count[c];
		count[c] = 0;
	}
	return (nlogn[total] - sum) / (double)total;
}

size_t integ_longest_label(const char *s, size_t n)
{
	size_t best = 0, cur = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			cur = 0;
			continue;
		}
		/* A \DDD escape is one octet on the wire (dns.h presentation form). */
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
			i += 3;
		if (++cur > best)
			best = cur;
	}
	return best;
}

void integ_name_judge(const struct integ_nlogn *t, const char *name, size_t len,
		      struct integ_name *ni)
{
	ni->entropy = 0;
	ni->dom_hash = ni->below_hash = 0;
	ni->reg = 0;
	ni->longest = 0;
	ni->skip = 1;
	if (len == 0 || integ_local_name(name, len))
		return;
	long reg = integ_registered_domain(name, len);
	if (reg < 0)
		return;
	size_t below = reg > 0 ? (size_t)reg - 1 : 0;   /* the labels left of it, no dot */
	ni->skip = 0;
	ni->reg = (uint16_t)reg;
	/* One hash of the registered domain serves exfil's zone and the
	 * domain set. */
	ni->dom_hash = (uint32_t)sw_hash_words(name + reg, len - (size_t)reg, 7);
	if (below > 0) {
		ni->below_hash = (uint32_t)sw_hash_words(name, below, 11);
		ni->longest = (uint8_t)integ_longest_label(name, below);
		ni->entropy = integ_entropy(t, name, below);
	}
	/* The registered domain's own first label is judged too: a DGA
	 * registers its random names (<random>.com), with nothing below
	 * them. It does not count towards the zone's unique subdomains: it
	 * is the zone. Its length and entropy are taken with those of the
	 * labels below, whichever is larger. */
	const char *dom = name + reg;
	const char *dot = memchr(dom, '.', len - (size_t)reg);
	size_t dlen = dot != NULL ? (size_t)(dot - dom) : len - (size_t)reg;
	size_t dlong = integ_longest_label(dom, dlen);
	if (dlong > ni->longest)
		ni->longest = (uint8_t)(dlong < UINT8_MAX ? dlong : UINT8_MAX);
	double dent = integ_entropy(t, dom, dlen);
	if (dent > ni->entropy)
		ni->entropy = dent;
	/* No length gate on the entropy: n characters carry at most
	 * log2(n) bits each, so a gate of 16 characters (what there was) is
	 * right only for entropy_bits 4 and misses higher-entropy short
	 * labels under a lower setting. A name is judged once (the cache of
	 * judged names), so measuring short texts too costs little. */
}

