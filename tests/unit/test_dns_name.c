/* test_dns_name.c — dns_name_at()/dns_name_skip(): compression, limits,
 * escapes and output bounds; dns_label_next() and dns_names_differ(), the
 * readers of labels without text; one named case per edge (RFC 1035
 * §2.3.4, §4.1.4, RFC 4343).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "dns/dns.h"

struct name_case {
	const char *name;
	const uint8_t *msg;
	size_t len;
	size_t off;
	int lower;
	int rc;            /* text length, or the error */
	const char *text;  /* expected text when rc >= 0 */
	size_t next;       /* expected *next when rc >= 0 */
};

static const uint8_t n_simple[] = { 3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
static const uint8_t n_root[] = { 0 };
/* "com" at 0, then "www" + pointer to 0 at 5. */
static const uint8_t n_backptr[] = { 3, 'c', 'o', 'm', 0, 3, 'w', 'w', 'w', 0xc0, 0x00 };
static const uint8_t n_selfptr[] = { 0xc0, 0x00 };
static const uint8_t n_fwdptr[] = { 0xc0, 0x02, 0 };
/* 2 -> 0 is backwards, then 0 -> 2 is not below the run start 0. */
static const uint8_t n_loop[] = { 0xc0, 0x02, 0xc0, 0x00 };
/* "abc" then a pointer to the name's own start. */
static const uint8_t n_ownstart[] = { 3, 'a', 'b', 'c', 0xc0, 0x00 };
static const uint8_t n_label64[] = { 64, 'a' };
static const uint8_t n_type80[] = { 0x80, 'a', 0 };
static const uint8_t n_trunc_label[] = { 5, 'a', 'b' };
static const uint8_t n_trunc_ptr[] = { 1, 'a', 0xc0 };
static const uint8_t n_no_root[] = { 1, 'a', 1, 'b' };
static const uint8_t n_escapes[] = { 8, 'a', '.', 'b', ' ', 0xff, '\\', '*', 'Z', 0 };

static struct name_case name_cases[] = {
	{ "simple_original_case", n_simple, sizeof(n_simple), 0, 0, 15, "www.Example.com", 17 },
	{ "simple_lowered", n_simple, sizeof(n_simple), 0, 1, 15, "www.example.com", 17 },
	{ "root", n_root, sizeof(n_root), 0, 0, 1, ".", 1 },
	{ "pointer_backwards", n_backptr, sizeof(n_backptr), 5, 0, 7, "www.com", 11 },
	{ "pointer_to_itself", n_selfptr, sizeof(n_selfptr), 0, 0, SW_ELOOP, NULL, 0 },
	{ "forward_pointer", n_fwdptr, sizeof(n_fwdptr), 0, 0, SW_ELOOP, NULL, 0 },
	{ "pointer_loop", n_loop, sizeof(n_loop), 2, 0, SW_ELOOP, NULL, 0 },
	{ "pointer_to_own_start", n_ownstart, sizeof(n_ownstart), 0, 0, SW_ELOOP, NULL, 0 },
	{ "label_64", n_label64, sizeof(n_label64), 0, 0, SW_EMALFORMED, NULL, 0 },
	{ "label_type_0x80", n_type80, sizeof(n_type80), 0, 0, SW_EMALFORMED, NULL, 0 },
	{ "label_past_end", n_trunc_label, sizeof(n_trunc_label), 0, 0, SW_ETRUNC, NULL, 0 },
	{ "pointer_cut_in_half", n_trunc_ptr, sizeof(n_trunc_ptr), 0, 0, SW_ETRUNC, NULL, 0 },
	{ "no_root_label", n_no_root, sizeof(n_no_root), 0, 0, SW_ETRUNC, NULL, 0 },
	{ "offset_past_end", n_root, sizeof(n_root), 5, 0, SW_ETRUNC, NULL, 0 },
	{ "escapes", n_escapes, sizeof(n_escapes), 0, 0, 21, "a\\.b\\032\\255\\092\\042Z", 10 },
	{ "escapes_lowered", n_escapes, sizeof(n_escapes), 0, 1, 21, "a\\.b\\032\\255\\092\\042z", 10 },
};

static void run_name_case(void **state)
{
	const struct name_case *c = *state;
	char out[DNS_NAME_TEXT];
	size_t next = 12345;
	uint8_t *buf = malloc(c->len);   /* exactly sized: over-reads crash */

	assert_non_null(buf);
	memcpy(buf, c->msg, c->len);
	int rc = dns_name_at(buf, c->len, c->off, out, sizeof(out), c->lower, &next);
	assert_int_equal(rc, c->rc);
	if (rc >= 0) {
		assert_string_equal(out, c->text);
		assert_int_equal(strlen(out), (size_t)rc);
		assert_int_equal(next, c->next);
	} else {
		assert_true(strlen(out) < sizeof(out));
	}
	/* dns_name_skip agrees. */
	size_t next2 = 12345;
	int rc2 = dns_name_skip(buf, c->len, c->off, &next2);
	assert_int_equal(rc2, rc < 0 ? rc : 0);
	if (rc >= 0)
		assert_int_equal(next2, c->next);
	free(buf);
}

/* Labels summing to `total` wire octets at buf[0]. */
static size_t build(uint8_t *buf, size_t total)
{
	size_t o = 0;
	size_t left = total - 1;
	while (left > 0) {
		size_t lab = left - 1 > 63 ? 63 : left - 1;
		buf[o++] = (uint8_t)lab;
		memset(buf + o, 'x', lab);
		o += lab;
		left -= lab + 1;
	}
	buf[o++] = 0;
	return o;
}

static void test_name_255_ok_256_too_long(void **state)
{
	uint8_t buf[600];
	char out[DNS_NAME_TEXT];
	(void)state;
	size_t n = build(buf, 255);
	assert_int_equal(n, 255);
	assert_int_equal(dns_name_at(buf, n, 0, out, sizeof(out), 0, NULL), 253);
	n = build(buf, 256);
	assert_int_equal(dns_name_at(buf, n, 0, out, sizeof(out), 0, NULL), SW_ETOOLONG);
	assert_int_equal(dns_name_skip(buf, n, 0, NULL), SW_ETOOLONG);
}

/* The limit holds for the decompressed name: 192 octets earlier, then a
 * 64-octet label run pointing at it, 256 in all. */
static void test_name_256_through_pointer(void **state)
{
	uint8_t buf[600];
	char out[DNS_NAME_TEXT];
	(void)state;
	size_t n = build(buf, 192);
	size_t second = n;
	buf[n++] = 63;
	memset(buf + n, 'y', 63);
	n += 63;
	buf[n++] = 0xc0;
	buf[n++] = 0;
	assert_int_equal(dns_name_at(buf, n, second, out, sizeof(out), 0, NULL), SW_ETOOLONG);
	/* One octet shorter first name: 255, fine. */
	n = build(buf, 191);
	second = n;
	buf[n++] = 63;
	memset(buf + n, 'y', 63);
	n += 63;
	buf[n++] = 0xc0;
	buf[n++] = 0;
	size_t next;
	assert_true(dns_name_at(buf, n, second, out, sizeof(out), 0, &next) > 0);
	assert_int_equal(next, n);
}

/* A chain of pointers, each two bytes back: DNS_PTR_HOPS are followed,
 * one more is a loop by the hop cap even though each points backwards. */
static void test_hop_cap(void **state)
{
	uint8_t buf[1 + 2 * (DNS_PTR_HOPS + 1)];
	char out[16];
	(void)state;
	buf[0] = 0;   /* the root */
	for (int i = 0; i <= DNS_PTR_HOPS; i++) {
		size_t at = 1 + 2 * (size_t)i;
		size_t to = i == 0 ? 0 : at - 2;
		buf[at] = (uint8_t)(0xc0 | to >> 8);
		buf[at + 1] = (uint8_t)to;
	}
	size_t last_ok = 1 + 2 * (DNS_PTR_HOPS - 1);
	assert_int_equal(dns_name_at(buf, sizeof(buf), last_ok, out, sizeof(out), 0, NULL), 1);
	assert_string_equal(out, ".");
	assert_int_equal(dns_name_at(buf, sizeof(buf), last_ok + 2, out, sizeof(out), 0, NULL),
			 SW_ELOOP);
}

static void test_output_bounds(void **state)
{
	char out[32];
	(void)state;
	/* "www.Example.com" is 15 bytes: needs 16 with the NUL. */
	assert_int_equal(dns_name_at(n_simple, sizeof(n_simple), 0, out, 16, 0, NULL), 15);
	memset(out, 'Q', sizeof(out));
	assert_int_equal(dns_name_at(n_simple, sizeof(n_simple), 0, out, 15, 0, NULL), SW_EFULL);
	assert_true(strlen(out) < 15);
	assert_int_equal(dns_name_at(n_root, 1, 0, out, 1, 0, NULL), SW_EFULL);
	assert_int_equal(out[0], '\0');
	assert_int_equal(dns_name_at(n_root, 1, 0, out, 0, 0, NULL), SW_EFULL);
	/* An escape does not fit half-way. */
	assert_int_equal(dns_name_at(n_escapes, sizeof(n_escapes), 0, out, 6, 0, NULL), SW_EFULL);
	assert_string_equal(out, "a\\.b");
	assert_int_equal(dns_name_at(n_simple, sizeof(n_simple), 0, NULL, 16, 0, NULL), SW_EINVAL);
}

/* Every byte value in a label, both cases: only A-Z fold. */
static void test_lower_table(void **state)
{
	uint8_t buf[2 + 1];
	char a[8];
	char b[8];
	(void)state;
	for (int v = 1; v < 256; v++) {
		buf[0] = 1;
		buf[1] = (uint8_t)v;
		buf[2] = 0;
		int ra = dns_name_at(buf, 3, 0, a, sizeof(a), 0, NULL);
		int rb = dns_name_at(buf, 3, 0, b, sizeof(b), 1, NULL);
		assert_int_equal(ra, rb);
		if (v >= 'A' && v <= 'Z') {
			assert_int_equal(b[0], v + 32);
			assert_int_equal(a[0], v);
		} else {
			assert_string_equal(a, b);
		}
	}
}

/* The plain-name fast path must agree with the full walker wherever it
 * answers, and must answer for the names it is for. Random messages mix
 * plain labels, upper case, odd bytes, pointers, bad lengths and
 * truncation; each is read at offset 0. */
static void test_plain_agrees(void **state)
{
	static const char pool[] = "abcXYZ09-_";
	uint8_t msg[300];
	char a[DNS_NAME_TEXT], b[DNS_NAME_TEXT];
	unsigned answered = 0;
	(void)state;
	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t n = 0;
		int labels = rand() % 6;
		for (int l = 0; l < labels && n < 250; l++) {
			size_t c = 1 + (size_t)(rand() % (round % 50 == 0 ? 70 : 12));
			msg[n++] = (uint8_t)c;
			for (size_t k = 0; k < c && n < sizeof(msg) - 2; k++)
				msg[n++] = rand() % 40 == 0 ? (uint8_t)rand()
							     : (uint8_t)pool[rand() % 10];
		}
		if (rand() % 10 == 0)
			msg[n++] = 0xc0;
		msg[n++] = 0;
		size_t len = rand() % 8 == 0 ? (size_t)rand() % (n + 1) : n;
		size_t na = 0, nb = 0;
		int ra = dns_name_plain(msg, len, 0, a, sizeof(a), &na);
		int rb = dns_name_at(msg, len, 0, b, sizeof(b), 1, &nb);
		if (ra < 0)
			continue;
		answered++;
		assert_int_equal(ra, rb);
		assert_string_equal(a, b);
		assert_int_equal(na, nb);
	}
	/* Most names above are plain: the fast path must take them. */
	assert_true(answered > 5000);
	/* Too small an output buffer is never the fast path's to judge. */
	assert_int_equal(dns_name_plain(n_simple, sizeof(n_simple), 0, a, 64, NULL), -1);
}

