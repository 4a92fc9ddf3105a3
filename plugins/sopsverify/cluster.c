/*
 * cluster.c - what sopsverify reads from the API server: Secrets (one LIST
 * per namespace, paginated), Flux Kustomizations (v1, or v1beta2 on older
 * clusters) and their sources.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "util/err.h"
#include "util/log.h"

static void wipe_strings(cJSON *j)
{
	cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (cJSON_IsString(c) && c->valuestring)
			explicit_bzero(c->valuestring, strlen(c->valuestring));
		else if (cJSON_IsObject(c) || cJSON_IsArray(c))
			wipe_strings(c);
	}
}

void vs_json_wipe_delete(cJSON *j)
{
	if (!j)
		return;
	if (cJSON_IsString(j) && j->valuestring)
		explicit_bzero(j->valuestring, strlen(j->valuestring));
	wipe_strings(j);
	cJSON_Delete(j);
}

long vs_page_size(void)
{
	const char *e = getenv("SOPSVERIFY_PAGE_SIZE");
	long n = e ? strtol(e, NULL, 10) : 0;

	return n > 0 ? n : VS_PAGE_SIZE;
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const struct { const char *kind, *resource, *version; } SOURCES[] = {
	{ "GitRepository", "gitrepositories", "v1" },
	{ "OCIRepository", "ocirepositories", "v1" },
	{ "Bucket", "buckets", "v1" },
	{ NULL, NULL, NULL }
};

static int dup_into(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return (src && !*dst) ? err_set(EXIT_FAILED, "out of memory") : 0;
}

/* The source's revision; a failure is a warning, not an error. */
int vs_fill_source(struct kube_client *kc, const cJSON *ks,
		   struct vs_ks_summary *sum, struct vs_set *set)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(ks, "spec");
	const char *kind = jstr(spec, "sourceRef", "kind");
	const char *name = jstr(spec, "sourceRef", "name");
	const char *ns = jstr(spec, "sourceRef", "namespace");
	cJSON *src = NULL;
	int rc;

	if (!ns)
		ns = jstr(ks, "metadata", "namespace");
	if (dup_into(&sum->source_kind, kind) < 0 ||
	    dup_into(&sum->source_namespace, ns) < 0 ||
	    dup_into(&sum->source_name, name) < 0)
		return -1;
	for (int i = 0; kind && name && SOURCES[i].kind; i++) {
		struct kube_ref r = { "source.toolkit.fluxcd.io",
				      SOURCES[i].version, SOURCES[i].resource,
				      ns, name, NULL };

		if (strcmp(SOURCES[i].kind, kind) != 0)
			continue;
		if (kube_get(kc, &r, &src) < 0) {
			rc = vs_set_warn(set, "source %s %s/%s: %s", kind, ns,
					 name, err_msg());
			err_clear();
			return rc;
		}
		rc = dup_into(&sum->source_rev,
			      jstr(cJSON_GetObjectItemCaseSensitive(src,
								    "status"),
				   "artifact", "revision"));
		cJSON_Delete(src);
		return rc;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	const char *nx = jstr(x, "metadata", "name");
	const char *ny = jstr(y, "metadata", "name");

	return strcmp(nx ? nx : "", ny ? ny : "");
}

static const cJSON *find_live(const cJSON **sorted, size_t n,
			      const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = jstr(sorted[mid], "metadata", "name");
		int c = strcmp(m ? m : "", name);

		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The LIST was refused: every Secret of ns gets ERROR with the reason. */
static int list_failed(struct kube_client *kc, struct vs_set *set,
		       const char *ns)
{
	char msg[2 * ERR_MSG_MAX + 96];
	const char *reason = kube_last_reason(kc), *hint = err_remedy();
	int rc = 0;

	snprintf(msg, sizeof(msg), "listing Secrets in %s: %s%s%s%s%s", ns,
		 reason, *reason ? ": " : "", err_msg(),
		 hint && *hint ? "; " : "", hint ? hint : "");
	err_clear();
	for (size_t i = 0; i < set->n && rc == 0; i++)
		if (strcmp(set->s[i].namespace, ns) == 0)
			rc = vs_judge_error(&set->s[i], msg);
	return rc;
}

/* Judges every manifest of namespace ns against one LIST. */
static int judge_namespace(struct kube_client *kc, struct vs_set *set,
			   const char *ns, const struct vs_judge_opts *jo)
{
	struct kube_ref r = { NULL, "v1", "secrets", ns, NULL, NULL };
	struct kube_list_opts lo = { NULL, NULL, vs_page_size() };
	const cJSON **sorted = NULL;
	cJSON *items = NULL, *it;
	size_t n = 0;
	int rc = 0;

	if (kube_list(kc, &r, &lo, &items, NULL) < 0)
		return list_failed(kc, set, ns);
	sorted = calloc((size_t)cJSON_GetArraySize(items) + 1,
			sizeof(*sorted));
	if (!sorted) {
		vs_json_wipe_delete(items);
		return err_set(EXIT_FAILED, "out of memory");
	}
	cJSON_ArrayForEach(it, items)
		sorted[n++] = it;
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < set->n && rc == 0; i++) {
		struct vs_secret *s = &set->s[i];

		if (strcmp(s->namespace, ns) != 0)
			continue;
		if (s->fixed_error)
			rc = vs_judge_error(s, s->fixed_error);
		else
			rc = vs_judge(s, find_live(sorted, n, s->name),
				      jo->compare_values, jo->fingerprints);
	}
	free(sorted);
	vs_json_wipe_delete(items);
	return rc;
}

int vs_judge_all(struct kube_client *kc, struct vs_set *set,
		 const struct vs_judge_opts *jo)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *ns = set->s[i].namespace;
		bool done = false;

		for (size_t j = 0; j < i && !done; j++)
			done = strcmp(set->s[j].namespace, ns) == 0;
		if (done)
			continue;
		log_at(LOG_STEPS, "listing Secrets in namespace %s", ns);
		progress_update("listing Secrets in namespace %s", ns);
		if (judge_namespace(kc, set, ns, jo) < 0)
			return -1;
	}
	progress_done();
	return 0;
}
