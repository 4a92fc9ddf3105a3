/* test_kube_client.c - kube/client and kube/objects against a local HTTP
 * server: URLs and query parameters, patch content types, pagination
 * (with a 410 restart), Status objects turned into messages and remedies,
 * 429 retries, conflict retries, TokenRequest, rollout status rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/client.h"
#include "kube/objects.h"
#include "test_http_server.h"
#include "util/err.h"

static int conflicts_left;
static char last_path[2048];
static char last_body[4096];
static int expire_once;

static void status(struct ts_response *r, int code, const char *reason,
		   const char *msg, const char *details)
{
	r->status = code;
	snprintf(r->body, sizeof(r->body), "{\"kind\":\"Status\",\"apiVersion\":"
		 "\"v1\",\"status\":\"Failure\",\"message\":\"%s\",\"reason\":"
		 "\"%s\",\"details\":%s,\"code\":%d}", msg, reason,
		 details ? details : "{}", code);
}

static void page(struct ts_response *r, const char *names, const char *cont)
{
	char items[1024] = "";
	char copy[256], *save = NULL, *n;

	snprintf(copy, sizeof(copy), "%s", names);
	for (n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save))
		snprintf(items + strlen(items), sizeof(items) - strlen(items),
			 "%s{\"metadata\":{\"name\":\"%s\"}}", *items ? "," : "",
			 n);
	snprintf(r->body, sizeof(r->body), "{\"kind\":\"ConfigMapList\","
		 "\"metadata\":{\"resourceVersion\":\"77\",\"continue\":\"%s\"},"
		 "\"items\":[%s]}", cont, items);
}

static void echo(const struct ts_request *req, struct ts_response *r)
{
	const char *ct = strcasestr(req->headers, "content-type:");
	const char *acc = strcasestr(req->headers, "accept:");
	const char *ua = strcasestr(req->headers, "user-agent:");
	char ctv[128] = "", accv[128] = "", uav[128] = "";
	cJSON *o = cJSON_CreateObject();
	char *txt;

	if (ct)
		sscanf(ct + 13, " %127[^\r]", ctv);
	if (acc)
		sscanf(acc + 7, " %127[^\r]", accv);
	if (ua)
		sscanf(ua + 11, " %127[^\r]", uav);
	cJSON_AddStringToObject(o, "method", req->method);
	cJSON_AddStringToObject(o, "path", req->path);
	cJSON_AddStringToObject(o, "contentType", ctv);
	cJSON_AddStringToObject(o, "accept", accv);
	cJSON_AddStringToObject(o, "userAgent", uav);
	cJSON_AddStringToObject(o, "body", req->body ? req->body : "");
	txt = cJSON_PrintUnformatted(o);
	snprintf(r->body, sizeof(r->body), "%s", txt);
	free(txt);
	cJSON_Delete(o);
}

static void handler(const struct ts_request *req, struct ts_response *r,
		    void *arg)
{
	const char *p = req->path;

	(void)arg;
	snprintf(last_path, sizeof(last_path), "%s", p);
	snprintf(last_body, sizeof(last_body), "%.*s", (int)req->body_len,
		 req->body ? req->body : "");
	if (strstr(p, "/configmaps?limit=2")) {
		if (strstr(p, "continue=c2") && expire_once) {
			expire_once = 0;
			status(r, 410, "Expired", "The provided continue "
			       "parameter is too old", NULL);
		} else if (strstr(p, "continue=c2")) {
			page(r, "e", "");
		} else if (strstr(p, "continue=c1")) {
			page(r, "c,d", "c2");
		} else {
			page(r, "a,b", "c1");
		}
	} else if (strstr(p, "/forbidden")) {
		status(r, 403, "Forbidden", "mutatingwebhookconfigurations."
		       "admissionregistration.k8s.io is forbidden: User "
		       "\\\"alice@example.com\\\" cannot list resource "
		       "\\\"mutatingwebhookconfigurations\\\" in API group "
		       "\\\"admissionregistration.k8s.io\\\" at the cluster "
		       "scope", "{\"group\":\"admissionregistration.k8s.io\","
		       "\"kind\":\"mutatingwebhookconfigurations\"}");
	} else if (strstr(p, "/deployments/gone")) {
		status(r, 404, "NotFound", "deployments.apps \\\"gone\\\" not "
		       "found", "{\"name\":\"gone\",\"group\":\"apps\","
		       "\"kind\":\"deployments\"}");
	} else if (strstr(p, "kustomize.toolkit.fluxcd.io/v1/")) {
		status(r, 404, "NotFound", "the server could not find the "
		       "requested resource", NULL);
	} else if (strstr(p, "kustomize.toolkit.fluxcd.io/v1beta2/")) {
		snprintf(r->body, sizeof(r->body), "{\"kind\":\"Kustomization\""
			 ",\"apiVersion\":\"kustomize.toolkit.fluxcd.io/v1beta2\""
			 ",\"metadata\":{\"name\":\"apps\"}}");
	} else if (strstr(p, "/ssa-conflict")) {
		status(r, 409, "Conflict", "Apply failed with 1 conflict: "
		       "conflict with \\\"kustomize-controller\\\": .spec.x",
		       "{\"causes\":[{\"reason\":\"FieldManagerConflict\","
		       "\"message\":\"conflict with kustomize-controller\","
		       "\"field\":\".spec.x\"}]}");
	} else if (strstr(p, "/invalid")) {
		status(r, 422, "Invalid", "TokenRequest is invalid",
		       "{\"causes\":[{\"reason\":\"FieldValueInvalid\","
		       "\"message\":\"may not specify a duration less than 10 "
		       "minutes\",\"field\":\"spec.expirationSeconds\"}]}");
	} else if (strstr(p, "/proxy-html")) {
		r->status = 502;
		snprintf(r->body, sizeof(r->body), "<html>Bad Gateway</html>\n"
			 "<p>more</p>");
	} else if (strstr(p, "/warn")) {
		snprintf(r->headers, sizeof(r->headers), "Warning: 299 - "
			 "\"v1beta2 Kustomization is deprecated\"\r\n");
		snprintf(r->body, sizeof(r->body), "{}");
	} else if (strstr(p, "/busy")) {
		static int busy;

		if (busy++ % 2 == 0) {
			status(r, 429, "TooManyRequests", "slow down", NULL);
			snprintf(r->headers, sizeof(r->headers),
				 "Retry-After: 0\r\n");
		} else {
			snprintf(r->body, sizeof(r->body), "{\"ok\":true}");
		}
	} else if (strcmp(req->method, "PUT") == 0 && conflicts_left > 0) {
		conflicts_left--;
		status(r, 409, "Conflict", "Operation cannot be fulfilled on "
		       "configmaps \\\"c\\\": the object has been modified; "
		       "please apply your changes to the latest version and try "
		       "again", "{\"name\":\"c\",\"kind\":\"configmaps\"}");
	} else if (strstr(p, "/token")) {
		r->status = 201;
		snprintf(r->body, sizeof(r->body), "{\"kind\":\"TokenRequest\","
			 "\"status\":{\"token\":\"eyJhbGciOiJSUzI1NiJ9.e30.sig\","
			 "\"expirationTimestamp\":\"2026-11-29T11:00:00Z\"}}");
	} else {
		echo(req, r);
	}
}

struct fixture {
	struct ts_server *srv;
	struct kube_client *kc;
	char dir[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kube_opts o = { 0 };
	char path[256];
	FILE *fp;

	f->srv = ts_start(handler, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_kube_client.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/kubeconfig", f->dir);
	fp = fopen(path, "w");
	fprintf(fp, "clusters:\n- name: local\n  cluster: {server: "
		"'http://127.0.0.1:%d/prefix/'}\n"
		"contexts:\n- name: t\n  context: {cluster: local, namespace: "
		"team}\ncurrent-context: t\n", f->srv->port);
	fclose(fp);
	o.kubeconfig = path;
	o.user_agent = "kubectl-fluxwi/v0.1.0 (linux/amd64) fluxwi/abc1234";
	if (kube_client_open(&f->kc, &o) < 0)
		fail_msg("open: %s", err_msg());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	kube_client_close(f->kc);
	ts_stop(f->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static void paths_and_headers(void **state)
{
	struct fixture *f = *state;
	struct kube_ref r = { "apps", "v1", "deployments",
			      kube_client_namespace(f->kc), "kustomize-controller",
			      NULL };
	cJSON *o = NULL;

	assert_string_equal(kube_client_namespace(f->kc), "team");
	assert_int_equal(kube_get(f->kc, &r, &o), 0);
	assert_string_equal(field(o, "method"), "GET");
	assert_string_equal(field(o, "path"), "/prefix/apis/apps/v1/"
			    "namespaces/team/deployments/kustomize-controller");
	assert_string_equal(field(o, "accept"), "application/json");
	assert_string_equal(field(o, "userAgent"), "kubectl-fluxwi/v0.1.0 "
			    "(linux/amd64) fluxwi/abc1234");
	cJSON_Delete(o);
	r.group = NULL;
	r.version = "v1";
	r.resource = "namespaces";
	r.namespace = NULL;
	r.name = "odd name/x";
	assert_int_equal(kube_get(f->kc, &r, &o), 0);
	assert_string_equal(field(o, "path"),
			    "/prefix/api/v1/namespaces/odd%20name%2Fx");
	cJSON_Delete(o);
}

static void patch_types(void **state)
{
	static const struct {
		enum kube_patch_type t;
		const char *ct;
	} types[] = {
		{ KUBE_PATCH_MERGE, "application/merge-patch+json" },
		{ KUBE_PATCH_STRATEGIC, "application/strategic-merge-patch+json" },
		{ KUBE_PATCH_JSON, "application/json-patch+json" },
		{ KUBE_PATCH_APPLY, "application/apply-patch+yaml" },
	};
	struct fixture *f = *state;
	struct kube_write_opts wo = { "flux-client-side-apply", true, true };
	size_t i;

	for (i = 0; i < 4; i++) {
		cJSON *o = NULL;

		assert_int_equal(kube_patch_deployment(f->kc, "flux-system",
						       "kc", types[i].t, "{}",
						       &wo, &o), 0);
		assert_string_equal(field(o, "method"), "PATCH");
		assert_string_equal(field(o, "contentType"), types[i].ct);
		assert_string_equal(field(o, "body"), "{}");
		/* force only goes with server-side apply */
		assert_string_equal(field(o, "path"),
				    types[i].t == KUBE_PATCH_APPLY
				    ? "/prefix/apis/apps/v1/namespaces/flux-system"
				      "/deployments/kc?fieldManager=flux-client-"
				      "side-apply&force=true&dryRun=All"
				    : "/prefix/apis/apps/v1/namespaces/flux-system"
				      "/deployments/kc?fieldManager=flux-client-"
				      "side-apply&dryRun=All");
		cJSON_Delete(o);
	}
}

