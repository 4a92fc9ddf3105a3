#include "util/yamljson.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "util/err.h"

#define MAX_DEPTH 200
#define MAX_NODES 4000000L	/* alias expansion bomb guard */

/* ---- scalar resolution ------------------------------------------------ */

static bool word_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL",
					  NULL };
static const char *const true_words[] = { "y", "Y", "yes", "Yes", "YES",
	"true", "True", "TRUE", "on", "On", "ON", NULL };
static const char *const false_words[] = { "n", "N", "no", "No", "NO",
	"false", "False", "FALSE", "off", "Off", "OFF", NULL };
static const char *const special_floats[] = { ".inf", ".Inf", ".INF",
	"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
	".NAN", NULL };

/* Copies s without '_' into dst (size n).  False when it does not fit. */
static bool strip_underscores(const char *s, char *dst, size_t n)
{
	size_t j = 0;

	for (; *s; s++) {
		if (*s == '_')
			continue;
		if (j + 1 >= n)
			return false;
		dst[j++] = *s;
	}
	dst[j] = '\0';
	return true;
}

/* Integer in the forms Go's strconv.ParseInt(s, 0, 64) accepts, plus 0b. */
static bool parse_int(const char *s, double *out)
{
	const char *p = s;
	bool neg = false;
	int base = 10;
	unsigned long long v = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return false;
	for (; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return false;
		if (d >= base || v > (UINT64_MAX - (unsigned)d) / (unsigned)base)
			return false;
		v = v * (unsigned)base + (unsigned)d;
	}
	*out = neg ? -(double)v : (double)v;
	return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool parse_float(const char *s, double *out)
{
	const char *p = s;
	bool digits = false;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++)
			digits = true;
	} else {
		for (; *p >= '0' && *p <= '9'; p++)
			digits = true;
		if (digits && *p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && *end == '\0';
}

static bool parse_number(const char *s, double *out)
{
	char clean[128];

	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	if (!strip_underscores(s, clean, sizeof(clean)))
		return false;
	return parse_int(clean, out) || parse_float(clean, out);
}

bool yaml_plain_is_special(const char *s)
{
	double d;

	return word_in(s, null_words) || word_in(s, true_words) ||
	       word_in(s, false_words) || word_in(s, special_floats) ||
	       strcmp(s, "<<") == 0 || parse_number(s, &d);
}

static cJSON *resolve_plain(const char *s)
{
	double d;

	if (word_in(s, null_words))
		return cJSON_CreateNull();
	if (word_in(s, true_words))
		return cJSON_CreateTrue();
	if (word_in(s, false_words))
		return cJSON_CreateFalse();
	if (!word_in(s, special_floats) && parse_number(s, &d))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

static bool tag_is(const yaml_char_t *tag, const char *suffix)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	return tag && strncmp((const char *)tag, prefix, sizeof(prefix) - 1) == 0
	       && strcmp((const char *)tag + sizeof(prefix) - 1, suffix) == 0;
}

static cJSON *resolve_scalar(const yaml_event_t *ev, bool plain_strings)
{
	const char *s = (const char *)ev->data.scalar.value;
	const yaml_char_t *tag = ev->data.scalar.tag;

	if (tag) {
		if (tag_is(tag, "null") || tag_is(tag, "bool") ||
		    tag_is(tag, "int") || tag_is(tag, "float"))
			return resolve_plain(s);
		return cJSON_CreateString(s);	/* !!str, !!binary, local */
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(s);
	if (plain_strings && !word_in(s, null_words))
		return cJSON_CreateString(s);
	return resolve_plain(s);
}

/* ---- the loader -------------------------------------------------------- */

struct frame {
	cJSON *node;
	char *key;		/* pending key in a mapping, or NULL */
	bool key_is_merge;
	char *anchor;
	cJSON *merges;		/* array of maps to merge at the end */
};

struct anchor {
	char *name;
	cJSON *node;		/* points into the tree being built */
};

struct loader {
	yaml_parser_t parser;
	const char *name;
	struct frame stack[MAX_DEPTH];
	int depth;
	struct anchor *anchors;
	size_t nanchors;
	long nodes;
	cJSON *doc;		/* the current document's root */
	bool have_root;
	bool plain_strings;
};

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *what)
{
	return err_set(EXIT_USAGE, "%s: line %zu column %zu: %s", l->name,
		       m->line + 1, m->column + 1, what);
}

static int fail_oom(void)
{
	return err_set(EXIT_FAILED, "out of memory");
}

static long count_nodes(const cJSON *n)
{
	long c = 1;
	const cJSON *k;

	cJSON_ArrayForEach(k, n)
		c += count_nodes(k);
	return c;
}

static int remember_anchor(struct loader *l, const char *name, cJSON *node)
{
	struct anchor *a;
	size_t i;

	for (i = 0; i < l->nanchors; i++)
		if (strcmp(l->anchors[i].name, name) == 0) {
			l->anchors[i].node = node;	/* redefinition wins */
			return 0;
		}
	a = realloc(l->anchors, (l->nanchors + 1) * sizeof(*a));
	if (!a)
		return fail_oom();
	l->anchors = a;
	a[l->nanchors].name = strdup(name);
	if (!a[l->nanchors].name)
		return fail_oom();
	a[l->nanchors++].node = node;
	return 0;
}

static void free_anchors(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->nanchors; i++)
		free(l->anchors[i].name);
	free(l->anchors);
	l->anchors = NULL;
	l->nanchors = 0;
}

