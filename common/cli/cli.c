/*
 * cli.c - argument parsing and dispatch, driven by the option tables.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "cli/internal.h"
#include "cli/term.h"
#include "util/err.h"
#include "util/log.h"
#include "version.h"

#define G(member) CLI_OFF(struct cli_global, member)

/* Marks a global option with the CLI_G_* group it belongs to (high bits). */
#define GROUP(g) ((unsigned)(g) << 8)

static const struct cli_opt global_opts[] = {
	{ 0, "kubeconfig", CLI_STRING, "PATH",
	  "Path to the kubeconfig file to use for CLI requests.", NULL, NULL,
	  CLI_COMP_FILE, G(kubeconfig), GROUP(CLI_G_CLUSTER) },
	{ 0, "context", CLI_STRING, "NAME",
	  "The name of the kubeconfig context to use.", NULL, NULL,
	  CLI_COMP_CONTEXT, G(context), GROUP(CLI_G_CLUSTER) },
	{ 'n', "namespace", CLI_STRING, "NS",
	  "If present, the namespace scope for this CLI request.", NULL, NULL,
	  CLI_COMP_NAMESPACE, G(namespace), GROUP(CLI_G_CLUSTER) },
	{ 0, "request-timeout", CLI_DURATION, "DURATION",
	  "How long to wait for each server request (30s, 2m; default 30s).",
	  NULL, NULL, CLI_COMP_NONE, G(request_timeout_ms),
	  GROUP(CLI_G_TIMEOUT) },
	{ 0, "azure-auth", CLI_STRING, "NAME",
	  "Use only this Azure credential instead of trying each in turn.",
	  NULL, (const char *const[]){ "env", "certificate",
	  "workload-identity", "managed-identity", "azure-cli", NULL },
	  CLI_COMP_CHOICES, G(azure_auth), GROUP(CLI_G_AZURE) },
	{ 'o', "output", CLI_STRING, "FORMAT", "Output format.", NULL, NULL,
	  CLI_COMP_CHOICES, G(output), GROUP(CLI_G_COMMON) },
	{ 'v', "v", CLI_INT, "N",
	  "Log verbosity: 2 steps, 6 HTTP requests, 8 bodies (never secrets).",
	  "0", NULL, CLI_COMP_NONE, G(verbosity), GROUP(CLI_G_COMMON) },
	{ 0, "no-color", CLI_BOOL, NULL,
	  "Never colour the output (NO_COLOR in the environment does the same).",
	  NULL, NULL, CLI_COMP_NONE, G(no_color), GROUP(CLI_G_COMMON) },
	{ 'h', "help", CLI_BOOL, NULL, "Show help for this command.", NULL,
	  NULL, CLI_COMP_NONE, G(help), GROUP(CLI_G_COMMON) },
	{ 0, "version", CLI_BOOL, NULL, "Print the version and exit.", NULL,
	  NULL, CLI_COMP_NONE, G(version), GROUP(CLI_G_COMMON) },
	CLI_OPT_END
};

const struct cli_opt *cli_global_opts(void)
{
	return global_opts;
}

bool cli_global_applies(const struct cli_prog *prog,
			const struct cli_cmd *cmd, const struct cli_opt *o)
{
	unsigned group = o->flags >> 8;

	if (strcmp(o->name, "output") == 0)
		return cmd && cmd->outputs;
	return (group & (prog->globals | CLI_G_COMMON)) != 0;
}

/* ---- built-in commands ---------------------------------------------- */

static int run_version(struct cli_ctx *ctx, void *args)
{
	(void)args;
	printf("kubectl-%s v%s (commit %s, built %s)\n", ctx->prog->name,
	       fwi_version(), fwi_commit(), fwi_build_date());
	return 0;
}

static int run_help(struct cli_ctx *ctx, void *args)
{
	struct cli_ctx sub = *ctx;

	(void)args;
	sub.cmd = NULL;
	if (ctx->argc > 0) {
		sub.cmd = cli_find_cmd(ctx->prog, ctx->argv[0]);
		if (!sub.cmd)
			return err_set(EXIT_USAGE,
				       "unknown help topic \"%s\"", ctx->argv[0]);
	}
	cli_print_help(stdout, &sub);
	return 0;
}

