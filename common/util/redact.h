/*
 * redact.h - the rule that keeps secrets out of every log level.
 *
 * Never printed: Authorization and other credential headers, bearer tokens
 * and JWTs, client secrets and assertions, data keys (the `value` of Key
 * Vault encrypt/decrypt/wrap bodies), Kubernetes Secret `data`/`stringData`,
 * TokenRequest tokens, passwords.  Logging code passes headers and bodies
 * through these functions; nothing else decides what is safe to show.
 */
#ifndef COMMON_UTIL_REDACT_H
#define COMMON_UTIL_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACTED "[REDACTED]"

/* True when a header of this name carries a credential. */
bool redact_header_is_secret(const char *name);

/* True when a JSON member or form field of this name holds a secret. */
bool redact_field_is_secret(const char *name);

/*
 * Returns a newly allocated, printable copy of an HTTP body with every
 * secret replaced by REDACTED: JSON (by member name, recursively),
 * x-www-form-urlencoded (by field name), anything else reduced to its size.
 * JWT-looking words are masked in all cases.  NULL only when out of memory.
 */
char *redact_body(const char *body, size_t len);

/* Masks, in place, every word of s that looks like a JWT or bearer token. */
void redact_tokens_inplace(char *s);

#endif
