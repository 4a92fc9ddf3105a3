/* cmd_patch.c - kubectl fluxwi patch. */
#include "fluxwi.h"

int fluxwi_patch(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
