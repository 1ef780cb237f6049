/* rules.h — the rules folder: detection settings and resolver lists.
 *
 * rules/detections.json holds one object per detection of DETECTIONS.md
 * (id, name, category, enabled, severity, posture, params, reference,
 * rate_limit_s); rules/resolvers.json the well-known public resolvers with
 * their DoH/DoT names, this network's sanctioned resolvers and encrypted
 * endpoints, and its internal zones; rules/custom.json, when present, the
 * operator's own rules (detect/custom.h). All are parsed with jansson and
 * checked field by field; every error names the file, line and column.
 *
 * A loaded `struct rules` is immutable: nothing writes to it after
 * rules_load() returns, so a SIGHUP reload builds a new one, the caller
 * swaps the pointer between packets and frees the old one. Parameters are
 * resolved into a fixed array at load time (r->p[DP_...]), and the address
 * and name lists are sorted arrays searched by bisection, so nothing on the
 * packet path parses, hashes strings or allocates.
 */
#ifndef SW_DETECT_RULES_H
#define SW_DETECT_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Every detection of DETECTIONS.md, in its order: enum tail, id text. */
#define DET_LIST(X) \
	X(RESOLVER_HARDCODED, "resolver.hardcoded") \
	X(RESOLVER_ROGUE_DHCP, "resolver.rogue-dhcp") \
	X(ENCRYPTION_NONE, "encryption.none") \
	X(ENCRYPTION_UNSANCTIONED, "encryption.unsanctioned") \
	X(STUB_PORT_PREDICTABLE, "stub.port-predictable") \
	X(STUB_TXID_PREDICTABLE, "stub.txid-predictable") \
	X(RESPONSE_RACE, "response.race") \
	X(RESPONSE_TXID_MISMATCH, "response.txid-mismatch") \
	X(RESPONSE_UNSOLICITED, "response.unsolicited") \
	X(RESPONSE_BOGON_ANSWER, "response.bogon-answer") \
	X(RESPONSE_DUPLICATE_RR, "response.duplicate-rr") \
	X(RESPONSE_REPLY_FLOOD, "response.reply-flood") \
	X(CACHE_REQUERY_WITHIN_TTL, "cache.requery-within-ttl") \
	X(CACHE_STALE_USE, "cache.stale-use") \
	X(CACHE_NEGATIVE_IGNORED, "cache.negative-ignored") \
	X(RATE_BURST, "rate.burst") \
	X(RATE_RETRY_STORM, "rate.retry-storm") \
	X(NETWORK_RESOLVER_OUTAGE, "network.resolver-outage") \
	X(EDNS_MISSING, "edns.missing") \
	X(EDNS_BUFFER_SIZE, "edns.buffer-size") \
	X(TRANSPORT_NO_TCP_FALLBACK, "transport.no-tcp-fallback") \
	X(TRANSPORT_FRAGMENTED_RESPONSE, "transport.fragmented-response") \
	X(IPV6_NO_AAAA, "ipv6.no-aaaa") \
	X(IPV6_NO_V6_TRANSPORT, "ipv6.no-v6-transport") \
	X(DNSSEC_UNAWARE, "dnssec.unaware") \
	X(AMPLIFICATION_DEVICE_SERVES_DNS, "amplification.device-serves-dns") \
	X(AMPLIFICATION_RATIO, "amplification.ratio") \
	X(POLICY_MUD_VIOLATION, "policy.mud-violation") \
	X(POLICY_NEW_DOMAIN, "policy.new-domain") \
	X(EXFIL_SUSPECT_NAMES, "exfil.suspect-names")

#define DET_ENUM_(e, s) DET_##e,
enum det_id { DET_LIST(DET_ENUM_) DET_MAX };
#undef DET_ENUM_

/* The id text ("stub.port-predictable"); "?" for a bad value. */
const char *det_id_name(enum det_id id);
/* The enum of an id text; -1 when no detection has it. */
int det_id_from_name(const char *name);

/* Every parameter name any detection takes: enum tail, JSON name. Which
 * detection takes which (and their ranges) is the loader's table; a name
 * means the same thing wherever it appears. Units: _s seconds, _qps queries
 * per second, _bytes bytes; share/alpha are fractions. */
