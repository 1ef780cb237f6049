/* config.c — the configuration schema table and the one parser that reads it.
 *
 * Every key lives in `conf_schema` below with its type, field, range, default
 * (as text, parsed by the same code as a config file, so a default cannot
 * drift from what a user could write) and help. The file reader, the
 * command-line override (conf_set), --help-config and the example config all
 * walk that one table.
 */
#include "common/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

#define US_PER_MS UINT64_C(1000)
#define US_PER_S UINT64_C(1000000)
#define US_PER_M (60 * US_PER_S)
#define US_PER_H (60 * US_PER_M)
#define US_PER_D (24 * US_PER_H)

/* Largest config file conf_load reads: the full example with every key is
 * under 8 KiB, so 1 MiB is room for any hand-written or generated file while
 * refusing to slurp a wrong path such as a capture file. */
#define CONF_FILE_MAX (1024 * 1024)

enum conf_type {
	CONF_BOOL,      /* int: 0 or 1 */
	CONF_UINT,      /* uint32_t or uint64_t, a plain decimal count */
	CONF_SIZE,      /* uint32_t or uint64_t bytes, with binary/decimal units */
	CONF_DURATION,  /* uint64_t, microseconds (or `scale` of them) */
	CONF_STRING,    /* char[width]: CONF_STR, or CONF_FILTER for BPF text */
	CONF_ENUM       /* int: index into `names` */
};

/* Flag: 0 is accepted below `min` and means "off". */
#define CONF_ZERO_OFF 1u

struct conf_def {
	const char *key;           /* dotted name as written in the file */
	enum conf_type type;
	size_t off;                /* offset of the field in struct sw_config */
	size_t width;              /* sizeof the field, checked against type */
	uint64_t min, max;         /* inclusive; bytes or microseconds */
	unsigned scale;            /* durations: microseconds per stored unit, 0 = 1 */
	unsigned flags;            /* CONF_ZERO_OFF */
	const char *const *names;  /* CONF_ENUM: NULL-terminated value names */
	const char *def;           /* default, as config text */
	const char *help;          /* one line */
};

#define FIELD(f) .off = offsetof(struct sw_config, f), \
	.width = sizeof(((struct sw_config *)0)->f)

static const char *const conf_log_levels[] = {
	"error", "warning", "info", "debug", NULL
};

const char *const conf_compression_names[] = {
	"none", "gzip", "snappy", "lz4", "zstd", NULL
};

/* Key prefixes kept verbatim in sw_config.extra for the sink that owns them:
 * librdkafka properties, set on the producer as they are written. */
static const char *const conf_passthrough[] = {
	"output.kafka.property.", NULL
};

