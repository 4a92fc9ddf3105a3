#include "sops/tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static void *oom(void)
{
	err_set(EXIT_FAILED, "out of memory");
	return NULL;
}

static _Thread_local bool reserve_enc;

void sops_tree_reserve_for_encryption(bool on)
{
	reserve_enc = on;
}

/* Room for ENC[AES256_GCM,data:B64,iv:44,tag:24,type:comment] */
static size_t enc_room(size_t len)
{
	return 4 * ((len + 2) / 3) + 128;
}

static char *dup_cap(const char *s, size_t len, size_t cap)
{
	char *p = malloc(cap > len ? cap : len + 1);

	if (!p)
		return oom();
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *dup_bytes(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return oom();
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

struct sops_node *sops_node_new(enum sops_kind kind)
{
	struct sops_node *n = calloc(1, sizeof(*n));

	if (!n)
		return oom();
	n->kind = kind;
	n->type = kind == SOPS_SCALAR ? SOPS_NULL : SOPS_STR;
	return n;
}

struct sops_node *sops_scalar_new(enum sops_type type, const char *text,
				  size_t len)
{
	struct sops_node *n = sops_node_new(SOPS_SCALAR);

	if (!n)
		return NULL;
	n->type = type;
	n->len = text ? len : 0;
	n->text_cap = reserve_enc && n->len ? enc_room(n->len) : n->len + 1;
	n->text = dup_cap(text ? text : "", n->len, n->text_cap);
	if (!n->text) {
		free(n);
		return NULL;
	}
	return n;
}

struct sops_node *sops_comment_new(const char *text, size_t len,
				   bool is_inline)
{
	struct sops_node *n = sops_scalar_new(SOPS_STR, text, len);

	if (!n)
		return NULL;
	n->kind = SOPS_COMMENT;
	n->is_inline = is_inline;
	return n;
}

/* Every value text is wiped when released: a plaintext tree's values are
 * secrets whether or not they were marked (cheap next to parsing). */
static void wipe_free(char *p, size_t len, bool secret)
{
	(void)secret;
	if (p)
		explicit_bzero(p, len);
	free(p);
}

void sops_node_free(struct sops_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		free(n->items[i].key);
		sops_node_free(n->items[i].val);
	}
	free(n->items);
	wipe_free(n->text, n->len, n->secret);
	wipe_free(n->raw, n->raw_len, n->secret);
	free(n);
}

int sops_node_set_text(struct sops_node *n, const char *text, size_t len,
		       bool secret)
{
	size_t cap = n->text_cap ? n->text_cap : n->len + 1;
	char *p;

	if (n->text && len < cap) {	/* in place: no hole left behind */
		explicit_bzero(n->text, n->len);
		memmove(n->text, text, len);
		n->text[len] = '\0';
		wipe_free(n->raw, n->raw_len, n->secret);
		n->raw = NULL;
		n->raw_len = 0;
		n->len = len;
		n->secret = secret;
		return 0;
	}
	p = dup_bytes(text, len);
	if (!p)
		return -1;
	n->text_cap = len + 1;
	wipe_free(n->text, n->len, n->secret);
	wipe_free(n->raw, n->raw_len, n->secret);
	n->raw = NULL;
	n->raw_len = 0;
	n->text = p;
	n->len = len;
	n->secret = secret;
	return 0;
}

int sops_append(struct sops_node *c, const char *key, size_t key_len,
		struct sops_node *val)
{
	char *k = NULL;

	if (!val)
		return -1;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		struct sops_item *it = realloc(c->items, cap * sizeof(*it));

		if (!it) {
			sops_node_free(val);
			return err_set(EXIT_FAILED, "out of memory");
		}
		c->items = it;
		c->cap = cap;
	}
	if (key && !(k = dup_bytes(key, key_len))) {
		sops_node_free(val);
		return -1;
	}
	c->items[c->n].key = k;
	c->items[c->n].key_len = key ? key_len : 0;
	c->items[c->n].val = val;
	c->n++;
	return 0;
}

struct sops_node *sops_map_get(const struct sops_node *map, const char *key,
			       size_t *idx)
{
	size_t i, kl = strlen(key);

	if (!map || map->kind != SOPS_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct sops_item *it = &map->items[i];

		if (it->key && it->key_len == kl && !memcmp(it->key, key, kl)) {
			if (idx)
				*idx = i;
			return it->val;
		}
	}
	return NULL;
}

void sops_remove(struct sops_node *c, size_t idx)
{
	if (idx >= c->n)
		return;
	free(c->items[idx].key);
	sops_node_free(c->items[idx].val);
	memmove(&c->items[idx], &c->items[idx + 1],
		(c->n - idx - 1) * sizeof(c->items[0]));
	c->n--;
}

static int copy_text(struct sops_node *dst, const struct sops_node *src)
{
	if (src->text && !(dst->text = dup_bytes(src->text, src->len)))
		return -1;
	dst->len = src->len;
	dst->text_cap = src->len + 1;
	if (src->raw && !(dst->raw = dup_bytes(src->raw, src->raw_len)))
		return -1;
	dst->raw_len = src->raw_len;
	return 0;
}

struct sops_node *sops_node_copy(const struct sops_node *src, size_t *budget)
{
	struct sops_node *d;
	size_t i;

	if (budget) {
		if (*budget == 0) {
			err_set(EXIT_USAGE, "YAML aliases expand to too many "
				"nodes (alias bomb?)");
			return NULL;
		}
		(*budget)--;
	}
	d = sops_node_new(src->kind);
	if (!d)
		return NULL;
	d->type = src->type;
	d->style = src->style;
	d->is_inline = src->is_inline;
	d->secret = src->secret;
	if (copy_text(d, src) < 0)
		goto fail;
	for (i = 0; i < src->n; i++) {
		const struct sops_item *it = &src->items[i];

		if (sops_append(d, it->key, it->key_len,
				sops_node_copy(it->val, budget)) < 0)
			goto fail;
	}
	return d;
fail:
	sops_node_free(d);
	return NULL;
}

int sops_docs_push(struct sops_docs *d, struct sops_node *doc)
{
	if (!doc)
		return -1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 2;
		struct sops_node **p = realloc(d->doc, cap * sizeof(*p));

		if (!p) {
			sops_node_free(doc);
			return err_set(EXIT_FAILED, "out of memory");
		}
		d->doc = p;
		d->cap = cap;
	}
	d->doc[d->n++] = doc;
	return 0;
}

void sops_docs_free(struct sops_docs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		sops_node_free(d->doc[i]);
	free(d->doc);
	memset(d, 0, sizeof(*d));
}

size_t sops_node_count(const struct sops_node *n)
{
	size_t i, c = 1;

	for (i = 0; i < n->n; i++)
		c += sops_node_count(n->items[i].val);
	return c;
}

static bool bytes_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (al == 0 || !memcmp(a, b, al));
}

bool sops_node_equal(const struct sops_node *a, const struct sops_node *b)
{
	size_t i;

	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == SOPS_SCALAR && a->type != b->type)
		return false;
	if ((a->kind == SOPS_SCALAR || a->kind == SOPS_COMMENT) &&
	    !bytes_eq(a->text, a->len, b->text, b->len))
		return false;
	for (i = 0; i < a->n; i++) {
		const struct sops_item *x = &a->items[i], *y = &b->items[i];

		if ((x->key == NULL) != (y->key == NULL))
			return false;
		if (x->key && !bytes_eq(x->key, x->key_len, y->key, y->key_len))
			return false;
		if (!sops_node_equal(x->val, y->val))
			return false;
	}
	return true;
}
