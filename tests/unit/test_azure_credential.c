/* test_azure_credential.c - names, expiry formats, the all-unavailable
 * report, AADSTS explanations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "azure/aadsts.h"
#include "azure/credential.h"
#include "util/err.h"
#include "util/http.h"

static void names(void **state)
{
	(void)state;
	assert_int_equal(az_cred_parse("env"), AZ_CRED_ENV);
	assert_int_equal(az_cred_parse("certificate"), AZ_CRED_CERT);
	assert_int_equal(az_cred_parse("Workload-Identity"), AZ_CRED_WORKLOAD);
	assert_int_equal(az_cred_parse("managed-identity"), AZ_CRED_MANAGED);
	assert_int_equal(az_cred_parse("azure-cli"), AZ_CRED_CLI);
	assert_int_equal(az_cred_parse("AzureCLICredential"), AZ_CRED_CLI);
	assert_int_equal(az_cred_parse("kerberos"), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_non_null(strstr(err_remedy(), "workload-identity"));
	assert_string_equal(az_cred_name(AZ_CRED_MANAGED), "managed-identity");
}

static void cli_output(void **state)
{
	char *tok;
	time_t exp;
	struct tm tm = { 0 };

	(void)state;
	assert_int_equal(az_cli_parse("{\"accessToken\":\"t1\",\"expiresOn\":"
				      "\"2030-01-02 03:04:05.000000\","
				      "\"expires_on\":1900000000}", &tok, &exp), 0);
	assert_string_equal(tok, "t1");
	assert_int_equal(exp, 1900000000);
	free(tok);
	/* older CLIs: only local time */
	assert_int_equal(az_cli_parse("{\"accessToken\":\"t2\",\"expiresOn\":"
				      "\"2030-01-02 03:04:05.123456\"}", &tok,
				      &exp), 0);
	tm.tm_year = 130;
	tm.tm_mon = 0;
	tm.tm_mday = 2;
	tm.tm_hour = 3;
	tm.tm_min = 4;
	tm.tm_sec = 5;
	tm.tm_isdst = -1;
	assert_int_equal(exp, mktime(&tm));
	free(tok);
	assert_int_equal(az_cli_parse("{\"accessToken\":\"t3\"}", &tok, &exp),
			 -1);
	assert_int_equal(az_cli_parse("{\"expires_on\":5}", &tok, &exp), -1);
	assert_int_equal(az_cli_parse("not json", &tok, &exp), -1);
}

static void expires_on_formats(void **state)
{
	(void)state;
	assert_int_equal(az_parse_expires_on("1714000000"), 1714000000);
	/* old App Service: "MM/DD/YYYY hh:mm:ss PM +00:00" */
	assert_int_equal(az_parse_expires_on("05/01/2024 02:03:04 PM +00:00"),
			 1714572184);
	assert_int_equal(az_parse_expires_on("05/01/2024 12:03:04 AM +00:00"),
			 1714521784);
	assert_int_equal(az_parse_expires_on("soon"), 0);
	assert_int_equal(az_parse_expires_on(""), 0);
}

static const char *const vars[] = {
	"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
	"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
	"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_TOKEN_CREDENTIALS",
	"AZURE_USERNAME", NULL
};

/* Nothing configured, no IMDS, no az: one report naming every credential
 * with what it said and how to fix it. */
