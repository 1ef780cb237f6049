/* oui.c — MAC prefix → vendor from the IEEE registries (Debian ieee-data).
 *
 * References: IEEE Std 802-2014 §8.2 (OUI and the MA-L/MA-M/MA-S blocks;
 * I/G and U/L bits), IEEE 802c-2017 (local address space), RFC 4180 (CSV,
 * as the IEEE publishes it: quoted fields with "" and line breaks inside).
 *
 * Layout after loading: three sorted arrays, one per prefix length, and one
 * arena of NUL-terminated vendor names, each name stored once (the 46,500
 * assignments of the 2022 registry name about 29,600 distinct
 * organisations; "Private" alone is 243 of them). A 24-bit entry carries
 * two flags saying whether MA-M or MA-S blocks lie under it, so the common
 * case — a MAC from an MA-L block — costs one binary search, and only MACs
 * from the few blocks the IEEE Registration Authority split up search the
 * 28- and 36-bit arrays too. Parents of split blocks that the MA-L file
 * lacks get an entry without a name so their flags have a home.
 *
 * When one registry assigns the same prefix twice (the MA-L file carries a
 * few historic double assignments, e.g. 08:00:30), the first in the file is
 * kept, so results do not depend on sort stability.
 */
#include "enrich/enrich.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fmt.h"
#include "common/table.h"
#include "enrich/text.h"

#define NO_NAME UINT32_MAX  /* name offset of a parent kept only for flags */
#define F_SUB28 0x01u       /* MA-M blocks lie under this 24-bit prefix */
#define F_SUB36 0x02u       /* MA-S or IAB blocks lie under it */

/* Longest organisation name kept, in bytes. The longest in the 2022
 * registry is 108; the IEEE sets no limit, so allow well over twice that
 * and cut the rare longer one at a character boundary. */
#define NAME_MAX_LEN 255

/* Registry files larger than this are refused: the biggest (oui.txt) is
 * 5.2 MB in 2022 and grows by some 5% a year. */
#define FILE_MAX_BYTES (64u << 20)

/* A 24- or 28-bit entry. For 24-bit ones key = prefix << 8 | F_* flags
 * (prefixes are unique, so the order is the order of prefixes); for 28-bit
 * ones key = prefix. */
struct pfx32 {
	uint32_t key;
	uint32_t name;   /* arena offset, or NO_NAME */
};

/* A 36-bit entry: key = the 36-bit prefix. */
struct pfx64 {
	uint64_t key;
	uint32_t name;   /* arena offset */
	uint32_t pad;
};

/* The 24-bit array is cut by the top IDX_BITS bits of the prefix: idx[h]
 * is the first entry at or past h, so a search starts on one slice of it
 * (8 entries on average for 2022's 32,500 over 4,096 slices) instead of
 * the whole array. The slices of the 1990s blocks 00:00:xx-00:2x:xx are
 * full (4,096 each) and still take 12 probes. 12 bits cost 16 KiB and
 * halved the measured cost of a random lookup (75 → 34 ns); 16 bits would
 * cost 256 KiB for the dense slices' sake. */
#define IDX_BITS 12

struct enr_oui {
	uint32_t idx[(1u << IDX_BITS) + 1];
	struct pfx32 *l24;   /* MA-L (and parents of split blocks) */
	struct pfx32 *m28;   /* MA-M */
	struct pfx64 *s36;   /* MA-S and IAB */
	uint32_t n24, n28, n36;
	uint32_t n_named24;  /* l24 entries that carry a name */
	char *arena;         /* interned names, NUL-terminated */
	size_t arena_len;
};

/* ---- load-time scratch --------------------------------------------------- */

/* One parsed assignment before sorting. */
struct rec {
	uint64_t key;    /* prefix, right-aligned */
	uint32_t name;   /* arena offset, or NO_NAME */
	uint32_t seq;    /* order of reading, for "first in file wins" */
	uint8_t bits;    /* 24, 28 or 36 */
};

struct builder {
	struct rec *recs;
	size_t n_recs, cap_recs;
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *slots;     /* intern set: arena offset + 1, 0 = empty */
	size_t n_slots;      /* power of two */
	size_t n_names;
	int oom;             /* an allocation failed; the load gives up */
};

/* Word-wise: a byte-at-a-time FNV-1a was a visible part of the load, with
 * some 30,000 owner names to intern. */
