#include "azure/credential.h"

#include <bsd/string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "azure/aadsts.h"
#include "azure/cloud.h"
#include "azure/jose.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"
#include "util/redact.h"

extern char **environ;

#define REFRESH_MARGIN_S 300
#define CLI_TIMEOUT_MS 10000
#define IMDS_PROBE_MS 1000
#define REASON_MAX 360

enum outcome { GOT_TOKEN, UNAVAILABLE, FAILED };

struct cached {
	enum az_cred kind;
	char *scope;
	char *token;		/* secret */
	time_t expires_on;
};

struct az_auth {
	struct http_client *http;
	int forced;		/* -1: the chain */
	unsigned allowed;	/* bit per credential (AZURE_TOKEN_CREDENTIALS) */
	int chosen;		/* -1 until a success */
	struct cached *cache;
	size_t ncache;
	/* az_auth_new_assertion(): a workload identity with a given token */
	char *as_tenant, *as_client, *assertion;
	char why[AZ_CRED_N][REASON_MAX];
	char fix[AZ_CRED_N][REASON_MAX];
};

/* What one attempt produced. */
struct got {
	char *token;		/* secret */
	time_t expires_on;
};

static const char *const names[AZ_CRED_N] = {
	"env", "certificate", "workload-identity", "managed-identity",
	"azure-cli"
};

static const char *const sdk_names[AZ_CRED_N] = {
	"EnvironmentCredential", "ClientCertificateCredential",
	"WorkloadIdentityCredential", "ManagedIdentityCredential",
	"AzureCLICredential"
};

const char *az_cred_name(enum az_cred k)
{
	return k < AZ_CRED_N ? names[k] : "?";
}

int az_cred_parse(const char *name)
{
	int i;

	for (i = 0; i < AZ_CRED_N; i++)
		if (strcasecmp(name, names[i]) == 0 ||
		    strcasecmp(name, sdk_names[i]) == 0)
			return i;
	err_set(EXIT_USAGE, "unknown Azure credential \"%s\"", name);
	err_hint("use one of: env, certificate, workload-identity, "
		 "managed-identity, azure-cli");
	return -1;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int allowed_from_env(unsigned *mask)
{
	const char *v = env("AZURE_TOKEN_CREDENTIALS");
	int k;

	*mask = (1u << AZ_CRED_N) - 1;
	if (!v)
		return 0;
	if (strcasecmp(v, "dev") == 0) {
		*mask = 1u << AZ_CRED_CLI;
		return 0;
	}
	if (strcasecmp(v, "prod") == 0) {
		*mask &= ~(1u << AZ_CRED_CLI);
		return 0;
	}
	k = az_cred_parse(v);
	if (k < 0)
		return err_prefix("AZURE_TOKEN_CREDENTIALS");
	*mask = 1u << k;
	return 0;
}

struct az_auth *az_auth_new(struct http_client *http, const char *forced)
{
	struct az_auth *a = calloc(1, sizeof(*a));
	int k = -1;

	if (!a) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	a->http = http;
	a->chosen = -1;
	if ((forced && *forced && (k = az_cred_parse(forced)) < 0) ||
	    (k < 0 && allowed_from_env(&a->allowed) < 0)) {
		free(a);
		return NULL;
	}
	a->forced = k;
	if (k >= 0)
		a->allowed = 1u << k;
	return a;
}

static void cached_free(struct cached *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->scope);
	c->token = c->scope = NULL;
}

