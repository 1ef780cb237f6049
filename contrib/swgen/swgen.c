/* swgen.c — stubwatch's own capture generator: a deterministic pcap of a home/office IoT network.
 *
 * Implements, as a sender: RFC 1035 (DNS), RFC 6891 (EDNS(0)), RFC 7873 (DNS COOKIE),
 * RFC 7766 (DNS over TCP), RFC 2308 (negative answers), RFC 9460 (HTTPS RR), RFC 6762 (mDNS),
 * RFC 4795 (LLMNR), RFC 2131/2132 (DHCPv4), RFC 4861 (NDP, RA), RFC 8106 (RDNSS, DNSSL),
 * RFC 826 (ARP), RFC 791/8200 (IPv4/IPv6, fragmentation), RFC 768 (UDP), RFC 9293 (TCP),
 * RFC 8446 (TLS 1.3 ClientHello/ServerHello), RFC 7858 (DoT), RFC 5905 (NTP client packets).
 *
 * How it works: a discrete-event simulation in packet time. A binary heap holds both pending
 * logic events (a device wants a name, a retry timer fires, the router sends an RA) and
 * finished frames waiting for their timestamp; popping the heap in (time, sequence) order
 * writes frames in time order while only a few frames per device are ever held in memory.
 * Every random choice comes from xoshiro256** seeded by splitmix64 from --seed (one stream per
 * device, one for the network), so the same arguments give a byte-identical file.
 *
 * Ground truth (--truth) is counted when a frame is *written*, so --packets N cuts it exactly.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 2026-01-15T10:00:00Z: every capture starts here, so replays give stable timestamps. */
#define SW_EPOCH 1768471200ULL
#define US 1000000ULL
/* Ethernet payload MTU; larger IP datagrams are fragmented (RFC 791 §2.3, RFC 8200 §4.5). */
#define SW_MTU 1500
/* 14 (Ethernet) + 8 (two VLAN tags) + 1500 (MTU), rounded up. */
#define FRAME_MAX 1536
/* TCP MSS we announce and honour: 1500 - 20 (IP) - 20 (TCP) = 1460. */
#define SW_MSS 1460
#define MAX_RES 64      /* resolver addresses in the network table (router per segment + public) */
#define MAX_SEG 64      /* L2 segments: untagged + one per VLAN */
#define MAX_KIND_NAMES 48

/* ------------------------------------------------------------------------------------------ */
/* PRNG: splitmix64 seeds xoshiro256** (Blackman & Vigna); no libc randomness anywhere.         */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n) by multiply-shift (Lemire); the tiny bias is irrelevant here. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int rng_chance(struct rng *r, double p)
{
	return rng_unit(r) < p;
}

/* Exponential inter-arrival with the given mean, in microseconds (Poisson process). */
static uint64_t rng_exp_us(struct rng *r, double mean_s)
{
	double u = rng_unit(r);
	if (u < 1e-12)
		u = 1e-12;
	return (uint64_t)(-log(u) * mean_s * 1e6);
}

static void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next(r) >> 56);
}

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (uint8_t)tolower((unsigned char)*p)) * 1099511628211ULL;
	return h;
}

/* ------------------------------------------------------------------------------------------ */
/* Model tables: device kinds, vendors (real IEEE OUIs), query names.                           */

enum kind { K_CAMERA, K_PLUG, K_BULB, K_SPEAKER, K_HUB, K_TV, K_THERMO, K_PRINTER, K_LAPTOP,
	    K_PHONE, K_COUNT };
#define KB(k) (1u << (k))
#define K_IOT (KB(K_CAMERA) | KB(K_PLUG) | KB(K_BULB) | KB(K_SPEAKER) | KB(K_HUB) | KB(K_TV) | \
	       KB(K_THERMO) | KB(K_PRINTER))
#define K_ALL 0x3ffu
#define K_HUMAN (KB(K_LAPTOP) | KB(K_PHONE))

static const char *const kind_names[K_COUNT] = {"camera", "plug", "bulb", "speaker", "hub",
						 "tv", "thermostat", "printer", "laptop", "phone"};

struct vendor {
	const char *name;
	uint8_t oui[3];
	uint16_t kinds;          /* which device kinds this vendor makes */
	const char *dhcp_vendor; /* DHCP option 60, or NULL */
};

/* OUIs checked against the IEEE registry (Debian ieee-data oui.txt). */
static const struct vendor vendors[] = {
	{"Hikvision", {0x44, 0x19, 0xb6}, KB(K_CAMERA), NULL},
	{"Xiaomi", {0x28, 0x6c, 0x07}, KB(K_CAMERA) | KB(K_PLUG) | KB(K_BULB) | KB(K_PHONE), "udhcp 1.29.3"},
	{"TP-Link", {0x50, 0xc7, 0xbf}, KB(K_PLUG) | KB(K_BULB) | KB(K_CAMERA), "udhcp 1.30.1"},
	{"Espressif", {0x24, 0x0a, 0xc4}, KB(K_PLUG) | KB(K_BULB) | KB(K_THERMO), NULL},
	{"Amazon", {0xf0, 0x27, 0x2d}, KB(K_SPEAKER) | KB(K_TV), "dhcpcd-9.4.1"},
	{"Google", {0xf4, 0xf5, 0xd8}, KB(K_SPEAKER) | KB(K_TV) | KB(K_HUB), "dhcpcd-9.4.1"},
	{"Sonos", {0x48, 0xa6, 0xb8}, KB(K_SPEAKER), NULL},
	{"Philips", {0x00, 0x17, 0x88}, KB(K_HUB) | KB(K_BULB), NULL},
	{"Samsung", {0x8c, 0x79, 0xf5}, KB(K_TV) | KB(K_HUB) | KB(K_PHONE), "android-dhcp-14"},
	{"Nest", {0x18, 0xb4, 0x30}, KB(K_THERMO) | KB(K_CAMERA), NULL},
	{"HP", {0x3c, 0xd9, 0x2b}, KB(K_PRINTER) | KB(K_LAPTOP), "Hewlett-Packard JetDirect"},
	{"Brother", {0x00, 0x80, 0x77}, KB(K_PRINTER), NULL},
	{"Apple", {0xa4, 0x83, 0xe7}, KB(K_LAPTOP) | KB(K_PHONE) | KB(K_SPEAKER), NULL},
	{"Intel", {0x3c, 0x58, 0xc2}, KB(K_LAPTOP), "MSFT 5.0"},
};
#define N_VENDORS ((int)(sizeof(vendors) / sizeof(vendors[0])))

enum qt { QT_A = 1, QT_PTR = 12, QT_TXT = 16, QT_AAAA = 28, QT_SRV = 33, QT_OPT = 41,
	  QT_HTTPS = 65 };
enum nres { NR_OK, NR_NX, NR_SERVFAIL };

/* A name the network knows. The answer addresses are derived from a hash of the name, so a
 * name always resolves to the same addresses. `big` names carry a ~1.9 kB TXT RRset: over UDP
 * it is truncated (TC=1) below a 1900-byte EDNS buffer and IP-fragmented above it. */
struct name_ent {
	const char *name;   /* "@ptr-router" and "@ptr-cloud" are filled in per device */
	uint16_t kinds;     /* device kinds that use it */
	uint16_t qtype;     /* main query type: A (then also AAAA/HTTPS), PTR, TXT, SRV */
	uint32_t ttl;       /* TTL of the final RRset (CNAME links carry longer TTLs) */
	uint8_t n_addr;     /* A/AAAA records in the answer */
	uint8_t has_aaaa;   /* 0: AAAA answered NODATA */
	uint8_t res;        /* enum nres */
	uint8_t big;        /* large TXT answer */
	uint8_t https;      /* has an HTTPS RR (else HTTPS is NODATA) */
	uint8_t weight;     /* relative lookup frequency */
	const char *cname1; /* CDN-style CNAME chain, or NULL */
	const char *cname2;
};

static const struct name_ent names[] = {
	/* shared */
	{"time.google.com", K_ALL, QT_A, 21600, 4, 1, NR_OK, 0, 0, 3, NULL, NULL},
	{"pool.ntp.org", K_ALL, QT_A, 130, 4, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"connectivitycheck.gstatic.com", KB(K_PHONE) | KB(K_TV) | KB(K_SPEAKER), QT_A, 300, 1, 1, NR_OK, 0, 0, 4, NULL, NULL},
	{"a2x7k9p3qz1m4d-ats.iot.us-east-1.amazonaws.com", KB(K_PLUG) | KB(K_CAMERA) | KB(K_THERMO), QT_A, 300, 2, 0, NR_OK, 0, 0, 4, NULL, NULL},
	{"fw-manifest.iot-update.net", K_IOT, QT_TXT, 3600, 0, 0, NR_OK, 1, 0, 1, NULL, NULL},
	{"d3f8u2kq9x7w1c.cloudfront.net", K_IOT | K_HUMAN, QT_A, 60, 4, 1, NR_OK, 0, 0, 2, NULL, NULL},
	{"@ptr-router", KB(K_LAPTOP) | KB(K_PHONE) | KB(K_PRINTER), QT_PTR, 86400, 0, 0, NR_OK, 0, 0, 1, NULL, NULL},
	{"@ptr-cloud", KB(K_LAPTOP), QT_PTR, 3600, 0, 0, NR_NX, 0, 0, 1, NULL, NULL},
	/* camera */
	{"dev.hik-connect.com", KB(K_CAMERA), QT_A, 600, 2, 0, NR_OK, 0, 0, 5, NULL, NULL},
	{"litedev.hik-connect.com", KB(K_CAMERA), QT_A, 600, 1, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"business.smartcamera.api.io.mi.com", KB(K_CAMERA), QT_A, 60, 2, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"p2p.xmeye-legacy.net", KB(K_CAMERA), QT_A, 300, 0, 0, NR_NX, 0, 0, 1, NULL, NULL},
	{"upgrade.ezvizlife.com", KB(K_CAMERA), QT_A, 3600, 1, 0, NR_OK, 0, 0, 1, "upgrade.ezvizlife.com.cdn.cloudflare.net", NULL},
	/* plug */
	{"devs.tplinkcloud.com", KB(K_PLUG) | KB(K_BULB), QT_A, 60, 2, 0, NR_OK, 0, 0, 6, NULL, NULL},
	{"n-devs.tplinkcloud.com", KB(K_PLUG), QT_A, 60, 2, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"n-deventry-fw.tplinkcloud.com", KB(K_PLUG), QT_A, 1800, 1, 0, NR_OK, 0, 0, 1, "d2kx8oq1v7.cloudfront.net", NULL},
	{"use1-api.tplinkra.com", KB(K_PLUG), QT_A, 300, 1, 0, NR_OK, 0, 0, 2, NULL, NULL},
	/* bulb (Tuya on Espressif) */
	{"a1.tuyaus.com", KB(K_BULB) | KB(K_PLUG), QT_A, 300, 2, 0, NR_OK, 0, 0, 5, NULL, NULL},
	{"m1.tuyaus.com", KB(K_BULB) | KB(K_PLUG), QT_A, 300, 2, 0, NR_OK, 0, 0, 4, NULL, NULL},
	{"h3.iot-dns.com", KB(K_BULB), QT_A, 30, 1, 0, NR_OK, 0, 0, 3, NULL, NULL},
	/* speaker */
	{"api.amazonalexa.com", KB(K_SPEAKER) | KB(K_TV), QT_A, 60, 3, 1, NR_OK, 0, 0, 5, NULL, NULL},
	{"avs-alexa-12-na.amazon.com", KB(K_SPEAKER), QT_A, 60, 3, 1, NR_OK, 0, 0, 4, "avs-alexa-12-na.amazon.com.edgekey.net", "e2374.dscb.akamaiedge.net"},
	{"device-metrics-us.amazon.com", KB(K_SPEAKER), QT_A, 60, 2, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"api.sonos.com", KB(K_SPEAKER), QT_A, 300, 2, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"update.sonos.com", KB(K_SPEAKER), QT_A, 3600, 2, 1, NR_OK, 0, 0, 1, "update.sonos.com.edgesuite.net", "a1837.dscb.akamai.net"},
	{"msmetrics.ws.sonos.com", KB(K_SPEAKER), QT_A, 60, 1, 0, NR_SERVFAIL, 0, 0, 1, NULL, NULL},
	{"mtalk.google.com", KB(K_SPEAKER) | KB(K_PHONE) | KB(K_TV), QT_A, 300, 1, 1, NR_OK, 0, 0, 3, "mobile-gtalk.l.google.com", NULL},
	/* hub */
	{"ws.meethue.com", KB(K_HUB), QT_A, 3600, 2, 0, NR_OK, 0, 0, 5, NULL, NULL},
	{"diag.meethue.com", KB(K_HUB), QT_A, 3600, 1, 0, NR_OK, 0, 0, 2, NULL, NULL},
	{"firmware.meethue.com", KB(K_HUB), QT_A, 86400, 1, 0, NR_OK, 0, 0, 1, NULL, NULL},
	{"api.smartthings.com", KB(K_HUB), QT_A, 600, 2, 1, NR_OK, 0, 0, 4, NULL, NULL},
	{"dc.connect.smartthings.com", KB(K_HUB), QT_A, 3600, 1, 0, NR_OK, 0, 0, 2, NULL, NULL},
	/* tv */
	{"otn.samsungcloudsolution.com", KB(K_TV), QT_A, 300, 2, 0, NR_OK, 0, 0, 4, NULL, NULL},
	{"log-config.samsungacr.com", KB(K_TV), QT_A, 60, 1, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"nrdp.prod.ftl.netflix.com", KB(K_TV), QT_A, 60, 3, 1, NR_OK, 0, 0, 3, NULL, NULL},
	{"www.youtube.com", KB(K_TV) | K_HUMAN, QT_A, 300, 4, 1, NR_OK, 0, 1, 4, "youtube-ui.l.google.com", NULL},
	/* thermostat */
	{"frontdoor.nest.com", KB(K_THERMO), QT_A, 600, 2, 1, NR_OK, 0, 0, 5, NULL, NULL},
	{"weather.nest.com", KB(K_THERMO), QT_A, 1800, 1, 0, NR_OK, 0, 0, 2, NULL, NULL},
	/* printer */
	{"xmpp008.hpeprint.com", KB(K_PRINTER), QT_A, 300, 1, 0, NR_OK, 0, 0, 3, NULL, NULL},
	{"_xmpps-client._tcp.hpeprint.com", KB(K_PRINTER), QT_SRV, 3600, 0, 0, NR_OK, 0, 0, 2, NULL, NULL},
	{"h10141.www1.hp.com", KB(K_PRINTER), QT_A, 300, 2, 1, NR_OK, 0, 0, 1, "h10141.www1.hp.com.edgekey.net", "e3130.b.akamaiedge.net"},
	/* laptop / phone */
	{"www.apple.com", K_HUMAN, QT_A, 300, 2, 1, NR_OK, 0, 1, 4, "www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"},
	{"www.google.com", K_HUMAN, QT_A, 300, 1, 1, NR_OK, 0, 1, 6, NULL, NULL},
	{"github.com", KB(K_LAPTOP), QT_A, 60, 1, 0, NR_OK, 0, 0, 4, NULL, NULL},
	{"outlook.office365.com", KB(K_LAPTOP), QT_A, 30, 4, 1, NR_OK, 0, 0, 4, "outlook.ha.office365.com", "outlook.ms-acdc.office.com"},
	{"google.com", KB(K_LAPTOP), QT_TXT, 3600, 0, 0, NR_OK, 1, 0, 1, NULL, NULL},
	{"wpad.home.arpa", KB(K_LAPTOP), QT_A, 0, 0, 0, NR_NX, 0, 0, 2, NULL, NULL},
	{"_ldap._tcp.dc._msdcs.home.arpa", KB(K_LAPTOP), QT_SRV, 0, 0, 0, NR_NX, 0, 0, 1, NULL, NULL},
	{"gateway.icloud.com", KB(K_PHONE) | KB(K_LAPTOP), QT_A, 60, 3, 1, NR_OK, 0, 0, 4, NULL, NULL},
	{"www.instagram.com", KB(K_PHONE), QT_A, 3600, 1, 1, NR_OK, 0, 1, 4, "z-p42-instagram.c10r.facebook.com", NULL},
	{"graph.facebook.com", KB(K_PHONE), QT_A, 300, 1, 1, NR_OK, 0, 0, 3, "star.c10r.facebook.com", NULL},
	{"g.whatsapp.net", KB(K_PHONE), QT_A, 60, 1, 1, NR_OK, 0, 0, 3, NULL, NULL},
	{"dns.google", KB(K_PHONE), QT_A, 900, 2, 1, NR_OK, 0, 1, 1, NULL, NULL},
	{"_spotify-connect._tcp.spotify.com", KB(K_PHONE), QT_TXT, 1800, 0, 0, NR_OK, 0, 0, 1, NULL, NULL},
};
#define N_NAMES ((int)(sizeof(names) / sizeof(names[0])))

/* Names that only one vendor's devices use (a Sonos speaker does not call Amazon's cloud). */
static const struct {
	const char *part, *vendor;
} name_vendor[] = {
	{"hik-connect", "Hikvision"}, {"ezviz", "Hikvision"}, {".mi.com", "Xiaomi"},
	{"tplink", "TP-Link"}, {"tuyaus", "Espressif"}, {"iot-dns", "Espressif"},
	{"amazonalexa", "Amazon"}, {".amazon.com", "Amazon"}, {"sonos", "Sonos"},
	{"meethue", "Philips"}, {"smartthings", "Samsung"}, {"samsung", "Samsung"},
	{"nest.com", "Nest"}, {"hpeprint", "HP"}, {"hp.com", "HP"}, {"apple.com", "Apple"},
	{"icloud", "Apple"},
};

/* Names for --bench: a small set, so the sensor's cost is parsing, not table growth. */
static const char *const bench_names[] = {"time.google.com", "pool.ntp.org", "devs.tplinkcloud.com",
	"api.amazonalexa.com", "connectivitycheck.gstatic.com", "a1.tuyaus.com", "www.google.com",
	"avs-alexa-12-na.amazon.com", "ws.meethue.com", "frontdoor.nest.com", "wpad.home.arpa",
	"d3f8u2kq9x7w1c.cloudfront.net"};

/* ------------------------------------------------------------------------------------------ */
/* Devices and their behaviour flags. To add a misbehaviour: add a member here, a key in       */
/* dev_set(), its use in the lookup path, and its value in truth_write().                     */

enum txid_mode { TX_RANDOM, TX_ZERO, TX_CONSTANT, TX_SEQUENTIAL };
enum port_mode { PM_RANDOM, PM_FIXED, PM_SEQUENTIAL, PM_NARROW };
static const char *const txid_names[] = {"random", "zero", "constant", "sequential"};
static const char *const port_names[] = {"random", "fixed", "sequential", "narrow"};

struct addr {
	uint8_t v6;     /* 0: IPv4 in a[0..3]; 1: IPv6 */
	uint8_t a[16];
};

struct flags {
	uint8_t txid;         /* enum txid_mode */
	uint8_t ports;        /* enum port_mode */
	uint8_t has_resolver; /* hard-coded resolver in `resolver` instead of the assigned one */
	uint8_t has_fallback; /* `fallback` is used only after the assigned resolver fails */
	uint16_t edns;        /* 0: no OPT RR; else advertised UDP payload size */
	uint8_t do_bit;       /* DO bit in OPT */
	uint8_t cookie;       /* COOKIE option (RFC 7873) in OPT */
	uint8_t aaaa;         /* asks AAAA */
	uint8_t v6;           /* 0: IPv4 only; 1: dual-stack, DNS over IPv6 for half the lookups;
			       * 2: has IPv6 addresses but sends all DNS over IPv4 */
	uint8_t ttl_ignore;   /* re-query every `requery` seconds whatever the TTL */
	uint32_t requery;     /* seconds, with ttl_ignore */
	uint8_t storm;        /* on failure keep asking every 0.5 s, no back-off */
	uint8_t tcp_fallback; /* retry over TCP after TC=1 */
	uint8_t tcp_pct;      /* % of lookups sent over TCP from the start (A+AAAA in one segment) */
	uint16_t vlan;        /* 802.1Q VID, 0 = untagged */
	uint16_t qinq;        /* outer 802.1ad S-VID (only with vlan), 0 = none */
	double rate;          /* application lookups per minute (cache hits send nothing) */
	uint8_t dhcp;         /* 1: DHCP exchange in the capture; 0: lease predates it */
	uint8_t mdns;         /* sends mDNS queries and announcements */
	uint8_t llmnr;        /* sends LLMNR queries */
	uint8_t dot;          /* DoT sessions to dns.google / cloudflare */
	uint8_t doh;          /* DoH (TLS, ALPN h2) sessions to dns.google */
	uint8_t noise;        /* NTP, HTTP(S), other traffic after lookups */
	struct addr resolver;
	struct addr fallback;
	/* Misbehaviours for the caching, rate and integrity detections (all off by default, and
	 * drawing no random numbers when off, so existing captures keep their bytes). */
	uint8_t ttl_prefetch; /* ttl=prefetch: an answer is kept for 0.9 x TTL (asks again just
			       * before expiry, never before half of it) */
	uint8_t negcache;     /* caches NXDOMAIN/NODATA for their negative TTL (0: not at all) */
	uint8_t stale;        /* an A answer expired 65 s or more is reused (TCP/443) unasked */
	uint8_t longconn;     /* after its first A answer, keeps one TLS connection open */
	uint8_t race;         /* % of answered A lookups that also get a forged answer */
	uint8_t duprr;        /* 1: first A RR written twice; 2: A RRset with unequal TTLs */
	uint8_t replyflood;   /* extra copies of the answer for 10% of answered lookups */
	uint8_t servedns;     /* 1: answers DNS queries from outside clients; 2: from LAN clients */
	uint32_t burst_n, burst_at;     /* burst=N@SEC: N distinct names within 20 s at SEC */
	uint32_t hammer_n, hammer_at;   /* hammer=N@SEC: one name N times within 50 s */
	uint32_t txflood_n, txflood_at; /* txflood=N@SEC: N wrong-ID answers within 2 s */
	uint32_t unsol_n, unsol_at;     /* unsolicited=N@SEC: N large answers, nothing asked */
	uint32_t tunnel_n, tunnel_at;   /* tunnel=N@SEC: N long high-entropy TXT names */
};

