/*
 * kube_names.c - live names for shell completion (a prog's `names` hook):
 * namespaces, Flux Kustomizations and Secrets from the cluster the global
 * flags name, and context names from the kubeconfig files.
 * Kustomizations come from every namespace unless -n names one (they live
 * in flux-system, not in the context's namespace).
 *
 * Completion must never hang or print errors: requests are bounded by a
 * short timeout and failures simply yield no names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/kube_names.h"
#include "kube/client.h"
#include "kube/objects.h"
#include "util/err.h"

#define COMPLETE_TIMEOUT_MS 5000

/* Contexts of the merged kubeconfig, as kubectl merges it. */
static int contexts(const struct cli_global *g, FILE *out)
{
	struct kube_opts o = { g->kubeconfig, NULL, NULL, 0, NULL };
	char **names;
	size_t n, i;

	if (kube_config_context_names(&o, &names, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		fprintf(out, "%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Secrets' values never stay in memory longer than the LIST. */
static void wipe(cJSON *j)
{
	cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (cJSON_IsString(c) && c->valuestring)
			explicit_bzero(c->valuestring, strlen(c->valuestring));
		else
			wipe(c);
	}
}

static void print_names(const cJSON *items, FILE *out)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(it, "metadata"),
			"name");

		if (cJSON_IsString(n))
			fprintf(out, "%s\n", n->valuestring);
	}
}

static int cluster_names(const struct cli_global *g, enum cli_complete kind,
			 FILE *out)
{
	struct kube_opts o;
	struct kube_client *kc = NULL;
	struct kube_ref ns_ref = { "", "v1", "namespaces", NULL, NULL, NULL };
	cJSON *items = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.kubeconfig = g->kubeconfig;
	o.context = g->context;
	o.namespace = g->namespace;
	o.request_timeout_ms = COMPLETE_TIMEOUT_MS;
	if (kube_client_open(&kc, &o) < 0)
		return -1;
	if (kind == CLI_COMP_NAMESPACE)
		rc = kube_list(kc, &ns_ref, NULL, &items, NULL);
	else if (kind == CLI_COMP_KUSTOMIZATION)
		rc = kube_list_kustomizations(kc, g->namespace ?
					      kube_client_namespace(kc) : NULL,
					      NULL, &items, NULL);
	else
		rc = kube_list_secrets(kc, kube_client_namespace(kc), NULL,
				       &items);
	if (rc == 0)
		print_names(items, out);
	if (kind == CLI_COMP_SECRET)
		wipe(items);
	cJSON_Delete(items);
	kube_client_close(kc);
	return rc;
}

int cli_kube_names(const struct cli_global *g, enum cli_complete kind,
		   FILE *out)
{
	switch (kind) {
	case CLI_COMP_CONTEXT:
		return contexts(g, out);
	case CLI_COMP_NAMESPACE:
	case CLI_COMP_KUSTOMIZATION:
	case CLI_COMP_SECRET:
		return cluster_names(g, kind, out);
	default:
		return 0;
	}
}
