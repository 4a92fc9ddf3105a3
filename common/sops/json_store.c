/*
 * JSON reading (own parser: keeps key order and the spelling of numbers)
 * and writing in the layout of Go's json.Indent, which sops uses.
 */
#include "sops/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sops/cipher.h"
#include "util/err.h"

struct jp {
	const char *s;
	size_t len, pos, depth;
	struct buf str;
};

static int fail(struct jp *p, const char *what)
{
	size_t line = 1, i;

	for (i = 0; i < p->pos && i < p->len; i++)
		if (p->s[i] == '\n')
			line++;
	return err_set(EXIT_USAGE, "invalid JSON at line %zu: %s", line, what);
}

static void ws(struct jp *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) &&
	       p->s[p->pos])
		p->pos++;
}

static int hex4(struct jp *p, unsigned *v)
{
	size_t i;

	*v = 0;
	if (p->pos + 4 > p->len)
		return fail(p, "short \\u escape");
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		if (!isxdigit((unsigned char)c))
			return fail(p, "bad \\u escape");
		*v = *v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' :
					  tolower((unsigned char)c) - 'a' + 10);
	}
	return 0;
}

static int put_utf8(struct buf *b, unsigned cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (char)(0xF0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, o, n);
}

static int unicode_escape(struct jp *p)
{
	unsigned hi, lo;

	if (hex4(p, &hi) < 0)
		return -1;
	if (hi >= 0xD800 && hi < 0xDC00 && p->pos + 6 <= p->len &&
	    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
		size_t save = p->pos;

		p->pos += 2;
		if (hex4(p, &lo) < 0)
			return -1;
		if (lo >= 0xDC00 && lo < 0xE000)
			return put_utf8(&p->str, 0x10000 + ((hi - 0xD800) << 10) +
					(lo - 0xDC00));
		p->pos = save;
	}
	if (hi >= 0xD800 && hi < 0xE000)
		hi = 0xFFFD;
	return put_utf8(&p->str, hi);
}

static int escape(struct jp *p)
{
	static const char in[] = "\"\\/bfnrt", out[] = "\"\\/\b\f\n\r\t";
	const char *k;
	char c;

	if (p->pos >= p->len)
		return fail(p, "unterminated string");
	c = p->s[p->pos++];
	if (c == 'u')
		return unicode_escape(p);
	k = strchr(in, c);
	if (!k || !c)
		return fail(p, "bad escape in string");
	return buf_putc(&p->str, out[k - in]);
}

static size_t utf8_len(const unsigned char *s, size_t n);

/* Appends raw string bytes; invalid UTF-8 becomes U+FFFD, as Go reads it. */
static int put_raw(struct jp *p, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = (unsigned char)s[i] < 0x80 ? 1 :
			   utf8_len((const unsigned char *)s + i, n - i);
		int rc = l ? buf_append(&p->str, s + i, l) :
			     buf_puts(&p->str, "\xef\xbf\xbd");

		if (rc < 0)
			return -1;
		i += l ? l : 1;
	}
	return 0;
}

/* Reads a string into p->str. */
static int string(struct jp *p)
{
	buf_reset(&p->str);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail(p, "expected a string");
	p->pos++;
	for (;;) {
		size_t st = p->pos;

		while (p->pos < p->len && p->s[p->pos] != '"' &&
		       p->s[p->pos] != '\\' && (unsigned char)p->s[p->pos] >= 0x20)
			p->pos++;
		if (put_raw(p, p->s + st, p->pos - st) < 0)
			return -1;
		if (p->pos >= p->len || (unsigned char)p->s[p->pos] < 0x20)
			return fail(p, "unterminated string");
		if (p->s[p->pos++] == '"')
			return 0;
		if (escape(p) < 0)
			return -1;
	}
}

