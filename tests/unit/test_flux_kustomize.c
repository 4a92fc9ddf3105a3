/* test_flux_kustomize.c - patches: entries added without rewriting the file. */
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

#include "flux/kustomize.h"
#include "util/err.h"

static const struct flux_patch_ref refs[] = {
	{ "patches/kustomize-controller-service-account.yaml",
	  "ServiceAccount", "kustomize-controller" },
	{ "patches/kustomize-controller-deployment.yaml", "Deployment",
	  "kustomize-controller" },
};

#define ITEMS(ind) \
	ind "- path: patches/kustomize-controller-service-account.yaml\n" \
	ind "  target:\n" \
	ind "    kind: ServiceAccount\n" \
	ind "    name: kustomize-controller\n" \
	ind "- path: patches/kustomize-controller-deployment.yaml\n" \
	ind "  target:\n" \
	ind "    kind: Deployment\n" \
	ind "    name: kustomize-controller\n"

/* Adds both entries and checks the result; then checks a second run adds
 * nothing and returns the text unchanged. */
static void expect_edit(const char *in, const char *want, size_t nwant)
{
	struct buf out = BUF_INIT, again = BUF_INIT;
	size_t added = 99;

	assert_int_equal(flux_kustomization_add_patches(in, strlen(in), "k",
							refs, 2, &out,
							&added), 0);
	assert_int_equal(added, nwant);
	assert_string_equal(out.data, want);
	assert_int_equal(flux_kustomization_add_patches(out.data, out.len,
							"k", refs, 2, &again,
							&added), 0);
	assert_int_equal(added, 0);
	assert_string_equal(again.data, out.data);
	buf_free(&out);
	buf_free(&again);
}

static void appends_when_absent(void **state)
{
	const char *in =
		"apiVersion: kustomize.config.k8s.io/v1beta1\n"
		"kind: Kustomization\n"
		"resources:\n"
		"- gotk-components.yaml\n"
		"- gotk-sync.yaml\n";

	(void)state;
	expect_edit(in, "apiVersion: kustomize.config.k8s.io/v1beta1\n"
		    "kind: Kustomization\n"
		    "resources:\n"
		    "- gotk-components.yaml\n"
		    "- gotk-sync.yaml\n"
		    "patches:\n" ITEMS(""), 2);
}

static void follows_house_indent_and_missing_newline(void **state)
{
	const char *in =
		"# my comment\n"
		"kind: Kustomization\n"
		"resources:\n"
		"  - gotk-components.yaml   # generated\n"
		"  - gotk-sync.yaml";

	(void)state;
	expect_edit(in, "# my comment\n"
		    "kind: Kustomization\n"
		    "resources:\n"
		    "  - gotk-components.yaml   # generated\n"
		    "  - gotk-sync.yaml\n"
		    "patches:\n" ITEMS("  "), 2);
}

static void extends_existing_block_list(void **state)
{
	const char *in =
		"resources:\n"
		"- gotk-components.yaml\n"
		"patches:   # ours\n"
		"  - patch: |\n"
		"      - op: add\n"
		"        path: /spec/x\n"
		"      # inside the scalar\n"
		"    target:\n"
		"      kind: Deployment\n"
		"\n"
		"# about images\n"
		"images:\n"
		"- name: x\n";

	(void)state;
	expect_edit(in, "resources:\n"
		    "- gotk-components.yaml\n"
		    "patches:   # ours\n"
		    "  - patch: |\n"
		    "      - op: add\n"
		    "        path: /spec/x\n"
		    "      # inside the scalar\n"
		    "    target:\n"
		    "      kind: Deployment\n"
		    ITEMS("  ")
		    "\n"
		    "# about images\n"
		    "images:\n"
		    "- name: x\n", 2);
}

static void adds_only_what_is_missing(void **state)
{
	const char *in =
		"patches:\n"
		"- path: ./patches/kustomize-controller-deployment.yaml\n"
		"  target: {kind: Deployment, name: kustomize-controller}\n";

	(void)state;
	expect_edit(in, "patches:\n"
		    "- path: ./patches/kustomize-controller-deployment.yaml\n"
		    "  target: {kind: Deployment, name: kustomize-controller}\n"
		    "- path: patches/kustomize-controller-service-account.yaml\n"
		    "  target:\n"
		    "    kind: ServiceAccount\n"
		    "    name: kustomize-controller\n", 1);
}

static void legacy_strategic_merge_counts(void **state)
{
	const char *in =
		"patchesStrategicMerge:\n"
		"- patches/kustomize-controller-service-account.yaml\n"
		"- patches/kustomize-controller-deployment.yaml\n";
	struct buf out = BUF_INIT;
	size_t added = 9;

	(void)state;
	assert_int_equal(flux_kustomization_add_patches(in, strlen(in), "k",
							refs, 2, &out,
							&added), 0);
	assert_int_equal(added, 0);
	assert_string_equal(out.data, in);
	buf_free(&out);
	expect_edit("patchesStrategicMerge:\n- other.yaml\n",
		    "patchesStrategicMerge:\n- other.yaml\npatches:\n"
		    ITEMS(""), 2);
}

