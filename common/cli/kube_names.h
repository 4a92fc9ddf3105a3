/* kube_names.h - the live-name completion hook for plugins that talk to a
 * cluster: namespaces, Secrets (in the -n namespace), Kustomizations (all
 * namespaces) and kubeconfig contexts. */
#ifndef COMMON_CLI_KUBE_NAMES_H
#define COMMON_CLI_KUBE_NAMES_H

#include <stdio.h>

#include "cli/cli.h"

int cli_kube_names(const struct cli_global *g, enum cli_complete kind,
		   FILE *out);

#endif
