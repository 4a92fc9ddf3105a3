/*
 * owners.h - the Kustomization that owns a Secret that is not OK (owners.c).
 */
#ifndef PLUGINS_SOPSVERIFY_OWNERS_H
#define PLUGINS_SOPSVERIFY_OWNERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cluster.h"
#include "verify.h"

/* The top of the git repository holding file (a directory with .git).
 * Returns 0, or -1 when the file is in no repository. */
int vs_repo_root(const char *file, char *out, size_t size);

/*
 * For every MISSING, ENCRYPTED or MISMATCH Secret: fills its owner (the
 * named Kustomization when not NULL, else found by inventory or path in
 * one LIST), turns MISSING into ENCRYPTED when Flux refused the Secret for
 * lack of decryption, and sets the next step.  A failed LIST becomes a
 * warning.  `source_rev`: the named Kustomization's source revision (or
 * NULL), to tell "not applied yet" apart.  Returns 0, or -1 (memory).
 */
int vs_find_owners(struct kube_client *kc, struct vs_set *set,
		   const cJSON *named_ks, const char *source_rev);

#endif