static const struct conf_def conf_schema[] = {
	/* A 1 Gbit/s link carries at most ~125 MB/s, so 64 MiB per interface
	 * rides out about half a second of the capture thread being late. The
	 * ring is kernel memory: 64 MiB × each interface. 1 MiB is the smallest
	 * ring that holds a few full-size TPACKET_V3 blocks; 4 GiB is the
	 * largest libpcap's buffer size (an int) can ask for. */
	{ .key = "capture.ring_size", .type = CONF_SIZE, FIELD(capture_ring_size),
	  .min = MIB, .max = 4 * GIB, .def = "64MiB",
	  .help = "kernel capture ring per interface" },
	/* 65535 holds any IPv4 or IPv6 packet short of a jumbogram. 256 still
	 * covers Ethernet + VLAN + IPv6 + TCP headers and a DNS header with its
	 * question; 262144 is libpcap's MAXIMUM_SNAPLEN. */
	{ .key = "capture.snaplen", .type = CONF_UINT, FIELD(capture_snaplen),
	  .min = 256, .max = 262144, .def = "65535",
	  .help = "bytes kept of each packet" },
	{ .key = "capture.promisc", .type = CONF_BOOL, FIELD(capture_promisc),
	  .max = 1, .def = "yes",
	  .help = "put live interfaces in promiscuous mode" },
	/* Off: a SPAN session that tags one direction only (or each with its
	 * own tag) must not split a device or orphan its answers. On for
	 * networks that reuse addresses and MACs across VLANs. */
	{ .key = "capture.vlan_tracking", .type = CONF_BOOL, FIELD(capture_vlan_tracking),
	  .max = 1, .def = "no",
	  .help = "key devices and match answers by VLAN tag as well" },
	{ .key = "capture.filter", .type = CONF_STRING, FIELD(capture_filter),
	  .def = "", .help = "BPF filter; empty = the sensor's own filter" },
	/* libpcap's read timeout: 0 would mean "block forever" on some
	 * platforms, and beyond a minute stats and expiry would lag on a quiet
	 * link. Stored in milliseconds (libpcap's unit). */
	{ .key = "capture.timeout", .type = CONF_DURATION, FIELD(capture_timeout_ms),
	  .min = US_PER_MS, .max = US_PER_M, .scale = 1000, .def = "100ms",
	  .help = "live capture read timeout (whole milliseconds)" },
	/* Packet times come from the capture file (or the NIC): a damaged
	 * record or a clock set wrong can put one packet years ahead. A day is
	 * far beyond any gap of a capture that is running, yet short of the
	 * damage done by a clock left in the future: every table entry would
	 * expire and every rate be computed against it. Ten years covers any
	 * gap between lab captures replayed together. */
	{ .key = "capture.max_time_jump", .type = CONF_DURATION,
	  FIELD(capture_max_time_jump_us), .min = US_PER_S, .max = 3650 * US_PER_D,
	  .flags = CONF_ZERO_OFF, .def = "1d",
	  .help = "a packet this far ahead of the previous ones does not move the clock "
	  "(capture_time_jump) unless the next one confirms it; 0 = off" },
	/* Worker threads, each with its own engine; a device's packets all go
	 * to one of them. 0 picks the online CPUs for live capture and one for
	 * a replay (whose output then stays the single engine's). 64 is far
	 * past the point where the one reader thread that feeds them stops
	 * keeping up (README, benchmark). */
	{ .key = "capture.workers", .type = CONF_UINT, FIELD(capture_workers),
	  .max = 64, .def = "0",
	  .help = "worker threads (0: one per online CPU live, one for a replay)" },

	/* A device costs about 5 KiB across every table that keeps state for
	 * it (its entry, the detect layer's rings and verdicts, the modules'
	 * per-device state and answer caches): measured with a flood of
	 * random MACs, 16384 devices peak at 137 MiB of RSS in all and 65536
	 * at 383 MiB. 16384 keeps the worst case under 150 MiB; raise it for
	 * bigger networks behind one sensor. */
	{ .key = "devices.max", .type = CONF_UINT, FIELD(devices_max),
	  .min = 16, .max = 16 * MIB, .def = "16384",
	  .help = "devices tracked at once (LRU evicted beyond)" },
	{ .key = "devices.snapshot_interval", .type = CONF_DURATION,
	  FIELD(devices_snapshot_interval_us), .min = US_PER_S, .max = 7 * US_PER_D,
	  .flags = CONF_ZERO_OFF, .def = "5m",
	  .help = "re-emit every device this often; 0 = only on change and exit" },

	/* A flow entry (normalised 5-tuple, TCP sequence state, a buffer
	 * index) is ~128 B: 16384 × 128 B = 2 MiB; the reassembly bytes are
	 * tcp.buffers below. */
	{ .key = "flows.max", .type = CONF_UINT, FIELD(flows_max),
	  .min = 16, .max = 16 * MIB, .def = "16384",
	  .help = "TCP/TLS/QUIC flows tracked at once" },
	/* A DNS/TCP connection idle past a minute is done for our purposes;
	 * an hour is longer than any resolver keeps one open. */
	{ .key = "flows.timeout", .type = CONF_DURATION, FIELD(flows_timeout_us),
	  .min = US_PER_S, .max = US_PER_H, .def = "60s",
	  .help = "forget a flow idle this long" },
	/* 1024 × 16 KiB = 16 MiB of reassembly; at the caps 65536 × 64 KiB
	 * would be 4 GiB, the most anyone should give a sensor. */
	{ .key = "tcp.buffers", .type = CONF_UINT, FIELD(tcp_buffers),
	  .min = 1, .max = 65536, .def = "1024",
	  .help = "DNS-over-TCP reassembly buffers shared by all flows" },
	/* Most DNS/TCP messages fit in 16 KiB (zone transfers aside); a DNS
	 * message over TCP is at most 65535 bytes plus its 2-byte length
	 * (RFC 1035 4.2.2), hence 65537. 512 is the classic UDP DNS limit. */
	{ .key = "tcp.buffer_size", .type = CONF_SIZE, FIELD(tcp_buffer_size),
	  .min = 512, .max = 65537, .def = "16KiB",
	  .help = "bytes per reassembly buffer; longer messages are skipped" },

	/* 65536 × 200 B per outstanding query (entry, key, header) ≈ 12.5 MiB.
	 * 2000 devices at 1 query/s with a 5 s time-out keep ~10,000
	 * outstanding. Bigger is not free: the bucket array is hit at random
	 * on every query and response, and at 262144 it no longer stayed in
	 * cache (25% slower on the benchmark capture). */
	{ .key = "queries.max", .type = CONF_UINT, FIELD(queries_max),
	  .min = 16, .max = 16 * MIB, .def = "65536",
	  .help = "outstanding (unanswered) queries tracked at once" },
	/* Stub resolvers retry after 1 to 5 s (RFC 1536, glibc's 5 s), so a
	 * query unanswered after 5 s is unanswered; 5 minutes is past any
	 * retry schedule. */
	{ .key = "queries.timeout", .type = CONF_DURATION, FIELD(queries_timeout_us),
	  .min = 100 * US_PER_MS, .max = 5 * US_PER_M, .def = "5s",
	  .help = "a query without an answer after this counts as unanswered" },

	/* 1024 datagrams in reassembly × up to 64 KiB each = 64 MiB worst
	 * case; fragmented DNS answers are ~4 KiB, so ~4 MiB in practice. */
	{ .key = "frag.max", .type = CONF_UINT, FIELD(frag_max),
	  .min = 16, .max = 65536, .def = "1024",
	  .help = "IP datagrams in reassembly at once" },
	/* Linux's ipfrag_time is 30 s; RFC 8200 4.5 gives IPv6 60 s, and
	 * 5 minutes is beyond any stack's reassembly timer. */
	{ .key = "frag.timeout", .type = CONF_DURATION, FIELD(frag_timeout_us),
	  .min = US_PER_S, .max = 5 * US_PER_M, .def = "30s",
	  .help = "give up on an incomplete datagram after this" },

	{ .key = "log.dns", .type = CONF_BOOL, FIELD(log_dns),
	  .max = 1, .def = "no",
	  .help = "emit one stubwatch.dns event per DNS transaction" },
	{ .key = "log.level", .type = CONF_ENUM, FIELD(log_level),
	  .max = 3, .names = conf_log_levels, .def = "warning",
	  .help = "diagnostics on stderr: error, warning, info or debug" },

	/* Stats more often than once a second would outnumber alerts. */
	{ .key = "stats.interval", .type = CONF_DURATION, FIELD(stats_interval_us),
	  .min = US_PER_S, .max = US_PER_D, .flags = CONF_ZERO_OFF, .def = "60s",
	  .help = "emit stubwatch.stats this often; 0 = only at exit" },

	/* A slot is 64 B: 65536 × 64 B = 4 MiB, plus the JSON text in flight
	 * (~400 B an event, ≤ 26 MiB when full). At 200,000 events/s that is a
	 * third of a second of slack for a slow sink. Fewer than 64 slots would
	 * not fill one output batch. */
	{ .key = "output.queue_size", .type = CONF_UINT, FIELD(output_queue_size),
	  .min = 64, .max = 16 * MIB, .def = "65536",
	  .help = "events queued between capture and the output thread" },
	{ .key = "output.file", .type = CONF_STRING, FIELD(output_file),
	  .def = "", .help = "JSON-lines file sink path; - = stdout; empty = none" },
	/* On SIGTERM the sinks get this long to take what is queued; the
	 * rest is spooled. 10 s leaves systemd's 90 s stop timeout plenty;
	 * 10 minutes is the most a stop should ever take. */
	{ .key = "output.stop_deadline", .type = CONF_DURATION,
	  FIELD(output_stop_deadline_ms), .min = 100 * US_PER_MS, .max = 10 * US_PER_M,
	  .scale = 1000, .def = "10s",
	  .help = "on stop, sinks get this long to flush; the rest is spooled" },
	/* An events file or spool file replaced by a symbolic link would make
	 * the sensor (root, before it drops privileges) write where the link
	 * points: refused unless the operator says links are meant. */
	{ .key = "output.follow_symlinks", .type = CONF_BOOL, FIELD(output_follow_symlinks),
	  .max = 1, .def = "no",
	  .help = "write events and spool files through a symbolic link" },
	{ .key = "output.redis.url", .type = CONF_STRING, FIELD(redis_url),
	  .def = "", .help = "redis://[user:password@]host:port[/db] or "
	  "unix:///path[?db=N]; empty = none" },
	/* A secret in a file of its own (mode 0600, or a systemd credential)
	 * keeps it out of the URL, the configuration and the process list. */
	{ .key = "output.redis.password_file", .type = CONF_STRING, FIELD(redis_password_file),
	  .def = "", .help = "file whose first line is the Redis password, when the URL has "
	  "none (else $STUBWATCH_REDIS_PASSWORD); empty = none" },
	{ .key = "output.redis.prefix", .type = CONF_STRING, FIELD(redis_prefix),
	  .def = "stubwatch", .help = "Redis key prefix (<prefix>:dns, <prefix>:device:<mac>)" },
	/* A stream entry is ~500 B of JSON, so 100,000 entries per dataset is
	 * ~50 MiB of Redis memory for dns, the busiest; 1000 is a minute of a
	 * small network, 10^9 more than any Redis holds. */
	{ .key = "output.redis.maxlen", .type = CONF_UINT, FIELD(redis_maxlen),
	  .min = 1000, .max = 1000000000, .flags = CONF_ZERO_OFF, .def = "100000",
	  .help = "XADD MAXLEN ~ n per stream; 0 = never trim" },
	{ .key = "output.redis.publish", .type = CONF_BOOL, FIELD(redis_publish),
	  .max = 1, .def = "no", .help = "also PUBLISH every event on <prefix>:live" },
	/* A local Redis answers in well under a millisecond; 2 s rides out a
	 * busy server or a slow link, and bounds how long a frozen server
	 * holds its sink's thread. */
	{ .key = "output.redis.timeout", .type = CONF_DURATION, FIELD(redis_timeout_ms),
	  .min = 10 * US_PER_MS, .max = US_PER_M, .scale = 1000, .def = "2s",
	  .help = "Redis connect and command timeout (whole milliseconds)" },
	{ .key = "output.kafka.brokers", .type = CONF_STRING, FIELD(kafka_brokers),
	  .def = "", .help = "Kafka bootstrap brokers host:port[,host:port]; empty = none" },
	{ .key = "output.kafka.prefix", .type = CONF_STRING, FIELD(kafka_prefix),
	  .def = "stubwatch", .help = "Kafka topic prefix (<prefix>.dns, <prefix>.devices, ...)" },
	{ .key = "output.kafka.sasl_password_file", .type = CONF_STRING,
	  FIELD(kafka_sasl_password_file), .def = "",
	  .help = "file whose first line is librdkafka's sasl.password (else "
	  "$STUBWATCH_KAFKA_SASL_PASSWORD); empty = none" },
	{ .key = "output.kafka.compression", .type = CONF_ENUM, FIELD(kafka_compression),
	  .max = 4, .names = conf_compression_names, .def = "lz4",
	  .help = "Kafka compression.type: none, gzip, snappy, lz4 or zstd" },

	/* Where a sink's events wait while it is down: one folder per sink. */
	{ .key = "spool.dir", .type = CONF_STRING, FIELD(spool_dir),
	  .def = "/var/lib/stubwatch/spool",
	  .help = "folder of the sinks' spools (one subfolder per sink)" },
	/* 1 GiB is ~2 million events of ~500 B: at a busy site's 2,000
	 * events/s, a quarter of an hour of a sink being down; at a home's
	 * 20/s, more than a day. 64 KiB is the smallest that holds a few
	 * device snapshots; 1 TiB is past any disk given to a sensor. */
	{ .key = "spool.max_size", .type = CONF_SIZE, FIELD(spool_max_size),
	  .min = 64 * KIB, .max = 1024 * GIB, .def = "1GiB",
	  .help = "bytes a sink's spool may hold; beyond, its events are dropped" },
	/* 16 MiB segments: a consumed one is deleted at once, so disk use
	 * follows replay closely; 64 segments fill the default cap. */
	{ .key = "spool.segment_size", .type = CONF_SIZE, FIELD(spool_segment_size),
	  .min = 16 * KIB, .max = GIB, .def = "16MiB",
	  .help = "bytes per spool segment file" },

	{ .key = "observer.name", .type = CONF_STRING, FIELD(observer_name),
	  .def = "", .help = "sensor name in events; empty = host name" },
	{ .key = "rules.dir", .type = CONF_STRING, FIELD(rules_dir),
	  .def = "", .help = "folder of detection settings and lists; empty = the installed "
	  "ones (next to the binary: ../share/stubwatch/rules, or a build tree's rules/)" },
	{ .key = "detect.modules", .type = CONF_STRING, FIELD(detect_modules),
	  .def = "encrypted, behaviour, integrity",
	  .help = "detection families that run besides resolver and stub hygiene: encrypted "
	  "(DoT/DoH/DoQ), behaviour (caching, rates, failures), integrity (spoofing, "
	  "amplification, exfiltration, new domains); comma-separated, empty = none" },
	{ .key = "dhcp.allowed_servers", .type = CONF_STRING, FIELD(dhcp_allowed_servers),
	  .def = "", .help = "DHCP/DHCPv6 servers and routers allowed to hand out resolvers "
	  "(IPs or MACs, comma-separated); empty = any, and a second one on a segment alerts" },
	{ .key = "enrich.oui_dir", .type = CONF_STRING, FIELD(enrich_oui_dir),
	  .def = "/usr/share/ieee-data",
	  .help = "folder of the IEEE OUI registry (oui.csv, mam.csv, oui36.csv)" },
	{ .key = "enrich.geoip_city", .type = CONF_STRING, FIELD(enrich_geoip_city),
	  .def = "", .help = "MaxMind City/Country database for resolver countries; empty = none" },
	{ .key = "enrich.geoip_asn", .type = CONF_STRING, FIELD(enrich_geoip_asn),
	  .def = "", .help = "MaxMind ASN database for resolver networks; empty = none" },
	/* A sensor sees a few hundred resolvers and endpoints; 4096 cached
	 * lookups x ~280 B = 1.1 MiB covers that many times over. */
	{ .key = "enrich.geo_cache", .type = CONF_UINT, FIELD(enrich_geo_cache),
	  .min = 16, .max = 1 << 20, .def = "4096",
	  .help = "GeoIP/ASN lookups kept in memory" },
	{ .key = "run.user", .type = CONF_STRING, FIELD(run_user),
	  .def = "", .help = "live capture drops privileges to this user" },
	{ .key = "http.listen", .type = CONF_STRING, FIELD(http_listen), .def = "",
	  .help = "serve /metrics, /api/v1 and the dashboard on ADDR:PORT (a bare "
	  "PORT is loopback); empty = off" },
	{ .key = "http.auth_file", .type = CONF_STRING, FIELD(http_auth_file), .def = "",
	  .help = "file whose first line is user:password (HTTP basic) or a bearer "
	  "token; empty = no authentication" },
	{ .key = "http.tls_cert", .type = CONF_STRING, FIELD(http_tls_cert), .def = "",
	  .help = "PEM certificate (chain) file: with http.tls_key the endpoint serves "
	  "HTTPS only; empty = plain HTTP" },
	{ .key = "http.tls_key", .type = CONF_STRING, FIELD(http_tls_key), .def = "",
	  .help = "PEM private key file of http.tls_cert (unencrypted), read at start" },
	{ .key = "http.web_dir", .type = CONF_STRING, FIELD(http_web_dir), .def = "",
	  .help = "folder of the web dashboard; empty = the installed or source one" },
	/* Each connection costs its 32 KiB memory pool at most: 1024 is 32 MiB,
	 * far more browsers and scrapers than a sensor has; past it MHD refuses
	 * new connections instead of slowing the ones it has. */
	{ .key = "http.max_connections", .type = CONF_UINT, FIELD(http_max_connections),
	  .min = 4, .max = 65536, .def = "1024",
	  .help = "concurrent HTTP connections; more are refused" },
};

