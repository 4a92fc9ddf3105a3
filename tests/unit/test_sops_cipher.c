/* test_sops_cipher.c - the value cipher, its text form and the canonical
 * plaintext encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sops/cipher.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/err.h"

/* getsops/sops aes/cipher_test.go: key 32 x 'f', AAD "bar:" -> "foo". */
#define SOPS_VECTOR "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1a" \
	"CGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]"

static void upstream_vector(void **state)
{
	unsigned char key[32];
	struct buf pt;
	char type[16];

	(void)state;
	memset(key, 'f', sizeof(key));
	buf_init_secret(&pt);
	assert_int_equal(sops_aes_decrypt(key, SOPS_VECTOR, strlen(SOPS_VECTOR),
					  "bar:", 4, &pt, type), 0);
	assert_string_equal(pt.data, "foo");
	assert_string_equal(type, "str");
	assert_int_equal(sops_aes_decrypt(key, SOPS_VECTOR, strlen(SOPS_VECTOR),
					  "", 0, &pt, type), -1);
	assert_int_equal(err_code(), EXIT_MAC);
	buf_free(&pt);
}

static void round_trip_fixed_iv(void **state)
{
	unsigned char key[32], iv[32];
	struct buf enc = BUF_INIT, pt;
	char type[16];

	(void)state;
	memset(key, 1, sizeof(key));
	memset(iv, 2, sizeof(iv));
	buf_init_secret(&pt);
	assert_int_equal(sops_aes_encrypt(key, "hello", 5, "a:b:", 4, "int", iv,
					  &enc), 0);
	/* 32-byte IV = 44 base64 chars; 16-byte tag = 24 chars */
	assert_non_null(strstr(enc.data, ",iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,"));
	assert_true(sops_is_enc(enc.data, enc.len));
	assert_non_null(strstr(enc.data, ",type:int]"));
	assert_int_equal(sops_aes_decrypt(key, enc.data, enc.len, "a:b:", 4,
					  &pt, type), 0);
	assert_string_equal(pt.data, "hello");
	assert_string_equal(type, "int");
	/* another path: authentication fails */
	assert_int_equal(sops_aes_decrypt(key, enc.data, enc.len, "a:c:", 4,
					  &pt, type), -1);
	buf_free(&enc);
	buf_free(&pt);
}

static void bad_format(void **state)
{
	unsigned char key[32] = { 0 };
	struct buf pt;
	char type[16];
	static const char *const bad[] = {
		"ENC[AES256_GCM,data:,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
		"ENC[AES256_GCM,data:oYyi,iv:MyID,type:str]",
		"ENC[AES256_GCM,data:oYy!,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
		"plain text", NULL
	};
	size_t i;

	(void)state;
	buf_init_secret(&pt);
	for (i = 0; bad[i]; i++)
		assert_int_equal(sops_aes_decrypt(key, bad[i], strlen(bad[i]),
						  "", 0, &pt, type), -1);
	buf_free(&pt);
}

static void floats(void **state)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 25.4, "25.4" }, { 0.1, "0.1" }, { 1234568000.0, "1234568000" },
		{ 1e21, "1000000000000000000000" }, { 1e-7, "0.0000001" },
		{ -0.0, "-0" }, { 1.0 / 3, "0.3333333333333333" },
		{ 5e-324, NULL }, { -2.5, "-2.5" }, { 100, "100" }
	};
	char out[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sops_format_float(cases[i].v, out, sizeof(out));
		if (cases[i].s)
			assert_string_equal(out, cases[i].s);
		else
			assert_true(strtod(out, NULL) == cases[i].v);
	}
}

static void typed_decoding(void **state)
{
	struct buf c = BUF_INIT;
	enum sops_type t;

	(void)state;
	assert_int_equal(sops_decode_typed("bool", "true", 4, &t, &c), 0);
	assert_string_equal(c.data, "True");
	assert_int_equal(t, SOPS_BOOL);
	assert_int_equal(sops_decode_typed("bool", "F", 1, &t, &c), 0);
	assert_string_equal(c.data, "False");
	assert_int_equal(sops_decode_typed("int", "-42", 3, &t, &c), 0);
	assert_string_equal(c.data, "-42");
	assert_int_equal(sops_decode_typed("float", "25.40", 5, &t, &c), 0);
	assert_string_equal(c.data, "25.4");
	assert_int_equal(t, SOPS_FLOAT);
	assert_int_equal(sops_decode_typed("int", "x", 1, &t, &c), -1);
	assert_int_equal(sops_decode_typed("nope", "x", 1, &t, &c), -1);
	assert_string_equal(sops_type_tag(SOPS_TIME, false), "time");
	assert_string_equal(sops_type_tag(SOPS_STR, true), "comment");
	buf_free(&c);
}

static void base64_variants(void **state)
{
	unsigned char out[16];
	char enc[32];
	size_t n;

	(void)state;
	b64_encode((const unsigned char *)"\xfb\xff", 2, B64_STD, enc);
	assert_string_equal(enc, "+/8=");
	b64_encode((const unsigned char *)"\xfb\xff", 2, B64_URL_RAW, enc);
	assert_string_equal(enc, "-_8");
	assert_int_equal(b64_decode("+/8=", 4, B64_STD, out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b64_decode("+/9=", 4, B64_STD, out, &n), -1); /* bits */
	assert_int_equal(b64_decode("+/8", 3, B64_STD, out, &n), -1);
	assert_int_equal(b64_decode("-_8", 3, B64_URL_RAW, out, &n), 0);
	assert_int_equal(b64_decode_loose(" +/8=\n", 6, out, &n), 0);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upstream_vector),
		cmocka_unit_test(round_trip_fixed_iv),
		cmocka_unit_test(bad_format),
		cmocka_unit_test(floats),
		cmocka_unit_test(typed_decoding),
		cmocka_unit_test(base64_variants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
