/*
 * tree.h - the ordered document tree every store reads into and writes from.
 *
 * A document is a map node.  Maps and sequences hold items in file order;
 * an item of a map has a key (byte string), an item of a sequence has none.
 * Comments are items of their own (kind SOPS_COMMENT, no key).  Scalars keep
 * their type, their canonical plaintext text (the bytes sops encrypts and
 * hashes: "42", "True", "25.4", ...) and, when read from a file, the source
 * text and quoting style so unencrypted values are written back as they came.
 * Nodes marked secret hold decrypted plaintext and are wiped when freed.
 */
#ifndef COMMON_SOPS_TREE_H
#define COMMON_SOPS_TREE_H

#include <stdbool.h>
#include <stddef.h>

enum sops_kind { SOPS_MAP, SOPS_SEQ, SOPS_SCALAR, SOPS_COMMENT };

enum sops_type {
	SOPS_NULL, SOPS_STR, SOPS_INT, SOPS_FLOAT, SOPS_BOOL, SOPS_TIME,
	SOPS_BYTES
};

enum sops_style {
	SOPS_STYLE_ANY,		/* writer decides */
	SOPS_STYLE_PLAIN,
	SOPS_STYLE_SINGLE,
	SOPS_STYLE_DOUBLE,
	SOPS_STYLE_LITERAL,
	SOPS_STYLE_FOLDED
};

struct sops_node;

struct sops_item {
	char *key;		/* NULL in sequences and for comments */
	size_t key_len;
	struct sops_node *val;
};

struct sops_node {
	enum sops_kind kind;
	enum sops_type type;	/* scalars */
	enum sops_style style;
	bool is_inline;		/* comment on the line of the item before it */
	bool secret;		/* text is decrypted plaintext: wipe on free */
	char *text;		/* scalar canonical text or comment text */
	size_t len;
	size_t text_cap;	/* bytes allocated for text (0: len + 1) */
	char *raw;		/* source spelling of a plain scalar, or NULL */
	size_t raw_len;
	struct sops_item *items;	/* maps and sequences */
	size_t n, cap;
};

struct sops_node *sops_node_new(enum sops_kind kind);
/* A scalar (or comment) holding a copy of text[0..len). */
struct sops_node *sops_scalar_new(enum sops_type type, const char *text,
				  size_t len);
struct sops_node *sops_comment_new(const char *text, size_t len,
				   bool is_inline);
void sops_node_free(struct sops_node *n);

/* While on (per thread), new scalars and comments get room for their
 * ENC[...] form, so encrypting replaces each text in place instead of
 * leaving the plaintext's block behind as a hole (lower peak memory). */
void sops_tree_reserve_for_encryption(bool on);
struct sops_node *sops_node_copy(const struct sops_node *n, size_t *budget);

/* Replaces the text of a scalar or comment (copy); drops raw. */
int sops_node_set_text(struct sops_node *n, const char *text, size_t len,
		       bool secret);

/* Appends an item; takes ownership of val (freed on failure). key may be
 * NULL (sequence element or comment). */
int sops_append(struct sops_node *container, const char *key, size_t key_len,
		struct sops_node *val);

/* The value of key in a map, or NULL; *idx gets its position. */
struct sops_node *sops_map_get(const struct sops_node *map, const char *key,
			       size_t *idx);
/* Removes and frees item idx. */
void sops_remove(struct sops_node *container, size_t idx);

/* A list of documents (several only in YAML). */
struct sops_docs {
	struct sops_node **doc;
	size_t n, cap;
	int indent;		/* YAML: indentation the file used, 0 unknown */
};
int sops_docs_push(struct sops_docs *d, struct sops_node *doc);
void sops_docs_free(struct sops_docs *d);

/* Number of nodes below and including n (for alias bounds and tests). */
size_t sops_node_count(const struct sops_node *n);

/* Deep structural equality: kinds, keys, types and canonical texts
 * (comments compared by text; raw spelling and style ignored). */
bool sops_node_equal(const struct sops_node *a, const struct sops_node *b);

#endif