static const struct cli_cmd version_cmd = {
	"version", "Print the version, commit and build date", "",
	"Prints the version, the git commit and the build date of this plugin.",
	NULL, NULL, 0, NULL, CLI_COMP_NONE, run_version, 0
};

static const struct cli_cmd help_cmd = {
	"help", "Help about any command", "[command]",
	"Shows the help of any command, as --help does.", NULL, NULL, 0, NULL,
	CLI_COMP_COMMAND, run_help, 0
};

static const struct cli_cmd *const builtins[] = {
	&version_cmd, &cli_completion_cmd, &help_cmd, &cli_man_cmd, NULL
};

const struct cli_cmd *cli_find_cmd(const struct cli_prog *prog,
				   const char *name)
{
	const struct cli_cmd *c;
	size_t i;

	for (c = prog->cmds; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (i = 0; builtins[i]; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

int cli_not_implemented(struct cli_ctx *ctx, void *args)
{
	(void)args;
	return err_set(EXIT_USAGE, "%s %s: not implemented yet",
		       ctx->display, ctx->cmd->name);
}

/* ---- values ------------------------------------------------------------ */

int cli_parse_duration(const char *text, long *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
		{ NULL, 0 }
	};
	const char *p = text;
	double total = 0;

	if (!*p)
		goto bad;
	if (strspn(p, "0123456789") == strlen(p)) {
		errno = 0;
		total = strtod(p, NULL) * 1000;
		goto done;
	}
	while (*p) {
		char *end;
		double n;
		size_t i;

		errno = 0;
		n = strtod(p, &end);
		if (end == p || errno || n < 0)
			goto bad;
		for (i = 0; units[i].unit; i++)
			if (strncmp(end, units[i].unit,
				    strlen(units[i].unit)) == 0)
				break;
		if (!units[i].unit)
			goto bad;
		total += n * units[i].ms;
		p = end + strlen(units[i].unit);
	}
done:
	if (total > (double)LONG_MAX / 2)
		goto bad;
	*ms = (long)total;
	return 0;
bad:
	err_set(EXIT_USAGE, "invalid duration \"%s\"", text);
	return err_hint("use a number with a unit, such as 30s, 2m or 1h30m");
}

static int own(struct cli_ctx *ctx, char *s)
{
	char **n;

	if (!s)
		return err_set(EXIT_FAILED, "out of memory");
	n = reallocarray(ctx->owned, ctx->nowned + 1, sizeof(*n));
	if (!n) {
		free(s);
		return err_set(EXIT_FAILED, "out of memory");
	}
	ctx->owned = n;
	ctx->owned[ctx->nowned++] = s;
	return 0;
}

static bool in_choices(const char *const *choices, const char *v)
{
	for (; *choices; choices++)
		if (strcmp(*choices, v) == 0)
			return true;
	return false;
}

static int bad_value(const struct cli_opt *o, const char *v, const char *why)
{
	return err_set(EXIT_USAGE, "invalid argument \"%s\" for \"--%s\" flag: %s",
		       v, o->name, why);
}

static int parse_bool(const struct cli_opt *o, const char *v, bool *out)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return bad_value(o, v, "expected true or false");
	return 0;
}

static int parse_long(const struct cli_opt *o, const char *v, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	if (!*v || *end || errno || *out < 0)
		return bad_value(o, v, "expected a non-negative whole number");
	return 0;
}

static int append_list(struct cli_ctx *ctx, const char **slot, const char *v)
{
	char *joined;

	if (!*slot || !**slot) {
		*slot = v;
		return 0;
	}
	if (asprintf(&joined, "%s,%s", *slot, v) < 0)
		return err_set(EXIT_FAILED, "out of memory");
	if (own(ctx, joined) < 0)
		return -1;
	*slot = joined;
	return 0;
}

/* Stores value v (NULL for a bare boolean flag) into base + o->off. */
static int store(struct cli_ctx *ctx, const struct cli_opt *o, char *base,
		 const char *v)
{
	void *slot = base + o->off;

	if (o->choices && v && !in_choices(o->choices, v)) {
		char list[512] = "";
		const char *const *c;

		for (c = o->choices; *c; c++) {
			strlcat(list, c == o->choices ? "" : ", ", sizeof(list));
			strlcat(list, *c, sizeof(list));
		}
		bad_value(o, v, "not one of the allowed values");
		return err_hint("allowed values: %s", list);
	}
	switch (o->type) {
	case CLI_BOOL:
		return parse_bool(o, v, slot);
	case CLI_STRING:
		*(const char **)slot = v;
		return 0;
	case CLI_LIST:
		return append_list(ctx, slot, v);
	case CLI_INT:
		return parse_long(o, v, slot);
	case CLI_DURATION:
		if (cli_parse_duration(v, slot) < 0)
			return err_prefix("--%s", o->name);
		return 0;
	}
	return 0;
}

static int apply_defaults(struct cli_ctx *ctx, const struct cli_opt *opts,
			  char *base)
{
	const struct cli_opt *o;

	for (o = opts; o && o->name; o++)
		if (o->def && store(ctx, o, base, o->def) < 0)
			return -1;
	return 0;
}

/* ---- the parser -------------------------------------------------------- */

struct parser {
	const struct cli_prog *prog;
	struct cli_ctx *ctx;
	char *args;		/* the command's argument struct */
	int argc;
	char **argv;
	int i;			/* index of the next word */
	bool operands_only;	/* after -- */
};

/* Finds an option by long name (len bytes) or, when name is NULL, by its
 * short letter; *base receives the struct it writes into. */
static const struct cli_opt *lookup(struct parser *p, const char *name,
				    size_t len, char letter, char **base)
{
	const struct cli_cmd *cmd = p->ctx->cmd;
	const struct cli_opt *o;

	for (o = cmd ? cmd->opts : NULL; o && o->name; o++)
		if (name ? strlen(o->name) == len &&
			   strncmp(o->name, name, len) == 0
			 : o->shortname == letter) {
			*base = p->args;
			return o;
		}
	for (o = global_opts; o->name; o++) {
		if (!cli_global_applies(p->prog, cmd, o))
			continue;
		if (name ? strlen(o->name) == len &&
			   strncmp(o->name, name, len) == 0
			 : o->shortname == letter) {
			*base = (char *)&p->ctx->g;
			return o;
		}
	}
	return NULL;
}

static int missing_value(const struct cli_opt *o, bool is_short)
{
	if (is_short)
		return err_set(EXIT_USAGE,
			       "flag needs an argument: '%c' in -%c",
			       o->shortname, o->shortname);
	return err_set(EXIT_USAGE, "flag needs an argument: --%s", o->name);
}

static int parse_long_opt(struct parser *p, const char *word)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_opt *o;
	char *base;

	o = lookup(p, name, len, 0, &base);
	if (!o)
		return err_set(EXIT_USAGE, "unknown flag: --%.*s", (int)len,
			       name);
	if (o->type == CLI_BOOL)
		return store(p->ctx, o, base, eq ? eq + 1 : NULL);
	if (eq)
		return store(p->ctx, o, base, eq + 1);
	if (p->i >= p->argc)
		return missing_value(o, false);
	return store(p->ctx, o, base, p->argv[p->i++]);
}