struct az_auth *az_auth_new_assertion(struct http_client *http,
				      const char *tenant, const char *client_id,
				      const char *assertion)
{
	struct az_auth *a = az_auth_new(http, "workload-identity");

	if (!a)
		return NULL;
	a->as_tenant = strdup(tenant);
	a->as_client = strdup(client_id);
	a->assertion = strdup(assertion);
	if (!a->as_tenant || !a->as_client || !a->assertion) {
		az_auth_free(a);
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	return a;
}

void az_auth_free(struct az_auth *a)
{
	size_t i;

	if (!a)
		return;
	if (a->assertion)
		explicit_bzero(a->assertion, strlen(a->assertion));
	free(a->assertion);
	free(a->as_tenant);
	free(a->as_client);
	for (i = 0; i < a->ncache; i++)
		cached_free(&a->cache[i]);
	free(a->cache);
	free(a);
}

const char *az_auth_used(const struct az_auth *a)
{
	return a->chosen >= 0 ? names[a->chosen] : NULL;
}

void az_auth_forget(struct az_auth *a, const char *scope)
{
	size_t i;

	for (i = 0; i < a->ncache; i++)
		if (a->cache[i].scope && strcmp(a->cache[i].scope, scope) == 0)
			cached_free(&a->cache[i]);
}

/* A token for (kind, scope) that needs no refresh; *stale (may be NULL)
 * receives one that should be refreshed but has not expired yet. */
static struct cached *cache_find(struct az_auth *a, int kind,
				 const char *scope, struct cached **stale)
{
	size_t i;
	time_t now = time(NULL);

	if (stale)
		*stale = NULL;
	for (i = 0; i < a->ncache; i++) {
		struct cached *c = &a->cache[i];

		if (!c->token || (int)c->kind != kind ||
		    strcmp(c->scope, scope) != 0)
			continue;
		if (now < c->expires_on - REFRESH_MARGIN_S)
			return c;
		if (now < c->expires_on && stale)
			*stale = c;
		else
			cached_free(c);
	}
	return NULL;
}

static struct cached *cache_put(struct az_auth *a, int kind,
				const char *scope, struct got *g)
{
	struct cached *n, *slot = NULL;
	size_t i;

	for (i = 0; i < a->ncache; i++)	/* the token this one replaces */
		if (a->cache[i].token && (int)a->cache[i].kind == kind &&
		    strcmp(a->cache[i].scope, scope) == 0)
			cached_free(&a->cache[i]);

	for (i = 0; i < a->ncache && !slot; i++)
		if (!a->cache[i].token)
			slot = &a->cache[i];
	if (!slot) {
		n = realloc(a->cache, (a->ncache + 1) * sizeof(*n));
		if (!n)
			return NULL;
		a->cache = n;
		slot = &a->cache[a->ncache++];
		memset(slot, 0, sizeof(*slot));
	}
	slot->scope = strdup(scope);
	if (!slot->scope)
		return NULL;
	slot->kind = (enum az_cred)kind;
	slot->token = g->token;
	slot->expires_on = g->expires_on;
	g->token = NULL;
	return slot;
}

/* ---- bookkeeping of reasons ------------------------------------------- */

static enum outcome unavailable(struct az_auth *a, int k, const char *fix,
				const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum outcome unavailable(struct az_auth *a, int k, const char *fix,
				const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why[k], REASON_MAX, fmt, ap);
	va_end(ap);
	strlcpy(a->fix[k], fix, REASON_MAX);
	log_at(LOG_STEPS, "azure: %s credential unavailable: %s", names[k],
	       a->why[k]);
	return UNAVAILABLE;
}

/* "unavailable: A B not set" for the variables among `vars` (NULL-ended)
 * that are unset; `extra` is appended. */
static enum outcome missing(struct az_auth *a, int k, const char *fix,
			    const char *const *vars, const char *extra)
{
	char list[200] = "";
	size_t i;

	for (i = 0; vars[i]; i++)
		if (!env(vars[i])) {
			strlcat(list, vars[i], sizeof(list));
			strlcat(list, " ", sizeof(list));
		}
	return unavailable(a, k, fix, "%snot set%s", list, extra);
}

static char *scope_resource(const char *scope)
{
	char *r = strdup(scope);
	size_t n;

	if (!r)
		return NULL;
	n = strlen(r);
	if (n > 9 && strcmp(r + n - 9, "/.default") == 0)
		r[n - 9] = '\0';
	return r;
}

/* ---- Entra ID token endpoint ------------------------------------------- */

static int form_add(struct buf *b, const char *name, const char *value)
{
	char *v = http_escape(value);
	int rc;

	if (!v)
		return -1;
	rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, v);
	explicit_bzero(v, strlen(v));
	free(v);
	return rc;
}

static int token_from_json(const char *body, const char *tok_field,
			   struct got *g)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, tok_field);
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "expires_on");
	int rc = -1;

	if (cJSON_IsString(t) && *t->valuestring) {
		g->token = strdup(t->valuestring);
		g->expires_on = 0;
		if (cJSON_IsString(on))
			g->expires_on = az_parse_expires_on(on->valuestring);
		else if (cJSON_IsNumber(on))
			g->expires_on = (time_t)on->valuedouble;
		if (!g->expires_on && cJSON_IsNumber(in))
			g->expires_on = time(NULL) + (time_t)in->valuedouble;
		else if (!g->expires_on && cJSON_IsString(in))
			g->expires_on = time(NULL) + atol(in->valuestring);
		if (!g->expires_on)
			g->expires_on = time(NULL) + 600;
		rc = g->token ? 0 : err_set(EXIT_FAILED, "out of memory");
		explicit_bzero(t->valuestring, strlen(t->valuestring));
	} else {
		err_set(EXIT_FAILED, "the token answer has no %s", tok_field);
	}
	cJSON_Delete(j);
	return rc;
}

