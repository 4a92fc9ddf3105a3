/* fuzz_sops_stores.c - the YAML, JSON and dotenv readers and writers: the
 * first byte picks the store; whatever parses must be written and read
 * back to an equal tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sops/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sops_format fmts[] = { SOPS_FMT_YAML, SOPS_FMT_JSON,
						 SOPS_FMT_DOTENV };
	struct sops_docs d, back;
	struct buf out = BUF_INIT;
	enum sops_format f;
	size_t i;

	if (size == 0)
		return 0;
	f = fmts[data[0] % 3];
	if (sops_store_parse(f, (const char *)data + 1, size - 1, &d) < 0)
		return 0;
	if (sops_store_emit(f, &d, 0, &out) == 0) {
		if (sops_store_parse(f, out.data ? out.data : "", out.len,
				     &back) < 0)
			abort();	/* we wrote something we cannot read */
		if (back.n != d.n)
			abort();
		for (i = 0; i < d.n; i++)
			if (f != SOPS_FMT_DOTENV &&
			    !sops_node_equal(d.doc[i], back.doc[i]))
				abort();
		sops_docs_free(&back);
	}
	buf_free(&out);
	sops_docs_free(&d);
	return 0;
}
