/*
 * config.h - finding the cluster the way kubectl does.
 *
 * kube_config_load() reads the kubeconfig files (--kubeconfig; else the
 * KUBECONFIG list merged first-wins; else ~/.kube/config), picks the
 * context (--context, else current-context), resolves the cluster, the user
 * and the namespace, resolves relative paths against the file that defined
 * each stanza, validates the combination as client-go does, and falls back
 * to the in-cluster configuration when the files yield nothing.  The result
 * is a flat struct kube_config that the REST client (client.h) consumes.
 *
 * Ownership: kube_config_load() allocates *out; kube_config_free() releases
 * it, wiping every secret (token, key data, exec output).
 */
#ifndef COMMON_KUBE_CONFIG_H
#define COMMON_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The values of the cluster flags every plugin takes (common/cli). */
struct kube_opts {
	const char *kubeconfig;		/* --kubeconfig, or NULL */
	const char *context;		/* --context, or NULL */
	const char *namespace;		/* -n/--namespace, or NULL */
	long request_timeout_ms;	/* --request-timeout; 0 = none */
	const char *user_agent;		/* "kubectl-fluxwi/v0.1.0 (linux/
					 * amd64) fluxwi/abc1234"; NULL ok */
};

enum kube_interactive {
	KUBE_INTERACTIVE_NEVER,
	KUBE_INTERACTIVE_IF_AVAILABLE,
	KUBE_INTERACTIVE_ALWAYS
};

/* A user's `exec` stanza, validated and with paths resolved. */
struct kube_exec_config {
	char *command;			/* as written, or resolved path */
	char **args;			/* nargs strings */
	size_t nargs;
	char **env;			/* "NAME=value", nenv entries */
	size_t nenv;
	char *api_version;		/* client.authentication.k8s.io/v1... */
	char *install_hint;		/* control characters replaced */
	bool provide_cluster_info;
	enum kube_interactive interactive;
};

struct kube_config {
	/* what was chosen, for messages and for `kubectl config` parity */
	char *context_name;		/* "" for in-cluster */
	char *cluster_name;
	char *user_name;
	char *namespace;		/* never NULL */
	bool namespace_explicit;	/* came from -n */
	char *source;			/* "kubeconfig a:b" / "in-cluster
					 * configuration" */
	bool in_cluster;

	/* cluster */
	char *server;			/* no trailing slash */
	char *ca_file;			/* absolute path, or NULL */
	char *ca_data;			/* PEM bytes (decoded), or NULL */
	size_t ca_len;
	bool insecure;
	char *tls_server_name;
	char *proxy_url;
	bool disable_compression;
	cJSON *exec_cluster_config;	/* cluster extension for exec */

	/* user */
	char *cert_file, *key_file;	/* absolute paths, or NULL */
	char *cert_data;		/* PEM bytes, or NULL */
	size_t cert_len;
	char *key_data;			/* PEM bytes (secret), or NULL */
	size_t key_len;
	char *token;			/* secret, or NULL */
	char *token_file;		/* absolute path, or NULL */
	struct kube_exec_config *exec;	/* NULL when none (or overridden) */
	char *as_user, *as_uid;		/* impersonation, or NULL */
	char **as_groups;
	size_t nas_groups;
};

/* The directory in-cluster credentials come from (client-go's path). */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * Loads and resolves.  Returns 0, or -1 with err_set(EXIT_USAGE, ...) and a
 * hint (missing or broken kubeconfig, unknown context, invalid
 * combination, refused auth method).
 */
int kube_config_load(struct kube_config **out, const struct kube_opts *opts);
void kube_config_free(struct kube_config *cfg);

/*
 * The context names of the merged kubeconfig (same files and merge rules as
 * kube_config_load, without resolving anything), in file order, first
 * definition wins.  *names is a new array of new strings (free each, then
 * the array); *n its length.  Returns 0 (also when there is no kubeconfig:
 * n = 0), or -1 with err_set() when a file cannot be read or parsed.
 */
int kube_config_context_names(const struct kube_opts *opts, char ***names,
			      size_t *n);

/* Describes the user's auth method for messages: "client certificate",
 * "token", "tokenFile", "exec plugin kubelogin", "none". */
const char *kube_config_auth_kind(const struct kube_config *cfg);

#endif