/* The fast path against every byte value at every place of labels of 1 to
 * 20 bytes, with the name ending the message or followed by more bytes (a
 * reader of the label by words would take different paths for each). A
 * byte other than a letter, digit, '-' or '_' must send the name to the
 * walker (-1); any other must be answered, the way the walker answers it. */
static void test_plain_every_byte(void **state)
{
	uint8_t msg[64];
	char a[DNS_NAME_TEXT], b[DNS_NAME_TEXT];
	(void)state;
	for (size_t c = 1; c <= 20; c++) {
		for (size_t at = 0; at < c; at++) {
			for (int v = 0; v < 256; v++) {
				for (int tail = 0; tail < 2; tail++) {
					size_t n = 0;
					msg[n++] = (uint8_t)c;
					for (size_t k = 0; k < c; k++)
						msg[n++] = (uint8_t)"aZ9-_qM"[k % 7];
					msg[1 + at] = (uint8_t)v;
					msg[n++] = 2;
					msg[n++] = 'C';
					msg[n++] = 'o';
					msg[n++] = 0;
					size_t len = n;
					if (tail) {
						memset(msg + n, 0xff, sizeof(msg) - n);
						len = sizeof(msg);
					}
					size_t na = 0, nb = 0;
					int ra = dns_name_plain(msg, len, 0, a, sizeof(a), &na);
					int plain = (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
						    (v >= '0' && v <= '9') || v == '-' || v == '_';
					if (!plain) {
						if (ra != -1)
							fail_msg("label %zu, byte 0x%02x at %zu taken as plain",
								 c, v, at);
						continue;
					}
					int rb = dns_name_at(msg, len, 0, b, sizeof(b), 1, &nb);
					if (ra != rb || strcmp(a, b) != 0 || na != nb)
						fail_msg("label %zu, byte 0x%02x at %zu: \"%s\" vs \"%s\"",
							 c, v, at, a, b);
				}
			}
		}
	}
}

#define NCASES (sizeof(name_cases) / sizeof(name_cases[0]))
static const uint8_t names_msg[] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 12: www.vendor.com */
	3, 'w', 'w', 'w', 6, 'v', 'e', 'n', 'd', 'o', 'r', 3, 'c', 'o', 'm', 0,
	/* 28: pointer to 12 */
	0xc0, 12,
	/* 30: WWW.Vendor.com */
	3, 'W', 'W', 'W', 6, 'V', 'e', 'n', 'd', 'o', 'r', 3, 'c', 'o', 'm', 0,
	/* 46: another pointer to 12 */
	0xc0, 12,
	/* 48: www.vendor.net */
	3, 'w', 'w', 'w', 6, 'v', 'e', 'n', 'd', 'o', 'r', 3, 'n', 'e', 't', 0,
	/* 64: www + pointer to vendor.com at 16 */
	3, 'w', 'w', 'w', 0xc0, 16,
	/* 70: the root */
	0,
	/* 71: com */
	3, 'c', 'o', 'm', 0,
	/* 76: a pointer to itself */
	0xc0, 76,
	/* 78: a forward pointer (to 82) */
	0xc0, 82,
	/* 80: a label of type 0x40 */
	0x40, 'x',
	/* 82: [ vs { (only A-Z fold) */
	1, '[', 0,
	/* 85 */
	1, '{', 0,
	/* 88: bytes above 0x7f are not folded */
	1, 0xc1, 0,
	/* 91 */
	1, 0xe1, 0,
	/* 94: www.vendor.com.edgekey */
	3, 'w', 'w', 'w', 6, 'v', 'e', 'n', 'd', 'o', 'r', 3, 'c', 'o', 'm',
	7, 'e', 'd', 'g', 'e', 'k', 'e', 'y', 0,
	/* 118: a label running past the end */
	9, 'w', 'w',
};

