/* cmd_verify.c - kubectl sopsverify verify. */
#include "sopsverify.h"

int sopsverify_verify(struct cli_ctx *ctx, void *args)
{
	return cli_not_implemented(ctx, args);
}
