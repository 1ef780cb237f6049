/* workers.c — the reader's shard choice, the frame rings and the worker
 * threads (see workers.h for what goes where and why).
 *
 * RFC 2131 §2 (DHCP chaddr), RFC 8415 §7.2 (DHCPv6 ports), RFC 4861 §4
 * (RA, NS, NA), RFC 1035 §4.1.1 (QR), RFC 8200 §4 (IPv6 extension headers).
 *
 * A ring is a byte buffer of records (a 48-byte header, the frame, padding
 * to 32 bytes); a record that would cross the end is preceded by a filler
 * that takes the rest of the buffer. The reader writes records and then
 * `tail`; the worker reads `tail`, the records, and writes `head` once it
 * is done with a record's bytes (the engine reads the frame in place).
 * Sleeping: a side with nothing to do raises its flag under the ring's
 * mutex, re-checks and waits, never longer than WK_NAP_US. The reader looks
 * at a worker's flag after a fence, every WK_WAKE_BATCH frames and after
 * each capture batch, so it never misses a sleeping worker it should
 * wake; a worker's signal to a reader waiting for room may be missed (no
 * fence on that path, which is every record) and is made up by the
 * reader's own next look.
 */
#include "pipeline/workers.h"
#include "pipeline/pipeline_int.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/log.h"
#include "common/rd.h"

/* Bytes of each worker's ring: about 30,000 DNS-sized frames, or 10 ms of
 * a 3 Mpkt/s feed, enough to ride out a worker's slow moment (a device
 * event, a table sweep) without drops. Pages are touched only as the ring
 * wraps round, once. */
#define WK_RING_BYTES (4u << 20)
#define WK_ALIGN 32

/* Events each worker's lane holds before its worker waits (replay) or
 * drops (live): a few milliseconds of the busiest worker's output. */
#define WK_LANE_EVENTS 8192

/* The reader wakes a sleeping worker once this many frames wait for it
 * (and after each capture batch, wk_flush), not for every frame. */
#define WK_WAKE_BATCH 1024

/* Looks at an empty ring this many times before sleeping: a worker that
 * keeps up with the reader sleeps and wakes less. */
#define WK_SPIN 256

/* Longest sleep of a worker on an empty ring, or of the reader on a full
 * one, between looks. */
#define WK_NAP_US 1000

enum { M_FRAME = 1, M_TICK, M_RULES, M_FINISH, M_WRAP };

/* How a worker takes a frame that is not its own (wk_hdr.muted): a
 * shared one it only learns from (events and counters are the owner's),
 * or a DNS answer its device sent to another worker's (events are its
 * own, counters the asking device's worker's). */
enum { MUTED = 1, SERVER_COPY = 2 };

/* A filler writes only the first two members, which fit in WK_ALIGN. */
struct wk_hdr {
	uint32_t size;       /* bytes of the record, this header included */
	uint8_t kind;        /* M_* */
	uint8_t muted;       /* 0, MUTED or SERVER_COPY */
	int16_t link;
	uint32_t caplen, wirelen;
	uint64_t seq;        /* the reader's number of this message */
	uint64_t ts;         /* packet time */
	uint64_t now;        /* the newest packet time read so far, of any worker */
	uint64_t pad;
};
_Static_assert(sizeof(struct wk_hdr) == 48, "a ring record header is 48 bytes");

struct worker {
	/* Reader side. */
	_Alignas(64) _Atomic uint64_t tail;
	uint64_t head_seen;           /* the reader's last look at head */
	uint64_t given;               /* seq of the last message given */
	uint64_t pending;             /* frames given since the last wake-up */
	uint64_t dropped;             /* frames lost to a full ring (live) */
	/* Worker side. */
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t done;        /* seq of the last message finished */
	_Alignas(64) uint8_t *buf;
	struct wk_set *w;
	unsigned index;
	struct engine *e;
	struct out *lane_out;
	struct out_mlane *lane;
	struct out *mute;             /* where a muted frame's events go: nowhere */
	pthread_t thread;
	int started;
	double cpu_s;                 /* the thread's CPU time, at its end */
	atomic_int wk_waiting;        /* the worker sleeps on an empty ring */
	atomic_int rd_waiting;        /* the reader sleeps on a full ring */
	pthread_mutex_t mu;
	pthread_cond_t cv_in, cv_room;
};

