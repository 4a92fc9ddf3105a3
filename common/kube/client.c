#include "kube/client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>

#include "kube/exec.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"

#define TOKEN_FILE_REFRESH_S 60
#define EXEC_MARGIN_S 15
#define DEFAULT_PAGE 500

struct kube_client {
	struct kube_config *cfg;
	struct http_client *http;
	struct http_tls tls;
	bool https;
	long timeout_ms;
	char *file_token;		/* last good tokenFile content */
	time_t file_token_at;
	struct kube_credential cred;	/* exec plugin output */
	bool fresh_connection;		/* the client certificate changed */
	long last_code;
	char last_reason[64];
	bool last_ssa_conflict;
	bool last_missing_api;		/* 404 without details.name */
};

/* What one call sends. */
struct call {
	const char *method;
	const char *path;		/* with query */
	const char *content_type;
	const char *body;
	size_t body_len;
	bool secret_response;
};

static int oom(void)
{
	return err_set(EXIT_FAILED, "out of memory");
}

static void wipe_str(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- opening ----------------------------------------------------------- */

static void setup_tls(struct kube_client *kc)
{
	const struct kube_config *c = kc->cfg;

	memset(&kc->tls, 0, sizeof(kc->tls));
	kc->tls.ca_file = c->ca_file;
	kc->tls.ca_data = c->ca_data;
	kc->tls.ca_len = c->ca_len;
	kc->tls.insecure = c->insecure;
	kc->tls.server_name = c->tls_server_name;
	kc->tls.cert_file = c->cert_file;
	kc->tls.cert_data = c->cert_data;
	kc->tls.cert_len = c->cert_len;
	kc->tls.key_file = c->key_file;
	kc->tls.key_data = c->key_data;
	kc->tls.key_len = c->key_len;
}

int kube_client_open(struct kube_client **out, const struct kube_opts *o)
{
	struct kube_client *kc = calloc(1, sizeof(*kc));

	*out = NULL;
	if (!kc)
		return oom();
	if (kube_config_load(&kc->cfg, o) < 0) {
		free(kc);
		return -1;
	}
	kc->timeout_ms = o->request_timeout_ms;
	kc->http = http_client_new(o->user_agent, o->request_timeout_ms);
	if (!kc->http) {
		kube_client_close(kc);
		return -1;
	}
	kc->https = strncasecmp(kc->cfg->server, "https://", 8) == 0;
	setup_tls(kc);
	log_at(LOG_STEPS, "using %s: context \"%s\", cluster \"%s\", user "
	       "\"%s\", namespace \"%s\", server %s", kc->cfg->source,
	       kc->cfg->context_name, kc->cfg->cluster_name,
	       kc->cfg->user_name, kc->cfg->namespace, kc->cfg->server);
	*out = kc;
	return 0;
}

void kube_client_close(struct kube_client *kc)
{
	if (!kc)
		return;
	http_client_free(kc->http);
	kube_credential_clear(&kc->cred);
	wipe_str(kc->file_token);
	kube_config_free(kc->cfg);
	free(kc);
}

const struct kube_config *kube_client_config(const struct kube_client *kc)
{
	return kc->cfg;
}

const char *kube_client_namespace(const struct kube_client *kc)
{
	return kc->cfg->namespace;
}

long kube_last_code(const struct kube_client *kc)
{
	return kc->last_code;
}

const char *kube_last_reason(const struct kube_client *kc)
{
	return kc->last_reason;
}

bool kube_last_not_found(const struct kube_client *kc)
{
	return kc->last_code == 404;
}

bool kube_last_missing_api(const struct kube_client *kc)
{
	return kc->last_code == 404 && kc->last_missing_api;
}

/* ---- credentials -------------------------------------------------------- */

static int read_token_file(struct kube_client *kc, bool force)
{
	const char *path = kc->cfg->token_file;
	time_t now = time(NULL);
	FILE *f;
	char tok[16384];
	size_t n;

	if (!force && kc->file_token &&
	    now - kc->file_token_at < TOKEN_FILE_REFRESH_S)
		return 0;
	f = fopen(path, "re");
	n = f ? fread(tok, 1, sizeof(tok) - 1, f) : 0;
	if (f)
		fclose(f);
	tok[n] = '\0';
	while (n && isspace((unsigned char)tok[n - 1]))
		tok[--n] = '\0';
	if (n) {
		char *start = tok + strspn(tok, " \t\r\n");
		char *fresh = strdup(start);

		if (!fresh) {
			explicit_bzero(tok, sizeof(tok));
			return oom();
		}
		wipe_str(kc->file_token);
		kc->file_token = fresh;
		kc->file_token_at = now;
	}
	explicit_bzero(tok, sizeof(tok));
	if (kc->file_token || kc->cfg->token)
		return 0;	/* keep the last good value */
	err_set(EXIT_FAILED, "cannot read the token file %s%s", path,
		f ? " (it is empty)" : "");
	return err_hint("check the user's tokenFile in the kubeconfig");
}

static int run_exec(struct kube_client *kc, bool force)
{
	struct kube_credential fresh;

	if (!force && !kube_credential_expired(&kc->cred, EXEC_MARGIN_S))
		return 0;
	if (kube_exec_run(kc->cfg, &fresh) < 0)
		return err_prefix("getting credentials for user \"%s\"",
				  kc->cfg->user_name);
	if (fresh.cert_pem && (!kc->cred.cert_pem ||
			       strcmp(fresh.cert_pem, kc->cred.cert_pem) != 0))
		kc->fresh_connection = true;
	kube_credential_clear(&kc->cred);
	kc->cred = fresh;
	if (kc->cred.cert_pem) {
		kc->tls.cert_data = kc->cred.cert_pem;
		kc->tls.cert_len = kc->cred.cert_len;
		kc->tls.key_data = kc->cred.key_pem;
		kc->tls.key_len = kc->cred.key_len;
		kc->tls.cert_file = kc->tls.key_file = NULL;
	}
	return 0;
}

static int prepare_auth(struct kube_client *kc, bool force)
{
	if (!kc->https)
		return 0;
	if (kc->cfg->token_file && read_token_file(kc, force) < 0)
		return -1;
	if (kc->cfg->exec && run_exec(kc, force) < 0)
		return -1;
	return 0;
}

static const char *bearer(const struct kube_client *kc)
{
	if (!kc->https)
		return NULL;
	if (kc->file_token)
		return kc->file_token;
	if (kc->cfg->token)
		return kc->cfg->token;
	return kc->cred.token;
}

static bool refreshable(const struct kube_client *kc)
{
	return kc->cfg->exec || kc->cfg->token_file;
}

/* ---- sending ---------------------------------------------------------------- */

static int add_header(char ***v, size_t *n, const char *name, const char *a)
{
	struct buf b = BUF_INIT;
	char **grown;

	if (buf_printf(&b, "%s: %s", name, a) < 0)
		return -1;
	grown = realloc(*v, (*n + 2) * sizeof(char *));
	if (!grown) {
		buf_free(&b);
		return oom();
	}
	*v = grown;
	grown[(*n)++] = buf_detach(&b, NULL);
	grown[*n] = NULL;
	return 0;
}

static char **build_headers(const struct kube_client *kc)
{
	const struct kube_config *c = kc->cfg;
	char **v = NULL;
	size_t n = 0, i;
	int rc = add_header(&v, &n, "Accept", "application/json");

	if (rc == 0 && c->as_user)
		rc = add_header(&v, &n, "Impersonate-User", c->as_user);
	if (rc == 0 && c->as_uid)
		rc = add_header(&v, &n, "Impersonate-Uid", c->as_uid);
	for (i = 0; rc == 0 && c->as_user && i < c->nas_groups; i++)
		rc = add_header(&v, &n, "Impersonate-Group",
				c->as_groups[i]);
	if (rc < 0) {
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return NULL;
	}
	return v;
}

static void free_headers(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Prints the API server's Warning headers as kubectl does. */
static void show_warnings(const struct http_response *r)
{
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > 8 && strncasecmp(p, "warning:", 8) == 0) {
			const char *q = memchr(p, '"', len);
			const char *end = p + len;

			if (q && end[-1] == '"' && end - 1 > q)
				log_warn("%.*s", (int)(end - 1 - q - 1), q + 1);
			else
				log_warn("%.*s", (int)(len - 8), p + 8);
		}
		p = eol ? eol + 1 : NULL;
	}
}

