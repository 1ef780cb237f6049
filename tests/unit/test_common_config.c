/* test_common_config.c — the config schema and parser (common/config.c).
 *
 * Table-driven: unit parsing cases, whole-file cases that must fail with a
 * given code and message, and cases that must load and set given values.
 * Files are parsed from memory with conf_load_buf named "cfg", so messages
 * read "cfg:LINE: ..."; conf_load itself is tested on real files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define SEC UINT64_C(1000000)

/* ---- units ----------------------------------------------------------- */

struct unit_case {
	const char *in;
	int rc;
	uint64_t want;
};

static const struct unit_case size_cases[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "512B", 0, 512 },
	{ "1KiB", 0, KIB },
	{ "16KiB", 0, 16 * KIB },
	{ "64MiB", 0, 64 * MIB },
	{ "4GiB", 0, 4 * GIB },
	{ "1k", 0, 1000 },
	{ "2K", 0, 2000 },
	{ "3M", 0, 3000000 },
	{ "5G", 0, 5000000000ULL },
	{ "64 MiB", 0, 64 * MIB },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", SW_ERANGE, 0 },
	{ "17179869184GiB", SW_ERANGE, 0 },     /* 2^34 GiB = 2^64 */
	{ "20000000000G", SW_ERANGE, 0 },
	{ "", SW_EINVAL, 0 },
	{ "-1", SW_EINVAL, 0 },
	{ "+1", SW_EINVAL, 0 },
	{ " 1", SW_EINVAL, 0 },
	{ "1 ", SW_EINVAL, 0 },
	{ "1.5MiB", SW_EINVAL, 0 },
	{ "1KB", SW_EINVAL, 0 },
	{ "1kib", SW_EINVAL, 0 },
	{ "1MiBx", SW_EINVAL, 0 },
	{ "MiB", SW_EINVAL, 0 },
	{ "0x10", SW_EINVAL, 0 },
	{ "1T", SW_EINVAL, 0 },
};

static const struct unit_case duration_cases[] = {
	{ "0", 0, 0 },
	{ "30", 0, 30 * SEC },
	{ "1us", 0, 1 },
	{ "5ms", 0, 5000 },
	{ "30s", 0, 30 * SEC },
	{ "5m", 0, 300 * SEC },
	{ "2h", 0, 7200 * SEC },
	{ "1d", 0, 86400 * SEC },
	{ "10 s", 0, 10 * SEC },
	{ "18446744073709551615us", 0, UINT64_MAX },
	{ "18446744073709551615", SW_ERANGE, 0 }, /* seconds: overflows */
	{ "213503983d", SW_ERANGE, 0 },     /* 2^64 us is 213503982.3 days */
	{ "", SW_EINVAL, 0 },
	{ "-1s", SW_EINVAL, 0 },
	{ "s", SW_EINVAL, 0 },
	{ "1.5s", SW_EINVAL, 0 },
	{ "1S", SW_EINVAL, 0 },
	{ "5min", SW_EINVAL, 0 },
	{ "1w", SW_EINVAL, 0 },
	{ "30s ", SW_EINVAL, 0 },
	{ "1s1", SW_EINVAL, 0 },
};

static void test_size_units(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		const struct unit_case *t = &size_cases[i];
		uint64_t v = 12345;
		int rc = conf_parse_size(t->in, &v);
		if (rc != t->rc || (rc == 0 && v != t->want))
			fail_msg("size '%s': rc %d value %llu, want rc %d "
				 "value %llu", t->in, rc, (unsigned long long)v,
				 t->rc, (unsigned long long)t->want);
	}
}

static void test_duration_units(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
		const struct unit_case *t = &duration_cases[i];
		uint64_t v = 12345;
		int rc = conf_parse_duration_us(t->in, &v);
		if (rc != t->rc || (rc == 0 && v != t->want))
			fail_msg("duration '%s': rc %d value %llu, want rc %d "
				 "value %llu", t->in, rc, (unsigned long long)v,
				 t->rc, (unsigned long long)t->want);
	}
}

