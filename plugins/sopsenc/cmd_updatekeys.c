/*
 * cmd_updatekeys.c - kubectl sopsenc updatekeys: each FILE's master keys
 * become those of its .sops.yaml creation rule (groups and Shamir
 * threshold).  The data key stays: values, lastmodified and the MAC are
 * untouched; only the key entries are rewritten (the data key, or its
 * Shamir shares, wrapped for the new keys).  Reports the keys added and
 * removed on stderr; a file already up to date is left alone.
 */
#include "sopsenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rekey.h"
#include "sops/config.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/log.h"

#define ID_MAX 1024

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A key's identity: its type and its fields except enc and created_at,
 * sorted by name ("age|recipient=age1..."). */
static void key_id(const struct sops_key_entry *e, char *out, size_t cap)
{
	const struct sops_node *m = e->fields;
	const char *names[32];
	size_t i, k = 0, used;

	for (i = 0; m && m->kind == SOPS_MAP && i < m->n && k < 32; i++) {
		const char *key = m->items[i].key;

		if (key && strcmp(key, "enc") && strcmp(key, "created_at") &&
		    m->items[i].val->kind == SOPS_SCALAR)
			names[k++] = key;
	}
	qsort(names, k, sizeof(*names), cmp_str);
	used = (size_t)snprintf(out, cap, "%s", e->type);
	for (i = 0; i < k && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "|%s=%s",
					 names[i], sops_entry_get(e, names[i]));
}

/* What the user reads: the recipient, the key URL, ... */
static void key_label(const struct sops_key_entry *e, char *out, size_t cap)
{
	const struct sops_keytype *kt = sops_keytype_find(e->type);
	char d[ID_MAX / 2];

	if (!kt || !kt->describe) {
		key_id(e, out, cap);
		return;
	}
	kt->describe(e, d, sizeof(d));
	if (!strncmp(d, e->type, strlen(e->type)))
		snprintf(out, cap, "%s", d);
	else
		snprintf(out, cap, "%s %s", e->type, d);
}

static bool group_has(const struct sops_key_group *g, const char *id)
{
	char other[ID_MAX];
	size_t i;

	for (i = 0; g && i < g->n; i++) {
		key_id(&g->keys[i], other, sizeof(other));
		if (!strcmp(other, id))
			return true;
	}
	return false;
}

static const char *field(const struct sops_key_entry *e, const char *name)
{
	const char *v = sops_entry_get(e, name);

	return v ? v : "";
}

/* The version of the Key Vault key `e` names in the file's old keys. */
static const char *old_version(const struct sops_metadata *old,
			       const struct sops_key_entry *e)
{
	size_t g, i;

	for (g = 0; g < old->ngroups; g++)
		for (i = 0; i < old->groups[g].n; i++) {
			const struct sops_key_entry *o = &old->groups[g].keys[i];

			if (!strcmp(o->type, "azure_kv") &&
			    *field(o, "version") &&
			    !strcmp(field(o, "vault_url"), field(e, "vault_url")) &&
			    !strcmp(field(o, "name"), field(e, "name")))
				return field(o, "version");
		}
	return NULL;
}

/* A rule's Key Vault URL without a version names the key the file already
 * uses when vault and name match: keep that version. */
static int pin_versions(struct sops_metadata *nm, const struct sops_metadata *old)
{
	size_t g, i;

	for (g = 0; g < nm->ngroups; g++)
		for (i = 0; i < nm->groups[g].n; i++) {
			struct sops_key_entry *e = &nm->groups[g].keys[i];
			const char *v;

			if (strcmp(e->type, "azure_kv") || *field(e, "version"))
				continue;
			v = old_version(old, e);
			if (v && sops_entry_set(e, "version", v) < 0)
				return -1;
		}
	return 0;
}

static int copy_groups(const struct sops_metadata *src, struct sops_metadata *dst)
{
	size_t g, i;

	for (g = 0; g < src->ngroups; g++) {
		if (sops_metadata_add_group(dst) < 0)
			return -1;
		for (i = 0; i < src->groups[g].n; i++) {
			const struct sops_key_entry *e = &src->groups[g].keys[i];
			struct sops_key_entry *d =
				sops_group_add(&dst->groups[g], e->type);

			if (!d)
				return -1;
			sops_node_free(d->fields);
			d->fields = sops_node_copy(e->fields, NULL);
			if (!d->fields)
				return err_set(EXIT_FAILED, "out of memory");
		}
	}
	dst->shamir_threshold = src->shamir_threshold;
	if (dst->ngroups > 1 && dst->shamir_threshold == 0)
		dst->shamir_threshold = (int)dst->ngroups;
	return 0;
}