static void pagination(void **state)
{
	struct fixture *f = *state;
	struct kube_ref r = { NULL, "v1", "configmaps", "team", NULL, NULL };
	struct kube_list_opts lo = { "app in (a,b),!x", "metadata.name!=z", 2 };
	cJSON *items = NULL, *it;
	char *rv = NULL, names[64] = "";
	int before = atomic_load(&f->srv->requests);

	assert_int_equal(kube_list(f->kc, &r, &lo, &items, &rv), 0);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 3);
	cJSON_ArrayForEach(it, items)
		strcat(names, field(cJSON_GetObjectItem(it, "metadata"),
				    "name"));
	assert_string_equal(names, "abcde");
	assert_string_equal(rv, "77");
	free(rv);
	cJSON_Delete(items);
	/* an expired continue token restarts the list once */
	expire_once = 1;
	before = atomic_load(&f->srv->requests);
	assert_int_equal(kube_list(f->kc, &r, &lo, &items, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(items), 5);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 6);
	cJSON_Delete(items);
}

static void selector_escaped(void **state)
{
	struct fixture *f = *state;
	struct kube_ref r = { NULL, "v1", "pods", "team", NULL, NULL };
	struct kube_list_opts lo = { "app in (a,b),!x", "status.phase=Running",
				     0 };
	cJSON *items = NULL;

	/* the echo answer has no items: an empty list */
	assert_int_equal(kube_list(f->kc, &r, &lo, &items, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(items), 0);
	assert_string_equal(last_path, "/prefix/api/v1/namespaces/team/pods?"
			    "limit=500&labelSelector=app%20in%20%28a%2Cb%29%2C"
			    "%21x&fieldSelector=status.phase%3DRunning");
	cJSON_Delete(items);
	r.namespace = NULL;	/* all namespaces */
	assert_int_equal(kube_list(f->kc, &r, NULL, &items, NULL), 0);
	assert_string_equal(last_path, "/prefix/api/v1/pods?limit=500");
	cJSON_Delete(items);
}

static void expect_error(struct kube_client *kc, const char *path,
			 long code, const char *reason, const char *msg,
			 const char *hint)
{
	cJSON *o = NULL;

	assert_int_equal(kube_get_json(kc, path, &o), -1);
	assert_null(o);
	assert_int_equal(kube_last_code(kc), code);
	assert_string_equal(kube_last_reason(kc), reason);
	assert_int_equal(err_code(), EXIT_FAILED);
	if (!strstr(err_msg(), msg))
		fail_msg("message \"%s\" lacks \"%s\"", err_msg(), msg);
	if (hint && !strstr(err_remedy(), hint))
		fail_msg("hint \"%s\" lacks \"%s\"", err_remedy(), hint);
}

static void status_errors(void **state)
{
	struct fixture *f = *state;
	struct kube_client *kc = f->kc;

	expect_error(kc, "/forbidden", 403, "Forbidden",
		     "User \"alice@example.com\" cannot list resource",
		     "alice@example.com needs a ClusterRole rule {apiGroups: "
		     "[\"admissionregistration.k8s.io\"], resources: "
		     "[\"mutatingwebhookconfigurations\"], verbs: [\"list\"]}");
	assert_non_null(strstr(err_remedy(), "kubectl create clusterrolebinding"
			       " list-mutatingwebhookconfigurations --clusterrole"
			       "=list-mutatingwebhookconfigurations "
			       "--user=alice@example.com"));
	expect_error(kc, "/apis/apps/v1/namespaces/team/deployments/gone", 404,
		     "NotFound", "deployments.apps \"gone\" not found",
		     "check the name and the namespace");
	assert_false(kube_last_missing_api(kc));
	expect_error(kc, "/apis/kustomize.toolkit.fluxcd.io/v1/x", 404,
		     "NotFound", "could not find the requested resource",
		     "does not serve this resource type");
	assert_true(kube_last_missing_api(kc));
	expect_error(kc, "/ssa-conflict", 409, "Conflict",
		     "Apply failed with 1 conflict", "another field manager");
	expect_error(kc, "/invalid", 422, "Invalid",
		     "TokenRequest is invalid; spec.expirationSeconds: may not "
		     "specify a duration less than 10 minutes", NULL);
	expect_error(kc, "/proxy-html", 502, "Unknown",
		     "HTTP 502: <html>Bad Gateway</html> (GET /proxy-html",
		     NULL);
}

static void retries_429(void **state)
{
	struct fixture *f = *state;
	cJSON *o = NULL;
	int before = atomic_load(&f->srv->requests);

	assert_int_equal(kube_get_json(f->kc, "/busy", &o), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	assert_int_equal(atomic_load(&f->srv->requests) - before, 2);
	cJSON_Delete(o);
}

static void warnings_shown(void **state)
{
	struct fixture *f = *state;
	char path[256], text[512] = "";
	cJSON *o = NULL;
	int saved = dup(2), fd;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/stderr", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	assert_int_equal(kube_get_json(f->kc, "/warn", &o), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	cJSON_Delete(o);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(text, "v1beta2 Kustomization is deprecated"));
	assert_null(strstr(text, "299 -"));
}

struct upd {
	int calls;
};

static int update_once(struct kube_client *kc, void *arg)
{
	struct upd *u = arg;
	struct kube_ref r = { NULL, "v1", "configmaps", "team", "c", NULL };
	cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"c\","
				 "\"resourceVersion\":\"1\"}}");
	int rc;

	u->calls++;
	rc = kube_update(kc, &r, obj, NULL, NULL);
	cJSON_Delete(obj);
	return rc;
}

static void conflict_retry(void **state)
{
	struct fixture *f = *state;
	struct upd u = { 0 };

	conflicts_left = 2;
	assert_int_equal(kube_retry_on_conflict(f->kc, 5, update_once, &u), 0);
	assert_int_equal(u.calls, 3);
	conflicts_left = 9;
	u.calls = 0;
	assert_int_equal(kube_retry_on_conflict(f->kc, 3, update_once, &u), -1);
	assert_int_equal(u.calls, 3);
	assert_non_null(strstr(err_msg(), "the object has been modified"));
	assert_non_null(strstr(err_remedy(), "run the command again"));
	conflicts_left = 0;
}

static void flux_fallback(void **state)
{
	struct fixture *f = *state;
	cJSON *o = NULL;
	const char *v = NULL;

	assert_int_equal(kube_get_kustomization(f->kc, "flux-system", "apps",
						&o, &v), 0);
	assert_string_equal(v, "v1beta2");
	assert_string_equal(field(cJSON_GetObjectItem(o, "metadata"), "name"),
			    "apps");
	cJSON_Delete(o);
}

static void token_request(void **state)
{
	struct fixture *f = *state;
	const char *aud[] = { "api://AzureADTokenExchange", NULL };
	char *tok = NULL;
	time_t exp = 0;

	assert_int_equal(kube_create_token(f->kc, "flux-system",
					   "kustomize-controller", aud, 3600,
					   &tok, &exp), 0);
	assert_string_equal(tok, "eyJhbGciOiJSUzI1NiJ9.e30.sig");
	assert_int_equal(exp, 1795950000);
	free(tok);
}

static void access_review(void **state)
{
	struct fixture *f = *state;
	bool allowed = true;
	char *reason = NULL;

	assert_int_equal(kube_can_i(f->kc, "flux-system", "create", "",
				    "serviceaccounts/token",
				    "kustomize-controller", &allowed, &reason),
			 0);
	assert_false(allowed);		/* the echo has no status.allowed */
	assert_string_equal(reason, "");
	free(reason);
	assert_string_equal(last_path, "/prefix/apis/authorization.k8s.io/v1/"
			    "selfsubjectaccessreviews");
	assert_string_equal(last_body, "{\"apiVersion\":\"authorization.k8s."
			    "io/v1\",\"kind\":\"SelfSubjectAccessReview\","
			    "\"spec\":{\"resourceAttributes\":{\"namespace\":"
			    "\"flux-system\",\"verb\":\"create\",\"group\":\"\","
			    "\"resource\":\"serviceaccounts\",\"subresource\":"
			    "\"token\",\"name\":\"kustomize-controller\"}}}");
}

static cJSON *deploy(const char *status_json, long gen)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"kc\","
		 "\"generation\":%ld},\"spec\":{\"replicas\":2},\"status\":%s}",
		 gen, status_json);
	return cJSON_Parse(text);
}

