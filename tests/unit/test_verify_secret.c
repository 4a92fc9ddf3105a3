/*
 * test_verify_secret.c - `kubectl sopsverify secret`: values are masked
 * unless asked for, shown escaped when asked for, and a value that still
 * holds sops text is flagged.  No cluster needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/sopsverify/cluster.c"
#include "../../plugins/sopsverify/cmd_secret.c"
#include "../../plugins/sopsverify/flux.c"
#include "../../plugins/sopsverify/manifest.c"
#include "../../plugins/sopsverify/verdict.c"

/* A live Secret: k1 = "line1\nline2\t\\", k2 = ENC text, k3 = 0xff 0x00. */
static cJSON *live_secret(void)
{
	return cJSON_Parse(
		"{\"metadata\":{\"name\":\"s\"},\"data\":{"
		"\"k1\":\"bGluZTEKbGluZTIJXA==\","
		"\"k2\":\"RU5DW0FFUzI1Nl9HQ00sZGF0YTp4LGl2OnksdGFnOnosdHlwZTpzdHJd\","
		"\"k3\":\"/wA=\"}}");
}

static void escaping(void **state)
{
	struct buf v = BUF_INIT, out = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append(&v, "a\nb\t\\\xff", 6), 0);
	assert_int_equal(escape_value(&v, &out), 0);
	assert_string_equal(out.data, "a\\nb\\x09\\\\\\xff");
	buf_free(&v);
	buf_free(&out);
}

static void json_rows(void **state)
{
	struct view w;
	cJSON *keys = cJSON_CreateArray();
	char *text;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.secret = live_secret();
	assert_non_null(w.secret);
	/* masked: sizes and flags only */
	assert_int_equal(rows(&w, NULL, keys), 0);
	assert_int_equal(w.nencrypted, 1);
	text = cJSON_PrintUnformatted(keys);
	assert_string_equal(text,
		"[{\"key\":\"k1\",\"size\":13,\"sopsEncrypted\":false},"
		"{\"key\":\"k2\",\"size\":42,\"sopsEncrypted\":true},"
		"{\"key\":\"k3\",\"size\":2,\"sopsEncrypted\":false}]");
	free(text);
	cJSON_Delete(keys);
	/* --show-values: escaped values */
	keys = cJSON_CreateArray();
	w.show = true;
	w.nencrypted = 0;
	assert_int_equal(rows(&w, NULL, keys), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(keys, 0), "value")), "line1\\nline2\\x09\\\\");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(keys, 2), "value")), "\\xff\\x00");
	cJSON_Delete(keys);
	vs_json_wipe_delete(w.secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping),
		cmocka_unit_test(json_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
