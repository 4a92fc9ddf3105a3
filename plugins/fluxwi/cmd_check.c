/*
 * cmd_check.c - kubectl fluxwi check: every link of the chain that lets
 * kustomize-controller decrypt with an Azure managed identity, each PASS,
 * WARN or FAIL with a one-line remedy (azure.md §9).
 *
 * Each link is judged on its own facts, so one broken link fails that
 * link; the Azure links (--exchange, --key) use what the controller uses
 * (its pods' AZURE_CLIENT_ID / AZURE_TENANT_ID).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/cloud.h"
#include "check.h"
#include "cli/cluster.h"
#include "cli/output.h"
#include "kube/objects.h"
#include "live.h"
#include "util/err.h"
#include "util/log.h"

/* One line: control characters become spaces, runs of spaces one. */
static void squeeze(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		char ch = (*r == '\n' || *r == '\r' || *r == '\t') ? ' ' : *r;

		if (ch == ' ' && (w == s || w[-1] == ' '))
			continue;
		*w++ = ch;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

struct wi_link *wi_link_add(struct wi_check *c, const char *name,
			    enum wi_status st, const char *remedy,
			    const char *fmt, ...)
{
	struct wi_link *l;
	va_list ap;

	if (c->n == WI_MAX_LINKS)
		return NULL;
	l = &c->links[c->n++];
	l->name = name;
	l->status = st;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
	squeeze(l->detail);
	snprintf(l->remedy, sizeof(l->remedy), "%s",
		 st == WI_PASS ? "" : remedy ? remedy : "");
	return l;
}

/* The error just recorded, as a FAIL link. */
static void fail_err(struct wi_check *c, const char *name,
		     const char *remedy)
{
	wi_link_add(c, name, WI_FAIL, err_remedy()[0] ? err_remedy() : remedy,
		    "%s", err_msg());
	err_clear();
}

static int link_api(struct wi_check *c, struct kube_client *kc)
{
	cJSON *v = NULL;
	const char *gv;

	if (kube_get_json(kc, "/version", &v) < 0) {
		fail_err(c, "api", "check --kubeconfig and --context");
		return -1;
	}
	gv = wi_str(v, "gitVersion", NULL);
	wi_link_add(c, "api", WI_PASS, NULL, "API server %s reachable (%s)",
		    kube_client_config(kc)->server, gv ? gv : "?");
	cJSON_Delete(v);
	return 0;
}

/* Major version of an image tag "repo:v1.6.1" (-1 when unknown). */
static int image_major(const char *image)
{
	const char *t = image ? strrchr(image, ':') : NULL;

	if (!t || strchr(t, '/') || t[1] != 'v')
		return -1;
	return atoi(t + 2);
}

static const char *env_credential(const cJSON *container)
{
	static const char *const names[] = { "AZURE_CLIENT_SECRET",
					     "AZURE_CLIENT_CERTIFICATE_PATH",
					     NULL };
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(container,
							       "env")) {
		const char *n = wi_str(e, "name", NULL);

		for (size_t i = 0; n && names[i]; i++)
			if (strcmp(n, names[i]) == 0)
				return names[i];
	}
	return NULL;
}

static int link_flux(struct wi_check *c, struct kube_client *kc,
		     const struct fluxwi_args *a, cJSON **dep)
{
	const cJSON *ct;
	const char *img, *cred;
	char rem[300];

	if (kube_get_deployment(kc, a->flux_namespace, a->controller, dep) < 0) {
		snprintf(rem, sizeof(rem), "install Flux (flux install), or "
			 "name it with --flux-namespace/--controller");
		wi_link_add(c, "flux", WI_FAIL, rem, "Deployment %s/%s: %s",
			    a->flux_namespace, a->controller, err_msg());
		err_clear();
		return -1;
	}
	ct = flux_wi_container(wi_get(*dep, "spec", "template", "spec", NULL));
	img = wi_str(ct, "image", NULL);
	cred = env_credential(ct);
	if (image_major(img) == 0)
		wi_link_add(c, "flux", WI_FAIL, "upgrade Flux to v2.0 or later "
			    "(kustomize-controller v1.0.0+)", "%s predates "
			    "workload identity support", img);
	else if (cred)
		wi_link_add(c, "flux", WI_FAIL, "remove that variable from the "
			    "Deployment (and from git)", "the Deployment sets "
			    "%s: that credential silently replaces workload "
			    "identity", cred);
	else
		wi_link_add(c, "flux", WI_PASS, NULL, "Deployment %s/%s (%s)",
			    a->flux_namespace, a->controller,
			    img ? img : "no image");
	return 0;
}

/* Ready endpoints of the webhook's Service; -1 when they cannot be read
 * (the API is missing or forbidden): not judged then. */
