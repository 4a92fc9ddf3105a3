#include "sops/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sops/age.h"
#include "sops/shamir.h"
#include "util/buf.h"
#include "util/log.h"

#define MAX_TYPES 16

static const struct sops_keytype *types[MAX_TYPES];
static size_t ntypes;

int sops_keytype_register(const struct sops_keytype *kt)
{
	size_t i;

	for (i = 0; i < ntypes; i++)
		if (!strcmp(types[i]->name, kt->name)) {
			types[i] = kt;
			return 0;
		}
	if (ntypes == MAX_TYPES)
		return err_set(EXIT_FAILED, "too many key types");
	types[ntypes++] = kt;
	return 0;
}

const struct sops_keytype *sops_keytype_find(const char *name)
{
	size_t i;

	if (!strcmp(name, "age"))
		sops_keytype_register(&sops_age_keytype);
	for (i = 0; i < ntypes; i++)
		if (!strcmp(types[i]->name, name))
			return types[i];
	return NULL;
}

void sops_key_reqs_wipe(struct sops_key_req *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		explicit_bzero(reqs[i].secret, sizeof(reqs[i].secret));
		reqs[i].secret_len = 0;
	}
}

/* ---- decryption order ------------------------------------------------- */

static int rank(const char *type)
{
	const char *order = getenv("SOPS_DECRYPTION_ORDER");
	char buf[256], *tok, *save = NULL;
	int r = 0;

	snprintf(buf, sizeof(buf), "%s", order && *order ? order : "age,pgp");
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save), r++)
		if (!strcmp(tok, type))
			return r;
	return 100;
}

/* The group's entries in the order sops tries them. */
static struct sops_key_entry **ordered(struct sops_key_group *g)
{
	struct sops_key_entry **o = calloc(g->n + 1, sizeof(*o));
	size_t t, i, n = 0;
	int r, best;

	if (!o) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	for (best = 0; best <= 100; best++) {
		for (t = 0; t < 7; t++) {
			r = rank(SOPS_KEY_TYPES[t]);
			if (r != best)
				continue;
			for (i = 0; i < g->n; i++)
				if (!strcmp(g->keys[i].type, SOPS_KEY_TYPES[t]))
					o[n++] = &g->keys[i];
		}
	}
	return o;
}

/* ---- recovery --------------------------------------------------------- */

struct cand {
	size_t file, group;
	struct sops_key_entry **keys;
	size_t next;
	bool done, ok;
	unsigned char share[SOPS_SECRET_MAX];
	size_t share_len;
};

struct recovery {
	struct sops_metadata **md;
	size_t nfiles;
	struct cand *c;
	size_t nc;
	struct buf *why;		/* per file: what failed */
	struct err_record *hint;	/* per file: first remedy a key gave */
};

static void note(struct recovery *r, size_t file, const char *a,
		 const char *b, bool unsupported)
{
	struct buf *w = &r->why[file];

	buf_puts(w, w->len ? "; " : "");
	if (unsupported)
		buf_printf(w, "%s: key type '%s' is not supported by this tool",
			   a, b);
	else
		buf_printf(w, "%s: %s", a, b);
}

static void describe(const struct sops_key_entry *e, char *out, size_t cap)
{
	const struct sops_keytype *kt = sops_keytype_find(e->type);

	if (kt && kt->describe)
		kt->describe(e, out, cap);
	else
		snprintf(out, cap, "%s key", e->type);
}

/* Next usable key of a candidate, or NULL (candidate finished). */
static struct sops_key_entry *next_key(struct recovery *r, struct cand *c)
{
	while (c->keys[c->next]) {
		struct sops_key_entry *e = c->keys[c->next];

		if (sops_keytype_find(e->type))
			return e;
		note(r, c->file, e->type, e->type, true);
		c->next++;
	}
	c->done = true;
	return NULL;
}

static void take_result(struct recovery *r, struct cand *c,
			struct sops_key_req *q)
{
	char id[256];

	if (q->status == 0 && q->secret_len > 0) {
		memcpy(c->share, q->secret, q->secret_len);
		c->share_len = q->secret_len;
		c->ok = c->done = true;
		return;
	}
	describe(q->entry, id, sizeof(id));
	note(r, c->file, id, q->err.msg[0] ? q->err.msg : "failed", false);
	if (q->err.hint[0] && !r->hint[c->file].hint[0])
		snprintf(r->hint[c->file].hint, sizeof(r->hint[c->file].hint),
			 "%s", q->err.hint);
	c->next++;
}

/* Sends the requests of q (from t on) that share q[t]'s key type as one
 * batch and hands each result to its candidate (cand[i] = index in r->c). */
