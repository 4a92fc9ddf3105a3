/*
 * decrypt.h - local decryption of the manifests for --decrypt (decrypt.c).
 */
#ifndef PLUGINS_SOPSVERIFY_DECRYPT_H
#define PLUGINS_SOPSVERIFY_DECRYPT_H

#include "verify.h"

/*
 * Decrypts every manifest (age identities from SOPS_AGE_KEY /
 * SOPS_AGE_KEY_FILE, Azure Key Vault with the Azure credential chain or
 * the one --azure-auth names), one data key per distinct metadata block, and
 * keeps each key's plaintext in a secret buffer.  A manifest that cannot be
 * decrypted keeps the reason in fixed_error (its verdict will be ERROR).
 * Returns 0, or -1 only when out of memory.
 */
int vs_decrypt_all(struct vs_set *set, const char *azure_auth,
		   long request_timeout_ms);

#endif
