/*
 * files.h - encrypting and decrypting files as `kubectl sopsenc` does:
 * options as given on the command line, keys from flags, environment or
 * .sops.yaml, results to standard output, --output PATH or in place
 * (atomically; decrypted files mode 0600).
 */
#ifndef COMMON_SOPS_FILES_H
#define COMMON_SOPS_FILES_H

#include <stdbool.h>

#include "sops/rules.h"
#include "sops/store.h"
#include "util/buf.h"

struct sops_file_opts {
	const char *age;		/* recipients, or NULL: SOPS_AGE_RECIPIENTS */
	const char *azure_kv;		/* URLs, or NULL: SOPS_AZURE_KEYVAULT_URLS */
	const char *config;		/* --config */
	const char *rules[SOPS_RULE_COUNT];	/* selector flags by kind */
	bool mac_only_encrypted;
	const char *input_type, *output_type;
	const char *output_path;	/* --output */
	bool in_place;
	bool ignore_mac;
	const char *extract;		/* decrypt: '["a"][0]' */
};

/* Checks flag combinations (-i with --output or stdin, unknown types,
 * several selectors).  -1 with err (exit 2). */
int sops_file_opts_check(const struct sops_file_opts *o, const char *path);

int sops_file_encrypt(const char *path, const struct sops_file_opts *o);
/* Like sops_file_encrypt, but the encrypted file is appended to out
 * instead of being written anywhere. */
int sops_file_encrypt_to(const char *path, const struct sops_file_opts *o,
			 struct buf *out);
int sops_file_decrypt(const char *path, const struct sops_file_opts *o);

/* Decrypts many files, asking for their data keys in one batch per key
 * type (64 files at a time), then writing each in order; stops at the
 * first failure (files before it are written). */
int sops_files_decrypt(const char *const *paths, size_t n,
		       const struct sops_file_opts *o);

/* sops' --extract syntax: ["key"][index]... applied to the first
 * document; a scalar is written as its text, a subtree in the output
 * format. */
int sops_extract(const struct sops_docs *docs, const char *path,
		 enum sops_format f, int indent, struct buf *out);

#endif
