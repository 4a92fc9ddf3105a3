/* bech32.h - Bech32 (BIP 173, not Bech32m; no length limit) for age keys. */
#ifndef COMMON_SOPS_BECH32_H
#define COMMON_SOPS_BECH32_H

#include <stddef.h>

/* Encodes data under hrp (lower case); out gets a NUL-terminated string.
 * Returns 0, or -1 when out is too small. */
int bech32_encode(const char *hrp, const unsigned char *data, size_t n,
		  char *out, size_t cap);

/* Decodes s (all lower or all upper case).  hrp receives the lower-case
 * human-readable part (cap hrp_cap), data the 8-bit payload.
 * Returns 0, or -1 on any defect (checksum, mixed case, padding). */
int bech32_decode(const char *s, char *hrp, size_t hrp_cap,
		  unsigned char *data, size_t data_cap, size_t *n);

#endif
