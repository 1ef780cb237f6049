/* test_enrich_oui.c — MAC vendor from the IEEE registries: the installed
 * Debian ieee-data files, and small registries written here with exactly
 * known contents (RFC 4180 quoting, line ends, the .txt form, longest
 * prefix, duplicates, damaged rows, missing files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "enrich/enrich.h"

/* ---- helpers ------------------------------------------------------------- */

struct tmpdir {
	char path[64];
	char files[8][32];
	int n;
};

static void td_make(struct tmpdir *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "/tmp/sw-oui-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

/* Writes `len` bytes (len 0: strlen) of data as dir/name. */
static void td_write(struct tmpdir *t, const char *name, const char *data, size_t len)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", t->path, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	if (len == 0)
		len = strlen(data);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_true(t->n < 8);
	snprintf(t->files[t->n++], sizeof(t->files[0]), "%s", name);
}

static void td_remove(struct tmpdir *t)
{
	char p[128];
	for (int i = 0; i < t->n; i++) {
		snprintf(p, sizeof(p), "%s/%s", t->path, t->files[i]);
		unlink(p);
	}
	rmdir(t->path);
}

static void mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	assert_int_equal(sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3],
				&v[4], &v[5]), 6);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

/* Vendor of a MAC in text form, through the raw lookup. */
static const char *vendor(const struct enr_oui *o, const char *s)
{
	uint8_t mac[6];
	mac_parse(s, mac);
	return enr_oui_lookup(o, mac);
}

struct want {
	const char *name;    /* what the case shows */
	const char *mac;
	const char *vendor;  /* NULL: none expected */
};

static void check_table(const struct enr_oui *o, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = vendor(o, w[i].mac);
		if ((got == NULL) != (w[i].vendor == NULL) ||
		    (got != NULL && strcmp(got, w[i].vendor) != 0))
			fail_msg("%s: %s → \"%s\", want \"%s\"", w[i].name, w[i].mac,
				 got ? got : "(null)", w[i].vendor ? w[i].vendor : "(null)");
	}
}

/* ---- the installed registry ---------------------------------------------- */

static struct enr_oui *real;

static int real_setup(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	real = enr_oui_load(ENR_OUI_DIR_DEFAULT, note, sizeof(note));
	if (real == NULL || note[0] != '\0') {
		fprintf(stderr, "test_enrich_oui: %s (install Debian package ieee-data)\n",
			real ? note : "load failed");
		return -1;
	}
	return 0;
}

static int real_teardown(void **state)
{
	(void)state;
	enr_oui_free(real);
	real = NULL;
	return 0;
}

static void test_real_known_vendors(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ "MA-L plain", "00:17:88:12:34:56", "Philips Lighting BV" },
		{ "MA-L quoted", "24:0a:c4:00:00:01", "Espressif Inc." },
		{ "MA-L quoted comma", "44:19:b6:aa:bb:cc",
		  "Hangzhou Hikvision Digital Technology Co.,Ltd." },
		{ "MA-L upper-case input irrelevant", "44:19:B6:00:00:00",
		  "Hangzhou Hikvision Digital Technology Co.,Ltd." },
		{ "MA-M block", "20:85:93:b1:23:45", "IOG Products LLC" },
		{ "MA-M quoted comma", "20:85:93:a0:00:00", "H3 Industries, Inc." },
		{ "MA-S block", "70:b3:d5:f2:f0:01", "TELEPLATFORMS" },
		{ "MA-S quotes and UTF-8", "70:b3:d5:f2:5f:ff",
		  "JSC \xe2\x80\x9cScientific Industrial Enterprise \"Rubin\"" },
		{ "MA-S next block", "70:b3:d5:f2:d0:00", "ID Lock AS" },
		{ "IAB block", "00:50:c2:7d:50:00", "DEUTA-WERKE GmbH" },
		{ "IAB doubled quotes", "00:50:c2:ed:a1:23",
		  "Joint Stock Company \"Svyaz Inginiring M\"" },
		{ "split MA-L outside its blocks", "8c:1f:64:ff:ff:ff",
		  "IEEE Registration Authority" },
		{ "double assignment: first wins", "08:00:30:00:00:01",
		  "NETWORK RESEARCH CORPORATION" },
		{ "multi-line quoted address", "c4:04:d8:00:00:00", "Aviva Links Inc." },
		{ "row after multi-line field", "a0:44:f3:00:00:00", "RafaelMicro" },
		{ "unassigned", "ff:ff:fe:00:00:00", NULL },
	};
	check_table(real, w, sizeof(w) / sizeof(w[0]));
	/* 32,530 MA-L + 4,412 MA-M + 5,050 MA-S + 4,575 IAB rows in 2022,
	 * less the doubles; newer data only grows. */
	assert_true(enr_oui_count(real) > 45000);
	assert_true(enr_oui_bytes(real) > 500000);
	assert_true(enr_oui_bytes(real) < 4000000);
}

