/*
 * manifest.h - finding Kubernetes Secret manifests in files and directories.
 *
 * Used by `sopsenc check` (plaintext left in Secret manifests), `sopsenc -r`
 * (which files to encrypt) and `sopsverify` (which Secrets git holds).  It
 * reads YAML (every document of a multi-document file) and JSON with
 * libyaml's document loader, which keeps aliases as references, so an alias
 * bomb costs nothing.  No key is needed: nothing is decrypted here.
 */
#ifndef COMMON_MANIFEST_MANIFEST_H
#define COMMON_MANIFEST_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

/* One value under data: or stringData: of a Secret document. */
struct secret_leaf {
	char *section;		/* "data" or "stringData" */
	char *key;
	int line;		/* 1-based line of the value */
	bool encrypted;		/* the value is ENC[AES256_GCM,...] text */
};

/* One `kind: Secret` document.  Owns every string and the leaves. */
struct secret_doc {
	char *file;
	int doc;		/* 0-based index of the document in the file */
	int line;		/* 1-based line where the document starts */
	char *name;		/* NULL when metadata.name is absent */
	char *namespace;	/* NULL when metadata.namespace is absent */
	bool sops;		/* carries a sops: metadata block */
	struct secret_leaf *leaves;
	size_t nleaves;
};

struct secret_docs {
	struct secret_doc *v;
	size_t n, cap;
	size_t files;		/* files read */
	size_t documents;	/* documents read, Secrets or not */
};

/*
 * Appends the Secret documents of one file to `out`.  A file that is not
 * YAML or JSON at all is an error (exit 2) naming the file and the line.
 * Returns 0 or -1 with err_set().
 */
int manifest_scan_file(const char *path, struct secret_docs *out);

/* Same, for text already in memory; `path` only names it in messages. */
int manifest_scan_text(const char *path, const char *text, size_t len,
		       struct secret_docs *out);

/*
 * Calls fn for every manifest file under each path: a file given by name is
 * always visited; directories are walked (sorted, not following links into
 * other trees twice), skipping dot-directories such as .git, and visiting
 * files ending .yaml, .yml or .json.  Stops at the first fn that fails.
 */
int manifest_walk(const char *const *paths, size_t npaths,
		  int (*fn)(const char *path, void *arg), void *arg);

void secret_docs_free(struct secret_docs *d);

#endif
