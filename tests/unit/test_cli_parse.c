/* test_cli_parse.c - the option parser, driven by a small test program. */
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
#include "util/err.h"

struct targs {
	const char *name;
	const char *list;
	long count;
	long wait_ms;
	bool all;
	bool recursive;
	bool in_place;
	const char *mode;
};

#define A(m) CLI_OFF(struct targs, m)

static const char *const modes[] = { "auto", "local", "remote", NULL };
static const char *const outs[] = { "table", "json", NULL };

static const struct cli_opt run_opts[] = {
	{ 0, "name", CLI_STRING, "NAME", "A name.", "dflt", NULL,
	  CLI_COMP_NONE, A(name), 0 },
	{ 0, "list", CLI_LIST, "X[,X]", "A list.", NULL, NULL, CLI_COMP_NONE,
	  A(list), 0 },
	{ 'c', "count", CLI_INT, "N", "A count.", NULL, NULL, CLI_COMP_NONE,
	  A(count), 0 },
	{ 0, "wait", CLI_DURATION, "D", "A wait.", "1m", NULL, CLI_COMP_NONE,
	  A(wait_ms), 0 },
	{ 'a', "all", CLI_BOOL, NULL, "All.", NULL, NULL, CLI_COMP_NONE,
	  A(all), 0 },
	{ 'r', "recursive", CLI_BOOL, NULL, "Recurse.", NULL, NULL,
	  CLI_COMP_NONE, A(recursive), 0 },
	{ 'i', "in-place", CLI_BOOL, NULL, "In place.", NULL, NULL,
	  CLI_COMP_NONE, A(in_place), 0 },
	{ 0, "mode", CLI_STRING, "MODE", "A mode.", "auto", modes,
	  CLI_COMP_CHOICES, A(mode), 0 },
	CLI_OPT_END
};

static const struct cli_opt req_opts[] = {
	{ 0, "name", CLI_STRING, "NAME", "A name.", NULL, NULL, CLI_COMP_NONE,
	  A(name), CLI_REQUIRED },
	CLI_OPT_END
};

static int noop(struct cli_ctx *ctx, void *args)
{
	(void)ctx;
	(void)args;
	return 0;
}

static const struct cli_cmd cmds[] = {
	{ "run", "Run it", "[flags] FILE...", "Runs it.", "# Run\nrun x",
	  run_opts, sizeof(struct targs), outs, CLI_COMP_FILE, noop, 0 },
	{ "need", "Needs a name", "--name NAME", "", NULL, req_opts,
	  sizeof(struct targs), NULL, CLI_COMP_NONE, noop, 0 },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"tst", "A test program", "", "", cmds, "run",
	CLI_G_CLUSTER | CLI_G_TIMEOUT, NULL
};

static struct cli_ctx ctx;
static void *args;

/* Parses a NULL-terminated word list (argv[0] is supplied). */
static int parse(const char *first, ...)
{
	static char *argv[32];
	int argc = 1;
	va_list ap;
	const char *w;

	argv[0] = "kubectl-tst";
	va_start(ap, first);
	for (w = first; w && argc < 31; w = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)w;
	va_end(ap);
	argv[argc] = NULL;
	err_clear();
	return cli_parse(&prog, argc, argv, &ctx, &args);
}

static struct targs *T(void)
{
	return args;
}

static int teardown(void **state)
{
	(void)state;
	cli_release(&ctx, args);
	args = NULL;
	return 0;
}

static void long_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--name=x", "--count", "3", "f1", NULL), 0);
	assert_string_equal(T()->name, "x");
	assert_int_equal(T()->count, 3);
	assert_int_equal(ctx.argc, 1);
	assert_string_equal(ctx.argv[0], "f1");
	assert_string_equal(ctx.cmd->name, "run");
	assert_false(ctx.defaulted);
}

static void defaults_apply(void **state)
{
	(void)state;
	assert_int_equal(parse("run", NULL), 0);
	assert_string_equal(T()->name, "dflt");
	assert_int_equal(T()->wait_ms, 60000);
	assert_string_equal(T()->mode, "auto");
}

static void short_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "-n", "ns1", NULL), 0);
	assert_string_equal(ctx.g.namespace, "ns1");
	teardown(NULL);
	assert_int_equal(parse("run", "-nns2", NULL), 0);
	assert_string_equal(ctx.g.namespace, "ns2");
	teardown(NULL);
	assert_int_equal(parse("run", "-n=ns3", "-c7", NULL), 0);
	assert_string_equal(ctx.g.namespace, "ns3");
	assert_int_equal(T()->count, 7);
}

static void bundled_shorts(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "-ri", "-ac", "4", NULL), 0);
	assert_true(T()->recursive);
	assert_true(T()->in_place);
	assert_true(T()->all);
	assert_int_equal(T()->count, 4);
}

static void bool_values(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--all=true", "--recursive=false", NULL), 0);
	assert_true(T()->all);
	assert_false(T()->recursive);
	teardown(NULL);
	assert_int_equal(parse("run", "--all=maybe", NULL), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_non_null(strstr(err_msg(), "--all"));
}

static void double_dash(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "a", "--", "-r", "--name=z", NULL), 0);
	assert_false(T()->recursive);
	assert_string_equal(T()->name, "dflt");
	assert_int_equal(ctx.argc, 3);
	assert_string_equal(ctx.argv[1], "-r");
	assert_string_equal(ctx.argv[2], "--name=z");
}

