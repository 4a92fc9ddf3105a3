/*
 * test_sopsenc_stage.c - the all-or-nothing writes of rotate, updatekeys
 * and encrypt -r (plugins/sopsenc/rekey.c): nothing changes until every
 * file is staged; commit replaces every target with its mode kept; freeing
 * an uncommitted stage removes every temporary file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../plugins/sopsenc/rekey.c"

static char dir[64];

static void put(const char *name, const char *text, mode_t mode)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void expect(const char *name, const char *text, mode_t mode)
{
	char p[128], got[256] = { 0 };
	struct stat st;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_true(fread(got, 1, sizeof(got) - 1, f) <= strlen(text));
	fclose(f);
	assert_string_equal(got, text);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-stage.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put("a.yaml", "a-old\n", 0640);
	put("b.yaml", "b-old\n", 0600);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void commit_replaces_all_and_keeps_modes(void **state)
{
	struct rk_stage s = { 0 };
	char a[128], b[128];

	(void)state;
	path_of(a, sizeof(a), "a.yaml");
	path_of(b, sizeof(b), "b.yaml");
	assert_int_equal(rk_stage_write(&s, a, "a-new\n", 6), 0);
	assert_int_equal(rk_stage_write(&s, b, "b-new\n", 6), 0);
	expect("a.yaml", "a-old\n", 0640);	/* nothing before commit */
	assert_int_equal(entries(), 4);
	assert_int_equal(rk_stage_commit(&s), 0);
	rk_stage_free(&s);
	expect("a.yaml", "a-new\n", 0640);
	expect("b.yaml", "b-new\n", 0600);
	assert_int_equal(entries(), 2);
}

static void a_failure_leaves_every_file(void **state)
{
	struct rk_stage s = { 0 };
	char a[128], missing[128];

	(void)state;
	path_of(a, sizeof(a), "a.yaml");
	path_of(missing, sizeof(missing), "gone/c.yaml");
	assert_int_equal(rk_stage_write(&s, a, "a-new\n", 6), 0);
	assert_int_equal(rk_stage_write(&s, missing, "c\n", 2), -1);
	assert_int_equal(err_code(), EXIT_WRITE);
	assert_non_null(strstr(err_msg(), "gone/c.yaml"));
	rk_stage_free(&s);	/* not committed: temporary files removed */
	expect("a.yaml", "a-old\n", 0640);
	expect("b.yaml", "b-old\n", 0600);
	assert_int_equal(entries(), 2);
}

static void a_link_is_followed(void **state)
{
	struct rk_stage s = { 0 };
	char a[128], l[128];

	(void)state;
	path_of(a, sizeof(a), "a.yaml");
	path_of(l, sizeof(l), "link.yaml");
	assert_int_equal(symlink(a, l), 0);
	assert_int_equal(rk_stage_write(&s, l, "via-link\n", 9), 0);
	assert_int_equal(rk_stage_commit(&s), 0);
	rk_stage_free(&s);
	expect("a.yaml", "via-link\n", 0640);
	assert_int_equal(readlink(l, a, sizeof(a)) > 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(commit_replaces_all_and_keeps_modes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_failure_leaves_every_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_link_is_followed, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
