/*
 * cmd_check.c - kubectl sopsenc check: refuse Secret manifests that hold
 * plaintext, whether never encrypted or encrypted with a selector that left
 * a value out.  Reads no key and decrypts nothing, so it is cheap enough for
 * a pre-commit hook (see .pre-commit-hooks.yaml).
 */
#include <stdio.h>
#include <string.h>

#include "manifest/manifest.h"
#include "sopsenc.h"
#include "util/err.h"
#include "util/log.h"

struct check {
	struct secret_docs docs;
	size_t skipped;		/* files that are not YAML or JSON */
};

static int scan_one(const char *path, void *arg)
{
	struct check *c = arg;

	if (manifest_scan_file(path, &c->docs) == 0)
		return 0;
	if (err_code() != EXIT_USAGE)
		return -1;
	log_warn("%s (skipped)", err_msg());
	err_clear();
	c->skipped++;
	return 0;
}

static void describe(const struct secret_doc *s, char *dst, size_t size)
{
	snprintf(dst, size, "%s/%s", s->namespace ? s->namespace : "-",
		 s->name ? s->name : "-");
}

/* Prints one line per plaintext value; returns how many. */
static size_t report(const struct secret_doc *s)
{
	char who[512];
	size_t i, found = 0;

	describe(s, who, sizeof(who));
	for (i = 0; i < s->nleaves; i++) {
		const struct secret_leaf *l = &s->leaves[i];

		if (l->encrypted)
			continue;
		printf("%s:%d:%s.%s: %s\n", s->file, l->line, l->section,
		       l->key, s->sops ? "left in plaintext by the selector "
		       "(encrypted_regex or suffix)" : "not encrypted");
		found++;
	}
	if (found)
		log_at(2, "Secret %s in %s: %zu plaintext value(s)", who,
		       s->file, found);
	return found;
}

int sopsenc_check(struct cli_ctx *ctx, void *args)
{
	static const char *const here[] = { "." };
	struct check c = { 0 };
	const char *last = NULL;
	size_t i, found = 0, files_hit = 0;
	int rc;

	(void)args;
	rc = manifest_walk(ctx->argc ? (const char *const *)ctx->argv : here,
			   ctx->argc ? (size_t)ctx->argc : 1, scan_one, &c);
	if (rc < 0) {
		secret_docs_free(&c.docs);
		return -1;
	}
	for (i = 0; i < c.docs.n; i++) {
		size_t n = report(&c.docs.v[i]);

		if (n && (!last || strcmp(last, c.docs.v[i].file) != 0))
			files_hit++;
		if (n)
			last = c.docs.v[i].file;
		found += n;
	}
	if (found)
		fprintf(stderr, "%s: %zu plaintext value%s in %zu file%s "
			"(%zu files, %zu Secrets checked)\n", log_prog(), found,
			found == 1 ? "" : "s", files_hit,
			files_hit == 1 ? "" : "s", c.docs.files, c.docs.n);
	else
		log_at(1, "no plaintext in %zu Secrets (%zu files)", c.docs.n,
		       c.docs.files);
	if (found)
		log_hint("encrypt them: kubectl sopsenc -i FILE (or -r -i DIR)");
	secret_docs_free(&c.docs);
	return found ? EXIT_FAILED : 0;
}
