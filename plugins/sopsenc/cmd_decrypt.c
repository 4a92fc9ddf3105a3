/* cmd_decrypt.c - kubectl sopsenc decrypt. */
#include "sopsenc.h"

#include "rekey.h"
#include "sops/files.h"

void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o);

int sopsenc_decrypt(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct sops_file_opts o;
	int rc;

	sopsenc_file_opts(a, &o);
	if (ctx->argc == 0)
		return cli_usage_error(ctx, "no FILE given (use - for standard "
				       "input)");
	if (ctx->argc > 1 && o.output_path)
		return cli_usage_error(ctx, "--output takes one FILE, %d given",
				       ctx->argc);
	if (rk_begin(ctx, a->key_wrap) < 0)
		return -1;
	/* one batch of key requests for all the files */
	rc = sops_files_decrypt((const char *const *)ctx->argv,
				(size_t)ctx->argc, &o);
	rk_end();
	return rc;
}
