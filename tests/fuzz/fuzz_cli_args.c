/* fuzz_cli_args.c - the option parser and completion on arbitrary argv. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "util/err.h"

struct fargs {
	const char *s;
	const char *l;
	long n;
	long d;
	bool b;
	bool c;
};

#define A(m) CLI_OFF(struct fargs, m)

static const char *const ch[] = { "x", "y", NULL };

static const struct cli_opt opts[] = {
	{ 's', "str", CLI_STRING, "S", "s", "def", NULL, CLI_COMP_FILE, A(s), 0 },
	{ 'l', "list", CLI_LIST, "L", "l", NULL, NULL, CLI_COMP_NONE, A(l), 0 },
	{ 'n', "num", CLI_INT, "N", "n", NULL, NULL, CLI_COMP_NONE, A(n), 0 },
	{ 'd', "dur", CLI_DURATION, "D", "d", "1s", NULL, CLI_COMP_NONE, A(d), 0 },
	{ 'b', "bool", CLI_BOOL, NULL, "b", NULL, NULL, CLI_COMP_NONE, A(b), 0 },
	{ 'c', "choice", CLI_STRING, "C", "c", NULL, ch, CLI_COMP_CHOICES, A(s), 0 },
	CLI_OPT_END
};

static int noop(struct cli_ctx *c, void *a)
{
	(void)c;
	(void)a;
	return 0;
}

static const char *const outs[] = { "table", "json", NULL };

static const struct cli_cmd cmds[] = {
	{ "one", "One", "", "", NULL, opts, sizeof(struct fargs), outs,
	  CLI_COMP_YAML, noop, 0 },
	{ "two", "Two", "", "", NULL, NULL, 0, NULL, CLI_COMP_NONE, noop, 0 },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"fz", "fuzz", "", "", cmds, "one",
	CLI_G_CLUSTER | CLI_G_TIMEOUT | CLI_G_AZURE, NULL
};

/* Splits the input on NUL bytes into at most 16 words. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[18];
	struct cli_ctx ctx;
	void *args;
	int argc = 1;
	size_t i, start = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "kubectl-fz";
	for (i = 0; i <= size && argc < 17; i++)
		if (i == size || copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	cli_parse(&prog, argc, argv, &ctx, &args);
	cli_release(&ctx, args);
	err_clear();
	if (!freopen("/dev/null", "w", stdout))
		abort();
	cli_complete_main(&prog, argc - 1, argv + 1, true);
	free(copy);
	return 0;
}
