/*
 * cmd_generate.c - kubectl fluxwi generate: the workload identity patches
 * in the GitOps repository.
 *
 * Two patch files in the bootstrap directory's patches/ folder and their
 * entries in its kustomization.yaml.  Files already holding the right bytes
 * are left alone (not even rewritten), so a second run changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flux/kustomize.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/yamljson.h"
#include "wi.h"

/* One file generate may write. */
struct gen_file {
	char path[4096];
	char label[4200];	/* for the diff */
	struct buf old;		/* current content */
	bool exists;
	struct buf new;		/* wanted content */
};

static int put_scalar(struct buf *b, const char *s)
{
	if (yaml_plain_is_special(s))
		return buf_printf(b, "\"%s\"", s);
	return buf_puts(b, s);
}

static int sa_patch(struct buf *b, const char *name, const char *ns,
		    const struct wi_ids *id)
{
	if (buf_printf(b, "# Workload identity for Flux's %s: the managed "
		       "identity it signs in as\n# (written by kubectl fluxwi "
		       "generate).\napiVersion: v1\nkind: ServiceAccount\n"
		       "metadata:\n  name: %s\n  namespace: %s\n"
		       "  annotations:\n    " WI_CLIENT_ID ": ", name, name,
		       ns) < 0 ||
	    put_scalar(b, id->client_id) < 0 || buf_puts(b, "\n") < 0)
		return -1;
	if (id->tenant_id[0] &&
	    (buf_puts(b, "    " WI_TENANT_ID ": ") < 0 ||
	     put_scalar(b, id->tenant_id) < 0 || buf_puts(b, "\n") < 0))
		return -1;
	return buf_puts(b, "  labels:\n    " WI_USE ": \"true\"\n");
}

static int deploy_patch(struct buf *b, const char *name, const char *ns)
{
	return buf_printf(b, "# Workload identity for Flux's %s: the label "
			  "the Azure Workload Identity\n# webhook acts on, on "
			  "the pod template (written by kubectl fluxwi "
			  "generate).\napiVersion: apps/v1\nkind: Deployment\n"
			  "metadata:\n  name: %s\n  namespace: %s\nspec:\n"
			  "  template:\n    metadata:\n      labels:\n"
			  "        " WI_USE ": \"true\"\n", name, name, ns);
}

static void file_init(struct gen_file *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->old);
	buf_init(&f->new);
}

static int file_load(struct gen_file *f, const char *dir, const char *rel)
{
	if (snprintf(f->path, sizeof(f->path), "%s/%s", dir, rel) >=
	    (int)sizeof(f->path))
		return err_set(EXIT_USAGE, "%s: path too long", dir);
	snprintf(f->label, sizeof(f->label), "%s",
		 strncmp(f->path, "./", 2) == 0 ? f->path + 2 : f->path);
	if (flux_read_file(f->path, &f->old, &f->exists) < 0)
		return -1;
	return 0;
}

static bool file_changes(const struct gen_file *f)
{
	return !f->exists || f->old.len != f->new.len ||
	       memcmp(f->old.data ? f->old.data : "",
		      f->new.data ? f->new.data : "", f->new.len) != 0;
}

static int ensure_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int e;

	if (!dir)
		return err_set(EXIT_FAILED, "out of memory");
	slash = strrchr(dir, '/');
	if (!slash || mkdir((*slash = '\0', dir), 0755) == 0 ||
	    errno == EEXIST) {
		free(dir);
		return 0;
	}
	e = errno;
	err_set(EXIT_WRITE, "cannot create %s: %s", dir, strerror(e));
	free(dir);
	return err_hint("check that the bootstrap directory is writable");
}

static int file_show_diff(const struct gen_file *f)
{
	struct buf d = BUF_INIT;
	char a[4300], b[4300];
	int rc;

	const char *pre = f->label[0] == '/' ? "" : "/";

	snprintf(a, sizeof(a), "%s%s%s", f->exists ? "a" : "",
		 f->exists ? pre : "", f->exists ? f->label : "/dev/null");
	snprintf(b, sizeof(b), "b%s%s", pre, f->label);
	rc = flux_unified_diff(a, f->old.data ? f->old.data : "", f->old.len,
			       b, f->new.data, f->new.len, &d);
	if (rc == 0 && d.len > 0)
		fwrite(d.data, 1, d.len, stdout);
	buf_free(&d);
	return rc;
}

static int file_write(const struct gen_file *f)
{
	if (ensure_dir(f->path) < 0 ||
	    fs_write_atomic(f->path, f->new.data, f->new.len,
			    f->exists ? FS_KEEP_MODE : 0644) < 0)
		return -1;
	printf("%s %s\n", f->exists ? "updated" : "created", f->path);
	return 0;
}

static const cJSON *find_object(const cJSON *docs, const char *kind,
				const char *name)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, docs) {
		const char *k = wi_str(d, "kind", NULL);
		const char *n = wi_str(d, "metadata", "name", NULL);

		if (k && n && strcmp(k, kind) == 0 && strcmp(n, name) == 0)
			return d;
	}
	return NULL;
}

