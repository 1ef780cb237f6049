/* main.c — command line, configuration, signals and the run loop.
 *
 * Wires the layers together: capture sources feed the engine, the engine
 * feeds the output queue, the output thread feeds the sinks. Fatal exits
 * happen only here, at start-up, with a message that says what to fix.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "common/config.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "pipeline/engine.h"
#include "pipeline/workers.h"
#include "detect/rules.h"
#include "output/out.h"
#include "output/sink.h"
#include "web/http.h"
#include "web/report.h"
#include "web/view.h"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

#define MAX_SOURCES CONF_MAX_LIST

struct opts {
	const char *ifaces[MAX_SOURCES];
	unsigned nifaces;
	const char *files[MAX_SOURCES];
	unsigned nfiles;
	const char *sinks[MAX_SOURCES];
	unsigned nsinks;
	const char *config;
	const char *filter;
	unsigned nsets;           /* -s settings given */
	int check_config;
	int rules_explicit;       /* --rules given: no fallback to installed rules */
	int summary;
	int verbosity;
	struct report_opts report; /* --report FILE, --device, --fail-on */
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stats_requested;
static volatile sig_atomic_t reopen_requested;
static struct cap_src *sources[MAX_SOURCES];
static unsigned nsources;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	for (unsigned i = 0; i < nsources; i++)
		if (sources[i] != NULL)
			cap_break(sources[i]);
}

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	stats_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: stubwatch [options] (-r FILE ... | -i IFACE ...)\n"
"\n"
"Passive sensor that follows every device on the network by its MAC address,\n"
"decodes its DNS and judges its stub resolver against the IETF IoT DNS\n"
"guidelines. Events are JSON lines (ECS field names).\n"
"\n"
"Input:\n"
"  -r, --read FILE        replay a pcap or pcapng file; '-' reads standard input;\n"
"                         repeatable (files are read in the order given)\n"
"  -i, --interface IFACE  capture live on IFACE (TPACKET_V3 ring); repeatable\n"
"  -f, --filter BPF       BPF filter (live default: DNS, mDNS, LLMNR, DHCP, ICMPv6,\n"
"                         ARP, LLDP, TCP SYN/FIN/RST, TLS/QUIC handshakes on\n"
"                         443/853, IP fragments, up to two VLAN tags; files: none);\n"
"                         'live' applies the live default to files too\n"
"Output:\n"
"  -o, --output SINK      where events go; repeatable, every sink gets every event:\n"
"                         'file:PATH', 'PATH', '-' (standard output),\n"
"                         'redis://[user:pass@]host:port[/db]', 'unix:///path[?db=N]',\n"
"                         'kafka://broker[,broker...]/prefix'. Added to the outputs\n"
"                         of the configuration (output.file, output.redis.url,\n"
"                         output.kafka.brokers). Without any: standard output, or\n"
"                         a readable device table on a terminal\n"
"      --log-dns          one stubwatch.dns event per DNS transaction (log.dns = yes)\n"
"      --summary          print the per-device table at the end as well\n"
"      --report FILE      after a replay, a report of every device: FILE.json as\n"
"                         data, any other name one self-contained HTML page\n"
"      --device MAC       only this device in the report\n"
"      --fail-on LINES    exit 3 when a reported device fails one of these\n"
"                         scorecard lines (1-11, comma-separated, or 'any')\n"
"      --http ADDR:PORT   serve /metrics, /api/v1 and the web dashboard\n"
"                         (http.listen; a bare PORT is loopback); after a\n"
"                         replay it serves until SIGINT/SIGTERM\n"
"Processing:\n"
"      --workers N        worker threads, each with the devices it owns\n"
"                         (capture.workers; default: one per online CPU live,\n"
"                         one for a replay)\n"
"Configuration:\n"
"  -c, --config FILE      read 'key = value' settings (see --help-config)\n"
"      --rules DIR        detection rules folder (rules.dir)\n"
"  -s, --set KEY=VALUE    set one configuration key, after the file\n"
"      --check-config     check what a start checks (configuration, rules, filter,\n"
"                         outputs and their spools, run.user) and exit\n"
"      --help-config      list every configuration key with default and range\n"
"Other:\n"
"  -q, --quiet            errors only\n"
"  -v, --verbose          more messages (repeat for debug)\n"
"  -V, --version          print the version\n"
"  -h, --help             this text\n"
"\n"
"Signals: SIGINT/SIGTERM drain and stop (final device events and stats);\n"
"SIGHUP reopens output files and reloads the rules; SIGUSR1 writes a stats\n"
"event now.\n"
"Exit status: 0 done, 1 a failure while running (a damaged capture file,\n"
"a capture error), 2 a usage or configuration error found at start.\n"
"Manual: stubwatch(8).\n");
}

