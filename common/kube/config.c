#include "kube/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/yamljson.h"

#define EXEC_EXTENSION "client.authentication.k8s.io/exec"
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define PLUGIN_DOCS "https://kubernetes.io/docs/reference/access-authn-" \
		    "authz/authentication/#client-go-credential-plugins"

/* One named entry of clusters/users/contexts, remembering its file. */
struct entry {
	const char *name;
	const cJSON *body;		/* the `cluster`/`user`/`context` map */
	const char *file;
	const char *dir;		/* absolute directory of that file */
};

struct entries {
	struct entry *v;
	size_t n;
};

struct loaded {
	cJSON **docs;
	char **files;			/* as given */
	char **dirs;			/* absolute directories */
	size_t nfiles;
	struct entries clusters, users, contexts;
	const char *current;		/* first non-empty current-context */
	struct buf looked;		/* "a, b" for messages */
};

static int oom(void)
{
	return err_set(EXIT_FAILED, "out of memory");
}

static char *xstrdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		oom();
	return d;
}

/* ---- paths --------------------------------------------------------------- */

/* Go's filepath.Clean for absolute Unix paths, in place. */
static void path_clean(char *p)
{
	char *out = p, *seg = p;
	size_t keep;

	while (*seg) {
		char *end;
		size_t len;

		while (*seg == '/')
			seg++;
		end = strchr(seg, '/');
		len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0)
			break;
		if (len == 1 && seg[0] == '.') {
			/* skip */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, seg, len);
			out += len;
		}
		seg += len;
	}
	keep = (size_t)(out - p);
	if (keep == 0)
		p[keep++] = '/';
	p[keep] = '\0';
}

/* Absolute, clean form of `path` relative to `base` (absolute). */
static char *path_join(const char *base, const char *path)
{
	struct buf b = BUF_INIT;

	if (path[0] == '/') {
		if (buf_puts(&b, path) < 0)
			return NULL;
	} else if (buf_printf(&b, "%s/%s", base, path) < 0) {
		return NULL;
	}
	path_clean(b.data);
	return buf_detach(&b, NULL);
}

static char *abs_dir_of(const char *file)
{
	char cwd[4096], *dir, *slash, *res;

	dir = xstrdup(file);
	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	res = path_join(cwd, dir);
	free(dir);
	return res;
}

/* Resolves a path field; empty stays NULL. */
static int resolve_path(const char *dir, const char *value, char **out)
{
	*out = NULL;
	if (!value || !*value)
		return 0;
	*out = path_join(dir, value);
	return *out ? 0 : -1;
}

/* A plain YAML word kept as text (YAML_PLAIN_STRINGS) that YAML reads as
 * a boolean. */
static bool yaml_word_bool(const cJSON *v, bool *out)
{
	cJSON *r;

	if (!cJSON_IsString(v) || !yaml_plain_is_special(v->valuestring))
		return false;
	r = yaml_parse(v->valuestring, strlen(v->valuestring), "value");
	if (!cJSON_IsBool(r)) {
		cJSON_Delete(r);
		return false;
	}
	*out = cJSON_IsTrue(r);
	cJSON_Delete(r);
	return true;
}

/* ---- typed field access -------------------------------------------------- */

static int bad_type(const char *file, const char *kind, const char *name,
		    const char *key, const char *want)
{
	err_set(EXIT_USAGE, "kubeconfig %s: %s \"%s\": field %s must be %s",
		file, kind, name, key, want);
	return err_hint("fix the file, or check it with `kubectl config view`");
}

static int get_str(const struct entry *e, const char *kind, const char *key,
		   const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->body, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return bad_type(e->file, kind, e->name, key, "a string");
	*out = v->valuestring;
	return 0;
}

static int get_bool(const struct entry *e, const char *kind, const char *key,
		    bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->body, key);

	*out = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 0;
	}
	return yaml_word_bool(v, out) ? 0 : bad_type(e->file, kind, e->name,
						      key, "true or false");
}

/* ---- reading files --------------------------------------------------------- */