static int merge_into(struct loader *l, const yaml_mark_t *m, cJSON *map,
		      const cJSON *src)
{
	const cJSON *kv;

	if (!cJSON_IsObject(src))
		return fail_at(l, m, "merge key (<<) needs a mapping or a "
			       "list of mappings");
	cJSON_ArrayForEach(kv, src) {
		cJSON *copy;

		if (cJSON_GetObjectItemCaseSensitive(map, kv->string))
			continue;
		copy = cJSON_Duplicate(kv, 1);
		if (!copy)
			return fail_oom();
		cJSON_AddItemToObject(map, kv->string, copy);
	}
	return 0;
}

static int apply_merges(struct loader *l, const yaml_mark_t *m,
			struct frame *f)
{
	cJSON *src;

	if (!f->merges)
		return 0;
	cJSON_ArrayForEach(src, f->merges) {
		if (cJSON_IsArray(src)) {
			const cJSON *one;

			cJSON_ArrayForEach(one, src)
				if (merge_into(l, m, f->node, one) < 0)
					return -1;
		} else if (merge_into(l, m, f->node, src) < 0) {
			return -1;
		}
	}
	cJSON_Delete(f->merges);
	f->merges = NULL;
	return 0;
}

/* Attaches a finished node to the open container (or makes it the root).
 * Takes ownership of `node` in every case. */
static int attach(struct loader *l, const yaml_mark_t *m, cJSON *node,
		  const char *anchor)
{
	struct frame *f;

	if (!node)
		return fail_oom();
	if (anchor && remember_anchor(l, anchor, node) < 0) {
		cJSON_Delete(node);
		return -1;
	}
	if (l->depth == 0) {
		cJSON_Delete(l->doc);
		l->doc = node;
		l->have_root = true;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	if (cJSON_IsArray(f->node)) {
		cJSON_AddItemToArray(f->node, node);
		return 0;
	}
	if (!f->key) {
		char *text;

		if (!cJSON_IsString(node) && !cJSON_IsNumber(node) &&
		    !cJSON_IsBool(node) && !cJSON_IsNull(node)) {
			cJSON_Delete(node);
			return fail_at(l, m, "a mapping key must be a scalar");
		}
		text = cJSON_IsString(node) ? strdup(node->valuestring)
					    : cJSON_PrintUnformatted(node);
		cJSON_Delete(node);
		if (!text)
			return fail_oom();
		f->key = text;
		return 0;
	}
	if (f->key_is_merge) {
		if (!f->merges && !(f->merges = cJSON_CreateArray())) {
			cJSON_Delete(node);
			return fail_oom();
		}
		cJSON_AddItemToArray(f->merges, node);
	} else if (cJSON_GetObjectItemCaseSensitive(f->node, f->key)) {
		char what[300];

		snprintf(what, sizeof(what), "key \"%.200s\" is already set "
			 "in this mapping", f->key);
		cJSON_Delete(node);
		return fail_at(l, m, what);
	} else {
		cJSON_AddItemToObject(f->node, f->key, node);
	}
	free(f->key);
	f->key = NULL;
	f->key_is_merge = false;
	return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
	struct frame *f = l->depth ? &l->stack[l->depth - 1] : NULL;
	const char *anchor = (const char *)ev->data.scalar.anchor;

	if (++l->nodes > MAX_NODES)
		return fail_at(l, &ev->start_mark, "document too large");
	if (f && cJSON_IsObject(f->node) && !f->key &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp((const char *)ev->data.scalar.value, "<<") == 0) {
		f->key_is_merge = true;
		f->key = strdup("<<");
		return f->key ? 0 : fail_oom();
	}
	return attach(l, &ev->start_mark, resolve_scalar(ev, l->plain_strings),
		      anchor);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t i;

	for (i = 0; i < l->nanchors; i++) {
		if (strcmp(l->anchors[i].name, name) != 0)
			continue;
		l->nodes += count_nodes(l->anchors[i].node);
		if (l->nodes > MAX_NODES)
			return fail_at(l, &ev->start_mark,
				       "aliases expand to too many nodes");
		return attach(l, &ev->start_mark,
			      cJSON_Duplicate(l->anchors[i].node, 1), NULL);
	}
	return fail_at(l, &ev->start_mark, "unknown alias (anchor not "
		       "defined before it, or a recursive alias)");
}

static int on_open(struct loader *l, const yaml_event_t *ev, bool map)
{
	struct frame *f;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
					: ev->data.sequence_start.anchor;

	if (l->depth >= MAX_DEPTH)
		return fail_at(l, &ev->start_mark, "nesting too deep");
	if (++l->nodes > MAX_NODES)
		return fail_at(l, &ev->start_mark, "document too large");
	f = &l->stack[l->depth];
	memset(f, 0, sizeof(*f));
	f->node = map ? cJSON_CreateObject() : cJSON_CreateArray();
	if (!f->node)
		return fail_oom();
	if (anchor && !(f->anchor = strdup((const char *)anchor))) {
		cJSON_Delete(f->node);
		return fail_oom();
	}
	l->depth++;
	return 0;
}

static int on_close(struct loader *l, const yaml_event_t *ev)
{
	struct frame f = l->stack[--l->depth];
	int rc;

	if (apply_merges(l, &ev->start_mark, &f) < 0) {
		cJSON_Delete(f.node);
		rc = -1;
	} else {
		rc = attach(l, &ev->start_mark, f.node, f.anchor);
	}
	cJSON_Delete(f.merges);
	free(f.anchor);
	free(f.key);
	return rc;
}

static void unwind(struct loader *l)
{
	while (l->depth > 0) {
		struct frame *f = &l->stack[--l->depth];

		cJSON_Delete(f->node);
		cJSON_Delete(f->merges);
		free(f->anchor);
		free(f->key);
	}
}

/* Runs one parser event.  *done is set at the end of a document (1) or of
 * the stream (2). */
static int step(struct loader *l, int *done)
{
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_parse(&l->parser, &ev)) {
		const char *p = l->parser.problem ? l->parser.problem
						  : "invalid YAML";

		return fail_at(l, &l->parser.problem_mark, p);
	}
	switch (ev.type) {
	case YAML_SCALAR_EVENT: rc = on_scalar(l, &ev); break;
	case YAML_ALIAS_EVENT: rc = on_alias(l, &ev); break;
	case YAML_SEQUENCE_START_EVENT: rc = on_open(l, &ev, false); break;
	case YAML_MAPPING_START_EVENT: rc = on_open(l, &ev, true); break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: rc = on_close(l, &ev); break;
	case YAML_DOCUMENT_END_EVENT: *done = 1; break;
	case YAML_STREAM_END_EVENT: *done = 2; break;
	default: break;
	}
	yaml_event_delete(&ev);
	return rc;
}

