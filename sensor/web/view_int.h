/* view_int.h — the view's tables, shared by view.c and metrics.c only.
 * Locking as in view.h: everything here is under web_view.mu.
 */
#ifndef SW_WEB_VIEW_INT_H
#define SW_WEB_VIEW_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "web/view.h"

/* Distinct rule ids counted; the shipped rules are ~30, so 128 leaves room
 * for user rules. Alerts of further rules count under "other". */
#define VIEW_RULES 128
/* Rules one device's summary keeps; past it, further rules are counted in
 * the device's rules_dropped (a device failing 32 rules is already red). */
#define VIEW_DEV_RULES 32
/* Segments (VLANs) the network view keeps; 4096 is every 802.1Q VLAN id. */
#define VIEW_VLANS 4096
/* Scorecard lines: the eleven guidelines. */
#define VIEW_LINES 11
/* Response codes of stubwatch.dns.rcodes, in the order metrics print them. */
#define VIEW_RCODES 7
extern const char *const view_rcode_names[VIEW_RCODES];
/* RFC 3339 with microseconds, "2026-01-15T10:59:59.995530Z", and a NUL. */
#define VIEW_TS 32

/* An event's text, shared by reference: a reader takes a reference under
 * the lock and writes the text out after releasing it, so the lock is held
 * for pointer copies only, whatever the size of the answer. Immutable once
 * made; freed by the last view_text_unref. */
struct view_text {
	atomic_uint ref;
	size_t len;
	char s[];                 /* len bytes and a NUL */
};
struct view_text *view_text_new(const char *s, size_t len);
struct view_text *view_text_ref(struct view_text *t);
void view_text_unref(struct view_text *t);

struct view_dev_rule {
	uint16_t rule;            /* index in web_view.rule_ids */
	uint8_t severity;         /* highest seen, 1-4 */
	uint32_t count;
	char first[VIEW_TS], last[VIEW_TS];
	char *text;               /* latest alert's JSON (keep_alert_text) */
};

struct view_dev {
	int used;
	char id[40];              /* device.id: MAC, or IP on links without MACs */
	struct view_text *json;   /* latest stubwatch.device event */
	uint32_t vlan;
	double score;             /* < 0: no score yet (no pass or fail) */
	uint16_t pass, fail;      /* bit n-1: scorecard line n */
	uint64_t rcodes[VIEW_RCODES];
	unsigned nrules;
	uint32_t rules_dropped;
	struct view_dev_rule rules[VIEW_DEV_RULES];
};

struct view_alert {
	uint64_t seq;             /* 0: slot empty */
	char ts[VIEW_TS];
	char dev[40];
	struct view_text *json;
};

struct view_vlan {
	uint32_t vlan;
	char *offer;              /* stubwatch.network of its latest device event */
};

struct web_view {
	pthread_mutex_t mu;
	uint32_t max_devices, max_alerts;
	int keep_alert_text;
	json_t *index;            /* device id -> slot number */
	struct view_dev *devs;    /* max_devices slots */
	uint32_t *free_slots;     /* stack of unused slots */
	uint32_t nfree;
	struct view_alert *alerts; /* ring of max_alerts */
	uint64_t alert_seq;       /* alerts ever taken; the newest is at seq-1 */
	char rule_ids[VIEW_RULES][64];
	unsigned nrule_ids;
	uint64_t rule_counts[VIEW_RULES + 1][5]; /* [rule or other][severity 0-4] */
	char line_names[VIEW_LINES][96]; /* guideline text, from the scorecards */
	struct view_vlan vlans[VIEW_VLANS];
	unsigned nvlans;
	struct view_text *stats;  /* latest stubwatch.stats event */
	struct view_counters c;
};

#endif