static void all_unavailable(void **state)
{
	struct http_client *h = http_client_new("test", 2000);
	struct az_auth *a;
	const char *tok;
	int i;

	(void)state;
	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9", 1);
	setenv("PATH", "/nonexistent", 1);
	setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555", 1);
	a = az_auth_new(h, NULL);
	assert_non_null(a);
	assert_int_equal(az_auth_token(a, "https://vault.azure.net/.default",
				       &tok), -1);
	assert_non_null(strstr(err_msg(), "env "));
	assert_non_null(strstr(err_msg(), "AZURE_CLIENT_SECRET not set"));
	assert_non_null(strstr(err_msg(), "certificate "));
	assert_non_null(strstr(err_msg(), "AZURE_CLIENT_CERTIFICATE_PATH"));
	assert_non_null(strstr(err_msg(), "workload-identity "));
	assert_non_null(strstr(err_msg(), "AZURE_FEDERATED_TOKEN_FILE"));
	assert_non_null(strstr(err_msg(), "managed-identity "));
	assert_non_null(strstr(err_msg(), "127.0.0.1:9"));
	assert_non_null(strstr(err_msg(), "azure-cli "));
	assert_non_null(strstr(err_msg(), "az is not on PATH"));
	assert_non_null(strstr(err_remedy(), "az login"));
	assert_non_null(strstr(err_remedy(), "azure.workload.identity/use"));
	assert_non_null(strstr(err_remedy(), "AZURE_CLIENT_SECRET"));
	assert_null(az_auth_used(a));
	az_auth_free(a);
	/* AZURE_TOKEN_CREDENTIALS=dev leaves only the CLI */
	setenv("AZURE_TOKEN_CREDENTIALS", "dev", 1);
	a = az_auth_new(h, NULL);
	assert_int_equal(az_auth_token(a, "https://vault.azure.net/.default",
				       &tok), -1);
	assert_null(strstr(err_msg(), "env "));
	assert_non_null(strstr(err_msg(), "azure-cli "));
	az_auth_free(a);
	unsetenv("AZURE_TOKEN_CREDENTIALS");
	assert_null(az_auth_new(h, "bogus"));
	http_client_free(h);
}

/* A configured credential that cannot work stops with its own error. */
static void configured_but_broken(void **state)
{
	struct http_client *h = http_client_new("test", 2000);
	struct az_auth *a;
	const char *tok;

	(void)state;
	setenv("AZURE_TENANT_ID", "t", 1);
	setenv("AZURE_CLIENT_ID", "c", 1);
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token", 1);
	a = az_auth_new(h, NULL);
	assert_int_equal(az_auth_token(a, "https://vault.azure.net/.default",
				       &tok), -1);
	assert_non_null(strstr(err_msg(), "AZURE_FEDERATED_TOKEN_FILE "
				"/nonexistent/token"));
	assert_null(strstr(err_msg(), "tried in order"));
	az_auth_free(a);
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	http_client_free(h);
}

static void aadsts(void **state)
{
	const char *body =
		"{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7002"
		"13: No matching federated identity record found for presented "
		"assertion subject 'x'. Trace ID: abc Correlation ID: def "
		"Timestamp: now\",\"error_codes\":[700213],\"trace_id\":\"tr-1\","
		"\"correlation_id\":\"co-1\"}";
	cJSON *claims = cJSON_Parse("{\"iss\":\"https://issuer/\",\"sub\":"
				    "\"system:serviceaccount:a:b\",\"aud\":"
				    "[\"api://AzureADTokenExchange\"]}");

	(void)state;
	assert_non_null(strstr(az_aadsts_explain(7000215)->fix, "VALUE"));
	assert_non_null(az_aadsts_explain(123)->meaning);
	assert_int_equal(az_entra_error("wi", 400, body, claims), -1);
	assert_non_null(strstr(err_msg(), "subject"));
	assert_non_null(strstr(err_msg(), "issuer 'https://issuer/'"));
	assert_non_null(strstr(err_msg(), "subject 'system:serviceaccount:a:b'"));
	assert_non_null(strstr(err_msg(), "tr-1"));
	assert_null(strstr(err_msg(), "Timestamp"));
	assert_non_null(strstr(err_remedy(), "federated-credential create"));
	cJSON_Delete(claims);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(cli_output),
		cmocka_unit_test(expires_on_formats),
		cmocka_unit_test(all_unavailable),
		cmocka_unit_test(configured_but_broken),
		cmocka_unit_test(aadsts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