#define DP_LIST(X) \
	X(MIN_QUERIES, "min_queries") \
	X(RING, "ring") \
	X(SIGMA_EXCELLENT, "sigma_excellent") \
	X(SIGMA_GOOD, "sigma_good") \
	X(CONSTANT_AFTER, "constant_after") \
	X(WINDOW_S, "window_s") \
	X(MIN_RESPONSES, "min_responses") \
	X(ESCALATE_RESPONSES, "escalate_responses") \
	X(ESCALATE_BYTES, "escalate_bytes") \
	X(MAX_RESPONSES, "max_responses") \
	X(ALPHA, "alpha") \
	X(MIN_TTL_S, "min_ttl_s") \
	X(MIN_SAMPLES, "min_samples") \
	X(SHARE, "share") \
	X(GRACE_S, "grace_s") \
	X(MIN_OCCURRENCES, "min_occurrences") \
	X(MIN_REPEATS, "min_repeats") \
	X(K, "k") \
	X(FLOOR_QPS, "floor_qps") \
	X(SAME_NAME_MAX, "same_name_max") \
	X(TIMEOUT_S, "timeout_s") \
	X(PER_NAME_QPS, "per_name_qps") \
	X(MIN_DURATION_S, "min_duration_s") \
	X(MIN_DEVICES, "min_devices") \
	X(MIN_SHARE, "min_share") \
	X(MAX_SIZE, "max_size") \
	X(MIN_SIZE, "min_size") \
	X(RETRY_WINDOW_S, "retry_window_s") \
	X(MIN_TC_EVENTS, "min_tc_events") \
	X(RATIO, "ratio") \
	X(MIN_BYTES, "min_bytes") \
	X(LEARNING_S, "learning_s") \
	X(MAX_LABEL_LEN, "max_label_len") \
	X(ENTROPY_BITS, "entropy_bits") \
	X(MIN_NAMES, "min_names") \
	X(MIN_SUBDOMAINS, "min_subdomains")

#define DP_ENUM_(e, s) DP_##e,
enum det_param { DP_LIST(DP_ENUM_) DP_MAX };
#undef DP_ENUM_

/* The longest response.race window_s the loader accepts: the
 * integrity module keeps an answer's time in its answered-query entry
 * as 23 bits of microseconds (8.4 s). */
#define RULES_RACE_WINDOW_MAX_S 8

/* The JSON name of a parameter; "?" for a bad value. */
const char *det_param_name(enum det_param p);

/* ECS event.severity. */
enum det_severity { SEV_INFO = 1, SEV_LOW = 2, SEV_MEDIUM = 3, SEV_HIGH = 4 };

/* The word of a severity ("info" … "high"); "?" for a bad value. */
const char *det_severity_name(int sev);

/* One detection's settings. Strings belong to the struct rules. */
struct det_rule {
	enum det_id id;
	const char *id_text;        /* det_id_name(id) */
	const char *name;           /* rule.name: a short human title */
	const char *category;       /* rule.category: resolver, spoofing, … */
	const char *description;    /* what fires it; NULL when the file has none */
	const char *escalation;     /* when severity_escalated applies; or NULL */
	const char *const *refs;    /* rule.reference */
	uint8_t nrefs;
	uint8_t enabled;
	uint8_t posture;            /* a scorecard finding: alerts once per verdict change */
	uint8_t severity;           /* enum det_severity */
	uint8_t severity_escalated; /* enum det_severity, or 0 when it never escalates */
	uint32_t rate_limit_s;      /* least time between two alerts per device; 0 = none */
	uint64_t params;            /* bit (1 << DP_x) for each parameter this detection takes */
	double p[DP_MAX];           /* parameter values; 0 for those it does not take */
	/* The alert's "rule" object (id, name, category, references) as JSON,
	 * rendered once at load (alert_rule_json) rather than per alert;
	 * NULL for a rule built by hand, which alerts then write live. */
	const char *json;
	size_t json_len;
};

/* A public resolver operator of resolvers.json. */
struct rules_operator {
	const char *name;
	const char *const *doh_templates;
	size_t ndoh_templates;
};

/* A name list entry: lower case, no trailing dot. EXACT matches the name
 * itself, SUB any name below it ("*.dns.nextdns.io" is SUB of
 * dns.nextdns.io; an internal zone is both). */
