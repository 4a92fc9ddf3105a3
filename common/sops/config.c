#include "sops/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sops/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"


static char *abs_path(const char *p)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;

	if (p[0] == '/')
		return strdup(p);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (buf_printf(&b, "%s/%s", cwd, p) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

/* Removes "." and ".." segments and doubled slashes, as Go's Clean. */
static void clean_path(char *p)
{
	char *out = p, *seg = p;

	while (*seg) {
		char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.')) {
			/* skip */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, seg, len);
			out += len;
		}
		seg += len + (end ? 1 : 0);
		if (!end)
			break;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

static char *find_upwards(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int i;

	if (!getcwd(dir, sizeof(dir)))
		return NULL;
	for (i = 0; i < 100; i++) {
		char *slash;

		snprintf(path, sizeof(path), "%s/.sops.yaml",
			 strcmp(dir, "/") ? dir : "");
		if (access(path, R_OK) == 0)
			return strdup(path);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			if (!strcmp(dir, "/"))
				break;
			strcpy(dir, "/");
			continue;
		}
		*slash = '\0';
	}
	return NULL;
}

static int stores_indent(const struct sops_node *root, const char *store)
{
	const struct sops_node *s = sops_map_get(root, "stores", NULL);
	const struct sops_node *st = sops_map_get(s, store, NULL);
	const struct sops_node *in = sops_map_get(st, "indent", NULL);

	return in && in->kind == SOPS_SCALAR && in->type == SOPS_INT ?
	       atoi(in->text) : 0;
}

int sops_config_load(const char *explicit_path, struct sops_config *c)
{
	const char *env = getenv("SOPS_CONFIG");
	struct buf b = BUF_INIT;
	struct sops_docs docs;
	char *slash;

	memset(c, 0, sizeof(*c));
	if (explicit_path && *explicit_path)
		c->path = abs_path(explicit_path);
	else if (env && *env)
		c->path = abs_path(env);
	else
		c->path = find_upwards();
	if (!c->path)
		return 0;
	clean_path(c->path);
	if (fs_read_all(c->path, &b) < 0 ||
	    sops_yaml_parse(b.data ? b.data : "", b.len, &docs) < 0) {
		buf_free(&b);
		err_prefix("config %s", c->path);
		sops_config_free(c);
		return -1;
	}
	buf_free(&b);
	if (docs.n > 0) {
		c->root = docs.doc[0];
		docs.doc[0] = NULL;
	}
	sops_docs_free(&docs);
	c->dir = strdup(c->path);
	if (!c->dir)
		return err_set(EXIT_FAILED, "out of memory");
	slash = strrchr(c->dir, '/');
	slash[slash == c->dir ? 1 : 0] = '\0';
	c->yaml_indent = stores_indent(c->root, "yaml");
	c->json_indent = stores_indent(c->root, "json");
	return 0;
}

void sops_config_free(struct sops_config *c)
{
	free(c->path);
	free(c->dir);
	sops_node_free(c->root);
	memset(c, 0, sizeof(*c));
}

void sops_creation_rule_free(struct sops_creation_rule *r)
{
	sops_metadata_free(&r->keys);
	sops_rule_free(&r->rule);
	memset(r, 0, sizeof(*r));
}

/* ---- keys --------------------------------------------------------------- */

int sops_azure_kv_url_parse(const char *url, char **vault_url, char **name,
			    char **version)
{
	const char *host, *keys, *n, *v;

	*vault_url = *name = *version = NULL;
	if (strncmp(url, "https://", 8))
		goto bad;
	host = url + 8;
	keys = strstr(host, "/keys/");
	if (!keys || keys == host || memchr(host, '/', (size_t)(keys - host)))
		goto bad;
	n = keys + 6;
	v = strchr(n, '/');
	if ((v ? v == n : *n == '\0') || (v && strchr(v + 1, '/')))
		goto bad;
	*vault_url = strndup(url, (size_t)(keys - url));
	*name = v ? strndup(n, (size_t)(v - n)) : strdup(n);
	*version = strdup(v ? v + 1 : "");
	if (!*vault_url || !*name || !*version) {
		free(*vault_url);
		free(*name);
		free(*version);
		return err_set(EXIT_FAILED, "out of memory");
	}
	return 0;
bad:
	return err_set(EXIT_USAGE, "invalid Azure Key Vault key URL '%s': "
		       "expected https://VAULT/keys/NAME[/VERSION]", url);
}

