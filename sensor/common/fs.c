/* fs.c — folders owned by the run user, write checks as that user, secrets
 * read from files (see fs.h). Start-up only: nothing here runs per packet.
 */
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"

/* Paths the helpers build (folder + "/" + a file name) fit in this. */
#define FS_PATH 512

static int fs_owned(const struct fs_owner *own)
{
	return own != NULL && own->uid != FS_NO_OWNER;
}

static int fs_give(const char *path, const struct fs_owner *own, char *err, size_t errlen)
{
	if (!fs_owned(own) || chown(path, own->uid, own->gid) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot give it to %s: %s", path, own->name, strerror(errno));
	return SW_EIO;
}

int fs_mkdirs(const char *dir, mode_t mode, const struct fs_owner *own, char *err,
	      size_t errlen)
{
	char p[FS_PATH];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		snprintf(err, errlen, "folder name empty or too long: %.64s", dir);
		return SW_EINVAL;
	}
	memcpy(p, dir, n + 1);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1;; s++) {
		int last = *s == '\0';
		if (!last && *s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			if (chmod(p, mode) != 0) {
				int e = errno;
				snprintf(err, errlen, "%s: cannot set its mode: %s", p, strerror(e));
				errno = e;
				return SW_EIO;
			}
			if (fs_give(p, own, err, errlen) != 0)
				return SW_EIO;
		} else if (errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "%s: cannot create: %s", p, strerror(e));
			errno = e;
			return SW_EIO;
		} else if (last) {
			struct stat st;
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "%s: not a folder", p);
				errno = ENOTDIR;
				return SW_EIO;
			}
		}
		if (last)
			break;
		*s = '/';
	}
	return 0;
}

int fs_chown_file(const char *path, const struct fs_owner *own, char *err, size_t errlen)
{
	struct stat st;

	if (!fs_owned(own) || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return fs_give(path, own, err, errlen);
}

int fs_chown_dir(const char *dir, const struct fs_owner *own, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (!fs_owned(own))
		return 0;
	if (fs_give(dir, own, err, errlen) != 0)
		return SW_EIO;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return SW_EIO;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char path[FS_PATH];
		struct stat st;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = fs_give(path, own, err, errlen);
	}
	closedir(d);
	return rc;
}

/* Creates and removes a file in dir; 0 or an errno value. */
static int fs_probe(const char *probe)
{
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno;
	close(fd);
	return unlink(probe) == 0 ? 0 : errno;
}

/* The probe as another user: a child switches to it, tries, and exits with
 * the errno (only async-signal-safe calls after fork: the sink threads of
 * librdkafka may already run in the parent). */
static int fs_probe_as(const char *probe, const struct fs_owner *own)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(own->gid) != 0 || setuid(own->uid) != 0)
			_exit(EPERM);
		_exit(fs_probe(probe) & 0xff);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

int fs_check_writable(const char *dir, const struct fs_owner *own, int may_create,
		      char *err, size_t errlen)
{
	char probe[FS_PATH], parent[FS_PATH];
	struct stat st;
	int e;

	if (stat(dir, &st) != 0 && errno == ENOENT && may_create) {
		/* Not there yet: the nearest existing parent must take the
		 * folder this process would create. */
		snprintf(parent, sizeof(parent), "%s", dir);
		for (;;) {
			char *slash = strrchr(parent, '/');
			if (slash == NULL) {
				snprintf(parent, sizeof(parent), ".");
				break;
			}
			if (slash == parent) {
				parent[1] = '\0';
				break;
			}
			*slash = '\0';
			if (stat(parent, &st) == 0)
				break;
		}
		return fs_check_writable(parent, NULL, 0, err, errlen);
	}
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.stubwatch-probe-%ld", dir,
			     (long)getpid()) >= sizeof(probe)) {
		snprintf(err, errlen, "folder name too long: %.64s", dir);
		return SW_EINVAL;
	}
	e = fs_owned(own) && own->uid != geteuid() ? fs_probe_as(probe, own) : fs_probe(probe);
	if (e == 0)
		return 0;
	if (fs_owned(own))
		snprintf(err, errlen, "%s: not writable by %s: %s", dir, own->name, strerror(e));
	else
		snprintf(err, errlen, "%s: not writable: %s", dir, strerror(e));
	return SW_EIO;
}

int fs_open_create(const char *path, int flags, mode_t mode, int follow)
{
	int base = flags | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW);

	/* Three rounds: a file removed between the exclusive create and the
	 * plain open (logrotate) is created in the next one. */
	for (int round = 0; round < 3; round++) {
		int fd = open(path, base | O_CREAT | O_EXCL, mode);
		if (fd >= 0) {
			if (fchmod(fd, mode) != 0) {
				int e = errno;
				close(fd);
				unlink(path);
				errno = e;
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = open(path, base);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		/* A dangling link, when links are followed: its target is
		 * created, with the umask's say on the mode (the file is not
		 * ours to chmod through a link). */
		struct stat st;
		if (follow && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return open(path, base | O_CREAT, mode);
	}
	errno = ENOENT;
	return -1;
}

static const char *fs_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a folder";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a plain file";
}

int fs_open_regular(const char *path, int flags, char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (flags & O_NOFOLLOW));
	int e;

	if (fd < 0) {
		e = errno;
		if (e == ELOOP && (flags & O_NOFOLLOW))
			snprintf(why, whylen, "a symbolic link, not followed");
		else if (e == ENXIO)   /* a socket, or a device without its driver */
			snprintf(why, whylen, "not a regular file");
		else
			snprintf(why, whylen, "%s", strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(why, whylen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s, not a regular file", fs_kind(st.st_mode));
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* Regular files ignore O_NONBLOCK; clearing it keeps reads plain. */
	(void)fcntl(fd, F_SETFL, 0);
	return fd;
}

int fs_read_secret(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	char why[128];
	int fd = fs_open_regular(path, 0, why, sizeof(why));
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		if (fd >= 0) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
			close(fd);
		}
		snprintf(err, errlen, "%s: %s", path, why);
		return SW_EIO;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0) {
		free(line);
		snprintf(err, errlen, "%s: empty (expected the secret on its first line)", path);
		return SW_EINVAL;
	}
	if ((size_t)n >= len) {
		/* never cut: a cut password is another password */
		memset(line, 0, (size_t)n);
		free(line);
		snprintf(err, errlen, "%s: secret longer than %zu bytes", path, len - 1);
		return SW_EINVAL;
	}
	memcpy(buf, line, (size_t)n + 1);
	memset(line, 0, (size_t)n);
	free(line);
	return 0;
}