static uint64_t name_hash(const char *s, size_t n)
{
	return sw_hash_words(s, n, 0);
}

static int intern_grow(struct builder *b)
{
	size_t n = b->n_slots ? b->n_slots * 2 : 4096;
	uint32_t *s = calloc(n, sizeof(*s));
	if (s == NULL)
		return SW_ENOMEM;
	for (size_t i = 0; i < b->n_slots; i++) {
		uint32_t v = b->slots[i];
		if (v == 0)
			continue;
		const char *str = b->arena + v - 1;
		size_t j = (size_t)name_hash(str, strlen(str)) & (n - 1);
		while (s[j] != 0)
			j = (j + 1) & (n - 1);
		s[j] = v;
	}
	free(b->slots);
	b->slots = s;
	b->n_slots = n;
	return 0;
}

/* Returns the arena offset of name[0..len), adding it when new, or NO_NAME
 * when memory runs out (b->oom set). The registry is a trusted local file,
 * so an unkeyed hash will do for this load-time set. */
static uint32_t intern(struct builder *b, const char *name, size_t len)
{
	if (b->oom)
		return NO_NAME;
	if ((b->n_names + 1) * 2 > b->n_slots && intern_grow(b) != 0)
		goto oom;
	size_t mask = b->n_slots - 1;
	size_t j = (size_t)name_hash(name, len) & mask;
	for (; b->slots[j] != 0; j = (j + 1) & mask) {
		const char *s = b->arena + b->slots[j] - 1;
		if (strncmp(s, name, len) == 0 && s[len] == '\0')
			return b->slots[j] - 1;
	}
	if (b->arena_len + len + 1 > b->arena_cap) {
		size_t cap = b->arena_cap ? b->arena_cap * 2 : 256u << 10;
		while (cap < b->arena_len + len + 1)
			cap *= 2;
		char *a = realloc(b->arena, cap);
		if (a == NULL)
			goto oom;
		b->arena = a;
		b->arena_cap = cap;
	}
	/* Offsets stay below 4 GiB: the arena is bounded by the file cap. */
	uint32_t off = (uint32_t)b->arena_len;
	memcpy(b->arena + off, name, len);
	b->arena[off + len] = '\0';
	b->arena_len += len + 1;
	b->slots[j] = off + 1;
	b->n_names++;
	return off;
oom:
	b->oom = 1;
	return NO_NAME;
}

static void add_rec(struct builder *b, uint64_t key, unsigned bits, uint32_t name)
{
	if (b->oom)
		return;
	if (b->n_recs == b->cap_recs) {
		size_t cap = b->cap_recs ? b->cap_recs * 2 : 16384;
		struct rec *r = realloc(b->recs, cap * sizeof(*r));
		if (r == NULL) {
			b->oom = 1;
			return;
		}
		b->recs = r;
		b->cap_recs = cap;
	}
	struct rec *r = &b->recs[b->n_recs];
	r->key = key;
	r->bits = (uint8_t)bits;
	r->name = name;
	r->seq = (uint32_t)b->n_recs;
	b->n_recs++;
}

/* ---- text helpers -------------------------------------------------------- */

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Cleans a name (enr_text_copy: trimmed, valid UTF-8, capped) and interns
 * it. Empty → NO_NAME. */
static uint32_t clean_name(struct builder *b, const char *s, size_t n)
{
	char out[NAME_MAX_LEN + 1];
	size_t o = enr_text_copy(out, sizeof(out), s, n);
	if (o == 0)
		return NO_NAME;
	return intern(b, out, o);
}

