/*
 * check_azure.c - the Azure end of `kubectl fluxwi check`: the Entra token
 * exchange of a controller token (--exchange) and a Key Vault decrypt
 * with the resulting token (--key).
 *
 * The exchange is the workload identity credential of common/azure fed
 * with a TokenRequest token for the controller's ServiceAccount, which is
 * what the controller does with its projected token; the decrypt goes
 * through the common Key Vault client with that credential.  Tokens never
 * reach the output.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/cloud.h"
#include "azure/jose.h"
#include "azure/keyvault.h"
#include "check.h"
#include "cli/cluster.h"
#include "util/err.h"
#include "util/log.h"

/* The error just recorded, as a FAIL link. */
static void failed(struct wi_check *c, const char *name, const char *remedy)
{
	wi_link_add(c, name, WI_FAIL, err_remedy()[0] ? err_remedy() : remedy,
		    "%s", err_msg());
	err_clear();
}

static int open_http(struct wi_check *c)
{
	char ua[160];

	if (c->http)
		return 0;
	cli_user_agent(c->ctx->prog, ua, sizeof(ua));
	c->http = http_client_new(ua, cli_request_timeout_ms(&c->ctx->g));
	return c->http ? 0 : -1;
}

/* Exchanges `assertion`; on success keeps the credential for --key. */
static void exchange(struct wi_check *c, const char *assertion,
		     const char *scope)
{
	struct az_auth *auth;
	const char *token;
	cJSON *claims;
	const char *oid;

	if (open_http(c) < 0 ||
	    !(auth = az_auth_new_assertion(c->http, c->tenant_id,
					   c->client_id, assertion))) {
		failed(c, "exchange", "");
		return;
	}
	if (az_auth_token(auth, scope, &token) < 0) {
		failed(c, "exchange", "compare the federated credential with "
		       "kubectl fluxwi issuer");
		az_auth_free(auth);
		return;
	}
	claims = az_jwt_claims(token);
	oid = az_claim_str(claims, "oid");
	snprintf(c->token_oid, sizeof(c->token_oid), "%s", oid ? oid : "");
	wi_link_add(c, "exchange", WI_PASS, NULL, "Entra ID issued a token to "
		    "client %s (object ID %s)", c->client_id, oid ? oid : "?");
	cJSON_Delete(claims);
	c->auth = auth;
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
		failed(c, "exchange", "allow create on serviceaccounts/token");
		return;
	}
	log_at(LOG_STEPS, "exchanging a token with iss %s, sub %s",
	       az_claim_str(claims, "iss") ? az_claim_str(claims, "iss") : "?",
	       az_claim_str(claims, "sub") ? az_claim_str(claims, "sub") : "?");
	exchange(c, token, scope);
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

/* Encrypts a random probe locally and has Key Vault decrypt it. */
static void decrypt_probe(struct wi_check *c, struct az_kv *kv,
			  struct az_kv_ref *ref, const struct az_kv_key *key)
{
	unsigned char probe[32];
	struct buf ct = BUF_INIT, pt;

	buf_init_secret(&pt);
	snprintf(ref->version, sizeof(ref->version), "%s", key->version);
	if (RAND_bytes(probe, sizeof(probe)) != 1 ||
	    az_rsa_oaep256_encrypt(key->pkey, probe, sizeof(probe), &ct) < 0) {
		failed(c, "key", "");
	} else if (az_kv_crypt(kv, ref, AZ_KV_DECRYPT,
			       (const unsigned char *)ct.data, ct.len, &pt,
			       NULL, 0) < 0) {
		failed(c, "key", "give the identity decrypt on the key");
	} else if (pt.len != sizeof(probe) ||
		   memcmp(pt.data, probe, sizeof(probe)) != 0) {
		wi_link_add(c, "key", WI_FAIL, "report this: Key Vault "
			    "returned another plaintext", "decrypt with %s "
			    "returned a different value", key->kid);
	} else {
		wi_link_add(c, "key", WI_PASS, NULL, "the identity decrypted a "
			    "probe encrypted with %s", key->kid);
	}
	explicit_bzero(probe, sizeof(probe));
	buf_free(&pt);
	buf_free(&ct);
}

void wi_check_key(struct wi_check *c, const char *key_url)
{
	struct az_kv_ref ref;
	struct az_kv_key key;
	struct az_kv *kv;

	if (!c->auth) {
		wi_link_add(c, "key", WI_WARN, "fix the exchange first",
			    "not tried: the exchange gave no token");
		return;
	}
	if (az_kv_parse_url(key_url, &ref) < 0) {
		failed(c, "key", "");
		return;
	}
	kv = az_kv_new(c->auth, c->http, cli_request_timeout_ms(&c->ctx->g));
	if (!kv) {
		failed(c, "key", "");
		return;
	}
	memset(&key, 0, sizeof(key));
	if (az_kv_get_key(kv, &ref, &key) < 0)
		failed(c, "key", "give the identity get on the key");
	else
		decrypt_probe(c, kv, &ref, &key);
	az_kv_key_free(&key);
	az_kv_free(kv);
}

void wi_check_release(struct wi_check *c)
{
	az_auth_free(c->auth);
	c->auth = NULL;
	http_client_free(c->http);
	c->http = NULL;
}
