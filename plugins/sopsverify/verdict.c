/*
 * verdict.c - one live Secret against one encrypted manifest.
 *
 * The order of the checks is the order of the contract's table: a Secret
 * that does not exist is MISSING; one whose values still hold sops text is
 * ENCRYPTED (whatever else is wrong with it, that is the first thing to
 * fix); then keys and, with --decrypt, values decide between MISMATCH and
 * OK.  Values are compared with CRYPTO_memcmp, never printed, and reach
 * the report only as short SHA-256 fingerprints (-v 2).
 */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/b64.h"
#include "util/err.h"

#define ENC_MARK "ENC[AES256_GCM,"

const char *vs_verdict_name(enum vs_verdict v)
{
	switch (v) {
	case VS_OK: return "OK";
	case VS_MISSING: return "MISSING";
	case VS_ENCRYPTED: return "ENCRYPTED";
	case VS_MISMATCH: return "MISMATCH";
	case VS_ERROR: return "ERROR";
	case VS_PENDING: break;
	}
	return "PENDING";
}

bool vs_looks_encrypted(const char *v, size_t n)
{
	/* Covers a single ENC[...] value and whole sops documents (their
	 * values and MAC carry the same prefix in every store). */
	return v && memmem(v, n, ENC_MARK, strlen(ENC_MARK)) != NULL;
}

void vs_fingerprint(const void *v, size_t n, char out[13])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(v, n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 6) {
		snprintf(out, 13, "%s", "?");
		return;
	}
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int vs_b64_decode(const char *in, struct buf *out)
{
	size_t n = strlen(in), len = 0;

	buf_reset(out);
	if (buf_reserve(out, n / 4 * 3 + 4) < 0)
		return -1;
	if (b64_decode_loose(in, n, (unsigned char *)out->data, &len) < 0) {
		explicit_bzero(out->data, out->cap);
		return 1;
	}
	out->len = len;
	out->data[len] = '\0';
	return 0;
}

int vs_live_value(const cJSON *live, const char *key, struct buf *out)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(live, "data");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
	int rc;

	buf_reset(out);
	if (!cJSON_IsString(v))
		return 0;
	rc = vs_b64_decode(v->valuestring, out);
	if (rc != 0)
		return -1;
	return 1;
}

static int push(char ***v, size_t *n, const char *s)
{
	char **m = reallocarray(*v, *n + 1, sizeof(**v));

	if (!m)
		return err_set(EXIT_FAILED, "out of memory");
	*v = m;
	m[*n] = strdup(s);
	if (!m[*n])
		return err_set(EXIT_FAILED, "out of memory");
	(*n)++;
	return 0;
}

int vs_setf(char **dst, const char *fmt, ...)
{
	va_list ap;
	int rc;

	free(*dst);
	va_start(ap, fmt);
	rc = vasprintf(dst, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		*dst = NULL;
		return err_set(EXIT_FAILED, "out of memory");
	}
	return 0;
}

static bool manifest_has(const struct vs_secret *s, const char *key)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, key) == 0)
			return true;
	return false;
}

/* Every live key: still encrypted?  Not in the manifest? */
static int scan_live(struct vs_secret *s, const cJSON *live)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(live, "data");
	const cJSON *v;
	struct buf val;
	int rc = 0;

	buf_init_secret(&val);
	cJSON_ArrayForEach(v, data) {
		int got = vs_live_value(live, v->string, &val);

		if (got == 1 && vs_looks_encrypted(val.data, val.len))
			rc = push(&s->encrypted_keys, &s->nencrypted,
				  v->string);
		if (rc == 0 && !manifest_has(s, v->string))
			rc = push(&s->extra_keys, &s->nextra, v->string);
		if (rc < 0)
			break;
	}
	buf_free(&val);
	return rc;
}

static int add_note(struct vs_secret *s, const struct vs_key *k,
		    const struct buf *live, bool fingerprints)
{
	struct vs_keynote *n = reallocarray(s->notes, s->nnotes + 1,
					    sizeof(*n));

	if (!n)
		return err_set(EXIT_FAILED, "out of memory");
	s->notes = n;
	n = &s->notes[s->nnotes];
	memset(n, 0, sizeof(*n));
	n->key = strdup(k->name);
	if (!n->key)
		return err_set(EXIT_FAILED, "out of memory");
	if (fingerprints) {
		vs_fingerprint(k->plain.data ? k->plain.data : "",
			       k->plain.len, n->fp_git);
		vs_fingerprint(live->data ? live->data : "", live->len,
			       n->fp_live);
	}
	s->nnotes++;
	return 0;
}