#define CONF_NSCHEMA (sizeof(conf_schema) / sizeof(conf_schema[0]))
_Static_assert(CONF_NSCHEMA <= CONF_KEYS_MAX, "raise CONF_KEYS_MAX for the new keys");

static const char *const conf_type_names[] = {
	[CONF_BOOL] = "bool", [CONF_UINT] = "uint", [CONF_SIZE] = "size",
	[CONF_DURATION] = "duration", [CONF_STRING] = "string", [CONF_ENUM] = "enum",
};

/* ---- number parsing -------------------------------------------------- */

/* Reads a run of decimal digits at *s into *out and moves *s past it.
 * SW_EINVAL when there is no digit (this is where "-5" and "" fail),
 * SW_ERANGE when the number does not fit in 64 bits. */
static int conf_digits(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return SW_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return SW_ERANGE;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return 0;
}

struct conf_unit {
	const char *name;
	uint64_t mult;
};

/* A number, then optional blanks and exactly one unit of the table (or no
 * unit at all, meaning `bare`). Anything after the unit is garbage. */
static int conf_parse_units(const char *s, const struct conf_unit *units,
			    uint64_t bare, uint64_t *out)
{
	uint64_t n, mult = 0;
	int rc = conf_digits(&s, &n);

	if (rc != 0)
		return rc;
	/* Blanks may separate a number from its unit ("64 MiB"), not end it. */
	if (*s == ' ' || *s == '\t') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return SW_EINVAL;
	}
	if (*s == '\0') {
		mult = bare;
	} else {
		for (const struct conf_unit *u = units; u->name != NULL; u++)
			if (strcmp(s, u->name) == 0)
				mult = u->mult;
		if (mult == 0)
			return SW_EINVAL;
	}
	if (n > UINT64_MAX / mult)
		return SW_ERANGE;
	*out = n * mult;
	return 0;
}

