/* fuzz_custom.c — custom.json (the operator's rules) through
 * rules_load_custom.
 *
 * The input is the file, copied into an exactly-sized heap buffer so ASan
 * sees any over-read. A failure must leave a NUL-terminated message that
 * names the file; a success must give an index that finds, for each name
 * a rule lists, exactly the rules a check of every rule finds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/custom.h"
#include "detect/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_hit(void *arg, uint32_t rule, const char *via)
{
	(void)rule;
	(void)via;
	(*(unsigned *)arg)++;
}

static void check_name(const struct cust_set *s, const char *name)
{
	static const struct dev_key k = { .mac = { 0x24, 0x0a, 0xc4, 0, 0, 1 }, .vlan = 20 };
	static const uint8_t res[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 53 };
	struct cust_txn t = {
		.qname = name, .qlen = strlen(name), .qtype = 1, .rcode = -1,
		.resolver = res, .transport = CUST_T_UDP, .dev = &k,
	};
	for (int pass = 0; pass < 2; pass++) {
		unsigned hits = 0, loop = 0;
		if (cust_match(s, &t, count_hit, &hits) != hits)
			abort();
		for (uint32_t i = 0; i < s->n; i++)
			loop += s->rules[i].enabled && cust_rule_holds(&s->rules[i], &t);
		if (hits != loop)
			abort();
		t.rcode = 3;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct rules *r = calloc(1, sizeof(*r));
	if (buf == NULL || r == NULL)
		abort();
	if (size)
		memcpy(buf, data, size);
	char err[512];
	memset(err, 'x', sizeof(err));
	if (rules_load_custom(r, "custom.json", buf, size, err, sizeof(err)) != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL || strncmp(err, "custom.json", 11) != 0)
			abort();
	} else if (r->custom != NULL) {
		const struct cust_set *s = r->custom;
		for (uint32_t i = 0; i < s->n; i++) {
			const struct cust_rule *c = &s->rules[i];
			for (uint32_t j = 0; j < c->nqnames; j++)
				check_name(s, c->qnames[j]);
			for (uint32_t j = 0; j < c->nsuffixes; j++)
				check_name(s, c->suffixes[j]);
		}
		check_name(s, "www.example.com");
	}
	rules_free(r);
	free(buf);
	return 0;
}
