#include "azure/keyvault.h"

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "azure/cloud.h"
#include "azure/credential.h"
#include "azure/jose.h"
#include "util/http.h"
#include "util/log.h"
#include "util/redact.h"

#define DEFAULT_API "7.4"
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_VAULTS 16

struct vault {
	char url[300];
	char scope[512];
	char tenant[128];		/* from the challenge, when seen */
};

struct az_kv {
	struct az_auth *auth;
	struct http_client *http;
	long timeout_ms;
	char api[40];
	struct vault vaults[MAX_VAULTS];
	size_t nvaults;
	unsigned requests;
};

static const char *const op_names[] = { "encrypt", "decrypt", "wrapkey",
					"unwrapkey" };
/* access-policy permission and RBAC data action per operation */
static const char *const op_perm[] = { "encrypt", "decrypt", "wrapKey",
				       "unwrapKey" };

const char *az_kv_op_name(enum az_kv_op op)
{
	return op_names[op];
}

/* ---- references ---------------------------------------------------------- */

static int bad_url(const char *url)
{
	err_set(EXIT_USAGE, "invalid Azure Key Vault key URL \"%s\"", url);
	return err_hint("use https://VAULT.vault.azure.net/keys/NAME[/VERSION]");
}

static bool segment_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return n > 0;
}

int az_kv_parse_url(const char *url, struct az_kv_ref *ref)
{
	char buf[600], *p, *keys, *name, *ver, *end;
	size_t n;

	memset(ref, 0, sizeof(*ref));
	while (isspace((unsigned char)*url))
		url++;
	n = strlcpy(buf, url, sizeof(buf));
	if (n >= sizeof(buf))
		return bad_url(url);
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (strncasecmp(buf, "https://", 8) != 0)
		return bad_url(buf);
	p = buf + 8;
	keys = strchr(p, '/');
	if (!keys || keys == p || strncmp(keys, "/keys/", 6) != 0)
		return bad_url(buf);
	name = keys + 6;
	ver = strchr(name, '/');
	end = ver ? strchr(ver + 1, '/') : NULL;
	if (end && end[1] != '\0')
		return bad_url(buf);
	if (end)
		*end = '\0';
	if (ver)
		*ver++ = '\0';
	if (!segment_ok(name, strlen(name)) ||
	    (ver && *ver && !segment_ok(ver, strlen(ver))) ||
	    (size_t)(keys - buf) >= sizeof(ref->vault_url) ||
	    strlen(name) >= sizeof(ref->name) ||
	    (ver && strlen(ver) >= sizeof(ref->version)))
		return bad_url(url);
	memcpy(ref->vault_url, buf, (size_t)(keys - buf));
	strlcpy(ref->name, name, sizeof(ref->name));
	if (ver)
		strlcpy(ref->version, ver, sizeof(ref->version));
	return 0;
}

void az_kv_ref_string(const struct az_kv_ref *ref, char *out, size_t size)
{
	snprintf(out, size, "%s/keys/%s%s%s", ref->vault_url, ref->name,
		 ref->version[0] ? "/" : "", ref->version);
}

/* ---- keys ------------------------------------------------------------------ */

void az_kv_key_free(struct az_kv_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

static unsigned ops_of(const cJSON *arr)
{
	const cJSON *o;
	unsigned bits = 0;
	int i;

	cJSON_ArrayForEach(o, arr) {
		for (i = 0; i < 4 && cJSON_IsString(o); i++)
			if (strcasecmp(o->valuestring, op_perm[i]) == 0)
				bits |= 1u << i;
	}
	return bits;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long jnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

int az_kv_key_from_json(const char *json, struct az_kv_key *k)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "attributes");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(at, "enabled");
	const char *kid = jstr(key, "kid"), *kty = jstr(key, "kty"), *slash;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (!kid || !kty) {
		err_set(EXIT_FAILED, "Key Vault's key answer has no key.kid or "
			"key.kty");
	} else if (strcmp(kty, "RSA") != 0 && strcmp(kty, "RSA-HSM") != 0) {
		err_set(EXIT_FAILED, "key %s is of type %s; SOPS needs an RSA "
			"key (RSA or RSA-HSM)", kid, kty);
	} else if ((k->pkey = az_rsa_from_jwk(jstr(key, "n"), jstr(key, "e")))) {
		strlcpy(k->kid, kid, sizeof(k->kid));
		strlcpy(k->kty, kty, sizeof(k->kty));
		slash = strrchr(kid, '/');
		strlcpy(k->version, slash ? slash + 1 : "", sizeof(k->version));
		k->enabled = !cJSON_IsFalse(en);
		k->nbf = jnum(at, "nbf");
		k->exp = jnum(at, "exp");
		k->ops = ops_of(cJSON_GetObjectItemCaseSensitive(key, "key_ops"));
		rc = 0;
	} else {
		err_prefix("key %s", kid);
	}
	cJSON_Delete(j);
	return rc;
}