struct entra_req {
	const char *who;		/* for messages */
	const char *tenant;
	const char *client_id;
	const char *secret_name;	/* client_secret or client_assertion */
	const char *secret;
	const cJSON *assertion_claims;	/* federated: for error messages */
};

static int entra_url(const char *tenant, char *url, size_t size)
{
	char authority[512];

	if (az_authority(authority, sizeof(authority)) < 0)
		return -1;
	snprintf(url, size, "%s/%s/oauth2/v2.0/token", authority, tenant);
	return 0;
}

static int entra_token(struct az_auth *a, const struct entra_req *r,
		       const char *scope, struct got *g)
{
	char url[700];
	struct buf body;
	struct http_request req = { 0 };
	struct http_response resp;
	int rc = -1;

	if (entra_url(r->tenant, url, sizeof(url)) < 0)
		return -1;
	buf_init_secret(&body);
	if (form_add(&body, "grant_type", "client_credentials") < 0 ||
	    form_add(&body, "client_id", r->client_id) < 0 ||
	    form_add(&body, "scope", scope) < 0 ||
	    (strcmp(r->secret_name, "client_assertion") == 0 &&
	     form_add(&body, "client_assertion_type",
		      "urn:ietf:params:oauth:client-assertion-type:"
		      "jwt-bearer") < 0) ||
	    form_add(&body, r->secret_name, r->secret) < 0) {
		buf_free(&body);
		return -1;
	}
	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = body.data;
	req.body_len = body.len;
	req.secret_body = true;
	req.secret_response = true;
	http_response_init(&resp);
	if (http_do_retry(a->http, &req, &resp, NULL) < 0)
		err_prefix("%s: cannot reach Entra ID", r->who);
	else if (resp.status == 200)
		rc = token_from_json(resp.body.data ? resp.body.data : "",
				     "access_token", g);
	else
		az_entra_error(r->who, resp.status, resp.body.data,
			       r->assertion_claims);
	http_response_free(&resp);
	buf_free(&body);
	return rc;
}

/* Fills a request for credential `kind` of client c in tenant t; `who`
 * (200 bytes) receives its name for messages. */
static void entra_req_init(struct entra_req *r, char who[200],
			   const char *kind, const char *t, const char *c,
			   const char *secret_name)
{
	snprintf(who, 200, "%s (client ID %s, tenant %s)", kind, c, t);
	memset(r, 0, sizeof(*r));
	r->who = who;
	r->tenant = t;
	r->client_id = c;
	r->secret_name = secret_name;
}

/* ---- env: client secret ------------------------------------------------ */

static const char FIX_ENV[] = "set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
	"AZURE_CLIENT_SECRET (a service principal's secret value)";

static const char *const env_vars[] = { "AZURE_TENANT_ID",
	"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", NULL };

static enum outcome try_env(struct az_auth *a, const char *scope,
			    struct got *g)
{
	const char *t = env("AZURE_TENANT_ID"), *c = env("AZURE_CLIENT_ID");
	const char *s = env("AZURE_CLIENT_SECRET");
	char who[200];
	struct entra_req r = { 0 };

	if (!t || !c || !s)
		return missing(a, AZ_CRED_ENV, FIX_ENV, env_vars,
			       env("AZURE_USERNAME")
				       ? " (AZURE_USERNAME is set: username/"
					 "password sign-in is not supported)"
				       : "");
	entra_req_init(&r, who, "client secret credential", t, c,
		       "client_secret");
	r.secret = s;
	return entra_token(a, &r, scope, g) == 0 ? GOT_TOKEN : FAILED;
}

/* ---- client certificate ------------------------------------------------- */

static const char FIX_CERT[] = "set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
	"AZURE_CLIENT_CERTIFICATE_PATH (PEM with certificate and key, or "
	"PKCS#12 with AZURE_CLIENT_CERTIFICATE_PASSWORD)";

