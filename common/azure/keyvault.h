/*
 * keyvault.h - the Azure Key Vault keys client (data plane), on libcurl.
 *
 * Operations: get key (the latest version when the reference has none),
 * and encrypt, decrypt, wrapkey, unwrapkey with RSA-OAEP-256.  One
 * struct az_kv serves a whole run: one connection per vault (HTTP/2 where
 * offered, through the shared util/http client), one token per scope (from
 * struct az_auth), one challenge per vault.
 *
 * Tokens: before the first request the vault host must be a Key Vault or
 * Managed HSM host of an Azure cloud, or listed in FLUXWI_TRUSTED_HOSTS
 * (azure/cloud.h); a 401 challenge may then change the scope only to a
 * resource whose domain the vault host is under (or for a trusted host).
 *
 * Retries: 408, 429 (honouring Retry-After), 500, 502, 503, 504, resets
 * and timed-out attempts are retried with exponential backoff and jitter,
 * all within the operation's time budget (the request timeout given to
 * az_kv_new, and the http client's deadline).  401, 403, 404 are never
 * retried (except one fresh token after a 401 on a cached one).
 *
 * Errors name the vault, key and operation, and a remedy: Forbidden says
 * which permission is missing for which object ID and the access-policy
 * or RBAC command that grants it; key not found, key disabled, operation
 * not permitted by key_ops, firewall (with the client address Key Vault
 * saw), wrong audience or tenant.
 *
 * FLUXWI_KEYVAULT_API_VERSION overrides the api-version (default 7.4).
 */
#ifndef COMMON_AZURE_KEYVAULT_H
#define COMMON_AZURE_KEYVAULT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/err.h"

struct az_auth;
struct http_client;

/* A key reference: https://VAULT/keys/NAME[/VERSION]. */
struct az_kv_ref {
	char vault_url[300];		/* scheme + host[:port], no slash */
	char name[128];
	char version[80];		/* "" = latest */
};

/*
 * Parses a key URL (surrounding whitespace and a trailing '/' allowed).
 * Returns 0, or -1 with err_set(EXIT_USAGE) and the expected shape.
 */
int az_kv_parse_url(const char *url, struct az_kv_ref *ref);

/* "https://VAULT/keys/NAME[/VERSION]" into out. */
void az_kv_ref_string(const struct az_kv_ref *ref, char *out, size_t size);

enum az_kv_op { AZ_KV_ENCRYPT, AZ_KV_DECRYPT, AZ_KV_WRAP, AZ_KV_UNWRAP };

/* A key's public part and attributes. */
struct az_kv_key {
	char kid[512];			/* with version */
	char version[80];
	char kty[16];			/* RSA or RSA-HSM */
	EVP_PKEY *pkey;			/* public key (owned) */
	bool enabled;
	long long nbf, exp;		/* 0 when absent */
	unsigned ops;			/* bit (1 << enum az_kv_op) */
	bool from_cache;		/* loaded from the disk cache */
};

void az_kv_key_free(struct az_kv_key *k);

/*
 * Builds a key from a Key Vault key bundle ({"key": {...}, "attributes":
 * {...}}).  Returns 0 or -1 with err_set().  Exposed for tests.
 */
int az_kv_key_from_json(const char *json, struct az_kv_key *k);

/* 0 when the key may wrap locally now (RSA, enabled or not, within
 * nbf/exp, key_ops has encrypt or wrapKey); -1 with err_set() saying why
 * not. */
int az_kv_key_usable_locally(const struct az_kv_key *k);

struct az_kv;

/* `auth` and `http` are borrowed and must outlive the client.
 * `timeout_ms` bounds each operation including retries (0: 30 s). */
struct az_kv *az_kv_new(struct az_auth *auth, struct http_client *http,
			long timeout_ms);
void az_kv_free(struct az_kv *kv);

/* How many HTTP requests this client sent to Key Vault. */
unsigned az_kv_requests(const struct az_kv *kv);

/* GET key.  0 or -1 with err_set(). */
int az_kv_get_key(struct az_kv *kv, const struct az_kv_ref *ref,
		  struct az_kv_key *out);

/*
 * The key through the public-key cache under $XDG_CACHE_HOME (else
 * ~/.cache)/kubectl-sopsenc/azure-keys: public material only, keyed by
 * the versioned key ID, refreshed when older than a day.  A reference
 * without version always asks Key Vault (to learn the latest version),
 * then stores the answer.
 */
int az_kv_get_key_cached(struct az_kv *kv, const struct az_kv_ref *ref,
			 struct az_kv_key *out);

/* Removes a key from the disk cache (Key Vault rejected a ciphertext
 * made with it). */
void az_kv_cache_drop(const char *kid);

/*
 * One operation with RSA-OAEP-256: `in` (n bytes) becomes `out` (its
 * content replaced; mark it secret for decrypt/unwrap).  `kid_out` (may be
 * NULL) receives the versioned key ID Key Vault used.  0 or -1.
 */
int az_kv_crypt(struct az_kv *kv, const struct az_kv_ref *ref,
		enum az_kv_op op, const unsigned char *in, size_t n,
		struct buf *out, char *kid_out, size_t kid_size);

/* One job of a batch. */
struct az_kv_job {
	const struct az_kv_ref *ref;
	enum az_kv_op op;
	const unsigned char *in;
	size_t n;
	struct buf out;			/* result (init it; secret for
					 * decrypt) */
	int result;			/* 0 or -1 */
	struct err_record err;		/* when result is -1 */
};

/*
 * Runs jobs with at most `parallel` requests in flight (<= 8 used),
 * sharing tokens and connections; jobs that got a transient failure are
 * retried one by one within the budget.  Returns 0 when every job
 * succeeded, else -1 with the first failure's error set (each job's
 * result/err tell).
 */
int az_kv_crypt_many(struct az_kv *kv, struct az_kv_job *jobs, size_t n,
		     int parallel);

struct http_response;

/*
 * Records (err_set + err_hint) what a failed Key Vault answer means for
 * key `ref`: `op` is the enum az_kv_op or -1 for get key; `token` (may be
 * NULL) only lends its object ID, app ID and tenant to the message.
 * Returns -1.  Used by the client; exposed for tests.
 */
int az_kv_explain(const struct az_kv_ref *ref, int op,
		  const struct http_response *r, const char *token);

/* The operation's REST name ("encrypt", "unwrapkey"). */
const char *az_kv_op_name(enum az_kv_op op);

#endif
