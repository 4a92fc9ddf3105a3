/*
 * workload.h - what the Azure Workload Identity webhook injected into a
 * pod (azure.md §1.5, §1.7, §7): AZURE_FEDERATED_TOKEN_FILE and
 * AZURE_AUTHORITY_HOST in the controller container, and a projected
 * serviceAccountToken volume with audience api://AzureADTokenExchange
 * mounted where that file points.  Every layout counts: the webhook's
 * before v1.6 (azure-identity-token), since v1.6
 * (azure-workload-identity-reserved-...), and a hand-made one (non-AKS).
 */
#ifndef COMMON_FLUX_WORKLOAD_H
#define COMMON_FLUX_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#define FLUX_WI_AUDIENCE "api://AzureADTokenExchange"
#define FLUX_WI_USE "azure.workload.identity/use"

/* One pod's injection. */
struct flux_wi_pod {
	char name[256];
	bool injected;			/* env + mounted projected token */
	const char *layout;		/* "legacy", "v1.6", "manual" */
	bool labelled;			/* carries the webhook's label */
	char client_id[64];		/* its AZURE_CLIENT_ID, "" if none */
	char tenant_id[64];		/* its AZURE_TENANT_ID, "" if none */
	char why[512];			/* when not injected */
};

/* The controller container of a pod spec ("manager", else the first). */
const cJSON *flux_wi_container(const cJSON *podspec);

/* Fills `out`; returns out->injected. */
bool flux_wi_pod_injected(const cJSON *pod, struct flux_wi_pod *out);

/*
 * The kubectl.kubernetes.io/restartedAt value for a restart at `now`:
 * RFC 3339 in seconds, as kubectl writes it; with nanoseconds when the
 * `previous` value (may be NULL) falls in the same second, because an
 * unchanged pod template would start no rollout.
 */
void flux_restart_stamp(char *out, size_t size, const char *previous,
			const struct timespec *now);

#endif
