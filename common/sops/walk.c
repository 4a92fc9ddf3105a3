/*
 * The tree walk shared by encryption and decryption: the key path (for the
 * additional data and the rule), the active comments (comment rules), and
 * the SHA-512 MAC over the plaintext values in file order.
 */
#include "sops/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sops/cipher.h"
#include "util/err.h"
#include "util/log.h"

/* SHA-256("sops"), the prefix of a mac_only_encrypted MAC. */
static const unsigned char MAC_ONLY_PREFIX[32] = {
	0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34,
	0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f,
	0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69
};

struct walk {
	const struct sops_rule *rule;
	bool mac_only, decrypt;
	const unsigned char *key;
	EVP_MD_CTX *mac;
	struct sops_path path;
	char **owned;			/* copies behind path.comments */
	size_t nowned;
	struct buf enc, pt, canon;
};

static int push_comment(struct walk *w, const char *t, size_t len)
{
	char *c = malloc(len + 1), **o;

	if (!c)
		return err_set(EXIT_FAILED, "out of memory");
	memcpy(c, t, len);
	c[len] = '\0';
	o = realloc(w->owned, (w->nowned + 1) * sizeof(*o));
	if (!o) {
		free(c);
		return err_set(EXIT_FAILED, "out of memory");
	}
	w->owned = o;
	w->owned[w->nowned++] = c;
	return sops_path_push_comment(&w->path, c, len);
}

static void clear_comments(struct walk *w, size_t to)
{
	while (w->nowned > to) {
		char *c = w->owned[--w->nowned];

		explicit_bzero(c, strlen(c));
		free(c);
	}
	w->path.ncomments = to;
}

static int aad(struct walk *w, char **s, size_t *n)
{
	return sops_path_aad(&w->path, s, n);
}

static int mac_add(struct walk *w, const char *t, size_t n)
{
	if (n && EVP_DigestUpdate(w->mac, t, n) != 1)
		return err_set(EXIT_FAILED, "SHA-512 failed");
	return 0;
}

/* ---- encryption ------------------------------------------------------- */

static int seal_node(struct walk *w, struct sops_node *v, const char *tag)
{
	char *a;
	size_t al;
	int rc;

	if (aad(w, &a, &al) < 0)
		return -1;
	buf_reset(&w->enc);
	rc = sops_aes_encrypt(w->key, v->text, v->len, a, al, tag, NULL,
			      &w->enc);
	free(a);
	if (rc < 0)
		return -1;
	v->secret = true;	/* the plaintext it held is wiped when replaced */
	if (sops_node_set_text(v, w->enc.data, w->enc.len, false) < 0)
		return -1;
	v->style = SOPS_STYLE_ANY;
	return 0;
}

static int enc_leaf(struct walk *w, struct sops_node *v)
{
	bool enc = sops_should_encrypt(w->rule, &w->path, false);

	if (v->type == SOPS_NULL)
		return 0;
	if ((!w->mac_only || enc) && mac_add(w, v->text, v->len) < 0)
		return -1;
	if (!enc || v->len == 0)
		return 0;
	if (seal_node(w, v, sops_type_tag(v->type, false)) < 0)
		return -1;
	v->type = SOPS_STR;
	return 0;
}

static int enc_comment(struct walk *w, struct sops_node *c, bool in_seq)
{
	bool enc;

	if (push_comment(w, c->text, c->len) < 0)
		return -1;
	enc = sops_should_encrypt(w->rule, &w->path, true);
	if (!enc || c->len == 0)
		return 0;
	if (seal_node(w, c, "comment") < 0)
		return -1;
	if (in_seq) {
		c->kind = SOPS_SCALAR;
		c->type = SOPS_STR;
		c->is_inline = false;
	}
	return 0;
}

/* ---- decryption ------------------------------------------------------- */

/* Opens v's ENC text at the current path; fills w->pt and type. */
static int open_at(struct walk *w, const struct sops_node *v, char type[16])
{
	char *a;
	size_t al;
	int rc;

	if (aad(w, &a, &al) < 0)
		return -1;
	rc = sops_aes_decrypt(w->key, v->text, v->len, a, al, &w->pt, type);
	free(a);
	return rc;
}

static int path_text(struct walk *w, char *out, size_t cap)
{
	char *a;
	size_t al;

	if (aad(w, &a, &al) < 0)
		return -1;
	snprintf(out, cap, "%.*s", (int)(al > 1 ? al - 1 : al), a);
	free(a);
	return 0;
}

static int value_error(struct walk *w, const char *what)
{
	char p[256], why[ERR_MSG_MAX];

	snprintf(why, sizeof(why), "%s", what);
	path_text(w, p, sizeof(p));
	return err_set(EXIT_MAC, "Could not decrypt value at '%s': %s", p, why);
}

