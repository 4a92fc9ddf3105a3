#include "kube/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"

#define PLUGIN_DOCS "https://kubernetes.io/docs/reference/access-authn-" \
		    "authz/authentication/#client-go-credential-plugins"

extern char **environ;

static int oom(void)
{
	return err_set(EXIT_FAILED, "out of memory");
}

/* ---- time --------------------------------------------------------------- */

int kube_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d,
			 &h, &mi, &sec, &n) != 6 || n == 0)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') &&
		   sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
		long off = (long)oh * 3600 + (long)om * 60;

		t -= *p == '+' ? off : -off;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = t;
	return 0;
}

bool kube_credential_expired(const struct kube_credential *c, int margin_s)
{
	if (!c->token && !c->cert_pem)
		return true;
	return c->expiry && time(NULL) + margin_s >= c->expiry;
}

static void wipe_free(char *p, size_t len)
{
	if (p) {
		explicit_bzero(p, len);
		free(p);
	}
}

void kube_credential_clear(struct kube_credential *c)
{
	wipe_free(c->token, c->token ? strlen(c->token) : 0);
	free(c->cert_pem);
	wipe_free(c->key_pem, c->key_len);
	memset(c, 0, sizeof(*c));
}

/* ---- KUBERNETES_EXEC_INFO ------------------------------------------------- */


static char *b64_std(const void *data, size_t len)
{
	char *out = malloc(b64_encoded_len(len, B64_STD) + 1);

	if (out)
		b64_encode(data, len, B64_STD, out);
	return out;
}

static int add_ca(cJSON *cl, const struct kube_config *cfg)
{
	struct buf ca = BUF_INIT;
	char *enc = NULL;
	int rc = 0;

	if (cfg->ca_data)
		enc = b64_std(cfg->ca_data, cfg->ca_len);
	else if (cfg->ca_file && (rc = fs_read_all(cfg->ca_file, &ca)) == 0)
		enc = b64_std(ca.data ? ca.data : "", ca.len);
	buf_free(&ca);
	if (rc < 0)
		return -1;
	if ((cfg->ca_data || cfg->ca_file) &&
	    (!enc || !cJSON_AddStringToObject(cl, "certificate-authority-data",
					      enc)))
		rc = oom();
	free(enc);
	return rc;
}

static int add_cluster(cJSON *spec, const struct kube_config *cfg)
{
	cJSON *cl = cJSON_AddObjectToObject(spec, "cluster");

	if (!cl || !cJSON_AddStringToObject(cl, "server", cfg->server))
		return oom();
	if (cfg->tls_server_name &&
	    !cJSON_AddStringToObject(cl, "tls-server-name",
				     cfg->tls_server_name))
		return oom();
	if (cfg->insecure &&
	    !cJSON_AddTrueToObject(cl, "insecure-skip-tls-verify"))
		return oom();
	if (add_ca(cl, cfg) < 0)
		return -1;
	if (cfg->proxy_url &&
	    !cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url))
		return oom();
	if (cfg->disable_compression &&
	    !cJSON_AddTrueToObject(cl, "disable-compression"))
		return oom();
	if (cfg->exec_cluster_config) {
		cJSON *copy = cJSON_Duplicate(cfg->exec_cluster_config, 1);

		if (!copy)
			return oom();
		cJSON_AddItemToObject(cl, "config", copy);
	}
	return 0;
}

char *kube_exec_info(const struct kube_config *cfg, bool interactive)
{
	cJSON *o = cJSON_CreateObject(), *spec;
	char *text = NULL;

	if (!o || !cJSON_AddStringToObject(o, "kind", "ExecCredential") ||
	    !cJSON_AddStringToObject(o, "apiVersion", cfg->exec->api_version) ||
	    !(spec = cJSON_AddObjectToObject(o, "spec"))) {
		oom();
		goto out;
	}
	if (cfg->exec->provide_cluster_info && add_cluster(spec, cfg) < 0)
		goto out;
	if (!cJSON_AddBoolToObject(spec, "interactive", interactive)) {
		oom();
		goto out;
	}
	text = cJSON_PrintUnformatted(o);
	if (!text)
		oom();
out:
	cJSON_Delete(o);
	return text;
}