static const struct conf_unit conf_size_units[] = {
	{ "B", 1 }, { "KiB", KIB }, { "MiB", MIB }, { "GiB", GIB },
	{ "k", 1000 }, { "K", 1000 }, { "M", 1000000 }, { "G", 1000000000 },
	{ NULL, 0 }
};

static const struct conf_unit conf_duration_units[] = {
	{ "us", 1 }, { "ms", US_PER_MS }, { "s", US_PER_S }, { "m", US_PER_M },
	{ "h", US_PER_H }, { "d", US_PER_D }, { NULL, 0 }
};

int conf_parse_size(const char *s, uint64_t *out)
{
	return conf_parse_units(s, conf_size_units, 1, out);
}

int conf_parse_duration_us(const char *s, uint64_t *out)
{
	return conf_parse_units(s, conf_duration_units, US_PER_S, out);
}

int conf_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return SW_EINVAL;
}

/* Writes v with the largest unit that divides it exactly ("64MiB", "5m"),
 * so ranges and defaults print the way a user would write them. */
static void conf_fmt_units(char *buf, size_t len, uint64_t v,
			   const struct conf_unit *units, size_t nunits)
{
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = nunits; i-- > 0;) {
		if (units[i].mult > 0 && v % units[i].mult == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(v / units[i].mult),
				 units[i].name);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void conf_fmt_value(const struct conf_def *d, uint64_t v, char *buf,
			   size_t len)
{
	if (d->type == CONF_SIZE)
		conf_fmt_units(buf, len, v, conf_size_units, 4); /* binary only */
	else if (d->type == CONF_DURATION)
		conf_fmt_units(buf, len, v, conf_duration_units, 6);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* An enum's value names joined by sep. */
static void conf_fmt_names(const struct conf_def *d, const char *sep, char *buf,
			   size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; d->names[i] != NULL && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? sep : "",
				      d->names[i]);
}

/* ---- applying one key ------------------------------------------------ */

static const struct conf_def *conf_find(const char *key)
{
	for (size_t i = 0; i < CONF_NSCHEMA; i++)
		if (strcmp(conf_schema[i].key, key) == 0)
			return &conf_schema[i];
	return NULL;
}

static int conf_is_passthrough(const char *key)
{
	for (const char *const *p = conf_passthrough; *p != NULL; p++) {
		size_t n = strlen(*p);
		/* The prefix alone ("output.kafka.property.") names nothing. */
		if (strncmp(key, *p, n) == 0 && key[n] != '\0')
			return 1;
	}
	return 0;
}

static void conf_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void conf_store_uint(struct sw_config *c, const struct conf_def *d,
			    uint64_t v)
{
	char *p = (char *)c + d->off;

	if (d->width == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;
		memcpy(p, &v32, sizeof(v32));
	} else {
		memcpy(p, &v, sizeof(v));
	}
}

/* Parses `value` as key `d` expects and stores it in *c, or writes
 * "WHERE: key 'K': what is wrong" into err and leaves *c alone. The range
 * check runs on bytes or microseconds, before a duration is scaled to the
 * field's unit. */
static int conf_apply(struct sw_config *c, const struct conf_def *d,
		      const char *value, const char *where, char *err,
		      size_t errlen)
{
	char lim[32];
	uint64_t v = 0;
	int b, rc = 0;

	switch (d->type) {
	case CONF_BOOL:
		if (conf_parse_bool(value, &b) != 0) {
			conf_err(err, errlen, "%s: key '%s': expected yes/no, "
				 "true/false, on/off or 1/0, got '%s'",
				 where, d->key, value);
			return SW_EINVAL;
		}
		memcpy((char *)c + d->off, &b, sizeof(b));
		return 0;
	case CONF_ENUM:
		for (int i = 0; d->names[i] != NULL; i++) {
			if (strcasecmp(value, d->names[i]) == 0) {
				memcpy((char *)c + d->off, &i, sizeof(i));
				return 0;
			}
		}
		{
			char names[128];
			conf_fmt_names(d, ", ", names, sizeof(names));
			conf_err(err, errlen, "%s: key '%s': expected one of "
				 "%s, got '%s'", where, d->key, names, value);
		}
		return SW_EINVAL;
	case CONF_STRING:
		/* Never cut: a shortened filter or path is a different,
		 * often valid, one. */
		if (strlen(value) >= d->width) {
			conf_err(err, errlen, "%s: key '%s': value of %zu bytes "
				 "is longer than %zu bytes", where, d->key,
				 strlen(value), d->width - 1);
			return SW_ERANGE;
		}
		memcpy((char *)c + d->off, value, strlen(value) + 1);
		return 0;
	case CONF_UINT:
		{
			const char *s = value;
			rc = conf_digits(&s, &v);
			if (rc == 0 && *s != '\0')
				rc = SW_EINVAL;
		}
		if (rc == SW_EINVAL) {
			conf_err(err, errlen, "%s: key '%s': expected a whole "
				 "number like 65536, got '%s'", where, d->key,
				 value);
			return rc;
		}
		break;
	case CONF_SIZE:
		rc = conf_parse_size(value, &v);
		if (rc == SW_EINVAL) {
			conf_err(err, errlen, "%s: key '%s': expected a size "
				 "like 64MiB or 512KiB, got '%s'", where,
				 d->key, value);
			return rc;
		}
		break;
	case CONF_DURATION:
		rc = conf_parse_duration_us(value, &v);
		if (rc == SW_EINVAL) {
			conf_err(err, errlen, "%s: key '%s': expected a "
				 "duration like 30s or 5m, got '%s'", where,
				 d->key, value);
			return rc;
		}
		break;
	}

	/* Numbers: range, then the field's unit. */
	if (rc == SW_ERANGE || v > d->max) {
		conf_fmt_value(d, d->max, lim, sizeof(lim));
		conf_err(err, errlen, "%s: key '%s': value %s above maximum %s",
			 where, d->key, value, lim);
		return SW_ERANGE;
	}
	if (v < d->min && !(v == 0 && (d->flags & CONF_ZERO_OFF))) {
		conf_fmt_value(d, d->min, lim, sizeof(lim));
		conf_err(err, errlen, "%s: key '%s': value %s below minimum %s%s",
			 where, d->key, value, lim,
			 (d->flags & CONF_ZERO_OFF) ? " (or 0 for off)" : "");
		return SW_ERANGE;
	}
	if (d->scale > 1) {
		if (v % d->scale != 0) {
			conf_err(err, errlen, "%s: key '%s': value %s is not a "
				 "whole number of milliseconds", where, d->key,
				 value);
			return SW_EINVAL;
		}
		v /= d->scale;
	}
	conf_store_uint(c, d, v);
	return 0;
}

/* Stores a pass-through key verbatim; a repeated key replaces its value
 * (last one wins, as for schema keys). */
static int conf_apply_extra(struct sw_config *c, const char *key,
			    const char *value, const char *where, char *err,
			    size_t errlen)
{
	unsigned i;

	if (strlen(key) >= CONF_STR || strlen(value) >= CONF_STR) {
		conf_err(err, errlen, "%s: key '%.64s': key or value longer "
			 "than %d bytes", where, key, CONF_STR - 1);
		return SW_ERANGE;
	}
	for (i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i].key, key) == 0)
			break;
	if (i == c->nextra) {
		if (c->nextra >= CONF_MAX_LIST) {
			conf_err(err, errlen, "%s: key '%s': more than %d "
				 "output.kafka.property.* keys", where,
				 key, CONF_MAX_LIST);
			return SW_EFULL;
		}
		c->nextra++;
	}
	memcpy(c->extra[i].key, key, strlen(key) + 1);
	memcpy(c->extra[i].value, value, strlen(value) + 1);
	return 0;
}

