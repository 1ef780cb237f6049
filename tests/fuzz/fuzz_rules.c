/* fuzz_rules.c — detections.json and resolvers.json through rules_load_buffers.
 *
 * The input is both files: detections.json, a NUL byte, resolvers.json (an
 * input without a NUL is detections.json with an empty resolvers.json). The
 * loader must never read outside either part (each is copied into its own
 * exactly-sized heap buffer, so ASan sees any over-read), must write a
 * NUL-terminated message that names the file on every failure, and on
 * success must hand back sorted lists that the lookups find themselves in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dup_exact(const uint8_t *p, size_t n)
{
	char *b = malloc(n ? n : 1);
	if (b == NULL)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

static void check_loaded(const struct rules *r)
{
	for (int i = 0; i < DET_MAX; i++) {
		const struct det_rule *d = rules_det(r, (enum det_id)i);
		if ((int)d->id != i || d->severity < SEV_INFO || d->severity > SEV_HIGH ||
		    d->nrefs == 0 || d->name == NULL || d->category == NULL)
			abort();
	}
	for (size_t i = 0; i < r->npub; i++) {
		if (i > 0 && memcmp(r->pub[i - 1].ip, r->pub[i].ip, 16) >= 0)
			abort();
		if (r->pub[i].op >= r->nops ||
		    rules_public_operator(r, r->pub[i].ip) != r->ops[r->pub[i].op].name)
			abort();
	}
	for (size_t i = 0; i < r->nsanct; i++)
		if (!rules_is_sanctioned(r, r->sanct[i].ip))
			abort();
	for (size_t i = 0; i < r->ndoh; i++) {
		if (i > 0 && strcmp(r->doh[i - 1].name, r->doh[i].name) >= 0)
			abort();
		if ((r->doh[i].flags & RULES_NAME_EXACT) &&
		    rules_doh_operator(r, r->doh[i].name) == NULL)
			abort();
	}
	for (size_t i = 0; i < r->ndot; i++)
		if ((r->dot[i].flags & RULES_NAME_EXACT) && rules_dot_operator(r, r->dot[i].name) == NULL)
			abort();
	for (size_t i = 0; i < r->nzones; i++)
		if (!rules_internal_zone(r, r->zones[i].name))
			abort();
	(void)rules_internal_zone(r, "a.b.c.home.arpa.");
	(void)rules_encrypted_sanctioned(r, NULL, "x.example");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t dn = nul ? (size_t)(nul - data) : size;
	size_t rn = nul ? size - dn - 1 : 0;
	char *det = dup_exact(data, dn);
	char *res = dup_exact(nul ? nul + 1 : data, rn);
	char err[256];
	memset(err, 'x', sizeof(err));
	struct rules *r = rules_load_buffers("d.json", det, dn, "r.json", res, rn, err, sizeof(err));
	if (r == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		if (strncmp(err, "d.json", 6) != 0 && strncmp(err, "r.json", 6) != 0)
			abort();
	} else {
		check_loaded(r);
		rules_free(r);
	}
	free(det);
	free(res);
	return 0;
}
