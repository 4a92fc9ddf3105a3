/*
 * live.c - reading the live chain: the controller's pods and whether the
 * webhook mutated them, the webhook itself, who owns which field
 * (managedFields) and what Flux's next reconcile does to a live change.
 */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/objects.h"
#include "util/err.h"

#define FLUX_KS_NAME_LABEL "kustomize.toolkit.fluxcd.io/name"
#define FLUX_KS_NS_LABEL "kustomize.toolkit.fluxcd.io/namespace"
#define FLUX_SSA_ANNOTATION "kustomize.toolkit.fluxcd.io/ssa"

static bool pod_gone(const cJSON *pod)
{
	const char *phase = wi_str(pod, "status", "phase", NULL);

	return wi_get(pod, "metadata", "deletionTimestamp", NULL) ||
	       (phase && (strcmp(phase, "Succeeded") == 0 ||
			  strcmp(phase, "Failed") == 0));
}

int wi_list_controller_pods(struct kube_client *kc, const cJSON *deploy,
			    cJSON **pods)
{
	const char *ns = wi_str(deploy, "metadata", "namespace", NULL);
	char *sel = kube_selector_from_labels(
		wi_get(deploy, "spec", "selector", "matchLabels", NULL));
	cJSON *all = NULL, *p;
	int rc;

	*pods = NULL;
	if (!sel)
		return err_prefix("Deployment selector");
	rc = kube_list_pods(kc, ns, sel, &all);
	free(sel);
	if (rc < 0)
		return -1;
	*pods = cJSON_CreateArray();
	if (!*pods) {
		cJSON_Delete(all);
		return err_set(EXIT_FAILED, "out of memory");
	}
	while ((p = cJSON_DetachItemFromArray(all, 0))) {
		if (pod_gone(p))
			cJSON_Delete(p);
		else
			cJSON_AddItemToArray(*pods, p);
	}
	cJSON_Delete(all);
	return 0;
}

int wi_pods_report(struct kube_client *kc, const cJSON *deploy,
		   const char *want_client, struct wi_pods *r)
{
	cJSON *pods = NULL;
	const cJSON *p;

	memset(r, 0, sizeof(*r));
	if (wi_list_controller_pods(kc, deploy, &pods) < 0)
		return -1;
	cJSON_ArrayForEach(p, pods) {
		struct flux_wi_pod one;

		r->total++;
		if (!flux_wi_pod_injected(p, &one)) {
			if (!one.labelled)
				r->unlabelled++;
			if (!r->why[0])
				snprintf(r->why, sizeof(r->why), "%s", one.why);
			continue;
		}
		if (!r->injected++) {
			snprintf(r->client_id, sizeof(r->client_id), "%s",
				 one.client_id);
			snprintf(r->tenant_id, sizeof(r->tenant_id), "%s",
				 one.tenant_id);
		}
		r->layout = one.layout;
		if (want_client && *want_client &&
		    strcmp(one.client_id, want_client) != 0) {
			r->stale++;
			if (!r->why[0])
				snprintf(r->why, sizeof(r->why), "pod %s runs "
					 "with AZURE_CLIENT_ID %s, not %s",
					 one.name, one.client_id[0] ?
					 one.client_id : "(none)",
					 want_client);
		}
	}
	if (r->total == 0)
		snprintf(r->why, sizeof(r->why), "no running pods");
	cJSON_Delete(pods);
	return 0;
}

int wi_find_webhook(struct kube_client *kc, struct wi_webhook *w)
{
	struct kube_ref ref = { "admissionregistration.k8s.io", "v1",
				"mutatingwebhookconfigurations", NULL, NULL,
				NULL };
	cJSON *items = NULL;
	const cJSON *it, *hook;

	memset(w, 0, sizeof(*w));
	if (kube_list(kc, &ref, NULL, &items, NULL) < 0)
		return -1;
	cJSON_ArrayForEach(it, items) {
		cJSON_ArrayForEach(hook, cJSON_GetObjectItemCaseSensitive(
					       it, "webhooks")) {
			const char *n = wi_str(hook, "name", NULL);

			if (!n || strcmp(n, WI_WEBHOOK_NAME) != 0)
				continue;
			w->found = true;
			snprintf(w->config, sizeof(w->config), "%s",
				 wi_str(it, "metadata", "name", NULL) ?
				 wi_str(it, "metadata", "name", NULL) : "");
			snprintf(w->ns, sizeof(w->ns), "%s",
				 wi_str(hook, "clientConfig", "service",
					"namespace", NULL) ?
				 wi_str(hook, "clientConfig", "service",
					"namespace", NULL) : "");
			snprintf(w->service, sizeof(w->service), "%s",
				 wi_str(hook, "clientConfig", "service", "name",
					NULL) ?
				 wi_str(hook, "clientConfig", "service", "name",
					NULL) : "");
			w->selector = wi_get(hook, "objectSelector",
					     "matchLabels", WI_USE, NULL) != NULL;
			w->ignore = wi_str(hook, "failurePolicy", NULL) &&
				    strcmp(wi_str(hook, "failurePolicy", NULL),
					   "Ignore") == 0;
		}
	}
	cJSON_Delete(items);
	return 0;
}