static int dec_leaf(struct walk *w, struct sops_node *v, bool in_seq)
{
	bool enc = sops_should_encrypt(w->rule, &w->path, false);
	enum sops_type t;
	char type[16];

	if (v->type == SOPS_NULL)
		return 0;
	if (enc && v->len > 0) {
		if (v->type != SOPS_STR)
			return value_error(w, "Expected encrypted value as string");
		if (!sops_is_enc(v->text, v->len))
			return value_error(w, "value does not match sops' data "
					   "format (not encrypted)");
		if (open_at(w, v, type) < 0)
			return value_error(w, err_msg());
		if (!strcmp(type, "comment") && in_seq) {
			v->kind = SOPS_COMMENT;
			return sops_node_set_text(v, w->pt.data, w->pt.len, true);
		}
		if (sops_decode_typed(type, w->pt.data, w->pt.len, &t,
				      &w->canon) < 0)
			return value_error(w, err_msg());
		if (sops_node_set_text(v, w->canon.data, w->canon.len, true) < 0)
			return -1;
		v->type = t;
		v->style = SOPS_STYLE_ANY;
	}
	if (w->mac_only && !enc)
		return 0;
	return mac_add(w, v->text, v->len);
}

/* A comment that fails at its own path is tried at the enclosing paths
 * (placement of comments is not exact), then kept as it is. */
static int dec_comment(struct walk *w, struct sops_node *c)
{
	size_t depth = w->path.depth;
	char type[16];
	bool enc;
	int rc = -1;

	if (push_comment(w, c->text, c->len) < 0)
		return -1;
	enc = sops_should_encrypt(w->rule, &w->path, true);
	if (!enc || !sops_is_enc(c->text, c->len))
		return 0;
	for (;;) {
		rc = open_at(w, c, type);
		if (rc == 0 || w->path.depth == 0)
			break;
		w->path.depth--;
	}
	w->path.depth = depth;
	if (rc < 0) {
		log_warn("could not decrypt a comment; keeping it as it is");
		err_clear();
		return 0;
	}
	return sops_node_set_text(c, w->pt.data, w->pt.len, true);
}

/* ---- the walk ----------------------------------------------------------- */

static int walk_node(struct walk *w, struct sops_node *n);

static int walk_item(struct walk *w, struct sops_node *c, size_t i)
{
	struct sops_item *it = &c->items[i];
	bool in_seq = c->kind == SOPS_SEQ;
	int rc;

	if (it->val->kind == SOPS_COMMENT)
		return w->decrypt ? dec_comment(w, it->val) :
				    enc_comment(w, it->val, in_seq);
	if (it->key && sops_path_push(&w->path, it->key, it->key_len) < 0)
		return -1;
	if (it->val->kind == SOPS_SCALAR)
		rc = w->decrypt ? dec_leaf(w, it->val, in_seq) :
				  enc_leaf(w, it->val);
	else
		rc = walk_node(w, it->val);
	if (it->key)
		sops_path_pop(&w->path);
	return rc;
}

static int walk_node(struct walk *w, struct sops_node *n)
{
	size_t level = w->nowned, i;

	for (i = 0; i < n->n; i++) {
		bool was_comment = n->items[i].val->kind == SOPS_COMMENT;

		if (walk_item(w, n, i) < 0)
			return -1;
		if (!was_comment)
			clear_comments(w, level);
	}
	clear_comments(w, level);
	return 0;
}

static int finish_mac(struct walk *w, char *hex)
{
	unsigned char d[64];
	unsigned dl = 0, i;

	if (EVP_DigestFinal_ex(w->mac, d, &dl) != 1 || dl != 64)
		return err_set(EXIT_FAILED, "SHA-512 failed");
	for (i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02X", d[i]);
	return 0;
}

static int run(struct sops_docs *docs, const struct sops_rule *rule,
	       bool mac_only, bool decrypt, const unsigned char *key, char *hex)
{
	struct walk w;
	size_t i;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.rule = rule;
	w.mac_only = mac_only;
	w.decrypt = decrypt;
	w.key = key;
	buf_init_secret(&w.pt);
	buf_init_secret(&w.canon);
	buf_init(&w.enc);
	w.mac = EVP_MD_CTX_new();
	if (!w.mac || EVP_DigestInit_ex(w.mac, EVP_sha512(), NULL) != 1 ||
	    (mac_only && mac_add(&w, (const char *)MAC_ONLY_PREFIX, 32) < 0)) {
		err_set(EXIT_FAILED, "SHA-512 unavailable");
		goto out;
	}
	for (i = 0; i < docs->n; i++)
		if (walk_node(&w, docs->doc[i]) < 0)
			goto out;
	rc = finish_mac(&w, hex);
out:
	clear_comments(&w, 0);
	free(w.owned);
	sops_path_free(&w.path);
	EVP_MD_CTX_free(w.mac);
	buf_free(&w.pt);
	buf_free(&w.canon);
	buf_free(&w.enc);
	return rc;
}

int sops_walk_encrypt(struct sops_docs *docs, const struct sops_rule *rule,
		      bool mac_only, const unsigned char key[32],
		      char mac_hex[SOPS_MAC_HEX_LEN + 1])
{
	return run(docs, rule, mac_only, false, key, mac_hex);
}

int sops_walk_decrypt(struct sops_docs *docs, const struct sops_rule *rule,
		      bool mac_only, const unsigned char key[32],
		      char mac_hex[SOPS_MAC_HEX_LEN + 1])
{
	return run(docs, rule, mac_only, true, key, mac_hex);
}
