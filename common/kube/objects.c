#include "kube/objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

static const char *const flux_versions[] = { "v1", "v1beta2", NULL };

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

/* ---- simple wrappers ------------------------------------------------------ */

int kube_get_service_account(struct kube_client *kc, const char *ns,
			     const char *name, cJSON **out)
{
	struct kube_ref r = { NULL, "v1", "serviceaccounts", ns, name, NULL };

	return kube_get(kc, &r, out);
}

int kube_patch_service_account(struct kube_client *kc, const char *ns,
			       const char *name, enum kube_patch_type type,
			       const char *body,
			       const struct kube_write_opts *wo, cJSON **out)
{
	struct kube_ref r = { NULL, "v1", "serviceaccounts", ns, name, NULL };

	return kube_patch(kc, &r, type, body, wo, out);
}

int kube_get_deployment(struct kube_client *kc, const char *ns,
			const char *name, cJSON **out)
{
	struct kube_ref r = { "apps", "v1", "deployments", ns, name, NULL };

	return kube_get(kc, &r, out);
}

int kube_patch_deployment(struct kube_client *kc, const char *ns,
			  const char *name, enum kube_patch_type type,
			  const char *body, const struct kube_write_opts *wo,
			  cJSON **out)
{
	struct kube_ref r = { "apps", "v1", "deployments", ns, name, NULL };

	return kube_patch(kc, &r, type, body, wo, out);
}

int kube_list_pods(struct kube_client *kc, const char *ns,
		   const char *selector, cJSON **items)
{
	struct kube_ref r = { NULL, "v1", "pods", ns, NULL, NULL };
	struct kube_list_opts lo = { selector, NULL, 0 };

	return kube_list(kc, &r, &lo, items, NULL);
}

int kube_list_secrets(struct kube_client *kc, const char *ns,
		      const char *selector, cJSON **items)
{
	struct kube_ref r = { NULL, "v1", "secrets", ns, NULL, NULL };
	struct kube_list_opts lo = { selector, NULL, 0 };

	return kube_list(kc, &r, &lo, items, NULL);
}

int kube_get_secret(struct kube_client *kc, const char *ns, const char *name,
		    cJSON **out)
{
	struct kube_ref r = { NULL, "v1", "secrets", ns, name, NULL };

	return kube_get(kc, &r, out);
}

/* ---- Flux, with the v1 -> v1beta2 fallback ----------------------------------- */

static int flux_call(struct kube_client *kc, const char *group,
		     const char *resource, const char *ns, const char *name,
		     const char *selector, cJSON **out, const char **version)
{
	const char *const *v;
	int rc = -1;

	for (v = flux_versions; *v; v++) {
		struct kube_ref r = { group, *v, resource, ns, name, NULL };
		struct kube_list_opts lo = { selector, NULL, 0 };

		rc = name ? kube_get(kc, &r, out)
			  : kube_list(kc, &r, &lo, out, NULL);
		if (rc == 0) {
			if (version)
				*version = *v;
			return 0;
		}
		if (!kube_last_missing_api(kc))
			return -1;
		log_at(LOG_STEPS, "%s/%s is not served; trying the next "
		       "version", group, *v);
	}
	err_set(EXIT_FAILED, "the cluster serves no known version of %s.%s "
		"(tried v1, v1beta2)", resource, group);
	return err_hint("is Flux installed? check `kubectl api-resources "
			"--api-group=%s`", group);
}

int kube_list_kustomizations(struct kube_client *kc, const char *ns,
			     const char *selector, cJSON **items,
			     const char **version)
{
	return flux_call(kc, KUBE_FLUX_KS_GROUP, "kustomizations", ns, NULL,
			 selector, items, version);
}

int kube_get_kustomization(struct kube_client *kc, const char *ns,
			   const char *name, cJSON **out,
			   const char **version)
{
	return flux_call(kc, KUBE_FLUX_KS_GROUP, "kustomizations", ns, name,
			 NULL, out, version);
}

int kube_list_gitrepositories(struct kube_client *kc, const char *ns,
			      const char *selector, cJSON **items,
			      const char **version)
{
	return flux_call(kc, KUBE_FLUX_SOURCE_GROUP, "gitrepositories", ns,
			 NULL, selector, items, version);
}

int kube_get_gitrepository(struct kube_client *kc, const char *ns,
			   const char *name, cJSON **out,
			   const char **version)
{
	return flux_call(kc, KUBE_FLUX_SOURCE_GROUP, "gitrepositories", ns,
			 name, NULL, out, version);
}

/* ---- access reviews ------------------------------------------------------ */

