/* recursive.h - kubectl sopsenc encrypt -r (see recursive.c). */
#ifndef PLUGINS_SOPSENC_RECURSIVE_H
#define PLUGINS_SOPSENC_RECURSIVE_H

#include "sopsenc.h"

/*
 * Encrypts, in place, every file under the operands (files or
 * directories) that holds a Kubernetes Secret not yet encrypted (at least
 * one data/stringData value); every other file is skipped and counted.
 * All files are encrypted first and renamed over the originals only when
 * every one succeeded.  Prints "encrypted N files, skipped M (K already
 * encrypted, J without Secrets)".  An already encrypted file named as an
 * operand is an error (exit 203).  Returns 0 or -1 with err set.
 */
int sopsenc_encrypt_recursive(struct cli_ctx *ctx,
			      const struct sopsenc_args *a);

#endif
