/* test_sops_keys.c - age keys and files, Shamir sharing, key groups, the
 * master-key interface and entries of key types we cannot use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sops/age.h"
#include "sops/bech32.h"
#include "sops/engine.h"
#include "sops/keys.h"
#include "sops/shamir.h"
#include "util/err.h"

/* shared/vectors/sops-real/age.key and age-global.key */
#define ID1 "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM"
#define R1 "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"
#define ID2 "AGE-SECRET-KEY-10U7MAELH09KZU63F65P2TYLN7TQM5X6GSDDCQ4YMUGDS3DS6XZMSTYY2PN"
#define R2 "age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph"

static void ids(const char *a, const char *b)
{
	sops_age_clear_identities();
	if (a)
		assert_int_equal(sops_age_add_identities(a, strlen(a)), 0);
	if (b)
		assert_int_equal(sops_age_add_identities(b, strlen(b)), 0);
}

static void recipients_from_identities(void **state)
{
	char r[128], hrp[16];
	unsigned char pk[32], data[40];
	size_t n;

	(void)state;
	assert_int_equal(sops_age_identity_recipient(ID1, r, sizeof(r)), 0);
	assert_string_equal(r, R1);
	assert_int_equal(sops_age_identity_recipient(ID2, r, sizeof(r)), 0);
	assert_string_equal(r, R2);
	assert_int_equal(sops_age_parse_recipient(R1, pk), 0);
	assert_int_equal(bech32_encode("age", pk, 32, r, sizeof(r)), 0);
	assert_string_equal(r, R1);
	/* one changed character breaks the checksum; mixed case is refused */
	r[10] = r[10] == 'q' ? 'p' : 'q';
	assert_int_equal(bech32_decode(r, hrp, sizeof(hrp), data, 40, &n), -1);
	assert_int_equal(bech32_decode("aGe1l44xcng8dqj32nlv6d930qvvrny05hglzcv9"
				       "qpc7kxjc6902ma4qufys29", hrp, sizeof(hrp),
				       data, 40, &n), -1);
	assert_int_equal(sops_age_parse_recipient("age1xyz", pk), -1);
}

static void age_file_round_trip(void **state)
{
	struct buf f = BUF_INIT, pt;
	unsigned char key[33];

	(void)state;
	memset(key, 0xAB, sizeof(key));
	buf_init_secret(&pt);
	assert_int_equal(sops_age_encrypt(R1, key, sizeof(key), &f), 0);
	assert_memory_equal(f.data, "-----BEGIN AGE ENCRYPTED FILE-----\n", 35);
	assert_string_equal(f.data + f.len - 33,
			    "-----END AGE ENCRYPTED FILE-----\n");
	ids(ID2, NULL);
	assert_int_equal(sops_age_decrypt(f.data, f.len, &pt), -1);
	assert_int_equal(err_code(), EXIT_NO_KEY);
	ids(ID2, ID1);
	assert_int_equal(sops_age_decrypt(f.data, f.len, &pt), 0);
	assert_int_equal(pt.len, 33);
	assert_memory_equal(pt.data, key, 33);
	/* a flipped payload byte fails to authenticate */
	buf_reset(&pt);
	f.data[f.len - 40] ^= 1;
	assert_int_equal(sops_age_decrypt(f.data, f.len, &pt), -1);
	buf_free(&f);
	buf_free(&pt);
	sops_age_clear_identities();
}

