/* test_sops_stores.c - YAML, JSON, dotenv and binary reading and writing:
 * layout, comments, styles, anchors, typing, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sops/metadata.h"
#include "sops/store.h"
#include "util/err.h"

static char *yaml_round(const char *src, int indent)
{
	struct sops_docs d;
	struct buf out = BUF_INIT;

	if (sops_yaml_parse(src, strlen(src), &d) < 0)
		fail_msg("parse: %s", err_msg());
	assert_int_equal(sops_yaml_emit(&d, indent, &out), 0);
	sops_docs_free(&d);
	return buf_detach(&out, NULL);
}

static void yaml_layout_and_comments(void **state)
{
	static const char src[] =
		"# head\n"
		"apiVersion: v1 # inline\n"
		"kind: Secret\n"
		"metadata:\n"
		"  name: x\n"
		"  # foot of metadata\n"
		"# before data\n"
		"data:\n"
		"  list:\n"
		"  - a\n"
		"  # between\n"
		"  - {k: v, n: 1}\n"
		"  q1: 'it''s'\n"
		"  q2: \"tab\\there\"\n"
		"  hex: 0x1F\n"
		"  multi: |\n"
		"    one\n"
		"    two\n"
		"  empty: {}\n"
		"  none:\n"
		"---\n"
		"second: doc\n";
	static const char want[] =
		"# head\n"
		"apiVersion: v1 # inline\n"
		"kind: Secret\n"
		"metadata:\n"
		"    name: x\n"
		"    # foot of metadata\n"
		"# before data\n"
		"data:\n"
		"    list:\n"
		"        - a\n"
		"        # between\n"
		"        - k: v\n"
		"          n: 1\n"
		"    q1: 'it''s'\n"
		"    q2: \"tab\\there\"\n"
		"    hex: 0x1F\n"
		"    multi: |\n"
		"        one\n"
		"        two\n"
		"    empty: {}\n"
		"    none:\n"
		"---\n"
		"second: doc\n";
	char *out = yaml_round(src, 4), *again;

	(void)state;
	assert_string_equal(out, want);
	again = yaml_round(out, 0);
	assert_string_equal(again, want);	/* stable */
	free(out);
	free(again);
	/* without an indent asked for, the file's own (2) is kept */
	out = yaml_round(src, 0);
	assert_non_null(strstr(out, "\nmetadata:\n  name: x\n"));
	assert_non_null(strstr(out, "\n  list:\n    - a\n"));
	again = yaml_round(out, 0);
	assert_string_equal(again, out);
	free(out);
	free(again);
	out = yaml_round("a:\n    b:\n        - c\n", 2);
	assert_string_equal(out, "a:\n  b:\n    - c\n");
	free(out);
}

static void yaml_quoting(void **state)
{
	struct sops_docs d;
	struct buf out = BUF_INIT;
	static const char *const strs[] = {
		"true", "123", "1e3", "null", "", " lead", "a: b", "x #y", "- a",
		"2024-01-01", "0x10", "line\nbreak\n", "ctl\x01", "é", "@at",
		"tail:", "\xe2\x80\xa8", "yes", NULL
	};
	struct sops_node *m = sops_node_new(SOPS_MAP);
	size_t i;

	(void)state;
	memset(&d, 0, sizeof(d));
	for (i = 0; strs[i]; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%zu", i);
		sops_append(m, k, strlen(k), sops_scalar_new(SOPS_STR, strs[i],
							      strlen(strs[i])));
	}
	sops_docs_push(&d, m);
	assert_int_equal(sops_yaml_emit(&d, 0, &out), 0);
	assert_non_null(strstr(out.data, "k0: \"true\"\n"));
	assert_non_null(strstr(out.data, "k4: \"\"\n"));
	assert_non_null(strstr(out.data, "k11: |\n    line\n    break\n"));
	assert_non_null(strstr(out.data, "k13: é\n"));
	assert_non_null(strstr(out.data, "k17: yes\n"));	/* string in v3 */
	{
		struct sops_docs back;

		assert_int_equal(sops_yaml_parse(out.data, out.len, &back), 0);
		assert_true(sops_node_equal(d.doc[0], back.doc[0]));
		sops_docs_free(&back);
	}
	buf_free(&out);
	sops_docs_free(&d);
}

