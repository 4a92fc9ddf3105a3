/*
 * kustomize.c - adding `patches:` entries to a kustomization.yaml without
 * rewriting it.
 *
 * The file is parsed once (yamljson) to learn what it already lists; the
 * edit itself is textual: new lines are spliced in at one place, so every
 * other byte stays as the user wrote it.
 */
#include "flux/kustomize.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/err.h"
#include "util/yamljson.h"

/* One line of the text: [off, off+len) without its line break, next is
 * where the following line starts. */
struct line {
	size_t off, len, next;
};

struct lines {
	struct line *v;
	size_t n;
};

static int split_lines(const char *t, size_t len, struct lines *ls)
{
	size_t cap = 16, off = 0;

	ls->n = 0;
	ls->v = malloc(cap * sizeof(*ls->v));
	if (!ls->v)
		return err_set(EXIT_FAILED, "out of memory");
	while (off < len) {
		const char *nl = memchr(t + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - t) : len;
		struct line *l;

		if (ls->n == cap) {
			struct line *nv = realloc(ls->v, 2 * cap * sizeof(*nv));

			if (!nv) {
				free(ls->v);
				return err_set(EXIT_FAILED, "out of memory");
			}
			ls->v = nv;
			cap *= 2;
		}
		l = &ls->v[ls->n++];
		l->off = off;
		l->len = end - off;
		if (l->len > 0 && t[end - 1] == '\r')
			l->len--;
		l->next = nl ? end + 1 : len;
		off = l->next;
	}
	return 0;
}

static size_t indent_of(const char *t, const struct line *l)
{
	size_t i = 0;

	while (i < l->len && t[l->off + i] == ' ')
		i++;
	return i;
}

static bool is_blank(const char *t, const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (t[l->off + i] != ' ' && t[l->off + i] != '\t')
			return false;
	return true;
}

/* First non-space character is '#'. */
static bool is_comment(const char *t, const struct line *l)
{
	size_t i = indent_of(t, l);

	return i < l->len && t[l->off + i] == '#';
}

static bool is_content(const char *t, const struct line *l)
{
	return !is_blank(t, l) && !is_comment(t, l);
}

/* A sequence item at its indentation: "- x" or a lone "-". */
static bool is_item(const char *t, const struct line *l)
{
	size_t i = indent_of(t, l);

	return i < l->len && t[l->off + i] == '-' &&
	       (i + 1 == l->len || t[l->off + i + 1] == ' ' ||
		t[l->off + i + 1] == '\t');
}

static bool is_doc_marker(const char *t, const struct line *l)
{
	return l->len >= 3 && (memcmp(t + l->off, "---", 3) == 0 ||
			       memcmp(t + l->off, "...", 3) == 0) &&
	       (l->len == 3 || t[l->off + 3] == ' ');
}

/*
 * When line l is the top-level key `key` ("key:", "'key':", "\"key\":"),
 * returns the offset within the line just after the colon, else 0.
 */
static size_t top_key(const char *t, const struct line *l, const char *key)
{
	size_t k = strlen(key), i = 0;
	const char *s = t + l->off;
	char q = 0;

	if (l->len == 0 || s[0] == ' ' || s[0] == '\t')
		return 0;
	if (s[0] == '"' || s[0] == '\'')
		q = s[i++];
	if (l->len < i + k || memcmp(s + i, key, k) != 0)
		return 0;
	i += k;
	if (q) {
		if (i >= l->len || s[i] != q)
			return 0;
		i++;
	}
	while (i < l->len && s[i] == ' ')
		i++;
	if (i >= l->len || s[i] != ':')
		return 0;
	if (i + 1 < l->len && s[i + 1] != ' ' && s[i + 1] != '\t')
		return 0;
	return i + 1;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* "./a/b" and "a/b" name the same file. */
static bool same_path(const char *a, const char *b)
{
	while (a[0] == '.' && a[1] == '/')
		a += 2;
	while (b[0] == '.' && b[1] == '/')
		b += 2;
	return strcmp(a, b) == 0;
}

static bool listed(const cJSON *root, const char *path)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root,
								"patches")) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");

		if (cJSON_IsString(p) && same_path(p->valuestring, path))
			return true;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
				       root, "patchesStrategicMerge")) {
		if (cJSON_IsString(it) && same_path(it->valuestring, path))
			return true;
	}
	return false;
}

/* The edit: replace [from, to) of the text with what `ins` holds. */
struct edit {
	const char *t;
	size_t len;
	const char *eol;
	size_t from, to;
	struct buf ins;
};