static int send_batch(struct recovery *r, struct sops_key_req *q,
		      const size_t *cand, bool *sent, size_t nq, size_t t)
{
	const struct sops_keytype *kt = sops_keytype_find(q[t].entry->type);
	struct sops_key_req *batch = calloc(nq, sizeof(*batch));
	size_t *from = calloc(nq, sizeof(*from)), j, k = 0;

	if (!batch || !from) {
		free(batch);
		free(from);
		return err_set(EXIT_FAILED, "out of memory");
	}
	for (j = t; j < nq; j++)
		if (!sent[j] && !strcmp(q[j].entry->type, kt->name)) {
			batch[k] = q[j];
			from[k++] = j;
			sent[j] = true;
		}
	if (kt->unwrap(batch, k) < 0)
		for (j = 0; j < k; j++)
			if (batch[j].status != 0) {
				batch[j].status = -1;
				err_save(&batch[j].err);
			}
	for (j = 0; j < k; j++)
		take_result(r, &r->c[cand[from[j]]], &batch[j]);
	sops_key_reqs_wipe(batch, k);
	free(batch);
	free(from);
	return 0;
}

/* One round: every open candidate tries its next key, batched by type.
 * Returns 1 when requests were sent, 0 when all are done, -1 on error. */
static int round_run(struct recovery *r)
{
	size_t n = r->nc ? r->nc : 1, i, nq = 0, t;
	struct sops_key_req *q = calloc(n, sizeof(*q));
	size_t *cand = calloc(n, sizeof(*cand));
	bool *sent = calloc(n, sizeof(*sent));
	int rc = 0;

	if (!q || !cand || !sent) {
		rc = err_set(EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < r->nc; i++) {
		struct sops_key_entry *e;

		if (r->c[i].done || !(e = next_key(r, &r->c[i])))
			continue;
		q[nq].entry = e;
		q[nq].status = -1;
		q[nq].file = r->c[i].file;
		q[nq].group = r->c[i].group;
		cand[nq++] = i;
	}
	for (t = 0; t < nq && rc == 0; t++)
		if (!sent[t])
			rc = send_batch(r, q, cand, sent, nq, t);
	if (rc == 0)
		rc = nq > 0 ? 1 : 0;
out:
	free(q);
	free(cand);
	free(sent);
	return rc;
}

static int combine(struct recovery *r, size_t f, unsigned char key[32])
{
	struct sops_metadata *md = r->md[f];
	unsigned char *sh[256];
	size_t i, k = 0, len = 0;
	unsigned thr = md->shamir_threshold > 0 ? (unsigned)md->shamir_threshold
						: (unsigned)md->ngroups;

	for (i = 0; i < r->nc; i++)
		if (r->c[i].file == f && r->c[i].ok && k < 256) {
			sh[k++] = r->c[i].share;
			len = r->c[i].share_len;
		}
	if (md->ngroups == 1) {
		if (k == 1 && len == 32) {
			memcpy(key, sh[0], 32);
			return 0;
		}
		return err_set(EXIT_NO_KEY, "Failed to get the data key required "
			       "to decrypt the SOPS file: no master key was able "
			       "to decrypt the file (%s)", r->why[f].data ?
			       r->why[f].data : "no keys");
	}
	if (k < thr)
		return err_set(EXIT_NO_KEY, "Failed to get the data key required "
			       "to decrypt the SOPS file: encrypted with a Shamir "
			       "threshold of %u, but only %zu part(s) were "
			       "recovered (%s)", thr, k, r->why[f].data ?
			       r->why[f].data : "no keys");
	if (len != 33)
		return err_set(EXIT_NO_KEY, "a Shamir share has the wrong size");
	return shamir_combine(sh, k, len, key);
}

/* The remedy for a file no key could open: the age one when an age key
 * lacked its identity, else the first one a key type gave. */
static void set_hint(struct recovery *r, size_t f)
{
	const char *why = r->why[f].data ? r->why[f].data : "";

	if (strstr(why, "age identit"))
		err_hint("give the age identity in SOPS_AGE_KEY or "
			 "SOPS_AGE_KEY_FILE, or put it in "
			 "~/.config/sops/age/keys.txt");
	else if (r->hint[f].hint[0])
		err_hint("%s", r->hint[f].hint);
}

static int setup(struct recovery *r)
{
	size_t f, g, n = 0;

	for (f = 0; f < r->nfiles; f++)
		n += r->md[f]->ngroups;
	r->c = calloc(n ? n : 1, sizeof(*r->c));
	r->why = calloc(r->nfiles, sizeof(*r->why));
	r->hint = calloc(r->nfiles, sizeof(*r->hint));
	if (!r->c || !r->why || !r->hint)
		return err_set(EXIT_FAILED, "out of memory");
	for (f = 0; f < r->nfiles; f++) {
		for (g = 0; g < r->md[f]->ngroups; g++) {
			struct cand *c = &r->c[r->nc++];

			c->file = f;
			c->group = g;
			c->keys = ordered(&r->md[f]->groups[g]);
			if (!c->keys)
				return -1;
		}
	}
	return 0;
}

static void teardown(struct recovery *r)
{
	size_t i;

	for (i = 0; r->c && i < r->nc; i++) {
		explicit_bzero(r->c[i].share, sizeof(r->c[i].share));
		free(r->c[i].keys);
	}
	for (i = 0; r->why && i < r->nfiles; i++)
		buf_free(&r->why[i]);
	free(r->c);
	free(r->why);
	free(r->hint);
}

int sops_data_keys_recover(struct sops_metadata **md, size_t n,
			   unsigned char (*keys)[32], int *status,
			   struct err_record *errs)
{
	struct recovery r = { md, n, NULL, 0, NULL };
	size_t f;
	int rc = 0, more;

	if (setup(&r) < 0) {
		teardown(&r);
		return -1;
	}
	while ((more = round_run(&r)) > 0)
		;
	for (f = 0; f < n; f++) {
		status[f] = more < 0 ? -1 : combine(&r, f, keys[f]);
		if (status[f] < 0) {
			set_hint(&r, f);
			err_save(&errs[f]);
			rc = -1;
		}
	}
	teardown(&r);
	return rc;
}

int sops_data_key_recover(struct sops_metadata *md, unsigned char key[32])
{
	struct err_record e;
	int st = 0;

	if (sops_data_keys_recover(&md, 1, (unsigned char (*)[32])key, &st,
				   &e) < 0) {
		err_restore(&e);
		return -1;
	}
	return 0;
}

/* ---- wrapping --------------------------------------------------------- */

static int fill_secrets(struct sops_metadata *md, const unsigned char *key,
			struct sops_key_req *q, size_t *nq, size_t file)
{
	unsigned char shares_mem[255][33], *sh[255];
	size_t g, i;
	unsigned thr;

	if (md->ngroups > 1) {
		if (md->ngroups > 255)
			return err_set(EXIT_USAGE, "too many key groups");
		thr = md->shamir_threshold > 0 ? (unsigned)md->shamir_threshold
					       : (unsigned)md->ngroups;
		for (g = 0; g < md->ngroups; g++)
			sh[g] = shares_mem[g];
		if (shamir_split(key, 32, (unsigned)md->ngroups, thr, sh) < 0)
			return -1;
	}
	for (g = 0; g < md->ngroups; g++) {
		for (i = 0; i < md->groups[g].n; i++) {
			struct sops_key_req *r = &q[(*nq)++];

			r->entry = &md->groups[g].keys[i];
			r->file = file;
			r->group = g;
			r->secret_len = md->ngroups > 1 ? 33 : 32;
			memcpy(r->secret, md->ngroups > 1 ? shares_mem[g] : key,
			       r->secret_len);
		}
	}
	explicit_bzero(shares_mem, sizeof(shares_mem));
	return 0;
}

static int wrap_batches(struct sops_key_req *q, size_t nq)
{
	size_t t, j, k;
	bool *sent = calloc(nq ? nq : 1, sizeof(bool));
	struct sops_key_req *batch = calloc(nq ? nq : 1, sizeof(*batch));
	int rc = 0;

	if (!sent || !batch) {
		free(sent);
		free(batch);
		return err_set(EXIT_FAILED, "out of memory");
	}
	for (t = 0; t < nq && rc == 0; t++) {
		const struct sops_keytype *kt = sops_keytype_find(q[t].entry->type);

		if (sent[t])
			continue;
		if (!kt || !kt->wrap) {
			rc = err_set(EXIT_USAGE, "cannot encrypt for key type "
				     "'%s': not supported by this tool",
				     q[t].entry->type);
			break;
		}
		for (k = 0, j = t; j < nq; j++)
			if (!sent[j] && !strcmp(q[j].entry->type, kt->name)) {
				batch[k++] = q[j];
				sent[j] = true;
			}
		if (kt->wrap(batch, k) < 0)
			rc = -1;
		for (j = 0; j < k && rc == 0; j++)
			if (batch[j].status != 0) {
				err_restore(&batch[j].err);
				rc = -1;
			}
		sops_key_reqs_wipe(batch, k);
	}
	free(sent);
	free(batch);
	return rc;
}

int sops_data_keys_wrap(struct sops_metadata **md, size_t n,
			unsigned char (*keys)[32])
{
	struct sops_key_req *q;
	size_t f, g, total = 0, nq = 0;
	int rc = 0;

	for (f = 0; f < n; f++) {
		if (md[f]->ngroups == 0)
			return err_set(EXIT_USAGE, "no master key to encrypt "
				       "with: give --age or --azure-kv, or a "
				       "creation rule in .sops.yaml");
		for (g = 0; g < md[f]->ngroups; g++)
			total += md[f]->groups[g].n;
	}
	q = calloc(total ? total : 1, sizeof(*q));
	if (!q)
		return err_set(EXIT_FAILED, "out of memory");
	for (f = 0; f < n && rc == 0; f++)
		rc = fill_secrets(md[f], keys[f], q, &nq, f);
	if (rc == 0)
		rc = wrap_batches(q, nq);
	sops_key_reqs_wipe(q, nq);
	free(q);
	return rc;
}
