/* test_output_jw.c — the streaming JSON writer: every output parses with
 * jansson and holds what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "output/jw.h"

static json_t *parse(struct jw *w)
{
	size_t len;
	char *s = jw_take(w, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	json_error_t e;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
	if (j == NULL)
		fail_msg("not JSON: %s (%s)", s, e.text);
	free(s);
	return j;
}

static void test_nesting_and_order(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w, 8); /* tiny: forces the buffer to grow */
	jw_obj(&w, NULL);
	jw_str(&w, "a", "x");
	jw_obj(&w, "o");
	jw_arr(&w, "l");
	jw_int(&w, NULL, -5);
	jw_uint(&w, NULL, UINT64_MAX);
	jw_obj(&w, NULL);
	jw_end(&w);
	jw_arr(&w, NULL);
	jw_end(&w);
	jw_end(&w);
	jw_bool(&w, "t", 1);
	jw_bool(&w, "f", 0);
	jw_null(&w, "n");
	jw_end(&w);
	jw_end(&w);
	size_t len;
	char *s = jw_take(&w, &len);
	assert_string_equal(s, "{\"a\":\"x\",\"o\":{\"l\":[-5,18446744073709551615,{},[]],"
			    "\"t\":true,\"f\":false,\"n\":null}}");
	free(s);
}

static const struct {
	const char *name;
	const char *in;
	size_t n;
	const char *json;
} esc_cases[] = {
	{ "plain", "time.example.com", 16, "\"time.example.com\"" },
	{ "quote and backslash", "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "control characters", "\n\r\t\x01\x1f", 5, "\"\\n\\r\\t\\u0001\\u001f\"" },
	{ "bytes that are not UTF-8 as latin-1", "\xc3\xff", 2, "\"\\u00c3\\u00ff\"" },
	{ "well-formed UTF-8 passes", "\xc2\xa7 \xe2\x9c\x94", 6, "\"\xc2\xa7 \xe2\x9c\x94\"" },
	{ "overlong and surrogate forms escaped", "\xc0\xaf\xed\xa0\x80", 5,
	  "\"\\u00c0\\u00af\\u00ed\\u00a0\\u0080\"" },
	{ "embedded NUL", "a\0b", 3, "\"a\\u0000b\"" },
	{ "empty", "", 0, "\"\"" },
};

static void test_escapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		struct jw w;
		jw_init(&w, 16);
		jw_arr(&w, NULL);
		jw_strn(&w, NULL, esc_cases[i].in, esc_cases[i].n);
		jw_end(&w);
		size_t len;
		char *s = jw_take(&w, &len);
		char want[128];
		snprintf(want, sizeof(want), "[%s]", esc_cases[i].json);
		if (strcmp(s, want) != 0)
			fail_msg("%s: got %s want %s", esc_cases[i].name, s, want);
		free(s);
		/* And jansson reads back the same bytes. */
		jw_init(&w, 16);
		jw_arr(&w, NULL);
		jw_strn(&w, NULL, esc_cases[i].in, esc_cases[i].n);
		jw_end(&w);
		json_t *j = parse(&w);
		const char *back = json_string_value(json_array_get(j, 0));
		size_t blen = json_string_length(json_array_get(j, 0));
		/* Bytes read as Latin-1 come back as UTF-8, everything else as written. */
		if (i != 3 && i != 5) {
			assert_int_equal(blen, esc_cases[i].n);
			assert_memory_equal(back, esc_cases[i].in, blen);
		}
		json_decref(j);
	}
}

/* Strings built from tokens whose escaped form is known, at every offset
 * and length, so the word-at-a-time scan meets each kind of byte in every
 * position of a word and at both ends of the string. */
