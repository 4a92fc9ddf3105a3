/* cmd_generate.c - kubectl fluxwi generate. */
#include "fluxwi.h"

int fluxwi_generate(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
