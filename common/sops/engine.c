#include "sops/engine.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "sops/keys.h"
#include "util/err.h"
#include "util/log.h"

#define SECRET_REGEX "^(data|stringData)$"

static enum sops_format pick(enum sops_format f, const char *path)
{
	return f != SOPS_FMT_NONE ? f : sops_format_from_path(path);
}

/* The encrypted form of a binary file is a JSON document. */
enum sops_format sops_encrypted_store(enum sops_format f)
{
	return f == SOPS_FMT_BINARY ? SOPS_FMT_JSON : f;
}

static bool is_secret(const struct sops_node *doc)
{
	const struct sops_node *k = sops_map_get(doc, "kind", NULL);

	return k && k->kind == SOPS_SCALAR && k->type == SOPS_STR &&
	       k->len == 6 && !memcmp(k->text, "Secret", 6);
}

int sops_default_rule(const struct sops_docs *docs, enum sops_format f,
		      struct sops_rule *out)
{
	size_t i;

	if (f == SOPS_FMT_BINARY)
		return sops_rule_set(out, SOPS_RULE_NONE, NULL);
	for (i = 0; i < docs->n; i++)
		if (is_secret(docs->doc[i]))
			return sops_rule_set(out, SOPS_RULE_ENCRYPTED_REGEX,
					     SECRET_REGEX);
	return sops_rule_set(out, SOPS_RULE_UNENCRYPTED_SUFFIX, "_unencrypted");
}

static int copy_keys(const struct sops_metadata *src, struct sops_metadata *md)
{
	size_t g, i;

	if (!src || src->ngroups == 0)
		return err_set(EXIT_USAGE, "no master key to encrypt with: give "
			       "--age or --azure-kv, or a creation rule in "
			       ".sops.yaml");
	for (g = 0; g < src->ngroups; g++) {
		if (sops_metadata_add_group(md) < 0)
			return -1;
		for (i = 0; i < src->groups[g].n; i++) {
			const struct sops_key_entry *e = &src->groups[g].keys[i];
			struct sops_key_entry *d =
				sops_group_add(&md->groups[g], e->type);

			if (!d)
				return -1;
			sops_node_free(d->fields);
			d->fields = sops_node_copy(e->fields, NULL);
			if (!d->fields)
				return -1;
		}
	}
	md->shamir_threshold = src->shamir_threshold;
	if (md->ngroups > 1 && md->shamir_threshold == 0)
		md->shamir_threshold = (int)md->ngroups;
	return 0;
}

static int setup_rule(const struct sops_encrypt_opts *o,
		      const struct sops_docs *docs, enum sops_format f,
		      struct sops_metadata *md)
{
	if (f == SOPS_FMT_BINARY)
		return 0;	/* sops >= 3.11: always encrypt, no rule */
	if (o->rule && o->rule->kind != SOPS_RULE_NONE)
		return sops_rule_set(&md->rule, o->rule->kind, o->rule->value);
	return sops_default_rule(docs, f, &md->rule);
}

static int encrypt_docs(struct sops_docs *docs, enum sops_format f,
			const struct sops_encrypt_opts *o,
			struct sops_metadata *md, unsigned char key[32])
{
	char hex[SOPS_MAC_HEX_LEN + 1];
	struct sops_metadata *one = md;

	if (copy_keys(o->keys, md) < 0 || setup_rule(o, docs, f, md) < 0)
		return -1;
	md->mac_only_encrypted = o->mac_only_encrypted;
	md->version = strdup(SOPS_VERSION);
	if (!md->version)
		return err_set(EXIT_FAILED, "out of memory");
	if (RAND_bytes(key, 32) != 1)
		return err_set(EXIT_FAILED, "no random bytes for the data key");
	if (sops_data_keys_wrap(&one, 1, (unsigned char (*)[32])key) < 0)
		return -1;
	if (sops_walk_encrypt(docs, &md->rule, md->mac_only_encrypted, key,
			      hex) < 0)
		return -1;
	return sops_mac_seal(md, key, hex);
}