int az_kv_key_usable_locally(const struct az_kv_key *k)
{
	long long now = (long long)time(NULL);

	if (k->nbf && now < k->nbf)
		return err_set(EXIT_FAILED, "key %s is not valid yet (nbf)",
			       k->kid);
	if (k->exp && now >= k->exp)
		return err_set(EXIT_FAILED, "key %s has expired (exp)", k->kid);
	if (!(k->ops & (1u << AZ_KV_ENCRYPT | 1u << AZ_KV_WRAP)))
		return err_set(EXIT_FAILED, "key %s does not allow encrypt "
			       "(key_ops)", k->kid);
	return 0;
}

/* ---- the client ---------------------------------------------------------------- */

struct az_kv *az_kv_new(struct az_auth *auth, struct http_client *http,
			long timeout_ms)
{
	struct az_kv *kv = calloc(1, sizeof(*kv));
	const char *api = getenv("FLUXWI_KEYVAULT_API_VERSION");

	if (!kv) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	kv->auth = auth;
	kv->http = http;
	kv->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	strlcpy(kv->api, api && *api ? api : DEFAULT_API, sizeof(kv->api));
	return kv;
}

void az_kv_free(struct az_kv *kv)
{
	free(kv);
}

unsigned az_kv_requests(const struct az_kv *kv)
{
	return kv->requests;
}

static struct vault *vault_of(struct az_kv *kv, const char *url)
{
	size_t i;
	struct vault *v;

	for (i = 0; i < kv->nvaults; i++)
		if (strcasecmp(kv->vaults[i].url, url) == 0)
			return &kv->vaults[i];
	if (kv->nvaults == MAX_VAULTS) {
		err_set(EXIT_USAGE, "more than %d Key Vaults in one run",
			MAX_VAULTS);
		return NULL;
	}
	v = &kv->vaults[kv->nvaults];
	memset(v, 0, sizeof(*v));
	strlcpy(v->url, url, sizeof(v->url));
	if (az_vault_scope(url, v->scope, sizeof(v->scope)) < 0)
		return NULL;
	kv->nvaults++;
	return v;
}

/* ---- one call -------------------------------------------------------------------- */

struct call {
	const struct az_kv_ref *ref;
	const char *what;		/* "decrypt", "get key" */
	enum az_kv_op op;
	bool is_op;
	char url[800];
	char *body;			/* JSON (secret for encrypt/wrap) */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
	       s == 504;
}

/* Transport failures worth another attempt: resets (and broken HTTP/2
 * streams) and attempts that timed out; not DNS, connect or TLS trust. */
static bool retryable_transport(const struct az_kv *kv)
{
	int code = http_client_last_code(kv->http);

	return http_code_is_reset(code) || http_code_is_timeout(code);
}

static long backoff(int attempt, long retry_after_s)
{
	long d = 1000;
	int i;

	if (retry_after_s >= 0)
		return retry_after_s * 1000;
	for (i = 1; i < attempt && d < 16000; i++)
		d *= 2;
	return d / 2 + (long)arc4random_uniform((uint32_t)(d / 2 + 1));
}

static long left_ms(struct az_kv *kv, long long until)
{
	long left = (long)(until - mono_ms());
	long c = http_client_remaining_ms(kv->http);

	if (c >= 0 && c < left)
		left = c;
	return left;
}

