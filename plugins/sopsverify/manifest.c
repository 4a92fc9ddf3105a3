/*
 * manifest.c - finding the SOPS-encrypted Secret manifests under a path.
 *
 * A directory with a kustomization.yaml is read the way kustomize reads it:
 * only its `resources` count, and its `namespace:` is given to everything
 * they hold (an outer kustomization's namespace wins over an inner one, as
 * kustomize applies the outer transformer last).  A directory without one
 * is searched for YAML and JSON files, as Flux does when it generates a
 * kustomization itself.  Files reached twice are read once.
 */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/output.h"
#include "util/err.h"
#include "util/log.h"
#include "util/yamljson.h"

#define VS_MAX_FILE (8L * 1024 * 1024)
#define VS_MAX_DEPTH 32

struct walker {
	struct vs_set *set;
	char **seen;		/* real paths of files and directories read */
	size_t nseen, cap;
};

static const char *const KZ_NAMES[] = {
	"kustomization.yaml", "kustomization.yml", "Kustomization", NULL
};

/* The lists of a kustomization whose entries it builds from. */
static const char *const KZ_LISTS[] = {
	"resources", "bases", "components", NULL
};

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool value_is_sops_document(const char *b64)
{
	struct buf plain;
	cJSON *fake = cJSON_CreateObject();
	cJSON *data = cJSON_AddObjectToObject(fake, "data");
	bool res = false;

	buf_init_secret(&plain);
	if (data && cJSON_AddStringToObject(data, "k", b64) &&
	    vs_live_value(fake, "k", &plain) == 1)
		res = vs_looks_encrypted(plain.data, plain.len);
	buf_free(&plain);
	cJSON_Delete(fake);
	return res;
}

bool vs_is_encrypted_secret(const cJSON *obj)
{
	const cJSON *md, *ann, *data, *v;
	const char *off;

	if (!cJSON_IsObject(obj))
		return false;
	if (!str_member(obj, "kind") || strcmp(str_member(obj, "kind"),
					       "Secret") != 0)
		return false;
	if (!str_member(obj, "apiVersion") ||
	    strcmp(str_member(obj, "apiVersion"), "v1") != 0)
		return false;
	md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	off = str_member(ann, "kustomize.toolkit.fluxcd.io/decrypt");
	if (off && strcmp(off, "disabled") == 0)
		return false;
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "sops")))
		return true;
	data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	cJSON_ArrayForEach(v, data)
		if (cJSON_IsString(v) && value_is_sops_document(v->valuestring))
			return true;
	return false;
}

/* ---- the set ------------------------------------------------------------ */

int vs_set_warn(struct vs_set *set, const char *fmt, ...)
{
	char **n;
	char *msg;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return err_set(EXIT_FAILED, "out of memory");
	n = reallocarray(set->warnings, set->nwarnings + 1, sizeof(*n));
	if (!n) {
		free(msg);
		return err_set(EXIT_FAILED, "out of memory");
	}
	set->warnings = n;
	set->warnings[set->nwarnings++] = msg;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void vs_secret_reset(struct vs_secret *s)
{
	for (size_t i = 0; i < s->nnotes; i++)
		free(s->notes[i].key);
	free(s->notes);
	free_strv(s->missing_keys, s->nmissing);
	free_strv(s->extra_keys, s->nextra);
	free_strv(s->encrypted_keys, s->nencrypted);
	free(s->detail);
	free(s->next_step);
	free(s->edited_by);
	vs_owner_free(&s->owner);
	s->notes = NULL;
	s->missing_keys = s->extra_keys = s->encrypted_keys = NULL;
	s->nnotes = s->nmissing = s->nextra = s->nencrypted = 0;
	s->detail = s->next_step = s->edited_by = NULL;
	s->verdict = VS_PENDING;
}

static void secret_free(struct vs_secret *s)
{
	vs_secret_reset(s);
	for (size_t i = 0; i < s->nkeys; i++) {
		free(s->keys[i].name);
		buf_free(&s->keys[i].plain);
	}
	free(s->keys);
	free(s->namespace);
	free(s->name);
	free(s->file);
	free(s->fixed_error);
	cJSON_Delete(s->manifest);
}

void vs_set_free(struct vs_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		secret_free(&set->s[i]);
	free(set->s);
	free_strv(set->warnings, set->nwarnings);
	memset(set, 0, sizeof(*set));
}

static struct vs_secret *set_add(struct vs_set *set)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct vs_secret *n = reallocarray(set->s, cap, sizeof(*n));

		if (!n) {
			err_set(EXIT_FAILED, "out of memory");
			return NULL;
		}
		set->s = n;
		set->cap = cap;
	}
	memset(&set->s[set->n], 0, sizeof(set->s[0]));
	return &set->s[set->n++];
}