/* The controller's namespace, from gotk-components.yaml, which must hold
 * both its ServiceAccount and its Deployment. */
static int controller_namespace(const char *dir, const char *ctl,
				char *ns, size_t size)
{
	char path[4200];
	struct buf text = BUF_INIT;
	cJSON *docs;
	const cJSON *sa, *dep;
	const char *v;
	bool exists;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/gotk-components.yaml", dir);
	if (flux_read_file(path, &text, &exists) < 0)
		return -1;
	docs = yaml_parse_all(text.data ? text.data : "", text.len, path);
	buf_free(&text);
	if (!docs)
		return -1;
	sa = find_object(docs, "ServiceAccount", ctl);
	dep = find_object(docs, "Deployment", ctl);
	v = wi_str(sa, "metadata", "namespace", NULL);
	if (!sa || !dep) {
		err_set(EXIT_USAGE, "%s has no %s %s", path,
			sa ? "Deployment" : "ServiceAccount", ctl);
		err_hint("name the controller with --controller (default "
			 "kustomize-controller)");
	} else if (!v || strlen(v) >= size) {
		err_set(EXIT_USAGE, "%s: ServiceAccount %s has no namespace",
			path, ctl);
	} else {
		snprintf(ns, size, "%s", v);
		rc = 0;
	}
	cJSON_Delete(docs);
	return rc;
}

static int build(struct gen_file *files, const char *dir, const char *ctl,
		 const struct wi_ids *id)
{
	char ns[256];
	char sa_rel[300], dep_rel[300];
	struct flux_patch_ref refs[2];
	size_t added;

	snprintf(sa_rel, sizeof(sa_rel), "patches/%s-service-account.yaml",
		 ctl);
	snprintf(dep_rel, sizeof(dep_rel), "patches/%s-deployment.yaml", ctl);
	refs[0] = (struct flux_patch_ref){ sa_rel, "ServiceAccount", ctl };
	refs[1] = (struct flux_patch_ref){ dep_rel, "Deployment", ctl };
	if (controller_namespace(dir, ctl, ns, sizeof(ns)) < 0 ||
	    file_load(&files[0], dir, sa_rel) < 0 ||
	    sa_patch(&files[0].new, ctl, ns, id) < 0 ||
	    file_load(&files[1], dir, dep_rel) < 0 ||
	    deploy_patch(&files[1].new, ctl, ns) < 0 ||
	    file_load(&files[2], dir, "kustomization.yaml") < 0)
		return -1;
	if (!files[2].exists) {
		err_set(EXIT_USAGE, "%s has gotk-components.yaml but no "
			"kustomization.yaml", dir);
		return err_hint("flux bootstrap writes one listing "
				"gotk-components.yaml and gotk-sync.yaml; "
				"restore it and run again");
	}
	return flux_kustomization_add_patches(files[2].old.data,
					      files[2].old.len, files[2].path,
					      refs, 2, &files[2].new, &added);
}

/* The ServiceAccount name is used in file names and YAML: keep it a DNS
 * label as Kubernetes does. */
static bool dns_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static int apply(struct gen_file *files, bool dry_run, const char *dir)
{
	size_t changed = 0;

	for (size_t i = 0; i < 3; i++) {
		if (!file_changes(&files[i]))
			continue;
		changed++;
		if (dry_run ? file_show_diff(&files[i]) < 0
			    : file_write(&files[i]) < 0)
			return -1;
	}
	if (changed == 0) {
		printf("unchanged: %s already carries the workload identity "
		       "patches\n", dir);
		return 0;
	}
	if (dry_run)
		fprintf(stderr, "dry run: nothing was written\n");
	else
		fprintf(stderr, "Commit and push these files; Flux applies "
			"them on its next reconcile of flux-system, and the "
			"changed pod template restarts the controller.\n");
	return 0;
}

int fluxwi_generate(struct cli_ctx *ctx, void *args)
{
	const struct fluxwi_args *a = args;
	struct gen_file files[3];
	struct wi_ids id;
	char *dir = NULL;
	int rc = -1;

	if (ctx->argc > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       ctx->argv[0]);
	if (!dns_name(a->controller))
		return cli_usage_error(ctx, "--controller %s is not a valid "
				       "object name", a->controller);
	for (size_t i = 0; i < 3; i++)
		file_init(&files[i]);
	if (wi_resolve_ids(ctx, a, true, &id) < 0 ||
	    flux_find_bootstrap_dir(a->dir ? a->dir : ".", &dir) < 0)
		goto out;
	if (build(files, dir, a->controller, &id) == 0 &&
	    apply(files, a->dry_run, dir) == 0)
		rc = 0;
out:
	for (size_t i = 0; i < 3; i++) {
		buf_free(&files[i].old);
		buf_free(&files[i].new);
	}
	free(dir);
	return rc;
}