static char *timeout_query(const struct kube_client *kc, const char *path)
{
	struct buf b = BUF_INIT;

	if (buf_printf(&b, "%s%s", kc->cfg->server, path) < 0)
		return NULL;
	if (kc->timeout_ms > 0 && strncmp(path, "/api", 4) == 0 &&
	    buf_printf(&b, "%stimeout=%lds", strchr(path, '?') ? "&" : "?",
		       (kc->timeout_ms + 999) / 1000) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int send_once(struct kube_client *kc, const struct call *cl,
		     struct http_response *resp)
{
	struct http_request req;
	struct http_retry retry = { 10, 0, 1000, 30000, true, false };
	char **headers = build_headers(kc);
	char *url = timeout_query(kc, cl->path);
	int rc;

	if (!headers || !url) {
		free_headers(headers);
		free(url);
		return oom();
	}
	memset(&req, 0, sizeof(req));
	req.method = cl->method;
	req.url = url;
	req.headers = (const char *const *)headers;
	req.bearer = bearer(kc);
	req.content_type = cl->content_type;
	req.body = cl->body;
	req.body_len = cl->body_len;
	req.tls = kc->https ? &kc->tls : NULL;
	req.proxy = kc->cfg->proxy_url;
	req.no_compression = kc->cfg->disable_compression;
	req.secret_response = cl->secret_response;
	req.fresh_connection = kc->fresh_connection;
	/* a reset may come after the server acted: resend only reads */
	retry.no_reset_retry = strcmp(cl->method, "GET") != 0;
	rc = http_do_retry(kc->http, &req, resp, &retry);
	if (rc == 0)
		kc->fresh_connection = false;
	free_headers(headers);
	free(url);
	return rc;
}

/* Sends, re-running the credential once after a 401. */
static int send_call(struct kube_client *kc, const struct call *cl,
		     struct http_response *resp)
{
	kc->last_code = 0;
	kc->last_reason[0] = '\0';
	kc->last_ssa_conflict = false;
	kc->last_missing_api = false;
	if (prepare_auth(kc, false) < 0 || send_once(kc, cl, resp) < 0)
		return -1;
	if (resp->status == 401 && kc->https && refreshable(kc)) {
		log_at(LOG_STEPS, "the server answered 401: refreshing the "
		       "credentials of user \"%s\" and retrying once",
		       kc->cfg->user_name);
		if (prepare_auth(kc, true) < 0 || send_once(kc, cl, resp) < 0)
			return -1;
	}
	show_warnings(resp);
	return 0;
}

/* ---- errors from Status ------------------------------------------------------ */

/* Copies the text between `after` and the next '"' in msg. */
static bool quoted_after(const char *msg, const char *after, char *out,
			 size_t size)
{
	const char *p = strstr(msg, after), *end;

	if (!p)
		return false;
	p += strlen(after);
	end = strchr(p, '"');
	if (!end || (size_t)(end - p) >= size)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

static void forbidden_hint(const char *msg)
{
	char user[256], verb[64], res[256], group[256], ns[256], path[512];
	char role[400], subject[300], *slash;
	bool in_ns;

	if (!quoted_after(msg, "User \"", user, sizeof(user))) {
		err_hint("ask a cluster administrator for the RBAC permission "
			 "named above");
		return;
	}
	if (strncmp(user, "system:serviceaccount:", 22) == 0) {
		snprintf(subject, sizeof(subject), "--serviceaccount=%s",
			 user + 22);
		if ((slash = strchr(subject + 17, ':')))
			*slash = ':';
	} else {
		snprintf(subject, sizeof(subject), "--user=%s", user);
	}
	if (sscanf(strstr(msg, "cannot ") ? strstr(msg, "cannot ") : "",
		   "cannot %63s", verb) != 1)
		strcpy(verb, "get");
	if (quoted_after(msg, "cannot get path \"", path, sizeof(path)) ||
	    quoted_after(msg, " path \"", path, sizeof(path))) {
		err_hint("grant %s on the URL with a ClusterRole rule "
			 "{nonResourceURLs: [\"%s\"], verbs: [\"%s\"]}, e.g. "
			 "kubectl create clusterrole read-url --verb=%s "
			 "--non-resource-url=%s && kubectl create "
			 "clusterrolebinding read-url --clusterrole=read-url %s",
			 user, path, verb, verb, path, subject);
		return;
	}
	if (!quoted_after(msg, "resource \"", res, sizeof(res)))
		strcpy(res, "?");
	if (!quoted_after(msg, "API group \"", group, sizeof(group)))
		group[0] = '\0';
	in_ns = quoted_after(msg, "namespace \"", ns, sizeof(ns));
	snprintf(role, sizeof(role), "%s-%s", verb, res);
	for (slash = role; *slash; slash++)
		if (*slash == '/' || *slash == '.')
			*slash = '-';
	err_hint("%s needs a %s rule {apiGroups: [\"%s\"], resources: "
		 "[\"%s\"], verbs: [\"%s\"]}%s%s, e.g. kubectl create %s %s "
		 "--verb=%s --resource=%s%s%s%s%s && kubectl create %s %s "
		 "--%s=%s %s%s%s",
		 user, in_ns ? "Role" : "ClusterRole", group, res, verb,
		 in_ns ? " in namespace " : "", in_ns ? ns : "",
		 in_ns ? "role" : "clusterrole", role, verb, res,
		 *group ? "." : "", group, in_ns ? " -n " : "", in_ns ? ns : "",
		 in_ns ? "rolebinding" : "clusterrolebinding", role,
		 in_ns ? "role" : "clusterrole", role, subject,
		 in_ns ? " -n " : "", in_ns ? ns : "");
}

static void unauthorized_hint(const struct kube_client *kc)
{
	const struct kube_config *c = kc->cfg;

	if (c->exec)
		err_hint("the token from exec plugin %s was rejected even after "
			 "running it again: log in again (kubelogin: `kubelogin "
			 "remove-tokens`, or `az login`) and check that the "
			 "plugin targets this cluster", c->exec->command);
	else if (c->in_cluster)
		err_hint("the pod's service account token was rejected: check "
			 "that the ServiceAccount still exists");
	else if (c->token || c->token_file)
		err_hint("the token of user \"%s\" is invalid or expired: get "
			 "a new one (for AKS: az aks get-credentials)",
			 c->user_name);
	else if (c->cert_file || c->cert_data)
		err_hint("the client certificate of user \"%s\" was not "
			 "accepted (expired, or from another cluster): get "
			 "credentials again (for AKS: az aks get-credentials)",
			 c->user_name);
	else
		err_hint("user \"%s\" has no credentials: pick a context with "
			 "a user (--context) or log in", c->user_name);
}

static void invalid_msg(const cJSON *st, struct buf *b)
{
	const cJSON *causes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(st, "details"), "causes");
	const cJSON *c;

	cJSON_ArrayForEach(c, causes) {
		const char *f = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(c, "field"));
		const char *m = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(c, "message"));

		buf_printf(b, "; %s: %s", f ? f : "?", m ? m : "?");
	}
}

