/* The encrypted MAC in the metadata: ENC[...] of the hex digest with
 * lastmodified (normalized RFC 3339) as additional data. */
#include "sops/engine.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sops/cipher.h"
#include "util/err.h"

int sops_mac_seal(struct sops_metadata *md, const unsigned char key[32],
		  const char *mac_hex)
{
	struct buf enc = BUF_INIT;
	char now[32];

	if (!md->lastmodified) {
		sops_now_rfc3339(now);
		md->lastmodified = strdup(now);
		if (!md->lastmodified)
			return err_set(EXIT_FAILED, "out of memory");
	}
	if (sops_aes_encrypt(key, mac_hex, strlen(mac_hex), md->lastmodified,
			     strlen(md->lastmodified), "str", NULL, &enc) < 0)
		return -1;
	free(md->mac);
	md->mac = buf_detach(&enc, NULL);
	return md->mac ? 0 : err_set(EXIT_FAILED, "out of memory");
}

int sops_mac_check(const struct sops_metadata *md,
		   const unsigned char key[32], const char *mac_hex)
{
	struct buf pt;
	char aad[32], type[16];
	int rc;

	/* The digests are not shown: they hash the plaintext values, and a
	 * short secret could be guessed from one. */
	if (!md->mac || !md->mac[0])
		return err_set(EXIT_MAC, "MAC mismatch. File has no MAC");
	if (!md->lastmodified || sops_rfc3339_normalize(md->lastmodified,
							aad) < 0)
		return err_set(EXIT_MAC, "Cannot decrypt MAC: lastmodified "
			       "'%s' is not an RFC 3339 time",
			       md->lastmodified ? md->lastmodified : "");
	buf_init_secret(&pt);
	if (sops_aes_decrypt(key, md->mac, strlen(md->mac), aad, strlen(aad),
			     &pt, type) < 0) {
		buf_free(&pt);
		return err_set(EXIT_MAC, "Cannot decrypt MAC: the MAC or "
			       "lastmodified was changed, or the file was "
			       "tampered with");
	}
	rc = (pt.len == strlen(mac_hex) &&
	      CRYPTO_memcmp(pt.data, mac_hex, pt.len) == 0) ? 0 :
	     err_set(EXIT_MAC, "MAC mismatch: the values of the file do not "
		     "match its MAC (a value was changed, swapped or removed)");
	buf_free(&pt);
	if (rc < 0)
		err_hint("the file was changed after it was encrypted; use "
			 "--ignore-mac only if you trust the change");
	return rc;
}
