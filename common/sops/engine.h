/*
 * engine.h - encrypting and decrypting whole files in the SOPS format.
 *
 *   sops_encrypt(): plaintext file text -> encrypted file text.
 *   sops_decrypt(): encrypted file text -> plaintext (MAC verified unless
 *                   ignore_mac; nothing is produced when it fails).
 *
 * The tree-level steps are public too, for tests and for callers that batch
 * key operations over many files (see keys.h):
 *   sops_walk_encrypt()/sops_walk_decrypt() transform documents in place
 *   and compute the MAC; sops_mac_seal()/sops_mac_check() handle the
 *   encrypted MAC in the metadata.
 *
 * Errors (err.h): 2 unreadable input, 51 MAC mismatch or a value that does
 * not authenticate, 128 no key could open the data key, 203 already
 * encrypted.
 */
#ifndef COMMON_SOPS_ENGINE_H
#define COMMON_SOPS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "sops/metadata.h"
#include "sops/rules.h"
#include "sops/store.h"
#include "util/buf.h"

#define SOPS_MAC_HEX_LEN 128

struct sops_encrypt_opts {
	enum sops_format in_fmt;	/* SOPS_FMT_NONE: from path */
	enum sops_format out_fmt;	/* SOPS_FMT_NONE: same as input */
	const char *path;		/* for the format; may be NULL */
	int indent;			/* <= 0: format default */
	/* The rule; kind SOPS_RULE_NONE picks the default: documents of
	 * kind Secret -> encrypted_regex ^(data|stringData)$, else sops'
	 * unencrypted_suffix _unencrypted. */
	const struct sops_rule *rule;
	bool mac_only_encrypted;
	/* Master keys: groups (entries with their identifying fields, e.g.
	 * age recipient) and shamir_threshold; copied. */
	const struct sops_metadata *keys;
};

struct sops_decrypt_opts {
	enum sops_format in_fmt;	/* SOPS_FMT_NONE: from path */
	enum sops_format out_fmt;	/* SOPS_FMT_NONE: same as input */
	const char *path;
	int indent;
	bool ignore_mac;
};

/* out receives the file; it is marked secret for decrypt. */
int sops_encrypt(const char *src, size_t len,
		 const struct sops_encrypt_opts *o, struct buf *out);
int sops_decrypt(const char *src, size_t len,
		 const struct sops_decrypt_opts *o, struct buf *out);

/* Like sops_decrypt, but hands back the decrypted documents (secret
 * nodes, wiped when freed) in docs for the caller to emit or extract. */
int sops_decrypt_docs(const char *src, size_t len,
		      const struct sops_decrypt_opts *o, struct sops_docs *docs);

/* The same on documents already parsed (src can be freed first, which
 * keeps peak memory low): docs as read from a file of format f, metadata
 * still inside; decrypted in place, metadata removed. */
int sops_decrypt_parsed(struct sops_docs *docs, enum sops_format f,
			bool ignore_mac);
/* Plaintext documents read as format in: refused when already encrypted,
 * encrypted in place, metadata appended for output format o->out_fmt. */
int sops_encrypt_parsed(struct sops_docs *docs, enum sops_format in,
			const struct sops_encrypt_opts *o);

/* The two halves of sops_decrypt_parsed, for callers that recover the
 * data keys of many files in one batch (sops_data_keys_recover, keys.h):
 * take the metadata out of the documents, then decrypt with a key. */
int sops_extract_metadata(struct sops_docs *docs, enum sops_format f,
			  struct sops_metadata *md);
int sops_decrypt_with_key(struct sops_docs *docs,
			  const struct sops_metadata *md,
			  const unsigned char key[32], bool ignore_mac);

/* Tree level.  mac_hex receives 128 upper-case hex digits and a NUL. */
int sops_walk_encrypt(struct sops_docs *docs, const struct sops_rule *rule,
		      bool mac_only, const unsigned char key[32],
		      char mac_hex[SOPS_MAC_HEX_LEN + 1]);
int sops_walk_decrypt(struct sops_docs *docs, const struct sops_rule *rule,
		      bool mac_only, const unsigned char key[32],
		      char mac_hex[SOPS_MAC_HEX_LEN + 1]);

/* Sets md->lastmodified (now, when NULL) and md->mac. */
int sops_mac_seal(struct sops_metadata *md, const unsigned char key[32],
		  const char *mac_hex);
/* Compares the stored MAC with mac_hex: -1 with err_set(EXIT_MAC, ...). */
int sops_mac_check(const struct sops_metadata *md,
		   const unsigned char key[32], const char *mac_hex);

/* The store an encrypted file of format f is written in (binary -> JSON). */
enum sops_format sops_encrypted_store(enum sops_format f);

/* The rule the engine would pick for documents when none is given. */
int sops_default_rule(const struct sops_docs *docs, enum sops_format f,
		      struct sops_rule *out);

#endif