static void fill_request(struct http_request *req, const struct call *c,
			 const char *token)
{
	static const char *const headers[] = { "Accept: application/json",
					       NULL };

	memset(req, 0, sizeof(*req));
	req->method = c->body ? "POST" : "GET";
	req->url = c->url;
	req->headers = headers;
	req->bearer = token;
	req->content_type = c->body ? "application/json" : NULL;
	req->body = c->body;
	req->body_len = c->body ? strlen(c->body) : 0;
	req->secret_body = c->body != NULL;
	req->secret_response = c->is_op;
}

static int kv_error(struct az_kv *kv, const struct call *c,
		    const struct http_response *r, const char *token);

/* After a 401: follow the challenge (new scope) or refresh a rejected
 * token once.  Returns 1 to try again, 0 when the 401 stands, -1. */
static int on_401(struct az_kv *kv, struct vault *v,
		  const struct http_response *r, bool *refreshed)
{
	struct az_challenge ch;

	if (!r->www_authenticate)
		return 0;
	if (az_challenge_parse(r->www_authenticate, &ch) < 0 ||
	    az_challenge_check(v->url, &ch) < 0)
		return -1;
	strlcpy(v->tenant, ch.tenant, sizeof(v->tenant));
	if (strcmp(ch.scope, v->scope) != 0) {
		log_at(LOG_STEPS, "azure: %s asks for a token for %s", v->url,
		       ch.scope);
		strlcpy(v->scope, ch.scope, sizeof(v->scope));
		return 1;
	}
	if (*refreshed)
		return 0;
	*refreshed = true;
	az_auth_forget(kv->auth, v->scope);
	return 1;
}

static int kv_send(struct az_kv *kv, const struct call *c,
		   struct http_response *resp)
{
	struct vault *v = vault_of(kv, c->ref->vault_url);
	long long until = mono_ms() + kv->timeout_ms;
	bool refreshed = false;
	int attempt;

	if (!v)
		return -1;
	for (attempt = 1;; attempt++) {
		struct http_request req;
		const char *token;
		long left = left_ms(kv, until), wait;
		int rc;

		if (az_auth_token(kv->auth, v->scope, &token) < 0)
			return -1;
		fill_request(&req, c, token);
		req.timeout_ms = left > 4000 ? left / 2 : (left > 0 ? left : 1);
		kv->requests++;
		rc = http_do(kv->http, &req, resp);
		if (rc == 0 && resp->status == 401) {
			int again = on_401(kv, v, resp, &refreshed);

			if (again < 0)
				return -1;
			if (again)
				continue;
		}
		if (rc == 0 && !retryable_status(resp->status))
			return resp->status < 300 ? 0
						   : kv_error(kv, c, resp, token);
		if (rc < 0 && !retryable_transport(kv))
			return -1;
		wait = backoff(attempt, rc == 0 ? resp->retry_after_s : -1);
		left = left_ms(kv, until);
		if (wait >= left || attempt >= 12) {
			if (rc < 0)
				return err_prefix("Key Vault %s (gave up after "
						  "%d attempts)", c->what,
						  attempt);
			return kv_error(kv, c, resp, token);
		}
		log_at(LOG_HTTP, "azure: Key Vault %s: %s, retrying in %ld ms "
		       "(attempt %d)", c->what,
		       rc < 0 ? "no answer" : "busy", wait, attempt + 1);
		sleep_ms(wait);
	}
}

/* ---- error mapping ------------------------------------------------------------------ */

struct kv_err {
	char code[64];
	char inner[64];
	char message[700];
};

static void parse_kv_error(const struct http_response *r, struct kv_err *e)
{
	cJSON *j = r->body.data ? cJSON_Parse(r->body.data) : NULL;
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(er, "innererror");
	const char *s;
	char *p;

	memset(e, 0, sizeof(*e));
	if (!in)
		in = cJSON_GetObjectItemCaseSensitive(er, "innerError");
	if ((s = jstr(er, "code")))
		strlcpy(e->code, s, sizeof(e->code));
	if ((s = jstr(in, "code")))
		strlcpy(e->inner, s, sizeof(e->inner));
	if ((s = jstr(er, "message")))
		strlcpy(e->message, s, sizeof(e->message));
	cJSON_Delete(j);
	while ((p = strpbrk(e->message, "\r\n")))
		*p = ' ';
	redact_tokens_inplace(e->message);
}

