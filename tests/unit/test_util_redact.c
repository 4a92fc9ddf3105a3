/* test_util_redact.c - secrets never reach a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/redact.h"

#define JWT "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"

static void headers(void **state)
{
	(void)state;
	assert_true(redact_header_is_secret("Authorization"));
	assert_true(redact_header_is_secret("authorization"));
	assert_true(redact_header_is_secret("X-IDENTITY-HEADER"));
	assert_false(redact_header_is_secret("Content-Type"));
	assert_false(redact_header_is_secret("WWW-Authenticate"));
}

static void json_members(void **state)
{
	const char *body =
		"{\"access_token\":\"tok-123\",\"expires_in\":3599,"
		"\"kid\":\"https://v/keys/k/1\",\"value\":\"ZGF0YWtleQ\","
		"\"nested\":{\"client_secret\":\"s3cr3t\",\"list\":[{\"token\":"
		"\"t0k\"}]},\"kind\":\"Secret\",\"data\":{\"password\":"
		"\"aHVudGVyMg==\"},\"stringData\":{\"a\":\"plain\"}}";
	char *out = redact_body(body, strlen(body));

	(void)state;
	assert_non_null(out);
	assert_null(strstr(out, "tok-123"));
	assert_null(strstr(out, "ZGF0YWtleQ"));
	assert_null(strstr(out, "s3cr3t"));
	assert_null(strstr(out, "t0k\""));
	assert_null(strstr(out, "aHVudGVyMg"));
	assert_null(strstr(out, "plain"));
	assert_non_null(strstr(out, "\"expires_in\":3599"));
	assert_non_null(strstr(out, "\"kid\":\"https://v/keys/k/1\""));
	assert_non_null(strstr(out, "\"kind\":\"Secret\""));
	assert_non_null(strstr(out, REDACTED));
	free(out);
}

static void form_fields(void **state)
{
	const char *body = "grant_type=client_credentials&client_id=abc&"
			   "client_secret=hunter2&scope=https%3A%2F%2Fvault";
	char *out = redact_body(body, strlen(body));

	(void)state;
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "client_id=abc"));
	assert_non_null(strstr(out, "client_secret=" REDACTED));
	assert_non_null(strstr(out, "scope=https%3A%2F%2Fvault"));
	free(out);
}

static void assertion_in_form(void **state)
{
	const char *body = "client_assertion_type=urn&client_assertion=" JWT;
	char *out = redact_body(body, strlen(body));

	(void)state;
	assert_null(strstr(out, "c2lnbmF0dXJl"));
	free(out);
}

static void opaque_bodies(void **state)
{
	const char *body = "-----BEGIN PRIVATE KEY-----\nMIIE...\n";
	char *out = redact_body(body, strlen(body));

	(void)state;
	assert_null(strstr(out, "PRIVATE"));
	assert_non_null(strstr(out, "bytes not shown"));
	free(out);
}

static void jwt_words(void **state)
{
	char line[256] = "token " JWT " end";
	char glued[128] = "xeyJhbGciOiJ.eyJ.abc";

	(void)state;
	redact_tokens_inplace(line);
	assert_string_equal(line, "token " REDACTED " end");
	redact_tokens_inplace(glued);	/* not a word start: left alone */
	assert_string_equal(glued, "xeyJhbGciOiJ.eyJ.abc");
}

static void jwt_inside_json_string(void **state)
{
	const char *body = "{\"message\":\"bad assertion " JWT "\"}";
	char *out = redact_body(body, strlen(body));

	(void)state;
	assert_null(strstr(out, "c2lnbmF0dXJl"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(headers),
		cmocka_unit_test(json_members),
		cmocka_unit_test(form_fields),
		cmocka_unit_test(assertion_in_form),
		cmocka_unit_test(opaque_bodies),
		cmocka_unit_test(jwt_words),
		cmocka_unit_test(jwt_inside_json_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
