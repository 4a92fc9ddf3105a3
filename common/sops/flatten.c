/* sops' flattening of metadata into single-level keys (dotenv). */
#include "sops/metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static int flat_node(const struct sops_node *n, struct buf *key,
		     struct sops_node *out)
{
	size_t base = key->len, i, idx = 0;

	if (n->kind == SOPS_SCALAR) {
		struct sops_node *v = sops_scalar_new(SOPS_STR, n->text, n->len);

		if (v && n->type == SOPS_BOOL)
			sops_node_set_text(v, n->text[0] == 'T' ? "true" : "false",
					   n->text[0] == 'T' ? 4 : 5, false);
		return sops_append(out, key->data, key->len, v);
	}
	for (i = 0; i < n->n; i++) {
		const struct sops_item *it = &n->items[i];
		int rc;

		if (it->val->kind == SOPS_COMMENT)
			continue;
		rc = n->kind == SOPS_MAP ?
		     buf_puts(key, "__map_") < 0 ||
		     buf_append(key, it->key, it->key_len) < 0 :
		     buf_printf(key, "__list_%zu", idx++) < 0;
		if (rc || flat_node(it->val, key, out) < 0)
			return -1;
		key->len = base;
		key->data[base] = '\0';
	}
	return 0;
}

int sops_flatten(const struct sops_node *md, const char *prefix,
		 struct sops_node *out)
{
	struct buf key = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < md->n && rc == 0; i++) {
		const struct sops_item *it = &md->items[i];

		buf_reset(&key);
		rc = buf_puts(&key, prefix) < 0 ||
		     buf_append(&key, it->key, it->key_len) < 0 ? -1 :
		     flat_node(it->val, &key, out);
	}
	buf_free(&key);
	return rc;
}

/* Next segment of a flattened key: sets *is_list, the name or index. */
static const char *next_sep(const char *s, const char *end, bool *is_list)
{
	const char *p;

	for (p = s; p + 6 <= end; p++) {
		if (!memcmp(p, "__map_", 6)) {
			*is_list = false;
			return p;
		}
		if (p + 7 <= end && !memcmp(p, "__list_", 7)) {
			*is_list = true;
			return p;
		}
	}
	return end;
}

/* The child of c for a segment, created when missing. */
static struct sops_node *child(struct sops_node *c, bool is_list,
			       const char *seg, size_t sl, bool container,
			       bool next_list)
{
	struct sops_node *v;
	size_t idx, want;
	char tmp[24];

	if (!is_list) {
		for (idx = 0; idx < c->n; idx++)
			if (c->items[idx].key_len == sl &&
			    !memcmp(c->items[idx].key, seg, sl))
				return c->items[idx].val;
		v = container ? sops_node_new(next_list ? SOPS_SEQ : SOPS_MAP) :
				sops_scalar_new(SOPS_NULL, NULL, 0);
		return sops_append(c, seg, sl, v) < 0 ? NULL : v;
	}
	if (sl == 0 || sl >= sizeof(tmp))
		return NULL;
	memcpy(tmp, seg, sl);
	tmp[sl] = '\0';
	want = strtoul(tmp, NULL, 10);
	if (want > 10000)
		return NULL;
	while (c->n <= want)
		if (sops_append(c, NULL, 0, sops_scalar_new(SOPS_NULL, NULL, 0)) < 0)
			return NULL;
	v = c->items[want].val;
	if (container && v->kind == SOPS_SCALAR) {
		v->kind = next_list ? SOPS_SEQ : SOPS_MAP;
	}
	return v;
}

static int place(struct sops_node *root, const char *k, size_t kl,
		 const struct sops_node *val)
{
	const char *end = k + kl, *s = k, *sep;
	struct sops_node *c = root;
	bool is_list = false, nl = false;

	for (;;) {
		sep = next_sep(s, end, &nl);
		c = child(c, is_list, s, (size_t)(sep - s), sep < end, nl);
		if (!c || (sep < end && c->kind == SOPS_SCALAR))
			return err_set(EXIT_USAGE, "bad flattened metadata key "
				       "'%.*s'", (int)kl, k);
		if (sep == end)
			break;
		if ((c->kind == SOPS_SEQ) != nl)
			return err_set(EXIT_USAGE, "conflicting flattened "
				       "metadata key '%.*s'", (int)kl, k);
		is_list = nl;
		s = sep + (nl ? 7 : 6);
	}
	if (c->kind != SOPS_SCALAR || c->type != SOPS_NULL)
		return err_set(EXIT_USAGE, "duplicate flattened metadata key "
			       "'%.*s'", (int)kl, k);
	c->type = SOPS_STR;
	return sops_node_set_text(c, val->text, val->len, false);
}

static bool complete(const struct sops_node *n)
{
	size_t i;

	if (n->kind == SOPS_SCALAR)
		return n->type != SOPS_NULL;
	for (i = 0; i < n->n; i++)
		if (!complete(n->items[i].val))
			return false;
	return true;
}

struct sops_node *sops_unflatten(const struct sops_node *flat,
				 const char *prefix)
{
	struct sops_node *root = sops_node_new(SOPS_MAP);
	size_t i, pl = strlen(prefix);

	for (i = 0; root && i < flat->n; i++) {
		const struct sops_item *it = &flat->items[i];

		if (it->key_len <= pl || it->val->kind != SOPS_SCALAR)
			continue;
		if (place(root, it->key + pl, it->key_len - pl, it->val) < 0) {
			sops_node_free(root);
			return NULL;
		}
	}
	if (root && !complete(root)) {
		sops_node_free(root);
		err_set(EXIT_USAGE, "Incomplete list in flattened sops metadata");
		return NULL;
	}
	return root;
}
