/*
 * live.h - the live chain as the API server shows it: the controller's
 * pods and their injection, the webhook, field ownership, and whether
 * Flux keeps a live change.
 */
#ifndef PLUGINS_FLUXWI_LIVE_H
#define PLUGINS_FLUXWI_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "flux/workload.h"
#include "kube/client.h"
#include "wi.h"

/* The running (not terminating) pods of a Deployment. */
int wi_list_controller_pods(struct kube_client *kc, const cJSON *deploy,
			    cJSON **pods);

/* Sums over the controller's running pods. */
struct wi_pods {
	int total, injected, stale;	/* stale: other AZURE_CLIENT_ID */
	int unlabelled;			/* created before the label */
	const char *layout;
	char client_id[64], tenant_id[64];	/* of the first injected */
	char why[600];			/* the first problem */
};

int wi_pods_report(struct kube_client *kc, const cJSON *deploy,
		   const char *want_client, struct wi_pods *r);

struct wi_webhook {
	bool found;
	char config[256], ns[128], service[128];
	bool selector;			/* objectSelector on the label */
	bool ignore;			/* failurePolicy Ignore */
};

int wi_find_webhook(struct kube_client *kc, struct wi_webhook *w);

/* A field of an object: path of member names (NULL-terminated). */
struct wi_field {
	const char *path[6];
	const char *want;		/* the value fluxwi sets */
};

/* True when `manager` (not on a subresource) owns the field. */
bool wi_owned_by(const cJSON *obj, const char *manager,
		 const char *const *path);

/*
 * What Flux's next reconcile does to the fields (read before fluxwi
 * writes them): into out, "keeps: ..." or "reverts: ...".  Returns 1 when
 * it reverts, 2 when it keeps them because git sets the same values, 0
 * when it keeps a live-only change.
 */
int wi_flux_verdict(struct kube_client *kc, const cJSON *obj,
		    const struct wi_field *fields, size_t n, char *out,
		    size_t size);

#endif