static const struct entry *find(const struct entries *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* Adds the entries of one list of one file; first file wins. */
static int add_list(struct loaded *L, size_t fi, const char *list,
		    const char *member, struct entries *set)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(L->docs[fi], list);
	const cJSON *it;

	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr)) {
		err_set(EXIT_USAGE, "kubeconfig %s: %s must be a list",
			L->files[fi], list);
		return -1;
	}
	cJSON_ArrayForEach(it, arr) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(it, member);
		const cJSON *prev;
		struct entry *grown;

		if (!cJSON_IsObject(it) || !cJSON_IsString(name))
			return err_set(EXIT_USAGE, "kubeconfig %s: every entry "
				       "of %s needs a name", L->files[fi], list);
		if (body && !cJSON_IsObject(body) && !cJSON_IsNull(body))
			return err_set(EXIT_USAGE, "kubeconfig %s: %s \"%s\" "
				       "must be a mapping", L->files[fi],
				       member, name->valuestring);
		for (prev = arr->child; prev != it; prev = prev->next)
			if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
				   prev, "name")), name->valuestring) == 0)
				return err_set(EXIT_USAGE, "kubeconfig %s: "
					       "duplicate name \"%s\" in %s",
					       L->files[fi], name->valuestring,
					       list);
		if (find(set, name->valuestring))
			continue;	/* an earlier file wins, whole */
		grown = realloc(set->v, (set->n + 1) * sizeof(*grown));
		if (!grown)
			return oom();
		set->v = grown;
		grown[set->n].name = name->valuestring;
		grown[set->n].body = body;
		grown[set->n].file = L->files[fi];
		grown[set->n].dir = L->dirs[fi];
		set->n++;
	}
	return 0;
}

static int add_file(struct loaded *L, const char *path, cJSON *doc)
{
	size_t i = L->nfiles;
	const cJSON *cur;

	if (!cJSON_IsObject(doc) && !cJSON_IsNull(doc)) {
		cJSON_Delete(doc);
		err_set(EXIT_USAGE, "kubeconfig %s: not a kubeconfig (the top "
			"level must be a mapping)", path);
		return -1;
	}
	L->docs = realloc(L->docs, (i + 1) * sizeof(*L->docs));
	L->files = realloc(L->files, (i + 1) * sizeof(*L->files));
	L->dirs = realloc(L->dirs, (i + 1) * sizeof(*L->dirs));
	if (!L->docs || !L->files || !L->dirs) {
		cJSON_Delete(doc);
		return oom();
	}
	L->docs[i] = doc;
	L->files[i] = xstrdup(path);
	L->dirs[i] = abs_dir_of(path);
	L->nfiles++;
	if (!L->files[i] || !L->dirs[i])
		return -1;
	if (add_list(L, i, "clusters", "cluster", &L->clusters) < 0 ||
	    add_list(L, i, "users", "user", &L->users) < 0 ||
	    add_list(L, i, "contexts", "context", &L->contexts) < 0)
		return -1;
	cur = cJSON_GetObjectItemCaseSensitive(doc, "current-context");
	if (!L->current && cJSON_IsString(cur) && *cur->valuestring)
		L->current = cur->valuestring;
	return 0;
}

/* Reads one file.  `must` makes a missing file an error. */
static int read_one(struct loaded *L, const char *path, bool must,
		    bool *found)
{
	struct stat st;
	cJSON *doc;

	*found = false;
	if (L->looked.len)
		buf_puts(&L->looked, ", ");
	buf_puts(&L->looked, path);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		if (!must)
			return 0;
		err_set(EXIT_USAGE, "kubeconfig %s does not exist", path);
		return err_hint("check the --kubeconfig path");
	}
	doc = yaml_parse_file_ex(path, YAML_PLAIN_STRINGS);
	if (!doc)
		return err_prefix("cannot load kubeconfig");
	*found = true;
	return add_file(L, path, doc);
}

static int read_list(struct loaded *L, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *p;
	char **seen = NULL;
	size_t nseen = 0, i;
	bool any = false, found;
	int rc = 0;

	if (!copy)
		return -1;
	for (p = strtok_r(copy, ":", &save); p && rc == 0;
	     p = strtok_r(NULL, ":", &save)) {
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], p) == 0)
				break;
		if (i < nseen)
			continue;
		seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		if (!seen) {
			rc = oom();
			break;
		}
		seen[nseen++] = p;
		rc = read_one(L, p, false, &found);
		any = any || found;
	}
	if (rc == 0 && !any && nseen)
		log_warn("Config not found: %s", L->looked.data);
	free(seen);
	free(copy);
	return rc;
}

