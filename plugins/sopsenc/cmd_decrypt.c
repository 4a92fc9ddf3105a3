/* cmd_decrypt.c - kubectl sopsenc decrypt. */
#include "sopsenc.h"

#include "rekey.h"
#include "sops/files.h"

void sopsenc_file_opts(const struct sopsenc_args *a, struct sops_file_opts *o);
int sopsenc_each_file(struct cli_ctx *ctx, const struct sops_file_opts *o,
		      int (*fn)(const char *, const struct sops_file_opts *));

int sopsenc_decrypt(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct sops_file_opts o;
	int rc;

	sopsenc_file_opts(a, &o);
	if (rk_begin(ctx, a->key_wrap) < 0)
		return -1;
	rc = sopsenc_each_file(ctx, &o, sops_file_decrypt);
	rk_end();
	return rc;
}
