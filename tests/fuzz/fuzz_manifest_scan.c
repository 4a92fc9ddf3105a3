/* fuzz_manifest_scan.c - Secret discovery on arbitrary YAML and JSON. */
#include <stddef.h>
#include <stdint.h>

#include "manifest/manifest.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret_docs docs = { 0 };

	manifest_scan_text("fuzz.yaml", (const char *)data, size, &docs);
	secret_docs_free(&docs);
	err_clear();
	return 0;
}