static bool same_bytes(const struct buf *a, const struct buf *b)
{
	if (a->len != b->len)
		return false;
	if (a->len == 0)
		return true;
	return CRYPTO_memcmp(a->data, b->data, a->len) == 0;
}

/* Manifest keys: absent live?  (With values) different? */
static int scan_manifest(struct vs_secret *s, const cJSON *live,
			 bool compare_values, bool fingerprints)
{
	struct buf val;
	int rc = 0;

	buf_init_secret(&val);
	for (size_t i = 0; i < s->nkeys && rc == 0; i++) {
		const struct vs_key *k = &s->keys[i];
		int got = vs_live_value(live, k->name, &val);

		if (got == 0)
			rc = push(&s->missing_keys, &s->nmissing, k->name);
		else if (compare_values && k->decrypted &&
			 (got < 0 || !same_bytes(&k->plain, &val)))
			rc = add_note(s, k, &val, fingerprints);
	}
	buf_free(&val);
	return rc;
}

/* Managers that write Secrets on Flux's behalf: not "by hand". */
static bool flux_manager(const char *m)
{
	return strcmp(m, "kustomize-controller") == 0 ||
	       strcmp(m, "before-first-apply") == 0;
}

/* The last writer other than Flux that metadata.managedFields names. */
static int find_hand_edit(struct vs_secret *s, const cJSON *live)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(live, "metadata");
	const cJSON *mf = cJSON_GetObjectItemCaseSensitive(md, "managedFields");
	const cJSON *e, *last = NULL;

	cJSON_ArrayForEach(e, mf) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manager");

		if (cJSON_IsString(m) && !flux_manager(m->valuestring))
			last = e;
	}
	if (!last)
		return 0;
	return vs_setf(&s->edited_by, "%s (%s, %s)",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			       last, "manager")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			       last, "operation")) ?: "?",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			       last, "time")) ?: "?");
}

static int append_list(struct buf *b, const char *label, char **v, size_t n)
{
	if (n == 0)
		return 0;
	if (b->len && buf_puts(b, "; ") < 0)
		return -1;
	if (buf_puts(b, label) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (buf_printf(b, "%s%s", i ? ", " : " ", v[i]) < 0)
			return -1;
	return 0;
}

static int mismatch_detail(struct vs_secret *s)
{
	struct buf b = BUF_INIT;
	int rc = 0;

	rc |= append_list(&b, "missing live:", s->missing_keys, s->nmissing);
	rc |= append_list(&b, "not in git:", s->extra_keys, s->nextra);
	for (size_t i = 0; i < s->nnotes && rc == 0; i++) {
		const struct vs_keynote *n = &s->notes[i];

		rc = buf_printf(&b, "%s%s", i == 0 ? (b.len ? "; value "
						     "differs: " : "value "
						     "differs: ") : ", ",
				n->key);
		if (rc == 0 && n->fp_git[0])
			rc = buf_printf(&b, " (git %s, live %s)", n->fp_git,
					n->fp_live);
	}
	if (rc == 0 && s->edited_by)
		rc = buf_printf(&b, "; also written by %s", s->edited_by);
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	free(s->detail);
	s->detail = buf_detach(&b, NULL);
	return 0;
}

int vs_judge(struct vs_secret *s, const cJSON *live, bool compare_values,
	     bool fingerprints)
{
	char count[64];

	vs_secret_reset(s);
	if (!live) {
		s->verdict = VS_MISSING;
		return vs_setf(&s->detail, "no such Secret in namespace %s",
				  s->namespace ? s->namespace : "?");
	}
	if (scan_live(s, live) < 0 ||
	    scan_manifest(s, live, compare_values, fingerprints) < 0)
		return -1;
	if (s->nencrypted) {
		struct buf b = BUF_INIT;

		s->verdict = VS_ENCRYPTED;
		if (append_list(&b, "still SOPS-encrypted (ENC[AES256_GCM,...])"
				":", s->encrypted_keys, s->nencrypted) < 0) {
			buf_free(&b);
			return -1;
		}
		free(s->detail);
		s->detail = buf_detach(&b, NULL);
		return 0;
	}
	if (s->nmissing || s->nextra || s->nnotes) {
		s->verdict = VS_MISMATCH;
		if (find_hand_edit(s, live) < 0)
			return -1;
		return mismatch_detail(s);
	}
	s->verdict = VS_OK;
	snprintf(count, sizeof(count), "%zu key%s%s", s->nkeys,
		 s->nkeys == 1 ? "" : "s",
		 compare_values ? ", values equal" : " present");
	return vs_setf(&s->detail, "%s", count);
}

int vs_judge_error(struct vs_secret *s, const char *msg)
{
	vs_secret_reset(s);
	s->verdict = VS_ERROR;
	return vs_setf(&s->detail, "%s", msg);
}
