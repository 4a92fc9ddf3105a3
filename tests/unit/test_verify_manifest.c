/*
 * test_verify_manifest.c - sopsverify: finding encrypted Secret manifests
 * (kustomization.yaml namespaces, multi-document files, skipped files) and
 * what a Flux Kustomization says about them (inventory ids, owners, paths,
 * advice).  No cluster needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/sopsverify/flux.c"
#include "../../plugins/sopsverify/manifest.c"
#include "../../plugins/sopsverify/verdict.c"

#define FIX "tests/fixtures/sopsverify/repo1"

static const struct vs_secret *find(const struct vs_set *set, const char *n)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->s[i].name, n) == 0)
			return &set->s[i];
	return NULL;
}

static bool has_key(const struct vs_secret *s, const char *k, bool sd)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, k) == 0)
			return s->keys[i].from_string_data == sd;
	return false;
}

static void discovery(void **state)
{
	char *paths[] = { FIX };
	struct vs_set set = { 0 };
	const struct vs_secret *s;

	(void)state;
	assert_int_equal(vs_discover(&set, paths, 1), 0);
	assert_int_equal(set.n, 8);
	/* kustomization.yaml namespace: applies, the outer one wins */
	s = find(&set, "one");
	assert_non_null(s);
	assert_string_equal(s->namespace, "team-a");
	assert_int_equal(s->doc, 0);
	assert_int_equal(s->nkeys, 2);
	assert_true(has_key(s, "password", true));
	assert_true(has_key(s, "user", true));
	s = find(&set, "two");
	assert_string_equal(s->namespace, "team-a");
	assert_int_equal(s->doc, 2);
	/* a key in data and stringData counts once, as stringData */
	assert_int_equal(s->nkeys, 2);
	assert_true(has_key(s, "token", true));
	assert_true(has_key(s, "extra", true));
	assert_string_equal(find(&set, "three")->namespace, "team-a");
	/* components: count like resources */
	assert_string_equal(find(&set, "echo")->namespace, "team-a");
	/* a sub-directory it does not list: walked on its own (another
	 * Flux Kustomization may apply it), with its own namespace */
	assert_string_equal(find(&set, "delta")->namespace, "own");
	/* a file it does not list: not applied, not verified */
	assert_null(find(&set, "unlisted"));
	/* loose files: own namespace or none */
	assert_string_equal(find(&set, "alpha")->namespace, "x");
	assert_null(find(&set, "bravo")->namespace);
	assert_non_null(strstr(find(&set, "bravo")->file, "b.json"));
	/* a data value that is itself a sops document */
	assert_non_null(find(&set, "inside"));
	/* annotated decrypt: disabled, and plaintext Secrets: ignored */
	assert_null(find(&set, "exempt"));
	assert_null(find(&set, "plain"));
	/* the broken file and the encrypted name are warnings */
	assert_int_equal(set.nwarnings, 2);
	assert_non_null(strstr(set.warnings[0], "broken.yaml"));
	assert_non_null(strstr(set.warnings[0], "SOPS-encrypted"));
	assert_non_null(strstr(set.warnings[1], "encname.yaml"));
	vs_set_free(&set);
}

static void namespaces_and_dedup(void **state)
{
	char *paths[] = { FIX "/loose", FIX "/loose/a.yaml",
			  FIX "/apps/sub/s.yaml" };
	struct vs_set set = { 0 };

	(void)state;
	assert_int_equal(vs_discover(&set, paths, 3), 0);
	/* a.yaml once; s.yaml given alone has no kustomization around it */
	assert_int_equal(set.n, 4);
	assert_null(find(&set, "three")->namespace);
	assert_int_equal(vs_default_namespace(&set, "def"), 0);
	assert_string_equal(find(&set, "three")->namespace, "def");
	assert_string_equal(find(&set, "alpha")->namespace, "x");
	assert_int_equal(vs_force_namespace(&set, "target"), 0);
	assert_string_equal(find(&set, "alpha")->namespace, "target");
	vs_set_free(&set);
}

static void missing_path(void **state)
{
	char *paths[] = { FIX "/nope" };
	struct vs_set set = { 0 };

	(void)state;
	assert_int_equal(vs_discover(&set, paths, 1), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_non_null(strstr(err_msg(), "nope"));
	err_clear();
	vs_set_free(&set);
}

static void is_encrypted_secret(void **state)
{
	cJSON *o;

	(void)state;
	o = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
			"\"sops\":{\"mac\":\"x\"}}");
	assert_true(vs_is_encrypted_secret(o));
	cJSON_ReplaceItemInObject(o, "kind", cJSON_CreateString("ConfigMap"));
	assert_false(vs_is_encrypted_secret(o));
	cJSON_Delete(o);
	o = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
			"\"data\":{\"a\":\"aGVsbG8=\"}}");
	assert_false(vs_is_encrypted_secret(o));
	cJSON_Delete(o);
}

