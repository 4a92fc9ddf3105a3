/* shamir.h - sops' Shamir secret sharing over GF(2^8) (AES polynomial).
 * A share is the secret's length + 1 bytes: one y per secret byte, then x. */
#ifndef COMMON_SOPS_SHAMIR_H
#define COMMON_SOPS_SHAMIR_H

#include <stddef.h>

/* Splits secret (len bytes) into n shares (each len+1 bytes, x = 1..n)
 * needing threshold of them; 2 <= threshold <= n <= 255. */
int shamir_split(const unsigned char *secret, size_t len, unsigned n,
		 unsigned threshold, unsigned char **shares);

/* Combines k shares of share_len bytes into secret (share_len-1 bytes). */
int shamir_combine(unsigned char *const *shares, size_t k, size_t share_len,
		   unsigned char *secret);

#endif
