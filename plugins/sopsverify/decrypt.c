/*
 * decrypt.c - --decrypt: every manifest decrypted locally, one object at a
 * time and without the MAC check, exactly as Flux's kustomize-controller
 * does it (sops-format.md 12.2-12.3), so that what we compare is what Flux
 * would have applied.
 *
 * Data keys are recovered once per distinct sops metadata block and in one
 * batch (sops/keys.h): the documents of a multi-document file share one
 * data key, so 1000 Secrets encrypted together cost one Key Vault decrypt
 * (or one age unwrap), and distinct blocks are unwrapped concurrently by
 * the azure_kv key type.  Plaintext lives only in secret buffers and is
 * wiped with them.
 */
#include "decrypt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/azkv_key.h"
#include "cli/output.h"
#include "cluster.h"
#include "sops/engine.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/log.h"

/* One manifest on its way through decryption. */
struct job {
	struct vs_secret *s;
	struct sops_docs docs;
	struct sops_metadata md;
	bool parsed;
	size_t slot;		/* index of its distinct metadata block */
};

struct batch {
	struct job *jobs;
	size_t n;
	struct sops_metadata **mds;	/* distinct blocks (borrowed) */
	char **ids;			/* their identities */
	size_t nmd;
	unsigned char (*keys)[32];
	int *status;
	struct err_record *errs;
};

