/* test_kube_config.c - kube/config: which files are read, how they merge,
 * how paths resolve, and which combinations are refused, as client-go
 * decides.  (The comparison with the real kubectl against the lab is in
 * tests/integration/test_kube_config.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/config.h"
#include "util/err.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *at(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_kube_config.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mkdir(at("sub"), 0700);
	mkdir(at("home"), 0700);
	write_file("ca.crt", "CA\n");
	write_file("sub/ca.crt", "SUBCA\n");
	write_file("c.pem", "CERT\n");
	write_file("k.pem", "KEY\n");
	setenv("HOME", at("home"), 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct kube_config *load_ok(const struct kube_opts *o)
{
	struct kube_config *c = NULL;

	if (kube_config_load(&c, o) < 0)
		fail_msg("load failed: %s", err_msg());
	return c;
}

static void load_fails(const struct kube_opts *o, const char *msg)
{
	struct kube_config *c = NULL;

	assert_int_equal(kube_config_load(&c, o), -1);
	assert_null(c);
	if (!strstr(err_msg(), msg))
		fail_msg("error \"%s\" lacks \"%s\"", err_msg(), msg);
}

static void merge_first_wins(void **state)
{
	struct kube_opts o = { 0 };
	struct kube_config *c;
	char list[1200];

	(void)state;
	write_file("a.yaml",
		   "current-context: dev\n"
		   "users:\n- name: red\n  user: {token: a}\n"
		   "contexts:\n- name: dev\n  context: {cluster: c, user: red}\n");
	write_file("sub/b.yaml",
		   "current-context: prod\n"
		   "clusters:\n- name: c\n  cluster: {server: 'https://h:1/',"
		   " certificate-authority: ca.crt}\n"
		   "users:\n- name: red\n  user: {token: b, client-certificate:"
		   " ../c.pem, client-key: ../k.pem}\n"
		   "- name: blue\n  user: {tokenFile: tok}\n"
		   "contexts:\n- name: prod\n  context: {cluster: c, user: blue,"
		   " namespace: team}\n");
	snprintf(list, sizeof(list), "%s::%s:%s:%s", at("a.yaml"),
		 at("missing.yaml"), at("sub/b.yaml"), at("a.yaml"));
	setenv("KUBECONFIG", list, 1);
	c = load_ok(&o);
	assert_string_equal(c->context_name, "dev");
	assert_string_equal(c->token, "a");
	assert_null(c->cert_file);	/* whole entry from the first file */
	assert_string_equal(c->server, "https://h:1");
	assert_string_equal(c->ca_file, at("sub/ca.crt"));
	assert_string_equal(c->namespace, "default");
	assert_false(c->namespace_explicit);
	assert_non_null(strstr(c->source, "a.yaml:"));
	kube_config_free(c);
	o.context = "prod";
	o.namespace = "flag-ns";
	c = load_ok(&o);
	assert_string_equal(c->user_name, "blue");
	assert_string_equal(c->token_file, at("sub/tok"));
	assert_string_equal(c->namespace, "flag-ns");
	assert_true(c->namespace_explicit);
	kube_config_free(c);
	o.namespace = NULL;
	c = load_ok(&o);
	assert_string_equal(c->namespace, "team");
	kube_config_free(c);
	{
		char **names;
		size_t n, i;

		o.context = NULL;
		assert_int_equal(kube_config_context_names(&o, &names, &n), 0);
		assert_int_equal(n, 2);
		assert_string_equal(names[0], "dev");
		assert_string_equal(names[1], "prod");
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		unsetenv("KUBECONFIG");
		assert_int_equal(kube_config_context_names(&o, &names, &n), 0);
		assert_int_equal(n, 0);
		assert_null(names);
	}
}

static void explicit_file_only(void **state)
{
	struct kube_opts o = { 0 };

	(void)state;
	write_file("home/.kube-not-used", "");
	setenv("KUBECONFIG", at("a.yaml"), 1);
	o.kubeconfig = at("nope.yaml");
	load_fails(&o, "nope.yaml does not exist");
	assert_int_equal(err_code(), EXIT_USAGE);
	write_file("empty.yaml", "");
	o.kubeconfig = at("empty.yaml");
	load_fails(&o, "no context is selected: current-context is empty in");
	assert_non_null(strstr(err_remedy(), "--context"));
}

static void home_config(void **state)
{
	struct kube_opts o = { 0 };
	struct kube_config *c;

	(void)state;
	load_fails(&o, "no kubeconfig found (looked in");
	mkdir(at("home/.kube"), 0700);
	write_file("home/.kube/config",
		   "clusters:\n- name: c\n  cluster: {server: h:6443, "
		   "insecure-skip-tls-verify: true}\n"
		   "contexts:\n- name: x\n  context: {cluster: c}\n"
		   "current-context: x\n");
	c = load_ok(&o);
	assert_string_equal(c->server, "https://h:6443");	/* TLS set */
	assert_true(c->insecure);
	assert_string_equal(c->user_name, "");
	assert_string_equal(kube_config_auth_kind(c), "no credentials");
	kube_config_free(c);
}