static void test_bools(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc, want;
	} cases[] = {
		{ "yes", 0, 1 }, { "no", 0, 0 }, { "true", 0, 1 },
		{ "false", 0, 0 }, { "on", 0, 1 }, { "off", 0, 0 },
		{ "1", 0, 1 }, { "0", 0, 0 }, { "YES", 0, 1 }, { "Off", 0, 0 },
		{ "", SW_EINVAL, 0 }, { "y", SW_EINVAL, 0 }, { "2", SW_EINVAL, 0 },
		{ "yes ", SW_EINVAL, 0 }, { "nope", SW_EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v = -1;
		int rc = conf_parse_bool(cases[i].in, &v);
		if (rc != cases[i].rc || (rc == 0 && v != cases[i].want))
			fail_msg("bool '%s': rc %d value %d", cases[i].in, rc, v);
	}
}

/* ---- defaults -------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	struct sw_config c;

	conf_defaults(&c);
	assert_int_equal(c.capture_ring_size, 64 * MIB);
	assert_int_equal(c.capture_snaplen, 65535);
	assert_int_equal(c.capture_promisc, 1);
	assert_string_equal(c.capture_filter, "");
	assert_int_equal(c.capture_timeout_ms, 100);
	assert_int_equal(c.devices_max, 16384);
	assert_int_equal(c.devices_snapshot_interval_us, 300 * SEC);
	assert_int_equal(c.flows_max, 16384);
	assert_int_equal(c.flows_timeout_us, 60 * SEC);
	assert_int_equal(c.tcp_buffers, 1024);
	assert_int_equal(c.tcp_buffer_size, 16 * KIB);
	assert_int_equal(c.queries_max, 65536);
	assert_int_equal(c.queries_timeout_us, 5 * SEC);
	assert_int_equal(c.frag_max, 1024);
	assert_int_equal(c.frag_timeout_us, 30 * SEC);
	assert_int_equal(c.log_dns, 0);
	assert_int_equal(c.log_level, 1);
	assert_int_equal(c.stats_interval_us, 60 * SEC);
	assert_int_equal(c.output_queue_size, 65536);
	assert_string_equal(c.output_file, "");
	assert_string_equal(c.observer_name, "");
	assert_string_equal(c.rules_dir, "");
	assert_string_equal(c.run_user, "");
	assert_int_equal(c.nextra, 0);
}

/* ---- files that must fail -------------------------------------------- */

