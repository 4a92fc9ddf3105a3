/* cmd_decrypt.c - kubectl sopsenc decrypt. */
#include "sopsenc.h"

int sopsenc_decrypt(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
