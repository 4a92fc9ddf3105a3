/*
 * cmd_rotate.c - kubectl sopsenc rotate: a new data key for each FILE, every
 * value re-encrypted with it, wrapped for the same master keys (groups and
 * Shamir threshold kept), new lastmodified and MAC.  Comments and order
 * survive.  Data keys of all files are recovered in one batch and the new
 * ones wrapped in one batch; results are written only when every file
 * succeeded.
 */
#include "sopsenc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "rekey.h"
#include "sops/engine.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/log.h"

struct rotation {
	struct rk_file *files;
	size_t n;
	unsigned char (*old)[32];
	unsigned char (*new)[32];
};

static int open_values(struct rotation *r, bool ignore_mac)
{
	char hex[SOPS_MAC_HEX_LEN + 1];
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct rk_file *f = &r->files[i];

		if (sops_walk_decrypt(&f->docs, &f->md.rule,
				      f->md.mac_only_encrypted, r->old[i],
				      hex) < 0 ||
		    (!ignore_mac && sops_mac_check(&f->md, r->old[i], hex) < 0))
			return err_prefix("%s", f->path);
	}
	return 0;
}

static int wrap_new_keys(struct rotation *r)
{
	struct sops_metadata **md = calloc(r->n, sizeof(*md));
	size_t i;
	int rc;

	if (!md)
		return err_set(EXIT_FAILED, "out of memory");
	if (RAND_bytes((unsigned char *)r->new, (int)(r->n * 32)) != 1) {
		free(md);
		return err_set(EXIT_FAILED, "no random bytes for the data keys");
	}
	for (i = 0; i < r->n; i++)
		md[i] = &r->files[i].md;
	rc = sops_data_keys_wrap(md, r->n, r->new);
	free(md);
	return rc;
}

static int seal_values(struct rotation *r, const char *config)
{
	char hex[SOPS_MAC_HEX_LEN + 1];
	size_t i;
	int indent;

	for (i = 0; i < r->n; i++) {
		struct rk_file *f = &r->files[i];

		if (sops_walk_encrypt(&f->docs, &f->md.rule,
				      f->md.mac_only_encrypted, r->new[i],
				      hex) < 0)
			return err_prefix("%s", f->path);
		free(f->md.lastmodified);
		f->md.lastmodified = NULL;	/* sealed with "now" */
		if (sops_mac_seal(&f->md, r->new[i], hex) < 0 ||
		    rk_indent(config, f->out_fmt, &indent) < 0 ||
		    rk_emit(f, indent) < 0)
			return -1;
		f->changed = true;
	}
	return 0;
}

static int rotate_all(struct rotation *r, char **paths,
		      const struct sopsenc_args *a)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (rk_load(&r->files[i], paths[i], a) < 0)
			return -1;
	if (rk_recover(r->files, r->n, NULL, r->old) < 0 ||
	    open_values(r, a->ignore_mac) < 0 || wrap_new_keys(r) < 0 ||
	    seal_values(r, a->config) < 0 ||
	    rk_write_results(r->files, r->n, a) < 0)
		return -1;
	log_at(2, "rotated the data key of %zu file%s", r->n,
	       r->n == 1 ? "" : "s");
	return 0;
}

int sopsenc_rotate(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct rotation r = { 0 };
	size_t i;
	int rc = -1;

	if (rk_check_args(ctx, a) < 0)
		return -1;
	r.n = (size_t)ctx->argc;
	r.files = calloc(r.n, sizeof(*r.files));
	r.old = calloc(r.n, sizeof(*r.old));
	r.new = calloc(r.n, sizeof(*r.new));
	if (!r.files || !r.old || !r.new)
		err_set(EXIT_FAILED, "out of memory");
	else if (rk_begin(ctx, a->key_wrap) == 0) {
		rc = rotate_all(&r, ctx->argv, a);
		rk_end();
	}
	for (i = 0; r.files && i < r.n; i++)
		rk_file_free(&r.files[i]);
	if (r.old)
		explicit_bzero(r.old, r.n * sizeof(*r.old));
	if (r.new)
		explicit_bzero(r.new, r.n * sizeof(*r.new));
	free(r.files);
	free(r.old);
	free(r.new);
	return rc;
}
