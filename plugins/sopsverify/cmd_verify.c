/*
 * cmd_verify.c - kubectl sopsverify [PATH...]: one verdict per encrypted
 * Secret manifest, from one LIST of Secrets per namespace.
 *
 * Steps: the Kustomization (--kustomization: targetNamespace, inventory,
 * revisions), the manifests under PATH, the namespaces, local decryption
 * (--decrypt), the verdicts (again every few seconds with --wait until all
 * are OK), the owners of what is not OK, and the report.
 */
#include "sopsverify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/output.h"
#include "cluster.h"
#include "decrypt.h"
#include "owners.h"
#include "util/err.h"
#include "util/log.h"
#include "verify.h"

#define WAIT_POLL_MS 2000

struct run {
	struct cli_ctx *ctx;
	struct sopsverify_args *a;
	struct kube_client *kc;
	struct vs_set set;
	cJSON *ks;			/* --kustomization's object */
	struct vs_ks_summary sum;
};

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- --kustomization ---------------------------------------------------- */

static int load_kustomization(struct run *r)
{
	const char *ns = r->a->flux_namespace ? r->a->flux_namespace
					      : "flux-system";
	const char *tns;

	log_at(LOG_STEPS, "reading Kustomization %s/%s", ns,
	       r->a->kustomization);
	if (kube_get_kustomization(r->kc, ns, r->a->kustomization, &r->ks,
				   NULL) < 0)
		return err_prefix("Kustomization %s/%s", ns,
				  r->a->kustomization);
	if (vs_owner_from_ks(&r->sum.ks, r->ks, "--kustomization") < 0)
		return -1;
	tns = jstr(r->ks, "spec", "targetNamespace");
	if (tns && *tns && !(r->sum.target_namespace = strdup(tns)))
		return err_set(EXIT_FAILED, "out of memory");
	return vs_fill_source(r->kc, r->ks, &r->sum, &r->set);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int discover(struct run *r)
{
	char *dot[] = { ".", NULL };
	char *sp = NULL;
	int rc;

	if (r->ctx->argc > 0)
		return vs_discover(&r->set, r->ctx->argv,
				   (size_t)r->ctx->argc);
	/* --kustomization without PATH: its spec.path, when we stand at the
	 * top of its repository */
	if (r->ks && jstr(r->ks, "spec", "path")) {
		const char *p = jstr(r->ks, "spec", "path");

		while (strncmp(p, "./", 2) == 0)
			p += 2;
		if (*p && is_dir(p) && !(sp = strdup(p)))
			return err_set(EXIT_FAILED, "out of memory");
	}
	if (sp) {
		log_at(LOG_STEPS, "no PATH given: using the Kustomization's "
		       "spec.path %s", sp);
		dot[0] = sp;
	}
	rc = vs_discover(&r->set, dot, 1);
	free(sp);
	return rc;
}

/* Marks what the inventory lists; keeps what only the inventory has. */
static int match_inventory(struct run *r)
{
	struct vs_inv_ref *inv;
	size_t n, keep = 0;

	if (vs_inventory_secrets(r->ks, &inv, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < r->set.n; j++) {
			struct vs_secret *s = &r->set.s[j];

			if (strcmp(s->name, inv[i].name) == 0 &&
			    strcmp(s->namespace, inv[i].namespace) == 0)
				found = s->in_inventory = true;
		}
		if (found) {
			free(inv[i].namespace);
			free(inv[i].name);
		} else {
			inv[keep++] = inv[i];
		}
	}
	r->sum.inv_only = inv;
	r->sum.ninv_only = keep;
	return 0;
}

static int namespaces(struct run *r)
{
	const char *def = r->ctx->g.namespace;

	if (r->sum.target_namespace &&
	    vs_force_namespace(&r->set, r->sum.target_namespace) < 0)
		return -1;
	if (!def)
		def = kube_client_namespace(r->kc);
	return vs_default_namespace(&r->set, def);
}

/* ---- verdicts ----------------------------------------------------------- */

static void progress(const struct vs_set *set, long left_ms)
{
	size_t ok = 0;

	for (size_t i = 0; i < set->n; i++)
		ok += set->s[i].verdict == VS_OK;
	progress_update("waiting for Flux: %zu/%zu OK, %lds left", ok, set->n,
			left_ms / 1000);
	log_at(LOG_STEPS, "%zu of %zu Secrets OK; checking again", ok,
	       set->n);
}

static int judge(struct run *r)
{
	struct vs_judge_opts jo = { r->a->decrypt, log_enabled(LOG_STEPS) };
	long deadline = now_ms() + r->a->wait_ms;

	for (;;) {
		long left;

		if (vs_judge_all(r->kc, &r->set, &jo) < 0)
			return -1;
		left = deadline - now_ms();
		if (vs_all_ok(&r->set) || r->a->wait_ms <= 0 || left <= 0)
			break;
		progress(&r->set, left);
		usleep((useconds_t)(left < WAIT_POLL_MS ? left : WAIT_POLL_MS)
		       * 1000);
	}
	progress_done();
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static int report(struct run *r)
{
	const char *o = r->ctx->g.output ? r->ctx->g.output : "table";
	const struct vs_ks_summary *ks = r->ks ? &r->sum : NULL;
	int rc;

	for (size_t i = 0; i < r->set.nwarnings; i++)
		log_warn("%s", r->set.warnings[i]);
	if (strcmp(o, "table") == 0) {
		rc = vs_report_table(stdout, &r->set, ks, r->ctx->color);
	} else {
		cJSON *doc = vs_report_json(&r->set, ks, r->a->decrypt);

		if (!doc)
			return -1;
		rc = strcmp(o, "yaml") == 0 ? output_yaml(stdout, doc)
					    : output_json(stdout, doc);
		cJSON_Delete(doc);
	}
	if (rc < 0)
		return -1;
	if (fflush(stdout) != 0)
		return err_set(EXIT_WRITE, "cannot write the report");
	return vs_all_ok(&r->set) ? 0 : EXIT_FAILED;
}

static int verify(struct run *r)
{
	if (cli_kube_open(r->ctx, &r->kc) < 0)
		return -1;
	if (r->a->kustomization && load_kustomization(r) < 0)
		return -1;
	if (discover(r) < 0 || namespaces(r) < 0)
		return -1;
	if (r->ks && match_inventory(r) < 0)
		return -1;
	log_at(LOG_STEPS, "%zu encrypted Secret manifest(s) found", r->set.n);
	if (r->a->decrypt &&
	    vs_decrypt_all(&r->set, r->ctx->g.azure_auth,
			   cli_request_timeout_ms(&r->ctx->g)) < 0)
		return -1;
	if (judge(r) < 0)
		return -1;
	if (vs_find_owners(r->kc, &r->set, r->ks, r->sum.source_rev) < 0)
		return -1;
	return report(r);
}

int sopsverify_verify(struct cli_ctx *ctx, void *args)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.a = args;
	rc = verify(&r);
	vs_set_free(&r.set);
	vs_ks_summary_free(&r.sum);
	cJSON_Delete(r.ks);
	kube_client_close(r.kc);
	return rc;
}
