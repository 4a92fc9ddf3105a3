/*
 * verify.h - the parts of `kubectl sopsverify` below the commands:
 * finding encrypted Secret manifests (manifest.c), judging a live Secret
 * against one (verdict.c), Flux Kustomizations and their inventories
 * (flux.c) and printing the results (report.c).
 *
 * Ownership: a struct vs_set owns its secrets, and each secret owns every
 * string and cJSON tree it points to.  Decrypted values (vs_secret.plain)
 * are secret: vs_set_free() wipes them.  Nothing here ever prints a value.
 */
#ifndef PLUGINS_SOPSVERIFY_VERIFY_H
#define PLUGINS_SOPSVERIFY_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "util/buf.h"

enum vs_verdict {
	VS_PENDING = 0,		/* not judged yet */
	VS_OK,
	VS_MISSING,
	VS_ENCRYPTED,
	VS_MISMATCH,
	VS_ERROR
};

const char *vs_verdict_name(enum vs_verdict v);

/* One key of a manifest: its name and, after decryption, its value. */
struct vs_key {
	char *name;
	bool from_string_data;	/* stringData (plain) rather than data (b64) */
	struct buf plain;	/* decrypted bytes (secret); empty until then */
	bool decrypted;
};

/* What the live side said about one key, for the report. */
struct vs_keynote {
	char *key;
	char fp_git[13];	/* short SHA-256 fingerprints, -v 2 only */
	char fp_live[13];
};

/* The Kustomization that owns a Secret, for MISSING/ENCRYPTED. */
struct vs_owner {
	char *namespace, *name;
	const char *via;		/* "inventory", "path", "--kustomization" */
	char *ready_status;		/* "True", "False", "Unknown" or NULL */
	char *ready_reason;
	char *ready_message;
	bool has_sops;			/* spec.decryption.provider: sops */
	char *applied_rev, *attempted_rev;
	char *target_namespace;		/* spec.targetNamespace or NULL */
	char *source_rev;		/* its source's revision, when read */
};

struct vs_secret {
	char *namespace;		/* NULL until known */
	char *name;
	char *file;			/* where the manifest is */
	int doc;			/* document index in the file (0-based) */
	cJSON *manifest;		/* the encrypted object (owned) */
	struct vs_key *keys;
	size_t nkeys;
	bool in_inventory;		/* only meaningful with --kustomization */
	char *fixed_error;		/* decryption failed: ERROR every round */

	/* the judgement */
	enum vs_verdict verdict;
	char *detail;			/* one line, no values */
	struct vs_keynote *notes;	/* keys that differ */
	size_t nnotes;
	char **missing_keys, **extra_keys, **encrypted_keys;
	size_t nmissing, nextra, nencrypted;
	char *edited_by;		/* MISMATCH: a writer other than Flux
					 * in managedFields ("kubectl-patch
					 * (Update, TIME)"), or NULL */
	struct vs_owner owner;		/* name NULL when unknown */
	char *next_step;
};

struct vs_set {
	struct vs_secret *s;
	size_t n, cap;
	char **warnings;		/* files skipped, ... */
	size_t nwarnings;
};

