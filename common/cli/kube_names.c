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
#include "util/yamljson.h"

#define COMPLETE_TIMEOUT_MS 5000

/* Every name once, in file order (first file wins, as kubectl merges). */
static void context_file(const char *path, FILE *out, struct buf *seen)
{
	cJSON *doc = yaml_parse_file(path);
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc,
							       "contexts")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		const char *n = cJSON_IsString(name) ? name->valuestring : NULL;
		char key[300];

		if (!n || snprintf(key, sizeof(key), "\n%s\n", n) >=
			  (int)sizeof(key))
			continue;
		if (seen->data && strstr(seen->data, key))
			continue;
		buf_puts(seen, key + 1);
		buf_puts(seen, "\n");
		fprintf(out, "%s\n", n);
	}
	cJSON_Delete(doc);
	err_clear();
}

static int contexts(const struct cli_global *g, FILE *out)
{
	const char *list = g->kubeconfig ? g->kubeconfig : getenv("KUBECONFIG");
	struct buf seen = BUF_INIT;
	char *copy, *save = NULL;

	buf_puts(&seen, "\n");
	if (!list || !*list) {
		const char *home = getenv("HOME");
		char path[4096];

		snprintf(path, sizeof(path), "%s/.kube/config",
			 home ? home : "");
		context_file(path, out, &seen);
		buf_free(&seen);
		return 0;
	}
	copy = strdup(list);
	for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p;
	     p = strtok_r(NULL, ":", &save))
		context_file(p, out, &seen);
	free(copy);
	buf_free(&seen);
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
