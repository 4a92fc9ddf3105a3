/* test_sops_mac.c - the additional data of every position and the MAC,
 * pinned on small trees checked by hand (digests computed independently
 * with Python's hashlib). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sops/cipher.h"
#include "sops/engine.h"
#include "sops/store.h"
#include "util/err.h"

static const char TREE[] =
	"# top comment\n"
	"a: x\n"
	"b:\n"
	"  # inside b\n"
	"  c: y\n"
	"  d: [p, q]\n"
	"e:\n"
	"  - f: 1\n"
	"    g: true\n"
	"n: ~\n"
	"empty: \"\"\n"
	"h_unencrypted: z\n";

/* sha512("x" "y" "p" "q" "1" "True" "z"), upper-case hex */
#define MAC_ALL "863C8D2FCA4919421AB53C7423B7FF4408BA1004D1B1BF4D2FE74B63C0" \
	"82E1CA2E55949D08A8DA5FE8AD6029D80DECB06EF0179B6FDBDD006B251A772C00D7ED"
/* sha512(sha256("sops") "x" "y" "p" "q" "1" "True") */
#define MAC_ONLY "4A1BD4F436F6D957A51EE28DBB0C7C2F00A750225241A40A4550DD2CDE" \
	"0FDC9C9F0407D816162E60334E1AAE3A3C3029F8B7E8A5DE83B51629173FACE9F0F06E"

static const unsigned char KEY[32] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };

static struct sops_node *root(struct sops_docs *d)
{
	assert_int_equal(sops_yaml_parse(TREE, strlen(TREE), d), 0);
	assert_int_equal(d->n, 1);
	return d->doc[0];
}

/* The ENC text at v opens with exactly this AAD and gives pt / tag. */
static void opens(const struct sops_node *v, const char *aad, const char *pt,
		  const char *tag)
{
	struct buf out;
	char type[16];

	buf_init_secret(&out);
	assert_non_null(v);
	assert_true(sops_is_enc(v->text, v->len));
	assert_int_equal(sops_aes_decrypt(KEY, v->text, v->len, aad,
					  strlen(aad), &out, type), 0);
	assert_string_equal(out.data, pt);
	assert_string_equal(type, tag);
	/* a neighbouring path must not open it */
	assert_int_equal(sops_aes_decrypt(KEY, v->text, v->len, "zz:", 3, &out,
					  type), -1);
	buf_free(&out);
}

static void aad_of_every_position(void **state)
{
	struct sops_docs d;
	struct sops_node *r = root(&d), *b, *dl, *e0;
	char mac[SOPS_MAC_HEX_LEN + 1];

	(void)state;
	assert_int_equal(sops_walk_encrypt(&d, &(struct sops_rule){ 0 }, false,
					   KEY, mac), 0);
	assert_string_equal(mac, MAC_ALL);
	opens(r->items[0].val, ":", " top comment", "comment");
	opens(sops_map_get(r, "a", NULL), "a:", "x", "str");
	b = sops_map_get(r, "b", NULL);
	opens(b->items[0].val, "b:", " inside b", "comment");
	opens(sops_map_get(b, "c", NULL), "b:c:", "y", "str");
	dl = sops_map_get(b, "d", NULL);
	opens(dl->items[0].val, "b:d:", "p", "str");
	opens(dl->items[1].val, "b:d:", "q", "str");
	e0 = sops_map_get(r, "e", NULL)->items[0].val;
	opens(sops_map_get(e0, "f", NULL), "e:f:", "1", "int");
	opens(sops_map_get(e0, "g", NULL), "e:g:", "True", "bool");
	assert_int_equal(sops_map_get(r, "n", NULL)->type, SOPS_NULL);
	assert_string_equal(sops_map_get(r, "empty", NULL)->text, "");
	assert_string_equal(sops_map_get(r, "h_unencrypted", NULL)->text, "z");
	/* and back: same MAC from the decrypted values */
	assert_int_equal(sops_walk_decrypt(&d, &(struct sops_rule){ 0 }, false,
					   KEY, mac), 0);
	assert_string_equal(mac, MAC_ALL);
	assert_string_equal(sops_map_get(b, "c", NULL)->text, "y");
	assert_int_equal(sops_map_get(e0, "f", NULL)->type, SOPS_INT);
	sops_docs_free(&d);
}