static int add_azure(struct sops_key_group *g, const char *url)
{
	char *vu, *n, *v;
	struct sops_key_entry *e;
	int rc;

	if (sops_azure_kv_url_parse(url, &vu, &n, &v) < 0)
		return -1;
	e = sops_group_add(g, "azure_kv");
	rc = !e || sops_entry_set(e, "vault_url", vu) < 0 ||
	     sops_entry_set(e, "name", n) < 0 ||
	     sops_entry_set(e, "version", v) < 0 ? -1 : 0;
	free(vu);
	free(n);
	free(v);
	return rc;
}

static const char *id_field(const char *type)
{
	if (!strcmp(type, "age"))
		return "recipient";
	if (!strcmp(type, "pgp"))
		return "fp";
	if (!strcmp(type, "kms"))
		return "arn";
	if (!strcmp(type, "gcp_kms"))
		return "resource_id";
	if (!strcmp(type, "hckms"))
		return "key_id";
	return "vault_address";
}

static int add_one_key(struct sops_key_group *g, const char *type,
		       const char *id)
{
	struct sops_key_entry *e;

	if (!strcmp(type, "azure_kv"))
		return add_azure(g, id);
	e = sops_group_add(g, type);
	if (!e)
		return -1;
	return sops_entry_set(e, id_field(type), id);
}

int sops_keys_add_text(struct sops_key_group *g, const char *type,
		       const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int rc = 0;

	if (!copy)
		return err_set(EXIT_FAILED, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*tok)
			rc = add_one_key(g, type, tok);
	}
	free(copy);
	return rc;
}

/* ---- rules -------------------------------------------------------------- */

struct cfg_key { const char *field, *type; };

static const struct cfg_key CFG_KEYS[] = {
	{ "age", "age" }, { "azure_keyvault", "azure_kv" }, { "pgp", "pgp" },
	{ "kms", "kms" }, { "gcp_kms", "gcp_kms" },
	{ "hc_vault_transit_uri", "hc_vault" }, { "hc_vault", "hc_vault" },
	{ "hckms", "hckms" }, { NULL, NULL }
};

/* A list element of key_groups: a string, or a map naming the key. */
static int group_item(struct sops_key_group *g, const char *type,
		      const struct sops_node *v)
{
	const struct sops_node *f;

	if (v->kind == SOPS_SCALAR)
		return sops_keys_add_text(g, type, v->text);
	if (v->kind != SOPS_MAP)
		return 0;
	if (!strcmp(type, "azure_kv")) {
		const struct sops_node *u = sops_map_get(v, "vaultUrl", NULL),
				       *k = sops_map_get(v, "key", NULL),
				       *ver = sops_map_get(v, "version", NULL);
		struct sops_key_entry *e;

		if (!u || !k)
			return err_set(EXIT_USAGE, ".sops.yaml: azure_keyvault "
				       "entries need vaultUrl and key");
		e = sops_group_add(g, type);
		return !e || sops_entry_set(e, "vault_url", u->text) < 0 ||
		       sops_entry_set(e, "name", k->text) < 0 ||
		       sops_entry_set(e, "version", ver ? ver->text : "") < 0 ?
		       -1 : 0;
	}
	f = sops_map_get(v, !strcmp(type, "kms") ? "arn" :
			 !strcmp(type, "gcp_kms") ? "resource_id" : "key_id",
			 NULL);
	return f ? add_one_key(g, type, f->text) : 0;
}

static int keys_from(const struct sops_node *m, struct sops_key_group *g)
{
	const struct cfg_key *k;
	size_t i;

	for (k = CFG_KEYS; k->field; k++) {
		const struct sops_node *v = sops_map_get(m, k->field, NULL);

		if (!v)
			continue;
		if (v->kind == SOPS_SCALAR && v->type != SOPS_NULL &&
		    sops_keys_add_text(g, k->type, v->text) < 0)
			return -1;
		for (i = 0; v->kind == SOPS_SEQ && i < v->n; i++)
			if (group_item(g, k->type, v->items[i].val) < 0)
				return -1;
	}
	return 0;
}

