/*
 * fsutil.h - reading input files and writing output files safely.
 *
 * fs_write_atomic() never leaves a half-written file: it writes a temporary
 * file in the same directory, fsyncs it, renames it over the target and
 * fsyncs the directory.  On any error the target is untouched and the
 * temporary file removed.
 */
#ifndef COMMON_UTIL_FSUTIL_H
#define COMMON_UTIL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

/* Reads a whole file ("-" = standard input) into b (appends).  Returns 0,
 * or -1 with err_set(EXIT_USAGE, "cannot read PATH: why"). */
int fs_read_all(const char *path, struct buf *b);

#define FS_KEEP_MODE ((mode_t)-1)

/*
 * Replaces (or creates) path with data, atomically.  mode: the new file's
 * permissions, or FS_KEEP_MODE to keep those of an existing file (0644
 * less the umask for a new one).  A symlink is followed: the file it points
 * to is replaced.  Returns 0, or -1 with err_set(EXIT_WRITE, ...).
 */
int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode);

/*
 * The same in steps, for output written as it is produced: begin creates
 * the temporary file (a->fd is open for writing), commit syncs it and
 * renames it over the target, abort removes it.  Both end the transaction.
 */
struct fs_atomic {
	char target[4096];
	char tmp[4112];
	int fd;
};
int fs_atomic_begin(struct fs_atomic *a, const char *path, mode_t mode);
int fs_atomic_commit(struct fs_atomic *a);
void fs_atomic_abort(struct fs_atomic *a);

/*
 * Maps a regular file read-only and private (no copy in the heap; a reader
 * may drop pages it has finished with, fs_map_release).  Returns 1 when
 * mapped, 0 when the path is not a regular file or is empty (use
 * fs_read_all instead), -1 with err_set(EXIT_USAGE) when unreadable.
 */
int fs_map_file(const char *path, const char **data, size_t *len);
void fs_map_release(const char *data, size_t upto);
void fs_unmap(const char *data, size_t len);

/* Writes all of data to fd (retrying short writes). -1 with EXIT_WRITE. */
int fs_write_fd(int fd, const void *data, size_t len);

#endif