static bool env_true(const char *name)
{
	const char *v = env(name);

	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

static const char *const cert_vars[] = { "AZURE_TENANT_ID",
	"AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", NULL };

static enum outcome try_cert(struct az_auth *a, const char *scope,
			     struct got *g)
{
	const char *t = env("AZURE_TENANT_ID"), *c = env("AZURE_CLIENT_ID");
	const char *p = env("AZURE_CLIENT_CERTIFICATE_PATH");
	struct az_cert cert;
	struct entra_req r;
	char who[200], url[700], *jwt;
	int rc;

	if (!t || !c || !p)
		return missing(a, AZ_CRED_CERT, FIX_CERT, cert_vars, "");
	entra_req_init(&r, who, "client certificate credential", t, c,
		       "client_assertion");
	if (entra_url(t, url, sizeof(url)) < 0 ||
	    az_cert_load(p, env("AZURE_CLIENT_CERTIFICATE_PASSWORD"), &cert) <
		    0)
		return FAILED;
	jwt = az_client_assertion(&cert, c, url,
				  env_true("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"));
	az_cert_free(&cert);
	if (!jwt)
		return FAILED;
	r.secret = jwt;
	rc = entra_token(a, &r, scope, g);
	explicit_bzero(jwt, strlen(jwt));
	free(jwt);
	return rc == 0 ? GOT_TOKEN : FAILED;
}

/* ---- workload identity --------------------------------------------------- */

static const char FIX_WI[] = "in a pod: label it azure.workload.identity/use"
	"=\"true\" and annotate its ServiceAccount with azure.workload."
	"identity/client-id; elsewhere set AZURE_FEDERATED_TOKEN_FILE, "
	"AZURE_CLIENT_ID and AZURE_TENANT_ID";

static int read_token_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (!f)
		return err_set(EXIT_FAILED, "AZURE_FEDERATED_TOKEN_FILE %s: %s",
			       path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) < 0)
			break;
	explicit_bzero(chunk, sizeof(chunk));
	fclose(f);
	while (out->len && strchr(" \t\r\n", out->data[out->len - 1]))
		out->data[--out->len] = '\0';
	if (out->len == 0)
		return err_set(EXIT_FAILED, "AZURE_FEDERATED_TOKEN_FILE %s is "
			       "empty", path);
	return 0;
}

static const char *const wi_vars[] = { "AZURE_FEDERATED_TOKEN_FILE",
	"AZURE_CLIENT_ID", "AZURE_TENANT_ID", NULL };

static enum outcome try_workload(struct az_auth *a, const char *scope,
				 struct got *g)
{
	const char *t = env("AZURE_TENANT_ID"), *c = env("AZURE_CLIENT_ID");
	const char *f = env("AZURE_FEDERATED_TOKEN_FILE");
	struct buf tok;
	struct entra_req r = { 0 };
	cJSON *claims;
	char who[200];
	int rc = -1;

	if (a->assertion) {
		t = a->as_tenant;
		c = a->as_client;
	}
	if (!a->assertion && (!t || !c || !f))
		return missing(a, AZ_CRED_WORKLOAD, FIX_WI, wi_vars, "");
	entra_req_init(&r, who, "workload identity", t, c,
		       "client_assertion");
	buf_init_secret(&tok);
	if (a->assertion) {
		if (buf_puts(&tok, a->assertion) < 0) {
			buf_free(&tok);
			return FAILED;
		}
	} else if (read_token_file(f, &tok) < 0) {
		err_hint("the kubelet writes this file from a projected "
			 "service account token volume; check the pod's "
			 "volumes");
		buf_free(&tok);
		return FAILED;
	}
	claims = az_jwt_claims(tok.data);
	r.secret = tok.data;
	r.assertion_claims = claims;
	rc = entra_token(a, &r, scope, g);
	cJSON_Delete(claims);
	buf_free(&tok);
	return rc == 0 ? GOT_TOKEN : FAILED;
}

/* ---- managed identity ----------------------------------------------------- */

static const char FIX_MI[] = "run on an Azure VM, AKS node or App Service "
	"with a managed identity assigned (AZURE_CLIENT_ID picks a "
	"user-assigned one)";

