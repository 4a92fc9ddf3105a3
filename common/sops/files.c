#include "sops/files.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sops/config.h"
#include "sops/engine.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"

static bool is_stdin(const char *path)
{
	return !path || !strcmp(path, "-");
}

int sops_file_opts_check(const struct sops_file_opts *o, const char *path)
{
	int k, n = 0;

	if (o->in_place && o->output_path)
		return err_set(EXIT_USAGE, "--in-place and --output cannot be "
			       "used together");
	if (o->in_place && is_stdin(path))
		return err_set(EXIT_USAGE, "--in-place needs a file, not "
			       "standard input");
	if (o->input_type && !sops_format_from_type(o->input_type))
		return err_set(EXIT_USAGE, "unknown --input-type '%s'",
			       o->input_type);
	if (o->output_type && !sops_format_from_type(o->output_type))
		return err_set(EXIT_USAGE, "unknown --output-type '%s'",
			       o->output_type);
	for (k = 1; k < SOPS_RULE_COUNT; k++)
		n += o->rules[k] != NULL;
	if (n > 1)
		return err_set(EXIT_USAGE, "give at most one of --encrypted-regex, "
			       "--unencrypted-regex, --encrypted-suffix, "
			       "--unencrypted-suffix, --encrypted-comment-regex, "
			       "--unencrypted-comment-regex");
	return 0;
}

static enum sops_format in_format(const struct sops_file_opts *o,
				  const char *path)
{
	if (o->input_type)
		return sops_format_from_type(o->input_type);
	return is_stdin(path) ? SOPS_FMT_YAML : sops_format_from_path(path);
}

static enum sops_format out_format(const struct sops_file_opts *o,
				   enum sops_format in)
{
	return o->output_type ? sops_format_from_type(o->output_type) : in;
}

static int indent_for(const struct sops_config *c, enum sops_format f)
{
	if (f == SOPS_FMT_YAML)
		return c->yaml_indent;
	if (f == SOPS_FMT_JSON)
		return c->json_indent;
	return 0;
}

/* Writes the documents to stdout, --output or the file itself (-i), as
 * they are produced; a file is replaced only when all went well. */
static int write_docs(const char *path, const struct sops_file_opts *o,
		      enum sops_format f, const struct sops_docs *docs,
		      int indent, mode_t mode, bool secret)
{
	const char *target = o->in_place ? path : o->output_path;
	struct fs_atomic a;

	if (!target) {
		if (sops_store_write(f, docs, indent, 1, secret) < 0)
			return err_prefix("standard output");
		return 0;
	}
	if (fs_atomic_begin(&a, target, mode) < 0)
		return -1;
	if (sops_store_write(f, docs, indent, a.fd, secret) < 0) {
		fs_atomic_abort(&a);
		return err_prefix("%s", target);
	}
	return fs_atomic_commit(&a);
}

/* Reads and parses a file; the text is wiped and freed right after. */
static int read_docs(const char *path, enum sops_format f,
		     struct sops_docs *docs)
{
	struct buf in;
	const char *map;
	size_t mlen;
	int rc = fs_map_file(path, &map, &mlen);

	if (rc < 0)
		return -1;
	if (rc == 1) {	/* a regular file: read in place, pages dropped */
		rc = sops_store_parse_mapped(f, map, mlen, docs);
		fs_unmap(map, mlen);
		return rc;
	}
	buf_init_secret(&in);
	if (fs_read_all(path, &in) < 0)
		return -1;
	rc = sops_store_parse(f, in.data ? in.data : "", in.len, docs);
	buf_free(&in);
	return rc;
}

/* ---- encryption ------------------------------------------------------- */

static const char *flag_or_env(const char *flag, const char *env)
{
	const char *v = flag && *flag ? flag : getenv(env);

	return v && *v ? v : NULL;
}

