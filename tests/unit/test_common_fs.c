/* test_common_fs.c — folders for the run user, write checks, secret files
 * (common/fs.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/fs.h"

static char tmp[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sw-fs-XXXXXX");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Missing parents are made; trailing slashes and an existing folder are
 * fine; a file in the way is an error naming it. */
static void test_mkdirs(void **state)
{
	(void)state;
	char d[128], err[256];
	struct stat st;

	snprintf(d, sizeof(d), "%s/a/b/c/", tmp);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), 0);
	put("file", "x");
	snprintf(d, sizeof(d), "%s/file/sub", tmp);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), SW_EIO);
	assert_non_null(strstr(err, "/file"));
	snprintf(d, sizeof(d), "%s/file", tmp);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), SW_EIO);
	assert_non_null(strstr(err, "not a folder"));
	assert_int_equal(fs_mkdirs("", 0750, NULL, err, sizeof(err)), SW_EINVAL);
}

/* A folder that takes a file passes (and keeps no probe behind); one that
 * does not exist fails unless it may be created in a writable parent; a
 * read-only file system fails even for root. */
static void test_check_writable(void **state)
{
	(void)state;
	char d[128], err[256];

	assert_int_equal(fs_check_writable(tmp, NULL, 0, err, sizeof(err)), 0);
	snprintf(d, sizeof(d), "%s/not/yet", tmp);
	assert_int_equal(fs_check_writable(d, NULL, 1, err, sizeof(err)), 0);
	assert_int_equal(fs_check_writable(d, NULL, 0, err, sizeof(err)), SW_EIO);
	assert_int_equal(fs_check_writable("/proc/sw-spool", NULL, 1, err, sizeof(err)), SW_EIO);
	assert_non_null(strstr(err, "/proc: not writable"));
	assert_int_equal(fs_check_writable("/proc", NULL, 0, err, sizeof(err)), SW_EIO);
	/* the probe file is gone: the folder is as empty as it was */
	DIR *dd = opendir(tmp);
	struct dirent *de;
	int n = 0;
	assert_non_null(dd);
	while ((de = readdir(dd)) != NULL)
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".stubwatch", 10) == 0;
	closedir(dd);
	assert_int_equal(n, 0);
}

/* The first line without its end; CRLF; empty and over-long secrets are
 * refused (never cut: a cut password is another password). */
static void test_read_secret(void **state)
{
	(void)state;
	char p[128], buf[8], err[256];

	put("pw", "s3cret\nsecond line\n");
	snprintf(p, sizeof(p), "%s/pw", tmp);
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "s3cret");
	put("pw", "1234567\r\n");
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "1234567");
	put("pw", "1234567");
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "1234567");
	put("pw", "12345678\n");
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), SW_EINVAL);
	assert_non_null(strstr(err, "longer than 7"));
	put("pw", "\n");
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), SW_EINVAL);
	assert_non_null(strstr(err, "empty"));
	snprintf(p, sizeof(p), "%s/none", tmp);
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), SW_EIO);
	assert_non_null(strstr(err, "No such file"));
}

/* Nothing is given away without an owner. */
/* Files the sensor reads open only when regular: a FIFO (no writer: a
 * blocking open would wait for ever), a device and a folder are refused at
 * once with their kind; a symbolic link only when asked not to follow. */
static void test_open_regular(void **state)
{
	(void)state;
	char p[128], l[128], why[128];
	int fd;

	put("plain", "x\n");
	snprintf(p, sizeof(p), "%s/plain", tmp);
	fd = fs_open_regular(p, 0, why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	snprintf(l, sizeof(l), "%s/link", tmp);
	assert_int_equal(symlink(p, l), 0);
	fd = fs_open_regular(l, 0, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fs_open_regular(l, O_NOFOLLOW, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "symbolic link"));

	snprintf(p, sizeof(p), "%s/fifo", tmp);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(fs_open_regular(p, 0, why, sizeof(why)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(why, "a FIFO, not a regular file"));
	assert_int_equal(fs_open_regular("/dev/zero", 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "character device"));
	assert_int_equal(fs_open_regular(tmp, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "folder"));
	snprintf(p, sizeof(p), "%s/missing", tmp);
	assert_int_equal(fs_open_regular(p, 0, why, sizeof(why)), -1);
	assert_int_equal(errno, ENOENT);

	/* A secret in a FIFO: refused, not waited for. */
	char buf[64], err[256];
	snprintf(p, sizeof(p), "%s/fifo", tmp);
	assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), SW_EIO);
	assert_non_null(strstr(err, "FIFO"));
}

/* Files and folders the sensor creates get their mode whatever the umask;
 * a file that exists keeps its own; a symbolic link is written through
 * only when asked. */
static void test_open_create(void **state)
{
	(void)state;
	char p[128], l[128], d[128], err[256];
	struct stat st;
	mode_t old = umask(0077);
	int fd;

	snprintf(p, sizeof(p), "%s/new.json", tmp);
	fd = fs_open_create(p, O_WRONLY | O_APPEND, 0640, 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(d, sizeof(d), "%s/x/y", tmp);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	umask(0);
	snprintf(d, sizeof(d), "%s/x/z", tmp);
	assert_int_equal(fs_mkdirs(d, 0750, NULL, err, sizeof(err)), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(p, sizeof(p), "%s/open.json", tmp);
	fd = fs_open_create(p, O_WRONLY | O_TRUNC, 0600, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);
	assert_int_equal(chmod(p, 0604), 0);
	fd = fs_open_create(p, O_WRONLY | O_APPEND, 0640, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);   /* the operator's mode stays */

	put("target", "keep\n");
	snprintf(p, sizeof(p), "%s/target", tmp);
	snprintf(l, sizeof(l), "%s/link.json", tmp);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(fs_open_create(l, O_WRONLY | O_APPEND, 0640, 0), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 5);
	fd = fs_open_create(l, O_WRONLY | O_APPEND, 0640, 1);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 7);
	/* a dangling link: refused, or its target created when followed */
	snprintf(p, sizeof(p), "%s/made-through-link", tmp);
	snprintf(l, sizeof(l), "%s/dangling.json", tmp);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(fs_open_create(l, O_WRONLY | O_APPEND, 0640, 0), -1);
	assert_int_equal(lstat(p, &st), -1);
	fd = fs_open_create(l, O_WRONLY | O_APPEND, 0640, 1);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lstat(p, &st), 0);
}

static void test_no_owner(void **state)
{
	(void)state;
	struct fs_owner none = { FS_NO_OWNER, (gid_t)-1, "" };
	char err[256];

	assert_int_equal(fs_chown_dir(tmp, &none, err, sizeof(err)), 0);
	assert_int_equal(fs_chown_file("/etc/passwd", &none, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