static void test_names_differ(void **state)
{
	(void)state;
	struct dns_msg m;
	memset(&m, 0, sizeof(m));
	m.buf = names_msg;
	m.len = sizeof(names_msg);
	static const struct {
		const char *what;
		size_t a, b;
		int differ;
	} cases[] = {
		{ "same offset", 12, 12, 0 },
		{ "a name and a pointer to it", 12, 28, 0 },
		{ "case folded", 12, 30, 0 },
		{ "pointer and the other case", 28, 30, 0 },
		{ "last label differs", 12, 48, 1 },
		{ "label then pointer to the rest", 12, 64, 0 },
		{ "one name ends first", 12, 94, 1 },
		{ "one name ends first, by pointer", 46, 94, 1 },
		{ "root and root", 70, 70, 0 },
		{ "root and com", 70, 71, 1 },
		{ "pointer loop: cannot tell", 76, 12, 0 },
		{ "forward pointer: cannot tell", 78, 82, 0 },
		{ "label type 0x40: cannot tell", 80, 12, 0 },
		{ "[ and { are not case", 82, 85, 1 },
		{ "bytes above 0x7f are not case", 88, 91, 1 },
		{ "label past the end: cannot tell", 118, 12, 0 },
		{ "offset past the end: cannot tell", 500, 12, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = dns_names_differ(&m, cases[i].a, cases[i].b);
		int rev = dns_names_differ(&m, cases[i].b, cases[i].a);
		if (got != cases[i].differ || rev != cases[i].differ)
			fail_msg("%s: %d/%d, expected %d", cases[i].what, got, rev, cases[i].differ);
		/* "Differ" must never contradict the texts. */
		char x[DNS_NAME_TEXT], y[DNS_NAME_TEXT];
		int nx = dns_name_at(m.buf, m.len, cases[i].a, x, sizeof(x), 1, NULL);
		int ny = dns_name_at(m.buf, m.len, cases[i].b, y, sizeof(y), 1, NULL);
		if (got && nx >= 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0)
			fail_msg("%s: said to differ, but both read %s", cases[i].what, x);
	}
}

/* The labels of names_msg's names as dns_label_next() reads them:
 * lengths, then 0 at the root, or -1 where dns_name_at() fails. */
static void test_label_next(void **state)
{
	(void)state;
	struct dns_msg m;
	memset(&m, 0, sizeof(m));
	m.buf = names_msg;
	m.len = sizeof(names_msg);
	static const struct {
		const char *what;
		size_t off;
		const char *labels;       /* labels joined by '.', then "|" and the end */
	} cases[] = {
		{ "plain name", 12, "www.vendor.com|0" },
		{ "a pointer", 28, "www.vendor.com|0" },
		{ "label then pointer", 64, "www.vendor.com|0" },
		{ "the root", 70, "|0" },
		{ "pointer loop", 76, "|-1" },
		{ "forward pointer", 78, "|-1" },
		{ "label type 0x40", 80, "|-1" },
		{ "label past the end", 118, "|-1" },
		{ "offset past the end", 500, "|-1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_label_cur c;
		dns_label_start(&c, cases[i].off);
		char got[64] = "";
		size_t n = 0, lab;
		int len;
		while ((len = dns_label_next(&m, &c, &lab)) > 0 && n + (size_t)len + 1 < sizeof(got)) {
			if (n > 0)
				got[n++] = '.';
			memcpy(got + n, m.buf + lab, (size_t)len);
			n += (size_t)len;
			got[n] = '\0';
		}
		char want[80];
		snprintf(want, sizeof(want), "%s|%d", got, len);
		if (strcmp(want, cases[i].labels) != 0)
			fail_msg("%s: %s, expected %s", cases[i].what, want, cases[i].labels);
	}
}

#define NOTHER 9

int main(void)
{
	static struct CMUnitTest tests[NCASES + NOTHER];
	for (size_t i = 0; i < NCASES; i++) {
		tests[i].name = name_cases[i].name;
		tests[i].test_func = run_name_case;
		tests[i].initial_state = &name_cases[i];
	}
	const struct CMUnitTest other[NOTHER] = {
		cmocka_unit_test(test_name_255_ok_256_too_long),
		cmocka_unit_test(test_name_256_through_pointer),
		cmocka_unit_test(test_hop_cap),
		cmocka_unit_test(test_output_bounds),
		cmocka_unit_test(test_lower_table),
		cmocka_unit_test(test_plain_agrees),
		cmocka_unit_test(test_plain_every_byte),
		cmocka_unit_test(test_names_differ),
		cmocka_unit_test(test_label_next),
	};
	memcpy(tests + NCASES, other, sizeof(other));
	return cmocka_run_group_tests_name("dns_name", tests, NULL, NULL);
}