static int cli_keys(const struct sops_file_opts *o, struct sops_metadata *md,
		    bool *given)
{
	const char *age = flag_or_env(o->age, "SOPS_AGE_RECIPIENTS");
	const char *akv = flag_or_env(o->azure_kv, "SOPS_AZURE_KEYVAULT_URLS");

	*given = age || akv;
	if (!*given)
		return 0;
	if (sops_metadata_add_group(md) < 0 ||
	    (age && sops_keys_add_text(&md->groups[0], "age", age) < 0) ||
	    (akv && sops_keys_add_text(&md->groups[0], "azure_kv", akv) < 0))
		return -1;
	return 0;
}

/* The rule: a flag overrides the same field of the config rule; two
 * different ones conflict. */
static int pick_rule(const struct sops_file_opts *o,
		     const struct sops_creation_rule *cr, struct sops_rule *r)
{
	int k;

	for (k = 1; k < SOPS_RULE_COUNT; k++) {
		if (!o->rules[k])
			continue;
		if (cr->rule.kind != SOPS_RULE_NONE && (int)cr->rule.kind != k)
			return err_set(EXIT_USAGE, "--%s conflicts with %s in "
				       ".sops.yaml: give one selector",
				       sops_rule_name(k), sops_rule_name(cr->rule.kind));
		return sops_rule_set(r, (enum sops_rule_kind)k, o->rules[k]);
	}
	return sops_rule_set(r, cr->rule.kind, cr->rule.value);
}

struct enc_ctx {
	struct sops_config cfg;
	struct sops_creation_rule cr;
	struct sops_metadata cli;
	struct sops_rule rule;
};

static void enc_ctx_free(struct enc_ctx *c)
{
	sops_config_free(&c->cfg);
	sops_creation_rule_free(&c->cr);
	sops_metadata_free(&c->cli);
	sops_rule_free(&c->rule);
}

static int enc_setup(const char *path, const struct sops_file_opts *o,
		     struct enc_ctx *c, struct sops_encrypt_opts *eo)
{
	bool given;
	int m = 0;

	if (sops_config_load(o->config, &c->cfg) < 0 ||
	    cli_keys(o, &c->cli, &given) < 0)
		return -1;
	if (c->cfg.path) {
		m = sops_config_match(&c->cfg, is_stdin(path) ? NULL : path,
				      &c->cr);
		if (m < 0 && !given)
			return -1;
		if (m < 0)
			err_clear();
	}
	if (pick_rule(o, &c->cr, &c->rule) < 0)
		return -1;
	eo->in_fmt = in_format(o, path);
	eo->out_fmt = out_format(o, eo->in_fmt);
	eo->path = path;
	eo->indent = indent_for(&c->cfg, eo->out_fmt);
	eo->rule = &c->rule;
	eo->mac_only_encrypted = o->mac_only_encrypted ||
				 c->cr.mac_only_encrypted;
	eo->keys = given ? &c->cli : &c->cr.keys;
	return 0;
}

/* Reads, encrypts and writes one file: to `out` when given, else where the
 * options say (stdout, --output or in place). */
static int encrypt_file(const char *path, const struct sops_file_opts *o,
			struct buf *out)
{
	struct sops_encrypt_opts eo;
	struct enc_ctx c;
	struct sops_docs docs = { 0 };
	enum sops_format st;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&eo, 0, sizeof(eo));
	if (sops_file_opts_check(o, path) < 0 || enc_setup(path, o, &c, &eo) < 0)
		goto out;
	if (!out)
		log_at(2, "encrypting %s (%s)",
		       is_stdin(path) ? "standard input" : path,
		       sops_format_name(eo.in_fmt));
	sops_tree_reserve_for_encryption(true);
	rc = read_docs(path, eo.in_fmt, &docs);
	sops_tree_reserve_for_encryption(false);
	st = sops_encrypted_store(eo.out_fmt);
	if (rc == 0 && (sops_encrypt_parsed(&docs, eo.in_fmt, &eo) < 0 ||
			(out ? sops_store_emit(st, &docs, eo.indent, out) :
			 write_docs(path, o, st, &docs, eo.indent, FS_KEEP_MODE,
				    false)) < 0))
		rc = -1;
