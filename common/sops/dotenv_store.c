/* dotenv (KEY=VALUE lines, '#' comments) and binary (whole file) stores. */
#include "sops/store.h"

#include <string.h>

#include "util/err.h"
#include "util/fsutil.h"

static int add_value(struct sops_node *m, const char *line, size_t n,
		     size_t lineno)
{
	const char *eq = memchr(line, '=', n);
	struct buf v = { NULL, 0, 0, true };	/* a plaintext value */
	size_t i, kl;
	int rc;

	if (!eq)
		return err_set(EXIT_USAGE, "invalid dotenv input line %zu: "
			       "no '=' in it", lineno);
	kl = (size_t)(eq - line);
	for (i = kl + 1; i < n; i++) {
		if (line[i] == '\\' && i + 1 < n && line[i + 1] == 'n') {
			rc = buf_putc(&v, '\n');
			i++;
		} else {
			rc = buf_putc(&v, line[i]);
		}
		if (rc < 0) {
			buf_free(&v);
			return -1;
		}
	}
	rc = sops_append(m, line, kl, sops_scalar_new(SOPS_STR, v.data ? v.data : "",
						       v.len));
	buf_free(&v);
	return rc;
}

int sops_dotenv_parse(const char *src, size_t len, struct sops_docs *out)
{
	struct sops_node *m = sops_node_new(SOPS_MAP);
	size_t pos = 0, lineno = 0;

	memset(out, 0, sizeof(*out));
	if (!m)
		return -1;
	while (pos < len) {
		const char *nl = memchr(src + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (src + pos)) : len - pos;
		int rc = 0;

		lineno++;
		if (n > 0 && src[pos] == '#')
			rc = sops_append(m, NULL, 0, sops_comment_new(
				src + pos + 1, n - 1, false));
		else if (n > 0)
			rc = add_value(m, src + pos, n, lineno);
		if (rc < 0) {
			sops_node_free(m);
			return -1;
		}
		pos += n + 1;
	}
	return sops_docs_push(out, m);
}

static int put_escaped(struct buf *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((s[i] == '\n' ? buf_puts(o, "\\n") : buf_putc(o, s[i])) < 0)
			return -1;
	return 0;
}

int sops_dotenv_emit(const struct sops_docs *docs, struct buf *out)
{
	const struct sops_node *m;
	size_t i;

	if (docs->n != 1)
		return err_set(EXIT_USAGE, "dotenv output holds exactly one "
			       "document, this input has %zu", docs->n);
	m = docs->doc[0];
	for (i = 0; i < m->n; i++) {
		const struct sops_item *it = &m->items[i];
		const struct sops_node *v = it->val;

		if (v->kind == SOPS_COMMENT) {
			if (buf_putc(out, '#') < 0 ||
			    buf_append(out, v->text, v->len) < 0 ||
			    buf_putc(out, '\n') < 0)
				return -1;
			continue;
		}
		if (v->kind != SOPS_SCALAR)
			return err_set(EXIT_USAGE, "cannot write nested value "
				       "'%.*s' in dotenv format", (int)it->key_len,
				       it->key);
		if (buf_append(out, it->key, it->key_len) < 0 ||
		    buf_putc(out, '=') < 0)
			return -1;
		if (v->type == SOPS_BOOL ?
		    buf_puts(out, v->text[0] == 'T' ? "true" : "false") < 0 :
		    put_escaped(out, v->raw ? v->raw : v->text,
				v->raw ? v->raw_len : v->len) < 0)
			return -1;
		if (buf_putc(out, '\n') < 0 || sops_emit_point(out) < 0)
			return -1;
	}
	return 0;
}

int sops_binary_parse(const char *src, size_t len, struct sops_docs *out)
{
	struct sops_node *m = sops_node_new(SOPS_MAP);

	memset(out, 0, sizeof(*out));
	if (!m || sops_append(m, "data", 4, sops_scalar_new(SOPS_STR, src,
							      len)) < 0) {
		sops_node_free(m);
		return -1;
	}
	return sops_docs_push(out, m);
}

