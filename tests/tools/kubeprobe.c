/*
 * kubeprobe - a test driver for common/kube: exercises the kubeconfig
 * loader and the REST client from shell tests and prints JSON results.
 *
 *   kubeprobe [--kubeconfig F] [--context C] [-n NS] [--request-timeout MS]
 *             [-v N] COMMAND ARGS...
 *
 *   config                      the resolved configuration (secrets hashed)
 *   whoami                      SelfSubjectReview: the authenticated user
 *   can-i VERB GROUP RES [NAME] SelfSubjectAccessReview (-A: cluster scope)
 *   get GV RES NAME             one object (GV: "v1", "apps/v1", ...)
 *   list GV RES [-l SEL] [--field-selector SEL] [--limit N] [-A]
 *   patch GV RES NAME merge|strategic|json|apply BODY [--field-manager M]
 *         [--force] [--dry-run]
 *   update GV RES NAME JSON     PUT the object as given
 *   bump GV RES NAME KEY        set annotation KEY=<counter> with GET+PUT,
 *                               making the first PUT stale on purpose, and
 *                               retry on conflict
 *   raw PATH                    GET a non-resource path
 *   token NS SA AUD [SECONDS] [--out FILE]  TokenRequest; claims printed
 *   rollout NS NAME [TIMEOUT_MS]
 *   ks [NAME]                   Flux Kustomizations (list or get)
 *   twice GV RES NAME           two GETs (connection reuse, exec cache)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/exec.h"
#include "kube/objects.h"
#include "util/b64.h"
#include "util/err.h"
#include "util/log.h"

struct args {
	int argc;
	char **argv;
	const char *selector, *field_selector, *manager, *out;
	long limit;
	bool all_ns, force, dry_run;
};

static int print_json(const cJSON *v)
{
	char *s = cJSON_Print(v);

	if (!s)
		return err_set(EXIT_FAILED, "out of memory");
	printf("%s\n", s);
	free(s);
	return 0;
}

static char *sha256_hex(const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;
	char *hex = malloc(65);
	unsigned i;

	if (!hex || !EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		return hex;
	for (i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	return hex;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static void add_hash(cJSON *o, const char *k, const void *v, size_t len)
{
	char *h;

	if (!v)
		return;
	h = sha256_hex(v, len);
	if (h)
		cJSON_AddStringToObject(o, k, h);
	free(h);
}

/* sha256 of the bytes a path or data field stands for. */
static void add_content_hash(cJSON *o, const char *k, const char *path,
			     const char *data, size_t len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	if (data) {
		add_hash(o, k, data, len);
		return;
	}
	if (!path || !(f = fopen(path, "r")))
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	add_hash(o, k, b.data ? b.data : "", b.len);
	buf_free(&b);
}

static int cmd_config(struct kube_client *kc)
{
	const struct kube_config *c = kube_client_config(kc);
	cJSON *o = cJSON_CreateObject();
	size_t i;

	add_str(o, "context", c->context_name);
	add_str(o, "cluster", c->cluster_name);
	add_str(o, "user", c->user_name);
	add_str(o, "namespace", c->namespace);
	cJSON_AddBoolToObject(o, "namespaceExplicit", c->namespace_explicit);
	cJSON_AddBoolToObject(o, "inCluster", c->in_cluster);
	add_str(o, "server", c->server);
	add_str(o, "certificate-authority", c->ca_file);
	add_content_hash(o, "certificate-authority-sha256", c->ca_file,
			 c->ca_data, c->ca_len);
	cJSON_AddBoolToObject(o, "insecure-skip-tls-verify", c->insecure);
	add_str(o, "tls-server-name", c->tls_server_name);
	add_str(o, "proxy-url", c->proxy_url);
	add_str(o, "client-certificate", c->cert_file);
	add_str(o, "client-key", c->key_file);
	add_content_hash(o, "client-certificate-sha256", c->cert_file,
			 c->cert_data, c->cert_len);
	add_content_hash(o, "client-key-sha256", c->key_file, c->key_data,
			 c->key_len);
	if (c->token)
		add_hash(o, "token-sha256", c->token, strlen(c->token));
	add_str(o, "tokenFile", c->token_file);
	add_str(o, "auth", kube_config_auth_kind(c));
	if (c->exec) {
		cJSON *x = cJSON_AddObjectToObject(o, "exec");
		cJSON *a = cJSON_AddArrayToObject(x, "args");

		add_str(x, "command", c->exec->command);
		add_str(x, "apiVersion", c->exec->api_version);
		for (i = 0; i < c->exec->nargs; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(
						 c->exec->args[i]));
		cJSON_AddBoolToObject(x, "provideClusterInfo",
				      c->exec->provide_cluster_info);
		cJSON_AddNumberToObject(x, "interactive",
					c->exec->interactive);
	}
	add_str(o, "as", c->as_user);
	print_json(o);
	cJSON_Delete(o);
	return 0;
}

