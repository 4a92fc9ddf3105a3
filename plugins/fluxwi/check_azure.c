/*
 * check_azure.c - the Azure end of `kubectl fluxwi check`: the Entra token
 * exchange of a controller token (--exchange) and a Key Vault decrypt
 * with the resulting token (--key).
 *
 * The exchange is the client_credentials grant with the Kubernetes token
 * as a jwt-bearer client assertion, which is what the controller's
 * workload identity credential sends.  Tokens never reach the output.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/aadsts.h"
#include "azure/cloud.h"
#include "azure/jose.h"
#include "azure/keyvault.h"
#include "check.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"
#include "version.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define KV_API "7.4"

static struct http_client *new_http(void)
{
	char ua[160];

	snprintf(ua, sizeof(ua), "kubectl-fluxwi/v%s (linux) fluxwi/%s",
		 fwi_version(), fwi_commit());
	return http_client_new(ua, 30000);
}

static int form_add(struct buf *b, const char *k, const char *v)
{
	char *e = http_escape(v);
	int rc;

	if (!e)
		return -1;
	rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", k, e);
	explicit_bzero(e, strlen(e));
	free(e);
	return rc;
}

static int exchange_body(struct buf *b, const char *client_id,
			 const char *assertion, const char *scope)
{
	return form_add(b, "grant_type", "client_credentials") < 0 ||
	       form_add(b, "client_id", client_id) < 0 ||
	       form_add(b, "client_assertion_type", ASSERTION_TYPE) < 0 ||
	       form_add(b, "client_assertion", assertion) < 0 ||
	       form_add(b, "scope", scope) < 0 ? -1 : 0;
}

/* Keeps the access token and its oid; says who it is for. */
static void exchange_ok(struct wi_check *c, const struct http_response *r)
{
	cJSON *doc = cJSON_ParseWithLength(r->body.data, r->body.len);
	const char *tok = wi_str(doc, "access_token", NULL);
	cJSON *claims = tok ? az_jwt_claims(tok) : NULL;
	const char *oid = az_claim_str(claims, "oid");

	if (!tok) {
		wi_link_add(c, "exchange", WI_FAIL, "report this answer of "
			    "Microsoft Entra ID", "Entra answered 200 without "
			    "an access_token");
	} else {
		c->access_token = strdup(tok);
		snprintf(c->token_oid, sizeof(c->token_oid), "%s",
			 oid ? oid : "");
		wi_link_add(c, "exchange", WI_PASS, "", "Entra ID issued a "
			    "token to client %s (object ID %s)", c->client_id,
			    oid ? oid : "?");
	}
	cJSON_Delete(claims);
	if (tok)
		explicit_bzero(cJSON_GetObjectItemCaseSensitive(
				       doc, "access_token")->valuestring,
			       strlen(tok));
	cJSON_Delete(doc);
}

static void exchange_failed(struct wi_check *c, const struct http_response *r,
			    const cJSON *claims)
{
	char who[160];

	snprintf(who, sizeof(who), "workload identity (client id %s)",
		 c->client_id);
	az_entra_error(who, r->status, r->body.data ? r->body.data : "",
		       claims);
	wi_link_add(c, "exchange", WI_FAIL, err_remedy()[0] ? err_remedy() :
		    "compare the federated credential with kubectl fluxwi "
		    "issuer", "%s", err_msg());
	err_clear();
}

static int post_exchange(struct wi_check *c, const char *assertion,
			 const cJSON *claims, const char *scope)
{
	char authority[300], url[600];
	struct http_client *http = NULL;
	struct http_response resp;
	struct http_request req;
	struct buf body;
	int rc = -1;

	buf_init_secret(&body);
	http_response_init(&resp);
	if (az_authority(authority, sizeof(authority)) < 0 ||
	    exchange_body(&body, c->client_id, assertion, scope) < 0 ||
	    !(http = new_http()))
		goto out;
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", authority,
		 c->tenant_id);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = body.data;
	req.body_len = body.len;
	req.secret_body = true;
	req.secret_response = true;
	if (http_do(http, &req, &resp) < 0)
		goto out;
	if (resp.status == 200)
		exchange_ok(c, &resp);
	else
		exchange_failed(c, &resp, claims);
	rc = 0;
out:
	http_response_free(&resp);
	http_client_free(http);
	buf_free(&body);
	return rc;
}

