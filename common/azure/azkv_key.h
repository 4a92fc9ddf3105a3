/*
 * azkv_key.h - the azure_kv master key of the SOPS engine (sops/keys.h).
 *
 * Metadata as sops writes it: vault_url, name, version (always concrete:
 * a version-less URL is resolved when wrapping), created_at, and enc = the
 * RSA-OAEP-256 ciphertext of the data key (or Shamir share) as unpadded
 * base64url.
 *
 * Wrapping (--key-wrap):
 *   local   with the key's public part (GET key, fetched once per run and
 *           cached under $XDG_CACHE_HOME/kubectl-sopsenc/azure-keys, public
 *           material only, refreshed after a day or when Key Vault rejects
 *           a ciphertext made with it);
 *   remote  with the Key Vault encrypt operation;
 *   auto    local, with remote as the fallback when the key cannot be read
 *           or used locally (the default).
 * Unwrapping always asks Key Vault (decrypt), many files concurrently
 * (at most 8 requests in flight), with one token and one connection.
 *
 * One run = one struct az_auth (--azure-auth), one http client, one Key
 * Vault client, created on first use and released by azkv_shutdown().
 */
#ifndef COMMON_AZURE_AZKV_KEY_H
#define COMMON_AZURE_AZKV_KEY_H

enum azkv_wrap { AZKV_WRAP_AUTO, AZKV_WRAP_LOCAL, AZKV_WRAP_REMOTE };

struct azkv_options {
	const char *azure_auth;		/* --azure-auth, NULL: the chain */
	long request_timeout_ms;	/* --request-timeout, 0: 30 s */
	const char *key_wrap;		/* "auto", "local", "remote"; NULL:
					 * auto */
};

/*
 * Registers the azure_kv key type with the SOPS engine (once; later calls
 * only update the options).  Strings in `o` are copied.  Returns 0, or -1
 * with err_set(EXIT_USAGE) for a bad --key-wrap or --azure-auth value.
 */
int azkv_register(const struct azkv_options *o);

/* Releases the run's clients and wipes cached tokens. */
void azkv_shutdown(void);

/* Key Vault requests sent so far in this run (for -v and tests). */
unsigned azkv_requests(void);

#endif
