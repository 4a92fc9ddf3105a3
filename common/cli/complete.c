/*
 * complete.c - shell completion from the option tables.
 *
 * Answers Cobra's __complete protocol, which kubectl (1.26 and later) uses
 * for plugins through the kubectl_complete-NAME helper: candidates one per
 * line ("value<TAB>description"), then ":DIRECTIVE".  The same answers
 * drive the bash, zsh and fish scripts printed by "completion SHELL".
 * Cluster errors never break completion: no candidates and ":4".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "util/err.h"

enum directive {
	DIR_DEFAULT = 0,
	DIR_NOSPACE = 2,
	DIR_NOFILE = 4,
	DIR_FILEEXT = 8,
	DIR_DIRS = 16
};

struct answer {
	bool desc;		/* print descriptions */
	const char *prefix;	/* what the user typed of the word */
	const char *lead;	/* put before every value: "--output=" */
};

static void candidate(const struct answer *a, const char *value,
		      const char *desc)
{
	size_t lead = strlen(a->lead);

	if (strncmp(a->prefix, a->lead, lead) != 0 ||
	    strncmp(value, a->prefix + lead, strlen(a->prefix + lead)) != 0)
		return;
	if (a->desc && desc && *desc)
		printf("%s%s\t%s\n", a->lead, value, desc);
	else
		printf("%s%s\n", a->lead, value);
}

static int finish(int directive)
{
	printf(":%d\n", directive);
	fflush(stdout);
	return 0;
}

static int live_names(const struct cli_prog *prog,
		      const struct cli_global *typed, enum cli_complete kind,
		      const struct answer *a)
{
	struct cli_global copy = *typed, *g = &copy;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mem;
	int rc = -1;

	if (!prog->names)
		return finish(DIR_NOFILE);
	if (g->request_timeout_ms == 0)
		g->request_timeout_ms = 5000;
	mem = open_memstream(&text, &len);
	if (!mem)
		return finish(DIR_NOFILE);
	rc = prog->names(g, kind, mem);
	fclose(mem);
	if (rc == 0 && text)
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			candidate(a, line, NULL);
	free(text);
	err_clear();
	return finish(DIR_NOFILE);
}

static int complete_commands(const struct cli_prog *prog,
			     const struct answer *a, bool files_too)
{
	static const char *const extra[] = { "completion", "help", "version",
					     NULL };
	const struct cli_cmd *c;
	size_t i;

	for (c = prog->cmds; c && c->name; c++)
		if (!(c->flags & CLI_HIDDEN))
			candidate(a, c->name, c->summary);
	for (i = 0; extra[i]; i++)
		candidate(a, extra[i], cli_find_cmd(prog, extra[i])->summary);
	return finish(files_too ? DIR_DEFAULT : DIR_NOFILE);
}

static int complete_kind(const struct cli_ctx *ctx, enum cli_complete kind,
			 const char *const *choices, const struct answer *a)
{
	const char *const *c;

	switch (kind) {
	case CLI_COMP_NONE:
		return finish(DIR_NOFILE);
	case CLI_COMP_FILE:
		return finish(DIR_DEFAULT);
	case CLI_COMP_YAML:
		printf("yaml\nyml\njson\n");
		return finish(DIR_FILEEXT);
	case CLI_COMP_DIR:
		return finish(DIR_DIRS);
	case CLI_COMP_CHOICES:
		for (c = choices; c && *c; c++)
			candidate(a, *c, NULL);
		return finish(DIR_NOFILE);
	case CLI_COMP_COMMAND:
		return complete_commands(ctx->prog, a, false);
	default:
		return live_names(ctx->prog, &ctx->g, kind, a);
	}
}

static const struct cli_opt *find_flag(const struct cli_ctx *ctx,
				       const char *word, size_t len)
{
	const struct cli_opt *o;
	bool is_long = word[1] == '-';
	const char *name = word + (is_long ? 2 : 1);

	if (!is_long)
		len = 1;
	for (o = ctx->cmd ? ctx->cmd->opts : NULL; o && o->name; o++)
		if (is_long ? strlen(o->name) == len &&
			      strncmp(o->name, name, len) == 0
			    : o->shortname == *name)
			return o;
	for (o = cli_global_opts(); o->name; o++)
		if (cli_global_applies(ctx->prog, ctx->cmd, o) &&
		    (is_long ? strlen(o->name) == len &&
			       strncmp(o->name, name, len) == 0
			     : o->shortname == *name))
			return o;
	return NULL;
}