static void test_escapes_every_position(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} tok[] = {
		{ "a", "a" }, { "Z", "Z" }, { "7", "7" }, { " ", " " }, { "~", "~" },
		{ "\x7f", "\x7f" }, { "\"", "\\\"" }, { "\\", "\\\\" }, { "\n", "\\n" },
		{ "\x01", "\\u0001" }, { "\x1f", "\\u001f" }, { "\xc3\xa9", "\xc3\xa9" },
		{ "\xe2\x82\xac", "\xe2\x82\xac" }, { "\xff", "\\u00ff" }, { "\x80", "\\u0080" },
	};
	const size_t ntok = sizeof(tok) / sizeof(tok[0]);
	(void)state;
	srand(11);
	for (int round = 0; round < 5000; round++) {
		char in[128], want[512];
		size_t n = 0, m = 0;
		want[m++] = '[';
		want[m++] = '"';
		int count = rand() % 40;
		for (int t = 0; t < count; t++) {
			/* Mostly plain, as event text is. */
			size_t k = rand() % 4 ? (size_t)(rand() % 5) : (size_t)(rand() % ntok);
			size_t a = strlen(tok[k].in), b = strlen(tok[k].out);
			memcpy(in + n, tok[k].in, a);
			memcpy(want + m, tok[k].out, b);
			n += a;
			m += b;
		}
		want[m++] = '"';
		want[m++] = ']';
		want[m] = '\0';
		struct jw w;
		jw_init(&w, 16);
		jw_arr(&w, NULL);
		jw_strn(&w, NULL, in, n);
		jw_end(&w);
		size_t len;
		char *s = jw_take(&w, &len);
		assert_non_null(s);
		assert_string_equal(s, want);
		free(s);
	}
}

static const struct {
	double v;
	const char *text;
} real_cases[] = {
	{ 0.0, "0.0" }, { 1.0, "1.0" }, { 2.0, "2.0" }, { 1.0 / 3.0, "0.3333" },
	{ 0.66666, "0.6667" }, { 0.5, "0.5" }, { 12.34, "12.34" }, { -0.25, "-0.25" },
	{ 0.99996, "1.0" },
};

static void test_real4(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++) {
		struct jw w;
		jw_init(&w, 16);
		jw_arr(&w, NULL);
		jw_real4(&w, NULL, real_cases[i].v);
		jw_end(&w);
		size_t len;
		char *s = jw_take(&w, &len);
		char want[64];
		snprintf(want, sizeof(want), "[%s]", real_cases[i].text);
		assert_string_equal(s, want);
		free(s);
	}
	struct jw w;
	jw_init(&w, 16);
	jw_arr(&w, NULL);
	jw_real4(&w, NULL, 0.0 / 0.0);
	jw_end(&w);
	size_t len;
	char *s = jw_take(&w, &len);
	assert_string_equal(s, "[null]");
	free(s);
}

static void test_too_deep(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w, 16);
	for (int i = 0; i < JW_DEPTH + 2; i++)
		jw_arr(&w, NULL);
	size_t len;
	assert_null(jw_take(&w, &len));
}

/* Lengths no event reaches fail the writer instead of wrapping its size
 * arithmetic; nothing is read from the (too short) text, and the error
 * sticks. */
static void test_absurd_length(void **state)
{
	(void)state;
	static const char text[] = "\"x\"";
	const size_t huge[] = { SIZE_MAX / 3, SIZE_MAX / 2, SIZE_MAX - 8 };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		struct jw w;
		jw_init(&w, 16);
		jw_obj(&w, NULL);
		jw_raw(&w, "a", text, huge[i]);
		jw_uint(&w, "b", 1);
		jw_end(&w);
		size_t len;
		assert_null(jw_take(&w, &len));
		jw_init(&w, 16);
		jw_arr(&w, NULL);
		jw_strn(&w, NULL, text, huge[i]);
		jw_end(&w);
		assert_null(jw_take(&w, &len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_order),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_escapes_every_position),
		cmocka_unit_test(test_real4),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_absurd_length),
	};
	return cmocka_run_group_tests_name("output_jw", tests, NULL, NULL);
}