static void resolve_one(const char *in, enum sops_type t, const char *canon)
{
	struct buf c = BUF_INIT;
	enum sops_type got;

	assert_int_equal(sops_yaml_resolve(in, strlen(in), &got, &c), 0);
	if (got != t)
		fail_msg("%s: type %d, want %d", in, got, t);
	if (canon)
		assert_string_equal(c.data, canon);
	buf_free(&c);
}

static void yaml_typing(void **state)
{
	(void)state;
	resolve_one("~", SOPS_NULL, NULL);
	resolve_one("", SOPS_NULL, NULL);
	resolve_one("True", SOPS_BOOL, "True");
	resolve_one("false", SOPS_BOOL, "False");
	resolve_one("yes", SOPS_STR, "yes");
	resolve_one("on", SOPS_STR, "on");
	resolve_one("0x1F", SOPS_INT, "31");
	resolve_one("0o17", SOPS_INT, "15");
	resolve_one("017", SOPS_INT, "15");
	resolve_one("-1_000", SOPS_INT, "-1000");
	resolve_one("08", SOPS_FLOAT, "8");
	resolve_one("1e3", SOPS_FLOAT, "1000");
	resolve_one("25.4", SOPS_FLOAT, "25.4");
	resolve_one(".inf", SOPS_FLOAT, "+Inf");
	resolve_one("-.Inf", SOPS_FLOAT, "-Inf");
	resolve_one(".nan", SOPS_FLOAT, "NaN");
	resolve_one("2024-01-01", SOPS_TIME, "2024-01-01T00:00:00Z");
	resolve_one("2024-01-01T10:00:00.500+00:00", SOPS_TIME,
		    "2024-01-01T10:00:00.5Z");
	resolve_one("2024-01-01 10:00:00", SOPS_TIME, "2024-01-01T10:00:00Z");
	resolve_one("1.2.3", SOPS_STR, "1.2.3");
	resolve_one("-", SOPS_STR, "-");
}