static void empty_and_flow_lists(void **state)
{
	(void)state;
	expect_edit("patches: [] # none yet\nresources: [a.yaml]\n",
		    "patches: # none yet\n" ITEMS("") "resources: [a.yaml]\n",
		    2);
	expect_edit("patches: ~\n", "patches:\n" ITEMS(""), 2);
	expect_edit("patches:\nresources:\n  - a.yaml\n",
		    "patches:\n" ITEMS("  ") "resources:\n  - a.yaml\n", 2);
	expect_edit("patches: [p.yaml ]\n",
		    "patches: [p.yaml, {path: patches/kustomize-controller-"
		    "service-account.yaml, target: {kind: ServiceAccount, "
		    "name: kustomize-controller}}, {path: patches/kustomize-"
		    "controller-deployment.yaml, target: {kind: Deployment, "
		    "name: kustomize-controller}} ]\n", 2);
}

static void keeps_crlf(void **state)
{
	const char *in = "kind: Kustomization\r\nresources:\r\n- a.yaml\r\n";
	struct buf out = BUF_INIT;
	size_t added;

	(void)state;
	assert_int_equal(flux_kustomization_add_patches(in, strlen(in), "k",
							refs, 2, &out,
							&added), 0);
	assert_int_equal(added, 2);
	assert_memory_equal(out.data, in, strlen(in));
	assert_non_null(strstr(out.data, "\r\npatches:\r\n- path: "));
	for (size_t i = 1; i < out.len; i++)
		if (out.data[i] == '\n')
			assert_int_equal(out.data[i - 1], '\r');
	buf_free(&out);
}

static void refuses_what_it_cannot_edit(void **state)
{
	struct buf out = BUF_INIT;
	size_t added;
	const char *bad[] = {
		"patches: 3\n",
		"- a\n- b\n",
		"patches: [\n  {path: a.yaml}\n]\n",
		"resources: [a\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		assert_int_equal(flux_kustomization_add_patches(
					 bad[i], strlen(bad[i]), "k", refs, 2,
					 &out, &added), -1);
		assert_int_equal(err_code(), EXIT_USAGE);
		assert_non_null(strstr(err_msg(), "k"));
	}
	buf_free(&out);
}

static void unified_diff(void **state)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n";
	const char *b = "1\n2\n3\n4\nnew\n5\n6\n7\n8\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(flux_unified_diff("a/k", a, strlen(a), "b/k", b,
					   strlen(b), &out), 0);
	assert_string_equal(out.data, "--- a/k\n+++ b/k\n@@ -2,6 +2,7 @@\n"
			    " 2\n 3\n 4\n+new\n 5\n 6\n 7\n");
	buf_reset(&out);
	assert_int_equal(flux_unified_diff("/dev/null", "", 0, "b/n", "x\ny",
					   3, &out), 0);
	assert_string_equal(out.data, "--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@"
			    "\n+x\n+y\n\\ No newline at end of file\n");
	buf_reset(&out);
	assert_int_equal(flux_unified_diff("a", a, strlen(a), "b", a,
					   strlen(a), &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void finds_bootstrap_dir(void **state)
{
	char root[] = "/tmp/fluxwi-unit-XXXXXX", p[512];
	char *dir = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(flux_find_bootstrap_dir(root, &dir), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	snprintf(p, sizeof(p), "%s/c", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/c/flux-system", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/c/flux-system/gotk-components.yaml", root);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(flux_find_bootstrap_dir(root, &dir), 0);
	snprintf(p, sizeof(p), "%s/c/flux-system", root);
	assert_string_equal(dir, p);
	free(dir);
	snprintf(p, sizeof(p), "%s/d", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/d/gotk-components.yaml", root);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(flux_find_bootstrap_dir(root, &dir), -1);
	assert_non_null(strstr(err_msg(), "2 Flux bootstrap directories"));
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/d", root);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/c/flux-system/gotk-components.yaml", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/c/flux-system", root);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/c", root);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(rmdir(root), 0);
}

static void reads_files(void **state)
{
	char root[] = "/tmp/fluxwi-unit-XXXXXX", p[512];
	struct buf b = BUF_INIT;
	bool exists = true;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/f.yaml", root);
	assert_int_equal(flux_read_file(p, &b, &exists), 0);
	assert_false(exists);
	assert_non_null(f = fopen(p, "w"));
	fputs("a: 1\n", f);
	fclose(f);
	assert_int_equal(flux_read_file(p, &b, &exists), 0);
	assert_true(exists);
	assert_string_equal(b.data, "a: 1\n");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(root), 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends_when_absent),
		cmocka_unit_test(follows_house_indent_and_missing_newline),
		cmocka_unit_test(extends_existing_block_list),
		cmocka_unit_test(adds_only_what_is_missing),
		cmocka_unit_test(legacy_strategic_merge_counts),
		cmocka_unit_test(empty_and_flow_lists),
		cmocka_unit_test(keeps_crlf),
		cmocka_unit_test(refuses_what_it_cannot_edit),
		cmocka_unit_test(unified_diff),
		cmocka_unit_test(finds_bootstrap_dir),
		cmocka_unit_test(reads_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