struct device {
	int idx;
	enum kind kind;
	const struct vendor *vendor;
	uint8_t mac[6];
	char hostname[40];
	int seg;                 /* L2 segment index */
	struct addr ip4, ll6, gl6;
	struct flags f;
	struct rng rng;
	/* behaviour state */
	uint16_t txid_next;      /* constant / sequential TXID */
	uint16_t port_next;      /* fixed / sequential port, or narrow window base */
	uint64_t fallback_until; /* using the fallback resolver until this time */
	int res_hard, res_fb;    /* resolver table indices of f.resolver / f.fallback */
	uint64_t *cache;         /* [N_NAMES * 3] expiry (us) per (name, A/AAAA/other) */
	uint8_t longconn_done;   /* the long-lived connection was opened */
	uint8_t *inflight;       /* [N_NAMES * 3] a lookup is outstanding */
	char ptr_router[64], ptr_cloud[64];
	uint16_t names[MAX_KIND_NAMES]; /* names this device uses */
	uint32_t name_w[MAX_KIND_NAMES];
	int n_names;
	uint32_t w_total;
	/* truth counters (frames written) */
	uint64_t q_udp, q_tcp, r_udp, r_tcp, q_opt, q_do, q_aaaa, q_v6, r_tc;
	uint64_t mdns, llmnr, dhcp_msgs;
	uint64_t *q_by_res;      /* [MAX_RES] */
};

struct segment {
	uint16_t vlan, qinq;
	struct addr gw4, gw6;    /* router addresses on this segment */
	uint8_t net4[4];
	int prefix4;             /* 24 or 16 */
	int res4, res6;          /* resolver table indices of gw4 / gw6 */
	int n_dev;
};

struct resolver {
	struct addr a;
	char text[48];
	int router;              /* answered by the router's resolver (affected by --resolver-down) */
	uint16_t rtt_ms;         /* one-way-ish latency used for timing */
};

/* What a frame carries, for the ground truth. A frame may complete up to two DNS messages
 * (two over TCP in one segment); a message split over segments or fragments is counted in the
 * frame that completes it. */
enum mclass { M_NONE, M_DNSQ, M_DNSR, M_MDNS, M_LLMNR, M_DHCP, M_RA };
struct meta {
	int32_t dev;             /* device index, -1 for none */
	uint8_t cls;             /* enum mclass */
	uint8_t tcp, v6;
	uint8_t nmsg;            /* messages completed in this frame */
	uint8_t frag, frag_first;
	int16_t res;             /* resolver table index for unicast DNS */
	uint8_t opt[2], dob[2], aaaa[2], tc[2];
};

struct frame {
	struct frame *next;      /* free list */
	struct meta m;
	uint32_t len;
	uint8_t b[FRAME_MAX];
};

enum ev_type { EV_LOOKUP, EV_SEND, EV_TCPDNS, EV_DHCP, EV_V6UP, EV_RA, EV_MDNS, EV_LLMNR,
	       EV_NOISE, EV_ARP, EV_ENCDNS, EV_BURST, EV_HAMMER, EV_TXFLOOD, EV_UNSOL, EV_SERVE,
	       EV_TUNNEL, EV_WEB };

/* One name resolution in flight: one (name, type), retried until answered or given up. */
struct lookup {
	int dev, name, slot;
	uint16_t qtype, id, port;
	int res;                 /* resolver table index */
	int attempt;
	int on_fallback;
	int servfail;            /* storming on SERVFAIL (shorter than on silence) */
	int neg;                 /* the answer was NXDOMAIN/NODATA */
	uint64_t t0;
};

struct event {
	struct event *next;      /* free list */
	int type, dev;
	struct lookup *lk;
};

struct hitem {
	uint64_t t, seq;
	void *p;
	int is_frame;
};

struct sim {
	/* configuration */
	uint64_t seed;
	int n_dev;
	uint64_t duration_us, end_us;
	uint64_t max_packets;
	int demo, bench, no_dhcp;
	uint64_t down_start, down_end; /* router resolver silent in [start, end), us */
	double vlan_share, v6_share;
	double web_rate;         /* --web: HTTPS/QUIC sessions per device per minute; 0 = none */
	int web_bulk;            /* --web-bulk: at most this many bulk packets a session */
	uint16_t qinq_all;
	const char *out_path, *truth_path;
	/* network */
	uint8_t router_mac[6];
	struct addr router_ll;
	struct segment seg[MAX_SEG];
	int n_seg;
	struct resolver res[MAX_RES];
	int n_res;
	int res_google, res_google2, res_cf, res_quad9, res_google6;
	struct device *dev;
	struct rng rng;
	uint16_t ip_id;
	/* event machinery */
	struct hitem *heap;
	size_t heap_n, heap_cap;
	uint64_t seq;
	struct frame *free_frames;
	struct event *free_events;
	uint64_t now;
	/* output */
	FILE *out;
	uint64_t written;
	int stop;
	/* global truth */
	uint64_t g_q_udp, g_r_udp, g_q_tcp, g_r_tcp, g_frags, g_frag_dgrams, g_dhcp, g_ra, g_mdns,
		g_llmnr, g_tc, g_dns_frames;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("swgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		die("out of memory");
	return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Heap of (time, sequence) → frame or event. The sequence number breaks ties in insertion     */
/* order, which keeps output deterministic and keeps a conversation's frames in order.         */

static int hitem_less(const struct hitem *a, const struct hitem *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct sim *s, uint64_t t, void *p, int is_frame)
{
	if (s->heap_n == s->heap_cap) {
		s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 4096;
		s->heap = realloc(s->heap, s->heap_cap * sizeof(*s->heap));
		if (!s->heap)
			die("out of memory");
	}
	struct hitem it = {t, s->seq++, p, is_frame};
	size_t i = s->heap_n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!hitem_less(&it, &s->heap[up]))
			break;
		s->heap[i] = s->heap[up];
		i = up;
	}
	s->heap[i] = it;
}

static struct hitem heap_pop(struct sim *s)
{
	struct hitem top = s->heap[0];
	struct hitem last = s->heap[--s->heap_n];
	size_t i = 0, n = s->heap_n;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		const struct hitem *best = &last;
		if (l < n && hitem_less(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (l + 1 < n && hitem_less(&s->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

static struct frame *frame_new(struct sim *s)
{
	struct frame *f = s->free_frames;
	if (f)
		s->free_frames = f->next;
	else
		f = xcalloc(1, sizeof(*f));
	memset(&f->m, 0, sizeof(f->m));
	f->m.dev = -1;
	f->m.res = -1;
	f->len = 0;
	return f;
}

static void event_at(struct sim *s, uint64_t t, int type, int dev, struct lookup *lk)
{
	if (t >= s->end_us) {
		free(lk);
		return;
	}
	struct event *e = s->free_events;
	if (e)
		s->free_events = e->next;
	else
		e = xcalloc(1, sizeof(*e));
	e->type = type;
	e->dev = dev;
	e->lk = lk;
	heap_push(s, t, e, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* pcap writer (classic format: magic 0xa1b2c3d4, v2.4, microseconds, LINKTYPE_ETHERNET = 1)  */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void pcap_header(struct sim *s)
{
	uint8_t h[24];
	put_le32(h, 0xa1b2c3d4);
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;   /* version 2.4 */
	put_le32(h + 8, 0);                       /* thiszone */
	put_le32(h + 12, 0);                      /* sigfigs */
	put_le32(h + 16, 65535);                  /* snaplen */
	put_le32(h + 20, 1);                      /* LINKTYPE_ETHERNET */
	if (fwrite(h, 1, sizeof(h), s->out) != sizeof(h))
		die("%s: write failed: %s", s->out_path, strerror(errno));
}

static void truth_count(struct sim *s, const struct meta *m);

static void frame_write(struct sim *s, uint64_t t, struct frame *f)
{
	uint8_t h[16];
	uint64_t abs = SW_EPOCH * US + t;
	put_le32(h, (uint32_t)(abs / US));
	put_le32(h + 4, (uint32_t)(abs % US));
	put_le32(h + 8, f->len);
	put_le32(h + 12, f->len);
	if (fwrite(h, 1, 16, s->out) != 16 || fwrite(f->b, 1, f->len, s->out) != f->len)
		die("%s: write failed: %s", s->out_path, strerror(errno));
	truth_count(s, &f->m);
	if (++s->written >= s->max_packets)
		s->stop = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Byte writers and checksums                                                                  */

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum over bytes (big-endian 16-bit words). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum for UDP/TCP/ICMPv6 (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1). */
static uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto,
			    uint32_t len)
{
	uint32_t sum = 0;
	size_t alen = src->v6 ? 16 : 4;
	sum = csum_add(sum, src->a, alen);
	sum = csum_add(sum, dst->a, alen);
	sum += proto;
	sum += len >> 16;
	sum += len & 0xffff;
	return sum;
}

/* ------------------------------------------------------------------------------------------ */
/* L2-L4 frame builders                                                                        */

struct l2 {
	const uint8_t *src, *dst;
	uint16_t vlan, qinq;
};

/* Ethernet header with optional 802.1ad outer tag and 802.1Q tag; returns its length. */
static size_t eth_put(uint8_t *p, const struct l2 *l, uint16_t ethertype)
{
	size_t o = 12;
	memcpy(p, l->dst, 6);
	memcpy(p + 6, l->src, 6);
	if (l->vlan && l->qinq) {
		be16(p + o, 0x88a8);
		be16(p + o + 2, l->qinq & 0x0fff);
		o += 4;
	}
	if (l->vlan) {
		be16(p + o, 0x8100);
		be16(p + o + 2, l->vlan & 0x0fff);
		o += 4;
	}
	be16(p + o, ethertype);
	return o + 2;
}

/* Pads to the 60-byte Ethernet minimum (FCS not captured) and queues the frame at time t. */
static void frame_finish(struct sim *s, struct frame *f, uint64_t t)
{
	if (f->len < 60) {
		memset(f->b + f->len, 0, 60 - f->len);
		f->len = 60;
	}
	heap_push(s, t, f, 1);
}

/* One IP datagram (L4 header + payload already built, checksums included) from src to dst,
 * fragmented when it exceeds the MTU (IPv4: RFC 791 §3.2; IPv6: RFC 8200 §4.5 fragment
 * header). Meta of the datagram goes on the last fragment; earlier ones carry only frag. */
static void ip_send(struct sim *s, uint64_t t, const struct l2 *l, const struct addr *src,
		    const struct addr *dst, uint8_t proto, uint8_t ttl, const uint8_t *l4,
		    size_t l4len, const struct meta *m)
{
	size_t hl = src->v6 ? 40 : 20;
	size_t chunk = l4len, off = 0;
	int frag = hl + l4len > SW_MTU;
	uint32_t id = 0;
	if (frag) {
		chunk = src->v6 ? (SW_MTU - 48) & ~7u : (SW_MTU - 20) & ~7u;
		id = (uint32_t)rng_next(&s->rng);
	}
	if (!src->v6)
		s->ip_id++;
	while (off < l4len) {
		size_t n = l4len - off < chunk ? l4len - off : chunk;
		int more = off + n < l4len;
		struct frame *f = frame_new(s);
		uint8_t *p = f->b;
		size_t o = eth_put(p, l, src->v6 ? 0x86dd : 0x0800);
		if (!more && m)
			f->m = *m;
		else if (m) {
			f->m.dev = m->dev;
			f->m.cls = M_NONE;
		}
		if (frag) {
			f->m.frag = 1;
			f->m.frag_first = off == 0;
		}
		if (!src->v6) {
			uint8_t *ip = p + o;
			ip[0] = 0x45;
			ip[1] = 0;
			be16(ip + 2, (uint16_t)(20 + n));
			be16(ip + 4, frag ? (uint16_t)id : s->ip_id);
			uint16_t fo = (uint16_t)(off / 8);
			if (more)
				fo |= 0x2000;             /* MF */
			else if (!frag && proto == 6)
				fo |= 0x4000;             /* DF on TCP, as stacks do */
			be16(ip + 6, fo);
			ip[8] = ttl;
			ip[9] = proto;
			be16(ip + 10, 0);
			memcpy(ip + 12, src->a, 4);
			memcpy(ip + 16, dst->a, 4);
			be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
			o += 20;
		} else {
			uint8_t *ip = p + o;
			size_t plen = n + (frag ? 8 : 0);
			be32(ip, 0x60000000);
			be16(ip + 4, (uint16_t)plen);
			ip[6] = frag ? 44 : proto;
			ip[7] = ttl;
			memcpy(ip + 8, src->a, 16);
			memcpy(ip + 24, dst->a, 16);
			o += 40;
			if (frag) {
				ip[40] = proto;
				ip[41] = 0;
				be16(ip + 42, (uint16_t)(off | (more ? 1 : 0)));
				be32(ip + 44, id);
				o += 8;
			}
		}
		memcpy(p + o, l4 + off, n);
		f->len = (uint32_t)(o + n);
		frame_finish(s, f, t);
		t += 15; /* back-to-back fragments, 15 us apart */
		off += n;
	}
}

static void udp_send(struct sim *s, uint64_t t, const struct l2 *l, const struct addr *src,
		     const struct addr *dst, uint16_t sport, uint16_t dport, uint8_t ttl,
		     const uint8_t *pl, size_t n, const struct meta *m)
{
	static uint8_t b[65536];
	be16(b, sport);
	be16(b + 2, dport);
	be16(b + 4, (uint16_t)(8 + n));
	be16(b + 6, 0);
	memcpy(b + 8, pl, n);
	uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, 17, (uint32_t)(8 + n)), b, 8 + n));
	be16(b + 6, c ? c : 0xffff); /* RFC 768: a computed zero is sent as all ones */
	ip_send(s, t, l, src, dst, 17, ttl, b, 8 + n, m);
}

enum { TH_FIN = 1, TH_SYN = 2, TH_RST = 4, TH_PSH = 8, TH_ACK = 16 };

static void tcp_send(struct sim *s, uint64_t t, const struct l2 *l, const struct addr *src,
		     const struct addr *dst, uint16_t sport, uint16_t dport, uint8_t ttl,
		     uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *pl, size_t n,
		     const struct meta *m)
{
	uint8_t b[FRAME_MAX];
	size_t hl = 20;
	be16(b, sport);
	be16(b + 2, dport);
	be32(b + 4, seq);
	be32(b + 8, flags & TH_ACK ? ack : 0);
	b[13] = flags;
	be16(b + 14, flags & TH_SYN ? 64240 : 502); /* 502 << 7 (window scale 7) after SYN */
	be16(b + 16, 0);
	be16(b + 18, 0);
	if (flags & TH_SYN) { /* MSS, SACK permitted, window scale (RFC 9293, 2018, 7323) */
		uint8_t *o = b + 20;
		o[0] = 2; o[1] = 4; be16(o + 2, src->v6 ? SW_MSS - 20 : SW_MSS);
		o[4] = 4; o[5] = 2; o[6] = 1; o[7] = 3; o[8] = 3; o[9] = 7; o[10] = 1; o[11] = 1;
		hl += 12;
	}
	b[12] = (uint8_t)((hl / 4) << 4);
	if (n)
		memcpy(b + hl, pl, n);
	uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint32_t)(hl + n)), b, hl + n));
	be16(b + 16, c);
	ip_send(s, t, l, src, dst, 6, ttl, b, hl + n, m);
}

/* A two-way conversation between a device and a remote host (through the router). */
struct conv {
	struct l2 up, down;      /* device → remote, remote → device */
	struct addr c, r;        /* device and remote addresses */
	uint16_t cp, rp;         /* ports */
	uint32_t cseq, rseq;     /* next sequence numbers (TCP) */
	uint8_t cttl, rttl;
};

enum { UP, DOWN };

static void conv_udp(struct sim *s, struct conv *cv, int dir, uint64_t t, const uint8_t *pl,
		     size_t n, const struct meta *m)
{
	if (dir == UP)
		udp_send(s, t, &cv->up, &cv->c, &cv->r, cv->cp, cv->rp, cv->cttl, pl, n, m);
	else
		udp_send(s, t, &cv->down, &cv->r, &cv->c, cv->rp, cv->cp, cv->rttl, pl, n, m);
}

static void conv_tcp(struct sim *s, struct conv *cv, int dir, uint64_t t, uint8_t flags,
		     const uint8_t *pl, size_t n, const struct meta *m)
{
	uint32_t adv = (uint32_t)n + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	if (dir == UP) {
		tcp_send(s, t, &cv->up, &cv->c, &cv->r, cv->cp, cv->rp, cv->cttl, cv->cseq, cv->rseq,
			 flags, pl, n, m);
		cv->cseq += adv;
	} else {
		tcp_send(s, t, &cv->down, &cv->r, &cv->c, cv->rp, cv->cp, cv->rttl, cv->rseq, cv->cseq,
			 flags, pl, n, m);
		cv->rseq += adv;
	}
}

/* Per-message facts for the truth, for messages carried over TCP. */
struct msgfacts {
	uint8_t opt, dob, aaaa, tc;
};

/* Sends `n` stream bytes in one direction as PSH/ACK segments: cut at every offset in `cuts`
 * (a test of reassembly) and at the MSS. Each segment's meta counts the messages whose last
 * byte it carries (`ends`, offsets one past each message). Returns the time after the last. */
static uint64_t conv_stream(struct sim *s, struct conv *cv, int dir, uint64_t t,
			    const uint8_t *data, size_t n, const size_t *cuts, int ncuts,
			    const size_t *ends, const struct msgfacts *mf, int nmsg,
			    const struct meta *base)
{
	size_t mss = cv->c.v6 ? SW_MSS - 20 : SW_MSS;
	size_t off = 0;
	while (off < n) {
		size_t end = off + mss < n ? off + mss : n;
		for (int i = 0; i < ncuts; i++)
			if (cuts[i] > off && cuts[i] < end)
				end = cuts[i];
		struct meta m;
		const struct meta *mp = NULL;
		if (base) {
			m = *base;
			m.nmsg = 0;
			for (int i = 0; i < nmsg && m.nmsg < 2; i++)
				if (ends[i] > off && ends[i] <= end) {
					m.opt[m.nmsg] = mf[i].opt;
					m.dob[m.nmsg] = mf[i].dob;
					m.aaaa[m.nmsg] = mf[i].aaaa;
					m.tc[m.nmsg] = mf[i].tc;
					m.nmsg++;
				}
			if (!m.nmsg)
				m.cls = M_NONE;
			mp = &m;
		}
		conv_tcp(s, cv, dir, t, TH_PSH | TH_ACK, data + off, end - off, mp);
		t += 40;
		off = end;
	}
	return t;
}

/* ------------------------------------------------------------------------------------------ */
/* DNS messages (RFC 1035 §4.1) with name compression (§4.1.4)                                 */

struct wb {
	uint8_t *p;
	size_t n, cap;
};

static void w8(struct wb *w, uint8_t v)
{
	if (w->n < w->cap)
		w->p[w->n] = v;
	w->n++;
}

static void w16(struct wb *w, uint16_t v)
{
	w8(w, (uint8_t)(v >> 8));
	w8(w, (uint8_t)v);
}

static void w32(struct wb *w, uint32_t v)
{
	w16(w, (uint16_t)(v >> 16));
	w16(w, (uint16_t)v);
}

static void wbytes(struct wb *w, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w8(w, ((const uint8_t *)p)[i]);
}

/* Names already in the message, by suffix, for compression pointers (offsets < 0x4000). */
struct ctab {
	int n;
	uint16_t off[64];
	const char *sfx[64];
	char store[2048];
	size_t used;
};

/* Writes a dotted name; with a ctab, the longest suffix already present becomes a pointer and
 * the new suffixes are remembered. Without one (SRV/HTTPS targets, RFC 2782, RFC 9460 §2.2)
 * the name is written in full. */
static void wname(struct wb *w, struct ctab *ct, const char *name)
{
	if (!strcmp(name, ".") || !*name) {
		w8(w, 0);
		return;
	}
	const char *p = name;
	const char *copy = NULL;
	if (ct) {
		size_t len = strlen(name) + 1;
		if (ct->used + len <= sizeof(ct->store)) {
			memcpy(ct->store + ct->used, name, len);
			copy = ct->store + ct->used;
			ct->used += len;
		}
	}
	while (*p) {
		if (ct)
			for (int i = 0; i < ct->n; i++)
				if (!strcasecmp(ct->sfx[i], p)) {
					w16(w, (uint16_t)(0xc000 | ct->off[i]));
					return;
				}
		if (ct && copy && ct->n < 64 && w->n < 0x4000) {
			ct->off[ct->n] = (uint16_t)w->n;
			ct->sfx[ct->n] = copy + (p - name);
			ct->n++;
		}
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		w8(w, (uint8_t)l);
		wbytes(w, p, l);
		p += l;
		if (*p == '.')
			p++;
	}
	w8(w, 0);
}

struct dnsq {
	const char *qname;
	uint16_t qtype, id;
	uint16_t edns;           /* 0: no OPT */
	uint8_t dob, cookie;
	uint8_t ccookie[8];
	uint8_t duprr;           /* answers only: duplicate RRs (flags.duprr) */
};