struct wk_set {
	const struct sw_config *cfg;
	struct out *out;
	struct out_merge *merge;
	struct out_mlane *rlane;      /* the reader's own lane: stats */
	unsigned n;
	int replay;
	struct worker *wk;
	struct engine **es;
	uint64_t seq;                 /* last message number handed out */
	uint64_t now, next_tick, next_stats;
	struct cap_stats cap;
	int started;
	double cpu0_s;                /* the reader's CPU time at wk_start */
	uint64_t *senders;            /* WK_SENDERS MACs that asked DNS (mac_u64) */
	uint64_t last_sender;         /* the last one learnt: most queries repeat it */
	uint64_t senders_full;        /* query senders not learnt: no slot */
};

/* ---- which worker: the device side of a frame ------------------------- */

/* What the reader learnt of a frame: the device's MAC or address (key,
 * klen 0: none, worker 0 takes it), and whether every worker must see it. */
struct route {
	uint8_t key[16];
	unsigned klen;
	int all;
	int dns_qr;          /* a DNS message over UDP: 0 query, 1 response; else -1 */
	uint8_t smac[6];     /* the sender's MAC, when it is a unicast one ... */
	int has_smac;        /* ... (an Ethernet frame) */
};

#define ETH_IPV4 0x0800
#define ETH_ARP 0x0806
#define ETH_IPV6 0x86dd

static int mac_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

/* The device is the sender (src = 1) or the receiver. A group receiver is
 * no device: then the sender's worker takes the frame. */
static void pick(struct route *rt, int src, int has_mac, const uint8_t *smac,
		 const uint8_t *dmac, const uint8_t *sip, const uint8_t *dip)
{
	if (has_mac) {
		const uint8_t *m = src || mac_group(dmac) ? smac : dmac;
		memcpy(rt->key, m, 6);
		rt->klen = 6;
	} else {
		memcpy(rt->key, src ? sip : dip, 16);
		rt->klen = 16;
	}
}

/* The side a transport flow's device is on: DNS by the QR bit (a query's
 * sender, a response's receiver: the engine's own attribution, pl_dns_*),
 * mDNS and LLMNR by the sender, DHCP by chaddr (DHCPv4 server replies) or
 * the client port, anything else by the higher port (the client's
 * ephemeral one; the sender when equal). Returns src (1) or dst (0);
 * sets *all for DHCP. `chaddr` is set to the DHCPv4 client MAC when the
 * device is named there. */
static int l4_side(uint8_t proto, struct rd *r, int *all, const uint8_t **chaddr,
		   int *dns_qr)
{
	uint16_t sp = rd_u16(r), dp = rd_u16(r);
	if (r->err)
		return 1;
	if (proto == 17) {
		rd_skip(r, 4);   /* length, checksum */
		if ((sp == 67 && dp == 68) || (sp == 68 && dp == 67)) {
			*all = 1;
			struct rd b = *r;
			uint8_t op = rd_u8(&b), htype = rd_u8(&b), hlen = rd_u8(&b);
			rd_skip(&b, 25);
			const uint8_t *ch = rd_ptr(&b, 6);
			if (!b.err && op == 2 && htype == 1 && hlen == 6)
				*chaddr = ch;
			return 1;
		}
		if ((sp == 546 && dp == 547) || (sp == 547 && dp == 546)) {
			*all = 1;
			return sp == 546;
		}
		if (sp == 53 || dp == 53) {
			struct rd b = *r;
			rd_skip(&b, 2);
			uint8_t flags = rd_u8(&b);
			if (b.err)
				return dp == 53;
			*dns_qr = (flags & 0x80) != 0;
			return !(flags & 0x80);
		}
		if (sp == 5353 || dp == 5353 || sp == 5355 || dp == 5355)
			return 1;
	} else if (proto == 6 && (sp == 53 || dp == 53)) {
		return sp != 53;
	}
	return sp >= dp;
}

