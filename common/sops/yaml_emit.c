/*
 * YAML writing, in the layout sops (go-yaml v3) uses: block mappings,
 * sequences indented under their key, strings quoted only when a plain
 * scalar would read back as something else, multi-line strings as literal
 * blocks, comments at the indentation of their container.
 */
#include "sops/store.h"

#include <stdio.h>
#include <string.h>

#include "util/b64.h"
#include "sops/cipher.h"
#include "util/err.h"

struct ye {
	struct buf *out;
	int indent;
	struct buf tmp;
	bool inl_ok;		/* the last line can take an inline comment */
};

static int pad(struct ye *e, size_t col)
{
	if (buf_reserve(e->out, col) < 0)
		return -1;
	memset(e->out->data + e->out->len, ' ', col);
	e->out->len += col;
	e->out->data[e->out->len] = '\0';
	return 0;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, need, k;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3;
		else
			return false;
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += need + 1;
	}
	return true;
}

/* The code point at s (valid UTF-8 assumed); *n gets its length. */
static unsigned cp_at(const unsigned char *s, size_t left, size_t *n)
{
	unsigned c = s[0];

	if (c < 0x80 || left < 2) {
		*n = 1;
		return c;
	}
	if (c < 0xE0) {
		*n = 2;
		return (c & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (c < 0xF0 || left < 4) {
		*n = left < 3 ? left : 3;
		return *n < 3 ? 0xFFFD :
		       (c & 0x0F) << 12 | (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	*n = 4;
	return (c & 0x07) << 18 | (s[1] & 0x3F) << 12 | (s[2] & 0x3F) << 6 |
	       (s[3] & 0x3F);
}

/* Printable to YAML and not a line break other than \n (when allowed). */
static bool cp_plain(unsigned cp, bool allow_nl)
{
	if (cp == '\n')
		return allow_nl;
	if (cp == '\t' || (cp >= 0x20 && cp <= 0x7E))
		return true;
	if (cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF)
		return false;
	return (cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
	       (cp >= 0x10000 && cp <= 0x10FFFF);
}

static bool has_ctl(const char *s, size_t n, bool allow_nl)
{
	size_t i = 0, l;

	while (i < n) {
		if (!cp_plain(cp_at((const unsigned char *)s + i, n - i, &l),
			      allow_nl))
			return true;
		i += l;
	}
	return false;
}

/* Would the text be read back as the same string if written plain? */
static bool plain_ok(struct ye *e, const char *s, size_t n)
{
	enum sops_type t;
	size_t i;

	if (n == 0 || has_ctl(s, n, false) || s[0] == ' ' || s[n - 1] == ' ' ||
	    s[0] == '\t' || s[n - 1] == '\t' || memchr(s, '\n', n) ||
	    strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return false;
	if (s[n - 1] == ':')
		return false;
	for (i = 0; i + 1 < n; i++)
		if ((s[i] == ':' && (s[i + 1] == ' ' || s[i + 1] == '\t')) ||
		    ((s[i] == ' ' || s[i] == '\t') && s[i + 1] == '#'))
			return false;
	if (!strncmp(s, "---", 3) || !strncmp(s, "...", 3))
		return false;
	if (sops_yaml_resolve(s, n, &t, &e->tmp) < 0) {
		buf_reset(&e->tmp);
		return false;
	}
	return t == SOPS_STR;
}

static int put_escape(struct ye *e, unsigned cp)
{
	switch (cp) {
	case '"': return buf_puts(e->out, "\\\"");
	case '\\': return buf_puts(e->out, "\\\\");
	case '\n': return buf_puts(e->out, "\\n");
	case '\t': return buf_puts(e->out, "\\t");
	case '\r': return buf_puts(e->out, "\\r");
	case 0x85: return buf_puts(e->out, "\\N");
	case 0x2028: return buf_puts(e->out, "\\L");
	case 0x2029: return buf_puts(e->out, "\\P");
	}
	if (cp < 0x100)
		return buf_printf(e->out, "\\x%02x", cp);
	if (cp < 0x10000)
		return buf_printf(e->out, "\\u%04x", cp);
	return buf_printf(e->out, "\\U%08x", cp);
}

static int put_double(struct ye *e, const char *s, size_t n)
{
	size_t i = 0, l;

	if (buf_putc(e->out, '"') < 0)
		return -1;
	while (i < n) {
		unsigned cp = cp_at((const unsigned char *)s + i, n - i, &l);
		int rc = (cp == '"' || cp == '\\' || cp == '\t' ||
			   !cp_plain(cp, false)) ?
			 put_escape(e, cp) : buf_append(e->out, s + i, l);

		if (rc < 0)
			return -1;
		i += l;
	}
	return buf_putc(e->out, '"');
}

static int put_single(struct ye *e, const char *s, size_t n)
{
	size_t i;

	if (buf_putc(e->out, '\'') < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((s[i] == '\'' && buf_putc(e->out, '\'') < 0) ||
		    buf_putc(e->out, s[i]) < 0)
			return -1;
	return buf_putc(e->out, '\'');
}

static int put_binary(struct ye *e, const char *s, size_t n)
{
	size_t el = b64_encoded_len(n, B64_STD);

	if (buf_puts(e->out, "!!binary ") < 0 || buf_reserve(e->out, el + 1) < 0)
		return -1;
	b64_encode((const unsigned char *)s, n, B64_STD,
		   e->out->data + e->out->len);
	e->out->len += el;
	return 0;
}

/* A literal block fits: printable, some non-newline content, and the first
 * line does not start with a space (no indentation indicator needed). */
static bool literal_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (!memchr(s, '\n', n) || has_ctl(s, n, true) || memchr(s, '\r', n))
		return false;
	while (i < n && s[i] == '\n')
		i++;
	if (i == n || s[i] == ' ' || s[i] == '\t')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != '\n' && s[i] != ' ')
			break;
	return true;
}

static int put_literal(struct ye *e, const char *s, size_t n, size_t col)
{
	size_t trail = 0, i, ls;

	while (trail < n && s[n - 1 - trail] == '\n')
		trail++;
	if (buf_puts(e->out, trail == 0 ? "|-" : trail == 1 ? "|" : "|+") < 0)
		return -1;
	for (ls = 0, i = 0; i <= n - trail; i++) {
		if (i < n - trail && s[i] != '\n')
			continue;
		if (buf_putc(e->out, '\n') < 0)
			return -1;
		if (i > ls && (pad(e, col) < 0 ||
			       buf_append(e->out, s + ls, i - ls) < 0))
			return -1;
		ls = i + 1;
	}
	for (i = 1; i < trail; i++)
		if (buf_putc(e->out, '\n') < 0)
			return -1;
	return 0;
}

static int put_string(struct ye *e, const struct sops_node *v, size_t col)
{
	const char *s = v->text;
	size_t n = v->len;

	if (!valid_utf8((const unsigned char *)s, n))
		return put_binary(e, s, n);
	if (v->style == SOPS_STYLE_SINGLE && !has_ctl(s, n, false) &&
	    !memchr(s, '\n', n))
		return put_single(e, s, n);
	if (v->style == SOPS_STYLE_DOUBLE)
		return put_double(e, s, n);
	if (memchr(s, '\n', n))
		return literal_ok(s, n) ? put_literal(e, s, n, col) :
					  put_double(e, s, n);
	if (plain_ok(e, s, n))
		return buf_append(e->out, s, n);
	return put_double(e, s, n);
}

static int put_float(struct ye *e, const struct sops_node *v)
{
	const char *t = v->text;

	if (!strcmp(t, "NaN"))
		return buf_puts(e->out, ".nan");
	if (!strcmp(t, "+Inf"))
		return buf_puts(e->out, ".inf");
	if (!strcmp(t, "-Inf"))
		return buf_puts(e->out, "-.inf");
	if (buf_append(e->out, t, v->len) < 0)
		return -1;
	return strchr(t, '.') ? 0 : buf_puts(e->out, ".0");
}

/* Writes a scalar after "key: " or "- "; col is where block lines go. */
static int put_scalar(struct ye *e, const struct sops_node *v, size_t col)
{
	if (v->raw && v->style == SOPS_STYLE_PLAIN &&
	    !memchr(v->raw, '\n', v->raw_len))
		return buf_append(e->out, v->raw, v->raw_len);
	switch (v->type) {
	case SOPS_NULL:
		return buf_puts(e->out, "null");
	case SOPS_BOOL:
		return buf_puts(e->out, v->text[0] == 'T' ? "true" : "false");
	case SOPS_INT:
	case SOPS_TIME:
		return buf_append(e->out, v->text, v->len);
	case SOPS_FLOAT:
		return put_float(e, v);
	default:
		return put_string(e, v, col);
	}
}

static int put_key(struct ye *e, const char *k, size_t n)
{
	if (plain_ok(e, k, n))
		return buf_append(e->out, k, n);
	if (!valid_utf8((const unsigned char *)k, n))
		return err_set(EXIT_FAILED, "a key is not valid UTF-8");
	return put_double(e, k, n);
}

/* An inline comment goes on the line of the item before it, when there is
 * one (prev: that item is a value, not a comment). */
static int put_comment(struct ye *e, const struct sops_node *c, size_t col)
{
	bool inl = c->is_inline && e->inl_ok;

	e->inl_ok = false;
	if (inl && e->out->len > 0 && e->out->data[e->out->len - 1] == '\n') {
		e->out->len--;
		return buf_puts(e->out, " #") < 0 ||
		       buf_append(e->out, c->text, c->len) < 0 ||
		       buf_putc(e->out, '\n') < 0 ? -1 : 0;
	}
	return pad(e, col) < 0 || buf_putc(e->out, '#') < 0 ||
	       buf_append(e->out, c->text, c->len) < 0 ||
	       buf_putc(e->out, '\n') < 0 ? -1 : 0;
}

static int emit_map(struct ye *e, const struct sops_node *m, size_t col,
		    bool first_inline);
static int emit_seq(struct ye *e, const struct sops_node *s, size_t col);

static bool has_entries(const struct sops_node *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->items[i].val->kind != SOPS_COMMENT)
			return true;
	return false;
}

/* The value part after "key:" (at key column col). */
static int emit_value(struct ye *e, const struct sops_node *v, size_t col)
{
	size_t child = col + (size_t)e->indent, before;
	int rc;

	e->inl_ok = true;
	if (v->kind == SOPS_MAP || v->kind == SOPS_SEQ) {
		if (!has_entries(v))
			return buf_puts(e->out, v->kind == SOPS_MAP ? " {}\n" :
					" []\n");
		e->inl_ok = false;
		if (buf_putc(e->out, '\n') < 0)
			return -1;
		rc = v->kind == SOPS_MAP ? emit_map(e, v, child, false) :
					   emit_seq(e, v, child);
		e->inl_ok = false;
		return rc;
	}
	if (v->type == SOPS_NULL && v->raw && v->raw_len == 0)
		return buf_putc(e->out, '\n');
	before = e->out->len;
	if (buf_putc(e->out, ' ') < 0 || put_scalar(e, v, child) < 0)
		return -1;
	e->inl_ok = !memchr(e->out->data + before, '\n', e->out->len - before);
	return buf_putc(e->out, '\n');
}

static int emit_map(struct ye *e, const struct sops_node *m, size_t col,
		    bool first_inline)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct sops_item *it = &m->items[i];
		bool inl = first_inline && i == 0;

		if (it->val->kind == SOPS_COMMENT) {
			if (put_comment(e, it->val, col) < 0)
				return -1;
			continue;
		}
		if ((!inl && pad(e, col) < 0) ||
		    put_key(e, it->key, it->key_len) < 0 ||
		    buf_putc(e->out, ':') < 0 || emit_value(e, it->val, col) < 0 ||
		    sops_emit_point(e->out) < 0)
			return -1;
	}
	return 0;
}

static int emit_seq_item(struct ye *e, const struct sops_node *v, size_t col)
{
	if (v->kind == SOPS_COMMENT)
		return put_comment(e, v, col);
	if (pad(e, col) < 0 || buf_putc(e->out, '-') < 0)
		return -1;
	if ((v->kind == SOPS_MAP || v->kind == SOPS_SEQ) && has_entries(v)) {
		bool inl = v->kind == SOPS_MAP &&
			   v->items[0].val->kind != SOPS_COMMENT;

		if (inl)
			return buf_putc(e->out, ' ') < 0 ? -1 :
			       emit_map(e, v, col + 2, true);
		e->inl_ok = false;
		if (buf_putc(e->out, '\n') < 0)
			return -1;
		return v->kind == SOPS_MAP ? emit_map(e, v, col + 2, false) :
					     emit_seq(e, v, col + 2);
	}
	return emit_value(e, v, col);
}

static int emit_seq(struct ye *e, const struct sops_node *s, size_t col)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (emit_seq_item(e, s->items[i].val, col) < 0 ||
		    sops_emit_point(e->out) < 0)
			return -1;
	return 0;
}

int sops_yaml_emit(const struct sops_docs *docs, int indent, struct buf *out)
{
	/* the indentation asked for, else the one the input used, else 4 */
	struct ye e = { out, indent > 0 ? indent :
			docs->indent > 0 && docs->indent <= 8 ? docs->indent : 4,
			BUF_INIT, false };
	size_t i;
	int rc = 0;

	for (i = 0; i < docs->n && rc == 0; i++) {
		const struct sops_node *d = docs->doc[i];

		if (i > 0 && buf_puts(out, "---\n") < 0)
			rc = -1;
		else if (!has_entries(d))
			rc = emit_map(&e, d, 0, false) < 0 ||
			     buf_puts(out, "{}\n") < 0 ? -1 : 0;
		else
			rc = emit_map(&e, d, 0, false);
	}
	buf_free(&e.tmp);
	return rc;
}
