/* randomness.h — how unpredictable a device's DNS source ports and IDs are.
 *
 * References: RFC 5452 §9.2 (ID and port randomisation against spoofing),
 * RFC 6056 (source port randomisation), RFC 1035 §4.1.1 (the ID field).
 * Rules: stub.port-predictable, stub.txid-predictable (DETECTIONS.md,
 * "Spoofing resistance of the stub resolver").
 *
 * One ring per device and per quantity (one for UDP source ports, one for
 * transaction IDs) keeps the last RND_RING values. Adding a value is O(1)
 * and touches one slot; the statistics are computed from the ring only when
 * asked (a device event or a detection check, not per packet):
 *
 *   sigma     population standard deviation of the values in the ring
 *   bits      log2(sigma * sqrt(12)): the width in bits of the uniform
 *             source with that sigma (16 for a uniform 16-bit source)
 *   distinct  distinct values in the ring, and their share of the fill
 *   value     the most common value and its share ("constant value")
 *   step      the most common difference (mod 65536) between consecutive
 *             values, and its share ("constant step")
 *   class     Excellent / Good / Poor / None, by sigma (DNS-OARC porttest
 *             classes: 3980 and 296 by default)
 *
 * What is NOT a sample is the caller's business, because only the caller
 * knows the query table:
 *   - a retransmission that reuses the ID (and port) of a query still
 *     unanswered is the same query again, not a new draw: add it once;
 *   - mDNS (UDP 5353, RFC 6762 §18.1) uses ID 0 by design: never add it;
 *   - queries over TCP have no meaningful source port for this purpose:
 *     add their IDs, not their ports.
 *
 * Memory: struct rnd_ring is 520 bytes (512 for 256 uint16_t values, 8 of
 * counters); two per device (ports and IDs) = 1040 bytes, so 65536 devices
 * (the devices.max default) add 65 MiB at most, touched only as devices
 * appear. No allocation, no globals; a zeroed ring is an empty ring.
 */
#ifndef SW_DETECT_RANDOMNESS_H
#define SW_DETECT_RANDOMNESS_H

#include <stdint.h>

/* Values kept per ring. DETECTIONS.md fixes "the ring of the last 256":
 * four times the 64-sample minimum, so a verdict rests on a window several
 * times larger than the smallest one allowed, and a device that changes
 * behaviour (a firmware update, a new resolver library) is judged on its
 * new behaviour after 256 queries. A power of two so the index wraps with a
 * mask. */
#define RND_RING 256

/* Defaults of rules/detections.json (params of stub.port-predictable and
 * stub.txid-predictable). sigma of a uniform source over m values is
 * sqrt((m^2 - 1) / 12): 3980 is a uniform spread over ~13.8k values
 * (~13.75 bits), 296 over ~1025 values (~10 bits). */
#define RND_SIGMA_EXCELLENT 3980.0
#define RND_SIGMA_GOOD 296.0
/* Fewer than 64 samples give sigma an error of roughly ±5 % for a uniform
 * source (sqrt(0.8 / (4n))), too coarse near a class boundary, and a
 * device with so few queries says little about its resolver. */
#define RND_MIN_QUERIES 64u
/* ID 0 or a constant ID is predictable after a handful of queries; 8 equal
 * values in a row happen by chance with probability 2^-112 for a random
 * 16-bit source. */
#define RND_CONSTANT_AFTER 8u
/* "Constant" = at least 90 % of the values (or of the consecutive
 * differences) are one number: tolerant of one wrap of a sequential
 * counter per ring (254 of 255 steps equal) and of a few stray values, yet
 * far above what a random source gives (a few per cent at most). */
#define RND_CONSTANT_SHARE 0.90

/* The ring of one quantity of one device. */
struct rnd_ring {
	uint16_t v[RND_RING]; /* the last values; v[next - 1] is the newest */
	uint32_t seen;        /* values ever added, saturating at UINT32_MAX */
	uint16_t fill;        /* values in the ring, 0..RND_RING */
	uint8_t next;         /* slot the next value goes to (wraps at 256) */
	uint8_t pad;          /* zero; makes the size 520 on every ABI */
};

/* Thresholds of one rule (params in rules/detections.json). Its "ring"
 * param can only be RND_RING: the ring is a fixed array. constant_share has
 * no param today; the loader sets RND_CONSTANT_SHARE. The port rule has no
 * constant_after, which leaves it 0. */
struct rnd_params {
	double sigma_excellent;  /* sigma >= this is Excellent */
	double sigma_good;       /* sigma >= this is Good; below is Poor */
	uint32_t min_queries;    /* ring fill below this: UNKNOWN (1..RND_RING) */
	uint32_t constant_after; /* a constant value fails from this fill on;
				  * 0 = only once min_queries is reached */
	double constant_share;   /* share (0.5..1] that makes a value or a step
				  * "constant" */
};