/* Reads the frame as far as its device: link, VLAN tags, IPv4/IPv6 with
 * their extension headers, the transport ports. A frame that does not
 * parse goes to worker 0, whose engine counts its anomaly. */
static void route_frame(int link, const uint8_t *f, uint32_t caplen, struct route *rt)
{
	struct rd r;
	uint8_t smac[6] = { 0 }, dmac[6] = { 0 };
	uint8_t sip[16], dip[16];
	int has_mac = 0;
	uint16_t type;

	memset(rt, 0, sizeof(*rt));
	rt->dns_qr = -1;
	rd_init(&r, f, caplen);
	switch (link) {
	case DEC_LINK_ETHERNET:
		rd_copy(&r, dmac, 6);
		rd_copy(&r, smac, 6);
		type = rd_u16(&r);
		has_mac = 1;
		break;
	case DEC_LINK_SLL: {
		rd_skip(&r, 4);
		uint16_t alen = rd_u16(&r);
		rd_copy(&r, smac, 6);
		rd_skip(&r, 2);
		type = rd_u16(&r);
		has_mac = alen == 6;   /* as the decoder: the sender's address only */
		break;
	}
	case DEC_LINK_SLL2: {
		type = rd_u16(&r);
		rd_skip(&r, 9);
		uint8_t alen = rd_u8(&r);
		rd_copy(&r, smac, 6);
		rd_skip(&r, 2);
		has_mac = alen == 6;
		break;
	}
	case DEC_LINK_NULL:
	case DEC_LINK_LOOP:
		rd_skip(&r, 4);
		/* fall through */
	case DEC_LINK_RAW:
	case DEC_LINK_RAW_LT:
	case DEC_LINK_IPV4:
	case DEC_LINK_IPV6: {
		struct rd peek = r;
		type = (rd_u8(&peek) >> 4) == 6 ? ETH_IPV6 : ETH_IPV4;
		break;
	}
	default:
		return;
	}
	for (int i = 0; i < 8 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); i++) {
		rd_skip(&r, 2);
		type = rd_u16(&r);
	}
	if (r.err)
		return;
	if (type == ETH_ARP) {
		rt->all = 1;
		pick(rt, 1, has_mac, smac, dmac, NULL, NULL);
		if (!has_mac)
			rt->klen = 0;
		return;
	}
	uint8_t proto;
	int frag = 0;
	if (type == ETH_IPV4) {
		uint8_t vihl = rd_u8(&r);
		rd_skip(&r, 5);
		uint16_t fo = rd_u16(&r);
		rd_skip(&r, 1);
		proto = rd_u8(&r);
		rd_skip(&r, 2);
		uint8_t v4[4];
		rd_copy(&r, v4, 4);
		ip_from_v4(sip, v4);
		rd_copy(&r, v4, 4);
		ip_from_v4(dip, v4);
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		if (r.err || ihl < 20)
			return;
		rd_skip(&r, ihl - 20);
		frag = (fo & 0x3fff) != 0;   /* MF or an offset (RFC 791 §3.1) */
	} else if (type == ETH_IPV6) {
		rd_skip(&r, 6);
		proto = rd_u8(&r);
		rd_skip(&r, 1);
		rd_copy(&r, sip, 16);
		rd_copy(&r, dip, 16);
		for (int i = 0; i < 8 && !r.err; i++) {
			if (proto == 0 || proto == 43 || proto == 60) {
				proto = rd_u8(&r);
				rd_skip(&r, (size_t)rd_u8(&r) * 8 + 6);
			} else if (proto == 44) {
				frag = 1;
				break;
			} else {
				break;
			}
		}
	} else {
		/* Other EtherTypes: the sender's worker counts them. */
		pick(rt, 1, has_mac, smac, dmac, NULL, NULL);
		if (!has_mac)
			rt->klen = 0;
		return;
	}
	if (r.err)
		return;
	if (frag) {
		/* Fragmented datagrams are nearly always DNS answers too big
		 * for one packet: the receiver's, every fragment alike, so that
		 * one worker reassembles them. */
		pick(rt, 0, has_mac, smac, dmac, sip, dip);
		return;
	}
	int src = 1;
	if (proto == 17 || proto == 6) {
		const uint8_t *chaddr = NULL;
		src = l4_side(proto, &r, &rt->all, &chaddr, &rt->dns_qr);
		if (chaddr != NULL && has_mac) {
			memcpy(rt->key, chaddr, 6);
			rt->klen = 6;
			return;
		}
	} else if (proto == 58) {
		uint8_t t = rd_u8(&r);
		/* RS, RA, NS, NA, Redirect: what the segment offers and who has
		 * which address, for every worker. */
		if (!r.err && t >= 133 && t <= 137)
			rt->all = 1;
	}
	pick(rt, src, has_mac, smac, dmac, sip, dip);
	if (has_mac && !mac_group(smac)) {
		memcpy(rt->smac, smac, 6);
		rt->has_smac = 1;
	}
}

