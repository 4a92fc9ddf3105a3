/*
 * store.h - the file formats sops knows: YAML, JSON, dotenv and binary.
 *
 * parse() turns file text into documents (metadata still inside: the
 * `sops` key, or the sops_* keys of dotenv); emit() writes documents back.
 * Only YAML holds several documents.  Every function returns 0, or -1 with
 * err_set(EXIT_USAGE, "...") on unparsable input.
 */
#ifndef COMMON_SOPS_STORE_H
#define COMMON_SOPS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "sops/tree.h"
#include "util/buf.h"

enum sops_format {
	SOPS_FMT_NONE = 0, SOPS_FMT_YAML, SOPS_FMT_JSON, SOPS_FMT_DOTENV,
	SOPS_FMT_BINARY
};

/* From a name given on the command line ("yaml", "json", "dotenv",
 * "binary"); SOPS_FMT_NONE when unknown. */
enum sops_format sops_format_from_type(const char *type);
/* From a file name as sops does: .yaml/.yml, .json, .env, else binary. */
enum sops_format sops_format_from_path(const char *path);
const char *sops_format_name(enum sops_format f);

/* indent: spaces per level; <= 0 means the format's default (YAML 4,
 * JSON a tab). */
int sops_store_parse(enum sops_format f, const char *src, size_t len,
		     struct sops_docs *out);
int sops_store_emit(enum sops_format f, const struct sops_docs *docs,
		    int indent, struct buf *out);

/* Parsing a file mapped with fs_map_file: the YAML reader releases the
 * pages behind it as it goes, so the input does not stay in memory. */
int sops_store_parse_mapped(enum sops_format f, const char *map, size_t len,
			    struct sops_docs *out);

/*
 * Like sops_store_emit, but the text goes to fd as it is produced: the
 * staging buffer never grows much beyond 64 KiB (wiped when secret).
 * Returns 0, or -1 with err (EXIT_WRITE when writing failed).
 */
int sops_store_write(enum sops_format f, const struct sops_docs *docs,
		     int indent, int fd, bool secret);

/* Emitters call this between items; with sops_store_write active on this
 * buffer, what is staged goes out.  Returns 0 or -1. */
int sops_emit_point(struct buf *out);

int sops_yaml_parse(const char *src, size_t len, struct sops_docs *out);
int sops_yaml_emit(const struct sops_docs *docs, int indent, struct buf *out);
int sops_json_parse(const char *src, size_t len, struct sops_docs *out);
int sops_json_emit(const struct sops_docs *docs, int indent, struct buf *out);
int sops_dotenv_parse(const char *src, size_t len, struct sops_docs *out);
int sops_dotenv_emit(const struct sops_docs *docs, struct buf *out);
int sops_binary_parse(const char *src, size_t len, struct sops_docs *out);
/* Writes the `data` value's bytes; metadata must already be removed. */
int sops_binary_emit(const struct sops_docs *docs, struct buf *out);

/*
 * How YAML resolves a plain scalar (go-yaml v3 rules): null, bool, int
 * (decimal, 0x, 0o, 0b, legacy 0-octal), float, timestamp, else string.
 * canon receives the canonical text (int in decimal, float shortest,
 * bool True/False, time RFC 3339).  Returns 0 or -1 (integer out of
 * range, err set).
 */
int sops_yaml_resolve(const char *s, size_t len, enum sops_type *type,
		      struct buf *canon);

/* The largest number of nodes YAML aliases may expand to. */
#define SOPS_YAML_MAX_NODES 4000000

#endif