static struct sops_node *number(struct jp *p)
{
	size_t st = p->pos;
	bool is_int = true;
	char tmp[512], *end;
	struct sops_node *n;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) &&
	       p->s[p->pos]) {
		if (strchr(".eE", p->s[p->pos]))
			is_int = false;
		p->pos++;
	}
	if (p->pos - st == 0 || p->pos - st >= sizeof(tmp)) {
		fail(p, "bad number");
		return NULL;
	}
	memcpy(tmp, p->s + st, p->pos - st);
	tmp[p->pos - st] = '\0';
	errno = 0;
	if (is_int && (strtoll(tmp, &end, 10), !errno && !*end)) {
		n = sops_scalar_new(SOPS_INT, tmp, strlen(tmp));
		if (n && strcmp(tmp, "-0") == 0)
			sops_node_set_text(n, "0", 1, false);
	} else {
		double d = strtod(tmp, &end);
		char canon[512];

		if (*end || !isdigit((unsigned char)tmp[tmp[0] == '-'])) {
			fail(p, "bad number");
			return NULL;
		}
		sops_format_float(d, canon, sizeof(canon));
		n = sops_scalar_new(SOPS_FLOAT, canon, strlen(canon));
	}
	if (n && !(n->raw = strdup(tmp))) {
		sops_node_free(n);
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	if (n) {
		n->raw_len = strlen(tmp);
		n->style = SOPS_STYLE_PLAIN;
	}
	return n;
}

static struct sops_node *value(struct jp *p);

static struct sops_node *object(struct jp *p)
{
	struct sops_node *m = sops_node_new(SOPS_MAP);
	char *key;
	size_t kl;

	p->pos++;
	ws(p);
	if (m && p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return m;
	}
	while (m) {
		ws(p);
		if (string(p) < 0)
			break;
		key = buf_detach(&p->str, &kl);
		ws(p);
		if (p->pos >= p->len || p->s[p->pos++] != ':') {
			free(key);
			fail(p, "expected ':'");
			break;
		}
		if (sops_append(m, key ? key : "", kl, value(p)) < 0) {
			free(key);
			break;
		}
		free(key);
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos++] == '}')
			return m;
		fail(p, "expected ',' or '}'");
		break;
	}
	sops_node_free(m);
	return NULL;
}

static struct sops_node *array(struct jp *p)
{
	struct sops_node *a = sops_node_new(SOPS_SEQ);

	p->pos++;
	ws(p);
	if (a && p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return a;
	}
	while (a) {
		if (sops_append(a, NULL, 0, value(p)) < 0)
			break;
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos++] == ']')
			return a;
		fail(p, "expected ',' or ']'");
		break;
	}
	sops_node_free(a);
	return NULL;
}

static struct sops_node *word(struct jp *p, const char *w, enum sops_type t,
			      const char *canon)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n)) {
		fail(p, "unexpected character");
		return NULL;
	}
	p->pos += n;
	return sops_scalar_new(t, canon, strlen(canon));
}

static struct sops_node *value(struct jp *p)
{
	struct sops_node *n = NULL;

	ws(p);
	if (p->pos >= p->len) {
		fail(p, "unexpected end of input");
		return NULL;
	}
	if (++p->depth > 1000) {
		fail(p, "nesting deeper than 1000 levels");
		return NULL;
	}
	switch (p->s[p->pos]) {
	case '{': n = object(p); break;
	case '[': n = array(p); break;
	case '"':
		if (string(p) == 0)
			n = sops_scalar_new(SOPS_STR, p->str.data, p->str.len);
		break;
	case 't': n = word(p, "true", SOPS_BOOL, "True"); break;
	case 'f': n = word(p, "false", SOPS_BOOL, "False"); break;
	case 'n': n = word(p, "null", SOPS_NULL, ""); break;
	default: n = number(p);
	}
	p->depth--;
	return n;
}

int sops_json_parse(const char *src, size_t len, struct sops_docs *out)
{
	struct jp p = { src, len, 0, 0, BUF_INIT };

	p.str.secret = true;	/* holds plaintext values */
	struct sops_node *root;

	memset(out, 0, sizeof(*out));
	ws(&p);
	if (p.pos >= len || src[p.pos] != '{') {
		buf_free(&p.str);
		return err_set(EXIT_USAGE, "SOPS only supports JSON files with a "
			       "top-level object; wrap arrays or scalars as "
			       "{\"data\": ...}");
	}
	root = value(&p);
	buf_free(&p.str);
	if (!root)
		return -1;
	ws(&p);
	if (p.pos != len) {
		sops_node_free(root);
		return fail(&p, "trailing data after the top-level object");
	}
	return sops_docs_push(out, root);
}

