/*
 * cmd_patch.c - kubectl fluxwi patch: the live controller, wired to the
 * managed identity.
 *
 * Merge patches with field manager "fluxwi" (never a name starting with
 * "kubectl": Flux would take such fields over and drop them), holding only
 * the fields whose value differs.  The controller is restarted only when
 * its pod template or identity changed or its running pods lack the
 * injection; then the rollout is awaited and the new pods are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cluster.h"
#include "cli/output.h"
#include "kube/objects.h"
#include "live.h"
#include "rollout.h"
#include "util/err.h"
#include "util/log.h"
#include "wi.h"

struct plan {
	cJSON *sa_patch;		/* NULL: nothing to write */
	cJSON *dep_patch;
	bool template_changed;		/* the label changes the template */
	bool identity_changed;
	bool restart;			/* restartedAt is in dep_patch */
	bool restart_skipped;		/* needed, but --no-restart */
	struct wi_pods pods;
	char flux_sa[400], flux_dep[400];
	bool reverts;
	bool in_git;			/* git sets all of it already */
};

/* Adds obj.<section>.<key> = value to the patch, creating the path. */
static int patch_set(cJSON **patch, const char *const *path,
		     const char *key, const char *value)
{
	cJSON *o;

	if (!*patch && !(*patch = cJSON_CreateObject()))
		return err_set(EXIT_FAILED, "out of memory");
	o = *patch;
	for (size_t i = 0; path[i]; i++) {
		cJSON *next = cJSON_GetObjectItemCaseSensitive(o, path[i]);

		if (!next && !(next = cJSON_AddObjectToObject(o, path[i])))
			return err_set(EXIT_FAILED, "out of memory");
		o = next;
	}
	if (!(value ? cJSON_AddStringToObject(o, key, value)
		    : cJSON_AddNullToObject(o, key)))
		return err_set(EXIT_FAILED, "out of memory");
	return 0;
}

/* Paths padded with NULLs to 5 entries (want_field reads 4). */
static const char *const SA_ANN[5] = { "metadata", "annotations" };
static const char *const SA_LAB[5] = { "metadata", "labels" };
static const char *const TPL_LAB[5] = { "spec", "template", "metadata",
					"labels" };
static const char *const TPL_ANN[5] = { "spec", "template", "metadata",
					"annotations" };

/* Sets key when obj.<path>.key differs from want; *changed tells. */
static int want_field(const cJSON *obj, cJSON **patch,
		      const char *const *path, const char *key,
		      const char *want, bool *changed)
{
	const cJSON *cur = wi_get(obj, path[0], path[1], path[2], path[3],
				  NULL);
	const char *v = wi_str(cur, key, NULL);

	if (v && strcmp(v, want) == 0)
		return 0;
	if (changed)
		*changed = true;
	return patch_set(patch, path, key, want);
}

static int plan_sa(struct plan *p, const cJSON *sa, const struct wi_ids *id)
{
	if (want_field(sa, &p->sa_patch, SA_ANN, WI_CLIENT_ID, id->client_id,
		       &p->identity_changed) < 0)
		return -1;
	if (id->tenant_id[0] &&
	    want_field(sa, &p->sa_patch, SA_ANN, WI_TENANT_ID, id->tenant_id,
		       &p->identity_changed) < 0)
		return -1;
	return want_field(sa, &p->sa_patch, SA_LAB, WI_USE, "true", NULL);
}