/* ---- devices that answer DNS ----------------------------------------- */

/* MACs the reader has seen ask DNS, the ones an engine makes devices of.
 * An answer one of them sends (a device serving DNS) is given to its
 * worker too, whose integrity checks judge it; answers of the routers and
 * resolvers, which ask nothing on the LAN, are not. 65536 slots (512 KiB)
 * hold four times devices.max's default; once full, new senders are not
 * learnt (counted in `senders_full`) and their answers only reach the
 * asking device's worker. */
#define WK_SENDERS 65536

static uint64_t mac_u64(const uint8_t *m)
{
	return 1ull << 48 | (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	       (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5];
}

/* The slot of MAC v, or the empty slot where it would go; NULL: full. */
static uint64_t *sender_slot(uint64_t *set, uint64_t v)
{
	uint64_t h = v * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t *s = &set[((h >> 48) + i) & (WK_SENDERS - 1)];
		if (*s == v || *s == 0)
			return s;
	}
	return NULL;
}

/* ---- rings ------------------------------------------------------------ */

static void wk_deadline(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += us * 1000L;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void wake_worker(struct worker *k)
{
	k->pending = 0;
	/* Orders the tail stores before the flag's load (the Dekker pair of
	 * wait_input's flag store and tail load). */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&k->wk_waiting, memory_order_relaxed)) {
		pthread_mutex_lock(&k->mu);
		pthread_cond_signal(&k->cv_in);
		pthread_mutex_unlock(&k->mu);
	}
}

/* Room for `need` bytes at the tail: 1, or 0 when the ring is full and
 * the caller does not wait. */
static int ring_room(struct worker *k, uint64_t t, uint64_t need, int wait)
{
	struct timespec ts;

	if (t + need - k->head_seen <= WK_RING_BYTES)
		return 1;
	k->head_seen = atomic_load_explicit(&k->head, memory_order_acquire);
	if (t + need - k->head_seen <= WK_RING_BYTES)
		return 1;
	if (!wait)
		return 0;
	wake_worker(k);
	pthread_mutex_lock(&k->mu);
	atomic_store(&k->rd_waiting, 1);
	while (t + need - (k->head_seen = atomic_load(&k->head)) > WK_RING_BYTES) {
		/* The worker may sleep with a full ring not yet seen. */
		pthread_cond_signal(&k->cv_in);
		wk_deadline(&ts, WK_NAP_US);
		pthread_cond_timedwait(&k->cv_room, &k->mu, &ts);
	}
	atomic_store(&k->rd_waiting, 0);
	pthread_mutex_unlock(&k->mu);
	return 1;
}

/* Hands message seq to worker k: 0, or -1 when its ring is full and
 * `wait` is not set (live capture: the frame is dropped, and counted). */