static int mi_url(struct buf *url, const char *base, const char *api,
		  const char *resource, const char *client_id)
{
	char *r = http_escape(resource), *c = NULL;
	int rc = -1;

	if (r && (!client_id || (c = http_escape(client_id))))
		rc = buf_printf(url, "%s%sapi-version=%s&resource=%s%s%s", base,
				strchr(base, '?') ? "&" : "?", api, r,
				c ? "&client_id=" : "", c ? c : "");
	free(r);
	free(c);
	return rc;
}

static enum outcome mi_answer(struct az_auth *a, const char *who,
			      struct http_response *resp, bool probing,
			      struct got *g)
{
	cJSON *j;
	const cJSON *d;
	char msg[300] = "";

	if (resp->status == 200)
		return token_from_json(resp->body.data ? resp->body.data : "",
				       "access_token", g) == 0
			       ? GOT_TOKEN
			       : FAILED;
	j = resp->body.data ? cJSON_Parse(resp->body.data) : NULL;
	d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	if (!cJSON_IsString(d))
		d = cJSON_GetObjectItemCaseSensitive(j, "message");
	snprintf(msg, sizeof(msg), "%s",
		 cJSON_IsString(d) ? d->valuestring : "no description");
	cJSON_Delete(j);
	redact_tokens_inplace(msg);
	if (probing)	/* IMDS in the chain: only a token counts */
		return unavailable(a, AZ_CRED_MANAGED, FIX_MI,
				   "%s answered HTTP %ld: %s", who,
				   resp->status, msg);
	err_set(EXIT_FAILED, "%s: HTTP %ld: %s", who, resp->status, msg);
	err_hint("%s", strcasestr(msg, "not found") ||
				strcasestr(msg, "No User Assigned")
			? "the identity named by AZURE_CLIENT_ID is not "
			  "assigned to this host; assign it or unset "
			  "AZURE_CLIENT_ID"
			: FIX_MI);
	return FAILED;
}

static enum outcome try_managed(struct az_auth *a, const char *scope,
				struct got *g)
{
	const char *ie = env("IDENTITY_ENDPOINT"), *ih = env("IDENTITY_HEADER");
	const char *imds = env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	bool app = ie && ih, probing = a->forced < 0 && !app;
	char base[600], hdr[400], who[700];
	const char *headers[2] = { hdr, NULL };
	struct http_request req = { 0 };
	struct http_response resp;
	struct buf url = BUF_INIT;
	char *resource = scope_resource(scope);
	enum outcome o = FAILED;
	int rc;

	if (app) {
		strlcpy(base, ie, sizeof(base));
		snprintf(hdr, sizeof(hdr), "X-IDENTITY-HEADER: %s", ih);
	} else {
		size_t n = strlcpy(base, imds ? imds : "http://169.254.169.254",
				   sizeof(base));

		while (n > 0 && n < sizeof(base) && base[n - 1] == '/')
			base[--n] = '\0';
		strlcat(base, "/metadata/identity/oauth2/token", sizeof(base));
		strlcpy(hdr, "Metadata: true", sizeof(hdr));
	}
	snprintf(who, sizeof(who), "managed identity (%s at %s)",
		 app ? "App Service endpoint" : "IMDS", base);
	if (!resource || mi_url(&url, base, app ? "2019-08-01" : "2018-02-01",
				resource, env("AZURE_CLIENT_ID")) < 0)
		goto out;
	req.url = url.data;
	req.headers = headers;
	req.proxy = "";
	req.secret_response = true;
	req.timeout_ms = probing ? IMDS_PROBE_MS : 0;
	http_response_init(&resp);
	rc = probing ? http_do(a->http, &req, &resp)
			     : http_do_retry(a->http, &req, &resp, NULL);
	if (rc < 0 && probing)
		o = unavailable(a, AZ_CRED_MANAGED, FIX_MI, "no managed "
				"identity endpoint answered at %s", base);
	else if (rc < 0)
		err_prefix("%s", who);
	else
		o = mi_answer(a, who, &resp, probing, g);
	http_response_free(&resp);
out:
	buf_free(&url);
	free(resource);
	return o;
}

/* ---- Azure CLI --------------------------------------------------------------- */

static const char FIX_CLI[] = "install the Azure CLI and sign in: az login";

