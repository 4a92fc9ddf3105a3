/*
 * aadsts.h - Microsoft Entra ID error answers, explained.
 *
 * An Entra token error carries error_codes[0] (the AADSTS number) and an
 * error_description.  az_aadsts_explain() says in plain words what the
 * code means here and what to do; az_entra_error() turns a whole error
 * body into one err_set() message (with trace and correlation IDs) and a
 * hint.  For federated credentials `assertion_claims` (the assertion's
 * unverified payload) adds the issuer, subject and audience the
 * assertion carried, which is what a federated identity credential has
 * to match.
 */
#ifndef COMMON_AZURE_AADSTS_H
#define COMMON_AZURE_AADSTS_H

#include <cjson/cJSON.h>

struct aadsts_info {
	const char *meaning;		/* plain words */
	const char *fix;		/* what to do */
};

/* Never NULL: unknown codes get a generic explanation. */
const struct aadsts_info *az_aadsts_explain(long code);

/*
 * Records the error of an Entra token answer (status, body) from
 * credential `who` ("workload identity (client id X)").  Returns -1.
 */
int az_entra_error(const char *who, long status, const char *body,
		   const cJSON *assertion_claims);

#endif
