/*
 * man.c - man pages written from the same tables as --help.
 *
 * The hidden "__man DIR" command writes kubectl-NAME.1 and one
 * kubectl-NAME-COMMAND.1 per subcommand, laid out like kubectl's own pages:
 * NAME, SYNOPSIS, DESCRIPTION, OPTIONS, OPTIONS INHERITED FROM PARENT
 * COMMANDS, EXAMPLE, SEE ALSO.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "util/err.h"
#include "version.h"

/* Writes text with roff's special characters escaped. */
static void roff(FILE *out, const char *text, const char *prog)
{
	char tmp[8192];
	FILE *mem = fmemopen(tmp, sizeof(tmp), "w");
	const char *p;

	if (!mem)
		return;
	cli_put_text(mem, text, strlen(text), prog);
	fputc('\0', mem);
	fclose(mem);
	tmp[sizeof(tmp) - 1] = '\0';
	for (p = tmp; *p; p++) {
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else if ((*p == '.' || *p == '\'') && (p == tmp || p[-1] == '\n'))
			fprintf(out, "\\&%c", *p);
		else
			fputc(*p, out);
	}
}

static void man_flag(FILE *out, const struct cli_opt *o,
		     const struct cli_cmd *cmd, const char *prog)
{
	const char *const *c = o->choices;

	if (strcmp(o->name, "output") == 0 && cmd)
		c = cmd->outputs;
	fputs(".TP\n\\fB", out);
	if (o->shortname)
		fprintf(out, "\\-%c\\fP, \\fB", o->shortname);
	fprintf(out, "\\-\\-");
	roff(out, o->name, prog);
	fputs("\\fP", out);
	if (o->type != CLI_BOOL && o->arg)
		fprintf(out, " \\fI%s\\fP", o->arg);
	fputc('\n', out);
	roff(out, o->help, prog);
	for (; c && *c; c++)
		fprintf(out, "%s%s", c == o->choices ||
			(cmd && c == cmd->outputs) ? " One of: " : ", ", *c);
	if (o->def && o->type != CLI_BOOL && strcmp(o->def, "0") != 0)
		fprintf(out, " Default: %s.", o->def);
	fputc('\n', out);
}

static void man_examples(FILE *out, const char *ex, const char *prog)
{
	if (!ex || !*ex)
		return;
	fputs(".SH EXAMPLE\n.nf\n.RS\n", out);
	roff(out, ex, prog);
	fputs("\n.RE\n.fi\n", out);
}

/* Flags of this level: the command's own, and -o / -h (or, on the top
 * page, every global flag). */
static bool local_flag(const struct cli_cmd *cmd, const struct cli_opt *o)
{
	return !cmd || strcmp(o->name, "help") == 0 ||
	       strcmp(o->name, "output") == 0;
}

static void man_options(FILE *out, const struct cli_prog *prog,
			const struct cli_cmd *cmd)
{
	const struct cli_opt *o;
	bool header = false;

	fputs(".SH OPTIONS\n", out);
	for (o = cmd ? cmd->opts : NULL; o && o->name; o++)
		if (!(o->flags & CLI_HIDDEN))
			man_flag(out, o, cmd, prog->name);
	for (o = cli_global_opts(); o->name; o++)
		if (cli_global_applies(prog, cmd, o) && local_flag(cmd, o))
			man_flag(out, o, cmd, prog->name);
	for (o = cli_global_opts(); o->name; o++) {
		if (!cli_global_applies(prog, cmd, o) || local_flag(cmd, o) ||
		    strcmp(o->name, "version") == 0)
			continue;
		if (!header)
			fputs(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n",
			      out);
		header = true;
		man_flag(out, o, cmd, prog->name);
	}
}

static void man_see_also(FILE *out, const struct cli_prog *prog,
			 const struct cli_cmd *cmd)
{
	const struct cli_cmd *c;

	fputs(".SH SEE ALSO\n", out);
	if (cmd) {
		fprintf(out, "\\fBkubectl\\-%s\\fP(1)\n", prog->name);
		return;
	}
	for (c = prog->cmds; c && c->name; c++)
		if (!(c->flags & CLI_HIDDEN))
			fprintf(out, "%s\\fBkubectl\\-%s\\-%s\\fP(1)",
				c == prog->cmds ? "" : ", ", prog->name,
				c->name);
	fputc('\n', out);
}

static int write_page(const char *dir, const struct cli_prog *prog,
		      const struct cli_cmd *cmd)
{
	char path[PATH_MAX];
	const char *desc;
	FILE *out;

	if (cmd)
		snprintf(path, sizeof(path), "%s/kubectl-%s-%s.1", dir,
			 prog->name, cmd->name);
	else
		snprintf(path, sizeof(path), "%s/kubectl-%s.1", dir,
			 prog->name);
	out = fopen(path, "w");
	if (!out)
		return err_set(EXIT_WRITE, "cannot write %s: %s", path,
			       strerror(errno));
	fprintf(out, ".TH \"KUBECTL-%s%s%s\" \"1\" \"%s\" \"kubectl-%s %s\" "
		"\"User Commands\"\n", prog->name, cmd ? "-" : "",
		cmd ? cmd->name : "", fwi_build_date(), prog->name,
		fwi_version());
	fprintf(out, ".SH NAME\nkubectl %s%s%s \\- ", prog->name,
		cmd ? " " : "", cmd ? cmd->name : "");
	roff(out, cmd ? cmd->summary : prog->summary, prog->name);
	fprintf(out, "\n.SH SYNOPSIS\n\\fBkubectl %s%s%s\\fP ", prog->name,
		cmd ? " " : "", cmd ? cmd->name : "");
	roff(out, cmd ? cmd->usage : "[command] [flags]", prog->name);
	desc = cmd ? cmd->description : prog->description;
	fputs("\n.SH DESCRIPTION\n", out);
	roff(out, desc && *desc ? desc : (cmd ? cmd->summary : prog->summary),
	     prog->name);
	fputc('\n', out);
	man_options(out, prog, cmd);
	man_examples(out, cmd ? cmd->examples : prog->examples, prog->name);
	man_see_also(out, prog, cmd);
	if (fclose(out) != 0)
		return err_set(EXIT_WRITE, "cannot write %s: %s", path,
			       strerror(errno));
	return 0;
}

static int run_man(struct cli_ctx *ctx, void *args)
{
	const struct cli_cmd *c;
	const char *dir = ctx->argc > 0 ? ctx->argv[0] : ".";

	(void)args;
	if (write_page(dir, ctx->prog, NULL) < 0)
		return -1;
	for (c = ctx->prog->cmds; c && c->name; c++)
		if (!(c->flags & CLI_HIDDEN) && write_page(dir, ctx->prog, c) < 0)
			return -1;
	return 0;
}

const struct cli_cmd cli_man_cmd = {
	"__man", "Write the man pages into a directory", "[DIR]",
	"Writes kubectl-@P@.1 and one page per subcommand into DIR.", NULL,
	NULL, 0, NULL, CLI_COMP_DIR, run_man, CLI_HIDDEN
};
