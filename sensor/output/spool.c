/* spool.c — one sink's on-disk backlog (see spool.h for the format).
 *
 * Segments form one contiguous range of sequence numbers [first, last]:
 * appends grow it at the top, prepends at the bottom, consumption removes
 * from the bottom, so the state is two numbers and a read offset rather than
 * a list. The writer batches a whole call's records into one buffer and one
 * write(2), so a segment only ever holds whole records unless the process
 * dies mid-write; a failed write is cut back with ftruncate. Nothing is
 * fsync'd per write: the spool is there for a sink that is down while the
 * sensor keeps running, and the page cache survives a sensor restart; only
 * close syncs, so a clean stop also survives a power cut.
 */
#include "output/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"

/* Reads go in chunks of 1 MiB: a few thousand events per read(2). */
#define SPOOL_RBUF (1u << 20)

/* First sequence number of a fresh spool: 2^40 leaves room for 2^40
 * prepends below and 2^63 appends above. */
#define SPOOL_SEQ0 (UINT64_C(1) << 40)

struct spool {
	char dir[256];
	uint64_t max_size;       /* cap on `bytes` */
	uint64_t seg_size;       /* a segment ends past this */
	int empty;               /* no segments at all */
	uint64_t first, last;    /* segment range, when !empty */
	uint64_t rd_off;         /* read offset in segment `first` */
	uint64_t skip_seq;       /* segment whose reading starts at skip_off (0: none) */
	uint64_t skip_off;
	uint64_t last_size;      /* size of segment `last` */
	uint64_t bytes;          /* all segment files */
	int full;                /* cap reached: take nothing until a segment goes */
	int wfd;                 /* open for append: segment `last` (-1: none) */
	int rfd;                 /* open for reading: segment rfd_seq */
	uint64_t rfd_seq;
	uint64_t rfd_size;       /* size of rfd_seq when opened (not the last one) */
	uint8_t *rbuf;
	size_t rbuf_cap;
	size_t rsizes_n;         /* records of the last spool_read */
	uint32_t *rsizes;
	size_t rsizes_cap;
	uint8_t *wbuf;
	size_t wbuf_cap;
	uint64_t corrupt;
	int dir_ok;
	int follow;              /* output.follow_symlinks */
	int werr;                /* errno of the last failed write (0: none since) */
};

/* ---- records --------------------------------------------------------- */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; RFC 3720 B.4), one
 * byte at a time: entry i is the CRC register after shifting byte i through
 * eight steps of "c = (c & 1) ? (c >> 1) ^ 0x82F63B78 : c >> 1". A constant
 * table, so no thread ever fills it; test_output_spool checks RFC 3720's
 * vectors and every entry against that definition. */
