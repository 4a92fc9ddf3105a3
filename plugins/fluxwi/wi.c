/*
 * wi.c - shared pieces of the fluxwi subcommands.
 */
#include "wi.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/cloud.h"
#include "cli/cluster.h"
#include "azure/credential.h"
#include "util/err.h"
#include "kube/objects.h"
#include "util/http.h"
#include "util/log.h"

#define ARM_API_VERSION "2023-01-31"

bool wi_is_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };

	if (!s)
		return false;
	for (size_t g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		if (*s != (g < 4 ? '-' : '\0'))
			return false;
		s++;
	}
	return true;
}

static const cJSON *vget(const cJSON *obj, va_list ap)
{
	const char *k;

	while (obj && (k = va_arg(ap, const char *)))
		obj = cJSON_GetObjectItemCaseSensitive(obj, k);
	return obj;
}

const cJSON *wi_get(const cJSON *obj, ...)
{
	va_list ap;
	const cJSON *r;

	va_start(ap, obj);
	r = vget(obj, ap);
	va_end(ap);
	return r;
}

const char *wi_str(const cJSON *obj, ...)
{
	va_list ap;
	const cJSON *r;

	va_start(ap, obj);
	r = vget(obj, ap);
	va_end(ap);
	return cJSON_IsString(r) ? r->valuestring : NULL;
}

static FILE *say_stream;

void wi_say_to(FILE *f)
{
	say_stream = f;
}

void wi_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(say_stream ? say_stream : stdout, fmt, ap);
	va_end(ap);
}

const char *wi_output(const struct cli_ctx *ctx, const char *def)
{
	return ctx->g.output ? ctx->g.output : def;
}