/* Appends "    + label" / "    - label" lines for group g; counts them. */
static int diff_group(const struct sops_key_group *from,
		      const struct sops_key_group *to, char sign,
		      struct buf *report)
{
	char id[ID_MAX], label[ID_MAX];
	size_t i;
	int n = 0;

	for (i = 0; from && i < from->n; i++) {
		key_id(&from->keys[i], id, sizeof(id));
		if (group_has(to, id))
			continue;
		key_label(&from->keys[i], label, sizeof(label));
		if (buf_printf(report, "    %c %s\n", sign, label) < 0)
			return -1;
		n++;
	}
	return n;
}

static int diff_keys(const struct sops_metadata *old,
		     const struct sops_metadata *nm, struct buf *report)
{
	size_t g, ng = old->ngroups > nm->ngroups ? old->ngroups : nm->ngroups;
	int changes = 0, a, r;

	for (g = 0; g < ng; g++) {
		const struct sops_key_group *o = g < old->ngroups ?
						 &old->groups[g] : NULL;
		const struct sops_key_group *w = g < nm->ngroups ?
						 &nm->groups[g] : NULL;
		size_t mark = report->len;

		if (ng > 1 && buf_printf(report, "  group %zu:\n", g + 1) < 0)
			return -1;
		a = diff_group(w, o, '+', report);
		r = a < 0 ? -1 : diff_group(o, w, '-', report);
		if (a < 0 || r < 0)
			return -1;
		if (a + r == 0)
			report->len = mark;
		changes += a + r;
	}
	if (nm->ngroups > 1 && old->shamir_threshold != nm->shamir_threshold) {
		if ((old->ngroups > 1 ?
		     buf_printf(report, "  shamir_threshold: %d -> %d\n",
				old->shamir_threshold, nm->shamir_threshold) :
		     buf_printf(report, "  shamir_threshold: %d\n",
				nm->shamir_threshold)) < 0)
			return -1;
		changes++;
	}
	return changes;
}

/* The new keys of one file, and whether they differ from the old. */
static int plan_file(struct rk_file *f, const struct sops_config *cfg,
		     struct sops_metadata *nm, struct buf *report)
{
	struct sops_creation_rule cr;
	int changes;

	memset(&cr, 0, sizeof(cr));
	err_clear();
	if (sops_config_match(cfg, strcmp(f->path, "-") ? f->path : NULL,
			      &cr) <= 0) {
		if (err_code() == EXIT_OK)
			err_set(EXIT_USAGE, "%s has no creation_rules",
				cfg->path);
		sops_creation_rule_free(&cr);
		return err_prefix("%s", f->path);
	}
	if (copy_groups(&cr.keys, nm) < 0 || pin_versions(nm, &f->md) < 0) {
		sops_creation_rule_free(&cr);
		return -1;
	}
	sops_creation_rule_free(&cr);
	if (nm->ngroups == 0)
		return err_set(EXIT_USAGE, "%s: the matching creation rule in "
			       "%s names no master key", f->path, cfg->path);
	changes = diff_keys(&f->md, nm, report);
	if (changes < 0)
		return -1;
	f->changed = changes > 0;
	return 0;
}

struct update {
	struct rk_file *files;
	struct sops_metadata *nm;	/* the new keys of each file */
	unsigned char (*keys)[32];
	bool *use;
	size_t n;
	struct buf report;
};

/* The file's groups become nm's; its old groups end in nm (freed later). */
static void swap_groups(struct sops_metadata *md, struct sops_metadata *nm)
{
	struct sops_key_group *g = md->groups;
	size_t ng = md->ngroups;
	int t = md->shamir_threshold;

	md->groups = nm->groups;
	md->ngroups = nm->ngroups;
	md->shamir_threshold = nm->ngroups > 1 ? nm->shamir_threshold : 0;
	nm->groups = g;
	nm->ngroups = ng;
	nm->shamir_threshold = t;
}