static void w_opt(struct wb *w, uint16_t size, int dob, const uint8_t *cc, const uint8_t *sc,
		  int ede)
{
	size_t rdlen = (cc ? 4 + 8 + (sc ? 16 : 0) : 0) + (ede ? 6 : 0);
	w8(w, 0);                        /* root owner */
	w16(w, QT_OPT);
	w16(w, size);                    /* requestor's UDP payload size (RFC 6891 §6.1.2) */
	w32(w, dob ? 0x8000 : 0);        /* ext-rcode 0, version 0, DO */
	w16(w, (uint16_t)rdlen);
	if (cc) {                        /* COOKIE (RFC 7873 §4): client 8, server 8-32 */
		w16(w, 10);
		w16(w, (uint16_t)(8 + (sc ? 16 : 0)));
		wbytes(w, cc, 8);
		if (sc)
			wbytes(w, sc, 16);
	}
	if (ede) {                       /* Extended DNS Error 23, Network Error (RFC 8914) */
		w16(w, 15);
		w16(w, 2);
		w16(w, 23);
	}
}

static size_t dns_query(uint8_t *buf, size_t cap, const struct dnsq *q)
{
	struct wb w = {buf, 0, cap};
	w16(&w, q->id);
	w16(&w, 0x0100);                 /* RD */
	w16(&w, 1);
	w16(&w, 0);
	w16(&w, 0);
	w16(&w, q->edns ? 1 : 0);
	wname(&w, NULL, q->qname);
	w16(&w, q->qtype);
	w16(&w, 1);
	if (q->edns)
		w_opt(&w, q->edns, q->dob, q->cookie ? q->ccookie : NULL, NULL, 0);
	return w.n;
}

/* Deterministic public-looking addresses for a name (cloud/CDN prefixes, none special-use). */
static void name_addr4(const char *name, int i, uint8_t *a)
{
	static const uint8_t first[] = {13, 18, 34, 35, 52, 54, 104, 142, 151, 157, 162, 185};
	uint64_t h = hash_str(name) + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	a[0] = first[h % sizeof(first)];
	a[1] = (uint8_t)(h >> 8);
	a[2] = (uint8_t)(h >> 16);
	a[3] = (uint8_t)(1 + (h >> 24) % 253);
}

static void name_addr6(const char *name, int i, uint8_t *a)
{
	uint64_t h = hash_str(name) + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	static const uint8_t pre[][4] = {{0x26, 0x00, 0x1f, 0x18}, {0x2a, 0x00, 0x14, 0x50},
					 {0x26, 0x06, 0x47, 0x00}, {0x2a, 0x04, 0x4e, 0x42}};
	memcpy(a, pre[h % 4], 4);
	for (int k = 4; k < 16; k++) {
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
		a[k] = (uint8_t)(h >> 56);
	}
}

/* Zone apex for SOA records: the last two labels (three under in-addr.arpa). */
static const char *zone_of(const char *name)
{
	int want = strstr(name, "in-addr.arpa") ? 3 : 2;
	const char *p = name + strlen(name);
	int labels = 0;
	while (p > name) {
		p--;
		if (*p == '.' && ++labels == want)
			return p + 1;
	}
	return name;
}

/* Negative TTL (SOA MINIMUM, RFC 2308 §5) per zone: 300..1200 s. */
static uint32_t zone_neg_ttl(const char *zone)
{
	return 300 + (uint32_t)(hash_str(zone) % 4) * 300;
}

static void w_soa(struct wb *w, struct ctab *ct, const char *zone)
{
	char mname[300], rname[300];
	snprintf(mname, sizeof(mname), "ns1.%s", zone);
	snprintf(rname, sizeof(rname), "hostmaster.%s", zone);
	uint32_t neg = zone_neg_ttl(zone);
	wname(w, ct, zone);
	w16(w, 6);
	w16(w, 1);
	w32(w, neg);
	size_t at = w->n;
	w16(w, 0);
	wname(w, ct, mname);
	wname(w, ct, rname);
	w32(w, 2026011501);
	w32(w, 7200);
	w32(w, 3600);
	w32(w, 1209600);
	w32(w, neg);
	if (at + 2 <= w->cap)
		be16(w->p + at, (uint16_t)(w->n - at - 2));
}

/* Starts an RR whose RDATA length is patched by rr_end(). */
static size_t rr_begin(struct wb *w, struct ctab *ct, const char *owner, uint16_t type,
		       uint16_t class, uint32_t ttl)
{
	wname(w, ct, owner);
	w16(w, type);
	w16(w, class);
	w32(w, ttl);
	size_t at = w->n;
	w16(w, 0);
	return at;
}

static void rr_end(struct wb *w, size_t at)
{
	if (at + 2 <= w->cap)
		be16(w->p + at, (uint16_t)(w->n - at - 2));
}

struct dnsr {
	size_t len;
	int tc;                  /* truncated (TC=1) */
	int rcode;
	int answered_addr;       /* carries A/AAAA records */
	int neg;                 /* NXDOMAIN or NODATA */
	uint32_t ttl;            /* cache lifetime: smallest TTL in the chain, or negative TTL */
	uint8_t first4[4];       /* first A address, for follow-up connections */
};

/* Builds the resolver's answer to q for name entry ne. `limit` is the largest UDP payload the
 * client accepts (512 without EDNS, RFC 1035 §4.2.1; else its OPT size); 0 for TCP. A larger
 * answer is replaced by an empty one with TC=1 (RFC 2181 §9). */
static void dns_response(struct sim *s, uint8_t *buf, size_t cap, const struct dnsq *q,
			 const struct name_ent *ne, size_t limit, struct dnsr *r)
{
	struct wb w = {buf, 0, cap};
	struct ctab ct;
	ct.n = 0;
	ct.used = 0;
	memset(r, 0, sizeof(*r));
	int rcode = ne->res == NR_NX ? 3 : ne->res == NR_SERVFAIL ? 2 : 0;
	uint8_t sc[16];
	if (q->cookie)
		for (int i = 0; i < 16; i++)
			sc[i] = (uint8_t)(hash_str(q->qname) >> (i % 8 * 8)) ^ q->ccookie[i % 8];
	uint16_t an = 0, ns = 0, ar = 0;
	w16(&w, q->id);
	w16(&w, 0);
	w16(&w, 1);
	w16(&w, 0);
	w16(&w, 0);
	w16(&w, 0);
	wname(&w, &ct, q->qname);
	w16(&w, q->qtype);
	w16(&w, 1);
	size_t qend = w.n;
	uint32_t minttl = 0xffffffffu;
	const char *owner = q->qname;
	int neg = 0;
	if (rcode == 0) {
		int want_addr = q->qtype == QT_A || (q->qtype == QT_AAAA && ne->has_aaaa);
		int chain = q->qtype == QT_A || q->qtype == QT_AAAA || q->qtype == QT_HTTPS;
		if (chain && ne->cname1) {
			uint32_t ct1 = ne->ttl * 4 < 86400 ? ne->ttl * 4 : 86400;
			size_t at = rr_begin(&w, &ct, owner, 5, 1, ct1);
			wname(&w, &ct, ne->cname1);
			rr_end(&w, at);
			an++;
			owner = ne->cname1;
			minttl = ct1;
			if (ne->cname2) {
				at = rr_begin(&w, &ct, owner, 5, 1, ne->ttl * 2);
				wname(&w, &ct, ne->cname2);
				rr_end(&w, at);
				an++;
				owner = ne->cname2;
				if (ne->ttl * 2 < minttl)
					minttl = ne->ttl * 2;
			}
		}
		if (want_addr && ne->n_addr) {
			for (int i = 0; i < ne->n_addr; i++) {
				size_t at = rr_begin(&w, &ct, owner, q->qtype, 1, ne->ttl);
				uint8_t a[16];
				if (q->qtype == QT_A) {
					name_addr4(owner, i, a);
					wbytes(&w, a, 4);
					if (i == 0)
						memcpy(r->first4, a, 4);
				} else {
					name_addr6(owner, i, a);
					wbytes(&w, a, 16);
				}
				rr_end(&w, at);
				an++;
				if (q->qtype == QT_A && q->duprr == 1 && i == 0) {
					/* the same RR twice (RFC 2181 §5) */
					at = rr_begin(&w, &ct, owner, QT_A, 1, ne->ttl);
					wbytes(&w, a, 4);
					rr_end(&w, at);
					an++;
				}
			}
			if (q->qtype == QT_A && q->duprr == 2) {
				/* one more RR of the RRset with another TTL (RFC 2181 §5.2) */
				size_t at = rr_begin(&w, &ct, owner, QT_A, 1, ne->ttl + 300);
				uint8_t a[4];
				name_addr4(owner, ne->n_addr, a);
				wbytes(&w, a, 4);
				rr_end(&w, at);
				an++;
			}
			r->answered_addr = 1;
			if (ne->ttl < minttl)
				minttl = ne->ttl;
		} else if (q->qtype == QT_HTTPS && ne->https) {
			size_t at = rr_begin(&w, &ct, owner, QT_HTTPS, 1, ne->ttl);
			w16(&w, 1);                      /* SvcPriority 1, TargetName "." */
			w8(&w, 0);
			w16(&w, 1);                      /* alpn = h2,h3 */
			w16(&w, 6);
			wbytes(&w, "\x02h2\x02h3", 6);
			rr_end(&w, at);
			an++;
			if (ne->ttl < minttl)
				minttl = ne->ttl;
		} else if (q->qtype == QT_TXT && q->qtype == ne->qtype) {
			int nrr = ne->big ? 4 : 1;
			for (int i = 0; i < nrr; i++) {
				size_t at = rr_begin(&w, &ct, owner, QT_TXT, 1, ne->ttl);
				int nstr = ne->big ? 2 : 1;
				for (int k = 0; k < nstr; k++) {
					char str[256];
					int len = ne->big ? 220 : 48;
					uint64_t h = hash_str(owner) + (uint64_t)(i * 2 + k);
					int o = snprintf(str, sizeof(str), "v=cfg%d;sha256=", i);
					static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
					for (; o < len; o++) {
						h = h * 6364136223846793005ULL + 1442695040888963407ULL;
						str[o] = b64[h >> 58];
					}
					w8(&w, (uint8_t)len);
					wbytes(&w, str, (size_t)len);
				}
				rr_end(&w, at);
				an++;
			}
			minttl = ne->ttl;
		} else if (q->qtype == QT_SRV && q->qtype == ne->qtype) {
			const char *target = "xmpp008.hpeprint.com";
			size_t at = rr_begin(&w, &ct, owner, QT_SRV, 1, ne->ttl);
			w16(&w, 5);
			w16(&w, 0);
			w16(&w, 5223);
			wname(&w, NULL, target);
			rr_end(&w, at);
			an++;
			minttl = ne->ttl;
			at = rr_begin(&w, &ct, target, QT_A, 1, ne->ttl);
			uint8_t a[4];
			name_addr4(target, 0, a);
			wbytes(&w, a, 4);
			rr_end(&w, at);
			ar++;
		} else if (q->qtype == QT_PTR && q->qtype == ne->qtype) {
			size_t at = rr_begin(&w, &ct, owner, QT_PTR, 1, ne->ttl);
			wname(&w, &ct, "router.home.arpa");
			rr_end(&w, at);
			an++;
			minttl = ne->ttl;
		} else {
			neg = 1;                         /* NODATA (RFC 2308 §2.2) */
		}
	}
	if (rcode == 3 || neg) {
		const char *zone = zone_of(owner);
		w_soa(&w, &ct, zone);
		ns++;
		uint32_t nt = zone_neg_ttl(zone);
		if (nt < minttl)
			minttl = nt;
	}
	if (q->edns) {
		w_opt(&w, 1232, q->dob, q->cookie ? q->ccookie : NULL, q->cookie ? sc : NULL,
		      rcode == 2);
		ar++;
	}
	if (limit && w.n > limit) {
		w.n = qend;                              /* truncated: question (+ OPT) only */
		an = ns = ar = 0;
		if (q->edns) {
			w_opt(&w, 1232, q->dob, q->cookie ? q->ccookie : NULL, q->cookie ? sc : NULL, 0);
			ar = 1;
		}
		r->tc = 1;
		r->answered_addr = 0;
	}
	if (w.n > cap)
		die("internal: DNS response for %s exceeds %zu bytes", q->qname, cap);
	be16(buf + 2, (uint16_t)(0x8180 | (r->tc ? 0x0200 : 0) | rcode)); /* QR RD RA */
	be16(buf + 6, an);
	be16(buf + 8, ns);
	be16(buf + 10, ar);
	r->len = w.n;
	r->rcode = rcode;
	r->neg = rcode == 3 || neg;
	r->ttl = minttl == 0xffffffffu ? 60 : minttl;
	(void)s;
}

/* ------------------------------------------------------------------------------------------ */
/* Resolvers and devices                                                                       */

static void addr_text(const struct addr *a, char *out, size_t n)
{
	if (!a->v6) {
		snprintf(out, n, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2], a->a[3]);
		return;
	}
	/* RFC 5952: lower case, longest run (>= 2) of zero groups compressed */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a->a[2 * i] << 8 | a->a[2 * i + 1]);
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	for (int i = 0; i < 8 && o < n; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, n - o, i == 0 ? "::" : ":");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, n - o, "%x%s", g[i], i < 7 ? ":" : "");
	}
	if (o >= n)
		out[n - 1] = 0;
}

static int addr_parse(const char *t, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strchr(t, ':')) {
		unsigned v[4];
		char tail;
		if (sscanf(t, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
			return -1;
		for (int i = 0; i < 4; i++) {
			if (v[i] > 255)
				return -1;
			a->a[i] = (uint8_t)v[i];
		}
		return 0;
	}
	/* IPv6: groups with at most one "::" */
	uint16_t head[8], tailg[8];
	int nh = 0, nt = 0, seen = 0;
	const char *p = t;
	if (p[0] == ':' && p[1] == ':') {
		seen = 1;
		p += 2;
	}
	while (*p) {
		char *end;
		unsigned long v = strtoul(p, &end, 16);
		if (end == p || end - p > 4 || v > 0xffff)
			return -1;
		if (seen) {
			if (nt >= 8)
				return -1;
			tailg[nt++] = (uint16_t)v;
		} else {
			if (nh >= 8)
				return -1;
			head[nh++] = (uint16_t)v;
		}
		p = end;
		if (*p == ':' && p[1] == ':') {
			if (seen)
				return -1;
			seen = 1;
			p += 2;
		} else if (*p == ':') {
			p++;
			if (!*p)
				return -1;
		} else if (*p) {
			return -1;
		}
	}
	if (nh + nt > 8 || (!seen && nh != 8))
		return -1;
	a->v6 = 1;
	for (int i = 0; i < nh; i++)
		be16(a->a + 2 * i, head[i]);
	for (int i = 0; i < nt; i++)
		be16(a->a + 2 * (8 - nt + i), tailg[i]);
	return 0;
}

static int res_find(struct sim *s, const struct addr *a, int router, uint16_t rtt)
{
	for (int i = 0; i < s->n_res; i++)
		if (s->res[i].a.v6 == a->v6 && !memcmp(s->res[i].a.a, a->a, 16))
			return i;
	if (s->n_res >= MAX_RES)
		die("too many resolver addresses (at most %d)", MAX_RES);
	struct resolver *r = &s->res[s->n_res];
	r->a = *a;
	r->router = router;
	r->rtt_ms = rtt;
	addr_text(a, r->text, sizeof(r->text));
	return s->n_res++;
}

static int res_up(const struct sim *s, int res, uint64_t t)
{
	return !(s->res[res].router && t >= s->down_start && t < s->down_end);
}

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void eui64(const uint8_t *mac, uint8_t *iid)
{
	iid[0] = mac[0] ^ 0x02;
	iid[1] = mac[1];
	iid[2] = mac[2];
	iid[3] = 0xff;
	iid[4] = 0xfe;
	iid[5] = mac[3];
	iid[6] = mac[4];
	iid[7] = mac[5];
}

static double kind_rate(enum kind k)
{
	/* application lookups per minute: IoT a few, people's devices more (DETECTIONS.md scale) */
	static const double r[K_COUNT] = {3, 2, 1.5, 6, 4, 8, 2, 1, 20, 15};
	return r[k];
}

static void dev_hostname(struct device *d)
{
	snprintf(d->hostname, sizeof(d->hostname), "%s-%s-%02x%02x", d->vendor->name,
		 kind_names[d->kind], d->mac[4], d->mac[5]);
	for (char *p = d->hostname; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Gives device d the defaults of its kind: vendor, MAC, hostname and well-behaved-ish flags
 * with the traits the measurement studies report (most IoT stubs: no EDNS, no AAAA). */
static void dev_defaults(struct sim *s, struct device *d, enum kind k)
{
	struct rng *r = &d->rng;
	struct flags *f = &d->f;
	int cand[N_VENDORS], nc = 0;
	d->kind = k;
	for (int i = 0; i < N_VENDORS; i++)
		if (vendors[i].kinds & KB(k))
			cand[nc++] = i;
	d->vendor = &vendors[cand[rng_below(r, (uint32_t)nc)]];
	memcpy(d->mac, d->vendor->oui, 3);
	d->mac[3] = (uint8_t)(0x10 + rng_below(r, 0xe0));
	d->mac[4] = (uint8_t)(d->idx >> 8);
	d->mac[5] = (uint8_t)d->idx;
	dev_hostname(d);
	memset(f, 0, sizeof(*f));
	int human = k == K_LAPTOP || k == K_PHONE;
	f->txid = TX_RANDOM;
	f->ports = PM_RANDOM;
	if (human || k == K_TV)
		f->edns = rng_chance(r, 0.7) ? 1232 : 4096;
	else
		f->edns = rng_chance(r, 0.6) ? 0 : (rng_chance(r, 0.7) ? 1232 : 512);
	f->do_bit = human && rng_chance(r, 0.2);
	f->cookie = f->edns && rng_chance(r, 0.3);
	f->aaaa = human || k == K_TV || rng_chance(r, 0.33);
	if (rng_chance(r, human ? (s->v6_share * 2 < 1 ? s->v6_share * 2 : 1) : s->v6_share))
		f->v6 = rng_chance(r, 0.5) ? 1 : 2;
	f->requery = 60;
	f->negcache = 1;
	f->tcp_fallback = 1;
	f->tcp_pct = k == K_LAPTOP ? 5 : 0;
	f->rate = kind_rate(k);
	f->dhcp = !s->no_dhcp && rng_chance(r, 0.85);
	f->mdns = k == K_SPEAKER || k == K_TV || k == K_PRINTER || human ||
		  (k == K_HUB && rng_chance(r, 0.5));
	f->llmnr = k == K_LAPTOP && !strcmp(d->vendor->name, "Intel");
	f->noise = 1;
	if (s->vlan_share > 0 && rng_chance(r, s->vlan_share))
		f->vlan = human ? 30 : 20;
	f->qinq = f->vlan ? s->qinq_all : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Command-line device flags: one table of keys, read by one parser.                          */

static int parse_bool(const char *v, uint8_t *out)
{
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off")) {
		*out = 0;
		return 0;
	}
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on")) {
		*out = 1;
		return 0;
	}
	return -1;
}

static int parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int lookup_word(const char *v, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v, words[i]))
			return i;
	return -1;
}

/* Device keys that are a plain number or a 0/1 switch: one row each. */
enum flag_type { F_BOOL, F_U8, F_U16, F_U32 };
static const struct {
	const char *key;
	uint8_t type;          /* enum flag_type */
	unsigned long lo, hi;  /* allowed range */
	size_t off;            /* field in struct flags */
} simple_keys[] = {
	{ "do", F_BOOL, 0, 1, offsetof(struct flags, do_bit) },
	{ "cookie", F_BOOL, 0, 1, offsetof(struct flags, cookie) },
	{ "aaaa", F_BOOL, 0, 1, offsetof(struct flags, aaaa) },
	{ "v6", F_U8, 0, 2, offsetof(struct flags, v6) },
	{ "negcache", F_BOOL, 0, 1, offsetof(struct flags, negcache) },
	{ "stale", F_BOOL, 0, 1, offsetof(struct flags, stale) },
	{ "longconn", F_BOOL, 0, 1, offsetof(struct flags, longconn) },
	{ "race", F_U8, 0, 100, offsetof(struct flags, race) },
	{ "duprr", F_U8, 0, 2, offsetof(struct flags, duprr) },
	{ "replyflood", F_U8, 0, 50, offsetof(struct flags, replyflood) },
	{ "requery", F_U32, 1, 86400, offsetof(struct flags, requery) },
	{ "tcp_fallback", F_BOOL, 0, 1, offsetof(struct flags, tcp_fallback) },
	{ "tcp", F_U8, 0, 100, offsetof(struct flags, tcp_pct) },
	{ "vlan", F_U16, 0, 4094, offsetof(struct flags, vlan) },
	{ "qinq", F_U16, 0, 4094, offsetof(struct flags, qinq) },
	{ "dhcp", F_BOOL, 0, 1, offsetof(struct flags, dhcp) },
	{ "mdns", F_BOOL, 0, 1, offsetof(struct flags, mdns) },
	{ "llmnr", F_BOOL, 0, 1, offsetof(struct flags, llmnr) },
	{ "dot", F_BOOL, 0, 1, offsetof(struct flags, dot) },
	{ "doh", F_BOOL, 0, 1, offsetof(struct flags, doh) },
	{ "noise", F_BOOL, 0, 1, offsetof(struct flags, noise) },
};

/* Sets a simple key; 1 when key is one, 0 when not, -1 on a bad value. */
static int set_simple(struct flags *f, const char *key, const char *v)
{
	for (size_t i = 0; i < sizeof(simple_keys) / sizeof(simple_keys[0]); i++) {
		if (strcmp(key, simple_keys[i].key) != 0)
			continue;
		unsigned long u;
		uint8_t b;
		char *field = (char *)f + simple_keys[i].off;
		if (simple_keys[i].type == F_BOOL) {
			if (parse_bool(v, &b) < 0)
				return -1;
			*(uint8_t *)(void *)field = b;
			return 1;
		}
		if (parse_uint(v, simple_keys[i].lo, simple_keys[i].hi, &u) < 0)
			return -1;
		if (simple_keys[i].type == F_U8)
			*(uint8_t *)(void *)field = (uint8_t)u;
		else if (simple_keys[i].type == F_U16)
			*(uint16_t *)(void *)field = (uint16_t)u;
		else
			*(uint32_t *)(void *)field = (uint32_t)u;
		return 1;
	}
	return 0;
}