static int add_attr(cJSON *o, const char *k, const char *v)
{
	if (v && !cJSON_AddStringToObject(o, k, v))
		return err_set(EXIT_FAILED, "out of memory");
	return 0;
}

/* "serviceaccounts/token" -> resource + subresource */
static int add_resource(cJSON *ra, const char *resource)
{
	const char *slash = strchr(resource, '/');
	char res[256];

	if (!slash)
		return add_attr(ra, "resource", resource);
	snprintf(res, sizeof(res), "%.*s", (int)(slash - resource), resource);
	return add_attr(ra, "resource", res) ||
	       add_attr(ra, "subresource", slash + 1) ? -1 : 0;
}

int kube_can_i(struct kube_client *kc, const char *ns, const char *verb,
	       const char *group, const char *resource, const char *name,
	       bool *allowed, char **reason)
{
	struct kube_ref r = { "authorization.k8s.io", "v1",
			      "selfsubjectaccessreviews", NULL, NULL, NULL };
	cJSON *req = cJSON_CreateObject(), *spec, *ra, *res = NULL, *st;
	const char *why;
	int rc = -1;

	*allowed = false;
	if (reason)
		*reason = NULL;
	if (!req || add_attr(req, "apiVersion", "authorization.k8s.io/v1") ||
	    add_attr(req, "kind", "SelfSubjectAccessReview") ||
	    !(spec = cJSON_AddObjectToObject(req, "spec")) ||
	    !(ra = cJSON_AddObjectToObject(spec, "resourceAttributes")) ||
	    add_attr(ra, "namespace", ns) || add_attr(ra, "verb", verb) ||
	    add_attr(ra, "group", group ? group : "") ||
	    add_resource(ra, resource) || add_attr(ra, "name", name))
		goto out;
	if (kube_create(kc, &r, req, NULL, &res) < 0)
		goto out;
	st = cJSON_GetObjectItemCaseSensitive(res, "status");
	*allowed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st,
								  "allowed"));
	why = str(st, "reason");
	if (reason && !(*reason = strdup(why))) {
		err_set(EXIT_FAILED, "out of memory");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(req);
	cJSON_Delete(res);
	return rc;
}

int kube_whoami(struct kube_client *kc, char **user)
{
	struct kube_ref r = { "authentication.k8s.io", "v1",
			      "selfsubjectreviews", NULL, NULL, NULL };
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const char *name;
	int rc = -1;

	*user = NULL;
	if (!req || add_attr(req, "apiVersion", "authentication.k8s.io/v1") ||
	    add_attr(req, "kind", "SelfSubjectReview"))
		goto out;
	if (kube_create(kc, &r, req, NULL, &res) < 0)
		goto out;
	name = str(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		res, "status"), "userInfo"), "username");
	if (!*name) {
		err_set(EXIT_FAILED, "the SelfSubjectReview names no user");
		goto out;
	}
	if (!(*user = strdup(name))) {
		err_set(EXIT_FAILED, "out of memory");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(req);
	cJSON_Delete(res);
	return rc;
}

/* ---- selectors ------------------------------------------------------------- */

char *kube_selector_from_labels(const cJSON *labels)
{
	struct buf b = BUF_INIT;
	const cJSON *kv;

	if (!cJSON_IsObject(labels) || !labels->child) {
		err_set(EXIT_FAILED, "the selector has no matchLabels");
		return NULL;
	}
	cJSON_ArrayForEach(kv, labels) {
		if (!cJSON_IsString(kv) ||
		    buf_printf(&b, "%s%s=%s", b.len ? "," : "", kv->string,
			       kv->valuestring) < 0) {
			buf_free(&b);
			err_set(EXIT_FAILED, "matchLabels must map strings to "
				"strings");
			return NULL;
		}
	}
	return buf_detach(&b, NULL);
}

/* ---- rollout status ----------------------------------------------------------- */

static long num(const cJSON *o, const char *key, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : def;
}

static const cJSON *condition(const cJSON *status, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status,
							       "conditions")) {
		const char *t = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(c, "type"));

		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