void vs_set_free(struct vs_set *set);
int vs_set_warn(struct vs_set *set, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forgets the verdicts (for --wait's next round). */
void vs_secret_reset(struct vs_secret *s);

/* Replaces *dst with a formatted string.  Returns 0, or -1 (memory). */
int vs_setf(char **dst, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- manifest.c --------------------------------------------------------- */

/*
 * True when a manifest object is a SOPS-encrypted Secret: apiVersion v1,
 * kind Secret, and a top-level `sops` map (or a data value that is itself a
 * sops document), and not exempted with the annotation
 * kustomize.toolkit.fluxcd.io/decrypt: disabled.
 */
bool vs_is_encrypted_secret(const cJSON *obj);

/*
 * Walks each PATH (a file or a directory) and adds every encrypted Secret
 * manifest to set.  A directory with a kustomization.yaml is followed
 * through its `resources` (its `namespace:` applies to what they hold);
 * one without is searched for *.yaml, *.yml and *.json.  Files that do not
 * parse are skipped with a warning.  Returns 0, or -1 with err_set() when
 * PATH cannot be read.
 */
int vs_discover(struct vs_set *set, char *const *paths, size_t n);

/* Fills the namespace of every manifest that has none. */
int vs_default_namespace(struct vs_set *set, const char *ns);
/* Sets every namespace (a Kustomization's targetNamespace). */
int vs_force_namespace(struct vs_set *set, const char *ns);

/* ---- verdict.c ---------------------------------------------------------- */

/* True when bytes look SOPS-encrypted: an ENC[AES256_GCM,...] value or a
 * document carrying a sops MAC. */
bool vs_looks_encrypted(const char *v, size_t n);

/* First 12 hex digits of the SHA-256 of v (out: 13 bytes). */
void vs_fingerprint(const void *v, size_t n, char out[13]);

/*
 * Judges s against the live Secret (NULL: it does not exist).  With
 * `compare_values` every decrypted key is compared in constant time with
 * the live value; `fingerprints` fills the notes' fingerprints (-v 2).
 * Sets s->verdict, s->detail and the key lists.  Returns 0 or -1 (memory).
 */
int vs_judge(struct vs_secret *s, const cJSON *live, bool compare_values,
	     bool fingerprints);

/* Records an ERROR verdict with the message. */
int vs_judge_error(struct vs_secret *s, const char *msg);

/* Decodes base64 (whitespace tolerated) into a (secret) buffer.  Returns
 * 0, 1 when the text is not base64, -1 when out of memory. */
int vs_b64_decode(const char *in, struct buf *out);

/* Decodes live data[key] (base64).  Returns a secret buffer via out;
 * 1 when present, 0 when absent, -1 on bad base64. */
int vs_live_value(const cJSON *live, const char *key, struct buf *out);

/* ---- flux.c ------------------------------------------------------------- */

/* One entry of a Kustomization's inventory that is a core Secret. */
struct vs_inv_ref {
	char *namespace, *name;
};

/*
 * Parses an inventory id "<ns>_<name>_<group>_<kind>" as cli-utils does.
 * Returns 0 and fills the four (new strings), or -1 when malformed.
 */
int vs_parse_inventory_id(const char *id, char **ns, char **name,
			  char **group, char **kind);

/* The Secrets listed in a Kustomization object's status.inventory. */
int vs_inventory_secrets(const cJSON *ks, struct vs_inv_ref **out,
			 size_t *n);
void vs_inv_free(struct vs_inv_ref *r, size_t n);

/* Fills o from a Kustomization object (Ready, decryption, revisions). */
int vs_owner_from_ks(struct vs_owner *o, const cJSON *ks, const char *via);
void vs_owner_free(struct vs_owner *o);

/* True when the Kustomization `ks` applies `file`: the file lies under
 * spec.path, taken relative to `root` (the repository's top). */
bool vs_ks_covers_path(const cJSON *ks, const char *root, const char *file);

/* The advice for a MISSING or ENCRYPTED Secret, from its owner.  Sets
 * s->next_step. */
int vs_advise(struct vs_secret *s);

/* ---- report.c ----------------------------------------------------------- */

/* What --kustomization adds to the report. */
struct vs_ks_summary {
	struct vs_owner ks;
	char *target_namespace;
	char *source_kind, *source_namespace, *source_name, *source_rev;
	struct vs_inv_ref *inv_only;	/* inventory Secrets no file encrypts */
	size_t ninv_only;
};

void vs_ks_summary_free(struct vs_ks_summary *k);

/* Counts verdicts; returns true when every one is OK (and there is at
 * least one Secret). */
bool vs_all_ok(const struct vs_set *set);

/* kubectl-style table plus the explanations of what is not OK. */
int vs_report_table(FILE *out, const struct vs_set *set,
		    const struct vs_ks_summary *ks, bool color);

/* The documented JSON document (docs/sopsverify-json.md).  NULL with
 * err_set() when out of memory. */
cJSON *vs_report_json(const struct vs_set *set,
		      const struct vs_ks_summary *ks, bool decrypt);

#endif