static int put_item(struct buf *b, size_t ind, const char *eol,
		    const struct flux_patch_ref *r)
{
	char pad[64];

	if (ind >= sizeof(pad))
		ind = sizeof(pad) - 1;
	memset(pad, ' ', ind);
	pad[ind] = '\0';
	return buf_printf(b, "%s- path: %s%s%s  target:%s%s    kind: %s%s"
			  "%s    name: %s%s", pad, r->path, eol, pad, eol, pad,
			  r->kind, eol, pad, r->name, eol);
}

static int put_items(struct buf *b, size_t ind, const char *eol,
		     const struct flux_patch_ref *const *todo, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (put_item(b, ind, eol, todo[i]) < 0)
			return -1;
	return 0;
}

static int put_flow_items(struct buf *b, bool first,
			  const struct flux_patch_ref *const *todo, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf_printf(b, "%s{path: %s, target: {kind: %s, name: %s}}",
			       first && i == 0 ? "" : ", ", todo[i]->path,
			       todo[i]->kind, todo[i]->name) < 0)
			return -1;
	}
	return 0;
}

/* The indentation of the first block sequence under a top-level key
 * (the file's own style); 0 when there is none. */
static size_t house_indent(const char *t, const struct lines *ls)
{
	for (size_t i = 0; i + 1 < ls->n; i++) {
		const struct line *l = &ls->v[i];

		if (l->len == 0 || t[l->off] == ' ' || t[l->off] == '#')
			continue;
		for (size_t j = i + 1; j < ls->n; j++) {
			if (!is_content(t, &ls->v[j]))
				continue;
			if (is_item(t, &ls->v[j]))
				return indent_of(t, &ls->v[j]);
			break;
		}
	}
	return 0;
}

/* `patches:` absent: append the key and the items at the end. */
static int edit_append(struct edit *e, const struct lines *ls,
		       const struct flux_patch_ref *const *todo, size_t n)
{
	e->from = e->to = e->len;
	if (e->len > 0 && e->t[e->len - 1] != '\n' &&
	    buf_puts(&e->ins, e->eol) < 0)
		return -1;
	if (buf_printf(&e->ins, "patches:%s", e->eol) < 0)
		return -1;
	return put_items(&e->ins, house_indent(e->t, ls), e->eol, todo, n);
}

/*
 * `patches: []`, `patches: null`, `patches: ~`: the value ends at tok_end;
 * the key keeps its line (and any comment after the value) and the items
 * follow as a block list.
 */
static int edit_empty(struct edit *e, const struct lines *ls,
		      const struct line *l, size_t colon, const char *tok_end,
		      const struct flux_patch_ref *const *todo, size_t n)
{
	const char *end = e->t + l->off + l->len;

	e->from = l->off + colon;
	e->to = l->next;
	if (buf_append(&e->ins, tok_end, (size_t)(end - tok_end)) < 0 ||
	    buf_puts(&e->ins, e->eol) < 0)
		return -1;
	return put_items(&e->ins, house_indent(e->t, ls), e->eol, todo, n);
}

/* `patches: [a, b]` on one line: new flow items go before the ']'. */
static int edit_flow(struct edit *e, const struct lines *ls,
		     const struct line *l, size_t colon, const char *name,
		     const struct flux_patch_ref *const *todo, size_t n)
{
	const char *s = e->t + l->off, *end = s + l->len;
	const char *open = skip_ws(s + colon, end);
	const char *close = memchr(open, ']', (size_t)(end - open));
	const char *in;

	if (!close || memchr(open + 1, '[', (size_t)(close - open - 1))) {
		err_set(EXIT_USAGE, "%s: its patches: list is written in flow "
			"style over several lines or with nested values, "
			"which cannot be extended without rewriting it", name);
		return err_hint("write it as a block list (one '- path: ...' "
				"item per entry) and run again");
	}
	in = skip_ws(open + 1, close);
	if (in == close)
		return edit_empty(e, ls, l, colon, close + 1, todo, n);
	e->from = e->to = (size_t)(close - e->t);
	while (e->from > (size_t)(in - e->t) && e->t[e->from - 1] == ' ')
		e->from = e->to = e->from - 1;
	return put_flow_items(&e->ins, false, todo, n);
}

/*
 * Block list after `patches:` at line index k.  Items may be indented or
 * not; the list ends at the first content line that is neither an item
 * nor indented deeper than the items.  New items go after its last
 * content line, so comments that head the next key stay where they are.
 */
