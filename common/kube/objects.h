/*
 * objects.h - the Kubernetes objects the plugins work with, on client.h.
 *
 * ServiceAccounts, Deployments (with rollout status as kubectl computes
 * it), Pods, Secrets, Flux Kustomizations and GitRepositories (v1, falling
 * back to v1beta2 on clusters that do not serve v1), and label selectors.
 * Same conventions as client.h: 0 or -1 with err_set(); cJSON results
 * belong to the caller.
 */
#ifndef COMMON_KUBE_OBJECTS_H
#define COMMON_KUBE_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube/client.h"

#define KUBE_FLUX_KS_GROUP "kustomize.toolkit.fluxcd.io"
#define KUBE_FLUX_SOURCE_GROUP "source.toolkit.fluxcd.io"

int kube_get_service_account(struct kube_client *kc, const char *ns,
			     const char *name, cJSON **out);
int kube_patch_service_account(struct kube_client *kc, const char *ns,
			       const char *name, enum kube_patch_type type,
			       const char *body,
			       const struct kube_write_opts *wo, cJSON **out);

int kube_get_deployment(struct kube_client *kc, const char *ns,
			const char *name, cJSON **out);
int kube_patch_deployment(struct kube_client *kc, const char *ns,
			  const char *name, enum kube_patch_type type,
			  const char *body, const struct kube_write_opts *wo,
			  cJSON **out);

/* `selector` may be NULL (all). */
int kube_list_pods(struct kube_client *kc, const char *ns,
		   const char *selector, cJSON **items);
int kube_list_secrets(struct kube_client *kc, const char *ns,
		      const char *selector, cJSON **items);
int kube_get_secret(struct kube_client *kc, const char *ns, const char *name,
		    cJSON **out);

/* Flux objects; `ns` NULL lists all namespaces.  *version (may be NULL)
 * receives the API version that answered ("v1" or "v1beta2"). */
int kube_list_kustomizations(struct kube_client *kc, const char *ns,
			     const char *selector, cJSON **items,
			     const char **version);
int kube_get_kustomization(struct kube_client *kc, const char *ns,
			   const char *name, cJSON **out,
			   const char **version);
int kube_list_gitrepositories(struct kube_client *kc, const char *ns,
			      const char *selector, cJSON **items,
			      const char **version);
int kube_get_gitrepository(struct kube_client *kc, const char *ns,
			   const char *name, cJSON **out,
			   const char **version);

/*
 * SelfSubjectAccessReview: may the current user do `verb` on `resource`
 * (group "" for core; "serviceaccounts/token" names a subresource; `ns`
 * NULL for cluster scope; `name` may be NULL)?
 * *allowed gets the answer; *reason (may be NULL; caller frees) the
 * server's reason text, "" when none.
 */
int kube_can_i(struct kube_client *kc, const char *ns, const char *verb,
	       const char *group, const char *resource, const char *name,
	       bool *allowed, char **reason);

/* SelfSubjectReview: the user name the API server sees (new string). */
int kube_whoami(struct kube_client *kc, char **user);

/* "k1=v1,k2=v2" from a matchLabels map (new string; NULL with err_set()
 * when it is empty or not a map of strings). */
char *kube_selector_from_labels(const cJSON *match_labels);

enum kube_rollout {
	KUBE_ROLLOUT_DONE,
	KUBE_ROLLOUT_WAITING,
	KUBE_ROLLOUT_FAILED
};

/* kubectl's Deployment status viewer: the state of `deploy` and a message
 * ("2 of 3 updated replicas are available", "exceeded its progress
 * deadline").  Pure function. */
enum kube_rollout kube_rollout_state(const cJSON *deploy, char *msg,
				     size_t size);

struct kube_rollout_opts {
	long timeout_ms;		/* 0: 5 minutes */
	long poll_ms;			/* 0: 1000 */
	/* called with each new waiting message; may be NULL */
	void (*progress)(const char *msg, void *arg);
	void *arg;
};

/*
 * Polls the Deployment until its rollout is complete.  While waiting it
 * also reports pods stuck in CrashLoopBackOff/ImagePullBackOff and a
 * ReplicaFailure condition (e.g. an admission webhook denying pods).
 * Returns 0 when done, -1 with err_set() when failed or timed out.
 */
int kube_rollout_wait(struct kube_client *kc, const char *ns,
		      const char *name, const struct kube_rollout_opts *o);

#endif
