/* cmd_encrypt.c - kubectl sopsenc encrypt. */
#include "sopsenc.h"

#include <string.h>

#include "recursive.h"
#include "rekey.h"
#include "sops/files.h"
#include "util/err.h"

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

int sopsenc_encrypt(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct sops_file_opts o;

	int rc;

	if (a->recursive)
		return sopsenc_encrypt_recursive(ctx, a);
	sopsenc_file_opts(a, &o);
	if (rk_begin(ctx, a->key_wrap) < 0)
		return -1;
	rc = sopsenc_each_file(ctx, &o, sops_file_encrypt);
	rk_end();
	return rc;
}