/* Who the token names: oid and appid (claims, never the token). */
static void token_identity(const char *token, char *oid, char *appid,
			   char *tid, size_t size)
{
	cJSON *c = az_jwt_claims(token);
	const char *o = az_claim_str(c, "oid"), *a = az_claim_str(c, "appid");
	const char *t = az_claim_str(c, "tid");

	strlcpy(oid, o ? o : "OBJECT_ID", size);
	strlcpy(appid, a ? a : "?", size);
	strlcpy(tid, t ? t : "?", size);
	cJSON_Delete(c);
}

static void vault_name(const struct call *c, const struct kv_err *e,
		       char *out, size_t size)
{
	const char *p = strstr(e->message, "key vault '");
	char host[256];
	int port;

	if (p) {
		p += 11;
		snprintf(out, size, "%.*s", (int)strcspn(p, "';"), p);
		return;
	}
	if (http_url_host_port(c->ref->vault_url, host, sizeof(host), &port) <
		    0 || isdigit((unsigned char)host[0]) || !strchr(host, '.')) {
		err_clear();
		strlcpy(out, "VAULT", size);
		return;
	}
	snprintf(out, size, "%.*s", (int)strcspn(host, "."), host);
}

static const char *perm_for(const struct call *c, const struct kv_err *e)
{
	static const char *const texts[][2] = {
		{ "keys unwrap key", "unwrapKey" }, { "keys wrap key", "wrapKey" },
		{ "keys decrypt", "decrypt" }, { "keys encrypt", "encrypt" },
		{ "keys get", "get" }, { "/unwrap/", "unwrapKey" },
		{ "/wrap/", "wrapKey" }, { "/decrypt/", "decrypt" },
		{ "/encrypt/", "encrypt" }, { "keys/read", "get" },
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strstr(e->message, texts[i][0]))
			return texts[i][1];
	return c->is_op ? op_perm[c->op] : "get";
}

/* The value after `key` in Key Vault's "Caller: appid=..;oid=..;" text,
 * when the message names one (it is what the vault saw). */
