/*
 * flux.c - what a Flux Kustomization says about a Secret: whether its
 * inventory lists it, whether its spec.path holds the manifest, its Ready
 * condition, its decryption provider, and from those the next step to
 * suggest (kubernetes.md 4.3-4.5).
 */
#include "verify.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup_range(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		err_set(EXIT_FAILED, "out of memory");
	return d;
}

/* "__" in a name stands for ":" (RBAC names); other names have no "_". */
static char *unescape_name(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t j = 0;

	if (!d) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_' && i + 1 < n && s[i + 1] == '_') {
			d[j++] = ':';
			i++;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	return d;
}

int vs_parse_inventory_id(const char *id, char **ns, char **name,
			  char **group, char **kind)
{
	const char *first = strchr(id, '_');
	const char *last = strrchr(id, '_');
	const char *second = NULL;

	*ns = *name = *group = *kind = NULL;
	if (!first || last == first)
		return -1;
	for (const char *p = last - 1; p > first; p--) {
		if (*p == '_') {
			second = p;
			break;
		}
	}
	if (!second || second == first || !last[1])
		return -1;
	*ns = dup_range(id, (size_t)(first - id));
	*name = unescape_name(first + 1, (size_t)(second - first - 1));
	*group = dup_range(second + 1, (size_t)(last - second - 1));
	*kind = dup_range(last + 1, strlen(last + 1));
	if (!*ns || !*name || !*group || !*kind || !**name) {
		free(*ns); free(*name); free(*group); free(*kind);
		*ns = *name = *group = *kind = NULL;
		return -1;
	}
	return 0;
}

void vs_inv_free(struct vs_inv_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].namespace);
		free(r[i].name);
	}
	free(r);
}

static int inv_push(struct vs_inv_ref **out, size_t *n, char *ns, char *name)
{
	struct vs_inv_ref *m = reallocarray(*out, *n + 1, sizeof(**out));

	if (!m) {
		free(ns);
		free(name);
		return err_set(EXIT_FAILED, "out of memory");
	}
	*out = m;
	m[*n].namespace = ns;
	m[*n].name = name;
	(*n)++;
	return 0;
}

int vs_inventory_secrets(const cJSON *ks, struct vs_inv_ref **out, size_t *n)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(ks, "status");
	const cJSON *inv = cJSON_GetObjectItemCaseSensitive(st, "inventory");
	const cJSON *ents = cJSON_GetObjectItemCaseSensitive(inv, "entries");
	const cJSON *e;

	*out = NULL;
	*n = 0;
	cJSON_ArrayForEach(e, ents) {
		const char *id = str_at(e, "id", NULL);
		char *ns, *name, *group, *kind;
		bool secret;

		if (!id || vs_parse_inventory_id(id, &ns, &name, &group,
						 &kind) < 0)
			continue;
		secret = !*group && strcmp(kind, "Secret") == 0;
		free(group);
		free(kind);
		if (!secret) {
			free(ns);
			free(name);
			continue;
		}
		if (inv_push(out, n, ns, name) < 0) {
			vs_inv_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
	}
	return 0;
}

void vs_owner_free(struct vs_owner *o)
{
	free(o->namespace);
	free(o->name);
	free(o->ready_status);
	free(o->ready_reason);
	free(o->ready_message);
	free(o->applied_rev);
	free(o->attempted_rev);
	free(o->target_namespace);
	free(o->source_rev);
	memset(o, 0, sizeof(*o));
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : err_set(EXIT_FAILED, "out of memory");
}

int vs_owner_from_ks(struct vs_owner *o, const cJSON *ks, const char *via)
{
	const cJSON *conds, *c, *ready = NULL;
	const char *prov = str_at(cJSON_GetObjectItemCaseSensitive(ks, "spec"),
				  "decryption", "provider");
	int rc = 0;

	vs_owner_free(o);
	conds = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ks, "status"), "conditions");
	cJSON_ArrayForEach(c, conds) {
		const char *t = str_at(c, "type", NULL);

		if (t && strcmp(t, "Ready") == 0)
			ready = c;
	}
	o->via = via;
	o->has_sops = prov && strcmp(prov, "sops") == 0;
	rc |= dup_opt(&o->namespace, str_at(ks, "metadata", "namespace"));
	rc |= dup_opt(&o->name, str_at(ks, "metadata", "name"));
	rc |= dup_opt(&o->ready_status, str_at(ready, "status", NULL));
	rc |= dup_opt(&o->ready_reason, str_at(ready, "reason", NULL));
	rc |= dup_opt(&o->ready_message, str_at(ready, "message", NULL));
	rc |= dup_opt(&o->applied_rev, str_at(ks, "status",
					      "lastAppliedRevision"));
	rc |= dup_opt(&o->attempted_rev, str_at(ks, "status",
						"lastAttemptedRevision"));
	rc |= dup_opt(&o->target_namespace, str_at(ks, "spec",
						   "targetNamespace"));
	return rc ? -1 : 0;
}

