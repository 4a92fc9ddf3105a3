/*
 * metadata.h - the `sops` block: master keys (by group), the Shamir
 * threshold, lastmodified, the encrypted MAC, the encryption rule and the
 * version.  Read from a YAML/JSON `sops:` map (order never matters, names
 * matched case-insensitively as a fallback, values weakly typed) or from
 * flattened `sops_*` keys (dotenv); written in the layout of sops 3.13
 * (alphabetical at every level).  Key entries keep every field they were
 * read with, so entries of key types this program cannot use (azure_kv
 * before its key type is registered, pgp, kms, ...) round-trip unchanged.
 */
#ifndef COMMON_SOPS_METADATA_H
#define COMMON_SOPS_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "sops/rules.h"
#include "sops/store.h"
#include "sops/tree.h"

#define SOPS_VERSION "3.13.2"

struct sops_key_entry {
	char *type;			/* "age", "azure_kv", "pgp", ... */
	struct sops_node *fields;	/* map of the entry's fields (owned) */
};

struct sops_key_group {
	struct sops_key_entry *keys;
	size_t n;
};

struct sops_metadata {
	struct sops_key_group *groups;
	size_t ngroups;
	int shamir_threshold;		/* 0 when not set */
	char *lastmodified;
	char *mac;			/* ENC[...] or NULL */
	char *version;
	struct sops_rule rule;		/* SOPS_RULE_NONE: none in the file */
	bool mac_only_encrypted;
};

/* The seven key list names sops knows, in the order sops assembles a
 * group on load. */
extern const char *const SOPS_KEY_TYPES[7];

void sops_metadata_free(struct sops_metadata *md);

/* Entry helpers: field value as a C string (NULL when absent or not a
 * string), and setting a string field (added or replaced). */
const char *sops_entry_get(const struct sops_key_entry *e, const char *field);
int sops_entry_set(struct sops_key_entry *e, const char *field,
		   const char *value);
/* A new entry of a type with no fields, appended to group g. */
struct sops_key_entry *sops_group_add(struct sops_key_group *g,
				      const char *type);
int sops_metadata_add_group(struct sops_metadata *md);

/* From the value of the `sops` key.  -1 with err on a bad block. */
int sops_metadata_from_node(const struct sops_node *sops,
			    struct sops_metadata *md);
/* A new map in sops 3.13's layout. */
struct sops_node *sops_metadata_to_node(const struct sops_metadata *md);

/*
 * Finds the metadata in parsed documents of format f, removes it from
 * every document and fills md.  Returns 1 when found, 0 when the file has
 * none (md untouched), -1 on a bad block.
 */
int sops_metadata_extract(struct sops_docs *docs, enum sops_format f,
			  struct sops_metadata *md);
/* Appends the block to every document (YAML/JSON) or as sops_* keys. */
int sops_metadata_insert(struct sops_docs *docs, enum sops_format f,
			 const struct sops_metadata *md);

/* True when the first document already carries sops metadata (the test
 * sops uses to refuse encrypting twice). */
bool sops_docs_have_metadata(const struct sops_docs *docs, enum sops_format f);

/* Flattening of dotenv metadata (sops' flatten.go scheme). */
int sops_flatten(const struct sops_node *md, const char *prefix,
		 struct sops_node *out_map);
struct sops_node *sops_unflatten(const struct sops_node *flat_map,
				 const char *prefix);

/* lastmodified as the MAC's additional data: RFC 3339 with whole seconds,
 * "Z" for a zero offset.  out must hold 32 bytes.  -1 when unparsable. */
int sops_rfc3339_normalize(const char *in, char out[32]);
/* Now, UTC, "YYYY-MM-DDTHH:MM:SSZ". */
void sops_now_rfc3339(char out[32]);

#endif