/* ---- finding and running the command --------------------------------------- */

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* Returns the path to run, or NULL (not found, no err_set). */
static char *find_command(const char *cmd)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(cmd, '/'))
		return executable(cmd) ? strdup(cmd) : NULL;
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		struct buf b = BUF_INIT;

		if (buf_printf(&b, "%s/%s", *dir ? dir : ".", cmd) < 0)
			break;
		if (executable(b.data))
			found = buf_detach(&b, NULL);
		buf_free(&b);
	}
	free(copy);
	return found;
}

static int not_found(const struct kube_exec_config *x)
{
	err_set(EXIT_FAILED, "exec: executable %s not found", x->command);
	if (x->install_hint && *x->install_hint)
		return err_hint("the kubeconfig user needs a client-go "
				"credential plugin that is not installed (see "
				PLUGIN_DOCS "):\n%s", x->install_hint);
	return err_hint("the kubeconfig user needs a client-go credential "
			"plugin that is not installed; see " PLUGIN_DOCS);
}

/* Parent environment, overridden by the stanza's env, then EXEC_INFO. */
static char **build_env(const struct kube_exec_config *x, const char *info)
{
	size_t n = 0, i, k, m = 0;
	char **envp;
	struct buf b = BUF_INIT;

	while (environ[n])
		n++;
	envp = calloc(n + x->nenv + 2, sizeof(char *));
	if (!envp)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t nl = strcspn(environ[i], "=");
		bool replaced = strncmp(environ[i], "KUBERNETES_EXEC_INFO=",
					21) == 0;

		for (k = 0; k < x->nenv && !replaced; k++)
			replaced = strncmp(environ[i], x->env[k], nl + 1) == 0;
		if (!replaced)
			envp[m++] = environ[i];
	}
	for (k = 0; k < x->nenv; k++) {
		size_t nl = strcspn(x->env[k], "=");

		if (strncmp(x->env[k], "KUBERNETES_EXEC_INFO=", 21) == 0)
			continue;	/* always ours, added last */
		for (i = k + 1; i < x->nenv; i++)
			if (strncmp(x->env[i], x->env[k], nl + 1) == 0)
				break;
		if (i == x->nenv)	/* the last one of a name wins */
			envp[m++] = x->env[k];
	}
	if (buf_printf(&b, "KUBERNETES_EXEC_INFO=%s", info) < 0) {
		free(envp);
		return NULL;
	}
	envp[m++] = buf_detach(&b, NULL);
	envp[m] = NULL;
	return envp;
}

/* Frees the array and the one string build_env() allocated (the last). */
static void free_env(char **envp)
{
	size_t n = 0;

	while (envp[n])
		n++;
	if (n)
		free(envp[n - 1]);
	free(envp);
}

static int decide_interactive(const struct kube_exec_config *x, bool *out)
{
	bool tty = isatty(STDIN_FILENO);

	*out = false;
	if (x->interactive == KUBE_INTERACTIVE_NEVER)
		return 0;
	if (x->interactive == KUBE_INTERACTIVE_ALWAYS && !tty) {
		err_set(EXIT_FAILED, "exec plugin %s cannot run: it needs "
			"interactive mode and standard input is not a "
			"terminal", x->command);
		return err_hint("run the command from a terminal, or log in "
				"with the plugin first so it has cached "
				"credentials");
	}
	*out = tty;
	return 0;
}

static int spawn(const char *path, const struct kube_exec_config *x,
		 char **envp, bool interactive, int out_fd, int close_fd,
		 pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char **argv = calloc(x->nargs + 2, sizeof(char *));
	size_t i;
	int rc;

	if (!argv)
		return oom();
	argv[0] = x->command;
	for (i = 0; i < x->nargs; i++)
		argv[i + 1] = x->args[i];
	posix_spawn_file_actions_init(&fa);
	if (!interactive)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
						 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, out_fd);
	posix_spawn_file_actions_addclose(&fa, close_fd);
	rc = posix_spawn(pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	if (rc != 0)
		return err_set(EXIT_FAILED, "exec: cannot run %s: %s",
			       x->command, strerror(rc));
	return 0;
}

static int collect(int fd, pid_t pid, const struct kube_exec_config *x,
		   struct buf *out)
{
	char chunk[4096];
	ssize_t n;
	int status;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(out, chunk, (size_t)n) < 0)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(EXIT_FAILED, "exec: waiting for %s: %s",
				       x->command, strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		err_set(EXIT_FAILED, "exec: executable %s failed with exit "
			"code %d", x->command, WEXITSTATUS(status));
	else
		err_set(EXIT_FAILED, "exec: executable %s was killed by "
			"signal %d", x->command, WTERMSIG(status));
	return err_hint("see the plugin's messages above; for kubelogin try "
			"`kubelogin remove-tokens` (or az login) and run again");
}