static bool ssa_conflict(const cJSON *st)
{
	const cJSON *causes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(st, "details"), "causes");
	const cJSON *c;

	cJSON_ArrayForEach(c, causes) {
		const char *r = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(c, "reason"));

		if (r && strcmp(r, "FieldManagerConflict") == 0)
			return true;
	}
	return false;
}

static void hint_for_reason(struct kube_client *kc, const char *reason,
			    const cJSON *st, const char *msg)
{
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(st, "details");
	const char *name = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(det, "name"));

	if (strcmp(reason, "Forbidden") == 0)
		forbidden_hint(msg);
	else if (strcmp(reason, "Unauthorized") == 0)
		unauthorized_hint(kc);
	else if (strcmp(reason, "NotFound") == 0 && name && *name)
		err_hint("check the name and the namespace (-n; now \"%s\")",
			 kc->cfg->namespace);
	else if (strcmp(reason, "NotFound") == 0)
		err_hint("the server does not serve this resource type or API "
			 "version: check `kubectl api-resources` (is Flux "
			 "installed?)");
	else if (strcmp(reason, "Conflict") == 0 && kc->last_ssa_conflict)
		err_hint("another field manager owns these fields: force the "
			 "apply to take them over, or leave them alone");
	else if (strcmp(reason, "Conflict") == 0)
		err_hint("the object changed while this command was updating "
			 "it: run the command again");
	else if (strcmp(reason, "AlreadyExists") == 0)
		err_hint("it exists already: patch it instead, or delete it "
			 "first");
	else if (strcmp(reason, "UnsupportedMediaType") == 0)
		err_hint("strategic merge patches only work on built-in kinds: "
			 "use a merge patch for custom resources");
	else if (strcmp(reason, "Expired") == 0 ||
		 strcmp(reason, "Gone") == 0)
		err_hint("the list changed too much while reading it: run the "
			 "command again");
	else if (kc->last_code == 429 || kc->last_code >= 500)
		err_hint("the API server is busy or failing: try again later");
}

