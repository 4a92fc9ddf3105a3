/* internal.h - what the files of common/cli share among themselves. */
#ifndef COMMON_CLI_INTERNAL_H
#define COMMON_CLI_INTERNAL_H

#include <stdio.h>

#include "cli/cli.h"

/* help.c */
void cli_print_help(FILE *out, const struct cli_ctx *ctx);
void cli_put_text(FILE *out, const char *text, size_t len, const char *prog);
void cli_flag_left(const struct cli_opt *o, char *dst, size_t size);

/* complete.c */
int cli_complete_main(const struct cli_prog *prog, int argc, char **argv,
		      bool descriptions);
extern const struct cli_cmd cli_completion_cmd;

/* man.c */
extern const struct cli_cmd cli_man_cmd;

/* cli.c: the display name for a program ("kubectl fluxwi"). */
void cli_display_name(const struct cli_prog *prog, const char *argv0,
		      char *dst, size_t size);

#endif