/* spec.path without "./" and trailing "/"; "" for the repository top. */
static void clean_spec_path(const char *p, char *out, size_t size)
{
	size_t n;

	while (p && (strncmp(p, "./", 2) == 0 || *p == '/'))
		p += (*p == '/') ? 1 : 2;
	snprintf(out, size, "%s", p && strcmp(p, ".") != 0 ? p : "");
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

/* Without a repository top: the file lies under a directory sequence
 * equal to spec.path somewhere in its real path. */
static bool covers_segment(const char *rfile, const char *sp)
{
	char want[PATH_MAX + 16];

	if (!sp[0])
		return false;
	snprintf(want, sizeof(want), "/%s/", sp);
	return strstr(rfile, want) != NULL;
}

bool vs_ks_covers_path(const cJSON *ks, const char *root, const char *file)
{
	char rroot[PATH_MAX], rfile[PATH_MAX], sp[PATH_MAX];
	char want[PATH_MAX * 2 + 16];
	const char *path = str_at(cJSON_GetObjectItemCaseSensitive(ks, "spec"),
				  "path", NULL);

	if (!realpath(file, rfile))
		return false;
	clean_spec_path(path, sp, sizeof(sp));
	if (!root)
		return covers_segment(rfile, sp);
	if (!realpath(root, rroot))
		return false;
	if (strcmp(rroot, "/") == 0)
		snprintf(want, sizeof(want), "/%s%s", sp, sp[0] ? "/" : "");
	else
		snprintf(want, sizeof(want), "%s/%s%s", rroot, sp,
			 sp[0] ? "/" : "");
	return strncmp(rfile, want, strlen(want)) == 0;
}

static bool mentions(const char *msg, const char *const *words)
{
	for (int i = 0; msg && words[i]; i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

static const char *const AZURE_WORDS[] = {
	"Azure Key Vault", "AADSTS", "azure_kv", "vault.azure", NULL
};

static const char *const DECRYPT_WORDS[] = {
	"decryption failed", "data key", "sops", "decrypt", NULL
};

/* No owner, another namespace, no decryption: 1 when advised. */
static int advise_setup(struct vs_secret *s, const struct vs_owner *o)
{
	if (!o->name)
		return vs_setf(&s->next_step, "no Kustomization lists it in "
			       "its inventory or applies its path: commit %s "
			       "under a Kustomization's spec.path, or name "
			       "one with --kustomization", s->file) ?: 1;
	if (o->target_namespace && *o->target_namespace && s->namespace &&
	    strcmp(o->target_namespace, s->namespace) != 0 &&
	    strcmp(o->via, "--kustomization") != 0)
		return vs_setf(&s->next_step, "Kustomization %s (namespace "
			       "%s) puts what it applies in namespace %s "
			       "(targetNamespace): verify with "
			       "--kustomization %s", o->name, o->namespace,
			       o->target_namespace, o->name) ?: 1;
	if (!o->has_sops)
		return vs_setf(&s->next_step, "add 'decryption: {provider: "
			       "sops}' to the spec of Kustomization %s "
			       "(namespace %s), then reconcile it", o->name,
			       o->namespace) ?: 1;
	return 0;
}

/* The Kustomization is not Ready: what its message points at. */
static int advise_failed(struct vs_secret *s, const struct vs_owner *o)
{
	const char *m = o->ready_message;

	if (mentions(m, AZURE_WORDS))
		return vs_setf(&s->next_step, "the controller cannot get the "
			       "data key from Azure Key Vault: check its "
			       "identity chain with 'kubectl fluxwi check' "
			       "(Kustomization %s, namespace %s)", o->name,
			       o->namespace);
	if (m && strstr(m, "no age identity"))
		return vs_setf(&s->next_step, "the controller has no age "
			       "identity: put the key in a Secret entry named "
			       "*.agekey and name that Secret in "
			       "spec.decryption.secretRef of Kustomization %s "
			       "(namespace %s)", o->name, o->namespace);
	if (mentions(m, DECRYPT_WORDS))
		return vs_setf(&s->next_step, "the controller cannot decrypt "
			       "(see its message above): check the keys it "
			       "has, and its identity chain with 'kubectl "
			       "fluxwi check' (Kustomization %s, namespace %s)",
			       o->name, o->namespace);
	return vs_setf(&s->next_step, "fix the Kustomization's error above, "
		       "then 'flux reconcile kustomization %s -n %s "
		       "--with-source'", o->name, o->namespace);
}

/* Ready, yet the Secret differs: not applied yet, or edited by hand. */
static int advise_ready(struct vs_secret *s, const struct vs_owner *o)
{
	if (!s->edited_by && o->source_rev && o->applied_rev &&
	    strcmp(o->source_rev, o->applied_rev) != 0)
		return vs_setf(&s->next_step, "Kustomization %s has not "
			       "applied its source's revision %s yet "
			       "(applied: %s): wait for it, or 'flux "
			       "reconcile kustomization %s -n %s'", o->name,
			       o->source_rev, o->applied_rev, o->name,
			       o->namespace);
	if (s->edited_by)
		return vs_setf(&s->next_step, "the Secret was changed outside "
			       "git (by %s); the next reconciliation of "
			       "Kustomization %s restores git's values: 'flux "
			       "reconcile kustomization %s -n %s'",
			       s->edited_by, o->name, o->name, o->namespace);
	return vs_setf(&s->next_step, "Flux has not applied this revision "
		       "yet: 'flux reconcile kustomization %s -n %s "
		       "--with-source'", o->name, o->namespace);
}

int vs_advise(struct vs_secret *s)
{
	const struct vs_owner *o = &s->owner;
	int rc;

	if (s->verdict == VS_OK || s->verdict == VS_ERROR)
		return 0;
	rc = advise_setup(s, o);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!o->ready_status || strcmp(o->ready_status, "True") != 0)
		return advise_failed(s, o);
	return advise_ready(s, o);
}
