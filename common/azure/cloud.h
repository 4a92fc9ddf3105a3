/*
 * cloud.h - Azure clouds and the rule of where tokens may go.
 *
 * A token for Key Vault or Resource Manager is sent only to:
 *   - a host under a Key Vault / Managed HSM / Resource Manager domain of
 *     one of Azure's clouds (public, China, US Government, Germany), and
 *     for Key Vault only when the resource named by its 401 challenge is
 *     that host's own domain;
 *   - a host listed in FLUXWI_TRUSTED_HOSTS ("host" or "host:port",
 *     comma-separated; a lab, a private endpoint alias).
 * Everything else (a look-alike vault host in a .sops.yaml or on the
 * command line) is refused before any request is made.
 *
 * Environment: AZURE_AUTHORITY_HOST (Entra authority, https only),
 * FLUXWI_TRUSTED_HOSTS, FLUXWI_ARM_ENDPOINT (Resource Manager base URL).
 */
#ifndef COMMON_AZURE_CLOUD_H
#define COMMON_AZURE_CLOUD_H

#include <stdbool.h>
#include <stddef.h>

struct az_cloud {
	const char *name;		/* "AzurePublicCloud" */
	const char *authority;		/* https://login.microsoftonline.com */
	const char *vault_suffix;	/* ".vault.azure.net" */
	const char *vault_resource;	/* https://vault.azure.net */
	const char *hsm_suffix;		/* ".managedhsm.azure.net" or NULL */
	const char *hsm_resource;
	const char *arm;		/* https://management.azure.com */
};

/* The cloud whose Key Vault or Managed HSM domain `host` is under (hsm
 * tells which), or NULL. */
const struct az_cloud *az_cloud_for_vault_host(const char *host, bool *hsm);

/* The cloud of AZURE_AUTHORITY_HOST (public when unset or unknown). */
const struct az_cloud *az_cloud_default(void);

/*
 * The Entra authority (scheme and host, no trailing slash) into out:
 * AZURE_AUTHORITY_HOST, else the public cloud's.  -1 with err_set() when
 * AZURE_AUTHORITY_HOST is not an https URL.
 */
int az_authority(char *out, size_t size);

/* True when host[:port] is listed in FLUXWI_TRUSTED_HOSTS (an entry
 * without a port matches any port). */
bool az_host_trusted(const char *host, int port);

/*
 * The token scope ("RESOURCE/.default") for a Key Vault URL before any
 * challenge: the cloud's vault resource for Azure hosts, the default
 * cloud's for trusted hosts.  -1 with err_set() (and a hint naming
 * FLUXWI_TRUSTED_HOSTS) for any other host: no token may go there.
 */
int az_vault_scope(const char *vault_url, char *scope, size_t size);

/* A parsed WWW-Authenticate Bearer challenge. */
struct az_challenge {
	char authorization[512];	/* authorization / authorization_uri */
	char tenant[128];		/* its first path segment */
	char scope[512];		/* scope, else resource + "/.default" */
};

/* Parses a header value.  -1 with err_set() when it is no Bearer
 * challenge with a resource or scope. */
int az_challenge_parse(const char *header, struct az_challenge *c);

/*
 * Checks that a token for the challenge's scope may be sent to
 * vault_url: its host ends with "." + the scope's host, or it is trusted.
 * -1 with err_set() otherwise.
 */
int az_challenge_check(const char *vault_url, const struct az_challenge *c);

/* Resource Manager: the base URL (FLUXWI_ARM_ENDPOINT or the default
 * cloud's, no trailing slash) and whether a token may go to it. */
int az_arm_endpoint(char *out, size_t size);
int az_arm_scope(const char *arm_url, char *scope, size_t size);

#endif