static int read_files(struct loaded *L, const struct kube_opts *o)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char path[4096];
	bool found;

	buf_init(&L->looked);
	if (o->kubeconfig && *o->kubeconfig)
		return read_one(L, o->kubeconfig, true, &found);
	if (env && *env)
		return read_list(L, env);
	if (!home || !*home)
		return 0;
	snprintf(path, sizeof(path), "%s/.kube/config", home);
	return read_one(L, path, false, &found);
}

static void loaded_free(struct loaded *L)
{
	size_t i;

	for (i = 0; i < L->nfiles; i++) {
		cJSON_Delete(L->docs[i]);
		free(L->files[i]);
		free(L->dirs[i]);
	}
	free(L->docs);
	free(L->files);
	free(L->dirs);
	free(L->clusters.v);
	free(L->users.v);
	free(L->contexts.v);
	buf_free(&L->looked);
}

/* ---- in-cluster ------------------------------------------------------------ */

static bool in_cluster_possible(void)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST");
	const char *p = getenv("KUBERNETES_SERVICE_PORT");
	struct stat st;

	return h && *h && p && *p &&
	       stat(KUBE_SA_DIR "/token", &st) == 0 && S_ISREG(st.st_mode);
}

static char *read_trimmed(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n;

	if (!f)
		return NULL;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	return n ? strdup(line + strspn(line, " \t\r\n")) : NULL;
}

static char *in_cluster_namespace(void)
{
	const char *env = getenv("POD_NAMESPACE");
	char *ns;

	if (env && *env)
		return xstrdup(env);
	ns = read_trimmed(KUBE_SA_DIR "/namespace");
	return ns ? ns : xstrdup("default");
}

static int load_in_cluster(struct kube_config *c)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST");
	const char *p = getenv("KUBERNETES_SERVICE_PORT");
	struct buf b = BUF_INIT;

	if (strchr(h, ':'))
		buf_printf(&b, "https://[%s]:%s", h, p);
	else
		buf_printf(&b, "https://%s:%s", h, p);
	c->server = buf_detach(&b, NULL);
	c->token_file = xstrdup(KUBE_SA_DIR "/token");
	if (access(KUBE_SA_DIR "/ca.crt", R_OK) == 0)
		c->ca_file = xstrdup(KUBE_SA_DIR "/ca.crt");
	else
		log_warn("in-cluster: cannot read %s/ca.crt; using the system "
			 "trust store", KUBE_SA_DIR);
	c->in_cluster = true;
	c->source = xstrdup("in-cluster configuration");
	c->context_name = xstrdup("");
	c->cluster_name = xstrdup("");
	c->user_name = xstrdup("");
	return c->server && c->token_file && c->source ? 0 : oom();
}

/* ---- the cluster --------------------------------------------------------- */

/* Decodes base64 (whitespace allowed) into a new NUL-terminated buffer. */
static char *b64_dup_loose(const char *in, size_t *len)
{
	size_t n = strlen(in);
	char *out = malloc(n * 3 / 4 + 4);

	if (!out) {
		oom();
		return NULL;
	}
	if (b64_decode_loose(in, n, (unsigned char *)out, len) < 0) {
		explicit_bzero(out, n * 3 / 4 + 4);
		free(out);
		return NULL;
	}
	out[*len] = '\0';
	return out;
}

static int load_data(const struct entry *e, const char *kind,
		     const char *key, char **out, size_t *len)
{
	const char *v;

	if (get_str(e, kind, key, &v) < 0)
		return -1;
	*out = NULL;
	*len = 0;
	if (!v || !*v)
		return 0;
	*out = b64_dup_loose(v, len);
	if (!*out) {
		err_set(EXIT_USAGE, "kubeconfig %s: %s \"%s\": %s is not valid "
			"base64", e->file, kind, e->name, key);
		return err_hint("the *-data fields hold base64 of the PEM text");
	}
	return 0;
}

static int need_readable(const struct entry *e, const char *kind,
			 const char *key, const char *path)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	err_set(EXIT_USAGE, "kubeconfig %s: %s \"%s\": cannot read %s %s: %s",
		e->file, kind, e->name, key, path, strerror(errno));
	return err_hint("fix the path (relative paths are resolved against "
			"the kubeconfig file's directory)");
}