static const char *reason_for_code(long code)
{
	switch (code) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 415: return "UnsupportedMediaType";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return "Unknown";
	}
}

/* Records the error for a non-2xx answer.  Always returns -1. */
static int status_error(struct kube_client *kc, const struct call *cl,
			const struct http_response *r)
{
	cJSON *st = cJSON_ParseWithLength(r->body.data ? r->body.data : "",
					  r->body.len);
	const char *reason = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "reason"));
	const char *msg = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "message"));
	struct buf text = BUF_INIT;

	kc->last_code = r->status;
	if (!reason || !*reason)
		reason = reason_for_code(r->status);
	strlcpy(kc->last_reason, reason, sizeof(kc->last_reason));
	kc->last_ssa_conflict = ssa_conflict(st);
	kc->last_missing_api = !cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
			st, "details"), "name"));
	if (msg && *msg) {
		buf_puts(&text, msg);
	} else if (!cl->secret_response && r->body.len && !st) {
		size_t n = strcspn(r->body.data, "\r\n");

		buf_printf(&text, "HTTP %ld: %.*s", r->status,
			   (int)(n > 200 ? 200 : n), r->body.data);
	} else {
		buf_printf(&text, "HTTP %ld", r->status);
	}
	if (strcmp(reason, "Invalid") == 0)
		invalid_msg(st, &text);
	err_set(EXIT_FAILED, "%s (%s %s: %s)",
		text.data ? text.data : "error", cl->method, cl->path, reason);
	hint_for_reason(kc, reason, st, msg ? msg : "");
	buf_free(&text);
	cJSON_Delete(st);
	return -1;
}