static int ring_put(struct worker *k, uint8_t kind, int muted, uint64_t seq, uint64_t ts,
		    int link, uint32_t caplen, uint32_t wirelen, const void *body, int wait)
{
	uint32_t size = (uint32_t)((sizeof(struct wk_hdr) + caplen + WK_ALIGN - 1) &
				   ~(uint32_t)(WK_ALIGN - 1));
	uint64_t t = atomic_load_explicit(&k->tail, memory_order_relaxed);
	uint64_t off = t % WK_RING_BYTES;
	uint64_t fill = off + size > WK_RING_BYTES ? WK_RING_BYTES - off : 0;

	if (!ring_room(k, t, fill + size, wait)) {
		k->dropped++;
		return -1;
	}
	if (fill > 0) {
		struct wk_hdr *f = (struct wk_hdr *)(void *)(k->buf + off);
		f->kind = M_WRAP;
		f->size = (uint32_t)fill;
		t += fill;
		off = 0;
	}
	struct wk_hdr *h = (struct wk_hdr *)(void *)(k->buf + off);
	h->seq = seq;
	h->ts = ts;
	h->now = k->w->now;
	h->caplen = caplen;
	h->wirelen = wirelen;
	h->link = (int16_t)link;
	h->kind = kind;
	h->muted = (uint8_t)muted;
	h->size = size;
	if (caplen > 0)
		memcpy(h + 1, body, caplen);
	k->given = seq;
	out_lane_given(k->lane, seq);
	atomic_store_explicit(&k->tail, t + size, memory_order_release);
	if (++k->pending >= WK_WAKE_BATCH)
		wake_worker(k);
	return 0;
}

/* Sends one message (no frame) to every worker, waiting for room. */
static uint64_t to_all(struct wk_set *w, uint8_t kind, const void *body, uint32_t len)
{
	uint64_t seq = ++w->seq;

	for (unsigned i = 0; i < w->n; i++)
		ring_put(&w->wk[i], kind, 0, seq, w->now, 0, len, len, body, 1);
	out_merge_publish(w->merge, seq);
	return seq;
}

/* Waits until every worker has finished every message it was given: then
 * no engine runs, and the reader may read them. */
