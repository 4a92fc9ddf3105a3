/* rekey.c - shared by rotate, updatekeys and encrypt -r (see rekey.h). */
#include "rekey.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azure/azkv_key.h"
#include "sops/config.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"

static bool is_stdin(const char *path)
{
	return !strcmp(path, "-");
}

static enum sops_format stored_as(enum sops_format f)
{
	return f == SOPS_FMT_BINARY ? SOPS_FMT_JSON : f;
}

static int pick_formats(struct rk_file *f, const struct sopsenc_args *a)
{
	if (a->input_type)
		f->in_fmt = sops_format_from_type(a->input_type);
	else
		f->in_fmt = is_stdin(f->path) ? SOPS_FMT_YAML :
			    sops_format_from_path(f->path);
	f->out_fmt = a->output_type ? sops_format_from_type(a->output_type) :
		     f->in_fmt;
	if (f->in_fmt == SOPS_FMT_NONE || f->out_fmt == SOPS_FMT_NONE)
		return err_set(EXIT_USAGE, "unknown --input-type or "
			       "--output-type: use yaml, json, dotenv or "
			       "binary");
	f->store = stored_as(f->in_fmt);
	return 0;
}

int rk_load(struct rk_file *f, const char *path, const struct sopsenc_args *a)
{
	int found;

	memset(f, 0, sizeof(*f));
	f->path = path;
	buf_init(&f->src);
	buf_init(&f->out);
	if (pick_formats(f, a) < 0 || fs_read_all(path, &f->src) < 0)
		return -1;
	if (sops_store_parse(f->store, f->src.data ? f->src.data : "",
			     f->src.len, &f->docs) < 0)
		return err_prefix("%s", path);
	found = sops_metadata_extract(&f->docs, f->store, &f->md);
	if (found < 0)
		return err_prefix("%s", path);
	if (found == 0) {
		err_set(EXIT_FAILED, "%s: sops metadata not found: the file is "
			"not encrypted", path);
		return err_hint("encrypt it first: kubectl sopsenc -i %s", path);
	}
	return 0;
}

void rk_file_free(struct rk_file *f)
{
	sops_docs_free(&f->docs);
	sops_metadata_free(&f->md);
	buf_free(&f->src);
	buf_free(&f->out);
}