/* Sends and judges: 0 for 2xx (body parsed into *out when out != NULL). */
static int call_json(struct kube_client *kc, const struct call *cl,
		     cJSON **out)
{
	struct http_response r;
	int rc = 0;

	if (out)
		*out = NULL;
	http_response_init(&r);
	if (send_call(kc, cl, &r) < 0) {
		http_response_free(&r);
		return -1;
	}
	if (r.status < 200 || r.status > 299) {
		rc = status_error(kc, cl, &r);
	} else if (out) {
		*out = cJSON_ParseWithLength(r.body.data ? r.body.data : "",
					     r.body.len);
		if (!*out)
			rc = err_set(EXIT_FAILED, "%s %s: the answer is not "
				     "JSON", cl->method, cl->path);
	}
	http_response_free(&r);
	return rc;
}

/* ---- paths ------------------------------------------------------------------- */

static int put_segment(struct buf *b, const char *s)
{
	char *e = http_escape(s);
	int rc;

	if (!e)
		return -1;
	rc = buf_printf(b, "/%s", e);
	free(e);
	return rc;
}

int kube_ref_path(const struct kube_ref *ref, struct buf *out)
{
	int rc;

	if (!ref->version || !ref->resource)
		return err_set(EXIT_FAILED, "kube_ref without version or "
			       "resource");
	if (ref->group && *ref->group)
		rc = buf_printf(out, "/apis/%s/%s", ref->group, ref->version);
	else
		rc = buf_printf(out, "/api/%s", ref->version);
	if (rc == 0 && ref->namespace && *ref->namespace)
		rc = buf_puts(out, "/namespaces") || put_segment(out,
							       ref->namespace);
	if (rc == 0)
		rc = buf_printf(out, "/%s", ref->resource);
	if (rc == 0 && ref->name)
		rc = put_segment(out, ref->name);
	if (rc == 0 && ref->name && ref->subresource)
		rc = buf_printf(out, "/%s", ref->subresource);
	return rc ? -1 : 0;
}

