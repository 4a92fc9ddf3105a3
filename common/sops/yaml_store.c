/*
 * YAML reading on libyaml events.  libyaml drops comments, so the text
 * between two events (never inside a scalar) is scanned for '#' comments;
 * each comment is kept pending with its column and attached to the
 * container whose next item follows it, or, at the end of a block
 * container, to that container when indented at least as deep as its items
 * (else it moves up to the parent).  Aliases are expanded into copies,
 * bounded by SOPS_YAML_MAX_NODES.
 */
#include "sops/store.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util/b64.h"
#include "util/err.h"
#include "util/fsutil.h"

struct pending {
	char *text;
	size_t len;
	size_t column;
	bool is_inline;
};

struct anchor {
	char *name;
	struct sops_node *node;	/* a copy, owned */
};

struct yp {
	yaml_parser_t parser;
	const char *src;
	size_t len;
	size_t cur_char, cur_byte;	/* char index -> byte offset cursor */
	size_t last_end;		/* byte offset scanned up to */
	struct pending *pend;
	size_t npend, cappend;
	struct anchor *anchors;
	size_t nanchors;
	size_t budget;
	size_t depth;
	bool in_map;		/* the node being read is a mapping value */
	size_t map_col;		/* column of that mapping's keys */
	int indent;		/* first nested block mapping's step */
	bool mapped;		/* src is a file mapping: release read pages */
	size_t released;
	struct buf canon;
};

/* libyaml marks count characters; the source is UTF-8. */
static size_t byte_at(struct yp *y, size_t ch)
{
	if (ch < y->cur_char) {
		y->cur_char = 0;
		y->cur_byte = 0;
	}
	while (y->cur_char < ch && y->cur_byte < y->len) {
		y->cur_byte++;
		while (y->cur_byte < y->len &&
		       ((unsigned char)y->src[y->cur_byte] & 0xC0) == 0x80)
			y->cur_byte++;
		y->cur_char++;
	}
	return y->cur_byte;
}

/* Length of the YAML line break at i (\n, \r, NEL, LS, PS), or 0. */
static size_t break_at(const struct yp *y, size_t i)
{
	const unsigned char *s = (const unsigned char *)y->src + i;
	size_t left = y->len - i;

	if (*s == '\n' || *s == '\r')
		return 1;
	if (left >= 2 && s[0] == 0xC2 && s[1] == 0x85)
		return 2;
	if (left >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
	    (s[2] == 0xA8 || s[2] == 0xA9))
		return 3;
	return 0;
}

static bool after_break(const struct yp *y, size_t i)
{
	size_t k;

	for (k = 1; k <= 3 && k <= i; k++)
		if (break_at(y, i - k) == k)
			return true;
	return false;
}

static int add_pending(struct yp *y, size_t hash, size_t end)
{
	size_t ls = hash, k;
	bool inl = false;
	struct pending *p;

	while (ls > 0 && !after_break(y, ls))
		ls--;
	/* inline: after a key or value on the same line ("- # c" is not) */
	for (k = ls; k < hash; k++)
		if (y->src[k] != ' ' && y->src[k] != '\t' && y->src[k] != '-')
			inl = true;
	if (y->npend == y->cappend) {
		size_t cap = y->cappend ? y->cappend * 2 : 8;

		p = realloc(y->pend, cap * sizeof(*p));
		if (!p)
			return err_set(EXIT_FAILED, "out of memory");
		y->pend = p;
		y->cappend = cap;
	}
	p = &y->pend[y->npend];
	p->len = end - hash - 1;
	if (p->len && y->src[hash + 1 + p->len - 1] == '\r')
		p->len--;
	p->text = malloc(p->len + 1);
	if (!p->text)
		return err_set(EXIT_FAILED, "out of memory");
	memcpy(p->text, y->src + hash + 1, p->len);
	p->text[p->len] = '\0';
	p->column = hash - ls;
	p->is_inline = inl;
	y->npend++;
	return 0;
}

/* Collects the comments in the source between last_end and ch. */
static int scan_gap(struct yp *y, size_t ch_start, size_t ch_end)
{
	size_t b = byte_at(y, ch_start), i;

	for (i = y->last_end; i < b; i++) {
		size_t e;

		if (y->src[i] != '#' || (i > 0 && y->src[i - 1] != ' ' &&
					 y->src[i - 1] != '\t' && !after_break(y, i)))
			continue;
		for (e = i; e < y->len && !break_at(y, e); e++)
			;
		if (add_pending(y, i, e) < 0)
			return -1;
		i = e;
	}
	if (b > y->last_end)
		y->last_end = b;
	b = byte_at(y, ch_end);
	if (b > y->last_end)
		y->last_end = b;
	return 0;
}

