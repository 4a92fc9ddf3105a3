/* fuzz_sops_metadata.c - the metadata reader (YAML/JSON `sops:` blocks and
 * flattened dotenv keys), the ENC[...] value parser and the age armor and
 * header parser, on arbitrary input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sops/age.h"
#include "sops/cipher.h"
#include "sops/metadata.h"
#include "util/err.h"

#define ID "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sops_format fmts[] = { SOPS_FMT_YAML, SOPS_FMT_JSON,
						 SOPS_FMT_DOTENV };
	static const unsigned char key[32];
	struct sops_docs d;
	struct sops_metadata md;
	struct buf pt;
	char type[16];

	if (size == 0)
		return 0;
	if (sops_age_identity_count() == 0)
		sops_age_add_identities(ID, strlen(ID));
	buf_init_secret(&pt);
	sops_aes_decrypt(key, (const char *)data, size, "a:", 2, &pt, type);
	buf_reset(&pt);
	sops_age_decrypt((const char *)data, size, &pt);
	buf_free(&pt);
	if (sops_store_parse(fmts[data[0] % 3], (const char *)data + 1, size - 1,
			     &d) < 0)
		return 0;
	memset(&md, 0, sizeof(md));
	if (sops_metadata_extract(&d, fmts[data[0] % 3], &md) == 1) {
		struct sops_node *n = sops_metadata_to_node(&md);

		sops_node_free(n);
		sops_metadata_free(&md);
	}
	sops_docs_free(&d);
	err_clear();
	return 0;
}
