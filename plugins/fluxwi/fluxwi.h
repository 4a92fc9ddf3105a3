/* fluxwi.h - kubectl fluxwi: the arguments every subcommand shares. */
#ifndef PLUGINS_FLUXWI_H
#define PLUGINS_FLUXWI_H

#include <stdbool.h>

#include "cli/cli.h"

struct fluxwi_args {
	const char *client_id;
	const char *tenant_id;
	const char *identity;		/* ARM resource id of the identity */
	const char *flux_namespace;
	const char *controller;
	const char *key;		/* Key Vault key URL for check --key */
	const char *dir;		/* generate: where to look */
	bool exchange;
	bool dry_run;
	bool no_restart;
	bool no_wait;
	long timeout_ms;		/* rollout wait */
};

int fluxwi_check(struct cli_ctx *ctx, void *args);
int fluxwi_patch(struct cli_ctx *ctx, void *args);
int fluxwi_unpatch(struct cli_ctx *ctx, void *args);
int fluxwi_generate(struct cli_ctx *ctx, void *args);
int fluxwi_issuer(struct cli_ctx *ctx, void *args);

#endif