static int cmd_whoami(struct kube_client *kc)
{
	char *user = NULL;
	cJSON *out;

	if (kube_whoami(kc, &user) < 0)
		return -1;
	out = cJSON_CreateObject();
	add_str(out, "username", user);
	add_str(out, "namespace", kube_client_namespace(kc));
	add_str(out, "server", kube_client_config(kc)->server);
	print_json(out);
	cJSON_Delete(out);
	free(user);
	return 0;
}

/* can-i VERB GROUP RESOURCE [NAME] in the namespace (-A: cluster) */
static int cmd_can_i(struct kube_client *kc, struct args *a)
{
	bool allowed = false;
	char *reason = NULL;

	if (a->argc < 4)
		return err_set(EXIT_USAGE, "usage: kubeprobe can-i VERB GROUP "
			       "RESOURCE [NAME]");
	if (kube_can_i(kc, a->all_ns ? NULL : kube_client_namespace(kc),
		       a->argv[1], a->argv[2], a->argv[3],
		       a->argc > 4 ? a->argv[4] : NULL, &allowed, &reason) < 0)
		return -1;
	printf("%s\n", allowed ? "yes" : "no");
	free(reason);
	return 0;
}

/* "apps/v1" -> group apps, version v1; "v1" -> core. */
static void split_gv(char *gv, struct kube_ref *r)
{
	char *slash = strchr(gv, '/');

	if (slash) {
		*slash = '\0';
		r->group = gv;
		r->version = slash + 1;
	} else {
		r->group = NULL;
		r->version = gv;
	}
}

static int need(const struct args *a, int n, const char *usage)
{
	if (a->argc < n)
		return err_set(EXIT_USAGE, "usage: kubeprobe %s", usage);
	return 0;
}

static int make_ref(struct kube_client *kc, struct args *a,
		    struct kube_ref *r, int with_name)
{
	memset(r, 0, sizeof(*r));
	split_gv(a->argv[1], r);
	r->resource = a->argv[2];
	r->name = with_name ? a->argv[3] : NULL;
	r->namespace = a->all_ns ? NULL : kube_client_namespace(kc);
	return 0;
}

static int cmd_get(struct kube_client *kc, struct args *a)
{
	struct kube_ref r;
	cJSON *o = NULL;

	if (need(a, 4, "get GV RES NAME") < 0)
		return -1;
	make_ref(kc, a, &r, 1);
	if (kube_get(kc, &r, &o) < 0)
		return -1;
	print_json(o);
	cJSON_Delete(o);
	return 0;
}

static int cmd_twice(struct kube_client *kc, struct args *a)
{
	struct kube_ref r;
	cJSON *o = NULL;
	int i;

	if (need(a, 4, "twice GV RES NAME") < 0)
		return -1;
	make_ref(kc, a, &r, 1);
	for (i = 0; i < 2; i++) {
		if (kube_get(kc, &r, &o) < 0)
			return -1;
		cJSON_Delete(o);
		if (i == 0 && getenv("KUBEPROBE_PAUSE_MS"))
			usleep((useconds_t)atol(getenv("KUBEPROBE_PAUSE_MS"))
			       * 1000);
	}
	printf("ok\n");
	return 0;
}