out:
	if (rc < 0 && !is_stdin(path) && !strstr(err_msg(), path))
		err_prefix("%s", path);
	enc_ctx_free(&c);
	sops_docs_free(&docs);
	return rc;
}

int sops_file_encrypt(const char *path, const struct sops_file_opts *o)
{
	return encrypt_file(path, o, NULL);
}

int sops_file_encrypt_to(const char *path, const struct sops_file_opts *o,
			 struct buf *out)
{
	return encrypt_file(path, o, out);
}

/* ---- decryption ------------------------------------------------------- */

static int write_extract(const char *path, const struct sops_file_opts *o,
			 const struct sops_docs *docs, enum sops_format of,
			 int indent)
{
	struct buf out;
	int rc;

	buf_init_secret(&out);
	rc = sops_extract(docs, o->extract, of, indent, &out);
	if (rc == 0) {
		const char *t = o->in_place ? path : o->output_path;

		rc = t ? fs_write_atomic(t, out.data ? out.data : "", out.len,
					 0600) :
			 fs_write_fd(1, out.data ? out.data : "", out.len);
	}
	buf_free(&out);
	return rc;
}

int sops_file_decrypt(const char *path, const struct sops_file_opts *o)
{
	struct sops_config cfg;
	struct sops_docs docs = { 0 };
	enum sops_format in, of;
	int rc = -1, indent;

	memset(&cfg, 0, sizeof(cfg));
	if (sops_file_opts_check(o, path) < 0 ||
	    sops_config_load(o->config, &cfg) < 0)
		goto out;
	in = in_format(o, path);
	of = out_format(o, in);
	indent = indent_for(&cfg, of);
	log_at(2, "decrypting %s", is_stdin(path) ? "standard input" : path);
	if (read_docs(path, sops_encrypted_store(in), &docs) < 0 ||
	    sops_decrypt_parsed(&docs, in, o->ignore_mac) < 0)
		goto out;
	rc = o->extract ? write_extract(path, o, &docs, of, indent) :
			  write_docs(path, o, of, &docs, indent, 0600, true);
out:
	if (rc < 0 && !is_stdin(path) && !strstr(err_msg(), path))
		err_prefix("%s", path);
	sops_docs_free(&docs);
	sops_config_free(&cfg);
	return rc;
}

/* ---- many files: one batch of key requests ------------------------------ */

struct open_file {
	struct sops_docs docs;
	struct sops_metadata md;
	enum sops_format in;
};

static int open_one(const char *path, const struct sops_file_opts *o,
		    struct open_file *f)
{
	if (sops_file_opts_check(o, path) < 0)
		return -1;
	f->in = in_format(o, path);
	if (read_docs(path, sops_encrypted_store(f->in), &f->docs) < 0 ||
	    sops_extract_metadata(&f->docs, f->in, &f->md) < 0) {
		if (!is_stdin(path) && !strstr(err_msg(), path))
			err_prefix("%s", path);
		return -1;
	}
	return 0;
}

static int finish_one(const char *path, const struct sops_file_opts *o,
		      struct open_file *f, const unsigned char *key,
		      const struct sops_config *cfg)
{
	enum sops_format of = out_format(o, f->in);
	int indent = indent_for(cfg, of), rc;

	rc = sops_decrypt_with_key(&f->docs, &f->md, key, o->ignore_mac);
	if (rc == 0)
		rc = o->extract ? write_extract(path, o, &f->docs, of, indent) :
		     write_docs(path, o, of, &f->docs, indent, 0600, true);
	if (rc < 0 && !is_stdin(path) && !strstr(err_msg(), path))
		err_prefix("%s", path);
	return rc;
}

static int key_failed(const char *path, const struct err_record *e)
{
	err_restore(e);
	if (!is_stdin(path))
		err_prefix("%s", path);
	return -1;
}

/* Opens up to n files, recovers their data keys in one batch, then
 * decrypts and writes them in order; stops at the first failure. */
