/* config.h — the sensor's configuration: one schema table, one parser.
 *
 * File format: `key = value` lines, `#` comments (whole line, or after
 * whitespace), dotted keys, values optionally in double quotes. Sizes take
 * B, KiB, MiB, GiB (and k, M, G as powers of 1000); durations take ms, s, m,
 * h, d (a bare number is seconds). Booleans: yes/no, true/false, on/off, 1/0.
 * Every key is defined once in the schema table in config.c with its type,
 * range, default and help text; unknown keys and out-of-range values are
 * errors naming the file, line and key. Defaults work with no file at all.
 */
#ifndef SW_COMMON_CONFIG_H
#define SW_COMMON_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define CONF_STR 256          /* longest string value; paths and URLs fit (a
                               * longer one is an error, never cut) */
#define CONF_FILTER 4000      /* BPF text: the sensor's own live filter is about
                               * 1,700 bytes; a config line holds 4,096 */
#define CONF_MAX_LIST 16      /* interfaces, files, sinks, kafka properties */
#define CONF_KEYS_MAX 128     /* schema keys whose origin is remembered */
#define CONF_FROM_CLI UINT32_MAX /* origin of a key set with conf_set (-s) */

struct conf_kv {
	char key[CONF_STR];
	char value[CONF_STR];
};

struct sw_config {
	/* capture.* */
	uint64_t capture_ring_size;   /* bytes of the TPACKET_V3 ring per interface */
	uint32_t capture_snaplen;
	int capture_promisc;
	int capture_vlan_tracking;    /* devices and queries keyed by VLAN as well */
	char capture_filter[CONF_FILTER]; /* BPF; empty = the sensor's default filter */
	uint64_t capture_timeout_ms;  /* libpcap read timeout (live) */
	uint64_t capture_max_time_jump_us; /* a packet further ahead of the clock is an
	                                    * anomaly that does not move it; 0 = off */
	uint32_t capture_workers;     /* worker threads; 0 = the online CPUs */

	/* devices.* */
	uint32_t devices_max;
	uint64_t devices_snapshot_interval_us; /* 0 = only first sight, changes, exit */

	/* flows.* (TCP DNS streams) */
	uint32_t flows_max;
	uint64_t flows_timeout_us;
	uint32_t tcp_buffers;         /* reassembly buffers shared by all flows */
	uint32_t tcp_buffer_size;     /* bytes each; longer messages are skipped */

	/* queries.* (outstanding queries) */
	uint32_t queries_max;
	uint64_t queries_timeout_us;  /* unanswered after this */

	/* frag.* */
	uint32_t frag_max;
	uint64_t frag_timeout_us;

	/* log.* */
	int log_dns;                  /* one stubwatch.dns event per transaction */
	int log_level;                /* 0 error, 1 warning, 2 info, 3 debug */

	/* stats.* */
	uint64_t stats_interval_us;   /* 0 = only at exit */

	/* output.* */
	uint32_t output_queue_size;   /* events between capture and the output thread */
	char output_file[CONF_STR];   /* file sink path, "-" = stdout; empty = none */
	uint64_t output_stop_deadline_ms; /* out_stop flushes sinks this long */
	int output_follow_symlinks;   /* events files and spool files may be symbolic links */
	char redis_url[CONF_STR];     /* output.redis.url; empty = no Redis sink */
	char redis_password_file[CONF_STR]; /* Redis password on its first line; empty = none */
	char redis_prefix[CONF_STR];  /* key prefix: <prefix>:dns, <prefix>:device:<mac> */
	uint64_t redis_maxlen;        /* XADD MAXLEN ~ n; 0 = streams are not trimmed */
	int redis_publish;            /* also PUBLISH <prefix>:live */
	uint64_t redis_timeout_ms;    /* connect and command timeout */
	char kafka_brokers[CONF_STR]; /* output.kafka.brokers; empty = no Kafka sink */
	char kafka_prefix[CONF_STR];  /* topics <prefix>.alerts, .devices, ... */
	int kafka_compression;        /* enum conf_compression */
	char kafka_sasl_password_file[CONF_STR]; /* sasl.password on its first line */

	/* spool.* (one spool per network sink, under spool.dir) */
	char spool_dir[CONF_STR];
	uint64_t spool_max_size;      /* bytes per sink */
	uint64_t spool_segment_size;  /* bytes per segment file */

	/* observer.*, rules.*, run.* */
	char observer_name[CONF_STR]; /* empty = host name */
	char rules_dir[CONF_STR];     /* empty = the installed rules (see main.c) */

	/* detect.* */
	char detect_modules[CONF_STR];       /* detection families that run: names of
	                                      * detect modules, comma-separated */