int rk_recover(struct rk_file *files, size_t n, const bool *use,
	       unsigned char (*keys)[32])
{
	struct sops_metadata **md = calloc(n ? n : 1, sizeof(*md));
	unsigned char (*got)[32] = calloc(n ? n : 1, sizeof(*got));
	struct err_record *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	int *status = calloc(n ? n : 1, sizeof(*status));
	size_t i, m = 0;
	int rc = -1;

	if (!md || !got || !errs || !idx || !status) {
		err_set(EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!use || use[i]) {
			idx[m] = i;
			md[m++] = &files[i].md;
		}
	if (m && sops_data_keys_recover(md, m, got, status, errs) < 0) {
		for (i = 0; i < m && status[i] == 0; i++)
			;
		err_restore(&errs[i < m ? i : 0]);
		err_prefix("%s", files[idx[i < m ? i : 0]].path);
		if (!*err_remedy())
			err_hint("give an age identity (SOPS_AGE_KEY_FILE) or Azure "
				 "credentials that may decrypt with one of the "
				 "file's keys; no file was changed");
		goto out;
	}
	for (i = 0; i < m; i++)
		memcpy(keys[idx[i]], got[i], 32);
	rc = 0;
out:
	if (got)
		explicit_bzero(got, (n ? n : 1) * sizeof(*got));
	free(md);
	free(got);
	free(errs);
	free(idx);
	free(status);
	return rc;
}

int rk_emit(struct rk_file *f, int indent)
{
	enum sops_format of = stored_as(f->out_fmt);

	buf_reset(&f->out);
	if (sops_metadata_insert(&f->docs, of, &f->md) < 0 ||
	    sops_store_emit(of, &f->docs, indent, &f->out) < 0)
		return err_prefix("%s", f->path);
	return 0;
}

int rk_indent(const char *config, enum sops_format f, int *indent)
{
	struct sops_config c;

	memset(&c, 0, sizeof(c));
	*indent = 0;
	if (sops_config_load(config, &c) < 0)
		return -1;
	if (f == SOPS_FMT_YAML)
		*indent = c.yaml_indent;
	else if (f == SOPS_FMT_JSON || f == SOPS_FMT_BINARY)
		*indent = c.json_indent;
	sops_config_free(&c);
	return 0;
}

int rk_begin(const struct cli_ctx *ctx, const char *key_wrap)
{
	struct azkv_options ao = { ctx->g.azure_auth,
				   ctx->g.request_timeout_ms, key_wrap };

	/* Past RLIMIT_FSIZE a write fails (EFBIG) and the staged files are
	 * removed; the default action would kill us and leave them. */
	signal(SIGXFSZ, SIG_IGN);
	return azkv_register(&ao);
}

void rk_end(void)
{
	log_at(2, "Key Vault requests: %u", azkv_requests());
	azkv_shutdown();
}

/* ---- all-or-nothing writes ---------------------------------------------- */

static int stage_grow(struct rk_stage *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16;
	char **t, **p;

	if (s->n < s->cap)
		return 0;
	t = realloc(s->target, cap * sizeof(*t));
	if (t)
		s->target = t;
	p = t ? realloc(s->tmp, cap * sizeof(*p)) : NULL;
	if (p)
		s->tmp = p;
	if (!t || !p)
		return err_set(EXIT_FAILED, "out of memory");
	s->cap = cap;
	return 0;
}

int rk_stage_name(struct rk_stage *s, const char *target, char **tmp,
		  char **real_target, mode_t *mode)
{
	char real[PATH_MAX];
	struct stat st;

	*tmp = NULL;
	*real_target = NULL;
	if (!realpath(target, real) || stat(real, &st) < 0)
		return err_set(EXIT_WRITE, "cannot write %s: %s", target,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(EXIT_WRITE, "cannot write %s: not a regular "
			       "file", target);
	*mode = st.st_mode & 07777;
	if (asprintf(tmp, "%s.sopsenc-%ld-%u~", real, (long)getpid(),
		     s->seq++) < 0) {
		*tmp = NULL;
		return err_set(EXIT_FAILED, "out of memory");
	}
	*real_target = strdup(real);
	if (!*real_target) {
		free(*tmp);
		*tmp = NULL;
		return err_set(EXIT_FAILED, "out of memory");
	}
	return 0;
}

int rk_stage_take(struct rk_stage *s, char *real_target, char *tmp)
{
	if (stage_grow(s) < 0) {
		unlink(tmp);
		free(tmp);
		free(real_target);
		return -1;
	}
	s->target[s->n] = real_target;
	s->tmp[s->n++] = tmp;
	return 0;
}

/* A new file holding data, not synced yet: rk_stage_commit() syncs every
 * staged file with one syncfs() per file system before renaming. */
static int write_unsynced(const char *tmp, const void *data, size_t len,
			  mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int e;

	if (fd < 0)
		return err_set(EXIT_WRITE, "cannot create a temporary file "
			       "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) == 0 && fs_write_fd(fd, data, len) == 0 &&
	    close(fd) == 0)
		return 0;
	e = errno;
	close(fd);
	unlink(tmp);
	return err_set(EXIT_WRITE, "cannot write %s: %s", tmp, strerror(e));
}

int rk_stage_write(struct rk_stage *s, const char *target, const void *data,
		   size_t len)
{
	char *tmp, *real;
	mode_t mode;

	if (rk_stage_name(s, target, &tmp, &real, &mode) < 0)
		return -1;
	if (write_unsynced(tmp, data ? data : "", len, mode) < 0) {
		free(tmp);
		free(real);
		return err_prefix("%s (nothing was changed)", target);
	}
	return rk_stage_take(s, real, tmp);
}

/* Every staged file reaches the disk: one syncfs() per file system. */
static int sync_staged(const struct rk_stage *s)
{
	dev_t seen[16];
	size_t i, j, nseen = 0;

	for (i = 0; i < s->n; i++) {
		struct stat st;
		int fd = -1, rc;

		if (stat(s->tmp[i], &st) < 0)
			return err_set(EXIT_WRITE, "cannot write %s: %s",
				       s->target[i], strerror(errno));
		for (j = 0; j < nseen && seen[j] != st.st_dev; j++)
			;
		if (j < nseen)
			continue;
		fd = open(s->tmp[i], O_RDONLY | O_CLOEXEC);
		rc = fd < 0 ? -1 : syncfs(fd);
		if (rc < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return err_set(EXIT_WRITE, "cannot write %s: %s (nothing "
				       "was changed)", s->target[i], strerror(e));
		}
		close(fd);
		if (nseen < 16)
			seen[nseen++] = st.st_dev;
	}
	return 0;
}

static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash || slash == path)
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

static bool same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');

	return sa && sb && sa - a == sb - b && !memcmp(a, b, (size_t)(sa - a));
}