static void data_fields(void **state)
{
	struct kube_opts o = { 0 };
	struct kube_config *c;

	(void)state;
	/* "Q0EK" = "CA\n", "Q0VSVAo=" = "CERT\n", "S0VZCg==" = "KEY\n" */
	write_file("d.yaml",
		   "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
		   "    certificate-authority-data: Q0EK\n"
		   "    tls-server-name: api.internal\n"
		   "    proxy-url: socks5://127.0.0.1:1080\n"
		   "    disable-compression: true\n"
		   "    extensions:\n    - name: client.authentication.k8s.io/exec\n"
		   "      extension: {audience: x}\n"
		   "users:\n- name: u\n  user:\n"
		   "    client-certificate-data: Q0VSVAo=\n"
		   "    client-key-data: |\n      S0VZ\n      Cg==\n"
		   "    token: t\n    as: alice\n    as-groups: [g1, g2]\n"
		   "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		   "current-context: x\n");
	o.kubeconfig = at("d.yaml");
	c = load_ok(&o);
	assert_int_equal(c->ca_len, 3);
	assert_memory_equal(c->ca_data, "CA\n", 3);
	assert_memory_equal(c->cert_data, "CERT\n", 5);
	assert_memory_equal(c->key_data, "KEY\n", 4);
	assert_string_equal(c->token, "t");
	assert_string_equal(c->tls_server_name, "api.internal");
	assert_string_equal(c->proxy_url, "socks5://127.0.0.1:1080");
	assert_true(c->disable_compression);
	assert_non_null(c->exec_cluster_config);
	assert_string_equal(c->as_user, "alice");
	assert_int_equal(c->nas_groups, 2);
	assert_string_equal(kube_config_auth_kind(c),
			    "client certificate and token");
	kube_config_free(c);
}

struct bad {
	const char *user;	/* YAML flow map for the user stanza */
	const char *cluster;	/* extra cluster fields */
	const char *msg;
	const char *hint;	/* may be NULL */
};

static void refused(void **state)
{
	static const struct bad cases[] = {
		{ "{username: u, password: p}", "",
		  "basic authentication", "exec credential plugin" },
		{ "{token: t, username: u}", "",
		  "more than one authentication method", NULL },
		{ "{auth-provider: {name: azure, config: {}}}", "",
		  "legacy auth-provider \"azure\"", "kubelogin convert-kubeconfig" },
		{ "{auth-provider: {name: oidc}}", "",
		  "legacy auth-provider \"oidc\"", "exec credential plugin" },
		{ "{client-certificate: c.pem}", "",
		  "needs its key", NULL },
		{ "{client-certificate: c.pem, client-certificate-data: Q0EK,"
		  " client-key: k.pem}", "", "are both specified", NULL },
		{ "{client-certificate: c.pem, client-key: missing.pem}", "",
		  "cannot read client-key", "relative paths" },
		{ "{client-key-data: '***'}", "", "not valid base64", NULL },
		{ "{as-groups: [g]}", "", "need as", NULL },
		{ "{token: [5]}", "", "field token must be a string", NULL },
		{ "{}", ", certificate-authority: ca.crt, "
		  "certificate-authority-data: Q0EK", "are both specified", NULL },
		{ "{}", ", certificate-authority: ca.crt, "
		  "insecure-skip-tls-verify: true", "insecure flag is not allowed",
		  NULL },
		{ "{}", ", certificate-authority: nope.crt",
		  "cannot read certificate-authority", NULL },
		{ "{}", ", insecure-skip-tls-verify: maybe",
		  "must be true or false", NULL },
		{ "{exec: {command: x}}", "", "apiVersion must be specified",
		  NULL },
		{ "{exec: {command: x, apiVersion: "
		  "client.authentication.k8s.io/v1alpha1}}", "",
		  "exec plugin: invalid apiVersion", NULL },
		{ "{exec: {command: x, apiVersion: "
		  "client.authentication.k8s.io/v1}}", "",
		  "required for v1", "interactiveMode" },
		{ "{exec: {command: x, apiVersion: "
		  "client.authentication.k8s.io/v1beta1, env: [{value: v}]}}",
		  "", "env entry without a name", NULL },
		{ "{exec: {apiVersion: client.authentication.k8s.io/v1beta1}}",
		  "", "exec command must be specified", NULL },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io"
		  "/v1beta1}, auth-provider: {name: oidc}}", "",
		  "cannot both be set", NULL },
	};
	struct kube_opts o = { 0 };
	size_t i;

	(void)state;
	o.kubeconfig = at("bad.yaml");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];

		snprintf(text, sizeof(text),
			 "clusters:\n- name: c\n  cluster: {server: https://h%s}\n"
			 "users:\n- name: u\n  user: %s\n"
			 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			 "current-context: x\n", cases[i].cluster, cases[i].user);
		write_file("bad.yaml", text);
		load_fails(&o, cases[i].msg);
		assert_int_equal(err_code(), EXIT_USAGE);
		if (cases[i].hint && !strstr(err_remedy(), cases[i].hint))
			fail_msg("case %zu: hint \"%s\" lacks \"%s\"", i,
				 err_remedy(), cases[i].hint);
	}
}