static int both_set(const struct entry *e, const char *kind, const char *a,
		    const char *b)
{
	err_set(EXIT_USAGE, "kubeconfig %s: %s \"%s\": %s and %s are both "
		"specified", e->file, kind, e->name, a, b);
	return err_hint("keep only one of them");
}

static int normalise_server(struct kube_config *c, const char *server,
			    bool tls)
{
	struct buf b = BUF_INIT;
	size_t n;
	char *cut;

	if (!strstr(server, "://")) {
		if (buf_printf(&b, "%s://%s", tls ? "https" : "http",
			       server) < 0)
			return -1;
	} else if (buf_puts(&b, server) < 0) {
		return -1;
	}
	if ((cut = strpbrk(b.data + strcspn(b.data, ":") + 3, "?#")))
		*cut = '\0';
	n = strlen(b.data);
	while (n && b.data[n - 1] == '/')
		b.data[--n] = '\0';
	c->server = buf_detach(&b, NULL);
	return 0;
}

static int exec_extension(struct kube_config *c, const struct entry *e)
{
	const cJSON *exts = cJSON_GetObjectItemCaseSensitive(e->body,
							      "extensions");
	const cJSON *it;

	cJSON_ArrayForEach(it, exts) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");

		if (cJSON_IsString(n) && strcmp(n->valuestring,
						EXEC_EXTENSION) == 0) {
			c->exec_cluster_config = cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(it, "extension"),
			    1);
			return 0;
		}
	}
	return 0;
}

static int load_cluster(struct kube_config *c, const struct entry *e)
{
	const char *K = "cluster", *server, *ca, *sni, *proxy;
	char *ca_path = NULL;

	if (get_str(e, K, "server", &server) < 0 ||
	    get_str(e, K, "certificate-authority", &ca) < 0 ||
	    get_str(e, K, "tls-server-name", &sni) < 0 ||
	    get_str(e, K, "proxy-url", &proxy) < 0 ||
	    get_bool(e, K, "insecure-skip-tls-verify", &c->insecure) < 0 ||
	    get_bool(e, K, "disable-compression", &c->disable_compression) < 0)
		return -1;
	if (load_data(e, K, "certificate-authority-data", &c->ca_data,
		      &c->ca_len) < 0 ||
	    resolve_path(e->dir, ca, &ca_path) < 0)
		return -1;
	c->ca_file = ca_path;
	if (c->ca_file && c->ca_data)
		return both_set(e, K, "certificate-authority",
				"certificate-authority-data");
	if (c->insecure && (c->ca_file || c->ca_data)) {
		err_set(EXIT_USAGE, "kubeconfig %s: cluster \"%s\": specifying "
			"a root certificates file with the insecure flag is "
			"not allowed", e->file, e->name);
		return err_hint("remove insecure-skip-tls-verify or the "
				"certificate-authority");
	}
	if (need_readable(e, K, "certificate-authority", c->ca_file) < 0)
		return -1;
	if (!server || !*server) {
		err_set(EXIT_USAGE, "no server found for cluster \"%s\" "
			"(kubeconfig %s)", e->name, e->file);
		return err_hint("set clusters[].cluster.server to the API "
				"server's https:// URL");
	}
	if (normalise_server(c, server, c->insecure || c->ca_file ||
				 c->ca_data) < 0)
		return -1;
	c->tls_server_name = sni && *sni ? xstrdup(sni) : NULL;
	c->proxy_url = proxy && *proxy ? xstrdup(proxy) : NULL;
	if (c->insecure)
		log_warn("insecure-skip-tls-verify is set for cluster \"%s\": "
			 "the server's identity is not checked", e->name);
	return exec_extension(c, e);
}

/* ---- exec ---------------------------------------------------------------- */

static void exec_free(struct kube_exec_config *x)
{
	size_t i;

	if (!x)
		return;
	free(x->command);
	for (i = 0; i < x->nargs; i++)
		free(x->args[i]);
	free(x->args);
	for (i = 0; i < x->nenv; i++) {
		explicit_bzero(x->env[i], strlen(x->env[i]));
		free(x->env[i]);
	}
	free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x);
}