static void barrier(struct wk_set *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		struct worker *k = &w->wk[i];
		while (atomic_load_explicit(&k->done, memory_order_acquire) < k->given) {
			wake_worker(k);
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* ---- the workers ------------------------------------------------------ */

static double thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the ring has a record or WK_NAP_US passed. */
static void wait_input(struct worker *k, uint64_t h)
{
	struct timespec ts;

	for (int i = 0; i < WK_SPIN; i++)
		if (atomic_load_explicit(&k->tail, memory_order_acquire) != h)
			return;
	pthread_mutex_lock(&k->mu);
	atomic_store(&k->wk_waiting, 1);
	if (atomic_load(&k->tail) == h) {
		wk_deadline(&ts, WK_NAP_US);
		pthread_cond_timedwait(&k->cv_in, &k->mu, &ts);
	}
	atomic_store(&k->wk_waiting, 0);
	pthread_mutex_unlock(&k->mu);
}

/* A frame that is not this worker's own: a shared one it only learns from
 * (DHCP, RA, ARP, ND of a device another worker owns: the tables take it,
 * its events and counters are the owner's), or a DNS answer sent by one of
 * its devices to another worker's (the modules' packet hooks judge the
 * answering device here and may alert; the counters are the asking
 * device's worker's). Either way nothing is counted twice. */
static void muted_packet(struct worker *k, const struct wk_hdr *h)
{
	struct engine *e = k->e;
	struct pipeline *pl = pl_of(e);
	struct eng_counts saved = pl->c;
	uint64_t foreign = e->foreign;
	struct out *o = e->out;

	if (h->muted == MUTED)
		e->out = k->mute;
	eng_packet(e, h->link, h->ts, h->caplen, h->wirelen, (const uint8_t *)(h + 1));
	e->out = o;
	pl->c = saved;
	e->foreign = foreign;
}

static void *worker_thread(void *arg)
{
	struct worker *k = arg;
	int finished = 0;

	while (!finished) {
		uint64_t h = atomic_load_explicit(&k->head, memory_order_relaxed);
		if (atomic_load_explicit(&k->tail, memory_order_acquire) == h) {
			wait_input(k, h);
			continue;
		}
		const struct wk_hdr *m = (const struct wk_hdr *)(const void *)
			(k->buf + h % WK_RING_BYTES);
		uint32_t size = m->size;
		uint64_t seq = m->seq;
		int wrap = m->kind == M_WRAP;
		if (!wrap) {
			out_lane_stamp(k->lane, seq);
			switch (m->kind) {
			case M_FRAME:
				/* The clock is the reader's, as one engine's would
				 * be: events carry the same time whatever worker
				 * sends them (no tick is due: the reader sent it). */
				eng_advance(k->e, m->now);
				if (m->muted)
					muted_packet(k, m);
				else
					eng_packet(k->e, m->link, m->ts, m->caplen, m->wirelen,
						   (const uint8_t *)(m + 1));
				break;
			case M_TICK:
				eng_advance(k->e, m->ts);
				break;
			case M_RULES: {
				const struct rules *r;
				memcpy(&r, m + 1, sizeof(r));
				eng_set_rules(k->e, r);
				break;
			}
			case M_FINISH:
				/* The end is at the newest packet time of all,
				 * as for one engine (no tick is due before it). */
				eng_advance(k->e, m->ts);
				eng_finish(k->e);
				finished = 1;
				break;
			default:
				break;
			}
		}
		atomic_store_explicit(&k->head, h + size, memory_order_release);
		/* A reader waiting for room that this misses looks again
		 * within WK_NAP_US. */
		if (atomic_load_explicit(&k->rd_waiting, memory_order_relaxed)) {
			pthread_mutex_lock(&k->mu);
			pthread_cond_signal(&k->cv_room);
			pthread_mutex_unlock(&k->mu);
		}
		/* m's bytes may be the reader's again from here. */
		if (!wrap) {
			atomic_store_explicit(&k->done, seq, memory_order_release);
			out_lane_done(k->lane, seq);
		}
	}
	k->cpu_s = thread_cpu_s();
	return NULL;
}

/* ---- the set ---------------------------------------------------------- */

unsigned wk_count(const struct sw_config *cfg, int live)
{
	long n;

	if (cfg->capture_workers > 0)
		return cfg->capture_workers;
	if (!live)
		return 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

struct wk_set *wk_new(const struct sw_config *cfg, struct out *out, unsigned n,
		      const uint8_t *sipkey, const struct rules *r, int replay,
		      char *err, size_t errlen)
{
	struct wk_set *w = calloc(1, sizeof(*w));

	if (w == NULL || n < 2) {
		free(w);
		snprintf(err, errlen, "cannot allocate %u workers: out of memory", n);
		return NULL;
	}
	w->cfg = cfg;
	w->out = out;
	w->n = n;
	w->replay = replay;
	w->wk = aligned_alloc(64, (n * sizeof(*w->wk) + 63) / 64 * 64);
	w->es = calloc(n, sizeof(*w->es));
	/* Lanes 0..n-1 are the workers', lane n the reader's (stats). */
	w->merge = out_merge_new(out, n + 1, WK_LANE_EVENTS, replay, replay);
	w->senders = calloc(WK_SENDERS, sizeof(*w->senders));
	if (w->wk == NULL || w->es == NULL || w->merge == NULL || w->senders == NULL) {
		free(w->wk);
		w->wk = NULL;
		goto nomem;
	}
	memset(w->wk, 0, n * sizeof(*w->wk));
	out_merge_lane_reader(w->merge, n);
	w->rlane = out_merge_lane_of(w->merge, n);
	for (unsigned i = 0; i < n; i++) {
		struct worker *k = &w->wk[i];
		k->w = w;
		k->index = i;
		pthread_mutex_init(&k->mu, NULL);
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&k->cv_in, &ca);
		pthread_cond_init(&k->cv_room, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (unsigned i = 0; i < n; i++) {
		struct worker *k = &w->wk[i];
		k->buf = malloc(WK_RING_BYTES);
		k->mute = out_new(1);
		k->lane_out = out_merge_lane(w->merge, i);
		k->lane = out_merge_lane_of(w->merge, i);
		if (k->buf == NULL || k->mute == NULL)
			goto nomem;
		k->e = w->es[i] = eng_new(cfg, k->lane_out, sipkey, err, errlen);
		if (k->e == NULL)
			goto fail;
		eng_set_worker(k->e, i, n);
		eng_set_rules(k->e, r);
		eng_set_deterministic(k->e, replay);
	}
	return w;
nomem:
	snprintf(err, errlen, "cannot allocate %u workers: out of memory", n);
fail:
	wk_free(w);
	return NULL;
}

int wk_start(struct wk_set *w)
{
	sigset_t all, old;
	int rc = 0;

	if (out_merge_start(w->merge) != 0)
		return -1;
	w->cpu0_s = thread_cpu_s();
	/* Signals stay with the reader, which handles them between frames. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < w->n && rc == 0; i++) {
		struct worker *k = &w->wk[i];
		char name[16];
		if (pthread_create(&k->thread, NULL, worker_thread, k) != 0) {
			rc = -1;
			break;
		}
		k->started = 1;
		snprintf(name, sizeof(name), "sw-worker-%u", i % 100);
		pthread_setname_np(k->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = 1;
	return rc;
}

/* The merge thread's end of a stats event: in a replay, after the sinks
 * took everything before it, so its delivery counters are the same on
 * every run. */
static void send_stats(void *arg, struct out *dst)
{
	eng_stats_send(arg, dst, 0);
}

static void send_stats_drained(void *arg, struct out *dst)
{
	out_drain(dst);
	eng_stats_send(arg, dst, 0);
}

/* The last one: after the sinks have settled, counting itself. */
static void send_stats_final(void *arg, struct out *dst)
{
	out_settle(dst);
	eng_stats_send(arg, dst, 1);
}

/* The summed stats event of every worker, at a barrier, with what the
 * reader knows: frames each worker's ring dropped and events its lane
 * dropped (live capture). It goes through the reader's lane, after every
 * worker's events of the same message. */
static void stats_now(struct wk_set *w, const char *reason)
{
	uint64_t ring_dropped = 0;

	barrier(w);
	eng_set_capture_stats(w->es[0], &w->cap);
	json_t *ev = eng_stats_event(w->es, w->n, reason);
	json_t *st = json_object_get(json_object_get(ev, "stubwatch"), "stats");
	json_t *wa = json_object_get(st, "workers");
	for (unsigned i = 0; i < w->n; i++) {
		json_t *one = json_array_get(wa, i);
		ring_dropped += w->wk[i].dropped;
		json_object_set_new(one, "ring_dropped", json_integer((json_int_t)w->wk[i].dropped));
		json_object_set_new(one, "lane_dropped",
				    json_integer((json_int_t)out_merge_dropped(w->merge, i)));
	}
	json_object_set_new(json_object_get(st, "capture"), "ring_dropped",
			    json_integer((json_int_t)ring_dropped));
	json_object_set_new(json_object_get(st, "capture"), "senders_full",
			    json_integer((json_int_t)w->senders_full));
	out_lane_stamp(w->rlane, w->seq);
	out_lane_call(w->rlane, strcmp(reason, "exit") == 0 ? send_stats_final :
		      w->replay ? send_stats_drained : send_stats, ev);
}

/* The housekeeping one engine would run now (eng_advance: once per second
 * of packet time): a tick to every worker, and the periodic stats. */
static void tick(struct wk_set *w)
{
	to_all(w, M_TICK, NULL, 0);
	w->next_tick = w->now + SEC;
	if (w->cfg->stats_interval_us && w->now >= w->next_stats) {
		if (w->next_stats != 0)
			stats_now(w, "periodic");
		w->next_stats = w->now + w->cfg->stats_interval_us;
	}
}

void wk_packet(void *arg, int link, uint64_t ts_us, uint32_t caplen,
	       uint32_t wirelen, const uint8_t *frame)
{
	struct wk_set *w = arg;
	struct route rt;

	if (ts_us > w->now)
		w->now = ts_us;
	if (w->now >= w->next_tick)
		tick(w);
	route_frame(link, frame, caplen, &rt);
	uint32_t owner = rt.klen ? state_shard(rt.key, rt.klen, w->n) : 0;
	uint64_t seq = ++w->seq;
	if (rt.all) {
		for (unsigned i = 0; i < w->n; i++)
			ring_put(&w->wk[i], M_FRAME, i != owner ? MUTED : 0, seq, ts_us, link,
				 caplen, wirelen, frame, w->replay);
		out_merge_publish(w->merge, seq);
		return;
	}
	ring_put(&w->wk[owner], M_FRAME, 0, seq, ts_us, link, caplen, wirelen, frame, w->replay);
	if (rt.has_smac && rt.dns_qr >= 0) {
		uint64_t v = mac_u64(rt.smac);
		if (rt.dns_qr == 0 && v != w->last_sender) {
			uint64_t *slot = sender_slot(w->senders, v);
			if (slot != NULL)
				*slot = v;
			else
				w->senders_full++;
			w->last_sender = v;
		} else if (rt.dns_qr == 1) {
			uint32_t server = state_shard(rt.smac, 6, w->n);
			uint64_t *slot;
			if (server != owner && (slot = sender_slot(w->senders, v)) != NULL &&
			    *slot == v)
				ring_put(&w->wk[server], M_FRAME, SERVER_COPY, seq, ts_us, link,
					 caplen, wirelen, frame, w->replay);
		}
	}
	out_merge_publish(w->merge, seq);
}

void wk_flush(struct wk_set *w)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->wk[i].pending > 0)
			wake_worker(&w->wk[i]);
}

void wk_set_rules(struct wk_set *w, const struct rules *r)
{
	to_all(w, M_RULES, &r, sizeof(r));
	barrier(w);
}

void wk_set_capture_stats(struct wk_set *w, const struct cap_stats *st)
{
	w->cap = *st;
}

void wk_emit_stats(struct wk_set *w, const char *reason)
{
	stats_now(w, reason);
}

void wk_finish(struct wk_set *w)
{
	to_all(w, M_FINISH, NULL, 0);
	for (unsigned i = 0; i < w->n; i++) {
		wake_worker(&w->wk[i]);
		if (w->wk[i].started)
			pthread_join(w->wk[i].thread, NULL);
		w->wk[i].started = 0;
	}
	stats_now(w, "exit");
	out_merge_stop(w->merge);
	/* Where the time went (make bench reads it): the reader's share is
	 * what bounds the workers' scaling. */
	char line[512];
	size_t o = (size_t)snprintf(line, sizeof(line), "CPU time: reader %.3f s, workers",
				    thread_cpu_s() - w->cpu0_s);
	for (unsigned i = 0; i < w->n && o < sizeof(line); i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %.3f", w->wk[i].cpu_s);
	log_info("%s", line);
}

void wk_print_summary(struct wk_set *w, FILE *f)
{
	eng_print_summary_of(w->es, w->n, f);
}

void wk_free(struct wk_set *w)
{
	if (w == NULL)
		return;
	if (w->merge != NULL)
		out_merge_stop(w->merge);
	for (unsigned i = 0; w->wk != NULL && i < w->n; i++) {
		struct worker *k = &w->wk[i];
		eng_free(k->e);
		free(k->buf);
		if (k->mute != NULL)
			out_stop(k->mute);
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv_in);
		pthread_cond_destroy(&k->cv_room);
	}
	out_merge_free(w->merge);
	free(w->senders);
	free(w->wk);
	free(w->es);
	free(w);
}