static int edit_block(struct edit *e, const struct lines *ls, size_t k,
		      const struct flux_patch_ref *const *todo, size_t n)
{
	size_t j, ind = 0, last = k;
	bool found = false;

	for (j = k + 1; j < ls->n; j++) {
		const struct line *l = &ls->v[j];

		if (is_doc_marker(e->t, l))
			break;
		if (!is_content(e->t, l)) {
			/* a comment deeper than the items may sit inside a
			 * block scalar: it belongs to the list */
			if (found && !is_blank(e->t, l) &&
			    indent_of(e->t, l) > ind)
				last = j;
			continue;
		}
		if (!found) {
			if (!is_item(e->t, l))
				break;	/* "patches:" with no value */
			ind = indent_of(e->t, l);
			found = true;
		} else if (indent_of(e->t, l) < ind ||
			   (indent_of(e->t, l) == ind && !is_item(e->t, l))) {
			break;
		}
		last = j;
	}
	if (!found)
		ind = house_indent(e->t, ls);
	e->from = e->to = ls->v[last].next;
	if (ls->v[last].next == e->len && e->len > 0 &&
	    e->t[e->len - 1] != '\n' && buf_puts(&e->ins, e->eol) < 0)
		return -1;
	return put_items(&e->ins, ind, e->eol, todo, n);
}

/* The end of a null value ("null", "~") at p, or NULL when p holds
 * something else. */
static const char *null_token(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (n >= 4 && memcmp(p, "null", 4) == 0 &&
	    (n == 4 || p[4] == ' ' || p[4] == '\t'))
		return p + 4;
	if (n >= 1 && *p == '~' && (n == 1 || p[1] == ' ' || p[1] == '\t'))
		return p + 1;
	return NULL;
}

static int plan_edit(struct edit *e, const struct lines *ls,
		     const char *name, const struct flux_patch_ref *const *todo,
		     size_t n)
{
	for (size_t k = 0; k < ls->n; k++) {
		const struct line *l = &ls->v[k];
		size_t colon = top_key(e->t, l, "patches");
		const char *p, *tok, *end = e->t + l->off + l->len;

		if (!colon)
			continue;
		p = skip_ws(e->t + l->off + colon, end);
		if (p == end || *p == '#')
			return edit_block(e, ls, k, todo, n);
		if (*p == '[')
			return edit_flow(e, ls, l, colon, name, todo, n);
		tok = null_token(p, end);
		if (tok)
			return edit_empty(e, ls, l, colon, tok, todo, n);
		break;
	}
	err_set(EXIT_USAGE, "%s: cannot find where its patches: list is "
		"written", name);
	return err_hint("add the entries by hand, or write patches: as a "
			"top-level block list and run again");
}

static cJSON *parse_kustomization(const char *text, size_t len,
				  const char *name)
{
	cJSON *root = yaml_parse(text, len, name);
	const cJSON *p;

	if (!root)
		return NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		err_set(EXIT_USAGE, "%s: not a kustomization (a YAML mapping "
			"was expected)", name);
		err_hint("point --dir at the Flux bootstrap directory");
		return NULL;
	}
	p = cJSON_GetObjectItemCaseSensitive(root, "patches");
	if (p && !cJSON_IsArray(p) && !cJSON_IsNull(p)) {
		cJSON_Delete(root);
		err_set(EXIT_USAGE, "%s: patches: is not a list", name);
		err_hint("fix the file so that patches: holds a list");
		return NULL;
	}
	return root;
}

static int apply_edit(const struct edit *e, struct buf *out)
{
	buf_reset(out);
	if (buf_append(out, e->t, e->from) < 0 ||
	    buf_append(out, e->ins.data ? e->ins.data : "", e->ins.len) < 0 ||
	    buf_append(out, e->t + e->to, e->len - e->to) < 0)
		return -1;
	return 0;
}

int flux_kustomization_add_patches(const char *text, size_t len,
				   const char *name,
				   const struct flux_patch_ref *refs, size_t n,
				   struct buf *out, size_t *added)
{
	const struct flux_patch_ref *todo[16];
	struct lines ls = { NULL, 0 };
	struct edit e = { text, len, "\n", 0, 0, BUF_INIT };
	cJSON *root;
	size_t m = 0;
	bool has_key;
	int rc = -1;

	*added = 0;
	if (n > 16)
		return err_set(EXIT_FAILED, "too many patch entries");
	root = parse_kustomization(text, len, name);
	if (!root)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!listed(root, refs[i].path))
			todo[m++] = &refs[i];
	has_key = cJSON_GetObjectItemCaseSensitive(root, "patches") != NULL;
	cJSON_Delete(root);
	if (m == 0) {
		buf_reset(out);
		return buf_append(out, text, len);
	}
	if (split_lines(text, len, &ls) < 0)
		return -1;
	if (ls.n > 0 && ls.v[0].next > ls.v[0].len + 1)
		e.eol = "\r\n";
	if ((has_key ? plan_edit(&e, &ls, name, todo, m)
		     : edit_append(&e, &ls, todo, m)) == 0 &&
	    apply_edit(&e, out) == 0) {
		*added = m;
		rc = 0;
	}
	buf_free(&e.ins);
	free(ls.v);
	return rc;
}