enum kube_rollout kube_rollout_state(const cJSON *d, char *msg, size_t size)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(d, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(d, "spec");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "status");
	const cJSON *prog = condition(st, "Progressing");
	const char *name = str(meta, "name");
	long want = num(spec, "replicas", 1), updated = num(st,
		"updatedReplicas", 0), total = num(st, "replicas", 0),
		avail = num(st, "availableReplicas", 0);

	if (num(meta, "generation", 0) > num(st, "observedGeneration", 0)) {
		snprintf(msg, size, "Waiting for deployment spec update to be "
			 "observed...");
		return KUBE_ROLLOUT_WAITING;
	}
	if (prog && strcmp(str(prog, "reason"),
			   "ProgressDeadlineExceeded") == 0) {
		snprintf(msg, size, "deployment \"%s\" exceeded its progress "
			 "deadline", name);
		return KUBE_ROLLOUT_FAILED;
	}
	if (updated < want)
		snprintf(msg, size, "Waiting for deployment \"%s\" rollout to "
			 "finish: %ld out of %ld new replicas have been "
			 "updated...", name, updated, want);
	else if (total > updated)
		snprintf(msg, size, "Waiting for deployment \"%s\" rollout to "
			 "finish: %ld old replicas are pending termination...",
			 name, total - updated);
	else if (avail < updated)
		snprintf(msg, size, "Waiting for deployment \"%s\" rollout to "
			 "finish: %ld of %ld updated replicas are available...",
			 name, avail, updated);
	else {
		snprintf(msg, size, "deployment \"%s\" successfully rolled out",
			 name);
		return KUBE_ROLLOUT_DONE;
	}
	return KUBE_ROLLOUT_WAITING;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds "; pod X: CrashLoopBackOff" notes for stuck pods of the Deployment. */
static void stuck_pods(struct kube_client *kc, const char *ns,
		       const cJSON *deploy, struct buf *note)
{
	char *sel = kube_selector_from_labels(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
			deploy, "spec"), "selector"), "matchLabels"));
	cJSON *pods = NULL;
	const cJSON *p, *cs;

	if (!sel || kube_list_pods(kc, ns, sel, &pods) < 0) {
		free(sel);
		err_clear();
		return;
	}
	cJSON_ArrayForEach(p, pods) {
		cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(p, "status"),
			"containerStatuses")) {
			const char *why = str(cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(cs, "state"),
				"waiting"), "reason");

			if (strstr(why, "BackOff") || strstr(why, "Err") ||
			    strstr(why, "Error"))
				buf_printf(note, "; pod %s: %s", str(
					cJSON_GetObjectItemCaseSensitive(p,
						"metadata"), "name"), why);
		}
	}
	cJSON_Delete(pods);
	free(sel);
}

static int rollout_failed(const char *ns, const char *name, const char *msg)
{
	err_set(EXIT_FAILED, "rollout of deployment %s/%s failed: %s", ns,
		name, msg);
	return err_hint("see `kubectl -n %s describe deployment %s` and the "
			"events of its pods", ns, name);
}

static int check_once(struct kube_client *kc, const char *ns,
		      const char *name, struct buf *msg, bool *done)
{
	cJSON *d = NULL;
	const cJSON *rf;
	char text[512];
	enum kube_rollout s;

	*done = false;
	if (kube_get_deployment(kc, ns, name, &d) < 0)
		return -1;
	s = kube_rollout_state(d, text, sizeof(text));
	buf_reset(msg);
	buf_puts(msg, text);
	rf = condition(cJSON_GetObjectItemCaseSensitive(d, "status"),
		       "ReplicaFailure");
	if (s == KUBE_ROLLOUT_WAITING && rf &&
	    strcmp(str(rf, "status"), "True") == 0)
		buf_printf(msg, "; ReplicaFailure: %s", str(rf, "message"));
	if (s == KUBE_ROLLOUT_WAITING)
		stuck_pods(kc, ns, d, msg);
	cJSON_Delete(d);
	if (s == KUBE_ROLLOUT_FAILED)
		return rollout_failed(ns, name, msg->data);
	*done = s == KUBE_ROLLOUT_DONE;
	return 0;
}

int kube_rollout_wait(struct kube_client *kc, const char *ns,
		      const char *name, const struct kube_rollout_opts *o)
{
	long timeout = o && o->timeout_ms ? o->timeout_ms : 300000;
	long poll = o && o->poll_ms ? o->poll_ms : 1000;
	long long until = now_ms() + timeout;
	struct buf msg = BUF_INIT, last = BUF_INIT;
	bool done = false;
	int rc;

	while ((rc = check_once(kc, ns, name, &msg, &done)) == 0 && !done) {
		if (o && o->progress && (!last.data ||
					 strcmp(last.data, msg.data) != 0))
			o->progress(msg.data, o->arg);
		buf_reset(&last);
		buf_puts(&last, msg.data);
		if (now_ms() + poll > until) {
			rc = err_set(EXIT_FAILED, "timed out waiting for the "
				     "rollout of deployment %s/%s: %s", ns,
				     name, msg.data);
			err_hint("raise --timeout, or look at the pods: kubectl "
				 "-n %s get pods", ns);
			break;
		}
		sleep_ms(poll);
	}
	if (rc == 0)
		log_at(LOG_STEPS, "%s", msg.data);
	buf_free(&msg);
	buf_free(&last);
	return rc;
}