/* Parses exactly `n` hex digits at s; -1 when any is not one. */
static int64_t parse_hex(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = fmt_hexval((uint8_t)s[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* ---- CSV (Registry,Assignment,Organization Name,Organization Address) --- */

/* Reads one RFC 4180 field at *p: quoted ("" is a quote; commas and line
 * breaks inside are data) or bare (up to a comma or line end). Copies at
 * most cap - 1 bytes into buf (the rest is dropped) and NUL-terminates;
 * returns the full length. Leaves *p on the separator that ended it. */
static size_t csv_field(const char **p, const char *end, char *buf, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	if (s < end && *s == '"') {
		s++;
		while (s < end) {
			if (*s == '"') {
				if (s + 1 < end && s[1] == '"') {
					s++;  /* "" → one quote */
				} else {
					s++;
					break;
				}
			}
			if (n + 1 < cap)
				buf[n] = *s;
			n++;
			s++;
		}
		/* Bytes between the closing quote and the separator (not RFC
		 * 4180, but seen in hand-edited files) are kept. */
	}
	while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
		if (n + 1 < cap)
			buf[n] = *s;
		n++;
		s++;
	}
	buf[n < cap ? n : cap - 1] = '\0';
	*p = s;
	return n;
}

/* Parses a CSV registry; returns the number of assignments read. The
 * assignment's length says its size: 6 hex digits MA-L, 7 MA-M, 9 MA-S or
 * IAB. Rows that do not parse (the header among them) are skipped. */
static size_t parse_csv(struct builder *b, const char *s, const char *end)
{
	size_t got = 0;
	char f[4][NAME_MAX_LEN + 1];
	size_t flen[4];
	while (s < end && !b->oom) {
		int nf = 0;
		for (;;) {
			char tmp[NAME_MAX_LEN + 1];
			size_t len = csv_field(&s, end, nf < 4 ? f[nf] : tmp,
					       NAME_MAX_LEN + 1);
			if (nf < 4)
				flen[nf] = len;
			nf++;
			if (s < end && *s == ',') {
				s++;
				continue;
			}
			break;
		}
		/* Line end: CRLF, LF or a lone CR. */
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		if (nf < 3)
			continue;
		size_t hl = flen[1];
		unsigned bits = hl == 6 ? 24 : hl == 7 ? 28 : hl == 9 ? 36 : 0;
		int64_t key = bits ? parse_hex(f[1], hl) : -1;
		if (key < 0)
			continue;
		uint32_t name = clean_name(b, f[2], strlen(f[2]));
		if (name == NO_NAME)
			continue;
		add_rec(b, (uint64_t)key, bits, name);
		got++;
	}
	return got;
}

/* ---- TXT ("00-22-72   (hex)\t\tName" then "002272 (base 16)\t\tName") ---- */

/* Parses a .txt registry. A "(hex)" line gives the 24-bit prefix and the
 * name; the "(base 16)" line after it gives the block: "002272" for MA-L,
 * a range "900000-9FFFFF" for a split block, whose common leading digits
 * (here one) extend the prefix (to 28 bits). A "(hex)" line with no
 * "(base 16)" line after it counts as MA-L only in the MA-L file. */
static size_t parse_txt(struct builder *b, const char *s, const char *end,
			unsigned file_bits)
{
	size_t got = 0;
	int pending = 0;
	uint32_t p24 = 0, pname = NO_NAME;
	while (s < end && !b->oom) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *next = eol ? eol + 1 : end;
		const char *e = eol ? eol : end;
		const char *l = s;
		s = next;
		while (l < e && is_space((uint8_t)*l))
			l++;
		while (e > l && is_space((uint8_t)e[-1]))
			e--;
		if (l == e)
			continue;
		size_t n = (size_t)(e - l);
		const char *hexm = n >= 8 ? memmem(l, n, "(hex)", 5) : NULL;
		const char *b16 = memmem(l, n, "(base 16)", 9);
		if (hexm != NULL) {
			if (pending && file_bits == 24) {
				add_rec(b, p24, 24, pname);
				got++;
			}
			pending = 0;
			int64_t a = parse_hex(l, 2), c = parse_hex(l + 3, 2),
				d = parse_hex(l + 6, 2);
			if (a < 0 || c < 0 || d < 0 || l[2] != '-' || l[5] != '-')
				continue;
			const char *nm = hexm + 5;
			pname = clean_name(b, nm, (size_t)(e - nm));
			if (pname == NO_NAME)
				continue;
			p24 = (uint32_t)(a << 16 | c << 8 | d);
			pending = 1;
		} else if (b16 != NULL && pending) {
			pending = 0;
			unsigned bits = 0;
			int64_t lo = parse_hex(l, 6);
			if (lo >= 0 && (l[6] == ' ' || l[6] == '\t') && (uint32_t)lo == p24) {
				bits = 24;
			} else if (lo >= 0 && l[6] == '-' && n >= 13 && parse_hex(l + 7, 6) >= 0) {
				/* Common leading digits of low and high end; the
				 * rest must run 0…0 to F…F for a true block. */
				int64_t hi = parse_hex(l + 7, 6);
				unsigned k = 0;
				while (k < 6 && l[k] == l[7 + k])
					k++;
				int64_t span = ((int64_t)1 << (4 * (6 - k))) - 1;
				if ((lo & span) == 0 && (hi & span) == span && (k == 1 || k == 3))
					bits = 24 + 4 * k;
			}
			if (bits == 24) {
				add_rec(b, p24, 24, pname);
				got++;
			} else if (bits != 0) {
				uint64_t key = (uint64_t)p24 << (bits - 24) |
					       (uint64_t)lo >> (4 * (6 - (bits - 24) / 4));
				add_rec(b, key, bits, pname);
				got++;
			}
		}
	}
	if (pending && file_bits == 24) {
		add_rec(b, p24, 24, pname);
		got++;
	}
	return got;
}

/* ---- files --------------------------------------------------------------- */

/* Reads a whole file; NULL with errno set on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1u << 20, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
				errno = EIO;
			}
			break;
		}
		if (cap >= FILE_MAX_BYTES) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (nb == NULL) {
			free(buf);
			buf = NULL;
			errno = ENOMEM;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Appends to the notice; a notice longer than its buffer is cut. */
static void note_add(char *note, size_t note_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_add(char *note, size_t note_len, const char *fmt, ...)
{
	if (note == NULL || note_len == 0)
		return;
	size_t used = strlen(note);
	if (used + 1 >= note_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note + used, note_len - used, fmt, ap);
	va_end(ap);
}

/* The registries, in the order read. `what` names them in notices. */
static const struct {
	const char *base;
	unsigned bits;
	const char *what;
} registries[] = {
	{ "oui", 24, "MA-L" },
	{ "mam", 28, "MA-M" },
	{ "oui36", 36, "MA-S" },
	{ "iab", 36, "IAB" },
};

/* Reads one registry, .csv first, .txt when there is no .csv. Returns the
 * number of assignments, or -1 when neither file could be read (errno of
 * the .csv attempt, which is the file the caller is told about). */
static long load_registry(struct builder *b, const char *dir, const char *base,
			  unsigned bits, char *path, size_t path_len)
{
	static const char *const exts[] = { "csv", "txt" };
	int first_errno = 0;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, path_len, "%s/%s.%s", dir, base, exts[i]);
		size_t len = 0;
		char *buf = slurp(path, &len);
		if (buf == NULL) {
			if (i == 0)
				first_errno = errno;
			continue;
		}
		size_t got = i == 0 ? parse_csv(b, buf, buf + len)
				    : parse_txt(b, buf, buf + len, bits);
		free(buf);
		return (long)got;
	}
	snprintf(path, path_len, "%s/%s.csv", dir, base);
	errno = first_errno;
	return -1;
}

