/* cmd_updatekeys.c - kubectl sopsenc updatekeys. */
#include "sopsenc.h"

int sopsenc_updatekeys(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