void wi_check_exchange(struct wi_check *c, struct kube_client *kc,
		       const char *ns, const char *sa, const char *scope)
{
	char *token = NULL;
	cJSON *claims = NULL;

	if (!c->client_id[0] || !c->tenant_id[0]) {
		wi_link_add(c, "exchange", WI_FAIL, "annotate the "
			    "ServiceAccount: kubectl fluxwi patch --client-id "
			    "ID --tenant-id ID", "no %s to exchange with: the "
			    "controller has no AZURE_%s_ID",
			    c->client_id[0] ? "tenant ID" : "client ID",
			    c->client_id[0] ? "TENANT" : "CLIENT");
		return;
	}
	if (wi_controller_token(kc, ns, sa, &token, &claims) < 0) {
		wi_link_add(c, "exchange", WI_FAIL, err_remedy()[0] ?
			    err_remedy() : "allow create on "
			    "serviceaccounts/token", "%s", err_msg());
		err_clear();
		return;
	}
	log_at(LOG_STEPS, "exchanging a token with iss %s, sub %s",
	       az_claim_str(claims, "iss") ? az_claim_str(claims, "iss") : "?",
	       az_claim_str(claims, "sub") ? az_claim_str(claims, "sub") : "?");
	if (post_exchange(c, token, claims, scope) < 0) {
		wi_link_add(c, "exchange", WI_FAIL, err_remedy()[0] ?
			    err_remedy() : "check AZURE_AUTHORITY_HOST and "
			    "the network", "%s", err_msg());
		err_clear();
	}
	wi_token_free(token);
	cJSON_Delete(claims);
}

int wi_key_scope(const char *key_url, char *scope, size_t size)
{
	struct az_kv_ref ref;

	if (az_kv_parse_url(key_url, &ref) < 0)
		return -1;
	return az_vault_scope(ref.vault_url, scope, size);
}

/* The vault's name for commands: the first label of an Azure host. */
static void vault_name(const char *vault_url, char *out, size_t size)
{
	const char *h = strstr(vault_url, "://");
	size_t n;

	h = h ? h + 3 : vault_url;
	n = strcspn(h, ".:/");
	if (strchr(h, '.') && strstr(h, ".vault.") && n < size)
		snprintf(out, size, "%.*s", (int)n, h);
	else
		snprintf(out, size, "<VAULT_NAME>");
}

static void kv_failed(struct wi_check *c, const char *what,
		      const struct az_kv_ref *ref,
		      const struct http_response *r)
{
	cJSON *doc = cJSON_ParseWithLength(r->body.data ? r->body.data : "",
					   r->body.len);
	const char *code = wi_str(doc, "error", "code", NULL);
	const char *inner = wi_str(doc, "error", "innererror", "code", NULL);
	const char *msg = wi_str(doc, "error", "message", NULL);
	char name[128], remedy[1024];

	vault_name(ref->vault_url, name, sizeof(name));
	if (inner && strcmp(inner, "ForbiddenByRbac") == 0)
		snprintf(remedy, sizeof(remedy), "az role assignment create "
			 "--role \"Key Vault Crypto User\" --assignee-object-id "
			 "%s --assignee-principal-type ServicePrincipal --scope "
			 "$(az keyvault show -n %s --query id -o tsv)",
			 c->token_oid[0] ? c->token_oid : "<OBJECT_ID>", name);
	else if (r->status == 403)
		snprintf(remedy, sizeof(remedy), "az keyvault set-policy "
			 "--name %s --object-id %s --key-permissions get "
			 "decrypt", name,
			 c->token_oid[0] ? c->token_oid : "<OBJECT_ID>");
	else if (r->status == 404)
		snprintf(remedy, sizeof(remedy), "check the key URL (az "
			 "keyvault key show --id URL)");
	else
		snprintf(remedy, sizeof(remedy), "see Key Vault's message");
	wi_link_add(c, "key", WI_FAIL, remedy, "%s %s/keys/%s: HTTP %ld %s%s%s",
		    what, ref->vault_url, ref->name, r->status,
		    inner ? inner : code ? code : "", msg ? ": " : "",
		    msg ? msg : "");
	cJSON_Delete(doc);
}

static int kv_call(struct http_client *http, const char *token,
		   const char *url, const char *body, struct http_response *r)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.url = url;
	req.bearer = token;
	if (body) {
		req.method = "POST";
		req.content_type = "application/json";
		req.body = body;
		req.body_len = strlen(body);
	}
	req.secret_response = body != NULL;
	return http_do(http, &req, r);
}

/* GET key: its public part. */
static int get_key(struct wi_check *c, struct http_client *http,
		   struct az_kv_ref *ref, struct az_kv_key *key)
{
	char url[800];
	struct http_response r;
	int rc = -1;

