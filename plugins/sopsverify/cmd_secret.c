/* cmd_secret.c - kubectl sopsverify secret. */
#include "sopsverify.h"

int sopsverify_secret(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