static void test_real_mac_info(void **state)
{
	(void)state;
	uint8_t mac[6];
	struct enr_mac_info mi;

	mac_parse("00:17:88:01:02:03", mac);
	mi = enr_mac_info(real, mac);
	assert_string_equal(mi.vendor, "Philips Lighting BV");
	assert_false(mi.locally_administered);
	assert_false(mi.multicast);

	/* A randomised MAC (IEEE 802c local space): flagged, no vendor, even
	 * where a historic registry entry shares the prefix. */
	mac_parse("da:a1:19:5e:22:01", mac);
	mi = enr_mac_info(real, mac);
	assert_null(mi.vendor);
	assert_true(mi.locally_administered);
	assert_false(mi.multicast);
	mac_parse("02:60:8c:00:00:01", mac);
	assert_string_equal(enr_oui_lookup(real, mac), "3COM");
	mi = enr_mac_info(real, mac);
	assert_null(mi.vendor);
	assert_true(mi.locally_administered);

	/* Group address: the owner of the OUI with the I/G bit cleared. */
	mac_parse("01:00:5e:00:00:fb", mac);
	mi = enr_mac_info(real, mac);
	assert_true(mi.multicast);
	assert_false(mi.locally_administered);
	assert_string_equal(mi.vendor, "ICANN, IANA Department");
	mac_parse("33:33:00:00:00:fb", mac);
	mi = enr_mac_info(real, mac);
	assert_true(mi.multicast);
	assert_true(mi.locally_administered);
	assert_null(mi.vendor);

	/* No registry: the flags still hold. */
	mac_parse("03:00:00:00:00:00", mac);
	mi = enr_mac_info(NULL, mac);
	assert_null(mi.vendor);
	assert_true(mi.multicast);
	assert_true(mi.locally_administered);
}

/* ---- registries with known contents -------------------------------------- */

/* CRLF and LF rows, quoting with commas, doubled quotes and a line break
 * inside a field, spaces around a name, a double assignment, damaged rows,
 * invalid UTF-8, and a block whose parent has no MA-L row. */
static const char oui_csv[] =
	"Registry,Assignment,Organization Name,Organization Address\r\n"
	"MA-L,001122,Plain Vendor,1 Road Town\r\n"
	"MA-L,0A0B0C,\"Comma, Quote \"\"Q\"\" Ltd\",\"Street 1\r\nTown 2\"\r\n"
	"MA-L,A1B2C3,  Spaced Name  ,\n"
	"MA-L,001122,Second Claim Inc,Later row\r\n"
	"MA-L,ZZ1122,Bad Hex,\r\n"
	"MA-L,12345,Too Short,\r\n"
	"MA-L,334455,,empty name\r\n"
	"MA-L,abcdef,lower-case hex\r\n"
	"MA-L,C0FFEE,Caf\xc3\xa9 \xff Bytes,\r\n"
	"garbage line without fields\r\n"
	"\r\n"
	"MA-L,70B3D5,IEEE Registration Authority,445 Hoes Lane\r\n"
	"MA-L,C4C4C4,Last Row No Newline,x";