static int exec_args(struct kube_exec_config *x, const cJSON *args,
		     const struct entry *e)
{
	const cJSON *a;

	if (!args || cJSON_IsNull(args))
		return 0;
	if (!cJSON_IsArray(args))
		return bad_type(e->file, "user", e->name, "exec.args",
				"a list of strings");
	x->args = calloc((size_t)cJSON_GetArraySize(args) + 1, sizeof(char *));
	if (!x->args)
		return oom();
	cJSON_ArrayForEach(a, args) {
		if (!cJSON_IsString(a))
			return bad_type(e->file, "user", e->name, "exec.args",
					"a list of strings");
		if (!(x->args[x->nargs++] = xstrdup(a->valuestring)))
			return -1;
	}
	return 0;
}

static int exec_env(struct kube_exec_config *x, const cJSON *env,
		    const struct entry *e)
{
	const cJSON *it;

	if (!env || cJSON_IsNull(env))
		return 0;
	if (!cJSON_IsArray(env))
		return bad_type(e->file, "user", e->name, "exec.env",
				"a list of {name, value}");
	x->env = calloc((size_t)cJSON_GetArraySize(env) + 1, sizeof(char *));
	if (!x->env)
		return oom();
	cJSON_ArrayForEach(it, env) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
		struct buf b = BUF_INIT;

		if (!cJSON_IsString(n) || !*n->valuestring) {
			err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": "
				"exec.env entry without a name", e->file,
				e->name);
			return -1;
		}
		if (buf_printf(&b, "%s=%s", n->valuestring,
			       cJSON_IsString(v) ? v->valuestring : "") < 0)
			return -1;
		x->env[x->nenv++] = buf_detach(&b, NULL);
	}
	return 0;
}

static char *clean_hint(const char *s)
{
	char *h = xstrdup(s ? s : ""), *p;

	for (p = h; p && *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\n' && *p != '\t')
			*p = '?';
	return h;
}

static int exec_mode(struct kube_exec_config *x, const cJSON *mode,
		     const struct entry *e)
{
	const char *m = cJSON_IsString(mode) ? mode->valuestring : "";

	if (!*m && strcmp(x->api_version, EXEC_V1BETA1) == 0)
		m = "IfAvailable";
	if (strcmp(m, "Never") == 0)
		x->interactive = KUBE_INTERACTIVE_NEVER;
	else if (strcmp(m, "IfAvailable") == 0)
		x->interactive = KUBE_INTERACTIVE_IF_AVAILABLE;
	else if (strcmp(m, "Always") == 0)
		x->interactive = KUBE_INTERACTIVE_ALWAYS;
	else {
		err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": exec "
			"interactiveMode must be Never, IfAvailable or Always%s",
			e->file, e->name, *m ? "" : " (required for v1)");
		return err_hint("add interactiveMode: IfAvailable to the exec "
				"stanza");
	}
	return 0;
}

static int load_exec(struct kube_config *c, const struct entry *e,
		     const cJSON *ex)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(ex, "command");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(ex, "apiVersion");
	const cJSON *pci = cJSON_GetObjectItemCaseSensitive(ex,
							"provideClusterInfo");
	struct kube_exec_config *x = calloc(1, sizeof(*x));

	if (!x)
		return oom();
	c->exec = x;
	if (!cJSON_IsString(cmd) || !*cmd->valuestring) {
		err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": exec command "
			"must be specified", e->file, e->name);
		return -1;
	}
	if (!cJSON_IsString(ver) || !*ver->valuestring)
		return err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": exec "
			       "apiVersion must be specified", e->file, e->name);
	if (strcmp(ver->valuestring, EXEC_V1) != 0 &&
	    strcmp(ver->valuestring, EXEC_V1BETA1) != 0) {
		err_set(EXIT_USAGE, "exec plugin: invalid apiVersion \"%s\" "
			"(user \"%s\" in %s)", ver->valuestring, e->name,
			e->file);
		return err_hint("use client.authentication.k8s.io/v1 or "
				"v1beta1");
	}
	x->api_version = xstrdup(ver->valuestring);
	if (strchr(cmd->valuestring, '/'))
		x->command = path_join(e->dir, cmd->valuestring);
	else
		x->command = xstrdup(cmd->valuestring);
	x->install_hint = clean_hint(cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(ex, "installHint")));
	if (!cJSON_IsTrue(pci) && !yaml_word_bool(pci, &x->provide_cluster_info))
		x->provide_cluster_info = false;
	else if (cJSON_IsTrue(pci))
		x->provide_cluster_info = true;
	if (!x->api_version || !x->command || !x->install_hint)
		return -1;
	if (exec_args(x, cJSON_GetObjectItemCaseSensitive(ex, "args"), e) < 0 ||
	    exec_env(x, cJSON_GetObjectItemCaseSensitive(ex, "env"), e) < 0)
		return -1;
	return exec_mode(x, cJSON_GetObjectItemCaseSensitive(ex,
						"interactiveMode"), e);
}

