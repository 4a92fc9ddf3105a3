/*
 * files.c - finding the bootstrap directory, reading and atomically
 * replacing files.
 */
#include "flux/kustomize.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

#define BOOTSTRAP_MARK "gotk-components.yaml"
#define MAX_DEPTH 12
#define MAX_FOUND 8

struct found {
	char *dirs[MAX_FOUND];
	size_t n;		/* may exceed MAX_FOUND: only counted */
};

static bool has_mark(const char *dir)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, BOOTSTRAP_MARK) >=
	    (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int walk(const char *dir, int depth, struct found *f)
{
	DIR *d;
	struct dirent *de;

	if (has_mark(dir)) {
		if (f->n < MAX_FOUND && !(f->dirs[f->n] = strdup(dir)))
			return err_set(EXIT_FAILED, "out of memory");
		f->n++;
		return 0;	/* a bootstrap directory holds no other */
	}
	if (depth >= MAX_DEPTH || !(d = opendir(dir)))
		return 0;	/* unreadable subdirectories are skipped */
	while ((de = readdir(d))) {
		char sub[4096];
		struct stat st;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		if (lstat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (walk(sub, depth + 1, f) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int several(const char *root, struct found *f)
{
	char list[1024] = "";
	size_t n = f->n < MAX_FOUND ? f->n : MAX_FOUND;

	qsort(f->dirs, n, sizeof(f->dirs[0]), cmp_str);
	for (size_t i = 0; i < n && i < 4; i++) {
		size_t used = strlen(list);

		snprintf(list + used, sizeof(list) - used, "%s%s",
			 i ? ", " : "", f->dirs[i]);
	}
	err_set(EXIT_USAGE, "%zu Flux bootstrap directories (holding "
		BOOTSTRAP_MARK ") under %s: %s%s", f->n, root, list,
		f->n > 4 ? ", ..." : "");
	return err_hint("name the one to change with --dir, e.g. --dir %s",
			f->dirs[0]);
}

int flux_find_bootstrap_dir(const char *root, char **dir)
{
	struct found f = { { NULL }, 0 };
	struct stat st;
	int rc = -1;

	*dir = NULL;
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		err_set(EXIT_USAGE, "%s: %s", root,
			stat(root, &st) == 0 ? "not a directory" :
			strerror(errno));
		return err_hint("pass --dir with the directory of your GitOps "
				"repository that holds " BOOTSTRAP_MARK);
	}
	if (walk(root, 0, &f) < 0)
		goto out;
	if (f.n == 0) {
		err_set(EXIT_USAGE, "no Flux bootstrap directory (holding "
			BOOTSTRAP_MARK ") under %s", root);
		err_hint("run this inside your GitOps repository, or pass "
			 "--dir with the directory flux bootstrap wrote (its "
			 "--path plus /flux-system)");
		goto out;
	}
	if (f.n > 1) {
		several(root, &f);
		goto out;
	}
	*dir = f.dirs[0];
	f.dirs[0] = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < f.n && i < MAX_FOUND; i++)
		free(f.dirs[i]);
	return rc;
}

int flux_read_file(const char *path, struct buf *out, bool *exists)
{
	char chunk[8192];
	FILE *fp = fopen(path, "rb");
	size_t n;

	buf_reset(out);
	*exists = fp != NULL;
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		err_set(EXIT_USAGE, "cannot read %s: %s", path,
			strerror(errno));
		return err_hint("check the path and its permissions");
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(out, chunk, n) < 0) {
			fclose(fp);
			return -1;
		}
	if (ferror(fp)) {
		fclose(fp);
		return err_set(EXIT_USAGE, "cannot read %s", path);
	}
	fclose(fp);
	return buf_append(out, "", 0);
}