static int load_docs(const char *text, size_t len, const char *name,
		     cJSON *all, bool first_only, unsigned flags)
{
	struct loader l;
	int done = 0, rc = 0;

	memset(&l, 0, sizeof(l));
	l.plain_strings = flags & YAML_PLAIN_STRINGS;
	l.name = name ? name : "YAML";
	if (!yaml_parser_initialize(&l.parser))
		return fail_oom();
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)text,
				     len);
	while (done != 2) {
		done = 0;
		rc = step(&l, &done);
		if (rc < 0)
			break;
		if (done == 1) {
			if (l.have_root && !cJSON_IsNull(l.doc))
				cJSON_AddItemToArray(all, l.doc);
			else
				cJSON_Delete(l.doc);
			l.doc = NULL;
			l.have_root = false;
			free_anchors(&l);
			if (first_only && cJSON_GetArraySize(all) > 0)
				break;
		}
	}
	unwind(&l);
	cJSON_Delete(l.doc);
	free_anchors(&l);
	yaml_parser_delete(&l.parser);
	return rc;
}

cJSON *yaml_parse_all(const char *text, size_t len, const char *name)
{
	cJSON *all = cJSON_CreateArray();

	if (!all) {
		fail_oom();
		return NULL;
	}
	if (load_docs(text, len, name, all, false, 0) < 0) {
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}

cJSON *yaml_parse(const char *text, size_t len, const char *name)
{
	return yaml_parse_ex(text, len, name, 0);
}

cJSON *yaml_parse_ex(const char *text, size_t len, const char *name,
		     unsigned flags)
{
	cJSON *all = cJSON_CreateArray(), *first;

	if (!all) {
		fail_oom();
		return NULL;
	}
	if (load_docs(text, len, name, all, true, flags) < 0) {
		cJSON_Delete(all);
		return NULL;
	}
	first = cJSON_DetachItemFromArray(all, 0);
	cJSON_Delete(all);
	if (!first && !(first = cJSON_CreateNull()))
		fail_oom();
	return first;
}

cJSON *yaml_parse_file(const char *path)
{
	return yaml_parse_file_ex(path, 0);
}

cJSON *yaml_parse_file_ex(const char *path, unsigned flags)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cJSON *doc = NULL;

	if (fd < 0) {
		err_set(EXIT_USAGE, "cannot read %s: %s", path,
			strerror(errno));
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) < 0)
			break;
	if (n < 0)
		err_set(EXIT_USAGE, "cannot read %s: %s", path,
			strerror(errno));
	else if (n == 0)
		doc = yaml_parse_ex(b.data ? b.data : "", b.len, path, flags);
	close(fd);
	buf_free(&b);
	return doc;
}