/* The defaults for the ID rule. The port rule uses the same numbers except
 * constant_after = 0 (DETECTIONS.md: ports wait for n >= 64). */
#define RND_PARAMS_DEFAULT                                               \
	{ .sigma_excellent = RND_SIGMA_EXCELLENT,                        \
	  .sigma_good = RND_SIGMA_GOOD,                                  \
	  .min_queries = RND_MIN_QUERIES,                                \
	  .constant_after = RND_CONSTANT_AFTER,                          \
	  .constant_share = RND_CONSTANT_SHARE }

enum rnd_class {
	RND_CLASS_NONE = 0,  /* sigma < 1: (almost) one value */
	RND_CLASS_POOR,      /* 1 <= sigma < sigma_good */
	RND_CLASS_GOOD,      /* sigma_good <= sigma < sigma_excellent */
	RND_CLASS_EXCELLENT  /* sigma >= sigma_excellent */
};

enum rnd_verdict {
	RND_UNKNOWN = 0, /* too few samples to judge */
	RND_PASS,
	RND_FAIL
};

/* Why a ring fails, in the order the verdict tests them. */
enum rnd_reason {
	RND_R_NONE = 0,       /* no failure (UNKNOWN or PASS) */
	RND_R_CONSTANT_VALUE, /* >= constant_share of the values are one value */
	RND_R_CONSTANT_STEP,  /* >= constant_share of the steps are one nonzero
			       * difference (sequential, fixed stride) */
	RND_R_CLASS_NONE,     /* sigma < 1 */
	RND_R_CLASS_POOR      /* sigma < sigma_good */
};

/* The numbers behind a verdict, for the event's evidence. */
struct rnd_result {
	enum rnd_verdict verdict;
	enum rnd_reason reason;
	enum rnd_class cls;
	uint32_t seen;         /* values ever added (saturating) */
	uint32_t n;            /* values in the ring (the sample) */
	double sigma;          /* population standard deviation of the ring */
	double bits;           /* log2(sigma * sqrt(12)), 0 when that is <= 1 */
	uint32_t distinct;     /* distinct values in the ring */
	double distinct_share; /* distinct / n (0 when n = 0) */
	uint16_t value;        /* the most common value (smallest on a tie) */
	double value_share;    /* its count / n */
	uint16_t step;         /* the most common (v[i+1] - v[i]) mod 65536 */
	double step_share;     /* its count / (n - 1) (0 when n < 2) */
};

/* Empties a ring (the same as zeroing it). */
void rnd_init(struct rnd_ring *r);

/* Adds one value, overwriting the oldest when the ring is full. O(1). */
void rnd_add(struct rnd_ring *r, uint16_t v);

/* Computes the statistics of the ring and judges them against p, into
 * *out (always fully written). Neither argument is kept. O(n): a few
 * passes over the ring, plus a radix sort of its repeated values when
 * there are any; 2 KiB of stack and an 8 KiB per-thread bitmap.
 *
 * Below min_queries values in the ring: UNKNOWN, except that a constant
 * value fails as soon as the fill reaches constant_after (when not 0). From
 * min_queries on, the first that holds is the reason for FAIL: constant
 * value, constant step, class None, class Poor; otherwise PASS. A constant
 * step fails whatever sigma says: +1 IDs across the 65535→0 wrap have a
 * large sigma and no randomness. Ports that count up and wrap from 65535 to
 * the bottom of their range (1024, say) break the step once per wrap, at
 * most once per ring, and still count as a constant step of +1.
 *
 * Returns out->verdict. Parameters outside the ranges of struct rnd_params
 * are clamped (min_queries to 1..RND_RING, constant_share to 0.5..1); the
 * rules loader rejects them first with rnd_params_check(). */
enum rnd_verdict rnd_verdict(const struct rnd_ring *r,
			     const struct rnd_params *p,
			     struct rnd_result *out);

/* 0 when p can be used as given, SW_ERANGE otherwise (a threshold not
 * finite or negative, sigma_good > sigma_excellent, min_queries outside
 * 1..RND_RING, constant_after > RND_RING, constant_share outside
 * 0.5..1). */
int rnd_params_check(const struct rnd_params *p);

/* Lower-case names for events: "excellent", "good", "poor", "none";
 * "unknown", "pass", "fail"; "", "constant-value", "constant-step",
 * "class-none", "class-poor". Never NULL. */
const char *rnd_class_name(enum rnd_class c);
const char *rnd_verdict_name(enum rnd_verdict v);
const char *rnd_reason_name(enum rnd_reason r);

#endif
