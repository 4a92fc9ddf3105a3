/* test_sops_config.c - .sops.yaml discovery and creation rules, with the
 * configuration the Flux test files were made with. */
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

#include "sops/config.h"
#include "util/err.h"
#include "util/fsutil.h"

static char dir[256], sub[300];

static int setup(void **state)
{
	struct buf b = BUF_INIT;
	const char *v = getenv("SOPS_VECTORS");
	char path[512], cfg[512];

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/sops__.sops.yaml",
		 v && *v ? v : access("../shared/vectors/sops-real", R_OK) == 0 ?
		 "../shared/vectors/sops-real" : "/work/shared/vectors/sops-real");
	if (fs_read_all(cfg, &b) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/sops-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/.sops.yaml", dir);
	snprintf(sub, sizeof(sub), "%s/deep/er", dir);
	if (fs_write_atomic(path, b.data, b.len, 0644) < 0)
		return -1;
	buf_free(&b);
	snprintf(path, sizeof(path), "%s/deep", dir);
	mkdir(path, 0755);
	mkdir(sub, 0755);
	unsetenv("SOPS_CONFIG");
	return chdir(sub);
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	if (chdir("/") != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void match(struct sops_config *c, const char *file, const char *type,
		  const char *id, enum sops_rule_kind kind, size_t groups)
{
	struct sops_creation_rule r;

	assert_int_equal(sops_config_match(c, file, &r), 1);
	assert_int_equal(r.keys.ngroups, groups);
	assert_string_equal(r.keys.groups[0].keys[0].type, type);
	assert_string_equal(sops_entry_get(&r.keys.groups[0].keys[0],
					   !strcmp(type, "age") ? "recipient" :
					   "fp"), id);
	assert_int_equal(r.rule.kind, kind);
	if (kind == SOPS_RULE_ENCRYPTED_REGEX)
		assert_string_equal(r.rule.value, "^(data|stringData)$");
	sops_creation_rule_free(&r);
}

#define AGE "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"
#define PGP "35C1A64CD7FC0AB6EB66756B2445463C3234ECE1"

static void found_in_parent(void **state)
{
	struct sops_config c;
	char f[512];

	(void)state;
	assert_int_equal(sops_config_load(NULL, &c), 0);
	assert_non_null(c.path);
	assert_non_null(strstr(c.path, dir));
	assert_int_equal(c.yaml_indent, 2);
	assert_int_equal(c.json_indent, 2);
	/* paths are relative to the config's directory */
	match(&c, "secret.yaml", "age", AGE, SOPS_RULE_ENCRYPTED_REGEX, 1);
	match(&c, "x/inside.yaml", "pgp", PGP, SOPS_RULE_ENCRYPTED_REGEX, 1);
	match(&c, "a.env", "age", AGE, SOPS_RULE_NONE, 1);
	match(&c, "b.txt", "age", AGE, SOPS_RULE_NONE, 1);
	match(&c, "x.json", "age", AGE, SOPS_RULE_NONE, 2);	/* fallback */
	snprintf(f, sizeof(f), "%s/app/json.yaml", dir);
	{
		struct sops_creation_rule r;

		assert_int_equal(sops_config_match(&c, f, &r), 1);
		assert_string_equal(r.rule.value, ".*");
		sops_creation_rule_free(&r);
	}
	sops_config_free(&c);
}

static void explicit_and_env(void **state)
{
	struct sops_config c;
	struct sops_creation_rule r;
	char path[512];

	(void)state;
	assert_int_equal(sops_config_load("/nonexistent/.sops.yaml", &c), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	snprintf(path, sizeof(path), "%s/only.yaml", sub);
	static const char text[] = "creation_rules:\n"
		"  - path_regex: ^prod/\n    age: " AGE "\n";

	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644), 0);
	setenv("SOPS_CONFIG", path, 1);
	assert_int_equal(sops_config_load(NULL, &c), 0);
	assert_int_equal(sops_config_match(&c, "prod/s.yaml", &r), 1);
	sops_creation_rule_free(&r);
	assert_int_equal(sops_config_match(&c, "dev/s.yaml", &r), -1);
	assert_non_null(strstr(err_msg(), "no matching creation rules"));
	sops_config_free(&c);
	unsetenv("SOPS_CONFIG");
}

static void azure_urls(void **state)
{
	char *v, *n, *ver;
	struct sops_metadata md;
	struct sops_key_group *g;

	(void)state;
	assert_int_equal(sops_azure_kv_url_parse(
		"https://v.vault.azure.net/keys/sops/0123abc", &v, &n, &ver), 0);
	assert_string_equal(v, "https://v.vault.azure.net");
	assert_string_equal(n, "sops");
	assert_string_equal(ver, "0123abc");
	free(v);
	free(n);
	free(ver);
	assert_int_equal(sops_azure_kv_url_parse(
		"https://v.vault.azure.net/keys/sops", &v, &n, &ver), 0);
	assert_string_equal(ver, "");
	free(v);
	free(n);
	free(ver);
	assert_int_equal(sops_azure_kv_url_parse("http://v/keys/a", &v, &n,
						 &ver), -1);
	assert_int_equal(sops_azure_kv_url_parse("https://v/secrets/a", &v, &n,
						 &ver), -1);
	memset(&md, 0, sizeof(md));
	assert_int_equal(sops_metadata_add_group(&md), 0);
	g = &md.groups[0];
	assert_int_equal(sops_keys_add_text(g, "azure_kv",
		" https://a.vault.azure.net/keys/k , https://b.vault.azure.net/keys/j/1"),
		0);
	assert_int_equal(g->n, 2);
	assert_string_equal(sops_entry_get(&g->keys[1], "version"), "1");
	sops_metadata_free(&md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(found_in_parent),
		cmocka_unit_test(explicit_and_env),
		cmocka_unit_test(azure_urls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
