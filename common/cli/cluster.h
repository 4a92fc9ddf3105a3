/*
 * cluster.h - from the command line's cluster flags to a Kubernetes client,
 * and the User-Agent every request of a plugin carries.
 */
#ifndef COMMON_CLI_CLUSTER_H
#define COMMON_CLI_CLUSTER_H

#include <stddef.h>

#include "cli/cli.h"
#include "kube/client.h"

#define CLI_DEFAULT_TIMEOUT_MS 30000

/* "kubectl-NAME/vX.Y.Z (linux) NAME/COMMIT", for HTTP User-Agent. */
void cli_user_agent(const struct cli_prog *prog, char *dst, size_t size);

/* The --request-timeout given, or the default (30 s). */
long cli_request_timeout_ms(const struct cli_global *g);

/*
 * Opens the client for the cluster --kubeconfig, --context and -n name,
 * with --request-timeout (default 30 s) and the plugin's User-Agent.
 * Returns 0, or -1 with the error set.  Close with kube_client_close().
 */
int cli_kube_open(const struct cli_ctx *ctx, struct kube_client **kc);

#endif