/* conf_set, remembering `line` (a line of c->conf_file, or CONF_FROM_CLI)
 * as where a schema key was set. */
static int conf_set_at(struct sw_config *c, const char *key, const char *value,
		       const char *where, uint32_t line, char *err, size_t errlen)
{
	const struct conf_def *d = conf_find(key);

	if (d != NULL) {
		int rc = conf_apply(c, d, value, where, err, errlen);
		if (rc == 0)
			c->origin[d - conf_schema] = line;
		return rc;
	}
	if (conf_is_passthrough(key))
		return conf_apply_extra(c, key, value, where, err, errlen);
	conf_err(err, errlen, "%s: unknown key '%.200s'", where, key);
	return SW_EINVAL;
}

int conf_set(struct sw_config *c, const char *key, const char *value,
	     const char *where, char *err, size_t errlen)
{
	return conf_set_at(c, key, value, where, CONF_FROM_CLI, err, errlen);
}

const char *conf_where(const struct sw_config *c, const char *key, char *buf, size_t len)
{
	const struct conf_def *d = conf_find(key);
	uint32_t line;

	if (d == NULL || (line = c->origin[d - conf_schema]) == 0)
		return NULL;
	if (line == CONF_FROM_CLI)
		snprintf(buf, len, "command line");
	else
		snprintf(buf, len, "%.200s:%u", c->conf_file, (unsigned)line);
	return buf;
}