/* 0A0B0C:1 is an MA-M block under a named MA-L; 5C5C5C:F has no parent. */
static const char mam_csv[] =
	"Registry,Assignment,Organization Name,Organization Address\r\n"
	"MA-M,0A0B0C1,Medium Block Co,\r\n"
	"MA-M,5C5C5CF,Orphan Block GmbH,\r\n"
	"MA-M,70B3D5F,Medium Under RA,\r\n";

/* 70B3D5F2F sits inside the 70B3D5F MA-M block (not so in the real
 * registry) to check that 36 bits beat 28 beat 24. */
static const char oui36_csv[] =
	"Registry,Assignment,Organization Name,Organization Address\r\n"
	"MA-S,70B3D5F2F,Small Block SA,\"a, b\"\r\n"
	"MA-S,0A0B0C123,\"Smallest \"\"Quoted\"\"\",\r\n";

static void test_csv_exact(void **state)
{
	(void)state;
	struct tmpdir t;
	char note[ENR_NOTE_LEN];
	td_make(&t);
	td_write(&t, "oui.csv", oui_csv, 0);
	td_write(&t, "mam.csv", mam_csv, 0);
	td_write(&t, "oui36.csv", oui36_csv, 0);
	struct enr_oui *o = enr_oui_load(t.path, note, sizeof(note));
	assert_non_null(o);
	/* iab.csv is missing: one notice naming it. */
	assert_non_null(strstr(note, "IAB registry missing"));
	assert_non_null(strstr(note, t.path));
	assert_null(strstr(note, "MA-M"));

	static const struct want w[] = {
		{ "plain", "00:11:22:33:44:55", "Plain Vendor" },
		{ "quoted comma, doubled quotes, CRLF in field", "0a:0b:0c:00:00:00",
		  "Comma, Quote \"Q\" Ltd" },
		{ "LF-only row, trimmed", "a1:b2:c3:00:00:00", "Spaced Name" },
		{ "lower-case hex, 3 fields", "ab:cd:ef:00:00:00", "lower-case hex" },
		{ "invalid UTF-8 replaced", "c0:ff:ee:00:00:00", "Caf\xc3\xa9 ? Bytes" },
		{ "last row without newline", "c4:c4:c4:00:00:00", "Last Row No Newline" },
		{ "bad hex skipped", "00:00:00:00:00:00", NULL },
		{ "empty name skipped", "33:44:55:00:00:00", NULL },
		{ "MA-M beats MA-L", "0a:0b:0c:10:00:00", "Medium Block Co" },
		{ "MA-M block edge", "0a:0b:0c:1f:ff:ff", "Medium Block Co" },
		{ "MA-L outside MA-M", "0a:0b:0c:20:00:00", "Comma, Quote \"Q\" Ltd" },
		{ "MA-S beats MA-M", "0a:0b:0c:12:30:00", "Smallest \"Quoted\"" },
		{ "MA-S beats MA-M beats MA-L", "70:b3:d5:f2:ff:ff", "Small Block SA" },
		{ "MA-M around MA-S", "70:b3:d5:f3:00:00", "Medium Under RA" },
		{ "MA-L around MA-M", "70:b3:d5:e0:00:00", "IEEE Registration Authority" },
		{ "orphan MA-M block", "5c:5c:5c:f0:00:01", "Orphan Block GmbH" },
		{ "orphan's parent has no name", "5c:5c:5c:e0:00:01", NULL },
	};
	check_table(o, w, sizeof(w) / sizeof(w[0]));
	/* First row wins a double assignment. */
	assert_string_equal(vendor(o, "00:11:22:00:00:00"), "Plain Vendor");
	/* 7 named MA-L + 3 MA-M + 2 MA-S; the nameless parent not counted. */
	assert_int_equal(enr_oui_count(o), 12);
	/* Names are interned: one pointer for one name. */
	assert_ptr_equal(vendor(o, "0a:0b:0c:00:00:00"), vendor(o, "0a:0b:0c:ff:00:00"));
	enr_oui_free(o);
	td_remove(&t);
}