static int cmd_list(struct kube_client *kc, struct args *a)
{
	struct kube_ref r;
	struct kube_list_opts lo = { a->selector, a->field_selector,
				     a->limit };
	cJSON *items = NULL, *out, *names;
	const cJSON *it;

	if (need(a, 3, "list GV RES") < 0)
		return -1;
	make_ref(kc, a, &r, 0);
	if (kube_list(kc, &r, &lo, &items, NULL) < 0)
		return -1;
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "count", cJSON_GetArraySize(items));
	names = cJSON_AddArrayToObject(out, "names");
	cJSON_ArrayForEach(it, items)
		cJSON_AddItemToArray(names, cJSON_CreateString(
			cJSON_GetStringValue(cJSON_GetObjectItem(
				cJSON_GetObjectItem(it, "metadata"), "name"))));
	print_json(out);
	cJSON_Delete(out);
	cJSON_Delete(items);
	return 0;
}

static int patch_type(const char *s, enum kube_patch_type *t)
{
	if (strcmp(s, "merge") == 0)
		*t = KUBE_PATCH_MERGE;
	else if (strcmp(s, "strategic") == 0)
		*t = KUBE_PATCH_STRATEGIC;
	else if (strcmp(s, "json") == 0)
		*t = KUBE_PATCH_JSON;
	else if (strcmp(s, "apply") == 0)
		*t = KUBE_PATCH_APPLY;
	else
		return err_set(EXIT_USAGE, "unknown patch type %s", s);
	return 0;
}

static int cmd_patch(struct kube_client *kc, struct args *a)
{
	struct kube_ref r;
	struct kube_write_opts wo = { a->manager, a->force, a->dry_run };
	enum kube_patch_type t = KUBE_PATCH_MERGE;
	cJSON *o = NULL;

	if (need(a, 6, "patch GV RES NAME TYPE BODY") < 0 ||
	    patch_type(a->argv[4], &t) < 0)
		return -1;
	make_ref(kc, a, &r, 1);
	if (kube_patch(kc, &r, t, a->argv[5], &wo, &o) < 0)
		return -1;
	print_json(o);
	cJSON_Delete(o);
	return 0;
}

static int cmd_update(struct kube_client *kc, struct args *a)
{
	struct kube_ref r;
	cJSON *obj, *o = NULL;
	int rc;

	if (need(a, 5, "update GV RES NAME JSON") < 0)
		return -1;
	make_ref(kc, a, &r, 1);
	obj = cJSON_Parse(a->argv[4]);
	if (!obj)
		return err_set(EXIT_USAGE, "update: the body is not JSON");
	rc = kube_update(kc, &r, obj, NULL, &o);
	cJSON_Delete(obj);
	if (rc == 0)
		print_json(o);
	cJSON_Delete(o);
	return rc;
}

struct bump {
	struct kube_ref ref;
	const char *key;
	int round;
};

/* GET, set the annotation, PUT.  In the first round another write lands
 * between the GET and the PUT, so the PUT is stale and conflicts. */
static int bump_once(struct kube_client *kc, void *arg)
{
	struct bump *b = arg;
	cJSON *o = NULL, *meta, *ann;
	char val[32], patch[256];
	int rc;

	if (kube_get(kc, &b->ref, &o) < 0)
		return -1;
	if (b->round++ == 0) {
		snprintf(patch, sizeof(patch), "{\"metadata\":{\"annotations\":"
			 "{\"%s-interloper\":\"%ld\"}}}", b->key,
			 (long)getpid());
		if (kube_patch(kc, &b->ref, KUBE_PATCH_MERGE, patch, NULL,
			       NULL) < 0) {
			cJSON_Delete(o);
			return -1;
		}
	}
	meta = cJSON_GetObjectItem(o, "metadata");
	ann = cJSON_GetObjectItem(meta, "annotations");
	if (!ann)
		ann = cJSON_AddObjectToObject(meta, "annotations");
	snprintf(val, sizeof(val), "%d", b->round);
	cJSON_DeleteItemFromObject(ann, b->key);
	cJSON_AddStringToObject(ann, b->key, val);
	rc = kube_update(kc, &b->ref, o, NULL, NULL);
	cJSON_Delete(o);
	return rc;
}