void conf_locate(const struct sw_config *c, const char *msg, char *out, size_t len)
{
	const char *colon = strchr(msg, ':');
	char key[CONF_STR], where[300];

	if (colon != NULL && (size_t)(colon - msg) < sizeof(key) && colon[1] == ' ') {
		memcpy(key, msg, (size_t)(colon - msg));
		key[colon - msg] = '\0';
		if (conf_where(c, key, where, sizeof(where)) != NULL) {
			snprintf(out, len, "%s: key '%s':%s", where, key, colon + 1);
			return;
		}
	}
	snprintf(out, len, "%s", msg);
}

const char *conf_extra_get(const struct sw_config *c, const char *key)
{
	for (unsigned i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i].key, key) == 0)
			return c->extra[i].value;
	return NULL;
}

/* Every field from its default text, through the same conf_apply a file
 * goes through. A default that does not parse, or a field whose width does
 * not match its type, is a bug in the table above: the asserts make the
 * first unit test run catch it. */
void conf_defaults(struct sw_config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CONF_NSCHEMA; i++) {
		const struct conf_def *d = &conf_schema[i];
		switch (d->type) {
		case CONF_BOOL:
		case CONF_ENUM:
			assert(d->width == sizeof(int));
			break;
		case CONF_STRING:
			assert(d->width == CONF_STR || d->width == CONF_FILTER);
			break;
		default:
			assert(d->width == sizeof(uint64_t) ||
			       (d->width == sizeof(uint32_t) &&
				d->max / (d->scale ? d->scale : 1) <= UINT32_MAX));
		}
		int rc = conf_apply(c, d, d->def, "default", err, sizeof(err));
		assert(rc == 0);
		(void)rc;
	}
}

