/*
 * check_fic.c - the federated-credential link of `kubectl fluxwi check
 * --identity ID`: the identity's federated identity credentials, read
 * through Azure Resource Manager, compared byte for byte with what the
 * controller's token carries (issuer, subject, audience), as Entra does.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "util/err.h"
#include "util/http.h"

static bool has_audience(const cJSON *fic)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, wi_get(fic, "properties", "audiences", NULL))
		if (cJSON_IsString(a) && strcmp(a->valuestring, WI_AUDIENCE) == 0)
			return true;
	return false;
}

/* How `got` differs from `want`, in words. */
static void differ(char *out, size_t size, const char *what, const char *got,
		   const char *want)
{
	size_t g = strlen(got), w = strlen(want);

	if (g + 1 == w && strncmp(got, want, g) == 0 && want[g] == '/')
		snprintf(out, size, "its %s '%s' lacks the trailing '/' of "
			 "'%s'", what, got, want);
	else if (w + 1 == g && strncmp(got, want, w) == 0 && got[w] == '/')
		snprintf(out, size, "its %s '%s' has a trailing '/' that '%s' "
			 "lacks", what, got, want);
	else if (strcasecmp(got, want) == 0)
		snprintf(out, size, "its %s '%s' differs from '%s' in case "
			 "(matching is case-sensitive)", what, got, want);
	else
		snprintf(out, size, "its %s is '%s', the token's is '%s'", what,
			 got, want);
}

static void judge(struct wi_check *c, const cJSON *list, const char *subject,
		  const char *cmd)
{
	const cJSON *f, *near = NULL;
	char why[900], fix[2600];
	const char *nname, *rest;

	cJSON_ArrayForEach(f, list) {
		const char *iss = wi_str(f, "properties", "issuer", NULL);
		const char *sub = wi_str(f, "properties", "subject", NULL);
		bool si = iss && strcmp(iss, c->issuer) == 0;
		bool ss = sub && strcmp(sub, subject) == 0;

		if (si && ss && has_audience(f)) {
			wi_link_add(c, "federated-credential", WI_PASS, NULL,
				    "'%s' matches issuer, subject and audience",
				    wi_str(f, "name", NULL) ?
				    wi_str(f, "name", NULL) : "?");
			return;
		}
		if (!near && (si || ss))
			near = f;
	}
	if (!near) {
		wi_link_add(c, "federated-credential", WI_FAIL, cmd, "no "
			    "federated credential of the identity names the "
			    "cluster's issuer or the subject %s", subject);
		return;
	}
	nname = wi_str(near, "name", NULL) ? wi_str(near, "name", NULL) : "?";
	if (!wi_str(near, "properties", "issuer", NULL) ||
	    strcmp(wi_str(near, "properties", "issuer", NULL), c->issuer))
		differ(why, sizeof(why), "issuer",
		       wi_str(near, "properties", "issuer", NULL) ?
		       wi_str(near, "properties", "issuer", NULL) : "",
		       c->issuer);
	else if (!wi_str(near, "properties", "subject", NULL) ||
		 strcmp(wi_str(near, "properties", "subject", NULL), subject))
		differ(why, sizeof(why), "subject",
		       wi_str(near, "properties", "subject", NULL) ?
		       wi_str(near, "properties", "subject", NULL) : "",
		       subject);
	else
		snprintf(why, sizeof(why), "its audiences lack " WI_AUDIENCE);
	rest = strstr(cmd, " --identity-name");
	snprintf(fix, sizeof(fix), "az identity federated-credential update "
		 "--name %s%s", nname, rest ? rest : "");
	wi_link_add(c, "federated-credential", WI_FAIL, fix, "'%s': %s", nname,
		    why);
}

void wi_check_fic(struct wi_check *c, const struct cli_ctx *ctx,
		  const char *identity, const char *subject)
{
	struct http_response r;
	struct wi_ids id;
	char path[1200], cmd[2400];
	cJSON *doc = NULL;

	memset(&id, 0, sizeof(id));
	wi_split_identity(identity, &id);
	wi_fic_command(cmd, sizeof(cmd), c->issuer, subject, &id,
		       "kustomize-controller");
	snprintf(path, sizeof(path), "%s/federatedIdentityCredentials",
		 identity);
	http_response_init(&r);
	if (wi_arm_get(ctx, path, &r) < 0) {
		wi_link_add(c, "federated-credential", WI_FAIL, err_remedy(),
			    "%s", err_msg());
		err_clear();
	} else if (r.status != 200) {
		wi_link_add(c, "federated-credential", WI_FAIL, "sign in as "
			    "someone who may read the identity (Reader)",
			    "Azure Resource Manager answered HTTP %ld for the "
			    "identity's federated credentials", r.status);
	} else {
		doc = cJSON_ParseWithLength(r.body.data, r.body.len);
		judge(c, wi_get(doc, "value", NULL), subject, cmd);
	}
	cJSON_Delete(doc);
	http_response_free(&r);
}