int sops_binary_emit(const struct sops_docs *docs, struct buf *out)
{
	const struct sops_node *d;

	if (docs->n != 1)
		return err_set(EXIT_USAGE, "binary output holds exactly one "
			       "document");
	d = sops_map_get(docs->doc[0], "data", NULL);
	if (!d || d->kind != SOPS_SCALAR || d->type != SOPS_STR)
		return err_set(EXIT_USAGE, "cannot write as binary: the "
			       "document has no string key 'data'");
	return buf_append(out, d->text, d->len);
}

enum sops_format sops_format_from_type(const char *t)
{
	if (!t)
		return SOPS_FMT_NONE;
	if (!strcmp(t, "yaml"))
		return SOPS_FMT_YAML;
	if (!strcmp(t, "json"))
		return SOPS_FMT_JSON;
	if (!strcmp(t, "dotenv"))
		return SOPS_FMT_DOTENV;
	if (!strcmp(t, "binary"))
		return SOPS_FMT_BINARY;
	return SOPS_FMT_NONE;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

enum sops_format sops_format_from_path(const char *path)
{
	if (!path)
		return SOPS_FMT_YAML;
	if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
		return SOPS_FMT_YAML;
	if (ends_with(path, ".json"))
		return SOPS_FMT_JSON;
	if (ends_with(path, ".env"))
		return SOPS_FMT_DOTENV;
	return SOPS_FMT_BINARY;
}

const char *sops_format_name(enum sops_format f)
{
	static const char *const N[] = { "none", "yaml", "json", "dotenv",
					 "binary" };

	return (unsigned)f < 5 ? N[f] : "none";
}

int sops_store_parse(enum sops_format f, const char *src, size_t len,
		     struct sops_docs *out)
{
	switch (f) {
	case SOPS_FMT_JSON: return sops_json_parse(src, len, out);
	case SOPS_FMT_DOTENV: return sops_dotenv_parse(src, len, out);
	case SOPS_FMT_BINARY: return sops_binary_parse(src, len, out);
	default: return sops_yaml_parse(src, len, out);
	}
}

static _Thread_local struct buf *sink_buf;
static _Thread_local int sink_fd = -1;

static int sink_flush(struct buf *out)
{
	if (fs_write_fd(sink_fd, out->data, out->len) < 0)
		return -1;
	buf_reset(out);
	return 0;
}

/* Sends all but the last byte: an inline comment may still need to
 * replace the final newline. */
int sops_emit_point(struct buf *out)
{
	char last;

	if (out != sink_buf || out->len < 65536)
		return 0;
	last = out->data[out->len - 1];
	if (fs_write_fd(sink_fd, out->data, out->len - 1) < 0)
		return -1;
	buf_reset(out);
	return buf_putc(out, last);
}

int sops_store_write(enum sops_format f, const struct sops_docs *docs,
		     int indent, int fd, bool secret)
{
	struct buf b;
	int rc;

	if (secret)
		buf_init_secret(&b);
	else
		buf_init(&b);
	sink_buf = &b;
	sink_fd = fd;
	rc = sops_store_emit(f, docs, indent, &b);
	if (rc == 0 && b.len)
		rc = sink_flush(&b);
	sink_buf = NULL;
	sink_fd = -1;
	buf_free(&b);
	return rc;
}

int sops_store_emit(enum sops_format f, const struct sops_docs *docs,
		    int indent, struct buf *out)
{
	switch (f) {
	case SOPS_FMT_JSON: return sops_json_emit(docs, indent, out);
	case SOPS_FMT_DOTENV: return sops_dotenv_emit(docs, out);
	case SOPS_FMT_BINARY: return sops_binary_emit(docs, out);
	default: return sops_yaml_emit(docs, indent, out);
	}
}