time_t az_parse_expires_on(const char *s)
{
	struct tm tm;
	char *end, ampm[3] = "";
	long long v;

	if (!s || !*s)
		return 0;
	v = strtoll(s, &end, 10);
	if (*end == '\0' && v > 0)
		return (time_t)v;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d/%d/%d %d:%d:%d %2s", &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
		   ampm) == 7) {
		tm.tm_mon -= 1;
		tm.tm_year -= 1900;
		if (strcasecmp(ampm, "PM") == 0 && tm.tm_hour < 12)
			tm.tm_hour += 12;
		else if (strcasecmp(ampm, "AM") == 0 && tm.tm_hour == 12)
			tm.tm_hour = 0;
		return timegm(&tm);	/* the format carries +00:00 */
	}
	return 0;
}

static time_t parse_local(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int az_cli_parse(const char *json, char **token, time_t *expires_on)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "accessToken");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "expires_on");
	const cJSON *local = cJSON_GetObjectItemCaseSensitive(j, "expiresOn");
	int rc = -1;

	*token = NULL;
	*expires_on = 0;
	if (cJSON_IsNumber(on))
		*expires_on = (time_t)on->valuedouble;
	else if (cJSON_IsString(on))
		*expires_on = az_parse_expires_on(on->valuestring);
	if (!*expires_on && cJSON_IsString(local))
		*expires_on = parse_local(local->valuestring);
	if (!cJSON_IsString(t) || !*t->valuestring)
		err_set(EXIT_FAILED, "az account get-access-token printed no "
			"accessToken");
	else if (!*expires_on)
		err_set(EXIT_FAILED, "az account get-access-token printed no "
			"usable expiry (expires_on or expiresOn)");
	else if (!(*token = strdup(t->valuestring)))
		err_set(EXIT_FAILED, "out of memory");
	else
		rc = 0;
	if (cJSON_IsString(t))
		explicit_bzero(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(j);
	return rc;
}

struct child {
	pid_t pid;
	int out, err;
	int status;
	bool timed_out;
};

static int spawn_az(char *resource, struct child *ch)
{
	char *argv[] = { "az", "account", "get-access-token", "-o", "json",
			 "--resource", resource, NULL };
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&ch->pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (rc != 0) {
		close(po[0]);
		close(pe[0]);
		return -rc;
	}
	ch->out = po[0];
	ch->err = pe[0];
	return 0;
fail:
	if (po[0] >= 0) {
		close(po[0]);
		close(po[1]);
	}
	return -rc;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool drain(int *fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0) {
		buf_append(b, chunk, (size_t)n);
		explicit_bzero(chunk, (size_t)n);
		return true;
	}
	close(*fd);
	*fd = -1;
	return false;
}

static void collect(struct child *ch, long budget_ms, struct buf *out,
		    struct buf *err)
{
	long long until = mono_ms() + budget_ms;

	while (ch->out >= 0 || ch->err >= 0) {
		struct pollfd p[2] = { { ch->out, POLLIN, 0 },
				       { ch->err, POLLIN, 0 } };
		long left = (long)(until - mono_ms());

		if (left <= 0 || poll(p, 2, (int)left) == 0) {
			ch->timed_out = true;
			kill(ch->pid, SIGKILL);
			break;
		}
		if (ch->out >= 0 && p[0].revents)
			drain(&ch->out, out);
		if (ch->err >= 0 && p[1].revents)
			drain(&ch->err, err);
	}
	if (ch->out >= 0)
		close(ch->out);
	if (ch->err >= 0)
		close(ch->err);
	while (waitpid(ch->pid, &ch->status, 0) < 0 && errno == EINTR)
		;
}