static void contexts(void **state)
{
	struct kube_opts o = { 0 };

	(void)state;
	o.kubeconfig = at("ctx.yaml");
	write_file("ctx.yaml",
		   "clusters:\n- name: c\n  cluster: {server: https://h}\n"
		   "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\n"
		   "- name: y\n  context: {cluster: nowhere}\n"
		   "- name: z\n  context: {cluster: c, namespace: Bad_NS}\n"
		   "current-context: gone\n");
	load_fails(&o, "context was not found for specified context: gone");
	o.context = "other";
	load_fails(&o, "context \"other\" does not exist");
	o.context = "x";
	load_fails(&o, "user \"ghost\" was not found for context \"x\"");
	o.context = "y";
	load_fails(&o, "cluster \"nowhere\" was not found for context \"y\"");
	o.context = "z";
	load_fails(&o, "is not a valid namespace name");
	write_file("dup.yaml", "clusters:\n- name: c\n  cluster: {}\n"
		   "- name: c\n  cluster: {}\n");
	o.kubeconfig = at("dup.yaml");
	load_fails(&o, "duplicate name \"c\" in clusters");
	write_file("noserver.yaml", "clusters:\n- name: c\n  cluster: {}\n"
		   "contexts:\n- name: x\n  context: {cluster: c}\n"
		   "current-context: x\n");
	o.kubeconfig = at("noserver.yaml");
	o.context = NULL;
	load_fails(&o, "no server found for cluster \"c\"");
	write_file("broken.yaml", "clusters: [\n");
	o.kubeconfig = at("broken.yaml");
	load_fails(&o, "cannot load kubeconfig");
	write_file("list.yaml", "- a\n- b\n");
	o.kubeconfig = at("list.yaml");
	load_fails(&o, "not a kubeconfig");
}

static void exec_stanza(void **state)
{
	struct kube_opts o = { 0 };
	struct kube_config *c;

	(void)state;
	o.kubeconfig = at("sub/exec.yaml");
	write_file("sub/exec.yaml",
		   "clusters:\n- name: c\n  cluster: {server: https://h}\n"
		   "users:\n"
		   "- name: aks\n  user:\n    exec:\n"
		   "      apiVersion: client.authentication.k8s.io/v1beta1\n"
		   "      command: kubelogin\n"
		   "      args: [get-token, --login, devicecode]\n"
		   "      env: null\n"
		   "      installHint: \"install\\x01 it\\n\"\n"
		   "      provideClusterInfo: false\n"
		   "- name: rel\n  user:\n    exec:\n"
		   "      apiVersion: client.authentication.k8s.io/v1\n"
		   "      command: ./bin/plugin\n      interactiveMode: Always\n"
		   "      env: [{name: A, value: '1'}, {name: B}]\n"
		   "- name: both\n  user:\n    token: t\n    exec:\n"
		   "      apiVersion: client.authentication.k8s.io/v1\n"
		   "      command: plugin\n      interactiveMode: Never\n"
		   "contexts:\n- name: aks\n  context: {cluster: c, user: aks}\n"
		   "- name: rel\n  context: {cluster: c, user: rel}\n"
		   "- name: both\n  context: {cluster: c, user: both}\n"
		   "current-context: aks\n");
	c = load_ok(&o);
	assert_non_null(c->exec);
	assert_string_equal(c->exec->command, "kubelogin");
	assert_int_equal(c->exec->nargs, 3);
	assert_string_equal(c->exec->args[2], "devicecode");
	assert_int_equal(c->exec->interactive, KUBE_INTERACTIVE_IF_AVAILABLE);
	assert_string_equal(c->exec->install_hint, "install? it\n");
	assert_false(c->exec->provide_cluster_info);
	assert_string_equal(kube_config_auth_kind(c), "exec credential plugin");
	kube_config_free(c);
	o.context = "rel";
	c = load_ok(&o);
	assert_string_equal(c->exec->command, at("sub/bin/plugin"));
	assert_int_equal(c->exec->interactive, KUBE_INTERACTIVE_ALWAYS);
	assert_int_equal(c->exec->nenv, 2);
	assert_string_equal(c->exec->env[0], "A=1");
	assert_string_equal(c->exec->env[1], "B=");
	kube_config_free(c);
	o.context = "both";
	c = load_ok(&o);
	assert_null(c->exec);		/* a token wins over the plugin */
	assert_string_equal(c->token, "t");
	kube_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(merge_first_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(explicit_file_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(home_config, setup, teardown),
		cmocka_unit_test_setup_teardown(data_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(contexts, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_stanza, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