/* The .txt forms, used when there is no .csv: "(hex)" lines, then
 * "(base 16)" lines whose range gives the block size. */
static const char oui_txt[] =
	"OUI/MA-L                                                    Organization\r\n"
	"company_id                                                  Organization\r\n"
	"                                                            Address\r\n"
	"\r\n"
	"00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.\r\n"
	"002272     (base 16)\t\tAmerican Micro-Fuel Device Corp.\r\n"
	"\t\t\t\t2181 Buchanan Loop\r\n"
	"\t\t\t\tUS\r\n"
	"\r\n"
	"70-B3-D5   (hex)\t\tIEEE Registration Authority\r\n"
	"70B3D5     (base 16)\t\tIEEE Registration Authority\r\n"
	"\r\n"
	"AB-CD-EF   (hex)\t\tNo Base16 Line, Still MA-L\n"
	"\n"
	"0X-22-72   (hex)\t\tBroken\r\n";

static const char mam_txt[] =
	"OUI-28/MA-M Range                                           Organization\r\n"
	"\r\n"
	"70-B3-D5   (hex)\t\tTxt Medium\r\n"
	"900000-9FFFFF     (base 16)\t\tTxt Medium\r\n"
	"\r\n"
	"70-B3-D5   (hex)\t\tNot A Block\r\n"
	"A00000-A0FFFF     (base 16)\t\tNot A Block\r\n"
	"\r\n"
	"70-B3-D5   (hex)\t\tNo Range Here\r\n";

static const char oui36_txt[] =
	"OUI-36/MA-S Range                                           Organization\r\n"
	"\r\n"
	"70-B3-D5   (hex)\t\tTxt Small\r\n"
	"F2F000-F2FFFF     (base 16)\t\tTxt Small\r\n"
	"\t\t\t\tMoscow\r\n";

static void test_txt_fallback(void **state)
{
	(void)state;
	struct tmpdir t;
	char note[ENR_NOTE_LEN];
	td_make(&t);
	td_write(&t, "oui.txt", oui_txt, 0);
	td_write(&t, "mam.txt", mam_txt, 0);
	td_write(&t, "oui36.txt", oui36_txt, 0);
	struct enr_oui *o = enr_oui_load(t.path, note, sizeof(note));
	assert_non_null(o);
	static const struct want w[] = {
		{ "MA-L from (hex)", "00:22:72:01:02:03", "American Micro-Fuel Device Corp." },
		{ "MA-L without (base 16)", "ab:cd:ef:00:00:00", "No Base16 Line, Still MA-L" },
		{ "MA-M from range", "70:b3:d5:9a:bc:de", "Txt Medium" },
		{ "MA-S from range", "70:b3:d5:f2:f1:23", "Txt Small" },
		{ "odd range ignored", "70:b3:d5:a0:00:00", "IEEE Registration Authority" },
		{ "MA-L around", "70:b3:d5:00:00:00", "IEEE Registration Authority" },
	};
	check_table(o, w, sizeof(w) / sizeof(w[0]));
	assert_int_equal(enr_oui_count(o), 5);
	assert_non_null(strstr(note, "IAB registry missing"));
	enr_oui_free(o);
	td_remove(&t);
}

/* A name past the kept length is cut at a character boundary, never in the
 * middle of a UTF-8 sequence. */
