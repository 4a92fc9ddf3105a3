#include "cli/cluster.h"

#include <stdio.h>
#include <string.h>

#include "kube/config.h"
#include "version.h"

void cli_user_agent(const struct cli_prog *prog, char *dst, size_t size)
{
	snprintf(dst, size, "kubectl-%s/v%s (linux) %s/%s", prog->name,
		 fwi_version(), prog->name, fwi_commit());
}

long cli_request_timeout_ms(const struct cli_global *g)
{
	return g->request_timeout_ms > 0 ? g->request_timeout_ms :
	       CLI_DEFAULT_TIMEOUT_MS;
}

int cli_kube_open(const struct cli_ctx *ctx, struct kube_client **kc)
{
	struct kube_opts o;
	char ua[160];

	cli_user_agent(ctx->prog, ua, sizeof(ua));
	memset(&o, 0, sizeof(o));
	o.kubeconfig = ctx->g.kubeconfig;
	o.context = ctx->g.context;
	o.namespace = ctx->g.namespace;
	o.request_timeout_ms = cli_request_timeout_ms(&ctx->g);
	o.user_agent = ua;
	return kube_client_open(kc, &o);
}
