/* cmd_encrypt.c - kubectl sopsenc encrypt. */
#include "sopsenc.h"

int sopsenc_encrypt(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