static int decrypt_chunk(const char *const *paths, size_t n,
			 const struct sops_file_opts *o,
			 const struct sops_config *cfg)
{
	struct open_file *f = calloc(n, sizeof(*f));
	struct sops_metadata **md = calloc(n, sizeof(*md));
	unsigned char (*keys)[32] = calloc(n, 32);
	int *st = calloc(n, sizeof(*st)), rc = 0;
	struct err_record *errs = calloc(n, sizeof(*errs));
	size_t i, opened = 0;

	if (!f || !md || !keys || !st || !errs)
		rc = err_set(EXIT_FAILED, "out of memory");
	for (i = 0; i < n && rc == 0; i++, opened++) {
		rc = open_one(paths[i], o, &f[i]);
		md[i] = &f[i].md;
	}
	if (rc == 0)
		sops_data_keys_recover(md, n, keys, st, errs);
	for (i = 0; i < n && rc == 0; i++)
		rc = st[i] < 0 ? key_failed(paths[i], &errs[i]) :
		     finish_one(paths[i], o, &f[i], keys[i], cfg);
	for (i = 0; f && i < opened; i++) {
		sops_docs_free(&f[i].docs);
		sops_metadata_free(&f[i].md);
	}
	if (keys)
		explicit_bzero(keys, n * 32);
	free(f);
	free(md);
	free(keys);
	free(st);
	free(errs);
	return rc;
}

int sops_files_decrypt(const char *const *paths, size_t n,
		       const struct sops_file_opts *o)
{
	struct sops_config cfg;
	size_t i, chunk;
	int rc;

	if (sops_config_load(o->config, &cfg) < 0)
		return -1;
	for (i = 0, rc = 0; i < n && rc == 0; i += chunk) {
		chunk = n - i < 64 ? n - i : 64;
		log_at(2, "decrypting %zu file(s)", chunk);
		rc = decrypt_chunk(paths + i, chunk, o, &cfg);
	}
	sops_config_free(&cfg);
	return rc;
}

/* ---- --extract ---------------------------------------------------------- */

static const struct sops_node *step(const struct sops_node *n, const char **p)
{
	const char *s = *p;
	size_t i;

	if (*s != '[')
		return NULL;
	s++;
	if (*s == '"') {
		const char *e = strchr(s + 1, '"');

		if (!e || e[1] != ']')
			return NULL;
		*p = e + 2;
		for (i = 0; n->kind == SOPS_MAP && i < n->n; i++)
			if (n->items[i].key && n->items[i].key_len ==
			    (size_t)(e - s - 1) &&
			    !memcmp(n->items[i].key, s + 1, (size_t)(e - s - 1)))
				return n->items[i].val;
		return NULL;
	}
	if (isdigit((unsigned char)*s)) {
		char *e;
		unsigned long idx = strtoul(s, &e, 10), k = 0;

		if (*e != ']' || n->kind != SOPS_SEQ)
			return NULL;
		*p = e + 1;
		for (i = 0; i < n->n; i++)
			if (n->items[i].val->kind != SOPS_COMMENT && k++ == idx)
				return n->items[i].val;
	}
	return NULL;
}

int sops_extract(const struct sops_docs *docs, const char *path,
		 enum sops_format f, int indent, struct buf *out)
{
	const struct sops_node *n = docs->n ? docs->doc[0] : NULL;
	const char *p = path;
	struct sops_docs one;
	struct sops_node *copy;
	int rc;

	while (n && *p)
		n = step(n, &p);
	if (!n || *p)
		return err_set(EXIT_USAGE, "--extract '%s': no such value (use "
			       "the form '[\"key\"][0]')", path);
	if (n->kind == SOPS_SCALAR)
		return buf_append(out, n->text, n->len);
	copy = sops_node_copy(n, NULL);
	if (!copy)
		return -1;
	if (copy->kind != SOPS_MAP)
		f = SOPS_FMT_JSON;
	memset(&one, 0, sizeof(one));
	if (sops_docs_push(&one, copy) < 0)
		return -1;
	rc = sops_store_emit(f == SOPS_FMT_BINARY || f == SOPS_FMT_DOTENV ?
			     SOPS_FMT_YAML : f, &one, indent, out);
	sops_docs_free(&one);
	return rc;
}
