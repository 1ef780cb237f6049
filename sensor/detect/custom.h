/* custom.h — operator rules (rules/custom.json): rules the operator writes
 * over the fields of DNS transactions, with an optional threshold per
 * device, alerting under the rule's own id, message, severity and
 * references.
 *
 * A rule's `match` keys are all optional and all must hold: the question
 * name (exactly, or at or below a suffix; or not below any of a list),
 * qtype, rcode, resolver address or prefix, transport (udp, tcp, dot, doh,
 * doq), device MAC, OUI and VLAN. Rules with an rcode are judged on the
 * answer of a query; the others on the query itself (the first
 * transmission, not its retransmissions); a rule with neither a name, a
 * qtype nor an rcode also on each encrypted-DNS flow (DoT, DoH, DoQ),
 * whose questions are not visible.
 *
 * The rules loader (rules.c) parses and checks the file into a struct
 * cust_rule array; cust_build() then indexes the enabled rules, one index
 * for queries and one for answers (rules with an rcode), so a transaction
 * costs one walk over its name and a hash probe per label rather than a
 * look at every rule: a hash of each name suffix ("a.b.c", "b.c", "c") is
 * computed in one pass from the right, and each is looked up in an
 * open-addressing table of the rules' names. Rules without a name but
 * with a MAC or OUI (a camera outside its vendor's zones) are found by the
 * device's OUI; the others are a residual list that every transaction
 * walks, expected to be short. The set is immutable once built, like the
 * rest of struct rules.
 *
 * The module (mod_custom, always on) keeps per device and rule a match
 * count in a fixed window and the time of the last alert, in a bounded
 * table (devices.max entries, LRU, evictions counted); a reload starts it
 * afresh, since rule indexes change.
 */
#ifndef SW_DETECT_CUSTOM_H
#define SW_DETECT_CUSTOM_H

#include <stddef.h>
#include <stdint.h>

#include "detect/rules.h"
#include "state/state.h"

/* Transports, as a set of bits. */
#define CUST_T_UDP 0x01u
#define CUST_T_TCP 0x02u
#define CUST_T_DOT 0x04u
#define CUST_T_DOH 0x08u
#define CUST_T_DOQ 0x10u
#define CUST_T_ALL 0x1fu
#define CUST_T_ENCRYPTED (CUST_T_DOT | CUST_T_DOH | CUST_T_DOQ)

/* The match keys a rule gives (cust_rule.keys). */
#define CUST_K_QNAME 0x001u
#define CUST_K_SUFFIX 0x002u
#define CUST_K_NOT_SUFFIX 0x004u
#define CUST_K_QTYPE 0x008u
#define CUST_K_RCODE 0x010u
#define CUST_K_RESOLVER 0x020u
#define CUST_K_TRANSPORT 0x040u
#define CUST_K_MAC 0x080u
#define CUST_K_OUI 0x100u
#define CUST_K_VLAN 0x200u
/* Keys only a visible question can satisfy. */
#define CUST_K_QUESTION (CUST_K_QNAME | CUST_K_SUFFIX | CUST_K_NOT_SUFFIX | CUST_K_QTYPE | \
			 CUST_K_RCODE)

/* A resolver address or prefix, in the 16-byte form (IPv4 mapped; an IPv4
 * /n is /96+n); net and mask are the same as two words each, as memcpy
 * loads them, for a test of two ANDs (cust_prefix_set fills them). */
struct cust_prefix {
	uint8_t ip[16];
	uint8_t bits;
	uint64_t net[2], mask[2];
};

/* Sets p->bits and the words from p->ip. */
void cust_prefix_set(struct cust_prefix *p, unsigned bits);

/* The most rules a file holds: the index's 32-bit references would allow
 * more, but 10,000 already means a generated file whose residual rules
 * (those without names) would cost every query. */
#define CUST_RULES_MAX 10000
/* The most values one match key lists. */
#define CUST_LIST_MAX 1024

/* One rule. Strings and arrays belong to the struct rules. */
struct cust_rule {
	/* What alerts carry: id_text (the rule's id), name, category
	 * "custom", refs, severity, rate_limit_s, and the rendered json. */
	struct det_rule det;
	const char *message;          /* the alert's message, Latin-1 (alert.c writes it so) */
	uint32_t keys;                /* CUST_K_* given */
	uint8_t enabled;
	uint8_t transports;           /* CUST_T_*; CUST_T_ALL when not given */
	uint16_t qtype;
	uint16_t rcode;
	uint16_t vlan;
	const char *const *qnames;    /* lower case, no trailing dot */
	uint32_t nqnames;
	const char *const *suffixes;
	uint32_t nsuffixes;
	const char *const *not_suffixes;
	uint32_t nnot_suffixes;
	const struct cust_prefix *resolvers;
	uint32_t nresolvers;
	const uint8_t (*macs)[6];
	uint32_t nmacs;
	const uint8_t (*ouis)[3];
	uint32_t nouis;
	uint32_t count;               /* threshold: matches within `seconds`; 0 = none */
	uint32_t seconds;
};