bool wi_owned_by(const cJSON *obj, const char *manager,
		 const char *const *path)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, wi_get(obj, "metadata", "managedFields", NULL)) {
		const char *m = wi_str(e, "manager", NULL);
		const cJSON *f = wi_get(e, "fieldsV1", NULL);

		if (!m || strcmp(m, manager) != 0 || wi_str(e, "subresource",
							    NULL))
			continue;
		for (size_t i = 0; f && path[i]; i++) {
			char key[300];

			snprintf(key, sizeof(key), "f:%s", path[i]);
			f = cJSON_GetObjectItemCaseSensitive(f, key);
		}
		if (f)
			return true;
	}
	return false;
}

/*
 * What the Flux Kustomization that applies `obj` does on its next
 * reconcile to the live fields at `paths` (set by field manager fluxwi):
 * reverted when Git sets them (kustomize-controller owned them before)
 * to another value, else kept.
 */
int wi_flux_verdict(struct kube_client *kc, const cJSON *obj,
		    const struct wi_field *fields, size_t n, char *out,
		    size_t size)
{
	const char *ks = wi_str(obj, "metadata", "labels", FLUX_KS_NAME_LABEL,
				NULL);
	const char *ksns = wi_str(obj, "metadata", "labels", FLUX_KS_NS_LABEL,
				  NULL);
	const char *ssa = wi_str(obj, "metadata", "annotations",
				 FLUX_SSA_ANNOTATION, NULL);
	cJSON *k = NULL;
	bool in_git = false;

	if (!ks || !ksns) {
		snprintf(out, size, "no Flux Kustomization applies %s %s, so "
			 "the live change stays", wi_str(obj, "kind", NULL) ?
			 wi_str(obj, "kind", NULL) : "the object",
			 wi_str(obj, "metadata", "name", NULL) ?
			 wi_str(obj, "metadata", "name", NULL) : "");
		return 0;
	}
	if (ssa && (strcmp(ssa, "IfNotPresent") == 0 ||
		    strcmp(ssa, "Ignore") == 0)) {
		snprintf(out, size, "Flux keeps the live change: the object is "
			 "annotated %s: %s, so Flux does not patch it",
			 FLUX_SSA_ANNOTATION, ssa);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *const *p = fields[i].path;
		const cJSON *cur = wi_get(obj, p[0], p[1], p[2], p[3], p[4],
					  p[5]);
		const char *v = cJSON_IsString(cur) ? cur->valuestring : NULL;
		size_t last = 0;

		while (p[last + 1])
			last++;
		if (!wi_owned_by(obj, "kustomize-controller", p))
			continue;
		if (v && strcmp(v, fields[i].want) == 0) {
			in_git = true;
			continue;
		}
		snprintf(out, size, "Flux's next reconcile of %s/%s REVERTS "
			 "the live change: git sets %s to '%s'", ksns, ks,
			 p[last], v ? v : "");
		return 1;
	}
	if (kube_get_kustomization(kc, ksns, ks, &k, NULL) == 0 &&
	    cJSON_IsTrue(wi_get(k, "spec", "suspend", NULL))) {
		snprintf(out, size, "Flux keeps the live change for now: "
			 "Kustomization %s/%s is suspended", ksns, ks);
	} else if (in_git) {
		snprintf(out, size, "Flux's next reconcile of %s/%s keeps these "
			 "values: git sets the same ones", ksns, ks);
	} else {
		snprintf(out, size, "Flux's next reconcile of %s/%s keeps this "
			 "live-only change: git does not set these fields and "
			 "Flux leaves those of field manager " WI_FIELD_MANAGER
			 " alone", ksns, ks);
	}
	cJSON_Delete(k);
	err_clear();
	return in_git ? 2 : 0;
}