	/* dhcp.* */
	char dhcp_allowed_servers[CONF_STR]; /* DHCP servers and routers allowed to hand out
	                                      * resolvers: IPs or MACs, comma-separated */

	/* enrich.* */
	char enrich_oui_dir[CONF_STR];     /* IEEE registry files (Debian ieee-data) */
	char enrich_geoip_city[CONF_STR];  /* MaxMind City or Country database; empty = none */
	char enrich_geoip_asn[CONF_STR];   /* MaxMind ASN database; empty = none */
	uint32_t enrich_geo_cache;         /* addresses whose lookups are cached */
	char run_user[CONF_STR];      /* live capture drops privileges to this user */

	/* http.* (the sensor's own web endpoint; off when listen is empty) */
	char http_listen[CONF_STR];   /* ADDR:PORT, [v6]:PORT or PORT (loopback) */
	char http_auth_file[CONF_STR]; /* "user:password" (basic) or a bearer token */
	char http_web_dir[CONF_STR];  /* the dashboard's files; empty = found */
	char http_tls_cert[CONF_STR]; /* PEM certificate chain; both or neither */
	char http_tls_key[CONF_STR];  /* PEM private key; empty = plain HTTP */
	uint32_t http_max_connections;

	/* Keys under a pass-through prefix (e.g. output.kafka.property.*) are kept
	 * verbatim for the module that owns them. */
	unsigned nextra;
	struct conf_kv extra[CONF_MAX_LIST];

	/* Where each schema key got its value, so a value checked after loading
	 * (a DHCP server list, detection families) is reported at its line:
	 * 0 = default, CONF_FROM_CLI = conf_set, else a line of conf_file. */
	char conf_file[CONF_STR];
	uint32_t origin[CONF_KEYS_MAX];
};

/* output.kafka.compression values, in the order of conf_compression_names. */
enum conf_compression {
	CONF_COMP_NONE = 0,
	CONF_COMP_GZIP,
	CONF_COMP_SNAPPY,
	CONF_COMP_LZ4,
	CONF_COMP_ZSTD
};
/* Their names as config text and as librdkafka's compression.type. */
extern const char *const conf_compression_names[];

/* Fills every field with its schema default. */
void conf_defaults(struct sw_config *c);

/* Reads a config file over the current values. On error returns a negative
 * code and writes "FILE:LINE: key 'K': what is wrong" into err. */
int conf_load(struct sw_config *c, const char *path, char *err, size_t errlen);

/* Parses config text already in memory (len bytes, need not end in NUL);
 * conf_load reads the file and calls this. `name` stands for the file in
 * messages. All or nothing: on error *c is left exactly as it was. Returns 0,
 * SW_EINVAL (syntax, unknown key, bad value), SW_ERANGE (out of range) or
 * SW_EFULL (more than CONF_MAX_LIST pass-through keys). */
int conf_load_buf(struct sw_config *c, const char *name, const char *buf,
		  size_t len, char *err, size_t errlen);

/* Longest line conf_load accepts, newline excluded: a key and a quoted value
 * of CONF_STR bytes each fit many times over, so a longer line is not a
 * config line (a binary file, a pasted blob) and is rejected, not cut. */
#define CONF_LINE_MAX 4096

/* Value of a pass-through key (e.g. "output.kafka.brokers"), or NULL when the
 * configuration does not set it. The pointer is into *c. */
const char *conf_extra_get(const struct sw_config *c, const char *key);

/* Sets one key from text (command-line overrides use this). `where` names the
 * origin for messages, e.g. "command line". */
int conf_set(struct sw_config *c, const char *key, const char *value,
	     const char *where, char *err, size_t errlen);

/* Where key got its value: "FILE:LINE", "command line", or NULL when it
 * has its default (or is not a schema key). buf holds the text. */
const char *conf_where(const struct sw_config *c, const char *key, char *buf, size_t len);

/* A message about a key checked after loading ("KEY: what is wrong", as the
 * engine writes them) rewritten as the parser writes its own:
 * "FILE:LINE: key 'KEY': what is wrong" (or "command line: ..."). Any other
 * message is copied unchanged. */
void conf_locate(const struct sw_config *c, const char *msg, char *out, size_t len);

/* Parses "64MiB", "30s", ... as the schema parser does; exposed for tests and
 * other modules. Return 0 or SW_EINVAL / SW_ERANGE. */
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_duration_us(const char *s, uint64_t *out);
int conf_parse_bool(const char *s, int *out);

/* Prints every key with type, default, range and help (for --help-config). */
void conf_print_schema(FILE *f);

/* Prints an example config file: every key commented out with its default
 * and help; contrib/stubwatch.conf is this output. */
void conf_print_example(FILE *f);

#endif