static void mac_only_encrypted(void **state)
{
	struct sops_docs d;
	char mac[SOPS_MAC_HEX_LEN + 1];

	(void)state;
	root(&d);
	assert_int_equal(sops_walk_encrypt(&d, &(struct sops_rule){ 0 }, true,
					   KEY, mac), 0);
	assert_string_equal(mac, MAC_ONLY);
	sops_docs_free(&d);
}

static void encrypted_regex_scope(void **state)
{
	struct sops_docs d;
	struct sops_node *r = root(&d), *b;
	struct sops_rule rule = { 0 };
	char mac[SOPS_MAC_HEX_LEN + 1];

	(void)state;
	assert_int_equal(sops_rule_set(&rule, SOPS_RULE_ENCRYPTED_REGEX, "^b$"),
			 0);
	assert_int_equal(sops_walk_encrypt(&d, &rule, false, KEY, mac), 0);
	assert_string_equal(mac, MAC_ALL);	/* clear values are hashed too */
	assert_string_equal(sops_map_get(r, "a", NULL)->text, "x");
	assert_string_equal(r->items[0].val->text, " top comment");
	b = sops_map_get(r, "b", NULL);
	opens(b->items[0].val, "b:", " inside b", "comment");
	opens(sops_map_get(b, "c", NULL), "b:c:", "y", "str");
	sops_rule_free(&rule);
	sops_docs_free(&d);
}

static void mac_seal_and_check(void **state)
{
	struct sops_metadata md;

	(void)state;
	memset(&md, 0, sizeof(md));
	md.lastmodified = strdup("2024-11-12T13:33:42Z");
	assert_int_equal(sops_mac_seal(&md, KEY, MAC_ALL), 0);
	opens(&(struct sops_node){ .text = md.mac, .len = strlen(md.mac) },
	      "2024-11-12T13:33:42Z", MAC_ALL, "str");
	assert_int_equal(sops_mac_check(&md, KEY, MAC_ALL), 0);
	assert_int_equal(sops_mac_check(&md, KEY, MAC_ONLY), -1);
	assert_int_equal(err_code(), EXIT_MAC);
	/* +00:00 is normalized to Z before use as additional data */
	free(md.lastmodified);
	md.lastmodified = strdup("2024-11-12T13:33:42.5+00:00");
	assert_int_equal(sops_mac_check(&md, KEY, MAC_ALL), 0);
	free(md.lastmodified);
	md.lastmodified = strdup("2024-11-12T13:33:43Z");
	assert_int_equal(sops_mac_check(&md, KEY, MAC_ALL), -1);
	assert_non_null(strstr(err_msg(), "Cannot decrypt MAC"));
	free(md.mac);
	md.mac = NULL;
	assert_int_equal(sops_mac_check(&md, KEY, MAC_ALL), -1);
	assert_non_null(strstr(err_msg(), "File has no MAC"));
	sops_metadata_free(&md);
}

static void comment_rules(void **state)
{
	static const char src[] =
		"a: 1\n"
		"# sops:enc\n"
		"# second\n"
		"b: 2\n"
		"c: 3\n";
	struct sops_docs d;
	struct sops_rule rule = { 0 };
	struct sops_node *r;
	char mac[SOPS_MAC_HEX_LEN + 1];

	(void)state;
	assert_int_equal(sops_yaml_parse(src, strlen(src), &d), 0);
	r = d.doc[0];
	assert_int_equal(sops_rule_set(&rule, SOPS_RULE_ENCRYPTED_COMMENT_REGEX,
				       "sops:enc"), 0);
	assert_int_equal(sops_walk_encrypt(&d, &rule, false, KEY, mac), 0);
	assert_string_equal(sops_map_get(r, "a", NULL)->text, "1");
	assert_string_equal(r->items[1].val->text, " sops:enc");
	opens(r->items[2].val, ":", " second", "comment");
	opens(sops_map_get(r, "b", NULL), "b:", "2", "int");
	assert_string_equal(sops_map_get(r, "c", NULL)->text, "3");
	sops_rule_free(&rule);
	sops_docs_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aad_of_every_position),
		cmocka_unit_test(mac_only_encrypted),
		cmocka_unit_test(encrypted_regex_scope),
		cmocka_unit_test(mac_seal_and_check),
		cmocka_unit_test(comment_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
