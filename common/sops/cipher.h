/*
 * cipher.h - the sops value cipher: AES-256-GCM with a 32-byte random IV,
 * the path as additional data, and the text form
 * ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>].
 * Also the canonical plaintext encodings of typed values (what sops
 * encrypts and feeds into the MAC).
 */
#ifndef COMMON_SOPS_CIPHER_H
#define COMMON_SOPS_CIPHER_H

#include <stdbool.h>
#include <stddef.h>

#include "sops/tree.h"
#include "util/buf.h"

#define SOPS_DATA_KEY_LEN 32
#define SOPS_IV_LEN 32
#define SOPS_TAG_LEN 16

/* Type tags: "str", "int", "float", "bool", "time", "bytes", "comment".
 * A comment is written with type SOPS_STR and is_comment. */
const char *sops_type_tag(enum sops_type t, bool is_comment);

/* True when s starts with the ENC[AES256_GCM,data: prefix. */
bool sops_is_enc(const char *s, size_t len);

/* Encrypts pt under key with aad; appends the ENC[...] text to out.
 * iv may be NULL (random) or SOPS_IV_LEN bytes (tests). */
int sops_aes_encrypt(const unsigned char *key, const char *pt, size_t len,
		     const char *aad, size_t aad_len, const char *tag,
		     const unsigned char *iv, struct buf *out);

/*
 * Decrypts an ENC[...] text.  On success pt (a secret buffer) holds the
 * plaintext and type the tag (at most 15 chars).  Failure kinds: -1 with
 * err_set(EXIT_MAC, ...) when authentication fails, or with a format
 * message when the text is not sops' format.
 */
int sops_aes_decrypt(const unsigned char *key, const char *enc, size_t len,
		     const char *aad, size_t aad_len, struct buf *pt,
		     char type[16]);

/* Shortest round-trip positional decimal, as Go's FormatFloat(v,'f',-1,64):
 * "25.4", "1000000000000000000000", "NaN", "+Inf", "-0".  cap >= 400. */
void sops_format_float(double v, char *out, size_t cap);

/*
 * Turns decrypted plaintext of a given tag into a typed scalar's canonical
 * text (the MAC input): int re-printed in decimal, float re-printed
 * shortest, bool as True/False.  Sets *type.  Returns 0 or -1 (bad value
 * or unknown tag; err set).
 */
int sops_decode_typed(const char *tag, const char *pt, size_t len,
		      enum sops_type *type, struct buf *canon);

#endif