struct bad_case {
	const char *name;
	const char *text;
	int rc;
	const char *msg;   /* the whole message */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", "# x\nnope.key = 1\n", SW_EINVAL,
	  "cfg:2: unknown key 'nope.key'" },
	{ "bad duration", "# c\n\nflows.timeout = 5x\n", SW_EINVAL,
	  "cfg:3: key 'flows.timeout': expected a duration like 30s or 5m, got '5x'" },
	{ "bad size", "capture.ring_size = 64MB\n", SW_EINVAL,
	  "cfg:1: key 'capture.ring_size': expected a size like 64MiB or 512KiB, got '64MB'" },
	{ "bad uint", "devices.max = 64k\n", SW_EINVAL,
	  "cfg:1: key 'devices.max': expected a whole number like 65536, got '64k'" },
	{ "negative", "frag.max = -1\n", SW_EINVAL,
	  "cfg:1: key 'frag.max': expected a whole number like 65536, got '-1'" },
	{ "empty uint", "devices.max =\n", SW_EINVAL,
	  "cfg:1: key 'devices.max': expected a whole number like 65536, got ''" },
	{ "empty duration", "stats.interval = \"\"\n", SW_EINVAL,
	  "cfg:1: key 'stats.interval': expected a duration like 30s or 5m, got ''" },
	{ "uint below min", "devices.max = 5\n", SW_ERANGE,
	  "cfg:1: key 'devices.max': value 5 below minimum 16" },
	{ "uint above max", "devices.max = 16777217\n", SW_ERANGE,
	  "cfg:1: key 'devices.max': value 16777217 above maximum 16777216" },
	{ "uint overflow", "devices.max = 99999999999999999999999\n", SW_ERANGE,
	  "cfg:1: key 'devices.max': value 99999999999999999999999 above maximum 16777216" },
	{ "size below min", "capture.ring_size = 512KiB\n", SW_ERANGE,
	  "cfg:1: key 'capture.ring_size': value 512KiB below minimum 1MiB" },
	{ "size above max", "capture.ring_size = 5GiB\n", SW_ERANGE,
	  "cfg:1: key 'capture.ring_size': value 5GiB above maximum 4GiB" },
	{ "size overflow", "capture.ring_size = 99999999999GiB\n", SW_ERANGE,
	  "cfg:1: key 'capture.ring_size': value 99999999999GiB above maximum 4GiB" },
	{ "tcp buffer 65538", "tcp.buffer_size = 65538\n", SW_ERANGE,
	  "cfg:1: key 'tcp.buffer_size': value 65538 above maximum 65537B" },
	{ "duration below min", "queries.timeout = 50ms\n", SW_ERANGE,
	  "cfg:1: key 'queries.timeout': value 50ms below minimum 100ms" },
	{ "duration 0 not off", "queries.timeout = 0\n", SW_ERANGE,
	  "cfg:1: key 'queries.timeout': value 0 below minimum 100ms" },
	{ "duration above max", "flows.timeout = 2h\n", SW_ERANGE,
	  "cfg:1: key 'flows.timeout': value 2h above maximum 1h" },
	{ "zero-or-min", "stats.interval = 500ms\n", SW_ERANGE,
	  "cfg:1: key 'stats.interval': value 500ms below minimum 1s (or 0 for off)" },
	{ "ms field, not whole ms", "capture.timeout = 1500us\n", SW_EINVAL,
	  "cfg:1: key 'capture.timeout': value 1500us is not a whole number of milliseconds" },
	{ "bad bool", "log.dns = maybe\n", SW_EINVAL,
	  "cfg:1: key 'log.dns': expected yes/no, true/false, on/off or 1/0, got 'maybe'" },
	{ "bad enum", "log.level = loud\n", SW_EINVAL,
	  "cfg:1: key 'log.level': expected one of error, warning, info, debug, got 'loud'" },
	{ "no equals", "devices.max 5\n", SW_EINVAL,
	  "cfg:1: expected 'key = value'" },
	{ "no key", "= 5\n", SW_EINVAL, "cfg:1: expected 'key = value'" },
	{ "space in key", "devices max = 5\n", SW_EINVAL,
	  "cfg:1: expected 'key = value'" },
	{ "unterminated quote", "observer.name = \"abc\n", SW_EINVAL,
	  "cfg:1: key 'observer.name': unterminated quoted value" },
	{ "bad escape", "observer.name = \"a\\nb\"\n", SW_EINVAL,
	  "cfg:1: key 'observer.name': unknown escape in quoted value (only \\\" and \\\\)" },
	{ "text after quote", "observer.name = \"a\" b\n", SW_EINVAL,
	  "cfg:1: key 'observer.name': text after the closing quote" },
	{ "prefix alone", "output.kafka. = x\n", SW_EINVAL,
	  "cfg:1: unknown key 'output.kafka.'" },
	{ "error on later line after good ones", "devices.max = 100\r\nlog.dns = yes\r\nx\r\n",
	  SW_EINVAL, "cfg:3: expected 'key = value'" },
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *t = &bad_cases[i];
		struct sw_config c, before;
		char err[512] = "";

		conf_defaults(&c);
		before = c;
		int rc = conf_load_buf(&c, "cfg", t->text, strlen(t->text),
				       err, sizeof(err));
		if (rc != t->rc || strcmp(err, t->msg) != 0)
			fail_msg("%s: rc %d '%s', want rc %d '%s'", t->name, rc,
				 err, t->rc, t->msg);
		/* All or nothing: a bad file changes nothing. */
		if (memcmp(&c, &before, sizeof(c)) != 0)
			fail_msg("%s: config changed by a failed load", t->name);
	}
}