static int attach(struct yp *y, struct sops_node *c, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		struct pending *p = &y->pend[i];

		if (rc == 0)
			rc = sops_append(c, NULL, 0, sops_comment_new(
				p->text, p->len, p->is_inline));
		free(p->text);
	}
	if (n) {
		memmove(y->pend, y->pend + n, (y->npend - n) * sizeof(*y->pend));
		y->npend -= n;
	}
	return rc;
}

/* At the end of a block container: comments indented like its items. */
static int attach_tail(struct yp *y, struct sops_node *c, size_t col,
		       bool flow)
{
	size_t n = 0;

	while (n < y->npend && (flow || y->pend[n].is_inline ||
				y->pend[n].column >= col))
		n++;
	return attach(y, c, n);
}

/* Lets the pages well behind the reader go (they are never read again:
 * comment scanning looks back at most to the start of a line). */
static void release_behind(struct yp *y)
{
	size_t keep = 1 << 20;

	if (!y->mapped || y->last_end < y->released + 2 * keep)
		return;
	y->released = y->last_end - keep;
	fs_map_release(y->src, y->released);
}

static int next_event(struct yp *y, yaml_event_t *ev)
{
	release_behind(y);
	if (!yaml_parser_parse(&y->parser, ev))
		return err_set(EXIT_USAGE, "invalid YAML at line %zu column "
			       "%zu: %s", y->parser.problem_mark.line + 1,
			       y->parser.problem_mark.column + 1,
			       y->parser.problem ? y->parser.problem : "error");
	if (scan_gap(y, ev->start_mark.index, ev->end_mark.index) < 0) {
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

static struct sops_node *parse_node(struct yp *y, yaml_event_t *ev);

static int remember_anchor(struct yp *y, const yaml_char_t *name,
			   const struct sops_node *n)
{
	struct anchor *a;
	struct sops_node *copy;

	if (!name)
		return 0;
	copy = sops_node_copy(n, &y->budget);
	if (!copy)
		return -1;
	a = realloc(y->anchors, (y->nanchors + 1) * sizeof(*a));
	if (!a) {
		sops_node_free(copy);
		return err_set(EXIT_FAILED, "out of memory");
	}
	y->anchors = a;
	a[y->nanchors].name = strdup((const char *)name);
	a[y->nanchors].node = copy;
	if (!a[y->nanchors].name) {
		sops_node_free(copy);
		return err_set(EXIT_FAILED, "out of memory");
	}
	y->nanchors++;
	return 0;
}

static struct sops_node *alias_copy(struct yp *y, const yaml_char_t *name)
{
	size_t i;

	for (i = y->nanchors; i-- > 0;)
		if (!strcmp(y->anchors[i].name, (const char *)name))
			return sops_node_copy(y->anchors[i].node, &y->budget);
	err_set(EXIT_USAGE, "YAML alias *%s names no anchor", (const char *)name);
	return NULL;
}

static struct sops_node *binary_scalar(const char *v, size_t len)
{
	char *clean = malloc(len + 1);
	unsigned char *out = malloc(len / 4 * 3 + 4);
	struct sops_node *n = NULL;
	size_t i, o = 0, ol;

	if (!clean || !out) {
		err_set(EXIT_FAILED, "out of memory");
		goto done;
	}
	for (i = 0; i < len; i++)
		if (v[i] != ' ' && v[i] != '\n' && v[i] != '\r' && v[i] != '\t')
			clean[o++] = v[i];
	if (b64_decode(clean, o, B64_STD, out, &ol) < 0) {
		err_set(EXIT_USAGE, "invalid base64 in a !!binary value");
		goto done;
	}
	n = sops_scalar_new(SOPS_STR, (const char *)out, ol);
done:
	free(clean);
	free(out);
	return n;
}

static enum sops_style style_of(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: return SOPS_STYLE_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return SOPS_STYLE_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE: return SOPS_STYLE_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE: return SOPS_STYLE_FOLDED;
	default: return SOPS_STYLE_PLAIN;
	}
}

static bool core_tag(const char *tag)
{
	return !tag || !strcmp(tag, "!") ||
	       !strcmp(tag, "tag:yaml.org,2002:int") ||
	       !strcmp(tag, "tag:yaml.org,2002:float") ||
	       !strcmp(tag, "tag:yaml.org,2002:bool") ||
	       !strcmp(tag, "tag:yaml.org,2002:null") ||
	       !strcmp(tag, "tag:yaml.org,2002:timestamp");
}

static struct sops_node *scalar_node(struct yp *y, yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	enum sops_type t = SOPS_STR;
	struct sops_node *n;

	if (tag && !strcmp(tag, "tag:yaml.org,2002:binary"))
		return binary_scalar(v, len);
	if (ev->data.scalar.plain_implicit && core_tag(tag) &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (sops_yaml_resolve(v, len, &t, &y->canon) < 0)
			return NULL;
		n = sops_scalar_new(t, y->canon.data, y->canon.len);
		if (n && (t == SOPS_NULL || y->canon.len != len ||
			  memcmp(y->canon.data, v, len))) {
			n->raw = strndup(v, len);
			n->raw_len = len;
			if (!n->raw) {
				sops_node_free(n);
				err_set(EXIT_FAILED, "out of memory");
				return NULL;
			}
		}
	} else {
		n = sops_scalar_new(SOPS_STR, v, len);
	}
	if (n)
		n->style = style_of(ev->data.scalar.style);
	return n;
}

static int check_key(const struct sops_node *k)
{
	if (k->kind != SOPS_SCALAR || k->type != SOPS_STR)
		return err_set(EXIT_USAGE, "Tree contains a non-string key "
			       "('%s'); quote it to use it as a string",
			       k->kind == SOPS_SCALAR ? (k->raw ? k->raw : k->text)
						      : "collection");
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct sops_item *x = *(const struct sops_item *const *)a;
	const struct sops_item *y = *(const struct sops_item *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* A key given twice in one mapping is refused, as go-yaml does. */
static int check_duplicates(const struct sops_node *m)
{
	const struct sops_item **v;
	size_t i, n = 0;
	int rc = 0;

	if (m->n < 2)
		return 0;
	v = malloc(m->n * sizeof(*v));
	if (!v)
		return err_set(EXIT_FAILED, "out of memory");
	for (i = 0; i < m->n; i++)
		if (m->items[i].key)
			v[n++] = &m->items[i];
	qsort(v, n, sizeof(*v), cmp_key);
	for (i = 1; i < n && rc == 0; i++)
		if (cmp_key(&v[i - 1], &v[i]) == 0)
			rc = err_set(EXIT_USAGE, "mapping key \"%.*s\" already "
				     "defined", (int)v[i]->key_len, v[i]->key);
	free(v);
	return rc;
}

static struct sops_node *parse_mapping(struct yp *y, yaml_event_t *start)
{
	struct sops_node *m = sops_node_new(SOPS_MAP), *k = NULL;
	size_t col = start->start_mark.column;
	bool flow = start->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	yaml_event_t ev;

	bool was_in = y->in_map;
	size_t was_col = y->map_col;

	if (!m)
		return NULL;
	if (!flow && y->in_map && !y->indent && col > y->map_col)
		y->indent = (int)(col - y->map_col);
	y->in_map = !flow;
	y->map_col = col;
	for (;;) {
		if (next_event(y, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			y->in_map = was_in;
			y->map_col = was_col;
			if (check_duplicates(m) < 0 ||
			    attach_tail(y, m, col, flow) < 0)
				goto fail;
			return m;
		}
		if (attach(y, m, y->npend) < 0 || !(k = parse_node(y, &ev)) ||
		    check_key(k) < 0)
			goto fail;
		if (next_event(y, &ev) < 0)
			goto fail;
		if (sops_append(m, k->text, k->len, parse_node(y, &ev)) < 0)
			goto fail;
		sops_node_free(k);
		k = NULL;
	}
fail:
	sops_node_free(k);
	sops_node_free(m);
	return NULL;
}

/* Comments before a sequence item belong to the sequence, except those
 * indented deeper than its dash when the item is a block collection: they
 * are the first lines of that collection. */
static size_t lead_comments(struct yp *y, const yaml_event_t *ev, size_t col)
{
	size_t n = 0;

	if (ev->type != YAML_MAPPING_START_EVENT &&
	    ev->type != YAML_SEQUENCE_START_EVENT)
		return y->npend;
	while (n < y->npend && (y->pend[n].is_inline || y->pend[n].column <= col))
		n++;
	return n;
}

static struct sops_node *parse_sequence(struct yp *y, yaml_event_t *start)
{
	struct sops_node *s = sops_node_new(SOPS_SEQ);
	size_t col = start->start_mark.column;
	bool flow = start->data.sequence_start.style ==
		    YAML_FLOW_SEQUENCE_STYLE;
	yaml_event_t ev;

	bool was_in = y->in_map;

	if (!s)
		return NULL;
	y->in_map = false;
	for (;;) {
		if (next_event(y, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			y->in_map = was_in;
			if (attach_tail(y, s, col, flow) < 0)
				goto fail;
			return s;
		}
		if (attach(y, s, lead_comments(y, &ev, col)) < 0 ||
		    sops_append(s, NULL, 0, parse_node(y, &ev)) < 0)
			goto fail;
	}
fail:
	sops_node_free(s);
	return NULL;
}

/* Builds the node starting at ev (consumed). */
static struct sops_node *parse_node(struct yp *y, yaml_event_t *ev)
{
	struct sops_node *n = NULL;
	const yaml_char_t *anchor = NULL;

	if (++y->depth > 1000) {
		err_set(EXIT_USAGE, "YAML nesting deeper than 1000 levels");
		goto out;
	}
	if (y->budget == 0) {
		err_set(EXIT_USAGE, "YAML document has too many nodes");
		goto out;
	}
	y->budget--;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		n = scalar_node(y, ev);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		n = parse_mapping(y, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		n = parse_sequence(y, ev);
		break;
	case YAML_ALIAS_EVENT:
		n = alias_copy(y, ev->data.alias.anchor);
		break;
	default:
		err_set(EXIT_USAGE, "unexpected YAML event %d", ev->type);
	}
	if (n && anchor && remember_anchor(y, anchor, n) < 0) {
		sops_node_free(n);
		n = NULL;
	}
out:
	y->depth--;
	yaml_event_delete(ev);
	return n;
}

static struct sops_node *parse_document(struct yp *y)
{
	struct sops_node *root = NULL;
	yaml_event_t ev;

	if (next_event(y, &ev) < 0)
		return NULL;
	if (ev.type == YAML_DOCUMENT_END_EVENT) {
		yaml_event_delete(&ev);
		return sops_node_new(SOPS_MAP);
	}
	root = parse_node(y, &ev);
	if (!root)
		return NULL;
	if (root->kind == SOPS_SCALAR && root->type == SOPS_NULL) {
		sops_node_free(root);
		root = sops_node_new(SOPS_MAP);
	} else if (root->kind != SOPS_MAP) {
		sops_node_free(root);
		err_set(EXIT_USAGE, "YAML documents that are sequences or "
			"scalars are not supported: each document must be a "
			"mapping");
		return NULL;
	}
	if (!root || next_event(y, &ev) < 0 || attach(y, root, y->npend) < 0) {
		sops_node_free(root);
		return NULL;
	}
	yaml_event_delete(&ev);	/* DOCUMENT_END */
	return root;
}

static void yp_free(struct yp *y)
{
	size_t i;

	for (i = 0; i < y->npend; i++)
		free(y->pend[i].text);
	free(y->pend);
	for (i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		sops_node_free(y->anchors[i].node);
	}
	free(y->anchors);
	buf_free(&y->canon);
	yaml_parser_delete(&y->parser);
}

static int parse_stream(struct yp *y, struct sops_docs *out)
{
	yaml_event_t ev;

	if (next_event(y, &ev) < 0)
		return -1;
	yaml_event_delete(&ev);	/* STREAM_START */
	for (;;) {
		if (next_event(y, &ev) < 0)
			return -1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		yaml_event_delete(&ev);	/* DOCUMENT_START */
		if (sops_docs_push(out, parse_document(y)) < 0)
			return -1;
	}
}

static int yaml_parse(const char *src, size_t len, bool mapped,
		      struct sops_docs *out)
{
	struct yp y;
	int rc;

	memset(&y, 0, sizeof(y));
	y.mapped = mapped;
	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&y.parser))
		return err_set(EXIT_FAILED, "out of memory");
	buf_init_secret(&y.canon);	/* holds plaintext values */
	y.src = src;
	y.len = len;
	y.budget = SOPS_YAML_MAX_NODES;
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)src,
				     len);
	yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
	rc = parse_stream(&y, out);
	out->indent = y.indent;
	yp_free(&y);
	if (rc < 0)
		sops_docs_free(out);
	return rc;
}

int sops_yaml_parse(const char *src, size_t len, struct sops_docs *out)
{
	return yaml_parse(src, len, false, out);
}

int sops_store_parse_mapped(enum sops_format f, const char *map, size_t len,
			    struct sops_docs *out)
{
	if (f == SOPS_FMT_YAML)
		return yaml_parse(map, len, true, out);
	return sops_store_parse(f, map, len, out);
}
