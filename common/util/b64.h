/*
 * b64.h - base64 as sops and age use it: standard alphabet with padding
 * (ENC[...] fields, armor), standard without padding (age headers) and
 * URL-safe without padding (Azure Key Vault enc).
 */
#ifndef COMMON_UTIL_B64_H
#define COMMON_UTIL_B64_H

#include <stdbool.h>
#include <stddef.h>

enum b64_variant { B64_STD, B64_STD_RAW, B64_URL_RAW };

/* Encoded length (without NUL). */
size_t b64_encoded_len(size_t n, enum b64_variant v);
/* Writes the encoding and a NUL into out (b64_encoded_len + 1 bytes). */
void b64_encode(const unsigned char *in, size_t n, enum b64_variant v,
		char *out);
/* Strict decode: canonical input only (no whitespace, padding exactly as
 * the variant requires, zero unused bits).  out needs n*3/4+3 bytes.
 * Returns 0, or -1 (no error recorded: callers word the message). */
int b64_decode(const char *in, size_t n, enum b64_variant v,
	       unsigned char *out, size_t *outlen);

/* Lenient decode for PEM, kubeconfig and similar data: skips whitespace,
 * accepts the standard or URL-safe alphabet, with or without padding.
 * out needs n*3/4+3 bytes.  Returns 0 or -1. */
int b64_decode_loose(const char *in, size_t n, unsigned char *out,
		     size_t *outlen);

#endif
