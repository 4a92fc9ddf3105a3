/* term.h - terminal detection and ANSI colours. */
#ifndef COMMON_CLI_TERM_H
#define COMMON_CLI_TERM_H

#include <stdbool.h>
#include <stdio.h>

#define TERM_RESET "\033[0m"
#define TERM_RED "\033[31m"
#define TERM_GREEN "\033[32m"
#define TERM_YELLOW "\033[33m"
#define TERM_CYAN "\033[36m"
#define TERM_BOLD "\033[1m"

bool term_is_tty(FILE *f);

/* Colour on stderr/stdout only on a terminal, without NO_COLOR, without
 * --no-color (passed as no_color_flag). */
bool term_want_color(FILE *f, bool no_color_flag);

/* Width of the terminal on f, or fallback when it is not a terminal. */
int term_width(FILE *f, int fallback);

#endif