/* Applies one key=value to device d; returns 0, or -1 with a message in err. */
static int dev_set(struct sim *s, struct device *d, const char *key, const char *v, char *err,
		   size_t errn)
{
	struct flags *f = &d->f;
	unsigned long u;
	int w = set_simple(f, key, v);
	if (w < 0)
		goto bad;
	if (w > 0)
		return 0;
	if (!strcmp(key, "kind")) {
		if ((w = lookup_word(v, kind_names, K_COUNT)) < 0)
			goto bad;
		if ((int)d->kind != w)
			dev_defaults(s, d, (enum kind)w);
	} else if (!strcmp(key, "vendor")) {
		for (w = 0; w < N_VENDORS; w++)
			if (!strcasecmp(v, vendors[w].name))
				break;
		if (w == N_VENDORS)
			goto bad;
		d->vendor = &vendors[w];
		memcpy(d->mac, d->vendor->oui, 3);
		dev_hostname(d);
	} else if (!strcmp(key, "txid")) {
		if ((w = lookup_word(v, txid_names, 4)) < 0)
			goto bad;
		f->txid = (uint8_t)w;
	} else if (!strcmp(key, "ports")) {
		if ((w = lookup_word(v, port_names, 4)) < 0)
			goto bad;
		f->ports = (uint8_t)w;
	} else if (!strcmp(key, "resolver")) {
		if (!strcmp(v, "assigned"))
			f->has_resolver = 0;
		else if (addr_parse(v, &f->resolver) < 0)
			goto bad;
		else
			f->has_resolver = 1;
	} else if (!strcmp(key, "fallback")) {
		if (!strcmp(v, "none"))
			f->has_fallback = 0;
		else if (addr_parse(v, &f->fallback) < 0)
			goto bad;
		else
			f->has_fallback = 1;
	} else if (!strcmp(key, "edns")) {
		if (!strcmp(v, "none") || !strcmp(v, "0"))
			f->edns = 0;
		else if (parse_uint(v, 512, 65535, &u) < 0)
			goto bad;
		else
			f->edns = (uint16_t)u;
	} else if (!strcmp(key, "ttl")) {
		f->ttl_ignore = f->ttl_prefetch = 0;
		if (!strcmp(v, "honour") || !strcmp(v, "honor"))
			;
		else if (!strcmp(v, "ignore"))
			f->ttl_ignore = 1;
		else if (!strcmp(v, "prefetch"))
			f->ttl_prefetch = 1;
		else
			goto bad;
	} else if (!strcmp(key, "servedns")) {
		if (!strcmp(v, "none") || !strcmp(v, "0"))
			f->servedns = 0;
		else if (!strcmp(v, "outside"))
			f->servedns = 1;
		else if (!strcmp(v, "local"))
			f->servedns = 2;
		else
			goto bad;
	} else if (!strcmp(key, "burst") || !strcmp(key, "hammer") || !strcmp(key, "txflood") ||
		   !strcmp(key, "unsolicited") || !strcmp(key, "tunnel")) {
		unsigned long n, at;
		char nb[32];
		const char *atp = strchr(v, '@');
		if (!atp || (size_t)(atp - v) >= sizeof(nb))
			goto bad;
		memcpy(nb, v, (size_t)(atp - v));
		nb[atp - v] = 0;
		if (parse_uint(nb, 1, 100000, &n) < 0 || parse_uint(atp + 1, 0, 365UL * 86400, &at) < 0)
			goto bad;
		uint32_t *pn, *pat;
		if (!strcmp(key, "burst"))
			pn = &f->burst_n, pat = &f->burst_at;
		else if (!strcmp(key, "hammer"))
			pn = &f->hammer_n, pat = &f->hammer_at;
		else if (!strcmp(key, "txflood"))
			pn = &f->txflood_n, pat = &f->txflood_at;
		else if (!strcmp(key, "unsolicited"))
			pn = &f->unsol_n, pat = &f->unsol_at;
		else
			pn = &f->tunnel_n, pat = &f->tunnel_at;
		*pn = (uint32_t)n;
		*pat = (uint32_t)at;
	} else if (!strcmp(key, "storm")) {
		if (!strcmp(v, "backoff"))
			f->storm = 2;
		else if (parse_bool(v, &f->storm) < 0)
			goto bad;
	} else if (!strcmp(key, "rate")) {
		char *end;
		double x = strtod(v, &end);
		if (end == v || *end || !(x > 0) || x > 60000)
			goto bad;
		f->rate = x;
	} else {
		snprintf(err, errn, "unknown device key '%s'", key);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errn, "bad value '%s' for device key '%s'", v, key);
	return -1;
}

