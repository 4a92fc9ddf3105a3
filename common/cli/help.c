/*
 * help.c - --help text rendered from the option and command tables.
 *
 * The layout is Cobra's, which kubectl plugins commonly use: description,
 * Usage, Examples, Available Commands, Flags, Global Flags.  The usage line
 * reads "kubectl fluxwi ..." when the binary runs as a kubectl plugin.
 */
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "cli/cli.h"
#include "cli/internal.h"

void cli_flag_left(const struct cli_opt *o, char *dst, size_t size)
{
	char shortpart[8] = "    ";

	if (o->shortname)
		snprintf(shortpart, sizeof(shortpart), "-%c, ", o->shortname);
	if (o->type == CLI_BOOL || !o->arg)
		snprintf(dst, size, "  %s--%s", shortpart, o->name);
	else
		snprintf(dst, size, "  %s--%s %s", shortpart, o->name, o->arg);
}

static void join_choices(const char *const *c, char *dst, size_t size)
{
	dst[0] = '\0';
	for (const char *const *p = c; *p; p++) {
		if (p != c)
			strlcat(dst, ", ", size);
		strlcat(dst, *p, size);
	}
}

static void print_flag(FILE *out, const struct cli_opt *o,
		       const struct cli_cmd *cmd, int width)
{
	const char *const *choices = o->choices;
	char left[128], list[256];

	if (strcmp(o->name, "output") == 0 && cmd && cmd->outputs)
		choices = cmd->outputs;
	cli_flag_left(o, left, sizeof(left));
	fprintf(out, "%-*s   %s", width, left, o->help);
	if (choices) {
		join_choices(choices, list, sizeof(list));
		fprintf(out, " One of: %s.", list);
	}
	if (o->def && o->type != CLI_BOOL && strcmp(o->def, "0") != 0)
		fprintf(out, " (default %s)", o->def);
	fputc('\n', out);
}

static bool shown(const struct cli_opt *o)
{
	return !(o->flags & CLI_HIDDEN);
}

/* Width of the widest left column among the flags that will be printed. */
static int flag_width(const struct cli_ctx *ctx)
{
	const struct cli_opt *o;
	char left[128];
	int w = 0;

	for (o = ctx->cmd ? ctx->cmd->opts : NULL; o && o->name; o++) {
		cli_flag_left(o, left, sizeof(left));
		if (shown(o) && (int)strlen(left) > w)
			w = (int)strlen(left);
	}
	for (o = cli_global_opts(); o->name; o++) {
		cli_flag_left(o, left, sizeof(left));
		if (cli_global_applies(ctx->prog, ctx->cmd, o) &&
		    (int)strlen(left) > w)
			w = (int)strlen(left);
	}
	return w;
}

/* Flags local to this level: the command's own, -o when it has one, and
 * -h; at the top level also --version. */
static bool local_global(const struct cli_ctx *ctx, const struct cli_opt *o)
{
	if (strcmp(o->name, "help") == 0 || strcmp(o->name, "output") == 0)
		return true;
	return !ctx->cmd && strcmp(o->name, "version") == 0;
}

static void print_flags(FILE *out, const struct cli_ctx *ctx)
{
	const struct cli_opt *o;
	int width = flag_width(ctx);
	bool any_global = false;

	fputs("\nFlags:\n", out);
	for (o = ctx->cmd ? ctx->cmd->opts : NULL; o && o->name; o++)
		if (shown(o))
			print_flag(out, o, ctx->cmd, width);
	for (o = cli_global_opts(); o->name; o++)
		if (cli_global_applies(ctx->prog, ctx->cmd, o) &&
		    local_global(ctx, o))
			print_flag(out, o, ctx->cmd, width);
	for (o = cli_global_opts(); o->name; o++) {
		if (!cli_global_applies(ctx->prog, ctx->cmd, o) ||
		    local_global(ctx, o) ||
		    (ctx->cmd && strcmp(o->name, "version") == 0))
			continue;
		if (!any_global)
			fputs("\nGlobal Flags:\n", out);
		any_global = true;
		print_flag(out, o, ctx->cmd, width);
	}
}

/* Writes len bytes of text, with every "@P@" replaced by the program
 * name, so shared texts can name the plugin they are printed for. */
void cli_put_text(FILE *out, const char *text, size_t len, const char *prog)
{
	const char *end = text + len, *at;

	while (text < end) {
		at = memmem(text, (size_t)(end - text), "@P@", 3);
		if (!at) {
			fwrite(text, 1, (size_t)(end - text), out);
			return;
		}
		fwrite(text, 1, (size_t)(at - text), out);
		fputs(prog, out);
		text = at + 3;
	}
}

static void print_examples(FILE *out, const char *examples, const char *prog)
{
	const char *line = examples, *nl;

	if (!examples || !*examples)
		return;
	fputs("\nExamples:\n", out);
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		if (nl > line) {
			fputs("  ", out);
			cli_put_text(out, line, (size_t)(nl - line), prog);
			fputc('\n', out);
		} else
			fputc('\n', out);
		if (!*nl)
			break;
	}
}

static void print_commands(FILE *out, const struct cli_prog *prog)
{
	static const char *const builtin_names[] = { "completion", "help",
						     "version", NULL };
	const struct cli_cmd *c;
	size_t i;

	fputs("\nAvailable Commands:\n", out);
	for (c = prog->cmds; c && c->name; c++)
		if (!(c->flags & CLI_HIDDEN))
			fprintf(out, "  %-12s%s\n", c->name, c->summary);
	for (i = 0; builtin_names[i]; i++) {
		c = cli_find_cmd(prog, builtin_names[i]);
		fprintf(out, "  %-12s%s\n", c->name, c->summary);
	}
}

static void print_usage(FILE *out, const struct cli_ctx *ctx)
{
	const struct cli_cmd *cmd = ctx->cmd;
	const struct cli_prog *prog = ctx->prog;

	fputs("\nUsage:\n", out);
	if (!cmd) {
		fprintf(out, "  %s [command] [flags]\n", ctx->display);
		if (prog->default_cmd) {
			cmd = cli_find_cmd(prog, prog->default_cmd);
			fprintf(out, "  %s %s\n", ctx->display, cmd->usage);
		}
		return;
	}
	if (prog->default_cmd && strcmp(cmd->name, prog->default_cmd) == 0)
		fprintf(out, "  %s [%s] %s\n", ctx->display, cmd->name,
			cmd->usage);
	else
		fprintf(out, "  %s %s %s\n", ctx->display, cmd->name,
			cmd->usage);
}

void cli_print_help(FILE *out, const struct cli_ctx *ctx)
{
	const struct cli_cmd *cmd = ctx->cmd;
	const char *desc = cmd ? cmd->description : ctx->prog->description;

	if (!desc || !*desc)
		desc = cmd ? cmd->summary : ctx->prog->summary;
	cli_put_text(out, desc, strlen(desc), ctx->prog->name);
	fputc('\n', out);
	print_usage(out, ctx);
	print_examples(out, cmd ? cmd->examples : ctx->prog->examples,
		       ctx->prog->name);
	if (!cmd)
		print_commands(out, ctx->prog);
	print_flags(out, ctx);
	if (!cmd)
		fprintf(out, "\nUse \"%s [command] --help\" for more "
			"information about a command.\n", ctx->display);
}
