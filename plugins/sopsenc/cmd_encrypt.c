/* cmd_encrypt.c - kubectl sopsenc encrypt. */
#include "sopsenc.h"

#include <stdio.h>
#include <string.h>

#include "manifest/manifest.h"
#include "sops/files.h"
#include "util/err.h"
#include "util/log.h"

/* Shared with cmd_decrypt.c through sopsenc_file_opts(). */
void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o);

void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->age = a->age;
	o->azure_kv = a->azure_kv;
	o->config = a->config;
	o->rules[SOPS_RULE_ENCRYPTED_REGEX] = a->encrypted_regex;
	o->rules[SOPS_RULE_UNENCRYPTED_REGEX] = a->unencrypted_regex;
	o->rules[SOPS_RULE_ENCRYPTED_SUFFIX] = a->encrypted_suffix;
	o->rules[SOPS_RULE_UNENCRYPTED_SUFFIX] = a->unencrypted_suffix;
	o->rules[SOPS_RULE_ENCRYPTED_COMMENT_REGEX] = a->encrypted_comment_regex;
	o->rules[SOPS_RULE_UNENCRYPTED_COMMENT_REGEX] =
		a->unencrypted_comment_regex;
	o->mac_only_encrypted = a->mac_only_encrypted;
	o->input_type = a->input_type;
	o->output_type = a->output_type;
	o->output_path = a->output_path;
	o->in_place = a->in_place;
	o->ignore_mac = a->ignore_mac;
	o->extract = a->extract;
}

/* Runs fn on every operand; stops at the first failure. */
int sopsenc_each_file(struct cli_ctx *ctx, const struct sops_file_opts *o,
		      int (*fn)(const char *, const struct sops_file_opts *));

int sopsenc_each_file(struct cli_ctx *ctx, const struct sops_file_opts *o,
		      int (*fn)(const char *, const struct sops_file_opts *))
{
	int i;

	if (ctx->argc == 0)
		return cli_usage_error(ctx, "no FILE given (use - for standard "
				       "input)");
	if (ctx->argc > 1 && o->output_path)
		return cli_usage_error(ctx, "--output takes one FILE, %d given",
				       ctx->argc);
	for (i = 0; i < ctx->argc; i++)
		if (fn(ctx->argv[i], o) < 0)
			return -1;
	return 0;
}

struct walk_state {
	const struct sops_file_opts *o;
	size_t encrypted, skipped;
};

/* -r: a file is encrypted when it holds a Secret and no sops metadata. */
static int visit(const char *path, void *arg)
{
	struct walk_state *w = arg;
	struct secret_docs docs = { 0 };
	bool secret = false, sops = false;
	size_t i;
	int rc;

	if (manifest_scan_file(path, &docs) < 0)
		return -1;
	for (i = 0; i < docs.n; i++) {
		secret = true;
		sops = sops || docs.v[i].sops;
	}
	secret_docs_free(&docs);
	if (!secret || sops) {
		w->skipped += secret;
		return 0;
	}
	rc = sops_file_encrypt(path, w->o);
	if (rc == 0) {
		w->encrypted++;
		log_at(LOG_STEPS, "encrypted %s", path);
	}
	return rc;
}

static int encrypt_tree(struct cli_ctx *ctx, const struct sops_file_opts *o)
{
	struct walk_state w = { o, 0, 0 };

	if (!o->in_place)
		return cli_usage_error(ctx, "--recursive writes each file in "
				       "place: add -i");
	if (ctx->argc == 0)
		return cli_usage_error(ctx, "no PATH given");
	if (manifest_walk((const char *const *)ctx->argv, (size_t)ctx->argc,
			  visit, &w) < 0)
		return -1;
	fprintf(stderr, "%zu file(s) encrypted, %zu already encrypted\n",
		w.encrypted, w.skipped);
	return 0;
}

int sopsenc_encrypt(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct sops_file_opts o;

	sopsenc_file_opts(a, &o);
	if (a->recursive)
		return encrypt_tree(ctx, &o);
	return sopsenc_each_file(ctx, &o, sops_file_encrypt);
}