static int webhook_endpoints(struct kube_client *kc,
			     const struct wi_webhook *w)
{
	struct kube_ref ref = { "discovery.k8s.io", "v1", "endpointslices",
				w->ns, NULL, NULL };
	struct kube_list_opts lo = { NULL, NULL, 0 };
	char sel[200];
	cJSON *items = NULL;
	const cJSON *s, *e;
	int ready = 0;

	snprintf(sel, sizeof(sel), "kubernetes.io/service-name=%s",
		 w->service);
	lo.label_selector = sel;
	if (kube_list(kc, &ref, &lo, &items, NULL) < 0) {
		err_clear();
		return -1;
	}
	cJSON_ArrayForEach(s, items) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(
					      s, "endpoints")) {
			const cJSON *r = wi_get(e, "conditions", "ready", NULL);

			if (!r || cJSON_IsTrue(r))
				ready++;
		}
	}
	cJSON_Delete(items);
	return ready;
}

static void link_webhook(struct wi_check *c, struct kube_client *kc)
{
	struct wi_webhook w;
	int ready;

	if (wi_find_webhook(kc, &w) < 0) {
		fail_err(c, "webhook", "allow list on "
			 "mutatingwebhookconfigurations");
		return;
	}
	if (!w.found) {
		wi_link_add(c, "webhook", WI_FAIL, "enable it: az aks update "
			    "--enable-oidc-issuer --enable-workload-identity "
			    "(or install azure-workload-identity)", "no "
			    "MutatingWebhookConfiguration has the webhook "
			    WI_WEBHOOK_NAME ": new pods get no token");
		return;
	}
	ready = webhook_endpoints(kc, &w);
	if (ready == 0)
		wi_link_add(c, "webhook", WI_FAIL, "check the webhook's pods: "
			    "kubectl get pods -n NS (labelled pods cannot be "
			    "created while it is down)", "Service %s/%s of "
			    "the webhook has no ready endpoints", w.ns,
			    w.service);
	else if (!w.selector || w.ignore)
		wi_link_add(c, "webhook", WI_WARN, "upgrade the webhook to "
			    "v1.0 or later", "%s: old webhook semantics (%s)",
			    w.config, w.ignore ? "failurePolicy Ignore" :
			    "no objectSelector");
	else
		wi_link_add(c, "webhook", WI_PASS, NULL, "%s (service %s/%s%s)",
			    w.config, w.ns, w.service,
			    strcmp(w.ns, "kube-system") == 0 ? ", AKS add-on" :
			    "");
}

static void link_issuer(struct wi_check *c, struct kube_client *kc,
			const struct fluxwi_args *a)
{
	char *iss = NULL;
	const char *src = NULL;

	if (wi_find_issuer(kc, a->flux_namespace, a->controller, &iss,
			   &src) < 0) {
		fail_err(c, "issuer", "enable the OIDC issuer: az aks update "
			 "--enable-oidc-issuer");
		return;
	}
	snprintf(c->issuer, sizeof(c->issuer), "%s", iss);
	if (strncmp(iss, "https://", 8) != 0)
		wi_link_add(c, "issuer", WI_FAIL, "enable the OIDC issuer: az "
			    "aks update --enable-oidc-issuer", "%s is not a "
			    "public https issuer Entra ID can read", iss);
	else
		wi_link_add(c, "issuer", WI_PASS, NULL, "%s (from %s)", iss,
			    src);
	free(iss);
}

static void patch_remedy(char *out, size_t size, const struct wi_ids *id)
{
	snprintf(out, size, "kubectl fluxwi patch --client-id %s%s%s",
		 id->client_id[0] ? id->client_id : "ID",
		 id->tenant_id[0] ? " --tenant-id " : " [--tenant-id ID]",
		 id->tenant_id);
}

static void link_sa(struct wi_check *c, const cJSON *sa,
		    const struct wi_ids *want)
{
	const char *cid = wi_str(sa, "metadata", "annotations", WI_CLIENT_ID,
				 NULL);
	const char *tid = wi_str(sa, "metadata", "annotations", WI_TENANT_ID,
				 NULL);
	char rem[300];

	patch_remedy(rem, sizeof(rem), want);
	if (!cid || !*cid)
		wi_link_add(c, "serviceaccount", WI_FAIL, rem, "no annotation "
			    WI_CLIENT_ID ": pods get no AZURE_CLIENT_ID");
	else if (!wi_is_guid(cid))
		wi_link_add(c, "serviceaccount", WI_FAIL, rem, WI_CLIENT_ID
			    " is '%s', not a GUID", cid);
	else if (want->client_id[0] && strcasecmp(cid, want->client_id))
		wi_link_add(c, "serviceaccount", WI_FAIL, rem, WI_CLIENT_ID
			    " is %s, expected %s", cid, want->client_id);
	else if (tid && !wi_is_guid(tid))
		wi_link_add(c, "serviceaccount", WI_FAIL, rem, WI_TENANT_ID
			    " is '%s', not a GUID", tid);
	else if (tid && want->tenant_id[0] && strcasecmp(tid, want->tenant_id))
		wi_link_add(c, "serviceaccount", WI_FAIL, rem, WI_TENANT_ID
			    " is %s, expected %s", tid, want->tenant_id);
	else if (!tid)
		wi_link_add(c, "serviceaccount", WI_WARN, rem, "client ID %s; "
			    "no " WI_TENANT_ID ": the webhook's default tenant "
			    "is injected", cid);
	else
		wi_link_add(c, "serviceaccount", WI_PASS, NULL, "client ID %s, "
			    "tenant ID %s", cid, tid);
}

