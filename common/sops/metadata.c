#include "sops/metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/err.h"

const char *const SOPS_KEY_TYPES[7] = {
	"kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "age"
};

static void group_free(struct sops_key_group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		free(g->keys[i].type);
		sops_node_free(g->keys[i].fields);
	}
	free(g->keys);
}

void sops_metadata_free(struct sops_metadata *md)
{
	size_t i;

	for (i = 0; i < md->ngroups; i++)
		group_free(&md->groups[i]);
	free(md->groups);
	free(md->lastmodified);
	free(md->mac);
	free(md->version);
	sops_rule_free(&md->rule);
	memset(md, 0, sizeof(*md));
}

static const struct sops_item *field(const struct sops_node *m,
				     const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; m && m->kind == SOPS_MAP && i < m->n; i++)
		if (m->items[i].key && m->items[i].key_len == n &&
		    !strncasecmp(m->items[i].key, name, n))
			return &m->items[i];
	return NULL;
}

const char *sops_entry_get(const struct sops_key_entry *e, const char *name)
{
	const struct sops_item *it = field(e->fields, name);

	if (!it || it->val->kind != SOPS_SCALAR || it->val->type == SOPS_NULL)
		return NULL;
	return it->val->raw ? it->val->raw : it->val->text;	/* as spelled */
}

int sops_entry_set(struct sops_key_entry *e, const char *name,
		   const char *value)
{
	const struct sops_item *it = field(e->fields, name);
	struct sops_node *v;

	if (it) {
		it->val->kind = SOPS_SCALAR;
		it->val->type = SOPS_STR;
		return sops_node_set_text(it->val, value, strlen(value), false);
	}
	v = sops_scalar_new(SOPS_STR, value, strlen(value));
	return sops_append(e->fields, name, strlen(name), v);
}