/* ---- the file format ------------------------------------------------- */

static int conf_isblank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int conf_iskeychar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* Splits one line (NUL-terminated, no newline) into key and value in place.
 * Returns 1 for a key/value line, 0 for a blank or comment line, or a
 * negative code with the reason (without the "FILE:LINE: " prefix) in err.
 * A quoted value keeps everything between its quotes, `#` included, with \"
 * and \\ as the only escapes; an unquoted value ends at a `#` that follows a
 * blank, so `url = a#b` keeps its `#`. */
static int conf_split(char *line, char **key, char **value, char *err,
		      size_t errlen)
{
	char *p = line, *k, *v, *e;

	while (conf_isblank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	k = p;
	while (conf_iskeychar(*p))
		p++;
	e = p;
	while (conf_isblank(*p))
		p++;
	if (e == k || *p != '=') {
		conf_err(err, errlen, "expected 'key = value'");
		return SW_EINVAL;
	}
	*e = '\0';
	p++;
	while (conf_isblank(*p))
		p++;

	if (*p == '"') {
		char *out = p;
		v = out;
		for (p++;; p++) {
			if (*p == '\0') {
				conf_err(err, errlen, "key '%s': unterminated "
					 "quoted value", k);
				return SW_EINVAL;
			}
			if (*p == '"')
				break;
			if (*p == '\\') {
				p++;
				if (*p != '"' && *p != '\\') {
					conf_err(err, errlen, "key '%s': "
						 "unknown escape in quoted "
						 "value (only \\\" and \\\\)", k);
					return SW_EINVAL;
				}
			}
			*out++ = *p;
		}
		*out = '\0';
		for (p++; conf_isblank(*p); p++)
			;
		if (*p != '\0' && *p != '#') {
			conf_err(err, errlen, "key '%s': text after the closing "
				 "quote", k);
			return SW_EINVAL;
		}
	} else {
		v = p;
		for (; *p != '\0'; p++)
			if (*p == '#' && (p == v || conf_isblank(p[-1])))
				break;
		*p = '\0';
		while (p > v && conf_isblank(p[-1]))
			*--p = '\0';
	}
	*key = k;
	*value = v;
	return 1;
}

/* Parses the text line by line into a copy of *c and copies it back only
 * when every line was good, so a bad file never leaves a half-applied
 * configuration. Lines end in LF or CRLF; a NUL byte or a line longer than
 * CONF_LINE_MAX is an error (never truncated: a cut value would be a
 * different value). A UTF-8 byte-order mark at the start is skipped. */
int conf_load_buf(struct sw_config *c, const char *name, const char *buf,
		  size_t len, char *err, size_t errlen)
{
	struct sw_config *tmp = malloc(sizeof(*tmp));
	char line[CONF_LINE_MAX + 1];
	char where[300], why[CONF_LINE_MAX + 64];
	size_t off = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (tmp == NULL) {
		conf_err(err, errlen, "%s: out of memory", name);
		return SW_ENOMEM;
	}
	*tmp = *c;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	while (off < len) {
		const char *start = buf + off;
		const char *nl = memchr(start, '\n', len - off);
		size_t n = nl ? (size_t)(nl - start) : len - off;
		char *key, *value;

		off += n + (nl != NULL);
		lineno++;
		snprintf(where, sizeof(where), "%.200s:%u", name, lineno);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > CONF_LINE_MAX) {
			conf_err(err, errlen, "%s: line longer than %d bytes",
				 where, CONF_LINE_MAX);
			rc = SW_EINVAL;
			break;
		}
		if (memchr(start, '\0', n) != NULL) {
			conf_err(err, errlen, "%s: NUL byte in line", where);
			rc = SW_EINVAL;
			break;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		rc = conf_split(line, &key, &value, why, sizeof(why));
		if (rc < 0) {
			conf_err(err, errlen, "%s: %s", where, why);
			break;
		}
		if (rc == 0)
			continue;
		/* Named once a line sets a key: a file of comments changes
		 * nothing, not even this. */
		snprintf(tmp->conf_file, sizeof(tmp->conf_file), "%s", name);
		rc = conf_set_at(tmp, key, value, where, lineno, err, errlen);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		*c = *tmp;
	free(tmp);
	return rc;
}

int conf_load(struct sw_config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	/* A FIFO or a device would block the start, or never end. */
	char why[128];
	fd = fs_open_regular(path, 0, why, sizeof(why));
	if (fd < 0) {
		conf_err(err, errlen, "%s: %s%s", path, why, errno == EINVAL ?
			 " (configuration is read from a regular file only)" : "");
		return SW_EIO;
	}
	if (fstat(fd, &st) != 0) {
		conf_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return SW_EIO;
	}
	if (st.st_size > CONF_FILE_MAX) {
		conf_err(err, errlen, "%s: larger than %d bytes, not a config "
			 "file", path, CONF_FILE_MAX);
		close(fd);
		return SW_ETOOLONG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		conf_err(err, errlen, "%s: out of memory", path);
		return SW_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			conf_err(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return SW_EIO;
		}
		if (r == 0)
			break;  /* shrank while we read: parse what is there */
		got += (size_t)r;
	}
	close(fd);
	rc = conf_load_buf(c, path, buf, got, err, errlen);
	free(buf);
	return rc;
}

/* ---- printing -------------------------------------------------------- */

static void conf_fmt_range(const struct conf_def *d, char *buf, size_t len)
{
	char lo[32], hi[32];

	switch (d->type) {
	case CONF_BOOL:
		snprintf(buf, len, "yes|no");
		return;
	case CONF_ENUM:
		conf_fmt_names(d, "|", buf, len);
		return;
	case CONF_STRING:
		snprintf(buf, len, "<%zu bytes", d->width);
		return;
	default:
		break;
	}
	conf_fmt_value(d, d->min, lo, sizeof(lo));
	conf_fmt_value(d, d->max, hi, sizeof(hi));
	snprintf(buf, len, "%s%s..%s",
		 (d->flags & CONF_ZERO_OFF) ? "0 or " : "", lo, hi);
}

/* One row per key with columns sized to the widest entry, so the table
 * stays aligned whatever keys are added. */
void conf_print_schema(FILE *f)
{
	int wk = 3, wt = 4, wd = 7, wr = 5;
	char range[96];

	for (size_t i = 0; i < CONF_NSCHEMA; i++) {
		const struct conf_def *d = &conf_schema[i];
		int n;
		conf_fmt_range(d, range, sizeof(range));
		if ((n = (int)strlen(d->key)) > wk)
			wk = n;
		if ((n = (int)strlen(conf_type_names[d->type])) > wt)
			wt = n;
		if ((n = (int)strlen(d->def) + 2) > wd)
			wd = n;
		if ((n = (int)strlen(range)) > wr)
			wr = n;
	}
	fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wk, "KEY", wt, "TYPE",
		wd, "DEFAULT", wr, "RANGE", "HELP");
	for (size_t i = 0; i < CONF_NSCHEMA; i++) {
		const struct conf_def *d = &conf_schema[i];
		char def[CONF_FILTER + 2];
		conf_fmt_range(d, range, sizeof(range));
		snprintf(def, sizeof(def), d->type == CONF_STRING ? "\"%s\"" : "%s",
			 d->def);
		fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", wk, d->key, wt,
			conf_type_names[d->type], wd, def, wr, range, d->help);
	}
	fprintf(f, "\nPassed through verbatim to the sink that owns them (at "
		"most %d):\n", CONF_MAX_LIST);
	for (const char *const *p = conf_passthrough; *p != NULL; p++)
		fprintf(f, "  %s*\n", *p);
}

