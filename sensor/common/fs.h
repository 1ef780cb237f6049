/* fs.h — folders and files the sensor needs before it drops privileges,
 * and the one way it opens a file it reads.
 *
 * A service starts as root (to open the capture), then runs as `run.user`.
 * Whatever that user must write later (spool segments, an output file
 * reopened after logrotate) has to live in folders it owns or can write.
 * These helpers create such folders owned by the user, and check as that
 * user, before the drop, that it can write there, so a folder that will
 * not work is a start-up error instead of events lost later.
 */
#ifndef SW_COMMON_FS_H
#define SW_COMMON_FS_H

#include <stddef.h>
#include <sys/types.h>

/* "Nobody in particular": leave ownership as it is, check as ourselves. */
#define FS_NO_OWNER ((uid_t)-1)

/* Who will write: the user the sensor drops to, or FS_NO_OWNER. */
struct fs_owner {
	uid_t uid;
	gid_t gid;
	char name[64];      /* for messages: "nobody" */
};

/* Creates dir and its missing parents with exactly `mode` (e.g. 0750; set
 * with chmod, so the umask does not decide). Each folder it creates is
 * given to the owner; folders that existed are left as they are
 * (fs_check_writable then says whether they will do). 0, or SW_EIO with
 * "DIR: reason" in err and errno set. */
int fs_mkdirs(const char *dir, mode_t mode, const struct fs_owner *own, char *err,
	      size_t errlen);

/* Gives a regular file (an output file the sensor opened as root) to the
 * owner, so the owner can open it again; anything else is left alone. */
int fs_chown_file(const char *path, const struct fs_owner *own, char *err, size_t errlen);

/* Gives dir and the regular files directly in it to the owner (a spool
 * folder an earlier run as root left). Nothing with FS_NO_OWNER. */
int fs_chown_dir(const char *dir, const struct fs_owner *own, char *err, size_t errlen);

/* Checks that the owner (or this process, with FS_NO_OWNER) can create a
 * file in dir, by creating and removing one; as another user the check
 * runs in a child process that has switched to that user. 0, or SW_EIO
 * with "DIR: not writable by USER: reason" in err. When dir does not exist
 * yet and `may_create` is set, the nearest existing parent is checked
 * instead, as this process (which would create it). */
int fs_check_writable(const char *dir, const struct fs_owner *own, int may_create,
		      char *err, size_t errlen);

/* Opens a file the sensor writes (an events file, a spool segment, the
 * spool cursor), creating it when missing with exactly `mode`: an
 * exclusive create, then fchmod, so the umask does not decide; a file that
 * exists keeps its mode. `flags` is O_WRONLY with O_APPEND or O_TRUNC as
 * needed; O_CLOEXEC and O_NOCTTY are added, and O_NOFOLLOW unless `follow`:
 * a symbolic link as the last component is refused (errno ELOOP). Returns
 * the descriptor, or -1 with errno set. */
int fs_open_create(const char *path, int flags, mode_t mode, int follow);

/* Opens a file the sensor reads (configuration, rules, a secret) only when
 * it is a regular file: the open is non-blocking, so a FIFO or a device
 * named by mistake or by malice cannot hold the start, and anything that
 * fstat(2) does not call a regular file is closed again and refused.
 * `flags` may add O_NOFOLLOW. Returns a blocking O_RDONLY|O_CLOEXEC
 * descriptor, or -1 with errno set (EINVAL for the wrong kind of file) and
 * the reason, for the caller to put after the file's name, in why ("a
 * FIFO, not a regular file"). */
int fs_open_regular(const char *path, int flags, char *why, size_t whylen);

/* Reads a secret (a password) from a file: its first line, without the
 * line end. Empty, longer than len-1 bytes, or unreadable: SW_EINVAL or
 * SW_EIO with "PATH: reason" in err. */
int fs_read_secret(const char *path, char *buf, size_t len, char *err, size_t errlen);

#endif