struct sops_key_entry *sops_group_add(struct sops_key_group *g,
				      const char *type)
{
	struct sops_key_entry *k = realloc(g->keys, (g->n + 1) * sizeof(*k));

	if (!k) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	g->keys = k;
	k = &g->keys[g->n];
	k->type = strdup(type);
	k->fields = sops_node_new(SOPS_MAP);
	if (!k->type || !k->fields) {
		free(k->type);
		sops_node_free(k->fields);
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	g->n++;
	return k;
}

int sops_metadata_add_group(struct sops_metadata *md)
{
	struct sops_key_group *g = realloc(md->groups,
					   (md->ngroups + 1) * sizeof(*g));

	if (!g)
		return err_set(EXIT_FAILED, "out of memory");
	md->groups = g;
	memset(&g[md->ngroups++], 0, sizeof(*g));
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

static int read_entries(const struct sops_node *list, const char *type,
			struct sops_key_group *g)
{
	size_t i;

	if (list->kind == SOPS_SCALAR && list->type == SOPS_NULL)
		return 0;
	if (list->kind != SOPS_SEQ)
		return err_set(EXIT_USAGE, "sops metadata: '%s' is not a list",
			       type);
	for (i = 0; i < list->n; i++) {
		const struct sops_node *v = list->items[i].val;
		struct sops_key_entry *e;

		if (v->kind == SOPS_COMMENT)
			continue;
		if (v->kind != SOPS_MAP)
			return err_set(EXIT_USAGE, "sops metadata: an entry of "
				       "'%s' is not a map", type);
		e = sops_group_add(g, type);
		if (!e)
			return -1;
		sops_node_free(e->fields);
		e->fields = sops_node_copy(v, NULL);
		if (!e->fields)
			return -1;
	}
	return 0;
}

/* Reads the seven lists of a map (the block or a key group) into g. */
static int read_group(const struct sops_node *m, struct sops_key_group *g)
{
	size_t t;

	for (t = 0; t < 7; t++) {
		const struct sops_item *it = field(m, SOPS_KEY_TYPES[t]);

		if (it && read_entries(it->val, SOPS_KEY_TYPES[t], g) < 0)
			return -1;
	}
	return 0;
}

static int read_key_groups(const struct sops_node *kg,
			   struct sops_metadata *md)
{
	size_t i;

	if (kg->kind != SOPS_SEQ)
		return kg->type == SOPS_NULL ? 0 :
		       err_set(EXIT_USAGE, "sops metadata: key_groups is not "
			       "a list");
	for (i = 0; i < kg->n; i++) {
		if (kg->items[i].val->kind == SOPS_COMMENT)
			continue;
		if (sops_metadata_add_group(md) < 0 ||
		    read_group(kg->items[i].val,
			       &md->groups[md->ngroups - 1]) < 0)
			return -1;
	}
	return 0;
}

static char *scalar_dup(const struct sops_item *it)
{
	char *s;

	if (!it || it->val->kind != SOPS_SCALAR || it->val->type == SOPS_NULL)
		return NULL;
	s = strdup(it->val->raw ? it->val->raw : it->val->text);
	if (!s)
		err_set(EXIT_FAILED, "out of memory");
	return s;
}

static int read_rule(const struct sops_node *m, struct sops_metadata *md)
{
	int k, found = 0;

	for (k = 1; k < SOPS_RULE_COUNT; k++) {
		const struct sops_item *it = field(m, sops_rule_name(k));

		if (!it || it->val->kind != SOPS_SCALAR ||
		    it->val->type == SOPS_NULL)
			continue;
		if (found++)
			return err_set(EXIT_USAGE, "Cannot use more than one of "
				       "encrypted_suffix, unencrypted_suffix, "
				       "encrypted_regex, unencrypted_regex, "
				       "encrypted_comment_regex or "
				       "unencrypted_comment_regex");
		if (sops_rule_set(&md->rule, k, it->val->text) < 0)
			return -1;
	}
	return 0;
}

static int read_scalars(const struct sops_node *m, struct sops_metadata *md)
{
	const struct sops_item *it;

	md->lastmodified = scalar_dup(field(m, "lastmodified"));
	md->mac = scalar_dup(field(m, "mac"));
	md->version = scalar_dup(field(m, "version"));
	it = field(m, "shamir_threshold");
	if (it && it->val->kind == SOPS_SCALAR && it->val->type != SOPS_NULL)
		md->shamir_threshold = atoi(it->val->text);
	it = field(m, "mac_only_encrypted");
	if (it && it->val->kind == SOPS_SCALAR)
		md->mac_only_encrypted = !strcasecmp(it->val->text, "true") ||
					 !strcmp(it->val->text, "1");
	if (!md->lastmodified || !md->lastmodified[0])
		return err_set(EXIT_USAGE, "sops metadata has no lastmodified");
	return 0;
}

int sops_metadata_from_node(const struct sops_node *m,
			    struct sops_metadata *md)
{
	const struct sops_item *kg;

	memset(md, 0, sizeof(*md));
	if (!m || m->kind != SOPS_MAP) {
		return err_set(EXIT_USAGE, "the 'sops' metadata is not a map");
	}
	if (sops_metadata_add_group(md) < 0 || read_group(m, &md->groups[0]) < 0)
		goto fail;
	if (md->groups[0].n == 0) {
		group_free(&md->groups[0]);
		md->ngroups = 0;
		kg = field(m, "key_groups");
		if (kg && read_key_groups(kg->val, md) < 0)
			goto fail;
	}
	if (md->ngroups == 0) {
		err_set(EXIT_NO_KEY, "No keys found in file: the sops metadata "
			"lists no master key");
		goto fail;
	}
	if (read_rule(m, md) < 0 || read_scalars(m, md) < 0)
		goto fail;
	return 0;
fail:
	sops_metadata_free(md);
	return -1;
}

/* ---- writing ---------------------------------------------------------- */

static int add_str(struct sops_node *m, const char *k, const char *v,
		   enum sops_style style)
{
	struct sops_node *n = sops_scalar_new(SOPS_STR, v, strlen(v));

	if (n)
		n->style = style;
	return sops_append(m, k, strlen(k), n);
}

static int cmp_items(const void *a, const void *b)
{
	const struct sops_item *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key ? x->key : "", y->key ? y->key : "", n);

	if (c)
		return c;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static struct sops_node *sorted_copy(const struct sops_node *m)
{
	struct sops_node *c = sops_node_copy(m, NULL);

	if (c && c->kind == SOPS_MAP)
		qsort(c->items, c->n, sizeof(c->items[0]), cmp_items);
	return c;
}

static struct sops_node *entry_list(const struct sops_key_group *g,
				    const char *type)
{
	struct sops_node *l = sops_node_new(SOPS_SEQ);
	size_t i;

	for (i = 0; l && i < g->n; i++) {
		if (strcmp(g->keys[i].type, type))
			continue;
		if (sops_append(l, NULL, 0, sorted_copy(g->keys[i].fields)) < 0) {
			sops_node_free(l);
			return NULL;
		}
	}
	return l;
}

/* Adds the lists of g to m, alphabetically; always_types get [] too. */
static int add_lists(struct sops_node *m, const struct sops_key_group *g,
		     bool in_group)
{
	static const char *const ALPHA[7] = {
		"age", "azure_kv", "gcp_kms", "hc_vault", "hckms", "kms", "pgp"
	};
	size_t t;

	for (t = 0; t < 7; t++) {
		struct sops_node *l = entry_list(g, ALPHA[t]);
		bool always = in_group && (t == 0 || t == 3);

		if (!l)
			return -1;
		if (l->n == 0 && !always) {
			sops_node_free(l);
			continue;
		}
		if (sops_append(m, ALPHA[t], strlen(ALPHA[t]), l) < 0)
			return -1;
	}
	return 0;
}

static struct sops_node *groups_node(const struct sops_metadata *md)
{
	struct sops_node *l = sops_node_new(SOPS_SEQ);
	size_t i;

	for (i = 0; l && i < md->ngroups; i++) {
		struct sops_node *g = sops_node_new(SOPS_MAP);

		if (!g || add_lists(g, &md->groups[i], true) < 0 ||
		    sops_append(l, NULL, 0, g) < 0) {
			if (g && l->n == i)
				sops_node_free(g);
			sops_node_free(l);
			return NULL;
		}
	}
	return l;
}

static int add_int(struct sops_node *m, const char *k, long v)
{
	char t[32];

	snprintf(t, sizeof(t), "%ld", v);
	return sops_append(m, k, strlen(k), sops_scalar_new(SOPS_INT, t,
							     strlen(t)));
}

/* Every top-level field, then sorted: sops 3.13 writes them that way. */
static int add_fields(struct sops_node *m, const struct sops_metadata *md)
{
	if (md->ngroups == 1 ? add_lists(m, &md->groups[0], false) < 0 :
	    sops_append(m, "key_groups", 10, groups_node(md)) < 0)
		return -1;
	if (md->rule.kind != SOPS_RULE_NONE &&
	    add_str(m, sops_rule_name(md->rule.kind), md->rule.value,
		    SOPS_STYLE_ANY) < 0)
		return -1;
	if (add_str(m, "lastmodified", md->lastmodified ? md->lastmodified : "",
		    SOPS_STYLE_DOUBLE) < 0 ||
	    add_str(m, "mac", md->mac ? md->mac : "", SOPS_STYLE_ANY) < 0)
		return -1;
	if (md->mac_only_encrypted &&
	    sops_append(m, "mac_only_encrypted", 18,
			sops_scalar_new(SOPS_BOOL, "True", 4)) < 0)
		return -1;
	if (md->shamir_threshold > 0 &&
	    add_int(m, "shamir_threshold", md->shamir_threshold) < 0)
		return -1;
	return add_str(m, "version", md->version ? md->version : SOPS_VERSION,
		       SOPS_STYLE_ANY);
}

struct sops_node *sops_metadata_to_node(const struct sops_metadata *md)
{
	struct sops_node *m = sops_node_new(SOPS_MAP);

	if (!m)
		return NULL;
	if (add_fields(m, md) < 0) {
		sops_node_free(m);
		return NULL;
	}
	qsort(m->items, m->n, sizeof(m->items[0]), cmp_items);
	return m;
}

/* ---- placing the block in documents ----------------------------------- */

static bool is_sops_key(const struct sops_item *it, const char *prefix)
{
	size_t pl = strlen(prefix);

	return it->key && it->key_len >= pl && !memcmp(it->key, prefix, pl);
}

bool sops_docs_have_metadata(const struct sops_docs *docs, enum sops_format f)
{
	const struct sops_node *d;
	size_t i;

	if (docs->n == 0 || f == SOPS_FMT_BINARY)
		return false;
	d = docs->doc[0];
	if (f != SOPS_FMT_DOTENV)
		return sops_map_get(d, "sops", NULL) != NULL;
	for (i = 0; i < d->n; i++)
		if (is_sops_key(&d->items[i], "sops_"))
			return true;
	return false;
}

static int extract_dotenv(struct sops_node *d, struct sops_metadata *md)
{
	struct sops_node *flat = sops_node_new(SOPS_MAP), *tree;
	size_t i = 0;
	int rc;

	if (!flat)
		return -1;
	while (i < d->n) {
		struct sops_item *it = &d->items[i];

		if (!is_sops_key(it, "sops_")) {
			i++;
			continue;
		}
		if (sops_append(flat, it->key, it->key_len, it->val) < 0)
			return -1;
		it->val = NULL;
		free(it->key);
		memmove(it, it + 1, (d->n - i - 1) * sizeof(*it));
		d->n--;
	}
	if (flat->n == 0) {
		sops_node_free(flat);
		return 0;
	}
	tree = sops_unflatten(flat, "sops_");
	sops_node_free(flat);
	if (!tree)
		return -1;
	rc = sops_metadata_from_node(tree, md);
	sops_node_free(tree);
	return rc < 0 ? -1 : 1;
}

static int count_sops(const struct sops_node *d)
{
	size_t i;
	int c = 0;

	for (i = 0; i < d->n; i++)
		if (d->items[i].key && d->items[i].key_len == 4 &&
		    !memcmp(d->items[i].key, "sops", 4))
			c++;
	return c;
}

int sops_metadata_extract(struct sops_docs *docs, enum sops_format f,
			  struct sops_metadata *md)
{
	struct sops_node *m;
	size_t i, idx;
	int rc;

	if (docs->n == 0)
		return 0;
	if (f == SOPS_FMT_DOTENV)
		return extract_dotenv(docs->doc[0], md);
	if (count_sops(docs->doc[0]) > 1)
		return err_set(EXIT_USAGE, "the first document has more than one "
			       "'sops' key");
	m = sops_map_get(docs->doc[0], "sops", NULL);
	if (!m)
		return 0;
	rc = sops_metadata_from_node(m, md);
	if (rc < 0)
		return -1;
	for (i = 0; i < docs->n; i++)
		while (sops_map_get(docs->doc[i], "sops", &idx))
			sops_remove(docs->doc[i], idx);
	return 1;
}

int sops_metadata_insert(struct sops_docs *docs, enum sops_format f,
			 const struct sops_metadata *md)
{
	struct sops_node *m = sops_metadata_to_node(md);
	size_t i;
	int rc = 0;

	if (!m)
		return -1;
	if (f == SOPS_FMT_DOTENV) {
		rc = docs->n ? sops_flatten(m, "sops_", docs->doc[0]) : 0;
		sops_node_free(m);
		return rc;
	}
	for (i = 0; i < docs->n && rc == 0; i++)
		rc = sops_append(docs->doc[i], "sops", 4,
				 i + 1 == docs->n ? m : sops_node_copy(m, NULL));
	if (rc < 0 && i < docs->n)
		sops_node_free(m);
	return rc;
}

/* ---- time ------------------------------------------------------------- */

int sops_rfc3339_normalize(const char *in, char out[32])
{
	int y, mo, d, h, mi, s, n = 0, zh = 0, zm = 0;
	const char *p;
	char sign = '+';

	if (sscanf(in, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
		   &s, &n) != 6 || n == 0)
		return -1;
	p = in + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p;
		n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &n) != 2 || n != 5)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	if (zh == 0 && zm == 0)
		snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h,
			 mi, s);
	else
		snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y,
			 mo, d, h, mi, s, sign, zh, zm);
	return 0;
}

void sops_now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