static int complete_value(const struct cli_ctx *ctx, const struct cli_opt *o,
			  const struct answer *a)
{
	const char *const *choices = o->choices;

	if (strcmp(o->name, "output") == 0 && ctx->cmd)
		choices = ctx->cmd->outputs;
	return complete_kind(ctx, o->complete, choices, a);
}

static int complete_flags(const struct cli_ctx *ctx, const struct answer *a)
{
	const struct cli_opt *o;
	char name[128];

	for (o = ctx->cmd ? ctx->cmd->opts : NULL; o && o->name; o++) {
		if (o->flags & CLI_HIDDEN)
			continue;
		snprintf(name, sizeof(name), "--%s", o->name);
		candidate(a, name, o->help);
	}
	for (o = cli_global_opts(); o->name; o++) {
		if (!cli_global_applies(ctx->prog, ctx->cmd, o) ||
		    (ctx->cmd && strcmp(o->name, "version") == 0))
			continue;
		snprintf(name, sizeof(name), "--%s", o->name);
		candidate(a, name, o->help);
	}
	return finish(DIR_NOFILE);
}

/* True when argv (the typed words) names no subcommand yet. */
static bool no_command_word(const struct cli_ctx *ctx, int argc, char **argv)
{
	int i;

	if (!ctx->cmd)
		return true;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], ctx->cmd->name) == 0)
			return false;
	return true;
}

int cli_complete_main(const struct cli_prog *prog, int argc, char **argv,
		      bool descriptions)
{
	const char *cur = argc > 0 ? argv[argc - 1] : "";
	const char *prev = argc > 1 ? argv[argc - 2] : NULL;
	struct answer a = { descriptions, cur, "" };
	char **words = calloc((size_t)argc + 2, sizeof(char *));
	struct cli_ctx ctx;
	void *args = NULL;
	const struct cli_opt *o;
	int i, rc;

	if (!words)
		return finish(1);
	words[0] = "kubectl-complete";
	for (i = 0; i + 1 < argc; i++)
		words[i + 1] = argv[i];
	/* Parse errors are expected while typing: the flags up to the bad
	 * word are kept and completion goes on. */
	cli_parse(prog, argc > 0 ? argc : 1, words, &ctx, &args);
	err_clear();
	if (prev && prev[0] == '-' && !strchr(prev, '=') &&
	    strcmp(prev, "--") != 0 &&
	    (o = find_flag(&ctx, prev, strlen(prev) - 2)) &&
	    o->type != CLI_BOOL && (prev[1] == '-' || !prev[2]))
		rc = complete_value(&ctx, o, &a);
	else if (cur[0] == '-' && cur[1] == '-' && strchr(cur, '=') &&
		 (o = find_flag(&ctx, cur, (size_t)(strchr(cur, '=') - cur - 2)))) {
		char lead[128];

		snprintf(lead, sizeof(lead), "--%s=", o->name);
		a.lead = lead;
		rc = complete_value(&ctx, o, &a);
	} else if (cur[0] == '-')
		rc = complete_flags(&ctx, &a);
	else if (no_command_word(&ctx, argc - 1, argv) && ctx.argc == 0)
		rc = complete_commands(prog, &a, prog->default_cmd != NULL);
	else if (ctx.cmd)
		rc = complete_kind(&ctx, ctx.cmd->positional, NULL, &a);
	else
		rc = finish(DIR_NOFILE);
	cli_release(&ctx, args);
	free(words);
	return rc;
}

/* ---- completion scripts ---------------------------------------------- */

static void print_script(const char *tmpl, const char *name)
{
	const char *p;

	/* @N@ is kubectl-NAME, @F@ a shell-safe function name part. */
	for (p = tmpl; *p; p++) {
		if (strncmp(p, "@N@", 3) == 0) {
			printf("kubectl-%s", name);
			p += 2;
		} else if (strncmp(p, "@F@", 3) == 0) {
			for (const char *q = name; *q; q++)
				putchar(*q == '-' ? '_' : *q);
			p += 2;
		} else {
			putchar(*p);
		}
	}
}