static void rollout_rules(void **state)
{
	static const struct {
		const char *status;
		long gen;
		enum kube_rollout want;
		const char *msg;
	} cases[] = {
		{ "{\"observedGeneration\":1}", 2, KUBE_ROLLOUT_WAITING,
		  "spec update to be observed" },
		{ "{\"observedGeneration\":2,\"conditions\":[{\"type\":"
		  "\"Progressing\",\"reason\":\"ProgressDeadlineExceeded\"}]}", 2,
		  KUBE_ROLLOUT_FAILED, "exceeded its progress deadline" },
		{ "{\"observedGeneration\":2,\"updatedReplicas\":1}", 2,
		  KUBE_ROLLOUT_WAITING, "1 out of 2 new replicas" },
		{ "{\"observedGeneration\":2,\"updatedReplicas\":2,\"replicas\":"
		  "3}", 2, KUBE_ROLLOUT_WAITING, "1 old replicas are pending" },
		{ "{\"observedGeneration\":2,\"updatedReplicas\":2,\"replicas\":"
		  "2,\"availableReplicas\":1}", 2, KUBE_ROLLOUT_WAITING,
		  "1 of 2 updated replicas are available" },
		{ "{\"observedGeneration\":2,\"updatedReplicas\":2,\"replicas\":"
		  "2,\"availableReplicas\":2}", 2, KUBE_ROLLOUT_DONE,
		  "successfully rolled out" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *d = deploy(cases[i].status, cases[i].gen);
		char msg[256];

		assert_int_equal(kube_rollout_state(d, msg, sizeof(msg)),
				 cases[i].want);
		if (!strstr(msg, cases[i].msg))
			fail_msg("case %zu: \"%s\"", i, msg);
		cJSON_Delete(d);
	}
}

static void selectors(void **state)
{
	cJSON *l = cJSON_Parse("{\"app\":\"kustomize-controller\","
			       "\"tier\":\"x\"}");
	char *s = kube_selector_from_labels(l);

	(void)state;
	assert_string_equal(s, "app=kustomize-controller,tier=x");
	free(s);
	cJSON_Delete(l);
	l = cJSON_Parse("{}");
	assert_null(kube_selector_from_labels(l));
	cJSON_Delete(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(paths_and_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(patch_types, setup, teardown),
		cmocka_unit_test_setup_teardown(pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(selector_escaped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(status_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(retries_429, setup, teardown),
		cmocka_unit_test_setup_teardown(warnings_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(conflict_retry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(flux_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(token_request, setup, teardown),
		cmocka_unit_test_setup_teardown(access_review, setup, teardown),
		cmocka_unit_test(rollout_rules),
		cmocka_unit_test(selectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