int sops_encrypt_parsed(struct sops_docs *docs, enum sops_format in,
			const struct sops_encrypt_opts *o)
{
	enum sops_format of = o->out_fmt != SOPS_FMT_NONE ? o->out_fmt : in;
	struct sops_metadata md;
	unsigned char key[32];
	int rc = -1;

	memset(&md, 0, sizeof(md));
	if (docs->n == 0)
		return err_set(EXIT_USAGE, "the input holds no document to "
			       "encrypt");
	if (sops_docs_have_metadata(docs, in))
		return err_set(EXIT_ENCRYPTED, "File already encrypted: it "
			       "already has sops metadata");
	if (encrypt_docs(docs, in, o, &md, key) == 0 &&
	    sops_metadata_insert(docs, sops_encrypted_store(of), &md) == 0)
		rc = 0;
	explicit_bzero(key, sizeof(key));
	sops_metadata_free(&md);
	return rc;
}

int sops_encrypt(const char *src, size_t len,
		 const struct sops_encrypt_opts *o, struct buf *out)
{
	enum sops_format in = pick(o->in_fmt, o->path);
	enum sops_format of = o->out_fmt != SOPS_FMT_NONE ? o->out_fmt : in;
	struct sops_docs docs;
	int rc = -1;

	sops_tree_reserve_for_encryption(true);
	rc = sops_store_parse(in, src, len, &docs);
	sops_tree_reserve_for_encryption(false);
	if (rc < 0)
		return -1;
	rc = -1;
	if (sops_encrypt_parsed(&docs, in, o) == 0 &&
	    sops_store_emit(sops_encrypted_store(of), &docs, o->indent, out) == 0)
		rc = 0;
	sops_docs_free(&docs);
	return rc;
}

int sops_decrypt_with_key(struct sops_docs *docs,
			  const struct sops_metadata *md,
			  const unsigned char key[32], bool ignore_mac)
{
	char hex[SOPS_MAC_HEX_LEN + 1];

	if (sops_walk_decrypt(docs, &md->rule, md->mac_only_encrypted, key,
			      hex) < 0)
		return -1;
	if (!ignore_mac && sops_mac_check(md, key, hex) < 0)
		return -1;
	return 0;
}

static int decrypt_docs(struct sops_docs *docs, struct sops_metadata *md,
			bool ignore_mac)
{
	unsigned char key[32];
	int rc;

	if (sops_data_key_recover(md, key) < 0)
		return -1;
	rc = sops_decrypt_with_key(docs, md, key, ignore_mac);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int sops_extract_metadata(struct sops_docs *docs, enum sops_format f,
			  struct sops_metadata *md)
{
	int found;

	memset(md, 0, sizeof(*md));
	found = sops_metadata_extract(docs, sops_encrypted_store(f), md);
	if (found == 0)
		return err_set(EXIT_FAILED, "sops metadata not found: the file "
			       "is not encrypted with sops");
	return found < 0 ? -1 : 0;
}

int sops_decrypt_parsed(struct sops_docs *docs, enum sops_format f,
			bool ignore_mac)
{
	struct sops_metadata md;
	int rc;

	if (sops_extract_metadata(docs, f, &md) < 0)
		return -1;
	rc = decrypt_docs(docs, &md, ignore_mac);
	sops_metadata_free(&md);
	return rc;
}

int sops_decrypt_docs(const char *src, size_t len,
		      const struct sops_decrypt_opts *o, struct sops_docs *docs)
{
	enum sops_format in = pick(o->in_fmt, o->path);

	if (sops_store_parse(sops_encrypted_store(in), src, len, docs) < 0)
		return -1;
	if (sops_decrypt_parsed(docs, in, o->ignore_mac) < 0) {
		sops_docs_free(docs);
		return -1;
	}
	return 0;
}

int sops_decrypt(const char *src, size_t len,
		 const struct sops_decrypt_opts *o, struct buf *out)
{
	enum sops_format in = pick(o->in_fmt, o->path);
	enum sops_format of = o->out_fmt != SOPS_FMT_NONE ? o->out_fmt : in;
	struct sops_docs docs;
	struct buf tmp;
	int rc = -1;

	buf_init_secret(&tmp);
	out->secret = true;
	if (sops_decrypt_docs(src, len, o, &docs) < 0)
		return -1;
	if (sops_store_emit(of, &docs, o->indent, &tmp) == 0)
		rc = buf_append(out, tmp.data ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	sops_docs_free(&docs);
	return rc;
}