static void shamir_split_combine(void **state)
{
	unsigned char secret[32], mem[5][33], *sh[5], out[32], *pick[3];
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		secret[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i < 5; i++)
		sh[i] = mem[i];
	assert_int_equal(shamir_split(secret, 32, 5, 3, sh), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(mem[i][32], i + 1);
	pick[0] = sh[4];
	pick[1] = sh[0];
	pick[2] = sh[2];
	assert_int_equal(shamir_combine(pick, 3, 33, out), 0);
	assert_memory_equal(out, secret, 32);
	/* two of a threshold of three give something else */
	assert_int_equal(shamir_combine(pick, 2, 33, out), 0);
	assert_memory_not_equal(out, secret, 32);
	assert_int_equal(shamir_split(secret, 32, 2, 3, sh), -1);
}

static struct sops_metadata two_groups(int threshold)
{
	struct sops_metadata md;

	memset(&md, 0, sizeof(md));
	sops_metadata_add_group(&md);
	sops_metadata_add_group(&md);
	sops_entry_set(sops_group_add(&md.groups[0], "age"), "recipient", R1);
	sops_entry_set(sops_group_add(&md.groups[1], "age"), "recipient", R2);
	md.shamir_threshold = threshold;
	return md;
}

static int enc_dec(const struct sops_metadata *keys, struct buf *enc)
{
	static const char src[] = "a: 1\nb: two\n";
	struct sops_encrypt_opts eo = { SOPS_FMT_YAML, SOPS_FMT_YAML, NULL, 0,
					NULL, false, keys };
	struct sops_decrypt_opts d = { SOPS_FMT_YAML, SOPS_FMT_YAML, NULL, 0,
				       false };
	struct buf out = BUF_INIT;
	int rc;

	buf_reset(enc);
	assert_int_equal(sops_encrypt(src, strlen(src), &eo, enc), 0);
	rc = sops_decrypt(enc->data, enc->len, &d, &out);
	if (rc == 0)
		assert_string_equal(out.data, src);
	buf_free(&out);
	return rc;
}

static void key_groups_and_threshold(void **state)
{
	struct sops_metadata k = two_groups(0);
	struct buf enc = BUF_INIT;

	(void)state;
	ids(ID1, ID2);
	assert_int_equal(enc_dec(&k, &enc), 0);
	assert_non_null(strstr(enc.data, "    key_groups:\n"));
	assert_non_null(strstr(enc.data, "    shamir_threshold: 2\n"));
	/* threshold 2 of 2: one identity is not enough */
	ids(ID1, NULL);
	{
		struct sops_decrypt_opts d = { SOPS_FMT_YAML, SOPS_FMT_YAML,
					       NULL, 0, false };
		struct buf out = BUF_INIT;

		assert_int_equal(sops_decrypt(enc.data, enc.len, &d, &out), -1);
		assert_int_equal(err_code(), EXIT_NO_KEY);
		assert_non_null(strstr(err_msg(), "threshold of 2"));
		buf_free(&out);
	}
	sops_metadata_free(&k);
	/* threshold 1 is invalid for Shamir; two groups with threshold 2
	 * given explicitly work with both identities */
	k = two_groups(2);
	ids(ID2, ID1);
	assert_int_equal(enc_dec(&k, &enc), 0);
	sops_metadata_free(&k);
	buf_free(&enc);
	sops_age_clear_identities();
}

/* A file whose metadata names only a PGP key: the error names the type.
 * An azure_kv entry next to an age one: the file opens with age, and the
 * azure_kv entry survives a metadata round trip field for field. */
static void foreign_key_types(void **state)
{
	static const char pgp_only[] =
		"a: ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBV"
		"eZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]\n"
		"sops:\n    pgp:\n        - created_at: \"2020-01-01T00:00:00Z\"\n"
		"          enc: x\n          fp: ABCD\n"
		"    lastmodified: \"2020-01-01T00:00:00Z\"\n    version: 3.7.0\n";
	static const char azure[] =
		"sops:\n    azure_kv:\n        - vault_url: https://v.vault.azure.net\n"
		"          name: k\n          version: 0123\n"
		"          created_at: \"2024-11-12T13:33:40Z\"\n          enc: abc_-\n"
		"    lastmodified: \"2020-01-01T00:00:00Z\"\n";
	struct sops_decrypt_opts d = { SOPS_FMT_YAML, SOPS_FMT_YAML, NULL, 0,
				       false };
	struct sops_docs docs;
	struct sops_metadata md;
	struct sops_node *n;
	struct buf out = BUF_INIT;

	(void)state;
	ids(ID1, NULL);
	assert_int_equal(sops_decrypt(pgp_only, strlen(pgp_only), &d, &out), -1);
	assert_int_equal(err_code(), EXIT_NO_KEY);
	assert_non_null(strstr(err_msg(), "key type 'pgp' is not supported"));
	assert_int_equal(sops_yaml_parse(azure, strlen(azure), &docs), 0);
	assert_int_equal(sops_metadata_extract(&docs, SOPS_FMT_YAML, &md), 1);
	assert_int_equal(md.groups[0].n, 1);
	assert_string_equal(sops_entry_get(&md.groups[0].keys[0], "version"),
			    "0123");
	n = sops_metadata_to_node(&md);
	assert_true(sops_node_equal(sops_map_get(n, "azure_kv", NULL)->items[0].val,
		md.groups[0].keys[0].fields) == false); /* sorted, not equal order */
	assert_string_equal(sops_map_get(sops_map_get(n, "azure_kv", NULL)
		->items[0].val, "enc", NULL)->text, "abc_-");
	assert_string_equal(sops_map_get(n, "azure_kv", NULL)->items[0].val
		->items[0].key, "created_at");
	sops_node_free(n);
	sops_metadata_free(&md);
	sops_docs_free(&docs);
	buf_free(&out);
	sops_age_clear_identities();
}

/* The batch interface: many files, one call per key type. */
static int calls, batch_size;

static int fake_unwrap(struct sops_key_req *reqs, size_t n)
{
	size_t i;

	calls++;
	batch_size = (int)n;
	for (i = 0; i < n; i++) {
		memset(reqs[i].secret, (int)i + 1, 32);
		reqs[i].secret_len = 32;
		reqs[i].status = 0;
	}
	return 0;
}

static const struct sops_keytype fake = { "gcp_kms", NULL, fake_unwrap, NULL };

static void batched_unwrap(void **state)
{
	struct sops_metadata m[3], *p[3];
	unsigned char keys[3][32];
	int st[3], i;
	struct err_record errs[3];

	(void)state;
	assert_int_equal(sops_keytype_register(&fake), 0);
	for (i = 0; i < 3; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		sops_metadata_add_group(&m[i]);
		sops_entry_set(sops_group_add(&m[i].groups[0], "gcp_kms"),
			       "resource_id", "projects/x");
		p[i] = &m[i];
	}
	assert_int_equal(sops_data_keys_recover(p, 3, keys, st, errs), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(batch_size, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(st[i], 0);
		assert_int_equal(keys[i][0], i + 1);
		sops_metadata_free(&m[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recipients_from_identities),
		cmocka_unit_test(age_file_round_trip),
		cmocka_unit_test(shamir_split_combine),
		cmocka_unit_test(key_groups_and_threshold),
		cmocka_unit_test(foreign_key_types),
		cmocka_unit_test(batched_unwrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
