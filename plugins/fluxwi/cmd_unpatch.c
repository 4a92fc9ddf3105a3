/*
 * cmd_unpatch.c - kubectl fluxwi unpatch: removes exactly what patch
 * added, i.e. the workload identity fields that field manager "fluxwi"
 * owns (managedFields); values others wrote (git, a person) stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cluster.h"
#include "cli/output.h"
#include "kube/objects.h"
#include "live.h"
#include "rollout.h"
#include "util/err.h"
#include "wi.h"

struct removal {
	cJSON *sa_patch, *dep_patch;
	char removed_sa[512], removed_dep[512];	/* for the report */
};

/* Adds "path: null" to *patch when fluxwi owns obj.path.key. */
static int drop_owned(const cJSON *obj, cJSON **patch,
		      const char *const *path, size_t depth, const char *key,
		      char *removed, size_t size)
{
	const char *full[7];
	cJSON *o;
	size_t used;

	for (size_t i = 0; i < depth; i++)
		full[i] = path[i];
	full[depth] = key;
	full[depth + 1] = NULL;
	if (!wi_owned_by(obj, WI_FIELD_MANAGER, full))
		return 0;
	if (!*patch && !(*patch = cJSON_CreateObject()))
		return err_set(EXIT_FAILED, "out of memory");
	o = *patch;
	for (size_t i = 0; i < depth; i++) {
		cJSON *next = cJSON_GetObjectItemCaseSensitive(o, path[i]);

		if (!next && !(next = cJSON_AddObjectToObject(o, path[i])))
			return err_set(EXIT_FAILED, "out of memory");
		o = next;
	}
	if (!cJSON_AddNullToObject(o, key))
		return err_set(EXIT_FAILED, "out of memory");
	used = strlen(removed);
	snprintf(removed + used, size - used, "%s%s", used ? ", " : "", key);
	return 0;
}

/*
 * A map whose every key is removed becomes null as a whole, so the
 * object reads back as it did before patch (the API server omits empty
 * maps; a merge patch of only its keys could leave "{}").
 */
static void collapse(const cJSON *obj, cJSON *patch, const char *const *path,
		     size_t depth)
{
	const cJSON *live = obj;
	cJSON *parent = patch, *map;

	for (size_t i = 0; i < depth; i++)
		live = cJSON_GetObjectItemCaseSensitive(live, path[i]);
	for (size_t i = 0; parent && i + 1 < depth; i++)
		parent = cJSON_GetObjectItemCaseSensitive(parent, path[i]);
	map = cJSON_GetObjectItemCaseSensitive(parent, path[depth - 1]);
	if (!map || !live ||
	    cJSON_GetArraySize(map) != cJSON_GetArraySize(live))
		return;
	cJSON_ReplaceItemInObjectCaseSensitive(parent, path[depth - 1],
					       cJSON_CreateNull());
}

static int plan(const cJSON *sa, const cJSON *dep, bool no_restart,
		struct removal *r)
{
	static const char *const meta_ann[] = { "metadata", "annotations" };
	static const char *const meta_lab[] = { "metadata", "labels" };
	static const char *const tpl_lab[] = { "spec", "template", "metadata",
					       "labels" };
	static const char *const tpl_ann[] = { "spec", "template", "metadata",
					       "annotations" };

	char *rs = r->removed_sa, *rd = r->removed_dep;
	size_t ns = sizeof(r->removed_sa), nd = sizeof(r->removed_dep);

	if (drop_owned(sa, &r->sa_patch, meta_ann, 2, WI_CLIENT_ID, rs,
		       ns) < 0 ||
	    drop_owned(sa, &r->sa_patch, meta_ann, 2, WI_TENANT_ID, rs,
		       ns) < 0 ||
	    drop_owned(sa, &r->sa_patch, meta_lab, 2, WI_USE, rs, ns) < 0 ||
	    drop_owned(dep, &r->dep_patch, tpl_lab, 4, WI_USE, rd, nd) < 0)
		return -1;
	if (!no_restart && drop_owned(dep, &r->dep_patch, tpl_ann, 4,
				      WI_RESTARTED_AT, rd, nd) < 0)
		return -1;
	collapse(sa, r->sa_patch, meta_ann, 2);
	collapse(sa, r->sa_patch, meta_lab, 2);
	collapse(dep, r->dep_patch, tpl_ann, 4);
	collapse(dep, r->dep_patch, tpl_lab, 4);
	return 0;
}

static int print_patches(const struct removal *r)
{
	cJSON *doc = cJSON_CreateObject();
	int rc;

	if (!doc)
		return err_set(EXIT_FAILED, "out of memory");
	cJSON_AddItemToObject(doc, "serviceAccount", r->sa_patch ?
			      cJSON_Duplicate(r->sa_patch, true) :
			      cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "deployment", r->dep_patch ?
			      cJSON_Duplicate(r->dep_patch, true) :
			      cJSON_CreateNull());
	rc = output_yaml(stdout, doc);
	cJSON_Delete(doc);
	return rc;
}

static int run(struct kube_client *kc, const struct fluxwi_args *a,
	       struct removal *r, const cJSON *dep)
{
	if (a->dry_run) {
		if (wi_merge_patch(kc, a, true, r->sa_patch, true) < 0 ||
		    wi_merge_patch(kc, a, false, r->dep_patch, true) < 0 ||
		    print_patches(r) < 0)
			return -1;
		fprintf(stderr, "dry run: the server accepted the patches; "
			"nothing was written\n");
		return 0;
	}
	if (wi_merge_patch(kc, a, true, r->sa_patch, false) < 0)
		return -1;
	wi_say("serviceaccount/%s %s\n", a->controller,
	       r->sa_patch ? "unpatched" : "unchanged");
	if (wi_merge_patch(kc, a, false, r->dep_patch, false) < 0)
		return -1;
	wi_say("deployment/%s %s\n", a->controller,
	       r->dep_patch ? "unpatched (pod template changed: rolling)" :
	       "unchanged");
	if (r->removed_sa[0])
		wi_say("removed from the ServiceAccount: %s\n", r->removed_sa);
	if (r->removed_dep[0])
		wi_say("removed from the pod template: %s\n", r->removed_dep);
	if (!r->sa_patch && !r->dep_patch)
		wi_say("nothing to remove: no workload identity field is owned "
		       "by field manager " WI_FIELD_MANAGER "\n");
	if (!r->dep_patch)
		return 0;
	return wi_rollout_confirm(kc, a, dep, NULL, false);
}

int fluxwi_unpatch(struct cli_ctx *ctx, void *args)
{
	const struct fluxwi_args *a = args;
	struct kube_client *kc = NULL;
	cJSON *sa = NULL, *dep = NULL;
	struct removal r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (ctx->argc > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       ctx->argv[0]);
	if (cli_kube_open(ctx, &kc) < 0)
		goto out;
	if (kube_get_service_account(kc, a->flux_namespace, a->controller,
				     &sa) < 0 ||
	    kube_get_deployment(kc, a->flux_namespace, a->controller,
				&dep) < 0) {
		if (kube_last_not_found(kc))
			err_hint("is Flux installed in %s? (--flux-namespace, "
				 "--controller)", a->flux_namespace);
		goto out;
	}
	if (plan(sa, dep, a->no_restart, &r) == 0)
		rc = run(kc, a, &r, dep);
out:
	cJSON_Delete(r.sa_patch);
	cJSON_Delete(r.dep_patch);
	cJSON_Delete(sa);
	cJSON_Delete(dep);
	kube_client_close(kc);
	return rc;
}