static int rewrap(struct update *u, const char *config)
{
	struct sops_metadata **md = calloc(u->n, sizeof(*md));
	unsigned char (*keys)[32] = calloc(u->n, sizeof(*keys));
	size_t i, m = 0;
	int rc = -1, indent;

	if (!md || !keys) {
		err_set(EXIT_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < u->n; i++)
		if (u->use[i]) {
			swap_groups(&u->files[i].md, &u->nm[i]);
			md[m] = &u->files[i].md;
			memcpy(keys[m++], u->keys[i], 32);
		}
	if (m && sops_data_keys_wrap(md, m, keys) < 0)
		goto out;
	for (i = 0; i < u->n; i++)
		if (u->use[i] && (rk_indent(config, u->files[i].out_fmt,
					    &indent) < 0 ||
				  rk_emit(&u->files[i], indent) < 0))
			goto out;
	rc = 0;
out:
	if (keys)
		explicit_bzero(keys, u->n * sizeof(*keys));
	free(keys);
	free(md);
	return rc;
}

static int report_file(struct update *u, size_t i, size_t mark)
{
	const char *p = u->files[i].path;

	if (!u->use[i]) {
		fprintf(stderr, "%s: already up to date\n", p);
		return 0;
	}
	fprintf(stderr, "%s: keys updated\n%.*s", p,
		(int)(u->report.len - mark), u->report.data + mark);
	return 0;
}

static int update_all(struct update *u, char **paths,
		      const struct sopsenc_args *a)
{
	struct sops_config cfg;
	size_t i, changed = 0, *marks = calloc(u->n + 1, sizeof(*marks));
	int rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	if (!marks || sops_config_load(a->config, &cfg) < 0)
		goto out;
	if (!cfg.path) {
		err_set(EXIT_USAGE, "no .sops.yaml found in the working "
			"directory or its parents");
		err_hint("run updatekeys where the repository's .sops.yaml is, "
			 "or give --config PATH");
		goto out;
	}
	for (i = 0; i < u->n; i++) {
		marks[i] = u->report.len;
		if (rk_load(&u->files[i], paths[i], a) < 0 ||
		    plan_file(&u->files[i], &cfg, &u->nm[i], &u->report) < 0)
			goto out;
		u->use[i] = u->files[i].changed;
		changed += u->use[i];
	}
	marks[u->n] = u->report.len;
	if (rk_recover(u->files, u->n, u->use, u->keys) < 0 ||
	    rewrap(u, a->config) < 0 || rk_write_results(u->files, u->n, a) < 0)
		goto out;
	for (i = 0; i < u->n; i++)
		report_file(u, i, marks[i]);
	if (u->n > 1)
		fprintf(stderr, "updated %zu file%s, %zu already up to date\n",
			changed, changed == 1 ? "" : "s", u->n - changed);
	rc = 0;
out:
	sops_config_free(&cfg);
	free(marks);
	return rc;
}

int sopsenc_updatekeys(struct cli_ctx *ctx, void *args)
{
	const struct sopsenc_args *a = args;
	struct update u = { 0 };
	size_t i;
	int rc = -1;

	if (rk_check_args(ctx, a) < 0)
		return -1;
	u.n = (size_t)ctx->argc;
	u.files = calloc(u.n, sizeof(*u.files));
	u.nm = calloc(u.n, sizeof(*u.nm));
	u.keys = calloc(u.n, sizeof(*u.keys));
	u.use = calloc(u.n, sizeof(*u.use));
	buf_init(&u.report);
	if (!u.files || !u.nm || !u.keys || !u.use)
		err_set(EXIT_FAILED, "out of memory");
	else if (rk_begin(ctx, a->key_wrap) == 0) {
		rc = update_all(&u, ctx->argv, a);
		rk_end();
	}
	for (i = 0; u.files && i < u.n; i++) {
		rk_file_free(&u.files[i]);
		sops_metadata_free(&u.nm[i]);
	}
	if (u.keys)
		explicit_bzero(u.keys, u.n * sizeof(*u.keys));
	buf_free(&u.report);
	free(u.files);
	free(u.nm);
	free(u.keys);
	free(u.use);
	return rc;
}
