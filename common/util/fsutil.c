#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int fs_atomic_begin(struct fs_atomic *a, const char *path, mode_t mode)
{
	struct stat st;

	a->fd = -1;
	if (!realpath(path, a->target)) {
		if (errno != ENOENT)
			return err_set(EXIT_WRITE, "cannot write %s: %s", path,
				       strerror(errno));
		snprintf(a->target, sizeof(a->target), "%s", path);
	}
	if (stat(a->target, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(EXIT_WRITE, "cannot write %s: not a regular "
			       "file", path);
	if (mode == FS_KEEP_MODE)
		mode = stat(a->target, &st) == 0 ? (st.st_mode & 07777) :
		       new_mode();
	snprintf(a->tmp, sizeof(a->tmp), "%s.tmp-XXXXXX", a->target);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0)
		return err_set(EXIT_WRITE, "cannot create a temporary file "
			       "beside %s: %s", path, strerror(errno));
	if (fchmod(a->fd, mode) < 0) {
		int e = errno;

		fs_atomic_abort(a);
		return err_set(EXIT_WRITE, "cannot set the mode of %s: %s",
			       path, strerror(e));
	}
	return 0;
}

void fs_atomic_abort(struct fs_atomic *a)
{
	if (a->fd >= 0) {
		close(a->fd);
		unlink(a->tmp);
	}
	a->fd = -1;
}

int fs_atomic_commit(struct fs_atomic *a)
{
	int fd = a->fd;

	if (fd < 0)
		return err_set(EXIT_WRITE, "no file is being written");
	if (fsync(fd) < 0) {
		int e = errno;

		fs_atomic_abort(a);
		return err_set(EXIT_WRITE, "cannot write %s: %s", a->target,
			       strerror(e));
	}
	a->fd = -1;
	if (close(fd) < 0 || rename(a->tmp, a->target) < 0) {
		int e = errno;

		unlink(a->tmp);
		return err_set(EXIT_WRITE, "cannot replace %s: %s", a->target,
			       strerror(e));
	}
	return sync_dir(a->target);
}

int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode)
{
	struct fs_atomic a;

	if (fs_atomic_begin(&a, path, mode) < 0)
		return -1;
	if (fs_write_fd(a.fd, data, len) < 0) {
		fs_atomic_abort(&a);
		return err_prefix("%s", path);
	}
	return fs_atomic_commit(&a);
}

int fs_map_file(const char *path, const char **data, size_t *len)
{
	struct stat st;
	void *p;
	int fd;

	if (!strcmp(path, "-"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(EXIT_USAGE, "cannot read %s: %s", path,
			       strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	*data = p;
	*len = (size_t)st.st_size;
	return 1;
}

/* Drops the whole pages before upto from memory (they are read again from
 * the file if touched). */
void fs_map_release(const char *data, size_t upto)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	upto -= upto % pg;
	if (upto)
		madvise((void *)(uintptr_t)data, upto, MADV_DONTNEED);
}

void fs_unmap(const char *data, size_t len)
{
	if (data && len)
		munmap((void *)(uintptr_t)data, len);
}
