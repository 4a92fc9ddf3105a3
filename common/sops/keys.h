/*
 * keys.h - the master-key interface.
 *
 * A key type (age, azure_kv, ...) registers a struct sops_keytype.  The
 * engine talks to it only in batches of requests, so a remote key type can
 * serve many files with one round trip:
 *
 *   wrap(reqs, n)    each request carries an entry (its fields, e.g. the
 *                    age recipient or the Key Vault URL parts) and a secret
 *                    (the 32-byte data key or a 33-byte Shamir share); the
 *                    key type sets the entry's "enc" field (and any other
 *                    field it owns, e.g. created_at) and req->status.
 *   unwrap(reqs, n)  each request carries an entry read from a file; the
 *                    key type fills secret/secret_len or fails that request.
 *
 * Per-request failures are recorded in req->status / req->err; the call
 * itself returns -1 only when it could not run at all.  A key type may keep
 * state between calls (identities, cached public keys, tokens) in its own
 * module.  Secrets in requests are wiped by sops_key_reqs_wipe().
 */
#ifndef COMMON_SOPS_KEYS_H
#define COMMON_SOPS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "sops/metadata.h"
#include "util/err.h"

#define SOPS_SECRET_MAX 64

struct sops_key_req {
	struct sops_key_entry *entry;
	unsigned char secret[SOPS_SECRET_MAX];
	size_t secret_len;
	int status;			/* 0 done, -1 failed (err holds why) */
	struct err_record err;
	size_t file, group;		/* which file of the call, which group */
};

struct sops_keytype {
	const char *name;		/* metadata list name: "age" */
	int (*wrap)(struct sops_key_req *reqs, size_t n);
	int (*unwrap)(struct sops_key_req *reqs, size_t n);
	/* A short id for messages (recipient, key URL): never secret. */
	void (*describe)(const struct sops_key_entry *e, char *out,
			 size_t cap);
};

/* Registers a key type (kept by pointer; at most 16).  age is built in. */
int sops_keytype_register(const struct sops_keytype *kt);
const struct sops_keytype *sops_keytype_find(const char *name);

void sops_key_reqs_wipe(struct sops_key_req *reqs, size_t n);

/*
 * Recovers the data keys of n files (md[i]) with as few calls per key type
 * as possible.  Within a group keys are tried in sops' order (age, pgp,
 * then kms, gcp_kms, hckms, azure_kv, hc_vault, or the order given by
 * SOPS_DECRYPTION_ORDER); groups are combined with Shamir when there are
 * several.  keys[i] receives 32 bytes; status[i] is 0 or -1 with errs[i]
 * (exit 128: no key could open it, naming each key and why).
 * Returns 0 when every file succeeded, -1 otherwise.
 */
int sops_data_keys_recover(struct sops_metadata **md, size_t n,
			   unsigned char (*keys)[32], int *status,
			   struct err_record *errs);
/* One file. */
int sops_data_key_recover(struct sops_metadata *md, unsigned char key[32]);

/*
 * Wraps data keys for n files: every entry of md[i] gets its enc (the key
 * itself with one group, group g's Shamir share with several; threshold
 * defaults to the number of groups).  Batched by key type.
 */
int sops_data_keys_wrap(struct sops_metadata **md, size_t n,
			unsigned char (*keys)[32]);

#endif