static void yaml_errors_and_aliases(void **state)
{
	struct sops_docs d;
	static const char alias[] =
		"base: &b {x: 1, y: [a, b]}\nuse: *b\n";
	struct buf bomb = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(sops_yaml_parse("- a\n", 4, &d), -1);
	assert_non_null(strstr(err_msg(), "sequences"));
	assert_int_equal(sops_yaml_parse("1: a\n", 5, &d), -1);
	assert_non_null(strstr(err_msg(), "non-string key"));
	assert_int_equal(sops_yaml_parse("a: 1\nb: 2\na: 3\n", 15, &d), -1);
	assert_non_null(strstr(err_msg(), "already defined"));
	assert_int_equal(sops_yaml_parse("a: [\n", 5, &d), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_int_equal(sops_yaml_parse(alias, strlen(alias), &d), 0);
	assert_true(sops_node_equal(sops_map_get(d.doc[0], "base", NULL),
				    sops_map_get(d.doc[0], "use", NULL)));
	sops_docs_free(&d);
	/* the billion laughs: each level doubles nine times */
	buf_puts(&bomb, "a: &a [x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 12; i++)
		buf_printf(&bomb, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, "
			   "*%c, *%c]\n", 'a' + i, 'a' + i, 'a' + i - 1,
			   'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
			   'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1);
	assert_int_equal(sops_yaml_parse(bomb.data, bomb.len, &d), -1);
	assert_non_null(strstr(err_msg(), "too many"));
	buf_free(&bomb);
	assert_int_equal(sops_yaml_parse("", 0, &d), 0);
	assert_int_equal(d.n, 0);
	sops_docs_free(&d);
}

static void json_store(void **state)
{
	static const char src[] =
		"{\"b\": 1, \"a\": [true, null, 2.50, \"<&>\\u00e9\\ud83d\\ude00\"],"
		" \"e\": {}, \"n\": -0, \"big\": 1e400}";
	static const char want[] =
		"{\n\t\"b\": 1,\n\t\"a\": [\n\t\ttrue,\n\t\tnull,\n\t\t2.50,\n"
		"\t\t\"\\u003c\\u0026\\u003e\xc3\xa9\xf0\x9f\x98\x80\"\n\t],\n"
		"\t\"e\": {},\n\t\"n\": -0,\n\t\"big\": 1e400\n}\n";
	struct sops_docs d;
	struct buf out = BUF_INIT;
	struct sops_node *a;

	(void)state;
	assert_int_equal(sops_json_parse(src, strlen(src), &d), 0);
	a = sops_map_get(d.doc[0], "a", NULL);
	assert_int_equal(a->items[2].val->type, SOPS_FLOAT);
	assert_string_equal(a->items[2].val->text, "2.5");
	assert_int_equal(sops_map_get(d.doc[0], "b", NULL)->type, SOPS_INT);
	assert_string_equal(sops_map_get(d.doc[0], "n", NULL)->text, "0");
	assert_int_equal(sops_json_emit(&d, 0, &out), 0);
	assert_string_equal(out.data, want);
	sops_docs_free(&d);
	buf_free(&out);
	assert_int_equal(sops_json_parse("[1]", 3, &d), -1);
	assert_int_equal(sops_json_parse("{\"a\":1} x", 9, &d), -1);
	assert_int_equal(sops_json_parse("{\"a\":01x}", 9, &d), -1);
}

static void dotenv_and_binary(void **state)
{
	static const char src[] = "# c\nA=1\n\nfoo =  bar\nM=a\\nb\nE=\n";
	struct sops_docs d;
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(sops_dotenv_parse(src, strlen(src), &d), 0);
	assert_string_equal(sops_map_get(d.doc[0], "foo ", NULL)->text, "  bar");
	assert_string_equal(sops_map_get(d.doc[0], "M", NULL)->text, "a\nb");
	assert_int_equal(sops_dotenv_emit(&d, &out), 0);
	assert_string_equal(out.data, "# c\nA=1\nfoo =  bar\nM=a\\nb\nE=\n");
	sops_docs_free(&d);
	buf_free(&out);
	assert_int_equal(sops_dotenv_parse("novalue\n", 8, &d), -1);
	assert_int_equal(sops_binary_parse("\0\1x", 3, &d), 0);
	assert_int_equal(sops_binary_emit(&d, &out), 0);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.data, "\0\1x", 3);
	sops_docs_free(&d);
	buf_free(&out);
	assert_int_equal(sops_format_from_path("a/b.yml"), SOPS_FMT_YAML);
	assert_int_equal(sops_format_from_path("x.env"), SOPS_FMT_DOTENV);
	assert_int_equal(sops_format_from_path("x.json"), SOPS_FMT_JSON);
	assert_int_equal(sops_format_from_path("x.txt"), SOPS_FMT_BINARY);
}

static void flatten_round_trip(void **state)
{
	static const char src[] =
		"key_groups:\n- age:\n  - enc: \"a\\nb\"\n    recipient: r1\n"
		"- pgp:\n  - fp: F\nshamir_threshold: 2\nversion: 3.9.0\n";
	struct sops_docs d;
	struct sops_node *flat = sops_node_new(SOPS_MAP), *back;

	(void)state;
	assert_int_equal(sops_yaml_parse(src, strlen(src), &d), 0);
	assert_int_equal(sops_flatten(d.doc[0], "sops_", flat), 0);
	assert_non_null(sops_map_get(flat,
		"sops_key_groups__list_0__map_age__list_0__map_enc", NULL));
	assert_non_null(sops_map_get(flat,
		"sops_key_groups__list_1__map_pgp__list_0__map_fp", NULL));
	back = sops_unflatten(flat, "sops_");
	assert_non_null(back);
	assert_string_equal(sops_map_get(back, "shamir_threshold", NULL)->text,
			    "2");
	assert_string_equal(sops_map_get(sops_map_get(back, "key_groups",
		NULL)->items[0].val, "age", NULL)->items[0].val->items[0].val->text,
		"a\nb");
	sops_node_free(back);
	/* a gap in a list is an error */
	sops_remove(flat, 0);
	sops_remove(flat, 0);
	assert_null(sops_unflatten(flat, "sops_"));
	sops_node_free(flat);
	sops_docs_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yaml_layout_and_comments),
		cmocka_unit_test(yaml_quoting),
		cmocka_unit_test(yaml_typing),
		cmocka_unit_test(yaml_errors_and_aliases),
		cmocka_unit_test(json_store),
		cmocka_unit_test(dotenv_and_binary),
		cmocka_unit_test(flatten_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