static int cmd_bump(struct kube_client *kc, struct args *a)
{
	struct bump b;

	if (need(a, 5, "bump GV RES NAME KEY") < 0)
		return -1;
	memset(&b, 0, sizeof(b));
	make_ref(kc, a, &b.ref, 1);
	b.key = a->argv[4];
	if (getenv("KUBEPROBE_NO_RETRY")) {
		if (bump_once(kc, &b) < 0)
			return -1;
	} else if (kube_retry_on_conflict(kc, 5, bump_once, &b) < 0) {
		return -1;
	}
	printf("{\"attempts\": %d}\n", b.round);
	return 0;
}

static int cmd_raw(struct kube_client *kc, struct args *a)
{
	struct buf b = BUF_INIT;

	if (need(a, 2, "raw PATH") < 0 || kube_get_raw(kc, a->argv[1], &b) < 0)
		return -1;
	printf("%s\n", b.data ? b.data : "");
	buf_free(&b);
	return 0;
}

static int write_secret_file(const char *path, const char *tok)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(tok);

	if (fd < 0 || write(fd, tok, n) != (ssize_t)n) {
		if (fd >= 0)
			close(fd);
		return err_set(EXIT_WRITE, "cannot write %s", path);
	}
	return close(fd) == 0 ? 0 : err_set(EXIT_WRITE, "cannot write %s",
					     path);
}

static int cmd_token(struct kube_client *kc, struct args *a)
{
	const char *aud[2] = { NULL, NULL };
	char *tok = NULL, *dot1, *dot2, *payload;
	time_t exp = 0;
	size_t len;
	cJSON *claims, *out;

	if (need(a, 4, "token NS SA AUD [SECONDS]") < 0)
		return -1;
	aud[0] = *a->argv[3] ? a->argv[3] : NULL;
	if (kube_create_token(kc, a->argv[1], a->argv[2], aud,
			      a->argc > 4 ? atol(a->argv[4]) : 0, &tok,
			      &exp) < 0)
		return -1;
	if (a->out && write_secret_file(a->out, tok) < 0) {
		free(tok);
		return -1;
	}
	dot1 = strchr(tok, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "expiry", (double)exp);
	if (dot2) {
		size_t n = (size_t)(dot2 - dot1 - 1);

		payload = calloc(1, n * 3 / 4 + 4);
		if (payload && b64_decode_loose(dot1 + 1, n,
					(unsigned char *)payload, &len) == 0) {
			claims = cJSON_ParseWithLength(payload, len);
			if (claims)
				cJSON_AddItemToObject(out, "claims", claims);
		}
		free(payload);
	}
	explicit_bzero(tok, strlen(tok));
	free(tok);
	print_json(out);
	cJSON_Delete(out);
	return 0;
}