/* ---- the user ------------------------------------------------------------- */

static int refuse_auth_provider(const struct entry *e, const cJSON *ap)
{
	const char *name = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(ap, "name"));

	if (!name)
		name = "";
	err_set(EXIT_USAGE, "user \"%s\" (kubeconfig %s) uses the legacy "
		"auth-provider \"%s\", which is not supported", e->name,
		e->file, name);
	if (strcmp(name, "azure") == 0)
		return err_hint("convert the kubeconfig to the kubelogin exec "
				"plugin: kubelogin convert-kubeconfig -l "
				"azurecli (or run az aks get-credentials "
				"again)");
	if (strcmp(name, "gcp") == 0)
		return err_hint("install gke-gcloud-auth-plugin and run gcloud "
				"container clusters get-credentials again");
	return err_hint("switch this user to an exec credential plugin "
			"(for OIDC: kubelogin/kubectl oidc-login), or to a "
			"token or client certificate");
}

static int load_identity(struct kube_config *c, const struct entry *e)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(e->body, "as-groups");
	const cJSON *it;
	const char *as, *uid;

	if (get_str(e, "user", "as", &as) < 0 ||
	    get_str(e, "user", "as-uid", &uid) < 0)
		return -1;
	if ((uid && *uid) || cJSON_GetArraySize(g) > 0 ||
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		    e->body, "as-user-extra")) > 0) {
		if (!as || !*as)
			return err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": "
				       "as-uid, as-groups or as-user-extra "
				       "need as", e->file, e->name);
	}
	c->as_user = as && *as ? xstrdup(as) : NULL;
	c->as_uid = uid && *uid ? xstrdup(uid) : NULL;
	if (cJSON_GetArraySize(g) > 0) {
		c->as_groups = calloc((size_t)cJSON_GetArraySize(g),
				      sizeof(char *));
		if (!c->as_groups)
			return oom();
		cJSON_ArrayForEach(it, g)
			if (cJSON_IsString(it))
				c->as_groups[c->nas_groups++] =
					xstrdup(it->valuestring);
	}
	return 0;
}

static int load_cert(struct kube_config *c, const struct entry *e)
{
	const char *K = "user", *cf, *kf;

	if (get_str(e, K, "client-certificate", &cf) < 0 ||
	    get_str(e, K, "client-key", &kf) < 0 ||
	    load_data(e, K, "client-certificate-data", &c->cert_data,
		      &c->cert_len) < 0 ||
	    load_data(e, K, "client-key-data", &c->key_data, &c->key_len) < 0 ||
	    resolve_path(e->dir, cf, &c->cert_file) < 0 ||
	    resolve_path(e->dir, kf, &c->key_file) < 0)
		return -1;
	if (c->cert_file && c->cert_data)
		return both_set(e, K, "client-certificate",
				"client-certificate-data");
	if (c->key_file && c->key_data)
		return both_set(e, K, "client-key", "client-key-data");
	if ((c->cert_file || c->cert_data) != (c->key_file || c->key_data)) {
		err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": a client "
			"certificate needs its key, and a key its certificate",
			e->file, e->name);
		return err_hint("set both client-certificate(-data) and "
				"client-key(-data)");
	}
	return need_readable(e, K, "client-certificate", c->cert_file) < 0 ||
	       need_readable(e, K, "client-key", c->key_file) < 0 ? -1 : 0;
}

