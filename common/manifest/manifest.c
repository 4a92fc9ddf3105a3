#include "manifest/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "util/b64.h"
#include "sops/cipher.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"

/* ---- reading one document ---------------------------------------------- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map,
			    const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    memcmp(k->data.scalar.value, key, strlen(key)) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static bool scalar_is(yaml_node_t *n, const char *text)
{
	return n && n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.length == strlen(text) &&
	       memcmp(n->data.scalar.value, text, strlen(text)) == 0;
}

static char *scalar_dup(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return strndup((const char *)n->data.scalar.value,
		       n->data.scalar.length);
}

/* A whole SOPS document: ENC[...] values next to sops metadata, as in a
 * dotenv or JSON file Flux decrypts from a Secret value. */
static bool sops_document(const char *text, size_t len)
{
	static const char enc[] = "ENC[AES256_GCM,data:";

	return memmem(text, len, enc, sizeof(enc) - 1) &&
	       (memmem(text, len, "\"sops\"", 6) ||
		memmem(text, len, "sops:", 5) ||
		memmem(text, len, "sops_mac=", 9));
}

/* True when the value is SOPS ciphertext: an ENC[...] value, a SOPS
 * document (stringData), or a SOPS document in base64 (data). */
static bool encrypted_value(const char *section, yaml_node_t *v)
{
	const char *text = (const char *)v->data.scalar.value;
	size_t len = v->data.scalar.length;
	unsigned char *raw;
	size_t rawlen;
	bool yes;

	if (v->type != YAML_SCALAR_NODE)
		return false;
	if (sops_is_enc(text, len) || sops_document(text, len))
		return true;
	if (strcmp(section, "data") != 0 || len < 16)
		return false;
	raw = malloc(len * 3 / 4 + 3);
	if (!raw)
		return false;
	yes = b64_decode(text, len, B64_STD, raw, &rawlen) == 0 &&
	      sops_document((const char *)raw, rawlen);
	free(raw);
	return yes;
}

static int add_leaf(struct secret_doc *s, const char *section, yaml_node_t *k,
		    yaml_node_t *v)
{
	struct secret_leaf *l, *n;

	n = reallocarray(s->leaves, s->nleaves + 1, sizeof(*n));
	if (!n)
		return err_set(EXIT_FAILED, "out of memory");
	s->leaves = n;
	l = &s->leaves[s->nleaves];
	l->section = strdup(section);
	l->key = scalar_dup(k);
	if (!l->key)
		l->key = strdup("?");
	l->line = (int)v->start_mark.line + 1;
	l->encrypted = encrypted_value(section, v);
	if (!l->section || !l->key) {
		free(l->section);
		free(l->key);
		return err_set(EXIT_FAILED, "out of memory");
	}
	s->nleaves++;
	return 0;
}

static int add_section(yaml_document_t *d, yaml_node_t *root,
		       struct secret_doc *s, const char *section)
{
	yaml_node_t *map = map_get(d, root, section);
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return 0;
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++)
		if (add_leaf(s, section, yaml_document_get_node(d, p->key),
			     yaml_document_get_node(d, p->value)) < 0)
			return -1;
	return 0;
}

static struct secret_doc *new_doc(struct secret_docs *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct secret_doc *v = reallocarray(out->v, cap, sizeof(*v));

		if (!v) {
			err_set(EXIT_FAILED, "out of memory");
			return NULL;
		}
		out->v = v;
		out->cap = cap;
	}
	memset(&out->v[out->n], 0, sizeof(out->v[0]));
	return &out->v[out->n++];
}

static void doc_free(struct secret_doc *s)
{
	size_t i;

	for (i = 0; i < s->nleaves; i++) {
		free(s->leaves[i].section);
		free(s->leaves[i].key);
	}
	free(s->leaves);
	free(s->file);
	free(s->name);
	free(s->namespace);
}