static void link_label(struct wi_check *c, const cJSON *dep,
		       const struct wi_ids *want)
{
	const char *v = wi_str(dep, "spec", "template", "metadata", "labels",
			       WI_USE, NULL);
	char rem[300];

	patch_remedy(rem, sizeof(rem), want);
	if (!v)
		wi_link_add(c, "pod-label", WI_FAIL, rem, "the pod template "
			    "lacks the label " WI_USE ": \"true\"; the webhook "
			    "ignores its pods");
	else if (strcmp(v, "true") != 0)
		wi_link_add(c, "pod-label", WI_FAIL, rem, "the pod template "
			    "label " WI_USE " is \"%s\"; the webhook acts only "
			    "on exactly \"true\"", v);
	else
		wi_link_add(c, "pod-label", WI_PASS, NULL, WI_USE ": \"true\" "
			    "on the pod template");
}

static void link_pods(struct wi_check *c, struct kube_client *kc,
		      const cJSON *dep, const cJSON *sa,
		      const struct fluxwi_args *a, const struct wi_ids *want)
{
	const char *cid = wi_str(sa, "metadata", "annotations", WI_CLIENT_ID,
				 NULL);
	char rem[400];
	struct wi_pods r;

	snprintf(rem, sizeof(rem), "restart the controller: kubectl -n %s "
		 "rollout restart deployment/%s --field-manager="
		 "flux-client-side-apply", a->flux_namespace, a->controller);
	if (wi_pods_report(kc, dep, cid, &r) < 0) {
		fail_err(c, "pods", "allow list on pods");
		return;
	}
	snprintf(c->client_id, sizeof(c->client_id), "%s", r.client_id);
	snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", r.tenant_id);
	if (r.total == 0)
		wi_link_add(c, "pods", WI_FAIL, "look at the Deployment's "
			    "events: kubectl -n NS describe deployment",
			    "no running %s pods", a->controller);
	else if (r.unlabelled > 0 && !wi_str(dep, "spec", "template",
					     "metadata", "labels", WI_USE,
					     NULL))
		wi_link_add(c, "pods", WI_FAIL, (patch_remedy(rem, sizeof(rem),
							      want), rem),
			    "%d of %d pods carry no token: the pod template "
			    "is not labelled (%s)", r.unlabelled, r.total,
			    r.why);
	else if (r.unlabelled > 0)
		wi_link_add(c, "pods", WI_FAIL, rem, "%d of %d pods were "
			    "created before the pod label and carry no token "
			    "(%s)", r.unlabelled, r.total, r.why);
	else if (r.injected < r.total)
		wi_link_add(c, "pods", WI_FAIL, rem, "the webhook did not "
			    "mutate %d of %d pods: %s", r.total - r.injected,
			    r.total, r.why);
	else if (r.stale > 0)
		wi_link_add(c, "pods", WI_FAIL, rem, "stale pods, created "
			    "before the identity changed: %s", r.why);
	else
		wi_link_add(c, "pods", WI_PASS, NULL, "%d pod%s with "
			    "AZURE_FEDERATED_TOKEN_FILE and the projected token "
			    "(%s layout)", r.total, r.total == 1 ? "" : "s",
			    r.layout);
}

/* The identity the controller would use when no pod tells. */
static void controller_identity(struct wi_check *c, const cJSON *sa,
				const struct wi_ids *want)
{
	const char *cid = wi_str(sa, "metadata", "annotations", WI_CLIENT_ID,
				 NULL);
	const char *tid = wi_str(sa, "metadata", "annotations", WI_TENANT_ID,
				 NULL);

	if (!c->client_id[0])
		snprintf(c->client_id, sizeof(c->client_id), "%s",
			 cid ? cid : want->client_id);
	if (!c->tenant_id[0])
		snprintf(c->tenant_id, sizeof(c->tenant_id), "%s",
			 tid ? tid : want->tenant_id);
}