static void test_string_too_long(void **state)
{
	(void)state;
	char text[600], err[512];
	struct sw_config c;

	conf_defaults(&c);
	/* 255 bytes fit; 256 do not. */
	int n = snprintf(text, sizeof(text), "observer.name = %0255d\n", 0);
	assert_int_equal(conf_load_buf(&c, "cfg", text, (size_t)n, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.observer_name), 255);
	n = snprintf(text, sizeof(text), "observer.name = %0256d\n", 0);
	assert_int_equal(conf_load_buf(&c, "cfg", text, (size_t)n, err, sizeof(err)),
			 SW_ERANGE);
	assert_string_equal(err, "cfg:1: key 'observer.name': value of 256 bytes is longer "
			    "than 255 bytes");
	/* A BPF filter has room for the sensor's own live filter and more:
	 * 3,999 bytes fit, 4,000 do not, and neither is ever cut. */
	char *big = malloc(CONF_FILTER + 64);
	assert_non_null(big);
	n = snprintf(big, CONF_FILTER + 64, "capture.filter = %0*d\n", CONF_FILTER - 1, 0);
	assert_int_equal(conf_load_buf(&c, "cfg", big, (size_t)n, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.capture_filter), CONF_FILTER - 1);
	n = snprintf(big, CONF_FILTER + 64, "capture.filter = %0*d\n", CONF_FILTER, 0);
	assert_int_equal(conf_load_buf(&c, "cfg", big, (size_t)n, err, sizeof(err)), SW_ERANGE);
	assert_non_null(strstr(err, "'capture.filter': value of 4000 bytes"));
	assert_int_equal(strlen(c.capture_filter), CONF_FILTER - 1);
	free(big);
}

/* A line past CONF_LINE_MAX is refused whole, wherever it is: the reader
 * never copies more than the limit into its line buffer. */
static void test_long_lines(void **state)
{
	(void)state;
	size_t len = 3 * CONF_LINE_MAX;
	char *text = malloc(len);
	char err[512];
	struct sw_config c;

	assert_non_null(text);
	conf_defaults(&c);
	memset(text, 'a', len);
	/* A comment line of exactly CONF_LINE_MAX bytes is fine. */
	text[0] = '#';
	text[CONF_LINE_MAX] = '\n';
	assert_int_equal(conf_load_buf(&c, "cfg", text, CONF_LINE_MAX + 1, err,
				       sizeof(err)), 0);
	/* One byte more is not. */
	text[CONF_LINE_MAX] = 'a';
	assert_int_equal(conf_load_buf(&c, "cfg", text, CONF_LINE_MAX + 1, err,
				       sizeof(err)), SW_EINVAL);
	assert_string_equal(err, "cfg:1: line longer than 4096 bytes");
	/* A very long value line in second position. */
	memcpy(text, "# ok\nobserver.name = ", 21);
	assert_int_equal(conf_load_buf(&c, "cfg", text, len, err, sizeof(err)),
			 SW_EINVAL);
	assert_string_equal(err, "cfg:2: line longer than 4096 bytes");
	free(text);
}

static void test_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "devices.max = 10\0000\n";
	char err[512];
	struct sw_config c;

	conf_defaults(&c);
	assert_int_equal(conf_load_buf(&c, "cfg", text, sizeof(text) - 1, err,
				       sizeof(err)), SW_EINVAL);
	assert_string_equal(err, "cfg:1: NUL byte in line");
}

/* ---- files that must load -------------------------------------------- */

static struct sw_config *load_ok(const char *text)
{
	static struct sw_config c;
	char err[512] = "";

	conf_defaults(&c);
	int rc = conf_load_buf(&c, "cfg", text, strlen(text), err, sizeof(err));
	if (rc != 0)
		fail_msg("load failed: %d %s", rc, err);
	return &c;
}