static const char bash_script[] =
"# bash completion for @N@ (generated by '@N@ completion bash')\n"
"__@F@_complete() {\n"
"    local cur prev words cword\n"
"    if declare -F _init_completion >/dev/null 2>&1; then\n"
"        _init_completion -n =: || return\n"
"    else\n"
"        words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD\n"
"        cur=${COMP_WORDS[COMP_CWORD]}\n"
"    fi\n"
"    local out IFS=$'\\n'\n"
"    out=$(\"${words[0]}\" __complete \"${words[@]:1:cword-1}\" \"$cur\" 2>/dev/null) || return\n"
"    local -a lines=($out) cands=()\n"
"    local directive=0 n=${#lines[@]} line\n"
"    if (( n > 0 )) && [[ ${lines[n-1]} == :* ]]; then\n"
"        directive=${lines[n-1]#:}; unset 'lines[n-1]'\n"
"    fi\n"
"    (( directive & 1 )) && return\n"
"    for line in \"${lines[@]}\"; do\n"
"        [[ $line == _activeHelp_* ]] && continue\n"
"        cands+=(\"${line%%$'\\t'*}\")\n"
"    done\n"
"    if (( directive & 8 )); then\n"
"        local pat; pat=$(IFS='|'; echo \"${cands[*]}\")\n"
"        if declare -F _filedir >/dev/null; then _filedir \"@($pat)\"; else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
"        return\n"
"    fi\n"
"    if (( directive & 16 )); then\n"
"        if declare -F _filedir >/dev/null; then _filedir -d; else COMPREPLY=($(compgen -d -- \"$cur\")); fi\n"
"        return\n"
"    fi\n"
"    COMPREPLY=($(compgen -W \"${cands[*]}\" -- \"$cur\"))\n"
"    (( directive & 2 )) && compopt -o nospace 2>/dev/null\n"
"    (( directive & 4 )) && compopt +o default 2>/dev/null\n"
"    (( directive & 32 )) && compopt -o nosort 2>/dev/null\n"
"    return 0\n"
"}\n"
"complete -o default -F __@F@_complete @N@\n";

static const char zsh_script[] =
"#compdef @N@\n"
"# zsh completion for @N@ (generated by '@N@ completion zsh')\n"
"__@F@_complete() {\n"
"    local out line v d directive=0\n"
"    local -a lines cands\n"
"    out=$(\"${words[1]}\" __complete \"${(@)words[2,CURRENT-1]}\" \"${words[CURRENT]}\" 2>/dev/null) || return 1\n"
"    lines=(\"${(@f)out}\")\n"
"    if [[ ${lines[-1]} == :* ]]; then directive=${lines[-1]#:}; lines[-1]=(); fi\n"
"    (( directive & 1 )) && return 1\n"
"    for line in $lines; do\n"
"        [[ $line == _activeHelp_* ]] && continue\n"
"        v=${line%%$'\\t'*}; d=''\n"
"        [[ $line == *$'\\t'* ]] && d=${line#*$'\\t'}\n"
"        cands+=(\"${v//:/\\\\:}${d:+:$d}\")\n"
"    done\n"
"    if (( directive & 8 )); then\n"
"        local -a exts; exts=(${cands%%:*}); _files -g \"*.(${(j:|:)exts})\"; return\n"
"    fi\n"
"    if (( directive & 16 )); then _files -/; return; fi\n"
"    local -a opts; (( directive & 2 )) && opts+=(-S '')\n"
"    if (( ${#cands} )); then\n"
"        _describe -t values 'values' cands $opts && return 0\n"
"    fi\n"
"    (( directive & 4 )) || _files\n"
"}\n"
"if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
"    __@F@_complete \"$@\"\n"
"else\n"
"    compdef __@F@_complete @N@\n"
"fi\n";