#define RULES_NAME_EXACT 1u
#define RULES_NAME_SUB 2u
struct rules_name {
	const char *name;
	uint16_t op;    /* operator index, for DoH/DoT names */
	uint8_t flags;  /* RULES_NAME_* */
};

struct rules_addr {
	uint8_t ip[16]; /* IPv4 as IPv4-mapped */
	uint16_t op;    /* operator index, for public resolvers */
};

/* The loaded folder. Read-only after rules_load(); share it between
 * threads freely. */
struct cust_set;
struct rules {
	struct det_rule det[DET_MAX];        /* indexed by enum det_id */
	const struct rules_operator *ops;
	size_t nops;
	const struct rules_addr *pub;        /* public resolver addresses, sorted */
	size_t npub;
	const struct rules_addr *sanct;      /* sanctioned resolvers, sorted */
	size_t nsanct;
	const struct rules_addr *enc_addr;   /* sanctioned encrypted endpoints by address */
	size_t nenc_addr;
	const struct rules_name *enc_names;  /* sanctioned encrypted endpoints by name */
	size_t nenc_names;
	const struct rules_name *doh;        /* DoH SNI names, sorted */
	size_t ndoh;
	const struct rules_name *dot;        /* DoT names, sorted */
	size_t ndot;
	const struct rules_name *zones;      /* internal zones, sorted */
	size_t nzones;
	struct cust_set *custom;             /* custom.json, indexed; NULL without the file */
	void *mem;                           /* the loader's allocations */
};

/* One detection's settings; never NULL for id < DET_MAX. */
static inline const struct det_rule *rules_det(const struct rules *r, enum det_id id)
{
	return &r->det[id];
}

/* Loads dir/detections.json, dir/resolvers.json and, when the file is
 * there, dir/custom.json. NULL and a message in
 * err ("rules/detections.json:12:5: stub.ring: …", or the file that cannot
 * be read) on failure; free the result with rules_free(). */
struct rules *rules_load(const char *dir, char *err, size_t errlen);

/* The same from two buffers already in memory (tests, fuzzing); the names
 * label the messages. The buffers need no NUL and are not kept. */
struct rules *rules_load_buffers(const char *det_name, const char *det, size_t det_len,
				 const char *res_name, const char *res, size_t res_len,
				 char *err, size_t errlen);

/* Reads custom.json (the operator's rules, detect/custom.h) from a buffer
 * into r, replacing any it had; `name` labels the messages. 0, or
 * SW_EINVAL with "name:line:col: …" in err. */
int rules_load_custom(struct rules *r, const char *name, const char *buf, size_t len,
		      char *err, size_t errlen);

void rules_free(struct rules *r);

/* --check-config: loads and frees. 0, or SW_EINVAL with the message. */
int rules_check(const char *dir, char *err, size_t errlen);

/* Where the rules are: `configured` itself when it holds detections.json;
 * unless `explicit_dir` (the user named it with --rules or rules.dir), then
 * PREFIX/share/stubwatch/rules as installed: /usr/local/share/stubwatch/rules,
 * /usr/share/stubwatch/rules. Copies the first that holds detections.json
 * into out and returns 0; SW_EIO with the places tried in out otherwise. */
int rules_find_dir(const char *configured, int explicit_dir, char *out, size_t outlen);

/* The operator of a well-known public resolver address, or NULL. */
const char *rules_public_operator(const struct rules *r, const uint8_t ip[16]);

/* 1 when ip is one of this network's sanctioned (Do53) resolvers. */
int rules_is_sanctioned(const struct rules *r, const uint8_t ip[16]);

/* 1 when an encrypted-DNS endpoint is sanctioned, by its address or by its
 * name (SNI, DoT name); either may be NULL. */
int rules_encrypted_sanctioned(const struct rules *r, const uint8_t *ip, const char *name);

/* The operator whose DoH SNI names (or DoT names) match `name`, case
 * insensitively, exactly or as a subdomain of a "*." entry; NULL when none.
 * A trailing dot is ignored. */
const char *rules_doh_operator(const struct rules *r, const char *name);
const char *rules_dot_operator(const struct rules *r, const char *name);

/* 1 when qname is an internal zone or below one (home.arpa, x.home.arpa). */
int rules_internal_zone(const struct rules *r, const char *qname);

#endif
