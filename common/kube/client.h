/*
 * client.h - a small Kubernetes REST client on the shared HTTP layer.
 *
 * One struct kube_client per run: it holds the resolved kubeconfig
 * (config.h), the credentials (token, tokenFile re-read every minute and on
 * 401, exec plugin output cached until its expiry and re-run once on 401),
 * and one http_client, so every request reuses one connection.
 *
 * Every call returns 0 on success or -1 with err_set(EXIT_FAILED, ...) and
 * a remedy (err_hint) made from the API server's Status: Forbidden names
 * the user, verb and resource and the RBAC rule that would allow it;
 * Unauthorized names the kubeconfig user and auth method; NotFound tells a
 * missing object from an API the server does not serve.  After a failure
 * kube_last_code()/kube_last_reason() tell callers which it was.
 *
 * Ownership: cJSON results (*out) belong to the caller (cJSON_Delete);
 * token strings are secret (wipe with explicit_bzero before free).  Borrowed
 * pointers (struct kube_ref fields, option strings) are only read during
 * the call.
 */
#ifndef COMMON_KUBE_CLIENT_H
#define COMMON_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kube/config.h"
#include "util/buf.h"

struct kube_client;

/* Which API object (or collection) a call is about. */
struct kube_ref {
	const char *group;		/* NULL or "" for the core group */
	const char *version;		/* "v1" */
	const char *resource;		/* plural: "deployments" */
	const char *namespace;		/* NULL: cluster-scoped, or all
					 * namespaces for a LIST */
	const char *name;		/* NULL: the collection */
	const char *subresource;	/* "status", "token", or NULL */
};

enum kube_patch_type {
	KUBE_PATCH_MERGE,		/* application/merge-patch+json */
	KUBE_PATCH_STRATEGIC,		/* ...strategic-merge-patch+json */
	KUBE_PATCH_JSON,		/* application/json-patch+json */
	KUBE_PATCH_APPLY		/* application/apply-patch+yaml (SSA) */
};

struct kube_write_opts {
	const char *field_manager;	/* required for APPLY; NULL: none */
	bool force;			/* APPLY only: take over fields */
	bool dry_run;			/* dryRun=All */
};

struct kube_list_opts {
	const char *label_selector;	/* NULL: none */
	const char *field_selector;
	long limit;			/* page size; 0: 500 */
};

/*
 * Loads the configuration (kube_config_load) and prepares the connection;
 * contacts nothing yet.  `opts->request_timeout_ms` bounds every request
 * (0: none).  Returns 0, or -1 with err_set().  Close with
 * kube_client_close().
 */
int kube_client_open(struct kube_client **out, const struct kube_opts *opts);
void kube_client_close(struct kube_client *kc);

const struct kube_config *kube_client_config(const struct kube_client *kc);
/* The namespace to use: -n, else the context's, else "default" (or the
 * in-cluster one). */
const char *kube_client_namespace(const struct kube_client *kc);

/* HTTP status and Status reason of the last failed call ("NotFound",
 * "Forbidden", "Conflict", ...); 0 and "" when it got no answer. */
long kube_last_code(const struct kube_client *kc);
const char *kube_last_reason(const struct kube_client *kc);
bool kube_last_not_found(const struct kube_client *kc);
/* The last failure was a 404 naming no object: the server does not serve
 * that resource type or version. */
bool kube_last_missing_api(const struct kube_client *kc);

/* Builds "/apis/apps/v1/namespaces/ns/deployments/name[/sub]" (escaped)
 * into out.  Returns 0 or -1. */
int kube_ref_path(const struct kube_ref *ref, struct buf *out);

/* GET one object. */
int kube_get(struct kube_client *kc, const struct kube_ref *ref,
	     cJSON **out);

/*
 * LIST every item, following `continue` until the last page (a 410 Expired
 * restarts the LIST once).  *items is a cJSON array.  `rv` (may be NULL)
 * receives the list's resourceVersion (caller frees).
 */
int kube_list(struct kube_client *kc, const struct kube_ref *ref,
	      const struct kube_list_opts *lo, cJSON **items, char **rv);

/* PATCH with `body` (JSON text; YAML or JSON for APPLY). */
int kube_patch(struct kube_client *kc, const struct kube_ref *ref,
	       enum kube_patch_type type, const char *body,
	       const struct kube_write_opts *wo, cJSON **out);

/* POST `obj` to the collection (or subresource) `ref`. */
int kube_create(struct kube_client *kc, const struct kube_ref *ref,
		const cJSON *obj, const struct kube_write_opts *wo,
		cJSON **out);

/* PUT `obj` (carrying its resourceVersion) to `ref`. */
int kube_update(struct kube_client *kc, const struct kube_ref *ref,
		const cJSON *obj, const struct kube_write_opts *wo,
		cJSON **out);

/* DELETE; a NotFound counts as success when `missing_ok`. */
int kube_delete(struct kube_client *kc, const struct kube_ref *ref,
		const struct kube_write_opts *wo, bool missing_ok);

/*
 * Runs fn (which should read fresh, compute and write) up to `attempts`
 * times (0: 5) while it fails with a 409 Conflict that is about a stale
 * resourceVersion (not AlreadyExists, not a server-side apply ownership
 * conflict).  Returns fn's last result.
 */
int kube_retry_on_conflict(struct kube_client *kc, int attempts,
			   int (*fn)(struct kube_client *kc, void *arg),
			   void *arg);

/*
 * GET a non-resource path ("/version", "/apis", "/.well-known/openid-
 * configuration", "/openid/v1/jwks").  *out receives the body (text).
 * Non-2xx answers are errors mapped like the others.
 */
int kube_get_raw(struct kube_client *kc, const char *path, struct buf *out);

/* Same, parsed as JSON. */
int kube_get_json(struct kube_client *kc, const char *path, cJSON **out);

/*
 * TokenRequest for a ServiceAccount.  `audiences` NULL-terminated (NULL:
 * the API server's), `expiration_s` 0: server default.  *token is a new
 * secret string; *expiry its expiration (may be NULL).
 */
int kube_create_token(struct kube_client *kc, const char *ns, const char *sa,
		      const char *const *audiences, long expiration_s,
		      char **token, time_t *expiry);

#endif