void conf_print_example(FILE *f)
{
	char range[96];
	const char *section = "";

	fprintf(f, "# stubwatch.conf — every key with its default.\n"
		"#\n"
		"# Uncomment a line to change it. Sizes take B, KiB, MiB, GiB "
		"(k, M, G are\n"
		"# powers of 1000); durations take us, ms, s, m, h, d (a bare "
		"number is\n"
		"# seconds). `stubwatch --help-config` prints the same table.\n");
	for (size_t i = 0; i < CONF_NSCHEMA; i++) {
		const struct conf_def *d = &conf_schema[i];
		size_t sl = (size_t)(strchr(d->key, '.') - d->key);
		if (strncmp(section, d->key, sl) != 0 || section[sl] != '.')
			fprintf(f, "\n# %.*s\n", (int)sl, d->key);
		section = d->key;
		conf_fmt_range(d, range, sizeof(range));
		fprintf(f, "# %s (%s, %s)\n", d->help, conf_type_names[d->type],
			range);
		if (d->type == CONF_STRING)
			fprintf(f, "#%s = \"%s\"\n", d->key, d->def);
		else
			fprintf(f, "#%s = %s\n", d->key, d->def);
	}
	fprintf(f, "\n# Keys under output.kafka.property.* are librdkafka properties, "
		"set on the\n"
		"# producer as written (at most %d), for example:\n"
		"#output.kafka.property.security.protocol = SASL_SSL\n",
		CONF_MAX_LIST);
}
