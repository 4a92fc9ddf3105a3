/*
 * decrypt.c - --decrypt: every manifest decrypted locally, one object at a
 * time and without the MAC check, exactly as Flux's kustomize-controller
 * does it (sops-format.md 12.2-12.3), so that what we compare is what Flux
 * would have applied.  The plaintext lives only in secret buffers.
 */
#include "decrypt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cluster.h"
#include "sops/engine.h"
#include "util/err.h"
#include "util/log.h"

static int keep_error(struct vs_secret *s, const char *what)
{
	free(s->fixed_error);
	if (asprintf(&s->fixed_error, "%s: %s", what, err_msg()) < 0) {
		s->fixed_error = NULL;
		return err_set(EXIT_FAILED, "out of memory");
	}
	err_clear();
	return 0;
}

/* The decoded bytes of one key of the decrypted object. */
static int take_value(struct vs_key *k, const cJSON *plain)
{
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(
		plain, k->from_string_data ? "stringData" : "data");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, k->name);
	int rc;

	buf_reset(&k->plain);
	if (!cJSON_IsString(v))
		return err_set(EXIT_USAGE, "key %s: not a string after "
			       "decryption", k->name);
	if (k->from_string_data) {
		rc = buf_append(&k->plain, v->valuestring,
				strlen(v->valuestring));
	} else {
		rc = vs_b64_decode(v->valuestring, &k->plain);
		if (rc > 0)
			return err_set(EXIT_USAGE, "key %s: data value is not "
				       "base64 after decryption", k->name);
	}
	if (rc < 0)
		return -1;
	k->decrypted = true;
	return 0;
}

static int decrypt_one(struct vs_secret *s)
{
	struct sops_decrypt_opts o = { SOPS_FMT_JSON, SOPS_FMT_JSON, NULL, 0,
				       true };
	char *text = cJSON_PrintUnformatted(s->manifest);
	struct buf out;
	cJSON *plain = NULL;
	int rc;

	if (!text)
		return err_set(EXIT_FAILED, "out of memory");
	buf_init_secret(&out);
	rc = sops_decrypt(text, strlen(text), &o, &out);
	free(text);
	if (rc == 0) {
		plain = cJSON_ParseWithLength(out.data, out.len);
		if (!plain)
			rc = err_set(EXIT_USAGE, "the decrypted object is "
				     "not JSON");
	}
	buf_free(&out);
	for (size_t i = 0; rc == 0 && i < s->nkeys; i++)
		rc = take_value(&s->keys[i], plain);
	vs_json_wipe_delete(plain);
	return rc;
}

int vs_decrypt_all(struct vs_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct vs_secret *s = &set->s[i];
		char what[512];

		progress_update("decrypting %zu/%zu: %s", i + 1, set->n,
				s->file);
		log_at(LOG_STEPS, "decrypting %s/%s (%s, document %d)",
		       s->namespace ? s->namespace : "-", s->name, s->file,
		       s->doc + 1);
		if (decrypt_one(s) == 0)
			continue;
		snprintf(what, sizeof(what), "cannot decrypt %s document %d",
			 s->file, s->doc + 1);
		if (keep_error(s, what) < 0) {
			progress_done();
			return -1;
		}
	}
	progress_done();
	return 0;
}
