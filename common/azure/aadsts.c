#include "azure/aadsts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/jose.h"
#include "util/err.h"
#include "util/redact.h"

struct row {
	long code;
	struct aadsts_info info;
};

#define FIC_FIX "make a federated identity credential on the identity match " \
	"the assertion exactly (case-sensitive; the issuer's trailing '/' " \
	"matters): az identity federated-credential create --identity-name " \
	"IDENTITY --resource-group RG --name NAME --issuer ISSUER --subject " \
	"SUBJECT --audiences api://AzureADTokenExchange"

static const struct row rows[] = {
	{ 70021, { "no federated identity credential matches the presented "
		   "token (issuer, subject and audience are compared exactly)",
		   FIC_FIX } },
	{ 700211, { "no federated identity credential has the issuer the "
		    "token carries", FIC_FIX } },
	{ 700212, { "no federated identity credential has the audience the "
		    "token carries", FIC_FIX } },
	{ 700213, { "no federated identity credential has the subject the "
		    "token carries", FIC_FIX } },
	{ 7002138, { "the subject matches a federated identity credential "
		     "only when letter case is ignored; matching is "
		     "case-sensitive", FIC_FIX } },
	{ 700024, { "the client assertion is outside its validity window "
		    "(an expired service account token, or the clocks differ)",
		    "make sure the token file is refreshed by the kubelet "
		    "(projected volume) and that this machine's clock is "
		    "right" } },
	{ 90061, { "Entra ID could not fetch the cluster's OIDC discovery "
		   "document or keys", "make the issuer's "
		   "/.well-known/openid-configuration and jwks_uri publicly "
		   "reachable (on AKS: az aks update --enable-oidc-issuer)" } },
	{ 700016, { "no application or managed identity with this client ID "
		    "exists in this tenant", "check AZURE_CLIENT_ID and "
		    "AZURE_TENANT_ID (the identity may live in another "
		    "tenant, or was deleted)" } },
	{ 90002, { "the tenant does not exist", "check AZURE_TENANT_ID and "
		   "that AZURE_AUTHORITY_HOST names the right cloud" } },
	{ 900023, { "the tenant identifier is malformed", "set "
		    "AZURE_TENANT_ID to the tenant's GUID or domain" } },
	{ 50027, { "the presented token is invalid or malformed", "check "
		   "that AZURE_FEDERATED_TOKEN_FILE holds a Kubernetes "
		   "service account token" } },
	{ 700027, { "the client assertion's signature or key is not known "
		    "to Entra ID", "upload this certificate to the "
		    "application (az ad app credential reset --append "
		    "--cert @FILE), or use the certificate it has" } },
	{ 7000215, { "the client secret is wrong", "use the secret's VALUE "
		     "(not its ID) in AZURE_CLIENT_SECRET, or create a new "
		     "one: az ad app credential reset --id CLIENT_ID "
		     "--append" } },
	{ 7000222, { "the client secret has expired", "create a new secret: "
		     "az ad app credential reset --id CLIENT_ID --append" } },
	{ 70011, { "the requested scope is invalid", "report this: the "
		   "scope is chosen by this program" } },
	{ 500011, { "the resource does not exist in this tenant's cloud "
		    "(a vault of another cloud?)", "use a vault of the same "
		    "cloud as AZURE_AUTHORITY_HOST" } },
	{ 50076, { "multi-factor authentication is required", "sign in "
		   "interactively: az login" } },
	{ 50079, { "multi-factor authentication enrollment is required",
		   "sign in interactively: az login" } },
	{ 53003, { "a conditional access policy blocked the sign-in",
		   "ask your tenant administrator, or use a service "
		   "principal or managed identity" } },
	{ 700082, { "the sign-in has expired", "sign in again: az login" } },
	{ 0, { NULL, NULL } }
};

static const struct aadsts_info generic = {
	"Entra ID refused the request",
	"read the AADSTS code's description at "
	"https://learn.microsoft.com/entra/identity-platform/"
	"reference-error-codes"
};

const struct aadsts_info *az_aadsts_explain(long code)
{
	size_t i;

	for (i = 0; rows[i].code; i++)
		if (rows[i].code == code)
			return &rows[i].info;
	return &generic;
}

static long code_of(const cJSON *j, const char *desc)
{
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	const cJSON *first = cJSON_GetArrayItem(codes, 0);
	const char *p;

	if (cJSON_IsNumber(first))
		return (long)first->valuedouble;
	p = desc ? strstr(desc, "AADSTS") : NULL;
	return p ? atol(p + 6) : 0;
}

/* The first sentence block of the description, without the trace lines. */
static void short_desc(const char *desc, char *out, size_t size)
{
	size_t n;
	const char *cut;

	snprintf(out, size, "%s", desc ? desc : "");
	cut = strstr(out, " Trace ID:");
	if (!cut)
		cut = strstr(out, "\r\n");
	if (cut)
		out[cut - out] = '\0';
	n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\n'))
		out[--n] = '\0';
	redact_tokens_inplace(out);
}

static void assertion_text(const cJSON *c, char *out, size_t size)
{
	const char *iss = az_claim_str(c, "iss"), *sub = az_claim_str(c, "sub");
	const char *aud = az_claim_str(c, "aud");

	out[0] = '\0';
	if (c)
		snprintf(out, size, "; the assertion carried issuer '%s', "
			 "subject '%s', audience '%s'", iss ? iss : "?",
			 sub ? sub : "?", aud ? aud : "?");
}

int az_entra_error(const char *who, long status, const char *body,
		   const cJSON *assertion_claims)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "trace_id");
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(j, "correlation_id");
	const char *desc = cJSON_IsString(d) ? d->valuestring : NULL;
	long code = code_of(j, desc);
	const struct aadsts_info *info = az_aadsts_explain(code);
	char text[512], claims[400];

	short_desc(desc ? desc : "(no description)", text, sizeof(text));
	assertion_text(code == 70021 || (code >= 700211 && code <= 700213) ||
				       code == 7002138 || code == 700024
			       ? assertion_claims
			       : NULL,
		       claims, sizeof(claims));
	err_set(EXIT_FAILED, "%s: Entra ID refused the token request (HTTP "
		"%ld): %s%s [%s] (trace ID %s, correlation ID %s)", who, status,
		info->meaning, claims, text,
		cJSON_IsString(tr) ? tr->valuestring : "-",
		cJSON_IsString(co) ? co->valuestring : "-");
	err_hint("%s", info->fix);
	cJSON_Delete(j);
	return -1;
}