static int key_add(struct vs_secret *s, const char *name, bool string_data)
{
	struct vs_key *n;

	for (size_t i = 0; i < s->nkeys; i++) {
		if (strcmp(s->keys[i].name, name) == 0) {
			/* stringData wins over data, as in the API server */
			s->keys[i].from_string_data |= string_data;
			return 0;
		}
	}
	n = reallocarray(s->keys, s->nkeys + 1, sizeof(*n));
	if (!n)
		return err_set(EXIT_FAILED, "out of memory");
	s->keys = n;
	memset(&n[s->nkeys], 0, sizeof(*n));
	buf_init_secret(&n[s->nkeys].plain);
	n[s->nkeys].from_string_data = string_data;
	n[s->nkeys].name = strdup(name);
	if (!n[s->nkeys].name)
		return err_set(EXIT_FAILED, "out of memory");
	s->nkeys++;
	return 0;
}

static int collect_keys(struct vs_secret *s)
{
	static const char *const fields[] = { "data", "stringData" };
	const cJSON *v;

	for (int f = 0; f < 2; f++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(s->manifest,
								  fields[f]);

		cJSON_ArrayForEach(v, m)
			if (v->string && key_add(s, v->string, f == 1) < 0)
				return -1;
	}
	return 0;
}

/* ---- reading one file --------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[16384];
	size_t got;

	if (!f) {
		err_set(EXIT_USAGE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + got > (size_t)VS_MAX_FILE) {
			err_set(EXIT_USAGE, "%s: larger than %ld bytes", path,
				VS_MAX_FILE);
			goto fail;
		}
		if (buf_append(&b, chunk, got) < 0)
			goto fail;
	}
	if (ferror(f)) {
		err_set(EXIT_USAGE, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (!b.data && buf_puts(&b, "") < 0)
		return NULL;
	return buf_detach(&b, len);
fail:
	fclose(f);
	buf_free(&b);
	return NULL;
}

static int add_secret(struct vs_set *set, const char *file, int doc,
		      cJSON *obj, const char *ns_override)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *name = str_member(md, "name");
	const char *ns = ns_override ? ns_override : str_member(md, "namespace");
	struct vs_secret *s;

	if (!name || !*name || vs_looks_encrypted(name, strlen(name)))
		return vs_set_warn(set, "%s: document %d: a Secret whose "
				   "metadata.name is missing or encrypted "
				   "(encrypt with encrypted_regex "
				   "'^(data|stringData)$'): skipped",
				   file, doc + 1);
	if (ns && vs_looks_encrypted(ns, strlen(ns)))
		ns = NULL;
	s = set_add(set);
	if (!s)
		return -1;
	s->doc = doc;
	s->name = strdup(name);
	s->file = strdup(file);
	s->namespace = ns && *ns ? strdup(ns) : NULL;
	s->manifest = cJSON_Duplicate(obj, true);
	if (!s->name || !s->file || !s->manifest ||
	    (ns && *ns && !s->namespace))
		return err_set(EXIT_FAILED, "out of memory");
	return collect_keys(s);
}

static int load_file(struct walker *w, const char *path, const char *ns)
{
	size_t len;
	char *text = read_file(path, &len);
	cJSON *docs, *d;
	int i = 0, rc = 0;

	if (!text)
		return -1;
	progress_update("reading %s", path);
	docs = yaml_parse_all(text, len, path);
	if (!docs) {
		bool enc = strstr(text, "ENC[AES256_GCM,") != NULL;

		free(text);
		rc = vs_set_warn(w->set, "%s%s (skipped)", err_msg(),
				 enc ? "; it holds SOPS-encrypted values" : "");
		err_clear();
		return rc;
	}
	free(text);
	cJSON_ArrayForEach(d, docs) {
		if (vs_is_encrypted_secret(d))
			rc = add_secret(w->set, path, i, d, ns);
		if (rc < 0)
			break;
		i++;
	}
	log_at(LOG_STEPS, "read %s: %d document(s)", path, i);
	cJSON_Delete(docs);
	return rc;
}

/* ---- walking ------------------------------------------------------------ */

/* Returns 1 when path was seen before, 0 when new (now remembered). */
static int seen_before(struct walker *w, const char *path)
{
	char real[PATH_MAX];
	char **n;

	if (!realpath(path, real))
		return err_set(EXIT_USAGE, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i], real) == 0)
			return 1;
	if (w->nseen == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 32;
		n = reallocarray(w->seen, w->cap, sizeof(*n));
		if (!n)
			return err_set(EXIT_FAILED, "out of memory");
		w->seen = n;
	}
	w->seen[w->nseen] = strdup(real);
	if (!w->seen[w->nseen])
		return err_set(EXIT_FAILED, "out of memory");
	w->nseen++;
	return 0;
}

static bool manifest_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static char *join(const char *dir, const char *name)
{
	char *p;
	size_t n = strlen(dir);

	if (asprintf(&p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/",
		     name) < 0) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	return p;
}