static void test_every_key(void **state)
{
	(void)state;
	const struct sw_config *c = load_ok(
		"capture.ring_size = 128MiB\n"
		"capture.snaplen = 1500\n"
		"capture.promisc = no\n"
		"capture.filter = \"udp port 53 or tcp port 53\"\n"
		"capture.timeout = 1s\n"
		"devices.max = 16\n"
		"devices.snapshot_interval = 0\n"
		"flows.max = 16777216\n"
		"flows.timeout = 1h\n"
		"tcp.buffers = 1\n"
		"tcp.buffer_size = 65537\n"
		"queries.max = 1000\n"
		"queries.timeout = 100ms\n"
		"frag.max = 65536\n"
		"frag.timeout = 5m\n"
		"log.dns = yes\n"
		"log.level = debug\n"
		"stats.interval = 10\n"
		"output.queue_size = 64\n"
		"output.file = /var/log/stubwatch/events.json\n"
		"observer.name = site-1\n"
		"rules.dir = /usr/share/stubwatch/rules\n"
		"run.user = stubwatch\n");

	assert_int_equal(c->capture_ring_size, 128 * MIB);
	assert_int_equal(c->capture_snaplen, 1500);
	assert_int_equal(c->capture_promisc, 0);
	assert_string_equal(c->capture_filter, "udp port 53 or tcp port 53");
	assert_int_equal(c->capture_timeout_ms, 1000);
	assert_int_equal(c->devices_max, 16);
	assert_int_equal(c->devices_snapshot_interval_us, 0);
	assert_int_equal(c->flows_max, 16777216);
	assert_int_equal(c->flows_timeout_us, 3600 * SEC);
	assert_int_equal(c->tcp_buffers, 1);
	assert_int_equal(c->tcp_buffer_size, 65537);
	assert_int_equal(c->queries_max, 1000);
	assert_int_equal(c->queries_timeout_us, 100000);
	assert_int_equal(c->frag_max, 65536);
	assert_int_equal(c->frag_timeout_us, 300 * SEC);
	assert_int_equal(c->log_dns, 1);
	assert_int_equal(c->log_level, 3);
	assert_int_equal(c->stats_interval_us, 10 * SEC);
	assert_int_equal(c->output_queue_size, 64);
	assert_string_equal(c->output_file, "/var/log/stubwatch/events.json");
	assert_string_equal(c->observer_name, "site-1");
	assert_string_equal(c->rules_dir, "/usr/share/stubwatch/rules");
	assert_string_equal(c->run_user, "stubwatch");
}

static void test_enum_values(void **state)
{
	(void)state;
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char text[64];

	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "log.level = %s\n", names[i]);
		assert_int_equal(load_ok(text)->log_level, i);
	}
	assert_int_equal(load_ok("log.level = \"INFO\"")->log_level, 2);
}

static void test_quotes_and_comments(void **state)
{
	(void)state;
	const struct sw_config *c;

	c = load_ok("observer.name = \"a \\\"b\\\" \\\\ # c\"   # trailing comment\n");
	assert_string_equal(c->observer_name, "a \"b\" \\ # c");
	c = load_ok("output.file = /var/log/x.json # where\n");
	assert_string_equal(c->output_file, "/var/log/x.json");
	c = load_ok("output.file = /tmp/a#b\n");
	assert_string_equal(c->output_file, "/tmp/a#b");
	c = load_ok("output.file = \"  padded  \"\n");
	assert_string_equal(c->output_file, "  padded  ");
	c = load_ok("rules.dir =\n");
	assert_string_equal(c->rules_dir, "");
	c = load_ok("rules.dir = \"\"\n");
	assert_string_equal(c->rules_dir, "");
	c = load_ok("rules.dir = # nothing\n");
	assert_string_equal(c->rules_dir, "");
	c = load_ok("   devices.max\t=\t  100   \n\t# indented comment\n");
	assert_int_equal(c->devices_max, 100);
	c = load_ok("devices.max=200");  /* no blanks, no final newline */
	assert_int_equal(c->devices_max, 200);
	c = load_ok("capture.filter = udp and port 53\n");
	assert_string_equal(c->capture_filter, "udp and port 53");
}

static void test_empty_and_comment_only(void **state)
{
	(void)state;
	struct sw_config d;

	conf_defaults(&d);
	assert_memory_equal(load_ok(""), &d, sizeof(d));
	assert_memory_equal(load_ok("\n\n   \n\t\n"), &d, sizeof(d));
	assert_memory_equal(load_ok("# only\n  # comments\n"), &d, sizeof(d));
	assert_memory_equal(load_ok("\xEF\xBB\xBF# BOM\n"), &d, sizeof(d));
}

static void test_duplicate_last_wins(void **state)
{
	(void)state;
	const struct sw_config *c = load_ok(
		"devices.max = 100\ndevices.max = 300\n"
		"output.kafka.brokers = a:9092\noutput.kafka.brokers = b:9092\n"
		"output.kafka.property.acks = 1\noutput.kafka.property.acks = all\n");

	assert_int_equal(c->devices_max, 300);
	assert_string_equal(c->kafka_brokers, "b:9092");
	assert_int_equal(c->nextra, 1);
	assert_string_equal(conf_extra_get(c, "output.kafka.property.acks"), "all");
}

