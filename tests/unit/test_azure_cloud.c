/* test_azure_cloud.c - where Azure tokens may go, and challenges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azure/cloud.h"
#include "util/err.h"

static void vault_scopes_by_cloud(void **state)
{
	char scope[512];

	(void)state;
	unsetenv("FLUXWI_TRUSTED_HOSTS");
	unsetenv("AZURE_AUTHORITY_HOST");
	assert_int_equal(az_vault_scope("https://kv1.vault.azure.net", scope,
					sizeof(scope)), 0);
	assert_string_equal(scope, "https://vault.azure.net/.default");
	assert_int_equal(az_vault_scope("https://kv1.vault.azure.cn", scope,
					sizeof(scope)), 0);
	assert_string_equal(scope, "https://vault.azure.cn/.default");
	assert_int_equal(az_vault_scope("https://kv.vault.usgovcloudapi.net",
					scope, sizeof(scope)), 0);
	assert_string_equal(scope, "https://vault.usgovcloudapi.net/.default");
	assert_int_equal(az_vault_scope("https://h.managedhsm.azure.net", scope,
					sizeof(scope)), 0);
	assert_string_equal(scope, "https://managedhsm.azure.net/.default");
}

static void look_alikes_refused(void **state)
{
	char scope[512];

	(void)state;
	unsetenv("FLUXWI_TRUSTED_HOSTS");
	assert_int_equal(az_vault_scope("https://kv.vault.azure.net.evil.test",
					scope, sizeof(scope)), -1);
	assert_non_null(strstr(err_msg(), "refusing"));
	assert_non_null(strstr(err_remedy(), "FLUXWI_TRUSTED_HOSTS"));
	assert_int_equal(az_vault_scope("https://evilvault.azure.net", scope,
					sizeof(scope)), -1);
	assert_int_equal(az_vault_scope("https://kvvault.azure.net", scope,
					sizeof(scope)), -1);
	assert_int_equal(az_vault_scope("http://kv.vault.azure.net", scope,
					sizeof(scope)), -1);
	assert_int_equal(az_vault_scope("https://kv.vault.azure.net:8443",
					scope, sizeof(scope)), -1);
	assert_int_equal(az_vault_scope("https://127.0.0.1:8443", scope,
					sizeof(scope)), -1);
}

static void trusted_hosts(void **state)
{
	char scope[512];

	(void)state;
	setenv("FLUXWI_TRUSTED_HOSTS", " 127.0.0.1:8443 , kv.internal,[::1]:9",
	       1);
	assert_true(az_host_trusted("127.0.0.1", 8443));
	assert_false(az_host_trusted("127.0.0.1", 8444));
	assert_true(az_host_trusted("kv.internal", 443));
	assert_true(az_host_trusted("KV.internal", 1234));
	assert_true(az_host_trusted("::1", 9));
	assert_false(az_host_trusted("kv.internal.evil", 443));
	assert_false(az_host_trusted("localhost", 8443));
	assert_int_equal(az_vault_scope("https://127.0.0.1:8443", scope,
					sizeof(scope)), 0);
	assert_string_equal(scope, "https://vault.azure.net/.default");
	setenv("AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn/", 1);
	assert_int_equal(az_vault_scope("https://kv.internal", scope,
					sizeof(scope)), 0);
	assert_string_equal(scope, "https://vault.azure.cn/.default");
	unsetenv("AZURE_AUTHORITY_HOST");
	unsetenv("FLUXWI_TRUSTED_HOSTS");
}

static void authority(void **state)
{
	char a[256];

	(void)state;
	unsetenv("AZURE_AUTHORITY_HOST");
	assert_int_equal(az_authority(a, sizeof(a)), 0);
	assert_string_equal(a, "https://login.microsoftonline.com");
	setenv("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/", 1);
	assert_int_equal(az_authority(a, sizeof(a)), 0);
	assert_string_equal(a, "https://login.microsoftonline.us");
	setenv("AZURE_AUTHORITY_HOST", "http://login.microsoftonline.com/", 1);
	assert_int_equal(az_authority(a, sizeof(a)), -1);
	unsetenv("AZURE_AUTHORITY_HOST");
}

static void challenges(void **state)
{
	struct az_challenge c;

	(void)state;
	unsetenv("FLUXWI_TRUSTED_HOSTS");
	assert_int_equal(az_challenge_parse(
		"Bearer authorization=\"https://login.windows.net/72f988bf-0000"
		"\", resource=\"https://vault.azure.net\"", &c), 0);
	assert_string_equal(c.tenant, "72f988bf-0000");
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	assert_int_equal(az_challenge_check("https://kv.vault.azure.net", &c), 0);
	assert_int_equal(az_challenge_check("https://kv.vault.azure.cn", &c), -1);
	assert_int_equal(az_challenge_parse(
		"Bearer authorization_uri=\"https://login.microsoftonline.com/t1/"
		"\", scope=\"https://managedhsm.azure.net/.default\"", &c), 0);
	assert_string_equal(c.tenant, "t1");
	assert_string_equal(c.scope, "https://managedhsm.azure.net/.default");
	assert_int_equal(az_challenge_check("https://h.managedhsm.azure.net",
					    &c), 0);
	assert_int_equal(az_challenge_check("https://kv.vault.azure.net", &c),
			 -1);
	/* a trailing slash on the resource does not reach the scope */
	assert_int_equal(az_challenge_parse("Bearer resource=\"https://vault."
					    "azure.net/\"", &c), 0);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	assert_int_equal(az_challenge_parse("Basic realm=x", &c), -1);
	assert_int_equal(az_challenge_parse("Bearer authorization=\"x\"", &c),
			 -1);
}

static void arm(void **state)
{
	char url[256], scope[300];

	(void)state;
	unsetenv("FLUXWI_ARM_ENDPOINT");
	unsetenv("AZURE_AUTHORITY_HOST");
	unsetenv("FLUXWI_TRUSTED_HOSTS");
	assert_int_equal(az_arm_endpoint(url, sizeof(url)), 0);
	assert_string_equal(url, "https://management.azure.com");
	assert_int_equal(az_arm_scope(url, scope, sizeof(scope)), 0);
	assert_string_equal(scope, "https://management.azure.com/.default");
	setenv("FLUXWI_ARM_ENDPOINT", "https://127.0.0.1:7000/", 1);
	assert_int_equal(az_arm_endpoint(url, sizeof(url)), 0);
	assert_string_equal(url, "https://127.0.0.1:7000");
	assert_int_equal(az_arm_scope(url, scope, sizeof(scope)), -1);
	setenv("FLUXWI_TRUSTED_HOSTS", "127.0.0.1:7000", 1);
	assert_int_equal(az_arm_scope(url, scope, sizeof(scope)), 0);
	unsetenv("FLUXWI_TRUSTED_HOSTS");
	unsetenv("FLUXWI_ARM_ENDPOINT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vault_scopes_by_cloud),
		cmocka_unit_test(look_alikes_refused),
		cmocka_unit_test(trusted_hosts),
		cmocka_unit_test(authority),
		cmocka_unit_test(challenges),
		cmocka_unit_test(arm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