static int parse_short_opts(struct parser *p, const char *word)
{
	const char *c;

	for (c = word + 1; *c; c++) {
		const struct cli_opt *o;
		char *base;

		o = lookup(p, NULL, 0, *c, &base);
		if (!o)
			return err_set(EXIT_USAGE,
				       "unknown shorthand flag: '%c' in %s",
				       *c, word);
		if (o->type == CLI_BOOL) {
			if (c[1] == '=')
				return store(p->ctx, o, base, c + 2);
			if (store(p->ctx, o, base, NULL) < 0)
				return -1;
			continue;
		}
		if (c[1])
			return store(p->ctx, o, base, c[1] == '=' ? c + 2 : c + 1);
		if (p->i >= p->argc)
			return missing_value(o, true);
		return store(p->ctx, o, base, p->argv[p->i++]);
	}
	return 0;
}

static int add_operand(struct parser *p, char *word)
{
	p->ctx->argv[p->ctx->argc++] = word;
	p->ctx->argv[p->ctx->argc] = NULL;
	return 0;
}

static int parse_word(struct parser *p)
{
	char *word = p->argv[p->i++];

	if (p->operands_only || word[0] != '-' || strcmp(word, "-") == 0)
		return add_operand(p, word);
	if (strcmp(word, "--") == 0) {
		p->operands_only = true;
		return 0;
	}
	if (word[1] == '-')
		return parse_long_opt(p, word);
	return parse_short_opts(p, word);
}