static int add_list(const char **list, unsigned *n, const char *v, const char *what)
{
	if (*n >= MAX_SOURCES) {
		log_err("too many %s (at most %d)", what, MAX_SOURCES);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o, struct sw_config *cfg)
{
	enum { OPT_LOG_DNS = 256, OPT_SUMMARY, OPT_RULES, OPT_CHECK, OPT_HELP_CONFIG, OPT_REPORT,
	       OPT_DEVICE, OPT_FAIL_ON, OPT_HTTP, OPT_WORKERS };
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "log-dns", no_argument, NULL, OPT_LOG_DNS },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "help-config", no_argument, NULL, OPT_HELP_CONFIG },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	/* Overrides are applied after the config file, in order. */
	static const char *sets[MAX_SOURCES];
	unsigned nsets = 0;
	int log_dns = 0;
	const char *rules = NULL, *http = NULL, *workers = NULL;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "r:i:f:o:c:s:qvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': if (add_list(o->files, &o->nfiles, optarg, "files")) return -1; break;
		case 'i': if (add_list(o->ifaces, &o->nifaces, optarg, "interfaces")) return -1; break;
		case 'o': if (add_list(o->sinks, &o->nsinks, optarg, "outputs")) return -1; break;
		case 's': if (add_list(sets, &nsets, optarg, "--set options")) return -1; break;
		case 'f': o->filter = optarg; break;
		case 'c': o->config = optarg; break;
		case 'q': o->verbosity = -1; break;
		case 'v': if (o->verbosity >= 0) o->verbosity++; break;
		case OPT_LOG_DNS: log_dns = 1; break;
		case OPT_SUMMARY: o->summary = 1; break;
		case OPT_RULES: rules = optarg; break;
		case OPT_WORKERS: workers = optarg; break;
		case OPT_CHECK: o->check_config = 1; break;
		case OPT_REPORT: o->report.path = optarg; break;
		case OPT_DEVICE: o->report.device = optarg; break;
		case OPT_HTTP: http = optarg; break;
		case OPT_FAIL_ON:
			if (report_parse_fail_on(optarg, &o->report.fail_on, err, sizeof(err)) != 0) {
				log_err("%s", err);
				return -1;
			}
			break;
		case OPT_HELP_CONFIG: conf_print_schema(stdout); exit(0);
		case 'V': printf("stubwatch %s\n", SW_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (files are read with -r FILE)", argv[optind]);
		return -1;
	}
	if ((o->report.device != NULL || o->report.fail_on != 0) && o->report.path == NULL) {
		log_err("--device and --fail-on go with --report FILE");
		return -1;
	}
	if (o->config != NULL && conf_load(cfg, o->config, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	for (unsigned i = 0; i < nsets; i++) {
		char key[CONF_STR];
		const char *eq = strchr(sets[i], '=');
		if (eq == NULL || (size_t)(eq - sets[i]) >= sizeof(key)) {
			log_err("--set '%s': expected KEY=VALUE", sets[i]);
			return -1;
		}
		memcpy(key, sets[i], (size_t)(eq - sets[i]));
		key[eq - sets[i]] = '\0';
		if (conf_set(cfg, key, eq + 1, "command line", err, sizeof(err)) != 0) {
			log_err("%s", err);
			return -1;
		}
	}
	if (log_dns)
		cfg->log_dns = 1;
	/* Through the schema, as -s would: a value too long for its key is an
	 * error naming the option, never a cut (and different) one. */
	if (rules != NULL && conf_set(cfg, "rules.dir", rules, "--rules", err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	if (workers != NULL &&
	    conf_set(cfg, "capture.workers", workers, "--workers", err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	o->rules_explicit = rules != NULL || cfg->rules_dir[0] != '\0';
	o->nsets = nsets;
	if (o->filter != NULL &&
	    conf_set(cfg, "capture.filter", o->filter, "-f", err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	if (http != NULL && conf_set(cfg, "http.listen", http, "--http", err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/* The dashboard's folder when http.web_dir is empty: the installed one
 * (PREFIX/share/stubwatch/web beside PREFIX/bin), else the source tree's
 * (build/stubwatch → dashboards/web). "" when neither exists. */
static void find_web_dir(char *dir, size_t len)
{
	static const char *const rel[] = { "../share/stubwatch/web", "../dashboards/web" };
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	dir[0] = '\0';
	char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
	if (slash == NULL)
		return;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX];
		snprintf(cand, sizeof(cand), "%s/%s/index.html", exe, rel[i]);
		if (access(cand, R_OK) == 0) {
			snprintf(dir, len, "%.*s", (int)(strlen(cand) - 11), cand);
			return;
		}
	}
}

/* The web view (for --http or --report) as one more sink of the queue, and
 * the HTTP endpoint over it. 0, or -1 after saying why. Not inlined: inlined,
 * it leads GCC 12's -Wdangling-pointer to flag main's sink_cfg = &cfg, which
 * lives as long as the program. */
__attribute__((noinline))
static int start_web(const struct opts *o, const struct sw_config *cfg, struct out *out,
		     struct web_view **view, struct web_http **http)
{
	if (cfg->http_listen[0] == '\0' && o->report.path == NULL)
		return 0;
	/* 1024 recent alerts of ~1.5 KB: 1.5 MiB. */
	*view = view_new(cfg->devices_max, 1024, o->report.path != NULL);
	struct out_sink *s = *view != NULL ? view_sink(*view) : NULL;
	if (s == NULL || out_add_sink(out, s) != 0) {
		log_err("cannot set up the web view (out of memory, or too many outputs)");
		return -1;
	}
	if (cfg->http_listen[0] == '\0')
		return 0;
	char dir[PATH_MAX], err[512];
	snprintf(dir, sizeof(dir), "%s", cfg->http_web_dir);
	if (dir[0] == '\0')
		find_web_dir(dir, sizeof(dir));
	struct web_http_conf hc = { cfg->http_listen, cfg->http_auth_file, dir,
				    cfg->http_max_connections, cfg->http_tls_cert,
				    cfg->http_tls_key };
	*http = web_http_start(*view, &hc, err, sizeof(err));
	if (*http == NULL) {
		log_err("%s", err);
		return -1;
	}
	log_info("http: serving %s on %s (port %u)%s", cfg->http_tls_key[0] ? "HTTPS" : "HTTP",
		 cfg->http_listen, web_http_port(*http),
		 dir[0] == '\0' ? "; no dashboard folder found" : "");
	return 0;
}

/* The configuration open_sink gives the sinks (spool, Redis and Kafka
 * settings); main() sets it before the first sink is opened. */
static const struct sw_config *sink_cfg;

/* The folder of an output file: "." for a bare name. */
static void parent_dir(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* Opens one sink (file:PATH, PATH, '-', redis://, unix:// or kafka://) and
 * readies the folders it will write after the privilege drop: an output
 * file's missing folders are created for `own`, and in a live capture (a
 * service: logrotate) its folder must take a new file from `own`, since
 * SIGHUP opens the file anew there after a rotation (a device such as
 * /dev/null needs none of this); a network sink's spool folder is created
 * and given to `own`, and must be writable by it. With `check` nothing is created and no file is opened: the same
 * checks run and *out stays NULL for a file (a network sink is opened and
 * closed, so the URL, properties and credentials are checked as at start).
 * 0, or -1 after saying what to fix. */
static int open_sink(const char *spec, const struct fs_owner *own, int check, int live,
		     struct out_sink **out, int *to_stdout)
{
	struct stat st;
	char err[1024] = "", label[300], dir[600];
	const char *path = strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec;
	int network = strncmp(spec, "redis://", 8) == 0 || strncmp(spec, "unix://", 7) == 0 ||
		      strncmp(spec, "kafka://", 8) == 0;
	struct out_sink *s = NULL;

	*out = NULL;
	out_url_mask(spec, label, sizeof(label));  /* messages never show a password */
	if (!network && strcmp(path, "-") == 0) {
		*to_stdout = 1;
	} else if (!network && path[0] != '\0' && (stat(path, &st) != 0 || S_ISREG(st.st_mode))) {
		/* A link is refused (output.follow_symlinks) before anything
		 * is created, by a start and by --check-config alike. */
		if (out_file_check(path, sink_cfg->output_follow_symlinks, err, sizeof(err)) != 0) {
			log_err("output '%s': %s", label, err);
			return -1;
		}
		parent_dir(path, dir, sizeof(dir));
		/* The check of --check-config first, so a start refuses with its
		 * words; then the folders are made and checked as they are. */
		int need = live || own->uid != FS_NO_OWNER;
		if ((need && fs_check_writable(dir, own, 1, err, sizeof(err)) != 0) ||
		    (!check && fs_mkdirs(dir, 0750, own, err, sizeof(err)) != 0) ||
		    (!check && need && fs_check_writable(dir, own, 0, err, sizeof(err)) != 0)) {
			log_err("output '%s': %s (SIGHUP opens the file anew there after a "
				"rotation; choose a folder run.user can write)", label, err);
			return -1;
		}
		if (check)
			return 0;
	}
	s = out_sink_open(spec, sink_cfg, err, sizeof(err));
	if (s == NULL) {
		log_err("output '%s': %s", label, err);
		return -1;
	}
	if (!network && path[0] != '\0' && strcmp(path, "-") != 0 &&
	    fs_chown_file(path, own, err, sizeof(err)) != 0)
		goto fail;
	if (s->spool_dir[0] != '\0') {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", s->spool_dir, s->spool_id) >= 256) {
			snprintf(err, sizeof(err), "spool folder name too long: %s", dir);
			goto fail;
		}
		if (fs_check_writable(dir, own, 1, err, sizeof(err)) != 0 ||
		    (!check && (fs_mkdirs(dir, 0750, own, err, sizeof(err)) != 0 ||
				fs_chown_dir(dir, own, err, sizeof(err)) != 0 ||
				fs_check_writable(dir, own, 0, err, sizeof(err)) != 0))) {
			log_err("output '%s': spool: %s (events this sink cannot take at once "
				"would be lost; set spool.dir to a folder run.user can write)",
				label, err);
			s->ops->close(s, 0);
			return -1;
		}
	}
	if (check)
		s->ops->close(s, 0);
	else
		*out = s;
	return 0;
fail:
	log_err("output '%s': %s", label, err);
	s->ops->close(s, 0);
	return -1;
}

/* Every output of the run: those of the configuration, then the -o ones (a
 * -o that repeats a configured one is the same output, opened once). With
 * none at all the caller picks standard output or the device table. 0, or
 * -1 after saying what to fix. */
static int open_sinks(const struct opts *o, const struct sw_config *cfg,
		      const struct fs_owner *own, int check, struct out *out, int *to_stdout,
		      unsigned *nsinks)
{
	const char *specs[3 + MAX_SOURCES];
	char kafka[CONF_STR + 16], names[600] = "";
	unsigned n = 0;
	size_t used = 0;

	*nsinks = 0;
	if (cfg->output_file[0] != '\0')
		specs[n++] = cfg->output_file;
	if (cfg->redis_url[0] != '\0') {
		if (strncmp(cfg->redis_url, "redis://", 8) != 0 &&
		    strncmp(cfg->redis_url, "unix://", 7) != 0) {
			char msg[600], where[700], label[CONF_STR];
			out_url_mask(cfg->redis_url, label, sizeof(label));
			snprintf(msg, sizeof(msg), "output.redis.url: '%s' is not a Redis URL "
				 "(expected redis://[user:password@]host[:port][/db] or "
				 "unix:///path[?db=N])", label);
			conf_locate(cfg, msg, where, sizeof(where));
			log_err("%s", where);
			return -1;
		}
		specs[n++] = cfg->redis_url;
	}
	if (cfg->kafka_brokers[0] != '\0') {
		snprintf(kafka, sizeof(kafka), "kafka://%s", cfg->kafka_brokers);
		specs[n++] = kafka;
	}
	for (unsigned i = 0; i < o->nsinks; i++) {
		int dup = 0;
		for (unsigned j = 0; j < n; j++)
			dup |= strcmp(specs[j], o->sinks[i]) == 0;
		if (!dup)
			specs[n++] = o->sinks[i];
	}
	for (unsigned i = 0; i < n; i++) {
		struct out_sink *s;
		char label[300];
		if (open_sink(specs[i], own, check, o->nifaces > 0, &s, to_stdout) != 0)
			return -1;
		out_url_mask(specs[i], label, sizeof(label));
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 i ? ", " : "", s != NULL ? s->name : label);
		if (s == NULL)
			continue;
		int rc = out_add_sink(out, s);
		if (rc != 0) {
			if (rc == SW_EFULL)
				log_err("output '%s': too many outputs (at most %d)", label,
					OUT_MAX_SINKS);
			s->ops->close(s, 0);
			return -1;
		}
	}
	*nsinks = n;
	if (n > 0 && !check)
		log_info("outputs: %s", names);
	return 0;
}

/* run.user: the user a live capture drops to, and so the owner of the
 * folders it writes afterwards. Unknown users are an error wherever the
 * sensor runs (the same message at start and with --check-config); the
 * owner is set only when the privileges will be dropped (running as
 * root, and `dropping`). */
static int resolve_run_user(const struct sw_config *cfg, int dropping, struct fs_owner *own)
{
	own->uid = FS_NO_OWNER;
	own->gid = (gid_t)-1;
	own->name[0] = '\0';
	if (cfg->run_user[0] == '\0')
		return 0;
	struct passwd *pw = getpwnam(cfg->run_user);
	if (pw == NULL) {
		char msg[400], where[500];
		snprintf(msg, sizeof(msg), "run.user: no such user '%s' on this system",
			 cfg->run_user);
		conf_locate(cfg, msg, where, sizeof(where));
		log_err("%s", where);
		return -1;
	}
	if (dropping && geteuid() == 0) {
		own->uid = pw->pw_uid;
		own->gid = pw->pw_gid;
		snprintf(own->name, sizeof(own->name), "%.63s", cfg->run_user);
	}
	return 0;
}

static int drop_privileges(const struct fs_owner *own)
{
	if (own->uid == FS_NO_OWNER)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(own->gid) != 0 || setuid(own->uid) != 0) {
		log_err("run.user '%s': cannot drop privileges: %s", own->name, strerror(errno));
		return -1;
	}
	log_info("running as %s", own->name);
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reload or a stats request must not fail a replay from a pipe
	 * (-r -) whose read it interrupts: those reads restart, and the
	 * request is served after the batch. poll() in a live capture is
	 * never restarted (signal(7)), so it still wakes at once. */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static struct rules *cur_rules;
static const struct sw_config *cur_cfg;
static int cur_rules_explicit;

/* What the capture feeds: one engine on this thread, or the workers (this
 * thread their reader). */
struct feed {
	struct engine *eng;
	struct wk_set *wk;
};

static cap_cb feed_cb(const struct feed *f)
{
	return f->wk != NULL ? wk_packet : eng_packet;
}

static void *feed_arg(const struct feed *f)
{
	return f->wk != NULL ? (void *)f->wk : (void *)f->eng;
}

/* Finds the rules folder: the one named (rules.dir, --rules) and no other;
 * else the rules installed next to the binary (PREFIX/share/stubwatch/rules)
 * or the rules/ folder of the source tree it was built in, so an install
 * and a fresh build both run from any directory; else rules_find_dir()'s
 * installed places. 0, or -1 with the message in err. */
static int find_rules(const struct sw_config *cfg, int explicit_dir, char *dir,
		      size_t dirlen, char *err, size_t errlen)
{
	if (explicit_dir) {
		if (rules_find_dir(cfg->rules_dir, 1, dir, dirlen) == 0)
			return 0;
		snprintf(err, errlen, "%s", dir);
		return -1;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			/* PREFIX/bin/stubwatch → PREFIX/share/stubwatch/rules (an
			 * install, staged or not); build/stubwatch → rules/. */
			static const char *const rel[] = { "../share/stubwatch/rules", "../rules" };
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				char cand[PATH_MAX + 32], real[PATH_MAX];
				snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
				/* messages name /usr/share/..., not /usr/bin/../share */
				if (realpath(cand, real) != NULL &&
				    rules_find_dir(real, 1, dir, dirlen) == 0)
					return 0;
			}
		}
	}
	if (rules_find_dir(NULL, 0, dir, dirlen) == 0)
		return 0;
	snprintf(err, errlen, "%s", dir);
	return -1;
}

static struct rules *load_rules(const struct sw_config *cfg, int explicit_dir,
				char *dir, size_t dirlen, char *err, size_t errlen)
{
	if (find_rules(cfg, explicit_dir, dir, dirlen, err, errlen) != 0)
		return NULL;
	return rules_load(dir, err, errlen);
}

static void service_requests(const struct feed *fd, struct out *out)
{
	if (fd->wk != NULL)
		wk_flush(fd->wk);
	if (reopen_requested) {
		reopen_requested = 0;
		out_request_reopen(out);
		/* SIGHUP also reloads the rules; a broken file keeps the old ones. */
		char dir[CONF_STR + 64], err[512];
		struct rules *r = load_rules(cur_cfg, cur_rules_explicit, dir, sizeof(dir),
					     err, sizeof(err));
		if (r == NULL) {
			log_err("rules not reloaded, the old ones stay: %s", err);
		} else {
			/* Workers take them between packets; then the old go. */
			if (fd->wk != NULL)
				wk_set_rules(fd->wk, r);
			else
				eng_set_rules(fd->eng, r);
			rules_free(cur_rules);
			cur_rules = r;
			log_info("rules reloaded from %s", dir);
		}
	}
	if (stats_requested) {
		stats_requested = 0;
		if (fd->wk != NULL)
			wk_emit_stats(fd->wk, "signal");
		else
			eng_emit_stats(fd->eng, "signal");
	}
}

static void update_capture_stats(const struct feed *fd)
{
	struct cap_stats total = { 0, 0, 0 };
	for (unsigned i = 0; i < nsources; i++) {
		struct cap_stats st;
		if (sources[i] != NULL && cap_get_stats(sources[i], &st) == 0) {
			/* Per interface with one engine; with workers only the
			 * totals (their stats event is built by the workers' set). */
			if (nsources > 1 && fd->eng != NULL)
				eng_set_iface_stats(fd->eng, i, cap_name(sources[i]), &st);
			total.received += st.received;
			total.dropped += st.dropped;
			total.if_dropped += st.if_dropped;
		}
	}
	if (fd->wk != NULL)
		wk_set_capture_stats(fd->wk, &total);
	else
		eng_set_capture_stats(fd->eng, &total);
}

/* Files one after the other, each to its end. A damaged file is reported
 * and what was read of it is kept. */
static int run_files(const struct opts *o, const struct sw_config *cfg, const struct feed *fd,
		     struct out *out)
{
	int rc = 0;
	struct cap_conf cc = { cfg->capture_snaplen, cfg->capture_promisc,
			       cfg->capture_ring_size, cfg->capture_timeout_ms,
			       cfg->capture_filter };
	for (unsigned i = 0; i < o->nfiles && !stop_requested; i++) {
		char err[512];
		struct cap_src *s = cap_open_file(o->files[i], &cc, err, sizeof(err));
		if (s == NULL) {
			log_err("%s", err);
			rc = 1;
			continue;
		}
		sources[0] = s;
		nsources = 1;
		for (;;) {
			int n = cap_dispatch(s, 4096, feed_cb(fd), feed_arg(fd));
			service_requests(fd, out);
			if (n == CAP_EOF || n == CAP_BREAK || stop_requested)
				break;
			if (n == CAP_ERROR) {
				log_err("%s: %s (events up to this point are kept)",
					o->files[i], cap_error(s));
				rc = 1;
				break;
			}
		}
		nsources = 0;
		sources[0] = NULL;
		cap_close(s);
	}
	return rc;
}

static int run_live(const struct opts *o, const struct sw_config *cfg, const struct feed *fd,
		    struct out *out, const struct fs_owner *own)
{
	struct cap_conf cc = { cfg->capture_snaplen, cfg->capture_promisc,
			       cfg->capture_ring_size, cfg->capture_timeout_ms,
			       cfg->capture_filter };
	struct pollfd pfd[MAX_SOURCES];
	for (unsigned i = 0; i < o->nifaces; i++) {
		char err[512];
		struct cap_src *s = cap_open_live(o->ifaces[i], &cc, err, sizeof(err));
		if (s == NULL) {
			log_err("%s", err);
			return 1;
		}
		sources[nsources++] = s;
		pfd[i].fd = cap_fd(s);
		pfd[i].events = POLLIN;
	}
	if (drop_privileges(own) != 0)
		return 1;
	int rc = 0;
	while (!stop_requested) {
		int timeout = (int)(cfg->capture_timeout_ms ? cfg->capture_timeout_ms : 100);
		if (poll(pfd, nsources, timeout) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (unsigned i = 0; i < nsources && !stop_requested; i++) {
			if (fd->eng != NULL) /* workers: not yet per interface */
				eng_set_ingress(fd->eng, o->ifaces[i]);
			int n = cap_dispatch(sources[i], -1, feed_cb(fd), feed_arg(fd));
			if (n == CAP_ERROR) {
				log_err("%s: %s", cap_name(sources[i]), cap_error(sources[i]));
				stop_requested = 1;
				rc = 1;
			}
		}
		update_capture_stats(fd);
		service_requests(fd, out);
	}
	update_capture_stats(fd);
	for (unsigned i = 0; i < nsources; i++)
		cap_close(sources[i]);
	nsources = 0;
	return rc;
}

/* What a start checks before anything runs, and all --check-config does:
 * the capture filter, the detection settings, the HTTP endpoint's files,
 * run.user and every output with its folders. Each failure is said with the message a start gives.
 * With check, outputs are checked but nothing is created. 0 or -1. */
static int check_start(const struct opts *o, const struct sw_config *cfg, int live,
		       int check, struct fs_owner *own)
{
	char err[512], where[700];

	if (cfg->capture_filter[0] != '\0' &&
	    cap_check_filter(cfg->capture_filter, cfg->capture_snaplen, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	if (eng_check_config(cfg, err, sizeof(err)) != 0) {
		conf_locate(cfg, err, where, sizeof(where));
		log_err("%s", where);
		return -1;
	}
	struct web_http_conf hc = { cfg->http_listen, cfg->http_auth_file, cfg->http_web_dir,
				    cfg->http_max_connections, cfg->http_tls_cert,
				    cfg->http_tls_key };
	if (cfg->http_listen[0] != '\0' && web_http_check(&hc, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	return resolve_run_user(cfg, live || check, own);
}

int main(int argc, char **argv)
{
	struct sw_config cfg;
	struct opts o;
	struct fs_owner own;
	memset(&o, 0, sizeof(o));
	/* First of all: a SIGTERM during start-up (rules, tables, nDPI take a
	 * moment) asks for the same clean stop as one later, never the
	 * default action that would leave the outputs half written. */
	install_signals();
	conf_defaults(&cfg);
	if (parse_args(argc, argv, &o, &cfg) != 0)
		return 2;
	log_set_level(o.verbosity < 0 ? LOG_ERR :
		      (cfg.log_level + o.verbosity > LOG_DEBUG ? LOG_DEBUG : cfg.log_level + o.verbosity));
	char rdir[CONF_STR + 64], rerr[512];
	sink_cfg = &cfg;
	if (o.check_config) {
		if (find_rules(&cfg, o.rules_explicit, rdir, sizeof(rdir), rerr, sizeof(rerr)) != 0) {
			log_err("%s", rerr);
			return 2;
		}
		if (rules_check(rdir, rerr, sizeof(rerr)) != 0) {
			log_err("%s", rerr);
			return 2;
		}
		int to_stdout = 0;
		unsigned nsinks = 0;
		if (check_start(&o, &cfg, o.nifaces > 0, 1, &own) != 0 ||
		    open_sinks(&o, &cfg, &own, 1, NULL, &to_stdout, &nsinks) != 0)
			return 2;
		char what[CONF_STR + 64];
		if (o.config != NULL)
			snprintf(what, sizeof(what), ": %s%s", o.config,
				 o.nsets ? " and the command-line settings" : "");
		else
			snprintf(what, sizeof(what), "%s",
				 o.nsets ? " (defaults and the command-line settings)" : " (defaults)");
		printf("configuration OK%s; rules OK: %s\n", what, rdir);
		return 0;
	}
	cur_rules = load_rules(&cfg, o.rules_explicit, rdir, sizeof(rdir), rerr, sizeof(rerr));
	if (cur_rules == NULL) {
		log_err("%s", rerr);
		return 2;
	}
	cur_cfg = &cfg;
	cur_rules_explicit = o.rules_explicit;
	if (o.nfiles == 0 && o.nifaces == 0) {
		log_err("nothing to read: give -r FILE (a capture) or -i IFACE (live); see --help");
		return 2;
	}
	if (o.nfiles > 0 && o.nifaces > 0) {
		log_err("-r and -i cannot be mixed: replay files or capture live, not both");
		return 2;
	}
	if (check_start(&o, &cfg, o.nifaces > 0, 0, &own) != 0)
		return 2;
	if (cfg.observer_name[0] == '\0' && gethostname(cfg.observer_name, sizeof(cfg.observer_name) - 1) != 0)
		snprintf(cfg.observer_name, sizeof(cfg.observer_name), "stubwatch");

	struct out *out = out_new(cfg.output_queue_size);
	if (out == NULL) {
		log_err("cannot allocate the event queue (output.queue_size=%u)", cfg.output_queue_size);
		return 1;
	}
	/* A replay loses nothing by waiting for the sinks; live capture must not. */
	out_set_blocking(out, o.nfiles > 0);
	int to_stdout = 0;
	unsigned nsinks = 0;
	/* A bad URL, path or folder is a usage error: exit 2 with the message. */
	if (open_sinks(&o, &cfg, &own, 0, out, &to_stdout, &nsinks) != 0)
		return 2;
	int summary = o.summary;
	if (nsinks == 0) {
		if (isatty(STDOUT_FILENO)) {
			summary = 1; /* a person is reading: the table, not raw JSON */
		} else {
			struct out_sink *s;
			if (open_sink("-", &own, 0, 0, &s, &to_stdout) != 0 || out_add_sink(out, s) != 0)
				return 1;
		}
	}

	struct web_view *view = NULL;
	struct web_http *http = NULL;
	if (start_web(&o, &cfg, out, &view, &http) != 0)
		return 2;

	uint8_t sipkey[16];
	if (getrandom(sipkey, sizeof(sipkey), 0) != (ssize_t)sizeof(sipkey)) {
		log_err("cannot read random bytes for the hash key: %s", strerror(errno));
		return 1;
	}
	char err[512];
	struct feed fd = { NULL, NULL };
	unsigned nworkers = wk_count(&cfg, o.nifaces > 0);
	if (nworkers > 1) {
		fd.wk = wk_new(&cfg, out, nworkers, sipkey, cur_rules, o.nfiles > 0, err,
			       sizeof(err));
		if (fd.wk == NULL) {
			log_err("%s", err);
			return 1;
		}
		log_info("%u workers", nworkers);
	} else {
		fd.eng = eng_new(&cfg, out, sipkey, err, sizeof(err));
		if (fd.eng == NULL) {
			log_err("%s", err);
			return 1;
		}
		eng_set_rules(fd.eng, cur_rules);
		eng_set_deterministic(fd.eng, o.nfiles > 0);
	}
	if (out_start(out) != 0) {
		log_err("cannot start the output thread");
		return 1;
	}
	if (fd.wk != NULL && wk_start(fd.wk) != 0) {
		log_err("cannot start the worker threads");
		return 1;
	}

	int rc = o.nfiles > 0 ? run_files(&o, &cfg, &fd, out) : run_live(&o, &cfg, &fd, out, &own);

	if (fd.wk != NULL)
		wk_finish(fd.wk);
	else
		eng_finish(fd.eng);
	out_stop(out);
	if (summary) {
		/* After the sinks are flushed, so the table is not interleaved with
		 * JSON on a shared standard output. */
		if (fd.wk != NULL)
			wk_print_summary(fd.wk, to_stdout ? stderr : stdout);
		else
			eng_print_summary(fd.eng, to_stdout ? stderr : stdout);
	}
	if (fd.wk != NULL)
		wk_free(fd.wk);
	else
		eng_free(fd.eng);
	rules_free(cur_rules);
	if (o.report.path != NULL) {
		o.report.follow_symlinks = cfg.output_follow_symlinks;
		uint16_t failed = 0;
		if (report_write(view, &o.report, &failed, err, sizeof(err)) != 0) {
			log_err("%s", err);
			rc = rc != 0 ? rc : 1;
		} else if (failed != 0 && rc == 0) {
			rc = 3; /* --fail-on: a named guideline fails */
		}
	}
	if (http != NULL && o.nfiles > 0) {
		log_info("http: replay done; serving until SIGINT or SIGTERM");
		while (!stop_requested)
			poll(NULL, 0, 100);
	}
	web_http_stop(http);
	view_free(view);
	return rc;
}
