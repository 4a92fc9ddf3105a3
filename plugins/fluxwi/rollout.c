/*
 * rollout.c - the controller's rollout, awaited, and its new pods checked.
 */
#include "rollout.h"

#include <stdio.h>
#include <string.h>

#include "cli/output.h"
#include "kube/objects.h"
#include "live.h"
#include "util/err.h"
#include "util/log.h"

static void show(const char *msg, void *arg)
{
	const char *name = arg;

	progress_update("deployment/%s: %s", name, msg);
	log_at(LOG_STEPS, "deployment/%s: %s", name, msg);
}

/* Why the pods were not mutated, as precisely as the API tells. */
static int not_injected(struct kube_client *kc, const struct fluxwi_args *a,
			const struct wi_pods *r)
{
	struct wi_webhook w;

	if (wi_find_webhook(kc, &w) == 0 && !w.found) {
		err_set(EXIT_FAILED, "the new %s pods were not mutated: the "
			"Azure Workload Identity webhook is not installed (no "
			"MutatingWebhookConfiguration has the webhook "
			WI_WEBHOOK_NAME ")", a->controller);
		return err_hint("enable it (az aks update --enable-oidc-issuer "
				"--enable-workload-identity) or install "
				"azure-workload-identity, then run patch again");
	}
	err_clear();
	err_set(EXIT_FAILED, "the new %s pods lack the workload identity "
		"injection: %s", a->controller, r->why);
	return err_hint("check the webhook's pods and events (kubectl get "
			"events -n %s), then run patch again",
			a->flux_namespace);
}

int wi_rollout_confirm(struct kube_client *kc, const struct fluxwi_args *a,
		       const cJSON *deploy, const char *client_id,
		       bool want_injected)
{
	struct kube_rollout_opts o = { a->timeout_ms, 500, show, NULL };
	struct wi_pods r;
	char name[256];
	cJSON *fresh = NULL;
	int rc;

	(void)deploy;
	if (a->no_wait) {
		wi_say("not waiting for the rollout (--no-wait)\n");
		return 0;
	}
	snprintf(name, sizeof(name), "%s", a->controller);
	o.arg = name;
	rc = kube_rollout_wait(kc, a->flux_namespace, a->controller, &o);
	progress_done();
	if (rc < 0)
		return err_prefix("deployment/%s rollout", a->controller);
	if (kube_get_deployment(kc, a->flux_namespace, a->controller,
				&fresh) < 0)
		return -1;
	rc = wi_pods_report(kc, fresh, want_injected ? client_id : NULL, &r);
	cJSON_Delete(fresh);
	if (rc < 0)
		return -1;
	wi_say("deployment/%s rolled out (%d pod%s)\n", a->controller,
	       r.total, r.total == 1 ? "" : "s");
	if (!want_injected) {
		if (r.injected > 0)
			wi_say("note: %d pod%s still carry an injected token "
			       "(the pod label is set by someone else)\n",
			       r.injected, r.injected == 1 ? "" : "s");
		return 0;
	}
	if (r.total == 0 || r.injected < r.total || r.stale > 0)
		return not_injected(kc, a, &r);
	wi_say("pods carry AZURE_FEDERATED_TOKEN_FILE and the projected "
	       "token volume (%s layout)\n", r.layout ? r.layout : "?");
	return 0;
}
