/* test_cli_output.c - tables, JSON, YAML, colour and progress helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pty.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/output.h"
#include "cli/term.h"

static char *capture_table(bool color)
{
	static const char *const headers[] = { "LINK", "STATUS", "REMEDY",
					       NULL };
	static const char *const r1[] = { "api", "PASS", "", NULL };
	static const char *const r2[] = { "service account", "FAIL",
					  "run patch", NULL };
	struct table *t = table_new(headers);
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(t);
	assert_int_equal(table_add(t, r1), 0);
	assert_int_equal(table_add(t, r2), 0);
	table_color_word(t, "PASS", TERM_GREEN);
	table_print(t, f, color);
	fclose(f);
	table_free(t);
	return text;
}

static void table_aligned(void **state)
{
	char *text = capture_table(false);

	(void)state;
	assert_string_equal(text,
		"LINK              STATUS   REMEDY\n"
		"api               PASS     \n"
		"service account   FAIL     run patch\n");
	free(text);
}

static void table_colored(void **state)
{
	char *text = capture_table(true);

	(void)state;
	assert_non_null(strstr(text, TERM_GREEN "PASS" TERM_RESET "     "));
	assert_null(strstr(text, TERM_GREEN "FAIL"));
	free(text);
}

static char *capture_yaml(const char *json)
{
	cJSON *doc = cJSON_Parse(json);
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(doc);
	assert_int_equal(output_yaml(f, doc), 0);
	fclose(f);
	cJSON_Delete(doc);
	return text;
}

static void yaml_types(void **state)
{
	char *y = capture_yaml("{\"metadata\":{\"labels\":{\"azure.workload."
			       "identity/use\":\"true\"}},\"n\":3,\"f\":1.5,"
			       "\"b\":false,\"z\":null,\"s\":\"plain text\","
			       "\"num\":\"42\",\"e\":\"\",\"l\":[\"a\",1]}");

	(void)state;
	assert_non_null(strstr(y, "azure.workload.identity/use: \"true\"\n"));
	assert_non_null(strstr(y, "\nn: 3\n"));
	assert_non_null(strstr(y, "\nf: 1.5\n"));
	assert_non_null(strstr(y, "\nb: false\n"));
	assert_non_null(strstr(y, "\nz: null\n"));
	assert_non_null(strstr(y, "\ns: plain text\n"));
	assert_non_null(strstr(y, "\nnum: \"42\"\n"));
	assert_non_null(strstr(y, "\ne: \"\"\n"));
	assert_non_null(strstr(y, "\nl:\n- a\n- 1\n"));
	free(y);
}

static void json_pretty(void **state)
{
	cJSON *doc = cJSON_Parse("{\"a\":[1,2],\"b\":{\"c\":\"t\\tx\"}}");
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(output_json(f, doc), 0);
	fclose(f);
	assert_string_equal(text, "{\n    \"a\": [1, 2],\n    \"b\": {\n"
				  "        \"c\": \"t\\tx\"\n    }\n}\n");
	cJSON_Delete(doc);
	free(text);
}

static void color_rules(void **state)
{
	int master, slave;
	FILE *tty, *file = tmpfile();

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	tty = fdopen(slave, "w");
	unsetenv("NO_COLOR");
	assert_true(term_want_color(tty, false));
	assert_false(term_want_color(tty, true));	/* --no-color */
	assert_false(term_want_color(file, false));	/* not a terminal */
	setenv("NO_COLOR", "1", 1);
	assert_false(term_want_color(tty, false));
	setenv("NO_COLOR", "", 1);			/* empty: ignored */
	assert_true(term_want_color(tty, false));
	fclose(tty);
	fclose(file);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_aligned),
		cmocka_unit_test(table_colored),
		cmocka_unit_test(yaml_types),
		cmocka_unit_test(json_pretty),
		cmocka_unit_test(color_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
