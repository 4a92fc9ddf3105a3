/*
 * recursive.c - kubectl sopsenc encrypt -r: every Secret manifest not yet
 * encrypted under the given files and directories, in place, all or
 * nothing.
 *
 * Selection (no key needed): manifest_walk() lists the manifest files,
 * manifest_scan_file() their Secret documents.  A file is encrypted when
 * it has a Secret document without sops metadata and with at least one
 * data/stringData value; a file carrying sops metadata is "already
 * encrypted"; anything else (other kinds, empty Secrets, files that are
 * not YAML/JSON) is "without Secrets".
 *
 * Writing: each file is encrypted by the engine (keys and rules from the
 * flags or its .sops.yaml creation rule) into a temporary file beside it;
 * only when all of them are written are they synced and renamed over the
 * originals (rekey.h).  The azure_kv key caches the public key for the run, so with
 * --key-wrap auto the whole run costs one Key Vault request.
 */
#include "recursive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/output.h"
#include "manifest/manifest.h"
#include "rekey.h"
#include "sops/files.h"
#include "util/err.h"
#include "util/log.h"

/* cmd_encrypt.c */
void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o);

struct pick {
	char *path;
	bool named;		/* given as an operand, not found by walking */
};

struct selection {
	struct pick *v;
	size_t n, cap;
	size_t already;		/* files with sops metadata */
	size_t without;		/* files without a plaintext Secret */
	bool named;		/* the file being visited is an operand */
};

static int select_push(struct selection *s, const char *path)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pick *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return err_set(EXIT_FAILED, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].path = strdup(path);
	if (!s->v[s->n].path)
		return err_set(EXIT_FAILED, "out of memory");
	s->v[s->n++].named = s->named;
	return 0;
}

static void select_free(struct selection *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

static int already_encrypted(const char *path)
{
	err_set(EXIT_ENCRYPTED, "%s: File already encrypted: it already has "
		"sops metadata", path);
	return err_hint("leave it out, or change its keys with 'kubectl "
			"sopsenc rotate' or 'updatekeys'");
}

static int visit(const char *path, void *arg)
{
	struct selection *s = arg;
	struct secret_docs d = { 0 };
	bool sops = false, plain = false;
	size_t i;

	if (manifest_scan_file(path, &d) < 0) {
		secret_docs_free(&d);
		if (s->named)
			return -1;
		log_warn("skipping %s: %s", path, err_msg());
		err_clear();
		s->without++;
		return 0;
	}
	for (i = 0; i < d.n; i++) {
		sops |= d.v[i].sops;
		plain |= !d.v[i].sops && d.v[i].nleaves > 0;
	}
	secret_docs_free(&d);
	if (sops && s->named)
		return already_encrypted(path);
	if (sops)
		s->already++;
	else if (plain)
		return select_push(s, path);
	else
		s->without++;
	return 0;
}

static int select_files(struct cli_ctx *ctx, struct selection *s)
{
	int i;

	for (i = 0; i < ctx->argc; i++) {
		const char *p = ctx->argv[i];
		struct stat st;

		if (stat(p, &st) < 0)
			return err_set(EXIT_USAGE, "cannot read %s: no such "
				       "file or directory", p);
		s->named = !S_ISDIR(st.st_mode);
		if (manifest_walk(&p, 1, visit, s) < 0)
			return -1;
	}
	return 0;
}

/* Keeps the failing key's remedy and says that no file was touched. */
static int nothing_changed(void)
{
	char hint[ERR_MSG_MAX];

	snprintf(hint, sizeof(hint), "%s", err_remedy());
	if (!*hint)
		return err_hint("no file was changed");
	return err_hint("%s (no file was changed)", hint);
}

/* Encrypts one file into a staged temporary file.  Returns 1 when the
 * engine found it already encrypted (skipped), 0 when staged, -1. */
static int encrypt_one(const struct pick *p, const struct sops_file_opts *o,
		       struct rk_stage *st)
{
	struct buf out = BUF_INIT;
	int rc;

	if (sops_file_encrypt_to(p->path, o, &out) < 0) {
		buf_free(&out);
		if (err_code() == EXIT_ENCRYPTED && p->named)
			return already_encrypted(p->path);
		if (err_code() == EXIT_ENCRYPTED) {
			err_clear();
			return 1;
		}
		return nothing_changed();
	}
	rc = rk_stage_write(st, p->path, out.data, out.len);
	buf_free(&out);
	return rc;
}

static int encrypt_selected(struct selection *s, const struct sopsenc_args *a,
			    size_t *done)
{
	struct sops_file_opts o;
	struct rk_stage st = { 0 };
	size_t i;
	int rc = 0, r;

	sopsenc_file_opts(a, &o);
	o.in_place = false;
	o.output_path = NULL;
	for (i = 0; i < s->n && rc == 0; i++) {
		progress_update("encrypting %zu/%zu %s", i + 1, s->n,
				s->v[i].path);
		r = encrypt_one(&s->v[i], &o, &st);
		if (r < 0)
			rc = -1;
		else if (r > 0)
			s->already++;
	}
	progress_done();
	if (rc == 0)
		rc = rk_stage_commit(&st);
	*done = st.n;
	rk_stage_free(&st);
	return rc;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

int sopsenc_encrypt_recursive(struct cli_ctx *ctx, const struct sopsenc_args *a)
{
	struct selection s = { 0 };
	size_t done = 0;
	int rc = -1;

	if (ctx->argc == 0)
		return cli_usage_error(ctx, "--recursive needs a directory or "
				       "file");
	if (a->output_path)
		return cli_usage_error(ctx, "--recursive writes files in place: "
				       "use -i, not --output");
	if (!a->in_place)
		return cli_usage_error(ctx, "--recursive writes files in place: "
				       "add -i");
	if (rk_begin(ctx, a->key_wrap) < 0)
		return -1;
	if (select_files(ctx, &s) == 0 &&
	    encrypt_selected(&s, a, &done) == 0) {
		printf("encrypted %zu file%s, skipped %zu (%zu already "
		       "encrypted, %zu without Secrets)\n", done, plural(done),
		       s.already + s.without, s.already, s.without);
		rc = 0;
	}
	rk_end();
	select_free(&s);
	return rc;
}
