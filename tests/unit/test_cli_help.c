/* test_cli_help.c - --help text rendered from the tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/internal.h"

struct hargs {
	const char *id;
	bool dry;
	long timeout;
	const char *mode;
};

#define A(m) CLI_OFF(struct hargs, m)

static const char *const modes[] = { "auto", "local", NULL };
static const char *const outs[] = { "table", "json", NULL };

static const struct cli_opt opts[] = {
	{ 0, "client-id", CLI_STRING, "ID", "Client ID of the identity.", NULL,
	  NULL, CLI_COMP_NONE, A(id), 0 },
	{ 0, "dry-run", CLI_BOOL, NULL, "Write nothing.", NULL, NULL,
	  CLI_COMP_NONE, A(dry), 0 },
	{ 0, "timeout", CLI_DURATION, "DURATION", "How long.", "5m", NULL,
	  CLI_COMP_NONE, A(timeout), 0 },
	{ 0, "mode", CLI_STRING, "MODE", "The mode.", "auto", modes,
	  CLI_COMP_CHOICES, A(mode), 0 },
	{ 0, "secret-knob", CLI_BOOL, NULL, "Hidden.", NULL, NULL,
	  CLI_COMP_NONE, A(dry), CLI_HIDDEN },
	CLI_OPT_END
};

static int noop(struct cli_ctx *c, void *a)
{
	(void)c;
	(void)a;
	return 0;
}

static const struct cli_cmd cmds[] = {
	{ "patch", "Patch it", "--client-id ID [--dry-run]",
	  "Patches the thing.\nSecond line.",
	  "# Patch with an id\nkubectl @P@ patch --client-id 1", opts,
	  sizeof(struct hargs), outs, CLI_COMP_NONE, noop, 0 },
	{ "hidden", "Hidden command", "", "", NULL, NULL, 0, NULL,
	  CLI_COMP_NONE, noop, CLI_HIDDEN },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"demo", "A demo plugin", "Demo does things.", "# Top\nkubectl demo patch",
	cmds, NULL, CLI_G_CLUSTER, NULL
};

/* Renders the help of `words` (argv[0] first) into a string. */
static char *help_of(char **words, int n)
{
	struct cli_ctx ctx;
	void *args;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(cli_parse(&prog, n, words, &ctx, &args), 1);
	cli_print_help(f, &ctx);
	fclose(f);
	cli_release(&ctx, args);
	return text;
}

static void command_help(void **state)
{
	char *w[] = { "/usr/bin/kubectl-demo", "patch", "--help", NULL };
	char *h = help_of(w, 3);

	(void)state;
	assert_true(strncmp(h, "Patches the thing.\nSecond line.\n", 32) == 0);
	assert_non_null(strstr(h, "Usage:\n  kubectl demo patch --client-id ID "
				  "[--dry-run]\n"));
	assert_non_null(strstr(h, "Examples:\n  # Patch with an id\n"
				  "  kubectl demo patch --client-id 1\n"));
	assert_non_null(strstr(h, "      --client-id ID"));
	assert_non_null(strstr(h, "How long. (default 5m)"));
	assert_non_null(strstr(h, "The mode. One of: auto, local. (default auto)"));
	assert_non_null(strstr(h, "  -o, --output FORMAT"));
	assert_non_null(strstr(h, "One of: table, json."));
	assert_non_null(strstr(h, "  -h, --help"));
	assert_non_null(strstr(h, "Global Flags:\n"));
	assert_non_null(strstr(h, "  -n, --namespace NS"));
	assert_null(strstr(h, "secret-knob"));
	assert_null(strstr(h, "--version"));
	assert_null(strstr(h, "--request-timeout")); /* not in the mask */
	free(h);
}

static void root_help(void **state)
{
	char *w[] = { "kubectl-demo", "-h", NULL };
	char *h = help_of(w, 2);

	(void)state;
	assert_true(strncmp(h, "Demo does things.\n", 18) == 0);
	assert_non_null(strstr(h, "Usage:\n  kubectl demo [command] [flags]\n"));
	assert_non_null(strstr(h, "Available Commands:\n  patch       Patch it\n"));
	assert_non_null(strstr(h, "  version     "));
	assert_non_null(strstr(h, "  completion  "));
	assert_null(strstr(h, "hidden"));
	assert_null(strstr(h, "__man"));
	assert_non_null(strstr(h, "      --version"));
	assert_non_null(strstr(h, "Use \"kubectl demo [command] --help\""));
	free(h);
}

static void direct_name(void **state)
{
	char *w[] = { "./my-demo", "patch", "-h", NULL };
	char *h = help_of(w, 3);

	(void)state;
	assert_non_null(strstr(h, "  my-demo patch --client-id"));
	free(h);
}

static void flag_column(void **state)
{
	char left[128];

	(void)state;
	cli_flag_left(&opts[0], left, sizeof(left));
	assert_string_equal(left, "      --client-id ID");
	cli_flag_left(&opts[1], left, sizeof(left));
	assert_string_equal(left, "      --dry-run");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(command_help),
		cmocka_unit_test(root_help),
		cmocka_unit_test(direct_name),
		cmocka_unit_test(flag_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