static int plan_deploy(struct kube_client *kc, struct plan *p,
		       const cJSON *dep, const struct wi_ids *id,
		       const struct fluxwi_args *a)
{
	char stamp[48];
	struct timespec now;

	if (want_field(dep, &p->dep_patch, TPL_LAB, WI_USE, "true",
		       &p->template_changed) < 0)
		return -1;
	if (wi_pods_report(kc, dep, id->client_id, &p->pods) < 0)
		return -1;
	if (p->template_changed)
		return 0;
	if (!p->identity_changed && p->pods.total > 0 &&
	    p->pods.injected == p->pods.total && p->pods.stale == 0)
		return 0;
	if (a->no_restart) {
		p->restart_skipped = true;
		return 0;
	}
	if (cJSON_IsTrue(wi_get(dep, "spec", "paused", NULL))) {
		err_set(EXIT_FAILED, "Deployment %s/%s is paused: cannot "
			"restart it", a->flux_namespace, a->controller);
		return err_hint("resume it (kubectl rollout resume) or pass "
				"--no-restart");
	}
	clock_gettime(CLOCK_REALTIME, &now);
	flux_restart_stamp(stamp, sizeof(stamp),
			   wi_str(dep, "spec", "template", "metadata",
				  "annotations", WI_RESTARTED_AT, NULL), &now);
	p->restart = true;
	return patch_set(&p->dep_patch, TPL_ANN, WI_RESTARTED_AT, stamp);
}

static void plan_flux(struct kube_client *kc, struct plan *p,
		      const cJSON *sa, const cJSON *dep,
		      const struct wi_ids *id)
{
	struct wi_field saf[3], depf[1] = {
		{ { "spec", "template", "metadata", "labels", WI_USE, NULL },
		  "true" },
	};
	size_t n = 0;

	saf[n++] = (struct wi_field){ { "metadata", "annotations",
					WI_CLIENT_ID, NULL }, id->client_id };
	if (id->tenant_id[0])
		saf[n++] = (struct wi_field){ { "metadata", "annotations",
						WI_TENANT_ID, NULL },
					      id->tenant_id };
	saf[n++] = (struct wi_field){ { "metadata", "labels", WI_USE, NULL },
				      "true" };
	int vs = wi_flux_verdict(kc, sa, saf, n, p->flux_sa,
				 sizeof(p->flux_sa));
	int vd = wi_flux_verdict(kc, dep, depf, 1, p->flux_dep,
				 sizeof(p->flux_dep));

	p->reverts = vs == 1 || vd == 1;
	p->in_git = vs == 2 && vd == 2;
}

static void generate_cmd(char *out, size_t size, const struct fluxwi_args *a,
			 const struct wi_ids *id)
{
	const char *ctl = strcmp(a->controller, "kustomize-controller") ?
			  a->controller : NULL;

	snprintf(out, size, "kubectl fluxwi generate --client-id %s%s%s%s%s",
		 id->client_id, id->tenant_id[0] ? " --tenant-id " : "",
		 id->tenant_id, ctl ? " --controller " : "", ctl ? ctl : "");
}

/* The result document (-o yaml|json, and --dry-run). */
static int print_result(const struct cli_ctx *ctx, const struct plan *p,
			const struct fluxwi_args *a, const struct wi_ids *id)
{
	cJSON *doc = cJSON_CreateObject(), *flux;
	char cmd[400];
	int rc;

	if (!doc)
		return err_set(EXIT_FAILED, "out of memory");
	generate_cmd(cmd, sizeof(cmd), a, id);
	cJSON_AddItemToObject(doc, "serviceAccount", p->sa_patch ?
			      cJSON_Duplicate(p->sa_patch, true) :
			      cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "deployment", p->dep_patch ?
			      cJSON_Duplicate(p->dep_patch, true) :
			      cJSON_CreateNull());
	cJSON_AddBoolToObject(doc, "dryRun", a->dry_run);
	cJSON_AddBoolToObject(doc, "restart", p->restart ||
			      p->template_changed);
	flux = cJSON_AddObjectToObject(doc, "flux");
	if (flux) {
		cJSON_AddBoolToObject(flux, "reverts", p->reverts);
		cJSON_AddStringToObject(flux, "serviceAccount", p->flux_sa);
		cJSON_AddStringToObject(flux, "deployment", p->flux_dep);
	}
	cJSON_AddStringToObject(doc, "permanent", cmd);
	rc = strcmp(wi_output(ctx, "yaml"), "json") == 0 ?
	     output_json(stdout, doc) : output_yaml(stdout, doc);
	cJSON_Delete(doc);
	return rc;
}