	http_response_init(&r);
	snprintf(url, sizeof(url), "%s/keys/%s%s%s?api-version=" KV_API,
		 ref->vault_url, ref->name, ref->version[0] ? "/" : "",
		 ref->version);
	if (kv_call(http, c->access_token, url, NULL, &r) < 0) {
		wi_link_add(c, "key", WI_FAIL, "check the vault URL and the "
			    "network", "%s", err_msg());
		err_clear();
	} else if (r.status != 200) {
		kv_failed(c, "get", ref, &r);
	} else if (az_kv_key_from_json(r.body.data, key) < 0) {
		wi_link_add(c, "key", WI_FAIL, "use an RSA key", "%s",
			    err_msg());
		err_clear();
	} else {
		snprintf(ref->version, sizeof(ref->version), "%s",
			 key->version);
		rc = 0;
	}
	http_response_free(&r);
	return rc;
}

static int decrypt_body(struct buf *b, const unsigned char *probe, size_t n,
			EVP_PKEY *pk)
{
	struct buf ct = BUF_INIT;
	char *v;
	int rc = -1;

	if (az_rsa_oaep256_encrypt(pk, probe, n, &ct) == 0 &&
	    (v = az_b64url_encode(ct.data, ct.len)) != NULL) {
		rc = buf_printf(b, "{\"alg\":\"RSA-OAEP-256\",\"value\":"
				"\"%s\"}", v);
		free(v);
	}
	buf_free(&ct);
	return rc;
}

/* Key Vault's plaintext equals the probe. */
static bool same_probe(const struct http_response *r,
		       const unsigned char *probe, size_t n)
{
	cJSON *doc = cJSON_ParseWithLength(r->body.data, r->body.len);
	const char *v = wi_str(doc, "value", NULL);
	struct buf pt;
	bool same = false;

	buf_init_secret(&pt);
	if (v && az_b64url_decode(v, strlen(v), &pt) == 0)
		same = pt.len == n && memcmp(pt.data, probe, n) == 0;
	buf_free(&pt);
	if (v)
		explicit_bzero(cJSON_GetObjectItemCaseSensitive(doc, "value")
				       ->valuestring, strlen(v));
	cJSON_Delete(doc);
	return same;
}

static void decrypt_probe(struct wi_check *c, struct http_client *http,
			  const struct az_kv_ref *ref,
			  const struct az_kv_key *key)
{
	unsigned char probe[32];
	char url[800];
	struct http_response r;
	struct buf body = BUF_INIT;

	http_response_init(&r);
	if (RAND_bytes(probe, sizeof(probe)) != 1 ||
	    decrypt_body(&body, probe, sizeof(probe), key->pkey) < 0) {
		wi_link_add(c, "key", WI_FAIL, "", "could not encrypt the "
			    "probe: %s", err_msg());
		goto out;
	}
	snprintf(url, sizeof(url), "%s/keys/%s/%s/decrypt?api-version=" KV_API,
		 ref->vault_url, ref->name, ref->version);
	if (kv_call(http, c->access_token, url, body.data, &r) < 0) {
		wi_link_add(c, "key", WI_FAIL, "check the vault URL and the "
			    "network", "%s", err_msg());
	} else if (r.status != 200) {
		kv_failed(c, "decrypt with", ref, &r);
	} else if (!same_probe(&r, probe, sizeof(probe))) {
		wi_link_add(c, "key", WI_FAIL, "report this: Key Vault "
			    "returned another plaintext", "decrypt with %s "
			    "returned a different value", key->kid);
	} else {
		wi_link_add(c, "key", WI_PASS, "", "the identity decrypted a "
			    "probe encrypted with %s", key->kid);
	}
out:
	err_clear();
	explicit_bzero(probe, sizeof(probe));
	http_response_free(&r);
	buf_free(&body);
}

void wi_check_key(struct wi_check *c, const char *key_url)
{
	struct az_kv_ref ref;
	struct az_kv_key key;
	struct http_client *http;

	if (!c->access_token) {
		wi_link_add(c, "key", WI_WARN, "fix the exchange first",
			    "not tried: the exchange gave no token");
		return;
	}
	if (az_kv_parse_url(key_url, &ref) < 0) {
		wi_link_add(c, "key", WI_FAIL, err_remedy(), "%s", err_msg());
		err_clear();
		return;
	}
	memset(&key, 0, sizeof(key));
	http = new_http();
	if (!http)
		return;
	if (get_key(c, http, &ref, &key) == 0)
		decrypt_probe(c, http, &ref, &key);
	az_kv_key_free(&key);
	http_client_free(http);
}