static int rule_keys(const struct sops_node *r, struct sops_metadata *md)
{
	const struct sops_node *kg = sops_map_get(r, "key_groups", NULL);
	const struct sops_node *thr = sops_map_get(r, "shamir_threshold", NULL);
	size_t i;

	if (thr && thr->kind == SOPS_SCALAR)
		md->shamir_threshold = atoi(thr->text);
	if (kg && kg->kind == SOPS_SEQ) {
		for (i = 0; i < kg->n; i++) {
			if (kg->items[i].val->kind != SOPS_MAP)
				continue;
			if (sops_metadata_add_group(md) < 0 ||
			    keys_from(kg->items[i].val,
				      &md->groups[md->ngroups - 1]) < 0)
				return -1;
		}
		return 0;
	}
	if (sops_metadata_add_group(md) < 0 || keys_from(r, &md->groups[0]) < 0)
		return -1;
	if (md->groups[0].n == 0) {
		free(md->groups);
		md->groups = NULL;
		md->ngroups = 0;
	}
	return 0;
}

static int rule_selector(const struct sops_node *r,
			 struct sops_creation_rule *out)
{
	const struct sops_node *mo = sops_map_get(r, "mac_only_encrypted", NULL);
	int k, found = 0;

	out->mac_only_encrypted = mo && mo->kind == SOPS_SCALAR &&
				  mo->type == SOPS_BOOL && mo->text[0] == 'T';
	for (k = 1; k < SOPS_RULE_COUNT; k++) {
		const struct sops_node *v = sops_map_get(r, sops_rule_name(k),
							 NULL);

		if (!v || v->kind != SOPS_SCALAR || v->type == SOPS_NULL)
			continue;
		if (found++)
			return err_set(EXIT_USAGE, ".sops.yaml: a creation rule "
				       "sets more than one of the encrypted_/"
				       "unencrypted_ suffix and regex options");
		if (sops_rule_set(&out->rule, k, v->text) < 0)
			return -1;
	}
	return 0;
}

static char *match_path(const struct sops_config *c, const char *file)
{
	char *abs;
	size_t dl = strlen(c->dir);

	if (!file || !strcmp(file, "-"))
		return strdup("");
	abs = abs_path(file);
	if (!abs)
		return NULL;
	clean_path(abs);
	if (!strncmp(abs, c->dir, dl) && abs[dl] == '/')
		memmove(abs, abs + dl + 1, strlen(abs + dl + 1) + 1);
	return abs;
}

static int rule_matches(const struct sops_node *r, const char *rel)
{
	const struct sops_node *re = sops_map_get(r, "path_regex", NULL);
	regex_t rx;
	int m;

	if (!re || re->kind != SOPS_SCALAR || re->len == 0)
		return 1;
	if (sops_regcomp(&rx, re->text) < 0)
		return err_prefix(".sops.yaml path_regex");
	m = regexec(&rx, rel, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

int sops_config_match(const struct sops_config *c, const char *file,
		      struct sops_creation_rule *out)
{
	const struct sops_node *rules = sops_map_get(c->root, "creation_rules",
						     NULL);
	char *rel;
	size_t i;
	int m = 0;

	memset(out, 0, sizeof(*out));
	if (!c->root || !rules || rules->kind != SOPS_SEQ || rules->n == 0)
		return 0;
	rel = match_path(c, file);
	if (!rel)
		return err_set(EXIT_FAILED, "out of memory");
	for (i = 0; i < rules->n && m == 0; i++) {
		const struct sops_node *r = rules->items[i].val;

		if (r->kind != SOPS_MAP)
			continue;
		m = rule_matches(r, rel);
		if (m == 1 && (rule_keys(r, &out->keys) < 0 ||
			       rule_selector(r, out) < 0))
			m = -1;
	}
	free(rel);
	if (m == 0)
		return err_set(EXIT_USAGE, "error loading config: no matching "
			       "creation rules found in %s for %s", c->path,
			       file ? file : "stdin");
	if (m < 0)
		sops_creation_rule_free(out);
	return m;
}
