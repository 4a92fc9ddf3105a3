/* cmd_rotate.c - kubectl sopsenc rotate. */
#include "sopsenc.h"

int sopsenc_rotate(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
