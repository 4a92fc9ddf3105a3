/*
 * check_flux.c - the Kustomizations link of `kubectl fluxwi check`: which
 * ones decrypt with SOPS, how they authenticate, and any decryption error
 * in their status, mapped to its usual cause (azure.md §8).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kube/objects.h"
#include "util/err.h"

/* Substrings of controller messages and what usually fixes them. */
static const struct {
	const char *needle;
	const char *remedy;
} CAUSES[] = {
	{ "700213", "the federated credential's subject does not match: "
		    "recreate it from kubectl fluxwi issuer" },
	{ "7002138", "the federated credential's subject differs in case: "
		     "recreate it from kubectl fluxwi issuer" },
	{ "700211", "the federated credential's issuer does not match (the "
		    "trailing / counts): recreate it from kubectl fluxwi "
		    "issuer" },
	{ "70021", "no federated credential matches: recreate it from "
		   "kubectl fluxwi issuer" },
	{ "700016", "the client ID names no identity in that tenant: fix "
		    "the ServiceAccount annotations (kubectl fluxwi patch)" },
	{ "ForbiddenByRbac", "grant the identity the role Key Vault Crypto "
			     "User on the vault" },
	{ "ForbiddenByPolicy", "give the identity get and decrypt in the "
			       "vault's access policy (az keyvault "
			       "set-policy)" },
	{ "does not have keys decrypt permission", "give the identity "
						   "decrypt on the key (az "
						   "keyvault set-policy)" },
	{ "no token file", "the controller pods lack the injected token: "
			   "kubectl fluxwi check, then patch" },
	{ "missing environment variables for workload identity",
	  "the controller pods lack the injected token: kubectl fluxwi "
	  "patch" },
	{ "ManagedIdentityCredential", "the controller fell back to the "
				       "node identity: label and restart it "
				       "(kubectl fluxwi patch)" },
	{ "configuring decryption is required", "add spec.decryption: "
						"{provider: sops} to the "
						"Kustomization" },
	{ "FeatureGateDisabled", "enable --feature-gates=ObjectLevelWorkload"
				 "Identity=true on kustomize-controller" },
	{ "no age identity found", "the file is encrypted for age only and "
				   "the Kustomization has no age key: add a "
				   "decryption secretRef with the .agekey, or "
				   "re-encrypt it for the Key Vault key "
				   "(kubectl sopsenc)" },
	{ "failed to verify sops data integrity", "the file was edited "
						  "without sops: re-encrypt "
						  "it (kubectl sopsenc)" },
};

static const char *cause(const char *msg)
{
	for (size_t i = 0; i < sizeof(CAUSES) / sizeof(CAUSES[0]); i++)
		if (strstr(msg, CAUSES[i].needle))
			return CAUSES[i].remedy;
	return "read the Kustomization's status (kubectl describe "
	       "kustomization) and run check --exchange --key URL";
}

static const cJSON *ready_condition(const cJSON *ks)
{
	const cJSON *cond;

	cJSON_ArrayForEach(cond, wi_get(ks, "status", "conditions", NULL)) {
		const char *t = wi_str(cond, "type", NULL);

		if (t && strcmp(t, "Ready") == 0)
			return cond;
	}
	return NULL;
}

static bool decryption_error(const char *msg)
{
	return strstr(msg, "decrypt") || strstr(msg, "sops") ||
	       strstr(msg, "SOPS");
}

/* A secretRef Secret holding sops.azure-kv: a static credential that
 * overrides workload identity.  Unreadable Secrets are not judged. */
static bool static_credential(struct kube_client *kc, const char *ns,
			      const char *name)
{
	cJSON *s = NULL;
	bool found;

	if (kube_get_secret(kc, ns, name, &s) < 0) {
		err_clear();
		return false;
	}
	found = wi_get(s, "data", "sops.azure-kv", NULL) != NULL;
	cJSON_Delete(s);
	return found;
}

struct ks_sum {
	int sops;
	char names[300];
	bool failed, warned;
};

static void judge(struct wi_check *c, struct kube_client *kc,
		  const cJSON *ks, struct ks_sum *sum)
{
	const char *ns = wi_str(ks, "metadata", "namespace", NULL);
	const char *name = wi_str(ks, "metadata", "name", NULL);
	const char *prov = wi_str(ks, "spec", "decryption", "provider", NULL);
	const char *ref = wi_str(ks, "spec", "decryption", "secretRef", "name",
				 NULL);
	const char *sa = wi_str(ks, "spec", "decryption",
				"serviceAccountName", NULL);
	const cJSON *ready = ready_condition(ks);
	const char *st = wi_str(ready, "status", NULL);
	const char *msg = wi_str(ready, "message", NULL);

	if (!ns || !name)
		return;
	if (st && strcmp(st, "False") == 0 && msg && decryption_error(msg)) {
		wi_link_add(c, "kustomizations", WI_FAIL, cause(msg),
			    "%s/%s: %.400s", ns, name, msg);
		sum->failed = true;
	}
	if (!prov || strcmp(prov, "sops") != 0)
		return;
	sum->sops++;
	snprintf(sum->names + strlen(sum->names),
		 sizeof(sum->names) - strlen(sum->names), "%s%s/%s",
		 sum->names[0] ? ", " : "", ns, name);
	if (ref && static_credential(kc, ns, ref)) {
		wi_link_add(c, "kustomizations", WI_WARN, "remove "
			    "sops.azure-kv from that Secret to use workload "
			    "identity", "%s/%s: Secret %s holds sops.azure-kv, "
			    "a static credential that wins over workload "
			    "identity", ns, name, ref);
		sum->warned = true;
	} else if (sa) {
		wi_link_add(c, "kustomizations", WI_WARN, "needs "
			    "--feature-gates=ObjectLevelWorkloadIdentity=true "
			    "and a federated credential for that "
			    "ServiceAccount", "%s/%s decrypts as ServiceAccount "
			    "%s/%s (object-level), not as the controller", ns,
			    name, ns, sa);
		sum->warned = true;
	}
}

void wi_check_kustomizations(struct wi_check *c, struct kube_client *kc)
{
	cJSON *items = NULL;
	const cJSON *ks;
	struct ks_sum sum;

	memset(&sum, 0, sizeof(sum));
	if (kube_list_kustomizations(kc, NULL, NULL, &items, NULL) < 0) {
		wi_link_add(c, "kustomizations", WI_FAIL, "install Flux, or "
			    "allow list on kustomizations", "%s", err_msg());
		err_clear();
		return;
	}
	cJSON_ArrayForEach(ks, items)
		judge(c, kc, ks, &sum);
	cJSON_Delete(items);
	if (sum.failed || sum.warned)
		return;
	if (sum.sops == 0)
		wi_link_add(c, "kustomizations", WI_WARN, "add spec.decryption: "
			    "{provider: sops} to the Kustomizations that apply "
			    "encrypted Secrets", "no Kustomization decrypts "
			    "with SOPS");
	else
		wi_link_add(c, "kustomizations", WI_PASS, NULL, "%d decrypt%s "
			    "with SOPS as the controller, no decryption error "
			    "(%s)", sum.sops, sum.sops == 1 ? "s" : "",
			    sum.names);
}