static void test_crlf(void **state)
{
	(void)state;
	const struct sw_config *c = load_ok(
		"# windows\r\n\r\nflows.timeout = 90s\r\nobserver.name = \"x\"\r\n"
		"rules.dir = r # c\r\nlog.dns = yes\r\n");

	assert_int_equal(c->flows_timeout_us, 90 * SEC);
	assert_string_equal(c->observer_name, "x");
	assert_string_equal(c->rules_dir, "r");
	assert_int_equal(c->log_dns, 1);
}

static void test_passthrough(void **state)
{
	(void)state;
	const struct sw_config *c = load_ok(
		"output.kafka.property.security.protocol = SASL_SSL\n"
		"output.kafka.property.sasl.password = \"p#ss w\\\"rd\"\n"
		"output.kafka.brokers = k1:9092,k2:9092\n"
		"output.redis.url = redis://u:p@h:6379/2\n");

	assert_int_equal(c->nextra, 2);
	assert_string_equal(c->extra[0].key, "output.kafka.property.security.protocol");
	assert_string_equal(c->extra[0].value, "SASL_SSL");
	assert_string_equal(conf_extra_get(c, "output.kafka.property.sasl.password"),
			    "p#ss w\"rd");
	/* The sinks' own keys are schema keys now, not pass-through. */
	assert_string_equal(c->kafka_brokers, "k1:9092,k2:9092");
	assert_string_equal(c->redis_url, "redis://u:p@h:6379/2");
	assert_null(conf_extra_get(c, "output.redis.url"));
}

/* The Redis, Kafka, spool and stop keys: defaults, units, ranges, enum. */
static void test_output_keys(void **state)
{
	(void)state;
	struct sw_config c;
	char err[512];

	conf_defaults(&c);
	assert_string_equal(c.redis_url, "");
	assert_string_equal(c.redis_prefix, "stubwatch");
	assert_int_equal(c.redis_maxlen, 100000);
	assert_int_equal(c.redis_publish, 0);
	assert_int_equal(c.redis_timeout_ms, 2000);
	assert_string_equal(c.kafka_prefix, "stubwatch");
	assert_int_equal(c.kafka_compression, CONF_COMP_LZ4);
	assert_string_equal(c.spool_dir, "/var/lib/stubwatch/spool");
	assert_int_equal(c.spool_max_size, 1ull << 30);
	assert_int_equal(c.spool_segment_size, 16ull << 20);
	assert_int_equal(c.output_stop_deadline_ms, 10000);

	const struct sw_config *l = load_ok(
		"output.redis.url = unix:///run/redis.sock?db=3\n"
		"output.redis.maxlen = 0\noutput.redis.publish = yes\n"
		"output.redis.timeout = 250ms\noutput.kafka.compression = ZSTD\n"
		"spool.dir = /tmp/s\nspool.max_size = 2GiB\nspool.segment_size = 64KiB\n"
		"output.stop_deadline = 1m\n");
	assert_string_equal(l->redis_url, "unix:///run/redis.sock?db=3");
	assert_int_equal(l->redis_maxlen, 0);
	assert_int_equal(l->redis_publish, 1);
	assert_int_equal(l->redis_timeout_ms, 250);
	assert_int_equal(l->kafka_compression, CONF_COMP_ZSTD);
	assert_string_equal(l->spool_dir, "/tmp/s");
	assert_int_equal(l->spool_max_size, 2ull << 30);
	assert_int_equal(l->spool_segment_size, 64 << 10);
	assert_int_equal(l->output_stop_deadline_ms, 60000);

	assert_int_equal(conf_set(&c, "output.kafka.compression", "brotli", "x", err,
				  sizeof(err)), SW_EINVAL);
	assert_string_equal(err, "x: key 'output.kafka.compression': expected one of "
			    "none, gzip, snappy, lz4, zstd, got 'brotli'");
	assert_int_equal(conf_set(&c, "output.redis.maxlen", "10", "x", err, sizeof(err)),
			 SW_ERANGE);
	assert_string_equal(err, "x: key 'output.redis.maxlen': value 10 below minimum "
			    "1000 (or 0 for off)");
	assert_int_equal(conf_set(&c, "spool.max_size", "1KiB", "x", err, sizeof(err)),
			 SW_ERANGE);
	assert_int_equal(conf_set(&c, "output.stop_deadline", "0", "x", err, sizeof(err)),
			 SW_ERANGE);
	assert_int_equal(conf_set(&c, "output.redis.password", "x", "x", err, sizeof(err)),
			 SW_EINVAL);
	assert_string_equal(err, "x: unknown key 'output.redis.password'");
	assert_int_equal(conf_set(&c, "output.kafka.property.", "x", "x", err, sizeof(err)),
			 SW_EINVAL);
}