static void dash_is_operand(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "-", NULL), 0);
	assert_int_equal(ctx.argc, 1);
	assert_string_equal(ctx.argv[0], "-");
}

static void unknown_flag(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--bogus", NULL), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_string_equal(err_msg(), "unknown flag: --bogus");
	teardown(NULL);
	assert_int_equal(parse("run", "-z", NULL), -1);
	assert_non_null(strstr(err_msg(), "'z'"));
}

static void missing_value(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--name", NULL), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_string_equal(err_msg(), "flag needs an argument: --name");
	teardown(NULL);
	assert_int_equal(parse("run", "-c", NULL), -1);
	assert_non_null(strstr(err_msg(), "needs an argument"));
}

static void choices_checked(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--mode", "local", NULL), 0);
	assert_string_equal(T()->mode, "local");
	teardown(NULL);
	assert_int_equal(parse("run", "--mode", "far", NULL), -1);
	assert_non_null(strstr(err_remedy(), "auto, local, remote"));
}

static void output_checked(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "-o", "json", NULL), 0);
	assert_string_equal(ctx.g.output, "json");
	teardown(NULL);
	assert_int_equal(parse("run", "-o", "yaml", NULL), -1);
	assert_non_null(strstr(err_msg(), "yaml"));
	teardown(NULL);
	/* "need" has no -o at all */
	assert_int_equal(parse("need", "--name", "x", "-o", "json", NULL), -1);
	assert_non_null(strstr(err_msg(), "-o"));
}

static void lists_join(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--list", "a", "--list=b,c", NULL), 0);
	assert_string_equal(T()->list, "a,b,c");
}

static void durations(void **state)
{
	long ms;

	(void)state;
	assert_int_equal(cli_parse_duration("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(cli_parse_duration("1h30m", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(cli_parse_duration("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(cli_parse_duration("45", &ms), 0);
	assert_int_equal(ms, 45000);
	assert_int_equal(cli_parse_duration("1.5m", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(cli_parse_duration("", &ms), -1);
	assert_int_equal(cli_parse_duration("10x", &ms), -1);
	assert_int_equal(cli_parse_duration("s", &ms), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_int_equal(parse("run", "--request-timeout", "2m", NULL), 0);
	assert_int_equal(ctx.g.request_timeout_ms, 120000);
	teardown(NULL);
	assert_int_equal(parse("run", "--wait", "soon", NULL), -1);
	assert_non_null(strstr(err_msg(), "--wait"));
}

static void global_flags_before_command(void **state)
{
	(void)state;
	assert_int_equal(parse("-n", "x", "--kubeconfig", "k", "need", "--name",
			       "y", NULL), 0);
	assert_string_equal(ctx.cmd->name, "need");
	assert_string_equal(ctx.g.namespace, "x");
	assert_string_equal(ctx.g.kubeconfig, "k");
	assert_string_equal(T()->name, "y");
	assert_int_equal(ctx.argc, 0);
}

static void default_command(void **state)
{
	(void)state;
	assert_int_equal(parse("file.yaml", "-r", NULL), 0);
	assert_string_equal(ctx.cmd->name, "run");
	assert_true(ctx.defaulted);
	assert_int_equal(ctx.argc, 1);
	assert_string_equal(ctx.argv[0], "file.yaml");
}

static void verbosity_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "-v", "6", NULL), 0);
	assert_int_equal(ctx.g.verbosity, 6);
	teardown(NULL);
	assert_int_equal(parse("run", "--v=8", NULL), 0);
	assert_int_equal(ctx.g.verbosity, 8);
	teardown(NULL);
	assert_int_equal(parse("run", "-v2", NULL), 0);
	assert_int_equal(ctx.g.verbosity, 2);
}

static void required_flag(void **state)
{
	(void)state;
	assert_int_equal(parse("need", NULL), -1);
	assert_non_null(strstr(err_msg(), "--name"));
}

static void help_and_version(void **state)
{
	(void)state;
	assert_int_equal(parse("need", "--help", NULL), 1);
	assert_true(ctx.g.help);
	teardown(NULL);
	assert_int_equal(parse("run", "x", "-h", NULL), 1);
	teardown(NULL);
	assert_int_equal(parse("--version", NULL), 1);
	assert_true(ctx.g.version);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(long_forms, teardown),
		cmocka_unit_test_teardown(defaults_apply, teardown),
		cmocka_unit_test_teardown(short_forms, teardown),
		cmocka_unit_test_teardown(bundled_shorts, teardown),
		cmocka_unit_test_teardown(bool_values, teardown),
		cmocka_unit_test_teardown(double_dash, teardown),
		cmocka_unit_test_teardown(dash_is_operand, teardown),
		cmocka_unit_test_teardown(unknown_flag, teardown),
		cmocka_unit_test_teardown(missing_value, teardown),
		cmocka_unit_test_teardown(choices_checked, teardown),
		cmocka_unit_test_teardown(output_checked, teardown),
		cmocka_unit_test_teardown(lists_join, teardown),
		cmocka_unit_test_teardown(durations, teardown),
		cmocka_unit_test_teardown(global_flags_before_command, teardown),
		cmocka_unit_test_teardown(default_command, teardown),
		cmocka_unit_test_teardown(verbosity_forms, teardown),
		cmocka_unit_test_teardown(required_flag, teardown),
		cmocka_unit_test_teardown(help_and_version, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
