/* fuzz_util_redact.c - redaction of arbitrary HTTP bodies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = redact_body((const char *)data, size);
	char *text = malloc(size + 1);

	free(out);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	redact_tokens_inplace(text);
	free(text);
	return 0;
}