static int run_plugin(const struct kube_config *cfg, const char *path,
		      struct buf *out)
{
	const struct kube_exec_config *x = cfg->exec;
	bool interactive;
	char *info = NULL, **envp = NULL;
	int fds[2] = { -1, -1 }, rc = -1;
	pid_t pid;

	if (decide_interactive(x, &interactive) < 0)
		return -1;
	info = kube_exec_info(cfg, interactive);
	envp = info ? build_env(x, info) : NULL;
	if (!envp) {
		free(info);
		return info ? oom() : -1;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		err_set(EXIT_FAILED, "exec: pipe: %s", strerror(errno));
	} else if (spawn(path, x, envp, interactive, fds[1], fds[0], &pid)
		   == 0) {
		close(fds[1]);
		fds[1] = -1;
		log_at(LOG_STEPS, "running credential plugin %s", x->command);
		rc = collect(fds[0], pid, x, out);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free_env(envp);
	free(info);
	return rc;
}

/* ---- reading the credential ------------------------------------------------ */

static int bad_output(const struct kube_exec_config *x, const char *why)
{
	err_set(EXIT_FAILED, "exec plugin %s: %s", x->command, why);
	return err_hint("check that the plugin works on its own, with "
			"KUBERNETES_EXEC_INFO set as in its documentation");
}

static char *dup_secret(const char *s, size_t *len)
{
	char *d = strdup(s);

	if (d && len)
		*len = strlen(d);
	if (!d)
		oom();
	return d;
}

static int read_status(const struct kube_exec_config *x, const cJSON *st,
		       struct kube_credential *out)
{
	const char *tok = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "token"));
	const char *cert = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "clientCertificateData"));
	const char *key = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "clientKeyData"));
	const char *exp = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(st, "expirationTimestamp"));

	if ((cert && *cert) != (key && *key))
		return bad_output(x, "the credential has a client certificate "
				  "without its key, or a key without its "
				  "certificate");
	if (!(tok && *tok) && !(cert && *cert))
		return bad_output(x, "the credential holds neither a token nor "
				  "a client certificate");
	if (cert && *cert && (!strstr(cert, "-----BEGIN") ||
			      !strstr(key, "-----BEGIN")))
		return bad_output(x, "clientCertificateData/clientKeyData are "
				  "not PEM");
	if (exp && *exp && kube_parse_rfc3339(exp, &out->expiry) < 0)
		return bad_output(x, "expirationTimestamp is not an RFC 3339 "
				  "time");
	if (tok && *tok && !(out->token = dup_secret(tok, NULL)))
		return -1;
	if (cert && *cert && (!(out->cert_pem = dup_secret(cert, &out->cert_len))
			      || !(out->key_pem = dup_secret(key,
							     &out->key_len))))
		return -1;
	return 0;
}

static int parse_output(const struct kube_exec_config *x, const struct buf *b,
			struct kube_credential *out)
{
	cJSON *o = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
	const cJSON *ver, *st;
	char why[300];
	int rc;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return bad_output(x, "its output is not an ExecCredential "
				  "JSON object");
	}
	ver = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
	st = cJSON_GetObjectItemCaseSensitive(o, "status");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring,
					   x->api_version) != 0) {
		snprintf(why, sizeof(why), "exec plugin is configured to use "
			 "API version %s, plugin returned version %.80s",
			 x->api_version, cJSON_IsString(ver) ? ver->valuestring
							     : "(none)");
		rc = bad_output(x, why);
	} else if (!cJSON_IsObject(st)) {
		rc = bad_output(x, "its ExecCredential has no status");
	} else {
		rc = read_status(x, st, out);
	}
	cJSON_Delete(o);
	if (rc < 0)
		kube_credential_clear(out);
	return rc;
}

int kube_exec_run(const struct kube_config *cfg, struct kube_credential *out)
{
	const struct kube_exec_config *x = cfg->exec;
	struct buf b;
	char *path;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!x)
		return err_set(EXIT_FAILED, "no exec plugin configured");
	path = find_command(x->command);
	if (!path)
		return not_found(x);
	buf_init_secret(&b);
	rc = run_plugin(cfg, path, &b);
	free(path);
	if (rc == 0)
		rc = parse_output(x, &b, out);
	buf_free(&b);
	return rc;
}