static void progress(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static int cmd_rollout(struct kube_client *kc, struct args *a)
{
	struct kube_rollout_opts o = { 0, 300, progress, NULL };

	if (need(a, 3, "rollout NS NAME [TIMEOUT_MS]") < 0)
		return -1;
	o.timeout_ms = a->argc > 3 ? atol(a->argv[3]) : 60000;
	if (kube_rollout_wait(kc, a->argv[1], a->argv[2], &o) < 0)
		return -1;
	printf("done\n");
	return 0;
}

static int cmd_ks(struct kube_client *kc, struct args *a)
{
	cJSON *o = NULL;
	const char *v = NULL;
	int rc;

	if (a->argc > 1)
		rc = kube_get_kustomization(kc, kube_client_namespace(kc),
					    a->argv[1], &o, &v);
	else
		rc = kube_list_kustomizations(kc, a->all_ns ? NULL :
					      kube_client_namespace(kc), NULL,
					      &o, &v);
	if (rc < 0)
		return -1;
	printf("{\"version\": \"%s\", \"result\": ", v);
	fflush(stdout);
	print_json(o);
	printf("}\n");
	cJSON_Delete(o);
	return 0;
}

static int dispatch(struct kube_client *kc, struct args *a)
{
	const char *c = a->argv[0];

	if (strcmp(c, "config") == 0) return cmd_config(kc);
	if (strcmp(c, "whoami") == 0) return cmd_whoami(kc);
	if (strcmp(c, "can-i") == 0) return cmd_can_i(kc, a);
	if (strcmp(c, "get") == 0) return cmd_get(kc, a);
	if (strcmp(c, "twice") == 0) return cmd_twice(kc, a);
	if (strcmp(c, "list") == 0) return cmd_list(kc, a);
	if (strcmp(c, "patch") == 0) return cmd_patch(kc, a);
	if (strcmp(c, "update") == 0) return cmd_update(kc, a);
	if (strcmp(c, "bump") == 0) return cmd_bump(kc, a);
	if (strcmp(c, "raw") == 0) return cmd_raw(kc, a);
	if (strcmp(c, "token") == 0) return cmd_token(kc, a);
	if (strcmp(c, "rollout") == 0) return cmd_rollout(kc, a);
	if (strcmp(c, "ks") == 0) return cmd_ks(kc, a);
	return err_set(EXIT_USAGE, "unknown command %s", c);
}

static int parse(int argc, char **argv, struct kube_opts *o, struct args *a)
{
	int i;

	a->argv = calloc((size_t)argc + 1, sizeof(char *));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(s, "--kubeconfig") == 0 && v) o->kubeconfig = v, i++;
		else if (strcmp(s, "--context") == 0 && v) o->context = v, i++;
		else if (strcmp(s, "-n") == 0 && v) o->namespace = v, i++;
		else if (strcmp(s, "--request-timeout") == 0 && v)
			o->request_timeout_ms = atol(v), i++;
		else if (strcmp(s, "-v") == 0 && v)
			log_set_verbosity(atoi(v)), i++;
		else if (strcmp(s, "-l") == 0 && v) a->selector = v, i++;
		else if (strcmp(s, "--field-selector") == 0 && v)
			a->field_selector = v, i++;
		else if (strcmp(s, "--limit") == 0 && v) a->limit = atol(v), i++;
		else if (strcmp(s, "--field-manager") == 0 && v)
			a->manager = v, i++;
		else if (strcmp(s, "--out") == 0 && v) a->out = v, i++;
		else if (strcmp(s, "-A") == 0) a->all_ns = true;
		else if (strcmp(s, "--force") == 0) a->force = true;
		else if (strcmp(s, "--dry-run") == 0) a->dry_run = true;
		else a->argv[a->argc++] = argv[i];
	}
	if (a->argc == 0)
		return err_set(EXIT_USAGE, "usage: kubeprobe [flags] COMMAND");
	return 0;
}

int main(int argc, char **argv)
{
	struct kube_opts o = { NULL, NULL, NULL, 0, "kubeprobe/v0 (linux) "
			       "kubeprobe/test" };
	struct args a;
	struct kube_client *kc = NULL;
	int rc;

	log_init("kubeprobe");
	memset(&a, 0, sizeof(a));
	rc = parse(argc, argv, &o, &a);
	if (rc == 0)
		rc = kube_client_open(&kc, &o);
	if (rc == 0)
		rc = dispatch(kc, &a);
	kube_client_close(kc);
	free(a.argv);
	return rc < 0 ? err_report() : 0;
}
