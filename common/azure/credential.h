/*
 * credential.h - Azure credentials: the chain, the forced one, the cache.
 *
 * Order (cli.md, "Shared behaviour"), each with the variables it reads:
 *   env               AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
 *   certificate       AZURE_TENANT_ID + AZURE_CLIENT_ID +
 *                     AZURE_CLIENT_CERTIFICATE_PATH (PEM or PKCS#12),
 *                     AZURE_CLIENT_CERTIFICATE_PASSWORD,
 *                     AZURE_CLIENT_SEND_CERTIFICATE_CHAIN (1/true: x5c)
 *   workload-identity AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID +
 *                     AZURE_TENANT_ID (the file is read for every request)
 *   managed-identity  IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service
 *                     shape), else IMDS at AZURE_POD_IDENTITY_AUTHORITY_HOST
 *                     (default http://169.254.169.254, the variable the
 *                     Azure SDKs honour); AZURE_CLIENT_ID selects a
 *                     user-assigned identity
 *   azure-cli         `az account get-access-token -o json --resource R`
 *                     from PATH, 10 s at most
 * AZURE_AUTHORITY_HOST names the Entra authority.  AZURE_TOKEN_CREDENTIALS
 * (dev, prod, or one name above) narrows the chain when no credential is
 * forced.
 *
 * The chain moves on only when a credential is unavailable (its variables
 * are absent, no managed identity endpoint answers, no `az`, `az` not
 * logged in); a credential that is configured but refused stops the chain
 * with its own error.  After a success the chain sticks to that
 * credential.  When nothing is available, the error lists what each
 * credential said and how to fix it.  At -v 2 the credential used is
 * logged (never a token).
 *
 * Tokens are cached in memory per scope until five minutes before they
 * expire.
 */
#ifndef COMMON_AZURE_CREDENTIAL_H
#define COMMON_AZURE_CREDENTIAL_H

#include <time.h>

struct http_client;

enum az_cred {
	AZ_CRED_ENV,
	AZ_CRED_CERT,
	AZ_CRED_WORKLOAD,
	AZ_CRED_MANAGED,
	AZ_CRED_CLI,
	AZ_CRED_N
};

/* "env", "certificate", "workload-identity", "managed-identity",
 * "azure-cli". */
const char *az_cred_name(enum az_cred k);

/* The credential of a --azure-auth name (the SDK type names such as
 * AzureCLICredential are accepted too), or -1 with err_set(EXIT_USAGE). */
int az_cred_parse(const char *name);

struct az_auth;

/*
 * A credential source using `http` (borrowed; it must outlive the
 * source).  `forced` is a --azure-auth name or NULL for the chain.
 * Returns NULL with err_set() on a bad name.
 */
struct az_auth *az_auth_new(struct http_client *http, const char *forced);
void az_auth_free(struct az_auth *a);

/*
 * The workload-identity credential with a given assertion (a Kubernetes
 * service account token, e.g. from TokenRequest) instead of
 * AZURE_FEDERATED_TOKEN_FILE: client_credentials with a jwt-bearer
 * client_assertion at AZURE_AUTHORITY_HOST/tenant, as Flux's controller
 * does.  Strings are copied (the assertion is wiped on free).  Errors of
 * the exchange name the assertion's issuer and subject.
 */
struct az_auth *az_auth_new_assertion(struct http_client *http,
				      const char *tenant, const char *client_id,
				      const char *assertion);

/*
 * A bearer token for `scope` ("https://vault.azure.net/.default").  The
 * string stays owned by `a` and valid until az_auth_forget() or
 * az_auth_free().  Returns 0, or -1 with err_set(): EXIT_FAILED, with the
 * credential's error, or the list of every credential's reason.
 */
int az_auth_token(struct az_auth *a, const char *scope, const char **token);

/* Drops the cached token for a scope (a server rejected it). */
void az_auth_forget(struct az_auth *a, const char *scope);

/* The credential that produced tokens so far, or NULL. */
const char *az_auth_used(const struct az_auth *a);

/*
 * Parses `az account get-access-token` output: the token (newly
 * allocated, a secret) and its expiry, from expires_on (POSIX seconds)
 * or else expiresOn (local time, "YYYY-MM-DD hh:mm:ss[.ffffff]").
 * Returns 0 or -1 with err_set().  Exposed for tests.
 */
int az_cli_parse(const char *json, char **token, time_t *expires_on);

/*
 * Parses an expiry as managed identity endpoints write it: POSIX seconds
 * as a number or string, or "MM/DD/YYYY hh:mm:ss AM|PM +00:00".  Returns
 * 0 when it is none of these.  Exposed for tests.
 */
time_t az_parse_expires_on(const char *s);

#endif
