/* sink_file.c — the JSON-lines file sink (a path, or "-" for stdout).
 *
 * Events are copied, each followed by '\n', into one large buffer that goes
 * out with write(2) when full or when the queue runs empty, so a busy sensor
 * makes a few large writes and a quiet one writes each line promptly. Using
 * write(2) rather than stdio means a failed write is known exactly: the
 * events in that buffer are counted as dropped, the error counted, and the
 * sink carries on (EPIPE included: the sensor ignores SIGPIPE). The file is
 * opened for append, created 0640 whatever the umask (events name devices
 * and their traffic: not for every local user), never through a symbolic
 * link unless output.follow_symlinks, and reopened on request for
 * logrotate.
 */
#include "output/out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"

/* 1 MiB: at 200,000 events/s of ~400 B (80 MB/s) that is ~80 write calls a
 * second, where syscall cost no longer matters; a bigger buffer only delays
 * lines. */
#define FILE_BUF_SIZE (1024 * 1024)

/* A non-blocking stdout (a parent's pipe) that stays full this long counts
 * as a failed write rather than stalling the output thread for ever. */
#define FILE_POLL_MS 1000

struct file_sink {
	struct out_sink base;  /* first: the queue holds &base */
	char *path;            /* NULL for stdout */
	int follow;            /* output.follow_symlinks */
	int fd;
	char *buf;
	size_t used;           /* bytes in buf */
	uint64_t nbuf;         /* events in buf, counted as dropped if lost */
};

/* Writes all of p, riding out EINTR, short writes and EAGAIN. Returns 0, or
 * -1 with errno set. */
static int file_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if (poll(&pfd, 1, FILE_POLL_MS) > 0)
				continue;
			errno = EAGAIN;
		}
		if (w == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* Sends the buffer out; on failure its events are lost and counted. */
static int file_flush(struct out_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;
	int rc = 0;

	if (f->used > 0 && file_write_all(f->fd, f->buf, f->used) != 0) {
		s->errors++;
		s->dropped += f->nbuf;
		rc = SW_EIO;
	}
	f->used = 0;
	f->nbuf = 0;
	return rc;
}

/* Accepts every event: a line longer than the buffer goes straight out in
 * two writes (rare: the largest device snapshots are tens of KiB). */
static size_t file_write(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct file_sink *f = (struct file_sink *)s;

	for (size_t i = 0; i < n; i++) {
		size_t need = ev[i].len + 1;
		if (need > FILE_BUF_SIZE - f->used)
			file_flush(s);
		if (need > FILE_BUF_SIZE) {
			if (file_write_all(f->fd, ev[i].json, ev[i].len) != 0 ||
			    file_write_all(f->fd, "\n", 1) != 0) {
				s->errors++;
				s->dropped++;
			}
			continue;
		}
		memcpy(f->buf + f->used, ev[i].json, ev[i].len);
		f->buf[f->used + ev[i].len] = '\n';
		f->used += need;
		f->nbuf++;
	}
	return n;
}

static int file_open(const struct file_sink *f)
{
	return fs_open_create(f->path, O_WRONLY | O_APPEND, 0640, f->follow);
}

/* Why an open failed: a refused link says how to allow it. */
static void file_why(const char *path, int e, int follow, char *err, size_t errlen)
{
	if (e == ELOOP && !follow)
		snprintf(err, errlen, "%s: a symbolic link, not followed (output.follow_symlinks "
			 "= yes writes through it; '-' is standard output)", path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(e));
}

int out_file_check(const char *path, int follow_symlinks, char *err, size_t errlen)
{
	struct stat st;

	if (follow_symlinks || strcmp(path, "-") == 0 || lstat(path, &st) != 0 ||
	    !S_ISLNK(st.st_mode))
		return 0;
	file_why(path, ELOOP, 0, err, errlen);
	return -1;
}

/* Buffered lines go to the old file first (they were written before the
 * rotation); the new file is opened before the old one is closed, so when
 * the open fails the sink keeps writing where it was and counts an error. */
static int file_reopen(struct out_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;
	int fd;

	file_flush(s);
	if (f->path == NULL)
		return 0;
	fd = file_open(f);
	if (fd < 0) {
		/* logrotate has moved the old file: said loudly, since every
		 * line from now on goes to the rotated file. */
		char why[600];
		file_why(f->path, errno, f->follow, why, sizeof(why));
		s->errors++;
		log_err("%s: cannot open it again after SIGHUP: %s; still writing to "
			"the file opened before", s->name, why);
		return SW_EIO;
	}
	close(f->fd);
	f->fd = fd;
	return 0;
}

static void file_close(struct out_sink *s, uint64_t deadline_ms)
{
	struct file_sink *f = (struct file_sink *)s;

	file_flush(s);
	if (f->path != NULL)
		close(f->fd);
	free(f->path);
	free(f->buf);
	free(f);
}

static const struct out_sink_ops file_ops = {
	.kind = "file",
	.write = file_write,
	.flush = file_flush,
	.reopen = file_reopen,
	.close = file_close,
};

struct out_sink *out_file_sink(const char *path, char *err, size_t errlen)
{
	return out_file_sink_follow(path, 0, err, errlen);
}

struct out_sink *out_file_sink_follow(const char *path, int follow_symlinks, char *err,
				      size_t errlen)
{
	struct file_sink *f;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "file sink: empty path");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->buf = malloc(FILE_BUF_SIZE)) == NULL)
		goto fail_mem;
	if (strcmp(path, "-") == 0) {
		f->fd = STDOUT_FILENO;
	} else {
		if ((f->path = strdup(path)) == NULL)
			goto fail_mem;
		f->follow = follow_symlinks != 0;
		f->fd = file_open(f);
		if (f->fd < 0) {
			file_why(path, errno, f->follow, err, errlen);
			goto fail;
		}
	}
	f->base.ops = &file_ops;
	f->base.priv = f;
	/* A long path keeps its end, where the file's name is. */
	size_t plen = strlen(path);
	if (plen > 58)
		snprintf(f->base.name, sizeof(f->base.name), "file:...%s", path + plen - 55);
	else
		snprintf(f->base.name, sizeof(f->base.name), "file:%s", path);
	return &f->base;
fail_mem:
	snprintf(err, errlen, "file sink %s: out of memory", path);
fail:
	if (f != NULL) {
		free(f->path);
		free(f->buf);
	}
	free(f);
	return NULL;
}