static int add_query(struct buf *b, const char *key, const char *value)
{
	char *e;
	int rc;

	if (!value)
		return 0;
	e = http_escape(value);
	if (!e)
		return -1;
	rc = buf_printf(b, "%s%s=%s", strchr(b->data, '?') ? "&" : "?", key,
			e);
	free(e);
	return rc;
}

static int write_query(struct buf *b, const struct kube_write_opts *wo,
		       bool apply)
{
	if (!wo)
		return 0;
	if (add_query(b, "fieldManager", wo->field_manager) < 0 ||
	    (apply && wo->force && add_query(b, "force", "true") < 0) ||
	    (wo->dry_run && add_query(b, "dryRun", "All") < 0))
		return -1;
	return 0;
}

/* ---- verbs ---------------------------------------------------------------------- */

int kube_get(struct kube_client *kc, const struct kube_ref *ref, cJSON **out)
{
	struct buf path = BUF_INIT;
	struct call cl = { "GET", NULL, NULL, NULL, 0, false };
	int rc;

	*out = NULL;
	if (kube_ref_path(ref, &path) < 0)
		return -1;
	cl.path = path.data;
	cl.secret_response = strcmp(ref->resource, "secrets") == 0;
	rc = call_json(kc, &cl, out);
	buf_free(&path);
	return rc;
}

static int list_page(struct kube_client *kc, const struct kube_ref *ref,
		     const struct kube_list_opts *lo, const char *cont,
		     cJSON **page)
{
	struct buf path = BUF_INIT;
	struct call cl = { "GET", NULL, NULL, NULL, 0, false };
	char limit[32];
	int rc;

	snprintf(limit, sizeof(limit), "%ld",
		 lo && lo->limit > 0 ? lo->limit : DEFAULT_PAGE);
	rc = kube_ref_path(ref, &path);
	if (rc == 0)
		rc = add_query(&path, "limit", limit);
	if (rc == 0 && lo)
		rc = add_query(&path, "labelSelector", lo->label_selector) ||
		     add_query(&path, "fieldSelector", lo->field_selector);
	if (rc == 0 && cont && *cont)
		rc = add_query(&path, "continue", cont);
	if (rc == 0) {
		cl.path = path.data;
		cl.secret_response = strcmp(ref->resource, "secrets") == 0;
		rc = call_json(kc, &cl, page);
	}
	buf_free(&path);
	return rc ? -1 : 0;
}

/* Moves the page's items into `all`; returns the continue token (owned by
 * the page) or NULL. */
static const char *take_items(cJSON *page, cJSON *all, const char **rv)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	const char *cont;

	while (cJSON_GetArraySize(items) > 0)
		cJSON_AddItemToArray(all, cJSON_DetachItemFromArray(items, 0));
	*rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		meta, "resourceVersion"));
	cont = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		meta, "continue"));
	return cont && *cont ? cont : NULL;
}

static int list_all(struct kube_client *kc, const struct kube_ref *ref,
		    const struct kube_list_opts *lo, cJSON *all, char **rv)
{
	cJSON *page = NULL;
	char *cont = NULL;
	int rc = 0, pages = 0;

	do {
		const char *next, *version = NULL;

		rc = list_page(kc, ref, lo, cont, &page);
		free(cont);
		cont = NULL;
		if (rc < 0)
			break;
		next = take_items(page, all, &version);
		if (rv && version) {
			free(*rv);
			*rv = strdup(version);
		}
		if (next && !(cont = strdup(next)))
			rc = oom();
		cJSON_Delete(page);
		page = NULL;
		pages++;
	} while (rc == 0 && cont);
	free(cont);
	if (rc == 0)
		log_at(LOG_HTTP, "listed %d items of %s in %d page(s)",
		       cJSON_GetArraySize(all), ref->resource, pages);
	return rc;
}