static void first_error_line(const char *text, char *out, size_t size)
{
	const char *p = strstr(text, "ERROR:");
	size_t len;

	p = p ? p : text;
	while (*p == ' ' || *p == '\n')
		p++;
	len = strcspn(p, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	redact_tokens_inplace(out);
}

static enum outcome cli_result(struct az_auth *a, struct child *ch,
			       struct buf *out, struct buf *err,
			       struct got *g)
{
	char line[300];
	int code = WIFEXITED(ch->status) ? WEXITSTATUS(ch->status) : -1;

	if (ch->timed_out) {
		err_set(EXIT_FAILED, "azure-cli: `az account get-access-token` "
			"did not finish within %d seconds", CLI_TIMEOUT_MS / 1000);
		err_hint("check that `az account get-access-token` works in "
			 "this shell");
		return FAILED;
	}
	if (code == 127)
		return unavailable(a, AZ_CRED_CLI, FIX_CLI, "az is not on PATH");
	first_error_line(err->data ? err->data : "", line, sizeof(line));
	if (code != 0 && (strstr(line, "az login") || strstr(line, "no active")))
		return unavailable(a, AZ_CRED_CLI, FIX_CLI, "not signed in: %s",
				   line);
	if (code != 0) {
		err_set(EXIT_FAILED, "azure-cli: az account get-access-token "
			"failed (exit %d): %s", code, line);
		err_hint("run `az login` (again), or check `az account show`");
		return FAILED;
	}
	if (az_cli_parse(out->data ? out->data : "", &g->token,
			 &g->expires_on) < 0)
		return FAILED;
	return GOT_TOKEN;
}

static enum outcome try_cli(struct az_auth *a, const char *scope,
			    struct got *g)
{
	struct child ch = { .out = -1, .err = -1 };
	struct buf out, err = BUF_INIT;
	char *resource = scope_resource(scope);
	long budget = CLI_TIMEOUT_MS, left = http_client_remaining_ms(a->http);
	enum outcome o;
	int rc;

	if (!resource)
		return FAILED;
	rc = spawn_az(resource, &ch);
	free(resource);
	if (rc == -ENOENT)
		return unavailable(a, AZ_CRED_CLI, FIX_CLI, "az is not on PATH");
	if (rc < 0) {
		err_set(EXIT_FAILED, "azure-cli: cannot run az: %s",
			strerror(-rc));
		return FAILED;
	}
	if (left >= 0 && left < budget)
		budget = left;
	buf_init_secret(&out);
	collect(&ch, budget, &out, &err);
	o = cli_result(a, &ch, &out, &err, g);
	buf_free(&out);
	buf_free(&err);
	return o;
}

/* ---- the chain --------------------------------------------------------------- */

typedef enum outcome (*try_fn)(struct az_auth *, const char *, struct got *);

static const try_fn tries[AZ_CRED_N] = {
	try_env, try_cert, try_workload, try_managed, try_cli
};

static int all_unavailable(struct az_auth *a, const char *scope)
{
	struct buf msg = BUF_INIT, fix = BUF_INIT;
	int k;

	buf_printf(&msg, "no Azure credential could get a token for %s; "
		   "tried in order:", scope);
	buf_puts(&fix, "how to fix one of them:");
	for (k = 0; k < AZ_CRED_N; k++) {
		if (!(a->allowed & (1u << k)))
			continue;
		buf_printf(&msg, "\n    %-18s %s", names[k], a->why[k]);
		buf_printf(&fix, "\n    %-18s %s", names[k], a->fix[k]);
	}
	err_set(EXIT_FAILED, "%s", msg.data ? msg.data : "");
	err_hint("%s", fix.data ? fix.data : "");
	buf_free(&msg);
	buf_free(&fix);
	return -1;
}

static int run_one(struct az_auth *a, int k, const char *scope,
		   const char **token)
{
	struct got g = { 0 };
	struct cached *c;
	enum outcome o = tries[k](a, scope, &g);

	if (o != GOT_TOKEN)
		return o == UNAVAILABLE ? 1 : -1;
	c = cache_put(a, k, scope, &g);
	if (g.token) {
		explicit_bzero(g.token, strlen(g.token));
		free(g.token);
	}
	if (!c)
		return err_set(EXIT_FAILED, "out of memory");
	if (a->chosen != k)
		log_at(LOG_STEPS, "azure: using the %s credential", names[k]);
	a->chosen = k;
	*token = c->token;
	return 0;
}

int az_auth_token(struct az_auth *a, const char *scope, const char **token)
{
	struct cached *c;
	int k, rc;

	struct cached *stale = NULL;

	if (a->chosen >= 0 && (c = cache_find(a, a->chosen, scope, &stale))) {
		*token = c->token;
		return 0;
	}
	if (a->chosen >= 0) {
		rc = run_one(a, a->chosen, scope, token);
		if (rc != 0 && stale) {
			/* refresh failed: the old token is still good */
			log_warn("azure: cannot refresh the token for %s (%s); "
				 "using the current one until it expires",
				 scope, err_msg());
			err_clear();
			*token = stale->token;
			return 0;
		}
		return rc > 0 ? all_unavailable(a, scope) : rc;
	}
	for (k = 0; k < AZ_CRED_N; k++) {
		if (!(a->allowed & (1u << k)))
			continue;
		rc = run_one(a, k, scope, token);
		if (rc <= 0)
			return rc;
	}
	return all_unavailable(a, scope);
}