static void say_flux(const struct fluxwi_args *a, const struct plan *p,
		     const struct wi_ids *id)
{
	bool dep_first = p->reverts && strstr(p->flux_dep, "REVERTS");
	char cmd[400];

	generate_cmd(cmd, sizeof(cmd), a, id);
	wi_say("%s.\n", dep_first ? p->flux_dep : p->flux_sa);
	if (!p->in_git)
		wi_say("To make it permanent, in your GitOps repository "
		       "run:\n  %s\n", cmd);
}

static int apply(struct kube_client *kc, const struct fluxwi_args *a,
		 struct plan *p)
{
	if (p->sa_patch && wi_merge_patch(kc, a, true, p->sa_patch, false) < 0)
		return -1;
	wi_say("serviceaccount/%s %s\n", a->controller,
	       p->sa_patch ? "patched" : "unchanged");
	if (p->dep_patch && wi_merge_patch(kc, a, false, p->dep_patch, false) < 0)
		return -1;
	wi_say("deployment/%s %s%s\n", a->controller,
	       p->dep_patch ? "patched" : "unchanged",
	       p->restart ? " (restarted: " WI_RESTARTED_AT ")" :
	       p->template_changed ? " (pod template changed: rolling)" : "");
	return 0;
}

static void plan_free(struct plan *p)
{
	cJSON_Delete(p->sa_patch);
	cJSON_Delete(p->dep_patch);
}

static int load(struct kube_client *kc, const struct fluxwi_args *a,
		cJSON **sa, cJSON **dep)
{
	if (kube_get_service_account(kc, a->flux_namespace, a->controller,
				     sa) < 0 ||
	    kube_get_deployment(kc, a->flux_namespace, a->controller, dep) < 0) {
		if (kube_last_not_found(kc))
			err_hint("is Flux installed in %s? (--flux-namespace, "
				 "--controller)", a->flux_namespace);
		return -1;
	}
	return 0;
}

int fluxwi_patch(struct cli_ctx *ctx, void *args)
{
	const struct fluxwi_args *a = args;
	struct kube_client *kc = NULL;
	cJSON *sa = NULL, *dep = NULL;
	struct plan p;
	struct wi_ids id;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	wi_say_to(ctx->g.output ? stderr : stdout);
	if (ctx->argc > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       ctx->argv[0]);
	if (wi_resolve_ids(ctx, a, true, &id) < 0 ||
	    cli_kube_open(ctx, &kc) < 0 || load(kc, a, &sa, &dep) < 0 ||
	    plan_sa(&p, sa, &id) < 0 || plan_deploy(kc, &p, dep, &id, a) < 0)
		goto out;
	plan_flux(kc, &p, sa, dep, &id);
	if (a->dry_run) {
		if ((p.sa_patch && wi_merge_patch(kc, a, true, p.sa_patch, true) < 0) ||
		    (p.dep_patch && wi_merge_patch(kc, a, false, p.dep_patch, true) < 0) ||
		    print_result(ctx, &p, a, &id) < 0)
			goto out;
		fprintf(stderr, "dry run: the server accepted the patches; "
			"nothing was written\n");
		rc = 0;
		goto out;
	}
	if (apply(kc, a, &p) < 0)
		goto out;
	if (p.restart_skipped) {
		wi_say("not restarted (--no-restart): the running pods keep "
		       "their old identity until they are re-created\n");
		rc = 0;
	} else {
		rc = wi_rollout_confirm(kc, a, dep, id.client_id, true);
	}
	if (rc >= 0)
		say_flux(a, &p, &id);
	if (rc >= 0 && ctx->g.output)
		rc = print_result(ctx, &p, a, &id);
out:
	plan_free(&p);
	cJSON_Delete(sa);
	cJSON_Delete(dep);
	kube_client_close(kc);
	return rc;
}