static void from_message(const char *msg, const char *key, char *out,
			 size_t size)
{
	const char *p = strstr(msg, key);
	size_t n;

	while (p && p > msg && p[-1] != ';' && p[-1] != '\'' && p[-1] != ' ' &&
	       p[-1] != '=')
		p = strstr(p + 1, key);
	if (!p)
		return;
	p += strlen(key);
	n = strcspn(p, ";' ,");
	if (n > 0 && n < size) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

static int forbidden(const struct call *c, const struct kv_err *e,
		     const char *token, const char *netinfo)
{
	char oid[80], appid[80], tid[80], vault[128];
	const char *perm = perm_for(c, e);
	bool rbac = strcmp(e->inner, "ForbiddenByRbac") == 0 ||
		    strstr(e->message, "Assignment:") != NULL;

	token_identity(token, oid, appid, tid, sizeof(oid));
	from_message(e->message, "oid=", oid, sizeof(oid));
	from_message(e->message, "appid=", appid, sizeof(appid));
	vault_name(c, e, vault, sizeof(vault));
	if (strcmp(e->inner, "ForbiddenByFirewall") == 0 ||
	    strcasestr(e->message, "Client address")) {
		err_set(EXIT_FAILED, "Key Vault %s refused %s from this network "
			"(%s): %s", vault, c->what, netinfo, e->message);
		return err_hint("allow this address: az keyvault network-rule "
				"add --name %s --ip-address ADDRESS (or use a "
				"private endpoint)", vault);
	}
	if (rbac) {
		err_set(EXIT_FAILED, "Key Vault %s refused %s on key %s: the "
			"identity with object ID %s (appid %s) has no role with "
			"the key permission '%s' (RBAC); fix: az role assignment "
			"create --role \"Key Vault Crypto User\" "
			"--assignee-object-id %s --assignee-principal-type "
			"ServicePrincipal --scope VAULT_ID [%.300s]", vault,
			c->what, c->ref->name, oid, appid, perm, oid, e->message);
		return err_hint("VAULT_ID: az keyvault show --name %s --query id "
				"-o tsv; new role assignments take a few "
				"minutes to apply", vault);
	}
	err_set(EXIT_FAILED, "Key Vault %s refused %s on key %s: the identity "
		"with object ID %s (appid %s) lacks the key permission '%s' "
		"(access policy); fix: az keyvault set-policy --name %s "
		"--object-id %s --key-permissions %s", vault, c->what,
		c->ref->name, oid, appid, perm, vault, oid, perm);
	return err_hint("on a vault using Azure RBAC instead: az role "
			"assignment create --role \"Key Vault Crypto User\" "
			"--assignee-object-id %s --scope VAULT_ID", oid);
}

static int explain(const struct call *c, const struct http_response *r,
		   const char *token);

int az_kv_explain(const struct az_kv_ref *ref, int op,
		  const struct http_response *r, const char *token)
{
	struct call c;

	memset(&c, 0, sizeof(c));
	c.ref = ref;
	c.is_op = op >= 0;
	c.op = op >= 0 ? (enum az_kv_op)op : AZ_KV_ENCRYPT;
	c.what = op >= 0 ? op_names[op] : "get key";
	return explain(&c, r, token);
}

static int kv_error(struct az_kv *kv, const struct call *c,
		    const struct http_response *r, const char *token)
{
	(void)kv;
	return explain(c, r, token);
}

/* What the failure says about the key itself (403 KeyDisabled,
 * KeyOperationForbidden, 404); 1 when it is none of these. */
static int key_problem(const struct call *c, const struct kv_err *e,
		       long status, const char *key, const char *vault)
{
	const char *inner = e->inner[0] ? e->inner : e->code;

	if (status == 403 && strcmp(inner, "KeyDisabled") == 0) {
		err_set(EXIT_FAILED, "Key Vault %s of %s: the key version is "
			"disabled (enable it with az keyvault key set-attributes "
			"--enabled true)", c->what, key);
		return err_hint("enable it: az keyvault key set-attributes "
				"--vault-name %s --name %s --version %s "
				"--enabled true", vault, c->ref->name,
				c->ref->version[0] ? c->ref->version
						   : "VERSION");
	}
	if (status == 403 && strcmp(inner, "KeyOperationForbidden") == 0) {
		err_set(EXIT_FAILED, "Key Vault %s of %s: the key does not "
			"allow this operation (key_ops) [%s]", c->what, key,
			e->message);
		return err_hint("allow it: az keyvault key set-attributes "
				"--vault-name %s --name %s --ops encrypt decrypt",
				vault, c->ref->name);
	}
	if (status == 404) {
		err_set(EXIT_FAILED, "Key Vault %s: key %s not found (check "
			"the vault, key name and version)", c->what, key);
		return err_hint("check the vault, key name and version: az "
				"keyvault key list-versions --vault-name %s "
				"--name %s (a deleted key can be recovered with "
				"az keyvault key recover)", vault, c->ref->name);
	}
	return 1;
}

static int rejected_token(const struct call *c, const struct kv_err *e,
			  const char *key, const char *token)
{
	char oid[80], appid[80], tid[80];

	token_identity(token, oid, appid, tid, sizeof(oid));
	err_set(EXIT_FAILED, "Key Vault %s of %s: the token was rejected "
		"(HTTP 401): %s", c->what, key, e->message);
	if (strstr(e->message, "AKV10032"))
		return err_hint("the token is from tenant %s but the vault "
				"belongs to another tenant: set AZURE_TENANT_ID "
				"(or az login --tenant) to the vault's tenant",
				tid);
	return err_hint("the token was issued for another resource; check "
			"AZURE_AUTHORITY_HOST and the vault URL");
}

static int explain(const struct call *c, const struct http_response *r,
		   const char *token)
{
	struct kv_err e;
	char key[700], vault[128], netinfo[200] = "client address unknown";
	bool decrypting = c->is_op && (c->op == AZ_KV_DECRYPT ||
				       c->op == AZ_KV_UNWRAP);

	parse_kv_error(r, &e);
	az_kv_ref_string(c->ref, key, sizeof(key));
	vault_name(c, &e, vault, sizeof(vault));
	http_response_header(r, "x-ms-keyvault-network-info", netinfo,
			     sizeof(netinfo));
	if (key_problem(c, &e, r->status, key, vault) < 0)
		return -1;
	if (r->status == 403)
		return forbidden(c, &e, token, netinfo);
	if (r->status == 401)
		return rejected_token(c, &e, key, token);
	if (retryable_status(r->status)) {
		err_set(EXIT_FAILED, "Key Vault %s of %s: still HTTP %ld (%s) "
			"after retrying within the request timeout", c->what,
			key, r->status, e.code[0] ? e.code : "no code");
		return err_hint("Key Vault is busy or unavailable; try again "
				"later or raise --request-timeout");
	}
	err_set(EXIT_FAILED, "Key Vault %s of %s: HTTP %ld %s: %s", c->what,
		key, r->status, e.code, e.message);
	return err_hint("%s", r->status == 400 && decrypting
				      ? "the wrapped key does not belong to this "
					"key version (or is damaged)"
				      : "see the message from Key Vault");
}

/* ---- operations ---------------------------------------------------------------------- */

static void cache_store(const char *json);

static void key_url(struct call *c, const struct az_kv_ref *ref,
		    const char *suffix, const char *api)
{
	snprintf(c->url, sizeof(c->url), "%s/keys/%s%s%s%s?api-version=%s",
		 ref->vault_url, ref->name, ref->version[0] ? "/" : "",
		 ref->version, suffix, api);
}

/* GET key; with `store`, the answer also goes to the disk cache. */
static int fetch_key(struct az_kv *kv, const struct az_kv_ref *ref,
		     struct az_kv_key *out, bool store)
{
	struct call c = { 0 };
	struct http_response resp;
	int rc;

	c.ref = ref;
	c.what = "get key";
	key_url(&c, ref, "", kv->api);
	http_response_init(&resp);
	rc = kv_send(kv, &c, &resp);
	if (rc == 0)
		rc = az_kv_key_from_json(resp.body.data, out);
	if (rc == 0 && store)
		cache_store(resp.body.data);
	http_response_free(&resp);
	return rc;
}

int az_kv_get_key(struct az_kv *kv, const struct az_kv_ref *ref,
		  struct az_kv_key *out)
{
	return fetch_key(kv, ref, out, false);
}

static char *op_body(const unsigned char *in, size_t n)
{
	char *v = az_b64url_encode(in, n);
	struct buf b;

	if (!v)
		return NULL;
	buf_init_secret(&b);
	buf_printf(&b, "{\"alg\":\"RSA-OAEP-256\",\"value\":\"%s\"}", v);
	explicit_bzero(v, strlen(v));
	free(v);
	return buf_detach(&b, NULL);
}

static int op_prepare(struct az_kv *kv, struct call *c,
		      const struct az_kv_ref *ref, enum az_kv_op op,
		      const unsigned char *in, size_t n)
{
	char suffix[20];

	memset(c, 0, sizeof(*c));
	c->ref = ref;
	c->op = op;
	c->is_op = true;
	c->what = op_names[op];
	snprintf(suffix, sizeof(suffix), "/%s", op_names[op]);
	key_url(c, ref, suffix, kv->api);
	c->body = op_body(in, n);
	return c->body ? 0 : err_set(EXIT_FAILED, "out of memory");
}

static void op_release(struct call *c)
{
	if (c->body) {
		explicit_bzero(c->body, strlen(c->body));
		free(c->body);
		c->body = NULL;
	}
}

static int op_result(const struct call *c, const struct http_response *r,
		     struct buf *out, char *kid_out, size_t kid_size)
{
	cJSON *j = r->body.data ? cJSON_Parse(r->body.data) : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
	const char *kid = jstr(j, "kid");
	int rc = 0;

	buf_reset(out);
	if (!cJSON_IsString(v) ||
	    az_b64url_decode(v->valuestring, strlen(v->valuestring), out) < 0)
		rc = err_set(EXIT_FAILED, "Key Vault %s of key %s: the answer "
			     "has no valid value", c->what, c->ref->name);
	if (cJSON_IsString(v))
		explicit_bzero(v->valuestring, strlen(v->valuestring));
	if (rc == 0 && kid_out)
		strlcpy(kid_out, kid ? kid : "", kid_size);
	cJSON_Delete(j);
	return rc;
}

int az_kv_crypt(struct az_kv *kv, const struct az_kv_ref *ref,
		enum az_kv_op op, const unsigned char *in, size_t n,
		struct buf *out, char *kid_out, size_t kid_size)
{
	struct call c;
	struct http_response resp;
	int rc;

	if (op_prepare(kv, &c, ref, op, in, n) < 0)
		return -1;
	http_response_init(&resp);
	rc = kv_send(kv, &c, &resp);
	if (rc == 0)
		rc = op_result(&c, &resp, out, kid_out, kid_size);
	http_response_free(&resp);
	op_release(&c);
	return rc;
}

/* ---- batches ------------------------------------------------------------------------ */

struct batch {
	struct call *calls;
	struct http_request *reqs;
	struct http_response *resps;
};

static int batch_prepare(struct az_kv *kv, struct az_kv_job *jobs, size_t n,
			 struct batch *b)
{
	size_t i;

	b->calls = calloc(n, sizeof(*b->calls));
	b->reqs = calloc(n, sizeof(*b->reqs));
	b->resps = calloc(n, sizeof(*b->resps));
	if (!b->calls || !b->reqs || !b->resps)
		return err_set(EXIT_FAILED, "out of memory");
	for (i = 0; i < n; i++) {
		struct vault *v = vault_of(kv, jobs[i].ref->vault_url);
		const char *token;

		http_response_init(&b->resps[i]);
		if (!v || op_prepare(kv, &b->calls[i], jobs[i].ref, jobs[i].op,
				     jobs[i].in, jobs[i].n) < 0 ||
		    az_auth_token(kv->auth, v->scope, &token) < 0)
			return -1;
		fill_request(&b->reqs[i], &b->calls[i], token);
		/* leave time for the one-by-one retry of a slow answer */
		b->reqs[i].timeout_ms = kv->timeout_ms > 4000 ? kv->timeout_ms / 2
							     : kv->timeout_ms;
	}
	return 0;
}

static void batch_free(struct batch *b, size_t n)
{
	size_t i;

	for (i = 0; b->calls && i < n; i++)
		op_release(&b->calls[i]);
	for (i = 0; b->resps && i < n; i++)
		http_response_free(&b->resps[i]);
	free(b->calls);
	free(b->reqs);
	free(b->resps);
}

/* Settles job i from the batch answer; 1 when it needs the slow path. */
static int settle(struct az_kv *kv, struct az_kv_job *job,
		  const struct call *c, const struct http_request *q,
		  const struct http_response *r)
{
	if (r->result < 0 || r->status == 401 || retryable_status(r->status))
		return 1;
	if (r->status >= 300)
		job->result = kv_error(kv, c, r, q->bearer);
	else
		job->result = op_result(c, r, &job->out, NULL, 0);
	if (job->result < 0)
		err_save(&job->err);
	return 0;
}

int az_kv_crypt_many(struct az_kv *kv, struct az_kv_job *jobs, size_t n,
		     int parallel)
{
	struct batch b = { 0 };
	size_t i;
	int rc = 0, first = -1;

	if (parallel > 8)
		parallel = 8;
	if (batch_prepare(kv, jobs, n, &b) < 0) {
		batch_free(&b, n);
		return -1;
	}
	kv->requests += (unsigned)n;
	http_perform_many(kv->http, b.reqs, b.resps, n, parallel);
	for (i = 0; i < n; i++) {
		if (settle(kv, &jobs[i], &b.calls[i], &b.reqs[i],
			   &b.resps[i])) {
			jobs[i].result = az_kv_crypt(kv, jobs[i].ref, jobs[i].op,
						     jobs[i].in, jobs[i].n,
						     &jobs[i].out, NULL, 0);
			if (jobs[i].result < 0)
				err_save(&jobs[i].err);
		}
		if (jobs[i].result < 0 && first < 0)
			first = (int)i;
	}
	batch_free(&b, n);
	if (first >= 0) {
		err_restore(&jobs[first].err);
		rc = -1;
	}
	return rc;
}

/* ---- the public-key cache ------------------------------------------------------------ */

static int cache_path(const char *kid, char *out, size_t size, bool mkdirs)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char d[32];
	char dir[700], hex[65];
	unsigned len = 0;
	int i;

	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/kubectl-sopsenc/azure-keys", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.cache/kubectl-sopsenc/"
			 "azure-keys", home);
	else
		return -1;
	if (!EVP_Digest(kid, strlen(kid), d, &len, EVP_sha256(), NULL))
		return -1;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (mkdirs) {
		char *p;

		for (p = dir + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
		mkdir(dir, 0700);
	}
	snprintf(out, size, "%s/%s.json", dir, hex);
	return 0;
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 65536)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static int cache_load(const char *kid, struct az_kv_key *out)
{
	char path[800];
	char *text;
	cJSON *j;
	long long fetched;
	int rc = -1;

	if (cache_path(kid, path, sizeof(path), false) < 0 ||
	    !(text = read_small(path)))
		return -1;
	j = cJSON_Parse(text);
	fetched = jnum(j, "fetched");
	if (j && fetched > 0 && time(NULL) - fetched < 86400) {
		char *bundle = cJSON_PrintUnformatted(j);

		if (bundle && az_kv_key_from_json(bundle, out) == 0 &&
		    strcmp(out->kid, kid) == 0)
			rc = 0;
		else if (out->pkey)
			az_kv_key_free(out);
		free(bundle);
		err_clear();
	}
	cJSON_Delete(j);
	free(text);
	if (rc == 0) {
		out->from_cache = true;
		log_at(LOG_STEPS, "azure: public key %s from the cache", kid);
	}
	return rc;
}

