#include "cli/output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cli/term.h"
#include "util/err.h"

#define TABLE_MAX_COLS 16
#define TABLE_MAX_WORDS 8

struct table {
	size_t ncols, nrows, cap;
	char **cells;			/* nrows * ncols, row-major */
	size_t width[TABLE_MAX_COLS];
	const char *headers[TABLE_MAX_COLS];
	struct { const char *word, *ansi; } words[TABLE_MAX_WORDS];
	size_t nwords;
};

struct table *table_new(const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t)
		return NULL;
	for (i = 0; headers[i] && i < TABLE_MAX_COLS; i++) {
		t->headers[i] = headers[i];
		t->width[i] = strlen(headers[i]);
	}
	t->ncols = i;
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	size_t i, base;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = reallocarray(t->cells, cap * t->ncols, sizeof(*n));

		if (!n)
			return err_set(EXIT_FAILED, "out of memory");
		t->cells = n;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
		if (!t->cells[base + i]) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return err_set(EXIT_FAILED, "out of memory");
		}
		if (strlen(cells[i] ? cells[i] : "") > t->width[i])
			t->width[i] = strlen(cells[i]);
	}
	t->nrows++;
	return 0;
}

void table_color_word(struct table *t, const char *word, const char *ansi)
{
	if (t->nwords < TABLE_MAX_WORDS) {
		t->words[t->nwords].word = word;
		t->words[t->nwords++].ansi = ansi;
	}
}

static const char *tint(const struct table *t, const char *cell)
{
	size_t i;

	for (i = 0; i < t->nwords; i++)
		if (strcmp(t->words[i].word, cell) == 0)
			return t->words[i].ansi;
	return NULL;
}

static void print_cell(const struct table *t, FILE *out, size_t col,
		       const char *cell, bool color)
{
	const char *ansi = color ? tint(t, cell) : NULL;
	bool last = col + 1 == t->ncols;

	if (ansi)
		fprintf(out, "%s%s%s", ansi, cell, TERM_RESET);
	else
		fputs(cell, out);
	if (!last)
		fprintf(out, "%*s", (int)(t->width[col] - strlen(cell) + 3), "");
}

void table_print(struct table *t, FILE *out, bool color)
{
	size_t r, c;

	for (c = 0; c < t->ncols; c++)
		print_cell(t, out, c, t->headers[c], false);
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			print_cell(t, out, c, t->cells[r * t->ncols + c], color);
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* cJSON indents with tabs; JSON strings never hold a raw tab, so every
 * tab is layout: after a colon it becomes a space, elsewhere 4 spaces. */
int output_json(FILE *out, const cJSON *doc)
{
	char *text = cJSON_Print(doc), *p;

	if (!text)
		return err_set(EXIT_FAILED, "out of memory");
	for (p = text; *p; p++) {
		if (*p != '\t')
			fputc(*p, out);
		else if (p > text && p[-1] == ':')
			fputc(' ', out);
		else
			fputs("    ", out);
	}
	fputc('\n', out);
	free(text);
	return 0;
}

/* ---- YAML ------------------------------------------------------------ */

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

/* A string that a YAML reader would take for another type. */
static bool looks_typed(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no",
		"on", "off", "null", "~", "True", "False", "Yes", "No", "On",
		"Off", "Null", "TRUE", "FALSE", "NULL", NULL };
	char *end;
	size_t i;

	if (!*s)
		return true;
	for (i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	(void)strtod(s, &end);
	return *end == '\0';
}

/* typed: the text is a number, boolean or null, printed plain. */
static int emit_scalar(yaml_emitter_t *e, const char *text, bool typed)
{
	bool quote = !typed && looks_typed(text);
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL,
				     (const yaml_char_t *)text,
				     (int)strlen(text), !quote, 1,
				     quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE :
				     YAML_ANY_SCALAR_STYLE);
	return emit(e, &ev);
}

static int emit_node(yaml_emitter_t *e, const cJSON *n);

static int emit_children(yaml_emitter_t *e, const cJSON *n, bool mapping)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, n) {
		if (mapping && emit_scalar(e, c->string, false) < 0)
			return -1;
		if (emit_node(e, c) < 0)
			return -1;
	}
	return 0;
}

static int emit_node(yaml_emitter_t *e, const cJSON *n)
{
	yaml_event_t ev;
	char num[64];

	if (cJSON_IsObject(n)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    YAML_BLOCK_MAPPING_STYLE);
		if (emit(e, &ev) < 0 || emit_children(e, n, true) < 0)
			return -1;
		yaml_mapping_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	if (cJSON_IsArray(n)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     YAML_BLOCK_SEQUENCE_STYLE);
		if (emit(e, &ev) < 0 || emit_children(e, n, false) < 0)
			return -1;
		yaml_sequence_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	if (cJSON_IsString(n))
		return emit_scalar(e, n->valuestring, false);
	if (cJSON_IsNumber(n)) {
		if (n->valuedouble == (double)(long long)n->valuedouble)
			snprintf(num, sizeof(num), "%lld",
				 (long long)n->valuedouble);
		else
			snprintf(num, sizeof(num), "%.17g", n->valuedouble);
		return emit_scalar(e, num, true);
	}
	if (cJSON_IsBool(n))
		return emit_scalar(e, cJSON_IsTrue(n) ? "true" : "false", true);
	return emit_scalar(e, "null", true);
}

int output_yaml(FILE *out, const cJSON *doc)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int rc = -1;

	if (!yaml_emitter_initialize(&e))
		return err_set(EXIT_FAILED, "out of memory");
	yaml_emitter_set_output(&e, yaml_write, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&e, &ev) < 0)
		goto done;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(&e, &ev) < 0 || emit_node(&e, doc) < 0)
		goto done;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&e, &ev) < 0)
		goto done;
	yaml_stream_end_event_initialize(&ev);
	rc = emit(&e, &ev);
done:
	if (rc < 0)
		err_set(EXIT_WRITE, "cannot write YAML: %s",
			e.problem ? e.problem : "emitter error");
	yaml_emitter_delete(&e);
	return rc;
}

/* ---- progress ---------------------------------------------------------- */

static bool progress_shown;

void progress_update(const char *fmt, ...)
{
	va_list ap;

	if (!term_is_tty(stderr))
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	progress_shown = true;
}

void progress_done(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = false;
}
