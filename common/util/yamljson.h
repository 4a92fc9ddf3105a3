/*
 * yamljson.h - YAML text <-> cJSON, on libyaml.
 *
 * For kubeconfig files and Kubernetes manifests, where YAML is only a
 * spelling of JSON: comments, anchors' names and scalar styles are not kept
 * (the SOPS engine has its own comment-preserving tree).  Plain scalars are
 * resolved the way Kubernetes' YAML decoder (sigs.k8s.io/yaml on go-yaml
 * v2, YAML 1.1 rules) resolves them: null/~/empty -> null; true/false/yes/no
 * /on/off (and y/n) -> booleans; decimal, 0x hex, 0o/leading-0 octal and
 * 0b binary integers; floats, .inf and .nan; everything else a string.
 * Quoted scalars and scalars tagged !!str are always strings.  Aliases are
 * expanded; merge keys (<<) are applied; a duplicate key is an error.
 *
 * Ownership: returned cJSON trees belong to the caller (cJSON_Delete).
 */
#ifndef COMMON_UTIL_YAMLJSON_H
#define COMMON_UTIL_YAMLJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/buf.h"

/*
 * Parses the first document of `text` (YAML or JSON).  `name` names the
 * input in error messages ("kubeconfig /x/y").  An empty input yields a
 * cJSON null.  Returns NULL with err_set(EXIT_USAGE, "NAME: line L column C:
 * PROBLEM") on a syntax error.
 */
cJSON *yaml_parse(const char *text, size_t len, const char *name);

/*
 * Parses every document into a cJSON array (documents that are empty or
 * null are skipped).  Returns NULL with err_set() on error.
 */
cJSON *yaml_parse_all(const char *text, size_t len, const char *name);

/* Reads and parses a file (first document).  NULL with err_set() on error. */
cJSON *yaml_parse_file(const char *path);

/*
 * Flags for the _ex variants.  YAML_PLAIN_STRINGS keeps every plain scalar
 * but the null words a string ("y", "010", "true" stay text), for readers
 * that know their schema, as Go's decoder keeps a plain scalar text when
 * the target field is a string (kubeconfig: `name: y`); such a reader turns
 * "true"/"false" into booleans itself where it expects them.
 */
#define YAML_PLAIN_STRINGS 1u
cJSON *yaml_parse_ex(const char *text, size_t len, const char *name,
		     unsigned flags);
cJSON *yaml_parse_file_ex(const char *path, unsigned flags);

/*
 * Appends `value` to `out` as block-style YAML (one document, no "---").
 * Strings that would read back as another type are quoted; multi-line
 * strings use literal style.  Returns 0 or -1 with err_set().
 */
int yaml_emit(const cJSON *value, struct buf *out);

/* True when the plain scalar `s` would be read back as something other than
 * a string (so it must be quoted to stay a string). */
bool yaml_plain_is_special(const char *s);

#endif