/* ---- writing ---------------------------------------------------------- */

static int put_indent(struct buf *o, int indent, size_t level)
{
	size_t i;

	if (buf_putc(o, '\n') < 0)
		return -1;
	for (i = 0; i < level; i++) {
		if (indent <= 0 ? buf_putc(o, '\t') < 0 :
		    buf_printf(o, "%*s", indent, "") < 0)
			return -1;
	}
	return 0;
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 :
		      (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : 9;
	size_t k;

	if (need == 9 || need >= n)
		return 0;
	for (k = 1; k <= need; k++)
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

static int put_jstring(struct buf *o, const char *s, size_t n)
{
	size_t i = 0;

	if (buf_putc(o, '"') < 0)
		return -1;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		int rc;

		if (c == '"' || c == '\\')
			rc = buf_printf(o, "\\%c", c);
		else if (c == '\n')
			rc = buf_puts(o, "\\n");
		else if (c == '\r')
			rc = buf_puts(o, "\\r");
		else if (c == '\t')
			rc = buf_puts(o, "\\t");
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			rc = buf_printf(o, "\\u%04x", c);
		else if (l == 0)
			rc = buf_puts(o, "\\ufffd");
		else if (l == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
			 ((unsigned char)s[i + 2] & 0xFE) == 0xA8)
			rc = buf_printf(o, "\\u202%c",
					(unsigned char)s[i + 2] == 0xA8 ? '8' : '9');
		else
			rc = buf_append(o, s + i, l);
		if (rc < 0)
			return -1;
		i += l ? l : 1;
	}
	return buf_putc(o, '"');
}

static int put_jscalar(struct buf *o, const struct sops_node *v)
{
	switch (v->type) {
	case SOPS_NULL:
		return buf_puts(o, "null");
	case SOPS_BOOL:
		return buf_puts(o, v->text[0] == 'T' ? "true" : "false");
	case SOPS_INT:
	case SOPS_FLOAT:
		if (v->raw)
			return buf_append(o, v->raw, v->raw_len);
		if (v->type == SOPS_FLOAT && (!strcmp(v->text, "NaN") ||
					      strchr(v->text, 'I')))
			return put_jstring(o, v->text, v->len);
		return buf_append(o, v->text, v->len);
	default:
		return put_jstring(o, v->text, v->len);
	}
}

static int put_jnode(struct buf *o, const struct sops_node *v, int indent,
		     size_t level)
{
	size_t i, written = 0;

	if (v->kind == SOPS_SCALAR)
		return put_jscalar(o, v);
	if (buf_putc(o, v->kind == SOPS_MAP ? '{' : '[') < 0)
		return -1;
	for (i = 0; i < v->n; i++) {
		const struct sops_item *it = &v->items[i];

		if (it->val->kind == SOPS_COMMENT)
			continue;
		if ((written++ && buf_putc(o, ',') < 0) ||
		    put_indent(o, indent, level + 1) < 0)
			return -1;
		if (v->kind == SOPS_MAP &&
		    (put_jstring(o, it->key, it->key_len) < 0 ||
		     buf_puts(o, ": ") < 0))
			return -1;
		if (put_jnode(o, it->val, indent, level + 1) < 0 ||
		    sops_emit_point(o) < 0)
			return -1;
	}
	if (written && put_indent(o, indent, level) < 0)
		return -1;
	return buf_putc(o, v->kind == SOPS_MAP ? '}' : ']');
}

int sops_json_emit(const struct sops_docs *docs, int indent, struct buf *out)
{
	if (docs->n != 1)
		return err_set(EXIT_USAGE, "JSON output holds exactly one "
			       "document, this input has %zu", docs->n);
	if (put_jnode(out, docs->doc[0], indent, 0) < 0)
		return -1;
	return buf_putc(out, '\n');
}
