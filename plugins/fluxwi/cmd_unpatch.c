/* cmd_unpatch.c - kubectl fluxwi unpatch. */
#include "fluxwi.h"

int fluxwi_unpatch(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