static int load_user(struct kube_config *c, const struct entry *e)
{
	const char *K = "user", *tok, *tf, *user, *pass;
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(e->body,
							   "auth-provider");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e->body, "exec");

	if (get_str(e, K, "token", &tok) < 0 ||
	    get_str(e, K, "tokenFile", &tf) < 0 ||
	    get_str(e, K, "username", &user) < 0 ||
	    get_str(e, K, "password", &pass) < 0)
		return -1;
	if (ap && !cJSON_IsNull(ap) && ex && !cJSON_IsNull(ex))
		return err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": exec "
			       "and auth-provider cannot both be set", e->file,
			       e->name);
	if ((tok && *tok) && ((user && *user) || (pass && *pass)))
		return err_set(EXIT_USAGE, "kubeconfig %s: user \"%s\": more "
			       "than one authentication method found (token "
			       "and username/password)", e->file, e->name);
	if ((user && *user) || (pass && *pass)) {
		err_set(EXIT_USAGE, "user \"%s\" (kubeconfig %s) uses basic "
			"authentication (username/password), which API servers "
			"no longer accept", e->name, e->file);
		return err_hint("use a token, a client certificate or an exec "
				"credential plugin instead");
	}
	if (ap && !cJSON_IsNull(ap))
		return refuse_auth_provider(e, ap);
	if (load_cert(c, e) < 0 || load_identity(c, e) < 0)
		return -1;
	if (tok && *tok && !(c->token = xstrdup(tok)))
		return -1;
	if (resolve_path(e->dir, tf, &c->token_file) < 0)
		return -1;
	if (ex && !cJSON_IsNull(ex)) {
		if (load_exec(c, e, ex) < 0)
			return -1;
		/* client-go: a stanza that already yields credentials does
		 * not run the plugin */
		if (c->token || c->token_file || c->cert_file || c->cert_data) {
			exec_free(c->exec);
			c->exec = NULL;
		}
	}
	return 0;
}

/* ---- namespace ------------------------------------------------------------- */