/* A name of the index: the rules that name it exactly and as a suffix. */
struct cust_slot {
	uint64_t hash;                /* 0: empty slot */
	const char *name;
	uint32_t len;
	uint32_t exact, nexact;       /* ranges of cust_index.refs */
	uint32_t sub, nsub;
};

/* An OUI of the index: the rules without a name that list it (or a MAC
 * under it). */
struct cust_oui {
	uint32_t key;                 /* the OUI + 1; 0: empty slot */
	uint32_t first, n;            /* a range of cust_index.refs */
};

/* The enabled rules of one phase, indexed: by name; those without a name
 * by the OUIs they list; the rest (the residual list) walked by every
 * transaction. Open addressing, at most half full. */
struct cust_index {
	uint32_t nrules;
	struct cust_slot *slots;
	uint32_t mask;
	uint32_t nnames;
	struct cust_oui *ouis;
	uint32_t omask;
	uint32_t *refs;               /* rule indexes the slots point into */
	uint32_t *residual;
	uint32_t nresidual;
};

/* The loaded file, indexed: queries meet the rules without an rcode,
 * answers the rules with one, so neither walks the other's. */
struct cust_set {
	const struct cust_rule *rules;
	uint32_t n;
	uint32_t nenabled;
	uint32_t nresidual;           /* both phases' */
	uint32_t rcodes;              /* bit per rcode the answer rules ask for (31: 31 and up) */
	struct cust_index query;
	struct cust_index answer;
};

/* Indexes rules[0..n) (owned by the caller, who keeps them while the set
 * lives). No rule may list a name twice, or one at or below one of its own
 * suffixes (the loader drops those), so that no query meets a rule twice.
 * NULL when out of memory. Free with cust_free(). */
struct cust_set *cust_build(const struct cust_rule *rules, uint32_t n);
void cust_free(struct cust_set *s);

/* One DNS transaction (or encrypted flow) as the rules see it. */
struct cust_txn {
	const char *qname;            /* lower case, no trailing dot; NULL: no question */
	size_t qlen;
	uint16_t qtype;
	int32_t rcode;                /* -1: a query, not yet answered */
	const uint8_t *resolver;      /* 16 bytes */
	uint8_t transport;            /* one CUST_T_* bit */
	const struct dev_key *dev;
};

/* What matched: the rule, and the name of the index that led to it (NULL
 * for a residual rule). */
typedef void (*cust_hit_fn)(void *arg, uint32_t rule, const char *via);

/* Calls fn for every enabled rule of s whose keys all hold for t, in rule
 * order within each name and the residual list after the names; returns
 * how many. */
unsigned cust_match(const struct cust_set *s, const struct cust_txn *t, cust_hit_fn fn,
		    void *arg);

/* 1 when every key of r holds for t (the index has already placed t's
 * name or not; this checks the rest, and the name too). */
int cust_rule_holds(const struct cust_rule *r, const struct cust_txn *t);

/* The transport word of a CUST_T_* bit ("udp" …); "?" for others. */
const char *cust_transport_name(unsigned t);

/* A device's count of one rule's matches (zeroed when new). */
struct cust_counter {
	uint32_t win_start_s;         /* packet time the window opened, seconds */
	uint32_t n;                   /* matches in the window */
	uint32_t last_fired_s;        /* packet time of the last alert */
	uint8_t fired;
};

/* One more match of r at packet time now (seconds): CUST_FIRE when the
 * alert should go out (with *matches: the count that reached the
 * threshold, 1 without one), CUST_BELOW while the window holds fewer than
 * threshold.count matches, CUST_LIMITED when the rule's rate_limit_s since
 * the last alert has not passed. A window spans threshold.seconds from its
 * first match; reaching the count (alerting or not) starts the next. */
enum { CUST_FIRE = 0, CUST_BELOW = 1, CUST_LIMITED = 2 };
int cust_count(struct cust_counter *v, const struct cust_rule *r, uint32_t now,
	       uint32_t *matches);

/* The detect module (modules.c); always on, whatever detect.modules says:
 * an operator's rules are not a family to leave out. */
struct eng_module;
extern const struct eng_module mod_custom;

struct engine;
struct dctx;
struct pkt;
/* An encrypted-DNS flow of kind CUST_T_DOT/DOH/DOQ was classified; cp is
 * its client's packet (source: the device). Called by encrypted.c. */
void cust_encrypted_flow(struct engine *e, struct dctx *c, const struct pkt *cp,
			 unsigned transport);

#endif