/* Copies segment number `idx` (0-based, after the leading '/') of `id`. */
static bool segment(const char *id, int idx, char *out, size_t size)
{
	const char *p = id;

	if (*p != '/')
		return false;
	for (int i = 0; i < idx; i++) {
		p = strchr(p + 1, '/');
		if (!p)
			return false;
	}
	p++;
	size_t n = strcspn(p, "/");

	if (n == 0 || n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* /subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/
 * userAssignedIdentities/NAME */
static bool identity_shape(const char *id)
{
	static const char *const fixed[] = {
		"subscriptions", NULL, "resourceGroups", NULL, "providers",
		"Microsoft.ManagedIdentity", "userAssignedIdentities", NULL
	};
	char seg[256];

	for (int i = 0; i < 8; i++) {
		if (!segment(id, i, seg, sizeof(seg)))
			return false;
		if (fixed[i] && strcasecmp(seg, fixed[i]) != 0)
			return false;
	}
	return !segment(id, 8, seg, sizeof(seg));
}

void wi_split_identity(const char *id, struct wi_ids *out)
{
	out->name[0] = out->resource_group[0] = '\0';
	if (!id || !identity_shape(id))
		return;
	segment(id, 7, out->name, sizeof(out->name));
	segment(id, 3, out->resource_group, sizeof(out->resource_group));
}

static int copy_prop(const cJSON *doc, const char *name, char *out,
		     size_t size)
{
	const char *v = wi_str(doc, "properties", name, NULL);

	if (!v || strlen(v) >= size)
		return -1;
	snprintf(out, size, "%s", v);
	return 0;
}

static int arm_answer(const char *id, const struct http_response *r,
		      struct wi_ids *out)
{
	cJSON *doc = cJSON_ParseWithLength(r->body.data ? r->body.data : "",
					   r->body.len);
	const char *msg = wi_str(doc, "error", "message", NULL);
	int rc = -1;

	if (r->status == 200) {
		if (copy_prop(doc, "clientId", out->client_id,
			      sizeof(out->client_id)) == 0 &&
		    copy_prop(doc, "tenantId", out->tenant_id,
			      sizeof(out->tenant_id)) == 0) {
			copy_prop(doc, "principalId", out->principal_id,
				  sizeof(out->principal_id));
			rc = 0;
		} else {
			err_set(EXIT_FAILED, "Azure Resource Manager answered "
				"for %s without properties.clientId and "
				"tenantId", id);
		}
	} else if (r->status == 404) {
		err_set(EXIT_FAILED, "managed identity %s not found (%s)", id,
			msg ? msg : "404");
		err_hint("check the resource ID: az identity show -g GROUP "
			 "-n NAME --query id");
	} else if (r->status == 401 || r->status == 403) {
		err_set(EXIT_FAILED, "Azure Resource Manager refused to read "
			"%s (HTTP %ld): %s", id, r->status, msg ? msg : "");
		err_hint("sign in as someone with Reader on the identity, or "
			 "pass --client-id and --tenant-id instead");
	} else {
		err_set(EXIT_FAILED, "Azure Resource Manager answered HTTP %ld "
			"for %s%s%s", r->status, id, msg ? ": " : "",
			msg ? msg : "");
	}
	cJSON_Delete(doc);
	return rc;
}

int wi_arm_get(const struct cli_ctx *ctx, const char *path,
	       struct http_response *resp)
{
	char base[512], scope[600], url[2048], ua[160];
	struct http_request req;
	struct http_client *http;
	struct az_auth *auth = NULL;
	const char *token;
	int rc = -1;

	if (az_arm_endpoint(base, sizeof(base)) < 0 ||
	    az_arm_scope(base, scope, sizeof(scope)) < 0)
		return -1;
	if (snprintf(url, sizeof(url), "%s%s?api-version=" ARM_API_VERSION,
		     base, path) >= (int)sizeof(url))
		return err_set(EXIT_USAGE, "%s: too long", path);
	cli_user_agent(ctx->prog, ua, sizeof(ua));
	http = http_client_new(ua, cli_request_timeout_ms(&ctx->g));
	if (!http)
		return -1;
	auth = az_auth_new(http, ctx->g.azure_auth);
	if (!auth || az_auth_token(auth, scope, &token) < 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.bearer = token;
	log_at(LOG_STEPS, "Azure Resource Manager: GET %s", path);
	rc = http_do(http, &req, resp);
out:
	az_auth_free(auth);
	http_client_free(http);
	return rc;
}

static int arm_lookup(const struct cli_ctx *ctx, const char *id,
		      struct wi_ids *out)
{
	struct http_response resp;
	int rc = -1;

	http_response_init(&resp);
	if (wi_arm_get(ctx, id, &resp) == 0)
		rc = arm_answer(id, &resp, out);
	http_response_free(&resp);
	return rc;
}

static int agree(const char *flag, const char *given, const char *found,
		 const char *id)
{
	if (!given || strcasecmp(given, found) == 0)
		return 0;
	err_set(EXIT_USAGE, "--%s %s disagrees with --identity %s, whose %s "
		"is %s", flag, given, id, flag, found);
	return err_hint("drop --%s or --identity", flag);
}

int wi_resolve_ids(const struct cli_ctx *ctx, const struct fluxwi_args *a,
		   bool need_client, struct wi_ids *out)
{
	memset(out, 0, sizeof(*out));
	if (a->identity) {
		if (!identity_shape(a->identity)) {
			err_set(EXIT_USAGE, "--identity %s is no managed "
				"identity resource ID", a->identity);
			return err_hint("expected /subscriptions/SUB/"
					"resourceGroups/RG/providers/Microsoft."
					"ManagedIdentity/userAssignedIdentities"
					"/NAME (az identity show --query id)");
		}
		wi_split_identity(a->identity, out);
		if (arm_lookup(ctx, a->identity, out) < 0 ||
		    agree("client-id", a->client_id, out->client_id,
			  a->identity) < 0 ||
		    agree("tenant-id", a->tenant_id, out->tenant_id,
			  a->identity) < 0)
			return -1;
		return 0;
	}
	if (!a->client_id) {
		if (!need_client)
			goto tenant;
		err_set(EXIT_USAGE, "%s %s needs --client-id or --identity",
			ctx->display, ctx->cmd->name);
		return err_hint("pass the managed identity's client ID: az "
				"identity show -g GROUP -n NAME --query "
				"clientId");
	}
	if (!wi_is_guid(a->client_id))
		return cli_usage_error(ctx, "--client-id %s is not a GUID "
				       "(xxxxxxxx-xxxx-xxxx-xxxx-"
				       "xxxxxxxxxxxx)", a->client_id);
	snprintf(out->client_id, sizeof(out->client_id), "%s", a->client_id);
tenant:
	if (a->tenant_id && !wi_is_guid(a->tenant_id))
		return cli_usage_error(ctx, "--tenant-id %s is not a GUID "
				       "(xxxxxxxx-xxxx-xxxx-xxxx-"
				       "xxxxxxxxxxxx)", a->tenant_id);
	if (a->tenant_id)
		snprintf(out->tenant_id, sizeof(out->tenant_id), "%s",
			 a->tenant_id);
	return 0;
}

int wi_merge_patch(struct kube_client *kc, const struct fluxwi_args *a,
		   bool sa, const cJSON *patch, bool dry_run)
{
	struct kube_write_opts wo = { WI_FIELD_MANAGER, false, dry_run };
	char *body;
	int rc;

	if (!patch)
		return 0;
	body = cJSON_PrintUnformatted(patch);
	if (!body)
		return err_set(EXIT_FAILED, "out of memory");
	rc = sa ? kube_patch_service_account(kc, a->flux_namespace,
					     a->controller, KUBE_PATCH_MERGE,
					     body, &wo, NULL)
		: kube_patch_deployment(kc, a->flux_namespace, a->controller,
					KUBE_PATCH_MERGE, body, &wo, NULL);
	free(body);
	return rc;
}
