/* cmd_issuer.c - kubectl fluxwi issuer. */
#include "fluxwi.h"

int fluxwi_issuer(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