/* Applies "IDX:key=value,key=value". kind= is applied first, since it resets the defaults. */
static void dev_override(struct sim *s, const char *spec)
{
	char buf[1024], err[200];
	char *colon, *end;
	snprintf(buf, sizeof(buf), "%s", spec);
	colon = strchr(buf, ':');
	if (!colon)
		die("--device '%s': expected IDX:key=value,...", spec);
	*colon = 0;
	long idx = strtol(buf, &end, 10);
	if (end == buf || *end || idx < 0 || idx >= s->n_dev)
		die("--device '%s': index must be 0..%d", spec, s->n_dev - 1);
	struct device *d = &s->dev[idx];
	for (int pass = 0; pass < 2; pass++) {
		char tmp[1024];
		snprintf(tmp, sizeof(tmp), "%s", colon + 1);
		for (char *save = NULL, *kv = strtok_r(tmp, ",", &save); kv;
		     kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			if (!eq)
				die("--device '%s': '%s' is not key=value", spec, kv);
			*eq = 0;
			if ((pass == 0) != !strcmp(kv, "kind"))
				continue;
			if (dev_set(s, d, kv, eq + 1, err, sizeof(err)) < 0)
				die("--device '%s': %s", spec, err);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Network set-up: segments (untagged + one per VLAN), addresses, resolvers, name lists        */

static int seg_find(struct sim *s, uint16_t vlan, uint16_t qinq)
{
	for (int i = 0; i < s->n_seg; i++)
		if (s->seg[i].vlan == vlan && s->seg[i].qinq == qinq)
			return i;
	if (s->n_seg >= MAX_SEG)
		die("too many VLANs (at most %d segments)", MAX_SEG);
	s->seg[s->n_seg].vlan = vlan;
	s->seg[s->n_seg].qinq = qinq;
	return s->n_seg++;
}

/* Addresses: a segment of <= 240 devices is a /24 (192.168.1.0 untagged, 192.168.VID.0 on a
 * VLAN), a larger one a /16 (10.S.0.0); IPv6 prefix 2001:db8:1:S::/64 (RFC 3849 space);
 * the router is .1 / ::1 on each. */
static void net_setup(struct sim *s)
{
	static const uint8_t rmac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
	memcpy(s->router_mac, rmac, 6);
	s->router_ll.v6 = 1;
	s->router_ll.a[0] = 0xfe;
	s->router_ll.a[1] = 0x80;
	eui64(rmac, s->router_ll.a + 8);
	s->n_seg = 0;
	seg_find(s, 0, 0);
	for (int i = 0; i < s->n_dev; i++) {
		struct device *d = &s->dev[i];
		if (!d->f.vlan)
			d->f.qinq = 0;
		d->seg = seg_find(s, d->f.vlan, d->f.qinq);
		s->seg[d->seg].n_dev++;
	}
	for (int g = 0; g < s->n_seg; g++) {
		struct segment *sg = &s->seg[g];
		uint16_t v = sg->vlan;
		if (sg->n_dev > 240) {
			sg->prefix4 = 16;
			sg->net4[0] = 10;
			sg->net4[1] = (uint8_t)g;
			sg->net4[2] = 0;
		} else {
			sg->prefix4 = 24;
			sg->net4[0] = 192;
			sg->net4[1] = 168;
			int oct = v == 0 ? 1 : (v >= 2 && v <= 199) ? v : 200 + g;
			for (int h = 0; h < g; h++) /* same VID under another S-tag: own subnet */
				if (s->seg[h].prefix4 == 24 && s->seg[h].net4[2] == oct)
					oct = 200 + g;
			sg->net4[2] = (uint8_t)oct;
		}
		sg->net4[3] = 0;
		sg->gw4.v6 = 0;
		memcpy(sg->gw4.a, sg->net4, 4);
		sg->gw4.a[3] = 1;
		sg->gw6.v6 = 1;
		static const uint8_t p6[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01};
		memcpy(sg->gw6.a, p6, 6);
		be16(sg->gw6.a + 6, (uint16_t)g);
		sg->gw6.a[15] = 1;
		sg->res4 = res_find(s, &sg->gw4, 1, 1);
		sg->res6 = res_find(s, &sg->gw6, 1, 1);
		sg->n_dev = 0;
	}
	for (int i = 0; i < s->n_dev; i++) {
		struct device *d = &s->dev[i];
		struct segment *sg = &s->seg[d->seg];
		int k = sg->n_dev++;
		d->ip4.v6 = 0;
		memcpy(d->ip4.a, sg->net4, 4);
		if (sg->prefix4 == 24) {
			d->ip4.a[3] = (uint8_t)(10 + k);
		} else {
			d->ip4.a[2] = (uint8_t)(1 + k / 250);
			d->ip4.a[3] = (uint8_t)(2 + k % 250);
		}
		d->ll6.v6 = d->gl6.v6 = 1;
		d->ll6.a[0] = 0xfe;
		d->ll6.a[1] = 0x80;
		eui64(d->mac, d->ll6.a + 8);
		memcpy(d->gl6.a, sg->gw6.a, 8);
		if (d->kind == K_PHONE || d->kind == K_LAPTOP)
			rng_fill(&d->rng, d->gl6.a + 8, 8); /* temporary address, RFC 8981 */
		else
			eui64(d->mac, d->gl6.a + 8);
		if ((d->f.has_resolver && d->f.resolver.v6) || (d->f.has_fallback && d->f.fallback.v6))
			if (!d->f.v6)
				d->f.v6 = 2;
		d->res_hard = d->f.has_resolver ? res_find(s, &d->f.resolver, 0, 14) : -1;
		d->res_fb = d->f.has_fallback ? res_find(s, &d->f.fallback, 0, 12) : -1;
		/* reverse names for PTR lookups */
		snprintf(d->ptr_router, sizeof(d->ptr_router), "1.%u.%u.%u.in-addr.arpa", sg->net4[2],
			 sg->net4[1], sg->net4[0]);
		uint8_t c[4];
		name_addr4(d->hostname, 7, c);
		snprintf(d->ptr_cloud, sizeof(d->ptr_cloud), "%u.%u.%u.%u.in-addr.arpa", c[3], c[2],
			 c[1], c[0]);
		/* the names this device uses, with weights */
		d->n_names = 0;
		d->w_total = 0;
		for (int n = 0; n < N_NAMES && d->n_names < MAX_KIND_NAMES; n++) {
			int use;
			if (s->bench) {
				use = 0;
				for (size_t b = 0; b < sizeof(bench_names) / sizeof(bench_names[0]); b++)
					if (!strcmp(bench_names[b], names[n].name))
						use = 1;
			} else {
				use = (names[n].kinds & KB(d->kind)) != 0;
				for (size_t v = 0; use && v < sizeof(name_vendor) / sizeof(name_vendor[0]); v++)
					if (strstr(names[n].name, name_vendor[v].part) &&
					    strcmp(name_vendor[v].vendor, d->vendor->name))
						use = 0;
			}
			if (!use)
				continue;
			d->names[d->n_names] = (uint16_t)n;
			d->w_total += names[n].weight;
			d->name_w[d->n_names++] = d->w_total;
		}
		d->cache = xcalloc((size_t)N_NAMES * 3, sizeof(*d->cache));
		d->inflight = xcalloc((size_t)N_NAMES * 3, 1);
		d->q_by_res = xcalloc(MAX_RES, sizeof(*d->q_by_res));
		/* fixed/sequential ports start in the Linux ephemeral range; narrow: a 64-port window */
		d->port_next = (uint16_t)(32768 + rng_below(&d->rng, 28000));
		d->txid_next = (uint16_t)(1 + rng_below(&d->rng, 65535));
	}
	s->res_google = res_find(s, &(struct addr){0, {8, 8, 8, 8}}, 0, 12);
	s->res_cf = res_find(s, &(struct addr){0, {1, 1, 1, 1}}, 0, 9);
}

static const char *name_text(const struct device *d, int ni)
{
	if (!strcmp(names[ni].name, "@ptr-router"))
		return d->ptr_router;
	if (!strcmp(names[ni].name, "@ptr-cloud"))
		return d->ptr_cloud;
	return names[ni].name;
}

static void dev_l2(const struct sim *s, const struct device *d, struct l2 *up, struct l2 *down)
{
	const struct segment *sg = &s->seg[d->seg];
	up->src = d->mac;
	up->dst = s->router_mac;
	up->vlan = sg->vlan;
	up->qinq = sg->qinq;
	*down = *up;
	down->src = s->router_mac;
	down->dst = d->mac;
}

/* A conversation from device d to remote address r (through the router). */
static void conv_init(struct sim *s, struct device *d, struct conv *cv, const struct addr *r,
		      uint16_t cp, uint16_t rp, int remote_hops)
{
	memset(cv, 0, sizeof(*cv));
	dev_l2(s, d, &cv->up, &cv->down);
	cv->r = *r;
	cv->c = r->v6 ? d->gl6 : d->ip4;
	cv->cp = cp;
	cv->rp = rp;
	cv->cseq = (uint32_t)rng_next(&d->rng);
	cv->rseq = (uint32_t)rng_next(&d->rng);
	cv->cttl = d->vendor->dhcp_vendor && !strcmp(d->vendor->dhcp_vendor, "MSFT 5.0") ? 128 : 64;
	cv->rttl = (uint8_t)(64 - remote_hops);
}

static uint16_t dev_port(struct device *d)
{
	switch (d->f.ports) {
	case PM_FIXED:
		return d->port_next;
	case PM_SEQUENTIAL:
		d->port_next = d->port_next >= 60999 ? 32768 : (uint16_t)(d->port_next + 1);
		return d->port_next;
	case PM_NARROW:
		return (uint16_t)(d->port_next + rng_below(&d->rng, 64));
	default:
		/* RFC 6056 §3.2: the whole 1024-65535 range */
		return (uint16_t)(1024 + rng_below(&d->rng, 64512));
	}
}

static uint16_t dev_txid(struct device *d)
{
	switch (d->f.txid) {
	case TX_ZERO:
		return 0;
	case TX_CONSTANT:
		return d->txid_next;
	case TX_SEQUENTIAL:
		return d->txid_next++;
	default:
		return (uint16_t)rng_next(&d->rng);
	}
}

static uint16_t ephemeral(struct device *d)
{
	return (uint16_t)(32768 + rng_below(&d->rng, 28232));
}

/* ------------------------------------------------------------------------------------------ */
/* TLS ClientHello / server flight (RFC 8446 §4.1.2-4.1.3), HTTP, NTP: traffic around the DNS  */

__attribute__((noinline)) /* keeps GCC 12 from a false -Wstringop-overflow */
static size_t tls_client_hello(struct rng *r, uint8_t *buf, size_t cap, const char *sni,
			       const char *alpn1, const char *alpn2)
{
	struct wb w = {buf, 0, cap};
	static const uint16_t suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
					  0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d};
	uint8_t rnd[32];
	size_t sn = strlen(sni);
	w8(&w, 22);                        /* handshake record, legacy version 3.1 */
	w16(&w, 0x0301);
	size_t rec = w.n;
	w16(&w, 0);
	w8(&w, 1);                         /* ClientHello */
	size_t hs = w.n;
	w8(&w, 0);
	w16(&w, 0);
	w16(&w, 0x0303);
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w8(&w, 32);                        /* legacy_session_id (middlebox compatibility) */
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w16(&w, (uint16_t)(sizeof(suites)));
	for (size_t i = 0; i < sizeof(suites) / 2; i++)
		w16(&w, suites[i]);
	w8(&w, 1);
	w8(&w, 0);
	size_t ext = w.n;
	w16(&w, 0);
	w16(&w, 0);                        /* server_name (RFC 6066 §3) */
	w16(&w, (uint16_t)(sn + 5));
	w16(&w, (uint16_t)(sn + 3));
	w8(&w, 0);
	w16(&w, (uint16_t)sn);
	wbytes(&w, sni, sn);
	w16(&w, 23);                       /* extended_master_secret */
	w16(&w, 0);
	w16(&w, 0xff01);                   /* renegotiation_info */
	w16(&w, 1);
	w8(&w, 0);
	w16(&w, 10);                       /* supported_groups: x25519, P-256, P-384 */
	w16(&w, 8);
	w16(&w, 6);
	w16(&w, 0x001d);
	w16(&w, 0x0017);
	w16(&w, 0x0018);
	w16(&w, 11);                       /* ec_point_formats: uncompressed */
	w16(&w, 2);
	w8(&w, 1);
	w8(&w, 0);
	w16(&w, 35);                       /* session_ticket */
	w16(&w, 0);
	if (alpn1) {                       /* ALPN (RFC 7301) */
		size_t l1 = strlen(alpn1), l2 = alpn2 ? strlen(alpn2) : 0;
		size_t list = 1 + l1 + (alpn2 ? 1 + l2 : 0);
		w16(&w, 16);
		w16(&w, (uint16_t)(list + 2));
		w16(&w, (uint16_t)list);
		w8(&w, (uint8_t)l1);
		wbytes(&w, alpn1, l1);
		if (alpn2) {
			w8(&w, (uint8_t)l2);
			wbytes(&w, alpn2, l2);
		}
	}
	w16(&w, 5);                        /* status_request */
	w16(&w, 5);
	w8(&w, 1);
	w16(&w, 0);
	w16(&w, 0);
	w16(&w, 13);                       /* signature_algorithms */
	w16(&w, 18);
	w16(&w, 16);
	static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
	for (size_t i = 0; i < 8; i++)
		w16(&w, sigs[i]);
	w16(&w, 51);                       /* key_share: x25519 */
	w16(&w, 38);
	w16(&w, 36);
	w16(&w, 0x001d);
	w16(&w, 32);
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w16(&w, 45);                       /* psk_key_exchange_modes: psk_dhe_ke */
	w16(&w, 2);
	w8(&w, 1);
	w8(&w, 1);
	w16(&w, 43);                       /* supported_versions: TLS 1.3, 1.2 */
	w16(&w, 5);
	w8(&w, 4);
	w16(&w, 0x0304);
	w16(&w, 0x0303);
	be16(buf + ext, (uint16_t)(w.n - ext - 2));
	size_t hlen = w.n - hs - 3;
	buf[hs] = (uint8_t)(hlen >> 16);
	be16(buf + hs + 1, (uint16_t)hlen);
	be16(buf + rec, (uint16_t)(w.n - rec - 2));
	return w.n;
}

/* ServerHello + ChangeCipherSpec + one encrypted record (certificate etc.) of `enc` bytes. */
static size_t tls_server_flight(struct rng *r, uint8_t *buf, size_t cap, size_t enc)
{
	struct wb w = {buf, 0, cap};
	uint8_t rnd[32];
	w8(&w, 22);
	w16(&w, 0x0303);
	w16(&w, 122);
	w8(&w, 2);                         /* ServerHello */
	w8(&w, 0);
	w16(&w, 118);
	w16(&w, 0x0303);
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w8(&w, 32);
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w16(&w, 0x1301);
	w8(&w, 0);
	w16(&w, 46);
	w16(&w, 43);                       /* supported_versions: TLS 1.3 */
	w16(&w, 2);
	w16(&w, 0x0304);
	w16(&w, 51);                       /* key_share */
	w16(&w, 36);
	w16(&w, 0x001d);
	w16(&w, 32);
	rng_fill(r, rnd, 32);
	wbytes(&w, rnd, 32);
	w8(&w, 20);                        /* ChangeCipherSpec */
	w16(&w, 0x0303);
	w16(&w, 1);
	w8(&w, 1);
	w8(&w, 23);                        /* application data (encrypted handshake) */
	w16(&w, 0x0303);
	w16(&w, (uint16_t)enc);
	for (size_t i = 0; i < enc; i++)
		w8(&w, (uint8_t)(rng_next(r) >> 56));
	return w.n;
}

static size_t tls_appdata(struct rng *r, uint8_t *buf, size_t n)
{
	buf[0] = 23;
	be16(buf + 1, 0x0303);
	be16(buf + 3, (uint16_t)n);
	rng_fill(r, buf + 5, n);
	return n + 5;
}

/* A TCP connection with a TLS 1.3 handshake and `exchanges` request/response pairs, then a FIN
 * close. Used for DoT (853, ALPN dot), DoH (443, h2) and ordinary HTTPS/MQTT-over-TLS. */
static void tls_session(struct sim *s, struct device *d, const struct addr *dst, uint16_t port,
			const char *sni, const char *a1, const char *a2, int exchanges, uint64_t t)
{
	struct conv cv;
	uint8_t b[8192];
	uint64_t rtt = (uint64_t)(8000 + rng_below(&d->rng, 30000));
	conv_init(s, d, &cv, dst, ephemeral(d), port, 10 + (int)rng_below(&d->rng, 8));
	conv_tcp(s, &cv, UP, t, TH_SYN, NULL, 0, NULL);
	t += rtt;
	conv_tcp(s, &cv, DOWN, t, TH_SYN | TH_ACK, NULL, 0, NULL);
	t += 60;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
	t += 40;
	size_t n = tls_client_hello(&d->rng, b, sizeof(b), sni, a1, a2);
	t = conv_stream(s, &cv, UP, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
	t += rtt + 2000;
	n = tls_server_flight(&d->rng, b, sizeof(b), 1400 + rng_below(&d->rng, 1600));
	t = conv_stream(s, &cv, DOWN, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
	t += 300;
	for (int i = 0; i < exchanges; i++) {
		n = tls_appdata(&d->rng, b, 60 + rng_below(&d->rng, 300));
		t = conv_stream(s, &cv, UP, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
		t += rtt + 1000 + rng_below(&d->rng, 20000);
		n = tls_appdata(&d->rng, b, 100 + rng_below(&d->rng, 600));
		t = conv_stream(s, &cv, DOWN, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
		t += 200;
		conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
		t += 20000 + rng_below(&d->rng, 500000);
	}
	conv_tcp(s, &cv, UP, t, TH_FIN | TH_ACK, NULL, 0, NULL);
	t += rtt;
	conv_tcp(s, &cv, DOWN, t, TH_FIN | TH_ACK, NULL, 0, NULL);
	t += 60;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
}

static void http_session(struct sim *s, struct device *d, const struct addr *dst,
			 const char *host, uint64_t t)
{
	struct conv cv;
	char req[512], resp[512];
	uint64_t rtt = (uint64_t)(8000 + rng_below(&d->rng, 30000));
	conv_init(s, d, &cv, dst, ephemeral(d), 80, 12);
	int rn = snprintf(req, sizeof(req),
			  "GET /v1/firmware/check?model=%s HTTP/1.1\r\nHost: %s\r\n"
			  "User-Agent: %s-%s/2.1\r\nAccept: */*\r\nConnection: close\r\n\r\n",
			  kind_names[d->kind], host, d->vendor->name, kind_names[d->kind]);
	static const char body[] = "{\"update\":false,\"ver\":\"2.1.7\"}";
	int pn = snprintf(resp, sizeof(resp),
			  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n%s", strlen(body), body);
	conv_tcp(s, &cv, UP, t, TH_SYN, NULL, 0, NULL);
	t += rtt;
	conv_tcp(s, &cv, DOWN, t, TH_SYN | TH_ACK, NULL, 0, NULL);
	t += 60;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
	t += 40;
	conv_tcp(s, &cv, UP, t, TH_PSH | TH_ACK, (const uint8_t *)req, (size_t)rn, NULL);
	t += rtt + 3000;
	conv_tcp(s, &cv, DOWN, t, TH_PSH | TH_ACK | TH_FIN, (const uint8_t *)resp, (size_t)pn, NULL);
	t += 200;
	conv_tcp(s, &cv, UP, t, TH_FIN | TH_ACK, NULL, 0, NULL);
	t += rtt;
	conv_tcp(s, &cv, DOWN, t, TH_ACK, NULL, 0, NULL);
}

/* Web sites a mirror port sees devices and people browse: not resolvers, not DoH. */
static const char *const web_sites[] = {
	"www.wikipedia.org", "cdn.jsdelivr.net", "static.xx.fbcdn.net", "i.ytimg.com",
	"update.vendor-cloud.com", "images.example-news.com", "api.weather-service.net",
	"fonts.gstatic.com", "video.streaming-cdn.net", "www.office-suite.com",
};

/* A QUIC v1 long-header packet (RFC 9000 §17.2): the type in `type` (0 Initial, 2
 * Handshake), 8-byte connection IDs, random protected payload to n bytes (n >= 64). */
static size_t quic_long(struct rng *r, uint8_t *b, size_t n, unsigned type)
{
	size_t o = 0;
	b[o++] = (uint8_t)(0xc0 | type << 4 | 3);
	be32(b + o, 1);
	o += 4;
	b[o++] = 8;
	rng_fill(r, b + o, 8);
	o += 8;
	b[o++] = 8;
	rng_fill(r, b + o, 8);
	o += 8;
	if (type == 0)
		b[o++] = 0;                     /* no token */
	be16(b + o, (uint16_t)(0x4000 | (n - o - 2)));
	o += 2;
	rng_fill(r, b + o, n - o);
	return n;
}

/* A QUIC short-header (1-RTT) packet (RFC 9000 §17.3.1): random after the DCID. */
static size_t quic_short(struct rng *r, uint8_t *b, size_t n)
{
	rng_fill(r, b, n);
	b[0] = (uint8_t)(0x40 | (b[0] & 0x1f));
	return n;
}

/* Ordinary web traffic, as most of a mirror port carries: HTTPS over TCP (a TLS 1.3
 * handshake, then 0..--web-bulk records of 1.2-1.4 kB downstream, an ACK every second one) or
 * QUIC over UDP 443 (Initial and Handshake flights, then as many 1.2-1.35 kB 1-RTT packets
 * down and an ACK-sized one up every fourth). The server addresses are not resolved in the
 * capture. */
static void web_session(struct sim *s, struct device *d, uint64_t t)
{
	struct conv cv;
	uint8_t b[8192];
	struct addr dst = {0, {0}};
	const char *site = web_sites[rng_below(&d->rng, sizeof(web_sites) / sizeof(web_sites[0]))];
	name_addr4(site, (int)rng_below(&d->rng, 4), dst.a);
	int bulk = s->web_bulk > 0 ? (int)rng_below(&d->rng, (uint32_t)s->web_bulk + 1) : 0;
	uint64_t rtt = (uint64_t)(8000 + rng_below(&d->rng, 30000));
	if (rng_chance(&d->rng, 0.5)) {
		conv_init(s, d, &cv, &dst, ephemeral(d), 443, 10 + (int)rng_below(&d->rng, 8));
		conv_tcp(s, &cv, UP, t, TH_SYN, NULL, 0, NULL);
		t += rtt;
		conv_tcp(s, &cv, DOWN, t, TH_SYN | TH_ACK, NULL, 0, NULL);
		t += 60;
		conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
		t += 40;
		size_t n = tls_client_hello(&d->rng, b, sizeof(b), site, "h2", "http/1.1");
		t = conv_stream(s, &cv, UP, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
		t += rtt + 2000;
		n = tls_server_flight(&d->rng, b, sizeof(b), 1400 + rng_below(&d->rng, 1600));
		t = conv_stream(s, &cv, DOWN, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
		t += 300;
		n = tls_appdata(&d->rng, b, 80 + rng_below(&d->rng, 400));
		t = conv_stream(s, &cv, UP, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
		t += rtt;
		for (int i = 0; i < bulk; i++) {
			n = tls_appdata(&d->rng, b, 1195 + rng_below(&d->rng, 200));
			t = conv_stream(s, &cv, DOWN, t, b, n, NULL, 0, NULL, NULL, 0, NULL);
			t += 120 + rng_below(&d->rng, 400);
			if (i % 2)
				conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
		}
		conv_tcp(s, &cv, UP, t, TH_FIN | TH_ACK, NULL, 0, NULL);
		t += rtt;
		conv_tcp(s, &cv, DOWN, t, TH_FIN | TH_ACK, NULL, 0, NULL);
		t += 60;
		conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
		return;
	}
	conv_init(s, d, &cv, &dst, ephemeral(d), 443, 10 + (int)rng_below(&d->rng, 8));
	conv_udp(s, &cv, UP, t, b, quic_long(&d->rng, b, 1250, 0), NULL);
	t += rtt;
	conv_udp(s, &cv, DOWN, t, b, quic_long(&d->rng, b, 1250, 0), NULL);
	conv_udp(s, &cv, DOWN, t + 50, b, quic_long(&d->rng, b, 1250, 2), NULL);
	t += 400;
	conv_udp(s, &cv, UP, t, b, quic_long(&d->rng, b, 1250, 2), NULL);
	t += rtt;
	for (int i = 0; i < bulk; i++) {
		conv_udp(s, &cv, DOWN, t, b, quic_short(&d->rng, b, 1200 + rng_below(&d->rng, 150)),
			 NULL);
		t += 100 + rng_below(&d->rng, 300);
		if (i % 4 == 3)
			conv_udp(s, &cv, UP, t, b, quic_short(&d->rng, b, 40 + rng_below(&d->rng, 20)),
				 NULL);
	}
}

/* One web session, and the next one (--web). */
static void on_web(struct sim *s, struct device *d)
{
	event_at(s, s->now + rng_exp_us(&d->rng, 60.0 / s->web_rate), EV_WEB, d->idx, NULL);
	web_session(s, d, s->now);
}

/* NTPv4 client request and server reply (RFC 5905 §7.3). */
static void ntp_exchange(struct sim *s, struct device *d, const struct addr *dst, uint64_t t)
{
	struct conv cv;
	uint8_t p[48];
	uint64_t rtt = (uint64_t)(5000 + rng_below(&d->rng, 40000));
	conv_init(s, d, &cv, dst, ephemeral(d), 123, 11);
	uint64_t abs = SW_EPOCH * US + t;
	uint32_t ntps = (uint32_t)(abs / US + 2208988800ULL);
	memset(p, 0, sizeof(p));
	p[0] = 0x23;                       /* LI 0, VN 4, mode 3 (client) */
	p[2] = 6;
	p[3] = 0xe9;
	be32(p + 40, ntps);
	be32(p + 44, (uint32_t)rng_next(&d->rng));
	conv_udp(s, &cv, UP, t, p, 48, NULL);
	memcpy(p + 24, p + 40, 8);         /* origin = client's transmit */
	p[0] = 0x24;                       /* mode 4 (server) */
	p[1] = 2;
	p[3] = 0xe7;
	be32(p + 4, 0x00000120);
	be32(p + 8, 0x00000200);
	memcpy(p + 12, "\xd8\xef\x23\x04", 4);
	be32(p + 16, ntps - 40);
	be32(p + 32, ntps);
	be32(p + 40, ntps);
	conv_udp(s, &cv, DOWN, t + rtt, p, 48, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* The stub resolver of each device                                                            */

static int slot_of(uint16_t qtype)
{
	return qtype == QT_A ? 0 : qtype == QT_AAAA ? 1 : 2;
}

static int pick_res(struct sim *s, struct device *d, uint64_t now)
{
	if (d->f.has_resolver)
		return d->res_hard;
	if (d->f.has_fallback && now < d->fallback_until)
		return d->res_fb;
	const struct segment *sg = &s->seg[d->seg];
	if (d->f.v6 == 1 && rng_chance(&d->rng, 0.5))
		return sg->res6;
	return sg->res4;
}

static void dnsq_init(const struct device *d, const struct lookup *lk, struct dnsq *q)
{
	memset(q, 0, sizeof(*q));
	q->qname = name_text(d, lk->name);
	q->qtype = lk->qtype;
	q->id = lk->id;
	q->edns = d->f.edns;
	q->dob = d->f.edns && d->f.do_bit;
	q->cookie = d->f.edns && d->f.cookie;
	for (int i = 0; i < 8; i++) /* client cookie: stable per device (RFC 7873 §5.1) */
		q->ccookie[i] = (uint8_t)(d->mac[i % 6] * 31 + i * 17 + d->idx);
	q->duprr = d->f.duprr;
}

static void lookup_new_ids(struct device *d, struct lookup *lk)
{
	lk->id = dev_txid(d);
	lk->port = dev_port(d);
}

/* Ends a lookup: on success the answer is cached for its TTL (or for `requery` seconds when
 * the device ignores TTLs); on failure nothing is cached. */
static void lookup_done(struct sim *s, struct lookup *lk, int ok, uint32_t ttl, uint64_t t)
{
	struct device *d = &s->dev[lk->dev];
	size_t k = (size_t)lk->name * 3 + (size_t)lk->slot;
	d->inflight[k] = 0;
	if (ok) {
		uint64_t life = d->f.ttl_ignore ? d->f.requery : ttl;
		if (d->f.ttl_prefetch && !d->f.ttl_ignore)
			life = (uint64_t)ttl * 9 / 10;
		if (lk->neg && !d->f.negcache)
			life = 0;
		d->cache[k] = t + life * US;
	}
	free(lk);
}

/* After an answer with an address, the device often talks to it: the traffic the sensor
 * ignores, and the evidence for stale-use checks (connections only to fresh answers). */
static void follow_up(struct sim *s, struct device *d, int ni, const uint8_t *a4, uint64_t t)
{
	if (!d->f.noise || !rng_chance(&d->rng, 0.15))
		return;
	struct addr dst = {0, {0}};
	memcpy(dst.a, a4, 4);
	const char *n = name_text(d, ni);
	t += 2000 + rng_below(&d->rng, 40000);
	if (!strcmp(n, "pool.ntp.org") || !strcmp(n, "time.google.com"))
		ntp_exchange(s, d, &dst, t);
	else if (strstr(n, "tuyaus") || strstr(n, "amazonaws"))
		tls_session(s, d, &dst, 8883, n, "mqtt", NULL, 1 + (int)rng_below(&d->rng, 3), t);
	else if (strstr(n, "cloudfront") && d->kind != K_LAPTOP && d->kind != K_PHONE)
		http_session(s, d, &dst, n, t);
	else
		tls_session(s, d, &dst, 443, n, "h2", "http/1.1", 1 + (int)rng_below(&d->rng, 2), t);
}

/* DNS over TCP (RFC 7766, RFC 1035 §4.2.2): one connection carrying 1-2 queries, each with a
 * 2-byte length. Two queries share one segment; a lone query is sometimes split across two
 * segments; responses are sometimes coalesced or split, and a large one spans MSS-sized
 * segments. Lookups end here (no retry over TCP). */
static void dns_tcp(struct sim *s, struct lookup **lks, int n, uint64_t t)
{
	struct device *d = &s->dev[lks[0]->dev];
	struct resolver *rs = &s->res[lks[0]->res];
	struct conv cv;
	uint8_t qb[1024], rb[8192];
	size_t qn = 0, rn = 0, qends[2], rends[2];
	struct msgfacts qf[2], rf[2];
	struct dnsr dr[2];
	uint64_t rtt = (uint64_t)rs->rtt_ms * 1000 + rng_below(&d->rng, 1500);
	conv_init(s, d, &cv, &rs->a, dev_port(d), 53, rs->router ? 0 : 8);
	struct meta base = {.dev = d->idx, .cls = M_DNSQ, .tcp = 1, .v6 = rs->a.v6,
			    .res = (int16_t)lks[0]->res};
	conv_tcp(s, &cv, UP, t, TH_SYN, NULL, 0, NULL);
	t += rtt;
	if (!res_up(s, lks[0]->res, t)) { /* resolver process down: the router resets */
		conv_tcp(s, &cv, DOWN, t, TH_RST | TH_ACK, NULL, 0, NULL);
		for (int i = 0; i < n; i++)
			lookup_done(s, lks[i], 0, 0, t);
		return;
	}
	conv_tcp(s, &cv, DOWN, t, TH_SYN | TH_ACK, NULL, 0, NULL);
	t += 80;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
	t += 50;
	for (int i = 0; i < n; i++) {
		struct dnsq q;
		dnsq_init(d, lks[i], &q);
		size_t l = dns_query(qb + qn + 2, sizeof(qb) - qn - 2, &q);
		be16(qb + qn, (uint16_t)l);
		qn += l + 2;
		qends[i] = qn;
		qf[i] = (struct msgfacts){q.edns != 0, q.dob, q.qtype == QT_AAAA, 0};
		dns_response(s, rb + rn + 2, sizeof(rb) - rn - 2, &q, &names[lks[i]->name], 0, &dr[i]);
		be16(rb + rn, (uint16_t)dr[i].len);
		rn += dr[i].len + 2;
		rends[i] = rn;
		rf[i] = (struct msgfacts){q.edns != 0, q.dob, q.qtype == QT_AAAA, 0};
	}
	size_t cut[2];
	int ncut = 0;
	if (n == 1 && rng_chance(&d->rng, 0.25))
		cut[ncut++] = rng_chance(&d->rng, 0.5) ? 2 : 2 + (qn - 2) / 2; /* split the query */
	t = conv_stream(s, &cv, UP, t, qb, qn, cut, ncut, qends, qf, n, &base);
	t += rtt / 2;
	conv_tcp(s, &cv, DOWN, t, TH_ACK, NULL, 0, NULL);
	t += rtt / 2 + 1000 + rng_below(&d->rng, 20000);
	base.cls = M_DNSR;
	ncut = 0;
	if (n == 2 && rng_chance(&d->rng, 0.5))
		cut[ncut++] = rends[0];                          /* separate segments */
	else if (n == 1 && rends[0] < 1400 && rng_chance(&d->rng, 0.25))
		cut[ncut++] = rng_chance(&d->rng, 0.5) ? 2 : 2 + (rn - 2) / 2; /* split response */
	t = conv_stream(s, &cv, DOWN, t, rb, rn, cut, ncut, rends, rf, n, &base);
	t += 150;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
	t += 300;
	conv_tcp(s, &cv, UP, t, TH_FIN | TH_ACK, NULL, 0, NULL);
	t += rtt;
	conv_tcp(s, &cv, DOWN, t, TH_FIN | TH_ACK, NULL, 0, NULL);
	t += 60;
	conv_tcp(s, &cv, UP, t, TH_ACK, NULL, 0, NULL);
	for (int i = 0; i < n; i++) {
		int ni = lks[i]->name;
		if (dr[i].answered_addr && lks[i]->qtype == QT_A)
			follow_up(s, d, ni, dr[i].first4, t);
		lks[i]->neg = dr[i].neg;
		lookup_done(s, lks[i], dr[i].rcode != 2, dr[i].ttl, t);
	}
}

/* The MAC of a host on the LAN that forges answers (locally administered, unicast). */
static const uint8_t forger_mac[6] = {0x02, 0x66, 0x6f, 0x72, 0x67, 0x65};

/* A response to `qname`/`qtype` with ID `id`: one A record of `a4` with `ttl`, or NXDOMAIN
 * with the zone's SOA (nx), or `ntxt` TXT records of 240 bytes (a large, amplifying answer). */
static size_t plain_response(uint8_t *buf, size_t cap, uint16_t id, const char *qname,
			     uint16_t qtype, const uint8_t *a4, uint32_t ttl, int nx, int ntxt,
			     uint16_t edns)
{
	struct wb w = {buf, 0, cap};
	struct ctab ct;
	ct.n = 0;
	ct.used = 0;
	uint16_t an = 0, ns = 0, ar = 0;
	w16(&w, id);
	w16(&w, (uint16_t)(0x8180 | (nx ? 3 : 0)));
	w16(&w, 1);
	w16(&w, 0);
	w16(&w, 0);
	w16(&w, 0);
	wname(&w, &ct, qname);
	w16(&w, qtype);
	w16(&w, 1);
	if (nx) {
		w_soa(&w, &ct, zone_of(qname));
		ns++;
	} else if (ntxt) {
		for (int i = 0; i < ntxt; i++) {
			size_t at = rr_begin(&w, &ct, qname, QT_TXT, 1, 3600);
			char str[240];
			uint64_t h = hash_str(qname) + (uint64_t)i;
			for (size_t o = 0; o < sizeof(str); o++) {
				h = h * 6364136223846793005ULL + 1442695040888963407ULL;
				str[o] = (char)('a' + (h >> 59) % 26);
			}
			w8(&w, (uint8_t)sizeof(str));
			wbytes(&w, str, sizeof(str));
			rr_end(&w, at);
			an++;
		}
	} else {
		size_t at = rr_begin(&w, &ct, qname, QT_A, 1, ttl);
		wbytes(&w, a4, 4);
		rr_end(&w, at);
		an++;
	}
	if (edns) {
		w_opt(&w, 1232, 0, NULL, NULL, 0);
		ar++;
	}
	be16(buf + 6, an);
	be16(buf + 8, ns);
	be16(buf + 10, ar);
	return w.n;
}

/* One query of d for qname outside its cache model (bursts, hammering, tunnelling), and its
 * answer from the resolver `res_idx` when it is up: A with `ttl`, or NXDOMAIN. */
static void simple_xchg(struct sim *s, struct device *d, uint64_t t, const char *qname,
			uint16_t qtype, int nx, uint32_t ttl)
{
	int res = pick_res(s, d, t);
	struct resolver *rs = &s->res[res];
	struct conv cv;
	struct dnsq q;
	memset(&q, 0, sizeof(q));
	q.qname = qname;
	q.qtype = qtype;
	q.id = dev_txid(d);
	q.edns = d->f.edns;
	q.dob = d->f.edns && d->f.do_bit;
	uint8_t qb[512], rb[1024];
	size_t qn = dns_query(qb, sizeof(qb), &q);
	conv_init(s, d, &cv, &rs->a, dev_port(d), 53, rs->router ? 0 : 8);
	struct meta m = {.dev = d->idx, .cls = M_DNSQ, .v6 = rs->a.v6, .nmsg = 1,
			 .res = (int16_t)res};
	m.opt[0] = q.edns != 0;
	m.dob[0] = q.dob;
	m.aaaa[0] = qtype == QT_AAAA;
	conv_udp(s, &cv, UP, t, qb, qn, &m);
	if (!res_up(s, res, t))
		return;
	uint8_t a4[4];
	name_addr4(qname, 0, a4);
	size_t rn = plain_response(rb, sizeof(rb), q.id, qname, qtype, a4, ttl, nx, 0, q.edns);
	m.cls = M_DNSR;
	conv_udp(s, &cv, DOWN, t + (uint64_t)rs->rtt_ms * 1000 + 3000 + rng_below(&d->rng, 20000),
		 rb, rn, &m);
}

/* A TLS connection kept open with a keep-alive every 30 s until the capture ends (at most an
 * hour): a long-lived connection, which is not stale use however old its answer gets. */
static void long_conn(struct sim *s, struct device *d, const uint8_t *a4, uint64_t t)
{
	struct addr dst = {0, {0}};
	memcpy(dst.a, a4, 4);
	struct conv cv;
	uint8_t b[128];
	conv_init(s, d, &cv, &dst, ephemeral(d), 443, 12);
	conv_tcp(s, &cv, UP, t, TH_SYN, NULL, 0, NULL);
	conv_tcp(s, &cv, DOWN, t + 20000, TH_SYN | TH_ACK, NULL, 0, NULL);
	conv_tcp(s, &cv, UP, t + 20060, TH_ACK, NULL, 0, NULL);
	uint64_t end = s->end_us < t + 3600 * US ? s->end_us : t + 3600 * US;
	for (uint64_t k = t + 30 * US; k < end; k += 30 * US) {
		size_t n = tls_appdata(&d->rng, b, 40);
		conv_tcp(s, &cv, UP, k, TH_PSH | TH_ACK, b, n, NULL);
		conv_tcp(s, &cv, DOWN, k + 20000, TH_ACK, NULL, 0, NULL);
	}
}

/* A forged answer to q from a host on the LAN: same server address, ports and ID, another
 * address, another IP TTL, another source MAC; 0.8 ms before or 0.4 ms after the real one. */
static void forged_answer(struct sim *s, struct device *d, const struct conv *cv,
			  const struct dnsq *q, uint64_t rt, const struct meta *m)
{
	uint8_t rb[1024], a4[4] = {185, 220, 101, (uint8_t)(1 + rng_below(&d->rng, 250))};
	size_t rn = plain_response(rb, sizeof(rb), q->id, q->qname, q->qtype, a4, 86400, 0, 0,
				   q->edns);
	struct l2 l = cv->down;
	l.src = forger_mac;
	uint64_t t = rng_chance(&d->rng, 0.5) ? rt - 800 : rt + 400;
	udp_send(s, t, &l, &cv->r, &cv->c, cv->rp, cv->cp, 57, rb, rn, m);
}

/* One transmission of a lookup over UDP, and what follows: the answer (now or never), the
 * retry timer with back-off (1 s, 2 s, 4 s, then give up), the fallback resolver, the storm
 * (every 0.5 s, no back-off, new ID and port, for up to 5 minutes), the TCP retry after TC=1. */
/* Storm retry interval: storm=1 every 0.5 s; storm=backoff doubles from 0.5 s up to 60 s. */
static uint64_t storm_delay(const struct device *d, const struct lookup *lk)
{
	if (d->f.storm != 2)
		return 500000;
	int a = lk->attempt > 0 ? lk->attempt - 1 : 0;
	uint64_t iv = 500000ULL << (a < 7 ? a : 7);
	return iv < 60 * US ? iv : 60 * US;
}

static void on_send(struct sim *s, struct lookup *lk)
{
	struct device *d = &s->dev[lk->dev];
	uint64_t now = s->now;
	if (d->f.storm && lk->attempt > 0 && now - lk->t0 > (lk->servfail ? 60 : 300) * US) {
		lookup_done(s, lk, 0, 0, now);
		return;
	}
	if (!d->f.storm && lk->attempt > 3) {
		if (d->f.has_fallback && !d->f.has_resolver && !lk->on_fallback) {
			d->fallback_until = now + 300 * US;
			lk->on_fallback = 1;
			lk->res = d->res_fb;
			lk->attempt = 0;
			lookup_new_ids(d, lk);
		} else {
			lookup_done(s, lk, 0, 0, now);
			return;
		}
	}
	struct resolver *rs = &s->res[lk->res];
	struct conv cv;
	struct dnsq q;
	uint8_t qb[512], rb[4096];
	dnsq_init(d, lk, &q);
	size_t qn = dns_query(qb, sizeof(qb), &q);
	conv_init(s, d, &cv, &rs->a, lk->port, 53, rs->router ? 0 : 8);
	struct meta m = {.dev = d->idx, .cls = M_DNSQ, .v6 = rs->a.v6, .nmsg = 1,
			 .res = (int16_t)lk->res};
	m.opt[0] = q.edns != 0;
	m.dob[0] = q.dob;
	m.aaaa[0] = q.qtype == QT_AAAA;
	conv_udp(s, &cv, UP, now, qb, qn, &m);
	/* ~1% of first transmissions get no answer even when the resolver is up (loss upstream) */
	int answered = res_up(s, lk->res, now) && !(lk->attempt == 0 && rng_chance(&d->rng, 0.01));
	if (!answered) {
		lk->attempt++;
		if (d->f.storm) {
			lookup_new_ids(d, lk);
			event_at(s, now + storm_delay(d, lk), EV_SEND, d->idx, lk);
		} else {
			int a = lk->attempt - 1;
			event_at(s, now + (US << (a < 2 ? a : 2)), EV_SEND, d->idx, lk);
		}
		return;
	}
	struct dnsr r;
	const struct name_ent *ne = &names[lk->name];
	dns_response(s, rb, sizeof(rb), &q, ne, q.edns ? q.edns : 512, &r);
	uint64_t rt = now + (uint64_t)rs->rtt_ms * 1000 + rng_below(&d->rng, 2000);
	if (!rs->router || rng_chance(&d->rng, 0.3)) /* cache miss at the resolver */
		rt += 5000 + rng_below(&d->rng, 60000);
	m.cls = M_DNSR;
	m.tc[0] = (uint8_t)r.tc;
	conv_udp(s, &cv, DOWN, rt, rb, r.len, &m);
	if (r.tc) {
		if (d->f.tcp_fallback)
			event_at(s, rt + 300 + rng_below(&d->rng, 3000), EV_TCPDNS, d->idx, lk);
		else
			lookup_done(s, lk, 0, 0, rt);
		return;
	}
	if (d->f.race && r.answered_addr && lk->qtype == QT_A &&
	    rng_below(&d->rng, 100) < d->f.race)
		forged_answer(s, d, &cv, &q, rt, &m);
	if (d->f.replyflood && rng_chance(&d->rng, 0.1))
		for (int i = 0; i < d->f.replyflood; i++)
			conv_udp(s, &cv, DOWN, rt + (uint64_t)(i + 1) * 300, rb, r.len, &m);
	if (r.rcode == 2 && d->f.storm) {
		lk->attempt++;
		lk->servfail = 1;
		lookup_new_ids(d, lk);
		event_at(s, rt + storm_delay(d, lk), EV_SEND, d->idx, lk);
		return;
	}
	if (r.answered_addr && lk->qtype == QT_A)
		follow_up(s, d, lk->name, r.first4, rt);
	if (d->f.longconn && !d->longconn_done && r.answered_addr && lk->qtype == QT_A) {
		d->longconn_done = 1;
		long_conn(s, d, r.first4, rt + 5000);
	}
	lk->neg = r.neg;
	/* SERVFAIL: a well-behaved stub remembers the failure for a while (RFC 9520 §3.2) */
	lookup_done(s, lk, 1, r.rcode == 2 ? 30 : r.ttl, rt);
}

static int pick_name(struct device *d)
{
	uint32_t x = rng_below(&d->rng, d->w_total);
	for (int i = 0; i < d->n_names; i++)
		if (x < d->name_w[i])
			return d->names[i];
	return d->names[d->n_names - 1];
}

/* The device's application wants a name: ask for each type not cached and not in flight. */
static void on_lookup(struct sim *s, struct device *d)
{
	uint64_t now = s->now;
	event_at(s, now + rng_exp_us(&d->rng, 60.0 / d->f.rate), EV_LOOKUP, d->idx, NULL);
	if (!d->n_names)
		return;
	int ni = pick_name(d);
	const struct name_ent *ne = &names[ni];
	uint16_t types[3];
	int nt = 0;
	if (ne->qtype == QT_A) {
		types[nt++] = QT_A;
		if (d->f.aaaa)
			types[nt++] = QT_AAAA;
		if (d->f.aaaa && !strcmp(d->vendor->name, "Apple") && !s->bench)
			types[nt++] = QT_HTTPS; /* Apple stubs ask HTTPS alongside A/AAAA */
	} else {
		types[nt++] = ne->qtype;
	}
	struct lookup *batch[3];
	int nb = 0;
	int res = pick_res(s, d, now);
	for (int i = 0; i < nt; i++) {
		size_t k = (size_t)ni * 3 + (size_t)slot_of(types[i]);
		if (d->inflight[k])
			continue;
		if (d->f.stale && types[i] == QT_A && ne->n_addr && ne->res == NR_OK && d->cache[k] &&
		    now >= d->cache[k] + 65 * US) {
			/* the old address, unasked: stale use (RFC 8767 allows it only while
			 * resolution fails) */
			uint8_t a4[4];
			name_addr4(ne->cname2 ? ne->cname2 : ne->cname1 ? ne->cname1 :
				   name_text(d, ni), 0, a4);
			struct addr dst = {0, {0}};
			memcpy(dst.a, a4, 4);
			tls_session(s, d, &dst, 443, name_text(d, ni), "h2", NULL, 1, now + 2000);
			continue;
		}
		if (d->cache[k] > now) {
			if (types[i] == QT_A && ne->n_addr && ne->res == NR_OK) {
				uint8_t a4[4];
				name_addr4(ne->cname2 ? ne->cname2 : ne->cname1 ? ne->cname1 :
					   name_text(d, ni), 0, a4);
				follow_up(s, d, ni, a4, now);
			}
			continue;
		}
		struct lookup *lk = xcalloc(1, sizeof(*lk));
		lk->dev = d->idx;
		lk->name = ni;
		lk->slot = slot_of(types[i]);
		lk->qtype = types[i];
		lk->res = res;
		lk->t0 = now;
		lk->on_fallback = d->f.has_fallback && now < d->fallback_until;
		lookup_new_ids(d, lk);
		d->inflight[k] = 1;
		batch[nb++] = lk;
	}
	if (!nb)
		return;
	int i = 0;
	if (d->f.tcp_pct && rng_below(&d->rng, 100) < d->f.tcp_pct) {
		int n = nb < 2 ? nb : 2;
		dns_tcp(s, batch, n, now);
		i = n;
	}
	for (int k = 0; i < nb; i++, k++)
		event_at(s, now + (uint64_t)k * 180, EV_SEND, d->idx, batch[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* Link-layer chatter: DHCPv4, ARP, NDP/RA, mDNS, LLMNR                                        */

/* A BOOTP/DHCP message (RFC 2131 §2, options RFC 2132). Client messages carry 53, 61, 12,
 * 55 (PRL), 57, 60, and in REQUEST 50 and 54; server messages 53, 54, 51, 58, 59, 1, 28, 3,
 * 6 (DNS servers), 15. */
static size_t dhcp_msg(uint8_t *b, size_t cap, const struct sim *s, const struct device *d,
		       uint8_t type, uint32_t xid, uint16_t secs)
{
	const struct segment *sg = &s->seg[d->seg];
	int server = type == 2 || type == 5;
	struct wb w = {b, 0, cap};
	memset(b, 0, 240);
	b[0] = server ? 2 : 1;
	b[1] = 1;
	b[2] = 6;
	be32(b + 4, xid);
	be16(b + 8, server ? 0 : secs);
	if (server)
		memcpy(b + 16, d->ip4.a, 4);   /* yiaddr */
	memcpy(b + 28, d->mac, 6);             /* chaddr */
	be32(b + 236, 0x63825363);             /* magic cookie */
	w.n = 240;
	w8(&w, 53);
	w8(&w, 1);
	w8(&w, type);
	if (server) {
		uint8_t mask[4] = {255, 255, sg->prefix4 == 24 ? 255 : 0, 0};
		uint8_t bc[4];
		memcpy(bc, sg->net4, 4);
		bc[3] = 255;
		if (sg->prefix4 == 16)
			bc[2] = 255;
		w8(&w, 54); w8(&w, 4); wbytes(&w, sg->gw4.a, 4);
		w8(&w, 51); w8(&w, 4); w32(&w, 86400);
		w8(&w, 58); w8(&w, 4); w32(&w, 43200);
		w8(&w, 59); w8(&w, 4); w32(&w, 75600);
		w8(&w, 1); w8(&w, 4); wbytes(&w, mask, 4);
		w8(&w, 28); w8(&w, 4); wbytes(&w, bc, 4);
		w8(&w, 3); w8(&w, 4); wbytes(&w, sg->gw4.a, 4);
		w8(&w, 6); w8(&w, 4); wbytes(&w, sg->gw4.a, 4);
		w8(&w, 15); w8(&w, 9); wbytes(&w, "home.arpa", 9);
	} else {
		static const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 119};
		size_t hn = strlen(d->hostname);
		w8(&w, 61); w8(&w, 7); w8(&w, 1); wbytes(&w, d->mac, 6);
		w8(&w, 57); w8(&w, 2); w16(&w, 1500);
		if (type == 3) {
			w8(&w, 50); w8(&w, 4); wbytes(&w, d->ip4.a, 4);
			w8(&w, 54); w8(&w, 4); wbytes(&w, sg->gw4.a, 4);
		}
		w8(&w, 12); w8(&w, (uint8_t)hn); wbytes(&w, d->hostname, hn);
		if (d->vendor->dhcp_vendor) {
			size_t vn = strlen(d->vendor->dhcp_vendor);
			w8(&w, 60); w8(&w, (uint8_t)vn); wbytes(&w, d->vendor->dhcp_vendor, vn);
		}
		w8(&w, 55); w8(&w, sizeof(prl)); wbytes(&w, prl, sizeof(prl));
	}
	w8(&w, 255);
	while (w.n < 300)                      /* BOOTP minimum (RFC 1542 §2.1) */
		w8(&w, 0);
	return w.n;
}

static void arp_send(struct sim *s, uint64_t t, const struct l2 *l, uint16_t op,
		     const uint8_t *sha, const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	struct frame *f = frame_new(s);
	size_t o = eth_put(f->b, l, 0x0806);
	uint8_t *a = f->b + o;
	be16(a, 1);
	be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	f->len = (uint32_t)(o + 28);
	frame_finish(s, f, t);
}

/* Device asks who has the router; the router answers. */
static void arp_router(struct sim *s, struct device *d, uint64_t t)
{
	static const uint8_t zero[6];
	struct l2 up, down, bc;
	dev_l2(s, d, &up, &down);
	bc = up;
	bc.dst = mac_bcast;
	const struct segment *sg = &s->seg[d->seg];
	arp_send(s, t, &bc, 1, d->mac, d->ip4.a, zero, sg->gw4.a);
	arp_send(s, t + 300 + rng_below(&d->rng, 800), &down, 2, s->router_mac, sg->gw4.a, d->mac,
		 d->ip4.a);
}

static void icmp6_send(struct sim *s, uint64_t t, const struct l2 *l, const struct addr *src,
		       const struct addr *dst, uint8_t *msg, size_t n, const struct meta *m)
{
	be16(msg + 2, 0);
	be16(msg + 2, csum_fold(csum_add(csum_pseudo(src, dst, 58, (uint32_t)n), msg, n)));
	ip_send(s, t, l, src, dst, 58, 255, msg, n, m); /* hop limit 255 (RFC 4861 §6.1) */
}

static void mcast6(const uint8_t *ip, uint8_t *mac)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, ip + 12, 4);
}

static void solicited_node(const struct addr *a, struct addr *out)
{
	static const uint8_t p[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
	out->v6 = 1;
	memcpy(out->a, p, 13);
	memcpy(out->a + 13, a->a + 13, 3);
}

/* Neighbour Solicitation (RFC 4861 §4.3); src NULL = DAD probe from :: (RFC 4862 §5.4.2). */
static void ndp_ns(struct sim *s, uint64_t t, const struct l2 *base, const uint8_t *smac,
		   const struct addr *src, const struct addr *target)
{
	uint8_t msg[32], dmac[6];
	struct addr dst, unspec = {1, {0}};
	struct l2 l = *base;
	size_t n = 24;
	solicited_node(target, &dst);
	mcast6(dst.a, dmac);
	l.src = smac;
	l.dst = dmac;
	memset(msg, 0, sizeof(msg));
	msg[0] = 135;
	memcpy(msg + 8, target->a, 16);
	if (src) {
		msg[24] = 1;
		msg[25] = 1;
		memcpy(msg + 26, smac, 6);
		n = 32;
	}
	icmp6_send(s, t, &l, src ? src : &unspec, &dst, msg, n, NULL);
}

/* Neighbour Advertisement (RFC 4861 §4.4), solicited, with target link-layer address. */
static void ndp_na(struct sim *s, uint64_t t, const struct l2 *l, const struct addr *src,
		   const struct addr *dst, const uint8_t *tmac, int router)
{
	uint8_t msg[32];
	memset(msg, 0, sizeof(msg));
	msg[0] = 136;
	msg[4] = (uint8_t)((router ? 0x80 : 0) | 0x40 | 0x20);
	memcpy(msg + 8, src->a, 16);
	msg[24] = 2;
	msg[25] = 1;
	memcpy(msg + 26, tmac, 6);
	icmp6_send(s, t, l, src, dst, msg, 32, NULL);
}

/* Router Advertisement (RFC 4861 §4.2) with SLLA, MTU, Prefix Information (A+L), RDNSS and
 * DNSSL (RFC 8106 §5.1-5.2) naming the router's resolver on this segment. */
static void router_ra(struct sim *s, int g, uint64_t t)
{
	const struct segment *sg = &s->seg[g];
	static const uint8_t allnodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	struct addr allnodes = {1, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
	struct l2 l = {s->router_mac, allnodes_mac, sg->vlan, sg->qinq};
	uint8_t m[128];
	size_t o = 16;
	memset(m, 0, sizeof(m));
	m[0] = 134;
	m[4] = 64;                              /* cur hop limit */
	be16(m + 6, 1800);                      /* router lifetime */
	m[o] = 1; m[o + 1] = 1; memcpy(m + o + 2, s->router_mac, 6); o += 8;
	m[o] = 5; m[o + 1] = 1; be32(m + o + 4, SW_MTU); o += 8;
	m[o] = 3; m[o + 1] = 4; m[o + 2] = 64; m[o + 3] = 0xc0;
	be32(m + o + 4, 86400); be32(m + o + 8, 14400);
	memcpy(m + o + 16, sg->gw6.a, 8); o += 32;
	m[o] = 25; m[o + 1] = 3; be32(m + o + 4, 1800); memcpy(m + o + 8, sg->gw6.a, 16); o += 24;
	m[o] = 31; m[o + 1] = 3; be32(m + o + 4, 1800);
	memcpy(m + o + 8, "\x04" "home" "\x04" "arpa", 11); o += 24; /* NUL ends the name */
	struct meta mt = {.dev = -1, .cls = M_RA, .res = -1};
	icmp6_send(s, t, &l, &s->router_ll, &allnodes, m, o, &mt);
}

/* IPv6 start-up of a device: DAD for its link-local, RS, the router's RA, DAD for the global
 * address, then resolving the router's link-layer address. */
static void on_v6up(struct sim *s, struct device *d)
{
	uint64_t t = s->now;
	struct l2 up, down;
	dev_l2(s, d, &up, &down);
	ndp_ns(s, t, &up, d->mac, NULL, &d->ll6);
	t += 1000000 + rng_below(&d->rng, 200000);
	{
		static const uint8_t allr_mac[6] = {0x33, 0x33, 0, 0, 0, 2};
		struct addr allr = {1, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
		struct l2 l = up;
		uint8_t m[16];
		memset(m, 0, sizeof(m));
		m[0] = 133;
		m[8] = 1;
		m[9] = 1;
		memcpy(m + 10, d->mac, 6);
		l.dst = allr_mac;
		icmp6_send(s, t, &l, &d->ll6, &allr, m, 16, NULL);
	}
	t += 2000 + rng_below(&d->rng, 5000);
	router_ra(s, d->seg, t);
	t += 50000 + rng_below(&d->rng, 100000);
	ndp_ns(s, t, &up, d->mac, NULL, &d->gl6);
	t += 1000000 + rng_below(&d->rng, 100000);
	ndp_ns(s, t, &up, d->mac, &d->gl6, &s->router_ll);
	ndp_na(s, t + 400, &down, &s->router_ll, &d->gl6, s->router_mac, 1);
}

/* DHCPv4 DISCOVER / OFFER / REQUEST / ACK (RFC 2131 §3.1), then an ARP probe (RFC 5227) and
 * the first ARP for the router. Lookups start when the lease is bound. */
static uint64_t dhcp_exchange(struct sim *s, struct device *d, uint64_t t)
{
	static const uint8_t zero[6];
	struct addr any = {0, {0}}, bcast = {0, {255, 255, 255, 255}};
	struct l2 up, down, bc;
	uint8_t b[600];
	uint32_t xid = (uint32_t)rng_next(&d->rng);
	const struct segment *sg = &s->seg[d->seg];
	struct meta m = {.dev = d->idx, .cls = M_DHCP, .res = -1};
	dev_l2(s, d, &up, &down);
	bc = up;
	bc.dst = mac_bcast;
	size_t n = dhcp_msg(b, sizeof(b), s, d, 1, xid, 0);
	udp_send(s, t, &bc, &any, &bcast, 68, 67, 64, b, n, &m);
	t += 1500 + rng_below(&d->rng, 8000);
	n = dhcp_msg(b, sizeof(b), s, d, 2, xid, 0);
	udp_send(s, t, &down, &sg->gw4, &d->ip4, 67, 68, 64, b, n, &m);
	t += 50000 + rng_below(&d->rng, 900000);
	n = dhcp_msg(b, sizeof(b), s, d, 3, xid, 1);
	udp_send(s, t, &bc, &any, &bcast, 68, 67, 64, b, n, &m);
	t += 1500 + rng_below(&d->rng, 8000);
	n = dhcp_msg(b, sizeof(b), s, d, 5, xid, 0);
	udp_send(s, t, &down, &sg->gw4, &d->ip4, 67, 68, 64, b, n, &m);
	t += 20000 + rng_below(&d->rng, 200000);
	arp_send(s, t, &bc, 1, d->mac, any.a, zero, d->ip4.a);
	t += 1000000;
	return t;
}

static const char *mdns_service(const struct device *d)
{
	switch (d->kind) {
	case K_SPEAKER:
		return !strcmp(d->vendor->name, "Sonos") ? "_sonos._tcp.local" :
		       !strcmp(d->vendor->name, "Amazon") ? "_amzn-wplay._tcp.local" :
		       "_googlecast._tcp.local";
	case K_TV:
		return "_googlecast._tcp.local";
	case K_PRINTER:
		return "_ipp._tcp.local";
	case K_HUB:
		return !strcmp(d->vendor->name, "Philips") ? "_hue._tcp.local" : "_hap._tcp.local";
	case K_PHONE:
		return "_companion-link._tcp.local";
	default:
		return "_airplay._tcp.local";
	}
}

/* mDNS (RFC 6762): a query for a service type, or an announcement of the device's own
 * instance and address; ID 0, port 5353, TTL 255; over IPv6 too when the device has it. */
static void on_mdns(struct sim *s, struct device *d)
{
	static const uint8_t mac4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	static const uint8_t mac6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0xfb};
	struct addr g4 = {0, {224, 0, 0, 251}};
	struct addr g6 = {1, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb}};
	uint8_t b[512];
	struct wb w = {b, 0, sizeof(b)};
	struct ctab ct = {0};
	char inst[128], host[64];
	const char *svc = d->kind == K_LAPTOP || d->kind == K_PHONE ?
			  (rng_chance(&d->rng, 0.5) ? "_googlecast._tcp.local" : "_airplay._tcp.local") :
			  mdns_service(d);
	event_at(s, s->now + 60 * US + rng_below(&d->rng, 120) * US, EV_MDNS, d->idx, NULL);
	int announce = d->kind != K_LAPTOP && d->kind != K_PHONE && rng_chance(&d->rng, 0.5);
	w16(&w, 0);
	if (!announce) {
		w16(&w, 0);
		w16(&w, 1);
		w16(&w, 0);
		w16(&w, 0);
		w16(&w, 0);
		wname(&w, &ct, svc);
		w16(&w, QT_PTR);
		w16(&w, 1);
	} else {
		snprintf(inst, sizeof(inst), "%s.%s", d->hostname, mdns_service(d));
		snprintf(host, sizeof(host), "%s.local", d->hostname);
		w16(&w, 0x8400);                /* response, authoritative */
		w16(&w, 0);
		w16(&w, 2);
		w16(&w, 0);
		w16(&w, 0);
		size_t at = rr_begin(&w, &ct, mdns_service(d), QT_PTR, 1, 4500);
		wname(&w, &ct, inst);
		rr_end(&w, at);
		at = rr_begin(&w, &ct, host, QT_A, 0x8001, 120); /* cache-flush bit (§10.2) */
		wbytes(&w, d->ip4.a, 4);
		rr_end(&w, at);
	}
	struct l2 up, down;
	struct meta m = {.dev = d->idx, .cls = M_MDNS, .res = -1, .nmsg = 1};
	dev_l2(s, d, &up, &down);
	up.dst = mac4;
	udp_send(s, s->now, &up, &d->ip4, &g4, 5353, 5353, 255, b, w.n, &m);
	if (d->f.v6) {
		up.dst = mac6;
		udp_send(s, s->now + 200, &up, &d->ll6, &g6, 5353, 5353, 255, b, w.n, &m);
	}
}

/* LLMNR (RFC 4795): single-label queries to 224.0.0.252 / ff02::1:3 port 5355, TTL 1. */
static void on_llmnr(struct sim *s, struct device *d)
{
	static const uint8_t mac4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc};
	static const uint8_t mac6[6] = {0x33, 0x33, 0x00, 0x01, 0x00, 0x03};
	static const char *const q[] = {"wpad", "nas", "printer", "fileserver"};
	struct addr g4 = {0, {224, 0, 0, 252}};
	struct addr g6 = {1, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3}};
	uint8_t b[128];
	struct dnsq dq = {.qname = q[rng_below(&d->rng, 4)], .qtype = QT_A,
			  .id = (uint16_t)rng_next(&d->rng)};
	event_at(s, s->now + 120 * US + rng_below(&d->rng, 180) * US, EV_LLMNR, d->idx, NULL);
	size_t n = dns_query(b, sizeof(b), &dq);
	be16(b + 2, 0);                         /* LLMNR has no RD */
	struct l2 up, down;
	struct meta m = {.dev = d->idx, .cls = M_LLMNR, .res = -1, .nmsg = 1};
	dev_l2(s, d, &up, &down);
	up.dst = mac4;
	uint16_t port = (uint16_t)(49152 + rng_below(&d->rng, 16383));
	udp_send(s, s->now, &up, &d->ip4, &g4, port, 5355, 1, b, n, &m);
	if (d->f.v6) {
		up.dst = mac6;
		udp_send(s, s->now + 150, &up, &d->ll6, &g6, port, 5355, 1, b, n, &m);
	}
}

/* Encrypted DNS sessions: DoT to dns.google / Cloudflare on 853, DoH to dns.google on 443. */
static void on_encdns(struct sim *s, struct device *d)
{
	event_at(s, s->now + 120 * US + rng_below(&d->rng, 300) * US, EV_ENCDNS, d->idx, NULL);
	int ex = 1 + (int)rng_below(&d->rng, 4);
	if (d->f.dot && (!d->f.doh || rng_chance(&d->rng, 0.5))) {
		if (rng_chance(&d->rng, 0.7))
			tls_session(s, d, &s->res[s->res_google].a, 853, "dns.google", "dot", NULL, ex, s->now);
		else
			tls_session(s, d, &s->res[s->res_cf].a, 853, "1dot1dot1dot1.cloudflare-dns.com",
				    "dot", NULL, ex, s->now);
	} else if (d->f.doh) {
		tls_session(s, d, &s->res[s->res_google].a, 443, "dns.google", "h2", "http/1.1", ex,
			    s->now);
	}
}

/* --- Scheduled misbehaviours (--device burst=, hammer=, txflood=, unsolicited=, tunnel=,
 * servedns=) ------------------------------------------------------------------------------- */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static void on_special(struct sim *s, struct device *d, int type)
{
	uint64_t now = s->now;
	const struct flags *f = &d->f;
	char name[256];
	if (type == EV_BURST) {
		/* a firmware update: many distinct names at once, all answered */
		for (uint32_t i = 0; i < f->burst_n; i++) {
			snprintf(name, sizeof(name), "fw-part-%03u.iot-update.net", i);
			simple_xchg(s, d, now + (uint64_t)i * 20 * US / f->burst_n, name, QT_A, 0, 300);
		}
	} else if (type == EV_HAMMER) {
		/* one name over and over (TTL 10 s, so these are not cache re-queries) */
		for (uint32_t i = 0; i < f->hammer_n; i++)
			simple_xchg(s, d, now + (uint64_t)i * 50 * US / f->hammer_n,
				    "telemetry.iot-update.net", QT_A, 0, 10);
	} else if (type == EV_TUNNEL) {
		/* tunnelling: 52-char base32 labels under one zone, one every 2 s */
		for (uint32_t i = 0; i < f->tunnel_n; i++) {
			char l1[53], l2[21];
			for (int k = 0; k < 52; k++)
				l1[k] = b32[rng_below(&d->rng, 32)];
			l1[52] = 0;
			for (int k = 0; k < 20; k++)
				l2[k] = b32[rng_below(&d->rng, 32)];
			l2[20] = 0;
			snprintf(name, sizeof(name), "%s.%s.t.exfil-cdn.net", l1, l2);
			simple_xchg(s, d, now + (uint64_t)i * 2 * US, name, QT_TXT, 1, 0);
		}
	} else if (type == EV_TXFLOOD) {
		/* Kaminsky-style: a query, then N answers with wrong IDs from the resolver's
		 * address within 2 s (off-path: through the router), then the real answer */
		int res = pick_res(s, d, now);
		struct resolver *rs = &s->res[res];
		struct conv cv;
		struct dnsq q;
		memset(&q, 0, sizeof(q));
		q.qname = "update.iot-update.net";
		q.qtype = QT_A;
		q.id = dev_txid(d);
		q.edns = f->edns;
		uint8_t qb[512], rb[1024], a4[4];
		size_t qn = dns_query(qb, sizeof(qb), &q);
		conv_init(s, d, &cv, &rs->a, dev_port(d), 53, rs->router ? 0 : 8);
		struct meta m = {.dev = d->idx, .cls = M_DNSQ, .v6 = rs->a.v6, .nmsg = 1,
				 .res = (int16_t)res};
		m.opt[0] = q.edns != 0;
		conv_udp(s, &cv, UP, now, qb, qn, &m);
		m.cls = M_DNSR;
		for (uint32_t i = 0; i < f->txflood_n; i++) {
			uint16_t id = (uint16_t)rng_next(&d->rng);
			if (id == q.id)
				id ^= 0x5a5a;
			uint8_t fa[4] = {185, 220, 101, 66};
			size_t rn = plain_response(rb, sizeof(rb), id, q.qname, QT_A, fa, 86400, 0, 0,
						   q.edns);
			conv_udp(s, &cv, DOWN, now + 1000 + (uint64_t)i * 1900000 / f->txflood_n, rb, rn,
				 &m);
		}
		name_addr4(q.qname, 0, a4);
		size_t rn = plain_response(rb, sizeof(rb), q.id, q.qname, QT_A, a4, 300, 0, 0, q.edns);
		conv_udp(s, &cv, DOWN, now + 1950000, rb, rn, &m);
	} else if (type == EV_UNSOL) {
		/* a reflection victim: large ANY/TXT answers from open resolvers, nothing asked */
		for (uint32_t i = 0; i < f->unsol_n; i++) {
			struct addr src = {0, {45, 90, (uint8_t)(28 + rng_below(&d->rng, 4)),
					       (uint8_t)(1 + rng_below(&d->rng, 250))}};
			struct conv cv;
			uint8_t rb[1500];
			conv_init(s, d, &cv, &src, ephemeral(d), 53, 14);
			uint16_t qt = rng_chance(&d->rng, 0.5) ? 255 : QT_TXT;
			size_t rn = plain_response(rb, sizeof(rb), (uint16_t)rng_next(&d->rng), "isc.org",
						   qt, NULL, 0, 0, 5, 1232);
			struct meta m = {.dev = d->idx, .cls = M_DNSR, .nmsg = 1, .res = -1};
			conv_udp(s, &cv, DOWN, now + (uint64_t)i * 30 * US / f->unsol_n, rb, rn, &m);
		}
	} else if (type == EV_SERVE) {
		/* the device answers DNS on port 53: to outside clients (an open resolver), or
		 * to LAN clients (a forwarder) */
		event_at(s, now + 10 * US + rng_below(&d->rng, 10) * US, EV_SERVE, d->idx, NULL);
		const struct segment *sg = &s->seg[d->seg];
		struct addr cli = {0, {0}};
		uint8_t cmac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00};
		struct l2 up, down;
		dev_l2(s, d, &up, &down);
		if (f->servedns == 1) {
			cli.a[0] = 185;
			cli.a[1] = 100;
			cli.a[2] = (uint8_t)rng_below(&d->rng, 256);
			cli.a[3] = (uint8_t)(1 + rng_below(&d->rng, 250));
		} else {
			memcpy(cli.a, sg->net4, 4);
			cli.a[3] = (uint8_t)(200 + rng_below(&d->rng, 4));
			cmac[5] = cli.a[3];
			down.src = cmac;   /* client → device */
			up.dst = cmac;     /* device → client */
		}
		snprintf(name, sizeof(name), "%s", f->servedns == 1 ? "isc.org" : "nas.home.arpa");
		struct dnsq q;
		memset(&q, 0, sizeof(q));
		q.qname = name;
		q.qtype = f->servedns == 1 ? 255 : QT_A;
		q.id = (uint16_t)rng_next(&d->rng);
		uint8_t qb[512], rb[1500], a4[4];
		size_t qn = dns_query(qb, sizeof(qb), &q);
		uint16_t cp = ephemeral(d);
		struct meta m = {.dev = -1, .cls = M_DNSQ, .nmsg = 1, .res = -1};
		udp_send(s, now, &down, &cli, &d->ip4, cp, 53, 50, qb, qn, &m);
		name_addr4(name, 0, a4);
		size_t rn = plain_response(rb, sizeof(rb), q.id, name, q.qtype, a4, 300, 0,
					   f->servedns == 1 ? 4 : 0, 0);
		m.cls = M_DNSR;
		udp_send(s, now + 800, &up, &d->ip4, &cli, 53, cp, 64, rb, rn, &m);
	}
}

/* Traffic the sensor ignores: P2P keep-alives of cameras, periodic NTP, ARP refreshes. */
static void on_noise(struct sim *s, struct device *d)
{
	event_at(s, s->now + 60 * US + rng_below(&d->rng, 240) * US, EV_NOISE, d->idx, NULL);
	struct addr dst = {0, {0}};
	name_addr4(d->hostname, 3, dst.a);
	if (d->kind == K_CAMERA) {
		struct conv cv;
		uint8_t p[44];
		conv_init(s, d, &cv, &dst, d->port_next, 32100, 12);
		p[0] = 0xf1;
		p[1] = 0x41;
		be16(p + 2, 40);
		rng_fill(&d->rng, p + 4, 40);
		conv_udp(s, &cv, UP, s->now, p, sizeof(p), NULL);
		p[1] = 0x42;
		conv_udp(s, &cv, DOWN, s->now + 30000 + rng_below(&d->rng, 20000), p, sizeof(p), NULL);
	} else {
		ntp_exchange(s, d, &dst, s->now);
	}
}

static void on_arp(struct sim *s, struct device *d)
{
	event_at(s, s->now + 900 * US + rng_below(&d->rng, 900) * US, EV_ARP, d->idx, NULL);
	arp_router(s, d, s->now);
	if (d->f.v6) {
		struct l2 up, down;
		dev_l2(s, d, &up, &down);
		ndp_ns(s, s->now + 5000, &up, d->mac, &d->gl6, &s->router_ll);
		ndp_na(s, s->now + 5400, &down, &s->router_ll, &d->gl6, s->router_mac, 1);
	}
}

/* Device start: DHCP (unless the lease predates the capture), IPv6 start-up, ARP, and the
 * first of each periodic activity. */
static void dev_start(struct sim *s, struct device *d)
{
	uint64_t t = (uint64_t)rng_below(&d->rng, 30000) * 1000 + 500000;
	if (d->f.dhcp)
		t = dhcp_exchange(s, d, t);
	else
		t += (uint64_t)rng_below(&d->rng, 30000) * 1000;
	arp_router(s, d, t);
	if (d->f.v6)
		event_at(s, t + 10000, EV_V6UP, d->idx, NULL);
	event_at(s, t + 200000 + rng_exp_us(&d->rng, 60.0 / d->f.rate), EV_LOOKUP, d->idx, NULL);
	event_at(s, t + (900 + rng_below(&d->rng, 900)) * US, EV_ARP, d->idx, NULL);
	if (d->f.mdns)
		event_at(s, t + rng_below(&d->rng, 10000) * 1000, EV_MDNS, d->idx, NULL);
	if (d->f.llmnr)
		event_at(s, t + rng_below(&d->rng, 60000) * 1000, EV_LLMNR, d->idx, NULL);
	if (d->f.noise)
		event_at(s, t + rng_below(&d->rng, 120000) * 1000, EV_NOISE, d->idx, NULL);
	if (d->f.dot || d->f.doh)
		event_at(s, t + 5 * US + rng_below(&d->rng, 60000) * 1000, EV_ENCDNS, d->idx, NULL);
	const struct flags *f = &d->f;
	if (f->burst_n)
		event_at(s, (uint64_t)f->burst_at * US, EV_BURST, d->idx, NULL);
	if (f->hammer_n)
		event_at(s, (uint64_t)f->hammer_at * US, EV_HAMMER, d->idx, NULL);
	if (f->txflood_n)
		event_at(s, (uint64_t)f->txflood_at * US, EV_TXFLOOD, d->idx, NULL);
	if (f->unsol_n)
		event_at(s, (uint64_t)f->unsol_at * US, EV_UNSOL, d->idx, NULL);
	if (f->tunnel_n)
		event_at(s, (uint64_t)f->tunnel_at * US, EV_TUNNEL, d->idx, NULL);
	if (f->servedns)
		event_at(s, t + 30 * US, EV_SERVE, d->idx, NULL);
	if (s->web_rate > 0)
		event_at(s, t + rng_exp_us(&d->rng, 60.0 / s->web_rate), EV_WEB, d->idx, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Ground truth                                                                                */

static void truth_count(struct sim *s, const struct meta *m)
{
	struct device *d = m->dev >= 0 ? &s->dev[m->dev] : NULL;
	if (m->frag) {
		s->g_frags++;
		if (m->frag_first)
			s->g_frag_dgrams++;
	}
	switch (m->cls) {
	case M_DNSQ:
		if (!d) {       /* queries to a device serving DNS: the client is no device */
			s->g_q_udp += m->nmsg;
			break;
		}
		for (int i = 0; i < m->nmsg; i++) {
			if (m->tcp) {
				d->q_tcp++;
				s->g_q_tcp++;
			} else {
				d->q_udp++;
				s->g_q_udp++;
			}
			d->q_opt += m->opt[i];
			d->q_do += m->dob[i];
			d->q_aaaa += m->aaaa[i];
			d->q_v6 += m->v6;
			if (m->res >= 0)
				d->q_by_res[m->res]++;
		}
		break;
	case M_DNSR:
		if (!d) {
			s->g_r_udp += m->nmsg;
			break;
		}
		for (int i = 0; i < m->nmsg; i++) {
			if (m->tcp) {
				d->r_tcp++;
				s->g_r_tcp++;
			} else {
				d->r_udp++;
				s->g_r_udp++;
			}
			d->r_tc += m->tc[i];
			s->g_tc += m->tc[i];
		}
		break;
	case M_MDNS:
		d->mdns++;
		s->g_mdns++;
		break;
	case M_LLMNR:
		d->llmnr++;
		s->g_llmnr++;
		break;
	case M_DHCP:
		s->g_dhcp++;
		if (d)
			d->dhcp_msgs++;
		break;
	case M_RA:
		s->g_ra++;
		break;
	default:
		break;
	}
}

static void json_str(FILE *f, const char *p)
{
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void mac_text(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Writes the ground truth as JSON (keys in a fixed order). What is counted is stated in the
 * "counting" object of the file itself, so a reader of the JSON needs no other document. */
static void truth_write(struct sim *s)
{
	FILE *f = fopen(s->truth_path, "w");
	char a[64];
	if (!f)
		die("%s: cannot write: %s", s->truth_path, strerror(errno));
	fprintf(f, "{\n  \"generator\": \"swgen\",\n  \"format\": 1,\n  \"seed\": %" PRIu64 ",\n",
		s->seed);
	fprintf(f, "  \"counting\": {\n"
		"    \"dns_query\": \"one DNS message with QR=0 sent by the device to UDP or TCP port 53 "
		"(unicast); every retransmission counts; a TCP segment carrying two messages counts two; "
		"a message split over segments counts once\",\n"
		"    \"dns_response\": \"one DNS message with QR=1 from port 53 to the device, TC=1 "
		"responses included; an IP-fragmented response counts once\",\n"
		"    \"opt_aaaa_do_ipv6_by_resolver\": \"subsets of dns queries (UDP and TCP together)\",\n"
		"    \"mdns_llmnr\": \"messages sent by the device to 5353 / 5355 (multicast), over IPv4 "
		"and IPv6 separately; never counted as DNS queries\",\n"
		"    \"dhcp\": \"DHCPv4 messages to or from the device (DISCOVER, OFFER, REQUEST, ACK)\",\n"
		"    \"ip_fragments\": \"frames that are IP fragments; fragmented_datagrams: datagrams "
		"split\",\n"
		"    \"scope\": \"only packets present in the file (after --packets / --duration cuts); "
		"DoT and DoH carry no countable DNS\"\n  },\n");
	fprintf(f, "  \"epoch\": %llu,\n  \"duration_s\": %.6f,\n", (unsigned long long)SW_EPOCH,
		s->end_us == UINT64_MAX ? -1.0 : (double)s->end_us / 1e6);
	if (s->down_end > s->down_start)
		fprintf(f, "  \"resolver_down\": [%.3f, %.3f],\n", (double)s->down_start / 1e6,
			(double)s->down_end / 1e6);
	fprintf(f, "  \"packets\": %" PRIu64 ",\n", s->written);
	fprintf(f, "  \"router\": {\"mac\": ");
	mac_text(s->router_mac, a);
	json_str(f, a);
	addr_text(&s->router_ll, a, sizeof(a));
	fprintf(f, ", \"ipv6_ll\": \"%s\", \"segments\": [", a);
	for (int g = 0; g < s->n_seg; g++) {
		char b6[64];
		addr_text(&s->seg[g].gw4, a, sizeof(a));
		addr_text(&s->seg[g].gw6, b6, sizeof(b6));
		fprintf(f, "%s{\"vlan\": %u, \"svlan\": %u, \"ipv4\": \"%s\", \"prefix4\": %d, "
			"\"ipv6\": \"%s\"}", g ? ", " : "", s->seg[g].vlan, s->seg[g].qinq, a,
			s->seg[g].prefix4, b6);
	}
	fprintf(f, "]},\n");
	fprintf(f, "  \"global\": {\"dns_udp_queries\": %" PRIu64 ", \"dns_udp_responses\": %" PRIu64
		", \"dns_tcp_queries\": %" PRIu64 ", \"dns_tcp_responses\": %" PRIu64
		", \"tc_responses\": %" PRIu64 ", \"ip_fragments\": %" PRIu64
		", \"fragmented_datagrams\": %" PRIu64 ", \"dhcp_messages\": %" PRIu64
		", \"router_advertisements\": %" PRIu64 ", \"mdns_messages\": %" PRIu64
		", \"llmnr_messages\": %" PRIu64 "},\n",
		s->g_q_udp, s->g_r_udp, s->g_q_tcp, s->g_r_tcp, s->g_tc, s->g_frags, s->g_frag_dgrams,
		s->g_dhcp, s->g_ra, s->g_mdns, s->g_llmnr);
	fprintf(f, "  \"devices\": [\n");
	for (int i = 0; i < s->n_dev; i++) {
		struct device *d = &s->dev[i];
		const struct flags *fl = &d->f;
		mac_text(d->mac, a);
		fprintf(f, "    {\"index\": %d, \"mac\": \"%s\", \"vlan\": %u, \"svlan\": %u, "
			"\"kind\": \"%s\", \"vendor\": ", i, a, s->seg[d->seg].vlan, s->seg[d->seg].qinq,
			kind_names[d->kind]);
		json_str(f, d->vendor->name);
		fprintf(f, ", \"hostname\": ");
		json_str(f, d->hostname);
		addr_text(&d->ip4, a, sizeof(a));
		fprintf(f, ", \"ipv4\": \"%s\", \"ipv6\": [", a);
		if (fl->v6) {
			addr_text(&d->ll6, a, sizeof(a));
			fprintf(f, "\"%s\", ", a);
			addr_text(&d->gl6, a, sizeof(a));
			fprintf(f, "\"%s\"", a);
		}
		fprintf(f, "],\n     \"flags\": {\"txid\": \"%s\", \"ports\": \"%s\", \"resolver\": ",
			txid_names[fl->txid], port_names[fl->ports]);
		if (fl->has_resolver) {
			addr_text(&fl->resolver, a, sizeof(a));
			fprintf(f, "\"%s\"", a);
		} else {
			fprintf(f, "\"assigned\"");
		}
		fprintf(f, ", \"fallback\": ");
		if (fl->has_fallback) {
			addr_text(&fl->fallback, a, sizeof(a));
			fprintf(f, "\"%s\"", a);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ", \"edns\": %u, \"do\": %u, \"cookie\": %u, \"aaaa\": %u, \"v6\": %u, "
			"\"ttl\": \"%s\", \"requery\": %u, \"storm\": %u, \"tcp_fallback\": %u, "
			"\"tcp\": %u, \"rate\": %g, \"dhcp\": %u, \"mdns\": %u, \"llmnr\": %u, "
			"\"dot\": %u, \"doh\": %u, \"noise\": %u, \"negcache\": %u, \"stale\": %u, "
			"\"longconn\": %u, \"race\": %u, \"duprr\": %u, \"replyflood\": %u, "
			"\"servedns\": %u, \"burst\": %u, \"hammer\": %u, \"txflood\": %u, "
			"\"unsolicited\": %u, \"tunnel\": %u},\n",
			fl->edns, fl->do_bit && fl->edns, fl->cookie && fl->edns, fl->aaaa, fl->v6,
			fl->ttl_ignore ? "ignore" : fl->ttl_prefetch ? "prefetch" : "honour", fl->requery, fl->storm, fl->tcp_fallback,
			fl->tcp_pct, fl->rate, fl->dhcp, fl->mdns, fl->llmnr, fl->dot, fl->doh, fl->noise, fl->negcache, fl->stale, fl->longconn, fl->race, fl->duprr,
			fl->replyflood, fl->servedns, fl->burst_n, fl->hammer_n, fl->txflood_n, fl->unsol_n,
			fl->tunnel_n);
		fprintf(f, "     \"dns\": {\"udp_queries\": %" PRIu64 ", \"tcp_queries\": %" PRIu64
			", \"udp_responses\": %" PRIu64 ", \"tcp_responses\": %" PRIu64
			", \"tc_responses\": %" PRIu64 ", \"queries_with_opt\": %" PRIu64
			", \"queries_with_do\": %" PRIu64 ", \"aaaa_queries\": %" PRIu64
			", \"queries_over_ipv6\": %" PRIu64 ", \"queries_by_resolver\": {",
			d->q_udp, d->q_tcp, d->r_udp, d->r_tcp, d->r_tc, d->q_opt, d->q_do, d->q_aaaa,
			d->q_v6);
		int first = 1;
		for (int r = 0; r < s->n_res; r++)
			if (d->q_by_res[r]) {
				fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", s->res[r].text,
					d->q_by_res[r]);
				first = 0;
			}
		fprintf(f, "}},\n     \"mdns_messages\": %" PRIu64 ", \"llmnr_messages\": %" PRIu64
			", \"dhcp_messages\": %" PRIu64 "}%s\n", d->mdns, d->llmnr, d->dhcp_msgs,
			i + 1 < s->n_dev ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0)
		die("%s: write failed", s->truth_path);
}

/* ------------------------------------------------------------------------------------------ */
/* Populations: default, --demo, --bench                                                       */

/* The --demo home network: device index → kind, vendor and (mis)behaviour. */
static const char *const demo_devices[] = {
	"0:kind=camera,vendor=Hikvision,txid=zero,ports=narrow,rate=5,edns=none,aaaa=0,v6=0,dhcp=1",
	"1:kind=plug,vendor=TP-Link,resolver=8.8.8.8,edns=none,aaaa=0,v6=0,dhcp=1",
	"2:kind=bulb,vendor=Espressif,edns=none,aaaa=0,v6=0,dhcp=1",
	"3:kind=hub,vendor=Philips,ttl=ignore,requery=60,rate=6,edns=1232,v6=0,dhcp=1",
	"4:kind=speaker,vendor=Amazon,storm=1,edns=1232,aaaa=1,v6=0,dhcp=1",
	"5:kind=tv,vendor=Samsung,tcp_fallback=0,edns=1232,aaaa=1,v6=0,dhcp=1",
	"6:kind=thermostat,vendor=Nest,dhcp=0,edns=none,aaaa=0,v6=0",
	"7:kind=printer,vendor=HP,edns=none,aaaa=0,v6=0,mdns=1,dhcp=1",
	"8:kind=laptop,vendor=Apple,edns=4096,do=1,cookie=1,aaaa=1,v6=1,tcp=10,dhcp=1",
	"9:kind=phone,vendor=Apple,dot=1,edns=1232,aaaa=1,v6=1,dhcp=1",
	"10:kind=phone,vendor=Samsung,doh=1,edns=1232,aaaa=1,v6=0,dhcp=1",
	"11:kind=camera,vendor=Xiaomi,txid=sequential,ports=sequential,rate=5,vlan=20,edns=none,aaaa=0,v6=0,dhcp=1",
	"12:kind=plug,vendor=Espressif,fallback=1.1.1.1,vlan=20,edns=none,aaaa=0,v6=0,dhcp=1",
	"13:kind=speaker,vendor=Sonos,v6=1,edns=1232,aaaa=1,dhcp=1",
	"14:kind=speaker,vendor=Google,edns=1232,cookie=1,aaaa=1,v6=0,dhcp=1",
	"15:kind=bulb,vendor=Xiaomi,txid=constant,ports=fixed,rate=3,edns=none,aaaa=0,v6=0,dhcp=1",
	"16:kind=hub,vendor=Samsung,v6=2,aaaa=0,rate=8,edns=512,dhcp=1",
	"17:kind=laptop,vendor=Intel,llmnr=1,vlan=30,qinq=100,edns=1232,aaaa=1,v6=0,dhcp=1",
	"18:kind=thermostat,vendor=Espressif,edns=4096,do=1,aaaa=0,v6=0,dhcp=1",
	"19:kind=tv,vendor=Google,v6=1,mdns=1,edns=1232,aaaa=1,dhcp=1",
};
#define N_DEMO ((int)(sizeof(demo_devices) / sizeof(demo_devices[0])))

static enum kind random_kind(struct rng *r)
{
	/* a typical home: more plugs, bulbs and phones than printers */
	static const uint8_t w[K_COUNT] = {2, 3, 3, 2, 1, 1, 1, 1, 2, 3};
	uint32_t x = rng_below(r, 19);
	for (int k = 0; k < K_COUNT; k++) {
		if (x < w[k])
			return (enum kind)k;
		x -= w[k];
	}
	return K_PLUG;
}

static void population(struct sim *s, char **overrides, int n_over)
{
	s->dev = xcalloc((size_t)s->n_dev, sizeof(*s->dev));
	for (int i = 0; i < s->n_dev; i++) {
		struct device *d = &s->dev[i];
		d->idx = i;
		rng_seed(&d->rng, s->seed, (uint64_t)i + 1);
		d->kind = K_COUNT;
		dev_defaults(s, d, random_kind(&s->rng));
		if (s->bench) {
			struct flags *f = &d->f;
			f->noise = f->mdns = f->llmnr = f->dot = f->doh = 0;
			f->tcp_pct = 0;
			f->ttl_ignore = 1;
			f->requery = 30;
			f->rate = 20;
		}
	}
	if (s->demo)
		for (int i = 0; i < N_DEMO && i < s->n_dev; i++)
			dev_override(s, demo_devices[i]);
	for (int i = 0; i < n_over; i++)
		dev_override(s, overrides[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* Command line                                                                                */

static void usage(FILE *f)
{
	fprintf(f,
"usage: swgen -o FILE [options]\n"
"Writes a deterministic pcap (classic format, Ethernet, microseconds) of a home/office IoT\n"
"network for stubwatch: DHCP, RA (RDNSS/DNSSL), ARP/NDP, DNS over UDP/TCP/IPv6, EDNS(0),\n"
"TC=1 and TCP retry, IP fragments, mDNS, LLMNR, DoT/DoH TLS ClientHellos, NTP/HTTP(S) noise.\n"
"Capture time starts at 2026-01-15T10:00:00Z. Same arguments give the same bytes.\n"
"\n"
"  -o, --output FILE        pcap to write (required)\n"
"  --seed N                 PRNG seed (default 1)\n"
"  --devices N              number of devices (default 20; 2000 with --bench)\n"
"  --duration SEC           simulated seconds (default 3600; unbounded when only\n"
"                           --packets is given, or with --bench)\n"
"  --packets N              stop after exactly N packets (--bench: 2000000)\n"
"  --demo                   the demo home network (20 devices, 1 hour, misbehaviours,\n"
"                           resolver down 1800-2100 s)\n"
"  --bench                  benchmark capture: >= 90%% DNS, 2000 devices, few names\n"
"  --device 'IDX:k=v,...'   set flags of device IDX (repeatable; applied last)\n"
"  --truth FILE             write ground-truth counts as JSON\n"
"  --vlan-share F           fraction of devices on VLANs 20 (IoT) / 30 (people) (default 0.2)\n"
"  --v6-share F             fraction of IoT devices with IPv6 (default 0.3; x2 for people)\n"
"  --qinq SVID              put an 802.1ad outer tag SVID on every VLAN-tagged device\n"
"  --resolver-down S:E      the router's resolver does not answer from S to E seconds\n"
"  --no-dhcp                no DHCP in the capture (all leases predate it)\n"
"  --web N                  N web sessions per device per minute (default 0): HTTPS over\n"
"                           TCP 443 or QUIC over UDP 443 to web sites that are not\n"
"                           resolved in the capture (a mirror port's bulk traffic)\n"
"  --web-bulk N             up to N packets of 1.2-1.4 kB downstream a web session\n"
"                           (default 40; 0: handshakes and one request only)\n"
"  -h, --help               this text\n"
"\n"
"Device keys (--device): kind=camera|plug|bulb|speaker|hub|tv|thermostat|printer|laptop|phone\n"
"  (resets the device to that kind's defaults, so it is applied first), vendor=NAME,\n"
"  txid=zero|constant|sequential|random, ports=fixed|sequential|narrow|random (narrow: a\n"
"  64-port window), resolver=IP|assigned (hard-coded resolver), fallback=IP|none (used only\n"
"  after the assigned resolver fails a lookup, for 300 s), edns=none|SIZE, do=0|1,\n"
"  cookie=0|1, aaaa=0|1, v6=0|1|2 (0 IPv4 only; 1 dual-stack, half of the DNS over IPv6;\n"
"  2 has IPv6 but DNS over IPv4 only), ttl=honour|ignore, requery=SEC (cache lifetime with\n"
"  ttl=ignore, default 60), storm=0|1 (on failure re-ask every 0.5 s with a new ID for up to\n"
"  300 s, no back-off), tcp_fallback=0|1 (retry over TCP after TC=1), tcp=PERCENT (lookups\n"
"  sent over TCP from the start, A+AAAA in one segment), vlan=N, qinq=SVID, rate=PER_MIN\n"
"  (application lookups per minute; cache hits send nothing), dhcp=0|1 (0: lease predates\n"
"  the capture), mdns=0|1, llmnr=0|1, dot=0|1, doh=0|1, noise=0|1.\n"
"Caching, rate and failure misbehaviours (off by default):\n"
"  ttl=prefetch (keeps answers for 0.9 x TTL: asks again just before expiry),\n"
"  storm=backoff (on failure re-asks with a new ID after 0.5 s, doubling up to 60 s),\n"
"  negcache=0 (NXDOMAIN/NODATA not cached), stale=1 (an A answer expired 65 s or more is\n"
"  reused unasked: TCP SYN + TLS to the old address), longconn=1 (one TLS connection to its\n"
"  first answer, kept alive every 30 s), burst=N@SEC (N distinct names within 20 s at SEC:\n"
"  a firmware update), hammer=N@SEC (one name, TTL 10 s, N times within 50 s).\n"
"Integrity and exposure misbehaviours (off by default):\n"
"  race=PERCENT (answered A lookups that also get a forged answer from MAC\n"
"  02:66:6f:72:67:65, same server IP/ports/ID, address 185.220.101.x, TTL 86400, IP TTL 57,\n"
"  0.8 ms before or 0.4 ms after the real one), txflood=N@SEC (a query, then N answers with\n"
"  wrong IDs to its port from the resolver's address within 2 s, then the real answer),\n"
"  unsolicited=N@SEC (N ~1.3 kB ANY/TXT answers from 45.90.28-31.x over 30 s, nothing\n"
"  asked), duprr=1|2 (1: first A RR twice; 2: one more A RR with TTL + 300 s),\n"
"  replyflood=N (10%% of answered lookups get N more copies of the answer),\n"
"  servedns=outside|local (answers DNS every 10-20 s: ANY isc.org from 185.100.x.x, or A\n"
"  nas.home.arpa from LAN clients .200-.203 with MACs 02:00:00:00:00:c8-cb),\n"
"  tunnel=N@SEC (N TXT queries, one per 2 s, for 52+20-char base32 labels under\n"
"  t.exfil-cdn.net, answered NXDOMAIN).\n"
"Well-behaved stubs retry an unanswered query with the same ID and port after 1, 2, 4 s,\n"
"then give up after another 4 s.\n");
}

static uint64_t arg_u64(const char *opt, const char *v, uint64_t lo, uint64_t hi)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		die("%s: expected an integer in %" PRIu64 "..%" PRIu64 ", got '%s'", opt, lo, hi, v);
	return x;
}

static double arg_frac(const char *opt, const char *v)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !(x >= 0 && x <= 1))
		die("%s: expected a fraction 0..1, got '%s'", opt, v);
	return x;
}

static void dispatch(struct sim *s, struct event *e)
{
	struct device *d = e->type == EV_RA ? NULL : &s->dev[e->dev];
	switch (e->type) {
	case EV_LOOKUP:
		on_lookup(s, d);
		break;
	case EV_SEND:
		on_send(s, e->lk);
		break;
	case EV_TCPDNS:
		dns_tcp(s, &e->lk, 1, s->now);
		break;
	case EV_V6UP:
		on_v6up(s, d);
		break;
	case EV_RA:
		router_ra(s, e->dev, s->now);
		event_at(s, s->now + 170 * US + rng_below(&s->rng, 60) * US, EV_RA, e->dev, NULL);
		break;
	case EV_MDNS:
		on_mdns(s, d);
		break;
	case EV_LLMNR:
		on_llmnr(s, d);
		break;
	case EV_NOISE:
		on_noise(s, d);
		break;
	case EV_ARP:
		on_arp(s, d);
		break;
	case EV_ENCDNS:
		on_encdns(s, d);
		break;
	case EV_WEB:
		on_web(s, d);
		break;
	case EV_BURST:
	case EV_HAMMER:
	case EV_TXFLOOD:
	case EV_UNSOL:
	case EV_SERVE:
	case EV_TUNNEL:
		on_special(s, d, e->type);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	static struct sim sim;
	struct sim *s = &sim;
	char *over[256];
	int n_over = 0, have_dur = 0, have_pk = 0, have_dev = 0, have_vs = 0;
	uint64_t dur = 3600;
	s->seed = 1;
	s->n_dev = 20;
	s->vlan_share = 0.2;
	s->v6_share = 0.3;
	s->max_packets = UINT64_MAX;
	s->web_bulk = 40;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--demo")) {
			s->demo = 1;
			takes = 0;
		} else if (!strcmp(a, "--bench")) {
			s->bench = 1;
			takes = 0;
		} else if (!strcmp(a, "--no-dhcp")) {
			s->no_dhcp = 1;
			takes = 0;
		}
		if (!takes)
			continue;
		if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--seed") ||
		    !strcmp(a, "--devices") || !strcmp(a, "--duration") || !strcmp(a, "--packets") ||
		    !strcmp(a, "--device") || !strcmp(a, "--truth") || !strcmp(a, "--vlan-share") ||
		    !strcmp(a, "--v6-share") || !strcmp(a, "--resolver-down") || !strcmp(a, "--qinq") ||
		    !strcmp(a, "--web") || !strcmp(a, "--web-bulk")) {
			if (!v)
				die("%s needs a value (see --help)", a);
			i++;
		} else {
			die("unknown option '%s' (see --help)", a);
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			s->out_path = v;
		} else if (!strcmp(a, "--seed")) {
			s->seed = arg_u64(a, v, 0, UINT64_MAX);
		} else if (!strcmp(a, "--devices")) {
			s->n_dev = (int)arg_u64(a, v, 1, 60000); /* MAC holds the index in 16 bits */
			have_dev = 1;
		} else if (!strcmp(a, "--duration")) {
			dur = arg_u64(a, v, 1, 365ULL * 86400);
			have_dur = 1;
		} else if (!strcmp(a, "--packets")) {
			s->max_packets = arg_u64(a, v, 1, UINT64_MAX);
			have_pk = 1;
		} else if (!strcmp(a, "--device")) {
			if (n_over == (int)(sizeof(over) / sizeof(over[0])))
				die("too many --device options");
			over[n_over++] = argv[i];
		} else if (!strcmp(a, "--truth")) {
			s->truth_path = v;
		} else if (!strcmp(a, "--vlan-share")) {
			s->vlan_share = arg_frac(a, v);
			have_vs = 1;
		} else if (!strcmp(a, "--v6-share")) {
			s->v6_share = arg_frac(a, v);
		} else if (!strcmp(a, "--web")) {
			s->web_rate = (double)arg_u64(a, v, 0, 6000);
		} else if (!strcmp(a, "--web-bulk")) {
			s->web_bulk = (int)arg_u64(a, v, 0, 100000);
		} else if (!strcmp(a, "--qinq")) {
			s->qinq_all = (uint16_t)arg_u64(a, v, 1, 4094);
		} else if (!strcmp(a, "--resolver-down")) {
			double st, en;
			char tail;
			if (sscanf(v, "%lf:%lf%c", &st, &en, &tail) != 2 || st < 0 || en <= st)
				die("--resolver-down: expected START:END seconds, START < END, got '%s'", v);
			s->down_start = (uint64_t)(st * 1e6);
			s->down_end = (uint64_t)(en * 1e6);
		}
	}
	if (!s->out_path)
		die("no output file: use -o FILE (see --help)");
	if (s->demo && s->bench)
		die("--demo and --bench exclude each other");
	if (s->demo) {
		if (!have_vs)
			s->vlan_share = 0;
		if (!have_dev)
			s->n_dev = N_DEMO;
		if (s->down_end == 0) {
			s->down_start = 1800 * US;
			s->down_end = 2100 * US;
		}
	}
	if (s->bench) {
		if (!have_dev)
			s->n_dev = 2000;
		if (!have_pk)
			s->max_packets = 2000000;
	}
	s->end_us = have_dur || !(have_pk || s->bench) ? dur * US : UINT64_MAX;
	rng_seed(&s->rng, s->seed, 0);
	population(s, over, n_over);
	net_setup(s);

	s->out = fopen(s->out_path, "wb");
	if (!s->out)
		die("%s: cannot open for writing: %s", s->out_path, strerror(errno));
	static char obuf[1 << 20];
	setvbuf(s->out, obuf, _IOFBF, sizeof(obuf));
	pcap_header(s);
	for (int g = 0; g < s->n_seg; g++)
		event_at(s, (uint64_t)rng_below(&s->rng, 20000) * 1000, EV_RA, g, NULL);
	for (int i = 0; i < s->n_dev; i++)
		dev_start(s, &s->dev[i]);
	while (s->heap_n && !s->stop) {
		struct hitem it = heap_pop(s);
		if (it.is_frame) {
			struct frame *f = it.p;
			if (it.t < s->end_us)
				frame_write(s, it.t, f);
			f->next = s->free_frames;
			s->free_frames = f;
		} else {
			struct event *e = it.p;
			s->now = it.t;
			dispatch(s, e);
			e->next = s->free_events;
			s->free_events = e;
		}
	}
	if (fclose(s->out) != 0)
		die("%s: write failed", s->out_path);
	if (have_pk && s->written < s->max_packets)
		fprintf(stderr, "swgen: note: simulated time ended after %" PRIu64 " of %" PRIu64
			" packets\n", s->written, s->max_packets);
	if (s->truth_path)
		truth_write(s);
	return 0;
}
