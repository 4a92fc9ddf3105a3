/* test_sops_property.c - thousands of random trees (nested maps and lists,
 * unicode, every scalar type, empty strings, comments) survive
 * YAML/JSON write -> encrypt -> decrypt -> read unchanged.  Fixed seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sops/age.h"
#include "sops/cipher.h"
#include "sops/engine.h"
#include "util/err.h"

#define IDENTITY "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM"
#define RECIPIENT "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"

static uint64_t rng = 0x5eed5eed12345678ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void put_cp(struct buf *b, uint32_t cp)
{
	char o[4];

	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 3);
	} else {
		o[0] = (char)(0xF0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 4);
	}
}

/* Random text: ASCII (with YAML-significant characters), controls,
 * newlines, and code points from every UTF-8 length. */
static void rand_text(struct buf *b, bool oneline)
{
	static const char *const words[] = {
		"true", "null", "~", "123", "0x1F", "1e3", "- x", "a: b", " #",
		"'", "\"", "\\", "{", "[", "&a", "*a", "!t", "|", ">", "%", "@",
		"2024-01-01", ".inf", "ENC[", "---", "yes", ":", "\t", "  "
	};
	uint32_t n = rnd(12), i;

	buf_reset(b);
	for (i = 0; i < n; i++) {
		switch (rnd(8)) {
		case 0: buf_puts(b, words[rnd(sizeof(words) / sizeof(*words))]);
			break;
		case 1: put_cp(b, oneline ? 0xA0 + rnd(0x700) : 0x80 + rnd(0x780));
			break;
		case 2: {
			uint32_t cp = 0x800 + rnd(0xD000 - 0x800);

			/* comments cannot hold YAML line breaks */
			if (oneline && (cp == 0x2028 || cp == 0x2029))
				cp = 0x2030;
			put_cp(b, cp);
			break;
		}
		case 3: put_cp(b, 0x10000 + rnd(0x10000)); break;
		case 4: if (!oneline) buf_putc(b, '\n'); break;
		case 5: put_cp(b, 1 + rnd(31)); break;
		default: put_cp(b, 0x20 + rnd(0x5f)); break;
		}
	}
	if (oneline) {	/* a comment is one line without controls */
		size_t k;

		for (k = 0; k < b->len; k++)
			if ((unsigned char)b->data[k] < 0x20 && b->data[k] != '\t')
				b->data[k] = '_';
	}
}

static struct sops_node *rand_scalar(struct buf *t, bool json)
{
	char tmp[512];

	switch (rnd(json ? 5 : 7)) {
	case 0:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)(rng >> rnd(64)) *
			 (rnd(2) ? 1 : -1));
		return sops_scalar_new(SOPS_INT, tmp, strlen(tmp));
	case 1:
		/* JSON has one number type: an integral float reads back as
		 * an int (sops 3.13.2 does the same), so give it a fraction */
		sops_format_float(json ? (double)(int32_t)rng + 0.25 :
				  (double)(int64_t)rng / (1 << rnd(30)) *
				  (rnd(4) ? 1.0 : 1e-9), tmp, sizeof(tmp));
		return sops_scalar_new(SOPS_FLOAT, tmp, strlen(tmp));
	case 2:
		return rnd(2) ? sops_scalar_new(SOPS_BOOL, "True", 4) :
				sops_scalar_new(SOPS_BOOL, "False", 5);
	case 3:
		return sops_scalar_new(SOPS_NULL, "", 0);
	case 5:
		snprintf(tmp, sizeof(tmp), "20%02u-%02u-%02uT%02u:%02u:%02u%s",
			 rnd(100), 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60),
			 rnd(60), rnd(2) ? "Z" : ".5+02:00");
		return sops_scalar_new(SOPS_TIME, tmp, strlen(tmp));
	default:
		if (rnd(5) == 0)
			return sops_scalar_new(SOPS_STR, "", 0);
		rand_text(t, false);
		return sops_scalar_new(SOPS_STR, t->data, t->len);
	}
}

static struct sops_node *rand_node(struct buf *t, int depth, bool json);

static void add_comment(struct sops_node *c, struct buf *t)
{
	rand_text(t, true);
	sops_append(c, NULL, 0, sops_comment_new(t->data, t->len, false));
}

static struct sops_node *rand_container(struct buf *t, int depth, bool json,
					enum sops_kind kind)
{
	struct sops_node *c = sops_node_new(kind);
	uint32_t n = 1 + rnd(5), i;
	char key[64];

	for (i = 0; i < n; i++) {
		if (!json && rnd(4) == 0)
			add_comment(c, t);
		if (kind == SOPS_MAP) {
			rand_text(t, true);
			snprintf(key, sizeof(key), "%u%.40s", i, t->data);
			sops_append(c, key, strlen(key),
				    rand_node(t, depth + 1, json));
		} else {
			sops_append(c, NULL, 0, rand_node(t, depth + 1, json));
		}
	}
	if (!json && rnd(5) == 0)
		add_comment(c, t);
	return c;
}