int kube_list(struct kube_client *kc, const struct kube_ref *ref,
	      const struct kube_list_opts *lo, cJSON **items, char **rv)
{
	cJSON *all;
	int attempt;

	*items = NULL;
	if (rv)
		*rv = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		all = cJSON_CreateArray();
		if (!all)
			return oom();
		if (list_all(kc, ref, lo, all, rv) == 0) {
			*items = all;
			return 0;
		}
		cJSON_Delete(all);
		if (kc->last_code != 410)
			break;
		log_at(LOG_STEPS, "the list's continue token expired: "
		       "listing %s again from the start", ref->resource);
	}
	return -1;
}

static const char *patch_type_name(enum kube_patch_type t)
{
	switch (t) {
	case KUBE_PATCH_STRATEGIC:
		return "application/strategic-merge-patch+json";
	case KUBE_PATCH_JSON: return "application/json-patch+json";
	case KUBE_PATCH_APPLY: return "application/apply-patch+yaml";
	default: return "application/merge-patch+json";
	}
}

int kube_patch(struct kube_client *kc, const struct kube_ref *ref,
	       enum kube_patch_type type, const char *body,
	       const struct kube_write_opts *wo, cJSON **out)
{
	struct buf path = BUF_INIT;
	struct call cl = { "PATCH", NULL, NULL, NULL, 0, false };
	cJSON *res = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (type == KUBE_PATCH_APPLY && (!wo || !wo->field_manager))
		return err_set(EXIT_FAILED, "server-side apply needs a field "
			       "manager");
	rc = kube_ref_path(ref, &path) || write_query(&path, wo,
						      type == KUBE_PATCH_APPLY);
	if (rc)
		return -1;
	cl.path = path.data;
	cl.content_type = patch_type_name(type);
	cl.body = body;
	cl.body_len = strlen(body);
	cl.secret_response = strcmp(ref->resource, "secrets") == 0;
	rc = call_json(kc, &cl, &res);
	buf_free(&path);
	if (out)
		*out = res;
	else
		cJSON_Delete(res);
	return rc;
}

static int send_object(struct kube_client *kc, const char *method,
		       const struct kube_ref *ref, const cJSON *obj,
		       const struct kube_write_opts *wo, cJSON **out,
		       bool secret)
{
	struct buf path = BUF_INIT;
	struct call cl = { method, NULL, "application/json", NULL, 0, secret };
	char *body = cJSON_PrintUnformatted(obj);
	cJSON *res = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!body)
		return oom();
	rc = kube_ref_path(ref, &path) || write_query(&path, wo, false);
	if (rc == 0) {
		cl.path = path.data;
		cl.body = body;
		cl.body_len = strlen(body);
		rc = call_json(kc, &cl, &res);
	}
	buf_free(&path);
	if (secret)
		explicit_bzero(body, strlen(body));
	free(body);
	if (out)
		*out = res;
	else
		cJSON_Delete(res);
	return rc ? -1 : 0;
}

int kube_create(struct kube_client *kc, const struct kube_ref *ref,
		const cJSON *obj, const struct kube_write_opts *wo,
		cJSON **out)
{
	return send_object(kc, "POST", ref, obj, wo, out,
			   strcmp(ref->resource, "secrets") == 0);
}

int kube_update(struct kube_client *kc, const struct kube_ref *ref,
		const cJSON *obj, const struct kube_write_opts *wo,
		cJSON **out)
{
	return send_object(kc, "PUT", ref, obj, wo, out,
			   strcmp(ref->resource, "secrets") == 0);
}

