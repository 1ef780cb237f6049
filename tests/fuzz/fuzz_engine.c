/* fuzz_engine.c — libFuzzer target for the whole engine: frames through
 * eng_packet with every detection family on, then eng_finish, with events
 * built and written to a real file sink on /dev/null.
 *
 * Input framing (tests/fuzz/mkseeds_engine.py writes it from captures):
 *
 *   byte 0      link type: index into `links` (modulo its size)
 *   byte 1      options, one bit each: OPT_LOG_DNS (stubwatch.dns events),
 *               OPT_SNAPSHOTS (device snapshots every second),
 *               OPT_STATS (stats every second), OPT_ALLOWLIST (a
 *               dhcp.allowed_servers list, so rogue-DHCP judges by it)
 *   then up to FUZZ_RECORDS records:
 *     [len: 2 bytes, big-endian][dt: 4 bytes, big-endian, signed µs][body]
 *   A record moves the packet clock by dt (it may step back; it stops at
 *   0) and then, when bit 15 of len is clear, hands the engine a frame of
 *   `len` bytes (a short last record takes what is left). With bit 15 set
 *   it carries no body and is a control: (len & 0x7fff) % 3 is 0 for a
 *   stats event now (SIGUSR1), 1 for a rules reload (the other of two
 *   loaded copies, as SIGHUP swaps them between packets), 2 for a frame
 *   whose wire length is larger than its captured length (a snaplen cut)
 *   of the next record.
 *
 * Every table is at its smallest allowed size (16 entries, 2 TCP buffers of
 * 512 bytes) and every timeout at its shortest, so eviction and expiry run
 * on small inputs. Each input builds its own engine and output queue and
 * frees them, so nothing carries from one input to the next; the rules
 * (rules/ of the source tree) and the configuration are read once.
 *
 * nDPI's detection module takes some 70 ms to build (its host and address
 * lists), seven times the rest of an engine, so this program interposes
 * nDPI's init, finalize and exit calls: the first engine builds the module,
 * and every later one gets the same module back instead of a new one. What
 * may then carry from one input to the next is nDPI's own LRU caches (e.g.
 * of TLS certificates by server address), nothing of stubwatch's.
 *
 * Files: rules/ and tests/fuzz/oui/ (a small vendor registry, so device
 * events carry vendors without loading the 14 MB IEEE registry per input),
 * found from the working directory or from the program's own place in
 * build-san/fuzz/ or build-fuzz/.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "pipeline/engine.h"
#include "detect/rules.h"
#include "output/out.h"

#include <ndpi/ndpi_api.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few hundred frames reach a device's table eviction (16 devices), query
 * expiry and several ticks; more would slow every input for little. */
#define FUZZ_RECORDS 512

/* Events one input may queue before out_stop writes them: the queue is not
 * started (no threads per input), so beyond this events are counted as
 * dropped, which is a path worth running too. */
#define FUZZ_QUEUE 1024

/* 2026-01-15T10:00:00Z: a time the pcap cases also start near. */
#define FUZZ_T0 1768471200000000ull

enum {
	OPT_LOG_DNS = 1,
	OPT_SNAPSHOTS = 2,
	OPT_STATS = 4,
	OPT_ALLOWLIST = 8,
};

/* pcap link types the decoder knows (decode.h), and one it does not. */
static const int links[] = {
	1, 113, 276, 0, 108, 12, 101, 228, 229, 147,
};

static struct sw_config base_cfg;
static struct rules *rules_copy[2];
static FILE *devnull;

/* ---- one nDPI module for every input ----------------------------------- */

static struct ndpi_detection_module_struct *ndpi_kept;

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (f == NULL) {
		fprintf(stderr, "fuzz_engine: no %s in libndpi: %s\n", name, dlerror());
		abort();
	}
	return f;
}

struct ndpi_detection_module_struct *ndpi_init_detection_module(ndpi_init_prefs prefs)
{
	if (ndpi_kept == NULL) {
		struct ndpi_detection_module_struct *(*init)(ndpi_init_prefs) =
			(struct ndpi_detection_module_struct *(*)(ndpi_init_prefs))
			real("ndpi_init_detection_module");
		ndpi_kept = init(prefs);
	}
	return ndpi_kept;
}

static int ndpi_finalized;

void ndpi_set_protocol_detection_bitmask2(struct ndpi_detection_module_struct *m,
					  const NDPI_PROTOCOL_BITMASK *mask)
{
	if (m == ndpi_kept && ndpi_finalized)
		return;
	void (*set)(struct ndpi_detection_module_struct *, const NDPI_PROTOCOL_BITMASK *) =
		(void (*)(struct ndpi_detection_module_struct *, const NDPI_PROTOCOL_BITMASK *))
		real("ndpi_set_protocol_detection_bitmask2");
	set(m, mask);
}

void ndpi_finalize_initialization(struct ndpi_detection_module_struct *m)
{
	if (m == ndpi_kept && ndpi_finalized)
		return;
	void (*fin)(struct ndpi_detection_module_struct *) =
		(void (*)(struct ndpi_detection_module_struct *))real("ndpi_finalize_initialization");
	fin(m);
	if (m == ndpi_kept)
		ndpi_finalized = 1;
}