static const char fish_script[] =
"# fish completion for @N@ (generated by '@N@ completion fish')\n"
"function __@F@_complete\n"
"    set -l words (commandline -opc)\n"
"    set -l cur (commandline -ct)\n"
"    set -l out ($words[1] __complete $words[2..-1] \"$cur\" 2>/dev/null)\n"
"    or return\n"
"    set -l directive 0\n"
"    if string match -qr '^:[0-9]+$' -- $out[-1]\n"
"        set directive (string sub -s 2 -- $out[-1])\n"
"        set -e out[-1]\n"
"    end\n"
"    if test (math \"bitand($directive, 1)\") -ne 0; return; end\n"
"    if test (math \"bitand($directive, 16)\") -ne 0\n"
"        __fish_complete_directories \"$cur\"; return\n"
"    end\n"
"    if test (math \"bitand($directive, 8)\") -ne 0\n"
"        for f in (__fish_complete_path \"$cur\")\n"
"            for e in $out\n"
"                string match -q -- \"*.$e\" $f; and echo $f\n"
"            end\n"
"            string match -q -- '*/' $f; and echo $f\n"
"        end\n"
"        return\n"
"    end\n"
"    for line in $out\n"
"        string match -q -- '_activeHelp_*' $line; or echo $line\n"
"    end\n"
"    if test (count $out) -eq 0; and test (math \"bitand($directive, 4)\") -eq 0\n"
"        __fish_complete_path \"$cur\"\n"
"    end\n"
"end\n"
"complete -c @N@ -f -a '(__@F@_complete)'\n";

/* "completion kubectl [DIR]": the kubectl_complete-NAME link, beside the
 * plugin found on PATH (krew's bin directory) or in DIR. */
static int find_self_dir(const char *name, char *dir, size_t size)
{
	const char *path = getenv("PATH");
	char candidate_path[PATH_MAX];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(candidate_path, sizeof(candidate_path),
			 "%.*s/kubectl-%s", (int)n, path, name);
		if (n && access(candidate_path, X_OK) == 0) {
			snprintf(dir, size, "%.*s", (int)n, path);
			return 0;
		}
		path += n + (path[n] == ':');
	}
	err_set(EXIT_FAILED, "kubectl-%s is not on PATH", name);
	return err_hint("pass the directory: kubectl %s completion kubectl DIR",
			name);
}

static int link_completer(const struct cli_ctx *ctx)
{
	const char *name = ctx->prog->name;
	char dir[PATH_MAX], link[PATH_MAX + 64], target[128];

	if (ctx->argc > 1)
		snprintf(dir, sizeof(dir), "%s", ctx->argv[1]);
	else if (find_self_dir(name, dir, sizeof(dir)) < 0)
		return -1;
	snprintf(link, sizeof(link), "%s/kubectl_complete-%s", dir, name);
	snprintf(target, sizeof(target), "kubectl-%s", name);
	if (unlink(link) < 0 && errno != ENOENT)
		return err_set(EXIT_WRITE, "cannot replace %s: %s", link,
			       strerror(errno));
	if (symlink(target, link) < 0)
		return err_set(EXIT_WRITE, "cannot create %s: %s", link,
			       strerror(errno));
	printf("created %s -> %s\n", link, target);
	return 0;
}

static int run_completion(struct cli_ctx *ctx, void *args)
{
	const char *shell = ctx->argc > 0 ? ctx->argv[0] : NULL;

	(void)args;
	if (!shell)
		return cli_usage_error(ctx, "which shell? bash, zsh, fish or "
				       "kubectl");
	if (strcmp(shell, "bash") == 0)
		print_script(bash_script, ctx->prog->name);
	else if (strcmp(shell, "zsh") == 0)
		print_script(zsh_script, ctx->prog->name);
	else if (strcmp(shell, "fish") == 0)
		print_script(fish_script, ctx->prog->name);
	else if (strcmp(shell, "kubectl") == 0)
		return link_completer(ctx);
	else
		return cli_usage_error(ctx, "unsupported shell \"%s\": use "
				       "bash, zsh, fish or kubectl", shell);
	return 0;
}

const struct cli_cmd cli_completion_cmd = {
	"completion",
	"Print a shell completion script, or link the kubectl helper",
	"bash|zsh|fish|kubectl [DIR]",
	"Prints a completion script for the direct invocation of the plugin "
	"(kubectl-@P@ ...),\nor, with \"kubectl\", creates the "
	"kubectl_complete-@P@ link that kubectl 1.26 and later\nruns to "
	"complete \"kubectl @P@ ...\" (beside the plugin on PATH, or in DIR).",
	"# Load bash completion now\n"
	"source <(kubectl-@P@ completion bash)\n"
	"# Let kubectl complete the plugin's arguments (krew installs)\n"
	"kubectl @P@ completion kubectl",
	NULL, 0, NULL, CLI_COMP_NONE, run_completion, 0
};
