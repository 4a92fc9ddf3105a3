/*
 * owners.c - which Flux Kustomization should have applied a Secret that is
 * not OK: the one named by --kustomization, else the one whose inventory
 * lists it, else the one whose spec.path holds its manifest (the longest
 * such path wins).  One LIST of Kustomizations serves every Secret.
 */
#include "owners.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"
#include "util/log.h"

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int vs_repo_root(const char *file, char *out, size_t size)
{
	char cur[PATH_MAX];

	if (!realpath(file, cur))
		return -1;
	for (;;) {
		char probe[PATH_MAX + 8];
		struct stat st;
		char *slash;

		snprintf(probe, sizeof(probe), "%s/.git", cur);
		if (stat(probe, &st) == 0) {
			snprintf(out, size, "%s", cur);
			return 0;
		}
		slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	return -1;
}

static bool inventory_lists(const cJSON *ks, const struct vs_secret *s)
{
	struct vs_inv_ref *inv;
	size_t n;
	bool found = false;

	if (vs_inventory_secrets(ks, &inv, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(inv[i].namespace, s->namespace) == 0 &&
			strcmp(inv[i].name, s->name) == 0;
	vs_inv_free(inv, n);
	return found;
}

static size_t spec_path_len(const cJSON *ks)
{
	const char *p = jstr(ks, "spec", "path");

	return p ? strlen(p) : 0;
}

/* The owner of s among the listed Kustomizations, or NULL. */
static const cJSON *find_owner(const cJSON *items, const struct vs_secret *s,
			       const char **via)
{
	const cJSON *ks, *best = NULL;
	char root[PATH_MAX];
	bool have_root;

	cJSON_ArrayForEach(ks, items) {
		if (inventory_lists(ks, s)) {
			*via = "inventory";
			return ks;
		}
	}
	have_root = vs_repo_root(s->file, root, sizeof(root)) == 0;
	cJSON_ArrayForEach(ks, items) {
		if (vs_ks_covers_path(ks, have_root ? root : NULL, s->file) &&
		    (!best || spec_path_len(ks) > spec_path_len(best)))
			best = ks;
	}
	*via = "path";
	return best;
}

static bool needs_owner(const struct vs_secret *s)
{
	return s->verdict == VS_MISSING || s->verdict == VS_ENCRYPTED ||
	       s->verdict == VS_MISMATCH;
}

/*
 * Flux refuses to apply a Secret that still carries sops metadata when its
 * Kustomization has no decryption ("Secret/NS/NAME is SOPS encrypted,
 * configuring decryption is required ..."): what reaches the cluster is
 * nothing, but the cause is the ENCRYPTED one.
 */
static int refine_refused(struct vs_secret *s)
{
	char needle[512];
	const char *msg = s->owner.ready_message;

	if (s->verdict != VS_MISSING || !msg)
		return 0;
	snprintf(needle, sizeof(needle), "Secret/%s/%s is SOPS encrypted",
		 s->namespace, s->name);
	if (!strstr(msg, needle))
		return 0;
	s->verdict = VS_ENCRYPTED;
	return vs_setf(&s->detail, "Flux refused to apply it: still "
		       "SOPS-encrypted and Kustomization %s/%s has no "
		       "decryption configured", s->owner.namespace,
		       s->owner.name);
}

static int explain(struct vs_secret *s, const cJSON *ks, const char *via,
		   const char *source_rev)
{
	if (ks && vs_owner_from_ks(&s->owner, ks, via) < 0)
		return -1;
	if (ks && source_rev && vs_setf(&s->owner.source_rev, "%s",
					source_rev) < 0)
		return -1;
	if (refine_refused(s) < 0)
		return -1;
	return vs_advise(s);
}

/* One LIST of every Kustomization; a failure becomes a warning (NULL). */
static cJSON *list_all_ks(struct kube_client *kc, struct vs_set *set)
{
	cJSON *items = NULL;

	if (kube_list_kustomizations(kc, NULL, NULL, &items, NULL) == 0)
		return items;
	if (vs_set_warn(set, "cannot list Flux Kustomizations to explain the "
			"verdicts: %s", err_msg()) == 0)
		err_clear();
	return NULL;
}

int vs_find_owners(struct kube_client *kc, struct vs_set *set,
		   const cJSON *named_ks, const char *source_rev)
{
	cJSON *items = NULL;
	bool listed = false;
	int rc = 0;

	for (size_t i = 0; i < set->n && rc == 0; i++) {
		struct vs_secret *s = &set->s[i];
		const cJSON *ks = named_ks;
		const char *via = "--kustomization";

		if (!needs_owner(s))
			continue;
		if (!ks && !listed) {
			listed = true;
			items = list_all_ks(kc, set);
			if (!items && err_code())
				return -1;
		}
		if (!ks && !items) {
			rc = vs_setf(&s->next_step, "the Flux Kustomizations "
				     "could not be read (see the warning); "
				     "name the owner with --kustomization");
			continue;
		}
		if (!ks)
			ks = find_owner(items, s, &via);
		rc = explain(s, ks, via, named_ks ? source_rev : NULL);
	}
	cJSON_Delete(items);
	return rc;
}