void ndpi_exit_detection_module(struct ndpi_detection_module_struct *m)
{
	if (m == ndpi_kept)
		return;
	void (*fini)(struct ndpi_detection_module_struct *) =
		(void (*)(struct ndpi_detection_module_struct *))real("ndpi_exit_detection_module");
	fini(m);
}

/* ---- the target ----------------------------------------------------------- */

static void must_set(struct sw_config *c, const char *key, const char *value)
{
	char err[512];
	if (conf_set(c, key, value, "fuzz_engine", err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
}

/* The source tree: the working directory, or two or one levels above the
 * program (build-san/fuzz/fuzz_engine, build-fuzz/fuzz_engine). */
static void find_root(char *root, size_t len)
{
	if (access("rules/detections.json", R_OK) == 0) {
		snprintf(root, len, ".");
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		static const char *const up[] = { "/../..", "/.." };
		char *slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
			char cand[PATH_MAX + 64];
			snprintf(root, len, "%s%s", exe, up[i]);
			snprintf(cand, sizeof(cand), "%s/rules/detections.json", root);
			if (access(cand, R_OK) == 0)
				return;
		}
	}
	fprintf(stderr, "fuzz_engine: rules/detections.json not found; run from the "
		"top of the source tree\n");
	abort();
}

static void setup(void)
{
	char root[PATH_MAX + 16], dir[PATH_MAX + 64], err[512];

	find_root(root, sizeof(root));
	snprintf(dir, sizeof(dir), "%s/rules", root);
	for (int i = 0; i < 2; i++) {
		rules_copy[i] = rules_load(dir, err, sizeof(err));
		if (rules_copy[i] == NULL) {
			fprintf(stderr, "fuzz_engine: %s\n", err);
			abort();
		}
	}
	/* The smallest tables and shortest timeouts the schema allows. */
	static const char *const settings[][2] = {
		{ "devices.max", "16" }, { "queries.max", "16" }, { "flows.max", "16" },
		{ "tcp.buffers", "2" }, { "tcp.buffer_size", "512" }, { "frag.max", "16" },
		{ "frag.timeout", "1s" }, { "queries.timeout", "100ms" },
		{ "flows.timeout", "1s" }, { "devices.snapshot_interval", "0" },
		{ "stats.interval", "0" }, { "observer.name", "fuzz" },
		{ "detect.modules", "encrypted, behaviour, integrity" },
	};
	conf_defaults(&base_cfg);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		must_set(&base_cfg, settings[i][0], settings[i][1]);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/oui", root);
	must_set(&base_cfg, "enrich.oui_dir", dir);
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	/* Start-up notices (a registry file missing) would print per input. */
	log_set_level(LOG_ERR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rules_copy[0] == NULL)
		setup();
	if (size < 2)
		return 0;

	struct sw_config cfg = base_cfg;
	uint8_t opt = data[1];
	if (opt & OPT_LOG_DNS)
		must_set(&cfg, "log.dns", "yes");
	if (opt & OPT_SNAPSHOTS)
		must_set(&cfg, "devices.snapshot_interval", "1s");
	if (opt & OPT_STATS)
		must_set(&cfg, "stats.interval", "1s");
	if (opt & OPT_ALLOWLIST)
		must_set(&cfg, "dhcp.allowed_servers", "192.168.1.1, fe80::1, 02:00:00:00:00:01");

	char err[512];
	struct out *out = out_new(FUZZ_QUEUE);
	struct out_sink *sink = out_file_sink("/dev/null", err, sizeof(err));
	if (out == NULL || sink == NULL || out_add_sink(out, sink) != 0) {
		fprintf(stderr, "fuzz_engine: output: %s\n", sink == NULL ? err : "out of memory");
		abort();
	}
	struct engine *e = eng_new(&cfg, out, NULL, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	int which = 0;
	eng_set_rules(e, rules_copy[which]);
	eng_set_deterministic(e, 1);

	int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	uint64_t ts = FUZZ_T0;
	uint32_t extra = 0;
	size_t off = 2;
	for (int i = 0; i < FUZZ_RECORDS && size - off >= 6; i++) {
		uint16_t len = (uint16_t)(data[off] << 8 | data[off + 1]);
		int32_t dt = (int32_t)((uint32_t)data[off + 2] << 24 | (uint32_t)data[off + 3] << 16 |
				       (uint32_t)data[off + 4] << 8 | data[off + 5]);
		off += 6;
		if (dt < 0 && (uint64_t)-(int64_t)dt > ts)
			ts = 0;
		else
			ts += (uint64_t)(int64_t)dt;
		if (len & 0x8000) {
			switch ((len & 0x7fff) % 3) {
			case 0:
				eng_emit_stats(e, "signal");
				break;
			case 1:
				which ^= 1;
				eng_set_rules(e, rules_copy[which]);
				break;
			default:
				extra = 1000;
				break;
			}
			continue;
		}
		if (len > size - off)
			len = (uint16_t)(size - off);
		/* An exactly-sized copy: ASan sees any read past caplen. */
		uint8_t *frame = malloc(len ? len : 1);
		if (frame == NULL)
			abort();
		memcpy(frame, data + off, len);
		off += len;
		eng_packet(e, link, ts, len, len + extra, frame);
		free(frame);
		extra = 0;
	}
	eng_finish(e);
	out_stop(out);
	eng_print_summary(e, devnull);
	eng_free(e);
	return 0;
}
