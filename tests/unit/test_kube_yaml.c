/* test_kube_yaml.c - util/yamljson: YAML as Kubernetes reads it (go-yaml
 * v2 scalar rules), and cJSON written back as YAML that reads the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/yamljson.h"

static cJSON *parse(const char *s)
{
	return yaml_parse(s, strlen(s), "test");
}

static char *compact(const char *yaml)
{
	cJSON *v = parse(yaml);
	char *s;

	assert_non_null(v);
	s = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return s;
}

#define EXPECT_JSON(yaml, json) do {			\
		char *got_ = compact(yaml);		\
		assert_string_equal(got_, json);	\
		free(got_);				\
	} while (0)

static void scalars(void **state)
{
	(void)state;
	EXPECT_JSON("a: 1\nb: -2\nc: 0x1F\nd: 010\ne: 0b101\nf: 1_000\n",
		    "{\"a\":1,\"b\":-2,\"c\":31,\"d\":8,\"e\":5,\"f\":1000}");
	EXPECT_JSON("a: 1.5\nb: 1e3\nc: .5\nd: 1.\n",
		    "{\"a\":1.5,\"b\":1000,\"c\":0.5,\"d\":1}");
	EXPECT_JSON("[true, True, yes, on, Y, false, NO, off, n]",
		    "[true,true,true,true,true,false,false,false,false]");
	EXPECT_JSON("[~, null, Null, \"\"]", "[null,null,null,\"\"]");
	EXPECT_JSON("a:\nb: x\n", "{\"a\":null,\"b\":\"x\"}");
	EXPECT_JSON("[\"1\", '2', !!str 3, !!str true, 1.2.3, 08, 0x, v1]",
		    "[\"1\",\"2\",\"3\",\"true\",\"1.2.3\",8,\"0x\","
		    "\"v1\"]");
	EXPECT_JSON("a: .inf\nb: 2026-11-29\nc: 30s\n",
		    "{\"a\":\".inf\",\"b\":\"2026-11-29\",\"c\":\"30s\"}");
	EXPECT_JSON("k: !!int \"42\"\n", "{\"k\":42}");
}

static void structure(void **state)
{
	(void)state;
	EXPECT_JSON("", "null");
	EXPECT_JSON("# only a comment\n", "null");
	EXPECT_JSON("{\"json\": [1, {\"x\": null}]}",
		    "{\"json\":[1,{\"x\":null}]}");
	EXPECT_JSON("l:\n- a\n- b: c\n  d: [e]\n",
		    "{\"l\":[\"a\",{\"b\":\"c\",\"d\":[\"e\"]}]}");
	EXPECT_JSON("s: |\n  line1\n  line2\nf: >\n  folded\n  text\n",
		    "{\"s\":\"line1\\nline2\\n\",\"f\":\"folded text\\n\"}");
	EXPECT_JSON("1: one\ntrue: t\n", "{\"1\":\"one\",\"true\":\"t\"}");
}

static void anchors_and_merge(void **state)
{
	(void)state;
	EXPECT_JSON("base: &b {x: 1, z: 2}\nuse: *b\n",
		    "{\"base\":{\"x\":1,\"z\":2},\"use\":{\"x\":1,\"z\":2}}");
	EXPECT_JSON("a: &a {x: 1, z: 2}\nb:\n  <<: *a\n  z: 3\n",
		    "{\"a\":{\"x\":1,\"z\":2},\"b\":{\"z\":3,\"x\":1}}");
	/* go-yaml v2 reads the key y as the boolean true, as kubectl does */
	EXPECT_JSON("y: 1\n", "{\"true\":1}");
	EXPECT_JSON("a: &a {x: 1}\nc: &c {z: 3}\nb:\n  <<: [*a, *c]\n",
		    "{\"a\":{\"x\":1},\"c\":{\"z\":3},\"b\":{\"x\":1,\"z\":3}}");
}

static void errors(void **state)
{
	cJSON *v;

	(void)state;
	v = parse("a: 1\na: 2\n");
	assert_null(v);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_non_null(strstr(err_msg(), "test: line 2"));
	assert_non_null(strstr(err_msg(), "\"a\" is already set"));
	assert_null(parse("a: [1, 2\n"));
	assert_non_null(strstr(err_msg(), "test: line"));
	assert_null(parse("a: *nowhere\n"));
	assert_non_null(strstr(err_msg(), "unknown alias"));
	assert_null(parse("? [a, b]\n: c\n"));
	assert_non_null(strstr(err_msg(), "must be a scalar"));
}