int kube_delete(struct kube_client *kc, const struct kube_ref *ref,
		const struct kube_write_opts *wo, bool missing_ok)
{
	struct buf path = BUF_INIT;
	struct call cl = { "DELETE", NULL, NULL, NULL, 0, true };
	int rc;

	rc = kube_ref_path(ref, &path) || write_query(&path, wo, false);
	if (rc == 0) {
		cl.path = path.data;
		rc = call_json(kc, &cl, NULL);
		if (rc < 0 && missing_ok && kc->last_code == 404) {
			err_clear();
			rc = 0;
		}
	}
	buf_free(&path);
	return rc ? -1 : 0;
}

int kube_retry_on_conflict(struct kube_client *kc, int attempts,
			   int (*fn)(struct kube_client *kc, void *arg),
			   void *arg)
{
	int i, rc = -1;

	if (attempts <= 0)
		attempts = 5;
	for (i = 0; i < attempts; i++) {
		rc = fn(kc, arg);
		if (rc == 0 || kc->last_code != 409 || kc->last_ssa_conflict ||
		    strcmp(kc->last_reason, "Conflict") != 0)
			return rc;
		log_at(LOG_STEPS, "conflict (attempt %d of %d): reading the "
		       "object again", i + 1, attempts);
	}
	return rc;
}

int kube_get_raw(struct kube_client *kc, const char *path, struct buf *out)
{
	struct call cl = { "GET", path, NULL, NULL, 0, false };
	struct http_response r;
	int rc = 0;

	http_response_init(&r);
	if (send_call(kc, &cl, &r) < 0) {
		http_response_free(&r);
		return -1;
	}
	if (r.status < 200 || r.status > 299)
		rc = status_error(kc, &cl, &r);
	else
		rc = buf_append(out, r.body.data ? r.body.data : "",
				r.body.len);
	http_response_free(&r);
	return rc;
}

int kube_get_json(struct kube_client *kc, const char *path, cJSON **out)
{
	struct call cl = { "GET", path, NULL, NULL, 0, false };

	return call_json(kc, &cl, out);
}

/* ---- TokenRequest ---------------------------------------------------------------- */

static cJSON *token_request(const char *const *audiences, long expiration_s)
{
	cJSON *o = cJSON_CreateObject(), *spec, *aud;
	const char *const *a;

	if (!o || !cJSON_AddStringToObject(o, "apiVersion",
					   "authentication.k8s.io/v1") ||
	    !cJSON_AddStringToObject(o, "kind", "TokenRequest") ||
	    !(spec = cJSON_AddObjectToObject(o, "spec")) ||
	    !(aud = cJSON_AddArrayToObject(spec, "audiences")))
		goto fail;
	for (a = audiences; a && *a; a++) {
		cJSON *s = cJSON_CreateString(*a);

		if (!s)
			goto fail;
		cJSON_AddItemToArray(aud, s);
	}
	if (expiration_s > 0 &&
	    !cJSON_AddNumberToObject(spec, "expirationSeconds",
				     (double)expiration_s))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	oom();
	return NULL;
}

int kube_create_token(struct kube_client *kc, const char *ns, const char *sa,
		      const char *const *audiences, long expiration_s,
		      char **token, time_t *expiry)
{
	struct kube_ref ref = { NULL, "v1", "serviceaccounts", ns, sa,
				"token" };
	cJSON *req = token_request(audiences, expiration_s), *res = NULL;
	cJSON *st, *tok;
	int rc;

	*token = NULL;
	if (!req)
		return -1;
	rc = send_object(kc, "POST", &ref, req, NULL, &res, true);
	cJSON_Delete(req);
	if (rc < 0)
		return err_prefix("requesting a token for ServiceAccount %s/%s",
				  ns, sa);
	st = cJSON_GetObjectItemCaseSensitive(res, "status");
	tok = cJSON_GetObjectItemCaseSensitive(st, "token");
	if (!cJSON_IsString(tok) || !*tok->valuestring) {
		rc = err_set(EXIT_FAILED, "the TokenRequest for %s/%s returned "
			     "no token", ns, sa);
	} else if (!(*token = strdup(tok->valuestring))) {
		rc = oom();
	} else if (expiry && kube_parse_rfc3339(cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(st,
				"expirationTimestamp")), expiry) < 0) {
		*expiry = 0;
	}
	if (cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(res);
	return rc;
}
