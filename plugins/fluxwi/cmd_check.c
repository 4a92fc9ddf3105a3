/* cmd_check.c - kubectl fluxwi check. */
#include "fluxwi.h"

int fluxwi_check(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
