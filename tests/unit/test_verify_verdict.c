/*
 * test_verify_verdict.c - sopsverify: the verdict of a live Secret against
 * a manifest (OK, MISSING, ENCRYPTED, MISMATCH, ERROR), the "looks
 * SOPS-encrypted" test, fingerprints, and that no report (table or JSON)
 * ever carries a value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/sopsverify/flux.c"
#include "../../plugins/sopsverify/manifest.c"
#include "../../plugins/sopsverify/report.c"
#include "../../plugins/sopsverify/verdict.c"

#define ENC "ENC[AES256_GCM,data:Zm9v,iv:AAAA,tag:BBBB,type:str]"
/* planted values: none may appear in any report */
#define V_PASS "hunter2-planted"
#define V_USER "admin-planted"

static void looks_encrypted(void **state)
{
	const char *doc = "{\"data\":\"x\",\"sops\":{\"mac\":\"" ENC "\"}}";

	(void)state;
	assert_true(vs_looks_encrypted(ENC, strlen(ENC)));
	assert_true(vs_looks_encrypted(doc, strlen(doc)));
	assert_true(vs_looks_encrypted("sops_mac=" ENC "\n", 9 + strlen(ENC)
				       + 1));
	assert_false(vs_looks_encrypted("ENC[not sops]", 13));
	assert_false(vs_looks_encrypted(V_PASS, strlen(V_PASS)));
	assert_false(vs_looks_encrypted("", 0));
	/* bytes after a NUL still count: values are binary */
	assert_true(vs_looks_encrypted("\0" ENC, 1 + strlen(ENC)));
}

static void fingerprint(void **state)
{
	char fp[13];

	(void)state;
	/* sha256("abc") = ba7816bf8f01cfea... */
	vs_fingerprint("abc", 3, fp);
	assert_string_equal(fp, "ba7816bf8f01");
	vs_fingerprint("", 0, fp);
	assert_string_equal(fp, "e3b0c44298fc");
}

/* A manifest with keys password and user (stringData), decrypted. */
static void make_secret(struct vs_secret *s, bool decrypted)
{
	memset(s, 0, sizeof(*s));
	s->name = strdup("db");
	s->namespace = strdup("apps");
	s->file = strdup("apps/db.yaml");
	assert_int_equal(key_add(s, "password", true), 0);
	assert_int_equal(key_add(s, "user", true), 0);
	if (decrypted) {
		assert_int_equal(buf_puts(&s->keys[0].plain, V_PASS), 0);
		assert_int_equal(buf_puts(&s->keys[1].plain, V_USER), 0);
		s->keys[0].decrypted = s->keys[1].decrypted = true;
	}
}

static char *enc64(const char *v)
{
	char *b = malloc(b64_encoded_len(strlen(v), B64_STD) + 1);

	assert_non_null(b);
	b64_encode((const unsigned char *)v, strlen(v), B64_STD, b);
	return b;
}

static cJSON *live(const char *pass, const char *user, const char *extra)
{
	char *b;
	cJSON *o = cJSON_CreateObject();
	cJSON *d = cJSON_AddObjectToObject(o, "data");

	if (pass) {
		b = enc64(pass);
		cJSON_AddStringToObject(d, "password", b);
		free(b);
	}
	if (user) {
		b = enc64(user);
		cJSON_AddStringToObject(d, "user", b);
		free(b);
	}
	if (extra)
		cJSON_AddStringToObject(d, extra, "eA==");
	return o;
}

static void free_secret(struct vs_secret *s)
{
	secret_free(s);
}

static void verdicts(void **state)
{
	struct vs_secret s;
	cJSON *l;

	(void)state;
	make_secret(&s, false);
	assert_int_equal(vs_judge(&s, NULL, false, false), 0);
	assert_int_equal(s.verdict, VS_MISSING);
	assert_string_equal(vs_verdict_name(s.verdict), "MISSING");

	l = live(V_PASS, V_USER, NULL);
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_OK);
	cJSON_Delete(l);

	l = live(V_PASS, NULL, NULL);
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_MISMATCH);
	assert_int_equal(s.nmissing, 1);
	assert_string_equal(s.missing_keys[0], "user");
	assert_non_null(strstr(s.detail, "missing live: user"));
	cJSON_Delete(l);

	l = live(V_PASS, V_USER, "added");
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_MISMATCH);
	assert_string_equal(s.extra_keys[0], "added");
	cJSON_Delete(l);

	/* ENCRYPTED wins over everything else */
	l = live(ENC, NULL, "added");
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_ENCRYPTED);
	assert_string_equal(s.encrypted_keys[0], "password");
	cJSON_Delete(l);

	/* a writer other than Flux in managedFields is named */
	l = live(V_PASS, NULL, NULL);
	cJSON_AddItemToObject(l, "metadata", cJSON_Parse(
		"{\"managedFields\":[{\"manager\":\"kustomize-controller\","
		"\"operation\":\"Apply\"},{\"manager\":\"kubectl-edit\","
		"\"operation\":\"Update\",\"time\":\"2026-11-29T10:00:00Z\"}]}"));
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_MISMATCH);
	assert_string_equal(s.edited_by,
			    "kubectl-edit (Update, 2026-11-29T10:00:00Z)");
	assert_non_null(strstr(s.detail, "also written by kubectl-edit"));
	cJSON_Delete(l);

	assert_int_equal(vs_judge_error(&s, "Forbidden: no"), 0);
	assert_int_equal(s.verdict, VS_ERROR);
	assert_string_equal(s.detail, "Forbidden: no");
	free_secret(&s);
}