static void inventory_ids(void **state)
{
	char *ns, *name, *group, *kind;

	(void)state;
	assert_int_equal(vs_parse_inventory_id("flux-system_sops-keys__Secret",
					       &ns, &name, &group, &kind), 0);
	assert_string_equal(ns, "flux-system");
	assert_string_equal(name, "sops-keys");
	assert_string_equal(group, "");
	assert_string_equal(kind, "Secret");
	free(ns); free(name); free(group); free(kind);
	assert_int_equal(vs_parse_inventory_id("prod_web_apps_Deployment", &ns,
					       &name, &group, &kind), 0);
	assert_string_equal(group, "apps");
	assert_string_equal(name, "web");
	free(ns); free(name); free(group); free(kind);
	assert_int_equal(vs_parse_inventory_id(
		"_system__controller__x_rbac.authorization.k8s.io_ClusterRole",
		&ns, &name, &group, &kind), 0);
	assert_string_equal(ns, "");
	assert_string_equal(name, "system:controller:x");
	assert_string_equal(group, "rbac.authorization.k8s.io");
	free(ns); free(name); free(group); free(kind);
	assert_int_equal(vs_parse_inventory_id("nounderscore", &ns, &name,
					       &group, &kind), -1);
	assert_int_equal(vs_parse_inventory_id("a_b", &ns, &name, &group,
					       &kind), -1);
}

static const char *KS =
	"{\"metadata\":{\"name\":\"apps\",\"namespace\":\"flux-system\"},"
	"\"spec\":{\"path\":\"./" FIX "/apps\",\"decryption\":{\"provider\":"
	"\"sops\"}},\"status\":{\"lastAppliedRevision\":\"main@sha1:1\","
	"\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\"},"
	"{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"BuildFailed\","
	"\"message\":\"decryption failed for 'v1/Secret/one': cannot get "
	"sops data key\"}],\"inventory\":{\"entries\":["
	"{\"id\":\"team-a_one__Secret\",\"v\":\"v1\"},"
	"{\"id\":\"team-a_web_apps_Deployment\",\"v\":\"v1\"},"
	"{\"id\":\"team-a_keys__Secret\",\"v\":\"v1\"}]}}}";

static void inventory_and_owner(void **state)
{
	cJSON *ks = cJSON_Parse(KS);
	struct vs_inv_ref *inv;
	struct vs_owner o = { 0 };
	size_t n;

	(void)state;
	assert_non_null(ks);
	assert_int_equal(vs_inventory_secrets(ks, &inv, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(inv[0].name, "one");
	assert_string_equal(inv[1].name, "keys");
	assert_string_equal(inv[1].namespace, "team-a");
	vs_inv_free(inv, n);
	assert_int_equal(vs_owner_from_ks(&o, ks, "inventory"), 0);
	assert_string_equal(o.name, "apps");
	assert_string_equal(o.ready_status, "False");
	assert_string_equal(o.ready_reason, "BuildFailed");
	assert_true(o.has_sops);
	assert_string_equal(o.applied_rev, "main@sha1:1");
	assert_null(o.attempted_rev);
	vs_owner_free(&o);
	/* spec.path covers the files beneath it, relative to the top */
	assert_true(vs_ks_covers_path(ks, ".", FIX "/apps/secrets.yaml"));
	assert_true(vs_ks_covers_path(ks, ".", FIX "/apps/sub/s.yaml"));
	assert_false(vs_ks_covers_path(ks, ".", FIX "/loose/a.yaml"));
	assert_false(vs_ks_covers_path(ks, "tests", FIX "/apps/secrets.yaml"));
	/* no repository top known: spec.path as a run of directories */
	assert_true(vs_ks_covers_path(ks, NULL, FIX "/apps/sub/s.yaml"));
	assert_false(vs_ks_covers_path(ks, NULL, FIX "/loose/a.yaml"));
	cJSON_Delete(ks);
}

static void advice(void **state)
{
	cJSON *ks = cJSON_Parse(KS);
	struct vs_secret s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.file = strdup("x.yaml");
	s.verdict = VS_MISSING;
	assert_int_equal(vs_advise(&s), 0);
	assert_non_null(strstr(s.next_step, "x.yaml"));
	assert_non_null(strstr(s.next_step, "--kustomization"));
	assert_int_equal(vs_owner_from_ks(&s.owner, ks, "inventory"), 0);
	assert_int_equal(vs_advise(&s), 0);
	assert_non_null(strstr(s.next_step, "kubectl fluxwi check"));
	/* Key Vault named in the message: the identity chain */
	free(s.owner.ready_message);
	s.owner.ready_message = strdup("Group 0: FAILED\n  failed to decrypt "
				       "sops data key with Azure Key Vault key");
	assert_int_equal(vs_advise(&s), 0);
	assert_non_null(strstr(s.next_step, "from Azure Key Vault: check its "
			       "identity chain with 'kubectl fluxwi check'"));
	/* only age in the message */
	free(s.owner.ready_message);
	s.owner.ready_message = strdup("age1x: FAILED - no age identity found");
	assert_int_equal(vs_advise(&s), 0);
	assert_non_null(strstr(s.next_step, "*.agekey"));
	/* no decryption provider */
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(ks, "spec"),
				   "decryption");
	assert_int_equal(vs_owner_from_ks(&s.owner, ks, "inventory"), 0);
	assert_int_equal(vs_advise(&s), 0);
	assert_non_null(strstr(s.next_step, "provider: sops"));
	assert_non_null(strstr(s.next_step, "Kustomization apps"));
	s.verdict = VS_OK;
	free(s.next_step);
	s.next_step = NULL;
	assert_int_equal(vs_advise(&s), 0);
	assert_null(s.next_step);
	free(s.file);
	vs_owner_free(&s.owner);
	cJSON_Delete(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery),
		cmocka_unit_test(namespaces_and_dedup),
		cmocka_unit_test(missing_path),
		cmocka_unit_test(is_encrypted_secret),
		cmocka_unit_test(inventory_ids),
		cmocka_unit_test(inventory_and_owner),
		cmocka_unit_test(advice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