static void test_passthrough_full(void **state)
{
	(void)state;
	char text[4096], err[512];
	size_t n = 0;
	struct sw_config c;

	for (int i = 0; i < CONF_MAX_LIST; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "output.kafka.property.p%d = %d\n", i, i);
	conf_defaults(&c);
	assert_int_equal(conf_load_buf(&c, "cfg", text, n, err, sizeof(err)), 0);
	assert_int_equal(c.nextra, CONF_MAX_LIST);
	/* Replacing an existing key still works when the list is full. */
	assert_int_equal(conf_set(&c, "output.kafka.property.p3", "x", "command line",
				  err, sizeof(err)), 0);
	assert_string_equal(conf_extra_get(&c, "output.kafka.property.p3"), "x");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "output.kafka.property.q = x\n");
	conf_defaults(&c);
	assert_int_equal(conf_load_buf(&c, "cfg", text, n, err, sizeof(err)), SW_EFULL);
	assert_string_equal(err, "cfg:17: key 'output.kafka.property.q': more than 16 "
			    "output.kafka.property.* keys");
	assert_int_equal(c.nextra, 0);
}

static void test_conf_set(void **state)
{
	(void)state;
	struct sw_config c;
	char err[512];

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "log.dns", "yes", "command line", err, sizeof(err)), 0);
	assert_int_equal(c.log_dns, 1);
	assert_int_equal(conf_set(&c, "capture.filter", "udp port 53", "-f", err,
				  sizeof(err)), 0);
	assert_string_equal(c.capture_filter, "udp port 53");
	assert_int_equal(conf_set(&c, "rules.dir", "\"quoted\" # kept", "--rules",
				  err, sizeof(err)), 0);
	assert_string_equal(c.rules_dir, "\"quoted\" # kept");
	assert_int_equal(conf_set(&c, "no.such", "1", "command line", err, sizeof(err)),
			 SW_EINVAL);
	assert_string_equal(err, "command line: unknown key 'no.such'");
	assert_int_equal(conf_set(&c, "devices.max", "1", "command line", err, sizeof(err)),
			 SW_ERANGE);
	assert_string_equal(err, "command line: key 'devices.max': value 1 below minimum 16");
	assert_int_equal(c.devices_max, 16384);
	assert_int_equal(conf_set(&c, "output.kafka.property.acks", "all", "command line",
				  err, sizeof(err)), 0);
	assert_string_equal(conf_extra_get(&c, "output.kafka.property.acks"), "all");
	/* A tiny err buffer is cut, never overrun. */
	char small[8];
	memset(small, 'x', sizeof(small));
	assert_int_equal(conf_set(&c, "no.such", "1", "command line", small, 5), SW_EINVAL);
	assert_string_equal(small, "comm");
	assert_int_equal(small[5], 'x');
}

/* ---- real files ------------------------------------------------------ */

static void test_missing_file(void **state)
{
	(void)state;
	struct sw_config c;
	char err[512];

	conf_defaults(&c);
	assert_int_equal(conf_load(&c, "/nonexistent/stubwatch.conf", err, sizeof(err)),
			 SW_EIO);
	assert_string_equal(err, "/nonexistent/stubwatch.conf: No such file or directory");
	assert_int_equal(conf_load(&c, "/tmp", err, sizeof(err)), SW_EIO);
	assert_string_equal(err, "/tmp: a folder, not a regular file (configuration is read "
			    "from a regular file only)");
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/stubwatch-test-conf-XXXXXX";
	static const char text[] = "devices.max = 1024\nlog.level = info\n";
	char err[512], want[600];
	struct sw_config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	assert_int_equal(write(fd, "bad\n", 4), 4);
	close(fd);
	conf_defaults(&c);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), SW_EINVAL);
	snprintf(want, sizeof(want), "%s:3: expected 'key = value'", path);
	assert_string_equal(err, want);
	assert_int_equal(truncate(path, sizeof(text) - 1), 0);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.devices_max, 1024);
	assert_int_equal(c.log_level, 2);
	unlink(path);
}

