/*
 * jose.h - the small pieces of JOSE the Azure code needs, on OpenSSL:
 * base64url, reading (unverified) JWT claims, RSA public keys from JWK
 * members, RSA-OAEP-256 encryption with a public key, and the signed
 * client assertion of the certificate credential.
 *
 * Ownership: returned strings and cJSON trees belong to the caller.
 * Secrets (assertions, private keys, plaintexts) are wiped before their
 * memory is released.
 */
#ifndef COMMON_AZURE_JOSE_H
#define COMMON_AZURE_JOSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/buf.h"

/* Unpadded base64url of n bytes, or NULL with err_set() (out of memory). */
char *az_b64url_encode(const void *in, size_t n);

/*
 * Decodes base64url, tolerating '=' padding, the standard alphabet and
 * surrounding whitespace (Key Vault and JWK values), appending the bytes
 * to `out`.  Returns 0, or -1 (no error recorded: callers word it).
 */
int az_b64url_decode(const char *in, size_t n, struct buf *out);

/* The payload of a JWT as JSON, without verifying anything; NULL when the
 * text is no JWT (no error recorded). */
cJSON *az_jwt_claims(const char *jwt);

/* A string claim (NULL when absent) and a numeric one (0 when absent). */
const char *az_claim_str(const cJSON *claims, const char *name);
long long az_claim_num(const cJSON *claims, const char *name);

/* An RSA public key from the base64url JWK members n and e.  NULL with
 * err_set() when they do not make a key. */
EVP_PKEY *az_rsa_from_jwk(const char *n, const char *e);

/* Modulus size in bytes. */
size_t az_rsa_size(const EVP_PKEY *pk);

/*
 * RSAES-OAEP with SHA-256, MGF1-SHA-256 and an empty label (Key Vault's
 * RSA-OAEP-256).  The ciphertext (modulus size) replaces out's content.
 * Returns 0 or -1 with err_set().
 */
int az_rsa_oaep256_encrypt(EVP_PKEY *pk, const unsigned char *in, size_t n,
			   struct buf *out);

/* A client certificate: the key, the certificate matching it and the
 * rest of the chain. */
struct az_cert {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;		/* other certificates; may be NULL */
};

/*
 * Loads a PEM file (CERTIFICATE blocks plus an unencrypted PRIVATE KEY or
 * RSA PRIVATE KEY) or a PKCS#12 file (with `password`, may be NULL).
 * Returns 0 or -1 with err_set() naming the file and the problem.
 */
int az_cert_load(const char *path, const char *password, struct az_cert *c);
void az_cert_free(struct az_cert *c);

/*
 * The RFC 7523 client assertion for Entra ID: header alg PS256, typ JWT,
 * x5t#S256 and x5t (thumbprints of the certificate), x5c when
 * `send_chain`; claims aud (the token URL), iss = sub = client id, a
 * random jti, nbf = iat = now, exp = now + 10 minutes.  Returns the JWT
 * (a secret: wipe and free it) or NULL with err_set().
 */
char *az_client_assertion(const struct az_cert *c, const char *client_id,
			  const char *token_url, bool send_chain);

/* A random UUID (version 4) into out (37 bytes). */
void az_uuid(char out[37]);

#endif