/* True when the flag word takes the following word as its value, judged
 * before the command is known: a non-boolean option of any table. */
static bool takes_next(const struct cli_prog *prog, const char *word)
{
	const struct cli_cmd *c;
	const struct cli_opt *o;
	size_t len;

	if (word[1] != '-')	/* -n ns; -nns and bundles carry their own */
		len = 0;
	else if (strchr(word, '='))
		return false;
	else
		len = strlen(word + 2);
	for (o = global_opts; o->name; o++)
		if (len ? strcmp(o->name, word + 2) == 0
			: (o->shortname == word[1] && !word[2]))
			return o->type != CLI_BOOL;
	for (c = prog->cmds; c && c->name; c++)
		for (o = c->opts; o && o->name; o++)
			if (len ? strcmp(o->name, word + 2) == 0
				: (o->shortname == word[1] && !word[2]))
				return o->type != CLI_BOOL;
	return false;
}

/* Finds the subcommand: the first operand, when it names one.  Returns
 * the index of that word in argv, or 0 when the default command runs. */
static int find_command(const struct cli_prog *prog, int argc, char **argv,
			const struct cli_cmd **cmd)
{
	int i;

	*cmd = NULL;
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0)
			break;
		if (w[0] == '-' && w[1]) {
			if (takes_next(prog, w))
				i++;
			continue;
		}
		*cmd = cli_find_cmd(prog, w);
		if (*cmd)
			return i;
		break;
	}
	if (prog->default_cmd)
		*cmd = cli_find_cmd(prog, prog->default_cmd);
	return 0;
}

void cli_display_name(const struct cli_prog *prog, const char *argv0,
		      char *dst, size_t size)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : (argv0 ? argv0 : "");
	if (strncmp(base, "kubectl-", 8) == 0 ||
	    strncmp(base, "kubectl_complete-", 17) == 0 || !*base)
		snprintf(dst, size, "kubectl %s", prog->name);
	else
		strlcpy(dst, base, size);
}

static int check_required(const struct cli_cmd *cmd, const char *args)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o && o->name; o++) {
		const char *const *v = (const char *const *)(const void *)
				       (args + o->off);

		if (!(o->flags & CLI_REQUIRED))
			continue;
		if ((o->type == CLI_STRING || o->type == CLI_LIST) &&
		    (!*v || !**v))
			return err_set(EXIT_USAGE,
				       "required flag \"--%s\" not set",
				       o->name);
	}
	return 0;
}

static int check_output(const struct cli_ctx *ctx)
{
	const char *const *c;
	char list[256] = "";

	if (!ctx->g.output || !ctx->cmd || !ctx->cmd->outputs)
		return 0;
	for (c = ctx->cmd->outputs; *c; c++) {
		if (strcmp(*c, ctx->g.output) == 0)
			return 0;
		strlcat(list, c == ctx->cmd->outputs ? "" : ", ", sizeof(list));
		strlcat(list, *c, sizeof(list));
	}
	err_set(EXIT_USAGE, "unsupported output format \"%s\"", ctx->g.output);
	return err_hint("allowed values: %s", list);
}

int cli_parse(const struct cli_prog *prog, int argc, char **argv,
	      struct cli_ctx *ctx, void **args)
{
	static char display[128];
	struct parser p = { prog, ctx, NULL, argc, argv, 1, false };
	const struct cli_cmd *cmd;
	int cmd_at = find_command(prog, argc, argv, &cmd);