/* ---- building the tables ------------------------------------------------- */

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->bits != y->bits)
		return x->bits < y->bits ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct pfx32 *find24(const struct enr_oui *o, uint32_t p24)
{
	uint32_t h = p24 >> (24 - IDX_BITS);
	size_t lo = o->idx[h], hi = o->idx[h + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = o->l24[mid].key >> 8;
		if (k == p24)
			return &o->l24[mid];
		if (k < p24)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct pfx32 *find28(const struct enr_oui *o, uint32_t p28)
{
	size_t lo = 0, hi = o->n28;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = o->m28[mid].key;
		if (k == p28)
			return &o->m28[mid];
		if (k < p28)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct pfx64 *find36(const struct enr_oui *o, uint64_t p36)
{
	size_t lo = 0, hi = o->n36;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k = o->s36[mid].key;
		if (k == p36)
			return &o->s36[mid];
		if (k < p36)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Sorts the records in rec_cmp's order: (bits, key, reading order). An LSD
 * radix sort over one word per record, the three packed in it, replaces
 * qsort(), whose comparator calls were a third of the registries' load
 * time; qsort() remains for a count the word has no room for. */
static int sort_recs(struct builder *b)
{
	size_t n = b->n_recs;
	if (n >= (size_t)1 << 24) {
		qsort(b->recs, n, sizeof(*b->recs), rec_cmp);
		return 0;
	}
	uint64_t *w = malloc(n * sizeof(*w)), *tmp = malloc(n * sizeof(*tmp));
	struct rec *out = malloc(n * sizeof(*out));
	if (w == NULL || tmp == NULL || out == NULL) {
		free(w);
		free(tmp);
		free(out);
		return SW_ENOMEM;
	}
	/* bits class (2) | key (36) | index (24): records are added in
	 * reading order, so the index orders ties as seq does. */
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &b->recs[i];
		uint64_t cls = r->bits == 24 ? 0 : r->bits == 28 ? 1 : 2;
		w[i] = cls << 62 | (r->key & ((1ull << 36) - 1)) << 24 | i;
	}
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t pos[256] = { 0 };
		for (size_t i = 0; i < n; i++)
			pos[(w[i] >> shift) & 0xff]++;
		if (pos[(w[0] >> shift) & 0xff] == n)
			continue;  /* one digit for all: the order stands */
		size_t sum = 0;
		for (unsigned d = 0; d < 256; d++) {
			size_t c = pos[d];
			pos[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[pos[(w[i] >> shift) & 0xff]++] = w[i];
		uint64_t *t = w;
		w = tmp;
		tmp = t;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = b->recs[w[i] & ((1u << 24) - 1)];
	free(b->recs);
	b->recs = out;
	b->cap_recs = n;
	free(w);
	free(tmp);
	return 0;
}

/* Sorts the records, keeps the first of each duplicate, gives every split
 * block a 24-bit parent, and moves the result into the compact arrays. */
static int build(struct enr_oui *o, struct builder *b)
{
	/* A nameless parent for every 28/36-bit record; where the MA-L file
	 * has the parent, that one sorts first (lower seq) and wins. */
	size_t n = b->n_recs;
	for (size_t i = 0; i < n; i++) {
		if (b->recs[i].bits == 24)
			continue;
		uint64_t parent = b->recs[i].key >> (b->recs[i].bits - 24);
		add_rec(b, parent, 24, NO_NAME);
	}
	if (b->oom)
		return SW_ENOMEM;
	if (b->n_recs > 1 && sort_recs(b) != 0)
		return SW_ENOMEM;
	size_t w = 0;
	for (size_t i = 0; i < b->n_recs; i++) {
		if (w > 0 && b->recs[w - 1].bits == b->recs[i].bits &&
		    b->recs[w - 1].key == b->recs[i].key)
			continue;
		b->recs[w++] = b->recs[i];
	}
	b->n_recs = w;
	for (size_t i = 0; i < w; i++) {
		if (b->recs[i].bits == 24)
			o->n24++;
		else if (b->recs[i].bits == 28)
			o->n28++;
		else
			o->n36++;
	}
	o->l24 = calloc(o->n24 ? o->n24 : 1, sizeof(*o->l24));
	o->m28 = calloc(o->n28 ? o->n28 : 1, sizeof(*o->m28));
	o->s36 = calloc(o->n36 ? o->n36 : 1, sizeof(*o->s36));
	if (o->l24 == NULL || o->m28 == NULL || o->s36 == NULL)
		return SW_ENOMEM;
	uint32_t i24 = 0, i28 = 0, i36 = 0;
	for (size_t i = 0; i < w; i++) {
		const struct rec *r = &b->recs[i];
		if (r->bits == 24) {
			o->l24[i24].key = (uint32_t)r->key << 8;
			o->l24[i24++].name = r->name;
			o->n_named24 += r->name != NO_NAME;
		} else if (r->bits == 28) {
			o->m28[i28].key = (uint32_t)r->key;
			o->m28[i28++].name = r->name;
		} else {
			o->s36[i36].key = r->key;
			o->s36[i36++].name = r->name;
		}
	}
	for (uint32_t h = 0, i = 0; h <= 1u << IDX_BITS; h++) {
		while (i < o->n24 && (o->l24[i].key >> 8) >> (24 - IDX_BITS) < h)
			i++;
		o->idx[h] = i;
	}
	for (uint32_t i = 0; i < o->n28; i++)
		find24(o, o->m28[i].key >> 4)->key |= F_SUB28;
	for (uint32_t i = 0; i < o->n36; i++)
		find24(o, (uint32_t)(o->s36[i].key >> 12))->key |= F_SUB36;
	/* The arena is final: shrink it to its size. */
	o->arena_len = b->arena_len;
	if (b->arena_len > 0) {
		char *a = realloc(b->arena, b->arena_len);
		o->arena = a ? a : b->arena;
	} else {
		free(b->arena);
		o->arena = NULL;
	}
	b->arena = NULL;
	return 0;
}

/* Loading reads every file whole, parses it into records, then builds the
 * arrays once; the scratch (file buffers, records, intern set) is freed
 * before returning, so what stays is what enr_oui_bytes reports. Notices
 * name the missing file and what is lost without it. */
struct enr_oui *enr_oui_load(const char *dir, char *note, size_t note_len)
{
	char path[4096];
	struct builder b;
	struct enr_oui *o = calloc(1, sizeof(*o));
	const size_t n_reg = sizeof(registries) / sizeof(registries[0]);
	long got[sizeof(registries) / sizeof(registries[0])];
	size_t missing = 0, empty = 0;
	int errno_all = 0;

	memset(&b, 0, sizeof(b));
	if (note != NULL && note_len > 0)
		note[0] = '\0';
	if (o == NULL)
		return NULL;
	if (dir == NULL || dir[0] == '\0')
		dir = ENR_OUI_DIR_DEFAULT;
	for (size_t i = 0; i < n_reg; i++) {
		got[i] = load_registry(&b, dir, registries[i].base, registries[i].bits,
				       path, sizeof(path));
		if (b.oom)
			goto fail;
		if (got[i] < 0) {
			missing++;
			errno_all = errno;
		} else if (got[i] == 0) {
			empty++;
		}
	}
	if (missing == n_reg) {
		note_add(note, note_len, "oui: no IEEE registry in %s (%s); device vendors"
			 " are omitted (install Debian package ieee-data or set the"
			 " directory)", dir, strerror(errno_all));
	} else if (missing > 0 || empty > 0) {
		const char *sep = "";
		note_add(note, note_len, "oui: in %s,", dir);
		for (size_t i = 0; i < n_reg; i++) {
			if (got[i] > 0)
				continue;
			note_add(note, note_len, "%s %s registry %s", sep, registries[i].what,
				 got[i] < 0 ? "missing" : "empty");
			sep = ",";
		}
		note_add(note, note_len, "; MACs of those blocks get the 24-bit owner"
			 " or no vendor");
	}
	if (build(o, &b) != 0)
		goto fail;
	free(b.recs);
	free(b.slots);
	return o;
fail:
	free(b.recs);
	free(b.slots);
	free(b.arena);
	enr_oui_free(o);
	return NULL;
}

void enr_oui_free(struct enr_oui *o)
{
	if (o == NULL)
		return;
	free(o->l24);
	free(o->m28);
	free(o->s36);
	free(o->arena);
	free(o);
}

const char *enr_oui_lookup(const struct enr_oui *o, const uint8_t mac[6])
{
	if (o == NULL || o->n24 == 0)
		return NULL;
	uint32_t p24 = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
	const struct pfx32 *e = find24(o, p24);
	if (e == NULL)
		return NULL;
	if (e->key & F_SUB36) {
		uint64_t p36 = (uint64_t)p24 << 12 | (uint64_t)mac[3] << 4 | mac[4] >> 4;
		const struct pfx64 *s = find36(o, p36);
		if (s != NULL)
			return o->arena + s->name;
	}
	if (e->key & F_SUB28) {
		const struct pfx32 *m = find28(o, p24 << 4 | mac[3] >> 4);
		if (m != NULL)
			return o->arena + m->name;
	}
	return e->name == NO_NAME ? NULL : o->arena + e->name;
}

struct enr_mac_info enr_mac_info(const struct enr_oui *o, const uint8_t mac[6])
{
	struct enr_mac_info mi;
	mi.multicast = (mac[0] & 0x01) != 0;
	mi.locally_administered = (mac[0] & 0x02) != 0;
	mi.vendor = NULL;
	if (!mi.locally_administered) {
		uint8_t m[6];
		memcpy(m, mac, 6);
		m[0] &= (uint8_t)~0x01u;
		mi.vendor = enr_oui_lookup(o, m);
	}
	return mi;
}

uint32_t enr_oui_count(const struct enr_oui *o)
{
	return o ? o->n_named24 + o->n28 + o->n36 : 0;
}

size_t enr_oui_bytes(const struct enr_oui *o)
{
	if (o == NULL)
		return 0;
	return sizeof(*o) + o->n24 * sizeof(*o->l24) + o->n28 * sizeof(*o->m28) +
	       o->n36 * sizeof(*o->s36) + o->arena_len;
}