static void test_long_name_cut(void **state)
{
	(void)state;
	struct tmpdir t;
	char buf[1024];
	char note[ENR_NOTE_LEN];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "MA-L,0000AA,X");
	for (int i = 0; i < 200; i++) {
		memcpy(buf + n, "\xc3\xa9", 2);  /* é, two bytes */
		n += 2;
	}
	memcpy(buf + n, ",addr\n", 7);
	td_make(&t);
	td_write(&t, "oui.csv", buf, 0);
	struct enr_oui *o = enr_oui_load(t.path, note, sizeof(note));
	assert_non_null(o);
	const char *v = vendor(o, "00:00:aa:00:00:00");
	assert_non_null(v);
	/* 'X' + 127 × é = 255 bytes: the 128th é would end at byte 257. */
	assert_int_equal(strlen(v), 255);
	assert_int_equal((unsigned char)v[253], 0xc3);
	assert_int_equal((unsigned char)v[254], 0xa9);
	/* The others missing: named in the notice. */
	assert_non_null(strstr(note, "MA-M registry missing"));
	assert_non_null(strstr(note, "MA-S registry missing"));
	enr_oui_free(o);
	td_remove(&t);
}

static void test_missing_dir(void **state)
{
	(void)state;
	char note[ENR_NOTE_LEN];
	struct enr_oui *o = enr_oui_load("/nonexistent/stubwatch-ieee", note, sizeof(note));
	assert_non_null(o);
	assert_non_null(strstr(note, "no IEEE registry in /nonexistent/stubwatch-ieee"));
	assert_non_null(strstr(note, "ieee-data"));
	assert_int_equal(enr_oui_count(o), 0);
	assert_null(vendor(o, "00:17:88:12:34:56"));
	struct enr_mac_info mi = enr_mac_info(o, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 1 });
	assert_null(mi.vendor);
	assert_true(mi.locally_administered);
	enr_oui_free(o);
	/* NULL registry and NULL notice are both allowed. */
	assert_null(vendor(NULL, "00:17:88:12:34:56"));
	o = enr_oui_load("/nonexistent/stubwatch-ieee", NULL, 0);
	assert_non_null(o);
	enr_oui_free(o);
}

/* A file present but holding no assignment (wrong file, truncated) is
 * reported as empty, not silently taken. */
static void test_empty_file(void **state)
{
	(void)state;
	struct tmpdir t;
	char note[ENR_NOTE_LEN];
	td_make(&t);
	td_write(&t, "oui.csv", "Registry,Assignment,Organization Name\r\n", 0);
	td_write(&t, "mam.csv", "", 1);  /* one NUL byte */
	td_write(&t, "oui36.csv", oui36_csv, 0);
	td_write(&t, "iab.csv", "<html>not a registry</html>\n", 0);
	struct enr_oui *o = enr_oui_load(t.path, note, sizeof(note));
	assert_non_null(o);
	assert_non_null(strstr(note, "MA-L registry empty"));
	assert_non_null(strstr(note, "MA-M registry empty"));
	assert_non_null(strstr(note, "IAB registry empty"));
	assert_null(strstr(note, "MA-S"));
	/* MA-S blocks still resolve; their parents have no name. */
	assert_string_equal(vendor(o, "70:b3:d5:f2:f0:00"), "Small Block SA");
	assert_null(vendor(o, "70:b3:d5:00:00:00"));
	enr_oui_free(o);
	td_remove(&t);
}

int main(void)
{
	const struct CMUnitTest real_tests[] = {
		cmocka_unit_test(test_real_known_vendors),
		cmocka_unit_test(test_real_mac_info),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_exact),
		cmocka_unit_test(test_txt_fallback),
		cmocka_unit_test(test_long_name_cut),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_empty_file),
	};
	int rc = cmocka_run_group_tests_name("enrich_oui_installed", real_tests,
					     real_setup, real_teardown);
	rc += cmocka_run_group_tests_name("enrich_oui", tests, NULL, NULL);
	return rc != 0;
}