static int keep_error(struct vs_secret *s, const char *what)
{
	char msg[ERR_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s", err_msg());
	err_clear();
	return vs_setf(&s->fixed_error, "%s: %s", what, msg);
}

static int fail_job(struct job *j)
{
	char what[512];

	snprintf(what, sizeof(what), "cannot decrypt %s document %d",
		 j->s->file, j->s->doc + 1);
	return keep_error(j->s, what);
}

/* The wrapped data keys of a block identify it: same enc, same key. */
static char *metadata_id(const struct sops_metadata *md)
{
	struct buf b = BUF_INIT;

	for (size_t g = 0; g < md->ngroups; g++) {
		for (size_t k = 0; k < md->groups[g].n; k++) {
			const struct sops_key_entry *e = &md->groups[g].keys[k];
			const char *enc = sops_entry_get(e, "enc");

			if (buf_printf(&b, "%zu/%s/%s\n", g, e->type,
				       enc ? enc : "") < 0) {
				buf_free(&b);
				return NULL;
			}
		}
	}
	if (!b.data && buf_puts(&b, "") < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

static int parse_job(struct job *j)
{
	char *text = cJSON_PrintUnformatted(j->s->manifest);
	int found;

	if (!text)
		return err_set(EXIT_FAILED, "out of memory");
	found = sops_json_parse(text, strlen(text), &j->docs);
	free(text);
	if (found < 0)
		return -1;
	j->parsed = true;
	found = sops_metadata_extract(&j->docs, SOPS_FMT_JSON, &j->md);
	if (found == 0)
		return err_set(EXIT_USAGE, "no top-level sops metadata (values "
			       "that are whole sops documents are compared "
			       "by key only)");
	return found < 0 ? -1 : 0;
}

static int add_slot(struct batch *b, struct job *j)
{
	char *id = metadata_id(&j->md);
	void *m1, *m2;

	if (!id)
		return err_set(EXIT_FAILED, "out of memory");
	for (size_t i = 0; i < b->nmd; i++) {
		if (strcmp(b->ids[i], id) == 0) {
			j->slot = i;
			free(id);
			return 0;
		}
	}
	m1 = reallocarray(b->mds, b->nmd + 1, sizeof(*b->mds));
	if (m1)
		b->mds = m1;
	m2 = reallocarray(b->ids, b->nmd + 1, sizeof(*b->ids));
	if (m2)
		b->ids = m2;
	if (!m1 || !m2) {
		free(id);
		return err_set(EXIT_FAILED, "out of memory");
	}
	b->mds[b->nmd] = &j->md;
	b->ids[b->nmd] = id;
	j->slot = b->nmd++;
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

static int finish_job(struct job *j, const unsigned char key[32])
{
	char hex[SOPS_MAC_HEX_LEN + 1];
	struct buf out;
	cJSON *plain = NULL;
	int rc;

	buf_init_secret(&out);
	rc = sops_walk_decrypt(&j->docs, &j->md.rule, j->md.mac_only_encrypted,
			       key, hex);
	if (rc == 0)
		rc = sops_json_emit(&j->docs, 0, &out);
	if (rc == 0) {
		plain = cJSON_ParseWithLength(out.data, out.len);
		if (!plain)
			rc = err_set(EXIT_USAGE, "the decrypted object is "
				     "not JSON");
	}
	buf_free(&out);
	for (size_t i = 0; rc == 0 && i < j->s->nkeys; i++)
		rc = take_value(&j->s->keys[i], plain);
	vs_json_wipe_delete(plain);
	return rc;
}

static int recover_keys(struct batch *b)
{
	b->keys = calloc(b->nmd ? b->nmd : 1, sizeof(*b->keys));
	b->status = calloc(b->nmd ? b->nmd : 1, sizeof(*b->status));
	b->errs = calloc(b->nmd ? b->nmd : 1, sizeof(*b->errs));
	if (!b->keys || !b->status || !b->errs)
		return err_set(EXIT_FAILED, "out of memory");
	if (b->nmd == 0)
		return 0;
	log_at(LOG_STEPS, "recovering %zu data key(s) for %zu manifest(s)",
	       b->nmd, b->n);
	progress_update("recovering %zu data key(s)", b->nmd);
	/* per-block failures land in status/errs */
	if (sops_data_keys_recover(b->mds, b->nmd, b->keys, b->status,
				   b->errs) < 0)
		err_clear();
	return 0;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->jobs[i].parsed)
			sops_docs_free(&b->jobs[i].docs);
		sops_metadata_free(&b->jobs[i].md);
	}
	for (size_t i = 0; i < b->nmd; i++)
		free(b->ids[i]);
	if (b->keys)
		explicit_bzero(b->keys, (b->nmd ? b->nmd : 1) *
			       sizeof(*b->keys));
	free(b->keys);
	free(b->status);
	free(b->errs);
	free(b->ids);
	free(b->mds);
	free(b->jobs);
}

static int prepare(struct batch *b, struct vs_set *set)
{
	b->jobs = calloc(set->n ? set->n : 1, sizeof(*b->jobs));
	if (!b->jobs)
		return err_set(EXIT_FAILED, "out of memory");
	for (size_t i = 0; i < set->n; i++) {
		struct job *j = &b->jobs[b->n++];

		j->s = &set->s[i];
		if (parse_job(j) == 0) {
			if (add_slot(b, j) < 0)
				return -1;
			continue;
		}
		j->slot = (size_t)-1;
		if (err_code() == EXIT_USAGE && strstr(err_msg(), "by key "
						       "only")) {
			int rc = vs_set_warn(set, "%s document %d: %s",
					     j->s->file, j->s->doc + 1,
					     err_msg());

			err_clear();
			if (rc < 0)
				return -1;
		} else if (fail_job(j) < 0) {
			return -1;
		}
	}
	return 0;
}

static int run_batch(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct job *j = &b->jobs[i];

		if (j->slot == (size_t)-1)
			continue;
		progress_update("decrypting %zu/%zu", i + 1, b->n);
		if (b->status[j->slot] < 0) {
			err_restore(&b->errs[j->slot]);
			if (fail_job(j) < 0)
				return -1;
			continue;
		}
		if (finish_job(j, b->keys[j->slot]) < 0 && fail_job(j) < 0)
			return -1;
	}
	return 0;
}

int vs_decrypt_all(struct vs_set *set, const char *azure_auth,
		   long request_timeout_ms)
{
	struct azkv_options ao = { azure_auth, request_timeout_ms, NULL };
	struct batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	if (azkv_register(&ao) < 0)
		return -1;
	rc = prepare(&b, set);
	if (rc == 0)
		rc = recover_keys(&b);
	if (rc == 0)
		rc = run_batch(&b);
	progress_done();
	batch_free(&b);
	azkv_shutdown();
	return rc;
}