static struct sops_node *rand_node(struct buf *t, int depth, bool json)
{
	uint32_t r = rnd(10);

	if (depth < 4 && r < 2)
		return rand_container(t, depth, json, SOPS_MAP);
	if (depth < 4 && r < 4)
		return rand_container(t, depth, json, SOPS_SEQ);
	return rand_scalar(t, json);
}

/* Prints where two trees first differ (for failure messages). */
static bool explain(const struct sops_node *a, const struct sops_node *b,
		    int depth)
{
	size_t i;

	if (a->kind != b->kind || a->n != b->n ||
	    (a->kind == SOPS_SCALAR && a->type != b->type) ||
	    ((a->kind == SOPS_SCALAR || a->kind == SOPS_COMMENT) &&
	     (a->len != b->len || memcmp(a->text, b->text, a->len)))) {
		print_message("depth %d: kind %d/%d n %zu/%zu type %d/%d "
			      "text [%s]/[%s]\n", depth, a->kind, b->kind, a->n,
			      b->n, a->type, b->type, a->text ? a->text : "",
			      b->text ? b->text : "");
		return true;
	}
	for (i = 0; i < a->n; i++) {
		if (a->items[i].key && b->items[i].key &&
		    (a->items[i].key_len != b->items[i].key_len ||
		     memcmp(a->items[i].key, b->items[i].key,
			    a->items[i].key_len))) {
			print_message("depth %d: key [%s]/[%s]\n", depth,
				      a->items[i].key, b->items[i].key);
			return true;
		}
		if (explain(a->items[i].val, b->items[i].val, depth + 1))
			return true;
	}
	return false;
}

static int round_trip(const struct sops_docs *docs, enum sops_format f,
		      bool mac_only)
{
	struct sops_metadata keys;
	struct sops_encrypt_opts eo = { f, f, NULL, 0, NULL, mac_only, &keys };
	struct sops_decrypt_opts dopt = { f, f, NULL, 0, false };
	struct buf plain = BUF_INIT, enc = BUF_INIT, dec = BUF_INIT;
	struct sops_docs back, again;
	size_t i;

	memset(&keys, 0, sizeof(keys));
	sops_metadata_add_group(&keys);
	sops_entry_set(sops_group_add(&keys.groups[0], "age"), "recipient",
		       RECIPIENT);
	assert_int_equal(sops_store_emit(f, docs, 0, &plain), 0);
	if (sops_store_parse(f, plain.data, plain.len, &back) < 0)
		fail_msg("re-read failed: %s\n%s", err_msg(), plain.data);
	for (i = 0; i < docs->n; i++)
		if (!sops_node_equal(docs->doc[i], back.doc[i]) &&
		    explain(docs->doc[i], back.doc[i], 0))
			fail_msg("store round trip differs:\n%s", plain.data);
	if (sops_encrypt(plain.data, plain.len, &eo, &enc) < 0)
		fail_msg("encrypt: %s\n%s", err_msg(), plain.data);
	if (sops_decrypt(enc.data, enc.len, &dopt, &dec) < 0)
		fail_msg("decrypt: %s\n%s", err_msg(), enc.data);
	assert_int_equal(sops_store_parse(f, dec.data, dec.len, &again), 0);
	assert_int_equal(again.n, docs->n);
	for (i = 0; i < docs->n; i++)
		if (!sops_node_equal(docs->doc[i], again.doc[i]) &&
		    explain(docs->doc[i], again.doc[i], 0))
			fail_msg("encrypt/decrypt differs:\n%s\n---\n%s",
				 plain.data, dec.data);
	sops_docs_free(&back);
	sops_docs_free(&again);
	sops_metadata_free(&keys);
	buf_free(&plain);
	buf_free(&enc);
	buf_free(&dec);
	return 0;
}

static void random_trees(void **state)
{
	struct buf t = BUF_INIT;
	/* under valgrind (make valgrind sets VALGRIND=1) a tenth is enough */
	int i, n = getenv("VALGRIND") ? 200 : 2000;

	(void)state;
	sops_age_clear_identities();
	assert_int_equal(sops_age_add_identities(IDENTITY, strlen(IDENTITY)), 0);
	for (i = 0; i < n; i++) {
		bool json = i % 4 == 3;
		struct sops_docs docs = { 0 };
		uint32_t nd = json ? 1 : 1 + rnd(2), k;

		for (k = 0; k < nd; k++)
			sops_docs_push(&docs, rand_container(&t, 0, json,
							     SOPS_MAP));
		round_trip(&docs, json ? SOPS_FMT_JSON : SOPS_FMT_YAML,
			   i % 7 == 0);
		sops_docs_free(&docs);
	}
	buf_free(&t);
	sops_age_clear_identities();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
