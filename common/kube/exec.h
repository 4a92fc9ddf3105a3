/*
 * exec.h - exec credential plugins (client.authentication.k8s.io v1 and
 * v1beta1), as kubelogin and other credential helpers implement them.
 *
 * kube_exec_run() runs the user's plugin once: parent environment plus the
 * stanza's env plus KUBERNETES_EXEC_INFO; stdin passed through only when
 * interactive; stdout captured (the credential); stderr left to the user
 * (device-code prompts arrive there).  No timeout is imposed.
 *
 * Ownership: the credential's strings belong to it; kube_credential_clear()
 * wipes and frees them.
 */
#ifndef COMMON_KUBE_EXEC_H
#define COMMON_KUBE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kube/config.h"

struct kube_credential {
	char *token;		/* bearer token (secret), or NULL */
	char *cert_pem;		/* client certificate PEM text, or NULL */
	size_t cert_len;
	char *key_pem;		/* its key (secret), or NULL */
	size_t key_len;
	time_t expiry;		/* 0: valid until rejected */
};

/*
 * Runs the plugin of `cfg->exec` for the cluster in `cfg`.  Returns 0 with
 * *out filled, or -1 with err_set(EXIT_FAILED, ...): "exec: executable X
 * not found" (hint: the plugin documentation and the installHint), "exec:
 * executable X failed with exit code N", or a malformed credential.
 */
int kube_exec_run(const struct kube_config *cfg, struct kube_credential *out);

/* True when the credential has expired, or will within `margin_s`. */
bool kube_credential_expired(const struct kube_credential *c, int margin_s);

void kube_credential_clear(struct kube_credential *c);

/* Parses an RFC 3339 time ("2026-11-29T10:15:02Z", fractions and offsets
 * allowed).  Returns 0 or -1 (no err_set). */
int kube_parse_rfc3339(const char *s, time_t *out);

/* Builds the KUBERNETES_EXEC_INFO JSON for `cfg` (exported for tests).
 * Returns a new string or NULL with err_set(). */
char *kube_exec_info(const struct kube_config *cfg, bool interactive);

#endif
