/* rollout.h - waiting for the controller's rollout and checking its pods. */
#ifndef PLUGINS_FLUXWI_ROLLOUT_H
#define PLUGINS_FLUXWI_ROLLOUT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "fluxwi.h"
#include "kube/client.h"

/*
 * Unless --no-wait: waits for the Deployment's rollout (with a progress
 * line), then checks its pods: with `want_injected`, every pod carries the
 * injected token (and AZURE_CLIENT_ID == client_id when given), else the
 * reason (webhook absent, ...) is the error.  Returns 0, or -1 with
 * err_set() (exit 1 when the pods are not as wanted).
 */
int wi_rollout_confirm(struct kube_client *kc, const struct fluxwi_args *a,
		       const cJSON *deploy, const char *client_id,
		       bool want_injected);

#endif