/* ---- the emitter -------------------------------------------------------- */

static int write_out(void *data, unsigned char *bytes, size_t size)
{
	return buf_append(data, bytes, size) == 0;
}

static int emit_event(yaml_emitter_t *em, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(em, ev))
		return err_set(EXIT_FAILED, "cannot write YAML: %s",
			       em->problem ? em->problem : "emitter error");
	return 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool plain_only,
		       yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s,
					  (int)strlen(s), 1, !plain_only,
					  style))
		return fail_oom();
	return emit_event(em, &ev);
}

static int emit_number(yaml_emitter_t *em, double d)
{
	char text[64];

	if (isnan(d) || isinf(d))
		return emit_scalar(em, isnan(d) ? ".nan" :
				   d > 0 ? ".inf" : "-.inf", true,
				   YAML_PLAIN_SCALAR_STYLE);
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		snprintf(text, sizeof(text), "%.0f", d);
	else {
		snprintf(text, sizeof(text), "%.15g", d);
		if (strtod(text, NULL) != d)
			snprintf(text, sizeof(text), "%.17g", d);
	}
	return emit_scalar(em, text, true, YAML_PLAIN_SCALAR_STYLE);
}

static int emit_string(yaml_emitter_t *em, const char *s)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	if (yaml_plain_is_special(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	else if (strchr(s, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	return emit_scalar(em, s, false, style);
}

static int emit_node(yaml_emitter_t *em, const cJSON *v, int depth);

static int emit_children(yaml_emitter_t *em, const cJSON *v, int depth)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, v) {
		if (cJSON_IsObject(v) && emit_string(em, c->string) < 0)
			return -1;
		if (emit_node(em, c, depth + 1) < 0)
			return -1;
	}
	return 0;
}

static int emit_collection(yaml_emitter_t *em, const cJSON *v, int depth)
{
	yaml_event_t ev;
	bool map = cJSON_IsObject(v);
	int ok = map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					YAML_BLOCK_MAPPING_STYLE)
		     : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					YAML_BLOCK_SEQUENCE_STYLE);

	if (!ok)
		return fail_oom();
	if (emit_event(em, &ev) < 0 || emit_children(em, v, depth) < 0)
		return -1;
	ok = map ? yaml_mapping_end_event_initialize(&ev)
		 : yaml_sequence_end_event_initialize(&ev);
	if (!ok)
		return fail_oom();
	return emit_event(em, &ev);
}

static int emit_node(yaml_emitter_t *em, const cJSON *v, int depth)
{
	if (depth > MAX_DEPTH)
		return err_set(EXIT_FAILED, "cannot write YAML: nesting too "
			       "deep");
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		return emit_collection(em, v, depth);
	if (cJSON_IsString(v))
		return emit_string(em, v->valuestring);
	if (cJSON_IsNumber(v))
		return emit_number(em, v->valuedouble);
	if (cJSON_IsBool(v))
		return emit_scalar(em, cJSON_IsTrue(v) ? "true" : "false",
				   true, YAML_PLAIN_SCALAR_STYLE);
	return emit_scalar(em, "null", true, YAML_PLAIN_SCALAR_STYLE);
}

static int emit_document(yaml_emitter_t *em, const cJSON *value)
{
	yaml_event_t ev;

	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    emit_event(em, &ev) < 0)
		return -1;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    emit_event(em, &ev) < 0)
		return -1;
	if (emit_node(em, value, 0) < 0)
		return -1;
	if (!yaml_document_end_event_initialize(&ev, 1) ||
	    emit_event(em, &ev) < 0)
		return -1;
	if (!yaml_stream_end_event_initialize(&ev) || emit_event(em, &ev) < 0)
		return -1;
	return 0;
}

int yaml_emit(const cJSON *value, struct buf *out)
{
	yaml_emitter_t em;
	int rc;

	if (!yaml_emitter_initialize(&em))
		return fail_oom();
	yaml_emitter_set_output(&em, write_out, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	rc = emit_document(&em, value);
	if (rc == 0 && !yaml_emitter_flush(&em))
		rc = err_set(EXIT_FAILED, "cannot write YAML");
	yaml_emitter_delete(&em);
	return rc;
}
