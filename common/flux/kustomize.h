/*
 * kustomize.h - editing a Flux bootstrap directory the way a person would:
 * finding it, adding entries to its kustomization.yaml `patches:` list
 * while keeping every other byte (comments, order, quoting, line endings),
 * and showing changes as a unified diff (atomic writes: util/fsutil.h).
 *
 * Ownership: output buffers belong to the caller (buf_free); returned
 * strings are freed with free().
 */
#ifndef COMMON_FLUX_KUSTOMIZE_H
#define COMMON_FLUX_KUSTOMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

/* One `patches:` entry: a patch file and the object it targets. */
struct flux_patch_ref {
	const char *path;		/* relative to the kustomization */
	const char *kind;		/* "ServiceAccount" */
	const char *name;		/* "kustomize-controller" */
};

/*
 * Copies `text` (a kustomization.yaml named `name` in messages) into `out`
 * with every entry of `refs` that is not listed yet added to `patches:`.
 * An entry counts as listed when `patches:` has an item with that path, or
 * the legacy `patchesStrategicMerge:` list names that file.  New items take
 * the indentation of the existing ones (or of the file's other lists) and
 * go after the last item; a missing `patches:` key is added at the end.
 * *added receives how many entries were added (0: out equals text).
 * Returns 0, or -1 with err_set(EXIT_USAGE, ...) and a hint when the file
 * cannot be read as a kustomization or edited without rewriting it.
 */
int flux_kustomization_add_patches(const char *text, size_t len,
				   const char *name,
				   const struct flux_patch_ref *refs, size_t n,
				   struct buf *out, size_t *added);

/*
 * Appends a unified diff (3 lines of context) turning `a` into `b` to
 * `out`, labelled `label_a` / `label_b` ("/dev/null" for a new file).
 * Nothing is appended when they are equal.  Returns 0 or -1.
 */
int flux_unified_diff(const char *label_a, const char *a, size_t alen,
		      const char *label_b, const char *b, size_t blen,
		      struct buf *out);

/*
 * Finds the bootstrap directory (the one holding gotk-components.yaml):
 * `root` itself, else the only one below it (hidden directories skipped,
 * symbolic links not followed).  *dir receives a new string.  Returns 0,
 * or -1 with err_set(EXIT_USAGE, ...) when there is none or several.
 */
int flux_find_bootstrap_dir(const char *root, char **dir);

/* Reads a whole file into `out` (replacing its content).  *exists is false
 * (and 0 returned) when the file does not exist.  -1 with err_set(). */
int flux_read_file(const char *path, struct buf *out, bool *exists);

#endif
