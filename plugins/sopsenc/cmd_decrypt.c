/* cmd_decrypt.c - kubectl sopsenc decrypt. */
#include "sopsenc.h"

#include "sops/files.h"

void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o);
int sopsenc_each_file(struct cli_ctx *ctx, const struct sops_file_opts *o,
		      int (*fn)(const char *, const struct sops_file_opts *));

int sopsenc_decrypt(struct cli_ctx *ctx, void *args)
{
	struct sops_file_opts o;

	sopsenc_file_opts(args, &o);
	return sopsenc_each_file(ctx, &o, sops_file_decrypt);
}
