/*
 * age.h - age v1 with X25519 recipients (age1...), as sops stores it: an
 * ASCII-armored age file per recipient whose payload is the data key.
 * Identities come from SOPS_AGE_KEY (whitespace separated),
 * SOPS_AGE_KEY_FILE and <config dir>/sops/age/keys.txt (XDG_CONFIG_HOME or
 * ~/.config), all collected, as sops does.
 */
#ifndef COMMON_SOPS_AGE_H
#define COMMON_SOPS_AGE_H

#include <stddef.h>

#include "sops/keys.h"
#include "util/buf.h"

extern const struct sops_keytype sops_age_keytype;

/* Parses an age1... recipient into its X25519 public key. */
int sops_age_parse_recipient(const char *s, unsigned char pk[32]);

/* Encrypts data to one recipient; appends the armored file (ending "\n")
 * to out. */
int sops_age_encrypt(const char *recipient, const unsigned char *data,
		     size_t len, struct buf *out);

/* Opens an armored (or binary) age file with any loaded identity; out is
 * a secret buffer.  -1 with err when no identity matches or it is bad. */
int sops_age_decrypt(const char *file, size_t len, struct buf *out);

/*
 * Identities.  The first sops_age_decrypt() loads them from the
 * environment unless sops_age_add_identities() was called first.
 * add_identities parses identity-file text (one per line, '#' and blank
 * lines skipped; also several per line separated by spaces).
 */
int sops_age_add_identities(const char *text, size_t len);
int sops_age_load_env_identities(void);
void sops_age_clear_identities(void);
size_t sops_age_identity_count(void);

/* The recipient (age1...) of an AGE-SECRET-KEY-1... identity. */
int sops_age_identity_recipient(const char *identity, char *out, size_t cap);

#endif