static int take_secret(const char *path, int index, yaml_document_t *d,
		       struct secret_docs *out)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *meta;
	struct secret_doc *s;

	if (!root || !scalar_is(map_get(d, root, "kind"), "Secret"))
		return 0;
	s = new_doc(out);
	if (!s)
		return -1;
	meta = map_get(d, root, "metadata");
	s->doc = index;
	s->line = (int)root->start_mark.line + 1;
	s->file = strdup(path);
	s->name = scalar_dup(map_get(d, meta, "name"));
	s->namespace = scalar_dup(map_get(d, meta, "namespace"));
	s->sops = map_get(d, root, "sops") != NULL;
	if (!s->file || add_section(d, root, s, "data") < 0 ||
	    add_section(d, root, s, "stringData") < 0) {
		doc_free(s);
		out->n--;
		return err_set(EXIT_FAILED, "out of memory");
	}
	return 0;
}

int manifest_scan_text(const char *path, const char *text, size_t len,
		       struct secret_docs *out)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int index = 0, rc = 0;

	if (!yaml_parser_initialize(&parser))
		return err_set(EXIT_FAILED, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			rc = err_set(EXIT_USAGE, "%s:%zu: not valid YAML: %s",
				     path, parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "?");
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		out->documents++;
		rc = take_secret(path, index++, &doc, out);
		yaml_document_delete(&doc);
		if (rc < 0)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc == 0)
		out->files++;
	return rc;
}

int manifest_scan_file(const char *path, struct secret_docs *out)
{
	struct buf text = BUF_INIT;
	int rc;

	if (fs_read_all(path, &text) < 0)
		return -1;
	rc = manifest_scan_text(path, text.data ? text.data : "", text.len,
				out);
	buf_free(&text);
	return rc;
}

void secret_docs_free(struct secret_docs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		doc_free(&d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- walking ----------------------------------------------------------- */

static bool manifest_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 ||
		       strcmp(dot, ".json") == 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	int (*fn)(const char *path, void *arg);
	void *arg;
	int depth;
};

static int walk_path(struct walk *w, const char *path, bool named);

static int read_names(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return err_set(EXIT_USAGE, "cannot read directory %s: %s", dir,
			       strerror(errno));
	while ((e = readdir(d))) {
		char **grown;

		if (e->d_name[0] == '.')
			continue;	/* ., .., .git and other hidden entries */
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = reallocarray(*names, cap, sizeof(*grown));
			if (!grown)
				goto oom;
			*names = grown;
		}
		(*names)[*n] = strdup(e->d_name);
		if (!(*names)[*n])
			goto oom;
		(*n)++;
	}
	closedir(d);
	qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
oom:
	closedir(d);
	while (*n > 0)
		free((*names)[--*n]);
	free(*names);
	return err_set(EXIT_FAILED, "out of memory");
}

static int walk_dir(struct walk *w, const char *dir)
{
	char **names, child[PATH_MAX];
	size_t n, i;
	int rc = 0;

	if (w->depth > 64)
		return err_set(EXIT_USAGE, "%s: directories nested too deep",
			       dir);
	if (read_names(dir, &names, &n) < 0)
		return -1;
	w->depth++;
	for (i = 0; i < n && rc == 0; i++) {
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", dir,
				     dir[strlen(dir) - 1] == '/' ? "" : "/",
				     names[i]) >= sizeof(child))
			rc = err_set(EXIT_USAGE, "path too long: %s/%s", dir,
				     names[i]);
		else
			rc = walk_path(w, child, false);
	}
	w->depth--;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int walk_path(struct walk *w, const char *path, bool named)
{
	struct stat st;

	if ((named ? stat(path, &st) : lstat(path, &st)) < 0)
		return named ? err_set(EXIT_USAGE, "cannot read %s: %s", path,
				       strerror(errno)) : 0;
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, path);
	if (!S_ISREG(st.st_mode) || (!named && !manifest_name(path)))
		return 0;
	return w->fn(path, w->arg);
}

int manifest_walk(const char *const *paths, size_t npaths,
		  int (*fn)(const char *path, void *arg), void *arg)
{
	struct walk w = { fn, arg, 0 };
	size_t i;

	for (i = 0; i < npaths; i++)
		if (walk_path(&w, paths[i], true) < 0)
			return -1;
	return 0;
}