/* Public material only: kid, kty, n, e, key_ops and the attributes. */
static void cache_store(const char *json)
{
	cJSON *j = cJSON_Parse(json), *out = cJSON_CreateObject();
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
	cJSON *k = cJSON_CreateObject();
	static const char *const keep[] = { "kid", "kty", "n", "e", "key_ops" };
	char path[800], tmp[820];
	char *text = NULL;
	size_t i;
	FILE *f;

	for (i = 0; k && key && i < 5; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(key, keep[i]);

		if (v)
			cJSON_AddItemToObject(k, keep[i], cJSON_Duplicate(v, 1));
	}
	if (!out || !k || !jstr(k, "kid") ||
	    cache_path(jstr(k, "kid"), path, sizeof(path), true) < 0)
		goto done;
	cJSON_AddItemToObject(out, "key", k);
	k = NULL;
	cJSON_AddItemToObject(out, "attributes", cJSON_Duplicate(
		cJSON_GetObjectItemCaseSensitive(j, "attributes"), 1));
	cJSON_AddNumberToObject(out, "fetched", (double)time(NULL));
	text = cJSON_Print(out);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (text && (f = fopen(tmp, "w"))) {
		bool ok = fputs(text, f) >= 0;

		if (fclose(f) == 0 && ok)
			rename(tmp, path);
		else
			unlink(tmp);
	}
done:
	cJSON_Delete(k);
	cJSON_Delete(out);
	cJSON_Delete(j);
	free(text);
}

void az_kv_cache_drop(const char *kid)
{
	char path[800];

	if (cache_path(kid, path, sizeof(path), false) == 0)
		unlink(path);
}

int az_kv_get_key_cached(struct az_kv *kv, const struct az_kv_ref *ref,
			 struct az_kv_key *out)
{
	char kid[700];

	az_kv_ref_string(ref, kid, sizeof(kid));
	if (ref->version[0] && cache_load(kid, out) == 0)
		return 0;
	return fetch_key(kv, ref, out, true);
}
