/* test_output_spool.c — spool records (encode/decode, named edge cases),
 * segments, prepend, cap and the cursor across a reopen (output/spool.c),
 * and the sink URL parsers (output/sink.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "output/sink.h"
#include "output/spool.h"

static struct out_event mkev(int ds, const char *key, const char *json)
{
	struct out_event e;
	memset(&e, 0, sizeof(e));
	e.dataset = (uint8_t)ds;
	snprintf(e.key, sizeof(e.key), "%s", key);
	e.json = (char *)(uintptr_t)json;
	e.len = strlen(json);
	return e;
}

/* ---- records --------------------------------------------------------- */

static void test_record_roundtrip(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct out_event e = mkev(OUT_DS_DNS, "aa:bb:cc:dd:ee:ff", "{\"a\":1}"), d;
	size_t used, n = spool_encode(&e, buf, sizeof(buf));

	assert_int_equal(n, SPOOL_HDR + 17 + 7 + 1);
	assert_int_equal(spool_decode(buf, n, &d, &used), 0);
	assert_int_equal(used, n);
	assert_int_equal(d.dataset, OUT_DS_DNS);
	assert_string_equal(d.key, "aa:bb:cc:dd:ee:ff");
	assert_int_equal(d.len, 7);
	assert_string_equal(d.json, "{\"a\":1}");
	/* CRC-32C check values (RFC 3720 B.4: 32 bytes of zeros, of ones,
	 * incrementing, decrementing; and the catalogue's "123456789") */
	uint8_t z[32] = { 0 }, f[32], inc[32], dec[32];
	for (int i = 0; i < 32; i++) {
		f[i] = 0xff;
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	assert_int_equal(spool_crc32c(z, 32), 0x8A9136AAu);
	assert_int_equal(spool_crc32c(f, 32), 0x62A8AB43u);
	assert_int_equal(spool_crc32c(inc, 32), 0x46DD794Eu);
	assert_int_equal(spool_crc32c(dec, 32), 0x113FDB5Cu);
	assert_int_equal(spool_crc32c("123456789", 9), 0xE3069283u);
	/* Every one-byte message against the bitwise definition: each reads a
	 * different entry of the table, so all 256 entries are checked. */
	for (unsigned b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;
		uint32_t c = 0xFFFFFFFFu ^ byte;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		assert_int_equal(spool_crc32c(&byte, 1), c ^ 0xFFFFFFFFu);
	}
}

struct bad_case {
	const char *name;
	size_t at;          /* byte to change (or SIZE_MAX: truncate to `len`) */
	uint8_t value;
	size_t len;
	int want;
};

static void test_record_bad(void **state)
{
	(void)state;
	uint8_t good[256], buf[256];
	struct out_event e = mkev(OUT_DS_ALERT, "k", "{}"), d;
	size_t used, n = spool_encode(&e, good, sizeof(good));
	const struct bad_case cases[] = {
		{ "header cut", SIZE_MAX, 0, 10, SW_EINCOMPLETE },
		{ "body cut", SIZE_MAX, 0, 18, SW_EINCOMPLETE },
		{ "empty", SIZE_MAX, 0, 0, SW_EINCOMPLETE },
		{ "length lies", 0, 99, 0, SW_EMALFORMED },
		{ "crc flipped", 4, 0, 0, SW_EMALFORMED },
		{ "dataset out of range", 8, OUT_DS_MAX, 0, SW_EMALFORMED },
		{ "key length 40", 9, 40, 0, SW_EMALFORMED },
		{ "reserved set", 10, 1, 0, SW_EMALFORMED },
		{ "json byte changed", 17, 'x', 0, SW_EMALFORMED },
		{ "no terminator", 19, 'x', 0, SW_EMALFORMED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		size_t len = n;
		memcpy(buf, good, n);
		if (c->at == SIZE_MAX)
			len = c->len;
		else if (c->at == 4)
			buf[4] ^= 0xFF;
		else
			buf[c->at] = c->value;
		if (spool_decode(buf, len, &d, &used) != c->want)
			fail_msg("case '%s': want %d", c->name, c->want);
	}
	/* key of 40 bytes or more cannot be encoded */
	struct out_event big = e;
	memset(big.key, 'k', sizeof(big.key));
	assert_int_equal(spool_encode(&big, buf, sizeof(buf)), 0);
	assert_int_equal(spool_encode(&e, buf, 5), 0);   /* buffer too small */
}

/* ---- segments --------------------------------------------------------- */

static char dir[64];

static int mk(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/stubwatch-test-spool-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int rm(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Reads everything (consuming) and checks the json texts are want[0..n). */
static void drain_expect(struct spool *sp, const char *const *want, size_t n)
{
	struct out_event ev[8];
	size_t got = 0;
	int k;

	while ((k = spool_read(sp, ev, 8)) > 0) {
		for (int i = 0; i < k; i++, got++) {
			assert_true(got < n);
			assert_string_equal(ev[i].json, want[got]);
		}
		spool_consume(sp, (size_t)k);
	}
	assert_int_equal(k, 0);
	assert_int_equal(got, n);
	assert_false(spool_pending(sp));
}

static void test_segments_order(void **state)
{
	(void)state;
	char err[256], sub[128], js[64][16];
	const char *want[64];
	struct out_event ev[64];
	struct spool *sp;

	snprintf(sub, sizeof(sub), "%s/a/b", dir);   /* created on first write */
	sp = spool_open(sub, 1 << 20, 200, 0, err, sizeof(err));
	assert_non_null(sp);
	assert_false(spool_pending(sp));
	for (int i = 0; i < 64; i++) {
		snprintf(js[i], sizeof(js[i]), "{\"n\":%d}", i);
		ev[i] = mkev(OUT_DS_DNS, "m", js[i]);
	}
	/* 40 appended over many 200-byte segments, then 3 put in front */
	assert_int_equal(spool_append(sp, ev + 3, 40), 40);
	assert_int_equal(spool_prepend(sp, ev, 3), 3);
	assert_true(spool_pending(sp));
	/* a read stops at a segment's end: the 3 in front, then 2 more;
	 * close, reopen: the cursor resumes */
	struct out_event r[5];
	assert_int_equal(spool_read(sp, r, 5), 3);
	assert_string_equal(r[0].json, js[0]);
	spool_consume(sp, 3);
	assert_int_equal(spool_read(sp, r, 2), 2);
	assert_string_equal(r[0].json, js[3]);
	spool_consume(sp, 2);
	spool_close(sp);
	sp = spool_open(sub, 1 << 20, 200, 0, err, sizeof(err));
	assert_non_null(sp);
	for (int i = 0; i < 38; i++)
		want[i] = js[5 + i];
	drain_expect(sp, want, 38);
	spool_close(sp);
	/* consumed segments are deleted */
	sp = spool_open(sub, 1 << 20, 200, 0, err, sizeof(err));
	assert_false(spool_pending(sp));
	assert_int_equal(spool_bytes(sp), 0);
	spool_close(sp);
}

static void test_cap(void **state)
{
	(void)state;
	char err[256], sub[128], js[100][16];
	struct out_event ev[100];
	const char *want[100];
	struct spool *sp;

	snprintf(sub, sizeof(sub), "%s/cap", dir);
	/* each record: 16 + 1 + 9..10 + 1 = 27..28 bytes; segments hold 8 + 3 */
	sp = spool_open(sub, 1000, 100, 0, err, sizeof(err));
	for (int i = 0; i < 100; i++) {
		snprintf(js[i], sizeof(js[i]), "{\"n\":%d}", i);
		ev[i] = mkev(OUT_DS_STATS, "k", js[i]);
		want[i] = js[i];
	}
	size_t k = spool_append(sp, ev, 100);
	assert_true(k > 10 && k < 100);
	assert_true(spool_bytes(sp) <= 1000);
	/* full: nothing more, not even a small one, until a segment is gone */
	assert_int_equal(spool_append(sp, ev, 1), 0);
	drain_expect(sp, want, k);
	assert_int_equal(spool_append(sp, ev, 1), 1);
	spool_close(sp);
}

static void test_corrupt_segment(void **state)
{
	(void)state;
	char err[256], sub[128], path[256];
	struct out_event ev[2] = { mkev(0, "a", "{\"x\":1}"), mkev(0, "a", "{\"x\":2}") };
	const char *want[] = { "{\"x\":1}" };
	struct spool *sp;
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/torn", dir);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_int_equal(spool_append(sp, ev, 2), 2);
	spool_close(sp);
	/* a crash mid-write: the second record loses its last bytes */
	snprintf(path, sizeof(path), "%s/0000010000000000.seg", sub);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	assert_int_equal(ftruncate(fileno(f), ftell(f) - 3), 0);
	fclose(f);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	drain_expect(sp, want, 1);
	assert_int_equal(spool_corrupt(sp), 1);
	spool_close(sp);
}

/* Moves a spool file elsewhere and leaves a symbolic link to it in its
 * place. */
static void move_behind_link(const char *path, const char *elsewhere)
{
	assert_int_equal(rename(path, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, path), 0);
}

/* Spool files get their modes whatever the umask (folder 0750, segments
 * 0640, cursor 0600), and no spool file is opened through a symbolic link:
 * a link planted where the next segment goes is not written through, one
 * that replaces a segment is skipped and removed (its target left alone),
 * a cursor that is one is ignored; with follow_symlinks they are used. */
static void test_modes_and_links(void **state)
{
	(void)state;
	char err[256], sub[128], path[300], victim[300];
	struct out_event ev[3] = { mkev(0, "a", "{\"x\":1}"), mkev(0, "a", "{\"x\":2}"),
				   mkev(0, "a", "{\"x\":3}") };
	const char *want[] = { "{\"x\":2}", "{\"x\":3}" };
	struct out_event r[1];
	struct spool *sp;
	struct stat st;
	mode_t old = umask(0);

	snprintf(sub, sizeof(sub), "%s/modes", dir);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_int_equal(spool_append(sp, ev, 3), 3);
	assert_int_equal(spool_read(sp, r, 1), 1);
	spool_consume(sp, 1);
	spool_close(sp);          /* partly read: a cursor is written */
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/0000010000000000.seg", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(path, sizeof(path), "%s/cursor", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);

	/* The cursor as a link: used when followed (the read event is
	 * skipped), else ignored (reading starts at the segment's start). */
	snprintf(victim, sizeof(victim), "%s/cursor-elsewhere", dir);
	move_behind_link(path, victim);
	sp = spool_open(sub, 1 << 20, 1 << 20, 1, err, sizeof(err));
	assert_int_equal(spool_read(sp, r, 1), 1);
	assert_string_equal(r[0].json, want[0]);
	spool_close(sp);
	move_behind_link(path, victim);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_int_equal(spool_read(sp, r, 1), 1);
	assert_string_equal(r[0].json, "{\"x\":1}");
	spool_close(sp);

	/* A link where the next segment goes: nothing is written through it. */
	FILE *f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/planted", dir);
	assert_int_equal(mkdir(sub, 0750), 0);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_non_null(sp);
	snprintf(path, sizeof(path), "%s/0000010000000000.seg", sub);
	assert_int_equal(symlink(victim, path), 0);   /* after the open: a race */
	assert_int_equal(spool_append(sp, ev, 1), 0);
	assert_int_equal(spool_last_errno(sp), ELOOP);
	spool_close(sp);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 9);

	/* A segment replaced by a link to a valid segment: skipped, removed. */
	snprintf(sub, sizeof(sub), "%s/replaced", dir);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_int_equal(spool_append(sp, ev, 2), 2);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/0000010000000000.seg", sub);
	move_behind_link(path, victim);
	sp = spool_open(sub, 1 << 20, 1 << 20, 0, err, sizeof(err));
	assert_int_equal(spool_read(sp, r, 1), 0);
	assert_int_equal(spool_corrupt(sp), 1);
	assert_false(spool_pending(sp));
	spool_close(sp);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(stat(victim, &st), 0);
}

/* ---- URLs ------------------------------------------------------------ */

struct url_case {
	const char *url;
	int rc;
	const char *host, *path, *user, *password;
	int port, db;
};

static void test_redis_urls(void **state)
{
	(void)state;
	const struct url_case cases[] = {
		{ "redis://127.0.0.1:6380/2", 0, "127.0.0.1", "", "", "", 6380, 2 },
		{ "redis://h", 0, "h", "", "", "", 6379, 0 },
		{ "redis://h/", 0, "h", "", "", "", 6379, 0 },
		{ "redis://:s3cret@h:1", 0, "h", "", "", "s3cret", 1, 0 },
		{ "redis://alice:p%40ss%3A@h:7/15", 0, "h", "", "alice", "p@ss:", 7, 15 },
		{ "redis://[::1]:6390/1", 0, "::1", "", "", "", 6390, 1 },
		{ "redis://[::1]", 0, "::1", "", "", "", 6379, 0 },
		{ "unix:///run/redis/redis.sock", 0, "", "/run/redis/redis.sock", "", "", 6379, 0 },
		{ "unix:///tmp/r.sock?db=4", 0, "", "/tmp/r.sock", "", "", 6379, 4 },
		{ "unix://:pw@/tmp/r.sock", 0, "", "/tmp/r.sock", "", "pw", 6379, 0 },
		{ "redis://h:0", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://h:65536", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://h:port", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://h/db", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://h?db=1", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://user@h", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://u:@h", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://u:%zz@h", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://u:%4@h", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://:6379", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://[::1", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "redis://[::1]x", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "unix://relative", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "unix:///", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "unix:///s?db=x", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
		{ "http://h", SW_EINVAL, 0, 0, 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct url_case *c = &cases[i];
		struct redis_url u;
		char err[256] = "";
		int rc = redis_url_parse(c->url, &u, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (%s)", c->url, rc, c->rc, err);
		if (rc != 0) {
			if (err[0] == '\0')
				fail_msg("%s: no message", c->url);
			continue;
		}
		if (strcmp(u.host, c->host) || strcmp(u.path, c->path) || strcmp(u.user, c->user) ||
		    strcmp(u.password, c->password) || u.port != c->port || u.db != c->db)
			fail_msg("%s: got host '%s' path '%s' user '%s' pass '%s' port %d db %d",
				 c->url, u.host, u.path, u.user, u.password, u.port, u.db);
	}
}

static void test_kafka_urls(void **state)
{
	(void)state;
	struct kafka_url u;
	char err[256];

	assert_int_equal(kafka_url_parse("kafka://a:9092,b:9092/sw", &u, err, sizeof(err)), 0);
	assert_string_equal(u.brokers, "a:9092,b:9092");
	assert_string_equal(u.prefix, "sw");
	assert_int_equal(kafka_url_parse("kafka://a:9092", &u, err, sizeof(err)), 0);
	assert_string_equal(u.prefix, "");
	const char *bad[] = { "kafka:///sw", "kafka://a,,b/sw", "kafka://,a/x", "kafka://a,/x",
			      "kafka://a/bad topic", "kafka://a/x/y", "redis://a", NULL };
	for (int i = 0; bad[i]; i++)
		if (kafka_url_parse(bad[i], &u, err, sizeof(err)) != SW_EINVAL)
			fail_msg("%s accepted", bad[i]);
	char s[32];
	out_safe_name("redis-::1-6379-0/../x", s, sizeof(s));
	assert_string_equal(s, "redis-__1-6379-0_.._x");
	out_safe_name("..", s, sizeof(s));
	assert_string_equal(s, "_.");
}

/* Messages about a sink show its URL masked; the parsers' own messages
 * never repeat a password, also of a malformed URL. */
static void test_url_mask(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "redis://:hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0" },
		{ "redis://alice:hunter2@h", "redis://alice:***@h" },
		{ "redis://hunter2@h:99999", "redis://***@h:99999" },
		{ "redis://:hun@ter2@h", "redis://:***@h" },
		{ "rediss://:hunter2@h", "rediss://:***@h" },
		{ "unix://:hunter2@/run/r.sock", "unix://:***@/run/r.sock" },
		{ "kafka://u:hunter2@b:9092/sw", "kafka://u:***@b:9092/sw" },
		{ "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0" },
		{ "file:/var/log/a@b.json", "file:/var/log/a@b.json" },
		{ "/var/log/x.json", "/var/log/x.json" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[128];
		out_url_mask(cases[i][0], buf, sizeof(buf));
		if (strcmp(buf, cases[i][1]) != 0)
			fail_msg("%s: masked as '%s', want '%s'", cases[i][0], buf, cases[i][1]);
	}
	static const char *const bad[] = { "kafka://u:hunter2@b:9092/sw", "kafka://hunter2@b/sw",
					   "kafka://b:9092,u:hunter2@c/sw", "redis://:hunter2@h:99999",
					   "redis://hunter2@h", "redis://:hunter2@[::1",
					   "unix://:hunter2@rel" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kafka_url ku;
		struct redis_url ru;
		char err[256] = "";
		int rc = strncmp(bad[i], "kafka:", 6) == 0 ?
			 kafka_url_parse(bad[i], &ku, err, sizeof(err)) :
			 redis_url_parse(bad[i], &ru, err, sizeof(err));
		if (rc != SW_EINVAL)
			fail_msg("%s accepted", bad[i]);
		if (strstr(err, "hunter2") != NULL)
			fail_msg("%s: message shows the password: %s", bad[i], err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_bad),
		cmocka_unit_test(test_segments_order),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_corrupt_segment),
		cmocka_unit_test(test_modes_and_links),
		cmocka_unit_test(test_redis_urls),
		cmocka_unit_test(test_kafka_urls),
		cmocka_unit_test(test_url_mask),
	};
	return cmocka_run_group_tests(tests, mk, rm);
}