static const uint32_t crc_table[256] = {
	0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
	0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
	0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
	0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
	0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
	0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
	0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
	0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
	0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
	0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
	0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
	0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
	0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
	0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
	0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
	0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
	0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
	0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
	0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
	0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
	0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
	0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
	0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
	0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
	0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
	0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
	0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
	0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
	0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
	0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
	0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
	0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
	0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
	0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
	0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
	0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
	0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
	0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
	0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
	0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
	0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
	0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
	0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t spool_crc32c(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc_table[(c ^ *b++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static size_t rec_size(const struct out_event *ev, size_t *klen)
{
	*klen = strnlen(ev->key, sizeof(ev->key));
	return SPOOL_HDR + *klen + ev->len + 1;
}

size_t spool_encode(const struct out_event *ev, uint8_t *buf, size_t cap)
{
	size_t klen, n = rec_size(ev, &klen);

	if (klen >= sizeof(ev->key) || ev->len > SPOOL_JSON_MAX ||
	    ev->dataset >= OUT_DS_MAX || n > cap)
		return 0;
	put32(buf, (uint32_t)n);
	buf[8] = ev->dataset;
	buf[9] = (uint8_t)klen;
	buf[10] = 0;
	buf[11] = 0;
	put32(buf + 12, (uint32_t)ev->len);
	memcpy(buf + SPOOL_HDR, ev->key, klen);
	memcpy(buf + SPOOL_HDR + klen, ev->json, ev->len);
	buf[n - 1] = '\0';
	put32(buf + 4, spool_crc32c(buf + 8, n - 8));
	return n;
}

int spool_decode(uint8_t *buf, size_t len, struct out_event *ev, size_t *used)
{
	uint32_t n, jlen;
	uint8_t klen;

	if (len < SPOOL_HDR)
		return SW_EINCOMPLETE;
	n = get32(buf);
	klen = buf[9];
	jlen = get32(buf + 12);
	if (klen >= sizeof(ev->key) || jlen > SPOOL_JSON_MAX || buf[8] >= OUT_DS_MAX ||
	    buf[10] != 0 || buf[11] != 0 || n != SPOOL_HDR + klen + jlen + 1)
		return SW_EMALFORMED;
	if (n > len)
		return SW_EINCOMPLETE;
	if (buf[n - 1] != '\0' || get32(buf + 4) != spool_crc32c(buf + 8, n - 8))
		return SW_EMALFORMED;
	ev->dataset = buf[8];
	memcpy(ev->key, buf + SPOOL_HDR, klen);
	ev->key[klen] = '\0';
	ev->json = (char *)buf + SPOOL_HDR + klen;
	ev->len = jlen;
	*used = n;
	return 0;
}

/* ---- segments -------------------------------------------------------- */

static void seg_path(const struct spool *sp, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%016" PRIx64 ".seg", sp->dir, seq);
}

static int is_seg_name(const char *name, uint64_t *seq)
{
	char *end;

	if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
		return 0;
	for (int i = 0; i < 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	*seq = strtoull(name, &end, 16);
	return end == name + 16;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void cursor_path(const struct spool *sp, char *buf, size_t len)
{
	snprintf(buf, len, "%s/cursor", sp->dir);
}

static void read_cursor(struct spool *sp)
{
	char path[300];
	unsigned long long f, off, ss, so;
	FILE *fp;

	char why[128];
	int fd;

	cursor_path(sp, path, sizeof(path));
	fd = fs_open_regular(path, sp->follow ? 0 : O_NOFOLLOW, why, sizeof(why));
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("spool %s: cursor: %s; reading from the first segment's start",
				 sp->dir, why);
		return;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	if (fscanf(fp, "%llx %llu %llx %llu", &f, &off, &ss, &so) == 4 && !sp->empty &&
	    f == sp->first && off >= SPOOL_MAGIC_LEN) {
		sp->rd_off = off;
		if (ss > sp->first && ss <= sp->last && so >= SPOOL_MAGIC_LEN) {
			sp->skip_seq = ss;
			sp->skip_off = so;
		}
	}
	fclose(fp);
}

struct spool *spool_open(const char *dir, uint64_t max_size, uint64_t seg_size,
			 int follow_symlinks, char *err, size_t errlen)
{
	struct spool *sp;
	DIR *d;
	struct dirent *de;

	if (strlen(dir) >= sizeof(sp->dir)) {
		snprintf(err, errlen, "spool folder name too long: %s", dir);
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(sp->dir, dir, strlen(dir) + 1);
	sp->max_size = max_size;
	sp->seg_size = seg_size;
	sp->follow = follow_symlinks != 0;
	sp->empty = 1;
	sp->wfd = -1;
	sp->rfd = -1;
	d = opendir(dir);
	if (d == NULL && errno != ENOENT) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		free(sp);
		return NULL;
	}
	if (d != NULL) {
		sp->dir_ok = 1;
		while ((de = readdir(d)) != NULL) {
			uint64_t seq;
			char path[300];
			if (!is_seg_name(de->d_name, &seq))
				continue;
			seg_path(sp, seq, path, sizeof(path));
			sp->bytes += file_size(path);
			if (sp->empty || seq < sp->first)
				sp->first = seq;
			if (sp->empty || seq > sp->last)
				sp->last = seq;
			sp->empty = 0;
		}
		closedir(d);
	}
	if (!sp->empty) {
		char path[300];
		seg_path(sp, sp->last, path, sizeof(path));
		sp->last_size = file_size(path);
	}
	sp->rd_off = SPOOL_MAGIC_LEN;
	read_cursor(sp);
	return sp;
}

static void close_reader(struct spool *sp)
{
	if (sp->rfd >= 0)
		close(sp->rfd);
	sp->rfd = -1;
}

/* Removes segment `first` (consumed or unreadable) and moves the reader to
 * the next one, or to the empty state. */
static void drop_first(struct spool *sp)
{
	char path[300];
	uint64_t sz;

	close_reader(sp);
	seg_path(sp, sp->first, path, sizeof(path));
	sz = file_size(path);
	unlink(path);
	sp->bytes = sz <= sp->bytes ? sp->bytes - sz : 0;
	sp->full = 0;
	if (sp->first == sp->last) {
		if (sp->wfd >= 0)
			close(sp->wfd);
		sp->wfd = -1;
		sp->empty = 1;
		sp->first = sp->last + 1;
		sp->last_size = 0;
		sp->skip_seq = 0;
		sp->bytes = 0;
		cursor_path(sp, path, sizeof(path));
		unlink(path);
	} else {
		sp->first++;
	}
	sp->rd_off = SPOOL_MAGIC_LEN;
	if (sp->skip_seq != 0 && sp->skip_seq == sp->first) {
		sp->rd_off = sp->skip_off;
		sp->skip_seq = 0;
	}
}

int spool_pending(const struct spool *sp)
{
	if (sp->empty)
		return 0;
	return sp->first != sp->last || sp->rd_off < sp->last_size;
}

uint64_t spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}

uint64_t spool_corrupt(const struct spool *sp)
{
	return sp->corrupt;
}

int spool_full(const struct spool *sp)
{
	return sp->full;
}

int spool_last_errno(const struct spool *sp)
{
	return sp->full ? 0 : sp->werr;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* Opens a new segment `seq` and writes the magic; returns the fd or -1. */
static int seg_create(struct spool *sp, uint64_t seq)
{
	char path[300];
	int fd;

	if (!sp->dir_ok) {
		/* 0750: spooled events name devices and their traffic. */
		char why[300];
		if (fs_mkdirs(sp->dir, 0750, NULL, why, sizeof(why)) != 0)
			return -1;   /* errno is mkdir's */
		sp->dir_ok = 1;
	}
	seg_path(sp, seq, path, sizeof(path));
	fd = fs_open_create(path, O_WRONLY | O_TRUNC | O_APPEND, 0640, sp->follow);
	if (fd < 0)
		return -1;
	if (write(fd, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != SPOOL_MAGIC_LEN) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the records buffered in wbuf[0..used) to segment `last`; on a
 * failed write the segment is cut back and -1 returned. */
static int flush_w(struct spool *sp, size_t used)
{
	if (used == 0)
		return 0;
	if (write_all(sp->wfd, sp->wbuf, used) != 0) {
		sp->werr = errno ? errno : EIO;
		if (ftruncate(sp->wfd, (off_t)sp->last_size) != 0)
			log_warn("spool %s: cannot cut back a failed write", sp->dir);
		return -1;
	}
	sp->last_size += used;
	sp->bytes += used;
	sp->werr = 0;
	return 0;
}

size_t spool_append(struct spool *sp, const struct out_event *ev, size_t n)
{
	size_t used = 0, done = 0, stored = 0;

	if (sp->full)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t klen, need = rec_size(&ev[i], &klen);
		if (sp->bytes + used + need + SPOOL_MAGIC_LEN > sp->max_size) {
			sp->full = 1;
			break;
		}
		if (sp->wfd < 0 || sp->last_size + used + need > sp->seg_size) {
			if (sp->wfd >= 0 && (sp->last_size > SPOOL_MAGIC_LEN || used > 0)) {
				if (flush_w(sp, used) != 0)
					break;
				stored = done;
				used = 0;
				close(sp->wfd);
				sp->wfd = -1;
			}
			if (sp->wfd < 0) {
				uint64_t seq = sp->empty ? sp->first : sp->last + 1;
				if (sp->empty && seq == 0)
					seq = SPOOL_SEQ0;
				int fd = seg_create(sp, seq);
				if (fd < 0) {
					sp->werr = errno ? errno : EIO;
					break;
				}
				sp->wfd = fd;
				if (sp->empty) {
					sp->empty = 0;
					sp->first = seq;
					sp->rd_off = SPOOL_MAGIC_LEN;
				}
				sp->last = seq;
				sp->last_size = SPOOL_MAGIC_LEN;
				sp->bytes += SPOOL_MAGIC_LEN;
			}
		}
		if (grow(&sp->wbuf, &sp->wbuf_cap, used + need) != 0)
			break;
		if (spool_encode(&ev[i], sp->wbuf + used, need) == 0) {
			/* Cannot be encoded: stored as nothing, counted by the
			 * caller with the rest. */
			break;
		}
		used += need;
		done++;
	}
	if (used > 0 && flush_w(sp, used) == 0)
		stored = done;
	return stored;
}

size_t spool_prepend(struct spool *sp, const struct out_event *ev, size_t n)
{
	size_t used = 0;
	int fd;
	uint64_t seq;
	char path[300];

	if (n == 0)
		return 0;
	if (sp->empty)
		return spool_append(sp, ev, n);  /* nothing to be in front of */
	for (size_t i = 0; i < n; i++) {
		size_t klen, need = rec_size(&ev[i], &klen);
		if (grow(&sp->wbuf, &sp->wbuf_cap, used + need) != 0 ||
		    spool_encode(&ev[i], sp->wbuf + used, need) == 0)
			return 0;
		used += need;
	}
	if (sp->bytes + used + SPOOL_MAGIC_LEN > sp->max_size || sp->first == 0)
		return 0;
	seq = sp->first - 1;
	if ((fd = seg_create(sp, seq)) < 0)
		return 0;
	if (write_all(fd, sp->wbuf, used) != 0) {
		close(fd);
		seg_path(sp, seq, path, sizeof(path));
		unlink(path);
		return 0;
	}
	close(fd);
	if (sp->rd_off > SPOOL_MAGIC_LEN) {
		/* The old first segment was partly read: resume it where the
		 * reader was. A second skip would overwrite this one; then the
		 * read part is read again (duplicates, never loss). */
		sp->skip_seq = sp->first;
		sp->skip_off = sp->rd_off;
	}
	close_reader(sp);
	sp->first = seq;
	sp->rd_off = SPOOL_MAGIC_LEN;
	sp->bytes += used + SPOOL_MAGIC_LEN;
	return n;
}

/* Opens segment `first` for reading and checks its magic: 0, 1 when it is
 * missing or not a segment (the caller drops it), -1 on an I/O error. */
static int open_reader(struct spool *sp)
{
	char path[300], magic[SPOOL_MAGIC_LEN];
	struct stat st;

	if (sp->rfd >= 0 && sp->rfd_seq == sp->first)
		return 0;
	close_reader(sp);
	seg_path(sp, sp->first, path, sizeof(path));
	sp->rfd = open(path, O_RDONLY | O_CLOEXEC | (sp->follow ? 0 : O_NOFOLLOW));
	if (sp->rfd < 0 && errno == ELOOP && !sp->follow) {
		log_warn("spool %s: segment %016" PRIx64 " is a symbolic link; skipped and "
			 "removed (output.follow_symlinks = no)", sp->dir, sp->first);
		return 1;
	}
	if (sp->rfd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(sp->rfd, &st) != 0) {
		close_reader(sp);
		return -1;
	}
	if (pread(sp->rfd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0) {
		close_reader(sp);
		return 1;
	}
	sp->rfd_seq = sp->first;
	sp->rfd_size = (uint64_t)st.st_size;
	return 0;
}

/* Where reading segment `first` ends: the writer's size for the segment
 * being written, the file's size for one it has moved on from. */
static uint64_t seg_end(struct spool *sp)
{
	struct stat st;

	if (sp->first == sp->last)
		return sp->last_size;
	if (sp->rfd >= 0 && sp->rfd_seq == sp->first && fstat(sp->rfd, &st) == 0)
		sp->rfd_size = (uint64_t)st.st_size;
	return sp->rfd_size;
}

int spool_read(struct spool *sp, struct out_event *ev, size_t max)
{
	sp->rsizes_n = 0;
	if (grow(&sp->rbuf, &sp->rbuf_cap, SPOOL_RBUF) != 0)
		return SW_ENOMEM;
	if (sp->rsizes_cap < max) {
		uint32_t *p = realloc(sp->rsizes, max * sizeof(*p));
		if (p == NULL)
			return SW_ENOMEM;
		sp->rsizes = p;
		sp->rsizes_cap = max;
	}
	while (spool_pending(sp)) {
		uint64_t end;
		int orc = open_reader(sp);
		if (orc < 0)
			return SW_EIO;
		if (orc > 0) {
			sp->corrupt++;
			drop_first(sp);
			continue;
		}
		end = seg_end(sp);
		if (sp->rd_off >= end) {
			drop_first(sp);
			continue;
		}
		size_t want = end - sp->rd_off < sp->rbuf_cap ? (size_t)(end - sp->rd_off)
							       : sp->rbuf_cap;
		ssize_t got = pread(sp->rfd, sp->rbuf, want, (off_t)sp->rd_off);
		if (got < 0)
			return SW_EIO;
		size_t off = 0, k = 0;
		int rc = 0;
		while (k < max) {
			size_t used;
			rc = spool_decode(sp->rbuf + off, (size_t)got - off, &ev[k], &used);
			if (rc != 0)
				break;
			sp->rsizes[k++] = (uint32_t)used;
			off += used;
		}
		if (k > 0) {
			sp->rsizes_n = k;
			return (int)k;
		}
		if (rc == SW_EINCOMPLETE && (size_t)got == sp->rbuf_cap &&
		    sp->rbuf_cap < SPOOL_JSON_MAX + SPOOL_HDR + 64) {
			if (grow(&sp->rbuf, &sp->rbuf_cap, sp->rbuf_cap * 2) != 0)
				return SW_ENOMEM;
			continue;
		}
		/* Malformed, or torn at the end of the segment. */
		log_warn("spool %s: corrupt record in segment %016" PRIx64
			 " at offset %" PRIu64 "; skipping the rest of it",
			 sp->dir, sp->first, sp->rd_off);
		sp->corrupt++;
		drop_first(sp);
	}
	return 0;
}

void spool_consume(struct spool *sp, size_t n)
{
	if (n > sp->rsizes_n)
		n = sp->rsizes_n;
	for (size_t i = 0; i < n; i++)
		sp->rd_off += sp->rsizes[i];
	sp->rsizes_n = 0;
	if (sp->empty)
		return;
	if (n > 0 && sp->rfd_seq == sp->first && sp->rd_off >= seg_end(sp))
		drop_first(sp);
}

void spool_close(struct spool *sp)
{
	char path[300], tmp[310];
	FILE *fp;

	if (sp == NULL)
		return;
	close_reader(sp);
	if (sp->wfd >= 0) {
		fdatasync(sp->wfd);
		close(sp->wfd);
	}
	cursor_path(sp, path, sizeof(path));
	if (!sp->empty && (sp->rd_off > SPOOL_MAGIC_LEN || sp->skip_seq != 0)) {
		/* 0600: only the sensor reads its cursor. */
		int fd;
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		fd = fs_open_create(tmp, O_WRONLY | O_TRUNC, 0600, sp->follow);
		fp = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (fp == NULL && fd >= 0)
			close(fd);
		if (fp != NULL) {
			fprintf(fp, "%" PRIx64 " %" PRIu64 " %" PRIx64 " %" PRIu64 "\n",
				sp->first, sp->rd_off, sp->skip_seq, sp->skip_off);
			if (fclose(fp) == 0)
				rename(tmp, path);
		}
	} else if (sp->dir_ok) {
		unlink(path);
	}
	free(sp->rbuf);
	free(sp->wbuf);
	free(sp->rsizes);
	free(sp);
}