/* contrib/stubwatch.conf is the generated example, committed: it must load
 * as all defaults and match what conf_print_example prints today (tests run
 * from the repository root). */
static void test_example_file(void **state)
{
	(void)state;
	struct sw_config c, d;
	char err[512], *gen = NULL, *file;
	size_t genlen = 0;
	FILE *f;

	conf_defaults(&c);
	d = c;
	if (conf_load(&c, "contrib/stubwatch.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_memory_equal(&c, &d, sizeof(c));

	f = open_memstream(&gen, &genlen);
	assert_non_null(f);
	conf_print_example(f);
	fclose(f);
	file = calloc(1, genlen + 2);
	assert_non_null(file);
	f = fopen("contrib/stubwatch.conf", "r");
	assert_non_null(f);
	size_t got = fread(file, 1, genlen + 1, f);
	fclose(f);
	if (got != genlen || memcmp(file, gen, genlen) != 0)
		fail_msg("contrib/stubwatch.conf is out of date with the schema; "
			 "regenerate it from conf_print_example()");
	free(file);
	free(gen);
}

/* Every row of --help-config starts its columns where the header's do. */
static void test_print_schema(void **state)
{
	(void)state;
	char *out = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	long type_col = -1, rows = 0;

	assert_non_null(f);
	conf_print_schema(f);
	fclose(f);
	assert_non_null(strstr(out, "\ndevices.max "));
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Passed through", 14) == 0)
			break;          /* the pass-through footer */
		if (type_col < 0) {
			type_col = strstr(line, "TYPE") - line;
			continue;
		}
		rows++;
		assert_true(line[type_col - 1] == ' ' && line[type_col] != ' ');
	}
	assert_int_equal(rows, 53);
	free(out);
}

/* Where each key got its value: its line in the file, the command line
 * (which wins when later), or nowhere for a default; a message about a key
 * checked later is rewritten to name that place, others are left alone. */
static void test_origins(void **state)
{
	(void)state;
	struct sw_config *c = load_ok("# x\n\ndetect.modules = behaviour\nrun.user = a\n");
	char buf[300], out[400], err[256];

	assert_string_equal(conf_where(c, "detect.modules", buf, sizeof(buf)), "cfg:3");
	assert_string_equal(conf_where(c, "run.user", buf, sizeof(buf)), "cfg:4");
	assert_null(conf_where(c, "devices.max", buf, sizeof(buf)));
	assert_null(conf_where(c, "no.such.key", buf, sizeof(buf)));
	assert_int_equal(conf_set(c, "run.user", "b", "command line", err, sizeof(err)), 0);
	assert_string_equal(conf_where(c, "run.user", buf, sizeof(buf)), "command line");
	conf_locate(c, "detect.modules: unknown family 'x'", out, sizeof(out));
	assert_string_equal(out, "cfg:3: key 'detect.modules': unknown family 'x'");
	conf_locate(c, "devices.max: a default", out, sizeof(out));
	assert_string_equal(out, "devices.max: a default");
	conf_locate(c, "no colon here", out, sizeof(out));
	assert_string_equal(out, "no colon here");
	/* a failed line leaves the origin where it was */
	assert_int_not_equal(conf_load_buf(c, "other", "run.user = c\nbad\n", 17, err,
					   sizeof(err)), 0);
	assert_string_equal(conf_where(c, "run.user", buf, sizeof(buf)), "command line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_string_too_long),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_quotes_and_comments),
		cmocka_unit_test(test_empty_and_comment_only),
		cmocka_unit_test(test_duplicate_last_wins),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_passthrough_full),
		cmocka_unit_test(test_output_keys),
		cmocka_unit_test(test_conf_set),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_print_schema),
		cmocka_unit_test(test_origins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
