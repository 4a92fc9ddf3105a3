/*
 * wi.h - what the fluxwi subcommands share: the workload identity names,
 * the identity to wire (from flags or Azure Resource Manager), the cluster
 * connection and small JSON accessors.
 */
#ifndef PLUGINS_FLUXWI_WI_H
#define PLUGINS_FLUXWI_WI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "fluxwi.h"
#include "kube/client.h"

#define WI_CLIENT_ID "azure.workload.identity/client-id"
#define WI_TENANT_ID "azure.workload.identity/tenant-id"
#define WI_USE "azure.workload.identity/use"
#define WI_AUDIENCE "api://AzureADTokenExchange"
#define WI_RESTARTED_AT "kubectl.kubernetes.io/restartedAt"
#define WI_FIELD_MANAGER "fluxwi"
#define WI_WEBHOOK_NAME "mutation.azure-workload-identity.io"

/* The identity to wire: client and tenant IDs (tenant may be empty). */
struct wi_ids {
	char client_id[64];
	char tenant_id[64];
	char principal_id[64];		/* from --identity, else "" */
	char name[128];			/* from --identity, else "" */
	char resource_group[128];	/* from --identity, else "" */
};

/* True for a GUID in its 8-4-4-4-12 hex spelling. */
bool wi_is_guid(const char *s);

/*
 * The identity from --client-id/--tenant-id, or --identity (looked up
 * through Azure Resource Manager; flags given as well must agree).
 * `need_client`: a client ID is required.  0 or -1 with err_set().
 */
int wi_resolve_ids(const struct cli_ctx *ctx, const struct fluxwi_args *a,
		   bool need_client, struct wi_ids *out);

struct http_response;

/* GET {ARM endpoint}{path}?api-version=2023-01-31 with the Azure
 * credential (resp initialised by the caller).  0 when an answer came. */
int wi_arm_get(const struct cli_ctx *ctx, const char *path,
	       struct http_response *resp);

/* The name and resource group of an ARM resource ID (for messages and
 * commands); empty strings when the ID has another shape. */
void wi_split_identity(const char *id, struct wi_ids *out);

/* The merge patch `patch` (JSON) on the controller's ServiceAccount
 * (sa) or Deployment, as field manager fluxwi; NULL patch: nothing. */
int wi_merge_patch(struct kube_client *kc, const struct fluxwi_args *a,
		   bool sa, const cJSON *patch, bool dry_run);

/* obj.a.b... as a string (NULL when absent or not a string); the path is
 * a NULL-terminated list of member names. */
const char *wi_str(const cJSON *obj, ...);
/* obj.a.b... (any type) or NULL. */
const cJSON *wi_get(const cJSON *obj, ...);

/* The issuer from the API server's /.well-known/openid-configuration. */
int wi_issuer_from_discovery(struct kube_client *kc, char **issuer);

/* Discovery, else the iss claim of a TokenRequest token; *source says
 * which ("discovery", "token").  *issuer is a new string. */
int wi_find_issuer(struct kube_client *kc, const char *ns, const char *sa,
		   char **issuer, const char **source);

/* A TokenRequest token for ns/sa with the workload identity audience,
 * and its (unverified) claims.  Free the token with wi_token_free(). */
int wi_controller_token(struct kube_client *kc, const char *ns,
			const char *sa, char **token, cJSON **claims);
void wi_token_free(char *token);

/* The `az identity federated-credential create` command line (with
 * placeholders for what `id` lacks).  0, or -1 when it does not fit. */
int wi_fic_command(char *out, size_t size, const char *issuer,
		   const char *subject, const struct wi_ids *id,
		   const char *fic_name);

/* Human-readable progress of patch/unpatch: stdout, or stderr when -o
 * asks for a document on stdout. */
void wi_say_to(FILE *f);
void wi_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The -o value, or `def`. */
const char *wi_output(const struct cli_ctx *ctx, const char *def);

#endif
