#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

int fs_read_all(const char *path, struct buf *b)
{
	bool is_stdin = !strcmp(path, "-");
	int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];
	ssize_t n;
	struct stat st;

	if (fd < 0)
		return err_set(EXIT_USAGE, "cannot read %s: %s", path,
			       strerror(errno));
	if (!is_stdin && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    buf_reserve(b, (size_t)st.st_size) < 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(b, tmp, (size_t)n) < 0) {
			int e = errno;

			if (!is_stdin)
				close(fd);
			return n < 0 ? err_set(EXIT_USAGE, "cannot read %s: %s",
					       is_stdin ? "standard input" : path,
					       strerror(e)) : -1;
		}
	}
	if (!is_stdin)
		close(fd);
	return 0;
}

int fs_write_fd(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(EXIT_WRITE, "write failed: %s",
				       strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory part of path ("." when none). */
static void dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static mode_t new_mode(void)
{
	mode_t um = umask(0);

	umask(um);
	return 0666 & ~um;
}

static int sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	dir_of(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* best effort */
	fsync(fd);
	close(fd);
	return 0;
}

static int write_temp(const char *tmpl_path, char *tmp, size_t cap,
		      const void *data, size_t len, mode_t mode)
{
	int fd;

	snprintf(tmp, cap, "%s.tmp-XXXXXX", tmpl_path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(EXIT_WRITE, "cannot create a temporary file "
			       "beside %s: %s", tmpl_path, strerror(errno));
	if (fchmod(fd, mode) < 0 || fs_write_fd(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return err_set(EXIT_WRITE, "cannot write %s: %s", tmpl_path,
			       strerror(e));
	}
	if (close(fd) < 0) {
		unlink(tmp);
		return err_set(EXIT_WRITE, "cannot write %s: %s", tmpl_path,
			       strerror(errno));
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode)
{
	char target[PATH_MAX], tmp[PATH_MAX + 16];
	struct stat st;

	if (!realpath(path, target)) {
		if (errno != ENOENT)
			return err_set(EXIT_WRITE, "cannot write %s: %s", path,
				       strerror(errno));
		snprintf(target, sizeof(target), "%s", path);
	}
	if (stat(target, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(EXIT_WRITE, "cannot write %s: not a regular "
			       "file", path);
	if (mode == FS_KEEP_MODE)
		mode = stat(target, &st) == 0 ? (st.st_mode & 07777) : new_mode();
	if (write_temp(target, tmp, sizeof(tmp), data, len, mode) < 0)
		return -1;
	if (rename(tmp, target) < 0) {
		int e = errno;

		unlink(tmp);
		return err_set(EXIT_WRITE, "cannot replace %s: %s", path,
			       strerror(e));
	}
	return sync_dir(target);
}
