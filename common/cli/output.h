/*
 * output.h - results on stdout (kubectl-style tables, JSON, YAML) and a
 * progress line on stderr.
 */
#ifndef COMMON_CLI_OUTPUT_H
#define COMMON_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * A table: upper-case headers, columns padded to their widest cell and
 * separated by three spaces, as kubectl prints.  Cells are copied.
 */
struct table;

struct table *table_new(const char *const *headers);
/* Adds a row of as many cells as there are headers; NULL prints "". */
int table_add(struct table *t, const char *const *cells);
/* Colours the cells of a column that equal word (PASS green, ...). */
void table_color_word(struct table *t, const char *word, const char *ansi);
void table_print(struct table *t, FILE *out, bool color);
void table_free(struct table *t);

/* Prints a JSON document, indented, with a final newline. */
int output_json(FILE *out, const cJSON *doc);

/* Prints a JSON document as block-style YAML (libyaml's emitter). */
int output_yaml(FILE *out, const cJSON *doc);

/*
 * A progress line on stderr, redrawn in place, only when stderr is a
 * terminal; progress_done() clears it.  Harmless when not a terminal.
 */
void progress_update(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_done(void);

#endif
