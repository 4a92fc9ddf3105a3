/* check.h - the links `kubectl fluxwi check` walks, and their results. */
#ifndef PLUGINS_FLUXWI_CHECK_H
#define PLUGINS_FLUXWI_CHECK_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "azure/credential.h"
#include "kube/client.h"
#include "util/http.h"
#include "wi.h"

enum wi_status { WI_PASS, WI_WARN, WI_FAIL };

struct wi_link {
	const char *name;		/* "serviceaccount" */
	enum wi_status status;
	char detail[1024];
	char remedy[1024];		/* "" for PASS */
};

#define WI_MAX_LINKS 16

struct wi_check {
	struct wi_link links[WI_MAX_LINKS];
	size_t n;
	/* what later links need */
	char issuer[1024];
	char client_id[64], tenant_id[64];	/* as the controller uses them */
	const struct cli_ctx *ctx;
	struct http_client *http;		/* for Entra and Key Vault */
	struct az_auth *auth;			/* the controller's identity,
						 * once the exchange worked */
	char token_oid[64];
};

/* Releases what the Azure links opened. */
void wi_check_release(struct wi_check *c);

/* Appends a link; detail and remedy are printf formats. */
struct wi_link *wi_link_add(struct wi_check *c, const char *name,
			    enum wi_status st, const char *remedy,
			    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The Entra exchange of a TokenRequest token for the controller's
 * ServiceAccount, as the controller's workload identity credential does
 * it.  `scope`: the token's scope.  Adds the "exchange" link. */
void wi_check_exchange(struct wi_check *c, struct kube_client *kc,
		       const char *ns, const char *sa, const char *scope);

/* Encrypts a random probe with the key's public part and has Key Vault
 * decrypt it with the exchanged token.  Adds the "key" link. */
void wi_check_key(struct wi_check *c, const char *key_url);

/* The Kustomizations: SOPS decryption, its identity, decryption errors.
 * Adds the "kustomizations" link(s). */
void wi_check_kustomizations(struct wi_check *c, struct kube_client *kc);

/* With --identity: its federated credentials (ARM) against the cluster's
 * issuer and the controller's subject.  Adds "federated-credential". */
void wi_check_fic(struct wi_check *c, const struct cli_ctx *ctx,
		  const char *identity, const char *subject);

/* The Key Vault scope for a key URL ("" with the link failed). */
int wi_key_scope(const char *key_url, char *scope, size_t size);

#endif