static int walk(struct wi_check *c, const struct cli_ctx *ctx,
		struct kube_client *kc, const struct fluxwi_args *a,
		const struct wi_ids *want)
{
	cJSON *dep = NULL, *sa = NULL;
	char scope[600], subject[600];

	if (link_api(c, kc) < 0)
		return 0;
	if (link_flux(c, kc, a, &dep) < 0)
		return 0;
	link_webhook(c, kc);
	link_issuer(c, kc, a);
	if (kube_get_service_account(kc, a->flux_namespace, a->controller,
				     &sa) < 0) {
		fail_err(c, "serviceaccount", "install Flux (flux install)");
	} else {
		link_sa(c, sa, want);
	}
	link_label(c, dep, want);
	link_pods(c, kc, dep, sa, a, want);
	controller_identity(c, sa, want);
	snprintf(subject, sizeof(subject), "system:serviceaccount:%s:%s",
		 a->flux_namespace, a->controller);
	if (a->identity && c->issuer[0])
		wi_check_fic(c, ctx, a->identity, subject);
	wi_check_kustomizations(c, kc);
	if (a->exchange || a->key) {
		if (a->key ? wi_key_scope(a->key, scope, sizeof(scope)) < 0 :
		    snprintf(scope, sizeof(scope), "%s/.default",
			     az_cloud_default()->vault_resource) < 0) {
			fail_err(c, "exchange", "pass a key URL "
				 "https://VAULT/keys/NAME[/VERSION]");
		} else {
			wi_check_exchange(c, kc, a->flux_namespace,
					  a->controller, scope);
			if (a->key)
				wi_check_key(c, a->key);
		}
	}
	cJSON_Delete(sa);
	cJSON_Delete(dep);
	return 0;
}

static const char *status_word(enum wi_status s)
{
	return s == WI_PASS ? "PASS" : s == WI_WARN ? "WARN" : "FAIL";
}

static int print_table(const struct cli_ctx *ctx, const struct wi_check *c)
{
	static const char *const hdr[] = { "LINK", "RESULT", "DETAIL", NULL };
	struct table *t = table_new(hdr);

	if (!t)
		return err_set(EXIT_FAILED, "out of memory");
	for (size_t i = 0; i < c->n; i++) {
		const char *row[] = { c->links[i].name,
				      status_word(c->links[i].status),
				      c->links[i].detail };

		if (table_add(t, row) < 0) {
			table_free(t);
			return -1;
		}
	}
	table_color_word(t, "PASS", "\033[32m");
	table_color_word(t, "WARN", "\033[33m");
	table_color_word(t, "FAIL", "\033[31m");
	table_print(t, stdout, ctx->color);
	table_free(t);
	bool first = true;

	for (size_t i = 0; i < c->n; i++) {
		if (c->links[i].status == WI_PASS || !c->links[i].remedy[0])
			continue;
		printf("%s%s: %s\n", first ? "\nRemedies:\n" : "",
		       c->links[i].name, c->links[i].remedy);
		first = false;
	}
	return 0;
}

static int print_json(const struct wi_check *c, int fails, int warns)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	int rc;

	if (!doc)
		return err_set(EXIT_FAILED, "out of memory");
	arr = cJSON_AddArrayToObject(doc, "links");
	for (size_t i = 0; arr && i < c->n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", c->links[i].name);
		cJSON_AddStringToObject(o, "result",
					status_word(c->links[i].status));
		cJSON_AddStringToObject(o, "detail", c->links[i].detail);
		cJSON_AddStringToObject(o, "remedy", c->links[i].remedy);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(doc, "pass", (double)c->n - fails - warns);
	cJSON_AddNumberToObject(doc, "warn", warns);
	cJSON_AddNumberToObject(doc, "fail", fails);
	cJSON_AddBoolToObject(doc, "ok", fails == 0);
	rc = output_json(stdout, doc);
	cJSON_Delete(doc);
	return rc;
}

int fluxwi_check(struct cli_ctx *ctx, void *args)
{
	const struct fluxwi_args *a = args;
	struct kube_client *kc = NULL;
	struct wi_check *c;
	struct wi_ids want;
	int fails = 0, warns = 0, rc = -1;

	if (ctx->argc > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       ctx->argv[0]);
	if (wi_resolve_ids(ctx, a, false, &want) < 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(EXIT_FAILED, "out of memory");
	c->ctx = ctx;
	if (cli_kube_open(ctx, &kc) < 0)
		goto out;
	walk(c, ctx, kc, a, &want);
	for (size_t i = 0; i < c->n; i++) {
		fails += c->links[i].status == WI_FAIL;
		warns += c->links[i].status == WI_WARN;
	}
	if ((strcmp(wi_output(ctx, "table"), "json") == 0 ?
	     print_json(c, fails, warns) : print_table(ctx, c)) < 0)
		goto out;
	rc = fails ? EXIT_FAILED : 0;
out:
	wi_check_release(c);
	free(c);
	kube_client_close(kc);
	return rc;
}
