/* sopsverify.h - kubectl sopsverify: the arguments of its subcommands. */
#ifndef PLUGINS_SOPSVERIFY_H
#define PLUGINS_SOPSVERIFY_H

#include <stdbool.h>

#include "cli/cli.h"

struct sopsverify_args {
	const char *kustomization;
	const char *flux_namespace;
	long wait_ms;
	bool decrypt;
	bool show_values;
};

int sopsverify_verify(struct cli_ctx *ctx, void *args);
int sopsverify_secret(struct cli_ctx *ctx, void *args);

#endif
