/* spool.h — one sink's on-disk backlog: size-capped segment files replayed
 * in order.
 *
 * A spool is a folder of segment files named by a 64-bit sequence number
 * (16 hex digits + ".seg"), read from the lowest to the highest. Events are
 * appended to the highest segment until it reaches the segment size, then a
 * new one begins; a consumed segment is deleted. Events can also be put back
 * in front (a new segment below the lowest), which is how a sink returns
 * what it was holding when it failed or closed. Sequence numbers of a fresh
 * spool start at 2^40, so a spool has room to grow in both directions for
 * longer than any deployment lives.
 *
 * Record encoding (little-endian), so a torn write after a crash is found:
 *   u32 record length (header + key + json)   u32 CRC-32C of bytes 8..end
 *   u8 dataset   u8 key length (< 40)   u16 zero   u32 json length
 *   key bytes    json bytes   one NUL (so a decoded json is a C string)
 * A segment starts with the 8 bytes "SWSPOOL1". The read position survives a
 * clean stop in the file "cursor"; after a crash the first segment is read
 * again from its start (at-least-once: duplicates, never loss).
 *
 * Not thread-safe: the queue calls it under the sink's lane mutex.
 */
#ifndef SW_OUTPUT_SPOOL_H
#define SW_OUTPUT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "output/out.h"

#define SPOOL_MAGIC "SWSPOOL1"
#define SPOOL_MAGIC_LEN 8
#define SPOOL_HDR 16
/* A record's JSON is at most 64 MiB: far past the largest device snapshot
 * (tens of KiB); a longer length field is corruption, not an event. */
#define SPOOL_JSON_MAX (64u << 20)

struct spool;

/* Opens the spool in dir (created on first write, with its parents, 0750)
 * and finds any segments a previous run left. max_size caps the bytes of
 * all segments; seg_size is where a segment ends. Segments are created
 * 0640 and the cursor 0600, whatever the umask; unless follow_symlinks
 * (output.follow_symlinks), no spool file is opened through a symbolic
 * link: a segment that is one is skipped (counted in spool_corrupt) and
 * removed, a cursor that is one is ignored. NULL and a message in err when
 * dir exists but cannot be read. */
struct spool *spool_open(const char *dir, uint64_t max_size, uint64_t seg_size,
			 int follow_symlinks, char *err, size_t errlen);

/* Appends events at the end. Returns how many were stored; the rest did not
 * fit under max_size (or a write failed) and are the caller's to count as
 * dropped. Once full, the spool takes nothing more until a segment has been
 * consumed, so what it holds is always a run of consecutive events. */
size_t spool_append(struct spool *sp, const struct out_event *ev, size_t n);

/* Puts events in front of everything else, in the order given. Returns how
 * many were stored: all or none, except into an empty spool, which takes
 * the first ones that fit, as spool_append does. */
size_t spool_prepend(struct spool *sp, const struct out_event *ev, size_t n);

/* Nonzero when there are events not yet consumed. */
int spool_pending(const struct spool *sp);

/* Reads up to max events at the read position without consuming them. The
 * json and key of ev[] point into the spool's buffer, valid until the next
 * call. Returns the count (0 when empty), or SW_EIO when a segment cannot
 * be read. A corrupt record ends its segment (counted in spool_corrupt). */
int spool_read(struct spool *sp, struct out_event *ev, size_t max);

/* Consumes the first n events of the last spool_read; deletes segments as
 * they empty. */
void spool_consume(struct spool *sp, size_t n);

/* Bytes of all segment files, and corrupt records skipped so far. */
uint64_t spool_bytes(const struct spool *sp);
uint64_t spool_corrupt(const struct spool *sp);

/* Nonzero once an append found the spool full (until a segment is
 * consumed): it takes nothing more meanwhile. */
int spool_full(const struct spool *sp);

/* The errno of the last append that failed to write (a segment that could
 * not be created, a failed write), 0 when the last one succeeded or the
 * spool is merely full. */
int spool_last_errno(const struct spool *sp);

/* Writes the read position and frees the spool. */
void spool_close(struct spool *sp);

/* One record: encodes ev into buf (cap bytes); returns its size, or 0 when
 * buf is too small or the event cannot be encoded (key ≥ 40 bytes, json
 * over SPOOL_JSON_MAX). */
size_t spool_encode(const struct out_event *ev, uint8_t *buf, size_t cap);

/* Decodes one record at buf: sets *used, copies the key into ev->key and
 * points ev->json into buf (NUL-terminated by the encoding). Returns 0,
 * SW_EINCOMPLETE (more bytes needed) or SW_EMALFORMED (bad length, dataset,
 * key, terminator or CRC). */
int spool_decode(uint8_t *buf, size_t len, struct out_event *ev, size_t *used);

/* CRC-32C (Castagnoli) of n bytes, as the records carry it. */
uint32_t spool_crc32c(const void *p, size_t n);

#endif