static void alias_bomb(void **state)
{
	const char *bomb =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

	(void)state;
	assert_null(parse(bomb));
	assert_non_null(strstr(err_msg(), "too many"));
}

static void documents(void **state)
{
	const char *s = "---\na: 1\n---\n---\n# empty\n---\nb: 2\n...\n";
	cJSON *all = yaml_parse_all(s, strlen(s), "multi");
	char *txt;

	(void)state;
	assert_non_null(all);
	txt = cJSON_PrintUnformatted(all);
	assert_string_equal(txt, "[{\"a\":1},{\"b\":2}]");
	free(txt);
	cJSON_Delete(all);
	EXPECT_JSON("---\na: 1\n---\nb: 2\n", "{\"a\":1}");
}

static void emit_round_trip(void **state)
{
	const char *json =
		"{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
		"\"name\":\"s\",\"labels\":{\"azure.workload.identity/use\":"
		"\"true\",\"n\":\"010\",\"e\":\"\",\"t\":\"yes\",\"x\":\"~\"}},"
		"\"stringData\":{\"multi\":\"line one\\nline two\\n\","
		"\"colon\":\"a: b\",\"hash\":\"# not a comment\","
		"\"lead\":\" spaced\",\"uni\":\"h\xc3\xa9\"},\"list\":[1,2.5,"
		"true,null,[],{}],\"big\":1234567890123}";
	cJSON *in = cJSON_Parse(json), *back;
	struct buf out = BUF_INIT;
	char *a, *b;

	(void)state;
	assert_int_equal(yaml_emit(in, &out), 0);
	assert_non_null(strstr(out.data, "azure.workload.identity/use: "
			       "\"true\""));
	assert_non_null(strstr(out.data, "multi: |"));
	assert_non_null(strstr(out.data, "h\xc3\xa9"));
	assert_null(strstr(out.data, "---"));
	back = yaml_parse(out.data, out.len, "emitted");
	assert_non_null(back);
	a = cJSON_PrintUnformatted(in);
	b = cJSON_PrintUnformatted(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	cJSON_Delete(in);
	cJSON_Delete(back);
	buf_free(&out);
}

static void special_words(void **state)
{
	(void)state;
	assert_true(yaml_plain_is_special("true"));
	assert_true(yaml_plain_is_special("Off"));
	assert_true(yaml_plain_is_special("12"));
	assert_true(yaml_plain_is_special("-1.5e3"));
	assert_true(yaml_plain_is_special(""));
	assert_true(yaml_plain_is_special("~"));
	assert_false(yaml_plain_is_special("kustomize-controller"));
	assert_false(yaml_plain_is_special("1.2.3"));
	assert_false(yaml_plain_is_special("api://AzureADTokenExchange"));
}

static void plain_strings(void **state)
{
	const char *s = "name: y\nn: 010\nb: true\nq: \"x\"\nz: ~\nl: [on, 1.5]\n";
	cJSON *v = yaml_parse_ex(s, strlen(s), "t", YAML_PLAIN_STRINGS);
	char *txt;

	(void)state;
	assert_non_null(v);
	txt = cJSON_PrintUnformatted(v);
	assert_string_equal(txt, "{\"name\":\"y\",\"n\":\"010\",\"b\":"
			    "\"true\",\"q\":\"x\",\"z\":null,\"l\":[\"on\","
			    "\"1.5\"]}");
	free(txt);
	cJSON_Delete(v);
}

static void file_errors(void **state)
{
	(void)state;
	assert_null(yaml_parse_file("/nonexistent/kubeconfig"));
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_non_null(strstr(err_msg(), "cannot read /nonexistent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scalars),
		cmocka_unit_test(structure),
		cmocka_unit_test(anchors_and_merge),
		cmocka_unit_test(errors),
		cmocka_unit_test(alias_bomb),
		cmocka_unit_test(documents),
		cmocka_unit_test(emit_round_trip),
		cmocka_unit_test(special_words),
		cmocka_unit_test(plain_strings),
		cmocka_unit_test(file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