static void values(void **state)
{
	struct vs_secret s;
	cJSON *l;

	(void)state;
	make_secret(&s, true);
	l = live(V_PASS, V_USER, NULL);
	assert_int_equal(vs_judge(&s, l, true, true), 0);
	assert_int_equal(s.verdict, VS_OK);
	assert_non_null(strstr(s.detail, "values equal"));
	cJSON_Delete(l);

	/* same length, one byte different */
	l = live("hunter3-planted", V_USER, NULL);
	assert_int_equal(vs_judge(&s, l, true, true), 0);
	assert_int_equal(s.verdict, VS_MISMATCH);
	assert_int_equal(s.nnotes, 1);
	assert_string_equal(s.notes[0].key, "password");
	assert_int_equal(strlen(s.notes[0].fp_git), 12);
	assert_string_not_equal(s.notes[0].fp_git, s.notes[0].fp_live);
	assert_non_null(strstr(s.detail, "value differs: password (git "));
	assert_null(strstr(s.detail, "planted"));
	cJSON_Delete(l);

	/* without -v 2: no fingerprints; without --decrypt: not compared */
	l = live("short", V_USER, NULL);
	assert_int_equal(vs_judge(&s, l, true, false), 0);
	assert_int_equal(s.verdict, VS_MISMATCH);
	assert_string_equal(s.notes[0].fp_git, "");
	assert_null(strstr(s.detail, "(git"));
	assert_int_equal(vs_judge(&s, l, false, false), 0);
	assert_int_equal(s.verdict, VS_OK);
	cJSON_Delete(l);
	free_secret(&s);
}

static void reports_carry_no_value(void **state)
{
	struct vs_set set = { 0 };
	struct vs_secret *s;
	cJSON *l = live("hunter3-planted", "nobody-planted", "added");
	cJSON *j;
	char *text, *tbl = NULL;
	size_t tlen = 0;
	FILE *f;

	(void)state;
	s = set_add(&set);
	make_secret(s, true);
	assert_int_equal(vs_judge(s, l, true, true), 0);
	assert_int_equal(s->verdict, VS_MISMATCH);
	s = set_add(&set);
	make_secret(s, true);
	free(s->name);
	s->name = strdup("gone");
	assert_int_equal(vs_judge(s, NULL, true, true), 0);
	s->next_step = strdup("do something");
	assert_false(vs_all_ok(&set));

	j = vs_report_json(&set, NULL, true);
	assert_non_null(j);
	text = cJSON_Print(j);
	assert_null(strstr(text, "planted"));
	assert_non_null(strstr(text, "\"verdict\":\t\"MISMATCH\""));
	assert_non_null(strstr(text, "\"MISSING\":\t1"));
	assert_non_null(strstr(text, "\"key\":\t\"password\""));
	assert_non_null(strstr(text, "\"extraKeys\":\t[\"added\"]"));
	free(text);
	cJSON_Delete(j);

	f = open_memstream(&tbl, &tlen);
	assert_int_equal(vs_report_table(f, &set, NULL, false), 0);
	fclose(f);
	assert_null(strstr(tbl, "planted"));
	assert_non_null(strstr(tbl, "NAMESPACE"));
	assert_non_null(strstr(tbl, "apps/gone: MISSING"));
	assert_non_null(strstr(tbl, "next: do something"));
	assert_non_null(strstr(tbl, "2 Secrets: 1 MISSING, 1 MISMATCH"));
	free(tbl);
	cJSON_Delete(l);
	vs_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(looks_encrypted),
		cmocka_unit_test(fingerprint),
		cmocka_unit_test(verdicts),
		cmocka_unit_test(values),
		cmocka_unit_test(reports_carry_no_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