static bool valid_label(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		      isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static int choose_namespace(struct kube_config *c, const char *flag,
			    const char *ctx_ns, bool icc)
{
	if (flag && *flag) {
		c->namespace = xstrdup(flag);
		c->namespace_explicit = true;
		return c->namespace ? 0 : -1;
	}
	if (ctx_ns && *ctx_ns) {
		c->namespace = xstrdup(ctx_ns);
		return c->namespace ? 0 : -1;
	}
	c->namespace = icc ? in_cluster_namespace() : xstrdup("default");
	return c->namespace ? 0 : -1;
}

/* ---- putting it together ---------------------------------------------------- */

static int no_config(const struct loaded *L)
{
	if (L->nfiles > 0) {
		err_set(EXIT_USAGE, "no context is selected: current-context is "
			"empty in %s and --context was not given",
			L->looked.data);
		return err_hint("pass --context NAME, or choose one with "
				"`kubectl config use-context NAME`");
	}
	err_set(EXIT_USAGE, "no kubeconfig found (looked in %s) and not "
		"running in a cluster",
		L->looked.len ? L->looked.data : "nothing: HOME is not set");
	return err_hint("pass --kubeconfig, set KUBECONFIG, or run az aks "
			"get-credentials");
}

static int resolve_context(struct kube_config *c, const struct loaded *L,
			   const struct kube_opts *o, const struct entry **ctx)
{
	const char *name = (o->context && *o->context) ? o->context
						      : L->current;

	*ctx = NULL;
	if (!name || !*name)
		return 0;
	*ctx = find(&L->contexts, name);
	if (*ctx) {
		c->context_name = xstrdup(name);
		return c->context_name ? 0 : -1;
	}
	if (o->context && *o->context) {
		err_set(EXIT_USAGE, "context \"%s\" does not exist", name);
		return err_hint("list contexts with `kubectl config "
				"get-contexts`");
	}
	err_set(EXIT_USAGE, "context was not found for specified context: %s",
		name);
	return err_hint("fix current-context (kubectl config use-context "
			"NAME) or pass --context");
}

static int resolve_refs(struct kube_config *c, const struct loaded *L,
			const struct entry *ctx, const struct entry **cl,
			const struct entry **us, const char **ns)
{
	const char *cname, *uname;

	if (get_str(ctx, "context", "cluster", &cname) < 0 ||
	    get_str(ctx, "context", "user", &uname) < 0 ||
	    get_str(ctx, "context", "namespace", ns) < 0)
		return -1;
	if (*ns && **ns && !valid_label(*ns))
		return err_set(EXIT_USAGE, "context \"%s\": namespace \"%s\" "
			       "is not a valid namespace name", ctx->name, *ns);
	c->cluster_name = xstrdup(cname ? cname : "");
	c->user_name = xstrdup(uname ? uname : "");
	if (!c->cluster_name || !c->user_name)
		return -1;
	*cl = *cname ? find(&L->clusters, cname) : NULL;
	*us = *c->user_name ? find(&L->users, uname) : NULL;
	if (!*cl) {
		err_set(EXIT_USAGE, "cluster \"%s\" was not found for context "
			"\"%s\"", c->cluster_name, ctx->name);
		return err_hint("add the cluster to the kubeconfig or fix the "
				"context");
	}
	if (*c->user_name && !*us) {
		err_set(EXIT_USAGE, "user \"%s\" was not found for context "
			"\"%s\"", c->user_name, ctx->name);
		return err_hint("add the user to the kubeconfig or fix the "
				"context");
	}
	return 0;
}

static int load_from_files(struct kube_config *c, const struct loaded *L,
			   const struct kube_opts *o, const struct entry *ctx)
{
	const struct entry *cl = NULL, *us = NULL;
	const char *ns = NULL;
	size_t i;
	struct buf src = BUF_INIT;

	if (resolve_refs(c, L, ctx, &cl, &us, &ns) < 0 ||
	    load_cluster(c, cl) < 0 || (us && load_user(c, us) < 0))
		return -1;
	buf_puts(&src, "kubeconfig ");
	for (i = 0; i < L->nfiles; i++)
		buf_printf(&src, "%s%s", i ? ":" : "", L->files[i]);
	c->source = buf_detach(&src, NULL);
	if (!c->source)
		return -1;
	/* client-go's Namespace(): the in-cluster namespace replaces an
	 * implicit "default" when in-cluster config is possible */
	return choose_namespace(c, o->namespace, ns,
				(!ns || !*ns) && in_cluster_possible());
}

int kube_config_load(struct kube_config **out, const struct kube_opts *o)
{
	struct loaded L;
	struct kube_config *c = calloc(1, sizeof(*c));
	const struct entry *ctx = NULL;
	int rc;

	*out = NULL;
	if (!c)
		return oom();
	memset(&L, 0, sizeof(L));
	rc = read_files(&L, o);
	if (rc == 0)
		rc = resolve_context(c, &L, o, &ctx);
	if (rc == 0 && ctx)
		rc = load_from_files(c, &L, o, ctx);
	else if (rc == 0 && in_cluster_possible())
		rc = load_in_cluster(c) < 0 ||
		     choose_namespace(c, o->namespace, NULL, true) < 0 ? -1 : 0;
	else if (rc == 0)
		rc = no_config(&L);
	loaded_free(&L);
	if (rc < 0) {
		kube_config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int kube_config_context_names(const struct kube_opts *o, char ***names,
			      size_t *n)
{
	struct loaded L;
	size_t i;
	int rc;

	*names = NULL;
	*n = 0;
	memset(&L, 0, sizeof(L));
	rc = read_files(&L, o);
	if (rc == 0 && L.contexts.n) {
		*names = calloc(L.contexts.n, sizeof(char *));
		if (!*names)
			rc = oom();
		for (i = 0; rc == 0 && i < L.contexts.n; i++) {
			(*names)[i] = xstrdup(L.contexts.v[i].name);
			if (!(*names)[i])
				rc = -1;
			else
				(*n)++;
		}
	}
	loaded_free(&L);
	if (rc < 0) {
		for (i = 0; i < *n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

static void free_secret(char *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

void kube_config_free(struct kube_config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->context_name);
	free(c->cluster_name);
	free(c->user_name);
	free(c->namespace);
	free(c->source);
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->tls_server_name);
	free(c->proxy_url);
	cJSON_Delete(c->exec_cluster_config);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free_secret(c->key_data, c->key_len);
	free_secret(c->token, c->token ? strlen(c->token) : 0);
	free(c->token_file);
	exec_free(c->exec);
	free(c->as_user);
	free(c->as_uid);
	for (i = 0; i < c->nas_groups; i++)
		free(c->as_groups[i]);
	free(c->as_groups);
	free(c);
}

const char *kube_config_auth_kind(const struct kube_config *c)
{
	if (c->in_cluster)
		return "in-cluster service account token";
	if (c->exec)
		return "exec credential plugin";
	if (c->cert_file || c->cert_data)
		return (c->token || c->token_file) ? "client certificate and "
						     "token"
						   : "client certificate";
	if (c->token_file)
		return "tokenFile";
	if (c->token)
		return "token";
	return "no credentials";
}
