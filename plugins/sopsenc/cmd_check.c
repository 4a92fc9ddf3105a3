/* cmd_check.c - kubectl sopsenc check. */
#include "sopsenc.h"

int sopsenc_check(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