int rk_stage_commit(struct rk_stage *s)
{
	size_t i;

	if (sync_staged(s) < 0)
		return -1;
	for (i = 0; i < s->n; i++) {
		if (rename(s->tmp[i], s->target[i]) < 0)
			return err_set(EXIT_WRITE, "cannot replace %s: %s (the "
				       "files before it were written)",
				       s->target[i], strerror(errno));
		free(s->tmp[i]);
		s->tmp[i] = NULL;
		if (i + 1 == s->n || !same_dir(s->target[i], s->target[i + 1]))
			sync_parent(s->target[i]);
	}
	return 0;
}

void rk_stage_free(struct rk_stage *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->tmp[i])
			unlink(s->tmp[i]);
		free(s->tmp[i]);
		free(s->target[i]);
	}
	free(s->tmp);
	free(s->target);
	memset(s, 0, sizeof(*s));
}

static const struct buf *result_of(const struct rk_file *f)
{
	return f->changed ? &f->out : &f->src;
}

static int write_in_place(struct rk_file *files, size_t n)
{
	struct rk_stage s = { 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		if (files[i].changed)
			rc = rk_stage_write(&s, files[i].path, files[i].out.data,
					    files[i].out.len);
	if (rc == 0)
		rc = rk_stage_commit(&s);
	rk_stage_free(&s);
	return rc;
}

int rk_write_results(struct rk_file *files, size_t n,
		     const struct sopsenc_args *a)
{
	size_t i;

	if (a->in_place)
		return write_in_place(files, n);
	if (a->output_path) {
		const struct buf *b = result_of(&files[0]);

		return fs_write_atomic(a->output_path, b->data ? b->data : "",
				       b->len, FS_KEEP_MODE);
	}
	for (i = 0; i < n; i++) {
		const struct buf *b = result_of(&files[i]);

		if (fs_write_fd(1, b->data ? b->data : "", b->len) < 0)
			return err_prefix("standard output");
	}
	return 0;
}

int rk_check_args(struct cli_ctx *ctx, const struct sopsenc_args *a)
{
	int i;

	if (ctx->argc == 0)
		return cli_usage_error(ctx, "no FILE given");
	if (a->in_place && a->output_path)
		return cli_usage_error(ctx, "--in-place and --output cannot be "
				       "used together");
	if (a->output_path && ctx->argc > 1)
		return cli_usage_error(ctx, "--output takes one FILE, %d given",
				       ctx->argc);
	for (i = 0; a->in_place && i < ctx->argc; i++)
		if (is_stdin(ctx->argv[i]))
			return cli_usage_error(ctx, "--in-place needs a file, "
					       "not standard input");
	return 0;
}
