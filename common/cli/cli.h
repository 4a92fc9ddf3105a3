/*
 * cli.h - the command-line layer every plugin shares.
 *
 * A plugin describes itself once, as data: a struct cli_prog holding its
 * subcommands (struct cli_cmd), each with a declarative option table
 * (struct cli_opt).  From that one description this layer parses argv
 * (GNU-style long options, --flag=value and --flag value, bundled short
 * flags, -n ns, -nns, --), renders --help, answers shell completion
 * (__complete, the kubectl_complete-NAME helper and the completion scripts)
 * and writes the man pages.  Nothing about a flag is written twice.
 *
 * Parsed values land in the command's own argument struct, at the offset
 * given in the table (CLI_OFF), or in struct cli_global for the flags every
 * command shares.  Strings point into argv or into static defaults: the
 * layer allocates nothing the command must free.
 */
#ifndef COMMON_CLI_CLI_H
#define COMMON_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_type {
	CLI_BOOL,	/* --flag, --flag=true|false */
	CLI_STRING,	/* --flag VALUE (last one wins) */
	CLI_LIST,	/* --flag A --flag B,C -> "A,B,C" kept as one string */
	CLI_INT,	/* non-negative decimal */
	CLI_DURATION	/* 30s, 2m, 1h30m, 500ms; a bare number is seconds */
};

/* What the value of a flag (or a positional argument) completes to. */
enum cli_complete {
	CLI_COMP_NONE,		/* nothing sensible: no file fallback */
	CLI_COMP_FILE,		/* file names */
	CLI_COMP_YAML,		/* file names ending yaml, yml, json */
	CLI_COMP_DIR,		/* directories */
	CLI_COMP_CHOICES,	/* the option's choices */
	CLI_COMP_NAMESPACE,	/* live names, through the program's hook */
	CLI_COMP_CONTEXT,
	CLI_COMP_KUSTOMIZATION,
	CLI_COMP_SECRET,
	CLI_COMP_COMMAND	/* subcommand names */
};

enum {
	CLI_HIDDEN = 1 << 0,	/* parsed, but not shown in help or completion */
	CLI_REQUIRED = 1 << 1	/* the command refuses to run without it */
};

struct cli_opt {
	char shortname;			/* 0 when none */
	const char *name;		/* long name without dashes */
	enum cli_type type;
	const char *arg;		/* argument name in help: ID, PATH */
	const char *help;		/* one sentence */
	const char *def;		/* default, as the user would type it */
	const char *const *choices;	/* NULL-terminated allowed values */
	enum cli_complete complete;
	size_t off;			/* where the value goes (CLI_OFF) */
	unsigned flags;
};

#define CLI_OFF(type, member) offsetof(type, member)
#define CLI_OPT_END { 0, NULL, CLI_BOOL, NULL, NULL, NULL, NULL, \
		      CLI_COMP_NONE, 0, 0 }

/* Flags shared by every command; which ones a program takes is a mask. */
struct cli_global {
	const char *kubeconfig;
	const char *context;
	const char *namespace;
	long request_timeout_ms;	/* 0 = none given: caller's default */
	long verbosity;
	const char *output;		/* table, json, yaml; NULL = default */
	bool no_color;
	const char *azure_auth;
	bool help;
	bool version;
};

enum {
	CLI_G_CLUSTER = 1 << 0,	/* --kubeconfig --context -n */
	CLI_G_TIMEOUT = 1 << 1,	/* --request-timeout */
	CLI_G_AZURE = 1 << 2,	/* --azure-auth */
	CLI_G_COMMON = 1 << 3	/* -v, --no-color, -h, --version */
};

struct cli_prog;
struct cli_ctx;

struct cli_cmd {
	const char *name;		/* "patch"; NULL ends a command table */
	const char *summary;		/* one line, for the command list */
	const char *usage;		/* after "kubectl fluxwi patch " */
	const char *description;	/* paragraphs, plain text */
	const char *examples;		/* "# comment\ncommand\n..." */
	const struct cli_opt *opts;	/* may be NULL */
	size_t args_size;		/* sizeof the command's argument struct */
	const char *const *outputs;	/* allowed -o values; NULL: no -o */
	enum cli_complete positional;	/* what the operands complete to */
	/* Returns 0, a positive exit code (results already printed: 1 when
	 * a check failed), or -1 after err_set(). */
	int (*run)(struct cli_ctx *ctx, void *args);
	unsigned flags;			/* CLI_HIDDEN */
};

#define CLI_CMD_END { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, \
		      CLI_COMP_NONE, NULL, 0 }

/* Live names for completion: fills `out` with one name per line, no
 * descriptions, within the global flags' cluster.  Returns 0 or -1. */
typedef int (*cli_names_fn)(const struct cli_global *g,
			    enum cli_complete kind, FILE *out);

struct cli_prog {
	const char *name;		/* "fluxwi": binary is kubectl-fluxwi */
	const char *summary;
	const char *description;
	const char *examples;
	const struct cli_cmd *cmds;	/* the subcommand table */
	const char *default_cmd;	/* run when the first operand is no
					 * command name (NULL: none) */
	unsigned globals;		/* CLI_G_* mask */
	cli_names_fn names;		/* live completion; may be NULL */
};

/* What a running command receives. */
struct cli_ctx {
	const struct cli_prog *prog;
	const struct cli_cmd *cmd;
	struct cli_global g;
	int argc;			/* operands (flags removed) */
	char **argv;
	const char *display;		/* "kubectl fluxwi" or the argv[0] name */
	bool color;			/* colour on stdout */
	bool defaulted;			/* cmd is the default, not typed */
	char **owned;			/* strings the layer allocated */
	size_t nowned;
};

/*
 * The whole main() of a plugin: parses argv, handles --help, --version,
 * version, completion, __complete and __man, sets up logging and colour,
 * runs the command and reports its error.  Returns the exit code.
 */
int cli_main(const struct cli_prog *prog, int argc, char **argv);

/* Run function for subcommands whose issue has not landed yet. */
int cli_not_implemented(struct cli_ctx *ctx, void *args);

/* Parses a kubectl/Go duration ("1h2m3s", "500ms", "30" = seconds) into
 * milliseconds.  Returns 0, or -1 with err_set(EXIT_USAGE, ...). */
int cli_parse_duration(const char *text, long *ms);

/* Used by the tests and the completion code: parse without running.
 * Fills ctx and the command's argument struct (args, zeroed by the caller,
 * may be NULL when the command has none).  Returns 0, 1 when help or
 * version was asked (ctx->g says which), or -1 with the error set. */
int cli_parse(const struct cli_prog *prog, int argc, char **argv,
	      struct cli_ctx *ctx, void **args);

/* Frees what cli_parse() allocated (operand array, args, joined lists). */
void cli_release(struct cli_ctx *ctx, void *args);

/* Looks a command up by name in the program's table, then among the
 * built-in ones (version, completion, help, __complete, __man). */
const struct cli_cmd *cli_find_cmd(const struct cli_prog *prog,
				   const char *name);

/* The option tables of the global flags a program takes, for help,
 * completion and man pages.  Both tables end with CLI_OPT_END. */
const struct cli_opt *cli_global_opts(void);
bool cli_global_applies(const struct cli_prog *prog,
			const struct cli_cmd *cmd, const struct cli_opt *o);

/* Records a usage error (exit 2) with the hint "see 'kubectl fluxwi
 * patch --help' for usage"; returns -1. */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
