/*
 * cmd_issuer.c - kubectl fluxwi issuer: what the federated identity
 * credential must say, exactly as Microsoft Entra ID compares it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/jose.h"
#include "cli/cluster.h"
#include "cli/output.h"
#include "kube/client.h"
#include "util/err.h"
#include "util/log.h"
#include "wi.h"

int wi_issuer_from_discovery(struct kube_client *kc, char **issuer)
{
	cJSON *doc = NULL;
	const char *iss;

	*issuer = NULL;
	if (kube_get_json(kc, "/.well-known/openid-configuration", &doc) < 0)
		return -1;
	iss = wi_str(doc, "issuer", NULL);
	if (iss && *iss)
		*issuer = strdup(iss);
	cJSON_Delete(doc);
	if (!*issuer)
		return err_set(EXIT_FAILED, "the API server's "
			       "/.well-known/openid-configuration has no "
			       "issuer");
	return 0;
}

int wi_controller_token(struct kube_client *kc, const char *ns,
			const char *sa, char **token, cJSON **claims)
{
	static const char *const aud[] = { WI_AUDIENCE, NULL };

	*claims = NULL;
	if (kube_create_token(kc, ns, sa, aud, 3600, token, NULL) < 0)
		return err_prefix("TokenRequest for ServiceAccount %s/%s", ns,
				  sa);
	*claims = az_jwt_claims(*token);
	if (!*claims) {
		explicit_bzero(*token, strlen(*token));
		free(*token);
		*token = NULL;
		return err_set(EXIT_FAILED, "the TokenRequest for %s/%s "
			       "returned no JWT", ns, sa);
	}
	return 0;
}

void wi_token_free(char *token)
{
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
}

/* The issuer from a token's iss claim (authoritative, §2.2). */
static int issuer_from_token(struct kube_client *kc, const char *ns,
			     const char *sa, char **issuer)
{
	char *token = NULL;
	cJSON *claims = NULL;
	const char *iss;

	if (wi_controller_token(kc, ns, sa, &token, &claims) < 0)
		return -1;
	wi_token_free(token);
	iss = az_claim_str(claims, "iss");
	*issuer = iss ? strdup(iss) : NULL;
	cJSON_Delete(claims);
	if (!*issuer)
		return err_set(EXIT_FAILED, "the token for %s/%s has no iss "
			       "claim", ns, sa);
	return 0;
}

int wi_find_issuer(struct kube_client *kc, const char *ns, const char *sa,
		   char **issuer, const char **source)
{
	struct err_record first;

	if (wi_issuer_from_discovery(kc, issuer) == 0) {
		*source = "discovery";
		return 0;
	}
	err_save(&first);
	log_at(LOG_STEPS, "issuer discovery failed (%s); asking for a token "
	       "instead", err_msg());
	if (issuer_from_token(kc, ns, sa, issuer) == 0) {
		*source = "token";
		return 0;
	}
	err_prefix("the issuer is neither readable from "
		   "/.well-known/openid-configuration (%s) nor from a "
		   "TokenRequest", first.msg);
	return err_hint("ask for get on the non-resource URL "
			"/.well-known/openid-configuration or create on "
			"serviceaccounts/token in %s", ns);
}

/* Quotes for a POSIX shell when needed. */
static void shell_word(char *out, size_t size, const char *s)
{
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-_./:=@%+,") == strlen(s) && *s)
		snprintf(out, size, "%s", s);
	else
		snprintf(out, size, "'%s'", s);
}

int wi_fic_command(char *out, size_t size, const char *issuer,
		   const char *subject, const struct wi_ids *id,
		   const char *fic_name)
{
	char iss[1100], sub[400];

	shell_word(iss, sizeof(iss), issuer);
	shell_word(sub, sizeof(sub), subject);
	return snprintf(out, size, "az identity federated-credential create "
			"--name %s --identity-name %s --resource-group %s "
			"--issuer %s --subject %s --audiences " WI_AUDIENCE,
			fic_name, id->name[0] ? id->name : "<IDENTITY_NAME>",
			id->resource_group[0] ? id->resource_group :
			"<RESOURCE_GROUP>", iss, sub) < (int)size ? 0 : -1;
}

static int print_json(const char *issuer, const char *source,
		      const char *subject, const char *cmd,
		      const struct wi_ids *id)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	if (!o)
		return err_set(EXIT_FAILED, "out of memory");
	cJSON_AddStringToObject(o, "issuer", issuer);
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, "subject", subject);
	cJSON_AddStringToObject(o, "audience", WI_AUDIENCE);
	if (id->name[0]) {
		cJSON_AddStringToObject(o, "identityName", id->name);
		cJSON_AddStringToObject(o, "resourceGroup", id->resource_group);
	}
	cJSON_AddStringToObject(o, "command", cmd);
	rc = output_json(stdout, o);
	cJSON_Delete(o);
	return rc;
}

int fluxwi_issuer(struct cli_ctx *ctx, void *args)
{
	const struct fluxwi_args *a = args;
	struct kube_client *kc = NULL;
	struct wi_ids id;
	char *issuer = NULL, subject[600], cmd[2400];
	const char *source = NULL;
	int rc = -1;

	if (ctx->argc > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       ctx->argv[0]);
	memset(&id, 0, sizeof(id));
	if (a->identity) {
		wi_split_identity(a->identity, &id);
		if (!id.name[0])
			return cli_usage_error(ctx, "--identity %s is no "
					       "managed identity resource ID",
					       a->identity);
	}
	snprintf(subject, sizeof(subject), "system:serviceaccount:%s:%s",
		 a->flux_namespace, a->controller);
	if (cli_kube_open(ctx, &kc) < 0 ||
	    wi_find_issuer(kc, a->flux_namespace, a->controller, &issuer,
			   &source) < 0)
		goto out;
	if (wi_fic_command(cmd, sizeof(cmd), issuer, subject, &id,
			   a->controller) < 0) {
		err_set(EXIT_FAILED, "issuer too long");
		goto out;
	}
	if (strcmp(wi_output(ctx, "table"), "json") == 0) {
		rc = print_json(issuer, source, subject, cmd, &id) < 0 ? -1 : 0;
		goto out;
	}
	printf("Issuer:    %s\nSubject:   %s\nAudience:  " WI_AUDIENCE "\n\n"
	       "The federated credential must carry exactly these values "
	       "(the issuer's trailing\nslash included). Create it with:\n\n"
	       "  %s\n", issuer, subject, cmd);
	if (!id.name[0])
		printf("\n(Pass --identity RESOURCE_ID to fill in the "
		       "identity's name and resource group.)\n");
	rc = 0;
out:
	free(issuer);
	kube_client_close(kc);
	return rc;
}
