/*
 * workload.c - reading the workload identity webhook's work in a pod: the
 * injected environment and the projected token volume, in every layout
 * (webhook before v1.6, v1.6 and later, and the manual non-AKS one).
 */
#include "flux/workload.h"

#include <stdio.h>
#include <string.h>

static const cJSON *jget2(const cJSON *o, const char *a, const char *b,
			  const char *c)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	if (b && c)
		o = cJSON_GetObjectItemCaseSensitive(o, c);
	return o;
}

static const char *jstr2(const cJSON *o, const char *a, const char *b,
			 const char *c)
{
	const cJSON *v = jget2(o, a, b, c);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *flux_wi_container(const cJSON *podspec)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(podspec,
							   "containers");
	const cJSON *c;

	cJSON_ArrayForEach(c, cs) {
		const char *n = jstr2(c, "name", NULL, NULL);

		if (n && strcmp(n, "manager") == 0)
			return c;
	}
	return cJSON_GetArrayItem(cs, 0);
}

static const char *env_value(const cJSON *container, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(container,
							       "env")) {
		const char *n = jstr2(e, "name", NULL, NULL);

		if (n && strcmp(n, name) == 0) {
			const char *v = jstr2(e, "value", NULL, NULL);

			return v ? v : "";
		}
	}
	return NULL;
}

static const cJSON *find_named(const cJSON *list, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list) {
		const char *n = jstr2(it, "name", NULL, NULL);

		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

/* A projected volume with a serviceAccountToken source of the workload
 * identity audience at `path`. */
static bool token_volume(const cJSON *vol, const char *path)
{
	const cJSON *src;

	cJSON_ArrayForEach(src, jget2(vol, "projected", "sources", NULL)) {
		const cJSON *t = jget2(src, "serviceAccountToken", NULL, NULL);
		const char *aud = jstr2(t, "audience", NULL, NULL);
		const char *p = jstr2(t, "path", NULL, NULL);

		if (t && aud && p && strcmp(aud, FLUX_WI_AUDIENCE) == 0 &&
		    strcmp(p, path) == 0)
			return true;
	}
	return false;
}

/* The token file lies in a mounted projected token volume. */
static bool token_mounted(const cJSON *spec, const cJSON *c, const char *file,
			  const char **layout)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c,
							       "volumeMounts")) {
		const char *mp = jstr2(m, "mountPath", NULL, NULL);
		const char *vn = jstr2(m, "name", NULL, NULL);
		size_t n = mp ? strlen(mp) : 0;
		const cJSON *vol;

		while (n > 0 && mp[n - 1] == '/')
			n--;
		if (!mp || !vn || strncmp(file, mp, n) != 0 || file[n] != '/')
			continue;
		vol = find_named(cJSON_GetObjectItemCaseSensitive(spec,
								  "volumes"),
				 vn);
		if (vol && token_volume(vol, file + n + 1)) {
			if (strncmp(vn, "azure-workload-identity-reserved-",
				    33) == 0)
				*layout = "v1.6";
			else if (strcmp(vn, "azure-identity-token") == 0)
				*layout = "legacy";
			else
				*layout = "manual";
			return true;
		}
	}
	return false;
}

bool flux_wi_pod_injected(const cJSON *pod, struct flux_wi_pod *out)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	const cJSON *c = flux_wi_container(spec);
	const char *file, *cid;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s",
		 jstr2(pod, "metadata", "name", NULL) ?
		 jstr2(pod, "metadata", "name", NULL) : "?");
	file = env_value(c, "AZURE_FEDERATED_TOKEN_FILE");
	cid = env_value(c, "AZURE_CLIENT_ID");
	if (cid)
		snprintf(out->client_id, sizeof(out->client_id), "%s", cid);
	cid = env_value(c, "AZURE_TENANT_ID");
	if (cid)
		snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", cid);
	out->labelled = jstr2(pod, "metadata", "labels", FLUX_WI_USE) &&
			strcmp(jstr2(pod, "metadata", "labels", FLUX_WI_USE),
			       "true") == 0;
	if (!file || !*file) {
		snprintf(out->why, sizeof(out->why), "pod %s has no "
			 "AZURE_FEDERATED_TOKEN_FILE", out->name);
		return false;
	}
	if (!env_value(c, "AZURE_AUTHORITY_HOST")) {
		snprintf(out->why, sizeof(out->why), "pod %s has no "
			 "AZURE_AUTHORITY_HOST", out->name);
		return false;
	}
	if (!token_mounted(spec, c, file, &out->layout)) {
		snprintf(out->why, sizeof(out->why), "pod %s has no projected "
			 "token volume (audience " FLUX_WI_AUDIENCE ") mounted at "
			 "%s", out->name, file);
		return false;
	}
	out->injected = true;
	return true;
}


void flux_restart_stamp(char *out, size_t size, const char *previous,
			const struct timespec *now)
{
	struct tm tm;
	char secs[32];

	gmtime_r(&now->tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	if (previous && strncmp(previous, secs, strlen(secs)) == 0)
		snprintf(out, size, "%.19s.%09uZ", secs,
			 (unsigned)(now->tv_nsec % 1000000000));
	else
		snprintf(out, size, "%.19sZ", secs);
}