	memset(ctx, 0, sizeof(*ctx));
	*args = NULL;
	ctx->prog = prog;
	ctx->cmd = cmd;
	ctx->defaulted = cmd && cmd_at == 0;
	cli_display_name(prog, argc > 0 ? argv[0] : NULL, display,
			 sizeof(display));
	ctx->display = display;
	ctx->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!ctx->argv)
		return err_set(EXIT_FAILED, "out of memory");
	if (cmd && cmd->args_size) {
		p.args = calloc(1, cmd->args_size);
		if (!p.args)
			return err_set(EXIT_FAILED, "out of memory");
		*args = p.args;
	}
	if (apply_defaults(ctx, global_opts, (char *)&ctx->g) < 0 ||
	    (cmd && apply_defaults(ctx, cmd->opts, p.args) < 0))
		return -1;
	while (p.i < argc) {
		if (p.i == cmd_at) {
			p.i++;
			continue;
		}
		if (parse_word(&p) < 0)
			return -1;
	}
	if (ctx->g.help || ctx->g.version)
		return 1;
	if (cmd && (check_required(cmd, p.args) < 0 || check_output(ctx) < 0))
		return -1;
	return 0;
}

void cli_release(struct cli_ctx *ctx, void *args)
{
	size_t i;

	for (i = 0; i < ctx->nowned; i++)
		free(ctx->owned[i]);
	free(ctx->owned);
	free(ctx->argv);
	free(args);
	ctx->owned = NULL;
	ctx->argv = NULL;
	ctx->nowned = 0;
}

static void help_hint(const struct cli_ctx *ctx)
{
	if (ctx->cmd && !(ctx->prog->default_cmd &&
	    strcmp(ctx->cmd->name, ctx->prog->default_cmd) == 0))
		err_hint("see '%s %s --help' for usage", ctx->display,
			 ctx->cmd->name);
	else
		err_hint("see '%s --help' for usage", ctx->display);
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(EXIT_USAGE, "%s", msg);
	help_hint(ctx);
	return -1;
}

/* ---- main -------------------------------------------------------------- */

static bool invoked_as_completer(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return strncmp(base, "kubectl_complete-", 17) == 0;
}

static void setup_logging(const struct cli_ctx *ctx)
{
	static char prog[64];

	snprintf(prog, sizeof(prog), "kubectl-%s", ctx->prog->name);
	log_init(prog);
	log_set_verbosity((int)ctx->g.verbosity);
	log_set_color(term_want_color(stderr, ctx->g.no_color));
}

static int run(struct cli_ctx *ctx, void *args)
{
	if (!ctx->cmd) {
		if (ctx->argc > 0)
			return cli_usage_error(ctx,
					       "unknown command \"%s\" for \"%s\"",
					       ctx->argv[0], ctx->display);
		cli_print_help(stdout, ctx);
		return 0;
	}
	ctx->color = term_want_color(stdout, ctx->g.no_color);
	return ctx->cmd->run(ctx, args);
}

int cli_main(const struct cli_prog *prog, int argc, char **argv)
{
	struct cli_ctx ctx;
	void *args = NULL;
	int rc, code = 0;

	if (argc > 0 && invoked_as_completer(argv[0]))
		return cli_complete_main(prog, argc - 1, argv + 1, true);
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return cli_complete_main(prog, argc - 2, argv + 2, true);
	if (argc > 1 && strcmp(argv[1], "__completeNoDesc") == 0)
		return cli_complete_main(prog, argc - 2, argv + 2, false);

	rc = cli_parse(prog, argc, argv, &ctx, &args);
	setup_logging(&ctx);
	if (rc < 0 && err_code() == EXIT_USAGE && !err_remedy()[0])
		help_hint(&ctx);
	if (rc == 1) {
		if (ctx.g.help && ctx.defaulted && ctx.argc == 0)
			ctx.cmd = NULL;	/* "kubectl sopsenc -h": the overview */
		if (ctx.g.help)
			cli_print_help(stdout, &ctx);
		else
			run_version(&ctx, NULL);
		rc = 0;
	} else if (rc == 0) {
		rc = run(&ctx, args);
	}
	code = rc < 0 ? err_report() : rc;
	cli_release(&ctx, args);
	fflush(stdout);
	if (ferror(stdout)) {
		log_error("cannot write to standard output");
		return EXIT_WRITE;
	}
	return code;
}