static int walk(struct walker *w, const char *path, const char *ns,
		int depth, bool top);

static bool is_remote(const char *res)
{
	return strstr(res, "://") || strncmp(res, "github.com/", 11) == 0 ||
	       strncmp(res, "git@", 4) == 0;
}

static int walk_subdirs(struct walker *w, const char *dir, int depth)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0)
		return err_set(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char *p = NULL;
		struct stat st;

		if (rc == 0 && ents[i]->d_name[0] != '.') {
			p = join(dir, ents[i]->d_name);
			if (!p)
				rc = -1;
			else if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rc = walk(w, p, NULL, depth + 1, false);
		}
		free(p);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int walk_kustomization(struct walker *w, const char *dir,
			      const char *kzfile, const char *ns, int depth)
{
	cJSON *kz = yaml_parse_file(kzfile);
	const cJSON *res, *r;
	const char *own;
	int rc = 0;

	if (!kz) {
		rc = vs_set_warn(w->set, "%s (skipped)", err_msg());
		err_clear();
		return rc;
	}
	own = str_member(kz, "namespace");
	if (!ns && own && *own)
		ns = own;
	for (int f = 0; KZ_LISTS[f] && rc == 0; f++) {
		res = cJSON_GetObjectItemCaseSensitive(kz, KZ_LISTS[f]);
		cJSON_ArrayForEach(r, res) {
			char *p;

			if (!cJSON_IsString(r) || is_remote(r->valuestring))
				continue;
			p = join(dir, r->valuestring);
			rc = p ? walk(w, p, ns, depth + 1, false) : -1;
			free(p);
			if (rc < 0)
				break;
		}
	}
	cJSON_Delete(kz);
	/* Sub-directories it does not list are no part of its build, but
	 * another Flux Kustomization may apply them (spec.path): walk them
	 * on their own.  Files it does not list are applied by nobody. */
	return rc < 0 ? rc : walk_subdirs(w, dir, depth);
}

static int walk_plain_dir(struct walker *w, const char *dir, const char *ns,
			  int depth)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0)
		return err_set(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		char *p = NULL;
		struct stat st;

		if (rc == 0 && e[0] != '.' && (p = join(dir, e)) &&
		    stat(p, &st) == 0 &&
		    (S_ISDIR(st.st_mode) || manifest_name(e)))
			rc = walk(w, p, ns, depth + 1, false);
		else if (rc == 0 && e[0] != '.' && !p)
			rc = -1;
		free(p);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int walk_dir(struct walker *w, const char *dir, const char *ns,
		    int depth)
{
	for (int i = 0; KZ_NAMES[i]; i++) {
		char *kz = join(dir, KZ_NAMES[i]);
		struct stat st;
		int rc;

		if (!kz)
			return -1;
		if (stat(kz, &st) == 0 && S_ISREG(st.st_mode)) {
			log_at(LOG_STEPS, "%s: following its resources", kz);
			rc = walk_kustomization(w, dir, kz, ns, depth);
			free(kz);
			return rc;
		}
		free(kz);
	}
	return walk_plain_dir(w, dir, ns, depth);
}

static int walk(struct walker *w, const char *path, const char *ns,
		int depth, bool top)
{
	struct stat st;
	int seen;

	if (depth > VS_MAX_DEPTH)
		return vs_set_warn(w->set, "%s: nested too deeply (skipped)",
				   path);
	if (stat(path, &st) != 0) {
		if (top)
			return err_set(EXIT_USAGE, "%s: %s", path,
				       strerror(errno));
		return vs_set_warn(w->set, "%s: %s (skipped)", path,
				   strerror(errno));
	}
	seen = seen_before(w, path);
	if (seen != 0)
		return seen < 0 ? -1 : 0;
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, path, ns, depth);
	if (!S_ISREG(st.st_mode))
		return vs_set_warn(w->set, "%s: not a regular file (skipped)",
				   path);
	return load_file(w, path, ns);
}

int vs_discover(struct vs_set *set, char *const *paths, size_t n)
{
	struct walker w = { set, NULL, 0, 0 };
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = walk(&w, paths[i], NULL, 0, true);
	progress_done();

	free_strv(w.seen, w.nseen);
	return rc;
}

static int set_ns(struct vs_secret *s, const char *ns)
{
	char *n = strdup(ns);

	if (!n)
		return err_set(EXIT_FAILED, "out of memory");
	free(s->namespace);
	s->namespace = n;
	return 0;
}

int vs_default_namespace(struct vs_set *set, const char *ns)
{
	for (size_t i = 0; i < set->n; i++)
		if (!set->s[i].namespace && set_ns(&set->s[i], ns) < 0)
			return -1;
	return 0;
}

int vs_force_namespace(struct vs_set *set, const char *ns)
{
	for (size_t i = 0; i < set->n; i++)
		if (set_ns(&set->s[i], ns) < 0)
			return -1;
	return 0;
}
